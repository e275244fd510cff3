"""LidarDetector.warmup(): warms every coordinate dtype asked for (float32 and float64 by
default), says nothing with multi-sweep accumulation on, and leaves the detector's history as
it was."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.lidar import LidarDetector, load_lidar_detector_config
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

from .synthetic import KITTI_LIDAR_CONFIG, ground_plane


def _detector(num_sweeps: int = 1) -> LidarDetector:
    cfg = load_lidar_detector_config(KITTI_LIDAR_CONFIG)
    accumulate = dataclasses.replace(cfg.accumulate, num_sweeps=num_sweeps)
    return LidarDetector(dataclasses.replace(cfg, accumulate=accumulate))


def _record_scans(monkeypatch: pytest.MonkeyPatch) -> list[tuple[np.dtype, int]]:
    """Spy on the frames the (throwaway) warm-up detector runs: (coordinate dtype, sweeps)."""
    seen: list[tuple[np.dtype, int]] = []
    real = LidarDetector._detect

    def spy(self: LidarDetector, frame: SensorFrame) -> Any:
        seen.append((frame.lidar().xyz_m.dtype, self.cfg.accumulate.num_sweeps))
        return real(self, frame)

    monkeypatch.setattr(LidarDetector, "_detect", spy)
    return seen


def test_default_warmup_covers_float32_and_float64(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _record_scans(monkeypatch)
    _detector().warmup()
    assert [d for d, _ in seen] == [np.dtype(np.float32), np.dtype(np.float64)]


def test_warmup_runs_the_dtypes_asked_for_once_each(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _record_scans(monkeypatch)
    detector = _detector()
    detector.warmup(np.float64)
    detector.warmup("float32", np.float32, np.dtype(np.float32))
    assert [d for d, _ in seen] == [np.dtype(np.float64), np.dtype(np.float32)]


@pytest.mark.parametrize("dtype", [np.float16, np.int32, "float128"])
def test_warmup_refuses_a_dtype_the_stage_does_not_take(dtype: object) -> None:
    with pytest.raises(
        ValueError, match=r"LidarDetector\.warmup dtypes must be float32 or float64"
    ):
        _detector().warmup(dtype)  # type: ignore[arg-type]


def test_multi_sweep_warmup_is_silent_and_single_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _record_scans(monkeypatch)
    detector = _detector(num_sweeps=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the "frame has no pose" warning would fail here
        detector.warmup()
    assert {n for _, n in seen} == {1}
    assert detector.cfg.accumulate.num_sweeps == 3  # the detector's own config is unchanged
    # and the detector still warns for its own pose-less frames (its warning was not spent)
    cloud = PointCloud(ground_plane(np.random.default_rng(0), num=2_000), "lidar", 0)
    with pytest.warns(UserWarning, match=r"accumulate\.num_sweeps is 3 but the frame has no pose"):
        detector.step(SensorFrame(0, lidars={"lidar": cloud}))


def _posed_frame(k: int) -> SensorFrame:
    xyz = ground_plane(np.random.default_rng(k), num=2_000).astype(np.float32)
    t_ns = k * 100_000_000
    return SensorFrame(
        t_ns,
        lidars={"lidar": PointCloud(xyz, "lidar", t_ns)},
        ego_from_sensor={"lidar": SE3.identity()},
        world_from_ego=SE3.from_xyz_yaw([1.0 * k, 0.0, 0.0], 0.0),
    )


def test_warmup_leaves_no_sweep_behind_and_keeps_the_history() -> None:
    fresh = _detector(num_sweeps=3)
    fresh.warmup()
    merged = fresh.detect(_posed_frame(0))
    assert merged.report.as_dict()["accumulate"]["items_out"] == 2_000  # no synthetic sweep
    assert fresh._accumulator.num_past_sweeps == 1

    ongoing = _detector(num_sweeps=3)
    ongoing.detect(_posed_frame(0))
    ongoing.warmup()
    assert ongoing.last_report is not None  # not the warm-up's, not cleared
    after = ongoing.detect(_posed_frame(1))
    assert after.report.as_dict()["accumulate"]["items_out"] == 4_000  # frame 0 still merged
