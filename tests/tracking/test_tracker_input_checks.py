"""Tracker.step input checks: one frame per sequence, no world-frame boxes moved twice, one SE3
pose, increasing timestamps; every check raises before any track state changes."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.tracking.config import ClassTrackerConfig, TrackerConfig
from drivestack.tracking.tracker import Tracker, build_tracker


def _tracker(compensate: bool) -> Tracker:
    return build_tracker(
        TrackerConfig(classes={"car": ClassTrackerConfig()}, ego_motion_compensation=compensate)
    )


def _car(t_ns: int, frame: str = "ego") -> Boxes3D:
    """One car ``(1, 7)`` 10 m ahead in ``frame`` at ``t_ns``."""
    return Boxes3D.from_array7(
        [[10.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]], frame, t_ns, score=[0.9], label=[ObjectClass.CAR]
    )


def _pose(compensate: bool) -> SE3 | None:
    return SE3.identity() if compensate else None


@pytest.mark.parametrize("compensate", [False, True])
def test_the_frame_must_stay_the_same_until_reset(compensate: bool) -> None:
    tracker = _tracker(compensate)
    tracker.step(_car(0, "ego"), _pose(compensate))
    before = copy.deepcopy(tracker.state)
    with pytest.raises(ValueError, match=r"detections\.frame is 'lidar'.*previous steps.*'ego'"):
        tracker.step(_car(100_000_000, "lidar"), _pose(compensate))
    assert tracker.state[int(ObjectClass.CAR)].frame_count == before[1].frame_count
    tracker.reset()
    assert len(tracker.step(_car(0, "lidar"), _pose(compensate))) == 1


@pytest.mark.parametrize("frame", ["world", "map"])
def test_world_frame_boxes_with_compensation_are_refused(frame: str) -> None:
    tracker = _tracker(True)
    with pytest.raises(ValueError, match=rf"detections\.frame is '{frame}', a fixed world frame"):
        tracker.step(_car(0, frame), SE3.identity())
    assert tracker.state[int(ObjectClass.CAR)].frame_count == 0
    # without compensation world-frame boxes are tracked as they are
    assert len(_tracker(False).step(_car(0, frame))) == 1


def test_a_matrix_pose_is_a_type_error_naming_the_argument() -> None:
    tracker = _tracker(True)
    with pytest.raises(
        TypeError, match=r"world_from_frame must be one SE3.*got ndarray.*from_matrix"
    ):
        tracker.step(_car(0), np.eye(4))  # type: ignore[arg-type]
    # also when compensation is off and the pose would be ignored
    with pytest.raises(TypeError, match=r"world_from_frame must be one SE3.*got list"):
        _tracker(False).step(_car(0), [1.0])  # type: ignore[arg-type]


def test_a_batch_of_poses_is_refused() -> None:
    tracker = _tracker(True)
    with pytest.raises(
        ValueError, match=r"world_from_frame must be one SE3, got a batch of shape \(3,\)"
    ):
        tracker.step(_car(0), SE3.identity((3,)))
    assert tracker.state[int(ObjectClass.CAR)].frame_count == 0


@pytest.mark.parametrize(("second_ns", "what"), [(0, "a repeated frame"), (-1, "out of order")])
def test_timestamps_must_increase(second_ns: int, what: str) -> None:
    tracker = _tracker(False)
    tracker.step(_car(0))
    before = copy.deepcopy(tracker.state)
    with pytest.raises(
        ValueError, match=rf"timestamp_ns must increase.*got {second_ns} after 0 \({what}"
    ):
        tracker.step(_car(second_ns))
    after = tracker.state[int(ObjectClass.CAR)]
    assert after.frame_count == 1 and after.hits.tolist() == before[1].hits.tolist()
    assert after.age.tolist() == before[1].age.tolist()
    # reset starts a new sequence at any time
    tracker.reset()
    assert len(tracker.step(_car(0))) == 1
