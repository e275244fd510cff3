"""Closed loop with camera-perceived traffic lights (``drivestack sim --lights camera``): the
PDM ego stops for a red it sees on a real OpenDRIVE junction; the history keeps the truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.perceived import PerceivedWorld, observers
from drivestack.sim.perceived_lights import CameraLightPerception, with_light_perception
from drivestack.sim.perception_metrics import LightStateMetrics
from drivestack.sim.scenario import load_scenarios
from drivestack.sim.world import light_codes_at

SCENARIOS = Path(__file__).resolve().parents[2] / "configs" / "scenarios"


@pytest.fixture(scope="module")
def signal_stop(shared_data):
    cfg = load_scenarios(SCENARIOS / "opendrive_signal_stop.yaml")[0]
    return build_scenario(cfg, shared_data)


@pytest.mark.slow
def test_pdm_stops_for_the_red_it_sees_and_the_history_keeps_the_truth(signal_stop, shared_data):
    built = with_light_perception(signal_stop)
    (observer,) = observers(built.world)
    assert isinstance(observer, CameraLightPerception)
    result = run_scenario(built, "pdm", shared_data)
    record = result.as_dict()
    assert record["red_light_violations"] == 0
    assert result.passed, result.failures
    figures = observer.metrics.result()
    # the ego's two heads (281, 286) from about 100 m to its stop and away at green
    assert figures["light_ticks"] > 300
    assert figures["accuracy"] > 0.9
    assert set(figures["confusion"]) >= {"green", "yellow", "red"}
    history = result.history
    np.testing.assert_array_equal(
        history.traffic_light_state,
        light_codes_at(signal_stop.road_map, np.asarray(history.timestamp_ns)),
    )


def test_the_observer_reports_perceived_states_and_unknown_out_of_range(signal_stop):
    built = with_light_perception(signal_stop)
    world = built.world
    world.reset()
    truth = dict(world.traffic_light_states())
    seen = dict(world.observe().traffic_lights)
    assert set(seen) == set(truth)
    # at the start the ego's lights (281, 286) are 113 m up the road: out of range, unknown
    assert all(state == "unknown" for state in seen.values())
    for _ in range(25):  # 2.5 s at 50 km/h: 78 m from its line, lights green
        world.step(0.0, 0.0)
    seen = dict(world.observe().traffic_lights)
    assert seen["281"] == seen["286"] == truth["281"] == "green"
    # not on the route, so not looked at, but inferred: 290, 291 (the opposing heads) share
    # controller 2 with 281 and 286; 294, 295, 287, 288 (the east-west heads, controller 1)
    # cross the ego's way through the junction while 281 reads green
    assert seen["290"] == seen["291"] == truth["290"] == "green"
    assert {seen[i] for i in ("294", "295", "287", "288")} == {truth["294"]} == {"red"}
    (observer,) = observers(world)
    assert isinstance(observer, CameraLightPerception) and observer.inference is not None
    assert observer.inference.conflicts["281"] == {"287", "288", "294", "295"}
    assert observer.metrics.result()["inferred"]["wrong"] == {}
    assert isinstance(world, PerceivedWorld)


def test_light_metrics_hand_counted():
    m = LightStateMetrics()
    for truth, seen in [("red", "red"), ("red", "unknown"), ("green", "green"), ("off", "off")]:
        m.add(truth, seen)
    other = LightStateMetrics()
    other.add("yellow", "red")
    m.merge(other)
    r = m.result()
    assert r["light_ticks"] == 5
    assert r["accuracy"] == pytest.approx(3 / 5)
    assert r["unknown_share"] == pytest.approx(1 / 5)
    assert r["confusion"]["red"] == {"red": 1, "unknown": 1}
    assert r["confusion"]["yellow"] == {"red": 1}
    assert LightStateMetrics().result()["accuracy"] is None
    with pytest.raises(ValueError, match="blue"):
        m.add("blue", "red")


def test_lights_default_to_the_truth_and_a_fleet_runs_the_camera(tmp_path):
    import argparse
    import json

    from drivestack.cli import main
    from drivestack.commands.sim import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["s.yaml", "--out", "o"]).lights == "truth"
    out = tmp_path / "fleet"
    cmd = ["sim", str(SCENARIOS / "red_light_stop.yaml"), "--planner", "pdm", "--lights", "camera",
           "--workers", "1", "--max-steps", "3"]  # fmt: skip
    assert main([*cmd, "--out", str(out), "--quiet"]) == 0  # fleet options: a fleet
    assert json.loads((out / "fleet.json").read_text())["lights"] == "camera"
