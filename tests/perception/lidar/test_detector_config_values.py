"""Detector config values found by a config review: a misspelt ``datasets`` name loaded and
never matched (a warning on every run), and a huge ground zone count was a MemoryError
inside the ground step instead of a config error."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import ConfigError
from drivestack.eval.detection.datasets import DATASETS
from drivestack.perception.lidar.config import KNOWN_DATASETS, load_lidar_detector_config

KITTI = Path(__file__).resolve().parents[3] / "configs" / "perception" / "lidar_kitti.yaml"


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = KITTI.read_text()
    assert old in text
    path = tmp_path / "c.yaml"
    path.write_text(text.replace(old, new))
    return path


def test_a_misspelt_dataset_name_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    path = _edited(
        tmp_path, "datasets: [kitti, kitti-tracking]", "datasets: [kitti, kitti_tracking]"
    )
    with pytest.raises(ConfigError) as err:
        load_lidar_detector_config(path)
    assert err.value.field == "datasets"
    assert "unknown dataset 'kitti_tracking' (did you mean 'kitti-tracking'?)" in str(err.value)
    assert set(KNOWN_DATASETS) == {*DATASETS, "sim"}  # the eval's names and the simulator


def test_a_huge_ground_zone_count_is_a_config_error(tmp_path: Path) -> None:
    text = KITTI.read_text()
    start = text.index("zone_rings:")
    line = text[start : text.index("\n", start)]
    path = _edited(tmp_path, line, "zone_rings: [2, 4, 4, 1000000000]")
    with pytest.raises(ConfigError, match="zone_rings and zone_sectors must be <= 4096"):
        load_lidar_detector_config(path)
