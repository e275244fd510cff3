"""Cusps (a polyline turning back on itself at a vertex) are refused in lanes, naming the lane,
the field and the vertex; sharp but forward turns and real maps are accepted."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.structures.road_map import MAX_VERTEX_TURN_RAD, Lane, RoadMap, first_cusp


def _lane(centerline: list[list[float]], lane_id: str = "a") -> Lane:
    c = np.array(centerline, dtype=np.float64)
    side = np.array([0.0, 1.75])
    return Lane(lane_id, c, c + side, c - side)


def _turn_at(angle_deg: float) -> list[list[float]]:
    """Along +x for 10 m, then 10 m at ``angle_deg`` to the left of straight on."""
    a = math.radians(angle_deg)
    return [[0.0, 0.0], [10.0, 0.0], [10.0 + 10.0 * math.cos(a), 10.0 * math.sin(a)]]


def test_the_reviewers_cusp_lane_is_refused_naming_lane_field_and_vertex() -> None:
    with pytest.raises(ValueError) as info:
        RoadMap((_lane([[0.0, 0.0], [100.0, 0.0], [0.0, 0.5]], "cusp"),))
    message = str(info.value)
    assert message.startswith("Lane 'cusp'.centerline_m turns back on itself at vertex 1 ")
    assert "[100.0, 0.0]" in message and "179.7 deg" in message  # atan2(0.5, 100): 0.29 deg


def test_vertex_index_counts_the_given_rows_repeated_ones_included() -> None:
    with pytest.raises(ValueError, match=r"at vertex 3 \[20\.0, 0\.0\]"):
        _lane([[0.0, 0.0], [10.0, 0.0], [10.0, 0.0], [20.0, 0.0], [5.0, 0.1]])


@pytest.mark.parametrize(("angle_deg", "refused"), [(169.0, False), (171.0, True), (90.0, False)])
def test_threshold_is_170_degrees(angle_deg: float, refused: bool) -> None:
    assert math.degrees(MAX_VERTEX_TURN_RAD) == pytest.approx(170.0)
    for sign in (1.0, -1.0):  # left and right turns alike
        line = [[x, sign * y] for x, y in _turn_at(angle_deg)]
        cusp = first_cusp(np.array(line))
        assert (cusp is not None) == refused
        if refused:
            assert cusp is not None and cusp[0] == 1
            assert math.degrees(cusp[1]) == pytest.approx(angle_deg)
            with pytest.raises(ValueError, match="at vertex 1"):
                _lane(line)
        else:
            assert _lane(line).length_m == pytest.approx(20.0)


@settings(max_examples=200, deadline=None)
@given(
    headings=st.lists(st.floats(-math.pi, math.pi), min_size=2, max_size=12),
    lengths=st.lists(st.floats(0.5, 50.0), min_size=12, max_size=12),
)
def test_first_cusp_is_the_first_turn_past_the_limit(
    headings: list[float], lengths: list[float]
) -> None:
    """Segments of given headings: the first vertex whose turn (the wrapped heading change)
    exceeds 170 degrees, computed here from the headings themselves."""
    steps = np.array(
        [[math.cos(h) * s, math.sin(h) * s] for h, s in zip(headings, lengths, strict=False)]
    )
    line = np.vstack([[0.0, 0.0], np.cumsum(steps, axis=0)])
    turns = [abs(math.remainder(b - a, 2.0 * math.pi)) for a, b in itertools.pairwise(headings)]
    clear = [i for i, t in enumerate(turns) if abs(t - MAX_VERTEX_TURN_RAD) > 1e-9]
    want = next((i + 1 for i, t in enumerate(turns) if t > MAX_VERTEX_TURN_RAD), None)
    if len(clear) != len(turns):  # a turn within rounding of the limit: either answer
        return
    got = first_cusp(line)
    assert (got[0] if got else None) == want


@pytest.mark.parametrize(
    "relative",
    [
        "lanelet2/mapping_example.osm",
        "commonroad/USA_Peach-4_8_T-1.xml",
        "opendrive_esmini/fabriksgatan.xodr",
    ],
)
def test_real_maps_have_no_cusp(shared_data, relative: str) -> None:  # type: ignore[no-untyped-def]
    """The readers build every lane (Lane refuses a cusp); the sharpest centreline turn of
    every shipped map is 46 degrees (Lanelet2's mapping_example; scan in the builder's notes)."""
    from drivestack.ingest.maps import read_commonroad, read_lanelet2, read_opendrive

    path = shared_data / relative
    read = {".osm": read_lanelet2, ".xml": read_commonroad, ".xodr": read_opendrive}[path.suffix]
    road_map = read(path)
    road_map = getattr(road_map, "road_map", road_map)
    assert all(first_cusp(lane.centerline_m) is None for lane in road_map.lanes)


def test_a_fold_split_by_a_sub_millimetre_step_is_still_a_cusp() -> None:
    """The reviewer's folded CommonRoad midline: two vertices 6e-5 m apart at the fold split
    its 179 deg turn into two turns under 170, and the fold was accepted."""
    line = np.array([[3.37, 81.44], [3.36704, 71.44310], [3.36698, 71.44310], [3.9, 75.0]])
    cusp = first_cusp(line)
    assert cusp is not None and cusp[0] == 2 and math.degrees(cusp[1]) > 170.0
    with pytest.raises(ValueError, match="turns back on itself at vertex 2"):
        _lane(line.tolist())
    # a 2 mm step at a real 90 deg corner is measured as it is, and accepted
    corner = np.array([[0.0, 0.0], [10.0, 0.0], [10.002, 0.0], [10.002, 10.0]])
    assert first_cusp(corner) is None
