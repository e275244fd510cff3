"""Pinned rules of the LiDAR stage (step order, per-step report, time and frame handling) and
of its config validation (which boundary values are accepted, which refused).

Every expected value is derived by hand from the rule in the docstrings of
``drivestack.perception.lidar.detector`` and ``drivestack.perception.lidar.config``; the
scenes are a handful of points, so each test runs in milliseconds (after the kernels compile).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from drivestack.core.frames import EGO
from drivestack.core.transforms import SE3
from drivestack.perception.lidar import detector as detector_module
from drivestack.perception.lidar.config import (
    AccumulateConfig,
    BoxFitConfig,
    ClassifyConfig,
    ClassPrior,
    ClusterConfig,
    DedupConfig,
    FarVehicleConfig,
    GroundConfig,
    LaneHeadingConfig,
    LargeVehicleJoinConfig,
    LidarDetectorConfig,
    OffroadConfig,
    OverhangConfig,
    RoiConfig,
    ThinStructureConfig,
    load_lidar_detector_config,
)
from drivestack.perception.lidar.detector import LidarDetector, RunReport, StepReport
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

from ..synthetic import KITTI_LIDAR_CONFIG

KITTI = load_lidar_detector_config(KITTI_LIDAR_CONFIG)
R = dataclasses.replace


# --------------------------------------------------------------------------------------------
# helpers: a RANSAC ground (fewer than 3 points: the nominal road z = -sensor_height_m, so a
# point's height above the ground is exactly z + 2.0) and tiny hand-built clouds


def _cfg(**sections: Any) -> LidarDetectorConfig:
    """The KITTI config with a RANSAC ground 2.0 m below the sensor, sections replaced."""
    ground = R(KITTI.ground, method="ransac", sensor_height_m=2.0)
    return R(KITTI, ground=ground, **sections)


def _frame(
    xyz: list[list[float]] | np.ndarray,
    t_ns: int = 0,
    *,
    cloud_ns: int | None = None,
    frame: str = "lidar",
    pose: SE3 | None = None,
    mount: SE3 | None = None,
) -> SensorFrame:
    cloud = PointCloud(
        np.asarray(xyz, np.float64).reshape(-1, 3),
        frame,
        t_ns if cloud_ns is None else cloud_ns,
    )
    return SensorFrame(
        t_ns,
        lidars={"lidar": cloud},
        ego_from_sensor={} if mount is None else {"lidar": mount},
        world_from_ego=pose,
    )


def _counts(report: RunReport) -> dict[str, tuple[int, int]]:
    return {s.name: (s.items_in, s.items_out) for s in report.steps}


# --------------------------------------------------------------------------------------------
# the report


def test_run_report_total_is_the_sum_of_the_step_times() -> None:
    """``total_ms`` adds every step's time: 1.5 + 2.25 + 0.25 = 4.0 ms (not the largest)."""
    report = RunReport(
        (StepReport("a", 1.5, 3, 2), StepReport("b", 2.25, 2, 1), StepReport("c", 0.25, 1, 1))
    )
    assert report.total_ms == 4.0


def test_run_report_as_dict_keeps_in_and_out_apart() -> None:
    """``as_dict`` gives ``{step: {duration_ms, items_in, items_out}}``: roi took 10 points in
    and gave 7 out, so items_in 10 and items_out 7 (not swapped)."""
    report = RunReport((StepReport("roi", 0.5, 10, 7),))
    assert report.as_dict() == {"roi": {"duration_ms": 0.5, "items_in": 10, "items_out": 7}}


class _Clock:
    """``time`` stand-in whose ``perf_counter_ns`` advances 2.5 ms per call."""

    def __init__(self) -> None:
        self.now_ns = 0

    def perf_counter_ns(self) -> int:
        self.now_ns += 2_500_000
        return self.now_ns


def test_step_times_are_in_milliseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each step reads the clock once at its start and once at its end: with a clock that
    moves 2 500 000 ns per reading every step lasts 2 500 000 ns = 2.5 ms, and the six steps of
    a plain config total 15 ms."""
    monkeypatch.setattr(detector_module, "time", _Clock())
    _, report = LidarDetector(_cfg()).step_with_report(_frame([[10.0, 0.0, -1.0]]))
    assert [s.duration_ms for s in report.steps] == [2.5] * 6
    assert report.total_ms == 15.0


# --------------------------------------------------------------------------------------------
# step order and counts


def test_steps_of_a_plain_config_in_order_and_no_split_step() -> None:
    """Without ``dedup`` and with ``split_unknown_max_length_m`` 0 (off) the stage runs
    accumulate -> roi -> ground -> cluster -> box_fit -> classify, nothing else."""
    _, report = LidarDetector(_cfg()).step_with_report(_frame([[10.0, 0.0, -1.0]]))
    assert [s.name for s in report.steps] == [
        "accumulate", "roi", "ground", "cluster", "box_fit", "classify",
    ]  # fmt: skip


def test_split_unknown_comes_between_classify_and_dedup() -> None:
    """With both ``cluster.split_unknown_max_length_m`` > 0 and ``dedup.enabled`` the report
    ends classify, split_unknown, dedup."""
    cfg = _cfg(
        cluster=R(KITTI.cluster, split_unknown_max_length_m=1.0),
        dedup=DedupConfig(enabled=True),
    )
    _, report = LidarDetector(cfg).step_with_report(_frame([[10.0, 0.0, -1.0]]))
    assert [s.name for s in report.steps][-3:] == ["classify", "split_unknown", "dedup"]


def test_cluster_height_band_is_inclusive_at_both_ends() -> None:
    """``ground`` counts the points with min <= height <= max above the ground. Nominal road
    z = -2 (fewer than 3 points): z -1.5 is exactly 0.5 above it (= min), z 1.0 exactly 3.0
    (= max): both are counted, 2 out of 2."""
    cluster = R(KITTI.cluster, min_height_above_ground_m=0.5, max_height_above_ground_m=3.0)
    xyz = [[10.0, 0.0, -1.5], [10.0, 2.0, 1.0]]
    _, report = LidarDetector(_cfg(cluster=cluster)).step_with_report(_frame(xyz))
    assert _counts(report)["ground"] == (2, 2)


def test_counts_follow_the_points_through_roi_ground_and_cluster() -> None:
    """4 points in: one 70 m away (beyond max_range 60), one inside the ego-body box (0, 0, -1)
    and two kept by the ROI. Of those, z -1.5 is 0.5 above the road z = -2 (>= 0.35: an
    object), z -1.9 only 0.1 (not). accumulate (4, 4), roi (4, 2), ground (2, 1) and cluster
    takes the 1 object point in (not the 2 cropped points)."""
    xyz = [[70.0, 0.0, -1.0], [0.0, 0.0, -1.0], [10.0, 0.0, -1.5], [10.0, 3.0, -1.9]]
    _, report = LidarDetector(_cfg()).step_with_report(_frame(xyz))
    counts = _counts(report)
    assert counts["accumulate"] == (4, 4)
    assert counts["roi"] == (4, 2)
    assert counts["ground"] == (2, 1)
    assert counts["cluster"][0] == 1


def test_roi_takes_the_merged_sweeps_in() -> None:
    """With 2 sweeps and a pose, the second frame's accumulate merges 3 + 2 = 5 points and roi
    takes those 5 in (not the newest cloud's 2); all 5 lie in the ROI."""
    cfg = _cfg(accumulate=AccumulateConfig(num_sweeps=2, max_sweep_age_s=0.35))
    det = LidarDetector(cfg)
    first = [[10.0, 0.0, -1.0], [11.0, 0.0, -1.0], [12.0, 0.0, -1.0]]
    pose = SE3.identity()
    det.step(_frame(first, 0, pose=pose, mount=SE3.identity()))
    second = [[10.0, 5.0, -1.0], [11.0, 5.0, -1.0]]
    _, report = det.step_with_report(_frame(second, 100_000_000, pose=pose, mount=SE3.identity()))
    counts = _counts(report)
    assert counts["accumulate"] == (2, 5)
    assert counts["roi"] == (5, 5)


def test_an_ego_frame_cloud_without_a_mount_is_accumulated_with_the_pose() -> None:
    """A cloud in the ego frame without ``ego_from_sensor`` is taken as seen from the identity
    mount: with a pose, 2 sweeps accumulate (2 + 1 = 3 points merged), no warning."""
    cfg = _cfg(accumulate=AccumulateConfig(num_sweeps=2, max_sweep_age_s=0.35))
    det = LidarDetector(cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        det.step(_frame([[10.0, 0.0, -1.0], [11.0, 0.0, -1.0]], 0, frame=EGO, pose=SE3.identity()))
        _, report = det.step_with_report(
            _frame([[12.0, 0.0, -1.0]], 100_000_000, frame=EGO, pose=SE3.identity())
        )
    assert _counts(report)["accumulate"] == (1, 3)


def _with_road(block: np.ndarray) -> np.ndarray:
    """``block`` plus a road grid at z = -2 (x 4 .. 30, y -8 .. 8, 1 m apart: 459 points, more
    than the block) for RANSAC to fit: the road plane is the one with the most inliers."""
    x, y = np.meshgrid(np.arange(4.0, 31.0), np.arange(-8.0, 9.0), indexing="ij")
    road = np.stack([x.ravel(), y.ravel(), np.full(x.size, -2.0)], axis=1)
    return np.concatenate([road, block])


def _unknown_block() -> np.ndarray:
    """A 1 x 1 m block 0.3 m tall on the road z = -2 (points 0.1 m apart, x 10 .. 11, y 0 .. 1,
    z -1.5 .. -1.2: 0.5 .. 0.8 above the road). Far too low for any class (car and pedestrian
    need at least 1.25 / 1.3 m of height): one UNKNOWN box, dropped with keep_unknown false."""
    g = np.arange(11) * 0.1
    x, y, z = np.meshgrid(10.0 + g, g, -1.5 + np.arange(4) * 0.1, indexing="ij")
    return np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1)


def test_classify_counts_classified_boxes_when_split_unknown_follows() -> None:
    """With ``split_unknown_max_length_m`` on and no dedup, classify's count out is the
    classified boxes (the 1 UNKNOWN box) and split_unknown's the returned boxes (0: UNKNOWN is
    dropped). The block is 1 m long, above the 0.5 m limit, so it is not split."""
    cfg = _cfg(cluster=R(KITTI.cluster, split_unknown_max_length_m=0.5))
    boxes, report = LidarDetector(cfg).step_with_report(_frame(_with_road(_unknown_block())))
    counts = _counts(report)
    assert counts["box_fit"][1] == 1
    assert counts["classify"] == (1, 1)
    assert counts["split_unknown"] == (1, 0)
    assert len(boxes) == 0


def test_a_box_scored_exactly_min_score_is_kept() -> None:
    """Boxes are kept with score *at least* ``min_score``. A 2 x 1 m block 1.1 m tall standing
    0.4 .. 1.5 m above the road z = -2 (RANSAC's plane through the road grid) fits the car prior at no cost; with every class's
    score weights 0 the score is sigmoid(0) = 0.5 exactly, so with min_score 0.5 one box comes
    out (a strict test would drop it)."""
    g = np.arange(11) * 0.2
    x, y, z = np.meshgrid(10.0 + g, g[:6], -1.6 + np.arange(12) * 0.1, indexing="ij")
    xyz = np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1)
    zero = (0.0, 0.0, 0.0, 0.0, 0.0)
    c = KITTI.classify
    classify = R(
        c,
        car=R(c.car, score_weights=zero),
        pedestrian=R(c.pedestrian, score_weights=zero),
        cyclist=R(c.cyclist, score_weights=zero),
        min_score=0.5,
    )
    boxes = LidarDetector(_cfg(classify=classify)).step(_frame(_with_road(xyz)))
    assert len(boxes) == 1
    assert boxes.score.tolist() == [0.5]


# --------------------------------------------------------------------------------------------
# state: last report, reset, time warnings


def test_last_report_is_kept_and_reset_clears_it() -> None:
    """``step`` stores its report in ``last_report``; ``reset`` sets it back to None."""
    det = LidarDetector(_cfg())
    assert det.last_report is None
    _, report = det.step_with_report(_frame([[10.0, 0.0, -1.0]]))
    assert det.last_report is report
    det.reset()
    assert det.last_report is None


@pytest.fixture
def _quiet_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_a_cloud_exactly_one_sweep_period_off_does_not_warn(_quiet_warnings: None) -> None:
    """The warning is for clouds *more* than 0.1 s (100 000 000 ns) from the frame's time:
    exactly 0.1 s after or before is no warning."""
    det = LidarDetector(_cfg())
    det.step(_frame([[10.0, 0.0, -1.0]], 0, cloud_ns=100_000_000))
    det.step(_frame([[10.0, 0.0, -1.0]], 200_000_000, cloud_ns=100_000_000))


def test_a_cloud_just_over_one_sweep_period_off_warns_once() -> None:
    """0.1 s + 1 ns off warns (``+0.100 s``); the second such frame does not warn again."""
    det = LidarDetector(_cfg())
    with pytest.warns(UserWarning, match=r"\+0\.100 s from the frame's timestamp_ns") as seen:
        det.step(_frame([[10.0, 0.0, -1.0]], 0, cloud_ns=100_000_001))
        det.step(_frame([[10.0, 0.0, -1.0]], 0, cloud_ns=100_000_001))
    assert len([w for w in seen if "timestamp_ns" in str(w.message)]) == 1


def test_a_cloud_0_15_s_off_warns() -> None:
    """0.15 s is more than one 10 Hz sweep period (0.1 s): a warning."""
    with pytest.warns(UserWarning, match=r"\+0\.150 s"):
        LidarDetector(_cfg()).step(_frame([[10.0, 0.0, -1.0]], 0, cloud_ns=150_000_000))


# --------------------------------------------------------------------------------------------
# config: boundary values accepted


def test_config_boundaries_that_are_accepted() -> None:
    """Every limit written "<=" (or "at least") accepts its boundary value."""
    roi = KITTI.roi
    R(roi, min_range_m=5.0, max_range_m=5.0)  # 0 <= min <= max
    R(roi, min_range_m=0.0)  # at least 0
    R(roi, min_xyz_m=(1.0, 1.0, 1.0), max_xyz_m=(1.0, 1.0, 1.0))  # box min <= max
    R(KITTI.ground, ransac_seed=0, min_normal_z=1.0)  # seed >= 0, min_normal_z <= 1
    R(KITTI.ground, zone_rings=(2, 4, 4, 4096), zone_sectors=(16, 32, 54, 4096))  # <= 4096
    cl = KITTI.cluster
    R(cl, min_points=7, max_points=7)  # min_points <= max_points
    R(cl, vertical_link_scale=1.0)  # 0 < scale <= 1
    R(cl, base_distance_m=0.8, max_distance_m=0.8)  # base <= max
    R(KITTI.box_fit, yaw_step_deg=2.0, refine_step_deg=2.0)  # refine <= yaw step
    car = KITTI.classify.car
    R(car, min_lwh_m=car.mean_lwh_m)  # min <= mean
    R(car, choice_weight=1.0, min_points=0)  # weight <= 1, min_points >= 0
    R(KITTI.classify, min_score=1.0, min_likelihood=1.0)  # in [0, 1]
    R(KITTI.classify, min_score=0.0, min_likelihood=0.0)
    DedupConfig(min_overlap=1.0)  # 0 < min_overlap <= 1
    OverhangConfig(band_m=0.0)
    OffroadConfig(max_distance_m=0.0, score_factor=0.0)
    FarVehicleConfig(min_range_m=0.0, max_offroad_m=0.0, score=0.0)
    LaneHeadingConfig(max_lane_spread_deg=90.0, max_yaw_offset_deg=45.0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: R(KITTI.cluster, oversize_link_scale=1.0), "need 0 <= oversize_link_scale < 1"),
        (
            lambda: R(KITTI.cluster, min_height_above_ground_m=1.0, max_height_above_ground_m=1.0),
            "need min_height_above_ground_m < max_height_above_ground_m, got 1.0, 1.0",
        ),
        (lambda: R(KITTI.box_fit, yaw_step_deg=90.0), "refine_step_deg <= yaw_step_deg < 90"),
        (
            lambda: R(KITTI.ground, zone_min_range_m=(2.7, 12.0, 12.0, 41.35)),
            "zone ranges must increase up to max_range_m",
        ),
        (
            lambda: R(KITTI.ground, zone_min_range_m=(2.7, 12.0, 22.0, 80.0)),
            "zone ranges must increase up to max_range_m",
        ),
        (lambda: R(KITTI.ground, zone_rings=(2, 4, 4, 0)), "zone_rings and zone_sectors must be"),
        (lambda: R(KITTI.ground, min_normal_z=1.5), "min_normal_z must be"),
        (lambda: R(KITTI.ground, ransac_seed=-1), "ransac_seed must be"),
        (lambda: ThinStructureConfig(slice_height_m=0.0), "need slice_height_m > 0"),
        (lambda: OverhangConfig(band_m=-0.1), "need band_m >= 0"),
        (lambda: DedupConfig(min_overlap=0.0), "need 0 < min_overlap <= 1"),
        (lambda: LaneHeadingConfig(max_yaw_offset_deg=46.0), "0 <= max_yaw_offset_deg <= 45"),
        (lambda: LaneHeadingConfig(max_lane_spread_deg=91.0), "0 <= max_lane_spread_deg <= 90"),
        (lambda: R(KITTI.classify, min_score=1.5), "min_score must be in [0, 1]"),
        (lambda: R(KITTI.roi, min_range_m=10.0, max_range_m=5.0), "need 0 <= min_range_m"),
        (lambda: AccumulateConfig(num_sweeps=0, max_sweep_age_s=0.1), "num_sweeps must be >= 1"),
        (
            lambda: R(KITTI.classify.car, min_lwh_m=(4.3, 0.2, 1.25)),
            "need min_lwh_m <= mean_lwh_m",
        ),
        (lambda: R(KITTI.classify.car, choice_weight=0.0), "need 0 < choice_weight <= 1"),
        (lambda: R(KITTI.cluster, vertical_link_scale=0.0), "need 0 < vertical_link_scale <= 1"),
    ],
)
def test_config_values_that_are_refused(make: Any, message: str) -> None:
    """Each value just past (or at, where the limit is strict) a limit is refused with a
    message naming the rule."""
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        make()


def test_config_defaults_and_enabled_switches() -> None:
    """Defaults: dedup off with min_overlap 0.2; large-vehicle join min height 2.3 m. A thin
    structure veto is on with either threshold > 0; offroad is on only with a factor below 1;
    far_vehicle only with a min range above 0; the defaults are all off."""
    assert DedupConfig() == DedupConfig(enabled=False, min_overlap=0.2, merge_clusters=True)
    assert LargeVehicleJoinConfig().min_height_m == 2.3
    assert ThinStructureConfig(min_width_to_height=0.1).enabled
    assert not ThinStructureConfig().enabled
    assert not OffroadConfig(score_factor=1.0).enabled
    assert OffroadConfig(score_factor=0.99).enabled
    assert not FarVehicleConfig().enabled
    assert FarVehicleConfig(min_range_m=0.5).enabled
    assert not OverhangConfig().enabled


def test_config_classes_are_the_ones_the_detector_config_holds() -> None:
    """The shipped KITTI config is built of these classes (a guard for the imports above)."""
    assert isinstance(KITTI.roi, RoiConfig) and isinstance(KITTI.ground, GroundConfig)
    assert isinstance(KITTI.cluster, ClusterConfig) and isinstance(KITTI.box_fit, BoxFitConfig)
    assert isinstance(KITTI.classify, ClassifyConfig)
    assert isinstance(KITTI.classify.car, ClassPrior)
