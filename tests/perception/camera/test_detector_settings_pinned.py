"""The camera detector's post-processing settings and its pixel conversion, pinned by value."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from drivestack.perception.camera.detector import build_fcos, image_to_tensor
from tests.perception.camera.test_detector import SMALL

torch.set_num_threads(1)


def test_config_post_processing_settings_reach_the_fcos_model() -> None:
    # Values chosen to differ from torchvision's FCOS defaults (score 0.2, NMS 0.6, 100
    # detections) and from the mutants' hard-coded 0.05 / 0.5, so each must come from cfg.
    cfg = dataclasses.replace(SMALL, score_threshold=0.35, nms_iou=0.45, max_detections=7)
    torch.manual_seed(0)
    m = build_fcos(cfg)
    assert m.score_thresh == 0.35
    assert m.nms_thresh == 0.45
    assert m.detections_per_img == 7


def test_image_to_tensor_scales_to_unit_range_in_channel_first_layout() -> None:
    px = np.zeros((2, 3, 3), np.uint8)  # H=2, W=3, RGB
    px[1, 2] = (255, 0, 51)
    t = image_to_tensor(px)
    # (H, W, 3) -> (3, H, W): (2, 3, 3) -> (3, 2, 3)
    assert tuple(t.shape) == (3, 2, 3)
    assert t.dtype == torch.float32
    # red channel at row 1, column 2: 255 / 255 = 1.0
    assert t[0, 1, 2].item() == 1.0
    # green: 0 / 255 = 0.0
    assert t[1, 1, 2].item() == 0.0
    # blue: 51 / 255 = 0.2 (float32 rounding)
    assert abs(t[2, 1, 2].item() - 0.2) < 1e-6
    # every other pixel stays 0
    assert abs(t.sum().item() - 1.2) < 1e-6  # 1.0 + 0.2
