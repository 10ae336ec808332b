"""Tasks of the Hydra app: the default plan (more tasks, e.g. sweeps and simopt, come later)."""

from .plan import derive_seed, run_plan

__all__ = ["derive_seed", "run_plan"]
