"""Solver backends: one :class:`LinearModel`, two solvers. SCIP via pyscipopt (default), Gurobi via gurobipy.

Each returns the solution vector and a :class:`SolveReport`. The gap is computed one way for both solvers,
``(incumbent - best bound) / |incumbent|`` (0 when both are 0), and each solver is given the limit that
matches it (SCIP ``limits/gap``, Gurobi ``MIPGap``: both relative to the primal bound).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from forecast.errors import ConfigError, InfeasibleError, SolverError

from .model import LinearModel

__all__ = ["SolverOptions", "SolveReport", "solve_model", "relative_gap", "GUROBI_SIZE_LIMIT"]

GUROBI_SIZE_LIMIT = 2000  # variables and constraints allowed by the pip wheel's size-limited license


@dataclass(frozen=True)
class SolverOptions:
    """``name``: scip or gurobi; ``time_limit_s``; ``rel_gap`` (stop when the gap is below it); ``threads``;
    ``seed``. A solve stopped by its time limit is flagged not reproducible."""

    name: str = "scip"
    time_limit_s: float = 120.0
    rel_gap: float = 0.01
    threads: int = 1
    seed: int = 0

    def __post_init__(self):
        if self.name not in ("scip", "gurobi"):
            raise ConfigError(f"expected scip or gurobi; got {self.name!r}", key="name")
        if not (isinstance(self.time_limit_s, int | float) and self.time_limit_s > 0):
            raise ConfigError(f"expected a number > 0; got {self.time_limit_s!r}", key="time_limit_s")
        if not (isinstance(self.rel_gap, int | float) and 0 <= self.rel_gap < 1):
            raise ConfigError(f"expected a value in [0, 1); got {self.rel_gap!r}", key="rel_gap")
        if not (isinstance(self.threads, int) and self.threads >= 1):
            raise ConfigError(f"expected an integer >= 1; got {self.threads!r}", key="threads")
        if not (isinstance(self.seed, int) and self.seed >= 0):
            raise ConfigError(f"expected an integer >= 0; got {self.seed!r}", key="seed")


@dataclass
class SolveReport:
    solver: str
    version: str
    status: str  # optimal, gap_limit, time_limit, infeasible, ...
    objective: float
    best_bound: float
    gap: float
    time_s: float
    n_vars: int
    n_int_vars: int
    n_cons: int
    rel_gap_limit: float
    time_limit_s: float
    threads: int
    seed: int
    headcount: dict | None = None  # week mode: agents per skill group
    tours: list | None = None  # week mode: the tours used (group, days, length, start, weekly hours, agents)

    @property
    def reproducible(self) -> bool:
        """A solve that stopped on optimality or on its gap is deterministic; one stopped by time is not."""
        return self.status in ("optimal", "gap_limit")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["reproducible"] = self.reproducible
        return d


def relative_gap(incumbent: float, bound: float) -> float:
    """(incumbent - bound) / |incumbent| for a minimisation; 0 if both are 0, inf without an incumbent."""
    if incumbent is None or not math.isfinite(incumbent):
        return math.inf
    if incumbent == 0:
        return 0.0 if abs(bound) < 1e-9 else math.inf
    return max(0.0, (incumbent - bound) / abs(incumbent))


def _solve_scip(model: LinearModel, opt: SolverOptions):
    import pyscipopt
    from pyscipopt import quicksum

    m = pyscipopt.Model("wfmlab_schedule")
    m.hideOutput()
    m.setParam("limits/time", float(opt.time_limit_s))
    m.setParam("limits/gap", float(opt.rel_gap))
    m.setParam("randomization/randomseedshift", int(opt.seed))
    m.setParam("lp/threads", int(opt.threads))
    xs = [
        m.addVar(name=nm, vtype="I" if it else "C", lb=lb, ub=None if math.isinf(ub) else ub, obj=c)
        for nm, c, lb, ub, it in zip(model.names, model.obj, model.lb, model.ub, model.integer)
    ]
    A = model.A
    for r in range(A.shape[0]):
        lo, hi = A.indptr[r], A.indptr[r + 1]
        expr = quicksum(v * xs[j] for j, v in zip(A.indices[lo:hi].tolist(), A.data[lo:hi].tolist()))
        l, u = model.lhs[r], model.rhs[r]
        if math.isfinite(l) and math.isfinite(u) and l == u:
            m.addCons(expr == l, name=model.row_names[r])
        else:
            if math.isfinite(l):
                m.addCons(expr >= l, name=model.row_names[r])
            if math.isfinite(u):
                m.addCons(
                    expr <= u, name=model.row_names[r] + "_ub" if math.isfinite(l) else model.row_names[r]
                )
    for name, z, cols, coefs, rhs in model.indicators:
        expr = quicksum(float(v) * xs[j] for j, v in zip(cols.tolist(), coefs.tolist()))
        m.addConsIndicator(expr <= rhs, binvar=xs[z], activeone=False, name=name)
    t0 = time.perf_counter()
    m.optimize()
    elapsed = time.perf_counter() - t0
    raw = m.getStatus()
    status = {
        "optimal": "optimal",
        "gaplimit": "gap_limit",
        "timelimit": "time_limit",
        "infeasible": "infeasible",
        "unbounded": "unbounded",
        "inforunbd": "infeasible",
    }.get(raw, raw)
    if m.getNSols() > 0:
        sol = m.getBestSol()
        x = np.array([sol[v] for v in xs])
        obj = m.getSolObjVal(sol)
    else:
        x, obj = None, math.inf
    bound = m.getDualbound()
    version = f"SCIP {m.version()} (PySCIPOpt {pyscipopt.__version__})"
    return x, status, obj, bound, elapsed, version


def _solve_gurobi(model: LinearModel, opt: SolverOptions):
    try:
        import gurobipy as gp
        from gurobipy import GRB
    except ImportError:
        raise SolverError(
            "solver.name=gurobi: gurobipy is not installed; install it with `pip install -e .[gurobi]` "
            "or use solver=scip"
        ) from None
    A = model.A
    rows, senses, rhs = [], [], []
    lhs_f, rhs_f = np.isfinite(model.lhs), np.isfinite(model.rhs)
    eq = lhs_f & rhs_f & (model.lhs == model.rhs)
    for r in range(A.shape[0]):
        if eq[r]:
            rows.append(r)
            senses.append("=")
            rhs.append(model.lhs[r])
            continue
        if lhs_f[r]:
            rows.append(r)
            senses.append(">")
            rhs.append(model.lhs[r])
        if rhs_f[r]:
            rows.append(r)
            senses.append("<")
            rhs.append(model.rhs[r])
    try:
        env = gp.Env(empty=True)
        env.setParam("OutputFlag", 0)
        env.start()
        m = gp.Model("wfmlab_schedule", env=env)
        m.Params.TimeLimit = float(opt.time_limit_s)
        m.Params.MIPGap = float(opt.rel_gap)
        m.Params.Threads = int(opt.threads)
        m.Params.Seed = int(opt.seed)
        vtype = np.where(model.integer, GRB.INTEGER, GRB.CONTINUOUS)
        x = m.addMVar(model.n_vars, lb=model.lb, ub=model.ub, obj=model.obj, vtype=vtype)
        if rows:
            m.addMConstr(A[rows], x, np.array(senses), np.array(rhs))
        for name, z, cols, coefs, rhs_i in model.indicators:
            expr = gp.quicksum(float(v) * x[int(j)] for j, v in zip(cols, coefs))
            m.addGenConstrIndicator(x[z], False, expr <= rhs_i, name=name)
        m.ModelSense = GRB.MINIMIZE
        t0 = time.perf_counter()
        m.optimize()
        elapsed = time.perf_counter() - t0
    except gp.GurobiError as exc:
        if getattr(exc, "errno", None) == 10010 or "size-limited" in str(exc).lower():
            raise SolverError(
                f"Gurobi's size-limited license allows at most {GUROBI_SIZE_LIMIT} variables and "
                f"{GUROBI_SIZE_LIMIT} constraints; this model has {model.n_vars} variables and {len(rows)} "
                "constraints. Use solver=scip (no size limit) or a full Gurobi license."
            ) from None
        raise SolverError(f"Gurobi failed: {exc}") from None
    codes = {
        GRB.OPTIMAL: "optimal",
        GRB.TIME_LIMIT: "time_limit",
        GRB.INFEASIBLE: "infeasible",
        GRB.INF_OR_UNBD: "infeasible",
        GRB.UNBOUNDED: "unbounded",
    }
    status = codes.get(m.Status, f"gurobi_status_{m.Status}")
    if m.SolCount > 0:
        xv = np.asarray(x.X, dtype=float)
        obj = float(m.ObjVal)
        bound = float(m.ObjBound) if model.integer.any() else obj
    else:
        xv, obj, bound = None, math.inf, -math.inf
    if status == "optimal" and relative_gap(obj, bound) > 1e-9 and model.integer.any():
        status = "gap_limit"
    version = "Gurobi {}.{}.{}".format(*gp.gurobi.version())
    m.dispose()
    env.dispose()
    return xv, status, obj, bound, elapsed, version


def solve_model(model: LinearModel, options: SolverOptions) -> tuple[np.ndarray, SolveReport]:
    """Solve with the chosen backend; raise InfeasibleError or SolverError without a solution."""
    fn = _solve_scip if options.name == "scip" else _solve_gurobi
    x, status, obj, bound, elapsed, version = fn(model, options)
    if status == "optimal" and relative_gap(obj, bound) > 1e-9:
        status = "gap_limit"
    report = SolveReport(
        solver=options.name,
        version=version,
        status=status,
        objective=float(obj),
        best_bound=float(bound),
        gap=relative_gap(obj, bound),
        time_s=float(elapsed),
        n_vars=model.n_vars,
        n_int_vars=int(model.integer.sum()),
        n_cons=model.n_cons,
        rel_gap_limit=float(options.rel_gap),
        time_limit_s=float(options.time_limit_s),
        threads=int(options.threads),
        seed=int(options.seed),
    )
    if x is None:
        if status == "infeasible":
            raise InfeasibleError(
                "the schedule model is infeasible (no schedule meets every hard constraint)"
            )
        raise SolverError(
            f"{options.name} found no solution (status {status}, {elapsed:.1f} s); "
            "raise solver.time_limit_s or relax the model"
        )
    return x, report
