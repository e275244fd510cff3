"""The forecast agents in the path's Frenet frame (``agents_on_path``): the speed along the
path comes from the forecast's motion and the half sizes take the box's longer side as its
length, whichever way a detector gives the box's yaw and its length and width."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from drivestack.planning.proposals import agents_on_path
from drivestack.planning.reference_path import ReferencePath
from drivestack.prediction.forecast import Forecast, constant_velocity_forecast
from drivestack.structures.boxes import Boxes3D

# a straight path along +x from 0 to 100 m
PATH = ReferencePath.from_polyline([[0.0, 0.0], [100.0, 0.0]], 10.0)
TREE = cKDTree(PATH.xy_m)


def on_path(box7: list[float], velocity_xy_mps: list[float]):  # type: ignore[no-untyped-def]
    agents = Boxes3D.from_array7([box7], "world", label=[1], velocity_mps=[velocity_xy_mps])
    return agents_on_path(PATH, TREE, constant_velocity_forecast(agents, 2.0, 0.1))


@pytest.mark.parametrize("yaw_rad", [0.0, np.pi, -np.pi / 2, np.pi / 2])
def test_speed_along_the_path_follows_the_motion_not_the_yaw(yaw_rad: float) -> None:
    # a car 20 m ahead driving +x at 5 m/s; its yaw as a LiDAR box may give it (an axis:
    # 0 or 180 degrees, or turned by 90 with length and width given the other way round)
    length, width = (4.5, 1.8) if yaw_rad in (0.0, np.pi) else (1.8, 4.5)
    agents = on_path([20.0, 0.5, 0.8, length, width, 1.5, yaw_rad], [5.0, 0.0])
    np.testing.assert_allclose(agents.along_speed_mps, 5.0, atol=1e-9)
    # the same footprint whichever way it is written: 2.25 m along the path, 0.9 m across
    np.testing.assert_allclose(agents.half_length_m, [2.25], atol=1e-9)
    np.testing.assert_allclose(agents.half_width_m, [0.9], atol=1e-9)


def test_a_crossing_car_has_no_speed_along_the_path() -> None:
    # heading +y across the path at 3 m/s: no speed along it, its lateral offset closes at
    # 3 m/s (-6 m now, 0 after 2 s)
    agents = on_path([30.0, -6.0, 0.8, 4.5, 1.8, 1.5, np.pi / 2], [0.0, 3.0])
    np.testing.assert_allclose(agents.along_speed_mps, 0.0, atol=1e-9)
    np.testing.assert_allclose(agents.lateral_m[0, [0, 20]], [-6.0, 0.0], atol=1e-9)


def test_a_slowing_forecast_gives_its_slowing_speed_along_the_path() -> None:
    # boxes that move 1.0, 0.5, 0.0 m per 0.5 s step along +x: 2, 1, 0 m/s (the last repeats)
    boxes = np.zeros((1, 4, 7))
    boxes[0, :, 0] = [10.0, 11.0, 11.5, 11.5]
    boxes[0, :, 3:6] = [4.5, 1.8, 1.5]
    forecast = Forecast(0.5, boxes, np.full((1, 4), 2.0))
    agents = agents_on_path(PATH, TREE, forecast)
    np.testing.assert_allclose(agents.along_speed_mps, [[2.0, 1.0, 0.0, 0.0]], atol=1e-9)
