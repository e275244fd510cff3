"""Plug-in stages are checked where they enter (review finding E1): a Stack refuses a stage
without reset()/step() up front, a config path, detections stamped with another time, tracks
in another frame or time than the detections (the closed loop's planner checks are in
tests/sim/test_runner_planner_output_checks.py). Each message names the stage's class."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.frames import EGO
from drivestack.core.transforms import SE3
from drivestack.pipeline import KinematicPredictor, PredictionConfig, Stack
from drivestack.prediction.forecast import Forecast, constant_velocity_forecast
from drivestack.structures import Boxes3D, PointCloud, SensorFrame, Tracks
from tests._stack_helpers import car_tracker

ROW = np.array([[10.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]])
T_NS = 1_000_000_000


def frame(t_ns: int = T_NS, cloud_ns: int | None = None, **kwargs: object) -> SensorFrame:
    cloud = PointCloud(
        np.zeros((5, 3), np.float32), "lidar", t_ns if cloud_ns is None else cloud_ns
    )
    return SensorFrame(
        t_ns,
        lidars={"lidar": cloud},
        world_from_ego=SE3.identity(),
        **kwargs,  # type: ignore[arg-type]
    )


class StampedDetector:
    """One car in the ego frame, stamped ``stamp(frame)``."""

    def __init__(self, stamp=lambda f: f.timestamp_ns, box_frame: str = EGO) -> None:  # type: ignore[no-untyped-def]
        self.stamp = stamp
        self.box_frame = box_frame

    def reset(self) -> None:
        pass

    def step(self, f: SensorFrame) -> Boxes3D:
        return Boxes3D.from_array7(ROW, self.box_frame, self.stamp(f), label=[1], score=[0.9])


class NoReset:
    def step(self, f: SensorFrame) -> Boxes3D:
        return Boxes3D.empty(EGO, f.timestamp_ns)


def test_stages_without_reset_or_step_are_refused_up_front() -> None:
    with pytest.raises(
        TypeError,
        match=r"Stack detector must be a detector stage \(reset\(\), "
        r"step\(frame\) -> Boxes3D\); function lacks reset\(\) and step\(\)",
    ):
        Stack(lambda f: Boxes3D.empty(EGO))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"NoReset lacks reset\(\)$"):
        Stack(NoReset())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Stack tracker must be a tracker stage .*NoReset lacks"):
        Stack(StampedDetector(), NoReset())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Stack predictor must be .*NoReset lacks reset\(\)"):
        Stack(StampedDetector(), car_tracker(), predictor=NoReset())  # type: ignore[arg-type]


def test_swapped_built_in_stages_are_refused() -> None:
    """Before: AttributeError "'Boxes3D' object has no attribute 'boxes'" inside the step."""
    predictor = KinematicPredictor(PredictionConfig())
    with pytest.raises(TypeError, match=r"Stack tracker .*KinematicPredictor is a predictor"):
        Stack(StampedDetector(), predictor, predictor=car_tracker())  # type: ignore[arg-type]


def test_a_config_path_is_refused_with_the_loader_named() -> None:
    with pytest.raises(
        TypeError,
        match=r"got the path 'configs/stack/default.yaml'.*call "
        r"build_stack\('configs/stack/default.yaml'\)",
    ):
        Stack(StampedDetector(), config="configs/stack/default.yaml")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Stack config must be a dict or None, got list"):
        Stack(StampedDetector(), config=[])  # type: ignore[arg-type]


@pytest.mark.parametrize("tracked", [True, False])
@pytest.mark.parametrize(("stamp", "shown"), [(lambda f: 0, "0"), (lambda f: 5, "5")])
def test_detections_stamped_with_another_time_are_refused(tracked: bool, stamp, shown) -> None:  # type: ignore[no-untyped-def]
    """A forgotten stamp (0) or a stale one; before: the tracker's "repeated frame" error on
    the second frame, or, without a tracker, accepted."""
    stack = Stack(StampedDetector(stamp), car_tracker() if tracked else None)
    with pytest.raises(
        ValueError,
        match=rf"Stack: the detector StampedDetector.step returned boxes stamped {shown} for a "
        rf"frame at {T_NS}, lidars\['lidar'\] at {T_NS}",
    ):
        stack.step(frame())


def test_detections_stamped_with_the_sensor_time_pass() -> None:
    """The built-in LiDAR detector's rule: the cloud's time, a few ms from the frame's."""
    stack = Stack(StampedDetector(lambda f: f.lidars["lidar"].timestamp_ns), car_tracker())
    out = stack.step(frame(cloud_ns=T_NS - 3_000_000))
    assert out.detections.timestamp_ns == T_NS - 3_000_000
    assert out.tracks is not None and out.tracks.timestamp_ns == T_NS - 3_000_000


class FixedTracker:
    def __init__(self, make) -> None:  # type: ignore[no-untyped-def]
        self.make = make

    def reset(self) -> None:
        pass

    def step(self, detections: Boxes3D, world_from_frame: SE3 | None = None) -> Tracks:
        return Tracks(np.arange(len(detections)), self.make(detections))


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (lambda d: dataclasses.replace(d, frame="world"), "in frame 'world' stamped 1000000000"),
        (lambda d: dataclasses.replace(d, timestamp_ns=0), "in frame 'ego' stamped 0"),
    ],
)
def test_tracks_in_another_frame_or_time_are_refused(make, shown: str) -> None:  # type: ignore[no-untyped-def]
    stack = Stack(StampedDetector(), FixedTracker(make))
    with pytest.raises(
        ValueError,
        match=rf"Stack: the tracker FixedTracker.step returned tracks {shown} for detections "
        rf"in frame 'ego' stamped {T_NS}",
    ):
        stack.step(frame())


class ZeroStepPredictor:
    def reset(self) -> None:
        pass

    def step(self, tracks: Tracks, world_from_frame: SE3 | None = None) -> Forecast:
        return constant_velocity_forecast(tracks.boxes, 0.0, 0.1)


def test_a_forecast_of_zero_steps_is_refused() -> None:
    stack = Stack(StampedDetector(), car_tracker(), predictor=ZeroStepPredictor())
    with pytest.raises(
        ValueError,
        match=r"Stack: the predictor ZeroStepPredictor\.step returned a forecast of 0 steps "
        r"\(boxes \(1, 1, 7\)",
    ):
        stack.step(frame())


def test_missing_extrinsic_names_ego_from_sensor_and_the_lidar() -> None:
    """A frame with a pose whose LiDAR lacks ego_from_sensor: the detector's boxes stay in
    the LiDAR frame; before, the error named world_from_ego (which the frame has)."""
    stack = Stack(StampedDetector(box_frame="lidar"), car_tracker())
    bad = frame(ego_from_sensor={"lidar_x": SE3.identity()})
    with pytest.raises(
        DataError,
        match=r"field ego_from_sensor: .*ego_from_sensor has no entry "
        r"for LiDAR 'lidar' \(it has \['lidar_x'\]\)",
    ) as info:
        stack.step(bad)
    assert info.value.field == "ego_from_sensor"
    # with the extrinsic, boxes in 'lidar' anyway are the detector's mistake (no data error):
    # tests/test_pipeline_detector_frame.py


# -- a repeated frame, whatever the stages; a forecast that does not start at its tracks ------


class CountingStampedDetector(StampedDetector):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []

    def step(self, f: SensorFrame) -> Boxes3D:
        self.seen.append(f.timestamp_ns)
        return super().step(f)


@pytest.mark.parametrize("tracked", [True, False])
@pytest.mark.parametrize(("later_ns", "what"), [(T_NS, "a repeated frame"), (5, "out of order")])
def test_a_frame_not_after_the_last_is_refused_whatever_the_stages(
    tracked: bool, later_ns: int, what: str
) -> None:
    """Before: without a tracker the same frame stepped twice silently (review s9)."""
    det = CountingStampedDetector()
    stack = Stack(det, car_tracker() if tracked else None)
    stack.step(frame())
    with pytest.raises(
        ValueError,
        match=rf"^SensorFrame.timestamp_ns must increase from step to step: got {later_ns} "
        rf"after {T_NS} \({what}; call Stack.reset\(\) to start a new sequence\)$",
    ):
        stack.step(frame(later_ns))
    assert det.seen == [T_NS]  # refused before the detector ran
    stack.reset()
    assert stack.step(frame()).timestamp_ns == T_NS


class VelocityTracker:
    """Track ``track_id`` for each detection, moving at ``velocity_mps``."""

    def __init__(self, velocity_mps: tuple[float, float], track_id: int = 7) -> None:
        self.velocity_mps, self.track_id = velocity_mps, track_id

    def reset(self) -> None:
        pass

    def step(self, detections: Boxes3D, world_from_frame: SE3 | None = None) -> Tracks:
        moving = dataclasses.replace(detections, velocity_mps=np.array([self.velocity_mps]))
        return Tracks(np.array([self.track_id]), moving)


class ShiftedPredictor:
    """A constant-velocity forecast whose boxes are all moved by ``shift_m`` (x, y)."""

    def __init__(self, shift_m: tuple[float, float]) -> None:
        self.shift_m = shift_m

    def reset(self) -> None:
        pass

    def step(self, tracks: Tracks, world_from_frame: SE3 | None = None) -> Forecast:
        fc = constant_velocity_forecast(tracks.boxes, 3.0, 0.1)
        boxes = fc.boxes.copy()
        boxes[:, :, :2] += self.shift_m
        return Forecast(fc.dt_s, boxes, fc.speed_mps)


@pytest.mark.parametrize(
    ("velocity", "shift", "ok"),
    [
        ((0.0, 0.0), (1.99, 0.0), True),  # tolerance 2 m at rest
        ((0.0, 0.0), (0.0, -2.01), False),
        ((30.0, 40.0), (3.0, 4.0), True),  # 50 m/s: one 0.1 s step late (5 m) + 2 m
        ((30.0, 40.0), (0.0, 6.99), True),
        ((30.0, 40.0), (7.01, 0.0), False),
    ],
)
def test_a_forecast_starts_at_its_tracks(
    velocity: tuple[float, float], shift: tuple[float, float], ok: bool
) -> None:
    stack = Stack(StampedDetector(), VelocityTracker(velocity), predictor=ShiftedPredictor(shift))
    if ok:
        out = stack.step(frame())
        assert out.forecast is not None and out.forecast.boxes.shape == (1, 31, 7)
        return
    allowed = np.hypot(*velocity) * 0.1 + 2.0
    with pytest.raises(
        ValueError,
        match=rf"^Stack: the predictor ShiftedPredictor.step returned a forecast whose step 0 "
        rf"for track 7 \(row 0\) lies {np.hypot(*shift):.2f} m from the track's box centre, "
        rf"more than {allowed:.2f} m \(its speed over one dt_s 0.1 s \+ 2 m\)",
    ):
        stack.step(frame())


def test_a_forecast_in_world_coordinates_is_refused() -> None:
    """Review s2: a predictor placing ego-frame tracks in the world (100 m along x)."""

    class WorldPredictor(ShiftedPredictor):
        def step(self, tracks: Tracks, world_from_frame: SE3 | None = None) -> Forecast:
            assert world_from_frame is not None
            world = tracks.boxes.transformed(world_from_frame, "world")
            return constant_velocity_forecast(world, 3.0, 0.1)

    posed = SensorFrame(
        T_NS,
        lidars={"lidar": PointCloud(np.zeros((5, 3), np.float32), "lidar", T_NS)},
        world_from_ego=SE3.from_xyz_yaw([100.0, 0.0, 0.0], 0.0),
    )
    stack = Stack(StampedDetector(), car_tracker(), predictor=WorldPredictor((0.0, 0.0)))
    # the forecast says its frame: refused by it
    with pytest.raises(
        ValueError, match=r"WorldPredictor.step returned a forecast in frame 'world'"
    ):
        stack.step(posed)

    class UnstatedWorldPredictor(WorldPredictor):
        def step(self, tracks: Tracks, world_from_frame: SE3 | None = None) -> Forecast:
            made = super().step(tracks, world_from_frame)
            return dataclasses.replace(made, frame=None, timestamp_ns=None)

    # one that does not say: refused by where its step 0 lies
    stack = Stack(StampedDetector(), car_tracker(), predictor=UnstatedWorldPredictor((0.0, 0.0)))
    with pytest.raises(
        ValueError, match=r"UnstatedWorldPredictor.step .* lies 100.00 m from the track"
    ):
        stack.step(posed)


def test_built_in_forecasts_state_their_agents_frame_and_time() -> None:
    # a Forecast carried neither: a planner handed one could not check it
    boxes = Boxes3D.from_array7(ROW, EGO, T_NS, label=[1], score=[0.9])
    made = constant_velocity_forecast(boxes, 1.0, 0.1)
    assert (made.frame, made.timestamp_ns) == (EGO, T_NS)
    assert made == constant_velocity_forecast(boxes, 1.0, 0.1)
    with pytest.raises(TypeError, match=r"Forecast\.frame"):
        dataclasses.replace(made, frame="")


def test_the_built_in_predictors_start_at_their_tracks() -> None:
    """Over moving frames (the ego 2 m per 0.1 s, the car fixed in the world), both models."""
    for model in ("constant_velocity", "ctrv"):
        stack = Stack(
            StampedDetector(), car_tracker(), predictor=KinematicPredictor(PredictionConfig(model))
        )
        for k in range(5):
            posed = SensorFrame(
                T_NS + k * 100_000_000,
                lidars={"lidar": PointCloud(np.zeros((5, 3), np.float32), "lidar", T_NS)},
                world_from_ego=SE3.from_xyz_yaw([2.0 * k, 0.0, 0.0], 0.0),
            )
            out = stack.step(posed)
        assert out.forecast is not None and out.tracks is not None and len(out.tracks) == 1
        np.testing.assert_allclose(out.forecast.boxes[:, 0, :2], out.tracks.boxes.center_m[:, :2])


class OneArgumentTracker:
    """A tracker whose step forgets ``world_from_frame``."""

    def reset(self) -> None:
        pass

    def step(self, detections: Boxes3D) -> Tracks:
        raise AssertionError("never called")


def test_a_class_a_short_step_or_a_positional_predictor_is_refused_up_front() -> None:
    """Was: each built and failed at the first frame with Python's own TypeError (a missing
    positional argument, 'takes 2 positional arguments but 3 were given') or 'Stack config
    must be a dict or None, got KinematicPredictor'."""
    with pytest.raises(TypeError, match=r"detector .*got the class StampedDetector itself: "):
        Stack(StampedDetector)  # type: ignore[arg-type]
    with pytest.raises(
        TypeError,
        match=r"OneArgumentTracker\.step\(detections: 'Boxes3D'\) -> 'Tracks' cannot take the "
        r"2 argument\(s\) the stack passes \(world_from_frame is always passed",
    ):
        Stack(StampedDetector(), OneArgumentTracker())  # type: ignore[arg-type]
    predictor = KinematicPredictor(PredictionConfig())
    with pytest.raises(
        TypeError, match=r"third argument is config .* pass a predictor as predictor="
    ):
        Stack(StampedDetector(), car_tracker(), predictor)  # type: ignore[arg-type]


def test_python_built_configs_name_the_field() -> None:
    """Was: PredictionConfig(horizon_s="3") raised 'must be real number, not str', naming
    nothing; StackConfig took any missing_ego_pose and build_stack a dict."""
    from drivestack.config import ConfigValueError
    from drivestack.pipeline import StackConfig, build_stack

    with pytest.raises(ConfigValueError, match=r"^horizon_s: must be a number, got str '3'"):
        PredictionConfig(horizon_s="3")  # type: ignore[arg-type]
    with pytest.raises(ConfigValueError, match=r"^dt_s: must be a number, got NoneType"):
        PredictionConfig(dt_s=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigValueError, match=r"^yaw_rate_shrink_se: must be a number, got bool"):
        PredictionConfig(yaw_rate_shrink_se=True)
    assert (
        PredictionConfig(yaw_rate_decay_s=None, horizon_s=np.float32(2.0)).yaw_rate_decay_s is None
    )
    with pytest.raises(ConfigValueError, match=r"^missing_ego_pose: must be one of 'skip', "):
        StackConfig(perception="p.yaml", missing_ego_pose="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"stack_path must be the path of a stack YAML .*got dict"):
        build_stack({"perception": "p.yaml"})  # type: ignore[arg-type]


def test_point_cloud_transformed_by_a_matrix_says_how_to_build_an_se3() -> None:
    cloud = PointCloud(np.zeros((2, 3), np.float32), "lidar", 0)
    with pytest.raises(
        TypeError,
        match=r"PointCloud\.transformed dst_from_src must be an SE3, "
        r"got ndarray; build one with SE3\.from_matrix",
    ):
        cloud.transformed(np.eye(4), EGO)  # type: ignore[arg-type]


def test_the_library_entry_points_import_from_their_packages() -> None:
    import drivestack.config
    import drivestack.core
    import drivestack.replay
    from drivestack.replay.log_reader import LogReader
    from drivestack.replay.runner import replay

    assert drivestack.replay.replay is replay and drivestack.replay.LogReader is LogReader
    assert (drivestack.core.EGO, drivestack.core.WORLD) == ("ego", "world")
    assert issubclass(drivestack.config.ConfigValueError, ValueError)
    assert set(drivestack.replay.__all__) <= set(dir(drivestack.replay))


def test_decorated_or_dispatching_steps_are_taken_as_they_are() -> None:
    """A wrapper may supply arguments (the arity check followed __wrapped__ and refused a step
    the stack calls fine), and a singledispatchmethod's signature shows self."""
    import functools

    def with_start_time(step):  # type: ignore[no-untyped-def]
        @functools.wraps(step)
        def wrapper(self, frame):  # type: ignore[no-untyped-def]
            return step(self, frame, 0)

        return wrapper

    class Wrapped(StampedDetector):
        @with_start_time
        def step(self, f: SensorFrame, t0: int) -> Boxes3D:  # type: ignore[override]
            return super().step(f)

    class Dispatching(StampedDetector):
        @functools.singledispatchmethod
        def step(self, f: SensorFrame) -> Boxes3D:  # type: ignore[override]
            return super().step(f)

    for detector in (Wrapped(), Dispatching()):
        out = Stack(detector).step(frame())
        assert len(out.detections) == 1


class FrameFixedRecorder(FixedTracker):
    """Records the frame_fixed each step is given (a tracker whose step takes it)."""

    velocities_over_ground = True

    def __init__(self) -> None:
        super().__init__(lambda d: d)
        self.given: list[bool | None] = []

    def step(  # type: ignore[override]
        self,
        detections: Boxes3D,
        world_from_frame: SE3 | None = None,
        *,
        frame_fixed: bool | None = None,
    ) -> Tracks:
        self.given.append(frame_fixed)
        return super().step(detections, world_from_frame)


def test_a_tracker_taking_frame_fixed_is_told_when_its_frame_only_stands_in() -> None:
    # told for any tracker whose step takes it (the fused tracker wraps the built-in one and
    # was never told); False for a frame without a pose tracked in the ego frame
    tracker = FrameFixedRecorder()
    stack = Stack(StampedDetector(), tracker, missing_ego_pose="track_in_ego_frame")
    stack.step(frame())
    stack.step(dataclasses.replace(frame(T_NS + 100_000_000), world_from_ego=None))
    assert tracker.given == [True, False]
    # trackers whose step does not take it are called as before
    assert Stack(StampedDetector(), FixedTracker(lambda d: d)).step(frame()).tracks is not None


def test_a_frame_without_a_pose_names_the_frame_its_detections_are_tracked_in() -> None:
    # detections in the sensor frame of a pose-less frame were said to be tracked "in the ego
    # frame"
    tracker = FrameFixedRecorder()
    stack = Stack(
        StampedDetector(box_frame="lidar"), tracker, missing_ego_pose="track_in_ego_frame"
    )
    out = stack.step(dataclasses.replace(frame(), world_from_ego=None))
    assert "no ego pose: tracked in the lidar frame" in out.notes
    assert tracker.given == [False]


def test_a_tracker_wrapper_passing_kwargs_on_is_told_frame_fixed() -> None:
    # a timing wrapper step(self, d, w=None, **kw) was never told, so a pose-less frame's
    # tracks took their relative velocities for velocities over ground
    inner = FrameFixedRecorder()

    class Timed(FixedTracker):
        velocities_over_ground = True

        def step(
            self, detections: Boxes3D, world_from_frame: SE3 | None = None, **kw: object
        ) -> Tracks:  # type: ignore[override]
            return inner.step(detections, world_from_frame, **kw)  # type: ignore[arg-type]

    stack = Stack(StampedDetector(), Timed(lambda d: d), missing_ego_pose="track_in_ego_frame")
    stack.step(dataclasses.replace(frame(), world_from_ego=None))
    assert inner.given == [False]
