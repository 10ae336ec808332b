import numpy as np
import pandas as pd
import pytest
from forecast_testutil import TZ, noise_free_history

from forecast import DataError, SeasonalAverage, SeasonalNaive, backtest, demo_channels, synthetic_history


def test_noise_free_seasonal_naive_is_perfect():
    h = noise_free_history(demo_channels(), "2026-02-02", 49)  # crosses the spring DST change
    bt = backtest(SeasonalNaive, h, horizon_days=7, origins=3)
    assert list(bt.columns) == ["origin", "channel", "horizon_days", "wape", "mae", "bias", "mase"]
    assert len(bt) == 9
    assert (bt["wape"].abs() < 1e-12).all() and (bt["mae"].abs() < 1e-12).all()


def test_noisy_backtest_shape_and_seasonal_naive_reference():
    h = synthetic_history(demo_channels(), "2025-09-01", 56, 30, "UTC", seed=3)
    bt = backtest(lambda: SeasonalAverage(weeks=3), h, horizon_days=7, origins=3, step_days=5)
    assert len(bt) == 3 * 3
    assert set(bt["channel"]) == {"voice", "chat", "email"}
    origins = sorted(bt["origin"].unique())
    assert [b - a for a, b in zip(origins, origins[1:])] == [pd.Timedelta(days=5)] * 2
    assert origins[-1] == pd.Timestamp("2025-10-20", tz="UTC")
    assert np.isfinite(bt[["wape", "mae", "bias", "mase"]].to_numpy()).all()

    # independent reference for SeasonalNaive: the forecast is the actual one week earlier
    nv = backtest(SeasonalNaive, h, horizon_days=7, origins=1)
    s = h[h["channel"] == "voice"].set_index("interval_start")["volume"]
    start = pd.Timestamp("2025-10-20", tz="UTC")
    test = s[(s.index >= start) & (s.index < start + pd.Timedelta(days=7))]
    prev = s.reindex(test.index - pd.Timedelta(days=7)).to_numpy()
    err = prev - test.to_numpy()
    train = s[s.index < start]
    scale = np.abs(train.to_numpy()[48 * 7 :] - train.to_numpy()[: -48 * 7]).mean()
    row = nv[nv["channel"] == "voice"].iloc[0]
    assert row["wape"] == pytest.approx(np.abs(err).sum() / test.sum(), rel=1e-12)
    assert row["bias"] == pytest.approx(err.mean(), rel=1e-12)
    assert row["mase"] == pytest.approx(np.abs(err).mean() / scale, rel=1e-12)


def test_zero_actuals_give_nan_wape_not_an_error():
    h = noise_free_history(demo_channels(), "2026-01-05", 21)
    h.loc[h["channel"] == "email", "volume"] = 0.0
    bt = backtest(SeasonalNaive, h, horizon_days=7, origins=1)
    email = bt[bt["channel"] == "email"].iloc[0]
    assert np.isnan(email["wape"]) and email["mae"] == 0 and np.isnan(email["mase"])


def test_too_short_history():
    h = noise_free_history(demo_channels(), "2026-01-05", 20)
    with pytest.raises(DataError, match=r"history holds 20 days; .*needs at least 21"):
        backtest(SeasonalNaive, h, horizon_days=7, origins=2)
    assert len(backtest(SeasonalNaive, h, horizon_days=6, origins=2)) == 6
    assert TZ in str(pd.DatetimeIndex(h["interval_start"]).tz)
