"""Stack: the missing-ego-pose policy is validated, frames are refused before any stage runs,
and a sequence is tracked in one frame (world or ego), never a mix (walkthrough items 2, 6, 7)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.frames import EGO
from drivestack.pipeline import MISSING_EGO_POSE_POLICIES, Stack, StackConfig, build_stack
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.sensor_frame import SensorFrame
from tests._stack_helpers import STEP_NS, car_tracker, moving_frame


class CountingDetector:
    """One car 10 m ahead in the ego frame; counts the frames it has seen."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def reset(self) -> None:
        self.seen.clear()

    def step(self, frame: SensorFrame) -> Boxes3D:
        self.seen.append(frame.timestamp_ns)
        box = np.array([[10.0, 0.0, 0.8, 4.5, 1.8, 1.5, 0.0]])
        return Boxes3D.from_array7(box, EGO, frame.timestamp_ns, label=[1], score=[0.9])


# -- item 2 --------------------------------------------------------------------------------------
def test_policies_are_the_yaml_literal():
    assert MISSING_EGO_POSE_POLICIES == ("skip", "track_in_ego_frame")
    assert StackConfig("p").missing_ego_pose == "skip"


@pytest.mark.parametrize("bad", ["whatever", "", "Skip"])
def test_stack_refuses_an_unknown_policy(bad):
    with pytest.raises(
        ValueError,
        match=rf"Stack missing_ego_pose must be one of 'skip', 'track_in_ego_frame', got {bad!r}",
    ):
        Stack(CountingDetector(), car_tracker(), missing_ego_pose=bad)
    with pytest.raises(TypeError, match=r"must be one of .* got NoneType"):
        Stack(CountingDetector(), car_tracker(), missing_ego_pose=None)  # type: ignore[arg-type]


def test_build_stack_refuses_an_unknown_policy_before_loading(tmp_path):
    with pytest.raises(ValueError, match=r"build_stack missing_ego_pose must be one of .*'bogus'"):
        build_stack(tmp_path / "absent.yaml", missing_ego_pose="bogus")
    with pytest.raises(ValueError, match=r"got ''"):
        build_stack(tmp_path / "absent.yaml", missing_ego_pose="")


# -- item 6 --------------------------------------------------------------------------------------
def test_out_of_order_frame_is_refused_before_perception():
    det = CountingDetector()
    stack = Stack(det, car_tracker())
    stack.step(moving_frame(1))
    stack.step(moving_frame(2))
    for k, what in ((2, "a repeated frame"), (1, "out of order")):
        with pytest.raises(ValueError, match=rf"got {k * STEP_NS} after {2 * STEP_NS} \({what}"):
            stack.step(moving_frame(k))
    assert det.seen == [STEP_NS, 2 * STEP_NS]  # the refused frames never reached the detector
    stack.step(moving_frame(3))
    stack.reset()
    stack.step(moving_frame(0))  # a new sequence after reset()


def test_missing_pose_under_skip_is_refused_before_perception():
    det = CountingDetector()
    stack = Stack(det, car_tracker())
    stack.step(moving_frame(0))
    with pytest.raises(DataError, match="no ego pose for this frame"):
        stack.step(moving_frame(1, posed=False))
    assert det.seen == [0]
    out = stack.step(moving_frame(2))  # the stack goes on with the next posed frame, no reset
    assert out.notes == ()


def test_pose_is_not_needed_without_compensation():
    det = CountingDetector()
    stack = Stack(det, car_tracker(compensate=False))
    outs = [stack.step(moving_frame(k, posed=k != 1)) for k in range(3)]
    assert [o.notes for o in outs] == [(), (), ()]
    assert outs[2].tracks is not None and outs[2].tracks.track_id.tolist() == [0]


# -- item 7 --------------------------------------------------------------------------------------
def test_tracker_resets_when_pose_availability_changes():
    stack = Stack(CountingDetector(), car_tracker(), missing_ego_pose="track_in_ego_frame")
    outs = [stack.step(moving_frame(k, posed=k not in (2, 3))) for k in range(6)]
    assert [o.notes for o in outs] == [
        (),
        (),
        (
            "no ego pose: tracked in the ego frame",
            "tracker reset: no ego pose, tracking in the ego frame",
        ),
        ("no ego pose: tracked in the ego frame",),
        ("tracker reset: ego pose available again, tracking in the world frame",),
        (),
    ]
    # one object, seen every frame: its track lives through each run of frames in one frame
    # (ids restart at each reset), never associated across the world/ego switch
    for out in outs:
        assert out.tracks is not None and out.tracks.track_id.tolist() == [0]
    ages = [int(o.tracks.age[0]) for o in outs if o.tracks is not None]
    assert ages == [1, 2, 1, 2, 1, 2]


def test_a_sequence_without_poses_is_tracked_in_the_ego_frame_without_resets():
    stack = Stack(CountingDetector(), car_tracker(), missing_ego_pose="track_in_ego_frame")
    outs = [stack.step(moving_frame(k, posed=False)) for k in range(3)]
    assert [o.notes for o in outs] == [("no ego pose: tracked in the ego frame",)] * 3
    assert [int(o.tracks.age[0]) for o in outs if o.tracks is not None] == [1, 2, 3]
