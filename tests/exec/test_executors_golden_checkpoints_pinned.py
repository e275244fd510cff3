"""Pinned rules of three modules, each expected value worked out from the docstrings:

* :mod:`drivestack.exec.executors`: the local pool's window of ``2 * workers`` tasks, a dead
  worker's suspects run alone and the culprit tried ``max_attempts`` times, closing the run
  terminates (then kills) the workers; the Ray executor's set-up, window and retries (on a
  fake ``ray`` module); :func:`check_reachable`'s addresses and message; :func:`ray_failure`.
* :mod:`drivestack.replay.golden`: what a golden record holds (ordering, rounding), the
  comparison's tolerances and lines, the record checks and the saved file.
* :mod:`drivestack.core.checkpoints`: :func:`load_failure`'s one-line reasons and
  :func:`check_state_dict`'s refusals.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import os
import pickle
import socket
import sys
import time
import types
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.core import checkpoints
from drivestack.core.errors import DataError
from drivestack.core.warning_format import DEBUG_ENV
from drivestack.exec import executors
from drivestack.exec.executors import (
    RAY_ATTEMPTS,
    RAY_CONNECT_TIMEOUT_S,
    LocalPoolExecutor,
    RayExecutor,
    WorkerDied,
    check_reachable,
    init_worker,
    make_executor,
    strip_ansi,
)
from drivestack.prediction.forecast import Forecast
from drivestack.replay.golden import (
    check_golden,
    compare_golden,
    golden_record,
    load_golden,
    save_golden,
)
from drivestack.replay.log_format import LogWriter, TrackForecasts
from drivestack.replay.runner import DETECTIONS_TOPIC, FORECASTS_TOPIC, TRACKS_TOPIC
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.tracks import Tracks
from tests.replay.test_golden_diff import _record

# ------------------------------------------------------------------ local pool (in-process)


class _PoolLog:
    """What the fake pools of one run saw: the pools, the tasks pending at each ``wait``."""

    def __init__(self, killers: Iterable[Any] = ()) -> None:
        self.killers = set(killers)
        self.pools: list[_FakePool] = []
        self.waits: list[list[Any]] = []
        self.shutdowns = 0

    def submitted(self) -> list[Any]:
        return [task for pool in self.pools for task in pool.submitted]


class _FakePool:
    """An in-process ``ProcessPoolExecutor``: futures end at the next ``wait``. A task in
    ``killers`` breaks the pool as a dead worker does: its future gets ``BrokenProcessPool``
    and the other pending ones are lost with the pool."""

    def __init__(self, log: _PoolLog, workers: int, **kwargs: Any) -> None:
        self.log, self.workers, self.kwargs = log, workers, kwargs
        self.submitted: list[Any] = []
        self.pending: dict[Future[Any], tuple[Callable[[Any], Any], Any]] = {}
        log.pools.append(self)

    def submit(self, fn: Callable[[Any], Any], task: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        self.submitted.append(task)
        self.pending[fut] = (fn, task)
        return fut

    def settle(self) -> None:
        killed = [f for f, (_, task) in self.pending.items() if task in self.log.killers]
        for fut in killed or list(self.pending):
            fn, task = self.pending.pop(fut)
            if killed:
                fut.set_exception(BrokenProcessPool("a worker died"))
                continue
            try:
                fut.set_result(fn(task))
            except Exception as exc:
                fut.set_exception(exc)

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        self.log.shutdowns += 1


@pytest.fixture
def fake_pool(monkeypatch: pytest.MonkeyPatch) -> _PoolLog:
    """``executors``' process pool and ``wait`` replaced by :class:`_FakePool`'s."""
    log = _PoolLog()

    def pool(workers: int, **kwargs: Any) -> _FakePool:
        return _FakePool(log, workers, **kwargs)

    def wait(fs: Iterable[Future[Any]], return_when: str) -> tuple[set[Any], set[Any]]:
        futures = list(fs)
        current = log.pools[-1]
        log.waits.append([current.pending[f][1] for f in futures if f in current.pending])
        current.settle()
        done = {f for f in futures if f.done()}
        return done, set(futures) - done

    monkeypatch.setattr(executors, "ProcessPoolExecutor", pool)
    monkeypatch.setattr(executors, "wait", wait)
    return log


def test_the_local_pool_queues_two_tasks_per_worker_in_the_given_order(
    fake_pool: _PoolLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most ``2 * workers`` tasks queued (2 workers: 4, then the 3 left), submitted in the
    given order; spawned workers started by :func:`init_worker` with this process's pid and
    ``DRIVESTACK_DEBUG=1``."""
    monkeypatch.setenv(DEBUG_ENV, "1")
    tasks = ["a", "b", "c", "d", "e", "f", "g"]
    out = dict(LocalPoolExecutor(2).run(str.upper, tasks))
    assert out == {t: t.upper() for t in tasks}
    assert [len(w) for w in fake_pool.waits] == [4, 3]
    assert fake_pool.submitted() == tasks
    (pool,) = fake_pool.pools
    assert pool.workers == 2 and fake_pool.shutdowns == 1
    assert pool.kwargs["initializer"] is init_worker
    assert pool.kwargs["initargs"] == (os.getpid(), True)
    assert pool.kwargs["mp_context"].get_start_method() == "spawn"


@pytest.mark.parametrize(("workers", "max_attempts"), [(1, 2), (2, 2), (2, 3)])
def test_a_dead_worker_is_pinned_on_the_task_that_kills_it_alone(
    fake_pool: _PoolLog, workers: int, max_attempts: int
) -> None:
    """Every task of a broken pool is a suspect, run alone in a new pool; the one that breaks
    a pool alone is tried ``max_attempts`` times alone (plus its first, shared run), then is
    ``WorkerDied``; the others run once more and every task has one outcome."""
    fake_pool.killers = {"k"}
    tasks = ["a", "k", "b", "c", "d"]
    outcomes = list(LocalPoolExecutor(workers, max_attempts=max_attempts).run(str.upper, tasks))
    assert sorted(t for t, _ in outcomes) == sorted(tasks)  # one outcome each
    out = dict(outcomes)
    assert {t: out[t] for t in tasks if t != "k"} == {"a": "A", "b": "B", "c": "C", "d": "D"}
    assert isinstance(out["k"], WorkerDied)
    assert str(out["k"]) == f"worker process died {max_attempts} times running this task"
    submitted = fake_pool.submitted()
    assert submitted.count("k") == 1 + max_attempts
    first, *alone = [w for w in fake_pool.waits if "k" in w]
    assert len(first) == 2 * workers and alone == [["k"]] * max_attempts
    # the tasks queued with the culprit ran again; those not yet queued ran once
    assert [submitted.count(t) for t in tasks] == [2, 1 + max_attempts] + [
        2 if i < 2 * workers else 1 for i in range(2, len(tasks))
    ]
    assert fake_pool.shutdowns == len(fake_pool.pools)


def test_the_default_max_attempts_is_two(fake_pool: _PoolLog) -> None:
    """``LocalPoolExecutor(workers)`` tries a culprit twice alone (as Ray's RAY_ATTEMPTS)."""
    fake_pool.killers = {"k"}
    out = dict(LocalPoolExecutor(1).run(str.upper, ["k"]))
    assert str(out["k"]) == "worker process died 2 times running this task" and RAY_ATTEMPTS == 2


def test_make_executor_passes_the_worker_count() -> None:
    """``make_executor("local", n)`` is a local pool of ``n`` workers, default attempts."""
    executor = make_executor("local", 3)
    assert isinstance(executor, LocalPoolExecutor)
    assert (executor.name, executor.workers, executor.max_attempts) == ("local", 3, 2)


# ------------------------------------------------------------------ local pool (processes)


def _wait_for(path: Path, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def _end_children() -> None:
    for p in multiprocessing.active_children():  # a mutant's left-over workers
        p.kill()
        p.join()


@pytest.mark.timeout(120)
def test_closing_a_run_terminates_a_busy_worker_without_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """:func:`stop_pool` terminates a worker running a task (SIGTERM), before its wait of
    ``STOP_WAIT_S`` (raised here to 60 s: only a worker that lingers waits that long)."""
    monkeypatch.setattr(executors, "STOP_WAIT_S", 60.0)
    started = tmp_path / "started"
    busy = f"open({str(started)!r}, 'w').close(); import time; time.sleep(60)"
    run = LocalPoolExecutor(1).run(exec, ["pass", busy])  # (exec: the spawned workers have it)
    try:
        assert next(run) == ("pass", None)
        _wait_for(started)
        start = time.monotonic()
        run.close()
        assert time.monotonic() - start < 20.0
        assert multiprocessing.active_children() == []
    finally:
        _end_children()


@pytest.mark.timeout(120)
def test_closing_a_run_kills_a_worker_that_ignores_sigterm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker still alive ``STOP_WAIT_S`` after SIGTERM (its task ignores it) is killed."""
    monkeypatch.setattr(executors, "STOP_WAIT_S", 0.5)
    started = tmp_path / "started"
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"open({str(started)!r}, 'w').close(); time.sleep(60)"
    )
    run = LocalPoolExecutor(1).run(exec, ["pass", stubborn])
    try:
        assert next(run) == ("pass", None)
        _wait_for(started)
        run.close()
        assert multiprocessing.active_children() == []
    finally:
        _end_children()


# ------------------------------------------------------------------ Ray executor (fake ray)


class _Ref:
    def __init__(self, task: Any, value: Any = None, error: Exception | None = None) -> None:
        self.task, self.value, self.error = task, value, error


class _FakeRay(types.SimpleNamespace):
    """The parts of ``ray`` that :class:`RayExecutor` uses; a remote call runs at once."""

    def __init__(self, initialized: bool = False, init_error: Exception | None = None) -> None:
        super().__init__()
        self.initialized, self.init_error = initialized, init_error
        self.calls: list[tuple[str, Any]] = []
        self.in_flight: list[int] = []
        self.exceptions = types.SimpleNamespace(
            WorkerCrashedError=type("WorkerCrashedError", (Exception,), {}),
            RayTaskError=type("RayTaskError", (Exception,), {}),
        )

    def is_initialized(self) -> bool:
        return self.initialized

    def init(self, **kwargs: Any) -> None:
        self.calls.append(("init", kwargs))
        if self.init_error is not None:
            raise self.init_error
        self.initialized = True

    def shutdown(self) -> None:
        self.calls.append(("shutdown", None))
        self.initialized = False

    def remote(self, **options: Any) -> Callable[[Callable[..., Any]], Any]:
        self.calls.append(("remote", options))
        fake = self

        def wrap(call: Callable[..., Any]) -> Any:
            def remote(fn: Callable[[Any], Any], task: Any, debug: bool) -> _Ref:
                fake.calls.append(("task", (task, debug)))
                if task == "crash":
                    return _Ref(task, error=fake.exceptions.WorkerCrashedError("died"))
                return _Ref(task, value=fn(task))

            return types.SimpleNamespace(remote=remote)

        return wrap

    def wait(self, refs: list[_Ref], num_returns: int) -> tuple[list[_Ref], list[_Ref]]:
        self.in_flight.append(len(refs))
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref: _Ref) -> Any:
        if ref.error is not None:
            raise ref.error
        return ref.value


@pytest.fixture
def fake_ray(monkeypatch: pytest.MonkeyPatch) -> Callable[..., _FakeRay]:
    """Install a :class:`_FakeRay` as ``ray`` (and ``ray.exceptions``)."""

    def install(**kwargs: Any) -> _FakeRay:
        fake = _FakeRay(**kwargs)
        monkeypatch.setitem(sys.modules, "ray", fake)
        monkeypatch.setitem(sys.modules, "ray.exceptions", fake.exceptions)
        return fake

    return install


def test_ray_starts_a_local_instance_and_keeps_two_tasks_per_worker_in_flight(
    fake_ray: Callable[..., _FakeRay], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A local instance of ``workers`` CPUs, no dashboard, worker output not sent here; tasks
    of one CPU each tried ``RAY_ATTEMPTS`` times in all (``max_retries`` counts the retries),
    at most ``2 * workers`` in flight, submitted in the given order with the caller's
    ``DRIVESTACK_DEBUG``; a worker that died on every try is ``WorkerDied``; ``close`` ends
    the instance it started."""
    monkeypatch.setenv(DEBUG_ENV, "1")
    ray = fake_ray()
    executor = RayExecutor(3)
    assert ray.calls == [
        (
            "init",
            {
                "num_cpus": 3,
                "include_dashboard": False,
                "log_to_driver": False,
                "configure_logging": False,
            },
        )
    ]
    tasks = [f"t{i}" for i in range(8)] + ["crash"]
    out = dict(executor.run(str.upper, tasks))
    assert {t: out[t] for t in tasks[:-1]} == {t: t.upper() for t in tasks[:-1]}
    assert isinstance(out["crash"], WorkerDied)
    assert str(out["crash"]) == "worker process died 2 times running this task"
    assert ray.calls[1] == ("remote", {"num_cpus": 1, "max_retries": 1})
    assert [c[1] for c in ray.calls if c[0] == "task"] == [(t, True) for t in tasks]
    assert max(ray.in_flight) == 6 and ray.in_flight[0] == 6
    executor.close()
    assert ray.calls[-1] == ("shutdown", None)


def test_ray_already_running_is_used_as_it_is_and_left_running(
    fake_ray: Callable[..., _FakeRay],
) -> None:
    """A Ray instance this process already started: no address check, no ``init``, and
    ``close`` leaves it running (it is not the executor's)."""
    ray = fake_ray(initialized=True)
    executor = RayExecutor(2, address="not an address")  # would be a ValueError if checked
    executor.close()
    assert ray.calls == [] and ray.initialized


def test_ray_init_errors(fake_ray: Callable[..., _FakeRay]) -> None:
    """``RuntimeError``, ``ConnectionError`` and ``ValueError`` from ``ray.init`` come out as
    they are; any other error is one ``RuntimeError`` naming the cluster's address."""
    fake_ray(init_error=ConnectionError("refused by the head"))
    with pytest.raises(ConnectionError, match=r"^refused by the head$"):
        RayExecutor(2, address="auto")
    fake_ray(init_error=TimeoutError("took too long"))
    with pytest.raises(RuntimeError) as info:
        RayExecutor(2, address="auto")
    assert str(info.value) == (
        "could not start the Ray cluster at auto: TimeoutError: took too long"
    )


def test_make_executor_passes_the_ray_address(fake_ray: Callable[..., _FakeRay]) -> None:
    """``make_executor("ray", n, address)`` joins ``address``'s cluster (not a local one)."""
    ray = fake_ray()
    executor = make_executor("ray", 4, "auto")
    assert executor.name == "ray" and executor.workers == 4
    assert ray.calls[0] == (
        "init",
        {
            "address": "auto",
            "include_dashboard": False,
            "log_to_driver": False,
            "configure_logging": False,
        },
    )


# ------------------------------------------------------------------ Ray addresses, failures


@pytest.fixture
def listening() -> Iterable[int]:
    """A port on 127.0.0.1 that accepts connections."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_an_address_with_a_trailing_slash_is_checked(listening: int) -> None:
    """``ray://HOST:PORT/`` (as copied from a browser) is ``HOST:PORT``."""
    check_reachable(f"ray://127.0.0.1:{listening}/", timeout_s=1.0)
    check_reachable(f"127.0.0.1:{listening}", timeout_s=1.0)


def test_an_ipv6_address_in_brackets_is_checked() -> None:
    """``[::1]:PORT``: the brackets are not part of the host."""
    try:
        server = socket.socket(socket.AF_INET6)
        server.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with server:
        server.listen()
        check_reachable(f"[::1]:{server.getsockname()[1]}", timeout_s=1.0)


@pytest.mark.parametrize(
    "address", ["127.0.0.1:0", "127.0.0.1:65536", ":6379", "ray://:6379", "head:port", "ray://"]
)
def test_an_address_without_a_host_or_a_valid_port_is_a_value_error(address: str) -> None:
    """A port is 1..65535 and a host is not empty: else ``ValueError`` naming the option."""
    with pytest.raises(ValueError) as info:
        check_reachable(address, timeout_s=0.5)
    assert str(info.value) == (
        f"--ray-address {address!r} is not HOST:PORT, ray://HOST:PORT or auto"
    )


def test_an_address_nobody_answers_is_one_line_naming_the_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The connection waits ``timeout_s`` (default ``RAY_CONNECT_TIMEOUT_S``); a timeout
    reads "no answer", another error its text or else its type; the wait shown as ``%g``;
    no chained traceback."""
    seen: list[float] = []
    errors: list[OSError] = [TimeoutError("timed out"), TimeoutError(), ConnectionRefusedError()]

    def connect(address: tuple[str, int], timeout: float) -> None:
        seen.append(timeout)
        raise errors.pop(0)

    monkeypatch.setattr(executors.socket, "create_connection", connect)
    tail = "; check --ray-address (ray status on the head node shows it)"
    with pytest.raises(RuntimeError) as info:
        check_reachable("10.1.2.3:6379", timeout_s=0.5)
    assert (
        str(info.value) == f"no Ray cluster answers at 10.1.2.3:6379 (no answer within 0.5 s){tail}"
    )
    assert info.value.__cause__ is None and info.value.__suppress_context__
    with pytest.raises(RuntimeError) as info:
        check_reachable("ray://10.1.2.3:10001")
    assert str(info.value) == (
        f"no Ray cluster answers at ray://10.1.2.3:10001 (no answer within 5 s){tail}"
    )
    with pytest.raises(RuntimeError, match=r"\(ConnectionRefusedError within 1 s\)"):
        check_reachable("10.1.2.3:6379", timeout_s=1.0)
    assert seen == [0.5, RAY_CONNECT_TIMEOUT_S, 1.0]


def test_strip_ansi_removes_private_mode_sequences() -> None:
    """``ESC[?25l`` / ``ESC[?25h`` (cursor off / on, as progress bars write) are escapes too."""
    assert strip_ansi("\x1b[?25lray::f()\x1b[?25h failed\x1b[0m") == "ray::f() failed"


def test_ray_failure_notes_and_what_it_leaves_as_it_is() -> None:
    """The remote traceback is one note, colours and surrounding blank lines stripped; no
    note when Ray has no traceback; a task that raised a ``BaseException`` that is not an
    ``Exception`` (``SystemExit``) stays the ``RayTaskError``."""
    ray_exceptions = pytest.importorskip("ray.exceptions")
    from drivestack.exec.executors import ray_failure

    cause = ValueError("boom")
    error = ray_exceptions.RayTaskError(
        "call_in_worker", "\n\x1b[36mray::call_in_worker()\x1b[39m\nValueError: boom\n\n", cause
    )
    assert ray_failure(error) is cause
    assert cause.__notes__ == ["remote traceback (Ray):\nray::call_in_worker()\nValueError: boom"]
    quiet = ValueError("quiet")
    assert ray_failure(ray_exceptions.RayTaskError("call_in_worker", "", quiet)) is quiet
    assert not hasattr(quiet, "__notes__")
    exiting = ray_exceptions.RayTaskError("call_in_worker", "tb", SystemExit(3))
    assert ray_failure(exiting) is exiting


# ------------------------------------------------------------------ golden: comparison


def test_the_tolerance_is_a_thousandth_for_boxes_and_scores() -> None:
    """A box parameter moved by 0.002 or a score changed by 0.005 is a difference; 0.0009 of
    either is not."""
    reference = _record()
    near = copy.deepcopy(reference)
    near["frames"][0]["detections"]["box"][0][0] += 0.0009
    near["frames"][0]["detections"]["score"][0] += 0.0009
    assert compare_golden(near, reference) == []
    far = copy.deepcopy(reference)
    far["frames"][0]["detections"]["box"][0][0] += 0.002
    far["frames"][0]["detections"]["score"][0] += 0.005
    assert compare_golden(far, reference) == [
        "t=2.300 s detections: box parameters moved by up to 0.002 (tolerance 0.001): box 0 "
        "(car at x=10.00, y=2.00) x 10 -> 10.002",
        "t=2.300 s detections: scores changed by up to 0.005 (tolerance 0.001): box 0 "
        "(car at x=10.00, y=2.00) 0.9 -> 0.905",
    ]


def test_a_nan_is_named_before_a_larger_finite_change() -> None:
    """The worst error named is a NaN (a NaN never agrees) even beside a larger number."""
    reference = _record()
    current = copy.deepcopy(reference)
    current["frames"][0]["tracks"]["score"] = [0.0, float("nan")]
    assert compare_golden(current, reference) == [
        "t=2.300 s tracks: scores changed by up to nan (tolerance 0.001): track 9 "
        "(pedestrian at x=20.00, y=-3.00) 0.6 -> nan"
    ]


def test_forecast_end_points_move_by_their_distance() -> None:
    """An end point moved by (0.3, 0.4) moved 0.5 m (the Euclidean distance); other ids are
    a change of ids."""
    frame = {"t": 0, "forecasts": {"id": [3], "end_xy": [[5.0, 2.0]]}}
    moved = {"t": 0, "forecasts": {"id": [3], "end_xy": [[5.3, 2.4]]}}
    assert compare_golden({"frames": [moved]}, {"frames": [frame]}) == [
        "t=0.000 s forecasts: end points moved by up to 0.5 m (tolerance 0.001): track 3 "
        "(5, 2) -> (5.3, 2.4)"
    ]
    other = {"t": 0, "forecasts": {"id": [4], "end_xy": [[5.0, 2.0]]}}
    assert compare_golden({"frames": [other]}, {"frames": [frame]}) == [
        "t=0.000 s forecasts: track ids [3] -> [4]"
    ]


def test_an_unknown_label_and_a_missing_topic_are_named() -> None:
    """A label that is no class reads ``label <n>``; a topic in one record only is named."""
    reference = _record()
    current = copy.deepcopy(reference)
    current["frames"][0]["detections"]["label"] = [1, 99]
    assert compare_golden(current, reference) == [
        "t=2.300 s detections: box 1 (pedestrian at x=20.00, y=-3.00) is now label 99; "
        "classes [car, pedestrian] -> [car, label 99]"
    ]
    del current["frames"][0]["detections"]
    assert compare_golden(current, reference) == ["t=2.300 s detections: present in one run only"]
    assert compare_golden(current, copy.deepcopy(current)) == []


def test_a_detection_yaw_is_an_axis_and_a_track_yaw_a_heading() -> None:
    """Detections: yaw +-0.00001 across 0 and a half turn are no change; tracks: a half turn
    is a change of pi."""
    reference = _record(yaw=0.0)
    current = _record(yaw=-0.00001)
    current["frames"][0]["detections"]["box"][1][6] = 0.3 + np.pi
    assert compare_golden(current, reference) == []
    current["frames"][0]["tracks"]["box"][1][6] = 0.3 - np.pi
    (line,) = compare_golden(current, reference)
    assert line.startswith("t=2.300 s tracks: box parameters moved by up to 3.142 ")
    assert "track 9 (pedestrian at x=20.00, y=-3.00) yaw 0.3 -> -2.8416" in line


# ------------------------------------------------------------------ golden: records and files


def test_check_golden_refuses_bools_for_integers_and_names_the_order() -> None:
    """``True`` is no integer label nor time; a time not after the one before names it."""
    record = _record()
    record["frames"][0]["detections"]["label"] = [1, True]
    with pytest.raises(DataError) as info:
        check_golden(record, "g.json")
    assert str(info.value) == (
        "g.json: frame 0 (t=2300000000) detections: field label: row 1: expected an integer, "
        "got True"
    )
    with pytest.raises(DataError, match=r"frame 0: field t: .*got True"):
        check_golden({"frames": [{"t": True}]}, "g.json")
    with pytest.raises(DataError) as info:
        check_golden({"frames": [{"t": 100}, {"t": 100}]}, "g.json")
    assert str(info.value) == (
        "g.json: frame 1: field t: expected an integer time in ns, increasing after t=100, got 100"
    )


def test_check_golden_needs_columns_of_one_length() -> None:
    """A column shorter than the ones before it names its length and theirs."""
    record = _record()
    record["frames"][0]["detections"]["score"] = [0.9]
    with pytest.raises(DataError) as info:
        check_golden(record, "g.json")
    assert str(info.value) == (
        "g.json: frame 0 (t=2300000000) detections: field score: 1 values, but 2 in the "
        "columns before it"
    )


def test_save_golden_makes_its_folder_and_writes_compact_json(tmp_path: Path) -> None:
    """``save_golden`` creates missing folders; one line of compact JSON; loads back equal."""
    path = tmp_path / "new" / "folder" / "golden.json"
    record = _record()
    save_golden(path, record)
    assert path.read_text() == json.dumps(record, separators=(",", ":")) + "\n"
    assert load_golden(path) == record


def _box(x: float, y: float, yaw: float = 0.0) -> list[float]:
    return [x, y, 0.5, 4.0, 2.0, 1.5, yaw]


def test_golden_record_orders_rounds_and_keeps_each_track_with_its_box(tmp_path: Path) -> None:
    """Detections ordered by label, then x, then y; tracks by id, each with its own box,
    label and score; every number rounded to 5 decimals; forecasts: each track's centre xy
    at the horizon (the last step), by id; a frame of forecasts without tracks: none."""
    t0, t1 = 100_000_000, 200_000_000
    detections = Boxes3D.from_array7(
        [_box(1.0, 0.0), _box(9.0, 0.0), _box(3.0, 2.123456789), _box(3.0, -1.0)],
        "ego",
        t0,
        label=[2, 1, 1, 1],
        score=[0.5, 0.7, 0.9123456789, 0.1],
    )
    tracks = Tracks(
        np.array([9, 4]),
        Boxes3D.from_array7(
            [_box(1.0, 1.0), _box(20.0, 5.0)], "ego", t0, label=[1, 2], score=[0.8, 0.6]
        ),
    )
    steps = np.array(
        [[_box(1.0, 1.0), _box(2.0, 1.0), _box(3.0, 1.5)],
         [_box(20.0, 5.0), _box(21.0, 5.0), _box(22.5, 4.0)]]
    )  # fmt: skip
    forecast = Forecast(dt_s=0.5, boxes=steps, speed_mps=np.full((2, 3), 2.0))
    none = Forecast(dt_s=0.5, boxes=np.zeros((0, 3, 7)), speed_mps=np.zeros((0, 3)))
    path = tmp_path / "run.mcap"
    with LogWriter(path, config={}) as log:
        log.boxes(DETECTIONS_TOPIC, detections, kind="detections")
        log.tracks(TRACKS_TOPIC, tracks)
        log.forecasts(FORECASTS_TOPIC, TrackForecasts(np.array([9, 4]), forecast, "ego", t0))
        log.boxes(DETECTIONS_TOPIC, Boxes3D.from_array7(np.zeros((0, 7)), "ego", t1))
        log.forecasts(FORECASTS_TOPIC, TrackForecasts(np.zeros(0, np.int64), none, "ego", t1))
    first, second = golden_record(path)["frames"]
    assert first["t"] == t0 and second["t"] == t1
    assert first["detections"] == {
        "label": [1, 1, 1, 2],
        "box": [_box(3.0, -1.0), _box(3.0, 2.12346), _box(9.0, 0.0), _box(1.0, 0.0)],
        "score": [0.1, 0.91235, 0.7, 0.5],
    }
    assert first["tracks"] == {
        "id": [4, 9],
        "label": [2, 1],
        "box": [_box(20.0, 5.0), _box(1.0, 1.0)],
        "score": [0.6, 0.8],
    }
    assert first["forecasts"] == {"id": [4, 9], "end_xy": [[22.5, 4.0], [3.0, 1.5]]}
    assert second == {
        "t": t1,
        "detections": {"label": [], "box": [], "score": []},
        "forecasts": {"id": [], "end_xy": []},
    }
    check_golden(golden_record(path), path)  # what it writes passes its own checks


def test_a_frame_without_tracks_keeps_its_detections(tmp_path: Path) -> None:
    """A frame whose tracker holds no track yet (the first frames of a drive) still records
    its detections, and an empty ``tracks`` entry."""
    detections = Boxes3D.from_array7([_box(1.0, 2.0)], "ego", 100, label=[1], score=[0.5])
    no_tracks = Tracks(np.zeros(0, np.int64), Boxes3D.from_array7(np.zeros((0, 7)), "ego", 100))
    path = tmp_path / "run.mcap"
    with LogWriter(path, config={}) as log:
        log.boxes(DETECTIONS_TOPIC, detections, kind="detections")
        log.tracks(TRACKS_TOPIC, no_tracks)
    (frame,) = golden_record(path)["frames"]
    assert frame["detections"] == {"label": [1], "box": [_box(1.0, 2.0)], "score": [0.5]}
    assert frame["tracks"] == {"id": [], "label": [], "box": [], "score": []}


# ------------------------------------------------------------------ checkpoints


REFUSED = "refusing to unpickle Python objects from an untrusted file (they could run code)"


@pytest.mark.parametrize(
    ("exc", "starts_as_zip", "reason"),
    [
        (KeyError("\x80"), False, "neither a torch zip archive nor a tensor-only pickle"),
        (EOFError("Ran out of input"), False, "empty or truncated file"),
        (
            RuntimeError(
                "[enforce fail at inline_container.cc:319] . file in archive is not in a "
                "subdirectory archive/: data.pkl"
            ),
            False,
            "RuntimeError: file in archive is not in a subdirectory archive/: data.pkl",
        ),
        (RuntimeError(""), False, "RuntimeError"),
        (
            RuntimeError("\n  zip reader failed. See the docs.\n"),
            False,
            "RuntimeError: zip reader failed",
        ),
        (
            RuntimeError("PytorchStreamReader failed reading zip archive: not a ZIP archive"),
            True,
            "empty or truncated file",
        ),
    ],
)
def test_load_failure_reasons(exc: Exception, starts_as_zip: bool, reason: str) -> None:
    """A KeyError (no pickle protocol byte) is not a pickle, an EOFError is a cut file; other
    errors: their type and first sentence of their first non-blank line, without torch's
    ``[enforce fail at ...]`` prefix, or the type alone when they have no text."""
    assert checkpoints.load_failure(exc, starts_as_zip) == f"not a torch checkpoint ({reason})"


def test_load_failure_names_a_pickled_object_without_colours_or_full_stop() -> None:
    """The named global is read after torch's ANSI colours are stripped, its final '.' cut."""
    coloured = pickle.UnpicklingError(
        "Weights only load failed.\nUnsupported global: GLOBAL \x1b[1mmymod.Evil\x1b[0m was not "
        "an allowed global by default."
    )
    assert checkpoints.load_failure(coloured) == (
        f"{REFUSED}: it pickles the Python object mymod.Evil"
    )
    stop = RuntimeError("Unsupported global: GLOBAL mymod.Evil.")
    assert checkpoints.load_failure(stop) == f"{REFUSED}: it pickles the Python object mymod.Evil"


def test_a_folder_is_not_a_checkpoint_and_names_why(tmp_path: Path) -> None:
    """An unreadable path (a folder) is not 'empty or truncated': its own error is named."""
    with pytest.raises(DataError) as info:
        checkpoints.load_tensor_checkpoint(tmp_path)
    assert str(info.value) == (
        f"{tmp_path}: not a torch checkpoint (IsADirectoryError: [Errno 21] Is a directory: "
        f"'{tmp_path}')"
    )


def test_a_plain_pickle_is_refused_without_torchs_protocol_warning(tmp_path: Path) -> None:
    """A protocol-4 pickle (no torch archive): refused, and torch's "Detected pickle
    protocol" warning is not shown (it fails anyway)."""
    torch = pytest.importorskip("torch")
    path = tmp_path / "plain.pt"
    path.write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DataError) as info:
            checkpoints.load_tensor_checkpoint(path)
    assert str(info.value) == (
        f"{path}: not a torch checkpoint (neither a torch zip archive nor a tensor-only pickle)"
    )
    assert not [w for w in caught if "pickle protocol" in str(w.message)]
    good = tmp_path / "good.pt"
    torch.save({"w": torch.arange(3.0)}, good)
    assert checkpoints.load_tensor_checkpoint(good)["w"].tolist() == [0.0, 1.0, 2.0]


def test_check_state_dict_refuses_quantized_tensors() -> None:
    """A quantized tensor (strided layout, but not dense floats) is refused at its name."""
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (torch deprecates quantized tensor creation)
        q = torch.quantize_per_tensor(torch.zeros(2), 0.1, 0, torch.qint8)
    with pytest.raises(DataError) as info:
        checkpoints.check_state_dict({"w": q}, {"w": torch.zeros(2)}, "q.pt")
    assert str(info.value) == (
        "q.pt: field state_dict.w: a quantized tensor: the network's weights are dense, save "
        "them with .to_dense()"
    )


def test_check_state_dict_refuses_a_tensor_without_values(tmp_path: Path) -> None:
    """A checkpoint saved from a network built on torch's ``meta`` device holds no weights:
    a DataError naming the file and the tensor, as for any value that is not dense weights."""
    torch = pytest.importorskip("torch")
    path = tmp_path / "meta.pt"
    torch.save({"w": torch.empty(2, device="meta")}, path)
    state = checkpoints.load_tensor_checkpoint(path)
    with pytest.raises(DataError) as info:
        checkpoints.check_state_dict(state, {"w": torch.zeros(2)}, str(path))
    assert (info.value.path, info.value.field) == (str(path), "state_dict.w")


def test_check_state_dict_compares_shapes_and_keeps_integer_buffers() -> None:
    """Shapes compare exactly ((3, 2) is not (2, 3)); an integer buffer where the network
    has one (BatchNorm's ``num_batches_tracked``) fits; the state itself is returned."""
    torch = pytest.importorskip("torch")
    own = {"w": torch.zeros(2, 3), "n": torch.tensor(0)}
    state = {"w": torch.ones(2, 3), "n": torch.tensor(7)}
    assert checkpoints.check_state_dict(state, own, "w.pt") is state
    with pytest.raises(DataError) as info:
        checkpoints.check_state_dict({"w": torch.ones(3, 2), "n": torch.tensor(7)}, own, "w.pt")
    assert str(info.value) == (
        "w.pt: field state_dict: weights do not fit the network of its config: 1 of another "
        "shape (e.g. ['w'])"
    )
    with pytest.raises(DataError) as info:
        checkpoints.check_state_dict({"x": torch.ones(1), "n": torch.tensor(7)}, own, "w.pt")
    assert str(info.value) == (
        "w.pt: field state_dict: weights do not fit the network of its config: 1 missing "
        "(e.g. ['w']), 1 unexpected (e.g. ['x'])"
    )


def test_executors_refuse_fewer_than_one_worker_or_attempt() -> None:
    """workers 0 would keep no task in flight and wait forever; max_attempts 0 would read
    'died 1 times' after one try: both refused up front (Ray's before it is imported)."""
    with pytest.raises(ValueError, match=r"max_attempts must be >= 1, got 0"):
        LocalPoolExecutor(workers=1, max_attempts=0)
    with pytest.raises(ValueError, match=r"workers must be >= 1, got 0"):
        RayExecutor(workers=0)
