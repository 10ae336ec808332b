"""A synthetic contact centre: intraday profiles, weekday factors and the doubly stochastic Poisson model.

Arrivals in interval t of local day d are Poisson(volume_t * G_d * H_t) with G_d ~ Gamma(shape_day,
scale=1/shape_day) per (channel, local day) and H_t ~ Gamma(shape_interval, scale=1/shape_interval) per
(channel, interval), all independent (a Poisson-gamma mixture; see Jongbloed & Koole (2001), "Managing
uncertainty in call centres using Poisson mixtures", Applied Stochastic Models in Business and Industry 17).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast._calendar import as_index, check_interval_min, day_grid, local_midnight, wall_parts
from forecast.errors import ConfigError
from forecast.frame import HISTORY_COLUMNS


def _positive(value, key: str, *, allow_zero: bool = False, allow_inf: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"expected a number; got {value!r}", key) from None
    ok = (v >= 0 if allow_zero else v > 0) and (allow_inf or math.isfinite(v)) and not math.isnan(v)
    if not ok:
        what = ">= 0" if allow_zero else "> 0"
        raise ConfigError(
            f"expected a number {what}{' (inf allowed)' if allow_inf else ''}; got {value!r}", key
        )
    return v


@dataclass(frozen=True)
class SyntheticChannel:
    """One synthetic channel.

    ``daily_volume``: mean contacts per day on an average weekday, multiplied by ``dow_factors[weekday]``
    (Monday first). Arrivals happen only in intervals lying inside ``[open_hour, close_hour)`` local time.
    The intraday profile is ``base + sum(weight * exp(-(h - hour)^2 / (2 width_h^2)))`` over ``peaks``,
    evaluated at the local clock hour ``h`` of the interval midpoint and normalised to sum 1 over each day's
    open intervals. Handle times are lognormal with mean
    ``aht_s * (1 + aht_tod_amplitude * sin(2 pi (h - 6) / 24))`` (longest at 12:00) and coefficient of
    variation ``aht_cv``. ``shape_day`` and ``shape_interval`` are the gamma shapes of the rate multipliers
    (``inf``: no extra variance).
    """

    daily_volume: float
    dow_factors: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    open_hour: float = 0.0
    close_hour: float = 24.0
    peaks: tuple[tuple[float, float, float], ...] = ()
    aht_s: float = 300.0
    aht_cv: float = 1.0
    aht_tod_amplitude: float = 0.0
    shape_day: float = math.inf
    shape_interval: float = math.inf
    base: float = 0.05

    def __post_init__(self):
        _positive(self.daily_volume, "daily_volume", allow_zero=True)
        if len(self.dow_factors) != 7:
            raise ConfigError(f"expected 7 factors, Monday first; got {len(self.dow_factors)}", "dow_factors")
        for i, f in enumerate(self.dow_factors):
            _positive(f, f"dow_factors[{i}]", allow_zero=True)
        o, c = float(self.open_hour), float(self.close_hour)
        if not (0.0 <= o < c <= 24.0):
            raise ConfigError(f"expected 0 <= open_hour < close_hour <= 24; got {o}, {c}", "open_hour")
        for i, p in enumerate(self.peaks):
            if len(p) != 3:
                raise ConfigError(f"expected (hour, width_h, weight); got {p!r}", f"peaks[{i}]")
            _positive(p[1], f"peaks[{i}].width_h")
            _positive(p[2], f"peaks[{i}].weight", allow_zero=True)
        _positive(self.aht_s, "aht_s")
        _positive(self.aht_cv, "aht_cv")
        a = float(self.aht_tod_amplitude)
        if not 0.0 <= a < 1.0:
            raise ConfigError(f"expected 0 <= amplitude < 1; got {a}", "aht_tod_amplitude")
        _positive(self.shape_day, "shape_day", allow_inf=True)
        _positive(self.shape_interval, "shape_interval", allow_inf=True)
        _positive(self.base, "base", allow_zero=True)
        if self.base == 0 and not any(p[2] > 0 for p in self.peaks):
            raise ConfigError("the profile is zero: give base > 0 or a peak with weight > 0", "base")

    def weight(self, start_hour: np.ndarray, interval_min: int) -> np.ndarray:
        """Unnormalised profile weight of intervals starting at local hour ``start_hour`` (0: closed)."""
        h = np.asarray(start_hour, dtype=float)
        dur = interval_min / 60.0
        is_open = (h >= self.open_hour - 1e-9) & (h + dur <= self.close_hour + 1e-9)
        mid = h + dur / 2
        w = np.full(h.shape, float(self.base))
        for hour, width, weight in self.peaks:
            w += weight * np.exp(-0.5 * ((mid - hour) / width) ** 2)
        return np.where(is_open, w, 0.0)

    def mean_aht_s(self, start_hour: np.ndarray, interval_min: int) -> np.ndarray:
        mid = np.asarray(start_hour, dtype=float) + interval_min / 120.0
        return self.aht_s * (1.0 + self.aht_tod_amplitude * np.sin(2 * np.pi * (mid - 6.0) / 24.0))


def expected_volume(channel_spec: SyntheticChannel, index, interval_min: int) -> np.ndarray:
    """Expected arrivals per interval of the tz-aware ``index`` (or an object with ``.starts``).

    ``daily_volume * dow_factor * share``, the share being the profile weight of the interval over the sum
    of the weights of all open intervals of that local day (computed on the full day, so a partial index
    gets the same values as a full one, and a DST day of 92 or 100 quarter hours still sums to the day's
    volume). Local time is the time zone of ``index``.
    """
    interval_min = check_interval_min(interval_min)
    idx = as_index(index)
    if len(idx) == 0:
        return np.zeros(0)
    day, minute, weekday = wall_parts(idx)
    d0, d1 = int(day.min()), int(day.max())
    full = day_grid(d0, d1 - d0 + 1, idx.tz, interval_min)
    fday, fmin, _ = wall_parts(full)
    fw = channel_spec.weight(fmin / 60.0, interval_min)
    norm = np.bincount(fday - d0, weights=fw, minlength=d1 - d0 + 1)
    w = channel_spec.weight(minute / 60.0, interval_min)
    dow = np.asarray(channel_spec.dow_factors, dtype=float)[weekday]
    denom = norm[day - d0]
    share = np.divide(w, denom, out=np.zeros_like(w), where=denom > 0)
    return float(channel_spec.daily_volume) * dow * share


def _gamma(rng: np.random.Generator, shape: float, size: int) -> np.ndarray:
    if math.isinf(shape):
        return np.ones(size)
    return rng.gamma(shape, 1.0 / shape, size)


def channel_seed(seed: int, name: str) -> np.random.SeedSequence:
    """The SeedSequence of channel ``name``, keyed by crc32 of the name: channels do not affect each other."""
    return np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode("utf-8")),))


def synthetic_history(
    channels: Mapping[str, SyntheticChannel],
    start,
    days: int,
    interval_min: int,
    tz: str,
    seed: int,
) -> pd.DataFrame:
    """A history table (:data:`HISTORY_COLUMNS`) drawn from the doubly stochastic Poisson model.

    Intervals cover ``days`` local calendar days from local midnight of ``start`` in ``tz`` (consecutive in
    absolute time). Per channel, the generator streams come from :func:`channel_seed`; its two children feed
    the arrivals (G_d, H_t, Poisson counts) and the handle times. ``aht_s`` is the mean of ``volume``
    lognormal handle-time draws with the interval's mean (NaN when the volume is 0). Deterministic in
    ``seed``; rows sorted by channel, then interval_start.
    """
    interval_min = check_interval_min(interval_min)
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1:
        raise ConfigError(f"expected an integer >= 1; got {days!r}", "days")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"expected an integer >= 0; got {seed!r}", "seed")
    if not isinstance(channels, Mapping) or not channels:
        raise ConfigError("expected a non-empty mapping of channel name -> SyntheticChannel", "channels")
    try:
        s = pd.Timestamp(start)
        s = s.tz_convert(tz) if s.tzinfo is not None else s
        first = local_midnight(s, tz)
    except Exception as exc:  # noqa: BLE001 - any parse or tz failure is a config error
        raise ConfigError(
            f"expected a date and a valid time zone; got {start!r} in {tz!r} ({exc})", "start"
        ) from None
    day0, _, _ = wall_parts(pd.DatetimeIndex([first]))
    idx = day_grid(int(day0[0]), int(days), tz, interval_min)
    day, minute, _ = wall_parts(idx)
    day_pos = day - day[0]
    hours = minute / 60.0
    frames = []
    for name in sorted(channels):
        spec = channels[name]
        if not isinstance(name, str) or not name:
            raise ConfigError(f"expected a non-empty channel name; got {name!r}", "channels")
        if not isinstance(spec, SyntheticChannel):
            raise ConfigError(f"expected a SyntheticChannel; got {type(spec).__name__}", f"channels.{name}")
        arr_ss, aht_ss = channel_seed(int(seed), name).spawn(2)
        rng = np.random.default_rng(arr_ss)
        ev = expected_volume(spec, idx, interval_min)
        g = _gamma(rng, float(spec.shape_day), int(days))[day_pos]
        h = _gamma(rng, float(spec.shape_interval), len(idx))
        n = rng.poisson(ev * g * h)
        # lognormal handle times with mean m and cv c: sigma^2 = log(1 + c^2), mu = log(m) - sigma^2 / 2
        sigma = math.sqrt(math.log1p(float(spec.aht_cv) ** 2))
        mu = np.log(spec.mean_aht_s(hours, interval_min)) - sigma**2 / 2
        who = np.repeat(np.arange(len(idx)), n)
        draws = np.exp(mu[who] + sigma * np.random.default_rng(aht_ss).standard_normal(who.size))
        total = np.bincount(who, weights=draws, minlength=len(idx))
        aht = np.divide(total, n, out=np.full(len(idx), np.nan), where=n > 0)
        frames.append(
            pd.DataFrame({"channel": name, "interval_start": idx, "volume": n.astype(float), "aht_s": aht})
        )
    return pd.concat(frames, ignore_index=True)[list(HISTORY_COLUMNS)]


def demo_channels() -> dict[str, SyntheticChannel]:
    """The built-in demo centre: voice, chat and email, open 06:00-22:00 seven days a week."""
    return {
        "voice": SyntheticChannel(
            daily_volume=4000.0,
            dow_factors=(1.15, 1.05, 1.0, 1.0, 0.95, 0.6, 0.5),
            open_hour=6.0,
            close_hour=22.0,
            peaks=((10.0, 1.5, 1.0), (15.0, 2.0, 0.8)),
            aht_s=330.0,
            aht_cv=1.0,
            aht_tod_amplitude=0.1,
            shape_day=40.0,
            shape_interval=200.0,
        ),
        "chat": SyntheticChannel(
            daily_volume=1800.0,
            dow_factors=(1.1, 1.05, 1.0, 1.0, 1.0, 0.8, 0.7),
            open_hour=6.0,
            close_hour=22.0,
            peaks=((13.0, 2.0, 0.8), (20.0, 1.5, 1.0)),
            aht_s=540.0,
            aht_cv=0.9,
            aht_tod_amplitude=0.1,
            shape_day=50.0,
            shape_interval=math.inf,
        ),
        "email": SyntheticChannel(
            daily_volume=1200.0,
            dow_factors=(1.2, 1.1, 1.0, 1.0, 0.95, 0.4, 0.3),
            open_hour=6.0,
            close_hour=22.0,
            peaks=((9.0, 3.0, 0.4), (14.0, 4.0, 0.4)),
            aht_s=420.0,
            aht_cv=0.8,
            aht_tod_amplitude=0.05,
            shape_day=30.0,
            shape_interval=math.inf,
            base=0.3,
        ),
    }
