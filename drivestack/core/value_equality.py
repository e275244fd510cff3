"""Value equality, hashing and pickling for the frozen structures that hold arrays.

A frozen dataclass compares its fields as a tuple, and ``array == array`` is an array, so
``boxes_a == boxes_b`` raised ``ValueError: truth value ... ambiguous`` and ``hash`` raised
``unhashable type: 'numpy.ndarray'``. The structures' arrays are read-only, so they can be
values: :class:`ArrayValueEquality` compares field by field, arrays exactly (same shape, same
dtype, same elements; NaNs in the same places count as equal, as do ``0.0`` and ``-0.0``),
plain dataclasses inside them (a ground raster in a ``SensorFrame``) field by field too, and
hashes what it compares, so equal structures hash alike and can key dicts and sets. (A hash
reads every element: about 0.1 s for a 2M-point cloud.)

Pickling and ``copy.deepcopy`` keep them values: read-only mappings (``MappingProxyType``
fields) are pickled as dicts and restored as read-only mappings, and the arrays come back
read-only (NumPy unpickles arrays writeable).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np


def values_equal(a: Any, b: Any) -> bool:
    """Whether two field values are equal: arrays exactly (shape, dtype, elements, NaN = NaN),
    mappings and sequences item by item, plain dataclass instances of one class field by
    field, anything else by its own ``==``."""
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
    if _plain_dataclass(a) or _plain_dataclass(b):
        if type(a) is not type(b):
            return False
        return a is b or all(
            values_equal(getattr(a, name), getattr(b, name)) for name in _compared(a)
        )
    return bool(a == b)


def _arrays_equal(a: Any, b: Any) -> bool:
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        return False
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _plain_dataclass(value: Any) -> bool:
    """A dataclass instance without its own value rules (:class:`ArrayValueEquality` has them)."""
    return (
        dataclasses.is_dataclass(value)
        and not isinstance(value, type)
        and not isinstance(value, ArrayValueEquality)
    )


def value_hash_key(value: Any) -> Hashable:
    """A hashable stand-in for ``value`` that equal values (by :func:`values_equal`) share."""
    if isinstance(value, np.ndarray):
        return (value.shape, value.dtype.str, _canonical_bytes(value))
    if isinstance(value, Mapping):
        return tuple(sorted((str(key), value_hash_key(item)) for key, item in value.items()))
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, *(value_hash_key(item) for item in value))
    if _plain_dataclass(value):
        return (
            type(value).__qualname__,
            *(value_hash_key(getattr(value, n)) for n in _compared(value)),
        )
    if type(value).__module__.startswith("shapely"):
        # shapely's == takes -0.0 for 0.0, its hash (of the WKB bytes) does not
        import shapely

        coordinates = shapely.get_coordinates(value, include_z=True)
        return (value.geom_type, _canonical_bytes(np.asarray(coordinates, dtype=np.float64)))
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
    are never equal. Pickling and ``copy.deepcopy`` restore read-only arrays and mappings."""

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

    def __getstate__(self) -> dict[str, Any]:
        # the fields only: cached properties (a map's drivable-area union, its STRtree) are
        # rebuilt where needed rather than shipped to every worker
        state = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        proxied = [name for name, value in state.items() if isinstance(value, MappingProxyType)]
        for name in proxied:
            state[name] = dict(state[name])
        state[_PROXIED] = proxied
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        proxied = set(state.pop(_PROXIED, ()))
        for name, value in state.items():
            value = _read_only(value)
            if name in proxied:
                value = MappingProxyType(value)
            object.__setattr__(self, name, value)


#: The state key naming the fields that were read-only mappings (see ``__getstate__``).
_PROXIED = "__read_only_mappings__"


def _read_only(value: Any) -> Any:
    """``value`` with its arrays (and those of a dict's values) made read-only again."""
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif isinstance(value, dict):
        for item in value.values():
            _read_only(item)
    return value


def _compared(obj: object) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(obj) if field.compare)  # type: ignore[arg-type]
