"""The simulated LiDAR against the sensors it stands for: the VLP-32C's beam table, the
clockwise spin of Velodyne / Hesai sensors, returns lost at long range or on dark surfaces,
range-compensated intensity, and a checked seed."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.sim.sensors import LIDAR_PRESETS, LidarModel, LidarPreset, SensorScene
from drivestack.sim.sensors.lidar import MIN_SIGNAL_PER_M2, VLP32C_ELEVATIONS_DEG
from drivestack.sim.sensors.scene import REFLECTIVITY, Material, SceneObject
from drivestack.structures import Boxes3D, ObjectClass
from tests._shared_data import missing_shared_data

MOUNT = SE3.from_xyz_yaw([0.0, 0.0, 1.73], 0.0)


def test_vlp32_preset_is_the_vlp32c_table() -> None:
    elevations = np.sort(LIDAR_PRESETS["vlp32"].elevations_deg)
    np.testing.assert_array_equal(elevations, VLP32C_ELEVATIONS_DEG)
    assert elevations[0] == -25.0 and elevations[-1] == 15.0
    steps = np.diff(elevations)
    dense = (elevations[:-1] >= -4.0) & (elevations[1:] <= 1.667)
    assert dense.sum() == 17  # -4.0 .. +1.667 in 1/3 deg steps (the old layout: 1.29 deg)
    np.testing.assert_allclose(steps[dense], 1.0 / 3.0, atol=2e-3)
    assert steps[0] > 9.0 and steps[-1] > 4.0  # wide at the ends


def test_vlp32_preset_matches_nebulas_calibration(shared_data: Path) -> None:
    table = shared_data / "ros_bags/nebula_velodyne_ros2/calibration/VLP32.yaml"
    if not table.is_file():
        missing_shared_data(f"no {table}")
    vert = [float(v) for v in re.findall(r"vert_correction:\s*([-+\d.eE]+)", table.read_text())]
    assert len(vert) == 32
    np.testing.assert_allclose(
        np.sort(np.rad2deg(vert)), np.sort(LIDAR_PRESETS["vlp32"].elevations_deg), atol=1e-3
    )


def test_hdl64_and_os128_presets_follow_their_spec_sheets() -> None:
    hdl = np.sort(LIDAR_PRESETS["hdl64"].elevations_deg)[::-1]
    np.testing.assert_allclose(np.diff(hdl[:32]), -1.0 / 3.0, atol=1e-3)  # upper block
    np.testing.assert_allclose(np.diff(hdl[32:]), -0.5, atol=1e-3)  # lower block
    assert hdl[0] == pytest.approx(2.0) and hdl[31] - hdl[32] == pytest.approx(0.5)
    os1 = np.sort(LIDAR_PRESETS["os128"].elevations_deg)
    assert len(os1) == 128 and os1[0] == -22.5 and os1[-1] == 22.5  # 45 deg, uniform
    np.testing.assert_allclose(np.diff(os1), 45.0 / 127.0, rtol=1e-9)
    assert LIDAR_PRESETS["os128"].n_azimuth in (512, 1024, 2048)


@pytest.mark.parametrize("name", sorted(LIDAR_PRESETS))
def test_the_sweep_turns_clockwise_with_forward_at_time_zero(name: str) -> None:
    model = LidarModel.from_preset(name, MOUNT)
    dirs, _, times = model.ray_layout()
    azimuth = np.arctan2(dirs[:, 0, 1].astype(np.float64), dirs[:, 0, 0].astype(np.float64))
    duration = model.sweep_duration_s
    for az_deg, expected_s in ((90.0, -duration / 4), (0.0, 0.0), (-90.0, duration / 4)):
        column = np.argmin(np.abs(np.angle(np.exp(1j * (azimuth - np.deg2rad(az_deg))))))
        # AV2's VLP-32C: +90 deg at 15 ms, 0 at 40 ms, -90 at 65 ms of its sweep
        assert times[column] == pytest.approx(expected_s, abs=duration / model.preset.n_azimuth)


def test_motion_distortion_of_a_car_passing_on_the_left() -> None:
    """A 4 m car 6 m to the left moving forward at 20 m/s past a standing ego: clockwise, the
    left side fires 25 ms before the timestamp (its returns trail the label by ~0.5 m) and the
    car's rear edge fires before its front (it looks stretched, not squeezed)."""
    speed_mps, duration_s = 20.0, 0.1
    car = Boxes3D.from_array7(
        [[0.0, 6.0, 1.0, 4.0, 1.8, 2.0, 0.0]],
        "world",
        label=[ObjectClass.UNKNOWN],
        velocity_mps=[[speed_mps, 0.0]],
    )
    scene = SensorScene(ground=False)
    scene.set_agents(car)
    preset = LidarPreset("flat", (0.0,), 3600, 100.0)
    model = LidarModel(
        preset,
        SE3.from_xyz_yaw([0.0, 0.0, 1.0], 0.0),
        range_noise_std_m=0.0,
        sweep_duration_s=duration_s,
        agent_motion_tolerance_m=0.01,  # each return's car within 1 cm of its firing time's
    )
    cloud = model.scan(scene, SE3.identity(), 0)
    on_car = cloud.attributes["instance"] == 1
    x = cloud.xyz_m[on_car, 0].astype(np.float64)
    t = cloud.attributes["time_offset_ns"][on_car] * 1e-9
    assert on_car.sum() > 100 and np.all(t < 0)  # the whole car fires before the timestamp
    # each return lies on the car's near face where the car was at its firing time
    np.testing.assert_allclose(cloud.xyz_m[on_car, 1], 6.0 - 0.9, atol=1e-3)
    assert np.all(x <= 2.0 + speed_mps * t + 0.011) and np.all(x >= -2.0 + speed_mps * t - 0.011)
    # trailing: the returns' middle sits behind the labelled centre by about v * T / 4
    middle = 0.5 * (x.min() + x.max())
    assert middle == pytest.approx(-speed_mps * duration_s / 4, abs=0.05)
    # stretched: the rear (fired first) is farther back, the front (fired last) is ahead
    rear_t, front_t = t[np.argmin(x)], t[np.argmax(x)]
    assert rear_t < front_t
    extent = x.max() - x.min()
    assert extent == pytest.approx(4.0 + speed_mps * (front_t - rear_t), abs=0.03)
    assert extent > 4.0


def test_the_road_ends_at_kittis_80_m() -> None:
    """Flat road under an HDL-64E 1.73 m up: returns up to 80 m (hand-computed from the
    detection limit), none beyond, however far the preset's range."""
    cloud = LidarModel.from_preset("hdl64", MOUNT, range_noise_std_m=0.0).scan(
        SensorScene(), SE3.identity(), 0
    )
    rng_m = np.linalg.norm(cloud.xyz_m.astype(np.float64), axis=1)
    # the -1.33 deg beam meets the road at 74.5 m, the -1.0 deg beam at 99 m
    assert 74.0 < rng_m.max() <= 80.0
    elevations = np.asarray(LIDAR_PRESETS["hdl64"].elevations_deg)
    reach = 1.73 / np.sin(-np.deg2rad(elevations[elevations < 0]))
    seen = reach[reach <= 80.0]
    assert len(np.unique(cloud.attributes["ring"])) == len(seen)
    assert (REFLECTIVITY[Material.ROAD] * 1.73 / 80.0**3) == pytest.approx(MIN_SIGNAL_PER_M2)


def test_dark_surfaces_are_lost_first() -> None:
    """Two face-on walls 50 m ahead: a car-paint one (0.27) and a building (0.45); with the
    limit between their signals only the building returns, at its reflectivity x cos."""
    preset = LidarPreset("flat", (0.0,), 3600, 200.0)
    walls = [
        SceneObject((50.5, 3.0, 0.0, 1.0, 4.0, 4.0, 0.0), Material.VEHICLE),
        SceneObject((50.5, -3.0, 0.0, 1.0, 4.0, 4.0, 0.0), Material.BUILDING),
    ]
    scene = SensorScene(walls, ground=False)
    limit = 0.35 / 50.0**2  # between 0.27 / 50^2 and 0.45 / 50^2 (cos ~ 1)
    cloud = LidarModel(
        preset, SE3.identity(), range_noise_std_m=0.0, sweep_duration_s=0.0, min_signal_per_m2=limit
    ).scan(scene, SE3.identity(), 0)
    assert len(cloud) > 0 and np.all(cloud.xyz_m[:, 1] < 0)  # only the building
    xyz = cloud.xyz_m.astype(np.float64)
    cos_incidence = xyz[:, 0] / np.linalg.norm(xyz, axis=1)
    np.testing.assert_allclose(
        cloud.attributes["intensity"], REFLECTIVITY[Material.BUILDING] * cos_incidence, rtol=1e-5
    )
    everything = LidarModel(
        preset, SE3.identity(), range_noise_std_m=0.0, sweep_duration_s=0.0, min_signal_per_m2=0.0
    ).scan(scene, SE3.identity(), 0)
    assert np.any(everything.xyz_m[:, 1] > 0) and len(everything) > len(cloud)


def test_a_car_far_away_keeps_its_intensity() -> None:
    """Intensity does not fall with range (Velodyne intensity is range-compensated)."""
    preset = LidarPreset("flat", (0.0,), 3600, 200.0)
    near, far = (
        LidarModel(preset, SE3.identity(), range_noise_std_m=0.0, sweep_duration_s=0.0).scan(
            SensorScene(
                [SceneObject((x, 0.0, 0.0, 1.0, 4.0, 4.0, 0.0), Material.VEHICLE)], ground=False
            ),
            SE3.identity(),
            0,
        )
        for x in (10.5, 100.5)
    )
    ahead = [c.attributes["intensity"][np.argmin(np.abs(c.xyz_m[:, 1]))] for c in (near, far)]
    assert ahead[0] == pytest.approx(REFLECTIVITY[Material.VEHICLE], rel=1e-5)
    assert ahead[1] == pytest.approx(ahead[0], rel=1e-5)


@pytest.mark.parametrize(
    ("seed", "error", "message"),
    [
        (-1, ValueError, r"LidarModel\.seed"),
        (1.5, TypeError, r"LidarModel\.seed"),
        (True, TypeError, r"LidarModel\.seed"),
        (2**63, ValueError, r"LidarModel\.seed"),
        ("3", TypeError, r"LidarModel\.seed"),
    ],
)
def test_a_bad_seed_is_refused_by_name(seed: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        LidarModel.from_preset("vlp32", MOUNT, seed=seed)  # type: ignore[arg-type]


def test_a_bad_detection_limit_is_refused_by_name() -> None:
    for value in (-1e-6, math.nan, math.inf):
        with pytest.raises(ValueError, match=r"LidarModel\.min_signal_per_m2"):
            LidarModel.from_preset("vlp32", MOUNT, min_signal_per_m2=value)
