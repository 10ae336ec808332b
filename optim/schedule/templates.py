"""Shift templates generated from rules: lengths, start granularity, a lunch and short breaks in windows.

A template is one shift (day, start, end) with its *fixed* breaks (a catalogue's, at given clock times) and
its *flexible* breaks: for each break of the rules, its duration and the candidate start times within its
window. The MIP places flexible breaks with Aykin's implicit model (one variable per shift, break and break
start: Aykin 1996, Management Science 42(4)); :func:`expand_breaks` turns them into the explicit model (one
template per break pattern, Dantzig 1954), which grows as the product of the window sizes and serves as the
reference on tiny instances.

Break windows are offsets of the break's *start* from the shift start, in hours; a negative offset counts
back from the shift end (``-2.0``: two hours before the end), so one rule fits shifts of every length. The
windows of one shift must follow each other without overlap (the latest start plus the duration of a break
is at most the earliest start of the next), which makes every combination of break starts a valid shift and
Aykin's model exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import product

import numpy as np
import pandas as pd
from scipy import sparse

from forecast.errors import ConfigError
from sim.scenario import Scenario, _number

__all__ = [
    "BreakRule",
    "ShiftRules",
    "Template",
    "break_matrix",
    "coverage_matrix",
    "expand_breaks",
    "make_templates",
    "templates_from_table",
]

CATALOGUE_COLUMNS = ("name", "start", "end", "breaks", "cost")


@dataclass(frozen=True)
class BreakRule:
    """A break of ``minutes`` starting between ``earliest_h`` and ``latest_h`` after the shift start (a
    negative value counts back from the shift end), every ``step_min``; only in shifts of at least
    ``min_shift_h`` hours; ``paid`` breaks count in paid hours."""

    minutes: int = 15
    earliest_h: float = 1.0
    latest_h: float = 2.0
    step_min: int = 15
    paid: bool = True
    min_shift_h: float = 0.0
    name: str = "break"

    def __post_init__(self):
        _number(self.minutes, "minutes", lo=0, lo_open=True, integer=True)
        _number(self.earliest_h, "earliest_h", lo=-24, hi=24)
        _number(self.latest_h, "latest_h", lo=-24, hi=24)
        _number(self.step_min, "step_min", lo=1, integer=True)
        _number(self.min_shift_h, "min_shift_h", lo=0)
        if not isinstance(self.paid, bool):
            raise ConfigError(f"expected true or false; got {self.paid!r}", key="paid")

    def window_s(self, length_s: float) -> tuple[float, float]:
        """(earliest, latest) start offset in seconds from the start of a shift of ``length_s``."""
        a, b = (v * 3600 if v >= 0 else length_s + v * 3600 for v in (self.earliest_h, self.latest_h))
        return a, b

    def starts_s(self, length_s: float) -> tuple[float, ...]:
        a, b = self.window_s(length_s)
        step = 60 * self.step_min
        return tuple(a + k * step for k in range(int(np.floor((b - a) / step + 1e-9)) + 1))


@dataclass(frozen=True)
class ShiftRules:
    """Rules for generating shifts (times in hours or minutes as named).

    Shifts of each of ``lengths_h`` start every ``start_step_min`` from the opening hour and end by the
    closing hour. Each shift of at least ``lunch_min_shift_h`` hours holds a lunch of ``lunch_min`` minutes
    starting between ``lunch_earliest_h`` and ``lunch_latest_h`` after the shift start (every
    ``lunch_step_min``; unpaid unless ``paid_breaks``), and the ``short_breaks`` (:class:`BreakRule`, or
    mappings of its fields, e.g. from config) that apply to its length. ``max_start_times`` caps the number of
    distinct clock times at which shifts start over the horizon (all groups; None: no cap). Shifts start
    from ``earliest_start_h`` and end by ``latest_end_h`` (hours from each day's local midnight; default the
    scenario's opening hours); a ``latest_end_h`` past 24 lets shifts cross midnight (``30`` = 06:00 the
    next day), e.g. ``earliest_start_h=0, latest_end_h=48`` for a centre open around the clock.
    """

    lengths_h: tuple[float, ...] = (8.0,)
    start_step_min: int = 30
    lunch_min: int = 30
    lunch_earliest_h: float = 3.0
    lunch_latest_h: float = 5.0
    lunch_step_min: int = 30
    paid_breaks: bool = False
    lunch_min_shift_h: float = 0.0
    short_breaks: tuple = ()
    max_start_times: int | None = None
    earliest_start_h: float | None = None
    latest_end_h: float | None = None

    def __post_init__(self):
        lengths = (self.lengths_h,) if isinstance(self.lengths_h, int | float) else tuple(self.lengths_h)
        if not lengths:
            raise ConfigError("expected at least one shift length", key="lengths_h")
        for v in lengths:
            _number(v, "lengths_h", lo=0, hi=24, lo_open=True)
        object.__setattr__(self, "lengths_h", tuple(float(v) for v in lengths))
        _number(self.start_step_min, "start_step_min", lo=1, integer=True)
        _number(self.lunch_min, "lunch_min", lo=0, integer=True)
        _number(self.lunch_step_min, "lunch_step_min", lo=1, integer=True)
        _number(self.lunch_earliest_h, "lunch_earliest_h", lo=0)
        _number(self.lunch_latest_h, "lunch_latest_h", lo=self.lunch_earliest_h)
        _number(self.lunch_min_shift_h, "lunch_min_shift_h", lo=0)
        if self.max_start_times is not None:
            _number(self.max_start_times, "max_start_times", lo=1, integer=True)
        if self.earliest_start_h is not None:
            _number(self.earliest_start_h, "earliest_start_h", lo=0, hi=24, hi_open=True)
        if self.latest_end_h is not None:
            _number(self.latest_end_h, "latest_end_h", lo=self.earliest_start_h or 0, hi=48, lo_open=True)
        shorts = []
        for i, b in enumerate(
            self.short_breaks if isinstance(self.short_breaks, list | tuple) else [self.short_breaks]
        ):
            key = f"short_breaks[{i}]"
            if isinstance(b, BreakRule):
                shorts.append(b)
                continue
            if not isinstance(b, Mapping):
                raise ConfigError(f"expected a mapping of {_BREAK_FIELDS}; got {b!r}", key=key)
            unknown = sorted(set(b) - set(_BREAK_FIELDS))
            if unknown:
                raise ConfigError(f"unknown field(s) {unknown}; expected {_BREAK_FIELDS}", key=key)
            try:
                shorts.append(BreakRule(**{"name": f"short{i + 1}", **b}))
            except ConfigError as e:
                raise e.under(key) from None
        object.__setattr__(self, "short_breaks", tuple(shorts))
        for length in self.lengths_h:
            self.breaks_for(length)  # checks that the windows fit and follow each other
        unpaid = {b.minutes for b in (self.lunch, *self.short_breaks) if b is not None and not b.paid}
        if self.paid_break_minutes & unpaid:
            raise ConfigError(
                f"a paid and an unpaid break both last {sorted(self.paid_break_minutes & unpaid)} min: "
                "schedule.csv could not tell them apart; give them different lengths",
                key="short_breaks",
            )

    @property
    def paid_break_minutes(self) -> frozenset:
        """Lengths (minutes) of the paid breaks, by which ``Schedule.paid_hours`` tells them from unpaid."""
        return frozenset(b.minutes for b in (self.lunch, *self.short_breaks) if b is not None and b.paid)

    @property
    def lunch(self) -> BreakRule | None:
        if not self.lunch_min:
            return None
        return BreakRule(
            self.lunch_min,
            self.lunch_earliest_h,
            self.lunch_latest_h,
            self.lunch_step_min,
            paid=self.paid_breaks,
            min_shift_h=self.lunch_min_shift_h,
            name="lunch",
        )

    def breaks_for(self, length_h: float) -> list[BreakRule]:
        """The breaks of a shift of ``length_h`` hours, in the order of their windows (checked)."""
        L = length_h * 3600
        rules = [b for b in (self.lunch, *self.short_breaks) if b is not None and length_h >= b.min_shift_h]
        rules.sort(key=lambda b: b.window_s(L)[0])
        prev = None
        for b in rules:
            key = "lunch_latest_h" if b.name == "lunch" else "short_breaks"
            a, z = b.window_s(L)
            if z < a:
                raise ConfigError(
                    f"the {b.name} window of a {length_h:g} h shift starts {a / 3600:g} h after the start "
                    f"but ends {z / 3600:g} h after it: expected earliest_h <= latest_h",
                    key=key,
                )
            if a < 0 or z + 60 * b.minutes > L + 1e-6:
                raise ConfigError(
                    f"the {b.name} window ({a / 3600:g}-{z / 3600:g} h after the start, {b.minutes} min) "
                    f"does not fit in a {length_h:g} h shift",
                    key=key,
                )
            if prev is not None:
                pa, pz = prev.window_s(L)
                if pz + 60 * prev.minutes > a + 1e-6:
                    raise ConfigError(
                        f"in a {length_h:g} h shift the {prev.name} (latest start {pz / 3600:g} h, "
                        f"{prev.minutes} min) can overlap the {b.name} (earliest start {a / 3600:g} h): "
                        "break windows must follow each other",
                        key="lunch_latest_h" if b.name == prev.name == "lunch" else "short_breaks",
                    )
            prev = b
        return rules


_BREAK_FIELDS = ["minutes", "earliest_h", "latest_h", "step_min", "paid", "min_shift_h", "name"]


@dataclass(frozen=True)
class Template:
    """One shift pattern on one day: seconds from the grid start."""

    day: int
    start_s: float
    end_s: float
    breaks: tuple[tuple[float, float], ...]
    paid_h: float
    cost: float | None = None  # cost of one shift (a catalogue's own); None: paid hours x group cost
    name: str = ""
    flex_breaks: tuple[tuple[float, tuple[float, ...]], ...] = ()  # (duration s, candidate starts s)
    nominal_s: float | None = None  # wall-clock length (8 h also on a DST night); None: end - start

    @property
    def length_s(self) -> float:
        """The shift's nominal (wall-clock) length: its class for tours and part-time rules."""
        return self.nominal_s if self.nominal_s is not None else self.end_s - self.start_s


def make_templates(scenario: Scenario, rules: ShiftRules) -> list[Template]:
    """All templates of every day of the scenario's grid: starting from the day's earliest start (within the
    day), ending by its latest end (by default the opening hours); local times, DST-safe."""
    grid = scenario.grid
    starts = grid.starts
    days = pd.DatetimeIndex(starts.tz_localize(None).normalize().unique())
    out = []
    step = pd.Timedelta(minutes=rules.start_step_min)
    first_h = scenario.open_hour if rules.earliest_start_h is None else rules.earliest_start_h
    last_h = scenario.close_hour if rules.latest_end_h is None else rules.latest_end_h
    for d, day in enumerate(days):
        open_t = day + pd.Timedelta(hours=first_h)
        close_t = day + pd.Timedelta(hours=last_h)
        for length in rules.lengths_h:
            L = pd.Timedelta(hours=length)
            brks = rules.breaks_for(length)
            unpaid_h = sum(b.minutes for b in brks if not b.paid) / 60
            s = open_t
            while s + L <= close_t and s < day + pd.Timedelta(days=1):
                s_abs = s.tz_localize(grid.tz, nonexistent="shift_forward", ambiguous=True)
                e_abs = (s + L).tz_localize(grid.tz, nonexistent="shift_forward", ambiguous=True)
                ss, es = grid.seconds(s_abs), grid.seconds(e_abs)
                if ss >= 0 and es <= grid.horizon_s:
                    flex = _windows(brks, es - ss)  # on a DST night from the shift's real length
                    if flex is not None:
                        flex = tuple((dur, tuple(ss + o for o in offs)) for dur, offs in flex)
                        paid = (es - ss) / 3600 - unpaid_h
                        out.append(Template(d, ss, es, (), paid, flex_breaks=flex, nominal_s=length * 3600))
                s += step
    if not out:
        raise ConfigError(
            f"no shift of {list(rules.lengths_h)} h fits between {first_h:g} h and {last_h:g} h of a day "
            "within the horizon",
            key="lengths_h",
        )
    return out


def _windows(brks: list[BreakRule], length_s: float):
    """Each break's (duration, start offsets) in a shift of ``length_s`` seconds, or None if the windows do
    not fit it or overlap (a shift shortened by a DST change may lose room for its breaks: it is left out)."""
    out, prev_end = [], -np.inf
    for b in brks:
        a, z = b.window_s(length_s)
        dur = 60.0 * b.minutes
        if a < 0 or z < a or z + dur > length_s + 1e-6 or a < prev_end - 1e-6:
            return None
        out.append((dur, b.starts_s(length_s)))
        prev_end = z + dur
    return tuple(out)


def templates_from_table(
    table,
    scenario: Scenario,
    *,
    paid_breaks: bool = False,
    source: str = "templates",
    list_rows: bool = False,
):
    """A centre's own shift catalogue -> templates on every day of the grid.

    ``table`` (a DataFrame, or the path of a CSV) has one row per shift: ``name``, ``start`` and ``end``
    (local ``HH:MM``; an end before the start crosses midnight), optional ``breaks`` (``HH:MM-HH:MM``
    separated by ``;``, as in ``schedule.csv``) and optional ``cost`` per shift (else paid hours x the
    group's cost per hour). Errors name the source, the row (a CSV's line; with ``list_rows`` the entry of a
    list from config, ``source[i]``) and the column."""
    from forecast.errors import DataError
    from forecast.files import read_csv_text
    from sim.staffing import _clock_break, _first_at

    if not isinstance(table, pd.DataFrame):
        if source == "templates":
            source = str(table)  # errors name the file
        table = read_csv_text(table)
    missing = [c for c in ("name", "start", "end") if c not in table.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; expected {list(CATALOGUE_COLUMNS)}")
    grid = scenario.grid
    days = pd.DatetimeIndex(grid.starts.tz_localize(None).normalize().unique())
    out = []
    for i, r in enumerate(table.to_dict("records")):
        where = f"{source}[{i}]" if list_rows else f"{source}: row {i + 2}"
        clocks = {}
        for col in ("start", "end"):
            try:
                hh, mm = (int(v) for v in str(r[col]).strip().split(":"))
                if not (0 <= hh < 24 and 0 <= mm < 60):
                    raise ValueError
            except ValueError:
                hint = (
                    " (YAML reads an unquoted time such as 8:00 as a number of minutes: quote it, '08:00')"
                    if str(r[col]).strip().isdigit()
                    else ""
                )
                raise DataError(f"{where}: column '{col}': expected HH:MM; got {r[col]!r}{hint}") from None
            clocks[col] = (hh, mm)
        cost = r.get("cost", "")
        if cost is None or (isinstance(cost, float) and np.isnan(cost)) or str(cost).strip() == "":
            cost = None
        else:
            try:
                cost = float(cost)
                if not cost >= 0:
                    raise ValueError
            except ValueError:
                raise DataError(
                    f"{where}: column 'cost': expected a number >= 0; got {r.get('cost')!r}"
                ) from None
        for d, day in enumerate(days):
            start = _first_at(
                *clocks["start"],
                day.tz_localize(grid.tz, nonexistent="shift_forward", ambiguous=True),
                strictly=False,
            )
            end = _first_at(*clocks["end"], start, strictly=True)
            text = r.get("breaks", "")
            breaks = []
            for part in [] if not isinstance(text, str) or not text.strip() else text.split(";"):
                try:
                    bs, be = _clock_break(part.strip(), start)
                except ValueError:
                    raise DataError(
                        f"{where}: column 'breaks': expected HH:MM-HH:MM[;...]; got {text!r}"
                    ) from None
                if be > end:
                    raise DataError(f"{where}: column 'breaks': break {part.strip()} is not within the shift")
                breaks.append((grid.seconds(bs), grid.seconds(be)))
            ss, es = grid.seconds(start), grid.seconds(end)
            if ss < 0 or es > grid.horizon_s:
                continue
            brk_h = sum(be - bs for bs, be in breaks) / 3600
            paid = (es - ss) / 3600 - (0.0 if paid_breaks else brk_h)
            nominal = (
                (clocks["end"][0] - clocks["start"][0]) * 60 + clocks["end"][1] - clocks["start"][1]
            ) % 1440
            out.append(
                Template(
                    d,
                    ss,
                    es,
                    tuple(sorted(breaks)),
                    paid,
                    cost,
                    str(r["name"]),
                    nominal_s=60.0 * (nominal or 1440),
                )
            )
    if not out:
        raise DataError(f"{source}: no shift of the catalogue lies within the scenario's horizon")
    return out


def coverage_matrix(templates: list[Template], grid) -> sparse.csc_matrix:
    """[intervals x templates]: the fraction of each interval a template's agent is on duty after breaks."""
    dt = grid.interval_s
    edges = np.arange(grid.n + 1) * dt
    rows, cols, vals = [], [], []
    for j, tp in enumerate(templates):
        on = _overlap(edges, tp.start_s, tp.end_s)
        for bs, be in tp.breaks:
            on -= _overlap(edges, bs, be)
        nz = np.flatnonzero(on > 1e-9)
        rows.append(nz)
        cols.append(np.full(nz.size, j))
        vals.append(on[nz] / dt)
    return sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(grid.n, len(templates))
    )


def break_matrix(templates: list[Template], grid):
    """The flexible breaks as columns: ``(B, owner, brk, start_s, dur_s)`` with ``B`` [intervals x options]
    the fraction of each interval a break option takes, and for each option its template, its break's index
    within the template, its start and duration (seconds from the grid start)."""
    dt = grid.interval_s
    edges = np.arange(grid.n + 1) * dt
    owner, brk, st, du = [], [], [], []
    for j, tp in enumerate(templates):
        for k, (dur, starts) in enumerate(tp.flex_breaks):
            for b in starts:
                owner.append(j)
                brk.append(k)
                st.append(b)
                du.append(dur)
    rows, cols, vals = [], [], []
    for w, (b, d) in enumerate(zip(st, du, strict=True)):
        on = _overlap(edges, b, b + d)
        nz = np.flatnonzero(on > 1e-9)
        rows.append(nz)
        cols.append(np.full(nz.size, w))
        vals.append(on[nz] / dt)
    B = sparse.csc_matrix(
        (
            np.concatenate(vals) if vals else np.zeros(0),
            (
                np.concatenate(rows) if rows else np.zeros(0, int),
                np.concatenate(cols) if cols else np.zeros(0, int),
            ),
        ),
        shape=(grid.n, len(owner)),
    )
    return (
        B,
        np.asarray(owner, dtype=np.int64),
        np.asarray(brk, dtype=np.int64),
        np.asarray(st),
        np.asarray(du),
    )


def expand_breaks(templates: list[Template]) -> list[Template]:
    """The explicit break model: every template with flexible breaks becomes one template per combination
    of break starts (its breaks fixed). The number of templates is the product of the window sizes."""
    out = []
    for tp in templates:
        if not tp.flex_breaks:
            out.append(tp)
            continue
        for combo in product(*(starts for _, starts in tp.flex_breaks)):
            fixed = tuple((b, b + d) for b, (d, _) in zip(combo, tp.flex_breaks, strict=True))
            out.append(
                Template(
                    tp.day,
                    tp.start_s,
                    tp.end_s,
                    tuple(sorted(tp.breaks + fixed)),
                    tp.paid_h,
                    tp.cost,
                    tp.name,
                )
            )
    return out


def _overlap(edges, s, e):
    return np.clip(np.minimum(edges[1:], e) - np.maximum(edges[:-1], s), 0.0, None)
