"""Evaluate results against labels. Sub-commands name what is evaluated.

Examples:
  drivestack eval tracking --kitti-root ../shared/data/kitti_tracking --split val --out runs/trk
"""

from __future__ import annotations

import argparse
import importlib

# target -> (module under drivestack.commands, help). Each module has add_arguments/run.
EVAL_TARGETS: dict[str, tuple[str, str]] = {
    "detection": (
        "eval_detection",
        "3D detection metrics (KITTI, nuScenes, Argoverse 2 protocols)",
    ),
    "tracking": (
        "eval_tracking",
        "KITTI 3D MOT: run the tracker and/or score result files (sAMOTA, MOTA, HOTA)",
    ),
    "detection2d": (
        "eval_detection2d",
        "2D detection AP (image boxes) at IoU 0.5/0.7, e.g. RRC on KITTI tracking",
    ),
    "prediction": (
        "eval_prediction",
        "motion forecasts of recorded agents (AV2, CommonRoad, KITTI): ADE, FDE, miss rate",
    ),
    "planning": (
        "eval_planning",
        "planners open loop on recorded AV2 drives: nuPlan's ADE, FDE, heading errors, OLS",
    ),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="eval_target", metavar="TARGET", required=True)
    for name, (module_name, help_text) in EVAL_TARGETS.items():
        module = importlib.import_module(f"drivestack.commands.{module_name}")
        cmd = sub.add_parser(
            name,
            help=help_text,
            description=(module.__doc__ or help_text).strip(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(cmd)
        cmd.set_defaults(_eval_module=module)


def run(args: argparse.Namespace) -> int:
    return int(args._eval_module.run(args) or 0)
