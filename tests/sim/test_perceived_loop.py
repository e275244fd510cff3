"""Closed loop through the real stack: ray-cast LiDAR -> perception -> tracking -> planner."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from drivestack.core.transforms import SE3
from drivestack.pipeline import build_stack
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.perceived import LidarPerception, PerceivedWorld
from drivestack.sim.scenario import load_scenarios
from drivestack.sim.sensors import LidarModel, SensorScene

REPO = Path(__file__).resolve().parents[2]


def _perceived(scenario_file: str, case: str) -> tuple[object, LidarPerception]:
    scenario = next(
        s
        for s in load_scenarios(REPO / "configs/scenarios" / scenario_file)
        if s.name.endswith(f"[{case}]")
    )
    built = build_scenario(scenario)
    lidar = LidarModel.from_preset("hdl64", SE3.from_xyz_yaw([1.3, 0.0, 1.9], 0.0), seed=1)
    perception = LidarPerception(
        build_stack(REPO / "configs/stack/sim_lidar.yaml"),
        lidar,
        SensorScene.from_road_map(built.road_map),
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


@pytest.mark.slow
def test_ccrs_20kph_with_lidar_perception_stops_without_collision():
    built, perception = _perceived("ccrs.yaml", "20kph")
    result = run_scenario(built, "pdm", max_steps=100)  # type: ignore[arg-type]
    assert not result.history.collisions.any()
    assert result.passed
    assert set(perception.timing_ms()) == {"lidar_sim", "perception", "tracking"}


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
    assert set(metrics["perception_stage_median_ms"]) == {"lidar_sim", "perception", "tracking"}
    frame = read_kitti_object_frame(tmp_path / "kitti", 0)
    assert len(frame.lidar()) > 50_000 and frame.labels is not None and len(frame.labels) == 1
