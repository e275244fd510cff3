"""Write the LiDAR frames of an Argoverse 2 log, an aiMotive or PandaSet sequence or a nuScenes
info file into a drivestack log (MCAP) for ``drivestack replay``: clouds, ego poses where the
dataset has them, LiDAR mountings and labels, with their track ids where the dataset has them
(``drivestack/replay/dataset_log.py``; KITTI tracking: tools/kitti_tracking_to_log.py).

    .venv/bin/python tools/dataset_to_log.py --dataset av2 \\
        --root ../shared/data/argoverse2/sensor/val/7fab2350-7eaf-3b7e-a39d-6937a4c1bede \\
        --out runs/av2.mcap
    drivestack replay runs/av2.mcap --stack STACK.yaml --out runs/av2_run.mcap

A dataset without ego poses (aiMotive) is replayed with ``--missing-ego-pose
track_in_ego_frame`` (the converter says so). ``--first-frame A --last-frame B`` writes frames A
to B only (both included): Argoverse 2 sweeps and aiMotive frames numbered in their order from
0, PandaSet's lidar/NN.npz numbers, nuScenes sample indices. Exit status 2 for bad input (a
folder without frames, a malformed file, a frame range the data does not have all of).
"""

from __future__ import annotations

import sys

from drivestack.commands.convert_log import dataset_main


def main(argv: list[str] | None = None) -> int:
    return dataset_main(__doc__ or "", argv)


if __name__ == "__main__":
    sys.exit(main())
