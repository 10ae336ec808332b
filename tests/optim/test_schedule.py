"""The shift MIP against brute-force enumeration of every schedule on tiny instances, on SCIP and Gurobi."""

import itertools

import numpy as np
import pandas as pd
import pytest

from forecast.errors import InfeasibleError, SolverError
from optim.schedule import ShiftRules, SolverOptions, coverage_matrix, expand_breaks, make_templates
from optim.schedule import solve as _solve
from sim import Channel, IntervalGrid, Scenario, Schedule, SkillGroup


def solve(*args, **kw):
    """These instances give email as agents per interval (the backlog flow has tests of its own)."""
    return _solve(*args, **{"email": "requirement", **kw})


GRID = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")


def _scenario(shrinkage=0.0):
    chs = [Channel("voice", "voice"), Channel("email", "email")]
    groups = [
        SkillGroup("a", ["voice"], cost_per_hour=10.0),
        SkillGroup("b", ["voice", "email"], cost_per_hour=13.0),
    ]
    return Scenario(GRID, chs, groups, open_hour=8, close_hour=14, shrinkage=shrinkage)


def _reqs(sc, need):
    rows = []
    for c, name in enumerate(sc.channel_names):
        rows.append(pd.DataFrame({"channel": name, "interval": np.arange(GRID.n), "agents": need[c]}))
    return pd.concat(rows, ignore_index=True)


RULES = ShiftRules(
    lengths_h=(4.0,),
    start_step_min=60,
    lunch_min=60,
    lunch_earliest_h=1.0,
    lunch_latest_h=2.0,
    lunch_step_min=60,
)


def _brute_force(sc, need, rules, kmax):
    """Cheapest integer schedule by enumeration; the multi-skill split is feasible iff (Hall's condition)
    email <= (1-s) cov_b and voice + email <= (1-s) (cov_a + cov_b) in every interval."""
    tps = expand_breaks(make_templates(sc, rules))  # the explicit break model
    A = coverage_matrix(tps, GRID).toarray()
    f = 1 - sc.shrinkage
    best = np.inf
    J = len(tps)
    costs = np.array([tp.paid_h for tp in tps])
    # enumerate group a and b separately over the templates
    combos = np.array(list(itertools.product(range(kmax + 1), repeat=J)))
    cov = combos @ A.T  # [combos, T]
    cost = combos @ costs
    for ia in range(len(combos)):
        ca = cov[ia]
        ok_b = np.all(need[1] <= f * cov + 1e-9, axis=1) & np.all(
            need[0] + need[1] <= f * (ca + cov) + 1e-9, axis=1
        )
        if ok_b.any():
            best = min(best, 10.0 * cost[ia] + 13.0 * cost[ok_b].min())
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shrinkage", [0.0, 0.25])
def test_scip_matches_brute_force(seed, shrinkage):
    sc = _scenario(shrinkage)
    rng = np.random.default_rng(seed)
    need = np.zeros((2, GRID.n))
    open_ = sc.open_mask
    need[0, open_] = rng.integers(0, 3, open_.sum())
    need[1, open_] = rng.integers(0, 2, open_.sum()) * 0.5
    expected = _brute_force(sc, need, RULES, kmax=3)
    schedule, report = solve(sc, _reqs(sc, need), rules=RULES, solver=SolverOptions(rel_gap=0.0))
    assert report.objective == pytest.approx(expected)
    assert report.status == "optimal" and report.gap <= 1e-9 and report.best_bound <= report.objective + 1e-6
    # the schedule's own coverage meets the needs (Hall's condition) and its cost is the objective
    cov = schedule.coverage(GRID, sc.group_names)
    f = 1 - shrinkage
    assert np.all(need[1] <= f * cov[1] + 1e-9) and np.all(need.sum(0) <= f * cov.sum(0) + 1e-9)
    paid = schedule.paid_hours()
    assert 10 * paid.get("a", 0) + 13 * paid.get("b", 0) == pytest.approx(report.objective)


def test_schedule_csv_round_trip(tmp_path):
    sc = _scenario()
    need = np.zeros((2, GRID.n))
    need[0, sc.open_mask] = [1, 2, 2, 1, 2, 1]
    schedule, _ = solve(sc, _reqs(sc, need), rules=RULES)
    back = Schedule.read_csv(schedule.to_csv(tmp_path / "schedule.csv"), GRID.tz)
    np.testing.assert_array_equal(
        back.coverage(GRID, sc.group_names), schedule.coverage(GRID, sc.group_names)
    )


def test_uncoverable_interval_is_reported_by_name():
    sc = _scenario()
    need = np.zeros((2, GRID.n))
    need[0, 3] = 1.0  # 03:00, the centre is closed and no shift can cover it
    with pytest.raises(InfeasibleError, match=r"voice at 2026-01-05 03:00"):
        solve(sc, _reqs(sc, need), rules=RULES)
    # soft mode: under-coverage is allowed at a penalty
    schedule, report = solve(sc, _reqs(sc, need), rules=RULES, soft=True, under_penalty=5.0)
    assert len(schedule) == 0 and report.objective == pytest.approx(5.0)


def test_gurobi_agrees_with_scip_within_its_free_license():
    pytest.importorskip("gurobipy")
    sc = _scenario(0.1)
    need = np.zeros((2, GRID.n))
    need[0, sc.open_mask] = [1, 3, 2, 2, 3, 1]
    need[1, sc.open_mask] = [0.5, 0, 1, 0.5, 0, 0]
    scip_s, scip_r = solve(sc, _reqs(sc, need), rules=RULES, solver=SolverOptions(rel_gap=0.0))
    try:
        gur_s, gur_r = solve(sc, _reqs(sc, need), rules=RULES, solver=SolverOptions("gurobi", rel_gap=0.0))
    except SolverError as exc:
        pytest.skip(f"gurobipy cannot solve here: {exc}")
    assert gur_r.n_vars < 2000 and gur_r.n_cons < 2000
    assert gur_r.objective == pytest.approx(scip_r.objective)
    assert gur_r.status == "optimal" and gur_r.version.startswith("Gurobi")


def test_gurobi_size_limit_gives_a_clear_message():
    pytest.importorskip("gurobipy")
    grid = IntervalGrid.from_days("2026-01-05", 7, 15, "UTC")
    sc = Scenario(grid, [Channel("voice", "voice")], [SkillGroup("a", ["voice"])], open_hour=6, close_hour=22)
    need = pd.DataFrame({"channel": "voice", "interval": np.arange(grid.n), "agents": 5.0 * sc.open_mask})
    rules = ShiftRules(start_step_min=15, lunch_step_min=15)
    try:
        solve(sc, need, rules=rules, solver=SolverOptions("gurobi", time_limit_s=20))
    except SolverError as exc:
        msg = str(exc)
        if "size-limited" not in msg:
            pytest.skip(f"gurobipy cannot run here: {msg}")
        assert "2000" in msg and "solver=scip" in msg
    else:
        pytest.skip("this Gurobi license is not size-limited")


def test_day_scope_target_is_no_dearer_and_meets_the_day_target_on_the_curves():
    """A day-scope 80/20 target through the service-level envelopes costs no more than the same target in
    every interval, and the day service level read off the curves at the agents the schedule puts on the
    floor (recomputed from schedule.csv) meets it."""
    from optim import requirements
    from optim.queueing import service_level_envelope
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    ch = Channel("voice", "voice", aht_s=300, aht_dist="exponential", target=0.8, threshold_s=20, scope="day")
    sc = Scenario(
        grid,
        [ch],
        [SkillGroup("a", ["voice"], cost_per_hour=10.0)],
        open_hour=8,
        close_hour=16,
        shrinkage=0.1,
    )
    vol = np.array([0, 0, 0, 0, 0, 0, 0, 0, 20, 45, 70, 90, 60, 40, 30, 15] + [0] * 8, float)
    fc = flat_forecast(grid, {"voice": vol}, {"voice": 300.0})
    reqs = requirements(fc, sc)
    rules = ShiftRules(
        lengths_h=(4.0,), start_step_min=60, lunch_min=0, lunch_earliest_h=1.0, lunch_latest_h=2.0
    )
    s_int, r_int = solve(sc, reqs, rules=rules, targets="interval")
    s_day, r_day = solve(sc, reqs, rules=rules, targets="scope")
    assert r_day.objective <= r_int.objective + 1e-6
    assert r_day.objective < r_int.objective  # the day target lets some intervals run below 80/20
    on_floor = 0.9 * s_day.coverage(grid, ["a"])[0]
    env = service_level_envelope(vol / 3600, 300.0, threshold=20.0)
    day_sl = 0.0
    for t in np.flatnonzero(vol > 0):
        p = env[env["interval"] == t]
        day_sl += vol[t] * (p["intercept"] + p["slope"] * on_floor[t]).min()
    assert day_sl / vol.sum() >= 0.8 - 1e-6


def test_min_and_max_agents_and_the_lp_bound():
    """Bounds on agents on duty against brute force; the MIP optimum is at least its LP relaxation, solved
    independently with scipy's HiGHS."""
    from scipy.optimize import linprog

    from optim.schedule.solve import build_schedule_model, need_matrix

    sc = _scenario(0.0)
    need = np.zeros((2, GRID.n))
    need[0, sc.open_mask] = [1, 2, 1, 1, 2, 1]
    reqs = _reqs(sc, need)
    lo = np.zeros(GRID.n)
    lo[sc.open_mask] = [0, 0, 3, 3, 0, 0]  # at least 3 on duty at 10:00-12:00
    hi = np.full(GRID.n, np.inf)
    hi[sc.open_mask] = [2, 3, 3, 3, 3, 2]
    _, rep_ = solve(sc, reqs, rules=RULES, solver=SolverOptions(rel_gap=0.0), min_agents=lo, max_agents=hi)
    # brute force over both groups' template counts
    tps = expand_breaks(make_templates(sc, RULES))
    A = coverage_matrix(tps, GRID).toarray()
    costs = np.array([tp.paid_h for tp in tps])
    combos = np.array(list(itertools.product(range(4), repeat=len(tps))))
    cov, cost = combos @ A.T, combos @ costs
    best = np.inf
    for ia in range(len(combos)):
        tot = cov[ia] + cov
        ok = (
            np.all(need[0] <= tot + 1e-9, axis=1)
            & np.all(tot >= lo - 1e-9, axis=1)
            & np.all(tot <= hi + 1e-9, axis=1)
        )
        if ok.any():
            best = min(best, 10.0 * cost[ia] + 13.0 * cost[ok].min())
    assert rep_.objective == pytest.approx(best)
    # LP relaxation of the same model (no bounds): a lower bound on the optimum
    model = build_schedule_model(sc, need_matrix(reqs, sc), tps)
    M = model.A.tocsr()
    A_ub, b_ub = [], []
    for r in range(M.shape[0]):
        row = M.getrow(r).toarray().ravel()
        if np.isfinite(model.rhs[r]):
            A_ub.append(row)
            b_ub.append(model.rhs[r])
        if np.isfinite(model.lhs[r]):
            A_ub.append(-row)
            b_ub.append(-model.lhs[r])
    lp = linprog(
        model.obj,
        A_ub=np.array(A_ub),
        b_ub=np.array(b_ub),
        bounds=list(zip(model.lb, model.ub)),
        method="highs",
    )
    _, rep0 = solve(sc, reqs, rules=RULES, solver=SolverOptions(rel_gap=0.0))
    assert lp.status == 0 and rep0.objective >= lp.fun - 1e-6 and rep0.best_bound >= lp.fun - 1e-6


def test_a_shift_catalogue_gives_the_same_optimum_as_the_same_shifts_from_rules(tmp_path):
    from optim.schedule import templates_from_table

    sc = _scenario(0.0)
    need = np.zeros((2, GRID.n))
    need[0, sc.open_mask] = [1, 2, 2, 1, 2, 1]
    need[1, sc.open_mask] = [0, 0.5, 0, 0.5, 0, 0]
    reqs = _reqs(sc, need)
    _, by_rules = solve(sc, reqs, rules=RULES, solver=SolverOptions(rel_gap=0.0))
    rows = []
    for tp in expand_breaks(make_templates(sc, RULES)):
        ((bs, be),) = tp.breaks
        hm = lambda sec: f"{int(sec // 3600) % 24:02d}:{int(sec % 3600 // 60):02d}"  # noqa: E731
        rows.append(
            {
                "name": f"s{len(rows)}",
                "start": hm(tp.start_s),
                "end": hm(tp.end_s),
                "breaks": f"{hm(bs)}-{hm(be)}",
            }
        )
    path = tmp_path / "catalogue.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    cat = templates_from_table(path, sc)
    _, by_cat = solve(sc, reqs, templates=cat, solver=SolverOptions(rel_gap=0.0))
    assert by_cat.objective == pytest.approx(by_rules.objective)
    # a catalogue's own cost per shift replaces paid hours x cost per hour
    priced = templates_from_table(pd.DataFrame(rows).assign(cost=1.0), sc)
    sched, r = solve(sc, reqs, templates=priced, solver=SolverOptions(rel_gap=0.0))
    assert r.objective == pytest.approx(len(sched))
    bad = pd.DataFrame(rows).astype(str)
    bad.loc[1, "start"] = "25:00"
    from forecast.errors import DataError

    with pytest.raises(DataError, match=r"row 3: column 'start'"):
        templates_from_table(bad, sc)


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_part_time_share_against_brute_force(share):
    """Shifts of 2 h (part-time) and 4 h: at most ``share`` of the shifts may be part-time."""
    sc = Scenario(
        GRID,
        [Channel("voice", "voice")],
        [SkillGroup("a", ["voice"], cost_per_hour=10.0)],
        open_hour=8,
        close_hour=14,
    )
    rules = ShiftRules(
        lengths_h=(2.0, 4.0), start_step_min=120, lunch_min=0, lunch_earliest_h=0.0, lunch_latest_h=0.0
    )
    need = np.zeros((1, GRID.n))
    need[0, sc.open_mask] = [2, 1, 1, 1, 2, 2]
    reqs = pd.DataFrame({"channel": "voice", "interval": np.arange(GRID.n), "agents": need[0]})
    _, r = solve(
        sc,
        reqs,
        rules=rules,
        solver=SolverOptions(rel_gap=0.0),
        max_part_time_share=share,
        part_time_below_h=4.0,
    )
    tps = make_templates(sc, rules)
    A = coverage_matrix(tps, GRID).toarray()
    pt = np.array([(tp.end_s - tp.start_s) < 4 * 3600 for tp in tps])
    paid = np.array([tp.paid_h for tp in tps])
    best = np.inf
    for combo in itertools.product(range(3), repeat=len(tps)):
        k = np.array(combo)
        if k.sum() and k[pt].sum() > share * k.sum() + 1e-9:
            continue
        if np.all(A @ k >= need[0] - 1e-9):
            best = min(best, 10.0 * paid @ k)
    assert r.objective == pytest.approx(best)
