"""LiDAR detector config values that would turn a step off (a NaN or negative sensor height,
an infinite range, an empty height band or point-count range) are a ConfigError naming the
file and the dotted key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from drivestack.core.errors import ConfigError
from drivestack.perception.lidar import load_lidar_detector_config

from .synthetic import KITTI_LIDAR_CONFIG

NAN, INF = float("nan"), float("inf")


def _write(tmp_path: Path, section: str, key: str, value: Any) -> Path:
    data = yaml.safe_load(KITTI_LIDAR_CONFIG.read_text())
    data[section][key] = value
    out = tmp_path / "bad.yaml"
    out.write_text(yaml.safe_dump(data))
    return out


@pytest.mark.parametrize(
    ("section", "key", "value", "words"),
    [
        ("ground", "sensor_height_m", NAN, "finite"),
        ("ground", "sensor_height_m", -1.73, "> 0"),
        ("ground", "max_range_m", INF, "finite"),
        ("ground", "seed_height_m", NAN, "finite"),
        ("ground", "max_elevation_m", INF, "finite"),
        ("ground", "min_normal_z", 1.5, "<= 1"),
        ("ground", "distance_threshold_m", 0.0, "> 0"),
        ("ground", "num_iterations", 0, ">= 1"),
        ("cluster", "min_points", 0, ">= 1"),
        ("cluster", "distance_per_range", NAN, "finite"),
        ("cluster", "max_distance_m", INF, "finite"),
        ("cluster", "min_height_above_ground_m", NAN, "finite"),
        ("roi", "max_range_m", NAN, "finite"),
        ("roi", "min_xyz_m", [NAN, -40.0, -3.0], "finite"),
        ("accumulate", "max_sweep_age_s", NAN, "finite"),
        ("box_fit", "closeness_min_distance_m", 0.0, "> 0"),
        ("box_fit", "car_min_length_m", NAN, "finite"),
    ],
)
def test_bad_value_names_file_and_key(
    tmp_path: Path, section: str, key: str, value: Any, words: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_lidar_detector_config(_write(tmp_path, section, key, value))
    message = str(err.value)
    assert "bad.yaml" in message
    assert f"{section}.{key}" in message
    assert words in message


def test_empty_point_count_range(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cluster\.max_points: need min_points <= max_points"):
        load_lidar_detector_config(_write(tmp_path, "cluster", "min_points", 4_000_000))


def test_empty_height_band(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"cluster\.max_height_above_ground_m: need min_height_above_ground_m < max",
    ):
        load_lidar_detector_config(_write(tmp_path, "cluster", "min_height_above_ground_m", 3.5))


def test_class_prior_values_checked(tmp_path: Path) -> None:
    data = yaml.safe_load(KITTI_LIDAR_CONFIG.read_text())
    data["classify"]["car"]["score_weights"][0] = NAN
    out = tmp_path / "bad.yaml"
    out.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"classify\.car\.score_weights: score_weights\[0\]"):
        load_lidar_detector_config(out)


def test_shipped_configs_load() -> None:
    for path in sorted(KITTI_LIDAR_CONFIG.parent.glob("lidar_*.yaml")):
        load_lidar_detector_config(path)
