"""The Schedule value: shifts with concrete times, its CSV form, and the agents on duty it yields.

A schedule is a table, one row per shift or per group of identical shifts (``count``), with the columns of
``schedule.csv`` that users edit and upload::

    skill_group,agent,count,start,end,breaks
    phone,,3,2026-01-05T06:00+01:00,2026-01-05T14:00+01:00,10:00-10:30

``start`` / ``end`` are local ISO times (an offset is written so that DST days are unambiguous; on reading, a
time without offset is taken in the scenario's time zone); ``breaks`` are ``HH:MM-HH:MM`` local clock times
separated by ``;``, each placed at its first occurrence at or after the shift start and its end at the
first occurrence after its start (so a shift crossing midnight or a DST change works); where a clock time
would be ambiguous (the repeated hour of a fall-back night) a break is written as ISO ``start/end`` with
offsets, e.g. ``2026-10-25T02:30+02:00/2026-10-25T02:45+02:00``; ``agent`` is empty until the shifts are
rostered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.errors import DataError
from forecast.files import read_csv_text, write_atomic

from .scenario import IntervalGrid

__all__ = ["SCHEDULE_COLUMNS", "Schedule", "write_atomic"]

SCHEDULE_COLUMNS = ("skill_group", "agent", "count", "start", "end", "breaks")


def _fmt_time(ts: pd.Timestamp) -> str:
    s = ts.isoformat(timespec="minutes")
    return s


def _first_at(hour: int, minute: int, after: pd.Timestamp, strictly: bool) -> pd.Timestamp:
    """The first instant at or after (``strictly``: after) ``after`` whose local wall clock reads
    ``hour:minute``; both instants of a fall-back hour count, a spring-forward gap moves forward."""
    tz = after.tz
    day = after.tz_localize(None).normalize()
    best = None
    for k in (-1, 0, 1, 2):
        naive = day + pd.Timedelta(days=k, hours=hour, minutes=minute)
        for amb in (True, False):
            t = naive.tz_localize(tz, nonexistent="shift_forward", ambiguous=amb) if tz else naive
            if (t > after if strictly else t >= after) and (best is None or t < best):
                best = t
    return best


def _clock_break(token: str, start: pd.Timestamp):
    a, b = token.split("-")
    ha, ma = (int(x) for x in a.strip().split(":"))
    hb, mb = (int(x) for x in b.strip().split(":"))
    if not (0 <= ha < 24 and 0 <= hb < 24 and 0 <= ma < 60 and 0 <= mb < 60):
        raise ValueError
    bs = _first_at(ha, ma, start, strictly=False)
    return bs, _first_at(hb, mb, bs, strictly=True)


def _format_break(bs: pd.Timestamp, be: pd.Timestamp, start: pd.Timestamp) -> str:
    """``HH:MM-HH:MM`` when that reads back to the same instants, else ISO ``start/end`` with offsets."""
    clock = f"{bs:%H:%M}-{be:%H:%M}"
    if _clock_break(clock, start) == (bs, be):
        return clock
    return f"{_fmt_time(bs)}/{_fmt_time(be)}"


def _parse_breaks(text, start: pd.Timestamp, end: pd.Timestamp, where: str) -> list[tuple]:
    if text is None or (isinstance(text, float) and np.isnan(text)) or str(text).strip() == "":
        return []
    out = []
    for part in str(text).split(";"):
        part = part.strip()
        if not part:
            continue
        if "/" in part:
            a, _, b = part.partition("/")
            bs = _parse_time(a.strip(), start.tz, where, "breaks")
            be = _parse_time(b.strip(), start.tz, where, "breaks")
            if be <= bs:
                raise DataError(f"{where}: column 'breaks': break {part} ends before it starts")
        else:
            try:
                bs, be = _clock_break(part, start)
            except ValueError:
                raise DataError(
                    f"{where}: column 'breaks': expected HH:MM-HH:MM[;HH:MM-HH:MM] (or ISO start/end "
                    f"with offsets); got {text!r}"
                ) from None
        if bs < start or be > end:
            raise DataError(
                f"{where}: column 'breaks': break {part} does not lie within the shift "
                f"{_fmt_time(start)} to {_fmt_time(end)}"
            )
        out.append((bs, be))
    out.sort()
    for (_, e1), (s2, _) in zip(out, out[1:]):
        if s2 < e1:
            raise DataError(f"{where}: column 'breaks': breaks overlap in {text!r}")
    return out


def _parse_time(value, tz, where: str, column: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
        if pd.isna(ts):
            raise ValueError
    except (ValueError, TypeError):
        raise DataError(
            f"{where}: column '{column}': expected a local ISO time like 2026-01-05T06:00; got {value!r}"
        ) from None
    if ts.tzinfo is None:
        try:
            ts = ts.tz_localize(tz, nonexistent="raise", ambiguous="raise")
        except Exception:  # noqa: BLE001
            raise DataError(
                f"{where}: column '{column}': {value!r} is ambiguous or does not exist in {tz} "
                f"(DST); write it with its UTC offset"
            ) from None
    else:
        ts = ts.tz_convert(tz)
    return ts


@dataclass(frozen=True)
class Schedule:
    """Shifts with concrete times.

    ``shifts`` has columns ``skill_group`` (str), ``agent`` (str, may be empty),
    ``count`` (int >= 1), ``start`` / ``end`` (tz-aware Timestamps) and ``breaks`` (list of (start, end)
    tz-aware Timestamp pairs)."""

    shifts: pd.DataFrame

    # -- construction ------------------------------------------------------------------------------------
    @classmethod
    def from_frame(cls, df: pd.DataFrame, tz, source: str = "schedule") -> Schedule:
        """Parse a table with the ``schedule.csv`` columns; errors name the source, row and column."""
        missing = [c for c in ("skill_group", "start", "end") if c not in df.columns]
        if missing:
            raise DataError(
                f"{source}: missing column(s) {missing}; expected columns {list(SCHEDULE_COLUMNS)}"
            )
        rows = []
        for i, r in enumerate(df.to_dict("records")):
            where = f"{source}: row {i + 2}"  # +1 for the header line, +1 for 1-based rows
            group = r.get("skill_group")
            if not isinstance(group, str) or not group.strip():
                raise DataError(f"{where}: column 'skill_group': expected a skill group name; got {group!r}")
            agent = r.get("agent", "")
            agent = "" if agent is None or (isinstance(agent, float) and np.isnan(agent)) else str(agent)
            count = r.get("count", 1)
            try:
                count_f = float(count) if count is not None and str(count).strip() != "" else 1.0
            except ValueError:
                count_f = -1.0
            if not (count_f >= 1 and count_f == int(count_f)):
                raise DataError(f"{where}: column 'count': expected an integer >= 1; got {count!r}")
            start = _parse_time(r.get("start"), tz, where, "start")
            end = _parse_time(r.get("end"), tz, where, "end")
            if end <= start:
                raise DataError(
                    f"{where}: column 'end': expected a time after start {_fmt_time(start)}; "
                    f"got {_fmt_time(end)}"
                )
            if end - start > pd.Timedelta(hours=24):
                raise DataError(f"{where}: column 'end': a shift lasts at most 24 h; got {end - start}")
            b = r.get("breaks", "")
            breaks = b if isinstance(b, list) else _parse_breaks(b, start, end, where)
            rows.append((group.strip(), agent, int(count_f), start, end, breaks))
        shifts = pd.DataFrame(rows, columns=list(SCHEDULE_COLUMNS))
        shifts["count"] = shifts["count"].astype(int)
        return cls(shifts)

    @classmethod
    def read_csv(cls, path, tz) -> Schedule:
        """Read a ``schedule.csv``; errors name the file, row and column."""
        return cls.from_frame(read_csv_text(path), tz, source=str(path))

    def to_frame(self) -> pd.DataFrame:
        """The ``schedule.csv`` table, all columns as strings."""
        df = self.shifts
        out = pd.DataFrame(
            {
                "skill_group": df["skill_group"].astype(str),
                "agent": df["agent"].astype(str),
                "count": df["count"].astype(int),
                "start": [_fmt_time(t) for t in df["start"]],
                "end": [_fmt_time(t) for t in df["end"]],
                "breaks": [
                    ";".join(_format_break(bs, be, st) for bs, be in br)
                    for st, br in zip(df["start"], df["breaks"])
                ],
            }
        )
        return out

    def to_csv(self, path) -> Path:
        """Write ``schedule.csv`` whole (temporary file, then rename)."""
        frame = self.to_frame()
        return write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False))

    # -- derived ------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.shifts["count"].sum()) if len(self.shifts) else 0

    def agent_shifts(self, grid: IntervalGrid, group_names: list[str]):
        """One entry per agent-shift: (group index, start_s, end_s, [(break_start_s, break_end_s), ...]),
        in seconds from the grid start; rows with ``count`` k give k entries. Unknown groups are an error."""
        index = {g: i for i, g in enumerate(group_names)}
        out = []
        for i, r in enumerate(self.shifts.itertuples(index=False)):
            if r.skill_group not in index:
                raise DataError(
                    f"schedule: row {i + 2}: column 'skill_group': unknown skill group "
                    f"{r.skill_group!r}; the scenario has {group_names}"
                )
            g = index[r.skill_group]
            s = (r.start - grid.start).total_seconds()
            e = (r.end - grid.start).total_seconds()
            br = [
                ((bs - grid.start).total_seconds(), (be - grid.start).total_seconds()) for bs, be in r.breaks
            ]
            out.extend([(g, s, e, br)] * int(r.count))
        return out

    def coverage(self, grid: IntervalGrid, group_names: list[str]) -> np.ndarray:
        """Agents on duty after breaks, per skill group and interval: array [groups, intervals].

        A shift or break that covers part of an interval counts by the fraction of the interval it covers.
        """
        cov = np.zeros((len(group_names), grid.n))
        dt = grid.interval_s
        edges = np.arange(grid.n + 1) * dt
        index = {g: i for i, g in enumerate(group_names)}
        for i, r in enumerate(self.shifts.itertuples(index=False)):
            if r.skill_group not in index:
                raise DataError(
                    f"schedule: row {i + 2}: column 'skill_group': unknown skill group "
                    f"{r.skill_group!r}; the scenario has {group_names}"
                )
            g = index[r.skill_group]
            s = (r.start - grid.start).total_seconds()
            e = (r.end - grid.start).total_seconds()
            cov[g] += r.count * _overlap(edges, s, e) / dt
            for bs, be in r.breaks:
                cov[g] -= (
                    r.count
                    * _overlap(edges, (bs - grid.start).total_seconds(), (be - grid.start).total_seconds())
                    / dt
                )
        return np.clip(cov, 0.0, None)

    def paid_hours(self, paid_breaks=False) -> pd.Series:
        """Paid hours per skill group: shift length, less breaks unless ``paid_breaks`` is true; or, with
        ``paid_breaks`` a collection of break lengths in minutes, less the breaks of other lengths (e.g.
        ``{15}``: 15-minute breaks are paid, a 30-minute lunch is not)."""
        df = self.shifts
        if not len(df):
            return pd.Series(dtype=float)
        length = (df["end"] - df["start"]).dt.total_seconds() / 3600.0
        if paid_breaks is not True:
            paid = set() if paid_breaks is False else {round(float(m)) for m in paid_breaks}
            brk = [
                sum(
                    (be - bs).total_seconds()
                    for bs, be in b
                    if round((be - bs).total_seconds() / 60) not in paid
                )
                / 3600.0
                for b in df["breaks"]
            ]
            length = length - np.asarray(brk)
        return (length * df["count"]).groupby(df["skill_group"]).sum()


def _overlap(edges: np.ndarray, s: float, e: float) -> np.ndarray:
    """Length of [s, e) inside each interval [edges[i], edges[i+1])."""
    lo = np.maximum(edges[:-1], s)
    hi = np.minimum(edges[1:], e)
    return np.clip(hi - lo, 0.0, None)
