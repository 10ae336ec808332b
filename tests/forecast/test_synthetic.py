import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from forecast_testutil import TZ, bonferroni_z, mixed_poisson_var

from forecast import ConfigError, SyntheticChannel, demo_channels, expected_volume, synthetic_history


def test_deterministic_for_a_seed_and_seeds_differ():
    ch = demo_channels()
    a = synthetic_history(ch, "2026-01-05", 3, 15, TZ, seed=7)
    b = synthetic_history(ch, "2026-01-05", 3, 15, TZ, seed=7)
    c = synthetic_history(ch, "2026-01-05", 3, 15, TZ, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.array_equal(a["volume"].to_numpy(), c["volume"].to_numpy())


def test_adding_a_channel_does_not_change_the_others():
    ch = demo_channels()
    both = synthetic_history(ch, "2026-01-05", 2, 15, TZ, seed=3)
    voice = synthetic_history({"voice": ch["voice"]}, "2026-01-05", 2, 15, TZ, seed=3)
    pd.testing.assert_frame_equal(both[both["channel"] == "voice"].reset_index(drop=True), voice)


@pytest.mark.parametrize(("day", "n_quarters"), [("2026-03-29", 92), ("2026-10-25", 100), ("2026-06-01", 96)])
def test_dst_days(day, n_quarters):
    ch = demo_channels()
    h = synthetic_history(ch, day, 1, 15, TZ, seed=1)
    assert (h.groupby("channel").size() == n_quarters).all()
    assert not h.duplicated(["channel", "interval_start"]).any()
    # consecutive in absolute time
    starts = h[h["channel"] == "voice"]["interval_start"]
    assert (starts.diff().dropna() == pd.Timedelta(minutes=15)).all()
    weekday = pd.Timestamp(day).weekday()
    idx = pd.DatetimeIndex(starts)
    for name, spec in ch.items():
        ev = expected_volume(spec, idx, 15)
        # independent reference: the contract says the day's expected total is daily_volume x dow factor
        assert ev.sum() == pytest.approx(spec.daily_volume * spec.dow_factors[weekday], rel=1e-12), name


def test_expected_volume_is_independent_of_the_index_extent(flat_channel):
    idx = pd.date_range("2026-03-29", periods=92, freq="15min", tz=TZ)
    full = expected_volume(flat_channel, idx, 15)
    part = expected_volume(flat_channel, idx[40:50], 15)
    np.testing.assert_allclose(part, full[40:50], rtol=1e-15)


def test_no_arrivals_outside_open_hours():
    ch = {
        "x": SyntheticChannel(800.0, open_hour=7.5, close_hour=19.0, peaks=((12.0, 3.0, 1.0),), shape_day=5.0)
    }
    h = synthetic_history(ch, "2026-03-23", 14, 15, TZ, seed=2)
    local = pd.DatetimeIndex(h["interval_start"])
    hours = local.hour + local.minute / 60
    busy = h["volume"].to_numpy() > 0
    assert busy.sum() > 0
    assert (hours[busy] >= 7.5).all()
    assert (hours[busy] + 0.25 <= 19.0).all()
    assert h.loc[~busy, "aht_s"].isna().all()
    assert (h.loc[busy, "aht_s"] > 0).all()


def test_slot_means_match_expected_volume():
    """Mean over W weeks of each (weekday, clock) slot vs expected_volume.

    The W draws of a slot fall on different days, so they are independent with variance
    v + v^2 ((1 + 1/kd)(1 + 1/ki) - 1) (mixed Poisson); the tolerance is z sqrt(var / W) with a
    Bonferroni z over all open slots at 99.9 % (>= 4).
    """
    spec = dataclasses.replace(demo_channels()["voice"], shape_day=40.0, shape_interval=200.0)
    weeks = 26
    h = synthetic_history({"voice": spec}, "2025-06-02", 7 * weeks, 30, "UTC", seed=11)
    idx = pd.DatetimeIndex(h["interval_start"])
    ev = expected_volume(spec, idx, 30)
    key = pd.MultiIndex.from_arrays([idx.day_of_week, idx.hour * 60 + idx.minute])
    mean = pd.Series(h["volume"].to_numpy(), index=key).groupby(level=[0, 1]).mean()
    v = pd.Series(ev, index=key).groupby(level=[0, 1]).first()
    open_ = v.to_numpy() > 0
    assert (mean.to_numpy()[~open_] == 0).all()
    se = np.sqrt(mixed_poisson_var(v.to_numpy()[open_], 40.0, 200.0) / weeks)
    z = (mean.to_numpy()[open_] - v.to_numpy()[open_]) / se
    assert np.abs(z).max() < bonferroni_z(int(open_.sum()))
    # no systematic bias: per weekday, the mean daily total over the weeks; slots of a day share G_d, so
    # Var(T) = m + m^2/kd + (1 + 1/kd) sum_t v_t^2 / ki (not the sum of the slot variances)
    day = pd.Series(h["volume"].to_numpy(), index=idx).groupby(idx.normalize()).sum()
    mean_day = day.groupby(day.index.day_of_week).mean()
    for w, m_hat in mean_day.items():
        vw = v.loc[w].to_numpy()
        m = vw.sum()
        var = m + m**2 / 40.0 + (1 + 1 / 40.0) * (vw**2).sum() / 200.0
        assert abs(m_hat - m) < bonferroni_z(7) * math.sqrt(var / weeks), w


def se_inv_shape_day(m: float, k: float, weeks: int, groups: int) -> float:
    """Delta-method standard error of the pooled moment estimator of 1/shape_day used below.

    Daily totals Y ~ Poisson(m G), G ~ Gamma(k, 1/k): cumulants of the mixed Poisson
    kappa_n(Y) from K_Y(t) = K_L(e^t - 1) with L = m G (kappa_n(L) = (n-1)! m^n / k^(n-1)):
    k2 = m + m^2/k, k3 = m + 3 m^2/k + 2 m^3/k^2, k4 = m + 7 m^2/k + 12 m^3/k^2 + 6 m^4/k^3.
    Var(mean) = k2/W, Cov(mean, s2) = k3/W, Var(s2) = k4/W + 2 k2^2/(W-1); f = (s2 - m)/(m^2 - s2/W).
    The ``groups`` weekdays have the same m and are independent, so the pooled estimator has Var/groups.
    """
    l2, l3, l4 = m**2 / k, 2 * m**3 / k**2, 6 * m**4 / k**3
    k2 = m + l2
    k3 = m + 3 * l2 + l3
    k4 = m + 7 * l2 + 6 * l3 + l4
    d = m**2 - k2 / weeks
    num = k2 - m
    g_s2 = 1 / d + num / (weeks * d**2)
    g_m = -1 / d - num * 2 * m / d**2
    var = g_s2**2 * (k4 / weeks + 2 * k2**2 / (weeks - 1)) + g_m**2 * k2 / weeks + 2 * g_s2 * g_m * k3 / weeks
    return math.sqrt(var / groups)


def moment_inv_shape_day(h: pd.DataFrame) -> tuple[float, int]:
    local = pd.DatetimeIndex(h["interval_start"]).tz_localize(None)
    daily = h.groupby(local.normalize())["volume"].sum()
    num = den = 0.0
    weeks = 0
    for _, t in daily.groupby(daily.index.day_of_week):
        weeks = len(t)
        num += t.var(ddof=1) - t.mean()
        den += t.mean() ** 2 - t.var(ddof=1) / len(t)
    return num / den, weeks


def test_overdispersion_recovers_the_day_shape(flat_channel):
    k = 20.0
    spec = dataclasses.replace(flat_channel, shape_day=k)
    h = synthetic_history({"a": spec}, "2025-01-06", 7 * 42, 15, TZ, seed=5)
    est, weeks = moment_inv_shape_day(h)
    assert weeks == 42
    se = se_inv_shape_day(spec.daily_volume, k, weeks, 7)  # about 0.0045 for 1/k = 0.05
    assert abs(est - 1 / k) < 4 * se
    # no day multiplier: the estimator is near 0, far from 1/k
    h0 = synthetic_history({"a": flat_channel}, "2025-01-06", 7 * 42, 15, TZ, seed=5)
    est0, _ = moment_inv_shape_day(h0)
    assert abs(est0) < 4 * se_inv_shape_day(2000.0, 1e12, 42, 7)


def test_bad_parameters_raise_config_error(flat_channel):
    with pytest.raises(ConfigError, match="dow_factors"):
        SyntheticChannel(100.0, dow_factors=(1.0,) * 6)
    with pytest.raises(ConfigError, match="shape_day"):
        SyntheticChannel(100.0, shape_day=0.0)
    with pytest.raises(ConfigError, match="interval_min"):
        synthetic_history({"a": flat_channel}, "2026-01-01", 1, 7, TZ, seed=1)
    with pytest.raises(ConfigError, match="start"):
        synthetic_history({"a": flat_channel}, "2026-01-01", 1, 15, "Mars/Olympus", seed=1)
    with pytest.raises(ConfigError, match="index"):
        expected_volume(flat_channel, pd.date_range("2026-01-01", periods=3, freq="15min"), 15)
