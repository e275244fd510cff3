"""PandaSet (the npz / parquet conversions in ``shared/data/pandaset``): LiDAR in the world
frame, cuboids in the world frame, LiDAR poses; everything converted once into the ego frame.

Sequence layout: ``lidar/NN.npz`` (``xyz`` float32 world, ``intensity`` uint8, ``t`` float s,
``d`` 0 = Pandar64 / 1 = PandarGT), ``lidar/poses.json`` (world_from_lidar per frame:
``position`` and ``heading`` quaternion), ``lidar/timestamps.json`` (s),
``annotations/cuboids.parquet`` (all frames, ``frame`` column; ``position.*`` centre and
``yaw`` in the world frame, ``dimensions.x`` = width, ``.y`` = length, ``.z`` = height).

Frames: PandaSet's LiDAR pose frame has x right, y forward, z up. drivestack's ``ego`` frame
here is that frame turned to x forward, y left, with the pose's origin (about 0.4 m above the
road in sequence 002, so not the sensor's mounting height):
``lidar_from_ego`` = +90 deg about z. A cuboid's length runs along its local +y, so its
heading is ``yaw + pi/2``.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.frames import EGO, WORLD
from drivestack.core.time import first_not_increasing
from drivestack.core.transforms import SE3
from drivestack.ingest._points import (
    check_finite,
    check_finite_times,
    check_integer_column,
    check_plausible_range,
    check_time_offsets,
    finite_cloud,
    read_json,
)
from drivestack.structures._checks import check_number
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import INTENSITY, TIME_OFFSET_NS, PointCloud
from drivestack.structures.sensor_frame import SensorFrame

LIDAR_FROM_EGO = SE3.from_xyz_yaw([0.0, 0.0, 0.0], np.pi / 2)
LABEL_TO_CLASS: dict[str, ObjectClass] = {
    "Car": ObjectClass.CAR,
    "Pickup Truck": ObjectClass.CAR,
    "Medium-sized Truck": ObjectClass.TRUCK,
    "Semi-truck": ObjectClass.TRUCK,
    "Construction Vehicle": ObjectClass.OTHER_VEHICLE,
    "Other Vehicle - Construction Vehicle": ObjectClass.OTHER_VEHICLE,
    "Other Vehicle - Uncommon": ObjectClass.OTHER_VEHICLE,
    "Other Vehicle - Pedicab": ObjectClass.OTHER_VEHICLE,
    "Emergency Vehicle": ObjectClass.OTHER_VEHICLE,
    "Bus": ObjectClass.BUS,
    "Towed Object": ObjectClass.TRAILER,
    "Motorcycle": ObjectClass.MOTORCYCLE,
    "Motorized Scooter": ObjectClass.CYCLIST,
    "Personal Mobility Device": ObjectClass.CYCLIST,
    "Bicycle": ObjectClass.CYCLIST,
    "Pedestrian": ObjectClass.PEDESTRIAN,
    "Pedestrian with Object": ObjectClass.PEDESTRIAN,
    "Cones": ObjectClass.TRAFFIC_CONE,
    "Temporary Construction Barriers": ObjectClass.BARRIER,
    "Animals - Other": ObjectClass.ANIMAL,
    "Animals - Bird": ObjectClass.ANIMAL,
}
#: A point's ``t`` lies within this much of its frame's ``timestamps.json`` time (one 10 Hz
#: sweep is 100 ms; the sample's offsets run from -101 to +85 ms).
MAX_POINT_TIME_OFFSET_NS = 500_000_000
#: Frame times at or above this (s, year 2261) are corrupt: their ns would not fit an int64
#: (whose largest value is about 9.223e9 s).
MAX_TIME_S = 9.2e9
#: The npz arrays and the dtypes they must have (``t`` any float: seconds).
_NPZ_DTYPES = {"xyz": np.dtype(np.float32), "intensity": np.dtype(np.uint8)}
_CUBOID_COLUMNS = ("frame", "uuid", "label", "yaw", "position.x", "position.y", "position.z",
                   "dimensions.x", "dimensions.y", "dimensions.z", "cuboids.sensor_id")  # fmt: skip


def read_lidar_poses(path: str | Path) -> SE3:
    """``poses.json``: a batch of ``world_from_lidar`` transforms, one per frame.

    Raises ``DataError`` naming the file, the pose (``[3]``) and the field (``heading.w``)
    for a missing, non-numeric, NaN or infinite value, and the file for a non-list document
    or a zero quaternion.
    """
    p = str(path)
    doc = read_json(path)
    if not isinstance(doc, list):
        raise DataError(f"expected a JSON list of poses, got {type(doc).__name__}", path=p)
    fields = [f"heading.{k}" for k in "wxyz"] + [f"position.{k}" for k in "xyz"]
    values = np.zeros((len(doc), len(fields)))
    for i, pose in enumerate(doc):
        for j, field in enumerate(fields):
            group, key = field.split(".")
            try:
                value = pose[group][key]
            except (KeyError, TypeError, IndexError):
                raise DataError("missing value", path=p, record=f"[{i}]", field=field) from None
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise DataError(
                    f"expected a number, got {value!r}", path=p, record=f"[{i}]", field=field
                )
            values[i, j] = value
    check_finite(values, fields, path=p, record="[{}]".format)
    try:
        return SE3.from_quaternion(values[:, :4], values[:, 4:])
    except ValueError as exc:
        raise DataError(str(exc), path=p) from None


def read_lidar_timestamps_ns(path: str | Path) -> np.ndarray:
    """``timestamps.json``: ``(F,)`` int64 ns of the frames' times (stored as seconds, read to
    the microsecond).

    Raises:
        DataError: naming the file, the index (``[3]``) and field ``timestamp`` for an entry
            that is not a finite number (a string, null, NaN) or not after the previous one;
            naming the file when it is not a JSON list.
    """
    p = str(path)
    doc = read_json(path)
    if not isinstance(doc, list):
        raise DataError(f"expected a JSON list of times (s), got {type(doc).__name__}", path=p)
    for i, value in enumerate(doc):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or not 0 <= value < MAX_TIME_S:
            raise DataError(
                f"expected a finite time in seconds (0 .. {MAX_TIME_S:g}), got {value!r}",
                path=p,
                record=f"[{i}]",
                field="timestamp",
            )
    seconds = np.asarray(doc, dtype=np.float64)
    times_ns = np.round(seconds * 1e6).astype(np.int64) * 1000
    later = first_not_increasing(times_ns)
    if later is not None:
        raise DataError(
            f"time {float(seconds[later])!r} s is not after the previous one "
            f"({float(seconds[later - 1])!r} s)",
            path=p,
            record=f"[{later}]",
            field="timestamp",
        )
    return times_ns


@dataclass(frozen=True)
class PandaSetCuboids:
    """All cuboid rows of a sequence (world frame)."""

    frame: np.ndarray  # (N,) int64
    uuid: np.ndarray  # (N,) str
    label: np.ndarray  # (N,) str
    sensor_id: np.ndarray  # (N,) int64: -1 single, 0 Pandar64 copy, 1 PandarGT copy
    boxes_world: np.ndarray  # (N, 7) [x, y, z, length, width, height, heading]
    path: str = ""

    def __len__(self) -> int:
        return int(self.frame.shape[0])

    def rows(self, frame: int, *, pandar64_only: bool = True) -> np.ndarray:
        """Row indices of one frame (PandarGT duplicates dropped when ``pandar64_only``)."""
        keep = self.frame == frame
        if pandar64_only:
            keep &= self.sensor_id != 1
        return np.flatnonzero(keep)

    def boxes(
        self, frame: int, ego_from_world: SE3, *, timestamp_ns: int = 0, pandar64_only: bool = True
    ) -> Boxes3D:
        """One frame's boxes in the ego frame (labels via :data:`LABEL_TO_CLASS`)."""
        idx = self.rows(frame, pandar64_only=pandar64_only)
        labels = [
            int(LABEL_TO_CLASS.get(str(name), ObjectClass.UNKNOWN)) for name in self.label[idx]
        ]
        world = Boxes3D.from_array7(self.boxes_world[idx], WORLD, timestamp_ns, label=labels)
        return world.transformed(ego_from_world, EGO)

    def label_ids(self, frame: int, *, pandar64_only: bool = True) -> tuple[str, ...]:
        """One frame's ``uuid`` s, one per box of :meth:`boxes` (same rows, same order)."""
        return tuple(str(u) for u in self.uuid[self.rows(frame, pandar64_only=pandar64_only)])


def read_cuboids(path: str | Path) -> PandaSetCuboids:
    """``annotations/cuboids.parquet``: every cuboid row of a sequence, world frame.

    Boxes become ``(N, 7)`` ``[x, y, z, length, width, height, heading]`` (``dimensions.y``
    is the length, heading ``yaw + pi/2``). Raises ``DataError`` naming the file and the
    column for an unreadable table, a missing column, nulls in one or a column of the wrong
    type (``uuid`` / ``label`` strings, ``frame`` / ``cuboids.sensor_id`` integers, the others
    numbers), and the row for a non-finite value or a negative dimension.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = str(path)
    try:
        table = pq.read_table(p)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"cannot read Parquet table: {exc}", path=p) from None
    cols: dict[str, np.ndarray] = {}
    for name in _CUBOID_COLUMNS:
        if name not in table.column_names:
            raise DataError(f"missing column; has {table.column_names}", path=p, field=name)
        col = table.column(name)
        if col.null_count:
            raise DataError(f"{col.null_count} null value(s)", path=p, field=name)
        want = (pa.types.is_string if name in ("uuid", "label") else
                pa.types.is_integer if name in ("frame", "cuboids.sensor_id") else
                lambda t: pa.types.is_integer(t) or pa.types.is_floating(t))  # fmt: skip
        if not want(col.type):
            raise DataError(f"unexpected column type {col.type}", path=p, field=name)
        cols[name] = col.to_numpy(zero_copy_only=False)
    numeric = np.stack([cols[k].astype(np.float64) for k in ("position.x", "position.y", "position.z", "dimensions.y",
                                                               "dimensions.x", "dimensions.z", "yaw")], axis=1)  # fmt: skip
    bad = ~np.isfinite(numeric).all(axis=1) | np.any(numeric[:, 3:6] < 0, axis=1)
    if bad.any():
        raise DataError(
            "non-finite value or negative dimension",
            path=p,
            record=f"row {int(np.flatnonzero(bad)[0])}",
        )
    numeric[:, 6] = numeric[:, 6] + np.pi / 2  # length along the local +y axis
    return PandaSetCuboids(cols["frame"].astype(np.int64), cols["uuid"].astype(str), cols["label"].astype(str),
                           cols["cuboids.sensor_id"].astype(np.int64), numeric, p)  # fmt: skip


def read_lidar_npz(
    path: str | Path, ego_from_world: SE3, *, timestamp_ns: int, drop_nonfinite: bool = False
) -> PointCloud:
    """One converted LiDAR frame in the ego frame (float32), with ``intensity`` (uint8),
    ``time_offset_ns`` (each point's ``t`` minus ``timestamp_ns``) and ``sensor_id``
    (0 Pandar64, 1 PandarGT) attributes. A file of 0 points gives a cloud of 0 points.

    Raises ``DataError`` naming the file for an unreadable or truncated npz, a missing array,
    a wrong shape or dtype (``xyz`` float32, ``intensity`` uint8), and the point and field for
    non-finite coordinates (unless ``drop_nonfinite``), a coordinate farther than
    :data:`~drivestack.ingest._points.PLAUSIBLE_RANGE_M` from the sensor, a ``d`` other than
    0 / 1, or a time ``t`` that is NaN / infinite or more than
    :data:`MAX_POINT_TIME_OFFSET_NS` from ``timestamp_ns`` (not seconds, or not this frame's;
    a corrupt file: never replaced or dropped; with ``drop_nonfinite``, times of points
    dropped for their coordinates are not checked).
    """
    p = str(path)
    data = _npz_arrays(p, ("xyz", "intensity", "t", "d"))
    _check_npz_layout(data, p)
    xyz = data["xyz"]
    sensor_position = ego_from_world.inverse().translation.astype(np.float32)
    check_plausible_range(xyz - sensor_position, path=p, hint="not PandaSet world-frame metres?")
    _check_sensor_ids(data["d"], p)
    checked = np.ones(xyz.shape[0], dtype=bool)
    if drop_nonfinite:  # points dropped for their coordinates need no valid time
        checked = np.asarray(np.isfinite(xyz).all(axis=1))
    offsets = _time_offsets_ns(data["t"], timestamp_ns, checked, path=p)
    world = finite_cloud(xyz, {INTENSITY: data["intensity"], "sensor_id": data["d"], TIME_OFFSET_NS: offsets},
                         frame=WORLD, timestamp_ns=timestamp_ns, path=p, drop_nonfinite=drop_nonfinite)  # fmt: skip
    return world.transformed(ego_from_world, EGO)


def _check_npz_layout(data: dict[str, np.ndarray], path: str) -> None:
    """``DataError`` naming the array of an npz frame with the wrong shape (``xyz (N, 3)``,
    the others ``(N,)``) or dtype (:data:`_NPZ_DTYPES`; ``t`` float, ``d`` integer)."""
    xyz = data["xyz"]
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise DataError(f"xyz must be (N, 3), got {xyz.shape}", path=path, field="xyz")
    n = xyz.shape[0]
    for k in ("intensity", "t", "d"):
        if data[k].shape != (n,):
            raise DataError(f"must have shape ({n},), got {data[k].shape}", path=path, field=k)
    kinds = {"t": "f", "d": "iu"}
    for k, arr in data.items():
        want = _NPZ_DTYPES.get(k)
        ok = arr.dtype == want if want is not None else arr.dtype.kind in kinds[k]
        if not ok:
            expected = want if want is not None else {"f": "float", "iu": "integer"}[kinds[k]]
            raise DataError(
                f"must be {expected} (PandaSet's npz layout), got {arr.dtype}", path=path, field=k
            )


def _check_sensor_ids(d: np.ndarray, path: str) -> None:
    """``DataError`` naming the first point whose ``(N,)`` integer sensor id ``d`` is not
    0 / 1."""
    check_integer_column(
        d,
        0,
        maximum=1,
        path=path,
        record="point {}".format,
        field="d",
        reason="sensor id must be 0 (Pandar64) or 1 (PandarGT), got {value:.0f}",
    )


def _npz_arrays(path: str, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The named arrays of an ``.npz``; ``DataError`` naming the file (and the missing array)
    when it is unreadable, truncated or not a zip archive."""
    try:
        with np.load(path) as z:
            missing = [k for k in names if k not in z.files]
            if missing:
                raise DataError(f"missing array; has {z.files}", path=path, field=missing[0])
            return {k: z[k] for k in names}
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"cannot read npz: {type(exc).__name__}: {exc}", path=path) from None


def _time_offsets_ns(
    t_s: np.ndarray, timestamp_ns: int, checked: np.ndarray, *, path: str
) -> np.ndarray:
    """``(N,)`` int64 ns of ``(N,)`` absolute point times ``t_s`` (s) after ``timestamp_ns``.

    ``DataError`` naming the first point (among ``checked``, ``(N,)`` bool) whose time is NaN
    or infinite, or more than :data:`MAX_POINT_TIME_OFFSET_NS` from ``timestamp_ns``, and
    field ``t``.
    """
    t = np.asarray(t_s, dtype=np.float64)
    check_finite_times(t, checked, path=path, field="t")
    offsets = np.where(np.isfinite(t), t, 0.0) * 1e9 - timestamp_ns
    check_time_offsets(
        offsets, checked, limit_ns=MAX_POINT_TIME_OFFSET_NS, path=path, field="t", unit="seconds"
    )
    return np.round(offsets).astype(np.int64)


def read_pandaset_frame(
    sequence_dir: str | Path, index: int, *, pandar64_only: bool = True
) -> SensorFrame:
    """Frame ``index`` of a sequence: ego-frame cloud and labels, ``world_from_ego``.

    ``pandar64_only`` applies to the **labels** only: it drops the cuboid rows of the
    PandarGT copy (``cuboids.sensor_id == 1``; rows -1 and 0 stay). The cloud
    always holds the points of both sensors, Pandar64 and PandarGT, told apart by its
    ``sensor_id`` attribute (0 / 1); keep one sensor with
    ``cloud.select(cloud.attribute("sensor_id") == 0)``. The detection evaluation runs the
    detector on, and counts label points in, this merged cloud.

    ``label_ids``: each label box's cuboid ``uuid`` (the same object keeps it across the
    sequence's frames), filtered with the boxes.

    Raises:
        TypeError: ``index`` is not an int (``"1"``, ``1.0``).
        DataError: an index without a timestamp or pose, ``timestamps.json`` and ``poses.json``
            of different lengths, a bad ``timestamps.json``
            (:func:`read_lidar_timestamps_ns`), ``poses.json``, npz (:func:`read_lidar_npz`,
            its point times checked against the frame's timestamp) or cuboid table.
    """
    seq = Path(sequence_dir)
    check_number("index", index, integer=True)
    index = int(index)
    poses = read_lidar_poses(seq / "lidar" / "poses.json")
    times = read_lidar_timestamps_ns(seq / "lidar" / "timestamps.json")
    if len(times) != len(poses):  # a frame left out of one: the times would shift
        raise DataError(
            f"{len(times)} timestamps but {len(poses)} poses in {seq / 'lidar' / 'poses.json'}: "
            "one file lacks frames",
            path=str(seq / "lidar" / "timestamps.json"),
        )
    if not 0 <= index < len(times):
        raise DataError(
            f"frame {index} outside the {len(times)} timestamps / {len(poses)} poses", path=str(seq)
        )
    ts = int(times[index])
    world_from_ego = poses[index] @ LIDAR_FROM_EGO
    ego_from_world = world_from_ego.inverse()
    try:
        cloud = read_lidar_npz(seq / "lidar" / f"{index:02d}.npz", ego_from_world, timestamp_ns=ts)
    except DataError as exc:
        if exc.field != "t":
            raise
        # the scan's times are judged against timestamps.json's: either file may be wrong
        raise DataError(
            f"{exc.reason} (the frame time is frame {index} of "
            f"{seq / 'lidar' / 'timestamps.json'}: a wrong time there shows here too)",
            path=exc.path,
            record=exc.record,
            field=exc.field,
        ) from None
    cuboid_path = seq / "annotations" / "cuboids.parquet"
    labels, label_ids = None, None
    if cuboid_path.exists():
        cuboids = read_cuboids(cuboid_path)
        labels = cuboids.boxes(index, ego_from_world, timestamp_ns=ts, pandar64_only=pandar64_only)
        label_ids = cuboids.label_ids(index, pandar64_only=pandar64_only)
    return SensorFrame(ts, lidars={"lidar": cloud}, ego_from_sensor={"lidar": SE3.identity()}, world_from_ego=world_from_ego,
                       labels=labels, source=f"{seq}:{index:02d}", label_ids=label_ids)  # fmt: skip


def list_pandaset_frames(sequence_dir: str | Path) -> list[int]:
    """Sorted frame indices with a ``lidar/NN.npz`` file (empty when there is none)."""
    return sorted(int(p.stem) for p in (Path(sequence_dir) / "lidar").glob("[0-9][0-9].npz"))
