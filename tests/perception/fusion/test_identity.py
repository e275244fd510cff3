"""Neighbouring tracks: image-box identity continuity restores swapped LiDAR associations,
and the camera does not keep a track alive right beside one a 3D detection updated."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.perception.fusion.association import project_to_image
from drivestack.perception.fusion.fused_tracking import CameraFrame, FusedTracker, FusionConfig
from drivestack.perception.fusion.identity import continuity_swaps
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass
from drivestack.tracking.config import ClassTrackerConfig, LifecycleConfig, TrackerConfig
from drivestack.tracking.tracker import Tracker, build_tracker
from tests.perception.fusion.test_association import front_camera

PED = int(ObjectClass.PEDESTRIAN)
PERIOD_NS = 100_000_000
CAM = front_camera()
NAN4 = [np.nan] * 4


def test_exchanged_boxes_are_swapped_back() -> None:
    prev = np.array([[0.0, 0, 10, 10], [20, 0, 30, 10]])
    cur = prev[::-1].copy()  # each track now holds the other's box
    centres = np.array([[10.0, 0.0], [10.0, 1.0]])
    assert continuity_swaps(prev, cur, centres, 2.0, 0.2) == [(0, 1)]
    assert continuity_swaps(prev, prev, centres, 2.0, 0.2) == []  # continuous: keep
    assert continuity_swaps(prev, cur, centres, 0.5, 0.2) == []  # too far apart to confuse
    assert continuity_swaps(prev, cur, centres, 0.0, 0.2) == []  # disabled
    unknown = cur.copy()
    unknown[1] = np.nan  # no camera-confirmed detection for track 1 this frame
    assert continuity_swaps(prev, unknown, centres, 2.0, 0.2) == []


def test_the_gain_must_exceed_the_margin() -> None:
    prev = np.array([[0.0, 0, 10, 10], [20, 0, 30, 10]])
    # each new box overlaps the other's previous box by 6 px: IoU 60 / 140 with it, 0 with its
    # own; the exchanged pairing gains 2 * 3 / 7 = 0.857
    cur = np.array([[16.0, 0, 26, 10], [4, 0, 14, 10]])
    assert continuity_swaps(prev, cur, np.zeros((2, 2)), 2.0, 0.85) == [(0, 1)]
    assert continuity_swaps(prev, cur, np.zeros((2, 2)), 2.0, 0.86) == []


def test_both_tracks_must_prefer_the_exchange() -> None:
    prev = np.array([[0.0, 0, 10, 10], [20, 0, 30, 10]])
    # both new boxes lie on track 0's old box: IoU(prev0, cur0) = 70 / 130, IoU(prev0, cur1) =
    # 90 / 110; the exchange gains 0.28 but track 1's old box overlaps neither new box
    cur = np.array([[3.0, 0, 13, 10], [1, 0, 11, 10]])
    assert continuity_swaps(prev, cur, np.zeros((2, 2)), 2.0, 0.2) == []


def test_each_track_swaps_at_most_once_and_shapes_are_checked() -> None:
    prev = np.array([[0.0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]])
    cur = np.array([[20.0, 0, 30, 10], [0, 0, 10, 10], [20, 0, 30, 10]])
    pairs = continuity_swaps(prev, cur, np.zeros((3, 2)), 2.0, 0.2)
    assert pairs == [(0, 1)]
    with pytest.raises(ValueError, match="row counts differ"):
        continuity_swaps(prev, cur[:2], np.zeros((3, 2)), 2.0, 0.2)


# Two pedestrians 15 m ahead walk towards each other (lateral, 0.4 m per frame) and turn back
# when 0.6 m apart; the constant-velocity predictions overshoot, so the LiDAR tracker hands
# each one's detection to the other's track. Their image boxes move smoothly throughout.
A_Y = [0.0, 0.4, 0.8, 1.2, 0.8, 0.4, 0.0]
B_Y = [3.0, 2.6, 2.2, 1.8, 2.2, 2.6, 3.0]


def _truth(frame: int) -> np.ndarray:
    return np.array(
        [[15.0, A_Y[frame], 0.85, 0.6, 0.5, 1.7, 0.0], [15.0, B_Y[frame], 0.85, 0.6, 0.5, 1.7, 0.0]]
    )


def _lidar(frame: int) -> Boxes3D:
    return Boxes3D.from_array7(
        _truth(frame), "ego", frame * PERIOD_NS, score=np.full(2, 5.0), label=np.full(2, PED)
    )


def _camera(timestamp_ns: int) -> CameraFrame:
    xyxy, _ = project_to_image(_truth(timestamp_ns // PERIOD_NS), CAM)
    dets = Detections2D(xyxy, CAM.frame, timestamp_ns, score=np.full(2, 0.9), label=np.full(2, PED))
    return CameraFrame({"front": dets}, {"front": CAM})


def _tracker() -> Tracker:
    cfg = ClassTrackerConfig(lifecycle=LifecycleConfig(min_hits=1, max_age=2))
    return build_tracker(TrackerConfig(classes={"pedestrian": cfg}))


def _id_of_a(stage: Tracker | FusedTracker) -> list[int]:
    """The track id output on pedestrian A (the one starting at y = 0) in each frame."""
    stage.reset()
    ids = []
    for frame in range(len(A_Y)):
        tracks = stage.step(_lidar(frame))
        y = tracks.boxes.center_m[:, 1]
        ids.append(int(tracks.track_id[np.argmin(np.abs(y - A_Y[frame]))]))
    return ids


def test_lidar_tracker_swaps_the_neighbours() -> None:
    ids = _id_of_a(_tracker())
    assert ids[0] == ids[3] and ids[4] != ids[3]  # the premise of the next test


def test_camera_continuity_restores_the_identities() -> None:
    cfg = FusionConfig(identity_swap_radius_m=2.0)
    ids = _id_of_a(FusedTracker(_tracker(), cfg, _camera))
    assert len(set(ids)) == 1
    disabled = _id_of_a(FusedTracker(_tracker(), FusionConfig(identity_swap_radius_m=0.0), _camera))
    assert disabled[4] != disabled[3]


def test_overlapping_previous_boxes_cannot_tell_who_is_who() -> None:
    # one person behind the other: previous boxes [0, 10] and [2, 12] overlap with IoU 80 / 120
    prev = np.array([[0.0, 0, 10, 10], [2, 0, 12, 10]])
    cur = prev[::-1].copy()
    assert continuity_swaps(prev, cur, np.zeros((2, 2)), 2.0, 0.2) == [(0, 1)]
    assert continuity_swaps(prev, cur, np.zeros((2, 2)), 2.0, 0.2, max_mutual_iou=0.6) == []
    assert continuity_swaps(prev, cur, np.zeros((2, 2)), 2.0, 0.2, max_mutual_iou=0.7) == [(0, 1)]


def _pair_outputs_a(b_y_m: float, coast_isolation_m: float) -> list[bool]:
    """Pedestrian A (y = 0) and B (y = ``b_y_m``) stand 15 m ahead; the LiDAR misses A in
    frame 3, the camera sees both. Whether A is output in each frame."""
    truth = np.array(
        [[15.0, 0.0, 0.85, 0.6, 0.5, 1.7, 0.0], [15.0, b_y_m, 0.85, 0.6, 0.5, 1.7, 0.0]]
    )

    def lidar(frame: int) -> Boxes3D:
        rows = truth[1:] if frame == 3 else truth
        n = rows.shape[0]
        return Boxes3D.from_array7(
            rows, "ego", frame * PERIOD_NS, score=np.full(n, 5.0), label=np.full(n, PED)
        )

    def camera(timestamp_ns: int) -> CameraFrame:
        xyxy, _ = project_to_image(truth, CAM)
        dets = Detections2D(
            xyxy, CAM.frame, timestamp_ns, score=np.full(2, 0.9), label=np.full(2, PED)
        )
        return CameraFrame({"front": dets}, {"front": CAM})

    life = LifecycleConfig(min_hits=1, max_age=1, output_coast_frames=0)
    tracker = build_tracker(
        TrackerConfig(classes={"pedestrian": ClassTrackerConfig(lifecycle=life)})
    )
    fused = FusedTracker(
        tracker,
        FusionConfig(coast_isolation_m=coast_isolation_m, identity_swap_radius_m=0.0),
        camera,
    )
    fused.reset()
    out = []
    for frame in range(5):
        y = fused.step(lidar(frame)).boxes.center_m[:, 1]
        out.append(bool(np.any(np.abs(y) < 0.2)))
    return out


def test_camera_does_not_keep_a_track_alive_beside_an_updated_one() -> None:
    assert _pair_outputs_a(1.0, 0.0) == [True] * 5  # camera-only frame 3
    assert _pair_outputs_a(1.0, 1.5) == [True, True, True, False, True]  # B is 1 m away
    assert _pair_outputs_a(3.0, 1.5) == [True] * 5  # B is 3 m away: A is kept alive


def test_an_exchange_keeps_each_identity_s_own_score_history() -> None:
    """A's detections score 5, B's 1, each raised by 1 as camera-confirmed. In frame 4 the
    LiDAR hands A's detection to B's row and B's to A's; the exchange gives each identity its
    own history plus the score of the detection its row now holds: A 6 x 5 = 30, B 2 x 5 = 10
    (swapping the sums after this frame's scores were added gave A 4 x 6 + 2 = 26, B 14)."""
    fused = FusedTracker(_tracker(), FusionConfig(identity_swap_radius_m=2.0), _camera)
    fused.reset()
    for frame in range(5):
        dets = _lidar(frame)
        tracks = fused.step(
            Boxes3D.from_array7(
                _truth(frame),
                "ego",
                frame * PERIOD_NS,
                score=np.array([5.0, 1.0]),
                label=dets.label,
            )
        )
    a = int(tracks.track_id[np.argmin(np.abs(tracks.boxes.center_m[:, 1] - A_Y[4]))])
    state = fused.tracker.class_trackers[PED].state
    score_sum = dict(zip(state.track_id.tolist(), state.score_sum.tolist(), strict=True))
    (b,) = set(score_sum) - {a}
    assert score_sum[a] == pytest.approx(30.0)
    assert score_sum[b] == pytest.approx(10.0)
    np.testing.assert_array_equal(np.sort(state.hits), [5, 5])
