"""KITTI tracking: LiDAR-only tracker vs camera-LiDAR fused tracker, 3D and 2D MOT side by side.

3D detections: AB3DMOT's PointRCNN files; camera detections: RRC (DeepFusionMOT's files);
tracker: ``--config`` (the LiDAR tracker's YAML), fused with
:class:`drivestack.perception.fusion.fused_tracking.FusedTracker` (``FusionConfig`` defaults
unless ``--fusion-config`` gives a YAML). Metrics: the KITTI protocol of AB3DMOT at 3D IoU 0.25
and the 2D protocol (image boxes, IoU 0.5), sAMOTA/MOTA/IDS/HOTA per class.

Usage: ``.venv/bin/python tools/eval_fused_tracking.py --kitti-root ../shared/data/kitti_tracking
[--split val] [--classes Car,Pedestrian] --out runs/fused``
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kitti-root", type=Path, required=True)
    parser.add_argument("--split", default="val", choices=["val", "train", "training"])
    parser.add_argument("--classes", default="Car,Pedestrian")
    parser.add_argument(
        "--config", type=Path, default=REPO / "configs" / "tracking" / "kitti_pointrcnn.yaml"
    )
    parser.add_argument(
        "--fusion-config",
        type=Path,
        default=REPO / "configs" / "perception" / "fusion_kitti_rrc.yaml",
    )
    parser.add_argument("--camera-min-score", type=float, default=0.0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--modes", default="lidar,fused", help="lidar, fused or both (default)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()

    from tqdm import tqdm

    from drivestack.commands.eval_tracking import _split
    from drivestack.config import load_yaml_config
    from drivestack.eval.tracking import KittiMotProtocol, format_table
    from drivestack.eval.tracking.kitti import evaluate_class_thresholds, load_ground_truth
    from drivestack.ingest.kitti_calib import read_kitti_calib
    from drivestack.ingest.kitti_tracking import read_ab3dmot_detections, read_ego_poses
    from drivestack.perception.fusion.fused_tracking import FusedTracker, FusionConfig
    from drivestack.perception.fusion.kitti import rrc_camera_source
    from drivestack.tracking.config import TrackerConfig, load_tracker_config
    from drivestack.tracking.kitti_run import track_kitti_sequence
    from drivestack.tracking.tracker import build_tracker

    root: Path = args.kitti_root
    seqmap = _split(root, args.split)
    gt = load_ground_truth(root / "training" / "label_02", seqmap)
    cfg = load_tracker_config(args.config)
    fusion = (
        load_yaml_config(FusionConfig, args.fusion_config) if args.fusion_config else FusionConfig()
    )
    classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    protocols = {
        "3d_iou0.25": KittiMotProtocol(),
        "2d_iou0.5": KittiMotProtocol(
            min_overlap=0.5, similarity="iou_2d", hota_match_threshold=0.5
        ),
    }
    report: dict[str, Any] = {
        "split": args.split,
        "config": asdict(cfg),
        "fusion": asdict(fusion),
        "metrics": {},
    }
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for mode in modes:
        for cls in classes:
            tracker = build_tracker(
                TrackerConfig(
                    classes={cls: cfg.classes[cls.lower()]},
                    ego_motion_compensation=cfg.ego_motion_compensation,
                )
            )
            results = {}
            for e in tqdm(seqmap, desc=f"{mode} {cls}", disable=args.quiet):
                dets = read_ab3dmot_detections(
                    root
                    / "detections"
                    / "ab3dmot_pointrcnn"
                    / f"pointrcnn_{cls}_val"
                    / f"{e.name}.txt"
                )
                calib = read_kitti_calib(root / "training" / "calib" / f"{e.name}.txt")
                poses = (
                    read_ego_poses(
                        root / "training" / "ego_poses_orbslam3_stereo" / f"{e.name}.txt"
                    )
                    if cfg.ego_motion_compensation
                    else None
                )
                stage: Any = tracker
                if mode == "fused":
                    source = rrc_camera_source(
                        root / "detections" / "deepfusionmot_rrc_2d" / "training",
                        e.name,
                        calib,
                        (cls,),
                        min_score=args.camera_min_score,
                    )
                    stage = FusedTracker(tracker, fusion, source)
                results[e.name] = track_kitti_sequence(
                    stage, dets, calib, e.n_frames, cls, poses
                ).results
            for pname, protocol in protocols.items():
                m = evaluate_class_thresholds(
                    cls, seqmap, gt, results, protocol, [protocol.min_overlap]
                )[0]
                report["metrics"].setdefault(pname, {}).setdefault(mode, {})[cls] = m
    for pname in protocols:
        for mode in modes:
            print(f"\n{pname} {mode} ({args.split}, {len(seqmap)} sequences)")
            print(format_table(report["metrics"][pname][mode]))
    report["metrics"] = {
        p: {mode: {c: m.as_dict() for c, m in v.items()} for mode, v in d.items()}
        for p, d in report["metrics"].items()
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.json").write_text(json.dumps(report, indent=1, default=float))
    print(f"wrote {args.out / 'metrics.json'}")


if __name__ == "__main__":
    main()
