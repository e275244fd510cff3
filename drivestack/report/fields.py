"""Checked fields of the JSON files a report reads: each bad value is a ``ValueError`` naming
its dotted field (``metrics.recorded.ctrv.vehicle.moving.FDE@3s``), which the reader prefixes
with the file."""

from __future__ import annotations

import math
from typing import Any

from drivestack.core.errors import brief_repr


def number(value: object, what: str) -> float | None:
    """``value`` as a float (None stays None); a wrong type or a non-finite number (NaN,
    infinity) raises ``ValueError`` naming the field."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"field {what}: expected a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"field {what}: expected a finite number, got {value!r}")
    return float(value)


def finite_number_or_none(value: object) -> float | None:
    """``value`` as a float when it is a finite number (not a bool), else None: for fields a
    report shows when present and well formed and leaves out otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def required_number(value: object, what: str, *, positive: bool = False) -> float:
    """:func:`number` that must be present (and above 0 when ``positive``)."""
    out = number(value, what)
    if out is None:
        raise ValueError(f"field {what}: missing")
    if positive and out <= 0.0:
        raise ValueError(f"field {what}: expected a number above 0, got {value!r}")
    return out


def count(value: object, what: str) -> int:
    """A whole number of at least 0 (``cases``, ``instants``)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"field {what}: expected a whole number of at least 0, got {value!r}")
    return value


def _wrong(value: object, what: str, kind: str) -> ValueError:
    """The error for field ``what`` holding ``value`` instead of ``kind``: "missing" when it is
    absent or null, else what it holds."""
    if value is None:
        return ValueError(f"field {what}: missing (expected {kind})")
    return ValueError(f"field {what}: expected {kind}, got {brief_repr(value)}")


def obj(value: object, what: str) -> dict[str, Any]:
    """``value`` when it is a JSON object, else ``ValueError`` naming the field."""
    if not isinstance(value, dict):
        raise _wrong(value, what, "an object")
    return value


def array(value: object, what: str) -> list[Any]:
    """``value`` when it is a JSON list, else ``ValueError`` naming the field."""
    if not isinstance(value, list):
        raise _wrong(value, what, "a list")
    return value


def text(value: object, what: str) -> str:
    """``value`` when it is a non-empty string, else ``ValueError`` naming the field."""
    if not isinstance(value, str) or not value:
        raise _wrong(value, what, "a non-empty string")
    return value


def numbers(value: object, what: str) -> list[float]:
    """A list of finite numbers (may be empty)."""
    out = []
    for i, v in enumerate(array(value, what)):
        n = number(v, f"{what}.{i}")
        if n is None:
            raise ValueError(f"field {what}.{i}: expected a number, got null")
        out.append(n)
    return out
