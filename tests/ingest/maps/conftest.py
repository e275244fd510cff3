"""Fixtures of the map reader tests: the Argoverse 2 sensor-val logs with a map."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._shared_data import missing_shared_data

#: The Argoverse 2 sensor-val logs in the shared data (each with its log map).
AV2_LOGS = ("7fab2350-7eaf-3b7e-a39d-6937a4c1bede", "adcf7d18-0510-35b0-a2fa-b4cea13a6d76")


@pytest.fixture(scope="module", params=AV2_LOGS)
def av2_log(request: pytest.FixtureRequest, shared_data: Path) -> Path:
    """One AV2 log folder (skipped when the shared data lacks it)."""
    log = shared_data / "argoverse2" / "sensor" / "val" / request.param
    if not log.is_dir():
        missing_shared_data(f"AV2 log not found: {log}")
    return log
