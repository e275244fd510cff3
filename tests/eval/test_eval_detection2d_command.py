"""``drivestack eval detection2d`` on KITTI-format folders (hand-computed AP)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main as cli_main

LABEL = "{name} 0.00 0 0.00 {x1} {y1} {x2} {y2} 1.50 1.60 3.90 0.00 1.50 10.00 0.00"


def _write(
    path: Path, rows: list[tuple[str, float, float, float, float]], score: list[float] | None = None
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (name, x1, y1, x2, y2) in enumerate(rows):
        line = LABEL.format(name=name, x1=x1, y1=y1, x2=x2, y2=y2)
        lines.append(line + (f" {score[i]}" if score else ""))
    path.write_text("\n".join(lines) + "\n")


def test_folder_mode_by_hand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels, results = tmp_path / "label_2", tmp_path / "results"
    _write(labels / "000000.txt", [("Car", 0, 0, 100, 50), ("Car", 200, 0, 300, 50)])
    _write(labels / "000001.txt", [("Car", 0, 0, 100, 50), ("Van", 400, 0, 500, 50)])
    # 000000: one exact hit (0.9), one box shifted by 40 px (IoU 60/140 = 0.43: FP at 0.5) (0.8);
    # 000001: an exact hit (0.7), a detection on the Van (ignored) (0.95)
    _write(results / "000000.txt", [("Car", 0, 0, 100, 50), ("Car", 240, 0, 340, 50)], [0.9, 0.8])
    _write(results / "000001.txt", [("Car", 0, 0, 100, 50), ("Car", 400, 0, 500, 50)], [0.7, 0.95])
    out = tmp_path / "out"
    rc = cli_main(
        [
            "eval",
            "detection2d",
            "--labels",
            str(labels),
            "--results",
            str(results),
            "--classes",
            "Car",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())["classes"]["Car"]
    # ranked (ignored dropped): TP .9, FP .8, TP .7 over 3 gt -> AP = 1/3 * 1 + 1/3 * 2/3 = 5/9
    assert metrics["iou_0.5"]["ap"] == pytest.approx(5 / 9)
    assert (metrics["iou_0.5"]["n_gt"], metrics["iou_0.5"]["n_tp"], metrics["iou_0.5"]["n_fp"]) == (
        3,
        2,
        1,
    )
    assert "Car" in capsys.readouterr().out


def test_folder_mode_needs_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "label_2" / "000000.txt", [("Car", 0, 0, 100, 50)])
    rc = cli_main(
        ["eval", "detection2d", "--labels", str(tmp_path / "label_2"), "--out", str(tmp_path / "o")]
    )
    assert rc == 2 and "--labels needs --results" in capsys.readouterr().err


def _strict(text: str) -> dict:  # type: ignore[type-arg]
    """``text`` as strict JSON (a bare NaN / Infinity is an error)."""

    def reject(name: str) -> None:
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=reject)


def test_a_class_without_labels_is_null_not_nan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels, results = tmp_path / "label_2", tmp_path / "results"
    _write(labels / "000000.txt", [("Car", 0, 0, 100, 50)])
    _write(results / "000000.txt", [("Car", 0, 0, 100, 50), ("Pedestrian", 300, 0, 330, 60)], [0.9, 0.5])  # fmt: skip
    out = tmp_path / "out"
    argv = ["eval", "detection2d", "--labels", str(labels), "--results", str(results)]
    assert cli_main([*argv, "--classes", "Car,Pedestrian", "--out", str(out)]) == 0
    metrics = _strict((out / "metrics.json").read_text())["classes"]
    assert metrics["Car"]["iou_0.5"]["ap"] == pytest.approx(1.0)
    ped = metrics["Pedestrian"]["iou_0.5"]
    assert ped["ap"] is None and (ped["n_gt"], ped["n_fp"]) == (0, 1)
    (line,) = [r for r in capsys.readouterr().out.splitlines() if r.startswith("Pedestrian")]
    assert line.split()[1:] == ["n/a", "n/a", "0"]


@pytest.mark.data
def test_kitti_tracking_root_defaults_to_the_shared_data(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["eval", "detection2d", "--split", "val", "--classes", "Car", "--quiet"]
    assert cli_main([*argv, "--out", str(tmp_path / "o")]) == 0
    report = _strict((tmp_path / "o" / "metrics.json").read_text())
    assert report["source"] == str(shared_data / "kitti_tracking")
    assert report["split"] == "val" and report["classes"]["Car"]["iou_0.5"]["n_gt"] > 0
    capsys.readouterr()


def test_without_shared_data_the_error_names_the_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("drivestack.commands._paths.default_shared_data", lambda: None)
    assert cli_main(["eval", "detection2d", "--out", str(tmp_path / "o")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: no --kitti-tracking-root or --labels given")
    missing = tmp_path / "nowhere"
    assert cli_main(["eval", "detection2d", "--kitti-tracking-root", str(missing), "--out", str(tmp_path / "o")]) == 2  # fmt: skip
    (line,) = capsys.readouterr().err.splitlines()
    assert line == f"error: {missing}: field --kitti-tracking-root: no such kitti-tracking folder"
    assert not (tmp_path / "o").exists()


def test_help_names_the_default_dataset_folder(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli_main(["eval", "detection2d", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert exc.value.code == 0
    assert "default without --labels: kitti_tracking under ../shared/data" in text
    assert "drivestack eval detection2d --split val --classes Car,Pedestrian --out" in text


def test_labels_and_kitti_tracking_root_exclude_each_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["eval", "detection2d", "--labels", "a", "--kitti-tracking-root", "b", "--out", "o"]
    with pytest.raises(SystemExit) as exc:
        cli_main(argv)
    assert exc.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def _folder_args(tmp_path: Path, out: Path) -> list[str]:
    labels, results = tmp_path / "label_2", tmp_path / "results"
    _write(labels / "000000.txt", [("Car", 0, 0, 100, 50)])
    _write(results / "000000.txt", [("Car", 0, 0, 100, 50)], [0.9])
    return ["eval", "detection2d", "--labels", str(labels), "--results", str(results),
            "--classes", "Car", "--out", str(out)]  # fmt: skip


def test_out_an_existing_file_fails_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert cli_main(_folder_args(tmp_path, afile)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no AP table computed first
    assert captured.err.strip() == (
        f"error: {afile}: field --out: not a directory (a file of that name exists)"
    )


def test_label_files_are_refused_as_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = tmp_path / "label_2"
    _write(labels / "000000.txt", [("Car", 0, 0, 100, 50)])
    out = tmp_path / "out"
    args = ["eval", "detection2d", "--labels", str(labels), "--results", str(labels),
            "--classes", "Car", "--out", str(out)]  # fmt: skip
    assert cli_main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {labels / '000000.txt'}: line 1: field --results: 15 columns (a label file: "
        "no score): results need 16, the last the detection score"
    )
    assert not out.exists()


def test_table_names_filters_interpolation_and_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from drivestack.core.provenance import git_commit

    out = tmp_path / "out"
    assert cli_main(_folder_args(tmp_path, out)) == 0
    text = capsys.readouterr().out
    assert "height > 25 px, occlusion <= 2, truncation <= 0.5" in text
    assert "all-point interpolation" in text and "in percent" in text
    report = json.loads((out / "metrics.json").read_text())
    assert report["git_commit"] == git_commit() and "command" in report


def test_detections_the_kitti_filter_ignores_are_counted_and_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels, results = tmp_path / "label_2", tmp_path / "results"
    _write(labels / "000000.txt", [("Car", 0, 0, 100, 50), ("DontCare", 300, 0, 400, 50)])
    # one exact hit (0.9), one on the DontCare region (0.8), 600 boxes 10 px high (0.5)
    tiny = [("Car", 500.0 + i % 100, 100.0, 520.0 + i % 100, 110.0) for i in range(600)]
    rows = [("Car", 0.0, 0.0, 100.0, 50.0), ("Car", 300.0, 0.0, 400.0, 50.0), *tiny]
    _write(results / "000000.txt", rows, [0.9, 0.8, *[0.5] * 600])
    out = tmp_path / "out"
    argv = ["eval", "detection2d", "--labels", str(labels), "--results", str(results)]
    assert cli_main([*argv, "--classes", "Car", "--out", str(out)]) == 0
    car = json.loads((out / "metrics.json").read_text())["classes"]["Car"]
    for t in ("0.5", "0.7"):  # the AP and counts as before; the ignored ones counted
        assert car[f"iou_{t}"]["ap"] == pytest.approx(1.0)
        assert (car[f"iou_{t}"]["n_tp"], car[f"iou_{t}"]["n_fp"]) == (1, 0)
        assert (car[f"iou_{t}"]["n_dropped"], car[f"iou_{t}"]["n_ignored"]) == (600, 1)
    text = capsys.readouterr().out
    assert (
        "Car: ignored (neither TP nor FP): 600 detections under 25 px; 1 / 1 at IoU 0.5 / 0.7 "
        "on ignored labels (DontCare, Van, or outside the filter)"
    ) in text
