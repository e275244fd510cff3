"""Camera kernels: hand-computed projections, distortion round trips, frustum, 3D box -> 2D box."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.kernels import (
    points_in_frustum,
    project_boxes_to_image,
    project_points,
    unproject_pixels,
)

K = np.array([[100.0, 0.0, 50.0], [0.0, 100.0, 25.0], [0.0, 0.0, 1.0]])
DIST = np.array([-0.3, 0.1, 0.001, -0.002, -0.02])


def test_pinhole_hand_case():
    uv, in_front = project_points(np.array([[1.0, 0.5, 10.0], [0.0, 0.0, -1.0]]), K)
    np.testing.assert_allclose(uv[0], [60.0, 30.0])
    assert in_front.tolist() == [True, False]


def test_radial_distortion_hand_case():
    # x = 0.1, y = 0: r2 = 0.01, k1 = -0.3 -> x_d = 0.1 * (1 - 0.003) = 0.0997
    uv, _ = project_points(np.array([[1.0, 0.0, 10.0]]), K, np.array([-0.3, 0.0, 0.0, 0.0]))
    np.testing.assert_allclose(uv[0], [50.0 + 100.0 * 0.0997, 25.0])


@pytest.mark.parametrize(
    "distortion", [None, DIST, np.array([0.1, -0.05, 0.0, 0.0, 0.01, 0.05, -0.01, 0.002])]
)
def test_unproject_inverts_project(distortion):
    rng = np.random.default_rng(0)
    pts = np.c_[rng.uniform(-3, 3, (50, 2)), rng.uniform(5, 40, 50)]
    uv, _ = project_points(pts, K, distortion)
    back = unproject_pixels(uv, pts[:, 2], K, distortion)
    np.testing.assert_allclose(back, pts, atol=1e-6)


def test_unproject_converges_far_off_axis_and_refuses_what_no_point_maps_to():
    # 20 fixed-point steps brought a point 1.6 z to the side back at 1.28 z, 2.5 z at 7.6 z,
    # without a word; the model (k1 -0.3, k2 0.1) is monotonic there, so Newton finds them
    d = np.array([-0.3, 0.1, 0.001, -0.001, 0.0])
    pts = np.array([[16.0, 0.5, 10.0], [18.0, 0.5, 10.0], [25.0, 0.5, 10.0], [1.0, 1.0, 10.0]])
    uv, _ = project_points(pts, K, d)
    np.testing.assert_allclose(unproject_pixels(uv, pts[:, 2], K, d), pts, atol=1e-9)
    f32 = np.float32
    back32 = unproject_pixels(uv.astype(f32), pts[:, 2].astype(f32), K.astype(f32), d.astype(f32))
    np.testing.assert_allclose(back32, pts, atol=1e-4)
    # strong barrel distortion folds back at r ~1.55 (points past 57 deg land inside the
    # image): a pixel beyond the fold's radius has no point within the monotonic range
    fold = np.array([-0.35, 0.12, 0.0, 0.0, -0.02])
    beyond = np.array([[50.0 + 100.0 * 1.2, 25.0], [50.0, 25.0]])
    with pytest.raises(
        ValueError,
        match=r"cannot be inverted at 1 pixel\(s\) of uv_px \(first: row 0, \(170\.0, 25\.0\) px\)",
    ):
        unproject_pixels(beyond, np.ones(2), K, fold)


def test_points_in_frustum():
    pts = np.array([[0.0, 0.0, 10.0], [10.0, 0.0, 10.0], [0.0, 0.0, -10.0], [0.0, 0.0, 0.05]])
    assert points_in_frustum(pts, K, 100, 50).tolist() == [True, False, False, False]
    assert points_in_frustum(pts, K, 100, 50, max_depth_m=5.0).tolist() == [
        False,
        False,
        False,
        False,
    ]


def _camera_from_ego() -> np.ndarray:
    """Ego x forward, y left, z up -> camera x right, y down, z forward."""
    m = np.zeros((4, 4))
    m[:3, :3] = [[0, -1, 0], [0, 0, -1], [1, 0, 0]]
    m[3, 3] = 1.0
    return m


def test_box_in_front_projects_to_its_corner_extent():
    box = np.array([[10.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]])  # cube 9..11 m ahead, +-1 m
    xyxy, visible = project_boxes_to_image(box, _camera_from_ego(), K, 100, 50, clip=False)
    # extreme corners: near face at depth 9 m spans +-1 m -> +-100/9 px
    np.testing.assert_allclose(xyxy[0], [50 - 100 / 9, 25 - 100 / 9, 50 + 100 / 9, 25 + 100 / 9])
    assert visible.tolist() == [True]


def test_box_cut_by_near_plane_and_box_behind():
    straddling = np.array([[0.0, 0.0, 0.0, 4.0, 2.0, 2.0, 0.0]])  # from 2 m behind to 2 m ahead
    xyxy, visible = project_boxes_to_image(
        straddling, _camera_from_ego(), K, 100, 50, min_depth_m=1.0, clip=False
    )
    # visible part starts at the near plane (depth 1 m): +-1 m -> +-100 px
    np.testing.assert_allclose(xyxy[0], [-50.0, -75.0, 150.0, 125.0])
    behind = np.array([[-10.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]])
    xyxy, visible = project_boxes_to_image(behind, _camera_from_ego(), K, 100, 50)
    assert visible.tolist() == [False] and xyxy[0].tolist() == [0, 0, 0, 0]
    clipped, visible = project_boxes_to_image(
        straddling, _camera_from_ego(), K, 100, 50, min_depth_m=1.0
    )
    np.testing.assert_allclose(clipped[0], [0.0, 0.0, 100.0, 50.0])


def test_bad_camera_inputs():
    with pytest.raises(ValueError, match="focal lengths"):
        project_points(np.zeros((1, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="coefficients"):
        project_points(np.zeros((1, 3)), K, np.zeros(3))


def test_camera_kernels_torch_match_numpy():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    pts = np.c_[rng.uniform(-3, 3, (40, 2)), rng.uniform(-5, 40, 40)]
    uv, front = project_points(pts, K, DIST)
    uv_t, front_t = project_points(
        torch.from_numpy(pts), torch.from_numpy(K), torch.from_numpy(DIST)
    )
    np.testing.assert_allclose(uv_t.numpy(), uv, atol=1e-9)
    np.testing.assert_array_equal(front_t.numpy(), front)
    boxes = np.c_[
        rng.uniform(-5, 30, (20, 2)),
        rng.uniform(-1, 1, 20),
        rng.uniform(1, 5, (20, 3)),
        rng.uniform(-math.pi, math.pi, 20),
    ]
    xyxy, vis = project_boxes_to_image(boxes, _camera_from_ego(), K, 100, 50)
    xyxy_t, vis_t = project_boxes_to_image(
        torch.from_numpy(boxes), torch.from_numpy(_camera_from_ego()), torch.from_numpy(K), 100, 50
    )
    np.testing.assert_allclose(xyxy_t.numpy(), xyxy, atol=1e-9)
    np.testing.assert_array_equal(vis_t.numpy(), vis)
