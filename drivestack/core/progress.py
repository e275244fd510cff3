"""Progress of long work on stderr: a tqdm bar on a terminal, a few plain lines elsewhere.

A bar redraws itself with carriage returns, which belong on a terminal only: in a CI log or
a pipe every frame of it is kept (a 1 KB line of ``\\r`` frames and block characters per
command). :func:`progress` gives the bar when stderr is a terminal, and otherwise
:class:`PlainProgress`, one plain line at each tenth of the work
(``replay drive.mcap: 31/61 frames, 12 s``), the way ``drivestack fleet`` has always
reported to a log. ``disable=True`` (``--quiet``) prints nothing either way.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

#: Without a terminal on stderr, the progress is this many plain lines (no bar).
PROGRESS_LINES = 10


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (a progress bar's carriage returns belong there only)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):  # a closed or detached stream
        return False


class PlainProgress:
    """The parts of a tqdm bar the commands use (iteration, ``update``, ``set_postfix``,
    ``set_description``, ``close``, ``n``, a context manager), reported as one line per tenth of ``total`` on
    ``file``; without a total, at the 1st, 2nd, 5th, 10th, 20th, 50th, ... item."""

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        *,
        total: int | None = None,
        desc: str = "",
        unit: str = "it",
        initial: int = 0,
        file: TextIO | None = None,
    ) -> None:
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.iterable = iterable
        self.total = total
        self.desc = desc
        self.unit = unit
        self.n = initial
        self.file = file
        self.postfix = ""
        self._start = time.perf_counter()
        self._every = max(1, math.ceil(total / PROGRESS_LINES)) if total else 0
        self._said = initial

    def __iter__(self) -> Iterator[Any]:
        if self.iterable is None:
            return
        for item in self.iterable:
            yield item
            self.update()
        self.close()

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        before, self.n = self.n, self.n + n
        if self._every:
            due = self.n // self._every > before // self._every or self.n == self.total
        else:
            due = any(before < mark <= self.n for mark in _marks(self.n))
        if due and self.n != self._said:
            self._say()

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        self.desc = desc or ""

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def close(self) -> None:
        """Nothing to clear (no bar); a run that ended between the lines says where."""
        if self.n != self._said:
            self._say()

    def _say(self) -> None:
        self._said = self.n
        count = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        extra = f", {self.postfix}" if self.postfix else ""
        print(
            f"{self.desc}: {count} {_plural(self.unit)}, "
            f"{time.perf_counter() - self._start:.0f} s{extra}",
            file=self.file if self.file is not None else sys.stderr,
            flush=True,
        )


def _plural(unit: str) -> str:
    """``frame`` -> ``frames`` (a unit already ending in s is kept)."""
    return unit if unit.endswith("s") else unit + "s"


def _marks(n: int) -> tuple[int, ...]:
    """1, 2, 5 times the power of ten at or below ``n``."""
    power = 10 ** max(0, len(str(max(n, 1))) - 1)
    return (power, 2 * power, 5 * power)


def progress(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    disable: bool = False,
    **tqdm_options: Any,
) -> Any:
    """A tqdm bar over ``iterable`` (or ``total`` updates) when stderr is a terminal, else a
    :class:`PlainProgress` of the same work; silent either way with ``disable``. Extra
    options go to tqdm (``initial`` also to the plain lines)."""
    if disable or is_terminal(sys.stderr):
        from tqdm import tqdm

        return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, **tqdm_options)
    return PlainProgress(
        iterable, total=total, desc=desc, unit=unit, initial=int(tqdm_options.get("initial", 0))
    )
