"""Model selection with windows longer than the step between origins: the later origins are graded only on
days that no selection window saw."""

import pandas as pd
import pytest
from forecast_testutil import TZ, noise_free_history
from test_backtest_extra import Scaled

from forecast import SeasonalNaive, SyntheticChannel, select_models


def test_evaluation_windows_are_trimmed_to_days_after_the_selection_windows():
    """1-week windows a day apart, 3 origins choose and 3 grade: the graded days are those from the end of
    the last selection window on. 'late' is 20% high before that day and exact from it, so trimmed it grades
    at WAPE 0; 'early' is exact before and 50% high from it, so it grades at exactly 0.5 (untrimmed both
    would mix in the shared days)."""
    spec = SyntheticChannel(1000.0, open_hour=8.0, close_hour=18.0)
    h = noise_free_history({"a": spec}, "2026-01-05", 35)  # 2026-01-05 .. 2026-02-08
    # origins: the last is 2026-02-08 + 1 - 7 = 2026-02-02, six a day apart from 2026-01-28
    free = pd.Timestamp("2026-01-30", tz=TZ) + pd.Timedelta(days=7)  # the last selection window ends
    factories = {
        "early": lambda: Scaled(spec, free, 1.0, 1.5),
        "late": lambda: Scaled(spec, free, 1.2, 1.0),
        "seasonal_naive": SeasonalNaive,
    }
    sel = select_models(factories, h, 7, 6, 3, step_days=1)
    assert [o.date().isoformat() for o in sel.select_origins] == ["2026-01-28", "2026-01-29", "2026-01-30"]
    ev = sel.raw[sel.raw["phase"] == "evaluate"].drop_duplicates("origin").set_index("origin")["skipped_days"]
    assert {o.date().isoformat(): k for o, k in ev.items()} == {
        "2026-01-31": 6,
        "2026-02-01": 5,
        "2026-02-02": 4,
    }
    t = sel.table.set_index("model")
    assert t.loc["late", "wape"] == pytest.approx(0.0, abs=1e-12)
    assert t.loc["early", "wape"] == pytest.approx(0.5)
    assert sel.chosen == {"a": "early"}  # exact over all three selection windows (they end before `free`)
    # purge: every later origin overlaps a selection window here, so nothing is left to grade
    with pytest.raises(Exception, match="no origin after the selection windows"):
        select_models(factories, h, 7, 6, 3, step_days=1, purge=True)
