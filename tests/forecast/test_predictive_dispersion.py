"""Prediction bands include the error of estimating the mean: on stationary synthetic data with known shapes
(forecast.synthetic), the 80 % band of every model covers 80 % of the actual counts.

Coverage is the backtest's discreteness-corrected one (each count covers the share of its probability step
[F(y - 1), F(y)] inside [0.1, 0.9], which a calibrated forecast has in expectation exactly 0.8 at any
volume). The reference is that nominal 0.8; the tolerance is a Bonferroni z (99.9 % over all checks) times
the standard error from the scored intervals grouped by day (the intervals of a day share the day multiplier
and the estimates, so the days, not the intervals, are the independent units), and that standard error must
itself be small (< 0.01) for the check to mean something. Without the estimation error the same bands cover
far less (seasonal naive about 0.65), which the last test shows with the process shapes alone."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from forecast_testutil import bonferroni_z

from forecast import (
    Ensemble,
    HoltWinters,
    NegBinRegression,
    PoissonRegression,
    SeasonalAverage,
    SeasonalNaive,
    SyntheticChannel,
    run_backtest,
    synthetic_history,
)
from forecast.backtest import pit_coverage

SEEDS = 8
MODELS = {
    "seasonal_naive": SeasonalNaive,
    "seasonal_average": lambda: SeasonalAverage(weeks=4),
    "holt_winters": HoltWinters,
    "negbin": NegBinRegression,
    "negbin_main": lambda: NegBinRegression(interaction=False),
    "ensemble": lambda: Ensemble([HoltWinters(), NegBinRegression(), SeasonalAverage()]),
}
PROFILES = {
    # flat: every interval has the same volume (the constant shapes represent the estimation error exactly)
    "flat": SyntheticChannel(2400.0, open_hour=0.0, close_hour=24.0, shape_day=200.0, shape_interval=100.0),
    # open 06-22 with two peaks: quiet and busy intervals share one shape
    "peaked": SyntheticChannel(
        3000.0,
        open_hour=6.0,
        close_hour=22.0,
        peaks=((10.0, 1.5, 1.0), (15.0, 2.0, 0.8)),
        shape_day=200.0,
        shape_interval=100.0,
    ),
}
Z = bonferroni_z(len(MODELS) * len(PROFILES) + 1)


def _day_coverage(factory, spec: SyntheticChannel, *, process_only: bool = False) -> np.ndarray:
    """Per scored day, the mean coverage of the 80 % band over its open intervals: 7-day windows at 3
    origins a week apart in each of SEEDS independent 7-week histories (30-minute intervals, UTC)."""
    out = []
    for seed in range(SEEDS):
        h = synthetic_history({"a": spec}, "2025-01-06", 49, 30, "UTC", seed=1000 + seed)
        run = run_backtest(
            factory, h, horizon_days=7, origins=3, step_days=7, quantiles=[0.1, 0.9], keep_forecasts=True
        )
        raw = run.raw
        for origin, fc, actual in run.forecasts:
            y = actual.set_index("interval_start")["volume"].reindex(fc["interval_start"]).to_numpy()
            v = fc["volume"].to_numpy()
            kd, ki = fc["shape_day"].to_numpy(), fc["shape_interval"].to_numpy()
            if process_only:
                m = factory().fit(h[h["interval_start"] < origin])
                kd, ki = m.process_shape_day_["a"], m.process_shape_interval_["a"]
            cov = pit_coverage(y, v, kd, ki, 0.1, 0.9)
            live = (v > 0) | (y > 0)
            day = pd.DatetimeIndex(fc["interval_start"]).normalize()[live]
            out.extend(pd.Series(cov[live]).groupby(day).mean().to_numpy())
            if not process_only:  # the backtest's own sums agree with the per-interval shares
                r = raw[raw["origin"] == origin]
                assert r["covered"].sum() == pytest.approx(cov[live].sum(), rel=1e-9)
    return np.asarray(out)


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("name", list(MODELS))
def test_bands_cover_their_nominal_level(name, profile):
    per_day = _day_coverage(MODELS[name], PROFILES[profile])
    se = per_day.std(ddof=1) / math.sqrt(per_day.size)
    assert se < 0.01, se
    assert abs(per_day.mean() - 0.8) < Z * se, (per_day.mean(), se)


def test_poisson_regression_on_poisson_arrivals():
    """Pure Poisson arrivals (both shapes inf): the Poisson model's bands hold the Poisson variance plus that
    of a cell mean of n days, v / n, and cover 80 %."""
    spec = SyntheticChannel(1200.0, open_hour=7.0, close_hour=21.0, peaks=((12.0, 3.0, 1.0),))
    per_day = _day_coverage(PoissonRegression, spec)
    se = per_day.std(ddof=1) / math.sqrt(per_day.size)
    assert se < 0.01
    assert abs(per_day.mean() - 0.8) < Z * se, (per_day.mean(), se)


def test_process_shapes_alone_are_too_narrow():
    """The counter-check: seasonal naive's bands from the process shapes alone (the day-to-day dispersion
    around weekday means, what every model reported before) cover far less than 80 %."""
    per_day = _day_coverage(SeasonalNaive, PROFILES["flat"], process_only=True)
    se = per_day.std(ddof=1) / math.sqrt(per_day.size)
    assert per_day.mean() < 0.8 - Z * se - 0.05
