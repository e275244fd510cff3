"""lifecycle.min_score_floor: coasting scores of a [0, 1]-calibrated detector stay >= 0; raw
logits (PointRCNN, the KITTI configs) are left unclamped; lifecycle errors name key and value."""

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
from tests.tracking.result_rows import TRACKING_CONFIGS


def _coasting_scores(score: float, floor: float | None) -> list[float]:
    """Output scores of one car detected with ``score`` in frames 0-2, then coasting 2 frames
    (coast_score_penalty 0.3 per missed frame)."""
    life = LifecycleConfig(
        min_hits=1, max_age=3, output_coast_frames=2, coast_score_penalty=0.3, min_score_floor=floor
    )
    cfg = ClassTrackerConfig(
        association=AssociationConfig(metric="distance_bev", threshold=-2.0), lifecycle=life
    )
    tracker = build_tracker(TrackerConfig(classes={"car": cfg}))
    scores = []
    for k in range(5):
        rows = [[10.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]] if k < 3 else np.zeros((0, 7))
        n = len(rows)
        boxes = Boxes3D.from_array7(
            np.reshape(rows, (n, 7)),
            "lidar",
            k * 100_000_000,
            score=[score] * n,
            label=[int(ObjectClass.CAR)] * n,
        )
        out = tracker.step(boxes)
        scores.append(float(out.boxes.score[0]))
    return scores


def test_the_floor_clamps_coasting_scores() -> None:
    np.testing.assert_allclose(_coasting_scores(0.4, 0.0), [0.4, 0.4, 0.4, 0.1, 0.0])
    # without a floor (the default) a coasting score can go negative, as raw logits may
    np.testing.assert_allclose(_coasting_scores(0.4, None), [0.4, 0.4, 0.4, 0.1, -0.2])
    assert LifecycleConfig().min_score_floor is None


def test_shipped_configs_floor_only_calibrated_scores() -> None:
    for name in ("lidar_stack.yaml", "lidar_sim_stack.yaml"):
        cfg = load_tracker_config(TRACKING_CONFIGS / name)
        assert {c.lifecycle.min_score_floor for c in cfg.classes.values()} == {0.0}, name
    for name in ("kitti_pointrcnn.yaml", "kitti_pointrcnn_ab3dmot_settings.yaml"):
        cfg = load_tracker_config(TRACKING_CONFIGS / name)
        assert {c.lifecycle.min_score_floor for c in cfg.classes.values()} == {None}, name


@pytest.mark.parametrize(
    ("lifecycle", "message"),
    [
        ("{min_hits: 0}", "min_hits must be >= 1, got 0"),
        ("{max_age: -1}", "max_age must be >= 0, got -1"),
        ("{output_coast_frames: -2}", "output_coast_frames must be >= 0, got -2"),
        ("{min_score_floor: .nan}", "min_score_floor must be a finite number or null, got nan"),
    ],
)
def test_lifecycle_errors_name_the_key_and_value(
    tmp_path: Path, lifecycle: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"classes: {{car: {{lifecycle: {lifecycle}}}}}\n")
    with pytest.raises(ConfigError) as info:
        load_tracker_config(path)
    assert str(path) in str(info.value)
    assert f"field classes.car.lifecycle: {message}" in str(info.value)
