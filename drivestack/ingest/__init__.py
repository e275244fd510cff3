"""Readers that turn recorded data into drivestack structures, once, in the LiDAR / ego frame.

One module per source; the scan datasets have a ``read_*_frame`` that returns a
:class:`~drivestack.structures.SensorFrame` (cloud, labels as ``Boxes3D``, poses) and
lower-level readers for single files:

- :mod:`~drivestack.ingest.kitti_object` (``.bin`` / PCD scans, ``label_2``, the label
  writer), :mod:`~drivestack.ingest.kitti_tracking` (``label_02``, AB3DMOT detections,
  seqmaps, ego poses, the result writer), :mod:`~drivestack.ingest.kitti_odometry`,
  :mod:`~drivestack.ingest.kitti_calib`, :mod:`~drivestack.ingest.kitti_format` (the
  object-row record and its box conversions);
- :mod:`~drivestack.ingest.nuscenes` (``.pcd.bin``, the float16 multi-sweep cloud, info
  JSON, the submission JSON writer), :mod:`~drivestack.ingest.argoverse2` (feather sweeps,
  cuboids, poses, maps), :mod:`~drivestack.ingest.aimotive` (LAZ, JSON boxes, calibration),
  :mod:`~drivestack.ingest.pandaset`, :mod:`~drivestack.ingest.pcd`;
- :mod:`~drivestack.ingest.rosbag` (ROS 1 / ROS 2 bags and MCAP) and
  :mod:`~drivestack.ingest.maps` (synthetic roads, CommonRoad, Lanelet2, Argoverse 2 maps).

Bad input is a :class:`~drivestack.core.DataError` naming the file, record and field.
"""
