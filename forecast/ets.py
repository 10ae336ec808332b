"""Holt-Winters exponential smoothing of the daily totals times an intraday profile per weekday.

The daily total of each channel (its local days, the conventions of :mod:`forecast.models`) is forecast by
Holt-Winters exponential smoothing with weekly seasonality (Holt (1957); Winters (1960), Management Science
6; the ETS state-space view of Hyndman, Koehler, Ord & Snyder (2008), "Forecasting with Exponential
Smoothing", Springer), fitted by statsmodels' ``ExponentialSmoothing`` (least squares, estimated initial
states). The total is spread over the day by the weekday's intraday profile, the mean per (weekday, clock
time) over the last ``profile_weeks`` weeks as in :class:`~forecast.models.SeasonalAverage`, normalised to
shares over the intervals of the target day (so a DST day of 92 or 100 quarter hours still sums to the
day's total).

Choices where the contract is silent:

* Multiplicative seasonality by default; a channel with a day of zero arrivals in its history (e.g. closed
  on Sundays) is fitted with additive seasonality instead (``seasonal_`` says which was used). Forecast
  totals are clipped at 0.
* A target day inside the history gets the in-sample one-step-ahead fitted total; a day before the history
  is an error.
* Dispersion: the moment estimators of :func:`~forecast.models.moment_shapes` over the last
  ``dispersion_weeks`` weeks (the day-to-day variance around the weekday means; a trend that the smoothing
  follows shows up there as extra variance, so the shapes err on the wide side). The smoothing's own
  residual variance would need a degrees-of-freedom correction for the fitted states that has no exact form.
* AHT as in :mod:`forecast.models` (volume-weighted per clock time over the whole history).

statsmodels is imported inside :meth:`HoltWinters.fit`, so importing this module stays cheap.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from forecast._prep import (
    aht_frame,
    check_int,
    day_shares,
    forecast_frame,
    prepare,
    profile_frame,
    target,
    weekday_profile,
)
from forecast.errors import ConfigError
from forecast.models import moment_shapes


class HoltWinters:
    """Holt-Winters (ETS) on daily totals x intraday profile; scikit-learn style (``fit`` returns self).

    ``trend``: None (default), ``"add"`` or ``"mul"``; ``damped_trend`` damps it. ``seasonal``: ``"mul"``
    (default) or ``"add"`` weekly seasonality. Needs at least 14 days of history (two weekly cycles).
    """

    MIN_DAYS = 14

    def __init__(
        self,
        *,
        profile_weeks: int = 4,
        trend: str | None = None,
        damped_trend: bool = False,
        seasonal: str = "mul",
        dispersion_weeks: int = 4,
        tz=None,
        interval_min: int | None = None,
        default_aht_s: float = 300.0,
    ):
        self.profile_weeks = profile_weeks
        self.trend = trend
        self.damped_trend = damped_trend
        self.seasonal = seasonal
        self.dispersion_weeks = dispersion_weeks
        self.tz = tz
        self.interval_min = interval_min
        self.default_aht_s = default_aht_s

    def _name(self) -> str:
        return f"HoltWinters(trend={self.trend!r}, seasonal={self.seasonal!r})"

    def fit(self, history: pd.DataFrame, source: str = "history"):
        """Fit the smoothing per channel on the daily totals, the profile and the dispersion; returns self."""
        weeks = check_int(self.profile_weeks, "profile_weeks")
        disp_weeks = check_int(self.dispersion_weeks, "dispersion_weeks")
        if self.trend not in (None, "add", "mul"):
            raise ConfigError(f"expected None, 'add' or 'mul'; got {self.trend!r}", "trend")
        if self.seasonal not in ("add", "mul"):
            raise ConfigError(f"expected 'add' or 'mul'; got {self.seasonal!r}", "seasonal")
        if not isinstance(self.damped_trend, bool):
            raise ConfigError(f"expected true or false; got {self.damped_trend!r}", "damped_trend")
        if self.damped_trend and self.trend is None:
            raise ConfigError("a damped trend needs trend='add' or 'mul'", "damped_trend")
        p = prepare(
            history,
            tz=self.tz,
            interval_min=self.interval_min,
            default_aht_s=self.default_aht_s,
            source=source,
            name=self._name(),
            min_days=self.MIN_DAYS,
        )
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        n_days = p.n_days
        w_prof = min(weeks, n_days // 7)
        w_disp = min(disp_weeks, n_days // 7)
        profiles, fits, seasonal_used, params, shape_day, shape_int = [], {}, {}, {}, {}, {}
        for c in p.channels:
            x, totals = p.x[c], p.totals[c]
            lo = n_days - 7 * w_prof
            profiles.append(weekday_profile(x[lo:], p.weekday[lo:]))
            lo = n_days - 7 * w_disp
            shape_day[c], shape_int[c] = moment_shapes(x[lo:], totals[lo:], p.weekday[lo:], w_disp)
            if not (totals > 0).any():
                fits[c], seasonal_used[c], params[c] = None, None, {}
                continue
            positive = bool((totals > 0).all())
            seas = self.seasonal if positive else "add"
            trend = self.trend if (positive or self.trend != "mul") else "add"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence chatter of the optimiser on short series
                res = ExponentialSmoothing(
                    totals,
                    trend=trend,
                    damped_trend=self.damped_trend,
                    seasonal=seas,
                    seasonal_periods=7,
                    initialization_method="estimated",
                ).fit()
            fits[c], seasonal_used[c] = res, seas
            params[c] = {
                k: float(res.params[k])
                for k in ("smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend")
                if k in res.params and res.params[k] is not None and np.isfinite(res.params[k])
            }
        self.channels_ = p.channels
        self.tz_ = p.tz
        self.interval_min_ = p.interval_min
        self.first_day_ = p.first_day
        self.n_days_ = n_days
        self.weeks_ = w_prof
        self.dispersion_weeks_ = w_disp
        self.profile_ = profile_frame(p.channels, profiles, p.interval_min)
        self.aht_ = aht_frame(p)
        self.results_ = fits
        self.seasonal_ = seasonal_used
        self.params_ = params
        self.shape_day_ = shape_day
        self.shape_interval_ = shape_int
        return self

    def daily_totals(self, channel: str, days: np.ndarray) -> np.ndarray:
        """Forecast daily totals of ``channel`` for local day numbers ``days`` (>= the history's first)."""
        days = np.asarray(days, dtype=np.int64)
        res = self.results_[channel]
        if res is None or days.size == 0:
            return np.zeros(days.size)
        last = self.first_day_ + self.n_days_ - 1
        if days.min() < self.first_day_:
            raise ConfigError(
                f"{self._name()} forecasts days from the history's first day on; got a day before it", "index"
            )
        out = np.zeros(days.size)
        past = days <= last
        out[past] = np.asarray(res.fittedvalues, dtype=float)[days[past] - self.first_day_]
        if (~past).any():
            fc = np.asarray(res.forecast(int(days.max()) - last), dtype=float)
            out[~past] = fc[days[~past] - last - 1]
        return np.clip(np.nan_to_num(out, nan=0.0), 0.0, None)

    def predict(self, index) -> pd.DataFrame:
        """A Forecast for every fitted channel on ``index`` (as :meth:`SeasonalAverage.predict`)."""
        tgt = target(index, model=self, name=self._name())
        n_c, n_slots = len(self.channels_), 1440 // self.interval_min_
        prof = self.profile_["volume"].to_numpy(float).reshape(n_c, 7, n_slots)
        aht = self.aht_["aht_s"].to_numpy(float).reshape(n_c, n_slots)
        days, inv = np.unique(tgt.day, return_inverse=True)
        cols = {}
        for i, c in enumerate(self.channels_):
            totals = self.daily_totals(c, days)[inv]
            cols[c] = {
                "volume": totals * day_shares(prof[i], tgt),
                "aht_s": aht[i, tgt.slot],
                "shape_day": self.shape_day_[c],
                "shape_interval": self.shape_interval_[c],
            }
        return forecast_frame(self.channels_, tgt.index, cols, self._name())
