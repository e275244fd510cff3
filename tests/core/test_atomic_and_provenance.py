"""Whole-or-nothing result files leave no temporary file behind when writing fails, and the
recorded git commit is drivestack's own checkout's or none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import drivestack.core.provenance as provenance
from drivestack.core.atomic import save_npz_atomic, write_text_atomic


def test_a_failed_rename_leaves_no_partial_file(tmp_path: Path) -> None:
    (tmp_path / "summary.json").mkdir()  # a folder where the file should go
    with pytest.raises(OSError):
        write_text_atomic(tmp_path / "summary.json", "{}")
    (tmp_path / "history.npz").mkdir()
    with pytest.raises(OSError):
        save_npz_atomic(tmp_path / "history.npz", {"x": np.zeros(3)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.npz", "summary.json"]
    write_text_atomic(tmp_path / "ok.json", "{}")
    assert (tmp_path / "ok.json").read_text() == "{}"


def test_the_commit_is_none_outside_drivestacks_own_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner = tmp_path / "site-packages" / "drivestack"
    inner.mkdir(parents=True)
    # a package folder inside some other git repository (a wheel in a venv in a project)
    repo_pkg = Path(provenance.__file__).resolve().parents[1] / "core"
    for pkg, expect_none in ((inner, True), (repo_pkg, True)):
        monkeypatch.setattr(provenance, "PACKAGE_DIR", pkg)
        provenance.git_commit.cache_clear()
        assert (provenance.git_commit() is None) == expect_none
    provenance.git_commit.cache_clear()
