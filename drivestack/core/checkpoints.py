"""Loading torch checkpoints without running code: ``torch.load(weights_only=True)`` with one
clear line for every way a file can fail to be a checkpoint (:func:`load_tensor_checkpoint`),
and checking the tensors of a ``state_dict`` against the network they are for before loading
them (:func:`check_state_dict`).
"""

from __future__ import annotations

import pickle
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivestack.core.errors import DataError

if TYPE_CHECKING:
    import torch

#: the first bytes of a zip archive (a local file header): ``torch.save``'s format
_ZIP_MAGIC = b"PK\x03\x04"


def load_tensor_checkpoint(path: Path) -> Any:
    """``torch.load(path, map_location="cpu", weights_only=True)``: tensors and plain
    containers only, never a pickled Python object (it could run code).

    Raises:
        DataError: naming the file when it is not a torch checkpoint (empty, truncated, not a
            zip archive nor a tensor-only pickle) or pickles a Python object (named).
    """
    import torch

    try:
        with warnings.catch_warnings():  # (a legacy pickle's protocol warning: it fails anyway)
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises pickle/zip/runtime errors for non-checkpoints
        raise DataError(load_failure(exc, _starts_as_zip(path)), path=str(path)) from None


def _starts_as_zip(path: Path) -> bool:
    """Whether the file begins with a zip archive's first header (unreadable: False)."""
    try:
        with open(path, "rb") as f:
            return f.read(len(_ZIP_MAGIC)) == _ZIP_MAGIC
    except OSError:
        return False


#: :func:`torch.load`'s wordings (torch 2.4 to 2.14 at least) for a pickle that names a Python
#: global (a class or function) its ``weights_only`` unpickler does not allow
_UNSAFE_GLOBAL = (
    re.compile(r"Unsupported global: GLOBAL (\S+?)(?: was not|\s|$)"),
    re.compile(r"unsupported GLOBAL (\S+?) whose module"),
    re.compile(r"Trying to load unsupported GLOBAL (\S+?)[.\s]*$", re.MULTILINE),
)
#: its wordings for a pickle that builds a Python object of a type it does not allow
_UNSAFE_OBJECT = re.compile(
    r"Can only (?:create new object|build Tensor)[^\n]*?(?:got|but got) (.+?)\s*$", re.MULTILINE
)


#: torch's zip reader's wordings for an archive whose end (its central directory) is missing
_ZIP_CUT = re.compile(r"failed reading zip archive: (?:not a ZIP archive|failed finding central)")


def load_failure(exc: Exception, starts_as_zip: bool = False) -> str:
    """A one-line reason from :func:`torch.load`'s error, without its advice to unpickle.

    ``starts_as_zip``: the file begins as a zip archive (``torch.save``'s format); its
    reader's errors then mean the file was cut short: torch 2.14 raises ``OSError: [Errno
    22] Invalid argument`` for an archive cut in half (a seek before its start) and
    ``RuntimeError: ... not a ZIP archive`` / ``... failed finding central directory`` for
    one cut to a few bytes or just before its end.
    """
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    refused = "refusing to unpickle Python objects from an untrusted file (they could run code)"
    for pattern in _UNSAFE_GLOBAL:
        unsafe = pattern.search(text)
        if unsafe:  # a pickled Python object: never loaded
            return f"{refused}: it pickles the Python object {unsafe.group(1).rstrip('.')}"
    unsafe = _UNSAFE_OBJECT.search(text)
    if unsafe:
        return f"{refused}: it pickles a Python object ({unsafe.group(1).rstrip('.')[:80]})"
    # KeyError: torch's legacy reader found no pickle protocol byte (e.g. a text file)
    if "WeightsUnpickler error" in text or isinstance(exc, pickle.UnpicklingError | KeyError):
        return "not a torch checkpoint (neither a torch zip archive nor a tensor-only pickle)"
    if isinstance(exc, EOFError) or (
        starts_as_zip and (isinstance(exc, OSError) or _ZIP_CUT.search(text))
    ):
        return "not a torch checkpoint (empty or truncated file)"
    lines = text.strip().splitlines() or [""]
    first = re.sub(r"^\[enforce fail at [^\]]*\][\s.]*", "", lines[0]).split(". ")[0].rstrip(". ")
    reason = f"{type(exc).__name__}: {first[:160]}" if first else type(exc).__name__
    return f"not a torch checkpoint ({reason})"


def check_state_dict(
    state: Any, own: Mapping[str, torch.Tensor], path: str
) -> dict[str, torch.Tensor]:
    """``state``, a checkpoint's ``state_dict``, once it is known to fit a network's own
    ``own`` (its ``state_dict()``; tensors on torch's ``meta`` device do: only names, shapes
    and dtypes are read), checked before anything is loaded or allocated.

    Raises:
        DataError: naming ``path`` and the field: ``state_dict`` when it is not a dict or its
            names or shapes differ from ``own`` (counting the missing, unexpected and
            reshaped tensors, naming the first ones); ``state_dict.<name>`` for a value that
            is not a tensor or not a dense one (sparse, quantized) or holds no values (on the
            ``meta`` device), an integer or bool tensor
            where the network has floating-point
            weights (loading would cast it silently), or NaN / infinite values (a diverged or
            corrupt training run).
    """
    import torch

    if not isinstance(state, dict):
        raise DataError("checkpoint has no state_dict", path=path, field="state_dict")
    for name, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise DataError(
                f"not a tensor ({type(value).__name__})", path=path, field=f"state_dict.{name}"
            )
        if value.layout != torch.strided or value.is_quantized:  # (the checks below need dense)
            kind = "quantized" if value.is_quantized else str(value.layout).removeprefix("torch.")
            raise DataError(
                f"a {kind} tensor: the network's weights are dense, save them with .to_dense()",
                path=path,
                field=f"state_dict.{name}",
            )
        if value.device.type == "meta":
            raise DataError(
                "a tensor on the meta device (shapes, no values): save the trained weights",
                path=path,
                field=f"state_dict.{name}",
            )
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        parts = [
            f"{len(names)} {what} (e.g. {names[:3]})"
            for what, names in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("of another shape", wrong),
            )
            if names
        ]
        raise DataError(
            f"weights do not fit the network of its config: {', '.join(parts)}",
            path=path,
            field="state_dict",
        )
    for name, mine in own.items():
        tensor = state[name]
        if mine.is_floating_point() and not tensor.is_floating_point():
            raise DataError(
                f"{tensor.dtype} tensor where the network has {mine.dtype} weights (loading "
                "would cast it): save floating-point weights",
                path=path,
                field=f"state_dict.{name}",
            )
        if tensor.is_floating_point() and not bool(tensor.isfinite().all()):
            raise DataError(
                "NaN or infinite weights (a diverged or corrupt training run)",
                path=path,
                field=f"state_dict.{name}",
            )
    return state
