"""Camera detector inference speed at KITTI size (1242x375) on the CPU, one thread.

Builds the detector of each config (random weights: speed does not depend on the values;
the post-processing cost of a trained model's few boxes is small), runs ``--warmup`` then
``--repeats`` single-image ``TorchCameraDetector.step`` calls on a real KITTI image (or noise)
and prints the median seconds per image and images/s. Target: >= 10 images/s.

Usage: ``.venv/bin/python tools/bench_camera_detector.py [--config YAML ...] [--image PNG]
[--repeats 10]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from drivestack.cli import report_user_errors
from drivestack.commands._paths import int_at_least

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; bad input prints one ``error: ...`` line and returns 2."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--config",
        type=Path,
        nargs="+",
        default=[REPO / "configs" / "perception" / "camera_detector.yaml"],
    )
    parser.add_argument("--image", type=Path, default=None, help="a 1242x375 PNG (default: noise)")
    parser.add_argument("--repeats", type=int_at_least(1), default=10)
    parser.add_argument("--warmup", type=int_at_least(0), default=2)
    parser.add_argument(
        "--full-res",
        action="store_true",
        help="also run each config at full 1242x375 (no internal resize)",
    )
    args = parser.parse_args(argv)
    return report_user_errors(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    import dataclasses

    import torch

    from drivestack.core.errors import DataError
    from drivestack.core.transforms import SE3
    from drivestack.perception.camera.calibration import read_image_rgb
    from drivestack.perception.camera.detector import (
        TorchCameraDetector,
        build_fcos,
        check_network_size,
        load_detector_config,
        save_checkpoint,
    )
    from drivestack.structures.camera import CameraCalibration, CameraImage

    torch.set_num_threads(1)
    if args.image is not None:
        pixels = read_image_rgb(args.image)
    else:
        pixels = np.random.default_rng(0).integers(0, 256, (375, 1242, 3), dtype=np.uint8)
    h, w = pixels.shape[:2]
    k = np.array([[721.5, 0.0, 609.6], [0.0, 721.5, 172.9], [0.0, 0.0, 1.0]])
    image = CameraImage(
        pixels, CameraCalibration("image_02", k, w, h, SE3.identity(), "camera_image_02"), 0
    )
    configs = []
    for path in args.config:
        cfg = load_detector_config(path)
        configs.append((path.name, cfg))
        if args.full_res:
            configs.append(
                (f"{path.name} full-res", dataclasses.replace(cfg, min_size_px=h, max_size_px=w))
            )
    for name, cfg in configs:  # every config fits the image before any timing
        try:
            check_network_size(w, h, cfg)
        except ValueError as exc:
            raise DataError(f"{exc} ({name})", path=str(args.image), field="--image") from None
    with tempfile.TemporaryDirectory() as tmp:
        for name, cfg in configs:
            weights = Path(tmp) / "w.pt"
            save_checkpoint(weights, build_fcos(cfg), cfg)
            det = TorchCameraDetector(cfg, weights)
            for _ in range(args.warmup):
                det.step(image)
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                det.step(image)
                times.append(time.perf_counter() - t0)
            med = statistics.median(times)
            print(
                f"{name}: {cfg.backbone} fpn {cfg.fpn_channels} head {cfg.head_convs} "
                f"internal {cfg.min_size_px}/{cfg.max_size_px} px on {w}x{h} input: "
                f"median {med * 1e3:.0f} ms/image = {1 / med:.1f} images/s (target >= 10)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
