"""Shared helpers for the forecast tests (a uniquely named module, not conftest, to avoid clashes)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from forecast import HISTORY_COLUMNS, SyntheticChannel, expected_volume

TZ = "Europe/Berlin"


def bonferroni_z(n_tests: int, alpha: float = 0.001) -> float:
    """Two-sided z so that n_tests independent checks all pass with probability >= 1 - alpha (>= 4)."""
    return max(4.0, float(stats.norm.isf(alpha / (2 * n_tests))))


def mixed_poisson_var(v: np.ndarray, shape_day: float, shape_interval: float) -> np.ndarray:
    """Var of Poisson(v G H) with independent mean-1 gamma G, H: v + v^2 ((1 + 1/kd)(1 + 1/ki) - 1)."""
    a = 0.0 if math.isinf(shape_day) else 1.0 / shape_day
    b = 0.0 if math.isinf(shape_interval) else 1.0 / shape_interval
    return v + v**2 * ((1 + a) * (1 + b) - 1)


def noise_free_history(channels: dict[str, SyntheticChannel], start: str, days: int, interval_min: int = 15):
    """A history whose volumes equal expected_volume and whose aht_s equals the mean handle time."""
    first = pd.Timestamp(start).tz_localize(TZ)
    last = (pd.Timestamp(start) + pd.Timedelta(days=days)).tz_localize(TZ)
    idx = pd.date_range(first, last, freq=f"{interval_min}min", inclusive="left")
    frames = []
    for name, spec in sorted(channels.items()):
        v = expected_volume(spec, idx, interval_min)
        hours = idx.hour + idx.minute / 60
        aht = np.where(v > 0, spec.mean_aht_s(np.asarray(hours), interval_min), np.nan)
        frames.append(pd.DataFrame({"channel": name, "interval_start": idx, "volume": v, "aht_s": aht}))
    return pd.concat(frames, ignore_index=True)[list(HISTORY_COLUMNS)]
