"""Tracker stage: birth/death timing, ids, velocities, ego-motion compensation, config loading."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.core.transforms import SE3
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.tracks import Tracks
from drivestack.tracking.config import (
    AssociationConfig,
    ClassTrackerConfig,
    LifecycleConfig,
    MotionConfig,
    TrackerConfig,
    load_tracker_config,
)
from drivestack.tracking.tracker import Tracker, build_tracker
from tests.tracking.result_rows import TRACKING_CONFIGS


def car_tracker(**life: Any) -> Tracker:
    cfg = ClassTrackerConfig(
        association=AssociationConfig(metric="distance_bev", threshold=-2.0),
        lifecycle=LifecycleConfig(**life),
    )
    return build_tracker(TrackerConfig(classes={"car": cfg}))


def dets(frame: int, xs: list[float], frame_id: str = "lidar") -> Boxes3D:
    n = len(xs)
    arr = np.array([[x, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0] for x in xs]).reshape(n, 7)
    return Boxes3D.from_array7(
        arr,
        frame_id,
        frame * 100_000_000,
        score=np.full(n, 5.0),
        label=np.full(n, int(ObjectClass.CAR)),
    )


def test_birth_after_min_hits_once_past_the_first_frames() -> None:
    trk = car_tracker(min_hits=3, max_age=2)
    outputs = [len(trk.step(dets(f, [] if f < 4 else [10.0]))) for f in range(8)]
    assert outputs == [0, 0, 0, 0, 0, 0, 1, 1]  # seen at frames 4, 5 -> output from the 3rd hit


def test_first_frames_output_immediately() -> None:
    trk = car_tracker(min_hits=3, max_age=2)
    assert len(trk.step(dets(0, [10.0]))) == 1


def test_death_after_max_age_misses_and_id_reuse() -> None:
    trk = car_tracker(min_hits=1, max_age=2)
    first = trk.step(dets(0, [10.0])).track_id[0]
    trk.step(dets(1, []))
    trk.step(dets(2, []))
    assert trk.step(dets(3, [10.0])).track_id[0] == first  # missed 2 frames: still alive
    for f in (4, 5, 6):
        trk.step(dets(f, []))
    assert trk.step(dets(7, [10.0])).track_id[0] != first  # missed 3 frames: new track


def test_coasting_output_and_score_penalty() -> None:
    trk = car_tracker(min_hits=1, max_age=3, output_coast_frames=2, coast_score_penalty=1.5)
    trk.step(dets(0, [10.0]))
    out = trk.step(dets(1, []))
    assert (
        len(out) == 1
        and out.time_since_update[0] == 1
        and out.boxes.score[0] == pytest.approx(5.0 - 1.5)
    )
    assert trk.last_detection_index.tolist() == [-1]
    trk.step(dets(2, []))
    assert len(trk.step(dets(3, []))) == 0  # 3 frames coasting > output_coast_frames


def test_constant_velocity_is_estimated() -> None:
    trk = car_tracker(min_hits=1, max_age=2)
    out = None
    for f in range(15):
        out = trk.step(dets(f, [10.0 + 0.5 * f]))  # 5 m/s at 10 Hz
    assert out is not None
    assert out.boxes.velocity_mps[0, 0] == pytest.approx(5.0, abs=0.05)
    assert abs(out.boxes.velocity_mps[0, 1]) < 0.05


def test_reset_and_snapshot_restore_are_deterministic() -> None:
    trk = car_tracker(min_hits=1, max_age=2)
    for f in range(3):
        trk.step(dets(f, [10.0 + f, 30.0]))
    snap = copy.deepcopy(trk)
    a = trk.step(dets(3, [13.0, 30.0]))
    b = snap.step(dets(3, [13.0, 30.0]))
    np.testing.assert_array_equal(a.track_id, b.track_id)
    np.testing.assert_array_equal(a.boxes.center_m, b.boxes.center_m)
    trk.reset()
    assert trk.step(dets(0, [5.0])).track_id.tolist() == [0]


def test_ego_motion_compensation_makes_static_objects_static() -> None:
    cfg = ClassTrackerConfig(
        association=AssociationConfig(metric="distance_bev", threshold=-2.0),
        lifecycle=LifecycleConfig(min_hits=1),
    )
    trk = build_tracker(TrackerConfig(classes={"car": cfg}, ego_motion_compensation=True))
    out = None
    for f in range(12):
        ego_x = 1.0 * f  # ego drives 10 m/s; a parked car at world x = 30
        out = trk.step(dets(f, [30.0 - ego_x]), SE3.from_xyz_yaw([ego_x, 0.0, 0.0], 0.0))
    assert out is not None and out.frame == "lidar"
    assert out.boxes.center_m[0, 0] == pytest.approx(30.0 - 11.0, abs=1e-6)
    assert np.abs(out.boxes.velocity_mps[0]).max() < 0.05
    with pytest.raises(ValueError, match="world_from_frame"):
        trk.step(dets(12, [18.0]))


def test_untracked_labels_are_ignored() -> None:
    trk = car_tracker(min_hits=1)
    b = Boxes3D.from_array7(
        np.array([[0.0, 0, 0, 1, 1, 1, 0]]), "lidar", 0, label=[int(ObjectClass.PEDESTRIAN)]
    )
    with pytest.warns(UserWarning, match="labelled pedestrian are not tracked"):
        assert len(trk.step(b)) == 0
    assert trk.last_dropped_detections == 1


@pytest.mark.parametrize("name", ["kitti_pointrcnn.yaml", "kitti_pointrcnn_ab3dmot_settings.yaml"])
def test_shipped_config_loads(name: str) -> None:
    cfg = load_tracker_config(TRACKING_CONFIGS / name)
    assert set(cfg.classes) == {"car", "pedestrian", "cyclist"}
    assert isinstance(cfg.classes["car"].motion, MotionConfig)
    build_tracker(cfg)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("classes: {car: {lifecycle: {min_hitz: 3}}}", "classes.car.lifecycle.min_hitz"),
        ("classes: {car: {lifecycle: {min_hits: three}}}", "classes.car.lifecycle.min_hits"),
        ("classes: {car: {association: {method: magic}}}", "classes.car.association.method"),
        ("ego_motion_compensation: 1", "ego_motion_compensation"),
        ("classes: {car: {motion: {measurement_position_std_m: -1.0}}}", "classes.car.motion"),
        ("classes: {spaceship: {}}", None),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, key: str | None) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_tracker_config(p)
    assert str(p) in str(info.value)
    if key:
        assert f"field {key}" in str(info.value)


def test_min_output_score_hides_low_confidence_tracks() -> None:
    trk = car_tracker(min_hits=1, max_age=2, min_output_score=3.0)
    low = Boxes3D.from_array7(
        np.array([[10.0, 0, 0, 4, 2, 1.5, 0], [40.0, 0, 0, 4, 2, 1.5, 0]]),
        "lidar",
        0,
        score=[5.0, 1.0],
        label=[int(ObjectClass.CAR)] * 2,
    )
    out = trk.step(low)
    assert len(out) == 1 and out.boxes.center_m[0, 0] == pytest.approx(10.0)
    assert len(trk.state[int(ObjectClass.CAR)].track_id) == 2  # the low one is tracked, not output


def test_ego_motion_compensation_with_a_turning_ego() -> None:
    # a parked car at world (20, 5), heading 0.5 rad; the ego turns 0.3 rad and moves 1 m per
    # frame. Seen from the ego it moves and turns; tracked in the world it is static, and the
    # output (in the ego frame) is where the detection is.
    cfg = ClassTrackerConfig(
        association=AssociationConfig(metric="distance_bev", threshold=-2.0),
        lifecycle=LifecycleConfig(min_hits=1),
    )
    trk = build_tracker(TrackerConfig(classes={"car": cfg}, ego_motion_compensation=True))
    world_box = np.array([[20.0, 5.0, 0.5, 4.0, 2.0, 1.5, 0.5]])
    for f in range(8):
        pose = SE3.from_xyz_yaw([1.0 * f, 0.0, 0.0], 0.3 * f)
        local = pose.inverse().apply(world_box[:, :3])
        yaw_local = 0.5 - 0.3 * f
        det = Boxes3D.from_array7(
            np.concatenate([local, world_box[:, 3:6], [[yaw_local]]], axis=1),
            "lidar",
            f * 100_000_000,
            score=[5.0],
            label=[int(ObjectClass.CAR)],
        )
        out = trk.step(det, pose)
        assert out.track_id.tolist() == [0]
        np.testing.assert_allclose(out.boxes.center_m, local, atol=1e-9)
        assert out.boxes.yaw_rad[0] == pytest.approx(
            np.arctan2(np.sin(yaw_local), np.cos(yaw_local))
        )
        assert out.frame == "lidar"
        assert np.abs(out.boxes.velocity_mps).max() < 1e-9  # static in the world
        assert trk.last_detection_index.tolist() == [0]


def _mixed_detections(rng: np.random.Generator, frame: int, n: int) -> Boxes3D:
    arr = np.zeros((n, 7))
    arr[:, 0] = rng.uniform(-30.0, 30.0, n)
    arr[:, 1] = rng.uniform(-30.0, 30.0, n)
    arr[:, 3:6] = rng.uniform(0.5, 4.0, (n, 3))
    arr[:, 6] = rng.uniform(-3.0, 3.0, n)
    labels = rng.choice([int(ObjectClass.CAR), int(ObjectClass.PEDESTRIAN)], n)
    return Boxes3D.from_array7(
        arr, "lidar", frame * 100_000_000, score=rng.uniform(0.0, 5.0, n), label=labels
    )


def _output_fields(out: Tracks) -> dict[str, np.ndarray]:
    """Every per-track array of a tracker output, by name."""
    b = out.boxes
    return {
        "track_id": out.track_id,
        "age": out.age,
        "hits": out.hits,
        "time_since_update": out.time_since_update,
        "center_m": b.center_m,
        "size_m": b.size_m,
        "yaw_rad": b.yaw_rad,
        "score": b.score,
        "label": b.label,
        "velocity_mps": b.velocity_mps,
    }


@pytest.mark.parametrize("compensate", [False, True])
def test_outputs_are_valid_read_only_and_not_aliased_to_state(compensate: bool) -> None:
    # the tracker builds its outputs without re-validation: every output must pass the full
    # checks, be read-only, and keep its values while the tracker goes on
    cfg = ClassTrackerConfig(
        association=AssociationConfig(metric="distance_bev", threshold=-3.0),
        lifecycle=LifecycleConfig(min_hits=1, max_age=2, output_coast_frames=2),
    )
    trk = build_tracker(
        TrackerConfig(classes={"car": cfg, "pedestrian": cfg}, ego_motion_compensation=compensate)
    )
    rng = np.random.default_rng(3)
    kept: list[tuple[Tracks, dict[str, np.ndarray]]] = []
    for f in range(15):
        dets = _mixed_detections(rng, f, int(rng.integers(0, 6)))
        pose = SE3.from_xyz_yaw([0.8 * f, 0.1 * f, 0.0], 0.05 * f) if compensate else None
        out = trk.step(dets, pose)
        b = out.boxes
        checked = Tracks(  # full validation of copies of every field
            track_id=out.track_id.copy(),
            boxes=Boxes3D(
                b.center_m.copy(),
                b.size_m.copy(),
                b.yaw_rad.copy(),
                b.frame,
                b.timestamp_ns,
                score=b.score.copy(),
                label=b.label.copy(),
                velocity_mps=b.velocity_mps.copy(),
            ),
            age=out.age.copy(),
            hits=out.hits.copy(),
            time_since_update=out.time_since_update.copy(),
        )
        np.testing.assert_array_equal(checked.boxes.yaw_rad, b.yaw_rad)  # already wrapped
        assert b.frame == "lidar" and b.timestamp_ns == dets.timestamp_ns
        fields = _output_fields(out)
        assert not any(v.flags.writeable for v in fields.values())
        kept.append((out, {k: v.copy() for k, v in fields.items()}))
        # matched outputs come from a detection of their own class
        idx = trk.last_detection_index
        fresh = idx >= 0
        np.testing.assert_array_equal(dets.label[idx[fresh]], b.label[fresh])
    for out, snapshot in kept:  # values unchanged by all later steps
        now = _output_fields(out)
        for k, v in snapshot.items():
            np.testing.assert_array_equal(now[k], v, err_msg=k)


def test_compensated_output_is_the_world_box_moved_back_with_boxes3d_transformed() -> None:
    # cross-check of the ego-compensated output path against the public structures API
    cfg = ClassTrackerConfig(
        association=AssociationConfig(metric="distance_bev", threshold=-2.0),
        lifecycle=LifecycleConfig(min_hits=1),
    )
    trk = build_tracker(TrackerConfig(classes={"car": cfg}, ego_motion_compensation=True))
    pose = SE3.from_xyz_yaw([3.0, -2.0, 0.5], 2.9)
    det = dets(0, [10.0, 25.0])
    out = trk.step(det, pose)
    world = trk.state[int(ObjectClass.CAR)].last_box  # the detections in the world frame
    expected = Boxes3D.from_array7(world, "world").transformed(pose.inverse(), "lidar")
    np.testing.assert_array_equal(out.boxes.center_m, expected.center_m)
    np.testing.assert_array_equal(out.boxes.yaw_rad, expected.yaw_rad)
    np.testing.assert_allclose(out.boxes.center_m, det.center_m, atol=1e-9)
