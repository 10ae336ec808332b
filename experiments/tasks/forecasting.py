"""The plan's forecast step: the configured model (or the model chosen per channel by backtest), fitted on
the history, forecasting the scenario's horizon with prediction intervals."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from forecast.errors import ConfigError

#: forecast.model -> the keys it takes (besides ``model``) and their defaults.
MODELS = {
    "seasonal_naive": {},
    "seasonal_average": {"weeks": 4},
    "holt_winters": {"profile_weeks": 4, "seasonal": "mul"},
    "poisson": {"weeks": None, "interaction": True, "holidays": None},
    "negbin": {"weeks": None, "interaction": True, "holidays": None},
    "ensemble": {"members": ["holt_winters", "negbin_main", "seasonal_average"]},
    "select": {
        "candidates": [
            "seasonal_naive",
            "seasonal_average",
            "holt_winters",
            "negbin",
            "negbin_main",
            "ensemble",
        ],
        "horizon_days": 7,
        "origins": 8,
        "select_origins": 4,
        "step_days": 1,
    },
}
#: the candidates ``ensemble`` and ``select`` may name.
CANDIDATES = (
    "seasonal_naive",
    "seasonal_average",
    "holt_winters",
    "poisson",
    "negbin",
    "negbin_main",
    "ensemble",
)


def _int(v, key, lo):
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ConfigError(f"expected an integer >= {lo}; got {v!r}", key=key)
    return v


def validate_forecast_cfg(fc: Mapping) -> dict:
    """``cfg.forecast`` -> a plain dict with every key of its model filled in (errors name the key)."""
    model = fc.get("model")
    if model not in MODELS:
        raise ConfigError(f"expected one of {sorted(MODELS)}; got {model!r}", key="forecast.model")
    allowed = set(MODELS[model]) | {"model"}
    extra = sorted(set(fc) - allowed)
    if extra:
        raise ConfigError(
            f"unknown key(s) {extra} for model {model}; expected some of {sorted(allowed)}", key="forecast"
        )
    out = {"model": model, **MODELS[model], **{k: v for k, v in fc.items() if v is not None or k == "weeks"}}
    for k in ("weeks", "profile_weeks"):
        if k in out and out[k] is not None:
            _int(out[k], f"forecast.{k}", 1)
    if "interaction" in out and not isinstance(out["interaction"], bool):
        raise ConfigError(f"expected true or false; got {out['interaction']!r}", key="forecast.interaction")
    if model == "holt_winters" and out["seasonal"] not in ("mul", "add"):
        raise ConfigError(f"expected mul or add; got {out['seasonal']!r}", key="forecast.seasonal")
    if out.get("holidays") is not None:
        from pathlib import Path

        if not isinstance(out["holidays"], str) or not Path(out["holidays"]).is_file():
            raise ConfigError(
                f"expected a CSV file of holidays (columns date, name); not found: {out['holidays']!r}",
                key="forecast.holidays",
            )
    for key in ("members", "candidates"):
        if key in out:
            names = list(out[key]) if isinstance(out[key], list | tuple) else None
            if not names or any(n not in CANDIDATES or (key == "members" and n == "ensemble") for n in names):
                raise ConfigError(
                    f"expected a list of model names from {list(CANDIDATES)}; got {out[key]!r}",
                    key=f"forecast.{key}",
                )
            out[key] = names
    if model == "select":
        _int(out["horizon_days"], "forecast.horizon_days", 1)
        _int(out["origins"], "forecast.origins", 2)
        _int(out["step_days"], "forecast.step_days", 1)
        if _int(out["select_origins"], "forecast.select_origins", 1) >= out["origins"]:
            raise ConfigError(
                f"expected fewer than forecast.origins ({out['origins']}) so that later origins grade the "
                f"choice; got {out['select_origins']}",
                key="forecast.select_origins",
            )
    return out


def _holidays(path):
    if path is None:
        return None
    return pd.read_csv(path, dtype=str)


def factory(name: str, fm: dict):
    """A callable returning an unfitted model ``name`` with the parameters of ``fm`` where they apply."""
    import forecast

    if name == "seasonal_naive":
        return forecast.SeasonalNaive
    if name == "seasonal_average":
        weeks = fm.get("weeks") or 4
        return lambda: forecast.SeasonalAverage(weeks=weeks)
    if name == "holt_winters":
        pw, seas = fm.get("profile_weeks", 4), fm.get("seasonal", "mul")
        return lambda: forecast.HoltWinters(profile_weeks=pw, seasonal=seas)
    if name in ("poisson", "negbin", "negbin_main"):
        cls = forecast.PoissonRegression if name == "poisson" else forecast.NegBinRegression
        inter = False if name == "negbin_main" else fm.get("interaction", True)
        hol = _holidays(fm.get("holidays"))
        weeks = fm.get("weeks")
        return lambda: cls(weeks=weeks, interaction=inter, holidays=hol)
    if name == "ensemble":
        members = fm.get("members") or MODELS["ensemble"]["members"]
        return lambda: forecast.Ensemble({m: factory(m, fm)() for m in members})
    raise ConfigError(f"unknown model {name!r}", key="forecast.model")


def run_forecast(fm: dict, hist: pd.DataFrame, scenario) -> tuple[pd.DataFrame, dict]:
    """Fit and predict the scenario's grid. Returns the forecast (with the 10/50/90% quantiles) and extras:
    for ``model=select`` the selection table and the chosen model per channel."""
    import forecast

    extras = {}
    if fm["model"] == "select":
        facts = {name: factory(name, fm) for name in fm["candidates"]}
        hist = hist[hist["channel"].isin(scenario.channel_names)].reset_index(drop=True)
        uses_hw = "holt_winters" in fm["candidates"] or (
            "ensemble" in fm["candidates"]
            and "holt_winters" in (fm.get("members") or MODELS["ensemble"]["members"])
        )
        train = 14 if uses_hw else 7  # Holt-Winters needs two weeks, the others one
        need = train + fm["horizon_days"] + (fm["origins"] - 1) * fm["step_days"]
        days = pd.DatetimeIndex(hist["interval_start"]).tz_convert(scenario.grid.tz).normalize().nunique()
        if days < need:
            raise ConfigError(
                f"choosing a model by backtest needs {need} days of history ({train} of training before the "
                f"first of {fm['origins']} origins {fm['step_days']} day(s) apart, {fm['horizon_days']}-day "
                f"windows); the history has {days}: lower forecast.origins or forecast.horizon_days, or give "
                "more history (scenario.history.weeks)",
                key="forecast.origins",
            )
        sel = forecast.select_models(
            facts,
            hist,
            fm["horizon_days"],
            fm["origins"],
            fm["select_origins"],
            step_days=fm["step_days"],
        )
        fc = forecast.chosen_forecast(facts, sel.chosen, hist, scenario.grid)
        extras = {"selection": sel}
    else:
        fc = factory(fm["model"], fm)().fit(hist).predict(scenario.grid)
    fc = fc[fc["channel"].isin(scenario.channel_names)].reset_index(drop=True)
    fc = forecast.forecast_quantiles(fc, (0.1, 0.5, 0.9))
    return fc, extras
