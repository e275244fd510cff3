"""nuScenes: LiDAR ``.pcd.bin`` sweeps, the float16 multi-sweep cloud, mmdet3d info JSON
(calibration, ego pose and 3D labels) and the detection submission JSON.

Frames: ``lidar`` is LIDAR_TOP; ``ego`` is nuScenes' ego-vehicle frame; ``world`` is the
nuScenes global frame. Info boxes are ``[x, y, z, l, w, h, yaw]`` in LIDAR_TOP with z at the
geometric ("gravity") centre, so they map onto :class:`Boxes3D` unchanged. The submission
format wants global-frame boxes with ``size = (w, l, h)`` and a ``(w, x, y, z)`` quaternion;
:func:`boxes_to_submission` converts once on the way out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.frames import LIDAR, WORLD
from drivestack.core.transforms import SE3, quaternion_to_rotation_matrix, yaw_to_rotation_matrix
from drivestack.ingest._points import finite_cloud, read_bytes
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
#: Attribute written for each class when the detector predicts none (as mmdet3d does).
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


def seconds_to_ns_us(seconds: float) -> int:
    """nuScenes float seconds (microsecond clock) to integer ns, rounded to the microsecond."""
    return round(float(seconds) * 1e6) * 1000


def read_lidar_pcd_bin(
    path: str | Path, *, timestamp_ns: int = 0, frame: str = LIDAR, drop_nonfinite: bool = False
) -> PointCloud:
    """A nuScenes LiDAR sweep ``.pcd.bin``: float32 ``N x (x, y, z, intensity, ring)``.

    Raises ``DataError`` for a size that is not a multiple of 20 bytes, or NaN/inf points.
    """
    raw = read_bytes(path)
    if len(raw) % 20:
        raise DataError(
            f"size {len(raw)} bytes is not a multiple of 20 (5 float32 per point): truncated?",
            path=str(path),
            record=f"point {len(raw) // 20}",
        )
    pts = np.frombuffer(raw, dtype="<f4").reshape(-1, 5)
    attrs = {INTENSITY: pts[:, 3], RING: pts[:, 4].astype(np.int16)}
    return finite_cloud(
        pts[:, :3],
        attrs,
        frame=frame,
        timestamp_ns=timestamp_ns,
        path=str(path),
        drop_nonfinite=drop_nonfinite,
    )


def read_multisweep_fp16(
    path: str | Path, *, timestamp_ns: int = 0, frame: str = LIDAR, drop_nonfinite: bool = False
) -> PointCloud:
    """A motion-compensated multi-sweep cloud (CenterPoint/BEVFusion input): float16
    ``N x (x, y, z, intensity, time_lag_s)``, already in the key frame's LIDAR_TOP frame.

    ``time_offset_ns`` = ``-time_lag`` (older sweeps have negative offsets); coordinates and
    intensity become float32.
    """
    raw = read_bytes(path)
    if len(raw) % 10:
        raise DataError(
            f"size {len(raw)} bytes is not a multiple of 10 (5 float16 per point): truncated?",
            path=str(path),
            record=f"point {len(raw) // 10}",
        )
    pts = np.frombuffer(raw, dtype="<f2").reshape(-1, 5).astype(np.float32)
    lag_s = pts[:, 4].astype(np.float64)
    if np.any(np.isfinite(lag_s) & (lag_s < 0)):
        first = int(np.flatnonzero(lag_s < 0)[0])
        raise DataError(
            "negative time lag", path=str(path), record=f"point {first}", field="time_lag_s"
        )
    offset = -np.round(np.nan_to_num(lag_s) * 1e9).astype(np.int64)
    attrs: dict[str, np.ndarray] = {INTENSITY: pts[:, 3], TIME_OFFSET_NS: offset}
    return finite_cloud(
        pts[:, :3],
        attrs,
        frame=frame,
        timestamp_ns=timestamp_ns,
        path=str(path),
        drop_nonfinite=drop_nonfinite,
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
        labels: LIDAR_TOP-frame boxes, ``label`` = ObjectClass (UNKNOWN for class -1).
        detection_name: ``(N,)`` str nuScenes class per box ("" when not a detection class).
        num_lidar_pts: ``(N,)`` int64; ``num_radar_pts``: ``(N,)`` int64.
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


def _sample(
    entry: Mapping[str, Any], categories: Sequence[str], path: str, index: int
) -> NuScenesSample:
    rec = f"data_list[{index}]"
    try:
        token = str(entry["token"])
        ts = seconds_to_ns_us(entry["timestamp"])
        lidar = entry["lidar_points"]
        lidar_path = str(lidar["lidar_path"])
        world_from_ego = _rigid(entry["ego2global"], path, rec, "ego2global")
        ego_from_lidar = _rigid(lidar["lidar2ego"], path, rec, "lidar_points.lidar2ego")
        instances = entry.get("instances", [])
    except KeyError as exc:
        raise DataError("missing key", path=path, record=rec, field=str(exc.args[0])) from None
    boxes = np.zeros((len(instances), 7))
    vel = np.zeros((len(instances), 2))
    names, npts, nrad = [], [], []
    for j, inst in enumerate(instances):
        irec = f"{rec}.instances[{j}]"
        for key in ("bbox_3d", "bbox_label_3d"):
            if key not in inst:
                raise DataError("missing key", path=path, record=irec, field=key)
        box = np.asarray(inst["bbox_3d"], dtype=np.float64)
        if box.shape != (7,) or not np.all(np.isfinite(box)) or np.any(box[3:6] < 0):
            raise DataError(
                f"expected 7 finite numbers with non-negative size, got {inst['bbox_3d']}",
                path=path,
                record=irec,
                field="bbox_3d",
            )
        boxes[j] = box
        v = np.asarray(inst.get("velocity", [0.0, 0.0]), dtype=np.float64)[:2]
        vel[j] = np.nan_to_num(v)
        label = int(inst["bbox_label_3d"])
        if label >= len(categories):
            raise DataError(
                f"label {label} outside the {len(categories)} categories",
                path=path,
                record=irec,
                field="bbox_label_3d",
            )
        names.append(categories[label] if label >= 0 else "")
        npts.append(int(inst.get("num_lidar_pts", 0)))
        nrad.append(int(inst.get("num_radar_pts", 0)))
    labels = Boxes3D.from_array7(
        boxes,
        LIDAR,
        ts,
        label=[int(NAME_TO_CLASS.get(n, ObjectClass.UNKNOWN)) for n in names],
        velocity_mps=vel,
    )
    return NuScenesSample(token, ts, lidar_path, world_from_ego, ego_from_lidar, labels, np.array(names, dtype=str),
                          np.array(npts, dtype=np.int64), np.array(nrad, dtype=np.int64))  # fmt: skip


def read_nuscenes_info(path: str | Path) -> list[NuScenesSample]:
    """All samples of an mmdet3d v1.x nuScenes info file (pickle converted to JSON)."""
    p = str(path)
    try:
        data = json.loads(read_bytes(path))
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", path=p, record=f"line {exc.lineno}") from None
    try:
        cats = data["metainfo"]["categories"]
        entries = data["data_list"]
    except (KeyError, TypeError) as exc:
        raise DataError("missing key", path=p, field=str(exc.args[0])) from None
    categories = [name for name, _ in sorted(cats.items(), key=lambda kv: kv[1])]
    return [_sample(e, categories, p, i) for i, e in enumerate(entries)]


def read_nuscenes_frame(
    info_path: str | Path, index: int = 0, *, lidar_dir: str | Path | None = None
) -> SensorFrame:
    """Sample ``index`` of an info file with its LIDAR_TOP sweep, as a :class:`SensorFrame`.

    ``lidar_dir`` defaults to ``<info dir>/samples/LIDAR_TOP``. Cloud and labels are in the
    ``lidar`` frame; ``ego_from_sensor["lidar"]`` and ``world_from_ego`` come from the info.
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
    boxes: Boxes3D, sample_token: str, world_from_boxes: SE3
) -> list[dict[str, Any]]:
    """nuScenes result dicts (global frame) for boxes in a frame mapped by ``world_from_boxes``.

    Boxes whose class has no nuScenes name (UNKNOWN, ANIMAL, ...) are left out.
    """
    out: list[dict[str, Any]] = []
    if len(boxes) == 0:
        return out
    rot = world_from_boxes.rotation @ yaw_to_rotation_matrix(boxes.yaw_rad)
    quats = SE3(rot, np.zeros((len(boxes), 3))).as_quaternion()
    centers = world_from_boxes.apply(boxes.center_m)
    vel = world_from_boxes.rotate(
        np.concatenate([boxes.velocity_mps, np.zeros((len(boxes), 1))], axis=1)
    )[:, :2]
    for i in range(len(boxes)):
        name = CLASS_TO_NAME.get(ObjectClass(int(boxes.label[i])))
        if name is None:
            continue
        length, width, height = boxes.size_m[i]
        out.append({
            "sample_token": sample_token,
            "translation": [float(v) for v in centers[i]],
            "size": [float(width), float(length), float(height)],
            "rotation": [float(v) for v in quats[i]],
            "velocity": [float(v) for v in vel[i]],
            "detection_name": name,
            "detection_score": float(boxes.score[i]),
            "attribute_name": DEFAULT_ATTRIBUTE[name],
        })  # fmt: skip
    return out


def write_submission(
    path: str | Path,
    results: Mapping[str, list[dict[str, Any]]],
    *,
    meta: Mapping[str, bool] | None = None,
) -> None:
    """Write ``{"meta": ..., "results": {sample_token: [box dicts]}}``."""
    doc = {
        "meta": dict(
            meta
            or {
                "use_camera": False,
                "use_lidar": True,
                "use_radar": False,
                "use_map": False,
                "use_external": False,
            }
        ),
        "results": {k: list(v) for k, v in results.items()},
    }
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(doc))


@dataclass(frozen=True)
class SubmissionBoxes:
    """The boxes of one sample of a submission (global frame, nuScenes fields)."""

    center_m: np.ndarray  # (N, 3)
    size_wlh_m: np.ndarray  # (N, 3)
    yaw_rad: np.ndarray  # (N,)
    velocity_mps: np.ndarray  # (N, 2)
    detection_name: np.ndarray  # (N,) str
    attribute_name: np.ndarray  # (N,) str
    score: np.ndarray  # (N,)

    def __len__(self) -> int:
        return int(self.center_m.shape[0])

    def to_boxes(self, frame: str = WORLD, timestamp_ns: int = 0) -> Boxes3D:
        """As :class:`Boxes3D` (labels = ObjectClass of the detection names)."""
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


def read_submission(path: str | Path) -> dict[str, SubmissionBoxes]:
    """Read a nuScenes detection submission; errors name the sample token, box and field."""
    p = str(path)
    try:
        doc = json.loads(read_bytes(path))
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", path=p, record=f"line {exc.lineno}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), dict):
        raise DataError("expected an object with a 'results' mapping", path=p, field="results")
    out: dict[str, SubmissionBoxes] = {}
    for token, items in doc["results"].items():
        n = len(items)
        center, size, yaw = np.zeros((n, 3)), np.zeros((n, 3)), np.zeros(n)
        vel, score = np.zeros((n, 2)), np.zeros(n)
        names, attrs = [], []
        for j, item in enumerate(items):
            rec = f"results[{token}][{j}]"
            try:
                center[j] = _finite(item["translation"], 3)
                size[j] = _finite(item["size"], 3)
                q = _finite(item["rotation"], 4)
                rot = quaternion_to_rotation_matrix(q)
                yaw[j] = np.arctan2(rot[1, 0], rot[0, 0])
                vel[j] = np.nan_to_num(
                    np.asarray(item.get("velocity", [0.0, 0.0]), dtype=np.float64)[:2]
                )
                score[j] = float(item["detection_score"])
                name = str(item["detection_name"])
            except KeyError as exc:
                raise DataError("missing key", path=p, record=rec, field=str(exc.args[0])) from None
            except (ValueError, TypeError) as exc:
                raise DataError(str(exc), path=p, record=rec) from None
            if name not in NAME_TO_CLASS:
                raise DataError(
                    f"unknown detection_name {name!r}", path=p, record=rec, field="detection_name"
                )
            names.append(name)
            attrs.append(str(item.get("attribute_name", "")))
        out[str(token)] = SubmissionBoxes(
            center, size, yaw, vel, np.array(names, dtype=str), np.array(attrs, dtype=str), score
        )
    return out


def _finite(values: Any, n: int) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"expected {n} finite numbers, got {values!r}")
    return arr
