"""Boundary and rule pins for the LiDAR steps (roi, box fit, classify, dedup, cluster).

These pin rules a mutation review found unguarded: each test fails when one comparison,
constant or rounding in the step is changed, and its expected value is derived by hand in
the comments.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.perception.lidar.box_fit import complete_far_side, split_rows
from drivestack.perception.lidar.classify import (
    classify,
    end_face_mask,
    score_features,
    size_likelihood,
)
from drivestack.perception.lidar.cluster import cluster_points, split_clusters
from drivestack.perception.lidar.config import (
    ClassifyConfig,
    ClassPrior,
    DedupConfig,
    RoiConfig,
)
from drivestack.perception.lidar.dedup import (
    Deduplicated,
    deduplicate,
    duplicate_groups,
    suppress_overlaps,
)
from drivestack.perception.lidar.roi import roi_mask
from drivestack.structures.labels import ObjectClass

from ..synthetic import CLASSIFY
from ..test_box_fit_classify import FIT, _truck
from ..test_cluster import CFG

CAR = int(ObjectClass.CAR)


def _boxes(sizes: list[list[float]], x: float = 10.0) -> np.ndarray:
    """``(N, 7)`` boxes of the given (l, w, h) at (x, 0, -1), yaw 0."""
    s = np.asarray(sizes, dtype=np.float64)
    return np.concatenate([np.tile([x, 0.0, -1.0], (len(s), 1)), s, np.zeros((len(s), 1))], axis=1)


def test_a_box_exactly_as_deep_as_the_end_face_limit_is_a_face() -> None:
    # truck prior with end_face_max_depth_m 0.8; a 2.2 x 0.8 x 2.7 box is exactly that deep:
    # read as an end face (4.6, 2.2, 2.7) it lies inside [min, mean] -> likelihood 1
    size = np.array([[2.2, 0.8, 2.7]])
    prior = _truck(0.8)
    assert size_likelihood(size, prior)[0] == 1.0
    assert end_face_mask(size, prior).tolist() == [True]


def test_a_box_that_fits_as_seen_is_not_taken_for_an_end_face() -> None:
    # 1.8 x 0.4 x 1.5 lies inside [min, mean] as seen (likelihood 1) and, as an end face
    # (1.0, 1.8, 1.5), too (likelihood 1): a tie keeps the as-seen reading (not turned)
    prior = ClassPrior(
        mean_lwh_m=(4.5, 2.0, 1.6),
        std_lwh_m=(0.5, 0.2, 0.15),
        min_lwh_m=(1.0, 0.2, 1.0),
        min_points=1,
        score_weights=(0.0, 0.0, 0.0, 0.0, 0.0),
        end_face_max_depth_m=0.5,
    )
    assert end_face_mask(np.array([[1.8, 0.4, 1.5]]), prior).tolist() == [False]


def test_likelihood_equal_to_min_likelihood_is_known() -> None:
    # a 4.1 x 1.7 x 1.5 car box lies inside the car's [min, mean]: likelihood exactly 1.0,
    # which reaches min_likelihood 1.0 ("reaches": >=), so the box is a car
    cfg = dataclasses.replace(CLASSIFY, min_likelihood=1.0)
    result = classify(_boxes([[4.1, 1.7, 1.5]]), np.array([80]), cfg)
    assert result.label.tolist() == [CAR]


def test_exactly_min_points_is_enough() -> None:
    # the car prior needs min_points 5: 5 voxels are enough, 4 are not
    boxes = _boxes([[4.1, 1.7, 1.5]] * 2)
    result = classify(boxes, np.array([5, 4]), CLASSIFY)
    assert result.label.tolist() == [CAR, int(ObjectClass.UNKNOWN)]


def test_score_features_hand_values() -> None:
    # box at (3, 4): range 5 m; 4.1 m long; 20 points; likelihood 1e-6
    # near box at (0.3, 0.4): range 0.5 m, floored to 1 m -> log 0; likelihood 0 -> 1e-12
    boxes = np.array([[3.0, 4.0, -1.0, 4.1, 1.7, 1.5, 0.0], [0.3, 0.4, -1.0, 0.6, 0.5, 1.7, 0.0]])
    out = score_features(boxes, np.array([20, 0]), np.array([1e-6, 0.0]))
    np.testing.assert_allclose(
        out,
        [
            [1.0, np.log(1e-6), np.log(20.0), np.log(5.0), 4.1],
            [1.0, np.log(1e-12), 0.0, 0.0, 0.6],
        ],
    )


def test_a_side_exactly_end_face_max_long_is_turned() -> None:
    # a rear face 2.1 m across (= car_end_face_max_m, "up to": turned) 0.3 m deep, straight
    # ahead at x = 15 across the sight: turned, near face x = 14.85 stays, length grows to 3.9
    # along +x (centre 14.85 + 1.95); its 2.1 m width is above the 1.6 m minimum: kept
    rear = np.array([[15.0, 0.0, -1.0, 2.1, 0.3, 1.4, np.pi / 2]])
    out = complete_far_side(rear, np.array([True]), FIT)[0]
    np.testing.assert_allclose(out[:6], [14.85 + 1.95, 0.0, -1.0, 3.9, 2.1, 1.4], atol=1e-9)
    assert abs(np.sin(out[6])) < 1e-9


def test_split_rows_rounds_the_number_of_pieces() -> None:
    # points every 0.5 m on x = 10.0 .. 21.5 (24 points): a box 11.5 m long centred at 15.75;
    # 11.5 / 4.5 = 2.56 rounds to 3 pieces of 3.83 m, cut at x = 13.83 and 17.67: 8 + 8 + 8
    row = np.stack([np.arange(10.0, 21.51, 0.5), np.zeros(24), np.full(24, -1.0)], axis=1)
    boxes = np.array([[15.75, 0.0, -1.0, 11.5, 1.8, 1.5, 0.0]])
    cfg = dataclasses.replace(FIT, row_split_length_m=4.5)
    _, bounds, source = split_rows(row, np.array([0, 24]), boxes, cfg)
    assert np.diff(bounds).tolist() == [8, 8, 8]
    assert source.tolist() == [0, 0, 0]


def _two_cars_2m_apart() -> np.ndarray:
    # two 4 x 2 m boxes 2 m apart along x: they share 2 x 2 m = half of either footprint
    return np.array([[0.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0], [2.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]])


def test_overlap_exactly_min_overlap_joins_a_group() -> None:
    # overlap 0.5 "at least" min_overlap 0.5: one group
    groups = duplicate_groups(_two_cars_2m_apart(), np.array([CAR, CAR]), 0.5)
    assert groups.tolist() == [0, 0]


def test_overlap_exactly_min_overlap_is_suppressed() -> None:
    # overlap 0.5 "at least" min_overlap 0.5: the lower-scored box goes
    keep = suppress_overlaps(_two_cars_2m_apart(), np.array([CAR, CAR]), np.array([0.9, 0.8]), 0.5)
    assert keep.tolist() == [True, False]


def _line(x0: float, n: int) -> np.ndarray:
    # n points 0.3 m apart along x from x0 (each in its own 0.2 m voxel, linked at 0.5 m)
    return np.stack([x0 + 0.3 * np.arange(n), np.zeros(n), np.full(n, -1.1)], axis=1)


def _two_triples() -> np.ndarray:
    # 10.0, 10.3, 10.6 and 11.05, 11.35, 11.65: the 0.45 m gap links at 0.5 m, not at 0.4 m
    return np.concatenate([_line(10.0, 3), _line(11.05, 3)])


def test_a_cluster_of_exactly_max_points_is_kept() -> None:
    # 6 voxels linked in one component; max_points 6 -> kept ("more than" max is dropped)
    cfg = dataclasses.replace(CFG, max_points=6)
    clusters = cluster_points(_two_triples(), cfg)
    assert clusters.num_clusters == 1
    assert clusters.label.tolist() == [0] * 6


def test_a_cluster_of_exactly_max_points_is_not_relinked() -> None:
    # oversize re-linking at 0.8 x 0.5 = 0.4 m would cut it 3 + 3; at exactly max_points 6
    # the component is not oversize, so it stays one cluster
    cfg = dataclasses.replace(CFG, max_points=6, oversize_link_scale=0.8)
    assert cluster_points(_two_triples(), cfg).num_clusters == 1


def test_split_clusters_of_exactly_twice_min_points() -> None:
    # 6 voxels (= 2 * min_points 3) in two triples 1 m apart (not linked at 0.5 m): two parts
    grouped = np.concatenate([_line(10.0, 3), _line(11.6, 3)])
    _, bounds, source = split_clusters(grouped, np.array([0, 6]), np.array([0]), CFG)
    assert bounds.tolist() == [0, 3, 6]
    assert source.tolist() == [0, 0]


def _grid(x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """``(198, 3)`` points: 9 x 11 on [x0, x1] x [y0, y1] at heights -1.2 and -0.3."""
    x, y, z = np.meshgrid(
        np.linspace(x0, x1, 9), np.linspace(y0, y1, 11), [-1.2, -0.3], indexing="ij"
    )
    return np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1)


BOUNDS = np.array([0, 198, 396])


def _split_car_along_x(score: list[float], classify_cfg: ClassifyConfig = CLASSIFY) -> Deduplicated:
    """Two halves of a car 15 m ahead (x 13 .. 15 and 15.25 .. 17, y +-0.85), their raw and
    completed car boxes overlapping; grounds -1.7 (first half) and -1.5 (second)."""
    xyz = np.concatenate([_grid(13.0, 15.0, -0.85, 0.85), _grid(15.25, 17.0, -0.85, 0.85)])
    raw = np.array([[14.0, 0, -1, 2.0, 1.7, 1.4, 0], [16.125, 0, -1, 1.75, 1.7, 1.4, 0]])
    done = np.array([[14.95, 0, -1, 3.9, 1.7, 1.4, 0], [16.0, 0, -1, 3.9, 1.7, 1.4, 0]])
    return deduplicate(
        xyz,
        BOUNDS,
        np.array([-1.7, -1.5]),
        raw,
        done,
        np.array([CAR, CAR]),
        np.array(score),
        np.zeros((2, 5)),
        DedupConfig(enabled=True),
        FIT,
        classify_cfg,
    )


def test_a_pooled_car_stands_on_the_lower_ground_of_its_halves() -> None:
    # pooled points span x 13 .. 17 (4.0 m), y +-0.85 (1.7 m), top -0.3; the bottom is the
    # lower of the lowest point (-1.2) and the halves' grounds (min(-1.7, -1.5) = -1.7):
    # height 1.4, centre z -1.0. A car 4.0 x 1.7 x 1.4 is complete: no growth
    out = _split_car_along_x([0.9, 0.8])
    assert out.num_merged == 1 and out.label.tolist() == [CAR]
    np.testing.assert_allclose(out.boxes[0, :6], [15.0, 0.0, -1.0, 4.0, 1.7, 1.4], atol=1e-6)
    # score: sigmoid(-1 + log(1) + 0.5 * log(396 points))
    assert out.score[0] == pytest.approx(1.0 / (1.0 + np.exp(1.0 - 0.5 * np.log(396.0))))


def test_a_fragment_scored_below_min_score_is_not_pooled() -> None:
    # the second half scores 0.3 < min_score 0.5: it would not be returned, so it takes no
    # part in the merge (no pooled, higher-scored box from it); both boxes stay as they were
    cfg = dataclasses.replace(CLASSIFY, min_score=0.5)
    out = _split_car_along_x([0.9, 0.3], cfg)
    assert out.num_merged == 0
    np.testing.assert_allclose(out.score, [0.9, 0.3])
    np.testing.assert_allclose(out.boxes[:, 0], [14.95, 16.0])


def test_a_pooled_car_is_completed_along_its_halves_heading() -> None:
    # halves x 14.15 .. 15.85 (1.7 m), y 3.5 .. 4.9 and 5.1 .. 6.5: pooled 3.0 m along y,
    # shorter than a car (3.9). Their completed boxes head along y (pi / 2): the pooled box
    # keeps its axis and grows along y away from the sensor, from its near face y = 3.5 to
    # 3.5 + 3.9 (centre 5.45); its 1.7 m width is above the 1.6 m minimum
    xyz = np.concatenate([_grid(14.15, 15.85, 3.5, 4.9), _grid(14.15, 15.85, 5.1, 6.5)])
    raw = np.array([[15.0, 4.2, -1, 1.7, 1.4, 1.4, 0], [15.0, 5.8, -1, 1.7, 1.4, 1.4, 0]])
    done = np.array(
        [[15.0, 4.7, -1, 3.9, 1.7, 1.4, np.pi / 2], [15.0, 5.3, -1, 3.9, 1.7, 1.4, np.pi / 2]]
    )
    out = deduplicate(
        xyz,
        BOUNDS,
        np.array([-1.7, -1.7]),
        raw,
        done,
        np.array([CAR, CAR]),
        np.array([0.9, 0.8]),
        np.zeros((2, 5)),
        DedupConfig(enabled=True),
        FIT,
        CLASSIFY,
    )
    assert out.num_merged == 1
    np.testing.assert_allclose(out.boxes[0, :6], [15.0, 5.45, -1.0, 3.9, 1.7, 1.4], atol=1e-6)
    assert abs(np.cos(out.boxes[0, 6])) < 1e-6


def test_non_finite_points_are_dropped_even_where_the_origin_is_kept() -> None:
    # min range 0, the origin inside the ROI box and outside the ego-body box: (0, 0, 0) is
    # kept, but a NaN / inf point (checked at 0 internally) must still be dropped
    roi = RoiConfig(
        min_range_m=0.0,
        max_range_m=50.0,
        min_xyz_m=(-50.0, -20.0, -3.0),
        max_xyz_m=(50.0, 20.0, 2.0),
        ego_body_min_xyz_m=(-5.0, -1.0, -2.0),
        ego_body_max_xyz_m=(-1.0, 1.0, 0.3),
    )
    pts = np.array([[0.0, 0.0, 0.0], [np.nan, 0.0, 0.0], [np.inf, 0.0, 0.0]])
    assert roi_mask(pts, roi).tolist() == [True, False, False]
