"""Executors: task errors and dead workers are reported per task; the rest still run."""

from __future__ import annotations

import math
import signal

import pytest

from drivestack.exec.executors import LocalPoolExecutor, WorkerDied, make_executor


def test_local_pool_reports_task_errors() -> None:
    out = dict(LocalPoolExecutor(2).run(math.sqrt, [4.0, -1.0, 9.0]))
    assert out[4.0] == 2.0 and out[9.0] == 3.0
    assert isinstance(out[-1.0], ValueError)


def test_local_pool_survives_a_dead_worker() -> None:
    # SIGCHLD is ignored by default (the task returns None); SIGKILL kills the worker process
    tasks = [signal.SIGCHLD, signal.SIGKILL, signal.SIGCHLD, signal.SIGCHLD]
    outcomes = list(LocalPoolExecutor(1, max_attempts=2).run(signal.raise_signal, tasks))
    assert len(outcomes) == 4
    dead = [o for t, o in outcomes if t == signal.SIGKILL]
    assert len(dead) == 1 and isinstance(dead[0], WorkerDied)
    assert [o for t, o in outcomes if t == signal.SIGCHLD] == [None, None, None]


def test_make_executor_rejects_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="unknown executor"):
        make_executor("slurm", 2)
    with pytest.raises(ValueError, match="workers"):
        make_executor("local", 0)
