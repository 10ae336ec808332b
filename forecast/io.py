"""Loading contact history from files: interval tables and one-row-per-contact logs (CSV or Parquet).

Errors name the file, the column and the row. Rows are numbered as in the file: for a CSV the header is
line 1, so the first data row is row 2; for a Parquet file the first row is row 1.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from forecast._calendar import check_interval_min, day_grid, wall_parts
from forecast.errors import ConfigError, DataError
from forecast.frame import HISTORY_COLUMNS, plain

_INTERVAL_DEFAULTS = {
    "timestamp": "interval_start",
    "channel": "channel",
    "volume": "volume",
    "aht_s": "aht_s",
}
_CONTACT_DEFAULTS = {
    "arrival": "arrival",
    "channel": "channel",
    "handle_s": "handle_s",
    "outcome": "outcome",
    "wait_s": "wait_s",
}
#: outcome values (case-insensitive, stripped) that mark an abandoned contact; every other outcome is
#: treated as answered.
ABANDONED_OUTCOMES = frozenset({"abandoned", "abandon", "abandonment"})


class _Table:
    """A file read as strings (CSV) or native types (Parquet), with row numbering for messages."""

    def __init__(self, path, sep: str | None = None):
        self.path = Path(path)
        self.name = str(path)
        if not self.path.is_file():
            raise DataError(f"{self.name}: file not found")
        suffixes = "".join(self.path.suffixes[-2:]).lower()
        try:
            if self.path.suffix.lower() in (".parquet", ".pq"):
                self.df = pd.read_parquet(self.path)
                self.first_row = 1
            elif self.path.suffix.lower() in (".csv", ".txt", ".tsv") or suffixes in (".csv.gz", ".csv.zip"):
                if sep is None:
                    sep = "\t" if self.path.suffix.lower() == ".tsv" else self._sniff()
                self.df = pd.read_csv(self.path, sep=sep, dtype=str, keep_default_na=False, na_values=[""])
                self.first_row = 2
            else:
                raise DataError(f"{self.name}: expected a .csv, .csv.gz, .tsv or .parquet file")
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - any reader failure is a data error naming the file
            raise DataError(f"{self.name}: cannot read the file ({type(exc).__name__}: {exc})") from None

    def _sniff(self) -> str:
        try:
            with open(self.path, newline="", encoding="utf-8", errors="replace") as fh:
                head = fh.readline()
            return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
        except (csv.Error, OSError):
            return ","

    def row(self, pos: int) -> int:
        return int(pos) + self.first_row

    def fail(self, col: str, pos: int, expected: str, value, count: int = 1) -> DataError:
        more = f" ({count} bad rows in all)" if count > 1 else ""
        return DataError(
            f"{self.name}: column '{col}', row {self.row(pos)}: expected {expected}; "
            f"got {plain(value)!r}{more}"
        )

    def resolve(self, columns: Mapping[str, str] | None, defaults: dict, required: tuple) -> dict:
        """logical name -> file column for the columns present (required ones must be present)."""
        if columns is not None and not isinstance(columns, Mapping):
            raise ConfigError(
                f"expected a mapping of logical name -> file column; got {columns!r}", "columns"
            )
        columns = dict(columns or {})
        unknown = sorted(set(columns) - set(defaults))
        if unknown:
            raise ConfigError(
                f"unknown logical column(s) {unknown}; expected some of {sorted(defaults)}", "columns"
            )
        out = {}
        for logical, default in defaults.items():
            col = columns.get(logical, default)
            if col in self.df.columns:
                out[logical] = col
            elif logical in required or logical in columns:
                raise DataError(
                    f"{self.name}: missing column '{col}' (the {logical!r} column); "
                    f"the file has columns {list(map(str, self.df.columns))}"
                )
        return out

    # -- typed columns -----------------------------------------------------------------------------------
    def strings(self, col: str) -> pd.Series:
        s = self.df[col]
        missing = s.isna().to_numpy()
        if missing.any():
            pos = int(np.flatnonzero(missing)[0])
            raise self.fail(col, pos, "a non-empty value", None, int(missing.sum()))
        return s.astype(str).str.strip()

    def numbers(self, col: str, *, allow_missing: bool, what: str = "a number >= 0") -> np.ndarray:
        raw = self.df[col]
        if pd.api.types.is_bool_dtype(raw):
            raise DataError(f"{self.name}: column '{col}': expected numbers; got booleans")
        vals = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        given = raw.notna().to_numpy()
        bad = (given & ~np.isfinite(vals)) | (~given & (not allow_missing)) | (np.isfinite(vals) & (vals < 0))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise self.fail(col, pos, what, None if pd.isna(raw.iloc[pos]) else raw.iloc[pos], int(bad.sum()))
        return vals

    def timestamps(self, col: str, tz, time_format: str | None) -> pd.Series:
        raw = self.df[col]
        empty = raw.isna().to_numpy()
        if empty.any():
            pos = int(np.flatnonzero(empty)[0])
            raise self.fail(col, pos, "a timestamp", None, int(empty.sum()))
        if pd.api.types.is_datetime64_any_dtype(raw):
            ts = raw
        else:
            ts = None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    ts = pd.to_datetime(raw, format=time_format, errors="coerce")
                except (ValueError, TypeError):
                    ts = None
                if ts is None or not pd.api.types.is_datetime64_any_dtype(ts):
                    # mixed UTC offsets: parse to UTC (each string carries its own offset)
                    try:
                        ts = pd.to_datetime(raw, format=time_format, errors="coerce", utc=True)
                    except (ValueError, TypeError) as exc:
                        raise DataError(
                            f"{self.name}: column '{col}': cannot parse timestamps "
                            f"with format {time_format!r} "
                            f"({exc})"
                        ) from None
            bad = ts.isna().to_numpy()
            if bad.any():
                pos = int(np.flatnonzero(bad)[0])
                fmt = f"format {time_format!r}" if time_format else "the format of the first row"
                raise self.fail(col, pos, f"a timestamp in {fmt}", raw.iloc[pos], int(bad.sum()))
        try:
            if isinstance(ts.dtype, pd.DatetimeTZDtype):
                return ts.dt.tz_convert(tz)
            local = ts.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        except Exception as exc:  # noqa: BLE001 - a bad tz name
            raise ConfigError(f"expected a valid time zone; got {tz!r} ({exc})", "tz") from None
        bad = local.isna().to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise self.fail(
                col,
                pos,
                f"a local time that exists exactly once in {tz} (this one is ambiguous or skipped by a DST "
                "change; give timestamps with a UTC offset)",
                raw.iloc[pos],
                int(bad.sum()),
            )
        return local


def _check_tz(tz) -> None:
    try:
        pd.Timestamp("2000-01-01").tz_localize(tz)
    except Exception as exc:  # noqa: BLE001
        raise ConfigError(f"expected a valid time zone; got {tz!r} ({exc})", "tz") from None


def load_intervals(
    path, *, columns: Mapping[str, str] | None = None, tz="UTC", time_format: str | None = None
):
    """Read an interval table (CSV or Parquet, by suffix) into a history DataFrame (:data:`HISTORY_COLUMNS`).

    ``columns`` maps logical names to file columns; logical names and defaults: ``timestamp``
    ("interval_start"), ``channel``, ``volume``, ``aht_s`` (optional; NaN when absent). Naive timestamps
    are local times in ``tz`` (an ambiguous or skipped DST time is an error naming its row); timestamps with
    an offset are converted to ``tz``. ``time_format`` is a ``pd.to_datetime`` format (default: inferred
    from the first row; "ISO8601" and "mixed" are accepted). ``aht_s`` of 0 with volume 0 becomes NaN.
    """
    _check_tz(tz)
    t = _Table(path)
    cols = t.resolve(columns, _INTERVAL_DEFAULTS, ("timestamp", "channel", "volume"))
    ts = t.timestamps(cols["timestamp"], tz, time_format)
    channel = t.strings(cols["channel"])
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


def _floor_local(ts: pd.Series, interval_min: int) -> pd.DatetimeIndex:
    """Start of the local ``interval_min`` interval holding each tz-aware timestamp (DST-safe: the UTC offset
    is constant inside an interval because the interval divides the hour)."""
    idx = pd.DatetimeIndex(ts)
    wall = idx.tz_localize(None)
    utc = idx.tz_convert("UTC").tz_localize(None)
    offset = wall - utc
    start_wall = wall.floor(f"{interval_min}min")
    return (start_wall - offset).tz_localize("UTC").tz_convert(idx.tz)


def contact_stats(
    path,
    *,
    columns: Mapping[str, str] | None = None,
    tz="UTC",
    interval_min: int = 15,
    time_format: str | None = None,
    channel_map: Mapping[str, str] | None = None,
    sep: str | None = None,
) -> pd.DataFrame:
    """Aggregate a contact log (one row per contact) to per-interval statistics.

    Logical columns (``columns`` maps them to file columns; defaults are the logical names): ``arrival``
    (timestamp), ``channel``, and optionally ``handle_s``, ``outcome``, ``wait_s``. ``channel_map`` maps raw
    channel values (after stripping) to channel names; a ``"*"`` key is the default for unmapped values,
    otherwise unmapped values are an error listing them. An outcome in :data:`ABANDONED_OUTCOMES`
    (case-insensitive) marks an abandoned contact; any other outcome counts as answered.

    Returns one row per channel and interval of the local days from the first to the last arrival (intervals
    without contacts get 0): ``channel, interval_start, volume`` (all arrivals), ``answered``, ``abandoned``,
    ``aht_s`` (mean ``handle_s`` of answered contacts with ``handle_s > 0``; NaN if none), ``wait_s`` (mean
    wait of answered contacts with a wait given; NaN if none).
    """
    interval_min = check_interval_min(interval_min)
    _check_tz(tz)
    if channel_map is not None and not isinstance(channel_map, Mapping):
        raise ConfigError(f"expected a mapping raw value -> channel name; got {channel_map!r}", "channel_map")
    t = _Table(path, sep=sep)
    cols = t.resolve(columns, _CONTACT_DEFAULTS, ("arrival", "channel"))
    arrival = t.timestamps(cols["arrival"], tz, time_format)
    raw_channel = t.strings(cols["channel"])
    if channel_map is not None:
        mapping = {str(k).strip(): str(v) for k, v in channel_map.items()}
        default = mapping.pop("*", None)
        channel = raw_channel.map(mapping)
        unmapped = channel.isna().to_numpy()
        if unmapped.any():
            if default is None:
                values = sorted(set(raw_channel[unmapped]))
                pos = int(np.flatnonzero(unmapped)[0])
                raise DataError(
                    f"{t.name}: column '{cols['channel']}', row {t.row(pos)}: value(s) {values[:20]} "
                    f"are not in "
                    f"channel_map (keys {sorted(mapping)[:20]}); add them or a '*' default"
                )
            channel = channel.fillna(default)
    else:
        channel = raw_channel
    n = len(t.df)
    handle = (
        t.numbers(cols["handle_s"], allow_missing=True, what="handle seconds >= 0 (or empty)")
        if "handle_s" in cols
        else np.full(n, np.nan)
    )
    wait = (
        t.numbers(cols["wait_s"], allow_missing=True, what="wait seconds >= 0 (or empty)")
        if "wait_s" in cols
        else np.full(n, np.nan)
    )
    if "outcome" in cols:
        outcome = t.df[cols["outcome"]].fillna("").astype(str).str.strip().str.lower()
        abandoned = outcome.isin(ABANDONED_OUTCOMES).to_numpy()
    else:
        abandoned = np.zeros(n, dtype=bool)
    answered = ~abandoned
    if n == 0:
        raise DataError(f"{t.name}: no contacts (the file has no data rows)")
    start = _floor_local(arrival, interval_min)
    day, _, _ = wall_parts(start)
    grid = day_grid(int(day.min()), int(day.max() - day.min() + 1), start.tz, interval_min)
    pos = grid.get_indexer(start)
    if (pos < 0).any():  # cannot happen for intervals dividing the hour; guard against odd offsets
        bad = int(np.flatnonzero(pos < 0)[0])
        raise t.fail(
            cols["arrival"], bad, f"a time on the local {interval_min}-minute grid", arrival.iloc[bad]
        )
    names = sorted(set(channel.tolist()))
    code = pd.Categorical(channel, categories=names).codes
    g = len(grid)
    key = code.astype(np.int64) * g + pos
    size = len(names) * g

    def count(mask):
        return np.bincount(key[mask], minlength=size).astype(float)

    def total(mask, values):
        return np.bincount(key[mask], weights=values[mask], minlength=size)

    volume = count(np.ones(n, dtype=bool))
    n_ans = count(answered)
    n_ab = count(abandoned)
    timed = answered & (handle > 0)
    n_h = count(timed)
    aht = np.divide(total(timed, handle), n_h, out=np.full(size, np.nan), where=n_h > 0)
    waited = answered & np.isfinite(wait)
    n_w = count(waited)
    mean_wait = np.divide(total(waited, wait), n_w, out=np.full(size, np.nan), where=n_w > 0)
    return pd.DataFrame(
        {
            "channel": np.repeat(np.array(names, dtype=object), g),
            "interval_start": pd.DatetimeIndex(np.tile(grid, len(names))) if names else grid[:0],
            "volume": volume,
            "answered": n_ans,
            "abandoned": n_ab,
            "aht_s": aht,
            "wait_s": mean_wait,
        }
    )


def load_contacts(
    path,
    *,
    columns: Mapping[str, str] | None = None,
    tz="UTC",
    interval_min: int = 15,
    time_format: str | None = None,
    channel_map: Mapping[str, str] | None = None,
    sep: str | None = None,
) -> pd.DataFrame:
    """A history table (:data:`HISTORY_COLUMNS`) from a contact log; see :func:`contact_stats` for the
    arguments and rules (the abandoned and answered counts are in ``contact_stats``)."""
    stats = contact_stats(
        path,
        columns=columns,
        tz=tz,
        interval_min=interval_min,
        time_format=time_format,
        channel_map=channel_map,
        sep=sep,
    )
    return stats[list(HISTORY_COLUMNS)].copy()
