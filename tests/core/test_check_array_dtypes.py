"""check_array accepts the kernels' dtypes (float32, float64) only (walkthrough item 1)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.arrays import check_array


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_dtypes_pass(dtype):
    a = np.zeros((2, 3), dtype=dtype)
    assert check_array(a, "points", (None, 3)) is a


@pytest.mark.parametrize("dtype", [np.float16, np.longdouble, np.int64, np.bool_])
def test_other_dtypes_are_refused_by_name(dtype):
    if np.dtype(dtype) == np.float64:  # platforms where long double is double
        pytest.skip("long double is float64 here")
    with pytest.raises(ValueError, match=r"^points must be float32 or float64, got "):
        check_array(np.zeros((2, 3), dtype=dtype), "points", (None, 3))


def test_torch_half_is_refused():
    torch = pytest.importorskip("torch")
    for dtype in (torch.float16, torch.bfloat16):
        with pytest.raises(ValueError, match="boxes must be float32 or float64"):
            check_array(torch.zeros((1, 7), dtype=dtype), "boxes", (None, 7))
    check_array(torch.zeros((1, 7), dtype=torch.float32), "boxes", (None, 7))


def test_a_zero_dimensional_tensor_is_checked_for_nan_as_an_array_is():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="x contains NaN or infinite values"):
        check_array(np.array(np.nan), "x", ())
    with pytest.raises(ValueError, match="x contains NaN or infinite values"):
        check_array(torch.tensor(float("nan")), "x", ())
    assert check_array(torch.tensor(1.0), "x", ()).item() == 1.0
    assert check_array(torch.zeros((0, 3)), "x", (None, 3)).shape == (0, 3)
