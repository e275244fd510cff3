"""Bad-input cases found by mutating the shared Lanelet2 map: each is a DataError naming the
file, the node / way / relation and the field (never a ValueError from RoadMap, nor an id or
reference silently resolved to another element or to nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps.lanelet2 import read_lanelet2

MAP = "lanelet2/mapping_example.osm"


def _error(shared_data: Path, tmp_path: Path, old: str, new: str) -> str:
    text = (shared_data / MAP).read_text()
    assert old in text
    path = tmp_path / "mapping_example.osm"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(DataError) as info:
        read_lanelet2(path)
    message = str(info.value)
    assert str(path) in message
    return message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a lanelet relation twice: was a ValueError (duplicate lane id) from RoadMap
        ("<relation id='42526'", "<relation id='42440'", "relation 42440: field id: repeated id"),
        # a node / way twice: the later one silently replaced the earlier one's geometry
        ("<node id='38994'", "<node id='38992'", "node 38992: field id: repeated id"),
        ("<way id='42521'", "<way id='42397'", "way 42397: field id: repeated id"),
        ("<node id='38994'", "<node", "node: field id: missing"),
    ],
)
def test_ids_missing_or_repeated(
    shared_data: Path, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert expected in _error(shared_data, tmp_path, old, new)


def test_references_nothing_reads_may_dangle(shared_data: Path, tmp_path: Path) -> None:
    # a map extract keeps ways and relations whose members it left out: a way no lanelet
    # uses with an unknown node, and a non-lanelet relation with an unknown member, read
    text = (shared_data / MAP).read_text()
    old_way = "<way id='43144' visible='true' version='1'>\n    <nd ref='39050' />"
    assert old_way in text
    text = text.replace(old_way, old_way.replace("39050", "987654321"), 1)
    extra = (
        "  <relation id='999999901' visible='true' version='1'>\n"
        "    <member type='way' ref='987654322' role='outer' />\n"
        "    <tag k='type' v='multipolygon' />\n  </relation>\n</osm>"
    )
    path = tmp_path / "mapping_example.osm"
    path.write_text(text.replace("</osm>", extra, 1))
    assert len(read_lanelet2(path).lanes) == len(read_lanelet2(shared_data / MAP).lanes)


def test_lanelet_referencing_an_unknown_regulatory_element(
    shared_data: Path, tmp_path: Path
) -> None:
    message = _error(
        shared_data,
        tmp_path,
        "<member type='relation' ref='45236' role='regulatory_element' />",
        "<member type='relation' ref='987654321' role='regulatory_element' />",
    )
    assert "field member regulatory_element: unknown relation 987654321" in message
