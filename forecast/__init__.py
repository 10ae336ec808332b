"""wfmlab.forecast: contact history in, Forecast out.

The bottom of the import graph: imports none of sim, optim, experiments. See ``frame`` for the Forecast
and history tables, ``synthetic`` for the synthetic centre, ``models`` for the seasonal models, ``io`` for
loading files and ``backtest`` for rolling-origin evaluation.
"""

from forecast.backtest import BACKTEST_COLUMNS, backtest
from forecast.errors import ConfigError, DataError, WfmError
from forecast.frame import FORECAST_COLUMNS, HISTORY_COLUMNS, validate_forecast, validate_history
from forecast.io import contact_stats, load_contacts, load_intervals
from forecast.models import SeasonalAverage, SeasonalNaive
from forecast.synthetic import SyntheticChannel, demo_channels, expected_volume, synthetic_history

__all__ = [
    "BACKTEST_COLUMNS",
    "FORECAST_COLUMNS",
    "HISTORY_COLUMNS",
    "ConfigError",
    "DataError",
    "SeasonalAverage",
    "SeasonalNaive",
    "SyntheticChannel",
    "WfmError",
    "backtest",
    "contact_stats",
    "demo_channels",
    "expected_volume",
    "load_contacts",
    "load_intervals",
    "synthetic_history",
    "validate_forecast",
    "validate_history",
]
