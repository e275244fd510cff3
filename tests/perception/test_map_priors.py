"""A frame's map priors answer in the sensor frame and name the step that misses one."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.lidar.config import LaneHeadingConfig
from drivestack.perception.lidar.ground import PriorGround
from drivestack.perception.lidar.map_priors import MapPriors
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame


@dataclasses.dataclass(frozen=True)
class _Square:
    """The drivable area: world ``|x|, |y| <= half_m`` (distance along y only, for the test)."""

    half_m: float

    def distance_m(self, xy_world_m: np.ndarray) -> np.ndarray:
        return np.maximum(np.abs(xy_world_m[:, 1]) - self.half_m, 0.0)

    def contains_xy(self, xy_world_m: np.ndarray) -> np.ndarray:
        return np.all(np.abs(xy_world_m) <= self.half_m, axis=1)


@dataclasses.dataclass(frozen=True)
class _EastLanes:
    """Lanes heading world +x wherever ``y >= 0``."""

    def heading_rad(self, xy_world_m: np.ndarray, reach: float, spread: float) -> np.ndarray:
        return np.where(xy_world_m[:, 1] >= 0.0, 0.0, np.nan)


@dataclasses.dataclass(frozen=True)
class _Flat:
    """Ground at world z = ``z_m``."""

    z_m: float

    def height_at(self, xy_world_m: np.ndarray) -> np.ndarray:
        return np.full(len(xy_world_m), self.z_m)


#: the sensor at world (0, 10, 2), turned 90 deg left: sensor +x is world +y
POSE = SE3.from_xyz_yaw([0.0, 10.0, 2.0], np.pi / 2)


def test_answers_in_the_sensor_frame_hand_computed() -> None:
    priors = MapPriors(POSE, _Square(12.0), _EastLanes(), _Flat(0.5))
    points = np.array([[1.0, 0.0, 0.0], [5.0, 0.0, 0.0], [-12.0, 3.0, 0.0]])
    # world xy: (0, 11), (0, 15), (-3, -2)
    np.testing.assert_allclose(priors.distance_to_drivable_m(points, "k"), [0.0, 3.0, 0.0])
    np.testing.assert_array_equal(priors.on_drivable(points, "k"), [True, False, True])
    # the lanes head world +x, which is sensor -y; none at world y < 0
    yaw = priors.lane_yaw_rad(points, LaneHeadingConfig(enabled=True), "k")
    np.testing.assert_allclose(yaw, [-np.pi / 2, -np.pi / 2, np.nan])
    ground = priors.ground
    assert isinstance(ground, PriorGround)
    np.testing.assert_allclose(ground.height_above_m(points), [1.5, 1.5, 1.5])
    assert priors.distance_to_drivable_m(np.zeros((0, 3)), "k").shape == (0,)


def test_of_frame_takes_the_frame_priors() -> None:
    cloud = PointCloud(np.zeros((1, 3), dtype=np.float32), frame="velodyne", timestamp_ns=0)
    frame = SensorFrame(
        timestamp_ns=0,
        lidars={"velodyne": cloud},
        drivable_area=_Square(1.0),
        lane_headings=_EastLanes(),
        ground_surface=_Flat(0.0),
    )
    priors = MapPriors.of_frame(frame, POSE)
    assert priors == MapPriors(POSE, _Square(1.0), _EastLanes(), _Flat(0.0))
    # no pose: nothing can be placed
    assert MapPriors.of_frame(frame, None).ground is None


def test_a_missing_prior_or_pose_names_the_step() -> None:
    with pytest.raises(ValueError, match=r"classify\.offroad is on .* no drivable_area"):
        MapPriors(POSE).on_drivable(np.zeros((1, 3)), "classify.offroad")
    with pytest.raises(ValueError, match="world_from_ego"):
        MapPriors(None, _Square(1.0)).distance_to_drivable_m(np.zeros((1, 3)), "step")
    with pytest.raises(ValueError, match=r"large_vehicle_join is on .* no lane_headings"):
        MapPriors(POSE, _Square(1.0)).lane_yaw_rad(
            np.zeros((1, 3)), LaneHeadingConfig(), "large_vehicle_join"
        )
    assert MapPriors(POSE).ground is None
