"""Detections of classes the tracker config does not track: counted per step and per label,
warned about once, and the shipped LiDAR tracker tracks the detector's truck class."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.tracking.config import ClassTrackerConfig, TrackerConfig
from drivestack.tracking.tracker import Tracker, build_tracker
from tests.tracking.result_rows import TRACKING_CONFIGS


def _boxes(t_ns: int, labels: list[ObjectClass]) -> Boxes3D:
    """``(N, 7)`` boxes 5 m apart, one per label, in the ego frame at ``t_ns``."""
    n = len(labels)
    arr = [[10.0 + 5.0 * i, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0] for i in range(n)]
    return Boxes3D.from_array7(
        np.reshape(arr, (n, 7)), "ego", t_ns, score=np.full(n, 0.9), label=[int(c) for c in labels]
    )


def _car_tracker() -> Tracker:
    return build_tracker(TrackerConfig(classes={"car": ClassTrackerConfig()}))


def test_untracked_detections_are_counted_and_warned_about_once() -> None:
    tracker = _car_tracker()
    C, T, B = ObjectClass.CAR, ObjectClass.TRUCK, ObjectClass.BARRIER
    with pytest.warns(UserWarning, match=r"labelled truck are not tracked.*tracked: car"):
        tracker.step(_boxes(0, [C, T, T]))
    assert tracker.last_dropped_detections == 2
    assert tracker.dropped_detections_by_label == {"truck": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same label again: no second warning
        tracker.step(_boxes(100_000_000, [T, C]))
        tracker.step(_boxes(200_000_000, [C]))
    assert tracker.last_dropped_detections == 0
    assert tracker.dropped_detections_by_label == {"truck": 3}
    with pytest.warns(UserWarning, match=r"labelled barrier are not tracked"):
        tracker.step(_boxes(300_000_000, [B, T]))
    assert tracker.dropped_detections_by_label == {"truck": 4, "barrier": 1}
    # reset clears the counts (the warnings stay one per tracker)
    tracker.reset()
    assert tracker.last_dropped_detections == 0 and tracker.dropped_detections_by_label == {}


def test_tracked_detections_are_not_counted() -> None:
    tracker = _car_tracker()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tracker.step(_boxes(0, [ObjectClass.CAR, ObjectClass.CAR]))
        tracker.step(_boxes(100_000_000, []))
    assert tracker.last_dropped_detections == 0 and tracker.dropped_detections_by_label == {}


def test_shipped_lidar_tracker_tracks_trucks() -> None:
    tracker = Tracker(TRACKING_CONFIGS / "lidar_stack.yaml")
    assert set(tracker.cfg.classes) == {"car", "pedestrian", "cyclist", "truck"}
    assert tracker.cfg.classes["truck"].motion == tracker.cfg.classes["car"].motion
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(3):
            out = tracker.step(_boxes(k * 100_000_000, [ObjectClass.TRUCK]), SE3.identity())
    assert tracker.last_dropped_detections == 0
    assert out.boxes.label.tolist() == [int(ObjectClass.TRUCK)] and len(set(out.track_id)) == 1


def test_a_shallow_copy_is_an_independent_tracker() -> None:
    """copy.copy shared the class trackers: stepping the copy aged the original's tracks and
    moved its clock, so the original then refused its own next frame."""
    import copy

    tracker = _car_tracker()
    tracker.step(_boxes(0, [ObjectClass.CAR]))
    other = copy.copy(tracker)
    other.step(_boxes(100_000_000, [ObjectClass.CAR]))
    other.step(_boxes(200_000_000, [ObjectClass.CAR]))
    tracks = tracker.step(_boxes(100_000_000, [ObjectClass.CAR]))
    assert tracks.age.tolist() == [2]
