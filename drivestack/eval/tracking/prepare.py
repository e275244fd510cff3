"""Load ground truth and tracker rows of one class and compute their pairwise similarity once.

Everything downstream (40 recall thresholds, HOTA's 19 alphas) works on the flat arrays and
the sparse list of same-frame pairs with non-zero similarity built here, so the expensive
geometry runs once per class instead of once per threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from drivestack.eval.tracking.protocol import (
    HOTA_DISTRACTOR_TYPES,
    KittiMotProtocol,
    class_rule,
)
from drivestack.ingest.kitti_format import KittiObjects, camera_rect_to_zup_array7

_FRAME_SPACING_M = (
    1000.0  # boxes of different frames are spread apart so one kernel call serves a chunk
)
_CHUNK_FRAMES = 64


@dataclass(frozen=True)
class ClassData:
    """Flat arrays of one class over all evaluated sequences (frame keys are global).

    Ground truth (DontCare excluded), ``G`` rows: ``gt_frame``, ``gt_track`` (global trajectory
    id), ``gt_ignored``. Tracker, ``T`` rows: ``tr_frame``, ``tr_track`` (global id),
    ``tr_score`` (mean over the track, as the devkit uses), ``tr_ignorable`` (neighbouring
    class, too small or inside DontCare, if unmatched). Per track (``K`` global tracks):
    ``track_len`` rows and ``track_mean`` (left-to-right float sum / count, bit-identical to the
    devkit's ``sum(list) / float(len(list))``).
    Pairs, ``P`` rows: same-frame ``(pair_gt, pair_tr)`` with similarity ``pair_sim > 0``.
    """

    cls: str
    sequence_names: tuple[str, ...]
    n_frames_devkit: int
    n_gt_trajectories: int
    gt_frame: np.ndarray
    gt_track: np.ndarray
    gt_ignored: np.ndarray
    tr_frame: np.ndarray
    tr_track: np.ndarray
    tr_score: np.ndarray
    tr_ignorable: np.ndarray
    track_len: np.ndarray
    track_mean: np.ndarray
    pair_gt: np.ndarray
    pair_tr: np.ndarray
    pair_sim: np.ndarray
    #: ``(T,)`` the tracker rows of the neighbouring class (``Van`` for Car): the devkit's
    #: CLEAR figures score them; TrackEval's HOTA does not load them (None: none such)
    tr_other_class: np.ndarray | None = None
    #: HOTA-only distractor ground truth (:data:`HOTA_DISTRACTOR_TYPES`: ``Person`` for
    #: Pedestrian), which the CLEAR figures never see: ``(D,)`` global frames and their
    #: same-frame pairs with the tracker rows, ``(Q,)`` ``distractor_pair_gt`` (into the D
    #: rows), ``distractor_pair_tr`` and ``distractor_pair_sim`` (None: none such)
    distractor_frame: np.ndarray | None = None
    distractor_pair_gt: np.ndarray | None = None
    distractor_pair_tr: np.ndarray | None = None
    distractor_pair_sim: np.ndarray | None = None


def same_frame_pairs(frame_a: np.ndarray, frame_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ``(i, j)`` with ``frame_a[i] == frame_b[j]``: two ``(P,)`` int64 arrays, ``i`` ascending."""
    order_b = np.argsort(frame_b, kind="stable")
    sorted_b = frame_b[order_b]
    start = np.searchsorted(sorted_b, frame_a, side="left")
    stop = np.searchsorted(sorted_b, frame_a, side="right")
    counts = stop - start
    ia = np.repeat(np.arange(frame_a.shape[0]), counts)
    offsets = np.arange(ia.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    ib = order_b[np.repeat(start, counts) + offsets]
    return ia.astype(np.int64), ib.astype(np.int64)


def box2d_overlap(a_xyxy: np.ndarray, b_xyxy: np.ndarray, criterion: str = "union") -> np.ndarray:
    """Element-wise 2D overlap of ``(P, 4)`` box pairs as the KITTI devkit computes it.

    ``criterion="union"``: IoU; ``"a"``: intersection over the area of ``a``. 0 when the
    boxes do not overlap with positive width and height.
    """
    w = np.minimum(a_xyxy[:, 2], b_xyxy[:, 2]) - np.maximum(a_xyxy[:, 0], b_xyxy[:, 0])
    h = np.minimum(a_xyxy[:, 3], b_xyxy[:, 3]) - np.maximum(a_xyxy[:, 1], b_xyxy[:, 1])
    ok = (w > 0) & (h > 0)
    inter = np.where(ok, w * h, 0.0)
    area_a = (a_xyxy[:, 2] - a_xyxy[:, 0]) * (a_xyxy[:, 3] - a_xyxy[:, 1])
    if criterion == "a":
        denom = area_a
    else:
        area_b = (b_xyxy[:, 2] - b_xyxy[:, 0]) * (b_xyxy[:, 3] - b_xyxy[:, 1])
        denom = area_a + area_b - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, inter / np.where(denom != 0, denom, 1.0), 0.0)


def _pair_similarity_3d(
    gt_boxes: np.ndarray, gt_frame: np.ndarray, tr_boxes: np.ndarray, tr_frame: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """3D IoU of all same-frame pairs with IoU > 0, via chunked kernel calls."""
    from drivestack.kernels import box_iou_3d

    out_g, out_t, out_s = [], [], []
    if gt_boxes.shape[0] == 0 or tr_boxes.shape[0] == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    frames = np.union1d(gt_frame, tr_frame)
    for c0 in range(0, frames.shape[0], _CHUNK_FRAMES):
        chunk = frames[c0 : c0 + _CHUNK_FRAMES]
        gi = np.flatnonzero(np.isin(gt_frame, chunk))
        ti = np.flatnonzero(np.isin(tr_frame, chunk))
        if gi.size == 0 or ti.size == 0:
            continue
        g = gt_boxes[gi].copy()
        t = tr_boxes[ti].copy()
        slot_g = np.searchsorted(chunk, gt_frame[gi])
        slot_t = np.searchsorted(chunk, tr_frame[ti])
        g[:, 0] += slot_g * _FRAME_SPACING_M
        t[:, 0] += slot_t * _FRAME_SPACING_M
        iou = np.asarray(box_iou_3d(g, t))
        same = slot_g[:, None] == slot_t[None, :]
        r, c = np.nonzero(same & (iou > 0))
        out_g.append(gi[r])
        out_t.append(ti[c])
        out_s.append(iou[r, c])
    if not out_g:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return np.concatenate(out_g), np.concatenate(out_t), np.concatenate(out_s)


def _type_mask(type_name: np.ndarray, substrings: Sequence[str]) -> np.ndarray:
    lower = np.char.lower(type_name.astype(str))
    mask = np.zeros(lower.shape[0], dtype=bool)
    for s in substrings:
        mask |= np.char.find(lower, s) >= 0
    return mask


def prepare_class_data(
    cls: str,
    sequences: Sequence[tuple[str, int, KittiObjects, KittiObjects]],
    protocol: KittiMotProtocol,
) -> ClassData:
    """Build :class:`ClassData` from ``(name, n_frames, ground_truth, tracker)`` per sequence.

    Raises:
        ValueError: a tracker file repeats a track id within one frame (the devkit refuses it).
    """
    loaded, neighbour = class_rule(cls)
    distractor = HOTA_DISTRACTOR_TYPES.get(cls.lower())
    gt_parts: list[dict[str, np.ndarray]] = []
    tr_parts: list[dict[str, np.ndarray]] = []
    distractor_parts: list[dict[str, np.ndarray]] = []
    n_traj = 0
    frame_offset = 0
    track_offset = 0
    n_frames_devkit = 0
    for name, n_frames, gt, tr in sequences:
        gt_sel = gt.select(np.flatnonzero(_type_mask(gt.type_name, (*loaded, "dontcare"))))
        gt_sel = gt_sel.select(
            np.flatnonzero(
                (gt_sel.track_id != -1) | (np.char.lower(gt_sel.type_name) == "dontcare")
            )
        )
        tr_sel = tr.select(np.flatnonzero(_type_mask(tr.type_name, loaded) & (tr.track_id != -1)))
        n_alloc = max(
            n_frames + 1,
            int(gt_sel.frame.max(initial=-1)) + 1,
            int(tr_sel.frame.max(initial=-1)) + 1,
        )
        n_frames_devkit += n_frames + 1
        if len(tr_sel):  # (frame, track_id) pairs compared as pairs: ids may be any int64
            key = np.stack([tr_sel.frame, tr_sel.track_id], axis=1)
            uniq, counts = np.unique(key, axis=0, return_counts=True)
            if np.any(counts > 1):
                dup = np.flatnonzero(np.all(key == uniq[np.argmax(counts > 1)], axis=1))[0]
                raise ValueError(
                    f"{tr.path or name}: frame {tr_sel.frame[dup]}: track id {tr_sel.track_id[dup]} occurs more than once"
                )
        is_dc = np.char.lower(gt_sel.type_name) == "dontcare"
        g = gt_sel.select(np.flatnonzero(~is_dc))
        dc = gt_sel.select(np.flatnonzero(is_dc))
        g_lower = np.char.lower(g.type_name)
        ignored = (
            (g.occlusion > protocol.max_occlusion)
            | (np.trunc(g.truncation) > protocol.max_truncation)
            | ((g_lower == neighbour) if neighbour else np.zeros(len(g), dtype=bool))
        )
        uniq_ids, traj_local = np.unique(g.track_id, return_inverse=True)
        n_traj += uniq_ids.size
        # tracker: mean score per track id over the sequence (naive sequential sum in frame
        # order, as Python's sum() in the devkit); static ignore flags
        tr_sel = tr_sel.select(np.argsort(tr_sel.frame, kind="stable"))
        t_ids, t_local = np.unique(tr_sel.track_id, return_inverse=True)
        counts_t = np.bincount(t_local, minlength=t_ids.size)
        by_track = np.argsort(t_local, kind="stable")
        score_lists = np.split(tr_sel.score[by_track], np.cumsum(counts_t)[:-1])
        track_mean = (
            np.array([sum(v.tolist()) / float(len(v)) for v in score_lists])
            if t_ids.size
            else np.zeros(0)
        )
        mean_score = track_mean[t_local] if t_ids.size else np.zeros(0)
        height = np.abs(tr_sel.box2d_xyxy_px[:, 1] - tr_sel.box2d_xyxy_px[:, 3])
        t_lower = np.char.lower(tr_sel.type_name)
        ignorable = height <= protocol.min_height_px
        if neighbour:
            ignorable |= t_lower == neighbour
        ia, ib = same_frame_pairs(tr_sel.frame, dc.frame)
        if ia.size:
            ioa = box2d_overlap(tr_sel.box2d_xyxy_px[ia], dc.box2d_xyxy_px[ib], "a")
            inside = np.zeros(len(tr_sel), dtype=bool)
            np.logical_or.at(inside, ia[ioa > protocol.dontcare_ioa], True)
            ignorable |= inside
        if distractor is not None:
            # only this sequence's frames: a row past them would land in the next one's
            d = gt.select(
                np.flatnonzero((np.char.lower(gt.type_name) == distractor) & (gt.frame < n_alloc))
            )
            distractor_parts.append(
                {
                    "frame": d.frame + frame_offset,
                    "box7": camera_rect_to_zup_array7(d.location_m, d.hwl_m, d.rotation_y_rad),
                    "box2d": d.box2d_xyxy_px,
                }
            )
        gt_parts.append(
            {
                "frame": g.frame + frame_offset,
                "track": traj_local + n_traj - uniq_ids.size,
                "ignored": ignored,
                "box7": camera_rect_to_zup_array7(g.location_m, g.hwl_m, g.rotation_y_rad),
                "box2d": g.box2d_xyxy_px,
            }
        )
        tr_parts.append(
            {
                "frame": tr_sel.frame + frame_offset,
                "track": t_local + track_offset,
                "score": mean_score,
                "ignorable": ignorable,
                "other_class": (t_lower == neighbour) if neighbour else np.zeros(len(tr_sel), bool),
                "box7": camera_rect_to_zup_array7(
                    tr_sel.location_m, tr_sel.hwl_m, tr_sel.rotation_y_rad
                ),
                "box2d": tr_sel.box2d_xyxy_px,
                "track_len": counts_t,
                "track_mean": track_mean,
            }
        )
        frame_offset += n_alloc
        track_offset += t_ids.size

    def cat(parts: list[dict[str, np.ndarray]], key: str, width: int = 0) -> np.ndarray:
        if not parts:
            return np.zeros((0, width) if width else 0)
        return np.concatenate([p[key] for p in parts])

    gt_frame = cat(gt_parts, "frame").astype(np.int64)
    tr_frame = cat(tr_parts, "frame").astype(np.int64)
    pg, pt, ps = _pair_similarity(gt_parts, gt_frame, tr_parts, tr_frame, protocol)
    distractors: dict[str, np.ndarray | None] = dict.fromkeys(
        ("frame", "pair_gt", "pair_tr", "pair_sim")
    )
    if distractor is not None:
        d_frame = cat(distractor_parts, "frame").astype(np.int64)
        dg, dt, ds = _pair_similarity(distractor_parts, d_frame, tr_parts, tr_frame, protocol)
        distractors = {"frame": d_frame, "pair_gt": dg, "pair_tr": dt, "pair_sim": ds}
    return ClassData(
        cls=cls,
        sequence_names=tuple(s[0] for s in sequences),
        n_frames_devkit=n_frames_devkit,
        n_gt_trajectories=n_traj,
        gt_frame=gt_frame,
        gt_track=cat(gt_parts, "track").astype(np.int64),
        gt_ignored=cat(gt_parts, "ignored").astype(bool),
        tr_frame=tr_frame,
        tr_track=cat(tr_parts, "track").astype(np.int64),
        tr_score=cat(tr_parts, "score").astype(np.float64),
        tr_ignorable=cat(tr_parts, "ignorable").astype(bool),
        tr_other_class=cat(tr_parts, "other_class").astype(bool),
        track_len=cat(tr_parts, "track_len").astype(np.int64),
        track_mean=cat(tr_parts, "track_mean").astype(np.float64),
        pair_gt=pg.astype(np.int64),
        pair_tr=pt.astype(np.int64),
        pair_sim=ps.astype(np.float64),
        distractor_frame=distractors["frame"],
        distractor_pair_gt=distractors["pair_gt"],
        distractor_pair_tr=distractors["pair_tr"],
        distractor_pair_sim=distractors["pair_sim"],
    )


def _pair_similarity(
    gt_parts: list[dict[str, np.ndarray]],
    gt_frame: np.ndarray,
    tr_parts: list[dict[str, np.ndarray]],
    tr_frame: np.ndarray,
    protocol: KittiMotProtocol,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same-frame ``(gt, tracker)`` pairs with similarity > 0 under ``protocol``'s
    similarity: ``(P,)`` int64 gt and tracker rows and ``(P,)`` float64 similarity."""

    def cat(parts: list[dict[str, np.ndarray]], key: str, width: int) -> np.ndarray:
        return np.concatenate([p[key] for p in parts]) if parts else np.zeros((0, width))

    if protocol.similarity == "iou_3d":
        pg, pt, ps = _pair_similarity_3d(
            cat(gt_parts, "box7", 7), gt_frame, cat(tr_parts, "box7", 7), tr_frame
        )
    else:
        pg, pt = same_frame_pairs(gt_frame, tr_frame)
        ps = box2d_overlap(cat(gt_parts, "box2d", 4)[pg], cat(tr_parts, "box2d", 4)[pt])
        keep = ps > 0
        pg, pt, ps = pg[keep], pt[keep], ps[keep]
    return pg.astype(np.int64), pt.astype(np.int64), ps.astype(np.float64)


def assign_pairs(
    pair_frame: np.ndarray,
    pair_gt: np.ndarray,
    pair_tr: np.ndarray,
    pair_cost: np.ndarray,
    *,
    maximise_cardinality: bool = True,
) -> np.ndarray:
    """Per-frame min-cost assignment over candidate pairs.

    Candidates are the allowed ``(gt, tracker)`` pairs (``(P,)`` arrays, global indices).
    With ``maximise_cardinality`` the assignment first maximises the number of matches, then
    minimises the total cost (what the devkit's Hungarian on a matrix with 1e9 for gated pairs
    does); without it, it only minimises the total cost with non-candidates costing 0 (so
    only negative costs are worth taking, as in TrackEval's ``-similarity``). Pairs whose
    gt and tracker occur in no other candidate are matched directly; only frames with
    conflicts run :func:`scipy.optimize.linear_sum_assignment`.

    Returns:
        ``(P,)`` bool, True for the chosen pairs.
    """
    chosen = np.zeros(pair_gt.shape[0], dtype=bool)
    if pair_gt.size == 0:
        return chosen
    _, g_inv, g_cnt = np.unique(pair_gt, return_inverse=True, return_counts=True)
    _, t_inv, t_cnt = np.unique(pair_tr, return_inverse=True, return_counts=True)
    simple = (g_cnt[g_inv] == 1) & (t_cnt[t_inv] == 1)
    chosen[simple] = True
    rest = np.flatnonzero(~simple)
    if rest.size == 0:
        return chosen
    order = rest[np.argsort(pair_frame[rest], kind="stable")]
    frames = pair_frame[order]
    bounds = np.flatnonzero(np.diff(frames)) + 1
    for block in np.split(order, bounds):
        gu, gi = np.unique(pair_gt[block], return_inverse=True)
        tu, ti = np.unique(pair_tr[block], return_inverse=True)
        cost = np.full((gu.size, tu.size), 1e9 if maximise_cardinality else 0.0)
        cost[gi, ti] = pair_cost[block]
        rows, cols = linear_sum_assignment(cost)
        lookup = np.full((gu.size, tu.size), -1, dtype=np.int64)
        lookup[gi, ti] = block
        picked = lookup[rows, cols]
        chosen[picked[picked >= 0]] = True
    return chosen
