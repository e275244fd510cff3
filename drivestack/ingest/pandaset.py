"""PandaSet (the npz / parquet conversions in ``shared/data/pandaset``): LiDAR in the world
frame, cuboids in the world frame, LiDAR poses; everything converted once into the ego frame.

Sequence layout: ``lidar/NN.npz`` (``xyz`` float32 world, ``intensity`` uint8, ``t`` float s,
``d`` 0 = Pandar64 / 1 = PandarGT), ``lidar/poses.json`` (world_from_lidar per frame:
``position`` and ``heading`` quaternion), ``lidar/timestamps.json`` (s),
``annotations/cuboids.parquet`` (all frames, ``frame`` column; ``position.*`` centre and
``yaw`` in the world frame, ``dimensions.x`` = width, ``.y`` = length, ``.z`` = height).

Frames: PandaSet's LiDAR pose frame has x right, y forward, z up, and follows the car's pitch
and roll (its z is about 2.1 deg off the world's up in sequence 002). drivestack's ``ego``
frame here is level (:func:`level_world_from_ego`): the pose's origin (about 0.4 m above the
road in sequence 002, so not the sensor's mounting height), z along the world's up, x along
the LiDAR's forward axis (its +y) projected on the world's ground plane. The world-frame
cuboids (upright, yaw only) are therefore exact yaw-only boxes in it. The pose's tilt (and
its 90 deg turn) is the LiDAR pose frame's mounting in that ego frame,
``ego_from_sensor["lidar_pose"]``; the cloud and labels are in ``ego`` already
(``ego_from_sensor["lidar"]`` is the identity, as for Argoverse 2). A cuboid's length runs
along its local +y, so its heading is ``yaw + pi/2``.
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

#: ``lidar_from_turned``: PandaSet's LiDAR pose frame (x right, y forward) from the same frame
#: turned to x forward, y left (+90 deg about z). Not the ego frame: that one is also levelled
#: (:func:`level_world_from_ego`).
LIDAR_FROM_EGO = SE3.from_xyz_yaw([0.0, 0.0, 0.0], np.pi / 2)
#: ``ego_from_sensor`` key of the LiDAR pose frame's mounting in the level ego frame.
LIDAR_POSE_SENSOR = "lidar_pose"
#: PandaSet cuboid labels (the devkit's 27 cuboid classes; the semseg ``classes.json`` of
#: sequence 002 lists ``Trolley`` as well) -> drivestack class. ``Train``, ``Trolley`` and
#: ``Tram / Subway`` are railed vehicles, OTHER_VEHICLE as Argoverse 2's ``RAILED_VEHICLE``.
LABEL_TO_CLASS: dict[str, ObjectClass] = {
    "Car": ObjectClass.CAR,
    "Pickup Truck": ObjectClass.CAR,
    "Medium-sized Truck": ObjectClass.TRUCK,
    "Semi-truck": ObjectClass.TRUCK,
    "Other Vehicle - Construction Vehicle": ObjectClass.OTHER_VEHICLE,
    "Other Vehicle - Uncommon": ObjectClass.OTHER_VEHICLE,
    "Other Vehicle - Pedicab": ObjectClass.OTHER_VEHICLE,
    "Emergency Vehicle": ObjectClass.OTHER_VEHICLE,
    "Train": ObjectClass.OTHER_VEHICLE,
    "Trolley": ObjectClass.OTHER_VEHICLE,
    "Tram / Subway": ObjectClass.OTHER_VEHICLE,
    "Bus": ObjectClass.BUS,
    "Towed Object": ObjectClass.TRAILER,
    "Motorcycle": ObjectClass.MOTORCYCLE,
    "Motorized Scooter": ObjectClass.CYCLIST,
    "Personal Mobility Device": ObjectClass.CYCLIST,
    "Bicycle": ObjectClass.CYCLIST,
    "Pedestrian": ObjectClass.PEDESTRIAN,
    "Pedestrian with Object": ObjectClass.PEDESTRIAN,
    "Cones": ObjectClass.TRAFFIC_CONE,
    "Pylons": ObjectClass.TRAFFIC_CONE,
    "Temporary Construction Barriers": ObjectClass.BARRIER,
    "Road Barriers": ObjectClass.BARRIER,
    "Animals - Other": ObjectClass.ANIMAL,
    "Animals - Bird": ObjectClass.ANIMAL,
}
#: PandaSet cuboid labels read as ``ObjectClass.UNKNOWN`` on purpose (no drivestack class
#: fits); any label in neither table is a ``DataError``.
UNMAPPED_LABELS: frozenset[str] = frozenset({"Signs", "Construction Signs", "Rolling Containers"})
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
        """One frame's boxes in the ego frame (labels via :data:`LABEL_TO_CLASS`,
        :data:`UNMAPPED_LABELS` UNKNOWN). ``ego_from_world`` should be level (a rotation about
        z only, :func:`level_world_from_ego`): the boxes keep only the yaw it adds."""
        idx = self.rows(frame, pandar64_only=pandar64_only)
        labels = [
            int(LABEL_TO_CLASS.get(str(name), ObjectClass.UNKNOWN)) for name in self.label[idx]
        ]  # read_cuboids refused any label in neither LABEL_TO_CLASS nor UNMAPPED_LABELS
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
    type (``uuid`` / ``label`` strings, Arrow ``string`` or ``large_string``; ``frame`` /
    ``cuboids.sensor_id`` integers, the others numbers), and the row for a non-finite value or
    a negative dimension, or (field ``label``) a label in neither :data:`LABEL_TO_CLASS` nor
    :data:`UNMAPPED_LABELS`.
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
        want = (_is_text if name in ("uuid", "label") else
                pa.types.is_integer if name in ("frame", "cuboids.sensor_id") else
                lambda t: pa.types.is_integer(t) or pa.types.is_floating(t))  # fmt: skip
        if not want(col.type):
            raise DataError(f"unexpected column type {col.type}", path=p, field=name)
        cols[name] = col.to_numpy(zero_copy_only=False)
    fields = ("position.x", "position.y", "position.z", "dimensions.y", "dimensions.x",
              "dimensions.z", "yaw")  # fmt: skip
    numeric = np.stack([cols[k].astype(np.float64) for k in fields], axis=1)
    # sizes must be > 0 (a 0 m cuboid holds no points and matches nothing), all finite
    bad = ~np.isfinite(numeric)
    bad[:, 3:6] |= ~(numeric[:, 3:6] > 0)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise DataError(
            f"expected a finite number{' > 0' if 3 <= column < 6 else ''}, got "
            f"{numeric[row, column]!r} (frame {int(cols['frame'][row])}, uuid "
            f"{cols['uuid'][row]})",
            path=p,
            record=f"row {row}",
            field=fields[column],
        )
    _check_labels(cols["label"], cols["frame"], cols["uuid"], p)
    numeric[:, 6] = numeric[:, 6] + np.pi / 2  # length along the local +y axis
    return PandaSetCuboids(cols["frame"].astype(np.int64), cols["uuid"].astype(str), cols["label"].astype(str),
                           cols["cuboids.sensor_id"].astype(np.int64), numeric, p)  # fmt: skip


def _is_text(arrow_type: object) -> bool:
    """Arrow ``string`` or ``large_string`` (what pandas 3 and polars write)."""
    import pyarrow as pa

    return bool(pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type))


def _check_labels(label: np.ndarray, frame: np.ndarray, uuid: np.ndarray, path: str) -> None:
    """``DataError`` naming the file, the first row (its index, ``frame`` and ``uuid``) and
    field ``label`` whose ``(N,)`` label is in neither :data:`LABEL_TO_CLASS` nor
    :data:`UNMAPPED_LABELS` (a typo, another dataset's class)."""
    known = set(LABEL_TO_CLASS) | UNMAPPED_LABELS
    bad = np.flatnonzero(~np.isin(label.astype(str), sorted(known)))
    if bad.size:
        row = int(bad[0])
        raise DataError(
            f"unknown PandaSet label {str(label[row])!r}; known: {sorted(known)}",
            path=path,
            record=f"row {row} (frame {int(frame[row])}, uuid {uuid[row]})",
            field="label",
        )


def level_world_from_ego(world_from_lidar: SE3) -> SE3:
    """The level ego pose(s) of PandaSet LiDAR pose(s) (any batch shape).

    Same origin as ``world_from_lidar``; z is the world's up; x is the LiDAR's forward axis
    (its +y, :data:`LIDAR_FROM_EGO`) projected on the world's xy plane, so the result is a
    rotation about z only and the pose's pitch and roll are left out (they are in
    ``ego_from_lidar = level_world_from_ego(p).inverse() @ p``).
    """
    heading_rad = (world_from_lidar @ LIDAR_FROM_EGO).yaw_rad
    return SE3.from_xyz_yaw(world_from_lidar.translation, heading_rad)


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
            _check_npz_sizes(z.zip, names, path)
            return {k: z[k] for k in names}
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, MemoryError) as exc:
        raise DataError(f"cannot read npz: {type(exc).__name__}: {exc}", path=path) from None


#: The largest array a PandaSet ``.npz`` member may hold (bytes): a sweep of ~170k points
#: takes 4 MB as float64 x 3.
MAX_NPZ_ARRAY_BYTES = 1 << 30


def _check_npz_sizes(archive: zipfile.ZipFile, names: tuple[str, ...], path: str) -> None:
    """``DataError`` naming the file and array whose ``.npy`` header claims more bytes than
    its zip member holds, or more than :data:`MAX_NPZ_ARRAY_BYTES`: numpy allocates the
    declared shape before reading (a header claiming 2e9 points asked for 22 GiB)."""
    members = set(archive.namelist())
    for name in names:  # (np.load finds a member with or without the .npy suffix)
        info = archive.getinfo(name if name in members else f"{name}.npy")
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(member)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if declared > min(info.file_size, MAX_NPZ_ARRAY_BYTES):
            raise DataError(
                f"its header declares shape {shape} of {dtype} ({declared} bytes), more than "
                f"the {info.file_size} bytes stored"
                + (f" or {MAX_NPZ_ARRAY_BYTES} bytes" if declared > MAX_NPZ_ARRAY_BYTES else ""),
                path=path,
                field=name,
            )


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

    The ego frame is level (:func:`level_world_from_ego` of the frame's LiDAR pose): the
    world-frame points and cuboids are moved by one rotation about z and a translation, so the
    boxes stay exactly upright. ``ego_from_sensor``: ``"lidar"`` the identity (the cloud is in
    ``ego``), :data:`LIDAR_POSE_SENSOR` the LiDAR pose frame (x right, y forward, the pose's
    pitch and roll) in the ego frame.

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
    world_from_lidar = poses[index]
    world_from_ego = level_world_from_ego(world_from_lidar)
    ego_from_world = world_from_ego.inverse()
    try:
        cloud = read_lidar_npz(seq / "lidar" / f"{index:02d}.npz", ego_from_world, timestamp_ns=ts)
    except DataError as exc:
        if exc.field != "t":
            raise
        # the scan's times are judged against timestamps.json's: either file may be wrong
        raise exc.with_reason(
            f"{exc.reason} (the frame time is frame {index} of "
            f"{seq / 'lidar' / 'timestamps.json'}: a wrong time there shows here too)"
        ) from None
    cuboid_path = seq / "annotations" / "cuboids.parquet"
    labels, label_ids = None, None
    if cuboid_path.exists():
        cuboids = read_cuboids(cuboid_path)
        labels = cuboids.boxes(index, ego_from_world, timestamp_ns=ts, pandar64_only=pandar64_only)
        label_ids = cuboids.label_ids(index, pandar64_only=pandar64_only)
    mounts = {"lidar": SE3.identity(), LIDAR_POSE_SENSOR: ego_from_world @ world_from_lidar}
    return SensorFrame(ts, lidars={"lidar": cloud}, ego_from_sensor=mounts, world_from_ego=world_from_ego,
                       labels=labels, source=f"{seq}:{index:02d}", label_ids=label_ids)  # fmt: skip


def list_pandaset_frames(sequence_dir: str | Path) -> list[int]:
    """Sorted frame indices with a ``lidar/NN.npz`` file (empty when there is none)."""
    return sorted(int(p.stem) for p in (Path(sequence_dir) / "lidar").glob("[0-9][0-9].npz"))
