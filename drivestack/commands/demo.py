"""Run the main job on data drivestack ships, and say what ran.

1. Replays the bundled demo drive (``data/demo/drive.mcap``: 6 s recorded from drivestack's
   own simulator — ray-cast LiDAR, camera, ego poses, ground-truth labels) through the stack
   of ``configs/stack/sim_lidar.yaml`` (LiDAR perception calibrated for the simulated sensor +
   tracking), writing the output log
   (open it in Foxglove) and its summary; prints one line per class the stack detected or the
   drive labels (recall, precision, false positives) and one per tracked or labelled class
   (MOTA, MOTP, HOTA, ID switches against the labels' ids), as run.summary.json has them.
2. Runs the geometry-kernel benchmark on a generated driving scene, beside shapely, open3d
   and plain NumPy (``--skip-bench`` to leave it out).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from drivestack.commands._paths import check_out_dir

REPO = Path(__file__).resolve().parents[2]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out/demo"),
        help="folder for the demo's outputs (default out/demo, under the current folder)",
    )
    parser.add_argument(
        "--drive",
        type=Path,
        default=REPO / "data/demo/drive.mcap",
        help="log to replay (default: the bundled data/demo/drive.mcap)",
    )
    parser.add_argument(
        "--stack",
        type=Path,
        default=REPO / "configs/stack/sim_lidar.yaml",
        help="stack YAML (default: the stack calibrated for the simulated sensor)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the outputs in --out of another --drive (refused without it; a rerun of "
        "the same drive replaces its own)",
    )
    parser.add_argument("--skip-bench", action="store_true", help="do not run the kernel benchmark")
    parser.add_argument(
        "--full", action="store_true", help="full benchmark sizes instead of the quick ones"
    )


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
    from drivestack.pipeline import build_stack
    from drivestack.replay.runner import replay

    check_out_dir(args.out)
    stack = build_stack(args.stack)  # a bad --stack or --drive: refused before --out is made
    print(f"drivestack demo 1/2: replaying {args.drive} through {args.stack}")
    summary = replay(
        args.drive,
        stack,
        args.out / "run.mcap",
        command="drivestack demo",
        overwrite=args.overwrite,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    print("\n".join("  " + line for line in _replay_lines(summary)))
    if not args.skip_bench:
        from drivestack.bench import kernels

        print(
            "drivestack demo 2/2: geometry kernels beside shapely, open3d and NumPy on a generated scene"
        )
        kernels.run(
            quick=not args.full,
            repeats=3,
            kitti_object_dir=None,
            json_path=args.out / "bench_kernels.json",
        )
    print(f"demo finished: outputs in {args.out}")
    return 0 if summary["clean"] else 1


def _replay_lines(summary: dict[str, Any]) -> list[str]:
    """The replay's summary lines with one line per class that has detections or labels
    (classes detected but never labelled too: their detections are all false positives),
    then one per tracked or labelled class (CLEAR-MOT and HOTA against the drive's labelled
    ids), before the closing "wrote ..." line."""
    from drivestack.replay.runner import class_line, summary_lines
    from drivestack.replay.track_score import tracking_lines

    by_class = summary.get("detection_vs_labels") or {}
    lines = summary_lines({**summary, "detection_vs_labels": {}, "tracking_vs_labels": None})
    class_lines = [
        class_line(cls, m) for cls, m in by_class.items() if m["labels"] or m["detections"]
    ]
    tracking = tracking_lines(summary.get("tracking_vs_labels"))
    return lines[:-1] + class_lines + tracking + lines[-1:]
