"""The torchvision camera detector: training on a generated dataset, weights I/O, CPU inference."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from drivestack.core.errors import ConfigError, DataError
from drivestack.core.transforms import SE3
from drivestack.perception.camera.detector import (
    CameraDetectorConfig,
    TorchCameraDetector,
    build_fcos,
    load_detector_config,
    save_checkpoint,
)
from drivestack.perception.camera.stage import CameraDetectorStage
from drivestack.perception.camera.training import KittiImageDataset, TrainSettings, train_detector
from drivestack.structures.camera import CameraCalibration, CameraImage
from drivestack.structures.labels import ObjectClass

torch.set_num_threads(1)

SMALL = CameraDetectorConfig(
    backbone="mobilenet_v3_small",
    classes=("Car", "Pedestrian"),
    fpn_channels=32,
    head_convs=1,
    min_size_px=96,
    max_size_px=160,
    score_threshold=0.0,
)
REPO = Path(__file__).resolve().parents[3]


def test_dataset_reads_the_kitti_layout(synthetic_kitti: Path) -> None:
    ds = KittiImageDataset(synthetic_kitti, ("Car", "Pedestrian"))
    assert len(ds) == 6
    sample = ds[0]
    assert sample.pixels.shape == (96, 160, 3)
    assert sample.boxes_xyxy_px.shape[0] == sample.labels.shape[0] >= 1  # DontCare dropped
    # every labelled box is filled with its class colour
    x1, y1, x2, y2 = sample.boxes_xyxy_px[0].astype(int)
    colour = (200, 30, 30) if sample.labels[0] == 0 else (30, 60, 220)
    inner = sample.pixels[y1:y2, x1:x2].reshape(-1, 3)
    assert np.mean(np.all(inner == colour, axis=1)) > 0.5


def test_detector_trains_saves_loads_and_runs_on_cpu(synthetic_kitti: Path, tmp_path: Path) -> None:
    settings = TrainSettings(iterations=8, batch_size=2, learning_rate=1e-3, checkpoint_every=4)
    result = train_detector(
        SMALL, synthetic_kitti, tmp_path, settings, fixed_batch=True, progress=False
    )
    assert result.losses.shape == (8,)
    assert result.losses[-2:].mean() < 0.8 * result.losses[:2].mean()
    assert [p.name for p in result.checkpoints] == [
        "checkpoint_000004.pt",
        "checkpoint_000008.pt",
        "model.pt",
    ]
    detector = TorchCameraDetector(SMALL, result.checkpoints[-1])
    assert isinstance(detector, CameraDetectorStage)
    trained = dict(detector.model.state_dict())
    reloaded = TorchCameraDetector(SMALL, result.checkpoints[-1]).model.state_dict()
    assert all(torch.equal(trained[k], reloaded[k]) for k in trained)
    fresh = build_fcos(SMALL).state_dict()
    assert any(
        not torch.equal(trained[k], fresh[k]) for k in trained if trained[k].is_floating_point()
    )

    k = np.array([[100.0, 0, 80], [0, 100.0, 48], [0, 0, 1]])
    cal = CameraCalibration("image_02", k, 160, 96, SE3.identity(), "camera_image_02")
    pixels = np.asarray(
        __import__("PIL.Image").Image.open(synthetic_kitti / "image_2" / "000000.png")
    )
    dets = detector.step(CameraImage(pixels, cal, 5))
    assert dets.frame == "camera_image_02" and dets.timestamp_ns == 5
    assert len(dets) > 0
    assert set(dets.label.tolist()) <= {int(ObjectClass.CAR), int(ObjectClass.PEDESTRIAN)}
    assert np.all(dets.box_xyxy_px >= -1e-3) and np.all(dets.box_xyxy_px[:, [2]] <= 160 + 1e-3)

    # resume continues the iteration count
    more = train_detector(
        SMALL,
        synthetic_kitti,
        tmp_path / "resumed",
        TrainSettings(iterations=1, batch_size=2, checkpoint_every=0),
        resume=result.checkpoints[-1],
        fixed_batch=True,
        progress=False,
    )
    assert torch.load(more.checkpoints[-1], weights_only=True)["iteration"] == 9


def test_weights_of_another_architecture_are_refused(tmp_path: Path) -> None:
    other = CameraDetectorConfig(
        backbone="mobilenet_v3_small", classes=("Car", "Pedestrian"), fpn_channels=64
    )
    path = tmp_path / "other.pt"
    save_checkpoint(path, build_fcos(other), other)
    with pytest.raises(
        DataError, match=r"other\.pt: field config\.fpn_channels: .*another architecture"
    ):
        TorchCameraDetector(SMALL, path)
    # a checkpoint that lies about its config still fails on the tensors
    liar = tmp_path / "liar.pt"
    torch.save(
        {
            "format": "drivestack.camera_detector.v1",
            "config": {
                "backbone": "mobilenet_v3_small",
                "classes": ["Car", "Pedestrian"],
                "fpn_channels": 32,
                "head_convs": 1,
            },
            "state_dict": build_fcos(other).state_dict(),
        },
        liar,
    )
    with pytest.raises(
        DataError, match=r"liar\.pt: field state_dict: weights do not fit .* of another shape"
    ):
        TorchCameraDetector(SMALL, liar)
    plain = tmp_path / "resnet_classifier.pt"
    torch.save(__import__("torchvision").models.resnet18(weights=None).state_dict(), plain)
    with pytest.raises(
        DataError, match=r"resnet_classifier\.pt: field format: not a drivestack camera-detector"
    ):
        TorchCameraDetector(SMALL, plain)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(DataError) as err:
        TorchCameraDetector(SMALL, junk)
    assert str(err.value) == (
        f"{junk}: not a torch checkpoint (neither a torch zip archive nor a tensor-only pickle)"
    )
    with pytest.raises(DataError, match="weights file not found"):
        TorchCameraDetector(SMALL, tmp_path / "missing.pt")


class _Pickled:
    """A class a pickle can name: never unpickled from a weights file."""


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty or truncated file"),
        (bytes(range(256)) * 4, "neither a torch zip archive nor a tensor-only pickle"),
        ("pickled", r"it pickles the Python object .*_Pickled, which is never unpickled"),
        ("truncated", r"RuntimeError: PytorchStreamReader failed reading zip archive"),
    ],
)
def test_a_file_that_is_no_checkpoint_is_one_line_without_unsafe_advice(
    tmp_path: Path, content: bytes | str, reason: str
) -> None:
    path = tmp_path / "weights.pt"
    if content == "pickled":
        torch.save({"state_dict": _Pickled()}, path)
    elif content == "truncated":
        torch.save({"x": torch.zeros(4)}, path)
        path.write_bytes(path.read_bytes()[:200])
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    with pytest.raises(DataError) as err:
        TorchCameraDetector(SMALL, path)
    message = str(err.value)
    assert re.fullmatch(rf"{re.escape(str(path))}: not a torch checkpoint \({reason}.*\)", message)
    assert "\n" not in message and "weights_only" not in message and "\x1b" not in message


def test_package_exports_the_detector_lazily() -> None:
    code = (
        "import sys, drivestack.perception.camera as cam; "
        "assert 'torch' not in sys.modules and 'drivestack.perception.camera.detector' not in "
        "sys.modules; "
        "from drivestack.perception.camera import TorchCameraDetector, load_detector_config; "
        "from drivestack.perception.camera import detector; "
        "assert TorchCameraDetector is detector.TorchCameraDetector; "
        "assert load_detector_config is detector.load_detector_config; "
        "assert 'torch' not in sys.modules; "
        "assert sorted(cam.__all__) == cam.__all__ and 'TorchCameraDetector' in cam.__all__"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    import drivestack.perception.camera as cam

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        cam.Nope  # noqa: B018


def test_detector_config_yaml(tmp_path: Path) -> None:
    cfg = load_detector_config(REPO / "configs" / "perception" / "camera_detector.yaml")
    assert cfg == CameraDetectorConfig()  # the YAML states the defaults
    large = load_detector_config(REPO / "configs" / "perception" / "camera_detector_large.yaml")
    assert large.backbone == "mobilenet_v3_large" and large.classes == cfg.classes
    bad = tmp_path / "bad.yaml"
    bad.write_text("backbone: resnet50\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: field backbone"):
        load_detector_config(bad)
    bad.write_text("fpn_channels: 48\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*multiple of 32"):
        load_detector_config(bad)
    bad.write_text("score_threshold: 1.5\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*score_threshold must be in \[0, 1\]"):
        load_detector_config(bad)
    bad.write_text("classes: [Car, Spaceship]\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml"):
        load_detector_config(bad)


@pytest.mark.data
def test_dataset_reads_real_kitti_object_frames(shared_data: Path) -> None:
    ds = KittiImageDataset(shared_data / "kitti_object", ("Car", "Pedestrian", "Cyclist"))
    assert len(ds) == 6
    counts = np.bincount(np.concatenate([ds[i].labels for i in range(len(ds))]), minlength=3)
    assert counts.tolist() == [5, 2, 1]  # SOURCES.md: Car 5, Pedestrian 2, Cyclist 1
    assert ds[0].pixels.dtype == np.uint8 and ds[0].pixels.shape[2] == 3
