"""Fixtures for the forecast tests."""

import pytest

from forecast import SyntheticChannel


@pytest.fixture
def flat_channel() -> SyntheticChannel:
    return SyntheticChannel(daily_volume=2000.0, open_hour=6.0, close_hour=22.0, peaks=((10.0, 2.0, 1.0),))
