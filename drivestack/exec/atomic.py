"""Result files written whole or not at all: written under a temporary name, then renamed.

A reader (``drivestack report``, a resumed fleet) never sees half a file, and a run stopped
mid-write leaves the old file (or none) under the final name, never a truncated one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


def partial_path(path: Path) -> Path:
    """The temporary name ``path`` is written under until it is complete (``X.partial``)."""
    return path.with_name(path.name + ".partial")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through ``path.partial`` renamed over it."""
    tmp = partial_path(path)
    tmp.write_text(text)
    os.replace(tmp, path)


def save_npz_atomic(path: Path, arrays: dict[str, Any]) -> None:
    """``np.savez_compressed`` of ``arrays`` to ``path`` through a temporary file."""
    tmp = path.with_name(path.name + ".partial.npz")  # savez adds .npz to other names
    save: Any = np.savez_compressed
    save(tmp, **arrays)
    os.replace(tmp, path)
