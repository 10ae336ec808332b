"""Week mode (tours): days-off patterns, weekly hours and one start time all week, against brute-force
enumeration of the tours on tiny instances; the lines of work of the returned schedule re-checked."""

import itertools

import numpy as np
import pandas as pd
import pytest

from forecast.errors import ConfigError
from optim.schedule import ShiftRules, SolverOptions, TourRules, day_off_patterns, solve
from sim import Channel, IntervalGrid, Scenario, SkillGroup

EXACT = SolverOptions(rel_gap=0.0)
WEEK = IntervalGrid.from_days("2026-01-05", 7, 60, "UTC")  # Monday to Sunday


def _scenario(open_hour, close_hour):
    return Scenario(
        WEEK,
        [Channel("voice", "voice")],
        [SkillGroup("a", ["voice"], cost_per_hour=10.0)],
        open_hour=open_hour,
        close_hour=close_hour,
    )


def _reqs(need):
    return pd.DataFrame({"channel": "voice", "interval": np.arange(WEEK.n), "agents": need})


def test_day_off_patterns_by_enumeration():
    for dpw in range(1, 8):
        pats = day_off_patterns(dpw, consecutive=False)
        assert len(pats) == len(list(itertools.combinations(range(7), dpw)))
        cons = day_off_patterns(dpw, consecutive=True)
        # consecutive days off on the weekly cycle: one block of 7 - dpw days, 7 places to start it
        assert len(cons) == (1 if dpw == 7 else 7)
        for pat in cons:
            off = [d for d in range(7) if d not in pat]
            assert any(all((s + i) % 7 in off for i in range(len(off))) for s in range(7))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_five_days_of_seven_matches_brute_force(seed):
    """One 4-hour shift a day (8-12): the cheapest tours of 5 days with 2 consecutive days off, enumerated
    over the 7 patterns with up to 3 agents each."""
    sc = _scenario(8, 12)
    rng = np.random.default_rng(seed)
    per_day = rng.integers(0, 4, 7)
    need = np.zeros(WEEK.n)
    for d in range(7):
        need[24 * d + 8 : 24 * d + 12] = per_day[d]
    rules = ShiftRules(lengths_h=(4.0,), start_step_min=60, lunch_min=0)
    week = TourRules(days_per_week=5, consecutive_days_off=True)
    pats = day_off_patterns(5, True)
    best = np.inf
    for counts in itertools.product(range(4), repeat=len(pats)):
        cover = np.zeros(7)
        for k, pat in zip(counts, pats):
            cover[list(pat)] += k
        if np.all(cover >= per_day):
            best = min(best, sum(counts) * 5 * 4 * 10.0)
    sched, rep = solve(sc, _reqs(need), rules=rules, solver=EXACT, week=week)
    assert rep.objective == pytest.approx(best)
    assert sum(rep.headcount.values()) * 200.0 == pytest.approx(best)
    _check_lines(sched, rep, week)


def _check_lines(sched, rep, week, same_start=False):
    """Every line of work: one shift a day, on its tour's number of days, days off consecutive, and (same
    start) one start clock all week; lines = headcount; the tours table adds up."""
    df = sched.to_frame()
    assert (df["count"] == 1).all() and (df["agent"] != "").all()
    lines = df.groupby("agent")
    assert len(lines) == sum(rep.headcount.values()) == sum(t["agents"] for t in rep.tours)
    for _, rows in lines:
        starts = pd.to_datetime(rows["start"], utc=True)
        days = sorted(starts.dt.day_of_week)
        assert len(days) == len(set(days)) and len(days) in week.days_per_week
        if week.consecutive_days_off:
            off = [d for d in range(7) if d not in days]
            assert any(all((s + i) % 7 in off for i in range(len(off))) for s in range(7))
        if same_start:
            assert starts.dt.strftime("%H:%M").nunique() == 1
        if week.weekly_hours:
            hours = ((pd.to_datetime(rows["end"], utc=True) - starts).dt.total_seconds() / 3600).sum()
            assert week.weekly_hours[0] - 1e-9 <= hours <= week.weekly_hours[1] + 1e-9


def test_weekly_hours_choose_between_four_long_and_five_short_days():
    """Shifts of 8 h and 10 h, 4 or 5 days a week, 40 paid hours: only 4 x 10 h and 5 x 8 h tours are used,
    each agent costs 40 paid hours, and the lines of work cover the need."""
    sc = _scenario(8, 18)
    need = np.zeros(WEEK.n)
    rng = np.random.default_rng(3)
    for d in range(7):
        need[24 * d + 8 : 24 * d + 18] = rng.integers(1, 3)
    rules = ShiftRules(lengths_h=(8.0, 10.0), start_step_min=120, lunch_min=0)
    week = TourRules(days_per_week=(4, 5), consecutive_days_off=False, weekly_hours=(40, 40))
    sched, rep = solve(sc, _reqs(need), rules=rules, solver=EXACT, week=week)
    assert {(t["length_h"], len(t["days"].split(";"))) for t in rep.tours} <= {(8.0, 5), (10.0, 4)}
    assert rep.objective == pytest.approx(400.0 * sum(rep.headcount.values()))
    _check_lines(sched, rep, week)
    cov = sched.coverage(WEEK, ["a"])[0]
    assert np.all(cov >= need - 1e-9)


def test_same_start_all_week_is_no_cheaper_than_flexible_starts():
    sc = _scenario(8, 16)
    need = np.zeros(WEEK.n)
    for d in range(7):
        hours = slice(24 * d + 8, 24 * d + 12) if d % 2 else slice(24 * d + 12, 24 * d + 16)
        need[hours] = 2
    rules = ShiftRules(lengths_h=(4.0,), start_step_min=120, lunch_min=0)
    flex = TourRules(days_per_week=5)
    same = TourRules(days_per_week=5, same_start=True)
    s_flex, r_flex = solve(sc, _reqs(need), rules=rules, solver=EXACT, week=flex)
    s_same, r_same = solve(sc, _reqs(need), rules=rules, solver=EXACT, week=same)
    assert r_flex.objective <= r_same.objective + 1e-6
    assert r_flex.objective < r_same.objective  # mornings on odd days, afternoons on even days
    _check_lines(s_same, r_same, same, same_start=True)
    _check_lines(s_flex, r_flex, flex)
    for s in (s_flex, s_same):
        assert np.all(s.coverage(WEEK, ["a"])[0] >= need - 1e-9)


def test_week_mode_errors_name_the_key():
    day = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    sc = Scenario(day, [Channel("voice", "voice")], [SkillGroup("a", ["voice"])], open_hour=8, close_hour=12)
    reqs = pd.DataFrame({"channel": "voice", "interval": np.arange(day.n), "agents": 1.0})
    rules = ShiftRules(lengths_h=(4.0,), lunch_min=0)
    with pytest.raises(ConfigError, match=r"week: week mode plans one week of 7 days; the horizon has 1"):
        solve(sc, reqs, rules=rules, week=TourRules())
    with pytest.raises(ConfigError, match=r"week: no tour fits"):
        solve(_scenario(8, 12), _reqs(np.zeros(WEEK.n)), rules=rules, week=TourRules(weekly_hours=(30, 40)))
    with pytest.raises(ConfigError, match=r"days_per_week: expected a value in \[1, 7\]"):
        TourRules(days_per_week=8)


def test_start_time_cap_in_week_mode():
    """Mornings on odd days, afternoons on even days: one start time cannot cover both; two can, at the
    cost of the uncapped week (the cap is per clock time over all days, not per day)."""
    from forecast.errors import InfeasibleError

    sc = _scenario(8, 16)
    need = np.zeros(WEEK.n)
    for d in range(7):
        hours = slice(24 * d + 8, 24 * d + 12) if d % 2 else slice(24 * d + 12, 24 * d + 16)
        need[hours] = 3
    flex = TourRules(days_per_week=5)
    _, free = solve(
        sc,
        _reqs(need),
        rules=ShiftRules(lengths_h=(4.0,), start_step_min=60, lunch_min=0),
        solver=EXACT,
        week=flex,
    )
    capped = ShiftRules(lengths_h=(4.0,), start_step_min=60, lunch_min=0, max_start_times=2)
    sched, rep = solve(sc, _reqs(need), rules=capped, solver=EXACT, week=flex)
    assert rep.objective == pytest.approx(free.objective)
    assert pd.to_datetime(sched.to_frame()["start"], utc=True).dt.strftime("%H:%M").nunique() <= 2
    one = ShiftRules(lengths_h=(4.0,), start_step_min=60, lunch_min=0, max_start_times=1)
    with pytest.raises(InfeasibleError, match=r"max_start_times=1"):
        solve(sc, _reqs(need), rules=one, solver=EXACT, week=flex)


def test_a_night_shift_across_the_dst_change_keeps_its_tour_class():
    """Berlin's spring-forward week: the Saturday 22:00 shift lasts 7 h but belongs to the 8 h tours, so the
    week plan covers Sunday 01:00 (a reviewer found week mode infeasible there)."""
    grid = IntervalGrid.from_days("2026-03-23", 7, 60, "Europe/Berlin")
    sc = Scenario(
        grid,
        [Channel("voice", "voice")],
        [SkillGroup("a", ["voice"], cost_per_hour=10.0)],
        open_hour=0,
        close_hour=24,
    )
    rules = ShiftRules(lengths_h=(8.0,), start_step_min=60, lunch_min=0, earliest_start_h=22, latest_end_h=30)
    need = np.zeros(grid.n)
    need[(grid.starts.day == 29) & (grid.starts.hour == 1)] = 1
    reqs = pd.DataFrame({"channel": "voice", "interval": np.arange(grid.n), "agents": need})
    week = TourRules(days_per_week=5, consecutive_days_off=False)
    sched, rep = solve(sc, reqs, rules=rules, solver=EXACT, week=week)
    # one agent, five nights among the six that end inside the week, one of them the 7-hour DST night
    assert rep.objective == pytest.approx(4 * 80 + 70) and rep.headcount == {"a": 1}
    assert np.all(sched.coverage(grid, ["a"])[0] >= need - 1e-9)


def test_start_bands_lie_between_flexible_and_same_start():
    """Similar starts: with a band of the whole day the week costs what flexible starts cost, with bands as
    narrow as the start step what one start all week costs, and a 4-hour band in between; each line's starts
    fall in one band."""
    sc = _scenario(8, 16)
    need = np.zeros(WEEK.n)
    for d in range(7):
        hours = slice(24 * d + 8, 24 * d + 12) if d % 2 else slice(24 * d + 12, 24 * d + 16)
        need[hours] = 2
        need[24 * d + 10 : 24 * d + 14] += 1
    rules = ShiftRules(lengths_h=(4.0,), start_step_min=120, lunch_min=0)
    cost = {}
    for label, week in {
        "flex": TourRules(days_per_week=5),
        "day": TourRules(days_per_week=5, start_band_min=1440),
        "band": TourRules(days_per_week=5, start_band_min=240),
        "step": TourRules(days_per_week=5, start_band_min=120),
        "same": TourRules(days_per_week=5, same_start=True),
    }.items():
        sched, rep = solve(sc, _reqs(need), rules=rules, solver=EXACT, week=week)
        cost[label] = rep.objective
        _check_lines(sched, rep, week)
        assert np.all(sched.coverage(WEEK, ["a"])[0] >= need - 1e-9)
        if week.start_band_min:
            df = sched.to_frame()
            mins = pd.to_datetime(df["start"], utc=True).dt.hour * 60
            assert (mins // week.start_band_min).groupby(df["agent"]).nunique().max() == 1
    assert cost["day"] == pytest.approx(cost["flex"]) and cost["step"] == pytest.approx(cost["same"])
    assert cost["flex"] <= cost["band"] + 1e-6 <= cost["same"] + 2e-6
    with pytest.raises(ConfigError, match="either same_start or start_band_min"):
        TourRules(same_start=True, start_band_min=60)
