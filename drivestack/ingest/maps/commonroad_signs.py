"""CommonRoad stop and yield signs -> ``RoadMap.stop_signs`` (used by :mod:`.commonroad`).

One :class:`~drivestack.structures.road_map.StopSign` per ``<trafficSign>`` that holds a stop
or yield element, with the sign's id as its id, in file order:

- **Kind**: ``stop`` for a stop element (:data:`STOP_SIGN_IDS`: commonroad-io's
  ``TrafficSignIDGermany`` / ``Zamunda`` ``STOP`` ``206``, used by every country whose table
  borrows the German ids, Spain's ``r2`` and the US MUTCD ``R1-1``), ``all_way_stop`` when the
  sign also holds the MUTCD ``ALL WAY`` plaque ``R1-3P``, else ``yield`` for a yield element
  (:data:`YIELD_SIGN_IDS`: ``205``, ``r1``, ``R1-2``). Other signs are not rules here.
- **Stops**: every lanelet that references the sign, through a ``<trafficSignRef>`` of its
  ``<stopLine>`` or of its own, stops at its stop line: the station where the stop line's
  points meet the lane's centreline (:mod:`drivestack.ingest.maps._stops`), or the lane's end
  when the lanelet has no stop line or its stop line no points (CommonRoad: the lanelet's
  end). ``lines``: those stop lines with two or more points.

A ``trafficSignRef`` naming no sign of the file is refused by :mod:`.commonroad`'s lanelet
reader (record the lanelet, field ``trafficSignRef``) before this runs; a ``<stopLine>``'s
``trafficSignRef`` naming none is a :class:`DataError` (field ``stopLine/trafficSignRef``), a
stop line more than 0.5 m off its lanelet one naming the lanelet and ``stopLine``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

from shapely.geometry import LineString

from drivestack.core.errors import DataError
from drivestack.structures.road_map import StopSign
from drivestack.structures.traffic_light import LaneStop

#: Stop-sign element ids (``<trafficSignID>``) of commonroad-io's country tables and the US
#: MUTCD (see the module docstring).
STOP_SIGN_IDS = frozenset({"206", "r2", "R1-1"})
#: Yield-sign element ids: commonroad-io's ``YIELD`` ``205`` / ``r1`` and the MUTCD ``R1-2``.
YIELD_SIGN_IDS = frozenset({"205", "r1", "R1-2"})
#: The MUTCD ``ALL WAY`` plaque: a stop sign holding it is an all-way stop.
ALL_WAY_PLAQUE_IDS = frozenset({"R1-3P"})


def _sign_kinds(root: ET.Element) -> dict[str, str]:
    """Sign id -> its rule's kind, for the signs that are stop or yield signs."""
    kinds: dict[str, str] = {}
    for sign in root.iter("trafficSign"):
        ids = {e.findtext("trafficSignID", "").strip() for e in sign.findall("trafficSignElement")}
        if ids & STOP_SIGN_IDS:
            kinds[sign.get("id", "")] = "all_way_stop" if ids & ALL_WAY_PLAQUE_IDS else "stop"
        elif ids & YIELD_SIGN_IDS:
            kinds[sign.get("id", "")] = "yield"
    return kinds


def read_stop_signs(
    root: ET.Element,
    path: str,
    stop_at: Callable[[ET.Element], tuple[float, LineString | None]],
) -> list[StopSign]:
    """The file's stop and yield sign rules (module docstring); ``stop_at(lanelet element)``
    gives a lanelet's stop station on its lane and its stop line (``None`` without one of
    two or more points), raising the :class:`DataError` of a line off the lanelet."""
    kinds = _sign_kinds(root)
    sign_ids = {sign.get("id") for sign in root.iter("trafficSign")}
    stops: dict[str, list[LaneStop]] = {sign_id: [] for sign_id in kinds}
    drawn: dict[str, list[LineString]] = {sign_id: [] for sign_id in kinds}
    for el in root.findall("lanelet"):
        lane_id = str(el.get("id"))
        refs = [r.get("ref") for r in el.findall("trafficSignRef")]
        for r in el.findall("stopLine/trafficSignRef"):
            if r.get("ref") not in sign_ids:
                raise DataError(
                    f"refers to unknown traffic sign {r.get('ref')!r}",
                    path=path,
                    record=f"lanelet {lane_id}",
                    field="stopLine/trafficSignRef",
                )
            refs.append(r.get("ref"))
        governed = [str(ref) for ref in dict.fromkeys(refs) if ref in kinds]
        if not governed:
            continue
        station, line = stop_at(el)
        for sign_id in governed:
            stops[sign_id].append(LaneStop(lane_id, station))
            if line is not None:
                drawn[sign_id].append(line)
    return [
        StopSign(sign_id, kind, tuple(stops[sign_id]), tuple(drawn[sign_id]))
        for sign_id, kind in kinds.items()
    ]
