"""Readers that turn recorded data into drivestack structures, once, in the LiDAR / ego frame.

One module per source; the scan datasets have a ``read_*_frame`` that returns a
:class:`~drivestack.structures.SensorFrame` (cloud, labels as ``Boxes3D``, poses; KITTI's
left colour camera too) and lower-level readers for single files:

- :mod:`~drivestack.ingest.kitti_object` (``.bin`` / PCD scans, ``label_2``, ``image_2``, the
  label writer), :mod:`~drivestack.ingest.kitti_tracking` (frames of a sequence, the sequence
  opened once, ``label_02``, AB3DMOT detections, seqmaps, ego poses, the result writer),
  :mod:`~drivestack.ingest.kitti_odometry`,
  :mod:`~drivestack.ingest.kitti_calib`, :mod:`~drivestack.ingest.kitti_format` (the
  object-row record and its box conversions);
- :mod:`~drivestack.ingest.nuscenes` (``.pcd.bin``, the float16 multi-sweep cloud, info
  JSON, the submission JSON writer), :mod:`~drivestack.ingest.argoverse2` (feather sweeps,
  cuboids, poses, maps), :mod:`~drivestack.ingest.aimotive` (LAZ, JSON boxes, calibration),
  :mod:`~drivestack.ingest.pandaset`, :mod:`~drivestack.ingest.pcd`;
- :mod:`~drivestack.ingest.rosbag` (ROS 1 / ROS 2 bags and MCAP) and
  :mod:`~drivestack.ingest.maps` (synthetic roads, CommonRoad, Lanelet2, OpenDRIVE, Argoverse 2 maps).

Bad input is a :class:`~drivestack.core.DataError` naming the file, record and field.

Per-dataset conventions of the ``read_*_frame`` readers
--------------------------------------------------------
They differ; checked on the samples in ``shared/data``. *Frame*: the frame the cloud *and*
the labels come in. The ego frame is the architecture's (x forward, y left, z up) wherever it
is ``ego``, but its origin height differs (*road z*: the road in that frame, from the label box
bottoms within 20 m). Labels in the ego frame, for every reader:
``frame.labels.transformed(frame.ego_from_sensor["lidar"], "ego")`` (clouds:
``frame.lidar().transformed(...)``); for KITTI that transform is the identity and "ego" stays
the Velodyne frame.

==============  =====================  ============  =================  ======  =============
reader          frame key              frame         intensity          xyz     road z
==============  =====================  ============  =================  ======  =============
KITTI object    ``0`` or ``"000000"``  ``lidar``     float32 0..1       f32     -1.6 m
KITTI tracking  ``"0000"``, ``120``    ``lidar``     float32 0..1       f32     -1.6 m
KITTI odometry  ``0`` (int)            ``lidar``     float32 0..1       f32     (no labels)
nuScenes        ``0`` (sample index)   ``lidar`` *   float32 0..255     f32     -1.5 m **
Argoverse 2     ``timestamp_ns``       ``ego``       uint8 0..255       f32     -0.4 m
aiMotive        ``"frame_0033643"``    ``ego``       uint16 0..254      f64     0 m
PandaSet        ``0`` (int)            ``ego``       uint8 0..255       f32     -0.4 m
==============  =====================  ============  =================  ======  =============

- Empty scans: a scan file holding 0 points is a frame with a cloud of 0 points (and its
  labels, poses and times as usual), for every reader: a 0-byte KITTI ``.bin`` or nuScenes
  ``.pcd.bin`` (formats without a header), and a well-formed PCD (``POINTS 0``), AV2
  feather (0 rows), aiMotive LAZ (0 points) or PandaSet npz (0-length arrays). A truncated
  copy is the usual cause, so check ``frame.lidar().num_points`` where that matters (the
  KITTI detection evaluation scores such a scan with a warning). A 0-byte file of a format
  with a header (PCD, LAZ, feather, npz) is no scan at all: a ``DataError``.
- Frame keys (an int key may be a NumPy integer; KITTI tracking (its frame number), KITTI
  odometry, Argoverse 2 and PandaSet
  refuse a str or float with a ``TypeError``): KITTI object
  ``read_kitti_object_frame(root, 0)`` or ``(root, "000000")`` (the file stem; a negative
  index is refused); KITTI tracking ``read_kitti_tracking_frame(root, "0000", 120)`` (sequence and
  frame number; :func:`~drivestack.ingest.kitti_tracking.list_kitti_tracking_frames`; to walk
  a sequence, ``KittiTrackingSequence(root, "0000").frame(120)`` / ``.frames()``
  (:class:`~drivestack.ingest.kitti_tracking.KittiTrackingSequence`) parses its label, calib
  and pose files once);
  KITTI odometry ``read_odometry_frame(sequence_dir, 0, poses, times_ns)`` with ``poses =
  read_odometry_sequence_poses(sequence_dir, sequence_dir / "poses/00.txt")`` (LiDAR poses)
  and ``times_ns = read_times_ns(sequence_dir / "times.txt")`` (int64 ns; not the file's float
  seconds, which are refused); nuScenes
  ``read_nuscenes_frame(info, 0)`` (index into the info file's samples; the token is in
  ``frame.source``); Argoverse 2 ``read_av2_frame(log_dir, 315966265259836000)`` (the sweep
  file's ``timestamp_ns``); aiMotive ``read_aimotive_frame(seq, "frame_0033643")``
  (:func:`~drivestack.ingest.aimotive.list_aimotive_frames`); PandaSet
  ``read_pandaset_frame(seq, 0)`` (file ``lidar/00.npz``;
  :func:`~drivestack.ingest.pandaset.list_pandaset_frames`).
- KITTI: the ego frame is the Velodyne frame (``ego_from_sensor["lidar"]`` is the identity),
  1.73 m above the road: box bottoms lie about 1.6 m *below* the origin, not on z = 0.
  ``intensity`` is the reflectance (float32 in [0, 1]), from a ``.bin`` or a PCD scan alike
  (:func:`~drivestack.ingest.kitti_object.kitti_scan_cloud`): a reflectance outside [0, 1],
  or a PCD scan with an integer-typed or no ``intensity`` field, is a ``DataError``; float64
  PCD coordinates are narrowed to float32.
- nuScenes (*): the ``lidar`` frame is the LIDAR_TOP sensor's: x right, y forward, z up;
  ``ego_from_sensor["lidar"]`` (from the info file) turns it by about -90 deg and lifts it
  1.84 m onto the ego frame, whose origin is on the road. ``intensity`` is float32 0..255.
  (**) The road itself is about -1.8 m in the ``lidar`` frame (the 1.84 m mounting), but
  the label box bottoms within 20 m of the shared sample are bimodal, -2.3..-2.0 m and
  -1.5..-1.1 m, with a median of -1.5 m over 21 boxes: the figure varies by scene.
- Argoverse 2: sweeps and cuboids are stored in the ego frame (rear axle, about 0.4 m above
  the road); ``intensity`` uint8, the file's float16 ``x y z`` read as float32.
- aiMotive: the vehicle body frame, on the road; ``x y z`` float64 (LAZ, 1 mm steps),
  ``intensity`` uint16 0..254. The labels' ``velocity_mps`` are relative to the ego (the
  rate of change of the box position in the ego frame), not over ground: a car driving
  alongside the ego reads about 0 m/s.
- PandaSet: the LiDAR pose's origin (about 0.4 m above the road), levelled: z the world's
  up, x the pose's forward axis on the ground (the pose itself is about 2.1 deg off up;
  its tilt is ``ego_from_sensor["lidar_pose"]``), so the world-frame cuboids stay exactly
  upright; ``intensity`` uint8.

Importing the package is cheap: the names in ``__all__`` (the ``read_*_frame`` readers, their
``list_*`` helpers, the file readers and writers above, the ROS bag entry points and the map
readers) import their module on first use, so ``from drivestack.ingest import
read_kitti_tracking_frame`` works without loading pyarrow, laspy or the bag libraries first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivestack.core.lazy_exports import lazy_dir, lazy_exports

if TYPE_CHECKING:
    from drivestack.ingest.aimotive import (
        list_aimotive_frames,
        read_aimotive_boxes,
        read_aimotive_calibration,
        read_aimotive_frame,
        read_aimotive_laz,
    )
    from drivestack.ingest.argoverse2 import (
        Av2Cuboids,
        Av2Poses,
        list_av2_sweeps,
        read_av2_calibration,
        read_av2_cuboids,
        read_av2_frame,
        read_av2_poses,
        read_av2_sweep,
        write_av2_detections,
    )
    from drivestack.ingest.kitti_calib import (
        KittiCalib,
        read_kitti_calib,
    )
    from drivestack.ingest.kitti_format import (
        KittiObjects,
    )
    from drivestack.ingest.kitti_object import (
        format_kitti_label,
        read_kitti_camera,
        read_kitti_label,
        read_kitti_object_frame,
        read_velodyne_bin,
        read_velodyne_pcd,
        write_kitti_label,
    )
    from drivestack.ingest.kitti_odometry import (
        read_odometry_frame,
        read_odometry_sequence_poses,
        read_times_ns,
    )
    from drivestack.ingest.kitti_tracking import (
        KittiTrackingSequence,
        list_kitti_tracking_frames,
        read_ab3dmot_detections,
        read_ego_poses,
        read_kitti_tracking_frame,
        read_kitti_tracking_scan,
        read_seqmap,
        read_split_seqmap,
        read_tracking_labels,
        write_tracking_results,
    )
    from drivestack.ingest.maps import (
        build_synthetic_map,
        read_av2_drivable_area,
        read_av2_ground_height,
        read_av2_lanes,
        read_av2_road_map,
        read_commonroad,
        read_lanelet2,
        read_opendrive,
    )
    from drivestack.ingest.nuscenes import (
        NuScenesSample,
        read_lidar_pcd_bin,
        read_multisweep_fp16,
        read_nuscenes_frame,
        read_nuscenes_info,
        read_submission,
        write_submission,
    )
    from drivestack.ingest.pandaset import (
        list_pandaset_frames,
        read_lidar_npz,
        read_pandaset_frame,
    )
    from drivestack.ingest.pcd import (
        PcdData,
        parse_pcd,
        pcd_to_point_cloud,
        read_pcd,
    )
    from drivestack.ingest.rosbag import (
        RosbagConfig,
        RosbagLog,
        load_rosbag_config,
        read_ouster_bag,
        read_velodyne_bag,
    )

#: exported name -> its module under this package (imported on first use)
_EXPORTS = {
    **dict.fromkeys(
        (
            "format_kitti_label",
            "read_kitti_camera",
            "read_kitti_label",
            "read_kitti_object_frame",
            "read_velodyne_bin",
            "read_velodyne_pcd",
            "write_kitti_label",
        ),
        "kitti_object",
    ),
    **dict.fromkeys(
        (
            "KittiTrackingSequence",
            "list_kitti_tracking_frames",
            "read_ab3dmot_detections",
            "read_ego_poses",
            "read_kitti_tracking_frame",
            "read_kitti_tracking_scan",
            "read_seqmap",
            "read_split_seqmap",
            "read_tracking_labels",
            "write_tracking_results",
        ),
        "kitti_tracking",
    ),
    **dict.fromkeys(
        ("read_odometry_frame", "read_odometry_sequence_poses", "read_times_ns"), "kitti_odometry"
    ),
    **dict.fromkeys(("KittiCalib", "read_kitti_calib"), "kitti_calib"),
    **dict.fromkeys(("KittiObjects",), "kitti_format"),
    **dict.fromkeys(
        (
            "NuScenesSample",
            "read_lidar_pcd_bin",
            "read_multisweep_fp16",
            "read_nuscenes_frame",
            "read_nuscenes_info",
            "read_submission",
            "write_submission",
        ),
        "nuscenes",
    ),
    **dict.fromkeys(
        (
            "Av2Cuboids",
            "Av2Poses",
            "list_av2_sweeps",
            "read_av2_calibration",
            "read_av2_cuboids",
            "read_av2_frame",
            "read_av2_poses",
            "read_av2_sweep",
            "write_av2_detections",
        ),
        "argoverse2",
    ),
    **dict.fromkeys(
        (
            "list_aimotive_frames",
            "read_aimotive_boxes",
            "read_aimotive_calibration",
            "read_aimotive_frame",
            "read_aimotive_laz",
        ),
        "aimotive",
    ),
    **dict.fromkeys(("list_pandaset_frames", "read_lidar_npz", "read_pandaset_frame"), "pandaset"),
    **dict.fromkeys(("PcdData", "parse_pcd", "pcd_to_point_cloud", "read_pcd"), "pcd"),
    **dict.fromkeys(
        ("RosbagConfig", "RosbagLog", "load_rosbag_config", "read_ouster_bag", "read_velodyne_bag"),
        "rosbag",
    ),
    **dict.fromkeys(
        (
            "build_synthetic_map",
            "read_av2_drivable_area",
            "read_av2_ground_height",
            "read_av2_lanes",
            "read_av2_road_map",
            "read_commonroad",
            "read_lanelet2",
            "read_opendrive",
        ),
        "maps",
    ),
}
__all__ = [
    "Av2Cuboids",
    "Av2Poses",
    "KittiCalib",
    "KittiObjects",
    "KittiTrackingSequence",
    "NuScenesSample",
    "PcdData",
    "RosbagConfig",
    "RosbagLog",
    "build_synthetic_map",
    "format_kitti_label",
    "list_aimotive_frames",
    "list_av2_sweeps",
    "list_kitti_tracking_frames",
    "list_pandaset_frames",
    "load_rosbag_config",
    "parse_pcd",
    "pcd_to_point_cloud",
    "read_ab3dmot_detections",
    "read_aimotive_boxes",
    "read_aimotive_calibration",
    "read_aimotive_frame",
    "read_aimotive_laz",
    "read_av2_calibration",
    "read_av2_cuboids",
    "read_av2_drivable_area",
    "read_av2_frame",
    "read_av2_ground_height",
    "read_av2_lanes",
    "read_av2_poses",
    "read_av2_road_map",
    "read_av2_sweep",
    "read_commonroad",
    "read_ego_poses",
    "read_kitti_calib",
    "read_kitti_camera",
    "read_kitti_label",
    "read_kitti_object_frame",
    "read_kitti_tracking_frame",
    "read_kitti_tracking_scan",
    "read_lanelet2",
    "read_lidar_npz",
    "read_lidar_pcd_bin",
    "read_multisweep_fp16",
    "read_nuscenes_frame",
    "read_nuscenes_info",
    "read_odometry_frame",
    "read_odometry_sequence_poses",
    "read_opendrive",
    "read_ouster_bag",
    "read_pandaset_frame",
    "read_pcd",
    "read_seqmap",
    "read_split_seqmap",
    "read_submission",
    "read_times_ns",
    "read_tracking_labels",
    "read_velodyne_bag",
    "read_velodyne_bin",
    "read_velodyne_pcd",
    "write_av2_detections",
    "write_kitti_label",
    "write_submission",
    "write_tracking_results",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)
__dir__ = lazy_dir(__name__, __all__)
