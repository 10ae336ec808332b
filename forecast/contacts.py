"""Contact logs (one row per contact) described by a mapping, read into contacts and per-interval statistics.

Everything specific to a source lives in a *mapping*: a plain dict (or a YAML file read by
:func:`load_mapping`) whose keys are the keyword arguments of :func:`read_contacts` listed in
:data:`MAPPING_KEYS`, so that ``contact_stats(path, **load_mapping("conf/data/x.yaml"))`` reads a new
source without code. The logical columns (``columns`` maps them to file columns):

- ``arrival``: when the contact joined the queue whose staffing is planned (for a telephone log with a
  voice-response unit: when the call left the VRU and asked for an agent). A full timestamp, or, when
  ``date`` is mapped, a time of day;
- ``date`` (optional): the calendar date of a time-of-day ``arrival``; ``date_anchor`` (optional): the
  time-of-day column whose calendar date ``date`` holds (e.g. the time the call entered the system); an
  ``arrival`` more than 12 h before (after) the anchor's time of day is on the next (previous) day, so a
  call entering at 23:59:50 and reaching the queue at 00:00:05 counts on the next day;
- ``channel``: the raw queue or call type, renamed through ``channel_map``;
- ``site`` (optional): the queue becomes ``<channel>_<site>`` (one queue per channel x site);
- ``outcome`` (optional): classified through ``outcomes`` into answered / abandoned / drop;
- ``wait_s``, ``handle_s`` (optional): seconds waited in the queue and handled (numbers >= 0);
- ``queue_entry`` (optional): a column that is present (not missing after ``na_values``) when the contact
  joined the queue; a contact *queued* when it has a queue entry or waited more than 0 s;
- ``agent`` (optional): who handled the contact. Personal data: read only with ``agents=True`` and then
  pseudonymised by default.

Rows whose outcome is in the ``drop`` class are removed before anything else is checked (they never
existed as contacts); every other row must be valid, and errors name the file, the column and the row.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from forecast._calendar import check_interval_min, day_grid, wall_parts
from forecast._table import _Table, check_ambiguous, check_tz
from forecast.errors import ConfigError, DataError
from forecast.frame import HISTORY_COLUMNS

_CONTACT_DEFAULTS = {
    "arrival": "arrival",
    "channel": "channel",
    "handle_s": "handle_s",
    "outcome": "outcome",
    "wait_s": "wait_s",
    "date": None,
    "date_anchor": None,
    "queue_entry": None,
    "agent": None,
    "site": None,
}
#: without an ``outcomes`` mapping: outcome values (case-insensitive, stripped) that mark an abandoned
#: contact; every other outcome is treated as answered.
ABANDONED_OUTCOMES = frozenset({"abandoned", "abandon", "abandonment"})
#: the classes of an ``outcomes`` mapping: ``{"answered": [...], "abandoned": [...], "drop": [...]}``.
OUTCOME_CLASSES = ("answered", "abandoned", "drop")
#: what happens to an abandoned contact that never queued (no queue entry and no wait): "include" counts
#: it as offered and abandoned (a balk); "exclude" leaves it out of the offered volume (it hung up before
#: reaching the queue, e.g. in the voice-response unit) and counts it in ``abandoned_unqueued`` only.
UNQUEUED_ABANDONED = ("include", "exclude")
#: the keys a mapping (:func:`load_mapping`) may hold: the keyword arguments shared by
#: :func:`read_contacts`, :func:`contact_stats` and :func:`load_contacts`.
MAPPING_KEYS = frozenset(
    {
        "columns",
        "tz",
        "interval_min",
        "time_format",
        "date_format",
        "channel_map",
        "sep",
        "outcomes",
        "na_values",
        "unqueued_abandoned",
        "ambiguous",
    }
)
#: the columns of :func:`read_contacts` (plus ``agent`` when asked for).
CONTACT_COLUMNS = (
    "row",
    "arrival",
    "interval_start",
    "channel",
    "outcome",
    "queued",
    "offered",
    "wait_s",
    "handle_s",
)
#: the columns of :func:`contact_stats`.
STATS_COLUMNS = (
    "channel",
    "interval_start",
    "volume",
    "answered",
    "abandoned",
    "abandoned_unqueued",
    "aht_s",
    "wait_s",
)


def load_mapping(path) -> dict:
    """Read a contact-log mapping from a YAML file: a mapping whose keys are among :data:`MAPPING_KEYS`.

    Returns a plain dict to pass on as ``read_contacts(path, **mapping)`` (or ``contact_stats``,
    ``load_contacts``). Unknown keys are an error naming the file and the key.
    """
    import yaml  # a dependency of hydra/omegaconf; imported here so that forecast imports stay light

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the mapping file ({exc})", str(path)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"expected a YAML mapping ({exc})", str(path)) from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"expected a YAML mapping of loader options; got {type(data).__name__}", str(path))
    unknown = sorted(set(map(str, data)) - MAPPING_KEYS)
    if unknown:
        raise ConfigError(
            f"unknown key(s) {unknown}; expected some of {sorted(MAPPING_KEYS)}", f"{path}:{unknown[0]}"
        )
    return dict(data)


def pseudonymise_names(names: pd.Series, key: bytes | str | None = None) -> pd.Series:
    """Keyed pseudonyms (``"agent_"`` + 12 hex digits of HMAC-SHA256 under ``key``) of the non-missing
    ``names``; missing stays missing. Without a key a random one is drawn, so the pseudonyms are consistent
    within one call and cannot be linked across calls or reversed by hashing a list of first names."""
    if key is None:
        key = secrets.token_bytes(32)
    elif isinstance(key, str):
        key = key.encode("utf-8")
    elif not isinstance(key, bytes):
        raise ConfigError(f"expected str or bytes; got {type(key).__name__}", "pseudonym_key")
    cache: dict[str, str] = {}

    def one(name):
        if name is None or (isinstance(name, float) and np.isnan(name)) or name is pd.NA:
            return None
        name = str(name)
        if name not in cache:
            cache[name] = "agent_" + hmac.new(key, name.encode("utf-8"), hashlib.sha256).hexdigest()[:12]
        return cache[name]

    return pd.Series([one(v) for v in names], index=names.index, dtype=object)


def _outcome_lookup(outcomes) -> dict[str, str]:
    """casefolded raw value -> class, from ``{"answered": [...], "abandoned": [...], "drop": [...]}``."""
    if not isinstance(outcomes, Mapping):
        raise ConfigError(
            f"expected a mapping class -> list of values with classes {list(OUTCOME_CLASSES)}; "
            f"got {outcomes!r}",
            "outcomes",
        )
    unknown = sorted(set(map(str, outcomes)) - set(OUTCOME_CLASSES))
    if unknown:
        raise ConfigError(
            f"unknown class(es) {unknown}; expected some of {list(OUTCOME_CLASSES)}", "outcomes"
        )
    lookup: dict[str, str] = {}
    for cls, values in outcomes.items():
        if values is None:
            continue
        if isinstance(values, str) or not isinstance(values, Iterable):
            values = [values]
        for v in values:
            k = str(v).strip().casefold()
            if k in lookup and lookup[k] != cls:
                raise ConfigError(f"value {v!r} is in both {lookup[k]!r} and {cls!r}", f"outcomes.{cls}")
            lookup[k] = cls
    if not lookup:
        raise ConfigError("expected at least one outcome value", "outcomes")
    return lookup


def _classify_outcomes(t: _Table, col: str | None, outcomes) -> np.ndarray:
    """An array of "answered" / "abandoned" / "drop" per row of ``t.df``."""
    n = len(t.df)
    if col is None:
        return np.full(n, "answered", dtype=object)
    raw = t.df[col]
    if outcomes is None:
        value = raw.fillna("").astype(str).str.strip().str.lower()
        return np.where(value.isin(ABANDONED_OUTCOMES).to_numpy(), "abandoned", "answered").astype(object)
    lookup = _outcome_lookup(outcomes)
    value = raw.astype(str).str.strip().str.casefold().where(raw.notna())
    cls = value.map(lookup)
    bad = cls.isna().to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        values = sorted({str(v) for v in raw[bad].fillna("").tolist()})
        raise DataError(
            f"{t.name}: column '{col}', row {t.row(pos)}: expected an outcome listed in the outcomes mapping "
            f"({ {c: sorted(k for k, v in lookup.items() if v == c) for c in OUTCOME_CLASSES} }); "
            f"got value(s) {values[:20]} ({int(bad.sum())} row(s) in all)"
        )
    return cls.to_numpy(dtype=object)


def _channels(t: _Table, col: str, channel_map) -> pd.Series:
    raw_channel = t.strings(col)
    if channel_map is None:
        return raw_channel
    mapping = {str(k).strip(): str(v) for k, v in channel_map.items()}
    default = mapping.pop("*", None)
    channel = raw_channel.map(mapping)
    unmapped = channel.isna().to_numpy()
    if unmapped.any():
        if default is None:
            values = sorted(set(raw_channel[unmapped]))
            pos = int(np.flatnonzero(unmapped)[0])
            raise DataError(
                f"{t.name}: column '{col}', row {t.row(pos)}: value(s) {values[:20]} are not in "
                f"channel_map (keys {sorted(mapping)[:20]}); add them or a '*' default"
            )
        channel = channel.fillna(default)
    return channel


def _arrivals(t: _Table, cols: dict, tz, time_format, date_format, ambiguous: str) -> pd.Series:
    """tz-aware arrival times: a timestamp column, or a date column + a time-of-day column."""
    col = cols["arrival"]
    if "date" not in cols:
        if "date_anchor" in cols:
            raise ConfigError("date_anchor needs a date column (columns.date)", "columns.date_anchor")
        return t.timestamps(col, tz, time_format, ambiguous)
    tf = time_format or "%H:%M:%S"
    day = t.dates(cols["date"], date_format)
    clock = t.clock_seconds(col, tf)
    if "date_anchor" in cols:
        anchor = t.clock_seconds(cols["date_anchor"], tf)
        shift = np.where(clock - anchor < -43200, 1, np.where(clock - anchor > 43200, -1, 0))
        clock = clock + 86400.0 * shift
    wall = day + pd.to_timedelta(clock, unit="s")
    return t.localize(col, wall, tz, ambiguous)


def _floor_local(ts: pd.Series, interval_min: int) -> pd.DatetimeIndex:
    """Start of the local ``interval_min`` interval holding each tz-aware timestamp (DST-safe: the UTC offset
    is constant inside an interval because the interval divides the hour)."""
    idx = pd.DatetimeIndex(ts)
    wall = idx.tz_localize(None)
    utc = idx.tz_convert("UTC").tz_localize(None)
    offset = wall - utc
    start_wall = wall.floor(f"{interval_min}min")
    return (start_wall - offset).tz_localize("UTC").tz_convert(idx.tz)


def read_contacts(
    path,
    *,
    columns: Mapping[str, str] | None = None,
    tz="UTC",
    interval_min: int = 15,
    time_format: str | None = None,
    date_format: str | None = None,
    channel_map: Mapping[str, str] | None = None,
    sep: str | None = None,
    outcomes: Mapping[str, Iterable[str]] | None = None,
    na_values: Mapping[str, Iterable[str]] | None = None,
    unqueued_abandoned: str = "include",
    ambiguous: str = "raise",
    agents: bool = False,
    pseudonymise: bool = True,
    pseudonym_key: bytes | str | None = None,
) -> pd.DataFrame:
    """Read a contact log (CSV, TSV or Parquet) into one row per contact; see the module docstring for the
    logical columns.

    - ``tz``: naive times are wall-clock times there (a time skipped by a DST change is an error naming its
      row; a repeated one too unless ``ambiguous`` is "earlier", "later" or "infer": for a log in time
      order, the repeated times are summer time until the clock goes back in the file order and standard
      time after, an error naming the row where the order does not tell; see
      :data:`forecast._table.AMBIGUOUS`); times with a UTC offset are converted. ``time_format`` is the
      format of ``arrival`` (a full timestamp; with ``date`` mapped, a time of day, default "%H:%M:%S",
      also that of ``date_anchor``); ``date_format`` that of ``date``.
    - ``channel_map``: raw channel value -> channel name; a ``"*"`` key is the default for unmapped values,
      otherwise an unmapped value is an error listing them.
    - ``outcomes``: ``{"answered": [...], "abandoned": [...], "drop": [...]}`` (values compared
      case-insensitively); a value in none of them is an error naming its row. Without it, the values of
      :data:`ABANDONED_OUTCOMES` mean abandoned and any other value answered.
    - ``na_values``: file column -> values meaning "missing" (e.g. ``{"q_start": ["0:00:00"]}``).
    - ``unqueued_abandoned``: see :data:`UNQUEUED_ABANDONED` (sets the ``offered`` column).
    - ``agents``: add an ``agent`` column (needs ``columns["agent"]``); it holds keyed pseudonyms
      (:func:`pseudonymise_names`, key ``pseudonym_key``) unless ``pseudonymise=False``.

    Returns :data:`CONTACT_COLUMNS` in file order: ``row`` (the file row), ``arrival`` (tz-aware),
    ``interval_start`` (the local ``interval_min`` interval holding it), ``channel``, ``outcome``
    ("answered" or "abandoned"), ``queued`` (has a queue entry or waited > 0 s), ``offered`` (counts in
    the offered volume: answered, or abandoned after queueing, or any abandoned with
    ``unqueued_abandoned="include"``), ``wait_s`` and ``handle_s`` (NaN when not given).
    """
    interval_min = check_interval_min(interval_min)
    check_tz(tz)
    ambiguous = check_ambiguous(ambiguous)
    if channel_map is not None and not isinstance(channel_map, Mapping):
        raise ConfigError(f"expected a mapping raw value -> channel name; got {channel_map!r}", "channel_map")
    if unqueued_abandoned not in UNQUEUED_ABANDONED:
        raise ConfigError(
            f"expected one of {list(UNQUEUED_ABANDONED)}; got {unqueued_abandoned!r}", "unqueued_abandoned"
        )
    t = _Table(path, sep=sep)
    cols = t.resolve(columns, _CONTACT_DEFAULTS, ("arrival", "channel"))
    if agents and "agent" not in cols:
        raise ConfigError("agents=True needs the agent column (columns.agent)", "columns.agent")
    t.set_missing(na_values)
    outcome = _classify_outcomes(t, cols.get("outcome"), outcomes)
    keep = outcome != "drop"
    t.keep(keep)
    outcome = outcome[keep]
    if len(t.df) == 0:
        raise DataError(f"{t.name}: no contacts (the file has no data rows, or all were dropped)")
    arrival = _arrivals(t, cols, tz, time_format, date_format, ambiguous)
    channel = t.queues(_channels(t, cols["channel"], channel_map), cols.get("site"))
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
    queued = np.nan_to_num(wait, nan=0.0) > 0
    if "queue_entry" in cols:
        queued |= t.df[cols["queue_entry"]].notna().to_numpy()
    abandoned = outcome == "abandoned"
    offered = ~abandoned | queued | (unqueued_abandoned == "include")
    out = pd.DataFrame(
        {
            "row": t.df.index.to_numpy(dtype=np.int64) + t.first_row,
            "arrival": pd.DatetimeIndex(arrival),
            "interval_start": _floor_local(arrival, interval_min),
            "channel": channel.to_numpy(dtype=object),
            "outcome": outcome.astype(object),
            "queued": queued,
            "offered": offered,
            "wait_s": wait,
            "handle_s": handle,
        }
    )
    if agents:
        names = t.df[cols["agent"]].astype(object).where(t.df[cols["agent"]].notna(), None)
        names = names.map(lambda v: None if v is None else str(v).strip() or None)
        names = names.reset_index(drop=True)
        out["agent"] = pseudonymise_names(names, pseudonym_key) if pseudonymise else names
    return out


#: a contact log's first (last) day is partial when the other days of its weekday averaged at least this
#: many contacts before its first (after its last) contact's interval: a Poisson count with mean 10 is 0
#: with probability 5e-5, so such a silence means the log starts (ends) there, not that no one called.
PARTIAL_MIN_CONTACTS = 10.0


def _partial_edges(day: np.ndarray, minute: np.ndarray) -> tuple[int | None, int | None]:
    """(first-day minute, last-day minute) of the interval from which (up to which) the log's first (last)
    day is cut, or None where that day is whole (:data:`PARTIAL_MIN_CONTACTS`); ``day`` and ``minute`` of
    the local interval start of each contact."""
    d0, d1 = int(day.min()), int(day.max())
    if d1 == d0:
        return None, None
    days = np.arange(d0, d1 + 1)
    wd = (days + 3) % 7
    out = []
    for d, m, tail in ((d0, int(minute[day == d0].min()), False), (d1, int(minute[day == d1].max()), True)):
        others = days[days != d]
        ref = others[wd[others - d0] == wd[d - d0]]
        ref = ref if ref.size else others
        part = (minute > m) if tail else (minute < m)
        mean = float((np.isin(day, ref) & part).sum()) / ref.size
        out.append(m if mean >= PARTIAL_MIN_CONTACTS else None)
    return out[0], out[1]


def aggregate_contacts(contacts: pd.DataFrame, interval_min: int = 15) -> pd.DataFrame:
    """Per-interval statistics (:data:`STATS_COLUMNS`) of a :func:`read_contacts` table, on every interval
    of the local days from the first to the last arrival (intervals without contacts get 0), except the cut
    part of a partial first or last day.

    A log has no row for an interval without contacts, so inside its span an empty interval (or day) is zero
    arrivals. Its first and last day are different: a log exported at Friday 12:00 just stops. The last day
    is **partial** when the other days of its weekday (of the log, or all other days if there is none)
    averaged at least :data:`PARTIAL_MIN_CONTACTS` contacts after the interval of its last arrival; then that
    interval (covered only up to the unknown cut) and the rest of the day get no rows, which the forecast
    models read as missing data, not zero (the rule of :mod:`forecast.models`). Likewise the first day
    before and including the interval of its first arrival. A log whose last day just ends quietly (a few
    calls expected after the last one) keeps the whole day.

    ``volume``: offered contacts; ``answered``; ``abandoned`` (offered and abandoned);
    ``abandoned_unqueued`` (abandoned without queueing, whether offered or not); ``aht_s``: mean
    ``handle_s`` of answered contacts with ``handle_s > 0`` (NaN if none); ``wait_s``: mean wait of answered
    contacts with a wait given (NaN if none). A contact counts in the local ``interval_min`` interval of its
    ``arrival``.
    """
    interval_min = check_interval_min(interval_min)
    if contacts.empty:
        raise DataError("contacts: no rows to aggregate")
    start = _floor_local(contacts["arrival"], interval_min)
    day, minute, _ = wall_parts(start)
    grid = day_grid(int(day.min()), int(day.max() - day.min() + 1), start.tz, interval_min)
    pos = grid.get_indexer(start)
    if (pos < 0).any():  # cannot happen for intervals dividing the hour; guard against odd offsets
        bad = int(np.flatnonzero(pos < 0)[0])
        raise DataError(
            f"contacts: row {contacts['row'].iloc[bad]}: interval start {start[bad]} is not on the local "
            f"{interval_min}-minute grid"
        )
    names = sorted(set(contacts["channel"].tolist()))
    first_cut, last_cut = _partial_edges(day, minute)
    gday, gmin, _ = wall_parts(grid)
    keep = np.ones(len(grid), dtype=bool)
    if first_cut is not None:
        keep &= ~((gday == int(day.min())) & (gmin <= first_cut))
    if last_cut is not None:
        keep &= ~((gday == int(day.max())) & (gmin >= last_cut))
    new_pos = np.cumsum(keep) - 1
    counted = keep[pos]
    contacts = contacts[counted]
    pos = new_pos[pos[counted]]
    grid = grid[keep]
    code = pd.Categorical(contacts["channel"], categories=names).codes
    g = len(grid)
    key = code.astype(np.int64) * g + pos
    size = len(names) * g
    answered = (contacts["outcome"] == "answered").to_numpy()
    abandoned = ~answered
    offered = contacts["offered"].to_numpy(bool)
    queued = contacts["queued"].to_numpy(bool)
    handle = contacts["handle_s"].to_numpy(float)
    wait = contacts["wait_s"].to_numpy(float)

    def count(mask):
        return np.bincount(key[mask], minlength=size).astype(float)

    def total(mask, values):
        return np.bincount(key[mask], weights=values[mask], minlength=size)

    timed = answered & (handle > 0)
    n_h = count(timed)
    waited = answered & np.isfinite(wait)
    n_w = count(waited)
    return pd.DataFrame(
        {
            "channel": np.repeat(np.array(names, dtype=object), g),
            "interval_start": pd.DatetimeIndex(np.tile(grid, len(names))) if names else grid[:0],
            "volume": count(offered),
            "answered": count(answered),
            "abandoned": count(abandoned & offered),
            "abandoned_unqueued": count(abandoned & ~queued),
            "aht_s": np.divide(total(timed, handle), n_h, out=np.full(size, np.nan), where=n_h > 0),
            "wait_s": np.divide(total(waited, wait), n_w, out=np.full(size, np.nan), where=n_w > 0),
        }
    )


def contact_stats(
    path,
    *,
    columns: Mapping[str, str] | None = None,
    tz="UTC",
    interval_min: int = 15,
    time_format: str | None = None,
    date_format: str | None = None,
    channel_map: Mapping[str, str] | None = None,
    sep: str | None = None,
    outcomes: Mapping[str, Iterable[str]] | None = None,
    na_values: Mapping[str, Iterable[str]] | None = None,
    unqueued_abandoned: str = "include",
    ambiguous: str = "raise",
) -> pd.DataFrame:
    """Aggregate a contact log to per-interval statistics: :func:`read_contacts` (same arguments, no agent
    column) then :func:`aggregate_contacts`. Returns :data:`STATS_COLUMNS`: ``channel, interval_start,
    volume`` (offered), ``answered``, ``abandoned``, ``abandoned_unqueued``, ``aht_s``, ``wait_s``."""
    contacts = read_contacts(
        path,
        columns=columns,
        tz=tz,
        interval_min=interval_min,
        time_format=time_format,
        date_format=date_format,
        channel_map=channel_map,
        sep=sep,
        outcomes=outcomes,
        na_values=na_values,
        unqueued_abandoned=unqueued_abandoned,
        ambiguous=ambiguous,
    )
    return aggregate_contacts(contacts, interval_min)


def load_contacts(
    path,
    *,
    columns: Mapping[str, str] | None = None,
    tz="UTC",
    interval_min: int = 15,
    time_format: str | None = None,
    date_format: str | None = None,
    channel_map: Mapping[str, str] | None = None,
    sep: str | None = None,
    outcomes: Mapping[str, Iterable[str]] | None = None,
    na_values: Mapping[str, Iterable[str]] | None = None,
    unqueued_abandoned: str = "include",
    ambiguous: str = "raise",
) -> pd.DataFrame:
    """A history table (:data:`HISTORY_COLUMNS`) from a contact log; see :func:`read_contacts` for the
    arguments and :func:`contact_stats` for the answered and abandoned counts."""
    stats = contact_stats(
        path,
        columns=columns,
        tz=tz,
        interval_min=interval_min,
        time_format=time_format,
        date_format=date_format,
        channel_map=channel_map,
        sep=sep,
        outcomes=outcomes,
        na_values=na_values,
        unqueued_abandoned=unqueued_abandoned,
        ambiguous=ambiguous,
    )
    return stats[list(HISTORY_COLUMNS)].copy()
