"""Closed loop through the real stack: ray-cast LiDAR -> perception -> tracking -> planner."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drivestack.pipeline import build_stack
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.perceived import WARMUP_S, LidarPerception, PerceivedWorld, default_lidar
from drivestack.sim.scenario import load_scenarios, load_suite
from drivestack.sim.sensors import SensorScene

REPO = Path(__file__).resolve().parents[2]


def _perceived(
    scenario_file: str, case: str | None = None, warmup_s: float = WARMUP_S
) -> tuple[object, LidarPerception]:
    """The scenario (its sweep ``case``, or its only one) with LiDAR-perceived observations."""
    scenario = next(
        s
        for s in load_scenarios(REPO / "configs/scenarios" / scenario_file)
        if case is None or s.name.endswith(f"[{case}]")
    )
    built = build_scenario(scenario)
    perception = LidarPerception(
        build_stack(REPO / "configs/stack/sim_lidar.yaml"),
        default_lidar(),  # the closed-loop runs' sensor
        SensorScene.from_road_map(built.road_map),
        warmup_s=warmup_s,
    )
    return dataclasses.replace(built, world=PerceivedWorld(built.world, perception)), perception


def test_planner_sees_tracks_not_ground_truth():
    built, perception = _perceived("ccrs.yaml", "20kph")
    world = built.world  # type: ignore[attr-defined]
    world.reset()
    observation = world.observe()
    truth = world._world.observe()
    assert observation.ego == truth.ego
    assert all(i.startswith("track_") for i in observation.agent_ids)
    assert "lidar_sim" in perception.timing_ms() and "perception" in perception.timing_ms()
    # the tick is scored against the truth: the car 40 m straight ahead is seen and detected
    metrics = perception.metrics.result()
    assert metrics["frames"] == 1
    assert metrics["detection"]["vehicle"]["GT"] == 1
    assert metrics["detection"]["vehicle"]["TP"] == 1
    assert metrics["tracking"]["vehicle"]["TP"] == 1
    world.reset()
    assert perception.metrics.frames == 0


@pytest.mark.parametrize(
    ("warmup_s", "lo_mps", "hi_mps"), [(WARMUP_S, 12.4, 15.4), (0.0, 0.0, 0.5)]
)
def test_the_first_tick_sees_a_moving_lead_car_moving_after_the_warm_up(
    warmup_s: float, lo_mps: float, hi_mps: float
) -> None:
    # stop_and_go: the lead car drives at 50 km/h (13.89 m/s) at t = 0. Warmed up on 0.5 s of
    # extrapolated sweeps, the first tick's track has its speed; cold, a new track stands
    built, perception = _perceived("stop_and_go.yaml", warmup_s=warmup_s)
    world = built.world  # type: ignore[attr-defined]
    world.reset()
    observation = world.observe()
    truth = world._world.observe()
    ahead = abs(observation.agents.center_m[:, 1] - truth.ego.y_m) < 2.0
    assert ahead.sum() == 1  # the lead car, one track
    speed = float(np.hypot(*observation.agents.velocity_mps[ahead][0]))
    assert lo_mps <= speed <= hi_mps
    # the warm-up sweeps are neither scored nor timed: one frame each
    assert perception.metrics.result()["frames"] == 1
    assert len(perception.stage_ms["lidar_sim"]) == 1
    with pytest.raises(ValueError, match="warmup_s"):
        LidarPerception(perception.stack, default_lidar(), perception.scene, warmup_s=-0.1)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["10kph", "20kph"])
def test_ccrs_with_lidar_perception_stops_without_collision(case: str):
    # 10 km/h used to end in the car: the map scene had a building standing on the road
    # beside it, which the detector merged with the car
    built, perception = _perceived("ccrs.yaml", case)
    result = run_scenario(built, "pdm", max_steps=110)  # type: ignore[arg-type]
    assert not result.history.collisions.any()
    assert result.passed
    assert set(perception.timing_ms()) == {"lidar_sim", "perception", "tracking", "prediction"}
    vehicle = perception.metrics.result()["detection"]["vehicle"]
    assert vehicle["GT"] == 110 and vehicle["recall"] > 0.9


@pytest.mark.slow
@pytest.mark.data
def test_regression_suite_runs_with_lidar_perception(tmp_path, shared_data):
    import json

    from drivestack.cli import main

    out = tmp_path / "run"
    argv = ["sim", "--suite", str(REPO / "configs/suites/regression.yaml"), "--planner", "pdm"]
    argv += ["--max-steps", "2", "--perception", "lidar", "--data-root", str(shared_data)]
    assert main([*argv, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())["pdm"]
    count = len(load_suite(REPO / "configs/suites/regression.yaml")[1])  # sweeps expanded
    assert count >= 46
    assert summary["scenarios"] == count
    pooled = summary["perception_metrics"]
    assert pooled["frames"] == count * 2
    runs = [json.loads(p.read_text()) for p in out.rglob("metrics.json")]
    assert len(runs) == count and all(r["perception"] == "lidar" for r in runs)
    # the pooled counts are the sums of the runs'
    for key in ("TP", "FP", "GT"):
        assert pooled["detection"]["all"][key] == sum(
            r["perception_metrics"]["detection"]["all"][key] for r in runs
        )
    assert pooled["detection"]["all"]["GT"] > 38
    assert f"perception on {count * 2} simulated frames" in (out / "summary.md").read_text()


@pytest.mark.slow
def test_sim_cli_with_lidar_perception_and_dataset_export(tmp_path):
    import json

    from drivestack.cli import main
    from drivestack.ingest.kitti_object import read_kitti_object_frame

    status = main(
        [
            "sim",
            str(REPO / "configs/scenarios/ccrs.yaml"),
            "--filter",
            "20kph",
            "--planner",
            "pdm",
            "--max-steps",
            "30",
            "--out",
            str(tmp_path / "run"),
            "--perception",
            "lidar",
            "--export-dataset",
            str(tmp_path / "kitti"),
            "--export-every",
            "10",
        ]
    )
    assert status == 0
    metrics = json.loads(next((tmp_path / "run").rglob("metrics.json")).read_text())
    assert metrics["perception"] == "lidar"
    assert set(metrics["perception_stage_median_ms"]) == {
        "lidar_sim",
        "perception",
        "tracking",
        "prediction",
    }
    assert metrics["perception_metrics"]["frames"] == 30
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["pdm"]["perception_metrics"]["detection"]["vehicle"]["GT"] == 30
    frame = read_kitti_object_frame(tmp_path / "kitti", 0)
    assert len(frame.lidar()) > 50_000 and frame.labels is not None and len(frame.labels) == 1
    # the exported camera is KITTI's 2011_09_26 camera 2, so its calib names its image size
    from drivestack.ingest.kitti_calib import read_kitti_calib
    from drivestack.perception.camera.calibration import kitti_image_size_wh

    calib = read_kitti_calib(tmp_path / "kitti/training/calib/000000.txt")
    assert kitti_image_size_wh(calib) == (1242, 375)


def test_perceived_observation_carries_the_lights_true_states():
    # the stack has no traffic-light perception: a LiDAR-perceived tick passes the lights'
    # true states on (without them every light reads "unknown" and the planners drive on)
    built, _ = _perceived("red_light_stop.yaml")
    world = built.world  # type: ignore[attr-defined]
    world.reset()
    for _ in range(40):  # 4 s: the light has turned yellow (at 3 s)
        world.step(0.0, 0.0)
    truth = world._world.observe()
    assert truth.traffic_lights and truth.traffic_lights[0][1] == "yellow"
    assert world.observe().traffic_lights == truth.traffic_lights
