"""Entities, their catalogues, the road network and the ``Init``: where everything starts.

Reads the ``ScenarioObject`` entities (inline or by ``CatalogReference`` into the
``CatalogLocations`` catalogues) into :class:`_Entity` records with their type, size and box
centre, finds and parses the OpenDRIVE road network, and applies the ``Init`` actions: a
``TeleportAction`` places an entity on a lane (``LanePosition`` / ``WorldPosition``), a
``SpeedAction`` sets its start speed or its speed change from rest, and a ``RoutingAction``
(``AssignRouteAction`` through waypoints, ``AcquirePositionAction`` to one position) gives its
route: the lanes from its start lane through the positions' lanes, each leg cheapest by its
waypoint's ``routeStrategy`` (``shortest``: by length, ``fastest``: by time at the speed limits,
``leastIntersections``: by junctions entered, then length; ``random`` is refused).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivestack.core.errors import ConfigError, DataError
from drivestack.ingest.maps._opendrive_records import parse_file
from drivestack.ingest.maps.opendrive import OpenDriveNetwork, parse_opendrive
from drivestack.sim.openscenario._document import _Doc, _where
from drivestack.sim.openscenario._speed import _STEP_ACCEL_MPS2, _rate_mps2
from drivestack.structures.road_map import RoadMap

#: OpenSCENARIO vehicle categories -> drivestack object class names
VEHICLE_TYPES = {
    "car": "car",
    "van": "van",
    "truck": "truck",
    "trailer": "trailer",
    "semitrailer": "trailer",
    "bus": "bus",
    "motorbike": "motorcycle",
    "bicycle": "cyclist",
    "train": "other_vehicle",
    "tram": "other_vehicle",
}


@dataclass
class _Entity:
    name: str
    type: str
    size_m: tuple[float, float, float] | None
    lane: str | None = None
    station_m: float = 0.0
    offset_m: float = 0.0
    speed_mps: float = 0.0
    center_x_m: float = 0.0  # BoundingBox Center x: the box centre ahead of the reference point
    #: an Init SpeedAction with dynamics: (rate m/s^2, target m/s) from rest at t = 0
    init_speed_change: tuple[float, float] | None = None
    speed_events: list[dict[str, Any]] = field(default_factory=list)
    lateral_shifts: list[dict[str, Any]] = field(default_factory=list)
    #: the lanes of its Init RoutingAction's route, from its start lane (None: no route given)
    route: list[str] | None = None


def _catalogue_entries(doc: _Doc) -> dict[tuple[str, str], tuple[ET.Element, Path]]:
    """``(catalogue name, entry name)`` -> the ``Vehicle`` / ``Pedestrian`` entry and its file,
    from the ``.xosc`` files of the ``VehicleCatalog`` and ``PedestrianCatalog`` directories of
    ``CatalogLocations`` (relative to the scenario's folder)."""
    out: dict[tuple[str, str], tuple[ET.Element, Path]] = {}
    for kind in ("VehicleCatalog", "PedestrianCatalog"):
        where = f"CatalogLocations/{kind}"
        location = doc.root.find(f"{where}/Directory")
        if location is None:
            continue
        folder = Path(doc.text(location, "path", where))
        folder = folder if folder.is_absolute() else doc.path.parent / folder
        for file in sorted(folder.glob("*.xosc")) if folder.is_dir() else []:
            catalogue = parse_file(file, "OpenSCENARIO", ConfigError).find("Catalog")
            if catalogue is None:
                continue
            for entry in catalogue:
                if entry.tag in ("Vehicle", "Pedestrian"):
                    out[(catalogue.get("name", ""), entry.get("name", ""))] = (entry, file)
    return out


def _resolved_entry(
    doc: _Doc,
    reference: ET.Element,
    catalogues: dict[tuple[str, str], tuple[ET.Element, Path]],
    where: str,
) -> ET.Element:
    """The catalogue entry a ``CatalogReference`` names, its ``$parameters`` replaced by the
    reference's ``ParameterAssignments`` over the entry's own declared defaults."""
    key = (
        doc.name_ref(reference, "catalogName", where, "catalogue"),
        doc.name_ref(reference, "entryName", where, "catalogue entry"),
    )
    if key not in catalogues:
        raise doc.error(
            f"no entry {key[1]!r} in a catalogue {key[0]!r} of the CatalogLocations "
            "(VehicleCatalog / PedestrianCatalog directories)",
            where,
        )
    entry, _ = catalogues[key]
    params = {
        p.get("name", ""): p.get("value", "")
        for p in entry.iterfind("ParameterDeclarations/ParameterDeclaration")
    }
    for assignment in reference.iterfind("ParameterAssignments/ParameterAssignment"):
        ref = doc.name_ref(assignment, "parameterRef", where, "parameter")
        params[ref] = doc.text(assignment, "value", where)
    resolved = copy.deepcopy(entry)
    for el in resolved.iter():
        for attr, value in el.attrib.items():
            if value.startswith("$") and value[1:] in params:
                el.set(attr, params[value[1:]])
    return resolved


def _entities(doc: _Doc) -> dict[str, _Entity]:
    catalogues = _catalogue_entries(doc)
    out = {}
    for obj in doc.root.iterfind("Entities/ScenarioObject"):
        name = doc.text(obj, "name", "Entities/ScenarioObject")
        if not name.strip():  # every entity is placed by the Init's Private entityRef
            raise doc.error(
                f"an empty name ({name!r}): the Init's Private entityRef names an entity to "
                "place it, and an empty name refers to none",
                "Entities/ScenarioObject@name",
            )
        where = _where("Entities", name)
        reference = obj.find("CatalogReference")
        entry = (
            _resolved_entry(doc, reference, catalogues, where)
            if reference is not None
            else next((c for c in obj if c.tag in ("Vehicle", "Pedestrian")), None)
        )
        if entry is None:
            raise doc.error("needs a Vehicle, Pedestrian or CatalogReference", where)
        size = None
        if entry.tag == "Vehicle":
            category = doc.text(entry, "vehicleCategory", where)
            if category not in VEHICLE_TYPES:
                raise doc.error(f"unknown vehicleCategory {category!r}", where)
            kind = VEHICLE_TYPES[category]
        else:
            kind = "pedestrian"
        dims = entry.find("BoundingBox/Dimensions")
        if dims is not None:
            size = tuple(doc.number(dims, k, where) for k in ("length", "width", "height"))
            if not all(v > 0.0 for v in size):
                raise doc.error(
                    f"length, width and height must be > 0 m, got {list(size)}",
                    f"{where}/BoundingBox/Dimensions",
                )
        center = entry.find("BoundingBox/Center")
        center_x = 0.0 if center is None else doc.number(center, "x", where, default=0.0)
        out[name] = _Entity(name, kind, size, center_x_m=center_x)  # type: ignore[arg-type]
    if not out:
        raise doc.error("no ScenarioObject", "Entities")
    return out


#: The shared data folder relative road networks are also looked for in: what
#: :func:`road_network_root` sets (a command's ``--data-root``); unset, the default one
#: (:func:`~drivestack.commands._paths.default_shared_data`).
_DATA_ROOT: contextvars.ContextVar[Path | None] = contextvars.ContextVar(
    "openscenario_data_root", default=None
)


@contextlib.contextmanager
def road_network_root(data_root: Path | None) -> Iterator[None]:
    """While the block runs, read a ``.xosc`` file's relative ``RoadNetwork/LogicFile`` from
    ``data_root`` (``drivestack sim`` / ``fleet --data-root``) when it is not beside the file;
    None: from the default shared data folder (``$DRIVESTACK_SHARED_DATA`` or
    ``../shared/data``)."""
    token = _DATA_ROOT.set(data_root)
    try:
        yield
    finally:
        _DATA_ROOT.reset(token)


def _road_map(doc: _Doc) -> tuple[OpenDriveNetwork, RoadMap]:
    """The ``RoadNetwork/LogicFile`` OpenDRIVE file: an absolute path, else the path from the
    ``.xosc`` file's folder, else from the data root (:func:`road_network_root`)."""
    logic = doc.one(doc.root, "RoadNetwork/LogicFile", "RoadNetwork")
    given = Path(doc.text(logic, "filepath", "RoadNetwork/LogicFile"))
    if given.suffix.lower() != ".xodr":
        raise doc.error(f"{given.name}: only OpenDRIVE road networks are read", "RoadNetwork")
    candidates = [given] if given.is_absolute() else [doc.path.parent / given]
    if not given.is_absolute():
        from drivestack.commands._paths import default_shared_data

        shared = _DATA_ROOT.get() or default_shared_data()
        if shared is not None:
            candidates.append(shared / given)
    file = next((c for c in candidates if c.is_file()), None)
    if file is None:
        tried = " or ".join(str(c) for c in candidates)
        hint = (
            ""
            if given.is_absolute()
            else f" ({str(given)!r} is relative to the .xosc file's folder or the shared data "
            "folder, see --data-root)"
        )
        raise doc.error(f"road network not found: {tried}{hint}", "RoadNetwork/LogicFile@filepath")
    network = parse_opendrive(file)
    return network, network.road_map()


def _locate(
    doc: _Doc, position: ET.Element, network: OpenDriveNetwork, road_map: RoadMap, where: str
) -> tuple[str, float, float]:
    """A ``Position`` -> (lane id, station m, lateral offset m): a ``LanePosition`` on its lane,
    a ``WorldPosition`` snapped to the nearest lane within 5 m heading its way (any way without
    ``h``); other kinds refused."""
    lane_pos = position.find("LanePosition")
    world = position.find("WorldPosition")
    if lane_pos is not None:
        road_id = doc.text(lane_pos, "roadId", where)
        od_lane = doc.integer(lane_pos, "laneId", where)
        s_m = doc.number(lane_pos, "s", where)
        offset_m = doc.number(lane_pos, "offset", where, default=0.0)
        try:
            located = network.locate(road_map, road_id, od_lane, s_m, offset_m)
        except DataError as exc:  # the position is wrong, not the road network: name this file
            raise doc.error(
                f"{exc.reason} ({Path(network.path).name}: {exc.record}, field {exc.field})",
                f"{where}/LanePosition",
            ) from None
        return located.lane_id, located.station_m, located.offset_m
    if world is not None:
        xy = (doc.number(world, "x", where), doc.number(world, "y", where))
        heading = doc.number(world, "h", where, default=None)
        try:
            lane_id = road_map.nearest_lane(xy, heading, max_distance_m=5.0)
        except LookupError:
            raise doc.error(f"no lane within 5 m of ({xy[0]}, {xy[1]})", where) from None
        station, lateral = road_map.lane(lane_id).project([xy])
        return lane_id, float(station[0]), float(lateral[0])
    kinds = [child.tag for child in position]
    raise doc.error(f"only LanePosition and WorldPosition are read, got {kinds}", where)


def _place(
    doc: _Doc,
    position: ET.Element,
    entity: _Entity,
    network: OpenDriveNetwork,
    road_map: RoadMap,
    where: str,
) -> None:
    entity.lane, entity.station_m, entity.offset_m = _locate(
        doc, position, network, road_map, where
    )


#: the RouteStrategy values read -> the ``cost`` :meth:`RoadMap.route` minimises: ``shortest``
#: the lane sequence's length, ``fastest`` its time at the lanes' speed limits,
#: ``leastIntersections`` the junctions it enters (as the OpenDRIVE reader marks them on its
#: lanes: connecting roads, direct junctions), then its length
ROUTE_STRATEGIES = {"shortest": "length", "fastest": "time", "leastIntersections": "junctions"}


def _waypoints(doc: _Doc, routing: ET.Element, where: str) -> list[tuple[ET.Element, str, str]]:
    """An Init ``RoutingAction`` -> its ``(Position, where, cost)`` targets in order: an
    ``AssignRouteAction``'s ``Route`` (inline, or 1.2's ``RouteRef/Route``) waypoints (each
    ``routeStrategy`` one of :data:`ROUTE_STRATEGIES`, mapped to its route cost; an open route
    of at least one waypoint) or an ``AcquirePositionAction``'s ``Position`` (by length);
    other routing actions refused by name."""
    assign = routing.find("AssignRouteAction")
    acquire = routing.find("AcquirePositionAction")
    if acquire is not None:
        where = f"{where}/AcquirePositionAction"
        return [(doc.one(acquire, "Position", where), f"{where}/Position", "length")]
    if assign is None:
        kinds = [child.tag for child in routing]
        raise doc.error(
            f"only AssignRouteAction and AcquirePositionAction routing is read, got {kinds}",
            where,
        )
    where = f"{where}/AssignRouteAction"
    route = assign.find("Route")
    if route is None:
        route = assign.find("RouteRef/Route")
    if route is None:
        kinds = [child.tag for child in assign.iter()][1:3]
        raise doc.error(f"only an inline Route is read (not from a catalogue), got {kinds}", where)
    where = f"{where}/Route"
    closed = doc.text(route, "closed", where) if route.get("closed") is not None else "false"
    if closed.lower() not in ("false", "0"):
        raise doc.error(f"a closed route is not read, got closed={closed!r}", f"{where}@closed")
    out = []
    for i, waypoint in enumerate(route.iterfind("Waypoint")):
        at = f"{where}/Waypoint[{i}]"
        strategy = doc.text(waypoint, "routeStrategy", at)
        if strategy == "random":
            raise doc.error(
                "routeStrategy 'random' is not read: a route drawn at random would make the run "
                "depend on the draw, and a scenario must drive the same way every run (use "
                f"one of {sorted(ROUTE_STRATEGIES)})",
                f"{at}@routeStrategy",
            )
        if strategy not in ROUTE_STRATEGIES:
            raise doc.error(
                f"routeStrategy {strategy!r} is not read (only {sorted(ROUTE_STRATEGIES)}: the "
                "cheapest lane sequence by length, by time at the speed limits or by the "
                "junctions it enters)",
                f"{at}@routeStrategy",
            )
        out.append(
            (doc.one(waypoint, "Position", at), f"{at}/Position", ROUTE_STRATEGIES[strategy])
        )
    if not out:
        raise doc.error("a Route needs at least one Waypoint", where)
    return out


def _route(
    doc: _Doc,
    entity: _Entity,
    targets: list[tuple[ET.Element, str, str]],
    network: OpenDriveNetwork,
    road_map: RoadMap,
    where: str,
) -> list[str]:
    """The lanes from the entity's start lane through each target's lane in order, each leg
    the cheapest by the target's cost, length, time or junctions (:meth:`RoadMap.route`, the
    junctions as the OpenDRIVE reader marks them on the lanes; a target on the lane the route
    is on adds nothing: stations within a lane are not read). A target no lane
    sequence reaches, or a leg's lane change without room, is refused naming the target."""
    assert entity.lane is not None
    lanes = [entity.lane]
    drivable_only = entity.type != "pedestrian"
    for position, at, cost in targets:
        goal, _, _ = _locate(doc, position, network, road_map, at)
        try:
            leg = road_map.route(lanes[-1], goal, drivable_only=drivable_only, cost=cost)
        except LookupError as exc:
            raise doc.error(f"not reachable along the lanes: {exc}", at) from None
        lanes += leg[1:]
    try:
        road_map.route_centerline(lanes)
    except ValueError as exc:
        raise doc.error(f"route {lanes}: {exc}", where) from None
    return lanes


def _init(
    doc: _Doc, entities: dict[str, _Entity], network: OpenDriveNetwork, road_map: RoadMap
) -> None:
    routings: dict[str, tuple[ET.Element, str]] = {}
    for private in doc.root.iterfind("Storyboard/Init/Actions/Private"):
        name = doc.name_ref(private, "entityRef", "Storyboard/Init/Actions/Private", "entity")
        if name not in entities:
            raise doc.error(f"no entity {name!r}", "Storyboard/Init/Actions/Private@entityRef")
        where = _where("Init", name)
        for action in private.iterfind("PrivateAction"):
            teleport = action.find("TeleportAction/Position")
            speed = action.find("LongitudinalAction/SpeedAction")
            routing = action.find("RoutingAction")
            if teleport is not None:
                _place(doc, teleport, entities[name], network, road_map, f"{where}/TeleportAction")
            elif speed is not None:
                _init_speed(doc, speed, entities[name], f"{where}/SpeedAction")
            elif routing is not None:
                if name in routings:
                    raise doc.error(
                        "one RoutingAction per entity in the Init is read, got two",
                        f"{where}/RoutingAction",
                    )
                routings[name] = (routing, f"{where}/RoutingAction")
            else:
                # the child too: a misspelt <SpeedActon> inside LongitudinalAction is named
                kinds = ["/".join([child.tag, *(g.tag for g in child)][:2]) for child in action]
                raise doc.error(
                    "only TeleportAction, LongitudinalAction/SpeedAction and RoutingAction are "
                    f"read, got {kinds}",
                    where,
                )
    for name, entity in entities.items():
        if entity.lane is None:
            raise doc.error(
                "no TeleportAction in the Init places it", _where("Storyboard/Init", name)
            )
    for name, (routing, where) in routings.items():  # from where the entity starts
        targets = _waypoints(doc, routing, where)
        entities[name].route = _route(doc, entities[name], targets, network, road_map, where)


def _init_speed(doc: _Doc, speed: ET.Element, entity: _Entity, where: str) -> None:
    """An Init ``SpeedAction``: a step sets the start speed; other dynamics change the speed
    from t = 0 on, from the start speed the Init's actions before it set (0 m/s before any:
    an entity starts at rest). A later Init speed action replaces an earlier change."""
    goal = doc.absolute_value(speed, "SpeedActionTarget/AbsoluteTargetSpeed", where)
    before = entity.speed_mps
    rate = _rate_mps2(doc, doc.one(speed, "SpeedActionDynamics", where), before, goal, where)
    if rate == _STEP_ACCEL_MPS2:
        entity.speed_mps, entity.init_speed_change = goal, None
    else:
        entity.init_speed_change = (rate, goal)
