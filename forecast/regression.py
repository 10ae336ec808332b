"""Poisson and negative-binomial regression of interval counts on day of week x time of day (+ holidays).

The log-linear model for the count of interval t (local clock slot) on local day d (weekday w(d))::

    log E N_dt = theta_{w(d), t} + delta_{h(d)}                                (interaction=True)
    log E N_dt = a_{w(d)} + b_t + delta_{h(d)}                                 (interaction=False)

``delta_h`` is the multiplicative effect exp(delta_h) of holiday or event ``h`` on every interval of its
local date (the weekday's intraday shape is kept; delta = 0 on ordinary days). The calendar is a table with
columns ``date`` (a local calendar date written YYYY-MM-DD, or ``datetime.date`` values; "12.03.2025" is an
error naming the row, never a guess between 12 March and 3 December) and ``name``; dates sharing a name
share one effect, estimated per channel from the history's days with that name. A name absent from the
history has no estimate and predicts factor 1 (``holiday_effects_`` lists the estimates).

Fit (exact and fast, no design matrix). The Poisson log-likelihood is concave in the log-parameters and its
score equations say that each block's observed total equals its fitted total. Without holidays, the MLE of
the interaction model is the cell mean per (weekday, slot), and that of the main-effects model is the
row x column fit of the weekday x slot table (iterated when DST leaves the table unbalanced). With holidays,
the blocks are solved in turn in closed form (iterative proportional fitting, i.e. exact block coordinate
ascent; Deming & Stephan (1940), Annals of Mathematical Statistics 11; Bishop, Fienberg & Holland (1975),
"Discrete Multivariate Analysis", ch. 3), until no parameter moves by more than ``tol`` (relative). The
fit works on the multiplicative scale, so a cell or a holiday with zero arrivals gets a rate of exactly 0
(no log(0)). Counts are the history on its local grid (:mod:`forecast.models` conventions: a row-less
interval inside a day with rows is zero arrivals, missing data (days without rows, the cut-off part of the
first and last day) and a slot absent on a DST day are not observations, the repeated hour counts once with
the mean of its two occurrences); a cell without an observation in the weeks fitted (``weeks``) takes its
most recent observation before them, and a slot never observed on a weekday the nearest observed clock
time's rate.

Dispersion of the process (``process_shape_day_``, ``process_shape_interval_``).
:class:`PoissonRegression` is the Poisson model: both ``inf``.
:class:`NegBinRegression` keeps the same mean (the Poisson quasi-MLE, which without holidays is also the
NB2 MLE, since the NB2 score for a cell with its own mean is solved by the cell mean) and estimates the
over-dispersion on two levels, because a count's extra variance has a part shared by the day and a part of
its own: with the Forecast's multipliers, Var N_dt = mu + alpha mu^2 with NB2 parameter
alpha = (1 + 1/shape_day)(1 + 1/shape_interval) - 1 (``alpha_``), and a day's total has NB2 parameter
about 1/shape_day (``alpha_day_``). Both come from the moment (Pearson) estimators of
:func:`~forecast.models.moment_shapes` (Cameron & Trivedi (2013), "Regression Analysis of Count Data", 2nd
ed., section 3.2) on the complete ordinary (non-holiday) days of the last ``dispersion_weeks`` weeks
(default: the fitted days), with their finite-sample correction W/(W-1): maximum likelihood with cell means
fitted from W days would absorb 1/W of each cell's variance, a bias larger than the over-dispersion itself
at typical volumes.

Predictive dispersion (``shape_day_``, ``shape_interval_``, what ``predict`` reports): the process shapes
plus the variance of the fitted means, by :func:`forecast._prep.predictive_shapes` (the rule of
:mod:`forecast.models`). With interactions a rate is the mean of the n_wt days observed in its cell
(f = 1/n_wt at both levels); with main effects the weekday factor comes from the n_w days of its weekday
(day level f_D = 1/n_w) and the clock-time factor from the n_t days observed at that time (interval level
f_I = 1/n_t), to first order. So even the Poisson model's predictive shapes are finite: a rate estimated
from n days has variance v/n. The extra uncertainty of a holiday factor estimated from one or two days is
not in the shapes (they are constant per channel).

AHT as in :mod:`forecast.models` (volume-weighted per clock time over the whole history).
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd

from forecast._calendar import wall_parts
from forecast._prep import (
    aht_frame,
    check_int,
    fill_nearest,
    forecast_frame,
    predictive_shapes,
    prepare,
    profile_frame,
    target,
    weekday_profile,
)
from forecast.errors import ConfigError, DataError
from forecast.models import moment_shapes


def holiday_days(holidays: pd.DataFrame | None) -> dict[int, str]:
    """Local day number -> name from a calendar table with columns ``date`` and ``name``."""
    if holidays is None:
        return {}
    if not isinstance(holidays, pd.DataFrame):
        raise ConfigError(
            f"expected a table with columns date, name; got {type(holidays).__name__}", "holidays"
        )
    missing = [c for c in ("date", "name") if c not in holidays.columns]
    if missing:
        raise DataError(f"holidays: missing column(s) {missing}; expected columns ['date', 'name']")
    out: dict[int, str] = {}
    for pos, (date, name) in enumerate(zip(holidays["date"], holidays["name"])):
        ts = _iso_date(date)
        if ts is None:
            raise DataError(
                f"holidays: column 'date', row {pos}: expected a date as YYYY-MM-DD (ISO 8601; a "
                f"datetime.date or a time-zone-naive timestamp at midnight also do); got {date!r}"
            )
        if not isinstance(name, str) or not name:
            raise DataError(f"holidays: column 'name', row {pos}: expected a non-empty name; got {name!r}")
        (day,), _, _ = wall_parts(pd.DatetimeIndex([ts]).tz_localize("UTC"))
        day = int(day)
        if day in out and out[day] != name:
            raise DataError(
                f"holidays: column 'date', row {pos}: {ts.date()} already has the name {out[day]!r}; "
                "expected one name per date"
            )
        out[day] = name
    return out


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value) -> pd.Timestamp | None:
    """A calendar date as a naive midnight Timestamp, or None: strings only as YYYY-MM-DD (no other
    order of day and month is guessed), ``datetime.date`` objects, and naive timestamps at midnight."""
    if isinstance(value, str):
        text = value.strip()
        if not _ISO_DATE.fullmatch(text):
            return None
        try:
            return pd.Timestamp(dt.date.fromisoformat(text))
        except ValueError:
            return None
    if isinstance(value, dt.datetime | pd.Timestamp | np.datetime64):
        ts = pd.Timestamp(value)
        if ts is pd.NaT or pd.isna(ts) or ts.tzinfo is not None or ts != ts.normalize():
            return None
        return ts
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    return None


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.full(np.broadcast_shapes(num.shape, den.shape), np.nan), where=den > 0)


def fit_log_linear(
    y: np.ndarray,
    obs: np.ndarray,
    weekday: np.ndarray,
    hday: np.ndarray,
    n_hol: int,
    *,
    interaction: bool,
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Poisson MLE of the module's model: (rate (7, slots) with NaN where never observed, holiday factors
    (n_hol,) with NaN where a holiday has no data, iterations, converged).

    ``y``: days x slots counts (0 where not observed), ``obs``: 1.0 where the slot was observed that day,
    ``hday``: holiday index per day (-1: ordinary day)."""
    n_slots = y.shape[1]
    onehot = np.zeros((y.shape[0], 7))
    onehot[np.arange(y.shape[0]), weekday] = 1.0
    hol = np.zeros((y.shape[0], n_hol))
    is_h = hday >= 0
    hol[np.flatnonzero(is_h), hday[is_h]] = 1.0
    phi = np.ones(n_hol)
    num_cell = onehot.T @ y  # (7, slots)
    num_hol = hol.T @ y.sum(axis=1)  # (n_hol,)
    b = np.full(n_slots, 1.0 / n_slots)
    theta = np.zeros((7, n_slots))
    it, converged = 0, False
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        f = np.where(is_h, np.concatenate([phi, [1.0]])[hday], 1.0)  # factor per day
        fo = obs * f[:, None]
        if interaction:
            new_theta = _ratio(num_cell, onehot.T @ fo)
        else:
            a_new = _ratio(num_cell.sum(axis=1), (onehot.T @ fo) @ b)
            a_new = np.nan_to_num(a_new)
            b_new = _ratio(num_cell.sum(axis=0), a_new[weekday] @ fo)
            b_new = np.nan_to_num(b_new)
            s = b_new.sum()
            if s > 0:
                b_new, a_new = b_new / s, a_new * s
            new_theta = a_new[:, None] * b_new[None, :]
            b = b_new
        rate = np.nan_to_num(new_theta)[weekday] * obs  # expected counts of ordinary-day form
        new_phi = _ratio(num_hol, hol.T @ rate.sum(axis=1)) if n_hol else phi
        done = _close(new_theta, theta, tol) and _close(new_phi, phi, tol)
        theta, phi = new_theta, np.where(np.isnan(new_phi), 1.0, new_phi) if n_hol else phi
        if (n_hol == 0 and interaction) or done:
            converged = True
            break
    fitted_phi = np.where(hol.sum(axis=0) > 0, phi, np.nan) if n_hol else phi
    return theta, fitted_phi, it, converged


def _close(new: np.ndarray, old: np.ndarray, tol: float) -> bool:
    a, b = np.nan_to_num(new), np.nan_to_num(old)
    return bool(np.all(np.abs(a - b) <= tol * np.maximum(np.abs(a), np.abs(b)) + 1e-300))


class PoissonRegression:
    """Log-linear Poisson regression on weekday x clock time (+ holidays); see the module docstring.

    ``weeks``: fit on the last ``weeks`` full weeks (None: every day of the history). ``interaction``:
    a rate per (weekday, clock time) if True (default), weekday + clock-time main effects if False.
    ``holidays``: a calendar table (``date``, ``name``). Scikit-learn style: ``fit`` returns self.
    """

    family = "poisson"

    def __init__(
        self,
        *,
        weeks: int | None = None,
        interaction: bool = True,
        holidays: pd.DataFrame | None = None,
        dispersion_weeks: int | None = None,
        max_iter: int = 500,
        tol: float = 1e-10,
        tz=None,
        interval_min: int | None = None,
        default_aht_s: float = 300.0,
    ):
        self.weeks = weeks
        self.interaction = interaction
        self.holidays = holidays
        self.dispersion_weeks = dispersion_weeks
        self.max_iter = max_iter
        self.tol = tol
        self.tz = tz
        self.interval_min = interval_min
        self.default_aht_s = default_aht_s

    def _name(self) -> str:
        return f"{type(self).__name__}(interaction={self.interaction})"

    def fit(self, history: pd.DataFrame, source: str = "history"):
        """Fit the rates, holiday factors, dispersion and AHT; returns ``self``."""
        if self.weeks is not None:
            check_int(self.weeks, "weeks")
        if self.dispersion_weeks is not None:
            check_int(self.dispersion_weeks, "dispersion_weeks")
        max_iter = check_int(self.max_iter, "max_iter")
        if not isinstance(self.interaction, bool):
            raise ConfigError(f"expected true or false; got {self.interaction!r}", "interaction")
        tol = self.tol
        if isinstance(tol, bool) or not isinstance(tol, int | float) or not (0 < tol < 1):
            raise ConfigError(f"expected a number in (0, 1); got {tol!r}", "tol")
        cal = holiday_days(self.holidays)
        p = prepare(
            history,
            tz=self.tz,
            interval_min=self.interval_min,
            default_aht_s=self.default_aht_s,
            source=source,
            name=self._name(),
        )
        n_days = p.n_days
        lo = 0 if self.weeks is None else n_days - 7 * min(int(self.weeks), n_days // 7)
        day_no = np.arange(p.first_day, p.first_day + n_days)
        names = sorted({cal[d] for d in day_no[lo:] if d in cal})
        pos = {n: i for i, n in enumerate(names)}
        hday = np.array([pos.get(cal.get(int(d), ""), -1) for d in day_no], dtype=np.int64)
        fit_days = n_days - lo
        disp_days = (
            fit_days if self.dispersion_weeks is None else min(7 * int(self.dispersion_weeks), fit_days)
        )
        d_lo = n_days - disp_days
        rates, effects, shape_day, shape_int, alpha, alpha_day, iters, conv = [], [], {}, {}, {}, {}, {}, {}
        proc_day, proc_int = {}, {}
        wd_fit = p.weekday[lo:]
        obs_fit = p.obs[lo:].astype(float)
        if self.interaction:
            n_cell = np.stack([obs_fit[wd_fit == w].sum(axis=0) for w in range(7)])
            f_int = f_day = 1.0 / np.maximum(n_cell, 1.0)
        else:
            n_slot = obs_fit.sum(axis=0)
            n_wd = np.array([float(obs_fit[wd_fit == w].any(axis=1).sum()) for w in range(7)])
            f_int = np.broadcast_to(1.0 / np.maximum(n_slot, 1.0), (7, p.n_slots))
            f_day = np.broadcast_to((1.0 / np.maximum(n_wd, 1.0))[:, None], (7, p.n_slots))
        for c in p.channels:
            x = p.x[c][lo:]
            obs = (~np.isnan(x)).astype(float)
            theta, phi, it, ok = fit_log_linear(
                np.nan_to_num(x),
                obs,
                wd_fit,
                hday[lo:],
                len(names),
                interaction=self.interaction,
                max_iter=max_iter,
                tol=float(tol),
            )
            if np.isnan(theta).any() and lo > 0:
                # a cell without data in the weeks fitted (missing days): its most recent observation
                older, _ = weekday_profile(p.x[c], p.weekday, lo)
                theta = np.where(np.isnan(theta), older, theta)
            rates.append(np.vstack([fill_nearest(row) for row in theta]))
            iters[c], conv[c] = it, ok
            for i, n in enumerate(names):
                effects.append((c, n, float(phi[i]) if np.isfinite(phi[i]) else math.nan))
            if self.family == "negbin":
                keep = (hday[d_lo:] < 0) & p.full[d_lo:]
                xd, td, wd = p.x[c][d_lo:][keep], p.totals[c][d_lo:][keep], p.weekday[d_lo:][keep]
                kd, ki = moment_shapes(xd, td, wd)
            else:
                kd = ki = math.inf
            proc_day[c], proc_int[c] = kd, ki
            shape_day[c], shape_int[c] = predictive_shapes(kd, ki, rates[-1], f_int, f_day=f_day)
            a = 0.0 if math.isinf(kd) else 1.0 / kd
            b = 0.0 if math.isinf(ki) else 1.0 / ki
            alpha[c], alpha_day[c] = (1 + a) * (1 + b) - 1, a
        self.channels_ = p.channels
        self.tz_ = p.tz
        self.interval_min_ = p.interval_min
        self.n_days_ = n_days
        self.fit_days_ = fit_days
        self.profile_ = profile_frame(p.channels, rates, p.interval_min)
        self.holiday_effects_ = pd.DataFrame(effects, columns=["channel", "name", "factor"])
        self.calendar_ = cal
        self.aht_ = aht_frame(p)
        self.process_shape_day_ = proc_day
        self.process_shape_interval_ = proc_int
        self.shape_day_ = shape_day
        self.shape_interval_ = shape_int
        self.alpha_ = alpha
        self.alpha_day_ = alpha_day
        self.n_iter_ = iters
        self.converged_ = conv
        return self

    def predict(self, index) -> pd.DataFrame:
        """A Forecast for every fitted channel on ``index`` (as :meth:`SeasonalAverage.predict`); a target
        date in the calendar gets its holiday's estimated factor (1 if the history had no such day)."""
        tgt = target(index, model=self, name=self._name())
        n_c, n_slots = len(self.channels_), 1440 // self.interval_min_
        rate = self.profile_["volume"].to_numpy(float).reshape(n_c, 7, n_slots)
        aht = self.aht_["aht_s"].to_numpy(float).reshape(n_c, n_slots)
        eff = self.holiday_effects_
        names = np.array([self.calendar_.get(int(d), "") for d in tgt.day], dtype=object)
        cols = {}
        for i, c in enumerate(self.channels_):
            fac = dict(zip(eff.loc[eff["channel"] == c, "name"], eff.loc[eff["channel"] == c, "factor"]))
            f = np.array([fac.get(n, 1.0) if n else 1.0 for n in names], dtype=float)
            f = np.where(np.isfinite(f), f, 1.0)
            cols[c] = {
                "volume": rate[i, tgt.weekday, tgt.slot] * f,
                "aht_s": aht[i, tgt.slot],
                "shape_day": self.shape_day_[c],
                "shape_interval": self.shape_interval_[c],
            }
        return forecast_frame(self.channels_, tgt.index, cols, self._name())


class NegBinRegression(PoissonRegression):
    """:class:`PoissonRegression`'s mean with negative-binomial over-dispersion estimated on two levels
    (day and interval) and mapped to the Forecast's ``shape_day`` and ``shape_interval``; see the module."""

    family = "negbin"

    def __init__(
        self,
        *,
        weeks: int | None = None,
        interaction: bool = True,
        holidays: pd.DataFrame | None = None,
        dispersion_weeks: int | None = None,
        max_iter: int = 500,
        tol: float = 1e-10,
        tz=None,
        interval_min: int | None = None,
        default_aht_s: float = 300.0,
    ):
        super().__init__(
            weeks=weeks,
            interaction=interaction,
            holidays=holidays,
            dispersion_weeks=dispersion_weeks,
            max_iter=max_iter,
            tol=tol,
            tz=tz,
            interval_min=interval_min,
            default_aht_s=default_aht_s,
        )
