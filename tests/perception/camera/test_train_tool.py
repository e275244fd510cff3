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
