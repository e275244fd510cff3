"""Traffic signals: ``RoadNetwork/TrafficSignals`` controllers -> the scenario's
``traffic_lights`` block, and the storyboard's traffic-signal actions and conditions refused.

A ``TrafficSignalController`` shows its ``Phase`` s one after the other, each for its
``duration``, and starts over after the last (the signal cycle). Each ``TrafficSignalState`` of
a phase gives one signal's state during that phase; the signal (``trafficSignalId``) is a
dynamic ``<signal>`` of the OpenDRIVE road network, a light of the map
(:mod:`drivestack.ingest.maps._opendrive_signals`: the signal's ``id``). Every signal a
controller names gets, as its cycle, its states over the controller's phases (zero-length
phases, never shown, left out; neighbouring phases of one state joined), starting when the
controller's first phase starts:

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
``offset_problem``), a controller whose phases last 0 s in all, two controllers (or two phases of one) of one name, and what else the
standard allows there (``TrafficSignalGroupState``, any other element). Changing a light during the run is not read:
the storyboard's ``TrafficSignalStateAction`` and ``TrafficSignalControllerAction`` (anywhere,
the ``Init`` included) and a trigger on a ``TrafficSignalCondition`` or
``TrafficSignalControllerCondition`` are refused by name (:func:`refuse_signal_storyboard`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from drivestack.sim.build import light_ids_in_words
from drivestack.sim.openscenario._document import _Doc
from drivestack.structures.road_map import RoadMap
from drivestack.structures.traffic_light import duration_problem, offset_problem, period_problem

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
#: Storyboard elements that change or watch a light during the run -> what they would do.
_REFUSED = {
    "TrafficSignalStateAction": "sets a signal's state during the run",
    "TrafficSignalControllerAction": "switches a controller to another phase during the run",
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


def _phase(doc: _Doc, el: ET.Element, lights: set[str], road_map: RoadMap, where: str) -> _Phase:
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
        signal = doc.text(child, "trafficSignalId", where)
        state_where = f"{where}/TrafficSignalState[{signal}]"
        if signal not in lights:
            raise doc.error(
                f"no traffic light {signal!r} in the road network (a dynamic OpenDRIVE "
                f"<signal>'s id; {light_ids_in_words(road_map)})",
                f"{state_where}@trafficSignalId",
            )
        if signal in states:
            raise doc.error(f"signal {signal!r} is given twice in the phase", state_where)
        states[signal] = signal_state(doc, doc.text(child, "state", state_where), state_where)
    return _Phase(name, duration_s, states, where)


def _controllers(doc: _Doc, road_map: RoadMap) -> dict[str, _Controller]:
    """The file's controllers by name, their phases read and checked."""
    lights = {light.light_id for light in road_map.traffic_lights}
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
            reference = doc.text(el, "reference", where) if el.get("reference") else None
            phases: list[_Phase] = []
            for child in el:
                if child.tag != "Phase":
                    raise doc.error(f"{child.tag} is not read (Phase)", where)
                phase = _phase(doc, child, lights, road_map, where)
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


def traffic_lights(doc: _Doc, road_map: RoadMap) -> list[dict[str, Any]]:
    """The ``traffic_lights`` block (``[{id, phases: [[state, duration_s], ...], offset_s}]``,
    in controller then first-mention order) for the file's signal controllers on
    ``road_map`` (the OpenDRIVE network's lights); ``[]`` without controllers."""
    controllers = _controllers(doc, road_map)
    owner: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for controller in controllers.values():
        start_s = _start_s(doc, controllers, controller.name)
        signals = list(dict.fromkeys(s for p in controller.phases for s in p.states))
        for signal in signals:
            if signal in owner:
                raise doc.error(
                    f"signal {signal!r} is controlled by {owner[signal]!r} already: a signal "
                    "belongs to one controller",
                    f"{controller.where}/Phase",
                )
            owner[signal] = controller.name
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
                if phases and phases[-1][0] == state:
                    phases[-1][1] += phase.duration_s
                else:
                    phases.append([state, phase.duration_s])
            out.append({"id": signal, "phases": phases, "offset_s": start_s})
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


def refuse_signal_storyboard(doc: _Doc) -> None:
    """``ConfigError`` naming the element for the first storyboard action or condition that
    changes or watches a light during the run (module docstring)."""
    storyboard = doc.root.find("Storyboard")
    if storyboard is None:
        return
    for el, where in _walk(storyboard, "Storyboard"):
        if el.tag not in _REFUSED:
            continue
        detail = ", ".join(f"{k}={v!r}" for k, v in el.attrib.items())
        raise doc.error(
            f"{el.tag} ({detail}) {_REFUSED[el.tag]}: that is not read; give the lights' "
            "cycles as RoadNetwork/TrafficSignals/TrafficSignalController phases (and start "
            "events on the SimulationTimeCondition of the change)",
            where,
        )
