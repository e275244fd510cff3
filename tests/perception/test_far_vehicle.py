"""Sparse far clusters on the drivable area become low-scored cars, completed along the sight."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.lidar import build_lidar_detector, load_lidar_detector_config
from drivestack.perception.lidar.config import ClassPrior, FarVehicleConfig
from drivestack.perception.lidar.far_vehicle import (
    candidate_mask,
    complete_along_sight,
    promote_far_vehicles,
)
from drivestack.perception.lidar.map_priors import MapPriors
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

from .synthetic import PERCEPTION_CONFIGS, SENSOR_HEIGHT_M, ground_plane

CAR, CYC, UNK = int(ObjectClass.CAR), int(ObjectClass.CYCLIST), int(ObjectClass.UNKNOWN)
# limits: length <= 4.2 + 2 * 0.6 = 5.4, width <= 1.75 + 2 * 0.25 = 2.25, top <= 1.99
PRIOR = ClassPrior((4.2, 1.75, 1.75), (0.6, 0.25, 0.12), (1.2, 0.2, 1.25), 8, (0, 0, 0, 0, 0))


@dataclasses.dataclass(frozen=True)
class _Strip:
    """A road along world x: ``y_min <= y <= y_max``."""

    y_min: float
    y_max: float

    def distance_m(self, xy_world_m: np.ndarray) -> np.ndarray:
        y = xy_world_m[:, 1]
        return np.maximum(np.maximum(self.y_min - y, y - self.y_max), 0.0)


def _box(x: float, y: float, lwh: tuple[float, float, float], yaw: float = 0.0) -> list[float]:
    """A box standing on z = 0 (centre half its height up)."""
    return [x, y, 0.5 * lwh[2], *lwh, yaw]


def test_completion_keeps_the_near_face_hand_computed() -> None:
    boxes = np.array(
        [
            _box(50.0, 0.0, (1.0, 0.5, 1.0)),  # depth along x: 1.0 -> near face at 49.5 m
            _box(0.0, 60.0, (2.0, 0.4, 1.2)),  # sight along y, depth 0.4 -> near face 59.8 m
            _box(30.0, 40.0, (1.0, 1.0, 1.4), np.pi / 4),  # depth |cos| + |sin| of 8.13 deg
        ]
    )
    out = complete_along_sight(boxes, np.array([4.2, 1.75, 1.75]))
    np.testing.assert_allclose(out[0], [51.6, 0.0, 0.875, 4.2, 1.75, 1.75, 0.0], atol=1e-9)
    np.testing.assert_allclose(out[1], [0.0, 61.9, 0.875, 4.2, 1.75, 1.75, np.pi / 2], atol=1e-9)
    off = np.pi / 4 - np.arctan2(40.0, 30.0)
    near = 50.0 - 0.5 * (abs(np.cos(off)) + abs(np.sin(off)))
    np.testing.assert_allclose(out[2, :2], (near + 2.1) * np.array([0.6, 0.8]), atol=1e-9)
    np.testing.assert_allclose(out[2, 6], np.arctan2(40.0, 30.0))


def test_candidates_by_range_class_extent_and_top() -> None:
    boxes = np.array(
        [
            _box(50.0, 0.0, (1.0, 0.5, 1.0)),  # yes
            _box(30.0, 0.0, (1.0, 0.5, 1.0)),  # too near
            _box(50.0, 0.0, (6.0, 0.5, 1.0)),  # longer than a car
            _box(50.0, 0.0, (1.0, 2.5, 1.0)),  # wider than a car
            _box(50.0, 0.0, (1.0, 0.5, 2.5)),  # taller than a car (a post, a sign)
            _box(50.0, 0.0, (1.0, 0.5, 0.3)),  # too low (kerb, debris)
            _box(50.0, 0.0, (1.0, 0.5, 1.0)),  # a Cyclist
            _box(50.0, 0.0, (1.0, 0.5, 1.0)),  # already a Car
        ]
    )
    label = np.array([UNK] * 6 + [CYC, CAR])
    cfg = FarVehicleConfig(min_range_m=40.0, min_top_m=0.5)
    expected = [True, False, False, False, False, False, False, False]
    np.testing.assert_array_equal(candidate_mask(boxes, label, PRIOR, cfg), expected)
    with_cyclist = dataclasses.replace(cfg, include_cyclist=True)
    expected[6] = True
    np.testing.assert_array_equal(candidate_mask(boxes, label, PRIOR, with_cyclist), expected)


def test_only_on_road_candidates_are_promoted() -> None:
    # sensor at world (0, 10): sensor y maps to world y + 10; road y_world 8..12 (sensor -2..2)
    pose = SE3(np.eye(3), np.array([0.0, 10.0, 0.0]))
    boxes = np.array(
        [
            _box(50.0, 0.0, (1.0, 0.5, 1.0)),  # on the road
            _box(50.0, 4.0, (1.0, 0.5, 1.0)),  # completed centre 4.13 m across: 2.13 m off
            _box(20.0, 0.0, (4.0, 1.7, 1.5)),  # a near car: untouched
        ]
    )
    label, score = np.array([UNK, UNK, CAR]), np.array([0.0, 0.0, 0.9])
    cfg = FarVehicleConfig(min_range_m=40.0, score=1e-6)
    out_b, out_l, out_s = promote_far_vehicles(
        boxes, label, score, PRIOR, MapPriors(pose, drivable_area=_Strip(8, 12)), cfg
    )
    np.testing.assert_array_equal(out_l, [CAR, UNK, CAR])
    np.testing.assert_allclose(out_s, [1e-6, 0.0, 0.9])
    np.testing.assert_allclose(out_b[0, :2], [51.6, 0.0], atol=1e-9)
    np.testing.assert_array_equal(out_b[1:], boxes[1:])
    np.testing.assert_array_equal(label, [UNK, UNK, CAR])  # inputs untouched


def test_off_by_default_and_on_needs_a_map() -> None:
    boxes, label, score = np.array([_box(50.0, 0.0, (1.0, 0.5, 1.0))]), np.array([UNK]), np.zeros(1)
    assert not FarVehicleConfig().enabled
    out = promote_far_vehicles(boxes, label, score, PRIOR, MapPriors(), FarVehicleConfig())
    assert out[0] is boxes and out[1] is label and out[2] is score
    on = FarVehicleConfig(min_range_m=40.0)
    with pytest.raises(ValueError, match="drivable_area"):
        promote_far_vehicles(boxes, label, score, PRIOR, MapPriors(SE3.identity()), on)
    with pytest.raises(ValueError):
        FarVehicleConfig(score=2.0)
    with pytest.raises(ValueError):
        FarVehicleConfig(min_range_m=-1.0)


def _patch(rng: np.random.Generator, x: float, y: float) -> np.ndarray:
    """``(30, 3)`` returns on a 1.6 m wide strip across the line of sight, 0.5-0.9 m above
    the ground: too low for any class prior, the upper rear of a far car."""
    across = rng.uniform(-0.8, 0.8, 30)
    z = -SENSOR_HEIGHT_M + rng.uniform(0.5, 0.9, 30)
    return np.stack([np.full(30, x), y + across, z], axis=1)


def test_detector_promotes_the_on_road_far_cluster() -> None:
    rng = np.random.default_rng(0)
    xyz = np.concatenate(
        [
            ground_plane(rng, radius_m=58.0, num=60_000),
            _patch(rng, 50.0, 0.0),
            _patch(rng, 50.0, 12.0),
        ]
    ).astype(np.float32)
    frame = SensorFrame(
        0,
        lidars={"top": PointCloud(xyz, "lidar", 0)},
        ego_from_sensor={"top": SE3.identity()},
        world_from_ego=SE3(np.eye(3), np.array([0.0, 4.0, 0.0])),
        drivable_area=_Strip(0.0, 8.0),  # sensor y -4..4; the second patch is 8 m off
    )
    cfg = load_lidar_detector_config(PERCEPTION_CONFIGS / "lidar_kitti.yaml")
    assert len(build_lidar_detector(cfg).step(frame)) == 0  # both UNKNOWN, dropped
    far = FarVehicleConfig(min_range_m=40.0, min_top_m=0.5, score=1e-6)
    classify = dataclasses.replace(cfg.classify, far_vehicle=far, min_score=0.0)
    cfg = dataclasses.replace(cfg, classify=classify)
    boxes = build_lidar_detector(cfg).step(frame)
    assert len(boxes) == 1 and boxes.label[0] == CAR and boxes.score[0] == pytest.approx(1e-6)
    # near face at 50 m less the fit's voxel padding (the strip has no depth), the centre
    # half the car prior's length beyond it; across, the strip's middle (30 random returns)
    near_m = 50.0 - cfg.box_fit.voxel_pad_m
    length = cfg.classify.car.mean_lwh_m[0]
    np.testing.assert_allclose(boxes.center_m[0, 0], near_m + 0.5 * length, atol=0.01)
    np.testing.assert_allclose(boxes.center_m[0, 1], 0.0, atol=0.1)
    np.testing.assert_allclose(boxes.size_m[0], cfg.classify.car.mean_lwh_m)
