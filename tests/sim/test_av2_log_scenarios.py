"""Argoverse 2 logs as closed-loop scenarios (``map: {kind: av2, log: ...}``): the conversion
of ego-frame cuboid tracks to city-frame replay agents on hand-computed cases, and the two
shared-data logs built and driven briefly."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.errors import ConfigError, DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.argoverse2 import Av2Cuboids, Av2Poses, read_av2_poses
from drivestack.kernels.corners import box_corners
from drivestack.sim.av2_log import (
    boxes_to_city,
    read_av2_log,
    speed_from_motion,
    split_at_gaps,
    track_agents,
)
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.runner import ego_agent_collisions
from drivestack.sim.scenario import ScenarioConfig, load_scenarios
from drivestack.structures.labels import ObjectClass

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "scenarios"
LOGS = {
    "av2_7fab2350": "7fab2350-7eaf-3b7e-a39d-6937a4c1bede",
    "av2_adcf7d18": "adcf7d18-0510-35b0-a2fa-b4cea13a6d76",
}


def _cuboids(rows: list[tuple[int, str, str, list[float]]]) -> Av2Cuboids:
    """A table of ``(timestamp_ns, track_uuid, category, [x, y, z, l, w, h, yaw])`` rows."""
    n = len(rows)
    boxes = np.array([r[3] for r in rows], dtype=float).reshape(n, 7)
    half = boxes[:, 6] / 2
    return Av2Cuboids(
        timestamp_ns=np.array([r[0] for r in rows], dtype=np.int64),
        track_uuid=np.array([r[1] for r in rows], dtype=str),
        category=np.array([r[2] for r in rows], dtype=str),
        boxes=boxes,
        quaternion_wxyz=np.stack([np.cos(half), 0 * half, 0 * half, np.sin(half)], axis=1),
        num_interior_pts=np.full(n, 10, dtype=np.int64),
        score=np.ones(n),
        log_id=np.full(n, "log", dtype=str),
        path="annotations.feather",
    )


def test_box_to_city_by_hand() -> None:
    # ego at (100, 50) facing +y (yaw 90 deg): a box 10 m ahead and 2 m left of it, yawed
    # 30 deg in the ego frame, is at (100 - 2, 50 + 10) heading 120 deg in the city
    pose = SE3.from_xyz_yaw([[100.0, 50.0, 3.0]], [math.pi / 2])
    xy, yaw = boxes_to_city(pose, np.array([[10.0, 2.0, 0.5, 4.0, 2.0, 1.5, math.radians(30)]]))
    np.testing.assert_allclose(xy, [[98.0, 60.0]], atol=1e-9)
    assert yaw[0] == pytest.approx(math.radians(120))


@settings(max_examples=40, deadline=None)
@given(
    st.floats(-1e3, 1e3),
    st.floats(-1e3, 1e3),
    st.floats(-math.pi, math.pi),
    st.floats(-30, 30),
    st.floats(-30, 30),
    st.floats(-math.pi, math.pi),
)
def test_box_to_city_keeps_distance_and_relative_heading(
    ex: float, ey: float, eyaw: float, bx: float, by: float, byaw: float
) -> None:
    pose = SE3.from_xyz_yaw([[ex, ey, 0.0]], [eyaw])
    xy, yaw = boxes_to_city(pose, np.array([[bx, by, 0.0, 4.0, 2.0, 1.5, byaw]]))
    assert math.hypot(xy[0, 0] - ex, xy[0, 1] - ey) == pytest.approx(math.hypot(bx, by), abs=1e-6)
    assert math.remainder(yaw[0] - eyaw - byaw, 2 * math.pi) == pytest.approx(0.0, abs=1e-9)


def test_speed_from_motion_by_hand() -> None:
    t = np.array([0.0, 0.1, 0.2, 0.3])
    xy = np.array([[0.0, 0.0], [0.3, 0.4], [0.6, 0.8], [1.2, 1.6]])  # 5 m/s, then 10 m/s
    np.testing.assert_allclose(speed_from_motion(t, xy), [5.0, 5.0, 7.5, 10.0])
    assert speed_from_motion(t[:1], xy[:1]).tolist() == [0.0]


def test_split_at_gaps() -> None:
    t = np.array([0.0, 0.1, 0.2, 0.5, 1.2, 1.3])  # a 0.3 s gap (bridged), a 0.7 s gap (split)
    parts = split_at_gaps(t, max_gap_s=0.5)
    assert [p.tolist() for p in parts] == [[0, 1, 2, 3], [4, 5]]


def test_track_agents_city_frame_gaps_and_stationary_objects() -> None:
    # the ego drives +x at 10 m/s from the origin, sweeps every 0.1 s (t = 0 .. 1.5 s)
    sweeps = np.arange(16, dtype=np.int64) * 100_000_000
    poses = SE3.from_xyz_yaw([[1.0 * k, 0.0, 0.0] for k in range(16)], np.zeros(16))
    rows: list[tuple[int, str, str, list[float]]] = []
    for k in range(16):
        if k not in (5, 6, 7, 8, 9, 10, 11):  # absent 0.7 s: split in two agents
            # a car 20 m ahead in the ego frame, 3 m left: city x = k + 20 -> 10 m/s
            rows.append((int(sweeps[k]), "car", "REGULAR_VEHICLE", [20.0, 3.0, 0, 4.5, 1.9, 1.6, 0.0]))  # fmt: skip
        if 2 <= k <= 4:  # a bollard at city (30, -2), annotated only for 0.2 s
            rows.append((int(sweeps[k]), "bollard", "BOLLARD", [30.0 - k, -2.0, 0, 0.3, 0.3, 1.0, 0.0]))  # fmt: skip
    agents = {a.agent_id: a for a in track_agents(_cuboids(rows), poses, sweeps)}
    assert set(agents) == {"car#0", "car#1", "bollard"}
    first, second, bollard = agents["car#0"], agents["car#1"], agents["bollard"]
    assert first.label is ObjectClass.CAR and bollard.label is ObjectClass.BARRIER
    assert first.replay is not None and second.replay is not None and bollard.replay is not None
    np.testing.assert_allclose(first.replay.time_s, [0.0, 0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(first.replay.x_m, [20.0, 21.0, 22.0, 23.0, 24.0])
    np.testing.assert_allclose(first.replay.y_m, 3.0)
    np.testing.assert_allclose(first.replay.speed_mps, 10.0)
    np.testing.assert_allclose(second.replay.time_s, [1.2, 1.3, 1.4, 1.5])
    assert first.size_m == pytest.approx((4.5, 1.9, 1.6))
    # the stationary bollard is held from 0 to the last sweep at its place, speed 0 there
    np.testing.assert_allclose(bollard.replay.time_s, [0.0, 0.2, 0.3, 0.4, 1.5])
    np.testing.assert_allclose(bollard.replay.x_m, 30.0)
    np.testing.assert_allclose(bollard.replay.speed_mps, 0.0, atol=1e-9)


def test_stationary_or_moving_is_judged_on_the_whole_track_not_per_part() -> None:
    # the ego parked at the origin, sweeps every 0.1 s (t = 0 .. 1.5 s)
    sweeps = np.arange(16, dtype=np.int64) * 100_000_000
    poses = SE3.from_xyz_yaw(np.zeros((16, 3)), np.zeros(16))
    rows: list[tuple[int, str, str, list[float]]] = []
    for k in range(16):
        if k not in range(5, 12):  # a parked car at (10, 3), unseen for 0.7 s
            rows.append((int(sweeps[k]), "parked", "REGULAR_VEHICLE", [10.0, 3.0, 0, 4.5, 1.9, 1.6, 0.0]))  # fmt: skip
        if k <= 4 or k >= 14:  # a pedestrian walking +x at 1 m/s, unseen for 0.9 s
            rows.append((int(sweeps[k]), "ped", "PEDESTRIAN", [5.0 + 0.1 * k, -3.0, 0, 0.5, 0.5, 1.7, 0.0]))  # fmt: skip
    agents = {a.agent_id: a for a in track_agents(_cuboids(rows), poses, sweeps)}
    # the parked car is one agent held over the log, not two on top of each other
    assert set(agents) == {"parked", "ped#0", "ped#1"}
    parked = agents["parked"].replay
    assert parked is not None
    np.testing.assert_allclose(parked.time_s, [0.0, 0.1, 0.2, 0.3, 0.4, 1.2, 1.3, 1.4, 1.5])
    np.testing.assert_allclose(parked.x_m, 10.0)
    # the pedestrian's last part moves 0.1 m, but the pedestrian walks: its parts exist only
    # while annotated (held, it would stand at x = 6.4 from t = 0 while walking at x = 5)
    first, second = agents["ped#0"].replay, agents["ped#1"].replay
    assert first is not None and second is not None
    np.testing.assert_allclose(first.time_s, [0.0, 0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(second.time_s, [1.4, 1.5])
    np.testing.assert_allclose(second.x_m, [6.4, 6.5])


def test_track_agents_refuses_a_track_twice_at_one_sweep() -> None:
    sweeps = np.array([0, 100_000_000], dtype=np.int64)
    poses = SE3.from_xyz_yaw(np.zeros((2, 3)), np.zeros(2))
    box = [5.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]
    rows = [(0, "a", "REGULAR_VEHICLE", box), (0, "a", "REGULAR_VEHICLE", box)]
    with pytest.raises(DataError) as info:
        track_agents(_cuboids(rows), poses, sweeps)
    assert "track_uuid a, timestamp_ns 0" in str(info.value) and "track_uuid" in str(info.value)


def test_missing_pose_for_a_sweep_is_a_data_error() -> None:
    poses = Av2Poses(
        np.array([0, 100], dtype=np.int64), SE3.from_xyz_yaw(np.zeros((2, 3)), np.zeros(2)), "p"
    )
    with pytest.raises(DataError) as info:
        poses.at_times(np.array([0, 50, 100], dtype=np.int64))
    assert "timestamp_ns 50" in str(info.value) and "1 of 3 without one" in str(info.value)


def test_unknown_map_log_keys_are_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: t\nmap: {kind: av2}\nego: {from_file: true}\nduration_s: 2.0\n")
    with pytest.raises(ConfigError, match=r"field map\.log"):
        load_scenarios(path)
    path.write_text("name: t\nmap: {kind: straight, log: x}\nego: {lane: x}\nduration_s: 2.0\n")
    with pytest.raises(ConfigError, match=r"map\.log is for av2 maps only"):
        load_scenarios(path)


@pytest.mark.data
@pytest.mark.parametrize("name", sorted(LOGS))
def test_av2_scenario_builds_from_the_log(name: str, shared_data: Path) -> None:
    (cfg,) = load_scenarios(CONFIGS / f"{name}.yaml")
    built = build_scenario(cfg, shared_data)
    log_dir = shared_data / "argoverse2" / "sensor" / "val" / LOGS[name]
    log = read_av2_log(log_dir)
    # the ego starts at the pose of the first annotated sweep
    first_sweep = int(np.min(np.unique(_annotation_column(log_dir, "timestamp_ns"))))
    pose = read_av2_poses(log_dir / "city_SE3_egovehicle.feather").at(first_sweep)
    ego = built.world.ego
    assert (float(ego.x_m[0]), float(ego.y_m[0])) == pytest.approx(tuple(pose.translation[:2]))
    assert float(ego.yaw_rad[0]) == pytest.approx(float(pose.yaw_rad))
    # one replay agent per annotated track (no gaps in these logs), none of them the ego
    tracks = np.unique(_annotation_column(log_dir, "track_uuid"))
    assert len(built.world.traffic.specs) == len(tracks)
    hit = ego_agent_collisions(
        built.world.ego_box(), built.world.traffic.boxes(), built.world.traffic.state.valid
    )
    assert not hit.any()
    # the route starts with the lanes the human drove, in order, and ends past them
    driven = log.driven_lanes(cfg.duration_s)
    assert built.route_lanes[: len(driven)] == driven
    assert built.road_map.check_route(built.route_lanes)
    # the expert drove about as far as its path length over the duration (it stays on its lane)
    k = int(np.searchsorted(log.time_s, cfg.duration_s))
    path_m = float(np.sum(np.hypot(*np.diff(log.ego_xy_m[: k + 1], axis=0).T)))
    assert built.expert_progress_m == pytest.approx(path_m, rel=0.05)


@pytest.mark.data
def test_av2_scenario_runs_a_few_steps(shared_data: Path) -> None:
    (cfg,) = load_scenarios(CONFIGS / "av2_7fab2350.yaml")
    result = run_scenario(build_scenario(cfg, shared_data), "idm", max_steps=5)
    history = result.history
    assert len(history) == 6 and not history.collisions.any()
    assert history.ego_speed_mps[-1] > 5.0  # it keeps driving from the recorded 10.5 m/s


@pytest.mark.data
def test_av2_scenario_longer_than_the_log_is_a_config_error(
    shared_data: Path, tmp_path: Path
) -> None:
    text = (CONFIGS / "av2_adcf7d18.yaml").read_text().replace("duration_s: 15.0", "duration_s: 20")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    (cfg,) = load_scenarios(path)
    with pytest.raises(
        ConfigError,
        match=r"field duration_s: 20\.0 s .*annotated sweeps \(duration_s can be at "
        r"most 15\.499 s\)",
    ):  # the log spans 15.499874 s
        build_scenario(cfg, shared_data)


@pytest.mark.data
def test_the_longest_duration_named_is_floored_and_accepted(
    shared_data: Path, tmp_path: Path
) -> None:
    """The 7fab2350 log spans 15.499814 s: 15.5 s is refused, and the message named "15.50 s"
    (rounded up, so it read as if 15.5 s fitted); it names 15.499 s, which builds."""
    text = (CONFIGS / "av2_7fab2350.yaml").read_text()
    path = tmp_path / "s.yaml"
    path.write_text(re.sub(r"duration_s: [0-9.]+", "duration_s: 15.5", text))
    (cfg,) = load_scenarios(path)
    with pytest.raises(ConfigError, match=r"can be at most 15\.499 s\)$"):
        build_scenario(cfg, shared_data)
    path.write_text(re.sub(r"duration_s: [0-9.]+", "duration_s: 15.499", text))
    (cfg,) = load_scenarios(path)
    assert build_scenario(cfg, shared_data).n_steps == round(15.499 / cfg.dt_s)


def av2_log_scenario(path: Path, folder: Path) -> ScenarioConfig:
    """The scenario of a 2 s drive of the AV2 log in ``folder`` (its ego and agents from the
    file), written to ``path`` and loaded."""
    path.write_text(
        f"name: t\nmap: {{kind: av2, log: {folder}}}\nego: {{from_file: true}}\n"
        "agents_from_file: true\nduration_s: 2.0\n"
    )
    (cfg,) = load_scenarios(path)
    return cfg


def test_a_map_log_folder_that_is_not_an_av2_log_names_the_scenario_field(
    tmp_path: Path,
) -> None:
    """An existing folder without annotations.feather (another dataset's) is a wrong map.log:
    the error names the scenario file and the field, as a missing folder's does."""
    folder = tmp_path / "kitti_tracking"
    folder.mkdir()
    path = tmp_path / "s.yaml"
    with pytest.raises(ConfigError) as info:
        build_scenario(av2_log_scenario(path, folder))
    assert str(info.value) == (
        f"{path}: field map.log: av2 log folder {folder}: missing annotations.feather "
        "(an AV2 sensor log folder holds it)"
    )


def _annotation_column(log_dir: Path, name: str) -> np.ndarray:
    """One column of the log's ``annotations.feather``, read directly (not through drivestack)."""
    import pyarrow.feather as feather

    return feather.read_table(log_dir / "annotations.feather").column(name).to_numpy()


def test_box_corners_agree_with_city_transform() -> None:
    # the transformed box's corners are the ego-frame corners moved by the pose
    pose = SE3.from_xyz_yaw([[5.0, -3.0, 0.0]], [0.7])
    box = np.array([[4.0, 1.0, 0.0, 4.0, 2.0, 1.5, 0.3]])
    xy, yaw = boxes_to_city(pose, box)
    city_box = np.array([[xy[0, 0], xy[0, 1], 0.0, 4.0, 2.0, 1.5, yaw[0]]])
    expected = pose.apply(box_corners(box)[0])
    np.testing.assert_allclose(box_corners(city_box)[0][:, :2], expected[:, :2], atol=1e-9)
