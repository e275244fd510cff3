"""nuPlan types an active rear collision by the agent's bearing from the ego's rear axle
(``_get_collision_type``: ``is_agent_behind(ego_state.rear_axle, track.box.center)``), as the
TTC does; drivestack measured it from the ego's box centre, 1.56 m ahead of the axle (the
default car), so a car clipping the rear quarter of an ego straddling two lanes was an active
rear hit (not at fault) where nuPlan sees a lateral one (at fault while straddling)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.driving.footprint import bearing_from_ego_rad
from drivestack.eval.driving.nuplan import classify_collisions
from tests.eval.driving.test_nuplan_metrics import ROAD, history


def test_the_behind_rule_looks_from_the_rear_axle() -> None:
    # the ego's rear axle at (50, 3.5): on the marking between the road's two lanes (y 0..3.5
    # and 3.5..7), heading +x at 10 m/s; a car (4.5 x 1.8 m) centred at (47.56, 5.0), moving
    # (10, -1) m/s, overlaps its left rear corner
    agent = np.array([[[47.56, 5.0, 0.75, 4.5, 1.8, 1.5, 0.0]]])
    vel = np.array([[[10.0, -1.0]]])
    h = history(
        np.array([50.0]), np.array([10.0]), y=3.5, accel=np.zeros(1), agents=agent, agent_vel=vel
    )
    assert h.collisions[0, 0]
    centre = h.ego_boxes[0]
    axle = centre.copy()
    axle[:2] = [50.0, 3.5]
    # from the box centre the car is 159 deg off the heading (behind: > 150), from the rear
    # axle 148 deg (beside): atan2(1.5, -2.44) = 148.4 deg
    assert np.rad2deg(bearing_from_ego_rad(centre, agent[0, 0])) > 150.0
    from_axle_deg = np.rad2deg(bearing_from_ego_rad(axle, agent[0, 0]))
    assert from_axle_deg == pytest.approx(np.rad2deg(np.arctan2(1.5, -2.44)))  # 148.4
    events = classify_collisions(h, ROAD)
    # beside, both moving, not the front bumper: lateral, at fault as the ego straddles lanes
    assert [(e.kind, e.at_fault) for e in events] == [("active_lateral", True)]
