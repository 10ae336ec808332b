import numpy as np
import pandas as pd
import pytest


def flat_forecast(grid, volumes: dict, aht: dict, shape_day=np.inf, shape_interval=np.inf) -> pd.DataFrame:
    """A Forecast with the given per-interval volume (scalar or array) and AHT per channel."""
    rows = []
    for name, v in volumes.items():
        rows.append(
            pd.DataFrame(
                {
                    "channel": name,
                    "interval_start": grid.starts,
                    "volume": np.broadcast_to(np.asarray(v, float), (grid.n,)).copy(),
                    "aht_s": float(aht[name]),
                    "shape_day": float(shape_day),
                    "shape_interval": float(shape_interval),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


@pytest.fixture
def make_forecast():
    return flat_forecast
