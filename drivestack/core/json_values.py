"""JSON that strict parsers accept: NaN and infinities written as ``null``; and the number
checks of decoded JSON (and YAML) values.

Python's ``json`` writes ``NaN`` / ``Infinity`` by default, which is not JSON (RFC 8259) and
which ``jq``, JavaScript's ``JSON.parse`` and most other readers reject. An undefined figure
(a recall over zero labels, a rate over zero time) is written as ``null`` instead.

A decoded ``true`` is a Python ``bool``, which is an ``int``: :func:`is_number` and
:func:`is_finite_number` tell numbers from booleans (and strings, None, containers).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def finite_json(value: Any) -> Any:
    """``value`` with every non-finite float (at any depth of dicts, lists and tuples) replaced
    by None and NumPy scalars and arrays made plain Python values (mapping keys too: a track
    id ``np.int64(7)`` becomes the key ``7``, written ``"7"``)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {
            (k.item() if isinstance(k, np.generic) else k): finite_json(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    return value


def strict_dumps(value: Any, indent: int | None = 1) -> str:
    """``value`` (:func:`finite_json`) as JSON text that strict parsers accept."""
    return json.dumps(finite_json(value), indent=indent, allow_nan=False)


def is_number(value: Any) -> bool:
    """``value`` is a Python ``int`` or ``float`` (``np.float64`` included: a ``float``
    subclass; other NumPy scalars not) and not a ``bool``; NaN and infinities included (the
    caller decides what they mean)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """:func:`is_number` and finite as a float64: not NaN, not an infinity, not an ``int``
    too large for a float (``10**400``)."""
    if not is_number(value):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float range
        return False
