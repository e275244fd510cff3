"""Shared test fixtures: the real-data folder and deterministic single-threaded backends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from tests._shared_data import REQUIRE_SHARED_DATA, missing_shared_data, shared_data_required

# `make test` (and so CI) runs the property tests with a fixed seed so that a landing is
# reproducible (it sets CI=1 unless CI is set); a bare `pytest` explores new examples each run
# and keeps failures in .hypothesis/.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")

SHARED_DATA = Path(
    os.environ.get(
        "DRIVESTACK_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
).resolve()


def pytest_sessionstart(session: pytest.Session) -> None:
    # a CI machine without ../shared would pass with every real-data test unrun
    if shared_data_required() and not SHARED_DATA.is_dir():
        raise pytest.UsageError(
            f"{REQUIRE_SHARED_DATA} is set but the real data folder is not there: "
            f"{SHARED_DATA} (set DRIVESTACK_SHARED_DATA to where it is)"
        )


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real public driving data); the test is skipped when it is absent
    (an error at the start with ``DRIVESTACK_REQUIRE_SHARED_DATA`` set, as in CI)."""
    if not SHARED_DATA.is_dir():
        missing_shared_data(f"real data folder not found: {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True, scope="session")
def _single_thread_torch() -> None:
    """Torch with 2 threads runs many times slower when another process holds a core."""
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_gpu = None
    for item in items:
        if "gpu" in item.keywords:
            if skip_gpu is None:
                skip_gpu = pytest.mark.skip(reason=_gpu_skip_reason())
            if skip_gpu.kwargs.get("reason"):
                item.add_marker(skip_gpu)


def _gpu_skip_reason() -> str:
    """Empty string when a CUDA device is usable, else why GPU tests are skipped."""
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            return ""
        return "no CUDA device visible to CuPy"
    except Exception as exc:  # ImportError, CUDARuntimeError, ...
        return f"CuPy/CUDA unavailable: {type(exc).__name__}: {exc}"[:200]
