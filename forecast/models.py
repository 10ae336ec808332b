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

from forecast._calendar import (
    as_index,
    check_aligned,
    check_interval_min,
    day_grid,
    infer_interval_min,
    wall_parts,
)
from forecast.errors import ConfigError, DataError
from forecast.frame import FORECAST_COLUMNS, validate_forecast, validate_history


def _fill_nearest(row: np.ndarray) -> np.ndarray:
    """NaNs of ``row`` replaced by the nearest non-NaN value (ties: the earlier one); all-NaN -> zeros."""
    present = np.flatnonzero(~np.isnan(row))
    if present.size == 0:
        return np.zeros_like(row)
    if present.size == row.size:
        return row
    j = np.arange(row.size)
    pos = np.searchsorted(present, j)
    left = present[np.clip(pos - 1, 0, present.size - 1)]
    right = present[np.clip(pos, 0, present.size - 1)]
    take = np.where(np.abs(j - left) <= np.abs(right - j), left, right)
    return row[take]


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
        weeks = self._profile_weeks()
        disp_weeks = self._dispersion_weeks()
        for key, v in (("weeks", weeks), ("dispersion_weeks", disp_weeks)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ConfigError(f"expected an integer >= 1; got {v!r}", key)
        d_aht = self.default_aht_s
        if not (isinstance(d_aht, int | float) and math.isfinite(d_aht) and d_aht > 0):
            raise ConfigError(f"expected seconds > 0; got {d_aht!r}", "default_aht_s")
        h = validate_history(history, source)
        if h.empty:
            raise DataError(f"{source}: no rows; {self._name()} needs at least 7 days of history")
        ts = pd.DatetimeIndex(h["interval_start"])
        try:
            ts = ts.tz_convert(self.tz if self.tz is not None else ts.tz)
        except Exception as exc:  # noqa: BLE001 - a bad tz name is a config error
            raise ConfigError(f"expected a valid time zone; got {self.tz!r} ({exc})", "tz") from None
        tz = ts.tz
        if self.interval_min is None:
            imin = infer_interval_min(ts, source)
        else:
            imin = check_interval_min(self.interval_min)
        check_aligned(ts, imin, source)
        day, minute, _ = wall_parts(ts)
        slot = minute // imin
        n_slots = 1440 // imin
        d_first, d_last = int(day.min()), int(day.max())
        n_days = d_last - d_first + 1
        if n_days < 7:
            raise DataError(f"{source}: history holds {n_days} days; {self._name()} needs at least 7")
        w_prof = min(int(weeks), n_days // 7)
        w_disp = min(int(disp_weeks), n_days // 7)
        span = 7 * max(w_prof, w_disp)
        first = d_last - span + 1
        grid = day_grid(first, span, tz, imin)
        gday, gmin, _ = wall_parts(grid)
        count = np.zeros((span, n_slots))
        np.add.at(count, (gday - first, gmin // imin), 1.0)
        win_weekday = (np.arange(first, d_last + 1) + 3) % 7

        channels = tuple(sorted(h["channel"].unique().tolist()))
        chan = h["channel"].to_numpy(object)
        vol = h["volume"].to_numpy(float)
        aht = h["aht_s"].to_numpy(float)
        prof_rows, aht_rows, shape_day, shape_int = [], [], {}, {}
        for c in channels:
            sel = chan == c
            in_win = sel & (day >= first)
            total = np.zeros((span, n_slots))
            np.add.at(total, (day[in_win] - first, slot[in_win]), vol[in_win])
            x = np.divide(total, count, out=np.full_like(total, np.nan), where=count > 0)
            daily = total.sum(axis=1)
            # profile: mean over the last w_prof weeks per (weekday, slot), NaN where never observed
            xp, wp = x[span - 7 * w_prof :], win_weekday[span - 7 * w_prof :]
            prof = np.empty((7, n_slots))
            for w in range(7):
                rows = xp[wp == w]
                n_obs = (~np.isnan(rows)).sum(axis=0)
                s = np.nansum(rows, axis=0)
                prof[w] = _fill_nearest(np.divide(s, n_obs, out=np.full(n_slots, np.nan), where=n_obs > 0))
            prof_rows.append(prof)
            xd, wd = x[span - 7 * w_disp :], win_weekday[span - 7 * w_disp :]
            shape_day[c], shape_int[c] = moment_shapes(xd, daily[span - 7 * w_disp :], wd, w_disp)
            # AHT per clock slot over the whole history
            ok = sel & (vol > 0) & np.isfinite(aht)
            num = np.bincount(slot[ok], weights=vol[ok] * aht[ok], minlength=n_slots)
            den = np.bincount(slot[ok], weights=vol[ok], minlength=n_slots)
            overall = float(num.sum() / den.sum()) if den.sum() > 0 else float(d_aht)
            aht_rows.append(np.divide(num, den, out=np.full(n_slots, overall), where=den > 0))

        n_c = len(channels)
        minutes = np.arange(n_slots) * imin
        self.channels_ = channels
        self.tz_ = tz
        self.interval_min_ = imin
        self.n_days_ = n_days
        self.weeks_ = w_prof
        self.dispersion_weeks_ = w_disp
        self.profile_ = pd.DataFrame(
            {
                "channel": np.repeat(np.array(channels, dtype=object), 7 * n_slots),
                "weekday": np.tile(np.repeat(np.arange(7), n_slots), n_c),
                "minute": np.tile(minutes, 7 * n_c),
                "volume": np.concatenate([p.ravel() for p in prof_rows]) if n_c else np.zeros(0),
            }
        )
        self.aht_ = pd.DataFrame(
            {
                "channel": np.repeat(np.array(channels, dtype=object), n_slots),
                "minute": np.tile(minutes, n_c),
                "aht_s": np.concatenate(aht_rows) if n_c else np.zeros(0),
            }
        )
        self.shape_day_ = shape_day
        self.shape_interval_ = shape_int
        return self

    # -- predict -----------------------------------------------------------------------------------------
    def predict(self, index) -> pd.DataFrame:
        """A Forecast for every fitted channel on ``index`` (tz-aware DatetimeIndex, or an object with
        ``.starts`` such as sim's IntervalGrid). The starts must be on the history's local interval grid;
        ``interval_start`` keeps the time zone of ``index``."""
        if not hasattr(self, "channels_"):
            raise ConfigError(f"{self._name()} is not fitted; call fit(history) first", "predict")
        idx = as_index(index)
        imin = self.interval_min_
        other = getattr(index, "interval_min", None)
        if other is not None and other != imin:
            raise ConfigError(
                f"expected {imin}-minute intervals (those of the history); got {other}", "index"
            )
        if idx.has_duplicates:
            raise ConfigError("expected distinct interval starts; the index has duplicates", "index")
        local = idx.tz_convert(self.tz_)
        check_aligned(local, imin, "index")
        if len(idx) > 1:
            gaps = np.diff(np.sort(idx.tz_convert("UTC").tz_localize(None).to_numpy("datetime64[ns]")))
            if gaps.min() < np.timedelta64(imin * 60, "s"):
                raise ConfigError(f"expected intervals of {imin} minutes (those of the history)", "index")
        _, minute, weekday = wall_parts(local)
        slot = minute // imin
        n_slots = 1440 // imin
        prof = self.profile_["volume"].to_numpy(float).reshape(len(self.channels_), 7, n_slots)
        aht = self.aht_["aht_s"].to_numpy(float).reshape(len(self.channels_), n_slots)
        frames = []
        for i, c in enumerate(self.channels_):
            frames.append(
                pd.DataFrame(
                    {
                        "channel": c,
                        "interval_start": idx,
                        "volume": prof[i, weekday, slot],
                        "aht_s": aht[i, slot],
                        "shape_day": self.shape_day_[c],
                        "shape_interval": self.shape_interval_[c],
                    }
                )
            )
        if not frames:
            empty = pd.DataFrame({c: [] for c in FORECAST_COLUMNS})
            empty["interval_start"] = pd.DatetimeIndex([], tz=idx.tz)
            return empty
        return validate_forecast(pd.concat(frames, ignore_index=True), source=f"{self._name()}.predict")


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
