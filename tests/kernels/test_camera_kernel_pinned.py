"""Rules of the camera kernels (projection, frustum, unprojection, 2D boxes) pinned.

Each test pins one documented rule with a small hand-built input; the expected value is worked
out from the rule's definition in the docstring or a comment, not read off the code.
"""

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

# fx = fy = 100 px, principal point (50, 25): u = 50 + 100 x/z, v = 25 + 100 y/z
K = np.array([[100.0, 0.0, 50.0], [0.0, 100.0, 25.0], [0.0, 0.0, 1.0]])
# a wider camera for the distortion tests: principal point (100, 100) of a 200 x 200 image
K_WIDE = np.array([[100.0, 0.0, 100.0], [0.0, 100.0, 100.0], [0.0, 0.0, 1.0]])
EYE4 = np.eye(4)


def _dist(**terms: float) -> np.ndarray:
    """An 8-coefficient OpenCV vector ``(k1, k2, p1, p2, k3, k4, k5, k6)`` of ``terms``."""
    names = ("k1", "k2", "p1", "p2", "k3", "k4", "k5", "k6")
    return np.array([terms.get(n, 0.0) for n in names])


# -- argument checks ----------------------------------------------------------------------------


def test_zero_vertical_focal_length_is_refused() -> None:
    """Both focal lengths must be > 0: fy = 0 would put every point on the row v = cy."""
    k = K.copy()
    k[1, 1] = 0.0
    with pytest.raises(ValueError, match="positive focal lengths"):
        project_points(np.array([[0.0, 0.0, 1.0]]), k)


def test_twelve_distortion_coefficients_are_refused() -> None:
    """OpenCV vectors of 0, 4, 5 or 8 coefficients are taken; 12 (the thin-prism model) is
    refused, not cut to 8."""
    with pytest.raises(ValueError, match="0, 4, 5 or 8 coefficients"):
        project_points(np.array([[0.0, 0.0, 1.0]]), K, np.full(12, 0.01))


def test_equal_min_and_max_depth_are_allowed() -> None:
    """``max_depth_m`` must be >= ``min_depth_m``: equal (a single depth) is allowed, and a
    point at exactly that depth on the axis (u = 50, v = 25) is seen."""
    seen = points_in_frustum(
        np.array([[0.0, 0.0, 2.0]]), K, 100, 50, min_depth_m=2.0, max_depth_m=2.0
    )
    assert seen.tolist() == [True]


# -- projection ---------------------------------------------------------------------------------


def test_skew_shears_u_by_skew_times_y() -> None:
    """u = fx x + skew y + cx with x = 1/10, y = 0.5/10: 100 * 0.1 + 10 * 0.05 + 50 = 60.5;
    v = 100 * 0.05 + 25 = 30 (skew does not touch v)."""
    k = K.copy()
    k[0, 1] = 10.0
    uv, _ = project_points(np.array([[1.0, 0.5, 10.0]]), k)
    np.testing.assert_allclose(uv[0], [60.5, 30.0], atol=1e-12)


def test_unproject_removes_skew() -> None:
    """The inverse of the skewed projection above: pixel (60.5, 30) at depth 10 is
    y = (30 - 25) / 100 * 10 = 0.5, x = (60.5 - 50 - 10 * 0.05) / 100 * 10 = 1.0."""
    k = K.copy()
    k[0, 1] = 10.0
    pts = unproject_pixels(np.array([[60.5, 30.0]]), np.array([10.0]), k)
    np.testing.assert_allclose(pts[0], [1.0, 0.5, 10.0], atol=1e-12)


def test_tangential_p2_term_in_x() -> None:
    """OpenCV: x_d = x radial + 2 p1 x y + p2 (r^2 + 2 x^2). With x = 0.1, y = 0, p2 = 0.01:
    x_d = 0.1 + 0.01 * (0.01 + 0.02) = 0.1003, so u = 50 + 100 * 0.1003 = 60.03; y_d = 2 p2 x y
    = 0, v = 25."""
    uv, _ = project_points(np.array([[1.0, 0.0, 10.0]]), K, _dist(p2=0.01))
    np.testing.assert_allclose(uv[0], [60.03, 25.0], atol=1e-9)


def test_tangential_p1_term_in_y() -> None:
    """OpenCV: y_d = y radial + p1 (r^2 + 2 y^2) + 2 p2 x y. With x = 0, y = 0.1, p1 = 0.01:
    y_d = 0.1 + 0.01 * (0.01 + 0.02) = 0.1003, so v = 25 + 10.03 = 35.03; x_d = 2 p1 x y = 0."""
    uv, _ = project_points(np.array([[0.0, 1.0, 10.0]]), K, _dist(p1=0.01))
    np.testing.assert_allclose(uv[0], [50.0, 35.03], atol=1e-9)


def test_rational_k6_term_divides_the_radial_factor() -> None:
    """radial = (1 + ...) / (1 + k4 r^2 + k5 r^4 + k6 r^6). At x = 0.5 (r^2 = 0.25, r^6 =
    1/64) with k6 = 0.5 alone: radial = 1 / (1 + 1/128) = 128/129, x_d = 64/129, so
    u = 50 + 6400/129."""
    uv, _ = project_points(np.array([[5.0, 0.0, 10.0]]), K, _dist(k6=0.5))
    np.testing.assert_allclose(uv[0], [50.0 + 6400.0 / 129.0, 25.0], rtol=1e-12)


def test_point_exactly_at_min_depth_is_in_front() -> None:
    """``in_front`` is z >= ``min_depth_m``: z = 0.5 with ``min_depth_m`` 0.5 is in front."""
    _, in_front = project_points(np.array([[0.0, 0.0, 0.5]]), K, min_depth_m=0.5)
    assert in_front.tolist() == [True]


def test_project_points_default_min_depth_is_1e_minus_6() -> None:
    """``project_points``' default ``min_depth_m`` is 1e-6 m: a point 1e-5 m ahead is in
    front, one 1e-7 m ahead is not."""
    _, in_front = project_points(np.array([[0.0, 0.0, 1e-5], [0.0, 0.0, 1e-7]]), K)
    assert in_front.tolist() == [True, False]


# -- frustum ------------------------------------------------------------------------------------


def test_frustum_pixel_bounds_are_half_open() -> None:
    """Inside the image is 0 <= u < width and 0 <= v < height (100 x 50 here): u = 50 + 100 *
    5/10 = 100 is out, u = 99 is in; v = 25 + 100 * (-2.5/10) = 0 is in, v = 50 is out."""
    pts = np.array(
        [
            [5.0, 0.0, 10.0],  # u = 100
            [4.9, 0.0, 10.0],  # u = 99
            [0.0, -2.5, 10.0],  # v = 0
            [0.0, 2.5, 10.0],  # v = 50
        ]
    )
    assert points_in_frustum(pts, K, 100, 50).tolist() == [False, True, True, False]


def test_frustum_max_depth_is_inclusive() -> None:
    """Depths up to and including ``max_depth_m`` are seen: z = 10 with max 10 is in, 10.5
    is out (both on the axis, u = 50, v = 25)."""
    pts = np.array([[0.0, 0.0, 10.0], [0.0, 0.0, 10.5]])
    assert points_in_frustum(pts, K, 100, 50, max_depth_m=10.0).tolist() == [True, False]


def test_frustum_default_min_depth_is_10_cm() -> None:
    """``points_in_frustum``' default ``min_depth_m`` is 0.1 m: on the axis, z = 0.07 is not
    seen, z = 0.1 is."""
    pts = np.array([[0.0, 0.0, 0.07], [0.0, 0.0, 0.1]])
    assert points_in_frustum(pts, K, 100, 50).tolist() == [False, True]


def test_frustum_drops_points_beyond_the_monotonic_radius() -> None:
    """k2 = -0.2 alone: r radial(r^2) = r - 0.2 r^5 has slope 1 - r^4 = 0 at r = 1, so points
    with r > 1 fold back. r = 1.05 lands at x_d = 1.05 (1 - 0.2 * 1.1025^2) ~ 0.795, u ~ 179.5
    inside the 200 px image, but is dropped; r = 0.9 (x_d ~ 0.782, u ~ 178) is kept. (A
    derivative 1 - 0.6 r^4 would wrongly allow up to r ~ 1.136.)"""
    pts = np.array([[1.05, 0.0, 1.0], [0.9, 0.0, 1.0]])
    seen = points_in_frustum(pts, K_WIDE, 200, 200, _dist(k2=-0.2))
    assert seen.tolist() == [False, True]


def test_frustum_drops_points_past_a_rational_pole() -> None:
    """k4 = -0.5 alone: radial = 1 / (1 - 0.5 r^2), whose denominator is 0 at r = sqrt 2; the
    model holds only inside. A point at r = 3 maps to x_d = 3 / (1 - 4.5) = -6/7, u = 100 -
    600/7 ~ 14.3, inside the image, but lies past the pole: not seen."""
    pts = np.array([[3.0, 0.0, 1.0]])
    uv, _ = project_points(pts, K_WIDE, _dist(k4=-0.5))
    np.testing.assert_allclose(uv[0], [100.0 - 600.0 / 7.0, 100.0], rtol=1e-12)
    assert points_in_frustum(pts, K_WIDE, 200, 200, _dist(k4=-0.5)).tolist() == [False]


# -- 2D boxes of 3D boxes -----------------------------------------------------------------------


def _box(x: float, y: float, z: float, size: float | tuple[float, float, float]) -> np.ndarray:
    """One box ``[x, y, z, l, w, h, 0]`` (yaw 0): with the identity transform its extents are
    x +- l/2, y +- w/2 and (depth) z +- h/2 in the camera frame."""
    l, w, h = (size, size, size) if isinstance(size, float) else size
    return np.array([[x, y, z, l, w, h, 0.0]])


def test_box_face_on_the_near_plane_is_projected_not_cut() -> None:
    """A box whose near face lies exactly on the near plane (z = 0.5 = ``min_depth_m``) is
    not cut (an edge crosses only when its ends lie strictly on both sides). Corners at
    x, y = +-0.5, z in {0.5, 2.5}: x/z and y/z reach +-1, so u in [50 - 100, 50 + 100],
    v in [25 - 100, 25 + 100] unclipped."""
    out, visible = project_boxes_to_image(
        _box(0.0, 0.0, 1.5, (1.0, 1.0, 2.0)), EYE4, K, 100, 50, min_depth_m=0.5, clip=False
    )
    assert visible.tolist() == [True]
    np.testing.assert_allclose(out[0], [-50.0, -75.0, 150.0, 125.0], atol=1e-9)


def test_box_clipped_to_zero_width_is_not_visible() -> None:
    """A box wholly right of the image (x/z >= 19.5/10.5 > 0.5, u > 100) clips to
    lo_x = hi_x = 100: an empty 2D box, so not visible and its row is zeros."""
    out, visible = project_boxes_to_image(_box(20.0, 0.0, 10.0, 1.0), EYE4, K, 100, 50)
    assert visible.tolist() == [False]
    assert out[0].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_box_clip_keeps_u_inside_the_width_not_the_height() -> None:
    """Corners x in [0.9, 1.1], y in [-0.1, 0.1], z in [9.9, 10.1]: u from 50 + 90/10.1 to
    50 + 110/9.9 (~58.9..61.1, beyond the 50 px height but inside the 100 px width, so kept),
    v from 25 - 10/9.9 to 25 + 10/9.9."""
    out, visible = project_boxes_to_image(_box(1.0, 0.0, 10.0, 0.2), EYE4, K, 100, 50)
    assert visible.tolist() == [True]
    expected = [50.0 + 90.0 / 10.1, 25.0 - 10.0 / 9.9, 50.0 + 110.0 / 9.9, 25.0 + 10.0 / 9.9]
    np.testing.assert_allclose(out[0], expected, rtol=1e-12)


def test_box_default_near_plane_is_10_cm() -> None:
    """``project_boxes_to_image``' default ``min_depth_m`` is 0.1 m: a small box at depths
    0.2..0.4 m is visible (its corners x, y = +-0.05 reach u = 50 +- 25, v = 25 +- 25)."""
    out, visible = project_boxes_to_image(_box(0.0, 0.0, 0.3, (0.1, 0.1, 0.2)), EYE4, K, 100, 50)
    assert visible.tolist() == [True]
    np.testing.assert_allclose(out[0], [25.0, 0.0, 75.0, 50.0], atol=1e-9)


def test_box_corner_past_the_monotonic_radius_is_held_at_its_edge() -> None:
    """k2 = -0.2: the model is monotonic up to r = 1 (x_d = 1 - 0.2 = 0.8, u = 100 + 80 = 180
    in ``K_WIDE``). A thin box at x = 3 (r = 3, far past it) on the axis row is projected at
    the range's edge, u = 180, not folded back (r radial = 3 (1 - 0.2 * 81) < 0)."""
    box = _box(3.0, 0.0, 1.0, (1e-9, 1e-9, 1e-9))
    out, _ = project_boxes_to_image(box, EYE4, K_WIDE, 200, 200, _dist(k2=-0.2), clip=False)
    np.testing.assert_allclose(out[0, [0, 2]], [180.0, 180.0], atol=1e-5)
    assert math.isfinite(float(out[0, 1]))
