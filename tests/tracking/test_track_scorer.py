"""Offline track scorer: whole-track features by hand, the logit it writes, the logistic fit,
its configuration, and the truth labels it is fitted on."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.eval.tracking.truth_match import match_to_truth, true_track_ids
from drivestack.tracking.config import (
    ClassTrackerConfig,
    OfflineTrackScorerConfig,
    load_tracker_config,
)
from drivestack.tracking.kitti_run import SequenceRun
from drivestack.tracking.offline import offline_result_rows
from drivestack.tracking.track_scorer import (
    TRACK_FEATURES,
    fit_logistic_track_scorer,
    score_tracks,
    track_features,
)
from tests.tracking.result_rows import KITTI_TRACKER_CONFIG, car_rows


def _two_tracks() -> tuple:
    """Track 4: three rows at frames 0-2 walking +1 m/frame in camera x; track 9: one row.
    The ego moves +2 m per frame along camera z (poses camera -> world)."""
    rows = car_rows([0, 1, 2, 1], [4, 4, 4, 9], [2.0, 4.0, 6.0, 1.0])
    rows = replace(
        rows,
        location_m=np.array([[0.0, 1.6, 10.0], [1.0, 1.6, 8.0], [2.0, 1.6, 6.0], [3.0, 1.6, 4.0]]),
        hwl_m=np.array([[1.7, 0.6, 0.8], [1.7, 0.7, 0.9], [1.7, 0.8, 1.0], [1.5, 0.5, 0.5]]),
        box2d_xyxy_px=np.array([[0, 0, 5, 40], [0, 10, 5, 60], [0, 0, 5, 80], [0, 0, 5, 0.2]]),
    )
    poses = np.tile(np.eye(4), (3, 1, 1))
    poses[:, 2, 3] = [0.0, 2.0, 4.0]
    return rows, poses


def test_features_by_hand() -> None:
    rows, poses = _two_tracks()
    ids, feats = track_features(rows, poses)
    assert ids.tolist() == [4, 9]
    f = dict(zip(TRACK_FEATURES, feats[0], strict=True))
    assert f["mean_score"] == pytest.approx(4.0)
    assert f["max_score"] == pytest.approx(6.0)
    assert f["log_rows"] == pytest.approx(np.log(3))
    # world centres (0, 10), (1, 10), (2, 10): the walker moves 2 m sideways, stands in depth
    assert f["log_displacement_m"] == pytest.approx(np.log(2.1))
    assert f["median_range_m"] == pytest.approx(np.hypot(1.0, 8.0))
    assert f["median_width_m"] == pytest.approx(0.7)
    assert f["median_length_m"] == pytest.approx(0.9)
    assert f["log_box2d_height_px"] == pytest.approx(np.log(50.0))
    single = dict(zip(TRACK_FEATURES, feats[1], strict=True))
    assert single["log_displacement_m"] == pytest.approx(np.log(0.1))
    assert single["log_box2d_height_px"] == 0.0  # image height clamped to 1 px


def test_score_tracks_writes_each_tracks_logit_and_drops_weak_candidates() -> None:
    rows, poses = _two_tracks()
    out = score_tracks(rows, poses, {"mean_score": 2.0, "log_rows": 1.0}, bias=-3.0)
    assert out.score.tolist() == pytest.approx([5 + np.log(3)] * 3 + [-1.0])
    kept = score_tracks(rows, poses, {"mean_score": 2.0}, bias=0.0, min_mean_score=2.0)
    assert kept.track_id.tolist() == [4, 4, 4]
    assert len(score_tracks(rows, poses, {"mean_score": 1.0}, 0.0, min_mean_score=10.0)) == 0


def test_fit_separates_and_returns_weights_in_feature_units() -> None:
    rng = np.random.default_rng(0)
    score = np.concatenate([rng.normal(6, 1, 200), rng.normal(3, 1, 200)])
    width = rng.normal(0.7, 0.05, 400)  # no information
    is_true = np.arange(400) < 200
    weights, bias = fit_logistic_track_scorer(
        np.column_stack([score, width]), is_true, np.ones(400), 1e-4, ["mean_score", "w"]
    )
    # two unit-variance Gaussians 3 apart: the log-odds slope is 3, the boundary at 4.5
    assert weights["mean_score"] == pytest.approx(3.0, rel=0.25)
    boundary = -(bias + 0.7 * weights["w"]) / weights["mean_score"]  # at the mean width
    assert boundary == pytest.approx(4.5, abs=0.3)
    # one standard deviation of the uninformative width moves the logit far less than a point of score
    assert abs(weights["w"]) * 0.05 < 0.2 * weights["mean_score"]
    heavy, _ = fit_logistic_track_scorer(
        np.column_stack([score, width]), is_true, np.ones(400), 1.0, ["mean_score", "w"]
    )
    assert 0 < heavy["mean_score"] < weights["mean_score"]  # the penalty shrinks the weights


def test_fit_rejects_one_class_labels_and_bad_shapes() -> None:
    x = np.ones((3, 1))
    with pytest.raises(ValueError, match="both true and false"):
        fit_logistic_track_scorer(x, np.ones(3, bool), np.ones(3), 0.1, ["mean_score"])
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        fit_logistic_track_scorer(x, np.ones(3, bool), np.ones(3), 0.1, ["a", "b"])


def test_config_names_an_unknown_feature(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown track feature.*'speed'.*mean_score"):
        OfflineTrackScorerConfig(weights={"speed": 1.0})
    bad = tmp_path / "bad.yaml"
    bad.write_text("classes: {pedestrian: {offline_track_scorer: {weights: {speed: 1.0}}}}")
    with pytest.raises(ConfigError, match=r"classes\.pedestrian\.offline_track_scorer"):
        load_tracker_config(bad)
    shipped = load_tracker_config(KITTI_TRACKER_CONFIG).classes["pedestrian"]
    assert set(shipped.offline_track_scorer.weights) <= set(TRACK_FEATURES)
    assert shipped.offline_track_scorer.min_mean_score is not None


def test_offline_rows_use_the_scorer_and_need_poses() -> None:
    rows, poses = _two_tracks()
    cfg = ClassTrackerConfig(
        offline_track_scorer=OfflineTrackScorerConfig(weights={"mean_score": 1.0}, bias=-2.0),
        offline_min_track_score=0.0,
    )
    out = offline_result_rows(SequenceRun(rows, 0.0, 3, camera_poses=poses), cfg)
    assert out.track_id.tolist() == [4, 4, 4]  # track 9's logit is -1
    assert out.score.tolist() == pytest.approx([2.0] * 3)
    with pytest.raises(ValueError, match="offline_track_scorer needs a run with ego poses"):
        offline_result_rows(SequenceRun(rows, 0.0, 3), cfg)


def test_true_tracks_are_the_half_matched_ones() -> None:
    rows, _ = _two_tracks()
    truth = replace(rows.select([0, 1, 3]), track_id=np.array([50, 50, 51]))
    # the truth holds track 4's frames 0 and 1 (2 of its 3 rows) and track 9's only row
    row_idx, truth_idx = match_to_truth(rows, truth, 0.5)
    assert sorted(zip(row_idx.tolist(), truth_idx.tolist(), strict=True)) == [
        (0, 0),
        (1, 1),
        (3, 2),
    ]
    assert true_track_ids(rows, truth, 0.5).tolist() == [4, 9]
    assert true_track_ids(rows, truth.select([0, 2]), 0.5).tolist() == [9]  # 4: 1 of 3 rows


@pytest.mark.slow
@pytest.mark.data
def test_training_tool_prints_a_loadable_yaml_block(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import runpy

    tool = runpy.run_path(
        str(Path(__file__).resolve().parents[2] / "tools" / "train_track_scorer.py"),
        run_name="tool",
    )
    argv = ["--kitti-root", str(shared_data / "kitti_tracking"), "--split", "train"]
    argv += ["--feature-sets", "mean_score;mean_score,log_displacement_m", "--l2", "0.01"]
    assert tool["main"]([*argv, "--min-logits=-2,-1.5"]) == 0
    out = capsys.readouterr().out
    assert "Pedestrian, train: 84 candidate tracks, 21 true" in out
    header, block = re.split(r"YAML \(class block; ([^)]*)\):\n", out)[1:]
    assert header.startswith("fitted on the train split, 0000, ")
    (tmp_path / "c.yaml").write_text("classes:\n  pedestrian:\n" + block)
    scorer = load_tracker_config(tmp_path / "c.yaml").classes["pedestrian"].offline_track_scorer
    assert scorer.min_mean_score == 3.0
    assert scorer.weights["mean_score"] > 0  # a higher detection score means a real track


@pytest.mark.slow
@pytest.mark.data
def test_training_tool_without_true_tracks_is_one_line_and_warns_on_the_report_split(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: a traceback ('fitting needs both true and false tracks') after the whole tracking
    pass; and a fit on the val split printed its YAML block without a word."""
    import runpy

    tool = runpy.run_path(
        str(Path(__file__).resolve().parents[2] / "tools" / "train_track_scorer.py"),
        run_name="tool",
    )
    argv = ["--kitti-root", str(shared_data / "kitti_tracking"), "--class", "Cyclist"]
    argv += ["--split", "val", "--iou", "1.0", "--feature-sets", "mean_score", "--l2", "0.01"]
    assert tool["main"]([*argv, "--min-logits=-2"]) == 2
    err = capsys.readouterr().err
    assert "warning: fitting on the val split, which holds the val sequences" in err
    assert "field --class: " in err and " of them true: fitting needs both true and false" in err
    assert "Traceback" not in err


def test_a_scorer_block_without_weights_is_refused() -> None:
    with pytest.raises(ValueError, match="without weights would give every track the same"):
        OfflineTrackScorerConfig(min_mean_score=3.0)
    assert OfflineTrackScorerConfig() == OfflineTrackScorerConfig(weights={})  # off
