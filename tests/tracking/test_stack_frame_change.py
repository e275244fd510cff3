"""The stack resets its tracker when the detector's output frame changes (a log whose LiDAR
extrinsics start later), instead of the tracker refusing every later frame."""

from __future__ import annotations

import numpy as np

from drivestack.pipeline import Stack
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.sensor_frame import SensorFrame
from drivestack.tracking.config import ClassTrackerConfig, LifecycleConfig, TrackerConfig
from drivestack.tracking.tracker import Tracker


class FramedDetector:
    """One car 10 m ahead per step, in the frames given in turn."""

    def __init__(self, frames: list[str]) -> None:
        self.frames = frames
        self.calls = 0

    def reset(self) -> None:
        self.calls = 0

    def step(self, frame: SensorFrame) -> Boxes3D:
        name = self.frames[self.calls]
        self.calls += 1
        box = np.array([[10.0, 0.0, 0.8, 4.5, 1.8, 1.5, 0.0]])
        return Boxes3D.from_array7(box, name, frame.timestamp_ns, label=[1], score=[0.9])


def test_tracker_is_reset_and_noted_when_the_detections_frame_changes() -> None:
    lifecycle = LifecycleConfig(min_hits=1, max_age=2)
    tracker = Tracker(TrackerConfig(classes={"car": ClassTrackerConfig(lifecycle=lifecycle)}))
    stack = Stack(FramedDetector(["lidar", "lidar", "ego", "ego"]), tracker)
    outs = [stack.step(SensorFrame(k * 100_000_000)) for k in range(4)]
    assert [o.notes for o in outs[:2]] == [(), ()]
    assert outs[2].notes == ("tracker reset: detections moved from frame 'lidar' to 'ego'",)
    assert outs[3].notes == ()
    assert outs[1].tracks is not None and outs[2].tracks is not None
    assert outs[2].tracks.boxes.frame == "ego"
    # a new track after the reset (ids restart), kept on the next step
    assert outs[2].tracks.track_id.tolist() == outs[3].tracks.track_id.tolist() == [0]
