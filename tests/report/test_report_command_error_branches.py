"""Error and edge branches of the report package and of the commands (cli, eval detection2d,
eval tracking, replay, convert_log, the fleet index and manifest) that no other test ran:
bad input is a clear error naming the file, record and field (or a report problem), never a
Python traceback nor a message that names nothing."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.commands import eval_tracking, replay
from drivestack.commands.convert_log import _convert
from drivestack.core.atomic import partial_path
from drivestack.core.errors import DataError
from drivestack.exec import fleet as exec_fleet
from drivestack.report import (
    build,
    collect,
    detection,
    planning,
    plots,
    prediction,
    scenario_view,
    sweep,
    tracking,
)
from tests.eval.test_eval_detection2d_args import LABEL, error_line
from tests.report.test_prediction_planning import _folder, planning_result, prediction_result

REPO = Path(__file__).resolve().parents[2]


# --- drivestack (cli) -----------------------------------------------------------------------


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    """``drivestack --version`` prints the version and exits 0."""
    from drivestack import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == __version__


# --- eval detection2d (folder mode) ---------------------------------------------------------


def _d2d(tmp_path: Path, labels: Path, results: Path) -> int:
    out = str(tmp_path / "out")
    return main(["eval", "detection2d", "--labels", str(labels), "--results", str(results),
                 "--out", out, "--quiet"])  # fmt: skip


def _d2d_folders(tmp_path: Path) -> tuple[Path, Path]:
    labels, results = tmp_path / "label_2", tmp_path / "results"
    labels.mkdir()
    results.mkdir()
    (labels / "000000.txt").write_text(LABEL + "\n")
    return labels, results


def test_detection2d_labels_folder_missing_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --labels folder that does not exist: exit 2, naming the path and --labels."""
    _, results = _d2d_folders(tmp_path)
    assert _d2d(tmp_path, tmp_path / "nope", results) == 2
    line = error_line(capsys)
    assert str(tmp_path / "nope") in line and "--labels" in line


def test_detection2d_no_label_files_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --labels folder without *.txt files scores nothing: exit 2 naming the folder."""
    labels, results = _d2d_folders(tmp_path)
    (labels / "000000.txt").unlink()
    (results / "000000.txt").write_text(LABEL + " 0.9\n")
    assert _d2d(tmp_path, labels, results) == 2
    line = error_line(capsys)
    assert str(labels) in line and "no label files" in line


def test_detection2d_blank_lines_before_the_first_result_are_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Blank lines of a result file are not a row: the 16-column row after them scores."""
    labels, results = _d2d_folders(tmp_path)
    (results / "000000.txt").write_text("\n  \n" + LABEL + " 0.9\n")
    assert _d2d(tmp_path, labels, results) == 0
    data = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert "Car" in json.dumps(data)


def test_detection2d_label_file_as_results_names_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 15-column (label) file given as results, after a blank line: its line 2 is named."""
    labels, results = _d2d_folders(tmp_path)
    (results / "000000.txt").write_text("\n" + LABEL + "\n")
    assert _d2d(tmp_path, labels, results) == 2
    line = error_line(capsys)
    assert "000000.txt" in line and "line 2" in line and "15 columns" in line


def test_detection2d_result_file_not_utf8_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A result file that is not UTF-8 text: exit 2 with an error naming the file, the line
    and the byte (it printed a bare codec message)."""
    labels, results = _d2d_folders(tmp_path)
    (results / "000000.txt").write_bytes(b"\xff\xfe Car 0 0\n")
    assert _d2d(tmp_path, labels, results) == 2
    line = error_line(capsys)
    assert str(results / "000000.txt") in line
    assert "line 1" in line and "not UTF-8 text (invalid start byte at byte 0)" in line


# --- eval tracking / replay / convert_log helpers ---------------------------------------------


@pytest.mark.parametrize("text", ["", " , ,"])
def test_tracking_classes_none_given(text: str) -> None:
    """--classes naming no class is a DataError on --classes."""
    with pytest.raises(DataError, match="no class") as info:
        eval_tracking._classes(text)
    assert info.value.field == "--classes"


def test_tracking_config_without_the_class_names_file_and_field() -> None:
    """A tracker config without parameters for a tracked class names the file and field."""
    path = REPO / "configs" / "tracking" / "kitti_pointrcnn_ab3dmot_settings.yaml"
    with pytest.raises(DataError, match="no tracker parameters for class Truck") as info:
        eval_tracking._tracker_config(path, ["Car", "Truck"])
    assert info.value.path == str(path) and info.value.field == "classes.truck"


def test_replay_blank_ego_frame_is_refused() -> None:
    """--ego-frame of blanks is a DataError on --ego-frame (not an empty TF frame id)."""
    args = argparse.Namespace(ego_frame="  ", ingest_config=None)
    with pytest.raises(DataError, match="empty frame id") as info:
        replay._rosbag_config(args)
    assert info.value.field == "--ego-frame"


def test_replay_bag_options_on_an_unreadable_mcap_are_left_to_the_replay(tmp_path: Path) -> None:
    """--ego-frame with a .mcap that is no MCAP: the option check passes it on (the replay's
    own reader names the file), it does not raise."""
    log = tmp_path / "x.mcap"
    log.write_bytes(b"not an mcap file")
    args = argparse.Namespace(ego_frame="base_link", ingest_config=None, log=str(log))
    replay._check_bag_options(args)  # no DataError


def test_convert_refuses_a_folder_where_the_partial_log_goes(tmp_path: Path) -> None:
    """A folder named like the partial log: DataError on --out naming it, nothing written."""
    out = tmp_path / "log.mcap"
    partial_path(out).mkdir()

    def write(path: Path) -> None:
        raise AssertionError("must not be called")

    with pytest.raises(DataError, match="is a folder") as info:
        _convert(out, "test", write)  # type: ignore[arg-type]
    assert info.value.field == "--out" and str(partial_path(out)) in str(info.value)
    assert not out.exists()


# --- the fleet's index and manifest -----------------------------------------------------------


def test_fleet_index_bad_lines_are_named_and_skipped(tmp_path: Path) -> None:
    """Each bad index line (cut, not a record, non-string variant, not UTF-8) is a problem
    naming the file and line; blank lines are skipped silently; good records are kept."""
    index = tmp_path / "index.jsonl"
    index.write_bytes(
        b'{"variant": "a\\q\n'  # cut, with a bad escape in its variant id
        b"\n"
        b"[1, 2]\n"
        b'{"variant": "b"}\n'
        b'{"variant": 3, "status": "ok"}\n'
        b"\xff\xfe\n"
        b'{"variant": "v1", "status": "ok"}\n'
    )
    records, problems = exec_fleet._index_lines(index)
    assert records == [(7, {"variant": "v1", "status": "ok"})]
    assert len(problems) == 5 and all(p.startswith(f"{index}: line ") for p in problems)
    assert "line 1: not JSON" in problems[0]
    assert "line 3: not a fleet record" in problems[1]
    assert "line 4: not a fleet record" in problems[2]
    assert "line 5: field variant: not a string" in problems[3]
    assert "line 6: not UTF-8" in problems[4]


def test_fleet_manifest_not_utf8_is_a_data_error(tmp_path: Path) -> None:
    """A fleet.json that is not UTF-8: DataError naming the file."""
    path = tmp_path / exec_fleet.MANIFEST_NAME
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(DataError, match="not UTF-8") as info:
        exec_fleet._check_manifest(tmp_path, {})
    assert info.value.path == str(path)


def test_fleet_manifest_old_single_filter_is_kept() -> None:
    """An older manifest's ``filter`` counts as one of ``filters`` (non-text entries dropped)."""
    manifest = {"filter": "new"}
    exec_fleet._merge_manifest(manifest, {"filter": "old", "filters": ["y", 3]})
    assert manifest == {"filters": ["new", "old", "y"]}


# --- report: build ----------------------------------------------------------------------------


def test_report_published_file_missing_is_a_problem(tmp_path: Path) -> None:
    """A --published file that cannot be read is a report problem naming it, not a failure."""
    _folder(tmp_path / "run", prediction_result())
    missing = tmp_path / "nope.md"
    report = build.build_report(tmp_path / "run", published=missing)
    assert any(str(missing) in p and "cannot read" in p for p in report.data["problems"])


def test_report_published_file_not_utf8_is_a_problem(tmp_path: Path) -> None:
    """A --published file that is not UTF-8 is a report problem naming it and the byte (a
    UnicodeDecodeError escaped as a traceback)."""
    _folder(tmp_path / "run", prediction_result())
    published = tmp_path / "published.md"
    published.write_bytes(b"## A. \xff\n")
    report = build.build_report(tmp_path / "run", published=published)
    assert (
        f"{published}: cannot read published results: not UTF-8 text (invalid start byte at byte 6)"
        in report.data["problems"]
    )


def test_sweep_text_shows_a_non_mapping_entry() -> None:
    """A fleet.json sweep entry that is not an object is shown as it is, not dropped."""
    params = [3, {"key": "k", "low": 1, "high": 2}, {"key": "v", "values": [1, 2]}]
    assert build._sweep_text(params) == "3 k=1:2 v=1,2"


def test_sweep_text_shows_a_range_with_a_missing_or_text_bound_as_it_is() -> None:
    """A sweep range whose high bound is missing, null or text (a damaged fleet.json) is shown
    as its entry, not a TypeError stopping the report."""
    damaged = [{"key": "a", "low": 1}, {"key": "b", "low": 1, "high": "x"}]
    assert (
        build._sweep_text(damaged) == "{'key': 'a', 'low': 1} {'key': 'b', 'low': 1, 'high': 'x'}"
    )


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ([1], "pr_curves"),
        ({"recall_positions": [0, 1], "curves": []}, "pr_curves.curves"),
        ({"recall_positions": [0, 1], "curves": {"Car": 1}}, "pr_curves.curves.Car"),
        ({"recall_positions": [0, 1], "curves": {"Car": {"3d": 1}}}, "pr_curves.curves.Car.3d"),
        (
            {"recall_positions": [0, 1], "curves": {"Car": {"3d": {"strict": 1}}}},
            "pr_curves.curves.Car.3d.strict",
        ),
    ],
)
def test_pr_curves_malformed_names_the_field(value: object, field: str) -> None:
    """Each level of a malformed ``pr_curves`` is a ValueError naming that field."""
    with pytest.raises(ValueError, match=re.escape(f"field {field}: expected an object")):
        build.pr_curves(value)


# --- report: collect --------------------------------------------------------------------------


def test_load_run_missing_folder() -> None:
    """A run folder that does not exist is FileNotFoundError naming it."""
    with pytest.raises(FileNotFoundError, match="run folder not found"):
        collect.load_run(Path("/nonexistent/run"))


def test_corrupt_replay_summary_is_a_problem(tmp_path: Path) -> None:
    """A ``*.summary.json`` that does not parse is a problem naming it; the run still loads."""
    _folder(tmp_path, prediction_result())
    (tmp_path / "x.summary.json").write_text("{bad")
    run = collect.load_run(tmp_path)
    assert any("x.summary.json: corrupt replay summary" in p for p in run.problems)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ([1], "expected a JSON object"),
        ({"score": 1.0, "passed": True, "ncap": {"avoided": "yes"}}, "field ncap.avoided"),
    ],
)
def test_scenario_metrics_malformed_is_a_corrupt_row(
    tmp_path: Path, data: object, why: str
) -> None:
    """A scenario metrics.json that is no object, or a non-boolean ``ncap.avoided``: a
    ``corrupt`` row whose error names the file and the field."""
    path = tmp_path / "s" / "metrics.json"
    path.parent.mkdir()
    path.write_text(json.dumps(data))
    row, config = collect.row_from_metrics(path, "pdm/s", None)
    assert row.status == "corrupt" and config is None
    assert str(path) in (row.error or "") and why in (row.error or "")


def test_fields_of_a_non_object() -> None:
    """A metrics.json that is no object is described by its JSON type."""
    assert collect._fields([1]) == "a JSON list, not an object"


# --- report: detection, prediction, planning --------------------------------------------------


@pytest.mark.parametrize(("text", "shown"), [("far", "far"), ("2.0", "2 m"), ("inf", "inf")])
def test_distance_threshold_shown(text: str, shown: str) -> None:
    """A distance threshold reads as metres; a non-number or non-finite one is shown as is."""
    assert detection._distance(text) == shown


def test_detection_other_protocol_not_comparable() -> None:
    """Two detection results of one dataset but other protocols are not comparable."""
    run = {"dataset": "kitti", "metrics": {"protocol": "a"}}
    base = {"dataset": "kitti", "metrics": {"protocol": "b"}}
    assert detection.not_comparable(run, base) == "their protocols differ"


def test_detection_frame_counts_and_roots_differ_warns() -> None:
    """Other frame counts (no frame lists) and other data folders are both named."""
    warning = detection.frames_warning(
        {"num_frames": 3, "root": "/a"}, {"num_frames": 5, "root": "/b"}, Path("r"), Path("b")
    )
    assert "3 frames against 5" in warning and "data folders /a and /b" in warning


@pytest.mark.parametrize("modes", [0, True, 1.5])
def test_prediction_modes_not_a_whole_number(modes: object) -> None:
    """A model's ``modes`` that is not a whole number >= 1 is a ValueError naming it."""
    data = prediction_result()
    data["modes"]["constant_velocity"] = modes
    with pytest.raises(ValueError, match=r"field modes\.constant_velocity: expected a whole"):
        prediction.read_prediction(data)


def test_prediction_no_checkpoints() -> None:
    """An empty ``checkpoints_s`` is a ValueError naming it."""
    data = prediction_result()
    data["checkpoints_s"] = []
    with pytest.raises(ValueError, match="field checkpoints_s: expected at least one"):
        prediction.read_prediction(data)


def test_prediction_learned_model_record_is_read() -> None:
    """A learned model's record gives its checkpoint, config and training provenance."""
    data = prediction_result()
    data["model_records"] = {
        "lane_branches": {
            "checkpoint": "ck.pt",
            "config": {"a": 1},
            "provenance": {"split": "train", "unrelated": 1},
        }
    }
    models = {m["name"]: m for m in prediction.read_prediction(data)["models"]}
    learned = models["lane_branches"]
    assert learned["checkpoint"] == "ck.pt" and learned["config"] == {"a": 1}
    assert learned["trained_on"] == {"split": "train"}
    assert "checkpoint" not in models["constant_velocity"]


def test_planning_heading_and_displacement_lengths_differ() -> None:
    """An instant whose heading errors and displacements differ in length names the field."""
    data = planning_result()
    data["logs"][0]["planners"]["pdm"]["instants"][0]["heading_error_rad"] = [0.1]
    with pytest.raises(ValueError, match=r"instants\.0\.heading_error_rad: 1 values against 2"):
        planning.read_planning(data)


def test_planning_no_horizons() -> None:
    """An empty ``settings.horizons_s`` is a ValueError naming it."""
    with pytest.raises(ValueError, match=r"field settings\.horizons_s: expected at least one"):
        planning.read_planning(planning_result(horizons_s=[]))


def test_planning_other_dataset_is_a_difference() -> None:
    """Another dataset is a setting difference naming both."""
    other = planning_result()
    other["dataset"] = "nuplan"
    mine, theirs = planning.read_planning(planning_result()), planning.read_planning(other)
    assert planning.settings_differences(mine, theirs) == [
        "dataset av2 here, nuplan in the baseline"
    ]


# --- report: plots, sweep, tracking, scenario view --------------------------------------------


def test_decimate_keeps_an_all_nan_bucket_as_a_gap() -> None:
    """A bucket all NaN keeps one NaN sample, so the gap is still drawn."""
    t = np.arange(10.0)
    y = np.array([np.nan] * 4 + [1, 2, 3, 4, 5, 6.0])
    t2, y2 = plots.decimate_minmax(t, y, 4)
    assert t2[0] == 0.0 and np.isnan(y2[0])
    assert np.nanmin(y2) == 1.0 and np.nanmax(y2) == 6.0


def test_heatmap_without_both_parameters_is_none() -> None:
    """No row sets both parameters: no heatmap."""
    assert sweep.heatmap([], "a", "b") is None


def test_sweep_spans_skip_an_entry_without_a_text_key() -> None:
    """A sweep entry whose key is not text is skipped; the others keep their ranges."""
    manifest = {"sweep": {"params": [{"key": 3, "low": 0, "high": 1}, {"key": "k", "low": 0,
                                                                       "high": 2}]}}  # fmt: skip
    assert sweep.sweep_spans(manifest, "fleet") == {"k": (0.0, 2.0)}


def test_label_part_that_is_no_number_does_not_name_a_number() -> None:
    """A label part ``speed=fast`` does not name the value 60 (no ValueError)."""
    assert sweep._names([("speed", "fast")], "ego.speed", 60) is False


def test_tracking_threshold_null_names_the_field() -> None:
    """A null ``min_overlap`` is a ValueError naming ``metrics.<block>.protocol.min_overlap``."""
    with pytest.raises(ValueError, match=r"field metrics\.iou_x\.protocol\.min_overlap: .*null"):
        tracking._threshold(None, "iou_x")


def test_scored_span_without_split() -> None:
    """Without a split, the frame range alone (or None when there is none)."""
    assert tracking.scored_span({"frames": {"first": 74, "last": 153}}) == "frames 74-153"
    assert tracking.scored_span({}) is None


def test_section_of_year_skips_undated_headings() -> None:
    """A heading with no year covers no year; a year no heading covers gives None."""
    published = tracking.Published(sections={"A": "no dates", "B": "since Feb 2022"})
    assert published.section_of_year(2023) == "B"
    assert published.section_of_year(2019) is None


@pytest.mark.parametrize("content", [b"PK\x03\x04garbage", b""])
def test_damaged_history_names_the_file(tmp_path: Path, content: bytes) -> None:
    """A damaged or empty history.npz is a DataError naming the file."""
    path = tmp_path / "history.npz"
    path.write_bytes(content)
    with pytest.raises(DataError, match="cannot read") as info:
        scenario_view.load_history(path)
    assert info.value.path == str(path)
