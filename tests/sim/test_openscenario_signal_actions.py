"""OpenSCENARIO storyboard signal actions -> the lights' switches: a ``TrafficSignalStateAction``
(a light to a state) and a ``TrafficSignalControllerAction`` (a controller to a phase, which
then starts there) in the ``Init`` (t = 0) or in an event started at a
``SimulationTimeCondition``; the block's native ``switches`` (a fleet sweep that lengthens the
run keeps a held state held), the light codes the simulator records at each tick, a PDM ego
stopping for a light a storyboard action turns red and going when an action turns it green,
and refusals naming the element and the field (unknown light, state, controller or phase; a
trigger other than simulation time)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.core.time import seconds_to_ns
from drivestack.exec.sweep import SweepSpec, parse_sweep_param, scenario_variants
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_scenarios
from drivestack.sim.world import light_codes_at
from drivestack.structures.traffic_light import SIGNAL_STATES
from tests.sim.test_openscenario_traffic_signals import (
    _controller,
    _global,
    _phase,
    _write,
    _xosc,
)

GREEN, YELLOW, RED, UNKNOWN = (
    SIGNAL_STATES.index(s) for s in ("green", "yellow", "red", "unknown")
)

#: Controller C: signal 10 green for 30 s, then red for 30 s, from t = 0; signal 12 the
#: other way round.
SIGNALS = _controller(
    "C",
    _phase("go", 30, s10="green", s12="red") + _phase("stop", 30, s10="red", s12="green"),
)


def _state(signal: str, state: str) -> str:
    return _global(f'<TrafficSignalStateAction name="{signal}" state="{state}"/>')


def _to_phase(controller: str, phase: str) -> str:
    return _global(
        f'<TrafficSignalControllerAction trafficSignalControllerRef="{controller}" '
        f'phase="{phase}"/>'
    )


def _at(time_s: float, rule: str = "greaterThan", delay: float = 0.0) -> str:
    return (
        f"<Condition name='When' delay='{delay}' conditionEdge='rising'><ByValueCondition>"
        f"<SimulationTimeCondition value='{time_s}' rule='{rule}'/></ByValueCondition>"
        "</Condition>"
    )


def _events(*events: tuple[str, str, str | None]) -> str:
    """A story of one act (from t = 0) of events ``(name, action, condition)`` in one
    maneuver group without actors (signal actions need none); condition None: no trigger."""
    inner = "".join(
        f"<Event name='{name}' priority='parallel'><Action name='{name}-do'>{action}</Action>"
        + (
            f"<StartTrigger><ConditionGroup>{cond}</ConditionGroup></StartTrigger>"
            if cond is not None
            else ""
        )
        + "</Event>"
        for name, action, cond in events
    )
    return (
        "<Story name='S'><Act name='A'><ManeuverGroup maximumExecutionCount='1' name='G'>"
        f"<Actors selectTriggeringEntities='false'/><Maneuver name='M'>{inner}</Maneuver>"
        f"</ManeuverGroup><StartTrigger><ConditionGroup>{_at(0.0)}</ConditionGroup>"
        "</StartTrigger></Act></Story>"
    )


def _codes(path: Path) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The run's tick times (s), the map's light ids and the ``(T, L)`` codes the simulator
    records for them."""
    (cfg,) = load_scenarios(path)
    built = build_scenario(cfg)
    n = round(cfg.duration_s / cfg.dt_s)
    ticks = np.array([seconds_to_ns(k * cfg.dt_s) for k in range(n + 1)], dtype=np.int64)
    ids = [light.light_id for light in built.road_map.traffic_lights]
    return ticks / 1e9, ids, light_codes_at(built.road_map, ticks)


def test_state_and_controller_actions_switch_the_lights_at_their_ticks(tmp_path: Path) -> None:
    story = _events(
        ("red", _state("10", "on;off;off"), _at(2.0)),  # 10: green -> red at 2 s
        ("yellow", _state("11", "yellow"), _at(3.0, "greaterOrEqual", delay=0.5)),  # 3.5 s
        ("back", _to_phase("C", "stop"), _at(6.0)),  # C enters stop at 6 s: 10 red, 12 green
        ("again", _to_phase("C", "go"), _at(8.0)),  # and go at 8 s: 10 green, 12 red
    )
    path = _write(tmp_path, _xosc(SIGNALS, story=story))
    t, ids, codes = _codes(path)
    assert ids == ["10", "11", "12"]
    s10, s11, s12 = codes.T
    # 10: green until 2 s, red (the state action, then phase stop) until 8 s, green on
    np.testing.assert_array_equal(s10, np.where((t >= 2.0) & (t < 8.0), RED, GREEN))
    # 11: no controller: unknown until the action at 3.5 s, yellow after
    np.testing.assert_array_equal(s11, np.where(t >= 3.5, YELLOW, UNKNOWN))
    # 12: red (phase go) until C enters stop at 6 s, green until C is sent to go at 8 s
    np.testing.assert_array_equal(s12, np.where((t >= 6.0) & (t < 8.0), GREEN, RED))
    (cfg,) = load_scenarios(path)
    # the block holds each light's base cycle and its switches, as a scenario YAML writes them
    by_id = {light.id: light for light in cfg.traffic_lights}
    assert [list(p) for p in by_id["10"].phases] == [["green", 30.0], ["red", 30.0]]
    assert by_id["10"].offset_s == 0.0
    assert [(w.at_s, w.state, w.phase) for w in by_id["10"].switches] == [
        (2.0, "red", None),
        (6.0, None, 1),
        (8.0, None, 0),
    ]
    assert [(w.at_s, w.state, w.phase) for w in by_id["12"].switches] == [
        (6.0, None, 1),
        (8.0, None, 0),
    ]
    # 11 has no controller: unknown until its switch
    assert [list(p) for p in by_id["11"].phases] == [["unknown", 1.0]]
    assert [(w.at_s, w.state) for w in by_id["11"].switches] == [(3.5, "yellow")]


def test_a_sweep_that_lengthens_the_run_keeps_the_switched_states(tmp_path: Path) -> None:
    # R2: a held state held past the file's own 10 s (a baked timeline of the 10 s run
    # started over after it), and a restarted controller cycling on from its phase
    story = _events(
        ("red", _state("11", "red"), _at(2.0)), ("stop", _to_phase("C", "stop"), _at(4.0))
    )
    (cfg,) = load_scenarios(_write(tmp_path, _xosc(SIGNALS, story=story)))
    spec = SweepSpec((parse_sweep_param("duration_s=200"),))
    ((long_cfg, _, params),) = scenario_variants(cfg, spec)
    assert params == {"duration_s": 200} and long_cfg.duration_s == 200.0
    built = build_scenario(long_cfg)
    n = round(long_cfg.duration_s / long_cfg.dt_s)
    ticks = np.array([seconds_to_ns(k * long_cfg.dt_s) for k in range(n + 1)], dtype=np.int64)
    t = ticks / 1e9
    codes = light_codes_at(built.road_map, ticks)
    np.testing.assert_array_equal(codes[:, 1], np.where(t >= 2.0, RED, UNKNOWN))
    # C's cycle from phase stop at 4 s: 10 red 30 s, green 30 s, ...; 12 the other way round
    stop_phase = ((t - 4.0) // 30.0) % 2 == 0
    np.testing.assert_array_equal(
        codes[:, 0], np.where(t < 4.0, GREEN, np.where(stop_phase, RED, GREEN))
    )
    np.testing.assert_array_equal(
        codes[:, 2], np.where(t < 4.0, RED, np.where(stop_phase, GREEN, RED))
    )


def test_a_controller_sent_to_a_phase_keeps_its_phases_one_for_one(tmp_path: Path) -> None:
    # phases stop and hold are both red for 10: joined they would leave no phase "hold" to
    # start at; a 0 s phase is left out, and sending C to it starts the phase after it
    signals = _controller(
        "C",
        _phase("go", 30, s10="green")
        + _phase("stop", 5, s10="red")
        + _phase("hold", 20, s10="red")
        + _phase("blank", 0, s10="off"),
    )
    story = _events(
        ("hold", _to_phase("C", "hold"), _at(1.0)), ("blank", _to_phase("C", "blank"), _at(9.0))
    )
    (cfg,) = load_scenarios(_write(tmp_path, _xosc(signals, story=story)))
    (light,) = cfg.traffic_lights
    assert [list(p) for p in light.phases] == [["green", 30.0], ["red", 5.0], ["red", 20.0]]
    assert [(w.at_s, w.phase) for w in light.switches] == [(1.0, 2), (9.0, 0)]
    # unswitched, the controller's lights keep their phases joined
    (plain,) = load_scenarios(_write(tmp_path, _xosc(signals))).pop().traffic_lights
    assert [list(p) for p in plain.phases] == [["green", 30.0], ["red", 25.0]]
    assert plain.switches == []
    t, _, codes = _codes(_write(tmp_path, _xosc(signals, story=story)))
    # red from 1 s (20 s of hold, then go from 21 s) until 9 s, green after (blank -> go)
    np.testing.assert_array_equal(codes[:, 0], np.where((t >= 1.0) & (t < 9.0), RED, GREEN))


def test_an_init_action_holds_from_the_start(tmp_path: Path) -> None:
    path = _write(tmp_path, _xosc(SIGNALS, init=_state("10", "red") + _to_phase("C", "stop")))
    t, _, codes = _codes(path)
    # C starts in phase stop (10 red, 12 green) at t = 0; the state action at t = 0 is
    # overtaken by the controller action after it in the file (the later one wins)
    assert (codes[:, 0] == RED).all() and (codes[:, 2] == GREEN).all()
    assert len(t) == 101


def test_an_event_without_trigger_starts_with_its_act(tmp_path: Path) -> None:
    story = _events(("red", _state("10", "red"), None)).replace(_at(0.0), _at(4.0))
    t, _, codes = _codes(_write(tmp_path, _xosc(SIGNALS, story=story)))
    np.testing.assert_array_equal(codes[:, 0], np.where(t >= 4.0, RED, GREEN))


def _run_xosc(tmp_path: Path, story: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """A 20 s PDM run of an ego at 8 m/s towards signal 10 (stop line 80 m along the road):
    tick times, the ego's front bumper x and speed, and its red-light violations."""
    text = _xosc(SIGNALS, story=story).replace("value='10'", "value='20'")
    text = text.replace('<AbsoluteTargetSpeed value="5"/>', '<AbsoluteTargetSpeed value="8"/>')
    (cfg,) = load_scenarios(_write(tmp_path, text))
    result = run_scenario(build_scenario(cfg), "pdm")
    h = result.history
    assert not h.collisions.any()
    t = np.arange(len(h.ego_speed_mps)) * cfg.dt_s
    front_x = h.ego_boxes[:, 0] + 0.5 * h.ego_boxes[:, 3]  # heading +x along the road
    return t, front_x, h.ego_speed_mps, int(result.red_light.count)


def test_a_pdm_ego_stops_for_a_light_a_storyboard_action_turns_red(tmp_path: Path) -> None:
    # the light is green all run: the ego drives through the line (x = 80 m) early
    t, front_x, _, violations = _run_xosc(tmp_path, "")
    assert violations == 0 and front_x[t <= 10.0].max() > 80.0
    # red from 2 s (a state action), green again from 14 s (its controller sent to go)
    story = _events(
        ("red", _state("10", "on;off;off"), _at(2.0)), ("go", _to_phase("C", "go"), _at(14.0))
    )
    t, front_x, speed, violations = _run_xosc(tmp_path, story)
    assert violations == 0
    assert front_x[t < 14.0].max() < 80.0  # held before the line while red
    assert (speed[(t > 11.0) & (t < 14.0)] < 0.1).all()  # stopped there
    # and drove on at green (then stops again at the end of the 100 m road)
    assert (speed[(t >= 15.5) & (t <= 17.5)] > 1.0).all() and front_x[-1] > 85.0


@pytest.mark.parametrize(
    "init, story, field, reason",
    [
        (
            _state("99", "red"),
            "",
            "Storyboard/Init/Actions/GlobalAction[0]/InfrastructureAction/TrafficSignalAction/"
            "TrafficSignalStateAction@name",
            "no traffic light '99'",
        ),
        (
            "",
            _events(("e", _state("10", "blue"), _at(1.0))),
            "Act/A/Event/e/Action/e-do/GlobalAction/InfrastructureAction/TrafficSignalAction/"
            "TrafficSignalStateAction@state",
            "unknown signal state 'blue'",
        ),
        (
            "",
            _events(("e", _to_phase("Nope", "go"), _at(1.0))),
            "Act/A/Event/e/Action/e-do/GlobalAction/InfrastructureAction/TrafficSignalAction/"
            "TrafficSignalControllerAction@trafficSignalControllerRef",
            "no TrafficSignalController 'Nope'",
        ),
        (
            "",
            _events(("e", _to_phase("C", "amber"), _at(1.0))),
            "Act/A/Event/e/Action/e-do/GlobalAction/InfrastructureAction/TrafficSignalAction/"
            "TrafficSignalControllerAction@phase",
            "controller 'C' has no phase 'amber' (its phases: go, stop)",
        ),
        (
            "",
            _events(
                (
                    "e",
                    _state("10", "red"),
                    "<Condition name='Near' delay='0' conditionEdge='rising'><ByEntityCondition>"
                    "<TriggeringEntities triggeringEntitiesRule='any'><EntityRef entityRef='Ego'/>"
                    "</TriggeringEntities><EntityCondition><ReachPositionCondition tolerance='1'>"
                    "<Position><WorldPosition x='50' y='-1.75'/></Position>"
                    "</ReachPositionCondition></EntityCondition></ByEntityCondition></Condition>",
                )
            ),
            "Act/A/Event/e/StartTrigger",
            "a TrafficSignalStateAction started by a ReachPositionCondition is not read",
        ),
        (
            "",
            _events(
                (
                    "e",
                    _to_phase("C", "go"),
                    "<Condition name='After' delay='0' conditionEdge='rising'><ByValueCondition>"
                    "<StoryboardElementStateCondition storyboardElementType='act' "
                    "storyboardElementRef='A' state='startTransition'/></ByValueCondition>"
                    "</Condition>",
                )
            ),
            "Act/A/Event/e/StartTrigger",
            "a TrafficSignalControllerAction started by a StoryboardElementStateCondition",
        ),
        (
            "",
            _events(("e", _state("10", "red"), _at(1.0, rule="lessThan"))),
            "Act/A/Event/e/StartTrigger",
            "greaterThan / greaterOrEqual",
        ),
        (
            "",
            _events(("e", _state("10", "red"), _at(1.0e300))),
            "Act/A/Event/e/StartTrigger",
            "a signal action's time (its act's start or its trigger's) must be under 4.61e+09 s",
        ),
    ],
)
def test_refusals_name_the_element_and_field(
    tmp_path: Path, init: str, story: str, field: str, reason: str
) -> None:
    path = _write(tmp_path, _xosc(SIGNALS, init, story))
    with pytest.raises(ConfigError) as info:
        load_scenarios(path)
    assert (info.value.path, info.value.field) == (str(path), field)
    assert reason in str(info.value)
