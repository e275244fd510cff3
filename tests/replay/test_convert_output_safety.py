"""The converters write ``OUT.partial`` and rename it to ``OUT`` only when complete: a bad
scan mid-sequence (exit 2) or Ctrl-C (one line, exit 130) leaves an older ``OUT`` as it was
and no partial log; a sequence with a gap is refused without a range too."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from drivestack.commands import convert_log
from drivestack.core.atomic import partial_path
from tests.replay._tools import load_tool

SCANS = Path("training") / "velodyne_pcd_xz" / "0000"


def _kitti_copy(shared_data: Path, root: Path, frames: list[int]) -> Path:
    """A KITTI tracking folder of ``frames`` of sequence 0000 (scans linked, not copied)."""
    src = shared_data / "kitti_tracking" / "training"
    for sub in ("calib", "label_02"):
        (root / "training" / sub).mkdir(parents=True)
        (root / "training" / sub / "0000.txt").symlink_to(src / sub / "0000.txt")
    (root / SCANS).mkdir(parents=True)
    for n in frames:
        (root / SCANS / f"{n:06d}.pcd.xz").symlink_to(
            src / "velodyne_pcd_xz" / "0000" / f"{n:06d}.pcd.xz"
        )
    return root


@pytest.mark.data
def test_a_bad_scan_mid_sequence_keeps_the_older_log(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool = load_tool("kitti_tracking_to_log")
    root = _kitti_copy(shared_data, tmp_path / "kitti", [74, 75])
    (root / SCANS / "000076.pcd.xz").write_bytes(b"not xz!!")  # read after 74 and 75
    out = tmp_path / "k.mcap"
    out.write_bytes(b"older log")
    assert tool.main(["--root", str(root), "--out", str(out), "--overwrite"]) == 2
    assert "000076.pcd.xz" in capsys.readouterr().err
    assert out.read_bytes() == b"older log" and not partial_path(out).exists()
    # a new folder for the output is removed too
    assert tool.main(["--root", str(root), "--out", str(tmp_path / "new" / "k.mcap")]) == 2
    assert not (tmp_path / "new").exists()


@pytest.mark.data
def test_ctrl_c_is_one_line_exit_130_and_keeps_the_older_log(
    shared_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupted_after_one(numbers: Iterable[int]) -> Iterator[int]:
        yield next(iter(numbers))
        raise KeyboardInterrupt

    monkeypatch.setattr(convert_log, "progress_bar", interrupted_after_one)
    tool = load_tool("kitti_tracking_to_log")
    root = _kitti_copy(shared_data, tmp_path / "kitti", [74, 75])
    out = tmp_path / "k.mcap"
    out.write_bytes(b"older log")
    assert tool.main(["--root", str(root), "--out", str(out), "--overwrite"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"
    assert out.read_bytes() == b"older log" and not partial_path(out).exists()


@pytest.mark.data
def test_a_complete_conversion_replaces_the_older_log(shared_data: Path, tmp_path: Path) -> None:
    from drivestack.replay.log_reader import LogReader

    tool = load_tool("kitti_tracking_to_log")
    root = _kitti_copy(shared_data, tmp_path / "kitti", [74, 75])
    out = tmp_path / "k.mcap"
    out.write_bytes(b"older log")
    assert tool.main(["--root", str(root), "--out", str(out), "--overwrite", "--quiet"]) == 0
    assert not partial_path(out).exists()
    assert "/labels/kitti" in LogReader(out).topics()


@pytest.mark.data
def test_an_existing_log_is_kept_without_overwrite(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: a converter run with the --out of another log replaced it, exit 0, no message."""
    tool = load_tool("kitti_tracking_to_log")
    root = _kitti_copy(shared_data, tmp_path / "kitti", [74, 75])
    out = tmp_path / "k.mcap"
    out.write_bytes(b"older log")
    assert tool.main(["--root", str(root), "--out", str(out), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: field --out: {out} exists: give another --out, or --overwrite to replace it"
    )
    assert out.read_bytes() == b"older log"


@pytest.mark.data
def test_a_gap_is_refused_without_a_range_too(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool = load_tool("kitti_tracking_to_log")
    root = _kitti_copy(shared_data, tmp_path / "kitti", [74, 75, 77])
    out = tmp_path / "k.mcap"
    assert tool.main(["--root", str(root), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "frames 74-77 (all, no range given) asked" in err and "frames 74-75, 77" in err
    assert not out.exists() and not partial_path(out).exists()
