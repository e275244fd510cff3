"""Read a ROS 1 ``.bag`` or a ROS 2 bag (``.db3`` / ``.mcap``) into LiDAR-keyed ``SensorFrame``\\s.

``RosbagLog(path, config)`` makes two passes with ``rosbags.highlevel.AnyReader`` (or, for a
ROS 1 ``.bag`` or an ``.mcap`` cut short, :class:`~drivestack.ingest.rosbag.salvage.SalvageReader`,
which reads it front to back up to the cut; a rosbag2 ``.db3`` cut short is refused with a
``DataError``: sqlite cannot read a cut database file):

1. the small streams: ``/tf_static`` and ``/tf`` into a :class:`TransformBuffer`, odometry
   (the ego pose source when present), ``NavSatFix``, ``CameraInfo``, Ouster metadata;
2. LiDAR messages (PointCloud2, Velodyne or Ouster packets, see
   :mod:`~drivestack.ingest.rosbag.lidar_sources`) and images in log order: each sweep of
   the first LiDAR in the topic map is one :class:`SensorFrame`, with the nearest image of
   every camera and the nearest sweep of every other LiDAR within ``camera_tolerance_ns``,
   the mountings (``ego_from_sensor``), the ego pose ``world_from_ego`` at the sweep time,
   and the points de-skewed when they carry per-point times. A sweep waits for images and
   sweeps recorded after it until a sensor message stamped ``camera_tolerance_ns +
   sync_latency_ns`` past it is read (header stamps, in log order).

Frame ids are read as TF2 names them, without ROS 1's leading ``/``
(:func:`~drivestack.ingest.rosbag.messages.normalise_frame_id`, for TF and every sensor).

Nothing is lost silently: a message that fails to decode, a header stamp that jumps backwards
on its topic (or repeats, on a LiDAR or image topic), a sweep without a TF to the ego frame, an
image without calibration (or whose ``CameraInfo`` drivestack cannot read, such as a
``distortion_model`` other than ``plumb_bob`` / ``rational_polynomial``: each image of that
camera, naming the ``CameraInfo`` message and field), images and sweeps read after the frame
they belong to was emitted (``camera_late`` / ``lidar_late``, counted per sensor with the
``sync_latency_ns`` that keeps them), Velodyne packets dropped as corrupt, non-finite points
dropped from a cloud claiming ``is_dense``, a ``velodyne`` config entry naming no Velodyne
LiDAR and a bag that ends early (truncated) are recorded in :attr:`RosbagLog.report` with topic, index, time
and reason (skipped, or kept degraded: no ego pose, not de-skewed, salvaged, points dropped);
:attr:`IngestReport.clean` is false when anything is listed. The NaN "no return" points of
``is_dense = false`` clouds are normal: dropped and counted
(:attr:`IngestReport.nonfinite_points_dropped`), not listed. A bag that yields no frame at all
says why through ``announce``.

Velodyne settings that do not fit are configuration errors, not messages to skip: a
calibration file that is missing or not a table is refused when the log is built, and a table
or a configured ``model`` that the packets contradict stops the read at the first scan
(:class:`~drivestack.ingest.rosbag.velodyne.CalibrationMismatchError`, a ``ConfigError``
naming the ingest YAML and the key ``velodyne.<lidar>.calibration`` / ``.model``).
"""

from __future__ import annotations

import sys
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from drivestack.core.errors import ConfigError, DataError
from drivestack.core.frames import camera_frame
from drivestack.core.transforms import SE3
from drivestack.ingest.rosbag import messages as m
from drivestack.ingest.rosbag.bag_io import IngestReport, iter_bag_messages, open_bag
from drivestack.ingest.rosbag.deskew import deskew_point_cloud
from drivestack.ingest.rosbag.lidar_sources import (
    OUSTER_PACKETS,
    LidarSource,
    make_lidar_source,
    ouster_metadata_topic,
)
from drivestack.ingest.rosbag.tf_buffer import PoseSeries, TransformBuffer, TransformLookupError
from drivestack.ingest.rosbag.topic_map import (
    COMPRESSED_IMAGE,
    RosbagConfig,
    TopicMap,
    describe_topic_map,
    guess_topic_map,
    normalise_msgtype,
)
from drivestack.ingest.rosbag.velodyne import (
    VELODYNE_SCAN,
    CalibrationMismatchError,
    ModelMismatchError,
)
from drivestack.structures.camera import CameraCalibration, CameraImage
from drivestack.structures.point_cloud import TIME_OFFSET_NS, PointCloud
from drivestack.structures.sensor_frame import SensorFrame


class RosbagLog:
    """A recorded drive in a bag; iterate :meth:`frames` for synchronised ``SensorFrame``\\s,
    then check :attr:`report`: ``report.clean`` is False when anything was skipped, repaired
    or lost, ``report.summary()`` lists what and why (``report.counts()`` per kind).

    A bag without TF gives no frame with the default ``ego_frame`` (``base_link``): each sweep
    is skipped (``missing_tf``) and :meth:`frames` announces why it made none, with the
    ``ego_frame`` to use (the LiDAR's own frame).

    Args:
        path: a ROS 1 ``.bag`` file or a rosbag2 directory (``.db3`` or ``.mcap`` storage).
        config: topic map and sync settings; an empty ``config.topics`` guesses the map from the
            message types and passes its description to ``announce``.
        announce: where the reader says what the user should know at once, one line each
            (default: stderr): the guessed topic map, a ``velodyne`` config entry naming no
            Velodyne LiDAR, and why a bag gave no frame.

    Raises:
        DataError: the bag cannot be opened or a topic of the map is not in it (naming its
            key: ``topics.lidars.<name>``, ``topics.cameras.<name>.info``, ``topics.tf``,
            ``topics.odometry``, ...; the default ``/tf`` and ``/tf_static`` may be absent).
        ConfigError: a Velodyne calibration file is missing or not a table (here), or (while
            iterating) a calibration table or configured model does not fit the packets
            (:class:`~drivestack.ingest.rosbag.velodyne.CalibrationMismatchError`), naming
            ``config.source`` and ``velodyne.<lidar>.<key>``.
    """

    def __init__(
        self,
        path: str | Path,
        config: RosbagConfig | None = None,
        *,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.config = config or RosbagConfig()
        self.report = IngestReport(str(self.path))
        self._announce = announce or (lambda text: print(text, file=sys.stderr))
        with open_bag(self.path, self.report) as reader:
            topics = [(c.topic, c.msgtype) for c in reader.connections]
            counts = _message_counts(reader)
            cut = _truncation(reader)
        self._msgtypes = {t: normalise_msgtype(mt) for t, mt in topics}
        self.topic_map: TopicMap
        if self.config.topics.is_empty:
            try:
                self.topic_map = guess_topic_map(topics)
            except ValueError as exc:
                raise DataError(
                    f"{cut}cannot guess a topic map: {exc}; topics are {topics}",
                    path=str(self.path),
                ) from None
            self._announce(describe_topic_map(self.topic_map))
        else:
            self.topic_map = self.config.topics
        known = {t for t, _ in topics}
        for key, topic in _named_topics(self.topic_map):
            if topic not in known:
                raise DataError(
                    f"{cut}topic {topic!r} from the topic map is not in the bag "
                    f"(topics: {sorted(known)})",
                    path=str(self.path),
                    field=key,
                )
        self._note_topics(topics, counts)
        self._note_unused_velodyne_settings()
        self.tf = TransformBuffer(self.config.tf_tolerance_ns, self.config.tf_gap_limit_ns)
        #: LiDAR topic -> [non-finite points dropped from messages that claim ``is_dense``,
        #: such messages with any, the first one's index, its stamp (ns)]
        self._nonfinite: dict[str, list[int]] = {}
        self.odometry: list[m.OdometrySample] = []
        self.gnss: list[m.GnssFix] = []
        #: camera -> (frame id, its latest CameraInfo message, that message's record
        #: ``"<topic> #<index>"``)
        self._infos: dict[str, tuple[str, Any, str]] = {}
        self._changed: set[str] = set()  # calibration changes reported (one entry each)
        self._odometry_series: PoseSeries | None = None
        self._ouster_metadata: dict[str, str] = {}  # metadata topic -> sensor JSON
        self._read_small_streams()
        self.config.check_velodyne_tables(  # a bad calibration file: now
            name
            for name, topic in self.topic_map.lidars.items()
            if self._msgtypes.get(topic) == VELODYNE_SCAN
        )

    def _note_topics(self, topics: list[tuple[str, str]], counts: dict[str, int | None]) -> None:
        """The LiDAR topics and the topics no frame uses, in the ingest report."""
        tm = self.topic_map
        used = {*tm.lidars.values(), *tm.tf, *tm.tf_static}
        used |= {t for c in tm.cameras.values() for t in (c.image, c.info) if t}
        used |= {t for t in (tm.odometry, tm.navsat) if t}
        used |= {
            ouster_metadata_topic(t)
            for t in tm.lidars.values()
            if self._msgtypes.get(t) in OUSTER_PACKETS
        }
        self.report.lidar_topics = list(tm.lidars.values())
        self.report.unused_topics = [
            {"topic": topic, "type": msgtype, "messages": counts.get(topic)}
            for topic, msgtype in sorted(set(topics))
            if topic not in used
        ]

    def _note_unused_velodyne_settings(self) -> None:
        """A ``velodyne`` / ``ouster`` entry naming no LiDAR of its kind in the topic map (a
        typo, or a map guessed with other names): reported (kind ``unused_config``) and
        announced. Two Ouster LiDARs whose points would share a TF frame (each one's mount
        taken for both) are a ``ConfigError`` naming ``ouster.<lidar>.frame``."""
        for section, kind, types in (
            ("velodyne", "Velodyne", (VELODYNE_SCAN,)),
            ("ouster", "Ouster", tuple(OUSTER_PACKETS)),
        ):
            lidars = sorted(
                name
                for name, topic in self.topic_map.lidars.items()
                if self._msgtypes.get(topic) in types
            )
            for name in getattr(self.config, section):
                if name in lidars:
                    continue
                what = (
                    f"a LiDAR without {kind} packets"
                    if name in self.topic_map.lidars
                    else "no LiDAR"
                )
                reason = (
                    f"{section}.{name} names {what} of the topic map ({kind} LiDARs: "
                    f"{lidars}); its settings are not used"
                )
                self.report.skip("<config>", 0, 0, "unused_config", reason)
                self._announce(f"{self.path}: {reason}")
        self._check_ouster_frames()

    def _check_ouster_frames(self) -> None:
        from drivestack.ingest.rosbag.ouster import OUSTER_SENSOR_FRAME

        first: dict[str, str] = {}  # frame -> the first Ouster LiDAR in it
        for name, topic in self.topic_map.lidars.items():
            if self._msgtypes.get(topic) not in OUSTER_PACKETS:
                continue
            setting = self.config.ouster.get(name)
            frame = setting.frame if setting is not None else OUSTER_SENSOR_FRAME
            if frame in first:
                raise ConfigError(
                    f"Ouster LiDARs {first[frame]!r} and {name!r} would both read their points "
                    f"in frame {frame!r} (one mount for both): give each its TF frame",
                    path=str(self.config.source) if self.config.source else None,
                    field=f"ouster.{name}.frame",
                )
            first[frame] = name

    # -- reading ------------------------------------------------------------------------------
    def _open(self) -> Any:
        return open_bag(self.path)

    def _messages(
        self,
        reader: Any,
        topics: set[str],
        *,
        unique_stamps: bool = False,
        settle_topics: Collection[str] = (),
    ) -> Iterator[tuple[str, int, int, Any]]:
        return iter_bag_messages(
            reader, topics, self.report, unique_stamps=unique_stamps, settle_topics=settle_topics
        )

    def _read_small_streams(self) -> None:
        tm = self.topic_map
        info_topics = {c.info: name for name, c in tm.cameras.items() if c.info}
        topics = set(tm.tf) | set(tm.tf_static) | set(info_topics)
        topics |= {t for t in (tm.odometry, tm.navsat) if t}
        ouster_meta = {
            ouster_metadata_topic(t)
            for t in tm.lidars.values()
            if self._msgtypes.get(t) in OUSTER_PACKETS
        }
        with self._open() as reader:
            for topic, i, stamp, msg in self._messages(reader, topics | ouster_meta):
                try:
                    if topic in ouster_meta:
                        self._ouster_metadata[topic] = str(msg.data)
                    elif topic in tm.tf_static:
                        for tr in m.tf_message_transforms(msg):
                            pose = SE3.from_quaternion(tr.quaternion_wxyz, tr.translation_m)
                            self._note_static_change(tr.parent, tr.child, pose, topic, i, stamp)
                            self.tf.add_static(tr.parent, tr.child, pose)
                    elif topic in tm.tf:
                        for tr in m.tf_message_transforms(msg):
                            self._note_static_and_dynamic(tr.parent, tr.child, topic, i, stamp)
                            self.tf.add_dynamic(
                                tr.parent,
                                tr.child,
                                tr.timestamp_ns,
                                tr.quaternion_wxyz,
                                tr.translation_m,
                            )
                    elif topic == tm.odometry:
                        odo = m.decode_odometry(msg)
                        self.odometry.append(odo)
                        if self._odometry_series is None:
                            self._odometry_series = PoseSeries(
                                odo.parent,
                                odo.child,
                                self.config.tf_tolerance_ns,
                                self.config.tf_gap_limit_ns,
                            )
                        self._odometry_series.add(
                            odo.timestamp_ns, odo.quaternion_wxyz, odo.translation_m
                        )
                    elif topic == tm.navsat:
                        self.gnss.append(m.decode_navsatfix(msg))
                    else:
                        camera = info_topics[topic]
                        frame_id = m.normalise_frame_id(msg.header.frame_id)
                        self._note_camera_info_change(camera, frame_id, msg, topic, i, stamp)
                        self._infos[camera] = (frame_id, msg, f"{topic} #{i}")
                except (ValueError, DataError) as exc:
                    self.report.skip(topic, i, stamp, "invalid", str(exc))

    # -- calibration that changes within the bag -----------------------------------------------
    # One value of each is used for the whole bag (the last one read); a later one that differs
    # is reported once per edge or camera (kind ``calibration_changed``, kept: not clean).

    def _report_change(self, key: str, where: tuple[str, int, int], reason: str) -> None:
        """One ``calibration_changed`` entry per ``key`` (an edge or a camera), at ``where``
        (topic, index, stamp) of the message that changed it."""
        if key not in self._changed:
            self._changed.add(key)
            self.report.repair(*where, "calibration_changed", reason)

    def _note_static_change(
        self, parent: str, child: str, pose: SE3, topic: str, index: int, stamp: int
    ) -> None:
        old = self.tf.static_transform(parent, child)
        if old is None or _same_pose(old, pose):
            return
        moved = float(np.linalg.norm(pose.translation - old.translation))
        self._report_change(
            f"tf {parent} -> {child}",
            (topic, index, stamp),
            f"static edge {parent} -> {child} re-published {moved:.3f} m / "
            f"{np.degrees(_turn_rad(old, pose)):.2f} deg from its earlier value: the last one "
            "read is used for the whole bag (frames before it get the later mount)",
        )

    def _note_static_and_dynamic(
        self, parent: str, child: str, topic: str, index: int, stamp: int
    ) -> None:
        if self.tf.static_transform(parent, child) is not None:
            self._report_change(
                f"both {parent} -> {child}",
                (topic, index, stamp),
                f"edge {parent} -> {child} is on /tf_static and on /tf: the static one is "
                "used for every time, the /tf one never",
            )

    def _note_camera_info_change(
        self, camera: str, frame_id: str, msg: Any, topic: str, index: int, stamp: int
    ) -> None:
        earlier = self._infos.get(camera)
        if earlier is None or (
            earlier[0] == frame_id and _camera_info_values(earlier[1]) == _camera_info_values(msg)
        ):
            return
        self._report_change(
            f"camera {camera}",
            (topic, index, stamp),
            f"camera {camera}'s CameraInfo differs from {earlier[2]}'s (frame, size, K, D or "
            "distortion model): the last one read is used for the whole bag",
        )

    # -- poses --------------------------------------------------------------------------------
    @property
    def world_frame(self) -> str | None:
        """``config.world_frame``, else the odometry's frame, else the root of the ego frame's
        TF tree; None when the bag has neither odometry nor TF above the ego frame."""
        if self.config.world_frame:
            return self.config.world_frame
        if self._odometry_series is not None:
            return self._odometry_series.parent
        root = self.tf.root_of(self.config.ego_frame)
        return None if root == self.config.ego_frame else root

    @property
    def has_ego_pose_source(self) -> bool:
        """Whether the bag has a source of the ego pose: odometry of the ego frame, or TF from
        the world frame down to it (its lookups may still fail at some times: a dropout)."""
        ego = self.config.ego_frame
        if self._ego_odometry() is not None:
            return True
        world = self.world_frame
        return world is not None and self.tf.has_ancestor(ego, world)

    def _ego_odometry(self) -> PoseSeries | None:
        """The odometry when it gives the ego frame's pose in the world frame: its child is the
        ego frame and its parent the configured ``world_frame`` (any, when none is)."""
        series = self._odometry_series
        if series is None or series.child != self.config.ego_frame:
            return None
        configured = self.config.world_frame
        return series if not configured or configured == series.parent else None

    def world_from_ego(self, timestamps_ns: npt.ArrayLike) -> SE3:
        """Ego poses at ``(K,)`` times: from odometry when the bag has it (in the configured
        world frame, when one is), else from TF.

        Raises TransformLookupError when there is no source or a time is out of its range.
        """
        series = self._odometry_series
        ego = self.config.ego_frame
        odometry = self._ego_odometry()
        if odometry is not None:
            return odometry.interpolate(timestamps_ns)
        world = self.world_frame
        if world is None:
            raise TransformLookupError(
                f"no ego pose: the bag has no odometry and no TF parent of {ego!r}"
            )
        try:
            return self.tf.lookup(world, ego, timestamps_ns)
        except TransformLookupError as exc:
            if series is not None and series.child == ego and world != series.parent:
                raise TransformLookupError(
                    f"{exc.reason}; the odometry ({self.topic_map.odometry}) gives {ego!r} in "
                    f"{series.parent!r}, not in the configured world_frame {world!r}",
                    path=exc.path,
                    record=exc.record,
                    field=exc.field,
                ) from None
            if series is None or world != series.parent:
                raise
            raise TransformLookupError(
                f"no ego pose: the odometry ({self.topic_map.odometry}) is the pose of "
                f"{series.child!r} in {series.parent!r}, not of the ego frame {ego!r}, and TF "
                f"does not place {ego!r} in {series.parent!r}; if {series.child!r} is "
                f"the vehicle frame: drivestack replay --ego-frame {series.child} (ingest "
                f"config ego_frame: {series.child})"
            ) from None

    def _ego_from(self, frame_id: str, stamp: int) -> SE3:
        if frame_id == self.config.ego_frame:
            return SE3.identity()
        return self.tf.lookup(self.config.ego_frame, frame_id, stamp)

    # -- frames -------------------------------------------------------------------------------
    def _calibration(self, camera: str, stamp: int) -> CameraCalibration:
        if camera not in self._infos:
            raise DataError(f"no CameraInfo for camera {camera!r}")
        frame_id, info, record = self._infos[camera]
        camera_from_ego = self._ego_from(frame_id, stamp).inverse()
        return m.camera_info_to_calibration(
            info,
            name=camera,
            frame=camera_frame(camera),
            camera_from_ego=camera_from_ego,
            path=str(self.path),
            record=record,
        )

    def _image(
        self, camera: str, topic: str, i: int, stamp: int, msg: Any, compressed: bool
    ) -> CameraImage | None:
        record = f"{topic} #{i}"
        try:
            decode = m.decode_compressed_image if compressed else m.decode_image
            pixels = decode(msg, path=str(self.path), record=record)
            return CameraImage(pixels, self._calibration(camera, stamp), stamp)
        except DataError as exc:
            self.report.skip(topic, i, stamp, "image", _message_reason(exc, str(self.path), record))
            return None
        except ValueError as exc:
            self.report.skip(topic, i, stamp, "image", str(exc))
            return None

    def _lidar_source(self, name: str, topic: str) -> LidarSource:
        meta_topic = ouster_metadata_topic(topic)
        try:
            ouster = self.config.ouster.get(name)
            return make_lidar_source(
                self._msgtypes[topic],
                velodyne=self.config.velodyne.get(name),
                ouster_metadata=self._ouster_metadata.get(meta_topic),
                ouster_frame=ouster.frame if ouster is not None else None,
                source=f"{self.path}:{meta_topic}",
            )
        except DataError as exc:
            if self._msgtypes[topic] != VELODYNE_SCAN:
                raise  # names its own source (Ouster metadata)
            # a Velodyne calibration file: a setting of the ingest config
            raise self.config.setting_error(name, "calibration", exc) from None
        except ValueError as exc:
            raise DataError(str(exc), path=str(self.path), record=topic) from None

    def _clouds(
        self, source: LidarSource, topic: str, i: int, stamp: int, msg: Any
    ) -> list[tuple[PointCloud, SE3]]:
        """The clouds one LiDAR message completes, each with its ``ego_from_lidar``."""
        out: list[tuple[PointCloud, SE3]] = []
        record = f"{topic} #{i}"
        try:
            clouds = source.feed(msg, stamp, path=str(self.path), record=record)
        except CalibrationMismatchError as exc:  # every scan would be wrong: not one to skip
            key = "model" if isinstance(exc, ModelMismatchError) else "calibration"
            name = next(n for n, t in self.topic_map.lidars.items() if t == topic)
            raise self.config.setting_error(name, key, exc) from None
        except DataError as exc:
            self.report.skip(
                topic, i, stamp, "decode", _message_reason(exc, str(self.path), record)
            )
            return out
        for kind, reason in source.repairs:
            self.report.repair(topic, i, stamp, kind, reason)
        self._count_nonfinite(
            topic, i, stamp, source.num_nonfinite, source.num_nonfinite_claimed_dense
        )
        for cloud in clouds:
            try:
                out.append((cloud, self._ego_from(cloud.frame, cloud.timestamp_ns)))
            except TransformLookupError as exc:
                hint = ""
                if not self.tf.frames:
                    # a bag without any TF has no ego pose either: say both flags at once
                    pose_flag = (
                        "" if self._odometry_series else " --missing-ego-pose track_in_ego_frame"
                    )
                    hint = (
                        f" (a bag without TF: read it in the LiDAR's frame, ego_frame "
                        f"{cloud.frame}; drivestack replay --ego-frame {cloud.frame}{pose_flag})"
                    )
                self.report.skip(topic, i, cloud.timestamp_ns, "missing_tf", str(exc) + hint)
        return out

    def _count_nonfinite(
        self, topic: str, i: int, stamp: int, dropped: int, claimed_dense: int
    ) -> None:
        """All ``dropped`` points are counted; only the ``claimed_dense`` ones (of a message
        claiming ``is_dense``) are a loss to report: NaN marks "no return" in other clouds."""
        self.report.nonfinite_points_dropped += dropped
        if not claimed_dense:
            return
        tally = self._nonfinite.setdefault(topic, [0, 0, i, stamp])
        tally[0] += claimed_dense
        tally[1] += 1

    def _finish(
        self,
        key: str,
        i: int,
        cloud: PointCloud,
        ego_from_lidar: SE3,
        pending: dict[str, deque[tuple[int, Any]]],
        missed: dict[str, deque[int]],
    ) -> SensorFrame:
        """The frame of one key sweep, with every other sensor's nearest reading in
        ``pending`` within ``camera_tolerance_ns``; the sweep's stamp is appended to
        ``missed[name]`` for each sensor without one (a reading read later may belong to it:
        :class:`_LateReadings`)."""
        stamp = cloud.timestamp_ns
        tol = self.config.camera_tolerance_ns
        world_from_ego: SE3 | None = None
        try:
            world_from_ego = self.world_from_ego(np.int64(stamp))
        except DataError as exc:
            # a bag with no pose source at all (what --missing-ego-pose track_in_ego_frame
            # accepts) or a gap in the one it has (a dropout: a data problem either way)
            self.report.repair(
                self.topic_map.lidars[key],
                i,
                stamp,
                "ego_pose_gap" if self.has_ego_pose_source else "no_ego_pose",
                f"frame kept without world_from_ego: {exc}",
            )
        if world_from_ego is not None:  # (without one the frame's entry says so already)
            cloud = self._deskewed(cloud, ego_from_lidar, self.topic_map.lidars[key], i)
        lidars = {key: cloud}
        ego_from_sensor = {key: ego_from_lidar}
        cameras = {}
        for name, queue in pending.items():
            best = min(queue, key=lambda item: abs(item[0] - stamp), default=None)
            if best is None or abs(best[0] - stamp) > tol:
                missed[name].append(stamp)
                continue
            payload = best[1]
            if isinstance(payload, CameraImage):
                cameras[name] = payload
                ego_from_sensor[name] = payload.calibration.camera_from_ego.inverse()
            else:
                lidars[name], ego_from_sensor[name] = payload
        return SensorFrame(
            stamp,
            lidars=lidars,
            cameras=cameras,
            ego_from_sensor=ego_from_sensor,
            world_from_ego=world_from_ego,
            source=f"{self.path}:{self.topic_map.lidars[key]}#{i}",
        )

    def _deskewed(
        self, cloud: PointCloud, ego_from_lidar: SE3, topic: str, index: int
    ) -> PointCloud:
        """``cloud`` de-skewed with the ego poses (``config.deskew``, per-point times), or as
        recorded with a ``not_deskewed`` entry when the poses do not cover its sweep."""
        if not self.config.deskew or TIME_OFFSET_NS not in cloud.attributes:
            return cloud
        try:
            return deskew_point_cloud(cloud, ego_from_lidar, self.world_from_ego)
        except DataError as exc:
            self.report.repair(
                topic, index, cloud.timestamp_ns, "not_deskewed", f"frame kept as recorded: {exc}"
            )
            return cloud

    def _deskewed_other(
        self, cloud: PointCloud, ego_from_lidar: SE3, topic: str, index: int
    ) -> PointCloud:
        """A LiDAR other than the key one, de-skewed as the key LiDAR's sweeps are, when the
        ego pose is known at its time (else as recorded: its frame's pose entry says why)."""
        if not self.config.deskew or TIME_OFFSET_NS not in cloud.attributes:
            return cloud
        try:
            self.world_from_ego(np.int64(cloud.timestamp_ns))
        except DataError:
            return cloud
        return self._deskewed(cloud, ego_from_lidar, topic, index)

    def frames(self, *, say_why: bool = True) -> Iterator[SensorFrame]:
        """Synchronised frames keyed on the first LiDAR's sweeps, in time order (a generator).

        When the bag ends without a single frame and ``say_why``, says why through
        ``announce`` (the key LiDAR's messages read and what :attr:`report` lists for them);
        the details are in :attr:`report`. ``drivestack replay`` passes ``say_why=False``:
        its summary says the same from the report.
        """
        made = 0
        for frame in self._synchronised_frames():
            made += 1
            yield frame
        if not made and say_why:
            self._announce(f"{self.path}: no frames: {self._no_frame_reason()}")

    def _no_frame_reason(self) -> str:
        """Why the key LiDAR's messages made no frame, from the report, in one line."""
        topic = next(iter(self.topic_map.lidars.values()))
        read = self.report.messages_read.get(topic, 0)
        if not read:
            return f"no message on the key LiDAR topic {topic}"
        entries = [s for s in self.report.skipped if s.topic == topic and not s.kept]
        if not entries:
            return f"{read} messages on {topic}, none completed a sweep"
        kinds = Counter(s.kind for s in entries)
        listed = ", ".join(f"{kind}: {n}" for kind, n in kinds.items())
        return (
            f"{read} messages on {topic} made none ({listed}; the first: {entries[0].reason});"
            " RosbagLog.report lists every one"
        )

    def _report_stream_end(
        self, sources: dict[str, LidarSource], last: dict[str, tuple[int, int]]
    ) -> None:
        """Packets of an unfinished frame and the non-finite points dropped, per LiDAR."""
        for topic, source in sources.items():
            if source.leftover() and topic in last:
                self.report.skip(
                    topic,
                    *last[topic],
                    "partial_frame",
                    f"{source.leftover()} packets after the last full frame (the stream "
                    "ends before the frame does)",
                )
        for topic, (points, messages, first_index, first_stamp) in self._nonfinite.items():
            self.report.repair(
                topic,
                first_index,
                first_stamp,
                "nonfinite_points",
                f"{points} non-finite points (NaN / inf coordinates) dropped from {messages} "
                "messages claiming is_dense (no such point), this the first",
            )
        self._nonfinite = {}

    def _synchronised_frames(self) -> Iterator[SensorFrame]:
        tm = self.topic_map
        key = next(iter(tm.lidars))
        lidar_topics = {t: n for n, t in tm.lidars.items()}
        camera_topics = {c.image: n for n, c in tm.cameras.items()}
        sources = {t: self._lidar_source(n, t) for n, t in tm.lidars.items()}
        with self._open() as reader:
            compressed = {
                c.topic
                for c in reader.connections
                if normalise_msgtype(c.msgtype) == COMPRESSED_IMAGE
            }
            # other sensors: name -> recent (stamp, payload); key sweeps waiting for later data
            recent: dict[str, deque[tuple[int, Any]]] = {
                n: deque() for n in [*list(tm.lidars)[1:], *tm.cameras]
            }
            waiting: deque[tuple[int, PointCloud, SE3]] = deque()
            # a key sweep is emitted once a sensor message stamped past its horizon is read
            horizon = self.config.camera_tolerance_ns + self.config.sync_latency_ns
            late = _LateReadings(recent, self.config.camera_tolerance_ns)
            newest = None  # the latest header stamp read on the sensor topics
            last: dict[str, tuple[int, int]] = {}  # LiDAR topic -> its last (index, stamp)
            sensor_topics = set(lidar_topics) | set(camera_topics)
            sensor_messages = self._messages(
                reader, sensor_topics, unique_stamps=True, settle_topics=set(lidar_topics)
            )
            for topic, i, stamp, msg in sensor_messages:
                newest = stamp if newest is None else max(newest, stamp)
                if topic in lidar_topics:
                    last[topic] = (i, stamp)
                if topic in camera_topics:
                    name = camera_topics[topic]
                    image = self._image(name, topic, i, stamp, msg, topic in compressed)
                    if image is not None:
                        recent[name].append((stamp, image))
                        late.check(name, topic, i, stamp, newest)
                elif lidar_topics[topic] != key:
                    name = lidar_topics[topic]
                    for cloud, mount in self._clouds(sources[topic], topic, i, stamp, msg):
                        cloud = self._deskewed_other(cloud, mount, topic, i)
                        recent[name].append((cloud.timestamp_ns, (cloud, mount)))
                        late.check(name, topic, i, cloud.timestamp_ns, newest)
                else:
                    for cloud, mount in self._clouds(sources[topic], topic, i, stamp, msg):
                        waiting.append((i, cloud, mount))
                while waiting and waiting[0][1].timestamp_ns + horizon < stamp:
                    yield self._finish(key, *waiting.popleft(), recent, late.missed)
                oldest = waiting[0][1].timestamp_ns if waiting else stamp - horizon
                for queue in recent.values():
                    while len(queue) > 1 and queue[0][0] < oldest - self.config.camera_tolerance_ns:
                        queue.popleft()
            self._report_stream_end(sources, last)
            while waiting:
                yield self._finish(key, *waiting.popleft(), recent, late.missed)
        late.report(
            self.report,
            {n: "camera" for n in tm.cameras},
            self.config.sync_latency_ns,
        )


class _LateReadings:
    """Images and non-key sweeps read after the key sweep they belong to was emitted: the
    frame went without them. Counted per sensor and reported once each at the end of the
    stream (kind ``camera_late`` / ``lidar_late``, kept: the frames are made, degraded),
    with the ``sync_latency_ns`` that would have kept them.

    The sync wait is measured on header stamps, like every time the reader compares: a key
    sweep stamped ``t`` is emitted once a sensor message stamped after ``t +
    camera_tolerance_ns + sync_latency_ns`` is read (in log order)."""

    def __init__(self, sensors: dict[str, Any], tolerance_ns: int) -> None:
        self.tolerance_ns = tolerance_ns
        #: sensor -> stamps of the emitted key sweeps that have no reading of it (increasing)
        self.missed: dict[str, deque[int]] = {name: deque() for name in sensors}
        #: sensor -> [topic, frames missed, first index, first stamp, sync_latency_ns needed]
        self._late: dict[str, list[Any]] = {}

    def check(self, name: str, topic: str, i: int, stamp: int, newest: int) -> None:
        """A reading of ``name`` stamped ``stamp`` (message ``i`` of ``topic``), read when the
        newest stamp read was ``newest``: counted when an emitted sweep missed it."""
        queue, tol = self.missed[name], self.tolerance_ns
        while queue and queue[0] < stamp - tol:  # readings of one topic come in stamp order
            queue.popleft()
        if not queue or queue[0] > stamp + tol:
            return
        sweep = queue.popleft()
        needed = newest - sweep - tol  # the sweep waited until a message stamped `newest`
        entry = self._late.setdefault(name, [topic, 0, i, stamp, needed])
        entry[1] += 1
        entry[4] = max(entry[4], needed)

    def report(self, report: IngestReport, kinds: dict[str, str], latency_ns: int) -> None:
        for name, (topic, count, i, stamp, needed) in self._late.items():
            kind = kinds.get(name, "lidar")
            what = "image" if kind == "camera" else "sweep"
            report.repair(
                topic,
                i,
                stamp,
                f"{kind}_late",
                f"{count} frames made without {name}'s {what}, read after the frame was "
                f"emitted (this the first): it came later than the sync wait (header stamps, "
                f"sync_latency_ns {latency_ns}); sync_latency_ns >= {needed} in the ingest "
                "config keeps them",
            )
        self._late = {}


def _named_topics(topic_map: TopicMap) -> Iterator[tuple[str, str]]:
    """``(config key, topic)`` of every topic ``topic_map`` names, the key as the ingest YAML
    spells it (``topics.lidars.<name>``, ``topics.cameras.<name>.info``, ``topics.tf``,
    ``topics.odometry``, ...). The default TF topics (``/tf``, ``/tf_static``) are left out:
    a bag without TF is read without them."""
    for name, topic in topic_map.lidars.items():
        yield f"topics.lidars.{name}", topic
    for name, cam in topic_map.cameras.items():
        yield f"topics.cameras.{name}.image", cam.image
        if cam.info:
            yield f"topics.cameras.{name}.info", cam.info
    defaults = TopicMap()
    for key, topics, default in (
        ("topics.tf", topic_map.tf, defaults.tf),
        ("topics.tf_static", topic_map.tf_static, defaults.tf_static),
    ):
        yield from ((key, t) for t in topics if t not in default)
    for key, maybe in (
        ("topics.odometry", topic_map.odometry),
        ("topics.navsat", topic_map.navsat),
    ):
        if maybe:
            yield key, maybe


def _message_reason(exc: DataError, path: str, record: str) -> str:
    """The text of a message's decode error for its report entry, without the bag and the
    message (``path``, ``record``: the entry names the topic and index once)."""
    if exc.path == path and exc.record == record:
        return str(DataError(exc.reason, field=exc.field))
    return str(exc)


def _truncation(reader: Any) -> str:
    """``"truncated: ...; "`` leading an error about a bag read front to back that breaks off
    (a salvaged one: where, and how many messages came before the cut), else ``""``. A
    recorder that writes one chunk and is cut inside it leaves nothing readable."""
    stopped = getattr(reader, "stopped", None)
    if not stopped:
        return ""
    recovered = getattr(reader, "num_messages", None)
    before = "" if recovered is None else f", {recovered} messages readable before the cut"
    return f"truncated: the file breaks off ({stopped}){before}; "


def _message_counts(reader: Any) -> dict[str, int | None]:
    """Messages per topic, summed over its connections' ``msgcount``: as the bag's index says
    (``rosbags``), or the messages recovered (a salvaged bag's connections); None where a
    connection's count is not known (or, in a ``metadata.yaml``, not a number)."""
    counts: dict[str, int | None] = {}
    for c in reader.connections:
        n = getattr(c, "msgcount", None)
        n = n if isinstance(n, (int, np.integer)) and not isinstance(n, bool) else None
        prev = counts.get(c.topic, 0)
        counts[c.topic] = None if n is None or prev is None else prev + int(n)
    return counts


def _turn_rad(a: SE3, b: SE3) -> float:
    """The angle of the rotation between ``a`` and ``b``."""
    relative = np.asarray(a.rotation).T @ np.asarray(b.rotation)
    return float(np.arccos(np.clip((np.trace(relative) - 1.0) / 2.0, -1.0, 1.0)))


#: A static edge re-published within these of its earlier value is the same calibration.
SAME_POSE_M, SAME_POSE_RAD = 1e-4, 1e-5


def _same_pose(a: SE3, b: SE3) -> bool:
    moved = float(np.linalg.norm(np.asarray(a.translation) - np.asarray(b.translation)))
    return moved <= SAME_POSE_M and _turn_rad(a, b) <= SAME_POSE_RAD


def _camera_info_values(msg: Any) -> tuple[Any, ...]:
    """What a CameraInfo's calibration is made of: size, model, K and D (as read)."""
    values = []
    for names in (("width",), ("height",), ("distortion_model",), ("k", "K"), ("d", "D")):
        value = next((getattr(msg, n) for n in names if hasattr(msg, n)), None)
        values.append(tuple(np.asarray(value).ravel().tolist()) if value is not None else None)
    return tuple(values)
