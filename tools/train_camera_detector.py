"""Train drivestack's camera detector (torchvision FCOS) on a KITTI-layout dataset.

The dataset is ``<data>/image_2/*.png`` with ``<data>/label_2/*.txt`` (KITTI object labels):
the simulator's exported frames, or KITTI object ``training/`` for users who have it.
Checkpoints (``checkpoint_<iteration>.pt`` every ``--checkpoint-every`` iterations, and
``model.pt`` at the end) go to ``--out``; each embeds the detector config and training
settings, and loads with ``TorchCameraDetector(load_detector_config(config), path)``
(both from ``drivestack.perception.camera``). ``tools/predict_camera_detector.py`` runs it over
an image folder into KITTI 2D result files that ``drivestack eval detection2d`` scores.

Usage:
  .venv/bin/python tools/train_camera_detector.py --data DIR --out runs/camdet \\
      [--config configs/perception/camera_detector.yaml] [--iterations 2000] [--batch-size 4]
      [--lr 1e-3] [--seed 0] [--checkpoint-every 200] [--resume CKPT]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO / "configs" / "perception" / "camera_detector.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, required=True, help="KITTI-layout folder (image_2/, label_2/)"
    )
    parser.add_argument("--out", type=Path, required=True, help="checkpoint folder")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="detector YAML")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--checkpoint-every", type=int, default=200, help="0: only the final model.pt"
    )
    parser.add_argument("--no-flip", action="store_true", help="no horizontal-flip augmentation")
    parser.add_argument("--resume", type=Path, default=None, help="start from this checkpoint")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    import torch

    from drivestack.cli import report_user_errors
    from drivestack.perception.camera.detector import load_detector_config
    from drivestack.perception.camera.training import TrainSettings, train_detector

    torch.set_num_threads(1)

    def run() -> int:
        cfg = load_detector_config(args.config)
        settings = TrainSettings(
            iterations=args.iterations,
            batch_size=args.batch_size,
            learning_rate=args.lr,
            seed=args.seed,
            flip=not args.no_flip,
            checkpoint_every=args.checkpoint_every,
        )
        result = train_detector(
            cfg, args.data, args.out, settings, resume=args.resume, progress=not args.quiet
        )
        summary = {
            "config_file": str(args.config),
            "iterations": int(result.losses.shape[0]),
            "first_loss": float(result.losses[0]),
            "last_loss": float(result.losses[-1]),
            "checkpoints": [str(p) for p in result.checkpoints],
        }
        (args.out / "train_summary.json").write_text(json.dumps(summary, indent=1))
        print(json.dumps(summary, indent=1))
        return 0

    return report_user_errors(run)  # bad input: one line, exit 2


if __name__ == "__main__":
    sys.exit(main())
