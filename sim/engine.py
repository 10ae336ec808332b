"""The SimPy engine: one replication of a multichannel contact centre.

The engine runs on a :class:`simpy.Environment`. Customers arrive by a non-homogeneous Poisson process,
piecewise constant per interval, with the Forecast's gamma rate multipliers (one per channel and local day
with shape ``shape_day``, one per channel and interval with shape ``shape_interval``). Each contact's handle
time (lognormal, mean = the interval's ``aht_s``, CV = the channel's ``aht_cv``) and patience (exponential,
mean ``patience_s``) are drawn when it arrives, from purpose streams keyed by (replication, purpose,
channel name), never by staffing: two staffings see the same customers (common random numbers).

Routing: an arriving contact goes to an available agent of the skill groups serving its channel (groups where
the channel has the higher priority first); voice and email take an agent whole, a chat takes one of the
agent's ``concurrency`` slots and goes to the eligible agent with the fewest open chats. Where one group
serves chat channels of different concurrency, an agent's load is the sum of 1 / concurrency over its open
chats and a chat is taken only when it keeps the load at most 1 (two chats of a channel with concurrency 2
fill an agent for a channel with concurrency 3 as well). A freed agent takes the waiting contact of highest
priority in its group's channel list (FIFO within a channel); service is non-preemptive. Voice callers
abandon when their patience runs out before service starts.

Shifts and breaks: an agent logs on at shift start. When a break is due, the agent takes no new contact,
finishes the contacts in hand, then takes the break for its full scheduled length (so a delayed break
ends late; a break that would start after the shift end is dropped). At shift end the agent likewise
finishes the contacts in hand, then logs off. Absence (shrinkage): each agent-shift is absent, whole, with
probability ``shrinkage``, drawn from the absence stream; or, with ``absence="interval"``, each interval of
each shift on its own (an absent stretch is taken like a break: after the contact in hand).
"""

from __future__ import annotations

import math
import zlib
from collections import deque
from dataclasses import dataclass

import numpy as np
import simpy

__all__ = ["SimModel", "run_replication", "stream"]

VOICE, CHAT, EMAIL = 0, 1, 2
ARRIVALS, HANDLE, PATIENCE, ABSENCE, MULTIPLIERS, BALK, INITIAL = 1, 2, 3, 4, 5, 6, 7


def stable_key(name: str) -> int:
    """A key for a name that is stable across runs and machines (CRC-32)."""
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, rep: int, purpose: int, key: int = 0) -> np.random.Generator:
    """The random stream for one purpose of one replication (keyed, never by staffing)."""
    return np.random.default_rng(
        np.random.SeedSequence(entropy=int(seed), spawn_key=(int(rep), purpose, key))
    )


@dataclass(frozen=True)
class SimModel:
    """Everything one replication needs, as plain arrays (picklable for worker processes).

    Per channel c: ``kind[c]``, ``volume[c, t]`` expected arrivals, ``aht[c, t]`` mean handle time (s),
    ``aht_cv[c]``, ``aht_exponential[c]`` (exponential instead of lognormal), ``patience[c]`` mean (s,
    inf = none), ``concurrency[c]``, ``within_s[c]`` (threshold or
    email deadline), ``shape_day[c]``, ``shape_interval[c]``, ``key[c]`` (stream key). Per skill group g:
    ``priorities[g]`` (channel indices, highest first). Shifts: tuples (group, start_s, end_s, breaks).
    """

    interval_s: float
    n_intervals: int
    day_index: np.ndarray
    kind: np.ndarray
    volume: np.ndarray
    aht: np.ndarray
    aht_cv: np.ndarray
    aht_exponential: np.ndarray
    aht_samples: tuple
    patience: np.ndarray
    patience_dist: tuple
    patience_cv: np.ndarray
    patience_samples: tuple
    balk: np.ndarray
    concurrency: np.ndarray
    within_s: np.ndarray
    shape_day: np.ndarray
    shape_interval: np.ndarray
    key: np.ndarray
    priorities: tuple
    shifts: tuple
    shrinkage: float
    keep_records: bool = False
    initial_ages: tuple = ()  # per channel: ages (s) of the contacts waiting at the start, or None
    absence_per_interval: bool = False
    chat_slowdown: np.ndarray | None = None  # per channel: handle-time growth per extra chat held
    business_clock: np.ndarray | None = None  # per channel: deadline counted in opening hours only
    open_mask: np.ndarray | None = None  # per interval: the centre is open
    trace: tuple = ()  # per channel: (arrival_s, handle_s, patience_s) arrays to replay instead of drawing

    @property
    def horizon_s(self) -> float:
        return self.interval_s * self.n_intervals


def _arrivals(model: SimModel, seed: int, rep: int, c: int):
    """Arrival times, interval indices, handle times and patience of channel ``c`` (sorted by time)."""
    T, dt = model.n_intervals, model.interval_s
    key = int(model.key[c])
    lam = np.array(model.volume[c], dtype=float)
    rng_m = stream(seed, rep, MULTIPLIERS, key)
    n_days = int(model.day_index.max()) + 1
    g_day = (
        rng_m.standard_gamma(model.shape_day[c], size=n_days) / model.shape_day[c]
        if math.isfinite(model.shape_day[c])
        else np.ones(n_days)
    )
    h_int = (
        rng_m.standard_gamma(model.shape_interval[c], size=T) / model.shape_interval[c]
        if math.isfinite(model.shape_interval[c])
        else np.ones(T)
    )
    lam = lam * g_day[model.day_index] * h_int
    rng_a = stream(seed, rep, ARRIVALS, key)
    counts = rng_a.poisson(lam)
    idx = np.repeat(np.arange(T), counts)
    times = (idx + rng_a.random(idx.size)) * dt
    order = np.argsort(times, kind="stable")
    times = times[order]
    idx = idx[order]
    # handle times: lognormal with the interval's mean and the channel's CV, drawn in arrival order
    rng_h = stream(seed, rep, HANDLE, key)
    z = rng_h.standard_normal(idx.size)  # drawn first whatever the distribution (stable streams)
    handle = _handle_times(model, c, rng_h, model.aht[c][idx], z)
    patience = _patience(model, c, stream(seed, rep, PATIENCE, key), idx.size)
    # balking: one uniform per contact from its own stream (drawn for every contact, so staffing-free)
    if model.balk[c] > 0:
        balk = stream(seed, rep, BALK, key).random(idx.size) < model.balk[c]
    else:
        balk = np.zeros(idx.size, bool)
    return times, idx, handle, patience, balk


def _initial(model: SimModel, seed: int, rep: int, c: int):
    """The contacts waiting at the start: arrival times -age, oldest first, handle times with the first
    interval's mean and (voice, chat) remaining patience, from their own stream."""
    ages = model.initial_ages[c] if model.initial_ages else None
    if ages is None or len(ages) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    times = -np.sort(np.asarray(ages, dtype=float))[::-1]
    rng = stream(seed, rep, INITIAL, int(model.key[c]))
    handle = _handle_times(model, c, rng, np.full(times.size, float(model.aht[c][0])))
    # the remaining patience of callers already waiting, drawn afresh (exact for exponential patience)
    return times, handle, _patience(model, c, rng, times.size)


def _handle_times(model: SimModel, c: int, rng, mean: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
    """Handle times of channel ``c`` with the given means: empirical (rescaled samples), exponential, or
    lognormal with the channel's CV (from the normals ``z`` when given, else drawn here)."""
    n = mean.size
    cv = float(model.aht_cv[c])
    if model.aht_samples[c] is not None:
        return mean * model.aht_samples[c][rng.integers(0, model.aht_samples[c].size, n)]
    if model.aht_exponential[c]:
        return mean * rng.standard_exponential(n)
    if cv > 0:
        s2 = math.log1p(cv * cv)
        z = rng.standard_normal(n) if z is None else z
        return mean * np.exp(math.sqrt(s2) * z - 0.5 * s2)
    return np.array(mean, dtype=float)


def _patience(model: SimModel, c: int, rng, n: int) -> np.ndarray:
    """Patience of ``n`` contacts of channel ``c``: exponential (default), lognormal or empirical with mean
    ``patience_s``; inf when the channel never abandons."""
    p = float(model.patience[c])
    dist = model.patience_dist[c]
    if not math.isfinite(p):
        return np.full(n, np.inf)
    if dist == "empirical":
        samples = model.patience_samples[c]
        return p * samples[rng.integers(0, samples.size, n)]
    if dist == "lognormal" and model.patience_cv[c] > 0:
        s2 = math.log1p(float(model.patience_cv[c]) ** 2)
        return p * np.exp(math.sqrt(s2) * rng.standard_normal(n) - 0.5 * s2)
    if dist == "lognormal":
        return np.full(n, p)
    return rng.exponential(p, n)


def _business_due(arrival: np.ndarray, deadline: np.ndarray, open_mask: np.ndarray, dt: float) -> np.ndarray:
    """The instant at which ``deadline`` seconds of opening hours have passed since each ``arrival`` (open
    intervals count whole; past the horizon the last day's pattern repeats)."""
    T = open_mask.size
    period = max(1, int(round(86400.0 / dt)))
    open_per_day = float((open_mask[-period:] if period <= T else open_mask).sum()) * dt
    if open_per_day <= 0:
        return np.full(arrival.shape, np.inf)  # never open again: never due inside any horizon
    days = int(np.ceil(float(np.max(deadline, initial=0.0)) / open_per_day)) + 1
    extra = (days + 1) * period
    tail = open_mask[-period:] if period <= T else open_mask
    ext = np.concatenate([open_mask, np.resize(tail, extra)]).astype(float)
    cum = np.concatenate([[0.0], np.cumsum(ext) * dt])  # open seconds before each edge
    k = np.clip((arrival // dt).astype(np.int64), 0, ext.size - 1)
    o_arr = cum[k] + ext[k] * (arrival - k * dt)
    target = o_arr + deadline
    # first edge index j with cum[j] >= target; the due instant lies in interval j - 1, which is open
    j = np.searchsorted(cum, target, side="left")
    j = np.clip(j, 1, cum.size - 1)
    return (j - 1) * dt + (target - cum[j - 1])


_M64 = (1 << 64) - 1


def _mix(*values: int) -> int:
    """A 64-bit hash of integers (splitmix64 steps): counter-based random numbers keyed by identity."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = (h ^ (int(v) & _M64)) & _M64
        h = (h + 0x9E3779B97F4A7C15) & _M64
        z = h
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
        h = z ^ (z >> 31)
    return h


def _unit_uniform(h: int) -> float:
    """A uniform number in [0, 1) from a 64-bit hash (its top 53 bits)."""
    return (h >> 11) * (1.0 / (1 << 53))


def _shift_keys(shifts) -> list[int]:
    """A key per agent-shift from what it is (group, start, end) and which of identical shifts it is."""
    seen: dict = {}
    keys = []
    for g, s, e, _b in shifts:
        ident = (int(g), int(round(s * 1000)), int(round(e * 1000)))
        k = seen.get(ident, 0)
        seen[ident] = k + 1
        keys.append(_mix(*ident, k))
    return keys


def _absent_breaks(shift, dt: float, p: float, key: int) -> tuple:
    """A shift with its absent intervals (each with probability ``p``, keyed by the shift and the interval)
    added to its breaks, merged."""
    g, s, e, breaks = shift
    first, last = int(math.floor(s / dt)), int(math.ceil(e / dt))
    off = [_unit_uniform(_mix(key, k)) < p for k in range(first, last)]
    spans = [(max(s, k * dt), min(e, (k + 1) * dt)) for k, o in zip(range(first, last), off) if o]
    spans = sorted(list(breaks) + spans)
    merged: list = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return (g, s, e, merged)


def _per_interval(keys, starts, ends, weights, n_keys, T, dt):
    """Integrate weighted time segments [start, end) into an array [n_keys, T] of seconds per interval."""
    out = np.zeros((n_keys, T + 1))
    if len(starts) == 0:
        return out[:, :T]
    keys = np.asarray(keys, dtype=int)
    s = np.clip(np.asarray(starts, dtype=float), 0.0, T * dt)
    e = np.clip(np.asarray(ends, dtype=float), 0.0, T * dt)
    w = np.asarray(weights, dtype=float)
    keep = e > s
    keys, s, e, w = keys[keep], s[keep], e[keep], w[keep]
    js = np.minimum((s // dt).astype(int), T - 1)
    je = np.minimum((e // dt).astype(int), T)
    same = js == je
    np.add.at(out, (keys[same], js[same]), w[same] * (e[same] - s[same]))
    d = ~same
    k, js, je, s, e, w = keys[d], js[d], je[d], s[d], e[d], w[d]
    np.add.at(out, (k, js), w * ((js + 1) * dt - s))
    np.add.at(out, (k, je), w * (e - je * dt))
    diff = np.zeros((n_keys, T + 2))
    np.add.at(diff, (k, js + 1), w * dt)
    np.add.at(diff, (k, je), -w * dt)
    out += np.cumsum(diff, axis=1)[:, : T + 1]
    return out[:, :T]


WAIT_QUANTILES = (0.5, 0.8, 0.9, 0.95)


def _group_quantiles(keys: np.ndarray, values: np.ndarray, n_keys: int) -> np.ndarray:
    """Quantiles (linear interpolation, as numpy's default) of ``values`` per key 0..n_keys-1: an array
    [len(WAIT_QUANTILES), n_keys], NaN for keys without values."""
    out = np.full((len(WAIT_QUANTILES), n_keys), np.nan)
    if keys.size == 0:
        return out
    order = np.lexsort((values, keys))
    k, v = keys[order], values[order]
    counts = np.bincount(k, minlength=n_keys)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = counts > 0
    for j, q in enumerate(WAIT_QUANTILES):
        pos = starts[has] + q * (counts[has] - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, starts[has] + counts[has] - 1)
        frac = pos - lo
        out[j, has] = v[lo] * (1 - frac) + v[hi] * frac
    return out


def run_replication(model: SimModel, seed: int, rep: int) -> dict[str, np.ndarray]:
    """Simulate replication ``rep`` and return per-interval arrays (see :class:`sim.result.SimResult`)."""
    C, T, dt = len(model.kind), model.n_intervals, model.interval_s
    G = len(model.priorities)
    horizon = model.horizon_s

    # ---- customers, drawn up front in arrival order per channel (common random numbers) -------------------
    if model.trace:  # trace-driven: the same contacts in every replication (only absences vary)
        per_chan = [(t[0], None, t[1], t[2], np.zeros(t[0].size, bool)) for t in model.trace]
    else:
        per_chan = [_arrivals(model, seed, rep, c) for c in range(C)]
    init = [_initial(model, seed, rep, c) for c in range(C)]
    times = np.concatenate([p[0] for p in init] + [p[0] for p in per_chan])
    chan_arr = np.concatenate(
        [np.full(p[0].size, c, dtype=np.int64) for c, p in enumerate(init)]
        + [np.full(p[0].size, c, dtype=np.int64) for c, p in enumerate(per_chan)]
    )
    order = np.argsort(times, kind="stable")
    arr_t = times[order].tolist()
    arr_c = chan_arr[order].tolist()
    handle = np.concatenate([p[1] for p in init] + [p[2] for p in per_chan])[order].tolist()
    patience = np.concatenate([p[2] for p in init] + [p[3] for p in per_chan])[order].tolist()
    balker = np.concatenate([np.zeros(p[0].size, bool) for p in init] + [p[4] for p in per_chan])[
        order
    ].tolist()
    initial = np.concatenate(
        [np.ones(p[0].size, bool) for p in init] + [np.zeros(p[0].size, bool) for p in per_chan]
    )[order]
    N = len(arr_t)
    start = [math.nan] * N
    abandoned = [False] * N

    kind = model.kind.tolist()
    conc = model.concurrency.tolist()
    inv_conc = [1.0 / m for m in conc]
    # eligible groups per channel: higher priority of the channel in the group first, then group order
    eligible = []
    for c in range(C):
        gs = [(list(model.priorities[g]).index(c), g) for g in range(G) if c in model.priorities[g]]
        eligible.append([g for _, g in sorted(gs)])
    cap = [max([conc[c] for c in model.priorities[g] if kind[c] == CHAT] or [1]) for g in range(G)]
    max_cap = [max([cap[g] for g in eligible[c]] or [1]) for c in range(C)]

    # ---- agents ------------------------------------------------------------------------------------------
    shifts = list(model.shifts)
    absent = np.zeros(len(shifts), bool)
    if model.shrinkage > 0:
        # absences are keyed by the agent-shift itself (group, start, end, occurrence), never by its position
        # in the staffing, so that adding a shift leaves every other agent's absences as they were (CRN)
        keys = _shift_keys(shifts)
        base = _mix(int(seed), int(rep), ABSENCE)
        if model.absence_per_interval:  # each agent-interval on its own: absent stretches become breaks
            shifts = [
                _absent_breaks(sh, model.interval_s, model.shrinkage, _mix(base, k))
                for sh, k in zip(shifts, keys)
            ]
        else:
            absent = np.array([_unit_uniform(_mix(base, k)) < model.shrinkage for k in keys], dtype=bool)
    A = len(shifts)
    a_group = [s[0] for s in shifts]
    n_chats = [0] * A  # open chats
    load = [0.0] * A  # share of the agent's chat capacity in use: sum of 1 / concurrency of its open chats
    full = [False] * A  # holds a voice call or an email
    paused = [True] * A  # not taking new contacts (off shift, on break, or break/logoff requested)
    waiter = [None] * A
    where = [-1] * A  # bucket (= open chats) the agent sits in, -1 = none
    logon = [0.0] * A
    buckets = [[{} for _ in range(cap[g])] for g in range(G)]
    queues = [deque() for _ in range(C)]
    seg_g, seg_c, seg_s, seg_e, seg_w = [], [], [], [], []
    on_g, on_s, on_e = [], [], []

    env = simpy.Environment()

    slow = model.chat_slowdown.tolist() if model.chat_slowdown is not None else [0.0] * C
    slow_open = [{} for _ in range(A)]  # per agent: slowed chats in hand
    version: dict = {}

    def fits(a, c):
        return load[a] + inv_conc[c] <= 1.0 + 1e-9

    def place(a):
        k = n_chats[a]
        if not paused[a] and not full[a] and k < cap[a_group[a]] and load[a] < 1.0 - 1e-9:
            buckets[a_group[a]][k][a] = None
            where[a] = k

    def unplace(a):
        if where[a] >= 0:
            del buckets[a_group[a]][where[a]][a]
            where[a] = -1

    def begin(a, i, now):
        start[i] = now
        c = arr_c[i]
        h = handle[i]
        if kind[c] == CHAT:
            n_chats[a] += 1
            w = inv_conc[c]
            load[a] += w
        else:
            full[a] = True
            w = 1.0
        if slow[c] > 0:  # the chat's pace depends on the agent's open chats: scheduled by reslow
            slow_open[a][i] = [h, now, 1.0]  # remaining work (s alone), last update, current pace
            reslow(a, now)
            return
        seg_g.append(a_group[a])
        seg_c.append(c)
        seg_s.append(now)
        seg_e.append(now + h)
        seg_w.append(w)
        ev = env.timeout(h)
        ev.callbacks.append(lambda _ev, a=a, i=i: finish(a, i))
        if slow_open[a]:
            reslow(a, now)

    def reslow(a, now):
        """Bring the agent's slowed chats up to ``now`` at their old pace, then reschedule their ends at the
        pace of the agent's current number of open chats: 1 / (1 + slowdown (k - 1))."""
        k = n_chats[a]
        for j, st_ in slow_open[a].items():
            st_[0] -= (now - st_[1]) * st_[2]
            st_[1] = now
            st_[2] = 1.0 / (1.0 + slow[arr_c[j]] * max(k - 1, 0))
            version[j] = version.get(j, 0) + 1
            ev = env.timeout(max(st_[0], 0.0) / st_[2])
            ev.callbacks.append(lambda _ev, a=a, j=j, v=version[j]: finish_slow(a, j, v))

    def finish_slow(a, i, v):
        if version.get(i) != v or i not in slow_open[a]:
            return  # rescheduled since
        del slow_open[a][i]
        c = arr_c[i]
        seg_g.append(a_group[a])
        seg_c.append(c)
        seg_s.append(start[i])
        seg_e.append(env.now)
        seg_w.append(inv_conc[c])
        finish(a, i)
        if slow_open[a]:
            reslow(a, env.now)

    def pop_waiting(c):
        q = queues[c]
        while q:
            i = q.popleft()
            if not abandoned[i]:
                return i
        return -1

    def dispatch(a):
        """Agent ``a`` has free capacity: take waiting work by priority, then wait in its bucket."""
        unplace(a)
        g = a_group[a]
        now = env.now
        if not full[a]:
            for c in model.priorities[g]:
                if kind[c] == CHAT:
                    while fits(a, c):
                        i = pop_waiting(c)
                        if i < 0:
                            break
                        begin(a, i, now)
                    if load[a] >= 1.0 - 1e-9:
                        break
                elif n_chats[a] == 0:
                    i = pop_waiting(c)
                    if i >= 0:
                        begin(a, i, now)
                        break
        place(a)

    def finish(a, i):
        c = arr_c[i]
        if kind[c] == CHAT:
            n_chats[a] -= 1
            load[a] = load[a] - inv_conc[c] if n_chats[a] else 0.0
            if slow_open[a] and slow[c] == 0:
                reslow(a, env.now)
        else:
            full[a] = False
        if paused[a]:
            if n_chats[a] == 0 and not full[a] and waiter[a] is not None:
                ev, waiter[a] = waiter[a], None
                ev.succeed()
        else:
            dispatch(a)

    def abandon(i):
        if start[i] != start[i]:  # still waiting (NaN)
            abandoned[i] = True

    def arrive(i):
        c = arr_c[i]
        now = max(arr_t[i], env.now)  # the starting backlog arrives "before" the run: served from 0
        if kind[c] == CHAT:
            # fewest open chats first; an agent holding more chats than this channel's concurrency (of a
            # channel with a higher one) may still have room: fits() decides
            for k in range(max_cap[c]):
                for g in eligible[c]:
                    if k < cap[g] and buckets[g][k]:
                        for a in buckets[g][k]:  # the first fits unless the group mixes concurrencies
                            if fits(a, c):
                                unplace(a)
                                begin(a, i, now)
                                place(a)
                                return
        else:
            for g in eligible[c]:
                b = buckets[g][0]
                if b:
                    a = next(iter(b))
                    unplace(a)
                    begin(a, i, now)
                    return
        if balker[i]:  # would have to wait: leaves at once
            abandoned[i] = True
            return
        queues[c].append(i)
        if patience[i] < math.inf:  # the contact's own patience (a trace may give it per contact)
            ev = env.timeout(patience[i])
            ev.callbacks.append(lambda _ev, i=i: abandon(i))

    def arrivals():
        timeout = env.timeout
        for i in range(N):
            d = arr_t[i] - env.now
            if d > 0:
                yield timeout(d)
            arrive(i)

    def go_on(a):
        paused[a] = False
        logon[a] = env.now
        dispatch(a)

    def go_off(a):
        """Stop taking contacts; finish those in hand (yield until then); close the logged-on segment."""
        paused[a] = True
        unplace(a)
        if n_chats[a] > 0 or full[a]:
            ev = env.event()
            waiter[a] = ev
            yield ev
        on_g.append(a_group[a])
        on_s.append(logon[a])
        on_e.append(env.now)

    def agent(a, s, e, breaks):
        s = max(s, 0.0)
        breaks = [(bs, be) for bs, be in breaks if be > s]  # breaks over before the grid starts
        if breaks and breaks[0][0] <= s:  # on a break when the grid starts: log on at its end
            s = breaks.pop(0)[1]
        if s >= horizon or s >= e:
            return
        if s > env.now:
            yield env.timeout(s - env.now)
        go_on(a)
        for bs, be in breaks:
            if bs >= e:
                break
            if bs > env.now:
                yield env.timeout(bs - env.now)
            yield from go_off(a)
            yield env.timeout(be - bs)
            if env.now >= e:
                return
            go_on(a)
        if e > env.now:
            yield env.timeout(e - env.now)
        yield from go_off(a)

    for a, (_g, s, e, br) in enumerate(shifts):
        if not absent[a]:
            env.process(agent(a, float(s), float(e), br))
    env.process(arrivals())
    env.run(until=horizon)
    for a in range(A):
        for j in slow_open[a]:  # slowed chats still in hand at the horizon end
            seg_g.append(a_group[a])
            seg_c.append(arr_c[j])
            seg_s.append(start[j])
            seg_e.append(horizon)
            seg_w.append(inv_conc[arr_c[j]])
        if not paused[a] or waiter[a] is not None:  # logged on, or finishing a contact before logging off
            on_g.append(a_group[a])
            on_s.append(logon[a])
            on_e.append(horizon)

    # ---- per-interval statistics ------------------------------------------------------------------------
    arr_t_np = np.asarray(arr_t, dtype=float)
    c_np = np.asarray(arr_c, dtype=np.int64)
    st = np.asarray(start, dtype=float)
    h_np = np.asarray(handle, dtype=float)
    pat_np = np.asarray(patience, dtype=float)
    ab = np.asarray(abandoned, dtype=bool)
    pat_eff = np.where(np.asarray(balker, dtype=bool) & ab, 0.0, pat_np)  # a balker leaves after 0 s
    idx = np.clip((arr_t_np // dt).astype(np.int64), 0, T - 1)
    measured = ~initial if N else np.zeros(0, bool)  # the starting backlog is not in the counts
    balked = np.asarray(balker, dtype=bool) & ab  # left at once instead of waiting
    answered = ~np.isnan(st)
    wait = np.where(answered, st - arr_t_np, 0.0)
    within_s = model.within_s[c_np] if N else np.zeros(0)
    is_email = (model.kind[c_np] == EMAIL) if N else np.zeros(0, bool)
    due_at = arr_t_np + within_s  # the instant by which an email must be answered
    if N and model.business_clock is not None and np.any(model.business_clock):
        biz = is_email & model.business_clock[c_np]
        due_at = np.where(biz, _business_due(arr_t_np, within_s, model.open_mask, dt), due_at)
    within = answered & np.where(is_email, st + h_np <= due_at, wait <= within_s)
    due = np.where(is_email, due_at <= horizon, True)
    ab_within = ab & (pat_eff <= within_s)
    flat = c_np * T + idx

    def count(mask, weights=None):
        mask = mask & measured
        w = mask.astype(float) if weights is None else np.where(mask, weights, 0.0)
        return np.bincount(flat, weights=w, minlength=C * T).reshape(C, T)

    ones = np.ones(N, bool)
    out = {
        "offered": count(ones),
        "answered": count(answered),
        "abandoned": count(ab),
        "abandoned_within": count(ab_within),
        "answered_within": count(within),
        "wait_sum_s": count(answered, wait),
        "handle_sum_s": count(answered, h_np),
        "due": count(due),
        "answered_within_due": count(within & due),
    }
    # queue length at each interval end (waiting, not yet started or abandoned) and oldest waiting age
    edges = (np.arange(T) + 1) * dt
    queue_end = np.zeros((C, T))
    oldest = np.zeros((C, T))
    for c in range(C):
        m = c_np == c
        a_sorted = arr_t_np[m]
        st_c = st[m]
        s_sorted = np.sort(st_c[~np.isnan(st_c)])
        ab_t = np.sort((np.maximum(a_sorted, 0.0) + pat_eff[m])[ab[m]])
        n_arr = np.searchsorted(a_sorted, edges, side="left")
        n_st = np.searchsorted(s_sorted, edges, side="left")
        n_ab = np.searchsorted(ab_t, edges, side="left")
        queue_end[c] = n_arr - n_st - n_ab
        if model.kind[c] == EMAIL:
            # FIFO without abandonment: the oldest waiting email is the first not yet started
            has = n_st < n_arr
            first = np.where(has, n_st, 0)
            oldest[c] = np.where(has, edges - a_sorted[first] if a_sorted.size else 0.0, 0.0)
    out["queue_end"] = queue_end
    out["oldest_age_s"] = oldest
    if model.keep_records:
        out["records"] = {
            "channel": c_np,
            "arrival_s": arr_t_np,
            "start_s": st,
            "handle_s": h_np,
            "patience_s": pat_np,
            "balked": balked,
            "abandoned": ab,
        }
    am = answered & measured
    out["wait_quantiles"] = _group_quantiles(flat[am], wait[am], C * T).reshape(-1, C, T)
    # time spent waiting, per interval it falls in (the mean queue length is queue_time_s / interval_s)
    ab_at = np.maximum(arr_t_np, 0.0) + pat_eff  # a starting backlog's patience runs from 0
    wait_end = np.where(answered, st, np.where(ab, ab_at, horizon)) if N else np.zeros(0)
    out["queue_time_s"] = _per_interval(c_np, arr_t_np, wait_end, np.ones(N), C, T, dt)
    out["busy_channel_s"] = _per_interval(seg_c, seg_s, seg_e, seg_w, C, T, dt)
    out["busy_group_s"] = _per_interval(seg_g, seg_s, seg_e, seg_w, G, T, dt)
    out["available_group_s"] = _per_interval(on_g, on_s, on_e, np.ones(len(on_g)), G, T, dt)
    return out
