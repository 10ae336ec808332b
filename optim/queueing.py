"""Queueing formulas: Erlang B and Erlang C, and the fewest agents meeting a target. Vectorised.

Units: arrival rates per second, times in seconds, loads in Erlangs (arrival rate x mean handle time).

- Erlang B by the stable recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)) (e.g. Cooper, *Introduction to
  Queueing Theory*, 1981, eq. 3.4.14); every term lies in [0, 1], so it is exact and finite for any number of
  servers and any load, fractional loads included.
- Erlang C from Erlang B: C(n, a) = n B / (n - a (1 - B)) for n > a (Cooper, eq. 5.2.6); the service level of
  FCFS M/M/n is P(W <= T) = 1 - C exp(-(n - a) T / AHT), the mean wait ASA = C AHT / (n - a).
  An overloaded system (n <= a) gives ``stable=False``, service level 0 and infinite ASA: no exception,
  no NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario import SLDefinition

__all__ = ["QueueMetrics", "erlang_b", "erlang_c", "agents_for"]


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state figures of a queue (arrays broadcast from the inputs).

    ``p_wait``: an arrival waits at all; ``service_level``: fraction of all arrivals answered within the
    threshold; ``sl_of_answered``: answered within threshold / answered; ``asa``: mean wait of answered
    contacts (s); ``p_abandon``: 0 for Erlang C; ``occupancy``: busy fraction of the agents; ``stable``.
    """

    p_wait: np.ndarray
    service_level: np.ndarray
    sl_of_answered: np.ndarray
    asa: np.ndarray
    p_abandon: np.ndarray
    occupancy: np.ndarray
    stable: np.ndarray


def erlang_b(load, servers) -> np.ndarray | float:
    """Blocking probability of M/M/n/n with offered ``load`` (Erlangs) and ``servers`` (broadcast)."""
    a, n = np.broadcast_arrays(np.asarray(load, dtype=float), np.asarray(servers))
    if np.any(a < 0) or np.any(n < 0):
        raise ValueError("erlang_b: load and servers must be >= 0")
    if not np.all(n == np.floor(n)):
        raise ValueError("erlang_b: servers must be whole numbers")
    n = n.astype(np.int64)
    b = np.ones(a.shape)
    nmax = int(n.max(initial=0))
    for k in range(1, nmax + 1):
        upd = k <= n
        ab = a * b
        with np.errstate(invalid="ignore", divide="ignore"):
            nb = np.where(ab + k > 0, ab / (k + ab), 0.0)
        b = np.where(upd, nb, b)
    return float(b) if b.ndim == 0 else b


def erlang_c(arrival_rate, aht, agents, threshold=20.0) -> QueueMetrics:
    """FCFS M/M/n: P(wait), service level within ``threshold`` seconds, ASA, occupancy (broadcast)."""
    lam, s, n, t = np.broadcast_arrays(
        np.asarray(arrival_rate, dtype=float),
        np.asarray(aht, dtype=float),
        np.asarray(agents),
        np.asarray(threshold, dtype=float),
    )
    if np.any(lam < 0) or np.any(s <= 0) or np.any(n < 0) or np.any(t < 0):
        raise ValueError("erlang_c: arrival_rate >= 0, aht > 0, agents >= 0 and threshold >= 0 expected")
    a = lam * s
    n = n.astype(np.int64)
    stable = n > a
    b = np.asarray(erlang_b(a, n))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        c = np.where(stable, n * b / np.where(stable, n - a * (1 - b), 1.0), 1.0)
        c = np.clip(c, 0.0, 1.0)
        gap = np.where(stable, n - a, 1.0)
        sl = np.where(stable, 1.0 - c * np.exp(-gap * t / s), 0.0)
        asa = np.where(stable, c * s / gap, np.inf)
        occ = np.where(n > 0, np.minimum(a / np.where(n > 0, n, 1), 1.0), np.where(a > 0, 1.0, 0.0))
    sl = np.where(lam == 0, 1.0, np.clip(sl, 0.0, 1.0))
    asa = np.where(lam == 0, 0.0, asa)
    c = np.where(lam == 0, 0.0, c)
    zero = np.zeros(a.shape)
    return QueueMetrics(c, sl, sl.copy(), asa, zero, occ, stable | (lam == 0))


def agents_for(
    arrival_rate,
    aht,
    *,
    threshold=20.0,
    service_level=None,
    max_asa=None,
    max_occupancy=None,
    sl_definition: SLDefinition | str = SLDefinition.OFFERED,
    max_agents: int = 100_000,
) -> np.ndarray | int:
    """Fewest agents meeting every given target under Erlang C (broadcast over the inputs).

    Starts at the smallest stable n (the first n > load; 0 agents for zero arrivals) and steps up one at a
    time with the Erlang B recursion carried along, so no n is skipped. Under Erlang C nobody abandons, so the
    three service-level definitions coincide; the argument is accepted for a uniform interface.
    """
    SLDefinition(sl_definition)
    lam, s, t = np.broadcast_arrays(
        np.asarray(arrival_rate, dtype=float),
        np.asarray(aht, dtype=float),
        np.asarray(threshold, dtype=float),
    )
    if service_level is not None and not 0 < service_level < 1:
        raise ValueError("agents_for: service_level must lie in (0, 1)")
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise ValueError("agents_for: max_occupancy must lie in (0, 1]")
    a = lam * s
    n = np.floor(a).astype(np.int64) + 1
    n = np.where(lam > 0, n, 0)
    if max_occupancy is not None:
        n = np.maximum(n, np.ceil(a / max_occupancy - 1e-12).astype(np.int64))
    # Erlang B at the starting n, then B(n+1) = a B(n) / (n + 1 + a B(n))
    b = np.asarray(erlang_b(a, n), dtype=float)
    todo = lam > 0
    while True:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            denom = np.where(todo, n - a * (1 - b), 1.0)
            c = np.clip(np.where(todo, n * b / denom, 0.0), 0.0, 1.0)
            gap = np.where(todo, n - a, 1.0)
            ok = np.ones(a.shape, bool)
            if service_level is not None:
                ok &= 1.0 - c * np.exp(-gap * t / s) >= service_level - 1e-12
            if max_asa is not None:
                ok &= c * s / gap <= max_asa + 1e-12
        todo = todo & ~ok
        if not todo.any():
            break
        if np.any(n[todo] >= max_agents):
            raise ValueError(f"agents_for: more than {max_agents} agents needed")
        ab = a * b
        b = np.where(todo, ab / (n + 1 + ab), b)
        n = np.where(todo, n + 1, n)
    return int(n) if n.ndim == 0 else n
