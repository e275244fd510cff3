"""Fused tracking: camera evidence keeps a track alive through LiDAR misses and confirms births."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.fusion.association import project_to_image
from drivestack.perception.fusion.fused_tracking import CameraFrame, FusedTracker, FusionConfig
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass
from drivestack.tracking.config import ClassTrackerConfig, LifecycleConfig, TrackerConfig
from drivestack.tracking.tracker import Tracker, build_tracker
from tests.perception.fusion.test_association import front_camera

CAR = int(ObjectClass.CAR)
PERIOD_NS = 100_000_000
CAM = front_camera()
LIDAR_MISSES = {6, 7}  # frames where the LiDAR detector misses car A
B_FROM = 4  # car B appears (seen by both sensors) at this frame


def _truth(frame: int) -> np.ndarray:
    a = [15.0 + 1.0 * frame, 0.0, 0.8, 4.0, 1.8, 1.6, 0.0]
    rows = [a]
    if frame >= B_FROM:
        rows.append([30.0, -4.0, 0.8, 4.0, 1.8, 1.6, 0.0])
    return np.array(rows)


def _lidar(frame: int) -> Boxes3D:
    truth = _truth(frame)
    keep = np.ones(len(truth), dtype=bool)
    if frame in LIDAR_MISSES:
        keep[0] = False
    rows = truth[keep]
    return Boxes3D.from_array7(
        rows, "ego", frame * PERIOD_NS, score=np.full(len(rows), 5.0), label=np.full(len(rows), CAR)
    )


def _camera(timestamp_ns: int) -> CameraFrame:
    xyxy, _ = project_to_image(_truth(timestamp_ns // PERIOD_NS), CAM)
    dets = Detections2D(
        xyxy, CAM.frame, timestamp_ns, score=np.full(len(xyxy), 0.9), label=np.full(len(xyxy), CAR)
    )
    return CameraFrame({"front": dets}, {"front": CAM})


def _tracker(ego_motion_compensation: bool = False) -> Tracker:
    life = LifecycleConfig(min_hits=3, max_age=1, output_coast_frames=0)
    return build_tracker(
        TrackerConfig(
            classes={"car": ClassTrackerConfig(lifecycle=life)},
            ego_motion_compensation=ego_motion_compensation,
        )
    )


#: a fixed ego pose in a world frame (for trackers with ego-motion compensation)
WORLD_FROM_EGO = SE3.from_xyz_yaw(np.array([100.0, -50.0, 2.0]), 1.0)


def _run(stage: Tracker | FusedTracker) -> list[dict[int, float]]:
    stage.reset()
    out = []
    pose = WORLD_FROM_EGO if stage.cfg.ego_motion_compensation else None
    for frame in range(11):
        tracks = stage.step(_lidar(frame), pose)
        out.append(
            dict(zip(tracks.track_id.tolist(), tracks.boxes.center_m[:, 1].tolist(), strict=True))
        )
    return out


def _ids_of_car_a(out: list[dict[int, float]]) -> list[set[int]]:
    return [{tid for tid, y in frame.items() if abs(y) < 1.0} for frame in out]


def test_lidar_only_loses_the_car_and_gives_it_a_new_id() -> None:
    a = _ids_of_car_a(_run(_tracker()))
    assert a[6] == set() and a[7] == set()
    assert a[5] and a[8] == set()  # the reborn track is not confirmed yet
    assert a[10] and a[10] != a[5]


@pytest.mark.parametrize("compensated", [False, True])
def test_camera_keeps_the_track_alive_and_its_id(compensated: bool) -> None:
    fused = FusedTracker(_tracker(compensated), FusionConfig(), _camera)
    a = _ids_of_car_a(_run(fused))
    ids = set().union(*a[2:])
    assert len(ids) == 1
    assert all(a[f] == ids for f in range(2, 11))  # output in every frame, misses included
    assert fused.last_detection_index.shape == (2,)


def test_camera_only_evidence_is_bounded() -> None:
    fused = FusedTracker(_tracker(), FusionConfig(max_camera_only_frames=1), _camera)
    a = _ids_of_car_a(_run(fused))
    assert a[6] and a[7] == set()  # one camera-only frame, then the LiDAR tracker's rules


@pytest.mark.parametrize("compensated", [False, True])
def test_camera_confirms_a_birth_at_once(compensated: bool) -> None:
    def b_seen(out: list[dict[int, float]]) -> list[bool]:
        return [any(abs(y + 4.0) < 1.0 for y in frame.values()) for frame in out]

    lidar_only = b_seen(_run(_tracker()))
    fused = b_seen(_run(FusedTracker(_tracker(compensated), FusionConfig(), _camera)))
    assert lidar_only[B_FROM : B_FROM + 3] == [False, False, True]  # min_hits = 3
    assert fused[B_FROM : B_FROM + 3] == [True, True, True]
    no_births = b_seen(
        _run(FusedTracker(_tracker(), FusionConfig(camera_births_confirmed=False), _camera))
    )
    assert no_births[B_FROM] is False


def test_scores_follow_camera_confirmation() -> None:
    fused = FusedTracker(
        _tracker(), FusionConfig(confirmed_score_bonus=1.0, unconfirmed_score_penalty=2.0), _camera
    )
    fused.reset()
    ghost = Boxes3D.from_array7(
        np.array(
            [
                [15.0, 0.0, 0.8, 4.0, 1.8, 1.6, 0.0],
                [20.0, 3.0, 0.8, 4.0, 1.8, 1.6, 0.0],
                [-20.0, 0.0, 0.8, 4.0, 1.8, 1.6, 0.0],
            ]
        ),
        "ego",
        0,
        score=np.full(3, 5.0),
        label=np.full(3, CAR),
    )
    tracks = fused.step(ghost)  # frame 0: camera sees only car A (at x = 15)
    np.testing.assert_array_equal(fused.last_confirmed, [True, False, False])
    # the re-scored detections are what offline whole-track rules read (kitti_run)
    np.testing.assert_array_equal(fused.last_detection_score, [6.0, 3.0, 5.0])
    by_x = dict(
        zip(
            np.round(tracks.boxes.center_m[:, 0]).tolist(), tracks.boxes.score.tolist(), strict=True
        )
    )
    assert (
        by_x[15.0] == 6.0 and by_x[20.0] == 3.0 and by_x[-20.0] == 5.0
    )  # behind the camera: unchanged


def test_no_penalty_for_a_class_the_camera_does_not_detect() -> None:
    """A cyclist in view without a 2D match is penalised only if the camera detects cyclists."""
    cyclist = int(ObjectClass.CYCLIST)
    box = Boxes3D.from_array7(
        np.array([[20.0, 3.0, 0.8, 1.8, 0.6, 1.7, 0.0]]),
        "ego",
        0,
        score=np.full(1, 5.0),
        label=np.full(1, cyclist),
    )
    life = LifecycleConfig(min_hits=1, max_age=1)
    cfg = TrackerConfig(classes={"cyclist": ClassTrackerConfig(lifecycle=life)})
    no_dets = Detections2D(np.zeros((0, 4)), CAM.frame, 0)
    scores = {}
    for labels in (None, frozenset({CAR}), frozenset({CAR, cyclist})):

        def source(t: int, labels: frozenset[int] | None = labels) -> CameraFrame:
            # the camera reported detections this frame (of other classes, cut from `dets`)
            return CameraFrame({"front": no_dets}, {"front": CAM}, labels, {"front": 3})

        fused = FusedTracker(
            build_tracker(cfg), FusionConfig(unconfirmed_score_penalty=2.0), source
        )
        scores[labels] = fused.step(box).boxes.score.tolist()
    assert scores[None] == [3.0]  # every class detected: in view, unconfirmed
    assert scores[frozenset({CAR})] == [5.0]  # the camera cannot see cyclists: unchanged
    assert scores[frozenset({CAR, cyclist})] == [3.0]


def test_kitti_fusion_config_yaml(tmp_path: Path) -> None:
    from drivestack.config import load_yaml_config
    from drivestack.core.errors import ConfigError

    repo = Path(__file__).resolve().parents[3]
    cfg = load_yaml_config(FusionConfig, repo / "configs" / "perception" / "fusion_kitti_rrc.yaml")
    # the YAML states the defaults, plus the fused-mode result-file rules (the KITTI tracker's)
    assert replace(cfg, fused_offline={}) == FusionConfig()
    bad = tmp_path / "bad.yaml"
    bad.write_text("birth_isolation: 3\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: field birth_isolation: unknown key"):
        load_yaml_config(FusionConfig, bad)


def test_a_camera_that_reported_nothing_penalises_nothing() -> None:
    """A frame in which the camera reported no detection at all (a dropped frame, an empty
    file) is no evidence against the boxes in its view: scores unchanged, the frame counted;
    a camera that reported detections of other classes only still penalises."""
    box = Boxes3D.from_array7(
        np.array([[20.0, 3.0, 0.8, 4.0, 1.8, 1.6, 0.0]]),
        "ego",
        0,
        score=np.full(1, 5.0),
        label=np.full(1, CAR),
    )
    life = LifecycleConfig(min_hits=1, max_age=1)
    cfg = TrackerConfig(classes={"car": ClassTrackerConfig(lifecycle=life)})
    no_dets = Detections2D(np.zeros((0, 4)), CAM.frame, 0)
    scores, silent = {}, {}
    for reported in (None, {"front": 0}, {"front": 2}, {"rear": 2}):

        def source(t: int, reported: dict[str, int] | None = reported) -> CameraFrame:
            return CameraFrame({"front": no_dets}, {"front": CAM}, None, reported)

        fused = FusedTracker(
            build_tracker(cfg), FusionConfig(unconfirmed_score_penalty=2.0), source
        )
        key = str(reported)
        fused.step(box)
        scores[key] = fused.last_detection_score.tolist()
        silent[key] = dict(fused.silent_camera_frames)
    assert scores["None"] == [5.0] and silent["None"] == {"front": 1}  # no detections at all
    assert scores["{'front': 0}"] == [5.0] and silent["{'front': 0}"] == {"front": 1}
    assert scores["{'front': 2}"] == [3.0] and silent["{'front': 2}"] == {}  # saw other things
    assert scores["{'rear': 2}"] == [5.0]  # (a count for another camera says nothing of front)
    fused.reset()
    assert fused.silent_camera_frames == {}


def test_detections_in_another_frame_than_the_calibrations_are_refused() -> None:
    """Map-frame boxes sent through camera_from_ego landed anywhere in the image, lost their
    camera confirmation and were marked down (score 5 -> 4) without a word."""
    boxes = _lidar(0)
    in_map = boxes.transformed(WORLD_FROM_EGO, "map")
    fused = FusedTracker(_tracker(), FusionConfig(), _camera)
    with pytest.raises(ValueError, match=r"in frame 'map', the camera calibrations map 'ego' "):
        fused.step(in_map)
    assert fused.step(boxes) is not None  # ego (and lidar) frames are taken
    named = FusedTracker(_tracker(), FusionConfig(), _camera, ego_frame="base_link")
    with pytest.raises(ValueError, match=r"calibrations map 'base_link'"):
        named.step(boxes)


def test_camera_agreement_counts_in_view_and_confirmed_detections() -> None:
    """The figure that tells a camera feed out of step with the LiDAR: with the true feed
    every in-view car is confirmed; with a feed whose cars stand 3 m to the side (another
    moment's or another camera's) few are; reset starts the counts again."""
    fused = FusedTracker(_tracker(), FusionConfig(), _camera)
    _run(fused)
    in_view = sum(len(_truth(f)) - (f in LIDAR_MISSES) for f in range(11))
    assert fused.camera_agreement == {"in_view": in_view, "confirmed": in_view}

    def late(timestamp_ns: int) -> CameraFrame:  # stamped now, each car 3 m to the side
        truth = _truth(timestamp_ns // PERIOD_NS)
        truth[:, 1] += 3.0
        xyxy, _ = project_to_image(truth, CAM)
        n = len(xyxy)
        dets = Detections2D(
            xyxy, CAM.frame, timestamp_ns, score=np.full(n, 0.9), label=np.full(n, CAR)
        )
        return CameraFrame({"front": dets}, {"front": CAM})

    shifted = FusedTracker(_tracker(), FusionConfig(), late)
    _run(shifted)
    assert shifted.camera_agreement["in_view"] == in_view
    assert shifted.camera_agreement["confirmed"] < in_view // 2
    shifted.reset()
    assert shifted.camera_agreement == {"in_view": 0, "confirmed": 0}
