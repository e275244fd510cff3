"""Error types. Every error about input names where the bad value came from."""

from __future__ import annotations

import reprlib


class DrivestackError(Exception):
    """Base class of drivestack's own errors."""


class DataError(DrivestackError, ValueError):
    """Bad input data: names the file, the record within it and the field.

    >>> str(DataError("NaN in coordinates", path="a.bin", record="point 7", field="x"))
    'a.bin: point 7: field x: NaN in coordinates'
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        record: str | int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = path
        self.record = record
        self.field = field
        self.reason = message
        parts = []
        if path is not None:
            parts.append(str(path))
        if record is not None:
            parts.append(str(record))
        if field is not None:
            parts.append(f"field {field}")
        parts.append(message)
        super().__init__(": ".join(parts))

    def with_reason(self, reason: str) -> DataError:
        """The same error (type, file, record and field) with another ``reason``: a caller
        that knows more adds it (raise ``err.with_reason(...) from None``)."""
        return type(self)(reason, path=self.path, record=self.record, field=self.field)


class ConfigError(DataError):
    """Bad configuration: names the file and the key."""


class MissingDependencyError(DrivestackError, ImportError):
    """An optional package that this input or feature needs is not installed; the message
    names the package and how to install it."""


def in_chain(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``exc`` or an exception in its ``__cause__`` / ``__context__`` chain is a
    ``kind``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class Terminated(KeyboardInterrupt):
    """SIGTERM (CI cancellations, ``docker stop``, ``timeout``), raised where Ctrl-C would be
    so that every cleanup an interrupted run does runs for it too (see
    :func:`drivestack.cli.interrupted_as_exit_status`)."""


def is_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is Ctrl-C: a ``KeyboardInterrupt``, or an error raised while one was
    under way (one in its ``__cause__``/``__context__`` chain). A SIGINT that lands inside a
    numba kernel comes out as ``SystemError: CPUDispatcher(...) returned a result with an
    exception set`` whose context is the ``KeyboardInterrupt``."""
    return in_chain(exc, KeyboardInterrupt)


class _BriefRepr(reprlib.Repr):
    def repr_int(self, x: int, level: int) -> str:
        # repr() of an int past Python's 4300-digit limit raises; say its size instead
        if x.bit_length() > 14_000:
            return f"<an integer of about {int(x.bit_length() * 0.30103)} digits>"
        return super().repr_int(x, level)


def _brief_repr() -> reprlib.Repr:
    shown = _BriefRepr()
    shown.maxlevel, shown.maxstring, shown.maxother = 2, 80, 80
    shown.maxlist = shown.maxtuple = shown.maxdict = shown.maxset = 5
    return shown


_BRIEF = _brief_repr()


def brief_repr(value: object) -> str:
    """``repr(value)`` cut to 5 elements a level, 2 levels and 200 characters, for an error
    message about an untrusted value: a YAML alias chain or a pickled structure of shared
    lists a few hundred bytes long would print as 10**9 elements in full."""
    text = _BRIEF.repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
