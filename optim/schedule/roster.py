"""Rostering: put named agents on the shifts of a :class:`~sim.staffing.Schedule`, as a small MIP.

The agents table (a DataFrame or ``agents.csv``), one row per agent::

    agent,skill_group,max_weekly_hours,available_days,earliest_start,latest_end,min_days_off
    Ann,phone;email,38,Mon;Tue;Wed;Thu;Fri,07:00,19:00,2
    Bob,phone,,,,,

``agent`` (unique) and ``skill_group`` (one or several groups separated by ``;``; the agent may work
shifts of any of them) are required; every other column is optional, and an empty cell means
"no restriction": ``max_weekly_hours`` (paid hours per calendar week), ``available_days`` (``Mon;Tue``,
full names and ranges such as ``Mon-Fri`` also work), ``earliest_start`` / ``latest_end`` (local ``HH:MM``;
``latest_end`` may be ``24:00``), ``min_days_off`` (per calendar week, default 0). Other columns are an error
(a misspelt ``max_weekly_hour`` must not be ignored silently).

Rules, all in the schedule's local time zone; a shift belongs to the local calendar day it *starts* on and to
the calendar week (Monday to Sunday) of that day:

- skill group: the shift's group is one of the agent's groups;
- availability: the shift's day is one of ``available_days``; it starts at or after ``earliest_start`` and
  ends at or before ``latest_end`` of that day. When ``latest_end`` is at or before ``earliest_start`` the
  window crosses midnight (``20:00`` to ``06:00`` means 20:00 on the shift's day to 06:00 the next day);
  otherwise a shift that ends after midnight ends on the next day and never fits a ``latest_end``;
- at most one shift per agent per day, and at least ``min_rest_h`` hours from the end of one shift to the
  start of the agent's next (so shifts of one agent never overlap, even with ``min_rest_h=0``);
- ``max_weekly_hours``: paid hours (shift length less its unpaid breaks, as :meth:`Schedule.paid_hours`;
  ``paid_breaks`` says which breaks are paid) of the shifts starting in a calendar week; a shift crossing
  into the next week counts in the week it starts;
- ``min_days_off``: days worked in a calendar week <= 7 - ``min_days_off``. Days of a week that lie outside
  the schedule count as days off (nothing is known about them; the neighbouring rosters are responsible), so
  a schedule covering Saturday to Monday restricts each of its two weeks, and one covering three days of a
  single week binds only from ``min_days_off`` = 5. Rest, weekly hours and days off across the schedule's
  edges are likewise not known and not checked.

Model. Identical shifts (same group, start, end, breaks) form a *slot* with a count. ``a[i, s]`` is binary
(agent i works one shift of slot s) and exists only where skill group and availability allow;
``u[s]`` >= 0 is the number of shifts of slot s left unfilled:

- fill: ``sum_i a[i, s] + u[s] = count[s]``;
- one shift at a time: two shifts conflict when they start on the same day or the later one starts less than
  ``min_rest_h`` after the earlier one ends. That is exactly the overlap of the intervals
  ``[start, max(end + min_rest, first instant of the next local day))``, so the conflict graph is an interval
  graph: one row ``sum a[i, s] <= 1`` per agent and maximal clique (the slots alive at a start point)
  states every pairwise conflict exactly, in the tightest form: the clique matrix of an interval graph has
  consecutive ones, so for one agent these rows alone have an integral LP (Fulkerson and Gross 1965);
- weekly hours ``sum_s h[s] a[i, s] <= max_weekly_hours`` and days ``sum_s a[i, s] <= 7 - min_days_off`` per
  agent and week (with one shift a day, the shifts in a week are the days worked), written only where they
  can bind;
- phase 1 minimises ``sum_s u[s]``, the unfilled shifts. Phase 2 (``fair=True``) keeps that number
  (``sum_s u[s] <= U``) and spreads the shifts: the k-th shift of an agent costs k (continuous
  ``z[i, k]`` in [0, 1] with ``sum_s a[i, s] = sum_k z[i, k]``), i.e. it minimises
  ``sum_i n_i (n_i + 1) / 2`` over the agents' shift counts n_i. That convex cost on counts has a tight LP
  relaxation, so the solver proves it in about the time of phase 1; fairness in *hours* (a min-max or
  squared hours) was tried and is not: its LP bound lies at the fractional even split, and SCIP needed
  about a minute to prove it on a 10-agent week. With shifts of one length, equal counts are equal hours.

Phase 1 is solved to optimality by default (``rel_gap=0``), so no roster fills more shifts; with a gap or a
time limit ``report.unfilled_bound`` is the solver's proof of how many shifts must stay unfilled in any
roster, and ``report.proven`` says whether the roster reaches it. Each phase gets the solver's time limit;
``report.solve`` is phase 1, ``report.fair`` phase 2 (None when it did not run; if it finds no solution the
phase-1 roster is kept and ``report.note`` says why).

Unfilled shifts are not an error: the returned schedule keeps those rows with an empty ``agent`` and the
report lists each (group, start, end, schedule row, and why: no qualified agent available, or the qualified
agents are all taken or blocked by the rules); ``report.complete`` is False and :meth:`RosterReport.summary`
says so first. ``strict=True`` raises :class:`~forecast.errors.InfeasibleError` instead.
Rows of the schedule that already name an agent are kept as fixed assignments (the agent must be in the
table and allowed on the shift, and the row's count must be 1).

Pseudonyms: ``pseudonymise=True`` (no salt) or a salt string replaces every name by ``agent-`` and the
first 6 hex digits of the keyed BLAKE2b hash of the name (names whose digits coincide get two more digits
until all differ), stable for the same name and salt; ``report.pseudonyms`` maps pseudonym -> real name.
Without a secret salt anyone holding the list of names can recompute the pseudonyms.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from forecast.errors import ConfigError, DataError, InfeasibleError, SolverError
from forecast.files import read_csv_text
from sim.staffing import SCHEDULE_COLUMNS, Schedule

from .backends import SolveReport, SolverOptions, solve_model
from .model import ModelBuilder

__all__ = ["AGENT_COLUMNS", "Agent", "RosterReport", "UnfilledShift", "read_agents", "roster"]

AGENT_COLUMNS = (
    "agent",
    "skill_group",
    "max_weekly_hours",
    "available_days",
    "earliest_start",
    "latest_end",
    "min_days_off",
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAY_NAMES = tuple(d[:3] for d in _WEEKDAYS)
_DAYS = {n.lower(): i for i, d in enumerate(_WEEKDAYS) for n in (d, d[:3])}
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


# -- the agents table -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Agent:
    """One parsed row of the agents table. Times in minutes after local midnight of the shift's day."""

    name: str
    groups: frozenset[str]
    max_weekly_hours: float | None = None
    days: frozenset[int] = frozenset(range(7))  # 0 = Monday
    earliest_start_min: int | None = None
    latest_end_min: int | None = None
    min_days_off: int = 0
    row: int = 0

    def window_end_min(self) -> float:
        """Latest end in minutes after midnight of the shift's day (> 1440 for a window across midnight)."""
        if self.latest_end_min is None:
            return math.inf
        if self.earliest_start_min is not None and self.latest_end_min <= self.earliest_start_min:
            return self.latest_end_min + 1440
        return self.latest_end_min


def _cell(v) -> str:
    if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
        return ""
    return str(v).strip()


def _clock(text: str, where: str, column: str, allow_24: bool) -> int:
    m = _HHMM.match(text)
    h, mi = (int(m.group(1)), int(m.group(2))) if m else (-1, -1)
    ok = m and 0 <= mi < 60 and (0 <= h < 24 or (allow_24 and h == 24 and mi == 0))
    if not ok:
        upto = "24:00" if allow_24 else "23:59"
        raise DataError(
            f"{where}: column '{column}': expected a local clock time HH:MM from 00:00 to {upto} "
            f"(empty = any); got {text!r}"
        )
    return 60 * h + mi


def _days(text: str, where: str) -> frozenset[int]:
    out = set()
    for token in re.split(r"[;,]", text):
        token = token.strip()
        if not token:
            continue
        a, sep, b = token.partition("-")
        ia, ib = _DAYS.get(a.strip().lower()), _DAYS.get(b.strip().lower()) if sep else None
        if ia is None or (sep and ib is None):
            raise DataError(
                f"{where}: column 'available_days': expected day names {';'.join(_DAY_NAMES)} (or ranges "
                f"such as Mon-Fri) separated by ';' (empty = every day); {token!r} is not one, in {text!r}"
            )
        out.update([ia] if not sep else [(ia + k) % 7 for k in range((ib - ia) % 7 + 1)])
    if not out:
        raise DataError(f"{where}: column 'available_days': no day names in {text!r}")
    return frozenset(out)


def read_agents(agents, skill_groups=None, source: str = "agents") -> list[Agent]:
    """Parse the agents table (a DataFrame, or the path of a CSV file).

    ``skill_groups``: the known group names (default: any). Errors are :class:`DataError` naming the source
    (the file path for a CSV), the row (header = row 1, first agent = row 2), the column and what was
    expected."""
    if isinstance(agents, pd.DataFrame):
        df = agents
    elif isinstance(agents, str | Path):
        path = Path(agents)
        source = str(path)
        df = read_csv_text(path)
    else:
        raise ConfigError(
            f"expected a DataFrame or the path of a CSV file; got {type(agents).__name__}", key="agents"
        )
    df = df.rename(columns=lambda c: str(c).strip())
    missing = [c for c in ("agent", "skill_group") if c not in df.columns]
    unknown = [c for c in df.columns if c not in AGENT_COLUMNS]
    if missing or unknown:
        what = f"missing column(s) {missing}" if missing else f"unknown column(s) {unknown}"
        raise DataError(
            f"{source}: {what}; expected columns {list(AGENT_COLUMNS)} (only the first two required)"
        )
    known = None if skill_groups is None else sorted(set(skill_groups))
    out, seen = [], {}
    for i, r in enumerate(df.to_dict("records")):
        row = i + 2  # +1 for the header line, +1 for 1-based rows
        where = f"{source}: row {row}"
        name = _cell(r.get("agent"))
        if not name:
            raise DataError(f"{where}: column 'agent': expected an agent name; got an empty cell")
        if name in seen:
            raise DataError(
                f"{where}: column 'agent': duplicate agent name {name!r} (also on row {seen[name]}); "
                "expected unique names"
            )
        seen[name] = row
        text = _cell(r.get("skill_group"))
        groups = [g.strip() for g in text.split(";") if g.strip()]
        if not groups:
            raise DataError(
                f"{where}: column 'skill_group': expected one or more skill group names separated by ';'; "
                f"got {text!r}"
            )
        bad = [g for g in groups if known is not None and g not in known]
        if bad:
            raise DataError(
                f"{where}: column 'skill_group': unknown skill group {bad[0]!r}; expected one of {known}"
            )
        cap = _cell(r.get("max_weekly_hours"))
        cap_h = None
        if cap:
            try:
                cap_h = float(cap)
            except ValueError:
                cap_h = -1.0
            if not (math.isfinite(cap_h) and cap_h >= 0):
                raise DataError(
                    f"{where}: column 'max_weekly_hours': expected a number of paid hours >= 0 per calendar "
                    f"week (empty = no cap); got {cap!r}"
                )
        days_text = _cell(r.get("available_days"))
        early, late = _cell(r.get("earliest_start")), _cell(r.get("latest_end"))
        off = _cell(r.get("min_days_off"))
        off_n = 0
        if off:
            try:
                off_f = float(off)
            except ValueError:
                off_f = -1.0
            if not (0 <= off_f <= 7 and off_f == int(off_f)):
                raise DataError(
                    f"{where}: column 'min_days_off': expected an integer from 0 to 7 (days off per "
                    f"calendar week; empty = 0); got {off!r}"
                )
            off_n = int(off_f)
        out.append(
            Agent(
                name=name,
                groups=frozenset(groups),
                max_weekly_hours=cap_h,
                days=_days(days_text, where) if days_text else frozenset(range(7)),
                earliest_start_min=_clock(early, where, "earliest_start", False) if early else None,
                latest_end_min=_clock(late, where, "latest_end", True) if late else None,
                min_days_off=off_n,
                row=row,
            )
        )
    return out


# -- pseudonyms -------------------------------------------------------------------------------------------
def _pseudonyms(names, salt: str, length: int = 6) -> dict[str, str]:
    """Real name -> ``agent-<hex>``: keyed BLAKE2b of the name; colliding prefixes grow by 2 digits."""
    key = salt.encode()
    if len(key) > hashlib.blake2b.MAX_KEY_SIZE:
        key = hashlib.blake2b(key).digest()
    digest = {n: hashlib.blake2b(n.encode(), key=key, digest_size=32).hexdigest() for n in names}
    size = dict.fromkeys(names, length)
    while True:
        groups = defaultdict(list)
        for n in names:
            groups[digest[n][: size[n]]].append(n)
        clashes = [g for g in groups.values() if len(g) > 1]
        if not clashes:
            return {n: f"agent-{digest[n][: size[n]]}" for n in names}
        for g in clashes:
            for n in g:
                if size[n] >= len(digest[n]):  # 256-bit collision: cannot happen for distinct names
                    raise RuntimeError(f"pseudonym collision for {g}")
                size[n] += 2


# -- report -----------------------------------------------------------------------------------------------
class UnfilledShift(NamedTuple):
    skill_group: str
    start: pd.Timestamp
    end: pd.Timestamp
    row: int  # the schedule row (schedule.csv line; header = 1)
    reason: str


@dataclass
class RosterReport:
    """What the roster achieved. ``hours``: paid hours per agent (every agent, by the names in the returned
    schedule); ``pseudonyms``: pseudonym -> real name (empty without pseudonyms); ``unfilled_bound``: no
    roster fills fewer than this many shifts (from the solver's bound)."""

    n_shifts: int
    n_assigned: int
    unfilled: list[UnfilledShift]
    hours: dict[str, float]
    solve: SolveReport
    unfilled_bound: int
    min_rest_h: float
    pseudonyms: dict[str, str] = field(default_factory=dict)
    fair: SolveReport | None = None
    note: str = ""

    @property
    def n_unfilled(self) -> int:
        return len(self.unfilled)

    @property
    def complete(self) -> bool:
        """Every shift has an agent."""
        return not self.unfilled

    @property
    def proven(self) -> bool:
        """No roster fills more shifts than this one (the solver proved it)."""
        return self.n_unfilled <= self.unfilled_bound

    def summary(self) -> str:
        s = self.solve
        head = "complete" if self.complete else f"INCOMPLETE: {self.n_unfilled} shift(s) unfilled"
        lines = [
            f"roster {head}: {self.n_assigned} of {self.n_shifts} shifts assigned to "
            f"{sum(h > 0 for h in self.hours.values())} of {len(self.hours)} agents "
            f"({s.solver} {s.status}, gap {s.gap:.2%}, {s.time_s:.1f} s"
            + ("" if self.proven else f"; at least {self.unfilled_bound} must stay unfilled")
            + ")"
        ]
        if self.fair is not None:
            f = self.fair
            lines.append(
                f"  shifts spread evenly over the agents ({f.status}, gap {f.gap:.2%}, {f.time_s:.1f} s)"
            )
        if self.note:
            lines.append(f"  note: {self.note}")
        for u in self.unfilled:
            lines.append(
                f"  unfilled: {u.skill_group} {u.start:%a %Y-%m-%d %H:%M}-{u.end:%H:%M} (row {u.row}): "
                f"{u.reason}"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Flat figures for tracking; leaves out names and pseudonyms."""
        hours = np.array(list(self.hours.values()) or [0.0])
        return {
            "roster_shifts": self.n_shifts,
            "roster_assigned": self.n_assigned,
            "roster_unfilled": self.n_unfilled,
            "roster_unfilled_bound": self.unfilled_bound,
            "roster_complete": self.complete,
            "roster_hours_max": float(hours.max()),
            "roster_hours_min": float(hours.min()),
            "roster_status": self.solve.status,
            "roster_gap": self.solve.gap,
            "roster_fair_status": self.fair.status if self.fair is not None else "",
        }


# -- slots ------------------------------------------------------------------------------------------------
def _paid_hours(starts, ends, breaks, paid_breaks=False) -> np.ndarray:
    """Paid hours of each shift, by :meth:`Schedule.paid_hours` (breaks unpaid unless ``paid_breaks``)."""
    if not len(starts):
        return np.zeros(0)
    keys = [str(k) for k in range(len(starts))]
    frame = pd.DataFrame(
        {"skill_group": keys, "agent": "", "count": 1, "start": starts, "end": ends, "breaks": breaks}
    )
    return Schedule(frame).paid_hours(paid_breaks).reindex(keys).to_numpy(float)


def _local(ts, tz) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    if ts.tzinfo is None:
        if tz is None:
            raise ConfigError(
                "the schedule's times have no time zone; pass tz= (e.g. 'Europe/Berlin')", key="tz"
            )
        return ts.tz_localize(tz)
    return ts.tz_convert(tz) if tz is not None else ts


@dataclass
class _Slots:
    group: list[str]
    start: list[pd.Timestamp]
    end: list[pd.Timestamp]
    breaks: list[list]
    count: np.ndarray
    hours: np.ndarray
    day: list[date]
    start_min: np.ndarray  # wall-clock minutes after local midnight of the shift's day
    end_min: np.ndarray
    start_ns: np.ndarray  # UTC epoch ns
    ext_ns: np.ndarray  # end of the conflict interval: max(end + rest, next local midnight)
    members: list[list[tuple[int, int]]]  # (schedule row index, copy) per slot
    fixed: list[dict[str, int]]  # pre-assigned agent -> schedule row index

    @property
    def week(self) -> list[date]:
        return [d - timedelta(days=d.weekday()) for d in self.day]


def _slots(schedule: Schedule, tz, rest_h: float, paid_breaks=False) -> _Slots:
    df = schedule.shifts
    if tz is None and len(df):
        tz = pd.Timestamp(df["start"].iloc[0]).tz
    index: dict[tuple, int] = {}
    keys, members, fixed = [], [], []
    for i, r in enumerate(df.itertuples(index=False)):
        start, end = _local(r.start, tz), _local(r.end, tz)
        brk = [(_local(a, tz), _local(b, tz)) for a, b in r.breaks]
        key = (r.skill_group, start, end, tuple(brk))
        s = index.setdefault(key, len(keys))
        if s == len(keys):
            keys.append(key)
            members.append([])
            fixed.append({})
        members[s].extend((i, k) for k in range(int(r.count)))
        name = _cell(r.agent)
        if name:
            where = f"schedule: row {i + 2}: column 'agent'"
            if int(r.count) != 1:
                raise DataError(f"{where}: a row that names an agent must have count 1; got {r.count}")
            if name in fixed[s]:
                raise DataError(
                    f"{where}: {name!r} already has the identical shift on row {fixed[s][name] + 2}"
                )
            fixed[s][name] = i
    start = [k[1] for k in keys]
    end = [k[2] for k in keys]
    breaks = [list(k[3]) for k in keys]
    day = [t.tz_localize(None).date() for t in start]
    midnight = [pd.Timestamp(d + timedelta(days=1)) for d in day]
    next_day = [m.tz_localize(tz, nonexistent="shift_forward", ambiguous=True) for m in midnight]
    rest = pd.Timedelta(hours=rest_h)
    return _Slots(
        group=[k[0] for k in keys],
        start=start,
        end=end,
        breaks=breaks,
        count=np.array([len(m) for m in members], dtype=int),
        hours=_paid_hours(start, end, breaks, paid_breaks),
        day=day,
        start_min=np.array(
            [(t.tz_localize(None) - pd.Timestamp(d)) / pd.Timedelta(minutes=1) for t, d in zip(start, day)]
        ),
        end_min=np.array(
            [(t.tz_localize(None) - pd.Timestamp(d)) / pd.Timedelta(minutes=1) for t, d in zip(end, day)]
        ),
        start_ns=np.array([t.value for t in start], dtype=np.int64),
        ext_ns=np.array([max(e + rest, n).value for e, n in zip(end, next_day)], dtype=np.int64),
        members=members,
        fixed=fixed,
    )


def _allowed(agent: Agent, sl: _Slots) -> np.ndarray:
    """Which slots the agent may work, by skill group, day and clock window."""
    ok = np.array(
        [g in agent.groups and d.weekday() in agent.days for g, d in zip(sl.group, sl.day)], dtype=bool
    )
    if agent.earliest_start_min is not None:
        ok &= sl.start_min >= agent.earliest_start_min
    ok &= sl.end_min <= agent.window_end_min()
    return ok


def _cliques(idx: np.ndarray, start_ns: np.ndarray, ext_ns: np.ndarray) -> list[np.ndarray]:
    """Maximal cliques (of size >= 2) of the interval graph of [start, ext) over the slots ``idx``: the slots
    alive at a start point p, kept unless every one of them is still alive at the next start point."""
    out = []
    points = np.unique(start_ns[idx])
    for k, p in enumerate(points):
        mem = idx[(start_ns[idx] <= p) & (ext_ns[idx] > p)]
        if len(mem) < 2 or (k + 1 < len(points) and ext_ns[mem].min() > points[k + 1]):
            continue
        out.append(mem)
    return out


def _build(sl: _Slots, people: list[Agent], allowed: np.ndarray, max_unfilled: float | None):
    """The roster MIP: phase 1 (``max_unfilled`` None) minimises the unfilled shifts; phase 2 minimises
    ``sum_i n_i (n_i + 1) / 2`` over the agents' shift counts among the rosters leaving at most
    ``max_unfilled`` shifts unfilled. Columns: ``u[s]`` first (one per slot), then ``a[i, s]``, then phase 2's
    ``z[i, k]``. Returns the model and the (i, s) -> column map."""
    n_s = len(sl.group)
    fair = max_unfilled is not None
    mb = ModelBuilder()
    u = [mb.var(f"unfilled[s{s}]", obj=0.0 if fair else 1.0, ub=float(sl.count[s])) for s in range(n_s)]
    a = {}
    for i, s in zip(*np.nonzero(allowed)):
        lb = 1.0 if people[i].name in sl.fixed[s] else 0.0
        a[i, s] = mb.var(f"a[i{i},s{s}]", lb=lb, ub=1.0, integer=True)
    for s in range(n_s):
        cols = [a[i, s] for i in np.nonzero(allowed[:, s])[0]] + [u[s]]
        mb.row(f"fill[s{s}]", cols, np.ones(len(cols)), lhs=float(sl.count[s]), rhs=float(sl.count[s]))
    if fair:
        mb.row("unfilled", u, np.ones(n_s), rhs=max_unfilled)
    weeks = sl.week
    for i, ag in enumerate(people):
        idx = np.nonzero(allowed[i])[0]
        if not idx.size:
            continue
        for k, cl in enumerate(_cliques(idx, sl.start_ns, sl.ext_ns)):
            mb.row(f"one_at_a_time[i{i},{k}]", [a[i, s] for s in cl], np.ones(len(cl)), rhs=1.0)
        by_week = defaultdict(list)
        for s in idx:
            by_week[weeks[s]].append(s)
        for w, ss in by_week.items():
            days = defaultdict(float)
            for s in ss:
                days[sl.day[s]] = max(days[sl.day[s]], sl.hours[s])
            if ag.max_weekly_hours is not None and sum(days.values()) > ag.max_weekly_hours + 1e-9:
                mb.row(f"hours[i{i},{w}]", [a[i, s] for s in ss], sl.hours[ss], rhs=ag.max_weekly_hours)
            if len(days) > 7 - ag.min_days_off:
                mb.row(f"days[i{i},{w}]", [a[i, s] for s in ss], np.ones(len(ss)), rhs=7.0 - ag.min_days_off)
        if fair:  # the k-th shift of an agent costs k: sum of n_i (n_i + 1) / 2 over the agents' shift counts
            k_max = len({sl.day[s] for s in idx})
            z = [mb.var(f"shift_no[i{i},{k}]", obj=float(k), ub=1.0) for k in range(1, k_max + 1)]
            mb.row(
                f"fair[i{i}]", [a[i, s] for s in idx] + z, np.r_[np.ones(idx.size), -np.ones(k_max)], 0.0, 0.0
            )
    return mb.build(kind="roster", phase="fair" if fair else "fill"), a


def _solve(model, solver: SolverOptions, sl: _Slots, min_rest_h: float):
    try:
        return solve_model(model, solver)
    except InfeasibleError:
        if not any(sl.fixed):
            raise
        rows = sorted(i + 2 for fx in sl.fixed for i in fx.values())
        raise InfeasibleError(
            f"schedule: the agents already named on rows {rows} cannot all keep their shifts under the rules "
            f"(one shift a day, {min_rest_h:g} h rest, max_weekly_hours, min_days_off); clear some of them"
        ) from None


# -- the roster -------------------------------------------------------------------------------------------
def roster(
    schedule: Schedule,
    agents,
    *,
    tz=None,
    min_rest_h: float = 11.0,
    solver: SolverOptions | None = None,
    pseudonymise: bool | str = False,
    source: str = "agents",
    skill_groups=None,
    fair: bool = True,
    strict: bool = False,
    paid_breaks=False,
) -> tuple[Schedule, RosterReport]:
    """Assign named agents to the shifts of ``schedule`` (see the module docstring for the rules and model).

    ``agents``: the agents table (DataFrame, or a CSV path; ``source`` names a DataFrame in messages);
    ``tz``: the local time zone for days, weeks and clock windows (default: the schedule's); ``min_rest_h``:
    hours from the end of one shift to the start of the agent's next; ``solver``: default SCIP solved to
    optimality; ``pseudonymise``: False, True or a salt string; ``skill_groups``: the known group names
    (default: the schedule's); ``fair``: among the rosters that fill the most shifts, spread the shifts
    evenly over the agents (phase 2); ``strict``: raise :class:`InfeasibleError` if a shift stays unfilled;
    ``paid_breaks``: as in :meth:`Schedule.paid_hours` (False: breaks unpaid; True; or the break lengths in
    minutes that are paid, e.g. ``{15}``), for ``max_weekly_hours`` and ``report.hours``.

    Returns the schedule with one row per shift (count 1, ``agent`` filled, or empty where unfilled) in the
    order of the input rows, and a :class:`RosterReport`."""
    if not (isinstance(min_rest_h, int | float) and math.isfinite(min_rest_h) and 0 <= min_rest_h < 168):
        raise ConfigError(f"expected hours from 0 to 168; got {min_rest_h!r}", key="min_rest_h")
    if isinstance(pseudonymise, bool):
        salt = "" if pseudonymise else None
    elif isinstance(pseudonymise, str):
        salt = pseudonymise
    else:
        raise ConfigError(f"expected False, True or a salt string; got {pseudonymise!r}", key="pseudonymise")
    solver = solver or SolverOptions(rel_gap=0.0)
    sl = _slots(schedule, tz, float(min_rest_h), paid_breaks)
    groups = sorted(set(sl.group)) if skill_groups is None else list(skill_groups)
    people = read_agents(
        agents, skill_groups=groups if (groups or skill_groups is not None) else None, source=source
    )
    by_name = {a.name: i for i, a in enumerate(people)}
    n_s = len(sl.group)
    allowed = np.array([_allowed(a, sl) for a in people], dtype=bool).reshape(len(people), n_s)
    for s, fx in enumerate(sl.fixed):
        for name, i in fx.items():
            where = f"schedule: row {i + 2}: column 'agent'"
            if name not in by_name:
                raise DataError(f"{where}: agent {name!r} is not in the agents table {source}")
            if not allowed[by_name[name], s]:
                raise DataError(
                    f"{where}: agent {name!r} may not work this {sl.group[s]} shift at "
                    f"{sl.start[s]:%a %Y-%m-%d %H:%M}; "
                    f"check skill_group, available_days, earliest_start and latest_end on row "
                    f"{people[by_name[name]].row} of {source}"
                )

    # -- phase 1: fill as many shifts as possible; phase 2 (fair): as many, spread evenly over the agents
    model, a = _build(sl, people, allowed, max_unfilled=None)
    x, rep = _solve(model, solver, sl, min_rest_h)
    unfilled_bound = max(0, math.ceil(rep.best_bound - 1e-6)) if math.isfinite(rep.best_bound) else 0
    n_unfilled = float(np.round(x[:n_s].sum()))
    fair_rep, note = None, ""
    if fair and len(people) > 1 and n_unfilled < sl.count.sum():
        model2, a2 = _build(sl, people, allowed, max_unfilled=n_unfilled)
        try:
            x2, fair_rep = _solve(model2, solver, sl, min_rest_h)
            x, a = x2, a2
        except SolverError as exc:
            note = f"shifts not spread evenly (phase 2 found no solution: {exc})"

    # -- the roster
    names = [p.name for p in people]
    alias = _pseudonyms(names, salt) if salt is not None else {n: n for n in names}
    out_agent: dict[tuple[int, int], str] = {}
    unfilled = []
    for s in range(n_s):
        taken = sorted(people[i].name for i in np.nonzero(allowed[:, s])[0] if x[a[i, s]] > 0.5)
        fixed = sl.fixed[s]
        free = [n for n in taken if n not in fixed]
        for row, copy in sl.members[s]:
            pinned = [n for n, r in fixed.items() if r == row]
            name = pinned[0] if pinned else (free.pop(0) if free else "")
            out_agent[row, copy] = name
            if not name:
                unfilled.append((row, s))
    frame_rows = []
    df = schedule.shifts
    for i, r in enumerate(df.itertuples(index=False)):
        for k in range(int(r.count)):
            name = out_agent[i, k]
            frame_rows.append((r.skill_group, alias[name] if name else "", 1, r.start, r.end, list(r.breaks)))
    shifts = pd.DataFrame(frame_rows, columns=list(SCHEDULE_COLUMNS))
    shifts["count"] = shifts["count"].astype(int)
    hours_rows = _paid_hours(list(shifts["start"]), list(shifts["end"]), list(shifts["breaks"]), paid_breaks)
    hours = dict.fromkeys((alias[n] for n in names), 0.0)
    for name, h in zip(shifts["agent"], hours_rows):
        if name:
            hours[name] += float(h)
    report = RosterReport(
        n_shifts=len(shifts),
        n_assigned=int((shifts["agent"] != "").sum()),
        unfilled=[_unfilled(row, s, sl, people, allowed, rep.status, min_rest_h) for row, s in unfilled],
        hours=hours,
        solve=rep,
        unfilled_bound=min(unfilled_bound, len(unfilled)),
        min_rest_h=float(min_rest_h),
        pseudonyms={v: k for k, v in alias.items()} if salt is not None else {},
        fair=fair_rep,
        note=note,
    )
    if strict and not report.complete:
        raise InfeasibleError(report.summary())
    return Schedule(shifts), report


def _unfilled(
    row: int, s: int, sl: _Slots, people: list[Agent], allowed: np.ndarray, status: str, rest_h: float
):
    g = sl.group[s]
    qualified = [p for p in people if g in p.groups]
    n = int(allowed[:, s].sum())
    if not qualified:
        why = f"no agent has skill group {g!r}"
    elif n == 0:
        why = (
            f"none of the {len(qualified)} agent(s) with skill group {g!r} is available then "
            "(available_days, earliest_start, latest_end)"
        )
    else:
        why = (
            f"the {n} agent(s) who could work it are all on other shifts or blocked by the rules "
            f"(one shift a day, {rest_h:g} h rest, max_weekly_hours, min_days_off)"
        )
        if status != "optimal":
            why += f"; the solver stopped early ({status}), a better roster may fill it"
    return UnfilledShift(g, sl.start[s], sl.end[s], row + 2, why)
