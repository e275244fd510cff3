"""Lane geometry shared by the map readers."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.numbers import parse_float
from drivestack.structures.road_map import interpolate_polyline, polyline_stations


def centerline_from_bounds(left_m: np.ndarray, right_m: np.ndarray) -> np.ndarray:
    """Midline of two ``(N, 2)`` / ``(M, 2)`` boundaries running the same way.

    Both are sampled at the same arc-length fractions (their vertices' fractions merged), and
    averaged point by point.
    """
    sl = polyline_stations(left_m)
    sr = polyline_stations(right_m)
    frac = np.unique(np.concatenate([sl / max(sl[-1], 1e-9), sr / max(sr[-1], 1e-9)]))
    lp, _ = interpolate_polyline(left_m, frac * sl[-1])
    rp, _ = interpolate_polyline(right_m, frac * sr[-1])
    mid = 0.5 * (lp + rp)
    keep = np.ones(len(mid), dtype=bool)
    keep[1:] = np.linalg.norm(np.diff(mid, axis=0), axis=1) > 1e-6
    return mid[keep]


@contextmanager
def lane_checks(path: str, record: str) -> Iterator[None]:
    """Turn the ``ValueError`` of a :class:`~drivestack.structures.road_map.Lane`'s own checks
    (a centreline that turns back on itself, too few distinct points) raised inside the block
    into a :class:`DataError` naming the map file and the element the lane was built from
    (``record``); a ``DataError`` passes as it is."""
    try:
        yield
    except DataError:
        raise
    except ValueError as exc:
        raise DataError(str(exc), path=path, record=record) from exc


def dedup(points_m: np.ndarray) -> np.ndarray:
    """Drop consecutive repeated points."""
    keep = np.ones(len(points_m), dtype=bool)
    keep[1:] = np.any(np.diff(points_m, axis=0) != 0.0, axis=1)
    return points_m[keep]


def finite_number(text: str | None, path: str, record: str | None, field: str) -> float:
    """``text`` (a map file's attribute or element text) as a finite float; ``DataError``
    naming ``record`` and ``field`` when it is missing, not a number, NaN or infinite.
    Surrounding whitespace is allowed (XML Schema collapses it), not Python-only spellings
    such as ``1_0`` or non-ASCII digits (:func:`~drivestack.core.numbers.parse_float`)."""
    if text is None or not text.strip():
        raise DataError("missing", path=path, record=record, field=field)
    try:
        value = parse_float(text.strip())
    except ValueError:
        raise DataError(
            f"not a number: {text.strip()!r}", path=path, record=record, field=field
        ) from None
    if not math.isfinite(value):
        raise DataError(
            f"not a finite number: {text.strip()!r}", path=path, record=record, field=field
        )
    return value


def check_unique_ids(elements: Iterable[ET.Element], kind: str, path: str) -> None:
    """``DataError`` naming the ``kind`` record when one of ``elements`` has no ``id``
    attribute or repeats an earlier element's id (a map's references would be ambiguous)."""
    seen: set[str] = set()
    for el in elements:
        eid = el.get("id")
        if not eid:
            raise DataError("missing", path=path, record=kind, field="id")
        if eid in seen:
            raise DataError("repeated id", path=path, record=f"{kind} {eid}", field="id")
        seen.add(eid)
