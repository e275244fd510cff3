"""nuScenes: LiDAR ``.pcd.bin`` sweeps, the float16 multi-sweep cloud, mmdet3d info JSON
(calibration, ego pose and 3D labels) and the detection submission JSON.

Frames: ``lidar`` is LIDAR_TOP; ``ego`` is nuScenes' ego-vehicle frame; ``world`` is the
nuScenes global frame. Info boxes are ``[x, y, z, l, w, h, yaw]`` in LIDAR_TOP with z at the
geometric ("gravity") centre, so they map onto :class:`Boxes3D` unchanged. The submission
format wants global-frame boxes with ``size = (w, l, h)`` and a ``(w, x, y, z)`` quaternion;
:func:`boxes_to_submission` converts once on the way out.

Yaw in the global frame has one rule for labels and submissions, the devkit's
``quaternion_yaw``: the heading of the box's rotated x axis (:func:`world_yaw_rad`), the box's
full rotation being ``world_from_lidar.rotation @ Rz(yaw)`` (the ego pose may be tilted).

Known limit (not changed): the info boxes are upright in LIDAR_TOP (mmdet3d's convention),
and LIDAR_TOP is 2.19 deg off the global up on the shared keyframe, so points counted in
these boxes match nuScenes' ``num_lidar_pts`` for 61 of its 69 boxes (all 69 with the boxes
made upright in the global frame, as nuScenes annotates them).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.frames import LIDAR, WORLD
from drivestack.core.json_values import is_finite_number, is_number
from drivestack.core.transforms import SE3, quaternion_to_rotation_matrix, yaw_to_rotation_matrix
from drivestack.ingest._points import (
    check_integer_column,
    check_plausible_range,
    finite_cloud,
    read_bytes,
    read_json,
)
from drivestack.ingest._rigid import rigid_from_matrix
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import INTENSITY, RING, TIME_OFFSET_NS, PointCloud
from drivestack.structures.sensor_frame import SensorFrame

#: The 10 nuScenes detection classes in ``detection_cvpr_2019`` order.
DETECTION_NAMES: tuple[str, ...] = (
    "car", "truck", "bus", "trailer", "construction_vehicle",
    "pedestrian", "motorcycle", "bicycle", "traffic_cone", "barrier",
)  # fmt: skip
NAME_TO_CLASS: dict[str, ObjectClass] = {
    "car": ObjectClass.CAR,
    "truck": ObjectClass.TRUCK,
    "bus": ObjectClass.BUS,
    "trailer": ObjectClass.TRAILER,
    "construction_vehicle": ObjectClass.OTHER_VEHICLE,
    "pedestrian": ObjectClass.PEDESTRIAN,
    "motorcycle": ObjectClass.MOTORCYCLE,
    "bicycle": ObjectClass.CYCLIST,
    "traffic_cone": ObjectClass.TRAFFIC_CONE,
    "barrier": ObjectClass.BARRIER,
}
#: drivestack class -> detection name for submissions (classes not listed are not submitted).
CLASS_TO_NAME: dict[ObjectClass, str] = {v: k for k, v in NAME_TO_CLASS.items()} | {
    ObjectClass.VAN: "car"
}
#: The nuScenes attribute names (``attribute_name`` of a submission box may also be "").
ATTRIBUTE_NAMES: tuple[str, ...] = (
    "pedestrian.moving", "pedestrian.sitting_lying_down", "pedestrian.standing",
    "cycle.with_rider", "cycle.without_rider",
    "vehicle.moving", "vehicle.parked", "vehicle.stopped",
)  # fmt: skip
_VEHICLE = ("car", "truck", "bus", "trailer", "construction_vehicle")
_CYCLE = ("motorcycle", "bicycle")
#: Attributes a box of each detection class may carry besides "" (none for cones, barriers).
CLASS_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    name: tuple(a for a in ATTRIBUTE_NAMES if a.startswith(prefix))
    for names, prefix in (
        (_VEHICLE, "vehicle."),
        (_CYCLE, "cycle."),
        (("pedestrian",), "pedestrian."),
    )
    for name in names
} | {"traffic_cone": (), "barrier": ()}
#: nuScenes' limit on boxes per sample in a submission (``max_boxes_per_sample``).
MAX_BOXES_PER_SAMPLE = 500
#: Above this speed a box is moving when its attribute is chosen from its velocity (mmdet3d).
MOVING_SPEED_MPS = 0.2
#: mmdet3d's ``NuScenesDataset.DefaultAttribute``: the attribute of a class when its speed
#: does not decide it (see :func:`attribute_from_speed`).
DEFAULT_ATTRIBUTE: dict[str, str] = {
    "car": "vehicle.parked",
    "truck": "vehicle.parked",
    "bus": "vehicle.moving",
    "trailer": "vehicle.parked",
    "construction_vehicle": "vehicle.parked",
    "pedestrian": "pedestrian.moving",
    "motorcycle": "cycle.without_rider",
    "bicycle": "cycle.without_rider",
    "traffic_cone": "",
    "barrier": "",
}


def attribute_from_speed(name: str, speed_mps: float) -> str:
    """mmdet3d's attribute of a box of detection class ``name`` moving at ``speed_mps``.

    Faster than :data:`MOVING_SPEED_MPS`: ``vehicle.moving`` for vehicles,
    ``cycle.with_rider`` for motorcycles and bicycles; else (NaN included):
    ``pedestrian.standing`` for pedestrians, ``vehicle.stopped`` for buses. Otherwise
    :data:`DEFAULT_ATTRIBUTE` (parked vehicles, moving pedestrians, riderless cycles, "" for
    cones and barriers), exactly as mmdet3d's nuScenes result formatting does.
    """
    if speed_mps > MOVING_SPEED_MPS:
        if name in _VEHICLE:
            return "vehicle.moving"
        if name in _CYCLE:
            return "cycle.with_rider"
    elif name == "pedestrian":
        return "pedestrian.standing"
    elif name == "bus":
        return "vehicle.stopped"
    return DEFAULT_ATTRIBUTE[name]


def heading_of_rotation(rotation: np.ndarray) -> np.ndarray:
    """``(...,)`` the heading (yaw) of ``(..., 3, 3)`` rotations: the angle of their rotated x
    axis in the x-y plane, as nuscenes-devkit's ``quaternion_yaw``."""
    rot = np.asarray(rotation, dtype=np.float64)
    return np.arctan2(rot[..., 1, 0], rot[..., 0, 0])


def world_yaw_rad(world_from_boxes: SE3, yaw_rad: np.ndarray) -> np.ndarray:
    """``(N,)`` global-frame yaws of boxes with ``(N,)`` yaws in a frame mapped by
    ``world_from_boxes``: :func:`heading_of_rotation` of ``world_from_boxes.rotation @
    Rz(yaw)``, the rotation :func:`boxes_to_submission` writes as the quaternion (for a
    level frame, ``yaw`` plus the frame's heading)."""
    rot = world_from_boxes.rotation @ yaw_to_rotation_matrix(np.asarray(yaw_rad, np.float64))
    return heading_of_rotation(rot)


def seconds_to_ns_us(seconds: float) -> int:
    """nuScenes float seconds (microsecond clock) to integer ns, rounded to the microsecond."""
    return round(float(seconds) * 1e6) * 1000


def read_lidar_pcd_bin(
    path: str | Path, *, timestamp_ns: int = 0, frame: str = LIDAR, drop_nonfinite: bool = False
) -> PointCloud:
    """A nuScenes LiDAR sweep ``.pcd.bin``: float32 ``N x (x, y, z, intensity, ring)``.

    ``ring`` becomes an int16 attribute. A 0-byte file is a cloud of 0 points.

    Raises ``DataError`` naming the file (and point, field) for a size that is not a multiple
    of 20 bytes, NaN/inf in any column (unless ``drop_nonfinite``, which drops those
    points), a ring that is not an integer in ``0 .. LIDAR_TOP_RINGS - 1``, or a coordinate
    beyond :data:`~drivestack.ingest._points.PLAUSIBLE_RANGE_M` (another layout, e.g. the
    float16 multi-sweep cloud of :func:`read_multisweep_fp16`).
    """
    raw = read_bytes(path)
    if len(raw) % 20:
        raise DataError(
            f"size {len(raw)} bytes is not a multiple of 20 (5 float32 per point): truncated?",
            path=str(path),
            record=f"point {len(raw) // 20}",
        )
    pts = np.frombuffer(raw, dtype="<f4").reshape(-1, 5)
    check_plausible_range(
        pts[:, :3],
        path=str(path),
        hint="a float16 multi-sweep cloud? read it with read_multisweep_fp16",
    )
    _check_rings(pts[:, 4], path=str(path))
    with np.errstate(invalid="ignore"):  # NaN rings are reported (or dropped) below
        ring = pts[:, 4].astype(np.int16)
    return finite_cloud(
        pts[:, :3],
        {INTENSITY: pts[:, 3], RING: ring},
        frame=frame,
        timestamp_ns=timestamp_ns,
        path=str(path),
        drop_nonfinite=drop_nonfinite,
        also_finite={"intensity": pts[:, 3], "ring": pts[:, 4]},
    )


#: LIDAR_TOP (Velodyne HDL-32E) rings: a ``.pcd.bin`` ring is an integer 0..31.
LIDAR_TOP_RINGS = 32


def _check_rings(ring: np.ndarray, *, path: str) -> None:
    """``DataError`` naming the first point whose ``(N,)`` float ring is not an integer in
    ``0 .. LIDAR_TOP_RINGS - 1`` (instead of wrapping 1e6 to 16960 or truncating 3.7 to 3);
    NaN is left to the finiteness check."""
    check_integer_column(
        ring,
        0,
        maximum=LIDAR_TOP_RINGS - 1,
        checked=~np.isnan(ring),
        path=path,
        record="point {}".format,
        field="ring",
        reason="{count} point(s) with a ring that is not an integer in "
        f"0..{LIDAR_TOP_RINGS - 1} (this one {{value:g}})",
    )


def read_multisweep_fp16(
    path: str | Path, *, timestamp_ns: int = 0, frame: str = LIDAR, drop_nonfinite: bool = False
) -> PointCloud:
    """A motion-compensated multi-sweep cloud (CenterPoint/BEVFusion input): float16
    ``N x (x, y, z, intensity, time_lag_s)``, already in the key frame's LIDAR_TOP frame.

    ``time_offset_ns`` = ``-time_lag`` (older sweeps have negative offsets); coordinates and
    intensity become float32. Raises ``DataError`` naming the file, point and field for a
    size that is not a multiple of 10 bytes, a negative time lag, NaN/inf in any column
    (unless ``drop_nonfinite``, which drops those points), or a coordinate beyond
    :data:`~drivestack.ingest._points.PLAUSIBLE_RANGE_M`.
    """
    raw = read_bytes(path)
    if len(raw) % 10:
        raise DataError(
            f"size {len(raw)} bytes is not a multiple of 10 (5 float16 per point): truncated?",
            path=str(path),
            record=f"point {len(raw) // 10}",
        )
    pts = np.frombuffer(raw, dtype="<f2").reshape(-1, 5).astype(np.float32)
    check_plausible_range(pts[:, :3], path=str(path), hint="not a float16 multi-sweep cloud?")
    lag_s = pts[:, 4].astype(np.float64)
    negative = np.flatnonzero(np.isfinite(lag_s) & (lag_s < 0))
    if negative.size:
        raise DataError(
            "negative time lag", path=str(path), record=f"point {negative[0]}", field="time_lag_s"
        )
    with np.errstate(invalid="ignore"):  # NaN/inf lags are reported (or dropped) below
        offset = -np.round(lag_s * 1e9).astype(np.int64)
    attrs: dict[str, np.ndarray] = {INTENSITY: pts[:, 3], TIME_OFFSET_NS: offset}
    return finite_cloud(
        pts[:, :3],
        attrs,
        frame=frame,
        timestamp_ns=timestamp_ns,
        path=str(path),
        drop_nonfinite=drop_nonfinite,
        also_finite={"intensity": pts[:, 3], "time_lag_s": lag_s},
    )


def _rigid(matrix: Any, path: str, record: str, field: str) -> SE3:
    """SE3 from a 4x4 list stored in float32 (rotation re-orthonormalised)."""
    return rigid_from_matrix(matrix, path=path, record=record, field=field)


@dataclass(frozen=True)
class NuScenesSample:
    """One key frame of an mmdet3d nuScenes info file.

    Attributes:
        token: sample token.
        timestamp_ns: LIDAR_TOP time.
        lidar_path: the sweep file name (relative to ``samples/LIDAR_TOP``).
        world_from_ego: ``ego2global``.
        ego_from_lidar: ``lidar2ego``.
        labels: LIDAR_TOP-frame boxes, ``label`` = ObjectClass (UNKNOWN for class -1). A box
            whose ``velocity`` is NaN or missing in the info file (an annotation without a
            neighbour to difference) has velocity 0 here, because :class:`Boxes3D` cannot hold
            an unknown velocity: :attr:`velocity_known` tells them apart. (Submission boxes
            keep NaN instead, :class:`SubmissionBoxes`; a scorer that follows the devkit
            counts no velocity error for an unknown label velocity, so it should set
            ``velocity_mps`` to NaN where ``velocity_known`` is False.)
        detection_name: ``(N,)`` str nuScenes class per box ("" when not a detection class).
        num_lidar_pts: ``(N,)`` int64; ``num_radar_pts``: ``(N,)`` int64; -1 where the info
            file's instance has no such key (unknown: the devkit's ``num_pts = -1``
            convention, never filtered as empty; mmdet3d's infos always carry both).
        velocity_known: ``(N,)`` bool, False where the info file's velocity was NaN or
            missing (read as 0 in ``labels``); None (every velocity known) when built
            without it.
    """

    token: str
    timestamp_ns: int
    lidar_path: str
    world_from_ego: SE3
    ego_from_lidar: SE3
    labels: Boxes3D
    detection_name: np.ndarray
    num_lidar_pts: np.ndarray
    num_radar_pts: np.ndarray
    velocity_known: np.ndarray | None = None

    @property
    def num_pts(self) -> np.ndarray:
        """``(N,)`` int64 the devkit's ``num_pts``: LiDAR plus radar points; -1 (unknown, never
        filtered as empty) where a count is missing and the other does not show points."""
        lidar, radar = self.num_lidar_pts, self.num_radar_pts
        known = np.maximum(lidar, 0) + np.maximum(radar, 0)
        unknown = ((lidar < 0) | (radar < 0)) & (known == 0)
        return np.where(unknown, -1, known).astype(np.int64)


def _numbers(value: Any, n: int, *, path: str | None, record: str, field: str) -> np.ndarray:
    """``(n,)`` float64 of a JSON list of ``n`` numbers (a tuple too: submissions checked
    before they are written are Python objects; NaN/inf left to the caller)."""
    if not isinstance(value, list | tuple) or len(value) != n or not all(map(is_number, value)):
        raise DataError(f"expected a list of {n} numbers, got {value!r}", path=path,
                        record=record, field=field)  # fmt: skip
    return np.asarray(value, dtype=np.float64)


def _count(value: Any, *, path: str, record: str, field: str) -> int:
    """A non-negative integer (an integral float such as ``5.0`` included)."""
    if not is_number(value) or not float(value).is_integer() or value < 0:
        raise DataError(f"expected a non-negative integer, got {value!r}", path=path,
                        record=record, field=field)  # fmt: skip
    return int(value)


#: The latest time an int64 nanosecond stamp holds, in seconds (2262-04-11).
_MAX_TIME_S = 9.2e9


def info_timestamp_ns(value: Any, *, path: str, record: str) -> int:
    """ns of an info ``timestamp``: mmdet3d v1.x infos store float seconds
    (``1532402927.647951``); the v0.x infos stored integer microseconds
    (``1532402927647951``), told apart by size (seconds < 9.2e9, microseconds >= 1e14, i.e.
    after 1973; both before int64 nanoseconds run out in 2262). Anything else (a string,
    null, a negative or in-between value) is a ``DataError`` naming the file, sample and
    field."""
    if is_finite_number(value) and 0 <= value < _MAX_TIME_S:
        return seconds_to_ns_us(value)
    if is_finite_number(value) and 1e14 <= value < _MAX_TIME_S * 1e6:
        return round(value) * 1000
    raise DataError(
        f"expected seconds (< {_MAX_TIME_S:.2g}) or integer microseconds ({1e14:.0e} .. "
        f"{_MAX_TIME_S * 1e6:.2g}), got {value!r}",
        path=path,
        record=record,
        field="timestamp",
    )


def _instance(
    inst: Any, categories: Sequence[str], path: str, irec: str
) -> tuple[np.ndarray, np.ndarray, str, int, int]:
    """``(box (7,), velocity (2,), detection name, num_lidar_pts, num_radar_pts)`` of one
    instance (velocity NaN when unknown); ``DataError`` naming file, sample and instance
    index, and field."""
    if not isinstance(inst, dict):
        raise DataError(f"expected an object, got {inst!r}", path=path, record=irec)
    for key in ("bbox_3d", "bbox_label_3d"):
        if key not in inst:
            raise DataError("missing key", path=path, record=irec, field=key)
    box = _numbers(inst["bbox_3d"], 7, path=path, record=irec, field="bbox_3d")
    if not np.all(np.isfinite(box)) or np.any(box[3:6] <= 0):
        raise DataError(
            f"expected 7 finite numbers with a size > 0 (the devkit asserts it), got "
            f"{inst['bbox_3d']}",
            path=path,
            record=irec,
            field="bbox_3d",
        )
    # NaN / missing velocity (no annotation to difference) is unknown: read as 0, flagged
    v = _numbers(
        inst.get("velocity", [np.nan, np.nan]), 2, path=path, record=irec, field="velocity"
    )
    if np.any(np.isinf(v)):
        raise DataError(
            f"expected 2 finite numbers or NaN (unknown), got {inst['velocity']}",
            path=path,
            record=irec,
            field="velocity",
        )
    label = inst["bbox_label_3d"]
    if not is_number(label) or not float(label).is_integer() or not -1 <= label < len(categories):
        raise DataError(
            f"expected an integer label in -1 .. {len(categories) - 1} "
            f"({len(categories)} categories; -1 = not a detection class), got {label!r}",
            path=path,
            record=irec,
            field="bbox_label_3d",
        )
    name = categories[int(label)] if label >= 0 else ""
    npts, nrad = (
        _count(inst[key], path=path, record=irec, field=key) if key in inst else -1
        for key in ("num_lidar_pts", "num_radar_pts")
    )  # missing: -1, unknown (never filtered as empty)
    return box, v, name, npts, nrad


def _sample(entry: Any, categories: Sequence[str], path: str, index: int) -> NuScenesSample:
    rec = f"data_list[{index}]"
    if not isinstance(entry, dict):
        raise DataError(f"expected an object, got {type(entry).__name__}", path=path, record=rec)
    try:
        token = entry["token"]
        if not isinstance(token, str) or not token:
            raise DataError(f"expected a non-empty string, got {token!r}", path=path,
                            record=rec, field="token")  # fmt: skip
        rec = f"data_list[{index}] (token {token})"
        ts = info_timestamp_ns(entry["timestamp"], path=path, record=rec)
        lidar = entry["lidar_points"]
        if not isinstance(lidar, dict):
            raise TypeError
        for key in ("lidar_path", "lidar2ego"):
            if key not in lidar:
                raise DataError("missing key", path=path, record=rec, field=f"lidar_points.{key}")
        lidar_path = str(lidar["lidar_path"])
        if not lidar_path or PurePath(lidar_path).name != lidar_path or lidar_path in (".", ".."):
            # a file name in samples/LIDAR_TOP (mmdet3d's v2 info files); a path in it could
            # point the reader at any file on the machine
            raise DataError(
                f"expected the file name of a sweep in samples/LIDAR_TOP, got {lidar_path!r} "
                "(no folders: the sweep is read from the dataset's samples/LIDAR_TOP)",
                path=path,
                record=rec,
                field="lidar_points.lidar_path",
            )
        world_from_ego = _rigid(entry["ego2global"], path, rec, "ego2global")
        ego_from_lidar = _rigid(lidar["lidar2ego"], path, rec, "lidar_points.lidar2ego")
        instances = entry.get("instances", [])
    except KeyError as exc:
        raise DataError("missing key", path=path, record=rec, field=str(exc.args[0])) from None
    except TypeError:
        raise DataError("expected an object", path=path, record=rec, field="lidar_points") from None
    if not isinstance(instances, list):
        raise DataError("expected a list", path=path, record=rec, field="instances")
    parts = [_instance(inst, categories, path, f"data_list[{index}].instances[{j}] (token {token})")
             for j, inst in enumerate(instances)]  # fmt: skip
    boxes = np.array([q[0] for q in parts]).reshape(-1, 7)
    vel = np.array([q[1] for q in parts]).reshape(-1, 2)
    known = np.all(np.isfinite(vel), axis=1)
    names = [q[2] for q in parts]
    labels = Boxes3D.from_array7(
        boxes,
        LIDAR,
        ts,
        label=[int(NAME_TO_CLASS.get(n, ObjectClass.UNKNOWN)) for n in names],
        velocity_mps=np.where(known[:, None], vel, 0.0),
    )
    return NuScenesSample(token, ts, lidar_path, world_from_ego, ego_from_lidar, labels,
                          np.array(names, dtype=str), np.array([q[3] for q in parts], dtype=np.int64),
                          np.array([q[4] for q in parts], dtype=np.int64), known)  # fmt: skip


def _categories(cats: Any, path: str) -> list[str]:
    """Names by label index from ``metainfo.categories`` (``{name: index}``, indices 0..K-1)."""
    if (
        not isinstance(cats, dict)
        or not all(is_number(v) and float(v).is_integer() for v in cats.values())
        or sorted(int(v) for v in cats.values()) != list(range(len(cats)))
    ):
        raise DataError(
            f"expected a mapping {{name: index}} with indices 0..K-1, got {cats!r:.80}",
            path=path,
            field="metainfo.categories",
        )
    # a name the protocol does not know would drop every label of it from scoring unsaid
    unknown = [name for name in cats if name not in DETECTION_NAMES]
    if unknown:
        raise DataError(
            f"unknown category name(s) {unknown}; the nuScenes detection classes are "
            f"{list(DETECTION_NAMES)}",
            path=path,
            field="metainfo.categories",
        )
    return [name for name, _ in sorted(cats.items(), key=lambda kv: kv[1])]


def read_nuscenes_info(path: str | Path) -> list[NuScenesSample]:
    """All samples of an mmdet3d v1.x nuScenes info file (pickle converted to JSON):
    ``{"metainfo": {"categories": {name: index}}, "data_list": [sample, ...]}``.

    ``timestamp`` is read as seconds (v1.x) or integer microseconds (v0.x), see
    :func:`info_timestamp_ns`. An instance ``velocity`` that is NaN or missing (unknown) is
    read as 0 in the sample's ``labels`` and flagged False in its ``velocity_known``
    (:class:`NuScenesSample`); an infinite one is an error. A missing ``num_lidar_pts`` /
    ``num_radar_pts`` is read as -1 (unknown). Raises ``DataError`` naming the file, the record
    (``data_list[i] (token t)``, and ``instances[j]``) and the field for anything else: a
    missing key, a wrong type or length, a box size that is not > 0, a label outside
    -1..K-1, a count that is not a non-negative integer, a non-rigid pose, or a sample token
    given twice.
    """
    p = str(path)
    data = read_json(path)
    if not isinstance(data, dict):
        raise DataError(
            f"expected an object with metainfo and data_list, got a {type(data).__name__}", path=p
        )
    meta = data.get("metainfo")
    if not isinstance(meta, dict):
        what = "missing key" if meta is None else f"expected an object, got a {type(meta).__name__}"
        raise DataError(what, path=p, field="metainfo")
    for where, holder, key in (("metainfo.", meta, "categories"), ("", data, "data_list")):
        if key not in holder:
            raise DataError("missing key", path=p, field=f"{where}{key}")
    cats, entries = meta["categories"], data["data_list"]
    categories = _categories(cats, p)
    if not isinstance(entries, list):
        raise DataError(
            f"expected a list, got a {type(entries).__name__}", path=p, field="data_list"
        )
    samples = [_sample(e, categories, p, i) for i, e in enumerate(entries)]
    seen: dict[str, int] = {}
    for i, sample in enumerate(samples):
        if sample.token in seen:
            raise DataError(
                f"sample token given twice (data_list[{seen[sample.token]}] and [{i}])",
                path=p,
                record=f"data_list[{i}] (token {sample.token})",
                field="token",
            )
        seen[sample.token] = i
    return samples


def read_nuscenes_frame(
    info_path: str | Path, index: int = 0, *, lidar_dir: str | Path | None = None
) -> SensorFrame:
    """Sample ``index`` of an info file with its LIDAR_TOP sweep, as a :class:`SensorFrame`.

    ``lidar_dir`` defaults to ``<info dir>/samples/LIDAR_TOP``. Cloud and labels are in the
    ``lidar`` frame; ``ego_from_sensor["lidar"]`` and ``world_from_ego`` come from the info.
    ``label_ids`` is None: the mmdet3d info's ``instances`` carry no instance token (nor any
    other id that would follow an object across samples).
    """
    samples = read_nuscenes_info(info_path)
    if not 0 <= index < len(samples):
        raise DataError(
            f"sample index {index} out of range (file has {len(samples)})", path=str(info_path)
        )
    s = samples[index]
    folder = (
        Path(lidar_dir)
        if lidar_dir is not None
        else Path(info_path).parent / "samples" / "LIDAR_TOP"
    )
    cloud = read_lidar_pcd_bin(folder / s.lidar_path, timestamp_ns=s.timestamp_ns)
    return SensorFrame(
        timestamp_ns=s.timestamp_ns,
        lidars={LIDAR: cloud},
        ego_from_sensor={LIDAR: s.ego_from_lidar},
        world_from_ego=s.world_from_ego,
        labels=s.labels,
        source=f"{info_path}:{s.token}",
    )


# -- submission JSON -----------------------------------------------------------------------


def boxes_to_submission(
    boxes: Boxes3D,
    sample_token: str,
    world_from_boxes: SE3,
    *,
    attribute_name: Sequence[str] | None = None,
    max_boxes: int = MAX_BOXES_PER_SAMPLE,
) -> list[dict[str, Any]]:
    """nuScenes result dicts (global frame) for boxes in a frame mapped by ``world_from_boxes``.

    Boxes whose class has no nuScenes name (UNKNOWN, ANIMAL, ...) are left out; of more than
    ``max_boxes`` (nuScenes' :data:`MAX_BOXES_PER_SAMPLE`) the ``max_boxes`` highest-scoring
    are kept, in their order, with a warning naming the sample and how many were dropped (as
    mmdet3d's nuScenes heads keep their top 500). The attribute
    of a box is ``attribute_name[i]`` when given (``(N,)``, one per box of ``boxes``, each ""
    or one of :data:`CLASS_ATTRIBUTES` of its class; ``ValueError`` naming the box
    otherwise), else chosen from its speed as mmdet3d's nuScenes output does
    (:func:`attribute_from_speed`).
    """
    out: list[dict[str, Any]] = []
    if attribute_name is not None and len(attribute_name) != len(boxes):
        raise ValueError(f"attribute_name has {len(attribute_name)} entries for {len(boxes)} boxes")
    if len(boxes) == 0:
        return out
    rot = world_from_boxes.rotation @ yaw_to_rotation_matrix(boxes.yaw_rad)  # world_yaw_rad's
    quats = SE3(rot, np.zeros((len(boxes), 3))).as_quaternion()
    centers = world_from_boxes.apply(boxes.center_m)
    vel = world_from_boxes.rotate(
        np.concatenate([boxes.velocity_mps, np.zeros((len(boxes), 1))], axis=1)
    )[:, :2]
    for i in range(len(boxes)):
        name = CLASS_TO_NAME.get(ObjectClass(int(boxes.label[i])))
        if name is None:
            continue
        if attribute_name is None:
            attr = attribute_from_speed(name, float(np.hypot(*vel[i])))
        else:
            attr = str(attribute_name[i])
            _check_attribute(attr, name, path=None, record=f"box {i}")
        length, width, height = boxes.size_m[i]
        out.append({
            "sample_token": sample_token,
            "translation": [float(v) for v in centers[i]],
            "size": [float(width), float(length), float(height)],
            "rotation": [float(v) for v in quats[i]],
            "velocity": [float(v) for v in vel[i]],
            "detection_name": name,
            "detection_score": float(boxes.score[i]),
            "attribute_name": attr,
        })  # fmt: skip
    if len(out) > max_boxes:
        scores = np.array([item["detection_score"] for item in out])
        keep = np.sort(np.argsort(-scores, kind="stable")[:max_boxes])
        warnings.warn(
            f"sample {sample_token}: {len(out)} boxes, kept the {max_boxes} highest-scoring "
            f"(nuScenes allows at most {MAX_BOXES_PER_SAMPLE} per sample)",
            stacklevel=2,
        )
        out = [out[k] for k in keep]
    return out


def write_submission(
    path: str | Path,
    results: Mapping[str, list[dict[str, Any]]],
    *,
    meta: Mapping[str, bool] | None = None,
) -> None:
    """Write ``{"meta": ..., "results": {sample_token: [box dicts]}}`` as strict JSON.

    Every box is checked as :func:`read_submission` checks it, and its velocity must be
    finite (strict JSON has no NaN); ``ValueError`` (a ``DataError`` without a path) naming
    ``results[token][j]`` and the field otherwise, before anything is written.

    ``meta``: the five method flags of the nuScenes results format (:data:`META_KEYS`), each
    a bool, no other key; ``ValueError`` naming the key otherwise. Default: LiDAR only.
    """
    doc_meta = _check_meta(meta)
    for token, items in results.items():
        sample_boxes(items, str(token), path=None, strict_json=True)
    doc = {"meta": doc_meta, "results": {k: list(v) for k, v in results.items()}}
    text = json.dumps(doc, allow_nan=False)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


#: The ``meta`` keys of a nuScenes submission (each a bool: the inputs the method used).
META_KEYS: tuple[str, ...] = ("use_camera", "use_lidar", "use_radar", "use_map", "use_external")


def _check_meta(meta: Mapping[str, bool] | None) -> dict[str, bool]:
    """``meta`` as written (LiDAR only when None); ``ValueError`` naming a missing, unknown
    or non-bool key (the nuScenes results format has exactly :data:`META_KEYS`, all bools)."""
    if meta is None:
        return {key: key == "use_lidar" for key in META_KEYS}
    unknown = [k for k in meta if k not in META_KEYS]
    if unknown:
        raise ValueError(f"meta: unknown key {unknown[0]!r}; expected {list(META_KEYS)}")
    missing = [k for k in META_KEYS if k not in meta]
    if missing:
        raise ValueError(f"meta: missing key {missing[0]!r}; expected {list(META_KEYS)}")
    for key in META_KEYS:
        if not isinstance(meta[key], (bool, np.bool_)):
            raise ValueError(f"meta: {key} must be a bool, got {meta[key]!r}")
    return {key: bool(meta[key]) for key in META_KEYS}


@dataclass(frozen=True)
class SubmissionBoxes:
    """The boxes of one sample of a submission (global frame, nuScenes fields)."""

    center_m: np.ndarray  # (N, 3)
    size_wlh_m: np.ndarray  # (N, 3)
    yaw_rad: np.ndarray  # (N,)
    velocity_mps: np.ndarray  # (N, 2), NaN where the submission left it unknown
    detection_name: np.ndarray  # (N,) str
    attribute_name: np.ndarray  # (N,) str
    score: np.ndarray  # (N,)
    path: str = ""  # the submission file
    token: str = ""  # the sample token

    def __len__(self) -> int:
        return int(self.center_m.shape[0])

    def to_boxes(self, frame: str = WORLD, timestamp_ns: int = 0) -> Boxes3D:
        """As :class:`Boxes3D` (labels = ObjectClass of the detection names).

        :class:`Boxes3D` has no "unknown" velocity, so a NaN velocity is a ``DataError``
        naming the file, box and field (not silently 0: that would score a velocity error
        the devkit does not count); use :attr:`velocity_mps` to handle it. (The info-file
        *labels* are read the other way: an unknown label velocity becomes 0 in
        :attr:`NuScenesSample.labels` and is flagged in
        :attr:`NuScenesSample.velocity_known`.)
        """
        unknown = np.flatnonzero(~np.all(np.isfinite(self.velocity_mps), axis=1))
        if unknown.size:
            raise DataError(
                "unknown (NaN) velocity cannot be held by Boxes3D",
                path=self.path or None,
                record=f"results[{self.token}][{int(unknown[0])}]",
                field="velocity",
            )
        size = self.size_wlh_m[:, [1, 0, 2]]
        label = [int(NAME_TO_CLASS.get(n, ObjectClass.UNKNOWN)) for n in self.detection_name]
        return Boxes3D(
            self.center_m,
            size,
            self.yaw_rad,
            frame,
            timestamp_ns,
            score=self.score,
            label=np.asarray(label, dtype=np.int64),
            velocity_mps=self.velocity_mps,
        )


def read_submission(
    path: str | Path, *, warnings: list[str] | None = None
) -> dict[str, SubmissionBoxes]:
    """Read a nuScenes detection submission, checked as the nuScenes devkit's loader checks
    it (``load_prediction`` / ``DetectionBox``) and a little stricter.

    Per sample: a list of at most :data:`MAX_BOXES_PER_SAMPLE` boxes. Per box (an object):
    ``sample_token`` equal to its key; ``translation`` 3 and ``rotation`` 4 finite numbers
    (a non-zero quaternion; yaw its :func:`heading_of_rotation`); ``size`` 3 finite numbers
    > 0 (the devkit's ``scale_iou`` asserts it); ``velocity`` 2 numbers, NaN meaning unknown
    (kept NaN); ``detection_name`` one of :data:`DETECTION_NAMES`; ``detection_score`` a
    finite number, an integer too (the devkit's loader converts it with ``float()``; not a
    string); ``attribute_name`` "" or one of
    :data:`CLASS_ATTRIBUTES` of its class. ``DataError`` naming the file, the box
    (``results[token][j]``) and the field otherwise. ``warnings``: gets a line for what the
    devkit refuses but scoring does not need (no ``meta`` object), and a line for each box
    whose ``attribute_name`` is a nuScenes attribute of another class, which the devkit
    accepts and scores as a wrong attribute, as it is then scored (without ``warnings``
    such a box is refused).
    """
    p = str(path)
    doc = read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), dict):
        raise DataError("expected an object with a 'results' mapping", path=p, field="results")
    if warnings is not None and not isinstance(doc.get("meta"), dict):
        warnings.append(
            f"{p}: no 'meta' object (use_camera, use_lidar, use_radar, use_map, use_external): "
            "scored all the same, but the nuScenes devkit refuses such a submission"
        )
    return {str(token): sample_boxes(items, str(token), path=p, warnings=warnings)
            for token, items in doc["results"].items()}  # fmt: skip


_BOX_KEYS = ("sample_token", "translation", "size", "rotation", "velocity", "detection_name",
             "detection_score", "attribute_name")  # fmt: skip


def sample_boxes(
    items: Any,
    token: str,
    *,
    path: str | None,
    strict_json: bool = False,
    warnings: list[str] | None = None,
) -> SubmissionBoxes:
    """The boxes of one sample of a submission (the list of box objects under its token),
    checked as :func:`read_submission` checks them; ``DataError`` naming the box and field.
    ``strict_json``: NaN velocities are refused too (for writing strict JSON). ``warnings``:
    as :func:`read_submission`'s (another class's attribute kept, with a line)."""
    if not isinstance(items, list):
        raise DataError("expected a list of boxes", path=path, record=f"results[{token}]")
    if len(items) > MAX_BOXES_PER_SAMPLE:
        raise DataError(
            f"{len(items)} boxes; nuScenes allows at most {MAX_BOXES_PER_SAMPLE} per sample",
            path=path,
            record=f"results[{token}]",
        )
    n = len(items)
    center, size, yaw = np.zeros((n, 3)), np.zeros((n, 3)), np.zeros(n)
    vel, score = np.zeros((n, 2)), np.zeros(n)
    names, attrs = [], []
    for j, item in enumerate(items):
        rec = f"results[{token}][{j}]"
        if not isinstance(item, dict):
            raise DataError(f"expected a box object, got {item!r:.40}", path=path, record=rec)
        missing = [k for k in _BOX_KEYS if k not in item]
        if missing:
            raise DataError("missing key", path=path, record=rec, field=missing[0])
        if item["sample_token"] != token:
            raise DataError(f"{item['sample_token']!r} differs from the sample it is listed under",
                            path=path, record=rec, field="sample_token")  # fmt: skip
        center[j] = _finite(item["translation"], 3, path=path, record=rec, field="translation")
        size[j] = _finite(item["size"], 3, path=path, record=rec, field="size")
        if np.any(size[j] <= 0):
            raise DataError(
                f"size {item['size']} must be > 0 (the devkit's scale_iou asserts it)",
                path=path,
                record=rec,
                field="size",
            )
        q = _finite(item["rotation"], 4, path=path, record=rec, field="rotation")
        if not np.any(q):
            raise DataError("zero quaternion", path=path, record=rec, field="rotation")
        yaw[j] = heading_of_rotation(quaternion_to_rotation_matrix(q))
        vel[j] = _numbers(item["velocity"], 2, path=path, record=rec, field="velocity")
        if np.any(np.isinf(vel[j])) or (strict_json and not np.all(np.isfinite(vel[j]))):
            what = "finite (strict JSON has no NaN)" if strict_json else "finite or NaN (unknown)"
            raise DataError(f"velocity must be {what}, got {item['velocity']}",
                            path=path, record=rec, field="velocity")  # fmt: skip
        score[j] = _score(item["detection_score"], path=path, record=rec)
        name = item["detection_name"]
        if name not in NAME_TO_CLASS:
            raise DataError(f"unknown detection_name {name!r}; known: {list(DETECTION_NAMES)}",
                            path=path, record=rec, field="detection_name")  # fmt: skip
        _check_attribute(item["attribute_name"], name, path=path, record=rec, warnings=warnings)
        names.append(name)
        attrs.append(item["attribute_name"])
    return SubmissionBoxes(center, size, yaw, vel, np.array(names, dtype=str),
                           np.array(attrs, dtype=str), score, path or "", token)  # fmt: skip


def _score(value: Any, *, path: str | None, record: str) -> float:
    if not is_finite_number(value):
        raise DataError(f"expected a finite number, got {value!r}", path=path, record=record,
                        field="detection_score")  # fmt: skip
    return float(value)


def _check_attribute(
    attr: Any, name: str, *, path: str | None, record: str, warnings: list[str] | None = None
) -> None:
    """``DataError`` unless ``attr`` is "" or an attribute of detection class ``name``; given
    ``warnings``, a nuScenes attribute of another class is kept with a line there instead
    (the devkit accepts it; it scores as a wrong attribute)."""
    allowed = CLASS_ATTRIBUTES[name]
    if attr != "" and attr not in allowed:
        if warnings is not None and attr in ATTRIBUTE_NAMES:
            warnings.append(
                f"{path}: {record}: attribute_name {attr!r} is not an attribute of {name}: "
                "scored as a wrong attribute (the nuScenes devkit accepts it)"
            )
            return
        raise DataError(
            f'{attr!r} is not an attribute of {name}; expected "" or one of {list(allowed)}',
            path=path,
            record=record,
            field="attribute_name",
        )


def _finite(values: Any, n: int, *, path: str | None, record: str, field: str) -> np.ndarray:
    arr = _numbers(values, n, path=path, record=record, field=field)
    if not np.all(np.isfinite(arr)):
        raise DataError(f"expected {n} finite numbers, got {values!r}", path=path,
                        record=record, field=field)  # fmt: skip
    return arr
