"""The frame the LiDAR stage works in: the sensor's own frame, or a level one at the mount.

The stage crops, finds the ground and clusters taking its frame's z for up, with the config's
heights and ranges measured from its origin. A LiDAR mounted within
:data:`MAX_MOUNT_TILT_DEG` of level is worked on in its own frame (the configs were tuned so:
nuScenes' roof LiDAR is pitched 1.4 degrees). A more tilted mount (a pitched-down near-field
LiDAR, one on its side) is worked on in the level frame at the mount: the sensor's position
and heading, the ego's up axis. (A hand-made scene of three cars seen from a mount pitched
4.5 / 4.9 / 5.0 degrees, in the sensor's frame, gave 3 / 2 / 0 of them: tilts past 2 degrees
are levelled.)
"""

from __future__ import annotations

import numpy as np

from drivestack.core.transforms import SE3

#: The most a LiDAR's z axis may tilt from the ego's up axis (degrees) for the stage to work in
#: the sensor's own frame; past it the cloud is levelled (:func:`ego_from_stage`).
MAX_MOUNT_TILT_DEG = 2.0


def mount_tilt_deg(ego_from_sensor: SE3) -> float:
    """The angle between the sensor's z axis and the ego's up axis (degrees, 0 to 180)."""
    up = float(np.clip(np.asarray(ego_from_sensor.rotation)[2, 2], -1.0, 1.0))
    return float(np.degrees(np.arccos(up)))


def ego_from_stage(ego_from_sensor: SE3) -> SE3:
    """The pose of the stage's frame in the ego frame: ``ego_from_sensor`` itself for a mount
    within :data:`MAX_MOUNT_TILT_DEG` of level, else the level frame at the mount (its
    translation, the heading of the sensor's x axis in the ego's ground plane, or of its y
    axis turned back a quarter when x points straight up or down).

    Args:
        ego_from_sensor: one rigid transform (no batch).
    """
    if mount_tilt_deg(ego_from_sensor) <= MAX_MOUNT_TILT_DEG:
        return ego_from_sensor
    rotation = np.asarray(ego_from_sensor.rotation)
    x_axis, y_axis = rotation[:, 0], rotation[:, 1]
    if np.hypot(x_axis[0], x_axis[1]) > 1e-3:
        yaw_rad = float(np.arctan2(x_axis[1], x_axis[0]))
    else:
        yaw_rad = float(np.arctan2(y_axis[1], y_axis[0])) - np.pi / 2
    return SE3.from_xyz_yaw(np.asarray(ego_from_sensor.translation), yaw_rad)
