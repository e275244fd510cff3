"""Run the LiDAR detector on KITTI tracking sequence 0000 (frames 74-153) and score it.

Scores drivestack's stage, the open3d baseline of ``drivestack eval detection --detector
open3d-baseline`` and ``drivestack bench perception``
(:class:`~drivestack.perception.lidar.baseline.Open3dBaselineDetector`: ``segment_plane`` +
``cluster_dbscan`` + axis-aligned boxes within 60 m, seeded) and the PointRCNN detections of the
same frames: Car recall / precision at BEV IoU 0.5 (labels within ``--max-range-m``,
detections that show in image_02: centre in front of the camera and projected 2D box overlapping
the image, the KITTI protocol's filter), the scans given their estimated ego poses
(``training/ego_poses_orbslam3_stereo/0000.txt``, for the accumulate step), false Car boxes per scan, and an AP40 at
BEV IoU 0.5 (greedy matching, all difficulties, Van boxes ignored -- a development figure,
not the official KITTI protocol of ``drivestack.eval.detection``), each over all frames and
(drivestack, PointRCNN) over the odd frames alone (the Car score calibration was fitted on the
even ones); the ground-segmentation checks against the label boxes for the zone model and the
RANSAC baseline; the box-fit yaw check on clusters cut by the labels; and the median per-step
time, with the same-run ratio of the open3d baseline's median time over drivestack's on the
scans both ran. A recall or AP without labels is undefined (null in the JSON, n/a in the table).

The open3d baseline runs on every scan by default (about 1 s a scan on the 2-core machine);
``--open3d-frames N`` runs it on the first N scans only (its timing, no accuracy figures),
``--open3d-frames 0`` skips it.

Unless ``--no-kitti-protocol``, drivestack and PointRCNN are also scored with the KITTI 3D
object protocol of ``drivestack.eval.detection`` on all 80 scans (Car BEV AP40 at IoU 0.7
"strict" / 0.5 "loose", per difficulty; "hard" includes every difficulty).

``--fit-scores`` instead fits the Car ``score_weights`` (Platt calibration) on the even frames
and prints them for ``configs/perception/lidar_kitti.yaml``.

``--dataset aimotive`` / ``--dataset av2`` instead run drivestack's stage
(``configs/perception/lidar_<dataset>.yaml`` unless ``--config``) and the open3d baseline on every
labelled scan of that dataset and print vehicle AP at 2 m centre distance (aiMotive: the
nuScenes-style centre-distance AP of ``drivestack eval detection``, vehicles within 50 m; AV2:
the Argoverse 2 protocol on class groups, within 150 m and the map ROI), the pedestrian
figures and each detector's median time per scan. The aiMotive sequence's labels cover only
the ego's carriageway (every box lies within y = -7.0 .. 0.2 m in the body frame; vehicles
beyond the barrier are not labelled), so aiMotive is also scored with the detections
restricted to that annotated band (the lateral span of the labels plus ``--band-margin-m``),
the analogue of KITTI's scoring inside the camera image.

The options of one dataset (``--first``, ``--last``, ``--max-range-m``, ``--fit-scores``,
``--no-kitti-protocol``: KITTI; ``--band-margin-m``: aiMotive) are refused by name with
another, as is an ``--open3d-frames`` count other than 0 outside KITTI (there the baseline runs
on every scan or, with 0, on none). A config that switches on the steps reading an HD map for
data without one is refused before any scan; one made for other data (its ``datasets`` key)
gets a one-line warning.

Output: a short summary table on stdout; ``--json FILE`` also writes every figure (the
resolved detector config, per-step timings, the KITTI protocol per difficulty, ...) to FILE,
``--json -`` writes that JSON to stdout and the summary to stderr. Bad input (a config with an
unknown key, frames outside the scans present, a missing folder) is one ``error: ...`` line,
exit status 2.

    .venv/bin/python tools/eval_lidar_perception.py --data ../shared/data [--json out.json]
    .venv/bin/python tools/eval_lidar_perception.py --dataset aimotive [--json out.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from drivestack import kernels
from drivestack.cli import report_user_errors
from drivestack.commands._paths import (
    check_out_file,
    dataset_root,
    detector_config,
    int_at_least,
    non_negative_number,
    positive_number,
)
from drivestack.core.errors import DataError
from drivestack.core.json_values import strict_dumps
from drivestack.core.progress import progress as progress_bar
from drivestack.core.transforms import SE3
from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_format import lidar_from_camera_zup, objects_to_boxes
from drivestack.ingest.kitti_object import read_velodyne_pcd
from drivestack.ingest.kitti_tracking import (
    KITTI_TRACKING_POSE_FOLDER,
    format_frame_ranges,
    read_ab3dmot_detections,
    read_ego_poses,
    read_tracking_labels,
    world_from_lidar_poses,
)
from drivestack.perception.lidar import build_lidar_detector
from drivestack.perception.lidar.baseline import Open3dBaselineDetector
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
#: Where the KITTI tracking 0000 scans lie under the dataset folder, and their file suffix.
SCAN_FOLDER = Path("training") / "velodyne_pcd_xz" / "0000"
SCAN_SUFFIX = ".pcd.xz"


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


def _other_vehicle(labels: Any) -> np.ndarray:
    """``(N,)`` bool: the labels of a vehicle class other than Car (ignored when scoring Car)."""
    from drivestack.eval.detection.run import CLASS_GROUPS

    others = [int(c) for c in CLASS_GROUPS["vehicle"] if c != ObjectClass.CAR]
    return np.isin(labels.label, others)


class Recorded:
    """Evaluation wrapper: runs ``detector`` and keeps every output, in order, so that a second
    scoring (:class:`Replayed`) needs no second run, and the wall time of every ``step`` in
    milliseconds (``step_ms``, kept across resets)."""

    def __init__(self, detector: Any) -> None:
        self.detector = detector
        self.outputs: list[Any] = []
        self.step_ms: list[float] = []
        # Car boxes against the frames' Car labels (other vehicles ignored), at any range
        self.cars = CarTally(max_range_m=math.inf)

    def reset(self) -> None:
        self.detector.reset()
        self.outputs = []

    def step(self, frame: SensorFrame) -> Any:
        start = time.perf_counter()
        boxes = self.detector.step(frame)
        self.step_ms.append((time.perf_counter() - start) * 1e3)
        self.outputs.append(boxes)
        labels = frame.labels
        if labels is not None and labels.frame == boxes.frame:
            gt, det = labels.to_array7(), boxes.to_array7()
            car = boxes.label == CAR
            self.cars.add(
                det[car], boxes.score[car], gt[labels.label == CAR], gt[_other_vehicle(labels)]
            )
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
        raise DataError(f"no {dataset} labels", path=str(root), field="--root")
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


def _progress(desc: str) -> Any:
    """A ``progress`` callable for ``evaluate_dataset``: a bar named ``desc`` (plain lines
    without a terminal: :func:`drivestack.core.progress.progress`)."""

    def wrap(frames: Iterable[Any]) -> Iterable[Any]:
        return progress_bar(frames, desc=desc, unit="scan")

    return wrap


def dataset_folder(args: argparse.Namespace, dataset: str) -> Path:
    """``--root``, else ``dataset``'s folder under ``--data``; DataError naming the option
    when it is missing."""
    from drivestack.eval.detection.datasets import DEFAULT_ROOTS

    if args.root is not None:
        return dataset_root(dataset, args.root)
    return dataset_root(dataset, args.data / DEFAULT_ROOTS[dataset], "--data")


def other_dataset(args: argparse.Namespace) -> dict[str, Any]:
    """Vehicle AP at 2 m (and pedestrians) of drivestack and the open3d baseline on aiMotive
    or Argoverse 2, with each one's median time per scan (see the module docstring)."""
    from drivestack.eval.detection.run import evaluate_dataset

    root = dataset_folder(args, args.dataset)
    config = args.config
    detectors: dict[str, Any] = {"drivestack": build_lidar_detector(config)}
    if args.open3d_frames != 0:  # (0: skipped; other counts are refused for these datasets)
        detectors["open3d_baseline"] = Open3dBaselineDetector()
    figures: dict[str, Any] = {"dataset": args.dataset, "root": str(root), "config": str(config)}
    band = None
    if args.dataset == "aimotive":
        lo, hi = labelled_lateral_span_m(args.dataset, root)
        band = (lo - args.band_margin_m, hi + args.band_margin_m)
        figures["annotated_band_y_m"] = list(band)
    median_ms: dict[str, float] = {}
    for name, detector in detectors.items():
        recorded = Recorded(detector)
        run = evaluate_dataset(
            args.dataset, root, detector=recorded, progress=_progress(f"{args.dataset} {name}")
        )
        figures["num_frames"] = run["num_frames"]
        figures[name] = _group_figures(args.dataset, run["metrics"])
        if name == "drivestack":
            figures["drivestack_car_size_error"] = recorded.cars.size_error_summary()
        median_ms[name] = _median(recorded.step_ms)
        if band is not None:
            banded = evaluate_dataset(
                args.dataset, root, detector=Replayed(recorded.outputs, *band)
            )
            figures[f"{name}_in_annotated_band"] = _group_figures(args.dataset, banded["metrics"])
    figures["stage_median_ms"] = median_ms
    figures["open3d_over_drivestack_time_ratio"] = _ratio(
        median_ms.get("open3d_baseline"), median_ms["drivestack"]
    )
    return figures


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")


def _ratio(num: float | None, den: float | None) -> float | None:
    """``num / den``, None when either is missing or not finite, or ``den`` is 0."""
    if num is None or den is None or not (math.isfinite(num) and math.isfinite(den)) or not den:
        return None
    return num / den


def _fmt(value: Any, spec: str) -> str:
    """``value`` formatted with ``spec``; ``n/a`` for None / NaN, ``-`` for not run."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return format(value, spec)


def _row(name: str, cells: Iterable[str], width: int = 17) -> str:
    return f"  {name:<42}" + "".join(f"{c:>{width}}" for c in cells)


def _size_error_lines(sizes: dict[str, Any]) -> list[str]:
    """The line of drivestack's median true-positive Car size error (CarTally's
    ``size_error_summary``), none when ``sizes`` has no such figure."""
    median = sizes.get("tp_size_error_median_m")
    if median is None:
        return []
    return [
        "  drivestack true-positive Car boxes (BEV IoU 0.5), median size error fitted - labelled:"
        f" length {_fmt(median[0], '+.3f')} / width {_fmt(median[1], '+.3f')} / height "
        f"{_fmt(median[2], '+.3f')} m ({sizes.get('tp_size_error_count')} boxes)"
    ]


def print_kitti_summary(figures: dict[str, Any], out: TextIO) -> None:
    """The KITTI tracking 0000 figures as a few lines: drivestack / open3d baseline / PointRCNN
    side by side, then the ground and yaw checks and the timing ratio."""
    first, last = figures["frames"]
    o3d = figures.get("open3d_baseline")  # accuracy only when the baseline ran on every scan
    o3d_frames = figures["open3d_baseline_frames"]
    lines = [
        f"KITTI tracking 0000, frames {first}-{last} ({figures['num_scans']} scans): Car at BEV "
        f"IoU 0.5, labels within {figures['max_range_m']:g} m, detections in image_02",
        _row("", ["drivestack", "open3d baseline", "PointRCNN"]),
    ]

    def metric(key: str, spec: str) -> list[str]:
        return [
            _fmt(figures["drivestack"][key], spec),
            _fmt(o3d[key], spec) if o3d else "-",
            _fmt(figures["pointrcnn"][key], spec),
        ]

    lines += [
        _row(f"recall within {figures['max_range_m']:g} m", metric("recall", ".3f")),
        _row("precision", metric("precision", ".3f")),
        _row("false Car boxes per scan", metric("false_car_boxes_per_scan", ".2f")),
        _row("AP40 BEV IoU 0.5 (development figure)", metric("ap40_bev", ".3f")),
        _row(
            "  odd frames only",
            [
                _fmt(figures["drivestack_odd"]["ap40_bev"], ".3f"),
                "-",
                _fmt(figures["pointrcnn_odd"]["ap40_bev"], ".3f"),
            ],
        ),
    ]
    protocol = figures.get("kitti_protocol_car_bev_ap40")
    if protocol is not None:
        for diff in ("moderate", "hard"):
            lines.append(
                _row(
                    f"KITTI Car BEV AP40 {diff} strict/loose",
                    [
                        f"{_fmt(protocol[name].get(f'Car_BEV_AP40_{diff}_strict'), '.2f')}/"
                        f"{_fmt(protocol[name].get(f'Car_BEV_AP40_{diff}_loose'), '.2f')}"
                        if name in protocol
                        else "-"
                        for name in ("drivestack", "open3d_baseline", "pointrcnn")
                    ],
                )
            )
    timing = figures["timing_median_ms"]
    lines.append(
        _row(
            "stage median ms per scan",
            [
                _fmt(timing["stage_wall"], ".1f"),
                _fmt(figures["open3d_baseline_median_ms"], ".1f"),
                "-",
            ],
        )
    )
    ratio = figures.get("open3d_over_drivestack_time_ratio")
    if ratio is not None:
        lines.append(
            f"  open3d baseline / drivestack median time on the same {o3d_frames} scans: "
            f"{ratio:.1f}x (this run, this machine)"
        )
    if o3d_frames == 0:
        lines.append(
            "  open3d baseline skipped (--open3d-frames 0): --open3d-frames N times it on N "
            "scans, all (the default) also scores it"
        )
    elif o3d is None:
        lines.append(
            f"  open3d baseline ran on {o3d_frames} of {figures['num_scans']} scans: timing "
            "only; --open3d-frames all (the default) also scores it"
        )
    if protocol is not None:
        lines.append("  (KITTI protocol: all 80 scans, whatever --first/--last)")
    lines += _size_error_lines(figures["drivestack"])
    zones, ransac, yaw = figures["ground_zones"], figures["ground_ransac"], figures["yaw_fit"]
    lines += [
        f"  ground, zone model / RANSAC: object points kept "
        f"{_fmt(zones['object_points_kept'], '.3f')} / {_fmt(ransac['object_points_kept'], '.3f')}"
        f", near-ground points found {_fmt(zones['near_ground_found'], '.3f')} / "
        f"{_fmt(ransac['near_ground_found'], '.3f')}",
        f"  box-fit yaw within 10 deg: {_fmt(yaw['within_10deg'], '.3f')} of "
        f"{yaw['clusters']} label-cut clusters",
    ]
    print("\n".join(lines), file=out)


def print_other_summary(figures: dict[str, Any], out: TextIO) -> None:
    """The aiMotive / AV2 figures as a few lines: drivestack and the open3d baseline."""
    names = ("drivestack", "open3d_baseline")
    lines = [
        f"{figures['dataset']}: {figures['num_frames']} labelled scans, drivestack config "
        f"{figures['config']}; AP at 2 m centre distance",
        _row("", ["drivestack", "open3d baseline"]),
    ]
    suffixes = [("", "")]
    if "annotated_band_y_m" in figures:
        lo, hi = figures["annotated_band_y_m"]
        suffixes.append(("_in_annotated_band", f", labelled band y {lo:.1f}..{hi:.1f} m"))
    for group in ("vehicle", "pedestrian"):
        for suffix, note in suffixes:
            cells = []
            for name in names:
                if f"{name}{suffix}" not in figures:  # not run (--open3d-frames 0)
                    cells.append("-")
                    continue
                row = figures[f"{name}{suffix}"].get(group)
                cells.append("no labels" if row is None else _fmt(row.get("ap_2m"), ".3f"))
            lines.append(_row(f"{group} AP at 2 m{note}", cells))
    lines += _size_error_lines(figures.get("drivestack_car_size_error", {}))
    median = figures["stage_median_ms"]
    lines.append(
        _row(
            "stage median ms per scan",
            [_fmt(median[n], ".1f") if n in median else "-" for n in names],
        )
    )
    ratio = figures.get("open3d_over_drivestack_time_ratio")
    if ratio is not None:
        lines.append(f"  open3d baseline / drivestack median time: {ratio:.1f}x (this run)")
    print("\n".join(lines), file=out)


def check_frames(root: Path, first: int, last: int) -> list[int]:
    """``first .. last`` when every one of them has a scan under ``root``; DataError naming the
    frames present otherwise (before any scan is read)."""
    folder = root / SCAN_FOLDER
    if not folder.is_dir():
        raise DataError("no KITTI tracking 0000 scans (velodyne_pcd_xz)", path=str(folder))
    present = {
        int(p.name[: -len(SCAN_SUFFIX)])
        for p in folder.glob(f"*{SCAN_SUFFIX}")
        if p.name[: -len(SCAN_SUFFIX)].isdigit()
    }
    available = f"the scans present under {folder} are frames {format_frame_ranges(sorted(present)) or 'none'}"
    if first > last:
        raise DataError(f"--first {first} is after --last {last}; {available}")
    missing = [f for f in range(first, last + 1) if f not in present]
    if missing:
        raise DataError(
            f"--first {first} --last {last}: no scan for frames {format_frame_ranges(missing)}; "
            f"{available}"
        )
    return list(range(first, last + 1))


def open3d_frames(text: str) -> int | None:
    """``--open3d-frames``: ``all`` (None) or a count of at least 0."""
    return None if text == "all" else int_at_least(0)(text)


def kitti_tracking(args: argparse.Namespace) -> dict[str, Any] | None:
    """The KITTI tracking 0000 figures (None in ``--fit-scores`` mode, which prints weights)."""
    root = dataset_folder(args, "kitti-tracking")
    frames = check_frames(root, args.first, args.last)
    detector = build_lidar_detector(args.config)  # a bad config fails here, before any scan
    cfg = detector.cfg
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
    if args.fit_scores:
        cfg = dataclasses.replace(cfg, classify=dataclasses.replace(cfg.classify, min_score=0.0))
        detector = build_lidar_detector(cfg)
    ransac_cfg = dataclasses.replace(cfg.ground, method="ransac")
    camera_from_lidar = calib.camera_rect_from_lidar()
    baseline = Open3dBaselineDetector()
    baseline_frames = 0 if args.fit_scores else args.open3d_frames
    if baseline_frames is None or baseline_frames > len(frames):
        baseline_frames = len(frames)

    tallies = {
        name: CarTally(args.max_range_m)
        for name in ("drivestack", "drivestack_odd", "pointrcnn", "pointrcnn_odd")
    }
    baseline_tally = CarTally(args.max_range_m)
    ground_zones, ground_ransac = GroundCheck(0, 0, 0, 0), GroundCheck(0, 0, 0, 0)
    yaw_errors: list[float] = []
    features: list[np.ndarray] = []
    truth: list[np.ndarray] = []
    timings: dict[str, list[float]] = {}
    wall_ms: list[float] = []
    cpu_ms: list[float] = []
    open3d_ms: list[float] = []
    points: list[int] = []

    def in_image_cars(boxes: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The Car boxes of ``boxes`` that show in image_02, as (N, 7), their scores and the
        mask that picks them."""
        array7 = boxes.to_array7()
        keep = (boxes.label == CAR) & boxes_in_image(array7, camera_from_lidar, calib.P2, IMAGE_WH)
        return array7[keep], boxes.score[keep], keep

    for i, f in enumerate(progress_bar(frames, desc="kitti-tracking 0000", unit="scan")):
        # in --fit-scores mode the odd frames still run (the sweep history stays that of the
        # evaluation) but only the even frames' boxes are collected
        scan = root / SCAN_FOLDER / f"{f:06d}{SCAN_SUFFIX}"
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
        if i < baseline_frames:
            start = time.perf_counter()
            base_boxes = baseline.step(frame)
            open3d_ms.append((time.perf_counter() - start) * 1e3)
            base7, base_score, _ = in_image_cars(base_boxes)
            baseline_tally.add(base7, base_score, cars, vans)

        if args.fit_scores and f % 2:
            continue
        det7, det_score, keep = in_image_cars(result.boxes)
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
        return None

    summaries = {name: t.summary() for name, t in tallies.items()}
    yaw = np.asarray(yaw_errors)
    open3d_median = _median(open3d_ms)
    figures: dict[str, Any] = {
        "frames": [args.first, args.last],
        "num_scans": len(frames),
        "max_range_m": args.max_range_m,
        **summaries,
        "ap_ratio_drivestack_over_pointrcnn": {
            "all": _ratio(summaries["drivestack"]["ap40_bev"], summaries["pointrcnn"]["ap40_bev"]),
            "odd": _ratio(
                summaries["drivestack_odd"]["ap40_bev"], summaries["pointrcnn_odd"]["ap40_bev"]
            ),
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
        # the open3d baseline: scored only when it ran on every scan, timed on those it ran on
        "open3d_baseline_frames": len(open3d_ms),
        "open3d_baseline_median_ms": open3d_median,
        "points_median": _median([float(p) for p in points]),
        "config": dataclasses.asdict(cfg),
    }
    if open3d_ms:
        # same run, same scans: the baseline's median over drivestack's (wall time)
        figures["open3d_over_drivestack_time_ratio"] = _ratio(
            open3d_median, _median(wall_ms[: len(open3d_ms)])
        )
    if len(open3d_ms) == len(frames):
        figures["open3d_baseline"] = baseline_tally.summary()
    if not args.no_kitti_protocol:
        figures["kitti_protocol_car_bev_ap40"] = kitti_protocol(root, cfg, world_from_lidar)
    return figures


def _parser() -> argparse.ArgumentParser:
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
    parser.add_argument(
        "--root", type=Path, default=None, help="dataset folder (default: under --data)"
    )
    parser.add_argument(
        "--band-margin-m",
        type=non_negative_number,
        default=None,
        help="aiMotive: margin around the labels' lateral span for the annotated-band figures "
        "(default 1)",
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="detector YAML (default: lidar_<dataset>.yaml)"
    )
    frames = "KITTI tracking 0000 has scans for frames 74-153 only"
    parser.add_argument(
        "--first", type=int, default=None, help=f"first frame scored (default 74; {frames})"
    )
    parser.add_argument(
        "--last", type=int, default=None, help=f"last frame scored (default 153; {frames})"
    )
    parser.add_argument(
        "--max-range-m",
        type=positive_number,
        default=None,
        help="KITTI: label range scored (m, > 0; default 40)",
    )
    parser.add_argument(
        "--open3d-frames",
        type=open3d_frames,
        default=None,
        metavar="N|all",
        help="run the open3d baseline on the first N scans (timing only; KITTI) or all of them "
        "(default: all; also scored, about 1 s a scan); 0 skips it (every dataset)",
    )
    parser.add_argument("--fit-scores", action="store_true", help="KITTI: fit Car score weights")
    parser.add_argument(
        "--no-kitti-protocol",
        action="store_true",
        help="KITTI: skip the KITTI protocol (all 80 scans)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write every figure (resolved config, per-step timings, ...) as JSON to FILE; "
        "'-': the JSON on stdout and the summary on stderr",
    )
    return parser


def _write(figures: dict[str, Any], args: argparse.Namespace, summary: Any) -> None:
    """The summary on stdout (stderr with ``--json -``) and the JSON where ``--json`` says."""
    text = strict_dumps(figures, indent=2)
    to_stdout = args.json is not None and str(args.json) == "-"
    summary(figures, sys.stderr if to_stdout else sys.stdout)
    if to_stdout:
        print(text)
    elif args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)  # (checked first: check_out_file)
        args.json.write_text(text + "\n")
        print(f"wrote every figure to {args.json}")
    else:
        print("every figure (resolved config, per-step timings, ...): --json FILE")


#: Options of one dataset only, with their defaults there: refused by name elsewhere (they
#: would be ignored).
DATASET_OPTIONS: dict[str, dict[str, Any]] = {
    "kitti-tracking": {
        "first": 74,
        "last": 153,
        "max_range_m": 40.0,
        "fit_scores": False,
        "no_kitti_protocol": False,
    },
    "aimotive": {"band_margin_m": 1.0},
}


def check_options(args: argparse.Namespace) -> None:
    """Refuse (DataError naming them) the options of another dataset (:data:`DATASET_OPTIONS`)
    and a count of ``--open3d-frames`` other than 0 outside KITTI (it runs all or none there);
    fill in this dataset's defaults."""
    for dataset, options in DATASET_OPTIONS.items():
        given = [n for n in options if getattr(args, n) not in (None, False)]
        if dataset != args.dataset and given:
            names = ", ".join(f"--{n.replace('_', '-')}" for n in given)
            raise DataError(
                f"only for --dataset {dataset} (not {args.dataset}): it would be ignored",
                field=names,
            )
        if dataset == args.dataset:
            for name, default in options.items():
                if getattr(args, name) is None:
                    setattr(args, name, default)
    if args.dataset != "kitti-tracking" and args.open3d_frames not in (None, 0):
        raise DataError(
            f"--dataset {args.dataset} runs the open3d baseline on every scan (all, the "
            f"default) or on none (0), not on the first {args.open3d_frames}",
            field="--open3d-frames",
        )


def _run(args: argparse.Namespace) -> int:
    from drivestack.eval.detection.datasets import check_detector_config
    from drivestack.perception.lidar import load_lidar_detector_config

    check_options(args)
    if args.json is not None and str(args.json) != "-":
        check_out_file(args.json, "--json")  # writable, checked before the scans
    if args.config is None:  # (a given --config goes to the detector as it is)
        args.config = detector_config(args.dataset, None)
    # a bad config, or one with map steps on data without a map: one line, before any scan
    cfg = load_lidar_detector_config(args.config)
    for warning in check_detector_config(args.dataset, cfg, args.config):
        print(f"warning: {warning}", file=sys.stderr)
    if args.dataset != "kitti-tracking":
        _write(other_dataset(args), args, print_other_summary)
        return 0
    figures = kitti_tracking(args)
    if figures is not None:
        _write(figures, args, print_kitti_summary)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the tool; bad input prints one ``error: ...`` line and returns 2."""
    args = _parser().parse_args(argv)
    return report_user_errors(lambda: _run(args))


if __name__ == "__main__":
    sys.exit(main())
