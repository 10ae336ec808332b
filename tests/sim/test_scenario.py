import math

import numpy as np
import pandas as pd
import pytest

from forecast.errors import ConfigError
from sim import Channel, IntervalGrid, Scenario, SkillGroup, SLDefinition


@pytest.mark.parametrize(
    "day, expected",
    [("2026-03-29", 92), ("2026-10-25", 100), ("2026-06-10", 96)],
)
def test_dst_days_have_92_or_100_quarter_hours(day, expected):
    grid = IntervalGrid.from_days(day, 1, 15, "Europe/Berlin")
    assert grid.n == expected
    # consecutive in absolute time, and the local clock covers the whole day
    assert (grid.starts[1:] - grid.starts[:-1] == pd.Timedelta(minutes=15)).all()
    assert grid.starts[0].hour == 0
    assert (grid.starts[-1] + pd.Timedelta(minutes=15)).tz_convert("Europe/Berlin").hour == 0
    assert set(grid.day_index) == {0}


def test_week_grid_days_and_hours():
    grid = IntervalGrid.from_days("2026-01-05", 7, 30, "UTC")
    assert grid.n == 7 * 48
    assert grid.n_days == 7
    assert grid.local_hours[13] == 6.5
    assert grid.seconds("2026-01-06 00:00") == 86400.0


def test_interval_length_must_be_15_30_or_60():
    with pytest.raises(ConfigError, match="interval_min"):
        IntervalGrid.from_days("2026-01-05", 1, -15, "UTC")
    with pytest.raises(ConfigError, match="interval_min"):
        IntervalGrid.from_days("2026-01-05", 1, 20, "UTC")


def test_channel_validation_names_the_field():
    with pytest.raises(ConfigError, match=r"^kind: expected one of voice, chat, email; got 'fax'"):
        Channel("x", "fax")
    with pytest.raises(ConfigError, match=r"^target: .*got 1.2"):
        Channel("x", "email", target=1.2)
    with pytest.raises(ConfigError, match="^concurrency"):
        Channel("x", "voice", concurrency=2)
    with pytest.raises(ConfigError, match="^patience_s"):
        Channel("x", "email", patience_s=60)
    assert Channel("x", "voice").patience_s == math.inf


def test_scenario_checks_groups_and_channels():
    grid = IntervalGrid.from_days("2026-01-05", 1, 60, "UTC")
    v = Channel("voice", "voice")
    with pytest.raises(ConfigError, match=r"groups\.g\.channels: unknown channel"):
        Scenario(grid, [v], [SkillGroup("g", ["voice", "chat"])])
    with pytest.raises(ConfigError, match=r"channels\.email: no skill group serves"):
        Scenario(grid, [v, Channel("email", "email")], [SkillGroup("g", ["voice"])])
    with pytest.raises(ConfigError, match="unique"):
        Scenario(grid, [v, v], [SkillGroup("g", ["voice"])])


def test_sl_definitions_from_counts():
    # 100 offered, 80 answered, 20 abandoned of which 5 within T, 60 answered within T
    within, off, ans, ab_w = 60, 100, 80, 5
    assert SLDefinition.OFFERED.ratio(within, off, ans, ab_w) == pytest.approx(0.60)
    assert SLDefinition.OFFERED_MINUS_SHORT_ABANDONS.ratio(within, off, ans, ab_w) == pytest.approx(60 / 95)
    assert SLDefinition.ANSWERED.ratio(within, off, ans, ab_w) == pytest.approx(0.75)
    assert np.isnan(SLDefinition.OFFERED.ratio(0, 0, 0, 0))
