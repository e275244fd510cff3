"""Argoverse 2 sensor dataset: LiDAR sweeps, cuboid annotations, ego poses, calibration.

Layout (``dataset_dir/<log_id>/``): ``sensors/lidar/<timestamp_ns>.feather`` (x y z float16
in the **ego** frame, intensity, laser_number, offset_ns), ``annotations.feather`` (cuboids
of the whole log, ego frame at each sweep time, ``(w, x, y, z)`` quaternions),
``city_SE3_egovehicle.feather`` (ego poses in the city frame),
``calibration/egovehicle_SE3_sensor.feather`` and ``map/`` (the ground-height raster, the
drivable area and the lanes: :mod:`drivestack.ingest.maps.av2_ground`,
:mod:`drivestack.ingest.maps.av2_drivable`, :mod:`drivestack.ingest.maps.av2_lanes`). Tables
are read with ``pyarrow``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.frames import EGO
from drivestack.core.numbers import is_digits, parse_int
from drivestack.core.time import check_timestamp_ns
from drivestack.core.transforms import SE3, quaternion_to_rotation_matrix
from drivestack.ingest._points import (
    check_finite,
    check_not_negative,
    finite_cloud,
    first_repeat,
)
from drivestack.ingest.maps.av2_drivable import LazyAv2DrivableArea
from drivestack.ingest.maps.av2_ground import LazyAv2GroundHeight
from drivestack.ingest.maps.av2_lanes import LazyAv2Lanes
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import INTENSITY, TIME_OFFSET_NS, PointCloud
from drivestack.structures.sensor_frame import SensorFrame

#: AV2 category -> drivestack class. The AV2 categories drivestack has no class for are
#: :data:`UNMAPPED_CATEGORIES` (UNKNOWN); any other category is a ``DataError``.
CATEGORY_TO_CLASS: dict[str, ObjectClass] = {
    "REGULAR_VEHICLE": ObjectClass.CAR,
    "PEDESTRIAN": ObjectClass.PEDESTRIAN,
    "OFFICIAL_SIGNALER": ObjectClass.PEDESTRIAN,
    "BICYCLIST": ObjectClass.CYCLIST,
    "BICYCLE": ObjectClass.CYCLIST,
    "WHEELED_RIDER": ObjectClass.CYCLIST,
    "MOTORCYCLIST": ObjectClass.MOTORCYCLE,
    "MOTORCYCLE": ObjectClass.MOTORCYCLE,
    "BOX_TRUCK": ObjectClass.TRUCK,
    "TRUCK": ObjectClass.TRUCK,
    "TRUCK_CAB": ObjectClass.TRUCK,
    "LARGE_VEHICLE": ObjectClass.OTHER_VEHICLE,
    "RAILED_VEHICLE": ObjectClass.OTHER_VEHICLE,
    "BUS": ObjectClass.BUS,
    "SCHOOL_BUS": ObjectClass.BUS,
    "ARTICULATED_BUS": ObjectClass.BUS,
    "VEHICULAR_TRAILER": ObjectClass.TRAILER,
    "MESSAGE_BOARD_TRAILER": ObjectClass.TRAILER,
    "CONSTRUCTION_CONE": ObjectClass.TRAFFIC_CONE,
    "CONSTRUCTION_BARREL": ObjectClass.TRAFFIC_CONE,
    "BOLLARD": ObjectClass.BARRIER,
    "DOG": ObjectClass.ANIMAL,
    "ANIMAL": ObjectClass.ANIMAL,
}

#: AV2 sensor-dataset categories read as ``ObjectClass.UNKNOWN`` (no drivestack class fits);
#: ``""`` is what :func:`write_av2_detections` writes for an UNKNOWN detection.
UNMAPPED_CATEGORIES: frozenset[str] = frozenset(
    {
        "SIGN",
        "STOP_SIGN",
        "MOBILE_PEDESTRIAN_CROSSING_SIGN",
        "TRAFFIC_LIGHT_TRAILER",
        "WHEELED_DEVICE",
        "WHEELCHAIR",
        "STROLLER",
        "",
    }
)

#: drivestack class -> the AV2 category a detection of it is written as (the inverse of
#: :data:`CATEGORY_TO_CLASS`, one category per class; VAN is a REGULAR_VEHICLE in AV2). UNKNOWN
#: has none.
CLASS_TO_CATEGORY: dict[ObjectClass, str] = {
    ObjectClass.CAR: "REGULAR_VEHICLE",
    ObjectClass.VAN: "REGULAR_VEHICLE",
    ObjectClass.PEDESTRIAN: "PEDESTRIAN",
    ObjectClass.CYCLIST: "BICYCLIST",
    ObjectClass.MOTORCYCLE: "MOTORCYCLIST",
    ObjectClass.TRUCK: "TRUCK",
    ObjectClass.OTHER_VEHICLE: "LARGE_VEHICLE",
    ObjectClass.BUS: "BUS",
    ObjectClass.TRAILER: "VEHICULAR_TRAILER",
    ObjectClass.TRAFFIC_CONE: "CONSTRUCTION_CONE",
    ObjectClass.BARRIER: "BOLLARD",
    ObjectClass.ANIMAL: "ANIMAL",
}

_QUATERNION = ("qw", "qx", "qy", "qz")
_BOX_COLUMNS = ("tx_m", "ty_m", "tz_m", "length_m", "width_m", "height_m")
_CUBOID_COLUMNS = (
    "timestamp_ns",
    "category",
    "length_m",
    "width_m",
    "height_m",
    "qw",
    "qx",
    "qy",
    "qz",
    "tx_m",
    "ty_m",
    "tz_m",
)


def read_feather(
    path: str | Path,
    columns: tuple[str, ...],
    *,
    integer: tuple[str, ...] = (),
    text: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
) -> dict[str, np.ndarray]:
    """The named columns of a Feather (Arrow IPC) file as NumPy arrays (those of the
    ``optional`` ones that the file lacks left out).

    Raises ``DataError`` when the file is missing/corrupt, lacks a column, has nulls in one,
    stores one of the ``integer`` columns (nanosecond times, counts) with a non-integer
    type (a float64 ``timestamp_ns`` has already lost the last digits of the time), one of
    the ``text`` columns with a non-string type, or any other column with a non-numeric one.
    """
    import pyarrow as pa
    import pyarrow.feather as feather

    try:
        table = feather.read_table(str(path))
        table.validate(full=True)  # corrupt string offsets would fail later, in to_numpy
    except (OSError, pa.ArrowException) as exc:  # corrupt bodies raise several Arrow types
        raise DataError(f"cannot read Feather table: {exc!s:.300}", path=str(path)) from None
    out: dict[str, np.ndarray] = {}
    for name in columns:
        if name not in table.column_names:
            if name in optional:
                continue
            raise DataError(f"missing column; has {table.column_names}", path=str(path), field=name)
        col = table.column(name)
        if col.null_count:
            raise DataError(f"{col.null_count} null value(s)", path=str(path), field=name)
        if name in integer and not pa.types.is_integer(col.type):
            raise DataError(
                f"must be an integer column, got {col.type}", path=str(path), field=name
            )
        is_text = pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
        is_number = pa.types.is_integer(col.type) or pa.types.is_floating(col.type)
        if not (is_text if name in text else is_number):
            kind = "a string" if name in text else "a numeric"
            raise DataError(f"must be {kind} column, got {col.type}", path=str(path), field=name)
        out[name] = col.to_numpy()
    return out


def read_av2_sweep(
    path: str | Path, *, timestamp_ns: int | None = None, drop_nonfinite: bool = False
) -> PointCloud:
    """A LiDAR sweep in the ego frame (float32 coordinates from the stored float16).

    ``timestamp_ns`` defaults to the file name. Attributes: ``intensity`` (uint8),
    ``laser_number`` (uint8), ``time_offset_ns`` (int64, from ``offset_ns``). A table of 0
    rows is a cloud of 0 points.
    """
    p = Path(path)
    if timestamp_ns is None:
        try:
            timestamp_ns = parse_int(p.name.split(".")[0])
        except ValueError:
            raise DataError(
                "file name is not <timestamp_ns>.feather; pass timestamp_ns", path=str(p)
            ) from None
    cols = read_feather(
        p, ("x", "y", "z", "intensity", "laser_number", "offset_ns"), integer=("offset_ns",)
    )
    xyz = np.stack([cols["x"], cols["y"], cols["z"]], axis=1).astype(np.float32)
    attrs = {
        INTENSITY: cols["intensity"],
        "laser_number": cols["laser_number"],
        TIME_OFFSET_NS: cols["offset_ns"].astype(np.int64),
    }
    return finite_cloud(
        xyz, attrs, frame=EGO, timestamp_ns=timestamp_ns, path=str(p), drop_nonfinite=drop_nonfinite
    )


@dataclass(frozen=True)
class Av2Cuboids:
    """Cuboid rows (any number of sweeps) in the ego frame of their sweep.

    Attributes:
        timestamp_ns: ``(N,)`` int64 sweep time of each row.
        track_uuid: ``(N,)`` str (``""`` for detections).
        category: ``(N,)`` str AV2 category.
        boxes: ``(N, 7)`` ``[x, y, z, l, w, h, yaw]`` (yaw from the quaternion).
        quaternion_wxyz: ``(N, 4)`` as stored.
        num_interior_pts: ``(N,)`` int64 (labels) or -1 (detections).
        score: ``(N,)`` detection score (1.0 for labels).
        log_id: ``(N,)`` str.
        path: the file they came from.
    """

    timestamp_ns: np.ndarray
    track_uuid: np.ndarray
    category: np.ndarray
    boxes: np.ndarray
    quaternion_wxyz: np.ndarray
    num_interior_pts: np.ndarray
    score: np.ndarray
    log_id: np.ndarray
    path: str = ""

    def __len__(self) -> int:
        return int(self.timestamp_ns.shape[0])

    def select(self, mask: Any) -> Av2Cuboids:
        """The rows picked by ``mask``: an ``(N,)`` bool array or integer row indices."""
        return Av2Cuboids(self.timestamp_ns[mask], self.track_uuid[mask], self.category[mask], self.boxes[mask],
                          self.quaternion_wxyz[mask], self.num_interior_pts[mask], self.score[mask], self.log_id[mask], self.path)  # fmt: skip

    def at(self, timestamp_ns: int) -> Av2Cuboids:
        """The rows of one sweep."""
        return self.select(self.timestamp_ns == timestamp_ns)

    def label_ids(self) -> tuple[str, ...] | None:
        """The rows' ``track_uuid`` s as :attr:`SensorFrame.label_ids`, one per row of
        :meth:`to_boxes`; None when any is empty (detections, or no ``track_uuid`` column)."""
        ids = tuple(str(u) for u in self.track_uuid)
        return None if any(not u for u in ids) else ids

    def to_boxes(self, timestamp_ns: int | None = None) -> Boxes3D:
        """Ego-frame :class:`Boxes3D` (labels via :data:`CATEGORY_TO_CLASS`; the categories
        in :data:`UNMAPPED_CATEGORIES` become UNKNOWN).

        Raises ``DataError`` naming the file, the row (``timestamp_ns`` and ``track_uuid``)
        and field ``category`` for a category that is no AV2 category (a typo, another
        dataset's name), as the other readers refuse unknown types.
        """
        ts = (
            int(self.timestamp_ns[0])
            if timestamp_ns is None and len(self)
            else int(timestamp_ns or 0)
        )
        labels = [int(self._object_class(i)) for i in range(len(self))]
        return Boxes3D.from_array7(self.boxes, EGO, ts, score=self.score, label=labels)

    def _object_class(self, row: int) -> ObjectClass:
        """The class of row ``row``'s category; ``DataError`` for an unknown category."""
        category = str(self.category[row])
        cls = CATEGORY_TO_CLASS.get(category)
        if cls is not None:
            return cls
        if category in UNMAPPED_CATEGORIES:
            return ObjectClass.UNKNOWN
        uuid = f", track_uuid {self.track_uuid[row]}" if self.track_uuid[row] else ""
        raise DataError(
            f"unknown AV2 category {category!r}; known: "
            f"{sorted(set(CATEGORY_TO_CLASS) | UNMAPPED_CATEGORIES - {''})}",
            path=self.path or None,
            record=f"timestamp_ns {int(self.timestamp_ns[row])}{uuid}",
            field="category",
        )


def cuboids_from_boxes(
    boxes: Boxes3D,
    *,
    log_id: str,
    category: Sequence[str] | np.ndarray,
    num_interior_pts: np.ndarray | None = None,
) -> Av2Cuboids:
    """Ego-frame boxes of one sweep as an :class:`Av2Cuboids` table (yaw-only quaternions).

    ``category`` and ``num_interior_pts`` hold one value per box, ``(N,)``; categories come
    from :func:`av2_categories` for drivestack labels. Raises ``ValueError`` naming the
    argument when a length or the frame (``ego``) is wrong.
    """
    n = len(boxes)
    if boxes.frame != EGO:
        raise ValueError(f"boxes must be in the {EGO!r} frame, got {boxes.frame!r}")
    categories = _per_box(category, n, "category").astype(str)
    points = None if num_interior_pts is None else _per_box(num_interior_pts, n, "num_interior_pts")
    half = boxes.yaw_rad / 2
    quat = np.stack([np.cos(half), np.zeros(n), np.zeros(n), np.sin(half)], axis=1)
    return Av2Cuboids(
        timestamp_ns=np.full(n, boxes.timestamp_ns, dtype=np.int64),
        track_uuid=np.full(n, "", dtype=str),
        category=categories,
        boxes=boxes.to_array7(),
        quaternion_wxyz=quat,
        num_interior_pts=np.full(n, -1, dtype=np.int64)
        if points is None
        else points.astype(np.int64),
        score=boxes.score.copy(),
        log_id=np.full(n, log_id, dtype=object).astype(str),
    )


def _per_box(values: Sequence[Any] | np.ndarray, n: int, name: str) -> np.ndarray:
    """``values`` as an ``(n,)`` array; ``ValueError`` naming ``name`` for another shape."""
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValueError(f"{name} needs one value per box: shape ({n},), got {arr.shape}")
    return arr


def av2_categories(labels: np.ndarray) -> np.ndarray:
    """``(N,)`` AV2 category of ``(N,)`` drivestack labels (:data:`CLASS_TO_CATEGORY`; ``""``
    for UNKNOWN and ids that are no :class:`ObjectClass`)."""
    lookup = {int(c): name for c, name in CLASS_TO_CATEGORY.items()}
    return np.array([lookup.get(int(c), "") for c in np.asarray(labels)], dtype=str)


def write_av2_detections(path: str | Path, detections: Av2Cuboids) -> None:
    """Write a detections table as AV2 Feather, the columns the AV2 evaluator and
    :func:`read_av2_cuboids` read: ``log_id``, ``timestamp_ns`` (int64), ``category``,
    ``length_m``, ``width_m``, ``height_m``, ``qw``, ``qx``, ``qy``, ``qz``, ``tx_m``,
    ``ty_m``, ``tz_m`` (ego frame of the sweep) and ``score`` (float64).

    Raises ``DataError`` naming the file and the row for an empty category, log id or a
    non-finite value (a table the reader would refuse). Creates the parent folder.
    """
    import pyarrow as pa
    import pyarrow.feather as feather

    p = Path(path)
    _check_writable(detections, str(p))
    b, q = detections.boxes, detections.quaternion_wxyz
    columns: dict[str, Any] = {
        "log_id": detections.log_id.astype(str).tolist(),
        "timestamp_ns": np.asarray(detections.timestamp_ns, dtype=np.int64),
        "category": detections.category.astype(str).tolist(),
        **{k: b[:, i].astype(np.float64) for i, k in enumerate(("tx_m", "ty_m", "tz_m"))},
        **{k: b[:, 3 + i].astype(np.float64) for i, k in enumerate(("length_m", "width_m", "height_m"))},
        **{k: q[:, i].astype(np.float64) for i, k in enumerate(("qw", "qx", "qy", "qz"))},
        "score": np.asarray(detections.score, dtype=np.float64),
    }  # fmt: skip
    table = pa.table({k: pa.array(v, type=pa.string() if k in ("log_id", "category") else None)
                      for k, v in columns.items()})  # fmt: skip
    p.parent.mkdir(parents=True, exist_ok=True)
    feather.write_feather(table, str(p))


def _check_writable(detections: Av2Cuboids, path: str) -> None:
    """``DataError`` naming the column and its first row with an empty category or log id,
    a NaN or infinite number, or a zero quaternion."""
    names = ("tx_m", "ty_m", "tz_m", "length_m", "width_m", "height_m", "qw", "qx", "qy", "qz", "score")  # fmt: skip
    numbers = np.concatenate(
        [detections.boxes[:, :6], detections.quaternion_wxyz, detections.score[:, None]], axis=1
    )
    checks = (
        ("category", detections.category.astype(str) == "", "empty category"),
        ("log_id", detections.log_id.astype(str) == "", "empty log id"),
        *((k, ~np.isfinite(numbers[:, i]), "NaN or infinite value") for i, k in enumerate(names)),
        ("qw/qx/qy/qz", np.linalg.norm(detections.quaternion_wxyz, axis=1) < 1e-9, "zero quaternion"),
    )  # fmt: skip
    for field, bad, what in checks:
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{what} ({int(bad.sum())} row(s))", path=path, record=f"row {row}", field=field
            )


def concatenate_cuboids(parts: Sequence[Av2Cuboids]) -> Av2Cuboids:
    """Rows of several tables in one (``path`` of the first)."""
    names = (
        "timestamp_ns",
        "track_uuid",
        "category",
        "boxes",
        "quaternion_wxyz",
        "num_interior_pts",
        "score",
        "log_id",
    )
    if not parts:
        empty = cuboids_from_boxes(Boxes3D.empty(EGO), log_id="", category=[])
        return empty
    cols = {k: np.concatenate([getattr(p, k) for p in parts]) for k in names}
    return Av2Cuboids(**cols, path=parts[0].path)


def read_av2_cuboids(path: str | Path, *, log_id: str | None = None) -> Av2Cuboids:
    """Read ``annotations.feather`` (labels) or a detections table (with ``score``).

    Optional columns: ``track_uuid``, ``num_interior_pts``, ``score``, ``log_id``; ``log_id``
    defaults to the argument, then to the parent folder name. Raises ``DataError`` naming the
    file and column for a missing column, nulls or a non-integer ``timestamp_ns`` /
    ``num_interior_pts``, and the row and column for a NaN / infinite value (``score``
    included), a zero quaternion or a negative size.
    """
    p = str(path)
    optional = ("track_uuid", "num_interior_pts", "score", "log_id")
    cols = read_feather(
        path,
        _CUBOID_COLUMNS + optional,
        integer=("timestamp_ns", "num_interior_pts"),
        text=("category", "track_uuid", "log_id"),
        optional=optional,
    )
    n = len(cols["timestamp_ns"])
    quat = np.stack([cols[k] for k in _QUATERNION], axis=1).astype(np.float64)
    boxes = np.stack([cols[k] for k in _BOX_COLUMNS], axis=1).astype(np.float64)
    score = cols["score"].astype(np.float64) if "score" in cols else np.ones(n)
    _check_quaternion_rows(
        np.concatenate([quat, boxes, score[:, None]], axis=1),
        (*_QUATERNION, *_BOX_COLUMNS, "score"),
        path=p,
    )
    check_not_negative(
        boxes[:, 3:6],
        _BOX_COLUMNS[3:6],
        path=p,
        record=lambda row: f"row {row}",
        reason="negative size {value:g}",
    )
    rot = quaternion_to_rotation_matrix(quat)
    yaw = np.arctan2(rot[:, 1, 0], rot[:, 0, 0])
    default_log = log_id if log_id is not None else Path(p).parent.name
    return Av2Cuboids(
        timestamp_ns=cols["timestamp_ns"].astype(np.int64),
        track_uuid=cols["track_uuid"].astype(str)
        if "track_uuid" in cols
        else np.full(n, "", dtype=str),
        category=cols["category"].astype(str),
        boxes=np.concatenate([boxes, yaw[:, None]], axis=1),
        quaternion_wxyz=quat,
        num_interior_pts=cols["num_interior_pts"].astype(np.int64)
        if "num_interior_pts" in cols
        else np.full(n, -1, dtype=np.int64),
        score=score,
        log_id=cols["log_id"].astype(str)
        if "log_id" in cols
        else np.full(n, default_log, dtype=object).astype(str),
        path=p,
    )


@dataclass(frozen=True)
class Av2Poses:
    """``city_SE3_egovehicle``: ``timestamp_ns (N,)`` and a batch ``world_from_ego`` SE3."""

    timestamp_ns: np.ndarray
    world_from_ego: SE3
    path: str = ""

    def at(self, timestamp_ns: int) -> SE3:
        """The pose logged at exactly ``timestamp_ns`` (AV2 logs a pose for every sweep)."""
        idx = np.searchsorted(self.timestamp_ns, timestamp_ns)
        if idx >= len(self.timestamp_ns) or self.timestamp_ns[idx] != timestamp_ns:
            raise DataError(
                f"no ego pose at timestamp_ns {timestamp_ns}", path=self.path, field="timestamp_ns"
            )
        return self.world_from_ego[int(idx)]

    def at_times(self, timestamps_ns: np.ndarray) -> SE3:
        """The ``(T,)`` batch of poses logged at exactly the times ``(T,)``.

        Raises ``DataError`` naming the pose file, the first time without a pose (record
        ``timestamp_ns <t>``, with how many lack one) and the field ``timestamp_ns``.
        """
        times = np.asarray(timestamps_ns, dtype=np.int64).reshape(-1)
        n = len(self.timestamp_ns)
        idx = np.clip(np.searchsorted(self.timestamp_ns, times), 0, max(n - 1, 0))
        missing = np.ones(len(times), dtype=bool) if n == 0 else self.timestamp_ns[idx] != times
        if missing.any():
            raise DataError(
                f"no ego pose at this time ({int(missing.sum())} of {len(times)} without one)",
                path=self.path,
                record=f"timestamp_ns {int(times[np.flatnonzero(missing)[0]])}",
                field="timestamp_ns",
            )
        return self.world_from_ego[idx]


def read_av2_poses(path: str | Path) -> Av2Poses:
    """``city_SE3_egovehicle.feather``: the ego poses of a log, sorted by ``timestamp_ns``.

    Raises ``DataError`` naming the file (and column) for a missing column, nulls or a
    non-integer ``timestamp_ns``, and the row and column for a NaN / infinite value, a zero
    quaternion or a ``timestamp_ns`` given on two rows (naming both).
    """
    columns = ("timestamp_ns", "qw", "qx", "qy", "qz", "tx_m", "ty_m", "tz_m")
    cols = read_feather(path, columns, integer=("timestamp_ns",))
    values = np.stack([cols[k].astype(np.float64) for k in columns[1:]], axis=1)
    _check_pose_rows(cols["timestamp_ns"], values, columns[1:], path=str(path))
    order = np.argsort(cols["timestamp_ns"], kind="stable")
    pose = SE3.from_quaternion(values[order, :4], values[order, 4:])
    return Av2Poses(cols["timestamp_ns"][order].astype(np.int64), pose, str(path))


def _check_quaternion_rows(values: np.ndarray, names: Sequence[str], *, path: str) -> None:
    """``DataError`` naming the row and column of the first NaN / infinite value of ``(N, C)``
    ``values`` (column ``names``), then the row of the first zero quaternion (the first four
    columns, ``qw qx qy qz``)."""
    check_finite(values, names, path=path, record="row {}".format)
    zero = np.flatnonzero(np.linalg.norm(values[:, :4], axis=1) < 1e-9)
    if zero.size:
        raise DataError(
            "zero quaternion",
            path=path,
            record=f"row {int(zero[0])}",
            field="/".join(names[:4]),
        )


def _check_pose_rows(
    timestamp_ns: np.ndarray, values: np.ndarray, names: tuple[str, ...], *, path: str
) -> None:
    """``DataError`` naming the row and column of the first bad pose row: ``(N, 7)``
    ``values`` (``qw qx qy qz tx ty tz``, column ``names``) NaN / infinite or a zero quaternion,
    or a ``(N,)`` ``timestamp_ns`` that an earlier row has (naming both rows)."""
    _check_quaternion_rows(values, names, path=path)
    repeat = first_repeat(timestamp_ns.tolist())
    if repeat is not None:
        first, second = repeat
        raise DataError(
            f"timestamp_ns {int(timestamp_ns[first])} given twice (rows {first} and {second})",
            path=path,
            record=f"row {second}",
            field="timestamp_ns",
        )


def read_av2_calibration(path: str | Path) -> dict[str, SE3]:
    """``egovehicle_SE3_sensor.feather``: sensor name -> ``ego_from_sensor``."""
    cols = read_feather(
        path, ("sensor_name", "qw", "qx", "qy", "qz", "tx_m", "ty_m", "tz_m"), text=("sensor_name",)
    )
    names = cols["sensor_name"].astype(str)
    repeat = first_repeat(names.tolist())
    if repeat is not None:  # the later row would silently replace the earlier one
        raise DataError(
            f"sensor {names[repeat[1]]!r} given twice (rows {repeat[0]} and {repeat[1]})",
            path=str(path),
            record=f"row {repeat[1]}",
            field="sensor_name",
        )
    out: dict[str, SE3] = {}
    for i, name in enumerate(names):
        q = [cols[k][i] for k in ("qw", "qx", "qy", "qz")]
        t = [cols[k][i] for k in ("tx_m", "ty_m", "tz_m")]
        try:
            out[str(name)] = SE3.from_quaternion(q, t)
        except ValueError as exc:
            raise DataError(str(exc), path=str(path), record=f"row {i}", field="q") from None
    return out


def list_av2_sweeps(log_dir: str | Path) -> list[int]:
    """Sorted LiDAR sweep timestamps of a log: the ``sensors/lidar/<timestamp_ns>.feather``
    files (other ``.feather`` names, e.g. ``foo.feather`` or non-ASCII digits such as
    ``\uff11.feather``, are not sweeps and are skipped)."""
    stems = (
        p.name[: -len(".feather")] for p in (Path(log_dir) / "sensors" / "lidar").glob("*.feather")
    )
    return sorted(int(stem) for stem in stems if is_digits(stem))


def _sweep_path(log: Path, timestamp_ns: int) -> Path:
    """``sensors/lidar/<timestamp_ns>.feather`` of ``log``; ``DataError`` naming the log and
    the times it does have when that sweep is absent."""
    path = log / "sensors" / "lidar" / f"{timestamp_ns}.feather"
    if path.is_file():
        return path
    stamps = list_av2_sweeps(log)
    have = (
        f"first/last sweep timestamps {stamps[0]} / {stamps[-1]} ({len(stamps)} sweeps)"
        if stamps
        else "it has no sensors/lidar/<timestamp_ns>.feather sweep"
    )
    raise DataError(
        f"no sweep at timestamp {timestamp_ns} (no sensors/lidar/{timestamp_ns}.feather) in "
        f"this log; {have}",
        path=str(log),
    )


@functools.lru_cache(maxsize=8)
def log_map_layers(
    map_dir: Path,
) -> tuple[LazyAv2GroundHeight, LazyAv2DrivableArea, LazyAv2Lanes]:
    """The lazy ground-height, drivable-area and lane readers of one log's ``map/`` folder, one
    set per folder, shared by all its frames (each map file is read once, when first used)."""
    return LazyAv2GroundHeight(map_dir), LazyAv2DrivableArea(map_dir), LazyAv2Lanes(map_dir)


def read_av2_frame(log_dir: str | Path, timestamp_ns: int) -> SensorFrame:
    """One sweep of a log with its labels (ego frame) and ego pose; the world frame is the city.

    The frame carries the log's map: ground heights as ``ground_surface``, the drivable area as
    ``drivable_area`` and the lanes' directions as ``lane_headings``, the log's shared lazy
    readers (:func:`log_map_layers`; read only when used; a missing map file raises then,
    naming the folder and file pattern). ``label_ids`` are the annotations' ``track_uuid`` s
    (the same object keeps its uuid across the log's sweeps; None when the file has no
    ``track_uuid`` column).

    Raises:
        TypeError: ``timestamp_ns`` is not an int (e.g. the file stem as a string).
        DataError: no sweep at ``timestamp_ns`` (naming the log and its first and last sweep
            times), or a bad sweep, annotation or pose file.
    """
    log = Path(log_dir)
    timestamp_ns = check_timestamp_ns(timestamp_ns)
    sweep = _sweep_path(log, timestamp_ns)
    ground_surface, drivable_area, lane_headings = log_map_layers(log.resolve() / "map")
    cloud = read_av2_sweep(sweep)
    ann = log / "annotations.feather"
    labels, label_ids = None, None
    if ann.exists():
        cuboids = read_av2_cuboids(ann).at(timestamp_ns)
        labels = cuboids.to_boxes(timestamp_ns)
        label_ids = cuboids.label_ids()
    poses = log / "city_SE3_egovehicle.feather"
    world_from_ego = read_av2_poses(poses).at(timestamp_ns) if poses.exists() else None
    return SensorFrame(
        timestamp_ns=timestamp_ns,
        lidars={"lidar": cloud},
        ego_from_sensor={"lidar": SE3.identity()},  # sweeps are stored in the ego frame already
        world_from_ego=world_from_ego,
        labels=labels,
        source=f"{log}:{timestamp_ns}",
        ground_surface=ground_surface,
        drivable_area=drivable_area,
        lane_headings=lane_headings,
        label_ids=label_ids,
    )
