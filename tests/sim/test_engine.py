"""The simulator against theory: M/M/c (Erlang C) and M/M/c+M (birth-death chain), plus CRN and workers."""

import numpy as np
import pytest
from scipy import stats

from optim.queueing import erlang_c
from sim import Channel, IntervalGrid, Scenario, SkillGroup, simulate

Z999 = stats.norm.ppf(0.9995)


def _mmc(patience_s=np.inf, days=5, reps=30, n=5, lam_per_h=210.0, aht=60.0, seed=11, records=False):
    grid = IntervalGrid.from_days("2026-01-05", days, 60, "UTC")
    ch = Channel("voice", "voice", aht_s=aht, aht_dist="exponential", threshold_s=20, patience_s=patience_s)
    sc = Scenario(grid, [ch], [SkillGroup("g", ["voice"])])
    from tests.conftest import flat_forecast

    fc = flat_forecast(grid, {"voice": lam_per_h}, {"voice": aht})
    staff = np.full((1, grid.n), n)
    return sc, fc, simulate(sc, staff, forecast=fc, replications=reps, seed=seed, records=records)


def _per_rep(res, warmup_intervals=2):
    df = res.intervals[res.intervals["interval"] >= warmup_intervals]
    return df.groupby("rep").sum(numeric_only=True)


def _ci(x):
    x = np.asarray(x, float)
    m = x.mean()
    h = stats.t.ppf(0.9995, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return m, h


def test_mmc_matches_erlang_c():
    """M/M/5, load 3.5 Erlangs: service level within 20 s, ASA, occupancy inside their 99.9% CIs."""
    sc, fc, res = _mmc(records=True)
    d = _per_rep(res)
    # the last intervals of the horizon are censored (calls still waiting at the end): drop them too
    exact = erlang_c(210 / 3600, 60.0, 5, 20.0)
    sl = d["answered_within"] / d["offered"]
    asa = d["wait_sum_s"] / d["answered"]
    m, h = _ci(sl)
    assert h <= 0.01, h
    assert abs(m - exact.service_level) <= h, (m, h, exact.service_level)
    m, h = _ci(asa)
    assert abs(m - exact.asa) <= h, (m, h, exact.asa)
    occ = res.groups.groupby("rep").sum(numeric_only=True)
    m, h = _ci(occ["busy_s"] / occ["available_s"])
    assert abs(m - exact.occupancy) <= h
    c = res.contacts[
        (res.contacts["arrival_s"] >= 2 * 3600) & (res.contacts["arrival_s"] < (5 * 24 - 1) * 3600)
    ]
    m, h = _ci((c["wait_s"] > 0).groupby(c["rep"]).mean())
    assert h <= 0.01 and abs(m - exact.p_wait) <= h, (m, h, exact.p_wait)


def _mmc_abandon_chain(lam, mu, theta, c, T, kmax=400):
    """Exact M/M/c+M by the birth-death chain (independent of optim.queueing): P(abandon) and P(W <= T)
    for the virtual waiting time... here only P(abandon) = theta E[queue] / lam, and P(wait)."""
    rates = [min(k, c) * mu + max(k - c, 0) * theta for k in range(1, kmax + 1)]
    logp = np.concatenate([[0.0], np.cumsum(np.log(lam) - np.log(rates))])
    p = np.exp(logp - logp.max())
    p /= p.sum()
    k = np.arange(kmax + 1)
    eq = float((np.maximum(k - c, 0) * p).sum())
    return theta * eq / lam, float(p[c:].sum())


def test_mmc_with_abandonment_matches_the_birth_death_chain():
    """M/M/4+M: P(abandon) and P(wait) against the chain solved here, and service level, ASA and P(wait)
    against Erlang A (optim.queueing), each inside the 99.9% interval of 30 replications after warm-up."""
    from optim.queueing import erlang_a

    patience = 120.0
    sc, fc, res = _mmc(patience_s=patience, n=4, lam_per_h=250.0, seed=5, records=True)
    d = _per_rep(res)
    p_ab, p_wait = _mmc_abandon_chain(250 / 3600, 1 / 60, 1 / patience, 4, 20)
    exact = erlang_a(250 / 3600, 60.0, patience, 4, 20.0)
    assert exact.p_abandon == pytest.approx(p_ab, rel=1e-9) and exact.p_wait == pytest.approx(
        p_wait, rel=1e-9
    )
    m, h = _ci(d["abandoned"] / d["offered"])
    assert h <= 0.01
    assert abs(m - p_ab) <= h, (m, h, p_ab)
    m, h = _ci(d["answered_within"] / d["offered"])
    assert h <= 0.01 and abs(m - exact.service_level) <= h, (m, h, exact.service_level)
    m, h = _ci(d["wait_sum_s"] / d["answered"])
    assert abs(m - exact.asa) <= h, (m, h, exact.asa)
    # P(wait): callers not answered at once, from the per-contact records (after the warm-up)
    c = res.contacts[
        (res.contacts["arrival_s"] >= 2 * 3600) & (res.contacts["arrival_s"] < (5 * 24 - 1) * 3600)
    ]
    waited = ~(c["wait_s"] == 0)
    m, h = _ci(waited.groupby(c["rep"]).mean())
    assert h <= 0.01 and abs(m - exact.p_wait) <= h, (m, h, exact.p_wait)


def test_common_random_numbers_and_workers():
    grid = IntervalGrid.from_days("2026-01-05", 1, 30, "UTC")
    ch = Channel("voice", "voice", aht_s=200, patience_s=100)
    sc = Scenario(grid, [ch], [SkillGroup("g", ["voice"])], shrinkage=0.2)
    from tests.conftest import flat_forecast

    fc = flat_forecast(grid, {"voice": 40.0}, {"voice": 200.0}, shape_day=10.0, shape_interval=50.0)
    a = simulate(sc, np.full((1, grid.n), 4), forecast=fc, replications=4, seed=3)
    b = simulate(sc, np.full((1, grid.n), 6), forecast=fc, replications=4, seed=3, workers=2)
    c = simulate(sc, np.full((1, grid.n), 4), forecast=fc, replications=4, seed=3, workers=2)
    # same customers under two staffings
    np.testing.assert_array_equal(a.intervals["offered"], b.intervals["offered"])
    # more agents: no more abandonment in any replication
    ra, rb = a.intervals.groupby("rep")["abandoned"].sum(), b.intervals.groupby("rep")["abandoned"].sum()
    assert (rb <= ra).all()
    # identical for any number of workers, bit for bit
    assert a.intervals.equals(c.intervals) and a.groups.equals(c.groups)
    # another seed gives other customers
    d = simulate(sc, np.full((1, grid.n), 4), forecast=fc, replications=4, seed=4)
    assert not np.array_equal(a.intervals["offered"], d.intervals["offered"])


def test_flow_conservation_and_gamma_overdispersion():
    """offered = answered + abandoned + still waiting; counts are over-dispersed by the day multiplier."""
    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    ch = Channel("voice", "voice", aht_s=120, patience_s=60)
    sc = Scenario(grid, [ch], [SkillGroup("g", ["voice"])])
    from tests.conftest import flat_forecast

    shape = 5.0
    fc = flat_forecast(grid, {"voice": 50.0}, {"voice": 120.0}, shape_day=shape)
    res = simulate(sc, np.full((1, grid.n), 2), forecast=fc, replications=300, seed=1)
    tot = res.intervals.groupby("rep").sum(numeric_only=True)
    # all calls end answered or abandoned, as agents stay to the end
    assert (
        tot["offered"]
        == tot["answered"] + tot["abandoned"] + res.intervals.groupby("rep")["queue_end"].last()
    ).all()
    # daily totals: mean 1200, variance 1200 + 1200^2 / shape (negative binomial)
    mu = 50.0 * 24
    var = mu + mu**2 / shape
    x = tot["offered"].to_numpy(float)
    se_mean = np.sqrt(var / x.size)
    assert abs(x.mean() - mu) <= Z999 * se_mean
    # sample variance: chi-square-like spread; for a gamma-mixed Poisson the relative SE of s^2 is about
    # sqrt(2/(n-1) + excess kurtosis / n); with kurtosis ~ 6/shape this is ~0.16 at n=300: 4 SE band
    rel = x.var(ddof=1) / var
    assert 1 - 4 * 0.16 < rel < 1 + 4 * 0.16
    assert rel > 0.2 * (1 + mu / shape) / (1 + mu / shape)  # far above the Poisson ratio mu/var


def test_chat_concurrency_equals_erlang_c_with_n_times_m_servers():
    """A chat agent with m slots and a fixed per-chat rate is an M/M/(n m) queue."""
    grid = IntervalGrid.from_days("2026-01-05", 5, 60, "UTC")
    ch = Channel("chat", "chat", aht_s=120, aht_dist="exponential", threshold_s=30, concurrency=3)
    sc = Scenario(grid, [ch], [SkillGroup("g", ["chat"])])
    from tests.conftest import flat_forecast

    lam_h = 180.0  # load 6 Erlangs on 3 x 3 = 9 slots
    fc = flat_forecast(grid, {"chat": lam_h}, {"chat": 120.0})
    res = simulate(sc, np.full((1, grid.n), 3), forecast=fc, replications=30, seed=2)
    d = _per_rep(res)
    exact = erlang_c(lam_h / 3600, 120.0, 9, 30.0)
    m, h = _ci(d["answered_within"] / d["offered"])
    assert h <= 0.01
    assert abs(m - exact.service_level) <= h, (m, h, exact.service_level)


def test_mixed_chat_concurrency_never_loads_an_agent_past_one():
    """One group serves chats of concurrency 2 and 3: an agent's load (sum of 1/m) stays <= 1, so the busy
    time of the group never exceeds its logged-on time, even when both queues are long."""
    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    chans = [
        Channel("c2", "chat", aht_s=300, threshold_s=30, concurrency=2),
        Channel("c3", "chat", aht_s=300, threshold_s=30, concurrency=3),
    ]
    sc = Scenario(grid, chans, [SkillGroup("g", ["c2", "c3"])])
    from tests.conftest import flat_forecast

    fc = flat_forecast(grid, {"c2": 120.0, "c3": 120.0}, {"c2": 300.0, "c3": 300.0})  # 20 Erlangs on 3 agents
    res = simulate(sc, np.full((1, grid.n), 3), forecast=fc, replications=3, seed=4)
    g = res.groups
    assert (g["busy_s"] <= g["available_s"] + 1e-6).all()
    # saturated: the agents are (almost) always full
    assert g["busy_s"].sum() >= 0.97 * g["available_s"].sum()


def test_zero_arrivals_and_a_break_in_progress_at_the_grid_start():
    """No contacts at all does not fail; a shift that began before the grid with a break spanning the grid
    start is logged on only from the break end, exactly as the schedule's coverage says."""
    import pandas as pd

    from sim import Schedule
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 30, "UTC")
    sc = Scenario(grid, [Channel("voice", "voice", aht_s=200)], [SkillGroup("g", ["voice"])])
    sched = Schedule.from_frame(
        pd.DataFrame(
            {
                "skill_group": ["g", "g"],
                "start": ["2026-01-04T22:00", "2026-01-04T20:00"],
                "end": ["2026-01-05T06:00", "2026-01-05T04:00"],
                "breaks": ["23:45-00:15;02:00-02:30", "23:00-23:30"],
            }
        ),
        "UTC",
    )
    fc = flat_forecast(grid, {"voice": 0.0}, {"voice": 200.0})
    res = simulate(sc, sched, forecast=fc, replications=2, seed=3)
    assert res.intervals["offered"].sum() == 0
    avail = res.groups[res.groups["rep"] == 0]["available_s"].to_numpy()
    np.testing.assert_allclose(avail, sched.coverage(grid, ["g"])[0] * grid.interval_s)
    assert avail[0] == 900 + 1800  # the first shift from 00:15, the second the whole interval


def test_email_fcfs_response_times_match_the_mm_c_sojourn_distribution():
    """Email answered FCFS by c agents with exponential handle times: the share answered (handled to
    completion) within d of arrival is the M/M/c sojourn-time cdf at d, for several d."""
    from optim.queueing import sojourn_cdf
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 16, 60, "UTC")
    c, aht, lam_h = 5, 300.0, 45.0  # utilisation 0.75
    res = {}
    for d in (600.0, 1800.0):
        ch = Channel("email", "email", aht_s=aht, aht_dist="exponential", deadline_h=d / 3600, target=0.5)
        sc = Scenario(grid, [ch], [SkillGroup("g", ["email"])])
        fc = flat_forecast(grid, {"email": lam_h}, {"email": aht})
        res[d] = simulate(sc, np.full((1, grid.n), c), forecast=fc, replications=30, seed=21)
    for d, r in res.items():
        df = r.intervals[(r.intervals["interval"] >= 2) & (r.intervals["interval"] < grid.n - 1)]
        per = df.groupby("rep").sum(numeric_only=True)
        m, h = _ci(per["answered_within_due"] / per["due"])
        exact = sojourn_cdf(lam_h / 3600, aht, c, d)
        assert h <= 0.01, h
        assert abs(m - exact) <= h, (d, m, h, exact)


def test_common_random_numbers_make_one_more_agent_never_worse():
    """Single group, FIFO, no abandonment: one more agent in any interval never lowers the number answered
    within threshold in any replication (same customers under both staffings). With abandonment the paired
    mean difference is >= 0 within its 99% confidence interval."""
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 30, "UTC")
    rng = np.random.default_rng(5)
    for patience in (np.inf, 90.0):
        ch = Channel("voice", "voice", aht_s=240, threshold_s=20, patience_s=patience)
        sc = Scenario(grid, [ch], [SkillGroup("g", ["voice"])])
        fc = flat_forecast(grid, {"voice": rng.uniform(60, 110, grid.n)}, {"voice": 240.0})
        base = np.full((1, grid.n), 9)
        r0 = simulate(sc, base, forecast=fc, replications=30, seed=8)
        a0 = r0.intervals.groupby("rep")["answered_within"].sum().to_numpy()
        diffs = []
        for t in rng.choice(grid.n, 4, replace=False):
            more = base.copy()
            more[0, t] += 1
            r1 = simulate(sc, more, forecast=fc, replications=30, seed=8)
            a1 = r1.intervals.groupby("rep")["answered_within"].sum().to_numpy()
            assert (r1.intervals["offered"].to_numpy() == r0.intervals["offered"].to_numpy()).all()  # CRN
            if np.isinf(patience):
                assert (a1 >= a0).all(), (t, (a1 - a0).min())
            diffs.append(a1 - a0)
        d = np.concatenate(diffs).astype(float)
        h = stats.t.ppf(0.995, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
        assert d.mean() + h >= 0, (d.mean(), h)  # >= 0 within the 99% interval
        assert d.mean() > 0  # and an extra agent does help on average


def test_balking_matches_the_birth_death_chain():
    """M/M/c where a caller who finds every agent busy balks with probability b: arrivals join at rate
    lambda (1 - b) in the states >= c; P(balk) = b P(N >= c) by PASTA."""
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 4, 60, "UTC")
    c, aht, lam_h, b = 4, 120.0, 130.0, 0.3
    ch = Channel("voice", "voice", aht_s=aht, aht_dist="exponential", threshold_s=0.0, balk_prob=b)
    sc = Scenario(grid, [ch], [SkillGroup("g", ["voice"])])
    fc = flat_forecast(grid, {"voice": lam_h}, {"voice": aht})
    res = simulate(sc, np.full((1, grid.n), c), forecast=fc, replications=30, seed=4)
    lam, mu = lam_h / 3600, 1 / aht
    K = 200
    rates_up = [lam if k < c else lam * (1 - b) for k in range(K)]
    logp = np.concatenate(
        [[0.0], np.cumsum([np.log(rates_up[k]) - np.log(min(k + 1, c) * mu) for k in range(K)])]
    )
    p = np.exp(logp - logp.max())
    p /= p.sum()
    exact = b * p[c:].sum()
    d = _per_rep(res)
    m, h = _ci(d["abandoned"] / d["offered"])
    assert h <= 0.01 and abs(m - exact) <= h, (m, h, exact)


def test_patience_and_handle_distributions_keep_their_means():
    """With nobody on duty every caller abandons after its own patience, so the waiting time per caller is
    its mean patience, for lognormal and empirical (rescaled samples) patience alike; empirical handle times
    keep the interval's AHT."""
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    fc = flat_forecast(grid, {"voice": 200.0}, {"voice": 150.0})
    for kw in (
        dict(patience_dist="lognormal", patience_cv=1.5),
        dict(patience_dist="empirical", patience_samples=(10.0, 20.0, 90.0)),
    ):
        ch = Channel("voice", "voice", aht_s=150, patience_s=80.0, **kw)
        sc = Scenario(grid, [ch], [SkillGroup("g", ["voice"])])
        res = simulate(sc, np.zeros((1, grid.n), int), forecast=fc, replications=20, seed=2)
        df = res.intervals[res.intervals["interval"] < grid.n - 1]  # callers of the last hour may outlast it
        per = df.groupby("rep").sum(numeric_only=True)
        assert (per["abandoned"] == per["offered"]).all()
        m, h = _ci(per["queue_time_s"] / per["offered"])
        assert abs(m - 80.0) <= h, (kw, m, h)
    ch = Channel("voice", "voice", aht_s=150, aht_dist="empirical", aht_samples=(1.0, 2.0, 6.0))
    sc = Scenario(grid, [ch], [SkillGroup("g", ["voice"])])
    res = simulate(sc, np.full((1, grid.n), 20), forecast=fc, replications=20, seed=2)
    per = res.intervals.groupby("rep").sum(numeric_only=True)
    m, h = _ci(per["handle_sum_s"] / per["answered"])
    assert abs(m - 150.0) <= h, (m, h)


def test_starting_email_backlog_is_worked_off_first_in_fifo_order():
    """30 emails waiting at the start, 3 agents, fixed handle time 600 s, no new arrivals: the queue at
    the interval ends falls by 9 per half hour (21, 12, 3, 0), the oldest waiting email ages with the clock,
    and the backlog is not counted as offered."""
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 30, "UTC")
    ch = Channel("email", "email", aht_s=600, aht_cv=0.0, deadline_h=8)
    sc = Scenario(grid, [ch], [SkillGroup("g", ["email"])])
    fc = flat_forecast(grid, {"email": 0.0}, {"email": 600.0})
    res = simulate(
        sc,
        np.full((1, grid.n), 3),
        forecast=fc,
        replications=1,
        seed=0,
        initial_backlog={"email": [3600.0] * 30},
    )
    iv = res.intervals
    np.testing.assert_array_equal(iv["queue_end"].to_numpy()[:5], [21, 12, 3, 0, 0])
    np.testing.assert_allclose(iv["oldest_age_s"].to_numpy()[:3], [3600 + 1800, 3600 + 3600, 3600 + 5400])
    assert iv["offered"].sum() == 0
    np.testing.assert_allclose(iv["busy_s"].to_numpy()[:5], [5400, 5400, 5400, 1800, 0])
    import pytest

    with pytest.raises(Exception, match="initial_backlog.voice"):
        sc2 = Scenario(grid, [Channel("voice", "voice")], [SkillGroup("g", ["voice"])])
        simulate(
            sc2,
            np.full((1, grid.n), 3),
            forecast=flat_forecast(grid, {"voice": 1.0}, {"voice": 300.0}),
            initial_backlog={"voice": -3},
        )


def test_callers_waiting_at_the_start_abandon_with_fresh_patience():
    """50 callers waiting at the start, nobody on duty, exponential patience 100 s: they wait 100 s each on
    average whatever their age (memoryless), and are not counted as offered."""
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 30, "UTC")
    sc = Scenario(grid, [Channel("voice", "voice", aht_s=200, patience_s=100)], [SkillGroup("g", ["voice"])])
    fc = flat_forecast(grid, {"voice": 0.0}, {"voice": 200.0})
    res = simulate(
        sc,
        np.zeros((1, grid.n), int),
        forecast=fc,
        replications=40,
        seed=2,
        initial_backlog={"voice": [600.0] * 50},
    )
    per = res.intervals.groupby("rep").sum(numeric_only=True)
    assert per["offered"].sum() == 0
    m, h = _ci(per["queue_time_s"] / 50)
    assert abs(m - 100.0) <= h, (m, h)
    assert res.intervals[res.intervals["interval"] == 3]["queue_end"].sum() < 0.001 * 50 * 40 + 1


def test_replaying_a_runs_own_contacts_reproduces_it_exactly():
    """Trace-driven simulation: the contacts of a run (records) replayed as a trace under the same staffing
    give the same per-interval figures; bad trace rows are named."""
    import pandas as pd
    import pytest

    from forecast.errors import DataError
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 30, "UTC")
    chs = [Channel("voice", "voice", aht_s=240, patience_s=120), Channel("email", "email", aht_s=400)]
    sc = Scenario(grid, chs, [SkillGroup("g", ["voice", "email"])])
    fc = flat_forecast(grid, {"voice": 50.0, "email": 20.0}, {"voice": 240.0, "email": 400.0})
    staff = np.full((1, grid.n), 8)
    run = simulate(sc, staff, forecast=fc, replications=1, seed=3, records=True)
    trace = run.contacts[["channel", "arrival_s", "handle_s", "patience_s"]]
    again = simulate(sc, staff, forecast=fc, replications=2, seed=99, trace=trace)
    for r in (0, 1):
        got = again.intervals[again.intervals["rep"] == r].drop(columns="rep").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, run.intervals.drop(columns="rep"))
    bad = trace.copy()
    bad.loc[bad.index[3], "handle_s"] = -1.0
    with pytest.raises(DataError, match=r"row 3: column 'handle_s'"):
        simulate(sc, staff, forecast=fc, replications=1, seed=3, trace=bad)


def test_absence_per_interval_removes_the_shrinkage_share_of_agent_time():
    """With absence per interval each agent-interval is absent with probability s: logged-on time is
    (1 - s) x scheduled time within a binomial confidence interval; per shift, whole shifts go."""
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 30, "UTC")
    fc = flat_forecast(grid, {"voice": 0.0}, {"voice": 200.0})
    staff = np.full((1, grid.n), 10)
    for absence in ("interval", "shift"):
        sc = Scenario(
            grid,
            [Channel("voice", "voice", aht_s=200)],
            [SkillGroup("g", ["voice"])],
            shrinkage=0.25,
            absence=absence,
        )
        res = simulate(sc, staff, forecast=fc, replications=20, seed=6)
        avail = res.groups["available_s"].to_numpy() / grid.interval_s  # agents on per interval
        share = avail.sum() / (staff.sum() * 20)
        # interval mode: 480 x 20 independent agent-intervals; shift mode: 10 x 20 agent-shifts
        n = 480 * 20 if absence == "interval" else 10 * 20
        se = np.sqrt(0.25 * 0.75 / n)
        assert abs(share - 0.75) <= Z999 * se, (absence, share)
        if absence == "shift":  # whole shifts: every rep has a whole number of agents on all day
            per = res.groups.groupby("rep")["available_s"].apply(lambda x: np.ptp(x.to_numpy()))
            assert (per == 0).all()


def test_email_deadline_on_the_business_clock():
    """Emails arriving at 17:00-17:30 with a 2-hour deadline, centre open 08:00-18:00, agents from 08:00
    the next day: all late on the calendar clock, all on time on the business clock (due 09:00-09:30),
    and the requirements spread their work over those business hours."""
    from optim import requirements
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 2, 30, "UTC")
    vol = np.zeros(grid.n)
    vol[34] = 20.0  # 17:00 on day 0
    staff = np.zeros((1, grid.n), int)
    staff[0, 48 + 16 : 48 + 20] = 10  # 08:00-10:00 on day 1
    fc = flat_forecast(grid, {"email": vol}, {"email": 60.0})
    out = {}
    for clock in ("calendar", "business"):
        ch = Channel("email", "email", aht_s=60, aht_cv=0.0, deadline_h=2, target=0.9, deadline_clock=clock)
        sc = Scenario(grid, [ch], [SkillGroup("g", ["email"])], open_hour=8, close_hour=18)
        res = simulate(sc, staff, forecast=fc, replications=3, seed=1)
        tot = res.intervals.sum(numeric_only=True)
        out[clock] = tot["answered_within_due"] / tot["due"]
        reqs = requirements(fc, sc)["agents"].to_numpy()
        if clock == "business":  # 2 business hours from 17:00: 17:00-18:00 today, 08:00-09:00 tomorrow
            assert reqs[34:36].sum() > 0 and reqs[48 + 16 : 48 + 18].sum() > 0 and reqs[36:64].sum() == 0
    assert out["calendar"] == 0.0 and out["business"] == 1.0


def test_business_due_instants_against_a_walk_through_the_intervals():
    from sim.engine import _business_due

    rng = np.random.default_rng(9)
    dt = 900.0
    day = np.zeros(96, bool)
    day[30:70] = True
    open_mask = np.tile(day, 3)
    arrival = rng.uniform(0, open_mask.size * dt, 200)
    deadline = rng.uniform(60, 30 * 3600, 200)
    got = _business_due(arrival, deadline, open_mask, dt)
    ext = np.tile(day, 20)
    for a, d, g in zip(arrival, deadline, got):
        t, left = a, d
        k = int(t // dt)
        while True:
            end = (k + 1) * dt
            if ext[k]:
                if end - t >= left:
                    want = t + left
                    break
                left -= end - t
            t, k = end, k + 1
        assert g == pytest.approx(want, abs=1e-6)


def test_chat_slowdown_with_one_agent_matches_the_chat_chain():
    """One agent holding up to 3 chats that slow by 30% per extra chat: the pace changes with every chat
    taken or finished. With one agent the chain of optim.queueing.chat_metrics is exact: P(wait), service
    level and occupancy inside the 99.9% intervals."""
    from optim.queueing import chat_metrics
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 7, 60, "UTC")
    aht, f, lam_h = 200.0, 0.3, 20.0
    ch = Channel(
        "chat", "chat", aht_s=aht, aht_dist="exponential", threshold_s=30.0, concurrency=3, chat_slowdown=f
    )
    sc = Scenario(grid, [ch], [SkillGroup("g", ["chat"])])
    fc = flat_forecast(grid, {"chat": lam_h}, {"chat": aht})
    res = simulate(sc, np.ones((1, grid.n), int), forecast=fc, replications=30, seed=13)
    exact = chat_metrics(lam_h / 3600, aht, 1, 3, 30.0, slowdown=f)
    d = _per_rep(res)
    m, h = _ci(d["answered_within"] / d["offered"])
    assert h <= 0.02 and abs(m - exact.service_level) <= h, (m, h, exact.service_level)
    g = res.groups[res.groups["interval"] >= 2].groupby("rep").sum(numeric_only=True)
    m, h = _ci(g["busy_s"] / g["available_s"])
    assert abs(m - exact.occupancy) <= h, (m, h, exact.occupancy)
    # without slowdown the same customers are served faster
    fast = simulate(
        Scenario(
            grid,
            [Channel("chat", "chat", aht_s=aht, aht_dist="exponential", threshold_s=30.0, concurrency=3)],
            [SkillGroup("g", ["chat"])],
        ),
        np.ones((1, grid.n), int),
        forecast=fc,
        replications=30,
        seed=13,
    )
    assert _per_rep(fast)["answered_within"].sum() > d["answered_within"].sum()


def test_blending_works_email_only_in_the_gaps():
    """A group listing email before voice: with blend_email the run equals the one with voice listed first
    (same customers), and voice does better than without blending."""
    import pandas as pd

    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 30, "UTC")
    chs = [Channel("voice", "voice", aht_s=200, patience_s=120), Channel("email", "email", aht_s=300)]
    fc = flat_forecast(grid, {"voice": 60.0, "email": 40.0}, {"voice": 200.0, "email": 300.0})
    staff = np.full((1, grid.n), 16)  # 13.3 Erlangs offered: not overloaded

    def run(order, blend):
        sc = Scenario(grid, chs, [SkillGroup("g", order)], blend_email=blend)
        return simulate(sc, staff, forecast=fc, replications=5, seed=3)

    blended = run(["email", "voice"], True)
    voice_first = run(["voice", "email"], False)
    email_first = run(["email", "voice"], False)
    pd.testing.assert_frame_equal(blended.intervals, voice_first.intervals)

    def voice_ok(r):
        return r.intervals[r.intervals["channel"] == "voice"]["answered_within"].sum()

    assert voice_ok(blended) > voice_ok(email_first)
    aband = lambda r: r.intervals[r.intervals["channel"] == "voice"]["abandoned"].sum()  # noqa: E731
    assert aband(blended) < aband(email_first)


# ---- review findings on the simulator --------------------------------------------------------------------


def _one_group(grid, chans, names=None):
    return Scenario(grid, chans, [SkillGroup("g", names or [c.name for c in chans])])


def test_a_starting_backlog_given_as_a_count_is_not_offered():
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    sc = _one_group(grid, [Channel("email", "email", aht_s=300, aht_cv=0.0, deadline_h=4)])
    fc = flat_forecast(grid, {"email": 0.0}, {"email": 300.0})
    r = simulate(sc, np.full((1, grid.n), 2), forecast=fc, replications=1, initial_backlog={"email": 120})
    iv = r.intervals
    assert iv[["offered", "answered", "due", "answered_within_due"]].to_numpy().sum() == 0
    assert iv["queue_end"].iloc[0] == 120 - 2 * 12  # 2 agents x 12 emails of 300 s in the first hour


def test_trace_patience_counts_even_when_the_channel_never_abandons():
    import pandas as pd

    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    sc = _one_group(grid, [Channel("voice", "voice", aht_s=300)])
    tr = pd.DataFrame(
        {
            "channel": ["voice"] * 3,
            "arrival_s": [0.0] * 3,
            "handle_s": [1000.0] * 3,
            "patience_s": [10.0, 10.0, np.nan],
        }
    )
    fc = flat_forecast(grid, {"voice": 0.0}, {"voice": 300.0})
    c = simulate(sc, np.full((1, grid.n), 1), forecast=fc, replications=1, trace=tr, records=True).contacts
    assert c["abandoned"].tolist() == [False, True, False]  # one served at once, one gives up, one waits
    assert c["start_s"].iloc[2] == 1000.0


def test_mixed_concurrency_chat_takes_room_left_by_a_higher_concurrency_channel():
    import pandas as pd

    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    chans = [Channel("c2", "chat", concurrency=2), Channel("c4", "chat", concurrency=4)]
    sc = _one_group(grid, chans, ["c4", "c2"])
    tr = pd.DataFrame(
        {"channel": ["c4", "c4", "c2"], "arrival_s": [0.0, 0.0, 10.0], "handle_s": [1000.0] * 3}
    )
    fc = flat_forecast(grid, {"c2": 0.0, "c4": 0.0}, {"c2": 300.0, "c4": 300.0})
    c = simulate(sc, np.full((1, grid.n), 1), forecast=fc, replications=1, trace=tr, records=True).contacts
    assert c.loc[c["channel"] == "c2", "start_s"].iloc[0] == 10.0  # load 1/4 + 1/4 + 1/2 = 1


@pytest.mark.parametrize("absence", ["shift", "interval"])
def test_absences_are_common_random_numbers_too(absence):
    """Adding one agent in one interval leaves every other agent's absences unchanged: with whole-shift
    absence (FIFO, no abandonment) no replication answers fewer calls within the threshold and far from the
    change the same agents are on; with absence per interval (taken after the call in hand, so timings move)
    the paired difference is >= 0 within its 99% interval."""
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 30, "UTC")
    sc = Scenario(
        grid,
        [Channel("voice", "voice", aht_s=240)],
        [SkillGroup("g", ["voice"])],
        shrinkage=0.2,
        absence=absence,
    )
    fc = flat_forecast(grid, {"voice": 60.0}, {"voice": 240.0})
    base = np.full((1, grid.n), 12)
    more = base.copy()
    more[0, 3] += 1
    r0 = simulate(sc, base, forecast=fc, replications=30, seed=4)
    r1 = simulate(sc, more, forecast=fc, replications=30, seed=4)
    a0 = r0.intervals.groupby("rep")["answered_within"].sum().to_numpy()
    a1 = r1.intervals.groupby("rep")["answered_within"].sum().to_numpy()
    if absence == "shift":
        assert (a1 >= a0).all()
        far0 = r0.groups[r0.groups["interval"] == 20]["available_s"].to_numpy()
        far1 = r1.groups[r1.groups["interval"] == 20]["available_s"].to_numpy()
        np.testing.assert_array_equal(far0, far1)
    else:
        d = (a1 - a0).astype(float)
        h = stats.t.ppf(0.995, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
        assert d.mean() + h >= 0


def test_balkers_keep_their_drawn_patience_in_the_records():
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    sc = _one_group(grid, [Channel("voice", "voice", aht_s=120, patience_s=90, balk_prob=0.3)])
    fc = flat_forecast(grid, {"voice": 110.0}, {"voice": 120.0})
    runs = [
        simulate(sc, np.full((1, grid.n), n), forecast=fc, replications=1, seed=8, records=True)
        for n in (4, 5)
    ]
    p4, p5 = (r.contacts["patience_s"].to_numpy() for r in runs)
    np.testing.assert_array_equal(p4, p5)
    assert (p4 > 0).all()
    assert runs[0].contacts["balked"].sum() > runs[1].contacts["balked"].sum() > 0
