"""The torchvision camera detector: training on a generated dataset, weights I/O, CPU inference."""

from __future__ import annotations

import collections
import dataclasses
import os
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
from tests.perception.camera.synthetic_kitti import write_synthetic_kitti

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

    # a finished run extends: --iterations is the total
    more = train_detector(
        SMALL,
        synthetic_kitti,
        tmp_path / "resumed",
        TrainSettings(iterations=9, batch_size=2, learning_rate=1e-3, checkpoint_every=0),
        resume=result.checkpoints[-1],
        fixed_batch=True,
        progress=False,
    )
    assert more.start_iteration == 8 and more.losses.shape == (1,)
    assert torch.load(more.checkpoints[-1], weights_only=True)["iteration"] == 9


def test_resume_continues_exactly_like_an_uninterrupted_run(
    synthetic_kitti: Path, tmp_path: Path
) -> None:
    # 6 frames, batches of 2: iteration 3 reshuffles; flips draw from the numpy RNG
    settings = TrainSettings(iterations=4, batch_size=2, learning_rate=1e-2, checkpoint_every=2)
    straight = train_detector(SMALL, synthetic_kitti, tmp_path / "a", settings, progress=False)
    assert [p.name for p in straight.checkpoints] == [
        "checkpoint_000002.pt",
        "checkpoint_000004.pt",
        "model.pt",
    ]
    half = tmp_path / "a" / "checkpoint_000002.pt"
    resumed = train_detector(
        SMALL, synthetic_kitti, tmp_path / "b", settings, resume=half, progress=False
    )
    assert resumed.start_iteration == 2
    assert [p.name for p in resumed.checkpoints] == ["checkpoint_000004.pt", "model.pt"]
    np.testing.assert_array_equal(resumed.losses, straight.losses[2:])
    a = torch.load(straight.checkpoints[-1], weights_only=True)
    b = torch.load(resumed.checkpoints[-1], weights_only=True)
    assert a["iteration"] == b["iteration"] == 4
    assert a["state_dict"].keys() == b["state_dict"].keys()
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
    opt_a, opt_b = a["training_state"]["optimizer"], b["training_state"]["optimizer"]
    assert all(
        torch.equal(opt_a["state"][i][name], opt_b["state"][i][name])
        for i in opt_a["state"]
        for name in opt_a["state"][i]
    )
    # a checkpoint_every change is allowed: it does not change the trajectory
    other_every = TrainSettings(iterations=3, batch_size=2, learning_rate=1e-2, checkpoint_every=0)
    three = train_detector(
        SMALL, synthetic_kitti, tmp_path / "c", other_every, resume=half, progress=False
    )
    assert three.losses.tolist() == straight.losses[2:3].tolist()

    def refused(settings: TrainSettings, match: str, **kw: object) -> None:
        out = tmp_path / "refused"
        with pytest.raises(DataError, match=match):
            train_detector(
                kw.pop("cfg", SMALL),  # type: ignore[arg-type]
                kw.pop("data", synthetic_kitti),  # type: ignore[arg-type]
                out,
                settings,
                resume=kw.pop("resume", half),  # type: ignore[arg-type]
                progress=False,
                **kw,  # type: ignore[arg-type]
            )
        assert not out.exists()  # nothing written

    refused(
        TrainSettings(iterations=4, batch_size=3, learning_rate=1e-3, seed=1),
        r"checkpoint_000002\.pt: cannot resume with other settings: batch_size is 2 in the "
        r"checkpoint but 3 given; learning_rate is 0\.01 in the checkpoint but 0\.001 given; "
        r"seed is 0 in the checkpoint but 1 given$",
    )
    refused(settings, r"fixed_batch is False in the checkpoint but True given", fixed_batch=True)
    refused(
        settings,
        r"cannot resume with another config: config\.min_size_px is 96 in the checkpoint but 80",
        cfg=dataclasses.replace(SMALL, min_size_px=80),
    )
    refused(
        TrainSettings(iterations=2, batch_size=2, learning_rate=1e-2),
        r"field iteration: the checkpoint is at iteration 2 already; .* give more than 2",
    )
    fewer = write_synthetic_kitti(tmp_path / "fewer", n_images=5)
    refused(settings, r"the data are '6 frames, .*' in the checkpoint but '5 frames", data=fewer)
    old = tmp_path / "old.pt"  # a checkpoint of an older drivestack: weights only
    ckpt = torch.load(half, weights_only=True)
    del ckpt["training_state"]
    torch.save(ckpt, old)
    refused(settings, r"old\.pt: field training_state: cannot resume: .* no optimizer", resume=old)


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
    with pytest.raises(DataError, match=rf"^{re.escape(str(tmp_path))}: is a directory, not a"):
        TorchCameraDetector(SMALL, tmp_path)


class _Pickled:
    """A class a pickle can name: never unpickled from a weights file."""


class _Dict(collections.OrderedDict[str, int]):
    """A dict subclass: its class is a global torch's weights-only unpickler refuses."""


REFUSED = "refusing to unpickle Python objects from an untrusted file (they could run code)"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", r"not a torch checkpoint \(empty or truncated file\)"),
        (
            bytes(range(256)) * 4,
            r"not a torch checkpoint \(neither a torch zip archive nor a tensor-only pickle\)",
        ),
        # torch: "Unsupported global: GLOBAL <name> was not an allowed global by default"
        ("pickled", rf"{re.escape(REFUSED)}: it pickles the Python object .*\._Pickled"),
        ("dict", rf"{re.escape(REFUSED)}: it pickles the Python object .*\._Dict"),
        # torch 2.14: "Trying to load unsupported GLOBAL posix.getcwd whose module posix is
        # blocked" (a function named by reference: never called, only its name is stored)
        ("function", rf"{re.escape(REFUSED)}: it pickles the Python object \w+\.getcwd"),
        (
            "truncated",
            r"not a torch checkpoint \(empty or truncated file\)",
        ),
    ],
)
def test_a_file_that_is_no_checkpoint_is_one_line_without_unsafe_advice(
    tmp_path: Path, content: bytes | str, reason: str
) -> None:
    path = tmp_path / "weights.pt"
    if content == "pickled":
        torch.save({"state_dict": _Pickled()}, path)
    elif content == "dict":
        torch.save({"format": "drivestack.camera_detector.v1", "config": _Dict(a=1)}, path)
    elif content == "function":
        torch.save({"format": "drivestack.camera_detector.v1", "hook": os.getcwd}, path)
    elif content == "truncated":
        torch.save({"x": torch.zeros(4)}, path)
        path.write_bytes(path.read_bytes()[:200])
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    with pytest.raises(DataError) as err:
        TorchCameraDetector(SMALL, path)
    message = str(err.value)
    assert re.fullmatch(rf"{re.escape(str(path))}: {reason}", message), message
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
