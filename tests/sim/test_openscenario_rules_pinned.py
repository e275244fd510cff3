"""OpenSCENARIO reader rules pinned with hand-derived values on a small hand-written road (no
shared data): speed dynamics and their replay, story-event timing and order, lane changes and
lane offsets, distance triggers, Init placement and entities, traffic-signal controllers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.openscenario import read_openscenario
from drivestack.sim.openscenario._speed import _acting, _speed_at
from drivestack.sim.vehicle import VehicleParams
from tests.sim.test_openscenario_traffic_signals import _controller, _phase

STEP = 1000.0  # the reader's "at once" rate

#: A 300 m straight road along +x. Left lane 1 (3.5 m); right lanes -1 (3.0 m), -2 (3.5 m),
#: -3 (4.0 m): their centres at y = -1.5, -4.75 and -8.5 (right edge of -3 at y = -10.5).
#: Dynamic signals 10 and 11.
XODR = (
    '<?xml version="1.0"?><OpenDRIVE><header revMajor="1" revMinor="6"/>'
    '<road id="1" length="300" junction="-1"><link/><planView>'
    '<geometry s="0" x="0" y="0" hdg="0" length="300"><line/></geometry></planView><lanes>'
    '<laneSection s="0"><left><lane id="1" type="driving"><width sOffset="0" a="3.5" b="0" '
    'c="0" d="0"/></lane></left><center><lane id="0" type="none"/></center><right>'
    '<lane id="-1" type="driving"><width sOffset="0" a="3.0" b="0" c="0" d="0"/></lane>'
    '<lane id="-2" type="driving"><width sOffset="0" a="3.5" b="0" c="0" d="0"/></lane>'
    '<lane id="-3" type="driving"><width sOffset="0" a="4.0" b="0" c="0" d="0"/></lane>'
    "</right></laneSection></lanes><signals>"
    '<signal id="10" s="200" t="-12" dynamic="yes" orientation="+" type="1000001"/>'
    '<signal id="11" s="250" t="-12" dynamic="yes" orientation="+" type="1000001"/>'
    "</signals></road></OpenDRIVE>"
)


def _vehicle(category: str = "car", length: float = 5.0, center_x: float = 1.5) -> str:
    return (
        f'<Vehicle name="v" vehicleCategory="{category}"><BoundingBox>'
        f'<Center x="{center_x}" y="0" z="0.8"/>'
        f'<Dimensions width="2.0" length="{length}" height="1.5"/></BoundingBox>'
        "<Performance maxSpeed='70' maxAcceleration='10' maxDeceleration='10'/><Axles/>"
        "<Properties/></Vehicle>"
    )


def _place(entity: str, lane: int = -1, s: float = 50.0, speed: float = 8.0) -> str:
    return (
        f'<Private entityRef="{entity}"><PrivateAction><TeleportAction><Position>'
        f'<LanePosition roadId="1" laneId="{lane}" offset="0" s="{s}"/></Position>'
        "</TeleportAction></PrivateAction><PrivateAction>"
        + _speed(speed, 0, "time", "step")
        + "</PrivateAction></Private>"
    )


def _speed(target: float, value: float, dimension: str | None, shape: str = "linear") -> str:
    dim = "" if dimension is None else f' dynamicsDimension="{dimension}"'
    return (
        f'<LongitudinalAction><SpeedAction><SpeedActionDynamics dynamicsShape="{shape}" '
        f'value="{value}"{dim}/><SpeedActionTarget><AbsoluteTargetSpeed value="{target}"/>'
        "</SpeedActionTarget></SpeedAction></LongitudinalAction>"
    )


def _lane_change(lanes: int, value: float = 3.0, dimension: str = "time", extra: str = "") -> str:
    return (
        f"<LateralAction><LaneChangeAction{extra}><LaneChangeActionDynamics "
        f'dynamicsShape="sinusoidal" value="{value}" dynamicsDimension="{dimension}"/>'
        f'<LaneChangeTarget><RelativeTargetLane entityRef="Car" value="{lanes}"/>'
        "</LaneChangeTarget></LaneChangeAction></LateralAction>"
    )


def _lane_offset(offset: float, max_acc: str = "") -> str:
    return (
        "<LateralAction><LaneOffsetAction continuous='false'><LaneOffsetActionDynamics "
        f"dynamicsShape='sinusoidal'{max_acc}/><LaneOffsetTarget>"
        f"<AbsoluteTargetLaneOffset value='{offset}'/></LaneOffsetTarget></LaneOffsetAction>"
        "</LateralAction>"
    )


def _at(t: float, delay: float = 0.0, rule: str = "greaterThan", edge: str = "rising") -> str:
    return (
        f'<Condition name="c" delay="{delay}" conditionEdge="{edge}"><ByValueCondition>'
        f'<SimulationTimeCondition value="{t}" rule="{rule}"/></ByValueCondition></Condition>'
    )


def _near(
    value: float,
    kind: str = "longitudinal",
    freespace: str = "false",
    rule: str = "lessThan",
    delay: str = "0",
) -> str:
    return (
        f'<Condition name="c" delay="{delay}" conditionEdge="rising"><ByEntityCondition>'
        '<TriggeringEntities triggeringEntitiesRule="any"><EntityRef entityRef="Car"/>'
        '</TriggeringEntities><EntityCondition><RelativeDistanceCondition entityRef="Ego" '
        f'relativeDistanceType="{kind}" value="{value}" freespace="{freespace}" rule="{rule}"/>'
        "</EntityCondition></ByEntityCondition></Condition>"
    )


def _event(name: str, action: str, condition: str = "", priority: str = "parallel") -> str:
    trigger = (
        f"<StartTrigger><ConditionGroup>{condition}</ConditionGroup></StartTrigger>"
        if condition
        else ""
    )
    return (
        f'<Event name="{name}" priority="{priority}"><Action name="{name}"><PrivateAction>'
        f"{action}</PrivateAction></Action>{trigger}</Event>"
    )


def _story(events: str, act_start: float | None = None) -> str:
    start = (
        f"<StartTrigger><ConditionGroup>{_at(act_start)}</ConditionGroup></StartTrigger>"
        if act_start is not None
        else ""
    )
    return (
        "<Story name='S'><Act name='A'><ManeuverGroup maximumExecutionCount='1' name='G'>"
        "<Actors selectTriggeringEntities='false'><EntityRef entityRef='Car'/></Actors>"
        f"<Maneuver name='M'>{events}</Maneuver></ManeuverGroup>{start}</Act></Story>"
    )


def _xosc(
    *,
    story: str = "",
    init: str | None = None,
    car: str | None = None,
    ego_name: str = "Ego",
    stop: float | None = 10.0,
    signals: str = "",
    head: str = "",
) -> str:
    car = _vehicle() if car is None else car
    init = _place(ego_name, s=10.0, speed=5.0) + _place("Car") if init is None else init
    block = f"<TrafficSignals>{signals}</TrafficSignals>" if signals else ""
    stop_trigger = (
        f"<StopTrigger><ConditionGroup>{_at(stop)}</ConditionGroup></StopTrigger>"
        if stop is not None
        else ""
    )
    return (
        '<?xml version="1.0"?><OpenSCENARIO><FileHeader revMajor="1" revMinor="1" '
        'description="pinned" author="drivestack"/>'
        f'{head}<RoadNetwork><LogicFile filepath="road.xodr"/>{block}</RoadNetwork><Entities>'
        f'<ScenarioObject name="{ego_name}">{_vehicle()}</ScenarioObject>'
        f'<ScenarioObject name="Car">{car}</ScenarioObject></Entities><Storyboard><Init>'
        f"<Actions>{init}</Actions></Init>{story}{stop_trigger}</Storyboard></OpenSCENARIO>"
    )


def _read(tmp_path: Path, text: str) -> dict[str, Any]:
    (tmp_path / "road.xodr").write_text(XODR)
    path = tmp_path / "pinned.xosc"
    path.write_text(text)
    return read_openscenario(path)


def _car(tmp_path: Path, text: str) -> dict[str, Any]:
    (car,) = _read(tmp_path, text)["agents"]
    assert car["id"] == "Car"
    return dict(car)


def _refused(tmp_path: Path, text: str, match: str) -> ConfigError:
    with pytest.raises(ConfigError, match=match) as info:
        _read(tmp_path, text)
    return info.value


# --- speed dynamics (_speed) --------------------------------------------------------------


def test_acting_segment_on_equal_starts_is_the_last_listed() -> None:
    """Of speed segments starting at the same time the last listed acts (it replaces the
    others, as the simulator picks): two segments at t = 1 s -> index 1, and a later start
    wins over both (index 2)."""
    assert _acting([(1.0, 1.0, 5.0), (1.0, 2.0, 9.0)]) == 1
    assert _acting([(1.0, 1.0, 5.0), (1.0, 2.0, 9.0), (2.0, 1.0, 3.0)]) == 2
    assert _acting([(2.0, 1.0, 3.0), (1.0, 1.0, 5.0), (1.0, 2.0, 9.0)]) == 0
    assert _acting([]) == -1


def test_speed_replay_on_equal_starts_follows_the_last_listed_segment() -> None:
    """From 0 m/s, segments (0 s, 1 m/s^2 -> 10) and (0 s, 2 m/s^2 -> 4) start together: the
    second acts, so at 1 s the speed is 0 + 2 * 1 = 2 m/s and from 2 s on it holds 4 m/s (the
    first one's target 10 is never driven towards)."""
    segments = [(0.0, 1.0, 10.0), (0.0, 2.0, 4.0)]
    assert _speed_at(0.0, segments, 1.0) == pytest.approx(2.0)
    assert _speed_at(0.0, segments, 20.0) == pytest.approx(4.0)


def test_speed_replay_later_segment_starts_from_the_speed_reached() -> None:
    """From 8 m/s: up at 1 m/s^2 towards 30 from 1 s, then down at 3 m/s^2 towards 0 from
    5 s: 8 + 4 = 12 m/s at 5 s, 12 - 3 * 2 = 6 m/s at 7 s, 0 at 9 s and after."""
    segments = [(1.0, 1.0, 30.0), (5.0, 3.0, 0.0)]
    assert _speed_at(8.0, segments, 5.0) == pytest.approx(12.0)
    assert _speed_at(8.0, segments, 7.0) == pytest.approx(6.0)
    assert _speed_at(8.0, segments, 100.0) == pytest.approx(0.0)


def _init_speed_event(tmp_path: Path, action: str) -> dict[str, Any]:
    init = (
        _place("Ego", s=10.0, speed=5.0)
        + '<Private entityRef="Car"><PrivateAction><TeleportAction><Position>'
        '<LanePosition roadId="1" laneId="-1" offset="0" s="50.0"/></Position></TeleportAction>'
        f"</PrivateAction><PrivateAction>{action}</PrivateAction></Private>"
    )
    car = _car(tmp_path, _xosc(init=init))
    assert car["speed_mps"] == 0.0  # a change with dynamics starts from rest
    (event,) = car["speed_events"]
    return dict(event)


def test_missing_dynamics_dimension_reads_as_time(tmp_path: Path) -> None:
    """No dynamicsDimension is ``time``: 0 -> 10 m/s with value 5 is 10 / 5 = 2 m/s^2 (read as
    a rate it would be 5 m/s^2)."""
    event = _init_speed_event(tmp_path, _speed(10, 5, None))
    assert event["accel_mps2"] == pytest.approx(2.0)
    assert event["target_speed_mps"] == 10.0


def test_init_speed_over_a_distance_is_v_squared_over_two_d(tmp_path: Path) -> None:
    """0 -> 10 m/s over 25 m at a constant rate: a = (10^2 - 0^2) / (2 * 25) = 2 m/s^2."""
    event = _init_speed_event(tmp_path, _speed(10, 25, "distance"))
    assert event["accel_mps2"] == pytest.approx(2.0)


def test_init_speed_rate_sign_is_ignored(tmp_path: Path) -> None:
    """A rate's sign is ignored (esmini writes braking rates negative): -3 -> 3 m/s^2 up."""
    event = _init_speed_event(tmp_path, _speed(10, -3, "rate"))
    assert event["accel_mps2"] == pytest.approx(3.0)


# --- story events (_story) ----------------------------------------------------------------


def test_a_distance_triggered_speed_change_over_a_distance_is_refused(tmp_path: Path) -> None:
    """A SpeedAction over a distance needs the speed at its start; a distance-triggered
    event's start time (so its start speed, after the speed change before it) is not known
    when reading: refused."""
    events = _event("Up", _speed(20, 1, "rate"), _at(1.0)) + _event(
        "Near", _speed(0, 30, "distance"), _near(20)
    )
    _refused(tmp_path, _xosc(story=_story(events)), "not known when reading")


def test_events_are_applied_in_start_order_not_file_order(tmp_path: Path) -> None:
    """'Down' (file first, at 5 s, to 0 over 4 s) starts after 'Up' (at 1 s, 1 m/s^2 towards
    30): the speed at 5 s is 8 + 4 * 1 = 12 m/s, so Down brakes at 12 / 4 = 3 m/s^2 (2 m/s^2
    if read before Up, from the 8 m/s start); speed events listed by start time."""
    events = _event("Down", _speed(0, 4, "time"), _at(5.0)) + _event(
        "Up", _speed(30, 1, "rate"), _at(1.0)
    )
    car = _car(tmp_path, _xosc(story=_story(events)))
    up, down = car["speed_events"]
    assert (up["time_s"], up["accel_mps2"]) == (1.0, 1.0)
    assert down["time_s"] == 5.0
    assert down["accel_mps2"] == pytest.approx(-3.0)


def test_an_event_starts_no_earlier_than_its_act(tmp_path: Path) -> None:
    """Simulation time is one clock: an event at 2 s in an act starting at 5 s starts at 5 s."""
    events = _event("Up", _speed(20, 2, "rate"), _at(2.0))
    car = _car(tmp_path, _xosc(story=_story(events, act_start=5.0)))
    (up,) = car["speed_events"]
    assert up["time_s"] == 5.0


def test_simulation_time_condition_adds_its_delay(tmp_path: Path) -> None:
    """A SimulationTimeCondition at 2 s with a condition delay of 1.5 s starts at 3.5 s."""
    events = _event("Up", _speed(20, 2, "rate"), _at(2.0, delay=1.5))
    (up,) = _car(tmp_path, _xosc(story=_story(events)))["speed_events"]
    assert up["time_s"] == pytest.approx(3.5)


def test_overwrite_at_the_end_of_a_speed_change_adds_no_hold(tmp_path: Path) -> None:
    """Up: 8 -> 12 m/s at 2 m/s^2 from 1 s ends at 1 + 4 / 2 = 3 s. An overwrite event of the
    same maneuver at exactly 3 s (a lane offset) finds nothing running (the interval is
    [start, end)), so no 'hold the speed reached' step is added: one speed event."""
    events = _event("Up", _speed(12, 2, "rate"), _at(1.0)) + _event(
        "Shift", _lane_offset(0.5), _at(3.0), priority="overwrite"
    )
    car = _car(tmp_path, _xosc(story=_story(events)))
    assert len(car["speed_events"]) == 1
    # ... while at 2 s it stops Up half way: 8 + 2 * 1 = 10 m/s held from 2 s
    events = events.replace(_at(3.0), _at(2.0))
    _up, hold = _car(tmp_path, _xosc(story=_story(events)))["speed_events"]
    assert (hold["time_s"], hold["accel_mps2"]) == (2.0, STEP)
    assert hold["target_speed_mps"] == pytest.approx(10.0)


# --- lane changes and lane offsets (_lanes, _story) ---------------------------------------


def test_relative_lane_change_by_two_reaches_the_last_lane(tmp_path: Path) -> None:
    """From lane -1 (centre y = -1.5) two lanes to the right is lane -3 (centre y = -8.5), the
    last of the two lanes on that side: offset -8.5 - (-1.5) = -7.0 m."""
    events = _event("Over", _lane_change(-2), _at(1.0))
    (shift,) = _car(tmp_path, _xosc(story=_story(events)))["lateral_shifts"]
    assert shift["offset_m"] == pytest.approx(-7.0)
    assert shift["duration_s"] == pytest.approx(3.0)


def test_lane_change_target_lane_offset_is_added_left_positive(tmp_path: Path) -> None:
    """One lane right, lane -2 (centre y = -4.75): -3.25 m from lane -1's centre, plus a
    targetLaneOffset of +0.5 m (left positive) = -2.75 m."""
    events = _event("Over", _lane_change(-1, extra=' targetLaneOffset="0.5"'), _at(1.0))
    (shift,) = _car(tmp_path, _xosc(story=_story(events)))["lateral_shifts"]
    assert shift["offset_m"] == pytest.approx(-2.75)


def test_lane_change_over_a_distance_at_rest_uses_the_0_1_mps_floor(tmp_path: Path) -> None:
    """A lane change over 3 m by a car at 0 m/s: the speed is floored at 0.1 m/s, so it lasts
    3 / 0.1 = 30 s."""
    init = _place("Ego", s=10.0, speed=5.0) + _place("Car", speed=0.0)
    events = _event("Over", _lane_change(-1, value=3.0, dimension="distance"), _at(1.0))
    (shift,) = _car(tmp_path, _xosc(init=init, story=_story(events)))["lateral_shifts"]
    assert shift["duration_s"] == pytest.approx(30.0)


def test_lane_offset_duration_from_the_default_lateral_acceleration(tmp_path: Path) -> None:
    """A lane offset of 2 m without maxLateralAcc (1 m/s^2 by default): the cosine blend's peak
    lateral acceleration pi^2 / 2 * 2 / T^2 = 1 gives T = pi * sqrt(2 / (2 * 1)) = pi s."""
    events = _event("Shift", _lane_offset(2.0), _at(1.0))
    (shift,) = _car(tmp_path, _xosc(story=_story(events)))["lateral_shifts"]
    assert shift["offset_m"] == pytest.approx(2.0)
    assert shift["duration_s"] == pytest.approx(3.141592653589793)
    # with maxLateralAcc 4: T = pi * sqrt(2 / 8) = pi / 2
    events = _event("Shift", _lane_offset(2.0, " maxLateralAcc='4'"), _at(1.0))
    (shift,) = _car(tmp_path, _xosc(story=_story(events)))["lateral_shifts"]
    assert shift["duration_s"] == pytest.approx(3.141592653589793 / 2)


# --- distance triggers (_story._trigger) --------------------------------------------------


def test_longitudinal_trigger_offset_is_actor_centre_less_ego_centre(tmp_path: Path) -> None:
    """Along the path between reference points: the car's box centre is Center x = 1.5 m
    ahead of its reference point, the ego's centre_offset_m ahead of its rear axle, so the
    offset is 1.5 - centre_offset_m."""
    events = _event("Near", _speed(0, 4, "rate"), _near(20))
    (near,) = _car(tmp_path, _xosc(story=_story(events)))["speed_events"]
    assert near["when_ego_within_m"] == 20.0
    assert near["along_path"] is True
    assert near["along_path_offset_m"] == pytest.approx(1.5 - VehicleParams().center_offset_m)


def test_freespace_trigger_adds_half_of_both_lengths(tmp_path: Path) -> None:
    """freespace="1" (an XML boolean) measures between the boxes: the centre distance is
    10 + (5.0 [the car's length] + the simulated ego's length_m) / 2."""
    events = _event(
        "Near", _speed(0, 4, "rate"), _near(10, kind="cartesianDistance", freespace="1")
    )
    (near,) = _car(tmp_path, _xosc(story=_story(events)))["speed_events"]
    assert near["when_ego_within_m"] == pytest.approx(10.0 + (5.0 + VehicleParams().length_m) / 2)
    assert "along_path" not in near


def test_distance_trigger_greater_than_is_refused(tmp_path: Path) -> None:
    """A distance condition is read with lessThan / lessOrEqual only."""
    events = _event("Near", _speed(0, 4, "rate"), _near(20, rule="greaterThan"))
    _refused(tmp_path, _xosc(story=_story(events)), "lessThan / lessOrEqual")


def test_distance_trigger_with_a_delay_is_refused(tmp_path: Path) -> None:
    """A RelativeDistanceCondition is read without delay: delay 1 is refused."""
    events = _event("Near", _speed(0, 4, "rate"), _near(20, delay="1"))
    _refused(tmp_path, _xosc(story=_story(events)), "without delay")


ZERO_AND_TIME = (
    '<ParameterDeclarations><ParameterDeclaration name="D" parameterType="double" value="0"/>'
    '<ParameterDeclaration name="P" parameterType="string" value="time"/>'
    "</ParameterDeclarations>"
)


@pytest.mark.parametrize("delay", ["0.00", "$D"])
def test_distance_trigger_with_a_zero_delay_however_written_is_read(
    tmp_path: Path, delay: str
) -> None:
    """A delay of zero is no delay whether written 0.00 or as a parameter that is 0 (the raw
    text was compared with "0" and "0.0", so both were refused)."""
    events = _event("Near", _speed(0, 4, "rate"), _near(20, delay=delay))
    (near,) = _car(tmp_path, _xosc(story=_story(events), head=ZERO_AND_TIME))["speed_events"]
    assert near["when_ego_within_m"] == pytest.approx(20.0)


def test_lane_change_dynamics_dimension_from_a_parameter_is_read(tmp_path: Path) -> None:
    """dynamicsDimension="$P" with P = time is a lane change over 3 s, as a speed action's
    dimension resolves (it was read raw and refused as "a lane change over a '$P'")."""
    events = _event("Over", _lane_change(-2, dimension="$P"), _at(1.0))
    text = _xosc(story=_story(events), head=ZERO_AND_TIME)
    (shift,) = _car(tmp_path, text)["lateral_shifts"]
    assert shift["duration_s"] == pytest.approx(3.0)


def test_falling_condition_edge_is_refused(tmp_path: Path) -> None:
    """Only conditionEdge rising / none is read."""
    events = _event("Up", _speed(20, 2, "rate"), _at(2.0, edge="falling"))
    _refused(tmp_path, _xosc(story=_story(events)), "conditionEdge 'falling'")


# --- Init, entities, stop (_entities, __init__, _document) --------------------------------


def test_agent_station_is_its_box_centre(tmp_path: Path) -> None:
    """The agent's station is its box centre: s = 50 plus Center x = 1.5 -> 51.5 m."""
    car = _car(tmp_path, _xosc())
    assert car["station_m"] == pytest.approx(51.5)
    assert car["size_m"] == [5.0, 2.0, 1.5]


def test_no_stop_trigger_runs_the_default_30_s(tmp_path: Path) -> None:
    """Without a StopTrigger the duration is DEFAULT_DURATION_S = 30 s."""
    assert _read(tmp_path, _xosc(stop=None))["duration_s"] == 30.0


def test_ego_name_matches_in_any_case(tmp_path: Path) -> None:
    """The ego is named Ego / ego / hero in any case: 'EGO' is the ego, Car the only agent."""
    scenario = _read(tmp_path, _xosc(ego_name="EGO"))
    assert [a["id"] for a in scenario["agents"]] == ["Car"]
    assert scenario["ego"]["station_m"] == pytest.approx(10.0)


def test_zero_bounding_box_dimension_is_refused(tmp_path: Path) -> None:
    """Each BoundingBox dimension must be > 0 m: a length of 0 is refused."""
    _refused(tmp_path, _xosc(car=_vehicle(length=0.0)), "must be > 0 m")


def test_semitrailer_is_a_trailer(tmp_path: Path) -> None:
    """vehicleCategory semitrailer maps to drivestack's trailer."""
    assert _car(tmp_path, _xosc(car=_vehicle("semitrailer")))["type"] == "trailer"


def test_fractional_lane_id_is_refused(tmp_path: Path) -> None:
    """A LanePosition's laneId must be a whole number: -1.5 is refused."""
    text = _xosc().replace('laneId="-1" offset="0" s="50.0"', 'laneId="-1.5" offset="0" s="50.0"')
    _refused(tmp_path, text, "not a whole number")


def test_world_position_farther_than_5_m_from_any_lane_is_refused(tmp_path: Path) -> None:
    """A WorldPosition snaps to a lane within 5 m: (50, -17) is 8.5 m from lane -3's centre
    (y = -8.5) and 6.5 m from its edge: refused; (50, -9) is on lane -3 (station 50)."""
    world = '<WorldPosition x="50" y="{y}" h="0"/>'
    lane = '<LanePosition roadId="1" laneId="-1" offset="0" s="50.0"/>'
    _refused(tmp_path, _xosc().replace(lane, world.format(y=-17)), "no lane within 5 m")
    car = _car(tmp_path, _xosc().replace(lane, world.format(y=-9)))
    assert car["lanes"] == ["1_0_-3"]
    assert car["offset_m"] == pytest.approx(-0.5)


def test_catalogue_parameter_assignment_overrides_the_default(tmp_path: Path) -> None:
    """A CatalogReference's ParameterAssignment (Cat = truck) wins over the entry's declared
    default (car): the entity is a truck."""
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "vehicles.xosc").write_text(
        '<?xml version="1.0"?><OpenSCENARIO><FileHeader revMajor="1" revMinor="1"/>'
        '<Catalog name="Cars"><Vehicle name="Box" vehicleCategory="$Cat">'
        '<ParameterDeclarations><ParameterDeclaration name="Cat" parameterType="string" '
        'value="car"/></ParameterDeclarations><BoundingBox><Center x="0" y="0" z="0"/>'
        '<Dimensions width="2" length="6" height="2"/></BoundingBox></Vehicle></Catalog>'
        "</OpenSCENARIO>"
    )
    head = '<CatalogLocations><VehicleCatalog><Directory path="cat"/></VehicleCatalog></CatalogLocations>'
    reference = (
        '<CatalogReference catalogName="Cars" entryName="Box"><ParameterAssignments>'
        '<ParameterAssignment parameterRef="Cat" value="truck"/></ParameterAssignments>'
        "</CatalogReference>"
    )
    car = _car(tmp_path, _xosc(head=head, car=reference))
    assert car["type"] == "truck"
    assert car["size_m"] == [6.0, 2.0, 2.0]


def test_route_closed_0_is_an_open_route(tmp_path: Path) -> None:
    """closed is an XML boolean: closed="0" is an open route and is read (the car's route is
    its own lane, the waypoint being on it)."""
    routing = (
        '<PrivateAction><RoutingAction><AssignRouteAction><Route name="R" closed="0">'
        '<Waypoint routeStrategy="shortest"><Position><LanePosition roadId="1" laneId="-1" '
        'offset="0" s="150"/></Position></Waypoint></Route></AssignRouteAction></RoutingAction>'
        "</PrivateAction></Private>"
    )
    init = _place("Ego", s=10.0, speed=5.0) + _place("Car")[: -len("</Private>")] + routing
    assert _car(tmp_path, _xosc(init=init))["lanes"] == ["1_0_-1"]
    _refused(tmp_path, _xosc(init=init.replace('closed="0"', 'closed="1"')), "closed route")


# --- traffic-signal controllers and actions (_signals) ------------------------------------


def _signal_story(*events: tuple[str, str, float], act_start: float | None = None) -> str:
    """A story of signal events (name, TrafficSignalAction's inner element, start time)."""
    body = "".join(
        f'<Event name="{n}" priority="parallel"><Action name="{n}"><GlobalAction>'
        f"<InfrastructureAction><TrafficSignalAction>{inner}</TrafficSignalAction>"
        f"</InfrastructureAction></GlobalAction></Action><StartTrigger><ConditionGroup>"
        f"{_at(t)}</ConditionGroup></StartTrigger></Event>"
        for n, inner, t in events
    )
    start = (
        f"<StartTrigger><ConditionGroup>{_at(act_start)}</ConditionGroup></StartTrigger>"
        if act_start is not None
        else ""
    )
    return (
        "<Story name='S'><Act name='A'><ManeuverGroup maximumExecutionCount='1' name='G'>"
        f"<Actors selectTriggeringEntities='false'/><Maneuver name='M'>{body}</Maneuver>"
        f"</ManeuverGroup>{start}</Act></Story>"
    )


def _lights(tmp_path: Path, signals: str, story: str = "") -> dict[str, dict[str, Any]]:
    return {
        light["id"]: light
        for light in _read(tmp_path, _xosc(signals=signals, story=story))["traffic_lights"]
    }


def test_reference_delays_add_up_along_the_chain(tmp_path: Path) -> None:
    """A (delay 2) is the root: it starts at 2 s; B refers to A with delay 3: 2 + 3 = 5 s."""
    signals = _controller("A", _phase("a", 5, s10="green") + _phase("b", 5, s10="red"), delay="2")
    signals += _controller(
        "B", _phase("a", 5, s11="red") + _phase("b", 5, s11="green"), delay="3", reference="A"
    )
    lights = _lights(tmp_path, signals)
    assert lights["10"]["offset_s"] == pytest.approx(2.0)
    assert lights["11"]["offset_s"] == pytest.approx(5.0)


def test_neighbouring_phases_of_one_state_join_and_zero_phases_drop(tmp_path: Path) -> None:
    """Phases green 3 s, off 0 s (never shown: left out), green 2 s, red 5 s: the greens join
    into one 3 + 2 = 5 s phase -> [[green, 5], [red, 5]]."""
    phases = (
        _phase("g1", 3, s10="green")
        + _phase("blank", 0, s10="off")
        + _phase("g2", 2, s10="green")
        + _phase("r", 5, s10="red")
    )
    light = _lights(tmp_path, _controller("A", phases))["10"]
    assert light["phases"] == [["green", 5.0], ["red", 5.0]]


def test_controller_action_to_a_trailing_zero_phase_wraps_to_the_first(tmp_path: Path) -> None:
    """Phases go 4 s, stop 6 s, blank 0 s: blank is never shown, so sending the controller to
    it starts the phase after it, the first (index 0); to 'stop' is index 1."""
    phases = _phase("go", 4, s10="green") + _phase("stop", 6, s10="red")
    phases += _phase("blank", 0, s10="off")
    to = '<TrafficSignalControllerAction trafficSignalControllerRef="A" phase="{}"/>'
    story = _signal_story(("x", to.format("blank"), 2.0), ("y", to.format("stop"), 5.0))
    light = _lights(tmp_path, _controller("A", phases), story)["10"]
    assert light["switches"] == [{"at_s": 2.0, "phase": 0}, {"at_s": 5.0, "phase": 1}]


def test_lamp_triplets_read_in_any_case(tmp_path: Path) -> None:
    """esmini lamps red;yellow;green: 'ON;on;OFF' is red-yellow, 'On; off ;off' is red."""
    phases = _phase("a", 2, s10="ON;on;OFF") + _phase("b", 3, s10="On; off ;off")
    light = _lights(tmp_path, _controller("A", phases))["10"]
    assert light["phases"] == [["red_yellow", 2.0], ["red", 3.0]]


def test_signal_switches_in_time_order_and_not_before_their_act(tmp_path: Path) -> None:
    """Events at 6 s then 1 s (file order) in an act starting at 3 s: the 1 s one switches at
    the act's 3 s; the switches are listed by time: 3 s (yellow) then 6 s (red)."""
    state = '<TrafficSignalStateAction name="10" state="{}"/>'
    story = _signal_story(
        ("late", state.format("red"), 6.0), ("early", state.format("yellow"), 1.0), act_start=3.0
    )
    light = _lights(tmp_path, "", story)["10"]
    assert light["switches"] == [{"at_s": 3.0, "state": "yellow"}, {"at_s": 6.0, "state": "red"}]


def test_negative_controller_delay_is_refused(tmp_path: Path) -> None:
    """A controller's delay is >= 0 s: -0.5 is refused."""
    signals = _controller("A", _phase("a", 5, s10="green"), delay="-0.5")
    _refused(tmp_path, _xosc(signals=signals), "a delay is >= 0 s")
