"""The "Anonymous Bank" call log (Israel, February 1999) as real contact history.

Source: the Service Enterprise Engineering lab of the Technion (Mandelbaum, Sakov and Zeltyn, "Empirical
Analysis of a Call Center", 2000); the raw file (``anonymous_bank_1999_02.tsv``, one row per call) lives
outside the package (``../shared/data`` next to the repository, or the path in the environment variable
:data:`RAW_ENV`). It is read through the mapping ``conf/data/bank_1999_02.yaml`` alone (see that file for
the arrival, outcome and queueing definitions); nothing here is specific to the bank except file names.

The package ships what is derived from it (``forecast/data``, see its README): per call type and 15-minute
interval the offered, answered and abandoned calls, mean handle and wait (:func:`bank_stats`,
:func:`bank_history`), and patience estimates per call type (:func:`bank_patience`,
:func:`bank_patience_samples`). No agent names are in them. Regenerate them with
``python -m forecast.bank [RAW_PATH] [OUT_DIR]`` (:func:`derive_bank_intervals`,
:func:`derive_bank_patience`).
"""

from __future__ import annotations

import importlib.resources
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.contacts import STATS_COLUMNS, contact_stats, load_mapping, read_contacts
from forecast.errors import DataError
from forecast.io import load_intervals
from forecast.patience import kaplan_meier_patience, km_quantiles, patience_table, queued_sample

#: environment variable naming the raw log (overrides the default location next to the repository).
RAW_ENV = "WFMLAB_BANK_RAW"
RAW_NAME = "anonymous_bank_1999_02.tsv"
MAPPING_NAME = "bank_1999_02.yaml"
INTERVALS_NAME = "bank_1999_02_intervals.csv"
PATIENCE_NAME = "bank_1999_02_patience.csv"
PATIENCE_SAMPLES_NAME = "bank_1999_02_patience_samples.csv"
TZ = "Asia/Jerusalem"
#: probabilities of the KM quantiles in the patience summary.
PATIENCE_PROBS = (0.1, 0.25, 0.5, 0.75, 0.9)
#: number of equal-probability patience values per call type in the samples file.
PATIENCE_SAMPLES = 100


def raw_path() -> Path | None:
    """The raw log: ``$WFMLAB_BANK_RAW`` if set, else ``<repo>/../shared/data/anonymous_bank_1999_02.tsv``;
    None when the file is not there."""
    env = os.environ.get(RAW_ENV)
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data" / RAW_NAME
    return path if path.is_file() else None


def _require_raw(path) -> Path:
    path = raw_path() if path is None else Path(path)
    if path is None or not path.is_file():
        raise DataError(
            f"{path or RAW_NAME}: file not found (the raw bank log; set {RAW_ENV} "
            "or put it in ../shared/data)"
        )
    return path


def bank_mapping() -> dict:
    """The loader mapping of the raw log (``conf/data/bank_1999_02.yaml``) as a dict."""
    ref = importlib.resources.files("conf").joinpath("data", MAPPING_NAME)
    with importlib.resources.as_file(ref) as path:
        return load_mapping(path)


def read_bank_contacts(path=None, **options) -> pd.DataFrame:
    """The raw log as contacts (:func:`forecast.contacts.read_contacts` with :func:`bank_mapping`);
    ``options`` are further read_contacts arguments (e.g. ``agents=True`` for pseudonymised agents)."""
    return read_contacts(_require_raw(path), **(bank_mapping() | options))


def _write_csv(df: pd.DataFrame, out_path, decimals: dict[str, int] | None = None) -> None:
    """Write whole (to a temporary name, then rename); the columns of ``decimals`` with that many decimals,
    NaN as empty."""
    out = df.copy()
    for col, k in (decimals or {}).items():
        out[col] = [("" if np.isnan(v) else f"{v:.{k}f}") for v in out[col].to_numpy(float)]
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    out.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(out_path)


def derive_bank_intervals(raw_path, out_path, *, interval_min: int = 15) -> pd.DataFrame:
    """Aggregate the raw log to ``out_path`` (CSV) per call type and ``interval_min`` interval.

    Columns: ``interval_start`` (ISO 8601 with the UTC offset), ``channel`` (``voice_<type>``),
    ``volume`` (calls offered to the agent queue), ``answered``, ``abandoned`` (after queueing),
    ``abandoned_unqueued`` (hung up in the VRU; not in ``volume``), ``aht_s`` (mean handle time of the
    answered calls), ``wait_s`` (mean wait of the answered calls; 0 for calls taken at once), seconds with
    2 decimals, empty where nothing was answered. Every interval of the 28 local days is present. Returns
    the table written (tz-aware ``interval_start``).
    """
    stats = contact_stats(_require_raw(raw_path), **(bank_mapping() | {"interval_min": interval_min}))
    out = stats[list(STATS_COLUMNS)].copy()
    for col in ("volume", "answered", "abandoned", "abandoned_unqueued"):
        out[col] = out[col].astype(np.int64)
    starts = pd.DatetimeIndex(out["interval_start"])
    text = out.assign(interval_start=[t.isoformat() for t in starts])
    text = text[["interval_start", "channel", *STATS_COLUMNS[2:]]]  # time first: reads like a log
    _write_csv(text, out_path, {"aht_s": 2, "wait_s": 2})
    return out


def derive_bank_patience(raw_path, out_path, samples_path=None, *, n: int = PATIENCE_SAMPLES) -> pd.DataFrame:
    """Patience per call type from the raw log (queued calls only; see :mod:`forecast.patience`).

    ``out_path`` gets :func:`forecast.patience.patience_table` with the KM quantiles at
    :data:`PATIENCE_PROBS` (seconds with 2 decimals, survival with 4); ``samples_path`` (optional) gets
    ``n`` equal-probability patience values per call type (:func:`forecast.patience.km_quantiles`):
    columns ``channel``, ``i`` (1..n), ``p`` (= (i - 0.5) / n), ``patience_s``. Returns the summary table.
    """
    contacts = read_bank_contacts(raw_path)
    table = patience_table(contacts, probs=PATIENCE_PROBS)
    decimals = {c: 2 for c in table.columns if c.endswith("_s")} | {"km_survival_at_tail": 4}
    _write_csv(table, out_path, decimals)
    if samples_path is not None:
        frames = []
        for channel, g in contacts.groupby("channel", sort=True):
            values = km_quantiles(kaplan_meier_patience(*queued_sample(g)), n)
            i = np.arange(1, n + 1)
            frames.append(
                pd.DataFrame({"channel": channel, "i": i, "p": (i - 0.5) / n, "patience_s": values})
            )
        samples = pd.concat(frames, ignore_index=True)
        _write_csv(samples, samples_path, {"p": 4, "patience_s": 2})
    return table


def _data(name: str) -> pd.DataFrame:
    ref = importlib.resources.files("forecast").joinpath("data", name)
    with importlib.resources.as_file(ref) as path:
        return pd.read_csv(path, keep_default_na=False, na_values=[""])


def bank_history() -> pd.DataFrame:
    """The shipped per-interval table as a history (:data:`forecast.frame.HISTORY_COLUMNS`: channel,
    interval_start in Asia/Jerusalem, volume offered, aht_s); runs without the raw file."""
    ref = importlib.resources.files("forecast").joinpath("data", INTERVALS_NAME)
    with importlib.resources.as_file(ref) as path:
        return load_intervals(path, tz=TZ, time_format="ISO8601")


def bank_stats() -> pd.DataFrame:
    """The shipped per-interval table with all its columns (``interval_start`` tz-aware, Asia/Jerusalem),
    sorted by channel and interval."""
    df = _data(INTERVALS_NAME)
    df["interval_start"] = pd.to_datetime(df["interval_start"], format="ISO8601").dt.tz_convert(TZ)
    return df.sort_values(["channel", "interval_start"], kind="stable").reset_index(drop=True)


def bank_patience() -> pd.DataFrame:
    """The shipped patience summary per call type (see :func:`derive_bank_patience`)."""
    return _data(PATIENCE_NAME)


def bank_patience_samples(channel: str) -> tuple[float, ...]:
    """The shipped equal-probability patience values (seconds) of one call type, e.g. ``"voice_PS"``: give
    them to a voice Channel as ``patience_dist="empirical", patience_samples=...`` with
    ``patience_s`` = the ``km_mean_s`` of :func:`bank_patience`."""
    df = _data(PATIENCE_SAMPLES_NAME)
    sel = df[df["channel"] == channel]
    if sel.empty:
        raise DataError(
            f"{PATIENCE_SAMPLES_NAME}: column 'channel': no rows for {channel!r}; "
            f"expected one of {sorted(df['channel'].unique())}"
        )
    return tuple(sel.sort_values("i")["patience_s"].astype(float))


def main(argv: list[str] | None = None) -> None:
    """``python -m forecast.bank [RAW_PATH] [OUT_DIR]``: regenerate the shipped files."""
    argv = sys.argv[1:] if argv is None else argv
    raw = _require_raw(argv[0] if argv else None)
    out_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "data"
    derive_bank_intervals(raw, out_dir / INTERVALS_NAME)
    derive_bank_patience(raw, out_dir / PATIENCE_NAME, out_dir / PATIENCE_SAMPLES_NAME)
    print(f"wrote {INTERVALS_NAME}, {PATIENCE_NAME}, {PATIENCE_SAMPLES_NAME} to {out_dir}")


if __name__ == "__main__":
    main()
