"""Rules a mutation review found no test pinned (each test fails under its mutation): the
ego's start offset side, KITTI odometry times rounded to the ns, a SceneUpdate's boxes at
their own stamp, and the scenario's half-a-step duration rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import ConfigError
from drivestack.ingest.kitti_odometry import read_times_ns
from drivestack.replay.log_format import scene_update_boxes
from drivestack.replay.log_reader import decode_scene_update
from drivestack.sim.build import build_scenario
from drivestack.sim.scenario import load_scenarios
from drivestack.structures.boxes import Boxes3D


def _scenario(tmp_path: Path, ego: str, duration: str = "duration_s: 1.0") -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: t\n"
        "map: {kind: straight, params: {n_lanes: 2, lane_width_m: 3.5}}\n"
        f"ego: {{lane: road_0, station_m: 100.0, speed_kph: 30.0{ego}}}\n"
        f"{duration}\n"
    )
    return path


def test_a_positive_ego_offset_starts_left_of_its_lane(tmp_path: Path) -> None:
    # offset_m is along the lane's left normal (-sin yaw, cos yaw): on the +x road_0 that is +y
    (centred,) = load_scenarios(_scenario(tmp_path, ""))
    start = build_scenario(centred).world.ego
    x0, y0 = start.x_m, start.y_m
    (shifted,) = load_scenarios(_scenario(tmp_path, ", offset_m: 1.0"))
    ego = build_scenario(shifted).world.ego
    assert ego.x_m == pytest.approx(x0, abs=1e-9)
    assert ego.y_m == pytest.approx(y0 + 1.0, abs=1e-9)


def test_kitti_odometry_times_are_rounded_to_the_nanosecond(tmp_path: Path) -> None:
    # 0.5184302 s * 1e9 = 518430199.99999994 in float64: truncation gave 1 ns early (78 of
    # KITTI odometry 00's 4541 frames)
    path = tmp_path / "times.txt"
    path.write_text("0.0\n0.5184302\n2.073666\n")
    assert read_times_ns(path).tolist() == [0, 518_430_200, 2_073_666_000]


def test_boxes_of_a_scene_update_keep_their_own_stamp() -> None:
    # another tool's log whose log time differs from the entities' stamps (within the skew
    # the reader tolerates): the boxes are at their stamp, not at the message's log time
    boxes = Boxes3D.from_array7(
        [[10.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]], "ego", 1_000_000_500, score=[0.9], label=[1]
    )
    decoded = decode_scene_update(scene_update_boxes(boxes), 2_000_000_000)
    assert isinstance(decoded, Boxes3D)
    assert decoded.timestamp_ns == 1_000_000_500


@pytest.mark.parametrize(("duration_s", "steps"), [(0.06, 1), (0.04, None)])
def test_a_run_needs_at_least_half_a_step(
    tmp_path: Path, duration_s: float, steps: int | None
) -> None:
    # duration_s under half a dt_s (0.1 s) would score without driving; 0.06 s is one step
    path = _scenario(tmp_path, "", f"duration_s: {duration_s}\ndt_s: 0.1")
    if steps is None:
        with pytest.raises(ConfigError, match="duration_s"):
            build_scenario(load_scenarios(path)[0])
    else:
        assert round(load_scenarios(path)[0].duration_s / 0.1) == steps
        build_scenario(load_scenarios(path)[0])
