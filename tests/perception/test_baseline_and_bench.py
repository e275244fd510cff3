"""The open3d baseline stage and the perception benchmark on real KITTI tracking scans."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drivestack.perception.lidar.baseline import Open3dBaselineDetector
from drivestack.structures import ObjectClass, PointCloud, SensorFrame


def _frame(xyz: np.ndarray) -> SensorFrame:
    return SensorFrame(0, lidars={"lidar": PointCloud(xyz.astype(np.float32), "lidar", 0)})


def test_baseline_finds_a_car_sized_block_above_a_plane():
    rng = np.random.default_rng(0)
    ground = np.c_[rng.uniform(-20, 20, (4000, 2)), rng.normal(-1.7, 0.02, 4000)]
    car = np.c_[
        rng.uniform(8.0, 12.4, 800), rng.uniform(-0.9, 0.9, 800), rng.uniform(-1.5, -0.2, 800)
    ]
    boxes = Open3dBaselineDetector().step(_frame(np.concatenate([ground, car])))
    cars = boxes.select(boxes.label == ObjectClass.CAR)
    assert len(cars) == 1
    np.testing.assert_allclose(cars.center_m[0, :2], [10.2, 0.0], atol=0.2)
    assert 4.0 < cars.size_m[0, 0] < 4.6


def test_baseline_empty_scan_gives_no_boxes():
    assert len(Open3dBaselineDetector().step(_frame(np.zeros((0, 3))))) == 0


@pytest.mark.slow
def test_bench_perception_runs_both_detectors_on_kitti(shared_data, tmp_path):
    from drivestack.cli import main

    out = tmp_path / "bench.json"
    root = shared_data / "kitti_tracking"
    assert (
        main(["bench", "perception", "--root", str(root), "--max-frames", "2", "--json", str(out)])
        == 0
    )
    result = json.loads(out.read_text())
    assert result["frames"] == 2 and result["median_points"] > 90_000
    assert result["drivestack_median_ms"] > 0 and result["open3d_baseline_median_ms"] > 0
    assert {"ground", "cluster", "box_fit"} <= set(result["drivestack_step_median_ms"])
    # what eval's metrics.json records of its run: the resolved config and the provenance
    assert result["detector_config"]["ground"]["sensor_height_m"] == 1.73
    assert {"drivestack_version", "git_commit", "command"} <= set(result)
    assert 0.2 < result["median_roi_kept_share"] <= 1.0


def test_bench_perception_warns_when_the_stage_timed_little_work(shared_data, tmp_path, capsys):
    """Was: a config whose ROI kept almost nothing timed a near-empty stage and printed a
    large ratio to the baseline without a word."""
    from drivestack.cli import main

    config = tmp_path / "tiny_roi.yaml"
    text = (Path(__file__).resolve().parents[2] / "configs/perception/lidar_kitti.yaml").read_text()
    config.write_text(text.replace("max_range_m: 60.0", "max_range_m: 3.0", 1))
    root = shared_data / "kitti_tracking"
    argv = [
        "bench",
        "perception",
        "--root",
        str(root),
        "--max-frames",
        "1",
        "--config",
        str(config),
    ]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "warning: drivestack's region of interest kept a median " in err
    assert "the timings compare unequal work" in err
