"""What ``velocity_mps`` of the tracker's output means: over ground with ego-motion
compensation, relative to the detections' frame without it (same field, same frame axes)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.tracking.config import (
    AssociationConfig,
    ClassTrackerConfig,
    LifecycleConfig,
    TrackerConfig,
)
from drivestack.tracking.tracker import build_tracker

EGO_SPEED_MPS = 10.0


def _world_from_ego(t_s: float) -> SE3:
    """The ego drives along world +y at 10 m/s, facing +y (yaw 90 degrees)."""
    return SE3.from_xyz_yaw([0.0, EGO_SPEED_MPS * t_s, 0.0], np.pi / 2)


@pytest.mark.parametrize(
    ("compensate", "expected_ego_xy"),
    [
        (True, [0.0, 0.0]),  # a parked car: no motion over ground
        (False, [-EGO_SPEED_MPS, 0.0]),  # relative to the ego: comes towards it
    ],
)
def test_velocity_of_a_parked_car_passed_by_the_ego(
    compensate: bool, expected_ego_xy: list[float]
) -> None:
    cfg = ClassTrackerConfig(
        association=AssociationConfig(metric="distance_bev", threshold=-3.0),
        lifecycle=LifecycleConfig(min_hits=1),
    )
    tracker = build_tracker(TrackerConfig(classes={"car": cfg}, ego_motion_compensation=compensate))
    parked_world = np.array([[5.0, 40.0, 0.8]])
    for k in range(20):
        t_s = 0.1 * k
        pose = _world_from_ego(t_s)
        centre = pose.inverse().apply(parked_world)[0]
        boxes = Boxes3D.from_array7(
            [[*centre, 4.5, 1.9, 1.6, 0.0]],
            "ego",
            int(t_s * 1e9),
            score=[0.9],
            label=[int(ObjectClass.CAR)],
        )
        out = tracker.step(boxes, pose)
    assert out.boxes.frame == "ego"
    np.testing.assert_allclose(out.boxes.velocity_mps[0], expected_ego_xy, atol=0.3)
