"""tools/kitti_tracking_to_log.py finds KITTI tracking as the commands do: ``--root``, else
``kitti_tracking`` in ``$DRIVESTACK_SHARED_DATA`` or ``../shared/data``; with neither it says
so (not "no scans")."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.commands import _paths
from drivestack.commands.convert_log import kitti_tracking_main


def test_no_root_and_no_shared_data_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_paths, "default_shared_data", lambda: None)
    out = tmp_path / "runs" / "k.mcap"
    assert kitti_tracking_main("", ["--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no --root given and ../shared/data not found (set DRIVESTACK_SHARED_DATA)" in err
    assert "no scans" not in err and not (tmp_path / "runs").exists()


def test_the_shared_data_variable_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = tmp_path / "shared"
    (shared / "kitti_tracking").mkdir(parents=True)  # a KITTI folder without sequence 0000
    monkeypatch.setenv("DRIVESTACK_SHARED_DATA", str(shared))
    argv = ["--out", str(tmp_path / "k.mcap"), "--first-frame", "0", "--last-frame", "0"]
    assert kitti_tracking_main("", argv) == 2
    assert str(shared / "kitti_tracking") in capsys.readouterr().err  # read there, not elsewhere
