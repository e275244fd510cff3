"""Loading torch checkpoints without running code: ``torch.load(weights_only=True)`` with one
clear line for every way a file can fail to be a checkpoint.
"""

from __future__ import annotations

import pickle
import re
import warnings
from pathlib import Path
from typing import Any

from drivestack.core.errors import DataError


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
        raise DataError(load_failure(exc), path=str(path)) from None


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


def load_failure(exc: Exception) -> str:
    """A one-line reason from :func:`torch.load`'s error, without its advice to unpickle."""
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
    if isinstance(exc, EOFError):
        return "not a torch checkpoint (empty or truncated file)"
    lines = text.strip().splitlines() or [""]
    first = re.sub(r"^\[enforce fail at [^\]]*\][\s.]*", "", lines[0]).split(". ")[0].rstrip(". ")
    reason = f"{type(exc).__name__}: {first[:160]}" if first else type(exc).__name__
    return f"not a torch checkpoint ({reason})"
