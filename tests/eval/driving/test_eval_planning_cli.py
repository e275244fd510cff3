"""``drivestack eval planning``: its input errors, and one AV2 log end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main as cli_main

ADCF = "argoverse2/sensor/val/adcf7d18-0510-35b0-a2fa-b4cea13a6d76"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--dataset", "commonroad"], "field --dataset: CommonRoad scenarios give the ego's"),
        (["--dataset", "av2", "--planner", "pdm,rrt"], "field --planner: unknown planner 'rrt'"),
        (["--dataset", "av2", "--root", "/nonexistent/av2"], "/nonexistent/av2: field --root"),
    ],
)
def test_bad_input_is_one_line_with_exit_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    rc = cli_main(["eval", "planning", *extra, "--out", str(tmp_path / "o"), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_root_without_logs_and_an_out_that_is_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "o"
    rc = cli_main(["eval", "planning", "--dataset", "av2", "--root", str(empty), "--out", str(out)])
    assert rc == 2 and "no <log_id>/annotations.feather" in capsys.readouterr().err
    out.write_text("")
    rc = cli_main(["eval", "planning", "--dataset", "av2", "--root", str(empty), "--out", str(out)])
    assert rc == 2 and "field --out: not a directory" in capsys.readouterr().err


@pytest.mark.data
def test_one_av2_log_end_to_end(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "logs"
    root.mkdir()
    (root / Path(ADCF).name).symlink_to(shared_data / ADCF)
    out = tmp_path / "out"
    args = ["eval", "planning", "--dataset", "av2", "--root", str(root), "--planner", "idm"]
    assert cli_main([*args, "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "constant_velocity  adcf7d18    13/11/8" in text
    assert "idm                adcf7d18    13/11/8" in text
    report = json.loads((out / "metrics.json").read_text(), parse_constant=pytest.fail)
    assert report["settings"]["planners"] == ["constant_velocity", "idm"]
    assert report["settings"]["horizons_s"] == [3.0, 5.0, 8.0]
    assert report["settings"]["miss_thresholds_m"] == [6.0, 8.0, 16.0]
    assert "git_commit" in report and "command" in report
    (log,) = report["logs"]
    assert log["log"] == Path(ADCF).name and len(log["instants_s"]) == 13
    idm = log["planners"]["idm"]
    assert [h["instants"] for h in idm["horizons"]] == [13, 11, 8]
    assert len(idm["instants"]) == 13 and len(idm["instants"][0]["displacement_m"]) == 8
    assert len(idm["instants"][-1]["displacement_m"]) == 3  # 12 s: the log ends at 15.5 s
    assert report["overall"]["idm"]["score"] == idm["score"]  # one log: its own score


def test_a_root_may_be_one_log_folder(tmp_path: Path) -> None:
    from drivestack.commands._paths import av2_log_dirs

    for log in ("b", "a"):
        (tmp_path / log).mkdir()
        (tmp_path / log / "annotations.feather").write_bytes(b"")
    assert av2_log_dirs(tmp_path) == [tmp_path / "a", tmp_path / "b"]
    assert av2_log_dirs(tmp_path / "a") == [tmp_path / "a"]  # one log, not its parent


@pytest.mark.data
def test_one_log_folder_as_root_end_to_end(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = shared_data / ADCF
    args = ["eval", "planning", "--dataset", "av2", "--root", str(log), "--planner", "idm"]
    assert cli_main([*args, "--out", str(tmp_path), "--quiet"]) == 0, capsys.readouterr().err
    report = json.loads((tmp_path / "metrics.json").read_text())
    assert [r["log"] for r in report["logs"]] == [Path(ADCF).name]


@pytest.mark.data
def test_planner_params_reach_the_planner_and_are_recorded(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = shared_data / ADCF
    args = ["eval", "planning", "--dataset", "av2", "--root", str(log), "--planner", "idm"]
    assert cli_main([*args, "--out", str(tmp_path / "plain"), "--quiet"]) == 0
    slow = tmp_path / "slow.yaml"
    slow.write_text("idm: {idm: {max_accel_mps2: 0.2}}\nvehicle: {max_steering_rad: 0.5}\n")
    out = tmp_path / "slow"
    assert cli_main([*args, "--planner-params", str(slow), "--out", str(out), "--quiet"]) == 0
    plain = json.loads((tmp_path / "plain" / "metrics.json").read_text())
    report = json.loads((out / "metrics.json").read_text())
    settings = report["settings"]
    assert settings["planner_params_file"] == str(slow.resolve())
    assert settings["planner_params"]["idm"]["idm"]["max_accel_mps2"] == 0.2
    assert settings["planner_params"]["vehicle"]["max_steering_rad"] == 0.5
    assert (
        "tracker" not in settings["planner_params"] and plain["settings"]["planner_params"] is None
    )

    def errors(r: dict, planner: str) -> list:
        return [i["displacement_m"] for i in r["logs"][0]["planners"][planner]["instants"]]

    assert errors(report, "constant_velocity") == errors(plain, "constant_velocity")
    assert errors(report, "idm") != errors(plain, "idm")  # the IDM plans accelerate less
    # another file into the same --out: another run's results, refused without --overwrite
    other = tmp_path / "other.yaml"
    other.write_text("idm: {idm: {max_accel_mps2: 0.4}}\n")
    assert cli_main([*args, "--planner-params", str(other), "--out", str(out), "--quiet"]) == 2
    capsys.readouterr()
    tracker = tmp_path / "tracker.yaml"
    tracker.write_text("tracker: {speed_kp: 1.2}\n")
    rc = cli_main([*args, "--planner-params", str(tracker), "--out", str(tmp_path / "t")])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {tracker}: field tracker: open-loop plans are never driven: no trajectory "
        "tracker runs (remove it)"
    )
