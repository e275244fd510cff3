"""``drivestack bench kernels`` refuses a negative seed and a damaged KITTI scan before it
times anything (one line naming the field or file, exit status 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.bench import kernels
from drivestack.cli import main
from drivestack.core.errors import DataError


def test_a_negative_seed_is_refused_before_timing(capsys) -> None:
    assert main(["bench", "kernels", "--quick", "--seed", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == "error: field seed: must be an integer >= 0, got -1"


def test_a_damaged_kitti_scan_is_refused_before_timing(tmp_path: Path) -> None:
    scan = tmp_path / "training" / "velodyne" / "000000.bin"
    scan.parent.mkdir(parents=True)
    scan.write_bytes(b"\0" * 100)  # not whole (x, y, z, r) float32 points
    logged: list[str] = []
    with pytest.raises(DataError, match="not a multiple of 16") as info:
        kernels.run(quick=True, repeats=1, kitti_object_dir=tmp_path, log=logged.append)
    assert info.value.path == str(scan) and logged == []  # nothing ran
