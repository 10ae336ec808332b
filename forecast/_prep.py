"""History preparation and prediction plumbing shared by the forecast models (private).

:func:`prepare` validates a history table and puts every channel on the full local grid of the days it covers
(days x wall-clock slots; a slot that does not exist on a day is NaN, the repeated hour of the autumn DST day
holds the mean of its two occurrences), tells **missing data** from **zero arrivals** (:func:`missing_mask`;
missing slots are NaN too), and computes the AHT per channel and clock slot. :func:`weekday_profile` averages
per weekday and clock slot over the observed days, :func:`predictive_shapes` adds a model's estimation
variance to the dispersion shapes, :func:`target` checks a prediction index against a fitted grid, and
:func:`forecast_frame` assembles the Forecast table. The conventions are those of :mod:`forecast.models`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast._calendar import (
    WEEKDAYS,
    as_index,
    check_aligned,
    check_channel_intervals,
    check_interval_min,
    day_grid,
    infer_interval_min,
    wall_parts,
)
from forecast.errors import ConfigError, DataError
from forecast.frame import FORECAST_COLUMNS, validate_forecast, validate_history


def check_int(value, key: str, lo: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
        raise ConfigError(f"expected an integer >= {lo}; got {value!r}", key)
    return int(value)


def check_aht(value) -> float:
    if isinstance(value, bool) or not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ConfigError(f"expected seconds > 0; got {value!r}", "default_aht_s")
    return float(value)


def fill_nearest(row: np.ndarray) -> np.ndarray:
    """NaNs of ``row`` replaced by the nearest non-NaN value (ties: the earlier one); all-NaN -> zeros."""
    present = np.flatnonzero(~np.isnan(row))
    if present.size == 0:
        return np.zeros_like(row)
    if present.size == row.size:
        return row
    j = np.arange(row.size)
    pos = np.searchsorted(present, j)
    left = present[np.clip(pos - 1, 0, present.size - 1)]
    right = present[np.clip(pos, 0, present.size - 1)]
    take = np.where(np.abs(j - left) <= np.abs(right - j), left, right)
    return row[take]


@dataclass
class Prepared:
    """A history on its full local grid. Day arrays are indexed from ``first_day`` (local day number)."""

    channels: tuple[str, ...]
    tz: object
    interval_min: int
    n_slots: int
    first_day: int
    n_days: int
    weekday: np.ndarray  # (n_days,) local weekday, Monday = 0
    count: np.ndarray  # (n_days, n_slots) occurrences of each wall-clock slot on each day
    missing: np.ndarray  # (n_days, n_slots) True where the slot exists but its data are missing
    x: dict[str, np.ndarray]  # per channel (n_days, n_slots) volume per occurrence, NaN where absent/missing
    totals: dict[str, np.ndarray]  # per channel (n_days,) totals over the observed slots of each day
    aht: dict[str, np.ndarray]  # per channel (n_slots,) AHT per clock slot

    @property
    def last_day(self) -> int:
        return self.first_day + self.n_days - 1

    @property
    def obs(self) -> np.ndarray:
        """(n_days, n_slots) True where the slot exists that day and was observed."""
        return (self.count > 0) & ~self.missing

    @property
    def full(self) -> np.ndarray:
        """(n_days,) True for the days observed completely (no missing slot)."""
        return ~self.missing.any(axis=1)


def missing_mask(rows: np.ndarray, count: np.ndarray, weekday: np.ndarray) -> np.ndarray:
    """Which slots of a days x slots grid hold **missing data** rather than zero arrivals (the rule of
    :mod:`forecast.models`). ``rows``: True where the table has a row (any channel); ``count``: occurrences of
    each slot per day (0 where a DST change skips it); ``weekday`` per day.

    * A day without any row is missing, unless no day of its weekday has a row (a weekday the centre never
      opens: zero).
    * The first day is partial when its first row comes later in the day than the earliest first row of the
      other days of the same weekday (of all other days if there is none): its slots before the first row are
      missing. Likewise the last day after its last row, compared with the latest last row of the other days
      of its weekday (so a false alarm only drops a few quiet slots from the means, while a real cut-off is
      never read as zero arrivals). A table cut at Friday 12:00 (an export) thus leaves Friday afternoon
      missing, not zero.
    * Every other slot without a row is zero arrivals (closed, or no contact).
    """
    n_days, n_slots = rows.shape
    has = rows.any(axis=1)
    missing = np.zeros((n_days, n_slots), dtype=bool)
    for d in np.flatnonzero(~has):
        if has[weekday == weekday[d]].any():
            missing[d] = True
    if n_days > 1:
        slots = np.arange(n_slots)
        for d, edge in ((n_days - 1, "last"), (0, "first")):
            if not has[d]:
                continue
            others = has & (np.arange(n_days) != d)
            ref = others & (weekday == weekday[d])
            ref = ref if ref.any() else others
            if not ref.any():
                continue
            if edge == "last":
                own = int(slots[rows[d]].max())
                other = max(int(slots[rows[e]].max()) for e in np.flatnonzero(ref))
                if own < other:
                    missing[d, own + 1 :] = True
            else:
                own = int(slots[rows[d]].min())
                other = min(int(slots[rows[e]].min()) for e in np.flatnonzero(ref))
                if own > other:
                    missing[d, :own] = True
    return missing & (count > 0)


def check_observed(p: Prepared, source: str, name: str) -> None:
    """Every clock slot that exists on some day of a weekday must be observed on at least one such day, or a
    DataError names the weekday and the clock times (a slot absent only because of a DST change is not
    required: it gets the nearest observed clock time)."""
    for w in range(7):
        rows = p.weekday == w
        if not rows.any():
            continue
        gap = (p.count[rows] > 0).any(axis=0) & ~p.obs[rows].any(axis=0) & p.missing[rows].any(axis=0)
        if gap.any():
            s = np.flatnonzero(gap)
            run_end = s[0]
            while run_end + 1 < p.n_slots and gap[run_end + 1]:
                run_end += 1
            imin = p.interval_min
            lo, hi = s[0] * imin, (run_end + 1) * imin
            span = f"{lo // 60:02d}:{lo % 60:02d}-{hi // 60:02d}:{hi % 60:02d}"
            raise DataError(
                f"{source}: no data for {WEEKDAYS[w]} {span} "
                f"local time (the {WEEKDAYS[w]}s of the history have no rows then: missing data, not zero "
                f"arrivals); {name} needs every clock time of every weekday observed at least once"
            )


def prepare(
    history: pd.DataFrame,
    *,
    tz,
    interval_min: int | None,
    default_aht_s: float,
    source: str,
    name: str,
    min_days: int = 7,
) -> Prepared:
    """Validate ``history`` and put it on its local grid; needs at least ``min_days`` local days with data
    and every clock time of every weekday observed (:func:`check_observed`)."""
    d_aht = check_aht(default_aht_s)
    h = validate_history(history, source)
    if h.empty:
        raise DataError(f"{source}: no rows; {name} needs at least {min_days} days of history")
    ts = pd.DatetimeIndex(h["interval_start"])
    try:
        ts = ts.tz_convert(tz if tz is not None else ts.tz)
    except Exception as exc:  # noqa: BLE001 - a bad tz name is a config error
        raise ConfigError(f"expected a valid time zone; got {tz!r} ({exc})", "tz") from None
    imin = infer_interval_min(ts, source) if interval_min is None else check_interval_min(interval_min)
    check_aligned(ts, imin, source)
    chan = h["channel"].to_numpy(object)
    check_channel_intervals(ts, chan, imin, source)
    day, minute, _ = wall_parts(ts)
    slot = minute // imin
    n_slots = 1440 // imin
    d_first, d_last = int(day.min()), int(day.max())
    n_days = d_last - d_first + 1
    grid = day_grid(d_first, n_days, ts.tz, imin)
    gday, gmin, _ = wall_parts(grid)
    count = np.zeros((n_days, n_slots))
    np.add.at(count, (gday - d_first, gmin // imin), 1.0)
    weekday = (np.arange(d_first, d_last + 1) + 3) % 7
    rows = np.zeros((n_days, n_slots), dtype=bool)
    rows[day - d_first, slot] = True
    missing = missing_mask(rows, count, weekday)
    obs = (count > 0) & ~missing
    n_seen = int(obs.any(axis=1).sum())
    if n_seen < min_days:
        gone = n_days - n_seen
        more = f" with data ({gone} more without rows: missing)" if gone else ""
        raise DataError(f"{source}: history holds {n_seen} days{more}; {name} needs at least {min_days}")
    channels = tuple(sorted(h["channel"].unique().tolist()))
    vol = h["volume"].to_numpy(float)
    aht = h["aht_s"].to_numpy(float)
    xs, totals, ahts = {}, {}, {}
    for c in channels:
        sel = chan == c
        total = np.zeros((n_days, n_slots))
        np.add.at(total, (day[sel] - d_first, slot[sel]), vol[sel])
        xs[c] = np.divide(total, count, out=np.full_like(total, np.nan), where=obs)
        totals[c] = np.where(obs, total, 0.0).sum(axis=1)
        ok = sel & (vol > 0) & np.isfinite(aht)
        num = np.bincount(slot[ok], weights=vol[ok] * aht[ok], minlength=n_slots)
        den = np.bincount(slot[ok], weights=vol[ok], minlength=n_slots)
        overall = float(num.sum() / den.sum()) if den.sum() > 0 else d_aht
        ahts[c] = np.divide(num, den, out=np.full(n_slots, overall), where=den > 0)
    p = Prepared(
        channels=channels,
        tz=ts.tz,
        interval_min=imin,
        n_slots=n_slots,
        first_day=d_first,
        n_days=n_days,
        weekday=weekday,
        count=count,
        missing=missing,
        x=xs,
        totals=totals,
        aht=ahts,
    )
    check_observed(p, source, name)
    return p


def weekday_profile(x: np.ndarray, weekday: np.ndarray, lo: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per weekday and slot the mean of ``x`` over the observed (non-NaN) days from day ``lo`` on; where a
    slot has no observation from ``lo`` on, its most recent observation before ``lo``; a slot never observed
    on that weekday gets the nearest observed clock time (:func:`fill_nearest`; the hour skipped by a DST
    change). Returns (profile, n): both (7, n_slots), ``n`` the number of days averaged (>= 1)."""
    n_slots = x.shape[1]
    prof = np.empty((7, n_slots))
    used = np.empty((7, n_slots))
    for w in range(7):
        rows = weekday == w
        win = x[rows & (np.arange(x.shape[0]) >= lo)]
        n_obs = (~np.isnan(win)).sum(axis=0)
        mean = np.divide(np.nansum(win, axis=0), n_obs, out=np.full(n_slots, np.nan), where=n_obs > 0)
        n = np.where(n_obs > 0, n_obs, np.nan).astype(float)
        before = x[rows & (np.arange(x.shape[0]) < lo)]
        gap = np.isnan(mean)
        if gap.any() and before.shape[0]:
            for s in np.flatnonzero(gap):
                seen = before[~np.isnan(before[:, s]), s]
                if seen.size:
                    mean[s], n[s] = seen[-1], 1.0
        prof[w] = fill_nearest(mean)
        used[w] = fill_nearest(n) if (~np.isnan(n)).any() else np.ones(n_slots)
    return prof, used


def predictive_shapes(
    shape_day: float,
    shape_interval: float,
    profile: np.ndarray,
    f_interval: np.ndarray,
    *,
    f_day: np.ndarray | None = None,
    day_var: float | None = None,
) -> tuple[float, float]:
    """(shape_day, shape_interval) of the **predictive** distribution: the process shapes plus the error of
    estimating the mean (the rule of :mod:`forecast.models`).

    ``shape_day`` and ``shape_interval`` are the process shapes (a = 1/shape_day, b = 1/shape_interval),
    ``profile`` the forecast volumes per (weekday, slot), ``f_interval`` per (weekday, slot) the fraction of
    one day's interval-level variance (v + v^2 b (1 + a)) that the estimate carries (1/n for a mean of n
    days), ``f_day`` the same for the day-level variance v^2 a (default ``f_interval``), or ``day_var`` the
    predictive relative variance of the day level itself (Holt-Winters: from its residuals). Averages over
    the slots weight the gamma parts by v^2; the Poisson part is matched as in :mod:`forecast.models`."""
    a = 0.0 if math.isinf(shape_day) else 1.0 / shape_day
    b = 0.0 if math.isinf(shape_interval) else 1.0 / shape_interval
    v = np.asarray(profile, dtype=float).ravel()
    f_i = np.asarray(f_interval, dtype=float).ravel()
    ok = np.isfinite(v) & (v > 0)
    s2 = float((v[ok] ** 2).sum())
    if s2 <= 0:
        return shape_day, shape_interval
    fi_bar = float((v[ok] ** 2 * f_i[ok]).sum()) / s2
    # the Poisson part f_t v_t of the estimation variance as v_t^2 delta: balanced over the intervals, each
    # weighted by the sensitivity of its band to a relative variance error (1 / (1 + v c) for a count of
    # mean v with extra variance v^2 c) and by the chance 1 - e^-v that it is not empty (the band of a
    # near-empty interval is [0, 0] or [0, 1] whatever the shape)
    c = (1.0 + a) * (1.0 + b) - 1.0
    w = -np.expm1(-v[ok]) / (1.0 + v[ok] * c)
    delta = float((w * f_i[ok]).sum()) / float((w * v[ok]).sum())
    if day_var is None:
        f_d = f_i if f_day is None else np.asarray(f_day, dtype=float).ravel()
        day_var = a * (1.0 + float((v[ok] ** 2 * f_d[ok]).sum()) / s2)
    a_p = max(float(day_var), 0.0)
    b_p = (b * (1.0 + a) * (1.0 + fi_bar) + delta) / (1.0 + a_p)
    return (1.0 / a_p if a_p > 0 else math.inf), (1.0 / b_p if b_p > 0 else math.inf)


@dataclass
class Target:
    """A prediction index in the fitted time zone: local day number, slot and weekday of each start."""

    index: pd.DatetimeIndex
    tz: object
    day: np.ndarray
    slot: np.ndarray
    weekday: np.ndarray


def target(index, *, model, name: str) -> Target:
    """Check a prediction index (tz-aware DatetimeIndex or an object with ``.starts``) against the grid of a
    fitted ``model`` (attributes ``channels_``, ``tz_``, ``interval_min_``): distinct starts on the local
    ``interval_min_`` grid, at least ``interval_min_`` apart."""
    if not hasattr(model, "channels_"):
        raise ConfigError(f"{name} is not fitted; call fit(history) first", "predict")
    idx = as_index(index)
    imin, tz = model.interval_min_, model.tz_
    other = getattr(index, "interval_min", None)
    if other is not None and other != imin:
        raise ConfigError(f"expected {imin}-minute intervals (those of the history); got {other}", "index")
    if idx.has_duplicates:
        raise ConfigError("expected distinct interval starts; the index has duplicates", "index")
    local = idx.tz_convert(tz)
    check_aligned(local, imin, "index")
    if len(idx) > 1:
        gaps = np.diff(np.sort(idx.tz_convert("UTC").tz_localize(None).to_numpy("datetime64[ns]")))
        if gaps.min() < np.timedelta64(imin * 60, "s"):
            raise ConfigError(f"expected intervals of {imin} minutes (those of the history)", "index")
    day, minute, weekday = wall_parts(local)
    return Target(index=idx, tz=tz, day=day, slot=minute // imin, weekday=weekday)


def profile_frame(channels: tuple[str, ...], profiles: list[np.ndarray], interval_min: int) -> pd.DataFrame:
    """The ``profile_`` table: channel, weekday, minute (local clock), volume from (7, n_slots) arrays."""
    n_c, n_slots = len(channels), 1440 // interval_min
    return pd.DataFrame(
        {
            "channel": np.repeat(np.array(channels, dtype=object), 7 * n_slots),
            "weekday": np.tile(np.repeat(np.arange(7), n_slots), n_c),
            "minute": np.tile(np.arange(n_slots) * interval_min, 7 * n_c),
            "volume": np.concatenate([q.ravel() for q in profiles]) if n_c else np.zeros(0),
        }
    )


def aht_frame(p: Prepared) -> pd.DataFrame:
    """The ``aht_`` table: channel, minute (local clock), aht_s."""
    n_c = len(p.channels)
    return pd.DataFrame(
        {
            "channel": np.repeat(np.array(p.channels, dtype=object), p.n_slots),
            "minute": np.tile(np.arange(p.n_slots) * p.interval_min, n_c),
            "aht_s": np.concatenate([p.aht[c] for c in p.channels]) if n_c else np.zeros(0),
        }
    )


def forecast_frame(
    channels: tuple[str, ...],
    idx: pd.DatetimeIndex,
    columns: dict[str, dict[str, np.ndarray | float]],
    name: str,
) -> pd.DataFrame:
    """The Forecast for ``channels`` on ``idx``: ``columns[channel]`` maps volume, aht_s, shape_day and
    shape_interval to arrays (or scalars) aligned with ``idx``; validated and sorted."""
    frames = [
        pd.DataFrame(
            {
                "channel": c,
                "interval_start": idx,
                **{k: columns[c][k] for k in ("volume", "aht_s", "shape_day", "shape_interval")},
            }
        )
        for c in channels
    ]
    if not frames:
        empty = pd.DataFrame({c: [] for c in FORECAST_COLUMNS})
        empty["interval_start"] = pd.DatetimeIndex([], tz=idx.tz)
        return empty
    return validate_forecast(pd.concat(frames, ignore_index=True), source=f"{name}.predict")
