"""Whether numba can be used for the compiled CPU route (decided once, on first use)."""

from __future__ import annotations

try:
    import numba  # noqa: F401

    AVAILABLE = True
    REASON = ""
except Exception as exc:  # pragma: no cover - depends on the environment
    AVAILABLE = False
    REASON = f"{type(exc).__name__}: {exc}"
