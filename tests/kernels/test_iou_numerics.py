"""IoU, GIoU and NMS numerics found by review: nearly aligned pairs, touching boxes, float32
thin boxes and map-scale offsets. Each case failed before the fix (values in comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.kernels import box_giou_bev, box_iou_3d, box_iou_bev, nms_bev
from tests.kernels._helpers import shapely_iou_bev

IMPLS = ("numba", "reference")


def _all_routes(fn, a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """``fn(a, b)[0, 0]`` on the compiled route, the NumPy reference and Torch."""
    out = {impl: float(fn(a, b, impl=impl)[0, 0]) for impl in IMPLS}
    out["torch"] = float(fn(torch.from_numpy(a), torch.from_numpy(b))[0, 0])
    return out


def test_nearly_parallel_shared_edge_counted_once_either_way() -> None:
    # A 4 x 2.5 box turned by 9e-10 rad and a 2 x 1 box sharing its left edge: the stretch
    # 1.35e-9 inside was counted twice one way (IoU 0.2) and once the other (0.142857).
    a = np.array([[1.0, 0.0, 0.0, 4.0, 2.5, 1.0, 9e-10]])
    b = np.array([[0.0, 1.0, 0.0, 2.0, 1.0, 1.0, 0.0]])
    exact = 1.5 / (10.0 + 2.0 - 1.5)  # overlap x in [-1, 1], y in [0.5, 1.25]
    for impl in IMPLS:
        assert box_iou_bev(a, b, impl=impl)[0, 0] == pytest.approx(exact, abs=1e-9)
        assert box_iou_bev(b, a, impl=impl)[0, 0] == pytest.approx(exact, abs=1e-9)


finite = st.floats(-10.0, 10.0, allow_nan=False)
size = st.floats(0.2, 8.0, allow_nan=False)
quarter = st.sampled_from([0.0, 0.5 * math.pi, math.pi, -0.5 * math.pi])


@settings(max_examples=300, deadline=None)
@given(
    x=finite,
    y=finite,
    la=size,
    wa=size,
    lb=size,
    wb=size,
    base=st.floats(-math.pi, math.pi, allow_nan=False),
    turn=quarter,
    offset=st.one_of(st.floats(0.0, 1e-6), st.floats(0.0, 3e-9)),
    snap=st.booleans(),
    turn_a=st.booleans(),
)
def test_nearly_aligned_pairs_are_symmetric_and_match_shapely(
    x, y, la, wa, lb, wb, base, turn, offset, snap, turn_a
):
    # yaws within 1e-6 rad of each other (or of +k * 90 deg), the offset on A or on B;
    # ``snap`` puts B's front edge on A's front edge line, the case where each box decided
    # collinearity on its own
    if snap:
        x = 0.5 * (la - lb) if turn == 0.0 else 0.5 * la - 0.5 * (wb if turn != math.pi else lb)
    c, s = math.cos(base), math.sin(base)
    a = np.array([[0.0, 0.0, 0.0, la, wa, 1.0, base + (offset if turn_a else 0.0)]])
    b_yaw = base + turn + (0.0 if turn_a else offset)
    b = np.array([[c * x - s * y, s * x + c * y, 0.0, lb, wb, 1.0, b_yaw]])
    want = shapely_iou_bev(a, b)[0, 0]
    for impl in IMPLS:
        ab = box_iou_bev(a, b, impl=impl)[0, 0]
        ba = box_iou_bev(b, a, impl=impl)[0, 0]
        assert ab == pytest.approx(ba, abs=1e-9)
        assert ab == pytest.approx(want, abs=1e-7)


def test_edge_touching_boxes_have_iou_zero_both_ways() -> None:
    # touching along x = -4 (one turned by pi): IoU 0 one way and 6.9e-18 the other
    boxes = np.array([[-3.0, -4, 0, 2, 2, 1, 0], [-5, -4, 0, 2, 2, 1, np.pi]])
    for impl in IMPLS:
        assert box_iou_bev(boxes[:1], boxes[1:], impl=impl)[0, 0] == 0.0
        assert box_iou_bev(boxes[1:], boxes[:1], impl=impl)[0, 0] == 0.0
        assert box_iou_3d(boxes[1:], boxes[:1], impl=impl)[0, 0] == 0.0


def test_nms_at_threshold_zero_keeps_touching_boxes_on_every_route() -> None:
    # the numba route evaluated the pair (1, 0) and suppressed box 0 on IoU 6.9e-18 > 0
    boxes = np.array([[-3.0, -4, 0, 2, 2, 1, 0], [-5, -4, 0, 2, 2, 1, np.pi]])
    scores = np.array([0.0, 0.9])
    for impl in IMPLS:
        assert nms_bev(boxes, scores, 0.0, impl=impl).tolist() == [1, 0]
    got = nms_bev(torch.from_numpy(boxes), torch.from_numpy(scores), 0.0)
    assert got.tolist() == [1, 0]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(2, 25),
    threshold=st.sampled_from([0.0, 0.1, 0.5]),
)
def test_nms_routes_agree_on_grid_boxes_that_touch(seed, n, threshold):
    # boxes on a 1 m grid with yaws of multiples of 90 deg: many exact edge contacts
    rng = np.random.default_rng(seed)
    boxes = np.zeros((n, 7))
    boxes[:, :2] = rng.integers(-3, 4, (n, 2)).astype(float)
    boxes[:, 3:5] = rng.integers(1, 3, (n, 2)).astype(float)
    boxes[:, 5] = 1.0
    boxes[:, 6] = rng.integers(-2, 3, n) * (0.5 * math.pi)
    scores = rng.uniform(0.0, 1.0, n)
    want = nms_bev(boxes, scores, threshold, impl="reference").tolist()
    assert nms_bev(boxes, scores, threshold, impl="numba").tolist() == want
    assert nms_bev(torch.from_numpy(boxes), torch.from_numpy(scores), threshold).tolist() == want


def test_float32_giou_at_utm_offsets_matches_float64() -> None:
    # absolute float32 hull corners at 4.2e6 m: reference / Torch read 0.459, float64 0.654
    a = np.array([[5e5 + 0.1, 4.2e6 + 0.3, 10, 4.5, 1.9, 1.6, 0.3]], np.float32)
    b = np.array([[5e5 + 0.6, 4.2e6 + 0.5, 10, 4.4, 1.8, 1.5, 0.4]], np.float32)
    want = box_giou_bev(a.astype(np.float64), b.astype(np.float64))[0, 0]
    for route, got in _all_routes(box_giou_bev, a, b).items():
        assert got == pytest.approx(want, abs=1e-6), route
    assert box_giou_bev(a, b, impl="reference").dtype == np.float32


@pytest.mark.parametrize("width_m", [1e-4, 1e-3, 1e-2])
def test_float32_thin_box_against_itself_has_iou_one(width_m: float) -> None:
    # a 20 m x 1 mm float32 box against itself: 0.333 on the reference and Torch
    box = np.array([[0.0, 30.0, 0.0, 20.0, width_m, 1.0, 0.3]], np.float32)
    for route, got in _all_routes(box_iou_bev, box, box).items():
        assert got == pytest.approx(1.0, abs=1e-6), route


def test_giou_of_a_nanometre_box_at_a_thin_boxs_end_agrees_on_every_route() -> None:
    # A 1 m x 1e-9 m box and a 1e-9 m square at its end: the enclosing hull is the thin box
    # (area ~1e-9) and the union about the same, so GIoU ~ 0. The array reference called the
    # square's corners collinear with each other (their triangles' areas are ~1e-18) and
    # counted a third of the hull twice: -1/3 on the reference and Torch, 0 compiled.
    a = np.array([[1.0, 0.0, 0.0, 1.0, 1e-9, 1e-9, 0.0]])
    b = np.array([[0.5, 0.0, 0.0, 1e-9, 1e-9, 1.0, math.pi]])
    for value in _all_routes(box_giou_bev, a, b).values():
        assert value == pytest.approx(0.0, abs=1e-6)


def test_giou_of_nested_quarter_turned_boxes_is_their_iou() -> None:
    # A 2 x 1 box (1 x 2 turned by pi/2) inside a 2 x 2 box whose top is 3e-4 m above it:
    # the hull is the outer box, GIoU = IoU = 0.5. A short hull edge's line, tilted by the
    # corners' rounding, must not take a far corner as strictly inside: a collinearity test
    # on distance alone (the first fix for the case above) read hull 4.00015, GIoU 0.49996.
    a = np.array([[0.5003045952534272, 1.0, 0.5, 1.0, 2.0, 1.0, 0.5 * math.pi]])
    b = np.array([[0.5003045952534272, 0.5003045952534272, 1.0, 2.0, 2.0, 0.5, math.pi]])
    for value in _all_routes(box_giou_bev, a, b).values():
        assert value == pytest.approx(0.5, abs=1e-12)
