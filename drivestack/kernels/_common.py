"""Shared argument checks and small helpers for the kernels."""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import array_api_compat
import numpy as np

from drivestack.core.arrays import backend_of, check_array, check_same_dtype, namespace

#: Set ``DRIVESTACK_CPU_ROUTE=reference`` to force the NumPy reference on NumPy inputs
#: (default ``auto``: the numba-compiled route when numba imports, else the reference).
CPU_ROUTE_ENV = "DRIVESTACK_CPU_ROUTE"


def _cube_root_limit(dtype: Any) -> float:
    return math.cbrt(float(np.finfo(dtype).max)) / 16.0


#: The limit of the two dtypes the kernels take, computed once (looked up on every call).
_MAGNITUDE_LIMITS = {np.dtype(t): _cube_root_limit(t) for t in (np.float32, np.float64)}


def magnitude_limit(dtype: Any) -> float:
    """Largest ``|x, y, z, l, w, h|`` a box may have in ``dtype`` (float32: ~4.4e11 m, float64:
    ~3.5e101 m): a sixteenth of the cube root of the dtype's largest value, so areas, volumes
    and squared distances of such boxes stay finite (beyond it IoUs read 0 or NaN)."""
    limit = _MAGNITUDE_LIMITS.get(np.dtype(dtype))
    return _cube_root_limit(dtype) if limit is None else limit


def check_magnitude(array: Any, name: str, what: str) -> None:
    """``ValueError`` naming ``name`` when an entry of ``array`` (finite, non-empty, float32 or
    float64) exceeds :func:`magnitude_limit` in absolute value; ``what`` names the entries."""
    if type(array) is np.ndarray:  # the hot path (tracker, perception): two reductions
        limit = magnitude_limit(array.dtype)
        bad = not (array.max() <= limit and array.min() >= -limit)
    else:
        xp = namespace(array)
        limit = magnitude_limit(np.float32 if array.dtype == xp.float32 else np.float64)
        bad = bool(xp.any(xp.abs(array) > limit))
    if bad:
        raise ValueError(
            f"{name} has {what} beyond +-{limit:.3g} m: too large to compute with in "
            f"{array.dtype} (areas and distances would overflow)"
        )


def check_boxes(boxes: Any, name: str) -> Any:
    """``(N, 7)`` float32 or float64 ``[x, y, z, l, w, h, yaw]`` with finite values, sizes >= 0
    and positions and sizes within :func:`magnitude_limit`."""
    check_array(boxes, name, (None, 7))
    if boxes.shape[0]:
        if type(boxes) is np.ndarray:  # the hot path: one reduction, no namespace lookup
            negative = bool(boxes[:, 3:6].min() < 0)
        else:
            xp = namespace(boxes)
            negative = bool(xp.any(boxes[:, 3:6] < 0))
        if negative:
            raise ValueError(f"{name} has negative sizes (columns 3:6 are length, width, height)")
        check_magnitude(boxes[:, :6], name, "positions or sizes (columns 0:6)")
    return boxes


def check_points(points: Any, name: str = "points") -> Any:
    """``(N, 3)`` float32 or float64, finite."""
    return check_array(points, name, (None, 3))


def check_pair(a: Any, a_name: str, b: Any, b_name: str) -> Any:
    """Namespace of a pair of box arrays (``TypeError`` if libraries differ, ``ValueError`` if dtypes do)."""
    xp = namespace(a, b)
    check_same_dtype((a_name, a), (b_name, b))
    if backend_of(a) != "numpy" and array_api_compat.device(a) != array_api_compat.device(b):
        raise ValueError(f"{a_name} and {b_name} are on different devices")
    return xp


def use_compiled_cpu_route(array: Any, impl: str) -> bool:
    """Whether to take the numba route: NumPy input and ``impl`` ``auto``/``numba``."""
    if impl not in ("auto", "numba", "reference"):
        raise ValueError(f"impl must be 'auto', 'numba' or 'reference', got {impl!r}")
    if backend_of(array) != "numpy" or impl == "reference":
        return False
    if impl == "auto" and _reference_forced():
        return False
    from drivestack.kernels import _numba_available

    if not _numba_available.AVAILABLE:
        if impl == "numba":
            raise RuntimeError(
                f"impl='numba' requested but numba is unavailable: {_numba_available.REASON}"
            )
        return False
    return True


def _reference_forced() -> bool:
    """``DRIVESTACK_CPU_ROUTE=reference`` is set (read on every call: tests set it)."""
    return CPU_ROUTE_ENV in os.environ and os.environ[CPU_ROUTE_ENV] == "reference"


def compiled_route_for_numpy() -> bool:
    """:func:`use_compiled_cpu_route` for a NumPy array and ``impl="auto"``, without the
    argument checks (per-call cost of small inputs)."""
    if _reference_forced():
        return False
    from drivestack.kernels import _numba_available

    return _numba_available.AVAILABLE


def tolerance(xp: Any, dtype: Any) -> float:
    """Relative geometric tolerance for ``dtype``: 256 machine epsilons."""
    return 256.0 * float(xp.finfo(dtype).eps)


def prepare_compiled_cpu_route() -> None:
    """Set up numba's CPU target now, when something has imported numba: the first compiled
    kernel of a process would otherwise pay a few hundred ms of imports and registrations
    (e.g. call it while another process reads input). Nothing when numba has not been
    imported or its internals have changed."""
    if "numba" not in sys.modules:
        return
    try:
        from numba.core.registry import cpu_target

        cpu_target.target_context.refresh()
        cpu_target.typing_context.refresh()
    except (ImportError, AttributeError):
        return
