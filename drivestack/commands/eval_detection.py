"""Score 3D detections on a dataset's labelled LiDAR scans with its own protocol.

KITTI object / tracking sequence 0000: the KITTI 3D object protocol (AP11/AP40, 2D/BEV/3D).
aiMotive / PandaSet: nuScenes-style centre-distance AP on vehicle/pedestrian/cyclist groups.
nuScenes: the nuScenes protocol (mAP, TP errors, NDS). Argoverse 2: the AV2 protocol (AP,
ATE, ASE, AOE, CDS). By default the drivestack LiDAR detector runs on every labelled scan;
--detections scores detections made elsewhere instead.

Before any scan: a detector config whose map steps are on (lidar_av2.yaml) is refused for a
dataset without a map (exit status 2, naming the config and key); one made for other data (its
datasets key) gets a one-line warning. An --out holding another run's metrics.json or
detections/ (or another eval command's results) is refused unless --overwrite (a rerun of the
same run replaces its own); the new detections/ replaces the old one whole at the end, and
the folders another eval run's metrics.json lists as its outputs are removed. A detections/
that no metrics.json there lists is never removed: a detector run into it is refused.

Examples:
  drivestack eval detection --dataset kitti-tracking --out runs/det_kt
  drivestack eval detection --dataset kitti-tracking --out runs/pointrcnn \\
      --detections ../shared/data/kitti_tracking/detections/ab3dmot_pointrcnn
  drivestack eval detection --dataset av2 --root ../shared/data/argoverse2/sensor/val --out runs/av2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from drivestack.commands._paths import (
    add_overwrite_option,
    add_quiet_option,
    check_eval_out,
    check_out_dir,
    dataset_root,
    detector_config,
    eval_staging,
    positive_int,
    removed_on_failure,
    resolved,
    swap_in_eval_out,
)
from drivestack.core.errors import DataError
from drivestack.core.provenance import run_provenance
from drivestack.eval.detection.datasets import DATASETS, check_detector_config


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
    parser.add_argument(
        "--config",
        type=Path,
        help="drivestack LiDAR detector YAML (default per dataset: configs/perception/"
        "lidar_<dataset>.yaml); an error with --detections or --detector open3d-baseline",
    )
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
    parser.add_argument(
        "--av2-categories",
        choices=["auto", "groups", "official"],
        default="auto",
        help="av2 only: score on drivestack's class groups (vehicle, pedestrian, cyclist; labels "
        "and detections of AV2 categories regrouped) or on the official AV2 categories. auto "
        "(default): groups for the detector run here and for a --detections file whose "
        "categories are group names; official for a file with categories drivestack's "
        "detector never writes; a file of only the categories it writes (its own "
        "detections.feather: REGULAR_VEHICLE, PEDESTRIAN, BICYCLIST, ...) needs the option "
        "(groups reproduces the run that wrote it). AVERAGE_METRICS averages the categories "
        "(groups) with a label in range; with official, metrics.json also gives av2's default "
        "mean over its 26 SensorCompetitionCategories, unlabelled ones at AP 0 "
        "(av2_default_categories_average)",
    )
    add_overwrite_option(parser, "metrics.json and detections/")
    add_quiet_option(parser)


def run(args: argparse.Namespace) -> int:
    from drivestack.core.progress import progress as progress_bar
    from drivestack.eval.detection.run import (
        check_detections_kind,
        evaluate_dataset,
    )

    # arguments and paths checked before any scan is read (DataError: one line, exit status 2)
    if args.config is not None and (
        args.detections is not None or args.detector == "open3d-baseline"
    ):
        raise DataError(
            "--config configures drivestack's LiDAR detector; it has no effect with "
            "--detections / --detector open3d-baseline"
        )
    if args.detections is not None and args.detector != "drivestack":
        raise DataError(
            f"--detections scores a file; --detector {args.detector} runs a detector: pick one",
            field="--detector",
        )
    check_out_dir(args.out)
    if args.av2_categories != "auto" and args.dataset != "av2":
        raise DataError(
            f"only for --dataset av2 (got --dataset {args.dataset})", field="--av2-categories"
        )
    root = dataset_root(args.dataset, args.root)  # (evaluate_dataset checks --detections)
    if args.detections is not None:
        check_detections_kind(args.dataset, args.detections)  # before the first line
    detector: Any = None
    config: Path | str = "open3d baseline"
    config_warnings: list[str] = []
    if args.detections is None and args.detector == "open3d-baseline":
        from drivestack.perception.lidar.baseline import Open3dBaselineDetector

        detector = Open3dBaselineDetector()
    elif args.detections is None:
        from drivestack.perception.lidar.detector import build_lidar_detector

        config = detector_config(args.dataset, args.config)
        detector = build_lidar_detector(config)
        # a config with map steps on data without a map: ConfigError here, not at frame 1
        config_warnings = check_detector_config(args.dataset, detector.cfg, config)
    shown = resolved(config) if isinstance(config, Path) else config
    source = (
        resolved(args.detections)
        if args.detections is not None
        else f"{args.detector} LiDAR detector ({shown})"
    )
    # an --out of another run (or another eval command): refused unless --overwrite
    clear = check_eval_out(
        args.out,
        "detection",
        {
            "dataset": args.dataset,
            "root": Path(root),
            "source": source,
            "max_frames": args.max_frames,
        },
        args.overwrite,
        inputs={
            "--root": Path(root),
            "--detections": args.detections,
            "--config": config if isinstance(config, Path) else None,
        },
        writes=("detections",) if args.detections is None else (),  # (files: no boxes)
    )
    print(_source_line(args, config))
    for warning in config_warnings:
        print(f"warning: {warning}", file=sys.stderr)
    # the detections are written in a scratch folder and swapped in at the end: a run
    # stopped half-way leaves the old detections/ (and nothing of its own) behind
    with removed_on_failure(args.out), eval_staging(args.out, "detection") as staging:
        result = evaluate_dataset(
            args.dataset,
            root,
            detector=detector,
            detections=args.detections,
            max_frames=args.max_frames,
            out_dir=staging,
            progress=None
            if args.quiet
            else lambda it: progress_bar(it, desc=f"eval detection {args.dataset}", unit="scan"),
            av2_categories=args.av2_categories,
        )
        if detector is not None and hasattr(detector, "cfg"):
            import dataclasses

            result["detector_config"] = dataclasses.asdict(detector.cfg)
        result["source"] = source
        result["root"] = resolved(root)
        result["max_frames"] = args.max_frames
        if config_warnings:
            result["config_warnings"] = config_warnings
        result.update(run_provenance())
        notes = _notes(result)
        if notes:
            result["notes"] = notes
        swap_in_eval_out(staging, args.out, clear, result, indent=2)
    _print_summary(result)
    for note in notes:
        print(f"note: {note}")
    if "pr_curves" in result:
        print("precision-recall curves per class, difficulty and kind: pr_curves in metrics.json")
    print(f"wrote {args.out / 'metrics.json'}")
    return 0


def _source_line(args: argparse.Namespace, config: Path | str) -> str:
    """One line naming what is scored: the detector and the config it runs, or the files."""
    if args.detections is not None:
        return f"scoring the detections in {args.detections} (no detector run)"
    if args.detector == "open3d-baseline":
        return (
            "detector: open3d baseline (Open3dBaselineDetector, its built-in parameters; no config)"
        )
    return f"detector: drivestack LiDAR detector, config {config}"


#: The units of the TP errors, as the tables head them.
def _with_unit(name: str) -> str:
    from drivestack.eval.detection.argoverse2 import METRIC_UNITS
    from drivestack.eval.detection.nuscenes import TP_ERROR_UNITS

    errors = {k: METRIC_UNITS[k] for k in ("ATE", "ASE", "AOE")}  # (AP and CDS: no unit shown)
    unit = {**TP_ERROR_UNITS, **errors}.get(name)
    return f"{name} [{unit}]" if unit else name


def _print_summary(result: dict[str, Any]) -> None:
    m = result["metrics"]
    print(f"{result['dataset']}: {result['num_frames']} frames, protocol {m['protocol']}")
    if m["protocol"].startswith("kitti"):
        overlaps = m.get("protocol_config", {}).get("min_overlaps")
        if overlaps is not None:  # (strict/loose, bbox/bev/3d, class): BEV and 3D alike
            thresholds = ", ".join(
                f"{cls} {overlaps[0][2][k]:g} / {overlaps[1][2][k]:g}"
                for k, cls in enumerate(("Car", "Pedestrian", "Cyclist"))
            )
            print(f"  AP40 in percent; BEV and 3D IoU thresholds strict / loose: {thresholds}")
        labels = m.get("labels_per_difficulty", {})
        for cls in ("Car", "Pedestrian", "Cyclist"):
            if labels.get(cls, {}).get("moderate", 1) == 0:  # AP 0 there is no measurement
                print(f"  {cls:<10} moderate:      -  (no moderate labels in these frames)")
                continue
            row = [
                f"{kind} {ap} {m.get(f'{cls}_{kind}_{ap}_moderate_strict', float('nan')):6.2f}"
                for kind in ("BEV", "3D")
                for ap in ("AP40",)
            ]
            loose = m.get(f"{cls}_BEV_AP40_moderate_loose", float("nan"))
            print(f"  {cls:<10} moderate: " + "  ".join(row) + f"  (loose BEV AP40 {loose:6.2f})")
    elif "mean_ap" in m:  # nuScenes protocol and the centre-distance class groups
        errors = "  ".join(f"{_with_unit(k)} {v:.3f}" for k, v in m["tp_errors"].items())
        print(f"  mAP {m['mean_ap']:.4f}  NDS {m['nd_score']:.4f}  {errors}")
        ranges = m.get("protocol_config", {}).get("class_range", {})
        in_range = m.get("labels_in_range", {})
        for cls, aps in m["label_aps"].items():
            line = f"  {cls:<20} AP@0.5/1/2/4 m " + " ".join(f"{v:.3f}" for v in aps.values())
            print(line + _labels_note(in_range.get(cls), ranges.get(cls)))
        for group in m.get("groups_without_labels", []):
            print(f"  {group:<20} no labels in these frames: not scored, not in the mAP")
    else:
        groups = m["protocol"].endswith("_class_groups")
        print(
            "  categories: "
            + (
                "drivestack's class groups (vehicle, pedestrian, cyclist; AV2 categories "
                "regrouped), --av2-categories groups"
                if groups
                else "the official AV2 categories, --av2-categories official"
            )
        )
        print("  units: ATE m, ASE 1-IoU, AOE rad; AP and CDS in [0, 1]")
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


#: Why the ground truth of a dataset has no velocity / attributes, for the notes.
_GT_WITHOUT = {
    ("pandaset", "vel_err"): "PandaSet's cuboids have no velocity",
    ("pandaset", "attr_err"): "PandaSet's cuboids have no nuScenes attributes",
    ("nuscenes", "attr_err"): "the info file's 3D instances carry no attribute",
    ("aimotive", "attr_err"): "aiMotive's labels have no nuScenes attributes",
}


def _notes(result: dict[str, Any]) -> list[str]:
    """What the figures of ``result`` do not say themselves: AP40 quantised by few labels
    (KITTI), suspect inputs the loader warned about (a 0-byte KITTI scan), the detector's yaw
    being an axis (except boxes its config turns along the lanes), a TP error undefined
    because the ground truth lacks its field (velocity, attributes) and the detector's lack
    of velocity."""
    m = result["metrics"]
    notes = []
    for cls, by_diff in m.get("labels_per_difficulty", {}).items():
        for diff, n in by_diff.items():
            best = m["perfect_ap40"][cls][diff]
            if n == 0:
                notes.append(f"{cls} {diff}: no labelled boxes: its AP40 is 0, not a measurement")
            elif best < 100.0:
                notes.append(
                    f"{cls} {diff}: AP40 with N = {n} < 41 labelled boxes is quantised: a "
                    f"perfect detector scores {best:.2f}"
                )
    # suspect inputs (a 0-byte KITTI scan), warned about on stderr as they were read
    notes.extend(result.get("loader_warnings", []))
    # where the scoring knowingly departs from the dataset's own evaluator (nuScenes: no
    # bike-rack filtering)
    notes.extend(m.get("deviations_from_devkit", []))
    errors = m.get("tp_errors", {})
    truth = m.get("ground_truth", {})
    gt_without = {
        metric: field
        for metric, key, field in (
            ("vel_err", "with_velocity", "velocity"),
            ("attr_err", "with_attribute", "attributes"),
        )
        if metric in errors and truth.get("boxes") and truth.get(key) == 0
    }
    for metric, field in gt_without.items():
        dataset = str(result.get("dataset"))
        source = _GT_WITHOUT.get(
            (dataset, metric), f"drivestack reads no {field} from the {dataset} labels"
        )
        notes.append(
            f"{metric} {errors[metric]:.3f} comes from the ground truth having no {field} in "
            f"this sample ({source}): every {metric} is undefined and scored 1, the devkit's "
            "all-NaN rule, whatever the detector outputs (a perfect copy of the labels scores "
            "it too); it enters the NDS"
        )
    outputs = result.get("detector_outputs")
    if outputs is None:
        return notes
    orientation = "AOE" if "summary" in m else "orient_err" if "tp_errors" in m else None
    if orientation and outputs["yaw_is_axis"]:
        notes.append(
            f"the detector's yaw is an axis (modulo pi, front and back not told apart): the "
            f"{orientation} of objects heading the other way is near pi"
        )
    elif orientation and outputs.get("yaw_turned_along_lanes"):
        notes.append(
            "the detector's yaw is an axis (modulo pi, front and back not told apart) except "
            "for Car / Truck boxes turned along the map's lanes (classify.lane_heading."
            f"orient_along_lanes): the {orientation} of other objects heading the other way "
            "is near pi"
        )
    if outputs["boxes_with_velocity"] == 0 and "vel_err" in errors and "vel_err" not in gt_without:
        relative = (
            " (aiMotive labels: relative to the ego, the rate of change of the box position in "
            "the ego frame, not over ground)"
            if result.get("dataset") == "aimotive"
            else ""
        )
        notes.append(
            f"the detector outputs no velocity (all zero): vel_err {errors['vel_err']:.3f} "
            f"measures its absence against the labels' velocities{relative}, and enters the NDS"
        )
    return notes


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
