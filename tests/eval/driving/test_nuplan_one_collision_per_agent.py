"""nuPlan counts one collision per agent: its first contact (``_find_new_collisions``: "ego can
only collide with an agent once in the scenario"; a collided track is left out from then on).
drivestack counted every contact episode, so an agent that reversed into the stopped ego
(not at fault), pulled away and was then touched again by the ego moving off scored an
at-fault collision nuPlan does not count (found in the regression suite's
commonroad_usa_peach_4_8_t_1, where a recorded car touched the ego twice)."""

from __future__ import annotations

import numpy as np

from drivestack.eval.driving.nuplan import (
    RepeatContact,
    classify_collisions,
    nuplan_score,
    repeat_contacts,
)
from drivestack.sim.runner import SimHistory
from tests.eval.driving.test_nuplan_metrics import DT, ROAD, ROUTE, VEHICLE, car, history


def _touched_twice() -> SimHistory:
    """An agent reverses into the stopped ego (contact at ticks 5-6), pulls away, and the ego
    driving off touches it again (from tick 18)."""
    n = 31
    t = np.arange(n) * DT
    front = VEHICLE.front_offset_m
    touching_x = front + 2.25  # the agent's centre when its rear meets the ego's front at x 0
    # the agent reverses at 2 m/s from 1 m ahead (overlapping by 0.2 m at tick 6), pulls
    # forward at 4 m/s (0.2 m clear at tick 7) and stands 1.4 m ahead from tick 10
    agent_x = np.where(
        t <= 0.6 + 1e-9,
        touching_x + 1.0 - 2.0 * t,
        np.minimum(touching_x - 0.2 + 4.0 * (t - 0.6), touching_x + 1.4),
    )
    agent_vx = np.where(t <= 0.6 + 1e-9, -2.0, np.where(agent_x < touching_x + 1.4, 4.0, 0.0))
    vel = np.zeros((n, 1, 2))
    vel[:, 0, 0] = agent_vx
    # the ego stands until 1.5 s, then drives off at 5 m/s: into the agent again at 1.8 s
    ego_x = np.where(t <= 1.5 + 1e-9, 0.0, 5.0 * (t - 1.5))
    ego_v = np.where(t <= 1.5 + 1e-9, 0.0, 5.0)
    return history(ego_x, ego_v, agents=car(agent_x), agent_vel=vel)


def test_touching_an_agent_again_is_no_new_collision() -> None:
    h = _touched_twice()
    contact = h.collisions[:, 0]
    # two contact episodes: ticks 5-6 (the agent reversing: touching at 5, 0.2 m deep at 6)
    # and from 18 (the ego driving off)
    assert contact[6] and not contact[7] and not contact[15] and contact[18]
    events = classify_collisions(h, ROAD)
    # only the first counts: the stopped ego hit, not at fault (the second, the ego moving
    # into a standing car, would be stopped_track and at fault)
    assert [(e.tick, e.kind, e.at_fault) for e in events] == [(5, "stopped_ego", False)]
    assert nuplan_score(h, ROAD, ROUTE, 1.0).no_at_fault_collisions == 1.0


def test_touching_an_agent_again_is_kept_as_a_repeat_contact() -> None:
    """The same drive: the second contact is no collision of the score, but metrics.json
    keeps it as information. The ego drives off at 1.5 s at 5 m/s towards the agent standing
    with its rear 1.4 m ahead of the ego's front: contact at 1.5 + 1.4 / 5 = 1.78 s, the tick
    of 1.8 s (18; at 1.7 s the gap is still 0.4 m). The first contact (tick 5) is no repeat."""
    h = _touched_twice()
    agent = h.agent_ids[0]
    assert repeat_contacts(h) == (RepeatContact(18, agent),)
    metrics = nuplan_score(h, ROAD, ROUTE, 1.0)
    assert len(metrics.collisions) == 1
    assert metrics.as_dict()["repeat_contacts"] == [{"tick": 18, "agent_id": agent}]
