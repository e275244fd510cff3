"""3D multi-object tracker: Kalman motion model + association + lifecycle, per class.

:class:`ClassTracker` tracks one class; :class:`Tracker` routes detections to one
:class:`ClassTracker` per configured class, optionally tracking in a world frame (ego-motion
compensation), and is the pipeline stage (``reset()`` / ``step(Boxes3D) -> Tracks``). All
mutable state lives in :class:`ClassTrackState` objects (``Tracker.state``), so a replay can
snapshot it with ``copy.deepcopy`` and restore it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from drivestack.core.transforms import SE3, wrap_angle
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.tracks import Tracks
from drivestack.tracking.association import associate
from drivestack.tracking.config import ClassTrackerConfig, TrackerConfig
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

    def keep(self, mask: np.ndarray) -> None:
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
            setattr(self, name, getattr(self, name)[mask])


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
        if rows.size:
            s.x[rows], s.P[rows] = m.update(s.x[rows], s.P[rows], boxes[cols])
        s.age += 1
        s.time_since_update += 1
        s.hits[rows] += 1
        s.time_since_update[rows] = 0
        s.last_score[rows] = scores[cols]
        s.score_sum[rows] += scores[cols]
        s.last_box[rows] = boxes[cols]
        det_of_track = np.full(s.track_id.shape[0], -1, dtype=np.int64)
        det_of_track[rows] = cols
        # 4. births from unmatched detections
        unmatched = np.ones(boxes.shape[0], dtype=bool)
        unmatched[cols] = False
        born_ok = scores >= life.birth_score
        if self.cfg.association.two_stage:
            born_ok &= scores >= self.cfg.association.high_score
        born = np.flatnonzero(unmatched & born_ok)
        if born.size:
            bx, bP = m.initiate(boxes[born])
            s.x = np.concatenate([s.x, bx])
            s.P = np.concatenate([s.P, bP])
            s.track_id = np.concatenate([s.track_id, np.arange(next_id, next_id + born.size)])
            next_id += born.size
            s.age = np.concatenate([s.age, np.ones(born.size, dtype=np.int64)])
            s.hits = np.concatenate([s.hits, np.ones(born.size, dtype=np.int64)])
            s.time_since_update = np.concatenate([s.time_since_update, _i(born.size)])
            s.last_score = np.concatenate([s.last_score, scores[born]])
            s.score_sum = np.concatenate([s.score_sum, scores[born]])
            s.last_box = np.concatenate([s.last_box, boxes[born]])
            det_of_track = np.concatenate([det_of_track, born])
        # 5. deaths
        alive = s.time_since_update <= life.max_age
        if not alive.all():
            s.keep(alive)
            det_of_track = det_of_track[alive]
        # 6. output
        tsu = s.time_since_update
        confirmed = (s.hits >= life.min_hits) | (s.frame_count <= life.min_hits)
        out = confirmed & (
            (tsu == 0) | ((tsu <= life.output_coast_frames) & (s.hits >= life.min_hits))
        )
        out &= s.score_sum >= life.min_output_score * s.hits
        idx = np.flatnonzero(out)
        out_boxes = m.boxes(s.x[idx])
        if life.output_detection_box:
            fresh = tsu[idx] == 0
            out_boxes[fresh] = s.last_box[idx[fresh]]
        score = (
            s.last_score[idx]
            - life.coast_score_penalty * tsu[idx]
            + life.hits_score_bonus * np.minimum(s.hits[idx], life.hits_score_cap)
        )
        return (
            ClassStepOutput(
                track_id=s.track_id[idx].copy(),
                boxes=out_boxes,
                velocity=m.velocity(s.x[idx]),
                score=score,
                age=s.age[idx].copy(),
                hits=s.hits[idx].copy(),
                time_since_update=tsu[idx].copy(),
                detection_index=det_of_track[idx],
            ),
            next_id,
        )


def _cat(arrays: list[np.ndarray]) -> np.ndarray:
    """``np.concatenate`` that hands back a single array as it is (one class: no copy)."""
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _inverse_parts(world_from_frame: SE3) -> tuple[np.ndarray, np.ndarray, float]:
    """``(R^T, -R^T t, yaw)`` of ``world_from_frame.inverse()`` with the arithmetic of
    :meth:`SE3.inverse`, :meth:`SE3.apply` and :attr:`SE3.yaw_rad`, without building (and
    re-validating) the inverse transform: applying them as ``SE3.apply`` does gives the same
    bits."""
    rot_t = np.swapaxes(world_from_frame.rotation, -1, -2)
    trans_t = -np.einsum("...ij,...j->...i", rot_t, world_from_frame.translation)
    yaw_t = float(wrap_angle(np.arctan2(rot_t[..., 1, 0], rot_t[..., 0, 0])))
    return rot_t, trans_t, yaw_t


class Tracker:
    """Multi-class 3D tracker stage: ``reset()``, ``step(detections) -> Tracks``.

    Detections whose label has no entry in ``cfg.classes`` are not tracked. With
    ``cfg.ego_motion_compensation``, ``step`` takes ``world_from_frame`` (the pose of the
    detections' frame in a fixed world frame) and tracks there; outputs are returned in the
    detections' frame. ``last_detection_index`` is, after each step, the ``(N,)`` index of the
    input detection each output track was matched to (-1 when coasting).
    """

    def __init__(self, cfg: TrackerConfig) -> None:
        self.cfg = cfg
        self.class_trackers: dict[int, ClassTracker] = {
            int(ObjectClass.from_name(name)): ClassTracker(c) for name, c in cfg.classes.items()
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
        frame = detections.frame
        arr = detections.to_array7()
        compensate = self.cfg.ego_motion_compensation
        if compensate:
            if world_from_frame is None:
                raise ValueError("ego_motion_compensation is on: step() needs world_from_frame")
            # as Boxes3D.transformed(world_from_frame, ...), on the array (no re-validation)
            arr[:, :3] = world_from_frame.apply(detections.center_m)
            arr[:, 6] = wrap_angle(arr[:, 6] + float(world_from_frame.yaw_rad))
        parts: list[tuple[int, ClassStepOutput]] = []
        mapped_parts: list[np.ndarray] = []
        for label, trk in self.class_trackers.items():
            sel = np.flatnonzero(detections.label == label)
            out, self.next_id = trk.step(
                arr[sel], detections.score[sel], detections.timestamp_ns, self.next_id
            )
            di = out.detection_index
            mapped_parts.append(np.where(di >= 0, sel[np.maximum(di, 0)], -1) if sel.size else di)
            parts.append((label, out))
        if parts:
            boxes = _cat([p.boxes for _, p in parts])
            velocity = _cat([p.velocity for _, p in parts])
            if compensate and world_from_frame is not None:
                # back to the detections' frame, with the arithmetic of Boxes3D.transformed
                # applied to a Boxes3D built from the world-frame boxes
                rot_t, trans_t, yaw_t = _inverse_parts(world_from_frame)
                boxes[:, :3] = (
                    np.einsum("...ij,...nj->...ni", rot_t, np.ascontiguousarray(boxes[:, :3]))
                    + trans_t[..., None, :]
                )
                boxes[:, 6] = wrap_angle(boxes[:, 6]) + yaw_t
                vel3 = np.concatenate([velocity, np.zeros((velocity.shape[0], 1))], axis=1)
                velocity = (
                    np.einsum("...ij,...nj->...ni", rot_t, vel3)
                    + np.zeros_like(trans_t)[..., None, :]
                )[:, :2]
            label_arr = _cat(
                [np.full(p.track_id.shape[0], lab, dtype=np.int64) for lab, p in parts]
            )
            tracked = Boxes3D.from_array7(
                boxes,
                frame,
                detections.timestamp_ns,
                score=_cat([p.score for _, p in parts]),
                label=label_arr,
                velocity_mps=velocity,
            )
        else:
            tracked = Boxes3D.empty(frame, detections.timestamp_ns)
        self.last_detection_index = _cat(mapped_parts) if parts else np.zeros(0, dtype=np.int64)
        if not parts:
            return Tracks.empty(frame, detections.timestamp_ns)
        return Tracks(
            track_id=_cat([p.track_id for _, p in parts]),
            boxes=tracked,
            age=_cat([p.age for _, p in parts]),
            hits=_cat([p.hits for _, p in parts]),
            time_since_update=_cat([p.time_since_update for _, p in parts]),
        )


def build_tracker(cfg: TrackerConfig) -> Tracker:
    """The tracker stage for a configuration (plain code, no registry)."""
    return Tracker(cfg)
