"""Bad-input cases found by mutating the shared OpenDRIVE maps."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps.opendrive import read_opendrive


def test_repeated_junction_id(shared_data: Path, tmp_path: Path) -> None:
    """Two junctions with one id: road links to it were ambiguous and silently accepted."""
    text = (shared_data / "opendrive_esmini" / "multi_intersections.xodr").read_text()
    start = text.index("<junction ")
    end = text.index("</junction>", start) + len("</junction>")
    path = tmp_path / "multi_intersections.xodr"
    path.write_text(text[:end] + text[start:end] + text[end:])
    with pytest.raises(DataError) as info:
        read_opendrive(path)
    assert str(info.value).startswith(f"{path}: junction ")
    assert "field junction@id: repeated junction id" in str(info.value)
