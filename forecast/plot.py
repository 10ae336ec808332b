"""Forecast-versus-actual plots with prediction bands, written whole (temporary file, then rename).

matplotlib is imported inside :func:`plot_forecast` and drawn on an Agg canvas directly (no pyplot, no
global backend switch), so importing this module is cheap and plotting works without a display.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.backtest import band_levels
from forecast.errors import ConfigError
from forecast.files import write_atomic
from forecast.frame import validate_forecast, validate_history
from forecast.quantiles import forecast_quantiles, quantile_column


def plot_forecast(
    forecast: pd.DataFrame,
    actual: pd.DataFrame | None,
    path,
    *,
    band: float = 0.8,
    channels: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """One panel per channel: the forecast volume per interval, its central ``band`` prediction interval
    (the quantile columns of :func:`~forecast.quantiles.forecast_quantiles`, computed if missing) as a
    shaded band, and the actual arrivals of ``actual`` (a history table; missing intervals count as 0).
    The image format follows the suffix of ``path`` (png, svg, pdf); returns the path."""
    lo, hi = band_levels(band)
    fc = validate_forecast(forecast, "forecast")
    qlo, qhi = quantile_column(lo), quantile_column(hi)
    if qlo not in fc.columns or qhi not in fc.columns:
        fc = forecast_quantiles(fc, (lo, hi))
    act = None if actual is None else validate_history(actual, "actual")
    names = sorted(fc["channel"].unique()) if channels is None else list(channels)
    missing = [c for c in names if c not in set(fc["channel"])]
    if missing:
        raise ConfigError(f"channels {missing} are not in the forecast", "channels")
    if not names:
        raise ConfigError("nothing to plot: the forecast has no channel", "channels")
    fmt = Path(path).suffix.lstrip(".").lower() or "png"

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 2.6 * len(names)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(names), 1, squeeze=False)[:, 0]
    for ax, c in zip(axes, names):
        f = fc[fc["channel"] == c]
        t = pd.DatetimeIndex(f["interval_start"])
        x = t.tz_localize(None)
        ax.fill_between(
            x,
            f[qlo].to_numpy(float),
            f[qhi].to_numpy(float),
            step="post",
            alpha=0.3,
            label=f"{band:.0%} band",
        )
        ax.step(x, f["volume"].to_numpy(float), where="post", lw=1.2, label="forecast")
        if act is not None:
            a = act[act["channel"] == c]
            s = pd.Series(a["volume"].to_numpy(float), index=pd.DatetimeIndex(a["interval_start"]))
            y = s.reindex(t, fill_value=0.0).to_numpy(float)
            inside = (y >= f[qlo].to_numpy(float)) & (y <= f[qhi].to_numpy(float))
            ax.step(x, y, where="post", lw=0.8, color="k", label="actual")
            live = (f["volume"].to_numpy(float) > 0) | (y > 0)
            cov = float(inside[live].mean()) if live.any() else np.nan
            ax.set_title(f"{c}: {cov:.0%} of intervals inside the band", fontsize=9)
        else:
            ax.set_title(c, fontsize=9)
        ax.set_ylabel("arrivals / interval")
        ax.legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel(f"local time ({fc['interval_start'].dt.tz})")
    if title:
        fig.suptitle(title)
    return write_atomic(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=110))
