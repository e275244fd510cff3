"""Gated Hungarian matching: pairs below the threshold cannot displace valid ones."""

from __future__ import annotations

import numpy as np

from drivestack.tracking.association import associate, match
from drivestack.tracking.config import AssociationConfig

# track 0: 0.01 m from detection 0, 4 m from detection 1; track 1: 22 m and 27 m away
CROSSED = -np.array([[0.01, 4.0], [22.0, 27.0]])


def test_ungated_assignment_loses_the_valid_pair() -> None:
    rows, cols = match(CROSSED, -2.0, "hungarian")  # 4 + 22 < 0.01 + 27
    assert rows.size == 0 and cols.size == 0


def test_gated_assignment_keeps_the_valid_pair() -> None:
    rows, cols = match(CROSSED, -2.0, "hungarian", gated=True)
    assert rows.tolist() == [0] and cols.tolist() == [0]


def test_gating_changes_nothing_when_every_pair_is_valid() -> None:
    rng = np.random.default_rng(3)
    for shape in [(0, 3), (3, 0), (1, 1), (4, 6), (7, 5)]:
        aff = -rng.uniform(0.0, 1.9, shape)
        plain = match(aff, -2.0, "hungarian")
        gated = match(aff, -2.0, "hungarian", gated=True)
        assert np.array_equal(plain[0], gated[0]) and np.array_equal(plain[1], gated[1])


def test_associate_passes_the_config_switch() -> None:
    # two tracks and two detections on a line (x in m): the same crossed geometry
    tracks = np.zeros((2, 7))
    tracks[:, 3:6] = 1.0
    tracks[1, 0] = 22.0
    dets = np.zeros((2, 7))
    dets[:, 3:6] = 1.0
    dets[0, 0], dets[1, 0] = 0.01, -4.0
    scores = np.ones(2)
    plain = AssociationConfig(metric="distance_3d", threshold=-2.0)
    assert associate(plain, tracks, dets, scores)[0].size == 0
    gated = AssociationConfig(metric="distance_3d", threshold=-2.0, gated=True)
    rows, cols = associate(gated, tracks, dets, scores)
    assert rows.tolist() == [0] and cols.tolist() == [0]
