"""Local-calendar helpers shared by the forecast modules (private).

Grids are built in absolute time from local midnights, so a DST day simply has 92 or 100 quarter hours;
"local" always means the wall clock of the time zone in use.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from forecast.errors import ConfigError, DataError

_EPOCH = pd.Timestamp("1970-01-01")


def check_interval_min(interval_min, key: str = "interval_min") -> int:
    """``interval_min`` as an int; it must be a positive whole number of minutes dividing 60."""
    if isinstance(interval_min, bool) or not isinstance(interval_min, int | np.integer):
        raise ConfigError(
            f"expected an integer number of minutes dividing 60 (15, 30, 60); got {interval_min!r}", key
        )
    if interval_min <= 0 or 60 % int(interval_min):
        raise ConfigError(
            f"expected an integer number of minutes dividing 60 (15, 30, 60); got {interval_min!r}", key
        )
    return int(interval_min)


def local_midnight(date, tz) -> pd.Timestamp:
    """Local midnight of calendar ``date`` in ``tz`` (shifted forward where midnight does not exist)."""
    d = pd.Timestamp(date)
    if d.tzinfo is not None:
        d = d.tz_localize(None)
    return d.normalize().tz_localize(tz, nonexistent="shift_forward", ambiguous=True)


def day_grid(first_day: int, n_days: int, tz, interval_min: int) -> pd.DatetimeIndex:
    """Interval starts covering local days ``first_day .. first_day + n_days - 1`` (days since 1970-01-01)."""
    start = local_midnight(_EPOCH + pd.Timedelta(days=int(first_day)), tz)
    end = local_midnight(_EPOCH + pd.Timedelta(days=int(first_day + n_days)), tz)
    return pd.date_range(start, end, freq=f"{interval_min}min", inclusive="left")


def wall_parts(index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(local day number since 1970-01-01, local minute of day, local weekday Monday=0) of each timestamp."""
    wall = pd.DatetimeIndex(index).tz_localize(None)
    days = np.asarray((wall.normalize() - _EPOCH).days, dtype=np.int64)
    minute = np.asarray(wall.hour * 60 + wall.minute, dtype=np.int64)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    return days, minute, weekday


def day_to_date(day: int) -> dt.date:
    return (_EPOCH + pd.Timedelta(days=int(day))).date()


def as_index(index, key: str = "index") -> pd.DatetimeIndex:
    """A tz-aware DatetimeIndex from ``index`` or from an object with ``.starts`` (e.g. IntervalGrid)."""
    obj = getattr(index, "starts", index)
    if isinstance(obj, pd.Series):
        obj = pd.DatetimeIndex(obj)
    if not isinstance(obj, pd.DatetimeIndex):
        raise ConfigError(
            f"expected a tz-aware pandas DatetimeIndex of interval starts (or an object with .starts); "
            f"got {type(index).__name__}",
            key,
        )
    if obj.tz is None:
        raise ConfigError("expected tz-aware interval starts; got a naive DatetimeIndex", key)
    if obj.hasnans:
        raise ConfigError("expected interval starts without NaT", key)
    return obj


def infer_interval_min(starts: pd.Series | pd.DatetimeIndex, source: str) -> int:
    """The interval length of a table: the smallest positive gap between distinct interval starts."""
    u = np.unique(pd.DatetimeIndex(starts).tz_convert("UTC").tz_localize(None).to_numpy("datetime64[ns]"))
    if u.size < 2:
        raise DataError(f"{source}: column 'interval_start': need at least two distinct interval starts")
    gap_s = float(np.min(np.diff(u)) / np.timedelta64(1, "s"))
    minutes = gap_s / 60.0
    if minutes != int(minutes) or 60 % int(minutes):
        raise DataError(
            f"{source}: column 'interval_start': expected intervals of whole minutes dividing 60; "
            f"the smallest gap between interval starts is {gap_s:g} s"
        )
    return int(minutes)


def check_aligned(starts: pd.DatetimeIndex, interval_min: int, source: str) -> None:
    """Every start must be on the local ``interval_min`` grid (local minute a multiple, zero seconds)."""
    wall = pd.DatetimeIndex(starts).tz_localize(None)
    off = (
        (wall.minute % interval_min != 0)
        | (wall.second != 0)
        | (wall.microsecond != 0)
        | (wall.nanosecond != 0)
    )
    off = np.asarray(off)
    if off.any():
        pos = int(np.flatnonzero(off)[0])
        raise DataError(
            f"{source}: column 'interval_start', row {pos}: expected interval starts on the local "
            f"{interval_min}-minute grid; got {starts[pos]}"
        )


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: a channel needs at least this many rows before its starts lying on a coarser grid than the table's
#: interval count as evidence of a longer interval (a channel of the finer interval puts each row on the
#: coarser grid with probability <= 1/2, so all of them with probability <= 2**-20 ~ 1e-6).
MIN_ROWS_COARSE = 20


def check_channel_intervals(
    starts: pd.DatetimeIndex, channel: np.ndarray, interval_min: int, source: str
) -> None:
    """Raise a DataError naming the channel when a channel's rows all lie on a coarser local grid than
    ``interval_min`` (e.g. a 30-minute channel in a table with a 15-minute one): its rows would otherwise be
    read as every other 15-minute interval, with zero arrivals between. Channels with fewer than
    :data:`MIN_ROWS_COARSE` rows are not judged (too few rows to tell)."""
    wall = pd.DatetimeIndex(starts).tz_localize(None)
    minute = np.asarray(wall.hour * 60 + wall.minute, dtype=np.int64)
    divisors = (60, 30, 20, 15, 12, 10, 6, 5, 4, 3, 2)
    coarser = [g for g in divisors if g > interval_min and g % interval_min == 0]
    if not coarser:
        return
    for c in sorted(set(channel.tolist())):
        m = minute[channel == c]
        if m.size < MIN_ROWS_COARSE:
            continue
        for g in coarser:
            if (m % g == 0).all():
                raise DataError(
                    f"{source}: channel {c!r}: every one of its {m.size} interval starts is on the "
                    f"{g}-minute grid, while the table has {interval_min}-minute intervals; expected one "
                    f"interval length for all channels (aggregate the finer channels to {g} minutes, or "
                    f"give the {c!r} rows on the {interval_min}-minute grid, zeros included)"
                )
