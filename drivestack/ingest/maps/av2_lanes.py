"""Argoverse 2 map lane directions (``map/log_map_archive_*.json``, ``lane_segments``).

Each lane segment has a left and a right boundary (city-frame polylines of ``{x, y, z}``
vertices), both running in the direction of travel. :func:`read_av2_lanes` keeps, for every
lane segment (any ``lane_type``: VEHICLE, BUS, BIKE), its area (the polygon between its two
boundaries) and its centreline (:func:`~drivestack.ingest.maps._geometry.centerline_from_bounds`).
:meth:`LaneDirections.heading_rad` answers "which way does traffic run here": the direction of
travel of the nearest lane, or NaN where no lane is near or where the near lanes cross
(intersections, merges).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.ingest.maps._geometry import centerline_from_bounds, dedup
from drivestack.ingest.maps.av2_archive import read_av2_map_layer


def _xy(vertices: list[dict[str, float]]) -> np.ndarray:
    """``(K, 2)`` xy of AV2 ``[{x, y, z}, ...]`` vertices, repeated points dropped."""
    return dedup(np.array([(v["x"], v["y"]) for v in vertices], dtype=np.float64).reshape(-1, 2))


@dataclass(frozen=True)
class LaneDirections:
    """Lane areas and centrelines in the world frame.

    Attributes:
        polygons: ``(L,)`` shapely polygons, each the area between a lane's boundaries.
        centerlines: ``L`` ``(K_l, 2)`` centrelines (K_l >= 2), in the direction of travel.
    """

    polygons: np.ndarray
    centerlines: tuple[np.ndarray, ...]

    def __post_init__(self) -> None:
        if len(self.polygons) != len(self.centerlines):
            raise ValueError(
                f"LaneDirections: {len(self.polygons)} polygons but "
                f"{len(self.centerlines)} centrelines"
            )

    @cached_property
    def _tree(self) -> Any:
        import shapely

        return shapely.STRtree(self.polygons)

    @cached_property
    def _pieces(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every centreline's pieces, lane by lane: ``(S, 2)`` starts, ``(S, 2)`` vectors and
        ``(L + 1,)`` offsets (lane ``l``'s pieces are ``first[l]:first[l + 1]``)."""
        start = np.concatenate([line[:-1] for line in self.centerlines]).reshape(-1, 2)
        vector = np.concatenate([np.diff(line, axis=0) for line in self.centerlines])
        counts = [len(line) - 1 for line in self.centerlines]
        return start, vector.reshape(-1, 2), np.cumsum([0, *counts])

    def _nearest_pieces(
        self, xy: np.ndarray, query: np.ndarray, lane: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """For ``(P,)`` (query point, lane) pairs: ``(P,)`` distance from the point to the
        lane's centreline and ``(P,)`` heading of its nearest centreline piece (the first of
        equally near ones)."""
        if len(lane) == 0:
            return np.zeros(0), np.zeros(0)
        start, vector, first = self._pieces
        counts = first[lane + 1] - first[lane]
        bounds = np.cumsum(counts) - counts  # each pair's first piece in the flat arrays
        pair = np.repeat(np.arange(len(lane)), counts)
        piece = first[lane][pair] + np.arange(len(pair)) - bounds[pair]
        rel = xy[query[pair]] - start[piece]
        v = vector[piece]
        t = np.clip(np.einsum("pk,pk->p", rel, v) / np.einsum("pk,pk->p", v, v), 0.0, 1.0)
        gap = np.linalg.norm(rel - t[:, None] * v, axis=1)
        nearest = np.minimum.reduceat(gap, bounds)
        chosen = np.flatnonzero(gap == nearest[pair])
        first_chosen = chosen[np.r_[True, pair[chosen][1:] != pair[chosen][:-1]]]
        heading = np.arctan2(v[first_chosen, 1], v[first_chosen, 0])
        return nearest, heading

    def _lanes_near(self, xy: np.ndarray, max_distance_m: float) -> tuple[np.ndarray, ...]:
        """For every (query point, lane) pair whose lane area lies within ``max_distance_m``
        of the point of ``(N, 2)`` ``xy``: ``(P,)`` query index, ``(P,)`` distance to the lane
        area, ``(P,)`` distance to its centreline and ``(P,)`` heading of the centreline piece
        nearest to the point."""
        import shapely

        points = shapely.points(xy)
        query, lane = self._tree.query(points, predicate="dwithin", distance=max_distance_m)
        distance = np.asarray(shapely.distance(self.polygons[lane], points[query]))
        offset, heading = self._nearest_pieces(xy, query, lane)
        return query, distance, offset, heading

    def heading_rad(
        self, xy_world_m: np.ndarray, max_distance_m: float, max_spread_rad: float
    ) -> np.ndarray:
        """Direction of travel of the lanes near each of ``(N, 2)`` world positions.

        Args:
            xy_world_m: ``(N, 2)`` world xy.
            max_distance_m: lanes whose area lies within this distance count (0: the point
                must be inside the lane).
            max_spread_rad: the counted lanes must agree with the nearest one within this
                angle modulo 180 degrees (lanes of opposite directions on one road agree).

        Returns:
            ``(N,)`` heading (rad, world frame, in ``[-pi, pi)``) of the nearest lane (nearest
            area, then nearest centreline) at the point's projection on its centreline; NaN
            where no lane is within reach or where the lanes within reach disagree.
        """
        xy = np.asarray(xy_world_m, dtype=np.float64).reshape(-1, 2)
        out = np.full(len(xy), np.nan)
        if len(xy) == 0 or len(self.polygons) == 0:
            return out
        query, distance, offset, heading = self._lanes_near(xy, max_distance_m)
        if len(query) == 0:
            return out
        order = np.lexsort((offset, distance, query))
        query, heading = query[order], heading[order]
        first = np.flatnonzero(np.r_[True, query[1:] != query[:-1]])
        nearest = np.repeat(heading[first], np.diff(np.r_[first, len(query)]))
        off = np.abs(np.mod(heading - nearest + np.pi / 2, np.pi) - np.pi / 2)
        spread = np.maximum.reduceat(off, first)
        agree = spread <= max_spread_rad
        out[query[first[agree]]] = np.mod(heading[first[agree]] + np.pi, 2 * np.pi) - np.pi
        return out


def lane_directions(lanes: list[tuple[np.ndarray, np.ndarray]]) -> LaneDirections:
    """:class:`LaneDirections` of ``(left (K, 2), right (M, 2))`` boundary pairs, both in the
    direction of travel (lanes whose centreline collapses to one point are left out)."""
    import shapely

    polygons = []
    centerlines = []
    for left, right in lanes:
        line = centerline_from_bounds(left, right)
        if len(line) < 2:
            continue
        polygons.append(shapely.Polygon(np.concatenate([left, right[::-1]])).buffer(0))
        centerlines.append(line)
    return LaneDirections(np.array(polygons, dtype=object), tuple(centerlines))


def _lane_bounds(lane_segments: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(left, right)`` boundary xy of every lane segment of an archive's ``lane_segments``."""
    return [
        (_xy(lane["left_lane_boundary"]), _xy(lane["right_lane_boundary"]))
        for lane in lane_segments.values()
    ]


def read_av2_lanes(map_dir: str | Path) -> LaneDirections:
    """The lane segments of a log (``map_dir/log_map_archive_*.json``), city frame; DataError
    naming the folder when there is no map archive, or the file and field when its
    ``lane_segments`` are malformed."""
    bounds, path = read_av2_map_layer(map_dir, "lane_segments", _lane_bounds)
    if any(len(left) < 2 or len(right) < 2 for left, right in bounds):
        raise DataError(
            "a lane boundary with fewer than 2 distinct points",
            path=str(path),
            field="lane_segments",
        )
    return lane_directions(bounds)


@dataclass(frozen=True)
class LazyAv2Lanes:
    """A log's lane directions read on the first :meth:`heading_rad` call (a frame can carry
    them at no cost; a missing map file raises only then, naming the folder).

    Attributes:
        map_dir: the log's ``map/`` folder.
    """

    map_dir: Path

    @cached_property
    def lanes(self) -> LaneDirections:
        """The lanes (read once); DataError naming the folder when the map is missing."""
        return read_av2_lanes(self.map_dir)

    def heading_rad(
        self, xy_world_m: np.ndarray, max_distance_m: float, max_spread_rad: float
    ) -> np.ndarray:
        """:meth:`LaneDirections.heading_rad` of the log's lanes."""
        return self.lanes.heading_rad(xy_world_m, max_distance_m, max_spread_rad)
