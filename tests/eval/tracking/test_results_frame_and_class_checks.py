"""Tracking result files: a row whose frame is beyond its sequence's seqmap frames is an
error naming file, line and field (the devkit never visits such a frame); rows of another
class inside a class's folder are not scored and are said (a warning, counted in the
metrics.json notes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from drivestack.cli import main

pytestmark = pytest.mark.data


def _copy_car(shared_data: Path, tmp_path: Path) -> Path:
    reference = shared_data / "kitti_tracking" / "reference_outputs" / "ab3dmot_2020"
    results = tmp_path / "res"
    (results / "Car").mkdir(parents=True)
    shutil.copy(reference / "Car" / "0001.txt", results / "Car" / "0001.txt")
    return results


def _eval(shared_data: Path, results: Path, out: Path) -> int:
    return main(
        ["eval", "tracking", "--kitti-root", str(shared_data / "kitti_tracking"), "--quiet",
         "--classes", "Car", "--sequences", "0001", "--results", str(results), "--out", str(out)]
    )  # fmt: skip


def _edit_line(path: Path, line_no: int, column: int, value: str) -> None:
    lines = path.read_text().splitlines()
    fields = lines[line_no - 1].split()
    fields[column] = value
    lines[line_no - 1] = " ".join(fields)
    path.write_text("\n".join(lines) + "\n")


def test_frame_beyond_the_sequence_is_an_error(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _copy_car(shared_data, tmp_path)
    path = results / "Car" / "0001.txt"
    _edit_line(path, 5, 0, "5000")
    out = tmp_path / "out"
    assert _eval(shared_data, results, out) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {path}: line 5: field frame: frame 5000 beyond the sequence's 447 frames"
    )
    assert not out.exists()
    _edit_line(path, 5, 0, "446")  # the last frame is fine
    assert _eval(shared_data, results, out) == 0


def test_rows_of_another_class_in_a_class_folder_are_said(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _copy_car(shared_data, tmp_path)
    path = results / "Car" / "0001.txt"
    _edit_line(path, 5, 2, "Pedestrian")
    out = tmp_path / "out"
    assert _eval(shared_data, results, out) == 0
    captured = capsys.readouterr()
    note = f"{path}: 1 row(s) of another class (Pedestrian) in the Car folder: not scored"
    assert f"warning: {note}" in captured.err
    assert note in json.loads((out / "metrics.json").read_text())["notes"]


def test_van_rows_in_the_car_folder_are_said_to_be_scored_by_the_neighbour_rule(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # every row relabelled Van: the notes said "no Car row ... scored as no tracks (sAMOTA
    # 0)" and "rows of another class (Van) ... not scored" beside sAMOTA 94.02 and FP 0
    results = _copy_car(shared_data, tmp_path)
    path = results / "Car" / "0001.txt"
    path.write_text(path.read_text().replace(" Car ", " Van "))
    assert _eval(shared_data, results, tmp_path / "out") == 0
    notes = json.loads((tmp_path / "out" / "metrics.json").read_text())["notes"]
    assert not any("scored as no tracks" in n or "not scored" in n for n in notes)
    assert any("Van row(s): scored by the devkit's neighbouring-class rule" in n for n in notes)
    assert any(
        "Van row(s) in the Car folder: scored by the devkit's neighbouring" in n for n in notes
    )
    # CLEAR figures by the devkit's rule (matched Van rows are true positives); HOTA as
    # TrackEval, which loads only the evaluated class's rows (it read 73.76 here, 0 there)
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())["metrics"]
    car = metrics["iou_0.25"]["classes"]["Car"]
    assert car["clear"]["sAMOTA"] > 0.9 and car["clear"]["best"]["FP"] == 0
    assert car["hota"]["HOTA"] == 0.0 and max(car["hota"]["per_alpha"]["HOTA_FP"]) == 0


def test_a_class_without_labels_has_null_rates_in_metrics_json(
    shared_data: Path, tmp_path: Path
) -> None:
    # the table printed n/a and the note said "stored as null", while metrics.json held
    # sAMOTA 0.0, HOTA 0.0, LocA 1.0 and MT 0.0 (a script averaging classes took them)
    reference = shared_data / "kitti_tracking" / "reference_outputs" / "ab3dmot_2020"
    argv = ["eval", "tracking", "--kitti-root", str(shared_data / "kitti_tracking"), "--quiet"]
    argv += ["--classes", "Cyclist", "--sequences", "0006", "--results", str(reference)]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 0
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())["metrics"]
    cyclist = metrics["iou_0.25"]["classes"]["Cyclist"]
    assert cyclist["clear"]["best"]["n_gt"] == 0 and cyclist["clear"]["best"]["FP"] > 0
    assert cyclist["clear"]["sAMOTA"] is None and cyclist["clear"]["best"]["MT"] is None
    assert cyclist["hota"]["HOTA"] is None and cyclist["hota"]["LocA"] is None
    assert all(row["sMOTA"] is None for row in cyclist["clear"]["per_threshold"])


def test_rows_without_image_boxes_are_said_to_lose_their_false_positives(
    shared_data: Path, tmp_path: Path
) -> None:
    # -1 -1 -1 -1 image boxes: FP 185 -> 0, sAMOTA 90.00 -> 94.02, MOTA 83.67 -> 93.13, silently
    results = _copy_car(shared_data, tmp_path)
    path = results / "Car" / "0001.txt"
    rows = [line.split() for line in path.read_text().splitlines()]
    for row in rows:
        row[6:10] = ["-1", "-1", "-1", "-1"]
    path.write_text("\n".join(" ".join(row) for row in rows) + "\n")
    assert _eval(shared_data, results, tmp_path / "out") == 0
    notes = json.loads((tmp_path / "out" / "metrics.json").read_text())["notes"]
    said = [n for n in notes if "have no image box" in n]
    assert len(said) == 1 and said[0].startswith(f"{path}: {len(rows)} of {len(rows)} Car row(s)")
    good = _copy_car(shared_data, tmp_path / "good")
    assert _eval(shared_data, good, tmp_path / "out_good") == 0
    notes = json.loads((tmp_path / "out_good" / "metrics.json").read_text()).get("notes", [])
    assert not [n for n in notes if "have no image box" in n]


def test_rows_in_the_lidar_frame_are_said_to_be_far_from_every_label(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # boxes written in the LiDAR frame (x forward, y left, z up) rather than camera_rect
    # scored as all false positives (sAMOTA 0) without a word
    results = _copy_car(shared_data, tmp_path)
    path = results / "Car" / "0001.txt"
    assert _eval(shared_data, results, tmp_path / "as_given") == 0
    assert "far" not in capsys.readouterr().err  # AB3DMOT's own rows: no note
    lines = []
    for line in path.read_text().splitlines():
        f = line.split()
        x, y, z = (float(v) for v in f[13:16])
        f[13:16] = [f"{z:.4f}", f"{-x:.4f}", f"{-y:.4f}"]
        lines.append(" ".join(f))
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert _eval(shared_data, results, out) == 0
    err = capsys.readouterr().err
    notes = json.loads((out / "metrics.json").read_text())["notes"]
    [note] = [n for n in notes if "from every Car label" in n]
    assert note.startswith(f"{path}: ")
    assert "more than 5 m (bird's-eye centres, camera_rect x / z)" in note
    assert "rectified camera frame" in note
    assert f"warning: {note}" in err


def test_rows_one_frame_late_are_said(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # frames numbered from 1 scored sAMOTA 78.50 instead of 93.28 (AB3DMOT's val Car files)
    # without a word: the far-from-labels check cannot see a one-frame offset
    results = _copy_car(shared_data, tmp_path)
    assert _eval(shared_data, results, tmp_path / "as_given") == 0
    assert "frame before theirs" not in capsys.readouterr().err  # AB3DMOT's own frames
    path = results / "Car" / "0001.txt"
    lines = []
    for line in path.read_text().splitlines():
        f = line.split()
        if int(f[0]) + 1 < 447:  # (a row past the sequence would be refused)
            f[0] = str(int(f[0]) + 1)
            lines.append(" ".join(f))
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert _eval(shared_data, results, out) == 0
    notes = json.loads((out / "metrics.json").read_text())["notes"]
    [note] = [n for n in notes if "frame before theirs" in n]
    assert note.startswith(f"{results / 'Car'}: Car rows lie on the labels of the frame before")
    assert "are the frames numbered from 1? (KITTI numbers them from 0)" in note
    assert f"warning: {note}" in capsys.readouterr().err


def test_far_rows_of_one_class_beside_a_class_that_matches_are_false_positives(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a replay whose detector found no true pedestrian in 0001: its Pedestrian rows were all
    # far from the labels and were said to be in the wrong coordinate frame, while its Car rows
    # (same writer, same frame) matched theirs. A wrong frame moves every class one writer wrote
    results = _copy_car(shared_data, tmp_path)
    (results / "Pedestrian").mkdir()
    car_lines = (results / "Car" / "0001.txt").read_text().splitlines()
    lines = []
    for line in car_lines:
        f = line.split()
        f[2], f[13] = "Pedestrian", f"{float(f[13]) + 30.0:.4f}"  # 30 m to the side
        lines.append(" ".join(f))
    (results / "Pedestrian" / "0001.txt").write_text("\n".join(lines) + "\n")
    argv = ["eval", "tracking", "--kitti-root", str(shared_data / "kitti_tracking"), "--quiet",
            "--sequences", "0001", "--classes", "Car,Pedestrian"]  # fmt: skip
    said = "Pedestrian row(s) in labelled frames are more than 5 m"

    def noted(results_dir: Path, out: str) -> bool:
        assert main([*argv, "--results", str(results_dir), "--out", str(tmp_path / out)]) == 0
        return said in capsys.readouterr().err

    # per-class files from anywhere may come from different tools: the note stays
    assert noted(results, "folders")
    # a drivestack replay wrote both classes' files (its manifest): false positives, no note
    (results / "kitti_results.json").write_text("{}")
    assert not noted(results, "replay")
    # one file per sequence holds both classes: no note either
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "0001.txt").write_text("\n".join(car_lines + lines) + "\n")
    assert not noted(flat, "flat")
    # Pedestrian alone: nothing says the frame is right, the note stays
    argv[argv.index("Car,Pedestrian")] = "Pedestrian"
    assert noted(flat, "alone")
