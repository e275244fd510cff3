"""KITTI tracking: the LiDAR-only tracker beside the camera-LiDAR fused tracker, 3D and 2D MOT.

3D detections: AB3DMOT's PointRCNN files; camera detections: RRC (DeepFusionMOT's files);
metrics: AB3DMOT's KITTI protocol at 3D IoU 0.25 and the 2D protocol (image boxes, IoU 0.5),
per class and mode. Both modes apply the class's offline result-file rules
(:func:`~drivestack.tracking.offline.offline_result_rows`, as ``drivestack eval
tracking`` does), so the LiDAR-only figures here are those of ``drivestack eval tracking``
without ``--fusion``; fused mode with the fusion config's ``fused_offline`` replacements
(:meth:`FusionConfig.offline_rules`). Used by ``drivestack eval tracking --fusion camera`` and
``tools/eval_fused_tracking.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from drivestack.perception.fusion.fused_tracking import FusionConfig
from drivestack.tracking.config import TrackerConfig

PROTOCOL_NAMES = ("3d_iou0.25", "2d_iou0.5")
#: the RRC 2D detections under a KITTI tracking root: ``<folder>/<Class>/NNNN.txt``
RRC_FOLDER = Path("detections") / "deepfusionmot_rrc_2d" / "training"
#: result-file folders under ``write_dir`` per mode
RESULT_FOLDERS = {"fused": "data", "lidar": "data_lidar"}


def rrc_root(root: Path) -> Path:
    """The RRC 2D detection folder of the KITTI tracking root ``root``."""
    return Path(root) / RRC_FOLDER


def check_camera_files(camera_root: Path, classes: Sequence[str], seqmap: Sequence[Any]) -> None:
    """Check before any work that the camera detections hold a folder per class and a file
    per sequence (an empty file means no detections in that sequence): without them the
    "fused" figures would be LiDAR-only ones, or the LiDAR boxes penalised for detections
    that were never there.

    Raises:
        DataError: naming the missing folder or file (field ``--fusion``).
    """
    from drivestack.core.errors import DataError

    root = Path(camera_root)
    for cls in classes:
        folder = root / cls
        if not folder.is_dir():
            have = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
            raise DataError(
                f"no camera detections for class {cls} (have: {', '.join(have) or 'none'}); "
                "the fused tracker cannot run without them: leave the class out or run "
                "without --fusion camera",
                path=str(folder) + "/",
                field="--fusion",
            )
        for e in seqmap:
            f = folder / f"{e.name}.txt"
            if not f.is_file():
                raise DataError(
                    "no such file (an empty file means no camera detections in the sequence)",
                    path=str(f),
                    field="--fusion",
                )


def compare_lidar_and_fused(
    root: Path,
    seqmap: Sequence[Any],
    classes: Sequence[str],
    tracker_cfg: TrackerConfig,
    fusion_cfg: FusionConfig,
    *,
    modes: Sequence[str] = ("lidar", "fused"),
    camera_min_score: float = 0.0,
    progress: bool = True,
    detections_folder: str | None = None,
    write_dir: Path | None = None,
) -> dict[str, Any]:
    """``{"metrics": {protocol: {mode: {class: KittiMotMetrics}}}, ...}`` for the sequences;
    with ``fused`` also ``"camera_silent_frames": {class: {sequence: frames}}``, the frames in
    which the camera reported no detection of any class (no penalty there; see
    :func:`silent_camera_notes`), and ``"camera_agreement": {class: {sequence: {"in_view",
    "confirmed"}}}``, the 3D detections in the camera's view and how many a camera detection
    confirmed (:attr:`FusedTracker.camera_agreement`): a figure to compare a camera feed
    against, not a check (with AB3DMOT's PointRCNN detections and RRC on val the confirmed
    share runs from 0.04 to 0.66 for Car and 0.00 to 0.78 for Pedestrian by sequence, most
    unconfirmed boxes being low-score false ones; sequence 0016's pedestrians fall from 0.78
    to 0.19 with its camera file reversed in time, 0.50 shifted by 1 s).

    ``detections_folder``: the 3D detections' folder under ``root/detections/`` (or an
    absolute path; default AB3DMOT's PointRCNN). ``write_dir``: write each mode's result files
    to ``write_dir/<folder>/<Class>/NNNN.txt`` (:data:`RESULT_FOLDERS`: ``data`` for the fused
    tracker, ``data_lidar`` for the LiDAR-only one). The camera detections of every class and
    sequence are checked first (:func:`check_camera_files`) when ``modes`` has ``fused``.
    """
    from drivestack.core.progress import progress as progress_bar
    from drivestack.eval.tracking import KittiMotProtocol
    from drivestack.eval.tracking.kitti import evaluate_class_thresholds, load_ground_truth
    from drivestack.ingest.kitti_tracking import (
        AB3DMOT_FOLDER,
        KittiTrackingSequence,
        read_class_detections,
        read_ego_poses,
        write_tracking_results,
    )
    from drivestack.perception.fusion.fused_tracking import FusedTracker
    from drivestack.perception.fusion.kitti import CAMERA, rrc_camera_source
    from drivestack.tracking.kitti_run import track_kitti_sequence
    from drivestack.tracking.offline import offline_result_rows, other_class_detections
    from drivestack.tracking.tracker import single_class_tracker

    for mode in modes:
        if mode not in ("lidar", "fused"):
            raise ValueError(f"unknown mode {mode!r}; expected lidar or fused")
    if "fused" in modes:
        check_camera_files(rrc_root(root), classes, seqmap)
    folder = AB3DMOT_FOLDER if detections_folder is None else detections_folder
    gt = load_ground_truth(root / "training" / "label_02", seqmap)
    protocols = {
        "3d_iou0.25": KittiMotProtocol.for_similarity("iou_3d", 0.25),
        "2d_iou0.5": KittiMotProtocol.for_similarity("iou_2d", 0.5),
    }
    report: dict[str, Any] = {
        "config": asdict(tracker_cfg),
        "fusion": asdict(fusion_cfg),
        "metrics": {},
    }
    for mode in modes:
        for cls in classes:
            class_cfg = tracker_cfg.classes[cls.lower()]
            tracker = single_class_tracker(tracker_cfg, cls)
            results = {}
            for e in progress_bar(seqmap, desc=f"{mode} {cls}", disable=not progress):
                dets = read_class_detections(root, cls, e.name, e.n_frames, folder)
                seq = KittiTrackingSequence(root, e.name)
                calib = seq.calib
                # the pose file is required here (read_ego_poses: DataError naming it when missing)
                poses = (
                    read_ego_poses(seq.pose_path) if tracker_cfg.ego_motion_compensation else None
                )
                stage: Any = tracker
                if mode == "fused":
                    source = rrc_camera_source(
                        rrc_root(root),
                        e.name,
                        calib,
                        (cls,),
                        min_score=camera_min_score,
                        n_frames=e.n_frames,
                        image_dir=seq.base / "image_02" / e.name,
                    )
                    stage = FusedTracker(tracker, fusion_cfg, source)
                run_ = track_kitti_sequence(stage, dets, calib, e.n_frames, cls, poses)
                if mode == "fused":
                    silent = report.setdefault("camera_silent_frames", {}).setdefault(cls, {})
                    silent[e.name] = int(stage.silent_camera_frames.get(CAMERA, 0))
                    agreement = report.setdefault("camera_agreement", {}).setdefault(cls, {})
                    agreement[e.name] = dict(stage.camera_agreement)
                # the same result-file rules as `drivestack eval tracking` in both modes
                other = other_class_detections(root, class_cfg, e, folder)
                rules = fusion_cfg.offline_rules(class_cfg, cls) if mode == "fused" else class_cfg
                results[e.name] = offline_result_rows(run_, rules, other)
                if write_dir is not None:
                    write_tracking_results(
                        write_dir / RESULT_FOLDERS[mode] / cls / f"{e.name}.txt", results[e.name]
                    )
            for name, protocol in protocols.items():
                metrics = evaluate_class_thresholds(
                    cls, seqmap, gt, results, protocol, [protocol.min_overlap]
                )[0]
                report["metrics"].setdefault(name, {}).setdefault(mode, {})[cls] = metrics
    return report


def silent_camera_notes(report: dict[str, Any], seqmap: Sequence[Any]) -> list[str]:
    """One line per class whose camera reported no detection at all in some frames
    (``report["camera_silent_frames"]``), naming the sequences where it reported nothing in
    any frame: there the fused tracker penalised no LiDAR box (a camera that saw nothing is
    no evidence against one), so its figures there are close to the LiDAR-only ones."""
    n_frames = {e.name: int(e.n_frames) for e in seqmap}
    notes = []
    for cls, by_seq in report.get("camera_silent_frames", {}).items():
        total = sum(by_seq.values())
        if not total:
            continue
        whole = [name for name, n in by_seq.items() if n >= n_frames.get(name, n + 1)]
        text = (
            f"{cls}: the camera reported no detection (of any class) in {total} of "
            f"{sum(n_frames[name] for name in by_seq)} frames; no LiDAR box was penalised there"
        )
        if whole:
            text += f"; nothing at all in sequence{'s' if len(whole) > 1 else ''} " + ", ".join(
                whole
            )
        notes.append(text)
    return notes


def heading(
    similarity: str,
    iou: float,
    split: str,
    n_sequences: int,
    mode: str | None = None,
    *,
    subset: Sequence[str] | None = None,
) -> str:
    """:func:`~drivestack.eval.tracking.kitti.table_heading`, naming the sequences of a
    ``--sequences`` subset, not the split's figure (``iou_3d 0.25 (val, 2 sequences), subset
    0001,0006``)."""
    from drivestack.eval.tracking.kitti import table_heading

    text = table_heading(similarity, iou, split, n_sequences, mode)
    return text if subset is None else f"{text}, subset {','.join(subset)}"


def print_and_serialise(
    report: dict[str, Any],
    split: str,
    n_sequences: int,
    *,
    subset: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Print one table per protocol and mode; return the report with metrics as plain dicts.
    ``subset``: the sequences of a ``--sequences`` run (named in the headings)."""
    from drivestack.eval.tracking import format_table
    from drivestack.eval.tracking.kitti import table_notes

    similarities = []
    for protocol, by_mode in report["metrics"].items():
        # "3d_iou0.25" -> iou_3d 0.25, as the plain tables head them
        dims, _, iou = protocol.partition("_iou")
        similarity = f"iou_{dims}"
        similarities.append(similarity)
        for mode, by_class in by_mode.items():
            print("\n" + heading(similarity, float(iou), split, n_sequences, mode, subset=subset))
            print(format_table(by_class))
    print()
    for note in table_notes(similarities):
        print(f"note: {note}")
    return {
        **report,
        "split": split,
        "metrics": {
            p: {mode: {c: m.as_dict() for c, m in v.items()} for mode, v in d.items()}
            for p, d in report["metrics"].items()
        },
    }
