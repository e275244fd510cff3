"""Track KITTI detections and evaluate them (KITTI 3D-MOT protocol of AB3DMOT, and HOTA).

Examples:
  drivestack eval tracking --split val --classes Car,Pedestrian,Cyclist --out runs/trk
  drivestack eval tracking --kitti-root ../shared/data/kitti_tracking --split val \\
      --results ../shared/data/kitti_tracking/reference_outputs/ab3dmot_2020 --out runs/ref

Without --results the tracker (--config) runs on the AB3DMOT PointRCNN detections and writes
KITTI result files to OUT/data/<Class>/NNNN.txt (with --fusion camera: the fused tracker's;
the LiDAR-only tracker's go to OUT/data_lidar/<Class>/NNNN.txt); with --results, existing
result files are evaluated, in one of two layouts: <DIR>/<Class>/NNNN.txt (a folder per class of --classes)
or <DIR>/NNNN.txt (all classes in one file per sequence). Splits: val (AB3DMOT's 11
sequences), train (the other 10 training sequences, for tuning), training (all 21).
Prints a table per IoU threshold (values in percent; HOTA, DetA, AssA and LocA do not depend
on the threshold) and writes OUT/metrics.json (with the config it ran with and the git commit).
An --out holding another run's results (another --results, tracker config, detections, KITTI
root, split, sequences, frames or classes, or another eval command's) is refused unless
--overwrite; a rerun of the same run replaces its own, and the folders the old run's
metrics.json lists in "outputs" (data/, data_lidar/) are removed with it. A data/ (or
data_lidar/) that no metrics.json lists is never removed: a tracker run into it is refused.
The run writes in a scratch folder of --out and swaps its files in at the end: one that fails
or is stopped (Ctrl-C) leaves --out as it was.

--frames FIRST:LAST scores frames FIRST..LAST of each sequence only (labels and tracks of
other frames left out, the range renumbered from 0 as its own sequence), e.g. a replay of
KITTI 0000 frames 74-153:
  drivestack eval tracking --split train --sequences 0000 --frames 74:153 \\
      --results REPLAY_RESULTS --out runs/part
A --results file with rows of a class but none in the range is a warning (one line per class
and sequence, naming the frames it holds, also in metrics.json's notes): it scores as no tracks.

sAMOTA and AMOTA divide by 40 recall thresholds and the devkit takes at most one per matched
label row (less the first): with fewer than 41 labelled rows the thresholds never reached count
as zero (a perfect tracker on 20 labelled rows scores sAMOTA 47.50). A result file of 17
columns (no score) scores -1 on every row, as the devkit reads it (a warning says so: one
threshold, one operating point); under iou_3d a result row needs a positive 3D size.

Ties (the "no-remean" rows): the headline figures are the AB3DMOT/KITTI devkit's, which
re-averages every track's mean score before each recall-threshold pass; the float sum can move
a mean by an ulp, so a track whose mean equals a threshold may drop out of its own pass and
sAMOTA can move by points when scores are rounded or jittered by 1e-9. metrics.json also holds
each class's figures without that re-averaging (classes.<Class>.clear_without_devkit_remean);
the table shows them as a "no-remean" row under a class whose sAMOTA, AMOTA or MOTA differs by
more than 0.5 points: its devkit figure then hangs on such ties.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivestack.commands._paths import (
    add_kitti_root_option,
    add_overwrite_option,
    check_eval_out,
    check_out_dir,
    dataset_root,
    eval_staging,
    iou_thresholds,
    reader_errors_as_data_errors,
    removed_on_failure,
    resolved,
    swap_in_eval_out,
)
from drivestack.core.errors import DataError
from drivestack.core.provenance import run_provenance

if TYPE_CHECKING:
    from drivestack.eval.tracking.kitti import FrameRange
    from drivestack.ingest.kitti_format import KittiObjects
    from drivestack.ingest.kitti_tracking import SeqmapEntry
    from drivestack.tracking.config import TrackerConfig

_DEFAULT_CONFIG = (
    Path(__file__).resolve().parents[2] / "configs" / "tracking" / "kitti_pointrcnn.yaml"
)


#: The folder of detections the tracker runs on without --detections (under ROOT/detections/).
AB3DMOT_FOLDER = "ab3dmot_pointrcnn"
#: Options of the tracker run, refused with --results (which scores existing files).
RUN_ONLY_OPTIONS = ("--config", "--detections", "--fusion-config")

#: the classes run without --classes (with --fusion camera: those with camera detections)
DEFAULT_CLASSES = "Car,Pedestrian,Cyclist"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_kitti_root_option(parser, "--root")
    parser.add_argument(
        "--split",
        default="val",
        choices=["val", "train", "training"],
        help="sequences to evaluate: val, train (the 10 training sequences not in val) or "
        "training (all 21); default val",
    )
    parser.add_argument(
        "--sequences",
        default=None,
        help="comma-separated sequences of the split to run, e.g. 0001,0006 (default: all; a "
        "quick look, not the protocol's figure)",
    )
    parser.add_argument(
        "--frames",
        default=None,
        metavar="FIRST:LAST",
        help="score frames FIRST..LAST (both included) of each sequence only, renumbered from "
        "0 (e.g. 74:153 for a replay of part of a sequence; with --sequences); not the "
        "protocol's figure. Not with --fusion camera",
    )
    parser.add_argument(
        "--classes",
        default=None,
        help="comma-separated classes, any case, each run once (default Car,Pedestrian,Cyclist; "
        "with --fusion camera those of them with a camera detection folder, which for RRC are "
        "Car,Pedestrian: it ships no Cyclist)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output folder (metrics.json, data/<Class>/NNNN.txt; with --fusion camera the "
        "fused tracker's files in data/ and the LiDAR-only tracker's in data_lidar/)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="evaluate these result files instead of running the tracker",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"tracker YAML (default {_DEFAULT_CONFIG.name}); not with --results",
    )
    parser.add_argument(
        "--iou",
        default=None,
        help="IoU thresholds of --similarity, comma-separated (default 0.25 for iou_3d, AB3DMOT "
        "also uses 0.5,0.7; 0.5 for iou_2d). Not with --fusion camera (fixed protocols)",
    )
    parser.add_argument(
        "--similarity",
        default=None,
        choices=["iou_3d", "iou_2d"],
        help="iou_3d: KITTI 3D MOT (default); iou_2d: image boxes (AB3DMOT's 2D MOT tables, "
        "default --iou 0.5). Not with --fusion camera, which reports both (iou_3d 0.25, "
        "iou_2d 0.5)",
    )
    parser.add_argument(
        "--detections",
        default=None,
        help="folder of pointrcnn_<Class>_val/NNNN.txt files: a name under ROOT/detections/ "
        f"or an absolute path (default {AB3DMOT_FOLDER}); not with --results",
    )
    parser.add_argument(
        "--fusion",
        default="none",
        choices=["none", "camera"],
        help="camera: also run the camera-LiDAR fused tracker (PointRCNN + RRC 2D detections "
        "ROOT/detections/deepfusionmot_rrc_2d/training/<Class>/NNNN.txt, required for every "
        "class and sequence: RRC has Car and Pedestrian) and report 3D (IoU 0.25) and 2D "
        "(IoU 0.5) MOT metrics beside the LiDAR-only tracker; metrics.json holds "
        "metrics[protocol][lidar|fused][class]",
    )
    parser.add_argument(
        "--fusion-config",
        type=Path,
        default=None,
        help="fused tracker YAML (default configs/perception/fusion_kitti_rrc.yaml); only with "
        "--fusion camera",
    )
    add_overwrite_option(parser, "metrics.json, data/ and data_lidar/")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _split_seqmap(root: Path, args: argparse.Namespace) -> list[SeqmapEntry]:
    """The split's seqmap entries, only ``--sequences`` when given (DataError naming the split's
    sequences for one it does not hold)."""
    from drivestack.ingest.kitti_tracking import read_split_seqmap

    seqmap = read_split_seqmap(root, args.split)
    if args.sequences is None:
        return seqmap
    wanted = list(dict.fromkeys(s.strip() for s in args.sequences.split(",") if s.strip()))
    names = [e.name for e in seqmap]
    unknown = [s for s in wanted if s not in names]
    if unknown or not wanted:
        raise DataError(
            f"sequence(s) {unknown or wanted} not in the {args.split} split ({', '.join(names)})",
            field="--sequences",
        )
    return [e for e in seqmap if e.name in wanted]


def _run_fusion(
    args: argparse.Namespace, seqmap: list[SeqmapEntry], classes: list[str], staging: Path
) -> dict[str, Any]:
    """Run the LiDAR-only and fused trackers, writing their result files in ``staging``; the
    report for metrics.json."""
    from drivestack.config import load_yaml_config
    from drivestack.eval.tracking.kitti import no_label_notes
    from drivestack.perception.fusion.fused_tracking import FusionConfig
    from drivestack.perception.fusion.kitti_eval import (
        RESULT_FOLDERS,
        compare_lidar_and_fused,
        print_and_serialise,
        rrc_root,
        silent_camera_notes,
    )

    # configs read before any sequence is tracked (compare_lidar_and_fused checks the camera
    # files first: check_camera_files)
    tracker_cfg = _tracker_config(args.config, classes)
    fusion_cfg = load_yaml_config(FusionConfig, args.fusion_config)
    try:
        report = compare_lidar_and_fused(
            args.kitti_root,
            seqmap,
            classes,
            tracker_cfg,
            fusion_cfg,
            progress=not args.quiet,
            detections_folder=args.detections,
            write_dir=staging,
        )
    except KeyError as exc:
        raise DataError(f"unknown class or key {exc}", field="--classes") from None
    subset = None if args.sequences is None else [e.name for e in seqmap]
    result = {
        **_provenance(args, seqmap, classes),
        "config_file": resolved(args.config),
        "detections_folder": resolved(_detections_folder(args)),
        "fusion_config_file": resolved(args.fusion_config),
        "camera_detections": str(rrc_root(args.kitti_root)),
        "result_folders": dict(RESULT_FOLDERS),
        **print_and_serialise(report, args.split, len(seqmap), subset=subset),
    }
    notes = no_label_notes(dict(report["metrics"]["3d_iou0.25"]["fused"]))
    notes += silent_camera_notes(report, seqmap)
    for note in notes:
        print(f"note: {note}")
    result["notes"] = notes
    return result


def _provenance(
    args: argparse.Namespace, seqmap: list[SeqmapEntry], classes: list[str]
) -> dict[str, Any]:
    """The run's keys of metrics.json in both modes: split, sequences, whole_split, classes
    and :func:`~drivestack.core.provenance.run_provenance` (version, git commit, command)."""
    return {
        "split": args.split,
        "sequences": [e.name for e in seqmap],
        # False for a --sequences subset or --frames: not the protocol's figure (no published
        # anchors)
        "whole_split": args.sequences is None and args.frames is None,
        "classes": classes,
        "kitti_root": resolved(args.kitti_root),
        **run_provenance(),
    }


def run(args: argparse.Namespace) -> int:
    """Bad input is reported by the CLI: one line, exit status 2 (a ValueError or OSError of
    the readers as a DataError)."""
    with reader_errors_as_data_errors(), removed_on_failure(args.out):
        return _run(args)  # (result files are written as sequences are tracked)


def _run(args: argparse.Namespace) -> int:
    if args.results is not None:  # options of the tracker run would be ignored: refused
        for option in RUN_ONLY_OPTIONS:
            if getattr(args, option.removeprefix("--").replace("-", "_")) is not None:
                raise DataError(
                    f"{option} is for running the tracker; --results scores existing files: "
                    f"leave {option} out",
                    field=option,
                )
    args.config = args.config or _DEFAULT_CONFIG
    args.detections = args.detections or AB3DMOT_FOLDER
    check_out_dir(args.out)
    if args.fusion == "camera":
        for option, value in (("--iou", args.iou), ("--similarity", args.similarity)):
            if value is not None:
                raise DataError(
                    "--fusion camera reports fixed protocols (iou_3d 0.25 and iou_2d 0.5); "
                    f"leave {option} out",
                    field=option,
                )
        if args.frames is not None:
            raise DataError("--frames is not for --fusion camera", field="--frames")
    elif args.fusion_config is not None:
        raise DataError("--fusion-config is for --fusion camera only", field="--fusion-config")
    frames = _frame_range(args.frames)
    if args.fusion_config is None:
        args.fusion_config = _DEFAULT_CONFIG.parents[1] / "perception" / "fusion_kitti_rrc.yaml"
    args.similarity = args.similarity or "iou_3d"
    if args.iou is None:  # the similarity's default threshold
        args.iou = "0.5" if args.similarity == "iou_2d" else "0.25"
    ious = iou_thresholds(args.iou)
    given = None if args.classes is None else _classes(args.classes)  # checked before the root
    args.kitti_root = dataset_root(
        "kitti-tracking", args.kitti_root, option="--kitti-root (--root)"
    )
    classes = _default_classes(args) if given is None else given
    if args.results is not None and args.fusion == "camera":
        raise DataError("--results scores files; --fusion camera runs the trackers: pick one")
    seqmap = _split_seqmap(args.kitti_root, args)
    if args.results is None:  # a missing --detections folder: refused before any tracking
        _check_detections(args.kitti_root, args.detections, classes, seqmap)
    writes = () if args.results is not None else _written_folders(args)
    identity = _identity(args, seqmap, classes, frames)
    clear = check_eval_out(args.out, "tracking", identity, args.overwrite, _inputs(args), writes)
    # the run writes in a scratch folder of --out, swapped in at the end (the old run's listed
    # folders removed then): a run stopped half-way leaves --out as it was
    with eval_staging(args.out, "tracking") as staging:
        if args.fusion == "camera":
            report = _run_fusion(args, seqmap, classes, staging)
        else:
            report = _run_lidar(args, seqmap, classes, ious, frames, staging)
        swap_in_eval_out(staging, args.out, clear, report)  # undefined figures: null
    print(f"wrote {args.out / 'metrics.json'}")
    return 0


def _written_folders(args: argparse.Namespace) -> tuple[str, ...]:
    """The folders of --out a tracker run writes (metrics.json's ``outputs``): data/, and
    with --fusion camera data_lidar/ too."""
    from drivestack.perception.fusion.kitti_eval import RESULT_FOLDERS

    if args.fusion == "camera":
        return tuple(RESULT_FOLDERS.values())
    return ("data",)


def _identity(
    args: argparse.Namespace,
    seqmap: list[SeqmapEntry],
    classes: list[str],
    frames: FrameRange | None,
) -> dict[str, object]:
    """What identifies a run (metrics.json's keys, as written): the result files scored, or
    the tracker config it ran (its detections, and the fused tracker's config), the KITTI
    root, split, sequences, frames and classes; a rerun of the same replaces its own files in
    --out. Paths are compared resolved (:func:`~drivestack.commands._paths.check_eval_out`)."""
    run = args.results is None
    return {
        "results": None if run else args.results,
        "config_file": Path(args.config) if run else None,
        "detections_folder": _detections_folder(args) if run else None,
        "fusion_config_file": Path(args.fusion_config) if args.fusion == "camera" else None,
        "kitti_root": Path(args.kitti_root),
        "split": args.split,
        "sequences": [e.name for e in seqmap],
        "frames": None if frames is None else {"first": frames.first, "last": frames.last},
        "classes": classes,
    }


def _detections_folder(args: argparse.Namespace) -> Path:
    """The folder of AB3DMOT detections a tracker run reads (--detections under the root's
    detections/, or absolute)."""
    from drivestack.ingest.kitti_tracking import ab3dmot_detection_file

    return ab3dmot_detection_file(args.kitti_root, "Car", "0000", args.detections).parents[1]


def _inputs(args: argparse.Namespace) -> dict[str, Path | None]:
    """Every path the run reads (none may lie in a folder of --out it removes or writes, nor
    hold one it removes): the KITTI root, the result files, the detection folder, the
    tracker configs."""
    run = args.results is None
    return {
        "--kitti-root": Path(args.kitti_root),
        "--results": args.results,
        "--detections": _detections_folder(args) if run else None,
        "--config": Path(args.config) if run else None,
        "--fusion-config": Path(args.fusion_config) if args.fusion == "camera" else None,
    }


def _frame_range(text: str | None) -> FrameRange | None:
    """``--frames`` (None when not given); DataError naming the option when malformed."""
    from drivestack.eval.tracking.kitti import FrameRange

    if text is None:
        return None
    try:
        return FrameRange.parse(text)
    except ValueError as exc:
        raise DataError(str(exc), field="--frames") from None


def _check_detections(
    root: Path, folder: str, classes: list[str], seqmap: list[SeqmapEntry]
) -> None:
    """``DataError`` naming ``--detections`` when it has no ``pointrcnn_<Class>_val`` folder
    for a class asked (a missing sequence file is still named when it is read)."""
    from drivestack.ingest.kitti_tracking import ab3dmot_detection_file

    for cls in classes:
        where = ab3dmot_detection_file(root, cls, seqmap[0].name if seqmap else "0000", folder)
        if not where.parent.is_dir():
            raise DataError(
                f"no {cls} detections: no such folder", path=str(where.parent), field="--detections"
            )


def _default_classes(args: argparse.Namespace) -> list[str]:
    """The classes run without ``--classes``: Car, Pedestrian, Cyclist; with ``--fusion camera``
    those with a camera detection folder (said in one line on stderr when one is left out),
    DataError when none has."""
    from drivestack.perception.fusion.kitti_eval import rrc_root

    classes = _classes(DEFAULT_CLASSES)
    if args.fusion != "camera":
        return classes
    camera = rrc_root(args.kitti_root)
    kept = [cls for cls in classes if (camera / cls).is_dir()]
    if not kept:
        raise DataError(
            f"no camera detection folder for any of {', '.join(classes)}",
            path=str(camera) + "/",
            field="--fusion",
        )
    if kept != classes:
        left = [cls for cls in classes if cls not in kept]
        print(
            f"--fusion camera: classes {','.join(kept)} (no camera detections for "
            f"{', '.join(left)} under {camera}; --classes to choose)",
            file=sys.stderr,
        )
    return kept


def _classes(text: str) -> list[str]:
    """``--classes`` as a list of canonical names (``pedestrian`` -> ``Pedestrian``, the
    spelling of the detection and result folders), each once; DataError for none or one the
    protocol does not know (before any work)."""
    from drivestack.eval.tracking.protocol import class_rule
    from drivestack.structures.labels import ObjectClass

    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise DataError(f"no class in {text!r}", field="--classes")
    for cls in names:
        try:
            class_rule(cls)
        except ValueError as exc:
            raise DataError(str(exc), field="--classes") from None
    return list(dict.fromkeys(ObjectClass.from_name(c).display_name for c in names))


def _tracker_config(path: Path, classes: list[str]) -> TrackerConfig:
    """The tracker YAML at ``path``; DataError for a class of ``classes`` it has no
    parameters for (before the kernels load and the first sequence is tracked)."""
    from drivestack.tracking.config import load_tracker_config

    cfg = load_tracker_config(path)
    for cls in classes:
        if cls.lower() not in cfg.classes:
            raise DataError(
                f"no tracker parameters for class {cls}",
                path=str(path),
                field=f"classes.{cls.lower()}",
            )
    return cfg


def _run_lidar(
    args: argparse.Namespace,
    seqmap: list[SeqmapEntry],
    classes: list[str],
    ious: list[float],
    frames: FrameRange | None,
    staging: Path,
) -> dict[str, Any]:
    """Score --results, or run the tracker (its result files written in ``staging``) and score
    it; the report for metrics.json."""
    from drivestack.eval.tracking import KittiMotProtocol, format_table
    from drivestack.eval.tracking.kitti import (
        check_result_files,
        empty_class_notes,
        evaluate_class_thresholds,
        far_from_labels_notes,
        frame_offset_notes,
        labels_past_seqmap_notes,
        load_ground_truth,
        load_results_and_notes,
        no_image_box_notes,
        no_label_notes,
        other_class_notes,
        remean_notes,
        table_notes,
        uncovered_notes,
    )
    from drivestack.perception.fusion.kitti_eval import heading

    protocol = KittiMotProtocol.for_similarity(args.similarity)
    scored = seqmap
    if frames is not None:  # a range that is not in every sequence: refused before any work
        try:
            scored = frames.seqmap(seqmap)
        except ValueError as exc:
            raise DataError(str(exc), field="--frames") from None
    label_dir = args.kitti_root / "training" / "label_02"
    gt = load_ground_truth(label_dir, seqmap)
    report: dict[str, Any] = _provenance(args, seqmap, classes)
    for note in labels_past_seqmap_notes(label_dir, seqmap, gt):  # a seqmap shorter than labels
        print(f"warning: {note}", file=sys.stderr)
        report.setdefault("notes", []).append(note)
    if frames is not None:
        report["frames"] = {"first": frames.first, "last": frames.last}
        gt = frames.cut(gt)
    subset = None if args.sequences is None else [e.name for e in seqmap]
    results: dict[str, dict[str, KittiObjects]]
    if args.results is not None:
        check_result_files(args.results, classes, seqmap)
        report["results"] = resolved(args.results)
        results, notes_ = {}, []
        for cls in classes:  # 3D IoU: a row without a positive 3D size refused when read
            results[cls], unscored = load_results_and_notes(
                args.results, cls, seqmap, require_box3d=args.similarity == "iou_3d"
            )
            notes_ += unscored  # files without a score column: said once per file
        for cls in classes:  # rows of another class in a class's folder: said, counted
            notes_ += empty_class_notes(args.results, cls, results[cls])
            notes_ += other_class_notes(args.results, cls, results[cls])
            notes_ += no_image_box_notes(args.results, cls, results[cls])
            if frames is not None:  # files with rows but none in the range: said, counted
                notes_ += uncovered_notes(args.results, cls, frames, results[cls])
            if args.similarity == "iou_3d":  # rows one frame off their labels: said
                notes_ += frame_offset_notes(args.results, cls, results[cls], gt)
        # rows nowhere near a label in every class of a sequence (another coordinate frame)
        notes_ += far_from_labels_notes(args.results, results, gt, similarity=args.similarity)
        for note in dict.fromkeys(notes_):  # (the flat layout's file serves every class)
            print(f"warning: {note}", file=sys.stderr)
            report.setdefault("notes", []).append(note)
    else:
        results = _track(args, seqmap, classes, report, staging)
    if frames is not None:
        results = {cls: frames.cut(rows) for cls, rows in results.items()}
    t0 = time.perf_counter()
    per_class = {
        cls: evaluate_class_thresholds(cls, scored, gt, results[cls], protocol, ious)
        for cls in classes
    }
    eval_s = time.perf_counter() - t0
    metrics_out: dict[str, object] = {}
    span = "" if frames is None else f", frames {frames.first}:{frames.last}"
    shown_remean: list[str] = []
    for k, iou in enumerate(ious):
        metrics = {cls: per_class[cls][k] for cls in classes}
        print("\n" + heading(args.similarity, iou, args.split, len(seqmap), subset=subset) + span)
        print(format_table(metrics))
        shown_remean += remean_notes(metrics)
        metrics_out[f"iou_{iou:g}"] = {
            "protocol": asdict(KittiMotProtocol.for_similarity(args.similarity, iou)),
            "classes": {cls: m.as_dict() for cls, m in metrics.items()},
        }
    print()
    notes = report.setdefault("notes", [])
    notes += no_label_notes({cls: per_class[cls][0] for cls in classes})
    for note in [*table_notes([args.similarity]), *dict.fromkeys(shown_remean), *notes]:
        print(f"note: {note}")
    print(f"\nevaluation of {len(classes)} classes x {len(ious)} thresholds: {eval_s:.1f} s")
    report["metrics"] = metrics_out
    report["eval_time_s"] = eval_s
    for cls, t in report.get("throughput", {}).items():
        print(
            f"tracker {cls}: {t['frames_per_s']:.0f} frames/s wall clock, "
            f"{t['frames_per_cpu_s']:.0f} frames/s of CPU time ({t['frames']} frames, "
            "Tracker.step only)"
        )
    print()
    return report


def _track(
    args: argparse.Namespace,
    seqmap: list[SeqmapEntry],
    classes: list[str],
    report: dict[str, Any],
    staging: Path,
) -> dict[str, dict[str, KittiObjects]]:
    """Run the tracker of ``--config`` per class over ``seqmap``, writing its result files to
    ``staging``/data/<Class>/NNNN.txt (swapped into OUT at the end); the config, kernel load time and throughput go to ``report``."""
    from drivestack.core.progress import progress as progress_bar
    from drivestack.ingest.kitti_tracking import write_tracking_results
    from drivestack.tracking.association import load_kernels
    from drivestack.tracking.offline import kitti_sequence_rows
    from drivestack.tracking.tracker import single_class_tracker

    cfg = _tracker_config(args.config, classes)
    report["config_file"] = resolved(args.config)
    report["detections_folder"] = resolved(_detections_folder(args))
    report["config"] = asdict(cfg)
    t_load = time.perf_counter()
    load_kernels(cfg.classes[c.lower()].association.metric for c in classes)
    kernel_load_s = time.perf_counter() - t_load
    report["kernel_load_s"] = kernel_load_s
    if not args.quiet:
        print(
            f"tracker kernels loaded in {1000 * kernel_load_s:.0f} ms before timing "
            "(not in the frames/s below)"
        )
    results: dict[str, dict[str, KittiObjects]] = {}
    throughput: dict[str, dict[str, float]] = {}
    for cls in classes:
        class_cfg = cfg.classes[cls.lower()]
        tracker = single_class_tracker(cfg, cls)
        per_seq: dict[str, KittiObjects] = {}
        step_s, cpu_s, frames = 0.0, 0.0, 0
        for e in progress_bar(seqmap, desc=f"track {cls}", disable=args.quiet, unit="seq"):
            run_, rows = kitti_sequence_rows(
                tracker, args.kitti_root, cls, e, class_cfg, folder=args.detections
            )
            per_seq[e.name] = rows
            write_tracking_results(staging / "data" / cls / f"{e.name}.txt", rows)
            step_s += run_.step_time_s
            cpu_s += run_.step_cpu_time_s
            frames += run_.n_frames
        results[cls] = per_seq
        throughput[cls] = {
            "frames": frames,
            "step_time_s": step_s,
            "step_cpu_time_s": cpu_s,
            "frames_per_s": frames / step_s if step_s else 0.0,
            "frames_per_cpu_s": frames / cpu_s if cpu_s else 0.0,
        }
    report["throughput"] = throughput
    return results
