"""Collision, camera, voxel and points-in-boxes numerics found by review. Each case failed
before the fix (the old answer in a comment)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.kernels import (
    box_corners,
    boxes_overlap_bev,
    boxes_overlap_bev_pairs,
    points_in_boxes,
    points_in_frustum,
    project_boxes_to_image,
    project_points,
    voxel_downsample,
)
from tests.kernels._helpers import shapely_polygons

# ---- boxes_overlap_bev at map coordinates -------------------------------------------------


def _overlap_routes(a: np.ndarray, b: np.ndarray) -> dict[str, bool]:
    """The answer of every boxes_overlap_bev path for one pair ``a, b (1, 7)``."""
    many_a, many_b = np.repeat(a, 9, axis=0), np.repeat(b, 9, axis=0)  # > SMALL_PAIRS
    return {
        "small": bool(boxes_overlap_bev(a, b)[0, 0]),
        "generic": bool(boxes_overlap_bev(many_a, many_b)[0, 0]),
        "pairs": bool(boxes_overlap_bev_pairs(a, b)[0]),
        "torch": bool(boxes_overlap_bev(torch.from_numpy(a), torch.from_numpy(b))[0, 0]),
    }


@pytest.mark.parametrize(
    ("origin", "gap_m"),
    [((1e5, 1e5), 1.0), ((1e5, 1e5), 0.5), ((1e5, 1e5), 0.125), ((5e5, 4.2e6), 5.0)],
)
def test_float32_separated_boxes_at_map_scale_do_not_touch(origin, gap_m):
    # 4 m boxes side by side along x: float32 read gaps of 0.1-1 m at 1e5 m, and 5 m at
    # UTM coordinates, as touching (the slack scaled with the absolute position)
    x, y = origin
    a = np.array([[x, y, 0.0, 4.0, 2.0, 1.0, 0.0]], np.float32)
    b = np.array([[x + 4.0 + gap_m, y, 0.0, 4.0, 2.0, 1.0, 0.0]], np.float32)
    assert not any(_overlap_routes(a, b).values())
    touching = b.copy()
    touching[0, 0] = x + 4.0
    assert all(_overlap_routes(a, touching).values())


@settings(max_examples=60, deadline=None)
@given(
    origin=st.sampled_from([(0.0, 0.0), (1e5, -1e5), (5e5, 4.2e6)]),
    grid=st.tuples(*[st.integers(-64, 64)] * 2),
    sizes=st.tuples(*[st.integers(1, 32)] * 4),
    yaw=st.sampled_from([0.0, 0.3, -2.0]),
    turn=st.sampled_from([0.0, 0.5 * math.pi, 0.7]),
)
def test_float32_overlap_matches_shapely_at_any_origin(origin, grid, sizes, yaw, turn):
    # sizes on a 1/8 m grid and positions on the coarser of that and the float32 spacing at
    # the origin (0.5 m at 4.2e6 m): exact in float32, so the answer must be shapely's on the
    # exact boxes unless they are within 1 mm of touching
    ox, oy = origin
    step = max(0.125, float(np.spacing(np.float32(max(abs(ox), abs(oy))))))
    la, wa, lb, wb = (v / 8.0 for v in sizes)
    a = np.array([[ox, oy, 0.0, la, wa, 1.0, yaw]])
    b = np.array([[ox + grid[0] * step, oy + grid[1] * step, 0.0, lb, wb, 1.0, yaw + turn]])
    assert np.array_equal(b.astype(np.float32).astype(np.float64)[:, :6], b[:, :6])
    local_a, local_b = a.copy(), b.copy()
    local_a[:, :2] -= (ox, oy)
    local_b[:, :2] -= (ox, oy)
    pa, pb = shapely_polygons(local_a)[0], shapely_polygons(local_b)[0]
    distance = pa.distance(pb)
    if (distance == 0.0 and pa.intersection(pb).area < 1e-3) or 0.0 < distance < 1e-3:
        return  # within rounding of touching: either answer is right
    want = distance == 0.0
    got = _overlap_routes(a.astype(np.float32), b.astype(np.float32))
    assert got == dict.fromkeys(got, want)


# ---- camera --------------------------------------------------------------------------------

K_CAM = np.array([[1266.4, 0.0, 816.3], [0.0, 1266.4, 491.5], [0.0, 0.0, 1.0]])
W_PX, H_PX = 1632, 983
BARREL = np.array([-0.35, 0.12, 1e-3, -5e-4, -0.02])  # r * radial(r^2) turns at r ~1.55


def test_frustum_refuses_points_that_distortion_folds_back_into_the_image():
    # x/z = 2 (63 deg off axis): pinhole u = 3349 px, the polynomial folds it to u = 1417
    far = np.array([[20.0, 0.0, 10.0]])
    assert 0 <= project_points(far, K_CAM, BARREL)[0][0, 0] < W_PX  # the fold itself
    assert points_in_frustum(far, K_CAM, W_PX, H_PX, BARREL).tolist() == [False]
    # still seen: points inside the monotonic range that land in the image
    near = np.array([[5.0, 0.0, 10.0], [-5.0, -3.0, 10.0], [0.0, 0.0, 3.0]])
    assert points_in_frustum(near, K_CAM, W_PX, H_PX, BARREL).tolist() == [True] * 3
    torch_far = torch.from_numpy(np.vstack([far, near]))
    got = points_in_frustum(
        torch_far, torch.from_numpy(K_CAM), W_PX, H_PX, torch.from_numpy(BARREL)
    )
    assert got.tolist() == [False, True, True, True]


def test_frustum_with_distortion_matches_opencv_inside_the_monotonic_range():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(4)
    pts = np.c_[rng.uniform(-12, 12, (3000, 2)), rng.uniform(0.5, 30, 3000)]
    uv_cv, _ = cv2.projectPoints(pts, np.zeros(3), np.zeros(3), K_CAM, BARREL)
    uv_cv = uv_cv[:, 0]
    r = np.hypot(pts[:, 0], pts[:, 1]) / pts[:, 2]
    in_image = (uv_cv[:, 0] >= 0) & (uv_cv[:, 0] < W_PX) & (uv_cv[:, 1] >= 0)
    in_image &= uv_cv[:, 1] < H_PX
    got = points_in_frustum(pts, K_CAM, W_PX, H_PX, BARREL)
    # r < 1.5: before the turn (OpenCV's pixel decides); r > 1.6: past it (refused)
    assert np.array_equal(got[r < 1.5], in_image[r < 1.5])
    assert not got[r > 1.6].any()
    assert in_image[r > 1.6].any()  # the fold OpenCV reports: the case being refused


def test_project_box_beyond_the_fold_reaches_the_image_border():
    # a box from 0.5 to 2.5 x/z at 10 m depth: its far corners fold back to u ~1400 px;
    # projected at the range's edge instead, it spans to the right border
    box = np.array([[15.0, 0.0, 10.0, 20.0, 2.0, 1.0, 0.0]])  # camera frame: x right, z fwd
    xyxy, visible = project_boxes_to_image(box, np.eye(4), K_CAM, W_PX, H_PX, BARREL)
    assert visible.tolist() == [True]
    assert xyxy[0, 2] == W_PX
    near_face = np.array([[5.0, y, z] for y in (-1.0, 1.0) for z in (9.5, 10.5)])
    u_left = project_points(near_face, K_CAM, BARREL)[0][:, 0].min()
    assert xyxy[0, 0] == pytest.approx(u_left, abs=1e-9)  # the near face, undisturbed


def test_distortion_must_share_the_points_library_and_dtype():
    pts = np.ones((2, 3))
    with pytest.raises(TypeError, match="mix numpy and torch"):
        project_points(pts, np.eye(3), torch.full((5,), 0.1, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"points_cam: float64, distortion: float32"):
        project_points(pts, np.eye(3), np.full(5, 0.1, np.float32))  # was accepted
    with pytest.raises(ValueError, match=r"boxes: float64, distortion: float32"):
        project_boxes_to_image(
            np.array([[0, 0, 10, 4, 2, 1, 0.0]]), np.eye(4), K_CAM, 10, 10, np.zeros(5, np.float32)
        )


def test_project_boxes_checks_its_own_arguments_by_name():
    box = np.array([[0, 0, 10, 4, 2, 1, 0.0]])
    k = np.array([[100, 0, 50], [0, 100, 50], [0, 0, 1.0]])
    # named points_cam before (the inner call's argument)
    with pytest.raises(ValueError, match=r"boxes: float64, intrinsics: float32"):
        project_boxes_to_image(box, np.eye(4), k.astype(np.float32), 100, 100)
    with pytest.raises(ValueError, match=r"boxes: float32, camera_from_boxes: float64"):
        project_boxes_to_image(box.astype(np.float32), np.eye(4), k.astype(np.float32), 100, 100)
    # a scaling matrix was accepted (2x the box)
    with pytest.raises(ValueError, match=r"camera_from_boxes is not a rigid transform"):
        project_boxes_to_image(box, np.diag([2.0, 2, 2, 1]), k, 100, 100)
    with pytest.raises(ValueError, match=r"camera_from_boxes must have last row \[0, 0, 0, 1\]"):
        project_boxes_to_image(box, np.array(np.eye(4)[[0, 1, 2, 2]]), k, 100, 100)
    with pytest.raises(TypeError, match="mix numpy and torch"):
        project_boxes_to_image(box, torch.eye(4, dtype=torch.float64), k, 100, 100)


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        ([[100, 0, 50], [5, 100, 50], [0, 0, 1.0]], r"K\[1, 0\]=5\.0"),
        ([[100, 0, 50], [0, 100, 50], [3, 3, 3.0]], r"bottom row \[3\.0, 3\.0, 3\.0\]"),
        ([[100, 0, 50], [0, 100, 50], [0, 0, 2.0]], r"bottom row \[0\.0, 0\.0, 2\.0\]"),
    ],
)
def test_intrinsics_must_be_a_pinhole_matrix(bad, what):
    pts = np.ones((1, 3))
    for call in (
        lambda: project_points(pts, np.array(bad)),
        lambda: points_in_frustum(pts, np.array(bad), 10, 10),
        lambda: project_boxes_to_image(
            np.array([[0, 0, 10, 4, 2, 1, 0.0]]), np.eye(4), np.array(bad), 10, 10
        ),
    ):
        with pytest.raises(ValueError, match=r"^intrinsics must be \[\[fx, skew, cx\].*" + what):
            call()


def test_skew_is_supported():
    k = np.array([[100, 7, 50], [0, 100, 25], [0, 0, 1.0]])
    uv, _ = project_points(np.array([[1.0, 0.5, 10.0]]), k)
    np.testing.assert_allclose(uv[0], [100 * 0.1 + 7 * 0.05 + 50, 100 * 0.05 + 25])


@pytest.mark.parametrize("width", [-10, 0, 10.5, float("inf"), float("nan"), True, "640"])
def test_image_size_must_be_a_positive_integer(width):
    pts = np.ones((1, 3))
    with pytest.raises(ValueError, match=r"^width_px must be a positive integer"):
        points_in_frustum(pts, K_CAM, width, 10)
    with pytest.raises(ValueError, match=r"^height_px must be a positive integer"):
        project_boxes_to_image(np.array([[0, 0, 10, 4, 2, 1, 0.0]]), np.eye(4), K_CAM, 10, width)
    assert points_in_frustum(pts, K_CAM, np.int64(640), 480.0).shape == (1,)


# ---- voxel centroids at UTM coordinates ---------------------------------------------------


def test_reference_voxel_centroids_keep_precision_at_utm_coordinates():
    # a running sum over 3e4 points at 4.2e6 m left ~1e-5 m in single-point voxels
    rng = np.random.default_rng(6)
    pts = rng.uniform(-50, 50, (30000, 3)) + np.array([5e5, 4.2e6, 30.0])
    for impl in ("reference", "numba"):
        cent, inv = voxel_downsample(pts, 0.05, impl=impl, return_inverse=True)
        alone = np.flatnonzero(np.bincount(inv)[inv] == 1)
        assert alone.size > 1000
        np.testing.assert_array_equal(cent[inv[alone]], pts[alone])
        # every centroid within rounding of its voxel's exact mean
        sums = np.zeros_like(cent)
        np.add.at(sums, inv, pts - pts[0])
        mean = sums / np.bincount(inv)[:, None] + pts[0]
        assert np.abs(cent - mean).max() < 1e-8
    cent_t = voxel_downsample(torch.from_numpy(pts), 0.05)
    np.testing.assert_allclose(cent_t.numpy(), voxel_downsample(pts, 0.05), rtol=0, atol=1e-9)


# ---- points_in_boxes: closed faces within rounding ----------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    centre=st.tuples(*[st.floats(-3.0, 3.0)] * 3),
    size=st.tuples(*[st.floats(0.5, 6.0)] * 3),
    yaw=st.one_of(
        st.sampled_from([0.5 * math.pi, math.pi, -0.5 * math.pi, 100.0]),
        st.floats(-7.0, 7.0),
    ),
)
def test_a_boxs_own_corners_test_inside_on_every_route(dtype, centre, size, yaw):
    # float32 yaw pi/2 put half the corners ~1e-7 m outside before
    box = np.array([[*centre, *size, yaw]], dtype)
    corners = box_corners(box)[0]
    for impl in ("reference", "numba"):
        assert points_in_boxes(corners, box, impl=impl).all(), impl
    assert points_in_boxes(torch.from_numpy(corners), torch.from_numpy(box)).all()
    # and a millimetre beyond each corner (outward along the diagonal) is outside
    out = corners + 1e-3 * np.sign(corners - box[0, :3])
    assert not points_in_boxes(out.astype(dtype), box).any()
