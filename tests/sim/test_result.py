"""SimResult figures from hand-made counts: ratios of sums, never means of interval ratios."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import Channel, IntervalGrid, Scenario, SimResult, SkillGroup
from sim.result import COUNT_COLUMNS

GRID = IntervalGrid.from_days("2026-01-05", 2, 60, "UTC")


def _result(scope, sl_definition="offered"):
    sc = Scenario(
        GRID,
        [Channel("v", "voice", target=0.8, scope=scope)],
        [SkillGroup("g", ["v"])],
        sl_definition=sl_definition,
    )
    rng = np.random.default_rng(0)
    reps = []
    for _ in range(3):
        off = rng.integers(0, 50, (1, GRID.n)).astype(float)
        ans = np.floor(off * 0.9)
        within = np.floor(ans * rng.uniform(0.6, 1.0, (1, GRID.n)))
        out = {c: np.zeros((1, GRID.n)) for c in COUNT_COLUMNS}
        out.update(
            offered=off,
            answered=ans,
            abandoned=off - ans,
            answered_within=within,
            abandoned_within=np.floor((off - ans) / 2),
            due=off,
            answered_within_due=within,
        )
        out.update(
            queue_end=np.zeros((1, GRID.n)),
            oldest_age_s=np.zeros((1, GRID.n)),
            queue_time_s=np.zeros((1, GRID.n)),
            busy_channel_s=np.zeros((1, GRID.n)),
            busy_group_s=np.ones((1, GRID.n)),
            available_group_s=np.full((1, GRID.n), 2.0),
        )
        reps.append(out)
    return SimResult.from_replications(GRID, sc, reps, seed=0), reps


@pytest.mark.parametrize("definition", ["offered", "offered_minus_short_abandons", "answered"])
def test_summary_is_a_ratio_of_sums_per_replication_with_a_t_interval(definition):
    res, reps = _result("horizon", definition)
    per_rep = []
    for r in reps:
        den = {
            "offered": r["offered"].sum(),
            "answered": r["answered"].sum(),
            "offered_minus_short_abandons": r["offered"].sum() - r["abandoned_within"].sum(),
        }[definition]
        per_rep.append(r["answered_within"].sum() / den)
    x = np.array(per_rep)
    h = stats.t.ppf(0.975, 2) * x.std(ddof=1) / np.sqrt(3)
    s = res.summary().iloc[0]
    assert s["service_level"] == pytest.approx(x.mean())
    assert s["service_level_ci_low"] == pytest.approx(x.mean() - h)
    assert s["occupancy"] == pytest.approx(0.5)
    assert s["sl_definition"] == definition


def test_days_and_scopes():
    res, reps = _result("day")
    within = sum(r["answered_within"] for r in reps)[0]
    off = sum(r["offered"] for r in reps)[0]
    days = res.by_day()
    for d in (0, 1):
        sl = within[24 * d : 24 * (d + 1)].sum() / off[24 * d : 24 * (d + 1)].sum()
        assert days.loc[days["day"] == d, "service_level"].item() == pytest.approx(sl)
    chk = res.target_check().iloc[0]
    worst = days["service_level"].min()
    assert chk["worst_day_service_level"] == pytest.approx(worst)
    assert chk["target_met"] == (worst >= 0.8)
    per = within[off > 0] / off[off > 0]
    assert chk["intervals_meeting_target"] == pytest.approx((per >= 0.8).mean())
    assert chk["horizon_service_level"] == pytest.approx(within.sum() / off.sum())
    assert isinstance(res.per_interval(), pd.DataFrame)


def test_wait_quantiles_per_group_equal_numpy_quantiles():
    from sim.engine import WAIT_QUANTILES, _group_quantiles

    rng = np.random.default_rng(0)
    keys = rng.integers(0, 7, 500)
    keys[keys == 3] = 4  # key 3 has no values
    vals = rng.exponential(30.0, 500)
    q = _group_quantiles(keys, vals, 8)
    for k in range(8):
        v = vals[keys == k]
        if v.size:
            np.testing.assert_allclose(q[:, k], np.quantile(v, WAIT_QUANTILES), rtol=1e-12)
        else:
            assert np.isnan(q[:, k]).all()


def test_warmup_intervals_are_left_out_of_summaries_days_and_scopes():
    from sim import Channel, IntervalGrid, Scenario, SkillGroup, simulate
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    sc = Scenario(grid, [Channel("voice", "voice", aht_s=200, patience_s=100)], [SkillGroup("g", ["voice"])])
    fc = flat_forecast(grid, {"voice": 60.0}, {"voice": 200.0})
    staff = np.full((1, grid.n), 3)
    res = simulate(sc, staff, forecast=fc, replications=4, seed=1, warmup_intervals=5)
    df = res.intervals[res.intervals["interval"] >= 5].groupby("rep").sum(numeric_only=True)
    np.testing.assert_allclose(
        res.summary()["service_level"].iloc[0], (df["answered_within"] / df["offered"]).mean()
    )
    assert res.by_day()["offered"].iloc[0] == df["offered"].sum() / 4
    assert len(res.per_interval()) == grid.n  # the per-interval figures keep the warm-up
    q = res.wait_quantiles
    assert list(q.columns[-4:]) == ["wait_p50_s", "wait_p80_s", "wait_p90_s", "wait_p95_s"]
    assert (q["wait_p95_s"].dropna() >= q["wait_p50_s"].dropna()).all()
    with pytest.raises(Exception, match="warmup_intervals"):
        simulate(sc, staff, forecast=fc, replications=2, seed=1, warmup_intervals=grid.n)


def test_contact_records_agree_with_the_interval_counts_and_quantiles():
    from sim import Channel, IntervalGrid, Scenario, SkillGroup, simulate
    from sim.engine import WAIT_QUANTILES
    from tests.conftest import flat_forecast

    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    sc = Scenario(grid, [Channel("voice", "voice", aht_s=200, patience_s=100)], [SkillGroup("g", ["voice"])])
    fc = flat_forecast(grid, {"voice": 70.0}, {"voice": 200.0})
    res = simulate(sc, np.full((1, grid.n), 4), forecast=fc, replications=3, seed=5, records=True)
    c = res.contacts
    c["interval"] = (c["arrival_s"] // 3600).astype(int)
    by = c.groupby(["rep", "interval"])
    iv = res.intervals.set_index(["rep", "interval"])
    np.testing.assert_array_equal(by.size().to_numpy(), iv["offered"].to_numpy())
    np.testing.assert_array_equal(by["abandoned"].sum().to_numpy(), iv["abandoned"].to_numpy())
    ans = c[c["start_s"].notna()]
    qs = ans.groupby(["rep", "interval"])["wait_s"].quantile(list(WAIT_QUANTILES)).unstack()
    got = res.wait_quantiles.set_index(["rep", "interval"]).loc[qs.index]
    np.testing.assert_allclose(
        got[["wait_p50_s", "wait_p80_s", "wait_p90_s", "wait_p95_s"]].to_numpy(), qs.to_numpy()
    )
    assert simulate(sc, np.full((1, grid.n), 4), forecast=fc, replications=1, seed=5).contacts is None
