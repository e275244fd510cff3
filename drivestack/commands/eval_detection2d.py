"""2D detection AP (image boxes, all-point interpolation) at IoU 0.5 and 0.7 per class.

Examples:
  drivestack eval detection2d --split val --classes Car,Pedestrian --out runs/rrc_ap
  drivestack eval detection2d --kitti-tracking-root ../shared/data/kitti_tracking --split val \\
      --detections deepfusionmot_rrc_2d --classes Car,Pedestrian --out runs/rrc_ap
  drivestack eval detection2d --labels DATA/label_2 --results RUN/data --classes Car --out runs/ap

KITTI tracking mode (the default; its folder defaults to kitti_tracking under ../shared/data
or $DRIVESTACK_SHARED_DATA) reads ground truth from training/label_02 and a camera detector's
comma-separated ``frame, x1, y1, x2, y2, score`` files from
detections/<name>/training/<Class>/NNNN.txt (RRC as DeepFusionMOT ships it). Folder mode pairs
KITTI object label files (label_2) with KITTI result files (16 columns, with score) by name
(a label file without a result file of its name scores as no detections, with a warning; no
pair at all is an error); 15-column label files are refused as results, and so are the
tracking mode's --detections and --split. --classes: Car, Pedestrian, Cyclist (any case).
Ground truth filtering follows KITTI (see drivestack.eval.detection2d.KittiFilter): a match
needs IoU above the threshold (strictly, as the devkit), and an unmatched detection inside a
DontCare region (intersection over its own area above the threshold, the devkit's rule) is
ignored. The AP is all-point interpolated under one filter (by default the "hard" level's
limits), not KITTI's benchmark AP40 at easy / moderate / hard. Class names compare in any case
(a `car` result scores as Car). Pedestrian's ignored neighbour is the object benchmark's
Person_sitting; KITTI tracking's `Person` labels are not ignored (a detection on one is a false
positive). Prints a table, per class the detections the filter ignores (under --min-height-px,
or on DontCare / ignored labels: n_dropped and n_ignored in metrics.json, neither TP nor FP),
and writes OUT/metrics.json (strict JSON: an AP over no labels is null).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from drivestack.commands._paths import (
    add_out_options,
    check_eval_out,
    check_out_dir,
    dataset_root,
    int_at_least,
    iou_thresholds,
    non_negative_number,
    resolved,
    write_eval_metrics,
)
from drivestack.core.errors import DataError
from drivestack.core.provenance import run_provenance

if TYPE_CHECKING:
    from drivestack.eval.detection2d import ImageBoxes, KittiFilter

#: tracking mode's defaults (``None`` on the parser, so that folder mode can refuse them)
DEFAULT_DETECTIONS, DEFAULT_SPLIT = "deepfusionmot_rrc_2d", "val"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group()
    src.add_argument(
        "--kitti-tracking-root",
        "--kitti-root",
        "--root",
        dest="kitti_tracking_root",
        type=Path,
        help="folder with training/, seqmaps/, detections/ (default without --labels: "
        "kitti_tracking under ../shared/data or $DRIVESTACK_SHARED_DATA; --kitti-root and "
        "--root as eval tracking spells it)",
    )
    src.add_argument(
        "--labels",
        type=Path,
        help="folder of KITTI object label files (label_2), scored against --results "
        "instead of KITTI tracking",
    )
    parser.add_argument(
        "--results", type=Path, help="folder of KITTI result files (needs --labels)"
    )
    parser.add_argument(
        "--detections",
        help=f"folder under detections/ (tracking mode; default {DEFAULT_DETECTIONS})",
    )
    parser.add_argument(
        "--split",
        choices=["val", "training"],
        help=f"tracking sequences (tracking mode; default {DEFAULT_SPLIT})",
    )
    parser.add_argument(
        "--classes",
        default="Car,Pedestrian",
        help="comma-separated, of Car, Pedestrian, Cyclist (any case; default Car,Pedestrian)",
    )
    parser.add_argument(
        "--iou",
        default="0.5,0.7",
        help="IoU thresholds, each in (0, 1) and given once; a match needs IoU above it "
        "(default 0.5,0.7)",
    )
    parser.add_argument(
        "--min-height-px",
        type=non_negative_number,
        default=25.0,
        help="KITTI filter (default 25)",
    )
    parser.add_argument(
        "--max-occlusion",
        type=int_at_least(0),
        default=2,
        help="KITTI filter, at least 0 (default 2)",
    )
    parser.add_argument(
        "--max-truncation",
        type=non_negative_number,
        default=0.5,
        help="KITTI filter, at least 0 (default 0.5)",
    )
    add_out_options(parser)


def _tracking_images(args: argparse.Namespace, cls: str, rules: KittiFilter) -> list[ImageBoxes]:
    from drivestack.core.progress import progress as progress_bar
    from drivestack.eval.detection2d import kitti_image_boxes
    from drivestack.ingest.kitti_tracking import read_seqmap, read_tracking_labels
    from drivestack.perception.camera.replay import read_2d_detections

    root: Path = args.kitti_tracking_root
    seqmap = read_seqmap(root / "seqmaps" / f"evaluate_tracking.seqmap.{args.split}")
    folder = root / "detections" / args.detections / "training" / cls
    if not folder.is_dir():  # (a sequence without detections may have no file; a class must)
        raise DataError(
            f"no {cls} detections: no such folder", path=str(folder), field="--detections"
        )
    images = []
    for e in progress_bar(seqmap, desc=f"AP {cls}", disable=args.quiet, unit="seq"):
        gt = read_tracking_labels(root / "training" / "label_02" / f"{e.name}.txt")
        det = read_2d_detections(folder / f"{e.name}.txt", 0, n_frames=e.n_frames)
        gt_slices = gt.frame_slices(e.n_frames)
        order = np.argsort(det.frame, kind="stable")
        bounds = np.searchsorted(det.frame[order], np.arange(e.n_frames + 1))
        for f in range(e.n_frames):
            g = gt_slices[f]
            d = order[bounds[f] : bounds[f + 1]]
            images.append(
                kitti_image_boxes(
                    cls,
                    gt.type_name[g],
                    gt.box2d_xyxy_px[g],
                    gt.truncation[g],
                    gt.occlusion[g],
                    np.full(d.shape[0], cls),
                    det.box_xyxy_px[d],
                    det.score[d],
                    rules,
                )
            )
    return images


def _folder_images(args: argparse.Namespace, cls: str, rules: KittiFilter) -> list[ImageBoxes]:
    from drivestack.eval.detection2d import kitti_image_boxes
    from drivestack.ingest.kitti_format import KittiObjects
    from drivestack.ingest.kitti_object import read_kitti_label

    images = []
    for label_path in sorted(args.labels.glob("*.txt")):
        gt = read_kitti_label(label_path)
        res_path = args.results / label_path.name
        det = read_kitti_label(res_path) if res_path.exists() else KittiObjects()
        images.append(
            kitti_image_boxes(
                cls,
                gt.type_name,
                gt.box2d_xyxy_px,
                gt.truncation,
                gt.occlusion,
                det.type_name,
                det.box2d_xyxy_px,
                det.score,
                rules,
            )
        )
    if not images:
        raise DataError("no label files (*.txt)", path=str(args.labels))
    return images


def _check_mode_options(args: argparse.Namespace) -> None:
    """--results only with --labels; the tracking mode's --detections and --split not with
    --labels (folder mode would ignore them); then the tracking mode's defaults."""
    if args.labels is None:
        if args.results is not None:
            raise DataError("--results needs --labels (the ground truth to score it against)")
        args.detections = args.detections or DEFAULT_DETECTIONS
        args.split = args.split or DEFAULT_SPLIT
        return
    for option, value in (("--detections", args.detections), ("--split", args.split)):
        if value is not None:
            raise DataError(
                f"{option} is a KITTI tracking mode option; folder mode (--labels) scores "
                "--results against --labels"
            )


def _classes(text: str) -> list[str]:
    """``--classes`` as KITTI class names (any case in, KITTI's spelling out); DataError for
    none or an unknown one, before any work."""
    from drivestack.eval.detection2d import KITTI_NEIGHBOURS

    known = {name.lower(): name for name in KITTI_NEIGHBOURS}
    classes = [c.strip() for c in text.split(",") if c.strip()]
    if not classes:
        raise DataError(f"no class in {text!r}", field="--classes")
    unknown = [c for c in classes if c.lower() not in known]
    if unknown:
        raise DataError(
            f"unknown KITTI class{'es' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"known: {', '.join(KITTI_NEIGHBOURS)}",
            field="--classes",
        )
    return [known[c.lower()] for c in classes]


def _check_folder_mode(args: argparse.Namespace) -> None:
    """Folder mode's inputs, before any file is scored: --results given and a folder, --labels
    a folder, the result files with a score (16 columns, not 15-column label files) and named
    as label files (none paired is an error, some unpaired a warning)."""
    if args.results is None:
        raise DataError("--labels needs --results (the detections to score)")
    for option, folder in (("--labels", args.labels), ("--results", args.results)):
        if not folder.is_dir():
            raise DataError("no such folder", path=str(folder), field=option)
    results = sorted(args.results.glob("*.txt"))
    for path in results:
        _check_result_columns(path)
    labels = sorted(p.name for p in args.labels.glob("*.txt"))
    if not labels:  # (_folder_images says so)
        return
    named = {p.name for p in results}
    unpaired = [name for name in labels if name not in named]
    if len(unpaired) == len(labels):
        example = f"e.g. {results[0].name}" if results else "no *.txt files"
        raise DataError(
            f"no result file in {args.results} ({example}) has the name of a label file in "
            f"{args.labels} (e.g. {labels[0]}): results pair with labels by file name",
            field="--results",
        )
    if unpaired:
        print(
            f"warning: {len(unpaired)} of {len(labels)} label files in {args.labels} have no "
            f"result file of the same name in {args.results} (e.g. {unpaired[0]}): scored as "
            "no detections",
            file=sys.stderr,
        )


def _check_result_columns(path: Path) -> None:
    """A KITTI result file has 16 columns, the last the score; a 15-column label file (no
    score: ground truth) is refused."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                    path=str(path),
                    record=f"line {number}",
                    field="--results",
                ) from None
            n = len(line.split())
            if n == 0:
                continue
            if n != 16:
                what = " (a label file: no score)" if n == 15 else ""
                raise DataError(
                    f"{n} columns{what}: results need 16, the last the detection score",
                    path=str(path),
                    record=f"line {number}",
                    field="--results",
                )
            return


def _table_title(args: argparse.Namespace, rules: KittiFilter) -> str:
    """What the AP table measures: the labels scored (split or folder), KITTI's filters and
    the interpolation."""
    if args.kitti_tracking_root:
        source = f"KITTI tracking {args.split} split, {args.detections}"
    else:
        source = f"labels {args.labels} vs results {args.results}"
    return (
        f"2D AP in percent ({source}); labels kept: height > {rules.min_height_px:g} px, "
        f"occlusion <= {rules.max_occlusion}, truncation <= {rules.max_truncation:g}; "
        "all-point interpolation"
    )


def _percent(ap: float) -> str:
    """An AP in percent, six wide; ``n/a`` when undefined (a class without labels)."""
    return f"{100 * ap:6.2f}" if np.isfinite(ap) else f"{'n/a':>6}"


def _ignored_lines(
    table: dict[str, dict[str, dict[str, float | int]]], ious: list[float], rules: KittiFilter
) -> list[str]:
    """Per class, the detections the KITTI filter leaves unscored (neither TP nor FP, so not
    in n_fp): those lower than ``rules.min_height_px`` (dropped before matching) and those
    matched to ignored labels (DontCare regions, the neighbouring class, labels outside the
    filter) at each IoU threshold. None for a class without any."""
    from drivestack.eval.detection2d import KITTI_NEIGHBOURS

    lines = []
    for cls, row in table.items():
        dropped = int(row[f"iou_{ious[0]:g}"].get("n_dropped", 0))
        ignored = [int(row[f"iou_{t:g}"].get("n_ignored", 0)) for t in ious]
        if not dropped and not any(ignored):
            continue
        labels = ", ".join(["DontCare", *KITTI_NEIGHBOURS.get(cls, ())])
        lines.append(
            f"{cls}: ignored (neither TP nor FP): {dropped} detection"
            f"{'s' if dropped != 1 else ''} under {rules.min_height_px:g} px; "
            + " / ".join(str(n) for n in ignored)
            + " at IoU "
            + " / ".join(f"{t:g}" for t in ious)
            + f" on ignored labels ({labels}, or outside the filter)"
        )
    return lines


def run(args: argparse.Namespace) -> int:
    from drivestack.eval.detection2d import KittiFilter, average_precision

    check_out_dir(args.out)  # before any work (DataError: one line, exit 2)
    _check_mode_options(args)
    classes = _classes(args.classes)
    ious = iou_thresholds(args.iou, below_one=True)
    rules = KittiFilter(args.min_height_px, args.max_occlusion, args.max_truncation)
    try:
        if args.labels is None:
            args.kitti_tracking_root = dataset_root(
                "kitti-tracking", args.kitti_tracking_root, "--kitti-tracking-root", "--labels"
            )
        else:
            _check_folder_mode(args)
        source = resolved(args.kitti_tracking_root or args.labels)
        detections = args.detections if args.kitti_tracking_root else resolved(args.results)
        # writes only metrics.json (the old run's listed folders removed when it is written)
        clear = check_eval_out(
            args.out,
            "detection2d",
            {
                "source": Path(source),
                "detections": detections if args.kitti_tracking_root else Path(detections),
                "split": args.split if args.kitti_tracking_root else None,
                "classes": classes,  # the table's keys
                "filter": asdict(rules),
            },
            args.overwrite,
        )
        table: dict[str, dict[str, dict[str, float | int]]] = {}
        for cls in classes:
            images = (
                _tracking_images(args, cls, rules)
                if args.kitti_tracking_root
                else _folder_images(args, cls, rules)
            )
            table[cls] = {f"iou_{t:g}": average_precision(images, t).as_dict() for t in ious}
    except (DataError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(_table_title(args, rules))
    print(f"{'class':<12}" + "".join(f"  AP@{t:g}" for t in ious) + "   n_gt")
    for cls, row in table.items():
        aps = "".join(f"  {_percent(row[f'iou_{t:g}']['ap'])}" for t in ious)
        print(f"{cls:<12}{aps}   {row[f'iou_{ious[0]:g}']['n_gt']}")
    for line in _ignored_lines(table, ious, rules):
        print(line)
    report: dict[str, object] = {
        "source": source,
        "detections": detections,
        "split": args.split if args.kitti_tracking_root else None,
        "filter": asdict(rules),
        "interpolation": "all-point",
        "classes": table,
        **run_provenance(),
    }
    write_eval_metrics(args.out, "detection2d", report, clear)
    print(f"wrote {args.out / 'metrics.json'}")
    return 0
