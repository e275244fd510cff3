"""Run the tracker on KITTI tracking detections and produce KITTI result rows.

Detections are converted once into the LiDAR frame (:func:`objects_to_boxes`); the tracker
runs there (or in a z-up world frame built from the ego poses); outputs are converted back to
the rectified camera frame, with the matched detection's image box (or, for coasting tracks,
the projected 3D box clipped to the image) and a per-box score.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from drivestack.core.frames import LIDAR
from drivestack.ingest.kitti_calib import KittiCalib
from drivestack.ingest.kitti_format import (
    KittiObjects,
    boxes_to_objects,
    lidar_from_camera_zup,
    objects_to_boxes,
    project_boxes_to_image_xyxy,
)
from drivestack.ingest.kitti_tracking import world_from_lidar_poses
from drivestack.structures.boxes import Boxes3D
from drivestack.tracking.tracker import Tracker

KITTI_FRAME_PERIOD_NS = 100_000_000  # 10 Hz


@dataclass(frozen=True)
class SequenceRun:
    """Result rows of one sequence and the time spent in ``Tracker.step`` (seconds): wall clock
    and CPU time of this process (the latter is robust to other processes sharing the cores)."""

    results: KittiObjects
    step_time_s: float
    n_frames: int
    step_cpu_time_s: float = 0.0
    #: per result row: the track's matches so far and the matched detection's score (NaN while
    #: coasting); the evidence the offline rules of :mod:`drivestack.tracking.offline` use. The
    #: score is the one the tracker was given: a stage that re-scores detections before
    #: tracking (the fused tracker) reports them as ``last_detection_score``
    hits: np.ndarray | None = None
    detection_score: np.ndarray | None = None
    #: ``(N, 7)`` per result row: the matched detection's box as read (camera_rect: bottom
    #: centre x y z, h w l, rotation_y; NaN while coasting), for offline box refinement
    #: (:mod:`drivestack.tracking.refine`)
    detection_box: np.ndarray | None = None
    #: ``(F, 4, 4)`` camera_rect -> world ego pose per frame when the run had them
    camera_poses: np.ndarray | None = None


def _result_rows(
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]],
    calib: KittiCalib,
    image_edge: tuple[float, float],
    type_name: str,
) -> KittiObjects:
    """The result rows of every frame's tracks, ``(z-up camera boxes (n, 7), image boxes
    (n, 4), matched this frame (n,), scores, track ids, frame)`` per frame, converted at once:
    the coasting boxes projected into the image, one :class:`KittiObjects` (row-wise work,
    done per frame it was a fifth of ``eval tracking``'s time)."""
    if not rows:
        return KittiObjects()
    zup, box2d, fresh, score, track_id = (np.concatenate([r[k] for r in rows]) for k in range(5))
    frame = np.concatenate([np.full(len(r[0]), r[5]) for r in rows])
    if np.any(~fresh):
        box2d[~fresh] = project_boxes_to_image_xyxy(zup[~fresh], calib.P2, image_edge_px=image_edge)
    objs = boxes_to_objects(zup, None, box2d_xyxy_px=box2d, unknown_visibility=True, score=score)
    return replace(objs, type_name=np.full(len(objs), type_name), frame=frame, track_id=track_id)


def track_kitti_sequence(
    tracker: Tracker,
    detections: KittiObjects,
    calib: KittiCalib,
    n_frames: int,
    type_name: str,
    camera_poses: np.ndarray | None = None,
) -> SequenceRun:
    """Track one sequence from frame 0 to ``n_frames - 1`` (the tracker is reset first).

    ``tracker`` may be any stage with ``Tracker``'s interface, its ``step`` taking
    ``frame_fixed`` (:class:`~drivestack.perception.fusion.fused_tracking.FusedTracker` too);
    one that re-scores the detections it tracks exposes the ``(D,)`` scores of its last step
    as ``last_detection_score``, and those become the rows' ``detection_score``.
    """
    tracker.reset()
    lidar_from_zup = lidar_from_camera_zup(calib)
    boxes = objects_to_boxes(detections, None).transformed(lidar_from_zup, LIDAR)
    zup_from_lidar = lidar_from_zup.inverse()
    zup_yaw = float(zup_from_lidar.yaw_rad)
    arr7, score, label = boxes.to_array7(), boxes.score, boxes.label
    slices = detections.frame_slices(n_frames)
    # projected boxes are clipped to the furthest pixel edge the detector's boxes reach
    if len(detections):
        image_edge = (
            float(np.ceil(detections.box2d_xyxy_px[:, 2].max())),
            float(np.ceil(detections.box2d_xyxy_px[:, 3].max())),
        )
    else:
        image_edge = (1241.0, 374.0)
    poses = (
        world_from_lidar_poses(camera_poses, calib)
        if camera_poses is not None and tracker.cfg.ego_motion_compensation
        else None
    )
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]] = []
    hits: list[np.ndarray] = []
    det_scores: list[np.ndarray] = []
    det_boxes: list[np.ndarray] = []
    det_box7 = np.column_stack([detections.location_m, detections.hwl_m, detections.rotation_y_rad])
    step_time = 0.0
    step_cpu = 0.0
    for f in range(n_frames):
        idx = slices[f]
        frame_boxes = Boxes3D.from_array7(
            arr7[idx], boxes.frame, f * KITTI_FRAME_PERIOD_NS, score=score[idx], label=label[idx]
        )
        t0, c0 = time.perf_counter(), time.process_time()
        # without poses the camera frame of a moving car stands in for a fixed one
        pose = poses[f] if poses is not None else None
        tracks = tracker.step(frame_boxes, pose, frame_fixed=poses is not None)
        step_time += time.perf_counter() - t0
        step_cpu += time.process_time() - c0
        if len(tracks) == 0:
            continue
        # z-up camera boxes as an array: the yaw is moved, not re-wrapped, before conversion
        zup = tracks.boxes.to_array7()
        zup[:, :3] = zup_from_lidar.apply(zup[:, :3])
        zup[:, 6] += zup_yaw
        det_idx = tracker.last_detection_index
        box2d = np.zeros((len(tracks), 4))
        fresh = det_idx >= 0
        box2d[fresh] = detections.box2d_xyxy_px[idx[det_idx[fresh]]]
        rows.append((zup, box2d, fresh, tracks.boxes.score, tracks.track_id, f))
        hits.append(tracks.hits)
        row_det_score = np.full(len(tracks), np.nan)
        tracked_score = getattr(tracker, "last_detection_score", None)
        if tracked_score is None:
            tracked_score = score[idx]
        row_det_score[fresh] = tracked_score[det_idx[fresh]]
        det_scores.append(row_det_score)
        row_det_box = np.full((len(tracks), 7), np.nan)
        row_det_box[fresh] = det_box7[idx[det_idx[fresh]]]
        det_boxes.append(row_det_box)
    return SequenceRun(
        _result_rows(rows, calib, image_edge, type_name),
        step_time,
        n_frames,
        step_cpu,
        hits=np.concatenate(hits) if hits else np.zeros(0, dtype=np.int64),
        detection_score=np.concatenate(det_scores) if det_scores else np.zeros(0),
        detection_box=np.concatenate(det_boxes) if det_boxes else np.zeros((0, 7)),
        camera_poses=camera_poses,
    )
