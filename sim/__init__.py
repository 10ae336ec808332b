"""sim: the model of the contact centre (scenario, schedule, SimPy engine, results)."""

from forecast.errors import ConfigError, DataError, WfmError

from .executors import Executor, ProcessExecutor, SerialExecutor, make_executor
from .result import SimResult, mean_ci
from .scenario import (
    Channel,
    ChannelKind,
    HandleDist,
    IntervalGrid,
    Scenario,
    SkillGroup,
    SLDefinition,
    TargetScope,
)
from .simulate import build_model, simulate, staffing_shifts
from .staffing import SCHEDULE_COLUMNS, Schedule, write_atomic

__all__ = [
    "Channel",
    "ChannelKind",
    "ConfigError",
    "DataError",
    "Executor",
    "HandleDist",
    "IntervalGrid",
    "ProcessExecutor",
    "SCHEDULE_COLUMNS",
    "Scenario",
    "Schedule",
    "SerialExecutor",
    "SimResult",
    "SkillGroup",
    "SLDefinition",
    "TargetScope",
    "WfmError",
    "build_model",
    "make_executor",
    "mean_ci",
    "simulate",
    "staffing_shifts",
    "write_atomic",
]
