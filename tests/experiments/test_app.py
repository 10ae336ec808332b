"""End to end: Hydra's compose API on the tiny scenario, real SCIP, SimPy and MLflow on SQLite."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_module

from experiments.app import run
from sim import Schedule


def _cfg(tmp_path, *overrides):
    with initialize_config_module(config_module="conf", version_base="1.3"):
        return compose(
            "config",
            overrides=[
                "scenario=tiny",
                "sim.replications=4",
                f"tracking.uri=sqlite:///{tmp_path}/mlflow.db",
                f"tracking.artifact_root={tmp_path}/artifacts",
                "quiet=true",
                *overrides,
            ],
        )


def test_end_to_end_files_and_mlflow_run(tmp_path):
    cfg = _cfg(tmp_path)
    out = tmp_path / "run"
    summary = run(cfg, out_dir=out)
    for name in (
        "schedule.csv",
        "metrics.csv",
        "summary.json",
        "coverage.png",
        "service_level.png",
        "forecast.csv",
        "requirements.csv",
    ):
        assert (out / name).stat().st_size > 0, name
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["channels"]["voice"]["sl_definition"] == "offered"
    # staffing figures recomputed independently from schedule.csv
    sched = pd.read_csv(out / "schedule.csv", keep_default_na=False)
    hours = 0.0
    for r in sched.itertuples():
        length = (pd.Timestamp(r.end) - pd.Timestamp(r.start)).total_seconds() / 3600
        brk = sum(
            (pd.Timedelta(b.split("-")[1] + ":00") - pd.Timedelta(b.split("-")[0] + ":00")).total_seconds()
            / 3600
            for b in r.breaks.split(";")
            if b
        )
        hours += r.count * (length - brk)
    assert on_disk["staffing"]["agent_hours_total"] == pytest.approx(hours)
    assert on_disk["staffing"]["cost_total"] == pytest.approx(25.0 * hours)
    assert on_disk["solve"]["objective"] == pytest.approx(25.0 * hours)
    assert 0 <= on_disk["solve"]["gap"] <= 0.01 and on_disk["reproducible"] is True
    # metrics.csv: one row per channel x interval; pooled SL over the day equals the summary within CI logic
    m = pd.read_csv(out / "metrics.csv")
    assert len(m) == 1 * 48 and set(m["channel"]) == {"voice"}
    # schedule.csv reads back to the same coverage
    from experiments.config import build_scenario

    sc = build_scenario(cfg.scenario)
    back = Schedule.read_csv(out / "schedule.csv", sc.grid.tz)
    np.testing.assert_allclose(
        back.coverage(sc.grid, sc.group_names).sum(0)[m["interval"]], m["on_duty_serving_groups"]
    )
    # the MLflow run holds the metrics and the files
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    exp = client.get_experiment_by_name("wfmlab")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1
    r = runs[0]
    assert r.info.run_id == summary["mlflow_run_id"]
    assert r.data.metrics["voice.service_level"] == pytest.approx(
        on_disk["channels"]["voice"]["service_level"]
    )
    assert r.data.metrics["cost_total"] == pytest.approx(on_disk["staffing"]["cost_total"])
    assert r.data.params["seed"] == "0" and r.data.params["scenario.name"] == "tiny"
    assert r.data.tags["solver"] == "scip" and r.data.tags["git_commit"]
    hist = client.get_metric_history(r.info.run_id, "voice.interval_service_level")
    assert len(hist) == m["service_level"].notna().sum()
    arts = {a.path for a in client.list_artifacts(r.info.run_id)}
    assert {"schedule.csv", "metrics.csv", "summary.json", "coverage.png"} <= arts


def test_same_seed_same_summary_except_timing(tmp_path):
    a = run(_cfg(tmp_path, "seed=7", "tracking=none"), out_dir=tmp_path / "a")
    run(_cfg(tmp_path, "seed=7", "tracking=none"), out_dir=tmp_path / "b")
    c = run(_cfg(tmp_path, "seed=8", "tracking=none"), out_dir=tmp_path / "c")
    ja = json.loads((tmp_path / "a" / "summary.json").read_text())
    jb = json.loads((tmp_path / "b" / "summary.json").read_text())
    ja.pop("timing"), jb.pop("timing")
    assert ja == jb
    assert a["channels"] != c["channels"]


def _cli(tmp_path, *args):
    env = dict(os.environ, HYDRA_FULL_ERROR="0")
    return subprocess.run(
        [sys.executable, "-m", "experiments", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize(
    "override, key",
    [
        ("scenario.interval_min=-15", "scenario.interval_min"),
        ("scenario.channels.voice.kind=fax", "scenario.channels.voice.kind"),
        ("scenario.channels.email.target=1.5", "scenario.channels.email.target"),
        ("sim.replications=0", "sim.replications"),
        ("staffing.method=erlang_b", "staffing.method"),
    ],
)
def test_bad_overrides_stop_before_work_naming_the_key(tmp_path, override, key):
    p = _cli(tmp_path, override, "tracking=none")
    assert p.returncode == 2, p.stderr
    assert key in p.stderr and "expected" in p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    assert not list(Path(tmp_path).rglob("summary.json"))
    assert not list(Path(tmp_path).rglob("schedule.csv"))


def test_help_and_cfg_job(tmp_path):
    p = _cli(tmp_path, "--help")
    assert p.returncode == 0 and "scenario: bank, demo, tiny" in p.stdout
    p = _cli(tmp_path, "--cfg", "job")
    assert p.returncode == 0 and "channels:" in p.stdout and "seed: 0" in p.stdout


def test_own_history_file_through_the_config(tmp_path):
    """scenario.history.source=intervals reads a user's interval volumes with a column mapping."""
    import forecast

    hist = forecast.synthetic_history(
        {
            "voice": forecast.SyntheticChannel(
                daily_volume=250, open_hour=7, close_hour=17, peaks=((11, 2, 1),), aht_s=240
            )
        },
        start="2025-12-22",
        days=14,
        interval_min=30,
        tz="UTC",
        seed=3,
    )
    hist = hist.rename(columns={"interval_start": "ts", "channel": "queue", "volume": "calls"})
    hist["ts"] = hist["ts"].map(lambda t: t.isoformat())
    path = tmp_path / "volumes.csv"
    hist.to_csv(path, index=False)
    cols = "{timestamp: ts, channel: queue, volume: calls, aht_s: aht_s}"
    summary = run(
        _cfg(
            tmp_path,
            "tracking=none",
            "scenario.history.source=intervals",
            f"scenario.history.path={path}",
            f"scenario.history.columns={cols}",
        ),
        out_dir=tmp_path / "own",
    )
    fc = pd.read_csv(tmp_path / "own" / "forecast.csv")
    # the seasonal average of the two weeks given, Monday 2026-01-05 from Mondays 12-22 and 12-29
    h = pd.read_csv(path)
    mondays = h[pd.to_datetime(h["ts"]).dt.day_of_week == 0]
    assert fc["volume"].sum() == pytest.approx(mondays["calls"].sum() / 2)
    assert summary["channels"]["voice"]["offered_per_replication"] > 0


def test_missing_history_file_is_a_clear_error(tmp_path):
    p = _cli(
        tmp_path,
        "scenario=tiny",
        "tracking=none",
        "scenario.history.source=intervals",
        "scenario.history.path=nope.csv",
    )
    assert p.returncode == 2 and "nope.csv" in p.stderr and "Traceback" not in p.stderr


def test_parallel_sweep_logs_one_mlflow_run_per_job(tmp_path):
    """Hydra's basic sweeper with the joblib launcher; the jobs share one SQLite store without racing."""
    p = _cli(
        tmp_path,
        "-m",
        "seed=1,2,3",
        "scenario=tiny",
        "sim.replications=3",
        "quiet=true",
        "hydra/launcher=joblib",
    )
    assert p.returncode == 0, p.stderr[-2000:]
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/results/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name("wfmlab").experiment_id])
    assert sorted(r.data.tags["seed"] for r in runs) == ["1", "2", "3"]
    assert len(list((tmp_path / "results" / "multirun").rglob("summary.json"))) == 3


def test_staffing_options_compose_and_validate():
    from hydra import compose, initialize_config_module

    from experiments.config import validate
    from forecast.errors import ConfigError

    with initialize_config_module(config_module="conf", version_base="1.3"):
        cfg = compose("config", overrides=["staffing=erlang_a", "tracking=none"])
        bad = compose("config", overrides=["staffing.max_occupancy=1.5", "tracking=none"])
    st = validate(cfg)["staffing"]
    assert st["method"] == "erlang_a" and st["uncertainty"] is True and st["email"] == "workload"
    with pytest.raises(ConfigError, match="staffing.max_occupancy"):
        validate(bad)


def test_schedule_options_compose_and_validate(tmp_path):
    """The flex_week preset validates to tours and short breaks; bad schedule keys name their key path."""
    from experiments.config import validate
    from forecast.errors import ConfigError

    with initialize_config_module(config_module="conf", version_base="1.3"):
        flex = compose("config", overrides=["schedule=flex_week", "tracking=none"])
        bad_email = compose("config", overrides=["schedule.email=fax"])
        bad_week = compose("config", overrides=["schedule=flex_week", "schedule.week.days_per_week=9"])
        bad_break = compose(
            "config", overrides=["schedule.short_breaks=[{minutes: 15, earliest_h: 3.0, latest_h: 3.5}]"]
        )
        bad_cat = compose("config", overrides=[f"schedule.catalogue={tmp_path}/none.csv"])
    v = validate(flex)
    assert v["schedule"]["week"].days_per_week == (4, 5) and len(v["rules"].short_breaks) == 2
    assert v["rules"].paid_break_minutes == {15}
    with pytest.raises(ConfigError, match=r"schedule.email: expected one of"):
        validate(bad_email)
    with pytest.raises(ConfigError, match=r"schedule.week.days_per_week: expected a value in \[1, 7\]"):
        validate(bad_week)
    with pytest.raises(ConfigError, match=r"schedule.short_breaks: .*must follow each other"):
        validate(bad_break)
    with pytest.raises(ConfigError, match=r"schedule.catalogue: .*not found"):
        validate(bad_cat)


def test_paid_short_breaks_end_to_end(tmp_path):
    """A paid 15-min break and an unpaid 30-min lunch: the objective is paid hours x cost recomputed from
    schedule.csv counting only the lunch as unpaid."""
    cfg = _cfg(
        tmp_path,
        "tracking=none",
        "scenario.interval_min=15",
        "schedule.start_step_min=60",
        "schedule.short_breaks=[{minutes: 15, earliest_h: 1.0, latest_h: 2.0}]",
    )
    out = tmp_path / "run"
    summary = run(cfg, out_dir=out)
    sched = pd.read_csv(out / "schedule.csv", keep_default_na=False)
    hours = 0.0
    for r in sched.itertuples():
        length = (pd.Timestamp(r.end) - pd.Timestamp(r.start)).total_seconds() / 3600
        parts = [b.split("-") for b in r.breaks.split(";")]
        mins = sorted(
            (pd.Timedelta(b + ":00") - pd.Timedelta(a + ":00")).total_seconds() / 60 for a, b in parts
        )
        assert mins == [15, 30]
        hours += r.count * (length - 0.5)
    assert summary["staffing"]["agent_hours_total"] == pytest.approx(hours)
    assert summary["solve"]["objective"] == pytest.approx(25.0 * hours)


def test_roster_through_the_config(tmp_path):
    """schedule.roster names agents in schedule.csv (pseudonymised when asked); an incomplete roster is
    flagged in summary.json and roster.txt; a missing agents file names its key."""
    from experiments.config import validate
    from forecast.errors import ConfigError

    names = [f"Agent{i:02d}" for i in range(12)]
    agents = tmp_path / "agents.csv"
    pd.DataFrame({"agent": names, "skill_group": "agents"}).to_csv(agents, index=False)
    cfg = _cfg(tmp_path, "tracking=none", f"schedule.roster={{agents: {agents}, pseudonymise: salt}}")
    summary = run(cfg, out_dir=tmp_path / "run")
    sched = pd.read_csv(tmp_path / "run" / "schedule.csv", keep_default_na=False)
    assert summary["roster"]["roster_complete"] is True
    assert (sched["count"] == 1).all() and sched["agent"].str.startswith("agent-").all()
    assert sched["agent"].is_unique  # one day: one shift per agent
    assert not set(names) & set((tmp_path / "run" / "schedule.csv").read_text().split(","))
    few = tmp_path / "few.csv"
    pd.DataFrame({"agent": ["Ann"], "skill_group": ["agents"]}).to_csv(few, index=False)
    summary = run(
        _cfg(tmp_path, "tracking=none", f"schedule.roster={{agents: {few}}}"), out_dir=tmp_path / "few"
    )
    assert summary["roster"]["roster_complete"] is False and summary["roster"]["roster_assigned"] == 1
    assert "INCOMPLETE" in (tmp_path / "few" / "roster.txt").read_text()
    with pytest.raises(ConfigError, match=r"schedule.roster.agents: expected a CSV file of agents"):
        validate(_cfg(tmp_path, f"schedule.roster={{agents: {tmp_path}/none.csv}}"))


def test_shift_catalogue_in_the_config_with_its_own_costs(tmp_path):
    """schedule.catalogue as a list: the MIP chooses among those shifts only, and the reported cost is each
    shift's own cost (or paid hours x 25 without one), recomputed here from schedule.csv."""
    cat = (
        '[{name: early, start: "07:00", end: "15:00", breaks: "11:00-11:30"},'
        ' {name: late, start: "09:00", end: "17:00", breaks: "13:00-13:30", cost: 150}]'
    )
    summary = run(_cfg(tmp_path, "tracking=none", f"schedule.catalogue={cat}"), out_dir=tmp_path / "run")
    sched = pd.read_csv(tmp_path / "run" / "schedule.csv", keep_default_na=False)
    assert set(zip(sched["start"].str[11:16], sched["end"].str[11:16])) <= {
        ("07:00", "15:00"),
        ("09:00", "17:00"),
    }
    own = sched["count"] * np.where(sched["start"].str[11:16] == "09:00", 150.0, 7.5 * 25.0)
    assert summary["staffing"]["cost_total"] == pytest.approx(own.sum())
    assert summary["solve"]["objective"] == pytest.approx(own.sum())
    from experiments.config import validate
    from forecast.errors import ConfigError

    with pytest.raises(ConfigError, match=r"schedule.catalogue\[0\]: unknown key"):
        validate(_cfg(tmp_path, "schedule.catalogue=[{name: a, start: '07:00', end: '15:00', price: 3}]"))


def test_the_bank_experiment_runs_on_the_shipped_real_data(tmp_path):
    """+experiment=bank: the bank's February 1999 history (shipped in forecast/data, not ../shared), one
    voice queue per call type, Erlang A with the measured patience; its forecast of March keeps the queues."""
    with initialize_config_module(config_module="conf", version_base="1.3"):
        cfg = compose(
            "config",
            overrides=[
                "+experiment=bank",
                "forecast=seasonal_average",
                "tracking=none",
                "sim.replications=2",
                "quiet=true",
            ],
        )
    summary = run(cfg, out_dir=tmp_path / "run")
    queues = {"voice_PS", "voice_NW", "voice_NE", "voice_TT", "voice_IN", "voice_PE"}
    assert set(summary["channels"]) == queues
    fc = pd.read_csv(tmp_path / "run" / "forecast.csv")
    assert set(fc["channel"]) == queues and fc["interval_start"].str.startswith("1999-03-0").all()
    from forecast.bank import bank_history

    hist = bank_history()
    # the seasonal average of the 4 February Mondays at 10:00 for PS, recomputed from the shipped history
    ts = pd.to_datetime(hist["interval_start"], utc=True).dt.tz_convert("Asia/Jerusalem")
    sel = (hist["channel"] == "voice_PS") & (ts.dt.day_of_week == 0) & (ts.dt.strftime("%H:%M") == "10:00")
    row = fc[(fc["channel"] == "voice_PS") & (fc["interval_start"].str.startswith("1999-03-01T10:00"))]
    assert row["volume"].item() == pytest.approx(hist.loc[sel, "volume"].mean())


def test_forecast_model_chosen_per_queue_by_backtest_on_the_bank(tmp_path):
    """forecast=select on the bank: each queue's model is the candidate with the lowest WAPE on the selection
    origins (read back from forecast_backtest.csv), graded on later origins; the run writes the tables and
    the forecast-vs-actual plot, and the forecast carries its 10/50/90% quantiles."""
    with initialize_config_module(config_module="conf", version_base="1.3"):
        cfg = compose(
            "config", overrides=["+experiment=bank", "tracking=none", "sim.replications=2", "quiet=true"]
        )
    summary = run(cfg, out_dir=tmp_path / "run")
    out = tmp_path / "run"
    table = pd.read_csv(out / "forecast_backtest.csv")
    chosen = summary["forecast"]["chosen"]
    assert set(chosen) == set(summary["channels"])
    for ch, rows in table.groupby("channel"):
        best = rows.loc[rows["select_wape"].idxmin(), "model"]
        assert chosen[ch] == best == rows.loc[rows["chosen"], "model"].item()
    assert (out / "forecast_backtest.png").stat().st_size > 0 and (out / "forecast.png").stat().st_size > 0
    fc = pd.read_csv(out / "forecast.csv")
    assert {"q0.1", "q0.5", "q0.9"} <= set(fc.columns)
    assert (fc["q0.1"] <= fc["q0.5"] + 1e-9).all() and (fc["q0.5"] <= fc["q0.9"] + 1e-9).all()


def test_queues_per_channel_and_site_keep_their_key_through_every_stage(tmp_path):
    """A history with a site column: each channel x site is a queue (voice_north, voice_south), forecast,
    staffed, scheduled (a group per site) and simulated under that key; a bad site value names its row."""
    import forecast
    from forecast.errors import DataError

    spec = forecast.SyntheticChannel(
        daily_volume=200, open_hour=7, close_hour=17, peaks=((11, 2, 1),), aht_s=240
    )
    parts = []
    for site, scale in (("north", 1.0), ("south", 2.0)):
        h = forecast.synthetic_history(
            {"voice": spec}, start="2025-12-22", days=14, interval_min=30, tz="UTC", seed=int(scale)
        )
        h["volume"] = (h["volume"] * scale).round()
        parts.append(h.assign(site=site))
    hist = pd.concat(parts, ignore_index=True)
    hist["interval_start"] = hist["interval_start"].map(lambda t: t.isoformat())
    path = tmp_path / "sites.csv"
    hist.to_csv(path, index=False)
    loaded = forecast.load_intervals(path, columns={"site": "site"})
    assert set(loaded["channel"]) == {"voice_north", "voice_south"}
    for site in ("north", "south"):  # volumes kept per queue, recomputed from the file
        assert (
            loaded.loc[loaded["channel"] == f"voice_{site}", "volume"].sum()
            == hist.loc[hist["site"] == site, "volume"].sum()
        )
    over = [
        "tracking=none",
        "scenario.history.source=intervals",
        f"scenario.history.path={path}",
        "scenario.history.columns={site: site}",
        "~scenario.channels.voice",
        "+scenario.channels.voice_north={kind: voice, aht_s: 240, target: 0.8, threshold_s: 20}",
        "+scenario.channels.voice_south={kind: voice, aht_s: 240, target: 0.8, threshold_s: 20}",
        "~scenario.groups.agents",
        "+scenario.groups.north={channels: [voice_north], cost_per_hour: 25}",
        "+scenario.groups.south={channels: [voice_south], cost_per_hour: 25}",
    ]
    summary = run(_cfg(tmp_path, *over), out_dir=tmp_path / "run")
    assert set(summary["channels"]) == {"voice_north", "voice_south"}
    reqs = pd.read_csv(tmp_path / "run" / "requirements.csv")
    fc = pd.read_csv(tmp_path / "run" / "forecast.csv")
    assert set(reqs["channel"]) == set(fc["channel"]) == {"voice_north", "voice_south"}
    vol = fc.groupby("channel")["volume"].sum()
    assert vol["voice_south"] > 1.5 * vol["voice_north"]
    sched = pd.read_csv(tmp_path / "run" / "schedule.csv")
    assert set(sched["skill_group"]) == {"north", "south"}
    bad = hist.copy()
    bad.loc[3, "site"] = "north pole"
    bad.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"column 'site', row 5: expected a site name"):
        forecast.load_intervals(path, columns={"site": "site"})


def test_the_plan_uses_only_history_before_its_start_summed_to_its_interval(tmp_path):
    """A plan starting mid-February uses no later week of the bank's history (seasonal naive = the week
    before), and a 30-minute plan sums the 15-minute history (found by a review: the whole file was used)."""
    from forecast.bank import bank_history

    hist = bank_history()
    ts = pd.to_datetime(hist["interval_start"], utc=True).dt.tz_convert("Asia/Jerusalem")
    ps = hist["channel"] == "voice_PS"

    def vol(day, clocks):
        return hist.loc[
            ps & (ts.dt.strftime("%Y-%m-%d") == day) & ts.dt.strftime("%H:%M").isin(clocks), "volume"
        ]

    base = ["+experiment=bank", "tracking=none", "sim.replications=1", "quiet=true"]
    with initialize_config_module(config_module="conf", version_base="1.3"):
        mid = compose(
            "config", overrides=[*base, "forecast=seasonal_naive", "scenario.start_date=1999-02-15"]
        )
        half = compose("config", overrides=[*base, "forecast=seasonal_average", "scenario.interval_min=30"])
    run(mid, out_dir=tmp_path / "mid")
    fc = pd.read_csv(tmp_path / "mid" / "forecast.csv")
    row = fc[(fc["channel"] == "voice_PS") & fc["interval_start"].str.startswith("1999-02-15T10:00")]
    assert row["volume"].item() == pytest.approx(vol("1999-02-08", ["10:00"]).sum())
    run(half, out_dir=tmp_path / "half")
    fc = pd.read_csv(tmp_path / "half" / "forecast.csv")
    row = fc[(fc["channel"] == "voice_PS") & fc["interval_start"].str.startswith("1999-03-01T10:00")]
    mondays = ["1999-02-01", "1999-02-08", "1999-02-15", "1999-02-22"]
    assert row["volume"].item() == pytest.approx(sum(vol(d, ["10:00", "10:15"]).sum() for d in mondays) / 4)


def test_model_choice_with_too_little_history_names_the_keys(tmp_path):
    from forecast.errors import ConfigError

    with pytest.raises(ConfigError, match=r"forecast.origins: choosing a model by backtest needs 28 days"):
        run(_cfg(tmp_path, "tracking=none", "forecast=select"), out_dir=tmp_path / "run")
