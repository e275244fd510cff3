"""Encoded payloads of values decoded from a log, reused when the same values are written again.

A replay reads every cloud and image from its input log and writes them unchanged into its
output log. Re-encoding them (packing points, base64, PNG compression) is most of the replay's
I/O time, and gives back the very bytes the input already holds when the input was written by
drivestack. The reader remembers, per decoded object (by identity, dropped with the object),
the base64 text it came from; the writer uses it only where it equals what it would encode
itself:

- point clouds (checked for every message): the base64 text is canonical and holds whole
  points, every ``*_ns`` column read back exactly (float64 -> int64 -> float64, bit for bit),
  and the writer's field layout (names, offsets, types, stride) equals the source message's;
  the decoded columns are read-only, so the bytes are the source's;
- PNG images (checked on the first image of a log, whose images are taken to come from one
  encoder): drivestack's PNG encoder gives back the source bytes from the decoded pixels.

Anything else is encoded as before (tests/replay/test_payload_reuse.py compares the bytes).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

_SOURCES: dict[int, tuple[weakref.ref[Any], Any]] = {}


def _forgetter(key: int) -> Callable[[weakref.ref[Any]], None]:
    def forget(_: weakref.ref[Any]) -> None:
        _SOURCES.pop(key, None)

    return forget


def remember(obj: Any, source: Any) -> None:
    """Remember ``source`` (what ``obj`` was decoded from) while ``obj`` lives."""
    key = id(obj)
    _SOURCES[key] = (weakref.ref(obj, _forgetter(key)), source)


def source_of(obj: Any) -> Any:
    """What ``obj`` was decoded from (see :func:`remember`), or None."""
    entry = _SOURCES.get(id(obj))
    if entry is None or entry[0]() is not obj:
        return None
    return entry[1]


def b64decode(text: str) -> tuple[bytes, bool]:
    """``(bytes, canonical)``: base64 ``text`` decoded (leniently, as before), and whether
    ``text`` is exactly what :func:`base64.b64encode` gives for those bytes (so it may stand
    in for re-encoding them)."""
    import base64
    import binascii

    try:
        raw = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        return base64.b64decode(text), False
    if len(text) != 4 * ((len(raw) + 2) // 3):
        return raw, False
    tail = len(raw) % 3 or 3  # strict mode leaves the unused bits of the last group unchecked
    canonical = not raw or base64.b64encode(raw[-tail:]).decode("ascii") == text[-4:]
    return raw, canonical
