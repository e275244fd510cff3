"""The eval commands never remove a folder of --out that no metrics.json there lists as its
run's outputs (the user's files), never one holding an input, follow no symlink out of --out,
tell runs apart by every input (eval tracking's split, sequences, frames, classes, KITTI root)
and compare paths resolved (drivestack.commands._paths.check_eval_out)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from drivestack.cli import main
from tests._shared_data import missing_shared_data
from tests.commands._eval_out_helpers import ANGLET, eval_2d, folders_2d


def _tracking(root: Path, out: Path, *extra: str, results: Path | None = None) -> int:
    ref = root / "reference_outputs" / "ab3dmot_2020" if results is None else results
    argv = ["eval", "tracking", "--kitti-root", str(root), "--quiet"]
    if "--split" not in extra:
        argv += ["--split", "train"]
    return main([*argv, "--results", str(ref), "--out", str(out), *extra])


def _user_data(out: Path) -> Path:
    notes = out / "data" / "user_notes.txt"
    notes.parent.mkdir(parents=True)
    notes.write_text("x\n")
    return notes


def test_prediction_leaves_the_users_data_alone(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reviewer's case: eval prediction, which writes no folder, into a folder holding
    the user's data/: not refused, and data/ survives a rerun and --overwrite."""
    if not (shared_data / ANGLET).is_file():
        missing_shared_data(f"{ANGLET} not in the shared data")
    notes = _user_data(tmp_path / "d")
    monkeypatch.chdir(tmp_path / "d")
    argv = ["eval", "prediction", "--dataset", "commonroad", "--root", str(shared_data / ANGLET)]
    for extra in ((), (), ("--overwrite",)):
        # (exit 1: the file has no case to score; written, not refused as 2 would be)
        assert main([*argv, "--out", ".", "--quiet", *extra]) == 1
        assert notes.read_text() == "x\n"
    assert json.loads(Path("metrics.json").read_text())["outputs"] == []


def test_metrics_only_commands_remove_only_listed_folders(tmp_path: Path) -> None:
    labels, results = folders_2d(tmp_path)
    out = tmp_path / "out"
    notes = _user_data(out)
    (out / "detections").mkdir()
    assert eval_2d(labels, results, out) == 0  # unknown folders: left alone, not refused
    assert eval_2d(labels, results, out) == 0  # a rerun beside its metrics.json too
    assert notes.read_text() == "x\n" and (out / "detections").is_dir()
    # the folders a replaced eval run's metrics.json lists are its outputs: removed with it
    # by every eval command (none is orphaned to block a later tracker run)
    metrics = json.loads((out / "metrics.json").read_text())
    (out / "metrics.json").write_text(json.dumps({**metrics, "outputs": ["data", "detections"]}))
    assert eval_2d(labels, results, out, "--overwrite") == 0
    assert not (out / "data").exists() and not (out / "detections").exists()
    assert json.loads((out / "metrics.json").read_text())["outputs"] == []


def _kitti_copy(shared_data: Path, root: Path) -> Path:
    """A KITTI tracking root for scoring sequence 0000 (train split): seqmaps, the labels of
    0000 and AB3DMOT's result files of 0000."""
    src = shared_data / "kitti_tracking"
    shutil.copytree(src / "seqmaps", root / "seqmaps")
    (root / "training" / "label_02").mkdir(parents=True)
    shutil.copy(src / "training" / "label_02" / "0000.txt", root / "training" / "label_02")
    ref = root / "reference_outputs" / "ab3dmot_2020"
    for cls in ("Car", "Pedestrian", "Cyclist"):
        (ref / cls).mkdir(parents=True)
        shutil.copy(src / "reference_outputs" / "ab3dmot_2020" / cls / "0000.txt", ref / cls)
    return root


def test_tracking_refuses_to_remove_its_own_kitti_root(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tracker run's metrics.json lists data/; the KITTI root given now lies in it: the
    run that would replace data/ is refused, --overwrite or not, and the root stays."""
    out = tmp_path / "out"
    root = _kitti_copy(shared_data, out / "data" / "kitti")
    base = ("--sequences", "0000", "--classes", "Car")
    assert _tracking(root, out, *base) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["outputs"] == [] and metrics["kitti_root"] == str(root.resolve())
    (out / "metrics.json").write_text(json.dumps({**metrics, "outputs": ["data"]}))
    capsys.readouterr()
    for extra in ((), ("--overwrite",)):
        assert _tracking(root, out, *base, *extra) == 2
        err = capsys.readouterr().err
        assert (
            "--kitti-root" in err
            and "--kitti-root lies in --out's data/, which this run would remove" in err
        )
        assert (root / "training" / "label_02" / "0000.txt").is_file()


def test_tracking_never_writes_into_an_unlisted_data_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tracker run writes data/: one no metrics.json lists (the user's, or a symlink out
    of --out) is refused even with --overwrite, and left as it was."""
    out = tmp_path / "out"
    notes = _user_data(out)
    argv = ["eval", "tracking", "--split", "val", "--out", str(out), "--quiet"]
    for extra in ((), ("--overwrite",)):
        assert main([*argv, *extra]) == 2
        err = capsys.readouterr().err
        assert "holds data/, which this command writes but no metrics.json there lists" in err
        assert "files this command would not overwrite" in err
    assert notes.read_text() == "x\n"
    # a metrics.json that lists data/, but data/ is a symlink out of --out: not followed
    outside = tmp_path / "elsewhere"
    (out / "data").rename(outside)
    (out / "data").symlink_to(outside)
    (out / "metrics.json").write_text(json.dumps({"outputs": ["data"]}))  # no eval kind
    assert main([*argv, "--overwrite"]) == 2
    assert "holds data/, which this command writes" in capsys.readouterr().err
    assert (outside / "user_notes.txt").read_text() == "x\n"


@pytest.mark.parametrize(
    ("option", "value", "why"),
    [
        ("--sequences", "0002", "another sequences ['0000'], now ['0002']"),
        ("--classes", "Pedestrian", "another classes ['Car'], now ['Pedestrian']"),
        ("--frames", "0:50", "another frames None, now {'first': 0, 'last': 50}"),
        ("--split", "training", "another split train, now training"),
    ],
)
def test_tracking_runs_on_other_inputs_are_other_runs(
    tmp_path: Path,
    shared_data: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    why: str,
) -> None:
    root = shared_data / "kitti_tracking"
    out = tmp_path / "out"
    given = {"--sequences": "0000", "--classes": "Car", "--split": "train"}  # 0000: in both
    argv = [a for k, v in given.items() for a in (k, v)]
    assert _tracking(root, out, *argv) == 0
    before = (out / "metrics.json").read_text()
    other = {**given, option: value}
    argv = [a for k, v in other.items() for a in (k, v)]
    capsys.readouterr()
    assert _tracking(root, out, *argv) == 2
    assert why in capsys.readouterr().err
    assert (out / "metrics.json").read_text() == before


def test_tracking_tells_kitti_roots_apart(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = _kitti_copy(shared_data, tmp_path / "kitti")
    out = tmp_path / "out"
    base = ("--sequences", "0000", "--classes", "Car")
    assert _tracking(shared_data / "kitti_tracking", out, *base) == 0
    capsys.readouterr()
    assert _tracking(copy, out, *base, results=shared_data / "kitti_tracking"
                     / "reference_outputs" / "ab3dmot_2020") == 2  # fmt: skip
    assert f"now {copy.resolve()}" in capsys.readouterr().err


def test_paths_are_compared_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    labels, results = folders_2d(tmp_path)
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    assert eval_2d("label_2", "results", "out") == 0  # relative ...
    stored = json.loads((out / "metrics.json").read_text())
    assert stored["source"] == str(labels.resolve())  # stored resolved
    assert eval_2d(labels, results, out) == 0  # ... then absolute: the same run
    # the same relative strings from another folder: other files, another run
    other = tmp_path / "b"
    folders_2d(other)
    monkeypatch.chdir(other)
    capsys.readouterr()
    assert eval_2d("label_2", "results", out) == 2
    assert f"another source {labels.resolve()}, now {(other / 'label_2').resolve()}" in (
        capsys.readouterr().err
    )
    # an older metrics.json with relative paths: cannot be told, said so
    (out / "metrics.json").write_text(json.dumps({**stored, "source": "label_2"}))
    assert eval_2d(labels, results, out) == 2
    err = capsys.readouterr().err
    assert "source label_2 is a relative path (an older run's)" in err and "--overwrite" in err
    assert eval_2d(labels, results, out, "--overwrite") == 0


def test_a_folder_to_remove_inside_an_input_is_refused(tmp_path: Path) -> None:
    """--out inside an input's folder: its listed data/ (which the run would remove) lies in
    the input, refused; the same --out without an old data/ to remove is not."""
    from drivestack.commands._paths import check_eval_out
    from drivestack.core.errors import DataError

    root = tmp_path / "root"
    out = root / "runs" / "out"
    (out / "data").mkdir(parents=True)
    detection = {"dataset": "kitti", "metrics": {"protocol": {}}}  # a recognised eval result
    (out / "metrics.json").write_text(json.dumps({**detection, "outputs": ["data"]}))
    with pytest.raises(DataError, match=r"--out's data/, which this run would remove, lies in"):
        check_eval_out(out, "tracking", {}, True, {"--kitti-root": root}, ("data",))
    (out / "metrics.json").write_text(json.dumps({**detection, "outputs": []}))
    (out / "data").rmdir()
    assert check_eval_out(out, "tracking", {}, True, {"--kitti-root": root}, ("data",)) == ()
