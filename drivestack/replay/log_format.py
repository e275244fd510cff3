"""drivestack's log format: MCAP with Foxglove schemas (JSON encoding) plus drivestack channels.

One format for replay inputs and outputs, and what Foxglove opens. Every channel uses
``message_encoding = "json"`` and a ``jsonschema`` schema shipped in ``replay/schemas/``: the
``foxglove.*`` ones are the official JSON schemas of ``@foxglove/schemas`` 2.1.0 as the npm
package exports them (no ``$ref``: what Foxglove's and Lichtblick's JSON-schema loader reads;
MIT, ``schemas/FOXGLOVE_SCHEMAS_LICENSE.md``), and messages carry every field they require (a
``SceneEntity`` all eight primitive lists, the unused ones empty); the ``drivestack.*`` ones
keep to what that loader reads too (one type per field, ``properties`` on every object).
A log stores the schemas it was written with, and :meth:`LogReader.validate` checks each
message against those: logs written with drivestack's earlier, looser schemas still read and
validate.

=========================  =========================  =======================================
what                       schema                     how
=========================  =========================  =======================================
LiDAR sweep                ``foxglove.PointCloud``    little-endian packed ``x y z`` + numeric
                                                      attributes (``*_ns`` int64 -> FLOAT64,
                                                      exact below 2**53), base64 ``data``
boxes / labels / tracks    ``foxglove.SceneUpdate``   one entity per box (cube; id = track id
                                                      for tracks), ``metadata`` carries label,
                                                      score, velocity, track counters exactly
                                                      (labels: ``label_id`` when the frame has
                                                      ``label_ids``)
planned trajectory         ``foxglove.SceneUpdate``   one ``LinePrimitive`` (LINE_STRIP); the
                                                      full trajectory in entity ``metadata``
track forecasts            ``foxglove.SceneUpdate``   one entity per track (id
                                                      ``forecast-<track id>``): a LINE_STRIP
                                                      of the forecast centres; ``metadata``
                                                      carries track id, ``dt_s``, the boxes
                                                      and speeds exactly
transforms / ego pose      ``foxglove.FrameTransforms``
camera image               ``foxglove.CompressedImage``
camera calibration         ``foxglove.CameraCalibration``
                                                      ``distortion_model`` by coefficient
                                                      count (:func:`foxglove_distortion`)
metrics                    ``drivestack.Metrics``     ``{timestamp_ns, scope, metrics: {...}}``
run metadata               ``drivestack.RunMetadata`` version, git commit, command, config,
                                                      inputs (also an MCAP metadata record
                                                      ``drivestack``); stamped with the first
                                                      message's log time (0 in logs written
                                                      before that, and in logs of no message)
KITTI label rows / calib   ``drivestack.KittiLabels`` see :mod:`drivestack.replay.kitti_log`
                           ``drivestack.KittiCalib``
=========================  =========================  =======================================

Floats go through JSON with Python's shortest round-trip ``repr``, so the reader returns the
written float64 values bit for bit (float32 point data is binary in ``data``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np

import drivestack
from drivestack.core.frames import EGO, WORLD
from drivestack.core.provenance import run_provenance
from drivestack.core.transforms import SE3
from drivestack.ingest.rosbag.messages import encode_image_png
from drivestack.prediction.forecast import Forecast
from drivestack.replay import payloads
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.camera import CameraCalibration, CameraImage
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame
from drivestack.structures.tracks import Tracks
from drivestack.structures.trajectory import Trajectory

POINT_CLOUD = "foxglove.PointCloud"
SCENE_UPDATE = "foxglove.SceneUpdate"
FRAME_TRANSFORMS = "foxglove.FrameTransforms"
COMPRESSED_IMAGE = "foxglove.CompressedImage"
CAMERA_CALIBRATION = "foxglove.CameraCalibration"
METRICS = "drivestack.Metrics"
RUN_METADATA = "drivestack.RunMetadata"
KITTI_LABELS = "drivestack.KittiLabels"
KITTI_CALIB = "drivestack.KittiCalib"
SCHEMA_NAMES = (
    CAMERA_CALIBRATION,
    POINT_CLOUD,
    SCENE_UPDATE,
    FRAME_TRANSFORMS,
    COMPRESSED_IMAGE,
    METRICS,
    RUN_METADATA,
    KITTI_LABELS,
    KITTI_CALIB,
)
RUN_TOPIC = "/drivestack/run"
# Sensor-frame conventions (inputs of a replay): one PointCloud topic per LiDAR, the ego pose
# and the sensor mountings on one FrameTransforms topic, ground-truth boxes on LABELS_TOPIC.
LIDAR_TOPIC_PREFIX = "/lidar/"
TF_TOPIC = "/tf"
LABELS_TOPIC = "/labels"
CAMERA_TOPIC_PREFIX = "/camera/"  # + "<name>/image" (PNG) and "<name>/calibration"
#: foxglove.CameraCalibration's ``distortion_model`` s drivestack writes and reads (OpenCV
#: coefficient order, as :func:`drivestack.kernels.camera.project_points` applies them) and the
#: numbers of ``D`` each may have (the writer writes the last); ``""``: none (``D`` empty).
DISTORTION_MODELS: dict[str, tuple[int, ...]] = {"plumb_bob": (4, 5), "rational_polynomial": (8,)}

# foxglove.NumericType codes
_NUMERIC_TYPES: dict[str, int] = {
    "u1": 1,
    "i1": 2,
    "u2": 3,
    "i2": 4,
    "u4": 5,
    "i4": 6,
    "f4": 7,
    "f8": 8,
}
_NUMERIC_DTYPES: dict[int, str] = {v: k for k, v in _NUMERIC_TYPES.items()}
_LABEL_COLORS: dict[int, tuple[float, float, float]] = {
    int(ObjectClass.CAR): (0.2, 0.6, 1.0),
    int(ObjectClass.PEDESTRIAN): (1.0, 0.4, 0.2),
    int(ObjectClass.CYCLIST): (0.9, 0.9, 0.2),
}


def load_schema(name: str) -> dict[str, Any]:
    """The JSON schema of one channel type (``foxglove.PointCloud``, ...)."""
    if name not in SCHEMA_NAMES:
        raise KeyError(f"unknown schema {name!r}; known: {SCHEMA_NAMES}")
    text = resources.files("drivestack.replay").joinpath(f"schemas/{name}.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _time(timestamp_ns: int) -> dict[str, int]:
    if timestamp_ns < 0:
        raise ValueError(f"Foxglove times are unsigned; got {timestamp_ns} ns")
    return {"sec": int(timestamp_ns // 1_000_000_000), "nsec": int(timestamp_ns % 1_000_000_000)}


def _ns(time: Mapping[str, int]) -> int:
    return int(time.get("sec", 0)) * 1_000_000_000 + int(time.get("nsec", 0))


def _pose(pose: SE3) -> dict[str, Any]:
    return _pose_from(pose.as_quaternion(), pose.translation)


def _pose_from(quaternion_wxyz: np.ndarray, translation: np.ndarray) -> dict[str, Any]:
    w, x, y, z = (float(v) for v in quaternion_wxyz)
    px, py, pz = (float(v) for v in translation)
    return {
        "position": {"x": px, "y": py, "z": pz},
        "orientation": {"x": x, "y": y, "z": z, "w": w},
    }


def _poses(poses: SE3) -> list[dict[str, Any]]:
    """``_pose`` of each pose of a batch (one quaternion conversion for the batch)."""
    quaternions = poses.as_quaternion()
    return [_pose_from(q, t) for q, t in zip(quaternions, poses.translation, strict=True)]


def _identity_pose() -> dict[str, Any]:
    """A fresh ``_pose(SE3.identity())`` (computed once; callers may not share the dict)."""
    return {k: dict(v) for k, v in _IDENTITY_POSE.items()}


_IDENTITY_POSE = _pose(SE3.identity())


def _se3(pose: Mapping[str, Any]) -> SE3:
    p, q = pose.get("position", {}), pose.get("orientation", {})
    quat = [q.get("w", 1.0), q.get("x", 0.0), q.get("y", 0.0), q.get("z", 0.0)]
    return SE3.from_quaternion(quat, [p.get("x", 0.0), p.get("y", 0.0), p.get("z", 0.0)])


# -- encoding -------------------------------------------------------------------------------
def _point_cloud_layout(cloud: PointCloud) -> tuple[dict[str, np.ndarray], np.dtype[Any]]:
    """Columns (``x y z`` then attributes sorted by name) and their packed little-endian dtype."""
    columns: dict[str, np.ndarray] = {a: cloud.xyz_m[:, i] for i, a in enumerate("xyz")}
    for name in sorted(cloud.attributes):
        values = cloud.attributes[name]
        if values.dtype.kind == "b":
            values = values.astype(np.uint8)
        elif values.dtype.str[1:] not in _NUMERIC_TYPES:  # int64 / uint64: exact below 2**53
            values = values.astype(np.float64)
        columns[name] = values
    names = list(columns)
    formats = ["<" + columns[n].dtype.str[1:] for n in names]
    offsets = list(np.cumsum([0] + [np.dtype(f).itemsize for f in formats[:-1]]))
    stride = int(sum(np.dtype(f).itemsize for f in formats))
    dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": stride})
    return columns, dtype


def _point_cloud_header(cloud: PointCloud, dtype: np.dtype[Any]) -> dict[str, Any]:
    assert dtype.fields is not None
    return {
        "timestamp": _time(cloud.timestamp_ns),
        "frame_id": cloud.frame,
        "pose": _identity_pose(),
        "point_stride": dtype.itemsize,
        "fields": [
            {"name": n, "offset": int(dtype.fields[n][1]), "type": _NUMERIC_TYPES[dtype[n].str[1:]]}
            for n in dtype.names or ()
        ],
    }


def _point_cloud_data(
    cloud: PointCloud, columns: dict[str, np.ndarray], header: dict[str, Any], dtype: np.dtype[Any]
) -> str:
    """base64 of the packed points: the source message's text when it holds these very bytes
    (see :mod:`drivestack.replay.payloads`), else packed and encoded here."""
    source = payloads.source_of(cloud)
    if (
        source is not None
        and source["point_stride"] == header["point_stride"]
        and source["fields"] == header["fields"]
    ):
        return str(source["data"])
    packed = np.zeros(len(cloud), dtype=dtype)
    for name, values in columns.items():
        packed[name] = values
    return base64.b64encode(packed.tobytes()).decode("ascii")


def point_cloud_message(cloud: PointCloud) -> dict[str, Any]:
    """``foxglove.PointCloud`` JSON of a cloud (``x y z`` then attributes, sorted by name)."""
    columns, dtype = _point_cloud_layout(cloud)
    header = _point_cloud_header(cloud, dtype)
    return {**header, "data": _point_cloud_data(cloud, columns, header, dtype)}


def _json_with_data(message: Mapping[str, Any], data_b64: str) -> bytes:
    """The compact JSON of ``{**message, "data": data_b64}`` (``data`` last), without running
    the JSON encoder over the long base64 text (it needs no escaping)."""
    head = json.dumps(message, allow_nan=False, separators=(",", ":"))
    sep = "," if message else ""
    return b"".join(
        (head[:-1].encode(), f'{sep}"data":"'.encode(), data_b64.encode("ascii"), b'"}')
    )


#: The primitive lists of a ``foxglove.SceneEntity`` (the official schema requires them all).
SCENE_PRIMITIVES = (
    "arrows",
    "cubes",
    "spheres",
    "cylinders",
    "lines",
    "triangles",
    "texts",
    "models",
)


def _scene_entity(
    timestamp_ns: int,
    frame: str,
    entity_id: str,
    meta: Mapping[str, str],
    **primitives: list[dict[str, Any]],
) -> dict[str, Any]:
    """A ``foxglove.SceneEntity`` with ``meta`` as its metadata, the given primitive lists
    (``cubes=[...]``, ...) and every other one of :data:`SCENE_PRIMITIVES` empty."""
    unknown = sorted(set(primitives) - set(SCENE_PRIMITIVES))
    if unknown:
        raise ValueError(f"not SceneEntity primitive lists: {unknown}; known: {SCENE_PRIMITIVES}")
    return {
        "timestamp": _time(timestamp_ns),
        "frame_id": frame,
        "id": entity_id,
        "lifetime": {"sec": 0, "nsec": 0},
        "frame_locked": False,
        "metadata": [{"key": k, "value": v} for k, v in meta.items()],
        **{name: primitives.get(name, []) for name in SCENE_PRIMITIVES},
    }


def _box_entities(
    boxes: Boxes3D, ids: Sequence[str], extra: Sequence[dict[str, str]]
) -> list[dict[str, Any]]:
    poses = _poses(SE3.from_xyz_yaw(boxes.center_m, boxes.yaw_rad)) if len(boxes) else []
    entities = []
    for i in range(len(boxes)):
        label = int(boxes.label[i])
        r, g, b = _LABEL_COLORS.get(label, (0.7, 0.7, 0.7))
        meta = {
            "label": str(label),
            "class": ObjectClass(label).name if label in ObjectClass._value2member_map_ else "?",
            "score": repr(float(boxes.score[i])),
            "yaw_rad": repr(float(boxes.yaw_rad[i])),
            "velocity_mps": json.dumps([float(v) for v in boxes.velocity_mps[i]]),
            **extra[i],
        }
        length, width, height = (float(v) for v in boxes.size_m[i])
        cube = {
            "pose": poses[i],
            "size": {"x": length, "y": width, "z": height},
            "color": {"r": r, "g": g, "b": b, "a": 0.5},
        }
        entities.append(_scene_entity(boxes.timestamp_ns, boxes.frame, ids[i], meta, cubes=[cube]))
    return entities


def scene_update_boxes(
    boxes: Boxes3D, kind: str = "boxes", label_ids: Sequence[str] | None = None
) -> dict[str, Any]:
    """``foxglove.SceneUpdate``: delete the topic's previous entities, one cube per box;
    ``label_ids`` (one per box, :attr:`SensorFrame.label_ids`) go in a ``label_id`` key."""
    ids = [f"{kind}-{i}" for i in range(len(boxes))]
    extra = [{"drivestack.kind": kind, "index": str(i)} for i in range(len(boxes))]
    if label_ids is not None:
        for entry, label_id in zip(extra, label_ids, strict=True):
            entry["label_id"] = label_id
    return {
        "deletions": [{"timestamp": _time(boxes.timestamp_ns), "type": 1, "id": ""}],
        "entities": _box_entities(boxes, ids, extra),
    }


def scene_update_tracks(tracks: Tracks) -> dict[str, Any]:
    """``foxglove.SceneUpdate`` with entity id = track id (Foxglove keeps one entity per track)."""
    ids = [str(int(t)) for t in tracks.track_id]
    extra = [
        {
            "drivestack.kind": "tracks",
            "track_id": str(int(tracks.track_id[i])),
            "age": str(int(tracks.age[i])),
            "hits": str(int(tracks.hits[i])),
            "time_since_update": str(int(tracks.time_since_update[i])),
        }
        for i in range(len(tracks))
    ]
    boxes = tracks.boxes
    return {
        "deletions": [{"timestamp": _time(boxes.timestamp_ns), "type": 1, "id": ""}],
        "entities": _box_entities(boxes, ids, extra),
    }


@dataclass(frozen=True)
class TrackForecasts:
    """The forecasts of one frame's tracks as a log holds them: ``track_id`` ``(A,)`` int64
    and ``forecast`` (``A`` rows, in ``track_id``'s order), in ``frame`` at ``timestamp_ns``."""

    track_id: np.ndarray
    forecast: Forecast
    frame: str
    timestamp_ns: int


_FORECAST_COLOR = {"r": 1.0, "g": 0.3, "b": 0.9, "a": 1.0}
_TRAJECTORY_COLOR = {"r": 0.1, "g": 0.9, "b": 0.3, "a": 1.0}


def _line_strip_entity(
    timestamp_ns: int,
    frame: str,
    entity_id: str,
    meta: Mapping[str, str],
    points: Iterable[Sequence[float]],
    *,
    thickness: float,
    color: Mapping[str, float],
) -> dict[str, Any]:
    """A ``foxglove.SceneEntity`` holding one LINE_STRIP through ``points`` (x, y, z each)
    and ``meta`` as its metadata."""
    line = {
        "type": 0,
        "pose": _identity_pose(),
        "thickness": thickness,
        "scale_invariant": False,
        "points": [{"x": float(x), "y": float(y), "z": float(z)} for x, y, z in points],
        "color": dict(color),
        "colors": [],
        "indices": [],
    }
    return _scene_entity(timestamp_ns, frame, entity_id, meta, lines=[line])


def scene_update_forecasts(forecasts: TrackForecasts) -> dict[str, Any]:
    """``foxglove.SceneUpdate``: delete the topic's previous entities, then one entity per
    track (id ``forecast-<track id>``) with its forecast centres as a LINE_STRIP and, in its
    metadata, the track id, ``dt_s``, ``boxes`` (``(T+1, 7)``) and ``speed_mps`` as JSON."""
    fc = forecasts.forecast
    entities = []
    for row, tid in enumerate(forecasts.track_id.tolist()):
        boxes = fc.boxes[row].tolist()
        meta = {
            "drivestack.kind": "forecast",
            "track_id": str(tid),
            "dt_s": repr(float(fc.dt_s)),
            "boxes": json.dumps(boxes),
            "speed_mps": json.dumps(fc.speed_mps[row].tolist()),
        }
        entities.append(
            _line_strip_entity(
                forecasts.timestamp_ns,
                forecasts.frame,
                f"forecast-{tid}",
                meta,
                [box[:3] for box in boxes],
                thickness=0.1,
                color=_FORECAST_COLOR,
            )
        )
    deletion = {"timestamp": _time(forecasts.timestamp_ns), "type": 1, "id": ""}
    return {"deletions": [deletion], "entities": entities}


def decode_forecast_entities(
    entities: Sequence[Mapping[str, Any]], metas: Sequence[Mapping[str, str]]
) -> TrackForecasts:
    """The :class:`TrackForecasts` of a forecast SceneUpdate's entities (at least one) and
    their metadata (:func:`scene_update_forecasts`)."""
    dt = {float(m["dt_s"]) for m in metas}
    if len(dt) != 1:
        raise ValueError(f"forecast entities disagree on dt_s: {sorted(dt)}")
    boxes = np.array([json.loads(m["boxes"]) for m in metas], dtype=np.float64)
    speed = np.array([json.loads(m["speed_mps"]) for m in metas], dtype=np.float64)
    return TrackForecasts(
        np.array([int(m["track_id"]) for m in metas], dtype=np.int64),
        Forecast(dt.pop(), boxes, speed),
        str(entities[0]["frame_id"]),
        _ns(entities[0]["timestamp"]),
    )


#: The :class:`Trajectory` arrays a trajectory entity carries (JSON lists in its metadata).
TRAJECTORY_FIELDS = (
    "timestamp_ns",
    "x_m",
    "y_m",
    "yaw_rad",
    "speed_mps",
    "acceleration_mps2",
    "curvature_1pm",
)


def scene_update_trajectory(
    trajectory: Trajectory, timestamp_ns: int, z_m: float = 0.0
) -> dict[str, Any]:
    """``foxglove.SceneUpdate``: the path as one LINE_STRIP; all fields in entity metadata."""
    meta = {"drivestack.kind": "trajectory"}
    meta.update({f: json.dumps(getattr(trajectory, f).tolist()) for f in TRAJECTORY_FIELDS})
    points = [(x, y, z_m) for x, y in zip(trajectory.x_m, trajectory.y_m, strict=True)]
    entity = _line_strip_entity(
        timestamp_ns,
        trajectory.frame,
        "trajectory",
        meta,
        points,
        thickness=0.2,
        color=_TRAJECTORY_COLOR,
    )
    return {
        "deletions": [{"timestamp": _time(timestamp_ns), "type": 0, "id": "trajectory"}],
        "entities": [entity],
    }


@dataclass(frozen=True)
class FrameTransform:
    """``parent_from_child`` at ``timestamp_ns`` (one entry of ``foxglove.FrameTransforms``)."""

    timestamp_ns: int
    parent: str
    child: str
    parent_from_child: SE3


def frame_transforms_message(transforms: Sequence[FrameTransform]) -> dict[str, Any]:
    out = []
    for tf in transforms:
        pose = _pose(tf.parent_from_child)
        out.append(
            {
                "timestamp": _time(tf.timestamp_ns),
                "parent_frame_id": tf.parent,
                "child_frame_id": tf.child,
                "translation": pose["position"],
                "rotation": pose["orientation"],
            }
        )
    return {"transforms": out}


@dataclass(frozen=True)
class CompressedImageData:
    """An encoded image as stored in the log (``format``: ``jpeg``, ``png``, ...)."""

    timestamp_ns: int
    frame: str
    data: bytes
    format: str
    #: ``data`` in base64 as the log holds it (set by the reader; None when not canonical)
    data_b64: str | None = field(default=None, repr=False, compare=False)


def foxglove_distortion(distortion: np.ndarray, camera: str = "") -> tuple[str, list[float]]:
    """``(distortion_model, D)`` of ``(N,)`` OpenCV coefficients for ``foxglove.CameraCalibration``:
    0 -> ``""`` (none), 5 -> ``plumb_bob``, 8 -> ``rational_polynomial``; 4 (``k1 k2 p1 p2``) ->
    ``plumb_bob`` with ``k3 = 0`` appended (OpenCV's model for 4); 12 or 14 whose thin-prism
    and tilt terms are all zero -> ``rational_polynomial`` of the first 8.

    Raises:
        ValueError: 12 or 14 coefficients with a non-zero thin-prism or tilt term (Foxglove
            has no such model), or any other count; naming ``camera``.
    """
    values = [float(v) for v in distortion]
    count = len(values)
    if count in (12, 14):
        if any(v != 0.0 for v in values[8:]):
            raise ValueError(
                f"camera {camera!r}: {count} distortion coefficients with non-zero thin-prism / "
                "tilt terms: foxglove.CameraCalibration has no such model (plumb_bob takes 5, "
                "rational_polynomial 8)"
            )
        values = values[:8]
    if not values:
        return "", values
    for model, counts in DISTORTION_MODELS.items():
        if len(values) in counts:  # padded with zero terms to the model's full count
            return model, values + [0.0] * (counts[-1] - len(values))
    raise ValueError(
        f"camera {camera!r}: {count} distortion coefficients; expected 0, 4, 5, 8, 12 or 14"
    )


def camera_calibration_message(calibration: CameraCalibration, timestamp_ns: int) -> dict[str, Any]:
    """``foxglove.CameraCalibration`` (``P = [K | 0]``, ``R = I``: drivestack images are raw;
    ``distortion_model`` and ``D`` from :func:`foxglove_distortion`). ValueError for a
    distortion Foxglove has no model for."""
    k = calibration.intrinsics
    model, d = foxglove_distortion(calibration.distortion, calibration.name)
    return {
        "timestamp": _time(timestamp_ns),
        "frame_id": calibration.frame,
        "width": calibration.width_px,
        "height": calibration.height_px,
        "distortion_model": model,
        "D": d,
        "K": [float(v) for v in k.reshape(-1)],
        "R": [float(v) for v in np.eye(3).reshape(-1)],
        "P": [float(v) for v in np.hstack([k, np.zeros((3, 1))]).reshape(-1)],
    }


def _png_of(pixels: np.ndarray) -> tuple[bytes, str | None]:
    """``(PNG bytes, their base64 or None)``: the source log's, when ``pixels`` were decoded
    from a PNG that drivestack's encoder reproduces (see :mod:`drivestack.replay.payloads`)."""
    source = payloads.source_of(pixels)
    if source is not None:
        return source
    return encode_image_png(pixels), None


# -- writer ---------------------------------------------------------------------------------
class LogWriter:
    """Writes a drivestack log; a context manager. ``metadata`` (run config etc.) goes first.

    Args:
        path: the ``.mcap`` file to create.
        config: the config the run used (any JSON-able mapping), embedded in the log.
        command: the command line or tool that produced the log.
        inputs: input files.
        compression: chunk compression, ``"zstd"`` (smallest; default), ``"lz4"`` (about 4x
            faster to write and read, files about 1.5x larger: replay outputs) or ``"none"``.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        config: Mapping[str, Any],
        command: str = "",
        inputs: Sequence[str] = (),
        compression: str = "zstd",
    ) -> None:
        from mcap.writer import CompressionType, Writer

        kinds = {"zstd": CompressionType.ZSTD, "lz4": CompressionType.LZ4}
        kinds["none"] = CompressionType.NONE
        if compression not in kinds:
            raise ValueError(f"compression must be one of {sorted(kinds)}, got {compression!r}")
        self.path = Path(path)
        self._stream: IO[bytes] = self.path.open("wb")
        self._writer = Writer(self._stream, compression=kinds[compression])
        self._writer.start(profile="", library=f"drivestack {drivestack.__version__}")
        self._schemas: dict[str, int] = {}
        self._channels: dict[str, int] = {}
        self._scan_times: dict[str, set[int]] = {}  # the times written per LiDAR topic
        run = {
            **run_provenance(command),
            "config": dict(config),
            "inputs": list(inputs),
        }
        self._writer.add_metadata("drivestack", {k: json.dumps(v) for k, v in run.items()})
        if run["git_commit"] is None:  # not run from a git checkout: the record leaves it out
            del run["git_commit"]
        # the run record is stamped with the first message's log time (so that a viewer's
        # timeline starts at the recording, not at 1970), written just before that message;
        # a log without messages gets it at close, at time 0
        self._run: dict[str, Any] | None = run
        self._at_close: list[Callable[[LogWriter], None]] = []

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def at_close(self, callback: Callable[[LogWriter], None]) -> None:
        """Run ``callback(self)`` in :meth:`close`, before the log is finished (in the order
        given; the log is finished even when one raises, and the error is raised then)."""
        self._at_close.append(callback)

    def close(self) -> None:
        if not self._stream.closed:
            callbacks, self._at_close = self._at_close, []
            try:
                for callback in callbacks:
                    callback(self)
            finally:
                self._write_run(0)
                self._writer.finish()
                self._stream.close()

    def _channel(self, topic: str, schema_name: str) -> int:
        channel = self._channels.get(topic)
        if channel is None:
            schema_id = self._schemas.get(schema_name)
            if schema_id is None:
                data = json.dumps(load_schema(schema_name)).encode()
                schema_id = self._writer.register_schema(schema_name, "jsonschema", data)
                self._schemas[schema_name] = schema_id
            channel = self._writer.register_channel(topic, "json", schema_id)
            self._channels[topic] = channel
        return channel

    def write(
        self, topic: str, schema_name: str, timestamp_ns: int, message: Mapping[str, Any]
    ) -> None:
        """Low level: one JSON message on ``topic`` with ``schema_name``."""
        data = json.dumps(message, allow_nan=False, separators=(",", ":")).encode()
        self.write_encoded(topic, schema_name, timestamp_ns, data)

    def _write_run(self, timestamp_ns: int) -> None:
        """The run record (:data:`RUN_TOPIC`) at ``timestamp_ns``, unless already written."""
        run, self._run = self._run, None
        if run is not None:
            self.write(RUN_TOPIC, RUN_METADATA, timestamp_ns, run)

    def write_encoded(self, topic: str, schema_name: str, timestamp_ns: int, data: bytes) -> None:
        """Lowest level: one already encoded (compact JSON) message. ValueError for a second
        message at the same time on a LiDAR topic (a log has one scan per topic and time)."""
        if topic.startswith(LIDAR_TOPIC_PREFIX):
            self._check_new_scan(topic, timestamp_ns)
            self._scan_times.setdefault(topic, set()).add(int(timestamp_ns))
        if self._run is not None:
            self._write_run(timestamp_ns)
        self._writer.add_message(
            self._channel(topic, schema_name), int(timestamp_ns), data, int(timestamp_ns)
        )

    def _check_new_scan(self, topic: str, timestamp_ns: int) -> None:
        """ValueError when the LiDAR topic ``topic`` has a scan at ``timestamp_ns`` already."""
        if int(timestamp_ns) in self._scan_times.get(topic, ()):
            raise ValueError(
                f"{topic}: a scan at {int(timestamp_ns)} ns is already written (a log has one "
                "scan per LiDAR topic and time)"
            )

    def point_cloud(self, topic: str, cloud: PointCloud) -> None:
        columns, dtype = _point_cloud_layout(cloud)
        header = _point_cloud_header(cloud, dtype)
        data = _point_cloud_data(cloud, columns, header, dtype)
        self.write_encoded(topic, POINT_CLOUD, cloud.timestamp_ns, _json_with_data(header, data))

    def boxes(
        self,
        topic: str,
        boxes: Boxes3D,
        kind: str = "boxes",
        label_ids: Sequence[str] | None = None,
    ) -> None:
        message = scene_update_boxes(boxes, kind, label_ids)
        self.write(topic, SCENE_UPDATE, boxes.timestamp_ns, message)

    def tracks(self, topic: str, tracks: Tracks) -> None:
        self.write(topic, SCENE_UPDATE, tracks.timestamp_ns, scene_update_tracks(tracks))

    def forecasts(self, topic: str, forecasts: TrackForecasts) -> None:
        self.write(topic, SCENE_UPDATE, forecasts.timestamp_ns, scene_update_forecasts(forecasts))

    def trajectory(self, topic: str, trajectory: Trajectory, timestamp_ns: int) -> None:
        self.write(
            topic, SCENE_UPDATE, timestamp_ns, scene_update_trajectory(trajectory, timestamp_ns)
        )

    def transforms(
        self, topic: str, timestamp_ns: int, transforms: Sequence[FrameTransform]
    ) -> None:
        self.write(topic, FRAME_TRANSFORMS, timestamp_ns, frame_transforms_message(transforms))

    def compressed_image(
        self, topic: str, image: CompressedImageData, *, data_b64: str | None = None
    ) -> None:
        """``data_b64``: ``image.data`` already in base64 (as in the log it was read from)."""
        message = {
            "timestamp": _time(image.timestamp_ns),
            "frame_id": image.frame,
            "format": image.format,
        }
        data = base64.b64encode(image.data).decode("ascii") if data_b64 is None else data_b64
        # the key order of the message is timestamp, frame_id, data, format
        head = json.dumps(message, allow_nan=False, separators=(",", ":"))
        fmt = json.dumps(image.format)
        stem = head[: -len(f',"format":{fmt}}}')]
        encoded = f'{stem},"data":"{data}","format":{fmt}}}'.encode()
        self.write_encoded(topic, COMPRESSED_IMAGE, image.timestamp_ns, encoded)

    def sensor_frame(
        self, frame: SensorFrame, *, world_frame: str = WORLD, ego_frame: str = EGO
    ) -> None:
        """A replay input frame: every LiDAR on ``/lidar/<name>``, every camera as a lossless
        PNG on ``/camera/<name>/image`` with its ``/camera/<name>/calibration``, ``world -> ego``
        (when known) and each ``ego -> sensor`` mounting on ``/tf``, labels on ``/labels``.
        Images keep their own timestamps (the reader pairs them with the LiDAR again).
        ValueError, before anything is written, for a LiDAR cloud at a time its topic has a
        scan at already, and for an image PNG cannot hold.
        """
        t = frame.timestamp_ns
        for name, cloud in frame.lidars.items():
            self._check_new_scan(LIDAR_TOPIC_PREFIX + name, cloud.timestamp_ns)
        # encode first: an image PNG cannot hold, or a distortion Foxglove has no model for,
        # raises ValueError before anything is written
        pngs = {name: _png_of(image.pixels) for name, image in frame.cameras.items()}
        cals = {
            name: camera_calibration_message(image.calibration, image.timestamp_ns)
            for name, image in frame.cameras.items()
        }
        transforms = []
        if frame.world_from_ego is not None:
            transforms.append(FrameTransform(t, world_frame, ego_frame, frame.world_from_ego))
        for name, cloud in frame.lidars.items():
            mount = frame.ego_from_sensor.get(name)
            if mount is not None and cloud.frame != ego_frame:
                transforms.append(FrameTransform(t, ego_frame, cloud.frame, mount))
        for image in frame.cameras.values():
            cal = image.calibration
            transforms.append(
                FrameTransform(t, ego_frame, cal.frame, cal.camera_from_ego.inverse())
            )
        if transforms:
            self.transforms(TF_TOPIC, t, transforms)
        for name, cloud in frame.lidars.items():
            self.point_cloud(LIDAR_TOPIC_PREFIX + name, cloud)
        for name, image in frame.cameras.items():
            self.camera_image(name, image, png=pngs[name], calibration=cals[name])
        if frame.labels is not None:
            self.boxes(LABELS_TOPIC, frame.labels, "labels", frame.label_ids)

    def camera_image(
        self,
        name: str,
        image: CameraImage,
        *,
        png: tuple[bytes, str | None] | bytes | None = None,
        calibration: Mapping[str, Any] | None = None,
    ) -> None:
        """``/camera/<name>/calibration`` and the pixels as PNG on ``/camera/<name>/image``
        (``png``: the already encoded pixels, optionally with their base64 text;
        ``calibration``: the already built calibration message). ValueError for pixels PNG
        cannot hold or a distortion Foxglove has no model for (before anything is written)."""
        cal = calibration
        if cal is None:
            cal = camera_calibration_message(image.calibration, image.timestamp_ns)
        if png is None:
            png = _png_of(image.pixels)
        data, data_b64 = png if isinstance(png, tuple) else (png, None)
        prefix = f"{CAMERA_TOPIC_PREFIX}{name}/"
        self.write(prefix + "calibration", CAMERA_CALIBRATION, image.timestamp_ns, cal)
        self.compressed_image(
            prefix + "image",
            CompressedImageData(image.timestamp_ns, image.frame, data, "png"),
            data_b64=data_b64,
        )

    def metrics(
        self, topic: str, timestamp_ns: int, metrics: Mapping[str, Any], scope: str = "frame"
    ) -> None:
        self.write(
            topic,
            METRICS,
            timestamp_ns,
            {"timestamp_ns": int(timestamp_ns), "scope": scope, "metrics": dict(metrics)},
        )
