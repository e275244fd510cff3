"""Train drivestack's camera detector (torchvision FCOS) on a KITTI-layout dataset.

The dataset is ``<data>/image_2/*.png`` with ``<data>/label_2/*.txt`` (KITTI object labels):
the simulator's exported frames, or KITTI object ``training/`` for users who have it.
Training runs on the CPU (one thread; no GPU is used) and is deterministic for a seed.
Checkpoints (``checkpoint_<iteration>.pt`` every ``--checkpoint-every`` iterations, and
``model.pt`` once the last iteration is done) go to ``--out``; each embeds the detector config,
the training settings and the training state, and loads with
``TorchCameraDetector(load_detector_config(config), path)`` (both from
``drivestack.perception.camera``). ``tools/predict_camera_detector.py`` runs it over an image
folder into KITTI 2D result files that ``drivestack eval detection2d`` scores.

``--iterations`` is the total. ``--resume CKPT`` continues a checkpoint of iteration k with
iterations k .. N-1 (its optimizer, data order and RNG states restored): the final weights
equal those of an uninterrupted N-iteration run. The config, data and every setting but
``--iterations`` and ``--checkpoint-every`` must be the checkpoint's (an error names what
differs); checkpoints without training state (older drivestack) are refused. An ``--out``
holding an earlier run's ``model.pt``, checkpoints or summary is refused unless ``--overwrite``
(which removes them first) or ``--resume`` continues a checkpoint in it. Data without a
labelled object of the config's classes is refused, a class without one is warned about, and
``train_summary.json`` records the objects per class (``class_counts``).
Errors are one line on stderr, exit status 2, and write nothing.

Usage:
  .venv/bin/python tools/train_camera_detector.py --data DIR --out runs/camdet \\
      [--split train] [--config configs/perception/camera_detector.yaml] [--iterations 2000] [--batch-size 4]
      [--lr 1e-3] [--seed 0] [--checkpoint-every 200] [--no-flip] [--resume CKPT] [--quiet]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from drivestack.commands._paths import add_quiet_option, int_at_least, positive_number, seed_int
from drivestack.perception.camera.training import MAX_LEARNING_RATE  # (imports no torch)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO / "configs" / "perception" / "camera_detector.yaml"


def learning_rate(text: str) -> float:
    """An argparse ``type`` for a learning rate in (0, :data:`MAX_LEARNING_RATE`]."""
    value = positive_number(text)
    if value > MAX_LEARNING_RATE:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_LEARNING_RATE:g}, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, required=True, help="KITTI-layout folder (image_2/, label_2/)"
    )
    parser.add_argument(
        "--split",
        default=None,
        metavar="NAME",
        help="train on the frames ImageSets/NAME.txt lists (e.g. train; the simulator export "
        "and KITTI keep it beside training/); default: every labelled frame",
    )
    parser.add_argument("--out", type=Path, required=True, help="checkpoint folder")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="detector YAML")
    parser.add_argument(
        "--iterations",
        type=int_at_least(1),
        default=2000,
        help="total iterations (batches), counted from 0 also with --resume (default 2000)",
    )
    parser.add_argument("--batch-size", type=int_at_least(1), default=4, help="(default 4)")
    parser.add_argument(
        "--lr",
        type=learning_rate,
        default=1e-3,
        help=f"AdamW learning rate, at most {MAX_LEARNING_RATE:g} (default 1e-3)",
    )
    parser.add_argument("--seed", type=seed_int, default=0, help="(default 0)")
    parser.add_argument(
        "--checkpoint-every",
        type=int_at_least(0),
        default=200,
        help="write checkpoint_<iteration>.pt this often; 0: only the final model.pt",
    )
    parser.add_argument("--no-flip", action="store_true", help="no horizontal-flip augmentation")
    parser.add_argument(
        "--resume",
        type=Path,
        default=None,
        help="continue this checkpoint (same config, data and settings) up to --iterations",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier run's model.pt, checkpoints and summary in --out (refused "
        "without it, unless --resume continues a checkpoint of --out)",
    )
    add_quiet_option(parser)
    args = parser.parse_args(argv)

    import torch

    from drivestack.cli import report_user_errors
    from drivestack.commands._paths import check_out_dir, clear_earlier_outputs
    from drivestack.core.atomic import write_text_atomic
    from drivestack.core.errors import DrivestackError
    from drivestack.perception.camera.detector import load_detector_config
    from drivestack.perception.camera.training import (
        TRAINING_OUTPUTS,
        KittiImageDataset,
        TrainSettings,
        train_detector,
    )

    torch.set_num_threads(1)

    def run() -> int:
        check_out_dir(args.out)
        cfg = load_detector_config(args.config)
        # bad data: refused before --out
        dataset = KittiImageDataset(args.data, cfg.classes, split=args.split)
        continues = args.resume is not None and args.resume.resolve().parent == args.out.resolve()

        def clear() -> object:  # (a resume of a checkpoint in --out continues that run there)
            if continues or not args.out.is_dir():
                return None
            return clear_earlier_outputs(args.out, TRAINING_OUTPUTS, args.overwrite)

        # without --overwrite an earlier run is refused now, before any work; with it, it is
        # removed once the run's own checks passed (train_detector's before_writing)
        if not args.overwrite:
            clear()
        settings = TrainSettings(
            iterations=args.iterations,
            batch_size=args.batch_size,
            learning_rate=args.lr,
            seed=args.seed,
            flip=not args.no_flip,
            checkpoint_every=args.checkpoint_every,
        )
        existed = args.out.exists()
        try:
            result = train_detector(
                cfg,
                dataset,
                args.out,
                settings,
                resume=args.resume,
                progress=not args.quiet,
                before_writing=clear if args.overwrite else None,
            )
        except DrivestackError:
            if not existed:  # the folder it made, while still empty (checkpoints are kept)
                with contextlib.suppress(OSError):
                    args.out.rmdir()
            raise
        summary = {
            "config_file": str(args.config),
            "iterations": settings.iterations,
            "resumed_from": None if args.resume is None else str(args.resume),
            "start_iteration": result.start_iteration,  # the first_loss is this iteration's
            "n_frames": result.n_frames,  # images with a label file, trained on
            "n_unlabelled": result.n_unlabelled,  # images without one, left out (warned)
            "class_counts": result.class_counts,  # labelled objects per class (0: warned)
            "first_loss": float(result.losses[0]),
            "last_loss": float(result.losses[-1]),
            "checkpoints": [str(p) for p in result.checkpoints],
        }
        write_text_atomic(args.out / "train_summary.json", json.dumps(summary, indent=1))
        print(json.dumps(summary, indent=1))
        return 0

    return report_user_errors(run)  # bad input: one line, exit 2


if __name__ == "__main__":
    sys.exit(main())
