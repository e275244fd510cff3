"""Lane links of an OpenDRIVE file: which lane ends join, from lane links between lane
sections, road links and junction connections (checked against the roads they name), and
which road ends meet at a ``type="direct"`` junction."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from drivestack.ingest.maps._opendrive_records import LaneRecord, Reader, Road

#: A lane end: road id, lane-section index, lane id, ``"start"`` or ``"end"`` of the section.
LaneEnd = tuple[str, int, int, str]


class LaneLinks:
    """Undirected joins between lane ends, checked against the roads they name."""

    def __init__(self, rd: Reader, roads: dict[str, Road]) -> None:
        self.rd = rd
        self.roads = roads
        self.joins: dict[LaneEnd, set[LaneEnd]] = defaultdict(set)
        #: (road id, ``"start"`` or ``"end"``) -> the ``type="direct"`` junction the road
        #: end meets (as an incoming road, or as a connection's ``linkedRoad``)
        self.direct_ends: dict[tuple[str, str], str] = {}

    def road(self, road_id: str, record: str, field: str) -> Road:
        if road_id not in self.roads:
            raise self.rd.error(f"no road {road_id!r} in the file", record, field)
        return self.roads[road_id]

    def join(self, a: LaneEnd, b: LaneEnd, record: str, field: str) -> None:
        for road_id, section, lane_id, _ in (a, b):
            if lane_id not in self.roads[road_id].sections[section].lanes:
                raise self.rd.error(
                    f"road {road_id} lane section {section} has no lane {lane_id}", record, field
                )
        self.joins[a].add(b)
        self.joins[b].add(a)

    def within_roads(self) -> None:
        for road in self.roads.values():
            for k, section in enumerate(road.sections):
                for lane in section.lanes.values():
                    where = f"road {road.road_id} lane section {k} lane {lane.lane_id}"
                    self._lane_links(road, k, lane, "predecessor", where)
                    self._lane_links(road, k, lane, "successor", where)

    def _lane_links(self, road: Road, k: int, lane: LaneRecord, side: str, where: str) -> None:
        ids = lane.predecessors if side == "predecessor" else lane.successors
        if not ids:
            return
        first, last = 0, len(road.sections) - 1
        own_end = "start" if side == "predecessor" else "end"
        field = f"link/{side}@id"
        if (side == "predecessor" and k > first) or (side == "successor" and k < last):
            other = k - 1 if side == "predecessor" else k + 1
            other_end = "end" if side == "predecessor" else "start"
            for target in ids:
                self.join(
                    (road.road_id, k, lane.lane_id, own_end),
                    (road.road_id, other, target, other_end),
                    where,
                    field,
                )
            return
        link = road.predecessor if side == "predecessor" else road.successor
        if link is None or link.element_type != "road":
            return  # into a junction: its connections say where the lanes go
        assert link.contact_point is not None
        target_road = self.roads[link.element_id]  # check_road_links refused a missing one
        section = target_road.section_at(link.contact_point)
        for target in ids:
            self.join(
                (road.road_id, k, lane.lane_id, own_end),
                (target_road.road_id, section, target, link.contact_point),
                where,
                field,
            )

    def junction(self, el: ET.Element) -> None:
        junction_id = self.rd.text(el, "id", "junction")
        kind = el.get("type", "default")
        direct = kind == "direct"
        for i, conn in enumerate(el.findall("connection")):
            where = f"junction {junction_id} connection {conn.get('id', i)}"
            incoming = self.road(
                self.rd.text(conn, "incomingRoad", where), where, "connection@incomingRoad"
            )
            attr = self._other_road_attr(conn, junction_id, kind, where)
            other = self.road(self.rd.text(conn, attr, where), where, f"connection@{attr}")
            contact = conn.get("contactPoint")
            if contact not in ("start", "end"):
                raise self.rd.error(
                    f"contactPoint must be start or end, got {contact!r}",
                    where,
                    "connection@contactPoint",
                )
            incoming_ends = [
                end
                for end, link in (("start", incoming.predecessor), ("end", incoming.successor))
                if link is not None
                and link.element_type == "junction"
                and link.element_id == junction_id
            ]
            if not incoming_ends:
                raise self.rd.error(
                    f"incoming road {incoming.road_id} does not link to junction {junction_id}",
                    where,
                    "connection@incomingRoad",
                )
            if direct:
                other_link = other.predecessor if contact == "start" else other.successor
                if (
                    other_link is None
                    or other_link.element_type != "junction"
                    or other_link.element_id != junction_id
                ):
                    given = "" if attr == "linkedRoad" else f" (given as {attr})"
                    raise self.rd.error(
                        f"linked road {other.road_id}{given} does not link to direct junction "
                        f"{junction_id} at its {contact} (its "
                        f"{'predecessor' if contact == 'start' else 'successor'})",
                        where,
                        "connection@contactPoint",
                    )
                for end in incoming_ends:
                    self.direct_ends[(incoming.road_id, end)] = junction_id
                self.direct_ends[(other.road_id, contact)] = junction_id
            for ll in conn.findall("laneLink"):
                source = self.rd.lane_id(ll, "from", where)
                target = self.rd.lane_id(ll, "to", where)
                for end in incoming_ends:
                    self.join(
                        (incoming.road_id, incoming.section_at(end), source, end),
                        (other.road_id, other.section_at(contact), target, contact),
                        where,
                        "laneLink",
                    )

    def _other_road_attr(self, conn: ET.Element, junction_id: str, kind: str, where: str) -> str:
        """Which attribute of junction connection ``conn`` names the road the incoming road's
        lanes go on into, as the standard (ASAM OpenDRIVE 1.7 / 1.8) gives it: a default (or
        ``virtual`` / ``crossing``, read alike) junction's ``connectingRoad`` (the road that
        lies in the junction), a ``type="direct"`` junction's ``linkedRoad`` (the road beyond
        it; the standard says ``connectingRoad`` shall not be used there).

        A direct junction's connection that gives ``connectingRoad`` only is read as its
        linked road (libOpenDRIVE reads ``connectingRoad`` in every junction; esmini reads
        only ``linkedRoad`` in a direct one), named so in errors; both attributes naming
        one road are read as that road. ``DataError`` naming ``junction <id> connection
        <id>`` and the attribute: both attributes naming different roads (which one is
        meant?), and another junction's connection that gives ``linkedRoad`` only (a
        direct junction's attribute: neither esmini nor libOpenDRIVE reads it there, so its
        lanes would go nowhere); the attribute missing is the usual "missing" error."""
        connecting, linked = conn.get("connectingRoad"), conn.get("linkedRoad")
        direct = kind == "direct"
        if connecting is not None and linked is not None and connecting.strip() != linked.strip():
            raise self.rd.error(
                f"connectingRoad {connecting.strip()!r} and linkedRoad {linked.strip()!r} name "
                f"different roads; a {kind} junction's connection "
                f"names its road with {'linkedRoad' if direct else 'connectingRoad'} alone",
                where,
                "connection@linkedRoad" if direct else "connection@connectingRoad",
            )
        if direct:
            return "connectingRoad" if linked is None and connecting is not None else "linkedRoad"
        if connecting is None and linked is not None:
            raise self.rd.error(
                f"linkedRoad {linked.strip()!r} in {kind} junction {junction_id}: linkedRoad is "
                'for type="direct" junctions; this one\'s connection names its connecting road '
                "(the road that lies in the junction) with connectingRoad",
                where,
                "connection@linkedRoad",
            )
        return "connectingRoad"
