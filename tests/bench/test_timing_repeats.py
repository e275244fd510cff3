"""Benchmark timing keeps its promise: never a single shot, and the table says how many ran."""

from __future__ import annotations

from drivestack.bench.kernels import CaseResult, format_table
from drivestack.bench.timing import MIN_REPEATS, measure


def test_measure_never_times_a_single_shot() -> None:
    calls = []
    timing, _ = measure("x", lambda: calls.append(1), 1, warmup=0)
    assert timing.repeats == MIN_REPEATS == len(calls) == 2


def test_the_table_shows_the_runs_of_each_row() -> None:
    fast, _ = measure("drivestack ours", lambda: None, 5)
    slow, _ = measure("peer", lambda: None, 2)
    table = format_table([CaseResult("case", "1", [fast, slow])])
    header, _, ours, peer = table.splitlines()
    assert header.split()[-1] == "runs"
    assert ours.split()[-1] == "5" and peer.split()[-1] == "2"
