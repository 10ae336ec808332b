"""Aykin's implicit breaks, the email backlog flow, the start-time cap and the infeasibility report of the
shift MIP, against brute-force enumeration and the explicit break model on tiny instances."""

import itertools

import numpy as np
import pandas as pd
import pytest

from forecast.errors import ConfigError, InfeasibleError
from optim.schedule import (
    BreakRule,
    ShiftRules,
    SolverOptions,
    coverage_matrix,
    expand_breaks,
    make_templates,
    solve,
)
from optim.schedule.solve import build_schedule_model, need_matrix
from sim import Channel, IntervalGrid, Scenario, Schedule, SkillGroup

EXACT = SolverOptions(rel_gap=0.0)


def _voice(grid, open_hour, close_hour, shrinkage=0.0):
    return Scenario(
        grid,
        [Channel("voice", "voice")],
        [SkillGroup("a", ["voice"], cost_per_hour=10.0)],
        open_hour=open_hour,
        close_hour=close_hour,
        shrinkage=shrinkage,
    )


def _reqs(grid, need):
    return pd.DataFrame({"channel": "voice", "interval": np.arange(grid.n), "agents": need})


def _cheapest(templates, grid, ok, kmax, cost_per_hour=10.0):
    """Brute force: the cheapest vector of template counts (0..kmax each) whose coverage passes ``ok``."""
    A = coverage_matrix(templates, grid).toarray()
    paid = np.array([tp.paid_h for tp in templates]) * cost_per_hour
    combos = np.array(list(itertools.product(range(kmax + 1), repeat=len(templates))))
    cov, cost = combos @ A.T, combos @ paid
    good = np.array([ok(c, combos[i]) for i, c in enumerate(cov)])
    return cost[good].min() if good.any() else np.inf


SHORT = BreakRule(minutes=30, earliest_h=1.0, latest_h=2.0, step_min=30)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_short_break_placed_by_aykin_matches_brute_force(seed):
    """3 h shifts at 8:00 and 9:00 with one paid 30-min break 1-2 h after the start: six break patterns,
    enumerated with up to 2 agents each; the implicit model's optimum is the brute-force minimum and its
    schedule, read back from schedule.csv, covers every interval."""
    grid = IntervalGrid.from_days("2026-01-05", 1, 30, "UTC")
    sc = _voice(grid, 8, 12)
    rules = ShiftRules(lengths_h=(3.0,), start_step_min=60, lunch_min=0, short_breaks=(SHORT,))
    rng = np.random.default_rng(seed)
    need = np.zeros(grid.n)
    need[sc.open_mask] = rng.integers(0, 3, sc.open_mask.sum())
    explicit = expand_breaks(make_templates(sc, rules))
    assert len(explicit) == 6
    best = _cheapest(explicit, grid, lambda cov, _: np.all(cov >= need - 1e-9), kmax=2)
    sched, rep = solve(sc, _reqs(grid, need), rules=rules, solver=EXACT)
    assert rep.objective == pytest.approx(best)
    back = Schedule.from_frame(sched.to_frame(), grid.tz)
    assert np.all(back.coverage(grid, ["a"])[0] >= need - 1e-9)


def test_lunch_and_two_short_breaks_implicit_equals_explicit(tmp_path):
    """A lunch and two short breaks (the second counted back from the shift end), shifts of 4 and 6 h on a
    15-min grid, two skill groups with shrinkage: Aykin's model and the explicit model (one template per
    break pattern) have the same optimum; the implicit one is far smaller; each returned shift has one lunch
    and its short breaks inside their windows, none overlapping."""
    grid = IntervalGrid.from_days("2026-01-05", 1, 15, "UTC")
    chs = [Channel("voice", "voice"), Channel("chat", "chat")]
    groups = [SkillGroup("a", ["voice"], cost_per_hour=10.0), SkillGroup("b", ["voice", "chat"], 12.0)]
    sc = Scenario(grid, chs, groups, open_hour=8, close_hour=16, shrinkage=0.2)
    rules = ShiftRules(
        lengths_h=(4.0, 6.0),
        start_step_min=60,
        lunch_min=30,
        lunch_earliest_h=2.5,
        lunch_latest_h=3.0,
        lunch_step_min=15,
        lunch_min_shift_h=6.0,
        short_breaks=(
            {"minutes": 15, "earliest_h": 1.0, "latest_h": 1.5, "step_min": 15},
            {"minutes": 15, "earliest_h": -1.5, "latest_h": -1.0, "step_min": 15, "min_shift_h": 6.0},
        ),
    )
    rng = np.random.default_rng(5)
    need = np.zeros((2, grid.n))
    om = sc.open_mask
    need[0, om] = np.round(3 + 3 * np.sin(np.linspace(0, 3, om.sum())) + rng.uniform(0, 2, om.sum()))
    need[1, om] = rng.integers(0, 3, om.sum())
    reqs = pd.concat(
        [
            pd.DataFrame({"channel": n, "interval": np.arange(grid.n), "agents": need[c]})
            for c, n in enumerate(["voice", "chat"])
        ]
    )
    imp_s, imp = solve(sc, reqs, rules=rules, solver=EXACT)
    exp_s, exp = solve(sc, reqs, rules=rules, solver=EXACT, break_model="explicit")
    assert imp.objective == pytest.approx(exp.objective)
    paid = imp_s.paid_hours(rules.paid_break_minutes)  # short breaks paid, the lunch not
    assert 10 * paid.get("a", 0) + 12 * paid.get("b", 0) == pytest.approx(imp.objective)
    assert imp.n_int_vars < exp.n_int_vars
    # coverage recomputed from the text of schedule.csv, minute by minute, without the Schedule class
    csv = pd.read_csv(imp_s.to_csv(tmp_path / "schedule.csv"), keep_default_na=False)
    minutes = np.zeros((2, 24 * 60))
    for r in csv.itertuples():
        on = np.zeros(24 * 60)
        s0, e0 = (pd.Timestamp(v) for v in (r.start, r.end))
        on[s0.hour * 60 + s0.minute : e0.hour * 60 + e0.minute] = 1
        for part in r.breaks.split(";"):
            a, z = (int(h) * 60 + int(m) for h, m in (t.split(":") for t in part.split("-")))
            on[a:z] = 0
        minutes[sc.group_names.index(r.skill_group)] += r.count * on
    cov = 0.8 * minutes.reshape(2, grid.n, 15).mean(axis=2)
    assert np.all(need[1] <= cov[1] + 1e-9) and np.all(need.sum(0) <= cov.sum(0) + 1e-9)
    for row in imp_s.to_frame().itertuples():
        start, end = pd.Timestamp(row.start), pd.Timestamp(row.end)
        hours = (end - start).total_seconds() / 3600
        brks = sorted(
            (start.normalize() + pd.Timedelta(a + ":00"), start.normalize() + pd.Timedelta(b + ":00"))
            for a, b in (p.split("-") for p in row.breaks.split(";"))
        )
        offs = [((bs - start).total_seconds() / 3600, (be - bs).total_seconds() / 60) for bs, be in brks]
        if hours == 6.0:
            assert [m for _, m in offs] == [15, 30, 15]
            assert 1.0 <= offs[0][0] <= 1.5 and 2.5 <= offs[1][0] <= 3.0 and 4.5 <= offs[2][0] <= 5.0
        else:
            assert len(offs) == 1 and offs[0][1] == 15 and 1.0 <= offs[0][0] <= 1.5
        assert all(b1 <= a2 for (_, b1), (a2, _) in zip(brks, brks[1:]))


def test_break_windows_that_overlap_or_do_not_fit_are_config_errors():
    with pytest.raises(ConfigError, match=r"short_breaks: .*must follow each other"):
        ShiftRules(lengths_h=(8.0,), short_breaks=({"minutes": 15, "earliest_h": 2.5, "latest_h": 3.5},))
    with pytest.raises(ConfigError, match=r"does not fit in a 4 h shift"):
        ShiftRules(lengths_h=(4.0, 8.0), lunch_min=0, short_breaks=({"earliest_h": 3.0, "latest_h": 4.0},))
    with pytest.raises(ConfigError, match=r"short_breaks: .* expected earliest_h <= latest_h"):
        ShiftRules(short_breaks=({"earliest_h": 2.5, "latest_h": 1.0},))
    with pytest.raises(ConfigError, match=r"short_breaks: a paid and an unpaid break both last \[30\] min"):
        ShiftRules(lengths_h=(8.0,), short_breaks=({"minutes": 30, "earliest_h": 1.0, "latest_h": 2.0},))
    with pytest.raises(ConfigError, match=r"short_breaks\[0\]: unknown field"):
        ShiftRules(short_breaks=({"minute": 15},))
    with pytest.raises(ConfigError, match=r"short_breaks\[0\].minutes: "):
        ShiftRules(short_breaks=({"minutes": -5},))


# ------------------------------------------------------------------------------------------- email backlog


def _email_scenario(deadline_h, grid, target=1.0):
    return Scenario(
        grid,
        [Channel("email", "email", aht_s=1800.0, target=target, deadline_h=deadline_h, scope="horizon")],
        [SkillGroup("a", ["email"], cost_per_hour=10.0)],
        open_hour=8,
        close_hour=16,
    )


def _email_reqs(grid, vol):
    return pd.DataFrame(
        {"channel": "email", "interval": np.arange(grid.n), "agents": 0.0, "volume": vol, "aht_s": 1800.0}
    )


def _on_time(cap, work, window, backlog0=0.0):
    """Independent check: a fluid FIFO queue of cohorts (the work arriving in each interval, due by the end
    of interval t + window - 1); capacity serves the oldest cohort first; every cohort due inside the
    horizon must be done by its due interval."""
    cohorts = [[window - 1, backlog0]] if backlog0 else []  # [due interval, work left]
    for t in range(len(cap)):
        if work[t] > 0:
            cohorts.append([t + window - 1, work[t]])
        c = cap[t]
        for co in cohorts:
            take = min(c, co[1])
            co[1] -= take
            c -= take
        if any(co[0] <= t and co[1] > 1e-9 for co in cohorts):
            return False
        cohorts = [co for co in cohorts if co[1] > 1e-9]
    return True


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_email_backlog_flow_matches_brute_force(seed):
    """Email with a 3-hour deadline on an hourly grid: the MIP's optimum equals the cheapest schedule whose
    capacity, served first-come first-served as a fluid, answers every email by its deadline."""
    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    sc = _email_scenario(3.0, grid)
    rng = np.random.default_rng(seed)
    vol = np.zeros(grid.n)
    vol[8:13] = rng.integers(0, 6, 5)  # arrivals 8:00-13:00, everything due by 16:00
    work = vol * 1800 / 3600
    rules = ShiftRules(lengths_h=(2.0, 4.0), start_step_min=120, lunch_min=0)
    tps = make_templates(sc, rules)
    best = _cheapest(tps, grid, lambda cov, _: _on_time(cov, work, 3), kmax=3)
    _, rep = solve(sc, _email_reqs(grid, vol), rules=rules, solver=EXACT)
    assert rep.objective == pytest.approx(best)
    # the same work as agents per interval (spread evenly to each deadline) costs at least as much
    from optim.queueing import deferred_workload

    per_ivl = deferred_workload(vol, 1800.0, 3600.0, 3 * 3600.0, open_mask=sc.open_mask)
    reqs = _email_reqs(grid, vol).assign(agents=per_ivl)
    _, rep_ivl = solve(sc, reqs, rules=rules, solver=EXACT, email="requirement")
    assert rep_ivl.objective >= rep.objective - 1e-6


def test_email_starting_backlog_and_late_work_in_soft_mode():
    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    sc = _email_scenario(2.0, grid)
    vol = np.zeros(grid.n)
    vol[9] = 4.0
    rules = ShiftRules(lengths_h=(2.0,), start_step_min=60, lunch_min=0)
    tps = make_templates(sc, rules)
    work = vol * 0.5
    # 6 emails waiting at 00:00 (3 agent-hours) due by the end of 01:00-02:00: the centre is closed, so no
    # schedule meets it; the report says which work is late
    with pytest.raises(InfeasibleError, match=r"email at 2026-01-05 01:00 \(3.00 email work past"):
        solve(sc, _email_reqs(grid, vol), rules=rules, initial_backlog={"email": 6})
    # with an 8-hour deadline the backlog is due by 8:00 (still closed): late in soft mode, 3 agent-hours
    sc8 = _email_scenario(9.0, grid)
    s, rep = solve(
        sc8,
        _email_reqs(grid, vol),
        rules=rules,
        initial_backlog={"email": 6},
        soft=True,
        under_penalty=1000.0,
    )
    best = _cheapest(tps, grid, lambda cov, _: _on_time(cov, work, 9, backlog0=3.0), kmax=3)
    assert rep.objective == pytest.approx(best)  # 8:00-9:59 does it all on time
    from forecast.errors import DataError

    with pytest.raises(DataError, match=r"initial_backlog: not email channels"):
        solve(sc, _email_reqs(grid, vol), rules=rules, initial_backlog={"voice": 1})


# ----------------------------------------------------------------------------------------- start-time cap


@pytest.mark.parametrize("cap", [1, 2, 3])  # one start time cannot cover 8 hours with 4-hour shifts
def test_cap_on_distinct_start_times_matches_brute_force(cap):
    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    sc = _voice(grid, 8, 16)
    rules = ShiftRules(lengths_h=(4.0,), start_step_min=60, lunch_min=0, max_start_times=cap)
    need = np.zeros(grid.n)
    need[8:16] = [1, 2, 3, 3, 2, 2, 3, 1]
    tps = make_templates(sc, rules)
    clocks = np.array([tp.start_s for tp in tps])

    def ok(cov, counts):
        return np.all(cov >= need - 1e-9) and len(set(clocks[counts > 0])) <= cap

    best = _cheapest(tps, grid, ok, kmax=3)
    if not np.isfinite(best):
        with pytest.raises(InfeasibleError, match=r"Constraints that limit it: max_start_times=1"):
            solve(sc, _reqs(grid, need), rules=rules, solver=EXACT)
        return
    sched, rep = solve(sc, _reqs(grid, need), rules=rules, solver=EXACT)
    assert rep.objective == pytest.approx(best)
    assert sched.to_frame()["start"].nunique() <= cap


# --------------------------------------------------------------------------------------- infeasibility


def test_infeasible_model_reports_the_intervals_and_the_limit():
    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    sc = _voice(grid, 8, 16)
    need = np.zeros(grid.n)
    need[8:16] = [1, 2, 5, 3, 2, 2, 3, 1]
    rules = ShiftRules(lengths_h=(4.0,), start_step_min=60, lunch_min=0)
    cap = np.full(grid.n, 4.0)
    with pytest.raises(
        InfeasibleError, match=r"voice at 2026-01-05 10:00 \(1.00 agents short; max_agents allows 4"
    ):
        solve(sc, _reqs(grid, need), rules=rules, max_agents=cap)


def test_implicit_model_lp_bound_is_below_the_optimum():
    """The LP relaxation of the implicit model (breaks and shifts continuous), solved with HiGHS, bounds
    the optimum from below."""
    from scipy.optimize import linprog

    grid = IntervalGrid.from_days("2026-01-05", 1, 30, "UTC")
    sc = _voice(grid, 8, 12)
    rules = ShiftRules(lengths_h=(3.0,), start_step_min=30, lunch_min=0, short_breaks=(SHORT,))
    need = np.zeros(grid.n)
    need[sc.open_mask] = [1, 2, 3, 2, 2, 3, 2, 1]
    model = build_schedule_model(sc, need_matrix(_reqs(grid, need), sc), make_templates(sc, rules))
    M = model.A.toarray()
    eq = np.isfinite(model.lhs) & (model.lhs == model.rhs)
    ub_rows = np.isfinite(model.rhs) & ~eq
    lb_rows = np.isfinite(model.lhs) & ~eq
    lp = linprog(
        model.obj,
        A_ub=np.vstack([M[ub_rows], -M[lb_rows]]),
        b_ub=np.concatenate([model.rhs[ub_rows], -model.lhs[lb_rows]]),
        A_eq=M[eq],
        b_eq=model.lhs[eq],
        bounds=list(zip(model.lb, model.ub)),
        method="highs",
    )
    _, rep = solve(sc, _reqs(grid, need), rules=rules, solver=EXACT)
    assert lp.status == 0 and rep.objective >= lp.fun - 1e-6 and rep.best_bound >= lp.fun - 1e-6


def test_night_shifts_cross_midnight():
    """A centre open around the clock with one agent needed 22:00-06:00: 8-hour shifts may start at any
    hour and end the next day, so one night shift (8 paid hours) is the optimum; without crossing midnight
    it takes two shifts."""
    grid = IntervalGrid.from_days("2026-01-05", 2, 60, "UTC")
    sc = _voice(grid, 0, 24)
    need = np.zeros(grid.n)
    need[22:30] = 1  # Monday 22:00 to Tuesday 06:00
    night = ShiftRules(lengths_h=(8.0,), start_step_min=60, lunch_min=0, earliest_start_h=0, latest_end_h=48)
    tps = make_templates(sc, night)
    assert len(tps) == 24 + 17  # Monday: every hour; Tuesday: 00:00 to 16:00 (the horizon ends at 24:00)
    sched, rep = solve(sc, _reqs(grid, need), rules=night, solver=EXACT)
    assert rep.objective == pytest.approx(80.0)
    assert sched.to_frame()["start"].tolist() == ["2026-01-05T22:00+00:00"]
    day_only = ShiftRules(lengths_h=(8.0,), start_step_min=60, lunch_min=0)
    _, rep2 = solve(sc, _reqs(grid, need), rules=day_only, solver=EXACT)
    assert rep2.objective == pytest.approx(160.0)


def test_gurobi_agrees_with_scip_on_breaks_and_email_within_its_license():
    """Aykin breaks and the email backlog on both solvers (the model stays under Gurobi's 2000 limit)."""
    pytest.importorskip("gurobipy")
    from forecast.errors import SolverError

    grid = IntervalGrid.from_days("2026-01-05", 1, 30, "UTC")
    sc = Scenario(
        grid,
        [Channel("voice", "voice"), Channel("email", "email", aht_s=900.0, deadline_h=3.0, target=1.0)],
        [SkillGroup("a", ["voice"], 10.0), SkillGroup("b", ["voice", "email"], 12.0)],
        open_hour=8,
        close_hour=16,
        shrinkage=0.1,
    )
    rng = np.random.default_rng(11)
    om = sc.open_mask
    voice = np.zeros(grid.n)
    voice[om] = rng.integers(1, 4, om.sum())
    vol = np.zeros(grid.n)
    vol[om] = rng.integers(0, 5, om.sum())
    vol[-12:] = 0  # nothing due after closing
    reqs = pd.concat(
        [
            pd.DataFrame({"channel": "voice", "interval": np.arange(grid.n), "agents": voice}),
            pd.DataFrame(
                {
                    "channel": "email",
                    "interval": np.arange(grid.n),
                    "agents": 0.0,
                    "volume": vol,
                    "aht_s": 900.0,
                }
            ),
        ]
    )
    rules = ShiftRules(lengths_h=(4.0,), start_step_min=60, lunch_min=0, short_breaks=(SHORT,))
    _, scip = solve(sc, reqs, rules=rules, solver=EXACT)
    try:
        _, gur = solve(sc, reqs, rules=rules, solver=SolverOptions("gurobi", rel_gap=0.0))
    except SolverError as exc:
        pytest.skip(f"gurobipy cannot solve here: {exc}")
    assert gur.n_vars < 2000 and gur.n_cons < 2000
    assert gur.objective == pytest.approx(scip.objective) and gur.status == "optimal"


def test_start_time_cap_keeps_optima_that_need_many_agents_at_one_start():
    """The cap is exact (indicator constraints, no big-M): a part-time share that forces 4 full-timers per
    part-timer, and email worked off in one late window, keep their uncapped optimum when that optimum uses
    no more start times than the cap (found by a reviewer: a big-M from the peak need cut these off)."""
    from optim.schedule import templates_from_table

    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    sc = _voice(grid, 8, 20, shrinkage=0.3)
    cat = pd.DataFrame({"name": ["FT", "PT"], "start": ["08:00", "16:00"], "end": ["16:00", "20:00"]})
    need = np.zeros(grid.n)
    need[16:20], need[8:16] = 10, 1
    kw = dict(templates=templates_from_table(cat, sc), solver=EXACT, max_part_time_share=0.2)
    _, free = solve(sc, _reqs(grid, need), **kw)
    _, capped = solve(sc, _reqs(grid, need), max_start_times=2, **kw)
    assert capped.objective == pytest.approx(free.objective) == pytest.approx(5400.0)  # 60 FT + 15 PT
    ch = Channel("mail", "email", deadline_h=12, target=1.0, aht_s=3600)
    sc2 = Scenario(grid, [ch], [SkillGroup("a", ["mail"], cost_per_hour=10.0)], open_hour=8, close_hour=20)
    vol = np.zeros(grid.n)
    vol[8:13] = 1.0  # one agent-hour an hour, 08:00-13:00, due by 19:00-24:00
    reqs = pd.DataFrame({"channel": "mail", "interval": np.arange(grid.n), "agents": 0.0, "volume": vol})
    reqs["aht_s"] = 3600.0
    late = ShiftRules(lengths_h=(1.0,), start_step_min=60, lunch_min=0, earliest_start_h=19, latest_end_h=20)
    _, rep = solve(sc2, reqs, rules=late, solver=EXACT, max_start_times=1)
    assert rep.objective == pytest.approx(50.0)  # 5 agents 19:00-20:00


def test_breaks_on_the_spring_forward_night_stay_inside_the_shift():
    """An 8 h shift from 00:00 on Berlin's spring-forward day lasts 7 h: its break counted back from the end
    lies in the real last hour, and schedule.csv reads back (a reviewer found the break placed after the
    shift's end)."""
    grid = IntervalGrid.from_days("2026-03-29", 1, 15, "Europe/Berlin")
    sc = _voice(grid, 0, 24)
    rules = ShiftRules(
        lengths_h=(8.0,),
        start_step_min=60,
        lunch_min=0,
        earliest_start_h=0,
        latest_end_h=8,
        short_breaks=({"minutes": 15, "earliest_h": -1.0, "latest_h": -0.25, "step_min": 15},),
    )
    (tp,) = make_templates(sc, rules)
    assert tp.end_s - tp.start_s == 7 * 3600 and tp.length_s == 8 * 3600
    assert all(tp.start_s + 6 * 3600 <= b and b + 900 <= tp.end_s for b in tp.flex_breaks[0][1])
    need = np.zeros(grid.n)
    need[:28] = 1  # the 7 real hours 00:00-08:00
    sched, rep = solve(sc, _reqs(grid, need), rules=rules, solver=EXACT)
    assert rep.objective == pytest.approx(140.0)  # two agents of 7 paid hours: one covers the other's break
    back = Schedule.from_frame(sched.to_frame(), grid.tz)
    assert np.all(back.coverage(grid, ["a"])[0] >= need - 1e-9)


def test_bounds_and_bad_inputs_give_clear_errors():
    from forecast.errors import DataError

    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    sc = _voice(grid, 8, 16)
    need = np.zeros(grid.n)
    need[8:16] = 1
    rules = ShiftRules(lengths_h=(4.0,), start_step_min=60, lunch_min=0)
    # a single min_agents applies where shifts can be on duty (not in the closed night)
    _, rep = solve(sc, _reqs(grid, need), rules=rules, solver=EXACT, min_agents=2)
    assert rep.objective == pytest.approx(2 * 2 * 40.0)
    with pytest.raises(DataError, match=r"min_agents: expected a number or 24 of them"):
        solve(sc, _reqs(grid, need), rules=rules, min_agents=[1, 2, 3])
    with pytest.raises(
        InfeasibleError, match=r"even when the requirements are relaxed.*min_agents, max_agents"
    ):
        solve(sc, _reqs(grid, need), rules=rules, min_agents=3, max_agents=2)
    with pytest.raises(ConfigError, match=r"max_start_times: expected an integer >= 1"):
        solve(sc, _reqs(grid, need), rules=rules, max_start_times=0)
    from optim.schedule import TourRules

    with pytest.raises(ConfigError, match=r"weekly_hours: expected \[min, max\]"):
        TourRules(weekly_hours=40)
