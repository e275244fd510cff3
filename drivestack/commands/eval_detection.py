"""Score 3D detections on a dataset's labelled LiDAR scans with its own protocol.

KITTI object / tracking sequence 0000: the KITTI 3D object protocol (AP11/AP40, 2D/BEV/3D).
aiMotive / PandaSet: nuScenes-style centre-distance AP on vehicle/pedestrian/cyclist groups.
nuScenes: the nuScenes protocol (mAP, TP errors, NDS). Argoverse 2: the AV2 protocol (AP,
ATE, ASE, AOE, CDS). By default the drivestack LiDAR detector runs on every labelled scan;
--detections scores detections made elsewhere instead.

Examples:
  drivestack eval detection --dataset kitti-tracking --out runs/det_kt
  drivestack eval detection --dataset kitti-tracking --out runs/pointrcnn \\
      --detections ../shared/data/kitti_tracking/detections/ab3dmot_pointrcnn
  drivestack eval detection --dataset av2 --root ../shared/data/argoverse2/sensor/val --out runs/av2
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from drivestack.commands._paths import dataset_root, detector_config, positive_int
from drivestack.eval.detection.datasets import DATASETS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset", required=True, choices=DATASETS, help="which dataset and protocol"
    )
    parser.add_argument(
        "--root", type=Path, help="dataset folder (default: its folder under ../shared/data)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output folder: metrics.json, and with the detector the detections in the "
        "dataset's result format under detections/ (kitti*: <frame>.txt KITTI labels, "
        "nuscenes: results_nusc.json, av2: detections.feather with native AV2 categories); "
        "aimotive and pandaset: metrics.json only",
    )
    parser.add_argument(
        "--detections",
        type=Path,
        help="score these instead of running the detector: KITTI label folder or AB3DMOT "
        "pointrcnn_* folders (kitti*), submission JSON (nuscenes), detections .feather (av2)",
    )
    parser.add_argument("--config", type=Path, help="LiDAR detector YAML (default per dataset)")
    parser.add_argument(
        "--detector",
        choices=["drivestack", "open3d-baseline"],
        default="drivestack",
        help="which LiDAR detector to run: drivestack's stage or the plain open3d pipeline "
        "(segment_plane + cluster_dbscan + axis-aligned boxes) as a yardstick",
    )
    parser.add_argument(
        "--max-frames", type=positive_int, help="only the first N labelled frames (default all)"
    )


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from drivestack.eval.detection.run import evaluate_dataset, write_metrics

    root = dataset_root(args.dataset, args.root)
    detector: Any = None
    config: Path | str = "open3d baseline"
    if args.detections is None and args.detector == "open3d-baseline":
        from drivestack.perception.lidar.baseline import Open3dBaselineDetector

        detector = Open3dBaselineDetector()
    elif args.detections is None:
        from drivestack.perception.lidar.detector import build_lidar_detector

        config = detector_config(args.dataset, args.config)
        detector = build_lidar_detector(config)
    # bad input (DataError) is reported by the CLI: one line, exit status 2
    result = evaluate_dataset(
        args.dataset,
        root,
        detector=detector,
        detections=args.detections,
        max_frames=args.max_frames,
        out_dir=args.out,
        progress=lambda it: tqdm(it, desc=f"eval detection {args.dataset}", unit="scan"),
    )
    if detector is not None and hasattr(detector, "cfg"):
        import dataclasses

        result["detector_config"] = dataclasses.asdict(detector.cfg)
    result["source"] = (
        str(args.detections)
        if args.detections is not None
        else f"{args.detector} LiDAR detector ({config})"
    )
    write_metrics(args.out / "metrics.json", result)
    _print_summary(result)
    if "pr_curves" in result:
        print("precision-recall curves per class, difficulty and kind: pr_curves in metrics.json")
    print(f"wrote {args.out / 'metrics.json'}")
    return 0


def _print_summary(result: dict[str, Any]) -> None:
    m = result["metrics"]
    print(f"{result['dataset']}: {result['num_frames']} frames, protocol {m['protocol']}")
    if m["protocol"].startswith("kitti"):
        for cls in ("Car", "Pedestrian", "Cyclist"):
            row = [
                f"{kind} {ap} {m.get(f'{cls}_{kind}_{ap}_moderate_strict', float('nan')):6.2f}"
                for kind in ("BEV", "3D")
                for ap in ("AP40",)
            ]
            loose = m.get(f"{cls}_BEV_AP40_moderate_loose", float("nan"))
            print(f"  {cls:<10} moderate: " + "  ".join(row) + f"  (loose BEV AP40 {loose:6.2f})")
    elif "mean_ap" in m:  # nuScenes protocol and the centre-distance class groups
        errors = "  ".join(f"{k} {v:.3f}" for k, v in m["tp_errors"].items())
        print(f"  mAP {m['mean_ap']:.4f}  NDS {m['nd_score']:.4f}  {errors}")
        ranges = m.get("protocol_config", {}).get("class_range", {})
        in_range = m.get("labels_in_range", {})
        for cls, aps in m["label_aps"].items():
            line = f"  {cls:<20} AP@0.5/1/2/4 m " + " ".join(f"{v:.3f}" for v in aps.values())
            print(line + _labels_note(in_range.get(cls), ranges.get(cls)))
        for group in m.get("groups_without_labels", []):
            print(f"  {group:<20} no labels in these frames: not scored, not in the mAP")
    else:
        for cat, row in m["summary"].items():
            ap2 = m["ap_by_threshold"].get(cat, {}).get("2.0")
            extra = f"  AP@2m {ap2:.3f}" if ap2 is not None else ""
            print(f"  {cat:<18} " + "  ".join(f"{k} {v:.3f}" for k, v in row.items()) + extra)
        for cat, miss in m.get("misses", {}).items():
            print(
                f"  {cat:<18} at {miss['threshold_m']:g} m: {miss['num_found']} of "
                f"{miss['num_labels']} labels found, AP {miss['ap']:.3f} "
                f"({miss['ap_perfect_ranking']:.3f} with every true positive ranked first); "
                f"missed: {miss['no_detection']} no detection near, {miss['taken']} taken by "
                f"another detection's assignment, {miss['other_category']} of another category"
            )


def _labels_note(count: int | None, range_m: float | None) -> str:
    """What the AP of a class rests on: its labels within the evaluation range (``range_m``
    from the ego); a class with none scores AP 0 and counts in the mAP (the official
    evaluator's rule), which the note says. Empty when the count is unknown."""
    if count is None:
        return ""
    within = f"within {range_m:g} m" if range_m is not None else "in range"
    if count == 0:
        return f"  (no labels with points {within}: AP 0, averaged into the mAP)"
    return f"  ({count} label{'s' if count != 1 else ''} with points {within})"
