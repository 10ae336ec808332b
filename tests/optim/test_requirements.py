import numpy as np
import pytest

from optim import agents_for, requirements
from sim import Channel, IntervalGrid, Scenario, SkillGroup
from tests.conftest import flat_forecast


def _scenario(days=3):
    grid = IntervalGrid.from_days("2026-01-05", days, 30, "UTC")
    chs = [
        Channel("voice", "voice", aht_s=300, target=0.8, threshold_s=20),
        Channel("chat", "chat", aht_s=400, target=0.8, threshold_s=60, concurrency=3),
        Channel("email", "email", aht_s=600, target=0.9, deadline_h=12),
    ]
    return Scenario(grid, chs, [SkillGroup("all", ["voice", "chat", "email"])], open_hour=8, close_hour=20)


def test_voice_and_chat_follow_erlang_c():
    sc = _scenario()
    rng = np.random.default_rng(1)
    vol = rng.uniform(0, 80, sc.grid.n)
    fc = flat_forecast(
        sc.grid, {"voice": vol, "chat": vol, "email": vol}, {"voice": 300, "chat": 400, "email": 600}
    )
    r = requirements(fc, sc)
    v = r[r.channel == "voice"]["agents"].to_numpy()
    open_ = sc.open_mask
    np.testing.assert_array_equal(
        v[open_], agents_for(vol[open_] / 1800, 300.0, threshold=20, service_level=0.8)
    )
    assert (v[~open_] == 0).all()
    c = r[r.channel == "chat"]["agents"].to_numpy()
    servers = agents_for(vol[open_] / 1800, 400.0, threshold=60, service_level=0.8)
    np.testing.assert_array_equal(c[open_], np.ceil(servers / 3))


def test_email_work_is_conserved_and_done_within_the_deadline():
    sc = _scenario(days=3)
    T = sc.grid.n
    vol = np.zeros(T)
    t0 = 48 + 2 * 9  # day 1, 09:00
    vol[t0] = 30.0  # 30 emails x 600 s = 5 agent-hours of work
    fc = flat_forecast(
        sc.grid, {"voice": 0.0, "chat": 0.0, "email": vol}, {"voice": 300, "chat": 400, "email": 600}
    )
    r = requirements(fc, sc)
    e = r[r.channel == "email"]["agents"].to_numpy()
    # conservation: agent-seconds equal the work; all of it within [t0, t0 + 12 h) and only in open hours
    assert e.sum() * 1800 == pytest.approx(30 * 600)
    assert (e[:t0] == 0).all() and (e[t0 + 24 :] == 0).all()
    assert (e[~sc.open_mask] == 0).all()
    # spread evenly over the open intervals of the window (09:00-20:00 = 22 half hours)
    np.testing.assert_allclose(e[t0 : t0 + 22], 30 * 600 / 22 / 1800)


def test_erlang_a_backlog_shrinkage_and_uncertainty_options():
    from optim.queueing import agents_for as af
    from optim.queueing import deferred_agents, erlang_a
    from sim import Channel

    grid = IntervalGrid.from_days("2026-01-05", 2, 30, "UTC")
    chs = [
        Channel("voice", "voice", aht_s=300, target=0.8, threshold_s=20, patience_s=180),
        Channel("email", "email", aht_s=600, target=0.9, deadline_h=6),
    ]
    sc = Scenario(
        grid, chs, [SkillGroup("all", ["voice", "email"])], open_hour=8, close_hour=20, shrinkage=0.3
    )
    rng = np.random.default_rng(2)
    vol = rng.uniform(0, 60, grid.n)
    fc = flat_forecast(grid, {"voice": vol, "email": vol}, {"voice": 300, "email": 600}, shape_day=15.0)
    r = requirements(fc, sc, method="erlang_a", email="backlog")
    op = sc.open_mask
    v = r[r.channel == "voice"]
    want = af(vol[op] / 1800, 300.0, threshold=20, service_level=0.8, patience=180.0)
    np.testing.assert_array_equal(v["agents"].to_numpy()[op], want)
    # Erlang A staffs fewer than Erlang C when callers abandon; the predicted service level is Erlang A's
    c = requirements(fc, sc)
    assert (c[c.channel == "voice"]["agents"].to_numpy() >= v["agents"].to_numpy()).all()
    sl = erlang_a(vol[op] / 1800, 300.0, 180.0, want, 20.0).service_level
    np.testing.assert_allclose(v["expected_sl"].to_numpy()[op], sl)
    assert (v["expected_sl"].to_numpy()[op] >= 0.8).all()
    # shrinkage applied once: scheduled = on the floor / (1 - shrinkage)
    np.testing.assert_allclose(r["scheduled"], r["agents"] / 0.7)
    # email: the fewest whole agents answering 90% within 6 h, backlog carried over the night
    e = r[r.channel == "email"]["agents"].to_numpy()
    np.testing.assert_array_equal(
        e, deferred_agents(np.where(op, vol, 0), 600.0, 1800.0, 6 * 3600.0, target=0.9, open_mask=op)
    )
    assert (e == np.round(e)).all()
    # forecast uncertainty (gamma day multiplier, shape 15) raises voice staffing
    u = requirements(fc, sc, method="erlang_a", uncertainty=True)
    uv = u[u.channel == "voice"]["agents"].to_numpy()
    assert (uv >= v["agents"].to_numpy()).all() and (uv > v["agents"].to_numpy()).sum() > 10


def test_bad_options_name_the_key():
    sc = _scenario(days=1)
    fc = flat_forecast(
        sc.grid, {"voice": 1.0, "chat": 1.0, "email": 1.0}, {"voice": 300, "chat": 400, "email": 600}
    )
    from forecast.errors import ConfigError

    with pytest.raises(ConfigError, match="method"):
        requirements(fc, sc, method="erlang_x")
    with pytest.raises(ConfigError, match="max_occupancy"):
        requirements(fc, sc, max_occupancy=1.5)
