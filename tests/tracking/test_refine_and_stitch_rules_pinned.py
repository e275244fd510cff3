"""Rules of the offline refinement (drivestack.tracking.refine) and stitching
(drivestack.tracking.stitch) that the other tests leave open, pinned with hand-derived values.

Refinement: the smoothing windows of two tracks never mix, the robust passes measure the 3D
residual against ``robust_scale_m`` with Tukey's bisquare and keep the score weights, a row that
every neighbour weighs 0 keeps its own detection, yaws are only touched with ``smooth_yaw`` and
gap filling never reaches across two tracks.

Stitching: the gates (gap of at least one frame, ``max_distance_m`` inclusive, heading, sizes of
the matched rows only, ``min_track_matches`` on both sides), the fit windows, the assignment
that minimises the total distance, and the joined rows (gap rows linear in time, on the first
track's heading branch, the first track's truncation and occlusion, ``hits`` continued along a
chain, rows sorted by frame then track id).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from drivestack.tracking.config import OfflineRefineConfig, OfflineStitchConfig
from drivestack.tracking.kitti_run import SequenceRun
from drivestack.tracking.refine import refine_track_boxes
from drivestack.tracking.stitch import stitch_tracks
from tests.tracking.result_rows import detections_of, make_run, track_rows

NAN = float("nan")
# tricube weight of a neighbour one frame away with a half window of 1 frame: (1 - 1/8)^3
W1 = (7.0 / 8.0) ** 3
STITCH = OfflineStitchConfig(max_gap_frames=5, max_distance_m=2.0)


def _bisquare(u: float) -> float:
    """Tukey's bisquare weight, written out from its definition."""
    return (1.0 - u * u) ** 2 if abs(u) < 1.0 else 0.0


def _ids(run: SequenceRun) -> set[int]:
    return set(run.results.track_id.tolist())


# --- refinement -------------------------------------------------------------------------------


def test_centre_smoothing_leaves_yaws_alone_without_smooth_yaw() -> None:
    """``smooth_yaw`` off: only centres are fitted, every row keeps its own yaw exactly (a
    degree-0 fit over +-1 frame would move the middle yaw 0.3 towards its neighbours' 0)."""
    rows = track_rows([0, 1, 2], [1] * 3, [0.0] * 3, [10.0] * 3, [0.0, 0.3, 0.0])
    det = detections_of(rows, [True] * 3)
    cfg = OfflineRefineConfig(smooth_half_window_frames=1, smooth_degree=0)
    out = refine_track_boxes(rows, det, np.ones(3), cfg)
    np.testing.assert_array_equal(out.rotation_y_rad, [0.0, 0.3, 0.0])


def test_smoothing_windows_never_reach_into_another_track() -> None:
    """Two parked tracks (x = 0 and x = 10) over the same frames 0..2, a half window of 2
    frames (wider than the tracks are long): each fit sees only its own track's detections,
    all equal, so every centre stays exactly where it was."""
    rows = track_rows([0, 1, 2] * 2, [1] * 3 + [2] * 3, [0.0] * 3 + [10.0] * 3, [20.0] * 6)
    det = detections_of(rows, [True] * 6)
    cfg = OfflineRefineConfig(smooth_half_window_frames=2, smooth_degree=0)
    out = refine_track_boxes(rows, det, np.ones(6), cfg)
    np.testing.assert_allclose(out.location_m[:, 0], [0.0] * 3 + [10.0] * 3, rtol=0, atol=1e-12)


def test_robust_passes_measure_the_residual_in_3d() -> None:
    """A 5 m jump in depth (z) of a parked car: its 3D residual is beyond the 1 m scale, so two
    bisquare passes give it weight 0 and every other row is back at z = 10 exactly (a
    residual of x and y only would never see the jump)."""
    z = [10.0, 10.0, 10.0, 15.0, 10.0, 10.0, 10.0]
    rows = track_rows(list(range(7)), [1] * 7, [0.0] * 7, z)
    det = detections_of(rows, [True] * 7)
    cfg = OfflineRefineConfig(
        smooth_half_window_frames=2, smooth_degree=0, robust_iterations=2, robust_scale_m=1.0
    )
    out = refine_track_boxes(rows, det, np.ones(7), cfg)
    np.testing.assert_allclose(out.location_m[[0, 1, 2, 4, 5, 6], 2], 10.0, rtol=0, atol=1e-12)


def test_one_robust_pass_reweights_by_bisquare_of_residual_over_scale() -> None:
    """x = 0, 0, 1 at frames 0..2, half window 1, degree 0, one robust pass, scale 2 m.

    Plain fits (kernel 1 at dt 0 and W1 at dt 1): row 1 = W1 / (1 + 2 W1), row 2 =
    1 / (1 + W1), row 0 = 0. Residuals r1 = W1 / (1 + 2 W1), r2 = W1 / (1 + W1), r0 = 0;
    weights w = (1 - (r / 2)^2)^2. Refit of row 1: w2 W1 * 1 / (w0 W1 + w1 + w2 W1)."""
    rows = track_rows([0, 1, 2], [1] * 3, [0.0, 0.0, 1.0], [10.0] * 3)
    det = detections_of(rows, [True] * 3)
    cfg = OfflineRefineConfig(
        smooth_half_window_frames=1, smooth_degree=0, robust_iterations=1, robust_scale_m=2.0
    )
    out = refine_track_boxes(rows, det, np.ones(3), cfg)
    w1 = _bisquare(W1 / (1.0 + 2.0 * W1) / 2.0)
    w2 = _bisquare(W1 / (1.0 + W1) / 2.0)
    expected = w2 * W1 / (W1 + w1 + w2 * W1)  # about 0.2747 (the plain fit is 0.2863)
    assert out.location_m[1, 0] == pytest.approx(expected, rel=1e-12)


def test_score_weights_enter_smoothing_and_survive_the_robust_passes() -> None:
    """Two detections x = 0 (score 1) and x = 3 (score 0), weights exp(ln 3 * score) scaled to
    the best: 1 and 1/3. Degree 0 over +-1 frame, row 0: (0 + W1 / 3 * 3) / (1 + W1 / 3).
    With a robust pass of a huge scale (bisquare ~ 1) the score weights must still apply."""
    rows = track_rows([0, 1], [1, 1], [0.0, 3.0], [10.0, 10.0])
    det = detections_of(rows, [True, True])
    score = np.array([1.0, 0.0])
    cfg = OfflineRefineConfig(
        smooth_half_window_frames=1, smooth_degree=0, score_weight=float(np.log(3.0))
    )
    expected = W1 / (1.0 + W1 / 3.0)
    out = refine_track_boxes(rows, det, score, cfg)
    assert out.location_m[0, 0] == pytest.approx(expected, rel=1e-12)
    robust = replace(cfg, robust_iterations=1, robust_scale_m=1e6)
    out = refine_track_boxes(rows, det, score, robust)
    assert out.location_m[0, 0] == pytest.approx(expected, rel=1e-6)


def test_a_row_every_neighbour_weighs_zero_keeps_its_detection() -> None:
    """x = 0 and 5 at frames 0, 1 (half window 1, degree 0): plain fits 5 W1 / (1 + W1) =
    2.007 and 5 / (1 + W1) = 2.993 leave both residuals (2.007) beyond the 1 m scale, so the
    robust pass weighs both 0; no fit is left, and each row keeps its own detection."""
    rows = track_rows([0, 1], [1, 1], [0.0, 5.0], [10.0, 10.0])
    det = detections_of(rows, [True, True])
    cfg = OfflineRefineConfig(
        smooth_half_window_frames=1, smooth_degree=0, robust_iterations=1, robust_scale_m=1.0
    )
    out = refine_track_boxes(rows, det, np.ones(2), cfg)
    np.testing.assert_array_equal(out.location_m[:, 0], [0.0, 5.0])


def test_gap_filling_never_joins_two_tracks() -> None:
    """Track 1 is matched at frames 0, 1 then coasts at frame 2; track 2 coasts at frame 0 then
    is matched at 1, 2. Neither coasting row lies between two matches of its own track, so
    both keep their Kalman values (99) exactly."""
    rows = track_rows(
        [0, 1, 2, 0, 1, 2],
        [1, 1, 1, 2, 2, 2],
        [0.0, 0.0, 99.0, 99.0, 5.0, 5.0],
        [10.0, 11.0, 99.0, 99.0, 20.0, 21.0],
    )
    det = detections_of(rows, [True, True, False, False, True, True])
    out = refine_track_boxes(rows, det, np.ones(6), OfflineRefineConfig(interpolate_gaps=True))
    np.testing.assert_array_equal(out.location_m[[2, 3]], [[99.0, 1.5, 99.0]] * 2)


# --- stitching: the gates ---------------------------------------------------------------------


def test_a_track_starting_at_the_last_match_frame_is_not_a_continuation() -> None:
    """``1 <= f2 - f1``: track 2 starts at frame 4, the frame of track 1's last match, right
    where track 1 is; a gap of 0 frames is an overlap, not a continuation."""
    run = make_run(
        [
            (1, [0, 1, 2, 3, 4], [0.0] * 5, [10.0, 11.0, 12.0, 13.0, 14.0]),
            (2, [4, 5, 6], [0.0] * 3, [14.0, 15.0, 16.0]),
        ]
    )
    assert _ids(stitch_tracks(run, STITCH)) == {1, 2}


def test_max_distance_is_inclusive() -> None:
    """Two parked pieces at z = 20, x = 0 (frames 0..2) and x = 2 (frames 4, 5): the
    extrapolated centre and the start are exactly 2.0 m apart, at ``max_distance_m``."""
    run = make_run([(1, [0, 1, 2], [0.0] * 3, [20.0] * 3), (2, [4, 5], [2.0] * 2, [20.0] * 2)])
    assert _ids(stitch_tracks(run, STITCH)) == {1}
    assert _ids(stitch_tracks(run, replace(STITCH, max_distance_m=1.99))) == {1, 2}


def test_a_heading_off_by_more_than_max_yaw_diff_is_refused() -> None:
    """Headings 0 and 0.7 rad: 0.7 > ``max_yaw_diff_rad`` 0.5, not joined; 0.45 is."""
    pieces = [
        (1, [0, 1, 2, 3, 4], [0.0] * 5, [10.0, 11.0, 12.0, 13.0, 14.0]),
        (2, [7, 8, 9], [0.0] * 3, [17.0, 18.0, 19.0]),
    ]
    assert _ids(stitch_tracks(make_run(pieces, yaw={2: 0.7}), STITCH)) == {1, 2}
    assert _ids(stitch_tracks(make_run(pieces, yaw={2: 0.45}), STITCH)) == {1}


def test_the_size_gate_reads_the_matched_rows_only() -> None:
    """Track 1 is matched (4 m long) at frames 0, 1 and coasts at 2..4 with a drifted 8 m;
    the median of its matched sizes is 4 m, track 2's is 4 m: a factor 1, joined (the median
    of all five rows, 8 m, would be a factor 2 > 1.5)."""
    run = make_run(
        [
            (1, [0, 1, 2, 3, 4], [0.0] * 5, [10.0, 11.0, 12.0, 13.0, 14.0]),
            (2, [5, 6, 7], [0.0] * 3, [15.0, 16.0, 17.0]),
        ],
        coasting={(1, 2), (1, 3), (1, 4)},
    )
    hwl = run.results.hwl_m.copy()
    hwl[2:5, 2] = 8.0
    run = replace(run, results=replace(run.results, hwl_m=hwl))
    # the line through (0, 10), (1, 11) lands on z = 15 at frame 5, track 2's start
    assert _ids(stitch_tracks(run, STITCH)) == {1}


def test_min_track_matches_applies_to_the_second_track_too() -> None:
    """Track 1 has 3 matches, track 2 only 2: with ``min_track_matches`` 3 the short second
    piece is not joined (with 2 it is)."""
    run = make_run(
        [(1, [0, 1, 2], [0.0] * 3, [10.0, 11.0, 12.0]), (2, [4, 5], [0.0] * 2, [14.0, 15.0])]
    )
    assert _ids(stitch_tracks(run, replace(STITCH, min_track_matches=3))) == {1, 2}
    assert _ids(stitch_tracks(run, replace(STITCH, min_track_matches=2))) == {1}


def test_the_motion_window_ignores_matches_older_than_motion_window_frames() -> None:
    """Track 1's last match is at frame 9; with ``motion_window_frames`` 5 the fit sees frames
    4..9 only, z = 14..19 (1 m per frame), and lands on z = 22 at frame 12, track 2's start.
    Frames 0..3 hold a far-off z = 30: a window one frame longer would take (3, 30) in, and the
    line through (3, 30), (4, 14)..(9, 19) (slope -23 / 28) lands near z = 13.5, 8 m short."""
    run = make_run(
        [
            (1, list(range(10)), [0.0] * 10, [30.0] * 4 + [14.0, 15.0, 16.0, 17.0, 18.0, 19.0]),
            (2, [12, 13], [0.0] * 2, [22.0, 23.0]),
        ],
        n_frames=14,
    )
    assert _ids(stitch_tracks(run, STITCH)) == {1}


def test_the_start_window_holds_start_window_frames_after_the_first_row() -> None:
    """``start_window_frames`` 2: track 2's start is the line through its frames 5..7, x = 0,
    0, 0, i.e. x = 0, on track 1's path: joined. Its frame 8 (x = 15) is outside the window;
    taken in, the line through x = 0, 0, 0, 15 would start at x = -3, beyond 2 m."""
    run = make_run(
        [
            (1, [0, 1, 2, 3], [0.0] * 4, [10.0, 11.0, 12.0, 13.0]),
            (2, [5, 6, 7, 8], [0.0, 0.0, 0.0, 15.0], [15.0, 16.0, 17.0, 18.0]),
        ]
    )
    assert _ids(stitch_tracks(run, replace(STITCH, start_window_frames=2))) == {1}


def test_the_assignment_minimises_the_total_distance() -> None:
    """Parked tracks end at frame 2 at x = 0 (id 1) and x = 1.7 (id 2); tracks start at frame 4
    at x = 0.2 (id 3) and x = 1.5 (id 4). All four pairs are within 2 m: 1-3 and 2-4 are
    0.2 m each (total 0.4), 1-4 and 2-3 are 1.5 m each (total 3.0). The nearer pairs win."""
    run = make_run(
        [
            (1, [0, 1, 2], [0.0] * 3, [20.0] * 3),
            (2, [0, 1, 2], [1.7] * 3, [20.0] * 3),
            (3, [4, 5], [0.2] * 2, [20.0] * 2),
            (4, [4, 5], [1.5] * 2, [20.0] * 2),
        ]
    )
    out = stitch_tracks(run, STITCH).results
    assert set(out.track_id.tolist()) == {1, 2}
    # frames 3..5 of id 1: the gap row halfway to 0.2, then track 3's rows
    np.testing.assert_allclose(out.location_m[out.track_id == 1, 0], [0, 0, 0, 0.1, 0.2, 0.2])
    np.testing.assert_allclose(out.location_m[out.track_id == 2, 0], [1.7] * 3 + [1.6, 1.5, 1.5])


# --- stitching: the joined rows ---------------------------------------------------------------

PAIR = [
    (1, [0, 1, 2, 3, 4], [0.0] * 5, [10.0, 11.0, 12.0, 13.0, 14.0]),
    (2, [7, 8, 9], [0.0] * 3, [17.0, 18.0, 19.0]),
]


def _pair_with_second_track_values() -> SequenceRun:
    """:data:`PAIR` with track 2 (rows 5..7) 5 m long (a factor 1.25), its image box moved
    30 px right, score 4 (track 1: 1), occlusion 2 and truncation 0.5 (track 1: 0)."""
    run = make_run(PAIR)
    rows = run.results
    hwl, box = rows.hwl_m.copy(), rows.box2d_xyxy_px.copy()
    score, occlusion, truncation = rows.score.copy(), rows.occlusion.copy(), rows.truncation.copy()
    hwl[5:, 2] = 5.0
    box[5:, [0, 2]] += 30.0
    score[5:] = 4.0
    occlusion[5:] = 2
    truncation[5:] = 0.5
    return replace(
        run,
        results=replace(
            rows,
            hwl_m=hwl,
            box2d_xyxy_px=box,
            score=score,
            occlusion=occlusion,
            truncation=truncation,
        ),
    )


def test_gap_rows_size_image_box_and_score_are_linear_in_time() -> None:
    """Gap rows at frames 5, 6 between frames 4 and 7: u = 1/3, 2/3 of the way from track 1's
    box (length 4, x1 100, score 1) to track 2's (length 5, x1 130, score 4)."""
    out = stitch_tracks(_pair_with_second_track_values(), STITCH).results
    gap = np.flatnonzero(np.isin(out.frame, [5, 6]))
    np.testing.assert_allclose(out.hwl_m[gap, 2], [4.0 + 1.0 / 3.0, 4.0 + 2.0 / 3.0])
    np.testing.assert_allclose(out.box2d_xyxy_px[gap], [[110, 100, 210, 200], [120, 100, 220, 200]])
    np.testing.assert_allclose(out.score[gap], [2.0, 3.0])


def test_gap_rows_take_the_first_tracks_truncation_and_occlusion() -> None:
    """Truncation and occlusion are not interpolated: the gap rows copy the before row's (0)."""
    out = stitch_tracks(_pair_with_second_track_values(), STITCH).results
    gap = np.flatnonzero(np.isin(out.frame, [5, 6]))
    np.testing.assert_array_equal(out.occlusion[gap], [0, 0])
    np.testing.assert_array_equal(out.truncation[gap], [0.0, 0.0])


def test_gap_row_headings_keep_the_first_tracks_direction() -> None:
    """Track 1 heads 0.1 rad, track 2 0.1 - pi (the same box turned by pi): the turn modulo pi
    is 0, and the gap rows stay on the first track's branch, 0.1 (not 0.1 - pi)."""
    out = stitch_tracks(make_run(PAIR, yaw={1: 0.1, 2: 0.1 - np.pi}), STITCH).results
    gap = np.flatnonzero(np.isin(out.frame, [5, 6]))
    np.testing.assert_allclose(out.rotation_y_rad[gap], [0.1, 0.1], rtol=0, atol=1e-9)


def test_hits_of_gap_rows_continue_along_a_chain() -> None:
    """A (frames 0..2, 3 matches) -> B (4, 5: 2 matches) -> C (7, 8), one straight path; A to
    C (a 5-frame gap) is kept out by ``max_gap_frames`` 4. The gap row after A carries A's 3
    matches, the one after B carries A's and B's: 3 + 2 = 5; B's and C's rows add 3 and 5."""
    run = make_run(
        [
            (1, [0, 1, 2], [0.0] * 3, [10.0, 11.0, 12.0]),
            (2, [4, 5], [0.0] * 2, [14.0, 15.0]),
            (3, [7, 8], [0.0] * 2, [17.0, 18.0]),
        ]
    )
    out = stitch_tracks(run, replace(STITCH, max_gap_frames=4))
    assert out.hits is not None
    np.testing.assert_array_equal(out.results.track_id, [1] * 9)
    np.testing.assert_array_equal(out.hits, [1, 2, 3, 3, 4, 5, 5, 6, 7])


def test_joined_rows_are_sorted_by_frame_then_track_id() -> None:
    """The joined pair (id 1) and a parked track 5 over frames 0..9: each frame lists id 1
    then id 5."""
    pieces = [*PAIR, (5, list(range(10)), [30.0] * 10, [40.0] * 10)]
    out = stitch_tracks(make_run(pieces), STITCH).results
    np.testing.assert_array_equal(out.frame, np.repeat(np.arange(10), 2))
    np.testing.assert_array_equal(out.track_id, [1, 5] * 10)


def _rot_y(theta: float) -> np.ndarray:
    """Rotation by ``theta`` about the camera y axis: it takes the heading of yaw ``y``,
    ``(cos y, 0, -sin y)``, to the heading of yaw ``y + theta``."""
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def test_world_frame_smoothing_keeps_a_parked_car_still_while_the_camera_turns() -> None:
    """The camera turns 0.1 rad per frame about y and moves 1 m along world z; a car parked at
    world (2, 1.5, 20) heading 0.3 rad is seen at ``R_f^T (P - t_f)`` with yaw ``0.3 - theta_f``.
    In the world frame its three detections coincide, so degree-0 smoothing of centres and
    headings returns every camera-frame row unchanged."""
    theta = [0.0, 0.1, 0.2]
    poses = np.tile(np.eye(4), (3, 1, 1))
    world = np.array([2.0, 1.5, 20.0])
    cam = []
    for f, th in enumerate(theta):
        poses[f, :3, :3] = _rot_y(th)
        poses[f, :3, 3] = [0.0, 0.0, float(f)]
        cam.append(_rot_y(th).T @ (world - poses[f, :3, 3]))
    xyz = np.array(cam)
    rows = track_rows(
        [0, 1, 2], [1] * 3, list(xyz[:, 0]), list(xyz[:, 2]), [0.3 - t for t in theta]
    )
    rows = replace(rows, location_m=xyz)
    det = detections_of(rows, [True] * 3)
    cfg = OfflineRefineConfig(smooth_half_window_frames=1, smooth_degree=0, smooth_yaw=True)
    out = refine_track_boxes(rows, det, np.ones(3), cfg, poses)
    np.testing.assert_allclose(out.location_m, xyz, rtol=0, atol=1e-9)
    np.testing.assert_allclose(out.rotation_y_rad, [0.3, 0.2, 0.1], rtol=0, atol=1e-9)
