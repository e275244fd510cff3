"""tools/train_camera_detector.py end to end on the generated dataset (run in-process)."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_training_script_runs_end_to_end(
    synthetic_kitti: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main = runpy.run_path(str(REPO / "tools" / "train_camera_detector.py"), run_name="tool")["main"]
    config = tmp_path / "small.yaml"
    config.write_text(
        "backbone: mobilenet_v3_small\nclasses: [Car, Pedestrian]\nfpn_channels: 32\n"
        "head_convs: 1\nmin_size_px: 96\nmax_size_px: 160\n"
    )
    out = tmp_path / "run"
    args = ["--out", str(out), "--config", str(config), "--iterations", "2", "--batch-size", "2"]
    assert main(["--data", str(synthetic_kitti), *args, "--checkpoint-every", "1"]) == 0
    assert "train camera detector" in capsys.readouterr().err  # the tqdm bar
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["iterations"] == 2
    assert sorted(p.name for p in out.glob("*.pt")) == [
        "checkpoint_000001.pt",
        "checkpoint_000002.pt",
        "model.pt",
    ]
    assert main(["--data", str(tmp_path / "nowhere"), *args]) == 2
    assert "nowhere: expected a KITTI layout" in capsys.readouterr().err
    config.write_text("backbone: resnet50\n")
    assert main(["--data", str(synthetic_kitti), *args]) == 2
    assert "small.yaml: field backbone" in capsys.readouterr().err


def _tool() -> Any:
    return runpy.run_path(str(REPO / "tools" / "train_camera_detector.py"), run_name="tool")["main"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--iterations", "0", "must be at least 1, got 0"),
        ("--iterations", "-3", "must be at least 1, got -3"),
        ("--iterations", "2.5", "not an integer: '2.5'"),
        ("--batch-size", "0", "must be at least 1, got 0"),
        ("--lr", "-1", "must be a finite number > 0, got -1"),
        ("--lr", "0", "must be a finite number > 0, got 0"),
        ("--lr", "nan", "must be a finite number > 0, got nan"),
        ("--lr", "fast", "not a number: 'fast'"),
        ("--seed", "-1", "must be at least 0, got -1"),
        ("--checkpoint-every", "-2", "must be at least 0, got -2"),
    ],
)
def test_bad_numbers_are_one_line_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_:
        _tool()(["--data", str(tmp_path), "--out", str(out), f"{option}={value}"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: {message}" in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].endswith(f"error: argument {option}: {message}")
    assert not out.exists()


def test_help_says_training_runs_on_the_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        _tool()(["--help"])
    assert exit_.value.code == 0
    assert "Training runs on the CPU" in capsys.readouterr().out


@pytest.mark.slow
def test_resume_through_the_tool_counts_iterations_as_the_total(
    synthetic_kitti: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main = _tool()
    config = tmp_path / "small.yaml"
    config.write_text(
        "backbone: mobilenet_v3_small\nclasses: [Car, Pedestrian]\nfpn_channels: 32\n"
        "head_convs: 1\nmin_size_px: 96\nmax_size_px: 160\n"
    )
    common = ["--data", str(synthetic_kitti), "--config", str(config), "--batch-size", "1"]
    first = tmp_path / "first"
    args = [*common, "--iterations", "2", "--checkpoint-every", "1", "--quiet"]
    assert main([*args, "--out", str(first)]) == 0
    capsys.readouterr()
    second = tmp_path / "second"
    resume = ["--resume", str(first / "checkpoint_000001.pt")]
    assert main([*args, "--out", str(second), *resume]) == 0
    summary = json.loads((second / "train_summary.json").read_text())
    assert summary["iterations"] == 2 and summary["start_iteration"] == 1
    assert (
        summary["first_loss"] == json.loads((first / "train_summary.json").read_text())["last_loss"]
    )
    assert sorted(p.name for p in second.glob("*.pt")) == ["checkpoint_000002.pt", "model.pt"]
    capsys.readouterr()
    third = tmp_path / "third"
    assert main([*common, "--iterations", "2", "--lr", "0.01", "--out", str(third), *resume]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "learning_rate is 0.001 in the checkpoint but 0.01 given" in err
    assert not third.exists()


def test_a_too_small_single_image_batch_is_one_line(
    synthetic_kitti: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text("classes: [Car, Pedestrian]\nmin_size_px: 64\nmax_size_px: 96\n")
    argv = ["--data", str(synthetic_kitti), "--config", str(config), "--batch-size", "1"]
    out = tmp_path / "run"
    assert _tool()([*argv, "--iterations", "1", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "1x1 px coarsest feature map" in err
    assert not (out / "model.pt").exists()


@pytest.mark.slow
def test_an_earlier_run_in_out_is_kept_continued_or_replaced_as_asked(
    synthetic_kitti: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: a second run into the same --out exited 0 leaving its model.pt beside the first
    run's later checkpoints (a mix of two runs), and a resume took other data under the same
    file names."""
    import shutil

    main = _tool()
    config = tmp_path / "small.yaml"
    config.write_text(
        "backbone: mobilenet_v3_small\nclasses: [Car, Pedestrian]\nfpn_channels: 32\n"
        "head_convs: 1\nmin_size_px: 96\nmax_size_px: 160\n"
    )
    out = tmp_path / "run"
    common = ["--data", str(synthetic_kitti), "--config", str(config), "--batch-size", "1"]
    args = [*common, "--checkpoint-every", "1", "--quiet", "--out", str(out)]
    assert main([*args, "--iterations", "3"]) == 0
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["class_counts"]["Car"] > 0 and summary["class_counts"]["Pedestrian"] > 0
    capsys.readouterr()
    assert main([*args, "--iterations", "2", "--seed", "7"]) == 2
    assert "holds an earlier run's outputs (checkpoint_000001.pt, " in capsys.readouterr().err
    # --overwrite removes the earlier run only once the new one's checks passed: a resume
    # refused for its settings leaves it (was: runA emptied, then exit 2)
    bad_resume = ["--resume", str(out / "checkpoint_000001.pt"), "--seed", "9", "--overwrite"]
    assert (
        main([*args, "--iterations", "3", *bad_resume, "--out", str(tmp_path / "elsewhere")]) == 2
    )
    capsys.readouterr()
    other_out = [a if a != str(out) else str(tmp_path / "copy") for a in args]
    shutil.copytree(out, tmp_path / "copy")
    resume_elsewhere = ["--resume", str(out / "checkpoint_000001.pt"), "--seed", "9"]
    assert main([*other_out, "--iterations", "3", *resume_elsewhere, "--overwrite"]) == 2
    assert "seed is 0 in the checkpoint but 9 given" in capsys.readouterr().err
    assert (tmp_path / "copy" / "model.pt").is_file()  # kept
    assert main([*args, "--iterations", "2", "--seed", "7", "--overwrite"]) == 0
    assert sorted(p.name for p in out.glob("*.pt")) == [
        "checkpoint_000001.pt",
        "checkpoint_000002.pt",
        "model.pt",
    ]
    # a resume of --out's own checkpoint continues that run there
    resume = ["--resume", str(out / "checkpoint_000001.pt"), "--seed", "7"]
    assert main([*args, "--iterations", "3", *resume]) == 0
    # the same names, other label contents: not the data the checkpoint was trained on
    other = tmp_path / "other"
    shutil.copytree(synthetic_kitti, other)
    label = sorted(other.glob("**/label_2/*.txt"))[0]
    label.write_text(label.read_text().replace("Car", "Van", 1))
    capsys.readouterr()
    moved = [a if a != str(synthetic_kitti) else str(other) for a in args]
    assert main([*moved, "--iterations", "4", *resume[:2], "--seed", "7"]) == 2
    assert "the data are '" in capsys.readouterr().err


def test_data_without_the_configured_classes_is_refused(
    synthetic_kitti: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "trucks.yaml"
    config.write_text("classes: [Truck]\nmin_size_px: 96\nmax_size_px: 160\n")
    argv = ["--data", str(synthetic_kitti), "--config", str(config), "--out", str(tmp_path / "r")]
    assert _tool()([*argv, "--iterations", "1", "--quiet"]) == 2
    assert "no labelled object of the detector's classes ['Truck']" in capsys.readouterr().err
