"""optim: queueing formulas, staffing requirements, shift-scheduling MIPs."""

from .queueing import QueueMetrics, agents_for, chat_metrics, erlang_a, erlang_b, erlang_c
from .requirements import REQUIREMENT_COLUMNS, requirements

__all__ = [
    "QueueMetrics",
    "REQUIREMENT_COLUMNS",
    "agents_for",
    "chat_metrics",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "requirements",
]
