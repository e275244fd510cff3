"""Shared checks for readers that turn raw point arrays into a :class:`PointCloud`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.structures.point_cloud import PointCloud


def read_bytes(path: str | Path) -> bytes:
    """All bytes of ``path``; ``DataError`` naming the file when it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror}", path=str(path)) from exc


def finite_cloud(
    xyz_m: np.ndarray,
    attributes: Mapping[str, np.ndarray],
    *,
    frame: str,
    timestamp_ns: int,
    path: str,
    drop_nonfinite: bool = False,
) -> PointCloud:
    """Build a :class:`PointCloud` from ``(N, 3)`` coordinates and ``(N,)`` attributes.

    Non-finite coordinates are a ``DataError`` naming the first bad point and axis, unless
    ``drop_nonfinite`` is set, in which case those points are removed (e.g. organised
    clouds that mark missing returns with NaN).
    """
    finite = np.isfinite(xyz_m)
    if not finite.all():
        rows = ~finite.all(axis=1)
        if not drop_nonfinite:
            first = int(np.flatnonzero(rows)[0])
            axis = "xyz"[int(np.flatnonzero(~finite[first])[0])]
            raise DataError(
                f"{int(rows.sum())} point(s) with NaN or infinite coordinates "
                "(pass drop_nonfinite=True to drop them)",
                path=path,
                record=f"point {first}",
                field=axis,
            )
        keep = ~rows
        xyz_m = xyz_m[keep]
        attributes = {k: v[keep] for k, v in attributes.items()}
    return PointCloud(np.ascontiguousarray(xyz_m), frame, timestamp_ns, dict(attributes))
