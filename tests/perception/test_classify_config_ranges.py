"""classify.min_score and classify.min_likelihood are probabilities: outside [0, 1] is a
ConfigError naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from drivestack.core.errors import ConfigError
from drivestack.perception.lidar import load_lidar_detector_config

from .synthetic import KITTI_LIDAR_CONFIG


def _write(tmp_path: Path, key: str, value: float) -> Path:
    data = yaml.safe_load(KITTI_LIDAR_CONFIG.read_text())
    data["classify"][key] = value
    out = tmp_path / "bad.yaml"
    out.write_text(yaml.safe_dump(data))
    return out


@pytest.mark.parametrize(
    ("key", "value"), [("min_score", 5.0), ("min_score", -0.1), ("min_likelihood", 1.5)]
)
def test_out_of_range_threshold_names_file_and_key(tmp_path: Path, key: str, value: float) -> None:
    with pytest.raises(
        ConfigError, match=rf"bad\.yaml: field classify: {key} must be in \[0, 1\].*got {value}"
    ):
        load_lidar_detector_config(_write(tmp_path, key, value))


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_bounds_are_accepted(tmp_path: Path, value: float) -> None:
    cfg = load_lidar_detector_config(_write(tmp_path, "min_score", value))
    assert cfg.classify.min_score == value
