"""Detection and tracking metrics of the stack on simulated frames, against the sim's truth.

In closed loop with ``--perception lidar`` every tick has exact ground truth: the agents'
boxes, their ids, and how many LiDAR returns each one produced (the sweep's ``instance``
attribute). :class:`PerceptionMetrics` collects, per tick, the detector's boxes and the
tracker's output next to that truth (all in the ego frame) and scores them:

- **Ground truth counted**: agents with at least ``min_points`` returns in the sweep (the
  nuScenes rule with its default 1: an agent the sensor did not see at all is not expected)
  within ``max_range_m`` (BEV, from the ego origin). Detections and tracks beyond the range
  are dropped too. Classes are compared in three groups (:data:`EVAL_GROUPS`): ``vehicle``
  (car, truck, bus, van, trailer, other vehicle), ``pedestrian`` and ``cyclist`` (cyclist,
  motorcycle); a box is matched only to truth of its group.
- **Detection AP**: the nuScenes protocol (:mod:`drivestack.eval.detection.nuscenes`):
  greedy matching by BEV centre distance in descending score order, AP with
  ``min_recall = min_precision = 0.1`` averaged over the distance thresholds ``ap_distances_m``.
- **Detection recall / precision** at the operating point (every output box, whatever its
  score): the same greedy matching at ``match_distance_m``.
- **Tracking CLEAR-MOT** at ``match_distance_m``: per tick a ground-truth agent keeps last
  tick's track when that track is still within the distance; the rest are matched by the
  Hungarian method on centre distance. ``IDS`` counts ticks where an agent is matched to a
  track other than the one it was last matched to; ``MOTA = 1 - (FN + FP + IDS) / GT``,
  ``MOTP`` = mean centre distance of the matches (metres).
- **Tracked velocity error** over the same matches: the BEV distance between the track's
  velocity and the agent's true velocity over ground (m/s; nuScenes' AVE is the mean),
  reported as the mean ``AVE_mps`` and the median and 90th percentile. A newborn track
  whose velocity is still its prior counts like any other match: it is what the planner sees.

Accumulators merge (:meth:`PerceptionMetrics.merge`), so a suite's figures pool every tick of
every run rather than averaging per-run rates.

:class:`LightStateMetrics` scores ``--lights camera``'s traffic-light states the same way
(per light-tick: accuracy, a confusion matrix true x perceived, the share unknown), and the
states inferred for lights the camera does not read apart (how many, how many right, the
wrong ones true x inferred).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drivestack.eval.detection.nuscenes import EvalBoxes, accumulate, calc_ap, class_ground_truth
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.tracks import Tracks
from drivestack.structures.traffic_light import SIGNAL_STATES, check_state

#: evaluation group -> the object classes it holds (truth and predictions alike)
EVAL_GROUPS: dict[str, tuple[ObjectClass, ...]] = {
    "vehicle": (
        ObjectClass.CAR,
        ObjectClass.TRUCK,
        ObjectClass.BUS,
        ObjectClass.VAN,
        ObjectClass.TRAILER,
        ObjectClass.OTHER_VEHICLE,
    ),
    "pedestrian": (ObjectClass.PEDESTRIAN,),
    "cyclist": (ObjectClass.CYCLIST, ObjectClass.MOTORCYCLE),
}
_GROUP_OF_LABEL = {int(c): name for name, classes in EVAL_GROUPS.items() for c in classes}


@dataclass(frozen=True)
class PerceptionEvalConfig:
    """What counts as ground truth and what counts as a match (see the module doc)."""

    max_range_m: float = 50.0
    min_points: int = 1
    match_distance_m: float = 2.0
    ap_distances_m: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    min_recall: float = 0.1
    min_precision: float = 0.1

    def __post_init__(self) -> None:
        if not (self.max_range_m > 0 and self.match_distance_m > 0 and self.ap_distances_m):
            raise ValueError(
                "PerceptionEvalConfig needs max_range_m > 0, match_distance_m > 0 and at least "
                "one AP distance"
            )


def group_names(labels: np.ndarray) -> np.ndarray:
    """``(N,)`` evaluation group of each object class id ("" when in no group)."""
    return np.array([_GROUP_OF_LABEL.get(int(c), "") for c in labels], dtype=object).astype(str)


def greedy_center_matches(
    gt_xy: np.ndarray, pred_xy: np.ndarray, pred_score: np.ndarray, max_distance_m: float
) -> np.ndarray:
    """``(P,)`` ground-truth row matched to each prediction (-1: none).

    Predictions in descending score order (ties: the later row first, as nuScenes) each take
    the nearest unmatched ground truth closer than ``max_distance_m`` (strictly).
    """
    match = np.full(pred_xy.shape[0], -1, dtype=np.int64)
    if not len(gt_xy) or not len(pred_xy):
        return match
    dist = np.linalg.norm(pred_xy[:, None, :] - gt_xy[None, :, :], axis=2)
    taken = np.zeros(gt_xy.shape[0], dtype=bool)
    order = sorted(range(len(pred_score)), key=lambda i: (float(pred_score[i]), i))[::-1]
    for i in order:
        d = np.where(taken, np.inf, dist[i])
        k = int(np.argmin(d))
        if d[k] < max_distance_m:
            match[i] = k
            taken[k] = True
    return match


@dataclass
class _MotCounts:
    gt: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    ids: int = 0
    distance_sum_m: float = 0.0
    # BEV velocity error of every match (m/s), kept whole for the quantiles
    velocity_error_mps: list[float] = field(default_factory=list)

    def add(self, other: _MotCounts) -> None:
        for name in ("gt", "tp", "fp", "fn", "ids", "distance_sum_m"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.velocity_error_mps.extend(other.velocity_error_mps)

    def as_dict(self) -> dict[str, float | int | None]:
        errors = np.asarray(self.velocity_error_mps)
        p50, p90 = np.quantile(errors, [0.5, 0.9]) if errors.size else (None, None)
        return {
            "MOTA": 1.0 - (self.fn + self.fp + self.ids) / self.gt if self.gt else None,
            "MOTP_m": self.distance_sum_m / self.tp if self.tp else None,
            "IDS": self.ids,
            "TP": self.tp,
            "FP": self.fp,
            "FN": self.fn,
            "GT": self.gt,
            "recall": self.tp / self.gt if self.gt else None,
            "precision": self.tp / (self.tp + self.fp) if self.tp + self.fp else None,
            "AVE_mps": float(errors.mean()) if errors.size else None,
            "velocity_error_p50_mps": None if p50 is None else float(p50),
            "velocity_error_p90_mps": None if p90 is None else float(p90),
        }


@dataclass
class PerceptionMetrics:
    """Accumulator of one or more closed-loop runs (``add_frame`` per tick, then ``result``)."""

    config: PerceptionEvalConfig = field(default_factory=PerceptionEvalConfig)
    gt: dict[str, EvalBoxes] = field(default_factory=dict)
    pred: dict[str, EvalBoxes] = field(default_factory=dict)
    detection: dict[str, list[int]] = field(default_factory=dict)  # group -> [TP, FP, GT]
    tracking: dict[str, _MotCounts] = field(default_factory=dict)
    frames: int = 0
    # per (run, group): truth id -> the track id it was last matched to
    _last_track: dict[str, dict[str, int]] = field(default_factory=dict)

    def add_frame(
        self,
        token: str,
        truth: Boxes3D,
        truth_ids: tuple[str, ...],
        truth_points: np.ndarray,
        detections: Boxes3D,
        tracks: Tracks | None,
        *,
        run: str = "",
    ) -> None:
        """One tick. ``truth`` / ``detections`` / ``tracks`` in one frame whose origin is the
        ego; ``truth_points (G,)`` the LiDAR returns of each truth box; ``token`` unique per
        tick; ``run`` names the sequence (track ids and truth ids are per run)."""
        cfg = self.config
        if truth.frame != detections.frame or (tracks is not None and tracks.frame != truth.frame):
            raise ValueError(
                f"truth ({truth.frame}), detections ({detections.frame}) and tracks must share a frame"
            )
        if len(truth_ids) != len(truth) or np.asarray(truth_points).shape != (len(truth),):
            raise ValueError("truth_ids and truth_points need one entry per truth box")
        self.frames += 1
        gt_keep = (np.asarray(truth_points) >= cfg.min_points) & (
            np.linalg.norm(truth.center_m[:, :2], axis=1) < cfg.max_range_m
        )
        gt_group = group_names(truth.label)
        gt_keep &= gt_group != ""
        det_group = group_names(detections.label)
        det_keep = (det_group != "") & (
            np.linalg.norm(detections.center_m[:, :2], axis=1) < cfg.max_range_m
        )
        self.gt[token] = _eval_boxes(truth, gt_group, gt_keep)
        self.pred[token] = _eval_boxes(detections, det_group, det_keep)
        for group in EVAL_GROUPS:
            g = gt_keep & (gt_group == group)
            d = det_keep & (det_group == group)
            match = greedy_center_matches(
                truth.center_m[g, :2],
                detections.center_m[d, :2],
                detections.score[d],
                cfg.match_distance_m,
            )
            counts = self.detection.setdefault(group, [0, 0, 0])
            tp = int(np.count_nonzero(match >= 0))
            counts[0] += tp
            counts[1] += int(d.sum()) - tp
            counts[2] += int(g.sum())
            if tracks is not None:
                self._track_frame(run, group, truth, truth_ids, g, tracks)

    def _track_frame(
        self,
        run: str,
        group: str,
        truth: Boxes3D,
        truth_ids: tuple[str, ...],
        gt_mask: np.ndarray,
        tracks: Tracks,
    ) -> None:
        from scipy.optimize import linear_sum_assignment

        cfg = self.config
        t_mask = (group_names(tracks.boxes.label) == group) & (
            np.linalg.norm(tracks.boxes.center_m[:, :2], axis=1) < cfg.max_range_m
        )
        gt_rows = np.flatnonzero(gt_mask)
        tr_rows = np.flatnonzero(t_mask)
        counts = _MotCounts(gt=len(gt_rows))
        last = self._last_track.setdefault(f"{run}\x00{group}", {})
        dist = (
            np.linalg.norm(
                truth.center_m[gt_rows, None, :2] - tracks.boxes.center_m[None, tr_rows, :2],
                axis=2,
            )
            if len(gt_rows) and len(tr_rows)
            else np.zeros((len(gt_rows), len(tr_rows)))
        )
        pairs: dict[int, int] = {}  # gt index (in gt_rows) -> track index (in tr_rows)
        # 1. keep last tick's correspondences that are still close enough
        track_ids = tracks.track_id[tr_rows]
        for i, row in enumerate(gt_rows):
            prev = last.get(truth_ids[row])
            if prev is None:
                continue
            same = np.flatnonzero(track_ids == prev)
            kept = int(same[0]) if same.size else -1
            if kept >= 0 and dist[i, kept] < cfg.match_distance_m and kept not in pairs.values():
                pairs[i] = kept
        # 2. Hungarian on the rest, gated by the distance
        free_g = [i for i in range(len(gt_rows)) if i not in pairs]
        free_t = [j for j in range(len(tr_rows)) if j not in set(pairs.values())]
        if free_g and free_t:
            sub = dist[np.ix_(free_g, free_t)]
            cost = np.where(sub < cfg.match_distance_m, sub, 1e6)
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols, strict=True):
                if sub[r, c] < cfg.match_distance_m:
                    pairs[free_g[r]] = free_t[c]
        for i, j in pairs.items():
            gid = truth_ids[gt_rows[i]]
            tid = int(track_ids[j])
            if gid in last and last[gid] != tid:
                counts.ids += 1
            last[gid] = tid
            counts.distance_sum_m += float(dist[i, j])
            counts.velocity_error_mps.append(
                float(
                    np.linalg.norm(
                        tracks.boxes.velocity_mps[tr_rows[j], :2]
                        - truth.velocity_mps[gt_rows[i], :2]
                    )
                )
            )
        counts.tp = len(pairs)
        counts.fn = len(gt_rows) - len(pairs)
        counts.fp = len(tr_rows) - len(pairs)
        self.tracking.setdefault(group, _MotCounts()).add(counts)

    def merge(self, other: PerceptionMetrics, prefix: str = "") -> None:
        """Pool another accumulator's ticks into this one, their tokens prefixed by
        ``prefix`` (e.g. the run's name); a token seen twice is an error."""
        gt = {prefix + k: v for k, v in other.gt.items()}
        clash = set(self.gt) & set(gt)
        if clash:
            raise ValueError(f"PerceptionMetrics.merge: tokens seen twice, e.g. {min(clash)!r}")
        self.gt.update(gt)
        self.pred.update({prefix + k: v for k, v in other.pred.items()})
        self.frames += other.frames
        for group, (tp, fp, n) in other.detection.items():
            mine = self.detection.setdefault(group, [0, 0, 0])
            mine[0] += tp
            mine[1] += fp
            mine[2] += n
        for group, counts in other.tracking.items():
            self.tracking.setdefault(group, _MotCounts()).add(counts)

    def result(self) -> dict[str, Any]:
        """JSON-ready figures: per group and ``all`` groups pooled (AP: mean over groups with
        ground truth)."""
        cfg = self.config
        detection: dict[str, dict[str, Any]] = {}
        for group in EVAL_GROUPS:
            tp, fp, n = self.detection.get(group, [0, 0, 0])
            if n == 0 and tp + fp == 0:
                continue
            of_group = class_ground_truth(self.gt, group)  # (once for every distance)
            aps = {
                th: calc_ap(
                    accumulate(self.gt, self.pred, group, th, gt_of_class=of_group),
                    cfg.min_recall,
                    cfg.min_precision,
                )
                for th in cfg.ap_distances_m
            }
            detection[group] = {
                "AP": float(np.mean(list(aps.values()))) if n else None,
                "AP_by_distance_m": {str(k): v for k, v in aps.items()} if n else {},
                "recall": tp / n if n else None,
                "precision": tp / (tp + fp) if tp + fp else None,
                "TP": tp,
                "FP": fp,
                "GT": n,
            }
        tp = sum(v["TP"] for v in detection.values())
        fp = sum(v["FP"] for v in detection.values())
        n = sum(v["GT"] for v in detection.values())
        with_gt = [v["AP"] for v in detection.values() if v["AP"] is not None]
        detection["all"] = {
            "mAP": float(np.mean(with_gt)) if with_gt else None,
            "recall": tp / n if n else None,
            "precision": tp / (tp + fp) if tp + fp else None,
            "TP": tp,
            "FP": fp,
            "GT": n,
        }
        tracking: dict[str, Any] = {
            g: c.as_dict() for g, c in self.tracking.items() if c.gt or c.fp
        }
        if self.tracking:
            total = _MotCounts()
            for c in self.tracking.values():
                total.add(c)
            tracking["all"] = total.as_dict()
        return {
            "frames": self.frames,
            "config": {
                "max_range_m": cfg.max_range_m,
                "min_points": cfg.min_points,
                "match_distance_m": cfg.match_distance_m,
                "ap_distances_m": list(cfg.ap_distances_m),
            },
            "detection": detection,
            "tracking": tracking,
        }


def _eval_boxes(boxes: Boxes3D, group: np.ndarray, keep: np.ndarray) -> EvalBoxes:
    return EvalBoxes(
        center_m=boxes.center_m[keep],
        size_m=boxes.size_m[keep],
        yaw_rad=boxes.yaw_rad[keep],
        velocity_mps=boxes.velocity_mps[keep],
        detection_name=group[keep],
        score=boxes.score[keep],
        ego_distance_m=np.linalg.norm(boxes.center_m[keep, :2], axis=1),
    )


class LightStateMetrics:
    """Traffic-light state perception against the truth, over light-ticks (one light at one
    tick, counted where the light governs the ego's route and is within the observer's range;
    see :mod:`drivestack.sim.perceived_lights`): a confusion matrix of true x perceived
    states (:data:`~drivestack.structures.traffic_light.SIGNAL_STATES`), the accuracy
    (perceived == true) and the share perceived ``unknown``; apart, ``inferred``: the same
    matrix over the light-ticks whose state was inferred, not read
    (:mod:`~drivestack.perception.camera.traffic_light_inference`), those whose true state is
    ``unknown`` (a light the scenario gives no known state: nothing to score against) counted
    apart as ``truth_unknown``. Accumulators merge."""

    def __init__(self) -> None:
        n = len(SIGNAL_STATES)
        self.confusion = np.zeros((n, n), dtype=np.int64)
        self.inferred = np.zeros((n, n), dtype=np.int64)

    def add(self, true_state: str, perceived_state: str) -> None:
        """Count one light-tick read by the camera (``ValueError`` for a state not in
        SIGNAL_STATES)."""
        self._count(self.confusion, true_state, perceived_state, "perceived")

    def add_inferred(self, true_state: str, inferred_state: str) -> None:
        """Count one light-tick whose state was inferred (``ValueError`` as :meth:`add`)."""
        self._count(self.inferred, true_state, inferred_state, "inferred")

    @staticmethod
    def _count(matrix: np.ndarray, true_state: str, state: str, kind: str) -> None:
        truth = SIGNAL_STATES.index(check_state(true_state, "LightStateMetrics true state"))
        seen = SIGNAL_STATES.index(check_state(state, f"LightStateMetrics {kind}"))
        matrix[truth, seen] += 1

    def merge(self, other: LightStateMetrics) -> None:
        """Pool another accumulator's light-ticks into this one."""
        self.confusion += other.confusion
        self.inferred += other.inferred

    def result(self) -> dict[str, Any]:
        """JSON-ready figures of the camera's reads: ``light_ticks``, ``accuracy`` and
        ``unknown_share`` (None without a light-tick) and ``confusion`` (true state ->
        perceived state -> count, the states seen only); and ``inferred``: ``light_ticks`` (all
        inferred light-ticks), ``truth_unknown`` (those whose true state is ``unknown``, not
        scored), ``correct`` (inferred == true, of those with a known true state),
        ``accuracy`` (``correct`` over the scored ones, None without one) and ``wrong`` (true
        state -> inferred state -> count, the wrong scored ones only)."""
        n = int(self.confusion.sum())
        unknown = SIGNAL_STATES.index("unknown")
        n_inferred = int(self.inferred.sum())
        scored = self.inferred.copy()
        scored[unknown, :] = 0  # a true state unknown: nothing to score against
        n_scored = int(scored.sum())
        correct = int(np.trace(scored))
        wrong = scored - np.diag(np.diag(scored))
        return {
            "light_ticks": n,
            "accuracy": float(np.trace(self.confusion)) / n if n else None,
            "unknown_share": float(self.confusion[:, unknown].sum()) / n if n else None,
            "confusion": _nested_counts(self.confusion),
            "inferred": {
                "light_ticks": n_inferred,
                "truth_unknown": n_inferred - n_scored,
                "correct": correct,
                "accuracy": correct / n_scored if n_scored else None,
                "wrong": _nested_counts(wrong),
            },
        }


def _nested_counts(matrix: np.ndarray) -> dict[str, dict[str, int]]:
    """``(S, S)`` counts over :data:`SIGNAL_STATES` -> row state -> column state -> count,
    the non-zero ones only."""
    return {
        SIGNAL_STATES[t]: {
            SIGNAL_STATES[p]: int(matrix[t, p]) for p in range(len(SIGNAL_STATES)) if matrix[t, p]
        }
        for t in range(len(SIGNAL_STATES))
        if matrix[t].any()
    }


def light_perception_line(m: dict[str, Any]) -> str:
    """One line of the pooled traffic-light perception figures ``m`` (a
    :meth:`LightStateMetrics.result`, pooled or of one run; ``drivestack sim`` and
    ``drivestack fleet`` print it per planner with ``--lights camera``, the report shows it)."""
    if not m["light_ticks"]:
        return "lights seen by camera: no light within range on any route"
    line = (
        f"lights seen by camera over {m['light_ticks']} light-ticks: accuracy "
        f"{100 * m['accuracy']:.1f}%, unknown {100 * m['unknown_share']:.1f}%"
    )
    inferred = m.get("inferred") or {}  # older records: no inferences
    if inferred.get("light_ticks"):
        line += (
            f"; lights inferred over {inferred['light_ticks']} light-ticks: "
            f"{inferred['correct']} correct"
        )
        if inferred.get("truth_unknown"):
            line += f", {inferred['truth_unknown']} not scored (true state unknown)"
    return line
