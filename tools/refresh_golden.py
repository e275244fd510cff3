#!/usr/bin/env python3
"""Refresh the golden replay outputs after an intended change of the stack's behaviour.

Replays the bundled demo drive (data/demo/drive.mcap) through configs/stack/sim_lidar.yaml and
rewrites tests/golden/demo_replay.json; prints what changed against the previous reference.

    .venv/bin/python tools/refresh_golden.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden" / "demo_replay.json"


def main() -> None:
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
    save_golden(GOLDEN, record)
    print(f"wrote {GOLDEN} ({len(record['frames'])} frames)")


if __name__ == "__main__":
    main()
