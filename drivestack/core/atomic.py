"""Result files written whole or not at all: written under a temporary name, then renamed.

A reader (``drivestack report``, a resumed fleet) never sees half a file, and a run stopped
mid-write leaves the old file (or none) under the final name, never a truncated one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


def partial_path(path: Path) -> Path:
    """The temporary name ``path`` is written under until it is complete (``X.partial``)."""
    return path.with_name(path.name + ".partial")


def _replace_with(tmp: Path, path: Path, write: Callable[[Path], T]) -> T:
    """``write(tmp)`` then rename ``tmp`` over ``path``; ``tmp`` removed when either fails
    (or is interrupted), so no temporary file is left behind. Returns what ``write`` did."""
    try:
        written = write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return written


def write_atomic(path: Path, write: Callable[[Path], T]) -> T:
    """``write(path.partial)`` (:func:`partial_path`) renamed over ``path`` when complete;
    returns what ``write`` returned."""
    return _replace_with(partial_path(path), path, write)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through ``path.partial`` renamed over it."""
    _replace_with(partial_path(path), path, lambda tmp: tmp.write_text(text))


def save_npz_atomic(path: Path, arrays: dict[str, Any]) -> None:
    """``np.savez_compressed`` of ``arrays`` to ``path`` through a temporary file."""
    save: Any = np.savez_compressed
    # savez adds .npz to other names
    _replace_with(path.with_name(path.name + ".partial.npz"), path, lambda tmp: save(tmp, **arrays))
