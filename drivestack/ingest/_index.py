"""Checks of the frame arguments the ``read_*_frame`` readers take."""

from __future__ import annotations

import numpy as np


def frame_number(index: object, *, name: str = "index") -> int:
    """``index`` as a Python int when it is an integer (``int`` or a NumPy integer, not a
    bool); ``TypeError`` naming ``name`` and the type otherwise (``"1"``, ``1.0``)."""
    if isinstance(index, bool) or not isinstance(index, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(index).__name__} {index!r}")
    return int(index)
