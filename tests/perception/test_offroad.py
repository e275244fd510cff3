"""Vehicle boxes off the drivable area (a map prior the frame carries) are demoted or dropped."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.lidar import build_lidar_detector, load_lidar_detector_config
from drivestack.perception.lidar.config import OffroadConfig
from drivestack.perception.lidar.map_priors import MapPriors
from drivestack.perception.lidar.offroad import demote_offroad, offroad_mask
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

from .synthetic import KITTI_LIDAR_CONFIG, SENSOR_HEIGHT_M, box_surface, car_on_plane, ground_plane

CAR, TRUCK, PED = int(ObjectClass.CAR), int(ObjectClass.TRUCK), int(ObjectClass.PEDESTRIAN)


@dataclasses.dataclass(frozen=True)
class _Strip:
    """A road along world x: ``y_min <= y <= y_max`` (NaN distance for x > ``known_to_x``)."""

    y_min: float
    y_max: float
    known_to_x: float = np.inf

    def distance_m(self, xy_world_m: np.ndarray) -> np.ndarray:
        y = xy_world_m[:, 1]
        d = np.maximum(np.maximum(self.y_min - y, y - self.y_max), 0.0)
        return np.where(xy_world_m[:, 0] > self.known_to_x, np.nan, d)


def test_mask_hand_computed() -> None:
    # sensor at world (0, 10): a sensor-frame y maps to world y + 10; road y_world 8..12
    pose = SE3(np.eye(3), np.array([0.0, 10.0, 0.0]))
    centres = np.array([[5.0, 0.0, 0.0], [5.0, 2.9, 0.0], [5.0, 3.1, 0.0], [5.0, -6.0, 0.0]])
    mask = offroad_mask(
        centres, MapPriors(pose, _Strip(8.0, 12.0)), OffroadConfig(max_distance_m=1.0)
    )
    np.testing.assert_array_equal(mask, [False, False, True, True])
    unknown = _Strip(8.0, 12.0, known_to_x=0.0)  # every centre beyond: unknown, kept
    assert not offroad_mask(centres, MapPriors(pose, unknown), OffroadConfig()).any()
    assert offroad_mask(np.zeros((0, 3)), MapPriors(pose, _Strip(0, 1)), OffroadConfig()).shape == (
        0,
    )


def test_only_vehicles_are_demoted() -> None:
    centres = np.array([[0.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 5.0, 0.0], [0.0, 5.0, 0.0]])
    label = np.array([CAR, CAR, TRUCK, PED])
    score = np.array([0.9, 0.8, 0.7, 0.6])
    cfg = OffroadConfig(max_distance_m=1.0, score_factor=0.25)
    out = demote_offroad(centres, label, score, MapPriors(SE3.identity(), _Strip(-2.0, 2.0)), cfg)
    np.testing.assert_allclose(out, [0.9, 0.2, 0.175, 0.6])
    np.testing.assert_array_equal(score, [0.9, 0.8, 0.7, 0.6])  # input untouched


def test_off_by_default_and_on_needs_a_map() -> None:
    score = np.array([0.5])
    args = (np.array([[0.0, 9.0, 0.0]]), np.array([CAR]), score)
    assert not OffroadConfig().enabled
    assert demote_offroad(*args, MapPriors(), OffroadConfig()) is score
    with pytest.raises(ValueError, match="drivable_area"):
        demote_offroad(*args, MapPriors(SE3.identity()), OffroadConfig(score_factor=0.0))
    with pytest.raises(ValueError, match="world_from_ego"):
        demote_offroad(*args, MapPriors(None, _Strip(0, 1)), OffroadConfig(score_factor=0.0))
    with pytest.raises(ValueError):
        OffroadConfig(score_factor=1.5)


def test_detector_drops_the_car_off_the_road() -> None:
    rng = np.random.default_rng(0)
    on_road, off_road = car_on_plane(12.0, 4.0, 0.15), car_on_plane(20.0, -6.0, -0.4)
    pedestrian = np.array([9.0, -3.0, -SENSOR_HEIGHT_M + 0.875, 0.6, 0.55, 1.75, 0.0])
    xyz = np.concatenate(
        [
            ground_plane(rng, num=60_000),
            box_surface(rng, on_road),
            box_surface(rng, off_road),
            box_surface(rng, pedestrian, density_per_m2=400.0),
        ]
    ).astype(np.float32)
    frame = SensorFrame(
        0,
        lidars={"top": PointCloud(xyz, "lidar", 0)},
        ego_from_sensor={"top": SE3.identity()},
        world_from_ego=SE3(np.eye(3), np.array([50.0, 0.0, 0.0])),
        drivable_area=_Strip(0.0, 8.0),  # the road: world y 0..8; the off-road car is 6 m off
    )
    cfg = load_lidar_detector_config(KITTI_LIDAR_CONFIG)
    plain = build_lidar_detector(cfg).step(frame)
    cfg = dataclasses.replace(
        cfg, classify=dataclasses.replace(cfg.classify, offroad=OffroadConfig(1.0, 0.0))
    )
    boxes = build_lidar_detector(cfg).step(frame)
    cars = boxes.select(boxes.label == CAR)
    assert (plain.label == CAR).sum() == 2 and len(cars) == 1
    np.testing.assert_allclose(cars.center_m[0, :2], on_road[:2], atol=0.3)
    assert (boxes.label == PED).sum() == (plain.label == PED).sum() == 1
