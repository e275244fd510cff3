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
) -> dict[str, Any]:
    """``{"metrics": {protocol: {mode: {class: KittiMotMetrics}}}, ...}`` for the sequences."""
    from tqdm import tqdm

    from drivestack.eval.tracking import KittiMotProtocol
    from drivestack.eval.tracking.kitti import evaluate_class_thresholds, load_ground_truth
    from drivestack.ingest.kitti_tracking import (
        KittiTrackingSequence,
        ab3dmot_detection_file,
        read_ab3dmot_detections,
        read_ego_poses,
    )
    from drivestack.perception.fusion.fused_tracking import FusedTracker
    from drivestack.perception.fusion.kitti import rrc_camera_source
    from drivestack.tracking.kitti_run import track_kitti_sequence
    from drivestack.tracking.offline import offline_result_rows, other_class_detections
    from drivestack.tracking.tracker import single_class_tracker

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
        if mode not in ("lidar", "fused"):
            raise ValueError(f"unknown mode {mode!r}; expected lidar or fused")
        for cls in classes:
            class_cfg = tracker_cfg.classes[cls.lower()]
            tracker = single_class_tracker(tracker_cfg, cls)
            results = {}
            for e in tqdm(seqmap, desc=f"{mode} {cls}", disable=not progress):
                dets = read_ab3dmot_detections(ab3dmot_detection_file(root, cls, e.name))
                seq = KittiTrackingSequence(root, e.name)
                calib = seq.calib
                # the pose file is required here (read_ego_poses: DataError naming it when missing)
                poses = (
                    read_ego_poses(seq.pose_path) if tracker_cfg.ego_motion_compensation else None
                )
                stage: Any = tracker
                if mode == "fused":
                    source = rrc_camera_source(
                        root / "detections" / "deepfusionmot_rrc_2d" / "training",
                        e.name,
                        calib,
                        (cls,),
                        min_score=camera_min_score,
                    )
                    stage = FusedTracker(tracker, fusion_cfg, source)
                run_ = track_kitti_sequence(stage, dets, calib, e.n_frames, cls, poses)
                # the same result-file rules as `drivestack eval tracking` in both modes
                other = other_class_detections(root, class_cfg, e.name)
                rules = fusion_cfg.offline_rules(class_cfg, cls) if mode == "fused" else class_cfg
                results[e.name] = offline_result_rows(run_, rules, other)
            for name, protocol in protocols.items():
                metrics = evaluate_class_thresholds(
                    cls, seqmap, gt, results, protocol, [protocol.min_overlap]
                )[0]
                report["metrics"].setdefault(name, {}).setdefault(mode, {})[cls] = metrics
    return report


def print_and_serialise(report: dict[str, Any], split: str, n_sequences: int) -> dict[str, Any]:
    """Print one table per protocol and mode; return the report with metrics as plain dicts."""
    from drivestack.eval.tracking import format_table
    from drivestack.eval.tracking.kitti import table_heading, table_notes

    similarities = []
    for protocol, by_mode in report["metrics"].items():
        # "3d_iou0.25" -> iou_3d 0.25, as the plain tables head them
        dims, _, iou = protocol.partition("_iou")
        similarity = f"iou_{dims}"
        similarities.append(similarity)
        for mode, by_class in by_mode.items():
            print("\n" + table_heading(similarity, float(iou), split, n_sequences, mode))
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
