"""The devkit's per-pass score re-averaging beside the figures without it, result files that
read back to the scores evaluated in memory, and ``eval tracking --frames`` scoring part of a
sequence as if it were a sequence of its own."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.eval.tracking import KittiMotProtocol, evaluate_clear, prepare_class_data
from drivestack.eval.tracking.kitti import (
    REMEAN_NOTE,
    FrameRange,
    evaluate_class,
    format_table,
    remean_notes,
    uncovered_notes,
)
from drivestack.eval.tracking.protocol import WITHOUT_REMEAN_KEY
from drivestack.ingest.kitti_format import KittiObjects
from drivestack.ingest.kitti_tracking import (
    SeqmapEntry,
    read_tracking_labels,
    write_tracking_results,
)
from tests.eval.tracking.test_metrics_hand_cases import BOX, rows

PROTO = KittiMotProtocol(num_sample_points=5)
N_FRAMES = 7


def _perfect(score: float) -> tuple[KittiObjects, KittiObjects]:
    """One car in 7 frames and a tracker that boxes it exactly, every row scored ``score``."""
    gt = rows([(f, 0, "Car", 0.0, 20.0, BOX, 0) for f in range(N_FRAMES)])
    trk = rows([(f, 7, "Car", 0.0, 20.0, BOX, score) for f in range(N_FRAMES)])
    return gt, trk


def test_a_score_tie_drops_a_perfect_track_from_the_devkit_passes_only() -> None:
    """1.7 averaged over 7 rows (1.6999999999999997), re-averaged before every pass, drifts
    to 1.6999999999999995, below the threshold taken from it: the devkit's sAMOTA of a perfect
    tracker is 0, without the re-averaging 1; with the score 0.5 both are 1."""
    for score, devkit in ((1.7, 0.0), (0.5, 1.0)):
        gt, trk = _perfect(score)
        data = prepare_class_data("Car", [("0000", N_FRAMES, gt, trk)], PROTO)
        assert evaluate_clear(data, PROTO).sAMOTA == devkit
        plain = evaluate_clear(data, PROTO, devkit_remean=False)
        assert plain.sAMOTA == 1.0 and plain.best.MOTA == 1.0
    # the default stays the devkit's (the fidelity tests hold it to the reference outputs)
    assert evaluate_clear(data, PROTO) == evaluate_clear(data, PROTO, devkit_remean=True)


def test_the_table_shows_the_no_remean_row_only_when_the_figures_differ() -> None:
    seqmap = [SeqmapEntry("0000", 0, N_FRAMES)]
    shown = {}
    for score in (1.7, 0.5):
        gt, trk = _perfect(score)
        m = evaluate_class("Car", seqmap, {"0000": gt}, {"0000": trk}, PROTO)
        assert m.as_dict()[WITHOUT_REMEAN_KEY]["sAMOTA"] == 1.0
        shown[score] = (format_table({"Car": m}), remean_notes({"Car": m}))
    table, notes = shown[1.7]
    (extra,) = [line for line in table.splitlines() if line.startswith("  no-remean")]
    assert extra.split()[1] == "100.00" and notes == [REMEAN_NOTE]
    assert m.remean_difference_points() == 0.0  # (the 0.5 one)
    table, notes = shown[0.5]
    assert "no-remean" not in table and notes == []


def test_written_result_files_read_back_to_the_figures_evaluated_in_memory(
    tmp_path: Path,
) -> None:
    """Scores of full double precision (a %f writer would keep 6 decimals and split ties
    apart or merge them) survive the round trip: the evaluation is identical."""
    rng = np.random.default_rng(3)
    spec_gt, spec_trk = [], []
    for track in range(6):
        x = -8.0 + 3.0 * track
        base = rng.uniform(0.2, 0.9)
        for f in range(10):
            spec_gt.append((f, track, "Car", x, 20.0 + f, BOX, 0))
            if rng.uniform() < 0.85:
                spec_trk.append((f, 10 + track, "Car", x + 0.1, 20.0 + f, BOX, base + 1e-9 * f))
    gt, trk = rows(spec_gt), rows(spec_trk)
    path = tmp_path / "Car" / "0000.txt"
    write_tracking_results(path, trk)
    again = read_tracking_labels(path)
    order = np.lexsort((trk.track_id, trk.frame))
    assert np.array_equal(again.score, trk.score[order])  # bit for bit
    seqmap = [SeqmapEntry("0000", 0, 10)]
    proto = KittiMotProtocol()
    mem = evaluate_class("Car", seqmap, {"0000": gt}, {"0000": trk}, proto)
    disk = evaluate_class("Car", seqmap, {"0000": gt}, {"0000": again}, proto)
    assert mem.as_dict() == disk.as_dict()


def test_frame_range_cuts_and_renumbers() -> None:
    r = FrameRange.parse("74:153")
    assert (r.first, r.last, r.n_frames) == (74, 153, 80)
    objs = rows([(f, 1, "Car", 0.0, 20.0, BOX, 0.5) for f in (0, 73, 74, 100, 153, 154)])
    assert r.rows(objs).frame.tolist() == [0, 26, 79]
    assert r.seqmap([SeqmapEntry("0000", 0, 154)]) == [SeqmapEntry("0000", 0, 80)]
    with pytest.raises(ValueError, match="not all in sequence 0000"):
        r.seqmap([SeqmapEntry("0000", 0, 153)])
    for bad in ("74", "a:b", "9:3", "-1:4"):
        with pytest.raises(ValueError, match=repr(bad)):
            FrameRange.parse(bad)


FIRST, LAST = 74, 153


def _replay_like_results(root: Path, out: Path) -> Path:
    """Result files under ``out`` (returned) as ``drivestack replay --kitti-results`` writes
    them: <Class>/<seq>.txt with the sequence's own frame numbers; tracks made from the labels
    of the KITTI root ``root``'s sequence 0000, frames FIRST..LAST (every 5th row missing),
    plus rows of frames well outside the range that must not count."""
    labels = read_tracking_labels(root / "training" / "label_02" / "0000.txt")
    for cls in ("Car", "Cyclist"):
        keep = labels.type_name == cls
        sel = labels.select(np.flatnonzero(keep))
        inside = (sel.frame >= FIRST) & (sel.frame <= LAST) & (np.arange(len(sel)) % 5 != 0)
        outside = (sel.frame < FIRST - 20) | (sel.frame > LAST + 20)
        picked = sel.select(np.flatnonzero(inside | outside))
        scores = 0.3 + 0.05 * (picked.track_id % 7) + 1e-3 * (picked.frame % 3)
        result = dataclasses.replace(
            picked,
            truncation=np.zeros(len(picked)),
            occlusion=np.zeros(len(picked), dtype=picked.occlusion.dtype),
            score=scores,
        )
        write_tracking_results(out / cls / "0000.txt", result)
    return out


@pytest.mark.data
def test_frames_scores_part_of_a_sequence_as_a_renumbered_kitti_root_does(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = shared_data / "kitti_tracking"
    results = _replay_like_results(root, tmp_path / "replay_results")
    # the reviewer's way: a KITTI root holding only those frames, renumbered from 0
    kroot = tmp_path / "kroot"
    (kroot / "training" / "label_02").mkdir(parents=True)
    (kroot / "seqmaps").mkdir()
    lines = []
    for line in (root / "training" / "label_02" / "0000.txt").read_text().splitlines():
        f = line.split()
        if f and FIRST <= int(f[0]) <= LAST:
            lines.append(" ".join([str(int(f[0]) - FIRST), *f[1:]]))
    (kroot / "training" / "label_02" / "0000.txt").write_text("\n".join(lines) + "\n")
    (kroot / "seqmaps" / "evaluate_tracking.seqmap.training").write_text(
        f"0000 empty 000000 {LAST - FIRST + 1:06d}\n"
    )
    renumbered = tmp_path / "renumbered"
    for cls in ("Car", "Cyclist"):
        rows_ = read_tracking_labels(results / cls / "0000.txt")
        cut = rows_.select(np.flatnonzero((rows_.frame >= FIRST) & (rows_.frame <= LAST)))
        cut = dataclasses.replace(cut, frame=cut.frame - FIRST)
        write_tracking_results(renumbered / cls / "0000.txt", cut)
    common = ["eval", "tracking", "--classes", "Car,Cyclist", "--quiet", "--split", "training"]
    assert main([*common, "--kitti-root", str(kroot), "--results", str(renumbered),
                 "--out", str(tmp_path / "ref")]) == 0  # fmt: skip
    capsys.readouterr()
    assert main([*common, "--kitti-root", str(root), "--sequences", "0000", "--frames",
                 f"{FIRST}:{LAST}", "--results", str(results), "--out", str(tmp_path / "part")]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert f"frames {FIRST}:{LAST}" in out
    ref = json.loads((tmp_path / "ref" / "metrics.json").read_text())
    part = json.loads((tmp_path / "part" / "metrics.json").read_text())
    assert part["frames"] == {"first": FIRST, "last": LAST} and part["whole_split"] is False
    for cls in ("Car", "Cyclist"):
        mine = part["metrics"]["iou_0.25"]["classes"][cls]
        theirs = ref["metrics"]["iou_0.25"]["classes"][cls]
        assert mine == theirs
        assert WITHOUT_REMEAN_KEY in mine
    # without --frames the same files score the whole sequence: the rows outside count
    assert main([*common, "--kitti-root", str(root), "--sequences", "0000",
                 "--results", str(results), "--out", str(tmp_path / "whole")]) == 0  # fmt: skip
    whole = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    cyclist = whole["metrics"]["iou_0.25"]["classes"]["Cyclist"]["clear"]["best"]  # frames 0..
    assert cyclist["TP"] > part["metrics"]["iou_0.25"]["classes"]["Cyclist"]["clear"]["best"]["TP"]


@pytest.mark.data
def test_frames_beyond_a_sequence_or_malformed_is_refused_before_any_work(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = shared_data / "kitti_tracking"
    common = ["eval", "tracking", "--kitti-root", str(root), "--classes", "Car", "--quiet",
              "--split", "training", "--sequences", "0000", "--out", str(tmp_path / "o")]  # fmt: skip
    assert main([*common, "--frames", "100:2000"]) == 2
    err = capsys.readouterr().err
    assert "--frames" in err and "not all in sequence 0000" in err
    assert main([*common, "--frames", "5"]) == 2
    assert "FIRST:LAST" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_result_files_without_a_row_in_the_range_are_noted_naming_their_frames(
    tmp_path: Path,
) -> None:
    r = FrameRange(0, 10)
    held = rows([(f, 1, "Car", 0.0, 20.0, BOX, 0.5) for f in (74, 100, 153)])
    touching = rows([(f, 1, "Car", 0.0, 20.0, BOX, 0.5) for f in (10, 74)])
    results = {"0000": held, "0001": touching, "0002": rows([])}
    notes = uncovered_notes(tmp_path, "Car", r, results)
    assert len(notes) == 1  # a file with one row inside is fine, an empty one too
    assert "0000.txt: no Car row in frames 0:10 (it holds frames 74:153)" in notes[0]


@pytest.mark.data
def test_frames_outside_the_results_warn_once_per_class_and_sequence(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = shared_data / "kitti_tracking"
    results = _replay_like_results(root, tmp_path / "replay_results")
    for cls in ("Car", "Cyclist"):  # keep only the replayed frames FIRST..LAST
        got = read_tracking_labels(results / cls / "0000.txt")
        inside = (got.frame >= FIRST) & (got.frame <= LAST)
        write_tracking_results(results / cls / "0000.txt", got.select(np.flatnonzero(inside)))
    assert main(["eval", "tracking", "--kitti-root", str(root), "--classes", "Car,Cyclist",
                 "--quiet", "--split", "training", "--sequences", "0000", "--frames", "0:10",
                 "--results", str(results), "--out", str(tmp_path / "o")]) == 0  # fmt: skip
    warnings = [w for w in capsys.readouterr().err.splitlines() if "no " in w and "row in" in w]
    assert len(warnings) == 2
    for w in warnings:
        assert w.startswith("warning: ") and "row in frames 0:10 (it holds frames " in w
        lo, hi = map(int, w.split("it holds frames ")[1].split(")")[0].split(":"))
        assert FIRST <= lo <= hi <= LAST
    report = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert sum("row in frames 0:10" in n for n in report["notes"]) == 2


def test_the_table_keeps_a_column_gap_for_a_mota_of_minus_1000_percent() -> None:
    """One car tracked exactly plus 11 false tracks in each of 7 frames: MOTA = 1 - 77/7 =
    -1000 % (``-1000.00`` fills the 8-character column, so does the AMOTA)."""
    gt, trk = _perfect(0.5)
    false = [(f, 10 + k, "Car", 3.0 * k - 20, 30.0, (100 + 30 * k, 150.0, 120 + 30 * k, 250.0), 0.5)
             for f in range(N_FRAMES) for k in range(11)]  # fmt: skip
    both = KittiObjects.concatenate([trk, rows(false)])
    m = evaluate_class(
        "Car", [SeqmapEntry("0000", 0, N_FRAMES)], {"0000": gt}, {"0000": both}, PROTO
    )
    head, line = format_table({"Car": m}).splitlines()
    cells = line.split()
    assert len(cells) == len(head.split())
    assert cells[4] == "-1000.00" and cells[8] == "77"  # MOTA, FP
    assert len(line) == len(head) + 2  # the 2 overfull cells grew by their gap, no other did
