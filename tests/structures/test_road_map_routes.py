"""Explicit routes: connectivity checked, lane ids are strings, lane changes onto short lanes
blend over the following lanes instead of making a corner."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import four_way_intersection
from drivestack.planning.reference_path import ReferencePath
from drivestack.structures.road_map import Lane, RoadMap
from tests.structures._helpers import straight_lane


@pytest.mark.parametrize(
    ("route", "pair"),
    [
        (["south_in", "north_out"], "'north_out' is neither"),
        (["north_out", "south_in"], "'south_in' is neither"),
    ],
)
def test_disconnected_route_is_refused(route: list[str], pair: str) -> None:
    m = four_way_intersection()
    with pytest.raises(ValueError, match=f"route lanes 0 -> 1: lane {pair}"):
        m.route_centerline(route)
    with pytest.raises(ValueError, match="neither a successor"):
        ReferencePath.from_route(m, route)


def test_connected_route_and_empty_route() -> None:
    m = four_way_intersection()
    assert len(m.route_centerline(["south_in", "south_to_north", "north_out"])) > 2
    with pytest.raises(ValueError, match="at least one lane"):
        m.route_centerline([])


def test_int_lane_id_hints_at_strings() -> None:
    m = RoadMap(
        (
            Lane(
                "42440",
                [[0.0, 0.0], [10.0, 0.0]],
                [[0.0, 1.0], [10.0, 1.0]],
                [[0.0, -1.0], [10.0, -1.0]],
            ),
        )
    )
    with pytest.raises(KeyError, match="lane ids are strings: use '42440'"):
        m.lane(42440)  # type: ignore[arg-type]
    with pytest.raises(KeyError) as info:
        m.lane("7")
    assert "strings" not in str(info.value)


def _short_neighbour_map() -> RoadMap:
    """``a`` (0-40 m) beside a short ``b`` (0-8.8 m, on the left), ``b`` continues as ``c``."""
    return RoadMap(
        (
            straight_lane("a", 0.0, 40.0, 0.0, left_neighbor="b"),
            straight_lane("b", 0.0, 8.8, 3.5, right_neighbor="a", successors=("c",)),
            straight_lane("c", 8.8, 100.0, 3.5, predecessors=("b",)),
        )
    )


def test_lane_change_onto_a_short_lane_continues_into_its_successor() -> None:
    m = _short_neighbour_map()
    ref = ReferencePath.from_route(m, ["a", "b", "c"])
    assert float(np.max(np.abs(ref.curvature_1pm))) < 0.2  # was 0.75 1/m: a corner at b's end
    line = m.route_centerline(["a", "b", "c"])
    d = np.diff(line, axis=0)
    assert np.all(d[:, 0] > 0)  # always forwards


def test_lane_change_without_room_is_a_clear_error() -> None:
    m = _short_neighbour_map()
    short = RoadMap(
        (
            straight_lane("a", 0.0, 3.0, 0.0, left_neighbor="b"),
            straight_lane("b", 0.0, 3.0, 3.5, right_neighbor="a"),
        )
    )
    with pytest.raises(ValueError, match="lane change from lane 'a' to lane 'b'"):
        short.route_centerline(["a", "b"])
    assert len(m.route_centerline(["a", "b"])) >= 2  # 8.8 m of b: room enough when leaving early
