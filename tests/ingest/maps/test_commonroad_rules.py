"""CommonRoad rules read as commonroad-io 2026.1 reads them: every country's maximum-speed sign,
the lowest of several limits, drivability from every laneletType and the road users, the
planning problem's initial time step and choice, and goal states."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.errors import DataError
from drivestack.ingest.maps.commonroad import (
    SPEED_SIGNS,
    GoalState,
    goal_reached_time_s,
    read_commonroad,
)
from tests.ingest.maps.test_commonroad_errors import _lanelet, _obstacle, _write


def _sign(sid: str, element: str, value: str | None) -> str:
    extra = "" if value is None else f"<additionalValue>{value}</additionalValue>"
    return (
        f'<trafficSign id="{sid}"><trafficSignElement><trafficSignID>{element}</trafficSignID>'
        f"{extra}</trafficSignElement></trafficSign>"
    )


def _signed(tmp_path: Path, refs: list[str], signs: str) -> Path:
    """Lanelet 1 referencing ``refs``, lanelet 2 none, and the ``signs``."""
    extra = "".join(f'<trafficSignRef ref="{r}"/>' for r in refs)
    return _write(tmp_path, _lanelet("1", 0.0, extra) + _lanelet("2", 3.5) + signs)


# commonroad-io's TrafficSignID<Country>.MAX_SPEED values
@pytest.mark.parametrize("element", ["R15", "B14", "r301", "C43", "B31", "Ρ-32", "3.24", "274"])
def test_every_countrys_max_speed_sign_is_read(tmp_path: Path, element: str) -> None:
    path = _signed(tmp_path, ["10"], _sign("10", element, "11.5"))
    sc = read_commonroad(path)
    assert sc.road_map.lane("1").speed_limit_mps == 11.5
    assert sc.road_map.lane("2").speed_limit_mps == 13.89  # the default


def test_the_lowest_of_several_limits_wins(tmp_path: Path) -> None:
    signs = _sign("10", "R2-1", "15.6464") + _sign("11", "R2-1", "11.176")
    for refs in (["10", "11"], ["11", "10"]):
        sc = read_commonroad(_signed(tmp_path, refs, signs))
        assert sc.road_map.lane("1").speed_limit_mps == 11.176


@pytest.mark.parametrize("element", ["275", "274.2", "278"])  # minimum speed, zone / limit end
def test_signs_that_are_no_maximum_are_not_read_and_not_warned(
    tmp_path: Path, element: str
) -> None:
    path = _signed(tmp_path, ["10"], _sign("10", element, "20"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sc = read_commonroad(path)
    assert sc.road_map.lane("1").speed_limit_mps == 13.89


def test_an_unknown_sign_with_a_value_is_warned_once(tmp_path: Path) -> None:
    signs = _sign("10", "X99", "20") + _sign("11", "X99", "25") + _sign("12", "R2-1", "9.0")
    path = _signed(tmp_path, ["10", "11", "12"], signs)
    with pytest.warns(UserWarning, match=r"'X99' \(trafficSign 10\)") as caught:
        sc = read_commonroad(path)
    assert len(caught) == 1
    assert sc.road_map.lane("1").speed_limit_mps == 9.0


def test_no_sign_id_collides_with_another_meaning() -> None:
    assert "275" not in SPEED_SIGNS and "274.2" not in SPEED_SIGNS


@pytest.mark.data
def test_argentinian_signs_match_the_german_ids_they_replace(
    shared_data: Path, tmp_path: Path
) -> None:
    """The ARG file uses id 274; with commonroad-io's Argentine R15 it gives the same speeds."""
    original = shared_data / "commonroad" / "ARG_Carcarana-4_5_T-1.xml"
    text = original.read_text(encoding="utf-8")
    assert text.count("<trafficSignID>274</trafficSignID>") == 18
    rewritten = tmp_path / "arg_r15.xml"
    rewritten.write_text(
        text.replace("<trafficSignID>274</trafficSignID>", "<trafficSignID>R15</trafficSignID>"),
        encoding="utf-8",
    )
    want = {lane.lane_id: lane.speed_limit_mps for lane in read_commonroad(original).road_map.lanes}
    got = {lane.lane_id: lane.speed_limit_mps for lane in read_commonroad(rewritten).road_map.lanes}
    assert got == want
    assert sorted(set(want.values())) == pytest.approx([100 / 9, 13.89, 250 / 9])


@pytest.mark.parametrize(
    ("extra", "lane_type", "drivable"),
    [
        ("<laneletType>urban</laneletType><laneletType>sidewalk</laneletType>", "sidewalk", False),
        (
            "<laneletType>urban</laneletType><laneletType>bicycleLane</laneletType>",
            "bicycleLane",
            False,
        ),
        ("<laneletType>urban</laneletType><userOneWay>bicycle</userOneWay>", "bicycleLane", False),
        ("<laneletType>urban</laneletType><userOneWay>pedestrian</userOneWay>", "sidewalk", False),
        (
            "<laneletType>urban</laneletType><userBidirectional>train</userBidirectional>",
            "rail",
            False,
        ),
        ("<laneletType>urban</laneletType><userOneWay>bus</userOneWay>", "urban", True),
        (
            "<laneletType>urban</laneletType><userBidirectional>vehicle</userBidirectional>",
            "urban",
            True,
        ),
        ("<laneletType>busLane</laneletType>", "busLane", True),
        ("<laneletType>shoulder</laneletType>", "shoulder", True),
        (
            "<laneletType>crosswalk</laneletType><laneletType>urban</laneletType>",
            "crosswalk",
            False,
        ),
    ],
)
def test_drivability_from_every_type_and_the_users(
    tmp_path: Path, extra: str, lane_type: str, drivable: bool
) -> None:
    sc = read_commonroad(_write(tmp_path, _lanelet("1", 0.0, extra) + _lanelet("2", 3.5)))
    lane = sc.road_map.lane("1")
    assert (lane.lane_type, lane.drivable) == (lane_type, drivable)


def _problem(pid: str, x: float, time: str | None = None, goal: str = "") -> str:
    t = "" if time is None else f"<time><exact>{time}</exact></time>"
    return (
        f'<planningProblem id="{pid}"><initialState><position><point><x>{x}</x><y>0.0</y>'
        "</point></position><orientation><exact>0.0</exact></orientation>"
        f"<velocity><exact>5.0</exact></velocity>{t}</initialState>"
        f"<goalState>{goal or '<time><exact>20</exact></time>'}</goalState></planningProblem>"
    )


def test_the_initial_time_step_shifts_the_obstacles_and_goal_times(tmp_path: Path) -> None:
    obstacle = _obstacle(time="40")  # states at steps 0 and 40
    with pytest.warns(UserWarning, match="goalState 0/time: the goal's time ends at step 20"):
        sc = read_commonroad(_write(tmp_path, obstacle=obstacle, problem=_problem("5", 1.0, "30")))
    track = sc.agents[0].replay
    assert track is not None
    np.testing.assert_allclose(track.time_s, [-3.0, 1.0])  # step 30 is the run's t = 0
    assert sc.initial_time_s == 3.0
    assert sc.goal_states[0].time_s == pytest.approx((-1.0, -1.0))  # goal at step 20


def test_a_negative_initial_time_step_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="planningProblem 5: field initialState/time"):
        read_commonroad(_write(tmp_path, problem=_problem("5", 1.0, "-2")))


def test_several_planning_problems_need_a_choice(tmp_path: Path) -> None:
    path = _write(tmp_path, problem=_problem("5", 1.0) + _problem("6", 20.0))
    with pytest.raises(
        DataError, match=r"field planningProblem: 2 planning problems \(ids \['5', '6'\]\)"
    ):
        read_commonroad(path)
    assert read_commonroad(path, planning_problem=6).ego_initial[0] == 20.0
    assert read_commonroad(path, planning_problem="5").planning_problem_id == "5"
    with pytest.raises(DataError, match=r"no planning problem '7' \(the file's: \['5', '6'\]\)"):
        read_commonroad(path, planning_problem=7)


def test_goal_shapes_and_intervals(tmp_path: Path) -> None:
    goal = (
        "<position><rectangle><length>4.0</length><width>2.0</width>"
        f"<orientation>{math.pi / 2}</orientation><center><x>30.0</x><y>0.0</y></center>"
        "</rectangle><circle><radius>1.0</radius><center><x>40.0</x><y>0.0</y></center></circle>"
        "</position><time><intervalStart>10</intervalStart><intervalEnd>20</intervalEnd></time>"
        "<velocity><intervalStart>0.0</intervalStart><intervalEnd>3.0</intervalEnd></velocity>"
    )
    sc = read_commonroad(_write(tmp_path, problem=_problem("5", 1.0, None, goal)))
    (g,) = sc.goal_states
    assert g.time_s == (1.0, 2.0) and g.speed_mps == (0.0, 3.0) and g.yaw_rad is None
    # the rectangle turned a quarter: 2 m along x, 4 m along y
    yes = g.reached([1.5] * 4, [30.9, 30.0, 40.0, 40.7], [0.0, 1.9, 0.0, 0.7], [0.0] * 4, [1.0] * 4)
    assert yes.tolist() == [True, True, True, True]
    no = g.reached(
        [1.5, 1.5, 0.5, 1.5],
        [31.2, 30.0, 30.0, 30.0],
        [0.0, 0.0, 0.0, 0.0],
        [0.0] * 4,
        [1, 1, 1, 4],
    )
    assert no.tolist() == [False, True, False, False]
    with pytest.raises(DataError, match="goalState 0/position/circle/radius"):
        read_commonroad(
            _write(
                tmp_path,
                problem=_problem("5", 1.0, None, goal.replace(">1.0</radius", ">-1</radius")),
            )
        )


def test_a_goal_lanelet_is_its_polygon_and_reached_first_time(tmp_path: Path) -> None:
    goal = '<position><lanelet ref="2"/></position>'
    sc = read_commonroad(_write(tmp_path, problem=_problem("5", 1.0, None, goal)))
    assert sc.goal_lanelets == ("2",)
    t = np.arange(5) * 0.1
    y = np.array([0.0, 1.0, 2.0, 3.0, 4.0])  # lanelet 2 spans y 1.75 .. 5.25
    zeros = np.zeros(5)
    assert goal_reached_time_s(sc.goal_states, t, zeros + 10, y, zeros, zeros) == pytest.approx(0.2)
    assert goal_reached_time_s(sc.goal_states, t, zeros + 60, y, zeros, zeros) is None
    assert goal_reached_time_s((), t, zeros, y, zeros, zeros) is None


@settings(max_examples=60, deadline=None)
@given(
    start=st.floats(-10.0, 10.0),
    width=st.floats(0.0, 6.0),
    turns=st.integers(-3, 3),
    inside=st.floats(0.0, 1.0),
)
def test_orientation_interval_is_an_angle_interval(
    start: float, width: float, turns: int, inside: float
) -> None:
    goal = GoalState(yaw_rad=(start, start + width))
    yaw = start + inside * width + 2 * math.pi * turns  # inside, a whole number of turns away
    assert goal.reached([0.0], [0.0], [0.0], [yaw], [0.0]).tolist() == [True]
    if width < 2 * math.pi - 0.02:  # just past either end, modulo turns: outside
        for outside in (start - 0.01, start + width + 0.01):
            assert not goal.reached([0.0], [0.0], [0.0], [outside + 2 * math.pi * turns], [0.0])[0]


@pytest.mark.data
def test_us101_goal_state(shared_data: Path) -> None:
    sc = read_commonroad(shared_data / "commonroad" / "USA_US101-4_1_T-1.xml")
    (g,) = sc.goal_states
    assert g.time_s == (9.0, 10.0) and g.speed_mps == (0.0, 3.0)
    assert g.yaw_rad == (-0.81093, -0.63639)
    assert g.area is not None and g.area.area == pytest.approx(2.2678 * 1.7444, rel=1e-9)
    # centre (17.836, -17.2178); 1.0 m along the rectangle's length (orientation -0.73431) is
    # inside (half length 1.1339), 1.0 m across it is not (half width 0.8722)
    c, s = math.cos(-0.73431), math.sin(-0.73431)
    x = [17.836, 17.836 + c, 17.836 - s]
    y = [-17.2178, -17.2178 + s, -17.2178 + c]
    assert g.reached([9.5] * 3, x, y, [-0.7] * 3, [1.0] * 3).tolist() == [True, True, False]


@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_speed_sign_that_is_not_positive_is_refused(tmp_path: Path, value: str) -> None:
    # it was the lowest limit, then replaced by the default: faster than the other sign says
    signs = _sign("10", "R2-1", value) + _sign("11", "R2-1", "8.33")
    with pytest.raises(DataError, match="trafficSign 10: field additionalValue: a speed limit"):
        read_commonroad(_signed(tmp_path, ["10", "11"], signs))


def test_a_zero_speed_limit_element_gives_way_to_a_sign(tmp_path: Path) -> None:
    extra = '<speedLimit>0</speedLimit><trafficSignRef ref="11"/>'
    path = _write(
        tmp_path, _lanelet("1", 0.0, extra) + _lanelet("2", 3.5) + _sign("11", "R2-1", "8.33")
    )
    assert read_commonroad(path).road_map.lane("1").speed_limit_mps == 8.33


def test_an_unknown_road_user_is_refused(tmp_path: Path) -> None:
    # a typo named no vehicle, so the road lane became a sidewalk
    extra = "<laneletType>urban</laneletType><userOneWay>Car</userOneWay>"
    path = _write(tmp_path, _lanelet("1", 0.0, extra) + _lanelet("2", 3.5))
    with pytest.raises(
        DataError, match="lanelet 1: field userOneWay / userBidirectional: unknown road user 'Car'"
    ):
        read_commonroad(path)


def test_a_negative_obstacle_time_step_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="field time: must be a time step >= 0, got -3"):
        read_commonroad(_write(tmp_path, obstacle=_obstacle(time="-3")))


def test_a_goal_that_ends_before_the_start_is_warned_about(tmp_path: Path) -> None:
    problem = _problem(
        "5",
        1.0,
        "60",
        "<time><intervalStart>40</intervalStart><intervalEnd>52</intervalEnd></time>",
    )
    with pytest.warns(UserWarning, match="field goalState 0/time: the goal's time ends at step 52"):
        read_commonroad(_write(tmp_path, problem=problem))
