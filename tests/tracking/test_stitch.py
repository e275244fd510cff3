"""Offline stitching of split tracks (drivestack.tracking.stitch): hand cases and config."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.ingest.kitti_format import KittiObjects
from drivestack.tracking.config import (
    ClassTrackerConfig,
    OfflineEvidenceConfig,
    OfflineStitchConfig,
    load_tracker_config,
)
from drivestack.tracking.kitti_run import SequenceRun
from drivestack.tracking.offline import offline_result_rows
from drivestack.tracking.stitch import chain_offsets, stitch_tracks
from tests.tracking.result_rows import KITTI_TRACKER_CONFIG, make_run

NAN = float("nan")
STITCH = OfflineStitchConfig(max_gap_frames=5, max_distance_m=2.0)


def rows_of(run: SequenceRun, track_id: int) -> np.ndarray:
    """Indices of a track's rows."""
    return np.flatnonzero(run.results.track_id == track_id)


def test_two_collinear_tracks_with_a_gap_are_joined() -> None:
    # track 1 drives 1 m per frame along z, is matched in frames 0..4 and coasts (badly) in
    # 5..7; track 2 starts at frame 7 where track 1's motion leads
    run = make_run(
        [
            (1, [0, 1, 2, 3, 4, 5, 6, 7], [0.0] * 8, [10, 11, 12, 13, 14, 30, 31, 32]),
            (2, [7, 8, 9], [0.0] * 3, [17.0, 18.0, 19.0]),
        ],
        coasting={(1, 5), (1, 6), (1, 7)},
    )
    out = stitch_tracks(run, STITCH)
    assert out.hits is not None and out.detection_score is not None
    assert out.detection_box is not None
    np.testing.assert_array_equal(out.results.track_id, [1] * 10)
    np.testing.assert_array_equal(out.results.frame, np.arange(10))
    # the gap rows 5 and 6 are interpolated between frames 4 and 7, the coasting row 7 is gone
    np.testing.assert_allclose(out.results.location_m[:, 2], np.arange(10, 20))
    np.testing.assert_allclose(out.results.box2d_xyxy_px[5], [100.0, 100.0, 200.0, 200.0])
    # matches continue track 1's five
    np.testing.assert_array_equal(out.hits, [1, 2, 3, 4, 5, 5, 5, 6, 7, 8])
    assert np.isnan(out.detection_score[5:7]).all() and np.isnan(out.detection_box[5:7]).all()
    np.testing.assert_array_equal(out.detection_score[7:], 1.0)


def test_a_far_track_is_not_joined() -> None:
    run = make_run(
        [
            (1, [0, 1, 2, 3, 4], [0.0] * 5, [10.0, 11.0, 12.0, 13.0, 14.0]),
            (2, [7, 8], [2.5, 2.5], [17.0, 18.0]),
        ]
    )
    out = stitch_tracks(run, STITCH)
    np.testing.assert_array_equal(out.results.track_id, run.results.track_id)
    np.testing.assert_array_equal(out.results.location_m, run.results.location_m)
    # within 3 m it is
    near = stitch_tracks(run, replace(STITCH, max_distance_m=3.0))
    np.testing.assert_array_equal(near.results.track_id, [1] * 9)


def test_gap_beyond_max_gap_frames_or_a_turned_box_is_not_joined() -> None:
    pieces = [
        (1, [0, 1, 2], [0.0] * 3, [10.0, 11.0, 12.0]),
        (2, [8, 9], [0.0] * 2, [18.0, 19.0]),
    ]
    run = make_run(pieces)
    assert set(stitch_tracks(run, STITCH).results.track_id) == {1, 2}
    assert set(stitch_tracks(run, replace(STITCH, max_gap_frames=6)).results.track_id) == {1}
    # a heading 90 degrees off (a pi turn is the same box and passes)
    turned = make_run(pieces, yaw={2: 0.5 * np.pi})
    assert set(stitch_tracks(turned, replace(STITCH, max_gap_frames=6)).results.track_id) == {
        1,
        2,
    }
    flipped = make_run(pieces, yaw={2: np.pi})
    assert set(stitch_tracks(flipped, replace(STITCH, max_gap_frames=6)).results.track_id) == {1}


def test_competing_candidates_are_resolved_one_to_one() -> None:
    # two parked tracks end at frame 2 at x = 0 (id 1) and x = 1.1 (id 2); two tracks start at
    # frame 4 at x = 0.5 (id 3: 0.5 m from 1, 0.6 m from 2) and x = -1 (id 4: 1 m from 1,
    # 2.1 m from 2, out of the gate). Nearest first would give 3 to 1 and leave 2 and 4 apart;
    # the assignment joins 1 with 4 and 2 with 3
    run = make_run(
        [
            (1, [0, 1, 2], [0.0] * 3, [20.0] * 3),
            (2, [0, 1, 2], [1.1] * 3, [20.0] * 3),
            (3, [4, 5], [0.5] * 2, [20.0] * 2),
            (4, [4, 5], [-1.0] * 2, [20.0] * 2),
        ]
    )
    out = stitch_tracks(run, STITCH)
    np.testing.assert_allclose(out.results.location_m[rows_of(out, 1), 0], [0, 0, 0, -0.5, -1, -1])
    np.testing.assert_allclose(
        out.results.location_m[rows_of(out, 2), 0], [1.1] * 3 + [0.8, 0.5, 0.5]
    )
    assert set(out.results.track_id) == {1, 2}


def test_chains_keep_the_first_id_and_add_up_matches() -> None:
    root, offset = chain_offsets(np.array([0, 1]), np.array([1, 2]), np.array([3, 4, 5, 6]))
    np.testing.assert_array_equal(root, [0, 0, 0, 3])
    np.testing.assert_array_equal(offset, [0, 3, 7, 0])


def test_min_track_matches_keeps_short_tracks_apart() -> None:
    run = make_run(
        [
            (1, [0, 1], [0.0] * 2, [10.0, 11.0]),
            (2, [4, 5, 6], [0.0] * 3, [14.0, 15.0, 16.0]),
        ]
    )
    assert set(stitch_tracks(run, STITCH).results.track_id) == {1}
    apart = stitch_tracks(run, replace(STITCH, min_track_matches=3))
    assert set(apart.results.track_id) == {1, 2}


def test_world_frame_extrapolates_in_the_ego_pose_frame() -> None:
    # the camera drives 1 m per frame along its z axis; a parked car seen 20 m ahead at frame 0
    # (one match) and again 17 m ahead at frame 3: the same place in the world
    poses = np.tile(np.eye(4), (6, 1, 1))
    poses[:, 2, 3] = np.arange(6.0)
    run = make_run([(1, [0], [2.0], [20.0]), (2, [3, 4], [2.0] * 2, [17.0, 16.0])], n_frames=6)
    assert set(stitch_tracks(run, STITCH).results.track_id) == {1, 2}
    out = stitch_tracks(run, replace(STITCH, world_frame=True), poses)
    np.testing.assert_array_equal(out.results.track_id, [1] * 5)
    # the gap rows stand still in the world: 19 and 18 m ahead
    np.testing.assert_allclose(out.results.location_m[:, 2], [20.0, 19.0, 18.0, 17.0, 16.0])


def test_off_is_the_identity() -> None:
    run = make_run(
        [(1, [0, 1, 2], [0.0] * 3, [10.0, 11.0, 12.0]), (2, [4, 5], [0.0] * 2, [14.0, 15.0])]
    )
    assert stitch_tracks(run, OfflineStitchConfig()) is run
    cfg = ClassTrackerConfig()
    np.testing.assert_array_equal(offline_result_rows(run, cfg).track_id, run.results.track_id)
    empty = SequenceRun(KittiObjects(), 0.0, 0, hits=np.zeros(0), detection_score=np.zeros(0))
    assert stitch_tracks(empty, STITCH) is empty


def test_offline_result_rows_stitches_before_the_evidence_rules() -> None:
    # two pieces of two matches each: dropped apart by min_track_hits 3, kept together
    run = make_run([(1, [0, 1], [0.0] * 2, [10.0, 11.0]), (2, [3, 4], [0.0] * 2, [13.0, 14.0])])
    evidence = OfflineEvidenceConfig(min_track_hits=3)
    apart = ClassTrackerConfig(offline_evidence=evidence)
    assert len(offline_result_rows(run, apart)) == 0
    joined = offline_result_rows(run, replace(apart, offline_stitch=STITCH))
    np.testing.assert_array_equal(joined.frame, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(joined.track_id, [1] * 5)
    world = replace(apart, offline_stitch=replace(STITCH, world_frame=True))
    with pytest.raises(ValueError, match="ego poses"):
        offline_result_rows(run, world)
    with pytest.raises(ValueError, match="hits"):
        offline_result_rows(replace(run, hits=None), replace(apart, offline_stitch=STITCH))


def test_config_keys_are_strict(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "classes: {car: {offline_stitch: {max_gap_frames: 8, max_distance_m: 1.5, "
        "max_yaw_diff_rad: 0.4, max_size_ratio: 1.3, motion_window_frames: 3, "
        "start_window_frames: 4, world_frame: true, min_track_matches: 2}}}"
    )
    stitch = load_tracker_config(good).classes["car"].offline_stitch
    assert stitch == OfflineStitchConfig(
        max_gap_frames=8,
        max_distance_m=1.5,
        max_yaw_diff_rad=0.4,
        max_size_ratio=1.3,
        motion_window_frames=3,
        start_window_frames=4,
        world_frame=True,
        min_track_matches=2,
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("classes: {car: {offline_stitch: {max_gap: 3}}}")
    with pytest.raises(ConfigError, match=r"classes\.car\.offline_stitch.?max_gap"):
        load_tracker_config(bad)
    for kwargs in [
        {"max_gap_frames": -1},
        {"max_distance_m": 0.0},
        {"max_size_ratio": 0.9},
        {"min_track_matches": 0},
    ]:
        with pytest.raises(ValueError):
            OfflineStitchConfig(**kwargs)  # type: ignore[arg-type]
    shipped = load_tracker_config(KITTI_TRACKER_CONFIG).classes
    assert shipped["car"].offline_stitch.max_gap_frames > 0
    assert shipped["cyclist"].offline_stitch == OfflineStitchConfig()


def test_start_window_fits_past_a_poor_first_box() -> None:
    # track 2's first detection lies 3 m to the side; its next five lie on track 1's path
    run = make_run(
        [
            (1, [0, 1, 2, 3], [0.0] * 4, [10.0, 11.0, 12.0, 13.0]),
            (2, [5, 6, 7, 8, 9, 10], [3.0] + [0.0] * 5, [15.0, 16.0, 17.0, 18.0, 19.0, 20.0]),
        ]
    )
    assert set(stitch_tracks(run, STITCH).results.track_id) == {1, 2}
    # a line through x = 3, 0, 0 at frames 5, 6, 7 is at x = 2.5 at frame 5: still too far
    short = stitch_tracks(run, replace(STITCH, start_window_frames=2))
    assert set(short.results.track_id) == {1, 2}
    # through 3, 0, 0, 0, 0, 0 at frames 5..10: x = 0.5 + 2.5 * 7.5 / 17.5 = 1.57 at frame 5
    joined = stitch_tracks(run, replace(STITCH, start_window_frames=5))
    np.testing.assert_array_equal(joined.results.track_id, [1] * 11)


def test_score_weights_keep_a_poor_last_match_from_throwing_the_extrapolation_off() -> None:
    """Track 1 drives 1 m per frame along z (frames 0..3, detection score 8) and ends on a poor
    match (frame 4, score 0.5) 2 m behind where it should be; track 2 starts at frame 7 at
    z = 17, where track 1 was heading. An equal-weight line through (0, 10), (1, 11), (2, 12),
    (3, 13), (4, 12) has slope 6 / 10 = 0.6 about (2, 11.6), so it lands at 11.6 + 5 * 0.6 =
    14.6 at frame 7: 2.4 m short, beyond max_distance_m 2. Weighted by exp(1 * score) the
    poor match counts e^0.5 / e^8 ~ 5.5e-4 of each good one: the line is z = 10 + t, landing
    on 17, and the tracks are joined."""
    run = make_run(
        [
            (1, [0, 1, 2, 3, 4], [0.0] * 5, [10.0, 11.0, 12.0, 13.0, 12.0]),
            (2, [7, 8, 9], [0.0] * 3, [17.0, 18.0, 19.0]),
        ]
    )
    run = replace(run, detection_score=np.array([8.0, 8.0, 8.0, 8.0, 0.5, 8.0, 8.0, 8.0]))
    assert set(stitch_tracks(run, STITCH).results.track_id) == {1, 2}
    joined = stitch_tracks(run, replace(STITCH, score_weight=1.0))
    np.testing.assert_array_equal(joined.results.track_id, [1] * 10)


def test_a_negative_score_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="score_weight"):
        OfflineStitchConfig(score_weight=-0.5)


def test_a_huge_score_weight_neither_overflows_nor_loses_the_join() -> None:
    """exp(1000 * 8) overflows a float; the weights are taken relative to the best match
    (the fit is the same for weights scaled by a common factor), so with score_weight 1000
    the poor match of the case above weighs exp(-7500), floored at exp(-700) > 0, and the
    tracks are still joined, with finite gap rows."""
    run = make_run(
        [
            (1, [0, 1, 2, 3, 4], [0.0] * 5, [10.0, 11.0, 12.0, 13.0, 12.0]),
            (2, [7, 8, 9], [0.0] * 3, [17.0, 18.0, 19.0]),
        ]
    )
    run = replace(run, detection_score=np.array([8.0, 8.0, 8.0, 8.0, 0.5, 8.0, 8.0, 8.0]))
    with np.errstate(over="raise", invalid="raise"):
        joined = stitch_tracks(run, replace(STITCH, score_weight=1000.0))
    np.testing.assert_array_equal(joined.results.track_id, [1] * 10)
    assert np.isfinite(joined.results.location_m).all()
