#!/usr/bin/env python3
"""Refresh the golden replay outputs after an intended change of the stack's behaviour.

Replays the bundled demo drive (data/demo/drive.mcap) through configs/stack/sim_lidar.yaml and
rewrites tests/golden/demo_replay.json; prints what changed against the previous reference.

    .venv/bin/python tools/refresh_golden.py [--check]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden" / "demo_replay.json"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only print what changed against the reference; do not rewrite it",
    )
    args = parser.parse_args(argv)
    from drivestack.pipeline import build_stack
    from drivestack.replay.golden import compare_golden, golden_record, load_golden, save_golden
    from drivestack.replay.runner import replay

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.mcap"
        replay(
            REPO / "data/demo/drive.mcap", build_stack(REPO / "configs/stack/sim_lidar.yaml"), out
        )
        record = golden_record(out)
    if GOLDEN.exists():
        diffs = compare_golden(record, load_golden(GOLDEN))
        print("\n".join(diffs[:50]) if diffs else "outputs unchanged")
    if args.check:
        return
    save_golden(GOLDEN, record)
    print(f"wrote {GOLDEN} ({len(record['frames'])} frames)")


if __name__ == "__main__":
    main()
