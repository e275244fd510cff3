"""Bad input: wrong shapes, dtypes and NaN name the argument; mixed libraries raise TypeError."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack import kernels as K

GOOD = np.array([[0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0]])


@pytest.mark.parametrize(
    "fn", [K.box_iou_bev, K.box_iou_3d, K.box_giou_bev, K.box_giou_3d, K.boxes_overlap_bev]
)
def test_pairwise_box_kernels_name_the_bad_argument(fn):
    with pytest.raises(ValueError, match=r"\(N, 7\)"):
        fn(np.zeros((2, 5)), GOOD)
    nan = GOOD.copy()
    nan[0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fn(GOOD, nan)
    with pytest.raises(ValueError, match="floating"):
        fn(GOOD.astype(np.int64), GOOD.astype(np.int64))
    with pytest.raises(ValueError, match="dtype"):
        fn(GOOD, GOOD.astype(np.float32))
    negative = GOOD.copy()
    negative[0, 4] = -1.0
    with pytest.raises(ValueError, match="negative sizes"):
        fn(negative, GOOD)


def test_points_kernels_reject_bad_points():
    with pytest.raises(ValueError, match="points"):
        K.points_in_boxes(np.zeros((4, 2)), GOOD)
    with pytest.raises(ValueError, match="NaN"):
        K.voxel_downsample(np.array([[0.0, np.nan, 0.0]]), 0.1)
    with pytest.raises(ValueError, match="scores"):
        K.nms_bev(GOOD, np.zeros(3), 0.5)
    with pytest.raises(TypeError):
        K.crop_range([[0.0, 0.0, 0.0]], 0.0, 1.0)


def test_mixed_array_libraries_raise_type_error():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="mix"):
        K.box_iou_bev(GOOD, torch.from_numpy(GOOD))
    with pytest.raises(TypeError, match="mix"):
        K.points_in_boxes(torch.zeros((3, 3), dtype=torch.float64), GOOD)
