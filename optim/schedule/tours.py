"""Week mode: tours (days worked and days off, weekly hours, optionally one start time all week).

A *tour* is one agent's week: the days worked (a days-off pattern), the shift length and, with
``same_start``, the clock time at which every shift of the week starts (with ``start_band_min``, the block
of that many minutes of the clock, from midnight, in which every start falls: a similar start all week).
Tour variables ``p[g, tour]`` (integer agents) are linked to the daily shift variables of the MIP by, for
every skill group g, day d and shift class k (length; or length and start clock, or start band),

    sum_{shifts j of day d in class k} x[g, j] = sum_{tours with class k working on d} p[g, tour],

so that every agent working a day takes exactly one shift of its class that day (an implicit tour model in
the manner of Bailey 1985 and Jarrah, Bard and deSilva 1994). With flexible start times a tour fixes the
length, not the start: the day's shifts of that length are shared among the agents working that day, so
the start may differ from day to day (the roster step, :func:`optim.schedule.roster`, then respects the
rest between shifts for named agents). The headcount is ``sum p``.

Days-off patterns: ``days_per_week`` working days out of 7 (one or several values, e.g. ``[4, 5]`` for four
10-hour or five 8-hour days), with the days off consecutive if ``consecutive_days_off`` (counted cyclically,
Sunday-Monday included, since the week repeats); ``weekly_hours`` bounds each tour's paid hours (days x paid
hours of the shift). The horizon must be one week (7 local days).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from forecast.errors import ConfigError
from sim.scenario import _number

from .templates import Template

__all__ = ["TourRules", "day_off_patterns", "shift_class", "tour_classes"]


@dataclass(frozen=True)
class TourRules:
    """Week-mode rules (see the module docstring)."""

    days_per_week: tuple[int, ...] = (5,)
    consecutive_days_off: bool = True
    weekly_hours: tuple[float, float] | None = None
    same_start: bool = False
    start_band_min: int | None = None

    def __post_init__(self):
        d = self.days_per_week
        days = (d,) if isinstance(d, int | float) and not isinstance(d, bool) else tuple(d)
        if not days:
            raise ConfigError("expected at least one number of days", key="days_per_week")
        for v in days:
            _number(v, "days_per_week", lo=1, hi=7, integer=True)
        object.__setattr__(self, "days_per_week", tuple(sorted({int(v) for v in days})))
        for name in ("consecutive_days_off", "same_start"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"expected true or false; got {getattr(self, name)!r}", key=name)
        if self.start_band_min is not None:
            _number(self.start_band_min, "start_band_min", lo=1, hi=1440, integer=True)
            if self.same_start:
                raise ConfigError(
                    "expected either same_start or start_band_min, not both", key="start_band_min"
                )
        if self.weekly_hours is not None:
            if not isinstance(self.weekly_hours, list | tuple) or len(self.weekly_hours) != 2:
                raise ConfigError(
                    f"expected [min, max] paid hours; got {self.weekly_hours!r}", key="weekly_hours"
                )
            wh = tuple(self.weekly_hours)
            if len(wh) != 2:
                raise ConfigError(
                    f"expected [min, max] paid hours; got {self.weekly_hours!r}", key="weekly_hours"
                )
            lo = _number(wh[0], "weekly_hours", lo=0)
            _number(wh[1], "weekly_hours", lo=lo)
            object.__setattr__(self, "weekly_hours", (float(wh[0]), float(wh[1])))


def day_off_patterns(days_per_week: int, consecutive: bool) -> list[tuple[int, ...]]:
    """The sets of working days (0 = the first day of the week) with ``7 - days_per_week`` days off, the
    days off consecutive (cyclically) if asked."""
    off = 7 - days_per_week
    out = []
    for work in combinations(range(7), days_per_week):
        if consecutive and 0 < off < 7:
            offs = sorted(set(range(7)) - set(work))
            # consecutive on the cycle: exactly one gap larger than 1 between successive days off
            gaps = [(offs[(i + 1) % off] - offs[i]) % 7 for i in range(off)]
            if off > 1 and sum(g != 1 for g in gaps) != 1:
                continue
        out.append(work)
    return out


def shift_class(tp: Template, grid, rules: TourRules) -> tuple:
    """A shift's class for tours: its nominal length in seconds, and its local start clock with
    ``same_start`` or its start band (``HH:MM-HH:MM``, local clock blocks of ``start_band_min`` from
    midnight) with ``start_band_min``; a shift across a DST change keeps the class of its wall-clock
    length."""
    length = round(tp.length_s)
    start = grid.timestamp(tp.start_s)
    if rules.same_start:
        return (length, f"{start:%H:%M}")
    if rules.start_band_min:
        w = rules.start_band_min
        lo = (start.hour * 60 + start.minute) // w * w
        hi = min(lo + w, 1440)
        return (length, f"{lo // 60:02d}:{lo % 60:02d}-{hi // 60:02d}:{hi % 60:02d}")
    return (length,)


def tour_classes(templates: list[Template], rules: TourRules, grid) -> tuple[list, dict]:
    """``(tours, by_key)``: the admissible tours, each ``(pattern, key, paid_h_week)``, where ``key``
    identifies a shift class (the length in seconds, and the local start clock with ``same_start``); and for
    every (day, key) the template indices of that class on that day."""
    by_key: dict = {}
    paid: dict = {}
    for j, tp in enumerate(templates):
        key = shift_class(tp, grid, rules)
        by_key.setdefault((tp.day, key), []).append(j)
        paid.setdefault(key, []).append(tp.paid_h)
    tours = []
    for key, ph in sorted(paid.items()):
        p = float(np.max(ph))  # one class: the same paid hours (lengths and break rules); the dearest if not
        for dpw in rules.days_per_week:
            week_h = dpw * p
            if rules.weekly_hours is not None and not (
                rules.weekly_hours[0] - 1e-9 <= week_h <= rules.weekly_hours[1] + 1e-9
            ):
                continue
            for pat in day_off_patterns(dpw, rules.consecutive_days_off):
                if all((d, key) in by_key for d in pat):
                    tours.append((pat, key, week_h))
    return tours, by_key
