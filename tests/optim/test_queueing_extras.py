"""Chat with slowdown, forecast uncertainty, deferred work and service-level envelopes, each against an
independent reference: an explicit CTMC, numerical integration, brute force, a fluid FIFO replay."""

import itertools

import numpy as np
import pytest
from scipy import integrate, linalg, stats

from optim.queueing import (
    agents_for,
    chat_metrics,
    combined_shape,
    deferred_agents,
    deferred_workload,
    due_intervals,
    erlang_a,
    erlang_c,
    expected_metrics,
    halfin_whitt_beta,
    scheduled_agents,
    service_level_envelope,
    sqrt_staffing,
)

# ---- chat -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("patience", [np.inf, 300.0])
def test_chat_without_slowdown_is_erlang_with_n_times_m_servers(patience):
    lam, aht, n, m = 0.05, 300.0, np.arange(5, 12), 3
    q = chat_metrics(lam, aht, n, m, 30.0, patience=patience)
    ref = erlang_a(lam, aht, patience, n * m, 30.0)
    for f in ("p_wait", "service_level", "asa", "p_abandon", "occupancy"):
        np.testing.assert_allclose(getattr(q, f), getattr(ref, f), rtol=1e-12, atol=1e-15)


def _chat_ctmc(lam, aht, n, m, f, T, kmax=400):
    """Generator of the chat chain built state by state (chats in system), solved as a linear system; the
    wait of an arrival finding c + j in the system is Erlang(j + 1, D) with D the full-slots rate."""
    c = n * m

    def rate(k):
        k = min(k, c)
        q, r = divmod(k, n)

        def per(j):
            return j / (aht * (1 + f * max(j - 1, 0)))

        return r * per(q + 1) + (n - r) * per(q)

    Q = np.zeros((kmax + 1, kmax + 1))
    for k in range(kmax + 1):
        if k < kmax:
            Q[k, k + 1] = lam
        if k > 0:
            Q[k, k - 1] = rate(k)
        Q[k, k] = -Q[k].sum()
    A = np.vstack([Q.T, np.ones(kmax + 1)])
    b = np.zeros(kmax + 2)
    b[-1] = 1
    pi = linalg.lstsq(A, b)[0]
    D = rate(c)
    p_wait = pi[c:].sum()
    j = np.arange(kmax + 1 - c)
    sl = pi[:c].sum() + (pi[c:] * stats.gamma.cdf(T, j + 1, scale=1 / D)).sum()
    occ = (np.minimum(np.arange(kmax + 1), c) * pi).sum() / c
    asa = (pi[c:] * (j + 1) / D).sum()
    return p_wait, sl, occ, asa


@pytest.mark.parametrize("n, m, f, lam", [(3, 2, 0.25, 0.02), (4, 3, 0.1, 0.035), (2, 4, 0.5, 0.012)])
def test_chat_with_slowdown_matches_an_explicit_ctmc(n, m, f, lam):
    aht, T = 200.0, 45.0
    q = chat_metrics(lam, aht, n, m, T, slowdown=f)
    p_wait, sl, occ, asa = _chat_ctmc(lam, aht, n, m, f, T)
    assert q.p_wait == pytest.approx(p_wait, rel=1e-8)
    assert q.service_level == pytest.approx(sl, rel=1e-8)
    assert q.occupancy == pytest.approx(occ, rel=1e-8)
    assert q.asa == pytest.approx(asa, rel=1e-7)


def test_chat_slowdown_needs_more_agents():
    lam = np.linspace(0.01, 0.3, 30)
    base = agents_for(lam, 300.0, threshold=60.0, service_level=0.8, concurrency=3)
    slow = agents_for(lam, 300.0, threshold=60.0, service_level=0.8, concurrency=3, slowdown=0.3)
    assert (slow >= base).all() and (slow > base).any()
    # smallest: n meets the target, n - 1 does not
    q = chat_metrics(lam, 300.0, slow, 3, 60.0, slowdown=0.3)
    q1 = chat_metrics(lam, 300.0, slow - 1, 3, 60.0, slowdown=0.3)
    assert (np.asarray(q.service_level) >= 0.8).all()
    assert (np.asarray(q1.service_level) < 0.8).all()


# ---- uncertainty ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [3.0, 25.0, 400.0])
def test_expected_service_level_is_the_calls_weighted_integral(shape):
    lam, aht, n, T, pat = 0.1, 180.0, 22, 20.0, 240.0
    q = expected_metrics(lam, aht, n, T, shape=shape, patience=pat)
    dens = stats.gamma(shape, scale=1 / shape).pdf

    def calls(fn):
        return integrate.quad(lambda g: g * fn(g) * dens(g), 0, np.inf, limit=200, epsabs=1e-12)[0]

    sl = calls(lambda g: erlang_a(lam * g, aht, pat, n, T).service_level)
    ab = calls(lambda g: erlang_a(lam * g, aht, pat, n, T).p_abandon)
    occ = integrate.quad(
        lambda g: erlang_a(lam * g, aht, pat, n, T).occupancy * dens(g), 0, np.inf, limit=200
    )[0]
    tol = 1e-7
    assert q.service_level == pytest.approx(sl, abs=tol)
    assert q.p_abandon == pytest.approx(ab, abs=tol)
    assert q.occupancy == pytest.approx(occ, abs=tol)


def test_uncertainty_raises_staffing_and_shapes_combine():
    lam = np.linspace(0.02, 2.0, 40)
    base = agents_for(lam, 240.0, service_level=0.8)
    unc = agents_for(lam, 240.0, service_level=0.8, rate_shape=10.0)
    assert (unc >= base).all() and (unc > base).sum() > 30
    # variance of the product of two independent mean-1 gammas
    kd, ki = 8.0, 30.0
    k = combined_shape(kd, ki)
    assert 1 / k == pytest.approx((1 + 1 / kd) * (1 + 1 / ki) - 1)
    assert combined_shape(np.inf, np.inf) == np.inf


# ---- square-root staffing, shrinkage ---------------------------------------------------------------------


def test_halfin_whitt_beta_inverts_the_limit_and_sqrt_staffing_is_close_to_exact():
    for p in (0.1, 0.2, 0.5, 0.8):
        b = halfin_whitt_beta(p)
        ratio = b * stats.norm.cdf(b) / stats.norm.pdf(b)
        assert 1 / (1 + ratio) == pytest.approx(p, rel=1e-10)
    # large load: square-root staffing for P(wait) = 0.2 is within one agent of the exact Erlang C answer
    a = 1000.0
    n = sqrt_staffing(a / 100, 100.0, p_wait=0.2)
    exact = next(k for k in range(1001, 1200) if erlang_c(a / 100, 100.0, k).p_wait <= 0.2)
    assert abs(n - exact) <= 1
    assert scheduled_agents(30, 0.25) == pytest.approx(40.0)
    with pytest.raises(ValueError):
        scheduled_agents(30, 1.0)


# ---- deferred work --------------------------------------------------------------------------------


def _on_time_by_prefix(work, due, capacity):
    """Replay fluid processing, earliest deadline first, with work already past its deadline put last (so
    FIFO for on-time work); return, for each interval t, the work done on time among the work due by t, and
    the work due by t (due < n only)."""
    n = len(work)
    left = np.array(work, dtype=float)
    on_time = np.zeros(n)  # per arrival interval
    for t in range(n):
        cap = capacity[t]
        for i in sorted(range(t + 1), key=lambda i: (due[i] < t, due[i], i)):
            take = min(cap, left[i])
            if take <= 0:
                continue
            left[i] -= take
            cap -= take
            if due[i] >= t:
                on_time[i] += take
    due_by = np.array([work[(due <= t)].sum() for t in range(n)])
    ok_by = np.array([on_time[(due <= t)].sum() for t in range(n)])
    return ok_by, due_by


def _feasible(work, due, capacity, target):
    ok_by, due_by = _on_time_by_prefix(work, due, capacity)
    return bool(np.all(ok_by >= target * due_by - 1e-6))


def test_deferred_agents_are_feasible_and_minimal_by_brute_force():
    rng = np.random.default_rng(3)
    dt, deadline = 900.0, 3 * 900.0
    open_mask = np.array([1, 1, 1, 0, 0, 1, 1, 1], bool)
    for _ in range(5):
        vol = rng.integers(0, 6, open_mask.size).astype(float)
        vol[~open_mask] = rng.integers(0, 3, (~open_mask).sum())
        vol[4] = 0.0  # arriving in a closed run with no open interval before its due interval
        aht = 300.0
        for target in (1.0, 0.8):
            agents = deferred_agents(vol, aht, dt, deadline, target=target, open_mask=open_mask)
            due = due_intervals(vol.size, dt, deadline, open_mask)
            work = vol * aht
            assert _feasible(work, due, agents * dt, target)
            assert (agents[~open_mask] == 0).all()
            # brute force over whole agents in open intervals: no feasible plan has fewer agent-intervals
            opens = np.flatnonzero(open_mask)
            best = None
            for combo in itertools.product(range(3), repeat=opens.size):
                cap = np.zeros(vol.size)
                cap[opens] = combo
                if _feasible(work, due, cap * dt, target):
                    s = sum(combo)
                    best = s if best is None else min(best, s)
            assert best is None or agents.sum() <= best
            if best is not None:
                assert agents.sum() == best


def test_business_clock_and_workload_bound():
    n, dt = 48, 1800.0  # one day of half hours, open 08:00-18:00
    open_mask = np.zeros(n, bool)
    open_mask[16:36] = True
    # 4 business hours from 17:00: 1 h today, 3 h tomorrow (the last day's pattern repeats past the horizon)
    due = due_intervals(n, dt, 4 * 3600.0, open_mask, clock="business")
    assert due[34] == 48 + 16 + 5  # 17:00 + 2 open half hours today, then 6 tomorrow: 09:00-09:30 next day
    assert due[16] == 23  # 08:00 + 8 half hours
    # calendar: the due interval is t + w - 1
    np.testing.assert_array_equal(due_intervals(n, dt, 7200.0), np.arange(n) + 3)
    vol = np.zeros(n)
    vol[20] = 12.0
    w = deferred_workload(vol, 600.0, dt, 4 * 3600.0, open_mask=open_mask)
    assert w.sum() * dt == pytest.approx(12 * 600.0)
    np.testing.assert_allclose(w[20:28], 12 * 600.0 / 8 / dt)
    with pytest.raises(Exception, match="interval 40"):
        vol2 = np.zeros(n)
        vol2[40] = 1.0  # 20:00, closed, 1 h calendar deadline: no open interval before it is due
        deferred_agents(vol2, 600.0, dt, 3600.0, open_mask=open_mask)


# ---- envelope --------------------------------------------------------------------------------


@pytest.mark.parametrize("patience", [None, 200.0])
def test_service_level_envelope_is_the_smallest_concave_majorant(patience):
    lam = np.array([0.0, 0.03, 0.2, 0.9])
    aht, T = 240.0, 20.0
    env = service_level_envelope(lam, aht, threshold=T, patience=patience, n_min=0)
    for i in range(lam.size):
        pieces = env[env.interval == i]
        slopes = pieces.slope.to_numpy()
        assert (np.diff(slopes) <= 1e-12).all() and slopes[-1] == 0  # concave, flat at the end
        n_hi = int(pieces.n_to.max())
        ns = np.arange(0, n_hi + 1)
        sl = np.asarray(
            erlang_a(lam[i], aht, np.inf if patience is None else patience, ns, T).service_level
            if lam[i] > 0
            else np.ones(ns.size)
        )
        val = (pieces.intercept.to_numpy()[:, None] + slopes[:, None] * ns[None, :]).min(axis=0)
        # brute force: the concave majorant at n is the best chord value through points around n
        ref = np.array(
            [
                max(
                    sl[a] + (sl[b] - sl[a]) * (k - a) / (b - a) if b > a else sl[a]
                    for a in range(k + 1)
                    for b in range(k, n_hi + 1)
                )
                for k in ns
            ]
        )
        np.testing.assert_allclose(val, ref, atol=1e-9)
        assert (val >= sl - 1e-12).all()


# ---- review findings: edges of agents_for and the envelope ----------------------------------------------


def test_occupancy_cap_with_abandonment_is_not_met_by_nobody():
    # with nobody on duty everyone abandons; occupancy is 1 there so that it never rises with n
    q = erlang_a(10 / 180, 180.0, 60.0, np.arange(0, 15), 20.0)
    assert q.occupancy[0] == 1.0 and (np.diff(q.occupancy) <= 1e-15).all()
    n = agents_for(10 / 180, 180.0, max_occupancy=0.85, patience=60.0)
    assert q.occupancy[n] <= 0.85 < q.occupancy[n - 1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(arrival_rate=1e4, service_level=0.8, max_agents=1000), "max_agents"),
        (dict(max_abandon=0.05), "max_abandon needs patience"),
        (dict(), "at least one target"),
        (dict(max_asa=30.0, rate_shape=5.0), "max_asa cannot be met"),
        (dict(service_level=np.array([0.8, 0.9])), "service_level must be a single number"),
        (dict(service_level=0.8, concurrency=0), "concurrency"),
        (dict(arrival_rate=np.inf, service_level=0.8), "finite"),
    ],
)
def test_agents_for_rejects_what_it_cannot_answer(kwargs, match):
    args = dict(arrival_rate=1.0, aht=180.0) | kwargs
    with pytest.raises(ValueError, match=match):
        agents_for(args.pop("arrival_rate"), args.pop("aht"), **args)


def test_infinite_inputs_are_errors_not_nan():
    with pytest.raises(ValueError, match="agents"):
        erlang_c(0.05, 180.0, np.inf)
    with pytest.raises(ValueError, match="arrival_rate"):
        erlang_a(np.inf, 180.0, 60.0, 10)


def test_envelope_covers_n_min_to_n_max_when_the_curve_is_flat():
    env = service_level_envelope(np.array([0.1, 1.0]), 300.0, n_min=50, n_max=60)
    for i in (0, 1):
        p = env[env.interval == i]
        assert p.n_from.min() == 50 and p.n_to.max() == 60
    flat = env[env.interval == 1]  # 300 Erlangs on at most 60 agents: service level 0 throughout
    assert len(flat) == 1 and flat.slope.iloc[0] == 0 and flat.intercept.iloc[0] == 0
    with pytest.raises(ValueError, match="n_max"):
        service_level_envelope(np.array([0.1]), 300.0, n_min=50, n_max=40)
