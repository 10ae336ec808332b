"""Rostering against brute-force enumeration on tiny instances, every roster re-checked by an independent
rule checker, the rest / day-off rules on hand-worked cases, pseudonyms against BLAKE2b, and input errors."""

import hashlib
import itertools
import re
import time as clock
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import numpy as np
import pandas as pd
import pytest

from forecast.errors import ConfigError, DataError, InfeasibleError, SolverError
from optim.schedule import SolverOptions
from optim.schedule.roster import _pseudonyms, roster
from sim.staffing import Schedule

GROUPS = ["phone", "email"]
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass
class Spec:
    """An agent as the test sees it (written to the agents table by _table, read back only by the code)."""

    name: str
    groups: tuple
    cap: float | None = None
    days: tuple | None = None  # weekday numbers, 0 = Monday
    earliest: str | None = None
    latest: str | None = None
    min_off: int = 0


def _table(specs) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agent": [s.name for s in specs],
            "skill_group": [";".join(s.groups) for s in specs],
            "max_weekly_hours": ["" if s.cap is None else str(s.cap) for s in specs],
            "available_days": ["" if s.days is None else ";".join(DAYS[d] for d in s.days) for s in specs],
            "earliest_start": [s.earliest or "" for s in specs],
            "latest_end": [s.latest or "" for s in specs],
            "min_days_off": [str(s.min_off) for s in specs],
        }
    )


def _run(schedule, specs, **kw):
    """roster() on the agents of ``specs``, with both groups known (an instance may lack shifts of one)."""
    return roster(schedule, _table(specs), skill_groups=GROUPS, **kw)


def _schedule(rows, tz) -> Schedule:
    """rows: (group, start, end[, count[, breaks[, agent]]]) with local ISO times."""
    rows = [tuple(r) + (1, "", "")[len(r) - 3 :] for r in rows]
    df = pd.DataFrame(rows, columns=["skill_group", "start", "end", "count", "breaks", "agent"])
    return Schedule.from_frame(df, tz)


# -- the independent checker --------------------------------------------------------------------------------
@dataclass
class Shift:
    group: str
    start: pd.Timestamp  # local
    end: pd.Timestamp
    paid_h: float


def _shifts(schedule: Schedule, tz) -> list[tuple[str, Shift]]:
    """(agent, Shift) per shift; paid hours = elapsed length less the breaks, computed here."""
    out = []
    for r in schedule.shifts.itertuples(index=False):
        brk = sum((be - bs).total_seconds() for bs, be in r.breaks)
        paid = ((r.end - r.start).total_seconds() - brk) / 3600
        sh = Shift(r.skill_group, r.start.tz_convert(tz), r.end.tz_convert(tz), paid)
        out.extend([(r.agent, sh)] * int(r.count))
    return out


def _shift_ok(spec: Spec, sh: Shift) -> bool:
    if sh.group not in spec.groups:
        return False
    if spec.days is not None and sh.start.weekday() not in spec.days:
        return False
    if spec.earliest and sh.start.time() < time.fromisoformat(spec.earliest):
        return False
    if spec.latest:
        base = sh.start.date()
        if spec.latest == "24:00":
            limit = datetime.combine(base + timedelta(days=1), time(0))
        else:
            late = time.fromisoformat(spec.latest)
            if spec.earliest and late <= time.fromisoformat(spec.earliest):
                base += timedelta(days=1)  # a night window: latest_end is on the next day
            limit = datetime.combine(base, late)
        if sh.end.tz_localize(None).to_pydatetime() > limit:
            return False
    return True


def _agent_violations(spec: Spec, shifts: list[Shift], rest_h: float) -> list[str]:
    bad = []
    days = [sh.start.date() for sh in shifts]
    if len(set(days)) < len(days):
        bad.append(f"{spec.name}: two shifts on one day")
    ordered = sorted(shifts, key=lambda sh: sh.start)
    for i, j in itertools.combinations(range(len(ordered)), 2):
        gap_h = (ordered[j].start - ordered[i].end).total_seconds() / 3600
        if gap_h < rest_h - 1e-9:
            bad.append(f"{spec.name}: {gap_h} h rest before {ordered[j].start}")
    weeks = defaultdict(list)
    for sh in shifts:
        weeks[sh.start.date().isocalendar()[:2]].append(sh)
    for w, ws in weeks.items():
        if spec.cap is not None and sum(sh.paid_h for sh in ws) > spec.cap + 1e-6:
            bad.append(f"{spec.name}: week {w} over {spec.cap} h")
        if len({sh.start.date() for sh in ws}) > 7 - spec.min_off:
            bad.append(f"{spec.name}: week {w} fewer than {spec.min_off} days off")
    return bad


def _violations(schedule: Schedule, specs, rest_h: float, tz) -> list[str]:
    by_name = {s.name: s for s in specs}
    per = defaultdict(list)
    bad = []
    for agent, sh in _shifts(schedule, tz):
        if agent:
            if not _shift_ok(by_name[agent], sh):
                bad.append(f"{agent} may not work {sh}")
            per[agent].append(sh)
    for agent, shs in per.items():
        bad += _agent_violations(by_name[agent], shs, rest_h)
    return bad


def _spread(counts) -> int:
    """The phase-2 cost: the k-th shift of an agent costs k."""
    return sum(n * (n + 1) // 2 for n in counts)


def _brute_force(shifts: list[Shift], specs, rest_h: float) -> tuple[int, int]:
    """Lexicographic minimum of (unfilled shifts, _spread of the agents' shift counts) over every
    assignment of each shift to one agent or to nobody (depth first; a partial roster that breaks a rule is
    not extended, and a branch with more unfilled shifts than the best found so far is cut)."""
    ok = [[_shift_ok(sp, sh) for sh in shifts] for sp in specs]
    taken = [[] for _ in specs]
    best = [(np.inf, np.inf)]

    def rec(k, unfilled):
        if unfilled > best[0][0]:
            return
        if k == len(shifts):
            best[0] = min(best[0], (unfilled, _spread(len(t) for t in taken)))
            return
        for i, sp in enumerate(specs):
            if ok[i][k]:
                taken[i].append(shifts[k])
                if not _agent_violations(sp, taken[i], rest_h):
                    rec(k + 1, unfilled)
                taken[i].pop()
        rec(k + 1, unfilled + 1)

    rec(0, 0)
    return best[0]


def _check_bookkeeping(schedule_in: Schedule, out: Schedule, rep, tz):
    """One row per input shift with its times and breaks kept; the report's counts and hours agree."""
    key = lambda sh: (sh.group, sh.start, sh.end, sh.paid_h)  # noqa: E731
    assert sorted(map(key, (s for _, s in _shifts(schedule_in, tz)))) == sorted(
        map(key, (s for _, s in _shifts(out, tz)))
    )
    assert (out.shifts["count"] == 1).all()
    agents = out.shifts["agent"]
    assert rep.n_shifts == len(out.shifts) == len(schedule_in)
    assert rep.n_assigned == int((agents != "").sum()) == rep.n_shifts - rep.n_unfilled
    assert rep.complete == (rep.n_unfilled == 0)
    empty = out.shifts[agents == ""]
    assert sorted(zip(empty["skill_group"], empty["start"])) == sorted(
        (u.skill_group, u.start) for u in rep.unfilled
    )
    hours = defaultdict(float)
    for agent, sh in _shifts(out, tz):
        if agent:
            hours[agent] += sh.paid_h
    for agent, h in rep.hours.items():
        assert h == pytest.approx(hours[agent])


# -- random tiny instances ----------------------------------------------------------------------------------
HORIZONS = [("Europe/Berlin", "2026-03-28"), ("UTC", "2026-01-07")]  # Sat-Mon across DST and a week; Wed-Fri


def _instance(seed):
    rng = np.random.default_rng(seed)
    tz, first = HORIZONS[seed % 2]
    day0 = pd.Timestamp(first)
    rows, total = [], 0
    target = int(rng.integers(6, 10))
    while total < target:
        d = int(rng.integers(0, 3))
        h = int(rng.choice([0, 5, 7, 9, 13, 16, 21, 23]))
        length = int(rng.choice([3, 4, 6, 8, 9]))
        start = day0 + pd.Timedelta(days=d, hours=h)
        end = start + pd.Timedelta(hours=length)
        if end.date() == pd.Timestamp("2026-03-29").date() and end.hour == 2:
            end += pd.Timedelta(hours=1)  # 02:xx does not exist in Berlin that night
        count = int(min(rng.choice([1, 1, 2]), target - total))
        brk = start + pd.Timedelta(hours=2)
        in_gap = brk.date() == pd.Timestamp("2026-03-29").date() and brk.hour == 2
        breaks = (
            f"{brk:%H:%M}-{brk + pd.Timedelta(minutes=30):%H:%M}" if rng.random() < 0.5 and not in_gap else ""
        )
        group = str(rng.choice(["phone", "email"]))
        rows.append((group, f"{start:%Y-%m-%dT%H:%M}", f"{end:%Y-%m-%dT%H:%M}", count, breaks))
        total += count
    specs = []
    for k in range(int(rng.integers(3, 5))):
        groups = [("phone",), ("email",), ("phone", "email"), ("phone", "email")][int(rng.integers(0, 4))]
        specs.append(
            Spec(
                name=f"agent {k}",
                groups=groups,
                cap=None if rng.random() < 0.5 else float(rng.choice([8, 12, 16, 20])),
                days=None if rng.random() < 0.6 else tuple(sorted(rng.choice(7, 5, replace=False).tolist())),
                earliest=None
                if rng.random() < 0.7
                else str(rng.choice(["05:00", "07:00", "13:00", "20:00"])),
                latest=None if rng.random() < 0.7 else str(rng.choice(["15:00", "22:00", "24:00", "06:00"])),
                min_off=int(rng.choice([0, 0, 5, 6])),
            )
        )
    rest_h = float(rng.choice([11.0, 9.0, 0.0]))
    return tz, _schedule(rows, tz), specs, rest_h


@pytest.mark.parametrize("seed", range(40))
def test_fewest_unfilled_and_most_even_spread_match_brute_force(seed):
    tz, schedule, specs, rest_h = _instance(seed)
    out, rep = _run(schedule, specs, min_rest_h=rest_h)
    assert _violations(out, specs, rest_h, tz) == []
    _check_bookkeeping(schedule, out, rep, tz)
    unfilled, spread = _brute_force([sh for _, sh in _shifts(schedule, tz)], specs, rest_h)
    assert rep.n_unfilled == unfilled
    counts = out.shifts["agent"].value_counts()
    assert _spread(int(counts.get(s.name, 0)) for s in specs) == spread
    assert rep.solve.status == "optimal" and rep.proven and rep.unfilled_bound == unfilled
    assert rep.fair is None or rep.fair.status == "optimal"


def test_a_week_for_ten_agents_keeps_every_rule():
    """No brute force at this size: the roster is re-checked rule by rule and against its own bound."""
    rng = np.random.default_rng(7)
    tz = "Europe/Berlin"
    rows = []
    for d in range(7):
        for h, length, group in [(6, 8, "phone"), (8, 9, "email"), (14, 8, "phone"), (22, 8, "phone")]:
            start = pd.Timestamp("2026-01-05") + pd.Timedelta(days=d, hours=h)
            rows.append(
                (
                    group,
                    f"{start:%Y-%m-%dT%H:%M}",
                    f"{start + pd.Timedelta(hours=length):%Y-%m-%dT%H:%M}",
                    int(rng.integers(1, 3)),
                    f"{start + pd.Timedelta(hours=4):%H:%M}-{start + pd.Timedelta(hours=4.5):%H:%M}",
                )
            )
    schedule = _schedule(rows, tz)
    specs = [
        Spec(f"a{k}", ("phone",) if k < 6 else ("phone", "email"), cap=40.0 if k % 2 else 30.0, min_off=2)
        for k in range(10)
    ]
    specs[0].days, specs[1].earliest, specs[2].latest = (0, 1, 2, 3, 4), "07:00", "23:00"
    specs[3].earliest, specs[3].latest = "21:00", "07:00"  # nights only
    t0 = clock.perf_counter()
    out, rep = _run(schedule, specs)
    assert clock.perf_counter() - t0 < 10
    assert _violations(out, specs, 11.0, tz) == []
    _check_bookkeeping(schedule, out, rep, tz)
    assert rep.proven and rep.n_unfilled >= rep.unfilled_bound
    # the night agent only ever works the 22:00 shift
    nights = out.shifts[out.shifts["agent"] == "a3"]
    assert len(nights) and all(t.tz_convert(tz).hour == 22 for t in nights["start"])


# -- the rules on hand-worked cases ------------------------------------------------------------------------
def test_rest_rule_leaves_a_shift_unfilled_and_says_so():
    schedule = _schedule(
        [
            ("phone", "2026-01-05T14:00", "2026-01-05T22:00"),
            ("phone", "2026-01-06T06:00", "2026-01-06T14:00"),
        ],
        "UTC",
    )
    agents = _table([Spec("Ann", ("phone",))])
    out, rep = roster(schedule, agents, min_rest_h=11)  # 8 h between the two shifts
    assert rep.n_unfilled == 1 and not rep.complete and rep.proven
    assert rep.summary().startswith("roster INCOMPLETE: 1 shift(s) unfilled")
    assert "rest" in rep.unfilled[0].reason and rep.unfilled[0].row in (2, 3)
    assert sorted(out.shifts["agent"]) == ["", "Ann"]
    with pytest.raises(InfeasibleError, match="unfilled"):
        roster(schedule, agents, min_rest_h=11, strict=True)
    out, rep = roster(schedule, agents, min_rest_h=8)
    assert rep.complete and list(out.shifts["agent"]) == ["Ann", "Ann"]


def test_rest_rows_do_not_forbid_compatible_shifts():
    """s (Mon 08-17) conflicts with t (Mon 08-09, same day) and u (Tue 03-11, 10 h rest), but t and u are
    compatible (18 h apart, different days): the best roster works t and u and leaves s."""
    schedule = _schedule(
        [
            ("phone", "2026-01-05T08:00", "2026-01-05T17:00"),
            ("phone", "2026-01-05T08:00", "2026-01-05T09:00"),
            ("phone", "2026-01-06T03:00", "2026-01-06T11:00"),
        ],
        "UTC",
    )
    out, rep = roster(schedule, _table([Spec("Ann", ("phone",))]), fair=False)
    assert list(out.shifts["agent"]) == ["", "Ann", "Ann"]
    assert [(u.row, u.start.hour) for u in rep.unfilled] == [(2, 8)]


def test_days_off_per_calendar_week():
    mon_to_sun = [
        ("phone", f"2026-01-{5 + d:02d}T09:00", f"2026-01-{5 + d:02d}T17:00") for d in range(7)
    ]  # one 8 h shift a day, Monday to Sunday
    _, rep = roster(_schedule(mon_to_sun, "UTC"), _table([Spec("Ann", ("phone",), min_off=2)]))
    assert rep.n_assigned == 5
    # Saturday to Monday spans two weeks; days outside the schedule count as days off: 1 day a week
    sat_to_mon = [("phone", f"2026-01-{10 + d:02d}T09:00", f"2026-01-{10 + d:02d}T17:00") for d in range(3)]
    out, rep = roster(_schedule(sat_to_mon, "UTC"), _table([Spec("Ann", ("phone",), min_off=6)]))
    assert rep.n_assigned == 2 and out.shifts["agent"].iloc[2] == "Ann"
    # weekly hours: 20 h a week allows two 8 h shifts (paid hours exclude the 1 h break: 7 h each -> two)
    brk = [(g, s, e, 1, "12:00-13:00") for g, s, e in mon_to_sun]
    _, rep = roster(_schedule(brk, "UTC"), _table([Spec("Ann", ("phone",), cap=21.0)]))
    assert rep.n_assigned == 3 and rep.hours["Ann"] == pytest.approx(21.0)
    # paid breaks (all, or by length in minutes as Schedule.paid_hours): 8 h each -> two shifts
    for paid in (True, {60}):
        _, rep = roster(_schedule(brk, "UTC"), _table([Spec("Ann", ("phone",), cap=21.0)]), paid_breaks=paid)
        assert rep.n_assigned == 2 and rep.hours["Ann"] == pytest.approx(16.0)


def test_clock_windows_and_nights_across_midnight():
    schedule = _schedule(
        [
            ("phone", "2026-01-05T22:00", "2026-01-06T06:00"),  # night ending 06:00
            ("phone", "2026-01-06T22:00", "2026-01-07T07:00"),  # night ending 07:00
            ("phone", "2026-01-07T16:00", "2026-01-08T00:00"),  # ends at midnight
            ("phone", "2026-01-08T19:00", "2026-01-09T03:00"),  # starts before 20:00
        ],
        "UTC",
    )
    out, _ = roster(
        schedule, _table([Spec("Nia", ("phone",), earliest="20:00", latest="06:00")]), min_rest_h=0
    )
    assert list(out.shifts["agent"]) == ["Nia", "", "", ""]
    out, _ = roster(
        schedule, _table([Spec("Eve", ("phone",), earliest="16:00", latest="24:00")]), min_rest_h=0
    )
    assert list(out.shifts["agent"]) == ["", "", "Eve", ""]


def test_identical_shifts_count_and_pre_assigned_agents():
    schedule = _schedule(
        [
            ("phone", "2026-01-05T09:00", "2026-01-05T17:00", 3),
            ("phone", "2026-01-05T09:00", "2026-01-05T17:00", 1, "", "Cem"),
        ],
        "UTC",
    )
    specs = [
        Spec("Ann", ("phone",)),
        Spec("Bob", ("phone",)),
        Spec("Cem", ("phone",)),
        Spec("Dan", ("email",)),
    ]
    out, rep = _run(schedule, specs)
    assert list(out.shifts["agent"])[3] == "Cem" and sorted(out.shifts["agent"])[:3] == ["", "Ann", "Bob"]
    assert rep.n_unfilled == 1 and "are all on other shifts" in rep.unfilled[0].reason
    assert rep.hours == {"Ann": 8.0, "Bob": 8.0, "Cem": 8.0, "Dan": 0.0}
    # a pre-assignment that breaks the rest rule is an error naming the rows, not a silent change
    clash = _schedule(
        [
            ("phone", "2026-01-05T09:00", "2026-01-05T17:00", 1, "", "Ann"),
            ("phone", "2026-01-06T01:00", "2026-01-06T09:00", 1, "", "Ann"),
        ],
        "UTC",
    )
    with pytest.raises(InfeasibleError, match=r"rows \[2, 3\]"):
        roster(clash, _table(specs[:1]))
    with pytest.raises(DataError, match=r"schedule: row 2: column 'agent': agent 'Zed' is not in"):
        _run(_schedule([("phone", "2026-01-05T09:00", "2026-01-05T17:00", 1, "", "Zed")], "UTC"), specs)


def test_no_qualified_agent_is_the_reason_given():
    schedule = _schedule([("email", "2026-01-05T09:00", "2026-01-05T17:00")], "UTC")
    _, rep = roster(schedule, _table([Spec("Ann", ("phone",))]), skill_groups=["phone", "email"])
    assert rep.unfilled[0].reason == "no agent has skill group 'email'"
    _, rep = roster(schedule, _table([Spec("Ann", ("email",), days=(1,))]))
    assert "available" in rep.unfilled[0].reason


def test_schedule_csv_round_trip(tmp_path):
    tz, schedule, specs, rest_h = _instance(3)
    out, _ = _run(schedule, specs, min_rest_h=rest_h)
    back = Schedule.read_csv(out.to_csv(tmp_path / "roster.csv"), tz)
    assert list(back.shifts["agent"]) == list(out.shifts["agent"])
    assert list(back.shifts["start"]) == list(out.shifts["start"])


# -- pseudonyms --------------------------------------------------------------------------------------------
def test_pseudonyms_are_keyed_blake2b_stable_and_invertible():
    tz, schedule, specs, rest_h = _instance(1)
    plain, _ = _run(schedule, specs, min_rest_h=rest_h)
    out1, rep1 = _run(schedule, specs, min_rest_h=rest_h, pseudonymise="pepper")
    out2, rep2 = _run(schedule, specs, min_rest_h=rest_h, pseudonymise="pepper")
    out3, rep3 = _run(schedule, specs, min_rest_h=rest_h, pseudonymise="salt")
    assert rep1.pseudonyms == rep2.pseudonyms and list(out1.shifts["agent"]) == list(out2.shifts["agent"])
    assert set(rep1.pseudonyms).isdisjoint(rep3.pseudonyms)
    for ps, name in rep1.pseudonyms.items():
        digest = hashlib.blake2b(name.encode(), key=b"pepper", digest_size=32).hexdigest()
        assert ps == f"agent-{digest[:6]}"
    # mapping back gives the real-name roster; the report's hours are by pseudonym
    back = [rep1.pseudonyms[a] if a else "" for a in out1.shifts["agent"]]
    assert back == list(plain.shifts["agent"])
    assert set(rep1.hours) == set(rep1.pseudonyms) and sorted(rep1.pseudonyms.values()) == sorted(
        s.name for s in specs
    )
    _, rep_true = _run(schedule, specs, min_rest_h=rest_h, pseudonymise=True)
    assert all(re.fullmatch(r"agent-[0-9a-f]{6}", p) for p in rep_true.pseudonyms)
    assert "pepper" not in str(rep1.to_dict()) and "agent 0" not in str(rep1.to_dict())


def test_colliding_pseudonyms_are_lengthened_until_unique():
    names = [f"name {k}" for k in range(300)]
    alias = _pseudonyms(names, "k", length=1)  # 300 names in 16 one-digit buckets: many collisions
    assert len(set(alias.values())) == len(names)
    for n, ps in alias.items():
        digest = hashlib.blake2b(n.encode(), key=b"k", digest_size=32).hexdigest()
        assert ps.startswith("agent-") and digest.startswith(ps[len("agent-") :]) and len(ps) > len("agent-x")


# -- bad input ---------------------------------------------------------------------------------------------
GOOD = "agent,skill_group,max_weekly_hours,available_days,earliest_start,latest_end,min_days_off\n"
GOOD += "Ann,phone;email,38,Mon-Fri,07:00,19:00,2\n"


@pytest.mark.parametrize(
    "line, row, pattern",
    [
        (
            "Bob,phone,,,7:60,,",
            3,
            r"column 'earliest_start': expected a local clock time HH:MM .* got '7:60'",
        ),
        ("Bob,phone,,,,25:00,", 3, r"column 'latest_end': expected .* to 24:00 .* got '25:00'"),
        ("Bob,phone,,Mon;Tues,,,", 3, r"column 'available_days': expected day names Mon;Tue;.*'Tues' is not"),
        ("Ann,phone,,,,,", 3, r"column 'agent': duplicate agent name 'Ann' \(also on row 2\)"),
        (
            "Bob,phone,-5,,,,",
            3,
            r"column 'max_weekly_hours': expected a number of paid hours >= 0 .* got '-5'",
        ),
        ("Bob,phone,lots,,,,", 3, r"column 'max_weekly_hours'.* got 'lots'"),
        (
            "Bob,sales,,,,,",
            3,
            r"column 'skill_group': unknown skill group 'sales'; expected one of \['email', 'p",
        ),
        ("Bob,,,,,,", 3, r"column 'skill_group': expected one or more skill group names"),
        (",phone,,,,,", 3, r"column 'agent': expected an agent name"),
        ("Bob,phone,,,,,8", 3, r"column 'min_days_off': expected an integer from 0 to 7 .* got '8'"),
    ],
)
def test_errors_name_file_row_and_column(tmp_path, line, row, pattern):
    path = tmp_path / "agents.csv"
    path.write_text(GOOD + line + "\n")
    schedule = _schedule([("phone", "2026-01-05T09:00", "2026-01-05T17:00")], "UTC")
    with pytest.raises(DataError, match=rf"^{re.escape(str(path))}: row {row}: {pattern}"):
        roster(schedule, path, skill_groups=["phone", "email"])


def test_table_level_errors(tmp_path):
    schedule = _schedule([("phone", "2026-01-05T09:00", "2026-01-05T17:00")], "UTC")
    with pytest.raises(DataError, match=r"^team: missing column\(s\) \['skill_group'\]"):
        roster(schedule, pd.DataFrame({"agent": ["Ann"]}), source="team")
    with pytest.raises(DataError, match=r"unknown column\(s\) \['max_weekly_hour'\]"):
        roster(schedule, pd.DataFrame({"agent": ["Ann"], "skill_group": ["phone"], "max_weekly_hour": [1]}))
    with pytest.raises(DataError, match="file not found"):
        roster(schedule, tmp_path / "nope.csv")
    with pytest.raises(DataError, match=r"^agents: row 2: column 'skill_group': unknown skill group 'email'"):
        roster(schedule, pd.DataFrame({"agent": ["Ann"], "skill_group": ["email"]}))
    with pytest.raises(ConfigError, match="min_rest_h"):
        roster(schedule, pd.DataFrame({"agent": ["Ann"], "skill_group": ["phone"]}), min_rest_h=-1)
    # a DataFrame with NaN cells (e.g. from read_excel) reads as empty cells
    df = pd.DataFrame({"agent": ["Ann"], "skill_group": ["phone"], "max_weekly_hours": [np.nan]})
    _, rep = roster(schedule, df)
    assert rep.complete


# -- Gurobi ------------------------------------------------------------------------------------------------
def test_gurobi_agrees_with_scip():
    pytest.importorskip("gurobipy")
    tz, schedule, specs, rest_h = _instance(4)
    out_s, rep_s = _run(schedule, specs, min_rest_h=rest_h)
    try:
        out_g, rep_g = _run(schedule, specs, min_rest_h=rest_h, solver=SolverOptions("gurobi", rel_gap=0.0))
    except SolverError as exc:
        pytest.skip(f"gurobipy cannot solve here: {exc}")
    assert rep_g.solve.n_vars < 2000 and rep_g.solve.n_cons < 2000
    assert rep_g.solve.status == "optimal" and rep_g.solve.version.startswith("Gurobi")
    assert rep_g.n_unfilled == rep_s.n_unfilled
    assert rep_g.solve.objective == pytest.approx(rep_s.solve.objective)
    assert _violations(out_g, specs, rest_h, tz) == []
