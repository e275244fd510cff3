"""Scenario config -> a ready World: map, ego start, route and agents."""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import itertools
import math
import re
import typing
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString

from drivestack.core.errors import ConfigError, DataError
from drivestack.ingest.maps.commonroad import CommonRoadScenario, GoalState, read_commonroad
from drivestack.ingest.maps.lanelet2 import read_lanelet2
from drivestack.ingest.maps.opendrive import read_opendrive
from drivestack.ingest.maps.synthetic import (
    SYNTHETIC_MAP_BUILDERS,
    MapParamError,
    kerb_light_position,
)
from drivestack.kernels._common import magnitude_limit
from drivestack.kernels.corners import box_corners
from drivestack.perception.camera.traffic_light_inference import mixed_controllers
from drivestack.planning.reference_path import ReferencePath
from drivestack.planning.stop_signs import RouteSignStop, route_sign_stops
from drivestack.planning.traffic_lights import (
    RouteLightStop,
    lane_half_width_m,
    path_light_stops,
)
from drivestack.sim.agents import AgentSpec, LateralShift, SpeedEvent, reactive_agent
from drivestack.sim.av2_log import Av2LogScenario, read_av2_log
from drivestack.sim.config_loader import from_mapping
from drivestack.sim.give_way import Conflict, lane_predecessors, sign_conflicts
from drivestack.sim.runner import ego_agent_collisions
from drivestack.sim.scenario import (
    FILE_MAP_KINDS,
    AgentConfig,
    MapConfig,
    ScenarioConfig,
    TrafficLightConfig,
    check_scenario,
    check_station,
    distinct_path_m,
)
from drivestack.sim.scenario import MAX_SCENARIO_STEPS as MAX_SCENARIO_STEPS  # (re-exported)
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.sim.world import World
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import (
    Lane,
    RoadMap,
    check_no_cusp,
    interpolate_polyline,
    polyline_stations,
    project_to_polyline,
)
from drivestack.structures.traffic_light import (
    LaneStop,
    SignalCycle,
    SignalPhase,
    SignalSwitch,
    TrafficLight,
)

DEFAULT_SIZE_M = {
    ObjectClass.PEDESTRIAN: (0.6, 0.6, 1.75),
    ObjectClass.CYCLIST: (1.8, 0.7, 1.7),
    ObjectClass.TRUCK: (8.0, 2.5, 3.5),
    ObjectClass.BUS: (12.0, 2.6, 3.2),
}
CAR_SIZE_M = (4.5, 1.85, 1.5)
MIN_ROUTE_M = 300.0
FILE_MAPS = FILE_MAP_KINDS
#: Maps read from a recorded log folder (``map.log``): its map, ego drive and agents.
LOG_MAPS = ("av2",)
#: The reader settings a file or log map's ``map.params`` may give (positive numbers; a
#: CommonRoad ``planning_problem``: the id of the ``<planningProblem>`` to read, an integer).
FILE_MAP_PARAMS = {
    "commonroad": ("default_speed_limit_mps", "planning_problem"),
    "lanelet2": ("default_speed_limit_mps",),
    "opendrive": ("default_speed_limit_mps", "step_m"),
    "av2": ("default_speed_limit_mps",),
}
#: What ``ego.from_file`` / ``agents_from_file`` read: a CommonRoad file or an AV2 log.
Recorded = CommonRoadScenario | Av2LogScenario


@dataclass(frozen=True)
class BuiltScenario:
    config: ScenarioConfig
    road_map: RoadMap
    world: World
    route_lanes: list[str]
    reference: ReferencePath
    expert_progress_m: float
    #: The lanes put before an explicit ``route.lanes`` that starts a little ahead of the ego
    #: (:data:`MAX_ROUTE_LEAD_M`): ``route_lanes`` is these, then the configured lanes; empty
    #: when the route was run as given.
    route_lead_lanes: tuple[str, ...] = ()
    #: The CommonRoad planning problem's goal states when the ego starts at its initial state
    #: (``ego.from_file``): reported in a run's metrics (``goal_reached``), not a criterion.
    goal_states: tuple[GoalState, ...] = ()
    #: Where ``expert_progress_m`` comes from: ``"scenario"`` (its ``expert_progress_m``),
    #: ``"recorded drive"`` (an AV2 log's ego) or ``"default"`` (:func:`build_scenario`'s
    #: rule: 0.8 x the route's mean speed limit x the duration, at most the route left).
    expert_progress_source: str = "default"

    @property
    def n_steps(self) -> int:
        return round(self.config.duration_s / self.config.dt_s)


def _resolve(file: str, data_root: Path | None) -> Path:
    p = Path(file)
    if not p.is_absolute() and data_root is not None:
        p = data_root / p
    return p


def _existing(
    name: str, data_root: Path | None, what: str, where: str, field: str, *, folder: bool = False
) -> Path:
    """``name`` resolved against ``data_root`` (:func:`_resolve`); ``ConfigError`` at ``field``
    when that file (``folder``: folder) is not there, saying what a relative name is relative to."""
    path = _resolve(name, data_root)
    if not (path.is_dir() if folder else path.is_file()):
        relative = (
            f" ({name!r} is relative to the shared data folder, see --data-root)"
            if not Path(name).is_absolute()
            else ""
        )
        raise ConfigError(f"{what} not found: {path}{relative}", path=where, field=field)
    return path


def _load_map(cfg: ScenarioConfig, data_root: Path | None) -> tuple[RoadMap, object]:
    m = cfg.map
    where = cfg.source
    if m.kind in FILE_MAPS:
        if m.file is None:
            raise ConfigError(f"map kind {m.kind} needs map.file", path=where, field="map.file")
        file = _existing(m.file, data_root, f"{m.kind} map file", where, "map.file")
        settings = _file_map_params(m, where)
        if m.kind == "commonroad":
            scenario = read_commonroad(file, **settings)
            return scenario.road_map, scenario
        if m.kind == "opendrive":
            return read_opendrive(file, **settings), None
        return read_lanelet2(file, **settings), None
    if m.kind in LOG_MAPS:
        log = _load_av2_log(cfg, data_root)
        return log.road_map, log
    builder = SYNTHETIC_MAP_BUILDERS.get(m.kind)
    if builder is None:
        raise ConfigError(
            f"unknown map kind {m.kind!r}; expected one of "
            f"{[*SYNTHETIC_MAP_BUILDERS, *FILE_MAPS, *LOG_MAPS]}",
            path=where,
            field="map.kind",
        )
    params = _map_params(builder, m, where)
    try:
        return builder(**params), None
    except MapParamError as exc:  # the builder's own range checks name the parameter
        raise ConfigError(exc.reason, path=where, field=f"map.params.{exc.param}") from exc
    except (TypeError, ValueError) as exc:  # a value the builder refuses (no lanes, ...)
        raise ConfigError(str(exc), path=where, field="map.params") from exc


#: How many of a map's light ids an unknown-light error lists.
_IDS_SHOWN = 12


def with_traffic_lights(road_map: RoadMap, lights: list[TrafficLightConfig], where: str) -> RoadMap:
    """``road_map`` with a scenario's ``traffic_lights`` applied: a light given without
    ``stops`` is a map light whose cycle its phases (and ``switches``) replace; one with
    ``stops`` a new light, added after the map's, standing at the far-right kerb of its first
    stop's line (:func:`~drivestack.ingest.maps.synthetic.kerb_light_position`: where it is
    drawn and where ``--lights camera`` sees it). ``ConfigError`` at ``traffic_lights.<i>.id``
    for a map light that is not there (or a new one whose id is the map's), at
    ``...stops.<j>.lane`` for an unknown lane, at ``...stops.<j>.station_m`` for a station
    beyond the lane's end."""
    if not lights:
        return road_map
    by_id = {light.light_id: light for light in road_map.traffic_lights}
    for i, given in enumerate(lights):
        key = f"traffic_lights.{i}"
        cycle = SignalCycle(
            tuple(SignalPhase(s, d) for s, d in given.phases),
            given.offset_s,
            tuple(SignalSwitch(w.at_s, w.state, w.phase) for w in given.switches),
        )
        if given.stops is None:
            if given.id not in by_id:
                raise ConfigError(
                    f"no traffic light {given.id!r} in the map ({light_ids_in_words(road_map)}); give "
                    "stops to add a new light",
                    path=where,
                    field=f"{key}.id",
                )
            by_id[given.id] = dataclasses.replace(by_id[given.id], cycle=cycle)
            continue
        if given.id in by_id:
            raise ConfigError(
                f"the map has a traffic light {given.id!r} already: leave stops out to give it "
                "a cycle, or name the new light otherwise",
                path=where,
                field=f"{key}.id",
            )
        stops = []
        for j, stop in enumerate(given.stops):
            if stop.lane not in road_map:
                raise unknown_lane_error(road_map, stop.lane, where, f"{key}.stops.{j}.lane")
            length_m = road_map.lane(stop.lane).length_m
            if stop.station_m > length_m:
                raise ConfigError(
                    f"{stop.station_m} m is beyond the end of lane {stop.lane!r} "
                    f"({length_m:.1f} m long)",
                    path=where,
                    field=f"{key}.stops.{j}.station_m",
                )
            stops.append(LaneStop(stop.lane, stop.station_m))
        # drawn (and seen by --lights camera) at the far-right kerb of its first stop's line
        where_m = (
            kerb_light_position(road_map, stops[0].lane_id, stops[0].station_m) if stops else None
        )
        by_id[given.id] = TrafficLight(given.id, tuple(stops), cycle, position_m=where_m)
    out = dataclasses.replace(road_map, traffic_lights=tuple(by_id.values()))
    _warn_mixed_controllers(out, lights, where)
    return out


def _warn_mixed_controllers(
    road_map: RoadMap, lights: list[TrafficLightConfig], where: str
) -> None:
    """Warn, one line per controller, where a scenario's ``traffic_lights`` gave the lights
    of one map controller (:attr:`TrafficLight.controller_id`) different cycles, or a cycle
    to only some of them (:func:`~drivestack.perception.camera.traffic_light_inference.mixed_controllers`):
    the map says they switch together; ``--lights camera`` does not infer from it."""
    key_of = {given.id: f"traffic_lights.{i}" for i, given in enumerate(lights)}
    for cid, ids in mixed_controllers(road_map).items():
        keys = [f"traffic_lights.{i}" for i, given in enumerate(lights) if given.id in ids]
        if not keys:  # the map's own cycles: not the scenario's doing
            continue
        by_cycle: dict[SignalCycle | None, list[str]] = {}
        for light_id in ids:
            by_cycle.setdefault(road_map.traffic_light(light_id).cycle, []).append(
                f"{light_id} ({key_of.get(light_id, 'the map')})"
            )
        names: dict[SignalCycle | None, str] = {
            c: f"cycle {n}" for n, c in enumerate((c for c in by_cycle if c), start=1)
        }
        kinds = "; ".join(
            f"{names.get(cycle, 'no cycle')}: {', '.join(labels)}"
            for cycle, labels in by_cycle.items()
        )
        warnings.warn(
            f"{where}: {', '.join(keys)}: the map's controller {cid!r} switches lights "
            f"{', '.join(ids)} together, but they get different cycles ({kinds}); --lights "
            "camera infers nothing from that controller",
            stacklevel=3,
        )


#: How many of a map's lane ids an unknown-lane error lists.
_LANES_SHOWN = 20


def unknown_lane_error(
    road_map: RoadMap,
    lane_id: str,
    where: str,
    field: str,
    near_m: np.ndarray | None = None,
    near: str = "",
) -> ConfigError:
    """The ``ConfigError`` at ``field`` for a lane id ``road_map`` lacks, listing up to
    :data:`_LANES_SHOWN` of its lane ids to pick from (a file map's ids are the reader's:
    OpenDRIVE ``"<road>_<section>_<lane>"``, Lanelet2 relation ids): those whose centreline
    is nearest ``near_m (2,)`` (``near``: that point in words, "the ego's start") when given,
    else the first in natural order (``road_2`` before ``road_10``)."""
    lanes = road_map.lanes
    if near_m is not None and len(lanes):
        lines = np.array([LineString(lane.centerline_m) for lane in lanes])
        distance_m = shapely.distance(lines, shapely.Point(near_m))
        order = sorted(range(len(lanes)), key=lambda k: (float(distance_m[k]), k))
        ids = [lanes[k].lane_id for k in order]
        which = f"nearest {near}"
    else:
        ids = sorted((lane.lane_id for lane in lanes), key=_natural_key)
        which = "in id order"
    if not ids:
        listed = "it has none"
    elif len(ids) <= _LANES_SHOWN:
        listed = f"its lanes, {which}: {', '.join(ids)}"
    else:
        listed = (
            f"{_LANES_SHOWN} of its {len(ids)} lanes, {which}: {', '.join(ids[:_LANES_SHOWN])}, ..."
        )
    return ConfigError(f"no lane {lane_id!r} in the map ({listed})", path=where, field=field)


def _natural_key(text: str) -> list[str | int]:
    """``text`` split into text and digit runs, the runs as numbers: ``road_2`` < ``road_10``
    (text and numbers alternate from the start, so any two keys compare)."""
    return [int(t) if k % 2 else t for k, t in enumerate(re.split(r"(\d+)", text))]


def light_ids_in_words(road_map: RoadMap) -> str:
    """A map's light ids in words, for an error (the first :data:`_IDS_SHOWN` of them)."""
    ids = [light.light_id for light in road_map.traffic_lights]
    if not ids:
        return "it has none"
    more = f", ... ({len(ids)} in all)" if len(ids) > _IDS_SHOWN else ""
    return f"its lights: {', '.join(ids[:_IDS_SHOWN])}{more}"


def _load_av2_log(cfg: ScenarioConfig, data_root: Path | None) -> Av2LogScenario:
    """The AV2 log of ``map.log`` (:func:`~drivestack.sim.av2_log.read_av2_log`):
    ``ConfigError`` at ``map.log`` when the folder is not there or lacks a file an AV2 log
    holds, at ``duration_s`` when the scenario outlasts the log's annotated sweeps (there would
    be no recorded traffic)."""
    m, where = cfg.map, cfg.source
    assert m.log is not None  # check_scenario
    folder = _existing(m.log, data_root, "av2 log folder", where, "map.log", folder=True)
    params = _file_map_params(m, where)
    try:
        log = read_av2_log(folder, **params)
    except DataError as exc:
        if exc.path != str(folder) or exc.record is not None or exc.field is not None:
            raise  # malformed data in one of its files: that file names it
        # the folder itself is not an AV2 log (a file it needs is missing): map.log is wrong
        raise ConfigError(
            f"av2 log folder {folder}: {exc.reason}", path=where, field="map.log"
        ) from exc
    if cfg.duration_s > log.span_s + 1e-6:
        # the largest duration_s accepted, floored to the millisecond (rounding could print one
        # that is still refused: a 15.4998 s log is not "15.50 s")
        longest = math.floor((log.span_s + 1e-6) * 1000.0) / 1000.0
        raise ConfigError(
            f"{cfg.duration_s} s is longer than the log's annotated sweeps "
            f"(duration_s can be at most {longest:.3f} s)",
            path=where,
            field="duration_s",
        )
    return log


def _log_route(log: Av2LogScenario, cfg: ScenarioConfig, ego: BicycleState) -> list[str]:
    """The cheapest route from the ego's start to the last lane the recorded ego drove over
    the scenario (:meth:`Av2LogScenario.driven_lanes`); ``ConfigError`` at ``map.log`` when
    the map does not connect them."""
    driven = log.driven_lanes(cfg.duration_s)
    xy, yaw = (float(ego.x_m[0]), float(ego.y_m[0])), float(ego.yaw_rad[0])
    try:
        return log.road_map.route_from(xy, yaw, [driven[-1]])
    except LookupError as exc:
        raise ConfigError(
            f"the recorded drive (lanes {driven}) cannot be followed on the map: {exc}",
            path=cfg.source,
            field="map.log",
        ) from exc


def _recorded_progress_m(log: Av2LogScenario, reference: ReferencePath, duration_s: float) -> float:
    """How far the recorded ego drove along ``reference`` in ``duration_s``: the station gain
    between its start and its position at ``duration_s`` (the nuPlan expert's progress)."""
    points = np.stack([log.ego_xy_m[0], log.ego_xy_at(duration_s)])
    stations, _ = reference.project(points)
    return max(0.0, float(stations[1] - stations[0]))


def _recorded(file_scenario: object, where: str, field: str) -> Recorded:
    """``file_scenario`` when it holds a recording (``ConfigError`` at ``field`` otherwise)."""
    if not isinstance(file_scenario, CommonRoadScenario | Av2LogScenario):
        raise ConfigError(f"{field} needs a commonroad or av2 map", path=where, field=field)
    return file_scenario


def _file_map_params(m: MapConfig, where: str) -> dict[str, Any]:
    """A file map's ``map.params``: the reader settings of :data:`FILE_MAP_PARAMS` (``ConfigError``
    at ``map.params.<key>`` for another key or a value that is not a finite number > 0)."""
    allowed = FILE_MAP_PARAMS[m.kind]
    out: dict[str, Any] = {}
    for key, value in m.params.items():
        field = f"map.params.{key}"
        if key not in allowed:
            raise ConfigError(
                f"unknown key; {m.kind} maps take {list(allowed)}", path=where, field=field
            )
        if key == "planning_problem":  # an id, as the file writes it
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(
                    f"must be a planning problem id (an integer), got {value!r}",
                    path=where,
                    field=field,
                )
            out[key] = str(value)
            continue
        if isinstance(value, bool) or not (math.isfinite(value) and value > 0):
            raise ConfigError(f"must be a finite number > 0, got {value}", path=where, field=field)
        out[key] = float(value)
    return out


def _map_params(builder: Callable[..., RoadMap], m: MapConfig, where: str) -> dict[str, object]:
    """``builder``'s keyword arguments: ``m.params`` checked against its parameters and their
    annotated types with the strict config loader (``ConfigError`` at ``map.params.<key>``:
    an unknown key lists the valid ones; ``n_lanes: 2.5`` is not an integer); only those
    given (the builder applies its own defaults to the others)."""
    hints = typing.get_type_hints(builder)
    fields = [
        (name, hints[name])
        if param.default is inspect.Parameter.empty
        else (name, hints[name], dataclasses.field(default=param.default))
        for name, param in inspect.signature(builder).parameters.items()
    ]
    schema = dataclasses.make_dataclass(f"{m.kind}_map_params", fields, frozen=True)
    checked: object = from_mapping(schema, dict(m.params), where, "map.params")
    return {name: getattr(checked, name) for name in m.params}


def _lane_path(
    road_map: RoadMap, lanes: list[str], where: str, key: str, ego_xy_m: np.ndarray
) -> np.ndarray:
    """The centreline along config lanes ``key``: ``ConfigError`` at ``<key>.<i>`` for an
    unknown lane (listing the lanes nearest the ego's start ``ego_xy_m (2,)``:
    :func:`unknown_lane_error`), at ``key`` when the list is empty, two lanes in a row are not
    connected (neither successor nor lane-change neighbour) or a lane change has no room."""
    if not lanes:
        raise ConfigError("needs at least one lane", path=where, field=key)
    for i, lane_id in enumerate(lanes):
        if lane_id not in road_map:
            raise unknown_lane_error(
                road_map, lane_id, where, f"{key}.{i}", ego_xy_m, "the ego's start"
            )
    try:
        return road_map.route_centerline(lanes)
    except ValueError as exc:
        raise ConfigError(str(exc), path=where, field=key) from exc


def _lanes_across(road_map: RoadMap, lanes: list[str]) -> set[str]:
    """``lanes`` and the lanes beside them: reached through left / right neighbours, any
    number of lanes across (a neighbour named by either lane counts)."""
    beside: dict[str, set[str]] = {}
    for lane in road_map.lanes:
        for other in (lane.left_neighbor, lane.right_neighbor):
            if other is not None:
                beside.setdefault(lane.lane_id, set()).add(other)
                beside.setdefault(other, set()).add(lane.lane_id)
    seen = set(lanes)
    todo = list(lanes)
    while todo:
        for other in beside.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


#: How many of a route's first lanes an error about its start lists.
_ROUTE_LANES_SHOWN = 3
#: Farthest (m) an explicit ``route.lanes`` may start ahead of the ego, along successors from
#: the ego's start lane (from the ego's projection on it to the start of the route's first
#: lane), and still be run: the lanes in between are put first (:func:`_route_lead`). A
#: route that begins at the junction just ahead is common to write; 50 m is a few seconds'
#: drive at urban speeds, so the route the planners follow is still the one the user meant.
MAX_ROUTE_LEAD_M = 50.0


def _route_lead(
    road_map: RoadMap,
    route: list[str],
    start_lanes: list[str],
    ego_xy_m: tuple[float, float],
    cfg: ScenarioConfig,
) -> list[str]:
    """The lanes to drive before the explicit ``route`` (empty when the ego starts on one of
    its lanes or on a lane beside one, :func:`_lanes_across`: the planners change lanes onto
    it). ``start_lanes``: the ego's start lane first, then any other lane under a recorded
    start; ``ego_xy_m``: the ego's start position.

    A route whose first lane is reached from the ego's start lane along successors only
    (:meth:`RoadMap.route`'s lanes, the lead), at most :data:`MAX_ROUTE_LEAD_M` from the
    ego's projection on its start lane to that lane's start, returns the lead: the route is
    run as ``lead + route``. Any other route the planners cannot follow (farther ahead,
    reached through a lane change, or elsewhere: the ego would stop or drive off it, a
    silent score of 0) is a ``ConfigError`` at ``route.lanes``; one that starts ahead names
    the lanes to put first, and one reached along successors but farther ahead than the limit
    says how far ahead it starts."""
    if not set(start_lanes).isdisjoint(_lanes_across(road_map, route)):
        return []
    start = start_lanes[0]
    first = f"{route}"
    if len(route) > _ROUTE_LANES_SHOWN:
        first = f"{route[:_ROUTE_LANES_SHOWN]} ... ({len(route)} in all)"
    given = "ego.from_file" if cfg.ego.from_file else "ego.lane"
    try:
        path = road_map.route(start, route[0])
    except LookupError:
        hint = "give a route from the ego's lane (or route.goal_lane)"
    else:
        lead = path[:-1]
        ahead_m = _lead_distance_m(road_map, path, ego_xy_m)
        if ahead_m <= MAX_ROUTE_LEAD_M:
            return lead
        if math.isfinite(ahead_m):  # reached along successors, only too far ahead
            raise ConfigError(
                f"route.lanes {first} starts {ahead_m:.1f} m ahead of the ego along its lanes "
                f"(from lane {start!r}, {given}); at most {MAX_ROUTE_LEAD_M:g} m is run with "
                f"lead lanes: start route.lanes with {lead}, the lanes from the ego's lane "
                "onto the route",
                path=cfg.source,
                field="route.lanes",
            )
        hint = f"start route.lanes with {lead}, the lanes from the ego's lane onto the route"
    raise ConfigError(
        f"the ego starts on lane {start!r} ({given}), which is neither on the route nor beside "
        f"one of its lanes (route.lanes: {first}): the planners cannot follow it; {hint}",
        path=cfg.source,
        field="route.lanes",
    )


def _lead_distance_m(road_map: RoadMap, path: list[str], ego_xy_m: tuple[float, float]) -> float:
    """Distance (m) from the ego's projection on ``path[0]`` to the start of ``path[-1]``
    along ``path``'s lanes; infinite when a step of ``path`` is no successor link (a lane
    change: no distance along lanes to compare)."""
    for lane, nxt in itertools.pairwise(path):
        if nxt not in road_map.lane(lane).successors:
            return math.inf
    s_m, _ = road_map.lane(path[0]).project(np.array([ego_xy_m], dtype=np.float64))
    return sum(road_map.lane(lane).length_m for lane in path[:-1]) - float(s_m[0])


def _reference(road_map: RoadMap, route: list[str], where: str) -> ReferencePath:
    """The ego's reference path along ``route`` (``ConfigError`` at ``route`` when a searched
    route's lane change has no room)."""
    try:
        return ReferencePath.from_route(road_map, route)
    except ValueError as exc:
        raise ConfigError(f"route {route}: {exc}", path=where, field="route") from exc


def extend_by_successors(
    road_map: RoadMap, lanes: list[str], start_station_m: float, min_length_m: float = MIN_ROUTE_M
) -> list[str]:
    """``lanes`` followed by first successors until they reach ``min_length_m`` past the start
    station (or a lane without successors, or a loop)."""
    lanes = list(lanes)
    total = sum(road_map.lane(lane).length_m for lane in lanes) - start_station_m
    while total < min_length_m and road_map.lane(lanes[-1]).successors:
        nxt = road_map.lane(lanes[-1]).successors[0]
        if nxt in lanes:
            break
        lanes.append(nxt)
        total += road_map.lane(nxt).length_m
    return lanes


#: How far past its lane's edge a start ``offset_m`` may put a vehicle's centre, in m: a car
#: parked half on the kerb, a cyclist at the edge; further is a typo (it would start off the
#: road, or, large enough, off the map).
START_OFFSET_MARGIN_M = 1.0


def check_start_offset(
    offset_m: float, lane: Lane, point_m: np.ndarray, where: str, key: str
) -> None:
    """``ConfigError`` at ``key`` (``ego.offset_m``, ``agents.<i>.offset_m``) when a start
    offset sideways from ``lane``'s centreline at ``point_m (2,)`` (on it) is larger than the
    lane's half width there plus :data:`START_OFFSET_MARGIN_M`."""
    half = float(lane_half_width_m(lane, np.asarray(point_m, dtype=np.float64).reshape(1, 2))[0])
    limit = half + START_OFFSET_MARGIN_M
    if abs(offset_m) > limit:
        raise ConfigError(
            f"{offset_m} m puts the start {abs(offset_m) - half:.2f} m past the edge of lane "
            f"{lane.lane_id!r} (half width {half:.2f} m there); at most +-{limit:.2f} m (the "
            f"half width and a {START_OFFSET_MARGIN_M:g} m margin)",
            path=where,
            field=key,
        )


def _agent_path_m(points: list[tuple[float, float]], where: str, key: str) -> np.ndarray:
    """An agent's ``path_m`` as :func:`distinct_path_m` gives it; ``ConfigError`` at ``key``
    also for a path that turns back on itself (a cusp, :func:`check_no_cusp`: the vertex
    named by its index in ``path_m``), which an agent would drive as a U-turn on the spot."""
    path = distinct_path_m(points, where, key)
    try:
        check_no_cusp(np.asarray(points, dtype=np.float64).reshape(-1, 2), "the path")
    except ValueError as exc:
        raise ConfigError(str(exc), path=where, field=key) from None
    return path


def _agent(
    cfg: AgentConfig, road_map: RoadMap, where: str, i: int, ego_xy_m: np.ndarray
) -> AgentSpec:
    """Scenario agent ``agents.<i>`` on ``road_map`` (the scenario's lights applied): an
    ``idm`` agent on ``lanes`` carries the lights' stops on its path (``light_stops``) and
    the stop signs' (``sign_stops``, with their conflict points: :func:`_agent_sign_stops`).
    An unknown lane's error lists the lanes nearest the ego's start ``ego_xy_m (2,)``."""
    try:
        label = ObjectClass.from_name(cfg.type)
    except (KeyError, ValueError) as exc:
        names = ", ".join(c.name.lower() for c in ObjectClass if c != ObjectClass.UNKNOWN)
        raise ConfigError(
            f"unknown object type {cfg.type!r}; one of {names}",
            path=where,
            field=f"agents.{i}.type",
        ) from exc
    light_stops: tuple[RouteLightStop, ...] = ()
    signs: tuple[tuple[RouteSignStop, ...], tuple[tuple[Conflict, ...], ...]] = ((), ())
    if cfg.lanes is not None:
        path = _lane_path(road_map, cfg.lanes, where, f"agents.{i}.lanes", ego_xy_m)
        along = f"its lanes {cfg.lanes}"
        if cfg.behavior == "idm":  # the only agents that obey lights and signs (sim.agents)
            light_stops = path_light_stops(road_map, cfg.lanes, path)
            signs = _agent_sign_stops(road_map, cfg.lanes, path)
    else:
        assert cfg.path_m is not None
        path = _agent_path_m(cfg.path_m, where, f"agents.{i}.path_m")
        along = "its path_m"
    check_station(cfg.station_m, float(polyline_stations(path)[-1]), along, where, f"agents.{i}")
    if cfg.lanes is not None:  # (a path_m has no lane, so no width to keep to)
        start = interpolate_polyline(path, [cfg.station_m])[0][0]
        lanes = [road_map.lane(lane_id) for lane_id in cfg.lanes]
        lane = min(
            lanes, key=lambda ln: abs(float(project_to_polyline(ln.centerline_m, start)[1][0]))
        )
        check_start_offset(cfg.offset_m, lane, start, where, f"agents.{i}.offset_m")
    size = cfg.size_m or DEFAULT_SIZE_M.get(label, CAR_SIZE_M)
    desired = cfg.desired_speed_mps if cfg.desired_speed_mps is not None else max(cfg.speed(), 1.0)
    return AgentSpec(
        cfg.id,
        label,
        (float(size[0]), float(size[1]), float(size[2])),
        cfg.behavior,
        path_m=path,
        station_m=cfg.station_m,
        offset_m=cfg.offset_m,
        speed_mps=cfg.speed(),
        desired_speed_mps=desired,
        speed_events=tuple(
            SpeedEvent(
                e.time_s,
                e.accel_mps2,
                e.target_speed_mps,
                e.when_ego_within_m,
                e.along_path,
                e.along_path_offset_m,
            )
            for e in cfg.speed_events
        ),
        lateral_shifts=tuple(
            LateralShift(
                s.time_s,
                s.duration_s,
                s.offset_m,
                s.when_ego_within_m,
                s.along_path,
                s.along_path_offset_m,
            )
            for s in cfg.lateral_shifts
        ),
        light_stops=light_stops,
        sign_stops=signs[0],
        sign_conflicts=signs[1],
    )


def _agent_sign_stops(
    road_map: RoadMap, lanes: list[str], path_m: np.ndarray
) -> tuple[tuple[RouteSignStop, ...], tuple[tuple[Conflict, ...], ...]]:
    """The stops of ``road_map``'s signs that stop traffic on an ``idm`` agent's ``lanes``
    as the planners place them on a route's (:func:`~drivestack.planning.stop_signs.
    route_sign_stops` on the planners' reference path along ``lanes``, whose stations are
    those of the agent's path ``path_m`` up to its 1 m resampling), and each one's conflict
    points on ``path_m`` (:func:`~drivestack.sim.give_way.sign_conflicts`); both empty when
    no sign stops traffic on ``lanes`` (the reference path is then not built)."""
    if not any(sign.stops_traffic for lane in lanes for sign, _ in road_map.sign_stops(lane)):
        return (), ()
    stops = route_sign_stops(road_map, lanes, ReferencePath.from_route(road_map, lanes))
    preds = lane_predecessors(road_map)
    return stops, tuple(sign_conflicts(road_map, lanes, path_m, stop, preds) for stop in stops)


def _check_clear_start(world: World, cfg: ScenarioConfig, n_recorded: int) -> None:
    """``ConfigError`` when an agent's box overlaps the ego's at t = 0 (the collision check's
    own box-overlap test): at ``agents.<i>.station_m`` for the scenario's ``agents``; for
    recorded traffic (``agents_from_file``, the first ``n_recorded`` agents) at
    ``ego.station_m`` when the ego is placed by ``ego.lane``. A recorded obstacle overlapping
    the recorded ego start (``ego.from_file``) is the recording's own placement: not checked."""
    ego_box = world.ego_box()
    boxes = world.traffic.boxes()
    hit = ego_agent_collisions(ego_box, boxes, world.traffic.state.valid)
    for k in np.flatnonzero(hit):
        spec = world.traffic.specs[k]
        if k < n_recorded and cfg.ego.from_file:
            continue
        overlap = _overlap_words(ego_box, boxes[k])
        if k < n_recorded:
            raise ConfigError(
                f"the ego starts overlapping recorded obstacle {spec.agent_id!r}: {overlap}; "
                "move the ego clear of it",
                path=cfg.source,
                field="ego.station_m",
            )
        i = int(k) - n_recorded
        raise ConfigError(
            f"{_placement_words(cfg, i)} agent {spec.agent_id!r} on the ego at the start: "
            f"{overlap}; place it clear of the ego",
            path=cfg.source,
            field=_placement_key(cfg, i),
        )
    _check_agents_apart(world, cfg, n_recorded)


def _placed_by_path_start(cfg: ScenarioConfig, i: int) -> bool:
    """Whether the scenario's agent ``i`` starts at its ``path_m``'s first point (a path,
    station 0 along it: the default)."""
    return cfg.agents[i].path_m is not None and cfg.agents[i].station_m == 0.0


def _placement_key(cfg: ScenarioConfig, i: int) -> str:
    """The key that placed the scenario's agent ``i``: its ``station_m`` (along its lanes or
    path), or its ``path_m`` when it starts at the path's first point."""
    return f"agents.{i}.{'path_m' if _placed_by_path_start(cfg, i) else 'station_m'}"


def _placement_words(cfg: ScenarioConfig, i: int) -> str:
    """How the scenario's agent ``i`` was placed, for a message: ``"its path's start puts"``
    or ``"21.0 m puts"`` (its station)."""
    if _placed_by_path_start(cfg, i):
        return "its path's start puts"
    return f"{cfg.agents[i].station_m} m puts"


#: How far apart two of a scenario's agents' footprints may overlap at the start before it is
#: refused (m, on each side): touching, or rounding apart, is a queue, not a pile-up.
AGENT_OVERLAP_SLACK_M = 0.01


def _check_agents_apart(world: World, cfg: ScenarioConfig, n_recorded: int) -> None:
    """``ConfigError`` naming both placing keys when two of the scenario's own agents' boxes
    overlap at t = 0 by more than :data:`AGENT_OVERLAP_SLACK_M` (almost always a copy-pasted
    ``station_m``: they would drive through each other all run). Recorded agents are the
    recording's own placement: not checked."""
    placed = world.traffic.boxes()[n_recorded:]
    valid = world.traffic.state.valid[n_recorded:]
    boxes = placed.copy()
    boxes[:, 3:5] = np.maximum(boxes[:, 3:5] - 2 * AGENT_OVERLAP_SLACK_M, 0.0)
    for a in range(len(boxes) - 1):
        if not valid[a]:
            continue
        rest = np.zeros(len(boxes), dtype=bool)
        rest[a + 1 :] = valid[a + 1 :]
        hit = ego_agent_collisions(boxes[a], boxes, rest)
        if np.any(hit):
            b = int(np.flatnonzero(hit)[0])
            specs = world.traffic.specs
            raise ConfigError(
                f"agents {specs[n_recorded + a].agent_id!r} and {specs[n_recorded + b].agent_id!r}"
                f" overlap at the start: {_overlap_words(placed[a], placed[b], 'the first')} "
                f"(placed by "
                f"{_placement_key(cfg, a)} and {_placement_key(cfg, b)}); place them apart",
                path=cfg.source,
                field=_placement_key(cfg, b),
            )


def _check_agent_ids(agents: list[AgentSpec], where: str, n_recorded: int) -> None:
    """``ConfigError`` naming ``agents.<i>.id`` (``agents_from_file`` for a recorded agent)
    when an agent's id repeats an earlier one's (the planners tell agents apart by id)."""
    seen: set[str] = set()
    for k, spec in enumerate(agents):
        if spec.agent_id in seen:
            field = f"agents.{k - n_recorded}.id" if k >= n_recorded else "agents_from_file"
            raise ConfigError(
                f"agent id {spec.agent_id!r} is taken by an earlier agent; give each agent its "
                "own id",
                path=where,
                field=field,
            )
        seen.add(spec.agent_id)


def _check_ego_magnitude(ego: BicycleState, cfg: ScenarioConfig) -> None:
    """``ConfigError`` when the ego's box at t = 0 (the :class:`World`'s own vehicle) lies
    beyond the kernels' :func:`~drivestack.kernels._common.magnitude_limit` (about 3.5e101 m,
    where box overlaps overflow), naming the key that put it there: checked as soon as the ego
    is placed, before the route is projected on (squared distances there would overflow)."""
    limit = magnitude_limit(np.float64)
    ego_box = ego.boxes(VehicleParams())[0]
    if np.any(np.abs(ego_box[:6]) > limit):
        raise ConfigError(
            f"puts the ego at ({ego_box[0]:.3g}, {ego_box[1]:.3g}) m, beyond +-{limit:.3g} m: "
            "too far to compute with",
            path=cfg.source,
            field="ego.from_file" if cfg.ego.from_file else "ego.offset_m",
        )


def _check_start_magnitudes(world: World, cfg: ScenarioConfig, n_recorded: int) -> None:
    """``ConfigError`` when an agent's box at t = 0 lies beyond the kernels'
    :func:`~drivestack.kernels._common.magnitude_limit` (about 3.5e101 m, where box overlaps
    overflow), naming the key that put it there (the ego's: :func:`_check_ego_magnitude`)."""
    limit = magnitude_limit(np.float64)
    boxes = world.traffic.boxes()
    for k in np.flatnonzero(np.any(np.abs(boxes[:, :6]) > limit, axis=1)):
        i = int(k) - n_recorded
        if i < 0:
            field = "agents_from_file"
        else:
            field = (
                f"agents.{i}.path_m" if cfg.agents[i].path_m is not None else f"agents.{i}.offset_m"
            )
        raise ConfigError(
            f"puts agent {world.traffic.specs[k].agent_id!r} at ({boxes[k, 0]:.3g}, "
            f"{boxes[k, 1]:.3g}) m with size {boxes[k, 3]:.3g} m, beyond +-{limit:.3g} m: too "
            "far to compute with",
            path=cfg.source,
            field=field,
        )


def _overlap_words(ego_box: np.ndarray, box: np.ndarray, other: str = "the ego") -> str:
    """How box ``(7,)`` overlaps the ego's (or ``other``'s box ``ego_box``), in its frame: the
    overlap of the two boxes' extents along and across it, and where the other box's centre
    is."""
    yaw = float(ego_box[6])
    fwd, left = np.array([math.cos(yaw), math.sin(yaw)]), np.array([-math.sin(yaw), math.cos(yaw)])
    corners = box_corners(np.stack([ego_box, box]).astype(np.float64))[:, :4, :2]  # BEV

    def overlap(axis: np.ndarray) -> float:
        (a0, b0), (a1, b1) = (corners @ axis).min(axis=1), (corners @ axis).max(axis=1)
        return max(0.0, float(min(a1, b1) - max(a0, b0)))

    rel = box[:2] - ego_box[:2]
    ahead, side = float(rel @ fwd), float(rel @ left)
    return (
        f"its {box[3]:.2f} x {box[4]:.2f} m box, centred {abs(ahead):.2f} m "
        f"{'ahead of' if ahead >= 0 else 'behind'} and {abs(side):.2f} m "
        f"{'left' if side >= 0 else 'right'} of the centre of {other}'s {ego_box[3]:.2f} x "
        f"{ego_box[4]:.2f} m box, overlaps it by {overlap(fwd):.2f} m lengthwise and "
        f"{overlap(left):.2f} m across"
    )


def build_scenario(cfg: ScenarioConfig, data_root: Path | None = None) -> BuiltScenario:
    """Everything needed to run ``cfg``; config mistakes raise ``ConfigError`` naming the key
    (for a scenario read from an ``.xosc`` file, the element it came from first)
    (:func:`~drivestack.sim.scenario.check_scenario`, then the checks against the map: the
    map file, map parameters, lane ids, start stations within their lane or path, start
    offsets within the lane's half width and :data:`START_OFFSET_MARGIN_M`, traffic
    lights (:func:`with_traffic_lights`), and no agent overlapping the ego at the start), and
    the run's length (:func:`~drivestack.sim.scenario.check_steps`), distinct agent ids and
    start positions the kernels can compute with."""
    try:
        return _build_scenario(cfg, data_root)
    except ConfigError as exc:
        if not cfg.source.lower().endswith(".xosc"):
            raise
        from drivestack.sim.openscenario._keys import with_element

        raise with_element(exc, [a.id for a in cfg.agents]) from None


def _build_scenario(cfg: ScenarioConfig, data_root: Path | None) -> BuiltScenario:
    """:func:`build_scenario`'s work."""
    check_scenario(cfg)  # the run's length too (check_steps)
    where = cfg.source
    road_map, file_scenario = _load_map(cfg, data_root)
    road_map = with_traffic_lights(road_map, cfg.traffic_lights, where)
    agents: list[AgentSpec] = []
    if cfg.ego.from_file:
        init = _recorded(file_scenario, where, "ego.from_file").ego_initial
        ego = BicycleState.of(init[0], init[1], init[2], init[3])
        _check_ego_magnitude(ego, cfg)
        start_lane = road_map.nearest_lane((init[0], init[1]), yaw_rad=init[2])
    else:
        assert cfg.ego.lane is not None
        if cfg.ego.lane not in road_map:
            raise unknown_lane_error(road_map, cfg.ego.lane, where, "ego.lane")
        start_lane = cfg.ego.lane
        lane = road_map.lane(start_lane)
        check_station(cfg.ego.station_m, lane.length_m, f"lane {start_lane!r}", where, "ego")
        line = lane.centerline_m
        xy, yaw = interpolate_polyline(line, [cfg.ego.station_m])
        check_start_offset(cfg.ego.offset_m, lane, xy[0], where, "ego.offset_m")
        pos = xy[0] + cfg.ego.offset_m * np.array([-np.sin(yaw[0]), np.cos(yaw[0])])
        ego = BicycleState.of(pos[0], pos[1], yaw[0], cfg.ego.speed())
        _check_ego_magnitude(ego, cfg)
    if cfg.agents_from_file:
        recorded = _recorded(file_scenario, where, "agents_from_file").agents
        agents.extend(map(reactive_agent, recorded) if cfg.agents_reactive else recorded)
    n_recorded = len(agents)
    ego_xy_m = np.array([ego.x_m[0], ego.y_m[0]], dtype=np.float64)
    agents.extend(_agent(a, road_map, where, i, ego_xy_m) for i, a in enumerate(cfg.agents))
    _check_agent_ids(agents, where, n_recorded)
    # route
    route_lead: tuple[str, ...] = ()
    if cfg.route.lanes is not None:
        route = list(cfg.route.lanes)
        _lane_path(road_map, route, where, "route.lanes", ego_xy_m)
        starts = [start_lane]
        at = (float(ego.x_m[0]), float(ego.y_m[0]))
        if cfg.ego.from_file:  # a recorded start at a fork: every lane under the ego counts
            starts += road_map.lanes_at(at, float(ego.yaw_rad[0]))
        lead = _route_lead(road_map, route, starts, at, cfg)
        if lead:
            warnings.warn(
                f"{where}: route.lanes {route[:_ROUTE_LANES_SHOWN]} starts ahead of the ego "
                f"(lane {start_lane!r}); running it as lead lanes {lead} + route.lanes",
                stacklevel=2,
            )
            route = lead + route
        route_lead = tuple(lead)
    elif cfg.route.goal_lane is not None:
        if cfg.route.goal_lane not in road_map:
            raise unknown_lane_error(
                road_map, cfg.route.goal_lane, where, "route.goal_lane", ego_xy_m, "the ego's start"
            )
        try:
            route = road_map.route(start_lane, cfg.route.goal_lane)
        except LookupError as exc:
            raise ConfigError(
                f"goal unreachable: {exc}", path=where, field="route.goal_lane"
            ) from exc
    else:
        if cfg.ego.from_file and isinstance(file_scenario, Av2LogScenario):  # the recorded drive
            route = _log_route(file_scenario, cfg, ego)
        else:
            route = [start_lane]
            goals = (
                file_scenario.goal_lanelets if isinstance(file_scenario, CommonRoadScenario) else ()
            )
            if goals:  # start on whichever lane under the ego (a fork) leads to a goal lanelet
                with contextlib.suppress(LookupError):  # no goal reachable: follow the start lane
                    route = road_map.route_from(
                        (float(ego.x_m[0]), float(ego.y_m[0])), float(ego.yaw_rad[0]), goals
                    )
        s_start, _ = road_map.lane(route[0]).project(np.array([[ego.x_m[0], ego.y_m[0]]]))
        route = extend_by_successors(road_map, route, float(s_start[0]))
    reference = _reference(road_map, route, where)
    world = World(road_map, ego, agents, dt_s=cfg.dt_s)
    _check_start_magnitudes(world, cfg, n_recorded)
    _check_clear_start(world, cfg, n_recorded)
    expert_source = "default"
    if cfg.expert_progress_m is not None:
        expert, expert_source = cfg.expert_progress_m, "scenario"
    elif cfg.ego.from_file and isinstance(file_scenario, Av2LogScenario):
        expert = _recorded_progress_m(file_scenario, reference, cfg.duration_s)
        expert_source = "recorded drive"
    else:
        s0, _ = reference.project(np.array([[ego.x_m[0], ego.y_m[0]]]))
        remaining = reference.length_m - float(s0[0]) - 5.0
        if cfg.ego.from_file:  # recorded traffic: keep the initial speed
            cruise = max(float(ego.speed_mps[0]), 1.0) * cfg.duration_s
        else:
            cruise = float(np.mean(reference.speed_limit_mps)) * cfg.duration_s * 0.8
        expert = max(0.0, min(remaining, cruise))
    goal_states = (
        file_scenario.goal_states
        if cfg.ego.from_file and isinstance(file_scenario, CommonRoadScenario)
        else ()
    )
    return BuiltScenario(
        cfg, road_map, world, route, reference, expert, route_lead, goal_states, expert_source
    )
