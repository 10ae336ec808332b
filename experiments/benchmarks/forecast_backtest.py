"""Benchmark: forecast models on the bank's 28 days, chosen per channel by rolling-origin backtest.

Candidates: seasonal naive (last week), seasonal average (up to 4 weeks), Holt-Winters on daily totals x
intraday profile, negative-binomial regression on weekday x time of day (full interaction, and main effects
weekday + time of day), and the equal-weight ensemble of Holt-Winters, the main-effects regression and the
seasonal average. For each horizon (1 day: 14 origins a day apart, chosen on the first 7; 1 week: 8 origins
a day apart, chosen on the first 4) the model with the lowest pooled WAPE on the selection origins is chosen
per channel and graded on the later origins: WAPE, MASE, pinball loss at the 10/50/90 % quantiles and the
coverage of the 80 % band, beside seasonal naive's WAPE on the same origins. With 1-week windows a day apart
the later windows share days with the selection windows; a purged variant (chosen on the first origin,
graded on the last, whose windows are disjoint) is printed too. It prints the per-candidate table (which
model wins at which horizon) and writes forecast-versus-actual plots with bands of the chosen models at the
last origin and the tables as CSV into ``OUT_DIR`` (default ``results/forecast_backtest``).

Uses ``forecast.bank.bank_history()`` when that module is there; otherwise (or with ``--synthetic``) the
synthetic demo centre's 28 days. Run: ``python -m experiments.benchmarks.forecast_backtest [OUT_DIR]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from forecast import (
    Ensemble,
    HoltWinters,
    NegBinRegression,
    SeasonalAverage,
    SeasonalNaive,
    chosen_backtest,
    demo_channels,
    format_table,
    plot_forecast,
    select_models,
    synthetic_history,
)
from forecast.files import write_atomic

FACTORIES = {
    "seasonal_naive": SeasonalNaive,
    "seasonal_average": lambda: SeasonalAverage(weeks=4),
    "holt_winters": HoltWinters,
    "negbin_dow_x_tod": NegBinRegression,
    "negbin_dow_plus_tod": lambda: NegBinRegression(interaction=False),
    "ensemble": lambda: Ensemble(
        {
            "hw": HoltWinters(),
            "nb": NegBinRegression(interaction=False),
            "avg": SeasonalAverage(weeks=4),
        }
    ),
}
#: (horizon_days, origins, select_origins): origins a day apart, the last ending with the history.
PLAN = ((1, 14, 7), (7, 8, 4))


def load_history(synthetic: bool) -> tuple[str, pd.DataFrame]:
    if not synthetic:
        try:
            from forecast.bank import bank_history
        except ImportError:
            print("forecast.bank is not there: using the synthetic demo centre instead")
        else:
            return "bank", bank_history()
    return "synthetic", synthetic_history(demo_channels(), "2026-02-02", 28, 15, "Europe/Berlin", seed=1)


def main(out_dir: str = "results/forecast_backtest", synthetic: bool = False) -> None:
    source, history = load_history(synthetic)
    out = Path(out_dir)
    n_days = history["interval_start"].dt.date.nunique()
    print(f"data: {source}, {history['channel'].nunique()} channels, {n_days} days, {len(history)} rows")
    wins = {}
    for horizon, origins, select in PLAN:
        t0 = time.perf_counter()
        sel = select_models(FACTORIES, history, horizon, origins, select, step_days=1)
        dt = time.perf_counter() - t0
        print(
            f"\n== horizon {horizon} day(s): {origins} origins a day apart, chosen on the first {select} "
            f"({sel.select_origins[0].date()} .. {sel.select_origins[-1].date()}), graded on "
            f"{len(sel.eval_origins)} ({sel.eval_origins[0].date()} .. {sel.eval_origins[-1].date()}); "
            f"{dt:.1f} s"
        )
        print(format_table(sel.table))
        print("\nchosen per channel (graded on the later origins):")
        print(format_table(sel.summary))
        s = sel.summary
        pooled = sel.table[sel.table["chosen"]]
        print(
            f"beats seasonal naive on WAPE: {int(s['beats_baseline'].sum())} of {len(s)} channels; "
            f"mean coverage of the 80% band {pooled['coverage'].mean():.1%}"
        )
        wins[horizon] = s.set_index("channel")
        write_atomic(out / f"{source}_{horizon}d_table.csv", lambda p, t=sel.table: t.to_csv(p, index=False))
        fc, actual = chosen_backtest(FACTORIES, sel.chosen, history, sel.eval_origins[-1], horizon)
        path = plot_forecast(
            fc,
            actual,
            out / f"{source}_{horizon}d.png",
            title=f"{source}: chosen models, {horizon}-day horizon from {sel.eval_origins[-1].date()}",
        )
        print(f"plot: {path}")
        if horizon == 7:
            purged = select_models(FACTORIES, history, horizon, origins, 1, step_days=1, purge=True)
            print(
                f"\npurged variant (chosen on {purged.select_origins[0].date()}, graded on "
                f"{', '.join(str(o.date()) for o in purged.eval_origins)}; disjoint windows):"
            )
            print(format_table(purged.summary))

    print("\n== which model wins at which horizon (chosen; WAPE on the later origins vs seasonal naive)")
    rows = []
    for c in sorted(wins[PLAN[0][0]].index):
        row = {"channel": c}
        for horizon, _, _ in PLAN:
            r = wins[horizon].loc[c]
            row[f"{horizon}d_model"] = r["model"]
            row[f"{horizon}d_wape"] = r["wape"]
            row[f"{horizon}d_naive"] = r["baseline_wape"]
        row["beats_naive_both"] = all(bool(wins[h].loc[c, "beats_baseline"]) for h, _, _ in PLAN)
        rows.append(row)
    print(format_table(pd.DataFrame(rows)))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(args[0] if args else "results/forecast_backtest", synthetic="--synthetic" in sys.argv)
