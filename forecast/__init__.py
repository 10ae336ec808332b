"""wfmlab.forecast: contact history in, Forecast out.

The bottom of the import graph: imports none of sim, optim, experiments. See ``frame`` for the Forecast
and history tables, ``synthetic`` for the synthetic centre, ``models`` for the seasonal models, ``ets``
(Holt-Winters on daily totals x intraday profile), ``regression`` (Poisson / negative-binomial on weekday x
time of day + holidays) and ``ensemble``, ``quantiles`` for prediction intervals under the gamma-Poisson
arrival model, ``io`` / ``contacts`` for loading files (interval tables; contact logs through a mapping
file), ``patience`` for abandonment (exponential MLE, Kaplan-Meier), ``bank`` for the shipped real data,
``backtest`` for rolling-origin evaluation, ``selection`` for choosing a model per channel by backtest and
``plot`` for forecast-versus-actual plots.
"""

from forecast.backtest import BACKTEST_COLUMNS, INTERVAL_COLUMNS, backtest, pooled_metrics, run_backtest
from forecast.bank import bank_history, bank_patience, bank_patience_samples, bank_stats
from forecast.contacts import aggregate_contacts, load_mapping, read_contacts
from forecast.ensemble import Ensemble
from forecast.errors import ConfigError, DataError, WfmError
from forecast.ets import HoltWinters
from forecast.frame import FORECAST_COLUMNS, HISTORY_COLUMNS, validate_forecast, validate_history
from forecast.io import contact_stats, load_contacts, load_intervals
from forecast.models import SeasonalAverage, SeasonalNaive
from forecast.patience import (
    ExponentialPatience,
    exponential_patience,
    kaplan_meier_patience,
    km_mean,
    km_quantile,
    km_quantiles,
    patience_table,
)
from forecast.plot import plot_forecast
from forecast.quantiles import band_coverage, forecast_quantiles, mixture_cdf, pinball_loss, quantile_column
from forecast.regression import NegBinRegression, PoissonRegression
from forecast.selection import Selection, chosen_backtest, chosen_forecast, format_table, select_models
from forecast.synthetic import SyntheticChannel, demo_channels, expected_volume, synthetic_history

__all__ = [
    "BACKTEST_COLUMNS",
    "ExponentialPatience",
    "aggregate_contacts",
    "bank_history",
    "bank_patience",
    "bank_patience_samples",
    "bank_stats",
    "exponential_patience",
    "kaplan_meier_patience",
    "km_mean",
    "km_quantile",
    "km_quantiles",
    "load_mapping",
    "patience_table",
    "read_contacts",
    "ConfigError",
    "DataError",
    "Ensemble",
    "FORECAST_COLUMNS",
    "HISTORY_COLUMNS",
    "HoltWinters",
    "INTERVAL_COLUMNS",
    "NegBinRegression",
    "PoissonRegression",
    "SeasonalAverage",
    "SeasonalNaive",
    "Selection",
    "chosen_backtest",
    "chosen_forecast",
    "SyntheticChannel",
    "WfmError",
    "backtest",
    "band_coverage",
    "contact_stats",
    "demo_channels",
    "expected_volume",
    "forecast_quantiles",
    "format_table",
    "load_contacts",
    "load_intervals",
    "mixture_cdf",
    "pinball_loss",
    "plot_forecast",
    "pooled_metrics",
    "quantile_column",
    "run_backtest",
    "select_models",
    "synthetic_history",
    "validate_forecast",
    "validate_history",
]
