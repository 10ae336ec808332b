"""A weighted-mean ensemble of forecast models (Bates & Granger (1969), "The combination of forecasts",
Operational Research Quarterly 20: a fixed-weight combination is hard to beat; Clemen (1989),
International Journal of Forecasting 5).

Per channel and interval: ``volume`` is the weighted mean of the members' volumes; ``aht_s`` the mean of the
members' AHT weighted by weight x volume (the plain weighted mean where every member forecasts 0). The
ensemble forecasts the channels that every member forecasts.

Dispersion. A member's predictive shapes (:mod:`forecast.models`) hold the process variance (the same
process for every member, estimated on the same history) plus the variance of the member's estimate. The
ensemble's relative variances are the weighted means of the members' process values plus the variance of
the weighted mean of the estimates, bounded by assuming the members' estimation errors perfectly correlated
(they come from the same data): (sum_i w_i sqrt(e_i))^2 <= sum_i w_i e_i, for the day level (e = 1/shape_day
- 1/process shape_day) and the rest of the interval variance separately. Members without
``process_shape_day_`` / ``process_shape_interval_`` (any model with fit and predict) make the ensemble fall
back to the weighted mean of the members' squared coefficients of variation, ``shape = 1 / sum_i w_i /
shape_i`` per level (an upper bound of the same kind); ``inf`` when every member has ``inf``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from forecast.errors import ConfigError
from forecast.frame import validate_forecast


def _inv(shape: np.ndarray) -> np.ndarray:
    """1/shape, 0 for an infinite shape."""
    return np.where(np.isinf(shape), 0.0, 1.0 / np.where(np.isinf(shape), 1.0, shape))


class Ensemble:
    """Weighted mean of member models. ``members``: a mapping name -> unfitted model (or a sequence of
    models, named ``m0``, ``m1``, ...); ``weights``: a mapping name -> weight >= 0 or a sequence in member
    order (default: equal). ``fit`` fits a deep copy of each member (``members_``) and returns self."""

    def __init__(self, members, weights=None):
        self.members = members
        self.weights = weights

    def _named(self) -> dict[str, object]:
        m = self.members
        if isinstance(m, Mapping):
            named = dict(m)
        elif isinstance(m, Sequence) and not isinstance(m, str | bytes):
            named = {f"m{i}": x for i, x in enumerate(m)}
        else:
            raise ConfigError(f"expected a mapping name -> model or a list of models; got {m!r}", "members")
        if not named:
            raise ConfigError("expected at least one member", "members")
        for k, x in named.items():
            if not (hasattr(x, "fit") and hasattr(x, "predict")):
                raise ConfigError(f"expected a model with fit and predict; got {x!r}", f"members.{k}")
        return named

    def _weights(self, names: list[str]) -> np.ndarray:
        w = self.weights
        if w is None:
            out = np.ones(len(names))
        elif isinstance(w, Mapping):
            extra = set(w) - set(names)
            if extra:
                raise ConfigError(
                    f"weights for unknown members {sorted(extra)}; members are {names}", "weights"
                )
            out = np.array([w.get(n, 0.0) for n in names], dtype=float)
        else:
            out = np.asarray(w, dtype=float).ravel()
            if out.size != len(names):
                raise ConfigError(
                    f"expected {len(names)} weights (one per member); got {out.size}", "weights"
                )
        if not (np.isfinite(out).all() and (out >= 0).all() and out.sum() > 0):
            raise ConfigError(f"expected finite weights >= 0 with a positive sum; got {w!r}", "weights")
        return out / out.sum()

    def fit(self, history: pd.DataFrame, source: str = "history"):
        """Fit a copy of every member on ``history``; returns ``self``."""
        named = self._named()
        names = list(named)
        w = self._weights(names)
        fitted = {n: copy.deepcopy(named[n]).fit(history, source) for n in names}
        chans = [set(getattr(m, "channels_", ())) for m in fitted.values()]
        self.members_ = fitted
        self.weights_ = dict(zip(names, w.tolist()))
        self.channels_ = tuple(sorted(set.intersection(*chans))) if chans else ()
        return self

    def predict(self, index) -> pd.DataFrame:
        """The weighted-mean Forecast on ``index`` (see the module docstring)."""
        if not hasattr(self, "members_"):
            raise ConfigError("Ensemble is not fitted; call fit(history) first", "predict")
        keys = ["channel", "interval_start"]
        vol = aht_num = aht_plain = inv_d = inv_i = wsum_v = None
        proc_d = proc_c = est_d = est_i = None
        split = all(
            hasattr(m, "process_shape_day_") and hasattr(m, "process_shape_interval_")
            for m in self.members_.values()
        )
        base = None
        for n, m in self.members_.items():
            w = self.weights_[n]
            fc = m.predict(index)
            fc = (
                fc[fc["channel"].isin(self.channels_)].sort_values(keys, kind="stable").reset_index(drop=True)
            )
            if base is None:
                base = fc[keys].copy()
                vol = np.zeros(len(fc))
                aht_num, aht_plain, inv_d, inv_i, wsum_v = (np.zeros(len(fc)) for _ in range(5))
                proc_d, proc_c, est_d, est_i = (np.zeros(len(fc)) for _ in range(4))
            elif (
                len(fc) != len(base)
                or not (fc["channel"].to_numpy() == base["channel"].to_numpy()).all()
                or not (fc["interval_start"].to_numpy() == base["interval_start"].to_numpy()).all()
            ):
                raise ConfigError(f"member {n!r} forecasts other rows than the first member", "members")
            v = fc["volume"].to_numpy(float)
            a = fc["aht_s"].to_numpy(float)
            vol += w * v
            aht_num += w * v * a
            wsum_v += w * v
            aht_plain += w * a
            d_pred, i_pred = (_inv(fc[col].to_numpy(float)) for col in ("shape_day", "shape_interval"))
            inv_d += w * d_pred
            inv_i += w * i_pred
            if split:
                chan = fc["channel"].to_numpy(object)
                d_proc = _inv(np.array([m.process_shape_day_[c] for c in chan], dtype=float))
                i_proc = _inv(np.array([m.process_shape_interval_[c] for c in chan], dtype=float))
                c_proc = (1 + d_proc) * (1 + i_proc) - 1
                e_d = np.maximum(d_pred - d_proc, 0.0)
                e_i = np.maximum((1 + d_pred) * (1 + i_pred) - 1 - c_proc - e_d, 0.0)
                proc_d += w * d_proc
                proc_c += w * c_proc
                est_d += w * np.sqrt(e_d)
                est_i += w * np.sqrt(e_i)
        if split:
            inv_d = proc_d + est_d**2
            inv_i = (1 + proc_c + est_d**2 + est_i**2) / (1 + inv_d) - 1
            inv_i = np.where(inv_i > 1e-15, inv_i, 0.0)
        aht = np.divide(aht_num, wsum_v, out=aht_plain.copy(), where=wsum_v > 0)
        out = base.assign(
            volume=vol,
            aht_s=aht,
            shape_day=np.divide(1.0, inv_d, out=np.full(len(base), math.inf), where=inv_d > 0),
            shape_interval=np.divide(1.0, inv_i, out=np.full(len(base), math.inf), where=inv_i > 0),
        )
        return validate_forecast(out, "Ensemble.predict")
