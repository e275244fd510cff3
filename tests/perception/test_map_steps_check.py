"""The detector steps that read the map are listed once (``map_priors.MAP_STEPS``): a config
switching one on is refused for frames without a map before the first frame, and each listed
step is one the detector really fails without its map layer (checked on a real AV2 sweep with
its map removed)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from drivestack.core.errors import ConfigError
from drivestack.perception.lidar import load_lidar_detector_config
from drivestack.perception.lidar.config import (
    LargeVehicleJoinConfig,
    LidarDetectorConfig,
)
from drivestack.perception.lidar.map_priors import (
    MAP_STEPS,
    check_map_steps,
    map_steps_off,
    map_steps_on,
)

from .synthetic import PERCEPTION_CONFIGS

AV2 = PERCEPTION_CONFIGS / "lidar_av2.yaml"


def _only(key: str) -> LidarDetectorConfig:
    """The AV2 config with every map step off but ``key`` (as AV2 sets it; the large-vehicle
    join, off there, switched on with its defaults)."""
    av2 = load_lidar_detector_config(AV2)
    cfg = map_steps_off(av2)
    if key == "ground.prior_surface":
        return dataclasses.replace(cfg, ground=av2.ground)
    if key == "large_vehicle_join":
        return dataclasses.replace(cfg, large_vehicle_join=LargeVehicleJoinConfig(enabled=True))
    name = key.split(".")[1]
    return dataclasses.replace(
        cfg, classify=dataclasses.replace(cfg.classify, **{name: getattr(av2.classify, name)})
    )


def test_the_shipped_configs_switch_on_map_steps_for_av2_only() -> None:
    assert map_steps_on(load_lidar_detector_config(AV2)) == [
        "ground.prior_surface",
        "classify.offroad",
        "classify.far_vehicle",
        "classify.lane_heading",
    ]
    for other in sorted(PERCEPTION_CONFIGS.glob("lidar_*.yaml")):
        if other != AV2:
            assert map_steps_on(load_lidar_detector_config(other)) == [], other.name


@pytest.mark.parametrize("key", list(MAP_STEPS))
def test_check_names_the_config_file_and_the_step(key: str) -> None:
    cfg = _only(key)
    assert map_steps_on(cfg) == [key]
    check_map_steps(cfg, "c.yaml", True, "--dataset av2")  # frames with a map: fine
    with pytest.raises(ConfigError) as caught:
        check_map_steps(cfg, "c.yaml", False, "--dataset kitti")
    assert str(caught.value).startswith(f"c.yaml: field {key}: is on, but the frames of")
    assert all(layer in str(caught.value) for layer in MAP_STEPS[key])
    check_map_steps(map_steps_off(cfg), "c.yaml", False, "--dataset kitti")  # nothing on: fine


def test_the_first_step_is_named_and_the_others_listed() -> None:
    with pytest.raises(ConfigError, match=r"field ground\.prior_surface: is on \(also classify"):
        check_map_steps(load_lidar_detector_config(AV2), Path("a.yaml"), False, "x")


@pytest.mark.data
@pytest.mark.parametrize("key", list(MAP_STEPS))
def test_every_listed_step_fails_on_a_frame_without_its_map(shared_data: Path, key: str) -> None:
    from drivestack.eval.detection.datasets import labelled_frames
    from drivestack.perception.lidar import build_lidar_detector

    root = shared_data / "argoverse2" / "sensor" / "val"
    frame = next(labelled_frames("av2", root)).frame
    detector = build_lidar_detector(_only(key))
    detector.step(frame)  # with the log's map: runs
    layers = {layer: None for layer in MAP_STEPS[key]}
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        detector.step(dataclasses.replace(frame, **layers))
    build_lidar_detector(map_steps_off(_only(key))).step(dataclasses.replace(frame, **layers))
