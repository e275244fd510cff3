"""Training of the camera detector on a KITTI-layout dataset (``image_2/*.png`` + ``label_2/*.txt``).

A frame is used when both files exist; label rows whose type is not in ``config.classes`` (and
``DontCare``) are dropped; images may have no objects. Training runs on the CPU and is
deterministic for a seed on one machine (seeded torch RNG and sampling order, single thread).

Every checkpoint carries the training state (optimizer state, the data order and position,
the numpy and torch RNG states), so resuming a checkpoint of iteration ``k`` to a total of
``n`` iterations runs iterations ``k .. n-1`` and ends with the same weights as an
uninterrupted ``n``-iteration run of the same settings.
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_object import read_kitti_label
from drivestack.perception.camera.calibration import read_image_rgb
from drivestack.perception.camera.detector import (
    CameraDetectorConfig,
    build_fcos,
    check_network_size,
    image_to_tensor,
    load_weights,
    read_checkpoint,
    read_checkpoint_config,
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


def _split_ids(frames_root: Path, split: str, image_dir: Path, label_dir: Path) -> list[str]:
    """The ids ``ImageSets/<split>.txt`` lists (one per line), the file looked for beside
    ``frames_root`` (the folder holding image_2/) and in it; ``DataError`` naming the file when
    it is missing, empty, or lists an id without its image or label."""
    candidates = [
        frames_root.parent / "ImageSets" / f"{split}.txt",
        frames_root / "ImageSets" / f"{split}.txt",
    ]
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        raise DataError(
            f"no ImageSets/{split}.txt beside {frames_root.name}/ (looked for "
            f"{candidates[0]} and {candidates[1]})",
            path=str(frames_root),
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=str(path)
        ) from None
    ids = [line.strip() for line in text.splitlines() if line.strip()]
    if not ids:
        raise DataError("lists no frame", path=str(path))
    for line_no, stem in enumerate(ids, start=1):
        for folder, suffix in ((image_dir, ".png"), (label_dir, ".txt")):
            if not (folder / f"{stem}{suffix}").is_file():
                raise DataError(
                    f"id {stem!r} has no {folder.name}/{stem}{suffix}",
                    path=str(path),
                    record=f"line {line_no}",
                )
    return sorted(dict.fromkeys(ids))


class KittiImageDataset:
    """Frames of ``root/image_2/*.png`` with ``root/label_2/<stem>.txt`` (KITTI object labels).
    Images without a label file are left out, with one warning line on stderr giving their
    count and an example (listed in :attr:`unlabelled`).

    ``root`` may also be a KITTI object root or a :mod:`drivestack.sim.export_kitti` export
    (the frames are then under ``root/training/``). ``split`` (e.g. ``train``): only the
    frames ``ImageSets/<split>.txt`` lists (beside ``training/``, as KITTI and the simulator
    export keep it), each of which must have its image and label (a ``DataError`` names the
    file and the first missing id).
    """

    def __init__(self, root: str | Path, classes: Sequence[str], split: str | None = None) -> None:
        self.root = Path(root)
        if not (self.root / "image_2").is_dir() and (self.root / "training" / "image_2").is_dir():
            self.root = self.root / "training"  # a KITTI root or a simulator export
        image_dir, label_dir = self.root / "image_2", self.root / "label_2"
        if not image_dir.is_dir() or not label_dir.is_dir():
            raise DataError(
                "expected a KITTI layout with image_2/ and label_2/", path=str(self.root)
            )
        #: the ImageSets split read (None: every labelled frame)
        self.split = split
        images = sorted(p.stem for p in image_dir.glob("*.png"))
        if split is not None:
            images = _split_ids(self.root, split, image_dir, label_dir)
        self.stems = [stem for stem in images if (label_dir / f"{stem}.txt").is_file()]
        if not self.stems:
            raise DataError("no image_2/*.png with a matching label_2/*.txt", path=str(self.root))
        #: image_2/<stem>.png files without a label_2/<stem>.txt, left out of training
        self.unlabelled = [stem for stem in images if not (label_dir / f"{stem}.txt").is_file()]
        if self.unlabelled:
            print(
                f"warning: {len(self.unlabelled)} of {len(images)} images in {image_dir} have no "
                f"label file in {label_dir} (e.g. {self.unlabelled[0]}.png): left out of training",
                file=sys.stderr,
            )
        self.class_index = {name: i for i, name in enumerate(classes)}
        #: labelled objects of each configured class over the frames (any size, as labelled)
        self.class_counts = {name: 0 for name in classes}
        for stem in self.stems:
            for name in read_kitti_label(label_dir / f"{stem}.txt").type_name:
                if name in self.class_counts:
                    self.class_counts[name] += 1
        if not any(self.class_counts.values()):
            raise DataError(
                f"no labelled object of the detector's classes {list(classes)} in "
                f"{len(self.stems)} label files: nothing to learn",
                path=str(label_dir),
            )
        for name, count in self.class_counts.items():
            if not count:
                print(
                    f"warning: no {name} in {label_dir}: the detector learns it from nothing "
                    "(every image is a negative for it)",
                    file=sys.stderr,
                )

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
    """Optimisation settings: AdamW, a fixed total number of iterations (batches).

    ``iterations`` is the total, counted from iteration 0 also when resuming;
    ``checkpoint_every`` 0 writes only the final ``model.pt``; ``learning_rate`` is in
    (0, :data:`MAX_LEARNING_RATE`].
    """

    iterations: int = 1000
    batch_size: int = 4
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0
    flip: bool = True
    checkpoint_every: int = 200
    grad_clip_norm: float = 10.0

    def __post_init__(self) -> None:
        for name in ("iterations", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.checkpoint_every < 0:
            raise ValueError(f"checkpoint_every must be at least 0, got {self.checkpoint_every}")
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be in [0, 2**63), got {self.seed}")
        for name in ("learning_rate", "grad_clip_norm"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite number, got {value}")
        if self.learning_rate > MAX_LEARNING_RATE:
            raise ValueError(
                f"learning_rate must be at most {MAX_LEARNING_RATE:g}, got {self.learning_rate}"
            )
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be finite and >= 0, got {self.weight_decay}")


#: the largest learning rate :class:`TrainSettings` takes (an AdamW step moves each weight by
#: about the learning rate; far above 1 torch's float32 step overflows)
MAX_LEARNING_RATE = 1.0

#: settings that may differ between a run and its resumption (all others must agree)
RESUMABLE_CHANGES = ("iterations", "checkpoint_every")

#: What a training run writes in its folder (``tools/train_camera_detector.py`` refuses a
#: folder holding them unless ``--overwrite``).
TRAINING_OUTPUTS = ("model.pt", "checkpoint_*.pt", "train_summary.json")


@dataclass(frozen=True)
class TrainResult:
    """Per-iteration total loss ``(I,)`` of iterations ``start_iteration ..
    settings.iterations - 1`` and the checkpoint files written (last is the final one)."""

    losses: np.ndarray
    checkpoints: list[Path]
    start_iteration: int = 0
    #: frames trained on (images with a label file) and images left out for having none
    n_frames: int = 0
    n_unlabelled: int = 0
    #: labelled objects per configured class (:attr:`KittiImageDataset.class_counts`)
    class_counts: dict[str, int] = field(default_factory=dict)


def train_detector(
    cfg: CameraDetectorConfig,
    data_root: str | Path | KittiImageDataset,
    out_dir: str | Path,
    settings: TrainSettings = TrainSettings(),
    *,
    resume: str | Path | None = None,
    fixed_batch: bool = False,
    progress: bool = True,
    on_iteration: Callable[[int, float], None] | None = None,
    before_writing: Callable[[], object] | None = None,
) -> TrainResult:
    """Train the FCOS detector of ``cfg`` on ``data_root`` (a folder, or its
    :class:`KittiImageDataset` of ``cfg.classes`` already read); checkpoints go to ``out_dir``.

    Writes ``checkpoint_<iteration>.pt`` every ``settings.checkpoint_every`` iterations and
    ``model.pt`` after the last iteration (all loadable with :class:`TorchCameraDetector`, all
    resumable). ``resume`` continues a checkpoint of iteration ``k`` (weights, optimizer, data
    order and RNG states) with iterations ``k .. settings.iterations - 1``: the result equals
    an uninterrupted run's. ``fixed_batch`` trains on the first batch only (an overfitting
    check). ``before_writing`` is called once the data, config and resume are checked, before
    anything is written.

    Raises:
        DataError: a loss that is not finite (training diverged: NaN weights are never
            written), bad data (an image too narrow for the network's resize, see
            :func:`~drivestack.perception.camera.detector.check_network_size`, names the
            image file and ``pixels``), or a ``resume`` checkpoint that cannot continue this run: no
            training state (an older checkpoint), another config, other settings (naming
            each differing one), other data or ``fixed_batch``, or already at
            ``settings.iterations`` or beyond. Nothing is written then.
    """
    import torch

    from drivestack.core.progress import progress as progress_bar

    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    if isinstance(data_root, KittiImageDataset):
        if list(data_root.class_index) != list(cfg.classes):
            raise ValueError(
                f"the dataset was read for classes {list(data_root.class_index)}, the config "
                f"has {list(cfg.classes)}"
            )
        dataset = data_root
    else:
        dataset = KittiImageDataset(data_root, cfg.classes)
    model = build_fcos(cfg)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    order = rng.permutation(len(dataset))
    cursor = 0
    start = 0
    frames = _frames_digest(dataset)
    if resume is not None:
        start, order, cursor = _resume(
            resume, cfg, settings, fixed_batch, frames, model, opt, rng, len(dataset)
        )
    if before_writing is not None:  # every check passed: the tool clears an earlier run here
        before_writing()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    losses: list[float] = []
    written: list[Path] = []
    meta: dict[str, Any] = {
        "train_settings": asdict(settings),
        "data_root": str(dataset.root),
        "data_split": dataset.split,
    }

    def state() -> dict[str, Any]:
        return {
            "optimizer": opt.state_dict(),
            "data_order": torch.as_tensor(order, dtype=torch.int64),
            "data_cursor": cursor,
            "numpy_rng": rng.bit_generator.state,  # plain str/int dict: loads weights_only
            "torch_rng": torch.get_rng_state(),
            "fixed_batch": fixed_batch,
            "frames": frames,
        }

    bar = progress_bar(
        range(start, settings.iterations),
        desc="train camera detector",
        initial=start,
        total=settings.iterations,
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
        samples = [dataset[int(i)] for i in idx]
        for sample in samples:
            _check_sample_size(sample, cfg)
        images, targets = _batch(samples, flip)
        try:
            loss_parts = model(images, targets)
        except ValueError as exc:  # (torch: normalisation over a single value)
            if "more than 1 value per channel" not in str(exc):
                raise
            raise DataError(
                f"a batch of {len(idx)} image(s) resized to min_size_px {cfg.min_size_px} "
                "leaves a 1x1 px coarsest feature map, which cannot be normalised in "
                "training: use a larger batch size or min_size_px",
                path=str(dataset.root),
            ) from None
        loss = sum(loss_parts.values())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, settings.grad_clip_norm)
        opt.step()
        value = float(loss.detach())
        if not math.isfinite(value) or not all(bool(torch.isfinite(p).all()) for p in params):
            raise DataError(  # diverged: no NaN weights go into a checkpoint
                f"training diverged at iteration {it} (loss {value:g}; weights that are not "
                f"finite are not written): is learning rate {settings.learning_rate:g} too large?",
                path=str(dataset.root),
                field="learning_rate",
            )
        losses.append(value)
        bar.set_postfix(loss=f"{value:.3f}")
        if on_iteration is not None:
            on_iteration(it, value)
        done = it + 1
        if settings.checkpoint_every and done % settings.checkpoint_every == 0:
            path = out / f"checkpoint_{done:06d}.pt"
            save_checkpoint(path, model, cfg, iteration=done, training_state=state(), **meta)
            written.append(path)
    final = out / "model.pt"  # (written atomically, only once every iteration succeeded)
    save_checkpoint(
        final, model, cfg, iteration=settings.iterations, training_state=state(), **meta
    )
    written.append(final)
    return TrainResult(
        np.asarray(losses),
        written,
        start,
        len(dataset),
        len(dataset.unlabelled),
        dict(dataset.class_counts),
    )


def _check_sample_size(sample: KittiImageSample, cfg: CameraDetectorConfig) -> None:
    """:func:`check_network_size` for a training image, as a DataError naming its file."""
    height, width = sample.pixels.shape[:2]
    try:
        check_network_size(width, height, cfg)
    except ValueError as exc:
        raise DataError(str(exc), path=sample.path, field="pixels") from None


def _frames_digest(dataset: KittiImageDataset) -> str:
    """``"<count> frames, sha256 <hex>"`` over the dataset's frame names, label files' contents
    and image files' sizes (a resume check: other data under the same names differs; images
    are not read whole for it)."""
    digest = hashlib.sha256()
    for stem in dataset.stems:
        label = (dataset.root / "label_2" / f"{stem}.txt").read_bytes()
        image_bytes = (dataset.root / "image_2" / f"{stem}.png").stat().st_size
        digest.update(f"{stem}\n{hashlib.sha256(label).hexdigest()}\n{image_bytes}\n".encode())
    return f"{len(dataset)} frames, sha256 {digest.hexdigest()[:16]}"


def _resume(
    path: str | Path,
    cfg: CameraDetectorConfig,
    settings: TrainSettings,
    fixed_batch: bool,
    frames: str,
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    rng: np.random.Generator,
    n_frames: int,
) -> tuple[int, np.ndarray, int]:
    """Restore a checkpoint's weights, optimizer and RNG states into ``model``, ``opt``,
    ``rng`` and torch; returns its iteration, data order and position in it."""
    import torch

    p = str(path)
    checkpoint = read_checkpoint(path)  # read once (errors name the file)
    saved_cfg = read_checkpoint_config(path, checkpoint)
    differ = [
        f"config.{f.name} is {getattr(saved_cfg, f.name)!r} in the checkpoint but "
        f"{getattr(cfg, f.name)!r} given"
        for f in fields(CameraDetectorConfig)
        if getattr(saved_cfg, f.name) != getattr(cfg, f.name)
    ]
    if differ:
        raise DataError("cannot resume with another config: " + "; ".join(differ), path=p)
    ckpt = load_weights(model, cfg, path, checkpoint)
    state = ckpt.get("training_state")
    if not isinstance(state, dict):
        raise DataError(
            "cannot resume: the checkpoint has no optimizer, data-order and RNG state (written "
            "by an older drivestack), so training would not continue exactly; start a new run",
            path=p,
            field="training_state",
        )
    saved_settings = ckpt.get("train_settings")
    saved_settings = saved_settings if isinstance(saved_settings, dict) else {}
    given = asdict(settings)
    for name in given:
        if name not in RESUMABLE_CHANGES and saved_settings.get(name) != given[name]:
            differ.append(
                f"{name} is {saved_settings.get(name)!r} in the checkpoint but {given[name]!r} given"
            )
    if state.get("fixed_batch") != fixed_batch:
        differ.append(
            f"fixed_batch is {state.get('fixed_batch')!r} in the checkpoint but {fixed_batch!r} given"
        )
    if state.get("frames") != frames:
        differ.append(f"the data are {state.get('frames')!r} in the checkpoint but {frames!r} now")
    if differ:
        raise DataError("cannot resume with other settings: " + "; ".join(differ), path=p)
    start = ckpt.get("iteration")
    if not isinstance(start, int) or start < 0:
        raise DataError(f"bad iteration {start!r}", path=p, field="iteration")
    if start >= settings.iterations:
        raise DataError(
            f"the checkpoint is at iteration {start} already; the iterations setting is the "
            f"total ({settings.iterations}), so give more than {start} to continue",
            path=p,
            field="iteration",
        )
    try:
        order = state["data_order"].numpy().astype(np.int64)
        cursor = int(state["data_cursor"])
        if sorted(order.tolist()) != list(range(n_frames)) or not 0 <= cursor <= n_frames:
            raise ValueError("data order does not fit the data")
        opt.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["numpy_rng"]
        torch.set_rng_state(state["torch_rng"])
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as exc:
        raise DataError(
            f"damaged training state ({type(exc).__name__}: {str(exc)[:120]})",
            path=p,
            field="training_state",
        ) from None
    return start, order, cursor
