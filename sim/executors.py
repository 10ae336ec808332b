"""Executors run independent replications; results come back in replication order, so that the numbers
are identical for any number of workers. A Ray executor can implement the same ``map`` later."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Protocol

__all__ = ["Executor", "SerialExecutor", "ProcessExecutor", "make_executor"]


class Executor(Protocol):
    def map(self, fn: Callable, args: Sequence[tuple]) -> list: ...


class SerialExecutor:
    """Runs every task in this process, in order."""

    def map(self, fn, args):
        return [fn(*a) for a in args]


class ProcessExecutor:
    """Runs tasks in a pool of ``workers`` processes; results are returned in task order."""

    def __init__(self, workers: int):
        self.workers = int(workers)

    def map(self, fn, args):
        args = list(args)
        if self.workers <= 1 or len(args) <= 1:
            return SerialExecutor().map(fn, args)
        with ProcessPoolExecutor(max_workers=min(self.workers, len(args))) as pool:
            futures = [pool.submit(fn, *a) for a in args]
            return [f.result() for f in futures]


def make_executor(workers: int | None) -> Executor:
    """``workers`` <= 1: serial; 0 or None: one process per core; n: n processes."""
    if workers is None or workers == 0:
        workers = os.cpu_count() or 1
    return SerialExecutor() if workers <= 1 else ProcessExecutor(workers)
