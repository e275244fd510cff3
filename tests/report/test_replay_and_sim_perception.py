"""``drivestack report`` of a ``drivestack replay`` output folder (RUN.summary.json beside
RUN.mcap: the run, stage times, detections and forecasts against the labels, a KITTI log's
tracking and detection scores) and the perception / tracking table of a ``drivestack sim
--perception lidar`` run; tracking tables show the figures without the devkit's score
re-averaging where a tie decided them. HTML checks parse the page's text."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from drivestack.cli import main
from drivestack.eval.tracking import KittiMotProtocol
from drivestack.eval.tracking.kitti import evaluate_class
from drivestack.eval.tracking.protocol import WITHOUT_REMEAN_KEY
from drivestack.ingest.kitti_tracking import SeqmapEntry
from tests.eval.tracking.test_metrics_hand_cases import BOX, rows


class _Tables(HTMLParser):
    """Every ``<table>`` of a page as rows of cell texts, with its ``class`` attribute, and
    the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append((dict(attrs).get("class") or "", []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _page(path: Path) -> _Tables:
    parser = _Tables()
    parser.feed(path.read_text())
    return parser


def _table(page: _Tables, css: str) -> list[list[str]]:
    (found,) = [t for c, t in page.tables if css in c.split()]
    return found


def _tracking_block() -> dict[str, Any]:
    """The ``kitti.tracking`` block of a replay: one perfect car track scored 1.7 on 7 frames
    (a score tie: the track drops out of every devkit pass, not without the re-averaging)."""
    gt = rows([(f, 0, "Car", 0.0, 20.0, BOX, 0) for f in range(7)])
    trk = rows([(f, 7, "Car", 0.0, 20.0, BOX, 1.7) for f in range(7)])
    proto = KittiMotProtocol()
    m = evaluate_class("Car", [SeqmapEntry("0000", 0, 7)], {"0000": gt}, {"0000": trk}, proto)
    return {"iou_0.25": {"protocol": {"min_overlap": 0.25, "similarity": "iou_3d"},
                         "classes": {"Car": m.as_dict()}}}  # fmt: skip


def _summary(**changes: Any) -> dict[str, Any]:
    """A replay summary as drivestack replay writes it (fields the report reads)."""
    summary: dict[str, Any] = {
        "input": "k0000.mcap",
        "output": "/runs/r1/k.mcap",
        "git_commit": "abc1234",
        "frames_processed": 7,
        "frames_skipped": 0,
        "timing_ms": {
            "perception": {"p50": 32.5, "p95": 65.0, "p99": 87.2, "max": 139.8, "mean": 36.8},
            "tracking": {"p50": 1.25, "p95": 9.85, "p99": 14.8, "max": 17.8, "mean": 2.9},
        },
        "wall_s": 5.5,
        "log_duration_s": 0.6,
        "realtime_factor": 0.109,
        "detection_vs_labels": {
            "car": {
                "labels": 40,
                "detections": 50,
                "recall": 0.925,
                "precision": 0.74,
                "outside_labelled_region": 3,
                "on_ignored_labels": 1,
            },
            "van": {
                "labels": 9,
                "detections": 0,
                "recall": 0.0,
                "precision": None,
                "outside_labelled_region": 0,
                "on_ignored_labels": 0,
            },
        },
        "forecast_vs_labels": {
            "horizon_s": 3.0,
            "dt_s": 0.1,
            "match_distance_m": 2.0,
            "miss_threshold_m": 2.0,
            "cases": 12,
            "forecasts": 30,
            "matched": 20,
            "unmatched_tracks": 10,
            "by_class": {
                "all, all": {"cases": 12, "ADE@1s": 0.7375, "FDE@3s": 3.9312, "miss_rate": 0.75}
            },
        },
        "kitti": {
            "sequence": "0000",
            "frames_scored": 7,
            "first_frame": 74,
            "last_frame": 80,
            "detection": {"protocol": "kitti_3d_object", "Car_3D_AP40_moderate_strict": 77.5},
            "tracking": _tracking_block(),
        },
        "clean": True,
    }
    summary.update(changes)
    return summary


def _report(run: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    rc = main(["report", str(run), "--out", str(out)])
    captured = capsys.readouterr()
    return rc, captured.out + captured.err


def test_report_of_a_replay_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "r1"
    run.mkdir()
    (run / "k.mcap").write_bytes(b"")
    files = {"folder": "/runs/r1/kres", "sequence": "0000", "frames": [74, 80]}
    (run / "k.summary.json").write_text(json.dumps(_summary(kitti_results=files)))
    rc, printed = _report(run, tmp_path / "rep.html", capsys)
    assert rc == 0, printed
    assert "1 log replay(s) (k.summary.json)" in printed
    page = _page(tmp_path / "rep.html")
    timing = _table(page, "replay-timing")
    assert timing[0] == ["stage", "p50", "p95", "p99", "max", "mean"]
    assert timing[2] == ["tracking", "1.25", "9.85", "14.80", "17.80", "2.90"]
    det = _table(page, "replay-detection")
    assert det[1] == ["car", "40", "50", "92.5", "74.0", "3", "1"]
    assert det[2][:5] == ["van", "9", "0", "0.0", "–"]  # precision undefined: no detection
    fc = _table(page, "replay-forecast")
    assert fc[0] == ["class, motion", "cases", "ADE@1s", "FDE@3s", "miss_rate"]
    assert fc[1] == ["all, all", "12", "0.738", "3.931", "0.750"]
    text = "".join(page.text)
    assert "sequence 0000, frames 74-80" in text and "/runs/r1/kres" in text
    # the KITTI tracking scores in the tracking table, with the tie's no-remean row
    data = json.loads((tmp_path / "rep.json").read_text())
    (trk,) = data["tracking"]
    assert trk["file"] == "k.summary.json (kitti.tracking)"
    (tb,) = trk["tables"]
    plain = 100 * _tracking_block()["iou_0.25"]["classes"]["Car"][WITHOUT_REMEAN_KEY]["sAMOTA"]
    assert tb["rows"]["Car"]["sAMOTA"] == pytest.approx(0.0, abs=1e-9) and plain > 10.0
    assert tb["no_remean"]["Car"]["sAMOTA"] == plain
    car_rows = [r for _, t in page.tables for r in t if r and r[0] == "Car"]
    assert [r[1] for r in car_rows] == ["drivestack", "no-remean (drivestack)"]
    assert [r[2] for r in car_rows] == ["0.00", f"{plain:.2f}"]
    assert "no-remean rows: the same tracks scored without" in text
    assert data["detection"][0]["kitti_ap"] == {"Car 3D AP40": {"moderate": 77.5}}
    assert data["git_commit"] == "abc1234"
    headline = {h["name"]: h["value"] for h in data["headline"]}
    assert headline["detection Car moderate 3D AP40 strict"] == 77.5


def test_a_malformed_replay_summary_is_a_problem_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "r"
    (run / "sub").mkdir(parents=True)
    bad = _summary()
    bad["detection_vs_labels"]["car"]["labels"] = -1
    (run / "sub" / "x.summary.json").write_text(json.dumps(bad))
    also_bad = _summary()
    also_bad["kitti"]["tracking"]["iou_0.25"]["classes"]["Car"]["clear"]["AMOTP"] = "high"
    (run / "y.summary.json").write_text(json.dumps(also_bad))
    (run / "ok.summary.json").write_text(json.dumps(_summary(kitti=None)))
    rc, printed = _report(run, tmp_path / "rep.html", capsys)
    assert rc == 0, printed
    data = json.loads((tmp_path / "rep.json").read_text())
    problems = data["problems"]
    assert any(
        p.startswith(str(run / "sub" / "x.summary.json"))
        and "field detection_vs_labels.car.labels" in p
        for p in problems
    )
    assert any("field kitti.tracking.iou_0.25.classes.Car.clear.AMOTP" in p for p in problems)
    assert data["counts"]["corrupt"] == 2
    assert [r["file"] for r in data["replay"]] == ["ok.summary.json"]
    assert data["tracking"] == []


def test_a_folder_of_other_summaries_still_holds_no_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "a.summary.json").write_text(json.dumps({"something": 1}))
    rc, printed = _report(tmp_path / "r", tmp_path / "rep.html", capsys)
    assert rc == 2 and "holds no results to report" in printed


def _sim_run(root: Path, perception: dict[str, Any]) -> None:
    for planner in ("pdm", "idm"):
        folder = root / planner / "cut_in"
        folder.mkdir(parents=True)
        record = {"scenario": "cut_in", "planner": planner, "score": 87.5, "passed": True,
                  "failures": [], "ncap": {"avoided": True, "min_ttc_s": 2.4,
                                           "impact_speed_kph": None}}  # fmt: skip
        (folder / "metrics.json").write_text(json.dumps(record))
    summary = {
        "pdm": {"scenarios": 1, "passed": 1, "perception_metrics": perception},
        "idm": {"scenarios": 1, "passed": 1},  # ran without --perception lidar figures
    }
    (root / "summary.json").write_text(json.dumps(summary))


def _perception(vehicle_ap: Any = 0.9902) -> dict[str, Any]:
    return {
        "frames": 150,
        "detection": {
            "vehicle": {"AP": vehicle_ap, "recall": 1.0, "precision": 0.9868, "TP": 150, "FP": 2,
                        "GT": 150},
            "pedestrian": {"AP": None, "recall": None, "precision": 0.0, "TP": 0, "FP": 3,
                           "GT": 0},
            "all": {"mAP": 0.9902, "recall": 1.0, "precision": 0.9677, "TP": 150, "FP": 5,
                    "GT": 150},
        },
        "tracking": {
            "vehicle": {"MOTA": 0.96, "MOTP_m": 0.41, "IDS": 1, "TP": 148, "FP": 3, "FN": 2,
                        "GT": 150, "recall": 0.987, "precision": 0.98, "AVE_mps": 0.35},
            # no AVE_mps: as written by runs made before it was measured
            "all": {"MOTA": 0.96, "MOTP_m": 0.41, "IDS": 1, "TP": 148, "FP": 3, "FN": 2,
                    "GT": 150, "recall": 0.987, "precision": 0.98},
        },
    }  # fmt: skip


def test_sim_perception_table_per_planner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "sim"
    _sim_run(run, _perception())
    rc, printed = _report(run, tmp_path / "rep.html", capsys)
    assert rc == 0, printed
    page = _page(tmp_path / "rep.html")
    table = _table(page, "sim-perception")  # only pdm recorded perception figures
    assert table[0][:4] == ["class", "AP", "recall", "precision"]
    assert table[1] == ["vehicle", "99.0", "100.0", "98.7", "150", "2", "150", "96.0", "0.41",
                        "0.35", "1", "3", "2"]  # fmt: skip
    assert table[2][:7] == ["pedestrian", "–", "–", "0.0", "0", "3", "0"]
    assert table[2][7:] == ["–"] * 6  # no tracking figures for pedestrians
    assert table[3][:2] == ["all", "99.0"]  # mAP
    assert table[3][8:10] == ["0.41", "–"]  # an older run's row without AVE_mps
    assert re.search(r"pdm: 150 frames", "".join(page.text))


def test_a_malformed_sim_perception_field_is_a_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "sim"
    _sim_run(run, _perception(vehicle_ap="high"))
    rc, _ = _report(run, tmp_path / "rep.html", capsys)
    assert rc == 0
    data = json.loads((tmp_path / "rep.json").read_text())
    assert data["sim_perception"] == {}
    (problem,) = [p for p in data["problems"] if "perception" in p]
    assert problem.startswith(str(run / "summary.json"))
    assert "field pdm.perception_metrics.detection.vehicle.AP" in problem


@pytest.mark.data
def test_report_of_the_demo_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A real replay of the bundled demo log (no KITTI block): its summary's figures."""
    repo = Path(__file__).resolve().parents[2]
    out = tmp_path / "demo" / "run.mcap"
    assert main(["replay", str(repo / "data/demo/drive.mcap"), "--stack",
                 str(repo / "configs/stack/sim_lidar.yaml"), "--out", str(out)]) == 0  # fmt: skip
    capsys.readouterr()
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    rc, printed = _report(out.parent, tmp_path / "rep.html", capsys)
    assert rc == 0, printed
    det = _table(_page(tmp_path / "rep.html"), "replay-detection")
    car = summary["detection_vs_labels"]["car"]
    (row,) = [r for r in det if r[0] == "car"]
    assert row[1:5] == [str(car["labels"]), str(car["detections"]),
                        f"{100 * car['recall']:.1f}", f"{100 * car['precision']:.1f}"]  # fmt: skip


def test_a_folder_of_only_corrupt_replay_summaries_is_a_replay_run_said_unreadable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "r"
    run.mkdir()
    (run / "k.summary.json").write_text(json.dumps(_summary(frames_processed="eighty")))
    rc, printed = _report(run, tmp_path / "rep.html", capsys)
    assert rc == 0, printed  # as any all-corrupt folder: reported, the headline says so
    headline = printed.splitlines()[0]
    assert headline == (
        "replay run: nothing readable to report: 1 corrupt result(s), named in the problems below"
    )
    assert "field frames_processed" in printed and (tmp_path / "rep.html").exists()
    # the same for a folder whose only eval result does not parse
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "metrics.json").write_text("{bad")
    rc, printed = _report(tmp_path / "e", tmp_path / "e.html", capsys)
    assert rc == 0 and printed.startswith("eval run: nothing readable to report: 1 corrupt")


def test_a_sim_run_beside_a_replay_counts_the_replay_in_its_headline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "sim"
    _sim_run(run, _perception())
    (run / "k.mcap").write_bytes(b"")
    (run / "k.summary.json").write_text(json.dumps(_summary()))
    rc, printed = _report(run, tmp_path / "rep.html", capsys)
    assert rc == 0, printed
    headline = printed.splitlines()[0]
    assert headline.startswith("sim run: 2 runs, 2 passed")
    assert headline.endswith("; 1 log replay(s) (k.summary.json)")


def test_a_replay_report_names_the_commit_the_replay_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The summary row read 'git not recorded' beside a replay summary holding its commit:
    the provenance a sign-off reads."""
    run = tmp_path / "r1"
    run.mkdir()
    (run / "k.summary.json").write_text(json.dumps(_summary()))
    rc, printed = _report(run, tmp_path / "rep.html", capsys)
    assert rc == 0, printed
    data = json.loads((tmp_path / "rep.json").read_text())
    assert data["git_commit"] == "abc1234"
    assert "git not recorded" not in (tmp_path / "rep.html").read_text()
