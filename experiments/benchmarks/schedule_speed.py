"""Benchmark: the shift-scheduling MIP on a week of 15-minute intervals.

The issue's instance: a week (672 intervals) of the demo centre, open 06:00-22:00, three channels (voice,
chat, email as a backlog within 24 h) and two skill groups; shifts of 4, 6, 8 and 10 h starting every
15 min; a paid 15-min break 1-2 h after the start; in shifts of 6 h or more an unpaid 30-min lunch 2.5-4 h
after the start and a second paid 15-min break 1.5-0.75 h before the end (every 15 min). Breaks are placed
with Aykin's implicit model; the explicit model's size (one column per break pattern) is printed for
comparison. Prints the model size, the LP bound (HiGHS), the time SCIP takes to a 1% gap (limit 300 s), and
the gap reached within 60 s and 300 s. With ``--tours`` it also plans the week as tours (4 or 5 days with
the days off together, 20-40 paid hours) and prints the gap within 300 s.
Run: ``python -m experiments.benchmarks.schedule_speed [threads] [--tours]``.
"""

from __future__ import annotations

import math
import sys
import time


def rules():
    from optim.schedule import ShiftRules

    return ShiftRules(
        lengths_h=(4.0, 6.0, 8.0, 10.0),
        start_step_min=15,
        lunch_min=30,
        lunch_earliest_h=2.5,
        lunch_latest_h=4.0,
        lunch_step_min=15,
        lunch_min_shift_h=6.0,
        short_breaks=(
            {"minutes": 15, "earliest_h": 1.0, "latest_h": 2.0, "step_min": 15},
            {"minutes": 15, "earliest_h": -1.5, "latest_h": -0.75, "step_min": 15, "min_shift_h": 6.0},
        ),
    )


def instance():
    from hydra import compose, initialize_config_module

    from experiments.config import validate
    from forecast import SeasonalAverage
    from forecast.synthetic import demo_channels, synthetic_history
    from optim import requirements

    with initialize_config_module(config_module="conf", version_base="1.3"):
        cfg = compose("config", overrides=["tracking=none"])
    sc = validate(cfg)["scenario"]
    hist = synthetic_history(
        demo_channels(), start="2025-11-10", days=56, interval_min=15, tz=str(sc.grid.tz), seed=1
    )
    fc = SeasonalAverage(weeks=4).fit(hist).predict(sc.grid)
    fc = fc[fc["channel"].isin(sc.channel_names)]
    return sc, requirements(fc, sc)


def lp_bound(model) -> float:
    """The LP relaxation of the model, solved with scipy's HiGHS."""
    import numpy as np
    from scipy.optimize import linprog

    A = model.A.tocsr()
    eq = np.isfinite(model.lhs) & (model.lhs == model.rhs)
    ub = np.isfinite(model.rhs) & ~eq
    lb = np.isfinite(model.lhs) & ~eq
    from scipy import sparse

    res = linprog(
        model.obj,
        A_ub=sparse.vstack([A[ub], -A[lb]]),
        b_ub=np.concatenate([model.rhs[ub], -model.lhs[lb]]),
        A_eq=A[eq],
        b_eq=model.lhs[eq],
        bounds=np.column_stack([model.lb, model.ub]),
        method="highs",
    )
    return float(res.fun) if res.status == 0 else math.nan


def main(threads: int = 1, tours: bool = False) -> None:
    from optim.schedule import SolverOptions, solve
    from optim.schedule.solve import _email_flows, build_schedule_model, need_matrix
    from optim.schedule.templates import make_templates

    sc, reqs = instance()
    r = rules()
    templates = make_templates(sc, r)
    t0 = time.perf_counter()
    model = build_schedule_model(sc, need_matrix(reqs, sc), templates, email_flows=_email_flows(sc, reqs))
    built = time.perf_counter() - t0
    n_explicit = sum(math.prod(len(s) for _, s in tp.flex_breaks) for tp in templates)
    print(
        f"week of {sc.grid.n} intervals, {len(sc.channels)} channels, {len(sc.groups)} groups, "
        f"{len(templates):,} shifts (day x start x length)"
    )
    print(
        f"implicit breaks (Aykin): {model.n_vars:,} variables ({int(model.integer.sum()):,} integer), "
        f"{model.n_cons:,} constraints, built in {built:.1f} s"
    )
    print(f"explicit breaks would need {n_explicit * len(sc.groups):,} shift columns")
    t0 = time.perf_counter()
    lp = lp_bound(model)
    print(f"LP bound (HiGHS): {lp:,.0f} ({time.perf_counter() - t0:.1f} s)")
    t0 = time.perf_counter()
    _, rep = solve(
        sc, reqs, rules=r, solver=SolverOptions("scip", time_limit_s=300, rel_gap=0.01, threads=threads)
    )
    took = time.perf_counter() - t0
    print(
        f"SCIP to a 1% gap (limit 300 s): status {rep.status} after {took:.1f} s "
        f"(solver {rep.time_s:.1f} s), gap {rep.gap:.3%}, "
        f"cost {rep.objective:,.0f} = {rep.objective / lp:.4f} x LP bound"
    )
    for limit in (60, 300):
        _, rl = solve(
            sc, reqs, rules=r, solver=SolverOptions("scip", time_limit_s=limit, rel_gap=1e-9, threads=threads)
        )
        print(
            f"SCIP, {limit} s limit: status {rl.status}, gap {rl.gap:.3%}, cost {rl.objective:,.0f} "
            f"({rl.objective / lp:.4f} x LP bound), bound {rl.best_bound:,.0f}"
        )

    if tours:
        from optim.schedule import TourRules

        week = TourRules(days_per_week=(4, 5), consecutive_days_off=True, weekly_hours=(20, 40))
        t0 = time.perf_counter()
        _, rt = solve(
            sc,
            reqs,
            rules=r,
            week=week,
            solver=SolverOptions("scip", time_limit_s=300, rel_gap=0.01, threads=threads),
        )
        print(
            f"tours, SCIP (1% gap, limit 300 s): status {rt.status} after {time.perf_counter() - t0:.1f} s, "
            f"gap {rt.gap:.3%}, cost {rt.objective:,.0f} ({rt.objective / lp:.4f} x daily LP bound), "
            f"headcount {rt.headcount}, {rt.n_vars:,} variables, {rt.n_cons:,} constraints"
        )


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 1, tours="--tours" in sys.argv)
