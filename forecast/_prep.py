"""History preparation and prediction plumbing shared by the forecast models (private).

:func:`prepare` validates a history table and puts every channel on the full local grid of the days it covers
(days x wall-clock slots; intervals without a row are zero arrivals, a slot that does not exist on a day is
NaN, the repeated hour of the autumn DST day holds the mean of its two occurrences), and computes the AHT per
channel and clock slot. :func:`target` checks a prediction index against a fitted grid, and
:func:`forecast_frame` assembles the Forecast table. The conventions are those of :mod:`forecast.models`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast._calendar import (
    as_index,
    check_aligned,
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
    x: dict[str, np.ndarray]  # per channel (n_days, n_slots) volume per occurrence, NaN where absent
    totals: dict[str, np.ndarray]  # per channel (n_days,) daily totals
    aht: dict[str, np.ndarray]  # per channel (n_slots,) AHT per clock slot

    @property
    def last_day(self) -> int:
        return self.first_day + self.n_days - 1


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
    """Validate ``history`` and put it on its local grid; needs at least ``min_days`` local days."""
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
    day, minute, _ = wall_parts(ts)
    slot = minute // imin
    n_slots = 1440 // imin
    d_first, d_last = int(day.min()), int(day.max())
    n_days = d_last - d_first + 1
    if n_days < min_days:
        raise DataError(f"{source}: history holds {n_days} days; {name} needs at least {min_days}")
    grid = day_grid(d_first, n_days, ts.tz, imin)
    gday, gmin, _ = wall_parts(grid)
    count = np.zeros((n_days, n_slots))
    np.add.at(count, (gday - d_first, gmin // imin), 1.0)
    channels = tuple(sorted(h["channel"].unique().tolist()))
    chan = h["channel"].to_numpy(object)
    vol = h["volume"].to_numpy(float)
    aht = h["aht_s"].to_numpy(float)
    xs, totals, ahts = {}, {}, {}
    for c in channels:
        sel = chan == c
        total = np.zeros((n_days, n_slots))
        np.add.at(total, (day[sel] - d_first, slot[sel]), vol[sel])
        xs[c] = np.divide(total, count, out=np.full_like(total, np.nan), where=count > 0)
        totals[c] = total.sum(axis=1)
        ok = sel & (vol > 0) & np.isfinite(aht)
        num = np.bincount(slot[ok], weights=vol[ok] * aht[ok], minlength=n_slots)
        den = np.bincount(slot[ok], weights=vol[ok], minlength=n_slots)
        overall = float(num.sum() / den.sum()) if den.sum() > 0 else d_aht
        ahts[c] = np.divide(num, den, out=np.full(n_slots, overall), where=den > 0)
    return Prepared(
        channels=channels,
        tz=ts.tz,
        interval_min=imin,
        n_slots=n_slots,
        first_day=d_first,
        n_days=n_days,
        weekday=(np.arange(d_first, d_last + 1) + 3) % 7,
        count=count,
        x=xs,
        totals=totals,
        aht=ahts,
    )


def weekday_profile(x: np.ndarray, weekday: np.ndarray) -> np.ndarray:
    """(7, n_slots): per weekday and slot the mean of ``x`` over the days given (NaN-aware), a slot never
    observed on that weekday filled from the nearest observed clock time (:func:`fill_nearest`)."""
    n_slots = x.shape[1]
    prof = np.empty((7, n_slots))
    for w in range(7):
        rows = x[weekday == w]
        n_obs = (~np.isnan(rows)).sum(axis=0)
        s = np.nansum(rows, axis=0)
        prof[w] = fill_nearest(np.divide(s, n_obs, out=np.full(n_slots, np.nan), where=n_obs > 0))
    return prof


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


def day_shares(prof: np.ndarray, tgt: Target) -> np.ndarray:
    """Each target interval's share of its local day: ``prof[weekday, slot]`` over the sum of the profile
    over all intervals of that local day (the full day, so a partial index gets the same shares and a DST
    day's shares sum to 1); 0 where the day's profile is all zero."""
    if len(tgt.index) == 0:
        return np.zeros(0)
    n_slots = prof.shape[1]
    imin = 1440 // n_slots
    d0, d1 = int(tgt.day.min()), int(tgt.day.max())
    full = day_grid(d0, d1 - d0 + 1, tgt.tz, imin)
    fday, fmin, fwd = wall_parts(full)
    norm = np.bincount(fday - d0, weights=prof[fwd, fmin // imin], minlength=d1 - d0 + 1)
    num = prof[tgt.weekday, tgt.slot]
    den = norm[tgt.day - d0]
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


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
