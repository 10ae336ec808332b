"""experiments: the Hydra app, the plan's tasks, MLflow tracking, reports and benchmarks."""
