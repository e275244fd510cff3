"""A replay scores its tracks against the log's labelled ids (summary key
``tracking_vs_labels``): the hand-built drive of the forecast tests through an oracle stack
(hand-computed figures), a log without ids (no key), the bundled demo drive end to end with
its printed lines and ``drivestack report``'s table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.commands.demo import _replay_lines
from drivestack.core.frames import EGO
from drivestack.pipeline import Stack, build_stack
from drivestack.replay.runner import _score_tracks, replay, summary_lines
from drivestack.replay.track_score import HOTA_KEYS, TrackScorer
from drivestack.report.replay import read_replay
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.sensor_frame import SensorFrame
from drivestack.structures.tracks import Tracks
from tests.replay.test_forecast_replay import (
    N_FRAMES,
    FiniteDifferenceTracker,
    OracleDetector,
    _write_log,
)
from tests.report.test_replay_and_sim_perception import _page, _report, _summary, _table

REPO = Path(__file__).resolve().parents[2]


def test_oracle_tracks_of_the_hand_built_drive(tmp_path: Path) -> None:
    """Tracks from the second frame on: the false car (track 0, never labelled) every frame
    from frame 1, car-A (track 1) from frame 1 of its 60 labelled frames, ped-B (track 2)
    from frame 1 of its 20 labelled frames (0-19). Boxes are the labels: IoU 1."""
    log = _write_log(tmp_path / "drive.mcap")
    stack = Stack(OracleDetector(), FiniteDifferenceTracker())
    summary = replay(log, stack, tmp_path / "run.mcap", progress=False, io_worker="thread")
    m = summary["tracking_vs_labels"]
    assert m["frames_scored"] == N_FRAMES and m["frames_without_label_ids"] == 0
    car, ped = m["by_class"]["car"], m["by_class"]["pedestrian"]
    assert (car["TP"], car["FN"], car["FP"], car["IDSW"], car["Frag"]) == (59, 1, 59, 0, 0)
    assert car["MOTA"] == pytest.approx(0.0) and car["MOTP"] == pytest.approx(1.0)
    assert (car["MT"], car["n_labels"], car["n_tracks"]) == (1, 1, 2)
    assert (ped["TP"], ped["FN"], ped["FP"], ped["MT"]) == (19, 1, 0, 1)
    assert ped["MOTA"] == pytest.approx(19 / 20) and ped["LocA"] == pytest.approx(1.0)
    # DetA = 19 / 20 (IoU 1: every alpha alike), AssA = 19 / 20 (one object, one track)
    assert ped["HOTA"] == pytest.approx(19 / 20)
    lines = summary_lines(summary)
    assert any(li.startswith("  tracking pedestrian: MOTA 0.950") for li in lines)
    assert lines.index(next(li for li in lines if "tracking car:" in li)) < len(lines) - 1


def test_a_frame_replayed_but_not_scored_is_not_a_skipped_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: a frame whose tracks could not be scored was counted in ``frames_skipped`` as
    well as in ``frames_processed``: the totals exceeded the log's frames."""
    import drivestack.replay.runner as runner

    log = _write_log(tmp_path / "drive.mcap")
    refused = {"n": 0}

    def score_but_the_third(scorer: Any, frame: SensorFrame, *rest: Any) -> None:
        refused["n"] += 1
        if refused["n"] == 3:
            raise ValueError("labels of another frame")
        _score_tracks(scorer, frame, *rest)

    monkeypatch.setattr(runner, "_score_tracks", score_but_the_third)
    stack = Stack(OracleDetector(), FiniteDifferenceTracker())
    summary = replay(log, stack, tmp_path / "run.mcap", progress=False, io_worker="thread")
    assert summary["frames_processed"] == N_FRAMES and summary["frames_skipped"] == 0
    (entry,) = summary["skipped"]
    assert entry["reason"].startswith("replayed but tracks not scored: ")
    assert summary_lines(summary)[0].startswith(f"replayed {N_FRAMES} frames (0 skipped by")


def test_a_log_without_label_ids_gets_no_tracking_figures(tmp_path: Path) -> None:
    log = _write_log(tmp_path / "drive.mcap", strip_ids=True)
    stack = Stack(OracleDetector(), FiniteDifferenceTracker())
    summary = replay(log, stack, tmp_path / "run.mcap", progress=False, io_worker="thread")
    assert summary["tracking_vs_labels"] is None
    assert not any("tracking" in li for li in summary_lines(summary)[1:])


@pytest.mark.slow
def test_the_demo_drive_is_scored_printed_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo" / "run.mcap"
    stack = build_stack(REPO / "configs/stack/sim_lidar.yaml")
    summary = replay(REPO / "data/demo/drive.mcap", stack, out, progress=False, io_worker="thread")
    m = summary["tracking_vs_labels"]
    assert m["frames_scored"] == summary["frames_processed"] == 61
    car = m["by_class"]["car"]
    # the labelled car (one object, 61 frames) as the detection tally counts its labels
    assert car["label_boxes"] == summary["detection_vs_labels"]["car"]["labels"] == 61
    assert car["n_labels"] >= 1 and car["TP"] > 40 and 0.5 < car["MOTA"] <= 1.0
    assert 0.5 < car["HOTA"] <= 1.0 and 0.5 < car["MOTP"] <= 1.0
    assert car["MT"] + car["PT"] + car["ML"] == car["n_labels"]
    # demo lines: the detection class lines, then the tracking lines, then "wrote"
    lines = _replay_lines(summary)
    first_tracking = next(i for i, li in enumerate(lines) if li.startswith("  tracking car:"))
    assert lines[first_tracking - 1].startswith("  ") and "recall" in lines[first_tracking - 1]
    assert lines[-1].startswith("wrote ")
    # the summary JSON round-trips and the report reads and shows it
    written = json.loads(out.with_suffix(".summary.json").read_text())
    checked = read_replay(written)["tracking_vs_labels"]
    assert checked["by_class"]["car"]["MOTA"] == pytest.approx(car["MOTA"])
    assert main(["report", str(out.parent), "--out", str(tmp_path / "rep.html")]) == 0
    capsys.readouterr()
    page = (tmp_path / "rep.html").read_text()
    assert 'class="replay-tracking"' in page
    assert f">{100 * car['MOTA']:.1f}<" in page and f">{100 * car['HOTA']:.1f}<" in page


def _block() -> dict[str, Any]:
    """A ``tracking_vs_labels`` block as the scorer writes it (one class)."""
    return {
        "similarity": "BEV IoU",
        "iou_threshold": 0.5,
        "frames_scored": 3,
        "frames_without_label_ids": 1,
        "frames_not_scored": {},
        "by_class": {
            "car": {
                **dict.fromkeys(("MOTP", "MODA", "HOTA", "DetA", "AssA", "LocA"), 0.5),
                **dict.fromkeys(("DetRe", "DetPr", "AssRe", "AssPr"), 0.5),
                "MOTA": 0.25,
                **dict.fromkeys(("TP", "FP", "FN", "IDSW", "Frag", "MT", "PT", "ML"), 1),
                **dict.fromkeys(("n_labels", "n_tracks", "label_boxes", "track_boxes"), 2),
                "outside_labelled_region": 3,
                "on_ignored_labels": 4,
            },
            "cyclist": {
                **dict.fromkeys(("MOTA", "MOTP", "MODA"), None),
                **dict.fromkeys(HOTA_KEYS, 0.0),
                **dict.fromkeys(("TP", "FN", "IDSW", "Frag", "MT", "PT", "ML", "n_labels"), 0),
                **dict.fromkeys(("FP", "n_tracks", "track_boxes"), 5),
                "label_boxes": 0,
                "outside_labelled_region": 0,
                "on_ignored_labels": 0,
            },
        },
    }


def test_the_report_shows_the_tracking_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "r"
    run.mkdir()
    (run / "k.mcap").write_bytes(b"")
    (run / "k.summary.json").write_text(json.dumps(_summary(tracking_vs_labels=_block())))
    rc, printed = _report(run, tmp_path / "rep.html", capsys)
    assert rc == 0, printed
    page = _page(tmp_path / "rep.html")
    table = _table(page, "replay-tracking")
    assert table[0][:5] == ["class", "labelled objects", "tracks", "MOTA %", "MOTP %"]
    assert table[1] == ["car", "2", "2", "25.0", "50.0", "50.0", "50.0", "50.0", "50.0",
                        "1", "1", "1", "1", "1", "1", "1", "3", "4"]  # fmt: skip
    assert table[2][:4] == ["cyclist", "0", "5", "–"]  # MOTA undefined without labels
    assert "frames without label ids not scored: 1" in "".join(page.text)


def test_a_malformed_tracking_block_names_its_field() -> None:
    good = _block()
    assert read_replay(_summary(tracking_vs_labels=good))["tracking_vs_labels"]["by_class"]
    assert read_replay(_summary())["tracking_vs_labels"] is None  # older summaries
    good["by_class"]["car"]["IDSW"] = -1
    with pytest.raises(ValueError, match=r"field tracking_vs_labels\.by_class\.car\.IDSW"):
        read_replay(_summary(tracking_vs_labels=good))
    good["by_class"]["car"]["IDSW"] = 0
    good["by_class"]["car"]["HOTA"] = "high"
    with pytest.raises(ValueError, match=r"field tracking_vs_labels\.by_class\.car\.HOTA"):
        read_replay(_summary(tracking_vs_labels=good))
    good["by_class"]["car"]["HOTA"] = 0.5
    del good["iou_threshold"]
    with pytest.raises(ValueError, match=r"field tracking_vs_labels\.iou_threshold: missing"):
        read_replay(_summary(tracking_vs_labels=good))


def test_labels_that_cannot_be_placed_with_the_tracks_are_counted() -> None:
    """Labels in a LiDAR frame of a frame without that LiDAR's mount: not placeable in the
    ego frame the tracks are in."""
    labels = Boxes3D.from_array7(np.array([[0, 0, 0.75, 4, 2, 1.5, 0]]), "lidar_top", 0)
    frame = SensorFrame(0, labels=labels, label_ids=("a",), source="hand-built")
    scorer = TrackScorer()
    _score_tracks(scorer, frame, Tracks.empty(EGO), None, None)
    assert scorer.frames_scored == 0
    assert scorer.metrics()["frames_not_scored"] == {"labels not placeable in the tracks' frame": 1}
