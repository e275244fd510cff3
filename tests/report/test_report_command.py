"""``drivestack report`` on the edges a new user meets: non-finite scores, empty folders,
tracking regressions in the summary, runs of different kinds, bad options and no shared data."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.cli import build_parser, main
from drivestack.report.collect import load_run
from tests.report.test_collect_compare import _write_metrics


def _strict(text: str) -> Any:
    """``text`` parsed as strict JSON (NaN / Infinity rejected)."""

    def reject(name: str) -> None:
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=reject)


def _tracking_run(root: Path, samota: float, mota: float) -> Path:
    """A ``drivestack eval tracking`` result (one class, Car) in ``root/trk/metrics.json``."""
    best = {"MOTA": mota, "MOTP": 0.8, "IDS": 1, "FRAG": 1, "FP": 5, "FN": 10}
    per = [{"recall_threshold": r, "sMOTA": samota, "MOTA": mota * r} for r in (0.5, 1.0)]
    clear = {"sAMOTA": samota, "AMOTA": 0.4, "AMOTP": 0.7, "best": best, "per_threshold": per}
    block = {"protocol": {"min_overlap": 0.25, "similarity": "iou_3d"}, "classes": {"Car": {"clear": clear}}}  # fmt: skip
    (root / "trk").mkdir(parents=True)
    (root / "trk" / "metrics.json").write_text(
        json.dumps({"split": "val", "metrics": {"iou_0.25": block}})
    )
    return root


def _report(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["report", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def no_shared_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """No shared data folder (wherever the tests run)."""
    monkeypatch.setattr("drivestack.commands._paths.default_shared_data", lambda: None)


@pytest.mark.parametrize(
    ("field", "ncap"),
    [
        ("score", {"avoided": True}),
        ("ncap.min_ttc_s", {"avoided": True, "min_ttc_s": float("inf")}),
    ],
)
def test_a_non_finite_number_makes_the_row_corrupt(
    tmp_path: Path, field: str, ncap: dict[str, Any]
) -> None:
    folder = tmp_path / "pdm" / "odd"
    folder.mkdir(parents=True)
    score = float("nan") if field == "score" else 50.0
    record = {"score": score, "passed": True, "ncap": ncap}
    (folder / "metrics.json").write_text(json.dumps(record))  # writes NaN / Infinity
    (row,) = load_run(tmp_path).rows
    assert row.status == "corrupt" and row.score is None
    assert str(folder / "metrics.json") in row.error and f"field {field}" in row.error


def test_report_json_is_strict_and_headline_skips_nan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    _write_metrics(run, "pdm/good", 80.0, True)
    _write_metrics(run, "pdm/nan", float("nan"), True)
    _tracking_run(run, float("nan"), 0.5)  # an undefined sAMOTA
    rc, out, _ = _report(capsys, str(run), "--out", str(tmp_path / "r.html"))
    assert rc == 0 and "1 corrupt" in out
    data = _strict((tmp_path / "r.json").read_text())
    mean = next(h for h in data["headline"] if h["name"] == "pdm: mean score")
    assert mean["value"] == 80.0
    assert data["tracking"][0]["tables"][0]["rows"]["Car"]["sAMOTA"] is None
    assert not re.search(r">\s*nan\s*<", (tmp_path / "r.html").read_text(), re.IGNORECASE)


def test_an_empty_folder_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    rc, out, err = _report(capsys, str(empty), "--out", str(tmp_path / "r.html"))
    assert rc == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"error: {empty}: run folder holds no results") and "looked for" in line
    assert "metrics.json" in line and "fleet.json" in line
    assert list(tmp_path.iterdir()) == [empty]  # nothing written


def test_an_empty_baseline_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run, base = tmp_path / "run", tmp_path / "base"
    _write_metrics(run, "pdm/a", 80.0, True)
    base.mkdir()
    rc, _, err = _report(capsys, str(run), "--baseline", str(base), "--out", str(tmp_path / "r.html"))  # fmt: skip
    assert rc == 2 and f"error: {base}: baseline holds no results" in err
    assert not (tmp_path / "r.html").exists()


def test_a_folder_of_corrupt_metrics_is_reported_and_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text('{"metrics": ')
    rc, out, err = _report(capsys, str(run), "--out", str(tmp_path / "r.html"))
    assert rc == 0
    summary = out.splitlines()[0]
    assert "1 corrupt" in summary and "empty" not in summary
    assert f"problem: {run / 'metrics.json'}: corrupt metrics.json" in err  # (stderr)
    assert "problem:" not in out
    data = _strict((tmp_path / "r.json").read_text())
    assert data["counts"]["corrupt"] == 1 and len(data["problems"]) == 1


def test_summary_counts_tracking_regressions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _tracking_run(tmp_path / "run", samota=0.888, mota=0.70)
    base = _tracking_run(tmp_path / "base", samota=0.900, mota=0.795)
    argv = [str(run), "--baseline", str(base), "--out", str(tmp_path / "r.html")]
    rc, out, _ = _report(capsys, *argv)
    assert rc == 0
    # two eval folders: no sim or fleet runs, so no scenario run counts
    assert f"against {base}: 2 tracking metrics dropped\n" in out
    assert "runs in common" not in out and "scenario regressions" not in out
    assert "only here" not in out and "only in the baseline" not in out
    assert "warning" not in out  # same kind: they share the tracking table
    drops = _strict((tmp_path / "r.json").read_text())["tracking_regressions"]
    assert sorted((d["metric"], round(d["delta"], 6)) for d in drops) == [
        ("MOTA", -9.5),
        ("sAMOTA", -1.2),
    ]
    assert "tracking metrics dropped vs baseline" in (tmp_path / "r.html").read_text()


def test_runs_of_different_kinds_warn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sim = tmp_path / "sim"
    _write_metrics(sim, "pdm/a", 80.0, True)
    trk = _tracking_run(tmp_path / "trk", samota=0.9, mota=0.8)
    argv = [str(sim), "--baseline", str(trk), "--out", str(tmp_path / "r.html")]
    rc, out, err = _report(capsys, *argv)
    assert rc == 0
    assert "warning:" not in out
    kinds, history = [line for line in err.splitlines() if line.startswith("warning:")]
    assert "share nothing" in kinds and "kinds differ" in kinds
    assert "sim" in kinds and "eval" in kinds
    assert "1 run(s) without history.npz beside their metrics.json" in history  # (metrics only)


@pytest.mark.parametrize(
    "option",
    [
        ["--score-tolerance", "-5"],
        ["--score-tolerance", "nan"],
        ["--max-detail", "-1"],
    ],
)
def test_negative_options_are_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", str(tmp_path), "--out", str(tmp_path / "r.html"), *option])
    assert exc.value.code == 2
    assert f"argument {option[0]}" in capsys.readouterr().err


def test_every_option_with_a_default_names_it_in_its_help() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    report = sub.choices["report"]
    options = [a for a in report._actions if a.option_strings and not a.required]
    options = [a for a in options if not isinstance(a, argparse._HelpAction)]
    assert {o.dest for o in options} >= {"baseline", "published", "data_root", "max_detail"}
    for option in options:
        assert "default" in (option.help or ""), option.dest
    text = report.format_help()
    assert "(default: 24)" in text and "(default: 1.0)" in text


@pytest.mark.usefixtures("no_shared_data")
def test_a_note_says_why_published_figures_are_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _tracking_run(tmp_path / "run", samota=0.9, mota=0.8)
    rc, out, _ = _report(capsys, str(run), "--out", str(tmp_path / "r.html"))
    assert rc == 0
    (note,) = [line for line in out.splitlines() if line.startswith("note:")]
    assert "published figures" in note and "no shared data folder" in note
    assert "Published anchors (AB3DMOT" in (tmp_path / "r.html").read_text()
    published = tmp_path / "PUBLISHED_RESULTS.md"
    published.write_text("## A. AB3DMOT\n")
    argv = [str(run), "--published", str(published), "--out", str(tmp_path / "r2.html")]
    rc, out, _ = _report(capsys, *argv)
    assert rc == 0 and "note:" not in out


def test_resolve_published_says_why_there_is_none(tmp_path: Path) -> None:
    from drivestack.commands.report import resolve_published

    given = tmp_path / "mine.md"
    assert resolve_published(given, None) == (given, "")
    assert "no shared data folder" in resolve_published(None, None)[1]
    assert resolve_published(None, tmp_path) == (
        None,
        f"{tmp_path / 'PUBLISHED_RESULTS.md'} not found",
    )
    (tmp_path / "PUBLISHED_RESULTS.md").write_text("")
    assert resolve_published(None, tmp_path) == (tmp_path / "PUBLISHED_RESULTS.md", "")


def _fused_tracking_run(root: Path, lidar: float, fused: float) -> Path:
    """A ``drivestack eval tracking --fusion camera`` result (Car) in ``root/trk/metrics.json``:
    ``metrics[protocol][lidar | fused][class]``, 3D IoU 0.25 and 2D IoU 0.5."""

    def car(samota: float) -> dict[str, Any]:
        best = {"MOTA": samota, "MOTP": 0.8, "IDS": 1, "FRAG": 1, "FP": 5, "FN": 10}
        per = [{"recall_threshold": r, "sMOTA": samota, "MOTA": samota * r} for r in (0.5, 1.0)]
        clear = {"sAMOTA": samota, "AMOTA": 0.4, "AMOTP": 0.7, "best": best, "per_threshold": per}
        return {"Car": {"class": "Car", "clear": clear, "hota": {}}}

    metrics = {p: {"lidar": car(lidar), "fused": car(fused)} for p in ("3d_iou0.25", "2d_iou0.5")}
    (root / "trk").mkdir(parents=True)
    (root / "trk" / "metrics.json").write_text(
        json.dumps({"config": {}, "fusion": {}, "metrics": metrics, "split": "val"})
    )
    return root


def test_a_fused_tracking_run_is_reported_with_both_trackers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _fused_tracking_run(tmp_path / "run", lidar=0.90, fused=0.95)
    rc, out, _ = _report(capsys, str(run), "--out", str(tmp_path / "r.html"))
    assert rc == 0 and "eval run: tracking results of val" in out
    data = _strict((tmp_path / "r.json").read_text())
    tables = data["tracking"][0]["tables"]
    assert [(t["similarity"], t["iou"], t["mode"]) for t in tables] == [
        ("iou_3d", 0.25, "lidar"), ("iou_3d", 0.25, "fused"),
        ("iou_2d", 0.5, "lidar"), ("iou_2d", 0.5, "fused"),
    ]  # fmt: skip
    headline = {h["name"]: h["value"] for h in data["headline"]}
    assert headline["tracking Car sAMOTA (iou_3d 0.25, camera-LiDAR fused)"] == pytest.approx(95.0)
    assert headline["tracking Car sAMOTA (iou_2d 0.5, LiDAR only)"] == pytest.approx(90.0)
    html = (tmp_path / "r.html").read_text()
    # one table per threshold, the LiDAR-only and the fused rows in it
    assert html.count("drivestack (LiDAR only)") == 2 and html.count("drivestack (camera-LiDAR fused)") == 2  # fmt: skip
    assert "iou_3d IoU 0.25" in html and "iou_2d IoU 0.5" in html


def test_a_fused_run_against_a_lidar_only_baseline_and_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fused = _fused_tracking_run(tmp_path / "fused", lidar=0.85, fused=0.95)
    lidar = _tracking_run(tmp_path / "lidar", samota=0.90, mota=0.8)  # 3D IoU 0.25 only
    argv = [str(fused), "--baseline", str(lidar), "--out", str(tmp_path / "r.html")]
    rc, out, _ = _report(capsys, *argv)
    assert rc == 0 and "1 tracking metrics dropped" in out and "warning" not in out
    data = _strict((tmp_path / "r.json").read_text())
    baseline = {h["name"]: h["baseline"] for h in data["headline"]}
    assert baseline["tracking Car sAMOTA (iou_3d 0.25, LiDAR only)"] == pytest.approx(90.0)
    assert baseline["tracking Car sAMOTA (iou_3d 0.25, camera-LiDAR fused)"] == pytest.approx(90.0)
    assert baseline["tracking Car sAMOTA (iou_2d 0.5, LiDAR only)"] is None  # no 2D baseline
    (drop,) = data["tracking_regressions"]
    assert (drop["table"], drop["baseline_table"], drop["metric"]) == (
        "3d_iou0.25 lidar", "iou_0.25", "sAMOTA")  # fmt: skip
    assert drop["delta"] == pytest.approx(-5.0)
    # a LiDAR-only run against the fused baseline: compared with its LiDAR-only tracker
    # (sAMOTA 85 -> 90, MOTA 85 -> 80), not the fused one (sAMOTA 95)
    argv = [str(lidar), "--baseline", str(fused), "--out", str(tmp_path / "r2.html")]
    rc, out, _ = _report(capsys, *argv)
    assert rc == 0 and "1 tracking metrics dropped" in out
    data = _strict((tmp_path / "r2.json").read_text())
    (line,) = data["headline"]
    assert line["baseline"] == pytest.approx(85.0)
    (drop,) = data["tracking_regressions"]
    assert (drop["baseline_table"], drop["metric"]) == ("3d_iou0.25 lidar", "MOTA")


@pytest.mark.usefixtures("no_shared_data")
def test_published_results_are_read_from_data_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _tracking_run(tmp_path / "run", samota=0.9, mota=0.8)
    root = tmp_path / "data"
    root.mkdir()
    argv = [str(run), "--data-root", str(root), "--out", str(tmp_path / "r.html")]
    rc, out, _ = _report(capsys, *argv)
    (note,) = [line for line in out.splitlines() if line.startswith("note:")]
    assert rc == 0 and f"{root / 'PUBLISHED_RESULTS.md'} not found" in note  # D looked in
    (root / "PUBLISHED_RESULTS.md").write_text("## A. AB3DMOT\n")
    rc, out, _ = _report(capsys, *argv)
    assert rc == 0 and "note:" not in out


def test_a_data_root_that_is_no_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _tracking_run(tmp_path / "run", samota=0.9, mota=0.8)
    missing = tmp_path / "nowhere"
    argv = [str(run), "--data-root", str(missing), "--out", str(tmp_path / "r.html")]
    rc, _, err = _report(capsys, *argv)
    assert rc == 2 and f"--data-root {missing} is not a folder" in err


def test_runs_without_history_are_named_in_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: a sim folder whose history.npz files were removed reported 10 runs, 10 passed and
    no word; the page had no scenario view for them."""
    sim = tmp_path / "sim"
    _write_metrics(sim, "pdm/a", 80.0, True)
    _write_metrics(sim, "pdm/b", 70.0, True)
    np.savez(sim / "pdm" / "b" / "history.npz", t=np.zeros(1))
    rc, _, err = _report(capsys, str(sim), "--out", str(tmp_path / "r.html"))
    assert rc == 0
    (warning,) = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warning == (
        "warning: 1 run(s) without history.npz beside their metrics.json: no scenario view for "
        "them (pdm/a)"
    )


def test_fail_on_regression_gives_a_ci_job_its_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report found regressions and exited 0 whatever: a pipeline had to parse the JSON
    to gate on them."""
    run = _tracking_run(tmp_path / "run", samota=0.888, mota=0.70)
    base = _tracking_run(tmp_path / "base", samota=0.900, mota=0.795)
    argv = [str(run), "--baseline", str(base), "--out", str(tmp_path / "r.html")]
    assert _report(capsys, *argv)[0] == 0
    assert _report(capsys, *argv, "--fail-on-regression")[0] == 1
    same = [str(run), "--baseline", str(run), "--out", str(tmp_path / "s.html")]
    assert _report(capsys, *same, "--fail-on-regression")[0] == 0
    sim, old = tmp_path / "sim", tmp_path / "old"
    _write_metrics(sim, "pdm/a", 60.0, True)
    _write_metrics(old, "pdm/a", 90.0, True)
    argv = [str(sim), "--baseline", str(old), "--out", str(tmp_path / "t.html")]
    assert _report(capsys, *argv, "--fail-on-regression")[0] == 1
    assert (
        _report(capsys, str(sim), "--out", str(tmp_path / "u.html"), "--fail-on-regression")[0] == 0
    )


def test_an_eval_folder_shows_no_sim_count_cards(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tracking folder's page showed '0 runs, 0 passed, 0 failed, 0 crashed ...' cards,
    where '0 failed' reads as a clean result."""
    run = _tracking_run(tmp_path / "run", samota=0.9, mota=0.8)
    assert _report(capsys, str(run), "--out", str(tmp_path / "r.html"))[0] == 0
    page = (tmp_path / "r.html").read_text()
    assert "missing metrics</div>" not in page and "crashed</div>" not in page
    sim = tmp_path / "sim"
    _write_metrics(sim, "pdm/a", 80.0, True)
    assert _report(capsys, str(sim), "--out", str(tmp_path / "s.html"))[0] == 0
    assert "missing metrics</div>" in (tmp_path / "s.html").read_text()


def test_the_sub_score_table_leaves_out_terms_under_a_twentieth_of_a_point() -> None:
    """'over the speed limit (compliance 1.00) (-0.0 points)' read like a finding on almost
    every passing run; the why cell already left such terms out."""
    from drivestack.report.html import _score_terms

    row = {
        "nuplan": {"speed_limit_compliance": 0.9999975, "comfort": 0.0},
        "score_terms": [
            {"metric": "speed_limit_compliance", "text": "over the speed limit (-0.0 points)",
             "points": 6e-05},
            {"metric": "comfort", "text": "not comfortable (-12.5 points)", "points": 12.5},
        ],
    }  # fmt: skip
    table = _score_terms(row)
    assert "not comfortable (-12.5 points)" in table and "-0.0 points" not in table


def test_results_whose_names_hold_commas_are_told_apart() -> None:
    # a replay's tracking ("sequence 0000, frames 74-153") beside an eval's ("train, frames
    # 74-153") read "tracking results of sequence 0000, frames 74-153, train, frames 74-153"
    from drivestack.commands.report import _results_held

    rows = [{"split": "sequence 0000, frames 74-153"}, {"split": "train, frames 74-153"}]
    assert _results_held({"tracking": rows}) == (
        "tracking results of sequence 0000, frames 74-153; train, frames 74-153"
    )
    assert _results_held({"tracking": [{"split": "val"}, {"split": "train"}]}) == (
        "tracking results of train, val"
    )
