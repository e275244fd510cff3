"""World/Traffic compute footprints once per tick: the cached answers equal fresh ones, are
fresh copies, and follow every step and reset."""

from __future__ import annotations

import numpy as np

from drivestack.sim.build import build_scenario
from drivestack.sim.scenario import load_suite


def _world(name: str = "cut_in"):  # type: ignore[no-untyped-def]
    cfg = next(c for c in load_suite("configs/suites/regression.yaml")[1] if c.name == name)
    return build_scenario(cfg, None).world


def test_cached_boxes_follow_steps_and_resets() -> None:
    world = _world()
    world.reset()
    first_boxes, first_ego = world.traffic.boxes(), world.ego_box()
    seen = []
    for _ in range(20):
        boxes, vel, ego = world.traffic.boxes(), world.traffic.velocities(), world.ego_box()
        np.testing.assert_array_equal(boxes, world.traffic._boxes())
        np.testing.assert_array_equal(vel, world.traffic._velocities())
        np.testing.assert_array_equal(ego, world.ego.boxes(world.vehicle)[0])
        seen.append(boxes)
        world.step(1.0, 0.02)
    assert not np.array_equal(seen[0], seen[-1])  # the agents moved: the cache did not stick
    world.reset()
    np.testing.assert_array_equal(world.traffic.boxes(), first_boxes)
    np.testing.assert_array_equal(world.ego_box(), first_ego)


def test_cached_arrays_are_fresh_copies() -> None:
    world = _world()
    world.reset()
    boxes, ego = world.traffic.boxes(), world.ego_box()
    want_boxes, want_ego = boxes.copy(), ego.copy()
    boxes[:] = 0.0
    ego[:] = 0.0
    np.testing.assert_array_equal(world.traffic.boxes(), want_boxes)
    np.testing.assert_array_equal(world.ego_box(), want_ego)
