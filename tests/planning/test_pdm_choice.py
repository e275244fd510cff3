"""PDM's choice (walkthrough items 2, 3 and 7): no admissible proposal means braking with a
stop reason, never proposal 0 by default; near-tied offsets go to the centred proposal; an
agent already overlapping the ego is an obstacle for PDM and IDM alike. Every PDM step of
these cases gives a stop reason that ``STOP_REASONS`` lists (:func:`_stop_reason`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import curved_road, straight_road
from drivestack.planning.control import TrajectoryTracker
from drivestack.planning.pdm import (
    STOP_REASONS,
    IDMPlanner,
    PDMPlanner,
    choose_proposal,
)
from drivestack.planning.scoring import contact_at_start
from drivestack.sim.vehicle import BicycleState, VehicleParams, bicycle_step
from drivestack.sim.world import Observation
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState

VEHICLE = VehicleParams()
NONE = Boxes3D.empty("world")


def _observe(state: BicycleState, t_ns: int, agents: Boxes3D, ids: tuple[str, ...]) -> Observation:
    ego = EgoState(
        t_ns, float(state.x_m[0]), float(state.y_m[0]), float(state.yaw_rad[0]),
        speed_mps=float(state.speed_mps[0]),
    )  # fmt: skip
    return Observation(t_ns, ego, replace(agents, timestamp_ns=t_ns), ids)


def _stop_reason(planner: PDMPlanner) -> str | None:
    """The last step's stop reason, checked to be None or one of ``STOP_REASONS`` (the list
    the planner documents: a reason :func:`stop_reason` returns unlisted fails here)."""
    assert planner.debug is not None
    reason = planner.debug.stop_reason
    assert reason is None or reason in STOP_REASONS, reason
    return reason


def _closed_loop(
    planner: PDMPlanner | IDMPlanner, start: BicycleState, agents: Boxes3D, n_ticks: int
) -> list[BicycleState]:
    """The ego under ``planner`` and the tracker at 0.1 s, the agents held where they are."""
    tracker, state, states = TrajectoryTracker(), start, [start]
    ids = tuple(f"a{i}" for i in range(len(agents)))
    for k in range(n_ticks):
        t_ns = k * 100_000_000
        plan = planner.step(_observe(state, t_ns, agents, ids))
        if isinstance(planner, PDMPlanner):
            _stop_reason(planner)
        accel, steering = tracker.step(state, plan, t_ns)
        state = bicycle_step(state, accel, steering, 0.1, VEHICLE)
        states.append(state)
    return states


# -- item 2: every total 0 --------------------------------------------------------------------
def test_off_the_road_it_brakes_comfortably_with_a_reason() -> None:
    planner = PDMPlanner(straight_road(length_m=400.0), ["road_0"])
    plan = planner.step(_observe(BicycleState.of(0.0, 30.0, 0.0, 10.0), 0, NONE, ()))
    debug = planner.debug
    assert debug is not None and debug.scores is not None
    np.testing.assert_array_equal(debug.scores.drivable, 0.0)  # 30 m beside the road
    assert _stop_reason(planner) == "no proposal stays on the drivable area"
    assert debug.chosen == -1 and not debug.emergency
    # IDM's comfortable deceleration b = 3 m/s^2: 10 - 0.3 k m/s, standing from k = 34
    np.testing.assert_allclose(plan.speed_mps[:34], 10.0 - 0.3 * np.arange(34), atol=1e-9)
    np.testing.assert_array_equal(plan.speed_mps[34:], 0.0)


def test_colliding_or_leaving_the_road_is_an_emergency_stop() -> None:
    # one 3.5 m lane; a stopped car 6 m ahead of the bumper intrudes 0.25 m into it: the
    # centred proposals hit it, the -1 m ones miss it but leave the road
    road = straight_road(length_m=400.0, n_lanes=1)
    x_car = VEHICLE.front_offset_m + 6.0 + 2.25
    car = Boxes3D.from_array7([[x_car, 3.6, 0.8, 4.5, 1.9, 1.6, 0.0]], "world", label=[1])
    planner = PDMPlanner(road, ["road_0"])
    plan = planner.step(_observe(BicycleState.of(0.0, 1.75, 0.0, 15.0), 0, car, ("car",)))
    debug = planner.debug
    assert debug is not None and debug.scores is not None
    admissible = (debug.scores.collision > 0) & (debug.scores.drivable > 0)
    assert not admissible.any() and (debug.scores.collision > 0).any()
    assert _stop_reason(planner) == "no collision-free proposal stays on the drivable area"
    assert debug.emergency and debug.chosen == -1
    # braking as hard as allowed: the jerk limit (40 m/s^3) ramps it to -9 m/s^2
    np.testing.assert_allclose(plan.acceleration_mps2[:4], [0.0, -4.0, -8.0, -9.0])


# -- item 3: ties go to the centred proposal ------------------------------------------------
def test_choose_proposal_breaks_near_ties_towards_the_centre() -> None:
    offsets = np.array([0.0, 0.0, 1.0, 1.0, -1.0])
    # +1 m wins by 1e-4 (noise): the centred proposal; among its speeds the higher score
    assert choose_proposal(np.array([0.9998, 0.5, 0.9999, 0.4, 0.0]), offsets) == 0
    assert choose_proposal(np.array([0.5, 0.9995, 0.9999, 0.4, 0.0]), offsets) == 1
    # a real margin (0.05, beyond the 0.005 tolerance) still wins
    assert choose_proposal(np.array([0.95, 0.5, 1.0, 0.4, 0.0]), offsets) == 2
    # +1 and -1 tie without the centre: the higher score, then the lower index
    assert choose_proposal(np.array([0.2, 0.2, 0.9999, 0.1, 1.0]), offsets) == 4
    assert choose_proposal(np.array([0.2, 0.2, 1.0, 0.1, 1.0]), offsets) == 2


def test_on_an_empty_bend_pdm_keeps_to_the_centreline() -> None:
    # before: +1 m offsets won by 1e-4 .. 2e-3 and the car ran 1.0 .. 1.46 m off the centre
    planner = PDMPlanner(curved_road(), ["road_0"])
    states = _closed_loop(planner, BicycleState.of(-100.0, 1.75, 0.0, 16.0), NONE, 300)
    xy = np.array([[float(s.x_m[0]), float(s.y_m[0])] for s in states])
    _, lateral = planner.reference.project(xy)
    assert np.max(np.abs(lateral)) < 0.5  # tracking error only (IDMPlanner: 0.42 m)
    assert abs(lateral[-1]) < 0.05


# -- item 7: an agent already overlapping the ego -------------------------------------------
def test_contact_at_start_is_overlap_not_behind() -> None:
    ego = np.array([0.0, 0.0, 0.9, 5.0, 2.0, 1.8, 0.0])
    agents = np.array(
        [
            [0.0, 0.0, 0.9, 5.0, 2.0, 1.8, 0.0],  # the same footprint (bearing 0: ahead)
            [2.0, 1.0, 0.9, 5.0, 2.0, 1.8, 0.0],  # overlapping, ahead-left
            [-3.0, 0.0, 0.9, 5.0, 2.0, 1.8, 0.0],  # overlapping, dead behind: runs into us
            [10.0, 0.0, 0.9, 5.0, 2.0, 1.8, 0.0],  # ahead, clear
        ]
    )
    assert contact_at_start(ego, agents).tolist() == [True, True, False, False]
    assert contact_at_start(ego, np.zeros((0, 7))).shape == (0,)


@pytest.mark.parametrize("planner_type", [PDMPlanner, IDMPlanner])
def test_a_stopped_track_on_the_ego_stops_both_planners(
    planner_type: type[PDMPlanner] | type[IDMPlanner],
) -> None:
    start = BicycleState.of(0.0, 1.75, 0.0, 10.0)
    ghost = Boxes3D.from_array7(start.boxes(VEHICLE), "world", label=[1])  # standing still
    planner = planner_type(straight_road(), ["road_0"])
    plan = planner.step(_observe(start, 0, ghost, ("ghost",)))
    assert plan.speed_mps[-1] == 0.0
    if isinstance(planner, PDMPlanner):  # before: PDM drove through it (12.98 m/s after 5 s)
        assert planner.debug is not None and planner.debug.emergency
        assert _stop_reason(planner) == "every proposal collides"
    # closed loop from 3 m/s (from 10 m/s no car stops within its own length, and once
    # through, the track is behind it): it stops on the track and stays stopped
    slow = BicycleState.of(0.0, 1.75, 0.0, 3.0)
    states = _closed_loop(planner_type(straight_road(), ["road_0"]), slow, ghost, 50)
    x_m = np.array([float(s.x_m[0]) for s in states])
    assert float(states[-1].speed_mps[0]) == 0.0 and x_m[-1] == x_m[-20]
    assert x_m[-1] < 1.0  # 3 m/s braked at up to 9 m/s^2, jerk-limited: under 1 m
