"""Rule pins for the compiled (numba) inner kernels of the LiDAR steps.

A mutation review of the kernels of ``ground`` (zone/bin layout, heights, seeds, plane fits,
the near-plane test, the coordinate hash, the bin tests), ``cluster`` (pair link, cell reach),
``box_fit`` (closeness score, yaw search, extents) and the per-cluster rules of ``classify``
(thin and wide-top vetoes) found these rules unguarded: each test fails when one comparison,
term or constant of the rule is changed. Expected values are derived by hand in the docstrings and
comments; inputs are small and hand-built (no data files).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.perception.lidar.box_fit import _closeness, boxes_at_yaw, fit_boxes, fit_yaws
from drivestack.perception.lidar.classify import (
    classify,
    thin_structure_mask,
    top_width,
    wide_top_mask,
)
from drivestack.perception.lidar.cluster import _components
from drivestack.perception.lidar.config import (
    ClusterConfig,
    GroundConfig,
    ThinStructureConfig,
    WideTopConfig,
)
from drivestack.perception.lidar.ground import (
    _bin_index,
    _fit_planes,
    _height_kernel,
    _layout,
    _lowest_mean_kernel,
    _near_plane_kernel,
    coordinate_hash,
    segment_ground_zones,
)
from drivestack.structures.labels import ObjectClass

from ..synthetic import CLASSIFY
from ..test_box_fit_classify import FIT
from ..test_cluster import CFG as CLUSTER

# --------------------------------------------------------------------------------------------
# ground

#: Zone 0: 2 .. 10 m, 2 rings (4 m wide) x 4 sectors (90 degrees), bins 0 .. 7;
#: zone 1: 10 .. 30 m, 4 rings (5 m) x 8 sectors (45 degrees), bins 8 .. 39.
#: Sector s of a zone with S sectors covers angles [-pi + s * 2 pi / S, -pi + (s + 1) * 2 pi / S).
GROUND = GroundConfig(
    method="zones",
    sensor_height_m=2.0,
    max_range_m=30.0,
    zone_min_range_m=(2.0, 10.0),
    zone_rings=(2, 4),
    zone_sectors=(4, 8),
    fit_stride=1,
    num_lowest_points=5,
    seed_height_m=0.5,
    distance_threshold_m=0.25,
    num_iterations=2,
    min_points_per_bin=5,
    min_normal_z=0.9,
    max_flatness_m2=0.01,
    max_elevation_m=0.5,
    ransac_iterations=10,
    ransac_sample_size=100,
    ransac_seed=0,
)


def _bins(points: list[list[float]]) -> list[int]:
    xyz = np.array([[x, y, 0.0] for x, y in points])
    return _bin_index(xyz, _layout(GROUND)).tolist()


def test_bin_index_zone_edges_are_closed_below_and_open_above() -> None:
    """A zone spans ``[min_range, next min_range)``: range exactly 2 m (the inner edge) is in
    zone 0, ring 0; exactly 10 m starts zone 1 (ring 0); exactly 30 m (max range) is outside.

    (2, 0): angle 0 -> sector floor((0 + pi) / 2 pi * 4) = 2 -> bin 0 + 0 * 4 + 2 = 2.
    (10, 0): zone 1, ring 0, sector floor(0.5 * 8) = 4 -> bin 8 + 0 * 8 + 4 = 12.
    (30, 0): r = max_range_m -> -1.
    """
    assert _bins([[2.0, 0.0], [10.0, 0.0], [30.0, 0.0]]) == [2, 12, -1]


def test_height_kernel_uses_the_bin_plane_and_the_fallback_outside() -> None:
    """Height = normal . p + offset of the point's bin plane (bin 0 included), the fallback
    plane for bin -1.

    bin 0: plane z = -2 tilted: normal (0, 0, 1), offset 2 -> (5, 0, -1.25): 0.75.
    bin 1: normal (0.6, 0, 0.8), offset 1 -> (1, 0, -1): 0.6 - 0.8 + 1 = 0.8.
    bin -1: fallback normal (0, 0, 1), offset 1.5 -> (40, 0, -1): 0.5.
    """
    xyz = np.array([[5.0, 0.0, -1.25], [1.0, 0.0, -1.0], [40.0, 0.0, -1.0]])
    normal = np.array([[0.0, 0.0, 1.0], [0.6, 0.0, 0.8]])
    out = _height_kernel(
        xyz, np.array([0, 1, -1]), normal, np.array([2.0, 1.0]), np.array([0.0, 0.0, 1.0]), 1.5
    )
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [0.75, 0.8, 0.5], atol=1e-6)


def test_lowest_mean_is_the_mean_of_the_k_lowest_of_each_bin() -> None:
    """k = 2: bin 0 holds z 5, 1, 3 -> lowest two 1, 3 -> 2.0; bin 1 holds 4, 2 -> 3.0;
    bin 2 is empty -> 0."""
    z = np.array([5.0, 1.0, 4.0, 3.0, 2.0])
    bins = np.array([0, 0, 1, 0, 1])
    np.testing.assert_allclose(_lowest_mean_kernel(z, bins, 3, 2), [2.0, 3.0, 0.0])


def test_near_plane_is_strictly_below_the_threshold_and_includes_points_below_the_plane() -> None:
    """Bin 0: plane z = -2 (normal (0, 0, 1), offset 2), threshold 0.25: z -1.75 lies exactly
    0.25 above (not "below 0.25": out), z -1.9 0.1 above (in), z -3 1 m below the plane (in:
    the test is one-sided). Bin 1 has a zero normal (too few points): none of its points."""
    xyz = np.array([[5.0, 0.0, -1.75], [5.0, 0.0, -1.9], [5.0, 0.0, -3.0], [5.0, 0.0, -2.0]])
    normal = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    out = _near_plane_kernel(xyz, np.array([0, 0, 0, 1]), normal, np.array([2.0, 0.0]), 0.25)
    assert out.tolist() == [False, True, True, False]


def test_coordinate_hash_of_bin_zero_is_not_zero() -> None:
    """Only points with ``bins < 0`` (outside the zones) hash to 0; a point in bin 0 is
    hashed (a product of odd multipliers of non-zero millimetres is not 0 here)."""
    xyz = np.array([[2.5, 0.5, -2.0], [2.5, 0.5, -2.0]])
    h = coordinate_hash(xyz, np.array([0, -1]))
    assert h[0] != 0 and h[1] == 0
    assert h[0] == coordinate_hash(xyz[:1])[0]


def test_a_plane_needs_three_points_not_four() -> None:
    """Bins with fewer than 3 points get a zero normal; 3 points fix a plane: (0, 0, 1),
    (1, 0, 1), (0, 1, 1) span z = 1 -> normal (0, 0, 1), offset -1."""
    xyz = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [5.0, 5.0, 0.0]])
    bins = np.array([0, 0, 0, 1])
    count, _, normal, offset, _ = _fit_planes(xyz, bins, np.ones(4, bool), 2)
    assert count.tolist() == [3.0, 1.0]
    np.testing.assert_allclose(normal[0], [0.0, 0.0, 1.0], atol=1e-9)
    assert offset[0] == pytest.approx(-1.0)
    assert normal[1].tolist() == [0.0, 0.0, 0.0]


def _patch(z: float, xs: list[float], ys: list[float]) -> np.ndarray:
    """Points on the grid ``xs x ys`` at height ``z`` (all in bin 2: zone 0, ring 0, angles
    0 .. 90 degrees, range 2 .. 6 m, for xs in [3, 5.25] and ys in [0.5, 1.7])."""
    x, y = np.meshgrid(xs, ys, indexing="ij")
    return np.stack([x.ravel(), y.ravel(), np.full(x.size, z)], axis=1)


def test_a_bin_exactly_max_elevation_above_the_inner_ground_is_ground() -> None:
    """The innermost ring is compared with the road plane z = -sensor_height_m = -2. A flat
    patch at z = -1.5 has its mean exactly 0.5 = max_elevation_m above it ("at most": accepted,
    so its points are ground at height 0)."""
    xyz = _patch(-1.5, [3.0, 3.75, 4.5, 5.25], [0.5, 0.9, 1.3, 1.7])
    result = segment_ground_zones(xyz, GROUND)
    assert result.planes.accepted[2]
    assert result.is_ground.all()


def test_a_bin_with_exactly_min_points_per_bin_is_a_candidate() -> None:
    """min_points_per_bin 6 ("at least"): a flat patch of 3 x 2 = 6 points on the road
    (z = -2) is accepted."""
    xyz = _patch(-2.0, [3.0, 4.0, 5.0], [0.5, 1.5])
    result = segment_ground_zones(xyz, dataclasses.replace(GROUND, min_points_per_bin=6))
    assert result.planes.accepted[2]
    assert not result.planes.accepted[[0, 1, 3]].any()


# --------------------------------------------------------------------------------------------
# cluster


def _ids(xyz: list[list[float]], link: list[float], cfg: ClusterConfig = CLUSTER) -> list[int]:
    return _components(np.array(xyz), np.array(link), cfg).tolist()


def test_voxels_exactly_one_link_apart_are_not_linked() -> None:
    """Linked when *closer than* the link distance: 0.5 m apart at link 0.5 -> two
    components (ids: their own indices), 0.49 m apart -> one (id 0, the smallest index)."""
    assert _ids([[10.0, 0.0, 0.0], [10.5, 0.0, 0.0]], [0.5, 0.5]) == [0, 1]
    assert _ids([[10.0, 0.0, 0.0], [10.49, 0.0, 0.0]], [0.5, 0.5]) == [0, 0]


def test_cell_reach_is_the_largest_link_of_the_cell() -> None:
    """Voxel 0 (x 0.1, link 1.2) and voxel 1 (x 0.2, link 0.5) share cell 0; voxel 2 (x 1.15,
    link 1.2) is in cell 2, 1.05 m from voxel 0 (< 1.2: linked). The cell's reach comes from its
    largest link, ceil(1.2 / 0.5) = 3 cells, not from the last voxel's 0.5 (1 cell)."""
    assert _ids([[0.1, 0.0, 0.0], [0.2, 0.0, 0.0], [1.15, 0.0, 0.0]], [1.2, 0.5, 1.2]) == [0, 0, 0]


# --------------------------------------------------------------------------------------------
# box fit


def test_closeness_hand_value() -> None:
    """Yaw 0, d0 0.1: the corners of the 2 x 1 rectangle lie on its edges (d = 0, clipped to
    d0: 1 / 0.1 = 10 each), the centre (1, 0.5) is 0.5 from the nearest edge of either axis
    (1 / 0.5 = 2): 4 * 10 + 2 = 42."""
    xy = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 1.0], [2.0, 1.0], [1.0, 0.5]])
    assert _closeness(xy, 0, 5, 0.0, 0.1) == pytest.approx(42.0)
    # only points lo .. hi count: the corners alone
    assert _closeness(xy, 0, 4, 0.0, 0.1) == pytest.approx(40.0)


def test_fit_yaw_of_three_points_is_searched() -> None:
    """Clusters of 3 points are fitted (only fewer than 3 get 0). A = (0, 0), B = (2, 2),
    C = (1.5, 0.5): A and B are the extremes along the heading at every yaw in [0, 90); C
    lies on an edge (d = 0) for tan(yaw) in [1/3, 3] (18.4 .. 71.6 deg) and scores 1 / d0 while
    its distance to the nearest edge, 0.5 cos - 1.5 sin (below 18.4 deg), is under d0 = 0.05,
    i.e. above 16.6 deg. Coarse headings 0, 3, ..: 15 deg gives d = 0.095 (score 50.6), 18 deg
    is the first maximum 3 / 0.05 = 60 (ties keep it); no fine offset can score more.
    Expected: 18 deg."""
    xy = np.array([[0.0, 0.0], [2.0, 2.0], [1.5, 0.5]])
    assert fit_yaws(xy, np.array([0, 3]), FIT)[0] == pytest.approx(np.deg2rad(18.0))


def _rectangle(yaw_deg: float, length: float = 4.0, width: float = 2.0) -> np.ndarray:
    """``(12, 2)`` points on the outline of a rectangle centred at the origin at ``yaw_deg``:
    corners, edge midpoints and quarter points of the long sides."""
    half_l, half_w = length / 2, width / 2
    local = np.array(
        [
            [-half_l, -half_w],
            [half_l, -half_w],
            [half_l, half_w],
            [-half_l, half_w],
            [0.0, -half_w],
            [0.0, half_w],
            [-half_l, 0.0],
            [half_l, 0.0],
            [-half_l / 2, -half_w],
            [half_l / 2, -half_w],
            [-half_l / 2, half_w],
            [half_l / 2, half_w],
        ]
    )
    c, s = np.cos(np.deg2rad(yaw_deg)), np.sin(np.deg2rad(yaw_deg))
    return local @ np.array([[c, s], [-s, c]])


def test_fit_yaw_is_wrapped_into_zero_to_ninety_degrees() -> None:
    """A rectangle at -1 deg: the coarse search finds 0 deg, the refinement -1 deg (every
    point on an edge), returned modulo 90 deg: 89 deg, not -1."""
    cfg = dataclasses.replace(FIT, closeness_min_distance_m=0.01)
    yaw = fit_yaws(_rectangle(-1.0), np.array([0, 12]), cfg)[0]
    assert yaw == pytest.approx(np.deg2rad(89.0), abs=1e-9)


def _box_points() -> np.ndarray:
    """A 4 x 2 m footprint at yaw 0 centred at (10, 5), z from -1.2 to 0.3."""
    xy = _rectangle(0.0) + np.array([10.0, 5.0])
    z = np.linspace(-1.2, 0.3, len(xy))
    return np.column_stack([xy, z])


def test_a_square_box_keeps_its_heading() -> None:
    """Length and width equal (2 x 2 m at yaw 0): no swap (only a longer second side swaps);
    the yaw stays 0 rather than becoming -pi/2."""
    pts = np.column_stack([_rectangle(0.0, 2.0, 2.0), np.zeros(12)])
    box = boxes_at_yaw(pts, np.array([0, 12]), np.array([0.0]), None, FIT)[0]
    np.testing.assert_allclose(box[3:5], [2.0, 2.0], atol=1e-12)
    assert box[6] == 0.0


def test_box_bottom_is_the_lower_of_ground_and_lowest_point() -> None:
    """Ground -1.0 above the lowest point -1.2: the bottom is -1.2, top 0.3, height 1.5,
    centre z -0.45 (ground -1.5 below it: bottom -1.5, height 1.8, centre -0.6)."""
    pts, bounds = _box_points(), np.array([0, 12])
    box = fit_boxes(pts, bounds, np.array([-1.0]), FIT)[0]
    assert box[5] == pytest.approx(1.5) and box[2] == pytest.approx(-0.45)
    box = fit_boxes(pts, bounds, np.array([-1.5]), FIT)[0]
    assert box[5] == pytest.approx(1.8) and box[2] == pytest.approx(-0.6)


# --------------------------------------------------------------------------------------------
# classify: per-cluster measures


def test_width_exactly_min_width_is_not_thin() -> None:
    """Thin is width *under* min_width_m: two points 0.5 m apart along x in one slice (width
    0.5, the projection on direction 0 is exact) with min_width_m 0.5 -> not thin."""
    xyz = np.array([[10.0, 0.0, 0.0], [10.5, 0.0, 0.05], [10.0, 0.0, 1.0], [10.5, 0.0, 1.0]])
    cfg = ThinStructureConfig(slice_height_m=0.2, min_width_m=0.5)
    assert thin_structure_mask(xyz, np.array([0, 4]), np.array([0]), cfg).tolist() == [False]


def test_top_exactly_min_width_is_wide() -> None:
    """Wide top is "at least" min_width_m: a top row 1.5 m across along x (x 10 .. 11.5, exact
    on direction 0) with min_width_m 1.5 -> wide."""
    xyz = np.array([[10.0, 0.0, 1.0], [11.5, 0.0, 1.0], [10.5, 0.0, 0.0]])
    cfg = WideTopConfig(band_m=0.3, min_width_m=1.5)
    assert wide_top_mask(xyz, np.array([0, 3]), np.array([0]), cfg).tolist() == [True]


def test_classify_vetoes_a_top_exactly_min_width_wide() -> None:
    """classify's own wide-top test is "at least" min_width_m too. A 1.6 x 0.2 x 1.7 box
    straight ahead at (0, 20), yaw 0 (across the line of sight), top row x -0.75 .. 0.75
    (1.5 m, exact) with min_width_m 1.5: vetoed as Pedestrian / Cyclist. Car likelihood:
    width 0.1 under its min 0.3 (0.5 std), height 0.1 over its mean 1.6 (0.667 std):
    exp(-0.5 * (0.25 + 0.444)) = 0.71 >= 0.1 -> CAR (unvetoed, the Cyclist, whose
    [min, mean] holds all three sides, likelihood 1, would win)."""
    cfg = dataclasses.replace(CLASSIFY, wide_top=WideTopConfig(band_m=0.3, min_width_m=1.5))
    xyz = np.array([[-0.75, 20.0, -0.2], [0.75, 20.0, -0.2], [0.0, 20.0, -1.8]])
    box = np.array([[0.0, 20.0, -1.0, 1.6, 0.2, 1.7, 0.0]])
    result = classify(box, np.array([40]), cfg, xyz, np.array([0, 3]))
    assert result.label.tolist() == [int(ObjectClass.CAR)]
    assert result.likelihood[0, 2] == 0.0


def test_a_point_exactly_band_below_the_top_is_in_the_band() -> None:
    """Top 1.0, band 0.5: the point at z 0.5 is exactly band_m below the top and counts
    ("within"): the top width is the 1.0 m between (10, 0) and (10, 1)."""
    xyz = np.array([[10.0, 0.0, 1.0], [10.0, 1.0, 0.5], [10.0, 3.0, 0.0]])
    assert top_width(xyz, np.array([0, 3]), np.array([0]), 0.5)[0] == pytest.approx(1.0)
