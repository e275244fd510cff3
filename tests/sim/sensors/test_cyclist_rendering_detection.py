"""What the simulated sensor's detector config (configs/perception/lidar_sim.yaml) makes of a
ray-cast cyclist: a Cyclist box, ridden or parked, seen from the side. Before the fix every
whole cyclist seen from the side was boxed as a Car (the car prior fits any smaller box at no
cost and won the tie with the cyclist prior), and cars stay Cars."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivestack.core.transforms import SE3
from drivestack.perception.lidar.config import load_lidar_detector_config
from drivestack.perception.lidar.detector import LidarDetector
from drivestack.sim.perceived import LIDAR_NAME, default_lidar
from drivestack.sim.sensors import SensorScene
from drivestack.structures import Boxes3D, ObjectClass, SensorFrame

REPO = Path(__file__).resolve().parents[3]
SIM_CONFIG = REPO / "configs/perception/lidar_sim.yaml"
#: a bicycle with its rider (length, width, height), m
RIDDEN = (1.8, 0.7, 1.8)
#: Argoverse 2's parked BICYCLE boxes (av2_7fab2350: 1.6 x 0.57 x 1.0 to 1.69 x 0.5 x 1.2 m)
PARKED = (1.65, 0.55, 1.15)


@cache
def _detector() -> LidarDetector:
    return LidarDetector(load_lidar_detector_config(SIM_CONFIG))


def _sweep(boxes: list[list[float]], labels: list[ObjectClass]) -> SensorFrame:
    """One simulated sweep of ``boxes`` (world = ego frame, flat ground) by the closed loop's
    LiDAR (roof-mounted at the default pose)."""
    lidar = default_lidar()
    scene = SensorScene()
    scene.set_agents(Boxes3D.from_array7(boxes, "world", label=labels))
    cloud = lidar.scan(scene, SE3.identity(), 0)
    return SensorFrame(
        0,
        lidars={LIDAR_NAME: cloud},
        ego_from_sensor={LIDAR_NAME: lidar.ego_from_lidar},
        world_from_ego=SE3.identity(),
        source="test",
    )


def _box_at(
    range_m: float, bearing_deg: float, yaw_to_sight_deg: float, size: tuple[float, float, float]
) -> list[float]:
    """A box on the ground ``range_m`` from the LiDAR at ``bearing_deg``, its length axis at
    ``yaw_to_sight_deg`` to the line of sight (90: side-on)."""
    mount = default_lidar().ego_from_lidar.translation
    b = np.deg2rad(bearing_deg)
    x, y = mount[0] + range_m * np.cos(b), mount[1] + range_m * np.sin(b)
    return [x, y, size[2] / 2, *size, b + np.deg2rad(yaw_to_sight_deg)]


def _nearest(frame: SensorFrame, box: list[float]) -> tuple[int, float]:
    """Label and BEV centre distance of the detection nearest ``box`` (UNKNOWN, inf: none)."""
    found = _detector().step(frame)
    if not len(found):
        return int(ObjectClass.UNKNOWN), np.inf
    d = np.linalg.norm(found.center_m[:, :2] - np.asarray(box[:2]), axis=1)
    k = int(np.argmin(d))
    return int(found.label[k]), float(d[k])


@pytest.mark.parametrize("yaw_to_sight_deg", [90.0, 45.0, 135.0])
def test_a_cyclist_at_15_m_is_detected_as_a_cyclist(yaw_to_sight_deg: float) -> None:
    box = _box_at(15.0, 0.0, yaw_to_sight_deg, RIDDEN)
    label, distance_m = _nearest(_sweep([box], [ObjectClass.CYCLIST]), box)
    assert label == ObjectClass.CYCLIST and distance_m < 0.5  # was a Car box 1.5 m off


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    range_m=st.floats(8.0, 30.0),
    bearing_deg=st.floats(-60.0, 60.0),
    yaw_to_sight_deg=st.floats(50.0, 130.0),
    ridden=st.booleans(),
)
def test_cyclists_seen_from_the_side_are_cyclists(
    range_m: float, bearing_deg: float, yaw_to_sight_deg: float, ridden: bool
) -> None:
    """Ridden or parked, 8-30 m away, seen within 40 deg of side-on: a Cyclist box on it. (End
    on, a cyclist shows the detector 0.5-0.8 m of depth: a Pedestrian's size, not asserted.)
    Not every such placement: a parked bicycle is a Pedestrian in about 1 of 200 of them
    (2 of 729 on a grid over 12-25 m, more near 28 m), where the scan lines miss its frame:
    :func:`test_known_parked_bicycle_misses`. CI draws its examples derandomized."""
    box = _box_at(range_m, bearing_deg, yaw_to_sight_deg, RIDDEN if ridden else PARKED)
    label, distance_m = _nearest(_sweep([box], [ObjectClass.CYCLIST]), box)
    assert label == ObjectClass.CYCLIST and distance_m < 0.6


@pytest.mark.xfail(
    strict=True, reason="known: the scan lines miss a parked bicycle's frame; a Pedestrian box"
)
@pytest.mark.parametrize(
    ("range_m", "yaw_to_sight_deg", "bearing_deg"),
    [(22.0, 60.0, 45.0), (25.0, 70.0, 0.0), (28.0, 60.0, 0.0), (28.5, 120.0, 30.0)],
)
def test_known_parked_bicycle_misses(
    range_m: float, yaw_to_sight_deg: float, bearing_deg: float
) -> None:
    """Placements found by a grid search where a parked bicycle seen side-on comes out as a
    Pedestrian box (0.1-0.25 m off): kept as strict expected failures, so a detector change
    that fixes them says so."""
    box = _box_at(range_m, bearing_deg, yaw_to_sight_deg, PARKED)
    label, distance_m = _nearest(_sweep([box], [ObjectClass.CYCLIST]), box)
    assert label == ObjectClass.CYCLIST and distance_m < 0.6


@pytest.mark.parametrize("yaw_to_sight_deg", [0.0, 45.0, 90.0])
@pytest.mark.parametrize("range_m", [10.0, 25.0])
def test_cars_stay_cars(range_m: float, yaw_to_sight_deg: float) -> None:
    box = _box_at(range_m, 10.0, yaw_to_sight_deg, (4.5, 1.8, 1.5))
    label, distance_m = _nearest(_sweep([box], [ObjectClass.CAR]), box)
    assert label == ObjectClass.CAR and distance_m < 1.0
