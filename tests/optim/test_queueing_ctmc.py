"""erlang_c / erlang_a against an independent absorbing-CTMC solution (tests/optim/ctmc.py)."""

from fractions import Fraction
from functools import cache
from math import exp, factorial

import numpy as np
import pytest

from optim.queueing import erlang_a, erlang_c
from tests.optim.ctmc import TAIL_TOL, solve

THRESHOLDS = (0.0, 20.0, 60.0)
DEFINITIONS = ("offered", "offered_minus_short_abandons", "answered")
REL, ABS = 1e-7, 1e-12

# (n, rho = load / n, aht); lam = rho * n / aht
C_POINTS = [
    (n, rho, aht)
    for n, aht in (
        (1, 60.0),
        (2, 300.0),
        (3, 180.0),
        (5, 100.0),
        (8, 240.0),
        (13, 45.0),
        (20, 180.0),
        (30, 90.0),
    )
    for rho in (0.3, 0.7, 0.9)
]
# (n, rho, aht, patience): patience shorter and longer than aht, loads below, at and above n
A_POINTS = [
    (n, rho, aht, aht * pf)
    for n, aht in ((1, 120.0), (2, 60.0), (5, 200.0), (10, 150.0), (20, 300.0), (30, 100.0))
    for rho in (0.5, 0.9, 1.0, 1.3, 2.0)
    for pf in (0.25, 3.0)
]


@cache
def reference(n, lam, aht, threshold, patience):
    return solve(lam, aht, n, threshold, patience)


def _close(got, want):
    assert float(got) == pytest.approx(want, rel=REL, abs=ABS)


def test_truncation_tail_is_negligible():
    for n, rho, aht in C_POINTS:
        assert reference(n, rho * n / aht, aht, 20.0, None).tail_bound < TAIL_TOL
    for n, rho, aht, pat in A_POINTS:
        assert reference(n, rho * n / aht, aht, 20.0, pat).tail_bound < TAIL_TOL


def test_reference_reproduces_closed_form_erlang_c():
    """Self-check of the CTMC machinery against Erlang's formula evaluated in exact rational arithmetic."""
    n, a, aht, t = 7, Fraction(11, 2), 200.0, 30.0
    terms = [a**k / factorial(k) for k in range(n)]
    tail = a**n / factorial(n) * n / (n - a)
    c = float(tail / (sum(terms) + tail))
    ref = solve(float(a) / aht, aht, n, t)
    assert ref.p_wait == pytest.approx(c, rel=1e-12)
    assert ref.p_served_within == pytest.approx(1 - c * exp(-(n - float(a)) * t / aht), rel=1e-12)
    assert ref.mean_wait_served == pytest.approx(c * aht / (n - float(a)), rel=1e-12)


def test_reference_erlang_a_flow_balance():
    """Self-check: P(abandon) from the tagged-customer chain = theta E[Q] / lam from the stationary law."""
    from tests.optim.ctmc import stationary

    for n, rho, aht, pat in A_POINTS[::7]:
        lam = rho * n / aht
        pi, _ = stationary(lam, 1 / aht, 1 / pat, n)
        eq = float(np.maximum(np.arange(len(pi)) - n, 0) @ pi)
        assert reference(n, lam, aht, 20.0, pat).p_abandon == pytest.approx(eq / pat / lam, rel=1e-10)


@pytest.mark.parametrize("n, rho, aht", C_POINTS)
def test_erlang_c_matches_ctmc(n, rho, aht):
    lam = rho * n / aht
    for t in THRESHOLDS:
        ref = reference(n, lam, aht, t, None)
        m = erlang_c(lam, aht, n, t)
        assert bool(m.stable)
        _close(m.p_wait, ref.p_wait)
        _close(m.service_level, ref.p_served_within)
        _close(m.sl_of_answered, ref.p_served_within)
        _close(m.asa, ref.mean_wait_served)
        _close(m.occupancy, ref.occupancy)
        assert float(m.p_abandon) == 0.0 and float(m.p_abandon_within) == 0.0
        for d in DEFINITIONS[1:]:
            _close(erlang_c(lam, aht, n, t, sl_definition=d).service_level, ref.p_served_within)


@pytest.mark.parametrize("n, rho, aht, patience", A_POINTS)
def test_erlang_a_matches_ctmc(n, rho, aht, patience):
    lam = rho * n / aht
    for t in THRESHOLDS:
        ref = reference(n, lam, aht, t, patience)
        m = erlang_a(lam, aht, patience, n, t)
        assert bool(m.stable)
        _close(m.p_wait, ref.p_wait)
        _close(m.service_level, ref.service_level("offered"))
        _close(m.sl_of_answered, ref.service_level("answered"))
        _close(m.asa, ref.mean_wait_served)
        _close(m.p_abandon, ref.p_abandon)
        _close(m.p_abandon_within, ref.p_abandon_within)
        _close(m.occupancy, ref.occupancy)
        for d in DEFINITIONS[1:]:
            _close(erlang_a(lam, aht, patience, n, t, sl_definition=d).service_level, ref.service_level(d))


def test_erlang_a_vectorised_over_all_points_matches_ctmc():
    n = np.array([p[0] for p in A_POINTS])
    aht = np.array([p[2] for p in A_POINTS])
    lam = np.array([p[1] for p in A_POINTS]) * n / aht
    pat = np.array([p[3] for p in A_POINTS])
    m = erlang_a(lam, aht, pat, n, 20.0, sl_definition="offered_minus_short_abandons")
    refs = [reference(int(k), float(l), float(s), 20.0, float(p)) for k, l, s, p in zip(n, lam, aht, pat)]
    np.testing.assert_allclose(
        m.service_level, [r.service_level("offered_minus_short_abandons") for r in refs], rtol=REL, atol=ABS
    )
    np.testing.assert_allclose(m.p_abandon, [r.p_abandon for r in refs], rtol=REL, atol=ABS)
    np.testing.assert_allclose(m.asa, [r.mean_wait_served for r in refs], rtol=REL, atol=ABS)
    # a vector of thresholds broadcast against one system
    ts = np.array(THRESHOLDS)
    mt = erlang_a(lam[17], aht[17], pat[17], n[17], ts)
    want = [
        reference(int(n[17]), float(lam[17]), float(aht[17]), t, float(pat[17])).p_served_within for t in ts
    ]
    np.testing.assert_allclose(mt.service_level, want, rtol=REL, atol=ABS)


def test_erlang_c_vectorised_over_all_points_matches_ctmc():
    n = np.array([p[0] for p in C_POINTS])
    aht = np.array([p[2] for p in C_POINTS])
    lam = np.array([p[1] for p in C_POINTS]) * n / aht
    m = erlang_c(lam, aht, n, 60.0)
    refs = [reference(int(k), float(l), float(s), 60.0, None) for k, l, s in zip(n, lam, aht)]
    np.testing.assert_allclose(m.service_level, [r.p_served_within for r in refs], rtol=REL, atol=ABS)
    np.testing.assert_allclose(m.asa, [r.mean_wait_served for r in refs], rtol=REL, atol=ABS)
    assert np.all(m.stable)
