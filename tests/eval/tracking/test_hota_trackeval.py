"""HOTA agrees with the ``trackeval`` package given the same preprocessed data (dev dependency)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.eval.tracking import KittiMotProtocol, compute_hota, hota_inputs, prepare_class_data
from drivestack.eval.tracking.hota import HotaInputs
from drivestack.eval.tracking.kitti import load_ground_truth, load_results
from drivestack.ingest.kitti_tracking import read_seqmap

trackeval = pytest.importorskip("trackeval")


def _trackeval_hota(inp: HotaInputs, seq_frames: list[np.ndarray]) -> dict[str, float]:
    """Run trackeval's HOTA per sequence (frames given as global-frame arrays) and combine."""
    metric = trackeval.metrics.HOTA()
    per_seq = {}
    for k, frames in enumerate(seq_frames):
        gt_rows = np.flatnonzero(np.isin(inp.gt_frame, frames))
        tr_rows = np.flatnonzero(np.isin(inp.tr_frame, frames))
        gt_ids, gt_local = np.unique(inp.gt_id[gt_rows], return_inverse=True)
        tr_ids, tr_local = np.unique(inp.tr_id[tr_rows], return_inverse=True)
        g_pos = np.full(inp.gt_frame.shape[0], -1)
        g_pos[gt_rows] = np.arange(gt_rows.size)
        t_pos = np.full(inp.tr_frame.shape[0], -1)
        t_pos[tr_rows] = np.arange(tr_rows.size)
        data = {"gt_ids": [], "tracker_ids": [], "similarity_scores": []}
        for f in frames:
            gi = gt_rows[inp.gt_frame[gt_rows] == f]
            ti = tr_rows[inp.tr_frame[tr_rows] == f]
            sim = np.zeros((gi.size, ti.size))
            sel = np.isin(inp.pair_gt, gi) & np.isin(inp.pair_tr, ti)
            rmap = {g: i for i, g in enumerate(gi)}
            cmap = {t: j for j, t in enumerate(ti)}
            for g, t, s in zip(inp.pair_gt[sel], inp.pair_tr[sel], inp.pair_sim[sel], strict=True):
                sim[rmap[g], cmap[t]] = s
            data["gt_ids"].append(gt_local[g_pos[gi]])
            data["tracker_ids"].append(tr_local[t_pos[ti]])
            data["similarity_scores"].append(sim)
        data.update(
            num_gt_dets=int(gt_rows.size),
            num_tracker_dets=int(tr_rows.size),
            num_gt_ids=int(gt_ids.size),
            num_tracker_ids=int(tr_ids.size),
        )
        per_seq[str(k)] = metric.eval_sequence(data)
    combined = metric.combine_sequences(per_seq)
    return {k: float(np.mean(combined[k])) for k in ("HOTA", "DetA", "AssA", "LocA")}


@pytest.mark.data
@pytest.mark.slow
def test_hota_matches_trackeval_on_reference_outputs(shared_data: Path) -> None:
    root = shared_data / "kitti_tracking"
    seqmap = read_seqmap(root / "seqmaps" / "evaluate_tracking.seqmap.val")[1:4]
    gt = load_ground_truth(root / "training" / "label_02", seqmap)
    res = load_results(root / "reference_outputs" / "ab3dmot_2020", "Car", seqmap)
    proto = KittiMotProtocol()
    data = prepare_class_data(
        "Car", [(e.name, e.n_frames, gt[e.name], res[e.name]) for e in seqmap], proto
    )
    inp = hota_inputs(data, proto)
    ours = compute_hota(inp)
    offsets = np.cumsum([0] + [e.n_frames + 1 for e in seqmap])
    seq_frames = [np.arange(offsets[i], offsets[i + 1]) for i in range(len(seqmap))]
    ref = _trackeval_hota(inp, seq_frames)
    assert pytest.approx(ref["HOTA"], abs=1e-9) == ours.HOTA
    assert ours.DetA == pytest.approx(ref["DetA"], abs=1e-9)
    assert ours.AssA == pytest.approx(ref["AssA"], abs=1e-9)
    assert ours.LocA == pytest.approx(ref["LocA"], abs=1e-9)
    assert 0.2 < ours.HOTA < 0.9
