"""Exact identities and limits of the Erlang formulas, with references computed here (no package code)."""

from decimal import Decimal, localcontext
from fractions import Fraction
from math import ceil, exp, factorial, sqrt

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from optim.queueing import erlang_a, erlang_b, erlang_c, halfin_whitt_beta, sojourn_cdf, sqrt_staffing
from tests.optim.ctmc import solve

# ----------------------------------------------------------------------------------------------------------
# reference helpers


def erlang_b_fraction(a: Fraction, n: int) -> Fraction:
    terms = [a**k / factorial(k) for k in range(n + 1)]
    return terms[-1] / sum(terms)


def erlang_b_decimal(a, n: int, prec: int = 50) -> Decimal:
    """1/B = sum_{k=0}^{n} n! / ((n-k)! a^k), summed in 50-digit decimal (exponent range is unbounded)."""
    with localcontext() as ctx:
        ctx.prec = prec
        a = Decimal(a)
        term = total = Decimal(1)
        for k in range(1, n + 1):
            term = term * (n - k + 1) / a
            total += term
        return 1 / total


def erlang_c_fraction(a: Fraction, n: int) -> Fraction:
    terms = [a**k / factorial(k) for k in range(n)]
    tail = a**n / factorial(n) * n / (n - a)
    return tail / (sum(terms) + tail)


def hw_p_wait(beta: float) -> float:
    return 1.0 / (1.0 + beta * stats.norm.cdf(beta) / stats.norm.pdf(beta))


# ----------------------------------------------------------------------------------------------------------
# Erlang B


@pytest.mark.parametrize(
    "a", [Fraction(1, 3), Fraction(1), Fraction(5, 2), Fraction(29, 4), Fraction(12), 29.9]
)
@pytest.mark.parametrize("n", [0, 1, 2, 5, 10, 17, 30])
def test_erlang_b_equals_defining_sum_exactly(a, n):
    a = Fraction(a)  # exact value of the float actually passed
    assert erlang_b(float(a), n) == pytest.approx(float(erlang_b_fraction(a, n)), rel=1e-12)


def test_decimal_reference_agrees_with_fractions():
    a, n = Fraction(731, 2), 400
    assert float(erlang_b_decimal(Decimal(731) / 2, n)) == pytest.approx(
        float(erlang_b_fraction(a, n)), rel=1e-14
    )


@pytest.mark.parametrize("load", [15500.0, 16000.0, 17000.0, 19000.0, 19999.5, 20000.0, 25000.0, 60000.0])
def test_erlang_b_large_n_matches_high_precision(load):
    n = 20000
    want = float(erlang_b_decimal(load, n))
    got = erlang_b(load, n)
    assert np.isfinite(got) and 0.0 <= got <= 1.0
    assert got == pytest.approx(want, rel=1e-9)


def test_erlang_b_n20000_load15000_underflows_cleanly():
    n, load = 20000, 15000.0
    exact = erlang_b_decimal(load, n)
    assert Decimal("1e-331") < exact < Decimal("1e-329")  # 1.406e-330: below the smallest subnormal double
    got = erlang_b(load, n)
    assert np.isfinite(got) and 0.0 <= got < 1e-320  # the nearest double to the true value is 0.0


def test_erlang_b_broadcasts():
    loads = np.array([[0.5], [7.25], [300.0]])
    ns = np.array([0, 3, 10, 290])
    got = erlang_b(loads, ns)
    assert np.shape(got) == (3, 4)
    for i, a in enumerate(loads[:, 0]):
        for j, n in enumerate(ns):
            assert got[i, j] == pytest.approx(float(erlang_b_decimal(a, int(n))), rel=1e-11)


# ----------------------------------------------------------------------------------------------------------
# Erlang A with patience == aht: every customer (queued or served) leaves at rate mu, so N ~ Poisson(a)

POISSON_POINTS = [
    (3.7, 2, 60.0),
    (10.0, 10, 180.0),
    (25.3, 30, 240.0),
    (80.0, 60, 100.0),
    (500.0, 520, 300.0),
]


@pytest.mark.parametrize("a, n, aht", POISSON_POINTS)
def test_erlang_a_with_patience_equal_to_aht_is_poisson(a, n, aht):
    lam = a / aht
    m = erlang_a(lam, aht, aht, n, 20.0)
    p_ge_n = stats.poisson.sf(n - 1, a)
    p_gt_n = stats.poisson.sf(n, a)
    excess = a * p_ge_n - n * p_gt_n  # E[(N - n)^+] for N ~ Poisson(a)  (uses k p_k = a p_{k-1})
    assert float(m.p_wait) == pytest.approx(p_ge_n, rel=1e-9)
    assert float(m.p_abandon) == pytest.approx(excess / a, rel=1e-8)  # theta E[Q] / lam with theta = mu
    assert float(m.occupancy) == pytest.approx((a - excess) / n, rel=1e-9)  # E[min(N, n)] / n


# ----------------------------------------------------------------------------------------------------------
# Erlang A -> Erlang C as patience -> infinity (stable systems).  The gap is O(1/patience) with a large
# constant (ASA differs by ~theta Var(W)), so the Erlang A values are checked against the exact CTMC of
# tests/optim/ctmc.py at each patience, and against Erlang C only at the largest patience.

STABLE = [
    (1, 0.5, 60.0),
    (4, 3.1, 300.0),
    (10, 8.5, 180.0),
    (25, 22.0, 120.0),
    (60, 57.0, 240.0),
    (200, 180.0, 90.0),
]


@pytest.mark.parametrize("n, a, aht", STABLE)
@pytest.mark.parametrize("patience", [1e6, 1e8, 1e10])
def test_erlang_a_with_huge_patience_tends_to_erlang_c(n, a, aht, patience):
    lam, t = a / aht, 20.0
    ma = erlang_a(lam, aht, patience, n, t)
    ref = solve(lam, aht, n, t, patience)
    for got, want in (
        (ma.p_wait, ref.p_wait),
        (ma.service_level, ref.p_served_within),
        (ma.asa, ref.mean_wait_served),
        (ma.p_abandon, ref.p_abandon),
        (ma.occupancy, ref.occupancy),
    ):
        assert float(got) == pytest.approx(want, rel=1e-6, abs=1e-13)
    mc = erlang_c(lam, aht, n, t)
    c = float(erlang_c_fraction(Fraction(a), n))
    assert float(mc.p_wait) == pytest.approx(c, rel=1e-10)
    # P(Ab) = theta E[Q_A] / lam <= theta E[Q_C] / lam = E[W_C] / patience
    assert 0.0 <= float(ma.p_abandon) <= float(mc.asa) / patience * (1 + 1e-9)
    if patience == 1e10:
        for name in ("p_wait", "service_level", "sl_of_answered", "asa", "occupancy"):
            assert float(getattr(ma, name)) == pytest.approx(float(getattr(mc, name)), rel=1e-5), name


# ----------------------------------------------------------------------------------------------------------
# Erlang A vs Erlang C when n >> a: rigorous bounds, from the common birth-death form of both chains.
# With eps = theta / (n mu), rho = a / n:   1 - eps rho / (1 - rho)^2 <= P_A(wait) / P_C(wait) <= 1,
# P_A(Ab) <= theta E[Q_C] / lam,  ASA_A <= ASA_C,  SL_A(answered) >= SL_C  (N_A <=st N_C; association).


@pytest.mark.parametrize("a, n", [(10.0, 25), (100.0, 130), (1000.0, 1100), (5.0, 60)])
@pytest.mark.parametrize("patience_factor", [0.5, 1.0, 4.0])
def test_erlang_a_close_to_erlang_c_for_many_agents(a, n, patience_factor):
    aht = 200.0
    lam, patience = a / aht, aht * patience_factor
    rho, eps = a / n, aht / patience / n
    ma = erlang_a(lam, aht, patience, n, 20.0)
    mc = erlang_c(lam, aht, n, 20.0)
    ratio = float(ma.p_wait) / float(mc.p_wait)
    assert 1 - eps * rho / (1 - rho) ** 2 - 1e-9 <= ratio <= 1 + 1e-9
    eq_c = float(mc.p_wait) * rho / (1 - rho)
    assert 0.0 <= float(ma.p_abandon) <= eq_c / patience / lam * (1 + 1e-9)
    assert float(ma.asa) <= float(mc.asa) * (1 + 1e-9)
    assert float(ma.sl_of_answered) >= float(mc.service_level) - 1e-12


# ----------------------------------------------------------------------------------------------------------
# sojourn time of FCFS M/M/c = wait + exp(mu) service, by numerical convolution


def sojourn_reference(lam: float, aht: float, n: int, t: float) -> float:
    mu = 1.0 / aht
    c = float(erlang_c_fraction(Fraction(lam) * Fraction(aht), n))
    gamma = n * mu - lam  # wait | wait > 0  ~  exp(gamma)
    integrand = lambda w: c * gamma * exp(-gamma * w) * (1.0 - exp(-mu * (t - w)))  # noqa: E731
    cont, _ = integrate.quad(integrand, 0.0, t, epsabs=1e-14, epsrel=1e-12, limit=200)
    return (1.0 - c) * (1.0 - exp(-mu * t)) + cont


SOJOURN_POINTS = [
    (0.05, 100.0, 7, [0.0, 10.0, 100.0, 400.0, 2000.0]),
    (1 / 25, 100.0, 5, [1.0, 50.0, 150.0, 600.0]),  # load exactly 4 = n - 1: gamma == mu (0/0 in closed form)
    ((4 + 1e-7) / 100, 100.0, 5, [30.0, 300.0]),  # gamma within 1e-9 of mu
    (0.9 / 60, 60.0, 1, [5.0, 60.0, 600.0]),  # M/M/1: sojourn ~ exp(mu - lam)
    (0.2, 240.0, 55, [15.0, 240.0, 720.0]),
    (0.5, 30.0, 16, [1.0, 30.0]),  # gamma = 1/30 = 2 mu
]


@pytest.mark.parametrize("lam, aht, n, ts", SOJOURN_POINTS)
def test_sojourn_cdf_matches_convolution(lam, aht, n, ts):
    want = [sojourn_reference(lam, aht, n, t) for t in ts]
    got = sojourn_cdf(lam, aht, n, np.array(ts))
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-13)
    for t, w in zip(ts, want):
        assert float(sojourn_cdf(lam, aht, n, t)) == pytest.approx(w, rel=1e-8, abs=1e-13)


def test_sojourn_cdf_mm1_is_exponential():
    lam, aht = 0.01, 60.0
    t = np.array([0.0, 1.0, 30.0, 300.0, 3000.0])
    np.testing.assert_allclose(
        sojourn_cdf(lam, aht, 1, t), 1 - np.exp(-(1 / aht - lam) * t), rtol=1e-10, atol=1e-15
    )


# ----------------------------------------------------------------------------------------------------------
# Halfin-Whitt


@pytest.mark.parametrize("beta", [0.05, 0.3, 0.5, 1.0, 1.5, 2.2, 3.0])
def test_halfin_whitt_beta_inverts_the_defining_relation(beta):
    p = hw_p_wait(beta)
    assert float(halfin_whitt_beta(p)) == pytest.approx(beta, rel=1e-7)


def test_halfin_whitt_beta_vectorised_and_root_of_equation():
    ps = np.array([0.9, 0.5, 0.2, 0.05, 0.01])
    got = halfin_whitt_beta(ps)
    want = [optimize.brentq(lambda b, p=p: hw_p_wait(b) - p, 1e-12, 10.0, xtol=1e-14) for p in ps]
    np.testing.assert_allclose(got, want, rtol=1e-7)
    assert np.all(np.diff(got) > 0)  # smaller delay probability needs a larger beta


@pytest.mark.parametrize("a", [4.3, 97.2, 2513.7, 12345.6])
@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 2.0])
def test_sqrt_staffing_rule(a, beta):
    aht = 300.0
    x = a + beta * sqrt(a)
    assert abs(x - round(x)) > 0.01  # well-posed: the ceiling is not decided by rounding noise
    assert int(sqrt_staffing(a / aht, aht, beta=beta)) == ceil(x)
    if beta > 0:
        assert int(sqrt_staffing(a / aht, aht, p_wait=hw_p_wait(beta))) == ceil(x)


def test_sqrt_staffing_gives_target_delay_probability_asymptotically():
    """Halfin & Whitt (1981): with n = a + beta sqrt(a), P(wait) -> [1 + beta Phi/phi]^-1 as a -> infinity."""
    aht = 180.0
    for p in (0.5, 0.2):
        errs = []
        for a in (100.0, 10000.0):
            n = int(sqrt_staffing(a / aht, aht, p_wait=p))
            errs.append(abs(float(erlang_c(a / aht, aht, n).p_wait) - p))
        assert errs[1] < 0.02 and errs[1] < errs[0] + 0.01
