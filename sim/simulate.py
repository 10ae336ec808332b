"""``simulate``: replications of the SimPy engine for a scenario, a staffing and a Forecast."""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from forecast.errors import ConfigError, DataError

from .engine import CHAT, EMAIL, VOICE, SimModel, run_replication, stable_key
from .executors import Executor, make_executor
from .result import SimResult
from .scenario import ChannelKind, Scenario
from .staffing import Schedule

__all__ = ["simulate", "build_model", "staffing_shifts"]

_KIND = {ChannelKind.VOICE: VOICE, ChannelKind.CHAT: CHAT, ChannelKind.EMAIL: EMAIL}


def staffing_shifts(scenario: Scenario, staffing) -> tuple:
    """Agent-shifts (group, start_s, end_s, breaks_s) from a :class:`Schedule` or from a table of agents on
    duty per skill group and interval (array [groups, intervals] or DataFrame with the groups as rows).

    In a table, agent k of a group is on duty in the intervals where the table holds more than k agents; each
    maximal run of such intervals is one shift without breaks, so constant staffing keeps the same agents on
    duty throughout."""
    grid = scenario.grid
    if isinstance(staffing, Schedule):
        return tuple(staffing.agent_shifts(grid, scenario.group_names))
    if isinstance(staffing, pd.DataFrame):
        missing = [g for g in scenario.group_names if g not in staffing.index]
        if missing:
            raise DataError(f"staffing table: missing skill group row(s) {missing}")
        staffing = staffing.loc[scenario.group_names].to_numpy(float)
    n = np.asarray(staffing, dtype=float)
    if n.shape != (len(scenario.groups), grid.n):
        raise DataError(
            f"staffing table: expected shape (skill groups, intervals) = "
            f"({len(scenario.groups)}, {grid.n}); got {n.shape}"
        )
    if np.any(n < 0) or np.any(n != np.round(n)):
        raise DataError("staffing table: expected non-negative whole numbers of agents")
    dt = grid.interval_s
    shifts = []
    for g in range(n.shape[0]):
        for k in range(int(n[g].max(initial=0))):
            on = np.concatenate([[False], n[g] > k, [False]])
            d = np.diff(on.astype(int))
            for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
                shifts.append((g, float(s * dt), float(e * dt), []))
    return tuple(shifts)


TRACE_COLUMNS = ("channel", "arrival_s", "handle_s")


def _trace(scenario: Scenario, trace) -> tuple:
    """A contact log to replay: one row per contact with ``channel``, ``arrival_s`` (seconds from the grid
    start), ``handle_s`` and optional ``patience_s`` (missing or NaN: never abandons)."""
    if trace is None:
        return ()
    if not isinstance(trace, pd.DataFrame):
        raise ConfigError(
            "expected a DataFrame with columns channel, arrival_s, handle_s[, patience_s]", key="trace"
        )
    missing = [c for c in TRACE_COLUMNS if c not in trace.columns]
    if missing:
        raise DataError(f"trace: missing column(s) {missing}; expected {list(TRACE_COLUMNS)} (+ patience_s)")
    unknown = sorted(set(trace["channel"].astype(str)) - set(scenario.channel_names))
    if unknown:
        raise DataError(
            f"trace: column 'channel': unknown channel(s) {unknown}; expected {scenario.channel_names}"
        )
    horizon = scenario.grid.n * scenario.grid.interval_s
    out = []
    for ch in scenario.channels:
        f = trace[trace["channel"].astype(str) == ch.name]
        t = pd.to_numeric(f["arrival_s"], errors="coerce").to_numpy(float)
        h = pd.to_numeric(f["handle_s"], errors="coerce").to_numpy(float)
        if "patience_s" in f.columns:
            p = pd.to_numeric(f["patience_s"], errors="coerce").to_numpy(float)
            p = np.where(np.isnan(p), np.inf, p)
        else:
            p = np.full(t.size, np.inf)
        for col, v, ok in (
            ("arrival_s", t, (t >= 0) & (t < horizon)),
            ("handle_s", h, np.isfinite(h) & (h >= 0)),
            ("patience_s", p, p > 0),
        ):
            bad = ~ok
            if bad.any():
                row = int(f.index[np.flatnonzero(bad)[0]])
                raise DataError(
                    f"trace: row {row}: column '{col}': expected "
                    + (
                        "seconds in [0, horizon)"
                        if col == "arrival_s"
                        else "a duration > 0 (or >= 0 for handle)"
                    )
                    + f"; got {v[np.flatnonzero(bad)[0]]!r}"
                )
        if ch.kind is ChannelKind.EMAIL:
            p = np.full(t.size, np.inf)
        order = np.argsort(t, kind="stable")
        out.append((t[order], h[order], p[order]))
    return tuple(out)


def _initial_ages(scenario: Scenario, backlog) -> tuple:
    """``{channel: n}`` (n contacts of age 0) or ``{channel: [age_s, ...]}`` -> ages per channel."""
    if not backlog:
        return ()
    if not isinstance(backlog, dict):
        raise ConfigError(
            "expected a mapping of email channel -> count or list of ages (s)", key="initial_backlog"
        )
    out = []
    for ch in scenario.channels:
        v = backlog.get(ch.name)
        if v is None:
            out.append(None)
            continue
        key = f"initial_backlog.{ch.name}"
        if isinstance(v, int | np.integer) and not isinstance(v, bool):
            if v < 0:
                raise ConfigError(f"expected a count >= 0; got {v!r}", key=key)
            ages = np.zeros(int(v))
        else:
            try:
                ages = np.asarray(v, dtype=float).ravel()
            except (TypeError, ValueError):
                raise ConfigError(
                    f"expected a count or a list of ages in seconds; got {v!r}", key=key
                ) from None
            if np.any(~np.isfinite(ages)) or np.any(ages < 0):
                raise ConfigError("expected finite ages >= 0 (seconds)", key=key)
        out.append(ages)
    unknown = sorted(set(backlog) - set(scenario.channel_names))
    if unknown:
        raise ConfigError(f"unknown channel(s) {unknown}", key="initial_backlog")
    return tuple(out)


def _priorities(scenario: Scenario, group) -> tuple:
    """Channel indices of a group, highest priority first; with ``blend_email`` email goes last."""
    names = scenario.channel_names
    order = [names.index(c) for c in group.channels]
    if scenario.blend_email:
        kinds = [scenario.channels[i].kind for i in order]
        order = [i for i, k in zip(order, kinds) if k is not ChannelKind.EMAIL] + [
            i for i, k in zip(order, kinds) if k is ChannelKind.EMAIL
        ]
    return tuple(order)


def _unit(samples) -> np.ndarray:
    """Samples rescaled to mean 1 (an empirical shape; the mean comes from the scenario or the Forecast)."""
    x = np.asarray(samples, dtype=float)
    return x / x.mean()


def _pivot(forecast: pd.DataFrame, scenario: Scenario, column: str, fill: dict) -> np.ndarray:
    grid = scenario.grid
    starts = grid.starts
    out = np.empty((len(scenario.channels), grid.n))
    for c, ch in enumerate(scenario.channels):
        f = forecast[forecast["channel"] == ch.name]
        s = pd.Series(
            f[column].to_numpy(float), index=pd.DatetimeIndex(f["interval_start"]).tz_convert(grid.tz)
        )
        out[c] = s.reindex(starts).fillna(fill[ch.name]).to_numpy(float)
    return out


def build_model(
    scenario: Scenario,
    staffing,
    forecast: pd.DataFrame,
    keep_records: bool = False,
    initial_backlog=None,
    trace=None,
) -> SimModel:
    """The engine's arrays from the scenario, a staffing and a Forecast (columns of ../shared/DESIGN.md)."""
    need = ("channel", "interval_start", "volume", "aht_s", "shape_day", "shape_interval")
    missing = [c for c in need if c not in forecast.columns]
    if missing:
        raise DataError(f"forecast: missing column(s) {missing}; expected {list(need)}")
    known = set(forecast["channel"].unique())
    for ch in scenario.channels:
        if ch.name not in known:
            raise DataError(f"forecast: column 'channel': no rows for channel {ch.name!r} of the scenario")
    shape_day, shape_int = [], []
    for ch in scenario.channels:
        f = forecast[forecast["channel"] == ch.name]
        for col, dest in (("shape_day", shape_day), ("shape_interval", shape_int)):
            vals = np.unique(f[col].to_numpy(float))
            if vals.size != 1 or not vals[0] > 0:
                raise DataError(
                    f"forecast: column '{col}': expected one positive value (or inf) per channel; "
                    f"channel {ch.name!r} has {vals[:5].tolist()}"
                )
            dest.append(float(vals[0]))
    volume = _pivot(forecast, scenario, "volume", {c.name: 0.0 for c in scenario.channels})
    aht = _pivot(forecast, scenario, "aht_s", {c.name: c.aht_s for c in scenario.channels})
    if np.any(volume < 0) or not np.all(np.isfinite(volume)):
        raise DataError("forecast: column 'volume': expected finite values >= 0")
    if np.any(aht <= 0) or not np.all(np.isfinite(aht)):
        raise DataError("forecast: column 'aht_s': expected finite values > 0")
    groups = scenario.groups
    return SimModel(
        interval_s=scenario.grid.interval_s,
        n_intervals=scenario.grid.n,
        day_index=scenario.grid.day_index,
        kind=np.array([_KIND[c.kind] for c in scenario.channels]),
        volume=volume,
        aht=aht,
        aht_cv=np.array([c.aht_cv for c in scenario.channels]),
        aht_exponential=np.array([c.aht_dist == "exponential" for c in scenario.channels]),
        aht_samples=tuple(
            _unit(c.aht_samples) if c.aht_dist == "empirical" else None for c in scenario.channels
        ),
        patience=np.array([c.patience_s for c in scenario.channels]),
        patience_dist=tuple(str(c.patience_dist) for c in scenario.channels),
        patience_cv=np.array([c.patience_cv for c in scenario.channels]),
        patience_samples=tuple(
            _unit(c.patience_samples) if c.patience_dist == "empirical" else None for c in scenario.channels
        ),
        balk=np.array([c.balk_prob for c in scenario.channels]),
        concurrency=np.array([c.concurrency for c in scenario.channels]),
        within_s=np.array([c.answer_within_s for c in scenario.channels]),
        shape_day=np.array(shape_day),
        shape_interval=np.array(shape_int),
        key=np.array([stable_key(c.name) for c in scenario.channels], dtype=np.int64),
        priorities=tuple(_priorities(scenario, g) for g in groups),
        shifts=staffing_shifts(scenario, staffing),
        shrinkage=float(scenario.shrinkage),
        keep_records=bool(keep_records),
        initial_ages=_initial_ages(scenario, initial_backlog),
        trace=_trace(scenario, trace),
        absence_per_interval=scenario.absence == "interval",
        chat_slowdown=np.array([c.chat_slowdown for c in scenario.channels], dtype=float),
        business_clock=np.array([c.deadline_clock == "business" for c in scenario.channels]),
        open_mask=np.asarray(scenario.open_mask, dtype=bool),
    )


def simulate(
    scenario: Scenario,
    staffing,
    *,
    forecast: pd.DataFrame,
    replications: int = 10,
    seed: int = 0,
    workers: int | None = 1,
    executor: Executor | None = None,
    progress: bool = False,
    warmup_intervals: int = 0,
    records: bool = False,
    initial_backlog: dict | None = None,
    trace: pd.DataFrame | None = None,
) -> SimResult:
    """Simulate ``replications`` independent replications of the centre.

    ``staffing`` is a :class:`~sim.staffing.Schedule` or a table of agents on duty per skill group and
    interval; ``forecast`` gives the arrival rates, handle times and gamma shapes per channel and interval.
    Randomness: one ``SeedSequence(seed)``; replication k uses streams keyed by (k, purpose, channel), so
    the results are identical for any ``workers`` and two staffings see the same customers. The run starts
    empty; ``warmup_intervals`` leaves the first intervals out of days, target checks and summaries.
    ``records=True`` also keeps one row per contact in ``SimResult.contacts`` (memory: off by default).
    ``initial_backlog`` starts from a given state (warm start from reality): contacts waiting at the start,
    ``{"email": 120}`` (120 of age 0) or ``{"email": [ages in s], "voice": [...]}``; they are answered first
    (FIFO), take agent time, count in ``queue_end`` and ``queue_time_s`` but not in the offered counts (they
    arrived before); waiting callers get a fresh remaining patience (exact for exponential patience).
    ``trace`` replays a contact log instead of drawing contacts (trace-driven simulation): a DataFrame with
    ``channel``, ``arrival_s`` (from the grid start), ``handle_s`` and optional ``patience_s``; the
    forecast then only supplies the handle-time means of the starting backlog.
    """
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ConfigError(f"expected an integer >= 1; got {replications!r}", key="replications")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"expected an integer >= 0; got {seed!r}", key="seed")
    if (
        isinstance(warmup_intervals, bool)
        or not isinstance(warmup_intervals, int | np.integer)
        or not 0 <= warmup_intervals < scenario.grid.n
    ):
        raise ConfigError(
            f"expected an integer in [0, {scenario.grid.n}) (grid intervals); got {warmup_intervals!r}",
            key="warmup_intervals",
        )
    model = build_model(
        scenario, staffing, forecast, keep_records=records, initial_backlog=initial_backlog, trace=trace
    )
    ex = executor or make_executor(workers)
    t0 = time.perf_counter()
    reps = ex.map(run_replication, [(model, int(seed), r) for r in range(replications)])
    if progress:
        print(f"  simulated {replications} replications in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return SimResult.from_replications(scenario.grid, scenario, reps, int(seed), int(warmup_intervals))
