"""Training of the camera detector on a KITTI-layout dataset (``image_2/*.png`` + ``label_2/*.txt``).

A frame is used when both files exist; label rows whose type is not in ``config.classes`` (and
``DontCare``) are dropped; images may have no objects. Training is deterministic for a seed
on one machine (seeded torch RNG and sampling order, single thread).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_object import read_kitti_label
from drivestack.perception.camera.calibration import read_image_rgb
from drivestack.perception.camera.detector import (
    CameraDetectorConfig,
    build_fcos,
    image_to_tensor,
    load_weights,
    save_checkpoint,
)

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class KittiImageSample:
    """One training frame: ``pixels (H, W, 3)`` uint8, ``boxes_xyxy_px (N, 4)``, ``labels (N,)``
    (indices into ``config.classes``) and the image path."""

    pixels: np.ndarray
    boxes_xyxy_px: np.ndarray
    labels: np.ndarray
    path: str


class KittiImageDataset:
    """Frames of ``root/image_2/*.png`` with ``root/label_2/<stem>.txt`` (KITTI object labels).

    ``root`` may also be a KITTI object root or a :mod:`drivestack.sim.export_kitti` export
    (the frames are then under ``root/training/``).
    """

    def __init__(self, root: str | Path, classes: Sequence[str]) -> None:
        self.root = Path(root)
        if not (self.root / "image_2").is_dir() and (self.root / "training" / "image_2").is_dir():
            self.root = self.root / "training"  # a KITTI root or a simulator export
        image_dir, label_dir = self.root / "image_2", self.root / "label_2"
        if not image_dir.is_dir() or not label_dir.is_dir():
            raise DataError(
                "expected a KITTI layout with image_2/ and label_2/", path=str(self.root)
            )
        self.stems = sorted(
            p.stem for p in image_dir.glob("*.png") if (label_dir / f"{p.stem}.txt").is_file()
        )
        if not self.stems:
            raise DataError("no image_2/*.png with a matching label_2/*.txt", path=str(self.root))
        self.class_index = {name: i for i, name in enumerate(classes)}

    def __len__(self) -> int:
        return len(self.stems)

    def __getitem__(self, i: int) -> KittiImageSample:
        stem = self.stems[i]
        image_path = self.root / "image_2" / f"{stem}.png"
        label_path = self.root / "label_2" / f"{stem}.txt"
        pixels = read_image_rgb(image_path)
        objects = read_kitti_label(label_path)
        keep = np.array([n in self.class_index for n in objects.type_name], dtype=bool)
        boxes = objects.box2d_xyxy_px[keep]
        h, w = pixels.shape[:2]
        outside = (
            (boxes[:, 2] > w + 1) | (boxes[:, 3] > h + 1) | (boxes[:, 0] < -1) | (boxes[:, 1] < -1)
        )
        if np.any(outside):
            row = int(np.flatnonzero(keep)[np.flatnonzero(outside)[0]])
            raise DataError(
                f"2D box {boxes[np.flatnonzero(outside)[0]].tolist()} lies outside the {w}x{h} px image",
                path=str(label_path),
                record=f"object {row}",
                field="bbox",
            )
        boxes = np.clip(boxes, 0, [w, h, w, h])
        labels = np.array([self.class_index[n] for n in objects.type_name[keep]], dtype=np.int64)
        big = (boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1)
        return KittiImageSample(pixels, boxes[big], labels[big], str(image_path))


def _batch(
    samples: Sequence[KittiImageSample], flip: np.ndarray
) -> tuple[list[torch.Tensor], list[dict[str, torch.Tensor]]]:
    import torch

    images, targets = [], []
    for s, f in zip(samples, flip, strict=True):
        x = image_to_tensor(s.pixels)
        boxes = s.boxes_xyxy_px.copy()
        if f:  # horizontal flip augmentation
            x = x.flip(-1)
            w = s.pixels.shape[1]
            boxes[:, [0, 2]] = w - boxes[:, [2, 0]]
        images.append(x)
        targets.append(
            {
                "boxes": torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                "labels": torch.as_tensor(s.labels, dtype=torch.int64),
            }
        )
    return images, targets


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings: AdamW, a fixed number of iterations (batches)."""

    iterations: int = 1000
    batch_size: int = 4
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0
    flip: bool = True
    checkpoint_every: int = 200
    grad_clip_norm: float = 10.0


@dataclass(frozen=True)
class TrainResult:
    """Per-iteration total loss ``(I,)`` and the checkpoint files written (last is the final one)."""

    losses: np.ndarray
    checkpoints: list[Path]


def train_detector(
    cfg: CameraDetectorConfig,
    data_root: str | Path,
    out_dir: str | Path,
    settings: TrainSettings = TrainSettings(),
    *,
    resume: str | Path | None = None,
    fixed_batch: bool = False,
    progress: bool = True,
    on_iteration: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Train the FCOS detector of ``cfg`` on ``data_root``; checkpoints go to ``out_dir``.

    Writes ``checkpoint_<iteration>.pt`` every ``settings.checkpoint_every`` iterations and
    ``model.pt`` at the end (all loadable with :class:`TorchCameraDetector`). ``resume`` starts
    from a checkpoint's weights and iteration count. ``fixed_batch`` trains on the first batch
    only (an overfitting check).
    """
    import torch
    from tqdm import tqdm

    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    dataset = KittiImageDataset(data_root, cfg.classes)
    model = build_fcos(cfg)
    start = 0
    if resume is not None:
        start = int(load_weights(model, cfg, resume).get("iteration", 0))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    losses: list[float] = []
    written: list[Path] = []
    order = rng.permutation(len(dataset))
    cursor = 0
    meta: dict[str, Any] = {"train_settings": asdict(settings), "data_root": str(data_root)}
    bar = tqdm(
        range(start, start + settings.iterations),
        desc="train camera detector",
        disable=not progress,
    )
    for it in bar:
        if fixed_batch:
            idx = np.arange(min(settings.batch_size, len(dataset)))
        else:
            if cursor + settings.batch_size > len(order):
                order, cursor = rng.permutation(len(dataset)), 0
            idx = order[cursor : cursor + settings.batch_size]
            cursor += settings.batch_size
        flip = (
            rng.random(len(idx)) < 0.5
            if settings.flip and not fixed_batch
            else np.zeros(len(idx), bool)
        )
        images, targets = _batch([dataset[int(i)] for i in idx], flip)
        loss_parts = model(images, targets)
        loss = sum(loss_parts.values())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, settings.grad_clip_norm)
        opt.step()
        value = float(loss.detach())
        losses.append(value)
        bar.set_postfix(loss=f"{value:.3f}")
        if on_iteration is not None:
            on_iteration(it, value)
        done = it + 1
        if settings.checkpoint_every and done % settings.checkpoint_every == 0:
            path = out / f"checkpoint_{done:06d}.pt"
            save_checkpoint(path, model, cfg, iteration=done, **meta)
            written.append(path)
    final = out / "model.pt"
    save_checkpoint(final, model, cfg, iteration=start + settings.iterations, **meta)
    written.append(final)
    return TrainResult(np.asarray(losses), written)
