"""The ground fit, and so the whole LiDAR stage, depends on the points, not on their order.

The planes were fitted to every ``fit_stride``-th point of the input: the same scan reversed,
shuffled, or a merged sweep in "current, past" order gave other planes, other ground labels
and other boxes (KITTI tracking 0000's first scan: 29, 28 or 30 boxes)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.perception.lidar import build_lidar_detector, load_lidar_detector_config
from drivestack.perception.lidar.ground import (
    _bin_index,
    _layout,
    fit_subsample,
    segment_ground_zones,
)

from .synthetic import KITTI_LIDAR_CONFIG, car_on_plane, ground_plane

CFG = load_lidar_detector_config(KITTI_LIDAR_CONFIG).ground


def _scene(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ground = ground_plane(rng, num=8_000, slope_x=0.03)
    car = car_on_plane(9.0, 2.0, 0.3, slope_x=0.03)
    body = rng.uniform(-0.5, 0.5, size=(1_500, 3)) * car[3:6] + car[:3]
    return np.concatenate([ground, body]).astype(np.float32)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), stride=st.integers(1, 5))
def test_the_subsample_is_the_same_set_in_any_order(seed: int, stride: int) -> None:
    xyz = _scene(seed % 1000)
    bins = _bin_index(xyz, _layout(CFG))
    chosen = fit_subsample(xyz, bins, stride)
    assert np.all(bins[chosen] >= 0) and np.all(np.diff(chosen) > 0)
    order = np.random.default_rng(seed).permutation(len(xyz))
    moved = fit_subsample(xyz[order], bins[order], stride)
    np.testing.assert_array_equal(np.sort(order[moved]), chosen)
    n = np.count_nonzero(bins >= 0)
    if stride == 1:
        np.testing.assert_array_equal(chosen, np.flatnonzero(bins >= 0))
    else:  # about one point in stride (binomial: 5 standard deviations)
        assert abs(len(chosen) - n / stride) <= 5 * np.sqrt(n / stride) + 1


def test_ground_labels_follow_the_points_through_a_reversal_and_a_merge_order() -> None:
    xyz = _scene(3)
    base = segment_ground_zones(xyz, CFG)
    assert 0 < base.is_ground.sum() < len(xyz)
    for order in (np.arange(len(xyz))[::-1], np.random.default_rng(1).permutation(len(xyz))):
        moved = segment_ground_zones(xyz[order], CFG)
        np.testing.assert_array_equal(moved.is_ground, base.is_ground[order])
        np.testing.assert_allclose(moved.height_m, base.height_m[order], atol=1e-5)


@pytest.mark.data
def test_a_kitti_scan_gives_the_same_boxes_in_any_point_order(shared_data: Path) -> None:
    from drivestack.ingest import list_kitti_tracking_frames, read_kitti_tracking_frame

    root = shared_data / "kitti_tracking"
    frame = read_kitti_tracking_frame(
        root, 0, list_kitti_tracking_frames(root, 0)[0], load_images=False
    )
    cloud = frame.lidars["lidar"]
    detector = build_lidar_detector(KITTI_LIDAR_CONFIG)

    def boxes(order: np.ndarray) -> np.ndarray:
        result = detector.detect(dataclasses.replace(frame, lidars={"lidar": cloud.select(order)}))
        rows = np.column_stack([result.boxes.to_array7(), result.boxes.label, result.boxes.score])
        return rows[np.lexsort(rows.T[::-1])]

    base = boxes(np.arange(len(cloud)))
    assert len(base) > 5
    for order in (np.arange(len(cloud))[::-1], np.random.default_rng(0).permutation(len(cloud))):
        np.testing.assert_allclose(boxes(order), base, atol=1e-4)
