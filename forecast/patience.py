"""Customer patience from a contact log: exponential MLE and the Kaplan-Meier curve, and samples for the sim.

Patience (the time a caller is willing to wait) is observed only through censoring: a caller who abandons
after waiting w had patience w (an *event*); a caller who was served after waiting w had patience > w
(*censored* at w). Only contacts that actually queued carry information: pass the waits and outcomes of
contacts that joined the queue (``queued`` in :func:`forecast.contacts.read_contacts`: a queue entry or a
wait > 0). Contacts answered at once carry no information on patience (censored at 0: they change no
estimate but the risk set at 0); contacts that hung up before joining the queue (e.g. in the
voice-response unit) never experienced the queue and would put a spurious mass of abandonments at 0.
Queued contacts that abandoned after a wait of 0 s are kept: events at 0.

References: Brown et al. (2005), "Statistical analysis of a telephone call center: a queueing-science
perspective", JASA 100, on patience estimation from censored waits in the same bank's data; Kaplan and
Meier (1958) for the product-limit estimator; Greenwood (1926) for its variance; Cox and Oakes (1984),
"Analysis of Survival Data", and Lawless (2003), "Statistical Models and Methods for Lifetime Data", for
the censored exponential likelihood and the chi-square interval of its rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.errors import ConfigError, DataError

#: the columns of :func:`kaplan_meier_patience`.
KM_COLUMNS = ("time_s", "survival", "se", "at_risk", "events", "censored")


@dataclass(frozen=True)
class ExponentialPatience:
    """The censored-exponential fit of patience (:func:`exponential_patience`); rates per second."""

    n: int  #: queued contacts used
    abandoned: int  #: events (abandonments)
    exposure_s: float  #: total waiting time of all queued contacts
    rate_per_s: float  #: MLE of the abandonment rate: abandoned / exposure_s
    rate_ci: tuple[float, float]  #: confidence interval of the rate
    level: float  #: confidence level of the intervals

    @property
    def mean_s(self) -> float:
        """Mean patience: 1 / rate (inf without abandonments)."""
        return math.inf if self.rate_per_s == 0 else 1.0 / self.rate_per_s

    @property
    def mean_ci_s(self) -> tuple[float, float]:
        """Confidence interval of the mean patience (the inverted rate interval)."""
        lo, hi = self.rate_ci
        return (math.inf if hi == 0 else 1.0 / hi, math.inf if lo == 0 else 1.0 / lo)


def _sample(waits, abandoned) -> tuple[np.ndarray, np.ndarray]:
    w = np.asarray(waits, dtype=float).ravel()
    a = np.asarray(abandoned).ravel()
    if a.dtype != bool:
        if not np.isin(a, (0, 1)).all():
            raise DataError("abandoned: expected booleans (True = abandoned, False = served)")
        a = a.astype(bool)
    if w.shape != a.shape:
        raise DataError(f"waits and abandoned: expected the same length; got {w.size} and {a.size}")
    bad = ~(np.isfinite(w) & (w >= 0))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"waits, position {pos}: expected finite seconds >= 0; got {float(w[pos])!r} "
            f"({int(bad.sum())} in all)"
        )
    if w.size == 0:
        raise DataError("waits: expected at least one queued contact; got none")
    return w, a


def _check_level(level) -> float:
    if not (isinstance(level, int | float) and 0 < level < 1):
        raise ConfigError(f"expected a confidence level in (0, 1); got {level!r}", "level")
    return float(level)


def exponential_patience(waits, abandoned, level: float = 0.95) -> ExponentialPatience:
    """Maximum-likelihood exponential patience from censored waits (seconds).

    With D abandonments among queued contacts whose waits total T seconds (served contacts censored at
    their wait), the censored exponential likelihood ``rate^D exp(-rate T)`` is maximised by
    ``rate = D / T``; mean patience ``T / D``.

    Interval: the exact Poisson (Garwood) interval for a count D with mean ``rate * T``, i.e.
    ``[chi2(alpha/2; 2D) / 2T, chi2(1 - alpha/2; 2D + 2) / 2T]`` (lower bound 0 when D = 0). It is exact
    when abandonments form a Poisson process over the total waiting time and a standard, slightly
    conservative interval under random censoring (Cox and Oakes 1984; Lawless 2003). The mean's interval is
    the inverted rate interval.
    """
    level = _check_level(level)
    w, a = _sample(waits, abandoned)
    d = int(a.sum())
    total = float(w.sum())
    if total <= 0:
        raise DataError("waits: the queued contacts waited 0 s in total; patience cannot be estimated")
    alpha = 1.0 - level
    from scipy import stats  # lazily: scipy.stats costs half a second at import

    lo = 0.0 if d == 0 else float(stats.chi2.ppf(alpha / 2, 2 * d)) / (2 * total)
    hi = float(stats.chi2.ppf(1 - alpha / 2, 2 * d + 2)) / (2 * total)
    return ExponentialPatience(
        n=int(w.size), abandoned=d, exposure_s=total, rate_per_s=d / total, rate_ci=(lo, hi), level=level
    )


def kaplan_meier_patience(waits, abandoned) -> pd.DataFrame:
    """The Kaplan-Meier (product-limit) curve of patience with Greenwood standard errors.

    Abandoned contacts are events at their wait, served ones censored at their wait; at a tied time the
    events come first (the censored contacts are still at risk), the usual convention. One row per distinct
    wait, events or not (:data:`KM_COLUMNS`): ``time_s``, ``survival`` (S just after ``time_s``: the
    probability that patience exceeds it), ``se`` (Greenwood: ``S sqrt(sum d / (n (n - d)))``; 0 once
    S = 0), ``at_risk`` (contacts with wait >= ``time_s``), ``events``, ``censored``. S = 1 before the
    first row; the curve says nothing beyond the last row (see :func:`km_quantile` for the tail).
    """
    w, a = _sample(waits, abandoned)
    times, inv = np.unique(w, return_inverse=True)
    events = np.bincount(inv, weights=a.astype(float), minlength=times.size).astype(np.int64)
    total = np.bincount(inv, minlength=times.size).astype(np.int64)
    at_risk = total[::-1].cumsum()[::-1]
    factor = 1.0 - events / at_risk
    surv = np.cumprod(factor)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(at_risk > events, events / (at_risk * (at_risk - events)), 0.0)
    se = surv * np.sqrt(np.cumsum(term))
    se = np.where(surv > 0, se, 0.0)
    return pd.DataFrame(
        {
            "time_s": times,
            "survival": surv,
            "se": se,
            "at_risk": at_risk,
            "events": events,
            "censored": total - events,
        }
    )


def _curve(curve: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(curve, pd.DataFrame) or any(c not in curve.columns for c in KM_COLUMNS):
        raise DataError(
            f"curve: expected a DataFrame with columns {list(KM_COLUMNS)} (kaplan_meier_patience)"
        )
    if curve.empty:
        raise DataError("curve: expected at least one row")
    return curve["time_s"].to_numpy(float), curve["survival"].to_numpy(float)


#: default of ``min_at_risk``: the KM curve is used while at least this many contacts are still waiting.
MIN_AT_RISK = 30
#: default of ``tail_events``: the tail hazard is estimated from (at least) the last this many abandonments.
TAIL_EVENTS = 20


def km_tail(
    curve: pd.DataFrame,
    *,
    min_at_risk: int = MIN_AT_RISK,
    tail_events: int = TAIL_EVENTS,
    tail_rate: float | None = None,
) -> tuple[float, float, float]:
    """Where the KM curve stops being trusted and how it continues: ``(t_c, S(t_c), rate)``.

    ``t_c`` is the last time with at least ``min_at_risk`` contacts at risk (the whole curve with
    ``min_at_risk=1``): below that a single contact moves S by more than 1/``min_at_risk`` of its value and
    the product-limit tail is noise (it drops to 0 whenever the longest wait ended in an abandonment).
    Beyond ``t_c`` patience is taken as exponential (constant hazard) with ``rate`` = ``tail_rate`` or, by
    default, the constant-hazard MLE over the end of the sample: abandonments after ``t_h`` over the waiting
    time after ``t_h``, where ``t_h <= t_c`` is the latest time followed by at least ``tail_events``
    abandonments (0 when the sample has fewer: the whole-sample MLE of :func:`exponential_patience`, except
    abandonments at a wait of exactly 0). The hazard thus comes from the longest waits, where the tail
    lives, with a relative standard error of about ``1 / sqrt(tail_events)``.
    """
    t, s = _curve(curve)
    for key, v in (("min_at_risk", min_at_risk), ("tail_events", tail_events)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ConfigError(f"expected an integer >= 1; got {v!r}", key)
    at_risk = curve["at_risk"].to_numpy(float)
    events = curve["events"].to_numpy(float)
    kept = int(np.sum(at_risk >= min_at_risk))  # at_risk is non-increasing: a prefix
    if kept == 0:
        raise DataError(
            f"curve: fewer than min_at_risk={min_at_risk} queued contacts; too few to estimate patience"
        )
    c = kept - 1
    if tail_rate is not None:
        if not (isinstance(tail_rate, int | float) and math.isfinite(tail_rate) and tail_rate > 0):
            raise ConfigError(f"expected an abandonment rate per second > 0; got {tail_rate!r}", "tail_rate")
        return float(t[c]), float(s[c]), float(tail_rate)
    after = events[::-1].cumsum()[::-1] - events  # abandonments strictly after t_j
    ok = np.flatnonzero((after >= tail_events) & (np.arange(t.size) <= c))
    if ok.size:  # from t_h = t[j] on
        j = int(ok[-1])
        n_ev = after[j]
        exposure = float(np.sum(np.diff(t[j:]) * at_risk[j + 1 :]))
    else:  # the whole sample (abandonments at a wait of 0 carry no exposure)
        n_ev = float(events[t > 0].sum())
        exposure = float(np.sum(np.diff(t, prepend=0.0) * at_risk))
    if n_ev == 0 or exposure <= 0:
        raise DataError(
            "curve: no abandonment after a positive wait; patience beyond the observed waits cannot be "
            "estimated (give tail_rate)"
        )
    return float(t[c]), float(s[c]), float(n_ev / exposure)


def km_quantile(
    curve: pd.DataFrame,
    probs,
    *,
    min_at_risk: int = MIN_AT_RISK,
    tail: bool = True,
    tail_events: int = TAIL_EVENTS,
    tail_rate: float | None = None,
) -> np.ndarray:
    """Patience quantiles (seconds) at probabilities ``probs`` of the Kaplan-Meier curve.

    The p-quantile is the first ``time_s`` with ``survival <= 1 - p`` (the usual KM quantile; the median
    at p = 0.5), looked up on the trusted part of the curve (up to ``t_c`` of :func:`km_tail`). Where S
    stays above ``1 - p`` up to ``t_c``, stopping at ``t_c`` (or at the last observed wait) would understate
    patience; with ``tail=True`` the curve continues as ``S(t) = S(t_c) exp(-rate (t - t_c))``, so the
    quantile is ``t_c + log(S(t_c) / (1 - p)) / rate`` (:func:`km_tail`); with ``tail=False`` it is NaN.
    """
    t, s = _curve(curve)
    p = np.atleast_1d(np.asarray(probs, dtype=float))
    if not ((p >= 0) & (p < 1)).all():
        raise ConfigError(f"expected probabilities in [0, 1); got {probs!r}", "probs")
    # tail=False: only t_c is needed (a dummy rate skips the hazard estimate)
    t_c, s_c, rate = km_tail(
        curve, min_at_risk=min_at_risk, tail_events=tail_events, tail_rate=tail_rate if tail else 1.0
    )
    keep = t <= t_c
    t, s = t[keep], s[keep]
    target = 1.0 - p
    # survival is non-increasing: the first index with s <= target
    idx = np.searchsorted(-s, -target - 1e-12, side="left")
    inside = idx < t.size
    out = np.full(p.size, np.nan)
    out[inside] = t[idx[inside]]
    out[p == 0] = 0.0
    beyond = ~inside & (p > 0)
    if beyond.any() and tail:
        out[beyond] = t_c + np.log(s_c / target[beyond]) / rate
    return out


def km_quantiles(
    curve: pd.DataFrame,
    n: int,
    *,
    min_at_risk: int = MIN_AT_RISK,
    tail_events: int = TAIL_EVENTS,
    tail_rate: float | None = None,
) -> np.ndarray:
    """``n`` patience values (seconds) by inverse transform of the KM curve at the mid-points
    ``(i - 0.5) / n``: equal-probability values to give the simulator as
    ``Channel(patience_dist="empirical", patience_samples=..., patience_s=km_mean(curve))``. Beyond the
    trusted part of the curve the exponential tail of :func:`km_tail` is used, so every value is finite."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ConfigError(f"expected an integer >= 1; got {n!r}", "n")
    p = (np.arange(int(n)) + 0.5) / int(n)
    return km_quantile(
        curve, p, min_at_risk=min_at_risk, tail=True, tail_events=tail_events, tail_rate=tail_rate
    )


def km_mean(
    curve: pd.DataFrame,
    *,
    min_at_risk: int = MIN_AT_RISK,
    tail_events: int = TAIL_EVENTS,
    tail_rate: float | None = None,
) -> float:
    """Mean patience (seconds): the area under the KM curve up to ``t_c`` plus the mean of the exponential
    tail beyond, ``S(t_c) / rate`` (:func:`km_tail`)."""
    t, s = _curve(curve)
    t_c, s_c, rate = km_tail(curve, min_at_risk=min_at_risk, tail_events=tail_events, tail_rate=tail_rate)
    keep = t <= t_c
    t, s = t[keep], s[keep]
    before = np.concatenate(([1.0], s[:-1]))
    area = float(np.sum(np.diff(t, prepend=0.0) * before))
    return area + (s_c / rate if s_c > 0 else 0.0)


def queued_sample(contacts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(waits, abandoned) of the queued contacts of a :func:`forecast.contacts.read_contacts` table."""
    missing = [c for c in ("queued", "wait_s", "outcome") if c not in contacts.columns]
    if missing:
        raise DataError(f"contacts: missing column(s) {missing} (expected a read_contacts table)")
    q = contacts[contacts["queued"].to_numpy(bool)]
    w = q["wait_s"].to_numpy(float)
    if np.isnan(w).any():
        pos = int(np.flatnonzero(np.isnan(w))[0])
        row = q["row"].iloc[pos] if "row" in q.columns else pos
        raise DataError(f"contacts: row {row}: expected the wait of a queued contact; got NaN")
    return w, (q["outcome"] == "abandoned").to_numpy()


def patience_table(
    contacts: pd.DataFrame,
    *,
    by: str | None = "channel",
    level: float = 0.95,
    probs=(0.25, 0.5, 0.75),
    min_at_risk: int = MIN_AT_RISK,
    tail_events: int = TAIL_EVENTS,
) -> pd.DataFrame:
    """Per group (``by``, None for all contacts) of a :func:`forecast.contacts.read_contacts` table, from its
    queued contacts: ``queued``, ``abandoned``, ``wait_total_s``; the exponential mean patience
    ``exp_mean_s`` with its interval ``exp_mean_lo_s``, ``exp_mean_hi_s`` (:func:`exponential_patience`);
    the KM mean ``km_mean_s``, where the KM tail starts (``km_tail_start_s``, ``km_survival_at_tail``) and
    its mean ``km_tail_mean_s`` (:func:`km_tail`), and the KM quantiles ``km_qNN_s`` at ``probs``
    (``km_q50_s`` = median; tail-extrapolated as in :func:`km_quantile`). The KM columns are NaN for a group
    with fewer than ``min_at_risk`` queued contacts or no abandonment after a positive wait."""
    groups = [(None, contacts)] if by is None else list(contacts.groupby(by, sort=True))
    names = [f"km_q{round(100 * p):02d}_s" for p in np.atleast_1d(probs)]
    rows = []
    for key, g in groups:
        w, a = queued_sample(g)
        fit = exponential_patience(w, a, level)
        row = {} if by is None else {by: key}
        row |= {
            "queued": fit.n,
            "abandoned": fit.abandoned,
            "wait_total_s": fit.exposure_s,
            "exp_mean_s": fit.mean_s,
            "exp_mean_lo_s": fit.mean_ci_s[0],
            "exp_mean_hi_s": fit.mean_ci_s[1],
        }
        curve = kaplan_meier_patience(w, a)
        opts = {"min_at_risk": min_at_risk, "tail_events": tail_events}
        try:
            t_c, s_c, rate = km_tail(curve, **opts)
            qs = km_quantile(curve, probs, **opts)
            row |= {
                "km_mean_s": km_mean(curve, **opts),
                "km_tail_start_s": t_c,
                "km_survival_at_tail": s_c,
                "km_tail_mean_s": 1.0 / rate,
            }
        except DataError:
            qs = np.full(len(names), np.nan)
            row |= dict.fromkeys(
                ("km_mean_s", "km_tail_start_s", "km_survival_at_tail", "km_tail_mean_s"), np.nan
            )
        row |= {name: float(q) for name, q in zip(names, qs)}
        rows.append(row)
    return pd.DataFrame(rows)
