"""A plug-in stage of the Stack that returns the wrong type is a TypeError naming the stage
(walkthrough item 12), not an AttributeError inside the Stack."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.frames import EGO
from drivestack.pipeline import Stack
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.sensor_frame import SensorFrame

ROW = np.array([[10.0, 0.0, 0.8, 4.5, 1.8, 1.5, 0.0]])


class ArrayDetector:
    """Returns its ``(N, 7)`` boxes as a plain array (the mistake)."""

    def reset(self) -> None:
        pass

    def step(self, frame: SensorFrame) -> np.ndarray:
        return ROW


class BoxesDetector(ArrayDetector):
    def step(self, frame: SensorFrame) -> Boxes3D:  # type: ignore[override]
        return Boxes3D.from_array7(ROW, EGO, frame.timestamp_ns, label=[1], score=[0.9])


class ListTracker:
    """Returns a list instead of ``Tracks``."""

    def reset(self) -> None:
        pass

    def step(self, detections: Boxes3D, world_from_frame: object = None) -> list:
        return []


def test_a_detector_returning_an_array_is_named() -> None:
    stack = Stack(ArrayDetector(), None, {})  # type: ignore[arg-type]
    with pytest.raises(
        TypeError,
        match=r"the detector ArrayDetector.step returned ndarray, expected Boxes3D; build one "
        r"with Boxes3D.from_array7",
    ):
        stack.step(SensorFrame(0))


def test_a_tracker_returning_another_type_is_named() -> None:
    stack = Stack(BoxesDetector(), ListTracker(), {}, missing_ego_pose="track_in_ego_frame")  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=r"the tracker ListTracker.step returned list, expected Tracks"
    ):
        stack.step(SensorFrame(0))


def test_a_detector_returning_boxes_runs() -> None:
    out = Stack(BoxesDetector(), None, {}).step(SensorFrame(0))
    assert len(out.detections) == 1 and out.tracks is None
