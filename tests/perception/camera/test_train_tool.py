"""tools/train_camera_detector.py end to end on the generated dataset (run in-process)."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

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
