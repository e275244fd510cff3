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


_CURVE_GEOMETRY_1 = '<geometry s="5.0000000000000000e+02"'
_CURVE_ROAD_LENGTH = '<road name="" length="7.5707963267948969e+02"'


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        (  # a station past the road's end: stations 500-657 m were clamped onto the line
            _CURVE_GEOMETRY_1,
            '<geometry s="5.0e+03"',
            "road 0 planView geometry 2: field geometry@s: starts at s 657.08 m, but "
            "geometry 0, the one before it by s, ends at s 500 m",
            "(the records must chain end to start within 0.01 m)",
        ),
        (  # an overlap of 2 cm
            _CURVE_GEOMETRY_1,
            '<geometry s="4.9998e+02"',
            "road 0 planView geometry 1: field geometry@s: starts at s 499.98 m",
            "geometry 0, the one before it by s, ends at s 500 m",
        ),
        (  # the road 657 m shorter than its plan view: both lanes were cut to 100 m
            _CURVE_ROAD_LENGTH,
            '<road name="" length="100"',
            "road 0: field road@length: length 100 m, but its plan view ends at s 757.08 m",
            "(within 0.01 m)",
        ),
        (
            '<geometry s="0.0000000000000000e+00"',
            '<geometry s="3"',
            "road 0 planView geometry 0: field geometry@s: starts at s 3 m, but the road "
            "starts at s 0 m",
            "",
        ),
    ],
)
def test_plan_view_records_must_chain_over_the_road(
    shared_data: Path, tmp_path: Path, old: str, new: str, where: str, message: str
) -> None:
    """A gap, an overlap or a road length other than the plan view's end is an error naming
    the geometry (its index in the file) and field: before, the reference line clamped over
    the gap and a lane bridged it with one 143 m chord, and the sim passed on it."""
    text = (shared_data / "opendrive_esmini" / "curve_r100.xodr").read_text()
    assert text.count(old) == 1
    path = tmp_path / "curve_r100.xodr"
    path.write_text(text.replace(old, new))
    with pytest.raises(DataError) as info:
        read_opendrive(path)
    assert str(info.value).startswith(f"{path}: {where}")
    assert message in str(info.value)


def test_plan_view_records_of_the_shared_maps_chain_within_the_tolerance(
    shared_data: Path,
) -> None:
    for path in sorted((shared_data / "opendrive_esmini").glob("*.xodr")):
        assert read_opendrive(path).lanes, path
