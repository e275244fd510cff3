"""The one "is this a number" check of decoded JSON / YAML values (four private copies before:
fleet, report build, nuScenes reader, golden files)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from drivestack.core.json_values import is_finite_number, is_number


@pytest.mark.parametrize(
    ("value", "number", "finite"),
    [
        (0, True, True),
        (-2.5, True, True),
        (np.float64(1.5), True, True),  # a float subclass
        (math.nan, True, False),
        (-math.inf, True, False),
        (10**400, True, False),  # no float64 holds it
        (True, False, False),
        (False, False, False),
        (np.float32(1.5), False, False),  # NumPy scalars other than float64: not JSON values
        (np.int64(3), False, False),
        ("1", False, False),
        (None, False, False),
        ([1.0], False, False),
    ],
)
def test_is_number_and_is_finite_number(value: Any, number: bool, finite: bool) -> None:
    assert (is_number(value), is_finite_number(value)) == (number, finite)
