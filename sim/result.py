"""SimResult: per (replication, channel, interval) counts and times, with summaries and confidence intervals.

Columns of :attr:`SimResult.intervals` (one row per replication x channel x interval; a contact counts in the
interval it arrived in):

- ``offered``, ``answered``, ``abandoned``;
- ``answered_within``: answered within the channel's threshold (voice, chat: wait <= ``threshold_s``) or
  deadline (email: reply completed within ``deadline_h`` of arrival);
- ``abandoned_within``: abandoned with a patience <= threshold (for ``offered_minus_short_abandons``);
- ``wait_sum_s`` (waiting time of answered contacts), ``handle_sum_s``, ``busy_s`` (agent time on the channel,
  a chat counting ``1/concurrency``);
- ``due``: contacts whose deadline falls inside the horizon (email; all offered contacts for voice and chat),
  ``answered_within_due``: of those, answered in time. Emails due after the horizon end are censored: they
  count in ``offered`` but not in the email service level;
- ``queue_end``: contacts waiting at the interval end; ``oldest_age_s``: age of the oldest waiting email;
- ``queue_time_s``: contact-seconds spent waiting inside the interval (by when the waiting happens, not by
  arrival), so the mean queue length over the interval is ``queue_time_s / interval_s``.

:attr:`SimResult.wait_quantiles` has the waiting-time quantiles ``wait_p50_s``, ``wait_p80_s``,
``wait_p90_s``, ``wait_p95_s`` of the answered contacts per replication x channel x interval (NaN where
none was answered).
:attr:`SimResult.contacts` (only with ``simulate(..., records=True)``) has one row per contact.
With ``warmup_intervals`` > 0, days, target checks and summaries leave out the first intervals (the
per-interval figures keep them).

:attr:`SimResult.groups` has ``available_s`` (agents logged on and not on break) and ``busy_s`` per
replication x skill group x interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .engine import WAIT_QUANTILES
from .scenario import ChannelKind, IntervalGrid, SLDefinition

__all__ = ["SimResult", "mean_ci", "WAIT_QUANTILES"]

COUNT_COLUMNS = (
    "offered",
    "answered",
    "abandoned",
    "abandoned_within",
    "answered_within",
    "wait_sum_s",
    "handle_sum_s",
    "due",
    "answered_within_due",
)


def _contact_frame(reps, names) -> pd.DataFrame | None:
    """One row per contact (when the run kept them): rep, channel, arrival_s, start_s (NaN: not answered),
    handle_s, patience_s (as drawn), abandoned, balked (left at once instead of waiting), wait_s (answered:
    start - arrival)."""
    if not reps or "records" not in reps[0]:
        return None
    frames = []
    for r, out in enumerate(reps):
        rec = out["records"]
        df = pd.DataFrame({"rep": r, "channel": np.asarray(names, dtype=object)[rec["channel"]]})
        for k in ("arrival_s", "start_s", "handle_s", "patience_s", "abandoned", "balked"):
            df[k] = rec[k]
        df["wait_s"] = df["start_s"] - df["arrival_s"]
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _quantile_frame(reps, names, T) -> pd.DataFrame | None:
    """Waiting-time quantiles of the answered contacts per replication x channel x interval (NaN where none
    was answered)."""
    if not reps or "wait_quantiles" not in reps[0]:
        return None
    frames = []
    C = len(names)
    for r, out in enumerate(reps):
        q = out["wait_quantiles"]  # [len(WAIT_QUANTILES), C, T]
        d = {"rep": np.full(C * T, r), "channel": np.repeat(names, T), "interval": np.tile(np.arange(T), C)}
        for k, level in enumerate(WAIT_QUANTILES):
            d[f"wait_p{round(level * 100)}_s"] = q[k].reshape(-1)
        frames.append(pd.DataFrame(d))
    return pd.concat(frames, ignore_index=True)


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval of i.i.d. replication values (NaNs dropped)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return (np.nan, np.nan, np.nan)
    m = float(x.mean())
    if x.size < 2:
        return (m, np.nan, np.nan)
    h = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return (m, m - h, m + h)


@dataclass
class SimResult:
    """Simulation output. ``intervals`` and ``groups`` as documented in the module docstring."""

    grid: IntervalGrid
    channels: pd.DataFrame  # name, kind, target, within_s, scope
    sl_definition: SLDefinition
    intervals: pd.DataFrame
    groups: pd.DataFrame
    replications: int
    seed: int
    warmup_intervals: int = 0
    wait_quantiles: pd.DataFrame | None = None
    contacts: pd.DataFrame | None = None

    @classmethod
    def from_replications(
        cls, grid, scenario, reps: list[dict], seed: int, warmup_intervals: int = 0
    ) -> SimResult:
        C, T = len(scenario.channels), grid.n
        names = scenario.channel_names
        frames, gframes = [], []
        for r, out in enumerate(reps):
            d = {
                "rep": np.full(C * T, r),
                "channel": np.repeat(names, T),
                "interval": np.tile(np.arange(T), C),
            }
            for col in (*COUNT_COLUMNS, "queue_end", "oldest_age_s", "queue_time_s"):
                d[col] = out[col].reshape(-1)
            d["busy_s"] = out["busy_channel_s"].reshape(-1)
            frames.append(pd.DataFrame(d))
            G = out["busy_group_s"].shape[0]
            gframes.append(
                pd.DataFrame(
                    {
                        "rep": np.full(G * T, r),
                        "skill_group": np.repeat(scenario.group_names, T),
                        "interval": np.tile(np.arange(T), G),
                        "available_s": out["available_group_s"].reshape(-1),
                        "busy_s": out["busy_group_s"].reshape(-1),
                    }
                )
            )
        chans = pd.DataFrame(
            {
                "name": names,
                "kind": [str(c.kind) for c in scenario.channels],
                "target": [c.target for c in scenario.channels],
                "within_s": [c.answer_within_s for c in scenario.channels],
                "scope": [str(c.scope) for c in scenario.channels],
            }
        )
        # which groups serve each channel (for the occupancy of a channel's agents)
        chans["groups"] = [[g.name for g in scenario.groups if n in g.channels] for n in names]
        return cls(
            grid,
            chans,
            scenario.sl_definition,
            pd.concat(frames, ignore_index=True),
            pd.concat(gframes, ignore_index=True),
            len(reps),
            seed,
            int(warmup_intervals),
            _quantile_frame(reps, names, T),
            _contact_frame(reps, names),
        )

    def _measured(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` without the warm-up intervals (the statistics of days, scopes and summaries)."""
        if not self.warmup_intervals:
            return frame
        return frame[frame["interval"] >= self.warmup_intervals]

    # -- figures -------------------------------------------------------------------------------------------
    def _sl(self, df: pd.DataFrame, kind: str) -> np.ndarray:
        if kind == ChannelKind.EMAIL:
            return SLDefinition.OFFERED.ratio(df["answered_within_due"], df["due"], df["answered"], 0)
        return self.sl_definition.ratio(
            df["answered_within"], df["offered"], df["answered"], df["abandoned_within"]
        )

    def per_interval(self) -> pd.DataFrame:
        """Per channel x interval, pooled over replications (ratios of sums): offered (mean per replication),
        service level, ASA, abandonment, occupancy of the channel's groups, queue at interval end."""
        sums = (
            self.intervals.groupby(["channel", "interval"], sort=False).sum(numeric_only=True).reset_index()
        )
        R = self.replications
        out = []
        gsum = self.groups.groupby(["skill_group", "interval"]).sum(numeric_only=True)
        for row in self.channels.itertuples(index=False):
            df = sums[sums["channel"] == row.name].sort_values("interval")
            sl = self._sl(df, row.kind)
            ans = df["answered"].to_numpy(float)
            off = df["offered"].to_numpy(float)
            g = gsum.loc[row.groups].groupby(level="interval").sum().reindex(df["interval"]).fillna(0)
            with np.errstate(invalid="ignore", divide="ignore"):
                occ = np.where(
                    g["available_s"] > 0,
                    g["busy_s"] / g["available_s"].where(g["available_s"] > 0, 1),
                    np.nan,
                )
                out.append(
                    pd.DataFrame(
                        {
                            "channel": row.name,
                            "interval": df["interval"].to_numpy(),
                            "interval_start": self.grid.starts[df["interval"].to_numpy()],
                            "offered": off / R,
                            "service_level": sl,
                            "asa_s": np.where(ans > 0, df["wait_sum_s"] / np.where(ans > 0, ans, 1), np.nan),
                            "abandon_rate": np.where(
                                off > 0, df["abandoned"] / np.where(off > 0, off, 1), np.nan
                            ),
                            "occupancy": occ,
                            "queue_end": df["queue_end"].to_numpy(float) / R,
                            "busy_agents": df["busy_s"].to_numpy(float) / R / self.grid.interval_s,
                        }
                    )
                )
        return pd.concat(out, ignore_index=True)

    def by_day(self) -> pd.DataFrame:
        """Service level per channel and local day, pooled over replications (ratio of sums)."""
        day = self.grid.day_index
        measured = self._measured(self.intervals)
        df = measured.assign(day=day[measured["interval"].to_numpy()])
        sums = df.groupby(["channel", "day"], sort=False).sum(numeric_only=True).reset_index()
        out = []
        for row in self.channels.itertuples(index=False):
            d = sums[sums["channel"] == row.name].sort_values("day")
            out.append(
                pd.DataFrame(
                    {
                        "channel": row.name,
                        "day": d["day"].to_numpy(),
                        "offered": d["offered"].to_numpy(float) / self.replications,
                        "service_level": self._sl(d, row.kind),
                    }
                )
            )
        return pd.concat(out, ignore_index=True)

    def target_check(self) -> pd.DataFrame:
        """Per channel, the target checked in its scope (``interval``, ``day`` or ``horizon``), on figures
        pooled over replications: the share of intervals (with contacts) meeting the target, the worst day
        and the horizon service level; ``target_met`` applies the channel's scope (every interval, every
        day, or the horizon)."""
        per = self.per_interval()
        days = self.by_day()
        rows = []
        for row in self.channels.itertuples(index=False):
            pi = per[
                (per["channel"] == row.name)
                & per["service_level"].notna()
                & (per["interval"] >= self.warmup_intervals)
            ]
            dd = days[(days["channel"] == row.name) & days["service_level"].notna()]
            share = float((pi["service_level"] >= row.target - 1e-12).mean()) if len(pi) else np.nan
            worst_day = float(dd["service_level"].min()) if len(dd) else np.nan
            measured = self._measured(self.intervals)
            sums = measured[measured["channel"] == row.name].sum(numeric_only=True)
            horizon = float(self._sl(sums.to_frame().T, row.kind)[0])
            met = {
                "interval": share == 1.0,
                "day": worst_day >= row.target - 1e-12,
                "horizon": horizon >= row.target - 1e-12,
            }[row.scope]
            rows.append(
                {
                    "channel": row.name,
                    "scope": row.scope,
                    "target": row.target,
                    "intervals_meeting_target": share,
                    "worst_day_service_level": worst_day,
                    "horizon_service_level": horizon,
                    "target_met": bool(met),
                }
            )
        return pd.DataFrame(rows)

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Per channel over the horizon: each figure is a ratio of sums within a replication, then the mean
        and a ``level`` Student-t confidence interval across replications, clipped to the figure's range
        (0-1 for proportions, >= 0 for ASA)."""
        rows = []
        per_rep = self._measured(self.intervals).groupby(["channel", "rep"]).sum(numeric_only=True)
        gsum = self._measured(self.groups).groupby(["skill_group", "rep"]).sum(numeric_only=True)
        for row in self.channels.itertuples(index=False):
            df = per_rep.loc[row.name]
            sl = self._sl(df, row.kind)
            ans = df["answered"].to_numpy(float)
            off = df["offered"].to_numpy(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                asa = np.where(ans > 0, df["wait_sum_s"] / np.where(ans > 0, ans, 1), np.nan)
                ab = np.where(off > 0, df["abandoned"] / np.where(off > 0, off, 1), np.nan)
                g = gsum.loc[row.groups].groupby(level="rep").sum()
                occ = (g["busy_s"] / g["available_s"].where(g["available_s"] > 0)).to_numpy(float)
            rec = {
                "channel": row.name,
                "kind": row.kind,
                "sl_definition": (
                    "answered within deadline / due"
                    if row.kind == ChannelKind.EMAIL
                    else str(self.sl_definition)
                ),
                "target": row.target,
                "within_s": row.within_s,
                "offered": float(off.mean()),
            }
            for name, vals, top in (
                ("service_level", sl, 1.0),
                ("asa_s", asa, np.inf),
                ("abandon_rate", ab, 1.0),
                ("occupancy", occ, 1.0),
            ):
                m, lo, hi = mean_ci(vals, level)
                # a Student-t interval can reach past a proportion's range: report it clipped
                lo, hi = (
                    (float(np.clip(lo, 0.0, top)), float(np.clip(hi, 0.0, top))) if lo == lo else (lo, hi)
                )
                rec[name] = m
                rec[f"{name}_ci_low"] = lo
                rec[f"{name}_ci_high"] = hi
            rec["replications"] = self.replications
            rows.append(rec)
        return pd.DataFrame(rows)
