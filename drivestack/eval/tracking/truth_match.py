"""Which rows of a box set are labelled objects of a class: per-frame one-to-one matching of
KITTI tracking rows (detections or tracker results) to the ground truth by 3D IoU.

Used to label tracks as true or false when fitting a track scorer
(``tools/train_track_scorer.py``) and by the oracle bounds (``tools/tracking_oracle_bound.py``).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from drivestack.ingest.kitti_format import KittiObjects, camera_rect_to_zup_array7
from drivestack.kernels import box_iou_3d


def zup_boxes(objects: KittiObjects) -> np.ndarray:
    """``(N, 7)`` kernel boxes (z-up camera frame) of the rows of ``objects``."""
    return camera_rect_to_zup_array7(objects.location_m, objects.hwl_m, objects.rotation_y_rad)


def class_objects(labels: KittiObjects, cls: str) -> KittiObjects:
    """The ground-truth rows of exactly ``cls`` (the class the protocol counts) with a track id."""
    return labels.select(np.flatnonzero((labels.type_name == cls) & (labels.track_id >= 0)))


def match_to_truth(
    rows: KittiObjects, truth: KittiObjects, min_iou: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(row_index (M,), truth_index (M,))``: per frame, the one-to-one assignment of ``rows``
    to ``truth`` maximising the total 3D IoU (Hungarian), pairs below ``min_iou`` left out."""
    row_idx: list[int] = []
    truth_idx: list[int] = []
    for frame in np.intersect1d(rows.frame, truth.frame):
        ri = np.flatnonzero(rows.frame == frame)
        ti = np.flatnonzero(truth.frame == frame)
        iou = np.asarray(box_iou_3d(zup_boxes(rows.select(ri)), zup_boxes(truth.select(ti))))
        r, c = linear_sum_assignment(-iou)
        keep = iou[r, c] >= min_iou
        row_idx.extend(ri[r[keep]].tolist())
        truth_idx.extend(ti[c[keep]].tolist())
    return np.asarray(row_idx, dtype=np.int64), np.asarray(truth_idx, dtype=np.int64)


def true_track_ids(rows: KittiObjects, truth: KittiObjects, min_iou: float) -> np.ndarray:
    """Ids of the tracks in ``rows`` whose rows match a labelled object (:func:`match_to_truth`)
    in at least half of their rows."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    matched = np.zeros(len(rows), dtype=bool)
    matched[match_to_truth(rows, truth, min_iou)[0]] = True
    ids, inverse = np.unique(rows.track_id, return_inverse=True)
    fraction = np.bincount(inverse, weights=matched) / np.bincount(inverse)
    return ids[fraction >= 0.5]
