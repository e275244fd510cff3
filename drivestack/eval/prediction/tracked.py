"""Forecasting cases from the tracker's ONLINE output (``drivestack eval prediction --pasts
tracks``): what the stack's forecasts start from when the pasts are its own tracks.

1. :func:`run_online_tracker` steps a :class:`~drivestack.tracking.tracker.Tracker` frame
   by frame over a sequence's detections and keeps, per frame, the tracks it outputs then
   (its lifecycle decides which: the confirmed tracks of that frame), in the world frame:
   boxes and the tracker's over-ground velocity. Only the online state is used: ``eval
   tracking``'s offline whole-track rules (stitching, refinement, evidence, track scores)
   read the whole sequence, the future included, so none of them runs here. A track's row
   at frame ``f`` is computed at step ``f`` and never revised: later detections cannot change
   a forecast made at an anchor.
2. :func:`track_cases`: at each anchor sample ``a`` (a multiple of the stride, as for label
   pasts: :mod:`.cases`) every output track is matched to a labelled object at ``a`` with
   the replay's rule (:func:`~drivestack.replay.forecast_score.match_tracks_to_labels`:
   centre xy within 2 m, same class group, Hungarian). A pair is a case when the track was
   output at every sample ``a - H .. a`` (its past: ``H = history_s / dt_s``, the same
   history as label pasts) and the object is labelled at every sample ``a + 1 .. a + T``
   (the whole horizon of truth). The case's past is the track's boxes, its class the
   tracker's, its truth the object's labelled future; moving / stationary is measured from
   the object's labelled centre at ``a``.

What tracking costs beyond accuracy is counted (:data:`COUNT_KEYS`), per anchor summed:
``labels_with_future`` (labelled objects of the class groups with the whole horizon of
truth) = ``scored`` + ``matched_short_history`` (their track was output for less than the
history) + ``missed`` (no track matched them); output tracks = ``scored`` +
``matched_short_history`` + ``matched_no_label_future`` (the object leaves the labels within
the horizon) + ``unmatched_tracks`` (false positives: no labelled object within 2 m) +
``tracks_outside_class_groups``; ``unmatched_with_history``: the false positives output for the
whole history (persistent ghosts rather than short-lived clutter).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.eval.prediction.cases import _GROUP_OF, Cases, CaseSettings, sample_indices
from drivestack.eval.prediction.trajectories import TrajectorySet
from drivestack.replay.forecast_score import class_groups, match_tracks_to_labels
from drivestack.structures.boxes import Boxes3D, rigid_move_centres_and_yaw
from drivestack.tracking.tracker import Tracker

#: The counts of :func:`track_cases` (see the module doc).
COUNT_KEYS = (
    "anchors",
    "labels_with_future",
    "scored",
    "matched_short_history",
    "missed",
    "output_tracks",
    "matched_no_label_future",
    "unmatched_tracks",
    "unmatched_with_history",
    "tracks_outside_class_groups",
)
#: The classes whose AB3DMOT PointRCNN detections are tracked.
KITTI_DETECTION_CLASSES = ("Car", "Pedestrian", "Cyclist")


@dataclass(frozen=True)
class OnlineTracks:
    """The online output of a tracker over one sequence, one row per output track and frame.

    Attributes:
        frame: ``(R,)`` int64 frame index (sample number on the recording's grid).
        track_id: ``(R,)`` int64.
        label: ``(R,)`` int64 class ids.
        boxes: ``(R, 7)`` ``[x, y, z, l, w, h, yaw]`` in ``world_frame``.
        velocity_mps: ``(R, 2)`` the tracker's velocity over ground, world xy axes.
        world_frame: the frame of ``boxes`` and ``velocity_mps``.
    """

    frame: np.ndarray
    track_id: np.ndarray
    label: np.ndarray
    boxes: np.ndarray
    velocity_mps: np.ndarray
    world_frame: str


def run_online_tracker(
    tracker: Tracker,
    detections: Sequence[Boxes3D],
    world_from_frame: Sequence[SE3],
    world_frame: str,
) -> OnlineTracks:
    """Reset ``tracker`` and step it over ``F`` frames of detections (frame ``f``: the
    detections ``detections[f]`` in their sensor frame, whose pose in ``world_frame`` is
    ``world_from_frame[f]``), keeping each frame's output in ``world_frame``.

    Raises:
        ValueError: the tracker does not compensate ego motion (its velocities would be
            relative to the moving sensor, not over ground), or the two sequences differ in
            length.
    """
    if not tracker.cfg.ego_motion_compensation:
        raise ValueError(
            "tracker pasts need a tracker with ego_motion_compensation: true (velocities "
            "over ground, in the world frame)"
        )
    if len(detections) != len(world_from_frame):
        raise ValueError(f"{len(detections)} frames of detections, {len(world_from_frame)} poses")
    tracker.reset()
    frames, ids, labels, boxes, velocity = [], [], [], [], []
    for f, (dets, pose) in enumerate(zip(detections, world_from_frame, strict=True)):
        tracks = tracker.step(dets, pose)
        if not len(tracks):
            continue
        b = tracks.boxes
        arr = b.to_array7()
        arr[:, 0:3], arr[:, 6] = rigid_move_centres_and_yaw(pose, b.center_m, b.yaw_rad)
        frames.append(np.full(len(tracks), f, dtype=np.int64))
        ids.append(tracks.track_id.astype(np.int64))
        labels.append(b.label.astype(np.int64))
        boxes.append(arr)
        velocity.append(pose.rotate_xy(b.velocity_mps))
    if not frames:
        return OnlineTracks(
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros((0, 7)),
            np.zeros((0, 2)),
            world_frame,
        )
    return OnlineTracks(
        np.concatenate(frames),
        np.concatenate(ids),
        np.concatenate(labels),
        np.concatenate(boxes),
        np.concatenate(velocity),
        world_frame,
    )


def kitti_online_tracks(
    root: str | Path, sequence: str, n_frames: int, tracker: Tracker, world_frame: str
) -> OnlineTracks:
    """The online tracks of one KITTI tracking sequence: ``tracker`` on the AB3DMOT PointRCNN
    detections of :data:`KITTI_DETECTION_CLASSES` (``<root>/detections/ab3dmot_pointrcnn``)
    in the LiDAR frame, as ``drivestack eval tracking`` converts them, over frames
    ``0 .. n_frames - 1``, with the ORB-SLAM3 ego poses (the world frame of
    :func:`~drivestack.eval.prediction.sources.read_kitti_trajectories`).

    Raises:
        DataError: a missing or malformed detection or pose file, or a pose file with fewer
            lines than ``n_frames`` (naming the file).
    """
    from drivestack.core.frames import LIDAR
    from drivestack.ingest.kitti_format import (
        KittiObjects,
        lidar_from_camera_zup,
        objects_to_boxes,
    )
    from drivestack.ingest.kitti_tracking import (
        KITTI_TRACKING_FRAME_PERIOD_NS,
        KittiTrackingSequence,
        read_class_detections,
        world_from_lidar_poses,
    )

    seq = KittiTrackingSequence(root, sequence)
    camera_poses = seq.camera_poses
    if camera_poses is None:
        raise DataError("no ego-pose file: tracker pasts need it", path=str(seq.pose_path))
    if len(camera_poses) < n_frames:
        raise DataError(
            f"poses of {len(camera_poses)} frames, the sequence has {n_frames}",
            path=str(seq.pose_path),
            record=f"line {len(camera_poses) + 1}",
        )
    dets = KittiObjects.concatenate(
        [read_class_detections(root, cls, seq.name, n_frames) for cls in KITTI_DETECTION_CLASSES]
    )
    calib = seq.calib
    boxes = objects_to_boxes(dets, None).transformed(lidar_from_camera_zup(calib), LIDAR)
    arr7, score, label = boxes.to_array7(), boxes.score, boxes.label
    frames = [
        Boxes3D.from_array7(
            arr7[idx],
            LIDAR,
            f * KITTI_TRACKING_FRAME_PERIOD_NS,
            score=score[idx],
            label=label[idx],
        )
        for f, idx in enumerate(dets.frame_slices(n_frames))
    ]
    poses = world_from_lidar_poses(camera_poses[:n_frames], calib)
    return run_online_tracker(tracker, frames, poses, world_frame)


def track_cases(recording: TrajectorySet, tracks: OnlineTracks, settings: CaseSettings) -> Cases:
    """The cases of ``tracks`` (online output, frame ``f`` at sample ``f``) against the
    labelled objects of ``recording`` (same world frame), with the counts of the module doc.

    Raises:
        ValueError: the tracks are in another frame than the recording.
        CaseSettingError: as :meth:`CaseSettings.steps`.
    """
    if tracks.world_frame != recording.frame:
        raise ValueError(f"tracks in frame {tracks.world_frame!r}, labels in {recording.frame!r}")
    h, t, s = settings.steps(recording.dt_s, recording.dt_jittered)
    dt = recording.dt_s
    # labelled objects of the class groups: one row per agent and sample
    lab_k, lab_agent, lab_row, lab_future = [], [], [], []
    for i, agent in enumerate(recording.agents):
        if int(agent.object_class) not in _GROUP_OF:
            continue
        k = sample_indices(agent, dt)
        rows = np.arange(len(k))
        ahead = np.minimum(rows + t, len(k) - 1)
        lab_k.append(k)
        lab_agent.append(np.full(len(k), i))
        lab_row.append(rows)
        lab_future.append((rows + t < len(k)) & (k[ahead] - k == t))  # a+1 .. a+T, no gap
    lk = np.concatenate(lab_k) if lab_k else np.zeros(0, np.int64)
    la = np.concatenate(lab_agent) if lab_agent else np.zeros(0, np.int64)
    lr = np.concatenate(lab_row) if lab_row else np.zeros(0, np.int64)
    lf = np.concatenate(lab_future) if lab_future else np.zeros(0, bool)
    # the tracks' rows by (id, frame): a full history is the same id at a - H .. a
    order = np.lexsort((tracks.frame, tracks.track_id))
    tid, tf = tracks.track_id[order], tracks.frame[order]
    back = np.arange(len(order)) - h
    ok = back >= 0
    full = np.zeros(len(order), bool)
    full[ok] = (tid[back[ok]] == tid[ok]) & (tf[ok] - tf[back[ok]] == h)
    has_history = np.zeros(len(order), bool)
    has_history[order] = full
    position = np.empty(len(order), np.int64)
    position[order] = np.arange(len(order))  # row -> its place in the sorted order
    groups = class_groups(tracks.label)
    counts = dict.fromkeys(COUNT_KEYS, 0)
    picked: list[tuple[int, int]] = []  # per case: (track row, its sorted position)
    picked_label: list[tuple[int, int]] = []  # per case: (label agent, its row)
    anchors = np.union1d(tracks.frame, lk)
    for a in anchors[anchors % s == 0].tolist():
        counts["anchors"] += 1
        trk = np.flatnonzero(tracks.frame == a)
        lab = np.flatnonzero(lk == a)
        counts["output_tracks"] += len(trk)
        counts["tracks_outside_class_groups"] += int((groups[trk] == "").sum())
        counts["labels_with_future"] += int(lf[lab].sum())
        label_boxes = np.array(
            [recording.agents[la[j]].boxes[lr[j]] for j in lab], dtype=np.float64
        ).reshape(len(lab), 7)
        pairs = match_tracks_to_labels(
            Boxes3D.from_array7(tracks.boxes[trk], recording.frame, label=tracks.label[trk]),
            Boxes3D.from_array7(
                label_boxes,
                recording.frame,
                label=np.array([int(recording.agents[la[j]].object_class) for j in lab]),
            ),
        )
        matched_labels = set()
        for r, c in pairs:
            row, j = int(trk[r]), int(lab[c])
            if not lf[j]:
                counts["matched_no_label_future"] += 1
                continue
            matched_labels.add(j)
            if has_history[row]:
                counts["scored"] += 1
                picked.append((row, int(position[row])))
                picked_label.append((int(la[j]), int(lr[j])))
            else:
                counts["matched_short_history"] += 1
        unmatched = groups[trk] != ""
        unmatched[[r for r, _ in pairs]] = False
        counts["unmatched_tracks"] += int(unmatched.sum())
        counts["unmatched_with_history"] += int(has_history[trk[unmatched]].sum())
        counts["missed"] += int(lf[lab].sum()) - len(matched_labels)
    return _cases(recording, tracks, order, picked, picked_label, h, t, counts)


def _cases(
    recording: TrajectorySet,
    tracks: OnlineTracks,
    order: np.ndarray,
    picked: list[tuple[int, int]],
    picked_label: list[tuple[int, int]],
    h: int,
    t: int,
    counts: dict[str, int],
) -> Cases:
    """The :class:`Cases` of the chosen (track row, its sorted position) and (label agent,
    label row) pairs."""
    n = len(picked)
    past_rows = np.array([order[p - h : p + 1] for _, p in picked], dtype=np.int64).reshape(
        n, h + 1
    )
    anchor_rows = np.array([r for r, _ in picked], dtype=np.int64)
    agents = [recording.agents[i] for i, _ in picked_label]
    future = [a.boxes[j + 1 : j + 1 + t] for a, (_, j) in zip(agents, picked_label, strict=True)]
    future_t = [a.time_s[j + 1 : j + 1 + t] for a, (_, j) in zip(agents, picked_label, strict=True)]
    now = [a.boxes[j, 0:2] for a, (_, j) in zip(agents, picked_label, strict=True)]
    labels = tracks.label[anchor_rows]
    return Cases(
        recording,
        np.array([f"track {tracks.track_id[r]}" for r in anchor_rows.tolist()], dtype=str),
        labels,
        class_groups(labels),
        tracks.frame[past_rows].astype(np.float64) * recording.dt_s,
        tracks.boxes[past_rows],
        np.array(future_t, dtype=np.float64).reshape(n, t),
        np.array(future, dtype=np.float64).reshape(n, t, 7),
        {},
        truth_id=np.array([a.agent_id for a in agents], dtype=str),
        truth_anchor_xy=np.array(now, dtype=np.float64).reshape(n, 2),
        tracker_velocity_mps=tracks.velocity_mps[anchor_rows],
        counts=counts,
    )


def same_cases(tracked: Cases, labelled: Cases) -> tuple[Cases, Cases]:
    """The cases both hold: ``tracked`` (tracker pasts) and ``labelled`` (label pasts of the
    same recording and settings) restricted to the (labelled object, anchor sample) pairs
    they share, each in its own order (each object gives one case per anchor in both); the
    subsets carry no ``counts`` (those are of the whole of ``tracked``)."""

    def keys(c: Cases) -> list[tuple[str, int]]:
        anchor = np.rint(c.past_t_s[:, -1] / c.recording.dt_s).astype(np.int64)
        return list(zip(c.truth_ids.tolist(), anchor.tolist(), strict=True))

    kt, kl = keys(tracked), keys(labelled)
    common = set(kt) & set(kl)
    pick_t = np.array([k in common for k in kt], dtype=bool)
    pick_l = np.array([k in common for k in kl], dtype=bool)
    return (
        replace(tracked.select(pick_t), counts={}),
        replace(labelled.select(pick_l), counts={}),
    )
