"""The stack's prediction stage: config (strict, errors named), the built-in predictor's frames
(turn rates measured in the world frame, not the turning ego's), the plug-in Protocol, and a
stack without a prediction block behaving as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.core.frames import EGO, WORLD
from drivestack.core.transforms import SE3
from drivestack.pipeline import KinematicPredictor, PredictionConfig, Stack, build_stack
from drivestack.prediction.forecast import Forecast, constant_velocity_forecast
from drivestack.prediction.kinematic import ctrv_forecast
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.sensor_frame import SensorFrame
from drivestack.structures.tracks import Tracks
from tests._stack_helpers import STEP_NS, car_tracker, moving_frame

REPO = Path(__file__).resolve().parents[1]


def _stack_yaml(tmp_path: Path, extra: str = "", tracking: bool = True) -> Path:
    path = tmp_path / "stack.yaml"
    text = f"perception: {REPO / 'configs/perception/lidar_kitti.yaml'}\n"
    if tracking:
        text += f"tracking: {REPO / 'configs/tracking/lidar_stack.yaml'}\n"
    path.write_text(text + extra)
    return path


# -- config ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "{model: lane_following}",
            r"field prediction\.model: 'lane_following' follows a road map's lanes, and a replayed log has no map",
        ),
        (
            "{model: kalman}",
            r"field prediction\.model: must be one of constant_velocity, ctrv, got 'kalman'",
        ),
        ("{model: ctrv, horizon: 3}", r"prediction\.horizon"),
        ("{dt_s: 0}", r"field prediction\.dt_s: must be a finite time step > 0 s"),
        ("{horizon_s: -1}", r"field prediction\.horizon_s: must be a finite duration > 0 s"),
        (  # within rounding of no step: failed at the first frame with tracks
            "{horizon_s: 1.0e-11}",
            r"field prediction\.horizon_s: 1e-11 s is no whole step of dt_s 0.1 s",
        ),
        (
            "{model: ctrv, fit_window_s: -1}",
            r"field prediction\.fit_window_s: must be finite and >= 0 s",
        ),
        (
            "{model: ctrv, yaw_rate_decay_s: 0}",
            r"field prediction\.yaw_rate_decay_s: must be null or > 0 s",
        ),
        (
            "{model: ctrv, yaw_rate_shrink_se: -1}",
            r"field prediction\.yaw_rate_shrink_se: must be a finite number of standard errors",
        ),
        # turn-rate keys under constant_velocity were accepted, recorded and never read
        (
            "{fit_window_s: 1.0}",
            r"field prediction\.fit_window_s: the constant_velocity model fits no turn rate",
        ),
        (
            "{model: constant_velocity, yaw_rate_shrink_se: 2.0}",
            r"field prediction\.yaw_rate_shrink_se: .* read only with model: ctrv",
        ),
    ],
)
def test_a_bad_prediction_block_names_the_file_and_key(tmp_path, block, message):
    path = _stack_yaml(tmp_path, f"prediction: {block}\n")
    with pytest.raises(ConfigError, match=message) as info:
        build_stack(path)
    assert str(path) in str(info.value)


def test_prediction_needs_tracking(tmp_path):
    path = _stack_yaml(tmp_path, "prediction: {model: ctrv}\n", tracking=False)
    with pytest.raises(ConfigError, match=r"prediction.*needs a tracking stage") as info:
        build_stack(path)
    assert str(path) in str(info.value)


def test_the_shipped_stacks_forecast_with_constant_velocity():
    for name in ("default", "sim_lidar"):
        stack = build_stack(REPO / f"configs/stack/{name}.yaml")
        assert isinstance(stack.predictor, KinematicPredictor)
        assert stack.predictor.cfg == PredictionConfig("constant_velocity", 3.0, 0.1)
        assert stack.config["prediction"]["model"] == "constant_velocity"


def test_a_stack_without_prediction_is_as_before(tmp_path):
    stack = build_stack(_stack_yaml(tmp_path))
    assert stack.predictor is None and "prediction" not in stack.config
    tracked = Stack(_OneCar(), car_tracker())
    outs = [tracked.step(moving_frame(k)) for k in range(3)]
    assert all(o.forecast is None and set(o.stage_ms) == {"perception", "tracking"} for o in outs)
    # the same stack with a predictor gives the same detections and tracks
    predicted = Stack(_OneCar(), car_tracker(), predictor=KinematicPredictor(PredictionConfig()))
    for k, before in enumerate(outs):
        after = predicted.step(moving_frame(k))
        np.testing.assert_array_equal(
            after.tracks.boxes.to_array7(), before.tracks.boxes.to_array7()
        )
        np.testing.assert_array_equal(after.tracks.track_id, before.tracks.track_id)
        assert after.forecast is not None and after.forecast.boxes.shape == (1, 31, 7)
        assert set(after.stage_ms) == {"perception", "tracking", "prediction"}


# -- the stack with a predictor ---------------------------------------------------------------
class _OneCar:
    """A car 10 m ahead of the ego, in the ego frame."""

    def reset(self) -> None:
        pass

    def step(self, frame: SensorFrame) -> Boxes3D:
        box = np.array([[10.0, 0.0, 0.8, 4.5, 1.8, 1.5, 0.0]])
        return Boxes3D.from_array7(box, EGO, frame.timestamp_ns, label=[1], score=[0.9])


class _Spy:
    """A plug-in predictor: records what it is given, returns ``output`` (default: a
    constant-velocity forecast of every track)."""

    def __init__(self, output: object = None) -> None:
        self.output = output
        self.calls: list[tuple[int, SE3 | None]] = []
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1

    def step(self, tracks: Tracks, world_from_frame: SE3 | None = None) -> Forecast:
        self.calls.append((len(tracks), world_from_frame))
        if self.output is not None:
            return self.output  # type: ignore[return-value]
        return constant_velocity_forecast(tracks.boxes, 1.0, 0.5)


def test_the_predictor_gets_the_pose_only_with_over_ground_velocities():
    spy = _Spy()
    stack = Stack(_OneCar(), car_tracker(), predictor=spy)
    stack.step(moving_frame(1))
    assert spy.calls[0][1] is not None
    np.testing.assert_allclose(spy.calls[0][1].translation, [2.0, 0.0, 0.0])
    relative = _Spy()
    Stack(_OneCar(), car_tracker(compensate=False), predictor=relative).step(moving_frame(1))
    assert relative.calls == [(1, None)]


def test_the_predictor_is_reset_with_the_tracker():
    spy = _Spy()
    stack = Stack(_OneCar(), car_tracker(), predictor=spy, missing_ego_pose="track_in_ego_frame")
    stack.reset()
    assert spy.resets == 1
    stack.step(moving_frame(0))
    out = stack.step(
        moving_frame(1, posed=False)
    )  # the pose disappears: tracker and predictor reset
    assert "tracker reset: no ego pose, tracking in the ego frame" in out.notes
    assert spy.resets == 2
    pose = spy.calls[-1][1]  # the ego frame taken as fixed
    assert pose is not None
    np.testing.assert_array_equal(pose.as_matrix(), np.eye(4))


def test_a_predictor_needs_a_tracker_and_must_return_one_forecast_per_track():
    with pytest.raises(ValueError, match="a predictor forecasts tracks, so it needs a tracker"):
        Stack(_OneCar(), predictor=_Spy())
    bad = Stack(_OneCar(), car_tracker(), predictor=_Spy(np.zeros((1, 3, 7))))
    with pytest.raises(
        TypeError, match=r"the predictor _Spy.step returned ndarray, expected Forecast"
    ):
        bad.step(moving_frame(0))
    two = Forecast(0.1, np.zeros((2, 3, 7)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="returned 2 forecasts for 1 tracks"):
        Stack(_OneCar(), car_tracker(), predictor=_Spy(two)).step(moving_frame(0))


# -- frames: CTRV's turn rate is measured in the world frame ---------------------------------------
def _seen_from_turning_ego(car_yaw_rate: float, n: int = 6) -> list[tuple[Tracks, SE3]]:
    """A car at world (20, 0) heading along world yaw ``car_yaw_rate * t`` at 5 m/s, tracked
    from an ego at the origin turning at 0.4 rad/s: ``(tracks in the ego frame, world_from_ego)``
    per 0.1 s step."""
    out = []
    for k in range(n):
        t = 0.1 * k
        pose = SE3.from_xyz_yaw([0.0, 0.0, 0.0], 0.4 * t)
        yaw = car_yaw_rate * t
        world = Boxes3D.from_array7(
            np.array([[20.0, 0.0, 0.8, 4.5, 1.8, 1.5, yaw]]),
            WORLD,
            k * STEP_NS,
            label=[1],
            velocity_mps=[[5.0 * np.cos(yaw), 5.0 * np.sin(yaw)]],
        )
        out.append((Tracks(np.array([3]), world.transformed(pose.inverse(), EGO)), pose))
    return out


@pytest.mark.parametrize("car_yaw_rate", [0.0, 0.3, -0.5])
def test_ctrv_turn_rate_is_the_world_frames_not_the_egos(car_yaw_rate):
    cfg = PredictionConfig(model="ctrv", horizon_s=3.0, dt_s=0.1, yaw_rate_decay_s=None)
    posed, naive = KinematicPredictor(cfg), KinematicPredictor(cfg)
    for tracks, pose in _seen_from_turning_ego(car_yaw_rate):
        with_pose = posed.step(tracks, pose)
        without = naive.step(tracks, None)
    # with the pose: the car's own turn rate; in the ego frame the ego's 0.4 rad/s is added
    want = ctrv_forecast(tracks.boxes, [car_yaw_rate], 3.0, 0.1)
    np.testing.assert_allclose(with_pose.boxes, want.boxes, atol=1e-6)
    naive_want = ctrv_forecast(tracks.boxes, [car_yaw_rate - 0.4], 3.0, 0.1)
    np.testing.assert_allclose(without.boxes, naive_want.boxes, atol=1e-6)
    assert np.hypot(*(with_pose.boxes[0, -1, :2] - without.boxes[0, -1, :2])) > 1.0


def test_ctrv_fits_only_the_window_and_forgets_on_reset():
    cfg = PredictionConfig(model="ctrv", fit_window_s=0.2, yaw_rate_decay_s=None)
    predictor = KinematicPredictor(cfg)
    yaws = [0.0, 0.0, 0.0, 0.1, 0.2]  # turning at 1 rad/s over the last 0.2 s only
    for k, yaw in enumerate(yaws):
        box = Boxes3D.from_array7(
            np.array([[0.0, 0, 0, 4, 2, 1.5, yaw]]), WORLD, k * STEP_NS, label=[1],
            velocity_mps=[[1.0, 0.0]],
        )  # fmt: skip
        forecast = predictor.step(Tracks(np.array([0]), box))
    want = ctrv_forecast(box, [1.0], 3.0, 0.1)
    np.testing.assert_allclose(forecast.boxes, want.boxes, atol=1e-9)
    predictor.reset()  # a track seen once turns at 0
    np.testing.assert_allclose(
        predictor.step(Tracks(np.array([0]), box)).boxes,
        ctrv_forecast(box, [0.0], 3.0, 0.1).boxes,
        atol=1e-12,
    )


def _ctrv_after(cfg: PredictionConfig, yaws: list[float]) -> tuple[Boxes3D, Forecast]:
    """The last box and forecast of one track stepped through ``yaws`` (world frame, 10 Hz)."""
    predictor = KinematicPredictor(cfg)
    for k, yaw in enumerate(yaws):
        box = Boxes3D.from_array7(
            np.array([[k * 0.5, 0, 0, 4, 2, 1.5, yaw]]), WORLD, k * STEP_NS, label=[1],
            velocity_mps=[[5.0, 0.0]],
        )  # fmt: skip
        forecast = predictor.step(Tracks(np.array([7]), box))
    return box, forecast


def test_shrunk_ctrv_ignores_yaw_jitter_and_flips_but_keeps_a_clean_turn():
    shrunk = PredictionConfig(model="ctrv", fit_window_s=1.0, yaw_rate_shrink_se=2.0)
    plain = PredictionConfig(model="ctrv")  # today's: 0.3 s, unshrunk
    # a straight car whose box yaw jitters +-0.1 rad and flips front to back twice
    jitter = [0.1 * (-1) ** k + (np.pi if k in (3, 8) else 0.0) for k in range(11)]
    box, forecast = _ctrv_after(shrunk, jitter)
    np.testing.assert_allclose(forecast.boxes, ctrv_forecast(box, [0.0], 3.0, 0.1, 3.0).boxes)
    _, unshrunk = _ctrv_after(plain, jitter)
    assert abs(unshrunk.boxes[0, -1, 1] - forecast.boxes[0, -1, 1]) > 0.1  # it turns
    # a clean 0.3 rad/s turn: both give it
    turn = [0.3 * 0.1 * k for k in range(11)]
    box, a = _ctrv_after(shrunk, turn)
    _, b = _ctrv_after(plain, turn)
    want = ctrv_forecast(box, [0.3], 3.0, 0.1, 3.0).boxes
    np.testing.assert_allclose(a.boxes, want, atol=1e-6)
    np.testing.assert_allclose(b.boxes, want, atol=1e-6)
    # a track seen twice has no standard error: shrunk, it does not turn
    box, two = _ctrv_after(shrunk, turn[:2])
    np.testing.assert_allclose(two.boxes, ctrv_forecast(box, [0.0], 3.0, 0.1, 3.0).boxes)
