"""Run the main job on data drivestack generates itself, and say what ran.

Today the demo runs the geometry-kernel benchmark on a generated driving scene (the
perception, tracking and planning stages that will replay a bundled drive are tracked in
their own issues); it prints drivestack's timings beside shapely's and open3d's.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=Path("out/demo"), help="folder for the demo's outputs"
    )
    parser.add_argument(
        "--full", action="store_true", help="full benchmark sizes instead of the quick ones"
    )


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
    from drivestack.bench import kernels

    print(
        "drivestack demo: no bundled drive to replay yet, so this runs what exists — the geometry\n"
        "kernel benchmark (rotated IoU, NMS, points in boxes, voxel grid, ...) on a generated\n"
        "driving scene, side by side with shapely, open3d and plain NumPy."
    )
    json_path = args.out / "bench_kernels.json"
    kernels.run(quick=not args.full, repeats=3, kitti_object_dir=None, json_path=json_path)
    print(f"demo finished: results in {json_path}")
    return 0
