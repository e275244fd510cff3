"""CLEAR-MOT metrics and sAMOTA/AMOTA/AMOTP over recall thresholds, KITTI/AB3DMOT protocol.

One evaluation pass (:func:`clear_pass`) keeps the tracks whose mean score reaches a threshold,
matches them to ground truth frame by frame and counts TP/FP/FN, ID switches, fragmentations
and MT/PT/ML exactly as the KITTI devkit does (including its ignore rules and its trajectory
quirks); :func:`evaluate_clear` runs the devkit's sequence of passes (all tracks, each recall
threshold, then the best-MOTA threshold).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from drivestack.eval.tracking.prepare import ClassData, assign_pairs
from drivestack.eval.tracking.protocol import KittiMotProtocol

_ALL_TRACKS = -10000.0


@dataclass(frozen=True)
class ClearResult:
    """Counts and rates of one pass. Rates are fractions (not percent)."""

    threshold: float
    recall_threshold: float
    sMOTA: float
    MOTA: float
    MOTP: float
    MODA: float
    MT: float
    PT: float
    ML: float
    IDS: int
    FRAG: int
    F1: float
    precision: float
    recall: float
    FAR: float
    TP: int
    FP: int
    FN: int
    ignored_TP: int
    ignored_FN: int
    n_gt: int
    n_gt_ignored: int
    n_tracker: int
    n_tracker_ignored: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class PassMatches:
    """Matches of one pass: ``gt_match`` ``(G,)`` tracker row or -1, ``tr_matched`` ``(T,)`` bool."""

    gt_match: np.ndarray
    tr_matched: np.ndarray
    match_sim: np.ndarray


def match_pass(data: ClassData, active_tr: np.ndarray, protocol: KittiMotProtocol) -> PassMatches:
    """Per-frame assignment of ground truth to the active tracker rows (devkit Hungarian)."""
    cost = 1.0 - data.pair_sim
    cand = active_tr[data.pair_tr] & (cost <= 1.0 - protocol.min_overlap)
    idx = np.flatnonzero(cand)
    chosen = assign_pairs(
        data.gt_frame[data.pair_gt[idx]], data.pair_gt[idx], data.pair_tr[idx], cost[idx]
    )
    picked = idx[chosen]
    gt_match = np.full(data.gt_frame.shape[0], -1, dtype=np.int64)
    gt_match[data.pair_gt[picked]] = data.pair_tr[picked]
    tr_matched = np.zeros(data.tr_frame.shape[0], dtype=bool)
    tr_matched[data.pair_tr[picked]] = True
    match_sim = np.zeros(data.gt_frame.shape[0])
    match_sim[data.pair_gt[picked]] = data.pair_sim[picked]
    return PassMatches(gt_match, tr_matched, match_sim)


def _trajectory_stats(data: ClassData, gt_match: np.ndarray) -> tuple[int, int, int, int, int, int]:
    """``(IDS, FRAG, MT, PT, ML, n_ignored_trajectories)`` as the devkit's trajectory loop.

    Per ground-truth trajectory (frames in order): ``g`` = matched tracker id or -1, ``ign`` =
    ignored. The devkit's ``last_id`` starts at ``g[0]``, becomes -1 at ignored frames and the
    tracker id at matched frames; an ID switch at a non-ignored frame ``f`` needs
    ``last_id != g[f]`` with ``last_id``, ``g[f]`` and ``g[f-1]`` all matched; a fragmentation
    needs ``g[f-1] != g[f]``, ``last_id`` and ``g[f]`` matched and (except in the last frame)
    ``g[f+1]`` matched.
    """
    n = data.gt_frame.shape[0]
    if n == 0:
        return 0, 0, 0, 0, 0, 0
    order = np.lexsort((data.gt_frame, data.gt_track))
    traj = data.gt_track[order]
    g = np.full(n, -1, dtype=np.int64)
    hit = gt_match[order] >= 0
    g[hit] = data.tr_track[gt_match[order][hit]]
    ign = data.gt_ignored[order]
    first = np.ones(n, dtype=bool)
    first[1:] = traj[1:] != traj[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = traj[1:] != traj[:-1]
    starts = np.flatnonzero(first)
    traj_len = np.diff(np.append(starts, n))
    all_ign = np.logical_and.reduceat(ign, starts)
    all_unmatched = np.logical_and.reduceat(g == -1, starts)
    counted = ~all_ign & ~all_unmatched
    row_counted = np.repeat(counted, traj_len)

    anchor = first | ign | (g != -1)
    anchor_val = np.where(first, g, np.where(ign, -1, g))
    anchor_idx = np.maximum.accumulate(np.where(anchor, np.arange(n), 0))
    last_before = np.full(n, -1, dtype=np.int64)
    last_before[1:] = anchor_val[anchor_idx[:-1]]
    prev_g = np.full(n, -1, dtype=np.int64)
    prev_g[1:] = g[:-1]
    next_g = np.full(n, -1, dtype=np.int64)
    next_g[:-1] = g[1:]

    body = ~first & ~ign & row_counted
    ids = body & (last_before != g) & (last_before != -1) & (g != -1) & (prev_g != -1)
    frag_mid = body & ~last & (prev_g != g) & (last_before != -1) & (g != -1) & (next_g != -1)
    frag_end = body & last & (prev_g != g) & (g != -1)

    tracked = np.add.reduceat(np.where(first, g >= 0, ~ign & (g != -1)).astype(np.int64), starts)
    n_ign = np.add.reduceat(ign.astype(np.int64), starts)
    denom = np.maximum(traj_len - n_ign, 1)
    ratio = tracked / denom
    mt = int(np.sum(counted & (ratio > 0.8)))
    ml = int(np.sum(~all_ign & all_unmatched)) + int(np.sum(counted & (ratio < 0.2)))
    pt = int(np.sum(counted & (ratio >= 0.2) & (ratio <= 0.8)))
    return int(ids.sum()), int(frag_mid.sum() + frag_end.sum()), mt, pt, ml, int(all_ign.sum())


def clear_pass(
    data: ClassData,
    protocol: KittiMotProtocol,
    threshold: float,
    recall_threshold: float,
    valid_so_far: np.ndarray,
    track_score: np.ndarray | None = None,
) -> tuple[ClearResult, PassMatches]:
    """One devkit pass at a track-score ``threshold``; updates ``valid_so_far`` in place.

    ``track_score`` ``(K,)`` is the score of each track in this pass (default: its mean).
    """
    scores = data.track_mean if track_score is None else track_score
    active = scores[data.tr_track] >= threshold
    m = match_pass(data, active, protocol)
    valid_so_far |= m.tr_matched
    tr_ignored = active & ~valid_so_far & data.tr_ignorable
    matched_gt = m.gt_match >= 0
    tp = int(matched_gt.sum())
    itp = int((matched_gt & data.gt_ignored).sum())
    ifn = int((~matched_gt & data.gt_ignored).sum())
    fn = int((~matched_gt & ~data.gt_ignored).sum())
    n_tr = int(active.sum())
    n_itr = int(tr_ignored.sum())
    fp = n_tr - tp - n_itr
    n_gt = int(data.gt_frame.shape[0]) - itp - ifn
    total_sim = float(m.match_sim[matched_gt].sum())
    ids, frag, mt, pt, ml, n_ign_traj = _trajectory_stats(data, m.gt_match)
    n_traj = data.n_gt_trajectories - n_ign_traj
    recall = tp / (tp + fn) if (tp + fp) and (tp + fn) else 0.0
    precision = tp / (tp + fp) if (tp + fp) and (tp + fn) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    if n_gt == 0:
        mota = moda = smota = -float("inf")
    else:
        mota = 1 - (fn + fp + ids) / n_gt
        moda = 1 - (fn + fp) / n_gt
        r = recall_threshold
        smota = min(1.0, max(0.0, 1 - (fn + fp + ids - (1 - r) * n_gt) / (r * n_gt)))
    result = ClearResult(
        threshold=float(threshold),
        recall_threshold=float(recall_threshold),
        sMOTA=smota,
        MOTA=mota,
        MOTP=total_sim / tp if tp else 0.0,
        MODA=moda,
        MT=mt / n_traj if n_traj else 0.0,
        PT=pt / n_traj if n_traj else 0.0,
        ML=ml / n_traj if n_traj else 0.0,
        IDS=ids,
        FRAG=frag,
        F1=f1,
        precision=precision,
        recall=recall,
        FAR=fp / data.n_frames_devkit if data.n_frames_devkit else 0.0,
        TP=tp,
        FP=fp,
        FN=fn,
        ignored_TP=itp,
        ignored_FN=ifn,
        n_gt=n_gt,
        n_gt_ignored=itp + ifn,
        n_tracker=n_tr,
        n_tracker_ignored=n_itr,
    )
    return result, m


def recall_thresholds(
    scores: np.ndarray, num_gt: int, num_sample_points: int
) -> tuple[list[float], list[float]]:
    """The devkit's score thresholds for evenly spaced recall (first one, recall 0, dropped).

    ``scores`` are the (track-mean) scores of all true positives of the all-tracks pass.
    Walks the scores in descending order and takes a score whenever the recall it reaches is
    at least as close to the next sample point as the one after it.
    """
    s = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    thresholds: list[float] = []
    recalls: list[float] = []
    current = 0.0
    step = 1 / (num_sample_points - 1.0)
    n = s.shape[0]
    for i in range(n):
        l_recall = (i + 1) / float(num_gt)
        r_recall = (i + 2) / float(num_gt) if i < n - 1 else l_recall
        if (r_recall - current) < (current - l_recall) and i < n - 1:
            continue
        thresholds.append(float(s[i]))
        recalls.append(current)
        current += step
    return thresholds[1:], recalls[1:]


@dataclass(frozen=True)
class ClearSummary:
    """sAMOTA/AMOTA/AMOTP over the recall thresholds, the best-MOTA pass and every pass."""

    sAMOTA: float
    AMOTA: float
    AMOTP: float
    best: ClearResult
    per_threshold: tuple[ClearResult, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "sAMOTA": self.sAMOTA,
            "AMOTA": self.AMOTA,
            "AMOTP": self.AMOTP,
            "best": self.best.as_dict(),
            "per_threshold": [r.as_dict() for r in self.per_threshold],
        }


def remean(track_score: np.ndarray, track_len: np.ndarray) -> np.ndarray:
    """The devkit's per-pass re-averaging: each pass replaces every row's score by the mean
    of its track's (already averaged) scores, ``sum([v] * n) / float(n)`` with a sequential
    float sum, which can move ``v`` by a few ulps per pass; a track whose score *is* the
    threshold can drop out of its own pass. Reproduced bit for bit."""
    return np.array(
        [
            sum([v] * n) / float(n)
            for v, n in zip(track_score.tolist(), track_len.tolist(), strict=True)
        ]
    )


def _same_scores(track_score: np.ndarray, track_len: np.ndarray) -> np.ndarray:
    """:func:`remean`'s place without the devkit's quirk: the scores unchanged."""
    return track_score


def evaluate_clear(
    data: ClassData, protocol: KittiMotProtocol, *, devkit_remean: bool = True
) -> ClearSummary:
    """The devkit's full evaluation of one class (see module docstring).

    ``devkit_remean=False`` leaves out the devkit's per-pass re-averaging of the track scores
    (:func:`remean`): every pass then thresholds the very track means the recall thresholds
    were taken from. The devkit's figures (the default) can move by whole points when a
    track's mean score sits at a threshold and the re-averaging nudges it by an ulp across
    (scores rounded or jittered by 1e-9 are enough); the figures without it do not, and
    differ from the devkit's only where such a tie decided a pass."""
    rescore = remean if devkit_remean else _same_scores
    valid = np.zeros(data.tr_frame.shape[0], dtype=bool)
    track_score = data.track_mean
    first, m = clear_pass(data, protocol, _ALL_TRACKS, 1.0, valid, track_score)
    matched = m.gt_match >= 0
    scores = track_score[data.tr_track[m.gt_match[matched]]]
    thresholds, recalls = recall_thresholds(scores, first.TP + first.FN, protocol.num_sample_points)
    per: list[ClearResult] = []
    best_mota, best_threshold = 0.0, _ALL_TRACKS
    for thr, rec in zip(thresholds, recalls, strict=True):
        track_score = rescore(track_score, data.track_len)
        res, _ = clear_pass(data, protocol, thr, rec, valid, track_score)
        per.append(res)
        if best_mota < res.MOTA:
            best_mota, best_threshold = res.MOTA, thr
    track_score = rescore(track_score, data.track_len)
    best, _ = clear_pass(data, protocol, best_threshold, 1.0, valid, track_score)
    n = protocol.num_sample_points - 1.0
    return ClearSummary(
        sAMOTA=sum(r.sMOTA for r in per) / n,
        AMOTA=sum(r.MOTA for r in per) / n,
        AMOTP=sum(r.MOTP for r in per) / n,
        best=best,
        per_threshold=tuple(per),
    )
