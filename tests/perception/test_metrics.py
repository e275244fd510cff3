"""Hand-computed cases for the development metrics (matching, AP, ground check, tally)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.lidar.metrics import (
    CarTally,
    average_precision,
    boxes_in_image,
    check_ground,
    in_image,
    match_bev,
    reference_ground_plane,
)

CAR = np.array([10.0, 0.0, -0.9, 4.0, 2.0, 1.5, 0.0])


def _at(dx: float, dy: float) -> np.ndarray:
    """CAR moved by (dx, dy)."""
    return CAR + np.array([dx, dy, 0.0, 0.0, 0.0, 0.0, 0.0])


def test_match_bev_greedy_by_score() -> None:
    dets = np.array([CAR, _at(0.1, 0), _at(20.0, 0)])
    m = match_bev(dets, np.array([0.5, 0.9, 0.8]), CAR[None], 0.5)
    assert m.det_to_gt.tolist() == [-1, 0, -1]  # the higher-scored duplicate takes the label
    assert m.gt_matched.tolist() == [True]
    assert match_bev(np.zeros((0, 7)), np.zeros(0), CAR[None], 0.5).gt_matched.tolist() == [False]


def test_average_precision_hand_cases() -> None:
    assert average_precision(np.array([0.9, 0.8]), np.array([True, True]), 2) == pytest.approx(1.0)
    # a duplicate ranked above the second true box: precision 2/3 at full recall
    ap = average_precision(np.array([0.9, 0.85, 0.8]), np.array([True, False, True]), 2)
    assert ap == pytest.approx(0.5 * 1.0 + 0.5 * 2 / 3, abs=1e-9)
    # half the labels never found: AP40 counts 20 of 40 recall levels
    assert average_precision(np.array([0.9]), np.array([True]), 2) == pytest.approx(0.5)
    assert np.isnan(average_precision(np.zeros(0), np.zeros(0, bool), 0))


def test_car_tally_ignores_vans_and_far_labels() -> None:
    tally = CarTally(max_range_m=40.0)
    van = _at(0.0, 6.0)
    far = _at(45.0, 0.0)
    dets = np.array([CAR, van, far, _at(0.0, -8.0)])
    tally.add(dets, np.array([0.9, 0.8, 0.7, 0.6]), np.array([CAR, far]), van[None])
    assert tally.num_labels == 1 and tally.matched_labels == 1
    assert tally.false_boxes == 1  # only the box on empty road
    assert tally.summary()["precision"] == pytest.approx(0.5)


def test_reference_plane_and_ground_check() -> None:
    boxes = np.array([CAR, _at(0, 8.0), _at(12.0, -6.0)])
    normal, offset = reference_ground_plane(boxes)  # type: ignore[misc]
    np.testing.assert_allclose(normal, [0, 0, 1], atol=1e-9)
    assert offset == pytest.approx(1.65)
    assert reference_ground_plane(boxes[:1]) is None
    pts = np.array(
        [
            [10.0, 0.0, -0.5],  # in a box, 1.15 m above its bottom: object
            [10.0, 0.0, -1.6],  # in a box, near its bottom: not judged
            [16.0, 4.0, -1.6],  # road near the plane: ground
            [16.0, 4.0, -0.5],  # outside boxes, far above the road: not judged
        ]
    )
    check = check_ground(pts, np.array([True, True, True, False]), boxes)
    assert (check.object_points, check.object_points_kept) == (1, 0)
    assert (check.near_ground_points, check.near_ground_points_found) == (1, 1)


def test_in_image() -> None:
    camera_from_sensor = SE3(
        np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]), np.zeros(3)
    )
    projection = np.array([[700.0, 0, 600, 0], [0, 700.0, 180, 0], [0, 0, 1, 0]])
    pts = np.array([[10.0, 0.0, 0.0], [-10.0, 0.0, 0.0], [10.0, 20.0, 0.0]])
    assert in_image(pts, camera_from_sensor, projection, (1200, 360)).tolist() == [
        True,
        False,
        False,
    ]


def test_boxes_in_image_counts_boxes_cut_by_the_border() -> None:
    camera_from_sensor = SE3(
        np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]), np.zeros(3)
    )
    projection = np.array([[700.0, 0, 600, 0], [0, 700.0, 180, 0], [0, 0, 1, 0]])
    boxes = np.array(
        [
            [10.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0],  # straight ahead
            [-10.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0],  # behind
            # centre at u = 600 - 700 * 9.5 / 10 = -65 (outside), but the near-left corner
            # (x 12, y 8.5) projects to u = 600 - 700 * 8.5 / 12 = 104 (inside)
            [10.0, 9.5, 0.0, 4.0, 2.0, 1.5, 0.0],
            # every corner left of the image: u <= 600 - 700 * 19 / 12 < 0
            [10.0, 20.0, 0.0, 4.0, 2.0, 1.5, 0.0],
        ]
    )
    assert boxes_in_image(boxes, camera_from_sensor, projection, (1200, 360)).tolist() == [
        True,
        False,
        True,
        False,
    ]
    assert in_image(boxes[:, :3], camera_from_sensor, projection, (1200, 360)).tolist() == [
        True,
        False,
        False,
        False,
    ]
    assert boxes_in_image(np.zeros((0, 7)), camera_from_sensor, projection, (1, 1)).shape == (0,)
