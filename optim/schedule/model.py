"""The shift-scheduling MIP, described once as a plain linear model that every solver backend reads.

Model (set covering over shift templates, Dantzig 1954, with a multi-skill LP split):

- ``x[g, j]`` integer >= 0: agents of skill group g working template j (cost: paid hours x cost per hour);
- ``y[g, c, t]`` >= 0: agents of group g assigned to channel c in interval t (an LP split of capacity);
- capacity: ``sum_c y[g, c, t] <= (1 - shrinkage) x sum_j A[t, j] x[g, j]`` (on duty after breaks);
- demand: ``sum_g y[g, c, t] >= need[c, t]`` for every interval with a requirement (hard mode), or
  ``... + u[c, t] >= need[c, t]`` with the under-coverage ``u`` penalised (soft mode).

Besides its linear rows a model may hold *indicator* constraints, ``z = 0  =>  coefs . x <= rhs`` with z
binary (SCIP ``addConsIndicator``, Gurobi ``addGenConstrIndicator``): exact where a big-M would need a
bound no one can prove (the cap on distinct start times).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

__all__ = ["LinearModel", "ModelBuilder"]


@dataclass
class LinearModel:
    """min obj @ x  s.t.  lhs <= A x <= rhs,  lb <= x <= ub,  x[integer] integral."""

    names: list[str]
    obj: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    A: sparse.csr_matrix
    lhs: np.ndarray
    rhs: np.ndarray
    row_names: list[str]
    meta: dict = field(default_factory=dict)
    indicators: list = field(
        default_factory=list
    )  # (name, z column, columns, coefs, rhs): z = 0 => row <= rhs

    @property
    def n_vars(self) -> int:
        return len(self.names)

    @property
    def n_cons(self) -> int:
        return self.A.shape[0] + len(self.indicators)


class ModelBuilder:
    """Collects variables and rows, then :meth:`build` returns a :class:`LinearModel`."""

    def __init__(self):
        self.names, self.obj, self.lb, self.ub, self.integer = [], [], [], [], []
        self.r_idx, self.c_idx, self.vals, self.lhs, self.rhs, self.row_names = [], [], [], [], [], []
        self.indicators = []

    def var(
        self, name: str, obj: float = 0.0, lb: float = 0.0, ub: float = np.inf, integer: bool = False
    ) -> int:
        self.names.append(name)
        self.obj.append(obj)
        self.lb.append(lb)
        self.ub.append(ub)
        self.integer.append(integer)
        return len(self.names) - 1

    def row(self, name: str, cols, coefs, lhs: float = -np.inf, rhs: float = np.inf) -> int:
        r = len(self.lhs)
        cols = np.asarray(cols, dtype=np.int64)
        self.r_idx.append(np.full(cols.size, r))
        self.c_idx.append(cols)
        self.vals.append(np.asarray(coefs, dtype=float))
        self.lhs.append(lhs)
        self.rhs.append(rhs)
        self.row_names.append(name)
        return r

    def indicator(self, name: str, z: int, cols, coefs, rhs: float) -> None:
        """``z = 0  =>  sum coefs[k] x[cols[k]] <= rhs`` (z must be a binary variable)."""
        self.indicators.append(
            (name, int(z), np.asarray(cols, dtype=np.int64), np.asarray(coefs, dtype=float), float(rhs))
        )

    def build(self, **meta) -> LinearModel:
        n, m = len(self.names), len(self.lhs)
        if m:
            A = sparse.csr_matrix(
                (np.concatenate(self.vals), (np.concatenate(self.r_idx), np.concatenate(self.c_idx))),
                shape=(m, n),
            )
        else:
            A = sparse.csr_matrix((0, n))
        A.sum_duplicates()
        return LinearModel(
            list(self.names),
            np.array(self.obj, float),
            np.array(self.lb, float),
            np.array(self.ub, float),
            np.array(self.integer, bool),
            A,
            np.array(self.lhs, float),
            np.array(self.rhs, float),
            list(self.row_names),
            meta,
            list(self.indicators),
        )
