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
  is the simulator's vehicle: its ``BoundingBox`` is not read); every other one is a scripted
  agent that follows its start lane's successors (the first in lane-id order where a lane
  forks). A ``Vehicle``'s ``vehicleCategory`` gives its type, a ``Pedestrian`` is a
  pedestrian, and a ``BoundingBox`` gives the size (else the simulator's default for the
  type); a ``CatalogReference`` is resolved in the ``.xosc`` files of the ``VehicleCatalog`` /
  ``PedestrianCatalog`` directories of ``CatalogLocations`` (their ``$parameters`` from the
  reference's ``ParameterAssignments`` over the entry's defaults). Every entity must be placed
  in the ``Init``.
- **Init**: a ``TeleportAction`` to a ``LanePosition`` (road, whole lane id, s, offset; its
  ``Orientation`` is not read) or a ``WorldPosition`` (snapped to the nearest lane heading the
  same way) and an ``AbsoluteTargetSpeed`` (m/s).
- **Story events** (every ``Event`` of every ``Story`` / ``Act`` / ``ManeuverGroup``, for the
  group's actors; ``maximumExecutionCount`` is not read: an event runs once), taken in the
  order they start (a distance-triggered event at its earliest time): a ``SpeedAction`` to an
  ``AbsoluteTargetSpeed`` (``step``: at once; other shapes at a constant rate: ``rate`` as
  given, its sign ignored, ``time`` / ``distance`` from the speed the events before left), a
  ``LaneChangeAction`` (``RelativeTargetLane`` of the agent itself, counted from the lane the
  lane changes before left it in, or ``AbsoluteTargetLane``; over the dynamics' ``time``, or
  its ``distance`` at the speed before) and an ``AbsoluteTargetLaneOffset`` (from the centre
  of the lane the actor is in by then, reached from the offset the events before left).
  Actions for the ego are skipped (the planner under test drives it; the description counts
  them).
- **Triggers**: an event starts on one condition (``conditionEdge`` rising or none): a
  ``SimulationTimeCondition`` (``greaterThan`` / ``greaterOrEqual``, plus its ``delay``), or a
  ``RelativeDistanceCondition`` between the actor and the ego (``lessThan`` /
  ``lessOrEqual``, no delay), read as their centre distance for the ``longitudinal`` and
  cartesian types (``freespace="true"`` adds the two half lengths: the actor's as the simulator
  sizes it, the ego's the simulator vehicle's :class:`~drivestack.sim.vehicle.VehicleParams`
  ``length_m``). Simulation time is one clock: an event starts no earlier than its act, whose
  start trigger must be a ``SimulationTimeCondition``.
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
    speed_events: list[dict[str, float]] = field(default_factory=list)
    lateral_shifts: list[dict[str, float]] = field(default_factory=list)


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
        out[name] = _Entity(name, kind, size)  # type: ignore[arg-type]
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
            speed = action.find(
                "LongitudinalAction/SpeedAction/SpeedActionTarget/AbsoluteTargetSpeed"
            )
            if teleport is not None:
                _place(doc, teleport, entities[name], network, road_map, f"{where}/TeleportAction")
            elif speed is not None:
                entities[name].speed_mps = doc.number(speed, "value", f"{where}/SpeedAction")
            else:
                kinds = [child.tag for child in action]
                raise doc.error(f"only TeleportAction and SpeedAction are read, got {kinds}", where)
    for name, entity in entities.items():
        if entity.lane is None:
            raise doc.error(
                "no TeleportAction in the Init places it", _where("Storyboard/Init", name)
            )


@dataclass(frozen=True)
class _Start:
    """When an event starts: at ``time_s``, or from then on once the actor is within
    ``when_ego_within_m`` of the ego."""

    time_s: float = 0.0
    when_ego_within_m: float | None = None

    def keys(self) -> dict[str, float]:
        out = {"time_s": self.time_s}
        if self.when_ego_within_m is not None:
            out["when_ego_within_m"] = self.when_ego_within_m
        return out


@dataclass(frozen=True)
class _Pending:
    """One private action of an event, for one actor, before it is read."""

    start: _Start
    actor: str
    action: ET.Element
    where: str


#: RelativeDistanceCondition types read as a centre distance.
_CENTRE_DISTANCE_TYPES = (None, "longitudinal", "cartesianDistance", "euclidianDistance")


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
    order they start (a distance-triggered event at its earliest time): the speed before a
    speed or lane change and the lane a relative lane change counts from come from the events
    that start before it."""

    def __init__(self, doc: _Doc, entities: dict[str, _Entity], ego: _Entity, road_map: RoadMap):
        self.doc = doc
        self.entities = entities
        self.ego = ego
        self.road_map = road_map
        self.skipped_ego_actions = 0
        self._speed = {name: e.speed_mps for name, e in entities.items()}
        self._lane: dict[str, str] = {}
        self._offset = {name: e.offset_m for name, e in entities.items()}
        for name, e in entities.items():
            assert e.lane is not None  # _init places every entity on a lane
            self._lane[name] = e.lane

    def read(self) -> None:
        pending: list[_Pending] = []
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
                if group.find("CatalogReference") is not None:
                    raise self.doc.error("maneuvers from a catalogue are not read", act_where)
                actors = [
                    self.doc.text(ref, "entityRef", act_where)
                    for ref in group.iterfind("Actors/EntityRef")
                ]
                for event in group.iterfind("Maneuver/Event"):
                    where = _where(act_where, "Event", event.get("name", "?"))
                    for actor in actors:
                        pending += self._actions(event, actor, act_time_s, where)
        for item in sorted(pending, key=lambda p: p.start.time_s):  # stable: file order on ties
            self._apply(item)

    def _actions(
        self, event: ET.Element, actor: str, act_time_s: float, where: str
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
        start = _Start(max(start.time_s, act_time_s), start.when_ego_within_m)
        return [_Pending(start, actor, a, where) for a in event.iterfind("Action/PrivateAction")]

    def _apply(self, item: _Pending) -> None:
        entity = self.entities[item.actor]
        speed = item.action.find("LongitudinalAction/SpeedAction")
        lane_change = item.action.find("LateralAction/LaneChangeAction")
        lane_offset = item.action.find("LateralAction/LaneOffsetAction")
        if speed is not None:
            event = self._speed_event(speed, item.actor, item.start, item.where)
            entity.speed_events.append(event)
            return
        if lane_change is not None:
            shift = self._lane_change(lane_change, entity, item.start, item.where)
        elif lane_offset is not None:
            shift = self._lane_offset(lane_offset, entity, item.start, item.where)
        else:
            kinds = [c.tag for c in item.action.iter()][1:4]
            raise self.doc.error(
                f"only SpeedAction, LaneChangeAction and LaneOffsetAction are read, got {kinds}",
                item.where,
            )
        entity.lateral_shifts.append(shift)

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
        if kind not in _CENTRE_DISTANCE_TYPES:
            raise doc.error(
                f"relativeDistanceType {kind!r} is not read (longitudinal and cartesian "
                "distances are read as the centre distance)",
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
        if distance.get("freespace", "false").lower() == "true":
            value += 0.5 * (_length_m(self.entities[actor]) + VehicleParams().length_m)
        return _Start(0.0, value)

    def _speed_event(
        self, speed: ET.Element, actor: str, start: _Start, where: str
    ) -> dict[str, float]:
        doc = self.doc
        goal = self._absolute_value(speed, "SpeedActionTarget/AbsoluteTargetSpeed", where)
        before = self._speed[actor]
        self._speed[actor] = goal
        dyn = doc.one(speed, "SpeedActionDynamics", where)
        shape = doc.text(dyn, "dynamicsShape", where)
        value = abs(doc.number(dyn, "value", where))  # esmini writes braking rates negative
        dimension = dyn.get("dynamicsDimension", "time")
        change = abs(goal - before)
        if shape == "step" or value == 0.0 or change < 1e-9:
            rate = _STEP_ACCEL_MPS2
        elif dimension == "rate":
            rate = value
        elif dimension == "time":
            rate = change / value
        elif dimension == "distance":
            rate = abs(goal**2 - before**2) / (2.0 * value)
        else:
            raise doc.error(f"unknown dynamicsDimension {dimension!r}", where)
        return {
            **start.keys(),
            "accel_mps2": math.copysign(rate, goal - before),
            "target_speed_mps": goal,
        }

    def _absolute_value(self, el: ET.Element, path: str, where: str) -> float:
        """The ``value`` of the ``Absolute...`` target at ``path`` below ``el``; refused when
        the target is another kind."""
        target = el.find(path)
        if target is None:
            raise self.doc.error(f"only an {path.rsplit('/', 1)[1]} is read", where)
        return self.doc.number(target, "value", where)

    def _lane_change_duration_s(self, dyn: ET.Element, actor: str, where: str) -> float:
        value = self.doc.number(dyn, "value", where)
        dimension = dyn.get("dynamicsDimension", "time")
        if dimension == "time":
            return max(value, 1e-3)
        if dimension == "distance":
            return max(value / max(self._speed[actor], 0.1), 1e-3)
        raise self.doc.error(
            f"a lane change over a {dimension!r} is not read (time or distance)", where
        )

    def _lane_change(
        self, change: ET.Element, entity: _Entity, start: _Start, where: str
    ) -> dict[str, float]:
        doc = self.doc
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
        else:
            raise doc.error("needs a RelativeTargetLane or an AbsoluteTargetLane", where)
        if target is None or target not in self.road_map:
            raise doc.error(f"no lane {target!r} beside the actor's lane {current!r}", where)
        self._lane[entity.name] = target
        duration = self._lane_change_duration_s(
            doc.one(change, "LaneChangeActionDynamics", where), entity.name, where
        )
        offset = doc.number(change, "targetLaneOffset", where, default=0.0)
        self._offset[entity.name] = _lateral_of(self.road_map, entity, target) + offset
        return {**start.keys(), "duration_s": duration, "offset_m": self._offset[entity.name]}

    def _lane_offset(
        self, action: ET.Element, entity: _Entity, start: _Start, where: str
    ) -> dict[str, float]:
        doc = self.doc
        in_lane = self._absolute_value(action, "LaneOffsetTarget/AbsoluteTargetLaneOffset", where)
        dyn = doc.one(action, "LaneOffsetActionDynamics", where)
        max_lat_accel = doc.number(dyn, "maxLateralAcc", where, default=1.0)
        # the offset is from the centre of the lane the actor is in now (after lane changes);
        # the simulator's offsets are from its start lane's centre
        offset = _lateral_of(self.road_map, entity, self._lane[entity.name]) + in_lane
        before, self._offset[entity.name] = self._offset[entity.name], offset
        # the cosine blend's peak lateral acceleration is pi^2 / 2 * |change| / duration^2
        duration = math.pi * math.sqrt(max(abs(offset - before), 1e-3) / (2.0 * max_lat_accel))
        return {**start.keys(), "duration_s": duration, "offset_m": offset}


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


def _lane_beside(road_map: RoadMap, entity: _Entity, current: str, n_lanes: int) -> str | None:
    """The lane ``n_lanes`` to the left (negative: right) of ``current``, in the entity's
    driving direction, among the vehicle lanes of its start lane's section (ordered by their
    offsets beside the entity's start)."""
    assert entity.lane is not None
    road, section, _ = entity.lane.rsplit("_", 2)
    prefix = f"{road}_{section}_"
    siblings = [
        lane.lane_id for lane in road_map.lanes if lane.lane_id.startswith(prefix) and lane.drivable
    ]
    offsets = {lane_id: _lateral_of(road_map, entity, lane_id) for lane_id in siblings}
    here = offsets.get(current, 0.0)
    side = [k for k in offsets if k != current and (offsets[k] > here) == (n_lanes > 0)]
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
