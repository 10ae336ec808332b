import math

import numpy as np
import pandas as pd
import pytest

from forecast import FORECAST_COLUMNS, DataError, validate_forecast


def _fc() -> pd.DataFrame:
    idx = pd.date_range("2026-03-29", periods=3, freq="15min", tz="Europe/Berlin")
    return pd.DataFrame(
        {
            "channel": ["voice"] * 3 + ["chat"] * 3,
            "interval_start": list(idx) * 2,
            "volume": [1.0, 0.0, 2.5, 3.0, 4.0, 5.0],
            "aht_s": 300.0,
            "shape_day": 40.0,
            "shape_interval": math.inf,
        },
        index=[10, 11, 12, 13, 14, 15],
    )


def test_valid_forecast_is_sorted_with_a_fresh_index():
    out = validate_forecast(_fc())
    assert list(out.columns) == list(FORECAST_COLUMNS)
    assert out["channel"].tolist() == ["chat"] * 3 + ["voice"] * 3
    assert out.index.equals(pd.RangeIndex(6))
    assert out["interval_start"].is_monotonic_increasing is False  # sorted within channel only
    assert out.groupby("channel")["interval_start"].apply(lambda s: s.is_monotonic_increasing).all()


@pytest.mark.parametrize(
    ("column", "value", "text"),
    [
        ("volume", -1.0, "'volume', row 12"),
        ("volume", np.nan, "'volume', row 12"),
        ("aht_s", 0.0, "'aht_s', row 12"),
        ("shape_day", np.nan, "'shape_day', row 12"),
        ("shape_interval", -2.0, "'shape_interval', row 12"),
    ],
)
def test_bad_values_name_column_and_row(column, value, text):
    df = _fc()
    df.loc[12, column] = value
    with pytest.raises(DataError, match=f"my.csv: column {text}"):
        validate_forecast(df, source="my.csv")


def test_structure_errors():
    with pytest.raises(DataError, match="missing column"):
        validate_forecast(_fc().drop(columns="shape_day"))
    naive = _fc().assign(interval_start=lambda d: d["interval_start"].dt.tz_localize(None))
    with pytest.raises(DataError, match="tz-aware"):
        validate_forecast(naive)
    dup = _fc()
    dup.loc[11, "interval_start"] = dup.loc[10, "interval_start"]
    with pytest.raises(DataError, match=r"rows \[10, 11\]"):
        validate_forecast(dup)
