"""An exclusive lock on a file in a folder, held for a block: one writer into the folder at once.

The lock is the operating system's (``flock``): a killed process leaves the file, never the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from drivestack.core.errors import DataError


@contextlib.contextmanager
def exclusive_lock(lock: Path, *, busy: str, where: str) -> Iterator[None]:
    """Hold an exclusive, non-blocking ``flock`` on ``lock`` (created when missing) for the block.

    Raises:
        DataError: ``busy`` with ``path=where`` when another process holds the lock.
    """
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # BlockingIOError: another process holds it
            raise DataError(busy, path=where) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
