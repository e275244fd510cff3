"""SweepAccumulator history: too-old sweeps leave the history, a sweep not after the newest
kept one drops the kept sweeps at or after it (warning once until reset), and the merged cloud
has the current sweep's dtypes."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.transforms import SE3
from drivestack.perception.lidar import LidarDetector, load_lidar_detector_config
from drivestack.perception.lidar.accumulate import SWEEP_AGE_S, SweepAccumulator
from drivestack.perception.lidar.config import AccumulateConfig
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

from .synthetic import KITTI_LIDAR_CONFIG, ground_plane

MS = 1_000_000


def _cloud(t_ns: int, dtype: type = np.float64, n: int = 1, **attributes: np.ndarray) -> PointCloud:
    xyz: np.ndarray = np.tile([float(t_ns // MS), 0.0, 0.0], (n, 1)).astype(dtype)  # x: ms
    return PointCloud(xyz, "lidar", t_ns, attributes)


def _merged_times_ms(merged: PointCloud) -> list[float]:
    return sorted(merged.xyz_m[:, 0].tolist())


def test_too_old_sweeps_leave_the_history() -> None:
    # 10 Hz, max age 0.35 s: at most 3 past sweeps can be merged, however large num_sweeps is
    acc = SweepAccumulator(AccumulateConfig(num_sweeps=50, max_sweep_age_s=0.35))
    for k in range(20):
        merged = acc.step(_cloud(k * 100 * MS), SE3.identity())
        assert acc.num_past_sweeps == min(k, 3) + 1  # those still usable, and this one
    assert _merged_times_ms(merged) == [1600.0, 1700.0, 1800.0, 1900.0]


def test_a_pose_that_jumps_is_not_merged_across_and_warns_once() -> None:
    # 10 Hz; the pose moves 1.5 m a sweep (15 m/s), then jumps 30 m (300 m/s), then turns
    # 0.3 rad in a sweep (3 rad/s): no past sweep is merged across either jump
    acc = SweepAccumulator(AccumulateConfig(num_sweeps=3, max_sweep_age_s=0.35))
    poses = [SE3.from_xyz_yaw([1.5 * k, 0.0, 0.0], 0.0) for k in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k, pose in enumerate(poses):
            merged = acc.step(_cloud(k * 100 * MS), pose)
    assert len(merged) == 3  # plausible motion: merged
    with pytest.warns(UserWarning, match=r"moved 30\.0 m and 0\.0 deg in 0\.100 s .*300 m/s") as w:
        merged = acc.step(_cloud(300 * MS), SE3.from_xyz_yaw([33.0, 0.0, 0.0], 0.0))
    assert len(w) == 1 and len(merged) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once until reset
        merged = acc.step(_cloud(400 * MS), SE3.from_xyz_yaw([34.5, 0.0, 0.0], 0.3))
    assert len(merged) == 1  # 3 rad/s: dropped too
    merged = acc.step(_cloud(500 * MS), SE3.from_xyz_yaw([36.0, 0.0, 0.0], 0.3))
    assert len(merged) == 2  # and merging resumes


def test_time_going_backwards_drops_the_newer_history_and_warns_once() -> None:
    acc = SweepAccumulator(AccumulateConfig(num_sweeps=3, max_sweep_age_s=0.35))
    pose = SE3.identity()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for t_ms in (0, 100, 200):
            acc.step(_cloud(t_ms * MS), pose)
    with pytest.warns(
        UserWarning, match=r"timestamp_ns 50000000 is not after the newest kept sweep's 200000000"
    ) as caught:
        merged = acc.step(_cloud(50 * MS), pose)
    assert len(caught) == 1
    assert _merged_times_ms(merged) == [50.0]  # 100 and 200 ms cannot be its past
    merged = acc.step(_cloud(300 * MS), pose)
    assert _merged_times_ms(merged) == [50.0, 300.0]
    np.testing.assert_allclose(sorted(merged.attribute(SWEEP_AGE_S)), [0.0, 0.25], atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once until reset
        # 300 ms goes; 50 ms (0.2 s before) is still its past
        assert _merged_times_ms(acc.step(_cloud(250 * MS), pose)) == [50.0, 250.0]
    acc.reset()
    acc.step(_cloud(400 * MS), pose)
    with pytest.warns(UserWarning, match=r"timestamp_ns 400000000 is not after .* 400000000"):
        assert _merged_times_ms(acc.step(_cloud(400 * MS), pose)) == [400.0]  # a repeat


def test_the_warning_points_at_the_detector_caller() -> None:
    cfg = load_lidar_detector_config(KITTI_LIDAR_CONFIG)
    cfg = dataclasses.replace(cfg, accumulate=dataclasses.replace(cfg.accumulate, num_sweeps=3))
    detector = LidarDetector(cfg)
    xyz = ground_plane(np.random.default_rng(0), num=1_000).astype(np.float32)

    def frame(t_ns: int) -> SensorFrame:
        return SensorFrame(
            t_ns,
            lidars={"lidar": PointCloud(xyz, "lidar", t_ns)},
            ego_from_sensor={"lidar": SE3.identity()},
            world_from_ego=SE3.identity(),
        )

    detector.step(frame(200 * MS))
    with pytest.warns(UserWarning, match="not after the newest kept sweep") as caught:
        boxes = detector.step(frame(100 * MS))
    assert caught[0].filename == __file__
    assert boxes.timestamp_ns == 100 * MS


def test_merged_cloud_has_the_current_sweeps_dtypes() -> None:
    acc = SweepAccumulator(AccumulateConfig(num_sweeps=3, max_sweep_age_s=0.35))
    pose0 = SE3.from_xyz_yaw([0.3, 0.1, 0.0], 0.02)
    past = _cloud(0, np.float64, n=4, intensity=np.arange(4.0), ring=np.arange(4, dtype=np.int64))
    acc.step(past, pose0)
    current = _cloud(
        100 * MS,
        np.float32,
        n=2,
        intensity=np.ones(2, np.float32),
        ring=np.zeros(2, np.int16),
    )
    merged = acc.step(current, SE3.identity())
    assert merged.xyz_m.dtype == np.float32 and len(merged) == 6
    assert merged.attribute("intensity").dtype == np.float32
    assert merged.attribute("ring").dtype == np.int16
    expected = pose0.apply(past.xyz_m).astype(np.float32)  # moved in float64, then cast
    np.testing.assert_array_equal(merged.xyz_m[2:], expected)
    np.testing.assert_array_equal(
        merged.attribute("intensity")[2:], np.arange(4.0, dtype=np.float32)
    )
    # a float64 sweep after float32 ones stays float64
    acc.reset()
    acc.step(_cloud(0, np.float32), SE3.identity())
    assert acc.step(_cloud(100 * MS, np.float64), SE3.identity()).xyz_m.dtype == np.float64


def test_an_attribute_of_another_kind_is_not_cast() -> None:
    acc = SweepAccumulator(AccumulateConfig(num_sweeps=2, max_sweep_age_s=0.35))
    acc.step(_cloud(0, intensity=np.array([0.5])), SE3.identity())  # float intensity
    merged = acc.step(_cloud(100 * MS, intensity=np.array([7], np.uint8)), SE3.identity())
    assert merged.attribute("intensity").tolist() == [7.0, 0.5]  # promoted, not wrapped to 0


@settings(max_examples=60, deadline=None)
@given(
    num_sweeps=st.integers(2, 6),
    max_age_ms=st.integers(50, 400),
    steps_ms=st.lists(st.integers(-300, 300), min_size=1, max_size=25),
)
def test_merged_sweeps_are_the_usable_recent_past(
    num_sweeps: int, max_age_ms: int, steps_ms: list[int]
) -> None:
    """Whatever the times: the merged sweeps are the current one and the kept ones before it
    within ``max_age``; the history keeps the newest ``num_sweeps - 1`` sweeps, each strictly
    older than the next (a sweep at or after the current time is dropped, it cannot be its
    past), and no sweep that was too old to be merged."""
    acc = SweepAccumulator(AccumulateConfig(num_sweeps, max_age_ms / 1000.0))
    t_ms = 1000
    kept: list[int] = []  # the times the oracle keeps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dt in steps_ms:
            t_ms += dt
            kept = [s for s in kept if s < t_ms and t_ms - s <= max_age_ms]
            merged = acc.step(_cloud(t_ms * MS), SE3.identity())
            assert _merged_times_ms(merged) == [*kept, t_ms]
            ages_s = np.sort(merged.attribute(SWEEP_AGE_S))
            assert ages_s[0] == 0 and np.all(ages_s[1:] > 0)
            assert np.all(ages_s <= max_age_ms / 1000.0 + 1e-6)
            kept = [*kept, t_ms][-(num_sweeps - 1) :]
            assert acc.num_past_sweeps == len(kept) <= num_sweeps - 1


def test_an_attribute_of_another_kind_in_a_past_sweep_is_promoted_not_refused() -> None:
    # a float32 intensity in a past sweep beside a uint8 one now: PointCloud.concatenate
    # refuses two dtypes, and the detector raised mid-log; the accumulator promotes on purpose
    acc = SweepAccumulator(AccumulateConfig(num_sweeps=2, max_sweep_age_s=1.0))
    acc.step(_cloud(0, intensity=np.array([0.5], np.float32)), SE3.identity())
    merged = acc.step(_cloud(100 * MS, intensity=np.array([200], np.uint8)), SE3.identity())
    assert merged.attributes["intensity"].dtype == np.float32
    assert sorted(merged.attributes["intensity"].tolist()) == [0.5, 200.0]
    # each point's time is its sweep_age_s: no time_offset_ns column is made up
    assert set(merged.attributes) == {"intensity", SWEEP_AGE_S}
