"""Fused mode's offline result-file rules: the fusion config replaces a class's track-score
threshold and drops the learned track scorer fitted on LiDAR-only scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.config import load_yaml_config
from drivestack.core.errors import ConfigError
from drivestack.perception.fusion.fused_tracking import FusedOfflineRules, FusionConfig
from drivestack.tracking.config import (
    ClassTrackerConfig,
    OfflineTrackScorerConfig,
    load_tracker_config,
)

REPO = Path(__file__).resolve().parents[3]
SCORER = OfflineTrackScorerConfig(weights={"mean_score": 1.0}, bias=-2.0, min_mean_score=3.0)


def test_a_class_without_fused_rules_keeps_its_own() -> None:
    own = ClassTrackerConfig(offline_min_track_score=-1.5, offline_track_scorer=SCORER)
    assert FusionConfig().offline_rules(own, "Pedestrian") is own


def test_fused_rules_replace_the_threshold_and_drop_the_scorer() -> None:
    own = ClassTrackerConfig(offline_min_track_score=-1.5, offline_track_scorer=SCORER)
    cfg = FusionConfig(fused_offline={"pedestrian": FusedOfflineRules(min_track_score=4.0)})
    fused = cfg.offline_rules(own, "Pedestrian")
    assert fused.offline_min_track_score == 4.0
    assert fused.offline_track_scorer == OfflineTrackScorerConfig()  # no weights: no re-scoring
    assert fused.motion == own.motion and fused.association == own.association
    kept = FusionConfig(
        fused_offline={"pedestrian": FusedOfflineRules(min_track_score=0.5, track_scorer=True)}
    ).offline_rules(own, "Pedestrian")
    assert kept.offline_track_scorer == SCORER and kept.offline_min_track_score == 0.5


def test_the_shipped_fusion_config_thresholds_pedestrians_on_their_fused_scores() -> None:
    fusion = load_yaml_config(FusionConfig, REPO / "configs/perception/fusion_kitti_rrc.yaml")
    tracker = load_tracker_config(REPO / "configs/tracking/kitti_pointrcnn.yaml")
    pedestrian = tracker.classes["pedestrian"]
    assert pedestrian.offline_track_scorer.weights  # the LiDAR-only scorer exists ...
    fused = fusion.offline_rules(pedestrian, "Pedestrian")
    assert not fused.offline_track_scorer.weights  # ... and fused mode leaves it out
    assert fusion.offline_rules(tracker.classes["car"], "Car") is tracker.classes["car"]


def test_an_unknown_class_in_the_fused_rules_is_named(tmp_path: Path) -> None:
    path = tmp_path / "fusion.yaml"
    path.write_text("fused_offline:\n  pedestrain: {min_track_score: 4.0}\n")
    with pytest.raises(ConfigError, match="pedestrain"):
        load_yaml_config(FusionConfig, path)
