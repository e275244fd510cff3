"""OpenSCENARIO subset: a hand-written .xosc on esmini's e6mini motorway (SOURCES.md section 7)
read into a scenario, run closed loop, and what is not read refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_scenarios

VEHICLE = (
    '<Vehicle name="car" vehicleCategory="{category}"><BoundingBox><Center x="1.4" y="0" z="0.8"/>'
    '<Dimensions width="1.9" length="{length}" height="1.5"/></BoundingBox>'
    '<Performance maxSpeed="70" maxAcceleration="10" maxDeceleration="10"/><Axles/><Properties/>'
    "</Vehicle>"
)


def _private(entity: str, lane: int, s: float, speed: str) -> str:
    return (
        f'<Private entityRef="{entity}"><PrivateAction><TeleportAction><Position>'
        f'<LanePosition roadId="0" laneId="{lane}" offset="0" s="{s}"/></Position></TeleportAction>'
        "</PrivateAction><PrivateAction><LongitudinalAction><SpeedAction>"
        '<SpeedActionDynamics dynamicsShape="step" value="0" dynamicsDimension="time"/>'
        f'<SpeedActionTarget><AbsoluteTargetSpeed value="{speed}"/></SpeedActionTarget>'
        "</SpeedAction></LongitudinalAction></PrivateAction></Private>"
    )


def _event(name: str, action: str, condition: str) -> str:
    return (
        f'<Event name="{name}" priority="overwrite"><Action name="{name}"><PrivateAction>'
        f"{action}</PrivateAction></Action><StartTrigger><ConditionGroup>"
        f'<Condition name="{name}" delay="0" conditionEdge="rising">{condition}</Condition>'
        "</ConditionGroup></StartTrigger></Event>"
    )


def _at_time(t: float) -> str:
    return f'<ByValueCondition><SimulationTimeCondition value="{t}" rule="greaterThan"/></ByValueCondition>'


def _near_ego(actor: str, distance: str) -> str:
    return (
        '<ByEntityCondition><TriggeringEntities triggeringEntitiesRule="any">'
        f'<EntityRef entityRef="{actor}"/></TriggeringEntities><EntityCondition>'
        f'<RelativeDistanceCondition entityRef="Ego" relativeDistanceType="longitudinal" '
        f'value="{distance}" freespace="false" rule="lessThan"/></EntityCondition></ByEntityCondition>'
    )


BRAKE = (
    '<LongitudinalAction><SpeedAction><SpeedActionDynamics dynamicsShape="linear" value="4" '
    'dynamicsDimension="rate"/><SpeedActionTarget><AbsoluteTargetSpeed value="2"/>'
    "</SpeedActionTarget></SpeedAction></LongitudinalAction>"
)
CUT_RIGHT = (
    '<LateralAction><LaneChangeAction><LaneChangeActionDynamics dynamicsShape="sinusoidal" '
    'value="3" dynamicsDimension="time"/><LaneChangeTarget><RelativeTargetLane entityRef="Cutter" '
    'value="-1"/></LaneChangeTarget></LaneChangeAction></LateralAction>'
)


def _xosc(
    xodr: Path, lead_events: str | None = None, cutter_events: str | None = None, **kw: str
) -> str:
    lead_events = (
        lead_events
        if lead_events is not None
        else _event("Brake", BRAKE, _near_ego("Lead", "$BrakeDistance"))
    )
    cutter_events = (
        cutter_events if cutter_events is not None else _event("CutIn", CUT_RIGHT, _at_time(6.0))
    )
    entities = "".join(
        f'<ScenarioObject name="{n}">{VEHICLE.format(category="car", length=4.6)}</ScenarioObject>'
        for n in (kw.get("ego_name", "Ego"), "Lead", "Cutter")
    )
    return (
        '<?xml version="1.0"?><OpenSCENARIO><FileHeader revMajor="1" revMinor="1" '
        'description="lead brakes, a car cuts in" author="drivestack"/>'
        '<ParameterDeclarations><ParameterDeclaration name="BrakeDistance" '
        'parameterType="double" value="50"/></ParameterDeclarations>'
        f'<RoadNetwork><LogicFile filepath="{kw.get("logic", xodr)}"/></RoadNetwork>'
        f"<Entities>{entities}</Entities><Storyboard><Init><Actions>"
        + _private(kw.get("ego_name", "Ego"), -3, 50.0, "12")
        + _private("Lead", -3, 110.0, "8")
        + _private("Cutter", -2, 200.0, "8")
        + "</Actions></Init><Story name='S'><Act name='A'>"
        + f"<ManeuverGroup maximumExecutionCount='1' name='L'><Actors selectTriggeringEntities='false'><EntityRef entityRef='Lead'/></Actors><Maneuver name='M'>{lead_events}</Maneuver></ManeuverGroup>"
        + f"<ManeuverGroup maximumExecutionCount='1' name='C'><Actors selectTriggeringEntities='false'><EntityRef entityRef='Cutter'/></Actors><Maneuver name='M'>{cutter_events}</Maneuver></ManeuverGroup>"
        + "</Act></Story><StopTrigger><ConditionGroup><Condition name='End' delay='0' conditionEdge='rising'>"
        + _at_time(14.0)
        + "</Condition></ConditionGroup></StopTrigger></Storyboard></OpenSCENARIO>"
    )


@pytest.fixture
def xodr(shared_data: Path) -> Path:
    return shared_data / "opendrive_esmini" / "e6mini.xodr"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cut_in.xosc"
    path.write_text(text)
    return path


@pytest.mark.data
def test_xosc_reads_into_a_scenario(tmp_path: Path, xodr: Path) -> None:
    (cfg,) = load_scenarios(_write(tmp_path, _xosc(xodr)))
    assert cfg.name == "cut_in" and cfg.duration_s == 14.0
    assert (cfg.map.kind, cfg.map.file) == ("opendrive", str(xodr.resolve()))
    assert (cfg.ego.lane, cfg.ego.speed_mps) == ("0_0_-3", 12.0)
    assert cfg.ego.station_m == pytest.approx(50.0, abs=0.05)  # a straight stretch of road 0
    lead, cutter = cfg.agents
    assert (lead.behavior, lead.lanes, lead.speed_mps) == ("scripted", ["0_0_-3"], 8.0)
    (brake,) = lead.speed_events
    assert (brake.when_ego_within_m, brake.accel_mps2, brake.target_speed_mps) == (50.0, -4.0, 2.0)
    (shift,) = cutter.lateral_shifts
    assert (shift.time_s, shift.duration_s, shift.when_ego_within_m) == (6.0, 3.0, None)
    # one lane to the right: half of lane -2 (3.65 m) and half of lane -3 (3.5 m)
    assert shift.offset_m == pytest.approx(-(3.65 + 3.5) / 2)
    assert cutter.size_m == (4.6, 1.9, 1.5)


@pytest.mark.data
def test_xosc_runs_closed_loop_with_its_triggers(
    tmp_path: Path, xodr: Path, shared_data: Path
) -> None:
    (cfg,) = load_scenarios(_write(tmp_path, _xosc(xodr)))
    built = build_scenario(cfg, shared_data)
    result = run_scenario(built, "pdm")
    h = result.history
    ego_xy = h.ego_boxes[:, :2]  # box centres, as the trigger measures
    lead_xy = h.agent_boxes[:, 0, :2]
    lead_speed = np.hypot(*h.agent_velocity_mps[:, 0].T)
    within = int(np.argmax(np.linalg.norm(lead_xy - ego_xy, axis=1) <= 50.0))
    assert within > 0  # the ego closes in first
    np.testing.assert_allclose(lead_speed[: within + 1], 8.0)  # the lead holds 8 m/s till then
    assert lead_speed[within + 1] == pytest.approx(8.0 - 4.0 * cfg.dt_s)  # then brakes at 4 m/s2
    assert lead_speed[-1] == pytest.approx(2.0)
    # the cutter moves one lane right (3.575 m) from 6 s to 9 s
    _, lateral = built.road_map.lane("0_0_-2").project(h.agent_boxes[:, 1, :2])
    t = np.arange(len(h)) * cfg.dt_s
    np.testing.assert_allclose(lateral[t <= 6.0], 0.0, atol=1e-6)
    assert -3.575 < lateral[np.searchsorted(t, 7.5)] < 0.0
    np.testing.assert_allclose(lateral[t >= 9.0], -3.575, atol=1e-3)
    assert not h.collisions.any()


@pytest.mark.data
@pytest.mark.parametrize(
    "change, field, reason",
    [
        ({"ego_name": "Host"}, "Entities", "no entity named one of"),
        ({"logic": "roads.osm"}, "RoadNetwork", "only OpenDRIVE road networks"),
        ({"logic": "missing.xodr"}, "RoadNetwork/LogicFile@filepath", "road network not found"),
        (
            {
                "lead": _event(
                    "Brake",
                    BRAKE,
                    '<ByEntityCondition><TriggeringEntities triggeringEntitiesRule="any"><EntityRef entityRef="Lead"/></TriggeringEntities><EntityCondition><TimeHeadwayCondition entityRef="Ego" value="2" freespace="false" rule="lessThan"/></EntityCondition></ByEntityCondition>',
                )
            },
            "Act/A/Event/Brake",
            "got TimeHeadwayCondition",
        ),
        (
            {
                "lead": _event(
                    "Brake",
                    BRAKE.replace(
                        "AbsoluteTargetSpeed value",
                        "RelativeTargetSpeed entityRef='Ego' valueType='delta' continuous='false' value",
                    ),
                    _at_time(1.0),
                )
            },
            "Act/A/Event/Brake",
            "only an AbsoluteTargetSpeed is read",
        ),
        (
            {
                "lead": _event(
                    "Brake",
                    BRAKE.replace(
                        '<AbsoluteTargetSpeed value="2"/>',
                        '<AbsoluteTargetSpeed value="$Missing"/>',
                    ),
                    _at_time(1.0),
                )
            },
            "Act/A/Event/Brake@value",
            "no parameter 'Missing' is declared",
        ),
        (
            {
                "cutter": _event(
                    "Go", "<RoutingAction><AssignRouteAction/></RoutingAction>", _at_time(1.0)
                )
            },
            "Act/A/Event/Go",
            "only SpeedAction, LaneChangeAction and LaneOffsetAction are read",
        ),
    ],
)
def test_what_is_not_read_is_refused_by_name(
    tmp_path: Path, xodr: Path, change: dict[str, str], field: str, reason: str
) -> None:
    change = dict(change)
    text = _xosc(xodr, change.pop("lead", None), change.pop("cutter", None), **change)
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_scenarios(path)
    assert (info.value.path, info.value.field) == (str(path), field)
    assert reason in str(info.value)


def test_not_xml_and_wrong_root(tmp_path: Path) -> None:
    path = _write(tmp_path, "<OpenSCENARIO>")
    with pytest.raises(ConfigError, match="not well-formed XML"):
        load_scenarios(path)
    path.write_text("<OpenDRIVE/>")
    with pytest.raises(ConfigError, match="expected <OpenSCENARIO>"):
        load_scenarios(path)


def _cut(value: int) -> str:
    return CUT_RIGHT.replace('value="-1"', f'value="{value}"')


@pytest.mark.data
def test_events_are_read_in_start_order_on_one_clock(tmp_path: Path, xodr: Path) -> None:
    # the file lists the second lane change first; the act starts at 2 s
    cutter = _event("Back", _cut(1), _at_time(6.0)) + _event("Over", _cut(-1), _at_time(1.0))
    lead = _event("Brake", BRAKE.replace('value="4"', 'value="-4"'), _at_time(5.0)) + _event(
        "Stop",
        BRAKE.replace('<AbsoluteTargetSpeed value="2"/>', '<AbsoluteTargetSpeed value="0"/>')
        .replace('dynamicsDimension="rate"', 'dynamicsDimension="distance"')
        .replace('value="4"', 'value="8"'),
        _at_time(9.0),
    )
    text = _xosc(xodr, lead, cutter).replace(
        "</ManeuverGroup></Act>",
        "</ManeuverGroup><StartTrigger><ConditionGroup><Condition name='go' delay='0' "
        f"conditionEdge='rising'>{_at_time(2.0)}</Condition></ConditionGroup></StartTrigger></Act>",
    )
    (cfg,) = load_scenarios(_write(tmp_path, text))
    lead_cfg, cutter_cfg = cfg.agents
    brake, stop = lead_cfg.speed_events
    # a negative braking rate (esmini's style) is a rate, not a step; 5 s is after the act's 2 s
    assert (brake.time_s, brake.accel_mps2, brake.target_speed_mps) == (5.0, -4.0, 2.0)
    # over 8 m from the 2 m/s the brake left: (0 - 4) / (2 * 8)
    assert (stop.time_s, stop.accel_mps2) == (9.0, pytest.approx(-0.25))
    over, back = cutter_cfg.lateral_shifts
    assert over.time_s == 2.0  # at 1 s of a 2 s act: held to the act's start
    assert over.offset_m == pytest.approx(-(3.65 + 3.5) / 2)  # one lane right of lane -2
    assert (back.time_s, back.offset_m) == (6.0, pytest.approx(0.0, abs=1e-6))  # and back


@pytest.mark.data
@pytest.mark.parametrize(
    "old, new, field, reason",
    [
        (
            "<Story name='S'>",
            "<Story name='S'><ParameterDeclarations><ParameterDeclaration name='BrakeDistance' "
            "parameterType='double' value='9'/></ParameterDeclarations>",
            "ParameterDeclarations",
            "below the top level",
        ),
        (
            _private("Lead", -3, 110.0, "8"),
            "",
            "Storyboard/Init/Lead",
            "no TeleportAction in the Init places it",
        ),
        (
            "<Maneuver name='M'>"
            + _event("Brake", BRAKE, _near_ego("Lead", "$BrakeDistance"))
            + "</Maneuver>",
            "<CatalogReference catalogName='Maneuvers' entryName='brake'/>",
            "Act/A",
            "maneuvers from a catalogue are not read",
        ),
        (
            'conditionEdge="rising">' + _near_ego("Lead", "$BrakeDistance"),
            'conditionEdge="falling">' + _near_ego("Lead", "$BrakeDistance"),
            "Act/A/Event/Brake",
            "conditionEdge 'falling' is not read",
        ),
        (
            'relativeDistanceType="longitudinal"',
            'relativeDistanceType="lateral"',
            "Act/A/Event/Brake",
            "relativeDistanceType 'lateral' is not read",
        ),
        (
            'laneId="-3" offset="0" s="110.0"',
            'laneId="-2.5" offset="0" s="110.0"',
            "Init/Lead/TeleportAction@laneId",
            "not a whole number",
        ),
        (
            "</ManeuverGroup></Act>",
            "</ManeuverGroup><StopTrigger/></Act>",
            "Act/A",
            "an act's StopTrigger is not read",
        ),
        (
            "<StopTrigger><ConditionGroup><Condition name='End' delay='0' conditionEdge='rising'>"
            + _at_time(14.0),
            "<StopTrigger><ConditionGroup><Condition name='End' delay='0' conditionEdge='rising'>"
            "<ByValueCondition><StoryboardElementStateCondition storyboardElementType='act' "
            "storyboardElementRef='A' state='endTransition'/></ByValueCondition>",
            "Storyboard/StopTrigger",
            "got StoryboardElementStateCondition",
        ),
        (  # was read as a step: a lead going from 15 m/s to 0 in one tick
            'dynamicsShape="linear" value="4" dynamicsDimension="rate"',
            'dynamicsShape="linear" value="0" dynamicsDimension="rate"',
            "Act/A/Event/Brake",
            'a rate of 0 never reaches the target speed; for a change at once give dynamicsShape="step"',
        ),
    ],
)
def test_more_of_what_is_not_read(
    tmp_path: Path, xodr: Path, old: str, new: str, field: str, reason: str
) -> None:
    text = _xosc(xodr)
    assert old in text
    path = _write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        load_scenarios(path)
    assert (info.value.path, info.value.field) == (str(path), field)
    assert reason in str(info.value)


CATALOGUE = """<?xml version="1.0"?>
<OpenSCENARIO><FileHeader revMajor="1" revMinor="1" description="vehicles" author="drivestack"/>
<Catalog name="VehicleCatalog">
  <Vehicle name="van_white" vehicleCategory="van">
    <ParameterDeclarations>
      <ParameterDeclaration name="Length" parameterType="double" value="5.0"/>
    </ParameterDeclarations>
    <BoundingBox><Center x="1.5" y="0" z="1.0"/><Dimensions width="2.0" length="$Length" height="2.1"/></BoundingBox>
    <Performance maxSpeed="40" maxAcceleration="4" maxDeceleration="8"/><Axles/><Properties/>
  </Vehicle>
</Catalog></OpenSCENARIO>
"""


@pytest.mark.data
def test_catalogue_references_are_resolved_with_their_parameters(
    tmp_path: Path, xodr: Path
) -> None:
    (tmp_path / "catalogs").mkdir()
    (tmp_path / "catalogs" / "VehicleCatalog.xosc").write_text(CATALOGUE)
    van = (
        '<CatalogReference catalogName="VehicleCatalog" entryName="van_white"><ParameterAssignments>'
        '<ParameterAssignment parameterRef="Length" value="6.5"/></ParameterAssignments>'
        "</CatalogReference>"
    )
    inline = VEHICLE.format(category="car", length=4.6)
    text = (
        _xosc(xodr)
        .replace(
            f'<ScenarioObject name="Cutter">{inline}</ScenarioObject>',
            f'<ScenarioObject name="Cutter">{van}</ScenarioObject>',
        )
        .replace(
            "<RoadNetwork>",
            '<CatalogLocations><VehicleCatalog><Directory path="catalogs"/></VehicleCatalog>'
            "</CatalogLocations><RoadNetwork>",
        )
    )
    (cfg,) = load_scenarios(_write(tmp_path, text))
    cutter = cfg.agents[1]
    assert (cutter.id, cutter.type, cutter.size_m) == ("Cutter", "van", (6.5, 2.0, 2.1))
    path = _write(tmp_path, text.replace('entryName="van_white"', 'entryName="van_red"'))
    with pytest.raises(
        ConfigError, match="no entry 'van_red' in a catalogue 'VehicleCatalog'"
    ) as info:
        load_scenarios(path)
    assert info.value.field == "Entities/Cutter"


def _lane_offset(offset_m: float) -> str:
    return (
        '<LateralAction><LaneOffsetAction continuous="false"><LaneOffsetActionDynamics '
        'maxLateralAcc="1.0" dynamicsShape="cubic"/><LaneOffsetTarget>'
        f'<AbsoluteTargetLaneOffset value="{offset_m}"/></LaneOffsetTarget></LaneOffsetAction>'
        "</LateralAction>"
    )


@pytest.mark.data
def test_lane_offsets_count_from_the_lane_and_offset_the_events_before_left(
    tmp_path: Path, xodr: Path
) -> None:
    cutter = (
        _event("Over", _cut(-1), _at_time(1.0))
        + _event("Drift", _lane_offset(1.0), _at_time(6.0))
        + _event("Back", _lane_offset(-0.5), _at_time(9.0))
    )
    (cfg,) = load_scenarios(_write(tmp_path, _xosc(xodr, cutter_events=cutter)))
    over, drift, back = cfg.agents[1].lateral_shifts
    right_lane_m = -(3.65 + 3.5) / 2  # lane -3's centre beside lane -2's
    assert over.offset_m == pytest.approx(right_lane_m)
    # in the lane it changed to, not back in its start lane
    assert drift.offset_m == pytest.approx(right_lane_m + 1.0)
    assert back.offset_m == pytest.approx(right_lane_m - 0.5)
    # duration from the peak lateral acceleration over the change from the offset before:
    # pi * sqrt(|change| / (2 a)), a = 1 m/s^2
    assert drift.duration_s == pytest.approx(np.pi * np.sqrt(1.0 / 2.0))
    assert back.duration_s == pytest.approx(np.pi * np.sqrt(1.5 / 2.0))


@pytest.mark.data
def test_freespace_distance_adds_the_simulated_half_lengths(tmp_path: Path, xodr: Path) -> None:
    text = _xosc(xodr).replace('freespace="false"', 'freespace="true"')
    text = text.replace(
        '<ScenarioObject name="Lead">'
        + VEHICLE.format(category="car", length=4.6)
        + "</ScenarioObject>",
        '<ScenarioObject name="Lead"><Pedestrian name="walker" mass="80" '
        'pedestrianCategory="pedestrian"><BoundingBox><Center x="0" y="0" z="0.9"/>'
        '<Dimensions width="0.5" length="0.4" height="1.8"/></BoundingBox><Properties/>'
        "</Pedestrian></ScenarioObject>",
    )
    (cfg,) = load_scenarios(_write(tmp_path, text))
    lead = cfg.agents[0]
    assert (lead.type, tuple(lead.size_m or ())) == ("pedestrian", (0.4, 0.5, 1.8))
    # 50 m between the boxes: + half the walker's 0.4 m + half the simulated ego's 5.18 m
    # (the ego's own BoundingBox, 4.6 m, is not the simulator's vehicle)
    (brake,) = lead.speed_events
    assert brake.when_ego_within_m == pytest.approx(50.0 + 0.2 + 2.59)


@pytest.mark.data
def test_checks_after_reading_name_the_xosc_element_first(
    tmp_path: Path, xodr: Path, shared_data: Path
) -> None:
    """Was: 'field agents.0.station_m: 22.6 m puts agent ...', 'field ego.speed_mps' and
    'field duration_s': keys and values an .xosc author never wrote."""
    text = _xosc(xodr)
    # the lead 2 m ahead of the ego on its lane: on the ego at the start (found when built)
    (cfg,) = load_scenarios(_write(tmp_path, text.replace('laneId="-3" offset="0" s="110.0"',
                                                          'laneId="-3" offset="0" s="52.0"')))  # fmt: skip
    with pytest.raises(ConfigError) as info:
        build_scenario(cfg, shared_data)
    assert info.value.field == (
        "Init/Lead/TeleportAction, its s plus its BoundingBox Center x (read as agents.0.station_m)"
    )
    # a negative start speed of the ego (found when loaded)
    reverse = text.replace(_private("Ego", -3, 50.0, "12"), _private("Ego", -3, 50.0, "-12"))
    with pytest.raises(ConfigError) as info:
        load_scenarios(_write(tmp_path, reverse))
    assert info.value.field == "Init/Ego/SpeedAction (read as ego.speed_mps)"
    # a misspelt action inside LongitudinalAction names the child
    typo = text.replace("<SpeedAction>", "<SpeedActon>", 1).replace(
        "</SpeedAction>", "</SpeedActon>", 1
    )
    with pytest.raises(ConfigError, match=r"got \['LongitudinalAction/SpeedActon'\]"):
        load_scenarios(_write(tmp_path, typo))
