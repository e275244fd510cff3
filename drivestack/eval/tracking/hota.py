"""HOTA (Luiten et al., IJCV 2020) with any similarity, here KITTI 3D IoU.

The algorithm follows TrackEval's ``metrics/hota.py``: a global alignment score per
(ground truth id, tracker id) from similarity-weighted co-occurrence, per-frame Hungarian
matching on ``alignment * similarity``, then DetA/AssA/LocA at 19 similarity thresholds
``alpha = 0.05 .. 0.95`` and their mean. Preprocessing mirrors TrackEval's KITTI rules with
this protocol's ignore flags (:func:`hota_inputs`).

Ids are global over sequences (no id crosses a sequence), so one pass over all frames gives
the same numbers as TrackEval's per-sequence evaluation combined by TP-weighted averages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivestack.eval.tracking.prepare import ClassData, assign_pairs
from drivestack.eval.tracking.protocol import KittiMotProtocol

ALPHAS = np.arange(0.05, 0.99, 0.05)
_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class HotaInputs:
    """Preprocessed rows: ``gt_frame/gt_id (G,)``, ``tr_frame/tr_id (T,)`` and sparse same-frame
    similarities ``pair_gt, pair_tr, pair_sim (P,)`` indexing those rows."""

    gt_frame: np.ndarray
    gt_id: np.ndarray
    tr_frame: np.ndarray
    tr_id: np.ndarray
    pair_gt: np.ndarray
    pair_tr: np.ndarray
    pair_sim: np.ndarray


#: The figures of a :class:`HotaResult` (the mean over the alphas), in report order.
HOTA_KEYS = ("HOTA", "DetA", "AssA", "LocA", "DetRe", "DetPr", "AssRe", "AssPr")


@dataclass(frozen=True)
class HotaResult:
    """Means over alphas (fractions) and the per-alpha arrays ``(19,)``."""

    HOTA: float
    DetA: float
    AssA: float
    LocA: float
    DetRe: float
    DetPr: float
    AssRe: float
    AssPr: float
    per_alpha: dict[str, np.ndarray]

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {k: getattr(self, k) for k in HOTA_KEYS}
        out["per_alpha"] = {k: v.tolist() for k, v in self.per_alpha.items()}
        out["alphas"] = ALPHAS.tolist()
        return out


def hota_inputs(data: ClassData, protocol: KittiMotProtocol) -> HotaInputs:
    """TrackEval-style KITTI preprocessing with this protocol's flags.

    Tracker rows of the neighbouring class (``Van`` rows in the Car results) are left out
    first, as TrackEval loads only the evaluated class's rows. Per frame, the other tracker
    rows are matched to all ground truth, the HOTA-only distractors too (``Person`` for
    Pedestrian: ``data.distractor_*``; similarity below ``hota_match_threshold`` does not
    count); tracker rows matched to ignored ground truth or a distractor are removed, and
    unmatched ones that are ignorable (too small, inside a DontCare region) are removed.
    Ignored ground truth and the distractors are removed.
    """
    other = (
        data.tr_other_class
        if data.tr_other_class is not None
        else np.zeros(data.tr_frame.shape[0], dtype=bool)
    )
    # the distractors as ignored ground truth rows after the G class rows, for the matching
    n_gt = data.gt_frame.shape[0]
    gt_frame, gt_ignored = data.gt_frame, data.gt_ignored
    pair_gt, pair_tr, pair_sim = data.pair_gt, data.pair_tr, data.pair_sim
    if data.distractor_frame is not None:
        assert data.distractor_pair_gt is not None and data.distractor_pair_tr is not None
        assert data.distractor_pair_sim is not None
        gt_frame = np.concatenate([gt_frame, data.distractor_frame])
        gt_ignored = np.concatenate([gt_ignored, np.ones(data.distractor_frame.size, bool)])
        pair_gt = np.concatenate([pair_gt, n_gt + data.distractor_pair_gt])
        pair_tr = np.concatenate([pair_tr, data.distractor_pair_tr])
        pair_sim = np.concatenate([pair_sim, data.distractor_pair_sim])
    cand = (pair_sim >= protocol.hota_match_threshold - _EPS) & ~other[pair_tr]
    idx = np.flatnonzero(cand)
    chosen = assign_pairs(
        gt_frame[pair_gt[idx]],
        pair_gt[idx],
        pair_tr[idx],
        -pair_sim[idx],
        maximise_cardinality=False,
    )
    picked = idx[chosen]
    n_tr = data.tr_frame.shape[0]
    matched = np.zeros(n_tr, dtype=bool)
    matched[pair_tr[picked]] = True
    matched_to_ignored = np.zeros(n_tr, dtype=bool)
    matched_to_ignored[pair_tr[picked]] = gt_ignored[pair_gt[picked]]
    keep_tr = ~other & ~matched_to_ignored & (matched | ~data.tr_ignorable)
    keep_gt = ~data.gt_ignored
    new_gt = np.cumsum(keep_gt) - 1
    new_tr = np.cumsum(keep_tr) - 1
    pk = keep_gt[data.pair_gt] & keep_tr[data.pair_tr]
    return HotaInputs(
        gt_frame=data.gt_frame[keep_gt],
        gt_id=data.gt_track[keep_gt],
        tr_frame=data.tr_frame[keep_tr],
        tr_id=data.tr_track[keep_tr],
        pair_gt=new_gt[data.pair_gt[pk]],
        pair_tr=new_tr[data.pair_tr[pk]],
        pair_sim=data.pair_sim[pk],
    )


def compute_hota(inp: HotaInputs) -> HotaResult:
    """HOTA and its sub-metrics from preprocessed rows (see module docstring)."""
    n_gt_rows, n_tr_rows = inp.gt_frame.shape[0], inp.tr_frame.shape[0]
    gt_ids, gt_id_idx = np.unique(inp.gt_id, return_inverse=True)
    tr_ids, tr_id_idx = np.unique(inp.tr_id, return_inverse=True)
    gt_count = np.bincount(gt_id_idx, minlength=gt_ids.size).astype(np.float64)
    tr_count = np.bincount(tr_id_idx, minlength=tr_ids.size).astype(np.float64)

    sim = inp.pair_sim
    row_sum = np.bincount(inp.pair_gt, weights=sim, minlength=n_gt_rows)
    col_sum = np.bincount(inp.pair_tr, weights=sim, minlength=n_tr_rows)
    denom = row_sum[inp.pair_gt] + col_sum[inp.pair_tr] - sim
    sim_iou = np.where(denom > _EPS, sim / np.where(denom > _EPS, denom, 1.0), 0.0)
    pg_id = gt_id_idx[inp.pair_gt]
    pt_id = tr_id_idx[inp.pair_tr]
    key = pg_id.astype(np.int64) * max(tr_ids.size, 1) + pt_id
    ukey, key_idx = np.unique(key, return_inverse=True)
    potential = np.bincount(key_idx, weights=sim_iou, minlength=ukey.size)
    k_gt = ukey // max(tr_ids.size, 1)
    k_tr = ukey % max(tr_ids.size, 1)
    alignment = potential / (gt_count[k_gt] + tr_count[k_tr] - potential)

    score = alignment[key_idx] * sim
    positive = np.flatnonzero(score > 0)
    chosen = assign_pairs(
        inp.gt_frame[inp.pair_gt[positive]],
        inp.pair_gt[positive],
        inp.pair_tr[positive],
        -score[positive],
        maximise_cardinality=False,
    )
    m = positive[chosen]
    m_sim = sim[m]
    hit = m_sim[None, :] >= ALPHAS[:, None] - _EPS  # (A, M)
    tp = hit.sum(axis=1).astype(np.float64)
    fn = n_gt_rows - tp
    fp = n_tr_rows - tp
    loc_sum = (hit * m_sim[None, :]).sum(axis=1)
    match_counts = (
        np.stack(
            [
                np.bincount(key_idx[m], weights=h.astype(np.float64), minlength=ukey.size)
                for h in hit
            ]
        )
        if ukey.size
        else np.zeros((ALPHAS.size, 0))
    )
    union = gt_count[k_gt][None, :] + tr_count[k_tr][None, :] - match_counts
    ass_a = (match_counts * (match_counts / np.maximum(1.0, union))).sum(axis=1) / np.maximum(
        1.0, tp
    )
    ass_re = (match_counts * (match_counts / np.maximum(1.0, gt_count[k_gt][None, :]))).sum(
        axis=1
    ) / np.maximum(1.0, tp)
    ass_pr = (match_counts * (match_counts / np.maximum(1.0, tr_count[k_tr][None, :]))).sum(
        axis=1
    ) / np.maximum(1.0, tp)
    loc_a = np.maximum(1e-10, loc_sum) / np.maximum(1e-10, tp)
    det_re = tp / np.maximum(1.0, tp + fn)
    det_pr = tp / np.maximum(1.0, tp + fp)
    det_a = tp / np.maximum(1.0, tp + fn + fp)
    hota = np.sqrt(det_a * ass_a)
    per = {
        "HOTA": hota,
        "DetA": det_a,
        "AssA": ass_a,
        "LocA": loc_a,
        "DetRe": det_re,
        "DetPr": det_pr,
        "AssRe": ass_re,
        "AssPr": ass_pr,
        "HOTA_TP": tp,
        "HOTA_FN": fn,
        "HOTA_FP": fp,
    }
    return HotaResult(
        HOTA=float(hota.mean()),
        DetA=float(det_a.mean()),
        AssA=float(ass_a.mean()),
        LocA=float(loc_a.mean()),
        DetRe=float(det_re.mean()),
        DetPr=float(det_pr.mean()),
        AssRe=float(ass_re.mean()),
        AssPr=float(ass_pr.mean()),
        per_alpha=per,
    )
