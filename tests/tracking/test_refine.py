"""Offline per-track box refinement (drivestack.tracking.refine): hand cases, config, real run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.tracking.config import (
    ClassTrackerConfig,
    OfflineRefineConfig,
    load_tracker_config,
)
from drivestack.tracking.kitti_run import SequenceRun
from drivestack.tracking.offline import offline_result_rows
from drivestack.tracking.refine import (
    group_weighted_median,
    nearest_yaw_branch,
    refine_track_boxes,
)
from tests.tracking.result_rows import (
    KITTI_TRACKER_CONFIG,
    detections_of,
    real_car_run,
    track_rows,
)

NAN = float("nan")
# tricube weight of a neighbour one frame away with a half window of 1 frame: (1 - 1/8)^3
W1 = (7.0 / 8.0) ** 3


def test_defaults_are_the_identity() -> None:
    rows = track_rows([0, 1], [1, 1], [0.0, 1.0], [10.0, 11.0])
    det = detections_of(rows, [True, False])
    assert refine_track_boxes(rows, det, np.ones(2), OfflineRefineConfig()) is rows
    with pytest.raises(ValueError, match="shapes"):
        refine_track_boxes(rows, det[:1], np.ones(2), OfflineRefineConfig(size="median"))


def test_size_consensus_gives_each_track_one_size() -> None:
    # track 1: three matched detections and a coasting row; track 2: two detections
    rows = track_rows([0, 1, 2, 3, 0, 1], [1, 1, 1, 1, 2, 2], [0.0] * 6, [10.0] * 6)
    det = detections_of(rows, [True, True, True, False, True, True])
    det[:3, 3:6] = [[1.5, 1.6, 4.0], [1.4, 1.8, 3.6], [1.7, 1.7, 4.4]]
    det[4:, 3:6] = [[1.0, 2.0, 3.0], [2.0, 3.0, 5.0]]
    score = np.array([1.0, 1.0, 1.0, NAN, 1.0, 1.0])
    out = refine_track_boxes(rows, det, score, OfflineRefineConfig(size="median"))
    np.testing.assert_allclose(out.hwl_m[:4], np.tile([1.5, 1.7, 4.0], (4, 1)))
    np.testing.assert_allclose(out.hwl_m[4:], np.tile([1.5, 2.5, 4.0], (2, 1)))
    mean = refine_track_boxes(rows, det, score, OfflineRefineConfig(size="mean"))
    np.testing.assert_allclose(mean.hwl_m[0], [4.6 / 3.0, 1.7, 4.0])
    # score weights exp(ln(3) * score): track 2's second detection counts 3 times the first
    weighted = refine_track_boxes(
        rows,
        det,
        np.array([1.0, 1.0, 1.0, NAN, 0.0, 1.0]),
        OfflineRefineConfig(size="mean", score_weight=float(np.log(3.0))),
    )
    np.testing.assert_allclose(weighted.hwl_m[4], [1.75, 2.75, 4.5])
    # centres, yaws, scores and row order are kept
    np.testing.assert_array_equal(out.location_m, rows.location_m)
    np.testing.assert_array_equal(out.track_id, rows.track_id)
    np.testing.assert_array_equal(out.score, rows.score)


def test_weighted_median_matches_hand_values() -> None:
    group = np.array([0, 0, 0, 0, 1, 1, 1, 3])
    values = np.array([4.0, 1.0, 3.0, 2.0, 5.0, 9.0, 7.0, 1.0])[:, None]
    plain = group_weighted_median(group, values, np.ones(8), 4)[:, 0]
    np.testing.assert_array_equal(plain[[0, 1, 3]], [2.5, 7.0, 1.0])
    assert np.isnan(plain[2])
    heavy = np.array([1.0, 1.0, 1.0, 10.0, 1.0, 1.0, 1.0, 1.0])  # the value 2 dominates group 0
    assert group_weighted_median(group, values, heavy, 4)[0, 0] == 2.0


def test_gap_rows_are_interpolated_between_matches() -> None:
    # matched at frames 0 and 4, coasting (Kalman values 99) at 1..3 and after the last match
    rows = track_rows(
        [0, 1, 2, 3, 4, 5],
        [7] * 6,
        [0.0, 99.0, 99.0, 99.0, 4.0, 99.0],
        [10.0, 99.0, 99.0, 99.0, 14.0, 99.0],
        [0.1, 0.0, 0.0, 0.0, 0.5, 0.0],
    )
    det = detections_of(rows, [True, False, False, False, True, False])
    out = refine_track_boxes(rows, det, np.ones(6), OfflineRefineConfig(interpolate_gaps=True))
    np.testing.assert_allclose(out.location_m[:5, 0], [0.0, 1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(out.location_m[:5, 2], [10.0, 11.0, 12.0, 13.0, 14.0])
    np.testing.assert_allclose(out.rotation_y_rad[:5], [0.1, 0.2, 0.3, 0.4, 0.5])
    assert out.location_m[5, 0] == 99.0  # after the last match: left to the evidence rules
    expected_alpha = out.rotation_y_rad - np.arctan2(out.location_m[:, 0], out.location_m[:, 2])
    np.testing.assert_allclose(out.alpha_rad, expected_alpha)


def test_gap_yaw_turns_across_the_wrap_and_modulo_pi() -> None:
    rows = track_rows(
        [0, 1, 2, 0, 1, 2],
        [1, 1, 1, 2, 2, 2],
        [0.0] * 6,
        [10.0] * 6,
        # track 1: pi - 0.1 to -pi + 0.1 is a 0.2 rad turn through pi; track 2: 0.2 to
        # 0.4 - pi is the same box as 0.4, and the coasting row points the other way
        [np.pi - 0.1, 3.0, -np.pi + 0.1, 0.2, 0.3 - np.pi + 0.05, 0.4 - np.pi],
    )
    det = detections_of(rows, [True, False, True, True, False, True])
    out = refine_track_boxes(rows, det, np.ones(6), OfflineRefineConfig(interpolate_gaps=True))
    assert abs(abs(out.rotation_y_rad[1]) - np.pi) < 1e-9
    assert out.rotation_y_rad[4] == pytest.approx(0.3 - np.pi)


def test_nearest_yaw_branch_keeps_the_reference_direction() -> None:
    yaw = nearest_yaw_branch(np.array([0.1, 0.1, 3.0]), np.array([0.0, np.pi, -3.0]))
    np.testing.assert_allclose(yaw, [0.1, 0.1 - np.pi, 3.0], atol=1e-12)  # in [-pi, pi)


def test_smoothing_hand_case_and_straight_lines() -> None:
    # degree 0 over +-1 frame: the middle of [0, 3, 0] is 3 / (1 + 2 W1); a line stays exact
    # with degree 1, ends included
    rows = track_rows([0, 1, 2], [1, 1, 1], [0.0, 3.0, 0.0], [10.0, 11.0, 12.0])
    det = detections_of(rows, [True] * 3)
    flat = OfflineRefineConfig(smooth_half_window_frames=1, smooth_degree=0)
    out = refine_track_boxes(rows, det, np.ones(3), flat)
    assert out.location_m[1, 0] == pytest.approx(3.0 / (1.0 + 2.0 * W1))
    assert out.location_m[0, 0] == pytest.approx(3.0 * W1 / (1.0 + W1))
    line = refine_track_boxes(rows, det, np.ones(3), replace(flat, smooth_degree=1))
    np.testing.assert_allclose(line.location_m[:, 2], [10.0, 11.0, 12.0])
    np.testing.assert_allclose(line.location_m[:, 1], 1.5)


def test_smoothing_a_noisy_straight_track_reduces_its_error() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(40)
    truth_x, truth_z = 0.5 * t - 5.0, 10.0 + 0.2 * t
    noise = rng.normal(0.0, 0.2, size=(2, 40))
    rows = track_rows(list(t), [3] * 40, list(truth_x + noise[0]), list(truth_z + noise[1]))
    det = detections_of(rows, [True] * 40)
    cfg = OfflineRefineConfig(smooth_half_window_frames=4, smooth_degree=1)
    out = refine_track_boxes(rows, det, np.ones(40), cfg)
    before = np.hypot(noise[0], noise[1])
    after = np.hypot(out.location_m[:, 0] - truth_x, out.location_m[:, 2] - truth_z)
    assert np.sqrt(np.mean(after**2)) < 0.6 * np.sqrt(np.mean(before**2))


def test_robust_passes_ignore_an_outlier() -> None:
    # a 5 m jump in one frame of a still object: plain degree 0 moves the neighbours, two
    # bisquare passes with a 1 m scale give the outlier weight 0
    x = [0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0]
    rows = track_rows(list(range(7)), [1] * 7, x, [10.0] * 7)
    det = detections_of(rows, [True] * 7)
    plain = OfflineRefineConfig(smooth_half_window_frames=2, smooth_degree=0)
    assert refine_track_boxes(rows, det, np.ones(7), plain).location_m[2, 0] > 0.5
    robust = replace(plain, robust_iterations=2, robust_scale_m=1.0)
    out = refine_track_boxes(rows, det, np.ones(7), robust)
    np.testing.assert_allclose(out.location_m[[0, 1, 2, 4, 5, 6], 0], 0.0, atol=1e-12)


def test_smoothed_yaw_handles_the_wrap_and_the_pi_ambiguity() -> None:
    # detections flip between pi - 0.05, -pi + 0.05 and their pi-turned twins: a plain mean
    # of the angles would point sideways; the refined rows keep their own direction
    yaw = [np.pi - 0.05, -np.pi + 0.05, -0.05, 0.05, np.pi - 0.05]
    rows = track_rows(list(range(5)), [1] * 5, [0.0] * 5, [10.0] * 5, yaw)
    det = detections_of(rows, [True] * 5)
    cfg = OfflineRefineConfig(smooth_half_window_frames=2, smooth_degree=0, smooth_yaw=True)
    out = refine_track_boxes(rows, det, np.ones(5), cfg)
    err_pi = np.abs(np.angle(np.exp(2j * out.rotation_y_rad)))  # distance to 0 modulo pi
    assert np.all(err_pi < 0.05)
    np.testing.assert_allclose(np.cos(out.rotation_y_rad), np.sign(np.cos(yaw)), atol=0.01)


def test_world_frame_keeps_a_parked_car_still() -> None:
    # the camera drives 1 m per frame along its z axis; a parked car 20 m ahead
    poses = np.tile(np.eye(4), (3, 1, 1))
    poses[:, 2, 3] = [0.0, 1.0, 2.0]
    rows = track_rows([0, 1, 2], [1, 1, 1], [2.0] * 3, [20.0, 19.0, 18.0])
    det = detections_of(rows, [True] * 3)
    cfg = OfflineRefineConfig(smooth_half_window_frames=1, smooth_degree=0)
    world = refine_track_boxes(rows, det, np.ones(3), cfg, poses)
    np.testing.assert_allclose(world.location_m, rows.location_m, atol=1e-12)
    camera = refine_track_boxes(rows, det, np.ones(3), cfg)
    assert camera.location_m[0, 2] == pytest.approx((20.0 + 19.0 * W1) / (1.0 + W1))


def test_offline_result_rows_refines_before_the_evidence_rules() -> None:
    rows = track_rows([0, 1, 2], [1, 1, 1], [0.0, 9.0, 2.0], [10.0, 10.0, 10.0])
    det = detections_of(rows, [True, False, True])
    run = SequenceRun(
        rows, 0.0, 3, hits=np.array([1, 1, 2]), detection_score=np.array([1.0, NAN, 1.0])
    )
    cfg = ClassTrackerConfig(offline_refine=OfflineRefineConfig(interpolate_gaps=True))
    with pytest.raises(ValueError, match="detection boxes"):
        offline_result_rows(run, cfg)
    out = offline_result_rows(replace(run, detection_box=det), cfg)
    assert out.location_m[1, 0] == pytest.approx(1.0)
    world = replace(cfg, offline_refine=OfflineRefineConfig(world_frame=True, size="median"))
    with pytest.raises(ValueError, match="ego poses"):
        offline_result_rows(replace(run, detection_box=det), world)


def test_config_keys_are_strict(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "classes: {car: {offline_refine: {size: median, score_weight: 0.3, "
        "smooth_half_window_frames: 4, smooth_degree: 2, smooth_yaw: true, "
        "robust_iterations: 1, robust_scale_m: 0.5, interpolate_gaps: true, world_frame: true}}}"
    )
    refine = load_tracker_config(good).classes["car"].offline_refine
    assert refine == OfflineRefineConfig(
        size="median",
        score_weight=0.3,
        smooth_half_window_frames=4,
        smooth_degree=2,
        smooth_yaw=True,
        robust_iterations=1,
        robust_scale_m=0.5,
        interpolate_gaps=True,
        world_frame=True,
    )
    for text, key in [
        ("{size: mode}", "size"),
        ("{smooth_window: 3}", "smooth_window"),
        ("{smooth_degree: 3}", ""),
    ]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(f"classes: {{car: {{offline_refine: {text}}}}}")
        with pytest.raises(ConfigError, match=f"classes.car.offline_refine.?{key}"):
            load_tracker_config(bad)
    with pytest.raises(ValueError, match="smooth_half_window_frames"):
        OfflineRefineConfig(smooth_half_window_frames=-1)
    shipped = load_tracker_config(KITTI_TRACKER_CONFIG).classes
    assert shipped["car"].offline_refine.size == "median"
    assert shipped["cyclist"].offline_refine.interpolate_gaps


@pytest.mark.data
def test_real_run_refines_boxes_and_keeps_rows(shared_data: Path) -> None:
    cfg, dets, run = real_car_run(shared_data)
    assert run.detection_box is not None and run.detection_score is not None
    matched = ~np.isnan(run.detection_box[:, 0])
    np.testing.assert_array_equal(matched, ~np.isnan(run.detection_score))
    # a matched row's detection box is one of its frame's detections
    for f, box in zip(run.results.frame[matched], run.detection_box[matched], strict=True):
        same = dets.select(np.flatnonzero(dets.frame == f))
        rows = np.column_stack([same.location_m, same.hwl_m, same.rotation_y_rad])
        assert np.any(np.all(rows == box, axis=1))
    car = cfg.classes["car"]
    plain = offline_result_rows(run, replace(car, offline_refine=OfflineRefineConfig()))
    refined = offline_result_rows(run, car)
    np.testing.assert_array_equal(refined.track_id, plain.track_id)
    np.testing.assert_array_equal(refined.frame, plain.frame)
    np.testing.assert_array_equal(refined.score, plain.score)
    np.testing.assert_array_equal(refined.box2d_xyxy_px, plain.box2d_xyxy_px)
    moved = np.linalg.norm(refined.location_m - plain.location_m, axis=1)
    assert 0.0 < np.median(moved) < 0.5
    # one size per track
    for t in np.unique(refined.track_id):
        assert len(np.unique(refined.hwl_m[refined.track_id == t], axis=0)) == 1
