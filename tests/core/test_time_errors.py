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
