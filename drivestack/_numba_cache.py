"""Where numba keeps drivestack's compiled kernels: a folder per state of the sources.

Numba's on-disk cache (``@njit(cache=True)``) is invalidated only when the caller's own source
file changes. A cached function that calls a compiled function of another module keeps the
callee's old code after that module changes, and runs it silently: after a change to
``kernels/_numba_kernels.py`` a stale cache in the checkout's ``__pycache__`` gave a closed-loop
run a different history than a fresh clone (a CommonRoad scenario scored 56.2 instead of 53.4).

So, unless ``NUMBA_CACHE_DIR`` is set, drivestack points numba at
``$XDG_CACHE_HOME/drivestack/numba/<key>`` (``~/.cache`` without it), where ``key`` digests the
path, size and modification time of every ``.py`` file of the package: any source change
starts a fresh folder and compiles anew once. A folder that cannot be created leaves numba's
default in place. Each run marks its folder used (its modification time); folders of other
source states unused for :data:`STALE_AFTER_S` (14 days) are deleted when a run starts.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

#: A cache folder of another source state unused this long (seconds) is deleted at start-up.
STALE_AFTER_S = 14 * 24 * 3600.0

_KEY_NAME = re.compile(r"[0-9a-f]{16}")


def sources_key(package_dir: Path) -> str:
    """16 hex digits of the relative path, size and ``st_mtime_ns`` of every ``.py`` file
    under ``package_dir`` (sorted): changes whenever one of them is edited, added or removed."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = Path(root, name)
                stat = path.stat()
                rel = path.relative_to(package_dir).as_posix()
                digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def configure_numba_cache(package_dir: Path) -> str | None:
    """Set ``NUMBA_CACHE_DIR`` (and numba's config when numba is already imported) to the
    folder of the current sources; the folder set, or None when the user set
    ``NUMBA_CACHE_DIR`` or the folder cannot be created (numba's default stays)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "drivestack" / "numba" / sources_key(package_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    try:  # (os.access says yes to root also on a read-only mount: write to find out)
        os.utime(folder)  # marks it used for prune_stale_folders of later runs
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return None
    prune_stale_folders(folder.parent, keep=folder.name)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    numba_config = sys.modules.get("numba.core.config")
    if numba_config is not None:  # numba read its environment already
        numba_config.CACHE_DIR = str(folder)  # type: ignore[attr-defined]
    return str(folder)


def prune_stale_folders(cache_root: Path, keep: str, now_s: float | None = None) -> list[str]:
    """Delete the key folders (16 hex digits) under ``cache_root`` other than ``keep`` whose
    modification time is more than :data:`STALE_AFTER_S` before ``now_s`` (default: now);
    the names deleted. Anything else there is left alone, and a folder that cannot be read or
    removed is skipped (another process may be using it)."""
    now = time.time() if now_s is None else now_s
    removed: list[str] = []
    try:
        entries = list(os.scandir(cache_root))
    except OSError:
        return removed
    for entry in entries:
        if entry.name == keep or not _KEY_NAME.fullmatch(entry.name):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            if now - entry.stat(follow_symlinks=False).st_mtime <= STALE_AFTER_S:
                continue
        except OSError:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        if not os.path.exists(entry.path):
            removed.append(entry.name)
    return sorted(removed)
