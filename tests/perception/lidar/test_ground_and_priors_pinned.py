"""Pinned rules of ground segmentation, sweep accumulation, the map priors and the metrics.

Each test pins one rule with a value derived by hand from the rule (see the comments), on a
small hand-built input, so that a plausible slip in the rule (a comparison, a sign, a dropped
term, an off-by-one) makes it fail.
"""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.lidar import load_lidar_detector_config
from drivestack.perception.lidar.accumulate import SweepAccumulator
from drivestack.perception.lidar.cluster import Clusters
from drivestack.perception.lidar.config import (
    AccumulateConfig,
    ClassPrior,
    FarVehicleConfig,
    GroundConfig,
    LaneHeadingConfig,
    LargeVehicleJoinConfig,
    OffroadConfig,
    OverhangConfig,
)
from drivestack.perception.lidar.far_vehicle import candidate_mask, promote_far_vehicles
from drivestack.perception.lidar.ground import (
    GroundPlanes,
    GroundResult,
    PriorGround,
    _bin_index,
    _elevation_test,
    _fit_planes,
    _layout,
    _lowest_mean_kernel,
    _near_plane_kernel,
    segment_ground_ransac,
    segment_ground_zones,
    with_prior,
)
from drivestack.perception.lidar.lane_heading import align_to_lanes
from drivestack.perception.lidar.large_vehicle import (
    footprint_fits,
    join_large_vehicles,
    join_pieces,
)
from drivestack.perception.lidar.map_priors import MapPriors
from drivestack.perception.lidar.metrics import (
    CarTally,
    average_precision,
    check_ground,
    in_image,
    match_bev,
    reference_ground_plane,
    size_errors,
)
from drivestack.perception.lidar.mount import ego_from_stage
from drivestack.perception.lidar.offroad import offroad_mask
from drivestack.perception.lidar.overhang import overhang_mask
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame
from tests.perception.test_far_vehicle import _Strip

from ..synthetic import KITTI_LIDAR_CONFIG

LIDAR = load_lidar_detector_config(KITTI_LIDAR_CONFIG)
GROUND = LIDAR.ground
RANSAC = dataclasses.replace(GROUND, method="ransac")
H = GROUND.sensor_height_m  # 1.73 m


def _one_bin(**changes: object) -> GroundConfig:
    """A ground config whose zones are one ring of one sector from 2 m to 10 m."""
    base = dict(
        zone_min_range_m=(2.0,),
        zone_rings=(1,),
        zone_sectors=(1,),
        max_range_m=10.0,
        fit_stride=1,
        min_spread_m=0.0,
    )
    base.update(changes)
    return dataclasses.replace(GROUND, **base)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class _Level:
    """Ground at world z = ``z_m`` everywhere."""

    z_m: float

    def height_at(self, xy_world_m: np.ndarray) -> np.ndarray:
        return np.full(len(xy_world_m), self.z_m)


# --------------------------------------------------------------------------------------------
# ground.py


def test_prior_ground_label_is_strictly_below_the_threshold() -> None:
    """With a prior surface, a point is ground when its height above the prior is *below*
    ``distance_threshold_m`` (strict, as the fitted planes judge). Level prior at world z 0,
    sensor at the world origin: a point at z = 0.25 with threshold 0.25 (both exact in binary)
    is 0.25 above the prior, not below it: not ground; one at 0.125 is ground."""
    cfg = dataclasses.replace(GROUND, prior_surface="override", distance_threshold_m=0.25)
    prior = PriorGround(_Level(0.0), SE3.identity())
    xyz = np.array([[5.0, 0.0, 0.25], [5.0, 1.0, 0.125]])
    planes = GroundPlanes(
        np.zeros((0, 3)), np.zeros(0), np.zeros(0, bool), np.array([0.0, 0.0, 1.0]), H
    )
    start = GroundResult(np.array([True, False]), np.zeros(2, np.float32), planes)
    out = with_prior(start, xyz, prior, cfg)
    np.testing.assert_allclose(out.height_m, [0.25, 0.125])
    assert out.is_ground.tolist() == [False, True]


def test_zone_inner_edge_is_in_and_outer_edge_is_out() -> None:
    """A point at exactly the first zone's inner range is in its first ring (``r >= edge``);
    one at exactly ``max_range_m`` is outside the zones (``r < max``). One zone 2 m .. 10 m,
    1 ring, 4 sectors from -pi: the point (2, 0) has angle 0, sector int((0 + pi) / 2pi * 4)
    = 2, so bin 2; (10, 0) is -1; (1.999, 0) is -1."""
    layout = _layout(_one_bin(zone_sectors=(4,)))
    xyz = np.array([[2.0, 0.0, 0.0], [10.0, 0.0, 0.0], [1.999, 0.0, 0.0], [9.999, 0.0, 0.0]])
    assert _bin_index(xyz, layout).tolist() == [2, -1, -1, 2]


def test_lowest_mean_is_the_mean_of_exactly_k_lowest() -> None:
    """Seeds start from the mean of the ``k`` lowest z of a bin: z {5, 1, 3, 2} with k = 2
    gives (1 + 2) / 2 = 1.5 (not (1 + 2 + 3) / 3 = 2); a bin with 1 point gives that point;
    an empty bin 0."""
    z = np.array([5.0, 1.0, 3.0, 2.0, 7.0])
    bins = np.array([0, 0, 0, 0, 2], dtype=np.int64)
    out = _lowest_mean_kernel(z, bins, 3, 2)
    np.testing.assert_allclose(out, [1.5, 0.0, 7.0])


def test_near_plane_keeps_points_below_the_plane() -> None:
    """The refit members are the points *below* ``threshold`` above the bin's plane (signed):
    a point 1 m under the plane z = -1.73 (d = -1) stays a member, one 0.1 m above it too, one
    0.3 m above it (threshold 0.2) does not."""
    xyz = np.array([[3.0, 0.0, -H - 1.0], [3.0, 0.0, -H + 0.1], [3.0, 0.0, -H + 0.3]])
    bins = np.zeros(3, dtype=np.int64)
    normal = np.array([[0.0, 0.0, 1.0]])
    offset = np.array([H])
    assert _near_plane_kernel(xyz, bins, normal, offset, 0.2).tolist() == [True, True, False]


def test_fit_planes_needs_three_points() -> None:
    """A plane needs at least 3 points: a bin with 2 member points gets a zero normal (so no
    point of it is near its plane); a bin with 3 points in the plane z = -1.73 gets the
    upright normal (0, 0, 1) and offset 1.73."""
    xyz = np.array([[3.0, 0.0, -H], [4.0, 0.0, -H], [3.0, 0.0, -H], [4.0, 0.0, -H], [3.0, 1.0, -H]])
    bins = np.array([0, 0, 1, 1, 1], dtype=np.int64)
    count, _, normal, offset, _ = _fit_planes(xyz, bins, np.ones(5, bool), 2)
    np.testing.assert_array_equal(count, [2, 3])
    np.testing.assert_array_equal(normal[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(normal[1], [0.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(offset[1], H, atol=1e-12)


def _flat_planes(num: int, z_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``mean``, ``normal``, ``offset`` of ``num`` level bins at heights ``z_m``."""
    mean = np.zeros((num, 3))
    mean[:, 2] = z_m
    normal = np.tile([0.0, 0.0, 1.0], (num, 1))
    return mean, normal, -mean[:, 2]


def test_elevation_test_accepts_a_bin_below_the_inner_ground() -> None:
    """Only a bin raised more than ``max_elevation_m`` (0.4) above the ground carried out is
    refused; a bin lower than it (a dip, the road going down a hill) is accepted. One ring of
    one bin: its mean 1 m under the nominal road (z = -2.73, 1 m *below*) passes; one 0.5 m
    over it (z = -1.23) is refused."""
    cfg = _one_bin()
    layout = _layout(cfg)
    for z, expected in ((-H - 1.0, True), (-H + 0.5, False)):
        mean, normal, offset = _flat_planes(1, np.array([z]))
        accepted, _, ref_offset = _elevation_test(
            layout, cfg, np.array([True]), mean, normal, offset
        )
        assert accepted.tolist() == [expected]
        # refused: the reference plane is the nominal road carried out, offset 1.73
        np.testing.assert_allclose(ref_offset, [-z if expected else H])


def test_elevation_test_compares_with_the_inner_bin_at_the_same_angle() -> None:
    """The inner-ring bin of an outer bin is the one at the outer bin's *centre* angle. Zones
    [2, 4) with 2 sectors and [4, 6) with 3 sectors, one ring each. The outer centres sit at
    fractions 1/6, 1/2, 5/6 of the turn, so their inner bins are floor(2 * f) = 0, 1, 1. Inner
    bin 0 level at -1.73, inner bin 1 level at -1.43 (0.3 above nominal: accepted). The outer
    middle bin at -1.08 is 0.35 over inner bin 1 (accepted), though 0.65 over inner bin 0."""
    cfg = dataclasses.replace(
        _one_bin(),
        zone_min_range_m=(2.0, 4.0),
        zone_rings=(1, 1),
        zone_sectors=(2, 3),
        max_range_m=6.0,
    )
    layout = _layout(cfg)
    candidate = np.array([True, True, False, True, False])
    mean, normal, offset = _flat_planes(5, np.array([-H, -H + 0.3, 0.0, -H + 0.65, 0.0]))
    accepted, _, ref_offset = _elevation_test(layout, cfg, candidate, mean, normal, offset)
    assert accepted.tolist() == [True, True, False, True, False]
    # not-candidate outer bins carry their inner bin's plane: bin 2 <- inner 0, bin 4 <- inner 1
    np.testing.assert_allclose(ref_offset, [H, H - 0.3, H, H - 0.65, H - 0.3])


def test_a_bin_with_exactly_min_points_is_ground() -> None:
    """A bin's plane is a candidate with *at least* ``min_points_per_bin`` points: 10 points
    (= the KITTI config's 10) on a level road at z = -1.5 (0.23 m over the nominal road, within
    ``max_elevation_m``) in the one bin give an accepted bin whose plane is z = -1.5 (offset
    1.5); the fallback plane through the accepted points is upright (normal_z 1 >= 0.9), so it
    is kept: offset 1.5, not the nominal 1.73. A point inside the first ring, 1 m *under* that
    plane (z = -2.5), is judged by the fallback plane: height -1.0, below the 0.2 m threshold,
    so ground (the label is ``height < threshold``, signed)."""
    cfg = _one_bin()
    assert cfg.min_points_per_bin == 10
    xy = np.array([[x, y] for x in (4.0, 5.0, 6.0, 7.0, 8.0) for y in (-1.0, 1.0)])
    xyz = np.concatenate([xy, np.full((10, 1), -1.5)], axis=1)
    xyz = np.concatenate([xyz, [[1.0, 0.0, -2.5]]])
    out = segment_ground_zones(xyz, cfg)
    assert out.planes.accepted.tolist() == [True]
    np.testing.assert_allclose(out.planes.offset_m, [1.5], atol=1e-9)
    np.testing.assert_allclose(out.planes.fallback_normal, [0.0, 0.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(out.planes.fallback_offset_m, 1.5, atol=1e-9)
    np.testing.assert_allclose(out.height_m, [0.0] * 10 + [-1.0], atol=1e-5)
    assert out.is_ground.all()


def _grid(xs: np.ndarray, ys: np.ndarray, z_m: float) -> np.ndarray:
    return np.array([[x, y, z_m] for x in xs for y in ys], dtype=np.float64)


def test_ransac_hypotheses_come_from_the_lower_half() -> None:
    """RANSAC draws its planes from the points below the median height (the road is under the
    sensor): 100 road points at z = -1.73 and a larger level roof of 150 points at z = 0 (the
    median, so the lower half is the road and one point 1.27 m under it). The road plane wins
    though the roof has more inliers: offset 1.73, roof points 1.73 m up (not ground), and the
    point under the road is 1.27 m *below* it, farther than the 0.2 m threshold: not ground
    (the RANSAC label is ``|height| < threshold``)."""
    road = _grid(np.arange(5.0, 15.0), np.arange(-5.0, 5.0), -H)
    roof = _grid(np.arange(20.0, 35.0), np.arange(-5.0, 5.0), 0.0)
    under = np.array([[8.5, 0.5, -3.0]])
    out = segment_ground_ransac(np.concatenate([road, roof, under]), RANSAC)
    np.testing.assert_allclose(out.planes.fallback_normal, [0.0, 0.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(out.planes.fallback_offset_m, H, atol=1e-9)
    np.testing.assert_allclose(out.height_m[:100], 0.0, atol=1e-5)
    np.testing.assert_allclose(out.height_m[100:250], H, atol=1e-5)
    np.testing.assert_allclose(out.height_m[250], -3.0 + H, atol=1e-5)
    assert out.is_ground.tolist() == [True] * 100 + [False] * 151


def test_ransac_winner_is_refined_by_least_squares() -> None:
    """The best hypothesis is refined by a PCA fit to its inliers. A 10 x 10 road grid at
    z = -1.73 +- 0.05 in a checkerboard: the lower half (the -1.78 points) gives the
    hypothesis z = -1.78, whose inliers are all 100 points; their least-squares plane is level
    (the checkerboard cancels every tilt) through their mean -1.73: offset 1.73 (not 1.78),
    heights +-0.05."""
    xyz = _grid(np.arange(4.0, 14.0), np.arange(-4.0, 6.0), -H)
    sign = np.array([(-1.0) ** (i + j) for i in range(10) for j in range(10)])
    xyz[:, 2] += 0.05 * sign
    out = segment_ground_ransac(xyz, RANSAC)
    np.testing.assert_allclose(out.planes.fallback_normal, [0.0, 0.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(out.planes.fallback_offset_m, H, atol=1e-9)
    np.testing.assert_allclose(out.height_m, 0.05 * sign, atol=1e-5)


def test_ransac_with_under_three_points_uses_the_nominal_road_both_ways() -> None:
    """Fewer than 3 points: heights above the nominal road z = -1.73, ground within 0.2 m of
    it on either side: z = -3.0 is 1.27 m below (not ground), z = -1.8 is 0.07 below (ground)."""
    out = segment_ground_ransac(np.array([[5.0, 0.0, -3.0], [6.0, 0.0, -1.8]]), RANSAC)
    np.testing.assert_allclose(out.height_m, [-1.27, -0.07], atol=1e-6)
    assert out.is_ground.tolist() == [False, True]


# --------------------------------------------------------------------------------------------
# accumulate.py


def test_a_sweep_moving_faster_than_70_mps_is_a_jump() -> None:
    """The past is not merged across a pose that moved faster than 70 m/s (252 km/h). At
    10 Hz, 8 m in 0.1 s is 80 m/s: only the newest sweep comes back; 6 m (60 m/s) is motion:
    both sweeps are merged."""
    cfg = AccumulateConfig(num_sweeps=3, max_sweep_age_s=1.0)
    for step_m, merged_points in ((8.0, 1), (6.0, 2)):
        acc = SweepAccumulator(cfg)
        acc.step(PointCloud(np.zeros((1, 3)), "lidar", 0, {}), SE3.identity())
        pose = SE3(np.eye(3), np.array([step_m, 0.0, 0.0]))
        with pytest.warns(UserWarning) if merged_points == 1 else contextlib.nullcontext():
            merged = acc.step(PointCloud(np.zeros((1, 3)), "lidar", 100_000_000, {}), pose)
        assert len(merged) == merged_points


# --------------------------------------------------------------------------------------------
# far_vehicle.py

#: limits: length <= 4.2 + 2 * 0.6 = 5.4, width <= 1.75 + 2 * 0.25 = 2.25, top <= 1.99
CAR_PRIOR = ClassPrior((4.2, 1.75, 1.75), (0.6, 0.25, 0.12), (1.2, 0.2, 1.25), 8, (0, 0, 0, 0, 0))


def test_far_vehicle_candidate_limits_are_inclusive_and_two_sigma() -> None:
    """A sparse far car candidate: range >= ``min_range_m`` (50), length <= mean + 2 std
    (5.4), top >= ``min_top_m`` (0.5). Row 0: exactly 50 m away, top exactly 0.5: in. Row 1:
    5.0 m long (over mean + 1 std = 4.8, under 5.4): in. Row 2: 5.5 m long: out. Row 3:
    49.9 m away: out."""
    cfg = FarVehicleConfig(min_range_m=50.0, min_top_m=0.5)
    boxes = np.array(
        [
            [50.0, 0.0, 0.25, 1.0, 1.0, 0.5, 0.0],
            [60.0, 0.0, 0.5, 5.0, 1.0, 1.0, 0.0],
            [60.0, 0.0, 0.5, 5.5, 1.0, 1.0, 0.0],
            [49.9, 0.0, 0.5, 1.0, 1.0, 1.0, 0.0],
        ]
    )
    label = np.full(4, int(ObjectClass.UNKNOWN))
    assert candidate_mask(boxes, label, CAR_PRIOR, cfg).tolist() == [True, True, False, False]


def test_far_vehicle_exactly_max_offroad_from_the_road_is_promoted() -> None:
    """A far candidate is promoted when its completed centre is *within* ``max_offroad_m``
    (1.0, inclusive) of the drivable area. A box at (60, 0) is completed along the sight (the
    x axis), so its centre stays at y = 0; the road y in [1, 5] is exactly 1.0 m away: Car,
    scored ``cfg.score``. With the road at y in [1.5, 5] (1.5 m away) it stays UNKNOWN."""
    cfg = FarVehicleConfig(min_range_m=50.0)
    boxes = np.array([[60.0, 0.0, 0.5, 1.0, 1.0, 1.0, 0.0]])
    label = np.array([int(ObjectClass.UNKNOWN)])
    for y_min, expected in ((1.0, ObjectClass.CAR), (1.5, ObjectClass.UNKNOWN)):
        priors = MapPriors(SE3.identity(), drivable_area=_Strip(y_min, 5.0))  # type: ignore[arg-type]
        _, out_label, out_score = promote_far_vehicles(
            boxes, label, np.array([0.3]), CAR_PRIOR, priors, cfg
        )
        assert out_label.tolist() == [int(expected)]
        assert out_score.tolist() == [cfg.score if expected == ObjectClass.CAR else 0.3]


# --------------------------------------------------------------------------------------------
# offroad.py


def test_offroad_is_strictly_farther_than_max_distance() -> None:
    """A vehicle is off-road only *farther* than ``max_distance_m`` (1.0) from the drivable
    area: road y in [-2, 2]; centres at y = 3 (1.0 m away) and y = 3.5 (1.5 m away)."""
    priors = MapPriors(SE3.identity(), drivable_area=_Strip(-2.0, 2.0))  # type: ignore[arg-type]
    centres = np.array([[10.0, 3.0, 0.0], [10.0, 3.5, 0.0]])
    cfg = OffroadConfig(max_distance_m=1.0, score_factor=0.5)
    assert offroad_mask(centres, priors, cfg).tolist() == [False, True]


# --------------------------------------------------------------------------------------------
# overhang.py


def test_overhang_footprint_of_a_turned_box() -> None:
    """The footprint test is done in the box's own axes, the prefilter by its half diagonal.
    A 4 x 2 box at the origin turned 45 degrees: the point (1, 1) lies on its length axis
    (along sqrt 2 <= 2, across 0 <= 1): inside; the point at local (1.95, 0.95), world
    (0.707, 2.051) (more than half the length from the centre in y, within the half diagonal
    2.236), is inside too; the point (-1, 1) is 1.41 across (> 1): outside."""
    boxes = np.array([[0.0, 0.0, 0.0, 4.0, 2.0, 1.5, np.pi / 4]])
    c = s = np.sqrt(0.5)
    corner = [1.95 * c - 0.95 * s, 1.95 * s + 0.95 * c]
    cfg = OverhangConfig(band_m=0.5)
    for xy, expected in (([1.0, 1.0], True), (corner, True), ([-1.0, 1.0], False)):
        xyz = np.array([[xy[0], xy[1], 2.0]])
        # height 3.2 is in the band (3.0, 3.5]
        assert overhang_mask(boxes, xyz, np.array([3.2]), 3.0, cfg).tolist() == [expected]


# --------------------------------------------------------------------------------------------
# mount.py


def _pitched(deg: float) -> SE3:
    r = np.deg2rad(deg)
    rot = np.array([[np.cos(r), 0.0, np.sin(r)], [0.0, 1.0, 0.0], [-np.sin(r), 0.0, np.cos(r)]])
    return SE3(rot, np.array([1.0, 0.0, 1.8]))


def test_a_mount_pitched_past_two_degrees_is_levelled() -> None:
    """Mounts tilted up to 2 degrees are worked on in their own frame, more tilted ones in the
    level frame at the mount: a 1.5 degree pitch keeps the sensor's rotation, a 2.5 degree
    pitch gives the level rotation (heading 0: the x axis still points forwards) at the same
    translation."""
    keep = _pitched(1.5)
    assert ego_from_stage(keep) is keep
    level = ego_from_stage(_pitched(2.5))
    np.testing.assert_allclose(level.rotation, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(level.translation, [1.0, 0.0, 1.8])


# --------------------------------------------------------------------------------------------
# lane_heading.py


@dataclasses.dataclass
class _Lanes:
    """Lanes heading ``heading`` (world) everywhere."""

    heading: float

    def heading_rad(self, xy_world_m: np.ndarray, *_: float) -> np.ndarray:
        return np.full(len(xy_world_m), self.heading)


def test_only_boxes_shorter_than_a_car_take_the_lane_heading() -> None:
    """A Car box is partly seen (and led by the lane) only when *shorter* than
    ``car_min_length_m`` (3.9): a 3.9 m box gets no heading (NaN), a 3.8 m one gets the lane's
    pi / 2 (its axes are along the lane modulo 90 degrees, so neither is refitted)."""
    priors = MapPriors(SE3.identity(), lane_headings=_Lanes(np.pi / 2))
    boxes = np.array([[10.0, 0.0, 0.0, 3.9, 1.8, 1.5, 0.0], [20.0, 0.0, 0.0, 3.8, 1.8, 1.5, 0.0]])
    xyz = np.zeros((0, 3))
    out, heading = align_to_lanes(
        xyz,
        np.zeros(3, np.int64),
        None,
        boxes,
        np.array([True, True]),
        priors,
        LaneHeadingConfig(enabled=True),
        LIDAR.box_fit,
    )
    assert np.isnan(heading[0])
    np.testing.assert_allclose(heading[1], np.pi / 2)
    np.testing.assert_array_equal(out, boxes)


# --------------------------------------------------------------------------------------------
# large_vehicle.py

JOIN = LargeVehicleJoinConfig(enabled=True)  # 12.2 m x 2.6 m


def test_footprint_tries_the_last_step_of_the_yaw_range() -> None:
    """The footprint is tried at lane yaw + k * step for k = -n .. n, both ends included:
    a 12 m x 2.5 m rectangle turned 0.2 rad off the lane fits at +0.2 (n = 0.2 / 0.1 = 2); at
    0.1 rad off its width across is 12 sin 0.1 + 2.5 cos 0.1 = 3.69 m > 2.6 m (no fit)."""
    local = np.array([[6.0, 1.25], [6.0, -1.25], [-6.0, 1.25], [-6.0, -1.25]])
    c, s = np.cos(0.2), np.sin(0.2)
    xy = local @ np.array([[c, s], [-s, c]])
    assert footprint_fits(xy, 0.0, 0.2, 0.1, JOIN)
    assert footprint_fits(xy @ np.array([[1.0, 0.0], [0.0, -1.0]]), 0.0, 0.2, 0.1, JOIN)
    assert not footprint_fits(xy, 0.0, 0.1, 0.1, JOIN)


def test_pieces_farther_apart_than_the_length_but_within_the_diagonal_join() -> None:
    """Two pieces of one footprint can be as far apart as its diagonal: pieces at (0, 0) and
    (12, 2.5) are 12.26 m apart (over the 12.2 m length, under the 12.47 m diagonal) and fit
    12.2 x 2.6 along the lane (span 12 x 2.5): one group."""
    pieces = [np.array([[0.0, 0.0]]), np.array([[12.0, 2.5]])]
    group = join_pieces(pieces, np.array([0.0, 0.0]), 0.1, 0.05, JOIN)
    assert group.tolist() == [0, 0]


def test_a_piece_exactly_min_height_tall_is_joined() -> None:
    """A piece is a large vehicle's when it reaches *at least* ``min_height_m`` (2.3) above
    the ground: two on-road clusters along a lane at heading 0, one 2.3 m tall (x 0 .. 3), one
    2.5 m tall (x 5 .. 8), together 8 m x 0 m (within 12.2 x 2.6): one joined cluster."""
    vox = np.array([[x, 0.0, 1.0] for x in (0.0, 1.0, 2.0, 3.0, 5.0, 6.0, 7.0, 8.0)])
    clusters = Clusters(vox, np.array([0, 0, 0, 0, 1, 1, 1, 1], dtype=np.int64), 2)
    height = np.array([1.0, 2.3, 1.0, 1.0, 1.0, 2.5, 1.0, 1.0])
    out = join_large_vehicles(
        clusters,
        height,
        lambda p: np.ones(len(p), dtype=bool),
        lambda p: np.zeros(len(p)),
        0.1,
        0.05,
        JOIN,
    )
    assert out.num_clusters == 1
    assert out.label.tolist() == [0] * 8


# --------------------------------------------------------------------------------------------
# metrics.py


def test_reference_plane_needs_two_boxes_spread_in_both_directions() -> None:
    """Two 6 x 3 boxes at (0, 0) and (10, 10), bottoms at -1.73: the corners spread 2.37 m
    across the diagonal (sqrt of ((4.5 / sqrt 2)^2 + (1.5 / sqrt 2)^2) / 2), over 1.5 m, so
    the plane is pinned: level, offset 1.73. Two 4 x 1.8 boxes in a row along x: the corners
    spread only 0.9 m across (half the width): None."""
    spread = np.array(
        [[0.0, 0.0, -1.0, 6.0, 3.0, 1.46, 0.0], [10.0, 10.0, -1.0, 6.0, 3.0, 1.46, 0.0]]
    )
    plane = reference_ground_plane(spread)
    assert plane is not None
    np.testing.assert_allclose(plane[0], [0.0, 0.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(plane[1], H, atol=1e-9)
    row = np.array([[0.0, 0.0, -1.0, 4.0, 1.8, 1.5, 0.0], [20.0, 0.0, -1.0, 4.0, 1.8, 1.5, 0.0]])
    assert reference_ground_plane(row) is None


def test_ground_check_grows_each_box_side_by_the_margin() -> None:
    """Ground points are judged only outside every box grown by ``box_margin_m`` (0.5) on each
    side. One box 4 m long centred at x = 10 (front face 12, grown 12.5), bottom -1.73: a road
    point at x = 12.4 is in the margin (not counted), one at x = 12.6 is counted."""
    box = np.array([[10.0, 0.0, -H + 0.75, 4.0, 2.0, 1.5, 0.0]])
    xyz = np.array([[12.4, 0.0, -H], [12.6, 0.0, -H]])
    out = check_ground(xyz, np.array([True, True]), box)
    assert (out.near_ground_points, out.near_ground_points_found) == (1, 1)


def test_size_error_axes_swap_only_past_45_degrees() -> None:
    """A detection's length and width are swapped only when its yaw is *more* than 45 degrees
    off the label's: a 4 x 2 detection at exactly pi / 4 against a 4 x 2 label at 0 keeps its
    axes (error 0, 0); at pi / 4 + 0.01 they swap (2 - 4, 4 - 2) = (-2, 2)."""
    gt = np.array([[0.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]] * 2)
    det = gt.copy()
    det[:, 6] = [np.pi / 4, np.pi / 4 + 0.01]
    np.testing.assert_allclose(size_errors(det, gt), [[0.0, 0.0, 0.0], [-2.0, 2.0, 0.0]])


def test_match_at_exactly_the_iou_threshold() -> None:
    """A detection matches at BEV IoU *at least* the threshold: two 4 x 1 boxes 1 m apart
    along their length overlap 3 m^2 of 5 m^2: IoU 0.6, matched at threshold 0.6."""
    det = np.array([[0.0, 0.0, 0.0, 4.0, 1.0, 1.0, 0.0]])
    gt = np.array([[1.0, 0.0, 0.0, 4.0, 1.0, 1.0, 0.0]])
    assert match_bev(det, np.array([1.0]), gt, 0.6).det_to_gt.tolist() == [0]
    assert match_bev(det, np.array([1.0]), gt, 0.61).det_to_gt.tolist() == [-1]


def test_ap40_levels_start_at_one_over_r() -> None:
    """AP40 averages the best precision at the recall levels 1/40 .. 40/40. One true detection
    of 3 labels reaches recall 1/3 at precision 1: the levels k/40 <= 1/3 are k = 1 .. 13, so
    AP = 13 / 40 = 0.325."""
    assert average_precision(np.array([0.9]), np.array([True]), 3) == pytest.approx(13 / 40)


def test_in_image_needs_half_a_metre_of_depth() -> None:
    """A point projects into the image only at least 0.5 m in front of the camera: on the
    optical axis, depth 0.3 m is out, 0.6 m is in (pinhole f = 100, centre (50, 50))."""
    projection = np.array([[100.0, 0.0, 50.0, 0.0], [0.0, 100.0, 50.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    pts = np.array([[0.0, 0.0, 0.3], [0.0, 0.0, 0.6]])
    assert in_image(pts, SE3.identity(), projection, (100, 100)).tolist() == [False, True]


def test_car_label_at_exactly_the_range_counts() -> None:
    """Car labels *within* ``max_range_m`` (40, planar, inclusive) count for recall: a label at
    (40, 0) counts, one at (40.1, 0) does not."""
    tally = CarTally()
    cars = np.array([[40.0, 0.0, 0.0, 4.0, 1.8, 1.5, 0.0], [40.1, 5.0, 0.0, 4.0, 1.8, 1.5, 0.0]])
    tally.add(np.zeros((0, 7)), np.zeros(0), cars, np.zeros((0, 7)))
    assert tally.num_labels == 1


# --------------------------------------------------------------------------------------------
# baseline.py


def test_baseline_box_along_y_has_yaw_half_pi_and_a_point_count_score() -> None:
    """The open3d baseline's axis-aligned box takes the longer side as its length, turned to
    yaw pi / 2 when that side runs along y; its score is points / 200 (capped at 1). A block
    of 7 x 12 x 2 = 168 grid points, 1.8 m along x, 4.4 m along y, 0.4 m high, above a level
    grid road at z = -1.7: one Car, length 4.4, width 1.8, yaw pi / 2, score 168 / 200 = 0.84."""
    o3d_baseline = pytest.importorskip("drivestack.perception.lidar.baseline")
    pytest.importorskip("open3d")
    road = _grid(np.linspace(-20.0, 20.0, 41), np.linspace(-20.0, 20.0, 41), -1.7)
    block = np.array(
        [
            [x, y, z]
            for x in np.linspace(9.1, 10.9, 7)
            for y in np.linspace(-2.2, 2.2, 12)
            for z in (-0.6, -0.2)
        ]
    )
    frame = SensorFrame(0, lidars={"lidar": PointCloud(np.concatenate([road, block]), "lidar", 0)})
    boxes = o3d_baseline.Open3dBaselineDetector().step(frame)
    assert len(boxes) == 1
    assert boxes.label.tolist() == [ObjectClass.CAR]
    np.testing.assert_allclose(boxes.size_m[0], [4.4, 1.8, 0.4], atol=1e-6)
    np.testing.assert_allclose(boxes.center_m[0], [10.0, 0.0, -0.4], atol=1e-6)
    np.testing.assert_allclose(boxes.yaw_rad[0], np.pi / 2, atol=1e-12)
    np.testing.assert_allclose(boxes.score[0], 0.84, atol=1e-12)
