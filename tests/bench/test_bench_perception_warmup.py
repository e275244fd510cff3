"""``drivestack bench perception`` warms up both detectors untimed: the open3d baseline's first
call (which imports open3d, ~0.5 s) is not in its median, as drivestack's numba compilation is
not in drivestack's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.core.frames import LIDAR
from drivestack.core.transforms import SE3
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

KITTI = Path(__file__).resolve().parents[2] / "configs" / "perception" / "lidar_kitti.yaml"
FIRST_CALL_S = 0.5


class SlowFirstCall:
    """A baseline whose first ``step`` in the process costs :data:`FIRST_CALL_S` (an import)."""

    calls = 0

    def reset(self) -> None:
        pass

    def step(self, frame: SensorFrame) -> Boxes3D:
        if SlowFirstCall.calls == 0:
            time.sleep(FIRST_CALL_S)
        SlowFirstCall.calls += 1
        return Boxes3D.empty(frame.lidar().frame, frame.timestamp_ns)


def _frames(dataset: str, root: Path, *, load_points: bool = True) -> Iterator[Any]:
    from drivestack.eval.detection.datasets import LabelledFrame

    rng = np.random.default_rng(0)
    ground = np.c_[rng.uniform(-20, 20, (3000, 2)), np.full(3000, -1.73)]
    block = np.c_[rng.uniform(8, 12, 400), rng.uniform(-0.9, 0.9, 400), rng.uniform(-1.4, 0, 400)]
    xyz = np.concatenate([ground, block]).astype(np.float32)
    for i in range(3):
        frame = SensorFrame(
            i, lidars={LIDAR: PointCloud(xyz, LIDAR, i)}, ego_from_sensor={LIDAR: SE3.identity()}
        )
        yield LabelledFrame(str(i), frame, None)


def test_the_baseline_is_warmed_up_untimed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from drivestack.bench import perception

    monkeypatch.setattr(
        "drivestack.perception.lidar.baseline.Open3dBaselineDetector", SlowFirstCall
    )
    monkeypatch.setattr("drivestack.eval.detection.datasets.labelled_frames", _frames)
    monkeypatch.setattr(SlowFirstCall, "calls", 0)
    result = perception.run(
        dataset="kitti-tracking", root=tmp_path, config=KITTI, max_frames=1, log=lambda _: None
    )
    assert SlowFirstCall.calls == 2  # the warm-up, then the one timed scan
    assert result["open3d_baseline_median_ms"] < 0.2 * FIRST_CALL_S * 1e3
