"""Timing helpers for benchmarks: medians of repeats, never single shots."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: The fewest timed runs of anything: a median of one run is a single shot.
MIN_REPEATS = 2


@dataclass
class Timing:
    """Median and spread of repeated runs of one implementation on one case."""

    implementation: str
    median_ms: float
    min_ms: float
    repeats: int
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def measure(
    implementation: str, fn: Callable[[], Any], repeats: int, warmup: int = 1, note: str = ""
) -> tuple[Timing, Any]:
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times (at least
    :data:`MIN_REPEATS`); return the timing (with the repeats actually run) and last result."""
    result = None
    for _ in range(warmup):
        result = fn()
    samples = []
    for _ in range(max(repeats, MIN_REPEATS)):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    samples.sort()
    median = (
        samples[len(samples) // 2]
        if len(samples) % 2
        else 0.5 * (samples[len(samples) // 2 - 1] + samples[len(samples) // 2])
    )
    return Timing(implementation, 1e3 * median, 1e3 * samples[0], len(samples), note), result
