"""Tracker config values that would silently break association or replace a tuned block are
refused, naming the file and the dotted key; ``lifecycle.max_coast_s`` ends tracks after a gap
in time that ``max_age`` (step calls) does not see."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.tracking.config import (
    AssociationConfig,
    ClassTrackerConfig,
    LifecycleConfig,
    TrackerConfig,
    load_tracker_config,
)
from drivestack.tracking.tracker import build_tracker


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tracker.yaml"
    path.write_text(body)
    return path


@pytest.mark.parametrize(
    ("association", "words"),
    [
        ("{metric: iou_3d, threshold: -0.5}", ">= 0 and <= 1"),
        ("{metric: iou_bev, threshold: 1.2}", ">= 0 and <= 1"),
        ("{metric: giou_3d, threshold: 1.5}", ">= -1 and <= 1"),
        ("{metric: giou_bev, threshold: -1.5}", ">= -1 and <= 1"),
        ("{metric: distance_3d, threshold: 2.0}", "distance thresholds are negative"),
        ("{metric: iou_3d, threshold: .nan}", "finite"),
    ],
)
def test_association_threshold_out_of_metric_range(
    tmp_path: Path, association: str, words: str
) -> None:
    path = _write(tmp_path, f"classes:\n  car:\n    association: {association}\n")
    with pytest.raises(ConfigError) as err:
        load_tracker_config(path)
    assert "classes.car.association.threshold" in str(err.value)
    assert str(path) in str(err.value)
    assert words in str(err.value)


def test_second_threshold_and_high_score_checked(tmp_path: Path) -> None:
    body = (
        "classes:\n  car:\n    association: {metric: distance_bev, threshold: -2.0, "
        "two_stage: true, second_threshold: 1.0}\n"
    )
    with pytest.raises(ConfigError, match=r"classes\.car\.association\.second_threshold"):
        load_tracker_config(_write(tmp_path, body))
    with pytest.raises(ValueError, match="high_score"):
        AssociationConfig(two_stage=True, high_score=float("nan"))


def test_valid_thresholds_accepted() -> None:
    AssociationConfig(metric="iou_3d", threshold=0.0)
    AssociationConfig(metric="iou_bev", threshold=1.0)
    AssociationConfig(metric="giou_3d", threshold=-1.0)
    AssociationConfig(metric="distance_3d", threshold=-2.0, second_threshold=0.0)
    AssociationConfig(two_stage=True, high_score=-3.5)


def test_class_keys_differing_in_case_refused(tmp_path: Path) -> None:
    body = "classes:\n  car:\n    motion: {model: cv}\n  Car:\n    motion: {model: ctrv}\n"
    with pytest.raises(ConfigError) as err:
        load_tracker_config(_write(tmp_path, body))
    assert "classes.Car" in str(err.value)
    assert "duplicate of classes.car" in str(err.value)


def test_max_coast_s_checked(tmp_path: Path) -> None:
    body = "classes:\n  car:\n    lifecycle: {max_coast_s: -1.0}\n"
    with pytest.raises(ConfigError, match=r"classes\.car\.lifecycle\.max_coast_s"):
        load_tracker_config(_write(tmp_path, body))
    assert LifecycleConfig().max_coast_s is None


def _ids_after_gap(max_coast_s: float | None) -> list[list[int]]:
    """Track ids of one parked car seen at 10 Hz for 4 frames, then again after a 5 s gap
    (max_age 3 frames = 0.3 s at 10 Hz)."""
    life = LifecycleConfig(min_hits=1, max_age=3, max_coast_s=max_coast_s)
    cfg = ClassTrackerConfig(
        association=AssociationConfig(metric="distance_bev", threshold=-2.0), lifecycle=life
    )
    tracker = build_tracker(TrackerConfig(classes={"car": cfg}))
    ids = []
    for k in (0, 1, 2, 3, 53, 54):
        boxes = Boxes3D.from_array7(
            np.array([[10.0, 0.0, 0.0, 4.5, 1.9, 1.6, 0.0]]),
            "lidar",
            k * 100_000_000,
            score=[0.9],
            label=[int(ObjectClass.CAR)],
        )
        ids.append(tracker.step(boxes).track_id.tolist())
    return ids


def test_max_coast_s_ends_track_after_time_gap() -> None:
    # default (off): the step count alone decides, the track survives the 5 s gap
    assert _ids_after_gap(None)[-2:] == [[0], [0]]
    # 1 s: the track is dead after the gap, the detection starts a new one
    ids = _ids_after_gap(1.0)
    assert ids[:4] == [[0]] * 4
    assert ids[-2:] == [[1], [1]]
    # a gap shorter than max_coast_s changes nothing
    assert _ids_after_gap(10.0) == _ids_after_gap(None)


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
@pytest.mark.parametrize(
    ("block", "key"),
    [
        ("motion: {process_position_std_m: V}", "motion.process_position_std_m"),
        ("motion: {measurement_position_std_m: V}", "motion.measurement_position_std_m"),
        ("lifecycle: {coast_score_penalty: V}", "lifecycle.coast_score_penalty"),
        ("lifecycle: {birth_score: V}", "lifecycle.birth_score"),
        ("offline_min_track_score: V", "offline_min_track_score"),
        ("offline_evidence: {log_hits_weight: V}", "offline_evidence.log_hits_weight"),
        ("offline_refine: {score_weight: V}", "offline_refine.score_weight"),
        ("offline_refine: {robust_scale_m: V}", "offline_refine.robust_scale_m"),
        ("offline_stitch: {max_distance_m: V}", "offline_stitch.max_distance_m"),
        ("offline_cross_class: {max_distance_m: V}", "offline_cross_class.max_distance_m"),
        (
            "offline_track_scorer: {weights: {mean_score: V}}",
            "offline_track_scorer.weights.mean_score",
        ),
        (
            "offline_track_scorer: {weights: {mean_score: 1.0}, bias: V}",
            "offline_track_scorer.bias",
        ),
    ],
)
def test_non_finite_numbers_are_refused_naming_the_key(
    tmp_path: Path, block: str, key: str, value: str
) -> None:
    # NaN / inf passed these keys silently (a NaN process noise or score weight makes every
    # track NaN; an infinite offline threshold drops every track)
    path = _write(tmp_path, f"classes:\n  car:\n    {block.replace('V', value)}\n")
    with pytest.raises(ConfigError) as err:
        load_tracker_config(path)
    assert f"classes.car.{key}" in str(err.value) and str(path) in str(err.value)
    assert "finite" in str(err.value) or "must be" in str(err.value)
