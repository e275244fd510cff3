"""OpenSCENARIO ``Init`` ``RoutingAction`` s -> routes: an ``AssignRouteAction``'s waypoints
(lane and world positions, intermediate ones as via lanes) and an ``AcquirePositionAction``
become the ego's ``route.lanes`` and a scripted agent's ``lanes``, on a small fork written by
the test; what cannot be read is refused naming the element and field; and the shipped
``openscenario_signal_stop.xosc`` drives its YAML twin's route on the real map."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.build import build_scenario
from drivestack.sim.openscenario import read_openscenario
from drivestack.sim.scenario import load_scenarios

REPO = Path(__file__).resolve().parents[2]
HEADING_RAD = 0.5  # of the fork's left-turning branch (road 3, then road 5)


def _line(s: float, x: float, y: float, hdg: float, length: float) -> str:
    return f'<geometry s="{s}" x="{x}" y="{y}" hdg="{hdg}" length="{length}"><line/></geometry>'


def _road(
    rid: int,
    x: float,
    y: float,
    hdg: float,
    length: float,
    link: str,
    n: int = 1,
    *,
    speed_mps: float | None = None,
    plan: str | None = None,
) -> str:
    """Road ``rid`` of ``n`` right lanes along a line from ``(x, y)`` (or the ``plan``
    geometries), its lanes at ``speed_mps`` (None: the map default)."""
    speed = "" if speed_mps is None else f'<speed sOffset="0" max="{speed_mps}" unit="m/s"/>'
    lanes = "".join(
        f'<lane id="-{i}" type="driving"><link><predecessor id="-{i}"/><successor id="-{i}"/>'
        f'</link><width sOffset="0" a="3.5" b="0" c="0" d="0"/>{speed}</lane>'
        for i in range(1, n + 1)
    )
    junction = "100" if rid in (2, 3) else "-1"
    plan = _line(0, x, y, hdg, length) if plan is None else plan
    return (
        f'<road id="{rid}" length="{length}" junction="{junction}"><link>{link}</link>'
        f'<planView>{plan}</planView><lanes><laneSection s="0"><center><lane id="0" type="none"/>'
        f"</center><right>{lanes}</right></laneSection></lanes></road>"
    )


_X5, _Y5 = 100 + 20 * math.cos(HEADING_RAD), 20 * math.sin(HEADING_RAD)
#: Road 1 (100 m east, lanes -1 and -2) forks at junction 100: connecting road 2 straight on
#: to road 4 (80 m east), road 3 turning left to road 5 (80 m). Lane 1_0_-1's successors are
#: 2_0_-1 (first: where an entity without a route goes) and 3_0_-1; 1_0_-2 leads to 3_0_-1.
XODR = (
    '<?xml version="1.0"?><OpenDRIVE><header revMajor="1" revMinor="6"/>'
    + _road(1, 0, 0, 0, 100, '<successor elementType="junction" elementId="100"/>', n=2)
    + _road(
        2,
        100,
        0,
        0,
        20,
        '<predecessor elementType="road" elementId="1" contactPoint="end"/>'
        '<successor elementType="road" elementId="4" contactPoint="start"/>',
    )
    + _road(
        3,
        100,
        0,
        HEADING_RAD,
        20,
        '<predecessor elementType="road" elementId="1" contactPoint="end"/>'
        '<successor elementType="road" elementId="5" contactPoint="start"/>',
    )
    + _road(4, 120, 0, 0, 80, '<predecessor elementType="junction" elementId="100"/>')
    + _road(5, _X5, _Y5, HEADING_RAD, 80, '<predecessor elementType="junction" elementId="100"/>')
    + '<junction id="100" name="fork">'
    '<connection id="0" incomingRoad="1" connectingRoad="2" contactPoint="start">'
    '<laneLink from="-1" to="-1"/></connection>'
    '<connection id="1" incomingRoad="1" connectingRoad="3" contactPoint="start">'
    '<laneLink from="-2" to="-1"/></connection></junction></OpenDRIVE>'
)

_JUNCTION = '<predecessor elementType="junction" elementId="100"/>'
_ROAD_1_TO_4 = (
    '<predecessor elementType="road" elementId="1" contactPoint="end"/>'
    '<successor elementType="road" elementId="4" contactPoint="start"/>'
)
#: Road 1 (100 m east, the default 13.89 m/s) splits at junction 100 into a short slow road 2
#: (20 m straight on at 2 m/s) and a long fast road 3 (40 m: 10 m north, 20 m east, 10 m
#: south at 20 m/s); both lead on to road 4 (80 m east from x = 120 m).
DETOUR_XODR = (
    '<?xml version="1.0"?><OpenDRIVE><header revMajor="1" revMinor="6"/>'
    + _road(1, 0, 0, 0, 100, '<successor elementType="junction" elementId="100"/>')
    + _road(2, 100, 0, 0, 20, _ROAD_1_TO_4, speed_mps=2.0)
    + _road(
        3,
        100,
        0,
        0,
        40,
        _ROAD_1_TO_4,
        speed_mps=20.0,
        plan=_line(0, 100, 0, math.pi / 2, 10)
        + _line(10, 100, 10, 0, 20)
        + _line(30, 120, 10, -math.pi / 2, 10),
    )
    + _road(4, 120, 0, 0, 80, _JUNCTION)
    + '<junction id="100" name="split">'
    '<connection id="0" incomingRoad="1" connectingRoad="2" contactPoint="start">'
    '<laneLink from="-1" to="-1"/></connection>'
    '<connection id="1" incomingRoad="1" connectingRoad="3" contactPoint="start">'
    '<laneLink from="-1" to="-1"/></connection></junction></OpenDRIVE>'
)

VEHICLE = (
    '<Vehicle name="car" vehicleCategory="car"><BoundingBox><Center x="1.4" y="0" z="0.8"/>'
    '<Dimensions width="1.9" length="4.6" height="1.5"/></BoundingBox>'
    "<Performance maxSpeed='50' maxAcceleration='5' maxDeceleration='9'/><Axles/><Properties/>"
    "</Vehicle>"
)


def _lane_pos(road: int, lane: int, s: float) -> str:
    return (
        f'<Position><LanePosition roadId="{road}" laneId="{lane}" offset="0" s="{s}"/></Position>'
    )


def _assign(*positions: str, strategy: str = "shortest", closed: str = "false") -> str:
    waypoints = "".join(f'<Waypoint routeStrategy="{strategy}">{p}</Waypoint>' for p in positions)
    return (
        "<PrivateAction><RoutingAction><AssignRouteAction>"
        f'<Route name="r" closed="{closed}">{waypoints}</Route>'
        "</AssignRouteAction></RoutingAction></PrivateAction>"
    )


def _acquire(position: str) -> str:
    return (
        "<PrivateAction><RoutingAction><AcquirePositionAction>"
        f"{position}</AcquirePositionAction></RoutingAction></PrivateAction>"
    )


def _private(entity: str, lane: int, s: float, routing: str) -> str:
    return (
        f'<Private entityRef="{entity}"><PrivateAction><TeleportAction>{_lane_pos(1, lane, s)}'
        "</TeleportAction></PrivateAction><PrivateAction><LongitudinalAction><SpeedAction>"
        '<SpeedActionDynamics dynamicsShape="step" value="0" dynamicsDimension="time"/>'
        '<SpeedActionTarget><AbsoluteTargetSpeed value="5"/></SpeedActionTarget></SpeedAction>'
        f"</LongitudinalAction></PrivateAction>{routing}</Private>"
    )


def _xosc(ego_routing: str = "", car_routing: str | None = None) -> str:
    car = "" if car_routing is None else f'<ScenarioObject name="Car">{VEHICLE}</ScenarioObject>'
    car_init = "" if car_routing is None else _private("Car", -1, 40, car_routing)
    return (
        '<?xml version="1.0"?><OpenSCENARIO><FileHeader revMajor="1" revMinor="1" '
        'description="routes" author="drivestack"/><ParameterDeclarations/>'
        '<RoadNetwork><LogicFile filepath="road.xodr"/></RoadNetwork><Entities>'
        f'<ScenarioObject name="Ego">{VEHICLE}</ScenarioObject>{car}</Entities><Storyboard>'
        f"<Init><Actions>{_private('Ego', -1, 10, ego_routing)}{car_init}</Actions></Init>"
        "<StopTrigger><ConditionGroup><Condition name='End' delay='0' conditionEdge='rising'>"
        "<ByValueCondition><SimulationTimeCondition value='10' rule='greaterThan'/>"
        "</ByValueCondition></Condition></ConditionGroup></StopTrigger>"
        "</Storyboard></OpenSCENARIO>"
    )


def _write(tmp_path: Path, text: str, xodr: str = XODR) -> Path:
    (tmp_path / "road.xodr").write_text(xodr)
    path = tmp_path / "routes.xosc"
    path.write_text(text)
    return path


def _refused(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        read_openscenario(_write(tmp_path, text))
    return info.value


#: 30 m along road 5's lane -1 (1.75 m right of its reference line)
_WX = _X5 + 30 * math.cos(HEADING_RAD) + 1.75 * math.sin(HEADING_RAD)
_WY = _Y5 + 30 * math.sin(HEADING_RAD) - 1.75 * math.cos(HEADING_RAD)
LEFT = ["1_0_-1", "3_0_-1", "5_0_-1"]  # the shortest way to road 5


def test_without_a_route_the_ego_takes_the_first_successor(tmp_path: Path) -> None:
    scenario = read_openscenario(_write(tmp_path, _xosc()))
    assert "route" not in scenario
    (cfg,) = load_scenarios(_write(tmp_path, _xosc()))
    assert build_scenario(cfg).route_lanes[:3] == ["1_0_-1", "2_0_-1", "4_0_-1"]


@pytest.mark.parametrize(
    "routing",
    [
        _assign(_lane_pos(5, -1, 40)),
        # the first waypoint where the ego starts (its own lane) adds nothing
        _assign(_lane_pos(1, -1, 10), _lane_pos(5, -1, 70)),
        # a world position on road 5's lane: 30 m along it, heading its way
        _assign(
            f'<Position><WorldPosition x="{_WX:.4f}" y="{_WY:.4f}" h="{HEADING_RAD}"/></Position>'
        ),
        _acquire(_lane_pos(5, -1, 40)),
    ],
)
def test_the_route_runs_to_the_last_waypoints_lane(tmp_path: Path, routing: str) -> None:
    path = _write(tmp_path, _xosc(routing))
    assert read_openscenario(path)["route"] == {"lanes": LEFT}
    (cfg,) = load_scenarios(path)
    built = build_scenario(cfg)
    assert built.route_lanes == LEFT
    # the reference path ends where road 5's lane does (80 m along heading 0.5 rad)
    end = built.road_map.lane("5_0_-1").centerline_m[-1]
    assert np.allclose(built.reference.xy_m[-1], end, atol=0.5)


def test_an_intermediate_waypoint_is_a_via_lane(tmp_path: Path) -> None:
    via = _assign(_lane_pos(1, -2, 60), _lane_pos(5, -1, 40))
    scenario = read_openscenario(_write(tmp_path, _xosc(via)))
    assert scenario["route"] == {"lanes": ["1_0_-1", "1_0_-2", "3_0_-1", "5_0_-1"]}
    (cfg,) = load_scenarios(_write(tmp_path, _xosc(via)))
    assert build_scenario(cfg).route_lanes == ["1_0_-1", "1_0_-2", "3_0_-1", "5_0_-1"]


def test_an_agents_route_gives_its_lanes(tmp_path: Path) -> None:
    plain = read_openscenario(_write(tmp_path, _xosc(car_routing="")))
    assert plain["agents"][0]["lanes"] == ["1_0_-1", "2_0_-1", "4_0_-1"]
    routed = read_openscenario(_write(tmp_path, _xosc(car_routing=_acquire(_lane_pos(5, -1, 9)))))
    assert routed["agents"][0]["lanes"] == LEFT
    assert "route" not in routed  # the agent's route is not the ego's


@pytest.mark.parametrize(
    ("strategy", "lanes"),
    [
        # 100 + 20 = 120 m via road 2 against 100 + 40 = 140 m via road 3
        ("shortest", ["1_0_-1", "2_0_-1", "4_0_-1"]),
        # 100 / 13.89 + 20 / 2 = 17.2 s via road 2 against 100 / 13.89 + 40 / 20 = 9.2 s
        ("fastest", ["1_0_-1", "3_0_-1", "4_0_-1"]),
    ],
)
def test_fastest_takes_the_quickest_lanes_and_shortest_the_shortest(
    tmp_path: Path, strategy: str, lanes: list[str]
) -> None:
    path = _write(tmp_path, _xosc(_assign(_lane_pos(4, -1, 40), strategy=strategy)), DETOUR_XODR)
    assert read_openscenario(path)["route"] == {"lanes": lanes}
    (cfg,) = load_scenarios(path)
    built = build_scenario(cfg)
    assert built.route_lanes == lanes
    limits = [built.road_map.lane(i).speed_limit_mps for i in lanes]
    assert limits == pytest.approx([13.89, 2.0 if "2_0_-1" in lanes else 20.0, 13.89])


@pytest.mark.parametrize(
    ("routing", "field", "words"),
    [
        *(
            (
                _assign(_lane_pos(5, -1, 40), strategy=strategy),
                "Init/Ego/RoutingAction/AssignRouteAction/Route/Waypoint[0]@routeStrategy",
                f"{strategy!r} is not read",
            )
            for strategy in ("random", "scenic")
        ),
        (
            _assign(_lane_pos(5, -1, 40), closed="true"),
            "Init/Ego/RoutingAction/AssignRouteAction/Route@closed",
            "closed route",
        ),
        (
            _assign(_lane_pos(4, -1, 40), _lane_pos(5, -1, 40)),
            "Init/Ego/RoutingAction/AssignRouteAction/Route/Waypoint[1]/Position",
            "not reachable",
        ),
        (_assign(), "Init/Ego/RoutingAction/AssignRouteAction/Route", "at least one Waypoint"),
        (
            "<PrivateAction><RoutingAction><AssignRouteAction><CatalogReference "
            'catalogName="routes" entryName="r"/></AssignRouteAction></RoutingAction>'
            "</PrivateAction>",
            "Init/Ego/RoutingAction/AssignRouteAction",
            "CatalogReference",
        ),
        (
            "<PrivateAction><RoutingAction><FollowTrajectoryAction/></RoutingAction>"
            "</PrivateAction>",
            "Init/Ego/RoutingAction",
            "FollowTrajectoryAction",
        ),
        (
            _assign(_lane_pos(5, -1, 40)) + _acquire(_lane_pos(4, -1, 40)),
            "Init/Ego/RoutingAction",
            "one RoutingAction per entity",
        ),
    ],
)
def test_what_is_not_read_is_refused_by_name(
    tmp_path: Path, routing: str, field: str, words: str
) -> None:
    error = _refused(tmp_path, _xosc(routing))
    assert error.field == field
    assert words in str(error)
    assert "routes.xosc" in str(error)


def test_a_lane_change_in_an_agents_route_is_refused(tmp_path: Path) -> None:
    error = _refused(tmp_path, _xosc(car_routing=_assign(_lane_pos(1, -2, 90))))
    assert error.field == "Init/Car/RoutingAction"
    assert "'1_0_-1' to '1_0_-2'" in str(error)


EXAMPLE = REPO / "configs" / "scenarios" / "openscenario_signal_stop.xosc"
YAML = REPO / "configs" / "scenarios" / "opendrive_signal_stop.yaml"


@pytest.mark.data
def test_the_example_drives_its_yaml_twins_route(shared_data: Path) -> None:
    (xosc,) = load_scenarios(EXAMPLE)
    (yaml,) = load_scenarios(YAML)
    built_x, built_y = build_scenario(xosc, shared_data), build_scenario(yaml, shared_data)
    straight = ["275_0_-1", "197_0_1", "203_0_-1", "196_0_-1", "261_0_1"]
    assert built_x.route_lanes == built_y.route_lanes == straight
    assert np.allclose(built_x.reference.xy_m, built_y.reference.xy_m)
    # OpenSCENARIO has no expert progress: the .xosc keeps the default reference
    assert xosc.expert_progress_m is None and yaml.expert_progress_m == 200.0
