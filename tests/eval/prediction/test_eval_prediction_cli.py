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
    assert "must be a finite number of seconds > 0" in capsys.readouterr().err
