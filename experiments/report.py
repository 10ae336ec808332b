"""Reports of a plan: ``summary.json``, ``metrics.csv``, plots and the summary table.

Files are written whole (temporary file, then rename)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.staffing import write_atomic

__all__ = ["summarize", "write_outputs", "format_table", "plot_coverage", "plot_service_level"]


def _clean(x):
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _forecast_summary(values: dict, out: dict) -> dict:
    fm = values["forecast"]
    d = {"model": fm["model"]}
    sel = (out.get("forecast_extras") or {}).get("selection")
    if sel is not None:
        d["chosen"] = dict(sel.chosen)
        d["backtest"] = {
            r["channel"]: {k: r[k] for k in ("model", "wape", "baseline_wape", "beats_baseline", "coverage")}
            for r in sel.summary.to_dict("records")
        }
    return d


def summarize(values: dict, out: dict) -> dict:
    """The run summary (deterministic for a config and seed, except the ``timing`` block)."""
    scenario = values["scenario"]
    res = out["result"]
    schedule = out["schedule"]
    report = out["solve"]
    summ = res.summary()
    check = res.target_check().set_index("channel")
    days = res.by_day()
    channels = {}
    for r in summ.to_dict("records"):
        ch = scenario.channel(r["channel"])
        tc = check.loc[r["channel"]]
        d = {
            "kind": r["kind"],
            "sl_definition": r["sl_definition"],
            "target": ch.target,
            "scope": str(ch.scope),
            "offered_per_replication": r["offered"],
            "service_level": r["service_level"],
            "service_level_ci95": [r["service_level_ci_low"], r["service_level_ci_high"]],
            "target_met": bool(tc["target_met"]),
            "intervals_meeting_target": tc["intervals_meeting_target"],
            "worst_day_service_level": tc["worst_day_service_level"],
            "service_level_by_day": days.loc[days["channel"] == r["channel"], "service_level"].tolist(),
            "asa_s": r["asa_s"],
            "abandon_rate": r["abandon_rate"],
            "occupancy": r["occupancy"],
        }
        if ch.kind == "email":
            d["deadline_h"] = ch.deadline_h
            d["answered_within_deadline"] = r["service_level"]
        else:
            d["threshold_s"] = ch.threshold_s
        channels[r["channel"]] = d
    paid = schedule.paid_hours(values["rules"].paid_break_minutes)
    cost = {g.name: float(paid.get(g.name, 0.0)) * g.cost_per_hour for g in scenario.groups}
    if out.get("catalogue_costs") is not None:  # a shift catalogue: its own costs and paid hours per shift
        cost = {g: float(v) for g, v in out["catalogue_costs"][0].items()}
        paid = pd.Series(out["catalogue_costs"][1], dtype=float)
    cov = schedule.coverage(scenario.grid, scenario.group_names)
    solve = report.to_dict()
    solve.pop("time_s")
    return _clean(
        {
            "scenario": scenario.name,
            "seed": values["seed"],
            "sl_definition": str(scenario.sl_definition),
            "horizon": {
                "start": scenario.grid.start.isoformat(),
                "days": scenario.grid.n_days,
                "interval_min": scenario.grid.interval_min,
            },
            "replications": values["replications"],
            "channels": channels,
            "staffing": {
                "shifts": len(schedule),
                "agent_hours": {g: float(paid.get(g, 0.0)) for g in scenario.group_names},
                "agent_hours_total": float(paid.sum()),
                "cost": cost,
                "cost_total": float(sum(cost.values())),
                "peak_on_duty": {g: float(cov[i].max(initial=0)) for i, g in enumerate(scenario.group_names)},
                "shrinkage": scenario.shrinkage,
            },
            "forecast": _forecast_summary(values, out),
            "solve": solve,
            "roster": out["roster"].to_dict() if out.get("roster") is not None else None,
            "reproducible": report.reproducible,
            "timing": {k: round(v, 3) for k, v in out["timing"].items()}
            | {"solve_s": round(report.time_s, 3)},
        }
    )


def metrics_table(values: dict, out: dict) -> pd.DataFrame:
    """Per channel x interval: forecast, requirement, agents on duty in its groups, simulated figures."""
    scenario = values["scenario"]
    per = out["result"].per_interval()
    reqs = out["requirements"][["channel", "interval", "volume", "aht_s", "agents"]].rename(
        columns={"volume": "forecast_volume", "aht_s": "forecast_aht_s", "agents": "required_agents"}
    )
    df = per.merge(reqs, on=["channel", "interval"], how="left")
    cov = out["schedule"].coverage(scenario.grid, scenario.group_names)
    gi = {g: i for i, g in enumerate(scenario.group_names)}
    on_duty = np.zeros(len(df))
    for name in scenario.channel_names:
        m = (df["channel"] == name).to_numpy()
        groups = [gi[g.name] for g in scenario.groups if name in g.channels]
        on_duty[m] = cov[groups].sum(axis=0)[df.loc[m, "interval"].to_numpy()]
    df["on_duty_serving_groups"] = on_duty
    df["interval_start"] = df["interval_start"].map(lambda t: t.isoformat())
    cols = [
        "channel",
        "interval",
        "interval_start",
        "forecast_volume",
        "forecast_aht_s",
        "required_agents",
        "on_duty_serving_groups",
        "offered",
        "service_level",
        "asa_s",
        "abandon_rate",
        "occupancy",
        "queue_end",
        "busy_agents",
    ]
    return df[cols]


def plot_coverage(values: dict, out: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenario = values["scenario"]
    grid = scenario.grid
    cov = out["schedule"].coverage(grid, scenario.group_names)
    reqs = out["requirements"]
    need = reqs.groupby("interval")["agents"].sum().reindex(range(grid.n), fill_value=0).to_numpy()
    x = grid.starts.tz_localize(None)
    fig, ax = plt.subplots(figsize=(12, 4.5))
    ax.stackplot(x, cov, labels=[f"on duty: {g}" for g in scenario.group_names], step="post", alpha=0.5)
    ax.step(
        x,
        need / (1 - scenario.shrinkage),
        where="post",
        color="k",
        lw=1.2,
        label=f"requirement / (1 - shrinkage {scenario.shrinkage:g})",
    )
    ax.step(x, need, where="post", color="k", lw=0.8, ls="--", label="requirement on the floor")
    ax.set_ylabel("agents")
    ax.set_title(f"{scenario.name}: scheduled agents on duty (after breaks) vs requirement")
    ax.legend(loc="upper right", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    plt.close(fig)
    return path


def plot_service_level(values: dict, out: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenario = values["scenario"]
    per = out["result"].per_interval()
    n = len(scenario.channels)
    fig, axes = plt.subplots(n, 1, figsize=(12, 2.6 * n), sharex=True, squeeze=False)
    for ax, ch in zip(axes[:, 0], scenario.channels):
        d = per[per["channel"] == ch.name]
        x = pd.DatetimeIndex(d["interval_start"]).tz_localize(None)
        ax.plot(x, d["service_level"], lw=0.9, label="simulated")
        ax.axhline(ch.target, color="r", ls="--", lw=1, label=f"target {ch.target:g}")
        what = (
            f"answered within {ch.deadline_h:g} h"
            if ch.kind == "email"
            else f"answered within {ch.threshold_s:g} s ({scenario.sl_definition})"
        )
        ax.set_title(f"{ch.name} ({ch.kind}): {what}", fontsize=9)
        ax.set_ylim(-0.02, 1.02)
        ax.legend(loc="lower right", fontsize=7)
    fig.autofmt_xdate()
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    plt.close(fig)
    return path


def _plot_forecast(values: dict, out: dict, out_dir: Path) -> Path:
    """The forecast of the horizon per channel with its 80% prediction band."""
    from forecast import plot_forecast

    return plot_forecast(
        out["forecast"],
        None,
        out_dir / "forecast.png",
        title=f"{values['scenario'].name}: forecast, 80% band",
    )


def _plot_backtest(values: dict, out: dict, path: Path) -> Path:
    """Forecast versus actual at the last evaluation origin of the model selection: each channel's chosen
    model fitted on the history before that origin, with its 80% band."""
    import forecast
    from experiments.tasks.forecasting import factory
    from forecast.selection import chosen_backtest

    sel = out["forecast_extras"]["selection"]
    fm = values["forecast"]
    facts = {name: factory(name, fm) for name in set(sel.chosen.values())}
    origin = sel.eval_origins[-1]
    fc, actual = chosen_backtest(facts, sel.chosen, out["history"], origin, fm["horizon_days"])
    return forecast.plot_forecast(
        fc, actual, path, title=f"chosen models vs actual, {fm['horizon_days']} day(s) from {origin:%Y-%m-%d}"
    )


def write_outputs(values: dict, out: dict, out_dir: Path) -> tuple[dict, dict[str, Path]]:
    """Write every file of the run into ``out_dir``; return the summary and the paths written."""
    out_dir = Path(out_dir)
    files = {}
    summary = summarize(values, out)
    files["schedule"] = out["schedule"].to_csv(out_dir / "schedule.csv")
    metrics = metrics_table(values, out)
    files["metrics"] = write_atomic(out_dir / "metrics.csv", lambda t: metrics.to_csv(t, index=False))
    fc = out["forecast"].copy()
    fc["interval_start"] = fc["interval_start"].map(lambda t: t.isoformat())
    files["forecast"] = write_atomic(out_dir / "forecast.csv", lambda t: fc.to_csv(t, index=False))
    rq = out["requirements"].copy()
    rq["interval_start"] = rq["interval_start"].map(lambda t: t.isoformat())
    files["requirements"] = write_atomic(out_dir / "requirements.csv", lambda t: rq.to_csv(t, index=False))
    files["coverage_plot"] = plot_coverage(values, out, out_dir / "coverage.png")
    files["service_level_plot"] = plot_service_level(values, out, out_dir / "service_level.png")
    files["forecast_plot"] = _plot_forecast(values, out, out_dir)
    sel = (out.get("forecast_extras") or {}).get("selection")
    if sel is not None:  # model choice per channel by backtest: every candidate, then the chosen ones
        files["forecast_backtest"] = write_atomic(
            out_dir / "forecast_backtest.csv", lambda t: sel.table.to_csv(t, index=False)
        )
        files["forecast_chosen"] = write_atomic(
            out_dir / "forecast_chosen.csv", lambda t: sel.summary.to_csv(t, index=False)
        )
        files["forecast_backtest_plot"] = _plot_backtest(values, out, out_dir / "forecast_backtest.png")
    if out.get("roster") is not None:  # unfilled shifts and why; names only as schedule.csv has them
        rtext = out["roster"].summary() + "\n"
        files["roster_report"] = write_atomic(out_dir / "roster.txt", lambda t: Path(t).write_text(rtext))
    text = json.dumps(summary, indent=2, sort_keys=False) + "\n"
    files["summary"] = write_atomic(out_dir / "summary.json", lambda t: Path(t).write_text(text))
    return summary, files


def format_table(summary: dict) -> str:
    """A short plain-text table of the summary."""
    lines = []
    hdr = (
        f"{'channel':<10} {'kind':<6} {'target':>7} {'achieved':>9} {'95% CI':>15} {'scope':>8} {'met':>4} "
        f"{'ivl ok':>6} {'ASA s':>7} {'aband.':>7} {'occup.':>7}"
    )
    lines.append(hdr)
    lines.append("-" * len(hdr))

    def f(v, fmt):
        return "-" if v is None else format(v, fmt)

    for name, c in summary["channels"].items():
        lo, hi = c["service_level_ci95"]
        ci = f"[{f(lo, '.3f')}, {f(hi, '.3f')}]"
        lines.append(
            f"{name:<10} {c['kind']:<6} {c['target']:>7.3f} {f(c['service_level'], '.3f'):>9} {ci:>15} "
            f"{c['scope']:>8} {'yes' if c['target_met'] else 'NO':>4} "
            f"{f(c['intervals_meeting_target'], '.0%'):>6} {f(c['asa_s'], '.1f'):>7} "
            f"{f(c['abandon_rate'], '.3f'):>7} "
            f"{f(c['occupancy'], '.3f'):>7}"
        )
    lines.append("")
    defs = {c["sl_definition"] for c in summary["channels"].values()}
    lines.append(
        "met: the target in its scope (every interval / every day / the horizon) on figures pooled over "
        "replications; ivl ok: share of intervals meeting it"
    )
    lines.append(
        "service level: " + "; ".join(sorted(defs)) + f" (over {summary['replications']} replications)"
    )
    st = summary["staffing"]
    sv = summary["solve"]
    lines.append(
        f"staffing: {st['shifts']} shifts, {st['agent_hours_total']:,.1f} paid agent-hours, "
        f"cost {st['cost_total']:,.2f}"
        + (
            ", headcount " + ", ".join(f"{g} {n}" for g, n in sv["headcount"].items())
            if sv.get("headcount")
            else ""
        )
    )
    ro = summary.get("roster")
    if ro:
        lines.append(
            f"roster: {ro['roster_assigned']} of {ro['roster_shifts']} shifts assigned"
            + ("" if ro["roster_complete"] else f", {ro['roster_unfilled']} UNFILLED (see roster.txt)")
            + f"; paid hours per agent {ro['roster_hours_min']:.1f}-{ro['roster_hours_max']:.1f}"
        )
    lines.append(
        f"MIP: {sv['version']}, status {sv['status']}, objective {sv['objective']:,.2f}, bound "
        f"{sv['best_bound']:,.2f}, gap {100 * sv['gap']:.3f}%"
        + ("" if summary["reproducible"] else "  (stopped by time limit: NOT reproducible)")
    )
    return "\n".join(lines)
