"""Tracking rules no other test pins, on hand-built sequences of one car whose tracker boxes
are its ground-truth boxes (3D IoU 1: a hit at every HOTA alpha and CLEAR overlap).

- HOTA (Luiten et al. 2020; TrackEval ``metrics/hota.py``): DetRe = TP / (TP + FN),
  DetPr = TP / (TP + FP), AssRe = mean over TPs of TPA / (TPA + FNA) = |matches of the pair| /
  |gt id's detections|, AssPr the same over the tracker id's detections.
- CLEAR (KITTI tracking devkit): MOTA = 1 - (FN + FP + IDS) / n_gt, MODA = 1 - (FN + FP) / n_gt
  (no ID switches); a trajectory tracked in a share r of its (non-ignored) frames is mostly
  tracked when r > 0.8, mostly lost when r < 0.2, partly tracked otherwise.
"""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.tracking import (
    KittiMotProtocol,
    compute_hota,
    hota_inputs,
    prepare_class_data,
)
from drivestack.eval.tracking.clear import ClearResult, clear_pass
from drivestack.eval.tracking.hota import HotaInputs, HotaResult
from drivestack.ingest.kitti_format import KittiObjects

PROTO = KittiMotProtocol()
BOX2D = (500.0, 150.0, 600.0, 250.0)  # 100 px tall: well above the 25 px minimum
SUB_METRICS = ("DetRe", "DetPr", "AssRe", "AssPr")


def _rows(frames: list[int], track_ids: list[int], score: float) -> KittiObjects:
    """One car box 20 m ahead (the same box in every frame) at ``frames`` with ``track_ids``."""
    n = len(frames)
    return KittiObjects(
        frame=np.array(frames, dtype=np.int64),
        track_id=np.array(track_ids, dtype=np.int64),
        type_name=np.array(["Car"] * n),
        truncation=np.zeros(n),
        occlusion=np.zeros(n, dtype=np.int64),
        alpha_rad=np.zeros(n),
        box2d_xyxy_px=np.tile(BOX2D, (n, 1)),
        hwl_m=np.tile([1.5, 1.6, 3.9], (n, 1)),
        location_m=np.tile([0.0, 1.6, 20.0], (n, 1)),
        rotation_y_rad=np.zeros(n),
        score=np.full(n, score),
    )


def _sequence(
    n_frames: int, tracker: dict[int, int]
) -> tuple[str, int, KittiObjects, KittiObjects]:
    """Ground-truth car 0 in every frame; ``tracker``: frame -> tracker id on it."""
    gt = _rows(list(range(n_frames)), [0] * n_frames, 0.0)
    tr = _rows(list(tracker), list(tracker.values()), 1.0)
    return ("0000", n_frames, gt, tr)


def _clear(n_frames: int, tracker: dict[int, int]) -> ClearResult:
    """One CLEAR pass over all tracks (the devkit's first pass)."""
    data = prepare_class_data("Car", [_sequence(n_frames, tracker)], PROTO)
    valid = np.zeros(data.tr_frame.shape[0], dtype=bool)
    result, _ = clear_pass(data, PROTO, -10000.0, 1.0, valid)
    return result


def _hota(n_frames: int, tracker: dict[int, int]) -> tuple[HotaResult, HotaInputs]:
    data = prepare_class_data("Car", [_sequence(n_frames, tracker)], PROTO)
    inp = hota_inputs(data, PROTO)
    return compute_hota(inp), inp


# frame -> tracker id
SPLIT = {0: 10, 1: 10, 2: 11, 3: 11}  # one car, its track split in two halves
GAP = {0: 10, 1: 10, 3: 10}  # one car, one track, frame 2 of 4 missed


def test_hota_association_recall_and_precision_of_a_split_track() -> None:
    h, _ = _hota(4, SPLIT)
    # TP 4 (IoU 1 >= every alpha). gt id 0: 4 detections; tracker ids 10 and 11: 2 each;
    # pairs (0, 10) and (0, 11) matched 2 times each.
    # AssRe = (2 * 2/4 + 2 * 2/4) / 4 = 0.5: each half of the track recalls half of the car
    # AssPr = (2 * 2/2 + 2 * 2/2) / 4 = 1.0: each track holds nothing but this car
    assert h.AssRe == pytest.approx(0.5)
    assert h.AssPr == pytest.approx(1.0)
    # AssA = (2 * 2/(4 + 2 - 2) + 2 * 2/4) / 4 = 0.5; every detection found
    assert h.AssA == pytest.approx(0.5)
    assert (h.DetRe, h.DetPr) == (pytest.approx(1.0), pytest.approx(1.0))


def test_hota_detection_recall_and_precision_with_a_gap() -> None:
    h, _ = _hota(4, GAP)
    # TP 3, FN 1 (frame 2), FP 0: DetRe = 3 / (3 + 1) = 0.75, DetPr = 3 / (3 + 0) = 1.0
    assert h.DetRe == pytest.approx(0.75)
    assert h.DetPr == pytest.approx(1.0)
    # DetA = 3 / (3 + 1 + 0) = 0.75; one track on one car: AssRe = 3/4, AssPr = 3/3
    assert h.DetA == pytest.approx(0.75)
    assert (h.AssRe, h.AssPr) == (pytest.approx(0.75), pytest.approx(1.0))


def _trackeval_sub_metrics(inp: HotaInputs, n_frames: int) -> dict[str, float]:
    """TrackEval's HOTA sub-metrics (means over alphas) of one sequence of frames 0..n-1."""
    trackeval = pytest.importorskip("trackeval")
    gt_ids, gt_local = np.unique(inp.gt_id, return_inverse=True)
    tr_ids, tr_local = np.unique(inp.tr_id, return_inverse=True)
    data: dict[str, object] = {
        "num_gt_dets": int(inp.gt_frame.size),
        "num_tracker_dets": int(inp.tr_frame.size),
        "num_gt_ids": int(gt_ids.size),
        "num_tracker_ids": int(tr_ids.size),
    }
    gt_per_frame, tr_per_frame, sim_per_frame = [], [], []
    for f in range(n_frames):
        gi = np.flatnonzero(inp.gt_frame == f)
        ti = np.flatnonzero(inp.tr_frame == f)
        sim = np.zeros((gi.size, ti.size))
        for g, t, s in zip(inp.pair_gt, inp.pair_tr, inp.pair_sim, strict=True):
            if g in gi and t in ti:
                sim[np.flatnonzero(gi == g)[0], np.flatnonzero(ti == t)[0]] = s
        gt_per_frame.append(gt_local[gi])
        tr_per_frame.append(tr_local[ti])
        sim_per_frame.append(sim)
    data.update(gt_ids=gt_per_frame, tracker_ids=tr_per_frame, similarity_scores=sim_per_frame)
    res = trackeval.metrics.HOTA().eval_sequence(data)
    return {k: float(np.mean(res[k])) for k in SUB_METRICS}


@pytest.mark.parametrize("tracker", [SPLIT, GAP], ids=["split_track", "gap"])
def test_hota_sub_metrics_equal_trackeval(tracker: dict[int, int]) -> None:
    ours, inp = _hota(4, tracker)
    ref = _trackeval_sub_metrics(inp, 4)
    for key in SUB_METRICS:
        assert getattr(ours, key) == pytest.approx(ref[key], abs=1e-12), key


def test_moda_leaves_id_switches_out() -> None:
    r = _clear(4, SPLIT)
    assert (r.TP, r.FN, r.FP, r.IDS) == (4, 0, 0, 1)
    # MOTA = 1 - (0 + 0 + 1) / 4 = 0.75; MODA = 1 - (0 + 0) / 4 = 1.0
    assert (pytest.approx(0.75), pytest.approx(1.0)) == (r.MOTA, r.MODA)


def test_a_trajectory_tracked_in_exactly_80_percent_is_partly_tracked() -> None:
    # 5 frames, tracked in frames 0..3: r = 4 / 5 = 0.8, not > 0.8 (mostly tracked) nor
    # < 0.2 (mostly lost): partly tracked, (MT, PT, ML) = (0, 1, 0) of 1 trajectory
    r = _clear(5, {0: 7, 1: 7, 2: 7, 3: 7})
    assert (r.TP, r.FN) == (4, 1)
    assert (r.MT, r.PT, r.ML) == (0.0, 1.0, 0.0)
