"""dtype_message suggests the cast of the array's own library (review finding 8): before,
``.astype(np.float32)`` for a Torch tensor, which has no ``astype``."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.arrays import check_array, dtype_message


def test_numpy_dtypes_get_astype() -> None:
    assert dtype_message("points", np.dtype(np.int32)) == (
        "points must be float32 or float64, got int32; cast it explicitly "
        "(e.g. .astype(np.float32))"
    )
    with pytest.raises(ValueError, match=r"got float16; cast it explicitly \(e.g\. \.astype"):
        check_array(np.zeros((2, 3), np.float16), "points", (None, 3))


def test_torch_dtypes_get_to() -> None:
    torch = pytest.importorskip("torch")
    assert dtype_message("points", torch.float16) == (
        "points must be float32 or float64, got torch.float16; cast it explicitly "
        "(e.g. .to(torch.float32))"
    )
    for dtype in (torch.float16, torch.int64):
        with pytest.raises(
            ValueError, match=r"cast it explicitly \(e\.g\. \.to\(torch\.float32\)\)"
        ):
            check_array(torch.zeros((2, 3), dtype=dtype), "points", (None, 3))
    # the suggestion works: the cast tensor passes
    check_array(torch.zeros((2, 3), dtype=torch.float16).to(torch.float32), "points", (None, 3))
