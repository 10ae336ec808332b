"""Shift templates generated from rules: lengths, start granularity, a lunch within a window.

Breaks are explicit here: one template per (day, start, length, lunch start), i.e. one column per break
pattern (Dantzig's set-covering formulation). Aykin's implicit break model replaces this in a later issue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from forecast.errors import ConfigError
from sim.scenario import Scenario, _number

__all__ = ["ShiftRules", "Template", "make_templates", "coverage_matrix", "templates_from_table"]

CATALOGUE_COLUMNS = ("name", "start", "end", "breaks", "cost")


@dataclass(frozen=True)
class ShiftRules:
    """Rules for generating shifts (times in hours or minutes as named).

    Shifts start every ``start_step_min`` from the opening hour and end by the closing hour; each holds a
    lunch
    of ``lunch_min`` minutes starting between ``lunch_earliest_h`` and ``lunch_latest_h`` after shift start
    (every ``lunch_step_min``). Paid hours are the shift length less the lunch unless ``paid_breaks``.
    """

    lengths_h: tuple[float, ...] = (8.0,)
    start_step_min: int = 30
    lunch_min: int = 30
    lunch_earliest_h: float = 3.0
    lunch_latest_h: float = 5.0
    lunch_step_min: int = 30
    paid_breaks: bool = False

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
        if self.lunch_min and self.lunch_latest_h * 60 + self.lunch_min > min(self.lengths_h) * 60:
            raise ConfigError(
                f"a lunch starting {self.lunch_latest_h:g} h after shift start does not fit in a "
                f"{min(self.lengths_h):g} h shift",
                key="lunch_latest_h",
            )


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


def make_templates(scenario: Scenario, rules: ShiftRules) -> list[Template]:
    """All templates within the opening hours of every day of the scenario's grid (local times, DST-safe)."""
    grid = scenario.grid
    starts = grid.starts
    days = pd.DatetimeIndex(starts.tz_localize(None).normalize().unique())
    out = []
    step = pd.Timedelta(minutes=rules.start_step_min)
    for d, day in enumerate(days):
        open_t = day + pd.Timedelta(hours=scenario.open_hour)
        close_t = day + pd.Timedelta(hours=scenario.close_hour)
        for length in rules.lengths_h:
            L = pd.Timedelta(hours=length)
            s = open_t
            while s + L <= close_t:
                s_abs = s.tz_localize(grid.tz, nonexistent="shift_forward", ambiguous=True)
                e_abs = (s + L).tz_localize(grid.tz, nonexistent="shift_forward", ambiguous=True)
                ss, es = grid.seconds(s_abs), grid.seconds(e_abs)
                if ss >= 0 and es <= grid.horizon_s:
                    lunches = [()]
                    if rules.lunch_min:
                        lunches = []
                        off = rules.lunch_earliest_h * 3600
                        while off <= rules.lunch_latest_h * 3600 + 1e-6:
                            lunches.append(((ss + off, ss + off + 60 * rules.lunch_min),))
                            off += 60 * rules.lunch_step_min
                    brk_h = rules.lunch_min / 60 if rules.lunch_min else 0.0
                    paid = (es - ss) / 3600 - (0.0 if rules.paid_breaks else brk_h)
                    out.extend(Template(d, ss, es, b, paid) for b in lunches)
                s += step
    if not out:
        raise ConfigError(
            f"no shift of {list(rules.lengths_h)} h fits between {scenario.open_hour:g}:00 and "
            f"{scenario.close_hour:g}:00",
            key="lengths_h",
        )
    return out


def templates_from_table(table, scenario: Scenario, *, paid_breaks: bool = False, source: str = "templates"):
    """A centre's own shift catalogue -> templates on every day of the grid.

    ``table`` (a DataFrame, or the path of a CSV) has one row per shift: ``name``, ``start`` and ``end``
    (local ``HH:MM``; an end before the start crosses midnight), optional ``breaks`` (``HH:MM-HH:MM``
    separated by ``;``, as in ``schedule.csv``) and optional ``cost`` per shift (else paid hours x the
    group's cost per hour). Errors name the source, the row and the column."""
    from forecast.errors import DataError
    from sim.staffing import _clock_break, _first_at

    if not isinstance(table, pd.DataFrame):
        if source == "templates":
            source = str(table)  # errors name the file
        try:
            table = pd.read_csv(table, dtype=str, keep_default_na=False)
        except FileNotFoundError:
            raise DataError(f"{source}: file not found") from None
    missing = [c for c in ("name", "start", "end") if c not in table.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; expected {list(CATALOGUE_COLUMNS)}")
    grid = scenario.grid
    days = pd.DatetimeIndex(grid.starts.tz_localize(None).normalize().unique())
    out = []
    for i, r in enumerate(table.to_dict("records")):
        where = f"{source}: row {i + 2}"
        clocks = {}
        for col in ("start", "end"):
            try:
                hh, mm = (int(v) for v in str(r[col]).strip().split(":"))
                if not (0 <= hh < 24 and 0 <= mm < 60):
                    raise ValueError
            except ValueError:
                raise DataError(f"{where}: column '{col}': expected HH:MM; got {r[col]!r}") from None
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
            out.append(Template(d, ss, es, tuple(sorted(breaks)), paid, cost, str(r["name"])))
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


def _overlap(edges, s, e):
    return np.clip(np.minimum(edges[1:], e) - np.maximum(edges[:-1], s), 0.0, None)
