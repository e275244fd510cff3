"""The storyboard's events: each actor's speed events and lateral shifts, in start order.

:class:`_Story` reads every ``Event`` of the ``Story`` / ``Act`` / ``ManeuverGroup`` tree into
:class:`_Pending` items with their :class:`_Start`, applies them in the order they start (speed
changes, lane changes, lane offsets) and keeps what each event left :class:`_Running` so an
event of priority overwrite can stop it; what is not known when reading is refused.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, overload

from drivestack.sim.openscenario._document import (
    _act_start_s,
    _condition_kind,
    _Doc,
    _one_condition,
    _sim_time_s,
    _where,
)
from drivestack.sim.openscenario._entities import _Entity
from drivestack.sim.openscenario._lanes import _lane_beside, _lateral_of, _length_m, _same_direction
from drivestack.sim.openscenario._signals import signals_only
from drivestack.sim.openscenario._speed import (
    _STEP_ACCEL_MPS2,
    _acting,
    _dimension,
    _needs_start_speed,
    _rate_mps2,
    _shape,
    _speed_at,
)
from drivestack.sim.vehicle import VehicleParams
from drivestack.structures.road_map import RoadMap


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
            act_time_s = _act_start_s(self.doc, act, act_where)
            for group in act.iterfind("ManeuverGroup"):
                group_where = _where(act_where, "ManeuverGroup", group.get("name", "?"))
                if group.find("CatalogReference") is not None:
                    raise self.doc.error("maneuvers from a catalogue are not read", act_where)
                events = list(group.iterfind("Maneuver/Event"))
                for event in events:  # before the actors: none needed
                    self._refuse_global(event, _where(act_where, "Event", event.get("name", "?")))
                if events and all(signals_only(event) for event in events):
                    continue  # lights only (._signals): no actors needed
                actors = self._actors(group, group_where)
                for k, maneuver in enumerate(group.iterfind("Maneuver")):
                    scope = f"{group_where}/Maneuver/{k}"
                    for event in maneuver.iterfind("Event"):
                        if signals_only(event):
                            continue  # ._signals reads it; it stops none of the actors' events
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

    def _refuse_global(self, event: ET.Element, where: str) -> None:
        """``ConfigError`` naming the kinds of the event's global and user-defined actions."""
        kinds = [
            "/".join([a.tag, *(c.tag for c in a[:1])])
            for a in event.iterfind("Action/*")
            if a.tag in ("GlobalAction", "UserDefinedAction")
            and a.find("InfrastructureAction/TrafficSignalAction") is None  # ._signals reads it
        ]
        if kinds:
            raise self.doc.error(
                f"global and user-defined actions are not read, got {kinds}", where
            )

    def _actors(self, group: ET.Element, where: str) -> list[str]:
        actors_el = group.find("Actors")
        select = "false" if actors_el is None else actors_el.get("selectTriggeringEntities", "")
        if select.lower() == "true":
            raise self.doc.error(
                'selectTriggeringEntities="true" is not read: name the actors by EntityRef',
                f"{where}/Actors",
            )
        actors = [
            self.doc.name_ref(ref, "entityRef", where, "entity")
            for ref in group.iterfind("Actors/EntityRef")
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
        delayed = doc.number(cond, "delay", where, default=0.0) != 0.0  # "0.00", "$D" too
        if by_entity is None or distance is None or delayed:
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
            doc.name_ref(e, "entityRef", where, "entity")
            for e in by_entity.iterfind("TriggeringEntities/EntityRef")
        }
        pair.add(doc.name_ref(distance, "entityRef", where, "entity"))
        if pair != {actor, self.ego.name}:
            raise doc.error(
                f"the distance condition must be between the actor {actor!r} and the ego "
                f"{self.ego.name!r}, got {sorted(pair)}",
                where,
            )
        if doc.text(distance, "rule", where) not in ("lessThan", "lessOrEqual"):
            raise doc.error("a distance condition is read with lessThan / lessOrEqual", where)
        value = doc.number(distance, "value", where)
        freespace = doc.boolean(distance, "freespace", where, default=False)
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
        goal = doc.absolute_value(speed, "SpeedActionTarget/AbsoluteTargetSpeed", where)
        dyn = doc.one(speed, "SpeedActionDynamics", where)
        if _needs_start_speed(doc, dyn, where):
            before: float | None = self._start_speed(item, "a SpeedAction over a time or distance")
        else:
            before = self._start_speed(item, None)
        if before is None:  # a rate or a step (the simulator finds the sign from the speed)
            value = abs(doc.number(dyn, "value", where))
            shape = _shape(doc, dyn, where)
            if shape != "step" and value == 0.0 and _dimension(doc, dyn, where) == "rate":
                raise doc.error(  # (as _rate_mps2 refuses it where the start speed is known)
                    "a rate of 0 never reaches the target speed; for a change at once give "
                    'dynamicsShape="step"',
                    where,
                )
            step = shape == "step" or value == 0.0
            rate = _STEP_ACCEL_MPS2 if step else value
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

    def _lane_change_duration_s(self, dyn: ET.Element, item: _Pending) -> float:
        where = item.where
        value = self.doc.number(dyn, "value", where)
        _shape(self.doc, dyn, where)  # not read (a lane change runs its own curve), but checked
        dimension = _dimension(self.doc, dyn, where)  # parameters resolved, as speed actions
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
            if doc.name_ref(relative, "entityRef", where, "entity") != entity.name:
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
        in_lane = doc.absolute_value(action, "LaneOffsetTarget/AbsoluteTargetLaneOffset", where)
        dyn = doc.one(action, "LaneOffsetActionDynamics", where)
        max_lat_accel = doc.number(dyn, "maxLateralAcc", where, default=1.0)
        # the offset is from the centre of the lane the actor is in now (after lane changes);
        # the simulator's offsets are from its start lane's centre
        offset = _lateral_of(self.road_map, entity, self._lane[entity.name]) + in_lane
        before, self._offset[entity.name] = self._offset[entity.name], offset
        # the cosine blend's peak lateral acceleration is pi^2 / 2 * |change| / duration^2
        duration = math.pi * math.sqrt(max(abs(offset - before), 1e-3) / (2.0 * max_lat_accel))
        return {**item.start.keys(), "duration_s": duration, "offset_m": offset}
