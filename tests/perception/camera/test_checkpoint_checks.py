"""Checkpoint and training-data checks: non-finite weights, a missing config, another resize,
images without labels (each a review finding)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from drivestack.core.errors import DataError
from drivestack.perception.camera.detector import (
    TorchCameraDetector,
    build_fcos,
    read_checkpoint_config,
    save_checkpoint,
)
from drivestack.perception.camera.training import KittiImageDataset
from tests.perception.camera.test_detector import SMALL

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_fcos(SMALL)


def test_nan_weights_are_refused_naming_the_first_tensor(
    model: torch.nn.Module, tmp_path: Path
) -> None:
    state = {k: v.clone() for k, v in model.state_dict().items()}
    floats = [k for k, v in state.items() if v.is_floating_point()]
    first, later = floats[3], floats[-1]  # the order of the model's own state dict
    state[first].view(-1)[0] = float("nan")
    state[later].view(-1)[-1] = float("inf")
    path = tmp_path / "nan.pt"
    torch.save(
        {
            "format": "drivestack.camera_detector.v1",
            "config": dataclasses.asdict(SMALL),
            "state_dict": state,
        },
        path,
    )
    with pytest.raises(DataError) as err:
        TorchCameraDetector(SMALL, path)
    assert str(err.value) == (
        f"{path}: field state_dict.{first}: NaN or infinite weights (a diverged or corrupt "
        "training run)"
    )


def test_a_checkpoint_without_its_config_is_refused(model: torch.nn.Module, tmp_path: Path) -> None:
    path = tmp_path / "noconfig.pt"
    torch.save({"format": "drivestack.camera_detector.v1", "state_dict": model.state_dict()}, path)
    with pytest.raises(DataError, match=r"noconfig\.pt: field config: checkpoint has no config"):
        TorchCameraDetector(SMALL, path)


def test_another_resize_than_the_checkpoint_warns_once(
    model: torch.nn.Module, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, SMALL)
    TorchCameraDetector(SMALL, path)
    assert capsys.readouterr().err == ""
    bigger = dataclasses.replace(SMALL, min_size_px=192, max_size_px=320)
    TorchCameraDetector(bigger, path)
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"warning: {path}: detector runs at min_size_px 192 (checkpoint 96), max_size_px 320 "
        "(checkpoint 160): another scale than it was trained at"
    ]


def test_images_without_labels_are_warned_about(
    synthetic_kitti: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "data"
    shutil.copytree(synthetic_kitti, root)
    labels = sorted((root / "label_2").glob("*.txt"))
    for p in labels[:2]:
        p.unlink()
    ds = KittiImageDataset(root, SMALL.classes)
    assert len(ds) == len(labels) - 2 and ds.unlabelled == [p.stem for p in labels[:2]]
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"warning: 2 of {len(labels)} images in {root / 'image_2'} have no label file in "
        f"{root / 'label_2'} (e.g. {labels[0].stem}.png): left out of training"
    ]


@pytest.mark.slow
def test_train_summary_counts_the_frames(synthetic_kitti: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(synthetic_kitti, root)
    sorted((root / "label_2").glob("*.txt"))[0].unlink()
    config = tmp_path / "small.yaml"
    config.write_text(
        "\n".join(
            f"{k}: {json.dumps(list(v) if isinstance(v, tuple) else v)}"
            for k, v in dataclasses.asdict(SMALL).items()
        )
    )
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools/train_camera_detector.py"), "--config", str(config),
         "--data", str(root), "--out", str(out), "--iterations", "1", "--batch-size", "1",
         "--checkpoint-every", "0", "--quiet"],
        capture_output=True, text=True, check=False, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "train_summary.json").read_text())
    assert (summary["n_frames"], summary["n_unlabelled"]) == (5, 1)
    assert "1 of 6 images" in proc.stderr


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("fpn_channels", 12800),
        ("min_size_px", 200_000),
        ("head_convs", 100_000),
        ("max_detections", 10**9),
    ],
)
def test_a_checkpoint_config_asking_for_a_huge_network_is_refused_before_building_it(
    model: torch.nn.Module, tmp_path: Path, key: str, value: int
) -> None:
    """Was: fpn_channels 12800 or a 200,000 px resize asked the allocator for 6 GB to 1.3 TB
    (a traceback, or the OOM killer) before the checkpoint was checked."""
    config = dataclasses.asdict(SMALL) | {key: value}
    if key == "min_size_px":
        config["max_size_px"] = 3 * value
    path = tmp_path / "big.pt"
    torch.save(
        {"format": "drivestack.camera_detector.v1", "config": config, "state_dict": {}}, path
    )
    with pytest.raises(DataError, match=rf"big\.pt: field config\.{key}: .* <= \d+, got {value}"):
        read_checkpoint_config(path)


def test_a_sparse_tensor_is_refused_naming_it(model: torch.nn.Module, tmp_path: Path) -> None:
    """Was: torch's NotImplementedError for aten::ne.Scalar on SparseCPU, a page long."""
    state = {k: v.clone() for k, v in model.state_dict().items()}
    name = next(k for k, v in state.items() if v.is_floating_point() and v.dim() >= 1)
    state[name] = state[name].to_sparse()
    path = tmp_path / "sparse.pt"
    torch.save(
        {
            "format": "drivestack.camera_detector.v1",
            "config": dataclasses.asdict(SMALL),
            "state_dict": state,
        },
        path,
    )
    with pytest.raises(DataError, match=rf"field state_dict\.{name}: a sparse_coo tensor"):
        TorchCameraDetector(SMALL, path)


def test_a_split_trains_on_the_frames_its_image_set_lists(
    synthetic_kitti: Path, tmp_path: Path
) -> None:
    # the trainers took every labelled frame: a simulator export's (or KITTI's) ImageSets
    # split was not read, so a held-out val split was trained on too
    root = tmp_path / "export"
    shutil.copytree(synthetic_kitti, root / "training")
    (root / "ImageSets").mkdir()
    stems = sorted(p.stem for p in (root / "training" / "label_2").glob("*.txt"))
    (root / "ImageSets" / "train.txt").write_text("\n".join(stems[:4]) + "\n")
    (root / "ImageSets" / "val.txt").write_text(f"{stems[5]}\n\n{stems[4]}\n")
    assert KittiImageDataset(root, SMALL.classes).stems == stems
    train = KittiImageDataset(root, SMALL.classes, split="train")
    assert train.stems == stems[:4] and train.split == "train"
    assert KittiImageDataset(root / "training", SMALL.classes, split="val").stems == stems[4:6]
    with pytest.raises(DataError, match=r"no ImageSets/test\.txt beside training/"):
        KittiImageDataset(root, SMALL.classes, split="test")
    (root / "ImageSets" / "bad.txt").write_text(f"{stems[0]}\n009999\n")
    with pytest.raises(DataError) as err:
        KittiImageDataset(root, SMALL.classes, split="bad")
    assert str(err.value) == (
        f"{root / 'ImageSets' / 'bad.txt'}: line 2: id '009999' has no image_2/009999.png"
    )
