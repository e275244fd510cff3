"""The plain pipeline a newcomer would write with open3d alone, as a comparable stage.

``segment_plane`` (one RANSAC ground plane) + ``cluster_dbscan`` on the rest + axis-aligned
boxes; a cluster whose footprint is car-sized is called a Car, everything else unknown; the
score grows with the cluster's point count. It is the yardstick every detection report and
``drivestack bench perception`` show beside drivestack's stage: same input, same output type
(:class:`~drivestack.structures.boxes.Boxes3D`), but not the same frame. The baseline's boxes
are in the cloud's own frame (``Boxes3D.frame`` is the cloud's ``frame``, the LiDAR's sensor
frame for most readers), while :class:`~drivestack.perception.lidar.detector.LidarDetector`
returns its boxes in the ego frame when the ``SensorFrame`` carries ``ego_from_sensor`` for
that LiDAR. ``drivestack eval detection`` moves either detector's boxes into the cloud's frame
before scoring (``_in_cloud_frame`` in :mod:`drivestack.eval.detection.run`); any other user
that mixes the two must read ``Boxes3D.frame`` and transform the boxes itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.sensor_frame import SensorFrame, require_sensor_frame


@dataclass(frozen=True)
class Open3dBaselineConfig:
    """Parameters of the baseline (open3d's usual tutorial values)."""

    max_range_m: float = 60.0
    plane_distance_m: float = 0.2
    ransac_iterations: int = 100
    dbscan_eps_m: float = 0.5
    dbscan_min_points: int = 5
    min_cluster_points: int = 10
    car_length_m: tuple[float, float] = (2.5, 6.5)
    car_width_m: tuple[float, float] = (1.2, 2.8)
    seed: int = 0


class Open3dBaselineDetector:
    """``reset()`` / ``step(SensorFrame) -> Boxes3D`` like :class:`LidarDetector`."""

    def __init__(self, cfg: Open3dBaselineConfig | None = None) -> None:
        self.cfg = cfg or Open3dBaselineConfig()

    def reset(self) -> None:
        """Stateless: nothing to reset."""

    def step(self, frame: SensorFrame) -> Boxes3D:
        import open3d as o3d

        cloud = require_sensor_frame(frame, "Open3dBaselineDetector.step").lidar()
        cfg = self.cfg
        xyz = np.asarray(cloud.xyz_m, dtype=np.float64)
        xyz = xyz[np.hypot(xyz[:, 0], xyz[:, 1]) <= cfg.max_range_m]
        if len(xyz) < 3:
            return Boxes3D.empty(cloud.frame, cloud.timestamp_ns)
        o3d.utility.random.seed(cfg.seed)
        pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(xyz))
        _, inliers = pcd.segment_plane(cfg.plane_distance_m, 3, cfg.ransac_iterations)
        rest = np.delete(xyz, np.asarray(inliers, dtype=np.int64), axis=0)
        objects = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(rest))
        labels = np.asarray(objects.cluster_dbscan(cfg.dbscan_eps_m, cfg.dbscan_min_points))
        rows, scores, classes = [], [], []
        for k in range(int(labels.max(initial=-1)) + 1):
            members = rest[labels == k]
            if len(members) < cfg.min_cluster_points:
                continue
            lo, hi = members.min(axis=0), members.max(axis=0)
            size = hi - lo
            length, width = max(size[0], size[1]), min(size[0], size[1])
            yaw = 0.0 if size[0] >= size[1] else np.pi / 2
            rows.append([*(0.5 * (lo + hi)), length, width, size[2], yaw])
            car = (
                cfg.car_length_m[0] <= length <= cfg.car_length_m[1]
                and cfg.car_width_m[0] <= width <= cfg.car_width_m[1]
            )
            classes.append(int(ObjectClass.CAR if car else ObjectClass.UNKNOWN))
            scores.append(min(1.0, len(members) / 200.0))
        if not rows:
            return Boxes3D.empty(cloud.frame, cloud.timestamp_ns)
        return Boxes3D.from_array7(
            np.asarray(rows), cloud.frame, cloud.timestamp_ns, score=scores, label=classes
        )
