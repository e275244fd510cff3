"""drivestack's own camera detector: torchvision FCOS on a small backbone, CPU inference.

The network is built from :class:`CameraDetectorConfig` with ``weights=None`` everywhere
(nothing is downloaded); trained weights come only from a checkpoint file written by
:func:`save_checkpoint` (``tools/train_camera_detector.py``). A checkpoint records the
config it was trained with, and loading refuses a checkpoint of another architecture with an
error naming the file and the differing field (or the mismatching tensors).

Class ids of the output are :class:`ObjectClass` values of ``config.classes``; the network's
own labels are the indices into ``config.classes``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from drivestack.config import from_mapping, load_yaml_config
from drivestack.config.strict import ConfigValueError, check_config_numbers
from drivestack.core.checkpoints import check_state_dict, load_tensor_checkpoint
from drivestack.core.errors import DataError, brief_repr
from drivestack.structures.camera import CameraImage
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass

if TYPE_CHECKING:
    import torch

CHECKPOINT_FORMAT = "drivestack.camera_detector.v1"

#: backbone -> (module path of the feature maps at strides 8, 16, 32, their channel counts)
_BACKBONES: dict[str, tuple[dict[str, str], list[int]]] = {
    "resnet18": ({"layer2": "0", "layer3": "1", "layer4": "2"}, [128, 256, 512]),
    "mobilenet_v3_large": ({"6": "0", "12": "1", "16": "2"}, [40, 112, 960]),
    "mobilenet_v3_small": ({"3": "0", "8": "1", "12": "2"}, [24, 48, 576]),
}
#: fields that define the network's tensors (a checkpoint must agree on all of them)
ARCHITECTURE_FIELDS = ("backbone", "classes", "fpn_channels", "head_convs")
#: the network's internal resize: may differ from the checkpoint's, with a warning
RESIZE_FIELDS = ("min_size_px", "max_size_px")


#: The largest network and image sizes a config may ask for (a config read from a checkpoint
#: file is not trusted: fpn_channels 12800 or a 600,000 px resize asked the allocator for 6 GB
#: to 1.3 TB before anything else was checked). Generous for KITTI-sized images.
MAX_ARCHITECTURE = {
    "fpn_channels": 1024,
    "head_convs": 16,
    "min_size_px": 4096,
    "max_size_px": 8192,
    "max_detections": 10_000,
}


@dataclass(frozen=True)
class CameraDetectorConfig:
    """Architecture and inference settings.

    Attributes:
        backbone: ``resnet18``, ``mobilenet_v3_large`` or ``mobilenet_v3_small`` (random init).
        classes: KITTI/drivestack class names, in network label order.
        fpn_channels: FPN and head width (a multiple of 32: the FCOS head uses GroupNorm(32)).
        head_convs: 3x3 conv layers per FCOS head branch.
        min_size_px, max_size_px: the network's internal resize (torchvision rule: short side to
            ``min_size_px`` unless the long side would exceed ``max_size_px``); boxes are
            returned in the input image's pixels. 188/621 runs KITTI frames at half size.
        score_threshold, nms_iou, max_detections: post-processing (score in [0, 1], NMS IoU in
            (0, 1], at least one detection kept); classes are unique.
    """

    backbone: Literal["resnet18", "mobilenet_v3_large", "mobilenet_v3_small"] = "mobilenet_v3_small"
    classes: tuple[str, ...] = ("Car", "Pedestrian", "Cyclist")
    fpn_channels: int = 32
    head_convs: int = 1
    min_size_px: int = 188
    max_size_px: int = 621
    score_threshold: float = 0.2
    nms_iou: float = 0.6
    max_detections: int = 100

    def __post_init__(self) -> None:
        if not self.classes:
            raise ConfigValueError("classes must not be empty", key="classes")
        seen: set[int] = set()
        for i, name in enumerate(self.classes):
            try:
                label = int(ObjectClass.from_name(name))
            except ValueError as exc:
                raise ConfigValueError(str(exc), key=f"classes[{i}]") from None
            if label in seen:
                raise ConfigValueError(
                    f"class {name!r} given twice (one network label per class)",
                    key=f"classes[{i}]",
                )
            seen.add(label)
        check_config_numbers(
            self, "fpn_channels", integer=True, above=0, at_most=MAX_ARCHITECTURE["fpn_channels"]
        )
        if self.fpn_channels % 32:
            raise ConfigValueError(
                f"fpn_channels must be a positive multiple of 32, got {self.fpn_channels}",
                key="fpn_channels",
            )
        check_config_numbers(self, "score_threshold")  # finite
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ConfigValueError(
                f"score_threshold must be in [0, 1], got {self.score_threshold}",
                key="score_threshold",
            )
        check_config_numbers(self, "nms_iou", above=0.0, at_most=1.0)
        for name in ("max_detections", "min_size_px"):
            check_config_numbers(
                self, name, integer=True, at_least=1, at_most=MAX_ARCHITECTURE[name]
            )
        check_config_numbers(
            self, "head_convs", integer=True, at_least=0, at_most=MAX_ARCHITECTURE["head_convs"]
        )
        check_config_numbers(
            self, "max_size_px", integer=True, at_least=self.min_size_px, hint=" (min_size_px)"
        )
        check_config_numbers(
            self, "max_size_px", integer=True, at_most=MAX_ARCHITECTURE["max_size_px"]
        )

    @property
    def class_ids(self) -> np.ndarray:
        """``(K,)`` int64 :class:`ObjectClass` ids of ``classes``."""
        return np.array([int(ObjectClass.from_name(n)) for n in self.classes], dtype=np.int64)


def load_detector_config(path: str | Path) -> CameraDetectorConfig:
    """Strict YAML -> :class:`CameraDetectorConfig` (errors name the file and key)."""
    return load_yaml_config(CameraDetectorConfig, path)


def build_fcos(cfg: CameraDetectorConfig) -> torch.nn.Module:
    """The torchvision FCOS network of ``cfg`` with random weights (nothing is downloaded)."""
    import torchvision
    from torchvision.models.detection import FCOS
    from torchvision.models.detection.backbone_utils import BackboneWithFPN
    from torchvision.models.detection.fcos import FCOSHead
    from torchvision.ops.feature_pyramid_network import LastLevelP6P7

    return_layers, in_channels = _BACKBONES[cfg.backbone]
    if cfg.backbone == "resnet18":
        trunk: torch.nn.Module = torchvision.models.resnet18(weights=None)
    else:
        trunk = getattr(torchvision.models, cfg.backbone)(weights=None).features
    c = cfg.fpn_channels
    backbone = BackboneWithFPN(
        trunk, return_layers, in_channels, c, extra_blocks=LastLevelP6P7(c, c)
    )
    n_classes = len(cfg.classes)
    return FCOS(
        backbone,
        n_classes,
        min_size=cfg.min_size_px,
        max_size=cfg.max_size_px,
        head=FCOSHead(c, 1, n_classes, num_convs=cfg.head_convs),
        score_thresh=cfg.score_threshold,
        nms_thresh=cfg.nms_iou,
        detections_per_img=cfg.max_detections,
    )


def save_checkpoint(
    path: str | Path, model: torch.nn.Module, cfg: CameraDetectorConfig, **extra: Any
) -> None:
    """Write ``{format, config, state_dict, **extra}`` with :func:`torch.save` (atomic rename)."""
    import torch

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "config": asdict(cfg),
            "state_dict": model.state_dict(),
            **extra,
        },
        tmp,
    )
    tmp.replace(p)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint dict (tensors only, ``weights_only=True``) on the CPU.

    Raises:
        DataError: missing file or a directory, not a torch file (one line: the file and a
            short reason, without PyTorch's advice to unpickle), a file that pickles Python
            objects (refused, never unpickled), or not a drivestack camera-detector checkpoint
            (naming the file).
    """

    p = Path(path)
    if p.is_dir():
        hint = f" (did you mean {p / 'model.pt'}?)" if (p / "model.pt").is_file() else ""
        raise DataError(f"is a directory, not a weights file{hint}", path=str(p))
    if not p.is_file():
        raise DataError("weights file not found", path=str(p))
    ckpt = load_tensor_checkpoint(p)
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        keys = (
            brief_repr(sorted(k if isinstance(k, str) else brief_repr(k) for k in ckpt)[:5])
            if isinstance(ckpt, dict)
            else type(ckpt).__name__
        )
        raise DataError(
            f"not a drivestack camera-detector checkpoint (expected format {CHECKPOINT_FORMAT!r}; "
            f"found {keys})",
            path=str(p),
            field="format",
        )
    return ckpt


def load_weights(
    model: torch.nn.Module,
    cfg: CameraDetectorConfig,
    path: str | Path,
    checkpoint: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Load a checkpoint's weights into ``model`` (built from ``cfg``); returns the checkpoint.
    ``checkpoint``: the file's contents when :func:`read_checkpoint` has already read them
    (``path`` then only names it in errors).

    The network's resize (``min_size_px`` / ``max_size_px``) may differ from the checkpoint's
    (inference at another scale): one warning line on stderr names both.

    Raises:
        DataError: the checkpoint has no ``config``, its architecture differs from ``cfg``
            (naming the field and both values), or its ``state_dict`` fails
            :func:`~drivestack.core.checkpoints.check_state_dict` (values that are not
            tensors, do not fit the model, are integers where weights are floating point, or
            hold NaN / infinite values).
    """
    p = str(path)
    ckpt = read_checkpoint(path) if checkpoint is None else checkpoint
    saved = _saved_config(ckpt, p)
    resized = [
        f"{name} {getattr(cfg, name)} (checkpoint {getattr(saved, name)})"
        for name in RESIZE_FIELDS
        if getattr(saved, name) != getattr(cfg, name)
    ]
    if resized:
        print(
            f"warning: {p}: detector runs at {', '.join(resized)}: another scale than it was "
            "trained at",
            file=sys.stderr,
        )
    for name in ARCHITECTURE_FIELDS:
        if getattr(saved, name) != getattr(cfg, name):
            raise DataError(
                f"weights are for another architecture: {name} is {getattr(saved, name)!r} in "
                f"the checkpoint but {getattr(cfg, name)!r} in the config",
                path=p,
                field=f"config.{name}",
            )
    state = check_state_dict(ckpt.get("state_dict"), model.state_dict(), p)
    model.load_state_dict(state)
    return ckpt


def read_checkpoint_config(
    path: str | Path, checkpoint: dict[str, Any] | None = None
) -> CameraDetectorConfig:
    """The :class:`CameraDetectorConfig` a checkpoint was trained with (errors as
    :func:`read_checkpoint`, or naming the bad ``config.<key>``); ``checkpoint``: the file's
    contents when already read."""
    return _saved_config(read_checkpoint(path) if checkpoint is None else checkpoint, str(path))


def _saved_config(ckpt: dict[str, Any], path: str) -> CameraDetectorConfig:
    """The checkpoint's ``config``; DataError when it has none (its defaults are not the
    config the weights were trained with)."""
    if not isinstance(ckpt.get("config"), dict):
        raise DataError(
            "checkpoint has no config (the settings it was trained with); save it with "
            "save_checkpoint",
            path=path,
            field="config",
        )
    raw = _as_config_mapping(ckpt.get("config"))
    return from_mapping(CameraDetectorConfig, raw, path=path, prefix="config")


def _as_config_mapping(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {}
    names = {f.name for f in fields(CameraDetectorConfig)}
    out = {k: v for k, v in raw.items() if k in names}
    if "classes" in out:
        out["classes"] = list(out["classes"])
    return out


def image_to_tensor(pixels: np.ndarray, argument: str = "pixels") -> torch.Tensor:
    """``(H, W, 3)`` uint8 RGB -> ``(3, H, W)`` float32 in [0, 1]; ``ValueError`` naming
    ``argument`` for other pixels (grey, RGBA, 16-bit, float: convert them first)."""
    import torch

    px = np.asarray(pixels)
    if px.ndim != 3 or px.shape[2] != 3 or px.dtype != np.uint8:
        raise ValueError(
            f"{argument} must be (H, W, 3) uint8 RGB pixels, got shape {px.shape} {px.dtype}"
        )
    return torch.from_numpy(np.array(px, copy=True)).permute(2, 0, 1).float().div_(255.0)


def check_network_size(width_px: int, height_px: int, cfg: CameraDetectorConfig) -> None:
    """Refuse an image that the network's internal resize (see
    :class:`CameraDetectorConfig`) would shrink to no pixel across: a strip whose long side
    scaled to ``max_size_px`` leaves its short side under one pixel (e.g. 1x4000).

    Raises:
        ValueError: naming the image size and the config's ``min_size_px`` / ``max_size_px``.
    """
    short, long = min(width_px, height_px), max(width_px, height_px)
    scale = min(cfg.min_size_px / short, cfg.max_size_px / long)
    if math.floor(short * scale) < 1:
        raise ValueError(
            f"image of {width_px}x{height_px} px is too narrow for the detector: resized to at "
            f"most {cfg.max_size_px} px along its long side (max_size_px), its short side "
            f"would be {short * scale:.2g} px (min_size_px {cfg.min_size_px})"
        )


class TorchCameraDetector:
    """Camera detector stage (``reset()`` / ``step(CameraImage) -> Detections2D``), CPU inference.

    Args:
        cfg: the architecture and post-processing.
        weights_path: a checkpoint of the same architecture (see :func:`load_weights`).
        checkpoint: its contents, when already read (:func:`read_checkpoint`).
    """

    def __init__(
        self,
        cfg: CameraDetectorConfig,
        weights_path: str | Path,
        checkpoint: dict[str, Any] | None = None,
    ) -> None:
        import torch

        self.cfg = cfg
        self.model = build_fcos(cfg)
        load_weights(self.model, cfg, weights_path, checkpoint)
        self.model.eval()
        self._class_ids = torch.as_tensor(cfg.class_ids)

    def reset(self) -> None:
        """No state between images."""

    def step(self, image: CameraImage) -> Detections2D:
        """Detections of one image.

        Raises:
            ValueError: pixels other than ``(H, W, 3)`` uint8 RGB (naming ``image.pixels``), or
                an image too narrow for the network's resize (:func:`check_network_size`).
        """
        import torch

        x = image_to_tensor(image.pixels, "TorchCameraDetector.step: image.pixels")
        check_network_size(x.shape[2], x.shape[1], self.cfg)
        with torch.inference_mode():
            out = self.model([x])[0]
        labels = out["labels"].to(torch.int64)
        return Detections2D(
            box_xyxy_px=out["boxes"].double().numpy(),
            frame=image.frame,
            timestamp_ns=image.timestamp_ns,
            score=out["scores"].double().numpy(),
            label=self._class_ids[labels].numpy(),
        )
