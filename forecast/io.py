"""Loading contact history from files: interval tables and one-row-per-contact logs (CSV or Parquet).

Errors name the file, the column and the row. Rows are numbered as in the file: for a CSV the header is
line 1, so the first data row is row 2; for a Parquet file the first row is row 1.

Interval tables are read here (:func:`load_intervals`); contact logs in :mod:`forecast.contacts`
(:func:`read_contacts`, :func:`contact_stats`, :func:`load_contacts`, :func:`load_mapping`), re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from forecast._calendar import check_interval_min
from forecast._table import _Table, check_tz
from forecast.contacts import (
    ABANDONED_OUTCOMES,
    MAPPING_KEYS,
    contact_stats,
    load_contacts,
    load_mapping,
    read_contacts,
)
from forecast.errors import DataError
from forecast.frame import HISTORY_COLUMNS

__all__ = [
    "ABANDONED_OUTCOMES",
    "MAPPING_KEYS",
    "_Table",
    "contact_stats",
    "load_contacts",
    "load_intervals",
    "load_mapping",
    "read_contacts",
]

_INTERVAL_DEFAULTS = {
    "timestamp": "interval_start",
    "channel": "channel",
    "volume": "volume",
    "aht_s": "aht_s",
    "site": None,
}


def _check_grid(t: _Table, col: str, starts: pd.DatetimeIndex, interval_min: int | None) -> None:
    """The interval starts of a file on the local ``interval_min`` grid (inferred when None), or a DataError
    naming the file row (before the table is sorted, so that the row is the file's)."""
    if interval_min is None:
        utc = starts.tz_convert("UTC").tz_localize(None).to_numpy("datetime64[ns]")
        u, first = np.unique(utc, return_index=True)
        if u.size < 2:
            return
        gaps = np.diff(u) / np.timedelta64(1, "s")
        i = int(np.argmin(gaps))
        minutes = float(gaps[i]) / 60.0
        if minutes != int(minutes) or 60 % int(minutes):
            a, b = sorted((int(first[i]), int(first[i + 1])))
            raise DataError(
                f"{t.name}: column '{col}', rows {t.row(a)} and {t.row(b)}: expected interval starts a whole "
                f"number of minutes dividing 60 apart (15, 30, 60); these are {float(gaps[i]):g} s apart "
                f"({t.df[col].iloc[a]!r}, {t.df[col].iloc[b]!r}), the smallest gap in the file"
            )
        interval_min = int(minutes)
    wall = starts.tz_localize(None)
    off = np.asarray(
        (wall.minute % interval_min != 0)
        | (wall.second != 0)
        | (wall.microsecond != 0)
        | (wall.nanosecond != 0)
    )
    t.fail_where(col, off, f"an interval start on the local {interval_min}-minute grid")


def load_intervals(
    path,
    *,
    columns: Mapping[str, str] | None = None,
    tz="UTC",
    time_format: str | None = None,
    interval_min: int | None = None,
):
    """Read an interval table (CSV or Parquet, by suffix) into a history DataFrame (:data:`HISTORY_COLUMNS`).

    ``columns`` maps logical names to file columns; logical names and defaults: ``timestamp``
    ("interval_start"), ``channel``, ``volume``, ``aht_s`` (optional; NaN when absent), ``site`` (optional:
    the queue is then ``<channel>_<site>``, one per channel x site, e.g. ``voice_berlin``). Naive timestamps
    are local times in ``tz`` (an ambiguous or skipped DST time is an error naming its row); timestamps with
    an offset are converted to ``tz``. ``time_format`` is a ``pd.to_datetime`` format (default: inferred
    from the first row; "ISO8601" and "mixed" are accepted). ``aht_s`` of 0 with volume 0 becomes NaN.
    Every timestamp must start an interval on the local ``interval_min`` grid (default: the smallest gap
    between the file's distinct timestamps, which must be whole minutes dividing 60); an error names the
    file row. A row with more or fewer fields than the header is an error naming its row.
    """
    check_tz(tz)
    imin = None if interval_min is None else check_interval_min(interval_min)
    t = _Table(path)
    cols = t.resolve(columns, _INTERVAL_DEFAULTS, ("timestamp", "channel", "volume"))
    ts = t.timestamps(cols["timestamp"], tz, time_format)
    _check_grid(t, cols["timestamp"], pd.DatetimeIndex(ts), imin)
    channel = t.queues(t.strings(cols["channel"]), cols.get("site"))
    vol = t.numbers(cols["volume"], allow_missing=False, what="a number of contacts >= 0")
    if "aht_s" in cols:
        aht = t.numbers(cols["aht_s"], allow_missing=True, what="handle seconds >= 0 (or empty)")
        zero = (aht == 0) & (vol > 0)
        if zero.any():
            pos = int(np.flatnonzero(zero)[0])
            raise t.fail(
                cols["aht_s"], pos, "handle seconds > 0 where volume > 0", t.df[cols["aht_s"]].iloc[pos]
            )
        aht = np.where(aht == 0, np.nan, aht)
    else:
        aht = np.full(len(vol), np.nan)
    out = pd.DataFrame(
        {"channel": channel.to_numpy(), "interval_start": ts.to_numpy(), "volume": vol, "aht_s": aht}
    )
    out["interval_start"] = pd.DatetimeIndex(ts)
    dup = out.duplicated(["channel", "interval_start"], keep=False).to_numpy()
    if dup.any():
        pos = np.flatnonzero(dup)
        key = out.iloc[pos[0]]
        same = pos[
            (out["channel"].iloc[pos] == key["channel"]).to_numpy()
            & (out["interval_start"].iloc[pos] == key["interval_start"]).to_numpy()
        ]
        raise DataError(
            f"{t.name}: columns '{cols['channel']}', '{cols['timestamp']}': expected one row per channel and "
            f"interval; rows {[t.row(i) for i in same]} "
            f"all have ({key['channel']!r}, {key['interval_start']})"
        )
    return out.sort_values(["channel", "interval_start"], kind="stable").reset_index(drop=True)[
        list(HISTORY_COLUMNS)
    ]
