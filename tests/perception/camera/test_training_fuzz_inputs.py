"""Camera-detector training and its tools on bad input (round 2 of the bad-input campaign): an
image too narrow for FCOS's resize, a learning rate that overflows, a run that diverges, a
failed run's output folder."""

from __future__ import annotations

import runpy
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from drivestack.core.errors import DataError
from drivestack.perception.camera.training import TrainSettings, train_detector
from tests.perception.camera.test_detector import SMALL

REPO = Path(__file__).resolve().parents[3]
Main = Callable[[list[str]], int]


def _tool(name: str) -> Main:
    main: Main = runpy.run_path(str(REPO / "tools" / f"{name}.py"), run_name="tool")["main"]
    return main


def _narrow_dataset(root: Path, shape: tuple[int, int, int]) -> Path:
    (root / "image_2").mkdir(parents=True)
    (root / "label_2").mkdir()
    for k in range(2):
        Image.fromarray(np.zeros(shape, np.uint8)).save(root / "image_2" / f"00000{k}.png")
        (root / "label_2" / f"00000{k}.txt").write_text(CAR_IN_THE_CORNER)
    return root


#: KITTI label rows: a Car and a Pedestrian whose 2D boxes are the image's top-left pixel (the
#: training set has each configured class)
CAR_IN_THE_CORNER = "".join(
    f"{name} 0.00 0 0.00 0.00 0.00 1.00 1.00 1.50 1.60 4.00 1.00 1.50 10.00 0.00\n"
    for name in ("Car", "Pedestrian")
)


@pytest.mark.parametrize("shape", [(1, 4000, 3), (4000, 1, 3)])
def test_an_image_too_narrow_for_the_resize_names_the_file(
    tmp_path: Path, shape: tuple[int, int, int]
) -> None:
    data = _narrow_dataset(tmp_path / "data", shape)
    settings = TrainSettings(iterations=1, batch_size=2, checkpoint_every=0)
    with pytest.raises(DataError, match="too narrow for the detector") as info:
        train_detector(SMALL, data, tmp_path / "out", settings, progress=False)
    assert info.value.path == str(data / "image_2" / "000000.png")
    assert info.value.field == "pixels"  # (was a torch RuntimeError from the resize)
    assert not (tmp_path / "out" / "model.pt").exists()


def test_the_tool_leaves_no_folder_after_a_failed_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _narrow_dataset(tmp_path / "data", (1, 4000, 3))
    config = tmp_path / "small.yaml"
    config.write_text(
        "backbone: mobilenet_v3_small\nclasses: [Car, Pedestrian]\nfpn_channels: 32\n"
        "head_convs: 1\nmin_size_px: 96\nmax_size_px: 160\n"
    )
    out = tmp_path / "run"
    argv = ["--data", str(data), "--out", str(out), "--config", str(config)]
    assert _tool("train_camera_detector")([*argv, "--iterations", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "000000.png: field pixels: image of 4000x1 px" in err
    assert not out.exists()


def test_a_learning_rate_above_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="learning_rate must be at most 1, got 1e\\+300"):
        TrainSettings(learning_rate=1e300)  # (torch's float32 step overflowed)
    with pytest.raises(SystemExit) as exit_:
        _tool("train_camera_detector")(["--data", "d", "--out", "o", "--lr", "1e300"])
    assert exit_.value.code == 2
    assert "argument --lr: must be at most 1, got 1e300" in capsys.readouterr().err


def test_a_diverged_run_writes_no_checkpoint(
    synthetic_kitti: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    def nan_step(self: torch.optim.Optimizer, closure: object = None) -> None:
        with torch.no_grad():
            self.param_groups[0]["params"][0].fill_(float("nan"))

    monkeypatch.setattr(torch.optim.AdamW, "step", nan_step)
    settings = TrainSettings(iterations=2, batch_size=2, checkpoint_every=1)
    with pytest.raises(DataError, match="training diverged at iteration 0") as info:
        train_detector(SMALL, synthetic_kitti, tmp_path, settings, progress=False)
    assert info.value.field == "learning_rate"
    assert list(tmp_path.glob("*.pt")) == []  # (NaN weights were saved as model.pt)


def test_predict_names_a_too_narrow_image_and_leaves_no_folder(
    weights: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _narrow_dataset(tmp_path / "data", (1, 4000, 3))
    out = tmp_path / "results"
    argv = ["--weights", str(weights), "--images", str(data), "--out", str(out), "--quiet"]
    assert _tool("predict_camera_detector")(argv) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1 and "000000.png: field pixels: image of 4000x1 px is too narrow" in err
    )
    assert not out.exists()


def test_predict_leaves_no_folder_after_a_damaged_image(
    synthetic_kitti: Path, weights: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(synthetic_kitti, data)
    png = data / "image_2" / "000003.png"
    png.write_bytes(png.read_bytes()[:100])
    out = tmp_path / "results"
    argv = ["--weights", str(weights), "--images", str(data), "--out", str(out), "--quiet"]
    assert _tool("predict_camera_detector")(argv) == 2
    assert "000003.png: cannot decode image" in capsys.readouterr().err
    assert not out.exists()  # (three result files were left behind)


def test_predict_checks_the_output_before_reading_the_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--weights", str(tmp_path / "nope.pt"), "--images", str(tmp_path)]
    assert _tool("predict_camera_detector")([*argv, "--out", "/proc/x/y"]) == 2
    assert "field --out: cannot create /proc/x/y" in capsys.readouterr().err
