"""Association's documented boundaries (drivestack.tracking.association, AssociationConfig).

- a pair needs ``affinity >= threshold``: a pair exactly at the threshold matches, for the
  Hungarian and the greedy method and in the gated Hungarian's pre-assignment gate;
- with ``two_stage``, detections scoring *at least* ``high_score`` are matched in the first
  stage only, the ones *below* it in the second stage only;
- ``distance_3d`` is the centre distance in 3D (``distance_bev`` leaves z out).
"""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.tracking.association import affinity_matrix, associate, match
from drivestack.tracking.config import AssociationConfig


def boxes(*centres: tuple[float, float, float]) -> np.ndarray:
    """``(K, 7)`` unit boxes (x y z, l w h, yaw 0) at the given centres."""
    return np.array([[x, y, z, 1.0, 1.0, 1.0, 0.0] for x, y, z in centres])


@pytest.mark.parametrize("method", ["hungarian", "greedy"])
def test_a_pair_exactly_at_the_threshold_matches(method: str) -> None:
    rows, cols = match(np.array([[0.5]]), 0.5, method)
    assert rows.tolist() == [0] and cols.tolist() == [0]
    # just below it does not
    rows, cols = match(np.array([[0.5 - 1e-12]]), 0.5, method)
    assert rows.size == 0 and cols.size == 0


def test_the_gated_hungarian_keeps_a_pair_exactly_at_the_threshold_in_the_assignment() -> None:
    # (0, 0) sits exactly at the threshold: gated in, the assignment pairs (0, 0) and (1, 1)
    # (0.5 + 0.55); gated out, row 0 would take column 1 (0.6) and row 1 would be left alone
    affinity = np.array([[0.5, 0.6], [0.0, 0.55]])
    rows, cols = match(affinity, 0.5, "hungarian", gated=True)
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]


def test_a_detection_scoring_exactly_high_score_is_matched_in_the_first_stage_only() -> None:
    # every pair is within reach (1 m); the detection is nearer track 0 (0.1 m) than track 1
    cfg = AssociationConfig(
        metric="distance_bev",
        threshold=-1.0,
        second_threshold=-1.0,
        method="greedy",
        two_stage=True,
        high_score=1.0,
    )
    tracks = boxes((0.0, 0.0, 0.0), (0.3, 0.0, 0.0))
    detections = boxes((0.1, 0.0, 0.0))
    rows, cols = associate(cfg, tracks, detections, np.array([1.0]))
    # matched once, in the first stage, to the nearer track: track 1 does not get it again in
    # the second stage
    assert rows.tolist() == [0] and cols.tolist() == [0]


def test_distance_3d_measures_height_and_distance_bev_does_not() -> None:
    ground, above = boxes((0.0, 0.0, 0.0)), boxes((0.0, 0.0, 2.0))
    assert affinity_matrix("distance_3d", ground, above)[0, 0] == pytest.approx(-2.0)
    assert affinity_matrix("distance_bev", ground, above)[0, 0] == pytest.approx(0.0)
    # a pair 2 m apart in z and 1.5 m in x: 2.5 m in 3D, 1.5 m seen from above
    side = boxes((1.5, 0.0, 2.0))
    assert affinity_matrix("distance_3d", ground, side)[0, 0] == pytest.approx(-2.5)
    assert affinity_matrix("distance_bev", ground, side)[0, 0] == pytest.approx(-1.5)
