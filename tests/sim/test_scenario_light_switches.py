"""A scenario's ``traffic_lights.<i>.switches``: the YAML key read into the built light's
``SignalCycle.switches`` (and back through a fleet sweep's round trip), every mistake a
ConfigError naming the file and the dotted key, and the planners and simulated traffic
meeting a switch to red exactly as they meet a cycle's red (PDM, an IDM lead queueing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.exec.sweep import SweepSpec, parse_sweep_param, scenario_variants
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_scenarios
from drivestack.structures.traffic_light import SignalCycle, SignalPhase, SignalSwitch
from tests.sim.test_scenario_traffic_lights import NEW as LIGHT
from tests.sim.test_scenario_traffic_lights import scenario

SWITCHES = ", switches: [{at_s: 1.5, state: yellow}, {at_s: 4, phase: 1}, {at_s: 4, state: 'off'}]"


def test_switches_are_read_into_the_lights_cycle(tmp_path: Path) -> None:
    (cfg,) = load_scenarios(scenario(tmp_path, LIGHT + SWITCHES + "}"))
    cycle = build_scenario(cfg).road_map.traffic_light("L1").cycle
    assert cycle == SignalCycle(
        (SignalPhase("green", 10.0), SignalPhase("red", 5.0)),
        0.0,
        (SignalSwitch(1.5, "yellow"), SignalSwitch(4.0, phase=1), SignalSwitch(4.0, "off")),
    )
    # of the two at 4 s the later wins: off from then on
    assert [cycle.state_at(t) for t in (1.4, 1.5, 3.9, 4.0, 1000.0)] == [
        "green",
        "yellow",
        "yellow",
        "off",
        "off",
    ]
    # a fleet sweep writes the config back to a mapping and reads it again: nothing lost
    (swept, _, _) = scenario_variants(cfg, SweepSpec((parse_sweep_param("duration_s=50"),)))[0]
    assert swept.traffic_lights == cfg.traffic_lights and swept.duration_s == 50.0


@pytest.mark.parametrize(
    "switches, field, words",
    [
        ("[{at_s: 1.0}]", "traffic_lights.0.switches.0", "give exactly one of state"),
        ("[{at_s: 1.0, state: red, phase: 0}]", "traffic_lights.0.switches.0.phase", "exactly"),
        ("[{at_s: -0.5, state: red}]", "traffic_lights.0.switches.0.at_s", ">= 0 s, got -0.5"),
        ("[{at_s: .nan, state: red}]", "traffic_lights.0.switches.0.at_s", "finite"),
        ("[{at_s: 1.0e+10, state: red}]", "traffic_lights.0.switches.0.at_s", "2**62 ns"),
        (
            "[{at_s: 3, state: red}, {at_s: 2, state: green}]",
            "traffic_lights.0.switches.1.at_s",
            "must not be before the switch before it (3.0 s)",
        ),
        ("[{at_s: 1, state: amber}]", "traffic_lights.0.switches.0.state", "'amber'"),
        ("[{at_s: 1, state: off}]", "traffic_lights.0.switches.0.state", "YAML reads off"),
        ("[{at_s: 1, phase: 2}]", "traffic_lights.0.switches.0.phase", "2 phase(s) (0..1)"),
        ("[{at_s: 1, phase: -1}]", "traffic_lights.0.switches.0.phase", "got -1"),
        ("[{at_s: 1, phase: 0.5}]", "traffic_lights.0.switches.0.phase", "int"),
        ("[{at_s: 1, colour: red}]", "traffic_lights.0.switches.0.colour", "unknown"),
        ("{at_s: 1, state: red}", "traffic_lights.0.switches", "list"),
    ],
)
def test_mistakes_are_named_on_loading(
    tmp_path: Path, switches: str, field: str, words: str
) -> None:
    path = scenario(tmp_path, f"{LIGHT}, switches: {switches}}}")
    with pytest.raises(ConfigError) as info:
        load_scenarios(path)
    assert (info.value.path, info.value.field) == (str(path), field)
    assert words in str(info.value)


#: red_light_queue.yaml's road, ego and IDM lead, 15 s, the light's yellow at 1 s and red at
#: 4 s given as a cycle (``%s`` = its phases) or as switches of a green cycle.
QUEUE = (
    "name: q\nmap: {kind: straight, params: {n_lanes: 2, speed_limit_mps: 13.89}}\n"
    "ego: {lane: road_0, station_m: 100.0, speed_kph: 50.0}\nduration_s: 15.0\nagents:\n"
    "  - {id: lead, type: car, behavior: idm, lanes: [road_0], station_m: 135.0, "
    "speed_mps: 13.89, desired_speed_mps: 13.89}\n"
    "traffic_lights:\n  - {id: L1, stops: [{lane: road_0, station_m: 200.0}], %s}\n"
)
AS_CYCLE = "phases: [[green, 1.0], [yellow, 3.0], [red, 1000.0]]"
AS_SWITCHES = "phases: [[green, 1.0]], switches: [{at_s: 1, state: yellow}, {at_s: 4, state: red}]"


def _run(tmp_path: Path, light: str, planner: str) -> tuple[np.ndarray, np.ndarray, int]:
    path = tmp_path / "q.yaml"
    path.write_text(QUEUE % light)
    (cfg,) = load_scenarios(path)
    result = run_scenario(build_scenario(cfg), planner)
    h = result.history
    return h.ego_boxes, h.agent_boxes, int(result.red_light.count)


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_a_switch_to_red_is_met_as_a_cycles_red(tmp_path: Path, planner: str) -> None:
    ego, lead, violations = _run(tmp_path, AS_SWITCHES, planner)
    cyc_ego, cyc_lead, cyc_violations = _run(tmp_path, AS_CYCLE, planner)
    # bit for bit the same run: the lead (its light rule, the planners' forecast of it) and
    # the ego see the switched light as the cycle's
    np.testing.assert_array_equal(ego, cyc_ego)
    np.testing.assert_array_equal(lead, cyc_lead)
    assert violations == cyc_violations == 0
    # the lead stops before the line (x = 100 m) and the ego queues behind it
    lead_front = lead[-1, 0, 0] + 0.5 * lead[-1, 0, 3]
    assert 95.0 < lead_front < 100.0 and ego[-1, 0] + 0.5 * ego[-1, 3] < lead[-1, 0, 0]
    # left green, both drive through the line
    green_ego, _, _ = _run(tmp_path, "phases: [[green, 1.0]]", planner)
    assert green_ego[-1, 0] > 100.0
