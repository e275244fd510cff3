"""nuScenes detection protocol (nuscenes-devkit ``eval/detection``), on plain arrays.

1. **Filter**: boxes farther from the ego than their class range are dropped (the devkit's
   ``ego_dist``: the x-y norm of box centre minus ego translation, both in the global frame,
   :func:`ego_distance_xy_m`); GT boxes with no LiDAR/radar points (``num_pts == 0``; -1 is
   unknown and kept) are dropped. **Known deviation**: the devkit also drops boxes of
   ``bicycle`` / ``motorcycle`` inside a ``static_object.bicycle_rack`` annotation; that
   needs the nuScenes database's bike-rack boxes, which an mmdet3d info file does not carry,
   so no bike-rack filtering is done here.
2. **Match** (``accumulate``), per class and centre-distance threshold: predictions in
   descending score order each take the nearest unmatched GT of the sample (BEV centre
   distance); a match closer than the threshold is a TP. Equal scores rank as the devkit
   ranks them: the later box first in the order of the prediction mapping's samples (a
   submission's JSON key order), then their rows. Box sizes must be > 0 (the devkit's
   ``scale_iou`` asserts it). Precision and confidence are
   interpolated at 101 recall points; the TP errors (translation, velocity, 1 - scale IoU,
   yaw, 1 - attribute accuracy) become cumulative means interpolated on the same points.
3. **AP** = mean of (precision - min_precision)+ over recalls above min_recall, / (1 -
   min_precision); **TP error** = mean of the error curve from min_recall to the largest
   recall reached (1 when none). mAP averages classes x thresholds; TP errors use
   ``dist_th_tp``; **NDS** = (w * mAP + sum_k (1 - min(1, mTP_k))) / (w + 5).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from drivestack.core.errors import ConfigError, DataError, brief_repr
from drivestack.core.transforms import SE3
from drivestack.ingest.nuscenes import DETECTION_NAMES
from drivestack.structures.boxes import Boxes3D

if TYPE_CHECKING:
    from drivestack.ingest.nuscenes import SubmissionBoxes

TP_METRICS: tuple[str, ...] = ("trans_err", "scale_err", "orient_err", "vel_err", "attr_err")
NUM_RECALL_POINTS = 101


@dataclass(frozen=True)
class DetectionConfig:
    """A nuScenes detection config (e.g. ``detection_cvpr_2019.json``)."""

    class_range: Mapping[str, float]
    dist_fcn: str
    dist_ths: tuple[float, ...]
    dist_th_tp: float
    min_recall: float
    min_precision: float
    max_boxes_per_sample: int
    mean_ap_weight: float

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.class_range)


#: The official ``detection_cvpr_2019`` configuration (nuscenes-devkit), as values.
DETECTION_CVPR_2019 = DetectionConfig(
    class_range={
        "car": 50.0, "truck": 50.0, "bus": 50.0, "trailer": 50.0, "construction_vehicle": 50.0,
        "pedestrian": 40.0, "motorcycle": 40.0, "bicycle": 40.0, "traffic_cone": 30.0, "barrier": 30.0,
    },
    dist_fcn="center_distance",
    dist_ths=(0.5, 1.0, 2.0, 4.0),
    dist_th_tp=2.0,
    min_recall=0.1,
    min_precision=0.1,
    max_boxes_per_sample=500,
    mean_ap_weight=5.0,
)  # fmt: skip


def load_detection_config(path: str | Path) -> DetectionConfig:
    """Read a nuScenes detection config JSON, refused where the devkit asserts.

    Raises:
        ConfigError: naming the file and key for an unknown or missing key, a wrong type,
            a ``dist_fcn`` other than ``center_distance``, and what the devkit's
            ``DetectionConfig`` / ``calc_ap`` assert: ``class_range`` naming other classes
            than the 10 nuScenes detection classes, ``dist_th_tp`` not one of ``dist_ths``,
            ``min_precision`` outside ``[0, 1)``, ``min_recall`` outside ``[0, 1]``. A little
            stricter than the devkit: a class range that is not > 0 (every box of the class
            would be dropped), an empty ``dist_ths`` or one not > 0, a ``mean_ap_weight``
            below 0 and a number that is NaN or infinite (JSON's ``NaN`` / ``Infinity``).
    """
    p = str(path)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: bad JSON or bytes that are not UTF-8
        raise ConfigError(f"cannot read config: {exc}", path=p) from None
    if not isinstance(doc, dict):
        raise ConfigError(f"must be a JSON object, got {type(doc).__name__}", path=p)
    names = {f.name for f in fields(DetectionConfig)}
    for key in doc:
        if key not in names:
            raise ConfigError(f"unknown key; known: {sorted(names)}", path=p, field=key)
    for key in names:
        if key not in doc:
            raise ConfigError("missing key", path=p, field=key)

    def number(value: object, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"expected a number, got {brief_repr(value)}", path=p, field=key)
        try:
            number = float(value)
        except OverflowError:  # an integer beyond float64
            raise ConfigError("number out of range", path=p, field=key) from None
        if not np.isfinite(number):  # (Python's JSON reads NaN and Infinity)
            raise ConfigError(f"expected a finite number, got {number}", path=p, field=key)
        return number

    ranges, dists = doc["class_range"], doc["dist_ths"]
    if not isinstance(ranges, dict):
        raise ConfigError("expected an object of class: range", path=p, field="class_range")
    if not isinstance(dists, list):
        raise ConfigError("expected a list of numbers", path=p, field="dist_ths")
    if not isinstance(doc["dist_fcn"], str):
        raise ConfigError(
            f"expected text, got {brief_repr(doc['dist_fcn'])}", path=p, field="dist_fcn"
        )
    boxes = doc["max_boxes_per_sample"]
    if isinstance(boxes, bool) or not isinstance(boxes, int):
        raise ConfigError(
            f"expected a whole number, got {brief_repr(boxes)}",
            path=p,
            field="max_boxes_per_sample",
        )
    cfg = DetectionConfig(
        class_range={str(k): number(v, f"class_range.{k}") for k, v in ranges.items()},
        dist_fcn=doc["dist_fcn"],
        dist_ths=tuple(number(v, f"dist_ths.{i}") for i, v in enumerate(dists)),
        dist_th_tp=number(doc["dist_th_tp"], "dist_th_tp"),
        min_recall=number(doc["min_recall"], "min_recall"),
        min_precision=number(doc["min_precision"], "min_precision"),
        max_boxes_per_sample=boxes,
        mean_ap_weight=number(doc["mean_ap_weight"], "mean_ap_weight"),
    )
    if cfg.dist_fcn != "center_distance":
        raise ConfigError(
            f"only center_distance is implemented, got {cfg.dist_fcn!r}", path=p, field="dist_fcn"
        )
    _check_config(cfg, p)
    return cfg


def _check_config(cfg: DetectionConfig, path: str) -> None:
    """What nuscenes-devkit asserts of a config (:func:`load_detection_config`)."""
    names = set(cfg.class_range)
    if names != set(DETECTION_NAMES):
        extra = sorted(names - set(DETECTION_NAMES))
        missing = sorted(set(DETECTION_NAMES) - names)
        raise ConfigError(
            "must name exactly the 10 nuScenes detection classes (the devkit asserts it): "
            f"unknown {extra}, missing {missing}",
            path=path,
            field="class_range",
        )
    for name, limit in cfg.class_range.items():
        if not np.isfinite(limit) or limit <= 0:
            raise ConfigError(
                f"must be a finite range > 0 m, got {limit}", path=path, field=f"class_range.{name}"
            )
    if not cfg.dist_ths:
        raise ConfigError("must hold at least one threshold", path=path, field="dist_ths")
    for i, threshold in enumerate(cfg.dist_ths):
        if not threshold > 0.0:
            raise ConfigError(
                f"must be a distance > 0 m, got {threshold}", path=path, field=f"dist_ths.{i}"
            )
    if not cfg.mean_ap_weight >= 0.0:
        raise ConfigError(
            f"must be >= 0, got {cfg.mean_ap_weight}", path=path, field="mean_ap_weight"
        )
    if cfg.dist_th_tp not in cfg.dist_ths:
        raise ConfigError(
            f"{cfg.dist_th_tp} must be one of dist_ths {list(cfg.dist_ths)} (the devkit asserts it)",
            path=path,
            field="dist_th_tp",
        )
    if not 0.0 <= cfg.min_precision < 1.0:
        raise ConfigError(
            f"must be in [0, 1), got {cfg.min_precision} (the devkit asserts it)",
            path=path,
            field="min_precision",
        )
    if not 0.0 <= cfg.min_recall <= 1.0:
        raise ConfigError(
            f"must be in [0, 1], got {cfg.min_recall} (the devkit asserts it)",
            path=path,
            field="min_recall",
        )


@dataclass(frozen=True)
class EvalBoxes:
    """Boxes of one sample for the nuScenes protocol (GT or predictions), N may be 0.

    Attributes:
        center_m: ``(N, 3)`` centres (any frame shared by GT and predictions of the sample).
        size_m: ``(N, 3)`` sizes (any axis order, the same for GT and predictions).
        yaw_rad: ``(N,)``; velocity_mps: ``(N, 2)`` (NaN when unknown).
        detection_name: ``(N,)`` str; attribute_name: ``(N,)`` str ("" = none; empty: all
            none).
        score: ``(N,)`` (ignored for GT).
        num_pts: ``(N,)`` LiDAR + radar points in a GT box, -1 when unknown (never filtered).
        ego_distance_m: ``(N,)`` BEV distance of the centre from the ego vehicle (empty: the
            x-y norm of ``center_m``, an ego at the origin of the boxes' frame).

    An array of the wrong shape is a ``ValueError`` naming it; ``score``, ``num_pts``,
    ``velocity_mps``, ``attribute_name`` and ``ego_distance_m`` may be empty for their default.
    """

    center_m: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    size_m: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    yaw_rad: np.ndarray = field(default_factory=lambda: np.zeros((0,)))
    velocity_mps: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    detection_name: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    attribute_name: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    score: np.ndarray = field(default_factory=lambda: np.zeros((0,)))
    num_pts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ego_distance_m: np.ndarray = field(default_factory=lambda: np.zeros((0,)))

    def __post_init__(self) -> None:
        n = len(np.asarray(self.detection_name).reshape(-1))
        shapes = {
            "center_m": (n, 3),
            "size_m": (n, 3),
            "yaw_rad": (n,),
            "velocity_mps": (n, 2),
            "score": (n,),
            "num_pts": (n,),
            "ego_distance_m": (n,),
        }
        defaults = {"score": 0.0, "num_pts": -1, "velocity_mps": np.nan}
        for name, shape in shapes.items():
            arr = np.asarray(
                getattr(self, name), dtype=np.int64 if name == "num_pts" else np.float64
            )
            if arr.size == 0 and n and name in defaults:
                arr = np.full(shape, defaults[name], dtype=arr.dtype)
            if arr.size == 0 and n and name == "ego_distance_m":
                arr = np.linalg.norm(
                    np.asarray(self.center_m, dtype=np.float64).reshape(-1, 3)[:, :2], axis=1
                )
            arr = arr.reshape(shape) if arr.size == int(np.prod(shape)) else arr
            if arr.shape != shape:
                raise ValueError(f"EvalBoxes.{name} must have shape {shape}, got {arr.shape}")
            object.__setattr__(self, name, arr)
        object.__setattr__(
            self, "detection_name", np.asarray(self.detection_name, dtype=str).reshape(-1)
        )
        attr = np.asarray(self.attribute_name, dtype=str)
        if attr.size == 0 and n:
            attr = np.full(n, "", dtype=str)
        attr = attr.reshape(-1) if attr.size == n else attr
        if attr.shape != (n,):
            raise ValueError(f"EvalBoxes.attribute_name must have shape {(n,)}, got {attr.shape}")
        object.__setattr__(self, "attribute_name", attr)

    def __len__(self) -> int:
        return int(self.detection_name.shape[0])

    def select(self, mask: Any) -> EvalBoxes:
        return EvalBoxes(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    @classmethod
    def from_submission(cls, sub: SubmissionBoxes, *, ego_from_world: SE3) -> EvalBoxes:
        """One sample of a submission as submitted: detection and attribute names, velocities
        (NaN = unknown: no velocity error is counted, as in the devkit), sizes reordered from
        nuScenes' ``w l h`` to ``l w h``. ``ego_from_world``: the sample's ego pose (the
        LIDAR_TOP ``ego2global``, inverted), which places the ego for the range filter as the
        devkit does (:func:`ego_distance_xy_m`: only its translation counts)."""
        return cls(
            center_m=sub.center_m,
            size_m=sub.size_wlh_m[:, [1, 0, 2]],
            yaw_rad=sub.yaw_rad,
            velocity_mps=sub.velocity_mps,
            detection_name=sub.detection_name,
            attribute_name=sub.attribute_name,
            score=sub.score,
            ego_distance_m=ego_distance_xy_m(sub.center_m, ego_from_world.inverse()),
        )

    @classmethod
    def from_boxes(
        cls,
        boxes: Boxes3D,
        class_names: Mapping[int, str],
        *,
        ego_from_boxes: SE3 | None = None,
        num_pts: np.ndarray | None = None,
        attribute_name: np.ndarray | None = None,
    ) -> EvalBoxes:
        """From :class:`Boxes3D`; ``class_names`` maps label ids to detection names (boxes of
        other labels are dropped). ``ego_from_boxes`` places the ego for the range filter."""
        keep = np.array([int(c) in class_names for c in boxes.label], dtype=bool)
        ego = ego_from_boxes if ego_from_boxes is not None else SE3.identity()
        ego_xyz = ego.apply(boxes.center_m) if len(boxes) else np.zeros((0, 3))
        return cls(
            center_m=boxes.center_m[keep],
            size_m=boxes.size_m[keep],
            yaw_rad=boxes.yaw_rad[keep],
            velocity_mps=boxes.velocity_mps[keep],
            detection_name=np.array([class_names[int(c)] for c in boxes.label[keep]], dtype=str),
            attribute_name=np.asarray(attribute_name)[keep]
            if attribute_name is not None
            else np.zeros(0, dtype=str),
            score=boxes.score[keep],
            num_pts=np.asarray(num_pts)[keep]
            if num_pts is not None
            else np.zeros(0, dtype=np.int64),
            ego_distance_m=np.linalg.norm(ego_xyz[keep, :2], axis=1),
        )


def ego_distance_xy_m(center_world_m: np.ndarray, world_from_ego: SE3) -> np.ndarray:
    """``(N,)`` the devkit's ``ego_dist`` of ``(N, 3)`` global-frame box centres: the x-y norm
    of centre minus the ego's translation, both in the global frame (not in the ego frame,
    which a tilted ego pose would shorten)."""
    centers = np.asarray(center_world_m, dtype=np.float64).reshape(-1, 3)
    ego_xy = np.asarray(world_from_ego.translation, dtype=np.float64).reshape(3)[:2]
    return np.linalg.norm(centers[:, :2] - ego_xy, axis=1)


def filter_boxes(boxes: EvalBoxes, class_range: Mapping[str, float], *, is_gt: bool) -> EvalBoxes:
    """Drop boxes of unknown classes, beyond their class range, and empty GT boxes."""
    limit = np.array([class_range.get(n, -np.inf) for n in boxes.detection_name], dtype=np.float64)
    keep = boxes.ego_distance_m < limit
    if is_gt:
        keep &= boxes.num_pts != 0
    return boxes.select(keep)


@dataclass(frozen=True)
class MetricData:
    """101-point curves of one class at one distance threshold."""

    recall: np.ndarray
    precision: np.ndarray
    confidence: np.ndarray
    errors: Mapping[str, np.ndarray]

    @classmethod
    def no_predictions(cls) -> MetricData:
        return cls(np.linspace(0, 1, NUM_RECALL_POINTS), np.zeros(NUM_RECALL_POINTS), np.zeros(NUM_RECALL_POINTS),
                   {m: np.ones(NUM_RECALL_POINTS) for m in TP_METRICS})  # fmt: skip

    @property
    def max_recall_ind(self) -> int:
        nonzero = np.flatnonzero(self.confidence)
        return int(nonzero[-1]) if nonzero.size else 0


def _cummean(x: np.ndarray) -> np.ndarray:
    """Cumulative mean ignoring NaN (0 until the first finite value); all NaN (no error
    defined at any match, e.g. ground truth without attributes or predictions without
    velocities) gives ones, the worst error, as the devkit's ``cummean`` does."""
    if x.size == 0:
        return np.ones(0)
    if np.all(np.isnan(x)):
        return np.ones(x.size)
    sums = np.nancumsum(x.astype(np.float64))
    counts = np.cumsum(~np.isnan(x))
    return np.divide(sums, counts, out=np.zeros_like(sums), where=counts != 0)


def _angle_diff(x: float, y: float, period: float) -> float:
    diff = (x - y + period / 2) % period - period / 2
    return diff - 2 * np.pi if diff > np.pi else diff


#: The ground truth of a sample without any of a class (frozen: shared by every lookup).
_NO_BOXES = EvalBoxes()


def class_ground_truth(gt: Mapping[str, EvalBoxes], class_name: str) -> dict[str, EvalBoxes]:
    """Each sample's ground truth of ``class_name`` (what :func:`accumulate` matches against;
    select it once for the distance thresholds of a class)."""
    return {k: v.select(v.detection_name == class_name) for k, v in gt.items()}


def accumulate(
    gt: Mapping[str, EvalBoxes],
    pred: Mapping[str, EvalBoxes],
    class_name: str,
    dist_th: float,
    *,
    gt_of_class: Mapping[str, EvalBoxes] | None = None,
) -> MetricData:
    """Greedy centre-distance matching of one class over all samples (see module doc).

    Ties in score rank as the devkit ranks them: the later box first, boxes numbered in the
    order of ``pred``'s samples and then their rows (score the samples of a submission in its
    JSON key order to agree with the devkit). ``ValueError`` naming the sample and row when a
    matched pair has a size that is not > 0 (the devkit's ``scale_iou`` asserts it).
    ``gt_of_class``: :func:`class_ground_truth` of ``gt`` when the caller has it already."""
    gt_cls = class_ground_truth(gt, class_name) if gt_of_class is None else gt_of_class
    npos = sum(len(v) for v in gt_cls.values())
    if npos == 0:
        return MetricData.no_predictions()
    tokens, idx, scores = [], [], []
    for token, boxes in pred.items():
        for row in np.flatnonzero(boxes.detection_name == class_name).tolist():
            tokens.append(token)
            idx.append(row)
            scores.append(float(boxes.score[row]))
    # descending score; ties: the later box first (the devkit sorts (score, index) pairs)
    order = sorted(range(len(scores)), key=lambda i: (scores[i], i))[::-1]
    taken: set[tuple[str, int]] = set()
    tp, conf = [], []
    errs: dict[str, list[float]] = {m: [] for m in TP_METRICS}
    matched_conf: list[float] = []
    for i in order:
        token, j = tokens[i], idx[i]
        p = pred[token]
        g = gt_cls.get(token, _NO_BOXES)  # (one shared empty set, not one per prediction)
        min_dist, match = np.inf, -1
        if len(g):
            dists = np.linalg.norm(g.center_m[:, :2] - p.center_m[j, :2], axis=1)
            for k in range(len(g)):
                if (token, k) not in taken and dists[k] < min_dist:
                    min_dist, match = float(dists[k]), k
        conf.append(scores[i])
        if min_dist < dist_th:
            taken.add((token, match))
            tp.append(1.0)
            for what, size, row in (
                ("ground truth", g.size_m[match], match),
                ("prediction", p.size_m[j], j),
            ):
                if not np.all(size > 0):
                    raise ValueError(
                        f"sample {token}: {what} {class_name} box {row} has size {size.tolist()}: "
                        "sizes must be > 0 (the devkit's scale_iou asserts it)"
                    )
            min_wlh = np.minimum(g.size_m[match], p.size_m[j])
            inter = float(np.prod(min_wlh))
            union = float(np.prod(g.size_m[match]) + np.prod(p.size_m[j])) - inter
            period = np.pi if class_name == "barrier" else 2 * np.pi
            errs["trans_err"].append(min_dist)
            errs["vel_err"].append(float(np.linalg.norm(g.velocity_mps[match] - p.velocity_mps[j])))
            errs["scale_err"].append(1.0 - inter / union)
            errs["orient_err"].append(
                abs(_angle_diff(float(g.yaw_rad[match]), float(p.yaw_rad[j]), period))
            )
            attr = g.attribute_name[match]
            errs["attr_err"].append(
                np.nan if attr == "" else 1.0 - float(attr == p.attribute_name[j])
            )
            matched_conf.append(scores[i])
        else:
            tp.append(0.0)
    if not matched_conf:
        return MetricData.no_predictions()
    tp_c = np.cumsum(tp)
    fp_c = np.cumsum(1.0 - np.asarray(tp))
    prec = tp_c / (fp_c + tp_c)
    rec = tp_c / float(npos)
    rec_interp = np.linspace(0, 1, NUM_RECALL_POINTS)
    prec_i = np.interp(rec_interp, rec, prec, right=0)
    conf_i = np.interp(rec_interp, rec, np.asarray(conf), right=0)
    mc = np.asarray(matched_conf)
    curves = {
        m: np.interp(conf_i[::-1], mc[::-1], _cummean(np.asarray(errs[m]))[::-1])[::-1]
        for m in TP_METRICS
    }
    return MetricData(rec_interp, prec_i, conf_i, curves)


def calc_ap(md: MetricData, min_recall: float, min_precision: float) -> float:
    prec = np.copy(md.precision)[round(100 * min_recall) + 1 :]
    prec -= min_precision
    prec[prec < 0] = 0
    return float(np.mean(prec)) / (1.0 - min_precision)


def calc_tp(md: MetricData, min_recall: float, metric_name: str) -> float:
    first = round(100 * min_recall) + 1
    last = md.max_recall_ind
    if last < first:
        return 1.0
    return float(np.mean(md.errors[metric_name][first : last + 1]))


#: The unit of each TP error (the devkit's key names carry none): metrics.json's
#: ``tp_error_units``.
TP_ERROR_UNITS = {
    "trans_err": "m",
    "scale_err": "1-IoU",
    "orient_err": "rad",
    "vel_err": "m/s",
    "attr_err": "1-acc",
}


@dataclass(frozen=True)
class NuScenesMetrics:
    """Per-class AP at each threshold, per-class TP errors, mAP, mean TP errors and NDS."""

    label_aps: dict[str, dict[float, float]]
    label_tp_errors: dict[str, dict[str, float]]
    mean_ap: float
    tp_errors: dict[str, float]
    nd_score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean_ap": self.mean_ap,
            "nd_score": self.nd_score,
            "tp_errors": self.tp_errors,
            "tp_error_units": {k: TP_ERROR_UNITS[k] for k in self.tp_errors if k in TP_ERROR_UNITS},
            "label_aps": {c: {str(t): v for t, v in d.items()} for c, d in self.label_aps.items()},
            "mean_dist_aps": {
                c: float(np.mean(list(d.values()))) for c, d in self.label_aps.items()
            },
            "label_tp_errors": self.label_tp_errors,
        }


def evaluate(
    gt: Mapping[str, EvalBoxes], pred: Mapping[str, EvalBoxes], cfg: DetectionConfig
) -> NuScenesMetrics:
    """Score predictions against GT over the samples of ``gt`` (predictions for samples not
    in ``gt`` are a ``DataError``, as are samples with more than ``max_boxes_per_sample``)."""
    for token, boxes in pred.items():
        if token not in gt:
            raise DataError(
                "prediction for a sample that has no ground truth", record=f"sample {token}"
            )
        if len(boxes) > cfg.max_boxes_per_sample:
            raise DataError(
                f"{len(boxes)} boxes, more than max_boxes_per_sample={cfg.max_boxes_per_sample}",
                record=f"sample {token}",
            )
    gt_f = {k: filter_boxes(v, cfg.class_range, is_gt=True) for k, v in gt.items()}
    pred_f = {k: filter_boxes(v, cfg.class_range, is_gt=False) for k, v in pred.items()}
    label_aps: dict[str, dict[float, float]] = {}
    label_tp: dict[str, dict[str, float]] = {}
    for cls in cfg.class_names:
        label_aps[cls] = {}
        of_class = class_ground_truth(gt_f, cls)
        for th in cfg.dist_ths:
            md = accumulate(gt_f, pred_f, cls, th, gt_of_class=of_class)
            label_aps[cls][th] = calc_ap(md, cfg.min_recall, cfg.min_precision)
        md = accumulate(gt_f, pred_f, cls, cfg.dist_th_tp, gt_of_class=of_class)
        label_tp[cls] = {}
        for metric in TP_METRICS:
            if (cls == "traffic_cone" and metric in ("attr_err", "vel_err", "orient_err")) or (
                cls == "barrier" and metric in ("attr_err", "vel_err")
            ):
                label_tp[cls][metric] = float("nan")
            else:
                label_tp[cls][metric] = calc_tp(md, cfg.min_recall, metric)
    mean_ap = float(np.mean([np.mean(list(d.values())) for d in label_aps.values()]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a metric NaN for every class stays NaN
        tp_errors = {
            m: float(np.nanmean([label_tp[c][m] for c in cfg.class_names])) for m in TP_METRICS
        }
    return NuScenesMetrics(
        label_aps, label_tp, mean_ap, tp_errors, nd_score(mean_ap, tp_errors, cfg)
    )


def nd_score(mean_ap: float, tp_errors: Mapping[str, float], cfg: DetectionConfig) -> float:
    """nuScenes detection score: ``(w * mAP + sum(max(0, 1 - mTP))) / (w + number of TP metrics)``."""
    tp_scores = [max(0.0, 1.0 - e) for e in tp_errors.values()]
    return float(
        (cfg.mean_ap_weight * mean_ap + float(np.sum(tp_scores)))
        / (cfg.mean_ap_weight + len(tp_scores))
    )
