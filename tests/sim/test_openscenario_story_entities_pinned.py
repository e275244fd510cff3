"""OpenSCENARIO storyboard and entity rules pinned by a mutation review of
``drivestack.sim.openscenario._story`` and ``._entities`` (hand-derived values on the small
hand-written road of ``test_openscenario_rules_pinned``, no shared data): event priorities
(overwrite / override / parallel, and what overlaps when), triggers, the speed at an event's
start, lane changes, entities, catalogues, the road network and the Init."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drivestack.sim.openscenario import read_openscenario
from drivestack.sim.openscenario._speed import _speed_at
from drivestack.sim.vehicle import VehicleParams
from tests.sim.test_openscenario_rules_pinned import (
    STEP,
    _at,
    _car,
    _event,
    _lane_change,
    _lane_offset,
    _near,
    _place,
    _read,
    _refused,
    _speed,
    _vehicle,
    _xosc,
)

EGO_CENTRE_M = VehicleParams().center_offset_m  # the simulated ego's centre ahead of its axle


def _maneuvers(*maneuvers: str, act_start: float | None = None, extra: str = "") -> str:
    """A story of one act, one group for Car holding one ``Maneuver`` per string of events
    (``extra``: more groups after it)."""
    start = (
        f"<StartTrigger><ConditionGroup>{_at(act_start)}</ConditionGroup></StartTrigger>"
        if act_start is not None
        else ""
    )
    body = "".join(
        f"<Maneuver name='M{k}'>{events}</Maneuver>" for k, events in enumerate(maneuvers)
    )
    return (
        "<Story name='S'><Act name='A'><ManeuverGroup maximumExecutionCount='1' name='G'>"
        f"<Actors selectTriggeringEntities='false'><EntityRef entityRef='Car'/></Actors>{body}"
        f"</ManeuverGroup>{extra}{start}</Act></Story>"
    )


def _events(tmp_path: Path, *maneuvers: str, **kw: Any) -> list[tuple[float, float, float]]:
    """The car's speed events as (time, accel, target)."""
    car = _car(tmp_path, _xosc(story=_maneuvers(*maneuvers), **kw))
    return [(e["time_s"], e["accel_mps2"], e["target_speed_mps"]) for e in car["speed_events"]]


def _replayed(car: dict[str, Any], time_s: float) -> float:
    """The speed the simulator drives at ``time_s`` under the car's known-start events (the
    latest start acting, the last listed on ties: ``_speed_at`` as the scripted agents do)."""
    segments = [
        (e["time_s"], abs(e["accel_mps2"]), e["target_speed_mps"])
        for e in car["speed_events"]
        if "when_ego_within_m" not in e
    ]
    return _speed_at(car["speed_mps"], segments, time_s)


UP = _speed(30, 1, "rate")  # from the car's 8 m/s up at 1 m/s^2


# --- priorities: overwrite / override / parallel -------------------------------------------


@pytest.mark.parametrize("priority", ["overwrite", "override"])
def test_overwrite_and_override_hold_the_speed_reached(tmp_path: Path, priority: str) -> None:
    """OpenSCENARIO 1.2 renamed overwrite to override: both stop the running Up (8 m/s from
    1 s at 1 m/s^2) when a lane offset of the same maneuver starts at 3 s: 10 m/s held."""
    events = _event("Up", UP, _at(1.0)) + _event(
        "Shift", _lane_offset(0.5), _at(3.0), priority=priority
    )
    assert _events(tmp_path, events) == [(1.0, 1.0, 30.0), (3.0, STEP, pytest.approx(10.0))]


def test_parallel_lets_the_speed_change_run_on(tmp_path: Path) -> None:
    """priority parallel stops nothing: only Up's event."""
    events = _event("Up", UP, _at(1.0)) + _event("Shift", _lane_offset(0.5), _at(3.0))
    assert _events(tmp_path, events) == [(1.0, 1.0, 30.0)]


def test_overwrite_stops_only_its_own_maneuver(tmp_path: Path) -> None:
    """Up runs in maneuver M0; an overwrite in maneuver M1 (same group, same actor) at 3 s
    does not stop it: no hold."""
    up = _event("Up", UP, _at(1.0))
    shift = _event("Shift", _lane_offset(0.5), _at(3.0), priority="overwrite")
    assert _events(tmp_path, up, shift) == [(1.0, 1.0, 30.0)]


def test_overwrite_adds_no_hold_where_another_speed_change_replaced_it(tmp_path: Path) -> None:
    """Up (M0, from 1 s) is replaced at 2 s by Cruise (M1, parallel, 1 m/s^2 towards 20):
    when the overwrite of M0 starts at 3 s the speed change acting is Cruise's, not Up's, so
    nothing of M0 is stopped: no hold, two speed events."""
    m0 = _event("Up", UP, _at(1.0)) + _event(
        "Shift", _lane_offset(0.5), _at(3.0), priority="overwrite"
    )
    m1 = _event("Cruise", _speed(20, 1, "rate"), _at(2.0))
    assert _events(tmp_path, m0, m1) == [(1.0, 1.0, 30.0), (2.0, 1.0, 20.0)]


def test_overwrite_after_a_step_speed_change_adds_no_hold(tmp_path: Path) -> None:
    """A step speed change is at once, never running: an overwrite starting with it (2 s,
    after it in the file) holds nothing; the step down 8 -> 5 m/s is -STEP."""
    events = _event("Step", _speed(5, 0, "time", "step"), _at(2.0)) + _event(
        "Shift", _lane_offset(0.5), _at(2.0), priority="overwrite"
    )
    assert _events(tmp_path, events) == [(2.0, -STEP, 5.0)]


def test_overwrite_speed_change_replaces_without_a_hold(tmp_path: Path) -> None:
    """An overwrite whose own event changes the speed (Down at 3 s, 2 m/s^2 towards 0) ends
    Up by replacing it: no extra hold step, Up then Down."""
    events = _event("Up", UP, _at(1.0)) + _event(
        "Down", _speed(0, 2, "rate"), _at(3.0), priority="overwrite"
    )
    assert _events(tmp_path, events) == [(1.0, 1.0, 30.0), (3.0, -2.0, 0.0)]


def test_overwrite_at_the_start_of_a_speed_change_holds_its_start_speed(tmp_path: Path) -> None:
    """Up (file first) and an overwrite lane offset both start at 2 s in one maneuver: the
    reader finds Up running and stops it there (a hold of 8 m/s at 2 s, listed after Up, so
    it acts on the tie). Then the car drives 8 m/s up to 5 s, and Down (0 over 4 s from 5 s)
    brakes at 8 / 4 = 2 m/s^2 (with the first of equal starts acting, Up ran on: 11 m/s at
    5 s, -2.75 m/s^2)."""
    events = (
        _event("Up", UP, _at(2.0))
        + _event("Shift", _lane_offset(0.5), _at(2.0), priority="overwrite")
        + _event("Down", _speed(0, 4, "time"), _at(5.0))
    )
    car = _car(tmp_path, _xosc(story=_maneuvers(events)))
    assert _replayed(car, 5.0) == pytest.approx(8.0)
    assert car["speed_events"][-1]["accel_mps2"] == pytest.approx(-2.0)


def test_a_distance_triggered_overwrite_alone_in_its_maneuver_is_read(tmp_path: Path) -> None:
    """A distance-triggered overwrite with no other event in its maneuver (its own actions
    are not 'the others'; Up in another maneuver neither) is read."""
    near = _event("Near", _speed(0, 4, "rate"), _near(20), priority="overwrite")
    events = _events(tmp_path, near, _event("Up", UP, _at(5.0)))
    # its rate's sign is the simulator's to find (the speed before it is not known)
    assert [(t, abs(a), v) for t, a, v in events] == [(0.0, 4.0, 0.0), (5.0, 1.0, 30.0)]


def test_a_distance_triggered_overwrite_after_a_step_is_read(tmp_path: Path) -> None:
    """A step at 0 s (applied first, file order on the tie, never running) then a
    distance-triggered overwrite in the same maneuver: nothing it could stop, read."""
    events = _event("Step", _speed(5, 0, "time", "step"), _at(0.0)) + _event(
        "Near", _speed(0, 4, "rate"), _near(20), priority="overwrite"
    )
    car = _car(tmp_path, _xosc(story=_maneuvers(events)))
    step, near = car["speed_events"]
    assert (step["time_s"], abs(step["accel_mps2"]), step["target_speed_mps"]) == (0, STEP, 5)
    assert (near["when_ego_within_m"], abs(near["accel_mps2"])) == (20.0, 4.0)


def test_a_distance_triggered_overwrite_before_a_later_event_is_refused(tmp_path: Path) -> None:
    """A distance-triggered overwrite with a later time event of its maneuver (Up at 5 s):
    whether Up is still running when it fires is not known; refused naming the Near event
    and Up."""
    events = _event("Near", _speed(0, 4, "rate"), _near(20), priority="overwrite") + _event(
        "Up", UP, _at(5.0)
    )
    error = _refused(tmp_path, _xosc(story=_maneuvers(events)), "'Act/A/Event/Up' of the same")
    assert error.field == "Act/A/Event/Near"


# --- triggers -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["euclidianDistance", None])
def test_euclidian_and_missing_distance_types_are_centre_distances(
    tmp_path: Path, kind: str | None
) -> None:
    """relativeDistanceType euclidianDistance, or none given, is read as the centre distance
    (as cartesianDistance): within 20 m, no along_path keys."""
    condition = _near(20) if kind is None else _near(20, kind=kind)
    if kind is None:
        condition = condition.replace(' relativeDistanceType="longitudinal"', "")
    (near,) = _car(tmp_path, _xosc(story=_maneuvers(_event("N", UP, condition))))["speed_events"]
    assert near["when_ego_within_m"] == 20.0
    assert "along_path" not in near and "along_path_offset_m" not in near


def test_less_or_equal_distance_rule_is_read(tmp_path: Path) -> None:
    """rule lessOrEqual is read as lessThan (a distance trigger within 20 m)."""
    events = _event("N", UP, _near(20, rule="lessOrEqual"))
    (near,) = _car(tmp_path, _xosc(story=_maneuvers(events)))["speed_events"]
    assert near["when_ego_within_m"] == 20.0


def test_distance_condition_not_involving_the_ego_is_refused(tmp_path: Path) -> None:
    """A RelativeDistanceCondition from Car to Car (the ego not in the pair) is refused naming
    the pair."""
    condition = (
        _near(20)
        .replace('RelativeDistanceCondition entityRef="Ego"', "X")
        .replace("X", 'RelativeDistanceCondition entityRef="Car"')
    )
    _refused(
        tmp_path,
        _xosc(story=_maneuvers(_event("N", UP, condition))),
        r"between the actor 'Car' and the ego 'Ego', got \['Car'\]",
    )


def test_freespace_left_out_is_false(tmp_path: Path) -> None:
    """No freespace attribute is freespace false: the value as given, the longitudinal offset
    between the reference points (Center x 1.5 less the ego's centre offset)."""
    condition = _near(20).replace(' freespace="false"', "")
    (near,) = _car(tmp_path, _xosc(story=_maneuvers(_event("N", UP, condition))))["speed_events"]
    assert near["when_ego_within_m"] == 20.0
    assert near["along_path_offset_m"] == pytest.approx(1.5 - EGO_CENTRE_M)


def test_longitudinal_freespace_adds_half_lengths_and_has_no_offset(tmp_path: Path) -> None:
    """A longitudinal freespace distance is measured from the box centres (offset 0) plus the
    half lengths: 20 + (8 [the car's box] + the ego's length_m) / 2."""
    events = _event("N", UP, _near(20, freespace="true"))
    car = _car(tmp_path, _xosc(story=_maneuvers(events), car=_vehicle(length=8.0)))
    (near,) = car["speed_events"]
    assert near["when_ego_within_m"] == pytest.approx(20.0 + (8.0 + VehicleParams().length_m) / 2)
    assert near["along_path"] is True
    assert near["along_path_offset_m"] == 0.0


def test_an_event_without_a_start_trigger_starts_with_a_late_act(tmp_path: Path) -> None:
    """No StartTrigger: the event starts with its act (here at 4 s)."""
    story = _maneuvers(_event("Up", UP), act_start=4.0)
    (up,) = _car(tmp_path, _xosc(story=story))["speed_events"]
    assert up["time_s"] == 4.0


# --- the speed at an event's start ----------------------------------------------------------


def test_a_speed_change_at_a_distance_events_earliest_start_is_refused(tmp_path: Path) -> None:
    """Near (distance-triggered, earliest 0 s) may fire at 0 s, before or with T (0 s, over a
    time): T's start speed is not known; refused naming Near."""
    events = _event("Near", _speed(0, 4, "rate"), _near(20)) + _event(
        "T", _speed(3, 2, "time"), _at(0.0)
    )
    error = _refused(tmp_path, _xosc(story=_maneuvers(events)), "after 'Act/A/Event/Near'")
    assert error.field == "Act/A/Event/T"


@pytest.mark.parametrize(
    "before, named",
    [
        (_event("Up", _speed(12, 1, "rate"), _at(5.0)), "after 'Act/A/Event/Up'"),
        (_event("Near", _speed(2, 1, "rate"), _near(30)), "after 'Act/A/Event/Near'"),
        (_event("Up", _speed(12, 1, "rate"), _at(0.0)), "still running at its earliest start"),
    ],
    ids=["later-timed", "other-distance", "running"],
)
def test_a_distance_triggered_lane_change_over_a_distance_needs_a_known_speed(
    tmp_path: Path, before: str, named: str
) -> None:
    """A distance-triggered lane change over 30 m needs the speed when it fires: refused
    after a timed speed change that may come first (5 s), another distance-triggered one, or
    a speed change still running at its earliest start (0 s)."""
    events = before + _event("Over", _lane_change(-1, 30, "distance"), _near(20))
    error = _refused(tmp_path, _xosc(story=_maneuvers(events)), named)
    assert error.field == "Act/A/Event/Over"


def test_a_distance_triggered_lane_change_over_a_distance_at_a_constant_speed(
    tmp_path: Path,
) -> None:
    """With no speed change the car keeps its 8 m/s: 30 m takes 30 / 8 = 3.75 s."""
    events = _event("Over", _lane_change(-1, 30, "distance"), _near(20))
    (shift,) = _car(tmp_path, _xosc(story=_maneuvers(events)))["lateral_shifts"]
    assert shift["duration_s"] == pytest.approx(3.75)
    assert shift["when_ego_within_m"] == 20.0


def test_a_distance_triggered_brake_and_lane_change_in_one_event(tmp_path: Path) -> None:
    """One distance-triggered event braking at 4 m/s^2 and changing lane over 30 m: the lane
    change's start speed is the constant 8 m/s (its own event's speed change is not one that
    comes before it): 30 / 8 = 3.75 s; the brake, from a known 8 m/s, is -4 m/s^2."""
    both = _speed(0, 4, "rate") + "</PrivateAction><PrivateAction>"
    both += _lane_change(-1, 30, "distance")
    car = _car(tmp_path, _xosc(story=_maneuvers(_event("Near", both, _near(20)))))
    (shift,) = car["lateral_shifts"]
    assert shift["duration_s"] == pytest.approx(3.75)
    assert car["speed_events"][0]["accel_mps2"] == -4.0


def test_a_zero_rate_is_refused_on_a_distance_triggered_speed_change(tmp_path: Path) -> None:
    """A rate of 0 never reaches the target (the rule of _rate_mps2, refused for a timed
    event): a distance-triggered one after a running Up must be refused the same way, not
    read as a change at once."""
    events = _event("Up", UP, _at(0.0)) + _event("Near", _speed(0, 0, "rate"), _near(20))
    _refused(tmp_path, _xosc(story=_maneuvers(events)), "a rate of 0 never reaches")


def test_distance_triggered_speed_change_over_a_time_is_read_as_at_once(tmp_path: Path) -> None:
    """A time of 0 is at once whether or not the speed before is known: after a running Up
    the distance-triggered change over 0 s is a STEP."""
    events = _event("Up", UP, _at(0.0)) + _event("Near", _speed(0, 0, "time"), _near(20))
    assert _events(tmp_path, events) == [(0.0, 1.0, 30.0), (0.0, STEP, 0.0)]


# --- the storyboard's structure ------------------------------------------------------------


def _signal_event(name: str) -> str:
    return (
        f'<Event name="{name}" priority="parallel"><Action name="{name}"><GlobalAction>'
        '<InfrastructureAction><TrafficSignalAction><TrafficSignalStateAction name="10" '
        'state="red"/></TrafficSignalAction></InfrastructureAction></GlobalAction></Action>'
        f"<StartTrigger><ConditionGroup>{_at(2.0)}</ConditionGroup></StartTrigger></Event>"
    )


def test_a_signal_event_beside_an_actor_event_leaves_it_read(tmp_path: Path) -> None:
    """A maneuver holding a light event and a speed event: the light goes to the signals,
    the speed event is still read for the actor."""
    events = _signal_event("Red") + _event("Up", UP, _at(1.0))
    scenario = _read(tmp_path, _xosc(story=_maneuvers(events)))
    (car,) = scenario["agents"]
    assert [e["time_s"] for e in car["speed_events"]] == [1.0]
    assert scenario["traffic_lights"][0]["switches"] == [{"at_s": 2.0, "state": "red"}]


def test_an_acts_stop_trigger_is_refused(tmp_path: Path) -> None:
    """An act's StopTrigger (it would end its events early) is refused naming the act."""
    stop = f"<StopTrigger><ConditionGroup>{_at(5.0)}</ConditionGroup></StopTrigger>"
    story = _maneuvers(_event("Up", UP, _at(1.0))).replace("</Act>", f"{stop}</Act>")
    error = _refused(tmp_path, _xosc(story=story), "an act's StopTrigger is not read")
    assert error.field == "Act/A"


@pytest.mark.parametrize("value", ["TRUE", "True"])
def test_select_triggering_entities_true_in_any_case_is_refused(tmp_path: Path, value: str) -> None:
    """selectTriggeringEntities is an XML boolean, any case: TRUE is refused by name."""
    story = _maneuvers(_event("Up", UP, _at(1.0))).replace(
        "selectTriggeringEntities='false'", f"selectTriggeringEntities='{value}'"
    )
    error = _refused(tmp_path, _xosc(story=story), "selectTriggeringEntities")
    assert error.field == "Act/A/ManeuverGroup/G/Actors"


def test_ego_story_actions_are_counted_in_the_description(tmp_path: Path) -> None:
    """Two events for the ego (a group whose actor is Ego): skipped, counted: '(2 ego
    action(s) not read ...)'."""
    ego_group = (
        "<ManeuverGroup maximumExecutionCount='1' name='E'><Actors "
        "selectTriggeringEntities='false'><EntityRef entityRef='Ego'/></Actors><Maneuver "
        f"name='ME'>{_event('Go', UP, _at(1.0))}{_event('Stop', UP, _at(2.0))}</Maneuver>"
        "</ManeuverGroup>"
    )
    story = _maneuvers(_event("Up", UP, _at(1.0)), extra=ego_group)
    scenario = _read(tmp_path, _xosc(story=story))
    assert (
        scenario["description"] == "pinned (2 ego action(s) not read: the planner drives the ego)"
    )


def test_events_starting_together_keep_their_file_order(tmp_path: Path) -> None:
    """Two speed changes at 2 s: listed in file order (Zed before Alpha), and Alpha, the
    last listed, acts on the tie (it replaces Zed): from 8 m/s down to 4 m/s at 1 m/s^2."""
    events = _event("Zed", _speed(20, 1, "rate"), _at(2.0)) + _event(
        "Alpha", _speed(4, 1, "rate"), _at(2.0)
    )
    assert [t for _, _, t in _events(tmp_path, events)] == [20.0, 4.0]
    car = _car(tmp_path, _xosc(story=_maneuvers(events)))
    assert _replayed(car, 4.0) == pytest.approx(6.0)
    assert _replayed(car, 10.0) == pytest.approx(4.0)


# --- lane changes ---------------------------------------------------------------------------


def _absolute_lane(lane: int) -> str:
    return (
        "<LateralAction><LaneChangeAction><LaneChangeActionDynamics dynamicsShape='sinusoidal' "
        "value='2' dynamicsDimension='time'/><LaneChangeTarget>"
        f"<AbsoluteTargetLane value='{lane}'/></LaneChangeTarget></LaneChangeAction>"
        "</LateralAction>"
    )


def test_second_relative_lane_change_counts_from_the_first_ones_lane(tmp_path: Path) -> None:
    """-1 from lane -1 is lane -2 (-3.25 m), then -1 again from lane -2 is lane -3 (centre
    y = -8.5: -7.0 m from lane -1's centre); a lane offset after is from lane -3's centre."""
    events = (
        _event("A", _lane_change(-1, 2.0), _at(1.0))
        + _event("B", _lane_change(-1, 2.0), _at(4.0))
        + _event("C", _lane_offset(0.5), _at(7.0))
    )
    shifts = _car(tmp_path, _xosc(story=_maneuvers(events)))["lateral_shifts"]
    assert [s["offset_m"] for s in shifts] == pytest.approx([-3.25, -7.0, -6.5])


def test_relative_target_lane_0_is_back_to_the_centre_of_the_lane_it_is_in(
    tmp_path: Path,
) -> None:
    """-1 from lane -1 is lane -2 (-3.25 m); a lane offset of 0.5 m there (-2.75 m); then
    RelativeTargetLane 0 is lane -2 itself: back to its centre, -3.25 m (it was refused as
    "no lane None beside the actor's lane")."""
    events = (
        _event("A", _lane_change(-1, 2.0), _at(1.0))
        + _event("B", _lane_offset(0.5), _at(4.0))
        + _event("C", _lane_change(0, 2.0), _at(7.0))
    )
    shifts = _car(tmp_path, _xosc(story=_maneuvers(events)))["lateral_shifts"]
    assert [s["offset_m"] for s in shifts] == pytest.approx([-3.25, -2.75, -3.25])


def test_absolute_target_lane_and_the_wrong_direction(tmp_path: Path) -> None:
    """AbsoluteTargetLane -3 (same direction) is -7.0 m over 2 s; lane 1 runs the other way:
    refused naming both lanes."""
    (shift,) = _car(tmp_path, _xosc(story=_maneuvers(_event("O", _absolute_lane(-3), _at(1.0)))))[
        "lateral_shifts"
    ]
    assert (shift["offset_m"], shift["duration_s"]) == (pytest.approx(-7.0), 2.0)
    _refused(
        tmp_path,
        _xosc(story=_maneuvers(_event("O", _absolute_lane(1), _at(1.0)))),
        "lane '1_0_1' runs against the actor's lane '1_0_-1'",
    )


def test_relative_target_lane_of_another_entity_is_refused(tmp_path: Path) -> None:
    """A RelativeTargetLane is read relative to the actor itself: entityRef Ego refused."""
    change = _lane_change(-1).replace(
        'RelativeTargetLane entityRef="Car"', 'RelativeTargetLane entityRef="Ego"'
    )
    _refused(
        tmp_path,
        _xosc(story=_maneuvers(_event("O", change, _at(1.0)))),
        "relative to the actor itself",
    )


def test_lane_change_over_zero_time_is_floored_to_a_millisecond(tmp_path: Path) -> None:
    """A lane change over 0 s lasts 1e-3 s (never zero)."""
    events = _event("O", _lane_change(-1, 0.0), _at(1.0))
    (shift,) = _car(tmp_path, _xosc(story=_maneuvers(events)))["lateral_shifts"]
    assert shift["duration_s"] == pytest.approx(1e-3)


# --- entities, catalogues, road network, Init (_entities) ----------------------------------


@pytest.mark.parametrize(
    "category, kind",
    [("motorbike", "motorcycle"), ("bicycle", "cyclist"), ("tram", "other_vehicle")],
)
def test_vehicle_categories_map_to_drivestack_classes(
    tmp_path: Path, category: str, kind: str
) -> None:
    """vehicleCategory motorbike -> motorcycle, bicycle -> cyclist, tram -> other_vehicle."""
    assert _car(tmp_path, _xosc(car=_vehicle(category)))["type"] == kind


PEDESTRIAN = (
    '<Pedestrian name="p" model="m" mass="80" pedestrianCategory="pedestrian"><BoundingBox>'
    '<Center x="0" y="0" z="0.9"/><Dimensions width="0.6" length="0.5" height="1.8"/>'
    "</BoundingBox><Properties/></Pedestrian>"
)


def test_a_pedestrian_is_a_pedestrian_of_its_box_size(tmp_path: Path) -> None:
    """A Pedestrian entity is of type pedestrian, sized by its box (length, width, height)."""
    car = _car(tmp_path, _xosc(car=PEDESTRIAN))
    assert (car["type"], car["size_m"]) == ("pedestrian", [0.5, 0.6, 1.8])


def test_a_box_without_center_places_the_reference_point(tmp_path: Path) -> None:
    """No BoundingBox Center: the box centre is the reference point (station s = 50)."""
    car = _vehicle().replace('<Center x="1.5" y="0" z="0.8"/>', "")
    assert _car(tmp_path, _xosc(car=car))["station_m"] == pytest.approx(50.0)


def _catalogue(folder: Path, entries: str, name: str = "Cat") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "entries.xosc").write_text(
        '<?xml version="1.0"?><OpenSCENARIO><FileHeader revMajor="1" revMinor="1"/>'
        f'<Catalog name="{name}">{entries}</Catalog></OpenSCENARIO>'
    )


def _reference(entry: str, catalogue: str = "Cat") -> str:
    return f'<CatalogReference catalogName="{catalogue}" entryName="{entry}"/>'


def test_a_pedestrian_catalogue_entry_from_an_absolute_directory(tmp_path: Path) -> None:
    """A PedestrianCatalog directory given by an absolute path (not beside the file): its
    Pedestrian entry is read."""
    folder = tmp_path / "elsewhere" / "people"
    _catalogue(folder, PEDESTRIAN.replace('name="p"', 'name="Walker"'), "People")
    head = (
        "<CatalogLocations><PedestrianCatalog>"
        f'<Directory path="{folder}"/></PedestrianCatalog></CatalogLocations>'
    )
    (tmp_path / "run").mkdir()
    car = _car(tmp_path / "run", _xosc(head=head, car=_reference("Walker", "People")))
    assert (car["type"], car["size_m"]) == ("pedestrian", [0.5, 0.6, 1.8])


def test_an_undeclared_catalogue_parameter_is_refused_by_name(tmp_path: Path) -> None:
    """A catalogue entry's $Cat with no declaration (in the entry or the scenario) is refused
    naming the parameter, not a crash."""
    _catalogue(tmp_path / "cat", _vehicle("$Cat").replace('name="v"', 'name="Box"'))
    head = '<CatalogLocations><VehicleCatalog><Directory path="cat"/></VehicleCatalog></CatalogLocations>'
    _refused(tmp_path, _xosc(head=head, car=_reference("Box")), "no parameter 'Cat' is declared")


def test_an_upper_case_xodr_suffix_is_an_opendrive_file(tmp_path: Path) -> None:
    """RoadNetwork LogicFile road.XODR is OpenDRIVE (the suffix in any case)."""
    _read(tmp_path, _xosc())  # writes road.xodr
    (tmp_path / "road.xodr").rename(tmp_path / "road.XODR")
    text = _xosc().replace('filepath="road.xodr"', 'filepath="road.XODR"')
    path = tmp_path / "upper.xosc"
    path.write_text(text)
    assert read_openscenario(path)["map"]["file"].endswith("road.XODR")


def test_lane_position_offset_is_the_start_offset(tmp_path: Path) -> None:
    """A LanePosition's offset (0.5 m, left positive) is the entity's start offset."""
    text = _xosc().replace('laneId="-1" offset="0" s="50.0"', 'laneId="-1" offset="0.5" s="50.0"')
    assert _car(tmp_path, text)["offset_m"] == pytest.approx(0.5)


def test_world_position_heading_picks_the_lane_running_its_way(tmp_path: Path) -> None:
    """(50, -1.5) is on lane -1's centre; with h = pi (heading -x) it snaps to lane 1 (the
    nearest lane running its way, centre y = 1.75: 3.25 m off, within 5 m)."""
    lane = '<LanePosition roadId="1" laneId="-1" offset="0" s="50.0"/>'
    world = '<WorldPosition x="50" y="-1.5" h="3.141592653589793"/>'
    car = _car(tmp_path, _xosc().replace(lane, world))
    assert car["lanes"][0] == "1_0_1"
    assert car["offset_m"] == pytest.approx(3.25)


def _routing(route: str) -> str:
    return (
        "<PrivateAction><RoutingAction><AssignRouteAction>"
        f"{route}</AssignRouteAction></RoutingAction></PrivateAction>"
    )


WAYPOINT = (
    '<Waypoint routeStrategy="shortest"><Position><LanePosition roadId="1" laneId="-1" '
    'offset="0" s="150"/></Position></Waypoint>'
)


def _with_routing(*routings: str) -> str:
    return (
        _place("Ego", s=10.0, speed=5.0)
        + _place("Car")[: -len("</Private>")]
        + "".join(routings)
        + "</Private>"
    )


def test_closed_false_in_any_case_is_an_open_route(tmp_path: Path) -> None:
    """closed is an XML boolean, any case: closed="False" is an open route and read."""
    init = _with_routing(_routing(f'<Route name="R" closed="False">{WAYPOINT}</Route>'))
    assert _car(tmp_path, _xosc(init=init))["lanes"] == ["1_0_-1"]


def test_a_route_without_waypoints_is_refused(tmp_path: Path) -> None:
    """A Route needs at least one Waypoint."""
    init = _with_routing(_routing('<Route name="R" closed="false"/>'))
    error = _refused(tmp_path, _xosc(init=init), "a Route needs at least one Waypoint")
    assert error.field == "Init/Car/RoutingAction/AssignRouteAction/Route"


def test_two_routing_actions_for_one_entity_are_refused(tmp_path: Path) -> None:
    """One RoutingAction per entity in the Init: a second is refused."""
    route = _routing(f'<Route name="R" closed="false">{WAYPOINT}</Route>')
    error = _refused(tmp_path, _xosc(init=_with_routing(route, route)), "got two")
    assert error.field == "Init/Car/RoutingAction"


def test_an_entity_the_init_does_not_place_is_refused(tmp_path: Path) -> None:
    """Every entity is placed by a TeleportAction in the Init: Car with only a speed is
    refused naming it."""
    init = _place("Ego", s=10.0, speed=5.0) + (
        f'<Private entityRef="Car"><PrivateAction>{_speed(8, 0, "time", "step")}'
        "</PrivateAction></Private>"
    )
    error = _refused(tmp_path, _xosc(init=init), "no TeleportAction in the Init places it")
    assert error.field == "Storyboard/Init/Car"


def test_init_actions_for_an_unknown_entity_are_refused(tmp_path: Path) -> None:
    """An Init Private for an entity not in Entities is refused naming it."""
    init = _place("Ego", s=10.0, speed=5.0) + _place("Car") + _place("Ghost")
    error = _refused(tmp_path, _xosc(init=init), "no entity 'Ghost'")
    assert error.field == "Storyboard/Init/Actions/Private@entityRef"


def test_a_misspelt_init_action_names_its_child(tmp_path: Path) -> None:
    """A <SpeedActon> inside LongitudinalAction is refused naming
    'LongitudinalAction/SpeedActon'."""
    init = _place("Ego", s=10.0, speed=5.0) + _place("Car").replace("SpeedAction>", "SpeedActon>")
    _refused(tmp_path, _xosc(init=init), "LongitudinalAction/SpeedActon")


def test_init_speed_change_from_rest_to_a_reverse_speed_brakes(tmp_path: Path) -> None:
    """An Init SpeedAction to -4 m/s at rate 2: from rest, so the event's acceleration is
    -2 m/s^2 (its sign towards the target), the start speed 0."""
    init = _place("Ego", s=10.0, speed=5.0) + _place("Car").replace(
        _speed(8.0, 0, "time", "step"), _speed(-4, 2, "rate")
    )
    car = _car(tmp_path, _xosc(init=init))
    assert car["speed_mps"] == 0.0
    assert [(e["time_s"], e["accel_mps2"], e["target_speed_mps"]) for e in car["speed_events"]] == [
        (0.0, -2.0, -4.0)
    ]


def test_a_story_speed_change_at_zero_replaces_the_init_speed_change(tmp_path: Path) -> None:
    """Init: from rest at 1 m/s^2 towards 8 m/s; the story's Slow (act start, no trigger, at
    2 m/s^2 towards 3 m/s) comes after the Init, so it acts: 2 m/s at 1 s, 3 m/s held at 4 s
    (with the first of equal starts acting, the Init's: 1 m/s at 1 s, 4 m/s at 4 s)."""
    init = _place("Ego", s=10.0, speed=5.0) + _place("Car").replace(
        _speed(8.0, 0, "time", "step"), _speed(8, 1, "rate")
    )
    car = _car(tmp_path, _xosc(init=init, story=_maneuvers(_event("Slow", _speed(3, 2, "rate")))))
    assert _replayed(car, 1.0) == pytest.approx(2.0)
    assert _replayed(car, 4.0) == pytest.approx(3.0)


def test_an_init_speed_change_after_an_init_step_starts_from_the_steps_speed(
    tmp_path: Path,
) -> None:
    """Init: a step to 8 m/s, then a change to 10 m/s over 2 s: the car starts at 8 m/s and
    speeds up at (10 - 8) / 2 = 1 m/s^2 (the change was once worked out from rest, 5 m/s^2,
    and the step's 8 m/s lost)."""
    second = "<PrivateAction>" + _speed(10, 2, "time") + "</PrivateAction></Private>"
    init = _place("Ego", s=10.0, speed=5.0) + _place("Car").replace("</Private>", second)
    car = _car(tmp_path, _xosc(init=init))
    assert car["speed_mps"] == 8.0
    assert [(e["time_s"], e["accel_mps2"], e["target_speed_mps"]) for e in car["speed_events"]] == [
        (0.0, 1.0, 10.0)
    ]


def test_an_init_step_after_an_init_speed_change_replaces_it(tmp_path: Path) -> None:
    """Init: a change to 10 m/s at 1 m/s^2 from rest, then a step to 6 m/s: the step replaces
    the change, so the car starts at 6 m/s with no speed event."""
    first = _speed(10, 1, "rate")
    init = _place("Ego", s=10.0, speed=5.0) + _place("Car", speed=6.0).replace(
        "<PrivateAction><LongitudinalAction>",
        f"<PrivateAction>{first}</PrivateAction><PrivateAction><LongitudinalAction>",
    )
    car = _car(tmp_path, _xosc(init=init))
    assert (car["speed_mps"], car["speed_events"]) == (6.0, [])
