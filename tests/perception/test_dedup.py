"""De-duplication of overlapping same-class boxes (a car split into two clusters)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drivestack import kernels
from drivestack.core.errors import ConfigError
from drivestack.perception.lidar import build_lidar_detector, load_lidar_detector_config
from drivestack.perception.lidar.box_fit import complete_far_side_along
from drivestack.perception.lidar.config import BoxFitConfig, DedupConfig
from drivestack.perception.lidar.dedup import (
    duplicate_groups,
    overlap_over_smaller_bev,
    suppress_overlaps,
)
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

from .synthetic import KITTI_LIDAR_CONFIG, SENSOR_HEIGHT_M, ground_plane

CAR, PED, UNK = int(ObjectClass.CAR), int(ObjectClass.PEDESTRIAN), int(ObjectClass.UNKNOWN)


def _box(x: float, y: float, length: float = 4.0, width: float = 2.0, yaw: float = 0.0):  # type: ignore[no-untyped-def]
    return [x, y, 0.0, length, width, 1.5, yaw]


def test_overlap_over_smaller_hand_computed() -> None:
    a = np.array([_box(0.0, 0.0)])
    b = np.array(
        [
            _box(1.0, 0.0),  # 3 x 2 shared of 4 x 2: 0.75
            _box(0.0, 0.0, 1.0, 1.0),  # inside: 1
            _box(10.0, 0.0),  # apart: 0
            _box(0.0, 1.5, 4.0, 2.0),  # 4 x 0.5 shared of 8: 0.25
            _box(0.0, 0.0, 4.0, 2.0, np.pi / 2),  # a 2 x 2 square shared of 8: 0.5
        ]
    )
    np.testing.assert_allclose(
        overlap_over_smaller_bev(a, b), [[0.75, 1.0, 0.0, 0.25, 0.5]], atol=1e-9
    )
    assert overlap_over_smaller_bev(np.zeros((0, 7)), b).shape == (0, 5)


def test_groups_join_same_class_overlaps_transitively() -> None:
    boxes = np.array(
        [
            _box(0.0, 0.0),
            _box(3.0, 0.0),  # overlaps 0 by 1/4
            _box(6.0, 0.0),  # overlaps 1 by 1/4, not 0: joined through 1
            _box(20.0, 0.0),  # alone
            _box(21.0, 0.0),  # overlaps 3 but is a pedestrian
            _box(40.0, 0.0),
            _box(40.5, 0.0),  # overlaps 5, both UNKNOWN: never joined
        ]
    )
    label = np.array([CAR, CAR, CAR, CAR, PED, UNK, UNK])
    np.testing.assert_array_equal(duplicate_groups(boxes, label, 0.2), [0, 0, 0, 1, 2, 3, 4])
    # a stricter threshold than the 1/4 overlap separates them
    np.testing.assert_array_equal(duplicate_groups(boxes, label, 0.3), [0, 1, 2, 3, 4, 5, 6])
    assert len(duplicate_groups(np.zeros((0, 7)), np.zeros(0, np.int64), 0.2)) == 0


def test_suppression_is_greedy_by_score_within_a_class() -> None:
    boxes = np.array([_box(0.0, 0.0), _box(1.0, 0.0), _box(2.0, 0.0), _box(1.0, 0.0)])
    label = np.array([CAR, CAR, CAR, PED])
    # 1 (best) suppresses 0 and 2 (overlap 0.75 each); the pedestrian stays
    keep = suppress_overlaps(boxes, label, np.array([0.5, 0.9, 0.6, 0.1]), 0.5)
    np.testing.assert_array_equal(keep, [False, True, False, True])
    # 0 best: suppresses 1 (0.75); 2 overlaps 0 by 0.5 only -> kept at threshold 0.6
    keep = suppress_overlaps(boxes, label, np.array([0.9, 0.8, 0.7, 0.1]), 0.6)
    np.testing.assert_array_equal(keep, [True, False, True, True])
    # equal scores: the lower index wins
    keep = suppress_overlaps(boxes[:2], label[:2], np.array([0.5, 0.5]), 0.5)
    np.testing.assert_array_equal(keep, [True, False])


def test_completion_along_a_given_heading() -> None:
    fit = BoxFitConfig(3.0, 0.5, 0.05, 0.0, 3.9, 1.6, 2.1)
    # a 2.0 (along y) x 1.8 (along x) box 15 m ahead: seen as wider than long
    box = np.array([[15.0, 0.0, 0.0, 2.0, 1.8, 1.5, np.pi / 2]])
    along_x = complete_far_side_along(box, np.array([True]), np.array([0.0]), fit)
    # turned to run along x, grown away from the sensor from its near face at x = 14.1
    np.testing.assert_allclose(along_x[0], [14.1 + 1.95, 0.0, 0.0, 3.9, 2.0, 1.5, 0.0], atol=1e-9)
    along_y = complete_far_side_along(box, np.array([True]), np.array([np.pi / 2]), fit)
    np.testing.assert_allclose(along_y[0, 3:5], [3.9, 1.8])
    assert np.mod(along_y[0, 6], np.pi) == pytest.approx(np.pi / 2)
    # a box as long as a car keeps its own axis whatever the heading says
    long_box = np.array([[15.0, 0.0, 0.0, 4.2, 1.2, 1.5, np.pi / 2]])
    kept = complete_far_side_along(long_box, np.array([True]), np.array([0.0]), fit)
    np.testing.assert_allclose(kept[0, 3:5], [4.2, 1.6])
    assert np.mod(kept[0, 6], np.pi) == pytest.approx(np.pi / 2)


def test_bad_overlap_threshold_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="min_overlap"):
        DedupConfig(enabled=True, min_overlap=0.0)
    path = tmp_path / "bad.yaml"
    path.write_text(
        KITTI_LIDAR_CONFIG.read_text() + "\ndedup:\n  enabled: true\n  min_overlap: 1.5\n"
    )
    with pytest.raises(ConfigError, match=r"bad\.yaml.*dedup"):
        load_lidar_detector_config(path)


def _split_car_scene() -> tuple[np.ndarray, np.ndarray]:
    """A car 15 m straight ahead whose returns break in two: the rear face up to the trunk
    lid and the roof, 1.4 m apart (no returns from the rear window)."""
    rng = np.random.default_rng(3)
    car = np.array([15.0, 0.0, -SENSOR_HEIGHT_M + 0.75, 4.5, 1.85, 1.5, 0.0])
    bottom = -SENSOR_HEIGHT_M
    n = 400
    rear = np.stack(
        [
            np.full(n, 12.75),
            rng.uniform(-0.92, 0.92, n),
            rng.uniform(bottom + 0.3, bottom + 1.2, n),
        ],
        axis=1,
    )
    roof = np.stack(
        [rng.uniform(14.2, 16.2, n), rng.uniform(-0.7, 0.7, n), np.full(n, bottom + 1.5)], axis=1
    )
    xyz = np.concatenate([ground_plane(rng, num=40_000), rear, roof]).astype(np.float32)
    return xyz, car


def _cars(cfg, xyz: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    frame = SensorFrame(0, lidars={"top": PointCloud(xyz, "lidar", 0)}, source="synthetic")
    boxes, report = build_lidar_detector(cfg).step_with_report(frame)
    return boxes.select(boxes.label == CAR).to_array7(), [s.name for s in report.steps]


def test_split_car_is_merged_into_one_box() -> None:
    xyz, car = _split_car_scene()
    cfg = load_lidar_detector_config(KITTI_LIDAR_CONFIG)
    cfg = dataclasses.replace(cfg, classify=dataclasses.replace(cfg.classify, min_score=0.0))
    off = dataclasses.replace(cfg, dedup=DedupConfig(enabled=False))
    boxes_off, steps_off = _cars(off, xyz)
    assert len(boxes_off) == 2  # the two halves, each completed to a car
    assert "dedup" not in steps_off
    merged = dataclasses.replace(cfg, dedup=DedupConfig(enabled=True, min_overlap=0.2))
    boxes_on, steps_on = _cars(merged, xyz)
    assert steps_on[-1] == "dedup"
    assert len(boxes_on) == 1
    assert float(np.asarray(kernels.box_iou_bev(boxes_on, car[None]))[0, 0]) >= 0.75
    # one box over both halves: from the ground to the roof, like the car
    assert float(np.asarray(kernels.box_iou_3d(boxes_on, car[None]))[0, 0]) >= 0.7
    assert float(np.asarray(kernels.box_iou_3d(boxes_off, car[None])).max()) < 0.65
    # suppression only: one of the two halves survives
    suppressed = dataclasses.replace(
        cfg, dedup=DedupConfig(enabled=True, min_overlap=0.2, merge_clusters=False)
    )
    boxes_nms, _ = _cars(suppressed, xyz)
    assert len(boxes_nms) == 1
    assert any(np.allclose(boxes_nms[0], b) for b in boxes_off)
