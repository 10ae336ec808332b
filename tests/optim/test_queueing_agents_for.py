"""agents_for against brute-force linear search with scalar erlang_c / erlang_a calls."""

import numpy as np
import pytest

from optim.queueing import agents_for, erlang_a, erlang_c

TOL = 1e-12  # agents_for's documented tolerance for a target met exactly


def _meets(m, sl=None, max_asa=None, max_ab=None, max_occ=None) -> bool:
    ok = True
    if sl is not None:
        ok = ok and float(m.service_level) >= sl - TOL
    if max_asa is not None:
        ok = ok and float(m.asa) <= max_asa + TOL
    if max_ab is not None:
        ok = ok and float(m.p_abandon) <= max_ab + TOL
    if max_occ is not None:
        ok = ok and float(m.occupancy) <= max_occ + TOL
    return bool(ok)


def brute_force(lam, aht, *, threshold=20.0, patience=None, start=1, d="offered", **targets) -> int:
    """Smallest n >= start meeting every target; `start` is only raised above 1 for large loads, and then
    the caller checks that start - 1 fails (so the search is still exhaustive by monotonicity)."""
    n = start
    while True:
        if patience is None:
            m = erlang_c(lam, aht, n, threshold, sl_definition=d)
        else:
            m = erlang_a(lam, aht, patience, n, threshold, sl_definition=d)
        # Erlang C: only stable levels (n > load) count, whatever the targets
        if (patience is not None or bool(m.stable)) and _meets(m, **targets):
            return n
        n += 1
        assert n < 100_000


LOADS = [0.05, 0.9999, 1.0, 1.0001, 2.5, 9.99, 10.0, 10.01, 10.6, 19.999, 20.0001, 47.3, 99.5, 100.0, 250.7]


@pytest.mark.parametrize("load", LOADS)
@pytest.mark.parametrize("threshold, sl", [(20.0, 0.8), (300.0, 0.8), (0.0, 0.5), (60.0, 0.95)])
def test_erlang_c_service_level_target(load, threshold, sl):
    aht = 180.0
    lam = load / aht
    want = brute_force(lam, aht, threshold=threshold, sl=sl)
    got = agents_for(lam, aht, threshold=threshold, service_level=sl)
    assert int(got) == want
    assert want > lam * aht  # never an unstable staffing level


def test_load_10_6_with_long_threshold():
    # 10.6 Erlangs with a 300 s threshold: near-critical staffing where the long threshold makes the
    # service level climb steeply from the first stable level (11 agents) on.
    aht = 240.0
    lam = 10.6 / aht
    for sl in (0.8, 0.9):
        want = brute_force(lam, aht, threshold=300.0, sl=sl)
        assert int(agents_for(lam, aht, threshold=300.0, service_level=sl)) == want
    for aht in (30.0, 180.0, 600.0):
        lam = 10.6 / aht
        for sl in (0.5, 0.8, 0.95):
            want = brute_force(lam, aht, threshold=300.0, sl=sl)
            assert int(agents_for(lam, aht, threshold=300.0, service_level=sl)) == want


@pytest.mark.parametrize("load", [999.7, 1000.0, 2500.2, 4999.5, 5000.0, 5000.5])
def test_erlang_c_large_loads(load):
    aht = 300.0
    lam = load / aht
    start = int(np.floor(load)) - 2
    for sl, t in ((0.8, 20.0), (0.95, 10.0)):
        assert not _meets(erlang_c(lam, aht, start - 1, t), sl=sl)
        want = brute_force(lam, aht, threshold=t, start=start, sl=sl)
        assert int(agents_for(lam, aht, threshold=t, service_level=sl)) == want
    want = brute_force(lam, aht, start=start, max_asa=2.0)
    assert int(agents_for(lam, aht, max_asa=2.0)) == want


@pytest.mark.parametrize("load", [0.3, 4.2, 10.6, 31.0, 120.5])
@pytest.mark.parametrize("d", ["offered", "offered_minus_short_abandons", "answered"])
def test_erlang_a_service_level_target(load, d):
    aht = 200.0
    lam = load / aht
    for patience, t in ((60.0, 20.0), (600.0, 20.0), (30.0, 0.0), (2000.0, 300.0)):
        want = brute_force(lam, aht, threshold=t, patience=patience, d=d, sl=0.8)
        got = agents_for(lam, aht, threshold=t, service_level=0.8, patience=patience, sl_definition=d)
        assert int(got) == want, (patience, t)


@pytest.mark.parametrize("load", [0.3, 4.2, 10.6, 31.0, 120.5])
def test_erlang_a_abandon_and_asa_targets(load):
    aht = 300.0
    lam = load / aht
    for patience in (45.0, 300.0, 1500.0):
        for max_ab in (0.01, 0.05, 0.2):
            want = brute_force(lam, aht, patience=patience, max_ab=max_ab)
            assert int(agents_for(lam, aht, patience=patience, max_abandon=max_ab)) == want
        want = brute_force(lam, aht, patience=patience, max_asa=10.0)
        assert int(agents_for(lam, aht, patience=patience, max_asa=10.0)) == want


def test_erlang_a_can_staff_below_the_load():
    # With impatient customers a heavily loaded centre meets a loose abandonment target below n = load.
    aht, load, patience = 300.0, 200.0, 60.0
    lam = load / aht
    want = brute_force(lam, aht, patience=patience, max_ab=0.2)
    assert want < load
    assert int(agents_for(lam, aht, patience=patience, max_abandon=0.2)) == want


@pytest.mark.parametrize("load", [2.0, 10.6, 57.3, 400.0])
def test_multi_target(load):
    aht = 240.0
    lam = load / aht
    kw = dict(sl=0.8, max_ab=0.02, max_occ=0.85)
    for patience in (90.0, 900.0):
        for t in (20.0, 60.0):
            want = brute_force(lam, aht, threshold=t, patience=patience, **kw)
            got = agents_for(
                lam,
                aht,
                threshold=t,
                service_level=0.8,
                patience=patience,
                max_abandon=0.02,
                max_occupancy=0.85,
            )
            assert int(got) == want
    # Erlang C: SL + ASA + occupancy
    want = brute_force(lam, aht, sl=0.9, max_asa=8.0, max_occ=0.8)
    assert int(agents_for(lam, aht, service_level=0.9, max_asa=8.0, max_occupancy=0.8)) == want


def test_occupancy_only_target_is_the_ceiling():
    aht = 300.0
    for load, occ in ((10.0, 0.85), (42.5, 0.8), (100.0, 0.9), (7.0, 1.0)):
        want = brute_force(load / aht, aht, max_occ=occ)
        assert int(agents_for(load / aht, aht, max_occupancy=occ)) == want
        assert want == max(int(np.floor(load)) + 1, int(np.ceil(load / occ - 1e-9)))


def test_zero_arrivals_need_zero_agents():
    assert int(agents_for(0.0, 300.0, service_level=0.8)) == 0
    assert int(agents_for(0.0, 300.0, service_level=0.99, max_asa=1.0, max_occupancy=0.5)) == 0
    assert int(agents_for(0.0, 300.0, service_level=0.8, patience=100.0, max_abandon=0.01)) == 0
    got = agents_for(np.array([0.0, 0.02, 0.0]), 300.0, service_level=0.8)
    assert list(np.asarray(got).astype(int)) == [0, brute_force(0.02, 300.0, sl=0.8), 0]


def test_vectorised_equals_scalar():
    lam = np.array([0.001, 0.02, 0.1, 0.5, 1.7])
    aht = np.array([600.0, 180.0, 240.0, 90.0, 300.0])
    got = np.asarray(agents_for(lam, aht, threshold=20.0, service_level=0.8, patience=120.0))
    assert got.shape == (5,) and np.issubdtype(got.dtype, np.integer)
    for i in range(5):
        assert got[i] == brute_force(lam[i], aht[i], patience=120.0, sl=0.8)
