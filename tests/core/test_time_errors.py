from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.time import check_monotonic_ns, ns_to_seconds, seconds_to_ns


def test_time_conversions():
    assert seconds_to_ns(1.5) == 1_500_000_000
    assert ns_to_seconds(np.int64(250_000_000)) == 0.25
    with pytest.raises(ValueError):
        seconds_to_ns(float("nan"))


def test_monotonic_check_names_the_index():
    assert check_monotonic_ns([1, 2, 3]).dtype == np.int64
    with pytest.raises(ValueError, match="index 2 has 1 after 5"):
        check_monotonic_ns([0, 5, 1], argument="stamps")
    check_monotonic_ns([1, 1, 2], strict=False)


def test_data_error_names_file_record_and_field():
    err = DataError("NaN in coordinates", path="scan.bin", record="point 7", field="x")
    assert str(err) == "scan.bin: point 7: field x: NaN in coordinates"
    assert isinstance(err, ValueError)


@pytest.mark.parametrize(
    ("seconds", "expected_ns"),
    [
        (np.int32(3), 3_000_000_000),  # int32 * 1e9 wrapped to -1294967296
        (np.int16(3), 3_000_000_000),  # overflowed (OverflowError)
        (np.uint8(5), 5_000_000_000),
        (np.float16(1.0), 1_000_000_000),  # float16 max is 65504: inf
        (np.int64(-9_223_372_036), -9_223_372_036_000_000_000),
    ],
)
def test_numpy_scalars_convert_exactly_not_in_their_own_dtype(seconds, expected_ns):
    assert seconds_to_ns(seconds) == expected_ns


@pytest.mark.parametrize(
    "seconds", [np.int64(10_000_000_000), 10**400, 10**5000], ids=["int64", "1e400", "1e5000"]
)
def test_seconds_past_int64_nanoseconds_are_a_value_error(seconds):
    # 1e10 s = 1e19 ns > 2**63 - 1 (9.22e18): an np.int64 product used to wrap to a negative
    # time; 10**400 used to be a TypeError from np.isfinite; 10**5000 has too many digits to
    # print, so the message names its size
    with pytest.raises(ValueError, match="out of the int64 nanosecond range") as info:
        seconds_to_ns(seconds)
    assert len(str(info.value)) < 300
