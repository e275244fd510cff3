"""tools/calibrate_sim_perception.py writes a config for the simulated sensor: the base config's
settings with the refitted Car weights, the simulated mount, split-box joining and
``datasets: [sim]``, whichever base it starts from (no rendering here: the text it writes)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drivestack.perception.lidar.config import load_lidar_detector_config
from tests.replay._tools import REPO, load_tool

tool = load_tool("calibrate_sim_perception")
WEIGHTS = np.array([-1.25, 2.5, 0.125, -0.5, 0.75])


def _written(tmp_path: Path, base: Path, weights: np.ndarray, height_m: float) -> Path:
    config = tool.sim_sensor_config(load_lidar_detector_config(base), height_m)
    out = tmp_path / "lidar_sim.yaml"
    out.write_text(tool.sim_config_text(base.read_text(), weights, height_m, config.dedup))
    return out


def test_a_kitti_base_becomes_a_config_for_the_simulated_sensor(tmp_path: Path) -> None:
    base = REPO / "configs/perception/lidar_kitti.yaml"
    out = _written(tmp_path, base, WEIGHTS, 1.9)
    config, kitti = load_lidar_detector_config(out), load_lidar_detector_config(base)
    assert config.datasets == ("sim",)  # KITTI's names would warn on every simulated replay
    np.testing.assert_array_equal(config.classify.car.score_weights, WEIGHTS)
    assert config.classify.pedestrian == kitti.classify.pedestrian  # only the Car's refitted
    assert config.ground.sensor_height_m == 1.9 and config.dedup.enabled
    assert out.read_text().count("\ndedup:") == 1
    unchanged = dataclasses.replace(
        config,
        datasets=kitti.datasets,
        classify=dataclasses.replace(config.classify, car=kitti.classify.car),
        ground=kitti.ground,
        dedup=kitti.dedup,
    )
    assert unchanged == kitti


@pytest.mark.parametrize("height_m", [1.73, 1.9])
def test_the_shipped_config_as_base_with_its_own_weights_is_unchanged(
    tmp_path: Path, height_m: float
) -> None:
    """``--base configs/perception/lidar_sim.yaml``: refitting only the Car weights keeps every
    other setting of the shipped config (the mount as the simulator has it)."""
    base = REPO / "configs/perception/lidar_sim.yaml"
    shipped = load_lidar_detector_config(base)
    out = _written(tmp_path, base, np.asarray(shipped.classify.car.score_weights), height_m)
    written = load_lidar_detector_config(out)
    expected = dataclasses.replace(
        shipped, ground=dataclasses.replace(shipped.ground, sensor_height_m=height_m)
    )
    assert written == expected


def test_the_base_option_is_named_when_its_file_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.yaml"
    status = tool.main(["--out", str(tmp_path / "c.yaml"), "--base", str(missing)])
    assert status == 2
    assert "nope.yaml" in capsys.readouterr().err
    assert not (tmp_path / "c.yaml").exists()
