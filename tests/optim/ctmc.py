"""Independent reference solution of M/M/n (Erlang C) and M/M/n+M (Erlang A) by brute-force Markov chains.

Nothing here imports the package under test.  The stationary distribution is that of the birth-death
chain "number in system" (birth rate lam, death rate min(k, n) mu + (k - n)^+ theta), truncated where the
remaining tail mass is provably below 1e-16.  The wait of a tagged arrival is obtained by PASTA: the arrival
sees k customers with probability pi_k; if k >= n it joins the queue with i = k - n customers ahead of it and
the absorbing CTMC "customers ahead of the tagged one" is solved:

    state i (i >= 0 ahead):   i -> i - 1     at rate n mu + i theta   (a server frees up / one ahead abandons)
                              0 -> SERVED    at rate n mu
                              i -> ABANDON   at rate theta            (the tagged customer's own patience)

Customers behind the tagged one are irrelevant under FCFS.  Transient probabilities come from the matrix
exponential (scipy.linalg.expm) of the generator, absorption probabilities and E[tau; served] from linear
solves with the transient block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg

TAIL_TOL = 1e-16


@dataclass(frozen=True)
class Reference:
    p_wait: float  # P(arrival finds all n agents busy)
    p_served_within: float  # P(served and wait <= T), over all arrivals
    p_abandon: float  # P(abandon), over all arrivals
    p_abandon_within: float  # P(abandon and wait <= T)
    mean_wait_served: float  # E[wait | served]
    occupancy: float  # E[min(N, n)] / n
    tail_bound: float  # bound on the stationary mass beyond the truncation point
    levels: int  # truncation level K (states 0..K)

    @property
    def p_served(self) -> float:
        return 1.0 - self.p_abandon

    def service_level(self, definition: str = "offered") -> float:
        if definition == "offered":
            return self.p_served_within
        if definition == "offered_minus_short_abandons":
            return self.p_served_within / (1.0 - self.p_abandon_within)
        if definition == "answered":
            return self.p_served_within / self.p_served
        raise ValueError(definition)


def stationary(lam: float, mu: float, theta: float, n: int) -> tuple[np.ndarray, float]:
    """Stationary distribution of the truncated birth-death chain and a bound on the neglected tail.

    Built in log space (no overflow for large loads).  Truncation at K once the death rate exceeds lam
    (so the ratio r_k = lam / death(k + 1) is < 1 and non-increasing from there on) and
    pi_K * r / (1 - r) < TAIL_TOL * sum(pi), which bounds the whole tail by a geometric series.
    """
    if theta == 0.0 and lam >= n * mu:
        raise ValueError("unstable M/M/n")

    def death(k: int) -> float:
        return min(k, n) * mu + max(k - n, 0) * theta

    logp = [0.0]
    k = 0
    while True:
        k += 1
        logp.append(logp[-1] + math.log(lam) - math.log(death(k)))
        r = lam / death(k + 1)
        if r < 1.0 and k > n:
            m = max(logp)
            log_total = m + math.log(math.fsum(math.exp(v - m) for v in logp))
            tail = math.exp(logp[-1] - log_total) * r / (1.0 - r)
            if tail < TAIL_TOL:
                break
        if k > 200_000:
            raise RuntimeError("truncation did not converge")
    lp = np.array(logp)
    p = np.exp(lp - lp.max())
    return p / math.fsum(p), tail


def _transient_generator(n: int, mu: float, theta: float, m: int) -> np.ndarray:
    """Generator on {0..m-1 ahead} + SERVED (index m) + ABANDON (index m + 1)."""
    q = np.zeros((m + 2, m + 2))
    for i in range(m):
        down = n * mu + i * theta
        if i == 0:
            q[0, m] = down
        else:
            q[i, i - 1] = down
        q[i, m + 1] = theta
        q[i, i] = -(down + theta)
    return q


def solve(lam: float, aht: float, n: int, threshold: float, patience: float | None = None) -> Reference:
    """Exact M/M/n (patience None) or M/M/n+M reference metrics, computed from the chains above."""
    mu = 1.0 / aht
    theta = 0.0 if patience is None else 1.0 / patience
    pi, tail = stationary(lam, mu, theta, n)
    K = len(pi) - 1
    busy = np.minimum(np.arange(K + 1), n)
    occupancy = float(pi @ busy) / n
    p_wait = float(pi[n:].sum())
    start = pi[n:]  # arrival finds n + i in system -> i customers ahead in the queue
    m = len(start)
    q = _transient_generator(n, mu, theta, m)
    qt = q[:m, :m]
    # eventual absorption probabilities u_served, u_abandon from each transient state
    absorb = np.linalg.solve(-qt, q[:m, m:])
    u_served = absorb[:, 0]
    # E[tau 1{served} | start i] = [(-Q_T)^{-1} u_served]_i
    h = np.linalg.solve(-qt, u_served)
    p_abandon = float(start @ absorb[:, 1])
    e_wait_served = float(start @ h)  # wait 0 for those served at once
    if threshold > 0:
        probs = start @ scipy.linalg.expm(q * threshold)[:m, :]
        served_by_t, abandon_by_t = float(probs[m]), float(probs[m + 1])
    else:
        served_by_t = abandon_by_t = 0.0
    p_served = 1.0 - p_abandon
    return Reference(
        p_wait=p_wait,
        p_served_within=float(pi[:n].sum()) + served_by_t,
        p_abandon=p_abandon,
        p_abandon_within=abandon_by_t,
        mean_wait_served=e_wait_served / p_served,
        occupancy=occupancy,
        tail_bound=tail,
        levels=K,
    )
