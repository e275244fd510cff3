"""Where a traffic light's stop line meets a lane: the station the map readers give a
:class:`~drivestack.structures.traffic_light.LaneStop`.

A stop line is a polyline (or one point) in the map frame. Its station on a lane is that of
the point of the line nearest to the lane's centreline, projected onto the centreline: where
the line crosses the centreline when it does, else where it comes closest (a line that ends
at the lane's boundary, or that stops just short of its end). Stations are extrapolated
before the lane's start and past its end (:func:`project_to_polyline`), so a line off the
lane shows as a station below 0 or above the lane's length; :func:`station_on_lane` keeps
stations within :data:`STOP_STATION_TOLERANCE_M` of the lane and refuses the rest.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString

from drivestack.structures.road_map import STOP_STATION_TOLERANCE_M, Lane, project_to_polyline


def stop_station_m(centerline_m: np.ndarray, stop_line_m: np.ndarray) -> float:
    """Station (m from the start of the ``(N, 2)`` centreline, extrapolated beyond its ends)
    where the ``(K, 2)`` stop line (``K >= 1``) meets it (see the module docstring)."""
    line = np.asarray(stop_line_m, dtype=np.float64).reshape(-1, 2)
    if len(line) == 0:
        raise ValueError("a stop line needs at least one point")
    if len(line) == 1 or np.all(line == line[0]):
        nearest = line[0]
    else:
        link = shapely.shortest_line(LineString(line), LineString(centerline_m))
        nearest = np.asarray(link.coords[0]) if link is not None else line.mean(axis=0)
    station, _ = project_to_polyline(centerline_m, nearest[None, :])
    return float(station[0])


def station_on_lane(lane: Lane, station_m: float) -> float | None:
    """``station_m`` moved onto ``lane`` (``[0, length]``) when it lies within
    :data:`STOP_STATION_TOLERANCE_M` of it (map rounding), ``None`` when it lies farther off."""
    length = lane.length_m
    if -STOP_STATION_TOLERANCE_M <= station_m <= length + STOP_STATION_TOLERANCE_M:
        return min(max(station_m, 0.0), length)
    return None
