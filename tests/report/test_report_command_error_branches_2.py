"""Error and edge branches of the report package (compare, lead, score terms, classify,
tracking tables and published rows, detection / prediction / planning comparisons, the sweep
and headline sections) and of the commands (fleet, eval tracking, eval prediction, the fleet
manifest check) that no other test ran: bad input is a clear error naming the file, record and
field (exit 2, one line), an edge input gives the documented value, nothing is dropped
silently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.core.errors import ConfigError
from drivestack.report import collect, compare, tracking
from drivestack.report.collect import ScenarioRow
from drivestack.report.lead import lead_trace
from drivestack.report.score_terms import comfort_breach
from drivestack.sim.runner import SimHistory
from tests.exec.conftest import SCENARIO_YAML
from tests.report.test_lost_points_lead_and_sim_sweeps import T, _history
from tests.report.test_prediction_planning import planning_result, prediction_result


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    """The fleet tests' short scenario (tests/exec/conftest.py)."""
    path = tmp_path / "rear.yaml"
    path.write_text(SCENARIO_YAML)
    return path


# --- report.compare -------------------------------------------------------------------------


def _row(key: str, score: float, status: str = "pass") -> ScenarioRow:
    planner, _, scenario = key.partition("/")
    return ScenarioRow(key, scenario, planner, status, score=score)


def test_a_score_risen_beyond_the_tolerance_is_an_improvement_not_a_regression() -> None:
    """Two passing runs whose score rose beyond the tolerance: a ``score_rose`` improvement;
    ``regressed_keys`` holds only the dropped one."""
    run = [_row("pdm/a", 90.0), _row("pdm/b", 50.0)]
    base = [_row("pdm/a", 80.0), _row("pdm/b", 60.0)]
    result = compare.compare_rows(run, base, score_tolerance=1.0)
    assert [(c.key, c.kind) for c in result.improvements] == [("pdm/a", "score_rose")]
    assert [(c.key, c.kind) for c in result.regressions] == [("pdm/b", "score_dropped")]
    assert result.regressed_keys == {"pdm/b"}


def test_a_score_within_the_tolerance_is_no_change() -> None:
    """A rise not beyond the tolerance is neither an improvement nor a regression."""
    result = compare.compare_rows([_row("pdm/a", 80.5)], [_row("pdm/a", 80.0)], 1.0)
    assert result.improvements == () and result.regressed_keys == set()


# --- report.lead / report.score_terms -------------------------------------------------------


def test_lead_trace_ticks_without_any_valid_agent_are_gaps() -> None:
    """A tick where no agent is present has no lead (NaN), the others keep theirs."""
    h = _history()
    valid = h.agent_valid.copy()
    valid[:5] = False
    lead = lead_trace(SimHistory(**{**h.__dict__, "agent_valid": valid}))
    assert np.isnan(lead.gap_m[:5]).all() and np.isnan(lead.speed_mps[:5]).all()
    np.testing.assert_allclose(lead.gap_m[5:], 25.5 - 5.0 * np.arange(5, T) * 0.1, atol=1e-9)


def _one_tick(h: SimHistory) -> SimHistory:
    fields: dict[str, Any] = {}
    for name, value in h.__dict__.items():
        if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == T:
            value = value[:1]
        elif isinstance(value, np.ndarray) and value.ndim and value.shape[0] == T - 1:
            value = value[:0]
        fields[name] = value
    return SimHistory(**fields)


def test_comfort_breach_of_a_one_tick_history_is_none() -> None:
    """One tick has no jerk or acceleration to judge: no breach (None), no error."""
    h = _history(np.full(T, 50.0))
    assert comfort_breach(h) is not None  # 50 m/s² over the whole run breaks a bound
    assert comfort_breach(_one_tick(h)) is None


# --- report.collect / report.tracking -------------------------------------------------------


def test_classify_metrics_of_no_known_kind_is_none() -> None:
    """A metrics.json with a metrics object that is no detection, tracking, prediction or
    planning result is not classified (None): the report lists it as unknown."""
    assert collect.classify({"metrics": {"score": 1.0}}) is None
    assert collect.classify({"metrics": {"iou_0.25": {"classes": [1, 2]}}}) is None


def test_tracking_blocks_skip_a_block_whose_classes_are_no_mapping() -> None:
    """A block whose ``classes`` is no ``{class: metrics}`` object is passed over; the
    readable block beside it is kept."""
    good = {"protocol": {"min_overlap": 0.25, "similarity": "iou_3d"}, "classes": {"Car": {}}}
    result = {"metrics": {"iou_0.5": {"classes": {"Car": 3}}, "iou_0.25": good}}
    (block,) = tracking.tracking_blocks(result)
    assert block["name"] == "iou_0.25" and list(block["classes"]) == ["Car"]


def _published() -> tracking.Published:
    def table(tid: str, similarity: str, iou: float) -> dict[str, Any]:
        rows = {"Car": {"sAMOTA": float(len(tid))}}
        return {"id": tid, "section": "B", "similarity": similarity, "iou": iou, "rows": rows}

    tables = (table("B1", "iou_3d", 0.25), table("B2", "iou_3d", 0.5), table("B3", "iou_2d", 0.5))
    return tracking.Published(tables, {"A": "Jul 2020", "B": "since Feb 2022"})


def test_published_rows_of_a_frames_run_are_none_and_say_why() -> None:
    """A run on some frames of some sequences (--frames) gets no published rows, and the note
    names the frames and the sequences."""
    result = {"whole_split": False, "sequences": ["0001"], "frames": {"first": 3, "last": 9}}
    rows, name, note = tracking._published_choice(result, "iou_3d", 0.25, {}, _published())
    assert rows == {} and name == ""
    assert "frames 3-9 of sequences 0001 (--frames)" in note


@pytest.mark.parametrize(("named", "shown"), [("B2", "B2"), ("B3", "B1")])
def test_published_table_named_by_the_results_readme(
    tmp_path: Path, named: str, shown: str
) -> None:
    """Results whose README names a published table (section B2 of PUBLISHED_RESULTS.md) get
    that table beside them, when it is of the same similarity; one of another similarity is
    not used (the table of the run's own IoU is, and the note says the named one was passed
    over)."""
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "README.md").write_text(f"outputs of section {named} of PUBLISHED_RESULTS.md\n")
    result = {"results": str(folder)}
    rows, name, note = tracking._published_choice(result, "iou_3d", 0.25, {}, _published())
    assert f"published, {shown}" in name and f"published table {shown}" in note
    assert rows == {"Car": {"sAMOTA": 2.0}}
    passed_over = "the results' README names B3, which scores another similarity"
    assert (passed_over in note) == (named != shown)


# --- exec.fleet manifest check ----------------------------------------------------------------


def test_fleet_resume_with_the_same_params_file_edited_since_says_so(tmp_path: Path) -> None:
    """A resume whose --planner-params file (the same path) now holds other values is a
    ConfigError naming planner_params and saying the file was edited since."""
    from drivestack.exec import fleet as exec_fleet
    from drivestack.sim.evaluate import PlannerParams

    then = PlannerParams().with_unknown_light("go").as_dict()
    now = json.loads(json.dumps(then))
    now["vehicle"]["length_m"] = float(now["vehicle"]["length_m"]) + 0.5
    file = str(tmp_path / "p.yaml")
    old = {"planner_params": then, "planner_params_file": file}
    (tmp_path / exec_fleet.MANIFEST_NAME).write_text(json.dumps(old))
    with pytest.raises(ConfigError) as info:
        exec_fleet._check_manifest(tmp_path, {"planner_params": now, "planner_params_file": file})
    assert info.value.field == "planner_params"
    assert f"the settings of {file} as edited since" in str(info.value)


# --- fleet command --------------------------------------------------------------------------


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err


def test_a_sim_sweep_with_export_dataset_is_refused(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--export-dataset with a fleet option (--sweep) is refused, exit 2, nothing written."""
    out = tmp_path / "f"
    argv = ["sim", str(scenario_file), "--sweep", "ego.speed_kph=40,50", "--out", str(out)]
    assert main([*argv, "--export-dataset", str(tmp_path / "k"), "--quiet"]) == 2
    assert "a fleet does not export datasets (no --export-dataset)" in _err(capsys)
    assert not out.exists() and not (tmp_path / "k").exists()


def test_a_swept_key_some_scenarios_lack_is_named_in_a_note(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A --sweep key that some scenarios of the --suite lack: a note names them (not swept
    there), before the executor starts (stopped here: no process pool in a unit test)."""
    from drivestack.exec import executors

    def refuse(kind: str, workers: int, address: str | None = None) -> None:
        raise RuntimeError("not started in this test")

    monkeypatch.setattr(executors, "make_executor", refuse)
    suite = tmp_path / "suite"
    suite.mkdir()
    text = scenario_file.read_text()
    (suite / "rear.yaml").write_text(text)
    alone = text.replace("name: rear", "name: alone").split("agents:")[0]
    (suite / "alone.yaml").write_text(alone + "pass_criteria: {no_collision: true}\n")
    listing = "name: two\nscenarios:\n  - {file: rear.yaml}\n  - {file: alone.yaml}\n"
    (suite / "suite.yaml").write_text(listing)
    argv = ["fleet", "--suite", str(suite / "suite.yaml"), "--planner", "idm", "--sweep",
            "agents.0.station_m=140", "--max-steps", "2", "--out", str(tmp_path / "f"),
            "--quiet"]  # fmt: skip
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "note: agents.0.station_m is not a field of 1 scenarios (alone): not swept there" in (
        captured.out
    )
    assert "error: local executor: not started in this test" in captured.err


def test_an_executor_that_cannot_start_is_one_error_line(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """An executor that cannot start (no ray, no cluster): exit 2, one line naming the
    executor and why; no variant runs."""
    from drivestack.exec import executors

    def refuse(kind: str, workers: int, address: str | None = None) -> None:
        raise RuntimeError("the Ray executor needs ray")

    monkeypatch.setattr(executors, "make_executor", refuse)
    out = tmp_path / "f"
    argv = ["fleet", str(scenario_file), "--executor", "ray", "--out", str(out), "--quiet"]
    assert main(argv) == 2
    err = _err(capsys).strip().splitlines()
    assert err == ["error: ray executor: the Ray executor needs ray"]
    assert not (out / "pdm").exists() and not (out / "idm").exists()


# --- eval tracking --------------------------------------------------------------------------


def test_tracking_frames_with_camera_fusion_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--frames with --fusion camera (fixed protocols over whole sequences): exit 2 naming
    --frames, before any data is read."""
    argv = ["eval", "tracking", "--fusion", "camera", "--frames", "0:5"]
    assert main([*argv, "--root", str(tmp_path / "absent"), "--out", str(tmp_path / "o")]) == 2
    err = _err(capsys)
    assert "--frames is not for --fusion camera" in err and "--frames" in err


@pytest.mark.data
def test_tracking_results_with_camera_fusion_is_refused(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--results (score files) with --fusion camera (run the trackers): exit 2, pick one."""
    root = shared_data / "kitti_tracking"
    argv = ["eval", "tracking", "--fusion", "camera", "--kitti-root", str(root), "--results",
            str(root / "reference_outputs" / "ab3dmot_2020"), "--out", str(tmp_path / "o")]  # fmt: skip
    assert main(argv) == 2
    assert "--results scores files; --fusion camera runs the trackers: pick one" in _err(capsys)
    assert not (tmp_path / "o" / "metrics.json").exists()


# --- eval prediction ------------------------------------------------------------------------


def _prediction(tmp_path: Path, *extra: str) -> list[str]:
    return ["eval", "prediction", "--dataset", "commonroad", *extra, "--out",
            str(tmp_path / "out"), "--quiet"]  # fmt: skip


def test_prediction_commonroad_without_root_or_shared_data_names_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --root and no shared data folder: exit 2 saying how to give one."""
    from drivestack.commands import eval_prediction

    monkeypatch.setattr(eval_prediction, "default_shared_data", lambda: None)
    assert main(_prediction(tmp_path)) == 2
    assert "no --root given and ../shared/data not found (set DRIVESTACK_SHARED_DATA)" in (
        _err(capsys)
    )


def test_prediction_commonroad_default_root_without_its_folder_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --root, a shared data folder without commonroad/: exit 2 naming that folder."""
    from drivestack.commands import eval_prediction

    monkeypatch.setattr(eval_prediction, "default_shared_data", lambda: tmp_path / "shared")
    assert main(_prediction(tmp_path)) == 2
    err = _err(capsys)
    assert str(tmp_path / "shared" / "commonroad") in err and "--root" in err


def test_prediction_commonroad_folder_without_xml_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --root folder without any .xml file: exit 2 naming the folder and --root."""
    root = tmp_path / "cr"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "notes.txt").write_text("x")
    assert main(_prediction(tmp_path, "--root", str(root))) == 2
    err = _err(capsys)
    assert "no .xml file" in err and str(root) in err and "--root" in err
    assert not (tmp_path / "out" / "metrics.json").exists()


@pytest.mark.data
def test_prediction_tracker_pasts_need_ego_motion_compensation(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--pasts tracks with a --tracker-config that turns ego_motion_compensation off: exit 2
    naming the file and the field, before any recording is read."""
    from drivestack.commands.eval_prediction import DEFAULT_TRACKER_CONFIG

    text = Path(DEFAULT_TRACKER_CONFIG).read_text()
    assert "ego_motion_compensation: true" in text
    cfg = tmp_path / "tracker.yaml"
    cfg.write_text(text.replace("ego_motion_compensation: true", "ego_motion_compensation: false"))
    argv = ["eval", "prediction", "--dataset", "kitti-tracking", "--root",
            str(shared_data / "kitti_tracking"), "--pasts", "tracks", "--tracker-config",
            str(cfg), "--out", str(tmp_path / "out"), "--quiet"]  # fmt: skip
    assert main(argv) == 2
    err = _err(capsys)
    assert str(cfg) in err and "ego_motion_compensation" in err
    assert "velocities over ground" in err


# --- report.prediction / report.planning comparisons ----------------------------------------


def test_a_forecast_cell_only_in_the_run_is_listed_not_compared() -> None:
    """A model / group / motion cell the baseline lacks is listed as only in the run and
    gets no comparison row (nothing made up for it)."""
    from tests.report.test_prediction_planning import _compare_pred

    run, base = prediction_result(), prediction_result()
    del base["metrics"]["recorded"]["constant_velocity"]["pedestrian"]
    ((pair,), _, _) = _compare_pred(run, base)
    assert pair["only_in_run"] == ["recorded/constant_velocity/pedestrian/moving"]
    assert not [
        r for r in pair["rows"] if r["group"] == "pedestrian" and r["model"] == "constant_velocity"
    ]


def test_a_planning_figure_the_baseline_lacks_is_not_compared() -> None:
    """A figure the baseline does not record (None) gives no row for it; the others are
    compared."""
    from tests.report.test_prediction_planning import _compare_plan

    run, base = planning_result(), planning_result()
    base["logs"][0]["planners"]["pdm"]["score"] = None
    ((pair,), _, _) = _compare_plan(run, base)
    log = run["logs"][0]["log"]
    rows = {(r["log"], r["planner"], r["metric"]) for r in pair["rows"]}
    assert (log, "pdm", "OLS") not in rows and (log, "pdm", "ADE@1s") in rows
    assert (log, "constant_velocity", "OLS") in rows


def test_a_scenario_map_that_does_not_build_is_none_and_its_error_is_kept() -> None:
    """A scenario config whose map cannot be built: no map (None), the error (naming the
    file and field) kept once for the report, not raised; asked again, not rebuilt."""
    import yaml

    from drivestack.report.scenario_view import MapCache

    config = {**yaml.safe_load(SCENARIO_YAML), "map": {"kind": "nope"}, "source": "x.yaml"}
    cache = MapCache(None)
    assert cache.road_map(config) is None and cache.road_map(config) is None
    (error,) = cache.errors.values()
    assert error.startswith("ConfigError: x.yaml") and "map.kind" in error
