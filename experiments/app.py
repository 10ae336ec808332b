"""The ``wfmlab`` command: a Hydra app running the default plan (``python -m experiments`` too).

Examples::

    wfmlab                                  # the demo week: forecast, requirements, MIP, simulation, report
    wfmlab seed=7 sim.replications=20       # any key of the config can be overridden
    wfmlab scenario=tiny tracking=none      # another scenario, no MLflow
    wfmlab -m seed=1,2,3 hydra/launcher=joblib   # a sweep, jobs in parallel
    wfmlab --cfg job                        # print the composed config

Heavy libraries (pandas, SCIP, SimPy, MLflow, matplotlib) are imported only when a job runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

__all__ = ["main", "run"]


def run(cfg: DictConfig, out_dir: Path | None = None) -> dict:
    """Run one job of the plan for a composed config (from @hydra.main or Hydra's compose API).

    Checks every config key before any work; writes the run files into ``out_dir`` (Hydra's run dir when
    None); logs to MLflow when ``tracking.enabled``. Returns the summary dict.
    """
    from experiments.config import validate

    values = validate(cfg)  # raises ConfigError naming the key, before any work
    from experiments.report import format_table, metrics_table, write_outputs
    from experiments.tasks.plan import run_plan
    from experiments.tracking import data_hash, git_commit, log_run

    if out_dir is None:
        from hydra.core.hydra_config import HydraConfig

        out_dir = Path(HydraConfig.get().runtime.output_dir)
    out_dir = Path(out_dir)
    quiet = bool(cfg.get("quiet", False))
    out = run_plan(values, out_dir, quiet=quiet)
    summary, files = write_outputs(values, out, out_dir)
    if values["tracking"].get("enabled"):
        tags = {
            "seed": values["seed"],
            "git_commit": git_commit(),
            "data_hash": data_hash(out["history"]),
            "solver": summary["solve"]["solver"],
            "solver_version": summary["solve"]["version"],
            "reproducible": summary["reproducible"],
            "run_dir": str(out_dir),
        }
        run_id = log_run(
            values["tracking"],
            config=OmegaConf.to_container(cfg, resolve=True),
            summary=summary,
            files=files,
            tags=tags,
            interval_metrics=metrics_table(values, out),
        )
        summary["mlflow_run_id"] = run_id
    print(format_table(summary))
    print(f"run dir: {out_dir}")
    return summary


@hydra.main(version_base="1.3", config_path="pkg://conf", config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    from forecast.errors import WfmError

    try:
        run(cfg)
    except WfmError as exc:
        print(f"wfmlab: error: {exc}", file=sys.stderr)
        sys.exit(2)


def main() -> None:
    """Console entry point."""
    _hydra_main()


if __name__ == "__main__":
    main()
