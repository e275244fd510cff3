"""Error and corner branches no other test runs (round 3): bad bounds, unsupported arrays,
git failures, abstract motion models, empty updates, and the rules they document."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import drivestack.core.provenance as provenance
from drivestack.cli import main
from drivestack.commands import demo
from drivestack.core import arrays
from drivestack.core.errors import ConfigError, DataError
from drivestack.core.frames import EGO
from drivestack.core.transforms import SE3
from drivestack.exec.lights import FleetLights
from drivestack.exec.sweep import (
    SweepParam,
    SweepSpec,
    expand_variants,
    keys_the_scenario_files_sweep,
)
from drivestack.exec.task import VariantTask, run_variant
from drivestack.kernels.crop import crop_box, crop_range
from drivestack.pipeline import Stack, StageOutputError
from drivestack.planning import pdm, stop_signs
from drivestack.planning.pdm import PDMParams, PDMPlanner
from drivestack.planning.stop_signs import JUNCTION_REACH_M, SignLine
from drivestack.prediction import lane_following_forecast
from drivestack.sim import build as sim_build
from drivestack.sim.build import build_scenario, extend_by_successors
from drivestack.sim.evaluate import PlannerParams, run_scenario
from drivestack.sim.scenario import ScenarioConfig, load_scenarios, scenarios_from_mapping
from drivestack.structures import Boxes3D, SensorFrame, Tracks
from drivestack.structures.camera import CameraCalibration, CameraImage
from drivestack.structures.road_map import Lane, RoadMap
from drivestack.tracking.config import MotionConfig
from drivestack.tracking.motion import ConstantVelocityModel, KalmanMotionModel
from tests._shared_data import missing_shared_data
from tests.exec.conftest import SCENARIO_YAML
from tests.sim.test_sim_out_folder_reuse import _sim
from tests.sim.test_stop_reasons_drivable_and_params import TIGHT_BEND
from tests.test_pipeline_detector_frame import EGO_FROM_TOP, FiniteDifferenceTracker, drive_frame

REPO = Path(__file__).resolve().parents[1]
POINTS = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0]])


# -- kernels.crop -------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [[0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
def test_crop_box_bounds_of_the_wrong_length_name_the_argument(bad: list[float]) -> None:
    """A bound with other than 3 values: ``ValueError`` naming it and the shape it had."""
    with pytest.raises(ValueError, match=rf"min_xyz_m must have 3 values .*shape \({len(bad)},\)"):
        crop_box(POINTS, bad, [1.0, 1.0, 1.0])


@pytest.mark.parametrize("name", ["min_xyz_m", "max_xyz_m"])
def test_crop_box_nan_bounds_name_the_argument(name: str) -> None:
    """A NaN bound is refused, naming which bound, not turned into an empty mask."""
    bounds = {"min_xyz_m": [-1.0, -1.0, -1.0], "max_xyz_m": [1.0, 1.0, 1.0]}
    bounds[name] = [0.0, np.nan, 0.0]
    with pytest.raises(ValueError, match=rf"^{name} contains NaN$"):
        crop_box(POINTS, bounds["min_xyz_m"], bounds["max_xyz_m"])


@pytest.mark.parametrize("lo_hi", [(2.0, 1.0), (-1.0, 1.0), (np.nan, 1.0), (0.0, np.nan)])
def test_crop_range_refuses_bad_ranges_with_both_values(lo_hi: tuple[float, float]) -> None:
    """``0 <= min_range_m <= max_range_m`` or ``ValueError`` quoting both (NaN fails it too)."""
    with pytest.raises(ValueError, match=r"need 0 <= min_range_m <= max_range_m, got "):
        crop_range(POINTS, *lo_hi)


def test_crop_range_with_infinite_max_keeps_every_point_past_min() -> None:
    """``max_range_m = inf`` is a valid open range: every point at or past ``min_range_m``."""
    assert crop_range(POINTS, 1.0, np.inf).tolist() == [False, True]


# -- core.arrays --------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [[1.0, 2.0], "text", None])
def test_backend_of_names_the_unsupported_type(value: Any) -> None:
    """``backend_of`` of a non-array: ``TypeError`` with the type's module and name."""
    with pytest.raises(
        TypeError, match=rf"unsupported array type builtins\.{type(value).__name__}"
    ):
        arrays.backend_of(value)


def test_namespace_of_a_non_array_names_its_type() -> None:
    """A list, alone or beside a NumPy array, is named as what it is, not as an array library
    ("arguments mix list and numpy arrays" before)."""
    expected = r"^arguments must be NumPy, Torch or CuPy arrays, got list$"
    with pytest.raises(TypeError, match=expected):
        arrays.namespace([1.0, 2.0])
    with pytest.raises(TypeError, match=expected):
        arrays.namespace(np.zeros(2), [1.0, 2.0])


def test_torch_round_trip_through_numpy_keeps_values_dtype_and_device() -> None:
    """``to_numpy`` of a torch tensor is a NumPy array; ``from_numpy_like`` puts a NumPy
    result back in torch, on the tensor's device, with the result's dtype."""
    torch = pytest.importorskip("torch")
    like = torch.ones(3, dtype=torch.float64)
    host = arrays.to_numpy(like)
    assert type(host) is np.ndarray and host.tolist() == [1.0, 1.0, 1.0]
    back = arrays.from_numpy_like(np.arange(3, dtype=np.float32), like)
    assert isinstance(back, torch.Tensor)
    assert back.dtype == torch.float32 and back.device == like.device
    assert back.tolist() == [0.0, 1.0, 2.0]


# -- core.provenance ----------------------------------------------------------------------------
def test_git_commit_is_none_when_git_cannot_be_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """No git executable (``OSError``) or a hung one (``TimeoutExpired``): no commit, no crash."""

    def missing(*args: Any, **kwargs: Any) -> Any:
        raise FileNotFoundError("git")

    def hung(*args: Any, **kwargs: Any) -> Any:
        raise subprocess.TimeoutExpired("git", 5)

    for fake in (missing, hung):
        monkeypatch.setattr(provenance.subprocess, "run", fake)
        provenance.git_commit.cache_clear()
        try:
            assert provenance._git("status") is None
            assert provenance.git_commit() is None
        finally:
            provenance.git_commit.cache_clear()


def test_git_commit_is_none_without_a_head_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """drivestack's own checkout with no commit yet (``rev-parse HEAD`` gives nothing): None."""
    top = str(provenance.PACKAGE_DIR.parent)

    def fake_git(*args: str) -> str | None:
        return top if args == ("rev-parse", "--show-toplevel") else ""

    monkeypatch.setattr(provenance, "_git", fake_git)
    provenance.git_commit.cache_clear()
    try:
        assert provenance.git_commit() is None
    finally:
        provenance.git_commit.cache_clear()


# -- tracking.motion ----------------------------------------------------------------------------
def test_the_base_motion_model_leaves_its_state_rules_to_subclasses() -> None:
    """``KalmanMotionModel`` is abstract: constructing, predicting or reading velocity on it
    raises ``NotImplementedError`` (the subclasses define the state and the prediction)."""
    with pytest.raises(NotImplementedError):
        KalmanMotionModel(MotionConfig())
    model = ConstantVelocityModel(MotionConfig())
    x, P = model.initiate(np.zeros((1, 7)))
    with pytest.raises(NotImplementedError):
        KalmanMotionModel.predict(model, x, P, 0.1)
    with pytest.raises(NotImplementedError):
        KalmanMotionModel.velocity(model, x)


def test_an_update_of_no_tracks_returns_them_unchanged() -> None:
    """Zero tracks and zero measurements: the (empty) state and covariance come back as given."""
    model = ConstantVelocityModel(MotionConfig())
    x, P = model.initiate(np.zeros((0, 7)))
    x_new, P_new = model.update(x, P, np.zeros((0, 7)))
    assert x_new is x and P_new is P
    assert x_new.shape == (0, 10) and P_new.shape == (0, 10, 10)


# -- exec.task / exec.sweep ---------------------------------------------------------------------
@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    """The fleet tests' short scenario (50 km/h behind a stopped car), as a file."""
    path = tmp_path / "rear.yaml"
    path.write_text(SCENARIO_YAML)
    return path


def test_a_known_failure_with_camera_lights_and_planner_params_is_recorded_everywhere(
    scenario_file: Path, tmp_path: Path
) -> None:
    """A listed variant (``known_failure``) run with camera lights and ``--planner-params``:
    the reason is in both its index record and its metrics.json, beside the light figures
    and the settings it ran with."""
    (variant,) = expand_variants(load_scenarios(scenario_file), ["pdm"], SweepSpec(()))
    settings = PlannerParams().with_unknown_light("yellow").as_dict()
    task = VariantTask(
        variant,
        str(tmp_path / "out"),
        max_steps=3,
        known_failure="brakes late",
        lights=FleetLights("camera"),
        planner_params=settings,
    )
    record = run_variant(task)
    assert record["status"] == "ok", record.get("error")
    assert record["known_failure"] == "brakes late" and "light_perception" in record
    metrics = json.loads((tmp_path / "out" / variant.variant_id / "metrics.json").read_text())
    assert metrics["known_failure"] == "brakes late"
    assert metrics["lights"] == "camera" and "light_perception" in metrics
    assert metrics["planner_params"]["pdm"] == settings["pdm"]


def test_the_sweep_note_skips_non_yaml_and_since_damaged_scenario_files(
    scenario_file: Path,
) -> None:
    """``keys_the_scenario_files_sweep`` reads only YAML sources; one that is no longer a
    scenario mapping (a list, bad YAML) or is gone is skipped, not raised: the note is advice."""
    scenario_file.write_text(
        scenario_file.read_text() + "sweep:\n  cases:\n    - {agents.0.station_m: 150.0}\n"
    )
    cfgs = load_scenarios(scenario_file)
    spec = SweepSpec((SweepParam("agents.0.station_m", values=(140.0,)),))
    assert keys_the_scenario_files_sweep(cfgs, spec) == {"agents.0.station_m": [str(scenario_file)]}
    other = [dataclasses.replace(cfg, source="drive.xosc") for cfg in cfgs]
    assert keys_the_scenario_files_sweep(other, spec) == {}
    for text in ("- a\n- list\n", "name: [unclosed\n", None):
        if text is None:
            scenario_file.unlink()
        else:
            scenario_file.write_text(text)
        assert keys_the_scenario_files_sweep(cfgs, spec) == {}


# -- pipeline -----------------------------------------------------------------------------------
class _UnreadableStepTracker(FiniteDifferenceTracker):
    """A tracker whose ``step`` signature Python cannot read (a bad ``__signature__``)."""

    def step(self, detections: Boxes3D, world_from_frame: SE3 | None = None) -> Tracks:
        return super().step(detections, world_from_frame)

    step.__signature__ = "unreadable"  # type: ignore[attr-defined]


class _LabelsDetector:
    """The frame's labels (ego frame) as its detections, or moved into the frame ``frame``."""

    def __init__(self, frame: str = EGO) -> None:
        self.frame = frame

    def reset(self) -> None:
        pass

    def step(self, frame: SensorFrame) -> Boxes3D:
        assert frame.labels is not None
        if self.frame == EGO:
            return frame.labels
        return frame.labels.transformed(SE3.identity(), self.frame)


def test_a_tracker_step_with_an_unreadable_signature_is_taken_as_it_is() -> None:
    """A plain-method ``step`` whose signature cannot be read: the stage check accepts it and
    the stack calls it with the two positional arguments only (no ``frame_fixed``)."""
    tracker = _UnreadableStepTracker()
    stack = Stack(_LabelsDetector(), tracker)
    for k in range(2):
        out = stack.step(drive_frame(k))
        assert out.tracks is not None and len(out.tracks) == 1
    assert len(tracker.poses) == 2 and all(p is not None for p in tracker.poses)


def _camera_frame(ego_from_sensor: dict[str, SE3]) -> SensorFrame:
    k = np.array([[100.0, 0.0, 2.0], [0.0, 100.0, 1.5], [0.0, 0.0, 1.0]])
    calibration = CameraCalibration("front", k, 4, 3, SE3.identity(), "camera_front")
    image = CameraImage(np.zeros((3, 4, 3), dtype=np.uint8), calibration, 0)
    return dataclasses.replace(
        drive_frame(0), cameras={"front": image}, ego_from_sensor=ego_from_sensor
    )


def test_boxes_in_a_cameras_frame_name_the_camera() -> None:
    """Boxes in a camera's calibration frame: with no extrinsic for it, ``DataError`` at
    ``ego_from_sensor`` naming the camera (by its sensor name) and the frame's record; with
    one, ``StageOutputError`` whose fix is ``frame.ego_from_sensor['front']``."""
    stack = Stack(_LabelsDetector("camera_front"), FiniteDifferenceTracker())
    frame = _camera_frame({"top": EGO_FROM_TOP})
    with pytest.raises(DataError) as info:
        stack.step(frame)
    assert info.value.field == "ego_from_sensor" and info.value.record == "t=0"
    assert info.value.path == frame.source
    assert "ego_from_sensor has no entry for camera 'front' (it has ['top'])" in str(info.value)
    stack = Stack(_LabelsDetector("camera_front"), FiniteDifferenceTracker())
    with pytest.raises(StageOutputError, match=r"frame\.ego_from_sensor\['front'\]"):
        stack.step(_camera_frame({"top": EGO_FROM_TOP, "front": SE3.identity()}))


# -- planning.pdm / planning.stop_signs ---------------------------------------------------------
def _scenario(**changes: Any) -> ScenarioConfig:
    """A 600 m two-lane straight road, the ego at station 100 m of ``road_0`` at 50 km/h."""
    data: dict[str, Any] = {
        "name": "t",
        "map": {"kind": "straight", "params": {"n_lanes": 2}},
        "ego": {"lane": "road_0", "station_m": 100.0, "speed_kph": 50.0},
        "duration_s": 2.0,
    }
    data.update(changes)
    (cfg,) = scenarios_from_mapping(data, "scenario.yaml")
    return cfg


def test_a_route_changing_over_two_lanes_ends_in_the_far_lane() -> None:
    """``route.lanes [road_0, road_1, road_2]``, each the next one's neighbour: the PDM
    planner's change target is the last of the chain of neighbours, and the ego ends centred
    in ``road_2`` (y = 8.75 m), not in ``road_1``."""
    cfg = _scenario(
        map={"kind": "straight", "params": {"n_lanes": 3}},
        ego={"lane": "road_0", "station_m": 50.0, "speed_kph": 50.0},
        route={"lanes": ["road_0", "road_1", "road_2"]},
        duration_s=10.0,
    )
    built = build_scenario(cfg)
    assert PDMPlanner(built.road_map, built.route_lanes)._change_target == "road_2"
    result = run_scenario(built, "pdm")
    assert result.passed, result.failures
    assert abs(float(result.history.ego_y_m[-1]) - 8.75) < 0.3


def test_pdm_with_lane_following_prediction_forecasts_along_lanes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``PDMParams(prediction="lane_following")`` (PDMPlanner only): the planner forecasts
    the agents with :func:`lane_following_forecast`, and drives behind a slower car safely."""
    calls: list[int] = []

    def spy(agents: Boxes3D, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(agents))
        return lane_following_forecast(agents, *args, **kwargs)

    monkeypatch.setattr(pdm, "lane_following_forecast", spy)
    lead = {"id": "lead", "behavior": "scripted", "lanes": ["road_0"], "station_m": 140.0}
    cfg = _scenario(agents=[{**lead, "speed_mps": 5.0}], pass_criteria={"no_collision": True})
    params = PlannerParams(pdm=PDMParams(prediction="lane_following"))
    result = run_scenario(cfg, "pdm", params=params)
    assert result.passed, result.failures
    assert calls and set(calls) == {1}


def _lane(lane_id: str, x0_m: float, length_m: float, successors: tuple[str, ...] = (),
          junction: str | None = None) -> Lane:  # fmt: skip
    """A straight lane along +x on y = 0 from ``x0_m``, 3.5 m wide."""
    x = np.linspace(x0_m, x0_m + length_m, 5)
    centre = np.stack([x, np.zeros(5)], axis=1)
    return Lane(
        lane_id,
        centre,
        centre + np.array([0.0, 1.75]),
        centre - np.array([0.0, 1.75]),
        successors=successors,
        junction_id=junction,
    )


def test_an_all_way_lines_exit_runs_on_through_its_junction_and_stops_at_a_loop() -> None:
    """``SignLine.exit_m``: past the line (5 m left of ``in``), on through every first
    successor in the same junction (j1 10 m, j2 7 m, j3 3 m; j3's loop back to j1 ends it):
    25 m. A lane out of no junction reaches at least ``JUNCTION_REACH_M``."""
    road = RoadMap(
        (
            _lane("in", 0.0, 10.0, ("j1",)),
            _lane("j1", 10.0, 10.0, ("j2",), "J"),
            _lane("j2", 20.0, 7.0, ("j3", "side"), "J"),
            _lane("j3", 27.0, 3.0, ("j1", "out"), "J"),
            _lane("side", 27.0, 50.0),
            _lane("out", 30.0, 50.0),
        )
    )
    line = SignLine("s", road.lane("in"), "in", 5.0, (5.0, 0.0))
    assert stop_signs._exit_m(road, line, [road.lane("j1")]) == pytest.approx(25.0)
    assert stop_signs._exit_m(road, line, [road.lane("side")]) == pytest.approx(
        max(5.0 + 50.0, JUNCTION_REACH_M)
    )


# -- sim.build ----------------------------------------------------------------------------------
def test_extend_by_successors_stops_at_a_loop() -> None:
    """A route shorter than ``min_length_m`` is extended by first successors, but a lane
    already on it (a loop) ends the extension instead of repeating lanes forever."""
    road = RoadMap((_lane("a", 0.0, 10.0, ("b",)), _lane("b", 10.0, 10.0, ("a",))))
    assert extend_by_successors(road, ["a"], 0.0, min_length_m=100.0) == ["a", "b"]


def test_a_map_length_the_builder_cannot_sample_names_length_m() -> None:
    """The refusal of a too-long map names the key to change, ``map.params.length_m``, and
    gives no advice about a key the scenario cannot set (it was refused at ``map.params``
    with "step_m 10.0 cuts the 2e+08 m polyline ...: use a larger step")."""
    cfg = _scenario(map={"kind": "straight", "params": {"length_m": 2e8}})
    with pytest.raises(ConfigError) as info:
        build_scenario(cfg)
    assert info.value.field == "map.params.length_m"
    assert "step_m" not in str(info.value)


def test_a_huge_curve_radius_is_refused_naming_radius_m() -> None:
    """A bend radius too large to sample is a ``ConfigError`` at ``map.params.radius_m``."""
    cfg = _scenario(map={"kind": "curved", "params": {"radius_m": 1e300}})
    with pytest.raises(ConfigError) as info:
        build_scenario(cfg)
    assert info.value.field == "map.params.radius_m"


def test_a_huge_lane_width_is_blamed_on_lane_width_not_the_ego_offset() -> None:
    """A lane width of 1e200 m is refused at ``map.params.lane_width_m`` (widths are at most
    50 m); it once put the ego beyond the kernels' range and the refusal blamed
    ``ego.offset_m``, which the scenario left at 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow on the way
        cfg = _scenario(map={"kind": "straight", "params": {"lane_width_m": 1e200}})
        with pytest.raises(ConfigError) as info:
            build_scenario(cfg)
    assert info.value.field == "map.params.lane_width_m"


@pytest.mark.parametrize("size_m", [[1e300, 2.0, 1.5], [4.0, 1e300, 1.5]])
def test_an_agent_too_big_to_compute_with_is_blamed_on_its_size(size_m: list[float]) -> None:
    """A size of 1e300 m is refused at ``agents.0.size_m`` (sizes are at most 100 m), quoting
    it, for a lane agent and a path agent alike (the magnitude check blamed ``offset_m`` or
    ``path_m`` and quoted the length: 'with size 4 m')."""
    agent = {"id": "big", "lanes": ["road_1"], "station_m": 100.0, "size_m": size_m}
    path_agent = {"id": "big", "path_m": [[0.0, 5.25], [50.0, 5.25]], "size_m": size_m}
    for given in (agent, path_agent):
        with pytest.raises(ConfigError) as info:
            build_scenario(_scenario(agents=[given]))
        assert info.value.path == "scenario.yaml" and info.value.field == "agents.0.size_m"
        assert "1e+300" in str(info.value) and "(0, 100] m" in str(info.value)


@pytest.mark.data
def test_a_recorded_start_with_route_lanes_runs_them(shared_data: Path) -> None:
    """``ego.from_file`` with ``route.lanes``: the lanes under the recorded start count as the
    ego's, so a route starting on the lane it is recorded on runs as given (no lead lanes)."""
    source = REPO / "configs" / "scenarios" / "commonroad_usa_us101_3_3_t_1.yaml"
    if not (shared_data / "commonroad" / "format_2018b" / "USA_US101-3_3_T-1.xml").is_file():
        missing_shared_data("CommonRoad USA_US101-3_3_T-1 not found")
    (cfg,) = load_scenarios(source)
    cfg = dataclasses.replace(cfg, route=dataclasses.replace(cfg.route, lanes=["31", "29"]))
    built = build_scenario(cfg, shared_data)
    assert built.route_lanes == ["31", "29"] and built.route_lead_lanes == ()


# -- commands.sim -------------------------------------------------------------------------------
def _sim_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The one ``error:`` line a refused ``drivestack sim`` printed (no traceback)."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda m: "{not json", "its sim.json does not read"),
        (lambda m: b"\xff\xfe{}", "its sim.json does not read"),
        (lambda m: "[1, 2]", "its sim.json does not read"),
        (lambda m: json.dumps({**m, "runs": "pdm/ccrs_10kph"}), "its runs were made with other scenarios"),
    ],
    ids=["bad json", "not utf-8", "not a mapping", "runs not a list"],
)  # fmt: skip
def test_a_damaged_sim_json_beside_runs_is_refused_as_another_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: Any, why: str
) -> None:
    """``--out`` holding runs whose ``sim.json`` does not read (bad JSON, bad bytes, no
    mapping) or lists its runs as no list: the runs are taken as another invocation's,
    refused (exit 2) naming the folder, the reason and ``--overwrite``, which replaces them."""
    assert _sim(tmp_path, "--max-steps", "3") == 0
    manifest = tmp_path / "sim.json"
    text = damage(json.loads(manifest.read_text()))
    manifest.write_bytes(text if isinstance(text, bytes) else text.encode())
    capsys.readouterr()
    assert _sim(tmp_path, "--max-steps", "3") == 2
    line = _sim_error(capsys)
    assert str(tmp_path) in line and f"({why}" in line and "--overwrite" in line
    assert _sim(tmp_path, "--max-steps", "3", "--overwrite") == 0
    assert json.loads(manifest.read_text())["runs"] == ["pdm/ccrs_10kph"]


def test_a_run_ending_stopped_for_a_reason_is_listed_in_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """summary.json lists a run that ended at rest with the planner braking for a stop reason
    (``ended_stopped_runs``: scenario and reason), as the table's "stopped:" line says."""
    scenario = tmp_path / "tight.yaml"
    ego = {"lane": "road_0", "station_m": 10.0, "speed_kph": 50.0}
    scenario.write_text(
        json.dumps({"name": "tight", "map": TIGHT_BEND, "ego": ego, "duration_s": 20.0})
    )
    out = tmp_path / "out"
    assert main(["sim", str(scenario), "--planner", "idm", "--quiet", "--out", str(out)]) == 0
    reason = "no proposal stays on the drivable area"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["idm"]["ended_stopped_runs"] == [{"scenario": "tight", "reason": reason}]
    assert f"stopped: idm/tight: ended stopped: {reason}" in capsys.readouterr().out


# -- commands.demo ------------------------------------------------------------------------------
def test_the_demo_runs_the_kernel_benchmark_unless_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without ``--skip-bench`` the demo's step 2/2 runs the kernel benchmark after the replay:
    full sizes with ``--full``, 3 repeats, no KITTI folder, its JSON in ``--out``. (The
    replay and the benchmark are stubbed: the bundled drive's replay has tests of its own.)"""
    from drivestack.bench import kernels
    from drivestack.replay import runner

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(kernels, "run", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr(runner, "replay", lambda *args, **kwargs: {"clean": True})
    monkeypatch.setattr(demo, "_replay_lines", lambda summary: ["replayed"])
    out = tmp_path / "demo"
    assert main(["demo", "--full", "--out", str(out)]) == 0
    assert calls == [
        {
            "quick": False,
            "repeats": 3,
            "kitti_object_dir": None,
            "json_path": out / "bench_kernels.json",
        }
    ]
    printed = capsys.readouterr().out
    assert "drivestack demo 2/2" in printed and f"demo finished: outputs in {out}" in printed


# -- commands.eval_tracking ---------------------------------------------------------------------
def _eval_tracking(shared_data: Path, *args: str) -> int:
    kitti = shared_data / "kitti_tracking"
    if not (kitti / "training" / "label_02").is_dir():
        missing_shared_data(f"KITTI tracking labels not found under {kitti}")
    return main(["eval", "tracking", "--kitti-root", str(kitti), *args])


@pytest.mark.data
def test_a_tracker_run_with_progress_says_how_long_the_kernels_took_to_load(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without ``--quiet`` a tracker run prints the kernels' load time before the tracking,
    saying it is not in the frames/s figures; metrics.json records it as ``kernel_load_s``."""
    out = tmp_path / "o"
    args = ["--split", "train", "--sequences", "0000", "--frames", "0:20", "--classes", "Cyclist"]
    assert _eval_tracking(shared_data, *args, "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert re.search(r"^tracker kernels loaded in \d+ ms before timing \(not in the frames/s below\)$",
                     printed, re.MULTILINE)  # fmt: skip
    report = json.loads((out / "metrics.json").read_text())
    assert report["kernel_load_s"] >= 0.0


@pytest.mark.data
def test_the_fused_comparison_prints_and_records_its_notes(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--fusion camera`` on a sequence without a labelled pedestrian (0006): the notes
    (no labelled objects: rates n/a; frames the camera reported nothing in) are printed as
    ``note:`` lines and listed in metrics.json's ``notes``, the same text."""
    out = tmp_path / "o"
    args = ["--split", "val", "--sequences", "0006", "--classes", "Pedestrian"]
    assert (
        _eval_tracking(shared_data, *args, "--fusion", "camera", "--quiet", "--out", str(out)) == 0
    )
    printed = capsys.readouterr().out
    notes = json.loads((out / "metrics.json").read_text())["notes"]
    assert len(notes) == 2
    assert notes[0].startswith("Pedestrian: no labelled objects in the sequences scored")
    assert notes[1].startswith("Pedestrian: the camera reported no detection (of any class)")
    for note in notes:
        assert f"note: {note}\n" in printed


# -- more sim.build and core.arrays -------------------------------------------------------------
def test_a_route_reached_only_through_a_lane_change_names_the_lanes_to_put_first() -> None:
    """``route.lanes [c]`` with the ego on ``a``: ``c`` follows ``b``, the lane beside ``a``,
    so the lead ``[a, b]`` includes a lane change (no distance along lanes to run it by):
    ``ConfigError`` at ``route.lanes`` in the scenario's file, telling to start the route
    with ``['a', 'b']``."""

    def lane(lane_id: str, x0_m: float, y_m: float, **links: Any) -> Lane:
        x = np.linspace(x0_m, x0_m + 100.0, 11)
        centre = np.stack([x, np.full(11, y_m)], axis=1)
        half = np.array([0.0, 1.75])
        return Lane(lane_id, centre, centre + half, centre - half, **links)

    road = RoadMap(
        (
            lane("a", 0.0, 0.0, left_neighbor="b"),
            lane("b", 0.0, 3.5, successors=("c",), right_neighbor="a"),
            lane("c", 100.0, 3.5),
        )
    )
    with pytest.raises(ConfigError) as info:
        sim_build._route_lead(road, ["c"], ["a"], (10.0, 0.0), _scenario())
    assert info.value.path == "scenario.yaml" and info.value.field == "route.lanes"
    message = str(info.value)
    assert "the ego starts on lane 'a' (ego.lane), which is neither on the route" in message
    assert "start route.lanes with ['a', 'b']" in message


@pytest.mark.gpu
def test_cupy_round_trip_through_numpy_keeps_values_dtype_and_device() -> None:
    """CuPy arrays: ``backend_of`` says ``cupy``, ``to_numpy`` copies to the host and
    ``from_numpy_like`` puts a NumPy result back on the array's device, its dtype kept."""
    cupy = pytest.importorskip("cupy")
    like = cupy.ones(3, dtype=cupy.float64)
    assert arrays.backend_of(like) == "cupy"
    host = arrays.to_numpy(like)
    assert type(host) is np.ndarray and host.tolist() == [1.0, 1.0, 1.0]
    back = arrays.from_numpy_like(np.arange(3, dtype=np.float32), like)
    assert isinstance(back, cupy.ndarray) and back.dtype == np.float32
    assert back.device.id == like.device.id and back.get().tolist() == [0.0, 1.0, 2.0]
