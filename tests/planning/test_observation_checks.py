"""An observation holds the ego and agents in one frame at one time, and the planners plan
only in their map's frame."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.pdm import IDMPlanner, PDMPlanner
from drivestack.sim.world import Observation
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState

EGO = EgoState(0, 0.0, 1.75, 0.0, speed_mps=10.0)


def _car(frame: str) -> Boxes3D:
    return Boxes3D.from_array7(np.array([[30.0, 1.75, 0.75, 4.5, 1.9, 1.5, 0.0]]), frame, 0)


def test_observation_refuses_mixed_frames_times_and_ids() -> None:
    with pytest.raises(ValueError, match="ego is in frame 'world' and the agents in 'lidar'"):
        Observation(0, EGO, _car("lidar"), ("a",))
    with pytest.raises(ValueError, match=r"ego\.timestamp_ns 0 is not the observation's"):
        Observation(5_000_000_000, EGO, _car("world"), ("a",))
    with pytest.raises(ValueError, match="2 agent_ids for 1 agent boxes"):
        Observation(0, EGO, _car("world"), ("a", "b"))
    assert len(Observation(0, EGO, _car("world"), ("a",)).agents) == 1


@pytest.mark.parametrize("planner_type", [PDMPlanner, IDMPlanner])
def test_planners_refuse_an_observation_outside_the_map_frame(planner_type: type) -> None:
    planner = planner_type(straight_road(), ["road_0"])
    ego = EgoState(0, 0.0, 1.75, 0.0, speed_mps=10.0, frame="ego")
    with pytest.raises(ValueError, match="observation is in frame 'ego', the map in 'world'"):
        planner.step(Observation(0, ego, Boxes3D.empty("ego"), ()))
    plan = planner.step(Observation(0, EGO, _car("world"), ("a",)))
    assert plan.frame == "world"
