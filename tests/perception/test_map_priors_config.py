"""The HD-map priors of the LiDAR stage are switched on by the Argoverse 2 config only."""

from __future__ import annotations

from typing import Any

import pytest

from drivestack.perception.lidar import load_lidar_detector_config

from .synthetic import PERCEPTION_CONFIGS

MAP_PRIORS = ("classify.far_vehicle", "classify.lane_heading")


@pytest.mark.parametrize("prior", MAP_PRIORS)
def test_only_the_av2_config_turns_the_map_prior_on(prior: str) -> None:
    def enabled(config: str) -> bool:
        section: Any = load_lidar_detector_config(PERCEPTION_CONFIGS / config)
        for key in prior.split("."):
            section = getattr(section, key)
        return bool(section.enabled)

    assert enabled("lidar_av2.yaml")
    for config in ("lidar_kitti.yaml", "lidar_aimotive.yaml", "lidar_sim.yaml"):
        assert not enabled(config), config
