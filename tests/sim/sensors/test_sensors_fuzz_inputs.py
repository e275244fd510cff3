"""Sensor-model inputs found by the round-2 bad-input campaign: NaN or infinite settings that
gave a sweep of no points or a crash are ValueErrors naming the setting; an empty map gives a
scene of ground alone."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.sim.sensors.camera import CameraModel
from drivestack.sim.sensors.lidar import LidarModel, LidarPreset
from drivestack.sim.sensors.scene import Material, SceneObject, SensorScene
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.road_map import RoadMap

# bad inputs are refused or handled before any arithmetic that would overflow (numpy's
# RuntimeWarnings)
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

MOUNT = SE3(np.eye(3), np.array([0.0, 0.0, 1.7]))
POSE = SE3(np.eye(3), np.zeros(3))
PRESET = LidarPreset("t", (0.0, -5.0), 36, 50.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"elevations_deg": (float("nan"),)}, r"elevations_deg\[0\] must be a finite number"),
        ({"elevations_deg": (0.0, 95.0)}, r"elevations_deg\[1\] must be a finite number"),
        ({"max_range_m": float("inf")}, "both finite"),  # before: every sweep empty
        ({"n_azimuth": 36.5}, "n_azimuth must be an integer"),  # before: numpy TypeError
    ],
)
def test_lidar_preset_refuses_bad_layouts(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"name": "t", "elevations_deg": (0.0,), "n_azimuth": 36}
    args["max_range_m"] = 50.0
    with pytest.raises((ValueError, TypeError), match=match):
        LidarPreset(**(args | kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["range_noise_std_m", "sweep_duration_s"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_lidar_model_refuses_non_finite_settings(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"{name} must be a finite number >= 0"):
        LidarModel(PRESET, MOUNT, **{name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["speed_mps", "yaw_rate_radps"])
def test_scan_refuses_a_nan_ego_motion(name: str) -> None:
    # before: a sweep of no points
    with pytest.raises(ValueError, match=f"LidarModel.scan {name} must be a finite number"):
        LidarModel(PRESET, MOUNT).scan(SensorScene(), POSE, 0, **{name: float("nan")})


def test_scan_with_an_agent_at_a_huge_speed_does_not_overflow() -> None:
    # before: OverflowError converting an infinite number of time slabs to int
    scene = SensorScene()
    scene.set_agents(
        Boxes3D(np.array([[10.0, 0.0, 0.75]]), np.array([[4.5, 1.85, 1.5]]), np.zeros(1),
                "world", velocity_mps=np.array([[1e300, 0.0]]))
    )  # fmt: skip
    cloud = LidarModel(PRESET, MOUNT).scan(scene, POSE, 0)
    assert len(cloud) == 36  # the ground in front of every column of the lower beam


def test_a_scan_sees_a_slow_agent_beside_one_at_a_huge_speed() -> None:
    # the fast agent is moved out of float32's reach at the sweep's column times other than
    # 0 and left out of those casts: the slow one's returns keep its instance id (2)
    scene = SensorScene(ground=False)
    scene.set_agents(
        Boxes3D(np.array([[10.0, 0.0, 0.75], [0.0, 10.0, 0.75]]), np.array([[4.5, 1.85, 1.5]] * 2),
                np.zeros(2), "world", velocity_mps=np.array([[1e300, 0.0], [1.0, 0.0]]))
    )  # fmt: skip
    lidar = LidarModel(LidarPreset("t", (-5.0,), 360, 50.0), MOUNT)
    cloud = lidar.scan(scene, POSE, 0)
    instance, xyz = cloud.attributes["instance"], cloud.xyz_m
    assert np.count_nonzero(instance == 2) > 20 and np.all(xyz[instance == 2, 1] > 8.0)
    # the fast agent where it is set, at the one column fired at time 0 (straight ahead)
    assert np.count_nonzero(instance == 1) == 1 and xyz[instance == 1, 0] < 8.0


@pytest.mark.parametrize(
    ("box", "match"),
    [
        ((float("nan"), 0.0, 1.0, 1.0, 1.0, 1.0, 0.0), "must be finite with sizes >= 0"),
        ((1.0, 0.0, 1.0, -1.0, 1.0, 1.0, 0.0), "must be finite with sizes >= 0"),
        ((1.0, 0.0, 1.0, 1.0, 1.0, 1.0), r"must be 7 numbers .* got shape \(6,\)"),
    ],
)
def test_scene_refuses_a_bad_static_box(box: tuple[float, ...], match: str) -> None:
    ok = SceneObject((5.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0), Material.POLE)
    with pytest.raises(ValueError, match=r"static_objects\[1\].box " + match):
        SensorScene([ok, SceneObject(box, Material.BUILDING)])  # type: ignore[arg-type]


def test_scene_of_an_empty_map_is_the_ground_alone() -> None:
    # before: AttributeError ('NoneType' object has no attribute 'geom_type')
    scene = SensorScene.from_road_map(RoadMap(()))
    assert not scene.has_static
    assert len(LidarModel(PRESET, MOUNT).scan(scene, POSE, 0)) == 36


@pytest.mark.parametrize(
    ("origins", "directions", "max_range_m", "match"),
    [
        (np.zeros((1, 2)), np.zeros((1, 2)), 10.0, r"origins must have shape \(R, 3\)"),
        (np.zeros((1, 3)), np.array([[np.nan, 0, -1]]), 10.0, "directions has a NaN .* row 0"),
        (np.zeros((1, 3)), np.array([[0.0, 0, -1]]), float("nan"), "max_range_m must be a finite"),
        (np.zeros((1, 3)), np.array([[0.0, 0, -1]]), 0.0, "max_range_m must be a finite"),
    ],
)
def test_cast_refuses_bad_rays(
    origins: np.ndarray, directions: np.ndarray, max_range_m: float, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        SensorScene().cast(origins, directions, max_range_m)


def test_cast_of_zero_rays_is_empty() -> None:
    assert SensorScene().cast(np.zeros((0, 3)), np.zeros((0, 3)), 10.0).range_m.shape == (0,)


@pytest.mark.parametrize("depth", [float("nan"), 0.0, -1.0])
def test_camera_refuses_a_bad_max_depth(depth: float) -> None:
    # before: NaN rendered without a depth limit, 0 or less an empty image
    calibration = CameraModel.looking_forward("c", 8, 6, 5.0, (1.5, 0.0, 1.5)).calibration
    with pytest.raises(ValueError, match=r"CameraModel\.max_depth_m must be a finite number > 0"):
        CameraModel(calibration, max_depth_m=depth)
