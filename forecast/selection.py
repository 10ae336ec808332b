"""Model selection per channel by rolling-origin backtest, graded on origins that did not choose.

:func:`select_models` backtests every candidate at the same ``origins`` origins (one horizon), chooses per
channel the model with the lowest WAPE pooled over the **first** ``select_origins`` origins (sum |error| /
sum actual; ties and channels without arrivals there go by the pooled MAE, then by the candidates' order),
and reports the metrics of every candidate, the chosen one included, pooled over the **later** origins only,
so that the choice is not graded on the data that made it (Tashman (2000), International Journal of
Forecasting 16, on the selection bias of in-sample comparisons). Windows of origins closer together than
the horizon share days: each later origin is graded only on the days of its window after the last
selection window ends (``raw["skipped_days"]`` says how many of its first days were left out), so that no
day both chooses and grades; ``purge=True`` instead drops every later origin whose window overlaps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast._calendar import day_grid, infer_interval_min, wall_parts
from forecast.backtest import pooled_metrics, run_backtest
from forecast.errors import ConfigError

#: columns of :attr:`Selection.table` (one row per channel and candidate).
SELECTION_COLUMNS = (
    "channel",
    "model",
    "horizon_days",
    "select_wape",
    "select_mae",
    "wape",
    "mae",
    "bias",
    "mase",
    "pinball",
    "coverage",
    "chosen",
)
#: columns of :attr:`Selection.summary` (one row per channel).
SUMMARY_COLUMNS = (
    "channel",
    "horizon_days",
    "model",
    "select_wape",
    "wape",
    "mase",
    "pinball",
    "coverage",
    "baseline",
    "baseline_wape",
    "beats_baseline",
)


@dataclass
class Selection:
    """The result of :func:`select_models`.

    ``chosen``: channel -> model name. ``table``: :data:`SELECTION_COLUMNS`, ``select_*`` pooled over the
    selection origins, the other metrics over the evaluation origins (see
    :func:`~forecast.backtest.pooled_metrics`). ``summary``: :data:`SUMMARY_COLUMNS`, the chosen model per
    channel with its evaluation metrics and the baseline's WAPE over the same origins (``beats_baseline``:
    the chosen model's WAPE is strictly lower). ``raw``: the raw backtest sums of every candidate with
    columns ``model`` and ``phase`` ("select", "evaluate" or "purged"). ``select_origins`` and
    ``eval_origins``: the origins (local midnights) of each phase.
    """

    horizon_days: int
    chosen: dict[str, str]
    table: pd.DataFrame
    summary: pd.DataFrame
    raw: pd.DataFrame
    select_origins: list[pd.Timestamp]
    eval_origins: list[pd.Timestamp]


_SUMS = ("n", "abs_err", "err", "actual", "pinball_sum", "covered", "counted")


def _day(o) -> pd.Timestamp:
    return (
        pd.Timestamp(o).tz_localize(None).normalize()
        if pd.Timestamp(o).tzinfo
        else pd.Timestamp(o).normalize()
    )


def _trimmed(cum: pd.DataFrame, sel_o, eval_o, H: int) -> pd.DataFrame:
    """One row per origin, channel and model: the selection origins over their whole window, the evaluation
    origins over the days of their window after the last selection window ends (the sums of days k+1..H are
    the H-day sums less the k-day sums), so that no day scores both phases; an evaluation window entirely
    inside the selection windows drops out."""
    full = cum[cum["horizon_days"] == H].copy()
    free = _day(sel_o[-1]) + pd.Timedelta(days=H) if sel_o else None
    rows = [full[full["origin"].isin(sel_o)]]
    for o in eval_o:
        k = 0 if free is None else max(0, (free - _day(o)).days)
        if k >= H:
            continue
        part = full[full["origin"] == o].copy()
        if k > 0:
            before = cum[(cum["origin"] == o) & (cum["horizon_days"] == k)].set_index(["channel", "model"])
            idx = pd.MultiIndex.from_frame(part[["channel", "model"]])
            for col in _SUMS:
                part[col] = part[col].to_numpy(float) - before.loc[idx, col].to_numpy(float)
        part["skipped_days"] = k
        rows.append(part)
    out = pd.concat(rows, ignore_index=True)
    out["skipped_days"] = out["skipped_days"].fillna(0).astype(int)
    return out


def select_models(
    factories: Mapping[str, Callable[[], object]],
    history: pd.DataFrame,
    horizon_days: int,
    origins: int,
    select_origins: int,
    *,
    step_days: int | None = None,
    interval_min: int | None = None,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    band: float = 0.8,
    baseline: str | None = None,
    purge: bool = False,
) -> Selection:
    """Choose a model per channel on the first ``select_origins`` of ``origins`` rolling origins and grade
    it on the others (see the module docstring). ``factories``: name -> callable returning an unfitted
    model; ``horizon_days``, ``origins``, ``step_days`` (default ``horizon_days``) and ``interval_min`` as
    in :func:`~forecast.backtest.backtest`; the pinball loss over ``quantiles`` and the coverage of the
    central ``band`` are reported too. ``baseline``: the name of the candidate to compare with (default
    ``"seasonal_naive"`` when there is one). ``purge``: leave out the later origins whose forecast window
    overlaps a selection window (with ``step_days`` < ``horizon_days`` neighbouring windows share days; by
    default every later origin is graded, so such shared days count in both phases)."""
    if not isinstance(factories, Mapping) or not factories:
        raise ConfigError("expected a non-empty mapping name -> model factory", "factories")
    for name, f in factories.items():
        if not isinstance(name, str) or not name:
            raise ConfigError(f"expected non-empty model names; got {name!r}", "factories")
        if not callable(f):
            raise ConfigError(
                f"expected a callable returning an unfitted model; got {f!r}", f"factories.{name}"
            )
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int | np.integer) or horizon_days < 1:
        raise ConfigError(f"expected an integer >= 1; got {horizon_days!r}", "horizon_days")
    if isinstance(origins, bool) or not isinstance(origins, int | np.integer) or origins < 2:
        raise ConfigError(f"expected an integer >= 2 (selection and evaluation); got {origins!r}", "origins")
    if (
        isinstance(select_origins, bool)
        or not isinstance(select_origins, int | np.integer)
        or not 1 <= select_origins < origins
    ):
        raise ConfigError(
            f"expected an integer from 1 to origins - 1 = {origins - 1}; got {select_origins!r}",
            "select_origins",
        )
    if baseline is None and "seasonal_naive" in factories:
        baseline = "seasonal_naive"
    if baseline is not None and baseline not in factories:
        raise ConfigError(f"expected one of {list(factories)}; got {baseline!r}", "baseline")

    names = list(factories)
    H = int(horizon_days)
    raws = []
    for name in names:
        run = run_backtest(
            factories[name],
            history,
            horizon_days=list(range(1, H + 1)),  # every prefix of the window, to trim evaluation windows
            origins=int(origins),
            step_days=step_days,
            interval_min=interval_min,
            quantiles=quantiles,
            band=band,
        )
        raws.append(run.raw.assign(model=name))
    cum = pd.concat(raws, ignore_index=True)
    all_origins = sorted(cum["origin"].unique())
    sel_o, eval_o = all_origins[:select_origins], all_origins[select_origins:]
    raw = _trimmed(cum, sel_o, eval_o, H)
    if purge:
        free = (
            pd.Timestamp(sel_o[-1]).tz_localize(None).normalize() + pd.Timedelta(days=int(horizon_days))
        ).date()
        eval_o = [o for o in eval_o if pd.Timestamp(o).date() >= free]
        if not eval_o:
            raise ConfigError(
                f"no origin after the selection windows is left to grade (origins={origins}, "
                f"select_origins={select_origins}, horizon_days={horizon_days}); "
                "add origins or turn purge off",
                "purge",
            )
    eval_o = [o for o in eval_o if (raw["origin"] == o).any()]
    if not eval_o:
        raise ConfigError(
            f"every evaluation window lies inside the selection windows (origins={origins}, "
            f"select_origins={select_origins}, horizon_days={horizon_days}, step_days={step_days}); "
            "add origins or choose on fewer",
            "select_origins",
        )
    raw["phase"] = np.where(
        raw["origin"].isin(sel_o), "select", np.where(raw["origin"].isin(eval_o), "evaluate", "purged")
    )

    sel = pooled_metrics(raw[raw["phase"] == "select"], by=("channel", "model"))
    ev = pooled_metrics(raw[raw["phase"] == "evaluate"], by=("channel", "model"))
    order = {n: i for i, n in enumerate(names)}
    chosen: dict[str, str] = {}
    for c, g in sel.groupby("channel", sort=True):
        key = [
            (
                w if math.isfinite(w) else math.inf,
                m if math.isfinite(m) else math.inf,
                order[n],
            )
            for w, m, n in zip(g["wape"], g["mae"], g["model"])
        ]
        chosen[c] = g["model"].iloc[int(min(range(len(key)), key=key.__getitem__))]

    table = ev.merge(
        sel[["channel", "model", "wape", "mae"]].rename(columns={"wape": "select_wape", "mae": "select_mae"}),
        on=["channel", "model"],
        how="left",
    )
    table["horizon_days"] = int(horizon_days)
    table["chosen"] = [chosen.get(c) == m for c, m in zip(table["channel"], table["model"])]
    table["_o"] = table["model"].map(order)
    table = table.sort_values(["channel", "_o"], kind="stable")[list(SELECTION_COLUMNS)].reset_index(
        drop=True
    )

    rows = []
    for c in sorted(chosen):
        r = table[(table["channel"] == c) & table["chosen"]].iloc[0]
        b_wape = math.nan
        if baseline is not None:
            b = table[(table["channel"] == c) & (table["model"] == baseline)]
            b_wape = float(b["wape"].iloc[0]) if len(b) else math.nan
        rows.append(
            {
                "channel": c,
                "horizon_days": int(horizon_days),
                "model": r["model"],
                "select_wape": r["select_wape"],
                "wape": r["wape"],
                "mase": r["mase"],
                "pinball": r["pinball"],
                "coverage": r["coverage"],
                "baseline": baseline,
                "baseline_wape": b_wape,
                "beats_baseline": bool(r["wape"] < b_wape) if math.isfinite(b_wape) else False,
            }
        )
    summary = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    return Selection(
        horizon_days=int(horizon_days),
        chosen=chosen,
        table=table,
        summary=summary,
        raw=raw,
        select_origins=list(sel_o),
        eval_origins=list(eval_o),
    )


def format_table(df: pd.DataFrame, digits: int = 3) -> str:
    """A plain-text table of ``df`` (floats with ``digits`` decimals, NaN as '-') for printing or a report."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = [("-" if not np.isfinite(v) else f"{v:.{digits}f}") for v in out[c].to_numpy(float)]
    return out.to_string(index=False)


def chosen_forecast(
    factories: Mapping[str, Callable[[], object]], chosen: Mapping[str, str], history: pd.DataFrame, index
) -> pd.DataFrame:
    """Each channel's chosen model (``chosen``: channel -> a name of ``factories``) fitted on ``history``
    and predicting ``index``, one fit per distinct model; the rows of the channels in ``chosen``."""
    parts = []
    for name in sorted(set(chosen.values())):
        fc = factories[name]().fit(history).predict(index)
        parts.append(fc[fc["channel"].isin([c for c, m in chosen.items() if m == name])])
    return pd.concat(parts, ignore_index=True)


def chosen_backtest(
    factories: Mapping[str, Callable[[], object]],
    chosen: Mapping[str, str],
    history: pd.DataFrame,
    origin,
    horizon_days: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(forecast, actual) of the chosen models fitted on the history before the local day of ``origin``,
    over the ``horizon_days`` local days from it: what a forecast-versus-actual plot of a backtest shows."""
    ts = pd.DatetimeIndex(history["interval_start"])
    day, _, _ = wall_parts(ts)
    (cut,), _, _ = wall_parts(pd.DatetimeIndex([pd.Timestamp(origin)]).tz_convert(ts.tz))
    train = history[day < cut].reset_index(drop=True)
    grid = day_grid(int(cut), int(horizon_days), ts.tz, infer_interval_min(ts, "history"))
    actual = history[(day >= cut) & (day < cut + horizon_days)].reset_index(drop=True)
    return chosen_forecast(factories, chosen, train, grid), actual
