"""Replay a recorded drive through the stack and write what it did.

  drivestack replay LOG --stack configs/stack/default.yaml --out RUN.mcap

LOG is a drivestack log (.mcap) or a ROS bag (ROS 1 .bag, rosbag2 folder). Writes RUN.mcap
(input clouds, labels and poses, plus /perception/detections, /tracking/tracks and per-frame
timings, with Foxglove schemas: open it in Foxglove) and RUN.summary.json (frames processed
and skipped, per-stage timing p50/p95/p99, real-time factor, label-based metrics).
Exit status: 0 for a clean run, 1 when any frame or message was skipped or repaired.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

DEFAULT_STACK = Path(__file__).resolve().parents[2] / "configs" / "stack" / "default.yaml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("log", type=Path, help="drivestack log (.mcap) or ROS bag")
    parser.add_argument(
        "--stack",
        type=Path,
        default=DEFAULT_STACK,
        help="stack YAML (default: configs/stack/default.yaml)",
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="output log (.mcap); the summary goes beside it"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from drivestack.core.errors import DataError
    from drivestack.pipeline import build_stack
    from drivestack.replay.runner import replay

    if not args.log.exists():
        print(f"error: {args.log}: no such file or folder", file=sys.stderr)
        return 2
    try:
        stack = build_stack(args.stack)
        summary = replay(
            args.log, stack, args.out, command=shlex.join(sys.argv), progress=not args.quiet
        )
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    timing = ", ".join(
        f"{stage} p50 {t['p50']:.1f} / p95 {t['p95']:.1f} ms"
        for stage, t in summary["timing_ms"].items()
    )
    print(
        f"replayed {summary['frames_processed']} frames ({summary['frames_skipped']} skipped) in "
        f"{summary['wall_s']:.1f} s, {summary['realtime_factor']:.2f}x real time; {timing}"
    )
    for s in summary["skipped"]:
        print(f"  skipped t={s['timestamp_ns']} {s['source']}: {s['reason']}")
    if summary["ingest"] is not None and not summary["ingest"]["clean"]:
        print(f"  ingest problems: {json.dumps(summary['ingest']['counts'])}")
    if summary["detection_vs_labels"]:
        for cls, m in summary["detection_vs_labels"].items():
            print(
                f"  {cls}: recall {m['recall']:.3f}, precision {m['precision']:.3f} ({m['labels']} labels, BEV IoU 0.5)"
            )
    print(f"wrote {summary['output']} and {summary['summary_path']}")
    return 0 if summary["clean"] else 1
