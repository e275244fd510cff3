"""What a test does when the real data it reads is missing: skips, or, with
``DRIVESTACK_REQUIRE_SHARED_DATA=1`` (``.ci/run`` sets it), fails: a CI machine with partial
or no ``../shared/data`` would otherwise pass with the real-data checks unrun."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

#: ``1`` makes missing real data an error rather than a skip.
REQUIRE_SHARED_DATA = "DRIVESTACK_REQUIRE_SHARED_DATA"


def shared_data_required() -> bool:
    """Whether ``DRIVESTACK_REQUIRE_SHARED_DATA`` is ``1`` (``0`` or unset: skips allowed)."""
    return os.environ.get(REQUIRE_SHARED_DATA, "").strip() == "1"


def missing_shared_data(reason: str) -> NoReturn:
    """Skip the test for ``reason`` (a real-data file or folder that is not there), or fail it
    when the data is required."""
    if shared_data_required():
        pytest.fail(f"{reason} ({REQUIRE_SHARED_DATA}=1: the real data must be there)")
    pytest.skip(reason)
