"""Geometry kernels: one documented function per hot operation.

Each takes NumPy, Torch or CuPy arrays of float32 or float64 and returns results in the
input's library, device and dtype; arguments mixing libraries raise ``TypeError``; bad
shapes, other dtypes (float16, bfloat16, integers: cast explicitly) or NaN raise
``ValueError`` naming the argument, as do box positions or sizes beyond
:func:`~drivestack.kernels._common.magnitude_limit` (float32 ~4.4e11 m, float64 ~3.5e101 m:
their areas would overflow). NumPy input runs a numba-compiled CPU route when numba is
available (``impl="reference"`` or ``DRIVESTACK_CPU_ROUTE=reference`` forces the array
reference); Torch and CuPy inputs run the array reference on their own device.

Boxes are ``(N, 7)`` ``[x, y, z, length, width, height, yaw]`` with z at the geometric centre.
"""

from drivestack.kernels.camera import (
    points_in_frustum,
    project_boxes_to_image,
    project_points,
    unproject_pixels,
)
from drivestack.kernels.corners import box_corners
from drivestack.kernels.crop import crop_box, crop_range
from drivestack.kernels.distance import center_distances
from drivestack.kernels.iou import box_giou_3d, box_giou_bev, box_iou_3d, box_iou_bev
from drivestack.kernels.nms import nms_bev
from drivestack.kernels.overlap import boxes_overlap_bev, boxes_overlap_bev_pairs
from drivestack.kernels.points_in_boxes import points_in_boxes
from drivestack.kernels.transform import transform_points
from drivestack.kernels.voxel import voxel_downsample

__all__ = [
    "box_corners",
    "box_giou_3d",
    "box_giou_bev",
    "box_iou_3d",
    "box_iou_bev",
    "boxes_overlap_bev",
    "boxes_overlap_bev_pairs",
    "center_distances",
    "crop_box",
    "crop_range",
    "nms_bev",
    "points_in_boxes",
    "points_in_frustum",
    "project_boxes_to_image",
    "project_points",
    "transform_points",
    "unproject_pixels",
    "voxel_downsample",
]
