"""KITTI tracking: LiDAR-only tracker vs camera-LiDAR fused tracker, 3D and 2D MOT side by side.

Same as ``drivestack eval tracking --fusion camera``; see
:mod:`drivestack.perception.fusion.kitti_eval`.

Usage: ``.venv/bin/python tools/eval_fused_tracking.py --kitti-root ../shared/data/kitti_tracking
[--split val] [--classes Car,Pedestrian] --out runs/fused``
"""

from __future__ import annotations

import sys

from drivestack.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--classes" not in args:
        args += ["--classes", "Car,Pedestrian"]  # RRC has no cyclist detections
    sys.exit(main(["eval", "tracking", "--fusion", "camera", *args]))
