"""Benchmark: queueing speed.

Prints (1) the time of the requirements of a week of 672 quarter hours x 3 channels (voice by Erlang C and
by Erlang A, chat on 3 slots, loads up to 5,000 Erlangs; email by the backlog rule) against a baseline in
the same process: the straightforward search that starts at the first stable n and steps up one agent at a
time (with the Erlang B recursion carried along); (2) ``erlang_b`` at 20,000 agents against the classical
recursion B(k) = a B(k-1) / (k + a B(k-1)) run over all k; (3) the same requirement under forecast
uncertainty (gamma rate multiplier, shape 20). Run: ``python -m experiments.benchmarks.queueing_speed``.
"""

from __future__ import annotations

import time

import numpy as np


def _timed(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _baseline_agents(lam, aht, threshold, target):
    """Linear search from the first stable n, one agent at a time (the baseline)."""
    a = lam * aht
    n = np.floor(a).astype(np.int64) + 1
    b = np.ones(a.shape)
    for k in range(1, int(n.max()) + 1):  # Erlang B at the starting n by the recursion
        upd = k <= n
        b = np.where(upd, a * b / (k + a * b), b)
    todo = lam > 0
    n = np.where(todo, n, 0)
    while todo.any():
        with np.errstate(invalid="ignore", divide="ignore"):
            c = n * b / (n - a * (1 - b))
            sl = 1 - c * np.exp(-(n - a) * threshold / aht)
        todo &= ~(sl >= target)
        b = np.where(todo, a * b / (n + 1 + a * b), b)
        n = np.where(todo, n + 1, n)
    return n


def _recursion_b(a, n):
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def main() -> None:
    from optim.queueing import agents_for, deferred_agents, erlang_b

    rng = np.random.default_rng(0)
    T, dt = 672, 900.0
    day = np.sin(np.linspace(0, np.pi, 64)) ** 2
    shape = np.tile(np.concatenate([np.zeros(24), day, np.zeros(8)]), 7)
    voice = 5000.0 / 300 * shape * rng.uniform(0.8, 1.2, T)  # arrivals per second, up to 5,000 Erlangs
    chat = 0.3 * voice
    email = voice * dt * 0.05

    def ours(patience=None, rate_shape=None):
        v = agents_for(voice, 300.0, service_level=0.8, patience=patience, rate_shape=rate_shape)
        c = agents_for(
            chat,
            600.0,
            threshold=60.0,
            service_level=0.8,
            concurrency=3,
            patience=patience,
            rate_shape=rate_shape,
        )
        e = deferred_agents(email, 400.0, dt, 8 * 3600.0, target=0.9, open_mask=shape > 0)
        return v, c, e

    t_c, (v, c, _) = _timed(lambda: ours())
    t_a, _ = _timed(lambda: ours(patience=180.0))
    t_base, vb = _timed(lambda: _baseline_agents(voice, 300.0, 20.0, 0.8), repeat=1)
    assert np.array_equal(vb, v), "baseline and agents_for disagree"
    print(f"requirements 672 x 3 (loads up to {voice.max() * 300:,.0f} Erlangs):")
    print(f"  Erlang C voice + chat + email backlog: {t_c * 1e3:8.1f} ms")
    print(f"  Erlang A voice + chat + email backlog: {t_a * 1e3:8.1f} ms")
    print(f"  baseline linear search, voice only:    {t_base * 1e3:8.1f} ms", end="")
    print(f"  ({t_base / t_c:.0f}x the whole Erlang C set)")
    t_s, _ = _timed(
        lambda: agents_for(chat, 600.0, threshold=60.0, service_level=0.8, concurrency=3, slowdown=0.15),
        repeat=1,
    )
    print(f"  chat with slowdown 0.15 (up to {chat.max() * 600:,.0f} Erlangs of chats): {t_s:.2f} s")
    t_u, _ = _timed(lambda: ours(rate_shape=20.0), repeat=1)
    t_ua, _ = _timed(lambda: ours(patience=180.0, rate_shape=20.0), repeat=1)
    print(f"  with forecast uncertainty (shape 20): Erlang C {t_u:.2f} s, Erlang A {t_ua:.2f} s")

    for load in (15000.0, 19900.0):
        t_b, b = _timed(lambda load=load: erlang_b(load, 20000), repeat=5)
        t_r, br = _timed(lambda load=load: _recursion_b(load, 20000), repeat=1)
        print(f"erlang_b({load:,.0f} Erlangs, 20,000 agents) = {b:.10e} (recursion {br:.10e}):")
        print(f"  wfmlab {t_b * 1e6:8.1f} us   recursion {t_r * 1e6:8.1f} us   ({t_r / t_b:.0f}x)")
    loads = rng.uniform(1, 15000, 2016)
    servers = rng.integers(1, 20001, 2016)
    t_v, _ = _timed(lambda: erlang_b(loads, servers))
    print(f"  2,016 random (load <= 15,000, agents <= 20,000) in one call: {t_v * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
