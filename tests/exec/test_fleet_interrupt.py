"""Ctrl-C in a fleet: pool workers ignore SIGINT (only the fleet process handles it), and a
``KeyboardInterrupt`` in the fleet's loop ends the pool at once, its workers gone, instead of
leaving them to the interpreter's exit (where a fleet could hang for good after printing
"interrupted")."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from drivestack.exec.executors import LocalPoolExecutor
from drivestack.exec.fleet import INDEX_NAME, run_fleet
from drivestack.exec.sweep import SweepSpec, expand_variants, parse_sweep_param
from drivestack.exec.task import VariantTask, variant_record
from drivestack.sim.scenario import load_scenarios

SLOW_S = 60.0  # far beyond every test's timeout: a test that waits for it fails


class InterruptAfterFirst:
    """The local pool, with a Ctrl-C arriving in the consumer's loop after the first result
    (the pool's generator is then suspended at its ``yield``, as when SIGINT hits the fleet
    process while it writes a record). The workers sleep instead of running the variants
    (a stdlib function: the spawned workers cannot import this test module): the first task
    ends at once, the others would take a minute."""

    name = "local"

    def __init__(self, workers: int) -> None:
        self.inner = LocalPoolExecutor(workers)
        self.workers = workers
        self.closed = False

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        sleeps = [0.0] + [SLOW_S + i for i in range(1, len(tasks))]
        self._task_of = dict(zip(sleeps, tasks, strict=True))
        self._it = self.inner.run(time.sleep, sleeps)
        self._n = 0
        return self

    def __iter__(self) -> InterruptAfterFirst:
        return self

    def __next__(self) -> tuple[Any, Any]:
        self._n += 1
        if self._n == 2:
            raise KeyboardInterrupt
        sleep_s, _ = next(self._it)
        task: VariantTask = self._task_of[sleep_s]
        return task, {**variant_record(task.variant), "status": "ok", "score": 90.0,
                      "passed": True, "collision": False}  # fmt: skip

    def close(self) -> None:  # run_fleet closes the iterator it reads (and the executor)
        self.closed = True
        self._it.close()


@pytest.mark.timeout(60)
def test_pool_workers_ignore_sigint() -> None:
    outcomes = list(LocalPoolExecutor(2).run(signal.getsignal, [signal.SIGINT] * 3))
    assert [o for _, o in outcomes] == [signal.SIG_IGN] * 3


@pytest.mark.timeout(45)
def test_closing_the_run_ends_the_pool_without_waiting_for_its_tasks() -> None:
    run = LocalPoolExecutor(2).run(time.sleep, [0.0, SLOW_S, SLOW_S, SLOW_S])
    assert next(run) == (0.0, None)
    workers = multiprocessing.active_children()
    assert workers  # the pool's processes, two still sleeping
    start = time.monotonic()
    run.close()  # as a KeyboardInterrupt in the consumer's loop does (try/finally)
    assert time.monotonic() - start < 15.0
    assert not any(p.is_alive() for p in workers)
    assert multiprocessing.active_children() == []


@pytest.mark.timeout(60)
def test_a_keyboard_interrupt_in_the_fleet_loop_ends_the_workers(
    tmp_path: Path, scenario_file: Path
) -> None:
    spec = SweepSpec((parse_sweep_param("ego.speed_kph=30:50"),), count=4)
    variants = expand_variants(load_scenarios(scenario_file), ["pdm"], spec)
    executor = InterruptAfterFirst(2)
    out = tmp_path / "fleet"
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_fleet(variants, out, executor, progress=False)
    assert time.monotonic() - start < 40.0
    assert executor.closed
    assert multiprocessing.active_children() == []  # no worker left for the exit to join
    # the index holds the one finished variant, whole: a rerun resumes after it
    records = [json.loads(line) for line in (out / INDEX_NAME).read_text().splitlines()]
    assert [r["variant"] for r in records] == [variants[0].variant_id]


def test_a_report_on_a_fleet_stopped_part_way_counts_its_variants_that_never_ran(
    scenario_file: Path, tmp_path: Path
) -> None:
    # A fleet interrupted after 2 of its 4 variants was reported as "2 runs, 2 passed, 0
    # missing" (and against a baseline the gate passed); a resume's stale fleet_summary.json
    # stayed beside it. fleet.json now lists the folder's variant ids before the first run.
    from drivestack.exec.fleet import MANIFEST_NAME, SUMMARY_NAME
    from drivestack.report.collect import load_run
    from tests.exec.test_fleet_fuzz_inputs import InlineExecutor, _task

    spec = SweepSpec((parse_sweep_param("ego.speed_kph=40:80"),), count=4)
    variants = expand_variants(load_scenarios(scenario_file), ["pdm"], spec)
    out = tmp_path / "f"
    run_fleet(variants, out, InlineExecutor(), progress=False, task_fn=_task)
    assert (out / SUMMARY_NAME).exists()
    (out / INDEX_NAME).unlink()  # start again in the same folder, stopped after 2 runs
    for v in variants:
        shutil.rmtree(out / v.variant_id)
    calls = []

    def stop_at_third(task: VariantTask) -> dict[str, Any]:
        calls.append(task)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return _task(task)

    with pytest.raises(KeyboardInterrupt):
        run_fleet(variants, out, InlineExecutor(), progress=False, task_fn=stop_at_third)
    ids = json.loads((out / MANIFEST_NAME).read_text())["variant_ids"]
    assert ids == sorted(v.variant_id for v in variants)
    assert not (out / SUMMARY_NAME).exists()  # the last invocation's is gone
    run = load_run(out)
    statuses = {row.key: row.status for row in run.rows}
    assert sorted(statuses.values()) == ["missing", "missing", "pass", "pass"]
    problems = "\n".join(run.problems)
    assert f"{out / SUMMARY_NAME}: missing beside fleet.json: the fleet did not finish" in problems
    assert "2 of its listed runs never ran; rerun the same fleet command to resume" in problems
    never = [row for row in run.rows if row.status == "missing"]
    assert all("listed in fleet.json but never run (the fleet was" in r.error for r in never)
    run_fleet(variants, out, InlineExecutor(), progress=False, task_fn=_task)  # resumed
    run = load_run(out)
    assert [row.status for row in run.rows] == ["pass"] * 4 and not run.problems
