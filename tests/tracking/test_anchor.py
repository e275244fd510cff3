"""Anchor-point measurements (drivestack.tracking.anchor): a partly seen vehicle's box keeps
its visible faces and takes the track's size, so its centre - and the filter's speed - does
not move whenever the visible part changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.config.strict import ConfigError
from drivestack.core.transforms import SE3
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.tracks import Tracks
from drivestack.tracking.anchor import anchored_boxes, axes_aligned_to
from drivestack.tracking.config import (
    AnchorConfig,
    AssociationConfig,
    ClassTrackerConfig,
    LifecycleConfig,
    MotionConfig,
    TrackerConfig,
    load_tracker_config,
)
from drivestack.tracking.tracker import Tracker, build_tracker

ORIGIN = np.zeros(2)


def test_seen_from_behind_the_rear_face_stays() -> None:
    # an 8 m box at x = 10 seen from the origin: its rear face at x = 6 stays, the 10 m
    # reference size puts the centre at 6 + 5 = 11; across, no face is visible: y stays 0
    out = anchored_boxes(
        np.array([[10.0, 0.0, 1.0, 8.0, 2.0, 3.0, 0.0]]), np.array([[10.0, 2.5]]), ORIGIN
    )
    np.testing.assert_allclose(out, [[11.0, 0.0, 1.0, 10.0, 2.5, 3.0, 0.0]])


def test_seen_from_the_side_the_near_side_face_stays() -> None:
    # box at (0, 10), 2 m wide: its near side face at y = 9 stays; width 3 -> centre y 10.5;
    # no end face visible: x stays
    out = anchored_boxes(
        np.array([[0.0, 10.0, 1.0, 8.0, 2.0, 3.0, 0.0]]), np.array([[10.0, 3.0]]), ORIGIN
    )
    np.testing.assert_allclose(out[0, :2], [0.0, 10.5])


def test_seen_from_a_diagonal_the_near_corner_stays() -> None:
    # box at (10, 10) yaw 0, 4 x 2: the corner (8, 9) nearest the origin stays; a 5 x 3
    # reference puts the centre at (8 + 2.5, 9 + 1.5)
    out = anchored_boxes(
        np.array([[10.0, 10.0, 1.0, 4.0, 2.0, 1.5, 0.0]]), np.array([[5.0, 3.0]]), ORIGIN
    )
    np.testing.assert_allclose(out[0, :2], [10.5, 10.5])


def test_a_turned_box_keeps_its_face_in_its_own_frame() -> None:
    # heading +y at (0, 10), 8 m long: its rear face (y = 6) faces the origin; 10 m -> y = 11
    out = anchored_boxes(
        np.array([[0.0, 10.0, 1.0, 8.0, 2.0, 3.0, np.pi / 2]]), np.array([[10.0, 2.0]]), ORIGIN
    )
    np.testing.assert_allclose(out[0, :2], [0.0, 11.0], atol=1e-12)


def test_axes_turn_to_the_track_with_length_and_width_swapped() -> None:
    boxes = np.array([[0.0, 0.0, 0.0, 2.5, 5.4, 1.5, -np.pi / 2 + 0.1]])
    out = axes_aligned_to(boxes, np.array([0.0]))
    np.testing.assert_allclose(out[0, 3:5], [5.4, 2.5])
    np.testing.assert_allclose(out[0, 6], 0.1, atol=1e-12)
    # within 45 degrees (modulo 180) nothing changes, a flipped heading included
    same = axes_aligned_to(boxes, np.array([np.pi / 2]))
    np.testing.assert_array_equal(same, boxes)


def _car_tracker(anchor: bool = True) -> Tracker:
    """A car tracker as the closed-loop stack's (motion noise), anchors on or off."""
    cfg = ClassTrackerConfig(
        motion=MotionConfig(
            process_position_std_m=1.0,
            process_velocity_std_mps=6.0,
            measurement_position_std_m=0.3,
            process_size_std_m=3.16,
            process_yaw_std_rad=3.16,
        ),
        association=AssociationConfig(metric="distance_bev", threshold=-3.0),
        lifecycle=LifecycleConfig(min_hits=1),
        anchor=AnchorConfig(enabled=anchor, size_window_frames=10),
    )
    return build_tracker(TrackerConfig(classes={"car": cfg}))


def _step(tracker: Tracker, k: int, box7: list[float]) -> Tracks:
    """Step ``tracker`` with one car box in the ego frame at ``k`` x 0.1 s."""
    boxes = Boxes3D.from_array7(
        [box7], "ego", int(k * 1e8), score=[0.9], label=[int(ObjectClass.CAR)]
    )
    return tracker.step(boxes)


def _parked_car_speeds_mps(anchor: bool) -> np.ndarray:
    """Tracked speeds of a parked 4.5 m car 20 m ahead whose box is, every other sweep, only
    its 2.5 m rear part (rear face at 17.75 m, centre 19.0 m instead of 20.0 m)."""
    tracker = _car_tracker(anchor)
    speeds = []
    for k in range(30):
        x, length = (20.0, 4.5) if k % 2 == 0 else (19.0, 2.5)
        out = _step(tracker, k, [x, 0.0, 0.8, length, 1.8, 1.5, 0.0])
        speeds.append(float(np.hypot(*out.boxes.velocity_mps[0])))
    return np.array(speeds)


def test_a_parked_car_seen_in_part_every_other_sweep_stands_still() -> None:
    plain = _parked_car_speeds_mps(anchor=False)
    anchored = _parked_car_speeds_mps(anchor=True)
    assert plain[5:].min() > 1.0  # the 1 m centre jumps read as about 1.4 m/s, every sweep
    # every measurement puts the rear face at 17.75 m: nothing moves
    assert anchored.max() < 1e-9


def test_anchor_config_from_yaml(tmp_path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("classes:\n  car:\n    anchor: {enabled: true, size_window_frames: 5}\n")
    cfg = load_tracker_config(path)
    assert cfg.classes["car"].anchor == AnchorConfig(enabled=True, size_window_frames=5)
    path.write_text("classes:\n  car:\n    anchor: {enabled: true, size_window_frames: 0}\n")
    with pytest.raises(ConfigError, match="size_window_frames"):
        load_tracker_config(path)


def test_a_track_born_across_its_car_turns_to_the_car_s_axes() -> None:
    # the first box is fitted across the parked car (1.8 long, 4.5 wide, yaw 90 degrees), the
    # rest along it: once most of the track's boxes say so, its length is the long side
    tracker = _car_tracker()
    out = _step(tracker, 0, [20.0, 0.0, 0.8, 1.8, 4.5, 1.5, np.pi / 2])
    for k in range(1, 6):
        out = _step(tracker, k, [20.0, 0.0, 0.8, 4.5, 1.8, 1.5, 0.0])
    np.testing.assert_allclose(out.boxes.size_m[0, :2], [4.5, 1.8], atol=0.05)
    assert abs(np.sin(out.boxes.yaw_rad[0])) < 0.05  # along x, either way


@pytest.mark.parametrize(("anchor", "cos_yaw"), [(True, 1.0), (False, -1.0)])
def test_a_moving_track_s_yaw_points_along_its_velocity(anchor: bool, cos_yaw: float) -> None:
    # a car driving +x at 10 m/s whose boxes carry yaw 180 degrees (an axis); anchored, the
    # track's yaw becomes its heading (0), as the planners' lane matching needs
    tracker = _car_tracker(anchor)
    for k in range(8):
        out = _step(tracker, k, [10.0 + 1.0 * k, 0.0, 0.8, 4.5, 1.8, 1.5, np.pi])
    assert out.boxes.velocity_mps[0, 0] > 8.0
    np.testing.assert_allclose(np.cos(out.boxes.yaw_rad[0]), cos_yaw, atol=1e-6)


@pytest.mark.parametrize("model", ["cv", "ctrv"])
def test_a_moving_car_seen_in_part_keeps_its_heading(model: str) -> None:
    # a lead car driving +x at 10 m/s: 1 s of full 4.5 x 1.9 m boxes, then 2 s of its rear
    # part only, 1.7 m long and 1.9 m wide (wider than long, yaw still 0). Its track keeps
    # heading +x and driving +x (a standing track with such boxes would be turned)
    cfg = ClassTrackerConfig(
        motion=MotionConfig(model=model),  # type: ignore[arg-type]
        association=AssociationConfig(metric="giou_3d", threshold=-0.2, method="hungarian"),
        anchor=AnchorConfig(enabled=True, size_window_frames=10),
    )
    tracker = build_tracker(TrackerConfig(classes={"car": cfg}))
    for k in range(30):
        x = 15.0 + 1.0 * k
        box = (
            [x, 0.0, 0.8, 4.5, 1.9, 1.5, 0.0] if k < 10 else [x - 1.4, 0.0, 0.8, 1.7, 1.9, 1.5, 0.0]
        )
        out = _step(tracker, k, box)
    assert abs(np.sin(out.boxes.yaw_rad[0])) < 0.1  # along x
    assert out.boxes.velocity_mps[0, 0] > 8.0 and abs(out.boxes.velocity_mps[0, 1]) < 1.0


def test_a_creeping_ctrv_track_is_not_turned_sideways() -> None:
    # a car creeping +x at 0.8 m/s (under the heading speed), seen from behind: boxes 1.5 m
    # long and 1.8 m wide. A standing CV track with such boxes is turned by 90 degrees; a
    # CTRV track's yaw is its direction of travel, and the turn swung its velocity to +y
    # (0.73 m/s), then the measurements, aligned to the wrong axis, filtered it towards 0
    cfg = ClassTrackerConfig(
        motion=MotionConfig(model="ctrv", measurement_position_std_m=0.1),
        association=AssociationConfig(metric="distance_bev", threshold=-2.0),
        lifecycle=LifecycleConfig(min_hits=1, max_age=3),
        anchor=AnchorConfig(enabled=True),
    )
    tracker = build_tracker(TrackerConfig(classes={"car": cfg}))
    for k in range(12):
        out = _step(tracker, k + 1, [10.0 + 0.08 * k, 0.0, 0.8, 1.5, 1.8, 1.5, 0.0])
        if k >= 3:
            np.testing.assert_allclose(out.boxes.velocity_mps[0], [0.8, 0.0], atol=0.05)
            assert abs(np.sin(out.boxes.yaw_rad[0])) < 1e-6


def _perpendicular_parked_car_yaws(frame_fixed: bool) -> np.ndarray:
    """Track yaws of a car parked across the road 6 m to the left, passed by the ego at
    10 m/s, tracked in the ego frame (the identity as its pose, as the stack passes for a
    frame without one): relative to the ego the car moves -x at 10 m/s."""
    tracker = build_tracker(Path("configs/tracking/lidar_sim_stack.yaml"))
    yaws = []
    for k in range(8):
        boxes = Boxes3D.from_array7(
            [[20.0 - 1.0 * k, 6.0, 0.8, 4.5, 1.8, 1.5, np.pi / 2]],
            "ego",
            int((k + 1) * 1e8),
            score=[0.9],
            label=[int(ObjectClass.CAR)],
        )
        out = tracker.step(boxes, SE3.identity(), frame_fixed=frame_fixed)
        yaws.append(out.boxes.yaw_rad[0])
    return np.array(yaws)


def test_no_heading_from_a_velocity_relative_to_a_moving_frame() -> None:
    # told the frame is not fixed, the anchored track keeps the boxes' axis (across the road)
    kept = _perpendicular_parked_car_yaws(frame_fixed=False)
    np.testing.assert_allclose(np.abs(np.sin(kept)), 1.0, atol=1e-6)
    # taken as fixed, its relative velocity (-x) became its heading: the parked car "drove"
    # back along the ego's path
    turned = _perpendicular_parked_car_yaws(frame_fixed=True)
    np.testing.assert_allclose(np.cos(turned[3:]), -1.0, atol=1e-6)


def test_a_deep_copied_tracker_resumes_identically() -> None:
    # the module's snapshot rule: copy.deepcopy(tracker), not its per-class states (the next
    # free id lives on the tracker: a restored state gave a new car id 2 instead of 1)
    import copy

    def frame(k: int) -> list[list[float]]:
        rows = [[10.0 + k, 0.0, 0.8, 4.5, 1.8, 1.5, 0.0]]
        return rows + ([[-20.0, 5.0 + 0.1 * k, 0.8, 4.5, 1.8, 1.5, 1.0]] if k >= 5 else [])

    def step_all(tracker: Tracker, ks: range) -> list[list[int]]:
        ids = []
        for k in ks:
            rows = frame(k)
            boxes = Boxes3D.from_array7(
                rows, "ego", int((k + 1) * 1e8), score=[0.9] * len(rows), label=[1] * len(rows)
            )
            ids.append(tracker.step(boxes).track_id.tolist())
        return ids

    tracker = _car_tracker()
    step_all(tracker, range(4))
    snapshot = copy.deepcopy(tracker)
    first = step_all(tracker, range(4, 8))
    assert step_all(snapshot, range(4, 8)) == first
    assert first[-1] == [0, 1]


def test_a_tracker_pickled_before_the_time_step_warning_resumes() -> None:
    import pickle

    tracker = _car_tracker()
    _step(tracker, 1, [20.0, 0.0, 0.8, 4.5, 1.8, 1.5, 0.0])
    state = tracker.__dict__
    del state["_warned_time_step"]  # as a tracker pickled before the attribute existed
    again = pickle.loads(pickle.dumps(tracker))
    assert len(_step(again, 2, [20.0, 0.0, 0.8, 4.5, 1.8, 1.5, 0.0])) == 1
