"""Step 1: range / region-of-interest crop and ego-body removal."""

from __future__ import annotations

import numpy as np

from drivestack import kernels
from drivestack.perception.lidar.config import RoiConfig


def roi_mask(xyz_m: np.ndarray, cfg: RoiConfig) -> np.ndarray:
    """Points worth perceiving.

    Args:
        xyz_m: ``(N, 3)`` points in the sensor (or ego) frame the config is written for.
        cfg: range limits, the region-of-interest box and the ego-body box.

    Returns:
        ``(N,)`` bool: finite, within ``[min_range_m, max_range_m]``, inside the ROI box and
        outside the ego-body box (which removes returns from the car itself).
    """
    xyz_m = np.asarray(xyz_m)
    if xyz_m.ndim != 2 or xyz_m.shape[1] != 3:
        raise ValueError(f"roi_mask: xyz_m must have shape (N, 3), got {xyz_m.shape}")
    if len(xyz_m) == 0:
        return np.zeros(0, dtype=bool)
    finite = np.isfinite(xyz_m).all(axis=1)  # (a sum overflows to inf for huge finite values)
    safe = xyz_m if finite.all() else np.where(finite[:, None], xyz_m, 0.0).astype(xyz_m.dtype)
    keep = finite & kernels.crop_range(safe, cfg.min_range_m, cfg.max_range_m)
    keep &= kernels.crop_box(safe, np.asarray(cfg.min_xyz_m), np.asarray(cfg.max_xyz_m))
    on_ego = kernels.crop_box(
        safe, np.asarray(cfg.ego_body_min_xyz_m), np.asarray(cfg.ego_body_max_xyz_m)
    )
    return np.asarray(keep & ~on_ego)
