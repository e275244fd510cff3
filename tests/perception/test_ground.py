"""Ground segmentation on hand-made scenes: tilted planes, a hill, a kerb, objects on them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack import kernels
from drivestack.perception.lidar import load_lidar_detector_config
from drivestack.perception.lidar.ground import (
    _bin_index,
    _layout,
    ground_z_at,
    segment_ground,
    segment_ground_ransac,
    segment_ground_zones,
)

from .synthetic import KITTI_LIDAR_CONFIG, SENSOR_HEIGHT_M, box_surface, car_on_plane, ground_plane

CFG = load_lidar_detector_config(KITTI_LIDAR_CONFIG).ground


def _scene(
    rng: np.random.Generator, ground: np.ndarray, cars: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points, truth (True = ground) and the (M, 7) car boxes.

    Car bodies start 0.25 m above the road (wheel clearance), so every object point is
    separable from the ground by height.
    """
    parts = []
    for car in cars:
        pts = box_surface(rng, car)
        parts.append(pts[pts[:, 2] > car[2] - 0.5 * car[5] + 0.25])
    xyz = np.concatenate([ground, *parts])
    truth = np.zeros(len(xyz), dtype=bool)
    truth[: len(ground)] = True
    return xyz, truth, np.array(cars)


def _recall_precision(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    tp = np.count_nonzero(pred & truth)
    return tp / max(np.count_nonzero(truth), 1), tp / max(np.count_nonzero(pred), 1)


def test_tilted_plane_with_cars() -> None:
    rng = np.random.default_rng(0)
    slope_x, slope_y = 0.04, -0.03  # a 4 % / 3 % tilted road
    ground = ground_plane(rng, slope_x=slope_x, slope_y=slope_y)
    cars = [
        car_on_plane(x, y, yaw, slope_x=slope_x, slope_y=slope_y)
        for x, y, yaw in ((10, 3, 0.2), (-15, -6, 1.2), (22, -8, -0.5), (6, -12, 2.0))
    ]
    xyz, truth, boxes = _scene(rng, ground, cars)
    result = segment_ground_zones(xyz, CFG)
    recall, precision = _recall_precision(result.is_ground, truth)
    assert recall >= 0.98
    assert precision >= 0.99
    # points of the cars more than 0.3 m above their bottom are never ground
    inside = np.asarray(kernels.points_in_boxes(xyz, boxes)).any(axis=1)
    high = inside & (result.height_m > 0.3)
    assert high.sum() > 1000 and not result.is_ground[high].any()
    # the local planes follow the tilt: ground height under the cars is right within 5 cm
    expected = -SENSOR_HEIGHT_M + slope_x * boxes[:, 0] + slope_y * boxes[:, 1]
    np.testing.assert_allclose(ground_z_at(boxes[:, :2], result.planes, CFG), expected, atol=0.05)


def _hill(rng: np.random.Generator) -> np.ndarray:
    """Flat road up to x = 12 m, then an 12 % climb (a plane that one fit cannot follow)."""
    pts = ground_plane(rng, num=60_000)
    x = pts[:, 0]
    pts[:, 2] += np.where(x > 12.0, 0.12 * (x - 12.0), 0.0)
    return pts


def test_hill_zones_beat_single_ransac_plane() -> None:
    rng = np.random.default_rng(1)
    ground = _hill(rng)
    cars = [car_on_plane(8.0, -4.0, 0.1), car_on_plane(-12.0, 5.0, 0.0)]
    climb_car = car_on_plane(25.0, 3.0, 0.0)
    climb_car[2] += 0.12 * (25.0 - 12.0)
    xyz, truth, _ = _scene(rng, ground, [*cars, climb_car])
    zones = segment_ground_zones(xyz, CFG)
    ransac = segment_ground_ransac(xyz, dataclasses.replace(CFG, method="ransac"))
    z_recall, z_precision = _recall_precision(zones.is_ground, truth)
    r_recall, _ = _recall_precision(ransac.is_ground, truth)
    assert z_recall >= 0.97 and z_precision >= 0.99
    # the single plane misses most of the climbing road
    assert r_recall < 0.85
    assert z_recall > r_recall + 0.1


def test_kerb_and_sidewalk_are_ground_but_the_wall_is_not() -> None:
    rng = np.random.default_rng(2)
    road = ground_plane(rng, num=50_000)
    y = road[:, 1]
    road[:, 2] += np.where(y > 5.0, 0.15, 0.0)  # a 15 cm kerb at y = 5 m, sidewalk beyond
    wall_n = 6000
    wall = np.stack(
        [
            rng.uniform(-20, 20, wall_n),
            np.full(wall_n, 9.0),
            rng.uniform(-SENSOR_HEIGHT_M + 0.3, 1.0, wall_n),
        ],
        axis=1,
    )
    xyz = np.concatenate([road, wall])
    truth = np.r_[np.ones(len(road), bool), np.zeros(wall_n, bool)]
    result = segment_ground(xyz, CFG)
    recall, precision = _recall_precision(result.is_ground, truth)
    assert recall >= 0.97 and precision >= 0.99


def test_empty_and_tiny_inputs() -> None:
    for method in ("zones", "ransac"):
        cfg = dataclasses.replace(CFG, method=method)
        empty = segment_ground(np.zeros((0, 3)), cfg)
        assert empty.is_ground.shape == (0,) and empty.height_m.shape == (0,)
        two = segment_ground(np.array([[5.0, 0.0, -SENSOR_HEIGHT_M], [5.0, 0.0, 0.0]]), cfg)
        assert two.is_ground.tolist() == [True, False]


def test_ransac_is_seeded() -> None:
    rng = np.random.default_rng(3)
    xyz = ground_plane(rng, num=5000)
    cfg = dataclasses.replace(CFG, method="ransac")
    a, b = segment_ground(xyz, cfg), segment_ground(xyz, cfg)
    np.testing.assert_array_equal(a.height_m, b.height_m)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_input_dtypes(dtype: type) -> None:
    rng = np.random.default_rng(4)
    xyz = ground_plane(rng, num=6000).astype(dtype)
    assert segment_ground_zones(xyz, CFG).is_ground.mean() > 0.97


def test_ground_z_at_accepted_only_skips_carried_planes() -> None:
    rng = np.random.default_rng(5)
    planes = segment_ground_zones(ground_plane(rng, num=20_000), CFG).planes
    xy = np.array([[15.0, 0.5]])
    b = int(_bin_index(np.array([[15.0, 0.5, 0.0]]), _layout(CFG))[0])
    assert planes.accepted[b]
    # the bin's own accepted plane is used either way
    np.testing.assert_allclose(
        ground_z_at(xy, planes, CFG, accepted_only=True), ground_z_at(xy, planes, CFG)
    )
    # pretend that bin's plane had been carried out from the ring inside (not accepted), tilted
    # 10 % and 1 m below the road under xy: normal (0.1, 0, 1) / |.|, through (15, 0.5, -2.73)
    norm = np.hypot(0.1, 1.0)
    normal, offset = planes.normal.copy(), planes.offset_m.copy()
    accepted = planes.accepted.copy()
    normal[b] = np.array([0.1, 0.0, 1.0]) / norm
    offset[b] = -(0.1 * 15.0 - SENSOR_HEIGHT_M - 1.0) / norm
    accepted[b] = False
    carried = dataclasses.replace(planes, normal=normal, offset_m=offset, accepted=accepted)
    assert ground_z_at(xy, carried, CFG)[0] == pytest.approx(-SENSOR_HEIGHT_M - 1.0)
    # accepted_only: the fallback plane through all the accepted (flat road) points instead
    assert ground_z_at(xy, carried, CFG, accepted_only=True)[0] == pytest.approx(
        -SENSOR_HEIGHT_M, abs=0.03
    )


def _two_scan_lines() -> tuple[np.ndarray, int]:
    """Road points in one outer bin along two scan lines 5 cm apart in x (x = 50 and 50.05 m,
    y = 0.5 .. 8 m), the second 1.5 cm higher: the PCA plane through them tilts 16.7 degrees
    (slope 0.3 in x, normal_z = 1 / sqrt(1.09) = 0.958) yet is flat and near the road."""
    y = np.linspace(0.5, 8.0, 150)
    road = -SENSOR_HEIGHT_M
    xyz = np.concatenate(
        [
            np.stack([np.full_like(y, 50.0), y, np.full_like(y, road)], axis=1),
            np.stack([np.full_like(y, 50.05), y, np.full_like(y, road + 0.015)], axis=1),
        ]
    )
    b = int(_bin_index(np.array([[50.0, 4.0, road]]), _layout(CFG))[0])
    return xyz, b


def test_min_spread_refuses_planes_fitted_on_one_scan_line() -> None:
    xyz, b = _two_scan_lines()
    # off (0): the bin's own tilted plane is taken, 3 m to the side the road sits 0.9 m off it
    loose = segment_ground_zones(xyz, dataclasses.replace(CFG, min_spread_m=0.0)).planes
    assert loose.accepted[b]
    assert loose.normal[b, 2] == pytest.approx(1.0 / np.sqrt(1.09), abs=1e-3)
    assert ground_z_at(np.array([[53.0, 4.0]]), loose, CFG)[0] == pytest.approx(
        -SENSOR_HEIGHT_M + 0.9, abs=0.01
    )
    # the lines spread 2.5 cm (standard deviation) across: under 0.5 m the bin is refused and
    # keeps the plane carried out from the ring inside (here the nominal road plane)
    strict = segment_ground_zones(xyz, dataclasses.replace(CFG, min_spread_m=0.5)).planes
    assert not strict.accepted[b]
    assert ground_z_at(np.array([[53.0, 4.0]]), strict, CFG)[0] == pytest.approx(
        -SENSOR_HEIGHT_M, abs=1e-9
    )
