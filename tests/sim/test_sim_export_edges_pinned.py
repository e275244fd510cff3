"""Pinned edge rules of the KITTI export (:mod:`drivestack.sim.export_kitti`: which boxes are
labelled, which are DontCare regions and what a DontCare row holds), of the AV2 log scenario
(:mod:`drivestack.sim.av2_log`: annotated-only agents' held ends, the driven lanes' time
window) and of the start check of a scenario's agents (:mod:`drivestack.sim.build`: the
overlap slack). Every expected value is derived by hand from the rule in the module, on small
hand-built inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.core.transforms import SE3
from drivestack.sim import av2_log
from drivestack.sim.build import AGENT_OVERLAP_SLACK_M, build_scenario
from drivestack.sim.export_kitti import export_kitti_object
from drivestack.sim.scenario import ScenarioConfig, load_scenarios
from drivestack.sim.sensors import CameraModel
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.camera import CameraImage
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame
from tests.sim.test_sim_build_export_rules_pinned import _chain, _cuboids

# --- export_kitti: labelled, DontCare or left out -------------------------------------------

#: A 200 x 100 px camera, focal 100 px, principal point (100, 50), 1 m above the ego origin
#: looking along ego +x; the LiDAR sits at the ego origin (LiDAR frame = ego frame). A point
#: (x, y, z) of the ego frame is at camera depth x and projects to u = 100 - 100 y / x,
#: v = 50 - 100 (z - 1) / x.
CAMERA = CameraModel.looking_forward("front", 200, 100, 100.0, (0.0, 0.0, 1.0))


def _frame(labels_ego: list[list[float]]) -> SensorFrame:
    """One frame with car labels ``(N, 7)`` in the ego frame (= LiDAR frame)."""
    n = len(labels_ego)
    labels = Boxes3D.from_array7(np.array(labels_ego), "ego", 0, label=[ObjectClass.CAR] * n)
    image = CameraImage(np.zeros((100, 200, 3), np.uint8), CAMERA.calibration, 0)
    cloud = PointCloud.from_finite_xyz(np.zeros((1, 3), np.float32), "lidar", 0)
    return SensorFrame(
        0,
        lidars={"top": cloud},
        cameras={"front": image},
        ego_from_sensor={"top": SE3.identity()},
        labels=labels,
        source="test",
    )


#: A 4 x 1 x 1 m box centred 0.3 m ahead of the camera, 1 m right, at its height: depth
#: -1.7 .. 2.3 m, lateral 0.5 .. 1.5 m right. Its part past the near plane (0.1 m) shows: at
#: depth 2.3 m its left edge is at u = 100 + 100 * 0.5 / 2.3 = 121.7 px, inside the image.
BESIDE = [0.3, -1.0, 1.0, 4.0, 1.0, 1.0, 0.0]
#: A 4 x 1 x 1 m box centred 1.75 m behind the camera: depth -3.75 .. 0.25 m. Its grid points
#: (cell centres at -0.4 .. 0.4 of the length) are at depths -3.35, -2.55, -1.75, -0.95,
#: -0.15, all behind the near plane: truncation 1.0. Its 0.1 .. 0.25 m sliver past the near
#: plane projects over the whole image (u = 100 -+ 100 * 0.5 / 0.1 clipped to 0 .. 200).
BEHIND = [-1.75, 0.0, 1.0, 4.0, 1.0, 1.0, 0.0]


def _export(tmp_path: Path, box: list[float], share: float | None) -> list[list[str]]:
    """The label rows (split in fields) that exporting one frame with ``box`` writes."""
    frame = _frame([box])
    item = frame if share is None else (frame, np.array([share]))
    assert export_kitti_object([item], tmp_path) == 1
    text = (tmp_path / "training/label_2/000000.txt").read_text()
    return [line.split() for line in text.splitlines() if line.strip()]


def test_a_box_centred_less_than_half_a_metre_ahead_is_dont_care(tmp_path: Path) -> None:
    """A box is labelled only when its centre is *more than 0.5 m* in front of the camera:
    ``BESIDE``'s centre is 0.3 m ahead (0 < 0.3 <= 0.5) and its 2D box has area, and half of
    it is visible (share 0.5 > 0): one DontCare row, not a Car."""
    rows = _export(tmp_path, BESIDE, 0.5)
    assert [row[0] for row in rows] == ["DontCare"]


def test_a_box_centred_beyond_half_a_metre_ahead_is_labelled(tmp_path: Path) -> None:
    """The same box 1 m further ahead (centre depth 1.3 m > 0.5 m) is a Car row."""
    box = [1.3, *BESIDE[1:]]
    rows = _export(tmp_path, box, 0.5)
    assert [row[0] for row in rows] == ["Car"]


def test_a_dont_care_row_holds_kittis_placeholders(tmp_path: Path) -> None:
    """DontCare rows keep their 2D box but hold KITTI's placeholders: truncation -1,
    occlusion -1, alpha -10, size (h, w, l) -1 each, location (-1000, -1000, -1000) and
    rotation_y -10. Fields: type, trunc, occ, alpha, x1 y1 x2 y2, h w l, x y z, ry."""
    (row,) = _export(tmp_path, BESIDE, 0.5)
    values = [float(v) for v in row[1:]]
    assert values[0:3] == [-1.0, -1.0, -10.0]
    assert values[7:10] == [-1.0, -1.0, -1.0]
    assert values[10:13] == [-1000.0, -1000.0, -1000.0]
    assert values[13] == -10.0
    # the kept 2D box: x1 at the box's left edge at depth 2.3 m (121.7 px), to the image's
    # right edge; a box with area
    assert abs(values[3] - (100 + 100 * 0.5 / 2.3)) < 0.01
    assert values[5] == 200.0 and values[6] > values[4]


def test_a_box_beside_with_visible_share_zero_is_left_out(tmp_path: Path) -> None:
    """A DontCare region needs the camera to *see* some of it: a visible share strictly
    above 0. ``BESIDE`` with share 0.0 (fully hidden) is left out: no row at all."""
    assert _export(tmp_path, BESIDE, 0.0) == []


def test_a_box_beside_without_visible_share_needs_a_grid_point_in_view(tmp_path: Path) -> None:
    """Without a visible share, "seen" is truncation *below* 1 (some grid point in view).
    ``BEHIND`` has every grid point behind the near plane (truncation 1.0) although its
    sliver's 2D box covers the image: it is left out, no row."""
    assert _export(tmp_path, BEHIND, None) == []


def test_a_box_beside_without_visible_share_partly_in_view_is_dont_care(tmp_path: Path) -> None:
    """``BESIDE`` without a visible share: its grid point at depth 0.3 + 0.4 * 4 = 1.9 m,
    1.0 - 0.4 * 1.0 = 0.6 m right and at the camera's height projects to
    u = 100 + 100 * 0.6 / 1.9 = 131.6 px, v = 50 px, inside the image: truncation < 1, so
    (centred 0.3 m ahead, not in front) it is a DontCare row."""
    rows = _export(tmp_path, BESIDE, None)
    assert [row[0] for row in rows] == ["DontCare"]


# --- av2_log: annotated-only agents keep their annotated speed at the held ends -----------


def test_annotated_only_agent_keeps_its_annotated_speed_over_the_held_ends() -> None:
    """Sweeps at 0 .. 0.4 s; a track at x = 10, 11, 12 at sweeps 1, 2, 3 (0.1 .. 0.3 s) moves
    at 1 m / 0.1 s = 10 m/s at every row (np.gradient of a straight line). Annotated only,
    its span reaches half an interval (0.05 s) each side: 0.05 .. 0.35 s, held at its first /
    last pose there *at the annotated speed* (``still=False``): times 0.05, 0.1, 0.2, 0.3,
    0.35, x 10, 10, 11, 12, 12, speed 10 at all five (not 0 at the held ends)."""
    sweeps_ns = np.arange(5, dtype=np.int64) * 100_000_000
    poses = SE3.from_xyz_yaw(np.zeros((5, 3)), np.zeros(5))
    cuboids = _cuboids([10.0, 11.0, 12.0], [1, 2, 3])
    (agent,) = av2_log.track_agents(cuboids, poses, sweeps_ns, annotated_only=True)
    replay = agent.replay
    assert replay is not None
    np.testing.assert_allclose(replay.time_s, [0.05, 0.1, 0.2, 0.3, 0.35])
    np.testing.assert_allclose(replay.x_m, [10.0, 10.0, 11.0, 12.0, 12.0])
    np.testing.assert_allclose(replay.speed_mps, [10.0] * 5)


# --- av2_log: the driven lanes over [0, duration_s] ---------------------------------------


def _log(time_s: list[float], xs: list[float]) -> av2_log.Av2LogScenario:
    """A log on the pinned chain map (a: x 0 .. 100, b: 100 .. 200 along +x), the ego at
    ``(x, 0)`` heading +x at each sweep."""
    n = len(xs)
    xy = np.stack([np.array(xs), np.zeros(n)], axis=1)
    return av2_log.Av2LogScenario(
        log_dir=Path("log"),
        road_map=_chain(),
        time_s=np.array(time_s),
        ego_xy_m=xy,
        ego_yaw_rad=np.zeros(n),
        ego_speed_mps=np.zeros(n),
        agents=(),
    )


def test_driven_lanes_include_the_sweep_at_the_duration() -> None:
    """Sweeps over ``[0, duration_s]`` *inclusive*: the ego at x = 50 (lane a) at 0 s, 150
    (lane b, a successor of a) at 1 s; up to 1.0 s it drove [a, b], up to 0.5 s only [a]."""
    log = _log([0.0, 1.0], [50.0, 150.0])
    assert log.driven_lanes(1.0) == ["a", "b"]
    assert log.driven_lanes(0.5) == ["a"]


def test_driven_lanes_count_a_sweep_within_the_rounding_tolerance() -> None:
    """The window's end has a 1e-9 s tolerance, inclusive: a sweep at 1.0 s counts for a
    duration of 1.0 - 1e-9 s (in floating point, (1.0 - 1e-9) + 1e-9 is exactly 1.0 again,
    so the sweep lies exactly at the window's tolerant end: [a, b])."""
    log = _log([0.0, 1.0], [50.0, 150.0])
    assert log.driven_lanes(1.0 - 1e-9) == ["a", "b"]


# --- build: agents may overlap by the slack on each side at the start ------------------------

HEAD = "name: t\nmap: {kind: straight, params: {n_lanes: 2}}\nduration_s: 2.0\n"
EGO = "ego: {lane: road_0, station_m: 100.0, speed_kph: 60.0}\n"


def _two_cars(tmp_path: Path, gap_station_m: float) -> ScenarioConfig:
    """Two 4.5 m cars on road_0 at stations 140 and ``140 + gap_station_m``."""
    agents = (
        "agents:\n  - {id: a, lanes: [road_0], station_m: 140.0}\n"
        f"  - {{id: b, lanes: [road_0], station_m: {140.0 + gap_station_m!r}}}\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + EGO + agents)
    (cfg,) = load_scenarios(path)
    assert isinstance(cfg, ScenarioConfig)
    return cfg


def test_agents_overlapping_by_less_than_twice_the_slack_are_a_queue(tmp_path: Path) -> None:
    """Each box is shrunk by ``AGENT_OVERLAP_SLACK_M`` (0.01 m) *on each side* before the
    check, so two cars may overlap by up to 2 x 0.01 = 0.02 m: cars 4.5 m long 4.485 m apart
    overlap by 0.015 m, shrunk to 4.48 m they are 0.005 m apart: built, no error (with the
    slack taken once, 4.49 m boxes would still overlap by 0.005 m)."""
    assert AGENT_OVERLAP_SLACK_M == 0.01
    built = build_scenario(_two_cars(tmp_path, 4.485))
    assert [s.agent_id for s in built.world.traffic.specs] == ["a", "b"]


def test_agents_overlapping_by_more_than_twice_the_slack_are_refused(tmp_path: Path) -> None:
    """Cars 4.475 m apart overlap by 0.025 m > 0.02 m: shrunk to 4.48 m they still overlap
    by 0.005 m, so the build is refused naming the second car's station."""
    with pytest.raises(ConfigError, match="agents 'a' and 'b' overlap at the start") as info:
        build_scenario(_two_cars(tmp_path, 4.475))
    assert info.value.field == "agents.1.station_m"
