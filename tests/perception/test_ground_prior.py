"""Ground segmentation with a prior ground surface (an HD map's heights) the frame carries."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from drivestack.core.transforms import SE3, yaw_to_rotation_matrix
from drivestack.perception.lidar import load_lidar_detector_config
from drivestack.perception.lidar.ground import (
    PriorGround,
    _bin_index,
    _layout,
    ground_z_at,
    segment_ground,
)

from .synthetic import KITTI_LIDAR_CONFIG, SENSOR_HEIGHT_M, ground_plane

CFG = load_lidar_detector_config(KITTI_LIDAR_CONFIG).ground
OVERRIDE = dataclasses.replace(CFG, prior_surface="override")
FILL = dataclasses.replace(CFG, prior_surface="fill")
# the sensor 1.73 m above the world's z = 0 road, at (100, 50), facing +y
WORLD_FROM_SENSOR = SE3(yaw_to_rotation_matrix(np.pi / 2), np.array([100.0, 50.0, SENSOR_HEIGHT_M]))


@dataclasses.dataclass(frozen=True)
class _Surface:
    """Ground z = ``fn(world xy)``; NaN where ``world x < unknown_below_x``."""

    fn: Callable[[np.ndarray], np.ndarray]
    unknown_below_x: float = -np.inf

    def height_at(self, xy_world_m: np.ndarray) -> np.ndarray:
        z = np.asarray(self.fn(xy_world_m), dtype=np.float64)
        return np.where(xy_world_m[:, 0] < self.unknown_below_x, np.nan, z)


def _level(z_m: float, unknown_below_x: float = -np.inf) -> _Surface:
    return _Surface(lambda xy: np.full(len(xy), z_m), unknown_below_x)


def test_height_above_a_sloped_surface_hand_computed() -> None:
    # ground z = 0.1 x_world - 10: 0 m under the sensor (x_world = 100)
    prior = PriorGround(_Surface(lambda xy: 0.1 * xy[:, 0] - 10.0), WORLD_FROM_SENSOR)
    # sensor (2, 0, -1) -> world (100, 52, 0.73): ground 0 -> height 0.73
    # sensor (0, 3, 0.5) -> world (97, 50, 2.23): ground -0.3 -> height 2.53
    xyz = np.array([[2.0, 0.0, -1.0], [0.0, 3.0, 0.5]])
    np.testing.assert_allclose(prior.height_above_m(xyz), [0.73, 2.53])
    # the ground under those sensor xy, in the sensor frame: world z 0 and -0.3
    np.testing.assert_allclose(
        prior.ground_z_m(xyz[:, :2], xyz[:, 2]), [-SENSOR_HEIGHT_M, -SENSOR_HEIGHT_M - 0.3]
    )


def test_ground_z_meets_a_level_surface_under_a_pitched_sensor() -> None:
    pitch = np.deg2rad(4.0)
    rot = np.array(
        [[np.cos(pitch), 0.0, np.sin(pitch)], [0.0, 1.0, 0.0], [-np.sin(pitch), 0.0, np.cos(pitch)]]
    )
    pose = SE3(rot, np.array([3.0, -2.0, 5.0]))
    prior = PriorGround(_level(3.0), pose)
    xy = np.array([[10.0, 1.0], [-20.0, 4.0], [0.0, 0.0]])
    z = prior.ground_z_m(xy, np.zeros(3))
    world = pose.apply(np.concatenate([xy, z[:, None]], axis=1))
    np.testing.assert_allclose(world[:, 2], 3.0, atol=1e-12)


def test_unknown_prior_gives_nan() -> None:
    prior = PriorGround(_level(0.0, unknown_below_x=1e9), WORLD_FROM_SENSOR)
    assert np.isnan(prior.height_above_m(np.zeros((2, 3)))).all()
    assert np.isnan(prior.ground_z_m(np.zeros((2, 2)), np.zeros(2))).all()


def _scene() -> np.ndarray:
    """The flat road 1.73 m below the sensor (to 40 m) plus two points 85 m away, beyond the
    zones' 80 m (outside every bin): 0.5 m and 0.1 m above the road."""
    rng = np.random.default_rng(3)
    far = np.array([[85.0, 0.0, -SENSOR_HEIGHT_M + 0.5], [0.0, -85.0, -SENSOR_HEIGHT_M + 0.1]])
    return np.concatenate([ground_plane(rng, num=30_000), far])


def test_off_ignores_the_prior_and_on_needs_one() -> None:
    xyz = _scene()
    prior = PriorGround(_level(0.4), WORLD_FROM_SENSOR)
    plain, with_prior = segment_ground(xyz, CFG), segment_ground(xyz, CFG, prior)
    np.testing.assert_array_equal(plain.height_m, with_prior.height_m)
    np.testing.assert_array_equal(plain.is_ground, with_prior.is_ground)
    with pytest.raises(ValueError, match="prior_surface"):
        segment_ground(xyz, OVERRIDE)
    with pytest.raises(ValueError, match="prior_surface"):
        ground_z_at(np.zeros((1, 2)), plain.planes, OVERRIDE)


def test_override_measures_above_the_prior_where_known() -> None:
    xyz = _scene()
    # the map puts the ground 0.4 m above the road the points show, known for world x >= 90,
    # i.e. sensor y <= 10 (sensor y = 100 - world x)
    prior = PriorGround(_level(0.4, unknown_below_x=90.0), WORLD_FROM_SENSOR)
    plain = segment_ground(xyz, CFG)
    result = segment_ground(xyz, OVERRIDE, prior)
    known = xyz[:, 1] <= 10.0
    expected = xyz[:, 2] + SENSOR_HEIGHT_M - 0.4
    np.testing.assert_allclose(result.height_m[known], expected[known], atol=1e-5)
    np.testing.assert_array_equal(result.height_m[~known], plain.height_m[~known])
    # the road, 0.4 m under the prior, is ground (below the prior counts as ground)
    assert result.is_ground[known][:-2].all()
    # the point 0.5 m above the road at 85 m: 0.1 m above the prior -> ground; without the
    # prior, the fallback plane judges it (0.5 m up: not ground)
    assert result.is_ground[-2] and not plain.is_ground[-2]
    np.testing.assert_allclose(result.height_m[-2], 0.1, atol=1e-5)


def test_fill_keeps_accepted_bins_and_fills_the_rest() -> None:
    xyz = _scene()
    prior = PriorGround(_level(0.4), WORLD_FROM_SENSOR)
    plain = segment_ground(xyz, CFG)
    result = segment_ground(xyz, FILL, prior)
    bins = _bin_index(xyz, _layout(CFG))
    in_accepted = (bins >= 0) & plain.planes.accepted[np.maximum(bins, 0)]
    assert in_accepted.mean() > 0.8  # the far, sparse bins are refused
    np.testing.assert_array_equal(result.height_m[in_accepted], plain.height_m[in_accepted])
    filled = ~in_accepted
    expected = xyz[:, 2] + SENSOR_HEIGHT_M - 0.4
    np.testing.assert_allclose(result.height_m[filled], expected[filled], atol=1e-5)
    assert filled[-2:].all()


def test_ground_z_at_follows_the_prior() -> None:
    xyz = _scene()
    prior = PriorGround(_level(0.4, unknown_below_x=90.0), WORLD_FROM_SENSOR)
    planes = segment_ground(xyz, CFG).planes
    # sensor xy (15, 0): in an accepted bin, prior known; (0, 15): prior unknown;
    # (85, 0): outside the zones, prior known
    xy = np.array([[15.0, 0.0], [0.0, 15.0], [85.0, 0.0]])
    road = -SENSOR_HEIGHT_M
    np.testing.assert_allclose(ground_z_at(xy, planes, CFG), road, atol=0.03)
    np.testing.assert_allclose(
        ground_z_at(xy, planes, OVERRIDE, prior=prior), [road + 0.4, road, road + 0.4], atol=0.03
    )
    np.testing.assert_allclose(
        ground_z_at(xy, planes, FILL, prior=prior), [road, road, road + 0.4], atol=0.03
    )


def test_detector_takes_the_surface_from_the_frame() -> None:
    from drivestack.perception.lidar import build_lidar_detector
    from drivestack.structures.labels import ObjectClass
    from drivestack.structures.point_cloud import PointCloud
    from drivestack.structures.sensor_frame import SensorFrame

    from .synthetic import box_surface, car_on_plane

    rng = np.random.default_rng(0)
    cars = [car_on_plane(12.0, 4.0, 0.15), car_on_plane(20.0, -6.0, -0.4)]
    xyz = np.concatenate([ground_plane(rng, num=60_000), *(box_surface(rng, c) for c in cars)])
    cloud = {"top": PointCloud(xyz.astype(np.float32), "lidar", 0)}
    pose = {"ego_from_sensor": {"top": SE3.identity()}, "world_from_ego": WORLD_FROM_SENSOR}
    cfg = load_lidar_detector_config(KITTI_LIDAR_CONFIG)
    detector = build_lidar_detector(dataclasses.replace(cfg, ground=OVERRIDE))
    # the map's road (world z = 0) is the road the points show
    frame = SensorFrame(0, lidars=cloud, ground_surface=_level(0.0), **pose)  # type: ignore[arg-type]
    boxes = detector.step(frame)
    found = boxes.select(boxes.label == int(ObjectClass.CAR))
    assert len(found) == 2
    np.testing.assert_allclose(
        found.center_m[np.argsort(found.center_m[:, 0]), 2], [c[2] for c in cars], atol=0.1
    )
    with pytest.raises(ValueError, match="no ground_surface"):
        detector.step(SensorFrame(0, lidars=cloud, **pose))  # type: ignore[arg-type]
