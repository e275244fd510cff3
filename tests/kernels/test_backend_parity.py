"""Torch (CPU here; CUDA when present) and CuPy backends against the NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack import kernels as K
from tests.kernels._helpers import random_boxes

torch = pytest.importorskip("torch")

SIZES = [(0, 0), (0, 4), (5, 0), (1, 1), (17, 23), (64, 48)]


def _pairs(seed: int, n: int, m: int, dtype):
    rng = np.random.default_rng(seed)
    return random_boxes(rng, n, dtype=dtype), random_boxes(rng, m, dtype=dtype)


def _tol(dtype) -> float:
    return 1e-9 if dtype == np.float64 else 2e-4


def _torch_devices() -> list[str]:
    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


@pytest.mark.parametrize("device", _torch_devices())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("n", "m"), SIZES)
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "fn", [K.box_iou_bev, K.box_iou_3d, K.box_giou_bev, K.box_giou_3d, K.boxes_overlap_bev]
)
def test_pairwise_torch_matches_numpy(fn, seed, n, m, dtype, device):
    a, b = _pairs(seed, n, m, dtype)
    expected = fn(a.astype(np.float64), b.astype(np.float64))
    got = fn(torch.from_numpy(a).to(device), torch.from_numpy(b).to(device))
    assert isinstance(got, torch.Tensor) and got.device.type == device
    if fn is K.boxes_overlap_bev:
        assert got.dtype == torch.bool
        np.testing.assert_array_equal(got.cpu().numpy(), expected)
    else:
        assert got.dtype == torch.from_numpy(a).dtype
        np.testing.assert_allclose(got.cpu().numpy(), expected, atol=_tol(dtype))


@pytest.mark.parametrize("device", _torch_devices())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [0, 1, 50])
def test_point_kernels_torch_match_numpy(seed, n, dtype, device):
    rng = np.random.default_rng(seed)
    points = rng.uniform(-6, 6, (n * 20, 3)).astype(dtype)
    boxes = random_boxes(rng, n // 5, dtype=dtype)
    tp, tb = torch.from_numpy(points).to(device), torch.from_numpy(boxes).to(device)
    np.testing.assert_array_equal(
        K.points_in_boxes(tp, tb).cpu().numpy(), K.points_in_boxes(points, boxes)
    )
    vox_t = K.voxel_downsample(tp, 0.5)
    assert vox_t.dtype == tp.dtype
    np.testing.assert_allclose(
        vox_t.cpu().numpy(), K.voxel_downsample(points, 0.5), atol=_tol(dtype)
    )
    np.testing.assert_array_equal(
        K.crop_range(tp, 1.0, 5.0).cpu().numpy(), K.crop_range(points, 1.0, 5.0)
    )
    np.testing.assert_array_equal(
        K.crop_box(tp, [-1, -2, -3], [4, 5, 6]).cpu().numpy(),
        K.crop_box(points, [-1, -2, -3], [4, 5, 6]),
    )
    np.testing.assert_allclose(
        K.box_corners(tb).cpu().numpy(), K.box_corners(boxes), atol=_tol(dtype)
    )
    m = np.eye(4, dtype=dtype)
    m[:3, 3] = [1, 2, 3]
    np.testing.assert_allclose(
        K.transform_points(tp, torch.from_numpy(m).to(device)).cpu().numpy(),
        K.transform_points(points, m),
        atol=_tol(dtype),
    )
    np.testing.assert_allclose(
        K.center_distances(tp, tp[:7]).cpu().numpy(),
        K.center_distances(points, points[:7]),
        atol=_tol(dtype) * 10,
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [0, 1, 80])
def test_nms_torch_matches_numpy(seed, n):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, n, spread_m=6.0)
    scores = rng.uniform(0, 1, n)
    keep = K.nms_bev(torch.from_numpy(boxes), torch.from_numpy(scores), 0.2)
    assert isinstance(keep, torch.Tensor) and keep.dtype == torch.int64
    assert keep.tolist() == K.nms_bev(boxes, scores, 0.2).tolist()


@pytest.mark.gpu
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("n", "m"), SIZES)
def test_cupy_matches_numpy(seed, dtype, n, m):
    cupy = pytest.importorskip("cupy")
    a, b = _pairs(seed, n, m, dtype)
    for fn in (K.box_iou_bev, K.box_iou_3d, K.box_giou_bev, K.box_giou_3d):
        got = fn(cupy.asarray(a), cupy.asarray(b))
        assert isinstance(got, cupy.ndarray) and got.dtype == a.dtype
        np.testing.assert_allclose(
            got.get(), fn(a.astype(np.float64), b.astype(np.float64)), atol=_tol(dtype)
        )
    rng = np.random.default_rng(seed)
    points = rng.uniform(-6, 6, (n * 20, 3)).astype(dtype)
    np.testing.assert_array_equal(
        K.points_in_boxes(cupy.asarray(points), cupy.asarray(a)).get(), K.points_in_boxes(points, a)
    )
    np.testing.assert_allclose(
        K.voxel_downsample(cupy.asarray(points), 0.5).get(),
        K.voxel_downsample(points, 0.5),
        atol=_tol(dtype),
    )
    scores = rng.uniform(0, 1, n).astype(dtype)
    assert (
        K.nms_bev(cupy.asarray(a), cupy.asarray(scores), 0.2).get().tolist()
        == K.nms_bev(a, scores, 0.2).tolist()
    )
