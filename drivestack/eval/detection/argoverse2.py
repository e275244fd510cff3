"""Argoverse 2 3D detection protocol (av2-api ``evaluation/detection``), on :class:`Av2Cuboids`.

1. **Group** detections and labels by ``(log_id, timestamp_ns, category)``.
2. **Filter** (per group): labels count when their centre is closer than ``max_range_m`` and
   they hold LiDAR points (``num_interior_pts > 0``); detections, sorted by score, count when
   within range, up to ``max_num_dts_per_category`` in range.
3. **Assign**: each detection takes its nearest label (3D centre distance); only the first
   (highest-score) detection to take a label can be a TP; it is a TP at threshold t when the
   distance < t. At ``tp_threshold_m`` the TPs get ATE (3D centre distance), ASE
   (``1 - prod(min dims) / prod(max dims)``) and AOE (|yaw difference| wrapped into [0, pi]).
4. **Summarise** per category: AP = mean over thresholds of the 101-point VOC-interpolated
   precision; TP errors averaged over the TPs at the middle affinity threshold (defaults
   2 m / 1 / pi when none); CDS = AP x mean(1 - ATE / tp_threshold, 1 - ASE, 1 - AOE / pi).
   ``AVERAGE_METRICS`` is the mean of the rows of ``cfg.categories`` (a category without a
   scorable label has the default row: AP 0, ATE ``tp_threshold_m``, ASE 1, AOE pi, CDS 0).
   Rounded to 3 decimals.

Ties in score are ordered as av2 0.3.6 orders them, so both score a table alike:

- **across sweeps** (the ranking behind AP): av2 sorts the table by ``(log_id,
  timestamp_ns, category)`` (stable: file row order within a group), then stably by
  descending score, so tied detections rank by log, sweep, then file row
  (:func:`protocol_order`). The order of the sweeps or categories in the file does not
  change the result.
- **within a sweep** (which detection claims a label first, which fall past
  ``max_num_dts_per_category``): av2 takes ``np.argsort(-scores)`` with NumPy's default
  (unstable) sort of the group's rows in file order, and so does :func:`evaluate`. That
  order is not a documented rule: it depends on NumPy's sort implementation (version, SIMD
  path of the CPU) and on the file row order within the sweep. With the same NumPy on the same
  machine drivestack and av2 give the same result; no rule that leaves NumPy's sort out
  reproduces av2's (NumPy 2.4's AVX-512 sort moves tied rows out of file order from 4 rows
  on), so none is used. A table without tied scores within a sweep and category scores the
  same on every machine and in any row order.

With ``eval_only_roi_instances`` (default), only cuboids with a vertex in the map's region of
interest count (:mod:`.av2_roi`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from drivestack.ingest.argoverse2 import Av2Cuboids

NUM_DECIMALS = 3
METRIC_NAMES = ("AP", "ATE", "ASE", "AOE", "CDS")
#: The unit of each metric (av2's summary names carry none): metrics.json's ``metric_units``.
METRIC_UNITS = {"AP": "0-1", "ATE": "m", "ASE": "1-IoU", "AOE": "rad", "CDS": "0-1"}

#: av2's ``SensorCompetitionCategories`` (``av2.evaluation``): the categories its default
#: ``DetectionCfg`` scores and averages into ``AVERAGE_METRICS``, in its order.
SENSOR_COMPETITION_CATEGORIES: tuple[str, ...] = (
    "ARTICULATED_BUS", "BICYCLE", "BICYCLIST", "BOLLARD", "BOX_TRUCK", "BUS",
    "CONSTRUCTION_BARREL", "CONSTRUCTION_CONE", "DOG", "LARGE_VEHICLE", "MESSAGE_BOARD_TRAILER",
    "MOBILE_PEDESTRIAN_CROSSING_SIGN", "MOTORCYCLE", "MOTORCYCLIST", "PEDESTRIAN",
    "REGULAR_VEHICLE", "SCHOOL_BUS", "SIGN", "STOP_SIGN", "STROLLER", "TRUCK", "TRUCK_CAB",
    "VEHICULAR_TRAILER", "WHEELCHAIR", "WHEELED_DEVICE", "WHEELED_RIDER",
)  # fmt: skip


@dataclass(frozen=True)
class Av2DetectionConfig:
    """av2 ``DetectionCfg`` with upstream's defaults (categories: the 26
    :data:`SENSOR_COMPETITION_CATEGORIES`); only centre-distance affinity and Euclidean range
    filtering (upstream's only implemented choices). The map region-of-interest filter
    (``eval_only_roi_instances``) is the ``in_roi`` argument of :func:`evaluate`.

    ``tp_threshold_m``: the threshold at which a TP gets its ATE / ASE / AOE. As upstream,
    the summary averages those errors over the TPs at the *middle* affinity threshold
    (``affinity_thresholds_m[len // 2]``, 2.0 m by default) whatever ``tp_threshold_m`` is:
    with another value, TPs at the middle threshold that are no TP at ``tp_threshold_m`` (or
    all of them, when it is not one of the thresholds) count with the default errors
    (``tp_threshold_m``, 1, pi), and ATE is normalised by ``tp_threshold_m``. Keep the two
    equal (the default) for errors of the TPs they describe.
    """

    categories: tuple[str, ...] = SENSOR_COMPETITION_CATEGORIES
    affinity_thresholds_m: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    max_num_dts_per_category: int = 100
    max_range_m: float = 150.0
    eval_only_roi_instances: bool = True
    num_recall_samples: int = 101
    tp_threshold_m: float = 2.0

    @property
    def tp_normalization_terms(self) -> np.ndarray:
        return np.array([self.tp_threshold_m, 1.0, np.pi])

    @property
    def metrics_defaults(self) -> tuple[float, ...]:
        return (0.0, self.tp_threshold_m, 1.0, np.pi, 0.0)


def wrap_angles(angles: np.ndarray, period: float = np.pi) -> np.ndarray:
    """|angle| folded into [0, period] as av2 does: ``a >= period -> period - (a mod period)``."""
    a = np.abs(np.asarray(angles, dtype=np.float64))
    return np.where(a >= period, period - np.mod(a, period), a)


def euler_yaw(quaternion_wxyz: np.ndarray) -> np.ndarray:
    """``(N,)`` z angle of the extrinsic x-y-z Euler decomposition, as av2 takes yaw
    (``mat_to_xyz``): equal to ``atan2(R10, R00)`` except at gimbal lock (pitch = +-90 deg),
    where scipy sets it to 0."""
    import warnings

    from scipy.spatial.transform import Rotation

    q = np.asarray(quaternion_wxyz, dtype=np.float64).reshape(-1, 4)
    if len(q) == 0:
        return np.zeros(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # gimbal lock notice
        return Rotation.from_quat(q[:, [1, 2, 3, 0]]).as_euler("xyz")[:, 2]


def scale_errors(dims_dt: np.ndarray, dims_gt: np.ndarray) -> np.ndarray:
    """``(N,)`` ``1 - prod(min(dims)) / prod(max(dims))`` for ``(N, 3)`` (l, w, h)."""
    return 1.0 - np.prod(np.minimum(dims_dt, dims_gt), axis=-1) / np.prod(
        np.maximum(dims_dt, dims_gt), axis=-1
    )


def evaluated_dts_mask(xyz_m: np.ndarray, cfg: Av2DetectionConfig) -> np.ndarray:
    """Score-sorted detections kept: within range, the first ``max_num_dts_per_category``."""
    if len(xyz_m) == 0:
        return np.zeros(0, dtype=bool)
    within = np.linalg.norm(xyz_m, axis=1) < cfg.max_range_m
    over = np.flatnonzero(np.cumsum(within) > cfg.max_num_dts_per_category)
    keep = np.zeros(len(xyz_m), dtype=bool)
    stop = int(over[0]) if over.size else len(xyz_m)
    keep[:stop] = within[:stop]
    return keep


def evaluated_gts_mask(
    xyz_m: np.ndarray, num_interior_pts: np.ndarray, cfg: Av2DetectionConfig
) -> np.ndarray:
    return (np.linalg.norm(xyz_m, axis=1) < cfg.max_range_m) & (num_interior_pts > 0)


def assign(dts: np.ndarray, gts: np.ndarray, cfg: Av2DetectionConfig) -> np.ndarray:
    """``(N, T + 3)`` TP flags per threshold then ATE, ASE, AOE, for score-sorted detection
    rows ``[x, y, z, l, w, h, yaw]`` against label rows of one sweep and category."""
    num_t = len(cfg.affinity_thresholds_m)
    out = np.zeros((len(dts), num_t + 3))
    out[:, num_t:] = cfg.metrics_defaults[1:4]
    if len(dts) == 0 or len(gts) == 0:
        return out
    dist = np.linalg.norm(dts[:, None, :3] - gts[None, :, :3], axis=2)
    nearest = np.argmin(dist, axis=1)  # argmax of affinity = -distance: first on ties
    affinity = dist[np.arange(len(dts)), nearest]
    idx_gts, idx_dts = np.unique(nearest, return_index=True)  # first detection per label
    for i, threshold in enumerate(cfg.affinity_thresholds_m):
        is_tp = affinity[idx_dts] < threshold
        out[idx_dts[is_tp], i] = 1.0
        if threshold != cfg.tp_threshold_m or not is_tp.any():
            continue
        d, g = dts[idx_dts[is_tp]], gts[idx_gts[is_tp]]
        out[idx_dts[is_tp], num_t] = np.linalg.norm(d[:, :3] - g[:, :3], axis=1)
        out[idx_dts[is_tp], num_t + 1] = scale_errors(d[:, 3:6], g[:, 3:6])
        out[idx_dts[is_tp], num_t + 2] = wrap_angles(d[:, 6] - g[:, 6])
    return out


def interpolate_precision(precision: np.ndarray) -> np.ndarray:
    """Running maximum from the right (VOC all-point interpolation)."""
    return np.maximum.accumulate(np.asarray(precision, dtype=np.float64)[::-1])[::-1]


def average_precision(tps: np.ndarray, num_gts: int, num_recall_samples: int = 101) -> float:
    """AP of score-sorted TP flags against ``num_gts`` labels, sampled at recall points."""
    tps = np.asarray(tps, dtype=bool)
    cum_tp = np.cumsum(tps)
    cum_fp = np.cumsum(~tps)
    precision = interpolate_precision(cum_tp / (cum_tp + cum_fp))
    recall = cum_tp / num_gts
    samples = np.linspace(0, 1, num_recall_samples)
    return float(np.mean(np.interp(samples, recall, precision, right=0)))


@dataclass(frozen=True)
class Av2Evaluation:
    """Per-detection metrics (rows of ``dts`` order) and the summary table."""

    dts_metrics: np.ndarray  # (N, T + 3) TP flags, ATE, ASE, AOE
    dts_evaluated: np.ndarray  # (N,) bool
    gts_evaluated: np.ndarray  # (M,) bool
    summary: dict[str, dict[str, float]]  # category / "AVERAGE_METRICS" -> AP, ATE, ASE, AOE, CDS
    ap_by_threshold: dict[str, dict[float, float]]  # category -> threshold_m -> AP (unrounded)


def protocol_order(c: Av2Cuboids) -> np.ndarray:
    """``(N,)`` row indices in av2's table order: by ``(log_id, timestamp_ns, category)``,
    file row order within a group (a stable sort, as pandas' multi-column ``sort_values``)."""
    return np.lexsort((c.category.astype(str), c.timestamp_ns, c.log_id.astype(str)))


def ranked_by_score(c: Av2Cuboids, rows: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """``rows`` (indices into ``c``) in av2's ranking across sweeps: descending score, ties
    by log, sweep, then file row (upstream's stable ``sort_values(by="score",
    ascending=False)`` of its sorted table). ``order``: :func:`protocol_order` of ``c`` when
    the caller has it."""
    rank = np.empty(len(c), dtype=np.int64)
    rank[protocol_order(c) if order is None else order] = np.arange(len(c))
    rows = np.asarray(rows, dtype=np.int64)
    rows = rows[np.argsort(rank[rows], kind="stable")]
    return rows[np.argsort(-np.asarray(c.score[rows], dtype=np.float64), kind="stable")]


def sweep_order(scores: np.ndarray) -> np.ndarray:
    """``(N,)`` descending-score order of one sweep's detections of one category (rows in
    file order), as av2's ``accumulate``: ``np.argsort(-scores)`` with NumPy's default,
    unstable sort (tied rows in NumPy's order; see the module docstring)."""
    return np.argsort(-np.asarray(scores, dtype=np.float64))


def _groups(c: Av2Cuboids) -> dict[tuple[str, int, str], np.ndarray]:
    """Rows of each ``(log_id, timestamp_ns, category)``, in file order."""
    keys: dict[tuple[str, int, str], list[int]] = {}
    for i, key in enumerate(
        zip(c.log_id.tolist(), c.timestamp_ns.tolist(), c.category.tolist(), strict=True)
    ):
        keys.setdefault(key, []).append(i)
    return {k: np.asarray(v) for k, v in keys.items()}


def evaluate(
    dts: Av2Cuboids,
    gts: Av2Cuboids,
    cfg: Av2DetectionConfig | None = None,
    in_roi: Callable[[str, int, np.ndarray], np.ndarray] | None = None,
) -> Av2Evaluation:
    """Score detections against labels (both ego frame per sweep).

    ``in_roi(log_id, timestamp_ns, boxes (N, 7)) -> (N,) bool`` is the map region-of-interest
    test (:func:`drivestack.eval.detection.av2_roi.roi_filter_for_logs`); it is required when
    ``cfg.eval_only_roi_instances`` (the protocol's default).
    """
    cfg = cfg or Av2DetectionConfig()
    if cfg.eval_only_roi_instances and in_roi is None:
        raise ValueError("eval_only_roi_instances needs in_roi (or set it False in the config)")
    num_t = len(cfg.affinity_thresholds_m)
    metrics = np.zeros((len(dts), num_t + 3))
    metrics[:, num_t:] = cfg.metrics_defaults[1:4]
    dts_eval = np.zeros(len(dts), dtype=bool)
    gts_eval = np.zeros(len(gts), dtype=bool)
    dt_groups, gt_groups = _groups(dts), _groups(gts)
    dt_rows = np.concatenate([dts.boxes[:, :6], euler_yaw(dts.quaternion_wxyz)[:, None]], axis=1)
    gt_rows = np.concatenate([gts.boxes[:, :6], euler_yaw(gts.quaternion_wxyz)[:, None]], axis=1)
    for key in set(dt_groups) | set(gt_groups):
        d_idx = dt_groups.get(key, np.zeros(0, dtype=int))
        g_idx = gt_groups.get(key, np.zeros(0, dtype=int))
        d_idx = d_idx[sweep_order(dts.score[d_idx])]
        d_keep = evaluated_dts_mask(dts.boxes[d_idx, :3], cfg)
        g_keep = evaluated_gts_mask(gts.boxes[g_idx, :3], gts.num_interior_pts[g_idx], cfg)
        if cfg.eval_only_roi_instances and in_roi is not None:
            d_keep &= in_roi(key[0], key[1], dts.boxes[d_idx])
            g_keep &= in_roi(key[0], key[1], gts.boxes[g_idx])
        dts_eval[d_idx] = d_keep
        gts_eval[g_idx] = g_keep
        if d_keep.any() and g_keep.any():
            metrics[d_idx[d_keep]] = assign(dt_rows[d_idx[d_keep]], gt_rows[g_idx[g_keep]], cfg)
    by_threshold: dict[str, dict[float, float]] = {}
    summary = summarize(dts, metrics, dts_eval, gts, gts_eval, cfg, by_threshold)
    return Av2Evaluation(metrics, dts_eval, gts_eval, summary, by_threshold)


def summarize(
    dts: Av2Cuboids,
    metrics: np.ndarray,
    dts_eval: np.ndarray,
    gts: Av2Cuboids,
    gts_eval: np.ndarray,
    cfg: Av2DetectionConfig,
    ap_by_threshold: dict[str, dict[float, float]] | None = None,
) -> dict[str, dict[str, float]]:
    """Summary rows per category and their mean; fills ``ap_by_threshold`` when given."""
    num_t = len(cfg.affinity_thresholds_m)
    middle = num_t // 2  # upstream's TPs for the errors, whatever tp_threshold_m is
    order = protocol_order(dts)
    rows: dict[str, np.ndarray] = {}
    for category in cfg.categories:
        row = np.array(cfg.metrics_defaults, dtype=np.float64)
        num_gts = int((gts_eval & (gts.category == category)).sum())
        if num_gts:
            mine = np.flatnonzero(dts_eval & (dts.category == category))
            sel = ranked_by_score(dts, mine, order)
            cat = metrics[sel]
            aps = [
                average_precision(cat[:, t].astype(bool), num_gts, cfg.num_recall_samples)
                if len(cat)
                else 0.0
                for t in range(num_t)
            ]
            ap = float(np.mean(aps))
            if ap_by_threshold is not None:
                ap_by_threshold[category] = dict(zip(cfg.affinity_thresholds_m, aps, strict=True))
            is_tp = cat[:, middle].astype(bool) if len(cat) else np.zeros(0, dtype=bool)
            errors = (
                cat[is_tp, num_t:].mean(axis=0)
                if is_tp.any()
                else cfg.tp_normalization_terms.copy()
            )
            cds = ap * float(np.mean(1.0 - errors / cfg.tp_normalization_terms))
            row = np.array([ap, *errors, cds])
        rows[category] = row
    average = (
        np.mean(np.stack(list(rows.values())), axis=0) if rows else np.array(cfg.metrics_defaults)
    )
    rows["AVERAGE_METRICS"] = average
    return {
        k: {m: round(float(v), NUM_DECIMALS) for m, v in zip(METRIC_NAMES, r, strict=True)}
        for k, r in rows.items()
    }


def categories_of(*tables: Av2Cuboids) -> Sequence[str]:
    """Sorted categories present in the given tables."""
    return sorted(set().union(*(set(t.category.tolist()) for t in tables)))
