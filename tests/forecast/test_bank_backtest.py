"""Backtests on the bank's real February 1999 (shipped in forecast/data): the model chosen per queue on the
earlier rolling origins, graded on the later ones, beats seasonal naive on WAPE at the 1-day and 1-week
horizons on every queue with at least a thousand calls in the month, and its 80% bands cover 70-90% of the
actual interval volumes."""

import pandas as pd
import pytest

from forecast import Ensemble, HoltWinters, NegBinRegression, SeasonalAverage, SeasonalNaive, select_models
from forecast.bank import bank_history

FACTORIES = {
    "seasonal_naive": SeasonalNaive,
    "seasonal_average": lambda: SeasonalAverage(weeks=4),
    "holt_winters": HoltWinters,
    "negbin_main": lambda: NegBinRegression(interaction=False),
    "ensemble": lambda: Ensemble(
        {"hw": HoltWinters(), "nb": NegBinRegression(interaction=False), "avg": SeasonalAverage(weeks=4)}
    ),
}


@pytest.fixture(scope="module")
def history():
    return bank_history()


@pytest.mark.parametrize("horizon, origins, select", [(1, 14, 7), (7, 8, 4)])
def test_chosen_models_beat_seasonal_naive_and_bands_cover(history, horizon, origins, select):
    sel = select_models(FACTORIES, history, horizon, origins, select, step_days=1)
    assert len(sel.select_origins) == select and len(sel.eval_origins) == origins - select
    assert max(sel.select_origins) < min(sel.eval_origins)  # graded on origins that did not choose
    # ... and on days no selection window saw
    free = max(sel.select_origins) + pd.Timedelta(days=horizon)
    graded = sel.raw[sel.raw["phase"] == "evaluate"].drop_duplicates("origin")
    assert all(
        o + pd.Timedelta(days=int(k)) >= free for o, k in zip(graded["origin"], graded["skipped_days"])
    )
    volume = history.groupby("channel")["volume"].sum()
    big = volume[volume >= 1000].index
    assert len(big) == 4  # PS, NW, NE, TT
    s = sel.summary.set_index("channel")
    for ch in big:
        assert s.loc[ch, "wape"] < s.loc[ch, "baseline_wape"], (ch, s.loc[ch].to_dict())
    # coverage of the 80% band, chosen models, pooled over the graded intervals (with arrivals or a forecast)
    # of all queues
    r = sel.raw[sel.raw["phase"] == "evaluate"]
    r = r[[sel.chosen[c] == m for c, m in zip(r["channel"], r["model"])]]
    assert 0.7 <= r["covered"].sum() / r["counted"].sum() <= 0.9
