"""``solve``: requirements -> shift-scheduling MIP -> Schedule and SolveReport."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forecast.errors import DataError, InfeasibleError
from sim.scenario import ChannelKind, Scenario, TargetScope
from sim.staffing import Schedule

from ..queueing import service_level_envelope
from .backends import SolveReport, SolverOptions, solve_model
from .model import LinearModel, ModelBuilder
from .templates import ShiftRules, Template, coverage_matrix, make_templates

__all__ = ["solve", "build_schedule_model", "need_matrix"]


def need_matrix(reqs: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """Requirements table -> array [channels, intervals] of agents needed on the floor."""
    for col in ("channel", "interval", "agents"):
        if col not in reqs.columns:
            raise DataError(f"requirements: missing column {col!r}")
    need = np.zeros((len(scenario.channels), scenario.grid.n))
    for c, name in enumerate(scenario.channel_names):
        r = reqs[reqs["channel"] == name]
        if r.empty:
            raise DataError(f"requirements: no rows for channel {name!r}")
        idx = r["interval"].to_numpy(int)
        if idx.min() < 0 or idx.max() >= scenario.grid.n:
            raise DataError(f"requirements: column 'interval': values outside 0..{scenario.grid.n - 1}")
        need[c, idx] = r["agents"].to_numpy(float)
    if np.any(need < 0) or not np.all(np.isfinite(need)):
        raise DataError("requirements: column 'agents': expected finite values >= 0")
    return need


def _scope_curves(scenario: Scenario, reqs: pd.DataFrame, patience: bool) -> dict:
    """Envelopes for the voice and chat channels whose target holds per day or over the horizon."""
    grid = scenario.grid
    out = {}
    for c, ch in enumerate(scenario.channels):
        if ch.kind is ChannelKind.EMAIL or ch.scope is TargetScope.INTERVAL:
            continue
        r = reqs[reqs["channel"] == ch.name].sort_values("interval")
        if not {"volume", "aht_s"} <= set(r.columns):
            raise DataError("requirements: columns 'volume' and 'aht_s' are needed for scope targets")
        vol = np.zeros(grid.n)
        aht = np.full(grid.n, ch.aht_s)
        idx = r["interval"].to_numpy(int)
        vol[idx] = r["volume"].to_numpy(float)
        aht[idx] = r["aht_s"].to_numpy(float)
        # below the first stable staffing the curve is not concave and its majorant would promise service
        # from an overloaded queue: each interval keeps at least that many agents, the curve starts there
        per_agent = ch.concurrency / (1.0 + ch.chat_slowdown * (ch.concurrency - 1))
        n_lo = np.where(vol > 0, np.floor(vol * aht / grid.interval_s / per_agent) + 1, 0).astype(np.int64)
        pieces = service_level_envelope(
            vol / grid.interval_s,
            aht,
            n_min=n_lo,
            threshold=ch.threshold_s,
            patience=ch.patience_s if patience and math.isfinite(ch.patience_s) else None,
            concurrency=ch.concurrency,
            slowdown=ch.chat_slowdown,
        )
        periods = grid.day_index if ch.scope is TargetScope.DAY else np.zeros(grid.n, dtype=int)
        out[c] = (vol, pieces, np.asarray(periods), n_lo)
    return out


def build_schedule_model(
    scenario: Scenario,
    need: np.ndarray,
    templates: list[Template],
    *,
    soft: bool = False,
    under_penalty: float | None = None,
    curves: dict | None = None,
    min_agents=None,
    max_agents=None,
    max_part_time_share: float | None = None,
    part_time_below_h: float = 6.0,
) -> LinearModel:
    """The MIP of :mod:`optim.schedule.model` for the given needs and templates.

    ``curves`` (optional): per channel index c, ``(volume [T], pieces DataFrame, periods [T], n_lo [T])``:
    the channel's target holds per period (day or horizon), volume-weighted, through the concave envelope of
    each interval's service level in agents on the floor (:func:`optim.queueing.service_level_envelope`)
    from ``n_lo`` agents (the first stable staffing, kept as a lower bound), instead of the per-interval
    requirement."""
    curves = curves or {}
    grid = scenario.grid
    A = coverage_matrix(templates, grid)  # [T, J]
    shrink = 1.0 - scenario.shrinkage
    G, C, T = len(scenario.groups), len(scenario.channels), grid.n
    names = scenario.channel_names
    covered = np.asarray(A.sum(axis=1)).ravel() > 0
    b = ModelBuilder()
    x = np.empty((G, len(templates)), dtype=np.int64)
    for g, grp in enumerate(scenario.groups):
        for j, tp in enumerate(templates):
            cost = tp.cost if tp.cost is not None else tp.paid_h * grp.cost_per_hour
            x[g, j] = b.var(f"x[{grp.name},{j}]", obj=cost, integer=True)
    # infeasibility check up front, naming the intervals (hard mode)
    if not soft:
        bad = []
        for c, ch in enumerate(scenario.channels):
            for t in np.flatnonzero((need[c] > 1e-9) & ~covered):
                bad.append(f"{ch.name} at {grid.starts[t]:%Y-%m-%d %H:%M} (needs {need[c, t]:.2f})")
        if bad:
            more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
            raise InfeasibleError(
                "no shift template covers these intervals with a requirement: "
                + "; ".join(bad[:10])
                + more
                + ". Widen the opening hours or the shift rules, or use schedule.soft=true"
            )
    max_cost = max((tp.paid_h for tp in templates), default=1.0) * max(
        g.cost_per_hour for g in scenario.groups
    )
    penalty = under_penalty if under_penalty is not None else 10.0 * max(max_cost, 1.0)
    Acsr = A.tocsr()
    y = {}
    for t in range(T):
        if not covered[t] and not need[:, t].any():
            continue
        for g, grp in enumerate(scenario.groups):
            ys = []
            for cname in grp.channels:
                c = names.index(cname)
                wanted = curves[c][0][t] > 0 if c in curves else need[c, t] > 1e-9
                if wanted:
                    y[g, c, t] = b.var(f"y[{grp.name},{cname},{t}]")
                    ys.append(y[g, c, t])
            if ys and covered[t]:
                lo, hi = Acsr.indptr[t], Acsr.indptr[t + 1]
                js = Acsr.indices[lo:hi]
                cols = np.concatenate([ys, x[g, js]])
                coefs = np.concatenate([np.ones(len(ys)), -shrink * Acsr.data[lo:hi]])
                b.row(f"cap[{grp.name},{t}]", cols, coefs, rhs=0.0)
            elif ys:
                for v in ys:
                    b.ub[v] = 0.0
        for c in range(C):
            if c in curves or need[c, t] <= 1e-9:
                continue
            cols = [y[g, c, t] for g in range(G) if (g, c, t) in y]
            if soft:
                cols.append(b.var(f"under[{names[c]},{t}]", obj=penalty))
            b.row(f"need[{names[c]},{t}]", cols, np.ones(len(cols)), lhs=float(need[c, t]))
    # scope targets: s[c,t] <= intercept_k + slope_k * (agents of c on the floor in t); per period
    # sum_t volume_t s[c,t] >= target x sum_t volume_t
    for c, (vol, pieces, periods, n_lo) in curves.items():
        ch = scenario.channels[c]
        s_of = {}
        by_t = {int(t): p for t, p in pieces.groupby("interval")}
        for t in np.flatnonzero(vol > 0):
            cols = [y[g, c, t] for g in range(G) if (g, c, t) in y]
            low = list(cols)
            if soft:
                low.append(b.var(f"under[{ch.name},{t}]", obj=penalty))
            b.row(f"stable[{ch.name},{t}]", low, np.ones(len(low)), lhs=float(n_lo[t]))
            sv = b.var(f"sl[{ch.name},{t}]", ub=1.0)
            s_of[t] = sv
            for k, piece in enumerate(by_t[int(t)].itertuples(index=False)):
                b.row(
                    f"curve[{ch.name},{t},{k}]",
                    [sv, *cols],
                    np.concatenate([[1.0], -piece.slope * np.ones(len(cols))]),
                    rhs=float(piece.intercept),
                )
        for d in np.unique(periods[vol > 0]):
            ts = [t for t in s_of if periods[t] == d]
            w = vol[ts]
            cols = [s_of[t] for t in ts]
            if soft:
                cols.append(b.var(f"under_sl[{ch.name},{d}]", obj=penalty * w.sum() / max(len(ts), 1)))
                coefs = np.concatenate([w, [w.sum()]])
            else:
                coefs = w
            b.row(f"target[{ch.name},{d}]", cols, coefs, lhs=float(ch.target * w.sum()))
    # at most a share of the shifts may be part-time (shorter than part_time_below_h): sum_pt x <= share sum x
    if max_part_time_share is not None:
        if not 0 <= max_part_time_share <= 1:
            raise DataError(
                f"max_part_time_share: expected a fraction in [0, 1]; got {max_part_time_share!r}"
            )
        pt = np.array([(tp.end_s - tp.start_s) / 3600 < part_time_below_h - 1e-9 for tp in templates])
        if pt.any():
            cols = x.ravel()
            coefs = np.tile(np.where(pt, 1.0 - max_part_time_share, -max_part_time_share), G)
            b.row("part_time_share", cols, coefs, rhs=0.0)
    # bounds on agents on duty after breaks (all groups), per interval
    for bound, is_min in ((min_agents, True), (max_agents, False)):
        if bound is None:
            continue
        arr = np.broadcast_to(np.asarray(bound, dtype=float), (T,))
        for t in range(T):
            if not np.isfinite(arr[t]) or (is_min and arr[t] <= 0):
                continue
            lo, hi = Acsr.indptr[t], Acsr.indptr[t + 1]
            js = Acsr.indices[lo:hi]
            if js.size == 0:
                if is_min:
                    raise InfeasibleError(
                        f"min_agents: {arr[t]:g} agents wanted at {grid.starts[t]:%Y-%m-%d %H:%M}, "
                        "where no shift template is on duty"
                    )
                continue
            cols = np.concatenate([x[g, js] for g in range(G)])
            coefs = np.tile(Acsr.data[lo:hi], G)
            if is_min:
                b.row(f"min_agents[{t}]", cols, coefs, lhs=float(arr[t]))
            else:
                b.row(f"max_agents[{t}]", cols, coefs, rhs=float(arr[t]))
    return b.build(x=x, templates=templates)


def solve(
    scenario: Scenario,
    reqs: pd.DataFrame,
    *,
    rules: ShiftRules | None = None,
    solver: SolverOptions | None = None,
    soft: bool = False,
    under_penalty: float | None = None,
    targets: str = "interval",
    patience: bool = False,
    min_agents=None,
    max_agents=None,
    templates: list[Template] | None = None,
    max_part_time_share: float | None = None,
    part_time_below_h: float = 6.0,
) -> tuple[Schedule, SolveReport]:
    """Cheapest set of shifts covering the requirements (agents on the floor) after breaks and shrinkage.

    ``targets="interval"`` (default) covers every interval's requirement; ``targets="scope"`` holds each
    voice or chat channel's target in its scope instead (``day`` or ``horizon``, volume-weighted, through the
    concave service-level envelopes of :func:`optim.queueing.service_level_envelope` built from the
    requirements' ``volume`` and ``aht_s``; Erlang A with the channel's patience when ``patience``), so that
    a daily 80/20 need not hold in every interval. Channels with ``interval`` scope and email keep their
    per-interval requirement. ``min_agents`` / ``max_agents`` (a number or one per interval) bound the agents
    on duty after breaks, all groups together. ``templates`` (e.g. from :func:`templates_from_table`, a
    centre's own catalogue) replaces the templates generated from ``rules``. ``max_part_time_share``: at
    most this share of the shifts may be part-time (shorter than ``part_time_below_h`` hours).

    Returns the :class:`Schedule` (one row per skill group x template used, with its count) and the
    :class:`SolveReport` (status, objective, best bound, gap, time, solver and version).
    """
    rules = rules or ShiftRules()
    solver = solver or SolverOptions()
    need = need_matrix(reqs, scenario)
    templates = templates if templates is not None else make_templates(scenario, rules)
    if targets not in ("interval", "scope"):
        raise DataError(f"targets: expected 'interval' or 'scope'; got {targets!r}")
    curves = _scope_curves(scenario, reqs, patience) if targets == "scope" else None
    model = build_schedule_model(
        scenario,
        need,
        templates,
        soft=soft,
        under_penalty=under_penalty,
        curves=curves,
        min_agents=min_agents,
        max_agents=max_agents,
        max_part_time_share=max_part_time_share,
        part_time_below_h=part_time_below_h,
    )
    xv, report = solve_model(model, solver)
    xidx = model.meta["x"]
    grid = scenario.grid
    rows = []
    for g, grp in enumerate(scenario.groups):
        for j, tp in enumerate(templates):
            k = int(round(xv[xidx[g, j]]))
            if k > 0:
                rows.append(
                    {
                        "skill_group": grp.name,
                        "agent": "",
                        "count": k,
                        "start": grid.timestamp(tp.start_s),
                        "end": grid.timestamp(tp.end_s),
                        "breaks": [(grid.timestamp(bs), grid.timestamp(be)) for bs, be in tp.breaks],
                    }
                )
    df = pd.DataFrame(rows, columns=["skill_group", "agent", "count", "start", "end", "breaks"])
    df = df.sort_values(["skill_group", "start", "end"], kind="stable").reset_index(drop=True)
    return Schedule(df), report
