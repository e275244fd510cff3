"""Test helpers for road maps: a map moved rigidly in the plane."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from drivestack.structures.road_map import RoadMap


def moved_map(road_map: RoadMap, angle_rad: float, shift_m: tuple[float, float]) -> RoadMap:
    """``road_map``'s lanes turned by ``angle_rad`` about the origin, then shifted by
    ``shift_m`` (its lights kept: their stops are lane stations; crosswalks and stop lines
    dropped)."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    rot = np.array([[c, -s], [s, c]])

    def move(xy: np.ndarray) -> np.ndarray:
        return xy @ rot.T + np.asarray(shift_m, dtype=float)

    lanes = tuple(
        dataclasses.replace(
            lane,
            centerline_m=move(lane.centerline_m),
            left_boundary_m=move(lane.left_boundary_m),
            right_boundary_m=move(lane.right_boundary_m),
        )
        for lane in road_map.lanes
    )
    return dataclasses.replace(road_map, lanes=lanes, crosswalks=(), stop_lines=())
