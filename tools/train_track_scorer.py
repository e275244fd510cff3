"""Fit the offline track scorer of one class on KITTI tracking sequences, choosing its
regularisation, feature set and logit threshold by leave-one-sequence-out figures.

The tracker runs with the class's configuration minus the scorer and the score threshold, so
the fitted model sees the tracks the configured rules leave. A track is *true* when at least
half its rows match a labelled object of the class (3D IoU >= ``--iou``,
:func:`drivestack.eval.tracking.truth_match.true_track_ids`); each track is weighted by its row
count, since the protocol counts rows. For every feature set and L2 penalty, each sequence's
tracks are scored by a model fitted on the other sequences; the pooled out-of-fold scores are
evaluated at every logit threshold (sAMOTA, MOTA and HOTA of the KITTI protocol). The choice
is the best sAMOTA rounded to ``--tie`` points (differences below it are noise on a few dozen
true tracks), ties broken by HOTA; the tool prints every figure, the choice, and the YAML
block of the chosen model refitted on all the sequences.

Fit on the train split only (the val split is the report split)::

    .venv/bin/python tools/train_track_scorer.py --class Pedestrian --split train
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from drivestack.cli import report_user_errors
from drivestack.commands._paths import (
    add_kitti_root_option,
    dataset_root,
    iou_fraction,
    number_list,
    positive_number,
)
from drivestack.core.errors import DataError
from drivestack.eval.tracking import KittiMotProtocol
from drivestack.eval.tracking.kitti import evaluate_class_thresholds, load_ground_truth
from drivestack.eval.tracking.protocol import class_rule
from drivestack.eval.tracking.truth_match import class_objects, true_track_ids
from drivestack.ingest.kitti_format import KittiObjects
from drivestack.ingest.kitti_tracking import (
    KITTI_TRACKING_SPLITS,
    read_split_seqmap,
)
from drivestack.tracking.config import (
    ClassTrackerConfig,
    OfflineTrackScorerConfig,
    TrackerConfig,
    load_tracker_config,
)
from drivestack.tracking.offline import (
    drop_low_score_tracks,
    kitti_sequence_rows,
    track_mean_scores,
)
from drivestack.tracking.track_scorer import (
    TRACK_FEATURES,
    feature_columns,
    fit_logistic_track_scorer,
    track_features,
)
from drivestack.tracking.tracker import single_class_tracker

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FEATURE_SETS = (
    "mean_score;"
    "mean_score,log_displacement_m;"
    "mean_score,log_rows,log_displacement_m;"
    "mean_score,log_displacement_m,median_range_m;"
    "mean_score,log_rows,log_displacement_m,median_range_m,median_width_m,median_length_m;"
    + ",".join(TRACK_FEATURES)
)


SPLIT_HELP = (
    "KITTI tracking split: train = the 10 training sequences outside val, val = the 11 "
    "validation sequences (the report split), training = all 21 (default: %(default)s)"
)


def _kitti_class(text: str) -> str:
    """An argparse ``type``: a KITTI tracking class name (any case) as the protocol spells it."""
    try:
        class_rule(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip().capitalize()


#: the largest L2 penalty (far beyond it every weight is 0 and the fit's gradient overflows)
MAX_L2 = 1e6


def _l2_list(text: str) -> list[float]:
    """An argparse ``type`` for ``--l2``: comma-separated numbers in [0, :data:`MAX_L2`]."""
    values = number_list(minimum=0.0)(text)
    if max(values) > MAX_L2:
        raise argparse.ArgumentTypeError(f"every number must be at most {MAX_L2:g}, got {text!r}")
    return values


def _finite_float(text: str) -> float:
    """An argparse ``type`` for a finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_kitti_root_option(parser)
    parser.add_argument(
        "--config",
        type=Path,
        default=REPO / "configs/tracking/kitti_pointrcnn.yaml",
        help="tracker YAML whose --class block is fitted (default: %(default)s)",
    )
    parser.add_argument(
        "--class",
        dest="cls",
        metavar="CLASS",
        type=_kitti_class,
        default="Pedestrian",
        help="KITTI class to fit: Car, Pedestrian or Cyclist, any case (default: %(default)s)",
    )
    parser.add_argument("--split", choices=KITTI_TRACKING_SPLITS, default="train", help=SPLIT_HELP)
    parser.add_argument(
        "--feature-sets",
        default=DEFAULT_FEATURE_SETS,
        help="feature sets to compare: names joined by ',', sets by ';' "
        f"(known: {', '.join(TRACK_FEATURES)}; default: six sets, from mean_score alone to all)",
    )
    parser.add_argument(
        "--l2",
        type=_l2_list,
        default="0.003,0.01,0.03,0.1",
        help="L2 penalties to compare, comma-separated, each in [0, 1e6] (default: %(default)s)",
    )
    parser.add_argument(
        "--min-logits",
        type=number_list(),
        default="-3,-2.5,-2,-1.5,-1",
        help="logit thresholds, comma-separated (negative ones as --min-logits=-3,-2; "
        "default: %(default)s)",
    )
    parser.add_argument(
        "--min-mean-score",
        type=_finite_float,
        default=3.0,
        help="candidate tracks' mean score (default: %(default)s)",
    )
    parser.add_argument(
        "--iou",
        type=iou_fraction,
        default=0.25,
        help="3D IoU of a true row, in (0, 1] (default: %(default)s)",
    )
    parser.add_argument(
        "--tie",
        type=positive_number,
        default=0.05,
        help="sAMOTA is compared rounded to this many points (default: %(default)s)",
    )
    return parser.parse_args(argv)


def _tracked_rows(args: argparse.Namespace) -> tuple[list, dict, dict, dict]:
    """Seqmap, per-sequence candidate rows, camera poses and ground truth of the split."""
    root = dataset_root("kitti-tracking", args.kitti_root, option="--kitti-root")
    cfg = load_tracker_config(args.config)
    class_cfg = _class_config(cfg, args.cls, args.config)
    unscored = replace(
        class_cfg,
        offline_track_scorer=OfflineTrackScorerConfig(),
        offline_min_track_score=None,
        offline_track_mean_score=False,
    )
    tracker = single_class_tracker(replace(cfg, ego_motion_compensation=True), args.cls)
    seqmap = read_split_seqmap(root, args.split)
    rows: dict[str, KittiObjects] = {}
    poses: dict[str, np.ndarray] = {}
    for e in seqmap:
        run, seq_rows = kitti_sequence_rows(tracker, root, args.cls, e, unscored)
        assert run.camera_poses is not None  # the tracker compensates ego motion
        poses[e.name] = run.camera_poses
        rows[e.name] = drop_low_score_tracks(seq_rows, args.min_mean_score)
        print(f"tracked {args.cls} in {e.name}", file=sys.stderr)
    truth = load_ground_truth(root / "training" / "label_02", seqmap)
    return seqmap, rows, poses, truth


def _class_config(cfg: TrackerConfig, cls: str, path: Path) -> ClassTrackerConfig:
    """The block of ``cls`` in the tracker config (keys any case); DataError naming
    ``--class`` and the configured classes otherwise."""
    by_name = {name.lower(): c for name, c in cfg.classes.items()}
    if cls.lower() not in by_name:
        raise DataError(
            f"no classes entry for --class {cls} (configured: {', '.join(cfg.classes) or 'none'})",
            path=str(path),
            field="classes",
        )
    return by_name[cls.lower()]


def _feature_sets(text: str) -> list[list[str]]:
    """``--feature-sets`` as lists of names; DataError naming the option for unknown names
    (before any tracking)."""
    feature_sets = [[n.strip() for n in s.split(",") if n.strip()] for s in text.split(";")]
    feature_sets = [names for names in feature_sets if names]
    if not feature_sets:
        raise DataError(f"--feature-sets: no feature names in {text!r}")
    for names in feature_sets:
        try:
            feature_columns(names)
        except ValueError as exc:
            raise DataError(f"--feature-sets: {exc}") from None
    return feature_sets


def main(argv: list[str] | None = None) -> int:
    """Run the tool; input errors print one ``error: ...`` line and return 2."""
    args = _parse(argv)
    return report_user_errors(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    feature_sets = _feature_sets(args.feature_sets)
    seqmap, rows, poses, truth = _tracked_rows(args)
    tables = {}
    for name in rows:
        ids, feats = track_features(rows[name], poses[name])
        true_ids = true_track_ids(rows[name], class_objects(truth[name], args.cls), args.iou)
        n_rows = np.bincount(
            np.unique(rows[name].track_id, return_inverse=True)[1], minlength=len(ids)
        )
        tables[name] = (ids, feats, np.isin(ids, true_ids), n_rows.astype(float))
    n_true = sum(int(t[2].sum()) for t in tables.values())
    n_tracks = sum(len(t[0]) for t in tables.values())
    print(f"{args.cls}, {args.split}: {n_tracks} candidate tracks, {n_true} true")
    if args.split != "train":  # the report split would be fitted on
        print(
            f"warning: fitting on the {args.split} split, which holds the val sequences the "
            "tracker is reported on: a scorer chosen there is tuned on the test set (use "
            "--split train)",
            file=sys.stderr,
        )
    if n_true == 0 or n_true == n_tracks:  # (a traceback after the whole tracking pass before)
        raise DataError(
            f"{n_tracks} candidate tracks, {n_true} of them true: fitting needs both true and "
            f"false tracks (loosen --iou {args.iou:g} or --min-mean-score "
            f"{args.min_mean_score:g}, or pick another --class or --split)",
            field="--class",
        )
    protocol = KittiMotProtocol(min_overlap=args.iou)

    def figures(logits: dict[str, np.ndarray], min_logit: float) -> tuple[float, float, float]:
        results = {}
        for name, (ids, *_rest) in tables.items():
            scored = (
                replace(rows[name], score=logits[name][np.searchsorted(ids, rows[name].track_id)])
                if len(rows[name])
                else rows[name]
            )
            results[name] = track_mean_scores(drop_low_score_tracks(scored, min_logit))
        m = evaluate_class_thresholds(args.cls, seqmap, truth, results, protocol, [args.iou])[0]
        return 100 * m.clear.sAMOTA, 100 * m.clear.best.MOTA, 100 * m.hota.HOTA

    best: tuple[float, float, list[str], float, float] | None = None
    print(f"{'features':>8} {'l2':>6} " + " ".join(f"{t:>18g}" for t in args.min_logits))
    for names in feature_sets:
        cols = feature_columns(names)
        for l2 in args.l2:
            out_of_fold = {}
            for held in tables:
                rest = [t for k, t in tables.items() if k != held]
                try:
                    weights, bias = fit_logistic_track_scorer(
                        np.concatenate([t[1][:, cols] for t in rest]),
                        np.concatenate([t[2] for t in rest]),
                        np.concatenate([t[3] for t in rest]),
                        l2,
                        names,
                    )
                except ValueError as exc:  # a fold whose other sequences lack true tracks
                    raise DataError(
                        f"leaving out sequence {held}: {exc} in the other sequences (use a "
                        "split with more sequences, or another --class)",
                        field="--split",
                    ) from None
                out_of_fold[held] = bias + tables[held][1][:, cols] @ np.array(
                    list(weights.values())
                )
            cells = []
            for min_logit in args.min_logits:
                samota, mota, hota = figures(out_of_fold, min_logit)
                cells.append(f"{samota:6.2f}/{mota:5.1f}/{hota:5.1f}")
                key = (round(samota / args.tie), hota)
                if best is None or key > (round(best[0] / args.tie), best[1]):
                    best = (samota, hota, names, l2, min_logit)
            print(f"{len(names):>8} {l2:>6g} " + " ".join(cells))
    assert best is not None
    samota, hota, names, l2, min_logit = best
    cols = feature_columns(names)
    weights, bias = fit_logistic_track_scorer(
        np.concatenate([t[1][:, cols] for t in tables.values()]),
        np.concatenate([t[2] for t in tables.values()]),
        np.concatenate([t[3] for t in tables.values()]),
        l2,
        names,
    )
    print(
        f"\nchosen: {len(names)} features, l2 {l2:g}, logit threshold {min_logit:g} (out-of-fold sAMOTA {samota:.2f}, HOTA {hota:.2f})"
    )
    print(f"\nYAML (class block; fitted on the {args.split} split, {', '.join(tables)}):")
    print(f"    offline_min_track_score: {min_logit:g}")
    print("    offline_track_scorer:")
    print(f"      min_mean_score: {args.min_mean_score:g}")
    print(f"      bias: {bias:.4f}")
    print("      weights:")
    for n, w in weights.items():
        print(f"        {n}: {w:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
