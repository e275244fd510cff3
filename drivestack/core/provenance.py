"""Where a run's results came from: the drivestack checkout's git commit at run time."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

#: The folder git is asked about: the checkout drivestack is imported from.
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str | None:
    """``git ARGS`` run in the package's folder: its stdout, or None when git fails."""
    try:
        out = subprocess.run(
            ["git", *args],
            cwd=PACKAGE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The short commit of the drivestack checkout, with ``-dirty`` when tracked files have
    changes; None when drivestack is not run from a git checkout (an installed wheel).

    Asked once per process: a run records the commit it started with.
    """
    top = _git("rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != PACKAGE_DIR.parent:
        return None  # not drivestack's own checkout (e.g. a wheel in a venv inside a repo)
    head = _git("rev-parse", "--short", "HEAD")
    if not head:
        return None
    changes = _git("status", "--porcelain", "--untracked-files=no")
    return f"{head}-dirty" if changes else head


def run_provenance(command: str | None = None) -> dict[str, str | None]:
    """What a result records of the run that made it: ``drivestack_version``, ``git_commit``
    (:func:`git_commit`) and ``command`` (the given command, else this process's command
    line). Sim and fleet manifests, eval metrics.json files and logs' run records use it."""
    import sys

    from drivestack import __version__

    return {
        "drivestack_version": __version__,
        "git_commit": git_commit(),
        "command": " ".join(sys.argv) if command is None else command,
    }
