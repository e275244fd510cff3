"""Every eval command refuses an --out holding another run's results (another eval command's,
or the same command's on other data / files) unless --overwrite; a rerun of the same run
replaces its own; and the folders an old run's metrics.json lists as its outputs (the
tracker's data/) are not left beside a new metrics.json, while folders no metrics.json lists
are never removed (drivestack.commands._paths.check_eval_out / swap_in_eval_out;
test_eval_out_user_files.py has the user's files)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from drivestack.cli import build_parser, main
from drivestack.report.collect import classify
from tests.commands._eval_out_helpers import eval_2d, folders_2d

EVAL_COMMANDS = ("detection", "detection2d", "tracking", "prediction", "planning")


def _eval_tracking(shared: Path, out: Path, *extra: str) -> int:
    ref = shared / "kitti_tracking" / "reference_outputs" / "ab3dmot_2020"
    argv = ["eval", "tracking", "--split", "train", "--sequences", "0000", "--classes", "Car"]
    return main([*argv, "--results", str(ref), "--out", str(out), "--quiet", *extra])


def _kind(out: Path) -> str | None:
    return classify(json.loads((out / "metrics.json").read_text()))


def test_every_eval_command_has_overwrite() -> None:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    evals = next(
        a for a in sub.choices["eval"]._actions if isinstance(a, argparse._SubParsersAction)
    )
    for name in EVAL_COMMANDS:
        options = {o for a in evals.choices[name]._actions for o in a.option_strings}
        assert "--overwrite" in options, name


def test_rerun_replaces_its_own_and_other_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels, results = folders_2d(tmp_path)
    out = tmp_path / "out"
    assert eval_2d(labels, results, out) == 0
    assert eval_2d(labels, results, out) == 0  # the same run again: its own files replaced
    other = tmp_path / "other_results"
    other.mkdir()
    (other / "000000.txt").write_text((results / "000000.txt").read_text())
    capsys.readouterr()
    assert eval_2d(labels, other, out) == 2  # other result files: another run's folder
    err = capsys.readouterr().err
    assert "field --out: already holds the results of another run (another detections" in err
    assert "--overwrite" in err
    assert eval_2d(labels, other, out, "--overwrite") == 0
    assert json.loads((out / "metrics.json").read_text())["detections"] == str(other)


def test_tracking_into_another_commands_folder(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels, results = folders_2d(tmp_path)
    out = tmp_path / "out"
    assert eval_2d(labels, results, out) == 0
    capsys.readouterr()
    assert _eval_tracking(shared_data, out) == 2
    assert "a metrics.json of drivestack eval detection2d, not tracking" in (
        capsys.readouterr().err
    )
    assert _kind(out) == "detection2d"  # left as it was
    assert _eval_tracking(shared_data, out, "--overwrite") == 0
    assert _kind(out) == "tracking"
    capsys.readouterr()
    assert eval_2d(labels, results, out) == 2  # and the other way round
    assert "a metrics.json of drivestack eval tracking, not detection2d" in (
        capsys.readouterr().err
    )


def test_a_tracker_runs_files_do_not_stay_beside_scored_results(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _eval_tracking(shared_data, out) == 0
    # as a tracker run leaves it: its config in metrics.json, its files in data/
    metrics = json.loads((out / "metrics.json").read_text())
    metrics["config_file"] = str(Path("configs/tracking/kitti_pointrcnn.yaml").resolve())
    metrics["outputs"] = ["data"]
    del metrics["results"]
    (out / "metrics.json").write_text(json.dumps(metrics))
    (out / "data" / "Car").mkdir(parents=True)
    (out / "data" / "Car" / "0000.txt").write_text("")
    capsys.readouterr()
    assert _eval_tracking(shared_data, out) == 2
    assert "another results None, now " in capsys.readouterr().err
    assert _eval_tracking(shared_data, out, "--overwrite") == 0
    assert not (out / "data").exists()  # the tracker's files went with its metrics.json
    assert json.loads((out / "metrics.json").read_text())["outputs"] == []
    # a rerun of the same scoring: its own metrics.json replaced; a data/ it did not list
    # (the user's) is left alone
    (out / "data").mkdir()
    assert _eval_tracking(shared_data, out) == 0
    assert (out / "data").is_dir()


def test_a_rerun_of_the_same_scoring_replaces_it(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "out"
    assert _eval_tracking(shared_data, out) == 0
    first = json.loads((out / "metrics.json").read_text())
    assert _eval_tracking(shared_data, out) == 0
    again = json.loads((out / "metrics.json").read_text())
    assert again["metrics"] == first["metrics"]
