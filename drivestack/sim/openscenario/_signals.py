"""Traffic signals: ``RoadNetwork/TrafficSignals`` controllers and the storyboard's signal
actions -> the scenario's ``traffic_lights`` block; the storyboard's signal conditions refused.

A ``TrafficSignalController`` shows its ``Phase`` s one after the other, each for its
``duration``, and starts over after the last (the signal cycle). Each ``TrafficSignalState`` of
a phase gives one signal's state during that phase; the signal (``trafficSignalId``) is a
dynamic ``<signal>`` of the OpenDRIVE road network, a light of the map
(:mod:`drivestack.ingest.maps._opendrive_signals`: the signal's ``id``). Every signal a
controller names gets, as its cycle, its states over the controller's phases (zero-length
phases, never shown, left out; neighbouring phases of one state joined, unless a storyboard
action sends the controller to a phase: below), starting when the controller's first phase
starts:

- OpenSCENARIO 1.x (``TrafficSignalController``'s ``delay`` and ``reference``): "a controller
  having a delay to another one means that its first phase virtually starts delay seconds after
  the start of the reference's first phase" (a progressive signal system, meaningful when the
  cycles are equally long); the standard sets ``delay`` (s, >= 0) and ``reference`` together.
  drivestack reads a ``delay`` without a ``reference`` from the start of the run, and a
  ``reference`` without a ``delay`` as a delay of 0 s; a controller with neither starts its
  first phase at t = 0. References are followed to the controller at their root, which starts
  at its own ``delay`` (0 when none), and the delays along the way are added (a reference to
  no controller, or a loop, is refused).
- "Virtually": a cycle is periodic, so before its start the controller shows what its cycle
  shows there, run backwards (the YAML block's ``offset_s`` is the start; CommonRoad's rule,
  :class:`~drivestack.structures.traffic_light.SignalCycle`): a delay shifts the cycle, it does
  not leave the lights dark until then.

States: OpenSCENARIO leaves their notation to the simulator. Read are drivestack's names
(:data:`NAMED_STATES`) and esmini's lamp triplets ``"red;yellow;green"``, each lamp ``on`` or
``off`` (esmini's ``resources/xosc/traffic_lights.xosc``: ``on;off;off`` red, ``off;on;off``
yellow, ``off;off;on`` green), in :data:`LAMP_STATES` (``on;on;off`` red-yellow, ``off;off;off``
off); case and spaces around the ``;`` do not matter.

Refused (:class:`~drivestack.core.errors.ConfigError` naming the file, the controller, the phase
and the field): another state string (a two-lamp pedestrian ``on;off`` included), a signal id
that is not one of the map's lights, a signal in two controllers, twice in one phase, or
missing from one of its controller's phases, a negative duration or delay, a duration or
delay the cycles cannot hold (a phase of under 1 ns but not 0, a phase, a controller's period,
a delay or a start of 2**62 ns (146 years) or more:
:func:`~drivestack.structures.traffic_light.duration_problem`, ``period_problem``,
``offset_problem``), a controller whose phases last 0 s in all, two controllers (or two phases
of one) of one name, an empty or white-space ``trafficSignalId`` or ``reference``
(:meth:`_Doc.name_ref`: a name that must resolve), and what else the standard allows there
(``TrafficSignalGroupState``, any other element). A controller or phase with an empty name is
read (the XSD's ``String`` allows it); no action can refer to it.

Storyboard signal actions (``GlobalAction/InfrastructureAction/TrafficSignalAction``), each at
one time: in the ``Init`` at t = 0, in a story ``Event`` at its start trigger's
``SimulationTimeCondition`` (``greaterThan`` / ``greaterOrEqual``, plus the condition's
``delay``; no trigger: when its act starts; never before its act, nor before t = 0):

- ``TrafficSignalStateAction`` (``name``: the signal id, a light of the map; ``state``: read as
  a phase's state): from then on the light shows that state, until a later signal action for
  it or its controller (the standard does not say how long a set state lasts; drivestack holds
  it: the controller's cycle no longer drives the light).
- ``TrafficSignalControllerAction`` (``trafficSignalControllerRef``, ``phase``: a controller of
  ``RoadNetwork/TrafficSignals`` and one of its phases' names): the controller enters that
  phase then and goes on through its phases from there, for every signal it controls (its
  ``delay`` and ``reference`` no longer matter; a light set by a state action before follows
  its controller again).

Actions at one time are taken in file order (the ``Init``, then the stories), the later
winning. A light such an action changes gets them as its ``traffic_lights`` entry's
``switches`` (:class:`~drivestack.structures.traffic_light.SignalSwitch`, in time order): a
state action as ``{at_s, state}``, held for the rest of the run however long it runs (a
fleet sweep that lengthens the run included); a controller action as ``{at_s, phase}``, the
index of the controller's phase in the light's ``phases``, which for the lights of a
controller that some action sends to a phase are the controller's phases one for one (those
of 0 s left out; a controller action to one of those starts the phase after it), not joined
by state; a light no controller drives holds ``unknown`` until its first switch (``phases:
[[unknown, 1.0]]``). A light no action touches keeps its controller's cycle. The maneuver
group of an event of signal actions only needs no actors, and such an event stops none of its
maneuver's other events (an ``overwrite`` priority is for the actors' actions). Refused,
naming the element and the field: an unknown signal, state, controller or phase, a signal
action's time of 2**62 ns or more
(:func:`~drivestack.structures.traffic_light.switch_time_problem`), and an event of signal
actions started by any
other condition (a distance, an entity's or a storyboard element's state, another
by-value condition: the error names the condition's kind), which would make the switch depend
on the run. A ``TrafficSignalCondition`` or ``TrafficSignalControllerCondition`` in any trigger
is refused by name (:func:`refuse_signal_conditions`): start the event at the time the light
changes instead.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from drivestack.sim.build import light_ids_in_words
from drivestack.sim.openscenario._document import (
    _act_start_s,
    _condition_kind,
    _Doc,
    _one_condition,
    _sim_time_s,
    _where,
)
from drivestack.structures.road_map import RoadMap
from drivestack.structures.traffic_light import (
    duration_problem,
    offset_problem,
    period_problem,
    switch_time_problem,
)

#: drivestack's state names read as they are.
NAMED_STATES = ("green", "yellow", "red", "red_yellow", "off")
#: esmini's lamp triplets (red, yellow, green lamps, each on or off) -> drivestack states.
LAMP_STATES = {
    ("on", "off", "off"): "red",
    ("off", "on", "off"): "yellow",
    ("off", "off", "on"): "green",
    ("on", "on", "off"): "red_yellow",
    ("off", "off", "off"): "off",
}

_ROOT = "RoadNetwork/TrafficSignals"
#: What a signal id refers to, for :meth:`_Doc.name_ref`'s errors.
_LIGHT = "traffic light (a dynamic OpenDRIVE <signal>'s id)"
#: Storyboard conditions that watch a light during the run -> what they would wait for.
_REFUSED = {
    "TrafficSignalCondition": "waits for a signal's state",
    "TrafficSignalControllerCondition": "waits for a controller's phase",
}
_NAMED = ("Story", "Act", "ManeuverGroup", "Maneuver", "Event", "Action", "Condition")


@dataclass(frozen=True)
class _Phase:
    name: str
    duration_s: float
    states: dict[str, str]  # signal id -> drivestack state
    where: str


@dataclass(frozen=True)
class _Controller:
    name: str
    delay_s: float
    reference: str | None
    phases: tuple[_Phase, ...]
    where: str


def signal_state(doc: _Doc, text: str, where: str) -> str:
    """A ``TrafficSignalState``'s ``state`` -> a drivestack state (module docstring)."""
    lamps = tuple(part.strip().lower() for part in text.split(";"))
    if len(lamps) == 1 and lamps[0] in NAMED_STATES:
        return lamps[0]
    if lamps in LAMP_STATES:
        return LAMP_STATES[lamps]
    triplets = ", ".join(f"{';'.join(k)} ({v})" for k, v in LAMP_STATES.items())
    raise doc.error(
        f"unknown signal state {text!r}: read are {', '.join(NAMED_STATES)} and esmini's "
        f"red;yellow;green lamp triplets {triplets}",
        f"{where}@state",
    )


def _check_light(doc: _Doc, road_map: RoadMap, signal: str, where: str) -> None:
    """``ConfigError`` at ``where`` unless ``signal`` is a light of ``road_map`` (a dynamic
    OpenDRIVE ``<signal>``'s id)."""
    if all(light.light_id != signal for light in road_map.traffic_lights):
        raise doc.error(
            f"no traffic light {signal!r} in the road network (a dynamic OpenDRIVE "
            f"<signal>'s id; {light_ids_in_words(road_map)})",
            where,
        )


def _phase(doc: _Doc, el: ET.Element, road_map: RoadMap, where: str) -> _Phase:
    name = doc.text(el, "name", where)
    where = f"{where}/Phase/{name}"
    duration_s = doc.number(el, "duration", where)
    if duration_s < 0.0:
        raise doc.error(f"a phase lasts >= 0 s, got {duration_s}", f"{where}@duration")
    problem = duration_problem(duration_s) if duration_s > 0.0 else None
    if problem is not None:
        raise doc.error(f"a phase's duration {problem}", f"{where}@duration")
    states: dict[str, str] = {}
    for child in el:
        if child.tag != "TrafficSignalState":
            raise doc.error(
                f"{child.tag} is not read: give each signal's state by a TrafficSignalState",
                where,
            )
        signal = doc.name_ref(child, "trafficSignalId", f"{where}/TrafficSignalState", _LIGHT)
        state_where = f"{where}/TrafficSignalState[{signal}]"
        _check_light(doc, road_map, signal, f"{state_where}@trafficSignalId")
        if signal in states:
            raise doc.error(f"signal {signal!r} is given twice in the phase", state_where)
        states[signal] = signal_state(doc, doc.text(child, "state", state_where), state_where)
    return _Phase(name, duration_s, states, where)


def _controllers(doc: _Doc, road_map: RoadMap) -> dict[str, _Controller]:
    """The file's controllers by name, their phases read and checked."""
    out: dict[str, _Controller] = {}
    for block in doc.root.findall(_ROOT):
        for el in block:
            if el.tag != "TrafficSignalController":
                raise doc.error(f"{el.tag} is not read (TrafficSignalController)", _ROOT)
            name = doc.text(el, "name", f"{_ROOT}/TrafficSignalController")
            where = f"{_ROOT}/TrafficSignalController/{name}"
            if name in out:
                raise doc.error(f"a second controller named {name!r}", f"{where}@name")
            delay_s = doc.number(el, "delay", where, default=0.0)
            if delay_s < 0.0:
                raise doc.error(f"a delay is >= 0 s, got {delay_s}", f"{where}@delay")
            problem = offset_problem(delay_s)
            if problem is not None:
                raise doc.error(f"a delay {problem}", f"{where}@delay")
            reference = (
                doc.name_ref(el, "reference", where, "TrafficSignalController")
                if el.get("reference") is not None
                else None
            )
            phases: list[_Phase] = []
            for child in el:
                if child.tag != "Phase":
                    raise doc.error(f"{child.tag} is not read (Phase)", where)
                phase = _phase(doc, child, road_map, where)
                if any(p.name == phase.name for p in phases):
                    raise doc.error(f"a second phase named {phase.name!r}", f"{phase.where}@name")
                phases.append(phase)
            if phases and sum(p.duration_s for p in phases) <= 0.0:
                raise doc.error("its phases last 0 s in all: a cycle needs time", where)
            problem = period_problem([p.duration_s for p in phases if p.duration_s > 0.0])
            if problem is not None:
                raise doc.error(f"its phases: {problem}", f"{where}/Phase@duration")
            out[name] = _Controller(name, delay_s, reference, tuple(phases), where)
    return out


def _start_s(doc: _Doc, controllers: dict[str, _Controller], name: str) -> float:
    """When controller ``name``'s first phase starts: its delay after its reference's start
    (followed to the root), or after t = 0 without a reference."""
    start_s, seen = 0.0, [name]
    controller = controllers[name]
    while True:
        start_s += controller.delay_s
        problem = offset_problem(start_s)
        if problem is not None:  # each delay is within range, their sum along the chain not
            raise doc.error(
                f"its start (the delays along {' -> '.join(seen)}) {problem}",
                f"{controllers[name].where}@delay",
            )
        if controller.reference is None:
            return start_s
        if controller.reference not in controllers:
            raise doc.error(
                f"no controller {controller.reference!r} to refer to "
                f"(known: {', '.join(sorted(controllers))})",
                f"{controller.where}@reference",
            )
        if controller.reference in seen:
            loop = " -> ".join([*seen, controller.reference])
            raise doc.error(f"the references loop: {loop}", f"{controller.where}@reference")
        seen.append(controller.reference)
        controller = controllers[controller.reference]


def _base_phases(
    doc: _Doc, controllers: dict[str, _Controller], one_for_one: set[str]
) -> dict[str, tuple[list[list[Any]], float, str]]:
    """Each controlled signal -> its cycle's phases (``[[state, duration_s], ...]``), the
    offset its first phase starts at and its controller's name, in controller then
    first-mention order. Phases of 0 s are left out, and neighbouring phases of one state
    joined, except for the controllers in ``one_for_one`` (sent to a phase by a storyboard
    action: a signal's phases are then the controller's, one for one)."""
    out: dict[str, tuple[list[list[Any]], float, str]] = {}
    for controller in controllers.values():
        start_s = _start_s(doc, controllers, controller.name)
        signals = list(dict.fromkeys(s for p in controller.phases for s in p.states))
        for signal in signals:
            if signal in out:
                raise doc.error(
                    f"signal {signal!r} is controlled by {out[signal][2]!r} already: a signal "
                    "belongs to one controller",
                    f"{controller.where}/Phase",
                )
            phases: list[list[Any]] = []
            for phase in controller.phases:
                if signal not in phase.states:
                    raise doc.error(
                        f"no state for signal {signal!r}, which other phases of the controller "
                        "give: give it in every phase",
                        phase.where,
                    )
                if phase.duration_s == 0.0:
                    continue
                state = phase.states[signal]
                if phases and phases[-1][0] == state and controller.name not in one_for_one:
                    phases[-1][1] += phase.duration_s
                else:
                    phases.append([state, phase.duration_s])
            out[signal] = (phases, start_s, controller.name)
    return out


def traffic_lights(doc: _Doc, road_map: RoadMap) -> list[dict[str, Any]]:
    """The ``traffic_lights`` block (``[{id, phases: [[state, duration_s], ...], offset_s}]``,
    a switched light with its ``switches``: ``[{at_s, state} | {at_s, phase}, ...]``; in
    controller then first-mention order, then the signals only storyboard actions set) for the
    file's signal controllers and the storyboard's signal actions on ``road_map`` (the
    OpenDRIVE network's lights; module docstring); ``[]`` without controllers or signal
    actions."""
    controllers = _controllers(doc, road_map)
    found = _switches(doc, road_map, controllers)
    base = _base_phases(doc, controllers, {w.controller for w in found if w.state is None})
    switches: dict[str, list[dict[str, Any]]] = {}
    for switch in found:
        if switch.state is not None:
            switches.setdefault(switch.signal, []).append(
                {"at_s": switch.time_s, "state": switch.state}
            )
            continue
        for signal, (_, _, owner) in base.items():
            if owner == switch.controller:
                switches.setdefault(signal, []).append(
                    {"at_s": switch.time_s, "phase": switch.phase}
                )
    out: list[dict[str, Any]] = []
    for signal in [*base, *(s for s in switches if s not in base)]:
        phases, start_s = base[signal][:2] if signal in base else ([["unknown", 1.0]], 0.0)
        light: dict[str, Any] = {"id": signal, "phases": phases, "offset_s": start_s}
        if signal in switches:  # in time order; at one time in file order (the later wins)
            light["switches"] = sorted(switches[signal], key=lambda w: w["at_s"])
        out.append(light)
    return out


@dataclass(frozen=True)
class _Switch:
    """A storyboard signal action: at ``time_s``, signal ``signal`` to ``state``, or
    controller ``controller`` to the ``phase``-th of its phases that last (> 0 s)."""

    time_s: float
    where: str
    signal: str = ""
    state: str | None = None
    controller: str = ""
    phase: int = 0


def signal_actions(event: ET.Element) -> list[tuple[ET.Element, str]]:
    """The event's ``TrafficSignalAction`` s (under ``Action/GlobalAction/
    InfrastructureAction``), each with its path below the event (``Action/<name>/...``)."""
    path = "GlobalAction/InfrastructureAction/TrafficSignalAction"
    return [
        (found, f"Action/{action.get('name', '?')}/{path}")
        for action in event.iterfind("Action")
        if (found := action.find(path)) is not None
    ]


def signals_only(event: ET.Element) -> bool:
    """Whether every action of ``event`` is a traffic-signal action (:func:`signal_actions`;
    :mod:`._story` leaves such an event, and a group of them, to this module)."""
    actions = event.findall("Action")
    return bool(actions) and len(signal_actions(event)) == len(actions)


def _switch(
    doc: _Doc,
    action: ET.Element,
    time_s: float,
    where: str,
    road_map: RoadMap,
    controllers: dict[str, _Controller],
) -> _Switch:
    """One ``TrafficSignalAction`` at ``time_s`` (s, >= 0) -> a :class:`_Switch`."""
    kinds = [child.tag for child in action]
    if len(kinds) != 1 or kinds[0] not in (
        "TrafficSignalStateAction",
        "TrafficSignalControllerAction",
    ):
        raise doc.error(
            f"a TrafficSignalAction holds one TrafficSignalStateAction or "
            f"TrafficSignalControllerAction, got {kinds}",
            where,
        )
    el = action[0]
    where = f"{where}/{el.tag}"
    if el.tag == "TrafficSignalStateAction":
        signal = doc.name_ref(el, "name", where, _LIGHT)
        _check_light(doc, road_map, signal, f"{where}@name")
        state = signal_state(doc, doc.text(el, "state", where), where)
        return _Switch(time_s, where, signal=signal, state=state)
    name = doc.name_ref(el, "trafficSignalControllerRef", where, "TrafficSignalController")
    if name not in controllers:
        known = ", ".join(sorted(controllers)) or "none"
        raise doc.error(
            f"no TrafficSignalController {name!r} in RoadNetwork/TrafficSignals (known: {known})",
            f"{where}@trafficSignalControllerRef",
        )
    phase = doc.name_ref(el, "phase", where, f"phase of controller {name!r}")
    names = [p.name for p in controllers[name].phases]
    if phase not in names:
        raise doc.error(
            f"controller {name!r} has no phase {phase!r} (its phases: {', '.join(names)})",
            f"{where}@phase",
        )
    # a phase of 0 s is never shown: the controller goes on to the next that lasts (the first
    # after the last)
    lasting = [p.duration_s > 0.0 for p in controllers[name].phases]
    index = sum(lasting[: names.index(phase)]) % sum(lasting)
    return _Switch(time_s, where, controller=name, phase=index)


def _switches(doc: _Doc, road_map: RoadMap, controllers: dict[str, _Controller]) -> list[_Switch]:
    """The storyboard's signal actions, the ``Init``'s at t = 0, then every story event's at
    its ``SimulationTimeCondition`` (no earlier than its act, nor t = 0), in file order."""
    out: list[_Switch] = []
    init = "Storyboard/Init/Actions/GlobalAction"
    for k, glob in enumerate(doc.root.iterfind(init)):
        for action in glob.iterfind("InfrastructureAction/TrafficSignalAction"):
            where = f"{init}[{k}]/InfrastructureAction/TrafficSignalAction"
            out.append(_switch(doc, action, 0.0, where, road_map, controllers))
    for act in doc.root.iterfind("Storyboard/Story/Act"):
        act_where = _where("Act", act.get("name", "?"))
        act_time_s = _act_start_s(doc, act, act_where)
        for event in act.iterfind("ManeuverGroup/Maneuver/Event"):
            actions = signal_actions(event)
            if not actions:
                continue
            where = _where(act_where, "Event", event.get("name", "?"))
            time_s = act_time_s
            trigger = event.find("StartTrigger")
            if trigger is not None:
                cond = _one_condition(doc, trigger, f"{where}/StartTrigger")
                found = _sim_time_s(doc, cond, f"{where}/StartTrigger")
                if found is None:
                    kinds = "/".join(dict.fromkeys(c.tag for a, _ in actions for c in a))
                    raise doc.error(
                        f"a {kinds or 'TrafficSignalAction'} started by a "
                        f"{_condition_kind(cond)} is not read: a signal action is read at a "
                        "SimulationTimeCondition (greaterThan / greaterOrEqual) only",
                        f"{where}/StartTrigger",
                    )
                time_s = max(time_s, found)
            problem = switch_time_problem(max(time_s, 0.0))
            if problem is not None:
                raise doc.error(
                    f"a signal action's time (its act's start or its trigger's) {problem}",
                    f"{where}/StartTrigger",
                )
            for action, below in actions:
                out.append(
                    _switch(
                        doc, action, max(time_s, 0.0), f"{where}/{below}", road_map, controllers
                    )
                )
    return out


def _walk(el: ET.Element, where: str) -> Iterator[tuple[ET.Element, str]]:
    """``(element, where)`` for every element below ``el``, ``where`` naming the storyboard
    elements (``Act/<name>/Event/<name>/...``) on the way down."""
    for child in el:
        here = f"{where}/{child.tag}"
        if child.tag in _NAMED:
            here += f"/{child.get('name', '?')}"
        yield child, here
        yield from _walk(child, here)


def refuse_signal_conditions(doc: _Doc) -> None:
    """``ConfigError`` naming the element for the first storyboard condition that watches a
    light during the run (module docstring)."""
    storyboard = doc.root.find("Storyboard")
    if storyboard is None:
        return
    for el, where in _walk(storyboard, "Storyboard"):
        if el.tag not in _REFUSED:
            continue
        detail = ", ".join(f"{k}={v!r}" for k, v in el.attrib.items())
        raise doc.error(
            f"{el.tag} ({detail}) {_REFUSED[el.tag]}: that is not read; start the event on "
            "the SimulationTimeCondition at which the light changes",
            where,
        )
