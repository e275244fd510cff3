"""nuPlan's open-loop metrics (drivestack.eval.driving.open_loop) on hand-computed cases."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.eval.driving.open_loop import (
    InstantErrors,
    OpenLoopParams,
    horizon_metrics,
    instant_errors,
    mean_score,
    open_loop_result,
    open_loop_score,
)
from drivestack.eval.driving.open_loop_logs import instant_times_s
from drivestack.structures.trajectory import Trajectory

PARAMS = OpenLoopParams()


def line(
    t0_s: float,
    duration_s: float,
    speed_mps: float,
    *,
    x0_m: float = 0.0,
    y0_m: float = 0.0,
    yaw_rad: float = 0.0,
    dt_s: float = 0.1,
) -> Trajectory:
    """A straight drive at constant speed from ``(x0, y0)`` along ``yaw_rad``."""
    t = np.arange(round(duration_s / dt_s) + 1) * dt_s
    d = speed_mps * t
    n = len(t)
    return Trajectory(
        np.round((t0_s + t) * 1e9).astype(np.int64),
        x0_m + d * math.cos(yaw_rad),
        y0_m + d * math.sin(yaw_rad),
        np.full(n, yaw_rad),
        np.full(n, speed_mps),
        np.zeros(n),
        np.zeros(n),
    )


def test_a_plan_one_metre_to_the_side_has_average_and_final_l2_of_one_metre() -> None:
    expert = line(0.0, 20.0, 10.0)
    planned = line(2.0, 8.0, 10.0, x0_m=20.0, y0_m=1.0)  # made at 2 s, 1 m to the left
    errors = instant_errors(planned, expert, 2.0, PARAMS, center_offset_m=1.56)
    assert errors.displacement_m == pytest.approx(np.ones(8))
    assert errors.heading_error_rad == pytest.approx(np.zeros(8))
    result = open_loop_result([errors], PARAMS)
    for h in result.horizons:
        assert (h.instants, h.average_l2_m, h.final_l2_m, h.miss_rate) == (1, 1.0, 1.0, 0.0)
    assert result.scores == pytest.approx(
        {"average_l2": 7 / 8, "final_l2": 7 / 8, "average_heading": 1.0, "final_heading": 1.0}
    )
    assert result.score == pytest.approx((7 / 8 + 7 / 8 + 2 + 2) / 6)


def test_heading_errors_wrap_and_move_the_box_centre() -> None:
    # both stand still on one spot, headings 0.2 rad apart across the +-pi seam
    expert = line(0.0, 10.0, 0.0, yaw_rad=-math.pi + 0.1)
    planned = line(0.0, 8.0, 0.0, yaw_rad=math.pi - 0.1)
    at_axle = instant_errors(planned, expert, 0.0, PARAMS, center_offset_m=0.0)
    assert at_axle.heading_error_rad == pytest.approx(np.full(8, 0.2))
    assert at_axle.displacement_m == pytest.approx(np.zeros(8), abs=1e-12)
    # compared at the box centre 1 m ahead of the axle: a chord of the 0.2 rad turn
    at_centre = instant_errors(planned, expert, 0.0, PARAMS, center_offset_m=1.0)
    assert at_centre.displacement_m == pytest.approx(np.full(8, 2 * math.sin(0.1)))


def test_a_miss_is_a_largest_error_strictly_over_the_horizons_threshold() -> None:
    def errors(largest_m: float) -> InstantErrors:
        return InstantErrors(0.0, np.array([0.0, 1.0, largest_m, 0.0]), np.zeros(4))

    # horizon 3 s: threshold 6 m over samples 1..3
    assert horizon_metrics([errors(6.0)], 3.0, 6.0, PARAMS).miss_rate == 0.0
    assert horizon_metrics([errors(6.000001)], 3.0, 6.0, PARAMS).miss_rate == 1.0
    rate = horizon_metrics([errors(7.0), errors(1.0), errors(2.0)], 3.0, 6.0, PARAMS).miss_rate
    assert rate == pytest.approx(1 / 3)


def test_the_open_loop_score_combines_as_nuplan_on_a_hand_case() -> None:
    # error k m at sample k s, heading error 0.1 rad throughout
    ramp = InstantErrors(0.0, np.arange(1.0, 9.0), np.full(8, 0.1))
    result = open_loop_result([ramp], PARAMS)
    assert [h.average_l2_m for h in result.horizons] == pytest.approx([2.0, 3.0, 4.5])
    assert [h.final_l2_m for h in result.horizons] == pytest.approx([3.0, 5.0, 8.0])
    assert result.average_l2_m == pytest.approx(9.5 / 3)
    assert result.final_l2_m == pytest.approx(16 / 3)
    # largest errors 3, 5, 8 m are within 6, 8, 16 m: no miss
    assert result.miss_rate_within_bound == 1.0
    expected = ((1 - 9.5 / 24) + (1 - 16 / 24) + 2 * 0.875 + 2 * 0.875) / 6
    assert result.weighted_score == pytest.approx(expected)
    assert result.score == pytest.approx(expected)
    # one instant of three missing at 3 s (a 7 m error): miss rate 1/3 > 0.3, score 0
    far = InstantErrors(1.0, np.full(8, 7.0), np.zeros(8))
    missed = open_loop_result([ramp, ramp, far], PARAMS)
    assert missed.horizons[0].miss_rate == pytest.approx(1 / 3)
    assert missed.miss_rate_within_bound == 0.0 and missed.score == 0.0
    assert missed.weighted_score is not None and missed.weighted_score > 0.0
    # one of four: 0.25 <= 0.3 passes
    assert open_loop_result([ramp, ramp, ramp, far], PARAMS).miss_rate_within_bound == 1.0
    # a bounded score never goes below 0
    huge = open_loop_result([InstantErrors(0.0, np.full(8, 100.0), np.full(8, 3.0))], PARAMS)
    assert huge.scores == {k: 0.0 for k in huge.scores or {}} and huge.score == 0.0


def test_horizons_the_recording_does_not_cover_are_left_out() -> None:
    expert = line(0.0, 10.5, 5.0)
    planned = line(4.0, 8.0, 5.0, x0_m=20.0)
    errors = instant_errors(planned, expert, 4.0, PARAMS, center_offset_m=1.56)
    assert len(errors.displacement_m) == 6  # samples at 5..10 s
    counts = [h.instants for h in open_loop_result([errors], PARAMS).horizons]
    assert counts == [1, 1, 0]
    unscored = open_loop_result([errors], PARAMS)
    assert unscored.score is None and unscored.average_l2_m is None
    assert (
        mean_score(
            [unscored, open_loop_result([InstantErrors(0, np.zeros(8), np.zeros(8))], PARAMS)]
        )
        == 1.0
    )
    # a 15.5 s log: instants 0..12 s (13), as the AV2 logs give
    assert instant_times_s(15.5, PARAMS) == [float(k) for k in range(13)]
    assert instant_times_s(2.9, PARAMS) == []
    assert instant_times_s(3.0, PARAMS) == [0.0]


def test_a_plan_shorter_than_the_comparison_or_in_another_frame_is_refused() -> None:
    expert = line(0.0, 20.0, 5.0)
    with pytest.raises(ValueError, match=r"covers 4.00 s; the comparison needs 8.00 s"):
        instant_errors(line(1.0, 4.0, 5.0), expert, 1.0, PARAMS, 1.0)
    with pytest.raises(ValueError, match="does not start by then"):
        instant_errors(line(1.5, 9.0, 5.0), expert, 1.0, PARAMS, 1.0)
    other = dataclasses.replace(line(1.0, 8.0, 5.0), frame="map")
    with pytest.raises(ValueError, match="the plan is in frame 'map'"):
        instant_errors(other, expert, 1.0, PARAMS, 1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizons_s": (3.0, 2.5, 8.0)}, "must be increasing"),
        ({"horizons_s": (2.5,), "miss_thresholds_m": (6.0,)}, "not a whole number"),
        ({"miss_thresholds_m": (6.0, 8.0)}, "one threshold per horizon"),
        ({"max_average_l2_error_m": 0.0}, "max_average_l2_error_m"),
        ({"horizons_s": ()}, "at least one horizon"),
    ],
)
def test_bad_settings_name_the_field(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OpenLoopParams(**kwargs)  # type: ignore[arg-type]


def test_the_score_needs_all_four_parts() -> None:
    with pytest.raises(ValueError, match="missing scores"):
        open_loop_score({"average_l2": 1.0}, 1.0)


@settings(max_examples=25, deadline=None)
@given(
    angle=st.floats(-math.pi, math.pi),
    dx=st.floats(-1e4, 1e4),
    dy=st.floats(-1e4, 1e4),
    speed=st.floats(0.0, 30.0),
    turn=st.floats(-0.5, 0.5),
    side=st.floats(-3.0, 3.0),
)
def test_errors_do_not_change_when_both_drives_move_rigidly(
    angle: float, dx: float, dy: float, speed: float, turn: float, side: float
) -> None:
    expert = line(0.0, 12.0, speed)
    planned = line(1.0, 8.0, speed * 0.8, x0_m=speed, y0_m=side, yaw_rad=turn)

    def moved(tr: Trajectory) -> Trajectory:
        c, s = math.cos(angle), math.sin(angle)
        return Trajectory(
            tr.timestamp_ns,
            c * tr.x_m - s * tr.y_m + dx,
            s * tr.x_m + c * tr.y_m + dy,
            tr.yaw_rad + angle,
            tr.speed_mps,
            tr.acceleration_mps2,
            tr.curvature_1pm,
        )

    a = instant_errors(planned, expert, 1.0, PARAMS, 1.5)
    b = instant_errors(moved(planned), moved(expert), 1.0, PARAMS, 1.5)
    assert b.displacement_m == pytest.approx(a.displacement_m, abs=1e-6)
    assert b.heading_error_rad == pytest.approx(a.heading_error_rad, abs=1e-9)
    assert np.all(a.heading_error_rad <= math.pi)
