"""``--kitti-results DIR`` safety: a manifest names the replay whose results DIR holds; another
replay's results (or files without a manifest) are refused unless ``--overwrite``; a second
replay into DIR at once is refused (flock); the files are staged and moved in only after the
log's commit. ``--out``'s summary JSON path is checked before anything is read."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

import pytest

from drivestack.cli import main
from drivestack.eval.detection.run import KITTI_CLASSES
from drivestack.replay import runner
from drivestack.replay.kitti_log import kitti_tracking_to_log
from drivestack.replay.kitti_score import KITTI_RESULTS_LOCK, KITTI_RESULTS_MANIFEST


@pytest.fixture(scope="module")
def kitti_log(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    log = tmp_path_factory.mktemp("log") / "k.mcap"
    kitti_tracking_to_log(shared_data / "kitti_tracking", log, first_frame=74, last_frame=75)
    return log


def _replay(log: Path, out: Path, results: Path, *extra: str) -> int:
    return main(
        ["replay", str(log), "--out", str(out), "--quiet", "--kitti-results", str(results), *extra]
    )


@pytest.mark.data
def test_manifest_rerun_other_run_and_overwrite(
    kitti_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "res"
    a, b = tmp_path / "a.mcap", tmp_path / "b.mcap"
    assert _replay(kitti_log, a, results) == 0
    manifest = json.loads((results / KITTI_RESULTS_MANIFEST).read_text())
    assert manifest["out"] == str(a.resolve()) and manifest["log"] == str(kitti_log.resolve())
    assert manifest["frames"] == [74, 75] and manifest["classes"] == list(KITTI_CLASSES)
    assert manifest["files"] == [str(results / c / "0000.txt") for c in KITTI_CLASSES]
    assert all(Path(f).is_file() for f in manifest["files"])
    assert not list(results.glob(".partial-*"))
    assert _replay(kitti_log, a, results) == 0  # the same replay again replaces its own
    capsys.readouterr()
    assert _replay(kitti_log, b, results) == 2  # another replay's results: refused
    err = capsys.readouterr().err
    assert f"--kitti-results {results}" in err and f"--out {a.resolve()}" in err
    assert not b.exists()  # refused before the log is read
    assert _replay(kitti_log, b, results, "--overwrite") == 0
    assert json.loads((results / KITTI_RESULTS_MANIFEST).read_text())["out"] == str(b.resolve())


@pytest.mark.data
def test_files_without_a_manifest_and_a_held_lock_are_refused(
    kitti_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "res"
    (results / "Car").mkdir(parents=True)
    (results / "Car" / "0000.txt").write_text("someone's results\n")
    out = tmp_path / "run.mcap"
    assert _replay(kitti_log, out, results) == 2
    assert "no replay's kitti_results.json names (Car)" in capsys.readouterr().err
    assert (results / "Car" / "0000.txt").read_text() == "someone's results\n"
    (results / "Car" / "0000.txt").unlink()
    (results / "Car").rmdir()
    with (results / KITTI_RESULTS_LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # another replay writing into the folder
        assert _replay(kitti_log, out, results) == 2
        assert "another replay is writing its KITTI results" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.data
def test_results_are_moved_in_only_after_the_log_commits(
    kitti_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results, out = tmp_path / "res", tmp_path / "run.mcap"

    def interrupted(path: Path, text: str) -> None:  # Ctrl-C while the summary is written
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "write_text_atomic", interrupted)
    assert _replay(kitti_log, out, results) == 130
    assert not out.exists() and not results.exists()  # the folder it made is gone too
    monkeypatch.undo()
    assert _replay(kitti_log, out, results) == 0
    before = {c: (results / c / "0000.txt").read_text() for c in KITTI_CLASSES}
    monkeypatch.setattr(runner, "write_text_atomic", interrupted)
    assert _replay(kitti_log, out, results) == 130
    assert {c: (results / c / "0000.txt").read_text() for c in KITTI_CLASSES} == before
    assert (results / KITTI_RESULTS_MANIFEST).is_file()
    assert not list(results.glob(".partial-*"))


def test_the_summary_path_is_checked_with_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = Path(__file__).resolve().parents[2] / "data" / "demo" / "drive.mcap"
    out = tmp_path / "run.mcap"
    (tmp_path / "run.summary.json").mkdir()
    assert main(["replay", str(demo), "--out", str(out), "--quiet"]) == 2
    assert "run.summary.json is a directory" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")  # a file on the way to --out's folder
    assert main(["replay", str(demo), "--out", str(tmp_path / "file" / "x" / "r.mcap")]) == 2
    assert f"{tmp_path / 'file'} is not a directory" in capsys.readouterr().err
