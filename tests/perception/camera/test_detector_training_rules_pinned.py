"""Camera detector and training rules pinned by hand-derived values.

Nothing here trains a real network: the training loop runs with a one-weight stand-in for
the FCOS model (patched into :mod:`drivestack.perception.camera.training`), so each test
checks the loop's bookkeeping (data order, flips, checkpoints) on tiny images.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torchvision  # noqa: F401  (imported once here: build_fcos imports it lazily)
from PIL import Image

from drivestack.core.errors import DataError
from drivestack.perception.camera import training
from drivestack.perception.camera.detector import (
    CHECKPOINT_FORMAT,
    CameraDetectorConfig,
    TorchCameraDetector,
    build_fcos,
    load_weights,
)
from drivestack.perception.camera.predict import nominal_calibration
from drivestack.perception.camera.training import (
    KittiImageDataset,
    TrainSettings,
    _batch,
    train_detector,
)
from drivestack.structures.camera import CameraImage

torch.set_num_threads(1)

CFG = CameraDetectorConfig(
    classes=("Car", "Pedestrian"), min_size_px=96, max_size_px=160, score_threshold=0.0
)


def _label(name: str, box: tuple[float, float, float, float]) -> str:
    x1, y1, x2, y2 = box
    return f"{name} 0.00 0 0.00 {x1:.2f} {y1:.2f} {x2:.2f} {y2:.2f} 1.5 1.6 3.9 0 1.5 10 0"


def _write(root: Path, frames: dict[str, list[str]], width: int = 16, height: int = 12) -> Path:
    (root / "image_2").mkdir(parents=True, exist_ok=True)
    (root / "label_2").mkdir(parents=True, exist_ok=True)
    for stem, lines in frames.items():
        Image.fromarray(np.full((height, width, 3), 100, np.uint8)).save(
            root / "image_2" / f"{stem}.png"
        )
        (root / "label_2" / f"{stem}.txt").write_text("".join(f"{x}\n" for x in lines))
    return root


# --- config boundaries -------------------------------------------------------------------


def test_the_config_takes_the_inclusive_ends_of_its_ranges() -> None:
    """Rule: score_threshold in [0, 1] (1.0 allowed), head_convs >= 0 (0 allowed),
    max_size_px >= min_size_px (equal allowed)."""
    assert CameraDetectorConfig(score_threshold=1.0).score_threshold == 1.0
    assert CameraDetectorConfig(head_convs=0).head_convs == 0
    cfg = CameraDetectorConfig(min_size_px=300, max_size_px=300)
    assert (cfg.min_size_px, cfg.max_size_px) == (300, 300)


def test_head_convs_sets_the_number_of_conv_blocks_per_head_branch() -> None:
    """Rule: head_convs 3x3 conv layers per FCOS head branch; torchvision's FCOSHead stacks
    (Conv2d, GroupNorm, ReLU) per conv, so head_convs=2 gives 2 Conv2d layers."""
    model: Any = build_fcos(dataclasses.replace(CFG, head_convs=2))
    convs = [m for m in model.head.classification_head.conv if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 2


# --- checkpoint loading --------------------------------------------------------------------


def _ckpt(model: torch.nn.Module, cfg: CameraDetectorConfig) -> dict[str, Any]:
    return {"format": CHECKPOINT_FORMAT, "config": asdict(cfg), "state_dict": model.state_dict()}


def test_a_max_size_alone_differing_from_the_checkpoint_warns(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Rule: a resize field that differs from the checkpoint's gives one warning naming it;
    only max_size_px differs here (200 vs 160), so only it is named."""
    stub = torch.nn.Linear(1, 1)
    load_weights(stub, dataclasses.replace(CFG, max_size_px=200), "w.pt", _ckpt(stub, CFG))
    assert capsys.readouterr().err.splitlines() == [
        "warning: w.pt: detector runs at max_size_px 200 (checkpoint 160): another scale than "
        "it was trained at"
    ]


def test_a_checkpoint_of_other_head_convs_is_another_architecture() -> None:
    """Rule: head_convs is an architecture field: a checkpoint saved with head_convs 1
    refuses a config of head_convs 2 by name, even when the tensors would fit."""
    stub = torch.nn.Linear(1, 1)
    with pytest.raises(DataError, match=r"field config\.head_convs: .*head_convs is 1 in"):
        load_weights(stub, dataclasses.replace(CFG, head_convs=2), "w.pt", _ckpt(stub, CFG))


class _Fixed(torch.nn.Module):
    """A stand-in network returning one fixed detection of network label 0."""

    def forward(self, images: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        return [
            {
                "boxes": torch.tensor([[1.0, 2.0, 3.0, 4.0]]),
                "scores": torch.tensor([0.5]),
                "labels": torch.tensor([0]),
            }
        ]


def test_detections_carry_object_class_ids_not_network_labels(tmp_path: Path) -> None:
    """Rule: the output class ids are ObjectClass values of config.classes, the network's
    label is the index into classes. With classes (Pedestrian, Car), network label 0 is
    Pedestrian: ObjectClass.PEDESTRIAN = 2 (not 0)."""
    from drivestack.perception.camera.detector import save_checkpoint

    cfg = dataclasses.replace(CFG, classes=("Pedestrian", "Car"))
    path = tmp_path / "model.pt"
    save_checkpoint(path, build_fcos(cfg), cfg)
    det = TorchCameraDetector(cfg, path)
    det.model = _Fixed()
    out = det.step(CameraImage(np.zeros((12, 16, 3), np.uint8), nominal_calibration(16, 12), 0))
    assert out.label.tolist() == [2]


# --- training data -------------------------------------------------------------------------


def test_a_box_overhanging_by_one_px_is_clipped_not_refused(tmp_path: Path) -> None:
    """Rule: a box may reach 1 px beyond the 16x12 image (x1 >= -1, x2 <= w + 1 = 17) and is
    clipped to it: [-1, 2, 17, 8] -> [0, 2, 16, 8]; [3, -1, 9, 13] -> [3, 0, 9, 12]. Clipping
    uses the width for x and the height for y: x2 17 -> 16, y2 13 -> 12."""
    root = _write(
        tmp_path,
        {"a": [_label("Car", (-1, 2, 17, 8)), _label("Pedestrian", (3, -1, 9, 13))]},
    )
    sample = KittiImageDataset(root, ("Car", "Pedestrian"))[0]
    np.testing.assert_array_equal(sample.boxes_xyxy_px, [[0, 2, 16, 8], [3, 0, 9, 12]])
    np.testing.assert_array_equal(sample.labels, [0, 1])


def test_a_box_more_than_one_px_outside_is_refused(tmp_path: Path) -> None:
    """Rule: x2 = 17.5 > w + 1 = 17 is outside the 16 px wide image: a DataError."""
    root = _write(tmp_path, {"a": [_label("Car", (2, 2, 17.5, 8))]})
    with pytest.raises(DataError, match="lies outside the 16x12 px image"):
        KittiImageDataset(root, ("Car",))[0]


def test_a_box_one_px_across_is_kept_and_thinner_ones_dropped(tmp_path: Path) -> None:
    """Rule: a box is kept when both its width and height are >= 1 px: 1 x 1 is kept;
    0.5 wide (5 tall) and 0.5 tall (5 wide) are dropped."""
    root = _write(
        tmp_path,
        {
            "a": [
                _label("Car", (2, 2, 3, 3)),
                _label("Car", (4, 1, 4.5, 6)),
                _label("Car", (5, 1, 10, 1.5)),
            ]
        },
    )
    sample = KittiImageDataset(root, ("Car",))[0]
    np.testing.assert_array_equal(sample.boxes_xyxy_px, [[2, 2, 3, 3]])


def test_a_horizontal_flip_mirrors_pixels_and_box_x_about_the_width() -> None:
    """Rule: a flipped sample's pixels mirror left-right and x1' = w - x2, x2' = w - x1. For a
    2x4 image (w = 4) with box [0.5, 0, 1.5, 2]: [4 - 1.5, 0, 4 - 0.5, 2] = [2.5, 0, 3.5, 2];
    pixel column 0 moves to column 3."""
    px = np.zeros((2, 4, 3), np.uint8)
    px[:, 0] = 255
    sample = training.KittiImageSample(px, np.array([[0.5, 0.0, 1.5, 2.0]]), np.array([0]), "x.png")
    images, targets = _batch([sample], np.array([True]))
    assert targets[0]["boxes"].tolist() == [[2.5, 0.0, 3.5, 2.0]]
    assert images[0][0, :, 3].tolist() == [1.0, 1.0]
    assert images[0][0, :, 0].tolist() == [0.0, 0.0]


# --- settings ------------------------------------------------------------------------------


def test_train_settings_take_their_boundary_values() -> None:
    """Rule: checkpoint_every 0 (final model only) and weight_decay 0 are allowed, as are the
    largest seed 2**63 - 1 and learning_rate MAX_LEARNING_RATE = 1.0 itself."""
    s = TrainSettings(
        iterations=1,
        batch_size=1,
        checkpoint_every=0,
        weight_decay=0.0,
        seed=2**63 - 1,
        learning_rate=1.0,
    )
    assert (s.checkpoint_every, s.weight_decay, s.learning_rate) == (0, 0.0, 1.0)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("iterations", 0),
        ("batch_size", 0),
        ("seed", 2**63),
        ("learning_rate", 0.0),
        ("grad_clip_norm", 0.0),
    ],
)
def test_train_settings_refuse_just_outside_their_ranges(key: str, value: float) -> None:
    """Rule: iterations, batch_size >= 1; seed < 2**63; learning_rate and grad_clip_norm > 0."""
    with pytest.raises(ValueError, match=key):
        TrainSettings(**{key: value})  # type: ignore[arg-type]


# --- the training loop with a stand-in network ---------------------------------------------


class _Stub(torch.nn.Module):
    """One weight; the loss is (w - 1)^2 + 1; records each batch's targets."""

    def __init__(self, log: list[list[torch.Tensor]]) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.log = log

    def forward(self, images: list[Any], targets: list[dict[str, Any]]) -> dict[str, Any]:
        self.log.append([t["boxes"].clone() for t in targets])
        return {"loss": ((self.w - 1) ** 2).sum() + 1.0}


@pytest.fixture
def stub_log(monkeypatch: pytest.MonkeyPatch) -> list[list[torch.Tensor]]:
    log: list[list[torch.Tensor]] = []
    monkeypatch.setattr(training, "build_fcos", lambda cfg: _Stub(log))
    return log


def _frames(tmp_path: Path, n: int) -> Path:
    """n frames; frame i has one Car box whose x1 is i (so a batch's boxes name its frames)."""
    return _write(
        tmp_path / "data", {f"{i:06d}": [_label("Car", (i, 1, i + 2, 5))] for i in range(n)}
    )


def _x1(batch: list[torch.Tensor]) -> list[float]:
    return [float(b[0, 0]) for b in batch]


def test_an_epoch_visits_every_frame_once_before_reshuffling(
    tmp_path: Path, stub_log: list[list[torch.Tensor]]
) -> None:
    """Rule: frames are drawn from a permutation; a new one is drawn only when the next batch
    would run past its end. 4 frames, batches of 2: iterations 0 and 1 take the whole first
    permutation, so the 4 frames seen are 0, 1, 2, 3 each once (no flip: x1 = frame id)."""
    settings = TrainSettings(iterations=2, batch_size=2, flip=False, checkpoint_every=0)
    train_detector(CFG, _frames(tmp_path, 4), tmp_path / "out", settings, progress=False)
    assert sorted(_x1(stub_log[0]) + _x1(stub_log[1])) == [0.0, 1.0, 2.0, 3.0]


def test_a_fixed_batch_never_flips_and_is_capped_at_the_frames(
    tmp_path: Path, stub_log: list[list[torch.Tensor]]
) -> None:
    """Rule: fixed_batch trains on the first min(batch_size, frames) frames, unflipped even
    when flip is on: 2 frames, batch_size 3 -> every batch is frames 0 and 1 with their
    boxes as labelled (x1 0 and 1)."""
    settings = TrainSettings(iterations=3, batch_size=3, flip=True, checkpoint_every=0)
    train_detector(
        CFG, _frames(tmp_path, 2), tmp_path / "out", settings, fixed_batch=True, progress=False
    )
    assert [_x1(b) for b in stub_log] == [[0.0, 1.0]] * 3


def test_about_half_the_samples_are_flipped(
    tmp_path: Path, stub_log: list[list[torch.Tensor]]
) -> None:
    """Rule: with flip on each sample is flipped with probability 1/2. Frame i's box x1 is i
    (w = 16, width 2), flipped 16 - (i + 2) = 14 - i, so x1 >= 7 means flipped (frames 0..3).
    Over 200 samples the flipped share is 0.5 with standard deviation
    sqrt(0.25 / 200) = 0.035: [0.35, 0.65] is beyond 4 standard deviations."""
    settings = TrainSettings(iterations=100, batch_size=2, flip=True, checkpoint_every=0)
    train_detector(CFG, _frames(tmp_path, 4), tmp_path / "out", settings, progress=False)
    x1 = [x for b in stub_log for x in _x1(b)]
    assert len(x1) == 200
    assert 0.35 <= np.mean(np.array(x1) >= 7) <= 0.65


def test_checkpoints_are_named_after_the_iterations_done(
    tmp_path: Path, stub_log: list[list[torch.Tensor]]
) -> None:
    """Rule: checkpoint_<done>.pt after every checkpoint_every iterations done: 5 iterations
    every 2 -> after 2 and 4, then model.pt at iteration 5."""
    settings = TrainSettings(iterations=5, batch_size=1, checkpoint_every=2)
    res = train_detector(CFG, _frames(tmp_path, 2), tmp_path / "out", settings, progress=False)
    assert [p.name for p in res.checkpoints] == [
        "checkpoint_000002.pt",
        "checkpoint_000004.pt",
        "model.pt",
    ]


def test_a_run_resumes_from_the_end_of_an_epoch(
    tmp_path: Path, stub_log: list[list[torch.Tensor]]
) -> None:
    """Rule: a saved data cursor may equal the number of frames (0 <= cursor <= n). 2 frames,
    batches of 2: after iteration 1 the cursor is 2 = n, and resuming it to 2 iterations runs
    exactly iteration 1."""
    data = _frames(tmp_path, 2)
    settings = TrainSettings(iterations=1, batch_size=2, checkpoint_every=0)
    first = train_detector(CFG, data, tmp_path / "a", settings, progress=False)
    more = dataclasses.replace(settings, iterations=2)
    res = train_detector(
        CFG, data, tmp_path / "b", more, resume=first.checkpoints[-1], progress=False
    )
    assert res.start_iteration == 1 and res.losses.shape == (1,)


def test_a_resume_checkpoint_without_a_setting_is_refused(
    tmp_path: Path, stub_log: list[list[torch.Tensor]]
) -> None:
    """Rule: every non-resumable setting must agree with the checkpoint's; a checkpoint that
    does not record seed has None there, which differs from the given 0."""
    data = _frames(tmp_path, 2)
    settings = TrainSettings(iterations=1, batch_size=2, checkpoint_every=0)
    first = train_detector(CFG, data, tmp_path / "a", settings, progress=False)
    ckpt = torch.load(first.checkpoints[-1], weights_only=True)
    del ckpt["train_settings"]["seed"]
    path = tmp_path / "noseed.pt"
    torch.save(ckpt, path)
    with pytest.raises(DataError, match="seed is None in the checkpoint but 0 given"):
        train_detector(
            CFG,
            data,
            tmp_path / "b",
            dataclasses.replace(settings, iterations=2),
            resume=path,
            progress=False,
        )


def test_data_missing_one_class_warns_and_is_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule: data is refused only when it holds no object of ANY configured class; with Cars
    but no Pedestrian it is read with a warning naming Pedestrian."""
    root = _write(tmp_path, {"a": [_label("Car", (1, 1, 5, 5))]})
    ds = KittiImageDataset(root, ("Car", "Pedestrian"))
    assert ds.class_counts == {"Car": 1, "Pedestrian": 0}
    assert "warning: no Pedestrian in" in capsys.readouterr().err


def test_the_image_set_beside_the_frames_folder_wins_over_one_inside_it(tmp_path: Path) -> None:
    """Rule: ImageSets/<split>.txt is looked for beside the frames folder first, then in it:
    with both present, the one beside (listing frame b) is used, not the inner one (a)."""
    root = tmp_path / "kitti"
    frames = _write(
        root / "training", {"a": [_label("Car", (1, 1, 5, 5))], "b": [_label("Car", (1, 1, 5, 5))]}
    )
    (root / "ImageSets").mkdir()
    (root / "ImageSets" / "val.txt").write_text("b\n")
    (frames / "ImageSets").mkdir()
    (frames / "ImageSets" / "val.txt").write_text("a\n")
    assert KittiImageDataset(root, ("Car",), split="val").stems == ["b"]


def test_a_folder_holding_model_pt_is_refused_with_a_hint(tmp_path: Path) -> None:
    """Rule: weights given as a folder are refused; when the folder holds model.pt the error
    asks "did you mean <folder>/model.pt?"; without one there is no hint."""
    from drivestack.perception.camera.detector import read_checkpoint

    (tmp_path / "run").mkdir()
    with pytest.raises(DataError) as bare:
        read_checkpoint(tmp_path / "run")
    assert "did you mean" not in str(bare.value)
    (tmp_path / "run" / "model.pt").write_bytes(b"")
    with pytest.raises(DataError) as hinted:
        read_checkpoint(tmp_path / "run")
    assert (
        f"is a directory, not a weights file (did you mean {tmp_path / 'run' / 'model.pt'}?)"
        in (str(hinted.value))
    )


def test_a_checkpoint_at_iteration_0_resumes_from_the_start(
    tmp_path: Path, stub_log: list[list[torch.Tensor]]
) -> None:
    """Rule: a resume checkpoint's iteration k must be an int >= 0; k = 0 is valid and
    resuming it to 1 iteration runs iteration 0 (one loss)."""
    data = _frames(tmp_path, 2)
    settings = TrainSettings(iterations=1, batch_size=2, checkpoint_every=0)
    first = train_detector(CFG, data, tmp_path / "a", settings, progress=False)
    ckpt = torch.load(first.checkpoints[-1], weights_only=True)
    ckpt["iteration"] = 0
    path = tmp_path / "zero.pt"
    torch.save(ckpt, path)
    res = train_detector(CFG, data, tmp_path / "b", settings, resume=path, progress=False)
    assert res.start_iteration == 0 and res.losses.shape == (1,)
