"""Benchmark: the default plan on the demo, stage by stage, and the simulator's throughput.

Prints the time of each stage of the demo plan (history, forecast, requirements, MIP, simulation), the
simulator's contacts per second, and the speed-up of 2 worker processes over 1 (same process, same seed,
identical results checked). Run: ``python -m experiments.benchmarks.bench_plan [replications]``.
"""

from __future__ import annotations

import sys
import time


def main(replications: int = 10) -> None:
    from hydra import compose, initialize_config_module

    from experiments.config import validate
    from experiments.tasks.plan import derive_seed, run_plan
    from sim import simulate

    with initialize_config_module(config_module="conf", version_base="1.3"):
        cfg = compose("config", overrides=["tracking=none", f"sim.replications={replications}"])
    values = validate(cfg)
    t0 = time.perf_counter()
    out = run_plan(values, out_dir=None, quiet=True)
    total = time.perf_counter() - t0
    print(f"demo plan ({replications} replications): {total:.2f} s")
    for k, v in out["timing"].items():
        print(f"  {k:<16} {v:8.2f} s")
    res = out["result"]
    contacts = res.intervals["offered"].sum()
    sim_s = out["timing"]["simulate_s"]
    rate = contacts / sim_s
    print(f"simulator: {contacts:,.0f} contacts in {sim_s:.2f} s = {rate:,.0f} contacts/s (1 worker)")
    sc, fc, sched = values["scenario"], out["forecast"], out["schedule"]
    t = time.perf_counter()
    res2 = simulate(
        sc, sched, forecast=fc, replications=replications, seed=derive_seed(values["seed"], 2), workers=2
    )
    t2 = time.perf_counter() - t
    same = res2.intervals.equals(res.intervals)
    print(f"2 workers: {t2:.2f} s, speed-up {sim_s / t2:.2f}x over 1 worker; identical results: {same}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
