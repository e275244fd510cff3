"""Strict loading of configs/perception/*.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from drivestack.core.errors import ConfigError
from drivestack.perception.lidar import (
    LidarDetectorConfig,
    build_lidar_detector,
    load_lidar_detector_config,
)

from .synthetic import PERCEPTION_CONFIGS

CONFIGS = sorted((PERCEPTION_CONFIGS).glob("lidar*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_load(path: Path) -> None:
    cfg = load_lidar_detector_config(path)
    assert isinstance(cfg, LidarDetectorConfig)
    assert build_lidar_detector(path).cfg == cfg


def _write(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(CONFIGS[0].read_text())
    edit(data)
    out = tmp_path / "bad.yaml"
    out.write_text(yaml.safe_dump(data))
    return out


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d["ground"].update(sensor_hieght_m=1.7))
    with pytest.raises(ConfigError, match=r"bad\.yaml.*ground\.sensor_hieght_m"):
        load_lidar_detector_config(path)


def test_wrong_type_names_key(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d["cluster"].update(min_points="four"))
    with pytest.raises(ConfigError, match=r"bad\.yaml.*cluster\.min_points"):
        load_lidar_detector_config(path)


def test_missing_key_names_key(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d["box_fit"].pop("yaw_step_deg"))
    with pytest.raises(ConfigError, match=r"box_fit\.yaw_step_deg"):
        load_lidar_detector_config(path)


def test_inconsistent_values_are_config_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d["ground"].update(zone_rings=[2, 4]))
    with pytest.raises(ConfigError, match=r"bad\.yaml.*ground"):
        load_lidar_detector_config(path)
    path = _write(tmp_path, lambda d: d["accumulate"].update(num_sweeps=0))
    with pytest.raises(ConfigError, match="num_sweeps"):
        load_lidar_detector_config(path)


def test_config_is_frozen() -> None:
    cfg = load_lidar_detector_config(CONFIGS[0])
    with pytest.raises(AttributeError):
        cfg.roi.max_range_m = 1.0  # type: ignore[misc]
