"""Train drivestack's small learned motion forecaster on KITTI tracking's train split.

Cases are those of ``drivestack eval prediction`` (ground-truth labelled tracks in each
sequence's world frame, 1 s of past, 3 s of truth) with anchors every ``--stride-s`` (0.1 s:
denser than the eval's 0.5 s). Only the train split is read (the training seqmap minus
``evaluate_tracking.seqmap.val``); of its sequences, every fifth from the second
(``--holdout-every``; ``0002`` and ``0009``) is held out for choosing the epoch, never the
val split, AV2 or CommonRoad. CPU, one thread, deterministic for ``--seed``.

The checkpoint is written to ``--out`` only (an existing one is replaced only with
``--overwrite``): it is derived from KITTI (non-commercial licence) and is not part of the
package. Score it with::

    drivestack eval prediction --dataset kitti-tracking --split val \\
        --models constant_velocity,ctrv,learned --forecaster runs/forecaster.pt --out runs/pred

Usage:
  .venv/bin/python tools/train_forecaster.py --out runs/forecaster.pt [--kitti-root DIR]
      [--epochs 20] [--seed 0] [--stride-s 0.1] [--holdout-every 5] [--quiet]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from drivestack.cli import report_user_errors
from drivestack.commands._paths import (
    add_kitti_root_option,
    check_out_dir,
    dataset_root,
    duration_s,
    int_at_least,
    seed_int,
)
from drivestack.core.errors import DataError
from drivestack.core.provenance import run_provenance
from drivestack.eval.prediction.cases import CaseSettingError, CaseSettings, build_cases
from drivestack.eval.prediction.sources import read_kitti_trajectories
from drivestack.ingest.kitti_tracking import read_split_seqmap
from drivestack.prediction.learned import (
    ForecasterConfig,
    ForecastSamples,
    TrainingSettings,
    save_forecaster,
    train_forecaster,
)


def kitti_samples(root: Path, sequences: list[str], settings: CaseSettings) -> ForecastSamples:
    """The eval's cases of the KITTI tracking ``sequences`` as training samples."""
    parts = []
    for name in sequences:
        cases = build_cases(read_kitti_trajectories(root, name), settings)
        parts.append(
            ForecastSamples(
                cases.past_t_s, cases.past_boxes, cases.label, cases.future_t_s, cases.future_boxes
            )
        )
    return ForecastSamples.concatenate(parts)


def split_holdout(sequences: list[str], every: int) -> tuple[list[str], list[str]]:
    """``(train, held out)``: every ``every``-th sequence from the second is held out."""
    held = [s for i, s in enumerate(sequences) if i % every == 1]
    return [s for s in sequences if s not in held], held


#: the widest anchor spacing (an hour: longer than any recorded sequence)
MAX_STRIDE_S = 3600.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True, help="checkpoint file to write")
    add_kitti_root_option(parser)
    parser.add_argument("--epochs", type=int_at_least(1), default=TrainingSettings.epochs)
    parser.add_argument(
        "--seed", type=seed_int, default=TrainingSettings.seed, help="in [0, 2**63)"
    )
    parser.add_argument(
        "--stride-s",
        type=duration_s(MAX_STRIDE_S),
        default=0.1,
        help=f"anchor spacing (s, > 0, at most {MAX_STRIDE_S:g})",
    )
    parser.add_argument(
        "--holdout-every", type=int_at_least(2), default=5, help="hold out every N-th sequence"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing --out checkpoint"
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    return report_user_errors(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    if args.out.is_dir():
        raise DataError("is a directory; give the checkpoint's file name", path=str(args.out))
    check_out_dir(args.out.parent)  # writable, checked before the training
    if args.out.exists() and not args.overwrite:
        raise DataError(
            "exists (an earlier training run's checkpoint): give another --out, or --overwrite "
            "to replace it",
            path=str(args.out),
            field="--out",
        )
    root = dataset_root("kitti-tracking", args.kitti_root, option="--kitti-root")
    cfg = ForecasterConfig()
    case_settings = CaseSettings(cfg.history_s, cfg.horizon_s, args.stride_s)
    sequences = [e.name for e in read_split_seqmap(root, "train")]
    train_seqs, held_seqs = split_holdout(sequences, args.holdout_every)
    if not train_seqs or not held_seqs:  # (no cases to join: a traceback before)
        raise DataError(
            f"the train split's {len(sequences)} sequence(s) {sequences} leave "
            f"{len(train_seqs)} to train on and {len(held_seqs)} held out with --holdout-every "
            f"{args.holdout_every}; both need at least one (the split is "
            "seqmaps/evaluate_tracking.seqmap.training less .val)",
            path=str(root),
            field="--holdout-every",
        )
    start = time.perf_counter()
    try:
        train = kitti_samples(root, train_seqs, case_settings)
        held = kitti_samples(root, held_seqs, case_settings)
    except CaseSettingError as exc:  # (only --stride-s is the user's)
        raise DataError(exc.reason, field="--" + exc.name.replace("_", "-")) from None
    if not len(train) or not len(held):
        raise DataError(
            f"{len(train)} training and {len(held)} held-out cases at a {args.stride_s:g} s "
            "stride; both must be non-empty (a shorter stride gives more)",
            field="--stride-s",
        )
    settings = TrainingSettings(epochs=args.epochs, seed=args.seed)

    def progress(epoch: int, loss: float, ade_m: float) -> None:
        if not args.quiet:
            print(f"epoch {epoch:3d}  train loss {loss:.4f}  held-out top-mode ADE {ade_m:.4f} m")

    provenance = {
        "datasets": ["kitti_tracking"],
        "split": "train",
        "training_sequences": train_seqs,
        "holdout_sequences": held_seqs,
        "stride_s": args.stride_s,
        "seed": args.seed,
        "licence_note": "derived from KITTI (CC BY-NC-SA 3.0): not for commercial use",
        **run_provenance(),
    }
    forecaster, figures = train_forecaster(train, held, cfg, settings, provenance, progress)
    save_forecaster(args.out, forecaster)
    print(
        f"{figures['training_cases']} training cases ({', '.join(train_seqs)}), "
        f"{figures['holdout_cases']} held out ({', '.join(held_seqs)}); "
        f"{figures['parameters']} parameters; best epoch {figures['best_epoch']}: held-out "
        f"top-mode ADE@{cfg.horizon_s:g}s {figures['holdout_top_mode_ade_m']:.3f} m; "
        f"{time.perf_counter() - start:.0f} s"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
