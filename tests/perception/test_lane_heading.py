"""Partly seen cars headed along the map's lanes: the rectangle kept or refitted at the lane's
heading, then completed along the lane; everything else untouched."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.lidar import build_lidar_detector, load_lidar_detector_config
from drivestack.perception.lidar.box_fit import boxes_at_yaw, fit_boxes
from drivestack.perception.lidar.config import LaneHeadingConfig
from drivestack.perception.lidar.lane_heading import (
    align_to_lanes,
    axis_offset_rad,
    judge_along_lanes,
)
from drivestack.perception.lidar.map_priors import MapPriors, lane_yaw_rad
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

from .synthetic import KITTI_LIDAR_CONFIG, SENSOR_HEIGHT_M, ground_plane

BOX_FIT = load_lidar_detector_config(KITTI_LIDAR_CONFIG).box_fit
PAD = BOX_FIT.voxel_pad_m
ON = LaneHeadingConfig(enabled=True)


@dataclasses.dataclass
class _Lanes:
    """Lanes heading ``heading_rad`` (world) wherever ``y_min <= y <= y_max``; records the
    reach and spread it was asked with."""

    heading: float
    y_min: float = -np.inf
    y_max: float = np.inf
    asked: tuple[float, float] | None = None

    def heading_rad(
        self, xy_world_m: np.ndarray, max_distance_m: float, max_spread_rad: float
    ) -> np.ndarray:
        self.asked = (max_distance_m, max_spread_rad)
        y = xy_world_m[:, 1]
        return np.where((y >= self.y_min) & (y <= self.y_max), self.heading, np.nan)


def _rectangle(x: float, y: float, length: float, width: float, yaw: float) -> np.ndarray:
    """``(4, 3)`` the corners of a rectangle at z 0 and ``(4, 3)`` at z 1.5 (8 points)."""
    local = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]]) * 0.5 * np.array([length, width])
    c, s = np.cos(yaw), np.sin(yaw)
    xy = local @ np.array([[c, s], [-s, c]]) + np.array([x, y])
    return np.concatenate([np.c_[xy, np.zeros(4)], np.c_[xy, np.full(4, 1.5)]], axis=0)


def _clusters(*pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate(pieces), np.cumsum([0, *(len(p) for p in pieces)])


def test_boxes_at_yaw_hand_computed() -> None:
    """A 2 x 1 m rectangle's corners: at yaw 0 and 90 deg the same box; at 45 deg a square of
    side 3 / sqrt(2) (each diagonal pair projects onto 1.5 / sqrt(2) either side)."""
    xyz, bounds = _clusters(_rectangle(10.0, 5.0, 2.0, 1.0, 0.0))
    expected = [10.0, 5.0, 0.75, 2.0 + 2 * PAD, 1.0 + 2 * PAD, 1.5, 0.0]
    for yaw in (0.0, np.pi / 2):
        np.testing.assert_allclose(
            boxes_at_yaw(xyz, bounds, np.array([yaw]), None, BOX_FIT)[0], expected, atol=1e-12
        )
    side = 3.0 / np.sqrt(2.0) + 2 * PAD
    np.testing.assert_allclose(
        boxes_at_yaw(xyz, bounds, np.array([np.pi / 4]), np.array([-1.0]), BOX_FIT)[0],
        [10.0, 5.0, 0.25, side, side, 2.5, np.pi / 4],
        atol=1e-12,
    )
    # fit_boxes is the yaw search followed by boxes_at_yaw
    fitted = fit_boxes(xyz, bounds, None, BOX_FIT)
    np.testing.assert_allclose(
        boxes_at_yaw(xyz, bounds, fitted[:, 6], None, BOX_FIT), fitted, atol=1e-12
    )


def test_axis_offset() -> None:
    np.testing.assert_allclose(
        axis_offset_rad(np.array([0.1, 3.0, np.pi / 2 + 0.2]), np.zeros(3), np.pi / 2),
        [0.1, np.pi - 3.0, 0.2],
    )
    np.testing.assert_allclose(
        axis_offset_rad(np.array([np.pi - 0.3]), np.zeros(1), np.pi), np.array([0.3])
    )


def test_lane_heading_turned_into_the_sensor_frame() -> None:
    """The sensor turned 90 deg left in the world: a lane heading world 180 deg runs along the
    sensor's +y."""
    pose = SE3.from_xyz_yaw([100.0, 50.0, 0.0], np.pi / 2)
    lanes = _Lanes(np.pi, y_min=55.0)
    yaw = lane_yaw_rad(np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0]]), lanes, pose, ON)
    # (10, 0) in the sensor frame is world (100, 60): on the lane; (0, 10) is world (90, 50)
    np.testing.assert_allclose(yaw, [np.pi / 2, np.nan])
    assert lanes.asked == (1.0, pytest.approx(np.deg2rad(10.0)))


def test_align_keeps_agreeing_rectangles_and_refits_the_others() -> None:
    """Lanes along +y (world = sensor). Car pieces: a 1.6 m square 5 deg off the lane's axes
    (kept), a 1.6 x 1.0 m piece 30 deg off (refitted at the lane's heading); a whole car, a
    non-car piece and a piece off the lanes are left alone."""
    pieces = [
        _rectangle(20.0, 0.0, 1.6, 1.6, np.deg2rad(5.0)),
        _rectangle(20.0, 10.0, 1.6, 1.0, np.deg2rad(30.0)),
        _rectangle(30.0, 0.0, 4.4, 1.8, 0.0),
        _rectangle(10.0, 0.0, 1.6, 1.0, np.deg2rad(30.0)),
        _rectangle(20.0, 40.0, 1.6, 1.0, np.deg2rad(30.0)),
    ]
    xyz, bounds = _clusters(*pieces)
    raw = fit_boxes(xyz, bounds, None, BOX_FIT)
    is_car = np.array([True, True, True, False, True])
    priors = MapPriors(SE3.identity(), lane_headings=_Lanes(np.pi / 2, y_max=20.0))
    out, heading = align_to_lanes(xyz, bounds, None, raw, is_car, priors, ON, BOX_FIT)
    np.testing.assert_allclose(heading, [np.pi / 2, np.pi / 2, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(out[[0, 2, 3, 4]], raw[[0, 2, 3, 4]])
    # corners at (+-0.8, +-0.5) turned 30 deg span 1.6 cos 30 + 1.0 sin 30 in x and
    # 1.6 sin 30 + 1.0 cos 30 in y; the longer (x) side becomes the length, yaw 0
    span_x = 1.6 * np.cos(np.pi / 6) + 0.5
    span_y = 0.8 + np.cos(np.pi / 6)
    np.testing.assert_allclose(
        out[1], [20.0, 10.0, 0.75, span_x + 2 * PAD, span_y + 2 * PAD, 1.5, 0.0], atol=1e-9
    )
    # off: unchanged, no heading
    off, none = align_to_lanes(xyz, bounds, None, raw, is_car, priors, LaneHeadingConfig(), BOX_FIT)
    np.testing.assert_array_equal(off, raw)
    assert np.all(np.isnan(none))


def _demote(
    boxes: np.ndarray,
    label: np.ndarray,
    score: np.ndarray,
    priors: MapPriors,
    cfg: LaneHeadingConfig,
) -> np.ndarray:
    """The scores of :func:`judge_along_lanes` with the demotion alone."""
    return judge_along_lanes(boxes, label, score, priors, cfg, BOX_FIT)[1]


def _orient(
    boxes: np.ndarray, label: np.ndarray, priors: MapPriors, cfg: LaneHeadingConfig
) -> np.ndarray:
    """The boxes of :func:`judge_along_lanes` with the turn alone."""
    return judge_along_lanes(boxes, label, np.ones(len(boxes)), priors, cfg, BOX_FIT)[0]


def test_demote_misaligned_hand_computed() -> None:
    """Lanes along x where y <= 20. Vehicle boxes: a car 5 deg off (kept), a car 15 deg off
    (demoted), a truck turned 90 deg (demoted), a short piece turned 85 deg (its axes 5 deg
    off: kept), a short piece 30 deg off (demoted), a car across but beyond the lanes (kept);
    a pedestrian across the lanes is not judged."""
    deg = np.deg2rad
    boxes = np.array(
        [
            [20.0, 0.0, 0.0, 4.2, 1.8, 1.5, deg(5.0)],
            [20.0, 5.0, 0.0, 4.2, 1.8, 1.5, deg(-15.0)],
            [30.0, 0.0, 0.0, 8.0, 2.5, 3.2, deg(90.0)],
            [10.0, 0.0, 0.0, 1.8, 1.6, 1.5, deg(85.0)],
            [10.0, 5.0, 0.0, 1.8, 1.6, 1.5, deg(30.0)],
            [20.0, 30.0, 0.0, 4.2, 1.8, 1.5, deg(90.0)],
            [10.0, 10.0, 0.0, 0.8, 0.6, 1.7, deg(90.0)],
        ]
    )
    car, truck, ped = int(ObjectClass.CAR), int(ObjectClass.TRUCK), int(ObjectClass.PEDESTRIAN)
    label = np.array([car, car, truck, car, truck, car, ped])
    score = np.full(7, 0.8)
    priors = MapPriors(SE3.identity(), lane_headings=_Lanes(np.pi, y_max=20.0))
    cfg = dataclasses.replace(ON, misaligned_score_factor=0.25)
    out = _demote(boxes, label, score, priors, cfg)
    np.testing.assert_allclose(out, [0.8, 0.2, 0.2, 0.8, 0.2, 0.8, 0.8])
    assert np.all(score == 0.8)
    # factor 1 (the default) or off: nothing changes, no lanes needed
    for quiet in (ON, LaneHeadingConfig(misaligned_score_factor=0.0)):
        np.testing.assert_array_equal(_demote(boxes, label, score, MapPriors(), quiet), score)
    with pytest.raises(ValueError, match="lane_headings"):
        _demote(boxes, label, score, MapPriors(SE3.identity()), cfg)


def test_orient_along_lanes_hand_computed() -> None:
    """Lanes heading -x (180 deg) where y <= 20: vehicles along them face -x; a box across, a
    box beyond the lanes and a pedestrian keep their yaw."""
    deg = np.deg2rad
    boxes = np.array(
        [
            [20.0, 0.0, 0.0, 4.2, 1.8, 1.5, deg(5.0)],  # along, facing +x: turned to -175 deg
            [20.0, 5.0, 0.0, 8.0, 2.5, 3.2, deg(-172.0)],  # along, facing -x already: kept
            [20.0, 8.0, 0.0, 4.2, 1.8, 1.5, deg(30.0)],  # across: kept
            [20.0, 30.0, 0.0, 4.2, 1.8, 1.5, deg(0.0)],  # beyond the lanes: kept
            [10.0, 0.0, 0.0, 0.8, 0.6, 1.7, deg(0.0)],  # pedestrian: kept
        ]
    )
    car, truck, ped = int(ObjectClass.CAR), int(ObjectClass.TRUCK), int(ObjectClass.PEDESTRIAN)
    label = np.array([car, truck, car, car, ped])
    priors = MapPriors(SE3.identity(), lane_headings=_Lanes(np.pi, y_max=20.0))
    cfg = dataclasses.replace(ON, orient_along_lanes=True)
    out = _orient(boxes, label, priors, cfg)
    np.testing.assert_allclose(out[:, 6], deg([-175.0, -172.0, 30.0, 0.0, 0.0]), atol=1e-12)
    np.testing.assert_array_equal(out[:, :6], boxes[:, :6])
    np.testing.assert_array_equal(_orient(boxes, label, MapPriors(), ON), boxes)


def test_judge_along_lanes_demotes_and_turns_with_one_lookup() -> None:
    deg = np.deg2rad
    boxes = np.array(
        [
            [20.0, 0.0, 0.0, 4.2, 1.8, 1.5, deg(5.0)],  # along, facing +x: turned
            [20.0, 5.0, 0.0, 4.2, 1.8, 1.5, deg(-15.0)],  # across: demoted, kept as it was
            [20.0, 30.0, 0.0, 4.2, 1.8, 1.5, deg(90.0)],  # beyond the lanes
        ]
    )
    label = np.full(3, int(ObjectClass.CAR))
    score = np.full(3, 0.8)
    calls = []

    class Counting(_Lanes):
        def heading_rad(self, xy: np.ndarray, reach: float, spread: float) -> np.ndarray:
            calls.append(len(xy))
            return super().heading_rad(xy, reach, spread)

    priors = MapPriors(SE3.identity(), lane_headings=Counting(np.pi, y_max=20.0))
    cfg = dataclasses.replace(ON, misaligned_score_factor=0.25, orient_along_lanes=True)
    out_boxes, out_score = judge_along_lanes(boxes, label, score, priors, cfg, BOX_FIT)
    assert calls == [3]
    np.testing.assert_allclose(out_score, [0.8, 0.2, 0.8])
    assert out_boxes[0, 6] == pytest.approx(deg(-175.0))
    # off: copies, no lanes needed
    quiet_boxes, quiet_score = judge_along_lanes(boxes, label, score, MapPriors(), ON, BOX_FIT)
    np.testing.assert_array_equal(quiet_boxes, boxes)
    np.testing.assert_array_equal(quiet_score, score)


def test_align_needs_lanes_and_pose_when_on() -> None:
    xyz, bounds = _clusters(_rectangle(20.0, 0.0, 1.6, 1.6, 0.0))
    raw = fit_boxes(xyz, bounds, None, BOX_FIT)
    with pytest.raises(ValueError, match="lane_headings"):
        align_to_lanes(xyz, bounds, None, raw, np.array([True]), MapPriors(), ON, BOX_FIT)


def test_config_checks_its_ranges() -> None:
    with pytest.raises(ValueError, match="max_yaw_offset_deg"):
        LaneHeadingConfig(enabled=True, max_yaw_offset_deg=60.0)
    with pytest.raises(ValueError, match="max_lane_distance_m"):
        LaneHeadingConfig(enabled=True, max_lane_distance_m=-1.0)
    with pytest.raises(ValueError, match="misaligned_score_factor"):
        LaneHeadingConfig(enabled=True, misaligned_score_factor=1.5)


def _corner(rng: np.random.Generator) -> np.ndarray:
    """Returns of a car's corner 20 m ahead, 3 m left: 1.7 m of its right flank (along y, at
    x 20) and 0.7 m of its rear (along x, at y 2.15), 0.3-1.5 m above the ground."""
    flank = np.c_[np.full(200, 20.0), rng.uniform(2.15, 3.85, 200)]
    rear = np.c_[rng.uniform(20.0, 20.7, 100), np.full(100, 2.15)]
    xy = np.concatenate([flank, rear])
    z = -SENSOR_HEIGHT_M + rng.uniform(0.3, 1.5, len(xy))
    return np.c_[xy, z]


def test_detector_completes_a_corner_along_the_lane() -> None:
    """Without lanes the short flank is taken for an end face and the car grows away along the
    line of sight (+x); with a lane along +y it keeps its axis and grows along +y."""
    rng = np.random.default_rng(0)
    xyz = np.concatenate([ground_plane(rng, radius_m=30.0), _corner(rng)]).astype(np.float32)
    frame = SensorFrame(
        0,
        lidars={"top": PointCloud(xyz, "lidar", 0)},
        ego_from_sensor={"top": SE3.identity()},
        world_from_ego=SE3.identity(),
        lane_headings=_Lanes(-np.pi / 2),
    )
    cfg = load_lidar_detector_config(KITTI_LIDAR_CONFIG)
    plain = build_lidar_detector(cfg).step(frame)
    assert len(plain) == 1
    np.testing.assert_allclose(np.cos(plain.yaw_rad[0]) ** 2, 1.0, atol=0.01)  # along x
    assert plain.center_m[0, 0] > 21.5
    classify = dataclasses.replace(cfg.classify, lane_heading=ON)
    led = build_lidar_detector(dataclasses.replace(cfg, classify=classify)).step(frame)
    assert len(led) == 1
    np.testing.assert_allclose(np.sin(led.yaw_rad[0]) ** 2, 1.0, atol=0.01)  # along y
    # the near faces stay (flank at x 20, rear at y 2.15; less the padding), the box grows to
    # the car's minimum (3.9 x 1.6 m) away from the sensor
    near_x, near_y = 20.0 - PAD, 2.15 - PAD
    np.testing.assert_allclose(led.size_m[0, :2], [3.9, 1.6], atol=1e-9)
    np.testing.assert_allclose(led.center_m[0, :2], [near_x + 0.8, near_y + 1.95], atol=0.15)
