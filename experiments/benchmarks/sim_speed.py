"""Benchmark: the simulator against a plain SimPy M/M/c+M model and against Erlang A.

In one process it runs (a) a minimal plain-SimPy M/M/c+M model written the way SimPy's own examples are (a
process per customer, a ``Resource`` request raced against a patience timeout) and (b) wfmlab's simulator on
the same model: 50 agents, AHT 300 s exponential, exponential patience with mean 600 s, utilisation 0.9,
about 200,000 customers in 8 replications of two days (the first two hours and the last hour of arrivals
are left out of the statistics). It prints P(wait), P(abandon) and ASA of both with 99.9% confidence
intervals beside the exact Erlang A values, exits with status 1 if an exact value lies outside a model's
interval, and prints customers per second of each and their ratio. Then the demo week: seconds per
replication and the speed-up of 2 worker processes; a week of about 100,000 contacts with the traced peak
memory of its simulation (exit status 1 above 500 MB); and the peak resident set of the whole process.

Run: ``python -m experiments.benchmarks.sim_speed``.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np
import simpy
from scipy import stats

AGENTS, AHT, PATIENCE, RHO = 50, 300.0, 600.0, 0.9
LAM = RHO * AGENTS / AHT  # arrivals per second
DAYS, REPS = 2, 8
WARM_S, COOL_S = 2 * 3600.0, 3600.0


def plain_simpy(seed: int) -> tuple[np.ndarray, int]:
    """One replication of the textbook SimPy model; per customer (arrival time, waited, abandoned, wait)."""
    rng = np.random.default_rng(seed)
    horizon = DAYS * 86400.0
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=AGENTS)
    records = []

    def customer(env, arrival, service, patience):
        with agents.request() as req:
            result = yield req | env.timeout(patience)
            wait = env.now - arrival
            if req in result:
                records.append((arrival, wait > 0, False, wait))
                yield env.timeout(service)
            else:
                records.append((arrival, True, True, wait))

    def source(env):
        while True:
            yield env.timeout(rng.exponential(1 / LAM))
            env.process(customer(env, env.now, rng.exponential(AHT), rng.exponential(PATIENCE)))

    env.process(source(env))
    env.run(until=horizon)
    return np.array(records), len(records)


def plain_figures(records: np.ndarray):
    t = records[:, 0]
    keep = (t >= WARM_S) & (t < DAYS * 86400.0 - COOL_S)
    r = records[keep]
    waited, abandoned, wait = r[:, 1].astype(bool), r[:, 2].astype(bool), r[:, 3]
    answered = ~abandoned
    return waited.mean(), abandoned.mean(), wait[answered].mean()


def wfmlab_model():
    from sim import Channel, IntervalGrid, Scenario, SkillGroup

    grid = IntervalGrid.from_days("2026-01-05", DAYS, 60, "UTC")
    ch = Channel("voice", "voice", aht_s=AHT, aht_dist="exponential", threshold_s=0.0, patience_s=PATIENCE)
    sc = Scenario(grid, [ch], [SkillGroup("g", ["voice"])])
    import pandas as pd

    fc = pd.DataFrame(
        {
            "channel": "voice",
            "interval_start": grid.starts,
            "volume": LAM * 3600.0,
            "aht_s": AHT,
            "shape_day": np.inf,
            "shape_interval": np.inf,
        }
    )
    return sc, fc, np.full((1, grid.n), AGENTS)


def wfmlab_figures(res):
    df = res.intervals
    lo, hi = int(WARM_S // 3600), int((DAYS * 86400.0 - COOL_S) // 3600)
    d = df[(df["interval"] >= lo) & (df["interval"] < hi)].groupby("rep").sum(numeric_only=True)
    p_wait = 1.0 - d["answered_within"] / d["offered"]  # threshold 0: answered at once
    return (
        p_wait.to_numpy(),
        (d["abandoned"] / d["offered"]).to_numpy(),
        (d["wait_sum_s"] / d["answered"]).to_numpy(),
    )


def ci(x, level=0.999):
    x = np.asarray(x, float)
    h = stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return x.mean(), h


def main() -> int:
    from optim.queueing import erlang_a
    from sim import simulate

    exact = erlang_a(LAM, AHT, PATIENCE, AGENTS, 0.0)
    ref = {"P(wait)": exact.p_wait, "P(abandon)": exact.p_abandon, "ASA s": exact.asa}

    t0 = time.perf_counter()
    plain = [plain_simpy(1000 + r) for r in range(REPS)]
    t_plain = time.perf_counter() - t0
    n_plain = sum(n for _, n in plain)
    pf = np.array([plain_figures(rec) for rec, _ in plain])

    sc, fc, staff = wfmlab_model()
    t0 = time.perf_counter()
    res = simulate(sc, staff, forecast=fc, replications=REPS, seed=7, workers=1)
    t_ours = time.perf_counter() - t0
    n_ours = int(res.intervals["offered"].sum())
    wf = np.column_stack(wfmlab_figures(res))

    print(
        f"M/M/{AGENTS}+M, AHT {AHT:.0f} s, patience {PATIENCE:.0f} s, utilisation {RHO}: {REPS} replications"
    )
    print(f"{'':12}{'Erlang A':>12}{'plain SimPy (99.9% CI)':>30}{'wfmlab (99.9% CI)':>30}")
    bad = False
    for k, (name, value) in enumerate(ref.items()):
        row = f"{name:<12}{value:>12.5f}"
        for figs in (pf, wf):
            m, h = ci(figs[:, k])
            row += f"{m:>17.5f} +- {h:<9.5f}"
            bad |= abs(m - value) > h
        print(row)
    print(f"plain SimPy: {n_plain:,} customers in {t_plain:.2f} s = {n_plain / t_plain:,.0f} customers/s")
    print(f"wfmlab:      {n_ours:,} customers in {t_ours:.2f} s = {n_ours / t_ours:,.0f} customers/s")
    print(f"ratio wfmlab / plain SimPy: {(n_ours / t_ours) / (n_plain / t_plain):.2f}x")

    # the demo week
    from hydra import compose, initialize_config_module

    from experiments.config import validate
    from experiments.tasks.plan import run_plan

    with initialize_config_module(config_module="conf", version_base="1.3"):
        cfg = compose("config", overrides=["tracking=none", "sim.replications=4"])
    values = validate(cfg)
    out = run_plan(values, out_dir=None, quiet=True)
    scenario, schedule, fc_demo = values["scenario"], out["schedule"], out["forecast"]
    t0 = time.perf_counter()
    r1 = simulate(scenario, schedule, forecast=fc_demo, replications=4, seed=3, workers=1)
    t1 = time.perf_counter() - t0
    t0 = time.perf_counter()
    r2 = simulate(scenario, schedule, forecast=fc_demo, replications=4, seed=3, workers=2)
    t2 = time.perf_counter() - t0
    same = r1.intervals.equals(r2.intervals)
    contacts = r1.intervals["offered"].sum() / 4
    print(f"demo week ({contacts:,.0f} contacts, {len(schedule)} shifts): {t1 / 4:.2f} s per replication;")
    print(f"  2 workers: {t1 / t2:.2f}x speed-up, identical results: {same}")
    # a week of about 100,000 contacts: the demo forecast scaled, one replication, its memory traced
    import tracemalloc

    scale = 100_000 / contacts
    big = fc_demo.assign(volume=fc_demo["volume"] * scale)
    from optim import requirements
    from optim.schedule import solve

    reqs = requirements(big, scenario)
    sched_big, _ = solve(scenario, reqs, rules=values["rules"], solver=values["solver"])
    tracemalloc.start()
    t0 = time.perf_counter()
    rb = simulate(scenario, sched_big, forecast=big, replications=1, seed=3, workers=1)
    tb = time.perf_counter() - t0
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    n_big = rb.intervals["offered"].sum()
    print(
        f"a week of {n_big:,.0f} contacts ({len(sched_big)} shifts): {tb:.2f} s for one replication, "
        f"peak traced memory of the simulation {traced / 2**20:,.0f} MB"
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (resident set of this whole process): {peak_mb:,.0f} MB")
    if traced / 2**20 > 500:
        print("MEMORY: a week of 100,000 contacts took more than 500 MB", file=sys.stderr)
        bad = True
    if bad:
        print(
            "DISAGREEMENT: an exact Erlang A value lies outside a 99.9% confidence interval", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
