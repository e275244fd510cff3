"""Closed-loop metrics on degenerate or damaged histories (a bad-input campaign): a clear
``ValueError`` naming the field, or the documented result, never a crash deep inside NumPy /
shapely nor a NaN silently scored."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.eval.driving.ncap import min_distance_m, ncap_result
from drivestack.eval.driving.nuplan import (
    classify_collisions,
    min_time_to_collision_s,
    nuplan_score,
    progress_ratio,
)
from drivestack.eval.driving.traffic_lights import red_light_violations
from drivestack.planning.reference_path import ReferencePath
from drivestack.sim.runner import SimHistory
from drivestack.structures.road_map import RoadMap
from tests.eval.driving.test_nuplan_metrics import DT, ROAD, ROUTE, car, history

N = 30


def drive() -> SimHistory:
    x = 10 + 10 * DT * np.arange(N)
    return history(x, np.full(N, 10.0), agents=car(x + 30), agent_vel=np.zeros((N, 1, 2)))


def changed(h, name: str, index: tuple, value: float):  # type: ignore[no-untyped-def]
    arr = np.array(getattr(h, name), copy=True)
    arr[index] = value
    return dataclasses.replace(h, **{name: arr})


ALL = (
    lambda h: nuplan_score(h, ROAD, ROUTE, 10.0),
    lambda h: min_time_to_collision_s(h, road_map=ROAD),
    lambda h: ncap_result(h, 1.0),
    lambda h: red_light_violations(h, ROAD),
    lambda h: classify_collisions(h, ROAD),
)


@pytest.mark.parametrize(
    ("name", "index", "value"),
    [
        ("ego_x_m", (5,), np.nan),  # was a silent driving-direction 0
        ("ego_speed_mps", (5,), np.inf),  # was a SciPy "array must not contain infs or NaNs"
        ("ego_boxes", (5, 3), np.nan),
        ("agent_boxes", (5, 0, 0), np.nan),  # a valid agent: was never hit, silently
        ("agent_velocity_mps", (5, 0, 1), np.nan),
    ],
)
def test_nan_in_the_history_is_refused_naming_field_and_tick(name, index, value) -> None:  # type: ignore[no-untyped-def]
    h = changed(drive(), name, index, value)
    for metric in ALL:
        with pytest.raises(ValueError, match=rf"history\.{name} is NaN or infinite at tick 5"):
            metric(h)


def test_timestamps_that_do_not_increase_are_refused() -> None:
    h = changed(drive(), "timestamp_ns", (6,), 500_000_000)  # tick 6 at tick 5's time
    for metric in ALL:
        with pytest.raises(ValueError, match=r"history\.timestamp_ns does not increase at tick 6"):
            metric(h)


@pytest.mark.parametrize("dt", [0.0, -0.1, float("nan")])
def test_a_bad_tick_length_is_refused(dt: float) -> None:
    # dt 0 was a ZeroDivisionError, -0.1 a silent score
    with pytest.raises(ValueError, match=r"history\.dt_s must be a finite number > 0"):
        nuplan_score(dataclasses.replace(drive(), dt_s=dt), ROAD, ROUTE, 10.0)


def test_arrays_that_do_not_fit_are_refused_naming_the_array() -> None:
    h = dataclasses.replace(drive(), collisions=np.zeros((N, 2), dtype=bool))
    with pytest.raises(ValueError, match=r"history\.collisions must have shape \(30, 1\)"):
        min_time_to_collision_s(h)  # was an IndexError
    h = dataclasses.replace(drive(), agent_ids=("a0", "a1"))
    with pytest.raises(ValueError, match=r"history\.agent_labels must have shape \(2,\)"):
        red_light_violations(h, ROAD)  # was an IndexError


def test_a_history_of_no_tick() -> None:
    h = drive()
    empty = dataclasses.replace(
        h,
        **{
            f.name: getattr(h, f.name)[:0]
            for f in dataclasses.fields(h)
            if isinstance(getattr(h, f.name), np.ndarray) and f.name != "agent_labels"
        },
    )
    for metric in (
        lambda h: nuplan_score(h, ROAD, ROUTE, 10.0),
        lambda h: ncap_result(h, 1.0),
    ):  # both were IndexErrors
        with pytest.raises(ValueError, match="history has 0 ticks"):
            metric(empty)
    assert min_time_to_collision_s(empty).shape == (0,)  # documented
    assert red_light_violations(empty, ROAD).count == 0


def test_an_absent_agents_nan_box_is_not_read() -> None:
    h = drive()
    boxes, valid = h.agent_boxes.copy(), h.agent_valid.copy()
    boxes[:5], valid[:5] = np.nan, False  # appears at tick 5
    h = dataclasses.replace(h, agent_boxes=boxes, agent_valid=valid)
    assert np.isfinite(min_distance_m(h))  # was "boxes contains NaN or infinite values"
    assert ncap_result(h, 1.0).avoided is True
    assert nuplan_score(h, ROAD, ROUTE, 10.0).score > 0


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # the route of one point
def test_bad_expert_progress_map_and_route_are_refused() -> None:
    h = drive()
    with pytest.raises(ValueError, match="expert_progress_m must be a finite number"):
        nuplan_score(h, ROAD, ROUTE, float("nan"))  # was a silent progress 1
    with pytest.raises(ValueError, match="progress_m must be a finite number"):
        progress_ratio(float("nan"), 10.0)
    with pytest.raises(ValueError, match="road_map has no drivable area"):
        nuplan_score(h, RoadMap(()), ROUTE, 10.0)  # was a NaN max_outside_drivable_m
    with pytest.raises(ValueError, match="polyline_m has fewer than 2 distinct points"):
        ReferencePath.from_polyline(np.array([[0.0, 0.0], [0.0, 0.0]]), 10.0)
    zero = np.zeros(2)  # built field by field: from_polyline refuses a zero-length path
    point = ReferencePath(np.zeros((2, 2)), zero, zero, zero, np.full(2, 10.0))
    with pytest.raises(ValueError, match="route has no length"):
        nuplan_score(h, ROAD, point, 10.0)  # was a NaN progress_m


def test_ttc_horizon_and_step_are_checked() -> None:
    with pytest.raises(ValueError, match="step_s must be a finite number > 0"):
        min_time_to_collision_s(drive(), step_s=0.0)


def test_ncap_refuses_a_nan_min_ttc() -> None:
    with pytest.raises(ValueError, match="min_ttc_s must be a number"):
        ncap_result(drive(), float("nan"))  # was reported as "no projected hit"
    assert ncap_result(drive(), float("inf")).min_ttc_s is None
