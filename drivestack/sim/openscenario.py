"""OpenSCENARIO 1.x (``.xosc``) -> a scenario config: the subset drivestack's simulator runs.

The file becomes the same mapping a scenario YAML holds and goes through the same strict
loader and checks (:func:`drivestack.sim.scenario.load_scenarios` reads both), so a ``.xosc``
runs wherever a scenario YAML does (``drivestack sim file.xosc``, suites, fleets).

What is read:

- **Parameters**: top-level ``ParameterDeclarations`` values replace ``$name`` references (no
  ``${...}`` expressions; declarations anywhere else are refused).
- **Road network**: ``RoadNetwork/LogicFile`` must be an OpenDRIVE file; a relative path is
  taken from the ``.xosc`` file's folder, else from the shared data folder
  (``$DRIVESTACK_SHARED_DATA`` or ``../shared/data``, as ``drivestack sim`` finds it); lanes are
  :func:`~drivestack.ingest.maps.read_opendrive`'s.
- **Entities**: the ego is the ``ScenarioObject`` named ``Ego`` / ``ego`` / ``hero`` (its size
  is the simulator's vehicle: its ``BoundingBox`` is not read; its position is its rear-axle
  centre, the simulator's ego reference point, as OpenSCENARIO's vehicle reference point);
  every other one is a scripted agent that follows its start lane's successors (the first in
  lane-id order where a lane forks). A ``Vehicle``'s ``vehicleCategory`` gives its type, a
  ``Pedestrian`` is a pedestrian, and a ``BoundingBox`` gives the size (each dimension > 0;
  else the simulator's default for the type) and, by its ``Center`` ``x``, where the box
  centre is: that far ahead of the position (along its lane); a ``CatalogReference`` is
  resolved in the ``.xosc`` files of the ``VehicleCatalog`` / ``PedestrianCatalog``
  directories of ``CatalogLocations`` (their ``$parameters`` from the reference's
  ``ParameterAssignments`` over the entry's defaults). Every entity must be placed in the
  ``Init``.
- **Init**: a ``TeleportAction`` to a ``LanePosition`` (road, whole lane id, s, offset; its
  ``Orientation`` is not read) or a ``WorldPosition`` (snapped to the nearest lane heading the
  same way) and a ``SpeedAction`` to an ``AbsoluteTargetSpeed`` (m/s): a ``step`` is the start
  speed; other dynamics change the speed from rest (an entity starts at 0 m/s) from t = 0 on,
  as a story speed change would (the ego then starts at rest: the planner drives it).
- **Story events** (every ``Event`` of every ``Story`` / ``Act`` / ``ManeuverGroup``, for the
  group's ``EntityRef`` actors, ``selectTriggeringEntities="false"``; ``maximumExecutionCount``
  is not read: an event runs once), taken in the order they start (a distance-triggered event
  at its earliest time): a ``SpeedAction`` to an ``AbsoluteTargetSpeed`` (``step``: at once;
  other shapes at a constant rate: ``rate`` as given, its sign ignored, ``time`` /
  ``distance`` from the speed reached at the event's start, worked out from the speed changes
  that start before it), a ``LaneChangeAction`` (``RelativeTargetLane`` of the agent itself,
  counted from the lane the lane changes before left it in, among the lanes that run the
  actor's way, or ``AbsoluteTargetLane`` of that direction; over the dynamics' ``time``, or its
  ``distance`` at the speed reached at its start) and an ``AbsoluteTargetLaneOffset`` (from the
  centre of the lane the actor is in by then, reached from the offset the events before left).
  Where a speed at an event's start is needed but not known when reading (a distance-triggered
  speed change may come before it, or the event is distance-triggered while the speed still
  changes), the file is refused. Actions for the ego are skipped (the planner under test drives
  it; the description counts them).
- **Priorities**: ``overwrite`` (1.2: ``override``) stops the events of the same maneuver
  still running for the actor when the event starts: a running speed change ends there (the
  actor holds the speed it reached); stopping a running lane change or lane offset half way is
  refused, and so is an overwrite whose overlap is not known when reading (a
  distance-triggered event in the maneuver). ``parallel`` lets them run on; ``skip`` is
  refused.
- **Triggers**: an event starts on one condition (``conditionEdge`` rising or none): a
  ``SimulationTimeCondition`` (``greaterThan`` / ``greaterOrEqual``, plus its ``delay``), or a
  ``RelativeDistanceCondition`` between the actor and the ego (``lessThan`` /
  ``lessOrEqual``, no delay). A ``longitudinal`` distance is measured along the actor's lane
  path, between its station and the ego's projection on the path (the scripted agents'
  ``along_path`` trigger), between the reference points (the actor's box centre is its
  ``Center`` ``x`` ahead of its own, the simulated ego's
  :attr:`~drivestack.sim.vehicle.VehicleParams.center_offset_m` ahead of its rear axle);
  the cartesian types are read as the distance between the box centres.
  ``freespace="true"`` measures from the box centres and adds the two half lengths: the
  actor's as the simulator sizes it, the ego's the simulator vehicle's
  :class:`~drivestack.sim.vehicle.VehicleParams` ``length_m``. Simulation time is one clock:
  an event starts no earlier than its act, whose start trigger must be a
  ``SimulationTimeCondition``.
- **Stop**: the storyboard's ``StopTrigger``, a single ``SimulationTimeCondition``, is the
  duration (no stop trigger: :data:`DEFAULT_DURATION_S`).

Anything else that changes what happens (another action or condition, several conditions, an
act's stop trigger, a maneuver from a catalogue, a position kind not listed) is a
:class:`ConfigError` naming the file and the element, rather than a scenario that silently
runs differently.
"""

from __future__ import annotations

import copy
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast, overload

from drivestack.core.errors import ConfigError
from drivestack.ingest.maps._opendrive_records import parse_file
from drivestack.ingest.maps.opendrive import OpenDriveNetwork, parse_opendrive
from drivestack.sim.build import CAR_SIZE_M, DEFAULT_SIZE_M, extend_by_successors
from drivestack.sim.vehicle import VehicleParams
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import RoadMap, interpolate_polyline

DEFAULT_DURATION_S = 30.0
EGO_NAMES = ("ego", "hero")
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
#: How far an agent's lane path follows successors past its start.
AGENT_PATH_M = 600.0
_STEP_ACCEL_MPS2 = 1000.0  # a "step" speed change: at once (the simulator caps it per tick)
_REQUIRED = object()  # _Doc.number without a default: the attribute must be there


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


class _Doc:
    """The parsed file, with ``$parameter`` substitution and errors naming the element."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = parse_file(path, "OpenSCENARIO", ConfigError)
        top = self.root.findall("ParameterDeclarations/ParameterDeclaration")
        if len(top) != len(list(self.root.iter("ParameterDeclaration"))):
            raise ConfigError(
                "parameter declarations below the top level (in a Story, Act, catalogue, ...) "
                "are not read: declare them at the top",
                path=str(path),
                field="ParameterDeclarations",
            )
        self.params = {p.get("name", ""): p.get("value", "") for p in top}

    def error(self, reason: str, where: str) -> ConfigError:
        return ConfigError(reason, path=str(self.path), field=where)

    def text(self, el: ET.Element, attr: str, where: str) -> str:
        value = el.get(attr)
        if value is None:
            raise self.error(f"missing attribute {attr!r}", where)
        if value.startswith("${"):
            raise self.error(f"expressions are not read: {value!r}", f"{where}@{attr}")
        if value.startswith("$"):
            if value[1:] not in self.params:
                raise self.error(f"no parameter {value[1:]!r} is declared", f"{where}@{attr}")
            value = self.params[value[1:]]
        return value

    @overload
    def number(self, el: ET.Element, attr: str, where: str) -> float: ...

    @overload
    def number(self, el: ET.Element, attr: str, where: str, default: float) -> float: ...

    @overload
    def number(self, el: ET.Element, attr: str, where: str, default: None) -> float | None: ...

    def number(
        self, el: ET.Element, attr: str, where: str, default: Any = _REQUIRED
    ) -> float | None:
        """The attribute as a finite number; ``default`` (when given) where it is missing or
        empty."""
        if default is not _REQUIRED and not el.get(attr):
            return cast(float | None, default)
        text = self.text(el, attr, where)
        try:
            value = float(text)
        except ValueError:
            raise self.error(f"not a number: {text!r}", f"{where}@{attr}") from None
        if not math.isfinite(value):
            raise self.error(f"not a finite number: {text!r}", f"{where}@{attr}")
        return value

    def integer(self, el: ET.Element, attr: str, where: str) -> int:
        value = self.number(el, attr, where)
        if value != int(value):
            raise self.error(f"not a whole number: {value}", f"{where}@{attr}")
        return int(value)

    def one(self, el: ET.Element, path: str, where: str) -> ET.Element:
        found = el.find(path)
        if found is None:
            raise self.error(f"missing <{path}>", where)
        return found


def _where(*names: str) -> str:
    return "/".join(names)


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
    key = (doc.text(reference, "catalogName", where), doc.text(reference, "entryName", where))
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
        params[doc.text(assignment, "parameterRef", where)] = doc.text(assignment, "value", where)
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


def _road_map(doc: _Doc) -> tuple[OpenDriveNetwork, RoadMap]:
    logic = doc.one(doc.root, "RoadNetwork/LogicFile", "RoadNetwork")
    given = Path(doc.text(logic, "filepath", "RoadNetwork/LogicFile"))
    if given.suffix.lower() != ".xodr":
        raise doc.error(f"{given.name}: only OpenDRIVE road networks are read", "RoadNetwork")
    candidates = [given] if given.is_absolute() else [doc.path.parent / given]
    if not given.is_absolute():
        from drivestack.commands._paths import default_shared_data

        shared = default_shared_data()
        if shared is not None:
            candidates.append(shared / given)
    file = next((c for c in candidates if c.is_file()), None)
    if file is None:
        tried = " or ".join(str(c) for c in candidates)
        raise doc.error(f"road network not found: {tried}", "RoadNetwork/LogicFile@filepath")
    network = parse_opendrive(file)
    return network, network.road_map()


def _place(
    doc: _Doc,
    position: ET.Element,
    entity: _Entity,
    network: OpenDriveNetwork,
    road_map: RoadMap,
    where: str,
) -> None:
    lane_pos = position.find("LanePosition")
    world = position.find("WorldPosition")
    if lane_pos is not None:
        located = network.locate(
            road_map,
            doc.text(lane_pos, "roadId", where),
            doc.integer(lane_pos, "laneId", where),
            doc.number(lane_pos, "s", where),
            doc.number(lane_pos, "offset", where, default=0.0),
        )
        entity.lane, entity.station_m, entity.offset_m = (
            located.lane_id,
            located.station_m,
            located.offset_m,
        )
    elif world is not None:
        xy = (doc.number(world, "x", where), doc.number(world, "y", where))
        heading = doc.number(world, "h", where, default=None)
        try:
            lane_id = road_map.nearest_lane(xy, heading, max_distance_m=5.0)
        except LookupError:
            raise doc.error(f"no lane within 5 m of ({xy[0]}, {xy[1]})", where) from None
        station, lateral = road_map.lane(lane_id).project([xy])
        entity.lane, entity.station_m, entity.offset_m = (
            lane_id,
            float(station[0]),
            float(lateral[0]),
        )
    else:
        kinds = [child.tag for child in position]
        raise doc.error(f"only LanePosition and WorldPosition are read, got {kinds}", where)


def _init(
    doc: _Doc, entities: dict[str, _Entity], network: OpenDriveNetwork, road_map: RoadMap
) -> None:
    for private in doc.root.iterfind("Storyboard/Init/Actions/Private"):
        name = doc.text(private, "entityRef", "Storyboard/Init/Actions/Private")
        if name not in entities:
            raise doc.error(f"no entity {name!r}", "Storyboard/Init/Actions/Private@entityRef")
        where = _where("Init", name)
        for action in private.iterfind("PrivateAction"):
            teleport = action.find("TeleportAction/Position")
            speed = action.find("LongitudinalAction/SpeedAction")
            if teleport is not None:
                _place(doc, teleport, entities[name], network, road_map, f"{where}/TeleportAction")
            elif speed is not None:
                _init_speed(doc, speed, entities[name], f"{where}/SpeedAction")
            else:
                kinds = [child.tag for child in action]
                raise doc.error(f"only TeleportAction and SpeedAction are read, got {kinds}", where)
    for name, entity in entities.items():
        if entity.lane is None:
            raise doc.error(
                "no TeleportAction in the Init places it", _where("Storyboard/Init", name)
            )


def _rate_mps2(doc: _Doc, dyn: ET.Element, before: float, goal: float, where: str) -> float:
    """The constant rate (m/s^2, > 0) of a speed change from ``before`` to ``goal`` under
    ``SpeedActionDynamics`` ``dyn``: ``step`` (or a zero value or no change) at once, ``rate``
    as given (its sign ignored: esmini writes braking rates negative), ``time`` / ``distance``
    over that time / distance."""
    shape = doc.text(dyn, "dynamicsShape", where)
    value = abs(doc.number(dyn, "value", where))
    dimension = dyn.get("dynamicsDimension", "time")
    change = abs(goal - before)
    if shape == "step" or value == 0.0 or change < 1e-9:
        return _STEP_ACCEL_MPS2
    if dimension == "rate":
        return value
    if dimension == "time":
        return change / value
    if dimension == "distance":
        return abs(goal**2 - before**2) / (2.0 * value)
    raise doc.error(f"unknown dynamicsDimension {dimension!r}", where)


def _needs_start_speed(doc: _Doc, dyn: ET.Element, where: str) -> bool:
    """Does the dynamics' rate depend on the speed at the action's start (``time`` or
    ``distance`` of a non-step change)?"""
    return (
        doc.text(dyn, "dynamicsShape", where) != "step"
        and doc.number(dyn, "value", where) != 0.0
        and dyn.get("dynamicsDimension", "time") in ("time", "distance")
    )


def _init_speed(doc: _Doc, speed: ET.Element, entity: _Entity, where: str) -> None:
    """An Init ``SpeedAction``: a step sets the start speed; other dynamics change the speed
    from rest (an entity's speed before its Init actions is 0) from t = 0 on."""
    target = speed.find("SpeedActionTarget/AbsoluteTargetSpeed")
    if target is None:
        raise doc.error("only an AbsoluteTargetSpeed is read", where)
    goal = doc.number(target, "value", where)
    rate = _rate_mps2(doc, doc.one(speed, "SpeedActionDynamics", where), 0.0, goal, where)
    if rate == _STEP_ACCEL_MPS2:
        entity.speed_mps, entity.init_speed_change = goal, None
    else:
        entity.speed_mps, entity.init_speed_change = 0.0, (rate, goal)


@dataclass(frozen=True)
class _Start:
    """When an event starts: at ``time_s``, or from then on once the actor is within
    ``when_ego_within_m`` of the ego (between centres; along the actor's path, less
    ``along_path_offset_m``, when that is given)."""

    time_s: float = 0.0
    when_ego_within_m: float | None = None
    along_path_offset_m: float | None = None

    @property
    def known(self) -> bool:
        """Is the start time known when reading (a simulation-time start)?"""
        return self.when_ego_within_m is None

    def keys(self) -> dict[str, Any]:
        out: dict[str, Any] = {"time_s": self.time_s}
        if self.when_ego_within_m is not None:
            out["when_ego_within_m"] = self.when_ego_within_m
        if self.along_path_offset_m is not None:
            out["along_path"] = True
            out["along_path_offset_m"] = self.along_path_offset_m
        return out


@dataclass(frozen=True)
class _Pending:
    """The private actions of one event for one actor, before they are read."""

    start: _Start
    actor: str
    actions: list[ET.Element]
    where: str
    maneuver: str  # the scope of the event's priority
    priority: str  # overwrite (override) or parallel

    def speed(self) -> ET.Element | None:
        return next(
            (
                found
                for a in self.actions
                if (found := a.find("LongitudinalAction/SpeedAction")) is not None
            ),
            None,
        )


@dataclass
class _Running:
    """What an event left running for an actor: its kind (``speed`` / ``lateral``), start and
    end (``math.inf``: not known when reading), and its speed segment's index."""

    kind: str
    start: _Start
    end_s: float
    where: str
    segment: int = -1
    instant: bool = False  # a step speed change: never running


#: RelativeDistanceCondition types read as a centre distance.
_CENTRE_DISTANCE_TYPES = (None, "cartesianDistance", "euclidianDistance")
#: Event priorities read: OpenSCENARIO 1.2 renamed overwrite to override.
_PRIORITIES = ("overwrite", "override", "parallel")


def _one_condition(doc: _Doc, trigger: ET.Element, where: str) -> ET.Element:
    """The trigger's only condition (one group of one condition), rising or level edged."""
    groups = trigger.findall("ConditionGroup")
    conditions = [c for g in groups for c in g.findall("Condition")]
    if len(groups) != 1 or len(conditions) != 1:
        raise doc.error(
            f"{len(groups)} condition group(s) of {len(conditions)} condition(s): a trigger of "
            "one condition is read",
            where,
        )
    edge = conditions[0].get("conditionEdge", "rising")
    if edge not in ("rising", "none"):
        raise doc.error(f"conditionEdge {edge!r} is not read (rising or none)", where)
    return conditions[0]


def _condition_kind(cond: ET.Element) -> str:
    """The condition's own element name (``SimulationTimeCondition``, ...), for errors."""
    inner = cond.find("ByValueCondition/*")
    if inner is None:
        inner = cond.find("ByEntityCondition/EntityCondition/*")
    return inner.tag if inner is not None else "?"


def _sim_time_s(doc: _Doc, cond: ET.Element, where: str) -> float | None:
    """A ``SimulationTimeCondition``'s time plus the condition's delay; None for another
    condition."""
    sim_time = cond.find("ByValueCondition/SimulationTimeCondition")
    if sim_time is None:
        return None
    if doc.text(sim_time, "rule", where) not in ("greaterThan", "greaterOrEqual"):
        raise doc.error(
            "a SimulationTimeCondition is read with greaterThan / greaterOrEqual", where
        )
    delay = doc.number(cond, "delay", where, default=0.0)
    return doc.number(sim_time, "value", where) + delay


class _Story:
    """Reads the storyboard's events into each actor's speed events and lateral shifts, in the
    order they start (a distance-triggered event at its earliest time): the speed at the start
    of a speed or lane change comes from the speed profile of the events that start before it
    (piecewise-constant acceleration), the lane a relative lane change counts from from the
    lane changes before it; an event of priority overwrite stops the events of its maneuver
    still running (a speed change: the actor holds the speed reached)."""

    def __init__(self, doc: _Doc, entities: dict[str, _Entity], ego: _Entity, road_map: RoadMap):
        self.doc = doc
        self.entities = entities
        self.ego = ego
        self.road_map = road_map
        self.skipped_ego_actions = 0
        #: known-start speed segments per actor: (start s, rate m/s^2 > 0, target m/s)
        self._segments: dict[str, list[tuple[float, float, float]]] = {}
        self._lane: dict[str, str] = {}
        self._offset = {name: e.offset_m for name, e in entities.items()}
        #: per (maneuver, actor): what its events started, in start order
        self._running: dict[tuple[str, str], list[tuple[str, _Running]]] = {}
        self._pending: list[_Pending] = []
        self._applied: set[int] = set()
        for name, e in entities.items():
            assert e.lane is not None  # _init places every entity on a lane
            self._lane[name] = e.lane
            self._segments[name] = []
            if e.init_speed_change is not None and e is ego:
                self.skipped_ego_actions += 1  # the ego starts at rest; the planner drives it
            elif e.init_speed_change is not None:
                rate, goal = e.init_speed_change
                self._segments[name].append((0.0, rate, goal))
                e.speed_events.append(
                    {
                        "time_s": 0.0,
                        "accel_mps2": math.copysign(rate, goal),
                        "target_speed_mps": goal,
                    }
                )

    def read(self) -> None:
        for act in self.doc.root.iterfind("Storyboard/Story/Act"):
            act_where = _where("Act", act.get("name", "?"))
            if act.find("StopTrigger") is not None:
                raise self.doc.error("an act's StopTrigger is not read", act_where)
            act_time_s = 0.0
            trigger = act.find("StartTrigger")
            if trigger is not None:
                cond = _one_condition(self.doc, trigger, act_where)
                found = _sim_time_s(self.doc, cond, act_where)
                if found is None:
                    raise self.doc.error(
                        f"an act starts on a SimulationTimeCondition, got {_condition_kind(cond)}",
                        act_where,
                    )
                act_time_s = found
            for group in act.iterfind("ManeuverGroup"):
                group_where = _where(act_where, "ManeuverGroup", group.get("name", "?"))
                if group.find("CatalogReference") is not None:
                    raise self.doc.error("maneuvers from a catalogue are not read", act_where)
                actors = self._actors(group, group_where)
                for k, maneuver in enumerate(group.iterfind("Maneuver")):
                    scope = f"{group_where}/Maneuver/{k}"
                    for event in maneuver.iterfind("Event"):
                        where = _where(act_where, "Event", event.get("name", "?"))
                        priority = self.doc.text(event, "priority", where)
                        if priority not in _PRIORITIES:
                            raise self.doc.error(
                                f"event priority {priority!r} is not read (overwrite / "
                                "override, parallel)",
                                f"{where}@priority",
                            )
                        for actor in actors:
                            self._pending += self._actions(
                                event, actor, act_time_s, where, scope, priority
                            )
        # stable: file order on ties
        self._pending.sort(key=lambda p: p.start.time_s)
        for k, item in enumerate(self._pending):
            self._apply(item)
            self._applied.add(k)

    def _actors(self, group: ET.Element, where: str) -> list[str]:
        actors_el = group.find("Actors")
        select = "false" if actors_el is None else actors_el.get("selectTriggeringEntities", "")
        if select.lower() == "true":
            raise self.doc.error(
                'selectTriggeringEntities="true" is not read: name the actors by EntityRef',
                f"{where}/Actors",
            )
        actors = [
            self.doc.text(ref, "entityRef", where) for ref in group.iterfind("Actors/EntityRef")
        ]
        if not actors:
            raise self.doc.error("a maneuver group with no EntityRef actors is not read", where)
        return actors

    def _actions(
        self,
        event: ET.Element,
        actor: str,
        act_time_s: float,
        where: str,
        scope: str,
        priority: str,
    ) -> list[_Pending]:
        if actor not in self.entities:
            raise self.doc.error(f"no entity {actor!r}", where)
        if (
            event.find("Action/GlobalAction") is not None
            or event.find("Action/UserDefinedAction") is not None
        ):
            raise self.doc.error("global and user-defined actions are not read", where)
        if actor == self.ego.name:  # the planner under test drives the ego
            self.skipped_ego_actions += 1
            return []
        start = self._trigger(event.find("StartTrigger"), actor, where)
        # simulation time is one clock: an event cannot start before its act
        start = _Start(
            max(start.time_s, act_time_s), start.when_ego_within_m, start.along_path_offset_m
        )
        actions = list(event.iterfind("Action/PrivateAction"))
        return [_Pending(start, actor, actions, where, scope, priority)]

    def _apply(self, item: _Pending) -> None:
        entity = self.entities[item.actor]
        self._overwrite(item)
        for action in item.actions:
            speed = action.find("LongitudinalAction/SpeedAction")
            lane_change = action.find("LateralAction/LaneChangeAction")
            lane_offset = action.find("LateralAction/LaneOffsetAction")
            if speed is not None:
                event, running = self._speed_event(speed, item)
                entity.speed_events.append(event)
            else:
                if lane_change is not None:
                    shift = self._lane_change(lane_change, entity, item)
                elif lane_offset is not None:
                    shift = self._lane_offset(lane_offset, entity, item)
                else:
                    kinds = [c.tag for c in action.iter()][1:4]
                    raise self.doc.error(
                        "only SpeedAction, LaneChangeAction and LaneOffsetAction are read, "
                        f"got {kinds}",
                        item.where,
                    )
                entity.lateral_shifts.append(shift)
                end = item.start.time_s + shift["duration_s"] if item.start.known else math.inf
                running = _Running("lateral", item.start, end, item.where)
            self._running.setdefault((item.maneuver, item.actor), []).append((item.where, running))

    def _overwrite(self, item: _Pending) -> None:
        """An event of priority overwrite stops its maneuver's other events still running for
        the actor as it starts: a speed change ends (the actor holds the speed it reached), a
        running lateral move is refused (stopping it half way is not read); where the overlap is
        not known when reading (a distance-triggered event), the file is refused."""
        if item.priority == "parallel":
            return
        key = (item.maneuver, item.actor)
        if not item.start.known:
            later = [
                p.where
                for k, p in enumerate(self._pending)
                if (p.maneuver, p.actor) == key and p.where != item.where and k not in self._applied
            ]
            if later:
                raise self.doc.error(
                    f"priority {item.priority!r} on a distance-triggered event: whether "
                    f"{later[0]!r} of the same maneuver is still running when it starts is not "
                    "known when reading; use priority parallel or separate maneuvers",
                    item.where,
                )
        for where, running in self._running.get(key, []):
            if where == item.where or running.instant:
                continue
            if item.start.known and running.start.known:
                if not running.start.time_s <= item.start.time_s < running.end_s:
                    continue
            elif running.start.known and running.end_s <= item.start.time_s:
                continue  # it ends before the distance-triggered event can start
            else:
                raise self.doc.error(
                    f"priority {item.priority!r}: whether {where!r} of the same maneuver is "
                    "still running when this event starts is not known when reading (a "
                    "distance-triggered start); use priority parallel or separate maneuvers",
                    item.where,
                )
            if running.kind == "lateral":
                raise self.doc.error(
                    f"priority {item.priority!r} would stop the lateral move of {where!r} half "
                    "way: that is not read (use priority parallel or let it end first)",
                    item.where,
                )
            segments = self._segments[item.actor]
            if running.segment != _acting(segments) or item.speed() is not None:
                continue  # another speed change replaced it already, or this event's does
            t = item.start.time_s
            held = self._start_speed(item, "holding the speed reached (priority overwrite)")
            assert held is not None
            segments.append((t, _STEP_ACCEL_MPS2, held))
            self.entities[item.actor].speed_events.append(
                {"time_s": t, "accel_mps2": _STEP_ACCEL_MPS2, "target_speed_mps": held}
            )

    @overload
    def _start_speed(self, item: _Pending, what: str) -> float: ...

    @overload
    def _start_speed(self, item: _Pending, what: None) -> float | None: ...

    def _start_speed(self, item: _Pending, what: str | None) -> float | None:
        """The actor's speed at ``item``'s start, from the speed changes that start before it.
        When that is not known when reading (a distance-triggered speed change could come
        first, or the item's own start is distance-triggered while the speed may change): a
        ``ConfigError`` saying that ``what`` needs it, or None where ``what`` is None."""
        actor, t = item.actor, item.start.time_s
        others = [
            (k, p)
            for k, p in enumerate(self._pending)
            if p is not item and p.actor == actor and p.speed() is not None
        ]
        segments = self._segments[actor]
        v0 = self.entities[actor].speed_mps
        if item.start.known:
            unknown = [p.where for _, p in others if not p.start.known and p.start.time_s <= t]
        else:
            unknown = [p.where for k, p in others if not p.start.known or k not in self._applied]
            if _speed_at(v0, segments, t) != _speed_at(v0, segments, math.inf):
                unknown.append("a speed change still running at its earliest start")
        if not unknown:
            return _speed_at(v0, segments, t)
        if what is None:
            return None
        raise self.doc.error(
            f"{what} needs the speed at the event's start, which is not known when reading "
            f"(after {unknown[0]!r}: a distance-triggered start); give the SpeedAction's "
            "dynamics as a rate or a step, or the lane change's over a time",
            item.where,
        )

    def _trigger(self, trigger: ET.Element | None, actor: str, where: str) -> _Start:
        doc = self.doc
        if trigger is None:
            return _Start()
        cond = _one_condition(doc, trigger, where)
        time_s = _sim_time_s(doc, cond, where)
        if time_s is not None:
            return _Start(time_s)
        by_entity = cond.find("ByEntityCondition")
        distance = (
            None
            if by_entity is None
            else by_entity.find("EntityCondition/RelativeDistanceCondition")
        )
        if by_entity is None or distance is None or cond.get("delay", "0") not in ("0", "0.0"):
            raise doc.error(
                "an event starts on a SimulationTimeCondition, or on a RelativeDistanceCondition "
                f"between its actor and the ego without delay; got {_condition_kind(cond)}",
                where,
            )
        kind = distance.get("relativeDistanceType")
        if kind not in (*_CENTRE_DISTANCE_TYPES, "longitudinal"):
            raise doc.error(
                f"relativeDistanceType {kind!r} is not read (longitudinal along the actor's "
                "path; cartesian distances as the centre distance)",
                where,
            )
        pair = {
            doc.text(e, "entityRef", where)
            for e in by_entity.iterfind("TriggeringEntities/EntityRef")
        }
        pair.add(doc.text(distance, "entityRef", where))
        if pair != {actor, self.ego.name}:
            raise doc.error(
                f"the distance condition must be between the actor {actor!r} and the ego "
                f"{self.ego.name!r}, got {sorted(pair)}",
                where,
            )
        if doc.text(distance, "rule", where) not in ("lessThan", "lessOrEqual"):
            raise doc.error("a distance condition is read with lessThan / lessOrEqual", where)
        value = doc.number(distance, "value", where)
        freespace = distance.get("freespace", "false").lower() == "true"
        if freespace:
            value += 0.5 * (_length_m(self.entities[actor]) + VehicleParams().length_m)
        if kind != "longitudinal":
            return _Start(0.0, value)
        # along the path between the reference points (freespace: between the boxes, from
        # the centres and half lengths): the actor's box centre is its Center x ahead of its
        # reference point, the simulated ego's centre_offset_m ahead of its rear axle
        offset = 0.0
        if not freespace:
            offset = self.entities[actor].center_x_m - VehicleParams().center_offset_m
        return _Start(0.0, value, offset)

    def _speed_event(self, speed: ET.Element, item: _Pending) -> tuple[dict[str, Any], _Running]:
        doc, where = self.doc, item.where
        goal = self._absolute_value(speed, "SpeedActionTarget/AbsoluteTargetSpeed", where)
        dyn = doc.one(speed, "SpeedActionDynamics", where)
        if _needs_start_speed(doc, dyn, where):
            before: float | None = self._start_speed(item, "a SpeedAction over a time or distance")
        else:
            before = self._start_speed(item, None)
        step = (
            doc.text(dyn, "dynamicsShape", where) == "step" or doc.number(dyn, "value", where) == 0
        )
        if before is None:  # a rate or a step (the simulator finds the sign from the speed)
            rate = _STEP_ACCEL_MPS2 if step else abs(doc.number(dyn, "value", where))
            sign, end = 1.0, math.inf
        else:
            rate = _rate_mps2(doc, dyn, before, goal, where)
            sign = goal - before
            end = item.start.time_s + abs(goal - before) / rate if item.start.known else math.inf
        segments = self._segments[item.actor]
        index = -1
        if item.start.known:
            segments.append((item.start.time_s, rate, goal))
            index = len(segments) - 1
        event = {
            **item.start.keys(),
            "accel_mps2": math.copysign(rate, sign),
            "target_speed_mps": goal,
        }
        instant = rate == _STEP_ACCEL_MPS2
        return event, _Running("speed", item.start, end, where, index, instant)

    def _absolute_value(self, el: ET.Element, path: str, where: str) -> float:
        """The ``value`` of the ``Absolute...`` target at ``path`` below ``el``; refused when
        the target is another kind."""
        target = el.find(path)
        if target is None:
            raise self.doc.error(f"only an {path.rsplit('/', 1)[1]} is read", where)
        return self.doc.number(target, "value", where)

    def _lane_change_duration_s(self, dyn: ET.Element, item: _Pending) -> float:
        where = item.where
        value = self.doc.number(dyn, "value", where)
        dimension = dyn.get("dynamicsDimension", "time")
        if dimension == "time":
            return max(value, 1e-3)
        if dimension == "distance":
            speed = self._start_speed(item, "a LaneChangeAction over a distance")
            return max(value / max(speed, 0.1), 1e-3)
        raise self.doc.error(
            f"a lane change over a {dimension!r} is not read (time or distance)", where
        )

    def _lane_change(self, change: ET.Element, entity: _Entity, item: _Pending) -> dict[str, Any]:
        doc, where = self.doc, item.where
        current = self._lane[entity.name]
        relative = change.find("LaneChangeTarget/RelativeTargetLane")
        absolute = change.find("LaneChangeTarget/AbsoluteTargetLane")
        if relative is not None:
            if doc.text(relative, "entityRef", where) != entity.name:
                raise doc.error("a RelativeTargetLane is read relative to the actor itself", where)
            n_lanes = doc.integer(relative, "value", where)
            target = _lane_beside(self.road_map, entity, current, n_lanes)
        elif absolute is not None:
            road, section, _ = current.rsplit("_", 2)
            target = f"{road}_{section}_{doc.integer(absolute, 'value', where)}"
            if target in self.road_map and not _same_direction(entity, target):
                raise doc.error(f"lane {target!r} runs against the actor's lane {current!r}", where)
        else:
            raise doc.error("needs a RelativeTargetLane or an AbsoluteTargetLane", where)
        if target is None or target not in self.road_map:
            raise doc.error(
                f"no lane {target!r} beside the actor's lane {current!r} in its driving direction",
                where,
            )
        self._lane[entity.name] = target
        duration = self._lane_change_duration_s(
            doc.one(change, "LaneChangeActionDynamics", where), item
        )
        offset = doc.number(change, "targetLaneOffset", where, default=0.0)
        self._offset[entity.name] = _lateral_of(self.road_map, entity, target) + offset
        return {**item.start.keys(), "duration_s": duration, "offset_m": self._offset[entity.name]}

    def _lane_offset(self, action: ET.Element, entity: _Entity, item: _Pending) -> dict[str, Any]:
        doc, where = self.doc, item.where
        in_lane = self._absolute_value(action, "LaneOffsetTarget/AbsoluteTargetLaneOffset", where)
        dyn = doc.one(action, "LaneOffsetActionDynamics", where)
        max_lat_accel = doc.number(dyn, "maxLateralAcc", where, default=1.0)
        # the offset is from the centre of the lane the actor is in now (after lane changes);
        # the simulator's offsets are from its start lane's centre
        offset = _lateral_of(self.road_map, entity, self._lane[entity.name]) + in_lane
        before, self._offset[entity.name] = self._offset[entity.name], offset
        # the cosine blend's peak lateral acceleration is pi^2 / 2 * |change| / duration^2
        duration = math.pi * math.sqrt(max(abs(offset - before), 1e-3) / (2.0 * max_lat_accel))
        return {**item.start.keys(), "duration_s": duration, "offset_m": offset}


def _acting(segments: list[tuple[float, float, float]]) -> int:
    """The index of the speed segment acting last (the latest start; the first on ties, as
    the simulator picks), -1 for none."""
    return max(range(len(segments)), key=lambda k: (segments[k][0], -k), default=-1)


def _speed_at(speed_mps: float, segments: list[tuple[float, float, float]], time_s: float) -> float:
    """The speed at ``time_s`` from ``speed_mps`` at 0 under the speed ``segments`` ``(start,
    rate > 0, target)`` (the last started one acting: towards its target at its rate, then
    holding it), as the simulator's scripted agents drive them."""
    # the simulator acts on the first of equal starts: it goes last here
    order = sorted(range(len(segments)), key=lambda k: (segments[k][0], -k))
    v = speed_mps
    for n, k in enumerate(order):
        start, rate, target = segments[k]
        if start > time_s:
            break
        end = segments[order[n + 1]][0] if n + 1 < len(order) else math.inf
        span = min(end, time_s) - start
        if span > 0.0:
            v = (
                target
                if abs(target - v) <= rate * span
                else v + math.copysign(rate * span, target - v)
            )
    return v


def _length_m(agent: _Entity) -> float:
    """The length the simulator gives an agent: its bounding box's, else its type's default."""
    if agent.size_m is not None:
        return agent.size_m[0]
    return DEFAULT_SIZE_M.get(ObjectClass.from_name(agent.type), CAR_SIZE_M)[0]


def _lateral_of(road_map: RoadMap, entity: _Entity, lane_id: str) -> float:
    """Offset (m, left positive) of ``lane_id``'s centreline from the entity's start lane's
    centreline, beside the entity's start."""
    assert entity.lane is not None
    own = road_map.lane(entity.lane)
    xy, _ = interpolate_polyline(own.centerline_m, [entity.station_m])
    other = road_map.lane(lane_id)
    station, _ = other.project(xy)
    beside, _ = interpolate_polyline(other.centerline_m, station)
    _, lateral = own.project(beside)
    return float(lateral[0])


def _same_direction(entity: _Entity, lane_id: str) -> bool:
    """Does ``lane_id`` run the way the entity's start lane does (OpenDRIVE: lane ids of one
    sign, right or left of the reference line)?"""
    assert entity.lane is not None
    return (int(lane_id.rsplit("_", 1)[1]) > 0) == (int(entity.lane.rsplit("_", 1)[1]) > 0)


def _lane_beside(road_map: RoadMap, entity: _Entity, current: str, n_lanes: int) -> str | None:
    """The lane ``n_lanes`` to the left (negative: right) of ``current``, in the entity's
    driving direction, among the vehicle lanes of its start lane's section that run its way
    (ordered by their offsets beside the entity's start); None past the last of them."""
    assert entity.lane is not None
    road, section, _ = entity.lane.rsplit("_", 2)
    prefix = f"{road}_{section}_"
    siblings = [
        lane.lane_id for lane in road_map.lanes if lane.lane_id.startswith(prefix) and lane.drivable
    ]
    offsets = {lane_id: _lateral_of(road_map, entity, lane_id) for lane_id in siblings}
    here = offsets.get(current, 0.0)
    side = [
        k
        for k in offsets
        if k != current and (offsets[k] > here) == (n_lanes > 0) and _same_direction(entity, k)
    ]
    side.sort(key=lambda k: abs(offsets[k] - here))
    return side[abs(n_lanes) - 1] if 0 < abs(n_lanes) <= len(side) else None


def _duration_s(doc: _Doc) -> float:
    """The storyboard's StopTrigger time (a single ``SimulationTimeCondition``), else
    :data:`DEFAULT_DURATION_S`."""
    stop = doc.root.find("Storyboard/StopTrigger")
    where = "Storyboard/StopTrigger"
    if stop is None or not stop.findall("ConditionGroup"):
        return DEFAULT_DURATION_S
    cond = _one_condition(doc, stop, where)
    time_s = _sim_time_s(doc, cond, where)
    if time_s is None:
        raise doc.error(
            f"the run stops on a SimulationTimeCondition, got {_condition_kind(cond)}", where
        )
    return time_s


def read_openscenario(path: str | Path) -> dict[str, Any]:
    """An OpenSCENARIO file -> the mapping of a scenario YAML (see the module docstring);
    ``ConfigError`` naming the file and the element for what is not read."""
    doc = _Doc(Path(path))
    entities = _entities(doc)
    ego = next((e for name, e in entities.items() if name.lower() in EGO_NAMES), None)
    if ego is None:
        raise doc.error(f"no entity named one of {EGO_NAMES} (any case) to be the ego", "Entities")
    network, road_map = _road_map(doc)
    _init(doc, entities, network, road_map)
    for entity in entities.values():
        if entity is not ego:  # its box centre, Center x ahead of its reference point
            entity.station_m += entity.center_x_m
    story = _Story(doc, entities, ego, road_map)
    story.read()
    header = doc.root.find("FileHeader")
    description = (header.get("description", "") if header is not None else "") or doc.path.stem
    if story.skipped_ego_actions:
        description += (
            f" ({story.skipped_ego_actions} ego action(s) not read: the planner drives the ego)"
        )
    agents = []
    for entity in entities.values():
        if entity is ego:
            continue
        assert entity.lane is not None
        agent: dict[str, Any] = {
            "id": entity.name,
            "type": entity.type,
            "behavior": "scripted",
            "lanes": extend_by_successors(road_map, [entity.lane], entity.station_m, AGENT_PATH_M),
            "station_m": entity.station_m,
            "offset_m": entity.offset_m,
            "speed_mps": entity.speed_mps,
            "speed_events": entity.speed_events,
            "lateral_shifts": entity.lateral_shifts,
        }
        if entity.size_m is not None:
            agent["size_m"] = list(entity.size_m)
        agents.append(agent)
    return {
        "name": re.sub(r"[^A-Za-z0-9_.-]+", "_", doc.path.stem),
        "description": description,
        "tags": ["openscenario"],
        "map": {"kind": "opendrive", "file": str(network.path.resolve())},
        "ego": {
            "lane": ego.lane,
            "station_m": ego.station_m,
            "offset_m": ego.offset_m,
            "speed_mps": ego.speed_mps,
        },
        "duration_s": _duration_s(doc),
        "agents": agents,
    }
