"""A file read for validation, with row numbering for error messages (private; used by io and contacts).

Rows are numbered as in the file: for a CSV the header is line 1, so the first data row is row 2; for a
Parquet file the first row is row 1.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.errors import ConfigError, DataError
from forecast.frame import plain

#: how a local time that occurs twice (the hour repeated when DST ends) is read: "raise" (an error naming
#: the row), "earlier" (the first occurrence, still on summer time), "later" (the second one), or "infer"
#: (for a log in time order: summer time until the wall clock goes back in the file order, standard time
#: from there on; an error naming the row when the order does not tell, e.g. no repeated time at all).
AMBIGUOUS = {"raise": "NaT", "earlier": True, "later": False, "infer": "infer"}


def check_tz(tz) -> None:
    try:
        pd.Timestamp("2000-01-01").tz_localize(tz)
    except Exception as exc:  # noqa: BLE001
        raise ConfigError(f"expected a valid time zone; got {tz!r} ({exc})", "tz") from None


def check_ambiguous(ambiguous) -> str:
    if ambiguous not in AMBIGUOUS:
        raise ConfigError(f"expected one of {sorted(AMBIGUOUS)}; got {ambiguous!r}", "ambiguous")
    return ambiguous


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
                if len(sep) == 1:  # a regular-expression separator is left to pandas
                    self._check_fields(sep)
                # index_col=False: a row with an extra field must never turn the first column into the index
                self.df = pd.read_csv(
                    self.path, sep=sep, dtype=str, keep_default_na=False, na_values=[""], index_col=False
                )
                self.first_row = 2
            else:
                raise DataError(f"{self.name}: expected a .csv, .csv.gz, .tsv or .parquet file")
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - any reader failure is a data error naming the file
            raise DataError(f"{self.name}: cannot read the file ({type(exc).__name__}: {exc})") from None
        self.df = self.df.reset_index(drop=True)

    @contextlib.contextmanager
    def _open_text(self):
        """The file as text (gzip- or zip-compressed CSVs decompressed), for the checks pandas does not do."""
        suffix = self.path.suffix.lower()
        text = {"encoding": "utf-8-sig", "errors": "replace", "newline": ""}
        if suffix == ".gz":
            with gzip.open(self.path, "rt", **text) as fh:
                yield fh
        elif suffix == ".zip":
            with zipfile.ZipFile(self.path) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
                if len(names) != 1:
                    raise DataError(
                        f"{self.name}: expected a zip archive holding one CSV file; got {names[:5]}"
                    )
                with archive.open(names[0]) as raw, io.TextIOWrapper(raw, **text) as fh:
                    yield fh
        else:
            with open(self.path, **text) as fh:
                yield fh

    def _check_fields(self, sep: str) -> None:
        """Every non-blank line has as many fields as the header, or a DataError names the first line that
        has not (counted as in the file: the header is line 1). pandas would otherwise drop the extra
        field, fill a missing one with NaN, or read the first column as the index."""
        with self._open_text() as fh:
            reader = csv.reader(fh, delimiter=sep)
            header = next(reader, None)
            if header is None:
                return
            n = len(header)
            bad, first = 0, None
            for fields in reader:
                if fields and len(fields) != n:
                    bad += 1
                    if first is None:
                        first = (reader.line_num, len(fields), sep.join(fields))
            if first is not None:
                line, got, text = first
                more = f" ({bad} such rows in all)" if bad > 1 else ""
                raise DataError(
                    f"{self.name}: row {line}: expected {n} fields separated by {sep!r} (as in the header); "
                    f"got {got}: {text[:120]!r}{more}"
                )

    def _sniff(self) -> str:
        try:
            with open(self.path, newline="", encoding="utf-8", errors="replace") as fh:
                head = fh.readline()
            return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
        except (csv.Error, OSError):
            return ","

    def row(self, pos: int) -> int:
        """The file row of position ``pos`` of :attr:`df` (rows removed by :meth:`keep` keep theirs)."""
        return int(self.df.index[pos]) + self.first_row

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the rows where ``mask`` holds; later messages still name the file rows."""
        self.df = self.df[np.asarray(mask, dtype=bool)]

    def fail(self, col: str, pos: int, expected: str, value, count: int = 1) -> DataError:
        more = f" ({count} bad rows in all)" if count > 1 else ""
        return DataError(
            f"{self.name}: column '{col}', row {self.row(pos)}: expected {expected}; "
            f"got {plain(value)!r}{more}"
        )

    def fail_where(self, col: str, bad: np.ndarray, expected: str) -> None:
        """Raise :meth:`fail` for the first row where ``bad`` holds (nothing if it holds nowhere)."""
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            value = self.df[col].iloc[pos]
            raise self.fail(col, pos, expected, None if pd.isna(value) else value, int(bad.sum()))

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
            if col is None:  # an optional column not asked for (or explicitly unmapped)
                continue
            if col in self.df.columns:
                out[logical] = col
            elif logical in required or logical in columns:
                raise DataError(
                    f"{self.name}: missing column '{col}' (the {logical!r} column); "
                    f"the file has columns {list(map(str, self.df.columns))}"
                )
        return out

    def queues(self, channel: pd.Series, site_col: str | None) -> pd.Series:
        """The queue key: the channel name, or ``<channel>_<site>`` when a site column is given (one queue
        per channel x site; each becomes a channel of the scenario downstream). Site values must be
        letters, digits or ``_`` (they become part of a channel name)."""
        if site_col is None:
            return channel
        site = self.strings(site_col)
        bad = ~site.str.fullmatch(r"[A-Za-z0-9_]+").fillna(False).to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise self.fail(
                site_col, pos, "a site name of letters, digits or _", site.iloc[pos], int(bad.sum())
            )
        return channel.astype(str).str.cat(site.astype(str), sep="_")

    def set_missing(self, na_values: Mapping[str, Iterable[str]] | None) -> None:
        """Treat the given values (after stripping) of each file column as missing (e.g. a "0:00:00" queue
        entry meaning "never queued", or "NO_SERVER")."""
        if na_values is None:
            return
        if not isinstance(na_values, Mapping):
            raise ConfigError(
                f"expected a mapping file column -> list of values; got {na_values!r}", "na_values"
            )
        for col, values in na_values.items():
            if col not in self.df.columns:
                raise DataError(
                    f"{self.name}: missing column '{col}' (named in na_values); "
                    f"the file has columns {list(map(str, self.df.columns))}"
                )
            if isinstance(values, str) or not isinstance(values, Iterable):
                values = [values]
            values = {str(v).strip() for v in values}
            s = self.df[col]
            hit = s.notna() & s.astype(str).str.strip().isin(values)
            if hit.any():
                self.df[col] = s.mask(hit)

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

    def _present(self, col: str, what: str) -> pd.Series:
        raw = self.df[col]
        empty = raw.isna().to_numpy()
        if empty.any():
            pos = int(np.flatnonzero(empty)[0])
            raise self.fail(col, pos, what, None, int(empty.sum()))
        return raw

    def parse_times(self, col: str, time_format: str | None, what: str = "a timestamp") -> pd.Series:
        """The column parsed to datetimes (naive, or tz-aware when the strings carry UTC offsets)."""
        raw = self._present(col, what)
        if pd.api.types.is_datetime64_any_dtype(raw):
            return raw
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
                        f"{self.name}: column '{col}': cannot parse values as {what} "
                        f"with format {time_format!r} ({exc})"
                    ) from None
        bad = ts.isna().to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            fmt = f"format {time_format!r}" if time_format else "the format of the first row"
            raise self.fail(col, pos, f"{what} in {fmt}", raw.iloc[pos], int(bad.sum()))
        return ts

    def clock_seconds(self, col: str, time_format: str) -> np.ndarray:
        """Seconds since midnight of a time-of-day column (e.g. "7:02:47" with format "%H:%M:%S")."""
        ts = self.parse_times(col, time_format, what="a time of day")
        if isinstance(ts.dtype, pd.DatetimeTZDtype):
            raise DataError(f"{self.name}: column '{col}': expected a time of day without a UTC offset")
        return ((ts - ts.dt.normalize()) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)

    def dates(self, col: str, date_format: str | None) -> pd.Series:
        """A calendar-date column as naive midnights."""
        ts = self.parse_times(col, date_format, what="a date")
        if isinstance(ts.dtype, pd.DatetimeTZDtype):
            raise DataError(f"{self.name}: column '{col}': expected a calendar date without a UTC offset")
        not_midnight = (ts != ts.dt.normalize()).to_numpy()
        if not_midnight.any():
            self.fail_where(col, not_midnight, "a calendar date without a time of day")
        return ts

    def localize(self, col: str, ts: pd.Series, tz, ambiguous: str = "raise") -> pd.Series:
        """Naive wall-clock times in ``tz`` -> tz-aware; aware times are converted to ``tz``. A local time
        skipped by a DST change, or repeated by one (unless ``ambiguous`` says which), names its row."""
        check_tz(tz)
        if isinstance(ts.dtype, pd.DatetimeTZDtype):
            return ts.dt.tz_convert(tz)
        how = AMBIGUOUS[ambiguous]
        try:
            local = ts.dt.tz_localize(tz, ambiguous=how, nonexistent="NaT")
        except ValueError as exc:  # "infer" and a repeated hour whose order does not tell which is which
            amb = ts.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").isna().to_numpy()
            gone = ts.dt.tz_localize(tz, ambiguous=True, nonexistent="NaT").isna().to_numpy()
            bad = amb & ~gone
            pos = int(np.flatnonzero(bad)[0]) if bad.any() else 0
            raise self.fail(
                col,
                pos,
                f"local times repeated by the DST change in {tz} in time order, both occurrences present, "
                f"so that ambiguous='infer' can tell summer from standard time ({exc}); sort the log, choose "
                "'earlier' or 'later', or give timestamps with a UTC offset",
                self.df[col].iloc[pos],
                int(bad.sum()),
            ) from None
        bad = local.isna().to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise self.fail(
                col,
                pos,
                f"a local time that exists exactly once in {tz} (this one is ambiguous or skipped by a DST "
                "change; give timestamps with a UTC offset)",
                self.df[col].iloc[pos],
                int(bad.sum()),
            )
        return local

    def timestamps(self, col: str, tz, time_format: str | None, ambiguous: str = "raise") -> pd.Series:
        return self.localize(col, self.parse_times(col, time_format), tz, ambiguous)
