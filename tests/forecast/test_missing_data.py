"""Missing data versus zero arrivals (the rule of forecast.models), and mixed interval lengths.

References: the generator's expected volume on noise-free data (a model that read a cut-off afternoon as
zero arrivals would forecast about half a Friday), and values picked from the history table by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from forecast_testutil import TZ, noise_free_history

from forecast import (
    DataError,
    Ensemble,
    HoltWinters,
    NegBinRegression,
    PoissonRegression,
    SeasonalAverage,
    SeasonalNaive,
    SyntheticChannel,
    aggregate_contacts,
    backtest,
    demo_channels,
    expected_volume,
    read_contacts,
    synthetic_history,
)

FACTORIES = {
    "seasonal_naive": SeasonalNaive,
    "seasonal_average": lambda: SeasonalAverage(weeks=4),
    "holt_winters": HoltWinters,
    "poisson": PoissonRegression,
    "negbin_main": lambda: NegBinRegression(interaction=False),
    "ensemble": lambda: Ensemble([HoltWinters(), NegBinRegression(), SeasonalAverage()]),
}


def _days(start: str, days: int, interval_min: int = 15) -> pd.DatetimeIndex:
    first = pd.Timestamp(start).tz_localize(TZ)
    last = (pd.Timestamp(start) + pd.Timedelta(days=days)).tz_localize(TZ)
    return pd.date_range(first, last, freq=f"{interval_min}min", inclusive="left")


def _ts(h: pd.DataFrame) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(h["interval_start"])


@pytest.mark.parametrize("name", list(FACTORIES))
def test_history_cut_at_friday_noon_and_a_two_day_outage_are_missing_not_zero(name):
    """Noise-free history 2026-01-05 (Mon) .. 2026-02-06 (Fri) exported at Friday 12:00, with no rows at all
    on Tuesday 2026-01-20 and Wednesday 2026-01-21: every model still reproduces the next week exactly."""
    ch = demo_channels()
    h = noise_free_history(ch, "2026-01-05", 33)
    cut = pd.Timestamp("2026-02-06 12:00", tz=TZ)
    gap = (_ts(h) >= pd.Timestamp("2026-01-20", tz=TZ)) & (_ts(h) < pd.Timestamp("2026-01-22", tz=TZ))
    h = h[(_ts(h) < cut) & ~gap]
    idx = _days("2026-02-09", 7)
    fc = FACTORIES[name]().fit(h).predict(idx)
    for c, spec in ch.items():
        np.testing.assert_allclose(
            fc[fc["channel"] == c]["volume"].to_numpy(), expected_volume(spec, idx, 15), rtol=1e-6, atol=1e-6
        )


def test_seasonal_models_use_the_observed_days_by_hand():
    """Noisy history exported at Friday 2025-01-31 12:00 with Monday 2025-01-20 missing (no rows). By hand
    from the table: SeasonalNaive's Friday is the last Friday's morning and the Friday before's afternoon;
    SeasonalAverage(4)'s Monday is the mean of the observed Mondays among the weeks used."""
    spec = SyntheticChannel(3000.0, open_hour=6.0, close_hour=22.0, peaks=((10.0, 1.5, 1.0),), shape_day=30.0)
    h = synthetic_history({"a": spec}, "2025-01-06", 26, 15, TZ, seed=3)
    ts = _ts(h)
    h = h[
        (ts < pd.Timestamp("2025-01-31 12:00", tz=TZ)) & (ts.normalize() != pd.Timestamp("2025-01-20", tz=TZ))
    ]
    vol = h.set_index("interval_start")["volume"]
    friday = _days("2025-02-07", 1)
    got = SeasonalNaive().fit(h).predict(friday)["volume"].to_numpy()
    morning = friday.hour < 12
    np.testing.assert_array_equal(
        got[morning], vol.reindex(friday[morning] - pd.Timedelta(days=7)).to_numpy()
    )
    np.testing.assert_array_equal(
        got[~morning], vol.reindex(friday[~morning] - pd.Timedelta(days=14)).to_numpy()
    )
    monday = _days("2025-02-03", 1)
    got = SeasonalAverage(weeks=4).fit(h).predict(monday)["volume"].to_numpy()
    # 26 days of history hold 3 full weeks, 2025-01-11 .. 2025-01-31: Mondays 13, 20 (missing), 27
    want = np.mean([vol.reindex(monday - pd.Timedelta(days=d)).to_numpy() for d in (7, 21)], axis=0)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_a_weekday_without_any_row_is_closed_and_forecasts_zero():
    """A sparse export with no rows on Sundays: no Sunday has data, so Sundays are closed (zero), not
    missing."""
    spec = SyntheticChannel(1000.0, dow_factors=(1, 1, 1, 1, 1, 1, 0), open_hour=8.0, close_hour=18.0)
    h = noise_free_history({"a": spec}, "2026-01-05", 28)
    h = h[_ts(h).day_of_week != 6]
    for factory in (SeasonalAverage, HoltWinters, NegBinRegression):
        fc = factory().fit(h).predict(_days("2026-02-02", 7))
        np.testing.assert_allclose(fc["volume"].to_numpy(), expected_volume(spec, _days("2026-02-02", 7), 15))


def test_too_little_observed_data_is_a_clear_error():
    h = noise_free_history(demo_channels(), "2026-01-03", 7)  # Saturday .. Friday
    cut = h[_ts(h) < pd.Timestamp("2026-01-09 12:00", tz=TZ)]
    with pytest.raises(
        DataError, match=r"history: no data for Friday 12:00-24:00 local time .* missing data"
    ):
        SeasonalNaive().fit(cut)
    # Holt-Winters needs 14 days with data: three weeks of span with the middle week missing has 8
    h = noise_free_history(demo_channels(), "2026-01-05", 21)
    days = _ts(h).normalize()
    h = h[(days < pd.Timestamp("2026-01-12", tz=TZ)) | (days == pd.Timestamp("2026-01-25", tz=TZ))]
    with pytest.raises(DataError, match=r"history holds 8 days with data \(13 more without rows: missing\)"):
        HoltWinters().fit(h)


def test_backtest_scores_only_observed_intervals():
    """A history exported at Friday 12:00 with a day missing: the missing actuals are not scored. By hand:
    the last origin's day is the partial Friday, scored on its 48 morning quarter hours against
    SeasonalNaive's forecast (last Friday's values); the origin on the missing day scores nothing."""
    spec = SyntheticChannel(2000.0, open_hour=6.0, close_hour=22.0, peaks=((10.0, 1.5, 1.0),), shape_day=30.0)
    h = synthetic_history({"a": spec}, "2025-01-06", 26, 15, TZ, seed=5)
    ts = _ts(h)
    h = h[
        (ts < pd.Timestamp("2025-01-31 12:00", tz=TZ)) & (ts.normalize() != pd.Timestamp("2025-01-29", tz=TZ))
    ]
    bt = backtest(SeasonalNaive, h, horizon_days=1, origins=3)
    assert [o.date().isoformat() for o in bt["origin"]] == ["2025-01-29", "2025-01-30", "2025-01-31"]
    assert bt["mae"].isna().tolist() == [True, False, False] and np.isnan(bt["wape"].iloc[0])
    vol = h.set_index("interval_start")["volume"]
    morning = _days("2025-01-31", 1)[:48]
    act = vol.reindex(morning).to_numpy()
    pred = vol.reindex(morning - pd.Timedelta(days=7)).to_numpy()
    row = bt.iloc[2]
    assert row["wape"] == pytest.approx(np.abs(pred - act).sum() / act.sum(), rel=1e-12)
    assert row["mae"] == pytest.approx(np.abs(pred - act).mean(), rel=1e-12)


def _log(tmp_path, first: str, last: str, days: int) -> pd.DataFrame:
    """A log with a call every 2 minutes from 08:00 to 17:58 on each of ``days`` days from 2026-01-05, kept
    from ``first`` on the first day to ``last`` on the last."""
    t = pd.DatetimeIndex(
        [
            pd.Timestamp("2026-01-05") + pd.Timedelta(days=d) + pd.Timedelta(hours=8, minutes=2 * k)
            for d in range(days)
            for k in range(300)
        ]
    )
    t = t[(t >= pd.Timestamp(first)) & (t <= pd.Timestamp(last))]
    path = tmp_path / "log.csv"
    pd.DataFrame({"arrival": t.strftime("%Y-%m-%d %H:%M:%S"), "channel": "voice"}).to_csv(path, index=False)
    return read_contacts(path, tz=TZ)


def test_contact_log_cut_mid_day_leaves_the_rest_of_the_day_missing(tmp_path):
    """Cut at 2026-01-12 12:59 and starting 2026-01-05 10:01: the other Mondays had 7.5 calls an hour then,
    so the first day's rows start after the 10:00 interval and the last day's end before 12:45 (the two
    intervals holding the cuts are dropped too); the models then read the cut parts as missing."""
    s = aggregate_contacts(_log(tmp_path, "2026-01-05 10:01", "2026-01-12 12:59", 8), 15)
    start = _ts(s)
    assert start.min() == pd.Timestamp("2026-01-05 10:15", tz=TZ)
    assert start.max() == pd.Timestamp("2026-01-12 12:30", tz=TZ)
    calls = 8 * 60 + 2 * np.arange(300)  # minute of day of each day's calls
    first = s[start.normalize() == pd.Timestamp("2026-01-05", tz=TZ)]
    assert first["volume"].sum() == (calls >= 10 * 60 + 15).sum()  # from 10:15 on
    last = s[start.normalize() == pd.Timestamp("2026-01-12", tz=TZ)]
    assert last["volume"].sum() == (calls < 12 * 60 + 45).sum()  # up to 12:45
    assert s["volume"].sum() == (calls >= 615).sum() + 6 * 300 + (calls < 765).sum()
    assert len(s[start.normalize() == pd.Timestamp("2026-01-08", tz=TZ)]) == 96  # whole days in between
    # a log that just ends quietly (after the last call of the day, the other days had none) keeps its day
    whole = aggregate_contacts(_log(tmp_path, "2026-01-05 08:00", "2026-01-12 17:58", 8), 15)
    assert _ts(whole).min() == pd.Timestamp("2026-01-05", tz=TZ)
    assert _ts(whole).max() == pd.Timestamp("2026-01-12 23:45", tz=TZ)


def test_mixed_interval_lengths_name_the_channel():
    """A 30-minute channel next to a 15-minute one (zero rows included, so nothing is missing): its rows
    would read as every other quarter hour with zeros between; a DataError names it."""
    fine = noise_free_history({"voice": demo_channels()["voice"]}, "2026-01-05", 14)
    coarse = noise_free_history({"email": demo_channels()["email"]}, "2026-01-05", 14, interval_min=30)
    h = pd.concat([fine, coarse], ignore_index=True)
    with pytest.raises(
        DataError, match=r"channel 'email': every one of its 672 interval starts is on the 30-minute"
    ):
        SeasonalAverage().fit(h)
    with pytest.raises(DataError, match="channel 'email'"):
        backtest(SeasonalNaive, h, horizon_days=1, origins=1)
    # a sparse 15-minute channel with a handful of rows on the half hour is not judged
    few = fine.iloc[::2].head(10).assign(channel="rare")
    SeasonalAverage().fit(pd.concat([fine, few], ignore_index=True))
