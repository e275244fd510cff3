"""ROS 1 / ROS 2 bag and MCAP ingestion on the ``rosbags`` library (no ROS installation).

- :class:`RosbagLog` — a recorded drive as LiDAR-keyed :class:`SensorFrame`\\s (topic map from
  config or guessed, TF / odometry poses, camera sync, de-skewing, skip report);
- :func:`decode_pointcloud2` — ``sensor_msgs/PointCloud2`` -> ``PointCloud`` (zero-copy);
- :class:`TransformBuffer` — TF tree over time (slerp + linear);
- :func:`read_velodyne_bag`, :func:`read_ouster_bag` — LiDAR packet bags;
- :class:`BagWriter` — write bags (tests, tools).
"""

from drivestack.ingest.rosbag.bag_io import IngestReport, SkippedMessage, open_bag
from drivestack.ingest.rosbag.ouster import read_ouster_bag
from drivestack.ingest.rosbag.pointcloud2 import DecodedPointCloud2, decode_pointcloud2
from drivestack.ingest.rosbag.reader import RosbagLog
from drivestack.ingest.rosbag.tf_buffer import PoseSeries, TransformBuffer, TransformLookupError
from drivestack.ingest.rosbag.topic_map import (
    CameraTopics,
    RosbagConfig,
    TopicMap,
    guess_topic_map,
    load_rosbag_config,
)
from drivestack.ingest.rosbag.velodyne import VelodyneConfig, read_velodyne_bag
from drivestack.ingest.rosbag.writer import BagWriter

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
