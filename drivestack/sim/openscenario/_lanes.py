"""Lane geometry for an entity: its length, lane offsets and the lanes beside it.

The lateral offset of a lane's centreline from the entity's start lane beside the entity's
start, whether a lane runs the entity's way, the lane a relative lane change lands in, and the
length the simulator gives an agent (for freespace distances).
"""

from __future__ import annotations

from drivestack.sim.build import CAR_SIZE_M, DEFAULT_SIZE_M
from drivestack.sim.openscenario._entities import _Entity
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import RoadMap, interpolate_polyline


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
    (ordered by their offsets beside the entity's start); ``current`` itself for 0 (a change
    back to its own lane's centre); None past the last of them."""
    if n_lanes == 0:
        return current
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
