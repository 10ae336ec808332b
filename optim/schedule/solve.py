"""``solve``: requirements -> shift-scheduling MIP -> Schedule and SolveReport."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import sparse

from forecast.errors import ConfigError, DataError, InfeasibleError, SolverError
from sim.scenario import ChannelKind, Scenario, TargetScope
from sim.staffing import Schedule

from ..queueing import service_level_envelope
from .backends import SolveReport, SolverOptions, solve_model
from .model import LinearModel, ModelBuilder
from .templates import ShiftRules, Template, break_matrix, coverage_matrix, expand_breaks, make_templates
from .tours import TourRules, shift_class, tour_classes

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


def _email_flows(scenario: Scenario, reqs: pd.DataFrame, initial_backlog=None) -> dict:
    """Per email channel c: ``(arrive [T], cap [T], backlog0)`` in agent-intervals: the work arriving in
    each interval, the most work that may still wait at the end of each interval (work arrived less
    ``target`` x work due by then; :func:`optim.queueing.due_intervals`, the same rule as
    :func:`optim.queueing.deferred_agents`) and the work waiting at the start."""
    from ..queueing import due_intervals

    grid = scenario.grid
    dt = grid.interval_s
    backlog = dict(initial_backlog or {})
    unknown = sorted(set(backlog) - {ch.name for ch in scenario.channels if ch.kind is ChannelKind.EMAIL})
    if unknown:
        raise DataError(f"initial_backlog: not email channels of the scenario: {unknown}")
    out = {}
    for c, ch in enumerate(scenario.channels):
        if ch.kind is not ChannelKind.EMAIL:
            continue
        r = reqs[reqs["channel"] == ch.name]
        if not {"volume", "aht_s"} <= set(r.columns):
            raise DataError(
                f"requirements: channel {ch.name!r}: columns 'volume' and 'aht_s' are needed for the email "
                "backlog flow (or cover the email agents per interval with email='requirement')"
            )
        vol = np.zeros(grid.n)
        aht = np.full(grid.n, ch.aht_s)
        idx = r["interval"].to_numpy(int)
        vol[idx] = r["volume"].to_numpy(float)
        aht[idx] = r["aht_s"].to_numpy(float)
        work = vol * aht / dt
        n0 = backlog.get(ch.name, 0)
        if isinstance(n0, bool) or not isinstance(n0, int | float | np.integer | np.floating) or not n0 >= 0:
            raise DataError(f"initial_backlog.{ch.name}: expected a number of contacts >= 0; got {n0!r}")
        b0 = float(n0) * ch.aht_s / dt
        due = due_intervals(grid.n, dt, ch.deadline_s, scenario.open_mask, ch.deadline_clock)
        due_work = np.zeros(grid.n)
        inside = due < grid.n
        np.add.at(due_work, due[inside], work[inside])
        if grid.n and b0 > 0 and due[0] < grid.n:
            due_work[due[0]] += b0
        cap = np.cumsum(work) + b0 - ch.target * np.cumsum(due_work)
        out[c] = (work, np.maximum(cap, 0.0), b0)
    return out


def _start_clock(tp: Template, grid) -> str:
    return f"{grid.timestamp(tp.start_s):%H:%M}"


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
    email_flows: dict | None = None,
    max_start_times: int | None = None,
    tours: TourRules | None = None,
) -> LinearModel:
    """The MIP of :mod:`optim.schedule.model` for the given needs and templates.

    ``curves`` (optional): per channel index c, ``(volume [T], pieces DataFrame, periods [T], n_lo [T])``:
    the channel's target holds per period (day or horizon), volume-weighted, through the concave envelope of
    each interval's service level in agents on the floor (:func:`optim.queueing.service_level_envelope`)
    from ``n_lo`` agents (the first stable staffing, kept as a lower bound), instead of the per-interval
    requirement. ``email_flows`` (optional): per email channel c, ``(arrive [T], cap [T], backlog0)`` from
    :func:`_email_flows`: the channel's work is carried in a backlog instead of its per-interval need.
    Flexible breaks of the templates are placed with Aykin's implicit model. ``tours`` (week mode): tour
    variables link the days of each agent's week (:mod:`optim.schedule.tours`)."""
    curves = curves or {}
    flows = email_flows or {}
    grid = scenario.grid
    A = coverage_matrix(templates, grid)  # [T, J] on duty, fixed breaks taken out
    B, owner, brk, _, _ = break_matrix(templates, grid)  # [T, W] flexible break options
    J, W = len(templates), len(owner)
    D = sparse.hstack([A, -B]).tocsr()  # [T, J + W]: agents on duty from x and w columns
    shrink = 1.0 - scenario.shrinkage
    G, C, T = len(scenario.groups), len(scenario.channels), grid.n
    names = scenario.channel_names
    covered = np.asarray(A.sum(axis=1)).ravel() > 0
    b = ModelBuilder()
    x = np.empty((G, J), dtype=np.int64)
    w = np.empty((G, W), dtype=np.int64)
    for g, grp in enumerate(scenario.groups):
        for j, tp in enumerate(templates):
            cost = tp.cost if tp.cost is not None else tp.paid_h * grp.cost_per_hour
            x[g, j] = b.var(f"x[{grp.name},{j}]", obj=cost, integer=True)
        for o in range(W):
            w[g, o] = b.var(f"w[{grp.name},{owner[o]},{brk[o]},{o}]", integer=True)
        # Aykin: every agent of a shift takes each of its breaks once, at one of the break's start times
        if W:
            key = owner * 64 + brk
            order = np.argsort(key, kind="stable")
            bounds = np.flatnonzero(np.diff(key[order])) + 1
            for part in np.split(order, bounds):
                j = int(owner[part[0]])
                b.row(
                    f"breaks[{grp.name},{j},{int(brk[part[0]])}]",
                    np.concatenate([w[g, part], [x[g, j]]]),
                    np.concatenate([np.ones(part.size), [-1.0]]),
                    lhs=0.0,
                    rhs=0.0,
                )
    colmap = np.concatenate([x, w], axis=1)  # [G, J + W] model column of each duty-matrix column
    tour_list, p = [], np.zeros((G, 0), dtype=np.int64)
    if tours is not None:
        if grid.n_days != 7:
            raise ConfigError(
                f"week mode plans one week of 7 days; the horizon has {grid.n_days}", key="week"
            )
        tour_list, by_key = tour_classes(templates, tours, grid)
        if not tour_list:
            raise ConfigError(
                f"no tour fits: {list(tours.days_per_week)} days a week of the shift lengths "
                f"{sorted({round((tp.end_s - tp.start_s) / 3600, 2) for tp in templates})} h"
                + (
                    f" within {tours.weekly_hours[0]:g}-{tours.weekly_hours[1]:g} paid hours"
                    if tours.weekly_hours
                    else ""
                ),
                key="week",
            )
        p = np.empty((G, len(tour_list)), dtype=np.int64)
        for g, grp in enumerate(scenario.groups):
            for i in range(len(tour_list)):
                p[g, i] = b.var(f"tour[{grp.name},{i}]", integer=True)
            for (d, key), js in by_key.items():
                ts = [i for i, (pat, k, _) in enumerate(tour_list) if k == key and d in pat]
                b.row(
                    f"tour_link[{grp.name},{d},{key}]",
                    np.concatenate([x[g, js], p[g, ts]]),
                    np.concatenate([np.ones(len(js)), -np.ones(len(ts))]),
                    lhs=0.0,
                    rhs=0.0,
                )
    # infeasibility check up front, naming the intervals (hard mode)
    if not soft:
        bad = []
        for c, ch in enumerate(scenario.channels):
            if c in flows:
                continue
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
    max_cost = max([max_cost] + [tp.cost for tp in templates if tp.cost is not None])
    penalty = under_penalty if under_penalty is not None else 10.0 * max(max_cost, 1.0)
    y = {}
    for t in range(T):
        if not covered[t] and not need[:, t].any():
            continue
        lo, hi = D.indptr[t], D.indptr[t + 1]
        for g, grp in enumerate(scenario.groups):
            ys = []
            for cname in grp.channels:
                c = names.index(cname)
                if c in flows:
                    wanted = covered[t]
                elif c in curves:
                    wanted = curves[c][0][t] > 0
                else:
                    wanted = need[c, t] > 1e-9
                if wanted:
                    y[g, c, t] = b.var(f"y[{grp.name},{cname},{t}]")
                    ys.append(y[g, c, t])
            if ys and covered[t]:
                cols = np.concatenate([ys, colmap[g, D.indices[lo:hi]]])
                coefs = np.concatenate([np.ones(len(ys)), -shrink * D.data[lo:hi]])
                b.row(f"cap[{grp.name},{t}]", cols, coefs, rhs=0.0)
            elif ys:
                for v in ys:
                    b.ub[v] = 0.0
        for c in range(C):
            if c in curves or c in flows or need[c, t] <= 1e-9:
                continue
            cols = [y[g, c, t] for g in range(G) if (g, c, t) in y]
            if soft:
                cols.append(b.var(f"under[{names[c]},{t}]", obj=penalty))
            b.row(f"need[{names[c]},{t}]", cols, np.ones(len(cols)), lhs=float(need[c, t]))
    # email: backlog_t = backlog_{t-1} + arrivals_t - work_t, 0 <= backlog_t <= cap_t (what may still wait)
    for c, (arrive, cap, b0) in flows.items():
        ch = scenario.channels[c]
        prev = None
        for t in range(T):
            bl = b.var(f"backlog[{ch.name},{t}]", ub=float(cap[t]) if not soft else np.inf)
            if soft:
                u = b.var(f"late[{ch.name},{t}]", obj=penalty)
                b.row(f"due[{ch.name},{t}]", [bl, u], [1.0, -1.0], rhs=float(cap[t]))
            cols = (
                [bl] + ([prev] if prev is not None else []) + [y[g, c, t] for g in range(G) if (g, c, t) in y]
            )
            coefs = (
                [1.0] + ([-1.0] if prev is not None else []) + [1.0] * (len(cols) - 1 - (prev is not None))
            )
            rhs = float(arrive[t] + (b0 if t == 0 else 0.0))
            b.row(f"flow[{ch.name},{t}]", cols, coefs, lhs=rhs, rhs=rhs)
            prev = bl
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
            wt = vol[ts]
            cols = [s_of[t] for t in ts]
            if soft:
                cols.append(b.var(f"under_sl[{ch.name},{d}]", obj=penalty * wt.sum() / max(len(ts), 1)))
                coefs = np.concatenate([wt, [wt.sum()]])
            else:
                coefs = wt
            b.row(f"target[{ch.name},{d}]", cols, coefs, lhs=float(ch.target * wt.sum()))
    # at most a share of the shifts may be part-time (shorter than part_time_below_h): sum_pt x <= share sum x
    if max_part_time_share is not None:
        if not 0 <= max_part_time_share <= 1:
            raise DataError(
                f"max_part_time_share: expected a fraction in [0, 1]; got {max_part_time_share!r}"
            )
        pt = np.array([tp.length_s / 3600 < part_time_below_h - 1e-9 for tp in templates])
        if pt.any():
            cols = x.ravel()
            coefs = np.tile(np.where(pt, 1.0 - max_part_time_share, -max_part_time_share), G)
            b.row("part_time_share", cols, coefs, rhs=0.0)
    # bounds on agents on duty after breaks (all groups), per interval
    for bound, is_min in ((min_agents, True), (max_agents, False)):
        if bound is None:
            continue
        name = "min_agents" if is_min else "max_agents"
        try:
            raw = np.asarray(bound, dtype=float)
        except (TypeError, ValueError):
            raise DataError(f"{name}: expected a number or one number per interval; got {bound!r}") from None
        if raw.ndim > 1 or (raw.ndim == 1 and raw.size != T):
            raise DataError(
                f"{name}: expected a number or {T} of them (one per interval); got shape {raw.shape}"
            )
        if np.any(np.isnan(raw)) or np.any(raw < 0):
            raise DataError(f"{name}: expected agents >= 0 (inf: no bound); got NaN or a negative value")
        scalar = raw.ndim == 0
        arr = np.broadcast_to(raw, (T,))
        for t in range(T):
            if not np.isfinite(arr[t]) or (is_min and arr[t] <= 0):
                continue
            lo, hi = D.indptr[t], D.indptr[t + 1]
            if not covered[t]:
                if is_min and not scalar:  # a single number applies where shifts can be on duty
                    raise InfeasibleError(
                        f"min_agents: {arr[t]:g} agents wanted at {grid.starts[t]:%Y-%m-%d %H:%M}, "
                        "where no shift template is on duty"
                    )
                continue
            cols = colmap[:, D.indices[lo:hi]].ravel()
            coefs = np.tile(D.data[lo:hi], G)
            if is_min:
                b.row(f"min_agents[{t}]", cols, coefs, lhs=float(arr[t]))
            else:
                b.row(f"max_agents[{t}]", cols, coefs, rhs=float(arr[t]))
    # at most max_start_times distinct clock times of shift start: z[k] = 0 => no shift starts at clock k
    # (an indicator constraint per clock: exact, no big-M), sum z <= cap
    if max_start_times is not None:
        if isinstance(max_start_times, bool) or not isinstance(max_start_times, int | np.integer):
            raise ConfigError(f"expected an integer >= 1; got {max_start_times!r}", key="max_start_times")
        if max_start_times < 1:
            raise ConfigError(f"expected an integer >= 1; got {max_start_times!r}", key="max_start_times")
        groups_of: dict = {}
        for j, tp in enumerate(templates):
            groups_of.setdefault(_start_clock(tp, grid), []).append(j)
        zs = []
        for clock, js in sorted(groups_of.items()):
            z = b.var(f"start[{clock}]", ub=1.0, integer=True)
            zs.append(z)
            b.indicator(f"start_used[{clock}]", z, x[:, js].ravel(), np.ones(G * len(js)), 0.0)
        b.row("max_start_times", zs, np.ones(len(zs)), rhs=float(max_start_times))
    return b.build(
        x=x,
        w=w,
        owner=owner,
        brk=brk,
        templates=templates,
        tours=tour_list,
        tour_rules=tours,
        p=p,
    )


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
    email: str = "flow",
    initial_backlog: dict | None = None,
    break_model: str = "implicit",
    max_start_times: int | None = None,
    week: TourRules | None = None,
    diagnose: bool = True,
) -> tuple[Schedule, SolveReport]:
    """Cheapest set of shifts covering the requirements (agents on the floor) after breaks and shrinkage.

    ``targets="interval"`` (default) covers every interval's requirement; ``targets="scope"`` holds each
    voice or chat channel's target in its scope instead (``day`` or ``horizon``, volume-weighted, through the
    concave service-level envelopes of :func:`optim.queueing.service_level_envelope` built from the
    requirements' ``volume`` and ``aht_s``; Erlang A with the channel's patience when ``patience``), so that
    a daily 80/20 need not hold in every interval. Channels with ``interval`` scope keep their per-interval
    requirement. Email (``email="flow"``, default) is a backlog carried from interval to interval: everything
    is answered within its deadline (``target`` of it, as in :func:`optim.queueing.deferred_agents`), so its
    work moves into quiet intervals; ``initial_backlog`` maps an email channel to the contacts waiting at
    the start; ``email="requirement"`` covers the requirements' per-interval email agents instead.
    ``min_agents`` / ``max_agents`` (a number or one per interval) bound the agents on duty after breaks,
    all groups together. ``templates`` (e.g. from :func:`templates_from_table`, a centre's own catalogue)
    replaces the templates generated from ``rules``. ``max_part_time_share``: at most this share of the
    shifts may be part-time (shorter than ``part_time_below_h`` hours). ``max_start_times`` (default: the
    rules') caps the distinct clock times at which shifts start. Breaks with a window are placed by Aykin's
    implicit model (``break_model="implicit"``) or one template per break pattern (``"explicit"``, for small
    instances and as a reference). ``week`` (:class:`TourRules`) plans tours over a 7-day horizon: days worked
    and off, weekly hours, optionally one start time all week; the schedule's ``agent`` column then names
    each agent's line of work (``phone#001``: one row per shift) and the report gives the headcount per
    group and the tours used.

    Returns the :class:`Schedule` (one row per skill group x shift x break times, with its count) and the
    :class:`SolveReport` (status, objective, best bound, gap, time, solver and version). In hard mode an
    infeasible model raises :class:`InfeasibleError` naming the channels and intervals that cannot be
    covered and why (found by solving the soft model, ``diagnose``).
    """
    rules = rules or ShiftRules()
    solver = solver or SolverOptions()
    need = need_matrix(reqs, scenario)
    templates = templates if templates is not None else make_templates(scenario, rules)
    if break_model not in ("implicit", "explicit"):
        raise DataError(f"break_model: expected 'implicit' or 'explicit'; got {break_model!r}")
    if break_model == "explicit":
        templates = expand_breaks(templates)
    if targets not in ("interval", "scope"):
        raise DataError(f"targets: expected 'interval' or 'scope'; got {targets!r}")
    if email not in ("flow", "requirement"):
        raise DataError(f"email: expected 'flow' or 'requirement'; got {email!r}")
    curves = _scope_curves(scenario, reqs, patience) if targets == "scope" else None
    flows = _email_flows(scenario, reqs, initial_backlog) if email == "flow" else None
    kw = dict(
        curves=curves,
        min_agents=min_agents,
        max_agents=max_agents,
        max_part_time_share=max_part_time_share,
        part_time_below_h=part_time_below_h,
        email_flows=flows,
        max_start_times=max_start_times if max_start_times is not None else rules.max_start_times,
        tours=week,
    )
    model = build_schedule_model(scenario, need, templates, soft=soft, under_penalty=under_penalty, **kw)
    try:
        xv, report = solve_model(model, solver)
    except InfeasibleError:
        if soft or not diagnose:
            raise
        soft_model = build_schedule_model(
            scenario, need, templates, soft=True, under_penalty=under_penalty, **kw
        )
        try:
            sv, _ = solve_model(soft_model, solver)
        except InfeasibleError:
            raise InfeasibleError(
                "the schedule model is infeasible even when the requirements are relaxed: the constraints on "
                "the shifts themselves conflict ("
                + ", ".join(
                    k
                    for k in ("min_agents", "max_agents", "max_start_times", "max_part_time_share")
                    if kw.get(k) is not None
                )
                + (", tours" if kw.get("tours") is not None else "")
                + "; e.g. min_agents above max_agents, or a cap no shift can meet)"
            ) from None
        raise InfeasibleError(_diagnosis(scenario, soft_model, sv, need, max_agents, kw)) from None
    schedule, lines = _to_schedule(scenario, model, xv)
    if week is not None:
        report.headcount = {g: int(sum(1 for ln in lines if ln[0] == g)) for g in scenario.group_names}
        report.tours = _tour_table(scenario, model, xv)
    return schedule, report


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _tour_table(scenario: Scenario, model: LinearModel, xv: np.ndarray) -> list[dict]:
    grid = scenario.grid
    first = grid.starts[0].weekday()
    rows = []
    for g, grp in enumerate(scenario.groups):
        for i, (pat, key, week_h) in enumerate(model.meta["tours"]):
            k = int(round(xv[model.meta["p"][g, i]]))
            if k > 0:
                rows.append(
                    {
                        "skill_group": grp.name,
                        "days": ";".join(_DAYS[(first + d) % 7] for d in pat),
                        "length_h": key[0] / 3600,
                        "start": key[1] if len(key) > 1 else "",  # the clock, or the band
                        "paid_h_week": week_h,
                        "agents": k,
                    }
                )
    return rows


def _to_schedule(scenario: Scenario, model: LinearModel, xv: np.ndarray) -> tuple[Schedule, list]:
    """MIP solution -> Schedule: each shift's flexible breaks from the break variables (any pairing of one
    start per break is a valid shift, since break windows follow each other). In week mode each shift goes to
    a line of work (one agent's tour): on every day the lines of a shift class, ordered by the end of their
    previous shift, take the day's shifts ordered by start, which maximises the shortest rest."""
    templates = model.meta["templates"]
    xidx, widx, owner, brk = (model.meta[k] for k in ("x", "w", "owner", "brk"))
    _, _, _, bstart, bdur = break_matrix(templates, scenario.grid)
    grid = scenario.grid
    shifts = []  # (group index, template index, breaks)
    for g in range(len(scenario.groups)):
        wv = np.rint(xv[widx[g]]).astype(np.int64) if widx.shape[1] else np.zeros(0, np.int64)
        for j, tp in enumerate(templates):
            k = int(round(xv[xidx[g, j]]))
            if k <= 0:
                continue
            per_break = []
            for kk in range(len(tp.flex_breaks)):
                opts = np.flatnonzero((owner == j) & (brk == kk))
                seq = np.sort(np.repeat(bstart[opts], wv[opts]))
                if seq.size != k:
                    raise SolverError(
                        f"solver returned {seq.size} break starts for {k} shifts (template {j}); "
                        "tighten the solver's feasibility tolerance"
                    )
                per_break.append([(s, s + bdur[opts[0]]) for s in seq])
            for i in range(k):
                shifts.append((g, j, tuple(sorted(tp.breaks + tuple(pb[i] for pb in per_break)))))
    agent = [""] * len(shifts)
    lines = []
    if model.meta.get("tour_rules") is not None:
        agent, lines = _lines(scenario, model, xv, shifts)
    counts: dict = {}
    for (g, j, brks), who in zip(shifts, agent, strict=True):
        tp = templates[j]
        key = (scenario.groups[g].name, who, tp.start_s, tp.end_s, brks)
        counts[key] = counts.get(key, 0) + 1
    rows = [
        {
            "skill_group": gname,
            "agent": who,
            "count": n,
            "start": grid.timestamp(s0),
            "end": grid.timestamp(e0),
            "breaks": [(grid.timestamp(bs), grid.timestamp(be)) for bs, be in brks],
        }
        for (gname, who, s0, e0, brks), n in counts.items()
    ]
    df = pd.DataFrame(rows, columns=["skill_group", "agent", "count", "start", "end", "breaks"])
    df = df.sort_values(["skill_group", "agent", "start", "end"], kind="stable").reset_index(drop=True)
    return Schedule(df), lines


def _lines(scenario: Scenario, model: LinearModel, xv: np.ndarray, shifts: list):
    templates = model.meta["templates"]
    trules = model.meta["tour_rules"]
    grid = scenario.grid

    def key_of(tp):
        return shift_class(tp, grid, trules)

    lines = []  # (group name, line name, pattern, key)
    for g, grp in enumerate(scenario.groups):
        n = 0
        for i, (pat, key, _) in enumerate(model.meta["tours"]):
            for _ in range(int(round(xv[model.meta["p"][g, i]]))):
                n += 1
                lines.append((grp.name, f"{grp.name}#{n:03d}", pat, key))
    last_end = {ln[1]: -np.inf for ln in lines}
    agent = [""] * len(shifts)
    by_day: dict = {}
    for s_i, (g, j, _) in enumerate(shifts):
        tp = templates[j]
        by_day.setdefault((tp.day, scenario.groups[g].name, key_of(tp)), []).append(s_i)
    for d in range(grid.n_days):
        for (day, gname, key), idx in sorted(by_day.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
            if day != d:
                continue
            who = [ln[1] for ln in lines if ln[0] == gname and ln[3] == key and d in ln[2]]
            if len(who) != len(idx):
                raise SolverError(f"week mode: {len(idx)} shifts but {len(who)} lines on day {d} ({gname})")
            who.sort(key=lambda nm: last_end[nm])
            idx = sorted(idx, key=lambda s_i: templates[shifts[s_i][1]].start_s)
            for nm, s_i in zip(who, idx, strict=True):
                agent[s_i] = nm
                last_end[nm] = templates[shifts[s_i][1]].end_s
    return agent, lines


def _diagnosis(scenario, model, sv, need, max_agents, kw) -> str:
    """Why a hard model is infeasible: the shortfalls of the cheapest soft schedule, per channel and
    interval, with what limits them."""
    grid = scenario.grid
    short = []
    for i, nm in enumerate(model.names):
        if sv[i] <= 1e-6 or not nm.startswith(("under[", "late[", "under_sl[")):
            continue
        kind, rest = nm[:-1].split("[", 1)
        ch, t = rest.rsplit(",", 1)
        t = int(t)
        if kind == "under_sl":
            days = pd.DatetimeIndex(grid.starts.tz_localize(None).normalize().unique())
            when = "over the horizon" if grid.n_days == 1 or t >= len(days) else f"on {days[t]:%Y-%m-%d}"
            short.append(f"{ch} {when} (service level short by {sv[i]:.3f})")
            continue
        when = f"{grid.starts[t]:%Y-%m-%d %H:%M}"
        what = "email work past its deadline" if kind == "late" else "agents short"
        why = ""
        if max_agents is not None:
            cap = np.broadcast_to(np.asarray(max_agents, dtype=float), (grid.n,))[t]
            if np.isfinite(cap):
                why = f"; max_agents allows {cap:g} on duty"
        short.append(f"{ch} at {when} ({sv[i]:.2f} {what}{why})")
    causes = []
    if kw.get("max_start_times") is not None:
        causes.append(f"max_start_times={kw['max_start_times']}")
    if kw.get("max_part_time_share") is not None:
        causes.append(f"max_part_time_share={kw['max_part_time_share']}")
    if max_agents is not None:
        causes.append("max_agents")
    if kw.get("email_flows"):
        causes.append("email deadlines")
    more = f" and {len(short) - 12} more" if len(short) > 12 else ""
    text = "; ".join(short[:12]) + more if short else "no single interval (the constraints conflict)"
    return (
        "the schedule model is infeasible: the cheapest schedule that relaxes the requirements still falls "
        f"short at: {text}. Constraints that limit it: "
        f"{', '.join(causes) or 'shift rules and opening hours'}. Relax them or use schedule.soft=true"
    )
