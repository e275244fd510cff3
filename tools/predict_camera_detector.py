"""Run a trained camera detector over a KITTI-layout image folder; write KITTI 2D result files.

Reads ``<images>/*.png`` (or ``<images>/image_2/``, ``<images>/training/image_2/``: a KITTI
root or a simulator export), runs :class:`drivestack.perception.camera.TorchCameraDetector` on
the CPU and writes one ``<out>/<stem>.txt`` per image (empty when nothing is detected), rows as
the KITTI devkit's 2D-only results: ``Car -1 -1 -10 x1 y1 x2 y2 -1 -1 -1 -1000 -1000 -1000 -10
score``. Score them with ``drivestack eval detection2d --labels <data>/label_2 --results <out>``.
An ``--out`` holding an earlier run's results (``<frame number>.txt``) is refused unless
``--overwrite`` (which removes them first): the scorer would read old files beside the new.

Usage:
  .venv/bin/python tools/predict_camera_detector.py --weights runs/camdet/model.pt \\
      --images DATA/training --out runs/camdet/results \\
      [--config configs/perception/camera_detector.yaml] [--score-threshold 0.2] [--quiet]

``--config`` defaults to the config stored in the checkpoint; a config of another architecture
is refused. Errors are one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drivestack.commands._paths import add_quiet_option


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--weights", type=Path, required=True, help="checkpoint (model.pt)")
    parser.add_argument(
        "--images", type=Path, required=True, help="image folder, KITTI root or sim export"
    )
    parser.add_argument("--out", type=Path, required=True, help="result folder (<stem>.txt)")
    parser.add_argument(
        "--config", type=Path, default=None, help="detector YAML (default: the checkpoint's)"
    )
    parser.add_argument(
        "--score-threshold",
        type=float,
        default=None,
        help="keep detections scoring at least this, in [0, 1] (default: the config's)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the result files (*.txt) an earlier run left in --out (refused without "
        "it: eval detection2d would score the old files beside the new)",
    )
    add_quiet_option(parser)
    args = parser.parse_args(argv)

    import dataclasses

    import torch

    from drivestack.cli import report_user_errors
    from drivestack.commands._paths import (
        check_out_dir,
        clear_earlier_outputs,
        removed_on_failure,
    )
    from drivestack.core.errors import DataError
    from drivestack.perception.camera import TorchCameraDetector, load_detector_config
    from drivestack.perception.camera.detector import read_checkpoint, read_checkpoint_config
    from drivestack.perception.camera.predict import predict_kitti_folder

    torch.set_num_threads(1)

    def run() -> int:
        check_out_dir(args.out)  # before the weights are read
        checkpoint = read_checkpoint(args.weights)  # once: the config and the weights
        # (after a readable checkpoint) result files are named by frame number: a user's own
        # notes.txt beside them is neither refused nor removed
        clear_earlier_outputs(args.out, ("[0-9]*.txt",), args.overwrite)
        cfg = (
            read_checkpoint_config(args.weights, checkpoint)
            if args.config is None
            else load_detector_config(args.config)
        )
        if args.score_threshold is not None:
            if not 0.0 <= args.score_threshold <= 1.0:
                raise DataError(
                    f"must be in [0, 1], got {args.score_threshold}", field="--score-threshold"
                )
            cfg = dataclasses.replace(cfg, score_threshold=args.score_threshold)
        detector = TorchCameraDetector(cfg, args.weights, checkpoint)
        with removed_on_failure(args.out):  # a failed run leaves no folder it made
            summary = predict_kitti_folder(detector, args.images, args.out, progress=not args.quiet)
        print(
            f"wrote {summary.n_images} result files ({summary.n_detections} detections, score "
            f">= {cfg.score_threshold:g}) of {summary.image_dir} to {summary.out_dir}"
        )
        return 0

    return report_user_errors(run)


if __name__ == "__main__":
    sys.exit(main())
