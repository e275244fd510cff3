"""The gates of two offline rules, at their documented boundaries.

Stitching (drivestack.tracking.stitch, OfflineStitchConfig): two pieces are one object only
when their median sizes differ by at most a *factor* ``max_size_ratio`` in each of h, w, l,
and their headings, *modulo pi*, by at most ``max_yaw_diff_rad``.

Cross-class veto (drivestack.tracking.cross_class, OfflineCrossClassConfig): a matched frame
counts against a track only when the other class's detection has a *higher* score (a tie does
not), and the track is dropped when *at least* ``min_fraction`` of its matched frames count.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from drivestack.ingest.kitti_format import KittiObjects
from drivestack.tracking.config import OfflineCrossClassConfig, OfflineStitchConfig
from drivestack.tracking.cross_class import cross_class_vetoed_tracks
from drivestack.tracking.kitti_run import SequenceRun
from drivestack.tracking.stitch import stitch_tracks
from tests.tracking.result_rows import car_rows, make_run

NAN = float("nan")
STITCH = OfflineStitchConfig(max_gap_frames=5, max_distance_m=2.0)


# --- stitching --------------------------------------------------------------------------------


# track 1 drives 1 m per frame along z in frames 0..4; track 2 starts at frame 7 where track 1's
# motion leads (a joinable pair whatever the gates below)
PIECES = [
    (1, [0, 1, 2, 3, 4], [0.0] * 5, [10.0, 11.0, 12.0, 13.0, 14.0]),
    (2, [7, 8, 9], [0.0] * 3, [17.0, 18.0, 19.0]),
]


def joined(run: SequenceRun, cfg: OfflineStitchConfig = STITCH) -> bool:
    """Whether stitching leaves one track (the pair joined)."""
    return set(stitch_tracks(run, cfg).results.track_id.tolist()) == {1}


def test_the_pair_is_joined_when_nothing_differs() -> None:
    assert joined(make_run(PIECES))


def test_the_size_gate_is_a_factor_between_the_pieces_sizes() -> None:
    # 4 m and 8 m long: a factor 2 > max_size_ratio 1.5 (ln 2 = 0.69 is below 1.5 as a number)
    assert not joined(make_run(PIECES, length={1: 4.0, 2: 8.0}))
    assert not joined(make_run(PIECES, length={1: 8.0, 2: 4.0}))
    # 4 m and 5 m: a factor 1.25, within 1.5
    assert joined(make_run(PIECES, length={1: 4.0, 2: 5.0}))
    assert joined(make_run(PIECES, length={1: 5.0, 2: 4.0}))
    # a factor 2 passes once max_size_ratio allows it
    assert joined(make_run(PIECES, length={1: 4.0, 2: 8.0}), replace(STITCH, max_size_ratio=2.1))


@pytest.mark.parametrize(
    ("yaw_first", "yaw_second"),
    [
        (0.5 * np.pi - 0.05, -0.5 * np.pi + 0.05),  # 0.1 rad apart across the pi/2 branch
        (-0.5 * np.pi + 0.05, 0.5 * np.pi - 0.05),
        (0.0, np.pi),  # the same box turned by pi
    ],
)
def test_the_heading_gate_compares_headings_modulo_pi(yaw_first: float, yaw_second: float) -> None:
    # headings 0.1 rad (or 0) apart modulo pi are within max_yaw_diff_rad 0.5
    assert joined(make_run(PIECES, yaw={1: yaw_first, 2: yaw_second}))


def test_the_heading_gate_still_refuses_a_box_turned_sideways() -> None:
    # 0.5 pi - 0.05 and -0.05 are 1.47 rad apart modulo pi
    assert not joined(make_run(PIECES, yaw={1: 0.5 * np.pi - 0.05, 2: -0.05}))


# --- cross-class veto -------------------------------------------------------------------------

# track 1: matched at frames 0-3 (score 3) at x = 0, z = 10
FRAMES = [0, 1, 2, 3]
DET_SCORE = np.array([3.0, 3.0, 3.0, 3.0])


def _rows() -> KittiObjects:
    return car_rows(FRAMES, [1] * 4, [2.0] * 4)


def _detection_boxes() -> np.ndarray:
    """``(4, 7)`` matched boxes: bottom centre (0, 1.6, 10), 1.7 x 0.6 x 0.8."""
    return np.tile([0.0, 1.6, 10.0, 1.7, 0.6, 0.8, 0.0], (4, 1))


def _other(frames: list[int], scores: list[float]) -> KittiObjects:
    """Cyclist detections at (0, 1.6, 10.3), 0.3 m from track 1, at the given frames and
    scores."""
    rows = car_rows(frames, [-1] * len(frames), scores)
    n = len(frames)
    return replace(
        rows,
        type_name=np.array(["Cyclist"] * n),
        location_m=np.column_stack([np.zeros(n), np.full(n, 1.6), np.full(n, 10.3)]),
    )


def test_an_other_class_detection_with_the_same_score_does_not_veto() -> None:
    cfg = OfflineCrossClassConfig(other_class="Cyclist", max_distance_m=1.0, min_fraction=0.5)
    tie = _other(FRAMES, [3.0] * 4)
    assert cross_class_vetoed_tracks(_rows(), DET_SCORE, _detection_boxes(), tie, cfg).size == 0
    higher = _other(FRAMES, [3.0 + 1e-9] * 4)
    assert cross_class_vetoed_tracks(
        _rows(), DET_SCORE, _detection_boxes(), higher, cfg
    ).tolist() == [1]


def test_a_fraction_exactly_min_fraction_vetoes() -> None:
    # outscored in 3 of the 4 matched frames: 0.75
    other = _other([0, 1, 2], [5.0] * 3)
    at = OfflineCrossClassConfig(other_class="Cyclist", max_distance_m=1.0, min_fraction=0.75)
    assert cross_class_vetoed_tracks(
        _rows(), DET_SCORE, _detection_boxes(), other, at
    ).tolist() == [1]
    above = replace(at, min_fraction=0.76)
    assert cross_class_vetoed_tracks(_rows(), DET_SCORE, _detection_boxes(), other, above).size == 0
