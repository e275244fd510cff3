"""The simulated LiDAR's range limits: no return past the preset's ``max_range_m`` (range noise
included), the hdl64 preset ending at KITTI's 80 m for every surface as KITTI's scans do, and
the received-power limit losing far grazing dark surfaces before bright ones."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.transforms import SE3
from drivestack.sim.sensors import LIDAR_PRESETS, LidarModel, LidarPreset, SensorScene
from drivestack.sim.sensors.lidar import KITTI_MAX_RANGE_M, MIN_SIGNAL_PER_M2
from drivestack.sim.sensors.scene import REFLECTIVITY, Material, SceneObject
from tests._shared_data import missing_shared_data

#: one level beam, 0.01 deg columns: rays near azimuth 0 sample a wall ahead finely
FLAT = LidarPreset("flat", (0.0,), 36000, 50.0)


def _ranges(cloud_xyz: np.ndarray) -> np.ndarray:
    return np.linalg.norm(cloud_xyz.astype(np.float64), axis=1)


def _wall_ahead(near_face_m: float, material: Material, yaw_rad: float = 0.0) -> SceneObject:
    """A 1 m thick, 20 m wide, 4 m tall wall whose near face's centre is ``near_face_m`` ahead
    on the x axis (turned by ``yaw_rad`` about that point), its centre at the beam's height."""
    c, s = math.cos(yaw_rad), math.sin(yaw_rad)
    return SceneObject((near_face_m + 0.5 * c, 0.5 * s, 0.0, 1.0, 20.0, 4.0, yaw_rad), material)


def test_range_noise_never_carries_a_return_past_the_maximum_range() -> None:
    """A building face 5 cm inside a 50 m range, 5 cm range noise: about half its noisy ranges
    fall beyond 50 m; those returns are lost, none is reported past the range."""
    scene = SensorScene([_wall_ahead(49.95, Material.BUILDING)], ground=False)
    clean, noisy = (
        LidarModel(FLAT, SE3.identity(), range_noise_std_m=noise, sweep_duration_s=0.0).scan(
            scene, SE3.identity(), 0
        )
        for noise in (0.0, 0.05)
    )
    # hand count: columns within acos(49.95 / 50) = 2.56 deg of the x axis (0.01 deg apart)
    assert len(clean) == pytest.approx(2 * 256 + 1, abs=2)
    assert _ranges(clean.xyz_m).max() <= 50.0
    r = _ranges(noisy.xyz_m)
    assert r.max() <= 50.0 + 1e-5  # float32 coordinates
    assert 0.25 * len(clean) < len(noisy) < 0.75 * len(clean)  # about half pushed past 50 m


@settings(max_examples=25, deadline=None)
@given(
    near_face_m=st.floats(0.2, 52.0),
    noise_m=st.floats(0.0, 0.3),
    seed=st.integers(0, 2**31),
)
def test_every_return_lies_within_the_presets_range(
    near_face_m: float, noise_m: float, seed: int
) -> None:
    preset = LidarPreset("flat", (0.0,), 3600, 50.0, min_range_m=1.0)
    scene = SensorScene([_wall_ahead(near_face_m, Material.BUILDING)], ground=False)
    cloud = LidarModel(
        preset, SE3.identity(), range_noise_std_m=noise_m, sweep_duration_s=0.0, seed=seed
    ).scan(scene, SE3.identity(), 0)
    r = _ranges(cloud.xyz_m)
    assert np.all(r <= 50.0 * (1 + 1e-6)) and np.all(r >= 1.0 * (1 - 1e-6))


def test_hdl64_sweeps_end_at_kittis_80_m_for_every_surface() -> None:
    """Building faces at 70, 85 and 100 m around an HDL-64E: by received power all three
    would return (0.45 / 100^2 is 15x the limit); only the one within 80 m does."""
    assert LIDAR_PRESETS["hdl64"].max_range_m == KITTI_MAX_RANGE_M == 80.0
    assert REFLECTIVITY[Material.BUILDING] / 100.0**2 > 10 * MIN_SIGNAL_PER_M2
    buildings = [
        SceneObject((70.0 + 5.0, 0.0, 5.0, 10.0, 20.0, 10.0, 0.0), Material.BUILDING),
        SceneObject((0.0, 85.0 + 5.0, 5.0, 20.0, 10.0, 10.0, 0.0), Material.BUILDING),
        SceneObject((-100.0 - 5.0, 0.0, 5.0, 10.0, 20.0, 10.0, 0.0), Material.BUILDING),
    ]
    mount = SE3.from_xyz_yaw([0.0, 0.0, 1.9], 0.0)  # the closed loop's mount height
    cloud = LidarModel.from_preset("hdl64", mount, range_noise_std_m=0.02).scan(
        SensorScene(buildings), SE3.identity(), 0
    )
    r = _ranges(cloud.xyz_m)
    assert r.max() <= 80.0 + 1e-5
    ahead = (cloud.xyz_m[:, 0] > 69.0) & (cloud.xyz_m[:, 2] > -1.0)  # the 70 m face, above the road
    assert ahead.sum() > 100
    assert not np.any(cloud.xyz_m[:, 1] > 84.0) and not np.any(cloud.xyz_m[:, 0] < -99.0)
    # the road under a 1.9 m mount would reach 82.5 m by received power; the range ends it
    road_end_m = (REFLECTIVITY[Material.ROAD] * 1.9 / MIN_SIGNAL_PER_M2) ** (1 / 3)
    assert road_end_m == pytest.approx(82.5, abs=0.05)


def test_kitti_scans_end_at_80_m_for_every_surface(shared_data: Path) -> None:
    """KITTI's recorded HDL-64E sweeps stop at 80.0 m whatever they hit: returns above the
    sensor (buildings, trees) reach 79-80 m and none lies beyond; the hdl64 preset's range."""
    scans = sorted((shared_data / "kitti_object/training/velodyne").glob("*.bin"))
    if not scans:
        missing_shared_data("no KITTI object scans in the shared data")
    farthest, elevated_near_end = 0.0, 0
    for scan in scans:
        points = np.fromfile(scan, dtype=np.float32).reshape(-1, 4)
        r = _ranges(points[:, :3])
        farthest = max(farthest, float(r.max()))
        elevated_near_end += int(np.count_nonzero((r > 79.0) & (points[:, 2] > 0.0)))
    assert farthest <= KITTI_MAX_RANGE_M + 1e-3
    assert farthest == pytest.approx(LIDAR_PRESETS["hdl64"].max_range_m, abs=0.1)
    assert elevated_near_end > 20  # not the road fading out: everything is cut at 80 m


@pytest.mark.parametrize(
    ("material", "returns"), [(Material.VEHICLE, False), (Material.BUILDING, True)]
)
def test_a_far_grazing_dark_face_is_lost_before_a_bright_one(
    material: Material, returns: bool
) -> None:
    """Walls 70 m ahead turned 88 deg from face-on (cos(incidence) ~0.035) under the default
    limit: a car face (0.27) needs cos >= limit * 70^2 / 0.27 = 0.055 and is lost, a building
    (0.45) needs 0.033 and returns; both return face-on."""
    assert MIN_SIGNAL_PER_M2 * 70.0**2 / REFLECTIVITY[Material.VEHICLE] == pytest.approx(
        0.0552, abs=1e-3
    )
    assert MIN_SIGNAL_PER_M2 * 70.0**2 / REFLECTIVITY[Material.BUILDING] == pytest.approx(
        0.0331, abs=1e-3
    )
    preset = LidarPreset("flat", (0.0,), 36000, 200.0)
    grazing, face_on = (
        LidarModel(preset, SE3.identity(), range_noise_std_m=0.0, sweep_duration_s=0.0).scan(
            SensorScene([_wall_ahead(70.0, material, yaw)], ground=False), SE3.identity(), 0
        )
        for yaw in (np.deg2rad(88.0), 0.0)
    )
    assert len(face_on) > 0
    near_axis = np.abs(grazing.xyz_m[:, 1]) < 0.3  # returns near the wall's centre, ~70 m away
    assert bool(near_axis.any()) == returns
    if returns:
        xyz = grazing.xyz_m[near_axis].astype(np.float64)
        r = _ranges(xyz)
        signal = grazing.attributes["intensity"][near_axis] / r**2
        assert np.all(signal >= MIN_SIGNAL_PER_M2 * (1 - 1e-5))
        assert np.all(grazing.attributes["intensity"][near_axis] < 0.05)  # grazing: dim
