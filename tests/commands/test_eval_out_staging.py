"""A second review of the eval --out rules (drivestack.commands._paths.check_eval_out,
eval_staging, swap_in_eval_out, write_eval_metrics): eval tracking stages its data/ and swaps
it in at the end (an interrupted run leaves --out as it was); only a recognised eval
metrics.json's "outputs" are honoured, and every eval command removes them when it replaces
that run; metrics.json is swapped in, never written through a symlink; the identities cover
the settings that change the figures; a metrics.json that is a folder, not an object, or
from before "outputs" was recorded is refused saying so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drivestack.cli import INTERRUPTED_STATUS, main
from drivestack.commands._paths import (
    STAGING_OWNER,
    check_eval_out,
    eval_staging,
    remove_abandoned_staging,
    write_eval_metrics,
)
from drivestack.core.errors import DataError
from tests._shared_data import missing_shared_data
from tests.commands._eval_out_helpers import ANGLET, eval_2d, folders_2d

ADCF = Path("argoverse2/sensor/val/adcf7d18-0510-35b0-a2fa-b4cea13a6d76")
#: The least a metrics.json needs to be recognised as eval detection's (report's classify).
DETECTION = {"dataset": "kitti", "metrics": {"protocol": {}}}
TRACK_ARGS = ("--split", "train", "--sequences", "0000", "--classes", "Car", "--quiet")


def _tracker(shared: Path, out: Path, *extra: str) -> int:
    root = shared / "kitti_tracking"
    return main(["eval", "tracking", "--kitti-root", str(root), *TRACK_ARGS, "--out", str(out),
                 *extra])  # fmt: skip


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"/"
        for p in sorted(folder.rglob("*"))
    }


def _interrupt_after_first_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tracker's result writer writes one file, then Ctrl-C."""
    import drivestack.ingest.kitti_tracking as kt

    real = kt.write_tracking_results

    def write(path: Path, rows: Any) -> None:
        real(path, rows)
        raise KeyboardInterrupt

    monkeypatch.setattr(kt, "write_tracking_results", write)


def test_an_interrupted_tracker_run_leaves_out_as_it_was(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reviewer's cases 1 and 2: a stopped run left a partial data/ that blocked every
    rerun, and a stopped --overwrite had removed the old data/ its metrics.json described."""
    out = tmp_path / "out"
    out.mkdir()
    with monkeypatch.context() as m:
        _interrupt_after_first_file(m)
        assert _tracker(shared_data, out) == INTERRUPTED_STATUS
    assert list(out.iterdir()) == []  # no partial data/, no scratch folder
    assert _tracker(shared_data, out) == 0  # so the rerun is not blocked
    before = _snapshot(out)
    assert json.loads(before["metrics.json"])["outputs"] == ["data"]
    assert "data/Car/0000.txt" in before
    with monkeypatch.context() as m:  # an --overwrite (another config) stopped half-way
        _interrupt_after_first_file(m)
        argv = ("--classes", "Car,Pedestrian", "--overwrite")
        assert _tracker(shared_data, out, *argv) == INTERRUPTED_STATUS
    assert _snapshot(out) == before  # the old run's files and the metrics.json describing them


def test_a_tracker_rerun_replaces_data_whole(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "out"
    assert _tracker(shared_data, out) == 0
    (out / "data" / "Car" / "stale.txt").write_text("")  # a file of the old run only
    assert _tracker(shared_data, out) == 0
    assert not (out / "data" / "Car" / "stale.txt").exists()
    assert (out / "data" / "Car" / "0000.txt").is_file()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_outputs_are_honoured_only_from_a_recognised_eval_metrics_json(tmp_path: Path) -> None:
    """Any JSON object's "outputs" was trusted: a file of no eval command listing data/ let a
    tracker run (with --overwrite) remove the user's data/."""
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "metrics.json").write_text(json.dumps({"outputs": ["data"]}))
    with pytest.raises(DataError, match=r"no metrics\.json there lists"):
        check_eval_out(out, "tracking", {}, True, writes=("data",))
    (out / "metrics.json").write_text(json.dumps({**DETECTION, "outputs": ["data"]}))
    assert check_eval_out(out, "tracking", {}, True, writes=("data",)) == ("data",)
    # a recognised one through a symlink is not this folder's run
    (tmp_path / "elsewhere.json").write_text((out / "metrics.json").read_text())
    (out / "metrics.json").unlink()
    (out / "metrics.json").symlink_to(tmp_path / "elsewhere.json")
    assert check_eval_out(out, "detection2d", {}, True) == ()


def test_a_metrics_only_command_removes_the_old_runs_listed_folders(
    tmp_path: Path, shared_data: Path
) -> None:
    """--overwrite by eval detection2d (no folder of its own) orphaned the tracker run's
    data/, which then blocked eval tracking for good."""
    labels, results = folders_2d(tmp_path)
    out = tmp_path / "out"
    assert _tracker(shared_data, out) == 0
    (out / "mine").mkdir()  # a folder no metrics.json lists: left alone
    assert eval_2d(labels, results, out, "--overwrite") == 0
    assert not (out / "data").exists() and (out / "mine").is_dir()
    assert _tracker(shared_data, out, "--overwrite") == 0  # not blocked


@pytest.mark.parametrize("command", ["detection2d", "tracking"])
def test_metrics_json_is_swapped_in_not_written_through_a_symlink(
    tmp_path: Path, shared_data: Path, command: str
) -> None:
    labels, results = folders_2d(tmp_path)
    out = tmp_path / "out"

    def run(*extra: str) -> int:
        if command == "detection2d":
            return eval_2d(labels, results, out, *extra)
        ref = shared_data / "kitti_tracking" / "reference_outputs" / "ab3dmot_2020"
        return _tracker(shared_data, out, "--results", str(ref), *extra)

    assert run() == 0
    outside = tmp_path / "precious.json"
    outside.write_text((out / "metrics.json").read_text())  # the same run's: a rerun
    (out / "metrics.json").unlink()
    (out / "metrics.json").symlink_to(outside)
    before = outside.read_text()
    assert run() == 0
    assert outside.read_text() == before
    assert not (out / "metrics.json").is_symlink()
    assert json.loads((out / "metrics.json").read_text())["outputs"] == []


def test_detection2d_tells_classes_and_filters_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels, results = folders_2d(tmp_path)
    out = tmp_path / "out"
    assert eval_2d(labels, results, out) == 0
    before = (out / "metrics.json").read_text()
    capsys.readouterr()
    assert eval_2d(labels, results, out, "--classes", "Car,Pedestrian") == 2
    assert "another classes ['Car'], now ['Car', 'Pedestrian']" in capsys.readouterr().err
    assert eval_2d(labels, results, out, "--classes", "Car", "--min-height-px", "40") == 2
    assert "filter.min_height_px 25" in capsys.readouterr().err
    assert (out / "metrics.json").read_text() == before
    assert eval_2d(labels, results, out, "--classes", "Car,Pedestrian", "--overwrite") == 0


def test_prediction_tells_settings_apart(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (shared_data / ANGLET).is_file():
        missing_shared_data(f"{ANGLET} not in the shared data")
    out = tmp_path / "out"
    argv = ["eval", "prediction", "--dataset", "commonroad", "--root", str(shared_data / ANGLET)]
    argv += ["--out", str(out), "--quiet"]
    assert main(argv) == 1  # (no case to score: written, exit 1)
    capsys.readouterr()
    for extra, why in (
        (("--horizon-s", "2.0"), "settings.horizon_s 3.0, now 2.0"),
        (("--models", "constant_velocity"), "settings.models"),
    ):
        assert main([*argv, *extra]) == 2
        assert why in capsys.readouterr().err
    assert main([*argv, "--horizon-s", "2.0", "--overwrite"]) in (0, 1)  # (written)
    assert json.loads((out / "metrics.json").read_text())["settings"]["horizon_s"] == 2.0


@pytest.mark.data
def test_planning_tells_planners_apart(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused before any work: a crafted planning metrics.json of other planners."""
    if not (shared_data / ADCF).is_dir():
        missing_shared_data(f"{ADCF} not in the shared data")
    out = tmp_path / "out"
    out.mkdir()
    root = shared_data / ADCF
    old = {"dataset": "av2", "root": str(root.resolve()), "outputs": [],
           "settings": {"horizons_s": [1.0], "planners": ["constant_velocity", "pdm"]}}  # fmt: skip
    (out / "metrics.json").write_text(json.dumps(old))
    argv = ["eval", "planning", "--dataset", "av2", "--root", str(root), "--planner", "idm"]
    assert main([*argv, "--out", str(out), "--quiet"]) == 2
    assert "settings.planners ['constant_velocity', 'pdm'], now" in capsys.readouterr().err


def test_detection_tells_max_frames_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused before any work: a crafted detection metrics.json of --max-frames 1."""
    root = tmp_path / "kitti"
    (root / "training" / "label_2").mkdir(parents=True)
    detections = tmp_path / "detections"
    detections.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    source = str(detections.resolve())
    old = {**DETECTION, "root": str(root.resolve()), "source": source, "max_frames": 1}
    (out / "metrics.json").write_text(json.dumps({**old, "outputs": []}))
    argv = ["eval", "detection", "--dataset", "kitti", "--root", str(root)]
    argv += ["--detections", str(detections), "--out", str(out), "--quiet"]
    assert main(argv) == 2
    assert "another max_frames 1, now None" in capsys.readouterr().err


def test_a_metrics_json_that_is_no_object_or_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels, results = folders_2d(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.json").write_text("[1, 2]")
    assert eval_2d(labels, results, out) == 2
    assert "its metrics.json is not a JSON object" in capsys.readouterr().err
    (out / "metrics.json").unlink()
    (out / "metrics.json").mkdir()
    for extra in ((), ("--overwrite",)):
        with pytest.raises(DataError, match=r"its metrics\.json is a folder"):
            check_eval_out(out, "detection2d", {}, bool(extra))
    assert eval_2d(labels, results, out, "--classes", "Car", "--overwrite") == 2
    err = capsys.readouterr().err
    assert "field --out" in err and "its metrics.json is a folder" in err
    assert "Is a directory" not in err


def test_refusals_say_why_a_folder_is_not_claimed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "metrics.json").write_text(json.dumps(DETECTION))  # before "outputs" was recorded
    with pytest.raises(DataError) as caught:
        check_eval_out(out, "tracking", {}, True, writes=("data",))
    assert (
        "an eval detection run from before outputs were recorded: "
        f"remove {out / 'data'}/ by hand to rerun here"
    ) in str(caught.value)
    (out / "data").rmdir()
    (tmp_path / "elsewhere").mkdir()
    (out / "data").symlink_to(tmp_path / "elsewhere")
    (out / "metrics.json").write_text(json.dumps({**DETECTION, "outputs": ["data"]}))
    with pytest.raises(
        DataError, match="holds data/, which this command writes, and it is a symlink"
    ):
        check_eval_out(out, "tracking", {}, True, writes=("data",))


def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _staging(out: Path, name: str, owner: int | str | None) -> Path:
    folder = out / name
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "0000.txt").write_text("partial\n")
    if owner is not None:
        (folder / STAGING_OWNER).write_text(f"{owner}\n")
    return folder


def test_scratch_folders_of_killed_runs_are_removed_and_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A SIGKILLed eval run cannot clean up: its .eval-<kind>-* folder (a partial data/) was
    left in --out for good. The next eval run into that --out removes it and says so; the
    scratch folders of a running process, of no recorded process, and links are kept."""
    import os

    out = tmp_path / "out"
    killed = _staging(out, ".eval-tracking-killed1", _dead_pid())
    running = _staging(out, ".eval-tracking-running", os.getppid())
    unowned = _staging(out, ".eval-detection-unowned", None)
    garbled = _staging(out, ".eval-detection-garbled", "not a pid")
    (out / ".eval-tracking-link").symlink_to(killed, target_is_directory=True)
    write_eval_metrics(out, "planning", {"metrics": {}}, ())
    assert not killed.exists()
    assert running.is_dir() and unowned.is_dir() and garbled.is_dir()
    assert (out / ".eval-tracking-link").is_symlink()
    assert sorted(p.name for p in out.iterdir()) == [
        ".eval-detection-garbled", ".eval-detection-unowned", ".eval-tracking-link",
        ".eval-tracking-running", "metrics.json",
    ]  # fmt: skip
    err = capsys.readouterr().err
    assert "removed 1 scratch folder(s) of stopped eval runs" in err
    assert ".eval-tracking-killed1" in err


def test_a_running_eval_records_its_process_in_its_scratch_folder(tmp_path: Path) -> None:
    import os

    with eval_staging(tmp_path / "out", "tracking") as staging:
        assert staging.name.startswith(".eval-tracking-")
        assert (staging / STAGING_OWNER).read_text() == f"{os.getpid()}\n"
        assert remove_abandoned_staging(tmp_path / "out") == []
    assert not staging.exists()
