"""Turn the Hydra config into the plain values the stages take, checking every key first.

Every problem raises :class:`ConfigError` naming the full key (``scenario.channels.voice.target``) and what
was expected, before any work starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path

from forecast.errors import ConfigError

__all__ = ["build_scenario", "build_rules", "build_solver", "build_synthetic", "validate"]


def _plain(node):
    """OmegaConf node -> plain Python containers (lazy import: OmegaConf is only needed with a DictConfig)."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf

        if isinstance(node, DictConfig | ListConfig):
            return OmegaConf.to_container(node, resolve=True)
    except ImportError:  # pragma: no cover
        pass
    return node


def _get(cfg: Mapping, key: str, prefix: str, default=..., types=None):
    if key not in cfg or cfg[key] is None:
        if default is ...:
            raise ConfigError("missing", key=f"{prefix}.{key}")
        return default
    v = cfg[key]
    if types is not None and (not isinstance(v, types) or isinstance(v, bool) and bool not in _tuple(types)):
        names = " or ".join(t.__name__ for t in _tuple(types))
        raise ConfigError(f"expected {names}; got {v!r}", key=f"{prefix}.{key}")
    return v


def _tuple(t):
    return t if isinstance(t, tuple) else (t,)


def _unknown(cfg: Mapping, allowed, prefix: str):
    extra = sorted(set(cfg) - set(allowed))
    if extra:
        raise ConfigError(f"unknown key(s) {extra}; expected some of {sorted(allowed)}", key=prefix)


def build_staffing(cfg) -> dict:
    """``cfg.staffing`` -> keyword arguments of :func:`optim.requirements`."""
    from optim.requirements import EMAIL_METHODS, METHODS

    st = _plain(cfg)
    if not isinstance(st, Mapping):
        raise ConfigError("expected a mapping", key="staffing")
    _unknown(st, {"method", "email", "uncertainty", "max_occupancy", "chat_slowdown"}, "staffing")
    method = st.get("method", "erlang_c")
    if method not in METHODS:
        raise ConfigError(f"expected one of {list(METHODS)}; got {method!r}", key="staffing.method")
    email = st.get("email", "workload")
    if email not in EMAIL_METHODS:
        raise ConfigError(f"expected one of {list(EMAIL_METHODS)}; got {email!r}", key="staffing.email")
    unc = st.get("uncertainty", False)
    if not isinstance(unc, bool):
        raise ConfigError(f"expected true or false; got {unc!r}", key="staffing.uncertainty")
    occ = st.get("max_occupancy")
    if occ is not None and (isinstance(occ, bool) or not isinstance(occ, int | float) or not 0 < occ <= 1):
        raise ConfigError(f"expected a fraction in (0, 1] or null; got {occ!r}", key="staffing.max_occupancy")
    slow = st.get("chat_slowdown")
    if slow is not None and (isinstance(slow, bool) or not isinstance(slow, int | float) or not slow >= 0):
        raise ConfigError(
            f"expected a number >= 0, or null for each channel's own; got {slow!r}",
            key="staffing.chat_slowdown",
        )
    return {
        "method": method,
        "email": email,
        "uncertainty": unc,
        "max_occupancy": None if occ is None else float(occ),
        "chat_slowdown": None if slow is None else float(slow),
    }


def build_scenario(cfg) -> object:
    """``cfg.scenario`` -> :class:`sim.Scenario`."""
    from sim.scenario import Channel, IntervalGrid, Scenario, SkillGroup

    s = _plain(cfg)
    p = "scenario"
    if not isinstance(s, Mapping):
        raise ConfigError("expected a mapping", key=p)
    _unknown(
        s,
        {
            "name",
            "start_date",
            "days",
            "tz",
            "interval_min",
            "open_hour",
            "close_hour",
            "shrinkage",
            "absence",
            "blend_email",
            "sl_definition",
            "history",
            "channels",
            "groups",
            "synthetic",
        },
        p,
    )
    try:
        grid = IntervalGrid.from_days(
            _get(s, "start_date", p, types=str),
            _get(s, "days", p, types=int),
            _get(s, "interval_min", p, types=int),
            _get(s, "tz", p, types=str),
        )
    except ConfigError as e:
        raise (e.under(p) if e.key else e) from None
    chans_cfg = _get(s, "channels", p, types=Mapping)
    allowed = {f.name for f in fields(Channel)} - {"name"}
    channels = []
    for name, c in chans_cfg.items():
        key = f"{p}.channels.{name}"
        if not isinstance(c, Mapping):
            raise ConfigError("expected a mapping of channel settings", key=key)
        _unknown(c, allowed, key)
        if "kind" not in c:
            raise ConfigError("missing (voice, chat or email)", key=f"{key}.kind")
        try:
            channels.append(Channel(name=str(name), **c))
        except ConfigError as e:
            raise e.under(key) from None
        except TypeError as e:
            raise ConfigError(str(e), key=key) from None
    groups = []
    for name, g in _get(s, "groups", p, types=Mapping).items():
        key = f"{p}.groups.{name}"
        if not isinstance(g, Mapping):
            raise ConfigError("expected a mapping with channels and cost_per_hour", key=key)
        _unknown(g, {"channels", "cost_per_hour"}, key)
        try:
            groups.append(
                SkillGroup(
                    name=str(name),
                    channels=tuple(_get(g, "channels", key, types=(list, str))),
                    cost_per_hour=g.get("cost_per_hour", 1.0),
                )
            )
        except ConfigError as e:
            raise e.under(key) from None
    try:
        return Scenario(
            grid,
            tuple(channels),
            tuple(groups),
            open_hour=_get(s, "open_hour", p, 0.0),
            close_hour=_get(s, "close_hour", p, 24.0),
            shrinkage=_get(s, "shrinkage", p, 0.0),
            sl_definition=_get(s, "sl_definition", p, "offered"),
            name=str(_get(s, "name", p, "scenario")),
            absence=_get(s, "absence", p, "shift"),
            blend_email=_get(s, "blend_email", p, False),
        )
    except ConfigError as e:
        raise e.under(p) from None


def build_synthetic(cfg, scenario) -> dict:
    """``cfg.scenario.synthetic`` -> {channel: SyntheticChannel}: the demo profile of each channel's kind,
    with the fields the config overrides."""
    from forecast import SyntheticChannel, demo_channels

    s = _plain(cfg)
    overrides = s.get("synthetic") or {}
    if not isinstance(overrides, Mapping):
        raise ConfigError("expected a mapping of channel -> settings", key="scenario.synthetic")
    base = demo_channels()
    names = {f.name for f in fields(SyntheticChannel)}
    out = {}
    for extra in set(overrides) - set(scenario.channel_names):
        raise ConfigError(
            f"not a channel of the scenario ({scenario.channel_names})", key=f"scenario.synthetic.{extra}"
        )
    for ch in scenario.channels:
        spec = base[str(ch.kind)]
        spec = replace(
            spec,
            open_hour=scenario.open_hour,
            close_hour=scenario.close_hour,
            aht_s=ch.aht_s,
            aht_cv=ch.aht_cv,
        )
        o = overrides.get(ch.name) or {}
        key = f"scenario.synthetic.{ch.name}"
        _unknown(o, names, key)
        o = {
            k: (tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v)
            for k, v in o.items()
        }
        try:
            spec = replace(spec, **o)
        except (ConfigError, TypeError, ValueError) as e:
            detail = e.detail if isinstance(e, ConfigError) else str(e)
            raise ConfigError(detail, key=key) from None
        out[ch.name] = spec
    return out


SCHEDULE_OPTIONS = (
    "soft",
    "under_penalty",
    "targets",
    "email",
    "break_model",
    "min_agents",
    "max_agents",
    "max_part_time_share",
    "part_time_below_h",
    "catalogue",
    "week",
    "roster",
)


def build_rules(cfg):
    """``cfg.schedule`` -> (ShiftRules, options): the shift rules and the other keyword arguments of
    :func:`optim.schedule.solve` (``catalogue`` stays a path, read against the scenario by the plan)."""
    from optim.schedule import ShiftRules, TourRules

    s = _plain(cfg)
    p = "schedule"
    allowed = {f.name for f in fields(ShiftRules)} | set(SCHEDULE_OPTIONS)
    _unknown(s, allowed, p)
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in s.items() if k not in SCHEDULE_OPTIONS}
    try:
        rules = ShiftRules(**kw)
    except ConfigError as e:
        raise e.under(p) from None
    opt = {"soft": _get(s, "soft", p, False, types=bool)}
    pen = _get(s, "under_penalty", p, None, types=(int, float))
    if pen is not None and pen <= 0:
        raise ConfigError(f"expected a number > 0; got {pen!r}", key=f"{p}.under_penalty")
    opt["under_penalty"] = pen
    for key, choices in (
        ("targets", ("interval", "scope")),
        ("email", ("flow", "requirement")),
        ("break_model", ("implicit", "explicit")),
    ):
        v = _get(s, key, p, choices[0])
        if v not in choices:
            raise ConfigError(f"expected one of {list(choices)}; got {v!r}", key=f"{p}.{key}")
        opt[key] = v
    for key in ("min_agents", "max_agents"):
        v = _get(s, key, p, None, types=(int, float))
        if v is not None and v < 0:
            raise ConfigError(f"expected a number of agents >= 0; got {v!r}", key=f"{p}.{key}")
        opt[key] = v
    share = _get(s, "max_part_time_share", p, None, types=(int, float))
    if share is not None and not 0 <= share <= 1:
        raise ConfigError(f"expected a fraction in [0, 1]; got {share!r}", key=f"{p}.max_part_time_share")
    opt["max_part_time_share"] = share
    below = _get(s, "part_time_below_h", p, 6.0, types=(int, float))
    if not 0 < below <= 24:
        raise ConfigError(f"expected hours in (0, 24]; got {below!r}", key=f"{p}.part_time_below_h")
    opt["part_time_below_h"] = float(below)
    cat = _get(s, "catalogue", p, None, types=(str, list))
    if isinstance(cat, list):  # the shifts themselves, one mapping each
        for i, row in enumerate(cat):
            if not isinstance(row, Mapping):
                raise ConfigError(
                    f"expected a mapping with name, start, end (breaks, cost optional); got {row!r}",
                    key=f"{p}.catalogue[{i}]",
                )
            _unknown(row, {"name", "start", "end", "breaks", "cost"}, f"{p}.catalogue[{i}]")
    elif cat is not None and not Path(cat).is_file():
        raise ConfigError(
            f"expected a CSV file of shifts (name,start,end,breaks,cost); not found: {cat}",
            key=f"{p}.catalogue",
        )
    opt["catalogue"] = cat
    week = _get(s, "week", p, None, types=Mapping)
    if week is not None:
        _unknown(week, {f.name for f in fields(TourRules)}, f"{p}.week")
        try:
            week = TourRules(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in week.items()})
        except ConfigError as e:
            raise e.under(f"{p}.week") from None
    opt["week"] = week
    ro = _get(s, "roster", p, None, types=Mapping)
    if ro is not None:
        key = f"{p}.roster"
        _unknown(ro, {"agents", "min_rest_h", "pseudonymise"}, key)
        agents = _get(ro, "agents", key, types=str)
        if not Path(agents).is_file():
            raise ConfigError(f"expected a CSV file of agents; not found: {agents}", key=f"{key}.agents")
        rest = _get(ro, "min_rest_h", key, 11.0, types=(int, float))
        if not 0 <= rest < 168:
            raise ConfigError(f"expected hours in [0, 168); got {rest!r}", key=f"{key}.min_rest_h")
        pseud = _get(ro, "pseudonymise", key, False, types=(bool, str))
        ro = {"agents": agents, "min_rest_h": float(rest), "pseudonymise": pseud}
    opt["roster"] = ro
    return rules, opt


def build_solver(cfg):
    from optim.schedule import SolverOptions

    s = _plain(cfg)
    _unknown(s, {f.name for f in fields(SolverOptions)}, "solver")
    try:
        return SolverOptions(**s)
    except ConfigError as e:
        raise e.under("solver") from None


def validate(cfg) -> dict:
    """Check the whole job config; return the built values (scenario, rules, solver, ...)."""
    root = _plain(cfg)
    seed = root.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"expected an integer >= 0; got {seed!r}", key="seed")
    scenario = build_scenario(cfg["scenario"])
    hist = _plain(cfg["scenario"]).get("history") or {}
    _unknown(hist, {"source", "weeks", "path", "columns"}, "scenario.history")
    source = hist.get("source", "synthetic")
    if source not in ("synthetic", "intervals", "bank"):
        raise ConfigError(
            f"expected synthetic, intervals or bank (the bank's February 1999, shipped); got {source!r}",
            key="scenario.history.source",
        )
    weeks = hist.get("weeks", 8)
    if isinstance(weeks, bool) or not isinstance(weeks, int) or weeks < 1:
        raise ConfigError(f"expected an integer >= 1; got {weeks!r}", key="scenario.history.weeks")
    if source == "intervals" and not hist.get("path"):
        raise ConfigError(
            "expected a file path when scenario.history.source=intervals", key="scenario.history.path"
        )
    synthetic = build_synthetic(cfg["scenario"], scenario) if source == "synthetic" else None
    from experiments.tasks.forecasting import validate_forecast_cfg

    fm = validate_forecast_cfg(_plain(cfg["forecast"]))
    staffing = build_staffing(cfg["staffing"])
    rules, schedule_options = build_rules(cfg["schedule"])
    solver = build_solver(cfg["solver"])
    sm = _plain(cfg["sim"])
    _unknown(sm, {"replications", "workers"}, "sim")
    reps = sm.get("replications")
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise ConfigError(f"expected an integer >= 1; got {reps!r}", key="sim.replications")
    workers = sm.get("workers", 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ConfigError(f"expected an integer >= 0 (0 = one per core); got {workers!r}", key="sim.workers")
    tr = _plain(cfg["tracking"])
    _unknown(tr, {"enabled", "uri", "experiment", "artifact_root"}, "tracking")
    if tr.get("enabled") and not tr.get("uri"):
        raise ConfigError("expected a tracking URI (e.g. sqlite:///results/mlflow.db)", key="tracking.uri")
    return {
        "seed": seed,
        "scenario": scenario,
        "history": {
            "source": source,
            "weeks": weeks,
            "path": hist.get("path"),
            "columns": hist.get("columns"),
        },
        "synthetic": synthetic,
        "forecast": fm,
        "staffing": staffing,
        "rules": rules,
        "schedule": schedule_options,
        "solver": solver,
        "replications": reps,
        "workers": workers,
        "tracking": tr,
    }
