"""ROS 1 / ROS 2 bag and MCAP ingestion on the ``rosbags`` library (no ROS installation).

- :class:`RosbagLog` — a recorded drive as LiDAR-keyed :class:`SensorFrame`\\s (topic map from
  config or guessed, TF / odometry poses, camera sync, de-skewing, skip report);
- :func:`decode_pointcloud2` — ``sensor_msgs/PointCloud2`` -> ``PointCloud`` (zero-copy);
- :class:`TransformBuffer` — TF tree over time (slerp + linear);
- :func:`read_velodyne_bag`, :func:`read_ouster_bag` — LiDAR packet bags (generators: they
  yield one PointCloud per scan / frame as the bag is read; ``list(...)`` for a list);
- :class:`BagWriter` — write bags (tests, tools).

The names below import their module on first use (``from drivestack.ingest.rosbag import
RosbagLog``), so importing the package (or only :mod:`~drivestack.ingest.rosbag.topic_map`)
does not load every decoder first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivestack.core.lazy_exports import lazy_dir, lazy_exports

if TYPE_CHECKING:
    from drivestack.ingest.rosbag.bag_io import IngestReport, SkippedMessage, open_bag
    from drivestack.ingest.rosbag.ouster import read_ouster_bag
    from drivestack.ingest.rosbag.pointcloud2 import DecodedPointCloud2, decode_pointcloud2
    from drivestack.ingest.rosbag.reader import RosbagLog
    from drivestack.ingest.rosbag.tf_buffer import (
        PoseSeries,
        TransformBuffer,
        TransformLookupError,
    )
    from drivestack.ingest.rosbag.topic_map import (
        CameraTopics,
        RosbagConfig,
        TopicMap,
        guess_topic_map,
        load_rosbag_config,
    )
    from drivestack.ingest.rosbag.velodyne import VelodyneConfig, read_velodyne_bag
    from drivestack.ingest.rosbag.writer import BagWriter

#: exported name -> its module under this package (imported on first use)
_EXPORTS = {
    "IngestReport": "bag_io",
    "SkippedMessage": "bag_io",
    "open_bag": "bag_io",
    "read_ouster_bag": "ouster",
    "DecodedPointCloud2": "pointcloud2",
    "decode_pointcloud2": "pointcloud2",
    "RosbagLog": "reader",
    "PoseSeries": "tf_buffer",
    "TransformBuffer": "tf_buffer",
    "TransformLookupError": "tf_buffer",
    "CameraTopics": "topic_map",
    "RosbagConfig": "topic_map",
    "TopicMap": "topic_map",
    "guess_topic_map": "topic_map",
    "load_rosbag_config": "topic_map",
    "VelodyneConfig": "velodyne",
    "read_velodyne_bag": "velodyne",
    "BagWriter": "writer",
}
__all__ = [
    "BagWriter",
    "CameraTopics",
    "DecodedPointCloud2",
    "IngestReport",
    "PoseSeries",
    "RosbagConfig",
    "RosbagLog",
    "SkippedMessage",
    "TopicMap",
    "TransformBuffer",
    "TransformLookupError",
    "VelodyneConfig",
    "decode_pointcloud2",
    "guess_topic_map",
    "load_rosbag_config",
    "open_bag",
    "read_ouster_bag",
    "read_velodyne_bag",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)
__dir__ = lazy_dir(__name__, __all__)
