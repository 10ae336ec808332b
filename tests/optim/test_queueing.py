"""Erlang B/C against exact rational arithmetic and published values; agents_for against linear search."""

from fractions import Fraction
from math import exp, factorial

import numpy as np
import pytest

from optim.queueing import agents_for, erlang_b, erlang_c


def _erlang_b_exact(a: Fraction, n: int) -> Fraction:
    terms = [a**k / factorial(k) for k in range(n + 1)]
    return terms[-1] / sum(terms)


@pytest.mark.parametrize(
    "a, n", [(Fraction(1), 1), (Fraction(5, 2), 3), (Fraction(10), 10), (Fraction(37, 3), 20)]
)
def test_erlang_b_equals_the_defining_sum(a, n):
    assert erlang_b(float(a), n) == pytest.approx(float(_erlang_b_exact(a, n)), rel=1e-12)


def test_erlang_b_published_table_values():
    # Erlang B tables (e.g. Cooper 1981, Table I): B(10 E, 10) = 0.2146, B(2 E, 5) = 0.0367
    assert erlang_b(10.0, 10) == pytest.approx(0.21458, abs=5e-5)
    assert erlang_b(2.0, 5) == pytest.approx(0.03670, abs=5e-5)


def test_erlang_b_large_is_finite_and_vectorised():
    b = erlang_b(np.array([15000.0, 0.5, 0.0]), np.array([20000, 0, 3]))
    assert np.all(np.isfinite(b)) and b[1] == 1.0 and b[2] == 0.0
    assert 0 <= b[0] < 1e-100 or b[0] == 0.0


def test_erlang_c_matches_closed_form_from_the_sum():
    lam, aht, n, t = 100 / 3600, 180.0, 7, 20.0
    a = Fraction(lam * aht).limit_denominator(10**9)
    pk = [a**k / factorial(k) for k in range(n)]
    tail = a**n / factorial(n) * n / (n - a)
    c = float(tail / (sum(pk) + tail))
    m = erlang_c(lam, aht, n, t)
    assert m.p_wait == pytest.approx(c, rel=1e-10)
    assert m.service_level == pytest.approx(1 - c * exp(-(n - float(a)) * t / aht), rel=1e-10)
    assert m.asa == pytest.approx(c * aht / (n - float(a)), rel=1e-10)
    assert m.occupancy == pytest.approx(float(a) / n)


def test_overloaded_erlang_c_is_flagged_not_nan():
    m = erlang_c(np.array([0.1, 0.0]), 100.0, np.array([5, 0]))
    assert not m.stable[0] and m.service_level[0] == 0 and np.isinf(m.asa[0])
    assert m.stable[1] and m.service_level[1] == 1 and m.asa[1] == 0
    assert not np.isnan(m.p_wait).any()


def test_agents_for_is_the_first_n_meeting_the_target():
    rng = np.random.default_rng(0)
    lam = rng.uniform(0.001, 0.5, 40)
    aht = rng.uniform(60, 600, 40)
    n = agents_for(lam, aht, threshold=20, service_level=0.8)
    for l_, s_, k in zip(lam, aht, n):
        first = next(m for m in range(1, 2000) if erlang_c(l_, s_, m, 20).service_level >= 0.8)
        assert k == first
    assert agents_for(0.0, 300.0, service_level=0.8) == 0
    # ASA and occupancy targets
    k = agents_for(0.2, 300, max_asa=15, max_occupancy=0.85)
    assert erlang_c(0.2, 300, k).asa <= 15 and k >= 60 / 0.85
    assert erlang_c(0.2, 300, k - 1).asa > 15 or (k - 1) < 60 / 0.85
