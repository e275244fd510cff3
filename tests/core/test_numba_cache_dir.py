"""drivestack keeps numba's compiled kernels in a folder per state of its sources."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import drivestack
from drivestack._numba_cache import (
    STALE_AFTER_S,
    configure_numba_cache,
    prune_stale_folders,
    sources_key,
)


def _tree(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    (pkg / "notes.txt").write_text("not a source\n")
    return pkg


def test_the_key_changes_with_any_source_and_only_with_sources(tmp_path: Path) -> None:
    pkg = _tree(tmp_path)
    key = sources_key(pkg)
    assert key == sources_key(pkg) and len(key) == 16
    (pkg / "notes.txt").write_text("edited\n")
    assert sources_key(pkg) == key  # not a .py file
    (pkg / "sub" / "b.py").write_text("y = 3\n")
    os.utime(pkg / "sub" / "b.py", ns=(1, 1))
    edited = sources_key(pkg)
    assert edited != key
    (pkg / "c.py").write_text("")
    assert sources_key(pkg) not in (key, edited)


def test_the_folder_is_set_under_the_cache_home_unless_the_user_set_one(
    tmp_path: Path, monkeypatch
) -> None:
    pkg = _tree(tmp_path)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = configure_numba_cache(pkg)
    assert folder == str(tmp_path / "cache" / "drivestack" / "numba" / sources_key(pkg))
    assert os.environ["NUMBA_CACHE_DIR"] == folder and Path(folder).is_dir()
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert configure_numba_cache(pkg) is None
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")


def test_an_unusable_cache_home_leaves_numbas_default(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file: no folder can go under it
    assert configure_numba_cache(_tree(tmp_path)) is None
    assert "NUMBA_CACHE_DIR" not in os.environ


def test_importing_drivestack_points_numba_at_the_sources_folder(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    code = "import drivestack, numba.core.config as c; print(c.CACHE_DIR)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    key = sources_key(Path(drivestack.__file__).parent)
    assert out == str(tmp_path / "drivestack" / "numba" / key)


def test_folders_of_other_sources_unused_for_two_weeks_are_deleted(
    tmp_path: Path, monkeypatch
) -> None:
    root = tmp_path / "cache" / "drivestack" / "numba"
    old, recent, other = root / ("a" * 16), root / ("b" * 16), root / "my-notes"
    for folder in (old, recent, other):
        folder.mkdir(parents=True)
        (folder / "kernel.nbi").write_text("")
    now = 1e9
    os.utime(old, (now - STALE_AFTER_S - 60, now - STALE_AFTER_S - 60))
    os.utime(recent, (now - STALE_AFTER_S + 60, now - STALE_AFTER_S + 60))
    os.utime(other, (0, 0))  # not a key folder: never touched
    assert prune_stale_folders(root, keep="c" * 16, now_s=now) == ["a" * 16]
    assert not old.exists() and recent.is_dir() and other.is_dir()
    # the folder in use is kept however old, and a run marks it used
    os.utime(recent, (0, 0))
    assert prune_stale_folders(root, keep="b" * 16, now_s=now) == []
    pkg = _tree(tmp_path)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    mine = Path(str(configure_numba_cache(pkg)))
    assert abs(mine.stat().st_mtime - time.time()) < 60
    assert not recent.exists()  # configure pruned it: unused since 1970
    assert prune_stale_folders(tmp_path / "absent", keep="") == []
