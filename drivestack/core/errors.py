"""Error types. Every error about input names where the bad value came from."""

from __future__ import annotations


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


class ConfigError(DataError):
    """Bad configuration: names the file and the key."""


class MissingDependencyError(DrivestackError, ImportError):
    """An optional package that this input or feature needs is not installed; the message
    names the package and how to install it."""
