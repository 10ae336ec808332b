"""Staffing requirements per channel and interval: agents needed on the floor (before shrinkage).

- voice: Erlang C, the fewest agents with service level >= target within ``threshold_s``
  (callers who would abandon are assumed to wait: conservative);
- chat: Erlang C on ``concurrency`` x agents servers with the per-chat handle time, rounded up to agents;
- email (deferred work): the work of the emails arriving in interval t (volume x AHT) is spread evenly over
  the open intervals of [t, t + deadline) (a calendar deadline), so that work arriving in the evening is done
  the next morning; the requirement is the spread workload per interval in agents. This is the plain workload
  bound: it staffs all of the work within the deadline, whatever the target fraction.

Shrinkage is not applied here: it is applied once, in the schedule (``(1 - shrinkage) x on duty >= need``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.errors import DataError
from sim.scenario import ChannelKind, Scenario

from .queueing import agents_for

__all__ = ["requirements", "REQUIREMENT_COLUMNS"]

REQUIREMENT_COLUMNS = ("channel", "interval", "interval_start", "volume", "aht_s", "load_erl", "agents")


def _email_spread(
    work_s: np.ndarray, open_mask: np.ndarray, interval_s: float, deadline_s: float
) -> np.ndarray:
    """Spread each interval's work evenly over the open intervals of [t, t + deadline); seconds per interval.

    The window may run past the horizon: the share that falls after it belongs to the next period and is not
    counted here.
    """
    T = work_s.size
    w = max(1, int(np.floor(deadline_s / interval_s + 1e-9)))
    # count open intervals in each window, extending the daily opening pattern past the horizon
    period = int(round(86400 / interval_s))
    ext = np.concatenate([open_mask, np.resize(open_mask[-period:] if period <= T else open_mask, w)])
    cum = np.concatenate([[0], np.cumsum(ext)])
    out = np.zeros(T + w)
    for t in np.flatnonzero(work_s > 0):
        n_open = cum[t + w] - cum[t]
        if n_open == 0:
            raise DataError(
                f"requirements: email arriving in interval {t} cannot be answered within its deadline: "
                "the centre is closed for the whole window"
            )
        out[t : t + w] += work_s[t] * ext[t : t + w] / n_open
    return out[:T] / interval_s


def requirements(forecast: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Agents needed on the floor per channel and interval of ``scenario.grid``.

    Returns a DataFrame with columns ``channel, interval, interval_start, volume, aht_s, load_erl, agents``
    (``agents`` float: whole agents for voice and chat, a fractional workload for email). Outside opening
    hours the requirement is 0.
    """
    grid = scenario.grid
    starts = grid.starts
    dt = grid.interval_s
    open_mask = scenario.open_mask
    frames = []
    for ch in scenario.channels:
        f = forecast[forecast["channel"] == ch.name]
        if f.empty:
            raise DataError(f"forecast: column 'channel': no rows for channel {ch.name!r} of the scenario")
        idx = pd.DatetimeIndex(f["interval_start"]).tz_convert(grid.tz)
        vol = pd.Series(f["volume"].to_numpy(float), index=idx).reindex(starts).fillna(0.0).to_numpy()
        aht = pd.Series(f["aht_s"].to_numpy(float), index=idx).reindex(starts).fillna(ch.aht_s).to_numpy()
        vol = np.where(open_mask, vol, 0.0)
        load = vol * aht / dt
        if ch.kind is ChannelKind.EMAIL:
            agents = _email_spread(vol * aht, open_mask, dt, ch.deadline_s)
        else:
            m = ch.concurrency
            servers = agents_for(
                vol / dt,
                aht,
                threshold=ch.threshold_s,
                service_level=ch.target,
                sl_definition=scenario.sl_definition,
            )
            agents = np.ceil(np.asarray(servers) / m).astype(float)
            load = load / m
        frames.append(
            pd.DataFrame(
                {
                    "channel": ch.name,
                    "interval": np.arange(grid.n),
                    "interval_start": starts,
                    "volume": vol,
                    "aht_s": aht,
                    "load_erl": load,
                    "agents": np.where(open_mask, agents, 0.0),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
