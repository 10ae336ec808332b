"""The bank call log through a mapping in conf/, patience estimators, and the shipped derived data.

References are independent of the code under test: counts recomputed from the raw file with the csv module,
a textbook Kaplan-Meier example computed by hand (and the published values), closed forms of the exponential
distribution with tolerances from 99.9% intervals.
"""

from __future__ import annotations

import csv
import math
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecast import ConfigError, DataError, SeasonalAverage, validate_history
from forecast.bank import (
    INTERVALS_NAME,
    PATIENCE_NAME,
    PATIENCE_SAMPLES_NAME,
    RAW_ENV,
    bank_history,
    bank_mapping,
    bank_patience,
    bank_patience_samples,
    bank_stats,
    derive_bank_intervals,
    derive_bank_patience,
    read_bank_contacts,
)
from forecast.contacts import contact_stats, load_mapping, read_contacts
from forecast.patience import (
    exponential_patience,
    kaplan_meier_patience,
    km_mean,
    km_quantile,
    km_quantiles,
    km_tail,
    patience_table,
)

RAW_NAME = "anonymous_bank_1999_02.tsv"
DATA_DIR = Path(__file__).parents[2] / "forecast" / "data"
MAPPING_FILE = Path(__file__).parents[2] / "conf" / "data" / "bank_1999_02.yaml"
TZ = "Asia/Jerusalem"
Z999 = float(stats.norm.isf(0.0005))  # two-sided 99.9%


def _raw_path() -> Path | None:
    env = os.environ.get(RAW_ENV)
    path = Path(env) if env else Path(__file__).parents[2].parent / "shared" / "data" / RAW_NAME
    return path if path.is_file() else None


@pytest.fixture(scope="module")
def raw() -> Path:
    path = _raw_path()
    if path is None:
        pytest.skip(f"raw bank log absent (set {RAW_ENV} or put {RAW_NAME} in ../shared/data)")
    return path


@pytest.fixture(scope="module")
def raw_rows(raw) -> list[dict]:
    with open(raw, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="module")
def contacts(raw):
    return read_bank_contacts(raw)


def _queued(r: dict) -> bool:
    return r["q_start"] != "0:00:00" or int(r["q_time"]) > 0


def _hour(clock: str) -> int:
    return int(clock.split(":")[0])


# -- the raw log through the mapping -------------------------------------------------------------------------
def test_counts_per_outcome_and_type_match_the_raw_file(raw, raw_rows, contacts):
    outcomes = Counter(r["outcome"] for r in raw_rows)
    assert len(raw_rows) == sum(outcomes.values())
    # the loader drops PHANTOM and keeps every other call
    assert len(contacts) == len(raw_rows) - outcomes["PHANTOM"]
    got = contacts["outcome"].value_counts().to_dict()
    assert got == {"answered": outcomes["AGENT"], "abandoned": outcomes["HANG"]}
    kept = [r for r in raw_rows if r["outcome"] != "PHANTOM"]
    by_type = Counter(r["type"] for r in kept)
    assert contacts["channel"].value_counts().to_dict() == {f"voice_{k}": v for k, v in by_type.items()}
    assert int(contacts["queued"].sum()) == sum(_queued(r) for r in kept)

    # per type: answered, abandoned after queueing, hung up before the queue
    stats_ = contact_stats(raw, **bank_mapping())
    tot = stats_.groupby("channel")[["volume", "answered", "abandoned", "abandoned_unqueued"]].sum()
    for t in by_type:
        rows = [r for r in kept if r["type"] == t]
        ans = sum(r["outcome"] == "AGENT" for r in rows)
        ab_q = sum(r["outcome"] == "HANG" and _queued(r) for r in rows)
        ab_u = sum(r["outcome"] == "HANG" and not _queued(r) for r in rows)
        assert tot.loc[f"voice_{t}"].tolist() == [ans + ab_q, ans, ab_q, ab_u]


def test_phantom_rows_are_dropped_and_rows_keep_their_file_numbers(raw_rows, contacts):
    phantom = {i + 2 for i, r in enumerate(raw_rows) if r["outcome"] == "PHANTOM"}  # header is line 1
    assert phantom and not phantom & set(contacts["row"])
    first = raw_rows[0]  # row 2 of the file
    c = contacts.iloc[0]
    assert c["row"] == 2
    d = first["date"]
    expected = pd.Timestamp(f"19{d[:2]}-{d[2:4]}-{d[4:]} {first['vru_exit']}").tz_localize("Etc/GMT-2")
    assert c["arrival"] == expected  # UTC+2: Israel had no DST in February 1999
    assert c["handle_s"] == float(first["ser_time"]) and c["wait_s"] == float(first["q_time"])


@pytest.mark.parametrize("day", ["990210", "990214"])
def test_hourly_arrivals_of_a_day(raw_rows, raw, day):
    # independent: offered calls (not PHANTOM, not hung up before the queue) by the hour of vru_exit
    want = Counter(
        _hour(r["vru_exit"])
        for r in raw_rows
        if r["date"] == day and r["outcome"] != "PHANTOM" and not (r["outcome"] == "HANG" and not _queued(r))
    )
    s = contact_stats(raw, **bank_mapping())
    date = pd.Timestamp(f"19{day[:2]}-{day[2:4]}-{day[4:]}")
    on_day = s[s["interval_start"].dt.tz_localize(None).dt.normalize() == date]
    got = on_day.groupby(on_day["interval_start"].dt.hour)["volume"].sum()
    assert {h: int(v) for h, v in got.items() if v} == dict(want)


def test_hourly_mean_arrivals_over_the_wednesdays(raw_rows):
    history = bank_history()  # the shipped table; the raw file is the reference
    wednesdays = ["990203", "990210", "990217", "990224"]
    want = np.zeros(24)
    for r in raw_rows:
        if (
            r["date"] in wednesdays
            and r["outcome"] != "PHANTOM"
            and not (r["outcome"] == "HANG" and not _queued(r))
        ):
            want[_hour(r["vru_exit"])] += 1
    want /= len(wednesdays)
    ts = history["interval_start"]
    wed = history[ts.dt.day_of_week == 2]
    got = wed.groupby(wed["interval_start"].dt.hour)["volume"].sum().to_numpy() / len(wednesdays)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_agent_names_only_when_asked_and_pseudonymised(raw, raw_rows, contacts):
    assert "agent" not in contacts.columns
    names = {r["server"] for r in raw_rows} - {"NO_SERVER"}
    assert not (set(contacts.astype(str).stack().unique()) & names)
    a = read_bank_contacts(raw, agents=True, pseudonym_key="k1")
    b = read_bank_contacts(raw, agents=True, pseudonym_key="k1")
    c = read_bank_contacts(raw, agents=True)  # a random key
    assert not (set(a["agent"].dropna()) & names)
    assert a["agent"].equals(b["agent"]) and not a["agent"].equals(c["agent"])
    # the same grouping as the names: counts per pseudonym equal counts per name (NO_SERVER is missing)
    kept = [r for r in raw_rows if r["outcome"] != "PHANTOM"]
    by_name = sorted(Counter(r["server"] for r in kept if r["server"] != "NO_SERVER").values())
    assert sorted(a["agent"].value_counts().tolist()) == by_name
    assert int(a["agent"].isna().sum()) == sum(r["server"] == "NO_SERVER" for r in kept)
    plain = read_bank_contacts(raw, agents=True, pseudonymise=False)
    assert set(plain["agent"].dropna()) == {r["server"] for r in kept} - {"NO_SERVER"}


# -- the shipped derived data --------------------------------------------------------------------------------
def test_shipped_files_equal_a_fresh_derivation(raw, tmp_path):
    derive_bank_intervals(raw, tmp_path / INTERVALS_NAME)
    derive_bank_patience(raw, tmp_path / PATIENCE_NAME, tmp_path / PATIENCE_SAMPLES_NAME)
    for name in (INTERVALS_NAME, PATIENCE_NAME, PATIENCE_SAMPLES_NAME):
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes(), name
    assert (DATA_DIR / INTERVALS_NAME).stat().st_size < 1_500_000


def test_shipped_aht_and_wait_match_the_raw_file(raw_rows):
    # independent per-interval means of the answered calls by (day, quarter hour of vru_exit)
    s = bank_stats()
    for t in ("PS", "NW"):
        handle, wait = {}, {}
        for r in raw_rows:
            if r["type"] == t and r["outcome"] == "AGENT":
                h, m, _ = map(int, r["vru_exit"].split(":"))
                key = (r["date"], h, m // 15 * 15)
                wait.setdefault(key, []).append(int(r["q_time"]))
                if int(r["ser_time"]) > 0:
                    handle.setdefault(key, []).append(int(r["ser_time"]))
        d = s[(s["channel"] == f"voice_{t}") & (s["answered"] > 0)]
        keys = [(ts.strftime("%y%m%d"), ts.hour, ts.minute) for ts in d["interval_start"]]
        assert sorted(keys) == sorted(wait)
        want_wait = [np.mean(wait[k]) for k in keys]
        want_aht = [np.mean(handle[k]) if k in handle else np.nan for k in keys]
        np.testing.assert_allclose(d["wait_s"], want_wait, rtol=0, atol=0.005 + 1e-9)
        np.testing.assert_allclose(d["aht_s"], want_aht, rtol=0, atol=0.005 + 1e-9)
        assert d["answered"].tolist() == [len(wait[k]) for k in keys]


def test_bank_history_runs_without_the_raw_file(monkeypatch, tmp_path):
    monkeypatch.setenv(RAW_ENV, str(tmp_path / "absent.tsv"))
    h = bank_history()
    assert validate_history(h).equals(h)
    assert str(h["interval_start"].dt.tz) == TZ
    channels = sorted(h["channel"].unique())
    assert channels == [f"voice_{t}" for t in ("IN", "NE", "NW", "PE", "PS", "TT")]
    starts = pd.DatetimeIndex(h["interval_start"])
    assert (starts.min(), starts.max()) == (
        pd.Timestamp("1999-02-01 00:00", tz=TZ),
        pd.Timestamp("1999-02-28 23:45", tz=TZ),
    )
    assert len(h) == 6 * 28 * 96
    s = bank_stats()
    assert (s["volume"] == s["answered"] + s["abandoned"]).all()
    assert s.loc[s["answered"] == 0, "aht_s"].isna().all()  # no AHT where nothing was answered
    # a seasonal model fits the real month and forecasts the next week
    model = SeasonalAverage(weeks=4).fit(h)
    idx = pd.date_range("1999-03-01", periods=7 * 96, freq="15min", tz=TZ)
    fc = model.predict(idx)
    assert sorted(fc["channel"].unique()) == channels and np.isfinite(fc["volume"]).all()
    ps = fc[fc["channel"] == "voice_PS"]
    week_mean = h[h["channel"] == "voice_PS"]["volume"].sum() / 4
    assert ps["volume"].sum() == pytest.approx(week_mean, rel=0.1)


def test_shipped_patience_is_consistent_and_usable_by_the_simulator():
    p = bank_patience().set_index("channel")
    assert ((p["exp_mean_lo_s"] <= p["exp_mean_s"]) & (p["exp_mean_s"] <= p["exp_mean_hi_s"])).all()
    assert np.allclose(p["exp_mean_s"], p["wait_total_s"] / p["abandoned"], atol=0.01)
    assert (p["km_q10_s"] <= p["km_q25_s"]).all() and (p["km_q50_s"] <= p["km_q90_s"]).all()
    samples = bank_patience_samples("voice_PS")
    assert len(samples) == 100 and all(np.diff(samples) >= 0) and np.isfinite(samples).all()
    assert np.median(samples) == pytest.approx(p.loc["voice_PS", "km_q50_s"], rel=0.02)
    with pytest.raises(DataError, match=r"no rows for 'voice_XX'"):
        bank_patience_samples("voice_XX")
    from sim.scenario import Channel

    ch = Channel(
        name="voice_PS",
        kind="voice",
        patience_dist="empirical",
        patience_samples=samples,
        patience_s=float(p.loc["voice_PS", "km_mean_s"]),
    )
    assert len(ch.patience_samples) == 100


def test_real_patience_estimates(contacts):
    # exponential mean = total wait / abandonments of the queued calls, recomputed here
    table = patience_table(contacts).set_index("channel")
    q = contacts[contacts["queued"]]
    for ch, g in q.groupby("channel"):
        ab = int((g["outcome"] == "abandoned").sum())
        assert table.loc[ch, "exp_mean_s"] == pytest.approx(g["wait_s"].sum() / ab, rel=1e-12)
        assert table.loc[ch, "queued"] == len(g)
    # hung-up-in-the-VRU calls are not in the patience sample
    assert table["queued"].sum() == int(contacts["queued"].sum())


# -- patience estimators -------------------------------------------------------------------------------------
def test_exponential_mle_on_a_hand_made_sample():
    waits = [10, 20, 30, 40, 0, 50]
    abandoned = [True, False, True, False, True, False]
    fit = exponential_patience(waits, abandoned, level=0.9)
    assert fit.rate_per_s == pytest.approx(3 / 150) and fit.mean_s == pytest.approx(50.0)
    assert (fit.n, fit.abandoned, fit.exposure_s) == (6, 3, 150.0)
    # Garwood interval by its definition: P(Poisson(lo T) >= D) = P(Poisson(hi T) <= D) = alpha / 2
    lo, hi = fit.rate_ci
    assert stats.poisson.sf(2, lo * 150) == pytest.approx(0.05, rel=1e-9)
    assert stats.poisson.cdf(3, hi * 150) == pytest.approx(0.05, rel=1e-9)
    assert fit.mean_ci_s == pytest.approx((1 / hi, 1 / lo))
    none = exponential_patience([5, 6], [False, False])
    assert none.rate_per_s == 0 and none.rate_ci[0] == 0 and math.isinf(none.mean_s)
    assert none.rate_ci[1] == pytest.approx(-math.log(0.025) / 11)  # P(Poisson(hi T) = 0) = alpha / 2


# Freireich et al. (1963) 6-MP arm, remission weeks (+ = censored), the textbook example of
# Klein and Moeschberger (2003), "Survival Analysis", Table 4.1A (S and Greenwood SE to 3 decimals).
SIX_MP = ["6", "6", "6", "6+", "7", "9+", "10", "10+", "11+", "13", "16", "17+", "19+", "20+", "22", "23"]
SIX_MP += ["25+", "32+", "32+", "34+", "35+"]
KM_PUBLISHED = {6: (0.857, 0.076), 7: (0.807, 0.087), 10: (0.753, 0.096), 13: (0.690, 0.107)}
KM_PUBLISHED |= {16: (0.627, 0.114), 22: (0.538, 0.128), 23: (0.448, 0.135)}


def test_kaplan_meier_textbook_example():
    waits = [float(s.rstrip("+")) for s in SIX_MP]
    events = [not s.endswith("+") for s in SIX_MP]
    curve = kaplan_meier_patience(waits, events).set_index("time_s")
    # by hand: S(t) = prod (1 - d / n) over event times; n = number with time >= t
    by_hand = {
        6: 18 / 21,
        7: 18 / 21 * 16 / 17,
        10: 18 / 21 * 16 / 17 * 14 / 15,
        13: 18 / 21 * 16 / 17 * 14 / 15 * 11 / 12,
        16: 18 / 21 * 16 / 17 * 14 / 15 * 11 / 12 * 10 / 11,
        22: 18 / 21 * 16 / 17 * 14 / 15 * 11 / 12 * 10 / 11 * 6 / 7,
        23: 18 / 21 * 16 / 17 * 14 / 15 * 11 / 12 * 10 / 11 * 6 / 7 * 5 / 6,
    }
    for t, s in by_hand.items():
        assert curve.loc[t, "survival"] == pytest.approx(s, rel=1e-12)
        assert curve.loc[t, "survival"] == pytest.approx(KM_PUBLISHED[t][0], abs=5e-4)
        assert curve.loc[t, "se"] == pytest.approx(KM_PUBLISHED[t][1], abs=5e-4)
    # Greenwood at 7 by hand: S^2 (3 / (21 * 18) + 1 / (17 * 16))
    assert curve.loc[7, "se"] == pytest.approx(by_hand[7] * math.sqrt(3 / 378 + 1 / 272), rel=1e-12)
    assert curve.loc[9, "survival"] == curve.loc[7, "survival"]  # censoring does not move S
    assert curve.loc[6, ["at_risk", "events", "censored"]].tolist() == [21, 3, 1]
    assert curve.loc[10, ["at_risk", "events", "censored"]].tolist() == [15, 1, 1]
    assert curve.index.tolist() == sorted(set(waits))
    # median: first time with S <= 0.5 (the whole curve: min_at_risk=1)
    assert km_quantile(curve.reset_index(), 0.5, min_at_risk=1)[0] == 23.0


def test_km_quantiles_of_an_uncensored_sample_are_the_empirical_quantiles():
    # without censoring KM is 1 - the empirical CDF: the p-quantile is the k-th smallest value with
    # k = ceil(m p), here for p = (2i - 1) / 2n in integer arithmetic (no rounding at the jumps)
    m, n = 401, 50
    x = np.random.default_rng(3).exponential(100.0, m).round(1)  # with ties
    curve = kaplan_meier_patience(x, np.ones(m, bool))
    k = -(-m * (2 * np.arange(1, n + 1) - 1) // (2 * n))
    np.testing.assert_array_equal(km_quantiles(curve, n, min_at_risk=1), np.sort(x)[k - 1])
    assert km_mean(curve, min_at_risk=1) == pytest.approx(x.mean(), rel=1e-12)


@pytest.fixture(scope="module")
def exp_sample():
    """Exponential patience (mean 200 s) censored by independent exponential service offers (mean 300 s)."""
    rng = np.random.default_rng(20260)
    n = 20000
    patience = rng.exponential(200.0, n)
    offer = rng.exponential(300.0, n)
    return np.minimum(patience, offer), patience <= offer


def test_exponential_mle_covers_the_true_rate(exp_sample):
    w, a = exp_sample
    fit = exponential_patience(w, a, level=0.999)
    assert fit.rate_ci[0] <= 1 / 200 <= fit.rate_ci[1]
    assert fit.mean_ci_s[0] <= 200 <= fit.mean_ci_s[1]
    assert fit.rate_per_s == pytest.approx(a.sum() / w.sum(), rel=1e-12)


def test_km_agrees_with_the_exponential(exp_sample):
    w, a = exp_sample
    curve = kaplan_meier_patience(w, a)
    true_median = 200 * math.log(2)
    # S(true median) = 0.5 within 99.9% Greenwood bounds; the median within the delta-method tolerance
    at = curve[curve["time_s"] <= true_median].iloc[-1]
    assert abs(at["survival"] - 0.5) <= Z999 * at["se"]
    density = 0.5 / 200  # f(median) of Exp(mean 200)
    tol = Z999 * at["se"] / density
    median = km_quantile(curve, 0.5)[0]
    assert abs(median - true_median) <= tol
    for t in (50.0, 300.0, 600.0):
        row = curve[curve["time_s"] <= t].iloc[-1]
        assert abs(row["survival"] - math.exp(-t / 200)) <= Z999 * row["se"] + 1e-3
    # mean with the tail: 200 s within 99.9% tolerances of the area (about 200 / sqrt(events)) plus the
    # tail S(t_c) / rate, whose rate comes from >= 20 abandonments (relative error about 1 / sqrt(20))
    t_c, s_c, rate = km_tail(curve)
    tol = Z999 * 200 / math.sqrt(a.sum()) + Z999 * s_c / rate / math.sqrt(20)
    assert km_mean(curve) == pytest.approx(200, abs=tol)


def test_km_tail_beyond_the_observed_waits():
    # every caller still waiting at 100 s is served then: nothing is observed beyond 100 s
    rng = np.random.default_rng(11)
    p = rng.exponential(200.0, 20000)
    w, a = np.minimum(p, 100.0), p < 100.0
    curve = kaplan_meier_patience(w, a)
    t_c, s_c, rate = km_tail(curve)
    assert t_c == 100.0 and s_c == pytest.approx(math.exp(-0.5), abs=Z999 * curve["se"].iloc[-1])
    # the tail hazard from the last >= 20 abandonments: relative error ~ 1 / sqrt(events)
    events = 20
    assert rate == pytest.approx(1 / 200, rel=Z999 / math.sqrt(events))
    q90 = km_quantile(curve, 0.9)[0]
    assert q90 > 100.0 and np.isnan(km_quantile(curve, 0.9, tail=False)[0])
    values = km_quantiles(curve, 200)
    p = (np.arange(200) + 0.5) / 200
    assert np.isfinite(values).all() and (values > 100).sum() == (1 - p < s_c).sum()
    # an explicit tail rate: the true one gives the true quantile
    assert km_quantile(curve, 0.9, tail_rate=1 / 200)[0] == pytest.approx(
        -200 * math.log(0.1), abs=200 * Z999 * curve["se"].iloc[-1] / s_c
    )


def test_patience_input_errors():
    with pytest.raises(DataError, match=r"waits, position 1: expected finite seconds >= 0; got -3\.0"):
        exponential_patience([1, -3], [True, False])
    with pytest.raises(DataError, match="same length"):
        kaplan_meier_patience([1, 2], [True])
    with pytest.raises(ConfigError, match="level"):
        exponential_patience([1], [True], level=95)
    curve = kaplan_meier_patience([1.0, 2.0], [False, False])
    with pytest.raises(DataError, match="min_at_risk=30"):
        km_quantiles(curve, 5)
    with pytest.raises(DataError, match="no abandonment"):
        km_quantiles(curve, 5, min_at_risk=1)


# -- the mapping on tiny logs: midnight, DST, errors naming file, row and column -----------------------------

HEADER = "date\tvru_entry\tvru_exit\tq_start\tq_time\toutcome\ttype\tser_time\tserver"
TINY = [
    HEADER,
    "990201\t7:02:47\t7:02:56\t0:00:00\t0\tAGENT\tPS\t166\tDORIT",
    "990201\t8:09:16\t8:09:22\t8:09:22\t5\tHANG\tPS\t0\tNO_SERVER",
    "990201\t9:00:00\t9:00:10\t9:00:10\t30\tPHANTOM\tNW\t4\tNO_SERVER",
    "990201\t9:10:00\t9:10:20\t0:00:00\t0\tHANG\tNW\t0\tNO_SERVER",
    "990201\t23:59:50\t0:00:05\t0:00:05\t40\tAGENT\tNW\t60\tAVI",
]


def _write(tmp_path, lines, name="log.tsv"):
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return path


def test_mapping_file_reads_a_tiny_log(tmp_path):
    m = load_mapping(MAPPING_FILE)
    c = read_contacts(_write(tmp_path, TINY), **m)
    assert c["row"].tolist() == [2, 3, 5, 6]  # the PHANTOM (row 4) is gone
    assert c["arrival"].iloc[-1] == pd.Timestamp("1999-02-02 00:00:05", tz=TZ)  # crossed midnight
    assert c["queued"].tolist() == [False, True, False, True]
    assert c["offered"].tolist() == [True, True, False, True]
    s = contact_stats(_write(tmp_path, TINY), **m)
    assert s["volume"].sum() == 3 and s["abandoned"].sum() == 1 and s["abandoned_unqueued"].sum() == 1
    assert s["interval_start"].min() == pd.Timestamp("1999-02-01", tz=TZ) and len(s) == 2 * 2 * 96
    included = contact_stats(_write(tmp_path, TINY), **(m | {"unqueued_abandoned": "include"}))
    assert included["volume"].sum() == 4 and included["abandoned"].sum() == 2


def test_dst_changes_in_jerusalem(tmp_path):
    m = load_mapping(MAPPING_FILE)
    spring = [HEADER, "240329\t2:30:00\t2:30:10\t2:30:10\t5\tAGENT\tPS\t60\tA"]
    with pytest.raises(DataError, match=r"log\.tsv: column 'vru_exit', row 2: .*skipped by a DST"):
        read_contacts(_write(tmp_path, spring), **m)
    autumn = [HEADER, "241027\t1:30:00\t1:30:10\t1:30:10\t5\tAGENT\tPS\t60\tA"]
    with pytest.raises(DataError, match=r"column 'vru_exit', row 2: .*ambiguous"):
        read_contacts(_write(tmp_path, autumn), **m)
    early = read_contacts(_write(tmp_path, autumn), **(m | {"ambiguous": "earlier"}))["arrival"].iloc[0]
    late = read_contacts(_write(tmp_path, autumn), **(m | {"ambiguous": "later"}))["arrival"].iloc[0]
    assert (
        early.isoformat() == "2024-10-27T01:30:10+03:00" and late.isoformat() == "2024-10-27T01:30:10+02:00"
    )


@pytest.mark.parametrize(
    ("row", "column", "field", "bad", "text"),
    [
        (3, "date", 0, "99021x", "a date in format '%y%m%d'"),
        (5, "vru_exit", 2, "9:1O:20", "a time of day in format '%H:%M:%S'"),
        (2, "outcome", 5, "TRANSFER", "an outcome listed in the outcomes mapping"),
        (6, "q_time", 4, "-4", "wait seconds >= 0"),
        (3, "ser_time", 7, "abc", "handle seconds >= 0"),
        (5, "type", 6, "XX", "are not in channel_map"),
    ],
)
def test_errors_name_file_row_and_column(tmp_path, row, column, field, bad, text):
    lines = list(TINY)
    parts = lines[row - 1].split("\t")
    parts[field] = bad
    lines[row - 1] = "\t".join(parts)
    with pytest.raises(DataError) as err:
        contact_stats(_write(tmp_path, lines), **load_mapping(MAPPING_FILE))
    msg = str(err.value)
    assert "log.tsv" in msg and f"column '{column}', row {row}" in msg and text in msg, msg
    assert bad in msg


def test_dropped_rows_are_not_validated(tmp_path):
    lines = list(TINY)
    lines[3] = "99xx01\tnoon\t?\t?\t-1\tPHANTOM\tZZ\t?\tX"  # a PHANTOM row with garbage everywhere
    assert len(read_contacts(_write(tmp_path, lines), **load_mapping(MAPPING_FILE))) == 4


def test_mapping_and_option_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("tz: UTC\ncolumn: {arrival: t}\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:column: unknown key\(s\) \['column'\]"):
        load_mapping(bad)
    path = _write(tmp_path, TINY)
    m = load_mapping(MAPPING_FILE)
    with pytest.raises(ConfigError, match=r"columns\.agent: agents=True needs the agent column"):
        read_contacts(
            path, **(m | {"columns": {k: v for k, v in m["columns"].items() if k != "agent"}}), agents=True
        )
    with pytest.raises(ConfigError, match="unqueued_abandoned"):
        read_contacts(path, **(m | {"unqueued_abandoned": "drop"}))
    with pytest.raises(ConfigError, match=r"outcomes\.drop: value 'hang' is in both"):
        read_contacts(path, **(m | {"outcomes": {"abandoned": ["HANG"], "drop": ["hang"]}}))
    with pytest.raises(DataError, match=r"missing column 'nope' \(named in na_values\)"):
        read_contacts(path, **(m | {"na_values": {"nope": ["x"]}}))
