"""Value equality and hashing for the frozen structures that hold arrays.

A frozen dataclass compares its fields as a tuple, and ``array == array`` is an array, so
``boxes_a == boxes_b`` raised ``ValueError: truth value ... ambiguous`` and ``hash`` raised
``unhashable type: 'numpy.ndarray'``. The structures' arrays are read-only, so they can be
values: :class:`ArrayValueEquality` compares field by field, arrays exactly (same shape, same
dtype, same elements; NaNs in the same places count as equal, as do ``0.0`` and ``-0.0``),
and hashes what it compares, so equal structures hash alike and can key dicts and sets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np


def values_equal(a: Any, b: Any) -> bool:
    """Whether two field values are equal: arrays exactly (shape, dtype, elements, NaN = NaN),
    mappings and sequences item by item, anything else by its own ``==``."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return _arrays_equal(a, b)
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        if not (isinstance(a, Mapping) and isinstance(b, Mapping)) or a.keys() != b.keys():
            return False
        return all(values_equal(a[key], b[key]) for key in a)
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        if type(a) is not type(b) or len(a) != len(b):
            return False
        return all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _arrays_equal(a: Any, b: Any) -> bool:
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        return False
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def value_hash_key(value: Any) -> Hashable:
    """A hashable stand-in for ``value`` that equal values (by :func:`values_equal`) share."""
    if isinstance(value, np.ndarray):
        return (value.shape, value.dtype.str, _canonical_bytes(value))
    if isinstance(value, Mapping):
        return tuple(sorted((str(key), value_hash_key(item)) for key, item in value.items()))
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, *(value_hash_key(item) for item in value))
    return value


def _canonical_bytes(arr: np.ndarray) -> bytes:
    """The array's bytes with every NaN one NaN and ``-0.0`` as ``0.0`` (equal arrays, equal bytes)."""
    if arr.dtype.kind in "fc":
        arr = np.where(np.isnan(arr), np.nan, arr) + arr.dtype.type(0)
    return np.ascontiguousarray(arr).tobytes()


class ArrayValueEquality:
    """Mixin for ``@dataclass(frozen=True, eq=False)`` structures holding read-only arrays:
    ``==`` compares the fields that take part in comparison (``field(compare=True)``, the
    default) by :func:`values_equal`, and ``hash`` agrees with it. Objects of different classes
    are never equal."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        if other is self:
            return True
        return all(
            values_equal(getattr(self, name), getattr(other, name)) for name in _compared(self)
        )

    def __hash__(self) -> int:
        keys = tuple(value_hash_key(getattr(self, name)) for name in _compared(self))
        return hash((type(self).__qualname__, keys))


def _compared(obj: object) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(obj) if field.compare)  # type: ignore[arg-type]
