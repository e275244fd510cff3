"""Upper bounds on KITTI 3D-MOT figures that any tracker of a given detection set can reach.

An *oracle tracker* is built from the ground truth: every detection that overlaps a
ground-truth object of the class (3D IoU >= ``--iou``, one to one per frame, Hungarian on IoU)
is written with that object's track id and score 1; every other detection is dropped (no false
positive, no ID switch, perfect ranking). Optionally the oracle also fills the frames of an
object that lie

- between two of its matched frames at most ``--fill-gap`` frames apart: with the ground-truth
  box itself (``--fill-from truth``, a perfect interpolator) or with the two detections' boxes
  interpolated linearly in the ego-pose world frame (``--fill-from detections``, what a tracker
  that associates perfectly and interpolates its gaps writes), and
- up to ``--extend`` frames before its first and after its last matched frame, with the
  ground-truth box (a perfect extrapolator; ``--fill-from truth`` only).

With ``--rank-results DIR`` the tool instead bounds what better track scores alone could give
a tracker's own result files (``DIR/<Class>/NNNN.txt``): a track whose rows match a labelled
object of the class (3D IoU >= ``--iou``, one to one per frame) in at least half its frames is
true and is ranked above every other track (its rows' scores raised by a constant); nothing
else changes. KITTI's protocol ranks whole tracks by their mean score, so this is the best
ranking of those tracks for sAMOTA up to the half-matched rule.

The result files are scored by ``drivestack eval tracking --results`` (same evaluator, same
protocol), so the figures printed are what a tracker would get if every decision it makes were
right: no real tracker that only writes boxes where these detections (and their filled gaps)
are can exceed them. sAMOTA in particular is bounded by the highest recall the detections allow.

Usage::

    python tools/tracking_oracle_bound.py --kitti-root ../shared/data/kitti_tracking \
        --split val --classes Pedestrian --fill-gap 5 --out /tmp/oracle
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np

from drivestack.cli import main as cli_main
from drivestack.cli import report_user_errors
from drivestack.commands._paths import (
    add_kitti_root_option,
    check_out_dir,
    dataset_root,
    int_at_least,
    iou_fraction,
    removed_on_failure,
)
from drivestack.core.errors import DataError
from drivestack.eval.tracking.kitti import result_file
from drivestack.eval.tracking.protocol import class_rule
from drivestack.eval.tracking.truth_match import class_objects, match_to_truth, true_track_ids
from drivestack.ingest.kitti_format import KittiObjects
from drivestack.ingest.kitti_tracking import (
    AB3DMOT_FOLDER,
    KITTI_TRACKING_SPLITS,
    KittiTrackingSequence,
    ab3dmot_detection_file,
    read_ab3dmot_detections,
    read_ego_poses,
    read_split_seqmap,
    read_tracking_labels,
    write_tracking_results,
)
from drivestack.tracking.offline import track_mean_scores


def filled_truth_rows(
    truth: KittiObjects, matched_truth: np.ndarray, fill_gap: int, extend: int
) -> np.ndarray:
    """``(F,)`` indices of unmatched truth rows a perfect interpolator / extrapolator would write.

    A row of object ``k`` at frame ``f`` is filled when ``f`` lies strictly between two matched
    frames of ``k`` at most ``fill_gap`` frames apart, or within ``extend`` frames of ``k``'s
    first or last matched frame.
    """
    is_matched = np.zeros(len(truth), dtype=bool)
    is_matched[matched_truth] = True
    filled: list[int] = []
    for track in np.unique(truth.track_id[is_matched]):
        rows = np.flatnonzero(truth.track_id == track)
        frames = truth.frame[rows]
        hit_frames = np.sort(frames[is_matched[rows]])
        nxt = np.searchsorted(hit_frames, frames)
        prev_f = np.where(nxt > 0, hit_frames[np.maximum(nxt - 1, 0)], -(10**9))
        next_f = np.where(
            nxt < hit_frames.size, hit_frames[np.minimum(nxt, hit_frames.size - 1)], 10**9
        )
        in_gap = (next_f - prev_f <= fill_gap) & (prev_f > -(10**9)) & (next_f < 10**9)
        near_end = (frames < hit_frames[0]) & (hit_frames[0] - frames <= extend)
        near_end |= (frames > hit_frames[-1]) & (frames - hit_frames[-1] <= extend)
        take = ~is_matched[rows] & (in_gap | near_end)
        filled.extend(rows[take].tolist())
    return np.asarray(filled, dtype=np.int64)


def _heading_world(rotation_y_rad: float, world_from_camera: np.ndarray) -> np.ndarray:
    """``(3,)`` unit heading of a KITTI box (``rotation_y`` about camera y) in the world frame."""
    heading = np.array([np.cos(rotation_y_rad), 0.0, -np.sin(rotation_y_rad)])
    return np.asarray(world_from_camera[:3, :3] @ heading)


def _interpolated_row(
    rows: KittiObjects, a: int, b: int, frame: int, camera_poses: np.ndarray
) -> KittiObjects:
    """Row ``a`` and row ``b`` (same track, frames ``f_a < frame < f_b``) interpolated at ``frame``.

    Centres and headings are blended in the world frame of ``camera_poses`` ``(F, 4, 4)``
    (camera -> world), the heading of ``b`` flipped first when it points against ``a``'s;
    sizes, 2D boxes and observation angles are blended as they are.
    """
    fa, fb = int(rows.frame[a]), int(rows.frame[b])
    t = (frame - fa) / (fb - fa)
    pa, pb, pf = camera_poses[fa], camera_poses[fb], camera_poses[frame]
    centre_world = (1 - t) * (pa[:3, :3] @ rows.location_m[a] + pa[:3, 3]) + t * (
        pb[:3, :3] @ rows.location_m[b] + pb[:3, 3]
    )
    heading_a = _heading_world(float(rows.rotation_y_rad[a]), pa)
    heading_b = _heading_world(float(rows.rotation_y_rad[b]), pb)
    if heading_a @ heading_b < 0:
        heading_b = -heading_b
    heading = pf[:3, :3].T @ ((1 - t) * heading_a + t * heading_b)
    row = rows.select([a])

    def blend(values: np.ndarray) -> np.ndarray:
        return np.asarray((1 - t) * values[[a]] + t * values[[b]])

    return replace(
        row,
        frame=np.array([frame]),
        location_m=(pf[:3, :3].T @ (centre_world - pf[:3, 3]))[None, :],
        rotation_y_rad=np.array([np.arctan2(-heading[2], heading[0])]),
        hwl_m=blend(rows.hwl_m),
        box2d_xyxy_px=blend(rows.box2d_xyxy_px),
        alpha_rad=blend(rows.alpha_rad),
    )


def interpolated_gap_rows(
    rows: KittiObjects, fill_gap: int, camera_poses: np.ndarray
) -> KittiObjects:
    """Rows for every frame between two rows of a track at most ``fill_gap`` frames apart."""
    out: list[KittiObjects] = []
    for track in np.unique(rows.track_id):
        idx = np.flatnonzero(rows.track_id == track)
        idx = idx[np.argsort(rows.frame[idx], kind="stable")]
        for a, b in itertools.pairwise(idx):
            fa, fb = int(rows.frame[a]), int(rows.frame[b])
            if 1 < fb - fa <= fill_gap:
                out.extend(
                    _interpolated_row(rows, int(a), int(b), f, camera_poses)
                    for f in range(fa + 1, fb)
                )
    return KittiObjects.concatenate(out)


def oracle_rows(
    detections: KittiObjects,
    labels: KittiObjects,
    cls: str,
    min_iou: float,
    fill_gap: int,
    extend: int,
    camera_poses: np.ndarray | None = None,
) -> KittiObjects:
    """The oracle tracker's result rows for one sequence and class (see the module docstring).

    Gaps are filled from the ground truth, or, when ``camera_poses`` ``(F, 4, 4)`` are given,
    interpolated between the detections (``extend`` must then be 0).
    """
    truth = class_objects(labels, cls)
    det_idx, gt_idx = match_to_truth(detections, truth, min_iou)
    from_detections = detections.select(det_idx)
    from_detections = replace(
        from_detections,
        track_id=truth.track_id[gt_idx].copy(),
        type_name=np.full(len(det_idx), cls),
        score=np.ones(len(det_idx)),
    )
    if camera_poses is None:
        fill = truth.select(filled_truth_rows(truth, gt_idx, fill_gap, extend))
        fill = replace(fill, score=np.ones(len(fill)))
    elif extend:
        raise ValueError("extend needs gaps filled from the ground truth")
    else:
        fill = interpolated_gap_rows(from_detections, fill_gap, camera_poses)
    rows = KittiObjects.concatenate([from_detections, fill])
    return rows.select(np.lexsort((rows.track_id, rows.frame)))


#: Added to the scores of the true tracks by :func:`truth_ranked_rows`: above any track mean
#: a tracker writes, and a multiple of 1/64, so quantised track means stay exact.
TRUE_TRACK_SCORE_OFFSET = 1000.0


def truth_ranked_rows(
    results: KittiObjects, labels: KittiObjects, cls: str, min_iou: float
) -> KittiObjects:
    """A tracker's result rows of one sequence and class with every true track ranked first:
    a track is true when at least half its rows match a labelled object of ``cls``
    (:func:`~drivestack.eval.tracking.truth_match.true_track_ids`). Every row gets its track's mean score, quantised
    (:func:`~drivestack.tracking.offline.track_mean_scores`: the protocol ranks tracks by that
    mean and re-averages it in every pass, where an unquantised mean can drift an ulp and drop
    a track from its own recall point, more often the larger the score), and the true tracks'
    rows are raised by :data:`TRUE_TRACK_SCORE_OFFSET`.
    """
    if len(results) == 0:
        return results
    results = track_mean_scores(results)
    true_track = np.isin(
        results.track_id, true_track_ids(results, class_objects(labels, cls), min_iou)
    )
    offset = np.where(true_track, TRUE_TRACK_SCORE_OFFSET, 0.0)
    return replace(results, score=results.score + offset)


def _kitti_classes(text: str) -> list[str]:
    """An argparse ``type``: comma-separated KITTI tracking class names (any case), as the
    protocol spells them."""
    classes = [c.strip() for c in text.split(",") if c.strip()]
    if not classes:
        raise argparse.ArgumentTypeError(f"no class names in {text!r}")
    for cls in classes:
        try:
            class_rule(cls)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return [c.capitalize() for c in classes]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_kitti_root_option(parser, "--root")
    parser.add_argument(
        "--split",
        choices=KITTI_TRACKING_SPLITS,
        default="val",
        help="KITTI tracking split: train = the 10 training sequences outside val, val = the "
        "11 validation sequences, training = all 21 (default: %(default)s)",
    )
    parser.add_argument(
        "--classes",
        type=_kitti_classes,
        default="Car,Pedestrian,Cyclist",
        help="comma-separated KITTI classes, any case (default: %(default)s)",
    )
    parser.add_argument(
        "--detections",
        default=AB3DMOT_FOLDER,
        help="detection folder under <kitti-root>/detections/ (default: %(default)s)",
    )
    parser.add_argument(
        "--iou",
        type=iou_fraction,
        default=0.25,
        help="3D IoU a detection needs to count, in (0, 1] (default: %(default)s)",
    )
    parser.add_argument(
        "--fill-gap",
        type=int_at_least(0),
        default=0,
        help="fill gaps up to this many frames, >= 0 (default: %(default)s)",
    )
    parser.add_argument(
        "--extend",
        type=int_at_least(0),
        default=0,
        help="extend tracks by this many frames, >= 0 (default: %(default)s)",
    )
    parser.add_argument(
        "--fill-from",
        choices=("truth", "detections"),
        default="truth",
        help="fill gaps with the labelled boxes or the detections interpolated in the world "
        "frame (default: %(default)s)",
    )
    parser.add_argument(
        "--rank-results",
        type=Path,
        default=None,
        help="instead of the oracle: rank the true tracks of these result files first",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the tool; input errors print one ``error: ...`` line and return 2."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.extend and args.fill_from != "truth":
        parser.error("--extend needs --fill-from truth")
    return report_user_errors(lambda: _run(args))


def _check_inputs(args: argparse.Namespace) -> None:
    """Check the input folders before any work; DataError naming the option otherwise."""
    check_out_dir(args.out)
    args.kitti_root = dataset_root("kitti-tracking", args.kitti_root, option="--kitti-root")
    detections = args.kitti_root / "detections"
    # one folder's name (not "", "..", "a/b": the files would be looked up elsewhere)
    plain = args.detections not in ("", ".", "..") and Path(args.detections).name == args.detections
    if not (plain and (detections / args.detections).is_dir()):
        known = (
            sorted(p.name for p in detections.iterdir() if p.is_dir())
            if detections.is_dir()
            else []
        )
        raise DataError(
            f"no such detection folder (known: {', '.join(known) or 'none'})",
            path=str(detections / args.detections),
            field="--detections",
        )
    if args.rank_results is not None and not args.rank_results.is_dir():
        raise DataError(
            "no such result folder", path=str(args.rank_results), field="--rank-results"
        )


def _write_rows(args: argparse.Namespace) -> None:
    """The oracle's (or the ranked) result files of every class and sequence."""
    classes = args.classes
    seqmap = read_split_seqmap(args.kitti_root, args.split)
    for cls in classes:
        folder = args.out / "data" / cls
        folder.mkdir(parents=True, exist_ok=True)
        for entry in seqmap:
            detections = read_ab3dmot_detections(
                ab3dmot_detection_file(args.kitti_root, cls, entry.name, args.detections)
            )
            seq = KittiTrackingSequence(args.kitti_root, entry.name)
            labels = seq.label_rows
            if args.rank_results is not None:
                own = read_tracking_labels(result_file(args.rank_results, cls, entry.name))
                ranked = truth_ranked_rows(own, labels, cls, args.iou)
                write_tracking_results(folder / f"{entry.name}.txt", ranked)
                continue
            poses = None
            if args.fill_from == "detections":
                # the pose file is required here (read_ego_poses: DataError naming it when missing)
                poses = read_ego_poses(seq.pose_path)
            rows = oracle_rows(detections, labels, cls, args.iou, args.fill_gap, args.extend, poses)
            write_tracking_results(folder / f"{entry.name}.txt", rows)


def _run(args: argparse.Namespace) -> int:
    _check_inputs(args)
    with removed_on_failure(args.out):  # a failed run leaves no folder it made
        _write_rows(args)
    if args.rank_results is not None:
        print(
            f"{args.rank_results} with its true tracks ranked first ({args.split}, IoU {args.iou:g})"
        )
    else:
        print(
            f"oracle over {args.detections} detections ({args.split}, IoU {args.iou:g}, "
            f"gaps filled from the {args.fill_from} up to {args.fill_gap} frames, "
            f"tracks extended by {args.extend})"
        )
    evaluate = ["eval", "tracking", "--kitti-root", str(args.kitti_root), "--split", args.split]
    evaluate += ["--classes", ",".join(args.classes), "--results", str(args.out / "data")]
    evaluate += ["--iou", f"{args.iou:g}", "--out", str(args.out / "eval"), "--quiet"]
    return cli_main(evaluate)


if __name__ == "__main__":
    raise SystemExit(main())
