"""aiMotive Multimodal Dataset: LAZ LiDAR revolutions, 3D box JSON, sensor calibration.

Sequence layout: ``dynamic/raw-revolutions/frame_NNNNNNN.laz`` (LAS point format 1, points
already in the vehicle **body** frame: x forward, y left, z up, metres; per-point
``gps_time`` in **integer nanoseconds** stored as float64, e.g. ``4833121676000.0``: not the
LAS standard's seconds, whatever the header's GPS-time flag says),
``dynamic/box/3d_body/frame_NNNNNNN.json`` (``{"CapturedObjects": [...], "Timestamp": ns}``,
the Timestamp a decimal string such as ``"4833189570000"``; box centre, full extents and a
``(w, x, y, z)`` quaternion, body frame) and ``sensor/calibration/calibration.json``
(``RT_body_from_sensor`` per sensor).

The body frame is drivestack's ``ego`` frame; clouds and boxes are read into it unchanged.
LAZ is decoded with ``laspy`` and its ``lazrs`` backend.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.frames import EGO
from drivestack.core.numbers import is_digits
from drivestack.core.transforms import SE3, quaternion_to_rotation_matrix
from drivestack.ingest._points import (
    check_finite_times,
    check_integer_column,
    check_time_offsets,
    finite_cloud,
    first_repeat,
    read_bytes,
    read_json,
)
from drivestack.ingest._rigid import rigid_from_matrix
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import INTENSITY, TIME_OFFSET_NS, PointCloud
from drivestack.structures.sensor_frame import SensorFrame

#: aiMotive ``ObjectType`` (upper-cased) -> drivestack class: every type of the dataset
#: loader's ``CATEGORY_MAPPING`` (aimotive-dataset-loader); the sample sequence in
#: ``shared/data`` uses CAR, VAN and TRUCK. Any other type is a ``DataError``.
TYPE_TO_CLASS: dict[str, ObjectClass] = {
    "CAR": ObjectClass.CAR,
    "SIZE_VEHICLE_M": ObjectClass.CAR,
    "PICKUP": ObjectClass.CAR,
    "VAN": ObjectClass.VAN,
    "TRUCK": ObjectClass.TRUCK,
    "SIZE_VEHICLE_XL": ObjectClass.TRUCK,
    "TRUCK/BUS": ObjectClass.TRUCK,
    "BUS": ObjectClass.BUS,
    "TRAILER": ObjectClass.TRAILER,
    "TRAIN": ObjectClass.OTHER_VEHICLE,
    "MOTORCYCLE": ObjectClass.MOTORCYCLE,
    "BICYCLE": ObjectClass.CYCLIST,
    "BIKE": ObjectClass.CYCLIST,
    "RIDER": ObjectClass.CYCLIST,
    "TWO_WHEEL_WITHOUT_RIDER": ObjectClass.CYCLIST,
    "OTHER_RIDEABLE": ObjectClass.CYCLIST,
    "OTHER-RIDEABLE": ObjectClass.CYCLIST,
    "PEDESTRIAN": ObjectClass.PEDESTRIAN,
    "BABY_CARRIAGE": ObjectClass.PEDESTRIAN,
    "SHOPPING-CART": ObjectClass.UNKNOWN,
    "OTHER-OBJECT": ObjectClass.UNKNOWN,
}
#: A box's roll / pitch (the angle of its up axis from the body's z) above which its
#: quaternion is refused: :class:`Boxes3D` keeps the yaw only (the sample's boxes tilt by
#: less than 0.0001 deg).
MAX_BOX_TILT_RAD = float(np.deg2rad(10.0))
#: A point's ``gps_time`` lies within this much of its frame's time (a revolution spans about
#: 100 ms; the sample's offsets from the box Timestamp run from -68 to +33 ms).
MAX_POINT_TIME_OFFSET_NS = 500_000_000
_BOX_FIELDS = (
    "BoundingBox3D Origin X", "BoundingBox3D Origin Y", "BoundingBox3D Origin Z",
    "BoundingBox3D Extent X", "BoundingBox3D Extent Y", "BoundingBox3D Extent Z",
    "BoundingBox3D Orientation Quat W", "BoundingBox3D Orientation Quat X",
    "BoundingBox3D Orientation Quat Y", "BoundingBox3D Orientation Quat Z",
)  # fmt: skip


#: The most a LAZ file's points may take uncompressed per byte of file: LASzip reaches 5-10x
#: on real LiDAR points and a few hundred on regular or repeated ones; a header claiming more
#: is refused before anything is allocated for it.
MAX_LAZ_EXPANSION = 1000


def _check_las_header(header: Any, file_bytes: int, path: str) -> None:
    """``DataError`` naming the file and the header field for a header that cannot describe
    the file: a scale that is not finite and > 0 or an offset that is not finite (every
    coordinate would read 0 or NaN), a point count its points-by-return total exceeds
    (the count alone edited: the rest of the scan lost), or points that cannot fit the file
    (memory allocated for a count the bytes do not hold)."""
    scales, offsets = np.asarray(header.scales, float), np.asarray(header.offsets, float)
    for axis, scale, offset in zip("xyz", scales, offsets, strict=True):
        if not (np.isfinite(scale) and scale > 0.0):
            raise DataError(
                f"must be finite and > 0, got {scale}", path=path, field=f"header {axis} scale"
            )
        if not np.isfinite(offset):
            raise DataError(
                f"must be finite, got {offset}", path=path, field=f"header {axis} offset"
            )
    count = int(header.point_count)
    by_return = int(np.sum(np.asarray(header.number_of_points_by_return, dtype=np.uint64)))
    if by_return > count:  # (fewer is fine: points of return number 0 fall in no bin)
        raise DataError(
            f"{count} points, but its points-by-return counts total {by_return}: a corrupt "
            "header (the points past the count would be lost)",
            path=path,
            field="header point count",
        )
    need = count * int(header.point_format.size)
    compressed = bool(getattr(header, "are_points_compressed", False))
    if need > file_bytes * (MAX_LAZ_EXPANSION if compressed else 1):
        raise DataError(
            f"{count} points of {header.point_format.size} bytes cannot come from a file of "
            f"{file_bytes} bytes",
            path=path,
            field="header point count",
        )


def _check_las_bounds(header: Any, xyz: np.ndarray, path: str) -> None:
    """``DataError`` when the header's bounds and the decoded points disagree by more than a
    scale step: points outside them, or a bound no point reaches (a point count smaller than
    what the file holds; LAS headers give the points' actual extent)."""
    finite = xyz[np.isfinite(xyz).all(axis=1)]
    if not len(finite):
        return
    step = np.asarray(header.scales, float) * 1.5
    lo, hi = np.asarray(header.mins, float), np.asarray(header.maxs, float)
    low, high = finite.min(axis=0), finite.max(axis=0)
    if np.any(low < lo - step) or np.any(high > hi + step):
        raise DataError(
            f"points reach {low.round(3).tolist()} .. {high.round(3).tolist()}, outside the "
            f"header's bounds {lo.round(3).tolist()} .. {hi.round(3).tolist()}",
            path=path,
            field="header bounds",
        )
    if np.any(low > lo + step) or np.any(high < hi - step):
        raise DataError(
            f"the {len(xyz)} decoded points span {low.round(3).tolist()} .. "
            f"{high.round(3).tolist()}, short of the header's bounds {lo.round(3).tolist()} .. "
            f"{hi.round(3).tolist()}: the header's point count is less than the file holds, "
            "or its bounds are wrong",
            path=path,
            field="header point count",
        )


def read_aimotive_laz(
    path: str | Path, *, timestamp_ns: int | None = None, drop_nonfinite: bool = False
) -> PointCloud:
    """One revolution in the ego (body) frame; float64 coordinates (0.001 m LAS scale).

    ``timestamp_ns`` defaults to the largest ``gps_time`` (the latest point, not necessarily
    the last one stored); ``time_offset_ns`` is each point's ``gps_time`` (integer ns) minus
    it. A file of 0 points is a cloud of 0 points. Raises ``DataError`` naming the file for
    unreadable or truncated LAZ, and the point and field ``gps_time`` for a NaN or infinite
    time, a time that is not a whole number of ns (seconds, LAS's unit) or one more than
    :data:`MAX_POINT_TIME_OFFSET_NS` from ``timestamp_ns`` (a corrupt file: never replaced or
    dropped; with ``drop_nonfinite``, times of points dropped for their coordinates are not
    checked).
    """
    import laspy

    p = str(path)
    raw = read_bytes(path)
    try:
        with laspy.open(io.BytesIO(raw)) as reader:
            header = reader.header
    except Exception as exc:  # laspy / lazrs raise several unrelated types for corrupt data
        raise DataError(f"cannot decode LAZ/LAS: {type(exc).__name__}: {exc}", path=p) from None
    _check_las_header(header, len(raw), p)
    try:
        las = laspy.read(io.BytesIO(raw))
        xyz = np.stack([np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)], axis=1).astype(
            np.float64
        )
        intensity = np.asarray(las.intensity)
        gps_ns = np.asarray(las.gps_time, dtype=np.float64)
    except Exception as exc:  # laspy / lazrs raise several unrelated types for corrupt data
        raise DataError(f"cannot decode LAZ/LAS: {type(exc).__name__}: {exc}", path=p) from None
    if len(xyz) != int(las.header.point_count):
        raise DataError(f"truncated: {len(xyz)} of {las.header.point_count} points decoded", path=p)
    _check_las_bounds(las.header, xyz, p)
    checked: np.ndarray = np.ones(len(xyz), dtype=bool)
    if drop_nonfinite:  # points dropped for their coordinates need no valid time
        checked = np.asarray(np.isfinite(xyz).all(axis=1))
    check_finite_times(gps_ns, checked, path=p, field="gps_time")
    finite_gps = np.where(np.isfinite(gps_ns), gps_ns, 0.0)
    _check_integer_ns(finite_gps, checked, path=p)
    if timestamp_ns is None:
        timestamp_ns = int(np.max(gps_ns[checked])) if checked.any() else 0
    offsets = finite_gps - timestamp_ns
    check_time_offsets(
        offsets, checked, limit_ns=MAX_POINT_TIME_OFFSET_NS, path=p, field="gps_time", unit="ns"
    )
    attrs = {INTENSITY: intensity, TIME_OFFSET_NS: np.round(offsets).astype(np.int64)}
    return finite_cloud(
        xyz, attrs, frame=EGO, timestamp_ns=timestamp_ns, path=p, drop_nonfinite=drop_nonfinite
    )


def _check_integer_ns(gps_ns: np.ndarray, checked: np.ndarray, *, path: str) -> None:
    """``DataError`` naming the first point (among ``checked``) whose ``(N,)`` ``gps_time`` is
    not a whole number of nanoseconds: the file holds seconds (LAS's unit), not aiMotive's ns."""
    check_integer_column(
        gps_ns,
        checked=checked,
        path=path,
        record="point {}".format,
        field="gps_time",
        reason="gps_time {value!r} is not a whole number of nanoseconds: aiMotive stores ns, "
        "this file looks like seconds",
    )


def _object_class(value: object, *, path: str, record: str) -> ObjectClass:
    """The drivestack class of an ``ObjectType`` (:data:`TYPE_TO_CLASS`, case-insensitive);
    ``DataError`` naming the object and field for any other value."""
    cls = TYPE_TO_CLASS.get(value.upper()) if isinstance(value, str) else None
    if cls is None:
        raise DataError(
            f"unknown aiMotive type {value!r}; known: {sorted(TYPE_TO_CLASS)}",
            path=path,
            record=record,
            field="ObjectType",
        )
    return cls


#: The numbers of one object :func:`read_aimotive_boxes` reads, in its array's column order.
_OBJECT_NUMBERS = (*_BOX_FIELDS, "Relative Velocity X", "Relative Velocity Y", "ObjectId")


def read_aimotive_boxes(path: str | Path) -> tuple[Boxes3D, np.ndarray]:
    """Ego-frame boxes of one frame and their ``ObjectId`` track ids ``(N,)`` int64.

    ``Boxes3D.timestamp_ns`` is the file's ``Timestamp`` (integer ns, as a JSON integer or a
    decimal string); velocity = relative velocity (x, y); the yaw is the quaternion's
    heading.

    Raises:
        DataError: naming the file, and the object index and field where there is one, for
            a missing / non-numeric value, an ``ObjectType`` not in :data:`TYPE_TO_CLASS`, an
            ``ObjectId`` that is not an integer within :data:`MAX_EXACT_ID` or that an earlier
            object has (naming both), a quaternion tilted (roll / pitch) more than
            :data:`MAX_BOX_TILT_RAD`, or a ``Timestamp`` that is not integer nanoseconds
            (``"abc"``, seconds ``4833.19``).
    """
    p = str(path)
    doc = read_json(path)
    if not isinstance(doc, dict) or "CapturedObjects" not in doc or "Timestamp" not in doc:
        raise DataError(
            "expected an object with CapturedObjects and Timestamp", path=p, field="CapturedObjects"
        )
    timestamp_ns = _timestamp_ns(doc["Timestamp"], path=p)
    objects = doc["CapturedObjects"]
    if not isinstance(objects, list):
        raise DataError(
            f"expected a list, got {type(objects).__name__}", path=p, field="CapturedObjects"
        )
    n = len(objects)
    values = np.zeros((n, len(_OBJECT_NUMBERS)))
    labels = np.zeros(n, dtype=np.int64)
    for i, obj in enumerate(objects):
        values[i] = _object_numbers(obj, path=p, record=f"CapturedObjects[{i}]")
        labels[i] = int(_object_class(obj["ObjectType"], path=p, record=f"CapturedObjects[{i}]"))
    ids = _object_ids(values[:, -1], path=p)
    rot = quaternion_to_rotation_matrix(values[:, 6:10]) if n else np.zeros((0, 3, 3))
    _check_tilt(rot, path=p)
    yaw = np.arctan2(rot[:, 1, 0], rot[:, 0, 0])
    velocity = values[:, len(_BOX_FIELDS) : len(_BOX_FIELDS) + 2]
    boxes = Boxes3D(
        values[:, 0:3], values[:, 3:6], yaw, EGO, timestamp_ns, label=labels, velocity_mps=velocity
    )
    return boxes, ids


def _object_numbers(obj: Any, *, path: str, record: str) -> np.ndarray:
    """``(13,)`` float64: the box fields, the relative velocity x y and the ``ObjectId`` of one
    object; ``DataError`` naming ``record`` and the field for a missing, non-numeric or
    non-finite value, a negative extent or a zero quaternion."""
    if not isinstance(obj, dict):
        raise DataError(f"expected an object, got {type(obj).__name__}", path=path, record=record)
    out = np.zeros(len(_OBJECT_NUMBERS))
    for k, key in enumerate((*_OBJECT_NUMBERS, "ObjectType")):
        if key not in obj:
            raise DataError("missing field", path=path, record=record, field=key)
        if key == "ObjectType":
            continue
        try:
            if isinstance(obj[key], bool | str):  # float() would take True, "1.5"
                raise TypeError
            out[k] = float(obj[key])
        except (TypeError, ValueError, OverflowError):  # OverflowError: an int past float64
            raise DataError(
                f"not a number: {obj[key]!r}", path=path, record=record, field=key
            ) from None
        if not np.isfinite(out[k]):
            raise DataError("NaN or infinite value", path=path, record=record, field=key)
    if np.any(out[3:6] < 0) or not np.any(out[6:10]):
        raise DataError(
            "negative extent or zero quaternion", path=path, record=record, field="BoundingBox3D"
        )
    return out


def _timestamp_ns(value: object, *, path: str) -> int:
    """The ``Timestamp`` as int ns: a JSON integer or a string of digits (as the dataset
    writes it); ``DataError`` naming the field for anything else (a float is seconds or a
    rounded time)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and is_digits(value):
        return int(value)
    raise DataError(
        f'must be integer nanoseconds (e.g. "4833189570000"), got {value!r}'
        + (" (seconds?)" if isinstance(value, float) else ""),
        path=path,
        field="Timestamp",
    )


#: The largest ``ObjectId`` magnitude read: every integer up to it is exact as a float (and
#: fits int64, which a larger one would wrap past).
MAX_EXACT_ID = 2**53


def _object_ids(ids: np.ndarray, *, path: str) -> np.ndarray:
    """``(N,)`` int64 of the ``(N,)`` float ``ObjectId`` s; ``DataError`` naming the object of
    the first that is not an integer within ``MAX_EXACT_ID`` or repeats an earlier object's
    (naming both)."""
    check_integer_column(
        ids,
        path=path,
        record="CapturedObjects[{}]".format,
        field="ObjectId",
        minimum=-MAX_EXACT_ID,
        maximum=MAX_EXACT_ID,
        reason="not an integer within +-2**53 (exact as a float): {value:g}",
    )
    out = ids.astype(np.int64)
    repeat = first_repeat(out.tolist())
    if repeat is not None:
        a, b = repeat
        raise DataError(
            f"ObjectId {int(out[b])} given twice (CapturedObjects[{a}] and [{b}])",
            path=path,
            record=f"CapturedObjects[{b}]",
            field="ObjectId",
        )
    return out


def _check_tilt(rotation: np.ndarray, *, path: str) -> None:
    """``DataError`` naming the first of ``(N, 3, 3)`` box rotations whose up axis is more
    than :data:`MAX_BOX_TILT_RAD` from the body's z (Boxes3D would drop that roll / pitch)."""
    tilt = np.arccos(np.clip(rotation[:, 2, 2], -1.0, 1.0))
    tilted = np.flatnonzero(tilt > MAX_BOX_TILT_RAD)
    if tilted.size:
        i = int(tilted[0])
        raise DataError(
            f"box tilted by {np.degrees(tilt[i]):.1f} deg (roll / pitch; at most "
            f"{np.degrees(MAX_BOX_TILT_RAD):g} deg): boxes keep only the yaw",
            path=path,
            record=f"CapturedObjects[{i}]",
            field="BoundingBox3D Orientation Quat",
        )


def read_aimotive_calibration(path: str | Path) -> dict[str, SE3]:
    """``calibration.json``: sensor name -> ``ego_from_sensor`` (``RT_body_from_sensor``)."""
    p = str(path)
    doc = read_json(path)
    if not isinstance(doc, dict):
        raise DataError(f"expected an object of sensors, got a {type(doc).__name__}", path=p)
    out: dict[str, SE3] = {}
    for name, sensor in doc.items():
        if not isinstance(sensor, dict) or "RT_body_from_sensor" not in sensor:
            continue
        out[name] = rigid_from_matrix(
            sensor["RT_body_from_sensor"], path=p, record=name, field="RT_body_from_sensor"
        )
    if not out:
        raise DataError("no sensor with RT_body_from_sensor", path=p)
    return out


def list_aimotive_frames(sequence_dir: str | Path) -> list[str]:
    """Frame names (``frame_0033643``) with a LAZ revolution, sorted."""
    return sorted(
        p.name[: -len(".laz")]
        for p in (Path(sequence_dir) / "dynamic" / "raw-revolutions").glob("frame_*.laz")
    )


def read_aimotive_frame(sequence_dir: str | Path, name: str) -> SensorFrame:
    """One keyframe: the revolution and (when present) its boxes, both in the ego frame.

    Time: with a box file, the frame's and the cloud's ``timestamp_ns`` are the box JSON's
    ``Timestamp`` (the time the labels are valid at), so that labels, cloud and the
    detections made from it share one time; the points' ``time_offset_ns`` are measured
    from it. That time falls inside the revolution, about 32 ms before its latest point
    (offsets from about -68 ms to +33 ms in the sample sequence); the detection figures are
    measured with it. Without a box file it is the latest point's ``gps_time``
    (:func:`read_aimotive_laz`).

    ``label_ids``: each box's ``ObjectId`` as a string (stable across the frames of a
    sequence); None without a box file.
    """
    seq = Path(sequence_dir)
    box_path = seq / "dynamic" / "box" / "3d_body" / f"{name}.json"
    labels, label_ids = None, None
    if box_path.exists():
        labels, ids = read_aimotive_boxes(box_path)
        label_ids = tuple(str(int(i)) for i in ids)
    ts = labels.timestamp_ns if labels is not None else None
    try:
        cloud = read_aimotive_laz(
            seq / "dynamic" / "raw-revolutions" / f"{name}.laz", timestamp_ns=ts
        )
    except DataError as err:
        if ts is None or err.field != "gps_time":
            raise
        # the points' times are measured from the box file's: either may be the wrong one
        raise err.with_reason(
            f"{err.reason}, or the box file's time is wrong ({box_path}: field Timestamp: "
            f"{ts} ns, the time the points are measured from)"
        ) from None
    calib = seq / "sensor" / "calibration" / "calibration.json"
    sensors = read_aimotive_calibration(calib) if calib.exists() else {}
    return SensorFrame(
        timestamp_ns=cloud.timestamp_ns,
        lidars={"lidar": cloud},
        ego_from_sensor={
            "lidar": SE3.identity(),
            **{k: v for k, v in sensors.items() if k != "lidar"},
        },
        labels=labels,
        source=f"{seq}:{name}",
        label_ids=label_ids,
    )
