"""drivestack.core.numbers: ASCII-digit checks (parse_float / parse_int: test_kitti_number_tokens)."""

from __future__ import annotations

import pytest

from drivestack.core.numbers import is_digits


@pytest.mark.parametrize("text", ["0", "000154", "1234567890"])
def test_is_digits_takes_ascii_digits(text: str) -> None:
    assert is_digits(text)


@pytest.mark.parametrize(
    "text", ["", "\uff11", "\u0661\u0662", "\u00b2", "1_0", " 1", "-1", "+1", "1.0", "1e3"]
)
def test_is_digits_refuses_what_str_isdigit_or_int_would_take(text: str) -> None:
    assert not is_digits(text)
