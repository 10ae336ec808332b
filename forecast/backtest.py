"""Rolling-origin backtests of forecast models (Tashman (2000), "Out-of-sample tests of forecasting
accuracy", International Journal of Forecasting 16; MASE: Hyndman & Koehler (2006), "Another look at
measures of forecast accuracy", International Journal of Forecasting 22)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from forecast._calendar import check_aligned, check_interval_min, day_grid, infer_interval_min, wall_parts
from forecast.errors import ConfigError, DataError
from forecast.frame import validate_history

BACKTEST_COLUMNS = ("origin", "channel", "horizon_days", "wape", "mae", "bias", "mase")


def _int(value, key: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
        raise ConfigError(f"expected an integer >= {lo}; got {value!r}", key)
    return int(value)


def backtest(
    model_factory: Callable[[], object],
    history: pd.DataFrame,
    *,
    horizon_days: int = 7,
    origins: int = 4,
    step_days: int | None = None,
    interval_min: int | None = None,
) -> pd.DataFrame:
    """Rolling-origin evaluation of ``model_factory()`` on a history table.

    The origins are local midnights: the last one is ``horizon_days`` days before the end of the last local
    day of the history, and there are ``origins`` of them, ``step_days`` apart (default ``horizon_days``).
    At each origin a fresh model is fitted on the history before it and predicts the local grid of the next
    ``horizon_days`` days (in the history's time zone); intervals without a history row are actual zeros.

    Returns one row per origin and channel (every channel of the history) with columns
    :data:`BACKTEST_COLUMNS`: ``wape`` = sum|forecast - actual| / sum(actual) (NaN if no actual arrivals),
    ``mae`` = mean |forecast - actual| per interval, ``bias`` = mean (forecast - actual) (positive: over-
    forecast), and ``mase`` = mae / (in-sample MAE of the one-week seasonal naive forecast on the training
    data, i.e. the mean |y_t - y_{t - 7 days}| at equal local clock time; NaN if that is 0).
    A channel the model does not forecast counts as forecast 0.
    """
    if not callable(model_factory):
        raise ConfigError(
            f"expected a callable returning an unfitted model; got {model_factory!r}", "model_factory"
        )
    horizon = _int(horizon_days, "horizon_days", 1)
    n_orig = _int(origins, "origins", 1)
    step = horizon if step_days is None else _int(step_days, "step_days", 1)
    h = validate_history(history, "history")
    if h.empty:
        raise DataError("history: no rows")
    ts = pd.DatetimeIndex(h["interval_start"])
    tz = ts.tz
    imin = infer_interval_min(ts, "history") if interval_min is None else check_interval_min(interval_min)
    check_aligned(ts, imin, "history")
    day, minute, _ = wall_parts(ts)
    slot = minute // imin
    d_first, d_last = int(day.min()), int(day.max())
    n_days = d_last - d_first + 1
    last_cut = d_last + 1 - horizon
    cuts = [last_cut - i * step for i in reversed(range(n_orig))]
    need = 7 + horizon + (n_orig - 1) * step
    if cuts[0] - d_first < 7:
        raise DataError(
            f"history holds {n_days} days; backtest(horizon_days={horizon}, origins={n_orig}, "
            f"step_days={step}) "
            f"needs at least {need} (7 days of training before the first origin)"
        )

    n_slots = 1440 // imin
    grid_all = day_grid(d_first, n_days, tz, imin)
    gday, gmin, _ = wall_parts(grid_all)
    count = np.zeros((n_days, n_slots))
    np.add.at(count, (gday - d_first, gmin // imin), 1.0)
    channels = sorted(h["channel"].unique().tolist())
    chan = h["channel"].to_numpy(object)
    vol = h["volume"].to_numpy(float)
    dense, series = {}, {}
    for c in channels:
        sel = chan == c
        total = np.zeros((n_days, n_slots))
        np.add.at(total, (day[sel] - d_first, slot[sel]), vol[sel])
        dense[c] = np.divide(total, count, out=np.full_like(total, np.nan), where=count > 0)
        series[c] = pd.Series(vol[sel], index=ts[sel])

    rows = []
    for cut in cuts:
        train = h[day < cut].reset_index(drop=True)
        grid = day_grid(cut, horizon, tz, imin)
        model = model_factory()
        fc = model.fit(train).predict(grid)
        origin = grid[0]
        for c in channels:
            f = fc[fc["channel"] == c]
            pred = pd.Series(f["volume"].to_numpy(float), index=pd.DatetimeIndex(f["interval_start"]))
            pred = pred.reindex(grid, fill_value=0.0).to_numpy(float)
            act = series[c].reindex(grid, fill_value=0.0).to_numpy(float)
            err = pred - act
            total_act = float(act.sum())
            x = dense[c][: cut - d_first]
            diffs = np.abs(x[7:] - x[:-7]) if x.shape[0] > 7 else np.zeros((0, n_slots))
            ok = ~np.isnan(diffs)
            scale = float(diffs[ok].mean()) if ok.any() else math.nan
            mae = float(np.abs(err).mean())
            rows.append(
                {
                    "origin": origin,
                    "channel": c,
                    "horizon_days": horizon,
                    "wape": float(np.abs(err).sum()) / total_act if total_act > 0 else math.nan,
                    "mae": mae,
                    "bias": float(err.mean()),
                    "mase": mae / scale if scale > 0 else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=list(BACKTEST_COLUMNS))
