"""Seasonal forecast models (scikit-learn style: ``__init__`` stores parameters, ``fit`` learns, learned
attributes end in ``_``).

Both models key the history by (local weekday, local clock time) in the time zone ``tz`` (default: the
time zone of the history's ``interval_start``). Choices where the contract is silent:

* The history is put on the full local grid of the days it covers (local midnight to local midnight of
  the first to the last day): intervals without a row count as **zero arrivals** (a contact log has no row
  for an interval without contacts). History timestamps must be on the local ``interval_min`` grid.
* A wall-clock slot that occurs twice on a day (the repeated hour when DST ends) contributes the mean of its
  two occurrences to that day; at prediction time both occurrences get the slot's volume.
* A slot never observed on that weekday in the weeks used (the hour skipped when DST starts, when
  ``weeks=1``) gets the volume of the **nearest observed clock time** of the same weekday (ties: earlier).
* AHT per channel and local clock time is the volume-weighted mean ``aht_s`` over the **whole** history at
  that clock time (rows with volume > 0 and a finite ``aht_s``); the fallback is the channel's
  volume-weighted mean, then ``default_aht_s`` for a channel that never handled a contact.

Dispersion (method of moments, over the last ``dispersion_weeks`` full weeks, W of them; needs W >= 2,
otherwise ``inf``): with T_d the daily totals, per weekday w the mean m_w and unbiased variance s2_w of its
W days, before the correction below::

    1/shape_day = sum_w (s2_w - m_w) / sum_w (m_w^2 - s2_w / W)

(``m_w^2 - s2_w/W`` is the unbiased estimator of the squared mean). Intraday, conditional on the day's
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
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forecast._prep import (
    aht_frame,
    check_int,
    forecast_frame,
    prepare,
    profile_frame,
    target,
    weekday_profile,
)


def moment_shapes(x: np.ndarray, totals: np.ndarray, weekday: np.ndarray, weeks: int) -> tuple[float, float]:
    """(shape_day, shape_interval) by the moment estimators of the module docstring.

    ``x``: days x wall-clock slots of volumes (NaN where the slot does not exist that day), ``totals``: the
    true daily totals, ``weekday``: the weekday of each day; each weekday occurs ``weeks`` times.
    """
    if weeks < 2:
        return math.inf, math.inf
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
        prof_rows, shape_day, shape_int = [], {}, {}
        for c in p.channels:
            x, daily = p.x[c], p.totals[c]
            # profile: mean over the last w_prof weeks per (weekday, slot)
            lo = n_days - 7 * w_prof
            prof_rows.append(weekday_profile(x[lo:], p.weekday[lo:]))
            lo = n_days - 7 * w_disp
            shape_day[c], shape_int[c] = moment_shapes(x[lo:], daily[lo:], p.weekday[lo:], w_disp)
        self.channels_ = p.channels
        self.tz_ = p.tz
        self.interval_min_ = p.interval_min
        self.n_days_ = n_days
        self.weeks_ = w_prof
        self.dispersion_weeks_ = w_disp
        self.profile_ = profile_frame(p.channels, prof_rows, p.interval_min)
        self.aht_ = aht_frame(p)
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
    """Volume of the same local weekday and clock time in the last week of history.

    The dispersion shapes are estimated over the last ``dispersion_weeks`` weeks (default 4; see the module
    docstring) since one week cannot show day-to-day variance.
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
    """Mean over the last ``weeks`` weeks of the same local weekday and clock time (fewer if the history
    is shorter, at least one full week). Dispersion over the same weeks unless ``dispersion_weeks`` is given.
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
