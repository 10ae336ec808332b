import dataclasses
import inspect
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from forecast_testutil import TZ, bonferroni_z, mixed_poisson_var, noise_free_history

from forecast import (
    FORECAST_COLUMNS,
    ConfigError,
    DataError,
    SeasonalAverage,
    SeasonalNaive,
    SyntheticChannel,
    demo_channels,
    expected_volume,
    synthetic_history,
    validate_forecast,
)


def _week(start: str, days: int = 7, interval_min: int = 15) -> pd.DatetimeIndex:
    first = pd.Timestamp(start).tz_localize(TZ)
    last = (pd.Timestamp(start) + pd.Timedelta(days=days)).tz_localize(TZ)
    return pd.date_range(first, last, freq=f"{interval_min}min", inclusive="left")


@pytest.mark.parametrize("model", [SeasonalNaive(), SeasonalAverage(weeks=4)])
@pytest.mark.parametrize("target", ["2026-04-06", "2026-10-25"])
def test_noise_free_history_is_reproduced_exactly(model, target):
    """History crossing the spring DST change; predict a normal week and the 100-quarter-hour autumn day."""
    ch = demo_channels()
    h = noise_free_history(ch, "2026-03-02", 35)
    idx = _week(target, days=1 if target.endswith("25") else 7)
    fc = model.fit(h).predict(idx)
    assert list(fc.columns) == list(FORECAST_COLUMNS)
    for name, spec in ch.items():
        f = fc[fc["channel"] == name]
        assert len(f) == len(idx)
        np.testing.assert_allclose(f["volume"].to_numpy(), expected_volume(spec, idx, 15), rtol=0, atol=1e-9)
        # AHT: the mean handle time where open; the channel's volume-weighted mean elsewhere
        hours = np.asarray(idx.hour + idx.minute / 60)
        open_ = expected_volume(spec, idx, 15) > 0
        np.testing.assert_allclose(
            f["aht_s"].to_numpy()[open_], spec.mean_aht_s(hours[open_], 15), rtol=1e-12
        )
        hh = h[h["channel"] == name]
        overall = (hh["volume"] * hh["aht_s"]).sum() / hh["volume"].sum()
        np.testing.assert_allclose(f["aht_s"].to_numpy()[~open_], overall, rtol=1e-12)
        # noise-free data has no extra variance
        assert math.isinf(model.shape_day_[name]) or model.shape_day_[name] > 1e6


def test_predict_accepts_an_object_with_starts_and_keeps_its_tz():
    h = noise_free_history(demo_channels(), "2026-01-05", 14)

    class Grid:
        starts = _week("2026-01-19", 1).tz_convert("UTC")
        interval_min = 15

    fc = SeasonalNaive().fit(h).predict(Grid())
    assert str(fc["interval_start"].dt.tz) == "UTC"
    ref = expected_volume(demo_channels()["chat"], Grid.starts.tz_convert(TZ), 15)
    np.testing.assert_allclose(fc[fc["channel"] == "chat"]["volume"].to_numpy(), ref, atol=1e-9)
    Grid.interval_min = 30
    with pytest.raises(ConfigError, match="15-minute"):
        SeasonalNaive().fit(h).predict(Grid())


def test_seasonal_average_recovers_expected_volume_on_noisy_data():
    """Each slot's forecast is the mean of W independent draws (different days): z-test on every open slot,
    Bonferroni z at 99.9 % over the slots."""
    kd, ki, weeks = 40.0, 200.0, 12
    spec = dataclasses.replace(demo_channels()["voice"], shape_day=kd, shape_interval=ki)
    h = synthetic_history({"voice": spec}, "2025-09-01", 7 * weeks, 30, "UTC", seed=21)
    idx = pd.date_range("2025-11-24", periods=48 * 7, freq="30min", tz="UTC")
    fc = SeasonalAverage(weeks=weeks).fit(h).predict(idx)
    v = expected_volume(spec, idx, 30)
    open_ = v > 0
    assert (fc["volume"].to_numpy()[~open_] == 0).all()
    z = (fc["volume"].to_numpy()[open_] - v[open_]) / np.sqrt(mixed_poisson_var(v[open_], kd, ki) / weeks)
    assert np.abs(z).max() < bonferroni_z(int(open_.sum()))


def test_dispersion_estimates_recover_the_shapes():
    """Replicated check of the moment estimators (bias and spread).

    R independent histories; the estimates of 1/shape are compared with the truth: their mean must be within
    4 standard errors (sample sd / sqrt(R)) and each one within 5 sample sds. shape_interval is estimated
    conditional on the day totals, so it is unaffected by the day multiplier.
    """
    kd, ki, weeks, reps = 20.0, 20.0, 8, 16
    spec = SyntheticChannel(
        2000.0, open_hour=6.0, close_hour=22.0, peaks=((10.0, 2.0, 1.0),), shape_day=kd, shape_interval=ki
    )
    inv_d, inv_i = [], []
    for seed in range(reps):
        h = synthetic_history({"a": spec}, "2025-01-06", 7 * weeks, 15, "UTC", seed=100 + seed)
        m = SeasonalAverage(weeks=weeks).fit(h)
        inv_d.append(1 / m.process_shape_day_["a"])
        inv_i.append(1 / m.process_shape_interval_["a"])
    for est, truth in ((np.array(inv_d), 1 / kd), (np.array(inv_i), 1 / ki)):
        sd = est.std(ddof=1)
        assert abs(est.mean() - truth) < 4 * sd / math.sqrt(reps)
        assert np.abs(est - truth).max() < 5 * sd
        assert sd < 0.3 * truth  # the estimator is informative at this size


def test_no_interval_noise_gives_a_large_interval_shape():
    spec = SyntheticChannel(2000.0, open_hour=6.0, close_hour=22.0, peaks=((10.0, 2.0, 1.0),), shape_day=20.0)
    h = synthetic_history({"a": spec}, "2025-01-06", 7 * 8, 15, "UTC", seed=4)
    m = SeasonalAverage(weeks=8).fit(h)
    # 1/shape_interval near 0: its sampling sd at this size is about 0.0027 (see the test above)
    assert 1 / m.process_shape_interval_["a"] < 0.012


def test_learned_attributes_end_in_underscore():
    h = noise_free_history(demo_channels(), "2026-01-05", 14)
    for model in (SeasonalNaive(), SeasonalAverage(weeks=2)):
        params = set(inspect.signature(type(model).__init__).parameters) - {"self"}
        assert set(vars(model)) == params
        model.fit(h)
        learned = set(vars(model)) - params
        assert learned >= {"profile_", "aht_", "shape_day_", "shape_interval_", "channels_"}
        assert all(a.endswith("_") for a in learned)
        assert model.channels_ == ("chat", "email", "voice")


def test_too_short_history_raises():
    h = noise_free_history(demo_channels(), "2026-01-05", 6)
    with pytest.raises(DataError, match=r"history holds 6 days; SeasonalAverage\(weeks=4\) needs at least 7"):
        SeasonalAverage(weeks=4).fit(h)
    with pytest.raises(DataError, match="6 days"):
        SeasonalNaive().fit(h)


def test_uses_all_weeks_when_fewer_than_asked():
    h = noise_free_history(demo_channels(), "2026-01-05", 17)
    m = SeasonalAverage(weeks=4).fit(h)
    assert m.weeks_ == 2
    assert m.n_days_ == 17


def test_all_zero_channel_gives_zeros_without_warnings():
    h = noise_free_history(demo_channels(), "2026-01-05", 21)
    zero = h[h["channel"] == "email"].assign(channel="dead", volume=0.0, aht_s=np.nan)
    h = pd.concat([h, zero], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = SeasonalAverage(weeks=3).fit(h)
        fc = m.predict(_week("2026-01-26"))
    dead = fc[fc["channel"] == "dead"]
    assert (dead["volume"] == 0).all()
    assert np.isfinite(dead["aht_s"]).all() and (dead["aht_s"] == m.default_aht_s).all()
    assert math.isinf(m.shape_day_["dead"]) and math.isinf(m.shape_interval_["dead"])
    validate_forecast(fc)


def test_missing_rows_count_as_zero_and_dst_gap_uses_nearest_clock_time():
    # a 24 h channel; its history has no rows for the night, and the last week holds the spring DST day
    spec = SyntheticChannel(960.0)  # flat: 10 per quarter hour on a 96-quarter day
    h = noise_free_history({"a": spec}, "2026-03-23", 7)
    kept = h[pd.DatetimeIndex(h["interval_start"]).hour >= 1].reset_index(drop=True)
    m = SeasonalNaive().fit(kept)
    fc = m.predict(_week("2026-04-05", 1))  # a normal Sunday, 96 quarter hours
    local = pd.DatetimeIndex(fc["interval_start"])
    vol = fc["volume"].to_numpy()
    np.testing.assert_allclose(vol[local.hour == 0], 0.0)
    # 2026-03-29 02:00-02:59 did not exist: nearest observed clock time (01:45 or 03:00) is used
    on_dst = h[pd.DatetimeIndex(h["interval_start"]).normalize() == pd.Timestamp("2026-03-29", tz=TZ)]
    np.testing.assert_allclose(vol[local.hour == 2], on_dst["volume"].iloc[-1])


def test_bad_input():
    h = noise_free_history(demo_channels(), "2026-01-05", 14)
    with pytest.raises(ConfigError, match="not fitted"):
        SeasonalNaive().predict(_week("2026-01-19", 1))
    with pytest.raises(ConfigError, match="weeks"):
        SeasonalAverage(weeks=0).fit(h)
    with pytest.raises(DataError, match="missing column"):
        SeasonalNaive().fit(h.drop(columns="volume"))
    bad = h.copy()
    bad.loc[5, "volume"] = -1.0
    with pytest.raises(DataError, match="'volume', row 5"):
        SeasonalNaive().fit(bad)
    with pytest.raises(ConfigError, match="tz-aware"):
        SeasonalNaive().fit(h).predict(pd.date_range("2026-01-19", periods=4, freq="15min"))
