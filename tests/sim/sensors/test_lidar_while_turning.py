"""LiDAR sweeps taken while the ego turns: each column fires from the sensor pose at its own
time (yawed by ``yaw_rate * t``, the ego on its circular arc, a sideways mount swung round
with it) and each return is given in the sensor frame at that time.

Conventions used below (``drivestack.sim.sensors.lidar``): the column at LiDAR azimuth
``theta`` fires at ``t = -T * (theta - sync_azimuth_rad) / (2 pi)`` with ``theta - sync`` in
``(-pi, pi]`` (clockwise: the left side first, the column at ``sync_azimuth_rad`` at the
sweep's timestamp). Turning at ``w`` rad/s with speed ``v``, the ego at time ``t`` has yaw
``psi = w t`` and sits at ``(R sin psi, R (1 - cos psi))``, ``R = v / w``, in the ego frame
of the timestamp; a LiDAR mounted at ``m`` in the ego frame is at ``P(t) + Rot(psi) m``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.sim.sensors import LidarModel, LidarPreset, SensorScene
from drivestack.sim.sensors.scene import Material, SceneObject

SWEEP_S = 0.1
YAW_RATE = 2.0


def _rot(psi: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Rotate ``(N, 2)`` points by ``(N,)`` angles about the z axis."""
    c, s = np.cos(psi), np.sin(psi)
    return np.stack([c * xy[:, 0] - s * xy[:, 1], s * xy[:, 0] + c * xy[:, 1]], axis=1)


def _model(n_azimuth: int, mount_xyz: tuple[float, float, float], sync: float = 0.0) -> LidarModel:
    """One horizontal beam, no noise, every hit kept (no detection limit)."""
    return LidarModel(
        LidarPreset("one_beam", (0.0,), n_azimuth, 100.0),
        SE3.from_xyz_yaw(list(mount_xyz), 0.0),
        range_noise_std_m=0.0,
        sweep_duration_s=SWEEP_S,
        min_signal_per_m2=0.0,
        sync_azimuth_rad=sync,
    )


# A 5 cm square pole whose near face is y = 10 m (x within +-0.025 m), in front of the
# sensor's left (+y) side.
POLE = SceneObject((0.0, 10.025, 0.0, 0.05, 0.05, 4.0, 0.0), Material.POLE)


@pytest.mark.parametrize(
    ("sync", "expected_xy"),
    [
        # sync 0: the column at theta fires at t = -T theta / (2 pi) and points, in the frame of
        # the timestamp, at theta + w t = theta (1 - w T / (2 pi)) = theta (1 - 0.2 / (2 pi)).
        # It meets the pole (azimuth pi/2) at theta = (pi/2) / (1 - 0.0318310) = 1.622440 rad,
        # t = -25.82 ms (the ego was yawed 0.0516 rad to the right then); the return, in the
        # sensor frame at that time, is 10 * (cos, sin)(1.622440) = (-0.5162, 9.9867).
        (0.0, (-0.5162, 9.9867)),
        # sync pi/2: the column facing the pole fires at the timestamp (t = 0, no turn yet):
        # theta - 0.0318310 (theta - pi/2) = pi/2 holds at theta = pi/2, the return (0, 10).
        (math.pi / 2, (0.0, 10.0)),
    ],
)
def test_a_turning_sweep_sees_a_pole_where_the_sensor_pointed_when_its_column_fired(
    sync: float, expected_xy: tuple[float, float]
) -> None:
    model = _model(3600, (0.0, 0.0, 0.0), sync)  # 0.1 deg columns: 1.7 cm apart at 10 m
    cloud = model.scan(
        SensorScene([POLE], ground=False), SE3.identity(), 0, yaw_rate_radps=YAW_RATE
    )
    xy = cloud.xyz_m[:, :2].astype(np.float64)
    t = cloud.attributes["time_offset_ns"] * 1e-9
    assert 2 <= len(xy) <= 4  # the 5 cm pole spans about three columns
    # the columns' firing times follow their azimuths (clockwise, sync at the timestamp)
    theta = np.arctan2(xy[:, 1], xy[:, 0])
    np.testing.assert_allclose(t, -SWEEP_S * (theta - sync) / (2 * math.pi), atol=1e-6)
    # each return, turned by the ego's yaw at its firing time, lies on the pole's face
    world = _rot(YAW_RATE * t, xy)
    np.testing.assert_allclose(world[:, 1], 10.0, atol=1e-3)
    assert np.all(np.abs(world[:, 0]) <= 0.025 + 1e-3)
    # and the returns sit about the hand-derived point (the pole is 5 cm wide)
    np.testing.assert_allclose(xy.mean(axis=0), expected_xy, atol=0.02)


# A closed 20 m square room: inner faces at x = +-10 m and y = +-10 m.
ROOM = [
    SceneObject((10.5, 0.0, 0.0, 1.0, 22.0, 4.0, 0.0), Material.BUILDING),
    SceneObject((-10.5, 0.0, 0.0, 1.0, 22.0, 4.0, 0.0), Material.BUILDING),
    SceneObject((0.0, 10.5, 0.0, 22.0, 1.0, 4.0, 0.0), Material.BUILDING),
    SceneObject((0.0, -10.5, 0.0, 22.0, 1.0, 4.0, 0.0), Material.BUILDING),
]
SPEED = 10.0
RADIUS = SPEED / YAW_RATE  # 5 m
MOUNT_Y = 0.5  # the LiDAR sits 0.5 m to the left of the ego origin


def _moving_turning_sweep():
    model = _model(360, (0.0, MOUNT_Y, 0.0))  # 1 deg columns, sync 0
    return model.scan(
        SensorScene(ROOM, ground=False),
        SE3.identity(),
        0,
        speed_mps=SPEED,
        yaw_rate_radps=YAW_RATE,
    )


def test_every_return_of_a_moving_turning_sweep_lies_on_the_walls_from_its_own_pose() -> None:
    cloud = _moving_turning_sweep()
    assert len(cloud) == 360  # every column hits a wall
    p = cloud.xyz_m[:, :2].astype(np.float64)
    t = cloud.attributes["time_offset_ns"] * 1e-9
    psi = YAW_RATE * t
    # the sensor's pose at each column's time: the ego on its arc, the mount swung with it
    ego = np.stack([RADIUS * np.sin(psi), RADIUS * (1.0 - np.cos(psi))], axis=1)
    origin = ego + _rot(psi, np.tile([0.0, MOUNT_Y], (len(t), 1)))
    world = origin + _rot(psi, p)
    # a point on the room's inner faces has max(|x|, |y|) = 10
    np.testing.assert_allclose(np.max(np.abs(world), axis=1), 10.0, atol=1e-3)


def test_a_late_column_fires_from_the_sideways_mount_swung_on_the_ego_arc() -> None:
    cloud = _moving_turning_sweep()
    time_ns = cloud.attributes["time_offset_ns"]

    def at(t_ns: int) -> np.ndarray:
        (i,) = np.flatnonzero(time_ns == t_ns)
        return cloud.xyz_m[i, :2].astype(np.float64)

    # Column theta = -pi/2 fires at t = T/4 = 25 ms: psi = 0.05 rad. The ego is at
    # (5 sin 0.05, 5 (1 - cos 0.05)) = (0.249896, 0.006249), the mount (0, 0.5) turned by psi is
    # (-0.024990, 0.499375): the LiDAR at (0.224906, 0.505624). Its -y axis points along
    # (sin psi, -cos psi) = (0.049979, -0.998750), so the y = -10 wall is
    # (10 + 0.505624) / 0.998750 = 10.518770 m away: the return (0, -10.51877).
    # (The ego's arc bending the other way, 5 (1 - cos psi) taken off y, would give 10.50626.)
    np.testing.assert_allclose(at(25_000_000), [0.0, -10.51877], atol=1e-3)
    # Column theta = -5 pi / 6 (-150 deg) fires at t = T * 150 / 360 = 41.667 ms: psi =
    # 1/12 rad. The ego is at (5 sin psi, 5 (1 - cos psi)) = (0.416185, 0.017351), the mount
    # (0, 0.5) turned by psi (-0.041618, 0.498265): the LiDAR at (0.374566, 0.515616). The ray
    # points at -150 deg + psi = -145.23 deg, (-0.821402, -0.570350): the x = -10 wall is
    # (10 + 0.374566) / 0.821402 = 12.630320 m away (the y = -10 wall 18.44 m), so the return
    # is 12.630320 * (cos, sin)(-150 deg) = (-10.93818, -6.31516). (The mount swung the other
    # way, x + 0.5 sin psi, would put the LiDAR 8.3 cm farther forward: 12.73166 m.)
    np.testing.assert_allclose(at(41_666_667), [-10.93818, -6.31516], atol=1e-3)
