"""Time and JSON helper inputs found by a bad-input campaign."""

from __future__ import annotations

import json

import numpy as np
import pytest

from drivestack.core.json_values import strict_dumps
from drivestack.core.time import check_monotonic_ns, check_timestamp_ns, seconds_to_ns


@pytest.mark.parametrize("seconds", [1e300, -1e300, 1e20])
def test_seconds_beyond_int64_ns_are_a_value_error(seconds: float) -> None:
    """1e300 was an OverflowError; 1e20 gave an integer no int64 array can hold."""
    with pytest.raises(ValueError, match="out of the int64 nanosecond range"):
        seconds_to_ns(seconds)
    assert seconds_to_ns(9.2e9) == 9_200_000_000_000_000_000


def test_seconds_that_are_no_number_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="seconds must be a number, got str"):
        seconds_to_ns("1")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, np.uint64(2**63)])
def test_timestamps_beyond_int64_are_refused(value: int) -> None:
    with pytest.raises(ValueError, match=r"t_ns .* is out of the int64 nanosecond range"):
        check_timestamp_ns(value, argument="t_ns")
    assert check_timestamp_ns(2**63 - 1) == 2**63 - 1


def test_an_unsigned_series_beyond_int64_is_refused_not_wrapped() -> None:
    """uint64 2**63 became -2**63 (and then 'must increase' named the wrong values)."""
    with pytest.raises(ValueError, match=r"index 1 is 9223372036854775808, beyond the int64"):
        check_monotonic_ns(np.array([1, 2**63], dtype=np.uint64))
    assert check_monotonic_ns(np.array([1, 2], dtype=np.uint64)).dtype == np.int64


def test_numpy_mapping_keys_are_written_as_plain_keys() -> None:
    """A dict keyed by np.int64 track ids was a TypeError in json.dumps."""
    text = strict_dumps({np.int64(7): np.float64(np.nan), "a": {np.str_("b"): 1}}, indent=None)
    assert json.loads(text) == {"7": None, "a": {"b": 1}}
