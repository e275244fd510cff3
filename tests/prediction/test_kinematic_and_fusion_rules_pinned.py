"""Kinematic-forecast, prediction-state and fusion rules a mutation review found unguarded, each
pinned with a value derived by hand from the rule's definition: CTRV's straight-line threshold,
the decaying turn's box yaw and integration accuracy, the fit window's median-based slack,
the tracker yaw-rate fit (own window, 2 standard errors), forecast_steps' rounding up and
zero horizon, lane following's boundaries, and the fusion helpers' inclusive comparisons."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.perception.fusion.identity import continuity_swaps
from drivestack.perception.fusion.kitti import CAMERA, rrc_camera_source
from drivestack.perception.fusion.kitti_eval import heading
from drivestack.perception.fusion.painting import paint_points, score_attribute
from drivestack.prediction import constant_velocity_forecast, lane_following_forecast
from drivestack.prediction.forecast import Forecast, forecast_steps
from drivestack.prediction.kinematic import ctrv_forecast
from drivestack.prediction.state import (
    TRACK_YAW_RATE,
    YawRateFit,
    estimate_states,
    fit_window_weights,
)
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from tests._shared_data import missing_shared_data
from tests.perception.fusion.test_association import front_camera
from tests.prediction.test_multimodal_forecast import FORK


def _agent(x: float, y: float, yaw: float, vx: float, vy: float, label: int = 1) -> Boxes3D:
    return Boxes3D.from_array7(
        [[x, y, 0.8, 4.5, 1.9, 1.6, yaw]], "world", label=[label], velocity_mps=[[vx, vy]]
    )


# --- kinematic.py -------------------------------------------------------------------------


def test_ctrv_turns_on_an_arc_for_a_small_but_real_yaw_rate() -> None:
    """Only ``|omega| < 1e-9`` rad/s is treated as a straight line; 5e-4 rad/s is an arc.

    v = 10 m/s along x, omega = 5e-4 rad/s, t = 10 s (omega t = 5e-3):
    y = v / omega * (1 - cos(omega t)) = 2e4 * (x^2 / 2 - x^4 / 24) = 0.25 - 5.2e-7 m,
    x = v / omega * sin(omega t) = 2e4 * (5e-3 - 5e-3^3 / 6) = 100 - 4.17e-4 m.
    A straight line would end at (100, 0).
    """
    f = ctrv_forecast(_agent(0.0, 0.0, 0.0, 10.0, 0.0), [5e-4], 10.0, 1.0)
    assert f.boxes[0, -1, 0] == pytest.approx(100.0 - 4.1667e-4, abs=1e-6)
    assert f.boxes[0, -1, 1] == pytest.approx(0.25 - 5.2e-7, abs=1e-6)


def test_a_decaying_turn_turns_the_box_by_omega_tau_one_minus_exp() -> None:
    """With decay ``tau`` the box yaw turns by ``omega * tau * (1 - exp(-t / tau))``.

    omega = 0.2 rad/s, tau = 2 s: at t = 2 s, 0.2 * 2 * (1 - e^-1) = 0.4 * 0.6321206 =
    0.2528482 rad; at t = 4 s, 0.4 * (1 - e^-2) = 0.4 * 0.8646647 = 0.3458659 rad.
    """
    f = ctrv_forecast(_agent(0.0, 0.0, 0.0, 5.0, 0.0), [0.2], 4.0, 2.0, yaw_rate_decay_s=2.0)
    np.testing.assert_allclose(f.boxes[0, :, 6], [0.0, 0.2528482, 0.3458659], atol=1e-6)


def test_a_decaying_turn_s_positions_are_the_integral_of_its_heading() -> None:
    """Damped, the position is ``x0 + integral of v (cos, sin)(theta(s)) ds`` with
    ``theta(s) = omega tau (1 - exp(-s / tau))``; the forecast's sub-stepped trapezoid rule
    must match it to about a millimetre.

    The reference integral is evaluated here independently with 200 000 trapezoids (its own
    error is far below 1e-6 m); v = 10 m/s, omega = 1 rad/s, tau = 1 s, 3 s in 0.5 s steps.
    """
    v, omega, tau = 10.0, 1.0, 1.0
    f = ctrv_forecast(_agent(0.0, 0.0, 0.0, v, 0.0), [omega], 3.0, 0.5, yaw_rate_decay_s=tau)
    s = np.linspace(0.0, 3.0, 200_001)
    theta = omega * tau * (1.0 - np.exp(-s / tau))
    ds = s[1] - s[0]
    for k in range(1, 7):
        n = k * 200_000 // 6 + 1
        ref_x = v * ds * (np.cos(theta[:n]).sum() - 0.5 * (np.cos(theta[0]) + np.cos(theta[n - 1])))
        ref_y = v * ds * (np.sin(theta[:n]).sum() - 0.5 * (np.sin(theta[0]) + np.sin(theta[n - 1])))
        np.testing.assert_allclose(f.boxes[0, k, :2], [ref_x, ref_y], atol=2e-3)


# --- state.py -------------------------------------------------------------------------------


def test_the_fit_window_slack_is_a_tenth_of_the_median_step_not_the_largest() -> None:
    """Slack = 0.1 * median sample period.

    Times 0, 0.85, 1.0, 1.1, 1.2 s: steps 0.85, 0.15, 0.1, 0.1, median 0.125 -> slack
    0.0125 s; a 0.3 s window reaches age 0.3125 s. Ages 1.2, 0.35, 0.2, 0.1, 0: only the last
    three count (a slack from the largest step, 0.085 s, would take the 0.35 s one too).
    """
    w = fit_window_weights(np.array([[0.0, 0.85, 1.0, 1.1, 1.2]]), 0.3)
    assert w.tolist() == [[0.0, 0.0, 1.0, 1.0, 1.0]]


def _turning_past() -> tuple[np.ndarray, np.ndarray]:
    """Three samples 0.5 s apart, x = 10 t, yaws 0, 0.3, 0.4 rad."""
    t = np.array([[0.0, 0.5, 1.0]])
    boxes = np.zeros((1, 3, 7))
    boxes[0, :, 0] = 10.0 * t[0]
    boxes[0, :, 3:6] = [4.5, 1.9, 1.6]
    boxes[0, :, 6] = [0.0, 0.3, 0.4]
    return t, boxes


def test_track_yaw_rate_fits_the_whole_second_and_shrinks_by_two_standard_errors() -> None:
    """TRACK_YAW_RATE: 1 s window, shrunk by 2 s.e.

    All three samples lie within 1 s. tc = -0.5, 0, 0.5, sum tc^2 = 0.5; yaw mean 7/30,
    centred -7/30, 2/30, 5/30; slope (0.5 * 7/30 + 0.5 * 5/30) / 0.5 = 0.4 rad/s. Residuals
    -1/30, 2/30, -1/30, sum r^2 = 6/900 = 1/150; se^2 = (1/150) / (3 - 2) / 0.5 = 1/75,
    se = 0.1154701. Rate 0.4 - 2 * 0.1154701 = 0.1690598 rad/s (by 1 s.e.: 0.2845299; over
    the velocity's 0.3 s window only the last two samples count: rate 0).
    """
    t, boxes = _turning_past()
    states = estimate_states(t, boxes, np.array([1]), "world", yaw_rate=TRACK_YAW_RATE)
    assert states.yaw_rate_radps[0] == pytest.approx(0.4 - 2.0 * math.sqrt(1.0 / 75.0), abs=1e-9)
    # the velocity keeps its own 0.3 s window: the last two samples, (5 - 10) ... 10 m/s
    np.testing.assert_allclose(states.boxes.velocity_mps, [[10.0, 0.0]], atol=1e-9)


def test_a_yaw_rate_window_of_zero_is_allowed_and_uses_the_last_two_samples() -> None:
    """``YawRateFit.window_s`` must be finite and >= 0: 0 is allowed, and the window then
    holds only the always-kept last two samples: (0.4 - 0.3) / 0.5 = 0.2 rad/s."""
    t, boxes = _turning_past()
    states = estimate_states(t, boxes, np.array([1]), "world", yaw_rate=YawRateFit(window_s=0.0))
    assert states.yaw_rate_radps[0] == pytest.approx(0.2, abs=1e-9)


# --- forecast.py ----------------------------------------------------------------------------


def test_forecast_steps_round_a_partial_step_up() -> None:
    """1.0 s in 0.3 s steps is 3.33 steps, not whole: ceil -> 4 (last step 1.2 s, covering
    the horizon); a constant-velocity forecast at 2 m/s then ends 2.4 m on."""
    assert forecast_steps(1.0, 0.3) == 4
    f = constant_velocity_forecast(_agent(0.0, 0.0, 0.0, 2.0, 0.0), 1.0, 0.3)
    assert f.boxes.shape == (1, 5, 7)
    assert f.boxes[0, -1, 0] == pytest.approx(2.4)


def test_a_zero_horizon_is_one_observed_step() -> None:
    """``horizon_s >= 0``: 0 s is 0 steps, a forecast of the observed state only (T+1 = 1)."""
    assert forecast_steps(0.0, 0.1) == 0
    f = constant_velocity_forecast(_agent(3.0, 4.0, 0.0, 2.0, 0.0), 0.0, 0.1)
    assert f.boxes.shape == (1, 1, 7)
    np.testing.assert_allclose(f.boxes[0, 0, :2], [3.0, 4.0])


def test_a_forecast_refuses_a_negative_height() -> None:
    """Sizes are columns 3:6 (length, width, height): a negative height is refused too."""
    boxes = np.zeros((1, 2, 7))
    boxes[..., 3:6] = [4.5, 1.9, -1.6]
    with pytest.raises(ValueError, match="negative sizes"):
        Forecast(0.5, boxes, np.zeros((1, 2)))


def test_lane_following_takes_a_vehicle_at_exactly_the_minimum_speed() -> None:
    """A vehicle is left to constant velocity only when its along-heading speed is *below*
    ``min_speed_mps`` (1 m/s): at exactly 1 m/s it follows lane A.

    Velocity (1, 0.5), yaw 0, at (20, 0): along-heading speed 1.0. Lane following over 3 s
    ends at (23, 0) with speed 1.0 (constant velocity would end at (23, 1.5), speed 1.118).
    """
    f = lane_following_forecast(_agent(20.0, 0.0, 0.0, 1.0, 0.5), FORK, 3.0, 0.5)
    np.testing.assert_allclose(f.boxes[0, -1, :2], [23.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(f.speed_mps[0], 1.0)


def test_lane_following_matches_a_lane_up_to_three_metres_away() -> None:
    """The lane is looked for within 3 m: a car 2.5 m left of A's centreline follows A.

    Velocity (10, 1), yaw 0, at (20, 2.5): along-heading speed 10; it keeps its 2.5 m offset
    and ends 30 m on at (50, 2.5), speed 10 (constant velocity: (50, 5.5), speed 10.05).
    """
    f = lane_following_forecast(_agent(20.0, 2.5, 0.0, 10.0, 1.0), FORK, 3.0, 0.5)
    np.testing.assert_allclose(f.boxes[0, -1, :2], [50.0, 2.5], atol=1e-9)
    np.testing.assert_allclose(f.speed_mps[0], 10.0)


def test_a_heading_error_equal_to_the_limit_still_follows_the_lane() -> None:
    """A lane is refused only when its heading is *more* than ``max_heading_error_rad`` off:
    with a limit of 0 a car exactly along A (error 0) still follows it: (20, 0) + 3 s * 10
    m/s = (50, 0) (constant velocity with velocity (10, 1) would reach (50, 3))."""
    f = lane_following_forecast(
        _agent(20.0, 0.0, 0.0, 10.0, 1.0), FORK, 3.0, 0.5, max_heading_error_rad=0.0
    )
    np.testing.assert_allclose(f.boxes[0, -1, :2], [50.0, 0.0], atol=1e-9)


def test_a_heading_error_limit_of_pi_is_accepted() -> None:
    """``max_heading_error_rad`` may be any angle in [0, pi], pi included (every lane the
    nearest-lane search keeps is accepted): the car follows A to (50, 0)."""
    f = lane_following_forecast(
        _agent(20.0, 0.0, 0.0, 10.0, 1.0), FORK, 3.0, 0.5, max_heading_error_rad=math.pi
    )
    np.testing.assert_allclose(f.boxes[0, -1, :2], [50.0, 0.0], atol=1e-9)


# --- perception/fusion: painting.py, identity.py, kitti.py ---------------------------------

CAR, PED = int(ObjectClass.CAR), int(ObjectClass.PEDESTRIAN)


def test_a_point_on_a_box_edge_is_painted() -> None:
    """A pixel inside a box *or on its edge* (x1 <= u <= x2, y1 <= v <= y2) gets its score.

    front_camera: u = 621 - 700 y / x, v = 187.5 - 700 (z - 1.5) / x, so ego (10, 0, 1.5) is
    pixel (621, 187.5): on the car box's left edge x1 = 621 and on the pedestrian box's
    bottom edge y2 = 187.5; ego (20, -1, 2) is (656, 170), inside both (a control).
    """
    cal = front_camera()
    dets = Detections2D(
        np.array([[621.0, 150.0, 700.0, 220.0], [560.0, 100.0, 660.0, 187.5]]),
        cal.frame,
        score=np.array([0.9, 0.6]),
        label=np.array([CAR, PED]),
    )
    cloud = PointCloud(np.array([[10.0, 0.0, 1.5], [20.0, -1.0, 2.0]]), "ego", 0)
    painted = paint_points(cloud, dets, cal, [CAR, PED])
    np.testing.assert_allclose(painted.attributes[score_attribute(CAR)], [0.9, 0.9])
    np.testing.assert_allclose(painted.attributes[score_attribute(PED)], [0.6, 0.6])


_SQUARES = np.array([[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 30.0, 10.0]])


def test_tracks_exactly_radius_apart_are_not_swapped() -> None:
    """Only pairs *closer* than ``radius_m`` are considered: the two tracks exchanged their
    image boxes exactly (gain 2), but their centres are 1.0 m apart and the radius is 1.0 m
    (at 1.01 m radius they are swapped)."""
    xy = np.array([[0.0, 0.0], [1.0, 0.0]])
    assert continuity_swaps(_SQUARES, _SQUARES[::-1], xy, 1.0, 0.0) == []
    assert continuity_swaps(_SQUARES, _SQUARES[::-1], xy, 1.01, 0.0) == [(0, 1)]


def test_a_gain_equal_to_the_margin_is_not_a_swap() -> None:
    """The exchange must gain *more* than ``margin``: boxes exchanged exactly give swapped
    IoUs 1 + 1 against kept 0 + 0, gain 2.0; margin 2.0 -> no swap, 1.99 -> swap."""
    xy = np.array([[0.0, 0.0], [0.5, 0.0]])
    assert continuity_swaps(_SQUARES, _SQUARES[::-1], xy, 5.0, 2.0) == []
    assert continuity_swaps(_SQUARES, _SQUARES[::-1], xy, 5.0, 1.99) == [(0, 1)]


def test_previous_boxes_must_overlap_strictly_less_than_max_mutual_iou() -> None:
    """``max_mutual_iou``: the previous boxes must overlap *less* than it. Disjoint squares
    have IoU 0: a limit of 0 refuses the swap (0 < 0 is false), a limit of 0.01 allows it."""
    xy = np.array([[0.0, 0.0], [0.5, 0.0]])
    assert continuity_swaps(_SQUARES, _SQUARES[::-1], xy, 5.0, 0.0, max_mutual_iou=0.0) == []
    assert continuity_swaps(_SQUARES, _SQUARES[::-1], xy, 5.0, 0.0, max_mutual_iou=0.01) == [(0, 1)]


def test_the_largest_gain_pair_is_swapped_first() -> None:
    """A track in two candidate pairs goes to the one with the larger gain.

    Boxes (all 10 px tall, y 0-10): previous P0 = x 0-10, P1 = x 100-110, P2 = x 10-20;
    current C0 = P1, C1 = x 5-15, C2 = x 100-110 on y 2-10. IoU(P, C) with own IoUs all 0:
    (0, 1): IoU(P0, C1) = 50 / 150 = 1/3, IoU(P1, C0) = 1 -> gain 4/3;
    (1, 2): IoU(P1, C2) = 80 / 100 = 0.8, IoU(P2, C1) = 1/3 -> gain 1.133;
    (0, 2): IoU(P0, C2) = 0, not mutual. Track 1 is swapped with 0, and 2 keeps its identity.
    """
    prev = np.array([[0.0, 0, 10, 10], [100.0, 0, 110, 10], [10.0, 0, 20, 10]])
    cur = np.array([[100.0, 0, 110, 10], [5.0, 0, 15, 10], [100.0, 2, 110, 10]])
    xy = np.array([[0.0, 0.0], [0.5, 0.0], [1.0, 0.0]])
    assert continuity_swaps(prev, cur, xy, 5.0, 0.0) == [(0, 1)]


def test_the_gain_subtracts_both_tracks_own_overlaps() -> None:
    """gain = IoU(P0, C1) + IoU(P1, C0) - IoU(P0, C0) - IoU(P1, C1).

    Boxes 10 px tall (y 0-10): P0 = x 0-10, P1 = x 10-20, C0 = x 8-18, C1 = x 2-12.
    Swapped IoUs 8 / 12 = 2/3 each, own IoUs 2 / 18 = 1/9 each: gain 4/3 - 2/9 = 10/9 = 1.111,
    not more than a margin of 1.15 (with only one own term subtracted it would be 11/9); more
    than 1.1.
    """
    prev = np.array([[0.0, 0, 10, 10], [10.0, 0, 20, 10]])
    cur = np.array([[8.0, 0, 18, 10], [2.0, 0, 12, 10]])
    xy = np.array([[0.0, 0.0], [0.5, 0.0]])
    assert continuity_swaps(prev, cur, xy, 5.0, 1.15) == []
    assert continuity_swaps(prev, cur, xy, 5.0, 1.1) == [(0, 1)]


@pytest.mark.data
def test_a_camera_row_scoring_exactly_min_score_counts_as_reported(
    shared_data: Path, tmp_path: Path
) -> None:
    """``n_reported`` counts the rows with ``score >= min_score``: a car row at frame 0
    scoring exactly 0.25 with min_score 0.25 is one report; frame 1's 0.2 is none."""
    calib_file = shared_data / "kitti_tracking/training/calib/0006.txt"
    if not calib_file.is_file():
        missing_shared_data(f"real data file not found: {calib_file}")
    calib = read_kitti_calib(calib_file)
    root = tmp_path / "rrc"
    for cls, text in (
        ("Car", "0,100,100,200,160,0.25\n1,100,100,200,160,0.2\n"),
        ("Pedestrian", ""),
    ):
        (root / cls).mkdir(parents=True)
        (root / cls / "0006.txt").write_text(text)
    source = rrc_camera_source(root, "0006", calib, ("Pedestrian",), min_score=0.25, n_frames=2)
    assert [source(f * 100_000_000).n_reported for f in range(2)] == [{CAMERA: 1}, {CAMERA: 0}]


def test_a_subset_heading_names_its_sequences_comma_separated() -> None:
    """heading() appends the ``--sequences`` subset joined by bare commas, as its docstring
    shows: ``iou_3d 0.25 (val, 2 sequences), subset 0001,0006``; no subset, no suffix."""
    text = heading("iou_3d", 0.25, "val", 2, subset=["0001", "0006"])
    assert text == "iou_3d 0.25 (val, 2 sequences), subset 0001,0006"
    assert text == heading("iou_3d", 0.25, "val", 2) + ", subset 0001,0006"
