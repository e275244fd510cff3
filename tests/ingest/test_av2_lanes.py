"""Argoverse 2 map lanes: direction of travel near a point, NaN off the lanes and where they
cross; the reader's errors; the frames carry the lanes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.argoverse2 import list_av2_sweeps, read_av2_frame
from drivestack.ingest.maps.av2_lanes import LazyAv2Lanes, read_av2_lanes

SPREAD = np.deg2rad(10.0)


def _line(*xy: tuple[float, float]) -> list[dict[str, float]]:
    return [{"x": x, "y": y, "z": 0.0} for x, y in xy]


def _lane(left: list[tuple[float, float]], right: list[tuple[float, float]]) -> dict[str, object]:
    return {
        "id": 0,
        "lane_type": "VEHICLE",
        "is_intersection": False,
        "left_lane_boundary": _line(*left),
        "right_lane_boundary": _line(*right),
    }


#: A two-way road along x (0..20 m): "east" on y 0..4 (left boundary y = 4), "west" on y 4..8
#: (left boundary y = 4, both boundaries from x = 20 to 0); a road along +y at x 30..34 (left
#: boundary x = 30) crossed by a lane along +x on y 0..4 (x 28..36).
LANES = {
    "1": _lane([(0.0, 4.0), (20.0, 4.0)], [(0.0, 0.0), (20.0, 0.0)]),
    "2": _lane([(20.0, 4.0), (0.0, 4.0)], [(20.0, 8.0), (10.0, 8.0), (0.0, 8.0)]),
    "3": _lane([(30.0, -10.0), (30.0, 10.0)], [(34.0, -10.0), (34.0, 10.0)]),
    "4": _lane([(28.0, 4.0), (36.0, 4.0)], [(28.0, 0.0), (36.0, 0.0)]),
}


def _map_dir(tmp_path: Path, lanes: Mapping[str, object] = LANES) -> Path:
    folder = tmp_path / "map"
    folder.mkdir()
    doc = {"lane_segments": lanes, "drivable_areas": {}, "pedestrian_crossings": {}}
    (folder / "log_map_archive_log0____PIT_city_1.json").write_text(json.dumps(doc))
    return folder


def test_heading_of_the_nearest_lane_hand_computed(tmp_path: Path) -> None:
    lanes = read_av2_lanes(_map_dir(tmp_path))
    xy = np.array(
        [
            [10.0, 2.0],  # in "east" ("west" 2 m off, out of reach): 0
            [10.0, 4.5],  # in "west", "east" 0.5 m off (opposite ways agree): pi -> -pi
            [10.0, 9.5],  # 1.5 m beside "west": out of reach
            [29.5, -5.0],  # 0.5 m beside the +y road: pi / 2
            [31.0, 2.5],  # where the +y road and the +x lane cross: no heading
            [22.0, 2.0],  # 2 m past the end of "east": out of reach
        ]
    )
    heading = lanes.heading_rad(xy, 1.0, SPREAD)
    np.testing.assert_allclose(heading, [0.0, -np.pi, np.nan, np.pi / 2, np.nan, np.nan])
    # a longer reach finds "east" beyond its end; the crossing still disagrees
    far = lanes.heading_rad(xy[[5, 4]], 2.5, SPREAD)
    np.testing.assert_allclose(far, [0.0, np.nan])
    # a spread of 90 degrees accepts the crossing: the nearer centreline (+x: 0.5 m off, +y: 1 m)
    np.testing.assert_allclose(lanes.heading_rad(xy[[4]], 1.0, np.pi / 2), [0.0], atol=1e-12)
    assert lanes.heading_rad(np.zeros((0, 2)), 1.0, SPREAD).shape == (0,)


def test_heading_follows_a_bend(tmp_path: Path) -> None:
    """A lane turning from +x to +y: the heading of the centreline piece the point projects on."""
    bend = _lane([(0.0, 2.0), (8.0, 2.0), (8.0, 10.0)], [(0.0, -2.0), (12.0, -2.0), (12.0, 10.0)])
    lanes = read_av2_lanes(_map_dir(tmp_path, {"1": bend}))
    heading = lanes.heading_rad(np.array([[2.0, 0.0], [10.0, 8.0]]), 0.0, SPREAD)
    np.testing.assert_allclose(heading, [0.0, np.pi / 2], atol=1e-12)


def test_missing_and_malformed_maps_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="log_map_archive"):
        LazyAv2Lanes(tmp_path).heading_rad(np.zeros((1, 2)), 1.0, SPREAD)
    bad = {"1": {"left_lane_boundary": _line((0.0, 0.0), (1.0, 0.0))}}
    with pytest.raises(DataError, match="lane_segments"):
        read_av2_lanes(_map_dir(tmp_path, bad))


def test_degenerate_boundary_is_named(tmp_path: Path) -> None:
    one_point = _lane([(0.0, 4.0), (0.0, 4.0)], [(0.0, 0.0), (20.0, 0.0)])
    with pytest.raises(DataError, match="fewer than 2 distinct points"):
        read_av2_lanes(_map_dir(tmp_path, {"1": one_point}))


def test_lazy_lanes_read_only_when_used(tmp_path: Path) -> None:
    folder = tmp_path / "nothing_yet"
    lazy = LazyAv2Lanes(folder)  # no file: no error until asked
    folder.mkdir()
    doc = {"lane_segments": LANES}
    (folder / "log_map_archive_x.json").write_text(json.dumps(doc))
    np.testing.assert_allclose(lazy.heading_rad(np.array([[10.0, 2.0]]), 1.0, SPREAD), [0.0])


@pytest.mark.data
def test_real_logs_carry_their_lanes(shared_data: Path) -> None:
    """At the ego's position, where the lanes give a heading, the ego drives along it (within
    10 degrees modulo 180)."""
    root = shared_data / "argoverse2/sensor/val"
    checked = 0
    for log in sorted(p for p in root.iterdir() if p.is_dir()):
        for ts in list_av2_sweeps(log):
            frame = read_av2_frame(log, ts)
            assert frame.world_from_ego is not None and frame.lane_headings is not None
            origin = frame.world_from_ego.translation[None, :2]
            heading = frame.lane_headings.heading_rad(origin, 1.0, SPREAD)[0]
            if np.isfinite(heading):
                off = np.mod(heading - frame.world_from_ego.yaw_rad + np.pi / 2, np.pi)
                assert abs(off - np.pi / 2) < np.deg2rad(10.0)
                checked += 1
    assert checked > 0
