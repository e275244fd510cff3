"""A replay's log I/O beside its stack: a second process reads the input frames ahead and
writes the output log while this process runs the stack.

Reading a log (chunk decompression, JSON, base64 and PNG decoding, building frames) and
writing one (JSON encoding, chunk compression) hold Python's GIL for most of their time, so a
thread could not run them beside the stack; a forked process runs them on another core. Where
``fork`` is not available the same code runs in a thread (``worker="thread"``).

Protocol, over one duplex pipe, in order:

- I/O side -> stack side: ``("frame", SensorFrame)`` for each input frame (or whatever else
  the input yields in its place, such as the reader's ``InputProblem`` for a bad frame: the
  stack side answers it like a frame, with ``("drop",)``), at most
  ``ahead_frames`` frames (and about ``ahead_bytes`` of their data) before the stack side has
  answered them; then ``("end_of_input", reason)``, ``reason`` None or why the input stopped
  (the text of a ``DataError``, ``ValueError`` or ``OSError`` raised by the input: a log cut
  short, a corrupt chunk); a ``ConfigError`` raised by the input (settings that do not fit
  it, such as a Velodyne calibration table for another model) is no end of input but an
  ``("error", exception)``;
  ``("closed", result)`` once the output log is complete (``result``: ``finish()``); or
  ``("error", exception)`` when anything else failed (nothing follows it). The I/O side then
  closes its end: it may be gone before the stack side has read all it sent, so a stack side
  whose message cannot be sent reads on to the I/O side's error and raises it.
- stack side -> I/O side, one answer per frame received, in order: ``("write", outputs)``
  (``write_frame(writer, frame, outputs)``) or ``("drop",)`` (nothing written: a frame the
  stack refused); then ``("close",)``: frames not answered yet are not written, the output
  log is closed.

Values cross the pipe pickled (protocol 5) with their read-only arrays as aligned read-only
buffers and read-only mappings as ``MappingProxyType``, so the stack sees the very values
(bytes, dtypes and flags) the reader built.
"""

from __future__ import annotations

import contextlib
import copyreg
import io
import multiprocessing
import pickle
import queue
import signal
import struct
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from types import MappingProxyType
from typing import IO, Any, Literal, NoReturn

import numpy as np

from drivestack.core.errors import ConfigError
from drivestack.replay.log_format import LogWriter
from drivestack.structures.sensor_frame import SensorFrame

#: Buffers start at multiples of this many bytes within a message (numpy alignment).
_ALIGN_BYTES = 64
_HEADER = struct.Struct("<QQ")  # pickle size, buffer count; then one <Q size per buffer
#: How long an aborting stack side waits for the I/O side to close the log before killing it.
ABORT_WAIT_S = 30.0


def _mapping_proxy(items: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(items)


def _read_only(array: np.ndarray) -> np.ndarray:
    return array


def _reduce_mapping_proxy(mapping: MappingProxyType[Any, Any]) -> tuple[Any, ...]:
    return _mapping_proxy, (dict(mapping),)


_DISPATCH = {**copyreg.dispatch_table, MappingProxyType: _reduce_mapping_proxy}


class _Pickler(pickle.Pickler):
    def __init__(self, stream: IO[bytes], buffer_callback: Callable[[Any], bool]) -> None:
        super().__init__(stream, protocol=5, buffer_callback=buffer_callback)
        self.dispatch_table = _DISPATCH

    def reducer_override(self, obj: Any) -> Any:
        """A read-only array that is not contiguous goes as a read-only contiguous copy
        (numpy would send it as a writeable copy)."""
        if (
            isinstance(obj, np.ndarray)
            and not obj.flags.writeable
            and not (obj.flags.c_contiguous or obj.flags.f_contiguous)
            and not obj.dtype.hasobject
        ):
            copy = np.ascontiguousarray(obj)
            copy.setflags(write=False)
            return _read_only, (copy,)
        return NotImplemented


def encode(value: Any) -> bytes:
    """One message: the sizes, the pickle, then each read-only buffer at an aligned offset
    (writeable arrays stay in the pickle: they are read back as writeable copies)."""
    buffers: list[memoryview] = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        view = buffer.raw()
        if not view.readonly:
            return True  # in band
        buffers.append(view)
        return False

    stream = io.BytesIO()
    _Pickler(stream, out_of_band).dump(value)
    body = stream.getbuffer()
    parts: list[Any] = [
        _HEADER.pack(body.nbytes, len(buffers)),
        struct.pack(f"<{len(buffers)}Q", *(b.nbytes for b in buffers)),
        body,
    ]
    offset = _HEADER.size + 8 * len(buffers) + body.nbytes
    for view in buffers:
        pad = -offset % _ALIGN_BYTES
        parts += [bytes(pad), view]
        offset += pad + view.nbytes
    return b"".join(parts)


def decode(data: bytes) -> Any:
    """The value of an :func:`encode` message; its buffers are read-only views of ``data``."""
    view = memoryview(data)
    body_size, count = _HEADER.unpack_from(data)
    sizes = struct.unpack_from(f"<{count}Q", data, _HEADER.size)
    offset = _HEADER.size + 8 * count
    body = view[offset : offset + body_size]
    offset += body_size
    buffers = []
    for size in sizes:
        offset += -offset % _ALIGN_BYTES
        buffers.append(view[offset : offset + size])
        offset += size
    return pickle.loads(body, buffers=buffers)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` when it survives pickling, else a RuntimeError with its type and text; either
    way with the I/O side's traceback as a note."""
    text = "".join(traceback.format_exception(exc))
    try:
        copy = pickle.loads(pickle.dumps(exc))
    except Exception:
        copy = RuntimeError(f"{type(exc).__name__}: {exc}")
    if isinstance(copy, BaseException):
        copy.add_note(f"in the replay's log I/O worker:\n{text}")
        return copy
    return RuntimeError(f"{type(exc).__name__}: {exc}")


class _Outbox:
    """The I/O side's messages to the stack side, sent in order by a thread: the I/O loop
    goes on reading while the stack side is busy (a frame is larger than the pipe holds)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="drivestack-replay-outbox")
        self._thread.start()

    def put(self, message: tuple[Any, ...]) -> int:
        """Queue ``message``; its size in bytes."""
        data = encode(message)
        self._queue.put(data)
        return len(data)

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            try:
                self._conn.send_bytes(data)
            except OSError:
                return  # the stack side is gone; the I/O loop finds out when it reads

    def close(self) -> None:
        """Send what is queued, then stop."""
        self._queue.put(None)
        self._thread.join()


def serve(
    conn: Connection,
    frames: Iterable[SensorFrame],
    open_writer: Callable[[], LogWriter],
    write_frame: Callable[[LogWriter, SensorFrame, Any], None],
    finish: Callable[[], Any],
    ahead_frames: int,
    ahead_bytes: int,
) -> None:
    """The I/O side (see the module docstring); returns when the log is closed or on error."""
    outbox = _Outbox(conn)
    try:
        writer = open_writer()
        try:
            _serve_frames(
                conn, outbox, iter(frames), writer, write_frame, ahead_frames, ahead_bytes
            )
        finally:
            writer.close()
        outbox.put(("closed", finish()))
    except BaseException as exc:
        outbox.put(("error", _portable(exc)))
    finally:
        outbox.close()
        conn.close()  # the stack side reads what was sent, then the end of the pipe


def _serve_frames(
    conn: Connection,
    outbox: _Outbox,
    source: Iterator[SensorFrame] | None,
    writer: LogWriter,
    write_frame: Callable[[LogWriter, SensorFrame, Any], None],
    ahead_frames: int,
    ahead_bytes: int,
) -> None:
    pending: deque[tuple[SensorFrame, int]] = deque()  # sent, not answered yet
    pending_bytes = 0
    while True:
        if (
            source is not None
            and len(pending) < ahead_frames
            and pending_bytes < ahead_bytes
            and not conn.poll()
        ):
            try:
                frame = next(source)
            except StopIteration:
                source = None
                outbox.put(("end_of_input", None))
                continue
            except ConfigError:
                raise  # the settings, not the input: the run fails (serve sends the error)
            except (ValueError, OSError) as exc:  # DataError is a ValueError
                source = None
                outbox.put(("end_of_input", str(exc)))
                continue
            size = outbox.put(("frame", frame))
            pending.append((frame, size))
            pending_bytes += size
            continue
        kind, *args = decode(conn.recv_bytes())
        if kind == "close":
            return
        frame, size = pending.popleft()
        pending_bytes -= size
        if kind == "write":
            write_frame(writer, frame, args[0])


def _serve_in_child(stack_end: Connection, *args: Any) -> None:
    """The forked I/O process: Ctrl-C is the stack side's to handle (it closes the log)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stack_end.close()  # this process's copy of the other end: EOF when the stack side exits
    serve(*args)


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class LogIO:
    """The stack side: frames in, one answer per frame, then :meth:`close` (or :meth:`abort`).

    Args:
        frames: the input frames (iterated on the I/O side only).
        open_writer: opens the output log (called on the I/O side).
        write_frame: writes one frame and the stack's outputs for it (on the I/O side).
        finish: called on the I/O side after the log is closed; its value is :meth:`close`'s.
        worker: ``"process"`` (a forked process; a thread where fork is not available) or
            ``"thread"``.
        ahead_frames, ahead_bytes: how far the I/O side may read ahead of the stack.
    """

    def __init__(
        self,
        frames: Iterable[SensorFrame],
        open_writer: Callable[[], LogWriter],
        write_frame: Callable[[LogWriter, SensorFrame, Any], None],
        finish: Callable[[], Any],
        *,
        worker: Literal["process", "thread"] = "process",
        ahead_frames: int = 32,
        ahead_bytes: int = 256 << 20,
    ) -> None:
        if worker not in ("process", "thread"):
            raise ValueError(f"worker must be 'process' or 'thread', got {worker!r}")
        if ahead_frames < 1 or ahead_bytes < 1:
            raise ValueError(f"read-ahead must be positive, got {ahead_frames}, {ahead_bytes}")
        self.input_stopped: str | None = None
        self._ended = False  # "closed", "error" or a lost worker seen
        self._conn, io_end = multiprocessing.Pipe(duplex=True)
        args = (frames, open_writer, write_frame, finish, ahead_frames, ahead_bytes)
        self._process: Any = None
        self._thread: threading.Thread | None = None
        if worker == "process" and fork_available():
            context = multiprocessing.get_context("fork")
            self._process = context.Process(
                target=_serve_in_child,
                args=(self._conn, io_end, *args),
                name="drivestack-replay-io",
                daemon=True,
            )
            self._process.start()
            io_end.close()  # the child holds it now
        else:
            self._thread = threading.Thread(
                target=serve, args=(io_end, *args), name="drivestack-replay-io", daemon=True
            )
            self._thread.start()

    @property
    def in_process(self) -> bool:
        """Whether the I/O side is a separate process."""
        return self._process is not None

    def _take(self, timeout_s: float | None = None) -> tuple[Any, ...]:
        """The next message (TimeoutError after ``timeout_s``); raises what the I/O side
        raised, or RuntimeError when it is gone."""
        try:
            answered = timeout_s is None or self._conn.poll(timeout_s)
            message = decode(self._conn.recv_bytes()) if answered else None
        except (EOFError, OSError):
            self._ended = True
            code = self._process.exitcode if self._process is not None else None
            raise RuntimeError(
                f"the replay's log I/O worker ended unexpectedly (exit code {code})"
            ) from None
        if message is None:  # (raised out here: TimeoutError is an OSError, not a dead worker)
            raise TimeoutError(f"no message from the replay's log I/O worker in {timeout_s} s")
        if message[0] in ("closed", "error"):
            self._ended = True
        if message[0] == "error":
            raise message[1]
        return tuple(message)

    def frames(self) -> Iterator[SensorFrame]:
        """The input frames, in order; answer each with :meth:`write` or :meth:`drop`. When
        the input stopped early, :attr:`input_stopped` says why."""
        while True:
            kind, *args = self._take()
            if kind == "frame":
                yield args[0]
            elif kind == "end_of_input":
                self.input_stopped = args[0]
                return
            else:
                raise RuntimeError(f"unexpected {kind!r} from the replay's log I/O worker")

    def write(self, outputs: Any) -> None:
        """Write the oldest unanswered frame with ``outputs``; raises what failed on the I/O
        side when it has ended."""
        self._send(("write", outputs))

    def drop(self) -> None:
        """Write nothing for the oldest unanswered frame; raises what failed on the I/O side
        when it has ended."""
        self._send(("drop",))

    def _send(self, message: tuple[Any, ...]) -> None:
        """Send ``message`` to the I/O side; when it has ended (its end of the pipe is
        closed: it failed, or died), raise why."""
        try:
            self._conn.send_bytes(encode(message))
        except (BrokenPipeError, ConnectionResetError):  # EPIPE, ECONNRESET: the peer is gone
            self._raise_why_ended()

    def _raise_why_ended(self) -> NoReturn:
        """Read what the ended I/O side sent before it went (frames not taken yet are
        dropped) up to its error, which :meth:`_take` raises, or the end of the pipe
        (RuntimeError)."""
        while True:
            self._take()

    def close(self) -> Any:
        """Close the output log (after everything answered is written); ``finish()``'s value.
        Raises what failed on the I/O side."""
        self._send(("close",))
        while True:  # frames read ahead are left unanswered
            kind, *args = self._take()
            if kind == "closed":
                self._join()
                return args[0]

    def abort(self) -> None:
        """Close the output log with what is written so far (on the way out of an error);
        never raises. A worker that has not finished within ``ABORT_WAIT_S`` is killed."""
        with contextlib.suppress(Exception):
            if not self._ended:
                self._conn.send_bytes(encode(("close",)))
            while not self._ended:
                try:
                    self._take(timeout_s=ABORT_WAIT_S)
                except TimeoutError:
                    break
                except Exception:
                    pass  # the worker's own error (it ends the worker): the caller is raising
        self._join(timeout_s=ABORT_WAIT_S)

    def _join(self, timeout_s: float | None = None) -> None:
        if self._process is not None:
            self._process.join(timeout_s)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        elif self._thread is not None:
            self._thread.join(timeout_s)
        self._conn.close()
