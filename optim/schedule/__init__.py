"""optim.schedule: shift templates, the scheduling MIP, solver backends (SCIP default, Gurobi optional)."""

from .backends import GUROBI_SIZE_LIMIT, SolveReport, SolverOptions, relative_gap, solve_model
from .model import LinearModel, ModelBuilder
from .roster import RosterReport, read_agents, roster
from .solve import build_schedule_model, need_matrix, solve
from .templates import (
    BreakRule,
    ShiftRules,
    Template,
    break_matrix,
    coverage_matrix,
    expand_breaks,
    make_templates,
    templates_from_table,
)
from .tours import TourRules, day_off_patterns

__all__ = [
    "RosterReport",
    "read_agents",
    "roster",
    "TourRules",
    "day_off_patterns",
    "BreakRule",
    "break_matrix",
    "expand_breaks",
    "GUROBI_SIZE_LIMIT",
    "LinearModel",
    "ModelBuilder",
    "ShiftRules",
    "SolveReport",
    "SolverOptions",
    "Template",
    "build_schedule_model",
    "coverage_matrix",
    "make_templates",
    "need_matrix",
    "relative_gap",
    "solve",
    "solve_model",
    "templates_from_table",
]
