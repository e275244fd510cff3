"""The single-plane RANSAC ground baseline depends on the points, not on their order.

Its hypotheses and its scoring sample were drawn by index: the same scan shuffled or reversed
got another plane and other ground labels. It now draws them as the zone model's fit does, by
the hash of the points' millimetre coordinates (``ground.coordinate_hash``,
``ground.fit_subsample``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.perception.lidar import load_lidar_detector_config
from drivestack.perception.lidar.ground import (
    coordinate_hash,
    fit_subsample,
    segment_ground,
    segment_ground_ransac,
)

from ..synthetic import KITTI_LIDAR_CONFIG, SENSOR_HEIGHT_M, ground_plane

# Few hypotheses scored on a small sample over a noisy, tilted road: different draws give
# visibly different planes, so an order-dependent draw shows in the labels.
CFG = dataclasses.replace(
    load_lidar_detector_config(KITTI_LIDAR_CONFIG).ground,
    method="ransac",
    ransac_iterations=12,
    ransac_sample_size=150,
)


def _scene(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    road = ground_plane(rng, num=4_000, slope_x=0.02, slope_y=-0.015, noise_m=0.06)
    clutter = np.c_[rng.uniform(-20, 20, (600, 2)), rng.uniform(-1.5, 0.5, 600)]
    return np.concatenate([road, clutter])


def test_the_same_points_shuffled_get_the_same_labels() -> None:
    xyz = _scene(0)
    base = segment_ground_ransac(xyz, CFG)
    assert 0.7 < base.is_ground.mean() < 0.95  # the road found, the clutter above it not
    for order in (
        np.arange(len(xyz))[::-1],
        *(np.random.default_rng(k).permutation(len(xyz)) for k in range(4)),
    ):
        moved = segment_ground_ransac(xyz[order], CFG)
        np.testing.assert_array_equal(moved.is_ground, base.is_ground[order])
        np.testing.assert_allclose(moved.height_m, base.height_m[order], atol=1e-5)
        np.testing.assert_allclose(moved.planes.fallback_normal, base.planes.fallback_normal)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), float32=st.booleans())
def test_any_permutation_gives_the_same_plane(seed: int, float32: bool) -> None:
    xyz = _scene(seed % 50)
    if float32:
        xyz = xyz.astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(xyz))
    base = segment_ground(xyz, CFG)
    moved = segment_ground(xyz[order], CFG)
    np.testing.assert_array_equal(moved.is_ground, base.is_ground[order])
    assert np.isclose(moved.planes.fallback_offset_m, base.planes.fallback_offset_m, atol=1e-9)


def test_the_hash_is_the_subsample_s_and_a_function_of_the_point() -> None:
    rng = np.random.default_rng(5)
    xyz = rng.uniform(-50, 50, (2_000, 3))
    xyz[1000:1010] = xyz[0]  # equal points hash alike
    h = coordinate_hash(xyz)
    assert h.dtype == np.uint64 and len(np.unique(h[1000:1010])) == 1 and h[1000] == h[0]
    order = rng.permutation(len(xyz))
    np.testing.assert_array_equal(coordinate_hash(xyz[order]), h[order])
    # a point moved by under a millimetre within the same millimetre cell keeps its hash
    cell = np.floor(xyz[:1] * 1000.0) / 1000.0 + 2e-4
    assert coordinate_hash(cell)[0] == coordinate_hash(cell + 5e-4)[0]
    # fit_subsample keeps exactly the points whose hash falls in one stride class
    bins = np.where(rng.random(len(xyz)) < 0.1, -1, 0)
    chosen = fit_subsample(xyz, bins, 4)
    expected = np.flatnonzero((bins >= 0) & ((h >> np.uint64(40)) % np.uint64(4) == 0))
    np.testing.assert_array_equal(chosen, expected)
    assert np.all(coordinate_hash(xyz, bins)[bins < 0] == 0)


def test_few_points_and_an_empty_sample_still_give_a_plane() -> None:
    three = np.array([[5.0, 0.0, -SENSOR_HEIGHT_M], [6.0, 1.0, -SENSOR_HEIGHT_M], [7.0, -1.0, 0.0]])
    for order in ([0, 1, 2], [2, 1, 0]):
        result = segment_ground_ransac(three[order], CFG)
        assert result.is_ground.shape == (3,)
    one = dataclasses.replace(CFG, ransac_sample_size=1)
    result = segment_ground_ransac(_scene(1), one)
    assert np.isfinite(result.height_m).all()


@pytest.mark.data
def test_a_kitti_scan_shuffled_gets_the_same_ransac_ground(shared_data: Path) -> None:
    from drivestack.ingest import list_kitti_tracking_frames, read_kitti_tracking_frame

    root = shared_data / "kitti_tracking"
    frame = read_kitti_tracking_frame(
        root, 0, list_kitti_tracking_frames(root, 0)[0], load_images=False
    )
    xyz = frame.lidars["lidar"].xyz_m
    cfg = load_lidar_detector_config(KITTI_LIDAR_CONFIG).ground  # its RANSAC settings
    base = segment_ground_ransac(xyz, dataclasses.replace(cfg, method="ransac"))
    assert 0.3 < base.is_ground.mean() < 0.8
    order = np.random.default_rng(0).permutation(len(xyz))
    moved = segment_ground_ransac(xyz[order], dataclasses.replace(cfg, method="ransac"))
    np.testing.assert_array_equal(moved.is_ground, base.is_ground[order])
