"""Write a KITTI tracking sequence's Velodyne scans, labels, calibration and ego poses into a
drivestack log (MCAP), ready for ``drivestack replay`` to replay and score with the KITTI
detection and tracking protocols (see ``drivestack/replay/kitti_log.py``).

    .venv/bin/python tools/kitti_tracking_to_log.py --root ../shared/data/kitti_tracking \\
        --out runs/kitti_0000.mcap
    drivestack replay runs/kitti_0000.mcap --stack configs/stack/default.yaml --out runs/k.mcap

The scans are read in every layout the ingest reads: KITTI's own
training/velodyne/<seq>/<frame>.bin and the shared data's velodyne_pcd_xz/<seq>/*.pcd.xz.
``--first-frame A --last-frame B`` writes frames A to B only (both included; the sequence's own
frame numbers). Exit status 2 for bad input (a missing or malformed KITTI file, a frame range
the sequence does not have all of: the message names the frames it has). The other datasets:
tools/dataset_to_log.py.
"""

from __future__ import annotations

import sys

from drivestack.commands.convert_log import kitti_tracking_main


def main(argv: list[str] | None = None) -> int:
    return kitti_tracking_main(__doc__ or "", argv)


if __name__ == "__main__":
    sys.exit(main())
