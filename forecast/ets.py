"""Holt-Winters exponential smoothing of the daily totals times an intraday profile per weekday.

The daily total of each channel (its local days, the conventions of :mod:`forecast.models`) is forecast by
Holt-Winters exponential smoothing with weekly seasonality (Holt (1957); Winters (1960), Management Science
6; the ETS state-space view of Hyndman, Koehler, Ord & Snyder (2008), "Forecasting with Exponential
Smoothing", Springer), fitted by statsmodels' ``ExponentialSmoothing`` (least squares, estimated initial
states). The total is spread over the day by the weekday's intraday profile, the mean per (weekday, clock
time) over the last ``profile_weeks`` weeks as in :class:`~forecast.models.SeasonalAverage`, as shares p_wt
of a **clock day** (the 24 clock hours, each slot once).

Choices where the contract is silent:

* Days of unequal length. The smoothed series is the total of a clock day, T*_d = T_d / c_d, where
  c_d = sum of p_wt over the slots observed on day d counted as often as they occur: 1 on an ordinary day,
  1 - p(02:00-03:00) on the spring DST day (the hour does not exist), 1 + p(02:00-03:00) on the autumn one
  (it occurs twice). A forecast interval gets T^*_d p_wt, so a DST day of a 24-hour centre gets the clock
  rates of its weekday over its 23 or 25 hours (and its total is T^*_d c_d, not a 24-hour total squeezed
  into 23 hours).
* Missing data (:mod:`forecast.models`). A partial day (the first or last day of an export) with
  c_d >= :data:`MIN_COVER` is scaled up the same way (T_d / c_d over its observed slots); a missing day, or a
  partial one covering less, is imputed as the mean of the nearest usable days of the same weekday before
  and after it (one of them at the ends). Imputed and partial days do not enter the residual variance.
* Multiplicative seasonality by default; a channel with a day of zero arrivals in its history (e.g. closed
  on Sundays) is fitted with additive seasonality instead (``seasonal_`` says which was used). Forecast
  totals are clipped at 0.
* A target day inside the history gets the in-sample one-step-ahead fitted total; a day before the history
  is an error.
* Dispersion. The process shapes (``process_shape_day_``, ``process_shape_interval_``) are the moment
  estimators of :func:`~forecast.models.moment_shapes` over the complete days of the last
  ``dispersion_weeks`` weeks. The predictive day level (``shape_day_``) comes from the smoothing's own
  one-step-ahead errors of the daily totals r_d on the complete days, with the degrees-of-freedom
  correction n / (n - k) of the least-squares fit (k = the statsmodels parameter count: 7 seasonal and 1
  level state, 2 per trend, 2 smoothing parameters, 1 for damping; the usual residual variance of ETS
  prediction intervals, Hyndman et al. (2008), ch. 6): 1/shape_day = (sum r_d^2 n/(n-k) - sum T^_d -
  sum B_d) / sum T^_d^2, B_d the interval multipliers' share of a day's variance, and never below
  a (1 + 7/n), a the process value: the variance of a mean over the n/7 weeks of the history, the least
  with which a weekday's level can be known from a stationary series. It covers the error of the smoothed
  level and seasonal states (and any misfit of the model), as a one-step-ahead value: a level that really
  drifts makes longer horizons more uncertain than this (the Forecast's shapes are constant over the
  horizon). The interval level adds the estimation variance of the
  profile (its n_t observed days, :func:`forecast._prep.predictive_shapes`).
* AHT as in :mod:`forecast.models` (volume-weighted per clock time over the whole history).

statsmodels is imported inside :meth:`HoltWinters.fit`, so importing this module stays cheap.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from forecast._prep import (
    Prepared,
    aht_frame,
    check_int,
    forecast_frame,
    predictive_shapes,
    prepare,
    profile_frame,
    target,
    weekday_profile,
)
from forecast.errors import ConfigError
from forecast.models import moment_shapes

#: a partial day is scaled up to a clock day when its observed slots hold at least this share of the
#: weekday's profile; below that it is imputed like a missing day.
MIN_COVER = 0.25


def shares(profile: np.ndarray) -> np.ndarray:
    """(7, n_slots) each slot's share of its weekday's clock-day profile (0 for an all-zero weekday)."""
    tot = profile.sum(axis=1, keepdims=True)
    return np.divide(profile, tot, out=np.zeros_like(profile), where=tot > 0)


def clock_day_totals(p: Prepared, c: str, share: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T*, kind) per day of the history: the total of a clock day (see the module docstring) and how it
    was obtained: 0 complete day, 1 partial day scaled up, 2 imputed."""
    obs = p.obs
    cover = (p.count * obs * share[p.weekday]).sum(axis=1)
    tot = p.totals[c]
    full = p.full
    kind = np.where(full, 0, np.where(obs.any(axis=1) & (cover >= MIN_COVER), 1, 2))
    out = np.where(cover > 0, tot / np.where(cover > 0, cover, 1.0), tot)
    usable = kind < 2
    for d in np.flatnonzero(~usable):
        same = np.flatnonzero(usable & (p.weekday == p.weekday[d]))
        before, after = same[same < d], same[same > d]
        near = ([before[-1]] if before.size else []) + ([after[0]] if after.size else [])
        out[d] = float(np.mean(out[near])) if near else 0.0
    return out, kind


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
        full = p.full
        profiles, fits, seasonal_used, params = [], {}, {}, {}
        shape_day, shape_int, proc_day, proc_int = {}, {}, {}, {}
        for c in p.channels:
            x = p.x[c]
            prof, n_used = weekday_profile(x, p.weekday, n_days - 7 * w_prof)
            profiles.append(prof)
            lo = n_days - 7 * w_disp
            keep = full[lo:]
            kd, ki = moment_shapes(x[lo:][keep], p.totals[c][lo:][keep], p.weekday[lo:][keep])
            proc_day[c], proc_int[c] = kd, ki
            share = shares(prof)
            totals, kind = clock_day_totals(p, c, share)
            if not (totals > 0).any():
                fits[c], seasonal_used[c], params[c] = None, None, {}
                shape_day[c], shape_int[c] = predictive_shapes(kd, ki, prof, 1.0 / n_used)
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
            n_par = 7 + 2 * (trend is not None) + 2 + int(self.damped_trend)
            day_var = self._day_variance(
                totals, np.asarray(res.fittedvalues, dtype=float), kind == 0, share, p.weekday, kd, ki, n_par
            )
            shape_day[c], shape_int[c] = predictive_shapes(kd, ki, prof, 1.0 / n_used, day_var=day_var)
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
        self.process_shape_day_ = proc_day
        self.process_shape_interval_ = proc_int
        self.shape_day_ = shape_day
        self.shape_interval_ = shape_int
        return self

    @staticmethod
    def _day_variance(totals, fitted, complete, share, weekday, kd, ki, n_par) -> float:
        """The predictive relative variance of the day level from the one-step-ahead residuals (module
        docstring); that of a mean over the history's weeks where it is larger or the series too short for
        the degrees-of-freedom correction."""
        a = 0.0 if math.isinf(kd) else 1.0 / kd
        b = 0.0 if math.isinf(ki) else 1.0 / ki
        n = totals.size
        fit = np.clip(np.nan_to_num(fitted[complete]), 0.0, None)
        if n - n_par < 7 or not complete.any() or float((fit**2).sum()) <= 0:
            return a * (1.0 + 7.0 / n)  # as a mean over the history's weeks
        r2 = float(((totals[complete] - fitted[complete]) ** 2).sum()) * n / (n - n_par)
        intra = b * (1.0 + a) * float((fit**2 * (share[weekday[complete]] ** 2).sum(axis=1)).sum())
        est = (r2 - float(fit.sum()) - intra) / float((fit**2).sum())
        return max(est, a * (1.0 + 7.0 / n))

    def daily_totals(self, channel: str, days: np.ndarray) -> np.ndarray:
        """Forecast clock-day totals T^* of ``channel`` for local day numbers ``days`` (>= the history's
        first); a DST day's own total is T^* times its share c_d of the clock day (module docstring)."""
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
                "volume": totals * shares(prof[i])[tgt.weekday, tgt.slot],
                "aht_s": aht[i, tgt.slot],
                "shape_day": self.shape_day_[c],
                "shape_interval": self.shape_interval_[c],
            }
        return forecast_frame(self.channels_, tgt.index, cols, self._name())
