"""Per-point motion compensation (de-skewing) of a LiDAR sweep with the ego motion.

A spinning LiDAR measures each point at ``timestamp_ns + time_offset_ns[i]`` while the ego
moves. De-skewing maps every point to where the sensor saw it from at the sweep's reference
time ``timestamp_ns``::

    lidar_ref_from_lidar_i = lidar_from_ego @ ego_ref_from_world @ world_from_ego_i @ ego_from_lidar

with ``world_from_ego`` interpolated (slerp + linear) at the point times. Points sharing a
time (one firing column) share one transform, so the cost is one pose lookup per distinct time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from drivestack.core.transforms import SE3
from drivestack.structures.point_cloud import TIME_OFFSET_NS, PointCloud


def deskew_point_cloud(
    cloud: PointCloud,
    ego_from_lidar: SE3,
    world_from_ego_at: Callable[[np.ndarray], SE3],
) -> PointCloud:
    """The cloud with every point moved to the sweep's reference time (frame and dtype kept).

    Args:
        cloud: ``(N,)`` points in the LiDAR frame with a ``time_offset_ns`` attribute.
        ego_from_lidar: the LiDAR's mounting (single SE3).
        world_from_ego_at: ``(K,)`` int64 times -> batched SE3 ``(K,)`` ego poses; raises
            when a time is outside the recorded motion.

    Raises KeyError when the cloud has no ``time_offset_ns`` attribute.
    """
    offsets = cloud.attribute(TIME_OFFSET_NS)
    if len(cloud) == 0:
        return cloud
    distinct, inverse = np.unique(offsets, return_inverse=True)
    times = np.concatenate([[0], distinct]).astype(np.int64) + np.int64(cloud.timestamp_ns)
    poses = world_from_ego_at(times)
    ego_ref_from_world = poses[0].inverse()
    ref_from_i = ego_from_lidar.inverse() @ (ego_ref_from_world @ poses[1:]) @ ego_from_lidar
    rotation = ref_from_i.rotation[inverse]
    translation = ref_from_i.translation[inverse]
    xyz = np.einsum("nij,nj->ni", rotation, cloud.xyz_m.astype(np.float64)) + translation
    return replace(cloud, xyz_m=xyz.astype(cloud.xyz_m.dtype))
