"""A plug-in detector's boxes in a sensor's frame, a plug-in tracker's over-ground velocities,
and what a Stack step takes (review of the Python API, findings 1-3, 7 and 9).

Before: boxes left in the LiDAR frame of a frame WITH an ego pose were refused as a missing
ego pose ("field world_from_ego ... to track anyway: missing_ego_pose: track_in_ego_frame");
following that advice tracked them in the sensor frame taken as fixed (no ego-motion
compensation), and replay skipped every frame as bad data. A plug-in tracker's over-ground
velocities were recognised only through ``tracker.cfg.ego_motion_compensation``.

The hand-built drive: the ego drives along x at 20 m/s (2 m per 0.1 s frame), with its LiDAR
``top`` mounted 1.2 m ahead, 1.8 m up and turned 0.3 rad; a car drives along the world's
x at 5 m/s, 3 m to the left.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.frames import EGO, WORLD
from drivestack.core.transforms import SE3
from drivestack.pipeline import (
    BoxTracker,
    Detector,
    KinematicPredictor,
    PredictionConfig,
    Predictor,
    Stack,
    StageOutputError,
)
from drivestack.prediction.forecast import Forecast, constant_velocity_forecast
from drivestack.replay.log_format import LogWriter
from drivestack.replay.log_reader import LogReader
from drivestack.replay.runner import replay
from drivestack.structures import Boxes3D, PointCloud, SensorFrame, Tracks
from drivestack.structures.labels import ObjectClass
from tests._stack_helpers import car_tracker

STEP_NS = 100_000_000
EGO_SPEED_MPS, CAR_SPEED_MPS = 20.0, 5.0
EGO_FROM_TOP = SE3.from_xyz_yaw([1.2, 0.0, 1.8], 0.3)
CAR = int(ObjectClass.CAR)


def _car_world(k: int) -> Boxes3D:
    row = [[30.0 + CAR_SPEED_MPS * 0.1 * k, 3.0, 0.8, 4.5, 1.8, 1.5, 0.0]]
    return Boxes3D.from_array7(np.array(row), WORLD, k * STEP_NS, label=[CAR], score=[0.9])


def drive_frame(k: int, posed: bool = True) -> SensorFrame:
    """Frame ``k``: the car as the frame's labels in the ego frame (and no pose when not
    ``posed``)."""
    world_from_ego = SE3.from_xyz_yaw([EGO_SPEED_MPS * 0.1 * k, 0.0, 0.0], 0.0)
    cloud = PointCloud(np.zeros((4, 3), np.float32), "top", k * STEP_NS)
    return SensorFrame(
        k * STEP_NS,
        lidars={"top": cloud},
        ego_from_sensor={"top": EGO_FROM_TOP},
        world_from_ego=world_from_ego if posed else None,
        labels=_car_world(k).transformed(world_from_ego.inverse(), EGO),
        label_ids=("car-A",),
        source=f"hand-built frame {k}",
    )


class SensorFrameDetector:
    """The frame's labels in the LiDAR's frame ``top`` (the mistake), or moved to the ego
    frame with the fix the error names (``fixed``)."""

    def __init__(self, fixed: bool = False) -> None:
        self.fixed = fixed

    def reset(self) -> None:
        pass

    def step(self, frame: SensorFrame) -> Boxes3D:
        assert frame.labels is not None
        top = frame.labels.transformed(EGO_FROM_TOP.inverse(), "top")
        if self.fixed:
            return top.transformed(frame.ego_from_sensor["top"], "ego")
        return top


class FiniteDifferenceTracker:
    """One track per detection (by order), its velocity the finite difference of its last two
    positions in the frame ``world_from_frame`` places it in (the detections' frame when
    None), rotated back into the detections' axes: exact for constant velocities. Records
    each ``world_from_frame`` it gets."""

    def __init__(self, velocities_over_ground: object = True) -> None:
        self.velocities_over_ground = velocities_over_ground
        self.poses: list[SE3 | None] = []
        self._last: tuple[int, np.ndarray] | None = None

    def reset(self) -> None:
        self.poses, self._last = [], None

    def step(self, detections: Boxes3D, world_from_frame: SE3 | None = None) -> Tracks:
        self.poses.append(world_from_frame)
        pose = SE3.identity() if world_from_frame is None else world_from_frame
        placed = pose.apply(detections.center_m)
        velocity = np.zeros((len(detections), 2))
        if self._last is not None:
            moved = (placed[:, :2] - self._last[1][:, :2]) / (
                (detections.timestamp_ns - self._last[0]) * 1e-9
            )
            velocity = pose.inverse().rotate_xy(moved)
        self._last = (detections.timestamp_ns, placed)
        boxes = dataclasses.replace(detections, velocity_mps=velocity)
        return Tracks(np.arange(len(detections)), boxes)


class SpyPredictor:
    """A constant-velocity forecast; records each ``world_from_frame`` it gets."""

    def __init__(self) -> None:
        self.poses: list[SE3 | None] = []

    def reset(self) -> None:
        self.poses = []

    def step(self, tracks: Tracks, world_from_frame: SE3 | None = None) -> Forecast:
        self.poses.append(world_from_frame)
        return constant_velocity_forecast(tracks.boxes, 1.0, 0.1)


# -- finding 1: boxes in a sensor's frame of a frame with an ego pose ------------------------


@pytest.mark.parametrize("policy", ["skip", "track_in_ego_frame"])
@pytest.mark.parametrize("tracker", [car_tracker, FiniteDifferenceTracker])
def test_sensor_frame_boxes_name_the_detector_and_the_fix(
    policy: str, tracker: Callable[[], BoxTracker]
) -> None:
    stack = Stack(SensorFrameDetector(), tracker(), missing_ego_pose=policy)
    with pytest.raises(StageOutputError) as info:
        stack.step(drive_frame(0))
    message = str(info.value)
    assert message == (
        "Stack: the detector SensorFrameDetector.step returned boxes in frame 'top', not "
        "'ego', for a frame at 0 with an ego pose: the tracker's velocities are over ground, "
        "and the frame's world_from_ego places only ego-frame boxes in the world; move them "
        "to the ego frame before returning them: "
        "boxes.transformed(frame.ego_from_sensor['top'], \"ego\")"
    )
    assert "track_in_ego_frame" not in message and not isinstance(info.value, DataError)
    assert isinstance(info.value, ValueError)  # what callers catching ValueError still see


@pytest.mark.parametrize("policy", ["skip", "track_in_ego_frame"])
def test_the_named_fix_tracks_over_ground(policy: str) -> None:
    """The car's velocity over ground is (5, 0) m/s whatever the ego does, and the tracker
    and predictor get each frame's pose; before, the advice (track_in_ego_frame) tracked in
    the sensor frame taken as fixed: (5 - 20) m/s along x, turned into the sensor's axes."""
    tracker, predictor = FiniteDifferenceTracker(), SpyPredictor()
    stack = Stack(
        SensorFrameDetector(fixed=True), tracker, missing_ego_pose=policy, predictor=predictor
    )
    frames = [drive_frame(k) for k in range(4)]
    for frame in frames:
        out = stack.step(frame)
        assert out.notes == () and out.tracks is not None and out.tracks.frame == EGO
    np.testing.assert_allclose(out.tracks.boxes.velocity_mps, [[CAR_SPEED_MPS, 0.0]], atol=1e-9)
    for seen in (tracker.poses, predictor.poses):
        assert all(
            p is not None and f.world_from_ego is not None and p.allclose(f.world_from_ego)
            for p, f in zip(seen, frames, strict=True)
        )


def test_the_built_in_tracker_with_the_fix_runs_without_notes() -> None:
    stack = Stack(SensorFrameDetector(fixed=True), car_tracker(), missing_ego_pose="skip")
    for k in range(3):
        out = stack.step(drive_frame(k))
        assert out.notes == () and out.tracks is not None and len(out.tracks) == 1


def test_boxes_in_no_sensor_frame_are_refused_naming_the_ego_frame() -> None:
    class WorldDetector(SensorFrameDetector):
        def step(self, frame: SensorFrame) -> Boxes3D:
            assert frame.labels is not None and frame.world_from_ego is not None
            return frame.labels.transformed(frame.world_from_ego, WORLD)

    with pytest.raises(
        StageOutputError,
        match=r"the detector WorldDetector.step returned boxes in frame 'world', not 'ego', .*"
        r"no sensor of the frame is in it \(they are in \['top'\]\): return boxes in 'ego'$",
    ):
        Stack(WorldDetector(), car_tracker()).step(drive_frame(0))


def test_a_missing_extrinsic_stays_a_data_error_without_the_no_pose_advice() -> None:
    frame = dataclasses.replace(drive_frame(0), ego_from_sensor={})
    with pytest.raises(DataError) as info:
        Stack(SensorFrameDetector(), car_tracker(), missing_ego_pose="track_in_ego_frame").step(
            frame
        )
    assert info.value.field == "ego_from_sensor" and info.value.record == "t=0"
    assert "ego_from_sensor has no entry for LiDAR 'top' (it has [])" in str(info.value)
    assert "track_in_ego_frame" not in str(info.value)


def test_without_a_pose_the_advice_stays_and_the_policy_applies() -> None:
    with pytest.raises(DataError, match="to track anyway: missing_ego_pose: track_in_ego_frame"):
        Stack(SensorFrameDetector(fixed=True), car_tracker()).step(drive_frame(0, posed=False))
    stack = Stack(
        SensorFrameDetector(), FiniteDifferenceTracker(), missing_ego_pose="track_in_ego_frame"
    )
    out = stack.step(drive_frame(0, posed=False))  # no pose: the sensor frame taken as fixed
    assert out.notes == ("no ego pose: tracked in the top frame",)


def test_a_relative_velocity_tracker_takes_sensor_frame_boxes() -> None:
    tracker = FiniteDifferenceTracker(velocities_over_ground=False)
    stack = Stack(SensorFrameDetector(), tracker, predictor=SpyPredictor())
    for k in range(2):
        out = stack.step(drive_frame(k))
    assert out.tracks is not None and out.tracks.frame == "top"
    assert tracker.poses == [None, None]
    # relative to the sensor: (5 - 20) m/s along the ego's x, in the sensor's (turned) axes
    expected = EGO_FROM_TOP.inverse().rotate_xy(np.array([[CAR_SPEED_MPS - EGO_SPEED_MPS, 0.0]]))
    np.testing.assert_allclose(out.tracks.boxes.velocity_mps, expected, atol=1e-9)


@pytest.mark.data
@pytest.mark.filterwarnings("ignore:Tracker. detections labelled van are not tracked")
def test_kitti_labels_in_the_lidar_frame_name_the_fix(shared_data: Path) -> None:
    """Real data: KITTI tracking 0000 (the reader's labels are in 'lidar', ego_from_sensor
    the identity, the frames posed); moved as the error says, the built-in tracker's track
    velocities match those of the labels in the ego frame to begin with."""
    from drivestack.ingest import read_kitti_tracking_frame
    from drivestack.tracking import build_tracker, load_tracker_config

    frames = [
        read_kitti_tracking_frame(shared_data / "kitti_tracking", "0000", i, load_images=False)
        for i in range(74, 84)
    ]
    config = load_tracker_config(Path(__file__).parents[1] / "configs/tracking/lidar_stack.yaml")
    assert config.ego_motion_compensation
    assert all(f.world_from_ego is not None for f in frames)

    class Labels:
        """The frame's labels: as read (``"as_read"``), moved to the ego frame as the error
        says (``"moved"``), or renamed ``"ego"`` (``"renamed"``: the same boxes, KITTI's
        ego frame being its LiDAR's)."""

        def __init__(self, how: str) -> None:
            self.how = how

        def reset(self) -> None:
            pass

        def step(self, frame: SensorFrame) -> Boxes3D:
            assert frame.labels is not None and frame.labels.frame == "lidar"
            if self.how == "moved":
                return frame.labels.transformed(frame.ego_from_sensor["lidar"], "ego")
            if self.how == "renamed":
                return dataclasses.replace(frame.labels, frame=EGO)
            return frame.labels

    for policy in ("skip", "track_in_ego_frame"):
        with pytest.raises(StageOutputError, match=r"ego_from_sensor\['lidar'\], \"ego\"\)$"):
            Stack(Labels("as_read"), build_tracker(config), missing_ego_pose=policy).step(frames[0])
    moved = Stack(Labels("moved"), build_tracker(config))
    ego_labels = Stack(Labels("renamed"), build_tracker(config))
    for frame in frames:
        a, b = moved.step(frame), ego_labels.step(frame)
        assert a.notes == b.notes == ()
    assert a.tracks is not None and b.tracks is not None and len(a.tracks) > 0
    np.testing.assert_allclose(a.tracks.boxes.velocity_mps, b.tracks.boxes.velocity_mps)
    assert np.abs(a.tracks.boxes.velocity_mps).max() > 1.0  # the cyclist moves: not all 0


# -- finding 2: velocities_over_ground is the tracker's declared attribute -------------------


@pytest.mark.parametrize("compensate", [True, False])
def test_the_built_in_tracker_declares_it_from_its_config(compensate: bool) -> None:
    tracker = car_tracker(compensate)
    assert tracker.velocities_over_ground is compensate
    assert Stack(SensorFrameDetector(True), tracker).velocities_over_ground is compensate


def test_a_plug_in_tracker_declares_it_and_gets_the_pose() -> None:
    assert Stack(SensorFrameDetector(True)).velocities_over_ground is False  # no tracker
    for declared in (True, np.True_):
        stack = Stack(SensorFrameDetector(True), FiniteDifferenceTracker(declared))
        assert stack.velocities_over_ground is True

    class Undeclared(FiniteDifferenceTracker):
        def __init__(self) -> None:
            super().__init__()
            del self.velocities_over_ground

    undeclared, predictor = Undeclared(), SpyPredictor()
    stack = Stack(SensorFrameDetector(True), undeclared, predictor=predictor)
    assert stack.velocities_over_ground is False
    frame = drive_frame(1)
    stack.step(frame)
    # ego-frame boxes of a posed frame: the tracker gets the pose (BoxTracker); the predictor
    # none, the velocities being relative to the ego
    [pose] = undeclared.poses
    assert pose is not None and frame.world_from_ego is not None
    assert pose.allclose(frame.world_from_ego) and predictor.poses == [None]


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_a_non_bool_declaration_is_refused_up_front(bad: object) -> None:
    with pytest.raises(
        TypeError,
        match=rf"Stack tracker FiniteDifferenceTracker.velocities_over_ground must be a bool "
        rf"\(True: its velocities are over ground; see BoxTracker\), got {type(bad).__name__}",
    ):
        Stack(SensorFrameDetector(True), FiniteDifferenceTracker(bad))


# -- finding 3: Stack.step takes a SensorFrame ------------------------------------------------


def test_step_refuses_what_is_not_a_sensor_frame() -> None:
    stack = Stack(SensorFrameDetector(True), car_tracker())
    frame = drive_frame(0)
    with pytest.raises(
        TypeError,
        match=r"^Stack.step expects a SensorFrame, got PointCloud; wrap the cloud: "
        r"SensorFrame\(cloud.timestamp_ns, lidars=\{'lidar': cloud\}\)",
    ):
        stack.step(frame.lidar())  # type: ignore[arg-type]
    for bad, name in (({"top": frame.lidar()}, "dict"), (None, "NoneType")):
        with pytest.raises(TypeError, match=rf"^Stack.step expects a SensorFrame, got {name}$"):
            stack.step(bad)  # type: ignore[arg-type]
    assert len(stack.step(frame).detections) == 1  # nothing was stepped before


# -- finding 9: the stage protocols are runtime-checkable ------------------------------------


def test_the_stage_protocols_are_runtime_checkable() -> None:
    detector, tracker, predictor = SensorFrameDetector(), car_tracker(), SpyPredictor()
    assert isinstance(detector, Detector) and isinstance(tracker, BoxTracker)
    assert isinstance(predictor, Predictor)
    assert isinstance(KinematicPredictor(PredictionConfig()), Predictor)
    assert isinstance(FiniteDifferenceTracker(), BoxTracker)
    assert not isinstance(object(), Detector) and not isinstance(detector, BoxTracker)
    undeclared = FiniteDifferenceTracker()
    del undeclared.velocities_over_ground
    assert not isinstance(undeclared, BoxTracker)  # the protocol wants the declaration


# -- findings 1 and 7 in log replay -------------------------------------------------------------


def _write_log(path: Path, n: int = 5, no_pose_at: int | None = None) -> Path:
    with LogWriter(path, config={"source": "hand-built"}) as writer:
        for k in range(n):
            writer.sensor_frame(drive_frame(k, posed=k != no_pose_at))
    return path


def test_replay_stops_on_a_stage_error_naming_the_detector(tmp_path: Path) -> None:
    """Before: every frame skipped as bad data (field world_from_ego), the run 'finished'."""
    log = _write_log(tmp_path / "drive.mcap")
    out = tmp_path / "run.mcap"
    stack = Stack(SensorFrameDetector(), car_tracker())
    with pytest.raises(StageOutputError, match=r"the detector SensorFrameDetector.step"):
        replay(log, stack, out, progress=False, io_worker="thread")
    assert not out.exists() and not out.with_suffix(".summary.json").exists()


def test_replay_skips_a_bad_frame_and_records_the_stage_classes(tmp_path: Path) -> None:
    log = _write_log(tmp_path / "drive.mcap", no_pose_at=4)  # (the reader interpolates /tf)
    out = tmp_path / "run.mcap"
    stack = Stack(SensorFrameDetector(True), FiniteDifferenceTracker(), predictor=SpyPredictor())
    summary = replay(log, stack, out, progress=False, io_worker="thread")
    assert summary["frames_processed"] == 4 and summary["frames_skipped"] == 1
    [skipped] = summary["skipped"]
    assert skipped["timestamp_ns"] == 4 * STEP_NS and "no ego pose" in skipped["reason"]
    module = __name__
    expected = {
        "detector": f"{module}.SensorFrameDetector",
        "tracker": f"{module}.FiniteDifferenceTracker",
        "predictor": f"{module}.SpyPredictor",
    }
    assert summary["stack"] == expected == stack.stage_classes()
    assert json.loads(out.with_suffix(".summary.json").read_text())["stack"] == expected
    assert LogReader(out).run_metadata()["config"] == expected
    # the declared over-ground velocities make the forecasts scoreable (finding 2)
    assert summary["forecast_vs_labels"]["frames_not_scored"] == {}
    assert summary["forecast_vs_labels"]["forecasts"] > 0


def test_a_stack_with_offline_tracker_rules_says_it_runs_without_them(tmp_path: Path) -> None:
    # offline_* keys (eval tracking's whole-track rules) were silently unused by replay / sim
    import warnings

    from drivestack.pipeline import build_stack

    repo = Path(__file__).resolve().parents[1]
    stack = tmp_path / "stack.yaml"
    stack.write_text(
        f"perception: {repo / 'configs/perception/lidar_kitti.yaml'}\n"
        f"tracking: {repo / 'configs/tracking/kitti_pointrcnn.yaml'}\n"
    )
    with pytest.warns(UserWarning, match=r"classes\.car: offline_min_track_score, .* online stack"):
        build_stack(stack)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the shipped stacks set none
        for shipped in sorted((repo / "configs" / "stack").glob("*.yaml")):
            build_stack(shipped)
