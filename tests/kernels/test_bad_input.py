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
    with pytest.raises(ValueError, match="float32 or float64"):
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


def test_mixed_libraries_are_named_plainly():
    torch = pytest.importorskip("torch")
    plain = r"^arguments mix numpy and torch arrays; pass both as one kind$"
    tensor = torch.from_numpy(GOOD)
    with pytest.raises(TypeError, match=plain) as err:
        K.box_iou_bev(tensor, GOOD)
    assert "array_api_compat" not in str(err.value) and err.value.__suppress_context__
    with pytest.raises(TypeError, match=plain):
        K.nms_bev(GOOD, torch.ones(1, dtype=torch.float64), 0.5)
    with pytest.raises(TypeError, match=plain):
        K.points_in_boxes(torch.zeros((3, 3), dtype=torch.float64), GOOD)
    k = np.eye(3)
    with pytest.raises(TypeError, match=r"^arguments mix numpy and torch arrays"):
        K.project_boxes_to_image(tensor, torch.eye(4, dtype=torch.float64), k, 640, 480)


def test_three_libraries_are_all_named():
    torch = pytest.importorskip("torch")
    from drivestack.core.arrays import namespace

    fake_cupy = type("ndarray", (), {"__module__": "cupy._core.core", "shape": (1, 7)})()
    with pytest.raises(
        TypeError, match=r"^arguments mix cupy, numpy and torch arrays; pass all as"
    ):
        namespace(GOOD, torch.from_numpy(GOOD), fake_cupy)


def test_one_dimensional_shapes_read_as_tuples():
    with pytest.raises(ValueError, match=r"scores must have shape \(2,\), got \(3,\)"):
        boxes = np.tile([0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0], (2, 1))
        K.nms_bev(boxes, np.ones(3), 0.5)


def test_a_structure_given_for_an_array_names_its_accessor():
    """Was: 'must be a NumPy, Torch or CuPy array, got Boxes3D', with no way out named."""
    from drivestack.structures import Boxes3D, PointCloud

    boxes = Boxes3D.from_array7(GOOD, "ego", 0)
    with pytest.raises(TypeError, match=r"boxes_a .* got Boxes3D: pass boxes\.to_array7\(\)$"):
        K.box_iou_bev(boxes, GOOD)
    cloud = PointCloud(np.zeros((2, 3)), "ego", 0)
    with pytest.raises(TypeError, match=r"got PointCloud: pass cloud\.xyz_m$"):
        K.points_in_boxes(cloud, GOOD)
