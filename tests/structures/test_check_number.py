"""``check_number``: the shared number check of the settings dataclasses names the field, the
bounds and the value (hand-written messages)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.structures._checks import check_number


@pytest.mark.parametrize(
    ("value", "bounds", "error", "message"),
    [
        (0.0, {"above": 0.0}, ValueError, "X.f must be a finite number > 0, got 0.0"),
        (
            5.0,
            {"at_least": 0.0, "below": 3.0},
            ValueError,
            "X.f must be a finite number >= 0 and < 3, got 5.0",
        ),
        (1.5, {"at_most": 1.0}, ValueError, "X.f must be a finite number <= 1, got 1.5"),
        (math.inf, {}, ValueError, "X.f must be a finite number, got inf"),
        (math.nan, {"above": 0.0}, ValueError, "X.f must be a finite number > 0, got nan"),
        ("8", {}, TypeError, "X.f must be a finite number, got str '8'"),
        (True, {}, TypeError, "X.f must be a finite number, got bool True"),
        (2.5, {"integer": True}, TypeError, "X.f must be an integer, got float 2.5"),
        (-1, {"integer": True, "at_least": 0}, ValueError, "X.f must be an integer >= 0, got -1"),
    ],
)
def test_bad_numbers_are_named(value: object, bounds: dict, error: type, message: str) -> None:
    with pytest.raises(error) as raised:
        check_number("X.f", value, **bounds)
    assert str(raised.value) == message


def test_good_numbers_pass() -> None:
    check_number("X.f", 0.5, above=0.0, at_most=1.0)
    check_number("X.f", np.float32(2.0), at_least=2.0)
    check_number("X.f", np.int64(3), integer=True, at_least=0)
    check_number("X.f", 1, below=math.pi / 2)  # an int is a number
