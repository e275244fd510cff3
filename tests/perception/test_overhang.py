"""The overhang veto: clusters with points just above the cluster height band are UNKNOWN."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.perception.lidar import build_lidar_detector, load_lidar_detector_config
from drivestack.perception.lidar.classify import classify
from drivestack.perception.lidar.config import OverhangConfig
from drivestack.perception.lidar.overhang import overhang_mask
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

from .synthetic import (
    CLASSIFY,
    PERCEPTION_CONFIGS,
    SENSOR_HEIGHT_M,
    box_surface,
    car_on_plane,
    ground_plane,
)

BAND = OverhangConfig(band_m=0.5)
# a 4 x 2 m box at (10, 0) along x, and the same box turned by 90 degrees at (0, 10)
BOXES = np.array([[10.0, 0.0, 1.0, 4.0, 2.0, 2.0, 0.0], [0.0, 10.0, 1.0, 4.0, 2.0, 2.0, np.pi / 2]])


def _mask(points_xyh: list[tuple[float, float, float]], cfg: OverhangConfig = BAND) -> list[bool]:
    pts = np.array(points_xyh, dtype=np.float64).reshape(-1, 3)
    return overhang_mask(BOXES, pts, pts[:, 2], 3.0, cfg).tolist()


def test_points_in_the_band_over_the_footprint_veto() -> None:
    # 1.9 m along the first box's length, 0.9 m across: inside; 3.3 m is in (3.0, 3.5]
    assert _mask([(11.9, 0.9, 3.3)]) == [True, False]
    # the turned box: its length runs along y
    assert _mask([(0.9, 11.9, 3.3)]) == [False, True]
    assert _mask([(11.9, 0.9, 3.3), (0.9, 11.9, 3.5)]) == [True, True]


def test_points_outside_the_band_or_footprint_do_not_veto() -> None:
    assert _mask([(11.9, 1.1, 3.3)]) == [False, False]  # beside the box
    assert _mask([(10.0, 0.0, 3.0)]) == [False, False]  # at the limit: inside the band's floor
    assert _mask([(10.0, 0.0, 3.6)]) == [False, False]  # above the band (a bridge deck)
    assert _mask([(10.0, 0.0, 3.3)], OverhangConfig()) == [False, False]  # disabled
    assert _mask([]) == [False, False]
    empty = overhang_mask(np.zeros((0, 7)), np.zeros((1, 3)), np.ones(1), 3.0, BAND)
    assert empty.shape == (0,)
    with pytest.raises(ValueError, match="heights"):
        overhang_mask(BOXES, np.zeros((2, 3)), np.ones(3), 3.0, BAND)
    with pytest.raises(ValueError, match="band_m"):
        OverhangConfig(band_m=-0.1)


def test_classify_veto_makes_unknown() -> None:
    car = np.array([[10.0, 0.0, -1.0, 4.1, 1.7, 1.5, 0.0]] * 2)
    result = classify(car, np.array([80, 80]), CLASSIFY, vetoed=np.array([True, False]))
    assert result.label.tolist() == [ObjectClass.UNKNOWN, ObjectClass.CAR]
    assert np.all(result.likelihood[0] == 0.0) and result.likelihood[1, 0] > 0
    with pytest.raises(ValueError, match="veto flags"):
        classify(car, np.array([80, 80]), CLASSIFY, vetoed=np.array([True]))


def test_configs_switch_it_on_only_for_aimotive_and_the_simulator() -> None:
    # the simulator's buildings are 6-15 m tall: their walls were boxed as Trucks without it
    for name in ("lidar_aimotive.yaml", "lidar_sim.yaml"):
        assert load_lidar_detector_config(PERCEPTION_CONFIGS / name).classify.overhang.enabled
    for name in ("lidar_kitti.yaml", "lidar_av2.yaml"):
        assert not load_lidar_detector_config(PERCEPTION_CONFIGS / name).classify.overhang.enabled


def test_detector_drops_the_car_under_a_low_canopy() -> None:
    rng = np.random.default_rng(0)
    cars = [car_on_plane(12.0, 4.0, 0.15), car_on_plane(20.0, -6.0, -0.4)]
    # foliage 3.1-3.4 m above the road over the first car (KITTI's band ends at 3.0 m)
    canopy = np.column_stack(
        [
            rng.uniform(10.5, 13.5, 400),
            rng.uniform(3.3, 4.7, 400),
            rng.uniform(3.1, 3.4, 400) - SENSOR_HEIGHT_M,
        ]
    )
    xyz = np.concatenate(
        [ground_plane(rng, num=60_000), *(box_surface(rng, c) for c in cars), canopy]
    ).astype(np.float32)
    frame = SensorFrame(0, lidars={"top": PointCloud(xyz, "lidar", 0)}, source="synthetic")
    cfg = load_lidar_detector_config(PERCEPTION_CONFIGS / "lidar_kitti.yaml")

    def car_centres(overhang: OverhangConfig) -> np.ndarray:
        classify_cfg = dataclasses.replace(cfg.classify, overhang=overhang)
        boxes = build_lidar_detector(dataclasses.replace(cfg, classify=classify_cfg)).step(frame)
        return boxes.center_m[boxes.label == int(ObjectClass.CAR), :2]

    assert len(car_centres(OverhangConfig())) == 2
    kept = car_centres(BAND)
    assert len(kept) == 1 and np.hypot(*(kept[0] - cars[1][:2])) < 1.0
