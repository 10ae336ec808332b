"""Seasonal forecast models (scikit-learn style: ``__init__`` stores parameters, ``fit`` learns, learned
attributes end in ``_``).

Both models key the history by (local weekday, local clock time) in the time zone ``tz`` (default: the
time zone of the history's ``interval_start``). Choices where the contract is silent:

* The history is put on the local grid of the days it covers (local midnight of the first day to local
  midnight after the last). History timestamps must be on the local ``interval_min`` grid, and every channel
  on the same interval length (a channel whose rows all lie on a coarser grid, e.g. a 30-minute channel next
  to a 15-minute one, is a DataError naming it; resample it first).
* **Missing data versus zero arrivals** (:func:`forecast._prep.missing_mask`). A contact log or an export
  has no row for an interval without contacts, so inside a day that has rows, an interval without a row is
  **zero arrivals**. But a whole day without any row (of any channel) is **missing** (an outage, a gap in
  the export), unless no day of its weekday has rows (a weekday the centre never opens: zero); and the
  first and last day of the history are **partial** when the table starts after (ends before) the time of
  day from which (up to which) the other days of the same weekday have rows: the part before the first row
  (after the last row) is missing. So a history exported at Friday 12:00 leaves Friday afternoon missing,
  not zero. Missing slots are left out of every mean, profile, dispersion estimate and backtest score.
  A history needs at least 7 days with data and every clock time of every weekday observed at least once
  (except the hour a DST change skips), or a DataError says which weekday and clock times lack data.
* Profiles: SeasonalAverage averages each (weekday, clock time) over the observed days among the last
  ``weeks`` weeks; where none of them is observed, the most recent observed day before them is used (so
  SeasonalNaive, ``weeks=1``, falls back to the most recent observed same weekday and time).
* A wall-clock slot that occurs twice on a day (the repeated hour when DST ends) contributes the mean of its
  two occurrences to that day; at prediction time both occurrences get the slot's volume.
* A slot never observed on that weekday in the weeks used (the hour skipped when DST starts, when
  ``weeks=1``) gets the volume of the **nearest observed clock time** of the same weekday (ties: earlier).
* AHT per channel and local clock time is the volume-weighted mean ``aht_s`` over the **whole** history at
  that clock time (rows with volume > 0 and a finite ``aht_s``); the fallback is the channel's
  volume-weighted mean, then ``default_aht_s`` for a channel that never handled a contact.

Dispersion of the process (``process_shape_day_``, ``process_shape_interval_``; method of moments, over the
completely observed days of the last ``dispersion_weeks`` weeks, W_w of them per weekday; a weekday needs
W_w >= 2, with none ``inf``): with T_d the daily totals, per weekday w the mean m_w and unbiased variance s2_w
of its W_w days, before the correction below::

    1/shape_day = sum_w (s2_w - m_w) / sum_w (m_w^2 - s2_w / W_w)

(``m_w^2 - s2_w/W_w`` is the unbiased estimator of the squared mean). Intraday, conditional on the day's
total n_d, with p_t the slot's share in the weekday's mean profile and mu_t = n_d p_t::

    1/shape_interval = sum(W/(W-1) (N_t - mu_t)^2 - mu_t (1 - p_t)) / sum(mu_t^2 (1 - 2 p_t + sum_s p_s^2))

(mu_t (1 - p_t) is the multinomial variance given n_d; W/(W-1) corrects for p_t being estimated from the
same W days; the factor 1 - 2 p_t + sum p_s^2 is the variance of H_t minus the day's share-weighted mean
of H, which conditioning on n_d removes). The interval multipliers also add (1 + 1/shape_day)
sum_t v_t^2 / shape_interval to a day's variance (v_t the slot means); with S = sum_w sum_t v_wt^2 the
day estimator is corrected to

    1/shape_day = (sum_w (s2_w - m_w) - S/shape_interval) / (sum_w (m_w^2 - s2_w/W) + S/shape_interval)

A value <= 0 gives ``inf``. These are moment estimators: they are biased by the estimation
error of the seasonal means beyond these first-order corrections, by the interval multipliers' small
contribution to the daily variance, and by any trend or holiday in the weeks used (which shows up as extra
variance, i.e. a smaller shape).

**Predictive dispersion** (``shape_day_``, ``shape_interval_``: what ``predict`` reports, so that
quantiles, requirements and the simulator see it). The forecast v^_t is itself an estimate; the error
N_t - v^_t has the variance of N_t plus that of v^_t. With a = 1/process shape_day, b = 1/process
shape_interval, a mean of n days has Var v^_t = (v_t + v_t^2 (a + b + ab)) / n, of which v_s v_t a / n is
shared by the intervals of a day. :func:`forecast._prep.predictive_shapes` matches this with the gamma
multipliers: the day level gets a' = a (1 + f_D), and the interval level b' with
(1 + a') b' = b (1 + a) (1 + f_I) + delta, where f_I = f_D = 1/n_t averaged over the profile with weights
v_t^2, and v_t^2 delta carries the Poisson part f_t v_t of the estimation variance (f_t = 1/n_t). That part
grows like v, not v^2, so no shape constant over a channel's intervals matches it at every volume: delta
balances the relative variance errors v_t delta - f_t over the profile's intervals, each weighted by
(1 - e^-v_t) / (1 + v_t c) (c = (1 + a)(1 + b) - 1: a band's sensitivity to a relative variance error, times
the chance that the interval is not empty, since a near-empty interval's band is [0, 0] or [0, 1] whatever
the shape). It is exact for a flat profile; otherwise the quietest intervals get slightly narrow bands and
the busiest slightly wide ones. SeasonalNaive's estimate is one day (n = 1: the predictive variance is
about twice the process variance); SeasonalAverage's is n_t observed days per slot. Where the estimate is
0 (SeasonalNaive after an empty interval) the forecast is a point mass at 0: no multiplier can widen it,
so a naive forecast of sparse traffic under-covers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forecast._prep import (
    aht_frame,
    check_int,
    forecast_frame,
    predictive_shapes,
    prepare,
    profile_frame,
    target,
    weekday_profile,
)


def moment_shapes(x: np.ndarray, totals: np.ndarray, weekday: np.ndarray) -> tuple[float, float]:
    """(shape_day, shape_interval) of the process by the moment estimators of the module docstring.

    ``x``: completely observed days x wall-clock slots of volumes (NaN where the slot does not exist that
    day), ``totals``: their daily totals, ``weekday``: the weekday of each day; a weekday with fewer than two
    days is left out (``inf`` when every weekday is).
    """
    num_d = den_d = raw_d = sq_v = num_i = den_i = 0.0
    for w in range(7):
        rows = weekday == w
        n_w = int(rows.sum())
        if n_w < 2:
            continue
        t = totals[rows]
        m = float(t.mean())
        s2 = float(t.var(ddof=1))
        num_d += s2 - m
        den_d += m * m - s2 / n_w
        raw_d += m * m
        xw = x[rows]
        xw = xw[:, ~np.isnan(xw).any(axis=0)]
        mean_t = xw.mean(axis=0)
        sq_v += float((mean_t**2).sum())
        tot = float(mean_t.sum())
        if tot <= 0:
            continue
        p = mean_t / tot
        mu = xw.sum(axis=1)[:, None] * p[None, :]
        num_i += n_w / (n_w - 1) * float(((xw - mu) ** 2).sum()) - float((mu * (1 - p)).sum())
        den_i += float((mu**2 * (1 - 2 * p + float((p**2).sum()))).sum())
    inv_int = num_i / den_i if den_i > 0 else 0.0
    inv_int = max(inv_int, 0.0)
    # the interval multipliers add sum_t v_t^2 / shape_interval (times 1 + 1/shape_day) to the daily variance
    num_d -= sq_v * inv_int
    den = den_d if den_d > 0 else raw_d
    den += sq_v * inv_int
    inv_day = num_d / den if den > 0 else 0.0
    return (1.0 / inv_day if inv_day > 0 else math.inf), (1.0 / inv_int if inv_int > 0 else math.inf)


class _SeasonalModel:
    def __init__(
        self,
        *,
        dispersion_weeks: int = 4,
        tz=None,
        interval_min: int | None = None,
        default_aht_s: float = 300.0,
    ):
        self.dispersion_weeks = dispersion_weeks
        self.tz = tz
        self.interval_min = interval_min
        self.default_aht_s = default_aht_s

    # -- subclasses --------------------------------------------------------------------------------------
    def _profile_weeks(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _name(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _dispersion_weeks(self):
        return self.dispersion_weeks

    # -- fit ---------------------------------------------------------------------------------------------
    def fit(self, history: pd.DataFrame, source: str = "history"):
        """Learn the seasonal profile, AHT and dispersion from a history table; returns ``self``."""
        weeks = check_int(self._profile_weeks(), "weeks")
        disp_weeks = check_int(self._dispersion_weeks(), "dispersion_weeks")
        p = prepare(
            history,
            tz=self.tz,
            interval_min=self.interval_min,
            default_aht_s=self.default_aht_s,
            source=source,
            name=self._name(),
        )
        n_days = p.n_days
        w_prof = min(weeks, n_days // 7)
        w_disp = min(disp_weeks, n_days // 7)
        full = p.full
        prof_rows, shape_day, shape_int, proc_day, proc_int = [], {}, {}, {}, {}
        for c in p.channels:
            x, daily = p.x[c], p.totals[c]
            # profile: mean over the observed days of the last w_prof weeks per (weekday, slot)
            prof, n_used = weekday_profile(x, p.weekday, n_days - 7 * w_prof)
            prof_rows.append(prof)
            lo = n_days - 7 * w_disp
            keep = full[lo:]
            kd, ki = moment_shapes(x[lo:][keep], daily[lo:][keep], p.weekday[lo:][keep])
            proc_day[c], proc_int[c] = kd, ki
            shape_day[c], shape_int[c] = predictive_shapes(kd, ki, prof, 1.0 / n_used)
        self.channels_ = p.channels
        self.tz_ = p.tz
        self.interval_min_ = p.interval_min
        self.n_days_ = n_days
        self.weeks_ = w_prof
        self.dispersion_weeks_ = w_disp
        self.profile_ = profile_frame(p.channels, prof_rows, p.interval_min)
        self.aht_ = aht_frame(p)
        self.process_shape_day_ = proc_day
        self.process_shape_interval_ = proc_int
        self.shape_day_ = shape_day
        self.shape_interval_ = shape_int
        return self

    # -- predict -----------------------------------------------------------------------------------------
    def predict(self, index) -> pd.DataFrame:
        """A Forecast for every fitted channel on ``index`` (tz-aware DatetimeIndex, or an object with
        ``.starts`` such as sim's IntervalGrid). The starts must be on the history's local interval grid;
        ``interval_start`` keeps the time zone of ``index``."""
        tgt = target(index, model=self, name=self._name())
        n_c, n_slots = len(self.channels_), 1440 // self.interval_min_
        prof = self.profile_["volume"].to_numpy(float).reshape(n_c, 7, n_slots)
        aht = self.aht_["aht_s"].to_numpy(float).reshape(n_c, n_slots)
        cols = {
            c: {
                "volume": prof[i, tgt.weekday, tgt.slot],
                "aht_s": aht[i, tgt.slot],
                "shape_day": self.shape_day_[c],
                "shape_interval": self.shape_interval_[c],
            }
            for i, c in enumerate(self.channels_)
        }
        return forecast_frame(self.channels_, tgt.index, cols, self._name())


class SeasonalNaive(_SeasonalModel):
    """Volume of the same local weekday and clock time in the last week of history (the most recent observed
    one where the last week's is missing).

    The process dispersion is estimated over the last ``dispersion_weeks`` weeks (default 4; see the module
    docstring) since one week cannot show day-to-day variance; the predictive shapes add the variance of the
    one-day estimate.
    """

    def __init__(
        self,
        *,
        dispersion_weeks: int = 4,
        tz=None,
        interval_min: int | None = None,
        default_aht_s: float = 300.0,
    ):
        super().__init__(
            dispersion_weeks=dispersion_weeks, tz=tz, interval_min=interval_min, default_aht_s=default_aht_s
        )

    def _profile_weeks(self) -> int:
        return 1

    def _name(self) -> str:
        return "SeasonalNaive()"


class SeasonalAverage(_SeasonalModel):
    """Mean over the observed days of the last ``weeks`` weeks of the same local weekday and clock time
    (fewer weeks if the history is shorter, at least one full week). Dispersion over the same weeks unless
    ``dispersion_weeks`` is given; the predictive shapes add the variance of the mean.
    """

    def __init__(
        self,
        weeks: int = 4,
        *,
        dispersion_weeks: int | None = None,
        tz=None,
        interval_min: int | None = None,
        default_aht_s: float = 300.0,
    ):
        super().__init__(
            dispersion_weeks=dispersion_weeks, tz=tz, interval_min=interval_min, default_aht_s=default_aht_s
        )
        self.weeks = weeks

    def _dispersion_weeks(self):
        return self.weeks if self.dispersion_weeks is None else self.dispersion_weeks

    def _profile_weeks(self) -> int:
        return self.weeks

    def _name(self) -> str:
        return f"SeasonalAverage(weeks={self.weeks})"
