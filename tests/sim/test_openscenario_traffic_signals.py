"""OpenSCENARIO ``RoadNetwork/TrafficSignals`` -> the scenario's ``traffic_lights`` block: a
controller's phases as each signal's cycle (durations, delay, references followed to the root),
esmini's lamp triplets and drivestack's state names, refusals naming the file, controller, phase
and field, the storyboard's traffic-signal conditions refused by name (its signal actions:
test_openscenario_signal_actions.py); and the
shipped example on esmini's multi_intersections.xodr, whose light timeline is
opendrive_signal_stop.yaml's at every tick."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.core.time import seconds_to_ns
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import ScenarioConfig, load_scenarios
from drivestack.sim.world import light_codes_at
from drivestack.structures.traffic_light import SignalCycle, SignalPhase

REPO = Path(__file__).resolve().parents[2]

#: A 100 m road along +x: lane 1 (westbound) and lane -1 (eastbound), 3.5 m wide; dynamic
#: signals 10 and 12 for eastbound traffic, 11 for westbound, a static sign 13.
XODR = (
    '<?xml version="1.0"?><OpenDRIVE><header revMajor="1" revMinor="6"/>'
    '<road id="1" length="100" junction="-1"><link/><planView>'
    '<geometry s="0" x="0" y="0" hdg="0" length="100"><line/></geometry></planView><lanes>'
    '<laneSection s="0"><left><lane id="1" type="driving"><width sOffset="0" a="3.5" b="0" '
    'c="0" d="0"/></lane></left><center><lane id="0" type="none"/></center><right>'
    '<lane id="-1" type="driving"><width sOffset="0" a="3.5" b="0" c="0" d="0"/></lane>'
    "</right></laneSection></lanes><signals>"
    '<signal id="10" s="80" t="-5" dynamic="yes" orientation="+" type="1000001"/>'
    '<signal id="11" s="20" t="5" dynamic="yes" orientation="-" type="1000001"/>'
    '<signal id="12" s="90" t="-5" dynamic="yes" orientation="+" type="1000001"/>'
    '<signal id="13" s="50" t="-5" dynamic="no" orientation="+" type="206"/>'
    "</signals></road></OpenDRIVE>"
)


def _phase(name: str, duration: float, **states: str) -> str:
    inner = "".join(
        f'<TrafficSignalState trafficSignalId="{sid[1:]}" state="{state}"/>'
        for sid, state in states.items()
    )
    return f'<Phase name="{name}" duration="{duration}">{inner}</Phase>'


def _controller(name: str, phases: str, **attrs: str) -> str:
    more = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f'<TrafficSignalController name="{name}"{more}>{phases}</TrafficSignalController>'


def _xosc(signals: str = "", init: str = "", story: str = "") -> str:
    block = f"<TrafficSignals>{signals}</TrafficSignals>" if signals else ""
    return (
        '<?xml version="1.0"?><OpenSCENARIO><FileHeader revMajor="1" revMinor="1" '
        'description="signals" author="drivestack"/>'
        '<ParameterDeclarations><ParameterDeclaration name="Green" parameterType="string" '
        'value="off;off;on"/></ParameterDeclarations>'
        f'<RoadNetwork><LogicFile filepath="road.xodr"/>{block}</RoadNetwork><Entities>'
        '<ScenarioObject name="Ego"><Vehicle name="ego" vehicleCategory="car"><BoundingBox>'
        '<Center x="1.4" y="0" z="0.8"/><Dimensions width="1.9" length="4.6" height="1.5"/>'
        "</BoundingBox><Performance maxSpeed='50' maxAcceleration='5' maxDeceleration='9'/>"
        "<Axles/><Properties/></Vehicle></ScenarioObject></Entities><Storyboard><Init><Actions>"
        f"{init}"
        '<Private entityRef="Ego"><PrivateAction><TeleportAction><Position><LanePosition '
        'roadId="1" laneId="-1" offset="0" s="10"/></Position></TeleportAction></PrivateAction>'
        "<PrivateAction><LongitudinalAction><SpeedAction><SpeedActionDynamics "
        'dynamicsShape="step" value="0" dynamicsDimension="time"/><SpeedActionTarget>'
        '<AbsoluteTargetSpeed value="5"/></SpeedActionTarget></SpeedAction>'
        "</LongitudinalAction></PrivateAction></Private></Actions></Init>"
        f"{story}<StopTrigger><ConditionGroup><Condition name='End' delay='0' "
        "conditionEdge='rising'><ByValueCondition><SimulationTimeCondition value='10' "
        "rule='greaterThan'/></ByValueCondition></Condition></ConditionGroup></StopTrigger>"
        "</Storyboard></OpenSCENARIO>"
    )


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "road.xodr").write_text(XODR)
    path = tmp_path / "signals.xosc"
    path.write_text(text)
    return path


def _lights(cfg: ScenarioConfig) -> dict[str, tuple[list[tuple[str, float]], float]]:
    return {
        light.id: ([(s, d) for s, d in light.phases], light.offset_s)
        for light in cfg.traffic_lights
    }


#: Three controllers: Main from t = 2 s (a delay with no reference), Side 5 s after Main's
#: start, Far 1.5 s after Side's (8.5 s in all).
CONTROLLERS = (
    _controller(
        "Main",
        _phase("go", 20, s10="$Green")
        + _phase("attention", 3, s10="off;on;off")
        + _phase("blank", 0, s10="off;off;off")  # never shown
        + _phase("stop", 12, s10="on;off;off")
        + _phase("prepare", 2, s10="on;on;off"),
        delay="2",
    )
    + _controller(
        "Side",
        _phase("a", 10, s11="red") + _phase("b", 10, s11="RED") + _phase("c", 17, s11="green"),
        reference="Main",
        delay="5",
    )
    + _controller("Far", _phase("x", 37, s12=" Off "), reference="Side", delay="1.5")
)


def test_controller_phases_become_each_signals_cycle(tmp_path: Path) -> None:
    (cfg,) = load_scenarios(_write(tmp_path, _xosc(CONTROLLERS)))
    assert _lights(cfg) == {
        "10": ([("green", 20.0), ("yellow", 3.0), ("red", 12.0), ("red_yellow", 2.0)], 2.0),
        # b's red joins a's; the first phase starts 5 s after Main's (2 s)
        "11": ([("red", 20.0), ("green", 17.0)], 7.0),
        "12": ([("off", 37.0)], 8.5),
    }
    assert "traffic_light" in cfg.tags
    # built onto the map's lights: 10's cycle shows its phases from 2 s, repeated every 37 s
    built = build_scenario(cfg)
    main = built.road_map.traffic_light("10").cycle
    assert main is not None
    times = [0.0, 1.99, 2.0, 21.99, 22.0, 24.99, 25.0, 36.99, 37.0, 39.0, 39.0 + 37 * 3]
    states = [main.state_at(t) for t in times]
    assert states == [
        "red_yellow",  # before its start the cycle runs on backwards: (0 - 2) mod 37 = 35 s
        "red_yellow",
        "green",
        "green",
        "yellow",
        "yellow",
        "red",
        "red",
        "red_yellow",
        "green",
        "green",
    ]
    side = built.road_map.traffic_light("11").cycle
    assert side is not None
    assert [side.state_at(t) for t in (6.99, 7.0, 26.99, 27.0, 43.99, 44.0)] == [
        "green",
        "red",
        "red",
        "green",
        "green",
        "red",
    ]
    # the map's lights the file does not name keep no cycle
    assert {light.light_id for light in built.road_map.traffic_lights} == {"10", "11", "12"}


def test_a_file_without_controllers_gives_no_lights(tmp_path: Path) -> None:
    (cfg,) = load_scenarios(_write(tmp_path, _xosc()))
    assert cfg.traffic_lights == [] and "traffic_light" not in cfg.tags
    assert build_scenario(cfg).road_map.traffic_light("10").cycle is None


@pytest.mark.parametrize(
    "text, state",
    [
        ("off;off;on", "green"),
        ("off;on;off", "yellow"),
        ("on;off;off", "red"),
        ("on;on;off", "red_yellow"),
        ("off;off;off", "off"),
        ("ON ; off;OFF", "red"),
        ("green", "green"),
        ("yellow", "yellow"),
        ("red", "red"),
        ("red_yellow", "red_yellow"),
        ("off", "off"),
    ],
)
def test_lamp_triplets_and_state_names(tmp_path: Path, text: str, state: str) -> None:
    signals = _controller("C", _phase("p", 4.0, s10=text))
    (cfg,) = load_scenarios(_write(tmp_path, _xosc(signals)))
    assert _lights(cfg) == {"10": ([(state, 4.0)], 0.0)}


@pytest.mark.parametrize(
    "text", ["blue", "on;off", "off;on", "on;on;on", "on;off;on", "unknown", "flashing", ""]
)
def test_an_unknown_state_is_refused_naming_controller_phase_and_field(
    tmp_path: Path, text: str
) -> None:
    signals = _controller("C", _phase("go", 4.0, s10="green") + _phase("stop", 4.0, s10=text))
    path = _write(tmp_path, _xosc(signals))
    with pytest.raises(ConfigError, match="unknown signal state") as info:
        load_scenarios(path)
    assert info.value.path == str(path)
    assert info.value.field == (
        "RoadNetwork/TrafficSignals/TrafficSignalController/C/Phase/stop/"
        "TrafficSignalState[10]@state"
    )
    assert repr(text) in str(info.value)


WHERE = "RoadNetwork/TrafficSignals/TrafficSignalController"


@pytest.mark.parametrize(
    "signals, field, reason",
    [
        (
            _controller("C", _phase("go", 4, s99="green")),
            f"{WHERE}/C/Phase/go/TrafficSignalState[99]@trafficSignalId",
            "no traffic light '99' in the road network",
        ),
        (  # a static sign is no light
            _controller("C", _phase("go", 4, s13="green")),
            f"{WHERE}/C/Phase/go/TrafficSignalState[13]@trafficSignalId",
            "no traffic light '13'",
        ),
        (
            _controller("C", _phase("go", 4, s10="green") + _phase("stop", 4, s11="red")),
            f"{WHERE}/C/Phase/stop",
            "no state for signal '10'",
        ),
        (
            _controller("A", _phase("go", 4, s10="green"))
            + _controller("B", _phase("go", 4, s10="red")),
            f"{WHERE}/B/Phase",
            "signal '10' is controlled by 'A' already",
        ),
        (
            _controller(
                "C",
                '<Phase name="go" duration="4"><TrafficSignalState trafficSignalId="10" '
                'state="green"/><TrafficSignalState trafficSignalId="10" state="red"/></Phase>',
            ),
            f"{WHERE}/C/Phase/go/TrafficSignalState[10]",
            "given twice in the phase",
        ),
        (
            _controller("C", _phase("go", 4, s10="green"), reference="Nowhere", delay="1"),
            f"{WHERE}/C@reference",
            "no controller 'Nowhere' to refer to",
        ),
        (
            _controller("A", _phase("go", 4, s10="green"), reference="B", delay="1")
            + _controller("B", _phase("go", 4, s11="green"), reference="A", delay="1"),
            f"{WHERE}/B@reference",  # the reference that closes the loop
            "the references loop: A -> B -> A",
        ),
        (
            _controller("C", _phase("go", 4, s10="green"), delay="-1"),
            f"{WHERE}/C@delay",
            "a delay is >= 0 s",
        ),
        (
            _controller("C", _phase("go", -4, s10="green")),
            f"{WHERE}/C/Phase/go@duration",
            "a phase lasts >= 0 s",
        ),
        (
            _controller("C", _phase("go", 0, s10="green") + _phase("stop", 0, s10="red")),
            f"{WHERE}/C",
            "its phases last 0 s in all",
        ),
        # what the cycles cannot hold (crashed the run with a traceback before)
        (
            _controller("C", _phase("go", 1e300, s10="green")),
            f"{WHERE}/C/Phase/go@duration",
            "a phase's duration must be under 4.61e+09 s",
        ),
        (
            _controller("C", _phase("go", 4, s10="green") + _phase("stop", 1e10, s10="red")),
            f"{WHERE}/C/Phase/stop@duration",
            "a phase's duration must be under 4.61e+09 s",
        ),
        (
            _controller("C", _phase("go", 4, s10="green") + _phase("stop", 1e-12, s10="red")),
            f"{WHERE}/C/Phase/stop@duration",
            "at least 1 ns",
        ),
        (
            _controller("C", _phase("go", 3e9, s10="green") + _phase("stop", 3e9, s10="red")),
            f"{WHERE}/C/Phase@duration",
            "the period must be under 4.61e+09 s",
        ),
        (
            _controller("C", _phase("go", 4, s10="green"), delay="1e300"),
            f"{WHERE}/C@delay",
            "a delay must be within +-4.61e+09 s",
        ),
        (  # each delay fits, their sum along the references not
            _controller("A", _phase("go", 4, s10="green"), delay="3e9")
            + _controller("B", _phase("go", 4, s11="green"), reference="A", delay="3e9"),
            f"{WHERE}/B@delay",
            "its start (the delays along B -> A) must be within +-4.61e+09 s",
        ),
        (
            _controller("C", _phase("go", 4, s10="green") + _phase("go", 4, s10="red")),
            f"{WHERE}/C/Phase/go@name",
            "a second phase named 'go'",
        ),
        (
            _controller("C", _phase("go", 4, s10="green"))
            + _controller("C", _phase("go", 4, s11="green")),
            f"{WHERE}/C@name",
            "a second controller named 'C'",
        ),
        (  # OpenSCENARIO 1.2's group states
            _controller(
                "C", '<Phase name="go" duration="4"><TrafficSignalGroupState state="a;b"/></Phase>'
            ),
            f"{WHERE}/C/Phase/go",
            "TrafficSignalGroupState is not read",
        ),
        (
            _controller("C", _phase("go", 4, s10="$Missing")),
            f"{WHERE}/C/Phase/go/TrafficSignalState[10]@state",
            "no parameter 'Missing' is declared",
        ),
    ],
)
def test_controller_errors_name_controller_phase_and_field(
    tmp_path: Path, signals: str, field: str, reason: str
) -> None:
    path = _write(tmp_path, _xosc(signals))
    with pytest.raises(ConfigError) as info:
        load_scenarios(path)
    assert (info.value.path, info.value.field) == (str(path), field)
    assert reason in str(info.value)


def _global(action: str) -> str:
    return (
        "<GlobalAction><InfrastructureAction><TrafficSignalAction>"
        f"{action}</TrafficSignalAction></InfrastructureAction></GlobalAction>"
    )


def _story(action: str, condition: str, act_condition: str | None = None) -> str:
    act_condition = act_condition or (
        "<ByValueCondition><SimulationTimeCondition value='0' rule='greaterThan'/>"
        "</ByValueCondition>"
    )
    return (
        "<Story name='S'><Act name='A'><ManeuverGroup maximumExecutionCount='1' name='G'>"
        "<Actors selectTriggeringEntities='false'/><Maneuver name='M'>"
        f"<Event name='E' priority='overwrite'><Action name='Do'>{action}</Action>"
        "<StartTrigger><ConditionGroup><Condition name='When' delay='0' "
        f"conditionEdge='rising'>{condition}</Condition></ConditionGroup></StartTrigger>"
        "</Event></Maneuver></ManeuverGroup><StartTrigger><ConditionGroup><Condition "
        f"name='Go' delay='0' conditionEdge='rising'>{act_condition}</Condition>"
        "</ConditionGroup></StartTrigger></Act></Story>"
    )


AT_1S = (
    "<ByValueCondition><SimulationTimeCondition value='1' rule='greaterThan'/></ByValueCondition>"
)
STATE_ACTION = _global('<TrafficSignalStateAction name="10" state="off;on;off"/>')
SIGNAL_CONDITION = (
    '<ByValueCondition><TrafficSignalCondition name="10" state="on;off;off"/></ByValueCondition>'
)
PHASE_CONDITION = (
    "<ByValueCondition><TrafficSignalControllerCondition trafficSignalControllerRef='C' "
    "phase='go'/></ByValueCondition>"
)


@pytest.mark.parametrize(
    "init, story, field, kind",
    [
        (
            "",
            _story(STATE_ACTION.replace("TrafficSignalState", "X"), SIGNAL_CONDITION),
            "Storyboard/Story/S/Act/A/ManeuverGroup/G/Maneuver/M/Event/E/StartTrigger/"
            "ConditionGroup/Condition/When/ByValueCondition/TrafficSignalCondition",
            "TrafficSignalCondition",
        ),
        (
            "",
            _story(STATE_ACTION.replace("TrafficSignalState", "X"), AT_1S, PHASE_CONDITION),
            "Storyboard/Story/S/Act/A/StartTrigger/ConditionGroup/Condition/Go/"
            "ByValueCondition/TrafficSignalControllerCondition",
            "TrafficSignalControllerCondition",
        ),
    ],
)
def test_signal_conditions_are_refused_by_name(
    tmp_path: Path, init: str, story: str, field: str, kind: str
) -> None:
    signals = _controller("C", _phase("go", 4, s10="green"))
    path = _write(tmp_path, _xosc(signals, init, story))
    with pytest.raises(ConfigError) as info:
        load_scenarios(path)
    assert (info.value.path, info.value.field) == (str(path), field)
    assert str(info.value).count(kind) >= 1 and "is not read" in str(info.value)


def test_other_global_actions_in_events_are_refused_naming_their_kind(tmp_path: Path) -> None:
    action = "<GlobalAction><EnvironmentAction/></GlobalAction>"
    path = _write(tmp_path, _xosc(story=_story(action, AT_1S)))
    with pytest.raises(ConfigError, match=r"\['GlobalAction/EnvironmentAction'\]"):
        load_scenarios(path)


# --- the shipped example on esmini's multi_intersections.xodr --------------------------------

EXAMPLE = REPO / "configs" / "scenarios" / "openscenario_signal_stop.xosc"
YAML = REPO / "configs" / "scenarios" / "opendrive_signal_stop.yaml"


def _cycle(cfg: ScenarioConfig, light_id: str) -> SignalCycle:
    (given,) = [light for light in cfg.traffic_lights if light.id == light_id]
    return SignalCycle(tuple(SignalPhase(s, d) for s, d in given.phases), given.offset_s)


@pytest.mark.data
def test_example_gives_the_yaml_scenarios_light_timeline(shared_data: Path) -> None:
    (xosc,) = load_scenarios(EXAMPLE)
    (yaml,) = load_scenarios(YAML)
    shared = {light.id for light in xosc.traffic_lights} & {
        light.id for light in yaml.traffic_lights
    }
    assert shared == {"281", "286", "290", "291", "294", "295", "287", "288"}
    assert (xosc.duration_s, xosc.dt_s) == (yaml.duration_s, yaml.dt_s)
    # every tick of the run, and on over two 50 s periods
    n = round(100.0 / xosc.dt_s)
    ticks = np.array([seconds_to_ns(k * xosc.dt_s) for k in range(n + 1)], dtype=np.int64)
    for light_id in sorted(shared):
        np.testing.assert_array_equal(
            _cycle(xosc, light_id).codes_at_ns(ticks),
            _cycle(yaml, light_id).codes_at_ns(ticks),
            err_msg=light_id,
        )
    # and as the simulator sees them, on the built maps (what World.traffic_light_states gives)
    built_x, built_y = build_scenario(xosc, shared_data), build_scenario(yaml, shared_data)
    ids = [light.light_id for light in built_x.road_map.traffic_lights]
    assert ids == [light.light_id for light in built_y.road_map.traffic_lights]
    run = ticks[: round(xosc.duration_s / xosc.dt_s) + 1]
    np.testing.assert_array_equal(
        light_codes_at(built_x.road_map, run), light_codes_at(built_y.road_map, run)
    )
    # the same ego start and crossing car
    assert built_x.world.ego.x_m[0] == pytest.approx(built_y.world.ego.x_m[0], abs=1e-6)
    assert built_x.world.ego.y_m[0] == pytest.approx(built_y.world.ego.y_m[0], abs=1e-6)
    (crossing,) = xosc.agents
    assert crossing.lanes == yaml.agents[0].lanes
    assert crossing.station_m == pytest.approx(yaml.agents[0].station_m)


@pytest.mark.data
@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_example_stops_at_red_and_goes_at_green(shared_data: Path, planner: str) -> None:
    (cfg,) = load_scenarios(EXAMPLE)
    built = build_scenario(cfg, shared_data)
    result = run_scenario(built, planner)
    h = result.history
    assert result.passed and result.red_light.count == 0 and not h.collisions.any()
    t = np.arange(len(h.ego_speed_mps)) * cfg.dt_s
    # stopped, its front bumper before the line (y = -12 m), while its light is red; off at green
    red = (t > 13.0) & (t < 20.0)
    assert (h.ego_speed_mps[red] < 0.1).all()
    assert (h.ego_speed_mps[t >= 21.0] > 0.5).all()
    box = h.ego_boxes
    front_y = box[:, 1] + 0.5 * box[:, 3] * np.sin(box[:, 6])
    assert front_y[red].min() > -16.0 and front_y[red].max() < -12.0
