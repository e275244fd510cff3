"""Tracking evaluation: the KITTI 3D-MOT protocol of AB3DMOT (sAMOTA, AMOTA, AMOTP, CLEAR-MOT)
and HOTA with 3D similarity."""

from drivestack.eval.tracking.clear import ClearResult, ClearSummary, evaluate_clear
from drivestack.eval.tracking.hota import HotaResult, compute_hota, hota_inputs
from drivestack.eval.tracking.kitti import (
    ClassMetrics,
    evaluate_class,
    evaluate_kitti_tracking,
    format_table,
)
from drivestack.eval.tracking.prepare import ClassData, prepare_class_data
from drivestack.eval.tracking.protocol import KittiMotProtocol

__all__ = [
    "ClassData",
    "ClassMetrics",
    "ClearResult",
    "ClearSummary",
    "HotaResult",
    "KittiMotProtocol",
    "compute_hota",
    "evaluate_class",
    "evaluate_clear",
    "evaluate_kitti_tracking",
    "format_table",
    "hota_inputs",
    "prepare_class_data",
]
