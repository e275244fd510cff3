"""OpenSCENARIO 1.x (``.xosc``) -> a scenario config: the subset drivestack's simulator runs.

The file becomes the same mapping a scenario YAML holds and goes through the same strict
loader and checks (:func:`drivestack.sim.scenario.load_scenarios` reads both), so a ``.xosc``
runs wherever a scenario YAML does (``drivestack sim file.xosc``, suites, fleets).

What is read:

- **Parameters**: top-level ``ParameterDeclarations`` values replace ``$name`` references (no
  ``${...}`` expressions; declarations anywhere else are refused).
- **Road network**: ``RoadNetwork/LogicFile`` must be an OpenDRIVE file; a relative path is
  taken from the ``.xosc`` file's folder, else from the shared data folder (``drivestack sim``
  / ``fleet``'s ``--data-root`` through :func:`road_network_root`, by default
  ``$DRIVESTACK_SHARED_DATA`` or ``../shared/data``); lanes are
  :func:`~drivestack.ingest.maps.read_opendrive`'s.
- **Traffic signals** (:mod:`._signals`): a ``RoadNetwork/TrafficSignals``
  ``TrafficSignalController`` gives each signal that the ``TrafficSignalState`` s of its
  ``Phase`` s name (``trafficSignalId``: a dynamic OpenDRIVE ``<signal>``'s id, one of the map's
  lights; another id is refused naming it) a cycle in the ``traffic_lights`` block: its states
  over the controller's phases, each for the phase's ``duration``, repeated, the first phase
  starting when the controller's does, ``delay``
  seconds after the start of its ``reference`` controller's first phase (OpenSCENARIO's
  progressive signals; followed to the root; a ``delay`` without a ``reference`` counts from
  t = 0). Before that the cycle runs on backwards (the scenario YAML ``traffic_lights:`` block's
  ``offset_s``). States: ``green``, ``yellow``, ``red``, ``red_yellow``, ``off`` by name, or
  esmini's ``red;yellow;green`` lamp triplets (``off;off;on`` green, ``on;off;off`` red,
  ``off;on;off`` yellow, ``on;on;off`` red-yellow, ``off;off;off`` off); any other string, a
  signal in two controllers or missing from one of its controller's phases, a reference loop
  and a ``TrafficSignalGroupState`` are refused naming the controller, the phase and the field.
- **Entities**: the ego is the ``ScenarioObject`` named ``Ego`` / ``ego`` / ``hero`` (its size
  is the simulator's vehicle: its ``BoundingBox`` is not read; its position is its rear-axle
  centre, the simulator's ego reference point, as OpenSCENARIO's vehicle reference point);
  every other one is a scripted agent that follows its route (below), else its start lane's
  successors (the first in lane-id order where a lane forks, not OpenSCENARIO's default
  route, which goes straight at junctions), for :data:`AGENT_PATH_M`. A ``Vehicle``'s ``vehicleCategory`` gives its type, a
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
  speed; other dynamics change the speed from t = 0 on, from the start speed a ``step``
  before it in the ``Init`` set (else from rest: an entity starts at 0 m/s), as a story speed
  change would (the ego then starts at that speed: the planner drives it); a later ``Init``
  speed action replaces an earlier change.
- **Routes** (one ``RoutingAction`` per entity in the ``Init``): an ``AssignRouteAction``'s
  ``Route`` (inline, or ``RouteRef/Route``) of ``Waypoint`` s, or an ``AcquirePositionAction``
  (OpenSCENARIO: the shortest route from the entity's position to its ``Position``, i.e. one
  ``shortest`` waypoint). OpenSCENARIO's ``Route`` links its waypoints in order, each reached
  from the one before by its own ``routeStrategy``; read are ``shortest``
  (:func:`RoadMap.route`'s cheapest lane sequence by length, a lane change counting 50 m),
  ``fastest`` (its ``cost="time"``: each lane's length over its speed limit, a lane change the
  time to drive 50 m at the limit of the lane it leaves) and ``leastIntersections`` (its
  ``cost="junctions"``: as few junctions entered as possible, as esmini counts them, ties
  broken by length as ``shortest``, the junctions as the OpenDRIVE reader marks them on its
  lanes: driving from outside a ``<junction>`` onto one of its connecting roads
  (``road@junction``) enters it once, however many of its lanes follow, and driving across
  a ``type="direct"`` junction, which has no connecting roads, passes one); ``random`` is
  refused naming ``Waypoint[i]@routeStrategy`` (a route drawn at random would differ from run
  to run), and so are ``closed="true"``
  (a loop), a ``Route`` from a catalogue and a waypoint no lane sequence reaches. A
  waypoint's ``Position`` is a ``LanePosition`` or ``WorldPosition`` (as the
  ``TeleportAction`` reads them, a ``WorldPosition`` without ``h`` snapped to the nearest lane
  whichever way it runs); the
  route is the lanes from the entity's start lane through each waypoint's lane (a waypoint on
  the lane the route is on, such as one at the start, adds nothing: stations within a lane
  are not read) and ends on the last waypoint's lane. The ego's becomes the scenario's
  ``route: {lanes: [...]}`` (the YAML's explicit route, which the YAML's ``goal_lane`` search
  gives for one waypoint): without one the simulator follows the start lane's successors. An
  agent's becomes its ``lanes`` (then first successors), when it keeps to successor lanes; a
  lane change in an agent's route is refused (its lane changes are the story's
  ``LaneChangeAction`` s). Routing actions in story events are not read: the ego's are skipped
  (counted in the description), an agent's refused with its other actions.
  OpenSCENARIO has no field for what an expert would drive: the scenario's
  ``expert_progress_m`` is left out, so progress is scored against the simulator's default
  (0.8 x the mean speed limit along the route x the duration, capped by the route left past
  the start, less 5 m).
- **Story events** (every ``Event`` of every ``Story`` / ``Act`` / ``ManeuverGroup``, for the
  group's ``EntityRef`` actors, ``selectTriggeringEntities="false"``; ``maximumExecutionCount``
  is not read: an event runs once), taken in the order they start (a distance-triggered event
  at its earliest time): a ``SpeedAction`` to an ``AbsoluteTargetSpeed`` (``step``: at once;
  other shapes at a constant rate: ``rate`` as given, its sign ignored, ``time`` /
  ``distance`` from the speed reached at the event's start, worked out from the speed changes
  that start before it), a ``LaneChangeAction`` (``RelativeTargetLane`` of the agent itself,
  counted from the lane the lane changes before left it in, among the lanes that run the
  actor's way (0: that lane itself, back to its centre), or ``AbsoluteTargetLane`` of that
  direction; over the dynamics' ``time``, or its
  ``distance`` at the speed reached at its start) and an ``AbsoluteTargetLaneOffset`` (from the
  centre of the lane the actor is in by then, reached from the offset the events before left).
  Of speed changes that start at the same time, the one read last acts: it replaces the
  others, as a later action replaces an earlier one (a story speed change at 0 s replaces the
  Init's; events taken in file order on equal starts).
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
act's stop trigger, a maneuver from a catalogue, a position kind not listed, a
``dynamicsShape`` / ``dynamicsDimension`` OpenSCENARIO does not have, a ``freespace`` that is
not a boolean, a ``LanePosition`` that is not on a lane of the road network) is a
:class:`ConfigError` naming the file and the element, rather than a scenario that silently
runs differently. Lights change by their controllers' cycles and by the storyboard's
``TrafficSignalStateAction`` and ``TrafficSignalControllerAction`` in the ``Init`` (t = 0) or
in events started at a ``SimulationTimeCondition`` (:mod:`._signals`: a light set to a state
from then on, a controller entering a phase then, read as the block's ``switches``, which hold
however long the run lasts; a signal action started by another
condition is refused naming the condition's kind); a ``TrafficSignalCondition`` or
``TrafficSignalControllerCondition`` in any trigger is refused by name (start such an event on
the ``SimulationTimeCondition`` at which the light changes);
other global actions of an event are refused naming their
kind.

Names: the XSD types every ``name`` as ``String``, which may be empty, so an element with an
empty (or white-space) name that nothing refers to is read (a ``Story``, ``Act``, ``Event``,
``Action``, a ``Vehicle``'s own name, a traffic signal controller or phase no action names;
controllers, and one controller's phases, still need names that differ, so only one can be
empty).
A reference by name that must resolve is refused when empty or white space (the file, the
element and the attribute named: :meth:`._document._Doc.name_ref`): an ``entityRef``, a
``CatalogReference``'s ``catalogName`` / ``entryName``, a ``parameterRef``, a ``$`` without a
parameter name, a ``trafficSignalId``, a ``TrafficSignalStateAction``'s ``name``, a
controller's ``reference``, a ``TrafficSignalControllerAction``'s
``trafficSignalControllerRef`` and ``phase``; so is a ``ScenarioObject``'s empty name (every
entity is placed by the ``Init``'s ``Private`` ``entityRef``).

The reading is split by job: :mod:`._document` (the parsed file, parameters, errors and
trigger conditions), :mod:`._entities` (catalogues, entities, road network and ``Init``),
:mod:`._story` (the storyboard's events), :mod:`._speed` (speed-profile arithmetic) and
:mod:`._lanes` (lane geometry), :mod:`._signals` (signal controllers -> the
``traffic_lights`` block, the storyboard's signal actions read into it and its signal conditions
refused); this module
assembles the scenario mapping.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

from drivestack.sim.build import extend_by_successors
from drivestack.sim.openscenario._document import _Doc, _required_sim_time_s, _where
from drivestack.sim.openscenario._entities import (
    VEHICLE_TYPES,
    _entities,
    _Entity,
    _init,
    _road_map,
    road_network_root,
)
from drivestack.sim.openscenario._signals import refuse_signal_conditions, traffic_lights
from drivestack.sim.openscenario._story import _Story
from drivestack.structures.road_map import RoadMap

__all__ = [
    "AGENT_PATH_M",
    "DEFAULT_DURATION_S",
    "EGO_NAMES",
    "VEHICLE_TYPES",
    "read_openscenario",
    "road_network_root",
]

DEFAULT_DURATION_S = 30.0
EGO_NAMES = ("ego", "hero")
#: How far an agent's lane path follows successors past its start.
AGENT_PATH_M = 600.0


def _duration_s(doc: _Doc) -> float:
    """The storyboard's StopTrigger time (a single ``SimulationTimeCondition``), else
    :data:`DEFAULT_DURATION_S`."""
    stop = doc.root.find("Storyboard/StopTrigger")
    where = "Storyboard/StopTrigger"
    if stop is None or not stop.findall("ConditionGroup"):
        return DEFAULT_DURATION_S
    return _required_sim_time_s(doc, stop, where, "the run stops")


def _agent_lanes(doc: _Doc, road_map: RoadMap, entity: _Entity) -> list[str]:
    """A scripted agent's lane path: its Init route (successor steps only: its lane changes are
    the story's), else its start lane, then first successors up to :data:`AGENT_PATH_M`."""
    assert entity.lane is not None
    lanes = entity.route or [entity.lane]
    for a, b in itertools.pairwise(lanes):
        if b not in road_map.lane(a).successors:
            raise doc.error(
                f"the route changes lane from {a!r} to {b!r}: an agent's route is read along "
                "successor lanes only (give its lane changes as LaneChangeActions)",
                _where("Init", entity.name, "RoutingAction"),
            )
    return extend_by_successors(road_map, lanes, entity.station_m, AGENT_PATH_M)


def read_openscenario(path: str | Path) -> dict[str, Any]:
    """An OpenSCENARIO file -> the mapping of a scenario YAML (see the module docstring);
    ``ConfigError`` naming the file and the element for what is not read."""
    doc = _Doc(Path(path))
    refuse_signal_conditions(doc)
    entities = _entities(doc)
    ego = next((e for name, e in entities.items() if name.lower() in EGO_NAMES), None)
    if ego is None:
        raise doc.error(f"no entity named one of {EGO_NAMES} (any case) to be the ego", "Entities")
    network, road_map = _road_map(doc)
    duration_s = _duration_s(doc)
    lights = traffic_lights(doc, road_map)
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
            "lanes": _agent_lanes(doc, road_map, entity),
            "station_m": entity.station_m,
            "offset_m": entity.offset_m,
            "speed_mps": entity.speed_mps,
            "speed_events": entity.speed_events,
            "lateral_shifts": entity.lateral_shifts,
        }
        if entity.size_m is not None:
            agent["size_m"] = list(entity.size_m)
        agents.append(agent)
    scenario: dict[str, Any] = {
        "name": re.sub(r"[^A-Za-z0-9_.-]+", "_", doc.path.stem),
        "description": description,
        "tags": ["openscenario", "traffic_light"] if lights else ["openscenario"],
        "map": {"kind": "opendrive", "file": str(network.path.resolve())},
        "ego": {
            "lane": ego.lane,
            "station_m": ego.station_m,
            "offset_m": ego.offset_m,
            "speed_mps": ego.speed_mps,
        },
        **({"route": {"lanes": ego.route}} if ego.route is not None else {}),
        "duration_s": duration_s,
        "agents": agents,
    }
    if lights:
        scenario["traffic_lights"] = lights
    return scenario
