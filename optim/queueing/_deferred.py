"""Deferred work (email, back office): staffing against a response deadline, with the backlog carried.

Work arriving in interval t (volume x AHT, in agent-seconds) is due by the end of its *due interval*:
the interval containing t's start + deadline less one interval (``clock="calendar"``, so work arriving late
in an interval is never counted as on time when it is not), or the w-th open interval counting from t
(``clock="business"``, w = deadline / interval length: only opening hours count). An arrival interval whose
due interval lies past the horizon is due after it (censored: it needs no work inside the horizon). The
fluid model resolves whole intervals: a deadline shorter than one interval counts as one interval (work is
due by the end of the interval it arrived in), which is lenient for such deadlines; use the simulator for
them.

- :func:`deferred_workload` is the plain workload bound: each interval's work spread evenly over the open
  intervals from its arrival to its due interval. Smooth, and enough for everything to be on time, but not
  the fewest agents.
- :func:`deferred_agents` gives the fewest agents per interval: the pointwise-smallest cumulative capacity
  with, at the end of every interval t, cumulative work done >= ``target`` x cumulative work due by t (the
  email target of the design notes; FIFO fluid model, the backlog carried across intervals and closed
  hours). Work due in a closed interval must be done by the last open interval before it. Agents work only
  in open intervals, at most ``max_occupancy`` of their time; with ``whole=True`` agents are whole numbers and
  the capacity rounded up carries forward. With ``target`` < 1 the rule holds for every prefix of the
  horizon when work already past its deadline waits until the on-time work is done (earliest deadline
  first); a strictly FIFO centre spends capacity on late work first and needs ``target=1`` (or the
  simulator) to be sure of its target.
"""

from __future__ import annotations

import numpy as np

from forecast.errors import DataError

__all__ = ["deferred_agents", "deferred_workload", "due_intervals"]


def _open(n: int, open_mask, interval_s: float, extra: int) -> np.ndarray:
    """The opening pattern over the horizon and ``extra`` intervals past it (the last day repeated)."""
    m = np.ones(n, bool) if open_mask is None else np.asarray(open_mask, dtype=bool)
    if m.shape != (n,):
        raise ValueError(f"open_mask: expected {n} values (one per interval); got shape {m.shape}")
    period = max(1, int(round(86400.0 / interval_s)))
    tail = m[-period:] if period <= n else m
    return np.concatenate([m, np.resize(tail, extra)]) if extra > 0 else m


def _window(deadline_s: float, interval_s: float) -> int:
    if not deadline_s > 0 or not interval_s > 0:
        raise ValueError("deadline_s and interval_s must be > 0")
    return max(1, int(np.floor(deadline_s / interval_s + 1e-9)))


def due_intervals(n: int, interval_s: float, deadline_s: float, open_mask=None, clock: str = "calendar"):
    """For each arrival interval 0..n-1, the interval by whose end its work is due (may be >= n)."""
    w = _window(deadline_s, interval_s)
    t = np.arange(n)
    if clock == "calendar":
        return t + w - 1
    if clock != "business":
        raise ValueError(f"clock: expected 'calendar' or 'business'; got {clock!r}")
    period = max(1, int(round(86400.0 / interval_s)))
    ext = _open(n, open_mask, interval_s, w * period + period)
    if not ext.any():
        raise DataError("deferred work: the centre is never open, so no deadline can be met")
    cum = np.cumsum(ext)  # open intervals in [0, u]
    before = np.concatenate([[0], cum])[:n]  # open intervals in [0, t)
    return np.searchsorted(cum, before + w, side="left")


def _work(volume, aht_s, n):
    vol = np.asarray(volume, dtype=float)
    aht = np.broadcast_to(np.asarray(aht_s, dtype=float), vol.shape)
    if vol.shape != (n,) or np.any(~np.isfinite(vol)) or np.any(vol < 0):
        raise ValueError("volume: expected finite values >= 0, one per interval")
    if np.any(~(aht > 0)):
        raise ValueError("aht_s: expected values > 0")
    return vol * aht


def _check_windows(work, due, ext):
    """Every interval's work needs an open interval between its arrival and its due interval."""
    cum = np.concatenate([[0], np.cumsum(ext)])
    t = np.arange(work.size)
    bad = (work > 0) & (cum[np.minimum(due, ext.size - 1) + 1] - cum[t] == 0)
    if bad.any():
        t0 = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"deferred work: the work arriving in interval {t0} cannot be done by its deadline: the centre "
            f"is closed from its arrival to its due interval {int(due[t0])} ({int(bad.sum())} interval(s) "
            "like this); lengthen the deadline or count it in opening hours (clock='business')"
        )
    return cum


def deferred_workload(
    volume, aht_s, interval_s: float, deadline_s: float, *, open_mask=None, clock: str = "calendar"
) -> np.ndarray:
    """Agents per interval (fractional) from spreading each interval's work evenly over the open intervals
    from its arrival to its due interval; the share falling past the horizon is not counted."""
    vol = np.asarray(volume, dtype=float)
    n = vol.size
    work = _work(vol, aht_s, n)
    due = due_intervals(n, interval_s, deadline_s, open_mask, clock)
    last = int(due.max(initial=0)) + 1
    ext = _open(n, open_mask, interval_s, max(0, last - n))
    cum = _check_windows(work, due, ext)
    out = np.zeros(max(last, n) + 1)
    for t in np.flatnonzero(work > 0):
        k = cum[due[t] + 1] - cum[t]
        out[t : due[t] + 1] += work[t] * ext[t : due[t] + 1] / k
    return out[:n] / interval_s


def deferred_agents(
    volume,
    aht_s,
    interval_s: float,
    deadline_s: float,
    *,
    target: float = 1.0,
    open_mask=None,
    clock: str = "calendar",
    backlog_s: float = 0.0,
    max_occupancy: float = 1.0,
    whole: bool = True,
) -> np.ndarray:
    """The fewest agents per interval that answer ``target`` of the work within the deadline (module
    docstring). ``backlog_s``: agent-seconds of work waiting at the start, due by the end of the first
    interval's due interval. Returns agents per interval (0 in closed intervals)."""
    if not 0 < target <= 1:
        raise ValueError("target: expected a fraction in (0, 1]")
    if not 0 < max_occupancy <= 1:
        raise ValueError("max_occupancy: expected a fraction in (0, 1]")
    if backlog_s < 0:
        raise ValueError("backlog_s: expected >= 0")
    vol = np.asarray(volume, dtype=float)
    n = vol.size
    work = _work(vol, aht_s, n)
    openm = _open(n, open_mask, interval_s, 0)
    due = due_intervals(n, interval_s, deadline_s, open_mask, clock)
    _check_windows(work, due, _open(n, open_mask, interval_s, int(due.max(initial=0)) + 1 - n))
    # work due by the end of each interval of the horizon
    due_work = np.zeros(n)
    inside = due < n
    np.add.at(due_work, due[inside], work[inside])
    if n and backlog_s > 0:
        d0 = int(due[0]) if due[0] < n else None
        if d0 is not None:
            due_work[d0] += backlog_s
    need = target * np.cumsum(due_work)
    # work due in a closed interval must be done by the last open interval before it
    req = need.copy()
    for t in range(n - 2, -1, -1):
        if not openm[t + 1]:
            req[t] = max(req[t], req[t + 1])
    cap_per_agent = interval_s * max_occupancy
    arrived = np.cumsum(work) + backlog_s  # work cannot be done before it arrives: spare capacity idles
    agents = np.zeros(n)
    done = 0.0
    for t in range(n):
        if openm[t]:
            short = req[t] - done
            if short > 1e-9 * max(1.0, req[t]):
                k = short / cap_per_agent
                agents[t] = np.ceil(k - 1e-9) if whole else k
            done = min(done + agents[t] * cap_per_agent, arrived[t])
        elif req[t] > done + 1e-9 * max(1.0, req[t]):
            raise DataError(
                f"deferred work: {req[t] - done:.0f} agent-seconds due by the end of interval {t} cannot be "
                "done: the centre is closed from the start of the horizon until then"
            )
    return agents
