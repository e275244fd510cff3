"""Run the LiDAR detector on KITTI tracking sequence 0000 (frames 74-153) and score it.

Prints (and with ``--json`` writes), for drivestack and for the PointRCNN detections of the
same frames: Car recall / precision at BEV IoU 0.5 (labels within ``--max-range-m``,
detections that show in image_02: centre in front of the camera and projected 2D box overlapping
the image, the KITTI protocol's filter), the scans given their estimated ego poses
(``training/ego_poses_orbslam3_stereo/0000.txt``, for the accumulate step), false Car boxes per scan, and an AP40 at
BEV IoU 0.5 (greedy matching, all difficulties, Van boxes ignored -- a development figure,
not the official KITTI protocol of ``drivestack.eval.detection``), each over all frames and
over the odd frames alone (the Car score calibration was fitted on the even ones); the
ground-segmentation checks against the label boxes for the zone model and the RANSAC
baseline; the box-fit yaw check on clusters cut by the labels; and the median per-step time.
``--open3d-frames N`` also times the plain open3d pipeline (``segment_plane`` +
``cluster_dbscan`` + axis-aligned boxes) on N scans for a same-run ratio.

Unless ``--no-kitti-protocol``, both detectors are also scored with the KITTI 3D object
protocol of ``drivestack.eval.detection`` (Car BEV AP40 at IoU 0.7 "strict" / 0.5 "loose", per
difficulty; "hard" includes every difficulty).

``--fit-scores`` instead fits the Car ``score_weights`` (Platt calibration) on the even frames
and prints them for ``configs/perception/lidar_kitti.yaml``.

``--dataset aimotive`` / ``--dataset av2`` instead run drivestack's stage
(``configs/perception/lidar_<dataset>.yaml`` unless ``--config``) and the open3d baseline on every
labelled scan of that dataset and print vehicle AP at 2 m centre distance (aiMotive: the
nuScenes-style centre-distance AP of ``drivestack eval detection``, vehicles within 50 m; AV2:
the Argoverse 2 protocol on class groups, within 150 m and the map ROI) and the pedestrian
figures. The aiMotive sequence's labels cover only the ego's carriageway (every box lies within
y = -7.0 .. 0.2 m in the body frame; vehicles beyond the barrier are not labelled), so aiMotive
is also scored with the detections restricted to that annotated band (the lateral span of the
labels plus ``--band-margin-m``), the analogue of KITTI's scoring inside the camera image.

    .venv/bin/python tools/eval_lidar_perception.py --data ../shared/data [--json out.json]
    .venv/bin/python tools/eval_lidar_perception.py --dataset aimotive [--json out.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from drivestack import kernels
from drivestack.core.json_values import strict_dumps
from drivestack.core.transforms import SE3
from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_format import lidar_from_camera_zup, objects_to_boxes
from drivestack.ingest.kitti_object import read_velodyne_pcd
from drivestack.ingest.kitti_tracking import (
    KITTI_TRACKING_POSE_FOLDER,
    read_ab3dmot_detections,
    read_ego_poses,
    read_tracking_labels,
    world_from_lidar_poses,
)
from drivestack.perception.lidar import build_lidar_detector
from drivestack.perception.lidar.box_fit import fit_box
from drivestack.perception.lidar.classify import fit_score_weights
from drivestack.perception.lidar.ground import segment_ground
from drivestack.perception.lidar.metrics import (
    CarTally,
    GroundCheck,
    boxes_in_image,
    check_ground,
)
from drivestack.structures.labels import ObjectClass
from drivestack.structures.sensor_frame import SensorFrame

REPO = Path(__file__).resolve().parents[1]
IMAGE_WH = (1242, 375)
CAR, VAN = int(ObjectClass.CAR), int(ObjectClass.VAN)


def open3d_baseline(xyz: np.ndarray) -> int:
    """The plain open3d pipeline a newcomer would write; returns the number of boxes."""
    import open3d as o3d

    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.asarray(xyz, dtype=np.float64)))
    _, inliers = pcd.segment_plane(distance_threshold=0.2, ransac_n=3, num_iterations=100)
    objects = pcd.select_by_index(inliers, invert=True)
    labels = np.asarray(objects.cluster_dbscan(eps=0.5, min_points=5))
    boxes = 0
    for k in range(int(labels.max(initial=-1)) + 1):
        objects.select_by_index(
            np.flatnonzero(labels == k).tolist()
        ).get_axis_aligned_bounding_box()
        boxes += 1
    return boxes


class WithPoses:
    """Evaluation wrapper: hands ``detector`` each frame with its ego pose filled in from
    ``world_from_lidar`` (indexed by KITTI frame number = timestamp / 100 ms), so that the
    accumulate step can merge past sweeps; the frames' LiDAR frame is their ego frame."""

    def __init__(self, detector: Any, world_from_lidar: list[SE3] | None) -> None:
        self.detector, self.world_from_lidar = detector, world_from_lidar

    def reset(self) -> None:
        self.detector.reset()

    def step(self, frame: SensorFrame) -> Any:
        index = frame.timestamp_ns // 100_000_000
        if self.world_from_lidar is not None and index < len(self.world_from_lidar):
            frame = dataclasses.replace(frame, world_from_ego=self.world_from_lidar[index])
        return self.detector.step(frame)


def kitti_protocol(
    root: Path, cfg: Any, world_from_lidar: list[SE3] | None
) -> dict[str, dict[str, float]]:
    """Car BEV AP40 of drivestack and PointRCNN on all tracking-0000 scans, KITTI protocol."""
    from drivestack.eval.detection.run import evaluate_dataset

    detector = WithPoses(build_lidar_detector(cfg), world_from_lidar)
    runs = {
        "drivestack": evaluate_dataset("kitti-tracking", root, detector=detector),
        "pointrcnn": evaluate_dataset(
            "kitti-tracking", root, detections=root / "detections" / "ab3dmot_pointrcnn"
        ),
    }
    out = {
        name: {k: v for k, v in run["metrics"].items() if k.startswith("Car_BEV_AP40")}
        for name, run in runs.items()
    }
    out["ratio"] = {
        k: out["drivestack"][k] / out["pointrcnn"][k]
        for k in out["drivestack"]
        if out["pointrcnn"][k]
    }
    return out


class Recorded:
    """Evaluation wrapper: runs ``detector`` and keeps every output, in order, so that a second
    scoring (:class:`Replayed`) needs no second run."""

    def __init__(self, detector: Any) -> None:
        self.detector = detector
        self.outputs: list[Any] = []

    def reset(self) -> None:
        self.detector.reset()
        self.outputs = []

    def step(self, frame: SensorFrame) -> Any:
        boxes = self.detector.step(frame)
        self.outputs.append(boxes)
        return boxes


class Replayed:
    """Evaluation stage that returns recorded outputs in order, keeping only boxes whose centre's
    ego-frame ``y`` lies in ``[y_min_m, y_max_m]`` (the annotated part of the scene)."""

    def __init__(self, outputs: list[Any], y_min_m: float, y_max_m: float) -> None:
        self.outputs, self.y_min_m, self.y_max_m = outputs, y_min_m, y_max_m
        self._next = 0

    def reset(self) -> None:
        self._next = 0

    def step(self, frame: SensorFrame) -> Any:
        boxes = self.outputs[self._next]
        self._next += 1
        y = boxes.center_m[:, 1] if len(boxes) else np.zeros(0)
        return boxes.select((y >= self.y_min_m) & (y <= self.y_max_m))


def labelled_lateral_span_m(dataset: str, root: Path) -> tuple[float, float]:
    """Smallest and largest ego-frame ``y`` of every label box centre of ``dataset``."""
    from drivestack.eval.detection.datasets import labelled_frames

    ys = [
        lf.frame.labels.center_m[:, 1]
        for lf in labelled_frames(dataset, root)
        if lf.frame.labels is not None and len(lf.frame.labels)
    ]
    if not ys:
        raise SystemExit(f"no labels under {root}")
    y = np.concatenate(ys)
    return float(y.min()), float(y.max())


def _group_figures(dataset: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """Vehicle / pedestrian figures of one ``evaluate_dataset`` result."""
    if dataset == "av2":
        summary, by_threshold = metrics["summary"], metrics["ap_by_threshold"]
        return {
            group: {
                "ap_2m": by_threshold.get(group, {}).get("2.0"),
                **summary.get(group, {}),
                "misses_2m": metrics.get("misses", {}).get(group),
            }
            for group in ("vehicle", "pedestrian")
        }
    return {  # a group without labels is not scored (evaluate_dataset's groups_without_labels)
        group: {
            "ap_2m": metrics["label_aps"][group]["2.0"],
            "ap_by_distance_m": metrics["label_aps"][group],
            **metrics["label_tp_errors"][group],
        }
        for group in ("vehicle", "pedestrian")
        if group in metrics["label_aps"]
    }


def other_dataset(args: argparse.Namespace) -> dict[str, Any]:
    """Vehicle AP at 2 m (and pedestrians) of drivestack and the open3d baseline on aiMotive
    or Argoverse 2 (see the module docstring)."""
    from drivestack.eval.detection.datasets import DEFAULT_ROOTS
    from drivestack.eval.detection.run import evaluate_dataset
    from drivestack.perception.lidar.baseline import Open3dBaselineDetector

    root = args.root or args.data / DEFAULT_ROOTS[args.dataset]
    config = args.config or REPO / "configs" / "perception" / f"lidar_{args.dataset}.yaml"
    detectors: dict[str, Any] = {
        "drivestack": build_lidar_detector(config),
        "open3d_baseline": Open3dBaselineDetector(),
    }
    figures: dict[str, Any] = {"dataset": args.dataset, "root": str(root), "config": str(config)}
    band = None
    if args.dataset == "aimotive":
        lo, hi = labelled_lateral_span_m(args.dataset, root)
        band = (lo - args.band_margin_m, hi + args.band_margin_m)
        figures["annotated_band_y_m"] = list(band)
    for name, detector in detectors.items():
        recorded = Recorded(detector)
        run = evaluate_dataset(
            args.dataset,
            root,
            detector=recorded,
            progress=lambda it, name=name: tqdm(it, desc=f"{args.dataset} {name}", unit="scan"),
        )
        figures["num_frames"] = run["num_frames"]
        figures[name] = _group_figures(args.dataset, run["metrics"])
        if band is not None:
            banded = evaluate_dataset(
                args.dataset, root, detector=Replayed(recorded.outputs, *band)
            )
            figures[f"{name}_in_annotated_band"] = _group_figures(args.dataset, banded["metrics"])
    return figures


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, default=REPO.parent / "shared" / "data", help="shared data folder"
    )
    parser.add_argument(
        "--dataset",
        choices=["kitti-tracking", "aimotive", "av2"],
        default="kitti-tracking",
        help="kitti-tracking: the sequence 0000 figures; aimotive / av2: vehicle AP at 2 m",
    )
    parser.add_argument("--root", type=Path, default=None, help="dataset folder (aimotive, av2)")
    parser.add_argument(
        "--band-margin-m",
        type=float,
        default=1.0,
        help="aiMotive: margin around the labels' lateral span for the annotated-band figures",
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="detector YAML (default: lidar_<dataset>.yaml)"
    )
    parser.add_argument("--first", type=int, default=74)
    parser.add_argument("--last", type=int, default=153)
    parser.add_argument("--max-range-m", type=float, default=40.0)
    parser.add_argument("--open3d-frames", type=int, default=0, help="time open3d on N scans")
    parser.add_argument("--fit-scores", action="store_true", help="fit Car score weights")
    parser.add_argument("--no-kitti-protocol", action="store_true", help="skip the KITTI protocol")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    if args.dataset != "kitti-tracking":
        text = strict_dumps(other_dataset(args), indent=2)
        print(text)
        if args.json is not None:
            args.json.write_text(text + "\n")
        return 0
    if args.config is None:
        args.config = REPO / "configs" / "perception" / "lidar_kitti.yaml"

    root = args.data / "kitti_tracking"
    calib = read_kitti_calib(root / "training" / "calib" / "0000.txt")
    lidar_from_zup = lidar_from_camera_zup(calib)  # the tracker's camera -> LiDAR conversion
    labels = read_tracking_labels(root / "training" / "label_02" / "0000.txt")
    prcnn = read_ab3dmot_detections(
        root / "detections" / "ab3dmot_pointrcnn" / "pointrcnn_Car_val" / "0000.txt"
    )
    pose_path = root / "training" / KITTI_TRACKING_POSE_FOLDER / "0000.txt"
    world_from_lidar = (
        world_from_lidar_poses(read_ego_poses(pose_path), calib) if pose_path.exists() else None
    )
    detector = build_lidar_detector(args.config)
    cfg = detector.cfg
    if args.fit_scores:
        cfg = dataclasses.replace(cfg, classify=dataclasses.replace(cfg.classify, min_score=0.0))
        detector = build_lidar_detector(cfg)
    ransac_cfg = dataclasses.replace(cfg.ground, method="ransac")
    camera_from_lidar = calib.camera_rect_from_lidar()

    tallies = {
        name: CarTally(args.max_range_m)
        for name in ("drivestack", "drivestack_odd", "pointrcnn", "pointrcnn_odd")
    }
    ground_zones, ground_ransac = GroundCheck(0, 0, 0, 0), GroundCheck(0, 0, 0, 0)
    yaw_errors: list[float] = []
    features: list[np.ndarray] = []
    truth: list[np.ndarray] = []
    timings: dict[str, list[float]] = {}
    wall_ms: list[float] = []
    cpu_ms: list[float] = []
    open3d_ms: list[float] = []
    points: list[int] = []
    frames = range(args.first, args.last + 1)
    for f in tqdm(frames, desc="kitti-tracking 0000", unit="scan"):
        # in --fit-scores mode the odd frames still run (the sweep history stays that of the
        # evaluation) but only the even frames' boxes are collected
        scan = root / "training" / "velodyne_pcd_xz" / "0000" / f"{f:06d}.pcd.xz"
        cloud = read_velodyne_pcd(scan, timestamp_ns=f * 100_000_000)
        rows = labels.select((labels.frame == f) & (labels.type_name != "DontCare"))
        gt = objects_to_boxes(rows, None).transformed(lidar_from_zup, "lidar")
        gt7 = gt.to_array7()
        cars, vans = gt7[gt.label == CAR], gt7[gt.label == VAN]

        # the estimated ego poses let the accumulate step merge past sweeps (num_sweeps > 1)
        frame = SensorFrame(
            cloud.timestamp_ns,
            lidars={"velodyne": cloud},
            ego_from_sensor={"velodyne": SE3.identity()},
            world_from_ego=world_from_lidar[f] if world_from_lidar is not None else None,
        )
        wall, cpu = time.perf_counter(), time.process_time()
        result = detector.detect(frame)
        cpu_ms.append((time.process_time() - cpu) * 1e3)
        wall_ms.append((time.perf_counter() - wall) * 1e3)
        for step in result.report.steps:
            timings.setdefault(step.name, []).append(step.duration_ms)
        points.append(len(cloud))
        if len(open3d_ms) < args.open3d_frames:
            start = time.perf_counter()
            open3d_baseline(np.asarray(cloud.xyz_m))
            open3d_ms.append((time.perf_counter() - start) * 1e3)

        if args.fit_scores and f % 2:
            continue
        det = result.boxes
        det7 = det.to_array7()
        keep = (det.label == CAR) & boxes_in_image(det7, camera_from_lidar, calib.P2, IMAGE_WH)
        det7, det_score = det7[keep], det.score[keep]
        counted, true = tallies["drivestack"].add(det7, det_score, cars, vans)
        features.append(result.score_features[keep][counted])
        truth.append(true[counted])
        p = objects_to_boxes(prcnn.select(prcnn.frame == f), None).transformed(
            lidar_from_zup, "lidar"
        )
        p_in = boxes_in_image(p.to_array7(), camera_from_lidar, calib.P2, IMAGE_WH)
        p7, p_score = p.to_array7()[p_in], p.score[p_in]
        tallies["pointrcnn"].add(p7, p_score, cars, vans)
        if f % 2:
            tallies["drivestack_odd"].add(det7, det_score, cars, vans)
            tallies["pointrcnn_odd"].add(p7, p_score, cars, vans)
        if args.fit_scores:
            continue

        xyz = np.asarray(result.xyz_m, dtype=np.float64)
        ground_zones = ground_zones + check_ground(xyz, result.is_ground, gt7)
        ransac = segment_ground(xyz, ransac_cfg).is_ground
        ground_ransac = ground_ransac + check_ground(xyz, ransac, gt7)
        # box fit on the label vehicles' own non-ground points (clusters cut by the labels)
        vehicles = gt7[np.isin(gt.label, [CAR, VAN])]
        inside = np.asarray(kernels.points_in_boxes(xyz, vehicles))
        for j in range(len(vehicles)):
            cut = xyz[inside[:, j] & ~result.is_ground]
            if len(cut) >= 50:
                fitted = fit_box(cut, None, cfg.box_fit)
                err = abs(np.mod(fitted[6] - vehicles[j, 6] + np.pi / 2, np.pi) - np.pi / 2)
                yaw_errors.append(float(np.rad2deg(err)))

    if args.fit_scores:
        weights = fit_score_weights(np.concatenate(features), np.concatenate(truth))
        print("car score_weights (even frames):", json.dumps([round(float(w), 3) for w in weights]))
        return 0

    summaries = {name: t.summary() for name, t in tallies.items()}
    yaw = np.asarray(yaw_errors)
    figures: dict[str, Any] = {
        "frames": [args.first, args.last],
        "max_range_m": args.max_range_m,
        **summaries,
        "ap_ratio_drivestack_over_pointrcnn": {
            "all": summaries["drivestack"]["ap40_bev"] / summaries["pointrcnn"]["ap40_bev"],
            "odd": summaries["drivestack_odd"]["ap40_bev"] / summaries["pointrcnn_odd"]["ap40_bev"],
        },
        "ground_zones": {
            "object_points_kept": ground_zones.object_kept_fraction,
            "near_ground_found": ground_zones.ground_found_fraction,
            "points_judged": [ground_zones.object_points, ground_zones.near_ground_points],
        },
        "ground_ransac": {
            "object_points_kept": ground_ransac.object_kept_fraction,
            "near_ground_found": ground_ransac.ground_found_fraction,
        },
        "yaw_fit": {
            "clusters": len(yaw),
            "within_10deg": float((yaw < 10).mean()) if len(yaw) else float("nan"),
        },
        "timing_median_ms": {k: _median(v) for k, v in timings.items()}
        | {"stage_wall": _median(wall_ms), "stage_cpu": _median(cpu_ms)},
        "open3d_baseline_median_ms": _median(open3d_ms),
        "points_median": _median([float(p) for p in points]),
        "config": dataclasses.asdict(cfg),
    }
    if not args.no_kitti_protocol:
        figures["kitti_protocol_car_bev_ap40"] = kitti_protocol(root, cfg, world_from_lidar)
    text = strict_dumps(figures, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
