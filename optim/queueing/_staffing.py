"""Inverse staffing: the fewest agents for targets, square-root staffing, forecast uncertainty, shrinkage."""

from __future__ import annotations

import numpy as np
from scipy import special

from sim.scenario import SLDefinition

from ._erlang import QueueMetrics, _out, chat_metrics, erlang_a, erlang_c

__all__ = [
    "agents_for",
    "combined_shape",
    "expected_metrics",
    "halfin_whitt_beta",
    "scheduled_agents",
    "sqrt_staffing",
]


def _model(lam, s, n, t, patience, concurrency, slowdown, sl_definition, asa=True) -> QueueMetrics:
    if np.any(np.asarray(concurrency) != 1) or np.any(np.asarray(slowdown) != 0):
        return chat_metrics(
            lam,
            s,
            n,
            concurrency,
            t,
            patience=np.inf if patience is None else patience,
            slowdown=slowdown,
            sl_definition=sl_definition,
            _asa=asa,
        )
    if patience is not None and np.any(np.isfinite(np.asarray(patience, dtype=float))):
        return erlang_a(lam, s, patience, n, t, sl_definition=sl_definition, _asa=asa)
    return erlang_c(lam, s, n, t, sl_definition=sl_definition)


def combined_shape(shape_day, shape_interval):
    """The shape of one mean-1 gamma multiplier with the variance of the product of the day and interval
    multipliers: 1 / ((1 + 1/k_d)(1 + 1/k_i) - 1) (inf: no extra variance)."""
    kd = np.asarray(shape_day, dtype=float)
    ki = np.asarray(shape_interval, dtype=float)
    with np.errstate(divide="ignore"):
        var = (1.0 + 1.0 / kd) * (1.0 + 1.0 / ki) - 1.0
        return _out(np.where(var > 0, 1.0 / np.where(var > 0, var, 1.0), np.inf))


_PROBS = (1e-13, 1e-6, 1e-3, 0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98, 0.999, 1 - 1e-6)
_KNEE = (-8.0, -5.0, -3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0)


def _rate_nodes(shape: float, knee: np.ndarray, width: np.ndarray, order: int = 8):
    """Quadrature nodes g and weights for G ~ Gamma(shape, 1/shape), per element: composite Gauss-Legendre
    on panels between quantiles of G and, densely, around the element's knee (the multiplier at which the
    load reaches the servers, where the service level falls steeply over about ``width``). Returns nodes,
    calls weights (for E[G h(G)]) and time weights (for E[h(G)]), normalised, along the last axis."""
    from scipy import stats

    if not np.isfinite(shape):
        one = np.ones(knee.shape + (1,))
        return one, one, one
    plain = stats.gamma(shape, scale=1.0 / shape)
    sized = stats.gamma(shape + 1.0, scale=1.0 / shape)
    lo = float(plain.ppf(_PROBS[0]))
    hi = float(max(plain.ppf(1 - 1e-13), sized.ppf(1 - 1e-13)))
    qs = np.concatenate([[lo], plain.ppf(_PROBS[1:]), sized.ppf([0.999, 1 - 1e-6]), [hi]])
    kp = np.clip(knee[..., None] + width[..., None] * np.asarray(_KNEE), lo, hi)
    bp = np.sort(np.concatenate([np.broadcast_to(qs, knee.shape + qs.shape), kp], axis=-1), axis=-1)
    x, w = np.polynomial.legendre.leggauss(order)
    left, right = bp[..., :-1, None], bp[..., 1:, None]
    g = (0.5 * (left + right) + 0.5 * (right - left) * x).reshape(knee.shape + (-1,))
    wt = (0.5 * (right - left) * w).reshape(knee.shape + (-1,))
    t_w = wt * plain.pdf(g)
    c_w = t_w * g
    return g, c_w / c_w.sum(axis=-1, keepdims=True), t_w / t_w.sum(axis=-1, keepdims=True)


def expected_metrics(
    arrival_rate,
    aht,
    agents,
    threshold=20.0,
    *,
    shape,
    patience=None,
    concurrency=1,
    slowdown=0.0,
    sl_definition="offered",
    _asa=True,
) -> QueueMetrics:
    """Queue figures when the arrival rate is ``arrival_rate x G`` with G ~ Gamma(shape, 1/shape) (the
    Forecast's mean-1 rate multiplier; a scalar ``shape``, see :func:`combined_shape`).

    Figures per contact are calls-weighted (E[G f(lambda G)]; the service level of all the calls, not a mean
    of service levels): service level, P(wait), P(abandon); ASA is weighted by answered calls; occupancy is
    a time average (E[occupancy(lambda G)])."""
    if np.ndim(shape) != 0:
        raise ValueError("expected_metrics: shape must be a single number (one rate distribution per call)")
    shape = float(shape)
    if not shape > 0:
        raise ValueError("expected_metrics: shape must be > 0 (inf: no extra variance)")
    lam, s, n, t, m_, f_ = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (arrival_rate, aht, agents, threshold, concurrency, slowdown))
    )
    a = lam * s
    servers = n * m_ / (1.0 + f_ * (m_ - 1.0))  # full-slot capacity in Erlangs
    with np.errstate(divide="ignore", invalid="ignore"):
        knee = np.where(a > 0, servers / np.where(a > 0, a, 1.0), 1.0)
        width = np.where(a > 0, np.sqrt(np.maximum(servers, 1.0)) / np.where(a > 0, a, 1.0), 0.1)
    g, w, w_time = _rate_nodes(shape, knee, width)
    ex = (...,) + (None,)
    m = _model(
        lam[ex] * g,
        s[ex],
        n[ex],
        t[ex],
        None if patience is None else np.asarray(patience, dtype=float)[ex],
        np.asarray(concurrency)[ex],
        np.asarray(slowdown, dtype=float)[ex],
        sl_definition,
        _asa,
    )

    def avg(x):
        return np.sum(np.asarray(x) * w, axis=-1)

    ans = 1.0 - np.asarray(m.p_abandon)
    with np.errstate(invalid="ignore", divide="ignore"):
        a_w = avg(ans)
        asa = np.where(a_w > 0, avg(ans * np.asarray(m.asa)) / np.where(a_w > 0, a_w, 1.0), np.inf)
        sl_ans = np.where(a_w > 0, avg(ans * np.asarray(m.sl_of_answered)) / np.where(a_w > 0, a_w, 1.0), 0.0)
    occ = np.sum(np.asarray(m.occupancy) * w_time, axis=-1)
    p_ab, p_ab_in = avg(m.p_abandon), avg(m.p_abandon_within)
    sl_off = avg(m.sl_offered)
    d = SLDefinition(sl_definition)
    with np.errstate(invalid="ignore", divide="ignore"):
        sl = {
            SLDefinition.OFFERED: sl_off,
            SLDefinition.ANSWERED: sl_ans,
            SLDefinition.OFFERED_MINUS_SHORT_ABANDONS: sl_off / np.maximum(1.0 - p_ab_in, 1e-300),
        }[d]
    # an overloaded node (Erlang C) has an infinite mean wait, so the averaged ASA is infinite; the other
    # averaged figures exist whatever the nodes, so the result counts as stable
    all_stable = np.all(np.asarray(m.stable), axis=-1)
    stable = np.ones(all_stable.shape, bool)
    return QueueMetrics(
        _out(avg(m.p_wait)),
        _out(np.clip(sl, 0.0, 1.0)),
        _out(np.clip(sl_ans, 0.0, 1.0)),
        _out(np.where(all_stable, asa, np.inf)),
        _out(p_ab),
        _out(p_ab_in),
        _out(np.clip(occ, 0.0, 1.0)),
        _out(stable),
        str(d),
    )


def agents_for(
    arrival_rate,
    aht,
    *,
    threshold=20.0,
    service_level=None,
    max_asa=None,
    patience=None,
    max_abandon=None,
    max_occupancy=None,
    sl_definition: SLDefinition | str = SLDefinition.OFFERED,
    concurrency=1,
    slowdown=0.0,
    rate_shape=None,
    max_agents: int = 1_000_000,
) -> np.ndarray | int:
    """The fewest agents meeting every given target (broadcast over the inputs; int or int array).

    Targets: ``service_level`` (>= target, by ``sl_definition``, within ``threshold`` s), ``max_asa`` (s),
    ``max_abandon`` (P(abandon), needs ``patience``), ``max_occupancy``. The model: Erlang C; Erlang A when
    ``patience`` (mean, s) is given; chat (:func:`chat_metrics`) when ``concurrency`` > 1 or ``slowdown`` > 0;
    averaged over a gamma rate multiplier of shape ``rate_shape`` (:func:`expected_metrics`) when given.

    The search starts at the smallest stable n (Erlang C: the first n with n x concurrency > load; 0 with
    abandonment), finds an n meeting the targets by doubling a step of about sqrt(load), then bisects: every
    figure is monotone in n (service level up, ASA, abandonment and occupancy down), so no n is skipped and
    2,000 intervals take a few dozen vectorised evaluations. Zero arrivals need 0 agents. A target met to
    within 1e-12 counts as met (an 80% service level that is exactly 0.8 computes as 0.7999999999999999).
    """
    d = SLDefinition(sl_definition)
    lam, s, t, m, f = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (arrival_rate, aht, threshold, concurrency, slowdown))
    )
    p = None if patience is None else np.broadcast_to(np.asarray(patience, dtype=float), lam.shape)
    targets = dict(
        service_level=service_level,
        max_asa=max_asa,
        max_abandon=max_abandon,
        max_occupancy=max_occupancy,
        rate_shape=rate_shape,
    )
    for key, value in targets.items():
        if value is not None and np.ndim(value) != 0:
            raise ValueError(f"agents_for: {key} must be a single number (the same target for every element)")
    if all(v is None for k, v in targets.items() if k != "rate_shape"):
        raise ValueError(
            "agents_for: give at least one target (service_level, max_asa, max_abandon, max_occupancy)"
        )
    abandon = p is not None and bool(np.any(np.isfinite(p)))
    if max_abandon is not None and not abandon:
        raise ValueError("agents_for: max_abandon needs patience (without it nobody abandons: Erlang C)")
    if max_asa is not None and rate_shape is not None and np.isfinite(rate_shape) and not abandon:
        raise ValueError(
            "agents_for: max_asa cannot be met under rate uncertainty without abandonment: some rates of the "
            "gamma multiplier overload any number of agents, so the mean wait is infinite; give patience or "
            "a service_level target instead"
        )
    if not np.all(np.isfinite(lam)) or not np.all(np.isfinite(s)):
        raise ValueError("agents_for: arrival_rate and aht must be finite")
    if np.any(m < 1) or not np.all(m == np.floor(m)):
        raise ValueError("agents_for: concurrency must be a whole number >= 1")
    if np.any(~(f >= 0)):
        raise ValueError("agents_for: slowdown must be >= 0")
    if service_level is not None and not 0 < service_level < 1:
        raise ValueError("agents_for: service_level must lie in (0, 1)")
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise ValueError("agents_for: max_occupancy must lie in (0, 1]")
    if max_abandon is not None and not 0 <= max_abandon <= 1:
        raise ValueError("agents_for: max_abandon must lie in [0, 1]")
    if max_asa is not None and not max_asa >= 0:
        raise ValueError("agents_for: max_asa must be >= 0")
    if np.any(lam < 0) or np.any(np.isnan(lam)) or np.any(s <= 0) or np.any(np.isnan(s)):
        raise ValueError("agents_for: arrival_rate >= 0 and aht > 0 expected")

    shape_out = lam.shape
    lam, s, t, m, f = (v.ravel() for v in (lam, s, t, m, f))
    p = None if p is None else p.ravel()
    uncertain = rate_shape is not None and np.isfinite(rate_shape)

    def ok(n, sel):
        """Targets met with n agents, for the elements ``sel`` (indices) only."""
        args = (lam[sel], s[sel], n[sel], t[sel])
        pp = None if p is None else p[sel]
        if uncertain:
            q = expected_metrics(
                *args,
                shape=rate_shape,
                patience=pp,
                concurrency=m[sel],
                slowdown=f[sel],
                sl_definition=d,
                _asa=max_asa is not None,
            )
        else:
            q = _model(*args, pp, m[sel], f[sel], d, asa=max_asa is not None)
        good = np.asarray(q.stable, dtype=bool).copy()
        if service_level is not None:
            good &= np.asarray(q.service_level) >= service_level - 1e-12
        if max_asa is not None:
            good &= np.asarray(q.asa) <= max_asa + 1e-12
        if max_abandon is not None:
            good &= np.asarray(q.p_abandon) <= max_abandon + 1e-12
        if max_occupancy is not None:
            good &= np.asarray(q.occupancy) <= max_occupancy + 1e-12
        out = np.zeros(lam.shape, bool)
        out[sel] = good
        return out

    if np.any(f > 0):
        # slowdown makes every service rate smaller than without it and larger than with every agent at full
        # concurrency (AHT x (1 + f (m - 1))): the answers without slowdown bracket the answer
        kw = dict(
            threshold=t,
            service_level=service_level,
            max_asa=max_asa,
            patience=p,
            max_abandon=max_abandon,
            max_occupancy=max_occupancy,
            sl_definition=d,
            concurrency=m,
            rate_shape=rate_shape,
            max_agents=max_agents,
        )
        n_fast = np.asarray(agents_for(lam, s, **kw), dtype=float).ravel()
        n_slow = np.asarray(agents_for(lam, s * (1.0 + f * (m - 1.0)), **kw), dtype=float).ravel()
        fail, hi = n_fast - 1.0, n_slow
        return _result(_bisect(fail, hi, ok), shape_out, max_agents)

    everyone = np.arange(lam.size)
    a = lam * s
    # full-slot service capacity per agent relative to one slot: m / (1 + f (m - 1))
    per_agent = m / (1.0 + f * (m - 1.0))
    no_abandon = np.ones(lam.shape, bool) if p is None else ~np.isfinite(p)
    lo = np.where(no_abandon, np.floor(a / per_agent) + 1.0, 0.0)
    if max_occupancy is not None:  # occupancy <= load / (n m): a lower bound without abandonment
        lo = np.where(no_abandon, np.maximum(lo, np.ceil(a / (m * max_occupancy) - 1e-9)), lo)
    lo = np.where(lam > 0, lo, 0.0)
    good_lo = ok(lo, everyone)
    # doubling search for an upper bound that meets the targets, from a step of about sqrt(load) (plus the
    # rate multiplier's spread under uncertainty)
    base = np.maximum(a / per_agent, 1.0)
    step = np.ceil(np.sqrt(base) + (base / np.sqrt(rate_shape) if uncertain else 0.0))
    hi = np.where(good_lo, lo, lo + step)
    bad = ~good_lo
    bad &= ~ok(hi, np.flatnonzero(bad))
    while bad.any():
        if np.any(hi[bad] >= max_agents):
            raise ValueError(f"agents_for: more than {max_agents} agents needed")
        step = np.where(bad, step * 2.0, step)
        hi = np.where(bad, np.minimum(lo + step, max_agents), hi)
        bad &= ~ok(hi, np.flatnonzero(bad))
    # bisection on (fail, hi]: fail does not meet the targets, hi does
    fail = np.where(good_lo, lo - 1.0, lo)
    return _result(_bisect(fail, hi, ok), shape_out, max_agents)


def _bisect(fail: np.ndarray, hi: np.ndarray, ok) -> np.ndarray:
    """The first n in (fail, hi] meeting the targets, per element: ``fail`` does not meet them, ``hi`` does,
    and ``ok(n, sel)`` is monotone in n; only the elements still searching are evaluated."""
    todo = hi - fail > 1
    while todo.any():
        sel = np.flatnonzero(todo)
        mid = np.where(todo, np.floor((fail + hi) / 2.0), hi)
        g = ok(mid, sel)
        hi = np.where(todo & g, mid, hi)
        fail = np.where(todo & ~g, mid, fail)
        todo = hi - fail > 1
    return hi


def _result(n, shape, max_agents):
    if np.any(n > max_agents):
        raise ValueError(
            f"agents_for: more than max_agents = {max_agents} agents needed (up to {int(n.max()):,})"
        )
    out = n.astype(np.int64).reshape(shape)
    return int(out) if out.ndim == 0 else out


def halfin_whitt_beta(p_wait):
    """The Halfin-Whitt beta with P(wait) = [1 + beta Phi(beta) / phi(beta)]^-1 (Halfin and Whitt, 1981), the
    square-root staffing constant for a target probability of waiting in (0, 1)."""
    target = np.asarray(p_wait, dtype=float)
    if np.any(~(target > 0)) or np.any(~(target < 1)):
        raise ValueError("halfin_whitt_beta: p_wait must lie in (0, 1)")
    lo = np.zeros(target.shape)
    hi = np.full(target.shape, 40.0)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        val = _hw_alpha(mid)
        hi = np.where(val < target, mid, hi)
        lo = np.where(val < target, lo, mid)
    return _out(0.5 * (lo + hi))


def _hw_alpha(beta):
    beta = np.asarray(beta, dtype=float)
    ratio = beta * np.exp(special.log_ndtr(beta) + 0.5 * beta * beta + 0.5 * np.log(2.0 * np.pi))
    return 1.0 / (1.0 + ratio)


def sqrt_staffing(arrival_rate, aht, *, p_wait=None, beta=None):
    """Square-root staffing n = ceil(a + beta sqrt(a)), a = load; give ``beta`` or a target ``p_wait``
    (then beta = :func:`halfin_whitt_beta`). An approximation (QED regime); :func:`agents_for` is exact."""
    if (p_wait is None) == (beta is None):
        raise ValueError("sqrt_staffing: give exactly one of p_wait and beta")
    b = halfin_whitt_beta(p_wait) if beta is None else np.asarray(beta, dtype=float)
    a = np.asarray(arrival_rate, dtype=float) * np.asarray(aht, dtype=float)
    n = np.where(a > 0, np.ceil(a + np.asarray(b) * np.sqrt(a) - 1e-12), 0.0).astype(np.int64)
    return int(n) if n.ndim == 0 else n


def scheduled_agents(on_floor, shrinkage):
    """Agents to schedule (on duty after breaks) for ``on_floor`` agents at ``shrinkage`` (absence,
    meetings, training), the one rule used everywhere: scheduled = on_floor / (1 - shrinkage), fractional."""
    sh = np.asarray(shrinkage, dtype=float)
    if np.any(sh < 0) or np.any(sh >= 1):
        raise ValueError("scheduled_agents: shrinkage must lie in [0, 1)")
    return _out(np.asarray(on_floor, dtype=float) / (1.0 - sh))
