"""3D multi-object tracker: Kalman motion model + association + lifecycle, per class.

:class:`ClassTracker` tracks one class; :class:`Tracker` routes detections to one
:class:`ClassTracker` per configured class, optionally tracking in a world frame (ego-motion
compensation), and is the pipeline stage (``reset()`` / ``step(Boxes3D) -> Tracks``). The
tracks live in :class:`ClassTrackState` objects (``Tracker.state``, one per class); the next
free track id and the tracked frame live on the :class:`Tracker`, so a replay snapshots the
whole tracker with ``copy.deepcopy(tracker)`` and steps the copy to resume identically.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from drivestack.config import config_or_file
from drivestack.core.frames import MAP, WORLD
from drivestack.core.transforms import SE3, wrap_angle
from drivestack.kernels._common import magnitude_limit
from drivestack.structures.boxes import Boxes3D, rigid_move_centres_and_yaw
from drivestack.structures.labels import ObjectClass
from drivestack.structures.tracks import Tracks
from drivestack.tracking.anchor import anchored_boxes, axes_aligned_to
from drivestack.tracking.association import associate
from drivestack.tracking.config import ClassTrackerConfig, TrackerConfig, load_tracker_config
from drivestack.tracking.motion import (
    ConstantVelocityModel,
    KalmanMotionModel,
    build_motion_model,
)

#: With anchor-point measurements, a constant-velocity track faster than this (m/s) has its
#: yaw pointed along its velocity (:meth:`ClassTracker._axes_along_velocity`), and only a
#: slower one is turned when its boxes are wider than long.
HEADING_MIN_SPEED_MPS = 1.0
#: Consecutive steps closer than this (10 us: a 100 kHz sensor) or further apart than
#: :data:`MAX_PLAUSIBLE_STEP_NS` (a day) are warned about once per tracker: times in another
#: unit than nanoseconds.
MIN_PLAUSIBLE_STEP_NS = 10_000
MAX_PLAUSIBLE_STEP_NS = 86_400 * 1_000_000_000


def _i(n: int = 0) -> np.ndarray:
    return np.zeros(n, dtype=np.int64)


@dataclass
class ClassTrackState:
    """Live tracks of one class: states ``x (N, S)``, covariances ``P (N, S, S)`` and per-track
    ``track_id``, ``age``, ``hits``, ``time_since_update`` (frames), ``last_score``,
    ``score_sum`` (of all matched detections), ``last_box`` (the last matched detection,
    ``(N, 7)``), ``last_update_ns`` (the timestamp of the last matched detection) and, with
    anchor-point measurements, ``size_history (N, K, 2)`` (the length and width of the last
    ``K`` matched detections turned to the track's axes, slot ``hits % K`` written next, NaN
    until written; ``K`` is 0 without anchors)."""

    x: np.ndarray
    P: np.ndarray
    track_id: np.ndarray = field(default_factory=_i)
    age: np.ndarray = field(default_factory=_i)
    hits: np.ndarray = field(default_factory=_i)
    time_since_update: np.ndarray = field(default_factory=_i)
    last_score: np.ndarray = field(default_factory=lambda: np.zeros(0))
    score_sum: np.ndarray = field(default_factory=lambda: np.zeros(0))
    last_box: np.ndarray = field(default_factory=lambda: np.zeros((0, 7)))
    last_update_ns: np.ndarray = field(default_factory=_i)
    size_history: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 2)))
    frame_count: int = 0
    last_timestamp_ns: int | None = None

    @classmethod
    def empty(cls, state_dim: int, size_window_frames: int = 0) -> ClassTrackState:
        return cls(
            np.zeros((0, state_dim)),
            np.zeros((0, state_dim, state_dim)),
            size_history=np.zeros((0, size_window_frames, 2)),
        )

    def keep(self, rows: np.ndarray) -> None:
        """Keep only ``rows`` (indices or a boolean mask) of every per-track field."""
        for name in (
            "x",
            "P",
            "track_id",
            "age",
            "hits",
            "time_since_update",
            "last_score",
            "score_sum",
            "last_box",
            "last_update_ns",
            "size_history",
        ):
            setattr(self, name, getattr(self, name)[rows])


@dataclass(frozen=True)
class ClassStepOutput:
    """Output rows of one class step (in the tracking frame: the world frame with ego-motion
    compensation, else the detections' frame): ``track_id``, ``boxes (K, 7)``, ``velocity
    (K, 2)`` (m/s along the tracking frame's x and y), ``score``, ``age``, ``hits``,
    ``time_since_update`` and ``detection_index`` (the matched input detection, -1 when
    coasting)."""

    track_id: np.ndarray
    boxes: np.ndarray
    velocity: np.ndarray
    score: np.ndarray
    age: np.ndarray
    hits: np.ndarray
    time_since_update: np.ndarray
    detection_index: np.ndarray


class ClassTracker:
    """Tracker of one class on ``(D, 7)`` boxes with ``(D,)`` scores."""

    def __init__(self, cfg: ClassTrackerConfig) -> None:
        self.cfg = cfg
        self.model: KalmanMotionModel = build_motion_model(cfg.motion)
        self._size_window = cfg.anchor.size_window_frames if cfg.anchor.enabled else 0
        self.state = ClassTrackState.empty(self.model.state_dim, self._size_window)

    def reset(self) -> None:
        self.state = ClassTrackState.empty(self.model.state_dim, self._size_window)

    def step(
        self,
        boxes: np.ndarray,
        scores: np.ndarray,
        timestamp_ns: int,
        next_id: int,
        viewpoint_xy_m: np.ndarray | None = None,
        *,
        velocities_over_ground: bool = True,
    ) -> tuple[ClassStepOutput, int]:
        """Advance to ``timestamp_ns`` with detections; returns the output and the next free id.
        ``viewpoint_xy_m (2,)``: the sensor's position in the tracking frame, for anchor-point
        measurements (``None``: the frame's origin). ``velocities_over_ground``: whether the
        tracking frame is fixed to the ground, so that the tracks' velocities are their motion
        over ground; only then do anchor-point tracks take their heading from their velocity
        (relative to a moving ego, a parked car "moves" backwards along the ego's path).

        Raises:
            ValueError: ``timestamp_ns`` is not after the previous step's (since ``reset``).
        """
        s, m, life = self.state, self.model, self.cfg.lifecycle
        dt_s = 0.0 if s.last_timestamp_ns is None else (timestamp_ns - s.last_timestamp_ns) * 1e-9
        if s.last_timestamp_ns is not None and dt_s <= 0:
            raise ValueError(_timestamp_message(timestamp_ns, s.last_timestamp_ns))
        s.last_timestamp_ns = timestamp_ns
        s.frame_count += 1
        if life.max_coast_s is not None and s.track_id.size:
            # 0. tracks not updated for more than max_coast_s die before they can match
            stale = (timestamp_ns - s.last_update_ns) * 1e-9 > life.max_coast_s
            if stale.any():
                s.keep(~stale)
        # 1. predict
        s.x, s.P = m.predict(s.x, s.P, dt_s)
        # 2. associate
        rows, cols = associate(self.cfg.association, m.boxes(s.x), boxes, scores)
        # 3. update matched tracks
        s.age += 1
        s.time_since_update += 1
        det_of_track = np.full(s.track_id.shape[0], -1, dtype=np.int64)
        if rows.size:
            matched_boxes, matched_scores = boxes[cols], scores[cols]
            measured = matched_boxes
            if self._size_window:
                measured = self._anchored(
                    rows, matched_boxes, viewpoint_xy_m, velocities_over_ground
                )
            s.x[rows], s.P[rows] = m.update(s.x[rows], s.P[rows], measured)
            s.hits[rows] += 1
            s.time_since_update[rows] = 0
            s.last_score[rows] = matched_scores
            s.score_sum[rows] += matched_scores
            s.last_box[rows] = matched_boxes
            s.last_update_ns[rows] = timestamp_ns
            det_of_track[rows] = cols
        # 4. births from unmatched detections
        unmatched = np.ones(boxes.shape[0], dtype=bool)
        unmatched[cols] = False
        unmatched &= scores >= life.birth_score
        if self.cfg.association.two_stage:
            unmatched &= scores >= self.cfg.association.high_score
        born = unmatched.nonzero()[0]  # 1-D: flatnonzero without its wrapper
        if born.size:
            next_id = self._start_tracks(born, boxes, scores, next_id, timestamp_ns)
            det_of_track = np.concatenate([det_of_track, born])
        # 5. deaths
        alive = s.time_since_update <= life.max_age
        if not alive.all():
            kept = alive.nonzero()[0]
            s.keep(kept)
            det_of_track = det_of_track[kept]
        # 6. output
        tsu = s.time_since_update
        hits_ok = s.hits >= life.min_hits
        in_first_frames = s.frame_count <= life.min_hits  # confirmed: hits_ok or this
        out = (tsu == 0) | ((tsu <= life.output_coast_frames) & hits_ok)
        if not in_first_frames:
            out &= hits_ok
        out &= s.score_sum >= life.min_output_score * s.hits
        idx = out.nonzero()[0]
        x_out = s.x[idx]
        out_boxes = m.boxes(x_out)
        tsu_out, hits_out = tsu[idx], s.hits[idx]
        if life.output_detection_box:
            fresh = tsu_out == 0
            out_boxes[fresh] = s.last_box[idx[fresh]]
        score = (
            s.last_score[idx]
            - life.coast_score_penalty * tsu_out
            + life.hits_score_bonus * np.minimum(hits_out, life.hits_score_cap)
        )
        if life.min_score_floor is not None:
            np.maximum(score, life.min_score_floor, out=score)
        return (
            ClassStepOutput(
                track_id=s.track_id[idx],
                boxes=out_boxes,
                velocity=m.velocity(x_out),
                score=score,
                age=s.age[idx],
                hits=hits_out,
                time_since_update=tsu_out,
                detection_index=det_of_track[idx],
            ),
            next_id,
        )

    def _anchored(
        self,
        rows: np.ndarray,
        matched_boxes: np.ndarray,
        viewpoint_xy_m: np.ndarray | None,
        velocities_over_ground: bool,
    ) -> np.ndarray:
        """``(M, 7)`` anchor-point measurements of tracks ``rows`` from their matched
        detections ``(M, 7)`` (:mod:`drivestack.tracking.anchor`), recording the detections'
        sizes in the tracks' size histories first (before ``hits`` counts this match). The
        tracks' predicted boxes take the new reference size the same way (their centres
        move so that their own visible faces stay), so a change of the reference size is no
        innovation: only the visible faces' motion is."""
        s = self.state
        speed = np.hypot(*self.model.velocity(s.x[rows]).T)
        moving = speed > HEADING_MIN_SPEED_MPS
        constant_velocity = isinstance(self.model, ConstantVelocityModel)
        if constant_velocity and velocities_over_ground and moving.any():
            self._axes_along_velocity(rows[moving])
        aligned = axes_aligned_to(matched_boxes, s.x[rows, 3])
        s.size_history[rows, s.hits[rows] % self._size_window] = aligned[:, 3:5]
        reference = np.nanmedian(s.size_history[rows], axis=1)
        # a standing vehicle track whose boxes are mostly wider than long has its axes the
        # wrong way round (born from a box fitted across the vehicle): turn it by 90 degrees.
        # Not a moving one: its velocity gives its axes (a CV track's, above; a CTRV track's
        # velocity follows its yaw), and a moving car seen from behind may well give boxes
        # wider than long. Nor a CTRV track at all: its yaw is its direction of travel, so the
        # turn would swing its velocity sideways (a car creeping at 0.8 m/s went sideways, then
        # its speed was filtered towards 0 by measurements aligned to the wrong axis)
        across = (reference[:, 0] < reference[:, 1]) & ~moving & constant_velocity
        if across.any():
            turned = rows[across]
            self._turn_axes(turned)
            reference[across] = reference[across, ::-1]
            aligned[across] = axes_aligned_to(aligned[across], s.x[turned, 3])
        viewpoint = np.zeros(2) if viewpoint_xy_m is None else viewpoint_xy_m
        predicted = anchored_boxes(self.model.boxes(s.x[rows]), reference, viewpoint)
        s.x[rows, 0:2] = predicted[:, 0:2]
        s.x[rows, 4:6] = reference  # state slots 4, 5: length, width
        return anchored_boxes(aligned, reference, viewpoint)

    def _axes_along_velocity(self, rows: np.ndarray) -> None:
        """Constant-velocity tracks ``rows`` (moving): turn each by 90 degrees where its yaw
        axis lies more than 45 degrees from its velocity (:meth:`_turn_axes`), then by 180
        where its yaw points against it (the same footprint: a LiDAR box's yaw is an axis),
        so that a moving vehicle track's yaw is its heading (the planners match it to
        lanes)."""
        x = self.state.x
        heading = np.arctan2(x[rows, 8], x[rows, 7])
        across = np.abs(np.sin(x[rows, 3] - heading)) > math.sin(0.25 * math.pi)
        if across.any():
            self._turn_axes(rows[across])
        backwards = np.cos(x[rows, 3] - heading) < 0.0
        if backwards.any():
            flipped = rows[backwards]
            x[flipped, 3] = wrap_angle(x[flipped, 3] + np.pi)

    def _turn_axes(self, rows: np.ndarray) -> None:
        """Turn tracks ``rows`` by 90 degrees: yaw + pi/2, length and width swapped in the
        state, its covariance and the size history (the same footprint)."""
        s = self.state
        s.x[rows, 3] = wrap_angle(s.x[rows, 3] + 0.5 * np.pi)
        s.x[rows, 4:6] = s.x[rows, 5:3:-1]
        order = np.arange(s.P.shape[1])
        order[4], order[5] = 5, 4  # state slots 4, 5: length, width
        s.P[rows] = s.P[rows][:, order][:, :, order]
        s.size_history[rows] = s.size_history[rows, :, ::-1]

    def _start_tracks(
        self,
        born: np.ndarray,
        boxes: np.ndarray,
        scores: np.ndarray,
        next_id: int,
        timestamp_ns: int,
    ) -> int:
        """Append tracks for detections ``born`` (indices into ``boxes (D, 7)``) of the frame at
        ``timestamp_ns``; returns the next free id."""
        s = self.state
        n = born.size
        born_boxes, born_scores = boxes[born], scores[born]
        bx, bP = self.model.initiate(born_boxes)
        ones = np.ones(n, dtype=np.int64)
        s.x = np.concatenate([s.x, bx])
        s.P = np.concatenate([s.P, bP])
        s.track_id = np.concatenate([s.track_id, np.arange(next_id, next_id + n)])
        s.age = np.concatenate([s.age, ones])
        s.hits = np.concatenate([s.hits, ones])
        s.time_since_update = np.concatenate([s.time_since_update, _i(n)])
        s.last_score = np.concatenate([s.last_score, born_scores])
        s.score_sum = np.concatenate([s.score_sum, born_scores])
        s.last_box = np.concatenate([s.last_box, born_boxes])
        s.last_update_ns = np.concatenate([s.last_update_ns, np.full(n, timestamp_ns, np.int64)])
        sizes = np.full((n, self._size_window, 2), np.nan)
        if self._size_window:
            sizes[:, 0] = born_boxes[:, 3:5]
        s.size_history = np.concatenate([s.size_history, sizes])
        return next_id + n


def _cat(arrays: list[np.ndarray]) -> np.ndarray:
    """``np.concatenate`` that hands back a single array as it is (one class: no copy)."""
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


class Tracker:
    """Multi-class 3D tracker stage: ``reset()``, ``step(detections) -> Tracks``.

    Detections whose label has no entry in ``cfg.classes`` are not tracked: after each step
    :attr:`last_dropped_detections` is how many of its detections that were,
    :attr:`dropped_detections_by_label` counts them per class name since the last ``reset``,
    and the first step that drops a class warns once per tracker (a ``UserWarning`` naming
    it; ``reset`` clears the counts, not that: a loop over sequences says it once).
    ``copy.copy`` and ``copy.deepcopy`` both give an independent tracker (for a second
    stream).

    Frames: every step since ``reset`` must give its detections in one frame (``ego``,
    ``lidar``, ...; a change raises ``ValueError``), with increasing ``timestamp_ns`` (in ns:
    steps under 10 us or over a day apart are warned about once, as times in another unit). With
    ``cfg.ego_motion_compensation``, ``step`` also takes ``world_from_frame`` (the pose of the
    detections' frame in a fixed world frame) and tracks there, so the detections must not
    already be in a world frame (``world`` / ``map``); without it, the detections' frame is
    taken as fixed. Outputs are returned in the detections' frame. ``last_detection_index`` is,
    after each step, the ``(N,)`` index of the input detection each output track was matched to
    (-1 when coasting).

    Velocities (``Tracks.boxes.velocity_mps``, ``(N, 2)`` m/s, xy axes of the detections'
    frame): with ``ego_motion_compensation`` the velocity over ground (the rate of change of
    the track's world-frame position, rotated into the detections' frame at this step: a
    parked car reads ~0 whatever the ego does); without it, the velocity relative to the
    detections' frame (the rate of change of the position in that frame: a parked car
    passed by the ego at 10 m/s reads about -10 m/s along the ego's heading). Same field and
    frame in both cases: which one it is follows from the tracker config
    (:attr:`velocities_over_ground`).
    """

    #: whether the implausible-time-step warning was given (a class default: trackers
    #: pickled before the attribute existed resume)
    _warned_time_step = False

    def __init__(self, cfg: TrackerConfig | str | Path) -> None:
        """``cfg``: a config object or the path of its YAML file.

        Raises:
            TypeError: ``cfg`` is neither a ``TrackerConfig`` nor a path.
            ConfigError: the YAML file is missing or invalid.
        """
        self.cfg = config_or_file(cfg, TrackerConfig, load_tracker_config, "Tracker")
        self.class_trackers: dict[int, ClassTracker] = {
            int(ObjectClass.from_name(name)): ClassTracker(c)
            for name, c in self.cfg.classes.items()
        }
        self.next_id = 0
        self.last_detection_index = np.zeros(0, dtype=np.int64)
        self.last_dropped_detections = 0
        self.dropped_detections_by_label: dict[str, int] = {}
        self._frame: str | None = None
        self._warned_labels: set[int] = set()
        self._warned_time_step = False

    @property
    def state(self) -> dict[int, ClassTrackState]:
        return {label: t.state for label, t in self.class_trackers.items()}

    @property
    def velocities_over_ground(self) -> bool:
        """``cfg.ego_motion_compensation``: the tracks' velocities are over ground (else
        relative to the detections' frame); the flag a :class:`~drivestack.pipeline.Stack`
        reads (:class:`~drivestack.pipeline.BoxTracker`)."""
        return self.cfg.ego_motion_compensation

    def reset(self) -> None:
        """Forget every track, the tracked frame and the dropped-detection counts: the next
        step starts a new sequence, and its track ids start from 0 again (a consumer that
        keys objects by ``track_id`` across sequences must reset too, as the
        :class:`~drivestack.pipeline.Stack` resets its predictor)."""
        for t in self.class_trackers.values():
            t.reset()
        self.next_id = 0
        self.last_detection_index = np.zeros(0, dtype=np.int64)
        self.last_dropped_detections = 0
        self.dropped_detections_by_label = {}
        self._frame = None

    def __copy__(self) -> Tracker:
        """A deep copy: the class trackers hold the mutable state, so a shallow copy stepped
        the original's tracks too (a second stream needs its own)."""
        import copy

        return copy.deepcopy(self)

    def step(
        self,
        detections: Boxes3D,
        world_from_frame: SE3 | None = None,
        *,
        frame_fixed: bool | None = None,
    ) -> Tracks:
        """Advance every class's tracks by one frame and update them with ``detections``.

        Args:
            detections: this frame's ``N`` boxes (``label`` picks the class tracker, ``score``
                feeds the track scores; ``timestamp_ns`` sets the prediction step and must
                increase from step to step; ``frame`` must stay the same from step to step).
            world_from_frame: with ``cfg.ego_motion_compensation``, the pose (one ``SE3``, not
                a batch) of the detections' frame in a fixed world frame (e.g.
                ``SensorFrame.world_from_ego`` for ego-frame boxes; for KITTI tracking files
                :func:`~drivestack.ingest.kitti_tracking.world_from_lidar_poses`); ignored
                without (but still checked to be one ``SE3`` when given).
            frame_fixed: whether the frame tracked in (the world frame of
                ``world_from_frame`` with ``ego_motion_compensation``, else the detections'
                frame) is fixed to the ground. False when it only stands in for one: a
                moving ego's frame tracked without compensation, or the identity given for a
                frame without a pose (:class:`~drivestack.pipeline.Stack` under
                ``missing_ego_pose="track_in_ego_frame"``). The tracks' velocities are then
                relative to the moving frame, and anchor-point tracks (``anchor.enabled``)
                take no heading from them (a parked car would "drive" backwards along the
                ego's path). None (the default): fixed, as the class docstring takes the
                detections' frame without compensation (a sensor on the ground); callers
                that know their ego moves say False.

        Returns:
            The output tracks (ids, boxes in the detections' frame, velocities as the class
            docstring says, scores, ages); :attr:`last_detection_index` says which detection
            each one took, :attr:`last_dropped_detections` how many were of untracked classes.

        Raises:
            TypeError: ``detections`` is not a :class:`Boxes3D`, or ``world_from_frame`` is
                neither ``None`` nor an ``SE3`` (e.g. a 4x4 array).
            ValueError: ``world_from_frame`` is a batch of poses; ego-motion compensation is
                on and ``world_from_frame`` is missing, or the detections are already in a
                world frame; ``detections.frame`` differs from the previous steps' frame since
                ``reset``; ``detections.timestamp_ns`` is not after the previous step's (a
                repeated or out-of-order frame); a detection's position or size, in the frame
                it is tracked in (the world frame with ``world_from_frame``), is beyond
                +-3.5e101 m or overflows (naming the row).
        """
        if not isinstance(detections, Boxes3D):
            raise TypeError(_not_boxes_message(detections))
        frame, timestamp_ns = detections.frame, detections.timestamp_ns
        compensate = self.cfg.ego_motion_compensation
        if world_from_frame is not None:
            _check_pose(world_from_frame)
        if compensate:
            if world_from_frame is None:
                raise ValueError(
                    "ego_motion_compensation is on: step() needs world_from_frame, the SE3 pose "
                    "of the detections' frame in a fixed world frame (e.g. the frame's "
                    "world_from_ego; KITTI: drivestack.ingest.kitti_tracking.world_from_lidar_poses)"
                    ", or set ego_motion_compensation: false in the tracker config"
                )
            if frame in _WORLD_FRAMES:
                raise ValueError(
                    f"detections.frame is {frame!r}, a fixed world frame, but "
                    "ego_motion_compensation is on: world_from_frame would move the boxes "
                    f"from {frame!r} into the world frame a second time; pass the boxes in "
                    "their sensor or ego frame with that frame's pose, or set "
                    "ego_motion_compensation: false in the tracker config to track "
                    "world-frame boxes as they are"
                )
        if self._frame is not None and frame != self._frame:
            raise ValueError(
                f"detections.frame is {frame!r}, but the previous steps since reset() had "
                f"{self._frame!r}: a tracker tracks in one frame; transform the boxes to "
                f"{self._frame!r} (Boxes3D.transformed) or call reset() first"
            )
        last_ns = self._last_timestamp_ns()
        if last_ns is not None and timestamp_ns <= last_ns:
            raise ValueError(_timestamp_message(timestamp_ns, last_ns))
        if last_ns is not None and not self._warned_time_step:
            self._warn_implausible_time_step(timestamp_ns - last_ns)
        arr = detections.to_array7()
        if compensate and world_from_frame is not None:
            # the boxes of detections.transformed(world_from_frame, WORLD), without building
            # a Boxes3D (and rotating velocities) only to read its boxes back
            arr[:, :3], arr[:, 6] = rigid_move_centres_and_yaw(
                world_from_frame, detections.center_m, arr[:, 6]
            )
        _check_magnitudes(arr, compensate and world_from_frame is not None)
        self._frame = frame
        labels, scores = detections.label, detections.score
        parts: list[tuple[int, ClassStepOutput]] = []
        mapped_parts: list[np.ndarray] = []
        routed = 0
        tracked = None  # (N,) bool once a class takes only part of the detections
        # the sensor in the tracking frame (anchor-point measurements): the detections' frame
        # origin stands for it
        viewpoint = (
            world_from_frame.translation[:2]
            if compensate and world_from_frame is not None
            else None
        )
        over_ground = frame_fixed is not False
        for label, trk in self.class_trackers.items():
            mine = labels == label
            if mine.all():  # only this class (e.g. per-class evaluation): nothing to select
                out, self.next_id = trk.step(
                    arr,
                    scores,
                    timestamp_ns,
                    self.next_id,
                    viewpoint,
                    velocities_over_ground=over_ground,
                )
                mapped_parts.append(out.detection_index)
                routed += labels.shape[0]
            else:
                tracked = mine if tracked is None else tracked | mine
                sel = np.flatnonzero(mine)
                routed += sel.size
                out, self.next_id = trk.step(
                    arr[sel],
                    scores[sel],
                    timestamp_ns,
                    self.next_id,
                    viewpoint,
                    velocities_over_ground=over_ground,
                )
                di = out.detection_index
                mapped_parts.append(
                    np.where(di >= 0, sel[np.maximum(di, 0)], -1) if sel.size else di
                )
            parts.append((label, out))
        self.last_dropped_detections = labels.shape[0] - routed
        if self.last_dropped_detections:  # then some class took part only, or none any
            self._count_dropped(labels if tracked is None else labels[~tracked])
        if not parts:
            self.last_detection_index = np.zeros(0, dtype=np.int64)
            return Tracks.empty(frame, timestamp_ns)
        self.last_detection_index = _cat(mapped_parts)
        # every array below is new and derived from validated detections: no re-checking
        boxes = _cat([p.boxes for _, p in parts])
        yaw_rad = wrap_angle(boxes[:, 6])
        velocity_mps = _cat([p.velocity for _, p in parts])
        if compensate and world_from_frame is not None:
            # the values of Boxes3D(WORLD).transformed(frame_from_world, frame), without
            # building the world-frame Boxes3D only to map it
            frame_from_world = world_from_frame.inverse()
            center_m, yaw_rad = rigid_move_centres_and_yaw(frame_from_world, boxes[:, 0:3], yaw_rad)
            velocity_mps = frame_from_world.rotate_xy(velocity_mps)
        else:
            center_m = boxes[:, 0:3].copy()
        tracked = Boxes3D.unchecked(
            center_m,
            boxes[:, 3:6].copy(),
            yaw_rad,
            frame,
            timestamp_ns,
            score=_cat([p.score for _, p in parts]),
            label=_cat([np.full(p.track_id.shape[0], lab, dtype=np.int64) for lab, p in parts]),
            velocity_mps=velocity_mps,
        )
        return Tracks.unchecked(
            _cat([p.track_id for _, p in parts]),
            tracked,
            age=_cat([p.age for _, p in parts]),
            hits=_cat([p.hits for _, p in parts]),
            time_since_update=_cat([p.time_since_update for _, p in parts]),
        )

    def _warn_implausible_time_step(self, step_ns: int) -> None:
        """Warn once per tracker (``reset`` keeps it) when consecutive steps are less than
        :data:`MIN_PLAUSIBLE_STEP_NS` or more than :data:`MAX_PLAUSIBLE_STEP_NS` apart: times
        in milliseconds or seconds rather than nanoseconds, so every velocity is off by 1e6
        or 1e9 (ms stamps 100 apart gave a car at 10 m/s 0.0024 m/s)."""
        if MIN_PLAUSIBLE_STEP_NS <= step_ns <= MAX_PLAUSIBLE_STEP_NS:
            return
        self._warned_time_step = True
        warnings.warn(
            f"Tracker.step: detections.timestamp_ns advanced by {step_ns} ns "
            f"({step_ns * 1e-9:g} s) since the previous step: are the times in nanoseconds? "
            "Velocities are per second of these times (a ms stamp gives speeds 1e6 too low)",
            UserWarning,
            stacklevel=3,
        )

    def _last_timestamp_ns(self) -> int | None:
        """The latest ``timestamp_ns`` any class tracker has stepped to (``None``: none yet)."""
        stamps = [
            t.state.last_timestamp_ns
            for t in self.class_trackers.values()
            if t.state.last_timestamp_ns is not None
        ]
        return max(stamps) if stamps else None

    def _count_dropped(self, dropped: np.ndarray) -> None:
        """Add this step's ``(D,)`` labels of detections no class took to
        :attr:`dropped_detections_by_label`; warn once per tracker for each new such class."""
        new: list[str] = []
        for value, count in sorted(Counter(dropped.tolist()).items()):
            name = _label_name(value)
            self.dropped_detections_by_label[name] = (
                self.dropped_detections_by_label.get(name, 0) + count
            )
            if value not in self._warned_labels:
                self._warned_labels.add(value)
                new.append(name)
        if new:
            tracked = ", ".join(_label_name(v) for v in self.class_trackers) or "none"
            warnings.warn(
                f"Tracker: detections labelled {', '.join(new)} are not tracked (the tracker "
                f"config has no classes entry for them; tracked: {tracked}); they are dropped "
                "(counts: Tracker.last_dropped_detections, dropped_detections_by_label)",
                UserWarning,
                stacklevel=3,
            )


_WORLD_FRAMES = frozenset({WORLD, MAP})


def _label_name(value: int) -> str:
    """Lower-case class name of a label value (the config's key spelling), or ``label <v>``."""
    try:
        return ObjectClass(value).name.lower()
    except ValueError:
        return f"label {value}"


def _check_pose(world_from_frame: object) -> None:
    """Raise unless ``world_from_frame`` is one :class:`SE3` (not a batch, not a matrix)."""
    if not isinstance(world_from_frame, SE3):
        got = type(world_from_frame).__name__
        hint = (
            "; for a 4x4 matrix use SE3.from_matrix(m)"
            if isinstance(world_from_frame, np.ndarray)
            else ""
        )
        raise TypeError(
            f"Tracker.step: world_from_frame must be one SE3 (the pose of the detections' "
            f"frame in the world frame) or None, got {got}{hint}"
        )
    if world_from_frame.batch_shape != ():
        raise ValueError(
            "Tracker.step: world_from_frame must be one SE3, got a batch of shape "
            f"{world_from_frame.batch_shape}; pass this frame's pose (e.g. poses[f])"
        )


def _check_magnitudes(arr: np.ndarray, in_world: bool) -> None:
    """``ValueError`` naming the first row of the ``(N, 7)`` boxes the tracker is about to
    track (in the world frame when ``in_world``) whose position or size is beyond the kernels'
    :func:`~drivestack.kernels._common.magnitude_limit` (about 3.5e101 m) or no longer finite
    (a pose that moves a box out of float64's range): such a box would make the association's
    overlaps and distances overflow, and the tracks NaN."""
    limit = magnitude_limit(np.float64)
    part = arr[:, :6]
    if not part.size or (part.max() <= limit and part.min() >= -limit):  # NaN fails these too
        return
    row = int(np.flatnonzero(~(np.abs(part) <= limit).all(axis=1))[0])  # one row fails here
    where = " once placed in the world frame by world_from_frame" if in_world else ""
    raise ValueError(
        f"Tracker.step: detections row {row}{where} has a position or size "
        f"{arr[row, :6].tolist()} beyond +-{limit:.3g} m (or not finite): too large to "
        "track in float64 (overlaps and distances would overflow)"
    )


def _timestamp_message(timestamp_ns: int, last_ns: int | None) -> str:
    """The ``ValueError`` text of a step whose time is not after the previous step's."""
    what = "a repeated frame" if timestamp_ns == last_ns else "out of order"
    return (
        f"detections.timestamp_ns must increase from step to step: got {timestamp_ns} after "
        f"{last_ns} ({what}; call reset() to start a new sequence: its track ids start "
        "from 0 again)"
    )


def _not_boxes_message(detections: object) -> str:
    """The ``TypeError`` text of :meth:`Tracker.step` given something other than ``Boxes3D``."""
    got = type(detections).__name__
    message = f"Tracker.step expects the detections as a Boxes3D, got {got}"
    if isinstance(detections, np.ndarray):
        message += (
            "; build one from (N, 7) [x, y, z, l, w, h, yaw] rows: "
            "Boxes3D.from_array7(boxes, frame, timestamp_ns, score=scores, label=labels)"
        )
    elif isinstance(detections, Tracks):
        message += "; pass the detections' boxes (tracks.boxes), not tracks"
    return message


def build_tracker(cfg: TrackerConfig | str | Path) -> Tracker:
    """The tracker stage for a config object or a tracker YAML file path (plain code, no
    registry; the YAML is read by :func:`~drivestack.tracking.config.load_tracker_config`).

    Raises:
        TypeError: ``cfg`` is neither a ``TrackerConfig`` nor a path.
        ConfigError: the YAML file is missing or invalid.
    """
    return Tracker(cfg)


def single_class_tracker(cfg: TrackerConfig, cls: str) -> Tracker:
    """A tracker of class ``cls`` alone: its block of ``cfg.classes`` (keys any case, the
    tracker keys it ``cls``) and ``cfg``'s ``ego_motion_compensation`` (the KITTI evaluations
    track one class at a time).

    Raises:
        KeyError: ``cls.lower()``, when ``cfg`` has no block of ``cls``.
    """
    by_name = {name.lower(): c for name, c in cfg.classes.items()}
    return build_tracker(
        TrackerConfig(
            classes={cls: by_name[cls.lower()]},
            ego_motion_compensation=cfg.ego_motion_compensation,
        )
    )
