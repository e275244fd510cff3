"""nuScenes ground truth with an unknown velocity gets no velocity error, as in the devkit
(its NaN velocity is skipped by the nan-aware cumulative mean)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.eval.detection.datasets import nuscenes_frames
from drivestack.ingest.nuscenes import read_nuscenes_info


@pytest.mark.data
def test_unknown_label_velocity_is_nan_in_the_ground_truth(shared_data: Path) -> None:
    root = shared_data / "nuscenes_samples" / "mmdet3d_demo"
    (sample,) = [s for info in sorted(root.glob("*_info.json")) for s in read_nuscenes_info(info)]
    (frame,) = nuscenes_frames(root, load_points=False)
    assert sample.velocity_known is not None and (~sample.velocity_known).sum() == 2
    unknown = np.isnan(frame.native.velocity_mps).any(axis=1)
    np.testing.assert_array_equal(unknown, ~sample.velocity_known)
    assert np.isfinite(frame.native.velocity_mps[sample.velocity_known]).all()
