"""points_in_boxes against a per-point loop; voxel_downsample against a dict and open3d."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.kernels import points_in_boxes, voxel_downsample
from tests.kernels._helpers import random_boxes


def slow_points_in_boxes(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    out = np.zeros((len(points), len(boxes)), dtype=bool)
    for m, (x, y, z, length, width, height, yaw) in enumerate(boxes):
        c, s = math.cos(yaw), math.sin(yaw)
        for n, (px, py, pz) in enumerate(points):
            lx = c * (px - x) + s * (py - y)
            ly = -s * (px - x) + c * (py - y)
            out[n, m] = abs(lx) <= length / 2 and abs(ly) <= width / 2 and abs(pz - z) <= height / 2
    return out


@pytest.mark.parametrize("impl", ["reference", "numba"])
@pytest.mark.parametrize("seed", [0, 1])
def test_points_in_boxes_matches_per_point_loop(impl, seed):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, 12)
    points = rng.uniform(-7, 7, (600, 3))
    np.testing.assert_array_equal(
        points_in_boxes(points, boxes, impl=impl), slow_points_in_boxes(points, boxes)
    )


def test_points_in_boxes_hand_case():
    box = np.array([[10.0, 0.0, 1.0, 4.0, 2.0, 2.0, math.pi / 2]])  # long axis along y
    pts = np.array(
        [[10.0, 1.9, 1.0], [10.0, 2.1, 1.0], [10.9, 0.0, 1.0], [11.1, 0.0, 1.0], [10.0, 0.0, 2.0]]
    )
    for impl in ("reference", "numba"):
        assert points_in_boxes(pts, box, impl=impl)[:, 0].tolist() == [
            True,
            False,
            True,
            False,
            True,
        ]


@pytest.mark.parametrize("impl", ["reference", "numba"])
@pytest.mark.parametrize(("n", "m"), [(0, 0), (0, 2), (5, 0)])
def test_points_in_boxes_empty(impl, n, m):
    out = points_in_boxes(np.zeros((n, 3)), np.ones((m, 7)), impl=impl)
    assert out.shape == (n, m) and out.dtype == bool


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000), n=st.integers(0, 60), m=st.integers(0, 6))
def test_points_in_boxes_routes_agree(seed, n, m):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, m, spread_m=3.0)
    points = rng.uniform(-5, 5, (n, 3))
    np.testing.assert_array_equal(
        points_in_boxes(points, boxes), slow_points_in_boxes(points, boxes)
    )


def dict_voxel_centroids(points: np.ndarray, size: float) -> dict[tuple[int, int, int], np.ndarray]:
    groups: dict[tuple[int, int, int], list[np.ndarray]] = {}
    for p in points:
        key = tuple(int(v) for v in np.floor(p / size))
        groups.setdefault(key, []).append(p)
    return {k: np.mean(v, axis=0) for k, v in groups.items()}


@pytest.mark.parametrize("impl", ["reference", "numba"])
def test_voxel_downsample_matches_dict_in_first_occurrence_order(impl):
    rng = np.random.default_rng(0)
    points = rng.uniform(-3, 3, (2000, 3))
    out = voxel_downsample(points, 0.7, impl=impl)
    expected = dict_voxel_centroids(points, 0.7)  # dicts keep insertion (first occurrence) order
    np.testing.assert_allclose(out, np.array(list(expected.values())), atol=1e-12)


def test_voxel_downsample_hand_case_and_dtype():
    pts = np.array(
        [[0.05, 0.05, 0.0], [0.15, 0.05, 0.0], [0.06, 0.04, 0.0], [-0.05, 0.0, 0.0]],
        dtype=np.float32,
    )
    for impl in ("reference", "numba"):
        out = voxel_downsample(pts, 0.1, impl=impl)
        assert out.dtype == np.float32
        np.testing.assert_allclose(
            out, [[0.055, 0.045, 0.0], [0.15, 0.05, 0.0], [-0.05, 0.0, 0.0]], atol=1e-6
        )
        assert voxel_downsample(np.zeros((0, 3), np.float32), 0.1, impl=impl).shape == (0, 3)


def test_voxel_downsample_agrees_with_open3d_as_a_set():
    o3d = pytest.importorskip("open3d")
    rng = np.random.default_rng(1)
    # open3d anchors its grid at (min bound - voxel / 2), ours at 0: put the min bound at
    # half a voxel so the two grids coincide
    points = rng.uniform(0.25, 4.0, (3000, 3))
    points[0] = [0.25, 0.25, 0.25]
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    theirs = np.asarray(cloud.voxel_down_sample(0.5).points)
    ours = voxel_downsample(points, 0.5)
    assert len(ours) == len(theirs)
    np.testing.assert_allclose(ours[np.lexsort(ours.T)], theirs[np.lexsort(theirs.T)], atol=1e-9)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_voxel_size_must_be_positive(bad):
    with pytest.raises(ValueError, match="voxel_size_m"):
        voxel_downsample(np.zeros((3, 3)), bad)


@pytest.mark.parametrize("impl", ["reference", "numba"])
def test_voxel_inverse_maps_points_to_their_centroid_rows(impl):
    rng = np.random.default_rng(5)
    points = rng.uniform(-2, 2, (500, 3))
    centroids, inverse = voxel_downsample(points, 0.5, impl=impl, return_inverse=True)
    assert inverse.shape == (500,) and inverse.dtype == np.int64
    for row in range(len(centroids)):
        np.testing.assert_allclose(points[inverse == row].mean(axis=0), centroids[row], atol=1e-12)
    empty, inv = voxel_downsample(np.zeros((0, 3)), 0.5, impl=impl, return_inverse=True)
    assert empty.shape == (0, 3) and inv.shape == (0,)


def test_voxel_inverse_torch_matches_numpy():
    torch = pytest.importorskip("torch")
    points = np.random.default_rng(6).uniform(-2, 2, (300, 3))
    _, inverse = voxel_downsample(points, 0.5, return_inverse=True)
    _, inverse_t = voxel_downsample(torch.from_numpy(points), 0.5, return_inverse=True)
    np.testing.assert_array_equal(inverse_t.numpy(), inverse)
