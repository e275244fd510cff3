"""Which topic is which sensor: the ``rosbag`` ingest config and defaults guessed from types.

YAML (loaded strictly with :func:`drivestack.config.load_yaml_config`; every key is optional,
``configs/ingest/rosbag_example.yaml`` explains each one)::

    topics:                      # omit (or no lidars) to guess from message types; printed
      lidars: {top: /velodyne_points}
      cameras: {front: {image: /camera/image_raw, info: /camera/camera_info}}
      tf: [/tf]
      tf_static: [/tf_static]
      odometry: /odom            # or null
      navsat: /gps/fix           # or null
    ego_frame: base_link
    world_frame: null            # null: the odometry's frame, else the root of the TF tree
    camera_tolerance_ns: 50000000
    tf_tolerance_ns: 0
    tf_max_gap_ns: 500000000     # the longest TF gap interpolated across (or 3 sample intervals)
    deskew: true
    sync_latency_ns: 500000000
    velodyne:                    # per Velodyne packet LiDAR (optional; model detected)
      top: {model: VLP16, calibration: VLP16.yaml, min_range_m: 0.3, max_range_m: 300.0}
    ouster:                      # per Ouster packet LiDAR (optional)
      left: {frame: left/os_sensor}   # its points' TF frame (default os_sensor)

``velodyne`` is keyed by the LiDAR names of ``topics.lidars`` (of the guessed map when
``topics`` is omitted); a relative ``calibration`` path is taken from the config file's folder
(as :func:`load_rosbag_config` reads it), so a config and its calibration tables move together.
:func:`load_rosbag_config` checks each table (the file exists and is a calibration table; a
configured ``model``'s number of lasers) and names the YAML and the key
(``velodyne.<lidar>.calibration``) when one is wrong; the checks that need the packets (the
table or ``model`` against the packets' product id) name the same key when the bag is read.
A bag without TF (packet-only
recordings) replays with ``ego_frame`` set to the LiDAR's frame id and frames without an ego
pose (the stack's ``missing_ego_pose: track_in_ego_frame``, not a key of this file).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from drivestack.config import load_yaml_config
from drivestack.config.strict import ConfigValueError
from drivestack.core.errors import ConfigError, DataError
from drivestack.ingest.rosbag.bag_io import normalise_msgtype
from drivestack.ingest.rosbag.velodyne import (
    VELODYNE_SCAN,
    VelodyneConfig,
    check_calibration_table,
)

POINTCLOUD2 = "sensor_msgs/msg/PointCloud2"
IMAGE = "sensor_msgs/msg/Image"
COMPRESSED_IMAGE = "sensor_msgs/msg/CompressedImage"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"
TF_MESSAGE = "tf2_msgs/msg/TFMessage"
ODOMETRY = "nav_msgs/msg/Odometry"
NAVSATFIX = "sensor_msgs/msg/NavSatFix"
OUSTER_PACKETS = ("ouster_ros/msg/PacketMsg", "ouster_sensor_msgs/msg/PacketMsg")


@dataclass(frozen=True)
class CameraTopics:
    """An image topic (``Image`` or ``CompressedImage``) and its ``CameraInfo`` topic."""

    image: str
    info: str | None = None


@dataclass(frozen=True)
class TopicMap:
    lidars: dict[str, str] = field(default_factory=dict)
    cameras: dict[str, CameraTopics] = field(default_factory=dict)
    tf: list[str] = field(default_factory=lambda: ["/tf"])
    tf_static: list[str] = field(default_factory=lambda: ["/tf_static"])
    odometry: str | None = None
    navsat: str | None = None

    @property
    def is_empty(self) -> bool:
        """No LiDAR named: the reader guesses the whole map from the message types."""
        return not self.lidars


@dataclass(frozen=True)
class OusterConfig:
    """Settings of one Ouster packet LiDAR: ``frame``, the TF frame its points are in (the
    driver's ``sensor_frame``; two Ouster LiDARs need their own)."""

    frame: str = "os_sensor"


@dataclass(frozen=True)
class RosbagConfig:
    """Ingest settings (see the module docstring); an empty ``topics`` guesses the topic map."""

    topics: TopicMap = field(default_factory=TopicMap)
    ego_frame: str = "base_link"
    world_frame: str | None = None
    camera_tolerance_ns: int = 50_000_000
    tf_tolerance_ns: int = 0
    tf_max_gap_ns: int = 500_000_000
    deskew: bool = True
    sync_latency_ns: int = 500_000_000
    velodyne: dict[str, VelodyneConfig] = field(default_factory=dict)
    ouster: dict[str, OusterConfig] = field(default_factory=dict)
    #: the YAML file the config was read from (:func:`load_rosbag_config`; not a key of it),
    #: named by the errors about its settings; None for a config built in code
    source: Path | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("camera_tolerance_ns", "tf_tolerance_ns", "tf_max_gap_ns", "sync_latency_ns"):
            if getattr(self, name) < 0:  # the loader names the file and this key
                raise ConfigValueError(f"must be >= 0, got {getattr(self, name)}", key=name)

    @property
    def tf_gap_limit_ns(self) -> int | None:
        """``tf_max_gap_ns`` as :class:`~drivestack.ingest.rosbag.tf_buffer.PoseSeries` takes
        it: None (any gap) for 0."""
        return self.tf_max_gap_ns or None

    def replaced(self, **changes: Any) -> RosbagConfig:
        """``dataclasses.replace(self, **changes)`` that keeps :attr:`source`."""
        out = replace(self, **changes)
        object.__setattr__(out, "source", self.source)
        return out

    def setting_error(self, lidar: str, key: str, exc: DataError) -> ConfigError:
        """``exc`` (about the Velodyne settings of ``lidar``) as an error of the same type
        naming this config's file (``RosbagConfig`` when built in code) and the key
        ``velodyne.<lidar>.<key>``; a calibration table's own path stays in the message."""
        table = self.velodyne[lidar].calibration if lidar in self.velodyne else None
        reason = f"{table}: {exc.reason}" if key == "calibration" and table else exc.reason
        where = str(self.source) if self.source is not None else "RosbagConfig"
        kind = type(exc) if isinstance(exc, ConfigError) else ConfigError
        return kind(reason, path=where, field=f"velodyne.{lidar}.{key}")

    def check_velodyne_tables(self, names: Iterable[str]) -> None:
        """Check the calibration table of each of ``names`` (in that order) that has ``velodyne``
        settings with a ``calibration`` (:func:`check_calibration_table`); its errors as
        :meth:`setting_error` gives them (key ``velodyne.<lidar>.calibration``)."""
        for name in names:
            v = self.velodyne.get(name)
            if v is not None and v.calibration is not None:
                try:
                    check_calibration_table(v.calibration, v.model)
                except DataError as exc:
                    raise self.setting_error(name, "calibration", exc) from None


def load_rosbag_config(path: str | Path) -> RosbagConfig:
    """The ingest config at ``path`` (strict YAML), relative Velodyne ``calibration`` paths
    resolved against the file's folder and each calibration table checked
    (:func:`~drivestack.ingest.rosbag.velodyne.check_calibration_table`).

    Raises:
        ConfigError: naming ``path`` and the key (``velodyne.<lidar>.calibration`` for a
            table that is missing, not a table, or for a model with another number of lasers:
            :class:`~drivestack.ingest.rosbag.velodyne.CalibrationMismatchError`).
    """
    cfg = load_yaml_config(RosbagConfig, path)
    folder = Path(path).parent
    velodyne = {
        name: v
        if v.calibration is None or v.calibration.is_absolute()
        else replace(v, calibration=folder / v.calibration)
        for name, v in cfg.velodyne.items()
    }
    cfg = replace(cfg, velodyne=velodyne)
    object.__setattr__(cfg, "source", Path(path))
    cfg.check_velodyne_tables(velodyne)
    return cfg


def sensor_name(topic: str) -> str:
    """``/sensing/lidar/top/points`` -> ``sensing_lidar_top_points``."""
    return topic.strip("/").replace("/", "_") or "root"


def unique_sensor_names(topics: Iterable[str]) -> dict[str, str]:
    """Sensor name -> topic for ``topics`` in order: :func:`sensor_name`, with ``_2``,
    ``_3``, ... after a name an earlier topic took (``/a/b`` and ``/a_b`` both read ``a_b``)."""
    names: dict[str, str] = {}
    for topic in topics:
        base = name = sensor_name(topic)
        k = 1
        while name in names:
            k += 1
            name = f"{base}_{k}"
        names[name] = topic
    return names


def guess_topic_map(topics: Iterable[tuple[str, str]]) -> TopicMap:
    """Topic map from ``(topic, msgtype)`` pairs: every PointCloud2, VelodyneScan and Ouster
    ``*/lidar_packets`` topic a LiDAR, every (Compressed)
    Image a camera (paired with the CameraInfo in the same namespace), the first Odometry and
    NavSatFix, every TFMessage topic named ``*tf_static`` static and the others dynamic.
    Sensors are named by :func:`unique_sensor_names` (no topic is lost to a shared name).

    Raises ValueError when there is no LiDAR topic.
    """
    by_type: dict[str, list[str]] = {}
    for topic, msgtype in sorted(topics):
        by_type.setdefault(normalise_msgtype(msgtype), []).append(topic)
    infos = {t.rsplit("/", 1)[0]: t for t in by_type.get(CAMERA_INFO, [])}
    cameras = {}
    for name, topic in unique_sensor_names(
        by_type.get(IMAGE, []) + by_type.get(COMPRESSED_IMAGE, [])
    ).items():
        namespace = topic.rsplit("/", 1)[0]
        if topic.endswith("/compressed"):
            namespace = namespace.rsplit("/", 1)[0]
        cameras[name] = CameraTopics(topic, infos.get(namespace))
    tf_topics = by_type.get(TF_MESSAGE, [])
    lidar_topics = by_type.get(POINTCLOUD2, []) + by_type.get(VELODYNE_SCAN, [])
    for msgtype in OUSTER_PACKETS:
        lidar_topics += [t for t in by_type.get(msgtype, []) if t.endswith("/lidar_packets")]
    if not lidar_topics:
        raise ValueError("no LiDAR topic (PointCloud2, VelodyneScan or Ouster lidar_packets)")
    return TopicMap(
        lidars=unique_sensor_names(lidar_topics),
        cameras=cameras,
        tf=[t for t in tf_topics if not t.endswith("tf_static")],
        tf_static=[t for t in tf_topics if t.endswith("tf_static")],
        odometry=next(iter(by_type.get(ODOMETRY, [])), None),
        navsat=next(iter(by_type.get(NAVSATFIX, [])), None),
    )


def describe_topic_map(topic_map: TopicMap) -> str:
    """Human-readable lines, printed when the map was guessed. With more than one LiDAR, a
    line says which is the key LiDAR (the first: one frame per sweep of it) and how to key on
    another or to choose the one the stack's LiDAR detector reads."""
    lines = ["topic map:"]
    lines += [f"  lidar  {name:<24} <- {topic}" for name, topic in topic_map.lidars.items()]
    if len(topic_map.lidars) > 1:
        key, *others = topic_map.lidars
        lines.append(
            f"  key LiDAR: {key} (one frame per sweep of it; {', '.join(others)} join the "
            "nearest sweep). To key on another, list it first under topics.lidars in a "
            "--ingest-config YAML (configs/ingest/rosbag_example.yaml). The stack's LiDAR "
            "detector reads one LiDAR of such frames: set lidar_name in its perception YAML "
            f"(e.g. lidar_name: {key})"
        )
    for name, cam in topic_map.cameras.items():
        lines.append(f"  camera {name:<24} <- {cam.image} (info: {cam.info or 'none'})")
    lines.append(f"  tf: {topic_map.tf or 'none'}, tf_static: {topic_map.tf_static or 'none'}")
    lines.append(
        f"  odometry: {topic_map.odometry or 'none'}, navsat: {topic_map.navsat or 'none'}"
    )
    return "\n".join(lines)
