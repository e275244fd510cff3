"""Array-library helpers for kernels: backend choice by input type, and argument checks.

Kernels take NumPy, Torch or CuPy arrays and return results in the input's library,
device and dtype. :func:`namespace` picks the library (``array_api_compat``) and raises
``TypeError`` when arguments mix libraries; :func:`check_array` raises ``ValueError``
naming the argument for wrong shapes, dtypes and non-finite values.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

import array_api_compat
import numpy as np

Backend = Literal["numpy", "torch", "cupy"]


def namespace(*arrays: Any) -> Any:
    """Array-API namespace shared by ``arrays``; ``TypeError`` if they mix libraries."""
    if all(type(a) is np.ndarray for a in arrays):
        return _numpy_namespace()  # the common case, without array_api_compat's dispatch
    try:
        return array_api_compat.array_namespace(*arrays)
    except TypeError:
        libraries = sorted({_library_name(a) for a in arrays})
        others = [name for name in libraries if name not in ("numpy", "torch", "cupy")]
        if others:  # (a list is no array library's: "mix list and numpy arrays" misled)
            raise TypeError(
                f"arguments must be NumPy, Torch or CuPy arrays, got {', '.join(others)}"
            ) from None
        if len(libraries) < 2:
            raise
        mixed = ", ".join(libraries[:-1]) + " and " + libraries[-1]
        every = "both" if len(libraries) == 2 else "all"
        raise TypeError(f"arguments mix {mixed} arrays; pass {every} as one kind") from None


def _library_name(array: Any) -> str:
    """``numpy``, ``torch`` or ``cupy`` for their arrays; else the type's name."""
    root = type(array).__module__.split(".")[0]
    return root if root in ("numpy", "torch", "cupy") else type(array).__name__


@lru_cache(maxsize=1)
def _numpy_namespace() -> Any:
    return array_api_compat.array_namespace(np.zeros(0))


def backend_of(array: Any) -> Backend:
    """Which library ``array`` belongs to."""
    if array_api_compat.is_numpy_array(array):
        return "numpy"
    if array_api_compat.is_torch_array(array):
        return "torch"
    if array_api_compat.is_cupy_array(array):
        return "cupy"
    raise TypeError(f"unsupported array type {type(array).__module__}.{type(array).__name__}")


def shape_text(shape: Sequence[int | str | None]) -> str:
    """A shape as messages write it, ``None`` as ``N`` and a named size as its name:
    ``(N, 3)``, ``(2,)``, ``()``, ``(N, D)`` for ``(None, "D")``."""
    dims = ["N" if e is None else str(e) for e in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def read_only(arr: np.ndarray, given: object) -> np.ndarray:
    """``arr`` (made from the caller's ``given``) as a read-only array a frozen type may keep.

    A copy when ``arr`` is writeable and is the caller's own array or a view (the caller's
    memory is never frozen nor aliased); an array freshly converted from ``given`` is made
    read-only in place. A read-only array is kept as it is, without a copy: marking an array
    read-only hands it over (another structure's field, or the ROS decoders' zero-copy views of
    a message buffer they own); whoever still writes its base breaks that promise.
    """
    if arr.flags.writeable:
        if arr is given or arr.base is not None:
            arr = arr.copy()  # never freeze (or alias) the caller's own writeable memory
        arr.setflags(write=False)
    return arr


#: What to pass a kernel instead of one of drivestack's structures (by type name).
_STRUCTURE_HINTS = {
    "Boxes3D": ": pass boxes.to_array7()",
    "Tracks": ": pass tracks.boxes.to_array7()",
    "PointCloud": ": pass cloud.xyz_m",
}


def check_array(
    array: Any,
    name: str,
    shape: Sequence[int | str | None],
    *,
    floating: bool = True,
    finite: bool = True,
) -> Any:
    """Validate ``array`` against ``shape`` (``None`` = any size, a ``str`` = any size named
    in the message, e.g. ``(None, "D")`` reads ``(N, D)``) and return it unchanged.

    ``floating``: require float32 or float64 (the dtypes the kernels compute in; float16,
    bfloat16 and long double are refused). ``finite``: reject NaN and inf.
    Raises ``ValueError`` naming ``name`` on any violation, ``TypeError`` for non-arrays.
    """
    if not hasattr(array, "shape") or not hasattr(array, "dtype"):
        kind = type(array).__name__
        raise TypeError(
            f"{name} must be a NumPy, Torch or CuPy array, got {kind}{_STRUCTURE_HINTS.get(kind, '')}"
        )
    actual = tuple(array.shape)
    if len(actual) != len(shape) or any(
        e is not None and not isinstance(e, str) and e != a
        for e, a in zip(shape, actual, strict=False)
    ):
        raise ValueError(f"{name} must have shape {shape_text(shape)}, got {actual}")
    if type(array) is np.ndarray:  # fast path: plain NumPy checks, same rules
        if floating and not is_kernel_float(array.dtype):
            raise ValueError(dtype_message(name, array.dtype))
        if finite and floating and array.size and not np.isfinite(array).all():
            raise ValueError(f"{name} contains NaN or infinite values")
        return array
    xp = namespace(array)
    if floating and array.dtype != xp.float32 and array.dtype != xp.float64:
        raise ValueError(dtype_message(name, array.dtype))
    if finite and floating and 0 not in actual and not bool(xp.all(xp.isfinite(array))):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def is_kernel_float(dtype: np.dtype[Any]) -> bool:
    """Whether a NumPy ``dtype`` is one the kernels compute in: float32 or float64 (not
    float16, long double or another kind)."""
    return dtype.type is np.float64 or dtype.type is np.float32


def dtype_message(name: str, dtype: Any) -> str:
    """The ``ValueError`` message for ``name`` of ``dtype`` where float32 or float64 is needed;
    the cast it suggests is the array library's: ``.to(torch.float32)`` for a ``torch.dtype``,
    ``.astype(np.float32)`` for a NumPy (or CuPy) dtype."""
    torch_dtype = type(dtype).__module__.split(".")[0] == "torch"
    cast = ".to(torch.float32)" if torch_dtype else ".astype(np.float32)"
    return f"{name} must be float32 or float64, got {dtype}; cast it explicitly (e.g. {cast})"


def check_same_dtype(*named: tuple[str, Any]) -> None:
    """``ValueError`` when the named arrays do not share one dtype (nothing is cast silently)."""
    dtypes = {str(a.dtype) for _, a in named}
    if len(dtypes) > 1:
        desc = ", ".join(f"{n}: {a.dtype}" for n, a in named)
        raise ValueError(
            f"arguments must share one dtype ({desc}); cast one explicitly "
            "(e.g. .astype(np.float32), or Boxes3D.to_array7(dtype=...)): nothing is cast silently"
        )


def to_numpy(array: Any) -> Any:
    """Host NumPy copy/view of a NumPy, Torch or CuPy array (for host-side fast paths)."""
    backend = backend_of(array)
    if backend == "numpy":
        return array
    if backend == "torch":
        return array.detach().cpu().numpy()
    return array.get()


def from_numpy_like(result: Any, like: Any) -> Any:
    """Move a host NumPy ``result`` into ``like``'s library and device (dtype of ``result`` kept)."""
    backend = backend_of(like)
    if backend == "numpy":
        return result
    if backend == "torch":
        import torch

        return torch.from_numpy(result).to(like.device)
    import cupy

    with cupy.cuda.Device(like.device.id):
        return cupy.asarray(result)
