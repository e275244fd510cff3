"""OpenDRIVE dynamic signals (``<signal dynamic="yes">``) -> traffic lights on the lanes
:mod:`drivestack.ingest.maps.opendrive` builds.

Each dynamic signal is one light, with the signal's id. It stops traffic where it stands (its
road's ``s``) and wherever a ``<signalReference>`` on another road names it, on the lanes
there that it is valid for:

- **Orientation**: ``+`` is valid for traffic driving along the reference line (increasing
  s), ``-`` for traffic driving against it, ``none`` for both;
- **Validity**: with ``<validity fromLane toLane>`` records, only lanes whose id lies in one
  of their ranges (``0`` is the centre lane, so ``0``-``0`` gives no lane); without, every
  lane of the road at ``s`` in that direction;
- **Lanes**: the vehicle lanes of the lane section at ``s``; where ``s`` is the border of two
  sections, the section whose lanes the direction of travel drives up to the border (the
  section before it for ``+``, after it for ``-``);
- **Station**: where the road's reference-line point at ``s`` projects onto the lane's
  centreline (the lane's end when the signal stands at the end of its drive).

OpenDRIVE does not say what a signal shows (phases live in the scenario): cycle ``None``. Its
top-level ``<controller id name><control signalId/>...</controller>`` s group the signals that
switch together: a light's ``controller_id`` is the id of the controller with a ``<control>``
naming its signal (``None`` when none does; :func:`read_controllers`). ``position_m`` is the map-frame ``(x, y)`` of the
signal's point ``(s, t)`` on its road (``t`` metres left of the reference line at ``s``).
Malformed input (an ``s`` off the road, an unknown ``orientation``, a ``fromLane`` /
``toLane`` that is not an integer, a repeated dynamic signal id, a ``signalReference`` to a
signal the file does not have; a controller without ``id``, a repeated controller id, a
``<control>`` whose ``signalId`` is no signal of the file or a static one (a sign), or a signal
two controllers control) is a :class:`DataError` naming the road or controller and the field.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace

import numpy as np

from drivestack.ingest.maps._opendrive_records import Reader, Road
from drivestack.ingest.maps.opendrive_geometry import offset_points, reference_line
from drivestack.structures.road_map import Lane
from drivestack.structures.traffic_light import LaneStop, TrafficLight

#: ``orientation`` -> whether the signal is valid for traffic along the reference line and
#: for traffic against it.
ORIENTATIONS = {"+": (True, False), "-": (False, True), "none": (True, True)}


@dataclass(frozen=True)
class SignalPlacement:
    """Where a dynamic signal ``signal_id`` applies: road ``road_id`` at ``s_m``, for the
    directions ``orientation`` names and the lanes in the ``validity`` ranges (every lane when
    empty); ``t_m`` left of the reference line (the signal itself; a reference's own ``t``)."""

    signal_id: str
    road_id: str
    s_m: float
    t_m: float
    orientation: str
    validity: tuple[tuple[int, int], ...]
    reference: bool  # a <signalReference>, not the signal itself

    def valid_for(self, lane_id: int) -> bool:
        """Whether the signal is valid for lane ``lane_id`` (its ``validity`` ranges)."""
        return not self.validity or any(lo <= lane_id <= hi for lo, hi in self.validity)


def _placement(rd: Reader, el: ET.Element, road: Road, reference: bool) -> SignalPlacement:
    record = f"road {road.road_id} {el.tag} {el.get('id', '?')}"
    signal_id = rd.text(el, "id", record)
    s_m = rd.number(el, "s", record)
    if not -1e-6 <= s_m <= road.length_m + 1e-6:
        raise rd.error(
            f"s {s_m} m is off the road (length {road.length_m:.2f} m)", record, f"{el.tag}@s"
        )
    orientation = el.get("orientation", "none").strip()
    if orientation not in ORIENTATIONS:
        raise rd.error(
            f"orientation must be +, - or none, got {orientation!r}",
            record,
            f"{el.tag}@orientation",
        )
    validity = []
    for v in el.findall("validity"):
        lo, hi = rd.lane_id(v, "fromLane", record), rd.lane_id(v, "toLane", record)
        validity.append((min(lo, hi), max(lo, hi)))
    return SignalPlacement(
        signal_id,
        road.road_id,
        min(max(s_m, 0.0), road.length_m),
        rd.number(el, "t", record, default=0.0),
        orientation,
        tuple(validity),
        reference,
    )


def read_signals(
    root: ET.Element, rd: Reader, roads: dict[str, Road]
) -> tuple[SignalPlacement, ...]:
    """The dynamic signals of the file's roads and the ``<signalReference>`` s to them, in
    file order (references to static signals, i.e. signs, are left out)."""
    signals: list[SignalPlacement] = []
    references: list[SignalPlacement] = []
    dynamic: set[str] = set()
    static: set[str] = set()
    for road_el in root.findall("road"):
        road = roads[rd.text(road_el, "id", "road")]
        for el in road_el.findall("signals/signal"):
            if el.get("dynamic", "no").strip() != "yes":
                static.add(el.get("id", ""))
                continue
            placed = _placement(rd, el, road, reference=False)
            if placed.signal_id in dynamic:
                raise rd.error(
                    f"repeated dynamic signal id {placed.signal_id!r}",
                    f"road {road.road_id}",
                    "signal@id",
                )
            signals.append(placed)
            dynamic.add(placed.signal_id)
        references += [
            _placement(rd, el, road, reference=True)
            for el in road_el.findall("signals/signalReference")
        ]
    for ref in references:
        if ref.signal_id not in dynamic and ref.signal_id not in static:
            raise rd.error(
                f"refers to signal {ref.signal_id!r}, which the file does not have",
                f"road {ref.road_id}",
                "signalReference@id",
            )
    return tuple(signals) + tuple(r for r in references if r.signal_id in dynamic)


def read_controllers(root: ET.Element, rd: Reader) -> dict[str, str]:
    """Each dynamic signal a top-level ``<controller>`` controls -> that controller's ``id``,
    in file order (the module docstring's errors)."""
    dynamic: set[str] = set()
    static: set[str] = set()
    for el in root.findall("road/signals/signal"):
        (dynamic if el.get("dynamic", "no").strip() == "yes" else static).add(el.get("id", ""))
    out: dict[str, str] = {}
    seen: set[str] = set()
    for el in root.findall("controller"):
        controller_id = rd.text(el, "id", "controller")
        record = f"controller {controller_id}"
        if controller_id in seen:
            raise rd.error("repeated controller id", record, "controller@id")
        seen.add(controller_id)
        for control in el.findall("control"):
            signal_id = rd.text(control, "signalId", record)
            if signal_id in static:
                raise rd.error(
                    f"signal {signal_id!r} is a static signal (a sign): a controller switches "
                    "dynamic signals",
                    record,
                    "control@signalId",
                )
            if signal_id not in dynamic:
                raise rd.error(
                    f"controls signal {signal_id!r}, which the file does not have",
                    record,
                    "control@signalId",
                )
            if out.get(signal_id, controller_id) != controller_id:
                raise rd.error(
                    f"signal {signal_id!r} is controlled by controller {out[signal_id]!r} "
                    "already: a signal belongs to one controller",
                    record,
                    "control@signalId",
                )
            out[signal_id] = controller_id
    return out


def _section(road: Road, s_m: float, along: bool) -> int:
    """The lane section whose lanes driving ``along`` the reference line (or against it)
    reach ``s_m`` (see the module docstring for a border between two sections)."""
    starts = [sec.s_start_m for sec in road.sections]
    if along:
        before = [k for k, start in enumerate(starts) if start < s_m - 1e-9]
        return before[-1] if before else 0
    return max(k for k, start in enumerate(starts) if start <= s_m + 1e-9)


def _stops(
    placement: SignalPlacement, road: Road, point: np.ndarray, lanes: dict[str, Lane]
) -> list[LaneStop]:
    """The stops of one placement, whose ``(1, 2)`` reference-line ``point`` is at its ``s``,
    on the map's vehicle ``lanes`` (id -> lane)."""
    stops = []
    for along, valid in zip((True, False), ORIENTATIONS[placement.orientation], strict=True):
        if not valid:
            continue
        k = _section(road, placement.s_m, along)
        for lane_id in sorted(road.sections[k].lanes, key=lambda i: (abs(i), i)):
            forward = (lane_id < 0) != road.left_hand
            key = f"{road.road_id}_{k}_{lane_id}"
            if lane_id == 0 or forward != along or key not in lanes:
                continue
            if not placement.valid_for(lane_id):
                continue
            lane = lanes[key]
            station, _ = lane.project(point)
            stops.append(LaneStop(key, min(max(float(station[0]), 0.0), lane.length_m)))
    return stops


def traffic_lights(
    placements: tuple[SignalPlacement, ...],
    roads: dict[str, Road],
    lanes: dict[str, Lane],
    controllers: dict[str, str] | None = None,
) -> list[TrafficLight]:
    """One light per dynamic signal, stopping the vehicle ``lanes`` (id -> lane) its
    placements are valid for, positioned at the signal itself, with its ``controllers``
    entry (signal id -> controller id, :func:`read_controllers`) as its ``controller_id``."""
    controllers = controllers or {}
    out: dict[str, TrafficLight] = {}
    for placement in placements:
        road = roads[placement.road_id]
        x, y, hdg = reference_line(road.plan_view, np.array([placement.s_m]))
        stops = _stops(placement, road, np.array([[x[0], y[0]]]), lanes)
        if not placement.reference:
            xy = offset_points(x, y, hdg, np.array([placement.t_m]))[0]
            position = (float(xy[0]), float(xy[1]))
            out[placement.signal_id] = TrafficLight(
                placement.signal_id,
                tuple(stops),
                None,
                position,
                controllers.get(placement.signal_id),
            )
            continue
        light = out[placement.signal_id]
        known = {s.lane_id for s in light.stops}
        extra = tuple(s for s in stops if s.lane_id not in known)
        out[placement.signal_id] = replace(light, stops=light.stops + extra)
    return list(out.values())
