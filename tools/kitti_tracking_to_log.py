"""Write a KITTI tracking sequence's Velodyne scans, labels, calibration and ego poses into a
drivestack log (MCAP), ready for ``drivestack replay`` to replay and score with the KITTI
detection and tracking protocols (see ``drivestack/replay/kitti_log.py``).

    .venv/bin/python tools/kitti_tracking_to_log.py --root ../shared/data/kitti_tracking \\
        --out runs/kitti_0000.mcap
    drivestack replay runs/kitti_0000.mcap --stack configs/stack/default.yaml --out runs/k.mcap

``--first-frame A --last-frame B`` writes frames A to B only (both included). Exit status 2 for
bad input (a missing or malformed KITTI file, a frame range the sequence does not have).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from drivestack.cli import report_user_errors
from drivestack.commands._paths import check_out_file, int_at_least, removed_on_failure
from drivestack.replay.kitti_log import kitti_tracking_to_log

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=REPO.parent / "shared" / "data" / "kitti_tracking",
        help="KITTI tracking folder (training/velodyne_pcd_xz, label_02, calib)",
    )
    parser.add_argument("--sequence", default="0000", help="sequence name (default 0000)")
    parser.add_argument("--out", type=Path, required=True, help="output log (.mcap)")
    parser.add_argument(
        "--first-frame",
        type=int_at_least(0),
        help="first frame index to write (default: the first)",
    )
    parser.add_argument(
        "--last-frame",
        type=int_at_least(0),
        help="last frame index to write, included (default: the last)",
    )
    args = parser.parse_args(argv)
    if (
        args.first_frame is not None
        and args.last_frame is not None
        and args.first_frame > args.last_frame
    ):
        parser.error(f"--first-frame {args.first_frame} is after --last-frame {args.last_frame}")
    return report_user_errors(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    check_out_file(args.out, what="the log's file name")  # before any work
    with removed_on_failure(args.out.parent):
        args.out.parent.mkdir(parents=True, exist_ok=True)
        n = kitti_tracking_to_log(
            args.root,
            args.out,
            sequence=args.sequence,
            progress=lambda scans: tqdm(list(scans), desc="scans", unit="scan"),
            first_frame=args.first_frame,
            last_frame=args.last_frame,
        )
    print(f"wrote {n} frames of sequence {args.sequence} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
