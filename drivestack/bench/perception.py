"""Perception benchmark: drivestack's LiDAR stage beside the plain open3d pipeline, same scans.

Runs both detectors over real labelled scans (KITTI tracking sequence 0000 by default) in one
process, and prints the median stage time, drivestack's per-step medians (from the stage's own
run-time report), point counts, and the ratio baseline / drivestack. Both are warmed up on the
first scan, untimed (drivestack's numba compilation; the baseline's first open3d call, which
imports open3d), so that neither pays its start-up in the figures.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

#: Below this median share of points kept by the ROI step the timings are warned about.
MIN_ROI_SHARE = 0.2


def run(
    *,
    dataset: str,
    root: Path,
    config: Path,
    max_frames: int | None = 20,
    json_path: Path | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    from drivestack.core.provenance import run_provenance
    from drivestack.eval.detection.datasets import check_detector_config, labelled_frames
    from drivestack.perception.lidar.baseline import Open3dBaselineDetector
    from drivestack.perception.lidar.detector import build_lidar_detector

    detector = build_lidar_detector(config)
    # map steps on data without a map: ConfigError now, not at the first scan
    for warning in check_detector_config(dataset, detector.cfg, config):
        print(f"warning: {warning}", file=sys.stderr)
    baseline = Open3dBaselineDetector()
    frames = []
    for i, labelled in enumerate(labelled_frames(dataset, root, load_points=True)):
        if max_frames is not None and i >= max_frames:
            break
        frames.append(labelled.frame)
    if not frames:
        raise ValueError(f"no labelled scans found for {dataset} under {root}")
    detector.reset()
    # warm-up, untimed: numba compilation and open3d's import are not part of the figures
    detector.step(frames[0])
    detector.reset()
    baseline.reset()
    baseline.step(frames[0])
    baseline.reset()
    ours_ms, base_ms, points, kept = [], [], [], []
    steps: dict[str, list[float]] = {}
    for frame in frames:
        start = time.perf_counter()
        _, report = detector.step_with_report(frame)
        ours_ms.append(1e3 * (time.perf_counter() - start))
        by_step = report.as_dict()
        for name, value in by_step.items():
            steps.setdefault(name, []).append(float(value["duration_ms"]))
        roi = by_step.get("roi")
        if roi is not None and roi["items_in"]:
            kept.append(roi["items_out"] / roi["items_in"])
        start = time.perf_counter()
        baseline.step(frame)
        base_ms.append(1e3 * (time.perf_counter() - start))
        points.append(len(frame.lidar()))
    step_medians = {k: float(np.median(v)) for k, v in steps.items()}
    kept_share = float(np.median(kept)) if kept else None
    if kept_share is not None and kept_share < MIN_ROI_SHARE:  # little work timed: say so
        print(
            f"warning: drivestack's region of interest kept a median {100 * kept_share:.1f}% "
            f"of the points of these scans: the config ({config}) may not fit the data "
            "(its sensor height, ROI or frame), and the timings compare unequal work",
            file=sys.stderr,
        )
    result: dict[str, Any] = {
        "benchmark": "perception",
        "dataset": dataset,
        "frames": len(frames),
        "median_points": float(np.median(points)),
        # the median share of a scan's points drivestack's ROI step kept (work actually timed)
        "median_roi_kept_share": kept_share,
        "drivestack_median_ms": float(np.median(ours_ms)),
        "open3d_baseline_median_ms": float(np.median(base_ms)),
        "baseline_over_drivestack": float(np.median(base_ms) / np.median(ours_ms)),
        "drivestack_step_median_ms": step_medians,
        "config": str(config),
        # what eval's metrics.json records of its run: the resolved config and the provenance
        "detector_config": dataclasses.asdict(detector.cfg),
        **run_provenance(),
    }
    log(f"{dataset}: {len(frames)} scans, median {result['median_points']:.0f} points")
    log(f"{'drivestack LiDAR stage':<32} {result['drivestack_median_ms']:9.1f} ms  1.00x")
    for name, ms in step_medians.items():
        log(f"  {name:<30} {ms:9.1f} ms")
    log(
        f"{'open3d plain pipeline':<32} {result['open3d_baseline_median_ms']:9.1f} ms  "
        f"{result['baseline_over_drivestack']:.2f}x"
    )
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=2))
        log(f"wrote {json_path}")
    return result
