"""Rotated-box polygon, overlap and IoU rules a mutation review found unguarded.

Pinned from a mutation review of ``kernels/_polygon.py``, ``kernels/overlap.py`` and
``kernels/iou.py``: each test fails under a small change of the rule it names (a threshold
scaled differently, a guard dropped, a message's fields swapped) that the other kernel tests
let pass. Expected values are worked out by hand from the docstrings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from drivestack.kernels import (
    box_giou_3d,
    box_giou_bev,
    box_iou_3d,
    box_iou_bev,
    boxes_overlap_bev,
    boxes_overlap_bev_pairs,
)
from drivestack.kernels._polygon import bev_intersection_area, hull_area
from tests.kernels._helpers import shapely_iou_bev

IMPLS = ("numba", "reference")


def _box(x=0.0, y=0.0, z=0.0, length=1.0, width=1.0, height=1.0, yaw=0.0) -> np.ndarray:
    return np.array([[x, y, z, length, width, height, yaw]])


# ---- boxes_overlap_bev_pairs: the count check names both counts ---------------------------


def test_pairs_with_different_counts_are_refused_naming_both_counts() -> None:
    """``boxes_overlap_bev_pairs`` pairs ``a[i]`` with ``b[i]``: 2 boxes against 3 is refused
    with both counts in argument order (a's first)."""
    with pytest.raises(
        ValueError, match=r"^a and b must have the same number of boxes, got 2 and 3$"
    ):
        boxes_overlap_bev_pairs(np.zeros((2, 7)), np.zeros((3, 7)))
    with pytest.raises(ValueError, match=r"got 3 and 1$"):
        boxes_overlap_bev_pairs(np.zeros((3, 7)), np.zeros((1, 7)))


# ---- bev_intersection_area: areas within rounding of 0 read 0 -----------------------------


@pytest.mark.parametrize("impl", IMPLS)
def test_a_corner_overlap_below_rounding_of_large_boxes_reads_zero(impl: str) -> None:
    """Areas at most ``tol * scale^2`` read exactly 0, ``scale`` = 1 + the pair's largest size
    or offset. Two 100 m squares whose corners overlap by ``d x d``: scale = 1 + 100 = 101,
    tol = 256 eps = 5.68e-14, threshold 5.8e-10 m^2. d = 1e-5 (1e-10 m^2) reads IoU 0; d = 1e-4
    (1e-8 m^2) is kept: IoU = 1e-8 / (2e4 - 1e-8) = 5e-13. (A threshold of ``tol * scale``,
    5.7e-12 m^2, kept the first.)"""
    a = _box(length=100.0, width=100.0)
    for d, want in ((1e-5, 0.0), (1e-4, 1e-8 / (2e4 - 1e-8))):
        b = _box(x=100.0 - d, y=100.0 - d, length=100.0, width=100.0)
        got = box_iou_bev(a, b, impl=impl)[0, 0]
        if want == 0.0:
            assert got == 0.0
        else:
            assert got == pytest.approx(want, rel=1e-6)


def test_a_nested_box_intersection_is_at_most_its_own_area() -> None:
    """The intersection is clipped to the smaller box's area: a box lying inside a 10 x 10 m
    box (|centre| <= 2 m, half-diagonal <= 2.2 m) intersects it in exactly itself, area
    l * w, never above it by the rounding of Green's sum (which reached ~1e-16 above
    l * w in a quarter of these cases unclipped), in either order."""
    rng = np.random.default_rng(0)
    big = _box(length=10.0, width=10.0, yaw=0.1)
    for _ in range(60):
        length, width = rng.uniform(0.3, 3.0, 2)
        x, y = rng.uniform(-2.0, 2.0, 2)
        small = _box(x, y, 0.0, length, width, 1.0, rng.uniform(-3.0, 3.0))
        for first, second in ((small, big), (big, small)):
            area = bev_intersection_area(np, first, second)[0]
            assert area <= length * width
            assert area == pytest.approx(length * width, rel=1e-12)


# ---- hull_area -------------------------------------------------------------------------------


def test_hull_area_ignores_duplicates_interior_and_edge_points() -> None:
    """The hull of a 2 x 2 square's corners plus a repeated corner, an interior point and two
    points on its edges is the square: area 4 (each corner counted once, the edge points on
    the hull's edges within the segment)."""
    pts = np.array([[[0, 0], [2, 0], [2, 2], [0, 2], [1, 0], [0, 0], [1, 1], [2, 1]]], float)
    assert hull_area(np, pts)[0] == pytest.approx(4.0, abs=1e-12)


def test_hull_area_of_a_square_far_from_the_origin_keeps_its_precision() -> None:
    """The hull is computed about the points' mean: the same 2 x 2 square at 1e6 m still has
    area 4 to 1e-9 (absolute cross products of 1e6 m corners, ~1e12 m^2 each, would cancel
    to an error of ~1e-4 m^2)."""
    pts = np.array([[[0, 0], [2, 0], [2, 2], [0, 2], [1, 1], [0, 0], [2, 0], [0, 2]]], float)
    for offset in (1e6, -3e7):
        assert hull_area(np, pts + offset)[0] == pytest.approx(4.0, abs=1e-9)


def test_hull_area_of_collinear_points_and_of_no_sets_is_zero() -> None:
    """Points on one line have a hull of twice-area within rounding of 0: exactly 0. An empty
    batch ``(0, P, 2)`` gives ``(0,)``."""
    line = np.array([[[0.0, 0.0], [1.0, 1.0], [3.0, 3.0], [2.0, 2.0], [-1.0, -1.0]]])
    assert hull_area(np, line)[0] == 0.0
    assert hull_area(np, np.zeros((0, 8, 2))).shape == (0,)


# ---- boxes_overlap_bev_pairs checks both arguments ----------------------------------------


def test_pairs_check_each_argument_by_name() -> None:
    """``boxes_overlap_bev_pairs`` refuses a bad ``b`` by its name (negative width), and ``a``
    and ``b`` of different dtypes (nothing is cast silently)."""
    good = np.zeros((2, 7))
    bad = np.zeros((2, 7))
    bad[1, 4] = -1.0
    with pytest.raises(ValueError, match=r"^b has negative sizes"):
        boxes_overlap_bev_pairs(good, bad)
    with pytest.raises(ValueError, match=r"^a has negative sizes"):
        boxes_overlap_bev_pairs(bad, good)
    with pytest.raises(ValueError, match=r"share one dtype \(a: float64, b: float32\)"):
        boxes_overlap_bev_pairs(good, good.astype(np.float32))


# ---- clipping: nearly parallel edges share their crossings --------------------------------


@pytest.mark.parametrize("turn", [2e-8, -3e-8, 1e-7])
def test_a_square_turned_just_past_aligned_sin_is_clipped_without_a_gap(turn: float) -> None:
    """A unit square and the same square turned by ``turn`` (just above ``ALIGNED_SIN``, so
    clipped). Each edge cuts a corner triangle with legs (s + c - 1) / (2 s) and
    (s + c - 1) / (2 c), so the intersection is 1 - (s + c - 1)^2 / (2 s c) ~ 1 - |turn| / 2
    (hand formula; s, c = |sin|, cos). B's edges take A's crossings, so both clipped
    boundaries meet at one point: computed independently, crossings of lines 2e-8 rad apart
    move by ~eps / angle ~1e-8 and the gap shows in the area."""
    s, c = abs(np.sin(turn)), np.cos(turn)
    want = 1.0 - (s + c - 1.0) ** 2 / (2.0 * s * c)
    a, b = _box(), _box(yaw=turn)
    for first, second in ((a, b), (b, a)):
        got = bev_intersection_area(np, first, second)[0]
        assert got == pytest.approx(want, abs=1e-12)


# ---- boxes_overlap_bev: the touching slack is 1e-9 (float64) / 1e-5 (float32) of the scale --


@pytest.mark.parametrize(
    ("dtype", "touching_gap_m", "apart_gap_m"),
    [(np.float64, 2e-9, 2e-8), (np.float32, 2e-5, 8e-5)],
)
def test_the_touching_slack_is_relative_to_the_pair_scale(
    dtype: type, touching_gap_m: float, apart_gap_m: float
) -> None:
    """2 x 2 squares side by side along x. The slack is 1e-9 (float64) or 1e-5 (float32) times
    1 + the largest projection from A's centre (3 m + gap): about 4e-9 m and 4e-5 m. A gap
    of half that reads as touching (overlap); a gap of 5x it (2e-8 m, 8e-5 m) does not, on
    the small path, the generic path (> ``SMALL_PAIRS`` pairs) and the pairwise form."""
    a: np.ndarray = np.array([[0.0, 0.0, 0.0, 2.0, 2.0, 1.0, 0.0]], dtype)
    for gap, want in ((touching_gap_m, True), (apart_gap_m, False)):
        b: np.ndarray = np.array([[2.0 + gap, 0.0, 0.0, 2.0, 2.0, 1.0, 0.0]], dtype)
        many_a, many_b = np.repeat(a, 9, axis=0), np.repeat(b, 9, axis=0)
        got = [
            bool(boxes_overlap_bev(a, b)[0, 0]),
            bool(boxes_overlap_bev(many_a, many_b)[0, 0]),
            bool(boxes_overlap_bev_pairs(a, b)[0]),
        ]
        assert got == [want] * 3, gap


# ---- iou: the default route's one-pass check refuses what the checked path refuses ---------


@pytest.mark.parametrize("fn", [box_iou_bev, box_iou_3d, box_giou_bev, box_giou_3d])
@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        (0, np.nan, r"^boxes_b contains NaN or infinite values"),
        (6, np.inf, r"^boxes_b contains NaN or infinite values"),
        (0, 1e200, r"^boxes_b has positions or sizes \(columns 0:6\) beyond"),
        (3, 1e200, r"^boxes_b has positions or sizes \(columns 0:6\) beyond"),
    ],
)
def test_default_route_refuses_bad_boxes_by_name(
    fn: Callable[..., Any], column: int, value: float, match: str
) -> None:
    """``impl="auto"`` on float64 NumPy boxes tests validity in one pass before the compiled
    route: a NaN position or an infinite yaw (every value finite), a position or a size
    (columns 0:6) beyond the magnitude limit (~3.5e101 m) must fall through to the checks
    and be refused naming ``boxes_b``, not computed (NaN or 0 IoUs)."""
    good = _box(length=4.0, width=2.0)
    bad = good.copy()
    bad[0, column] = value
    with pytest.raises(ValueError, match=match):
        fn(good, bad)


# ---- nearly aligned pairs: each box turns half the residual towards the other --------------


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("turn", [5e-9, -5e-9, 0.5 * np.pi + 5e-9, np.pi - 5e-9])
@pytest.mark.parametrize("offset", [(0.5, 100.0), (100.0, 0.5)])
def test_nearly_aligned_long_boxes_far_apart_match_shapely_both_ways(
    impl: str, turn: float, offset: tuple[float, float]
) -> None:
    """Two 1 x 200 m footprints at yaw 0.3, B's centre ``offset`` from A's in A's axes and B
    turned by ``turn`` (within ``ALIGNED_SIN`` of a multiple of 90 degrees; B's length and
    width swap when it is turned by ~90 degrees, so the footprints stay alike). Snapped to
    aligned rectangles, B's centre turns with A's frame by half the residual: the
    intersection about 0.5 x 100 (IoU near 50 / 350 = 1/7) then matches the exact
    (shapely) one to 1e-10 whichever box comes first. Moving B's centre by the wrong half
    turn (or by none) shifts it by ~2.5e-7 m at 100 m and the IoU by ~1.6e-7."""
    turned = abs(np.cos(turn)) < abs(np.sin(turn))
    length_b, width_b = (200.0, 1.0) if turned else (1.0, 200.0)
    yaw = 0.3
    c, s = np.cos(yaw), np.sin(yaw)
    dx, dy = offset
    if offset[0] == 100.0:  # the long side along x
        length_a, width_a = 200.0, 1.0
        length_b, width_b = width_b, length_b
    else:
        length_a, width_a = 1.0, 200.0
    a = _box(length=length_a, width=width_a, yaw=yaw)
    b = _box(c * dx - s * dy, s * dx + c * dy, 0.0, length_b, width_b, 1.0, yaw + turn)
    want = shapely_iou_bev(a, b)[0, 0]
    assert want == pytest.approx(1.0 / 7.0, abs=1e-6)
    assert box_iou_bev(a, b, impl=impl)[0, 0] == pytest.approx(want, abs=1e-10)
    assert box_iou_bev(b, a, impl=impl)[0, 0] == pytest.approx(want, abs=1e-10)
