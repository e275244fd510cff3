"""Quick checks of the LiDAR steps against label boxes (used by tests and ``tools/``).

These are development metrics, not a benchmark protocol (``drivestack.eval.detection`` has
the official ones): ground segmentation judged with label boxes, and greedy BEV-IoU matching.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drivestack import kernels
from drivestack.core.transforms import SE3


@dataclass(frozen=True)
class GroundCheck:
    """Counts behind the two ground-segmentation figures of one or more scans.

    Attributes:
        object_points: points inside label boxes and over ``min_height_m`` above the box bottom.
        object_points_kept: of those, how many were labelled non-ground.
        near_ground_points: points outside all (enlarged) boxes within ``tolerance_m`` of the
            reference ground plane.
        near_ground_points_found: of those, how many were labelled ground.
    """

    object_points: int
    object_points_kept: int
    near_ground_points: int
    near_ground_points_found: int

    @property
    def object_kept_fraction(self) -> float:
        return self.object_points_kept / max(self.object_points, 1)

    @property
    def ground_found_fraction(self) -> float:
        return self.near_ground_points_found / max(self.near_ground_points, 1)

    def __add__(self, other: GroundCheck) -> GroundCheck:
        return GroundCheck(
            self.object_points + other.object_points,
            self.object_points_kept + other.object_points_kept,
            self.near_ground_points + other.near_ground_points,
            self.near_ground_points_found + other.near_ground_points_found,
        )


def reference_ground_plane(
    boxes: np.ndarray, min_spread_m: float = 1.5
) -> tuple[np.ndarray, float] | None:
    """Least-squares plane ``z = a x + b y + c`` through the bottom corners of ``(M, 7)`` boxes.

    Label boxes stand on the road, so their bottom faces sample it independently of any
    segmentation method. Returns ``(unit normal (3,), offset)`` with ``normal . p + offset = 0``,
    or None when the corners do not pin a plane down: fewer than 2 boxes, or a horizontal
    spread (square root of the smaller eigenvalue of their xy covariance) under
    ``min_spread_m`` (e.g. boxes in one row, whose sideways tilt is unknown).
    """
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    if len(b) < 2:
        return None
    corners = np.asarray(kernels.box_corners(b))[:, :4, :].reshape(-1, 3)
    if np.sqrt(max(np.linalg.eigvalsh(np.cov(corners[:, :2].T))[0], 0.0)) < min_spread_m:
        return None
    bottom = b[:, 2] - 0.5 * b[:, 5]
    corners[:, 2] = np.repeat(bottom, 4)
    design = np.concatenate([corners[:, :2], np.ones((len(corners), 1))], axis=1)
    (a, bb, c), *_ = np.linalg.lstsq(design, corners[:, 2], rcond=None)
    normal = np.array([-a, -bb, 1.0])
    scale = float(np.linalg.norm(normal))
    return normal / scale, -c / scale


def check_ground(
    xyz_m: np.ndarray,
    is_ground: np.ndarray,
    boxes: np.ndarray,
    *,
    min_height_m: float = 0.3,
    tolerance_m: float = 0.15,
    box_margin_m: float = 0.5,
    max_distance_to_box_m: float = 20.0,
    local_radius_m: float = 8.0,
) -> GroundCheck:
    """Judge ground labels of one scan with its label boxes ``(M, 7)`` (same frame as points).

    Object side: points inside a box and more than ``min_height_m`` above its bottom must be
    non-ground. Ground side: points outside every box (each grown by ``box_margin_m``) and
    within ``tolerance_m`` of the reference ground must be ground. The reference is the
    :func:`reference_ground_plane` of the boxes within ``max_distance_to_box_m`` (planar) of
    some box when the boxes pin a plane down, else the level of the nearest box's bottom
    within ``local_radius_m`` of it.
    """
    xyz = np.asarray(xyz_m, dtype=np.float64)
    ground = np.asarray(is_ground, dtype=bool)
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    if ground.shape != xyz.shape[:1]:
        raise ValueError(
            f"check_ground: is_ground has shape {ground.shape} for {len(xyz)} points (need "
            f"({len(xyz)},))"
        )
    if len(b) == 0 or len(xyz) == 0:
        return GroundCheck(0, 0, 0, 0)
    inside = np.asarray(kernels.points_in_boxes(xyz, b))
    bottom = b[:, 2] - 0.5 * b[:, 5]
    obj = (inside & (xyz[:, 2:3] > bottom[None, :] + min_height_m)).any(axis=1)
    grown = b.copy()
    grown[:, 3:6] += 2 * box_margin_m
    outside = ~np.asarray(kernels.points_in_boxes(xyz, grown)).any(axis=1)
    distance = np.hypot(xyz[:, None, 0] - b[None, :, 0], xyz[:, None, 1] - b[None, :, 1])
    nearest = distance.argmin(axis=1)
    closest = distance[np.arange(len(xyz)), nearest]
    plane = reference_ground_plane(b)
    if plane is not None:
        normal, offset = plane
        near = (
            outside
            & (closest <= max_distance_to_box_m)
            & (np.abs(xyz @ normal + offset) <= tolerance_m)
        )
    else:
        near = (
            outside
            & (closest <= local_radius_m)
            & (np.abs(xyz[:, 2] - bottom[nearest]) <= tolerance_m)
        )
    return GroundCheck(
        int(obj.sum()), int((obj & ~ground).sum()), int(near.sum()), int((near & ground).sum())
    )


@dataclass(frozen=True)
class Matching:
    """Greedy one-to-one matching of detections to labels by BEV IoU.

    Attributes:
        det_to_gt: ``(D,)`` index of the matched label or -1.
        gt_matched: ``(G,)`` bool.
        iou: ``(D, G)`` BEV IoU matrix.
    """

    det_to_gt: np.ndarray
    gt_matched: np.ndarray
    iou: np.ndarray


def match_bev(
    detections: np.ndarray, scores: np.ndarray, labels: np.ndarray, iou_threshold: float
) -> Matching:
    """Match ``(D, 7)`` detections (by descending score) to ``(G, 7)`` labels at BEV IoU."""
    det = np.asarray(detections, dtype=np.float64).reshape(-1, 7)
    gt = np.asarray(labels, dtype=np.float64).reshape(-1, 7)
    iou = (
        np.asarray(kernels.box_iou_bev(det, gt))
        if len(det) and len(gt)
        else np.zeros((len(det), len(gt)))
    )
    det_to_gt = np.full(len(det), -1, dtype=np.int64)
    taken = np.zeros(len(gt), dtype=bool)
    for d in np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable"):
        if not len(gt):
            break
        cand = np.where(taken, -1.0, iou[d])
        g = int(np.argmax(cand))
        if cand[g] >= iou_threshold:
            det_to_gt[d] = g
            taken[g] = True
    return Matching(det_to_gt, taken, iou)


def size_errors(detections: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``(N, 3)`` signed size error, fitted minus labelled ``(length, width, height)`` in
    metres, of ``(N, 7)`` detections paired row by row with ``(N, 7)`` labels. A detection's
    length and width are taken along the label's axes: swapped when its yaw is more than 45
    degrees off the label's (modulo 180 degrees, a shape fit's yaw being an axis)."""
    det = np.asarray(detections, dtype=np.float64).reshape(-1, 7)
    gt = np.asarray(labels, dtype=np.float64).reshape(-1, 7)
    if len(det) != len(gt):
        raise ValueError(f"size_errors: {len(det)} detections but {len(gt)} labels")
    off = np.abs(np.mod(det[:, 6] - gt[:, 6] + np.pi / 2, np.pi) - np.pi / 2)
    across = off > np.pi / 4
    length = np.where(across, det[:, 4], det[:, 3])
    width = np.where(across, det[:, 3], det[:, 4])
    return np.stack([length, width, det[:, 5]], axis=1) - gt[:, 3:6]


def average_precision(
    scores: np.ndarray, is_true: np.ndarray, num_labels: int, recall_points: int = 40
) -> float:
    """Interpolated AP over ``recall_points`` recall levels (1/R .. 1, as KITTI's AP40).

    ``scores`` and ``is_true`` (bool) describe all detections pooled over scans; detections
    that should be ignored must be removed beforehand.
    """
    if num_labels == 0:
        return float("nan")
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    tp = np.cumsum(np.asarray(is_true, dtype=bool)[order])
    precision = tp / np.arange(1, len(order) + 1)
    recall = tp / num_labels
    levels = np.linspace(1.0 / recall_points, 1.0, recall_points)
    total = 0.0
    for r in levels:
        ok = recall >= r - 1e-12
        total += float(precision[ok].max()) if ok.any() else 0.0
    return total / recall_points


def in_image(
    centres_m: np.ndarray,
    camera_from_sensor: SE3,
    projection: np.ndarray,
    image_wh: tuple[int, int],
) -> np.ndarray:
    """``(N,)`` bool: ``(N, 3)`` sensor-frame points that project into a ``(W, H)`` image with
    the ``(3, 4)`` ``projection`` (at least 0.5 m in front of the camera)."""
    pts = np.asarray(centres_m, dtype=np.float64).reshape(-1, 3)
    if len(pts) == 0:
        return np.zeros(0, dtype=bool)
    uvw = camera_from_sensor.apply(pts) @ projection[:, :3].T + projection[:, 3]
    depth = uvw[:, 2]
    u = uvw[:, 0] / np.maximum(depth, 1e-6)
    v = uvw[:, 1] / np.maximum(depth, 1e-6)
    return (depth > 0.5) & (u >= 0) & (u < image_wh[0]) & (v >= 0) & (v < image_wh[1])


def boxes_in_image(
    boxes: np.ndarray,
    camera_from_sensor: SE3,
    projection: np.ndarray,
    image_wh: tuple[int, int],
) -> np.ndarray:
    """``(N,)`` bool: ``(N, 7)`` sensor-frame boxes that show in a ``(W, H)`` image.

    The detection filter of the KITTI protocol as mmdetection3d applies it: the box centre is
    in front of the camera and the 2D bounding box of its projected corners overlaps the image
    (corners less than 0.1 m in front of the camera are left out of that 2D box). Unlike
    :func:`in_image` of the centre, a car cut by the image border counts, as its label does.
    """
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    if len(b) == 0:
        return np.zeros(0, dtype=bool)
    corners = np.asarray(kernels.box_corners(b), dtype=np.float64)  # (N, 8, 3)
    cam = camera_from_sensor.apply(corners.reshape(-1, 3)).reshape(len(b), 8, 3)
    centre_depth = camera_from_sensor.apply(b[:, :3])[:, 2]
    uvw = cam @ projection[:, :3].T + projection[:, 3]
    front = uvw[..., 2] > 0.1
    depth = np.where(front, uvw[..., 2], 1.0)
    u, v = uvw[..., 0] / depth, uvw[..., 1] / depth
    big = np.inf
    u_lo, u_hi = np.where(front, u, big).min(axis=1), np.where(front, u, -big).max(axis=1)
    v_lo, v_hi = np.where(front, v, big).min(axis=1), np.where(front, v, -big).max(axis=1)
    return (
        (centre_depth > 0)
        & front.any(axis=1)
        & (u_lo < image_wh[0])
        & (u_hi > 0)
        & (v_lo < image_wh[1])
        & (v_hi > 0)
    )


@dataclass
class CarTally:
    """Pooled Car detection counts of one detector over many scans.

    Labels within ``max_range_m`` (planar) count for recall; a detection is a true positive
    when it matches (BEV IoU >= ``iou_threshold``, greedy by score) a Car label, it is ignored
    when it matches a label beyond the range or only an ignored label (e.g. Van, as in KITTI),
    and a false box otherwise (when within the range). The :func:`size_errors` of the counted
    true positives are kept (``size_errors_m``, one ``(T, 3)`` array per scan).
    """

    max_range_m: float = 40.0
    iou_threshold: float = 0.5
    scores: list[float] = field(default_factory=list)
    true: list[bool] = field(default_factory=list)
    num_labels: int = 0
    matched_labels: int = 0
    false_boxes: int = 0
    scans: int = 0
    size_errors_m: list[np.ndarray] = field(default_factory=list)

    def add(
        self, detections: np.ndarray, scores: np.ndarray, cars: np.ndarray, ignored: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One scan: ``(D, 7)`` Car detections with ``(D,)`` scores, ``(G, 7)`` Car labels and
        ``(I, 7)`` ignored labels, all in one frame centred on the sensor.

        Returns ``(D,)`` bool ``counted`` (neither ignored nor out of range) and ``(D,)`` bool
        ``true`` (matched a Car label).
        """
        det = np.asarray(detections, dtype=np.float64).reshape(-1, 7)
        cars = np.asarray(cars, dtype=np.float64).reshape(-1, 7)
        ignored = np.asarray(ignored, dtype=np.float64).reshape(-1, 7)
        self.scans += 1
        match = match_bev(det, scores, cars, self.iou_threshold)
        on_ignored = match_bev(det, scores, ignored, self.iou_threshold).det_to_gt >= 0
        car_far = np.append(
            np.hypot(cars[:, 0], cars[:, 1]) > self.max_range_m, False
        )  # [-1]: unmatched
        det_near = np.hypot(det[:, 0], det[:, 1]) <= self.max_range_m
        counted = det_near & ~car_far[match.det_to_gt] & ~((match.det_to_gt < 0) & on_ignored)
        self.scores.extend(np.asarray(scores, dtype=np.float64)[counted].tolist())
        self.true.extend((match.det_to_gt[counted] >= 0).tolist())
        near = ~car_far[:-1]
        self.num_labels += int(near.sum())
        self.matched_labels += int((match.gt_matched & near).sum())
        self.false_boxes += int(((match.det_to_gt < 0) & counted).sum())
        true = counted & (match.det_to_gt >= 0)
        self.size_errors_m.append(size_errors(det[true], cars[match.det_to_gt[true]]))
        return counted, match.det_to_gt >= 0

    @property
    def recall(self) -> float:
        """Matched over in-range Car labels; NaN (undefined, null in JSON) without labels."""
        return self.matched_labels / self.num_labels if self.num_labels else float("nan")

    @property
    def false_boxes_per_scan(self) -> float:
        """False Car boxes per scan; NaN (undefined) before any scan."""
        return self.false_boxes / self.scans if self.scans else float("nan")

    def summary(self) -> dict[str, Any]:
        true = np.asarray(self.true, dtype=bool)
        return {
            "car_labels": self.num_labels,
            "recall": self.recall,
            "precision": float(true.mean()) if len(true) else float("nan"),
            "false_car_boxes_per_scan": self.false_boxes_per_scan,
            "ap40_bev": average_precision(np.asarray(self.scores), true, self.num_labels),
            **self.size_error_summary(),
        }

    def size_error_summary(self) -> dict[str, Any]:
        """``tp_size_error_median_m``: the median :func:`size_errors` (length, width, height)
        of the true positives counted so far (NaN without any) and ``tp_size_error_count``."""
        errors = np.concatenate([np.zeros((0, 3)), *self.size_errors_m])
        median = np.median(errors, axis=0) if len(errors) else np.full(3, np.nan)
        return {
            "tp_size_error_median_m": [float(v) for v in median],
            "tp_size_error_count": len(errors),
        }
