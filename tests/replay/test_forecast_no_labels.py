"""A log without labels (an unlabelled ROS bag) gets no forecast line, as it gets no
detection or tracking line; its frames are counted as "no labels", whatever else they lack
(an ego pose)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from drivestack.core.frames import EGO
from drivestack.replay.forecast_score import NO_LABELS, ForecastScorer, forecast_lines
from drivestack.replay.runner import _score_forecasts
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame


def _unlabelled_frame(t_ns: int) -> SensorFrame:
    """A frame as an unlabelled bag without TF gives it: no labels, no ego pose."""
    cloud = PointCloud(np.array([[1.0, 0.0, 0.0]]), EGO, t_ns)
    return SensorFrame(t_ns, lidars={"top": cloud})


def test_an_unlabelled_log_has_no_forecast_line() -> None:
    scorer = ForecastScorer(horizon_s=3.0, dt_s=0.1)
    stack = SimpleNamespace(velocities_over_ground=True)
    out = SimpleNamespace(tracks=SimpleNamespace(frame=EGO), forecast=object())
    for k in range(5):
        frame = _unlabelled_frame(k * 100_000_000)
        _score_forecasts(scorer, stack, frame, out, None)  # type: ignore[arg-type]
    metrics = scorer.metrics()
    assert metrics["cases"] == 0 and metrics["frames_not_scored"] == {NO_LABELS: 5}
    assert forecast_lines(metrics) == []


def test_frames_without_pose_among_labelled_ones_still_get_a_line() -> None:
    scorer = ForecastScorer(horizon_s=3.0, dt_s=0.1)
    scorer.not_scored(NO_LABELS)
    scorer.not_scored("no ego pose")
    [line] = forecast_lines(scorer.metrics())
    assert "no case scored (frames not scored: no ego pose: 1, no labels: 1)" in line
