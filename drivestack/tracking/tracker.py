"""3D multi-object tracker: Kalman motion model + association + lifecycle, per class.

:class:`ClassTracker` tracks one class; :class:`Tracker` routes detections to one
:class:`ClassTracker` per configured class, optionally tracking in a world frame (ego-motion
compensation), and is the pipeline stage (``reset()`` / ``step(Boxes3D) -> Tracks``). All
mutable state lives in :class:`ClassTrackState` objects (``Tracker.state``), so a replay can
snapshot it with ``copy.deepcopy`` and restore it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from drivestack.config import config_or_file
from drivestack.core.transforms import SE3, wrap_angle
from drivestack.structures.boxes import Boxes3D, rigid_move_centres_and_yaw
from drivestack.structures.labels import ObjectClass
from drivestack.structures.tracks import Tracks
from drivestack.tracking.association import associate
from drivestack.tracking.config import ClassTrackerConfig, TrackerConfig, load_tracker_config
from drivestack.tracking.motion import KalmanMotionModel, build_motion_model


def _i(n: int = 0) -> np.ndarray:
    return np.zeros(n, dtype=np.int64)


@dataclass
class ClassTrackState:
    """Live tracks of one class: states ``x (N, S)``, covariances ``P (N, S, S)`` and per-track
    ``track_id``, ``age``, ``hits``, ``time_since_update`` (frames), ``last_score``,
    ``score_sum`` (of all matched detections) and ``last_box`` (the last matched detection,
    ``(N, 7)``)."""

    x: np.ndarray
    P: np.ndarray
    track_id: np.ndarray = field(default_factory=_i)
    age: np.ndarray = field(default_factory=_i)
    hits: np.ndarray = field(default_factory=_i)
    time_since_update: np.ndarray = field(default_factory=_i)
    last_score: np.ndarray = field(default_factory=lambda: np.zeros(0))
    score_sum: np.ndarray = field(default_factory=lambda: np.zeros(0))
    last_box: np.ndarray = field(default_factory=lambda: np.zeros((0, 7)))
    frame_count: int = 0
    last_timestamp_ns: int | None = None

    @classmethod
    def empty(cls, state_dim: int) -> ClassTrackState:
        return cls(np.zeros((0, state_dim)), np.zeros((0, state_dim, state_dim)))

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
        ):
            setattr(self, name, getattr(self, name)[rows])


@dataclass(frozen=True)
class ClassStepOutput:
    """Output rows of one class step (in the tracking frame): ``track_id``, ``boxes (K, 7)``,
    ``velocity (K, 2)``, ``score``, ``age``, ``hits``, ``time_since_update`` and
    ``detection_index`` (the matched input detection, -1 when coasting)."""

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
        self.state = ClassTrackState.empty(self.model.state_dim)

    def reset(self) -> None:
        self.state = ClassTrackState.empty(self.model.state_dim)

    def step(
        self, boxes: np.ndarray, scores: np.ndarray, timestamp_ns: int, next_id: int
    ) -> tuple[ClassStepOutput, int]:
        """Advance to ``timestamp_ns`` with detections; returns the output and the next free id."""
        s, m, life = self.state, self.model, self.cfg.lifecycle
        dt_s = 0.0 if s.last_timestamp_ns is None else (timestamp_ns - s.last_timestamp_ns) * 1e-9
        if dt_s < 0:
            raise ValueError(
                f"timestamps must not decrease: {timestamp_ns} after {s.last_timestamp_ns}"
            )
        s.last_timestamp_ns = timestamp_ns
        s.frame_count += 1
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
            s.x[rows], s.P[rows] = m.update(s.x[rows], s.P[rows], matched_boxes)
            s.hits[rows] += 1
            s.time_since_update[rows] = 0
            s.last_score[rows] = matched_scores
            s.score_sum[rows] += matched_scores
            s.last_box[rows] = matched_boxes
            det_of_track[rows] = cols
        # 4. births from unmatched detections
        unmatched = np.ones(boxes.shape[0], dtype=bool)
        unmatched[cols] = False
        unmatched &= scores >= life.birth_score
        if self.cfg.association.two_stage:
            unmatched &= scores >= self.cfg.association.high_score
        born = unmatched.nonzero()[0]  # 1-D: flatnonzero without its wrapper
        if born.size:
            next_id = self._start_tracks(born, boxes, scores, next_id)
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

    def _start_tracks(
        self, born: np.ndarray, boxes: np.ndarray, scores: np.ndarray, next_id: int
    ) -> int:
        """Append tracks for detections ``born`` (indices into ``boxes (D, 7)``); returns the
        next free id."""
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
        return next_id + n


def _cat(arrays: list[np.ndarray]) -> np.ndarray:
    """``np.concatenate`` that hands back a single array as it is (one class: no copy)."""
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


class Tracker:
    """Multi-class 3D tracker stage: ``reset()``, ``step(detections) -> Tracks``.

    Detections whose label has no entry in ``cfg.classes`` are not tracked. With
    ``cfg.ego_motion_compensation``, ``step`` takes ``world_from_frame`` (the pose of the
    detections' frame in a fixed world frame) and tracks there; outputs are returned in the
    detections' frame. ``last_detection_index`` is, after each step, the ``(N,)`` index of the
    input detection each output track was matched to (-1 when coasting).
    """

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

    @property
    def state(self) -> dict[int, ClassTrackState]:
        return {label: t.state for label, t in self.class_trackers.items()}

    def reset(self) -> None:
        for t in self.class_trackers.values():
            t.reset()
        self.next_id = 0
        self.last_detection_index = np.zeros(0, dtype=np.int64)

    def step(self, detections: Boxes3D, world_from_frame: SE3 | None = None) -> Tracks:
        """Advance every class's tracks by one frame and update them with ``detections``.

        Args:
            detections: this frame's ``N`` boxes (any frame; ``label`` picks the class tracker,
                ``score`` feeds the track scores; ``timestamp_ns`` sets the prediction step).
            world_from_frame: with ``cfg.ego_motion_compensation``, the pose of the detections'
                frame in a fixed world frame (e.g. ``SensorFrame.world_from_ego`` for ego-frame
                boxes; for KITTI tracking files
                :func:`~drivestack.tracking.kitti_run.world_from_lidar_poses`); ignored without.

        Returns:
            The output tracks (ids, boxes in the detections' frame, velocities, scores, ages);
            :attr:`last_detection_index` says which detection each one took.

        Raises:
            TypeError: ``detections`` is not a :class:`Boxes3D`.
            ValueError: ego-motion compensation is on and ``world_from_frame`` is missing.
        """
        if not isinstance(detections, Boxes3D):
            raise TypeError(_not_boxes_message(detections))
        frame, timestamp_ns = detections.frame, detections.timestamp_ns
        compensate = self.cfg.ego_motion_compensation
        arr = detections.to_array7()
        if compensate:
            if world_from_frame is None:
                raise ValueError(
                    "ego_motion_compensation is on: step() needs world_from_frame, the SE3 pose "
                    "of the detections' frame in a fixed world frame (e.g. the frame's "
                    "world_from_ego; KITTI: drivestack.tracking.kitti_run.world_from_lidar_poses)"
                    ", or set ego_motion_compensation: false in the tracker config"
                )
            # the boxes of detections.transformed(world_from_frame, WORLD), without building
            # a Boxes3D (and rotating velocities) only to read its boxes back
            arr[:, :3], arr[:, 6] = rigid_move_centres_and_yaw(
                world_from_frame, detections.center_m, arr[:, 6]
            )
        labels, scores = detections.label, detections.score
        parts: list[tuple[int, ClassStepOutput]] = []
        mapped_parts: list[np.ndarray] = []
        for label, trk in self.class_trackers.items():
            mine = labels == label
            if mine.all():  # only this class (e.g. per-class evaluation): nothing to select
                out, self.next_id = trk.step(arr, scores, timestamp_ns, self.next_id)
                mapped_parts.append(out.detection_index)
            else:
                sel = np.flatnonzero(mine)
                out, self.next_id = trk.step(arr[sel], scores[sel], timestamp_ns, self.next_id)
                di = out.detection_index
                mapped_parts.append(
                    np.where(di >= 0, sel[np.maximum(di, 0)], -1) if sel.size else di
                )
            parts.append((label, out))
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
