"""Tracking metrics of a replay against labelled ids (drivestack/replay/track_score.py):
hand-built sequences with hand-computed CLEAR-MOT figures, and every figure against the
``trackeval`` package's CLEAR and HOTA on random sequences scored with the same BEV IoUs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from drivestack.core.frames import EGO
from drivestack.kernels import box_iou_bev
from drivestack.replay.track_score import (
    HOTA_KEYS,
    IOU_THRESHOLD,
    TrackScorer,
    tracking_lines,
)
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.tracks import Tracks

CAR, VAN, CYC = int(ObjectClass.CAR), int(ObjectClass.VAN), int(ObjectClass.CYCLIST)


def _boxes(rows: list[tuple[float, int]], t: int = 0) -> Boxes3D:
    """Boxes 4 m x 2 m x 1.5 m, yaw 0, centred at ``(x, 0)``, of class ``label``."""
    arr = np.array([[x, 0.0, 0.75, 4.0, 2.0, 1.5, 0.0] for x, _ in rows]).reshape(-1, 7)
    return Boxes3D.from_array7(arr, EGO, t, label=[c for _, c in rows])


def _tracks(rows: list[tuple[int, float, int]], t: int = 0) -> Tracks:
    """``(track id, x, class)`` rows."""
    return Tracks(
        np.array([i for i, _, _ in rows], dtype=np.int64), _boxes([(x, c) for _, x, c in rows], t)
    )


def _labels(rows: list[tuple[str, float, int]], t: int = 0) -> tuple[Boxes3D, tuple[str, ...]]:
    """``(label id, x, class)`` rows: the labels and their ids."""
    return _boxes([(x, c) for _, x, c in rows], t), tuple(i for i, _, _ in rows)


def _drive() -> TrackScorer:
    """8 frames: car ``a`` at x=0 tracked by track 1 (frames 0-2), missed at frame 3 (a false
    car track 9 far away there), tracked by track 2 (frames 4-7): one ID switch, one
    fragmentation; car ``b`` at x=40 never tracked; a van ``v`` at x=20 with car track 5 on it
    in every frame (neither true nor false); a cyclist track 7 at frame 0 where nothing is
    labelled. A frame without label ids between frames 5 and 6 (track 3 on ``a`` there)
    changes nothing."""
    scorer = TrackScorer()
    for k in range(8):
        labels, ids = _labels([("a", 0.0, CAR), ("b", 40.0, CAR), ("v", 20.0, VAN)], k)
        on_a = [] if k == 3 else [(1 if k < 3 else 2, 0.0, CAR)]
        rows = [*on_a, (5, 20.0, CAR)]
        if k == 3:
            rows.append((9, -40.0, CAR))
        if k == 0:
            rows.append((7, 60.0, CYC))
        scorer.add(_tracks(rows, k), labels, ids)
        if k == 5:
            scorer.add(_tracks([(3, 0.0, CAR)], k), labels, None)
    return scorer


def test_hand_built_drive_figures() -> None:
    m = _drive().metrics()
    assert m["frames_scored"] == 8 and m["frames_without_label_ids"] == 1
    assert m["iou_threshold"] == IOU_THRESHOLD == 0.5
    car = m["by_class"]["car"]
    # 16 car label boxes; a matched in 7 frames; FP: track 9 once; IDSW at frame 4
    assert (car["TP"], car["FN"], car["FP"], car["IDSW"], car["Frag"]) == (7, 9, 1, 1, 1)
    assert car["MOTA"] == pytest.approx((7 - 1 - 1) / 16)
    assert car["MODA"] == pytest.approx((7 - 1) / 16)
    assert car["MOTP"] == pytest.approx(1.0)
    assert (car["MT"], car["PT"], car["ML"]) == (1, 0, 1)  # a: 7/8 > 0.8; b: never
    assert (car["n_labels"], car["n_tracks"]) == (2, 3)  # tracks 1, 2, 9 (5 is on the van)
    assert (car["label_boxes"], car["track_boxes"]) == (16, 8)
    assert car["on_ignored_labels"] == 8 and car["outside_labelled_region"] == 0
    cyc = m["by_class"]["cyclist"]
    assert (cyc["FP"], cyc["TP"], cyc["n_tracks"], cyc["label_boxes"]) == (1, 0, 1, 0)
    assert cyc["MOTA"] is None and cyc["MOTP"] is None and cyc["HOTA"] == 0.0
    van = m["by_class"]["van"]
    assert (van["FN"], van["ML"], van["track_boxes"], van["MOTA"]) == (8, 1, 0, 0.0)
    # HOTA with IoU 1 everywhere: DetA = TP / (TP + FN + FP) at every alpha
    assert car["DetA"] == pytest.approx(7 / 17) and car["LocA"] == pytest.approx(1.0)
    # AssA: a's matches, 3 with track 1 (3 rows) and 4 with track 2 (4 rows), a 8 rows
    ass = (3 * 3 / (8 + 3 - 3) + 4 * 4 / (8 + 4 - 4)) / 7
    assert car["AssA"] == pytest.approx(ass) and car["HOTA"] == pytest.approx(np.sqrt(ass * 7 / 17))


def test_lines_name_each_class_and_the_frames_not_scored() -> None:
    lines = tracking_lines(_drive().metrics())
    (car,) = [li for li in lines if li.startswith("  tracking car:")]
    assert "MOTA 0.312" in car and "1 ID switch," in car and "1 fragmentation," in car
    assert "1 false positive," in car and "9 missed" in car and "MT/PT/ML 1/0/1 of 2" in car
    assert "not counted: 8 tracks on van labels" in car
    assert any(
        li.startswith("  tracking cyclist: never labelled, 1 false positive") for li in lines
    )
    assert "  tracking labelled but never tracked: van (8 labels of 1 object)" in lines
    assert lines[-1] == "    tracking: 8 frames scored; not scored: without label ids: 1"
    assert tracking_lines(None) == []


def test_the_previous_match_is_kept_over_a_better_overlap() -> None:
    """TrackEval's continuity bonus: track 1 keeps label a although track 2 fits better."""
    scorer = TrackScorer()
    labels, ids = _labels([("a", 0.0, CAR)])
    scorer.add(_tracks([(1, 0.3, CAR)]), labels, ids)
    scorer.add(_tracks([(1, 0.6, CAR), (2, 0.0, CAR)], 1), labels, ids)
    car = scorer.metrics()["by_class"]["car"]
    assert (car["TP"], car["FP"], car["IDSW"]) == (2, 1, 0)
    iou = [(4 - d) * 2 / (16 - (4 - d) * 2) for d in (0.3, 0.6)]
    assert car["MOTP"] == pytest.approx(np.mean(iou))


def test_below_the_threshold_nothing_matches_and_the_region_leaves_tracks_out() -> None:
    scorer = TrackScorer()
    labels, ids = _labels([("a", 0.0, CAR)])
    # 4 m boxes 1.5 m apart: IoU 2.5 / 5.5 < 0.5; track 2 outside the labelled region
    scorer.add(_tracks([(1, 1.5, CAR), (2, 0.0, CAR)]), labels, ids, np.array([True, False]))
    car = scorer.metrics()["by_class"]["car"]
    assert (car["TP"], car["FP"], car["FN"], car["outside_labelled_region"]) == (0, 1, 1, 1)
    assert car["MOTA"] == -1.0
    assert "1 track outside the labelled region" in tracking_lines(scorer.metrics())[0]


def test_bad_frames_are_refused_naming_what_is_wrong() -> None:
    scorer = TrackScorer()
    labels, _ = _labels([("a", 0.0, CAR), ("b", 9.0, CAR)])
    with pytest.raises(ValueError, match="'a' given twice"):
        scorer.add(_tracks([]), labels, ("a", "a"))
    with pytest.raises(ValueError, match="1 ids for 2 labels"):
        scorer.add(_tracks([]), labels, ("a",))
    other = Boxes3D.from_array7(labels.to_array7(), "lidar_top", 0, label=labels.label)
    with pytest.raises(ValueError, match="labels in frame 'lidar_top', tracks in 'ego'"):
        scorer.add(_tracks([]), other, ("a", "b"))
    with pytest.raises(ValueError, match="region of shape"):
        scorer.add(_tracks([(1, 0.0, CAR)]), labels, ("a", "b"), np.array([True, False]))
    assert scorer.frames_scored == 0


# --- against trackeval ---------------------------------------------------------------------

trackeval = pytest.importorskip("trackeval")


def _random_frames(
    rng: np.random.Generator, n_frames: int
) -> list[tuple[Tracks, Boxes3D, tuple[str, ...]]]:
    """Car labels of up to 5 objects moving slowly, tracks near them with jitter (IoUs on
    both sides of the threshold; some objects tracked well, some badly), id swaps,
    drop-outs and false tracks."""
    start = rng.uniform(-30, 30, size=(5, 2))
    velocity = rng.uniform(-0.5, 0.5, size=(5, 2))
    out = []
    for k in range(n_frames):
        present = np.flatnonzero(rng.random(5) < 0.75)
        centre = start[present] + k * velocity[present]
        gt = np.column_stack(
            [centre, np.full(len(present), 0.75), np.tile([4, 2, 1.5, 0], (len(present), 1))]
        )
        tr_rows, tr_ids = [], []
        for j, row in zip(present, gt, strict=True):
            if rng.random() < (0.97, 0.95, 0.8, 0.5, 0.2)[j]:  # mostly tracked .. mostly lost
                jitter = rng.normal(0, (0.05, 0.1, 0.3, 0.6, 1.0)[j], size=2)
                tr_rows.append([*(row[:2] + jitter), 0.75, 4, 2, 1.5, rng.normal(0, 0.2)])
                tr_ids.append(int(j) + 10 * int(rng.random() < 0.15))  # sometimes another id
        for _ in range(rng.integers(0, 3)):  # false tracks, some near a label
            base = gt[rng.integers(len(gt))][:2] if len(gt) else np.zeros(2)
            tr_rows.append([*(base + rng.normal(0, 2.0, size=2)), 0.75, 4, 2, 1.5, 0.0])
            tr_ids.append(int(rng.integers(100, 104)))
        ids, keep = np.unique(tr_ids, return_index=True)
        arr = np.array(tr_rows).reshape(-1, 7)[keep]
        tracks = Tracks(
            ids.astype(np.int64), Boxes3D.from_array7(arr, EGO, k, label=[CAR] * len(keep))
        )
        labels = Boxes3D.from_array7(gt.reshape(-1, 7), EGO, k, label=[CAR] * len(present))
        out.append((tracks, labels, tuple(f"obj{j}" for j in present)))
    return out


def _trackeval_data(frames: list[tuple[Tracks, Boxes3D, tuple[str, ...]]]) -> dict[str, Any]:
    """trackeval's data dict of one sequence, similarities computed here."""
    gt_names = sorted({i for _, _, ids in frames for i in ids})
    tr_names = sorted({int(i) for tr, _, _ in frames for i in tr.track_id})
    data: dict[str, Any] = {"gt_ids": [], "tracker_ids": [], "similarity_scores": []}
    for tracks, labels, ids in frames:
        data["gt_ids"].append(np.array([gt_names.index(i) for i in ids], dtype=int))
        data["tracker_ids"].append(
            np.array([tr_names.index(int(i)) for i in tracks.track_id], dtype=int)
        )
        sim = np.zeros((len(labels), len(tracks)))
        if len(labels) and len(tracks):
            sim = box_iou_bev(labels.to_array7(), tracks.boxes.to_array7())
        data["similarity_scores"].append(sim)
    data.update(
        num_timesteps=len(frames),
        num_gt_ids=len(gt_names),
        num_tracker_ids=len(tr_names),
        num_gt_dets=sum(len(g) for g in data["gt_ids"]),
        num_tracker_dets=sum(len(t) for t in data["tracker_ids"]),
    )
    return data


def test_every_figure_matches_trackeval() -> None:
    totals = dict.fromkeys(("CLR_FP", "IDSW", "Frag", "MT", "PT", "ML"), 0)
    for seed in range(16):
        rng = np.random.default_rng(seed)
        frames = _random_frames(rng, int(rng.integers(5, 40)))
        scorer = TrackScorer()
        for tracks, labels, ids in frames:
            scorer.add(tracks, labels, ids)
        ours = scorer.metrics()["by_class"]["car"]
        data = _trackeval_data(frames)
        clear = trackeval.metrics.CLEAR({"THRESHOLD": IOU_THRESHOLD, "PRINT_CONFIG": False})
        ref = clear.eval_sequence(data)
        for mine, theirs in (
            ("TP", "CLR_TP"),
            ("FP", "CLR_FP"),
            ("FN", "CLR_FN"),
            ("IDSW", "IDSW"),
            ("Frag", "Frag"),
            ("MT", "MT"),
            ("PT", "PT"),
            ("ML", "ML"),
        ):
            assert ours[mine] == ref[theirs], (seed, mine)
        for key in ("MOTA", "MODA"):
            assert ours[key] == pytest.approx(ref[key], abs=1e-9), (seed, key)
        assert ours["MOTP"] == (pytest.approx(ref["MOTP"], abs=1e-9) if ref["CLR_TP"] else None)
        assert ours["n_labels"] == data["num_gt_ids"]
        assert ours["n_tracks"] == data["num_tracker_ids"]
        assert ours["label_boxes"] == data["num_gt_dets"]
        assert ours["track_boxes"] == data["num_tracker_dets"]
        hota = trackeval.metrics.HOTA().eval_sequence(data)
        for key in HOTA_KEYS:
            assert ours[key] == pytest.approx(float(np.mean(hota[key])), abs=1e-9), (seed, key)
        for key in totals:
            totals[key] += int(ref[key])
    assert all(totals.values()), totals  # switches, fragmentations, MT/PT/ML all occurred
