#!/usr/bin/env python3
"""RoadMap.distance_outside_drivable_m (nearest boundary pieces, STRtree) against its shapely
peer (``shapely.distance`` to the whole drivable area), same process, same points.

Points: ``--points`` points just outside each map's drivable area (boundary points pushed
out by up to a few metres, like the footprint corners of a planner's proposals that leave
the road). Prints per-call medians, the ratio (shapely / drivestack, > 1: drivestack is
faster) and checks the two answers are bit-identical. Maps: esmini's multi_intersections
OpenDRIVE map and the Argoverse 2 log maps under ``--data-root`` (``../shared/data``)::

    .venv/bin/python tools/bench_drivable_distance.py --data-root /work/shared/data
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import shapely

from drivestack.bench.timing import measure
from drivestack.cli import report_user_errors
from drivestack.commands._paths import int_at_least
from drivestack.core.errors import DataError
from drivestack.ingest.maps.av2_road_map import read_av2_road_map
from drivestack.ingest.maps.opendrive import read_opendrive
from drivestack.structures.road_map import RoadMap

_MAPS: dict[str, tuple[str, Callable[[Path], RoadMap]]] = {
    "opendrive multi_intersections": (
        "opendrive_esmini/multi_intersections.xodr",
        lambda p: read_opendrive(p),
    ),
    "av2 7fab2350": (
        "argoverse2/sensor/val/7fab2350-7eaf-3b7e-a39d-6937a4c1bede/map",
        read_av2_road_map,
    ),
    "av2 adcf7d18": (
        "argoverse2/sensor/val/adcf7d18-0510-35b0-a2fa-b4cea13a6d76/map",
        read_av2_road_map,
    ),
}


def outside_points(road_map: RoadMap, n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, 2)`` points outside the drivable area, within a few metres of its boundary."""
    area = road_map.drivable_area
    found = np.empty((0, 2))
    while len(found) < n:
        along = rng.uniform(0.0, 1.0, 4 * n)
        on = shapely.get_coordinates(
            shapely.line_interpolate_point(area.boundary, along, normalized=True)
        )
        pts = on + rng.normal(0.0, 2.0, on.shape)
        found = np.concatenate([found, pts[~shapely.intersects_xy(area, pts[:, 0], pts[:, 1])]])
    return found[:n]


def shapely_peer(road_map: RoadMap, pts: np.ndarray) -> np.ndarray:
    """The plain shapely route: 0 inside, ``shapely.distance`` to the whole area outside."""
    area = road_map.drivable_area
    shapely.prepare(area)
    inside = shapely.contains_xy(area, pts[:, 0], pts[:, 1])
    out = np.zeros(len(pts))
    out[~inside] = shapely.distance(area, shapely.points(pts[~inside]))
    return out


#: the most points per map (each is timed ``--repeats`` times)
MAX_POINTS = 1_000_000


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; bad input prints one ``error: ...`` line and returns 2."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--data-root",
        type=Path,
        default=Path("../shared/data"),
        help="the shared data folder holding the maps (default ../shared/data)",
    )
    ap.add_argument(
        "--points",
        type=int_at_least(1, MAX_POINTS),
        default=100,
        help=f"points per map, 1 to {MAX_POINTS}",
    )
    ap.add_argument(
        "--repeats",
        type=int_at_least(1),
        default=200,
        help="timed calls per implementation and map, the median reported (default 200)",
    )
    args = ap.parse_args(argv)
    return report_user_errors(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    if not args.data_root.is_dir():
        raise DataError("no such folder", path=str(args.data_root), field="--data-root")
    rng = np.random.default_rng(0)
    print("| map | boundary vertices | shapely ms | drivestack ms | ratio | identical |")
    print("|---|---|---|---|---|---|")
    for name, (relative, read) in _MAPS.items():
        path = args.data_root / relative
        if not path.exists():
            print(f"| {name} | (not found: {path}) | | | | |")
            continue
        road_map = read(path)
        pts = outside_points(road_map, args.points, rng)
        peer, want = measure("shapely", partial(shapely_peer, road_map, pts), args.repeats)
        ours, got = measure(
            "drivestack", partial(road_map.distance_outside_drivable_m, pts), args.repeats
        )
        n_vertices = shapely.get_num_coordinates(road_map.drivable_area)
        print(
            f"| {name} | {n_vertices} | {peer.median_ms:.3f} | {ours.median_ms:.3f} | "
            f"{peer.median_ms / ours.median_ms:.1f}x | {bool(np.array_equal(got, want))} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
