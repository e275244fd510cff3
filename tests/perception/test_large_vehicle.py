"""Pieces of one truck or bus joined along its lane (hand-computed cases)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from drivestack.core.transforms import SE3
from drivestack.perception.lidar import build_lidar_detector, load_lidar_detector_config
from drivestack.perception.lidar.cluster import Clusters
from drivestack.perception.lidar.config import LargeVehicleJoinConfig
from drivestack.perception.lidar.large_vehicle import (
    footprint_fits,
    hull_xy,
    join_large_vehicles,
    join_pieces,
    on_road,
    renumbered,
)
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

from .synthetic import KITTI_LIDAR_CONFIG

ON = LargeVehicleJoinConfig(enabled=True, min_height_m=2.3, max_length_m=12.0, max_width_m=2.6)
TOL = np.deg2rad(10.0)
STEP = np.deg2rad(0.5)


def _rectangle(x0: float, x1: float, y0: float, y1: float, yaw_deg: float = 0.0) -> np.ndarray:
    """``(4, 2)`` corners of ``[x0, x1] x [y0, y1]`` turned by ``yaw_deg`` about the origin."""
    xy = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    c, s = np.cos(np.deg2rad(yaw_deg)), np.sin(np.deg2rad(yaw_deg))
    return xy @ np.array([[c, s], [-s, c]])


def test_footprint_fits_a_rectangle_along_the_lane_within_the_tolerance() -> None:
    truck = _rectangle(0.0, 10.0, 0.0, 2.4)
    assert footprint_fits(truck, 0.0, TOL, STEP, ON)
    # a lane 5 degrees off: the 0.5 degree steps reach the truck's own heading
    assert footprint_fits(truck, np.deg2rad(5.0), TOL, STEP, ON)
    # the same truck 20 degrees off its lane: at best 10 degrees off, 10 sin 10 + 2.4 cos 10
    # = 4.10 m across
    assert not footprint_fits(_rectangle(0.0, 10.0, 0.0, 2.4, 20.0), 0.0, TOL, STEP, ON)
    # 12.5 m long or 2.8 m wide: over the cap
    assert not footprint_fits(_rectangle(0.0, 12.5, 0.0, 2.4), 0.0, TOL, STEP, ON)
    assert not footprint_fits(_rectangle(0.0, 10.0, 0.0, 2.8), 0.0, TOL, STEP, ON)
    # a lane heading taken backwards is the same axis
    assert footprint_fits(truck, np.pi, TOL, STEP, ON)
    assert footprint_fits(np.zeros((0, 2)), 0.0, TOL, STEP, ON)


def test_hull_of_a_square_with_inner_and_edge_points_is_its_corners() -> None:
    square = _rectangle(0.0, 2.0, 0.0, 2.0)
    inner = np.array([[1.0, 1.0], [0.5, 1.5], [1.0, 0.0], [2.0, 1.0], [0.0, 0.0]])
    hull = hull_xy(np.concatenate([inner, square]))
    # counter-clockwise from the lowest-x, lowest-y corner; edge midpoints and repeats left out
    np.testing.assert_array_equal(hull, [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]])
    np.testing.assert_array_equal(
        hull_xy(np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 3.0]])), [[0.0, 0.0], [3.0, 3.0]]
    )
    np.testing.assert_array_equal(hull_xy(np.array([[1.0, 2.0]])), [[1.0, 2.0]])


@settings(max_examples=200, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 40), st.just(2)),
        elements=st.floats(-50.0, 50.0, allow_nan=False, width=32),
    ),
    st.floats(0.0, np.pi),
)
def test_hull_keeps_every_extent(xy: np.ndarray, yaw: float) -> None:
    """What the footprint test needs: the hull's extent along any direction is the points'."""
    hull = hull_xy(xy)
    direction = np.array([np.cos(yaw), np.sin(yaw)])
    assert len(hull) <= len(xy)
    assert (hull @ direction).max() == pytest.approx((xy @ direction).max(), abs=1e-9)
    assert (hull @ direction).min() == pytest.approx((xy @ direction).min(), abs=1e-9)


def test_on_road_asks_the_map_only_about_the_given_clusters() -> None:
    rng = np.random.default_rng(0)
    xyz = rng.uniform([-20.0, -20.0, 0.0], [20.0, 20.0, 4.0], size=(2000, 3))
    label = rng.integers(-1, 5, size=2000)
    asked = []

    def on_drivable_of(points: np.ndarray) -> np.ndarray:
        asked.append(len(points))
        return np.abs(points[:, 1]) <= 3.5  # a 7 m wide road along x

    road = on_road(label, np.array([1, 3, -1]), xyz, on_drivable_of)
    exact = np.isin(label, [1, 3]) & (np.abs(xyz[:, 1]) <= 3.5)
    np.testing.assert_array_equal(road, exact)
    assert asked == [np.count_nonzero(np.isin(label, [1, 3]))]
    assert not on_road(label, np.array([-1]), xyz, on_drivable_of).any()


def test_on_road_takes_a_cluster_id_with_no_voxel_in_the_labels() -> None:
    """join_large_vehicles asks about the low voxels of tall clusters: the largest tall id may
    have only high voxels, so it reaches past every id in the labels it passes."""
    xyz = np.array([[0.0, 0.0, 0.5], [1.0, 5.0, 0.5], [2.0, 0.0, 0.5]])
    label = np.array([0, 1, -1])  # cluster 4 has no voxel here

    def on_drivable_of(points: np.ndarray) -> np.ndarray:
        return np.abs(points[:, 1]) <= 3.5

    road = on_road(label, np.array([0, 1, 4]), xyz, on_drivable_of)
    np.testing.assert_array_equal(road, [True, False, False])
    assert not on_road(np.full(3, -1), np.array([7]), xyz, on_drivable_of).any()


def test_pieces_along_one_lane_join_nearest_first_within_the_footprint() -> None:
    pieces = [
        _rectangle(0.0, 2.0, 0.0, 2.4),  # 0: a rear face and the start of a flank
        _rectangle(6.0, 9.0, 2.2, 2.4),  # 1: a flank piece 4 m on: 0 + 1 span 9 x 2.4
        _rectangle(20.0, 21.0, 0.0, 2.4),  # 2: 11 m beyond 1: 0 + 1 + 2 span 21 m
        _rectangle(3.0, 4.0, 0.0, 1.0),  # 3: between 0 and 1, but its lane runs across
        _rectangle(10.0, 11.0, 0.0, 2.4),  # 4: nearest 1 (joined first); 0 + 1 + 4 span 11 m
    ]
    yaw = np.deg2rad([0.0, 2.0, 0.0, 90.0, 180.0])
    group = join_pieces(pieces, yaw, TOL, STEP, ON)
    np.testing.assert_array_equal(group, [0, 0, 2, 3, 0])
    # nothing to join with
    np.testing.assert_array_equal(join_pieces(pieces[:1], yaw[:1], TOL, STEP, ON), [0])


def test_renumbered_orders_clusters_by_their_first_voxel() -> None:
    out = renumbered(np.zeros((6, 3)), np.array([7, -1, 3, 7, 9, 3]))
    np.testing.assert_array_equal(out.label, [0, -1, 1, 0, 2, 1])
    assert out.num_clusters == 3


def _voxels(x0: float, x1: float, y: float, z: float, step: float = 0.5) -> np.ndarray:
    xs = np.arange(x0, x1 + 1e-9, step)
    return np.stack([xs, np.full(len(xs), y), np.full(len(xs), z)], axis=1)


def test_join_takes_the_road_parts_of_tall_clusters_and_leaves_the_rest() -> None:
    flank = _voxels(20.0, 24.0, 1.2, 2.8)  # cluster 0: a truck's flank, 2.8 m up
    face = _voxels(26.0, 26.0, 0.0, 3.0)  # cluster 1's road part: the truck's front face
    hedge = _voxels(26.0, 28.0, 5.0, 3.0)  # cluster 1's verge part (off the road)
    car = _voxels(10.0, 14.0, 0.0, 1.5)  # cluster 2: a car, too low
    wall = _voxels(30.0, 32.0, 0.0, 3.5)  # cluster 3: tall, on the road, no lane heading
    vox = np.concatenate([flank, face, hedge, car, wall])
    label = np.repeat([0, 1, 1, 2, 3], [len(flank), len(face), len(hedge), len(car), len(wall)])
    clusters = Clusters(vox, label, 4)

    asked = []

    def on_drivable_of(xyz: np.ndarray) -> np.ndarray:
        asked.append(xyz)
        return np.abs(xyz[:, 1]) <= 3.0  # the road: |y| <= 3 m

    def lane_yaw_of(centre: np.ndarray) -> np.ndarray:
        return np.where(centre[:, 0] < 29.0, 0.0, np.nan)

    out = join_large_vehicles(clusters, vox[:, 2], on_drivable_of, lane_yaw_of, TOL, STEP, ON)
    # ids by first voxel: the joined truck (flank first), the hedge, the car, the wall
    expected = np.repeat([0, 0, 1, 2, 3], [len(flank), len(face), len(hedge), len(car), len(wall)])
    np.testing.assert_array_equal(out.label, expected)
    assert out.num_clusters == 4
    # the car (1.5 m up, x 10-14 m) is never placed on the map
    assert not any(np.any((q[:, 0] > 8.0) & (q[:, 0] < 16.0)) for q in asked)
    # a cap shorter than the 6 m from flank to face: nothing joined, the clusters as they were
    short = dataclasses.replace(ON, max_length_m=5.0)
    same = join_large_vehicles(clusters, vox[:, 2], on_drivable_of, lane_yaw_of, TOL, STEP, short)
    assert same is clusters


def test_join_with_tall_clusters_whose_ids_pass_every_low_voxels_id() -> None:
    """Clusters 1 and 2 are all high: the low voxels' labels reach only id 0, and asking
    about the low voxels of the tall clusters raised IndexError."""
    car = _voxels(10.0, 14.0, 0.0, 1.5)  # cluster 0: a car, too low
    rear = _voxels(20.0, 22.0, 0.0, 3.0)  # cluster 1: a truck's rear, every voxel 3 m up
    front = _voxels(26.0, 28.0, 0.0, 3.0)  # cluster 2: its front, every voxel 3 m up
    vox = np.concatenate([car, rear, front])
    label = np.repeat([0, 1, 2], [len(car), len(rear), len(front)])

    def on_drivable_of(xyz: np.ndarray) -> np.ndarray:
        return np.abs(xyz[:, 1]) <= 3.0

    def lane_yaw_of(centre: np.ndarray) -> np.ndarray:
        return np.zeros(len(centre))

    out = join_large_vehicles(
        Clusters(vox, label, 3), vox[:, 2], on_drivable_of, lane_yaw_of, TOL, STEP, ON
    )
    np.testing.assert_array_equal(out.label, np.repeat([0, 1], [len(car), len(rear) + len(front)]))
    assert out.num_clusters == 2


def test_config_checks_its_ranges_and_is_off_by_default() -> None:
    assert not LargeVehicleJoinConfig().enabled
    with pytest.raises(ValueError, match="max_width_m"):
        LargeVehicleJoinConfig(enabled=True, max_width_m=0.0)


def test_detector_needs_the_map_when_on() -> None:
    cfg = load_lidar_detector_config(KITTI_LIDAR_CONFIG)
    cfg = dataclasses.replace(cfg, large_vehicle_join=ON)
    xyz = np.concatenate([_voxels(10.0, 14.0, 0.0, 1.0, 0.1), _voxels(20.0, 24.0, 0.0, 1.0, 0.1)])
    cloud = PointCloud(xyz.astype(np.float32), frame="velodyne", timestamp_ns=0)
    frame = SensorFrame(timestamp_ns=0, lidars={"velodyne": cloud}, world_from_ego=SE3.identity())
    with pytest.raises(ValueError, match="large_vehicle_join"):
        build_lidar_detector(cfg).detect(frame)
