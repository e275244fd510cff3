"""Road maps built from code: straight and curved multi-lane roads, a four-way intersection, a merge.
Where a light the map does not place stands: :func:`kerb_light_position`.

Every builder returns a :class:`~drivestack.structures.road_map.RoadMap` in the ``world`` frame.
Lane ids are ``"<road>_<index>"`` with index 0 the rightmost lane of the road. Each builder
checks its own arguments on entry and raises :class:`MapParamError` naming the one it refuses.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np
from shapely.geometry import LineString, Polygon

from drivestack.ingest.maps._stops import stop_station_m
from drivestack.structures.road_map import (
    Lane,
    RoadMap,
    StopSign,
    interpolate_polyline,
    project_to_polyline,
    resample_polyline,
)
from drivestack.structures.traffic_light import LaneStop


class MapParamError(ValueError):
    """A synthetic map builder's argument out of its range: ``param`` names the argument,
    ``reason`` says what it must be (``"must be a length > 0 m, got 0.0"``); ``str()`` is
    ``"<param>: <reason>"``."""

    def __init__(self, param: str, reason: str) -> None:
        super().__init__(f"{param}: {reason}")
        self.param = param
        self.reason = reason


def _require(name: str, value: object, ok: Callable[[float], bool], what: str) -> None:
    """:class:`MapParamError` at ``name`` unless ``value`` is a finite number passing ``ok``."""
    if not (isinstance(value, numbers.Real) and math.isfinite(value) and ok(float(value))):
        raise MapParamError(name, f"must be {what}, got {value}")


def _positive(v: float) -> bool:
    return v > 0


#: The largest length (or offset) a synthetic map takes, 1,000 km: past it the sampled lanes
#: run to millions of points, and past about 1e101 m box overlaps overflow.
MAX_MAP_LENGTH_M = 1e6
#: The largest bend radius, 100 km (bends are sampled every metre; beyond it a road is
#: straight for any scenario).
MAX_RADIUS_M = 1e5
#: The widest lane, 50 m.
MAX_LANE_WIDTH_M = 50.0


def _length(v: float) -> bool:
    return 0 < v <= MAX_MAP_LENGTH_M


_LENGTH = f"a length in (0, {MAX_MAP_LENGTH_M:g}] m"


def _require_lanes(n_lanes: int, lane_width_m: float, speed_limit_mps: float) -> None:
    """The lane checks of the multi-lane roads (``straight_road``, ``curved_road``)."""
    if isinstance(n_lanes, bool) or not isinstance(n_lanes, numbers.Integral):
        raise MapParamError("n_lanes", f"must be a whole number of lanes, got {n_lanes!r}")
    _require("n_lanes", n_lanes, lambda v: v >= 1, "at least 1 (the lanes of the road)")
    _require_lane(lane_width_m, speed_limit_mps)


def _require_lane(lane_width_m: float, speed_limit_mps: float) -> None:
    """A lane's width and speed limit, both > 0."""
    _require(
        "lane_width_m",
        lane_width_m,
        lambda v: 0 < v <= MAX_LANE_WIDTH_M,
        f"a width in (0, {MAX_LANE_WIDTH_M:g}] m",
    )
    _require("speed_limit_mps", speed_limit_mps, _positive, "a speed > 0 m/s")


def offset_polyline(polyline_m: np.ndarray, offset_m: float) -> np.ndarray:
    """``(N, 2)`` polyline shifted ``offset_m`` to its left (mitred vertices, exact on each segment)."""
    d = np.diff(polyline_m, axis=0)
    n = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.linalg.norm(d, axis=1, keepdims=True)
    normals = np.concatenate([n[:1], n[:-1] + n[1:], n[-1:]])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    scale = np.ones(len(polyline_m))
    scale[1:-1] = 1.0 / np.maximum(np.sum(normals[1:-1] * n[:-1], axis=1), 0.2)
    return polyline_m + offset_m * scale[:, None] * normals


def arc(
    center_m: tuple[float, float],
    radius_m: float,
    start_rad: float,
    sweep_rad: float,
    step_m: float = 1.0,
) -> np.ndarray:
    """Points on a circular arc, counter-clockwise for positive ``sweep_rad``."""
    n = max(2, math.ceil(abs(sweep_rad) * radius_m / step_m) + 1)
    ang = start_rad + np.linspace(0.0, sweep_rad, n)
    return np.stack(
        [center_m[0] + radius_m * np.cos(ang), center_m[1] + radius_m * np.sin(ang)], axis=1
    )


def road_lanes(
    name: str,
    right_edge_m: np.ndarray,
    n_lanes: int,
    lane_width_m: float,
    speed_limit_mps: float,
) -> list[Lane]:
    """Parallel lanes left of ``right_edge_m``, with neighbour links (index 0 rightmost)."""
    lanes = []
    for i in range(n_lanes):
        lanes.append(
            Lane(
                lane_id=f"{name}_{i}",
                centerline_m=offset_polyline(right_edge_m, (i + 0.5) * lane_width_m),
                left_boundary_m=offset_polyline(right_edge_m, (i + 1) * lane_width_m),
                right_boundary_m=offset_polyline(right_edge_m, i * lane_width_m),
                speed_limit_mps=speed_limit_mps,
                left_neighbor=f"{name}_{i + 1}" if i + 1 < n_lanes else None,
                right_neighbor=f"{name}_{i - 1}" if i > 0 else None,
            )
        )
    return lanes


def straight_road(
    length_m: float = 600.0,
    n_lanes: int = 2,
    lane_width_m: float = 3.5,
    speed_limit_mps: float = 27.78,
) -> RoadMap:
    """One-way road along +x from x=-100 m; lane 0 centred on y = lane_width/2."""
    _require("length_m", length_m, _length, _LENGTH)
    _require_lanes(n_lanes, lane_width_m, speed_limit_mps)
    edge = np.array([[-100.0, 0.0], [length_m - 100.0, 0.0]])
    return RoadMap(
        tuple(
            road_lanes(
                "road", resample_polyline(edge, 10.0), n_lanes, lane_width_m, speed_limit_mps
            )
        ),
        source="synthetic:straight",
    )


def curved_road(
    radius_m: float = 100.0,
    sweep_rad: float = math.pi / 2,
    lead_in_m: float = 150.0,
    lead_out_m: float = 200.0,
    n_lanes: int = 2,
    lane_width_m: float = 3.5,
    speed_limit_mps: float = 16.67,
) -> RoadMap:
    """Straight lead-in along +x ending at the origin, a left arc of ``radius_m`` (right edge), a straight lead-out.

    ``radius_m`` must exceed the road's width (``n_lanes x lane_width_m``), or the inner lanes
    would turn inside out.
    """
    _require(
        "radius_m",
        radius_m,
        lambda v: 0 < v <= MAX_RADIUS_M,
        f"a radius in (0, {MAX_RADIUS_M:g}] m",
    )
    _require(
        "sweep_rad",
        sweep_rad,
        lambda v: 0 < v < 2 * math.pi,
        "an angle in (0, 2 pi) rad (a left bend)",
    )
    _require("lead_in_m", lead_in_m, _length, _LENGTH)
    _require("lead_out_m", lead_out_m, _length, _LENGTH)
    _require_lanes(n_lanes, lane_width_m, speed_limit_mps)
    width = n_lanes * lane_width_m
    if radius_m <= width:
        raise MapParamError(
            "radius_m",
            f"{radius_m} m is not more than the road's width ({width:g} m, n_lanes x "
            "lane_width_m): the inner lanes would turn inside out",
        )
    lead_in = np.stack([np.linspace(-lead_in_m, 0.0, 31), np.zeros(31)], axis=1)
    bend = arc((0.0, radius_m), radius_m, -math.pi / 2, sweep_rad)
    heading = sweep_rad
    end = bend[-1]
    lead_out = end + np.linspace(0.0, lead_out_m, 41)[:, None] * np.array(
        [math.cos(heading), math.sin(heading)]
    )
    edge = np.concatenate([lead_in, bend[1:], lead_out[1:]])
    return RoadMap(
        tuple(road_lanes("road", edge, n_lanes, lane_width_m, speed_limit_mps)),
        source="synthetic:curved",
    )


def _lane_from_centre(
    lane_id: str,
    centre: np.ndarray,
    width_m: float,
    speed_mps: float,
    successors: tuple[str, ...] = (),
    predecessors: tuple[str, ...] = (),
    junction_id: str | None = None,
) -> Lane:
    """A lane of constant ``width_m`` around ``centre (K, 2)``: boundaries offset half a width."""
    return Lane(
        lane_id,
        centre,
        offset_polyline(centre, width_m / 2),
        offset_polyline(centre, -width_m / 2),
        speed_mps,
        successors=successors,
        predecessors=predecessors,
        junction_id=junction_id,
    )


#: The :attr:`~drivestack.structures.road_map.Lane.junction_id` of the connectors of
#: :func:`four_way_intersection` (the lanes inside its box).
INTERSECTION_JUNCTION_ID = "junction"


def four_way_intersection(
    arm_length_m: float = 150.0,
    lane_width_m: float = 3.5,
    speed_limit_mps: float = 13.89,
    box_half_m: float = 10.0,
    stop_sign_arms: int = 0,
) -> RoadMap:
    """Two two-way roads crossing at the origin (one lane per direction per arm).

    Arms are named by where they point: ``east``, ``north``, ``west``, ``south``. For each arm
    ``<arm>_in`` drives toward the centre and ``<arm>_out`` away from it; connectors
    ``<from>_to_<to>`` join every inbound lane to the outbound lanes of the other three arms
    (straight, left and right turns) across a square box of half-size ``box_half_m``; the
    connectors, and only they, lie in the junction (``junction_id``
    :data:`INTERSECTION_JUNCTION_ID`: a route crossing the box enters one junction). Each arm
    has a crosswalk (1.5 m either side of ``box_half_m + 2`` from the centre) and a stop line
    across its inbound lane ``box_half_m + 4`` from the centre, behind the crosswalk.

    ``stop_sign_arms``: how many arms have a stop sign at their stop line
    (``RoadMap.stop_signs``, one rule ``stop_<arm>`` per arm): 0 (the default: none, the map as
    without the parameter), 2 (the ``north`` and ``south`` arms stop, kind ``stop``: a two-way
    stop, the east-west road has priority) or 4 (every arm, kind ``all_way_stop``).
    """
    _require("arm_length_m", arm_length_m, _length, _LENGTH)
    _require_lane(lane_width_m, speed_limit_mps)
    _require("box_half_m", box_half_m, _length, f"a half-size in (0, {MAX_MAP_LENGTH_M:g}] m")
    if isinstance(stop_sign_arms, bool) or stop_sign_arms not in (0, 2, 4):
        raise MapParamError(
            "stop_sign_arms",
            "must be 0 (no stop signs), 2 (north and south arms) or 4 (an all-way stop), "
            f"got {stop_sign_arms!r}",
        )
    half = box_half_m
    lanes: list[Lane] = []
    crosswalks: list[Polygon] = []
    stop_lines: list[LineString] = []
    arms = {"east": 0.0, "north": math.pi / 2, "west": math.pi, "south": -math.pi / 2}
    ends_in: dict[str, np.ndarray] = {}
    starts_out: dict[str, np.ndarray] = {}
    for name, ang in arms.items():
        u = np.array([math.cos(ang), math.sin(ang)])
        left = np.array([-u[1], u[0]])
        far, near = (half + arm_length_m) * u, half * u
        s = np.linspace(0.0, 1.0, 16)[:, None]
        inbound_c = far + s * (near - far) + left * (lane_width_m / 2)
        outbound_c = near + s * (far - near) - left * (lane_width_m / 2)
        for lane_id, centre in ((f"{name}_in", inbound_c), (f"{name}_out", outbound_c)):
            lanes.append(_lane_from_centre(lane_id, centre, lane_width_m, speed_limit_mps))
        ends_in[name] = inbound_c[-1]
        starts_out[name] = outbound_c[0]
        cw_c = (half + 2.0) * u
        crosswalks.append(
            Polygon(
                [
                    cw_c - 1.5 * u - half * left,
                    cw_c + 1.5 * u - half * left,
                    cw_c + 1.5 * u + half * left,
                    cw_c - 1.5 * u + half * left,
                ]
            )
        )
        stop_lines.append(LineString([near + 4.0 * u, near + 4.0 * u + lane_width_m * left]))
    succ: dict[str, list[str]] = {f"{n}_in": [] for n in arms}
    pred: dict[str, list[str]] = {f"{n}_out": [] for n in arms}
    for src in arms:
        for dst in arms:
            if dst == src:
                continue
            p0, p2 = ends_in[src], starts_out[dst]
            d0 = -np.array([math.cos(arms[src]), math.sin(arms[src])])
            d2 = np.array([math.cos(arms[dst]), math.sin(arms[dst])])
            if abs(float(np.dot(d0, d2)) - 1.0) < 1e-9:
                centre = p0 + np.linspace(0.0, 1.0, 8)[:, None] * (p2 - p0)
            else:  # quadratic Bezier through the corner where the two directions meet
                t_c = np.linalg.solve(np.stack([d0, -d2], axis=1), p2 - p0)[0]
                p1 = p0 + t_c * d0
                t = np.linspace(0.0, 1.0, 20)[:, None]
                centre = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2
            lane_id = f"{src}_to_{dst}"
            lanes.append(
                _lane_from_centre(
                    lane_id,
                    centre,
                    lane_width_m,
                    speed_limit_mps,
                    successors=(f"{dst}_out",),
                    predecessors=(f"{src}_in",),
                    junction_id=INTERSECTION_JUNCTION_ID,
                )
            )
            succ[f"{src}_in"].append(lane_id)
            pred[f"{dst}_out"].append(lane_id)
    linked = []
    for lane in lanes:
        if lane.lane_id in succ:
            lane = Lane(
                lane.lane_id,
                lane.centerline_m,
                lane.left_boundary_m,
                lane.right_boundary_m,
                speed_limit_mps,
                successors=tuple(succ[lane.lane_id]),
            )
        elif lane.lane_id in pred:
            lane = Lane(
                lane.lane_id,
                lane.centerline_m,
                lane.left_boundary_m,
                lane.right_boundary_m,
                speed_limit_mps,
                predecessors=tuple(pred[lane.lane_id]),
            )
        linked.append(lane)
    signed = {0: (), 2: ("north", "south"), 4: tuple(arms)}[int(stop_sign_arms)]
    kind = "all_way_stop" if stop_sign_arms == 4 else "stop"
    by_id = {lane.lane_id: lane for lane in linked}
    line_of = dict(zip(arms, stop_lines, strict=True))  # each arm's stop line
    signs = [
        StopSign(
            f"stop_{name}",
            kind,
            (
                LaneStop(
                    f"{name}_in",
                    stop_station_m(
                        by_id[f"{name}_in"].centerline_m,
                        np.asarray(line_of[name].coords),
                    ),
                ),
            ),
            (line_of[name],),
        )
        for name in signed
    ]
    return RoadMap(
        tuple(linked),
        tuple(crosswalks),
        tuple(stop_lines),
        source="synthetic:intersection",
        stop_signs=tuple(signs),
    )


def merge_road(
    merge_x_m: float = 200.0,
    length_after_m: float = 300.0,
    lane_width_m: float = 3.5,
    ramp_offset_m: float = 20.0,
    speed_limit_mps: float = 22.22,
) -> RoadMap:
    """A main lane along +x (``main_a`` up to ``merge_x_m``, then ``main_b``) and an on-ramp
    ``ramp`` from the lower right that joins ``main_b`` at ``merge_x_m`` (both are its predecessors).
    ``main_a`` and the ramp start at x = -100 m, so ``merge_x_m`` must lie beyond it.
    """
    start_x = -100.0  # where main_a and the ramp begin
    _require(
        "merge_x_m",
        merge_x_m,
        lambda v: start_x < v <= MAX_MAP_LENGTH_M,
        f"an x in ({start_x:g}, {MAX_MAP_LENGTH_M:g}] m (the main lane starts at x = "
        f"{start_x:g} m)",
    )
    _require("length_after_m", length_after_m, _length, _LENGTH)
    _require_lane(lane_width_m, speed_limit_mps)
    _require(
        "ramp_offset_m",
        ramp_offset_m,
        lambda v: abs(v) <= MAX_MAP_LENGTH_M,
        f"an offset of at most {MAX_MAP_LENGTH_M:g} m either way",
    )
    w = lane_width_m
    main_a = np.stack([np.linspace(start_x, merge_x_m, 31), np.full(31, w / 2)], axis=1)
    main_b = np.stack(
        [np.linspace(merge_x_m, merge_x_m + length_after_m, 31), np.full(31, w / 2)], axis=1
    )
    x = np.linspace(start_x, merge_x_m, 61)
    blend = np.clip((x - (merge_x_m - 150.0)) / 150.0, 0.0, 1.0)
    y = w / 2 - ramp_offset_m * (
        1.0 - (3 * blend**2 - 2 * blend**3)
    )  # smoothstep taper onto the main lane
    ramp = np.stack([x, y], axis=1)

    lanes = (
        _lane_from_centre("main_a", main_a, w, speed_limit_mps, successors=("main_b",)),
        _lane_from_centre("ramp", ramp, w, speed_limit_mps, successors=("main_b",)),
        _lane_from_centre("main_b", main_b, w, speed_limit_mps, predecessors=("main_a", "ramp")),
    )
    return RoadMap(lanes, source="synthetic:merge")


#: The synthetic maps by name; their keyword arguments are the map's parameters.
SYNTHETIC_MAP_BUILDERS: dict[str, Callable[..., RoadMap]] = {
    "straight": straight_road,
    "curved": curved_road,
    "intersection": four_way_intersection,
    "merge": merge_road,
}


def build_synthetic_map(kind: str, **params: float) -> RoadMap:
    """Builder by name: ``straight``, ``curved``, ``intersection`` or ``merge``."""
    if kind not in SYNTHETIC_MAP_BUILDERS:
        raise ValueError(
            f"unknown synthetic map {kind!r}; expected one of {sorted(SYNTHETIC_MAP_BUILDERS)}"
        )
    return SYNTHETIC_MAP_BUILDERS[kind](**params)


#: How far (m) beyond the kerb a placed light's pole stands (:func:`kerb_light_position`).
KERB_LIGHT_OFFSET_M = 1.0


def kerb_light_position(
    road_map: RoadMap, lane_id: str, station_m: float, kerb_offset_m: float = KERB_LIGHT_OFFSET_M
) -> tuple[float, float]:
    """Where a signal head for the stop line crossing lane ``lane_id`` at ``station_m`` stands
    (map frame ``(x, y)``), for a light the map gives no place (a scenario's light on a
    synthetic map): on the pavement at the far-right kerb, ``kerb_offset_m`` to the right of
    the right boundary of the rightmost lane beside ``lane_id`` (its ``right_neighbor``s
    followed), level with the stop line (the primary signal head of right-hand traffic, at
    the line). ``ValueError`` for a negative ``kerb_offset_m``; ``KeyError`` for a lane not
    in ``road_map``."""
    if not (kerb_offset_m >= 0.0 and math.isfinite(kerb_offset_m)):
        raise ValueError(f"kerb_offset_m must be a finite length >= 0 m, got {kerb_offset_m!r}")
    lane = road_map.lane(lane_id)
    xy, yaw = interpolate_polyline(lane.centerline_m, [station_m])
    rightmost, seen = lane, {lane.lane_id}
    while rightmost.right_neighbor is not None and rightmost.right_neighbor not in seen:
        seen.add(rightmost.right_neighbor)
        rightmost = road_map.lane(rightmost.right_neighbor)
    kerb_s, _ = project_to_polyline(rightmost.right_boundary_m, xy)
    kerb, _ = interpolate_polyline(rightmost.right_boundary_m, kerb_s)
    right = np.array([math.sin(float(yaw[0])), -math.cos(float(yaw[0]))])
    x, y = kerb[0] + kerb_offset_m * right
    return float(x), float(y)
