"""The default plan: history -> forecast -> requirements -> schedule MIP -> simulation -> report.

Each stage is a plain function of the packages; this module only wires them and times them.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["run_plan", "derive_seed"]


def derive_seed(seed: int, purpose: int) -> int:
    """A child seed of the run's root SeedSequence for one purpose (history, simulation, ...)."""
    return int(np.random.SeedSequence(int(seed), spawn_key=(purpose,)).generate_state(1, dtype=np.uint32)[0])


class Progress:
    """One line per stage on stderr, with its time."""

    def __init__(self, quiet: bool = False, total: int = 5):
        self.quiet, self.total, self.k = quiet, total, 0
        self.t0 = time.perf_counter()

    def step(self, text: str):
        self.k += 1
        self._t = time.perf_counter()
        if not self.quiet:
            print(f"[{self.k}/{self.total}] {text} ...", file=sys.stderr, flush=True)

    def done(self, text: str = "") -> float:
        dt = time.perf_counter() - self._t
        if not self.quiet:
            print(f"      {text}{' ' if text else ''}({dt:.1f} s)", file=sys.stderr, flush=True)
        return dt


def _catalogue_costs(scenario, schedule, templates) -> tuple[dict, dict]:
    """(cost, paid hours) per skill group of a schedule made of catalogue shifts: each shift's own cost where
    the catalogue gives one, else paid hours x the group's cost per hour, and its paid hours, as in the MIP's
    objective."""
    grid = scenario.grid
    own = {}
    for tp in templates:
        own[(round(tp.start_s), round(tp.end_s), tuple((round(a), round(b)) for a, b in tp.breaks))] = tp
    rate = {g.name: g.cost_per_hour for g in scenario.groups}
    out = dict.fromkeys(scenario.group_names, 0.0)
    hours = dict.fromkeys(scenario.group_names, 0.0)
    for r in schedule.shifts.itertuples():
        brk = tuple(sorted((round(grid.seconds(a)), round(grid.seconds(b))) for a, b in r.breaks))
        tp = own.get((round(grid.seconds(r.start)), round(grid.seconds(r.end)), brk))
        if tp is None:  # cannot happen: every shift of the schedule is one of the templates
            raise RuntimeError(f"schedule row {r.Index}: not a shift of the catalogue")
        out[r.skill_group] += r.count * (tp.cost if tp.cost is not None else tp.paid_h * rate[r.skill_group])
        hours[r.skill_group] += r.count * tp.paid_h
    return out, hours


def history_for(values: dict, scenario) -> pd.DataFrame:
    """The contact history the forecast is fitted on: synthetic weeks before the plan, a file, or the
    bank's February 1999 shipped with wfmlab."""
    import forecast

    h = values["history"]
    if h["source"] == "synthetic":
        start = scenario.grid.start.tz_localize(None).normalize() - pd.Timedelta(weeks=h["weeks"])
        return forecast.synthetic_history(
            values["synthetic"],
            start=start,
            days=7 * h["weeks"],
            interval_min=scenario.grid.interval_min,
            tz=str(scenario.grid.tz),
            seed=derive_seed(values["seed"], 1),
        )
    if h["source"] == "bank":  # the bank's 28 days of February 1999, shipped with wfmlab
        from forecast.bank import bank_history
        from forecast.errors import ConfigError

        hist = bank_history()
        missing = sorted(set(scenario.channel_names) - set(hist["channel"]))
        if missing:
            raise ConfigError(
                f"channel(s) {missing} are not queues of the bank data ({sorted(set(hist['channel']))})",
                key="scenario.channels",
            )
    else:
        hist = forecast.load_intervals(h["path"], columns=h["columns"], tz=str(scenario.grid.tz))
    return _before_plan(hist, scenario, h["weeks"], h["source"])


def _before_plan(hist: pd.DataFrame, scenario, weeks: int, source: str) -> pd.DataFrame:
    """The history the plan may use: the ``weeks`` weeks before the plan's first interval (never after it),
    in the scenario's time zone, summed to the scenario's interval length when the history is finer."""
    from forecast.errors import ConfigError

    start = scenario.grid.start
    ts = pd.DatetimeIndex(hist["interval_start"]).tz_convert(scenario.grid.tz)
    keep = (ts < start) & (ts >= start - pd.Timedelta(weeks=weeks))
    if not keep.any():
        first, last = ts.min(), ts.max()
        raise ConfigError(
            f"the {source} history ({first:%Y-%m-%d} to {last:%Y-%m-%d}) has nothing in the {weeks} weeks "
            f"before the plan starts ({start:%Y-%m-%d}); move scenario.start_date or scenario.history.weeks",
            key="scenario.start_date",
        )
    hist = hist[keep].reset_index(drop=True)
    hist["interval_start"] = pd.DatetimeIndex(hist["interval_start"]).tz_convert(scenario.grid.tz)
    step = pd.Series(hist["interval_start"].sort_values().unique()).diff().min()
    target = pd.Timedelta(minutes=scenario.grid.interval_min)
    if pd.notna(step) and step < target:  # e.g. the bank's 15-minute history for a 30-minute plan
        if target % step:
            raise ConfigError(
                f"the history's {step.total_seconds() / 60:g}-minute intervals do not divide the scenario's "
                f"{scenario.grid.interval_min} minutes",
                key="scenario.interval_min",
            )
        hist = _coarser(hist, scenario.grid.interval_min)
    return hist


def _coarser(hist: pd.DataFrame, minutes: int) -> pd.DataFrame:
    """Volumes summed to ``minutes``-long intervals (local clock blocks), AHT volume-weighted."""
    ts = pd.DatetimeIndex(hist["interval_start"])
    local = ts.tz_localize(None)
    key = ts - (local - local.floor(f"{minutes}min"))  # the block's start, the same instant offset-wise
    df = pd.DataFrame(
        {
            "channel": hist["channel"].to_numpy(),
            "interval_start": key,
            "volume": hist["volume"].to_numpy(float),
            "work": (hist["volume"] * hist["aht_s"].fillna(0.0)).to_numpy(float),
            "handled": np.where(hist["aht_s"].notna(), hist["volume"], 0.0),
        }
    )
    g = df.groupby(["channel", "interval_start"], sort=True).sum().reset_index()
    g["aht_s"] = np.where(g["handled"] > 0, g["work"] / g["handled"].where(g["handled"] > 0, 1.0), np.nan)
    return g[["channel", "interval_start", "volume", "aht_s"]]


def run_plan(values: dict, out_dir: Path, *, quiet: bool = False) -> dict:
    """Run the whole plan; write its files into ``out_dir``; return everything the report needs."""
    from optim import requirements
    from optim.schedule import solve, templates_from_table
    from sim import simulate

    scenario = values["scenario"]
    timing = {}
    prog = Progress(quiet, total=6 if values["schedule"].get("roster") else 5)

    prog.step(
        f"history: {values['history']['source']}, {values['history']['weeks']} weeks, "
        f"{len(scenario.channels)} channels"
    )
    hist = history_for(values, scenario)
    timing["history_s"] = prog.done(f"{int(hist['volume'].sum()):,} contacts")

    from experiments.tasks.forecasting import run_forecast

    fm = values["forecast"]
    how = f" (chosen per channel from {len(fm['candidates'])} by backtest)" if fm["model"] == "select" else ""
    prog.step(f"forecast: {fm['model']}{how} for {scenario.grid.n_days} days")
    fc, fc_extras = run_forecast(fm, hist, scenario)
    timing["forecast_s"] = prog.done(f"{fc['volume'].sum():,.0f} contacts expected")

    st = values["staffing"]
    prog.step(
        f"requirements: {st['method'].replace('_', ' ').title()} (voice, chat), "
        f"{'workload over deadline' if st['email'] == 'workload' else 'backlog within deadline'} (email)"
        + (", with forecast uncertainty" if st["uncertainty"] else "")
    )
    reqs = requirements(fc, scenario, **st)
    peak = reqs.groupby("interval")["agents"].sum().max()
    timing["requirements_s"] = prog.done(f"peak {peak:.0f} agents on the floor")

    email_txt = (
        "a backlog within its deadline" if values["schedule"]["email"] == "flow" else "per-interval agents"
    )
    prog.step(
        f"schedule: shift MIP with {values['solver'].name.upper()} "
        f"(gap {values['solver'].rel_gap:g}, limit {values['solver'].time_limit_s:g} s), "
        f"{values['schedule']['targets']} targets, email as {email_txt}"
        + (", week of tours" if values["schedule"]["week"] is not None else "")
    )
    opts = dict(values["schedule"])
    roster_cfg = opts.pop("roster", None)
    catalogue = opts.pop("catalogue", None)
    if catalogue is not None:
        table = pd.DataFrame(catalogue).astype(str) if isinstance(catalogue, list) else catalogue
        opts["templates"] = templates_from_table(
            table,
            scenario,
            paid_breaks=values["rules"].paid_breaks,
            source="schedule.catalogue" if isinstance(catalogue, list) else "templates",
            list_rows=isinstance(catalogue, list),
        )
    schedule, report = solve(
        scenario,
        reqs,
        rules=values["rules"],
        solver=values["solver"],
        patience=values["staffing"]["method"] == "erlang_a",
        **opts,
    )
    timing["schedule_s"] = prog.done(
        f"{len(schedule)} shifts, cost {report.objective:,.0f}, gap {100 * report.gap:.2f}% ({report.status})"
        + (f", headcount {sum(report.headcount.values())}" if report.headcount else "")
    )
    cost_by_group = None
    if catalogue is not None:  # a catalogue's own costs and paid hours, exactly as in the MIP's objective
        cost_by_group = _catalogue_costs(scenario, schedule, opts["templates"])
    roster_report = None
    if roster_cfg is not None:
        from optim.schedule import roster
        from sim import Schedule

        prog.step(f"roster: agents from {roster_cfg['agents']}, {roster_cfg['min_rest_h']:g} h rest")
        lines = schedule.to_frame().assign(agent="")  # week mode's anonymous lines give way to names
        schedule, roster_report = roster(
            Schedule.from_frame(lines, scenario.grid.tz),
            roster_cfg["agents"],
            tz=scenario.grid.tz,
            min_rest_h=roster_cfg["min_rest_h"],
            solver=values["solver"],
            pseudonymise=roster_cfg["pseudonymise"],
            skill_groups=scenario.group_names,
            paid_breaks=values["rules"].paid_break_minutes,
        )
        timing["roster_s"] = prog.done(
            f"{roster_report.n_assigned} of {roster_report.n_shifts} shifts assigned"
            + ("" if roster_report.complete else f", {roster_report.n_unfilled} UNFILLED")
        )

    prog.step(f"simulate: {values['replications']} replications")
    res = simulate(
        scenario,
        schedule,
        forecast=fc,
        replications=values["replications"],
        seed=derive_seed(values["seed"], 2),
        workers=values["workers"],
    )
    timing["simulate_s"] = prog.done()
    return {
        "history": hist,
        "forecast": fc,
        "forecast_extras": fc_extras,
        "requirements": reqs,
        "schedule": schedule,
        "solve": report,
        "roster": roster_report,
        "catalogue_costs": cost_by_group,
        "result": res,
        "timing": timing,
        "progress": prog,
    }
