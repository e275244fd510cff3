"""Executors: run one picklable top-level function over many tasks, yielding results as they end.

``LocalPoolExecutor`` (default) uses a spawned :class:`concurrent.futures.ProcessPoolExecutor`;
``RayExecutor`` runs the same function as Ray tasks on a local Ray instance or a cluster
(``address="auto"``). Both yield ``(task, result)`` or ``(task, exception)`` pairs in
completion order, so one failing task never stops the others.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

from drivestack.core.warning_format import debug_enabled, use_one_line_warnings

T = TypeVar("T")
R = TypeVar("R")

Outcome = tuple[Any, Any | BaseException]


class Executor(Protocol):
    """``run(fn, tasks)`` yields ``(task, fn(task) or the exception it raised)`` as tasks end."""

    name: str
    workers: int

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[Outcome]: ...

    def close(self) -> None: ...


#: How often a pool worker checks that the fleet process that started it is still there.
PARENT_CHECK_S = 1.0


def exit_with_parent(parent_pid: int) -> None:
    """Pool worker initializer: a daemon thread that ends the worker once ``parent_pid`` is
    gone (the worker is re-parented), so a fleet killed with SIGKILL leaves no workers
    running on."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def init_worker(parent_pid: int, debug: bool = False) -> None:
    """Pool worker initializer: ignore SIGINT (a Ctrl-C reaches the whole process group; the
    fleet process alone handles it, by ending the pool: :func:`stop_pool`), end with the
    fleet process (:func:`exit_with_parent`) and show warnings as the command line does, one
    ``warning: ...`` line (Python's form when ``debug``, the parent's ``DRIVESTACK_DEBUG=1``:
    :func:`~drivestack.core.warning_format.use_one_line_warnings`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    use_one_line_warnings(debug)
    exit_with_parent(parent_pid)


def call_in_worker(fn: Callable[[T], R], task: T, debug: bool) -> R:
    """``fn(task)`` with warnings shown as the command line does (a Ray task's process has no
    initializer: this is what Ray runs; ``debug`` is the caller's ``DRIVESTACK_DEBUG=1``)."""
    use_one_line_warnings(debug)
    return fn(task)


#: How long :func:`stop_pool` waits for a terminated worker before killing it.
STOP_WAIT_S = 2.0


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """End ``pool`` now, its running tasks lost: cancel what is queued, terminate the workers
    and wait for them (SIGKILL for one that lingers). A plain ``shutdown()`` would wait for the
    running tasks, and workers left behind could block the interpreter's exit (joined at exit,
    one of them waiting on the task queue's lock forever)."""
    workers = list((pool._processes or {}).values())  # shutdown() drops these two
    manager: threading.Thread | None = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for p in workers:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + STOP_WAIT_S
    for p in workers:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()
    # the pool's manager thread sees its workers gone and ends too (it reaps them as well:
    # once it has ended, every worker's exit status is recorded)
    if manager is not None:
        manager.join(STOP_WAIT_S)


class WorkerDied(RuntimeError):
    """A worker process ended abruptly (segfault, out of memory, killed) while running a task."""


class LocalPoolExecutor:
    """A spawned process pool of ``workers`` processes with at most ``2 * workers`` tasks queued.

    A worker that dies (segfault, out of memory, killed) breaks a ``ProcessPoolExecutor`` and
    every task the pool held. Those tasks become suspects: a new pool runs them one at a time,
    so a task that kills its worker while running alone is the culprit; it is tried up to
    ``max_attempts`` times alone, then reported as :class:`WorkerDied`. The others go on.
    Workers ignore SIGINT, show warnings as one ``warning: ...`` line (as the command line;
    each worker shows a given warning once, Python's default filter) and end by themselves
    when this process dies (:func:`init_worker`);
    when the consumer stops early (a ``KeyboardInterrupt``, closing the generator), the pool
    is ended at once, its running tasks lost (:func:`stop_pool`).
    """

    name = "local"

    def __init__(self, workers: int = 1, max_attempts: int = 2) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        self.workers = workers
        self.max_attempts = max_attempts

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[Outcome]:
        queue = list(range(len(tasks)))[::-1]  # pop() from the end keeps the given order
        suspects: list[int] = []  # held by a pool that broke: run alone next
        attempts: Counter[int] = Counter()  # times a task broke a pool running alone
        while queue or suspects:
            ctx = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(
                self.workers,
                mp_context=ctx,
                initializer=init_worker,
                initargs=(os.getpid(), debug_enabled()),
            )
            try:  # (not `with`: its exit would wait for the running tasks)
                running: dict[Future[Any], int] = {}
                broken = False
                while (queue or suspects or running) and not broken:
                    if suspects:  # isolation: one task at a time
                        if not running:
                            i = suspects.pop()
                            running[pool.submit(fn, tasks[i])] = i
                    else:
                        while queue and len(running) < 2 * self.workers:
                            i = queue.pop()
                            running[pool.submit(fn, tasks[i])] = i
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    alone = len(running) == 1
                    for fut in done:
                        i = running.pop(fut)
                        try:
                            yield tasks[i], fut.result()
                        except BrokenProcessPool:
                            broken = True
                            if not alone:
                                suspects.append(i)
                                continue
                            attempts[i] += 1
                            if attempts[i] < self.max_attempts:
                                suspects.append(i)
                                continue
                            message = f"worker process died {attempts[i]} times running this task"
                            yield tasks[i], WorkerDied(message)
                        except Exception as exc:
                            yield tasks[i], exc
                if broken:  # every future still held is lost with the pool
                    for fut, i in running.items():
                        fut.cancel()
                        suspects.append(i)
            except BaseException:  # KeyboardInterrupt, GeneratorExit (closed early): end it now
                stop_pool(pool)
                raise
            pool.shutdown(wait=True)

    def close(self) -> None:
        pass


#: How many times a Ray task runs before its worker's death is its outcome (as the local
#: pool's ``max_attempts``).
RAY_ATTEMPTS = 2
#: How long :func:`check_reachable` waits for a Ray cluster's address to answer.
RAY_CONNECT_TIMEOUT_S = 5.0


def check_reachable(address: str, timeout_s: float = RAY_CONNECT_TIMEOUT_S) -> None:
    """``RuntimeError`` (one line) unless something answers a TCP connection at ``address``
    (``HOST:PORT``, ``ray://HOST:PORT``) within ``timeout_s``; ``ValueError`` for an address
    without a port. ``auto`` (Ray finds the cluster itself) is not checked."""
    if address == "auto":
        return
    where = address.split("://", 1)[-1].rstrip("/")
    host, sep, port_text = where.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"--ray-address {address!r} is not HOST:PORT, ray://HOST:PORT or auto")
    try:
        with socket.create_connection((host.strip("[]"), int(port_text)), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
        raise RuntimeError(
            f"no Ray cluster answers at {address} ({reason} within {timeout_s:g} s); check "
            "--ray-address (ray status on the head node shows it)"
        ) from None


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    """``text`` without terminal escape sequences (Ray colours its tracebacks).

    >>> strip_ansi("\x1b[36mray::f()\x1b[39m failed")
    'ray::f() failed'
    """
    return _ANSI.sub("", text)


def ray_failure(exc: Exception) -> Exception:
    """A Ray task's failure as the local pool reports it: a worker that died on every try
    (``WorkerCrashedError``) is :class:`WorkerDied`; a task that raised (``RayTaskError``)
    is the exception it raised, with Ray's remote traceback, ANSI colours stripped, as a note
    (its record's ``traceback``); anything else as it is."""
    import ray.exceptions

    if isinstance(exc, ray.exceptions.WorkerCrashedError):
        return WorkerDied(f"worker process died {RAY_ATTEMPTS} times running this task")
    if isinstance(exc, ray.exceptions.RayTaskError):
        cause = exc.cause if isinstance(exc.cause, Exception) else None
        if cause is not None:
            # (ray.get raises a RayTaskError(<cause's type>) whose text is the remote traceback)
            remote = strip_ansi(getattr(exc, "traceback_str", None) or str(exc)).strip()
            if remote and hasattr(cause, "add_note"):
                cause.add_note(f"remote traceback (Ray):\n{remote}")
            return cause
    return exc


class RayExecutor:
    """Ray tasks (one CPU each): a local instance with ``workers`` CPUs, or ``address``'s cluster.

    Ray is an optional extra (``pip install drivestack[ray]``); it is imported on construction.
    At most ``2 * workers`` tasks are in flight, so a 10,000-variant sweep does not pickle all
    of its tasks up front. Each task shows warnings as one ``warning: ...`` line
    (:func:`call_in_worker`); Ray's worker output goes to its logs, not to this process
    (``log_to_driver`` off).
    """

    name = "ray"

    def __init__(self, workers: int = 1, address: str | None = None) -> None:
        if workers < 1:  # (a window of 0 tasks in flight would wait forever)
            raise ValueError(f"workers must be >= 1, got {workers}")
        try:
            import ray
        except ImportError as exc:
            raise RuntimeError("the Ray executor needs ray: pip install 'drivestack[ray]'") from exc
        self._ray = ray
        self.workers = workers
        self._started = not ray.is_initialized()
        if self._started and address:
            check_reachable(address)  # ray.init waits minutes on an address nobody answers
        if self._started:
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "configure_logging": False,
            }
            try:
                if address:
                    ray.init(address=address, **kwargs)
                else:
                    ray.init(num_cpus=workers, **kwargs)
            except (RuntimeError, ConnectionError, ValueError):
                raise
            except Exception as exc:  # OSError, TimeoutError, ray's own: one RuntimeError
                where = f"the Ray cluster at {address}" if address else "a local Ray instance"
                raise RuntimeError(f"could not start {where}: {type(exc).__name__}: {exc}") from exc

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[Outcome]:
        ray = self._ray
        # a task whose worker dies is tried again once (max_retries counts worker deaths, not
        # the task's own exceptions), as the local pool tries a suspect alone once more
        remote = ray.remote(num_cpus=1, max_retries=RAY_ATTEMPTS - 1)(call_in_worker)
        debug = debug_enabled()
        queue = list(range(len(tasks)))[::-1]
        running: dict[Any, int] = {}
        window = 2 * self.workers
        while queue or running:
            while queue and len(running) < window:
                i = queue.pop()
                running[remote.remote(fn, tasks[i], debug)] = i
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                i = running.pop(ref)
                try:
                    yield tasks[i], ray.get(ref)
                except Exception as exc:  # RayTaskError, WorkerCrashedError, ...
                    yield tasks[i], ray_failure(exc)

    def close(self) -> None:
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()


def make_executor(kind: str, workers: int, address: str | None = None) -> Executor:
    """``local`` or ``ray`` executor with ``workers`` processes."""
    if kind == "local":
        return LocalPoolExecutor(workers)
    if kind == "ray":
        return RayExecutor(workers, address)
    raise ValueError(f"unknown executor {kind!r}; expected 'local' or 'ray'")
