"""``drivestack eval prediction`` end to end on one CommonRoad file, and its input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main as cli_main


@pytest.mark.data
def test_commonroad_file_end_to_end(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    xml = shared_data / "commonroad" / "USA_US101-4_1_T-1.xml"
    rc = cli_main(
        [
            "eval",
            "prediction",
            "--dataset",
            "commonroad",
            "--root",
            str(xml),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "recorded traffic: 116 cases" in text
    assert "lane_branches (K=6)" in text
    report = json.loads((out / "metrics.json").read_text(), parse_constant=pytest.fail)
    assert report["dataset"] == "commonroad"
    assert report["settings"]["horizon_s"] == 3.0
    assert "git_commit" in report
    assert report["recordings"][0]["traffic"] == "recorded"
    assert "NGSIM" in report["recordings"][0]["source"]
    cv = report["metrics"]["recorded"]["constant_velocity"]["vehicle"]["all"]
    st = report["metrics"]["recorded"]["stationary"]["vehicle"]["all"]
    assert cv["cases"] == 116 and cv["ADE@3s"] < st["ADE@3s"]
    mm = report["metrics"]["recorded"]["lane_branches"]["all"]["all"]
    assert mm["minFDE"] <= mm["FDE@3s"] + 1e-9  # the best of K is never worse than the top mode
    assert mm["brier_minFDE"] >= mm["minFDE"]
    assert any("ground-truth" in n for n in report["notes"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--dataset", "commonroad", "--models", "cv"], "field --models: unknown model(s) ['cv']"),
        (["--dataset", "commonroad", "--split", "val"], "field --split: --split is for"),
        (["--dataset", "av2", "--root", "/nonexistent/av2"], "/nonexistent/av2: field --root"),
        (["--dataset", "commonroad", "--root", "/nonexistent/x.xml"], "field --root"),
        (
            ["--dataset", "commonroad", "--pasts", "tracks"],
            "field --pasts: --pasts tracks runs the tracker on the AB3DMOT PointRCNN "
            "detections, which only --dataset kitti-tracking has (commonroad",
        ),
        (["--dataset", "av2", "--pasts", "tracks"], "field --pasts: --pasts tracks runs"),
        (
            ["--dataset", "kitti-tracking", "--tracker-config", "x.yaml"],
            "field --tracker-config: --tracker-config is for --pasts tracks only",
        ),
        (
            ["--dataset", "kitti-tracking", "--models", "constant_velocity,tracker_velocity"],
            "field --models: model(s) ['tracker_velocity'] need tracker pasts: add --pasts tracks",
        ),
    ],
)
def test_bad_input_is_one_line_with_exit_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    rc = cli_main(["eval", "prediction", *extra, "--out", str(tmp_path / "o"), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_non_positive_duration_is_an_argparse_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        cli_main(
            ["eval", "prediction", "--dataset", "av2", "--horizon-s", "0", "--out", str(tmp_path)]
        )
    assert exc.value.code == 2
    assert "must be a finite number > 0, got 0" in capsys.readouterr().err


def _cr_file(shared_data: Path) -> str:
    return str(shared_data / "commonroad" / "USA_US101-4_1_T-1.xml")


@pytest.mark.data
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--horizon-s", "3.05"],
            "field --horizon-s: 3.05 s is not a whole number of the recording's samples (0.1 s): "
            "nearest 3 s or 3.1 s",
        ),
        (["--history-s", "0.05"], "field --history-s: 0.05 s is shorter than one sample (0.1 s)"),
        (
            ["--fit-window-s", "0.05"],
            "field --fit-window-s: 0.05 s is shorter than one sample (0.1 s)",
        ),
        (
            ["--fit-window-s", "0.15"],
            "field --fit-window-s: 0.15 s is not a whole number of the recording's samples "
            "(0.1 s): nearest 0.1 s or 0.2 s",
        ),
    ],
)
def test_durations_off_the_sample_grid_are_refused_naming_the_option(
    shared_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    base = ["eval", "prediction", "--dataset", "commonroad", "--root", _cr_file(shared_data)]
    rc = cli_main(
        [*base, *extra, "--models", "stationary", "--out", str(tmp_path / "o"), "--quiet"]
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    if "whole number" in message:  # the recording whose grid refuses it is named
        assert err.startswith(f"error: {_cr_file(shared_data)}: field --")


@pytest.mark.data
def test_a_stride_off_the_grid_is_rounded_noted_and_recorded(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["eval", "prediction", "--dataset", "commonroad", "--root", _cr_file(shared_data)]
    out = tmp_path / "o"
    assert cli_main([*base, "--stride-s", "0.26", "--models", "stationary", "--out", str(out)]) == 0
    assert "--stride-s 0.26 is not a whole number of 0.1 s samples: anchors every 0.3 s" in (
        capsys.readouterr().out
    )
    report = json.loads((out / "metrics.json").read_text())
    assert report["recordings"][0]["stride_s"] == pytest.approx(0.3)


@pytest.mark.data
@pytest.mark.parametrize(
    ("extra", "why"),
    [
        (["--dataset", "commonroad", "--horizon-s", "100"], "no agent is observed without a gap"),
        # a stride longer than the recording leaves one anchor: the hint names the stride
        (["--dataset", "commonroad", "--stride-s", "100"], "anchors every --stride-s 100 s"),
        (["--dataset", "kitti-tracking", "--models", "lane_following"], "need a map"),
    ],
)
def test_a_run_that_scores_no_case_says_why_and_exits_1(
    shared_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    why: str,
) -> None:
    if extra[1] == "commonroad":
        extra = [*extra, "--root", _cr_file(shared_data), "--models", "stationary"]
    out = tmp_path / "o"
    assert cli_main(["eval", "prediction", *extra, "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "no case was scored: " in err and why in err and len(err.strip().splitlines()) == 1
    assert json.loads((out / "metrics.json").read_text())["metrics"] == {}


@pytest.mark.data
def test_one_av2_log_folder_as_root(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = shared_data / "argoverse2/sensor/val/7fab2350-7eaf-3b7e-a39d-6937a4c1bede"
    args = ["eval", "prediction", "--dataset", "av2", "--root", str(log)]
    out = tmp_path / "o"
    assert cli_main([*args, "--models", "constant_velocity", "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "metrics.json").read_text())
    assert [r["name"] for r in report["recordings"]] == [log.name]
    assert report["recordings"][0]["cases"] > 0


def _help_text(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        cli_main(["eval", "prediction", "--help"])
    return capsys.readouterr().out


def test_help_does_not_say_the_shipped_map_reader_may_be_missing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = _help_text(capsys)
    assert "is installed" not in text and "one log folder" in text


def test_help_keeps_the_examples_line_breaks_and_says_what_forecaster_adds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = _help_text(capsys)
    assert "--split val --pasts tracks \\\n      --out runs/pred_kitti_tracks" in text
    assert "constant_velocity,ctrv,learned \\\n      --forecaster runs/forecaster.pt" in text
    flat = " ".join(text.split())
    assert "adds model learned to the default models" in flat
    assert "with --models, that list must name learned" in flat


@pytest.mark.data
def test_tracker_pasts_need_a_tracker_of_every_detected_class(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "car_only.yaml"
    cfg.write_text("ego_motion_compensation: true\nclasses:\n  car: {}\n")
    rc = cli_main(
        [
            *("eval", "prediction", "--dataset", "kitti-tracking", "--pasts", "tracks"),
            *("--root", str(shared_data / "kitti_tracking"), "--tracker-config", str(cfg)),
            *("--out", str(tmp_path / "o"), "--quiet"),
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert "car_only.yaml: field classes.pedestrian: no tracker parameters" in err


@pytest.mark.data
@pytest.mark.slow
def test_tracker_pasts_on_the_val_split_end_to_end(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    rc = cli_main(
        [
            *("eval", "prediction", "--dataset", "kitti-tracking", "--pasts", "tracks"),
            *("--root", str(shared_data / "kitti_tracking"), "--models"),
            *("constant_velocity,tracker_velocity", "--out", str(out), "--quiet"),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "the cases both pasts give, labels pasts:" in text
    report = json.loads((out / "metrics.json").read_text(), parse_constant=pytest.fail)
    assert report["pasts"] == "tracks"
    c = report["tracking_counts"]
    assert report["cases"]["recorded"] == c["scored"] > 1000
    assert c["labels_with_future"] == c["scored"] + c["matched_short_history"] + c["missed"]
    same_t, same_l = report["same_cases"]["tracks"], report["same_cases"]["labels"]
    assert same_t["cases"] == same_l["cases"]
    assert "tracker_velocity" not in same_l["metrics"]["recorded"]
    # the stack's own tracks cost accuracy against ground-truth pasts on the same cases
    tracked = same_t["metrics"]["recorded"]["constant_velocity"]["all"]["all"]
    labelled = same_l["metrics"]["recorded"]["constant_velocity"]["all"]["all"]
    assert tracked["cases"] == labelled["cases"]
    assert tracked["ADE@1s"] > labelled["ADE@1s"]


@pytest.mark.data
def test_pooling_recordings_of_two_sample_periods_is_noted(
    shared_data: Path, tmp_path: Path
) -> None:
    # the A9 (0.2 s) and NGSIM (0.1 s) recordings were pooled into one ADE without a word
    out = tmp_path / "o"
    argv = ["eval", "prediction", "--dataset", "commonroad", "--models", "constant_velocity"]
    assert (
        cli_main([*argv, "--root", str(shared_data / "commonroad"), "--out", str(out), "--quiet"])
        == 0
    )
    notes = json.loads((out / "metrics.json").read_text())["notes"]
    assert any(n.startswith("recordings sampled every 0.1 and 0.2 s are pooled") for n in notes)
    one = tmp_path / "one"
    assert cli_main([*argv, "--root", _cr_file(shared_data), "--out", str(one), "--quiet"]) == 0
    notes = json.loads((one / "metrics.json").read_text())["notes"]
    assert not any("are pooled" in n for n in notes)
