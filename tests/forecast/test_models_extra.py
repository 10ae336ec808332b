"""Holt-Winters, Poisson / negative-binomial regression, the ensemble and the quantiles of the gamma-Poisson
model, against independent references (the generator's expected volume, cell means computed here,
statsmodels' GLM, scipy's negative binomial, brute-force Monte Carlo)."""

import dataclasses
import datetime as dt
import inspect
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from forecast_testutil import TZ, bonferroni_z, noise_free_history
from scipy import stats

from forecast import (
    FORECAST_COLUMNS,
    ConfigError,
    DataError,
    Ensemble,
    HoltWinters,
    NegBinRegression,
    PoissonRegression,
    SeasonalAverage,
    SeasonalNaive,
    SyntheticChannel,
    demo_channels,
    expected_volume,
    forecast_quantiles,
    mixture_cdf,
    quantile_column,
    synthetic_history,
    validate_forecast,
)


def _days(start: str, days: int, interval_min: int = 15, tz: str = TZ) -> pd.DatetimeIndex:
    first = pd.Timestamp(start).tz_localize(tz)
    last = (pd.Timestamp(start) + pd.Timedelta(days=days)).tz_localize(tz)
    return pd.date_range(first, last, freq=f"{interval_min}min", inclusive="left")


# -- Holt-Winters -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seasonal", ["mul", "add"])
def test_holt_winters_reproduces_a_noiseless_series(seasonal):
    """Noise-free history across the spring DST change; the forecast of the next two weeks (and of the
    100-quarter-hour autumn day) is the generator's expected volume."""
    ch = demo_channels()
    h = noise_free_history(ch, "2026-03-02", 35)
    m = HoltWinters(seasonal=seasonal).fit(h)
    for idx in (_days("2026-04-06", 14), _days("2026-10-25", 1)):
        fc = m.predict(idx)
        assert list(fc.columns) == list(FORECAST_COLUMNS)
        for name, spec in ch.items():
            f = fc[fc["channel"] == name]
            np.testing.assert_allclose(
                f["volume"].to_numpy(), expected_volume(spec, idx, 15), rtol=1e-7, atol=1e-7
            )
    # in-sample days get the one-step fitted totals, which on a noiseless series are the totals themselves
    fc = m.predict(_days("2026-03-16", 7))
    for name, spec in ch.items():
        f = fc[fc["channel"] == name]
        np.testing.assert_allclose(
            f["volume"].to_numpy(), expected_volume(spec, _days("2026-03-16", 7), 15), atol=1e-6
        )
    assert m.seasonal_ == dict.fromkeys(ch, seasonal)


def test_holt_winters_recovers_the_pattern_on_noisy_data():
    """Pure Poisson arrivals (no multipliers), 8 weeks of 30-minute intervals, forecast of the next week.

    The forecast is T^ p^_t: the smoothed daily total times the profile share. With T the day's total
    (variance m) and p_t the share, T^ is a weighted mean of past totals whose variance is at most that of one
    day (m), and p^_t averages k = 4 weeks of multinomial shares (variance about p(1 - p) / (k m)); so
    Var(v^_t) <= p^2 m + m p (1 - p) / k. Every open interval must be within a Bonferroni z (99.9 %) of that.
    """
    spec = dataclasses.replace(demo_channels()["voice"], shape_day=math.inf, shape_interval=math.inf)
    h = synthetic_history({"voice": spec}, "2025-09-01", 56, 30, "UTC", seed=5)
    idx = pd.date_range("2025-10-27", periods=48 * 7, freq="30min", tz="UTC")
    fc = HoltWinters(profile_weeks=4).fit(h).predict(idx)
    v = expected_volume(spec, idx, 30)
    day = np.repeat(np.arange(7), 48)
    m = np.bincount(day, weights=v)[day]
    open_ = v > 0
    p = v[open_] / m[open_]
    sd = np.sqrt(p**2 * m[open_] + m[open_] * p * (1 - p) / 4)
    z = (fc["volume"].to_numpy()[open_] - v[open_]) / sd
    assert np.abs(z).max() < bonferroni_z(int(open_.sum()))
    assert (fc["volume"].to_numpy()[~open_] == 0).all()


def test_holt_winters_dispersion_is_the_moment_estimate_and_short_history_fails():
    """The process shapes are SeasonalAverage's moment estimates; the predictive day level is computed here
    by hand from the smoothing's one-step-ahead errors of the daily totals (the ets module's formula: the
    degrees-of-freedom correction n / (n - k) with k = 9, less the Poisson and interval parts, never below
    the variance of a mean over the weeks, a (1 + 7/n))."""
    spec = dataclasses.replace(demo_channels()["chat"], shape_day=30.0)
    h = synthetic_history({"chat": spec}, "2025-09-01", 42, 30, "UTC", seed=2)
    hw = HoltWinters(dispersion_weeks=6).fit(h)
    sa = SeasonalAverage(weeks=6).fit(h)
    assert hw.process_shape_day_ == sa.process_shape_day_
    assert hw.process_shape_interval_ == sa.process_shape_interval_
    totals = h.groupby(pd.DatetimeIndex(h["interval_start"]).normalize())["volume"].sum().to_numpy()
    fit = np.asarray(hw.results_["chat"].fittedvalues)
    n, k = 42, 9
    a, b = 1 / hw.process_shape_day_["chat"], 1 / hw.process_shape_interval_["chat"]
    prof = hw.profile_.pivot(index="weekday", columns="minute", values="volume").to_numpy()
    p2 = ((prof / prof.sum(axis=1, keepdims=True)) ** 2).sum(axis=1)
    weekday = (np.arange(42) + 0) % 7  # 2025-09-01 is a Monday
    est = ((totals - fit) ** 2).sum() * n / (n - k) - fit.sum() - b * (1 + a) * (fit**2 * p2[weekday]).sum()
    est /= (fit**2).sum()
    assert 1 / hw.shape_day_["chat"] == pytest.approx(max(est, a * (1 + 7 / n)), rel=1e-9)
    assert hw.shape_day_["chat"] < hw.process_shape_day_["chat"]
    with pytest.raises(DataError, match=r"holds 13 days; HoltWinters.* needs at least 14"):
        HoltWinters().fit(noise_free_history(demo_channels(), "2026-01-05", 13))
    with pytest.raises(ConfigError, match="seasonal"):
        HoltWinters(seasonal="both").fit(h)


def test_holt_winters_channel_closed_on_sundays_uses_additive_seasonality():
    spec = SyntheticChannel(1000.0, dow_factors=(1, 1, 1, 1, 1, 0.5, 0), open_hour=8.0, close_hour=18.0)
    h = noise_free_history({"a": spec}, "2026-01-05", 28)
    m = HoltWinters().fit(h)
    assert m.seasonal_ == {"a": "add"}
    idx = _days("2026-02-02", 7)
    np.testing.assert_allclose(m.predict(idx)["volume"].to_numpy(), expected_volume(spec, idx, 15), atol=1e-6)


def _clock_rates(index: pd.DatetimeIndex) -> np.ndarray:
    """A 24-hour centre whose arrival rate depends on the local weekday and clock time only (so the spring
    DST day has 23 hours of it and the autumn one 25, the repeated hour at its clock rate twice)."""
    local = index.tz_convert(TZ)
    hours = np.asarray(local.hour + local.minute / 60)
    dow = np.array([1.2, 1.1, 1.0, 1.0, 0.9, 0.6, 0.5])[np.asarray(local.day_of_week)]
    return 25.0 * dow * (1.0 + 0.6 * np.sin(2 * np.pi * (hours - 9.0) / 24.0))


def _clock_history(start: str, days: int) -> pd.DataFrame:
    idx = _days(start, days)
    return pd.DataFrame({"channel": "a", "interval_start": idx, "volume": _clock_rates(idx), "aht_s": 300.0})


@pytest.mark.parametrize(
    ("start", "days", "targets"),
    [
        # history over the spring change (2026-03-29, 23 h): the week of it in-sample, the autumn week ahead
        ("2026-03-02", 42, [("2026-03-23", 7), ("2026-10-19", 7)]),
        # history over the autumn change (2026-10-25, 25 h): the spring week of 2027 (2027-03-28) ahead
        ("2026-10-05", 35, [("2026-10-19", 7), ("2027-03-22", 7)]),
    ],
)
@pytest.mark.parametrize(
    "factory",
    [HoltWinters, lambda: HoltWinters(seasonal="add"), lambda: SeasonalAverage(weeks=4), PoissonRegression],
)
def test_dst_days_of_a_24_hour_centre_get_their_clock_rates(start, days, targets, factory):
    """Noise-free 24-hour history whose rates depend on weekday and clock time only (the reference computed
    here): every model forecasts each interval of a DST day at its clock rate, so the spring day's total is
    its 23 hours' worth, not a 24-hour total squeezed into 23 hours (Holt-Winters smooths clock-day
    totals)."""
    m = factory().fit(_clock_history(start, days))
    for first, n in targets:
        idx = _days(first, n)
        fc = m.predict(idx)
        np.testing.assert_allclose(fc["volume"].to_numpy(), _clock_rates(idx), rtol=1e-6)


# -- regression ----------------------------------------------------------------------------------------------


def test_poisson_regression_is_the_cell_mean_without_holidays():
    """Noisy history (with zero-volume night intervals): the MLE of the weekday x clock time model is the
    mean per cell, computed here with pandas."""
    h = synthetic_history(demo_channels(), "2025-09-01", 23, 30, "Europe/Berlin", seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = PoissonRegression().fit(h)
    local = pd.DatetimeIndex(h["interval_start"]).tz_convert("Europe/Berlin")
    ref = h.assign(wd=local.day_of_week, hm=local.hour * 60 + local.minute).groupby(["channel", "wd", "hm"])[
        "volume"
    ]
    ref = ref.mean()
    idx = _days("2025-09-29", 7, 30, "Europe/Berlin")
    fc = m.predict(idx)
    got = fc.assign(wd=idx.day_of_week.tolist() * 3, hm=(idx.hour * 60 + idx.minute).tolist() * 3)
    exp = ref.loc[list(zip(got["channel"], got["wd"], got["hm"]))].to_numpy()
    np.testing.assert_allclose(got["volume"].to_numpy(), exp, rtol=1e-12)
    assert m.converged_ == dict.fromkeys(m.channels_, True) and set(m.n_iter_.values()) == {1}
    assert all(math.isinf(m.process_shape_day_[c]) for c in m.channels_)
    assert all(math.isinf(m.process_shape_interval_[c]) for c in m.channels_)
    assert m.alpha_ == dict.fromkeys(m.channels_, 0.0)
    # predictive: a cell mean of n days has variance v / n, carried by shape_interval (the models module's
    # rule with a = b = 0: delta = sum w / n / sum w v, w = 1 - exp(-v)); 23 days from a Monday: Monday and
    # Tuesday 4 times, the other weekdays 3
    for c in m.channels_:
        v = ref.loc[c].to_numpy()
        n = np.where(ref.loc[c].index.get_level_values("wd") < 2, 4, 3)
        w = 1 - np.exp(-v)
        assert math.isinf(m.shape_day_[c])
        assert 1 / m.shape_interval_[c] == pytest.approx((w / n).sum() / (w * v).sum(), rel=1e-9)


@pytest.mark.parametrize("interaction", [True, False])
def test_poisson_regression_with_holidays_equals_statsmodels_glm(interaction):
    """Exact MLE: the fitted means equal statsmodels' Poisson GLM on the dummy design (cell or weekday + clock
    time effects, plus one dummy per holiday name; two dates share the name 'event')."""
    import statsmodels.api as sm

    spec = SyntheticChannel(
        1200.0, dow_factors=(1.2, 1, 1, 1, 0.9, 0.6, 0.5), peaks=((11.0, 3.0, 1.0),), shape_day=50.0, base=0.3
    )
    h = synthetic_history({"a": spec}, "2026-01-05", 21, 60, "UTC", seed=11)
    cal = pd.DataFrame(
        {
            "date": ["2026-01-07", "2026-01-14", "2026-01-20", "2026-03-01"],
            "name": ["event"] * 2 + ["xmas", "later"],
        }
    )
    ts = pd.DatetimeIndex(h["interval_start"])
    scale = np.where(ts.normalize().isin(pd.DatetimeIndex(["2026-01-07", "2026-01-14"], tz="UTC")), 0.5, 1.0)
    scale = np.where(ts.normalize() == pd.Timestamp("2026-01-20", tz="UTC"), 1.8, scale)
    h["volume"] = np.round(h["volume"].to_numpy() * scale)
    m = PoissonRegression(interaction=interaction, holidays=cal, tol=1e-13).fit(h)
    assert m.converged_ == {"a": True}

    wd, hr = ts.day_of_week.to_numpy(), ts.hour.to_numpy()
    cols = {}
    if interaction:
        for w in range(7):
            for t in range(24):
                cols[f"c{w}_{t}"] = ((wd == w) & (hr == t)).astype(float)
    else:
        for w in range(7):
            cols[f"w{w}"] = (wd == w).astype(float)
        for t in range(1, 24):
            cols[f"t{t}"] = (hr == t).astype(float)
    day = ts.strftime("%Y-%m-%d")
    cols["event"] = np.isin(day, ["2026-01-07", "2026-01-14"]).astype(float)
    cols["xmas"] = (day == "2026-01-20").astype(float)
    X = pd.DataFrame(cols)
    glm = sm.GLM(h["volume"].to_numpy(), X, family=sm.families.Poisson()).fit(tol=1e-12, maxiter=200)
    fitted = glm.predict(X)
    fc = m.predict(ts)
    np.testing.assert_allclose(fc["volume"].to_numpy(), fitted, rtol=1e-6)
    eff = m.holiday_effects_.set_index("name")["factor"]
    assert eff["event"] == pytest.approx(math.exp(glm.params["event"]), rel=1e-6)
    assert eff["xmas"] == pytest.approx(math.exp(glm.params["xmas"]), rel=1e-6)
    assert "later" not in eff.index  # no history day: predicts factor 1
    later = m.predict(_days("2026-03-01", 1, 60, "UTC"))
    ordinary = m.predict(_days("2026-02-22", 1, 60, "UTC"))  # the same weekday, not in the calendar
    np.testing.assert_allclose(later["volume"].to_numpy(), ordinary["volume"].to_numpy())


def test_negbin_dispersion_recovers_the_gamma_shapes():
    """R independent histories (holidays in the calendar are left out of the dispersion); the estimates of
    1/shape and of the interval NB2 alpha = (1 + 1/kd)(1 + 1/ki) - 1 must have a mean within 4 standard
    errors of the truth, and be informative (sd < 30 % of the truth)."""
    kd, ki, weeks, reps = 25.0, 40.0, 8, 12
    spec = SyntheticChannel(
        2000.0, open_hour=6.0, close_hour=22.0, peaks=((10.0, 2.0, 1.0),), shape_day=kd, shape_interval=ki
    )
    cal = pd.DataFrame({"date": ["2025-01-15"], "name": ["sale"]})
    inv_d, inv_i, alpha = [], [], []
    for seed in range(reps):
        h = synthetic_history({"a": spec}, "2025-01-06", 7 * weeks, 15, "UTC", seed=300 + seed)
        m = NegBinRegression(holidays=cal).fit(h)
        inv_d.append(1 / m.process_shape_day_["a"])
        inv_i.append(1 / m.process_shape_interval_["a"])
        alpha.append(m.alpha_["a"])
        assert m.alpha_day_["a"] == pytest.approx(1 / m.process_shape_day_["a"])
    for est, truth in ((inv_d, 1 / kd), (inv_i, 1 / ki), (alpha, (1 + 1 / kd) * (1 + 1 / ki) - 1)):
        est = np.asarray(est)
        sd = est.std(ddof=1)
        assert abs(est.mean() - truth) < 4 * sd / math.sqrt(reps)
        assert sd < 0.3 * truth


def test_regression_bad_calendar():
    h = noise_free_history(demo_channels(), "2026-01-05", 14)
    with pytest.raises(DataError, match=r"holidays: missing column\(s\) \['name'\]"):
        PoissonRegression(holidays=pd.DataFrame({"date": ["2026-01-06"]})).fit(h)
    bad = pd.DataFrame({"date": ["2026-01-06", "2026-01-06"], "name": ["a", "b"]})
    with pytest.raises(DataError, match="one name per date"):
        PoissonRegression(holidays=bad).fit(h)
    with pytest.raises(DataError, match=r"'date', row 0: expected a date"):
        PoissonRegression(holidays=pd.DataFrame({"date": ["soon"], "name": ["a"]})).fit(h)


@pytest.mark.parametrize("text", ["12.01.2026", "01/12/2026", "2026-1-12", "2026-01-12T00:00", "2026-13-01"])
def test_holiday_dates_are_iso_only(text):
    """ "12.01.2026" must never be read as 1 December (or 12 January by a guess): only YYYY-MM-DD strings,
    date objects and naive midnights are dates; anything else names its row."""
    h = noise_free_history(demo_channels(), "2026-01-05", 14)
    cal = pd.DataFrame({"date": ["2026-01-07", text], "name": ["a", "b"]})
    with pytest.raises(
        DataError, match=rf"holidays: column 'date', row 1: expected a date as YYYY-MM-DD.*{text!r}"
    ):
        PoissonRegression(holidays=cal).fit(h)
    same = [
        PoissonRegression(holidays=pd.DataFrame({"date": [d], "name": ["x"]})).fit(h).calendar_
        for d in ("2026-01-12", " 2026-01-12 ", dt.date(2026, 1, 12), pd.Timestamp("2026-01-12"))
    ]
    assert all(c == same[0] for c in same) and list(same[0].values()) == ["x"]
    assert pd.Timestamp("1970-01-01") + pd.Timedelta(days=next(iter(same[0]))) == pd.Timestamp("2026-01-12")


# -- ensemble ------------------------------------------------------------------------------------------------


def test_ensemble_is_the_weighted_mean_of_its_members():
    h = synthetic_history(demo_channels(), "2025-09-01", 28, 30, "UTC", seed=4)
    idx = pd.date_range("2025-09-29", periods=48 * 7, freq="30min", tz="UTC")
    a = SeasonalNaive().fit(h).predict(idx)
    b = SeasonalAverage(weeks=3).fit(h).predict(idx)
    e = Ensemble({"naive": SeasonalNaive(), "avg": SeasonalAverage(weeks=3)}, weights={"naive": 1, "avg": 3})
    fc = e.fit(h).predict(idx)
    np.testing.assert_allclose(fc["volume"], 0.25 * a["volume"] + 0.75 * b["volume"], rtol=1e-12)
    wv = 0.25 * a["volume"] * a["aht_s"] + 0.75 * b["volume"] * b["aht_s"]
    w = 0.25 * a["volume"] + 0.75 * b["volume"]
    exp_aht = np.where(w > 0, wv / np.where(w > 0, w, 1), 0.25 * a["aht_s"] + 0.75 * b["aht_s"])
    np.testing.assert_allclose(fc["aht_s"], exp_aht, rtol=1e-12)
    # dispersion: the members' process variances averaged, plus the variance of the averaged estimates with
    # the members' estimation errors perfectly correlated, (sum w sqrt(e))^2, per level (ensemble module)
    for c in ("voice", "chat", "email"):
        got = fc[fc["channel"] == c]
        proc_d, proc_c, est_d, est_i = 0.0, 0.0, 0.0, 0.0
        for w, m, f in ((0.25, e.members_["naive"], a), (0.75, e.members_["avg"], b)):
            ad, ai = 1 / m.process_shape_day_[c], 1 / m.process_shape_interval_[c]
            pd_, pi_ = (1 / f.loc[f["channel"] == c, col].iloc[0] for col in ("shape_day", "shape_interval"))
            proc_d += w * ad
            proc_c += w * ((1 + ad) * (1 + ai) - 1)
            est_d += w * math.sqrt(pd_ - ad)
            est_i += w * math.sqrt((1 + pd_) * (1 + pi_) - (1 + ad) * (1 + ai) - (pd_ - ad))
        day = proc_d + est_d**2
        interval = (1 + proc_c + est_d**2 + est_i**2) / (1 + day) - 1
        np.testing.assert_allclose(1 / got["shape_day"], day, rtol=1e-9)
        np.testing.assert_allclose(1 / got["shape_interval"], interval, rtol=1e-9)
        # never wider than the plain weighted mean of the members' 1/shape
        for col in ("shape_day", "shape_interval"):
            mean_inv = (
                0.25 / a.loc[a["channel"] == c, col].iloc[0] + 0.75 / b.loc[b["channel"] == c, col].iloc[0]
            )
            assert (1 / got[col] <= mean_inv * (1 + 1e-12)).all()
    # the members given are not fitted in place (scikit-learn clone semantics)
    assert not hasattr(e.members["naive"], "channels_")
    # noise-free history: every member, hence the ensemble, reproduces the expected volume
    h0 = noise_free_history(demo_channels(), "2026-01-05", 28)
    idx0 = _days("2026-02-02", 7)
    fc0 = Ensemble([HoltWinters(), PoissonRegression(), SeasonalAverage()]).fit(h0).predict(idx0)
    for name, spec in demo_channels().items():
        np.testing.assert_allclose(
            fc0[fc0["channel"] == name]["volume"], expected_volume(spec, idx0, 15), atol=1e-6
        )
    with pytest.raises(ConfigError, match="weights"):
        Ensemble([SeasonalNaive()], weights=[-1]).fit(h0)


# -- common behaviour ----------------------------------------------------------------------------------------

MODELS = [
    HoltWinters,
    PoissonRegression,
    NegBinRegression,
    lambda: NegBinRegression(interaction=False),
    lambda: Ensemble([HoltWinters(), NegBinRegression()]),
]


@pytest.mark.parametrize("factory", MODELS)
def test_zero_volume_channel_gives_zeros_without_warnings(factory):
    """A channel with no contact at all and night intervals with none: no log(0), no division by zero."""
    h = noise_free_history(demo_channels(), "2026-01-05", 21)
    dead = h[h["channel"] == "email"].assign(channel="dead", volume=0.0, aht_s=np.nan)
    h = pd.concat([h, dead], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fc = factory().fit(h).predict(_days("2026-01-26", 7))
        q = forecast_quantiles(fc, [0.1, 0.5, 0.9])
    d = fc[fc["channel"] == "dead"]
    assert (d["volume"] == 0).all() and np.isfinite(d["aht_s"]).all()
    assert (q.loc[q["channel"] == "dead", ["q0.1", "q0.5", "q0.9"]].to_numpy() == 0).all()
    validate_forecast(fc)


@pytest.mark.parametrize("model", [HoltWinters(), PoissonRegression(), NegBinRegression()])
def test_scikit_learn_style(model):
    h = noise_free_history(demo_channels(), "2026-01-05", 14)
    params = set(inspect.signature(type(model).__init__).parameters) - {"self"}
    assert set(vars(model)) == params
    assert model.fit(h) is model
    learned = set(vars(model)) - params
    assert learned >= {"profile_", "aht_", "shape_day_", "shape_interval_", "channels_"}
    assert all(a.endswith("_") for a in learned)
    with pytest.raises(ConfigError, match="not fitted"):
        type(model)().predict(_days("2026-01-19", 1))


# -- quantiles -----------------------------------------------------------------------------------------------


def _fc(volume, shape_day, shape_interval):
    n = len(volume)
    return pd.DataFrame(
        {
            "channel": "a",
            "interval_start": pd.date_range("2026-01-05", periods=n, freq="15min", tz="UTC"),
            "volume": volume,
            "aht_s": 300.0,
            "shape_day": shape_day,
            "shape_interval": shape_interval,
        }
    )


def test_quantiles_with_one_gamma_multiplier_are_negative_binomial():
    """Poisson mixed over one gamma(k) multiplier is NB(k, p = k / (k + v)) (closed form in scipy); with no
    multiplier it is Poisson."""
    v = np.array([0.0, 0.2, 3.0, 17.5, 140.0, 2600.0])
    qs = [0.05, 0.1, 0.5, 0.9, 0.975]
    for kd, ki in ((20.0, math.inf), (math.inf, 7.0), (math.inf, math.inf)):
        out = forecast_quantiles(_fc(v, kd, ki), qs)
        k = min(kd, ki)
        for q in qs:
            ref = stats.poisson.ppf(q, v) if math.isinf(k) else stats.nbinom.ppf(q, k, k / (k + v))
            np.testing.assert_array_equal(out[quantile_column(q)].to_numpy(), np.nan_to_num(ref))
        if not math.isinf(k):
            n = np.array([0, 1, 5, 20, 150, 2500])
            np.testing.assert_allclose(
                mixture_cdf(n, v, kd, ki), stats.nbinom.cdf(n, k, k / (k + v)), atol=1e-12
            )


def test_quantiles_of_the_two_multiplier_mixture_against_monte_carlo():
    """Brute force: M = 400,000 draws of Poisson(v G H) per row. The exact q-quantile n must satisfy
    F_M(n - 1) < q + tol and F_M(n) >= q - tol with tol = z sqrt(q (1 - q) / M) (Bonferroni z at 99.9 %
    over all checks; an off-by-one quantile violates one of these whenever the CDF step exceeds 2 tol)."""
    rng = np.random.default_rng(2024)
    rows = [(4.0, 10.0, 3.0), (60.0, 40.0, 200.0), (300.0, 15.0, 25.0), (0.7, 5.0, 5.0)]
    qs = [0.1, 0.5, 0.9]
    M = 400_000
    z = bonferroni_z(2 * len(rows) * len(qs))
    out = forecast_quantiles(_fc(*map(np.array, zip(*rows))), qs)
    for i, (v, kd, ki) in enumerate(rows):
        draws = rng.poisson(v * rng.gamma(kd, 1 / kd, M) * rng.gamma(ki, 1 / ki, M))
        for q in qs:
            n = out[quantile_column(q)].iloc[i]
            tol = z * math.sqrt(q * (1 - q) / M)
            assert np.mean(draws <= n - 1) < q + tol
            assert np.mean(draws <= n) >= q - tol
        # the CDF itself, at a few points
        for n in np.percentile(draws, [5, 50, 95]).round():
            f = np.mean(draws <= n)
            assert abs(mixture_cdf(n, v, kd, ki) - f) < z * math.sqrt(f * (1 - f) / M) + 1e-12


def test_simulated_quantiles_agree_with_the_exact_ones():
    fc = _fc(np.array([5.0, 80.0, 900.0]), 30.0, 60.0)
    exact = forecast_quantiles(fc, [0.1, 0.9])
    sim = forecast_quantiles(fc, [0.1, 0.9], method="simulate", n_sims=200_000, seed=7)
    again = forecast_quantiles(fc, [0.1, 0.9], method="simulate", n_sims=200_000, seed=7)
    pd.testing.assert_frame_equal(sim, again)
    for col in ("q0.1", "q0.9"):
        # the simulated quantile is within the MC error: +-1 count at these volumes, 1 % at 900
        np.testing.assert_allclose(sim[col], exact[col], atol=1, rtol=0.01)
    with pytest.raises(ConfigError, match="seed"):
        forecast_quantiles(fc, [0.5], method="simulate")
    with pytest.raises(ConfigError, match="quantiles"):
        forecast_quantiles(fc, [0.0, 0.5])


def _quad_cdf(n: float, v: float, kd: float, ki: float) -> float:
    """P(N <= n) by adaptive quadrature (scipy.integrate.quad) over the multiplier with the larger shape k,
    split at its quantiles; for k < 1 in s = g^k, which removes the density's singularity at 0. Normalised by
    the same rule's integral of the density."""
    from scipy import integrate, special

    kb, ks = max(kd, ki), min(kd, ki)
    cdf = lambda g: stats.nbinom.cdf(n, ks, ks / (ks + v * g))  # noqa: E731
    g = stats.gamma(kb, scale=1 / kb)
    cuts = [0.0, *g.ppf([1e-15, 1e-6, 0.01, 0.1, 0.5, 0.9, 0.99, 1 - 1e-6, 1 - 1e-15]), n / v]
    if kb >= 1:
        pts = sorted(set(cuts))
        num = sum(
            integrate.quad(lambda x: cdf(x) * g.pdf(x), a, b, epsabs=1e-15, limit=500)[0]
            for a, b in zip(pts, pts[1:])
        )
        den = sum(integrate.quad(g.pdf, a, b, epsabs=1e-15, limit=500)[0] for a, b in zip(pts, pts[1:]))
        return num / den
    c = math.exp(kb * math.log(kb) - special.gammaln(kb)) / kb
    pts = sorted({x**kb for x in cuts})
    f = lambda s: cdf(s ** (1 / kb)) * math.exp(-kb * s ** (1 / kb)) * c  # noqa: E731
    return sum(integrate.quad(f, a, b, epsabs=1e-15, limit=500)[0] for a, b in zip(pts, pts[1:]))


@pytest.mark.parametrize("v", [3.0, 500.0, 2000.0, 50000.0])
def test_mixture_cdf_and_quantiles_against_adaptive_quadrature(v):
    """The exact method's CDF agrees with direct numerical integration within 1e-9 (shapes 0.5 to 10^6; the
    24-point Gauss rule it replaced was off by up to 1e-4 at shapes <= 2 and volumes >= 500), and each
    quantile is the smallest n whose reference CDF reaches q."""
    import warnings

    for kd, ki in ((0.5, 0.7), (1.0, 1.37), (2.0, 1.5), (2.0, 40.0), (12.0, 3.0), (1e6, 2.0), (300.0, 1e6)):
        c = (1 + 1 / kd) * (1 + 1 / ki) - 1
        sd = math.sqrt(v + c * v * v)
        for z in (-1.5, 0.0, 2.0):
            n = float(max(0, round(v + z * sd)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # quad's round-off notes near its tolerance
                ref = _quad_cdf(n, v, kd, ki)
            assert abs(float(mixture_cdf(n, v, kd, ki)) - ref) < 1e-9, (v, kd, ki, n)
        for q in (0.1, 0.9):
            n = float(forecast_quantiles(_fc(np.array([v]), kd, ki), [q])[quantile_column(q)].iloc[0])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert _quad_cdf(n, v, kd, ki) >= q > (_quad_cdf(n - 1, v, kd, ki) if n >= 1 else 0.0)
