"""Planning: the ego's trajectory from the route, the map and the tracked agents.

- :class:`~drivestack.planning.pdm.PDMPlanner`: PDM-Closed style (Dauner et al. 2023):
  IDM speed proposals at several lateral offsets, rolled out
  (:mod:`~drivestack.planning.proposals`) and scored with the nuPlan metrics
  (:mod:`~drivestack.planning.scoring`); :class:`~drivestack.planning.pdm.IDMPlanner` is the
  plain IDM lane follower baseline (:mod:`~drivestack.planning.idm`).
- :mod:`~drivestack.planning.reference_path`: the route's centreline with Frenet queries.
- :mod:`~drivestack.planning.traffic_lights`: the route's traffic-light stop lines on that
  path and the rule both planners stop by (red within a hard deceleration, yellow only
  when comfortable, unknown as go).
- :mod:`~drivestack.planning.stop_signs`: the route's stop-sign lines on that path and the
  rule both planners stop by (stop, stand ``stop_sign_dwell_s``, then go).
- :mod:`~drivestack.planning.control`: pure-pursuit steering and PI + feed-forward speed
  tracking of the planned trajectory, within the vehicle's limits.

``drivestack sim --planner pdm|idm`` runs them closed loop. The names below import their
module on first use (``from drivestack.planning import PDMPlanner``), so importing the package
stays cheap.

Using the planner on your own data
----------------------------------
A planner is built for one map and route, ``PDMPlanner(road_map, ["lane_a", "lane_b"])`` (a
list of lane ids, not one id as a ``str``), and each ``step`` takes a
:class:`drivestack.sim.world.Observation` and returns the plan as a
:class:`~drivestack.structures.trajectory.Trajectory` in the map frame, starting at the
observation's time. An ``Observation`` (it lives in the simulator package, but is plain
data) holds, all in the map's frame (``road_map.frame``, e.g. ``"world"``) and at one
``timestamp_ns``: the ego as an :class:`~drivestack.structures.ego_state.EgoState` (rear-axle
position, yaw, speed; a negative, reversing speed is not planned for: the plan starts from
it and drives forward), the agents as :class:`~drivestack.structures.boxes.Boxes3D` with
velocities over ground, and one distinct ``str`` id per box. The
:class:`drivestack.pipeline.Stack` outputs ``Tracks`` in the ``"ego"`` frame (their velocities
are over ground when the tracker compensates ego motion; ``transformed`` rotates a velocity,
it does not add the ego's motion); to plan with them, with the frame's pose
``world_from_ego``::

    boxes = out.tracks.boxes.transformed(world_from_ego, "world")  # velocities only rotate
    ids = tuple(f"track_{i}" for i in out.tracks.track_id)
    plan = planner.step(Observation(out.timestamp_ns, ego_state, boxes, ids))

(``drivestack.sim.perceived`` does this in closed loop.) A frame mismatch between the ego,
the agents and the map is a ``ValueError``. Then
:class:`~drivestack.planning.control.TrajectoryTracker` turns the plan into acceleration and
steering commands at a time the plan covers.

:class:`~drivestack.planning.pdm.IDMPlanner` follows the route centreline behind the agent
now in its lane (nuPlan's rule): an agent crossing the lane, such as a pedestrian stepping off
the kerb, is ignored until it is in the lane, and then the ego may well hit it; use
:class:`~drivestack.planning.pdm.PDMPlanner` where agents cross. Both planners stop rather than
turn round when the ego faces against the route or is off the drivable area, and refuse a
route over lanes that are not drivable (sidewalks, crosswalks: ``ValueError`` naming the lane).
Of :class:`~drivestack.planning.pdm.PDMParams` the IDM planner ignores ``prediction``
(constant velocity always), the proposal settings and the emergency deceleration (its
docstring lists them). Settings are frozen dataclasses checked on construction
(``PDMParams``, the proposals' :class:`~drivestack.planning.idm.ACCParams`,
``TrackerParams``, :class:`~drivestack.sim.vehicle.VehicleParams`); from YAML,
``drivestack.config.from_mapping(PDMParams, yaml.safe_load(text))`` builds them strictly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivestack.core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from drivestack.planning.control import TrackerParams, TrajectoryTracker
    from drivestack.planning.idm import ACCParams, IDMParams
    from drivestack.planning.pdm import IDMPlanner, PDMParams, PDMPlanner, PlanDebug
    from drivestack.planning.reference_path import ReferencePath
    from drivestack.planning.stop_signs import (
        RouteSignStop,
        SignDecision,
        StopSignRule,
        route_sign_stops,
    )
    from drivestack.planning.traffic_lights import (
        LightDecision,
        LightStopRule,
        RouteLightStop,
        route_light_stops,
    )

__all__ = [
    "ACCParams",
    "IDMParams",
    "IDMPlanner",
    "LightDecision",
    "LightStopRule",
    "PDMParams",
    "PDMPlanner",
    "PlanDebug",
    "ReferencePath",
    "RouteLightStop",
    "RouteSignStop",
    "SignDecision",
    "StopSignRule",
    "TrackerParams",
    "TrajectoryTracker",
    "route_light_stops",
    "route_sign_stops",
]
_MODULES = {"ACCParams": "idm", "IDMParams": "idm", "ReferencePath": "reference_path"}
_MODULES |= dict.fromkeys(("IDMPlanner", "PDMParams", "PDMPlanner", "PlanDebug"), "pdm")
_MODULES |= dict.fromkeys(("TrackerParams", "TrajectoryTracker"), "control")
_MODULES |= dict.fromkeys(
    ("LightDecision", "LightStopRule", "RouteLightStop", "route_light_stops"), "traffic_lights"
)
_MODULES |= dict.fromkeys(
    ("RouteSignStop", "SignDecision", "StopSignRule", "route_sign_stops"), "stop_signs"
)
__getattr__ = lazy_exports(__name__, _MODULES)
