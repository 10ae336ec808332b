"""Service level as a function of agents, in a form a MIP can use: its concave piecewise-linear envelope.

For a target over a day or a week (volume-weighted: sum_t volume_t SL_t(n_t) >= target x sum_t volume_t) a
MIP bounds each interval's service level s_t <= intercept_k + slope_k n_t for every piece k of the smallest
concave majorant of n -> SL_t(n) over the whole agents n_min..n_max (Koole and van der Sluis, "Optimal shift
scheduling with a global service level constraint", IIE Transactions 35, 2003, whose local search is exact for
such concave objectives). Below the knee of the curve (where Erlang C is unstable) the envelope lies above the
curve: the MIP then overrates few agents, which the simulation will show; the pieces touch the curve at their
end points. Past ``n_max`` a last, flat piece keeps the service level at SL(n_max) <= 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.scenario import SLDefinition

from ._staffing import _model, agents_for, expected_metrics

__all__ = ["service_level_envelope", "upper_concave_hull"]


def upper_concave_hull(n: np.ndarray, v: np.ndarray) -> list[int]:
    """Indices of the points (n_i, v_i), n increasing, on their upper concave hull (monotone chain)."""
    hull: list[int] = []
    for i in range(len(n)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # drop b when it lies on or below the chord a -> i
            if (v[b] - v[a]) * (n[i] - n[a]) <= (v[i] - v[a]) * (n[b] - n[a]) + 1e-15:
                hull.pop()
            else:
                break
        hull.append(i)
    return hull


def service_level_envelope(
    arrival_rate,
    aht,
    *,
    threshold=20.0,
    patience=None,
    n_min=0,
    n_max=None,
    concurrency=1,
    slowdown=0.0,
    rate_shape=None,
    sl_definition="offered",
) -> pd.DataFrame:
    """The concave piecewise-linear envelope of each interval's service level in agents (module docstring).

    ``arrival_rate`` and ``aht`` are arrays over intervals (broadcast); ``n_max`` defaults to the agents for
    a 99.9% service level. Returns one row per interval and piece: ``interval, piece, n_from, n_to,
    intercept, slope`` with SL_t(n) <= intercept + slope n for every piece (equality at the piece's ends,
    for whole n in n_from..n_to); the last piece of each interval is flat. Intervals without arrivals have
    one flat piece at 1. Only the ``offered`` definition adds up over intervals with fixed volume weights (the
    others divide by a number that itself depends on n), so it is the only one accepted here, except without
    abandonment where all three coincide."""
    d = SLDefinition(sl_definition)
    if d is not SLDefinition.OFFERED and patience is not None and np.any(np.isfinite(patience)):
        raise ValueError("service_level_envelope: only sl_definition='offered' adds up over intervals")
    lam, s, t = np.broadcast_arrays(
        *(np.asarray(v, dtype=float).ravel() for v in (arrival_rate, aht, threshold))
    )
    T = lam.size
    lo = np.broadcast_to(np.asarray(n_min, dtype=np.int64), (T,))
    if n_max is None:
        hi = np.asarray(
            agents_for(
                np.where(lam > 0, lam, 1e-12),
                s,
                threshold=t,
                service_level=0.999,
                patience=patience,
                concurrency=concurrency,
                slowdown=slowdown,
                rate_shape=rate_shape,
            )
        )
        hi = np.broadcast_to(hi, (T,))
    else:
        hi = np.broadcast_to(np.asarray(n_max, dtype=np.int64), (T,))
    if np.any(hi < lo):
        raise ValueError("service_level_envelope: n_max must be >= n_min")
    hi = np.maximum(hi, lo + 1)
    grid = np.arange(int(lo.min()), int(hi.max()) + 1)
    ns = np.broadcast_to(grid[None, :], (T, grid.size)).astype(float)
    p = (
        None
        if patience is None
        else np.broadcast_to(np.asarray(patience, dtype=float).ravel(), (T,))[:, None]
    )
    if rate_shape is not None and np.isfinite(rate_shape):
        q = expected_metrics(
            lam[:, None],
            s[:, None],
            ns,
            t[:, None],
            shape=rate_shape,
            patience=p,
            concurrency=concurrency,
            slowdown=slowdown,
        )
    else:
        q = _model(
            lam[:, None], s[:, None], ns, t[:, None], p, np.asarray(concurrency), np.asarray(slowdown), d
        )
    sl = np.asarray(q.sl_offered, dtype=float)
    rows = []
    for i in range(T):
        if lam[i] == 0:
            rows.append((i, 0, int(lo[i]), int(lo[i]), 1.0, 0.0))
            continue
        a, b = int(lo[i] - grid[0]), int(hi[i] - grid[0]) + 1
        n_i, v_i = grid[a:b].astype(float), sl[i, a:b]
        h = upper_concave_hull(n_i, v_i)
        k = 0
        stop = h[-1]
        for j0, j1 in zip(h, h[1:]):
            slope = (v_i[j1] - v_i[j0]) / (n_i[j1] - n_i[j0])
            if slope <= 0:
                stop = j0
                break
            rows.append((i, k, int(n_i[j0]), int(n_i[j1]), float(v_i[j0] - slope * n_i[j0]), float(slope)))
            k += 1
        # flat from where the pieces stop rising to n_max (and beyond)
        rows.append((i, k, int(n_i[stop]), int(n_i[-1]), float(v_i[stop]), 0.0))
    return pd.DataFrame(rows, columns=["interval", "piece", "n_from", "n_to", "intercept", "slope"])
