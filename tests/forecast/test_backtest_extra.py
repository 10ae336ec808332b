"""Backtest horizons (1 day, 1 week, 2 weeks), pinball loss and band coverage, model selection on early
origins graded on later ones, and the plot, against hand computations and constructed cases."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from forecast_testutil import TZ, bonferroni_z, noise_free_history
from scipy import stats

from forecast import (
    BACKTEST_COLUMNS,
    INTERVAL_COLUMNS,
    ConfigError,
    HoltWinters,
    NegBinRegression,
    SeasonalAverage,
    SeasonalNaive,
    SyntheticChannel,
    backtest,
    band_coverage,
    demo_channels,
    expected_volume,
    format_table,
    pinball_loss,
    plot_forecast,
    run_backtest,
    select_models,
    synthetic_history,
)


def test_pinball_loss_and_coverage_by_hand():
    y = np.array([0.0, 5.0, 10.0, 2.0])
    p = np.array([2.0, 2.0, 2.0, 2.0])
    # y - p = -2, 3, 8, 0: q = 0.9 -> 0.1*2, 0.9*3, 0.9*8, 0
    assert pinball_loss(y, p, 0.9) == pytest.approx((0.2 + 2.7 + 7.2 + 0.0) / 4)
    # q = 0.5 is half the absolute error
    assert pinball_loss(y, p, 0.5) == pytest.approx(np.abs(y - p).mean() / 2)
    assert band_coverage(y, [0, 3, 9, 2], [1, 4, 12, 2]) == 0.75  # 0 in [0,1], 5 not in [3,4], 10, 2 in
    assert math.isnan(pinball_loss([], [], 0.5)) and math.isnan(band_coverage([], [], []))
    with pytest.raises(ConfigError, match="quantile"):
        pinball_loss(y, p, 1.0)


class ConstantNB:
    """A fake model: every interval of every channel of the history forecasts ``v`` with shape_day inf and
    shape_interval ``k``, so that its quantiles are those of NB(k, k / (k + v)) (closed form in scipy)."""

    def __init__(self, v=3.0, k=4.0):
        self.v, self.k = v, k

    def fit(self, history):
        self.channels_ = sorted(history["channel"].unique())
        return self

    def predict(self, index):
        return pd.concat(
            [
                pd.DataFrame(
                    {
                        "channel": c,
                        "interval_start": index,
                        "volume": self.v,
                        "aht_s": 300.0,
                        "shape_day": math.inf,
                        "shape_interval": self.k,
                    }
                )
                for c in self.channels_
            ],
            ignore_index=True,
        )


def test_backtest_pinball_and_coverage_against_a_hand_computation():
    spec = SyntheticChannel(200.0, open_hour=8.0, close_hour=20.0, peaks=((12.0, 2.0, 1.0),), shape_day=20.0)
    h = synthetic_history({"a": spec}, "2026-01-05", 21, 60, TZ, seed=9)
    qs = [0.1, 0.5, 0.9]
    bt = backtest(lambda: ConstantNB(3.0, 4.0), h, horizon_days=[1, 7], origins=2, step_days=7, quantiles=qs)
    assert list(bt.columns) == list(BACKTEST_COLUMNS) + list(INTERVAL_COLUMNS)
    assert len(bt) == 2 * 2
    q = {x: stats.nbinom.ppf(x, 4.0, 4.0 / 7.0) for x in qs}  # NB(4, mean 3): the model's quantiles
    s = h.set_index("interval_start")["volume"]
    for _, row in bt.iterrows():
        start = row["origin"]
        end = (start.tz_localize(None) + pd.Timedelta(days=row["horizon_days"])).tz_localize(TZ)
        y = s[(s.index >= start) & (s.index < end)].to_numpy()
        losses = [np.where(y >= q[x], x * (y - q[x]), (1 - x) * (q[x] - y)).mean() for x in qs]
        assert row["pinball"] == pytest.approx(np.mean(losses), rel=1e-12)
        # every interval counts (the forecast is positive everywhere); each covers the share of its
        # probability step [F(y - 1), F(y)] inside [0.1, 0.9]
        f_hi = stats.nbinom.cdf(y, 4.0, 4.0 / 7.0)
        f_lo = np.where(y >= 1, stats.nbinom.cdf(y - 1, 4.0, 4.0 / 7.0), 0.0)
        share = np.clip(np.minimum(f_hi, 0.9) - np.maximum(f_lo, 0.1), 0, None) / (f_hi - f_lo)
        assert row["coverage"] == pytest.approx(share.mean(), rel=1e-9)
        assert row["wape"] == pytest.approx(np.abs(3.0 - y).sum() / y.sum(), rel=1e-12)


def test_existing_columns_unchanged_and_list_horizons_match_single_runs():
    h = synthetic_history(demo_channels(), "2025-09-01", 42, 30, "UTC", seed=3)
    single = backtest(lambda: SeasonalAverage(weeks=2), h, horizon_days=7, origins=2)
    assert list(single.columns) == list(BACKTEST_COLUMNS)
    multi = backtest(lambda: SeasonalAverage(weeks=2), h, horizon_days=[7, 1], origins=2)
    assert list(multi.columns) == list(BACKTEST_COLUMNS) and len(multi) == 2 * 3 * 2
    pd.testing.assert_frame_equal(
        multi[multi["horizon_days"] == 7].reset_index(drop=True), single.reset_index(drop=True)
    )
    run = run_backtest(
        lambda: SeasonalAverage(weeks=2), h, horizon_days=[7, 1], origins=2, keep_forecasts=True
    )
    assert [o for o, _, _ in run.forecasts] == sorted(single["origin"].unique())
    assert all(len(f) == 3 * 48 * 7 and len(a) == 3 * 48 * 7 for _, f, a in run.forecasts)
    # the 1-day rows are the first day of the same windows, computed here by hand for one of them
    r = multi[(multi["horizon_days"] == 1) & (multi["channel"] == "chat")].iloc[-1]
    start = r["origin"]
    fc = (
        SeasonalAverage(weeks=2)
        .fit(h[h["interval_start"] < start])
        .predict(pd.date_range(start, periods=48, freq="30min"))
    )
    act = h[(h["channel"] == "chat") & (h["interval_start"] >= start)]["volume"].to_numpy()[:48]
    pred = fc[fc["channel"] == "chat"]["volume"].to_numpy()
    assert r["mae"] == pytest.approx(np.abs(pred - act).mean(), rel=1e-12)
    assert r["wape"] == pytest.approx(np.abs(pred - act).sum() / act.sum(), rel=1e-12)


def test_one_day_one_week_two_week_horizons_on_noise_free_data():
    """Holt-Winters and the regression reproduce a noiseless history at every horizon (1, 7, 14 days)."""
    h = noise_free_history(demo_channels(), "2026-01-05", 42)
    for factory in (HoltWinters, NegBinRegression):
        bt = backtest(factory, h, horizon_days=[1, 7, 14], origins=2, step_days=7, quantiles=[0.1, 0.5, 0.9])
        assert sorted(bt["horizon_days"].unique()) == [1, 7, 14] and len(bt) == 2 * 3 * 3
        assert (bt["wape"] < 1e-9).all() and (bt["mae"] < 1e-9).all()
        assert bt["mase"].isna().all()  # the naive scale of a periodic series is 0: no division
        assert bt["origin"].max() == pd.Timestamp("2026-02-02", tz=TZ)


class Oracle:
    """The generator's own model: expected volume and the true shapes (a fake model knowing the truth)."""

    def __init__(self, spec):
        self.spec = spec

    def fit(self, history):
        self.channels_ = ("a",)
        return self

    def predict(self, index):
        return pd.DataFrame(
            {
                "channel": "a",
                "interval_start": index,
                "volume": expected_volume(self.spec, index, 30),
                "aht_s": 300.0,
                "shape_day": self.spec.shape_day,
                "shape_interval": self.spec.shape_interval,
            }
        )


def test_two_week_coverage_of_the_true_model_is_its_nominal_coverage():
    """With the true model, the backtest's coverage of the 80 % band (the share of each count's probability
    step inside [0.1, 0.9], which a calibrated forecast has in expectation exactly 0.8) over 2-week windows is
    0.8 within a 99.9 % bound (the intervals are independent with shape_day = inf, and each share, in [0, 1]
    with mean 0.8, has variance at most 0.8 * 0.2). The plain share of counts between the quantiles equals
    its exact expected value, sum over intervals of P(q0.1 <= N <= q0.9) (> 0.8 for counts; scipy's NB)."""
    spec = SyntheticChannel(
        900.0, open_hour=7.0, close_hour=21.0, peaks=((11.0, 2.5, 1.0),), shape_interval=15.0
    )
    h = synthetic_history({"a": spec}, "2025-06-02", 63, 30, "UTC", seed=13)
    run = run_backtest(
        lambda: Oracle(spec),
        h,
        horizon_days=[1, 7, 14],
        origins=4,
        step_days=14,
        quantiles=[0.5],
        keep_forecasts=True,
    )
    bt = backtest(lambda: Oracle(spec), h, horizon_days=[1, 7, 14], origins=4, step_days=14, quantiles=[0.5])
    two = bt[bt["horizon_days"] == 14]
    assert len(two) == 4
    idx = pd.date_range(two["origin"].min(), periods=48 * 14 * 4, freq="30min")
    v = expected_volume(spec, idx, 30)
    n_open = int((v > 0).sum())
    got = two["coverage"].mean()  # four windows with equal counts of open intervals
    assert abs(got - 0.8) < bonferroni_z(2) * math.sqrt(0.16 / n_open)
    # the plain band
    v = v[v > 0]
    k = spec.shape_interval
    p = k / (k + v)
    lo, hi = stats.nbinom.ppf(0.1, k, p), stats.nbinom.ppf(0.9, k, p)
    inside = stats.nbinom.cdf(hi, k, p) - stats.nbinom.cdf(lo - 1, k, p)
    expected = inside.mean()
    sd = math.sqrt((inside * (1 - inside)).sum()) / v.size
    plain = []
    for _, fc, act in run.forecasts:
        y = act.set_index("interval_start")["volume"].reindex(fc["interval_start"]).to_numpy()
        live = fc["volume"].to_numpy() > 0
        plain.append(((y >= fc["q0.1"].to_numpy()) & (y <= fc["q0.9"].to_numpy()))[live])
    assert abs(np.concatenate(plain).mean() - expected) < bonferroni_z(2) * sd
    assert expected > 0.8


class Scaled:
    """A fake model forecasting the truth times ``early`` for days before ``switch`` and times ``late`` from
    it on (the truth is the noiseless history, so WAPE is |factor - 1| exactly)."""

    def __init__(self, spec, switch, early, late):
        self.spec, self.switch, self.early, self.late = spec, switch, early, late

    def fit(self, history):
        self.channels_ = ("a",)
        return self

    def predict(self, index):
        f = np.where(index < self.switch, self.early, self.late)
        return pd.DataFrame(
            {
                "channel": "a",
                "interval_start": index,
                "volume": expected_volume(self.spec, index, 15) * f,
                "aht_s": 300.0,
                "shape_day": math.inf,
                "shape_interval": math.inf,
            }
        )


def test_selection_uses_only_the_early_origins():
    """'early' is perfect before the switch and 50 % high after it, 'late' is 20 % high before and perfect
    after: chosen on the early origins, 'early' must win and be graded at WAPE 0.5 (the late winner would
    have 0)."""
    spec = SyntheticChannel(1000.0, open_hour=8.0, close_hour=18.0)
    h = noise_free_history({"a": spec}, "2026-01-05", 35)
    switch = pd.Timestamp("2026-02-06", tz=TZ)  # origins are 2026-02-03 .. 2026-02-08, one day apart
    factories = {
        "early": lambda: Scaled(spec, switch, 1.0, 1.5),
        "late": lambda: Scaled(spec, switch, 1.2, 1.0),
        "seasonal_naive": SeasonalNaive,
    }
    sel = select_models(factories, h, 1, 6, 3)
    assert max(sel.select_origins) < switch <= min(sel.eval_origins)
    assert sel.chosen == {"a": "early"}
    t = sel.table.set_index("model")
    assert t.loc["early", "select_wape"] == pytest.approx(0.0, abs=1e-12)
    assert t.loc["late", "select_wape"] == pytest.approx(0.2)
    assert t.loc["early", "wape"] == pytest.approx(0.5) and t.loc["late", "wape"] == pytest.approx(
        0.0, abs=1e-12
    )
    s = sel.summary.iloc[0]
    assert s["model"] == "early" and s["wape"] == pytest.approx(0.5)
    assert s["baseline"] == "seasonal_naive" and s["baseline_wape"] == pytest.approx(0.0, abs=1e-9)
    assert not s["beats_baseline"]
    assert set(sel.raw["phase"]) == {"select", "evaluate"}
    assert "early" in format_table(sel.table)
    # the same choice when the late origins' results change: grading never feeds back into the choice
    factories["early"] = lambda: Scaled(spec, switch, 1.0, 3.0)
    assert select_models(factories, h, 1, 6, 3).chosen == {"a": "early"}


def test_selection_purge_and_bad_arguments():
    spec = SyntheticChannel(1000.0, open_hour=8.0, close_hour=18.0)
    h = noise_free_history({"a": spec}, "2026-01-05", 35)
    f = {"naive": SeasonalNaive, "avg": lambda: SeasonalAverage(weeks=2)}
    sel = select_models(f, h, 7, 8, 1, step_days=1, purge=True)
    # windows are 7 days: the first evaluation origin is 7 days after the (only) selection origin
    assert len(sel.select_origins) == 1 and len(sel.eval_origins) == 1
    assert (sel.eval_origins[0] - sel.select_origins[0]).days == 7
    assert (sel.raw["phase"] == "purged").sum() == 2 * 6
    with pytest.raises(ConfigError, match="select_origins"):
        select_models(f, h, 1, 4, 4)
    with pytest.raises(ConfigError, match="baseline"):
        select_models(f, h, 1, 4, 2, baseline="nope")
    with pytest.raises(ConfigError, match="purge"):
        select_models(f, h, 7, 2, 1, step_days=1, purge=True)


def test_zero_actuals_give_nan_metrics_without_warnings():
    h = noise_free_history(demo_channels(), "2026-01-05", 21)
    h.loc[h["channel"] == "email", "volume"] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bt = backtest(NegBinRegression, h, horizon_days=[1, 7], origins=1, quantiles=[0.1, 0.9])
    e = bt[bt["channel"] == "email"]
    assert e["wape"].isna().all() and e["coverage"].isna().all() and (e["pinball"] == 0).all()


def test_plot_is_written_whole(tmp_path):
    h = synthetic_history(demo_channels(), "2025-09-01", 21, 30, "UTC", seed=1)
    idx = pd.date_range("2025-09-15", periods=48 * 7, freq="30min", tz="UTC")
    fc = SeasonalAverage(weeks=2).fit(h[h["interval_start"] < idx[0]]).predict(idx)
    path = plot_forecast(fc, h, tmp_path / "sub" / "fc.png", title="test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["fc.png"]  # no temporary file left
    with pytest.raises(ValueError):
        plot_forecast(fc, h, tmp_path / "bad.nosuchformat")
    assert not any(p.name.startswith(".bad") for p in tmp_path.iterdir())
