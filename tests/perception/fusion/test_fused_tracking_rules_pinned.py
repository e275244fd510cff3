"""Fused-tracking rules a mutation review found unguarded: the camera stamps' tolerance (default,
boundary, both signs), stale cameras keeping the frame's class list and report counts, the
camera-agreement count, config numbers, the isolation radii's strict comparison and which
tracks count as older; painting's box edges, dtypes, distortion, depth limit, cloud-to-ego
transform and NaN tolerance; the scores of camera-kept tracks (hits bonus, score floor) and
the mean score of camera-confirmed births."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from drivestack.config.strict import ConfigValueError
from drivestack.core.transforms import SE3
from drivestack.perception.fusion.association import project_to_image
from drivestack.perception.fusion.fused_tracking import CameraFrame, FusedTracker, FusionConfig
from drivestack.perception.fusion.painting import CAMERA_SEEN, paint_points
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.tracking.config import ClassTrackerConfig, LifecycleConfig, TrackerConfig
from drivestack.tracking.tracker import build_tracker
from tests.perception.fusion.test_association import front_camera
from tests.perception.fusion.test_fused_rules_pinned import BOX
from tests.perception.fusion.test_fused_rules_pinned import _camera as _parked_camera
from tests.perception.fusion.test_fused_tracking import (
    CAM,
    CAR,
    PERIOD_NS,
    _camera,
    _lidar,
    _tracker,
)

CYCLIST = int(ObjectClass.CYCLIST)
PED = int(ObjectClass.PEDESTRIAN)
LEFT = front_camera("left", yaw_rad=0.6)


def _camera_offset_by(offset_ns: int) -> FusedTracker:
    """A fused tracker whose camera frames are stamped ``offset_ns`` after the LiDAR's."""

    def source(timestamp_ns: int) -> CameraFrame:
        frame = _camera(timestamp_ns)
        dets = frame.detections["front"]
        return replace(
            frame, detections={"front": replace(dets, timestamp_ns=timestamp_ns + offset_ns)}
        )

    return FusedTracker(_tracker(), FusionConfig(), source)


@pytest.mark.parametrize(
    ("offset_ns", "used"),
    [
        (0, True),
        (50_000_000, True),  # exactly the default 0.05 s: used
        (-50_000_000, True),  # 0.05 s early: used
        (50_000_001, False),  # 1 ns past the default: stale
        (-50_000_001, False),  # early by as much counts as well (|offset|)
        (60_000_000, False),
        (-60_000_000, False),
    ],
)
def test_default_camera_time_tolerance_is_0_05_s_either_way(offset_ns: int, used: bool) -> None:
    """Rule: a camera stamped more than max_time_offset_s (default 0.05 s) before *or* after
    the 3D detections is left out and counted; at exactly 0.05 s it is used."""
    assert FusionConfig().max_time_offset_s == 0.05
    fused = _camera_offset_by(offset_ns)
    fused.step(_lidar(1))  # one car in view, its exact projection in the camera
    assert fused.last_confirmed.tolist() == [used]
    assert fused.stale_camera_frames == ({} if used else {"front": 1})
    # a confirmed car gets the +1 bonus (5 -> 6); a stale camera changes nothing (5)
    assert fused.last_detection_score.tolist() == [6.0 if used else 5.0]


def test_stale_and_silent_camera_frames_accumulate() -> None:
    """Rule: stale_camera_frames and silent_camera_frames count frames (since reset): two
    frames of a 2 s late camera count 2; two frames of a camera reporting nothing count 2."""
    late = _camera_offset_by(2 * 10**9)
    late.step(_lidar(0))
    late.step(_lidar(1))
    assert late.stale_camera_frames == {"front": 2}

    def silent(timestamp_ns: int) -> CameraFrame:
        return CameraFrame(
            {"front": Detections2D(np.zeros((0, 4)), CAM.frame, timestamp_ns)}, {"front": CAM}
        )

    quiet = FusedTracker(_tracker(), FusionConfig(), silent)
    quiet.step(_lidar(0))
    quiet.step(_lidar(1))
    assert quiet.silent_camera_frames == {"front": 2}


def _with_stale_left_camera(box: np.ndarray, label: int, labels: frozenset[int]) -> FusedTracker:
    """Front camera on time, no detection of the tracked classes but 2 reported; a second
    camera ("left") stamped 2 s late, so it is dropped from the frame."""

    def source(timestamp_ns: int) -> CameraFrame:
        front = Detections2D(np.zeros((0, 4)), CAM.frame, timestamp_ns)
        late = Detections2D(np.zeros((0, 4)), LEFT.frame, timestamp_ns + 2 * 10**9)
        return CameraFrame(
            {"front": front, "left": late},
            {"front": CAM, "left": LEFT},
            labels,
            {"front": 2, "left": 2},
        )

    life = LifecycleConfig(min_hits=1, max_age=1)
    name = ObjectClass(label).name.lower()
    tracker = build_tracker(TrackerConfig(classes={name: ClassTrackerConfig(lifecycle=life)}))
    fused = FusedTracker(tracker, FusionConfig(unconfirmed_score_penalty=2.0), source)
    fused.step(Boxes3D.from_array7(box, "ego", 0, score=np.full(1, 5.0), label=np.full(1, label)))
    assert fused.stale_camera_frames == {"left": 1}
    return fused


def test_dropping_a_stale_camera_keeps_the_others_report_counts() -> None:
    """Rule: after a stale camera is dropped, ``n_reported`` still applies to the others: the
    front camera reported 2 detections (of other classes), so an unmatched car in its view is
    penalised 5 - 2 = 3, and the front camera is not counted silent."""
    car = np.array([[20.0, 3.0, 0.8, 4.0, 1.8, 1.6, 0.0]])
    fused = _with_stale_left_camera(car, CAR, frozenset({CAR, CYCLIST}))
    assert fused.last_detection_score.tolist() == [3.0]
    assert fused.silent_camera_frames == {}


def test_dropping_a_stale_camera_keeps_the_detected_classes() -> None:
    """Rule: after a stale camera is dropped, ``detected_labels`` still applies: the cameras
    detect cars only, so an unmatched cyclist in view keeps its score 5 (not 5 - 2)."""
    cyclist = np.array([[20.0, 3.0, 0.8, 1.8, 0.6, 1.7, 0.0]])
    fused = _with_stale_left_camera(cyclist, CYCLIST, frozenset({CAR}))
    assert fused.last_detection_score.tolist() == [5.0]
    assert fused.camera_agreement == {"in_view": 0, "confirmed": 0}


def test_camera_agreement_counts_only_confirmations_in_view() -> None:
    """Rule: camera_agreement["confirmed"] counts confirmed detections *among* those in view of
    a camera that detects their class. An unlabelled 2D detection confirms the car (bonus
    5 -> 6), but the cameras detect pedestrians only: in_view 0, so confirmed 0 too."""

    def unlabelled(timestamp_ns: int) -> CameraFrame:
        dets = _camera(timestamp_ns).detections["front"]
        plain = Detections2D(dets.box_xyxy_px, dets.frame, dets.timestamp_ns, score=dets.score)
        return CameraFrame({"front": plain}, {"front": CAM}, frozenset({PED}))

    fused = FusedTracker(_tracker(), FusionConfig(), unlabelled)
    fused.step(_lidar(0))
    assert fused.last_confirmed.tolist() == [True]
    assert fused.last_detection_score.tolist() == [6.0]
    assert fused.camera_agreement == {"in_view": 0, "confirmed": 0}


@pytest.mark.parametrize(
    "key", ["camera_coast_score_penalty", "unconfirmed_score_penalty", "identity_swap_margin"]
)
@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_score_terms_must_be_finite(key: str, value: float) -> None:
    """Rule: every score term of FusionConfig is a finite number (a NaN coast penalty would
    give camera-kept tracks NaN scores), refused at its key."""
    with pytest.raises(ConfigValueError) as info:
        FusionConfig(**{key: value})
    assert info.value.key == key


def _bev_box(x: float) -> np.ndarray:
    return np.array([[x, 0.0, 0.8, 4.0, 1.8, 1.6, 0.0]])


def test_isolation_radius_is_strict() -> None:
    """Rule (birth_isolation_m, coast_isolation_m): a track is near another only when its BEV
    centre is *closer* than the radius: 1.5 m apart with radius 1.5 is not near; radius 1.51
    is; radius 0 disables."""
    near = FusedTracker._near_tracks
    assert near(_bev_box(0.0), _bev_box(1.5), 1.5).tolist() == [False]
    assert near(_bev_box(0.0), _bev_box(1.5), 1.51).tolist() == [True]
    assert near(_bev_box(0.0), _bev_box(0.0), 0.0).tolist() == [False]


def _birth_beside_a_second_frame_track(birth_isolation_m: float) -> int:
    """Car A (15, 0) from frame 0; car B (15, 2.5) appears in frame 1, 2.5 m from A (A is 2
    frames old then). Both seen by the camera. B's hits after frame 1."""

    def truth(frame: int) -> np.ndarray:
        rows = [[15.0, 0.0, 0.8, 4.0, 1.8, 1.6, 0.0]]
        if frame >= 1:
            rows.append([15.0, 2.5, 0.8, 4.0, 1.8, 1.6, 0.0])
        return np.array(rows)

    def camera(timestamp_ns: int) -> CameraFrame:
        xyxy, _ = project_to_image(truth(timestamp_ns // PERIOD_NS), CAM)
        n = len(xyxy)
        dets = Detections2D(
            xyxy, CAM.frame, timestamp_ns, score=np.full(n, 0.9), label=np.full(n, CAR)
        )
        return CameraFrame({"front": dets}, {"front": CAM})

    fused = FusedTracker(_tracker(), FusionConfig(birth_isolation_m=birth_isolation_m), camera)
    fused.reset()
    for frame in range(2):
        rows = truth(frame)
        n = len(rows)
        fused.step(
            Boxes3D.from_array7(
                rows, "ego", frame * PERIOD_NS, score=np.full(n, 5.0), label=np.full(n, CAR)
            )
        )
    s = fused.tracker.class_trackers[CAR].state
    centre_y = fused.tracker.class_trackers[CAR].model.boxes(s.x)[:, 1]
    (b,) = np.flatnonzero(np.abs(centre_y - 2.5) < 0.5)
    assert int(s.age[b]) == 1  # B was born this frame
    return int(s.hits[b])


def test_a_two_frame_old_track_makes_a_birth_beside_it_a_duplicate() -> None:
    """Rule: a camera-confirmed birth within birth_isolation_m of any older live track (age
    >= 2, i.e. not born this frame) is left to min_hits: B, 2.5 m from the 2-frame-old A,
    keeps hits 1 at radius 4 m; at radius 2 m (2.5 m is not closer) it gets min_hits = 3."""
    assert _birth_beside_a_second_frame_track(4.0) == 1
    assert _birth_beside_a_second_frame_track(2.0) == 3


def test_a_camera_confirmed_birth_is_kept_alive_by_the_camera_at_once() -> None:
    """Rule: a track born from a camera-confirmed detection has hits = min_hits, so it counts
    as confirmed (hits >= min_hits) and the camera keeps it alive from the next frame: LiDAR
    in frame 0 only, score 0.9; camera-only frames 1, 2 score 0.9 - 0.5 * 1 = 0.4 and
    0.9 - 0.5 * 2 = -0.1."""
    scores = _parked_car_run(LifecycleConfig(min_hits=3, max_age=1), range(1), 3)
    assert scores == [pytest.approx([0.9]), pytest.approx([0.4]), pytest.approx([-0.1])]


def test_the_camera_does_not_keep_an_unconfirmed_track_alive() -> None:
    """Rule (step 3): only confirmed tracks (hits >= min_hits) are kept alive by the camera.
    Without camera-confirmed births the car born in frame 0 has 1 hit of 3; the LiDAR misses
    it from frame 1: not output (frame 1), dead after max_age 1 (frame 2)."""
    life = LifecycleConfig(min_hits=3, max_age=1)
    assert _parked_car_run(life, range(1), 3, births_confirmed=False) == [
        pytest.approx([0.9]),
        [],
        [],
    ]


def _outputs_x(
    lidar_rows: list[np.ndarray], camera_rows: list[np.ndarray], fusion: FusionConfig
) -> list[list[float]]:
    """Forward positions (x, rounded to 0.1 m) of the cars output per frame: LiDAR boxes
    ``lidar_rows[f]``, the camera's 2D boxes the exact projections of ``camera_rows[f]``."""

    def camera(timestamp_ns: int) -> CameraFrame:
        xyxy, _ = project_to_image(camera_rows[timestamp_ns // PERIOD_NS], CAM)
        n = len(xyxy)
        dets = Detections2D(
            xyxy, CAM.frame, timestamp_ns, score=np.full(n, 0.9), label=np.full(n, CAR)
        )
        return CameraFrame({"front": dets}, {"front": CAM})

    fused = FusedTracker(_tracker(), fusion, camera)
    fused.reset()
    out = []
    for frame, rows in enumerate(lidar_rows):
        n = len(rows)
        dets = Boxes3D.from_array7(
            rows, "ego", frame * PERIOD_NS, score=np.full(n, 5.0), label=np.full(n, CAR)
        )
        tracks = fused.step(dets)
        out.append(sorted(np.round(tracks.boxes.center_m[:, 0], 1).tolist()))
    return out


def _car(x: float, y: float = 0.0) -> np.ndarray:
    return np.array([[x, y, 0.8, 4.0, 1.8, 1.6, 0.0]])


def test_camera_only_evidence_uses_track_iou() -> None:
    """Rule: a coasting track is matched to a free 2D detection at ``track_iou`` (not
    ``detection_iou``). In frame 3 the LiDAR misses the parked car at (15, 0) and the camera
    box is that of a car 1 m to the side: IoU 0.294 with the predicted track's box (pinhole
    projections: x [572.5, 669.5] vs [518.7, 616.9] px, same rows). Kept at track_iou 0.25,
    not at 0.3 (whatever detection_iou is)."""
    lidar = [_car(15.0)] * 3 + [np.zeros((0, 7))]
    camera = [_car(15.0)] * 3 + [_car(15.0, 1.0)]
    kept = _outputs_x(lidar, camera, FusionConfig(detection_iou=0.2, track_iou=0.25))
    lost = _outputs_x(lidar, camera, FusionConfig(detection_iou=0.2, track_iou=0.3))
    assert kept[3] == [15.0] and lost[3] == []


def test_a_2d_detection_that_confirmed_a_box_does_not_keep_another_track_alive() -> None:
    """Rule (step 3): only the 2D detections *not used in step 1* can keep a coasting track
    alive. Car B (25, 0) stands behind car A (15, 0): B's image box lies inside A's (IoU
    0.319 >= track_iou 0.25). In frame 3 the LiDAR and the camera see A only: A's 2D box
    confirms A, so B is not kept alive (not output)."""
    both = np.concatenate([_car(15.0), _car(25.0)])
    lidar = [both] * 3 + [_car(15.0)]
    camera = [both] * 3 + [_car(15.0)]
    out = _outputs_x(lidar, camera, FusionConfig(track_iou=0.25))
    assert out[2] == [15.0, 25.0]
    assert out[3] == [15.0]


# --- painting ------------------------------------------------------------------------------
# front_camera: ego (x, y, z) -> pixel u = 621 - 700 y / x, v = 187.5 - 700 (z - 1.5) / x


def _one_car_box(xyxy: list[float]) -> Detections2D:
    return Detections2D(
        np.array([xyxy]), CAM.frame, 0, score=np.array([0.8]), label=np.array([CAR])
    )


def test_a_point_on_the_right_or_top_edge_is_painted() -> None:
    """Rule: x1 <= u <= x2 and y1 <= v <= y2 (all edges inclusive). Ego (10, 0, 1.5) is pixel
    (621, 187.5): on the right edge x2 = 621 and the top edge y1 = 187.5 of the box."""
    cloud = PointCloud(np.array([[10.0, 0.0, 1.5]]), "ego", 0)
    painted = paint_points(cloud, _one_car_box([560.0, 187.5, 621.0, 250.0]), CAM, [CAR])
    np.testing.assert_allclose(painted.attributes["score_car"], [0.8])


def test_painted_attributes_are_float32_scores_and_uint8_seen() -> None:
    """Rule: one float32 ``score_<name>`` attribute per class, ``camera_seen`` uint8."""
    cloud = PointCloud(np.array([[10.0, 0.0, 1.5], [-10.0, 0.0, 1.5]]), "ego", 0)
    painted = paint_points(cloud, _one_car_box([600.0, 150.0, 700.0, 220.0]), CAM, [CAR, PED])
    assert painted.attributes["score_car"].dtype == np.float32
    assert painted.attributes["score_pedestrian"].dtype == np.float32
    assert painted.attributes[CAMERA_SEEN].dtype == np.uint8
    np.testing.assert_allclose(painted.attributes["score_car"], [0.8, 0.0])
    assert painted.attributes[CAMERA_SEEN].tolist() == [1, 0]


def test_painting_applies_the_lens_distortion() -> None:
    """Rule: points are projected with the calibration's distortion. Ego (10, -3, 1.5) has
    normalised coordinates (0.3, 0): undistorted u = 621 + 700 * 0.3 = 831; with k1 = 0.5,
    x_d = 0.3 (1 + 0.5 * 0.09) = 0.3135, u = 840.45, inside the box [835, 845] (831 is not)."""
    cal = replace(CAM, distortion=np.array([0.5, 0.0, 0.0, 0.0, 0.0]))
    cloud = PointCloud(np.array([[10.0, -3.0, 1.5]]), "ego", 0)
    box = _one_car_box([835.0, 150.0, 845.0, 220.0])
    np.testing.assert_allclose(paint_points(cloud, box, cal, [CAR]).attributes["score_car"], [0.8])
    np.testing.assert_allclose(paint_points(cloud, box, CAM, [CAR]).attributes["score_car"], [0.0])


def test_points_beyond_max_depth_are_not_seen_nor_painted() -> None:
    """Rule: max_depth_m limits the frustum: points 10 m and 30 m ahead (both at pixel
    (621, 187.5), inside the box); with max_depth_m 20 only the first is seen and painted."""
    cloud = PointCloud(np.array([[10.0, 0.0, 1.5], [30.0, 0.0, 1.5]]), "ego", 0)
    box = _one_car_box([600.0, 150.0, 700.0, 220.0])
    painted = paint_points(cloud, box, CAM, [CAR], max_depth_m=20.0)
    np.testing.assert_allclose(painted.attributes["score_car"], [0.8, 0.0])
    assert painted.attributes[CAMERA_SEEN].tolist() == [1, 0]


def test_a_rotated_cloud_in_any_frame_is_moved_by_ego_from_cloud() -> None:
    """Rule: with ``ego_from_cloud`` the cloud may be in any frame and is mapped cloud -> ego
    -> camera (camera_from_ego @ ego_from_cloud). A sensor turned 90 degrees left: its point
    (0, -10, 1.5) is ego (10, 0, 1.5), pixel (621, 187.5), inside the box."""
    ego_from_sensor = SE3.from_xyz_yaw(np.zeros(3), np.pi / 2)
    cloud = PointCloud(np.array([[0.0, -10.0, 1.5]]), "velodyne_turned", 0)
    box = _one_car_box([600.0, 150.0, 700.0, 220.0])
    painted = paint_points(cloud, box, CAM, [CAR], ego_from_cloud=ego_from_sensor)
    np.testing.assert_allclose(painted.attributes["score_car"], [0.8])
    assert painted.attributes[CAMERA_SEEN].tolist() == [1]


def test_a_nan_time_tolerance_refuses_every_stamp() -> None:
    """Rule: the stamps must be at most max_time_offset_s apart; a NaN tolerance satisfies no
    offset (not even 0), so it is refused rather than silently accepting any stamp."""
    cloud = PointCloud(np.array([[10.0, 0.0, 1.5]]), "ego", 0)
    with pytest.raises(ValueError, match="max_time_offset_s=nan"):
        paint_points(
            cloud,
            _one_car_box([600.0, 150.0, 700.0, 220.0]),
            CAM,
            [CAR],
            max_time_offset_s=math.nan,
        )


# --- known defects ------------------------------------------------------------------------


def _parked_car_run(
    life: LifecycleConfig, lidar_frames: range, n_frames: int, births_confirmed: bool = True
) -> list[list[float]]:
    """Scores output per frame for the parked car (detection score 0.9), LiDAR in
    ``lidar_frames`` only, camera in every frame; no fusion bonus or penalty."""
    tracker = build_tracker(TrackerConfig(classes={"car": ClassTrackerConfig(lifecycle=life)}))
    fusion = FusionConfig(
        confirmed_score_bonus=0.0,
        unconfirmed_score_penalty=0.0,
        camera_coast_score_penalty=0.5,
        camera_births_confirmed=births_confirmed,
    )
    fused = FusedTracker(tracker, fusion, _parked_camera)
    fused.reset()
    out = []
    for frame in range(n_frames):
        rows = BOX if frame in lidar_frames else np.zeros((0, 7))
        n = len(rows)
        dets = Boxes3D.from_array7(
            rows, "ego", frame * PERIOD_NS, score=np.full(n, 0.9), label=np.full(n, CAR)
        )
        out.append(fused.step(dets).boxes.score.tolist())
    return out


def test_camera_kept_scores_respect_the_trackers_score_floor() -> None:
    """LifecycleConfig.min_score_floor: output scores are clamped from below. Camera-only
    frames 1, 2, 3 score 0.9 - 0.5 * run = 0.4, -0.1, -0.6, so with floor 0: 0.4, 0, 0."""
    life = LifecycleConfig(min_hits=3, max_age=1, min_score_floor=0.0)
    scores = _parked_car_run(life, range(4), 7)
    assert scores[4:] == [pytest.approx([0.4]), pytest.approx([0.0]), pytest.approx([0.0])]


def test_camera_kept_score_keeps_the_hits_bonus() -> None:
    """The car has 6 hits by frame 3 (camera-confirmed birth: 3, then +1 per frame) and
    last score 0.9; with hits_score_bonus 0.3 its frame-3 output is 0.9 + 1.8 = 2.7. In its
    first camera-only frame (4) the camera evidence must not score it below the LiDAR
    tracker's own coasting output (0.9 - coast penalty 1.0 + 1.8 = 1.7); it outputs 0.4."""
    life = LifecycleConfig(min_hits=3, max_age=1, hits_score_bonus=0.3)
    scores = _parked_car_run(life, range(4), 5)
    assert scores[3] == pytest.approx([2.7])
    assert scores[4][0] >= 1.7


def test_camera_confirmed_birth_keeps_its_mean_score() -> None:
    """min_output_score 0.5, every detection scores 0.9 (mean 0.9 >= 0.5): LiDAR alone outputs
    the car in frames 0-3; fused, the birth's hits jump to 3 with score_sum 0.9, so in frame 1
    the 'mean' is 1.8 / 4 = 0.45 < 0.5 and the car disappears for a frame."""
    life = LifecycleConfig(min_hits=3, max_age=1, min_output_score=0.5)
    lidar = build_tracker(TrackerConfig(classes={"car": ClassTrackerConfig(lifecycle=life)}))
    lidar_out = []
    for frame in range(4):
        dets = Boxes3D.from_array7(
            BOX, "ego", frame * PERIOD_NS, score=np.full(1, 0.9), label=np.full(1, CAR)
        )
        lidar_out.append(len(lidar.step(dets)))
    assert lidar_out == [1, 1, 1, 1]
    fused = [len(s) for s in _parked_car_run(life, range(4), 4)]
    assert fused == [1, 1, 1, 1]
