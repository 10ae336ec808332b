"""The Forecast and history tables: column names and validation.

A **Forecast** is a DataFrame with one row per ``(channel, interval_start)`` and the columns of
:data:`FORECAST_COLUMNS`: ``volume`` (expected arrivals in the interval), ``aht_s`` (mean handle time in
seconds), and the gamma shapes ``shape_day`` and ``shape_interval`` of the doubly stochastic Poisson arrival
model: arrivals in interval t of local day d are Poisson(volume_t * G_d * H_t) with
G_d ~ Gamma(shape_day, scale=1/shape_day) and H_t ~ Gamma(shape_interval, scale=1/shape_interval), all
independent; ``inf`` means the multiplier is exactly 1. Extra columns (e.g. quantiles) are allowed.

A **history** table has the columns of :data:`HISTORY_COLUMNS`: observed arrivals per interval and the
mean handle time of the interval (NaN where nothing was handled).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.errors import DataError

FORECAST_COLUMNS = ("channel", "interval_start", "volume", "aht_s", "shape_day", "shape_interval")
HISTORY_COLUMNS = ("channel", "interval_start", "volume", "aht_s")


def plain(value):
    """A numpy scalar as a Python value, so that messages read ``12`` and not ``np.int64(12)``."""
    return value.item() if isinstance(value, np.generic) else value


def _row_label(df: pd.DataFrame, pos: int) -> str:
    return f"row {plain(df.index[pos])!r}"


def _check_frame(df, source: str, columns: tuple[str, ...]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataError(
            f"{source}: expected a pandas DataFrame with columns {list(columns)}; got {type(df).__name__}"
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; expected columns {list(columns)}")
    if df.columns.duplicated().any():
        raise DataError(
            f"{source}: duplicated column names {sorted(set(df.columns[df.columns.duplicated()]))}"
        )


def _check_channel(df: pd.DataFrame, source: str) -> None:
    ch = df["channel"]
    if not (pd.api.types.is_object_dtype(ch) or pd.api.types.is_string_dtype(ch)):
        raise DataError(f"{source}: column 'channel': expected strings (channel names); got dtype {ch.dtype}")
    bad = ~ch.map(lambda v: isinstance(v, str) and v != "").to_numpy(bool)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{source}: column 'channel', {_row_label(df, pos)}: expected a non-empty channel name; "
            f"got {plain(ch.iloc[pos])!r}"
        )


def _check_start(df: pd.DataFrame, source: str) -> None:
    ts = df["interval_start"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise DataError(
            f"{source}: column 'interval_start': expected tz-aware timestamps (datetime64[ns, tz]); "
            f"got dtype {ts.dtype}"
        )
    nat = ts.isna().to_numpy()
    if nat.any():
        pos = int(np.flatnonzero(nat)[0])
        raise DataError(
            f"{source}: column 'interval_start', {_row_label(df, pos)}: expected a timestamp; got NaT"
        )


def _numeric(df: pd.DataFrame, col: str, source: str) -> np.ndarray:
    s = df[col]
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        raise DataError(f"{source}: column '{col}': expected numbers; got dtype {s.dtype}")
    return s.to_numpy(dtype=float, na_value=np.nan)


def _fail_where(df, bad: np.ndarray, source: str, col: str, expected: str) -> None:
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{source}: column '{col}', {_row_label(df, pos)}: expected {expected}; "
            f"got {plain(df[col].iloc[pos])!r} "
            f"({int(bad.sum())} bad row(s) in all)"
        )


def _check_duplicates(df: pd.DataFrame, source: str) -> None:
    dup = df.duplicated(["channel", "interval_start"], keep=False).to_numpy()
    if dup.any():
        pos = np.flatnonzero(dup)
        first = df.iloc[pos[0]]
        same = pos[
            (df["channel"].iloc[pos] == first["channel"]).to_numpy()
            & (df["interval_start"].iloc[pos] == first["interval_start"]).to_numpy()
        ]
        raise DataError(
            f"{source}: columns 'channel', 'interval_start': expected one row per (channel, interval_start); "
            f"rows {[plain(df.index[i]) for i in same]} "
            f"all have ({first['channel']!r}, {first['interval_start']})"
        )


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["channel", "interval_start"], kind="stable").reset_index(drop=True)


def validate_forecast(df: pd.DataFrame, source: str = "forecast") -> pd.DataFrame:
    """Check that ``df`` is a Forecast; return it sorted by channel, interval_start with a fresh RangeIndex.

    Checks: the columns of :data:`FORECAST_COLUMNS` are present; ``channel`` holds non-empty strings;
    ``interval_start`` is tz-aware without NaT; ``volume`` finite and >= 0; ``aht_s`` finite and > 0;
    ``shape_day`` and ``shape_interval`` > 0 (``inf`` allowed, NaN not); no duplicate
    ``(channel, interval_start)``. Raises :class:`DataError` naming ``source``, the column and the row label.
    """
    _check_frame(df, source, FORECAST_COLUMNS)
    _check_channel(df, source)
    _check_start(df, source)
    vol = _numeric(df, "volume", source)
    _fail_where(df, ~(np.isfinite(vol) & (vol >= 0)), source, "volume", "a finite number >= 0")
    aht = _numeric(df, "aht_s", source)
    _fail_where(df, ~(np.isfinite(aht) & (aht > 0)), source, "aht_s", "a finite number of seconds > 0")
    for col in ("shape_day", "shape_interval"):
        v = _numeric(df, col, source)
        _fail_where(df, ~(v > 0), source, col, "a gamma shape > 0 (inf for no extra variance)")
    _check_duplicates(df, source)
    out = df.copy()
    for col in ("volume", "aht_s", "shape_day", "shape_interval"):
        out[col] = out[col].astype(float)
    return _sorted(out)


def validate_history(df: pd.DataFrame, source: str = "history") -> pd.DataFrame:
    """Check that ``df`` is a history table (:data:`HISTORY_COLUMNS`) and return it sorted, fresh index.

    ``volume`` must be finite and >= 0; ``aht_s`` may be NaN (no contact handled) but otherwise > 0.
    """
    _check_frame(df, source, HISTORY_COLUMNS)
    _check_channel(df, source)
    _check_start(df, source)
    vol = _numeric(df, "volume", source)
    _fail_where(df, ~(np.isfinite(vol) & (vol >= 0)), source, "volume", "a finite number >= 0")
    aht = _numeric(df, "aht_s", source)
    _fail_where(df, ~(np.isnan(aht) | (np.isfinite(aht) & (aht > 0))), source, "aht_s", "seconds > 0 or NaN")
    _check_duplicates(df, source)
    out = df[list(HISTORY_COLUMNS)].copy()
    out["volume"] = vol
    out["aht_s"] = aht
    return _sorted(out)
