"""2D detection average precision (image boxes), all-point interpolated (VOC 2010+ / COCO style).

Protocol, per class and IoU threshold:

1. All detections of all images are sorted by descending score (stable: ties keep input order).
2. Each detection is matched, in that order, to the not yet matched, non-ignored ground-truth
   box of its image with the highest IoU (ties: lower index); if that IoU *exceeds* the
   threshold (strictly, as the KITTI devkit's ``overlap > min_overlap``) it is a true
   positive, else it is checked against the ignored ground truth (neighbouring classes,
   labels outside the filter): a detection whose best IoU with a not yet used ignored box
   exceeds the threshold is ignored (neither TP nor FP) and uses that box up, one detection
   per ignored box as the KITTI devkit assigns one detection to each ignored label (and COCO
   to each ignored, non-crowd box); else against the image's ``DontCare`` regions
   as the KITTI devkit does (``compute_statistics_jit``, metric 0): a detection whose
   intersection with a DontCare box, divided by the detection's *own* area
   (``image_box_overlap`` criterion 0), exceeds the threshold is ignored, any number of
   detections per region; otherwise it is a false positive (duplicates of a matched box are
   false positives).
3. Precision/recall are accumulated over the ranked TPs and FPs; AP is the area under the
   precision envelope (precision at recall r = max precision at recall >= r), summed over every
   recall step ("all-point" interpolation; no 11/40/101-point sampling).

This is not KITTI's benchmark figure: KITTI reports AP40 (40 recall points) at three
difficulty levels (easy / moderate / hard) with the devkit's score-threshold sampling; here one
filter (:class:`KittiFilter`, by default the "hard" level's limits) and all-point
interpolation. Class names compare case-insensitively (``car`` results score as ``Car``,
``dontcare`` labels are DontCare regions), as the KITTI readers read them.

IoU is the KITTI devkit's (continuous pixels, no +1): :func:`drivestack.eval.detection.kitti.
image_box_overlap`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from drivestack.eval.detection.kitti import first_nonfinite_row, image_box_overlap


@dataclass(frozen=True)
class ImageBoxes:
    """Ground truth and detections of one image for one class.

    Attributes:
        gt_xyxy_px: ``(G, 4)``; gt_ignore: ``(G,)`` bool (ignored ground truth: matched by
            IoU, each absorbs one detection).
        det_xyxy_px: ``(D, 4)``; det_score: ``(D,)``.
        det_dropped: detections of the class a filter left out before matching (not in
            ``det_xyxy_px``: KITTI's lower than ``KittiFilter.min_height_px``); counted only,
            so a report can say how many were never scored.
        dc_xyxy_px: ``(C, 4)`` DontCare regions (not ground truth): an unmatched detection
            is ignored when its intersection with one, over its own area, exceeds the
            threshold (the KITTI devkit's rule; see the module docstring).

    Raises ``ValueError`` naming the array and row of a NaN or infinite box value or score
    (a NaN score would be ranked silently, a NaN box never match).
    """

    gt_xyxy_px: np.ndarray
    gt_ignore: np.ndarray
    det_xyxy_px: np.ndarray
    det_score: np.ndarray
    det_dropped: int = 0
    dc_xyxy_px: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))

    def __post_init__(self) -> None:
        g = np.asarray(self.gt_xyxy_px, dtype=np.float64).reshape(-1, 4)
        d = np.asarray(self.det_xyxy_px, dtype=np.float64).reshape(-1, 4)
        dc = np.asarray(self.dc_xyxy_px, dtype=np.float64).reshape(-1, 4)
        ig = np.asarray(self.gt_ignore, dtype=bool).reshape(-1)
        sc = np.asarray(self.det_score, dtype=np.float64).reshape(-1)
        if ig.shape[0] != g.shape[0] or sc.shape[0] != d.shape[0]:
            raise ValueError(
                f"ImageBoxes: gt_ignore {ig.shape} must match gt_xyxy_px {g.shape} and det_score "
                f"{sc.shape} must match det_xyxy_px {d.shape}"
            )
        checked = (("gt_xyxy_px", g), ("det_xyxy_px", d), ("det_score", sc), ("dc_xyxy_px", dc))
        for name, values in checked:
            row = first_nonfinite_row(values)
            if row is not None:
                raise ValueError(f"ImageBoxes: {name} row {row}: NaN or infinite value")
        object.__setattr__(self, "gt_xyxy_px", g)
        object.__setattr__(self, "det_xyxy_px", d)
        object.__setattr__(self, "gt_ignore", ig)
        object.__setattr__(self, "det_score", sc)
        object.__setattr__(self, "dc_xyxy_px", dc)


@dataclass(frozen=True)
class ApResult:
    """AP of one class at one IoU threshold, with the ranked curve.

    Attributes:
        ap: all-point AP in [0, 1] (NaN when there is no non-ignored ground truth).
        precision, recall: ``(K,)`` at each ranked non-ignored detection.
        n_gt: non-ignored ground-truth boxes; n_tp, n_fp: counts over all detections.
        n_ignored: detections ignored in matching (neither TP nor FP: their best IoU with
            an ignored ground-truth box exceeds the threshold, or they lie in a DontCare
            region by the devkit's rule).
        n_dropped: detections a filter left out before matching (:attr:`ImageBoxes.det_dropped`).
    """

    iou_threshold: float
    ap: float
    precision: np.ndarray
    recall: np.ndarray
    n_gt: int
    n_tp: int
    n_fp: int
    n_ignored: int = 0
    n_dropped: int = 0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "iou_threshold": self.iou_threshold,
            "ap": self.ap,
            "n_gt": self.n_gt,
            "n_tp": self.n_tp,
            "n_fp": self.n_fp,
            "n_ignored": self.n_ignored,
            "n_dropped": self.n_dropped,
            "max_recall": float(self.recall[-1]) if self.recall.size else 0.0,
        }


def all_point_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the precision envelope of a ranked ``(K,)`` recall/precision curve.

    ``sum_k (r_k - r_{k-1}) * max_{j >= k} p_j`` with ``r_0 = 0``.
    """
    r = np.concatenate([[0.0], np.asarray(recall, dtype=np.float64)])
    p = np.asarray(precision, dtype=np.float64)
    if p.size == 0:
        return 0.0
    envelope = np.maximum.accumulate(p[::-1])[::-1]
    return float(np.sum(np.diff(r) * envelope))


def match_image(boxes: ImageBoxes, iou_threshold: float) -> np.ndarray:
    """Outcome of each detection of one image, in descending score order (stable).

    Returns:
        ``(D,)`` int8 in the image's *input* order: 1 true positive, 0 false positive,
        -1 ignored.
    """
    d = boxes.det_xyxy_px.shape[0]
    outcome = np.zeros(d, dtype=np.int8)
    if d == 0:
        return outcome
    iou = image_box_overlap(boxes.det_xyxy_px, boxes.gt_xyxy_px)  # (D, G)
    # the devkit's DontCare test: intersection / the detection's own area (criterion 0)
    in_dontcare = np.any(
        image_box_overlap(boxes.det_xyxy_px, boxes.dc_xyxy_px, 0) > iou_threshold, axis=1
    )
    taken = boxes.gt_ignore.copy()  # real ground truth matched so far (ignored: never)
    used = ~boxes.gt_ignore  # ignored ground truth that absorbed a detection (real: always)
    for i in np.argsort(-boxes.det_score, kind="stable"):
        if iou.shape[1]:
            if _take_best(iou[i], taken, iou_threshold):
                outcome[i] = 1
                continue
            if _take_best(iou[i], used, iou_threshold):
                outcome[i] = -1
                continue
        if in_dontcare[i]:
            outcome[i] = -1
    return outcome


def _take_best(iou_row: np.ndarray, taken: np.ndarray, iou_threshold: float) -> bool:
    """Whether the best IoU in ``iou_row (G,)`` among boxes not ``taken (G,)`` (first on
    ties) exceeds ``iou_threshold``; if so that box is marked taken."""
    free = np.where(taken, -1.0, iou_row)
    j = int(np.argmax(free))
    if free[j] > iou_threshold:
        taken[j] = True
        return True
    return False


def average_precision(images: Sequence[ImageBoxes], iou_threshold: float) -> ApResult:
    """All-point AP of one class over ``images`` (see the module docstring)."""
    if not 0.0 < iou_threshold < 1.0:  # (a match needs IoU > threshold: 1 matches nothing)
        raise ValueError(f"iou_threshold must be in (0, 1), got {iou_threshold}")
    outcomes = [match_image(im, iou_threshold) for im in images]
    scores = [im.det_score for im in images]
    n_gt = int(sum(int(np.sum(~im.gt_ignore)) for im in images))
    outcome = np.concatenate(outcomes) if outcomes else np.zeros(0, dtype=np.int8)
    score = np.concatenate(scores) if scores else np.zeros(0)
    order = np.argsort(-score, kind="stable")
    ranked = outcome[order]
    ranked = ranked[ranked >= 0]
    tp = np.cumsum(ranked == 1)
    fp = np.cumsum(ranked == 0)
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / n_gt if n_gt else np.zeros_like(precision, dtype=np.float64)
    ap = all_point_ap(recall, precision) if n_gt else float("nan")
    return ApResult(
        iou_threshold=iou_threshold,
        ap=ap,
        precision=precision.astype(np.float64),
        recall=recall.astype(np.float64),
        n_gt=n_gt,
        n_tp=int(tp[-1]) if tp.size else 0,
        n_fp=int(fp[-1]) if fp.size else 0,
        n_ignored=int(np.count_nonzero(outcome < 0)),
        n_dropped=int(sum(im.det_dropped for im in images)),
    )


#: class -> neighbouring KITTI types whose ground truth is ignored (KITTI devkit rules; compared
#: case-insensitively). Pedestrian's is the object benchmark's ``Person_sitting``; KITTI
#: *tracking* labels name seated people ``Person`` instead, which is not a neighbour here: on
#: tracking labels a Pedestrian detection on a ``Person`` box is a false positive (the
#: tracking devkit, too, does not ignore ``Person`` for Pedestrian).
KITTI_NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "Car": ("Van",),
    "Pedestrian": ("Person_sitting",),
    "Cyclist": (),
}

#: :data:`KITTI_NEIGHBOURS` in lower case, as :func:`kitti_image_boxes` compares the names.
_NEIGHBOURS_LOWER = {
    cls.lower(): [n.lower() for n in names] for cls, names in KITTI_NEIGHBOURS.items()
}


@dataclass(frozen=True)
class KittiFilter:
    """Which KITTI ground truth counts (the rest is ignored) and which detections are kept.

    Ground truth of the class is ignored when its 2D height is at or below ``min_height_px``
    (the devkit's ``cleanData``: ``height <= MIN_HEIGHT``), its occlusion above
    ``max_occlusion`` or its truncation above ``max_truncation``; ground truth of the
    neighbouring class (:data:`KITTI_NEIGHBOURS`) is ignored; ``DontCare`` boxes become
    :attr:`ImageBoxes.dc_xyxy_px` regions (the devkit's rule); class names compare
    case-insensitively; detections lower than ``min_height_px`` are dropped (counted in
    :attr:`ImageBoxes.det_dropped`, neither TP nor FP). Defaults: KITTI's "hard" level.
    """

    min_height_px: float = 25.0
    max_occlusion: int = 2
    max_truncation: float = 0.5


def kitti_image_boxes(
    cls: str,
    gt_type: np.ndarray,
    gt_xyxy_px: np.ndarray,
    gt_truncation: np.ndarray,
    gt_occlusion: np.ndarray,
    det_type: np.ndarray,
    det_xyxy_px: np.ndarray,
    det_score: np.ndarray,
    rules: KittiFilter = KittiFilter(),
) -> ImageBoxes:
    """:class:`ImageBoxes` of class ``cls`` from one KITTI frame's rows (see :class:`KittiFilter`)."""
    name = cls.lower()
    gt_type = np.char.lower(np.asarray(gt_type, dtype=str))
    gt_box = np.asarray(gt_xyxy_px, dtype=np.float64).reshape(-1, 4)
    height = gt_box[:, 3] - gt_box[:, 1]
    own = gt_type == name
    neighbour = np.isin(gt_type, _NEIGHBOURS_LOWER.get(name, ()))
    dontcare = gt_type == "dontcare"
    hard = (
        (height <= rules.min_height_px)
        | (np.asarray(gt_occlusion) > rules.max_occlusion)
        | (np.asarray(gt_truncation) > rules.max_truncation)
    )
    keep = own | neighbour
    ignore = (own & hard) | neighbour
    det_box = np.asarray(det_xyxy_px, dtype=np.float64).reshape(-1, 4)
    det_own = np.char.lower(np.asarray(det_type, dtype=str)) == name
    det_keep = det_own & (det_box[:, 3] - det_box[:, 1] >= rules.min_height_px)
    return ImageBoxes(
        gt_box[keep],
        ignore[keep],
        det_box[det_keep],
        np.asarray(det_score)[det_keep],
        det_dropped=int(np.count_nonzero(det_own & ~det_keep)),
        dc_xyxy_px=gt_box[dontcare],
    )
