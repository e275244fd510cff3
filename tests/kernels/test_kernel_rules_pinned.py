"""Geometric kernel rules that the shapely / property / parity tests cannot tell apart.

Pinned by a mutation review of the NumPy and numba routes (iou, nms, points_in_boxes,
overlap, crop, voxel): each test fails under a small change of the rule it names (a comparison
made strict, a tie-break dropped, a slack widened) that every other kernel test let pass.
Expected values are worked out by hand from the rule in each docstring.
"""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.kernels import (
    box_giou_bev,
    box_iou_bev,
    boxes_overlap_bev,
    boxes_overlap_bev_pairs,
    crop_box,
    crop_range,
    nms_bev,
    points_in_boxes,
    voxel_downsample,
)

IMPLS = ("numba", "reference")


def _box(x=0.0, y=0.0, z=0.0, length=1.0, width=1.0, height=1.0, yaw=0.0) -> np.ndarray:
    return np.array([[x, y, z, length, width, height, yaw]])


# ---- GIoU: the enclosing hull -----------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
def test_giou_hull_of_boxes_stacked_along_y_is_their_bounding_rectangle(impl: str) -> None:
    """Two 2 x 2 squares at y = 0 and y = 3 (a 1 m gap along y, the same x extent): the hull
    of the 8 corners is the rectangle [-1, 1] x [-1, 4], area 2 * 5 = 10; the union is
    4 + 4 = 8 and the IoU 0, so GIoU = 0 - (10 - 8) / 10 = -0.2. Corners sharing an x need
    the hull's sort to break ties by y (sorted by x alone the hull read 6 m^2: GIoU 0)."""
    a, b = _box(length=2.0, width=2.0), _box(y=3.0, length=2.0, width=2.0)
    assert box_giou_bev(a, b, impl=impl)[0, 0] == pytest.approx(-0.2, abs=1e-12)
    assert box_giou_bev(b, a, impl=impl)[0, 0] == pytest.approx(-0.2, abs=1e-12)


# ---- IoU: only pairs within ALIGNED_SIN of aligned are snapped ----------------------------


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("turn", [5e-7, -2e-6])
def test_a_square_turned_by_a_microradian_is_clipped_exactly(impl: str, turn: float) -> None:
    """A unit square and the same square turned by ``turn`` about its centre. Each of the
    turned square's edges cuts one corner triangle off the other square, legs
    (s + c - 1) / (2 s) and (s + c - 1) / (2 c) (s, c = |sin|, cos of the turn), so the
    intersection is 1 - 4 * legs product / 2 = 1 - (s + c - 1)^2 / (2 s c) ~ 1 - |turn| / 2
    and the IoU ~ 1 - |turn|. Turns above ``ALIGNED_SIN`` (1e-8) are clipped, not snapped to
    aligned rectangles (which reads IoU 1, an error of |turn|)."""
    s, c = abs(np.sin(turn)), np.cos(turn)
    inter = 1.0 - (s + c - 1.0) ** 2 / (2.0 * s * c)
    want = inter / (2.0 - inter)
    iou = box_iou_bev(_box(), _box(yaw=turn), impl=impl)[0, 0]
    assert iou == pytest.approx(want, abs=1e-9)
    assert iou < 1.0 - 0.5 * abs(turn)


# ---- NMS: pair order and the strict threshold -------------------------------------------

# Two boxes whose float64 IoU differs in the last bit with the order of evaluation:
# IoU(box 1, box 0) is 4.4e-16 above IoU(box 0, box 1) on the compiled route.
_ASYMMETRIC_PAIR = np.array(
    [
        [-0.8, -0.8, 0.0, 2.3, 1.6, 2.3, 2.8],
        [-0.6, -0.7, 0.0, 2.8, 2.2, 1.6, -2.2],
    ]
)


@pytest.mark.parametrize("impl", IMPLS)
def test_nms_evaluates_each_pair_lower_index_first(impl: str) -> None:
    """``nms_bev``: a box is suppressed when its IoU with a kept box is strictly greater than
    the threshold, every route evaluating the pair with its lower index first. Box 1 ranks
    first; at a threshold equal to IoU(box 0, box 1) box 0 is therefore kept: [1, 0]. Taking
    the pair in rank order (box 1 first) gave an IoU one bit larger and suppressed it."""
    boxes = _ASYMMETRIC_PAIR
    forward = float(box_iou_bev(boxes[:1], boxes[1:], impl=impl)[0, 0])
    backward = float(box_iou_bev(boxes[1:], boxes[:1], impl=impl)[0, 0])
    if backward <= forward:
        pytest.skip("the IoU is symmetric to the bit here: the pair order cannot be observed")
    scores = np.array([0.1, 0.9])
    assert nms_bev(boxes, scores, forward, impl=impl).tolist() == [1, 0]


@pytest.mark.parametrize("impl", IMPLS)
def test_nms_threshold_is_at_most_one(impl: str) -> None:
    """``iou_threshold`` must lie in [0, 1]: 1.0 is accepted and suppresses nothing (an IoU
    is never strictly above 1: two identical boxes are both kept, [0, 1]); 1.5 is refused."""
    boxes = np.repeat(_box(length=2.0), 2, axis=0)
    scores = np.array([0.9, 0.8])
    assert nms_bev(boxes, scores, 1.0, impl=impl).tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"iou_threshold must be in \[0, 1\]"):
        nms_bev(boxes, scores, 1.5, impl=impl)


# ---- points_in_boxes: degenerate boxes are closed too -----------------------------------


@pytest.mark.parametrize("impl", IMPLS)
def test_a_flat_box_contains_the_points_of_its_own_plane(impl: str) -> None:
    """A box of height 0 is the closed rectangle z = 0, |x|, |y| <= 1: a point on it has
    |dz| = 0 <= h / 2 = 0, inside; one 0.1 m above is outside. (A strict comparison, or one
    that skips |dz| >= h / 2, drops every point of a flat box.)"""
    box = _box(length=2.0, width=2.0, height=0.0)
    pts = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 0.0], [0.5, 0.5, 0.1]])
    assert points_in_boxes(pts, box, impl=impl)[:, 0].tolist() == [True, True, False]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(("length", "width"), [(2.0, 0.0), (0.0, 2.0), (0.0, 0.0)])
def test_a_zero_width_or_length_box_contains_its_centre(
    impl: str, length: float, width: float
) -> None:
    """A box with zero width (or length) is a closed segment; its centre lies on it with
    local offsets 0 <= l / 2 and 0 <= w / 2, so it is inside. The faces' rounding slack is
    proportional to the offset from the centre, 0 there: only ``<=`` admits it."""
    box = _box(x=1.0, y=-2.0, z=0.5, length=length, width=width, height=1.0, yaw=0.3)
    pts = np.array([[1.0, -2.0, 0.5], [1.0, -2.0, 1.5]])
    assert points_in_boxes(pts, box, impl=impl)[:, 0].tolist() == [True, False]


# ---- voxel_downsample: voxels whose hashes collide --------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
def test_voxels_sharing_a_hash_slot_stay_apart(impl: str) -> None:
    """Voxel size 0.5: the four points fall in voxels (0, 0, 0), (0, 0, 8), (0, 8, 0) and
    (8, 0, 0) (4.1 / 0.5 = 8.2, floored). Four distinct voxels of one point each: the
    centroids are the points themselves, in input order. (The compiled route's hash table
    has 8 slots for 4 points and every key is a multiple of 8 times an odd constant, so all
    four land in slot 0: telling them apart needs the comparison of all three indices.)"""
    pts = np.array(
        [[0.1, 0.1, 0.1], [0.1, 0.1, 4.1], [0.1, 4.1, 0.1], [4.1, 0.1, 0.1]], dtype=np.float64
    )
    centroids, inverse = voxel_downsample(pts, 0.5, impl=impl, return_inverse=True)
    np.testing.assert_allclose(centroids, pts, rtol=0, atol=1e-12)
    assert inverse.tolist() == [0, 1, 2, 3]


# ---- boxes_overlap_bev: the touching slack is tight -------------------------------------


def _overlap_answers(a: np.ndarray, b: np.ndarray) -> list[bool]:
    """The small-input path, the generic path (> SMALL_PAIRS pairs) and the pairwise form."""
    many_a, many_b = np.repeat(a, 9, axis=0), np.repeat(b, 9, axis=0)
    return [
        bool(boxes_overlap_bev(a, b)[0, 0]),
        bool(boxes_overlap_bev(many_a, many_b)[0, 0]),
        bool(boxes_overlap_bev_pairs(a, b)[0]),
    ]


@pytest.mark.parametrize(
    ("dtype", "gap_m"),
    [(np.float64, 1e-6), (np.float32, 2e-4)],
)
def test_a_small_gap_between_boxes_is_not_contact(dtype: type, gap_m: float) -> None:
    """2 x 2 squares side by side along x, ``gap_m`` apart. The touching slack is 1e-9
    (float64) or 1e-5 (float32) times 1 + the largest projection from A's centre (3 m + gap
    here): 4e-9 m and 4e-5 m, both well below the gaps (1 um, 0.2 mm), so they do not
    overlap; at gap 0 they touch, which counts as overlap."""
    a: np.ndarray = np.array([[0.0, 0.0, 0.0, 2.0, 2.0, 1.0, 0.0]], dtype)
    b: np.ndarray = np.array([[2.0 + gap_m, 0.0, 0.0, 2.0, 2.0, 1.0, 0.0]], dtype)
    assert _overlap_answers(a, b) == [False, False, False]
    touching: np.ndarray = np.array([[2.0, 0.0, 0.0, 2.0, 2.0, 1.0, 0.0]], dtype)
    assert _overlap_answers(a, touching) == [True, True, True]


# ---- crops: inclusive bounds on every axis ----------------------------------------------


def test_crop_box_is_inclusive_at_each_axis_own_upper_bound() -> None:
    """Bounds [0, 1] x [0, 2] x [0, 3]: points exactly on y = 2 or z = 3 are kept (inclusive),
    a point at y = 1.5 is kept (only x is bounded by 1), points 1e-3 beyond y = 2 or z = 3
    are not."""
    pts = np.array(
        [
            [0.5, 2.0, 1.5],
            [0.5, 1.5, 3.0],
            [0.5, 1.5, 1.0],
            [1.0, 2.0, 3.0],
            [0.5, 2.001, 1.5],
            [0.5, 1.5, 3.001],
        ]
    )
    mask = crop_box(pts, [0.0, 0.0, 0.0], [1.0, 2.0, 3.0])
    assert mask.tolist() == [True, True, True, True, False, False]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_crop_box_with_equal_bounds_keeps_the_plane(dtype: type) -> None:
    """``min_xyz_m <= max_xyz_m`` allows a zero-thickness slab: min y = max y = 1 keeps
    exactly the points with y = 1 (1.0 is exact in both dtypes, so nothing is rounded)."""
    pts: np.ndarray = np.array([[0.5, 1.0, 1.0], [0.5, 1.1, 1.0], [0.5, 0.9, 1.0]], dtype)
    assert crop_box(pts, [0.0, 1.0, 0.0], [1.0, 1.0, 3.0]).tolist() == [True, False, False]


def test_crop_range_with_equal_limits_keeps_the_sphere() -> None:
    """``0 <= min_range_m <= max_range_m`` allows min = max = 5: (3, 4, 0) lies at exactly 5
    m (9 + 16 = 25), (3, 4, 1) at sqrt(26) m (planar: 5 m again)."""
    pts = np.array([[3.0, 4.0, 0.0], [3.0, 4.0, 1.0], [0.0, 0.0, 0.0]])
    assert crop_range(pts, 5.0, 5.0).tolist() == [True, False, False]
    assert crop_range(pts, 5.0, 5.0, planar=True).tolist() == [True, True, False]
