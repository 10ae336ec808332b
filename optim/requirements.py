"""Staffing requirements per channel and interval: agents needed on the floor, and scheduled.

- voice: the fewest agents with service level >= target within ``threshold_s`` (by the scenario's
  ``sl_definition``): Erlang C (``method="erlang_c"``: callers who would abandon are assumed to wait, which
  is conservative) or Erlang A with the channel's exponential patience (``method="erlang_a"``);
- chat: the same on ``concurrency`` slots per agent (:func:`optim.queueing.chat_metrics`), with each
  channel's ``chat_slowdown`` of a chat's pace per extra chat held (the simulator's model; the
  ``chat_slowdown`` argument overrides it for every chat channel);
- email (deferred work): ``email="workload"`` spreads each interval's work over the open intervals up to its
  deadline (:func:`optim.queueing.deferred_workload`; fractional agents); ``email="backlog"`` gives the
  fewest whole agents per interval that answer the channel's ``target`` of the work within the deadline,
  carrying the backlog across intervals and closed hours (:func:`optim.queueing.deferred_agents`);
- ``uncertainty=True`` staffs against the Forecast's gamma rate multipliers (shape of the day and interval
  multipliers combined), averaging the service level over the rate distribution, calls-weighted, so
  forecast uncertainty raises staffing;
- ``max_occupancy`` caps the occupancy of voice and chat agents.

Shrinkage is applied once, the same way everywhere: ``agents`` is the requirement on the floor, and
``scheduled = agents / (1 - shrinkage)`` the agents on duty after breaks that the schedule must provide
(the MIP's ``(1 - shrinkage) x on duty >= agents``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forecast.errors import ConfigError, DataError
from sim.scenario import ChannelKind, Scenario

from .queueing import (
    agents_for,
    chat_metrics,
    combined_shape,
    deferred_agents,
    deferred_workload,
    expected_metrics,
    scheduled_agents,
)

__all__ = ["requirements", "REQUIREMENT_COLUMNS", "METHODS", "EMAIL_METHODS"]

REQUIREMENT_COLUMNS = (
    "channel",
    "interval",
    "interval_start",
    "volume",
    "aht_s",
    "load_erl",
    "agents",
    "scheduled",
    "expected_sl",
)
METHODS = ("erlang_c", "erlang_a")
EMAIL_METHODS = ("workload", "backlog")


def _series(f: pd.DataFrame, column: str, starts: pd.DatetimeIndex, tz, default: float) -> np.ndarray:
    idx = pd.DatetimeIndex(f["interval_start"]).tz_convert(tz)
    if column not in f.columns:
        return np.full(len(starts), default)
    return pd.Series(f[column].to_numpy(float), index=idx).reindex(starts).fillna(default).to_numpy()


def requirements(
    forecast: pd.DataFrame,
    scenario: Scenario,
    *,
    method: str = "erlang_c",
    email: str = "workload",
    uncertainty: bool = False,
    max_occupancy: float | None = None,
    chat_slowdown: float | None = None,
) -> pd.DataFrame:
    """Agents needed per channel and interval of ``scenario.grid``, for all channel kinds in one call.

    Returns a DataFrame with columns ``channel, interval, interval_start, volume, aht_s, load_erl, agents,
    scheduled, expected_sl``: ``agents`` on the floor (whole agents for voice and chat; email: fractional with
    ``email="workload"``), ``scheduled`` = agents / (1 - shrinkage), and ``expected_sl`` the service level
    the model predicts at ``agents`` (voice and chat, by the scenario's definition; NaN for email). Outside
    opening hours the requirement is 0.
    """
    if method not in METHODS:
        raise ConfigError(f"expected one of {list(METHODS)}; got {method!r}", key="method")
    if email not in EMAIL_METHODS:
        raise ConfigError(f"expected one of {list(EMAIL_METHODS)}; got {email!r}", key="email")
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise ConfigError(f"expected a fraction in (0, 1]; got {max_occupancy!r}", key="max_occupancy")
    if chat_slowdown is not None and not chat_slowdown >= 0:
        raise ConfigError(f"expected a number >= 0 or None; got {chat_slowdown!r}", key="chat_slowdown")
    grid = scenario.grid
    starts = grid.starts
    dt = grid.interval_s
    open_mask = scenario.open_mask
    frames = []
    for ch in scenario.channels:
        f = forecast[forecast["channel"] == ch.name]
        if f.empty:
            raise DataError(f"forecast: column 'channel': no rows for channel {ch.name!r} of the scenario")
        vol = _series(f, "volume", starts, grid.tz, 0.0)
        aht = _series(f, "aht_s", starts, grid.tz, ch.aht_s)
        if np.any(~np.isfinite(vol)) or np.any(vol < 0):
            raise DataError(f"forecast: column 'volume': channel {ch.name!r} has negative or missing volumes")
        if np.any(~(aht > 0)):
            raise DataError(f"forecast: column 'aht_s': channel {ch.name!r} has handle times <= 0")
        vol = np.where(open_mask, vol, 0.0)
        load = vol * aht / dt
        expected = np.full(grid.n, np.nan)
        if ch.kind is ChannelKind.EMAIL:
            if email == "workload":
                agents = deferred_workload(
                    vol, aht, dt, ch.deadline_s, open_mask=open_mask, clock=ch.deadline_clock
                )
            else:
                agents = deferred_agents(
                    vol,
                    aht,
                    dt,
                    ch.deadline_s,
                    target=ch.target,
                    open_mask=open_mask,
                    clock=ch.deadline_clock,
                )
        else:
            m = ch.concurrency
            patience = ch.patience_s if method == "erlang_a" and math.isfinite(ch.patience_s) else None
            slow = (
                (ch.chat_slowdown if chat_slowdown is None else chat_slowdown)
                if ch.kind is ChannelKind.CHAT
                else 0.0
            )
            shape = np.full(grid.n, np.inf)
            if uncertainty:
                shape = np.asarray(
                    combined_shape(
                        _series(f, "shape_day", starts, grid.tz, np.inf),
                        _series(f, "shape_interval", starts, grid.tz, np.inf),
                    ),
                    dtype=float,
                )
                shape = np.broadcast_to(shape, (grid.n,))
            agents = np.zeros(grid.n)
            lam = vol / dt
            for k in np.unique(shape):  # one search per distinct rate shape (usually one per channel)
                sel = shape == k
                kw = dict(
                    patience=patience,
                    concurrency=m,
                    slowdown=slow,
                    sl_definition=scenario.sl_definition,
                )
                agents[sel] = agents_for(
                    lam[sel],
                    aht[sel],
                    threshold=ch.threshold_s,
                    service_level=ch.target,
                    max_occupancy=max_occupancy,
                    rate_shape=None if not np.isfinite(k) else float(k),
                    **kw,
                )
                if np.isfinite(k):
                    q = expected_metrics(
                        lam[sel], aht[sel], agents[sel], ch.threshold_s, shape=float(k), **kw, _asa=False
                    )
                else:
                    q = chat_metrics(
                        lam[sel],
                        aht[sel],
                        agents[sel],
                        m,
                        ch.threshold_s,
                        patience=math.inf if patience is None else patience,
                        slowdown=slow,
                        sl_definition=scenario.sl_definition,
                        _asa=False,
                    )
                expected[sel] = np.asarray(q.service_level, dtype=float)
            load = load / m
        agents = np.where(open_mask, agents, 0.0)
        frames.append(
            pd.DataFrame(
                {
                    "channel": ch.name,
                    "interval": np.arange(grid.n),
                    "interval_start": starts,
                    "volume": vol,
                    "aht_s": aht,
                    "load_erl": load,
                    "agents": agents,
                    "scheduled": scheduled_agents(agents, scenario.shrinkage),
                    "expected_sl": np.where(open_mask & (vol > 0), expected, np.nan),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
