"""Rolling-origin backtests of forecast models (Tashman (2000), "Out-of-sample tests of forecasting
accuracy", International Journal of Forecasting 16; MASE: Hyndman & Koehler (2006), "Another look at
measures of forecast accuracy", International Journal of Forecasting 22; pinball loss and interval coverage:
Gneiting & Raftery (2007), "Strictly proper scoring rules, prediction, and estimation", JASA 102)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast._calendar import (
    check_aligned,
    check_channel_intervals,
    check_interval_min,
    day_grid,
    infer_interval_min,
    wall_parts,
)
from forecast._prep import missing_mask
from forecast.errors import ConfigError, DataError
from forecast.frame import validate_history
from forecast.quantiles import check_quantiles, forecast_quantiles, mixture_cdf, quantile_column

BACKTEST_COLUMNS = ("origin", "channel", "horizon_days", "wape", "mae", "bias", "mase")
#: the columns added by ``backtest(..., quantiles=...)``.
INTERVAL_COLUMNS = ("pinball", "coverage")
#: the raw sums behind the metrics (one row per origin, channel and horizon), for pooling over origins:
#: ``n`` intervals scored (missing actuals are not), their sums of |error|, error and actual, the naive
#: ``scale``, the pinball sum, ``covered`` (the sum of :func:`pit_coverage`) over the ``counted`` intervals.
RAW_COLUMNS = (
    "origin",
    "channel",
    "horizon_days",
    "n",
    "abs_err",
    "err",
    "actual",
    "scale",
    "pinball_sum",
    "covered",
    "counted",
)


def _int(value, key: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
        raise ConfigError(f"expected an integer >= {lo}; got {value!r}", key)
    return int(value)


def _horizons(horizon_days) -> tuple[int, ...]:
    if isinstance(horizon_days, Sequence) and not isinstance(horizon_days, str | bytes):
        hs = tuple(_int(h, "horizon_days", 1) for h in horizon_days)
        if not hs:
            raise ConfigError("expected at least one horizon", "horizon_days")
        return tuple(sorted(set(hs)))
    return (_int(horizon_days, "horizon_days", 1),)


def band_levels(band: float) -> tuple[float, float]:
    """The quantile levels (lower, upper) of the central ``band`` interval, e.g. 0.8 -> (0.1, 0.9)."""
    if isinstance(band, bool) or not isinstance(band, int | float) or not 0 < band < 1:
        raise ConfigError(f"expected a probability in (0, 1); got {band!r}", "band")
    lo = round((1.0 - float(band)) / 2.0, 12)
    return lo, round(1.0 - lo, 12)


def _on_grid(f: pd.DataFrame, name: str, grid: pd.DatetimeIndex, fill: float = 0.0) -> np.ndarray:
    """Column ``name`` of one channel's forecast rows on ``grid`` (``fill`` where the forecast has no row)."""
    s = pd.Series(f[name].to_numpy(float), index=pd.DatetimeIndex(f["interval_start"]))
    return s.reindex(grid, fill_value=fill).to_numpy(float)


def pit_coverage(actual, volume, shape_day, shape_interval, lower: float, upper: float) -> np.ndarray:
    """Per interval, the share of the forecast's probability step at the actual count y that lies in the
    central band of probabilities [lower, upper]: |[F(y-1), F(y)] & [lower, upper]| / (F(y) - F(y-1)), F the
    forecast's CDF (:func:`~forecast.quantiles.mixture_cdf`). It is the probability that y lies in the band
    randomized at its ends (the non-randomized PIT of Czado, Gneiting & Held (2009), "Predictive model
    assessment for count data", Biometrics 65), so a calibrated forecast covers exactly upper - lower on
    average at any volume, whereas "q_lower <= y <= q_upper" covers more (the count's steps at the two
    quantiles are inside), e.g. 95 % for Poisson(2) and [0, 4]."""
    y = np.asarray(actual, dtype=float)
    f_y = mixture_cdf(y, volume, shape_day, shape_interval)
    f_prev = np.where(y >= 1, mixture_cdf(np.maximum(y - 1, 0.0), volume, shape_day, shape_interval), 0.0)
    step = f_y - f_prev
    inside = np.clip(np.minimum(f_y, upper) - np.maximum(f_prev, lower), 0.0, None)
    point = ((f_y >= lower) & (f_y <= upper)).astype(float)
    return np.where(step > 0, inside / np.where(step > 0, step, 1.0), point)


@dataclass
class BacktestRun:
    """What a rolling-origin run produced: ``raw`` (:data:`RAW_COLUMNS`) and, if kept, per origin the
    Forecast over the longest horizon (with quantile columns when asked) and the actual history there."""

    raw: pd.DataFrame
    forecasts: list[tuple[pd.Timestamp, pd.DataFrame, pd.DataFrame]]


def run_backtest(
    model_factory: Callable[[], object],
    history: pd.DataFrame,
    *,
    horizon_days: int | Sequence[int] = 7,
    origins: int = 4,
    step_days: int | None = None,
    interval_min: int | None = None,
    quantiles: Sequence[float] | None = None,
    band: float = 0.8,
    keep_forecasts: bool = False,
) -> BacktestRun:
    """The rolling-origin run behind :func:`backtest` (same arguments), returning the raw sums per origin,
    channel and horizon so that metrics can be pooled over origins (see :func:`pooled_metrics`)."""
    if not callable(model_factory):
        raise ConfigError(
            f"expected a callable returning an unfitted model; got {model_factory!r}", "model_factory"
        )
    horizons = _horizons(horizon_days)
    horizon = horizons[-1]
    n_orig = _int(origins, "origins", 1)
    step = horizon if step_days is None else _int(step_days, "step_days", 1)
    qs = None if quantiles is None else check_quantiles(quantiles)
    b_lo, b_hi = band_levels(band)
    h = validate_history(history, "history")
    if h.empty:
        raise DataError("history: no rows")
    ts = pd.DatetimeIndex(h["interval_start"])
    tz = ts.tz
    imin = infer_interval_min(ts, "history") if interval_min is None else check_interval_min(interval_min)
    check_aligned(ts, imin, "history")
    chan = h["channel"].to_numpy(object)
    check_channel_intervals(ts, chan, imin, "history")
    day, minute, _ = wall_parts(ts)
    slot = minute // imin
    d_first, d_last = int(day.min()), int(day.max())
    n_days = d_last - d_first + 1
    last_cut = d_last + 1 - horizon
    cuts = [last_cut - i * step for i in reversed(range(n_orig))]
    need = 7 + horizon + (n_orig - 1) * step
    if cuts[0] - d_first < 7:
        hz = horizon_days if len(horizons) == 1 else list(horizons)
        raise DataError(
            f"history holds {n_days} days; backtest(horizon_days={hz}, origins={n_orig}, "
            f"step_days={step}) "
            f"needs at least {need} (7 days of training before the first origin)"
        )

    n_slots = 1440 // imin
    grid_all = day_grid(d_first, n_days, tz, imin)
    gday, gmin, _ = wall_parts(grid_all)
    count = np.zeros((n_days, n_slots))
    np.add.at(count, (gday - d_first, gmin // imin), 1.0)
    rows_any = np.zeros((n_days, n_slots), dtype=bool)
    rows_any[day - d_first, slot] = True
    # missing data (the rule of forecast.models): not scored, and not in the naive scale
    missing = missing_mask(rows_any, count, (np.arange(d_first, d_last + 1) + 3) % 7)
    observed = (count > 0) & ~missing
    channels = sorted(h["channel"].unique().tolist())
    vol = h["volume"].to_numpy(float)
    dense, series = {}, {}
    for c in channels:
        sel = chan == c
        total = np.zeros((n_days, n_slots))
        np.add.at(total, (day[sel] - d_first, slot[sel]), vol[sel])
        dense[c] = np.divide(total, count, out=np.full_like(total, np.nan), where=observed)
        series[c] = pd.Series(vol[sel], index=ts[sel])

    levels = None if qs is None else tuple(sorted(set(qs) | {b_lo, b_hi}))
    rows, kept = [], []
    for cut in cuts:
        train = h[day < cut].reset_index(drop=True)
        grid = day_grid(cut, horizon, tz, imin)
        ends = [len(day_grid(cut, hz, tz, imin)) for hz in horizons]
        g_day, g_min, _ = wall_parts(grid)
        scored = ~missing[g_day - d_first, g_min // imin]
        model = model_factory()
        fc = model.fit(train).predict(grid)
        if levels is not None:
            fc = forecast_quantiles(fc, levels)
        origin = grid[0]
        if keep_forecasts:
            in_win = (day >= cut) & (day < cut + horizon)
            kept.append((origin, fc, h[in_win].reset_index(drop=True)))
        for c in channels:
            f = fc[fc["channel"] == c]
            pred = np.where(scored, _on_grid(f, "volume", grid), 0.0)
            act = np.where(scored, series[c].reindex(grid, fill_value=0.0).to_numpy(float), 0.0)
            x = dense[c][: cut - d_first]
            diffs = np.abs(x[7:] - x[:-7]) if x.shape[0] > 7 else np.zeros((0, n_slots))
            ok = ~np.isnan(diffs)
            scale = float(diffs[ok].mean()) if ok.any() else math.nan
            if levels is not None:
                qv = {q: _on_grid(f, quantile_column(q), grid) for q in levels}
                d = act[None, :] - np.array([qv[q] for q in qs])
                tau = np.array(qs)[:, None]
                pin = np.where(d >= 0, tau * d, (tau - 1.0) * d).mean(axis=0)  # per interval, mean over q
                pin = np.where(scored, pin, 0.0)
                cov = pit_coverage(
                    act,
                    pred,
                    _on_grid(f, "shape_day", grid, math.inf),
                    _on_grid(f, "shape_interval", grid, math.inf),
                    b_lo,
                    b_hi,
                )
                # intervals where both are zero are not counted, nor those with missing actuals
                live = scored & ((pred > 0) | (act > 0))
            for hz, end in zip(horizons, ends):
                err = pred[:end] - act[:end]
                rows.append(
                    {
                        "origin": origin,
                        "channel": c,
                        "horizon_days": hz,
                        "n": int(scored[:end].sum()),
                        "abs_err": float(np.abs(err).sum()),
                        "err": float(err.sum()),
                        "actual": float(act[:end].sum()),
                        "scale": scale,
                        "pinball_sum": float(pin[:end].sum()) if levels is not None else math.nan,
                        "covered": float((cov * live)[:end].sum()) if levels is not None else math.nan,
                        "counted": float(live[:end].sum()) if levels is not None else math.nan,
                    }
                )
    raw = pd.DataFrame(rows, columns=list(RAW_COLUMNS))
    return BacktestRun(raw=raw, forecasts=kept)


def _per(total: np.ndarray, n: np.ndarray) -> np.ndarray:
    """total / n, NaN where n is 0 (no interval scored)."""
    return np.divide(total, n, out=np.full(np.shape(total), np.nan), where=n > 0)


def metrics(raw: pd.DataFrame) -> pd.DataFrame:
    """Per row of ``raw``: wape, mae, bias, mase, pinball, coverage (NaN where undefined: no actual
    arrivals, a zero naive scale, no interval scored or counted for coverage)."""
    n = raw["n"].to_numpy(float)
    act = raw["actual"].to_numpy(float)
    abs_err = raw["abs_err"].to_numpy(float)
    scale = raw["scale"].to_numpy(float)
    counted = raw["counted"].to_numpy(float)
    mae = _per(abs_err, n)
    return pd.DataFrame(
        {
            "wape": np.divide(abs_err, act, out=np.full(len(raw), np.nan), where=act > 0),
            "mae": mae,
            "bias": _per(raw["err"].to_numpy(float), n),
            "mase": np.divide(mae, scale, out=np.full(len(raw), np.nan), where=scale > 0),
            "pinball": _per(raw["pinball_sum"].to_numpy(float), n),
            "coverage": np.divide(
                raw["covered"].to_numpy(float), counted, out=np.full(len(raw), np.nan), where=counted > 0
            ),
        },
        index=raw.index,
    )


def pooled_metrics(raw: pd.DataFrame, by: Sequence[str] = ("channel", "horizon_days")) -> pd.DataFrame:
    """Metrics pooled over the origins of ``raw`` per group ``by``: wape = sum |error| / sum actual,
    mae, bias and pinball per interval over all origins, coverage = covered / counted intervals, mase = the
    mean of the per-origin MASE (each origin has its own naive scale), and the number of origins."""
    by = list(by)
    per = pd.concat([raw, metrics(raw)[["mase"]]], axis=1)
    g = per.groupby(by, sort=True)
    s = g[["n", "abs_err", "err", "actual", "pinball_sum", "covered", "counted"]].sum(min_count=1)
    out = pd.DataFrame(index=s.index)
    act, n, counted = s["actual"].to_numpy(float), s["n"].to_numpy(float), s["counted"].to_numpy(float)
    out["wape"] = np.divide(s["abs_err"].to_numpy(float), act, out=np.full(len(s), np.nan), where=act > 0)
    out["mae"] = _per(s["abs_err"].to_numpy(float), n)
    out["bias"] = _per(s["err"].to_numpy(float), n)
    out["mase"] = g["mase"].mean().to_numpy(float)
    out["pinball"] = _per(s["pinball_sum"].to_numpy(float), n)
    cov = s["covered"].to_numpy(float)
    out["coverage"] = np.divide(cov, counted, out=np.full(len(s), np.nan), where=counted > 0)
    out["origins"] = g.size().to_numpy()
    return out.reset_index()


def backtest(
    model_factory: Callable[[], object],
    history: pd.DataFrame,
    *,
    horizon_days: int | Sequence[int] = 7,
    origins: int = 4,
    step_days: int | None = None,
    interval_min: int | None = None,
    quantiles: Sequence[float] | None = None,
    band: float = 0.8,
) -> pd.DataFrame:
    """Rolling-origin evaluation of ``model_factory()`` on a history table.

    The origins are local midnights: the last one is ``horizon_days`` days before the end of the last local
    day of the history, and there are ``origins`` of them, ``step_days`` apart (default ``horizon_days``).
    At each origin a fresh model is fitted on the history before it and predicts the local grid of the next
    ``horizon_days`` days (in the history's time zone). Intervals without a history row are actual zeros,
    except missing data by the rule of :mod:`forecast.models` (a day without any row while other days of its
    weekday have rows; the part of the first or last day outside the rows when other days of its weekday
    have rows there): those intervals are **not scored** (left out of every metric, of ``n`` and of the naive
    scale), so a history cut at Friday 12:00 is scored on Friday morning only.

    ``horizon_days`` may also be a list (e.g. ``[1, 7, 14]``): the origins are then placed for the longest
    horizon (and ``step_days`` defaults to it), one model is fitted per origin, and each horizon h is scored
    on the first h days after the origin (one row per origin, channel and horizon).

    Returns one row per origin and channel (every channel of the history) with columns
    :data:`BACKTEST_COLUMNS`: ``wape`` = sum|forecast - actual| / sum(actual) (NaN if no actual arrivals),
    ``mae`` = mean |forecast - actual| per interval, ``bias`` = mean (forecast - actual) (positive: over-
    forecast), and ``mase`` = mae / (in-sample MAE of the one-week seasonal naive forecast on the training
    data, i.e. the mean |y_t - y_{t - 7 days}| at equal local clock time; NaN if that is 0).
    A channel the model does not forecast counts as forecast 0.

    With ``quantiles`` (levels in (0, 1), e.g. ``[0.1, 0.5, 0.9]``) the columns :data:`INTERVAL_COLUMNS`
    follow: ``pinball`` = the pinball loss averaged over the levels and the intervals, of the quantiles of
    :func:`~forecast.quantiles.forecast_quantiles` (the model's volume and shapes under the gamma-Poisson
    model); ``coverage`` = the coverage of the central ``band`` (default 80 %: the 0.1 to 0.9 quantiles)
    corrected for the counts' discreteness (:func:`pit_coverage`: per interval the probability that the
    actual count lies in the band randomized at its ends, so that a calibrated forecast scores ``band`` at
    every volume; the plain share of counts between the two quantiles is higher, e.g. 95 % for Poisson(2)),
    averaged over the intervals where the forecast or the actual is positive (NaN if none).
    """
    run = run_backtest(
        model_factory,
        history,
        horizon_days=horizon_days,
        origins=origins,
        step_days=step_days,
        interval_min=interval_min,
        quantiles=quantiles,
        band=band,
    )
    raw = run.raw
    m = metrics(raw)
    cols = list(BACKTEST_COLUMNS) + (list(INTERVAL_COLUMNS) if quantiles is not None else [])
    out = pd.concat([raw[["origin", "channel", "horizon_days"]], m], axis=1)
    return out[cols].reset_index(drop=True)
