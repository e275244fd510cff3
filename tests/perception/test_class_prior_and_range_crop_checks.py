"""A class prior whose min_lwh_m exceeds its mean_lwh_m is a ConfigError naming the file and
the key; a range crop of huge finite coordinates says nothing and drops them."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack import kernels
from drivestack.core.errors import ConfigError
from drivestack.perception.lidar import load_lidar_detector_config
from drivestack.perception.lidar.roi import roi_mask

from .synthetic import KITTI_LIDAR_CONFIG


def _write(tmp_path: Path, cls: str, min_lwh_m: list[float]) -> Path:
    data = yaml.safe_load(KITTI_LIDAR_CONFIG.read_text())
    data["classify"][cls]["min_lwh_m"] = min_lwh_m
    out = tmp_path / "prior.yaml"
    out.write_text(yaml.safe_dump(data))
    return out


@pytest.mark.parametrize(("cls", "dim"), [("car", 0), ("pedestrian", 1), ("cyclist", 2)])
def test_min_above_mean_names_file_and_key(tmp_path: Path, cls: str, dim: int) -> None:
    prior = yaml.safe_load(KITTI_LIDAR_CONFIG.read_text())["classify"][cls]
    low = list(prior["min_lwh_m"])
    low[dim] = prior["mean_lwh_m"][dim] + 0.01
    with pytest.raises(
        ConfigError,
        match=rf"prior\.yaml: field classify\.{cls}\.min_lwh_m: need min_lwh_m <= mean_lwh_m",
    ):
        load_lidar_detector_config(_write(tmp_path, cls, low))


def test_min_equal_to_mean_is_accepted(tmp_path: Path) -> None:
    mean = yaml.safe_load(KITTI_LIDAR_CONFIG.read_text())["classify"]["car"]["mean_lwh_m"]
    cfg = load_lidar_detector_config(_write(tmp_path, "car", list(mean)))
    assert cfg.classify.car.min_lwh_m == tuple(mean)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("planar", [False, True])
def test_huge_coordinates_are_out_of_range_without_warnings(dtype: type, planar: bool) -> None:
    big = 3e38 if dtype is np.float32 else 1e300
    pts: np.ndarray = np.array(
        [[1e30, 0, 0], [0, -big, 0], [big, big, big], [5, 0, 0]], dtype=dtype
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "overflow encountered in multiply"
        assert kernels.crop_range(pts, 1.0, 60.0, planar=planar).tolist() == [
            False,
            False,
            False,
            True,
        ]
        # the ROI step on a scan of far-off points, up to the largest the dtype holds
        cfg = load_lidar_detector_config(KITTI_LIDAR_CONFIG)
        scan: np.ndarray = np.array(
            [[1e30, 1e30, 1e30], [-1e30, 0, 0], [big, big, big], [5, 0, -1]], dtype=dtype
        )
        assert roi_mask(scan, cfg.roi).tolist() == [False, False, False, True]


def test_torch_crop_range_of_huge_coordinates() -> None:
    torch = pytest.importorskip("torch")
    pts: np.ndarray = np.array([[1e30, 0, 0], [3e38, 3e38, 0], [0, 5, 0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mask = kernels.crop_range(torch.from_numpy(pts), 1.0, 60.0)
    assert mask.tolist() == [False, False, True]


_coord = st.floats(-1e300, 1e300, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(xyz=st.tuples(_coord, _coord, _coord), planar=st.booleans())
def test_range_crop_agrees_with_an_overflow_free_range(
    xyz: tuple[float, float, float], planar: bool
) -> None:
    """Against math.hypot (no overflow in between), away from the crop's edges."""
    dist = math.hypot(xyz[0], xyz[1]) if planar else math.hypot(*xyz)
    if any(abs(dist - edge) < 1e-6 * edge for edge in (1.0, 60.0)):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mask = kernels.crop_range(np.array([xyz]), 1.0, 60.0, planar=planar)
    assert bool(mask[0]) == (1.0 <= dist <= 60.0)
