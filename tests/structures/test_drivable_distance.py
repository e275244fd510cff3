"""RoadMap.distance_outside_drivable_m (nearest boundary pieces through an STRtree) against
``shapely.distance(drivable_area, point)``: equal bit for bit, on hand-built, synthetic and
real maps (OpenDRIVE, CommonRoad, Lanelet2, Argoverse 2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from drivestack.ingest.maps.synthetic import SYNTHETIC_MAP_BUILDERS
from drivestack.structures.road_map import RoadMap
from tests._shared_data import missing_shared_data

from ._helpers import straight_lane


def _shapely_reference(road_map: RoadMap, pts: np.ndarray) -> np.ndarray:
    """The plain route: 0 inside, ``shapely.distance`` to the whole area outside."""
    area = road_map.drivable_area
    inside = shapely.contains_xy(area, pts[:, 0], pts[:, 1])
    return np.where(inside, 0.0, shapely.distance(area, shapely.points(pts)))


def _assert_bit_identical(road_map: RoadMap, pts: np.ndarray) -> None:
    got = road_map.distance_outside_drivable_m(pts)
    want = _shapely_reference(road_map, pts)
    assert got.dtype == np.float64 and got.shape == (len(pts),)
    bad = np.flatnonzero(got != want)  # exact, not approximate
    assert not len(bad), (
        f"{len(bad)} differ, e.g. {pts[bad[0]]}: {got[bad[0]]!r} vs {want[bad[0]]!r}"
    )


def _ring_map() -> RoadMap:
    """One lane, a paved square with a square hole (an interior ring) and a far-away island
    (the drivable area is a MultiPolygon)."""
    ring = Polygon(
        [(0, 20), (40, 20), (40, 60), (0, 60)], [[(10, 30), (30, 30), (30, 50), (10, 50)]]
    )
    island = Polygon([(200, 200), (203, 200), (203.5, 207), (199, 204)])
    return RoadMap((straight_lane("a", 0.0, 100.0, 0.0),), extra_drivable_areas=(ring, island))


def _probe_points(
    road_map: RoadMap, along: list[float], offsets: list[tuple[float, float]]
) -> np.ndarray:
    """Points ``offsets`` away from points at fractions ``along`` of the boundary's length,
    plus the boundary's own vertices nudged by the same offsets (nearest segment ends)."""
    boundary = road_map.drivable_area.boundary
    on = shapely.get_coordinates(
        shapely.line_interpolate_point(boundary, np.asarray(along), normalized=True)
    )
    d = np.asarray(offsets, dtype=np.float64)
    verts = shapely.get_coordinates(boundary)
    picks = verts[(np.asarray(along) * (len(verts) - 1)).astype(int)]
    return np.concatenate([on + d, picks + d[::-1]])


_ALONG = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40)
_OFFSET = st.one_of(
    st.floats(-1e-6, 1e-6), st.floats(-3.0, 3.0), st.floats(-60.0, 60.0), st.just(0.0)
)


def test_hand_computed_distances() -> None:
    road = RoadMap((straight_lane("a", 0.0, 100.0, 0.0),))  # x 0..100, y -1.75..1.75
    pts = np.array([[50.0, 5.0], [-3.0, 5.75], [50.0, 0.0], [100.0, 1.75], [130.0, -1.75]])
    np.testing.assert_array_equal(
        road.distance_outside_drivable_m(pts), [3.25, 5.0, 0.0, 0.0, 30.0]
    )
    ring = _ring_map()
    # in the hole: 4 m from its lower edge; beyond the island: its nearest corner
    got = ring.distance_outside_drivable_m([[20.0, 34.0], [20.0, 40.0], [206.0, 196.0]])
    np.testing.assert_array_equal(got, [4.0, 10.0, 5.0])
    assert ring.distance_outside_drivable_m(np.empty((0, 2))).shape == (0,)


_SYNTHETIC: dict[str, RoadMap] = {
    **{kind: build() for kind, build in SYNTHETIC_MAP_BUILDERS.items()},
    "ring": _ring_map(),
}


@settings(max_examples=60)
@given(
    kind=st.sampled_from([*SYNTHETIC_MAP_BUILDERS, "ring"]),
    along=_ALONG,
    offsets=st.lists(st.tuples(_OFFSET, _OFFSET), min_size=40, max_size=40),
)
def test_synthetic_maps_bit_identical(
    kind: str, along: list[float], offsets: list[tuple[float, float]]
) -> None:
    road_map = _SYNTHETIC[kind]
    _assert_bit_identical(road_map, _probe_points(road_map, along, offsets[: len(along)]))


def test_no_drivable_polygon_is_refused() -> None:
    """A map whose lanes are all non-drivable has an empty area: no distance to it (shapely's
    answer is NaN), a ValueError (more in test_road_map_fuzz_no_drivable.py)."""
    lane = straight_lane("w", 0.0, 10.0, 0.0, lane_type="walkway")
    road_map = RoadMap((lane,))
    pts = np.array([[1.0, 1.0], [50.0, 3.0]])
    assert np.all(np.isnan(_shapely_reference(road_map, pts)))
    with pytest.raises(ValueError, match="has no drivable area"):
        road_map.distance_outside_drivable_m(pts)


_AV2 = "argoverse2/sensor/val/{}/map"
_REAL_MAPS = {  # name: (file or folder under the shared data, reader)
    "opendrive_multi_intersections": ("opendrive_esmini/multi_intersections.xodr", "opendrive"),
    "commonroad_peach": ("commonroad/USA_Peach-4_8_T-1.xml", "commonroad"),
    "lanelet2_mapping_example": ("lanelet2/mapping_example.osm", "lanelet2"),
    "av2_7fab2350": (_AV2.format("7fab2350-7eaf-3b7e-a39d-6937a4c1bede"), "av2"),
    "av2_adcf7d18": (_AV2.format("adcf7d18-0510-35b0-a2fa-b4cea13a6d76"), "av2"),
}
_LOADED: dict[str, RoadMap] = {}


def _read(kind: str, path: Path) -> RoadMap:
    from drivestack.ingest.maps.av2_road_map import read_av2_road_map
    from drivestack.ingest.maps.commonroad import read_commonroad
    from drivestack.ingest.maps.lanelet2 import read_lanelet2
    from drivestack.ingest.maps.opendrive import read_opendrive

    readers: dict[str, Callable[[Path], RoadMap]] = {
        "opendrive": read_opendrive,
        "commonroad": lambda p: read_commonroad(p).road_map,
        "lanelet2": read_lanelet2,
        "av2": read_av2_road_map,
    }
    return readers[kind](path)


@pytest.fixture(scope="module", params=sorted(_REAL_MAPS))
def real_map(request: pytest.FixtureRequest, shared_data: Path) -> RoadMap:
    name = str(request.param)
    relative, kind = _REAL_MAPS[name]
    if not (shared_data / relative).exists():
        missing_shared_data(f"{name}: {shared_data / relative} not found")
    if name not in _LOADED:
        _LOADED[name] = _read(kind, shared_data / relative)
    return _LOADED[name]


@pytest.mark.data
@settings(max_examples=25)
@given(
    along=_ALONG,
    offsets=st.lists(st.tuples(_OFFSET, _OFFSET), min_size=40, max_size=40),
    seed=st.integers(0, 2**32 - 1),
)
def test_real_maps_bit_identical(
    real_map: RoadMap, along: list[float], offsets: list[tuple[float, float]], seed: int
) -> None:
    x0, y0, x1, y1 = real_map.drivable_area.bounds
    spread = np.random.default_rng(seed).uniform([x0 - 50, y0 - 50], [x1 + 50, y1 + 50], (200, 2))
    pts = np.concatenate([_probe_points(real_map, along, offsets[: len(along)]), spread])
    _assert_bit_identical(real_map, pts)
