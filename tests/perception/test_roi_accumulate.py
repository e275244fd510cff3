"""ROI crop / ego-body removal and multi-sweep accumulation with ego-motion compensation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.lidar.accumulate import SWEEP_AGE_S, SweepAccumulator
from drivestack.perception.lidar.config import AccumulateConfig, RoiConfig
from drivestack.perception.lidar.roi import roi_mask
from drivestack.structures.point_cloud import PointCloud

ROI = RoiConfig(
    min_range_m=1.0,
    max_range_m=50.0,
    min_xyz_m=(-50.0, -20.0, -3.0),
    max_xyz_m=(50.0, 20.0, 2.0),
    ego_body_min_xyz_m=(-3.0, -1.0, -2.0),
    ego_body_max_xyz_m=(1.5, 1.0, 0.3),
)


def test_roi_mask_hand_cases() -> None:
    pts = np.array(
        [
            [10.0, 0.0, -1.0],  # kept
            [0.5, 0.0, 0.0],  # closer than min range
            [60.0, 0.0, 0.0],  # beyond max range
            [10.0, 25.0, 0.0],  # outside the ROI box in y
            [10.0, 0.0, 3.0],  # above the ROI box
            [-2.0, 0.5, -1.0],  # on the ego body
            [np.nan, 0.0, 0.0],  # not finite
            [np.inf, 1.0, 0.0],  # not finite
        ]
    )
    assert roi_mask(pts, ROI).tolist() == [True, False, False, False, False, False, False, False]


def test_roi_mask_empty_and_bad_shape() -> None:
    assert roi_mask(np.zeros((0, 3)), ROI).shape == (0,)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        roi_mask(np.zeros((4, 2)), ROI)


def _cloud(xyz: np.ndarray, t_ns: int) -> PointCloud:
    return PointCloud(np.asarray(xyz, dtype=np.float64), "lidar", t_ns)


def test_accumulation_compensates_ego_motion() -> None:
    acc = SweepAccumulator(AccumulateConfig(num_sweeps=3, max_sweep_age_s=0.5))
    landmark_world = np.array([[20.0, 5.0, 0.0]])
    poses = [SE3.from_xyz_yaw([1.0 * k, 0.2 * k, 0.0], 0.05 * k) for k in range(3)]
    merged = None
    for k, world_from_sensor in enumerate(poses):
        seen = world_from_sensor.inverse().apply(landmark_world)
        merged = acc.step(_cloud(seen, k * 100_000_000), world_from_sensor)
    assert merged is not None and len(merged) == 3
    # all three observations of the static landmark coincide in the newest frame
    expected = poses[-1].inverse().apply(landmark_world)
    np.testing.assert_allclose(merged.xyz_m, np.repeat(expected, 3, axis=0), atol=1e-9)
    np.testing.assert_allclose(np.sort(merged.attribute(SWEEP_AGE_S)), [0.0, 0.1, 0.2], atol=1e-6)
    assert merged.timestamp_ns == 200_000_000


def test_accumulation_drops_old_sweeps_and_unknown_poses() -> None:
    cfg = AccumulateConfig(num_sweeps=3, max_sweep_age_s=0.15)
    acc = SweepAccumulator(cfg)
    pose = SE3.identity()
    acc.step(_cloud([[1.0, 0.0, 0.0]], 0), pose)
    acc.step(_cloud([[2.0, 0.0, 0.0]], 100_000_000), pose)
    merged = acc.step(_cloud([[3.0, 0.0, 0.0]], 200_000_000), pose)
    assert sorted(merged.xyz_m[:, 0].tolist()) == [2.0, 3.0]  # the 0.2 s old sweep is too old
    # without a pose, history cannot be moved: only the newest sweep comes back
    with pytest.warns(UserWarning, match=r"accumulate\.num_sweeps is 3 but the frame has no pose"):
        assert len(acc.step(_cloud([[4.0, 0.0, 0.0]], 300_000_000), None)) == 1
    acc.reset()
    assert len(acc.step(_cloud([[5.0, 0.0, 0.0]], 400_000_000), pose)) == 1


def test_single_sweep_passes_through() -> None:
    acc = SweepAccumulator(dataclasses.replace(AccumulateConfig(1, 0.5)))
    cloud = _cloud(np.ones((4, 3)), 7)
    out = acc.step(cloud, None)
    np.testing.assert_array_equal(out.xyz_m, cloud.xyz_m)
    assert out.attribute(SWEEP_AGE_S).tolist() == [0.0] * 4
