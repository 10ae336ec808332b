"""The core values of a contact centre: the interval grid, channels, skill groups and the scenario.

Every per-interval quantity in wfmlab (forecast, requirement, coverage, simulated counts) is indexed on one
:class:`IntervalGrid`. Channels are queues with a unique ``name`` and a ``kind`` (voice, chat or email);
every table is keyed by channel name, never by kind. Units are in the field names (``aht_s``,
``threshold_s``, ``deadline_h``); the engines work in seconds from the start of the grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from forecast.errors import ConfigError

__all__ = [
    "ChannelKind",
    "SLDefinition",
    "TargetScope",
    "HandleDist",
    "IntervalGrid",
    "Channel",
    "SkillGroup",
    "Scenario",
]

VALID_INTERVALS_MIN = (15, 30, 60)


class ChannelKind(StrEnum):
    """What kind of queue a channel is.

    ``voice``: customers wait in a FIFO queue and abandon after their patience; ``chat``: an agent holds up to
    ``concurrency`` chats at once; ``email``: a backlog without abandonment, answered within a deadline.
    """

    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"


class SLDefinition(StrEnum):
    """The three service-level definitions (../shared/DESIGN.md).

    - ``offered`` (default): answered within T / offered;
    - ``offered_minus_short_abandons``: answered within T / (offered - abandoned within T);
    - ``answered``: answered within T / answered.

    A contact counts in the interval it arrived in; the service level of a day or of the horizon is the sum of
    numerators over the sum of denominators, never a mean of interval service levels.
    """

    OFFERED = "offered"
    OFFERED_MINUS_SHORT_ABANDONS = "offered_minus_short_abandons"
    ANSWERED = "answered"

    def ratio(self, within, offered, answered, abandoned_within):
        """Service level from counts (numpy arrays or scalars); NaN where the denominator is 0."""
        if self is SLDefinition.OFFERED:
            den = offered
        elif self is SLDefinition.OFFERED_MINUS_SHORT_ABANDONS:
            den = np.asarray(offered) - np.asarray(abandoned_within)
        else:
            den = answered
        num = np.asarray(within, dtype=float)
        den = np.asarray(den, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


class HandleDist(StrEnum):
    """A distribution of handle times or patience: ``lognormal`` (mean and CV), ``exponential`` (CV 1) or
    ``empirical`` (the given samples, resampled and rescaled to the mean)."""

    LOGNORMAL = "lognormal"
    EXPONENTIAL = "exponential"
    EMPIRICAL = "empirical"


class TargetScope(StrEnum):
    """Where a service target must hold: in every interval, every day, or over the whole horizon."""

    INTERVAL = "interval"
    DAY = "day"
    HORIZON = "horizon"


def _enum(cls, value, key):
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise ConfigError(f"expected one of {allowed}; got {value!r}", key=key) from None


def _number(value, key, *, lo=None, hi=None, lo_open=False, hi_open=False, allow_inf=False, integer=False):
    """Check a numeric config value; raise ConfigError naming ``key`` and the expected range."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfigError(f"expected a number; got {value!r}", key=key)
    v = float(value)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ConfigError(f"expected a finite number; got {value!r}", key=key)
    if integer and not math.isinf(v) and v != int(v):
        raise ConfigError(f"expected an integer; got {value!r}", key=key)
    bad = (lo is not None and (v <= lo if lo_open else v < lo)) or (
        hi is not None and (v >= hi if hi_open else v > hi)
    )
    if bad:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        raise ConfigError(f"expected a value in {left}{lo_s}, {hi_s}{right}; got {value!r}", key=key)
    return int(v) if integer and not math.isinf(v) else v


@dataclass(frozen=True)
class IntervalGrid:
    """``n`` consecutive intervals of ``interval_min`` minutes from the tz-aware ``start``.

    Intervals are consecutive in absolute time, so a DST day in local time simply has 92 or 100 quarter hours.
    """

    start: pd.Timestamp
    interval_min: int
    n: int

    def __post_init__(self):
        start = pd.Timestamp(self.start)
        if start.tzinfo is None:
            raise ConfigError("expected a tz-aware timestamp (e.g. '2026-01-05 00:00+01:00')", key="start")
        object.__setattr__(self, "start", start)
        if self.interval_min not in VALID_INTERVALS_MIN:
            raise ConfigError(
                f"expected one of {', '.join(map(str, VALID_INTERVALS_MIN))} minutes; "
                f"got {self.interval_min!r}",
                key="interval_min",
            )
        _number(self.n, "n", lo=1, integer=True)

    @classmethod
    def from_days(cls, start_date, days: int, interval_min: int, tz: str) -> IntervalGrid:
        """The grid covering ``days`` local calendar days from local midnight of ``start_date`` in ``tz``."""
        _number(days, "days", lo=1, integer=True)
        try:
            first = pd.Timestamp(start_date).normalize()
            first = first.tz_localize(tz) if first.tzinfo is None else first.tz_convert(tz).normalize()
        except Exception as exc:  # noqa: BLE001 - any parse/tz failure is a config error
            raise ConfigError(
                f"expected a date and a valid time zone; got {start_date!r} in {tz!r} ({exc})",
                key="start_date",
            ) from None
        last = (first.tz_localize(None) + pd.Timedelta(days=int(days))).tz_localize(tz)
        if interval_min not in VALID_INTERVALS_MIN:
            raise ConfigError(
                f"expected one of {', '.join(map(str, VALID_INTERVALS_MIN))} minutes; got {interval_min!r}",
                key="interval_min",
            )
        n = int((last - first) / pd.Timedelta(minutes=interval_min))
        return cls(first, int(interval_min), n)

    @property
    def interval_s(self) -> float:
        return 60.0 * self.interval_min

    @property
    def horizon_s(self) -> float:
        return self.n * self.interval_s

    @property
    def tz(self):
        return self.start.tz

    @property
    def starts(self) -> pd.DatetimeIndex:
        """Interval start times (tz-aware, in the grid's time zone)."""
        return pd.date_range(self.start, periods=self.n, freq=pd.Timedelta(minutes=self.interval_min))

    @property
    def local_hours(self) -> np.ndarray:
        """Local clock time of each interval start, in hours (e.g. 6.25 for 06:15)."""
        s = self.starts
        return np.asarray(s.hour + s.minute / 60.0, dtype=float)

    @property
    def day_index(self) -> np.ndarray:
        """0-based local calendar day of each interval."""
        s = self.starts
        days = s.tz_localize(None).normalize()
        first = days[0]
        return np.asarray((days - first) / pd.Timedelta(days=1), dtype=int)

    @property
    def n_days(self) -> int:
        return int(self.day_index[-1]) + 1

    def seconds(self, ts) -> float:
        """Seconds from the grid start to the timestamp ``ts`` (tz-aware, or naive local time)."""
        t = pd.Timestamp(ts)
        if t.tzinfo is None:
            t = t.tz_localize(self.tz)
        return (t - self.start).total_seconds()

    def timestamp(self, seconds: float) -> pd.Timestamp:
        """The local timestamp ``seconds`` after the grid start."""
        return (self.start + pd.Timedelta(seconds=float(seconds))).tz_convert(self.tz)


@dataclass(frozen=True)
class Channel:
    """A queue: unique ``name`` and ``kind``, handle-time distribution, service target.

    - voice/chat: ``target`` of contacts answered within ``threshold_s`` (e.g. 0.8 within 20 s);
      voice callers abandon after an exponential patience of mean ``patience_s`` (inf: never);
    - chat: an agent holds up to ``concurrency`` chats; with ``chat_slowdown`` f each chat progresses at
      pace 1 / (1 + f (k - 1)) while its agent holds k chats (``aht_s`` is the time of a chat handled alone);
    - email: ``target`` of emails answered (handled to completion) within ``deadline_h`` hours, on the
      calendar or, with ``deadline_clock="business"``, counting only the scenario's opening hours.

    Handle times are lognormal with mean ``aht_s`` (the Forecast's per-interval ``aht_s`` overrides it) and
    coefficient of variation ``aht_cv``, exponential with that mean (``aht_dist="exponential"``), or
    empirical (``aht_dist="empirical"``: ``aht_samples`` resampled, rescaled to the interval's mean).
    Patience (voice and chat): exponential with mean ``patience_s`` by default, lognormal with CV
    ``patience_cv``, or empirical (``patience_samples`` resampled and rescaled to mean ``patience_s``).
    ``balk_prob``: a contact that would have to wait leaves at once with this probability (counted as
    abandoned, with a wait of 0).
    """

    name: str
    kind: ChannelKind
    aht_s: float = 300.0
    aht_cv: float = 1.0
    target: float = 0.8
    threshold_s: float = 20.0
    patience_s: float = math.inf
    concurrency: int = 1
    deadline_h: float = 24.0
    scope: TargetScope = TargetScope.INTERVAL
    aht_dist: HandleDist = HandleDist.LOGNORMAL
    aht_samples: tuple = ()
    patience_dist: HandleDist = HandleDist.EXPONENTIAL
    patience_cv: float = 1.0
    patience_samples: tuple = ()
    balk_prob: float = 0.0
    deadline_clock: str = "calendar"
    chat_slowdown: float = 0.0

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name or not self.name.replace("_", "").isalnum():
            raise ConfigError(
                f"expected a non-empty name of letters, digits and '_'; got {self.name!r}", key="name"
            )
        object.__setattr__(self, "kind", _enum(ChannelKind, self.kind, "kind"))
        object.__setattr__(self, "scope", _enum(TargetScope, self.scope, "scope"))
        object.__setattr__(self, "aht_dist", _enum(HandleDist, self.aht_dist, "aht_dist"))
        object.__setattr__(self, "aht_s", _number(self.aht_s, "aht_s", lo=0, lo_open=True))
        object.__setattr__(self, "aht_cv", _number(self.aht_cv, "aht_cv", lo=0))
        object.__setattr__(self, "target", _number(self.target, "target", lo=0, hi=1, lo_open=True))
        object.__setattr__(self, "threshold_s", _number(self.threshold_s, "threshold_s", lo=0))
        object.__setattr__(
            self, "patience_s", _number(self.patience_s, "patience_s", lo=0, lo_open=True, allow_inf=True)
        )
        object.__setattr__(self, "concurrency", _number(self.concurrency, "concurrency", lo=1, integer=True))
        object.__setattr__(self, "deadline_h", _number(self.deadline_h, "deadline_h", lo=0, lo_open=True))
        object.__setattr__(self, "patience_dist", _enum(HandleDist, self.patience_dist, "patience_dist"))
        object.__setattr__(self, "patience_cv", _number(self.patience_cv, "patience_cv", lo=0))
        object.__setattr__(self, "balk_prob", _number(self.balk_prob, "balk_prob", lo=0, hi=1))
        object.__setattr__(self, "chat_slowdown", _number(self.chat_slowdown, "chat_slowdown", lo=0))
        if self.kind is not ChannelKind.CHAT and self.chat_slowdown > 0:
            raise ConfigError("chat_slowdown applies to chat channels only", key="chat_slowdown")
        if self.deadline_clock not in ("calendar", "business"):
            raise ConfigError(
                f"expected 'calendar' or 'business' (opening hours only); got {self.deadline_clock!r}",
                key="deadline_clock",
            )
        for key, dist in (("aht_samples", self.aht_dist), ("patience_samples", self.patience_dist)):
            raw = getattr(self, key)
            try:
                samples = tuple(float(x) for x in (raw if raw is not None else ()))
            except (TypeError, ValueError):
                raise ConfigError(f"expected a list of numbers; got {raw!r}", key=key) from None
            if any(not (math.isfinite(x) and x >= 0) for x in samples):
                raise ConfigError("expected finite durations >= 0 (seconds)", key=key)
            if dist is HandleDist.EMPIRICAL and not (samples and sum(samples) > 0):
                raise ConfigError(
                    f"expected a positive sample for an empirical distribution; got {list(samples)}",
                    key=key,
                )
            object.__setattr__(self, key, samples)
        if self.patience_dist is not HandleDist.EXPONENTIAL and math.isinf(self.patience_s):
            raise ConfigError(
                f"patience_dist={self.patience_dist} needs a finite mean patience_s", key="patience_dist"
            )
        if self.kind is not ChannelKind.CHAT and self.concurrency != 1:
            raise ConfigError(
                f"concurrency applies to chat channels only; {self.kind} needs 1", key="concurrency"
            )
        if self.kind is not ChannelKind.EMAIL and self.target >= 1:
            raise ConfigError(
                "expected a fraction below 1 for a voice or chat target (no finite staffing "
                f"answers every contact within {self.threshold_s:g} s); got {self.target!r}",
                key="target",
            )
        if self.kind is ChannelKind.EMAIL and not math.isinf(self.patience_s):
            raise ConfigError("email does not abandon; leave patience_s unset (inf)", key="patience_s")
        if self.kind is ChannelKind.EMAIL and self.balk_prob > 0:
            raise ConfigError("email does not balk; leave balk_prob at 0", key="balk_prob")

    @property
    def deadline_s(self) -> float:
        return 3600.0 * self.deadline_h

    @property
    def answer_within_s(self) -> float:
        """The time within which a contact counts as answered in time (threshold or email deadline)."""
        return self.deadline_s if self.kind is ChannelKind.EMAIL else self.threshold_s


@dataclass(frozen=True)
class SkillGroup:
    """Agents who serve ``channels`` in that priority order (first = highest), at ``cost_per_hour``."""

    name: str
    channels: tuple[str, ...]
    cost_per_hour: float = 1.0

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name or not self.name.replace("_", "").isalnum():
            raise ConfigError(
                f"expected a non-empty name of letters, digits and '_'; got {self.name!r}", key="name"
            )
        chans = tuple(self.channels) if not isinstance(self.channels, str) else (self.channels,)
        if not chans:
            raise ConfigError("expected at least one channel", key="channels")
        if len(set(chans)) != len(chans):
            raise ConfigError(f"a channel is listed twice: {list(chans)}", key="channels")
        object.__setattr__(self, "channels", chans)
        object.__setattr__(self, "cost_per_hour", _number(self.cost_per_hour, "cost_per_hour", lo=0))


@dataclass(frozen=True)
class Scenario:
    """A contact centre over a horizon: grid, channels, skill groups, opening hours, shrinkage, SL definition.

    ``open_hour`` / ``close_hour`` are local hours between which the centre is open every day (contacts
    arrive and agents work only then; email backlog carries over closed hours). ``shrinkage`` is the share of
    scheduled time lost to absence, meetings and training (not scheduled breaks), applied once: the schedule
    needs ``(1 - shrinkage) x agents on duty after breaks >= agents needed on the floor``, and the simulator
    removes absent agents at random with the same rate: each agent-shift whole (``absence="shift"``, as
    absence for a day) or each agent-interval on its own (``absence="interval"``, as meetings and training).
    ``blend_email``: agents take email only when no voice or chat contact of theirs waits, whatever the
    order of their group's channel list (email is worked in the gaps).
    """

    grid: IntervalGrid
    channels: tuple[Channel, ...]
    groups: tuple[SkillGroup, ...]
    open_hour: float = 0.0
    close_hour: float = 24.0
    shrinkage: float = 0.0
    sl_definition: SLDefinition = SLDefinition.OFFERED
    name: str = "scenario"
    absence: str = "shift"
    blend_email: bool = False
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "sl_definition", _enum(SLDefinition, self.sl_definition, "sl_definition"))
        if not isinstance(self.blend_email, bool):
            raise ConfigError(f"expected true or false; got {self.blend_email!r}", key="blend_email")
        if self.absence not in ("shift", "interval"):
            raise ConfigError(f"expected 'shift' or 'interval'; got {self.absence!r}", key="absence")
        _number(self.open_hour, "open_hour", lo=0, hi=24)
        _number(self.close_hour, "close_hour", lo=0, hi=24)
        if self.close_hour <= self.open_hour:
            raise ConfigError(
                f"expected close_hour > open_hour ({self.open_hour:g}); got {self.close_hour:g}",
                key="close_hour",
            )
        _number(self.shrinkage, "shrinkage", lo=0, hi=1, hi_open=True)
        if not self.channels:
            raise ConfigError("expected at least one channel", key="channels")
        if not self.groups:
            raise ConfigError("expected at least one skill group", key="groups")
        names = [c.name for c in self.channels]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ConfigError(f"channel names must be unique; repeated: {sorted(dup)}", key="channels")
        gnames = [g.name for g in self.groups]
        dup = {n for n in gnames if gnames.count(n) > 1}
        if dup:
            raise ConfigError(f"skill group names must be unique; repeated: {sorted(dup)}", key="groups")
        known = set(names)
        for g in self.groups:
            unknown = [c for c in g.channels if c not in known]
            if unknown:
                raise ConfigError(
                    f"unknown channel(s) {unknown}; the scenario has {names}", key=f"groups.{g.name}.channels"
                )
        served = {c for g in self.groups for c in g.channels}
        for c in self.channels:
            if c.name not in served:
                raise ConfigError("no skill group serves this channel", key=f"channels.{c.name}")

    # -- lookups ------------------------------------------------------------------------------------------
    @property
    def channel_names(self) -> list[str]:
        return [c.name for c in self.channels]

    @property
    def group_names(self) -> list[str]:
        return [g.name for g in self.groups]

    def channel(self, name: str) -> Channel:
        for c in self.channels:
            if c.name == name:
                return c
        raise ConfigError(f"unknown channel {name!r}; the scenario has {self.channel_names}", key="channel")

    def group(self, name: str) -> SkillGroup:
        for g in self.groups:
            if g.name == name:
                return g
        raise ConfigError(
            f"unknown skill group {name!r}; the scenario has {self.group_names}", key="skill_group"
        )

    @property
    def open_mask(self) -> np.ndarray:
        """True for intervals whose local start lies within the opening hours."""
        h = self.grid.local_hours
        return (h >= self.open_hour - 1e-9) & (h < self.close_hour - 1e-9)

    def with_grid(self, grid: IntervalGrid) -> Scenario:
        return Scenario(
            grid,
            self.channels,
            self.groups,
            self.open_hour,
            self.close_hour,
            self.shrinkage,
            self.sl_definition,
            self.name,
            absence=self.absence,
            blend_email=self.blend_email,
            meta=dict(self.meta),
        )
