"""Forecast cases from the tracker's online output (``eval prediction --pasts tracks``):
hand-built sequences through a real tracker, the online-only rule, matching and counting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.frames import LIDAR
from drivestack.core.transforms import SE3
from drivestack.eval.prediction.cases import CaseSettings, build_cases
from drivestack.eval.prediction.models import MODELS, TRACKER_MODELS
from drivestack.eval.prediction.run import evaluate
from drivestack.eval.prediction.tracked import (
    OnlineTracks,
    kitti_online_tracks,
    run_online_tracker,
    same_cases,
    track_cases,
)
from drivestack.eval.prediction.trajectories import AgentTrajectory, TrajectorySet
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.tracking.config import (
    AssociationConfig,
    ClassTrackerConfig,
    LifecycleConfig,
    TrackerConfig,
)
from drivestack.tracking.tracker import Tracker

DT = 0.1
N_FRAMES = 60
WORLD = "world"
SETTINGS = CaseSettings(history_s=1.0, horizon_s=2.0, stride_s=0.5)
CATALOG = {**MODELS, **TRACKER_MODELS}
LABEL_MODELS = ["stationary", "constant_velocity", "ctrv"]


def _agent(agent_id: str, cls: ObjectClass, frames: np.ndarray, xy: np.ndarray) -> AgentTrajectory:
    """An agent at world centres ``xy (N, 2)`` at ``frames``, heading along its motion."""
    step = np.gradient(xy, axis=0) if len(xy) > 1 else np.zeros_like(xy)
    yaw = np.arctan2(step[:, 1], step[:, 0])
    size = (4.2, 1.8, 1.5) if cls == ObjectClass.CAR else (0.8, 0.6, 1.7)
    boxes = np.column_stack([xy, np.full(len(xy), 0.8), np.tile(size, (len(xy), 1)), yaw])
    return AgentTrajectory(agent_id, cls, frames * DT, boxes, WORLD)


def _recording() -> TrajectorySet:
    """A turning car, a walking pedestrian and a car that appears at frame 12 and brakes
    (coming towards the others)."""
    f = np.arange(N_FRAMES)
    t = f * DT
    turning = np.column_stack([5 + 8 * t, 2 + 0.6 * t**2])
    walker = np.column_stack([12 - 1.3 * t, -5 + 0.2 * t])
    late = f[12:]
    tau = t[12:] - 1.2
    braking = np.column_stack([40 - 6 * tau + 0.5 * tau**2, np.full(len(tau), 6.0)])
    return TrajectorySet(
        "hand",
        "hand",
        WORLD,
        DT,
        "recorded",
        "hand-built",
        (
            _agent("1", ObjectClass.CAR, f, turning),
            _agent("2", ObjectClass.PEDESTRIAN, f, walker),
            _agent("3", ObjectClass.CAR, late, braking),
        ),
    )


def _poses() -> list[SE3]:
    """The sensor driving along x at 5 m/s while turning slowly."""
    return [SE3.from_xyz_yaw([5 * f * DT, 0.3 * f * DT, 1.7], 0.02 * f) for f in range(N_FRAMES)]


def _detections(rec: TrajectorySet, poses: list[SE3]) -> list[Boxes3D]:
    """Each frame's labelled boxes, exactly, in the sensor frame."""
    out = []
    for f, pose in enumerate(poses):
        rows = [(a, np.flatnonzero(np.rint(a.time_s / DT) == f)) for a in rec.agents]
        arr = np.concatenate([a.boxes[r] for a, r in rows]).reshape(-1, 7)
        label = np.concatenate([np.full(len(r), int(a.object_class)) for a, r in rows])
        world = Boxes3D.from_array7(
            arr, WORLD, round(f * DT * 1e9), score=np.ones(len(arr)), label=label
        )
        out.append(world.transformed(pose.inverse(), LIDAR))
    return out


def _perfect_tracker() -> Tracker:
    """Distance association within 2 m, output from the first hit, the matched detection's
    box as output: on exact detections its boxes are the labels."""
    cls = ClassTrackerConfig(
        association=AssociationConfig(
            metric="distance_bev", threshold=-2.0, method="hungarian", gated=True
        ),
        lifecycle=LifecycleConfig(min_hits=1, max_age=2, output_detection_box=True),
    )
    return Tracker(
        TrackerConfig(classes={"car": cls, "pedestrian": cls}, ego_motion_compensation=True)
    )


def test_a_perfect_tracker_on_exact_detections_scores_as_the_label_pasts() -> None:
    rec, poses = _recording(), _poses()
    online = run_online_tracker(_perfect_tracker(), _detections(rec, poses), poses, WORLD)
    tracked = track_cases(rec, online, SETTINGS)
    labelled = build_cases(rec, SETTINGS)
    assert len(tracked) == len(labelled) > 0
    c = tracked.counts
    assert c["missed"] == 0 and c["unmatched_tracks"] == 0
    assert c["scored"] == len(tracked)
    # the same cases, the same figures (cases in another order: compare the means)
    same_t, same_l = same_cases(tracked, labelled)
    assert len(same_t) == len(same_l) == len(labelled)
    by_t = evaluate([tracked], LABEL_MODELS, SETTINGS, catalog=CATALOG)["metrics"]["recorded"]
    by_l = evaluate([labelled], LABEL_MODELS, SETTINGS, catalog=CATALOG)["metrics"]["recorded"]
    for model in LABEL_MODELS:
        for group in ("vehicle", "pedestrian", "all"):
            for motion in ("moving", "all"):
                a, b = by_t[model][group][motion], by_l[model][group][motion]
                assert a["cases"] == b["cases"]
                for key in ("ADE@1s", "ADE@2s", "FDE@2s", "miss_rate"):
                    if b[key] is None:
                        assert a[key] is None
                    else:
                        assert a[key] == pytest.approx(b[key], abs=1e-9), (model, group, key)


def test_the_tracker_velocity_model_uses_the_trackers_velocity() -> None:
    rec, poses = _recording(), _poses()
    online = run_online_tracker(_perfect_tracker(), _detections(rec, poses), poses, WORLD)
    tracked = track_cases(rec, online, SETTINGS)
    assert tracked.tracker_velocity_mps is not None
    # the walker moves at (-1.3, 0.2) m/s over ground: the Kalman velocity, not the ego's
    walker = tracked.group == "pedestrian"
    np.testing.assert_allclose(
        tracked.tracker_velocity_mps[walker], np.tile([-1.3, 0.2], (walker.sum(), 1)), atol=0.05
    )
    models = ["constant_velocity", "tracker_velocity"]
    report = evaluate([tracked], models, SETTINGS, catalog=CATALOG)["metrics"]["recorded"]
    cv, tv = report["constant_velocity"]["all"]["all"], report["tracker_velocity"]["all"]["all"]
    assert tv["cases"] == cv["cases"] and tv["ADE@2s"] != cv["ADE@2s"]
    with pytest.raises(ValueError, match="needs cases from tracker pasts"):
        evaluate([build_cases(rec, SETTINGS)], ["tracker_velocity"], SETTINGS, catalog=CATALOG)


def test_a_forecast_at_an_anchor_does_not_change_when_later_detections_change() -> None:
    rec, poses = _recording(), _poses()
    dets = _detections(rec, poses)
    later = [
        d
        if f <= 25
        else Boxes3D.from_array7(
            d.to_array7() + np.array([0.7, -0.4, 0, 0, 0, 0, 0.3]),
            d.frame,
            d.timestamp_ns,
            score=d.score,
            label=d.label,
        )
        for f, d in enumerate(dets)
    ]
    a = track_cases(rec, run_online_tracker(_perfect_tracker(), dets, poses, WORLD), SETTINGS)
    b = track_cases(rec, run_online_tracker(_perfect_tracker(), later, poses, WORLD), SETTINGS)
    at_a, at_b = a.past_t_s[:, -1], b.past_t_s[:, -1]
    for anchor in (1.0, 1.5, 2.0, 2.5):
        ra = np.flatnonzero(np.isclose(at_a, anchor))
        rb = np.flatnonzero(np.isclose(at_b, anchor))
        assert len(ra) == len(rb) > 0
        assert a.tracker_velocity_mps is not None and b.tracker_velocity_mps is not None
        np.testing.assert_array_equal(a.past_boxes[ra], b.past_boxes[rb])
        np.testing.assert_array_equal(a.tracker_velocity_mps[ra], b.tracker_velocity_mps[rb])
    # ... while a later anchor's does
    ra, rb = (np.flatnonzero(np.isclose(x, 3.0)) for x in (at_a, at_b))
    assert not np.array_equal(a.past_boxes[ra], b.past_boxes[rb])


def _online(rows: list[tuple[int, int, ObjectClass, tuple[float, float]]]) -> OnlineTracks:
    """Tracks from ``(frame, id, class, world xy)`` rows."""
    frame = np.array([r[0] for r in rows], dtype=np.int64)
    boxes = np.array([[x, y, 0.8, 4.0, 1.8, 1.5, 0.0] for *_, (x, y) in rows])
    return OnlineTracks(
        frame,
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([int(r[2]) for r in rows], dtype=np.int64),
        boxes,
        np.zeros((len(rows), 2)),
        WORLD,
    )


def test_matching_and_counting_at_one_anchor() -> None:
    """Frames 0..30, one anchor with a whole horizon of truth (frame 10; stride 1 s, history
    and horizon 1 s): every kind of outcome once."""
    f = np.arange(31)
    settings = CaseSettings(history_s=1.0, horizon_s=1.0, stride_s=1.0)
    car, ped = ObjectClass.CAR, ObjectClass.PEDESTRIAN
    rec = TrajectorySet(
        "count",
        "count",
        WORLD,
        DT,
        "recorded",
        "hand-built",
        (
            _agent("A", car, f, np.column_stack([f * 0.5, np.zeros(31)])),  # scored
            _agent("B", car, f, np.column_stack([f * 0.5, np.full(31, 10.0)])),  # young track
            _agent("C", ped, f[:15], np.column_stack([np.full(15, 3.0), np.full(15, -8.0)])),
            _agent("D", car, f, np.column_stack([np.full(31, 50.0), np.full(31, 50.0)])),  # missed
            _agent(
                "E", ObjectClass.TRAFFIC_CONE, f, np.zeros((31, 2)) + 70.0
            ),  # outside the groups
        ),
    )
    rows: list[tuple[int, int, ObjectClass, tuple[float, float]]] = []
    for k in range(0, 11):
        rows.append((k, 1, car, (k * 0.5 + 0.3, 0.4)))  # follows A from frame 0
    for k in range(6, 11):
        rows.append((k, 2, car, (k * 0.5, 10.5)))  # follows B from frame 6: too young at 10
    rows.append((10, 3, ped, (3.2, -8.1)))  # on C, which leaves the labels at frame 14
    rows.append((10, 4, car, (-30.0, 5.0)))  # nothing there: a false positive
    rows += [(k, 7, car, (-20.0, -20.0)) for k in range(11)]  # a ghost from frame 0 on
    rows.append((10, 5, ped, (5.0, 0.0)))  # a pedestrian near car A: another group, unmatched
    rows.append((20, 6, car, (10.0, 0.0)))  # a new track on A at frame 20
    cases = track_cases(rec, _online(rows), settings)
    assert cases.counts == {
        "anchors": 4,  # 0, 10, 20, 30 (no truth after 30)
        "labels_with_future": 4 + 3 + 3,  # A-D at 0; C leaves at 14: A, B, D at 10 and 20
        "scored": 1,  # A at 10
        "matched_short_history": 1 + 1 + 1,  # A at 0, B at 10, A at 20
        "missed": 3 + 1 + 2,  # B, C, D at 0; D at 10; B, D at 20
        "output_tracks": 2 + 6 + 1,
        "matched_no_label_future": 1,  # C at 10
        "unmatched_tracks": 1 + 3,  # the ghost at 0; at 10 it, track 4, the pedestrian
        "unmatched_with_history": 1,  # the ghost at 10
        "tracks_outside_class_groups": 0,
    }
    assert len(cases) == 1
    assert cases.truth_id is not None and cases.truth_id.tolist() == ["A"]
    np.testing.assert_allclose(cases.past_boxes[0, :, 0], np.arange(11) * 0.5 + 0.3)
    np.testing.assert_allclose(cases.future_boxes[0, :, 0], np.arange(11, 21) * 0.5)
    assert cases.truth_anchor_xy is not None
    np.testing.assert_allclose(cases.truth_anchor_xy[0], [5.0, 0.0])
    assert cases.moving.tolist() == [True]  # 5 m from the labelled centre at the anchor


def test_tracks_in_another_frame_are_refused() -> None:
    tracks = OnlineTracks(
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros((0, 7)),
        np.zeros((0, 2)),
        "map",
    )
    with pytest.raises(ValueError, match="tracks in frame 'map'"):
        track_cases(_recording(), tracks, SETTINGS)


def test_a_tracker_without_ego_motion_compensation_is_refused() -> None:
    cfg = TrackerConfig(classes={"car": ClassTrackerConfig()}, ego_motion_compensation=False)
    with pytest.raises(ValueError, match="ego_motion_compensation"):
        run_online_tracker(Tracker(cfg), [], [], WORLD)


@pytest.mark.data
def test_kitti_sequence_counts_add_up(shared_data: Path) -> None:
    from drivestack.eval.prediction.sources import read_kitti_trajectories
    from drivestack.ingest.kitti_tracking import read_split_seqmap

    root = shared_data / "kitti_tracking"
    entry = next(e for e in read_split_seqmap(root, "val") if e.name == "0001")
    rec = read_kitti_trajectories(root, entry.name)
    tracker = Tracker(Path(__file__).parents[3] / "configs/tracking/kitti_pointrcnn.yaml")
    online = kitti_online_tracks(root, entry.name, entry.n_frames, tracker, rec.frame)
    cases = track_cases(rec, online, CaseSettings())
    c = cases.counts
    assert c["scored"] == len(cases) > 20
    assert c["labels_with_future"] == c["scored"] + c["matched_short_history"] + c["missed"]
    assert c["output_tracks"] == (
        c["scored"]
        + c["matched_short_history"]
        + c["matched_no_label_future"]
        + c["unmatched_tracks"]
        + c["tracks_outside_class_groups"]
    )
    # tracked boxes lie near their labelled objects at the anchor (matched within 2 m)
    assert cases.truth_anchor_xy is not None
    gap = np.hypot(*(cases.past_boxes[:, -1, 0:2] - cases.truth_anchor_xy).T)
    assert (gap <= 2.0).all() and np.median(gap) < 0.5
