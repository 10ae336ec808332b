"""Queueing: exact Erlang B, C and A, chat with concurrency, inverse staffing, square-root staffing,
forecast uncertainty, deferred work and service-level envelopes for MIPs. Vectorised over numpy arrays.

Units: arrival rates per second, times in seconds, loads in Erlangs.
"""

from ._deferred import deferred_agents, deferred_workload, due_intervals
from ._envelope import service_level_envelope, upper_concave_hull
from ._erlang import QueueMetrics, chat_metrics, erlang_a, erlang_b, erlang_c, sojourn_cdf
from ._staffing import (
    agents_for,
    combined_shape,
    expected_metrics,
    halfin_whitt_beta,
    scheduled_agents,
    sqrt_staffing,
)

__all__ = [
    "QueueMetrics",
    "agents_for",
    "chat_metrics",
    "combined_shape",
    "deferred_agents",
    "deferred_workload",
    "due_intervals",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "expected_metrics",
    "halfin_whitt_beta",
    "scheduled_agents",
    "service_level_envelope",
    "sojourn_cdf",
    "sqrt_staffing",
    "upper_concave_hull",
]
