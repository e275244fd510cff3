"""Degenerate and out-of-range inputs through every CPU route of the kernels.

Each route (the numba-compiled NumPy route, the NumPy array reference, Torch CPU) must give
the same answer or the same ``ValueError`` naming the argument; never NaN, a leaked numpy
error, an overflowed index or a huge allocation. Known answers where hand-computable.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack import kernels as K
from drivestack.kernels._common import magnitude_limit

torch = pytest.importorskip("torch")

BOX = np.array([[0.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.3]])
KMAT = np.array([[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]])
PAIRWISE = [K.box_iou_bev, K.box_iou_3d, K.box_giou_bev, K.box_giou_3d]


def _routes(fn, *arrays, **kwargs):
    """``fn`` on each CPU route, results as NumPy: numba, reference, torch."""
    out = [
        fn(*arrays, impl="numba", **kwargs),
        fn(*arrays, impl="reference", **kwargs),
        fn(*(torch.from_numpy(np.array(a)) for a in arrays), **kwargs).numpy(),
    ]
    return [np.asarray(o) for o in out]


def _all_routes_raise(fn, *arrays, match):
    for impl in ("numba", "reference"):
        with pytest.raises(ValueError, match=match):
            fn(*arrays, impl=impl)
    with pytest.raises(ValueError, match=match):
        fn(*(torch.from_numpy(np.array(a)) for a in arrays))


@pytest.mark.parametrize("fn", PAIRWISE)
@pytest.mark.parametrize("column", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_boxes_beyond_the_magnitude_limit_are_refused_on_every_route(fn, column, dtype):
    # before: GIoU of a 1e200 m box read NaN on the numba route, and a 1e200 m box's IoU with
    # itself read 0 (its area overflowed to inf)
    huge = BOX.astype(dtype)
    huge[0, column] = 4.0 * magnitude_limit(dtype)
    _all_routes_raise(fn, huge, BOX.astype(dtype), match=r"boxes_a has positions or sizes")
    _all_routes_raise(fn, BOX.astype(dtype), huge, match=r"boxes_b has positions or sizes")


def test_other_box_kernels_share_the_magnitude_limit():
    huge = BOX.copy()
    huge[0, 3] = 1e200
    with pytest.raises(ValueError, match="boxes has positions or sizes"):
        K.nms_bev(huge, np.ones(1), 0.5)
    with pytest.raises(ValueError, match="boxes has positions or sizes"):
        K.box_corners(huge)
    with pytest.raises(ValueError, match="boxes has positions or sizes"):
        K.points_in_boxes(np.zeros((1, 3)), huge)
    with pytest.raises(ValueError, match="a has positions or sizes"):
        K.boxes_overlap_bev(huge, BOX)  # the small-input path
    with pytest.raises(ValueError, match="b has positions or sizes"):
        K.boxes_overlap_bev(np.tile(BOX, (70, 1)), huge)  # the generic path
    with pytest.raises(ValueError, match="a has positions or sizes"):
        K.boxes_overlap_bev_pairs(huge, BOX)


def test_large_boxes_within_the_limit_still_work():
    big = BOX.copy()
    big[0, :6] = [1e6, -1e6, 10.0, 1e4, 5e3, 100.0]
    for fn in (K.box_iou_bev, K.box_iou_3d, K.box_giou_bev, K.box_giou_3d):
        for value in _routes(fn, big, big):
            np.testing.assert_allclose(value, [[1.0]], rtol=1e-9)


@pytest.mark.parametrize("fn", PAIRWISE)
def test_huge_yaw_gives_the_same_iou_on_every_route(fn):
    # before: the reference took cos(yaw_b - yaw_a); for yaw 1e20 the difference loses the
    # relative angle (0.55 vs the compiled route's 0.42)
    a = BOX.copy()
    a[0, 6] = 1e20
    b = BOX.copy()
    b[0, 6] = 0.3
    ref = _routes(fn, a, b)
    for value in ref[1:]:
        np.testing.assert_allclose(value, ref[0], rtol=1e-9, atol=1e-12)


def test_points_in_boxes_with_far_outliers_does_not_build_a_huge_grid():
    # before: the numba route sized its grid by the points' span (1e12 m / 4 m cells):
    # "array is too big" from numpy (at 1e5 m, a 10^9-cell allocation)
    pts = np.array([[0.5, 0.2, 0.0], [1e12, 1e12, 0.0], [-3.0, 0.0, 0.0]])
    out = _routes(K.points_in_boxes, pts, BOX)
    for value in out:
        np.testing.assert_array_equal(value, [[True], [False], [False]])


@pytest.mark.parametrize(
    ("extent_m", "n_items", "floor_m"),
    [((3060.0, 3060.0), 20_000, 0.5), ((7050.0, 7050.0), 200, 4.9), ((1e12, 1e12), 3, 4.0)],
)
def test_one_far_item_does_not_make_a_grid_of_millions_of_cells(
    extent_m: tuple[float, float], n_items: int, floor_m: float
) -> None:
    """A stray return 3 km from a 120 m scan (or one NMS box 7 km off) made the compiled
    points_in_boxes / nms_bev build and scan a 4096 x 4096 grid on every call: 40-90x slower
    than without it, slower than the reference route. The grid now holds about 4 cells an
    item at most."""
    from drivestack.kernels._numba_kernels import grid_cell_m

    cell = grid_cell_m(extent_m[0], extent_m[1], n_items, floor_m)
    cells = (int(extent_m[0] / cell) + 1) * (int(extent_m[1] / cell) + 1)
    assert cells <= 4 * n_items + 64 + 2 * (extent_m[0] / cell) + 1
    assert cell >= floor_m
    # a dense scan keeps its floor: 20k points over 120 m with 0.5 m cells are 240 x 240
    assert grid_cell_m(120.0, 120.0, 20_000, 0.5) == 0.5


def test_points_in_a_box_larger_than_the_grid():
    # before: the compiled route's cell range floor() of 1e30 / cell overflowed int64 and
    # visited no cell (False where the reference says True)
    box = BOX.copy()
    box[0, 3:6] = 1e30
    pts = np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 5.0]])
    for value in _routes(K.points_in_boxes, pts, box):
        np.testing.assert_array_equal(value, [[True], [True]])


def test_voxel_size_that_underflows_or_overflows_the_dtype_is_refused():
    pts = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    # before: ZeroDivisionError from the compiled route (1e-300 is 0 in float32)
    for size in (1e-300, 1e300):
        for impl in ("numba", "reference"):
            with pytest.raises(ValueError, match="voxel_size_m"):
                K.voxel_downsample(pts, size, impl=impl)
        with pytest.raises(ValueError, match="voxel_size_m"):
            K.voxel_downsample(torch.from_numpy(pts), size)


def test_voxel_indices_that_overflow_int64_are_refused():
    # before: floor(p / 1e-30) overflowed int64 and two distinct voxels merged into one
    pts = np.array([[1.0, 2.0, 3.0], [1.5, 2.0, 3.0]])
    for impl in ("numba", "reference"):
        with pytest.raises(ValueError, match="voxel indices would overflow"):
            K.voxel_downsample(pts, 1e-30, impl=impl)
    # a small voxel that fits keeps the two points apart
    assert K.voxel_downsample(pts, 1e-9).shape == (2, 3)


@pytest.mark.parametrize("min_depth", [0.0, -1.0, float("nan"), float("inf")])
def test_camera_min_depth_must_be_positive_and_finite(min_depth):
    # before: min_depth_m=0 divided by z = 0 and gave NaN / inf pixels
    pts = np.array([[1.0, 2.0, 10.0], [0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="min_depth_m"):
        K.project_points(pts, KMAT, min_depth_m=min_depth)
    with pytest.raises(ValueError, match="min_depth_m"):
        K.points_in_frustum(pts, KMAT, 640, 480, min_depth_m=min_depth)
    box = np.array([[0.0, 0.0, 10.0, 2.0, 2.0, 2.0, 0.0]])
    with pytest.raises(ValueError, match="min_depth_m"):
        K.project_boxes_to_image(box, np.eye(4), KMAT, 640, 480, min_depth_m=min_depth)


def test_frustum_max_depth_nan_is_refused():
    with pytest.raises(ValueError, match="max_depth_m"):
        K.points_in_frustum(np.ones((1, 3)), KMAT, 640, 480, max_depth_m=float("nan"))


def test_unproject_with_a_diverging_distortion_names_distortion():
    # before: k4 = -1 makes the radial denominator 0 at some pixels: NaN points, silently
    uv = np.array([[320.0, 240.0], [0.0, 0.0], [1e6, 1e6]])
    dist = np.array([0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="distortion"):
        K.unproject_pixels(uv, np.ones(3), KMAT, dist)
    with pytest.raises(ValueError, match="distortion"):
        K.unproject_pixels(*(torch.from_numpy(a) for a in (uv, np.ones(3), KMAT, dist)))


def test_crop_box_bounds_that_are_not_numbers_name_the_argument():
    with pytest.raises(ValueError, match="min_xyz_m must be 3 numbers"):
        K.crop_box(np.zeros((1, 3)), "abc", [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="max_xyz_m must be 3 numbers"):
        K.crop_box(torch.zeros((1, 3), dtype=torch.float64), [0.0, 0.0, 0.0], [None, 1, 1])


def test_center_distances_refuse_coordinates_that_overflow():
    # before: 1e300 and -1e300 gave an inf distance (NumPy also warned of overflow)
    a, b = np.full((1, 2), 1e300), np.full((1, 2), -1e300)
    with pytest.raises(ValueError, match="a has coordinates beyond"):
        K.center_distances(a, b)
    with pytest.raises(ValueError, match="b has coordinates beyond"):
        K.center_distances(torch.from_numpy(b * 0), torch.from_numpy(b))
    assert K.center_distances(np.zeros((0, 2)), np.zeros((3, 2))).shape == (0, 3)


# --- properties over degenerate geometry, all routes compared -------------------------------

_coord = st.floats(-20.0, 20.0, allow_nan=False)
# sizes exactly 0 (degenerate) or well above the routes' rounding tolerance: sliver boxes
# within a few hundred ulps of 0 width sit in the hull's collinearity band, where the routes
# may differ (GIoU of 1e-12 m wide boxes)
_size = st.one_of(st.just(0.0), st.floats(1e-3, 6.0), st.sampled_from([1e-3, 1.0]))
_yaw = st.one_of(
    st.floats(-7.0, 7.0),
    st.sampled_from([0.0, math.pi / 2, math.pi, -math.pi, 3 * math.pi / 2, 1e6, -1e6]),
)
_box = st.tuples(_coord, _coord, _coord, _size, _size, _size, _yaw)


def _arr(rows, dtype=np.float64):
    return np.asarray(rows, dtype=np.float64).reshape(-1, 7).astype(dtype)


@settings(max_examples=60, deadline=None)
@given(st.lists(_box, max_size=4), st.lists(_box, max_size=4), st.sampled_from(PAIRWISE))
def test_pairwise_routes_agree_and_stay_in_range(rows_a, rows_b, fn):
    # before: GIoU of zero-size boxes read -1 on the compiled route (a rounding-size hull
    # area) and 0 on the reference (collinear corners: no hull)
    a, b = _arr(rows_a), _arr(rows_b)
    values = _routes(fn, a, b)
    for value in values:
        assert value.shape == (len(rows_a), len(rows_b))
        assert np.isfinite(value).all()
        low = -1.0 if fn in (K.box_giou_bev, K.box_giou_3d) else 0.0
        assert (value >= low - 1e-9).all() and (value <= 1.0 + 1e-9).all()
    for value in values[1:]:
        np.testing.assert_allclose(value, values[0], atol=1e-6)


_solid_box = st.tuples(
    _coord, _coord, _coord, st.floats(0.01, 6.0), st.floats(0.01, 6.0), st.floats(0.01, 6.0), _yaw
)


@pytest.mark.parametrize("fn", [K.box_giou_bev, K.box_giou_3d])
def test_giou_of_point_and_segment_boxes_is_the_same_on_every_route(fn):
    # before: the compiled route's hull of these collinear corners had a rounding-size area,
    # so GIoU read -1 there and 0 on the reference (no hull: GIoU = IoU = 0)
    a = _arr([[0.0, 3.8059552790048154e-16, 0.0, 0.0, 0.0, 0.0, 0.0]])
    b = _arr([[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0]])
    for value in _routes(fn, a, b):
        np.testing.assert_array_equal(value, [[0.0, 0.0]])


@settings(max_examples=40, deadline=None)
@given(_solid_box, st.booleans())
def test_iou_of_a_box_with_itself_and_turned_by_pi_is_one(row, turned):
    a = _arr([row])
    b = a.copy()
    if turned:
        b[0, 6] += math.pi
    for fn in PAIRWISE:
        for value in _routes(fn, a, b):
            np.testing.assert_allclose(value, [[1.0]], atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_thin_boxes_keep_iou_at_most_one(dtype):
    # before: z-overlap rounding of a 1e-12 m (float32: 1e-6 m) tall box at z = 1 exceeded
    # its height (3D IoU with itself 1.0002), and a sliver's hull rounded below its area
    # (GIoU 1.00001)
    thin = _arr([[0.0, 0.0, 1.0, 1.0, 1.0, 1e-12 if dtype is np.float64 else 1e-6, 0.3]], dtype)
    sliver = _arr([[0.0, 0.0, 0.0, 0.125, 1e-12, 1.0, 1.0]], np.float64)
    for fn in PAIRWISE:
        for value in _routes(fn, thin, thin):
            assert (value <= 1.0).all(), (fn.__name__, value)
        for value in _routes(fn, sliver, sliver):
            assert (value <= 1.0).all(), (fn.__name__, value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_touching_nested_and_disjoint_boxes(dtype):
    unit = [0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]
    edge = [2.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]  # shares an edge: IoU 0
    corner = [2.0, 2.0, 0.0, 2.0, 2.0, 2.0, math.pi / 2]  # shares a corner: IoU 0
    nested = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0]  # inside: BEV IoU 1/4, 3D 1/8
    far = [50.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]
    a, b = _arr([unit], dtype), _arr([edge, corner, nested, far], dtype)
    for value in _routes(K.box_iou_bev, a, b):
        np.testing.assert_allclose(value, [[0.0, 0.0, 0.25, 0.0]], atol=1e-5)
    for value in _routes(K.box_iou_3d, a, b):
        np.testing.assert_allclose(value, [[0.0, 0.0, 0.125, 0.0]], atol=1e-5)
    for value in _routes(K.box_giou_bev, a, b):
        # enclosing hulls: 8, 4*4 - 2*2 = 12 (L-shaped hull of two corner-touching squares
        # is a hexagon of area 12), the unit box itself, and 52 x 2
        np.testing.assert_allclose(value, [[-0.0, -4.0 / 12.0, 0.25, -(104 - 8) / 104]], atol=1e-5)
    assert K.boxes_overlap_bev(a, b).tolist() == [[True, True, True, False]]


@settings(max_examples=40, deadline=None)
@given(_solid_box, st.integers(2, 5), st.data())
def test_nms_keeps_the_best_of_duplicates_on_every_route(row, copies, data):
    boxes = _arr([row] * copies)
    scores = np.asarray(
        data.draw(st.lists(st.floats(0.0, 1.0), min_size=copies, max_size=copies)), dtype=float
    )
    best = int(np.argsort(-scores, kind="stable")[0])
    for impl in ("numba", "reference"):
        assert K.nms_bev(boxes, scores, 0.5, impl=impl).tolist() == [best]
    kept = K.nms_bev(torch.from_numpy(boxes), torch.from_numpy(scores), 0.5)
    assert kept.tolist() == [best]


@pytest.mark.parametrize(
    "fn",
    [*PAIRWISE, K.boxes_overlap_bev, K.center_distances],
)
def test_empty_on_either_side_gives_an_empty_matrix(fn):
    width = 2 if fn is K.center_distances else 7
    one = np.zeros((1, width))
    if width == 7:
        one[0, 3:6] = 1.0
    for a, b, shape in (
        (np.zeros((0, width)), one, (0, 1)),
        (one, np.zeros((0, width)), (1, 0)),
        (np.zeros((0, width)), np.zeros((0, width)), (0, 0)),
    ):
        assert tuple(fn(a, b).shape) == shape
        assert tuple(fn(torch.from_numpy(a), torch.from_numpy(b)).shape) == shape


@pytest.mark.parametrize("layout", ["fortran", "strided", "readonly"])
def test_memory_layouts_give_the_same_answers(layout):
    rng = np.random.default_rng(3)
    boxes = np.zeros((5, 7))
    boxes[:, :2] = rng.uniform(-3, 3, (5, 2))
    boxes[:, 3:6] = rng.uniform(0.5, 3, (5, 3))
    boxes[:, 6] = rng.uniform(-3, 3, 5)
    if layout == "fortran":
        other = np.asfortranarray(boxes)
    elif layout == "strided":
        wide = np.zeros((5, 14))
        wide[:, ::2] = boxes
        other = wide[:, ::2]
    else:
        other = boxes.copy()
        other.setflags(write=False)
    for fn in PAIRWISE:
        for impl in ("numba", "reference"):
            np.testing.assert_array_equal(fn(other, other, impl=impl), fn(boxes, boxes, impl=impl))
    pts = np.ascontiguousarray(boxes[:, :3])
    np.testing.assert_array_equal(
        K.points_in_boxes(np.asfortranarray(pts), other), K.points_in_boxes(pts, boxes)
    )
    np.testing.assert_array_equal(
        K.nms_bev(other, np.linspace(1, 0, 5), 0.1), K.nms_bev(boxes, np.linspace(1, 0, 5), 0.1)
    )


def test_unproject_depths_of_another_library_or_dtype_are_named():
    """float32 pixels with float64 depths came back float64 without a word, and a torch /
    NumPy mix failed deep in the arithmetic ("unsupported operand type(s) for *")."""
    uv = np.array([[320.0, 240.0]])
    with pytest.raises(ValueError, match="depth_m"):
        K.unproject_pixels(uv.astype(np.float32), np.ones(1), KMAT.astype(np.float32))
    mixed = r"^arguments mix numpy and torch arrays; pass both as one kind$"
    with pytest.raises(TypeError, match=mixed):
        K.unproject_pixels(uv, torch.ones(1, dtype=torch.float64), KMAT)
    with pytest.raises(TypeError, match=mixed):
        K.unproject_pixels(torch.from_numpy(uv), np.ones(1), torch.from_numpy(KMAT))
    points = K.unproject_pixels(
        uv.astype(np.float32), np.ones(1, np.float32), KMAT.astype(np.float32)
    )
    assert points.dtype == np.float32


@pytest.mark.parametrize("as_torch", [False, True])
def test_crop_box_bounds_are_rounded_inwards_to_the_points_dtype(as_torch: bool) -> None:
    """A float64 bound just above 1.0 was cast to float32 1.0 first, keeping a point below
    it; inclusive bounds the dtype holds exactly still include their points."""
    pts = np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0]], dtype=np.float32)
    points = torch.from_numpy(pts) if as_torch else pts
    mask = K.crop_box(points, [1.00000001, -1.0, -1.0], [1.99999999, 1.0, 1.0])
    assert np.asarray(mask).tolist() == [False, False]
    mask = K.crop_box(points, [1.0, -1.0, -1.0], [2.0, 1.0, 1.0])
    assert np.asarray(mask).tolist() == [True, True]
    assert np.asarray(K.crop_box(points, [-np.inf] * 3, [np.inf] * 3)).tolist() == [True, True]
