"""The stack as one pipeline: sensors -> perception -> tracking -> prediction, built from a
stack config.

``configs/stack/*.yaml`` names the stage configs (paths relative to the stack file)::

    perception: ../perception/lidar_kitti.yaml     # or "open3d-baseline"
    tracking: ../tracking/lidar_stack.yaml         # optional
    prediction: {model: constant_velocity, horizon_s: 3.0, dt_s: 0.1}   # optional, needs tracking

``Stack.step(SensorFrame)`` runs every stage, times each one, and returns their outputs. A
user's own detector, tracker or predictor plugs in by implementing the same ``reset()`` /
``step(...)`` interface (:class:`Detector`, :class:`BoxTracker`, :class:`Predictor`) and being
passed to :class:`Stack` directly. Log replay (``drivestack replay``) runs perception, tracking
and prediction; planning and control join the pipeline in closed loop (``drivestack sim``,
whose planners forecast the simulated agents themselves).
"""

from __future__ import annotations

import inspect
import math
import numbers
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, cast, get_args, runtime_checkable

import numpy as np

from drivestack.config import load_yaml_config
from drivestack.config.strict import ConfigValueError
from drivestack.core.errors import ConfigError, DataError
from drivestack.core.frames import EGO, MAP, WORLD
from drivestack.core.transforms import SE3
from drivestack.prediction.forecast import Forecast, constant_velocity_forecast, forecast_steps
from drivestack.prediction.kinematic import ctrv_forecast
from drivestack.prediction.state import FIT_WINDOW_S, fit_yaw_rate
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.sensor_frame import SensorFrame, require_sensor_frame
from drivestack.structures.tracks import Tracks

T = TypeVar("T")


class StageOutputError(ValueError):
    """A stage's ``step`` output breaks its interface: detections in another frame than the
    ego's where the stack needs them there, or stamped with another time; tracks not in the
    detections' frame and time; a forecast of the wrong size, of 0 steps or not starting at
    its tracks. A programming error in the stage, not bad data: the message names the
    stage's class and what to change. A ``ValueError``, so code catching those still catches
    it; log replay stops on it rather than skipping every frame as bad input
    (:func:`~drivestack.replay.runner.replay`)."""


@runtime_checkable
class Detector(Protocol):
    """Perception stage of a :class:`Stack`: ``reset()`` before a sequence, then
    ``step(frame)`` once per :class:`SensorFrame`, in time order.

    ``step`` returns this frame's boxes as one :class:`Boxes3D` (anything else is a
    ``TypeError``, :func:`check_stage_output`), in a frame the boxes name: the ego frame
    (``"ego"``) when the frame's sensors can be placed on the ego (the built-in LiDAR detector
    uses the LiDAR's ``ego_from_sensor``; a detector working in a sensor's frame moves its
    boxes with ``boxes.transformed(frame.ego_from_sensor[name], "ego")``), else the sensor's
    own frame. Only boxes in the ego frame can be placed in the world: for them the stack
    hands the tracker the frame's ``world_from_ego``, and when the tracker's velocities are
    over ground a frame with an ego pose and boxes in another frame is refused
    (:class:`StageOutputError`, :func:`check_detections_in_ego`). The boxes' frame should stay
    the same from step to step (a change resets the tracker).

    ``isinstance(obj, Detector)`` checks that ``obj`` has ``reset`` and ``step``
    (``runtime_checkable``: the signatures are not checked).
    """

    def reset(self) -> None: ...

    def step(self, frame: SensorFrame) -> Boxes3D: ...


@runtime_checkable
class BoxTracker(Protocol):
    """Tracking stage of a :class:`Stack`: ``reset()`` before a sequence (the stack also
    resets it when the detections' frame, or the availability of an ego pose, changes),
    then ``step(detections, world_from_frame)`` once per frame, with increasing times.

    ``velocities_over_ground`` (a ``bool`` attribute or property) says what the tracks'
    ``velocity_mps`` are: ``True``, velocities over ground (the tracker compensates ego
    motion: it tracks in the fixed world frame ``world_from_frame`` places the detections
    in; a parked car reads ~0 whatever the ego does); ``False``, velocities relative to the
    detections' frame. The stack reads it to choose what the tracker and the predictor get
    (below), and replay to decide whether forecasts can be scored against labels in the
    world; the built-in :class:`~drivestack.tracking.tracker.Tracker` sets it from its
    config's ``ego_motion_compensation``. A tracker without the attribute is taken as
    ``False`` (``isinstance(obj, BoxTracker)`` and type checkers want it declared); one that
    is not a ``bool`` is a ``TypeError`` when the :class:`Stack` is built.

    ``detections`` are the detector's :class:`Boxes3D` for this frame, in their own frame
    (see :class:`Detector`). ``world_from_frame`` is one :class:`SE3`, the pose of
    ``detections.frame`` in a fixed world frame: the frame's ``world_from_ego`` when the
    detections are in the ego frame and the frame has a pose, or the identity when the
    tracker's velocities are over ground under ``missing_ego_pose="track_in_ego_frame"`` and
    the frame has no pose (the ego frame taken as fixed). ``None`` means no pose is known
    (detections in another frame, or a frame without ``world_from_ego``): track in the
    detections' frame as it is. A tracker whose velocities are over ground never gets
    ``None`` from the stack (under ``skip`` a frame without a pose is refused with a
    ``DataError`` and the tracker does not run; detections not in the ego frame of a frame
    with a pose are refused, :func:`check_detections_in_ego`).

    ``step`` returns :class:`Tracks` (anything else is a ``TypeError``) with their boxes in
    the detections' frame (the built-in tracker's rule).
    """

    @property
    def velocities_over_ground(self) -> bool: ...

    def reset(self) -> None: ...

    def step(self, detections: Boxes3D, world_from_frame: SE3 | None = None) -> Tracks: ...


def _takes_keyword(function: object, name: str) -> bool:
    """Whether ``function`` takes a keyword ``name``: a parameter of that name, or
    ``**kwargs`` (a wrapper passing them on); False when its signature is unreadable."""
    try:
        parameters = inspect.signature(function).parameters  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return name in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


@runtime_checkable
class Predictor(Protocol):
    """Prediction stage of a :class:`Stack`: ``reset()`` before a sequence (the stack also
    resets it whenever it resets the tracker: track ids restart then), then
    ``step(tracks, world_from_frame)`` once per frame, with increasing times.

    ``tracks`` are the tracker's output for this frame, in their own frame (the detections'),
    with ``velocity_mps`` as the tracker estimates it. ``world_from_frame`` is one
    :class:`SE3`, the pose of ``tracks.frame`` in a fixed world frame, given when the
    tracker's ``velocities_over_ground`` is true (:class:`BoxTracker`: velocities over
    ground, in the tracks' axes; the identity under ``missing_ego_pose="track_in_ego_frame"``
    without a pose), else ``None`` (velocities relative to the tracks' frame). A predictor
    that needs motion history (a turn rate) must measure it in the world frame when one is
    given: the ego's own turning changes every yaw seen in the ego frame.

    ``step`` returns one :class:`~drivestack.prediction.forecast.Forecast` (anything else is a
    ``TypeError``) with one row per track, in ``tracks``' order, its boxes in the tracks'
    frame at this step's time (a fixed snapshot of that frame: a forecast step ``k`` is where
    the object is expected at ``timestamp_ns + k * dt_s``, in the frame as it was now); a
    forecast that states its ``frame`` or ``timestamp_ns`` must state the tracks' (the
    built-in forecasts do; None: not stated).
    """

    def reset(self) -> None: ...

    def step(self, tracks: Tracks, world_from_frame: SE3 | None = None) -> Forecast: ...


#: The built-in predictors (:class:`KinematicPredictor`), by the ``model`` of
#: :class:`PredictionConfig`.
PREDICTION_MODELS: tuple[str, ...] = ("constant_velocity", "ctrv")
#: The forecasts that follow a road map's lanes (``drivestack eval prediction``): a stack in
#: log replay has no map (a SensorFrame carries lane headings at most), so they are refused.
LANE_MODELS: tuple[str, ...] = ("lane_following", "lane_branches")


@dataclass(frozen=True)
class PredictionConfig:
    """The stack's ``prediction:`` block: which forecast each confirmed track gets.

    ``model``: ``constant_velocity`` (each box moves with the tracker's velocity) or ``ctrv``
    (constant turn rate and velocity, the turn rate fitted on the track's last
    ``fit_window_s`` of yaws in the world frame and decaying with ``yaw_rate_decay_s``, None:
    held); the lane models (:data:`LANE_MODELS`) are refused, a replayed log has no road map.
    ``horizon_s`` (> 0) and ``dt_s`` (> 0) as
    :func:`~drivestack.prediction.forecast.forecast_steps`. The defaults of ``fit_window_s``
    (0.3 s) and ``yaw_rate_decay_s`` (3 s) are ``drivestack eval prediction``'s, chosen on
    KITTI tracking train with ground-truth pasts. ``yaw_rate_shrink_se`` (>= 0; 0, the
    default: unshrunk): the fitted turn rate is moved towards 0 by that many standard errors
    of its slope (:func:`~drivestack.prediction.state.fit_yaw_rate`), so the jitter of tracked
    box yaws is no turn; ``fit_window_s: 1.0, yaw_rate_shrink_se: 2.0`` is
    :data:`~drivestack.prediction.state.TRACK_YAW_RATE`, chosen on KITTI tracking train with
    tracker pasts (``eval prediction`` model ``ctrv_shrunk``).
    """

    model: str = "constant_velocity"
    horizon_s: float = 3.0
    dt_s: float = 0.1
    fit_window_s: float = FIT_WINDOW_S
    yaw_rate_decay_s: float | None = 3.0
    yaw_rate_shrink_se: float = 0.0

    @staticmethod
    def config_keys_ignored(mapping: dict[Any, Any]) -> dict[str, str]:
        """The turn-rate keys under ``model: constant_velocity``, which fits no turn rate:
        refused at their key (:mod:`drivestack.config.strict`) rather than recorded as set."""
        if mapping.get("model", "constant_velocity") != "constant_velocity":
            return {}
        return {
            key: "the constant_velocity model fits no turn rate: this key is read only with "
            "model: ctrv"
            for key in ("fit_window_s", "yaw_rate_decay_s", "yaw_rate_shrink_se")
            if key in mapping
        }

    def __post_init__(self) -> None:
        # ConfigValueError: the loader names the dotted key (prediction.model)
        for key in ("horizon_s", "dt_s", "fit_window_s", "yaw_rate_decay_s", "yaw_rate_shrink_se"):
            value = getattr(self, key)
            if value is None and key == "yaw_rate_decay_s":
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ConfigValueError(
                    f"must be a number, got {type(value).__name__} {value!r}", key=key
                )
        if not isinstance(self.model, str):
            raise ConfigValueError(
                f"must be a model name ({', '.join(PREDICTION_MODELS)}), got "
                f"{type(self.model).__name__} {self.model!r}",
                key="model",
            )
        if self.model in LANE_MODELS:
            raise ConfigValueError(
                f"{self.model!r} follows a road map's lanes, and a replayed log has no "
                f"map: use one of {', '.join(PREDICTION_MODELS)}",
                key="model",
            )
        if self.model not in PREDICTION_MODELS:
            raise ConfigValueError(
                f"must be one of {', '.join(PREDICTION_MODELS)}, got {self.model!r}", key="model"
            )
        if not (math.isfinite(self.horizon_s) and self.horizon_s > 0.0):
            raise ConfigValueError(
                f"must be a finite duration > 0 s, got {self.horizon_s!r}", key="horizon_s"
            )
        if not (math.isfinite(self.dt_s) and self.dt_s > 0.0):
            raise ConfigValueError(
                f"must be a finite time step > 0 s, got {self.dt_s!r}", key="dt_s"
            )
        if forecast_steps(self.horizon_s, self.dt_s) < 1:  # within rounding of 0 steps
            raise ConfigValueError(
                f"{self.horizon_s!r} s is no whole step of dt_s {self.dt_s!r} s: a forecast "
                "needs at least one step",
                key="horizon_s",
            )
        if not (math.isfinite(self.fit_window_s) and self.fit_window_s >= 0.0):
            raise ConfigValueError(
                f"must be finite and >= 0 s, got {self.fit_window_s!r}", key="fit_window_s"
            )
        decay = self.yaw_rate_decay_s
        if decay is not None and not (math.isfinite(decay) and decay > 0.0):
            raise ConfigValueError(f"must be null or > 0 s, got {decay!r}", key="yaw_rate_decay_s")
        if not (math.isfinite(self.yaw_rate_shrink_se) and self.yaw_rate_shrink_se >= 0.0):
            raise ConfigValueError(
                f"must be a finite number of standard errors >= 0, got {self.yaw_rate_shrink_se!r}",
                key="yaw_rate_shrink_se",
            )


class KinematicPredictor:
    """The built-in :class:`Predictor`: a constant-velocity or CTRV forecast of every track
    the tracker outputs (its output rule is the confirmation: ``min_hits`` and coasting, see
    :class:`~drivestack.tracking.tracker.Tracker`), from the tracker's velocity.

    CTRV's turn rate is the slope of a least-squares line through the track's yaws of the last
    ``cfg.fit_window_s`` (at least its last two samples; unwrapped modulo pi and shrunk by
    ``cfg.yaw_rate_shrink_se`` standard errors, as
    :func:`~drivestack.prediction.state.fit_yaw_rate` does: a front-back flip of a box is no
    turn), measured in the world frame when ``world_from_frame`` is given, else in the
    tracks' frame; a track seen once turns at 0 (and, shrunk, one seen twice). State: each
    track's recent (time, yaw) samples, dropped by :meth:`reset` and once older than the
    window.
    """

    def __init__(self, cfg: PredictionConfig) -> None:
        self.cfg = cfg
        self._yaws: dict[int, list[tuple[float, float]]] = {}

    def reset(self) -> None:
        self._yaws = {}

    def step(self, tracks: Tracks, world_from_frame: SE3 | None = None) -> Forecast:
        cfg = self.cfg
        if cfg.model == "constant_velocity":
            return constant_velocity_forecast(tracks.boxes, cfg.horizon_s, cfg.dt_s)
        return ctrv_forecast(
            tracks.boxes,
            self._yaw_rates(tracks, world_from_frame),
            cfg.horizon_s,
            cfg.dt_s,
            cfg.yaw_rate_decay_s,
        )

    def _yaw_rates(self, tracks: Tracks, world_from_frame: SE3 | None) -> np.ndarray:
        """``(A,)`` turn rates (rad/s) of the tracks, after adding this step's yaws."""
        now_s = tracks.timestamp_ns * 1e-9
        yaw = tracks.boxes.yaw_rad
        if world_from_frame is not None:
            yaw = yaw + float(world_from_frame.yaw_rad)
        keep_s = self.cfg.fit_window_s + 1e-9
        ids = tracks.track_id.tolist()
        for tid, y in zip(ids, yaw.tolist(), strict=True):
            self._yaws.setdefault(tid, []).append((now_s, y))
        for tid in list(self._yaws):
            samples = self._yaws[tid]
            # the window's samples, and at least the last two (a fit needs two samples)
            while len(samples) > 2 and now_s - samples[0][0] > keep_s:
                samples.pop(0)
            if now_s - samples[-1][0] > keep_s:
                del self._yaws[tid]
        n = len(tracks)
        width = max((len(self._yaws[t]) for t in ids), default=1)
        t_s = np.zeros((n, width))
        values = np.zeros((n, width))
        weight = np.zeros((n, width))
        for row, tid in enumerate(ids):
            samples = self._yaws[tid]
            k = len(samples)
            t_s[row, :k] = [s[0] - now_s for s in samples]
            values[row, :k] = [s[1] for s in samples]
            weight[row, :k] = 1.0
        return fit_yaw_rate(t_s, values, weight, self.cfg.yaw_rate_shrink_se)


#: What the stack does with a frame without an ego pose (see :class:`StackConfig`).
MissingEgoPose = Literal["skip", "track_in_ego_frame"]
MISSING_EGO_POSE_POLICIES: tuple[str, ...] = get_args(MissingEgoPose)


def check_missing_ego_pose(value: object, argument: str = "missing_ego_pose") -> MissingEgoPose:
    """``value`` if it is one of :data:`MISSING_EGO_POSE_POLICIES`, else ``ValueError`` (or
    ``TypeError`` for a non-string) naming ``argument``, the value and the allowed ones."""
    allowed = ", ".join(repr(p) for p in MISSING_EGO_POSE_POLICIES)
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be one of {allowed}, got {type(value).__name__}")
    if value not in MISSING_EGO_POSE_POLICIES:
        raise ValueError(f"{argument} must be one of {allowed}, got {value!r}")
    return cast(MissingEgoPose, value)


@dataclass(frozen=True)
class StackConfig:
    """Which stage configs make up the stack (paths relative to the stack YAML).

    ``missing_ego_pose``: what a tracker that compensates ego motion does with a frame that has
    no ego pose: ``skip`` the frame (a clear error, reported by replay) or
    ``track_in_ego_frame`` (track in the detections' frame taken as fixed for that frame,
    noted in the output; see :class:`Stack`).
    ``prediction``: the forecast of the tracks (:class:`PredictionConfig`; needs ``tracking``),
    None: no prediction stage.
    """

    perception: str
    tracking: str | None = None
    missing_ego_pose: MissingEgoPose = "skip"
    prediction: PredictionConfig | None = None

    def __post_init__(self) -> None:
        if self.missing_ego_pose not in MISSING_EGO_POSE_POLICIES:
            allowed = ", ".join(repr(p) for p in MISSING_EGO_POSE_POLICIES)
            raise ConfigValueError(
                f"must be one of {allowed}, got {self.missing_ego_pose!r}", key="missing_ego_pose"
            )
        if self.prediction is not None and not isinstance(self.prediction, PredictionConfig):
            raise ConfigValueError(
                f"must be a PredictionConfig, got {type(self.prediction).__name__}",
                key="prediction",
            )


@dataclass(frozen=True)
class StackOutput:
    """One frame's outputs: detections, tracks (None without a tracker), per-stage ms, notes,
    and the tracks' forecast (None without a predictor): one row per track, in ``tracks``'
    order and frame (see :class:`Predictor`)."""

    timestamp_ns: int
    detections: Boxes3D
    tracks: Tracks | None
    stage_ms: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    forecast: Forecast | None = None


class Stack:
    """Perception (+ tracking (+ prediction)) over sensor frames; state lives in the stages
    (``reset``).

    A predictor needs a tracker (``ValueError`` otherwise). It forecasts the tracks each step
    and is reset with the tracker; it gets the tracker's ``world_from_frame`` when the
    tracker's ``velocities_over_ground`` is true (:class:`BoxTracker`), else None
    (:class:`Predictor`).

    The detector gives its boxes in the ego frame when a frame carries the LiDAR's
    ``ego_from_sensor``, else in the LiDAR frame; a tracker tracks in one frame, so when the
    detections' frame changes from one step to the next (a log whose extrinsics start
    later) the tracker is reset and the step's notes say so.

    :meth:`step` takes one :class:`SensorFrame` (anything else, a bare cloud included, is a
    ``TypeError`` saying how to wrap it). A frame the stack refuses is refused before any
    stage runs, so no stage's state (e.g. a multi-sweep detector's sweep history) has seen it:
    whatever the stages, a frame whose ``timestamp_ns`` is not after the previous step's
    (``ValueError`` naming both stamps; a repeated frame included; :meth:`reset` starts a new
    sequence), and, when the tracker's velocities are over ground under
    ``missing_ego_pose="skip"``, a frame without ``world_from_ego`` (``DataError``). Both
    are data errors: log replay skips and reports such a frame.

    A stage whose ``step`` returns another type than the interface's (a plug-in detector
    returning an ``(N, 7)`` array instead of ``Boxes3D``, a tracker not returning ``Tracks``)
    is a ``TypeError`` naming the stage and its class (:func:`check_stage_output`). Each stage
    must have a callable ``reset`` and ``step``, checked here (``TypeError``,
    :func:`check_stage`); ``config`` is the dict of what the stack was built from (a YAML path
    is refused: :func:`build_stack` loads one; None: :meth:`stage_classes` describes the
    stack in a replay's outputs). Each step's outputs are checked as they pass
    (:class:`StageOutputError`, a ``ValueError`` naming the stage's class: a programming
    error in the stage, which stops a log replay): the detections' ``timestamp_ns`` must be
    the frame's or one of its sensors' (the LiDAR detector stamps the cloud's time, which a
    reader may set a few ms from the frame's; no other tolerance), the tracks' frame and time the
    detections', and a forecast must hold one row per track and at least one step ahead, its
    step 0 (the observed state) at the track: within :func:`forecast_start_tolerance_m` of
    the track's box centre (:func:`_check_forecast_start`); when the tracker's velocities are
    over ground, the detections of a frame with an ego pose must be in the ego frame
    (:func:`check_detections_in_ego`: the error names the transform that moves them there).

    ``missing_ego_pose`` (``"skip"`` or ``"track_in_ego_frame"``, else ``ValueError``): with
    ``track_in_ego_frame`` a frame without a pose is tracked with the detections' frame taken
    as fixed (note ``"no ego pose: tracked in the ego frame"``, naming the detections' frame:
    ``ego``, or the sensor frame a detector reports in); the tracks' velocities of such frames
    are relative to that moving frame, whatever :attr:`velocities_over_ground` says for the
    stack, and forecasts from them are not scored against world-frame labels. A sequence
    is tracked either in the world frame or in the ego frame, never a mix: when a pose
    appears or disappears from one step to the next, the tracker is reset (tracks restart, ids
    included) and the step's notes say so, rather than letting the "world" jump to the ego
    pose and back.
    """

    def __init__(
        self,
        detector: Detector,
        tracker: BoxTracker | None = None,
        config: dict[str, Any] | None = None,
        *,
        missing_ego_pose: str = "skip",
        predictor: Predictor | None = None,
    ) -> None:
        check_stage("detector", detector)
        if tracker is not None:
            check_stage("tracker", tracker)
        if predictor is not None:
            check_stage("predictor", predictor)
        if predictor is not None and tracker is None:
            raise ValueError("Stack: a predictor forecasts tracks, so it needs a tracker")
        if isinstance(config, str | Path):
            raise TypeError(
                f"Stack config is the dict of what the stack was built from (None for a stack of "
                f"your own stages), got the path {str(config)!r}: to build the stack a stack "
                f"YAML describes, call build_stack({str(config)!r})"
            )
        if config is not None and callable(getattr(config, "step", None)):
            raise TypeError(
                f"Stack's third argument is config (a dict or None), got the stage "
                f"{type(config).__name__}: pass a predictor as predictor=..."
            )
        if config is not None and not isinstance(config, dict):
            raise TypeError(f"Stack config must be a dict or None, got {type(config).__name__}")
        if tracker is not None:
            _tracker_velocities_over_ground(tracker)
        self.detector = detector
        self.tracker = tracker
        self.predictor = predictor
        self.config = config or {}
        self.missing_ego_pose: MissingEgoPose = check_missing_ego_pose(
            missing_ego_pose, "Stack missing_ego_pose"
        )
        self._tracked_frame: str | None = None
        self._tracked_with_pose: bool | None = None  # the last tracked step had a world pose
        self._last_timestamp_ns: int | None = None

    def reset(self) -> None:
        self.detector.reset()
        self._reset_tracking()
        self._tracked_frame = None
        self._tracked_with_pose = None
        self._last_timestamp_ns = None

    @property
    def velocities_over_ground(self) -> bool:
        """The tracker's ``velocities_over_ground`` (:class:`BoxTracker`; False without a
        tracker, or for one without the attribute): it tracks in a world frame placed with
        each frame's ego pose, so the tracks' velocities (and the forecasts) are over ground.
        Otherwise they are relative to the tracks' frame, and a forecast cannot be placed in a
        fixed world frame with the frame's ego pose."""
        return self.tracker is not None and _tracker_velocities_over_ground(self.tracker)

    def stage_classes(self) -> dict[str, str]:
        """What the stack runs, role -> ``"module.Class"`` of each stage it has (``detector``,
        then ``tracker`` and ``predictor`` when present): a replay records it in its outputs
        when the stack has no ``config`` (a stack of your own stages)."""
        stages = {"detector": self.detector, "tracker": self.tracker, "predictor": self.predictor}
        return {
            role: f"{type(stage).__module__}.{type(stage).__qualname__}"
            for role, stage in stages.items()
            if stage is not None
        }

    def _reset_tracking(self) -> None:
        """Reset the tracker and the predictor (its history is keyed by track ids)."""
        if self.tracker is not None:
            self.tracker.reset()
        if self.predictor is not None:
            self.predictor.reset()

    def _check_frame(self, frame: SensorFrame, compensate: bool) -> None:
        """Refuse ``frame`` before any stage runs (see the class docstring)."""
        last_ns = self._last_timestamp_ns
        if last_ns is not None and frame.timestamp_ns <= last_ns:
            what = "a repeated frame" if frame.timestamp_ns == last_ns else "out of order"
            raise ValueError(
                f"SensorFrame.timestamp_ns must increase from step to step: got "
                f"{frame.timestamp_ns} after {last_ns} ({what}; call Stack.reset() to start a "
                "new sequence)"
            )
        if compensate and frame.world_from_ego is None and self.missing_ego_pose == "skip":
            raise _no_pose_error(frame)

    def step(self, frame: SensorFrame) -> StackOutput:
        frame = require_sensor_frame(frame, "Stack.step")
        tracker = self.tracker
        compensate = self.velocities_over_ground
        self._check_frame(frame, compensate)
        stage_ms: dict[str, float] = {}
        start = time.perf_counter()
        detections = check_stage_output(
            "detector", self.detector, Boxes3D, self.detector.step(frame)
        )
        if detections.timestamp_ns != frame.timestamp_ns:
            _check_detection_time(self.detector, detections, frame)
        stage_ms["perception"] = 1e3 * (time.perf_counter() - start)
        tracks = None
        notes: list[str] = []
        if tracker is not None:
            start = time.perf_counter()
            if compensate and frame.world_from_ego is not None:
                check_detections_in_ego(self.detector, frame, detections)
            world_from_frame = frame.world_from_ego if detections.frame == EGO else None
            with_pose = world_from_frame is not None
            if not with_pose and compensate:  # no pose (_check_frame): track_in_ego_frame
                world_from_frame = SE3.identity()
                notes.append(f"no ego pose: tracked in the {detections.frame} frame")
            if self._tracked_frame is not None and detections.frame != self._tracked_frame:
                self._reset_tracking()
                notes.append(
                    f"tracker reset: detections moved from frame {self._tracked_frame!r} to "
                    f"{detections.frame!r}"
                )
            elif (
                compensate
                and self._tracked_with_pose is not None
                and with_pose != self._tracked_with_pose
            ):
                self._reset_tracking()
                notes.append(
                    "tracker reset: ego pose available again, tracking in the world frame"
                    if with_pose
                    else f"tracker reset: no ego pose, tracking in the {detections.frame} frame"
                )
            # a tracker whose step takes frame_fixed (the built-in and fused ones, wrappers
            # passing **kwargs on) is told when its frame only stands in for a fixed one
            if _takes_keyword(tracker.step, "frame_fixed"):
                fixed = (compensate and with_pose) or detections.frame in (WORLD, MAP)
                step: Callable[..., Tracks] = tracker.step
                stepped = step(detections, world_from_frame, frame_fixed=fixed)
            else:
                stepped = tracker.step(detections, world_from_frame)
            tracks = check_stage_output("tracker", tracker, Tracks, stepped)
            if tracks.frame != detections.frame or tracks.timestamp_ns != detections.timestamp_ns:
                raise StageOutputError(
                    f"Stack: the tracker {type(tracker).__name__}.step returned tracks in frame "
                    f"{tracks.frame!r} stamped {tracks.timestamp_ns} for detections in frame "
                    f"{detections.frame!r} stamped {detections.timestamp_ns} (tracks are in the "
                    "detections' frame, at their time)"
                )
            self._tracked_frame = detections.frame
            self._tracked_with_pose = with_pose
            stage_ms["tracking"] = 1e3 * (time.perf_counter() - start)
        self._last_timestamp_ns = frame.timestamp_ns
        forecast = None
        if self.predictor is not None and tracks is not None:
            start = time.perf_counter()
            forecast = check_stage_output(
                "predictor",
                self.predictor,
                Forecast,
                self.predictor.step(tracks, world_from_frame if compensate else None),
            )
            said = (forecast.frame, forecast.timestamp_ns)
            if said[0] not in (None, tracks.frame) or said[1] not in (None, tracks.timestamp_ns):
                raise StageOutputError(
                    f"Stack: the predictor {type(self.predictor).__name__}.step returned a "
                    f"forecast in frame {forecast.frame!r} at {forecast.timestamp_ns} ns for "
                    f"tracks in frame {tracks.frame!r} at {tracks.timestamp_ns} ns (a forecast "
                    "is in its tracks' frame, from their time)"
                )
            if forecast.boxes.shape[0] != len(tracks):
                raise StageOutputError(
                    f"Stack: the predictor {type(self.predictor).__name__}.step returned "
                    f"{forecast.boxes.shape[0]} forecasts for {len(tracks)} tracks (one per "
                    "track, in the tracks' order)"
                )
            if forecast.n_steps < 1:
                raise StageOutputError(
                    f"Stack: the predictor {type(self.predictor).__name__}.step returned a "
                    f"forecast of 0 steps (boxes {forecast.boxes.shape}: the observed state "
                    "only); a forecast looks at least one dt_s step ahead (a stack's "
                    "prediction horizon_s is > 0)"
                )
            _check_forecast_start(self.predictor, tracks, forecast)
            stage_ms["prediction"] = 1e3 * (time.perf_counter() - start)
        return StackOutput(frame.timestamp_ns, detections, tracks, stage_ms, tuple(notes), forecast)


#: The fixed part (metres) of how far a forecast's step 0 may lie from its track's box centre
#: (:func:`forecast_start_tolerance_m`): a predictor may refine the observed position (a
#: lane follower keeps its offset from a curved centreline), but not by a car's length.
FORECAST_START_MARGIN_M = 2.0


def forecast_start_tolerance_m(tracks: Tracks, dt_s: float) -> np.ndarray:
    """``(A,)`` how far (metres, in the ground plane) each track's forecast step 0 may lie
    from the track's box centre: its speed over one step (``|velocity_mps[:2]| * dt_s``,
    so a forecast starting one step late still passes) plus :data:`FORECAST_START_MARGIN_M`."""
    speed = np.hypot(tracks.boxes.velocity_mps[:, 0], tracks.boxes.velocity_mps[:, 1])
    return speed * dt_s + FORECAST_START_MARGIN_M


def _check_forecast_start(predictor: object, tracks: Tracks, forecast: Forecast) -> None:
    """Refuse a forecast whose step 0 (the observed state, :class:`Forecast`) is farther from
    its track's box centre than :func:`forecast_start_tolerance_m`: a predictor that did not
    start at the tracks, used another frame's boxes or another frame of axes (world
    coordinates for ego-frame tracks). :class:`StageOutputError` naming the predictor's
    class, the first such track's id, the distance and the tolerance. One rows-long pass per
    step."""
    if not len(tracks):
        return
    start = forecast.boxes[:, 0, :2]
    gap = np.hypot(*(start - tracks.boxes.center_m[:, :2]).T)
    allowed = forecast_start_tolerance_m(tracks, forecast.dt_s)
    far = np.flatnonzero(gap > allowed)
    if len(far):
        i = int(far[0])
        raise StageOutputError(
            f"Stack: the predictor {type(predictor).__name__}.step returned a forecast whose "
            f"step 0 for track {int(tracks.track_id[i])} (row {i}) lies {gap[i]:.2f} m from the "
            f"track's box centre, more than {allowed[i]:.2f} m (its speed over one dt_s "
            f"{forecast.dt_s:g} s + {FORECAST_START_MARGIN_M:g} m): step 0 is the observed "
            "state, in the tracks' frame at this step's time"
            + (f" ({len(far)} tracks off)" if len(far) > 1 else "")
        )


#: What each stage role of a :class:`Stack` implements (its ``step``), for the messages.
STAGE_INTERFACES: dict[str, str] = {
    "detector": "reset(), step(frame) -> Boxes3D",
    "tracker": "reset(), step(detections, world_from_frame) -> Tracks",
    "predictor": "reset(), step(tracks, world_from_frame) -> Forecast",
}

#: The built-in stages by role (module, class): one given in another role (a predictor passed
#: as the tracker) is refused up front rather than failing inside a later stage.
_BUILT_IN_STAGES: tuple[tuple[str, str, str], ...] = (
    ("drivestack.perception.lidar.detector", "LidarDetector", "detector"),
    ("drivestack.perception.lidar.baseline", "Open3dBaselineDetector", "detector"),
    ("drivestack.tracking.tracker", "Tracker", "tracker"),
    ("drivestack.pipeline", "KinematicPredictor", "predictor"),
)


def check_stage(role: str, stage: object) -> None:
    """Refuse a ``role`` stage (``"detector"``, ``"tracker"``, ``"predictor"``) without a
    callable ``reset`` and ``step`` (a function passed as a detector, a class without
    ``reset``), or a built-in stage of another role, with a ``TypeError`` naming the role,
    the class and what it lacks."""
    if isinstance(stage, type):
        raise TypeError(
            f"Stack {role} must be a {role} stage ({STAGE_INTERFACES[role]}); got the class "
            f"{stage.__name__} itself: pass an instance, {stage.__name__}(...)"
        )
    missing = [a for a in ("reset", "step") if not callable(getattr(stage, a, None))]
    name = type(stage).__name__
    if not missing:
        _check_step_arguments(role, stage, name)
    if missing:
        raise TypeError(
            f"Stack {role} must be a {role} stage ({STAGE_INTERFACES[role]}); {name} lacks "
            f"{' and '.join(f'{a}()' for a in missing)}"
        )
    for module, cls, its_role in _BUILT_IN_STAGES:
        built_in = getattr(sys.modules.get(module), cls, None)  # imported if one exists
        if its_role != role and built_in is not None and isinstance(stage, built_in):
            raise TypeError(
                f"Stack {role} must be a {role} stage ({STAGE_INTERFACES[role]}); {name} is a "
                f"{its_role} (pass it as the {its_role})"
            )


#: How many positional arguments the stack passes each role's ``step``.
_STEP_ARGUMENTS = {"detector": 1, "tracker": 2, "predictor": 2}


def _check_step_arguments(role: str, stage: object, name: str) -> None:
    """``TypeError`` when ``stage.step``, a plain method, cannot take the arguments the stack
    passes its role (a tracker's ``step(self, detections)`` without ``world_from_frame``); a
    decorated ``step`` (its wrapper may supply arguments), another callable, or one whose
    signature Python cannot read is taken as it is."""
    step = stage.step  # type: ignore[attr-defined]
    if not inspect.ismethod(step) or hasattr(step.__func__, "__wrapped__"):
        return  # decorated (a wrapper may supply arguments), dispatching or built: as it is
    try:
        signature = inspect.signature(step, follow_wrapped=False)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*[None] * _STEP_ARGUMENTS[role])
    except TypeError:
        pose = (
            " (world_from_frame is always passed, None without a pose)"
            if role != "detector"
            else ""
        )
        raise TypeError(
            f"Stack {role} must be a {role} stage ({STAGE_INTERFACES[role]}); {name}.step"
            f"{signature} cannot take the {_STEP_ARGUMENTS[role]} argument(s) the stack "
            f"passes{pose}"
        ) from None


def _check_detection_time(detector: object, detections: Boxes3D, frame: SensorFrame) -> None:
    """Refuse detections not stamped with the frame's ``timestamp_ns`` nor with the time of
    one of its sensors' data (the built-in LiDAR detector stamps its boxes with the cloud's
    time, which a reader may set a few ms from the frame's): a detector that forgot the stamp
    (0) or returned an older frame's boxes (:class:`StageOutputError`)."""
    sensors = {
        **{f"lidars[{k!r}]": v.timestamp_ns for k, v in frame.lidars.items()},
        **{f"cameras[{k!r}]": v.timestamp_ns for k, v in frame.cameras.items()},
    }
    if detections.timestamp_ns in sensors.values():
        return
    times = "".join(f", {k} at {t}" for k, t in sensors.items())
    raise StageOutputError(
        f"Stack: the detector {type(detector).__name__}.step returned boxes stamped "
        f"{detections.timestamp_ns} for a frame at {frame.timestamp_ns}{times} (detections "
        "carry the frame's timestamp_ns, or the time of the sensor data they come from)"
    )


def check_stage_output(
    stage: str, owner: object, kind: type[T], output: object, context: str = "Stack"
) -> T:
    """``output`` if it is a ``kind``, else ``TypeError`` naming the ``context`` (``"Stack"``,
    ``"closed loop"``), the stage and its class (a plug-in stage returning, say, an ``(N, 7)``
    array instead of ``Boxes3D``)."""
    if not isinstance(output, kind):
        hint = (
            "; build one with Boxes3D.from_array7(boxes, frame, timestamp_ns)"
            if kind is Boxes3D and type(output).__name__ == "ndarray"
            else ""
        )
        raise TypeError(
            f"{context}: the {stage} {type(owner).__name__}.step returned "
            f"{type(output).__name__}, expected {kind.__name__}{hint}"
        )
    return output


def _no_pose_error(frame: SensorFrame) -> DataError:
    """The ``DataError`` of a frame without ``world_from_ego`` under ``missing_ego_pose: skip``
    when the tracker's velocities are over ground."""
    return DataError(
        "no ego pose for this frame, and the tracker compensates ego motion "
        "(to track anyway: missing_ego_pose: track_in_ego_frame in the stack, "
        "or replay --missing-ego-pose track_in_ego_frame)",
        path=frame.source or None,
        record=f"t={frame.timestamp_ns}",
        field="world_from_ego",
    )


def _tracker_velocities_over_ground(tracker: object) -> bool:
    """The tracker's ``velocities_over_ground`` (:class:`BoxTracker`), False when it has none;
    ``TypeError`` naming its class when it is not a bool."""
    value = getattr(tracker, "velocities_over_ground", False)
    if not isinstance(value, bool | np.bool_):
        raise TypeError(
            f"Stack tracker {type(tracker).__name__}.velocities_over_ground must be a bool "
            f"(True: its velocities are over ground; see BoxTracker), got "
            f"{type(value).__name__} {value!r}"
        )
    return bool(value)


def _sensor_in(frame: SensorFrame, frame_id: str) -> str | None:
    """The name of ``frame``'s sensor whose data are in frame ``frame_id`` (a LiDAR whose cloud,
    or a camera whose calibration, names it; else a sensor of that name), None for none."""
    for name, cloud in frame.lidars.items():
        if cloud.frame == frame_id:
            return name
    for name, image in frame.cameras.items():
        if image.calibration.frame == frame_id:
            return name
    named = {*frame.lidars, *frame.cameras, *frame.ego_from_sensor}
    return frame_id if frame_id in named else None


#: Why the stack needs ego-frame detections (the reason :func:`check_detections_in_ego` gives).
_STACK_NEEDS_EGO = (
    "the tracker's velocities are over ground, and the frame's world_from_ego places only "
    "ego-frame boxes in the world"
)


def check_detections_in_ego(
    detector: object,
    frame: SensorFrame,
    detections: Boxes3D,
    context: str = "Stack",
    why: str = _STACK_NEEDS_EGO,
) -> None:
    """Refuse ``detections`` of ``frame`` that are not in the ego frame (``"ego"``), where
    ``context`` (``"Stack"``, ``"closed loop"``) needs them for the reason ``why``.

    Raises:
        StageOutputError: the detector's mistake, naming its class, the boxes' frame and the
            fix: ``boxes.transformed(frame.ego_from_sensor[name], "ego")`` when the boxes are
            in the frame of the sensor ``name`` and the frame has its extrinsic, else that
            boxes go out in the ego frame (boxes in ``"world"``, say).
        DataError: the boxes are in the frame of a sensor that ``ego_from_sensor`` lacks (the
            input has no extrinsic to move them with: field ``ego_from_sensor``, naming the
            sensor and the ones it has).
    """
    boxes_frame = detections.frame
    if boxes_frame == EGO:
        return
    sensor = _sensor_in(frame, boxes_frame)
    what = f"the detections are in frame {boxes_frame!r}, not {EGO!r}"
    if sensor is not None and sensor not in frame.ego_from_sensor:
        kind = "LiDAR" if sensor in frame.lidars else "camera" if sensor in frame.cameras else ""
        raise DataError(
            f"{what}: ego_from_sensor has no entry for {kind + ' ' if kind else ''}{sensor!r} "
            f"(it has {sorted(frame.ego_from_sensor)}), so the detector could not move its boxes "
            f"to the ego frame, and {why}",
            path=frame.source or None,
            record=f"t={frame.timestamp_ns}",
            field="ego_from_sensor",
        )
    if sensor is not None:
        fix = (
            "move them to the ego frame before returning them: "
            f'boxes.transformed(frame.ego_from_sensor[{sensor!r}], "{EGO}")'
        )
    else:
        frames = sorted(
            {c.frame for c in frame.lidars.values()}
            | {i.calibration.frame for i in frame.cameras.values()}
        )
        fix = f"no sensor of the frame is in it (they are in {frames}): return boxes in {EGO!r}"
    raise StageOutputError(
        f"{context}: the detector {type(detector).__name__}.step returned boxes in frame "
        f"{boxes_frame!r}, not {EGO!r}, for a frame at {frame.timestamp_ns} with an ego pose: "
        f"{why}; {fix}"
    )


def _stage_path(stack_path: Path, value: str, key: str) -> Path:
    path = (stack_path.parent / value).resolve()
    if not path.is_file():
        raise ConfigError(
            f"stage config {value!r} not found (looked at {path})", path=str(stack_path), field=key
        )
    return path


def _warn_offline_keys(tracker_config: Any, path: Path) -> None:
    """One warning per class whose tracker config sets ``offline_*`` rules: whole-track
    decisions only ``drivestack eval tracking`` makes (they need the whole sequence); an
    online stack (replay, sim) runs without them, and silently did."""
    from dataclasses import fields

    from drivestack.tracking.config import ClassTrackerConfig

    default = ClassTrackerConfig()
    for name, cls_cfg in tracker_config.classes.items():
        offline = [
            f.name
            for f in fields(cls_cfg)
            if f.name.startswith("offline_")
            and getattr(cls_cfg, f.name) != getattr(default, f.name)
        ]
        if offline:
            warnings.warn(
                f"{path}: classes.{name}: {', '.join(offline)} are whole-track rules of "
                "drivestack eval tracking (they need the whole sequence): this online stack "
                "runs without them",
                UserWarning,
                stacklevel=3,
            )


def build_stack(stack_path: str | Path, *, missing_ego_pose: str | None = None) -> Stack:
    """Load a stack YAML and build its stages (plain code, no registry); ``missing_ego_pose``
    (one of :data:`MISSING_EGO_POSE_POLICIES`, else ``ValueError``) overrides the YAML's."""
    if missing_ego_pose is not None:
        check_missing_ego_pose(missing_ego_pose, "build_stack missing_ego_pose")
    if not isinstance(stack_path, str | Path):
        raise TypeError(
            f"build_stack stack_path must be the path of a stack YAML (configs/stack/*.yaml), "
            f"got {type(stack_path).__name__}; to assemble stages in code, build "
            "Stack(detector, tracker, predictor=...) yourself"
        )
    stack_path = Path(stack_path)
    cfg = load_yaml_config(StackConfig, stack_path)
    config: dict[str, Any] = {
        "stack": str(stack_path),
        "perception": cfg.perception,
        "tracking": cfg.tracking,
    }
    detector: Detector
    if cfg.perception == "open3d-baseline":
        from drivestack.perception.lidar.baseline import Open3dBaselineDetector

        detector = Open3dBaselineDetector()
    else:
        from drivestack.perception.lidar.detector import build_lidar_detector

        detector = build_lidar_detector(_stage_path(stack_path, cfg.perception, "perception"))
    tracker = None
    if cfg.tracking is not None:
        from drivestack.tracking import build_tracker, load_tracker_config

        tracking_path = _stage_path(stack_path, cfg.tracking, "tracking")
        tracker_config = load_tracker_config(tracking_path)
        _warn_offline_keys(tracker_config, tracking_path)
        tracker = build_tracker(tracker_config)
        config["tracking_config"] = asdict(tracker_config)  # the values, not only the file
    detector_config = getattr(detector, "cfg", None)
    if is_dataclass(detector_config) and not isinstance(detector_config, type):
        config["perception_config"] = asdict(detector_config)
    predictor = None
    if cfg.prediction is not None:
        if tracker is None:
            raise ConfigError(
                "prediction forecasts tracks: it needs a tracking stage (add tracking: ...)",
                path=str(stack_path),
                field="prediction",
            )
        predictor = KinematicPredictor(cfg.prediction)
        config["prediction"] = asdict(cfg.prediction)  # only then: a stack without is as before
    policy = cfg.missing_ego_pose if missing_ego_pose is None else missing_ego_pose
    config["missing_ego_pose"] = policy
    return Stack(detector, tracker, config, missing_ego_pose=policy, predictor=predictor)
