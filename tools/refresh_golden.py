#!/usr/bin/env python3
"""Refresh the golden replay outputs after an intended change of the stack's behaviour.

Replays the bundled demo drive (data/demo/drive.mcap) through configs/stack/sim_lidar.yaml and
rewrites tests/golden/demo_replay.json; prints what changed against the previous reference.

    .venv/bin/python tools/refresh_golden.py [--check]

Exit status: 0; with --check, 1 when the outputs differ from the reference (or there is none,
or it is unreadable: damaged JSON, not a golden record; the line says why), so that CI fails on
an unintended change. Without --check a damaged reference is rewritten.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden" / "demo_replay.json"


def reference_diffs(record: dict[str, Any], golden: Path) -> list[str]:
    """Print and return what differs between ``record`` and the reference at ``golden``; a
    missing or unreadable reference is one difference naming it (and why)."""
    from drivestack.core.errors import DataError
    from drivestack.replay.golden import compare_golden, load_golden

    if not golden.exists():
        diffs = [f"no reference record {golden}"]
    else:
        try:
            diffs = compare_golden(record, load_golden(golden))
        except DataError as exc:  # damaged: not JSON, not a golden record
            diffs = [f"unreadable reference record: {exc}"]
        except OSError as exc:  # a folder, no permission
            diffs = [f"unreadable reference record {golden}: {exc.strerror or exc}"]
    print("\n".join(diffs[:50]) if diffs else "outputs unchanged")
    if len(diffs) > 50:
        print(f"... and {len(diffs) - 50} more differences")
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only print what changed against the reference, do not rewrite it; exit status "
        "1 when anything changed",
    )
    args = parser.parse_args(argv)
    from drivestack.pipeline import build_stack
    from drivestack.replay.golden import golden_record, save_golden
    from drivestack.replay.runner import replay

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.mcap"
        replay(
            REPO / "data/demo/drive.mcap", build_stack(REPO / "configs/stack/sim_lidar.yaml"), out
        )
        record = golden_record(out)
    diffs = reference_diffs(record, GOLDEN)
    if args.check:
        return 1 if diffs else 0
    save_golden(GOLDEN, record)
    print(f"wrote {GOLDEN} ({len(record['frames'])} frames)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
