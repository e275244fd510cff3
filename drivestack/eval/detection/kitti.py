"""KITTI 3D object detection protocol (the official devkit as ported by
kitti-object-eval-python / mmdetection3d), on :class:`KittiObjects` in camera_rect.

Per class, difficulty and overlap set:

1. **Clean** (``_clean``): a GT of the class is *valid* for a difficulty when its occlusion
   <= (0, 1, 2), truncation <= (0.15, 0.30, 0.50) and 2D box height > (40, 25, 25) px;
   otherwise (and for Van under Car, Person_sitting under Pedestrian) it is *ignored* (may
   absorb a detection, never counts as missed). Detections of the class shorter than the
   height limit are ignored. DontCare regions absorb unmatched detections (2D metric only).
2. **Overlaps**: 2D box IoU (metric 0), rotated BEV IoU (1) or 3D IoU (2) from
   :mod:`drivestack.kernels`; a match needs IoU > the class's minimum overlap.
3. **Thresholds**: the scores of detections matched greedily (highest score first) to valid
   GTs, subsampled to at most 41 recall steps of 1/40.
4. **PR curve**: at each threshold TP/FP/FN (and the AOS similarity sum) over all frames;
   precision and AOS are made monotone from the right.
5. **AP**: AP11 = mean of slots 0, 4, .., 40; AP40 = mean of slots 1 .. 40 (percent).

Class indices follow the devkit: 0 Car, 1 Pedestrian, 2 Cyclist, 3 Van, 4 Person_sitting.

2D-only result rows (dimensions ``-1 -1 -1``, see :meth:`KittiObjects.has_box3d`) follow the
devkit (``evaluate_object.cpp``: a class gets BEV/3D evaluation only when at least one of its
detections has a 3D box): a class whose detections are all 2D-only is scored in 2D only, its
BEV/3D metrics are left out. Where the devkit would score 2D-only rows as 3D boxes (a class
with both kinds of detections), :func:`kitti_eval` raises instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_format import KittiObjects

CLASS_NAMES: tuple[str, ...] = ("Car", "Pedestrian", "Cyclist", "Van", "Person_sitting")
MIN_HEIGHT_PX = (40.0, 25.0, 25.0)
MAX_OCCLUSION = (0, 1, 2)
MAX_TRUNCATION = (0.15, 0.3, 0.5)
DIFFICULTIES = ("easy", "moderate", "hard")
METRICS = ("bbox", "bev", "3d")
NUM_SAMPLE_PTS = 41
#: ``(2 overlap sets, 3 metrics (bbox, bev, 3d), 5 classes)``: strict then loose.
DEFAULT_MIN_OVERLAPS = np.array(
    [
        [[0.7, 0.5, 0.5, 0.7, 0.5], [0.7, 0.5, 0.5, 0.7, 0.5], [0.7, 0.5, 0.5, 0.7, 0.5]],
        [[0.7, 0.5, 0.5, 0.7, 0.5], [0.5, 0.25, 0.25, 0.5, 0.25], [0.5, 0.25, 0.25, 0.5, 0.25]],
    ]
)
_NO_DETECTION = -10000000.0


# -- overlaps ------------------------------------------------------------------------------


def image_box_overlap(boxes: np.ndarray, query: np.ndarray, criterion: int = -1) -> np.ndarray:
    """``(N, K)`` 2D overlap of ``boxes (N, 4)`` and ``query (K, 4)`` ``[x1, y1, x2, y2]``.

    ``criterion`` -1: IoU; 0: intersection / area of ``boxes``; 1: / area of ``query``.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    query = np.asarray(query, dtype=np.float64).reshape(-1, 4)
    iw = np.minimum(boxes[:, None, 2], query[None, :, 2]) - np.maximum(
        boxes[:, None, 0], query[None, :, 0]
    )
    ih = np.minimum(boxes[:, None, 3], query[None, :, 3]) - np.maximum(
        boxes[:, None, 1], query[None, :, 1]
    )
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    area_b = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    area_q = (query[:, 2] - query[:, 0]) * (query[:, 3] - query[:, 1])
    if criterion == -1:
        union = area_b[:, None] + area_q[None, :] - inter
    elif criterion == 0:
        union = np.broadcast_to(area_b[:, None], inter.shape)
    elif criterion == 1:
        union = np.broadcast_to(area_q[None, :], inter.shape)
    else:
        union = np.ones_like(inter)
    return np.where(inter > 0, inter / np.where(inter > 0, union, 1.0), 0.0)


def camera_boxes_as_array7(objects: KittiObjects) -> np.ndarray:
    """``(N, 7)`` kernel boxes for camera_rect objects, by the rigid map (x, y, z)_cam ->
    (z, -x, -y)_cam: BEV and 3D IoU are unchanged by it. Negative (DontCare) sizes -> 0."""
    h, w, l = np.maximum(objects.hwl_m, 0.0).T
    x, y, z = objects.location_m.T
    return np.stack([z, -x, -(y - h / 2), l, w, h, -objects.rotation_y_rad - np.pi / 2], axis=1)


def frame_overlaps(dt: KittiObjects, gt: KittiObjects, metric: int) -> np.ndarray:
    """``(num_dt, num_gt)`` overlaps of one frame for metric 0 (2D), 1 (BEV) or 2 (3D)."""
    if metric == 0:
        return image_box_overlap(dt.box2d_xyxy_px, gt.box2d_xyxy_px)
    from drivestack.kernels import box_iou_3d, box_iou_bev

    a, b = camera_boxes_as_array7(dt), camera_boxes_as_array7(gt)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    return np.asarray((box_iou_bev if metric == 1 else box_iou_3d)(a, b), dtype=np.float64)


# -- per-frame statistics ------------------------------------------------------------------


@dataclass(frozen=True)
class _CleanFrame:
    num_valid_gt: int
    ignored_gt: np.ndarray  # (num_gt,) 0 valid, 1 ignored, -1 other class
    ignored_dt: np.ndarray  # (num_dt,)
    dontcare_xyxy: np.ndarray  # (K, 4)


def _clean(gt: KittiObjects, dt: KittiObjects, current_class: int, difficulty: int) -> _CleanFrame:
    cls = CLASS_NAMES[current_class].lower()
    gt_names = np.char.lower(gt.type_name.astype(str))
    height = gt.box2d_xyxy_px[:, 3] - gt.box2d_xyxy_px[:, 1]
    valid_class = np.where(gt_names == cls, 1, -1)
    if cls == "pedestrian":
        valid_class[gt_names == "person_sitting"] = 0
    if cls == "car":
        valid_class[gt_names == "van"] = 0
    hard = (
        (gt.occlusion > MAX_OCCLUSION[difficulty])
        | (gt.truncation > MAX_TRUNCATION[difficulty])
        | (height <= MIN_HEIGHT_PX[difficulty])
    )
    ignored_gt = np.full(len(gt), -1, dtype=np.int64)
    ignored_gt[(valid_class == 1) & ~hard] = 0
    ignored_gt[(valid_class == 0) | ((valid_class == 1) & hard)] = 1
    dt_height = np.abs(dt.box2d_xyxy_px[:, 3] - dt.box2d_xyxy_px[:, 1])
    dt_class = np.char.lower(dt.type_name.astype(str)) == cls
    ignored_dt = np.where(
        dt_height < MIN_HEIGHT_PX[difficulty], 1, np.where(dt_class, 0, -1)
    ).astype(np.int64)
    dontcare = gt.box2d_xyxy_px[gt.type_name == "DontCare"]
    return _CleanFrame(
        int(((valid_class == 1) & ~hard).sum()), ignored_gt, ignored_dt, dontcare.reshape(-1, 4)
    )


def _statistics(
    overlaps: np.ndarray,
    gt: KittiObjects,
    dt: KittiObjects,
    clean: _CleanFrame,
    metric: int,
    min_overlap: float,
    thresh: float = 0.0,
    compute_fp: bool = False,
    compute_aos: bool = False,
) -> tuple[int, int, int, float, np.ndarray]:
    """(tp, fp, fn, similarity, matched scores) of one frame (see :func:`_statistics_kernel`)."""
    tp, fp, fn, sim, thresholds = _statistics_kernel(
        np.ascontiguousarray(overlaps, dtype=np.float64),
        clean.ignored_gt,
        clean.ignored_dt,
        np.ascontiguousarray(dt.score, dtype=np.float64),
        np.ascontiguousarray(gt.alpha_rad, dtype=np.float64),
        np.ascontiguousarray(dt.alpha_rad, dtype=np.float64),
        np.ascontiguousarray(dt.box2d_xyxy_px, dtype=np.float64),
        np.ascontiguousarray(clean.dontcare_xyxy, dtype=np.float64),
        metric,
        float(min_overlap),
        float(thresh),
        compute_fp,
        compute_aos,
    )
    return int(tp), int(fp), int(fn), float(sim), thresholds


@njit(cache=True)
def _statistics_kernel(  # pragma: no cover - compiled
    overlaps: np.ndarray,
    ignored_gt: np.ndarray,
    ignored_dt: np.ndarray,
    scores: np.ndarray,
    gt_alpha: np.ndarray,
    dt_alpha: np.ndarray,
    dt_bbox: np.ndarray,
    dontcare: np.ndarray,
    metric: int,
    min_overlap: float,
    thresh: float,
    compute_fp: bool,
    compute_aos: bool,
) -> tuple[int, int, int, float, np.ndarray]:
    """The devkit's ``compute_statistics_jit``, verbatim: greedy matching of one frame."""
    det_size = scores.shape[0]
    gt_size = ignored_gt.shape[0]
    assigned = np.zeros(det_size, dtype=np.bool_)
    below = np.zeros(det_size, dtype=np.bool_)
    if compute_fp:
        for j in range(det_size):
            below[j] = scores[j] < thresh
    tp = 0
    fp = 0
    fn = 0
    thresholds = np.zeros(gt_size)
    n_thresh = 0
    deltas = np.zeros(gt_size)
    n_delta = 0
    for i in range(gt_size):
        if ignored_gt[i] == -1:
            continue
        det_idx = -1
        valid_detection = _NO_DETECTION
        max_overlap = 0.0
        assigned_ignored_det = False
        for j in range(det_size):
            if ignored_dt[j] == -1 or assigned[j] or below[j]:
                continue
            overlap = overlaps[j, i]
            if (not compute_fp) and overlap > min_overlap and scores[j] > valid_detection:
                det_idx = j
                valid_detection = scores[j]
            elif (
                compute_fp
                and overlap > min_overlap
                and (overlap > max_overlap or assigned_ignored_det)
                and ignored_dt[j] == 0
            ):
                max_overlap = overlap
                det_idx = j
                valid_detection = 1.0
                assigned_ignored_det = False
            elif (
                compute_fp
                and overlap > min_overlap
                and valid_detection == _NO_DETECTION
                and ignored_dt[j] == 1
            ):
                det_idx = j
                valid_detection = 1.0
                assigned_ignored_det = True
        if valid_detection == _NO_DETECTION and ignored_gt[i] == 0:
            fn += 1
        elif valid_detection != _NO_DETECTION and (ignored_gt[i] == 1 or ignored_dt[det_idx] == 1):
            assigned[det_idx] = True
        elif valid_detection != _NO_DETECTION:
            tp += 1
            thresholds[n_thresh] = scores[det_idx]
            n_thresh += 1
            if compute_aos:
                deltas[n_delta] = gt_alpha[i] - dt_alpha[det_idx]
                n_delta += 1
            assigned[det_idx] = True
    similarity = 0.0
    if compute_fp:
        for j in range(det_size):
            if not (assigned[j] or ignored_dt[j] == -1 or ignored_dt[j] == 1 or below[j]):
                fp += 1
        nstuff = 0
        if metric == 0:
            for k in range(dontcare.shape[0]):
                for j in range(det_size):
                    if assigned[j] or ignored_dt[j] == -1 or ignored_dt[j] == 1 or below[j]:
                        continue
                    iw = min(dt_bbox[j, 2], dontcare[k, 2]) - max(dt_bbox[j, 0], dontcare[k, 0])
                    ih = min(dt_bbox[j, 3], dontcare[k, 3]) - max(dt_bbox[j, 1], dontcare[k, 1])
                    if iw > 0 and ih > 0:
                        area = (dt_bbox[j, 2] - dt_bbox[j, 0]) * (dt_bbox[j, 3] - dt_bbox[j, 1])
                        if iw * ih / area > min_overlap:
                            assigned[j] = True
                            nstuff += 1
        fp -= nstuff
        if compute_aos:
            if tp > 0 or fp > 0:
                for d in range(n_delta):
                    similarity += (1.0 + np.cos(deltas[d])) / 2.0
            else:
                similarity = -1.0
    return tp, fp, fn, similarity, thresholds[:n_thresh]


def get_thresholds(
    scores: np.ndarray, num_gt: int, num_sample_pts: int = NUM_SAMPLE_PTS
) -> np.ndarray:
    """Score thresholds at (at most) ``num_sample_pts`` recall steps of ``1 / (num_sample_pts - 1)``."""
    scores = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    current_recall = 0.0
    out: list[float] = []
    for i, score in enumerate(scores):
        l_recall = (i + 1) / num_gt
        r_recall = (i + 2) / num_gt if i < len(scores) - 1 else l_recall
        if (r_recall - current_recall) < (current_recall - l_recall) and i < len(scores) - 1:
            continue
        out.append(float(score))
        current_recall += 1 / (num_sample_pts - 1.0)
    return np.asarray(out)


def eval_class(
    gt_frames: Sequence[KittiObjects],
    dt_frames: Sequence[KittiObjects],
    current_classes: Sequence[int],
    difficulties: Sequence[int],
    metric: int,
    min_overlaps: np.ndarray,
    compute_aos: bool = False,
) -> dict[str, np.ndarray]:
    """Precision, recall and AOS curves ``(num_class, num_difficulty, num_overlap_sets, 41)``.

    ``min_overlaps`` is ``(num_sets, 3, num_class)`` with classes in ``current_classes`` order.
    """
    if len(gt_frames) != len(dt_frames):
        raise ValueError(
            f"{len(gt_frames)} ground-truth frames but {len(dt_frames)} detection frames"
        )
    overlaps = [frame_overlaps(d, g, metric) for g, d in zip(gt_frames, dt_frames, strict=True)]
    shape = (len(current_classes), len(difficulties), min_overlaps.shape[0], NUM_SAMPLE_PTS)
    precision, recall, aos = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for m, current_class in enumerate(current_classes):
        for d_idx, difficulty in enumerate(difficulties):
            cleaned = [
                _clean(g, d, current_class, difficulty)
                for g, d in zip(gt_frames, dt_frames, strict=True)
            ]
            total_valid = sum(c.num_valid_gt for c in cleaned)
            for k, min_overlap in enumerate(min_overlaps[:, metric, m]):
                matched = [
                    _statistics(ov, g, d, c, metric, float(min_overlap))[4]
                    for ov, g, d, c in zip(overlaps, gt_frames, dt_frames, cleaned, strict=True)
                ]
                thresholds = get_thresholds(np.concatenate([np.zeros(0), *matched]), total_valid)
                pr = np.zeros((len(thresholds), 4))
                for t, thresh in enumerate(thresholds):
                    for ov, g, d, c in zip(overlaps, gt_frames, dt_frames, cleaned, strict=True):
                        tp, fp, fn, sim, _ = _statistics(
                            ov, g, d, c, metric, float(min_overlap), thresh, True, compute_aos
                        )
                        pr[t, 0] += tp
                        pr[t, 1] += fp
                        pr[t, 2] += fn
                        if sim != -1:
                            pr[t, 3] += sim
                n = len(thresholds)
                if n == 0:
                    continue
                recall[m, d_idx, k, :n] = pr[:, 0] / (pr[:, 0] + pr[:, 2])
                precision[m, d_idx, k, :n] = pr[:, 0] / (pr[:, 0] + pr[:, 1])
                if compute_aos:
                    aos[m, d_idx, k, :n] = pr[:, 3] / (pr[:, 0] + pr[:, 1])
                for arr in (precision, recall, aos):
                    arr[m, d_idx, k, :n] = np.maximum.accumulate(arr[m, d_idx, k, :n][::-1])[::-1]
    return {"recall": recall, "precision": precision, "orientation": aos}


def perfect_ap40(num_gt: int) -> float:
    """The AP40 (percent) of a perfect detector (every valid label found, nothing else) on
    ``num_gt`` valid labels: below 100 for 40 labels or fewer, since the devkit samples at
    most one threshold per label (:func:`get_thresholds`), ``(n - 1) / 40`` with ``n`` of them
    (7 labels: 15.00). 0 without labels."""
    if num_gt <= 0:
        return 0.0
    n = len(get_thresholds(np.arange(num_gt, 0, -1, dtype=np.float64), num_gt))
    precision = np.zeros(NUM_SAMPLE_PTS)
    precision[:n] = 1.0
    return float(get_map40(precision))


def valid_gt_counts(
    gt_frames: Sequence[KittiObjects], classes: Sequence[int | str]
) -> dict[str, dict[str, int]]:
    """``{class: {difficulty: labels}}``: the labels each AP of the class averages over (valid
    for the difficulty: occlusion, truncation and height within its limits)."""
    none = KittiObjects()
    out: dict[str, dict[str, int]] = {}
    for c in classes:
        index = _class_index(c)
        out[CLASS_NAMES[index]] = {
            diff: sum(_clean(g, none, index, d).num_valid_gt for g in gt_frames)
            for d, diff in enumerate(DIFFICULTIES)
        }
    return out


def get_map11(prec: np.ndarray) -> np.ndarray:
    """Mean of the 11 slots 0, 4, .., 40, in percent."""
    return prec[..., 0::4].sum(axis=-1) / 11 * 100


def get_map40(prec: np.ndarray) -> np.ndarray:
    """Mean of slots 1 .. 40, in percent."""
    return prec[..., 1:].sum(axis=-1) / 40 * 100


def do_eval(
    gt_frames: Sequence[KittiObjects],
    dt_frames: Sequence[KittiObjects],
    current_classes: Sequence[int],
    min_overlaps: np.ndarray,
    eval_types: Sequence[str] = ("bbox", "bev", "3d"),
    precision_out: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """``{"mAP11_bbox": (C, 3, S), "mAP40_3d": ..., "mAP11_aos": ...}`` (percent).

    With ``precision_out``, also stores each metric's precision curves there:
    ``precision_out["bev"]`` is ``(C, 3 difficulties, S overlap sets, 41)``, the slots the
    APs average (slot i at recall i / 40).
    """
    out: dict[str, np.ndarray] = {}
    for metric, name in enumerate(METRICS):
        if name not in eval_types:
            continue
        with_aos = name == "bbox" and "aos" in eval_types
        ret = eval_class(
            gt_frames,
            dt_frames,
            current_classes,
            (0, 1, 2),
            metric,
            min_overlaps,
            compute_aos=with_aos,
        )
        if precision_out is not None:
            precision_out[name] = ret["precision"]
        out[f"mAP11_{name}"] = get_map11(ret["precision"])
        out[f"mAP40_{name}"] = get_map40(ret["precision"])
        if with_aos:
            out["mAP11_aos"] = get_map11(ret["orientation"])
            out["mAP40_aos"] = get_map40(ret["orientation"])
    return out


_LABELS = {"bbox": "2D", "bev": "BEV", "3d": "3D", "aos": "AOS"}


def classes_without_3d_boxes(dt_frames: Sequence[KittiObjects], classes: Sequence[int]) -> set[int]:
    """Indices among ``classes`` whose detections are all 2D-only (and at least one): the
    devkit leaves their BEV/3D evaluation out.

    Raises:
        DataError: a 2D-only detection of a class that also has 3D detections (naming the
            file and object). Labels are used as the devkit reads them.
    """
    no_box = [~d.has_box3d() for d in dt_frames]  # per frame, computed once
    if not any(m.any() for m in no_box):
        return set()  # the usual case: every detection has a 3D box
    names = [np.char.lower(d.type_name.astype(str)) for d in dt_frames]
    skipped = set()
    for c in classes:
        of_class = [n == CLASS_NAMES[c].lower() for n in names]
        flat = [m & f for m, f in zip(of_class, no_box, strict=True)]
        n_rows, n_flat = sum(int(m.sum()) for m in of_class), sum(int(f.sum()) for f in flat)
        if n_flat and n_flat == n_rows:
            skipped.add(c)
        elif n_flat:
            i = next(i for i, f in enumerate(flat) if f.any())
            raise DataError(
                f"2D-only detection (dimensions -1 -1 -1) among {CLASS_NAMES[c]} detections "
                "with 3D boxes: BEV/3D evaluation would score it as a box",
                path=dt_frames[i].path or None,
                record=f"object {int(np.flatnonzero(flat[i])[0])}",
                field="h w l",
            )
    return skipped


def _class_index(name_or_index: int | str) -> int:
    """Index into :data:`CLASS_NAMES` of a class given by index or by name (any case)."""
    if isinstance(name_or_index, int):
        if not 0 <= name_or_index < len(CLASS_NAMES):
            raise ValueError(f"class index {name_or_index} out of range 0..{len(CLASS_NAMES) - 1}")
        return name_or_index
    lower = [n.lower() for n in CLASS_NAMES]
    if str(name_or_index).lower() not in lower:
        raise ValueError(f"unknown KITTI class {name_or_index!r}; known: {list(CLASS_NAMES)}")
    return lower.index(str(name_or_index).lower())


#: The geometry columns of KittiObjects that the overlaps are computed from.
_GEOMETRY = ("box2d_xyxy_px", "hwl_m", "location_m", "rotation_y_rad")


def first_nonfinite_row(values: np.ndarray) -> int | None:
    """The first row (index along the first axis) of ``values`` holding a NaN or infinite
    value, None when all are finite."""
    finite = np.isfinite(values)
    bad = ~finite.all(axis=tuple(range(1, finite.ndim)))  # axis (): a 1-D array as it is
    return int(np.flatnonzero(bad)[0]) if bad.any() else None


def _check_finite(frames: Sequence[KittiObjects], name: str, *, with_score: bool) -> None:
    """``ValueError`` naming the argument, frame, row and column of the first NaN or infinite
    value in the boxes (and, for detections, the score that ranks them: a NaN score would be
    ranked silently). Label scores are not checked (tracking labels read theirs as NaN)."""
    columns = (*_GEOMETRY, "score") if with_score else _GEOMETRY
    for i, frame in enumerate(frames):
        for column in columns:
            row = first_nonfinite_row(np.asarray(getattr(frame, column), dtype=np.float64))
            if row is not None:
                where = f" ({frame.path})" if frame.path else ""
                raise ValueError(
                    f"kitti_eval: {name}[{i}]{where} row {row}: field {column}: NaN or infinite "
                    "value"
                )


def kitti_eval(
    gt_frames: Sequence[KittiObjects],
    dt_frames: Sequence[KittiObjects],
    current_classes: Sequence[int | str] = ("Car", "Pedestrian", "Cyclist"),
    eval_types: Sequence[str] = ("bbox", "bev", "3d"),
    min_overlaps: np.ndarray = DEFAULT_MIN_OVERLAPS,
    curves_out: dict[str, Any] | None = None,
) -> dict[str, float | None]:
    """Flat metrics as mmdetection3d names them (without its ``KITTI/`` prefix):
    ``Car_3D_AP40_moderate_strict``, ``..._loose``, and ``Overall_3D_AP11_easy`` (mean over
    classes at the strict overlaps) when several classes are evaluated. AOS is added when
    both detections and labels carry alpha (not -10).

    ``Overall_*`` is mmdetection3d's mean over every evaluated class, a class without any
    labelled box at that difficulty counted as AP 0 (so one class scoring 100 next to two
    classes absent from the frames gives 33.3). ``Overall_labelled_*`` (drivestack's, beside
    it) averages only the classes with labelled boxes at that difficulty
    (:func:`valid_gt_counts`), and is None when no class has one.

    With ``curves_out``, the precision-recall curves the APs come from are added to it, as
    :func:`pr_curves_json` lays them out (the metrics themselves are unchanged).

    Classes whose detections are all 2D-only get no BEV/3D metrics or curves (the devkit's
    rule, see :func:`classes_without_3d_boxes`, which also names the inputs it refuses).
    A NaN or infinite box value (or detection score) is a ``ValueError`` naming the argument,
    frame, row and column; so is an ``eval_types`` entry other than ``bbox`` / ``bev`` /
    ``3d`` / ``aos``, and ``aos`` without ``bbox``.
    """
    classes = [_class_index(c) for c in current_classes]
    unknown = [t for t in eval_types if t not in (*METRICS, "aos")]
    if unknown:
        raise ValueError(
            f"kitti_eval: unknown eval_types {unknown}; known: {[*METRICS, 'aos']} (lower case)"
        )
    if "aos" in eval_types and "bbox" not in eval_types:
        raise ValueError("kitti_eval: eval_types 'aos' needs 'bbox' (AOS is found in its pass)")
    for name, frames in (("gt_frames", gt_frames), ("dt_frames", dt_frames)):
        wrong = next((f for f in frames if not isinstance(f, KittiObjects)), None)
        if wrong is not None:
            raise TypeError(
                f"kitti_eval: {name} must hold KittiObjects (one per frame), got "
                f"{type(wrong).__name__}; convert boxes with "
                "drivestack.ingest.kitti_format.boxes_to_objects"
            )
    _check_finite(gt_frames, "gt_frames", with_score=False)
    _check_finite(dt_frames, "dt_frames", with_score=True)
    overlaps = np.asarray(min_overlaps)[:, :, classes]
    types = list(eval_types)
    pred_alpha = any(np.any(d.alpha_rad != -10) for d in dt_frames)
    gt_alpha = any(len(g) and g.alpha_rad[0] != -10 for g in gt_frames)
    if pred_alpha and gt_alpha and "bbox" in types and "aos" not in types:
        types.append("aos")
    box3d_kinds = {"bev", "3d"} & set(types)
    no_3d = classes_without_3d_boxes(dt_frames, classes) if box3d_kinds else set()
    if no_3d.issuperset(classes):
        types = [t for t in types if t not in box3d_kinds]
    precision: dict[str, np.ndarray] = {}
    res = do_eval(gt_frames, dt_frames, classes, overlaps, types, precision_out=precision)
    if curves_out is not None:
        curves = pr_curves_json(precision, classes)
        for c in no_3d:
            for kind in box3d_kinds:
                curves["curves"][CLASS_NAMES[c]].pop(_LABELS[kind], None)
        curves_out.update(curves)
    out: dict[str, float | None] = {}
    counts = valid_gt_counts(gt_frames, classes) if len(classes) > 1 else {}
    for ap in ("AP11", "AP40"):
        for kind in types:
            arr = res.get(f"m{ap}_{kind}")
            if arr is None:
                continue
            rows = [j for j, c in enumerate(classes) if kind not in box3d_kinds or c not in no_3d]
            for j in rows:
                cls = classes[j]
                for s, strictness in enumerate(("strict", "loose")[: arr.shape[2]]):
                    for d, diff in enumerate(DIFFICULTIES):
                        out[f"{CLASS_NAMES[cls]}_{_LABELS[kind]}_{ap}_{diff}_{strictness}"] = float(
                            arr[j, d, s]
                        )
            if len(classes) > 1:
                mean = arr[rows].mean(axis=0)
                for d, diff in enumerate(DIFFICULTIES):
                    out[f"Overall_{_LABELS[kind]}_{ap}_{diff}"] = float(mean[d, 0])
                    # over the classes with labels at this difficulty only (None: no class has)
                    labelled = [j for j in rows if counts[CLASS_NAMES[classes[j]]][diff] > 0]
                    out[f"Overall_labelled_{_LABELS[kind]}_{ap}_{diff}"] = (
                        float(arr[labelled, d, 0].mean()) if labelled else None
                    )
    return out


def pr_curves_json(precision: Mapping[str, np.ndarray], classes: Sequence[int]) -> dict[str, Any]:
    """JSON-ready precision curves from ``do_eval``'s ``precision_out``.

    ``{"recall_positions": [0, 1/40, .., 1] (41), "overlap_sets": ["strict", "loose"],
    "curves": {class: {kind: {strictness: {difficulty: [41 precisions]}}}}}`` with kinds named
    as in the flat metrics (``2D``, ``BEV``, ``3D``). Slot i holds the precision at recall
    i / 40 (0 past the recall the detections reach): AP40 = mean of slots 1..40 x 100,
    AP11 = mean of slots 0, 4, .., 40 x 100.
    """
    curves: dict[str, dict[str, dict[str, dict[str, list[float]]]]] = {}
    n_sets = 0
    for kind, arr in precision.items():
        n_sets = max(n_sets, arr.shape[2])
        for j, cls in enumerate(classes):
            per_kind = curves.setdefault(CLASS_NAMES[cls], {}).setdefault(_LABELS[kind], {})
            for s, strictness in enumerate(("strict", "loose")[: arr.shape[2]]):
                per_kind[strictness] = {
                    diff: [float(v) for v in arr[j, d, s]] for d, diff in enumerate(DIFFICULTIES)
                }
    return {
        "recall_positions": [i / (NUM_SAMPLE_PTS - 1) for i in range(NUM_SAMPLE_PTS)],
        "overlap_sets": list(("strict", "loose")[:n_sets]),
        "curves": curves,
    }
