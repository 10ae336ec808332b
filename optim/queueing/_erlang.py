"""Erlang B, C and A, chat with concurrency, and the M/M/c sojourn time. Vectorised over numpy arrays.

Units: arrival rates per second, times in seconds, loads in Erlangs (arrival rate x mean handle time).

**Erlang B** in log space: B(n, a) = P(N = n) / P(N <= n) for N ~ Poisson(a) (e.g. Cooper, *Introduction to
Queueing Theory*, 2nd ed. 1981, eq. 3.4.5), the pmf by Loader's saddle-point form (no cancellation) and the
cdf from the regularised incomplete gamma function; where that cdf underflows (n far below a) by the series
1/B = sum_k n!/((n-k)! a^k), whose terms fall geometrically there. Relative error about 1e-13 or less
(checked against exact rational and 60-digit decimal arithmetic), finite for any n and load, fractional
loads included, in constant time per element (a value below the smallest double, e.g. B(20,000, 15,000)
~ 1e-330, is 0).

**The queue.** Every model here is a birth-death chain whose states 0..c (c servers, or chat slots) end in
the generalised Erlang B value B = pi_c / P(N <= c); once all c are busy the total service rate is D and each
waiting customer abandons at rate theta (exponential patience; 0 = nobody abandons). With x = D / theta and
y = lambda / theta the waiting states give pi_{c+j} = pi_c y^j Gamma(x+1) / Gamma(x+j+1), whose sum is
A(x, y) = x e^y y^-x gamma(x, y) (Palm's M/M/n+M, in the notation of Mandelbaum and Zeltyn, "The M/M/n+G
queue: summary of performance measures", 2004/2009), and

- P(wait) = A B / (1 + (A - 1) B);
- the offered wait V (time until a server would take the customer) of an arrival that finds j waiting is a
  sum of exponentials with rates theta (x + m), m = 0..j; summing over j with the stationary weights gives
  P(V > t) = P(wait) P(x, y e^{-theta t}) / P(x, y) (P the regularised lower incomplete gamma);
- answered within T: P(V = 0) + integral_0^T e^{-theta v} dF_V(v)
  = 1 - P(wait) + P(wait) (x / y) [P(x+1, y) - P(x+1, y e^{-theta T})] / P(x, y);
- abandoned: P(wait) [1 - (x / y) P(x+1, y) / P(x, y)]; abandoned within T: integral_0^T theta e^{-theta t}
  P(V > t) dt, in closed form with integral P(x, v) dv = v P(x, v) - x P(x+1, v);
- ASA of the answered: E[V e^{-theta V}] / P(answered), summed over j with
  E[V e^{-theta V} | j] = x (psi(x+j+2) - psi(x+1)) / (theta (x+j+1)).

These are derived here from the chain (they agree with Mandelbaum and Zeltyn's formulas); where P(x, y)
underflows the ratios are computed from the series A = sum_j y^j / ((x+1)...(x+j)) instead. Without
abandonment (theta = 0) the queue is geometric, A = D / (D - lambda), which gives Erlang C:
C = n B / (n - a (1 - B)), P(W <= T) = 1 - C e^{-(n - a) T / AHT}, ASA = C AHT / (n - a) (Cooper eq. 5.2.6).

Erlang C with n <= a is overloaded: ``stable=False``, service level 0, infinite ASA, no NaN. Erlang A is
always stable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from sim.scenario import SLDefinition

__all__ = ["QueueMetrics", "chat_metrics", "erlang_a", "erlang_b", "erlang_c", "sojourn_cdf"]

_TINY_CDF = 1e-100  # below it scipy's Poisson tail loses digits; the series is exact there


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state figures of a queue (arrays broadcast from the inputs; floats for scalar inputs).

    ``p_wait``: an arrival waits at all; ``service_level``: by ``sl_definition`` (``offered``, the default:
    fraction of all arrivals answered within the threshold); ``sl_of_answered``: answered within threshold /
    answered; ``asa``: mean wait of answered contacts (s); ``p_abandon``: fraction of arrivals that abandon
    (0 for Erlang C); ``p_abandon_within``: fraction that abandon within the threshold; ``occupancy``: carried
    load / agents (chat: / slots); ``stable``: False for an overloaded Erlang C; ``sl_definition``.
    """

    p_wait: np.ndarray
    service_level: np.ndarray
    sl_of_answered: np.ndarray
    asa: np.ndarray
    p_abandon: np.ndarray
    p_abandon_within: np.ndarray
    occupancy: np.ndarray
    stable: np.ndarray
    sl_definition: str = "offered"

    @property
    def sl_offered(self) -> np.ndarray:
        """Answered within the threshold / offered, whatever ``sl_definition`` says."""
        return _sl_back(self)


def _sl_back(m: QueueMetrics):
    d = SLDefinition(m.sl_definition)
    if d is SLDefinition.OFFERED:
        return m.service_level
    if d is SLDefinition.ANSWERED:
        return m.sl_of_answered * (1.0 - m.p_abandon)
    return m.service_level * (1.0 - m.p_abandon_within)


def _out(x):
    x = np.asarray(x)
    return x.item() if x.ndim == 0 else x


def erlang_b(load, servers) -> np.ndarray | float:
    """Blocking probability of M/M/n/n with offered ``load`` (Erlangs) and ``servers`` (broadcast)."""
    a, n = np.broadcast_arrays(np.asarray(load, dtype=float), np.asarray(servers))
    if np.any(np.isnan(a)) or np.any(a < 0) or np.any(n < 0):
        raise ValueError("erlang_b: load and servers must be >= 0")
    if not np.all(np.isfinite(n)) or not np.all(n == np.floor(n)):
        raise ValueError("erlang_b: servers must be whole numbers")
    return _out(_erlang_b(a, n.astype(np.int64)))


def _erlang_b(a: np.ndarray, n: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    n = np.asarray(n, dtype=np.int64)
    b = np.where(n == 0, 1.0, 0.0)
    pos = (n > 0) & (a > 0) & np.isfinite(a)
    b = np.where((n > 0) & ~np.isfinite(a), 1.0, b)
    if not pos.any():
        return b
    ap, np_ = a[pos], n[pos].astype(float)
    cdf = special.pdtr(np_, ap)
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        bp = np.exp(_poisson_logpmf(np_, ap) - np.log(np.where(cdf > 0, cdf, 1.0)))
    low = ~(cdf > _TINY_CDF)
    if low.any():
        bp[low] = 1.0 / _inv_b_series(ap[low], np_[low])
    b[pos] = np.clip(bp, 0.0, 1.0)
    return b


def _stirlerr_table() -> np.ndarray:
    """stirlerr(n) = ln n! - (n + 1/2) ln n + n - ln(2 pi)/2 for n = 0..15, in 40-digit decimal arithmetic."""
    import decimal
    import math

    ctx = decimal.Context(prec=40)
    half_log_2pi = ctx.divide(
        ctx.ln(ctx.multiply(2, decimal.Decimal("3.141592653589793238462643383279502884"))), 2
    )
    out = [0.0]
    for n in range(1, 16):
        dn = decimal.Decimal(n)
        v = ctx.ln(decimal.Decimal(math.factorial(n))) - (dn + decimal.Decimal("0.5")) * ctx.ln(dn) + dn
        out.append(float(v - half_log_2pi))
    out[0] = float(-half_log_2pi)  # n = 0: ln 0! - ln(2 pi)/2 with the (n + 1/2) ln n term taken as 0
    return np.array(out)


_STIRLERR = _stirlerr_table()


def _stirlerr(n: np.ndarray) -> np.ndarray:
    """The error of Stirling's formula for ln Gamma(n + 1): a table for whole n <= 15, the direct
    difference for other n <= 15 (small terms, no harmful cancellation), the asymptotic series above."""
    n = np.asarray(n, dtype=float)
    small = n <= 15
    nn = np.where(small, 16.0, n)
    n2 = nn * nn
    series = (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / (1188 * n2)) / n2) / n2) / n2) / nn
    whole = small & (n == np.floor(n))
    ns = np.where(small & ~whole, n, 1.0)
    direct = special.gammaln(ns + 1.0) - (ns + 0.5) * np.log(ns) + ns - 0.5 * np.log(2.0 * np.pi)
    table = _STIRLERR[np.clip(n, 0, 15).astype(np.int64)]
    return np.where(whole, table, np.where(small, direct, series))


def _bd0(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """x ln(x / m) + m - x without cancellation (Loader, "Fast and accurate computation of binomial
    probabilities", 2000): a series in v = (x - m) / (x + m) when x is near m."""
    d = x - m
    near = np.abs(d) < 0.1 * (x + m)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        far = x * np.log(np.where(near, 1.0, x / m)) + m - x
        v = np.where(near, d / (x + m), 0.0)
    s = d * v
    ej = 2.0 * x * v
    v2 = v * v
    for j in range(1, 200):
        ej = ej * v2
        s_new = s + ej / (2 * j + 1)
        if np.array_equal(s_new, s):
            break
        s = s_new
    return np.where(near, s, far)


def _poisson_logpmf(n: np.ndarray, a: np.ndarray) -> np.ndarray:
    """ln P(N = n) = n ln a - a - ln Gamma(n + 1) for N ~ Poisson(a), n > 0 (whole or not), a > 0, to a
    few ulps of the pmf: Loader's saddle-point form -stirlerr(n) - bd0(n, a) - ln(2 pi n) / 2, whose terms
    do not cancel."""
    return -_stirlerr(n) - _bd0(n, a) - 0.5 * np.log(2.0 * np.pi * n)


def _inv_b_series(a: np.ndarray, n: np.ndarray) -> np.ndarray:
    """1/B = sum_{k=0}^{n} prod_{j<k} (n - j) / a, for n well below a (terms fall at least like (n/a)^k)."""
    total = np.ones(a.shape)
    term = np.ones(a.shape)
    k = 0
    active = np.ones(a.shape, bool)
    while active.any():
        k += 1
        term = np.where(active, term * np.maximum(n - (k - 1), 0.0) / a, 0.0)
        total += term
        active &= (term > 1e-17 * total) & (k < n)
    return total


def _series(x: np.ndarray, w: np.ndarray):
    """For w < x + 1 (terms fall at least like w / (x + 1)), with t_j = w^j / ((x+1)...(x+j)):
    S0 = sum_j t_j, S1 = (S0 - 1) / w = sum_j t_j / (x+j+1) and U = sum_j t_j (j+1) / (x+j+1), all of
    positive terms (no cancellation, no division by a tiny w)."""
    s0 = np.ones(w.shape)
    s1 = 1.0 / (x + 1.0)
    u = 1.0 / (x + 1.0)
    term = np.ones(w.shape)
    active = w > 0
    j = 0
    while active.any():
        j += 1
        term = np.where(active, term * w / (x + j), 0.0)
        s0 += term
        s1 = s1 + term / (x + j + 1.0)
        u = u + term * (j + 1.0) / (x + j + 1.0)
        active &= term > 1e-17 * s0
    return s0, s1, u


def _queue(lam, B, D, theta, T, want_wait: bool = True):
    """The waiting part of the chain (module docstring): P(wait), answered within T, P(abandon),
    P(abandon within T), E[wait; answered] and stability, for arrays broadcast together."""
    lam, B, D, theta, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lam, B, D, theta, T)))
    shape = lam.shape
    pw = np.zeros(shape)
    ans_in = np.ones(shape)  # answered within T / offered
    p_ab = np.zeros(shape)
    p_ab_in = np.zeros(shape)
    wait_sum = np.zeros(shape)  # E[wait; answered]
    stable = np.ones(shape, bool)
    busy = lam > 0

    # -- no abandonment: geometric queue (Erlang C) ----------------------------------------------------------
    m = busy & (theta == 0)
    if m.any():
        ok = m & (lam < D)
        bad = m & ~(lam < D)
        gap = np.where(ok, D - lam, 1.0)
        r = np.where(ok, gap / np.where(ok, D, 1.0), 1.0)  # 1/A
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.clip(B / (B + (1.0 - B) * r), 0.0, 1.0)
        pw = np.where(ok, c, pw)
        ans_in = np.where(ok, 1.0 - c * np.exp(-gap * T), ans_in)
        wait_sum = np.where(ok, c / gap, wait_sum)
        pw = np.where(bad, 1.0, pw)
        ans_in = np.where(bad, 0.0, ans_in)
        wait_sum = np.where(bad, np.inf, wait_sum)
        stable = np.where(bad, False, stable)

    # -- exponential patience (Erlang A and its relatives) ---------------------------------------------
    m = busy & (theta > 0)
    nos = m & (D <= 0)  # nobody serves: everybody abandons
    if nos.any():
        pw = np.where(nos, 1.0, pw)
        ans_in = np.where(nos, 0.0, ans_in)
        p_ab = np.where(nos, 1.0, p_ab)
        p_ab_in = np.where(nos, 1.0 - np.exp(-theta * T), p_ab_in)
        wait_sum = np.where(nos, 0.0, wait_sum)
    m &= D > 0
    if m.any():
        idx = np.flatnonzero(m)
        x = (D / np.where(m, theta, 1.0)).ravel()[idx]
        y = (lam / np.where(m, theta, 1.0)).ravel()[idx]
        th = theta.ravel()[idx]
        Tm = T.ravel()[idx]
        Bm = B.ravel()[idx]
        z = y * np.exp(-th * Tm)
        px = special.gammainc(x, y)
        reg = (px > 1e-200) & (y >= 0.5 * (x + 1.0))
        ez = np.exp(-th * Tm)  # z / y
        log_a = np.zeros(x.shape)  # ln A
        ab_ratio = np.zeros(x.shape)  # P(abandon) / P(wait) = 1 - (x / y) P(x+1, y) / P(x, y)
        served_y = np.zeros(x.shape)  # (x / y) P(x+1, y) / P(x, y): answered after a wait, / P(wait)
        served_z = np.zeros(x.shape)  # (x / y) P(x+1, z) / P(x, y)
        q_z = np.zeros(x.shape)  # P(x, z) / P(x, y)
        if reg.any():
            # y not small against x: ln A = ln P(x, y) - ln Poisson(x; y) (Loader's form, continuous x),
            # and P(x+1, y) / P(x, y) = 1 - 1/A exactly
            xr, yr, zr, pr = x[reg], y[reg], z[reg], px[reg]
            log_a[reg] = np.log(pr) - _poisson_logpmf(xr, yr)
            r = np.exp(-log_a[reg])
            served_y[reg] = (xr / yr) * (1.0 - r)
            ab_ratio[reg] = (yr - xr) / yr + (xr / yr) * r
            q_z[reg] = special.gammainc(xr, zr) / pr
            served_z[reg] = (xr / yr) * special.gammainc(xr + 1.0, zr) / pr
        ser = ~reg  # y well below x: the series converge fast
        if ser.any():
            xs, ys, zs, es = x[ser], y[ser], z[ser], ez[ser]
            s0y, s1y, uy = _series(xs, ys)
            s0z, s1z, _ = _series(xs, zs)
            # K P(x, w) / A = e^{y-w} (w/y)^x S0(w) / S0(y),
            # K P(x+1, w) / A = e^{y-w} (w/y)^x (S0(w) - 1) / S0(y)
            with np.errstate(divide="ignore", under="ignore"):
                f = np.exp((ys - zs) + xs * np.log(es))
            log_a[ser] = np.log(s0y)
            served_y[ser] = xs * s1y / s0y
            ab_ratio[ser] = uy / s0y
            q_z[ser] = f * s0z / s0y
            served_z[ser] = xs * f * es * s1z / s0y
        r = np.exp(-log_a)  # 1/A in (0, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            pwm = np.clip(Bm / (Bm + (1.0 - Bm) * r), 0.0, 1.0)
        served_in = pwm * np.clip(served_y - served_z, 0.0, None)
        ab = np.clip(pwm * ab_ratio, 0.0, 1.0)
        # abandoned within T: (P(wait) / y) [(y - x q1(y)) - (z q(z) - x q1(z))]
        ab_in = np.clip(pwm * (ab_ratio - ez * q_z + served_z), 0.0, ab)
        ws = pwm * _served_wait(x, y, th, log_a, reg) if want_wait else np.zeros(x.shape)
        flat = [a.ravel() for a in (pw, ans_in, p_ab, p_ab_in, wait_sum)]
        for arr, val in zip(flat, (pwm, 1.0 - pwm + served_in, ab, ab_in, ws)):
            arr[idx] = val
        pw, ans_in, p_ab, p_ab_in, wait_sum = (a.reshape(shape) for a in flat)
    return (
        np.clip(pw, 0.0, 1.0),
        np.clip(ans_in, 0.0, 1.0),
        np.clip(p_ab, 0.0, 1.0),
        np.clip(p_ab_in, 0.0, 1.0),
        wait_sum,
        stable,
    )


def _served_wait(x, y, theta, log_a, regular, budget: int = 2_000_000):
    """E[V e^{-theta V}; V > 0] / P(wait) = E[wait; answered] / P(wait).

    Summed over the number j waiting ahead: sum_j (w_j / A) x (psi(x+j+2) - psi(x+1)) / (theta (x+j+1)),
    w_j = y^j Gamma(x+1) / Gamma(x+j+1), up to where the weights vanish (about 8.6 sd past their mode), when
    that takes at most 400 terms. Otherwise (many waiting: y large, x not far above y) from the derivative of
    the Laplace transform of V, L(s) = pi_c x Gamma(x+s) e^y y^-(x+s) P(x+s, y) in s = (Laplace variable) /
    theta: E[V e^{-theta V}] = -(L(1) / theta) [psi(x+1) - ln y + d/da ln P(a, y) at a = x+1], the last
    term by a central difference (only where P(x, y) is a normal number, ``regular``; elsewhere y is far
    below x and the sum converges geometrically)."""
    out = np.zeros(x.shape)
    jmax = np.ceil(np.maximum(y - x, 0.0) + 8.6 * np.sqrt(y) + 40.0)
    with np.errstate(divide="ignore", over="ignore"):
        geo = np.where(x + 1.0 > y, 37.0 / np.log((x + 1.0) / y) + 20.0, np.inf)
    jmax = np.minimum(jmax, np.ceil(geo)).astype(np.int64)
    short = (jmax <= 400) | ~regular
    if short.any():
        idx = np.flatnonzero(short)
        idx = idx[np.argsort(jmax[idx], kind="stable")]
        i = 0
        while i < idx.size:
            size = max(1, budget // (int(jmax[idx[min(idx.size - 1, i)]]) + 1))
            sel = idx[i : i + size]
            i += sel.size
            jm = int(jmax[sel].max())
            j1 = np.arange(1, jm + 2, dtype=float)[None, :]  # 1..jm+1
            xs, ys = x[sel][:, None], y[sel][:, None]
            # ln w_j = sum_{i<=j} ln(y / (x+i)) and psi(x+j+2) - psi(x+1) = sum_{i<=j+1} 1 / (x+i), as running
            # sums of small terms (differences of ln Gamma or psi at large x would cancel)
            steps = np.log(ys) - np.log(xs + j1)
            logw = np.concatenate([np.zeros((len(sel), 1)), np.cumsum(steps[:, :-1], axis=1)], axis=1)
            with np.errstate(under="ignore"):
                w = np.exp(logw - log_a[sel][:, None])
            harm = np.cumsum(1.0 / (xs + j1), axis=1)
            term = w * xs * harm / (xs + j1)
            out[sel] = term.sum(axis=1) / theta[sel]
    long_ = ~short
    if long_.any():
        xl, yl, tl = x[long_], y[long_], theta[long_]
        a1 = xl + 1.0
        h = 1e-3 * np.sqrt(a1)
        with np.errstate(divide="ignore"):
            dlogp = (np.log(special.gammainc(a1 + h, yl)) - np.log(special.gammainc(a1 - h, yl))) / (2.0 * h)
            # L(1) / P(wait) = (x / y) P(x+1, y) / P(x, y)
            l1 = (xl / yl) * special.gammainc(a1, yl) / special.gammainc(xl, yl)
        bracket = special.digamma(a1) - np.log(yl) + dlogp
        out[long_] = np.maximum(-l1 * bracket / tl, 0.0)
    return out


def _metrics(lam, B, D, theta, T, sl_definition, carried_per_server, want_asa=True) -> QueueMetrics:
    """``want_asa=False`` (internal, for searches without an ASA target) skips the ASA series of the
    abandonment models and leaves ``asa`` 0 there."""
    pw, ans_in, p_ab, p_ab_in, wsum, stable = _queue(lam, B, D, theta, T, want_asa)
    answered = 1.0 - p_ab
    with np.errstate(divide="ignore", invalid="ignore"):
        asa = np.where(answered > 0, wsum / np.where(answered > 0, answered, 1.0), np.inf)
        sl_ans = np.where(answered > 0, ans_in / np.where(answered > 0, answered, 1.0), 0.0)
        short = 1.0 - p_ab_in
        sl_short = np.where(short > 0, ans_in / np.where(short > 0, short, 1.0), 0.0)
    asa = np.where(stable, asa, np.inf)
    sl_ans = np.where(stable, np.clip(sl_ans, 0.0, 1.0), 0.0)
    sl_short = np.clip(sl_short, 0.0, 1.0)
    d = SLDefinition(sl_definition)
    sl = {SLDefinition.OFFERED: ans_in, SLDefinition.ANSWERED: sl_ans}.get(d, sl_short)
    occ = carried_per_server(answered, pw)
    return QueueMetrics(
        _out(pw),
        _out(sl),
        _out(sl_ans),
        _out(asa),
        _out(p_ab),
        _out(p_ab_in),
        _out(occ),
        _out(stable),
        str(d),
    )


def _check(name, **arrays):
    for key, v in arrays.items():
        if np.any(np.isnan(v)):
            raise ValueError(f"{name}: {key} is NaN")
        if key in ("arrival_rate", "aht", "agents") and not np.all(np.isfinite(v)):
            raise ValueError(f"{name}: {key} must be finite")
    if np.any(arrays["arrival_rate"] < 0):
        raise ValueError(f"{name}: arrival_rate must be >= 0")
    if np.any(arrays["aht"] <= 0):
        raise ValueError(f"{name}: aht must be > 0")
    if np.any(arrays["threshold"] < 0):
        raise ValueError(f"{name}: threshold must be >= 0")
    n = arrays["agents"]
    if np.any(n < 0) or not np.all(n == np.floor(n)):
        raise ValueError(f"{name}: agents must be whole numbers >= 0")
    if "patience" in arrays and np.any(arrays["patience"] <= 0):
        raise ValueError(f"{name}: patience must be > 0 (inf = nobody abandons)")


def erlang_c(arrival_rate, aht, agents, threshold=20.0, *, sl_definition="offered") -> QueueMetrics:
    """FCFS M/M/n (Erlang C): P(wait), service level within ``threshold`` s, ASA, occupancy (broadcast).

    Nobody abandons, so the three service-level definitions give the same number."""
    lam, s, n, t = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (arrival_rate, aht, agents, threshold))
    )
    _check("erlang_c", arrival_rate=lam, aht=s, agents=n, threshold=t)
    a = lam * s
    B = _erlang_b(a, n.astype(np.int64))
    return _metrics(lam, B, n / s, 0.0, t, sl_definition, lambda ans, _pw: _occ(a * ans, n, a))


def erlang_a(
    arrival_rate, aht, patience, agents, threshold=20.0, *, sl_definition="offered", _asa=True
) -> QueueMetrics:
    """FCFS M/M/n+M (Erlang A, Palm 1943): exponential patience with mean ``patience`` s (inf: Erlang C).

    Exact, from the birth-death chain (module docstring; the formulas of Mandelbaum and Zeltyn).
    ``service_level`` counts contacts answered within ``threshold`` s by ``sl_definition``; ``p_abandon``
    and ``p_abandon_within`` (abandoned with a wait <= threshold) are fractions of all arrivals."""
    lam, s, p, n, t = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (arrival_rate, aht, patience, agents, threshold))
    )
    _check("erlang_a", arrival_rate=lam, aht=s, agents=n, threshold=t, patience=p)
    a = lam * s
    B = _erlang_b(a, n.astype(np.int64))
    theta = np.where(np.isfinite(p), 1.0 / p, 0.0)
    return _metrics(lam, B, n / s, theta, t, sl_definition, lambda ans, _pw: _occ(a * ans, n, a), _asa)


def _occ(carried, servers, offered):
    """carried load / servers; with no servers and work offered, 1 (a cap on occupancy is never met by
    having nobody, so occupancy never rises with n)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            servers > 0,
            np.clip(carried / np.where(servers > 0, servers, 1.0), 0.0, 1.0),
            np.where(offered > 0, 1.0, 0.0),
        )


def chat_metrics(
    arrival_rate,
    aht,
    agents,
    concurrency,
    threshold=20.0,
    *,
    patience=np.inf,
    slowdown=0.0,
    sl_definition="offered",
    _asa=True,
) -> QueueMetrics:
    """Chat: each agent holds up to ``concurrency`` (m) chats at once.

    ``aht`` is the handle time of a chat handled alone; with k chats open an agent's chats each take
    ``aht x (1 + slowdown x (k - 1))`` on average. New chats go to the agent with the fewest open chats, so
    with N chats in service they are spread evenly (N // n or N // n + 1 each) and the total service rate is
    that of the spread; once all n m slots are busy the queue behaves as Erlang C (or A with ``patience``).
    With ``slowdown=0`` this is exactly Erlang C / A with n m servers. ``occupancy`` = mean share of slots
    in use."""
    lam, s, n, m, t, p, f = np.broadcast_arrays(
        *(
            np.asarray(v, dtype=float)
            for v in (arrival_rate, aht, agents, concurrency, threshold, patience, slowdown)
        )
    )
    _check("chat_metrics", arrival_rate=lam, aht=s, agents=n, threshold=t, patience=p)
    if np.any(m < 1) or not np.all(m == np.floor(m)):
        raise ValueError("chat_metrics: concurrency must be a whole number >= 1")
    if np.any(f < 0):
        raise ValueError("chat_metrics: slowdown must be >= 0")
    theta = np.where(np.isfinite(p), 1.0 / p, 0.0)
    c = (n * m).astype(np.int64)
    if not np.any(f > 0):
        a = lam * s
        B = _erlang_b(a, c)
        return _metrics(lam, B, c / s, theta, t, sl_definition, lambda ans, _pw: _occ(a * ans, c, a), _asa)
    # state-dependent rates: rate(k) with k chats in service, spread evenly over n agents
    B, D, mean_low = _chat_chain(lam, s, n, m, f)

    def occupancy(ans, pw):
        # slots in use: E[k | N < c] below full, all c when full (P(N >= c) = P(wait))
        occ = ((1.0 - pw) * mean_low + pw * c) / np.where(c > 0, c, 1.0)
        return np.clip(np.where(c > 0, occ, np.where(lam > 0, 1.0, 0.0)), 0.0, 1.0)

    return _metrics(lam, B, D, theta, t, sl_definition, occupancy, _asa)


def _chat_rate(k, n, s, f):
    """Total service rate with k chats in service over n agents (evenly spread)."""
    q = np.floor(k / np.where(n > 0, n, 1.0))
    r = k - q * n

    def per_agent(j):
        return j / (s * (1.0 + f * np.maximum(j - 1.0, 0.0)))

    return r * per_agent(q + 1.0) + (n - r) * per_agent(q)


def _chat_chain(lam, s, n, m, f, budget: int = 4_000_000):
    """The loss part (states 0..c = n m) of the chat chain, in log space: generalised Erlang B
    pi_c / sum_{k<=c} pi_k, the full-slots service rate D, and E[k | k < c]. Vectorised over the states
    (ln pi_k = sum_{i<=k} ln(lambda / rate(i))) in batches of elements that fit ``budget`` numbers."""
    c = (n * m).astype(np.int64)
    lam_f, s_f, n_f, f_f, c_f = (np.broadcast_to(v, lam.shape).ravel() for v in (lam, s, n, f, c))
    B = np.ones(lam_f.shape)
    mean_low = np.zeros(lam_f.shape)
    order = np.argsort(c_f, kind="stable")
    i = 0
    while i < order.size:
        width = int(c_f[order[i]]) + 1
        size = max(1, budget // max(width, 1))
        sel = order[i : i + size]
        # extend the batch only while its widest element fits the budget
        cmax = int(c_f[sel].max())
        while sel.size > 1 and sel.size * (cmax + 1) > budget:
            sel = sel[: sel.size // 2]
            cmax = int(c_f[sel].max())
        i += sel.size
        if cmax == 0:
            B[sel] = 1.0
            continue
        k = np.arange(1, cmax + 1, dtype=float)[None, :]
        ls, ns, fs, cs = lam_f[sel][:, None], n_f[sel][:, None], f_f[sel][:, None], c_f[sel][:, None]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            steps = np.log(ls) - np.log(_chat_rate(k, ns, s_f[sel][:, None], fs))
            inside = k <= cs
            logpi = np.concatenate(
                [np.zeros((sel.size, 1)), np.cumsum(np.where(inside, steps, 0.0), axis=1)], axis=1
            )
            kk = np.arange(cmax + 1)[None, :]
            logpi = np.where(kk <= cs, logpi, -np.inf)
            log_all = special.logsumexp(logpi, axis=1)
            low = np.where(kk < cs, logpi, -np.inf)
            log_low = special.logsumexp(low, axis=1)
            log_klow = special.logsumexp(np.where(kk > 0, low + np.log(np.maximum(kk, 1)), -np.inf), axis=1)
            log_c = np.take_along_axis(logpi, cs, axis=1)[:, 0]
            b = np.exp(log_c - log_all)
            b = np.where(lam_f[sel] > 0, b, 0.0)
            ml = np.where(np.isfinite(log_klow), np.exp(log_klow - log_low), 0.0)
        B[sel] = np.where(c_f[sel] > 0, b, 1.0)
        mean_low[sel] = np.where(c_f[sel] > 0, ml, 0.0)
    D = _chat_rate(c.astype(float), n, s, f)
    return B.reshape(lam.shape), D, mean_low.reshape(lam.shape)


def sojourn_cdf(arrival_rate, aht, agents, t) -> np.ndarray | float:
    """P(wait + service <= t) in FCFS M/M/c (exponential service with mean ``aht``): the response time of
    deferred work answered in arrival order. With C = Erlang C, gamma = c/aht - lambda, mu = 1/aht:
    P(S > t) = (1 - C) e^{-mu t} + C (gamma e^{-mu t} - mu e^{-gamma t}) / (gamma - mu) (gamma != mu),
    C (1 + mu t) e^{-mu t} when gamma = mu. Overloaded systems give 0."""
    lam, s, n, tt = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (arrival_rate, aht, agents, t)))
    _check("sojourn_cdf", arrival_rate=lam, aht=s, agents=n, threshold=np.maximum(tt, 0.0))
    mc = erlang_c(lam, s, n, 0.0)
    c = np.asarray(mc.p_wait, dtype=float)
    mu = 1.0 / s
    g = n * mu - lam
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        close = np.abs(g - mu) <= 1e-9 * mu
        gd = np.where(close, 1.0, g - mu)
        tail_w = np.where(
            close, (1.0 + mu * tt) * np.exp(-mu * tt), (g * np.exp(-mu * tt) - mu * np.exp(-g * tt)) / gd
        )
        surv = (1.0 - c) * np.exp(-mu * tt) + c * tail_w
    cdf = np.where(np.asarray(mc.stable), 1.0 - surv, 0.0)
    cdf = np.where(tt < 0, 0.0, np.clip(cdf, 0.0, 1.0))
    return _out(cdf)
