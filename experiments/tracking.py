"""MLflow tracking: one run per job with the resolved config, seed, git commit, data hash, solver, metrics
(logged in batches) and the run's files as artifacts. mlflow is imported lazily (the CLI starts fast)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import time
from pathlib import Path

import pandas as pd

__all__ = ["flatten", "git_commit", "data_hash", "log_run"]


def flatten(d, prefix: str = "") -> dict[str, str]:
    """Nested mapping -> {"a.b.c": "value"} with string values (MLflow params)."""
    out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    out[prefix[:-1]] = str(d)
    return out


def git_commit(path: Path | None = None) -> str:
    """The current git commit of the project (with '-dirty' if the tree has changes), or 'unknown'."""
    cwd = Path(path or Path(__file__).resolve().parent.parent)
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def data_hash(df: pd.DataFrame) -> str:
    """SHA-256 (first 16 hex digits) of a table's content."""
    h = hashlib.sha256(pd.util.hash_pandas_object(df, index=False).values.tobytes())
    return h.hexdigest()[:16]


def _metrics(summary: dict) -> dict[str, float]:
    m = {}
    for name, c in summary["channels"].items():
        for k in ("service_level", "asa_s", "abandon_rate", "occupancy", "offered_per_replication"):
            if c.get(k) is not None:
                m[f"{name}.{k}"] = float(c[k])
    st = summary["staffing"]
    m["cost_total"] = float(st["cost_total"])
    m["agent_hours_total"] = float(st["agent_hours_total"])
    m["shifts"] = float(st["shifts"])
    sv = summary["solve"]
    for k in ("objective", "best_bound", "gap"):
        if sv.get(k) is not None:
            m[f"mip.{k}"] = float(sv[k])
    for k, v in summary["timing"].items():
        m[f"timing.{k}"] = float(v)
    return m


@contextlib.contextmanager
def _store_lock(uri: str):
    """Serialise access to a SQLite tracking store across processes (the jobs of a parallel sweep): MLflow
    creates and migrates the schema on first use, which races when several jobs open a new store at once."""
    if not uri.startswith("sqlite:///"):
        yield
        return
    db = Path(uri[len("sqlite:///") :])
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(str(db) + ".lock", "a+") as fh:
        try:
            import fcntl

            fcntl.flock(fh, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - no fcntl (Windows): no cross-process lock
            pass
        yield


def log_run(tracking: dict, **kwargs) -> str:
    """Log one run to MLflow; returns the run id. Params, metrics and tags go in batches.

    Keyword arguments: ``config`` (resolved config, logged as params), ``summary``, ``files`` (artifacts),
    ``tags``, ``interval_metrics`` (per-interval service level, logged as a metric history). Runs under a
    file lock for a SQLite store, so that the parallel jobs of a sweep do not race."""
    with _store_lock(tracking["uri"]):
        return _log_run(tracking, **kwargs)


def _log_run(
    tracking: dict,
    *,
    config: dict,
    summary: dict,
    files: dict,
    tags: dict,
    interval_metrics: pd.DataFrame | None = None,
) -> str:
    import logging

    import mlflow
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    # the store's INFO lines ("Creating initial MLflow database tables...") would break the summary table
    for name in ("mlflow.store.db.utils", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)
    uri = tracking["uri"]
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri)
    name = tracking.get("experiment") or "wfmlab"
    exp = client.get_experiment_by_name(name)
    if exp is None:
        root = tracking.get("artifact_root")
        loc = Path(root).resolve().as_uri() if root else None
        try:
            exp_id = client.create_experiment(name, artifact_location=loc)
        except Exception:  # noqa: BLE001 - created concurrently by another job of a sweep
            exp_id = client.get_experiment_by_name(name).experiment_id
    else:
        exp_id = exp.experiment_id
    run = client.create_run(exp_id, run_name=f"{summary['scenario']}-seed{summary['seed']}")
    rid = run.info.run_id
    now = int(time.time() * 1000)
    params = flatten(config)
    plist = [Param(k[:250], v[:6000]) for k, v in params.items()]
    tlist = [RunTag(k, str(v)) for k, v in tags.items()]
    mlist = [Metric(k, v, now, 0) for k, v in _metrics(summary).items()]
    if interval_metrics is not None and len(interval_metrics):
        # per-interval service level as a metric history (step = interval index)
        for ch, d in interval_metrics.groupby("channel", sort=False):
            for i, v in zip(d["interval"].to_numpy(), d["service_level"].to_numpy()):
                if v == v:
                    mlist.append(Metric(f"{ch}.interval_service_level", float(v), now, int(i)))
    for i in range(0, len(plist), 100):
        client.log_batch(rid, params=plist[i : i + 100])
    client.log_batch(rid, tags=tlist)
    for i in range(0, len(mlist), 1000):
        client.log_batch(rid, metrics=mlist[i : i + 1000])
    for p in files.values():
        client.log_artifact(rid, str(p))
    hydra_dir = Path(next(iter(files.values()))).parent / ".hydra"
    if hydra_dir.is_dir():
        client.log_artifacts(rid, str(hydra_dir), artifact_path="hydra")
    client.set_terminated(rid, "FINISHED")
    os.environ.pop("MLFLOW_RUN_ID", None)
    return rid
