"""Pinned rules of the closed-loop simulator's world-level modules: swept collision checks
(sub-step count, interpolation, first contact), the history array check, the pass criteria and
run summaries of ``sim.evaluate``, the world's observation and the runner's plan check.

Every expected value is derived by hand from the rule, in the test's docstring or comments."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.eval.driving.ncap import NcapResult
from drivestack.eval.driving.nuplan import CollisionEvent, NuPlanMetrics
from drivestack.eval.driving.traffic_lights import RedLightResult, RedLightViolation
from drivestack.sim.evaluate import (
    check_pass,
    collision_label,
    ended_stopped_reason,
    not_evaluated_criteria,
    red_light_label,
    stop_reason_counts,
)
from drivestack.sim.runner import SimHistory
from drivestack.sim.scenario import PassCriteria, ScenarioConfig, scenarios_from_mapping
from drivestack.sim.swept_collision import (
    MAX_SUBSTEPS,
    covering_extent_m,
    first_contacts,
    interpolate_boxes,
    pair_displacement_m,
    substeps,
    swept_ego_agent_collisions,
    turn_sweep_m,
)
from drivestack.sim.vehicle import BicycleState, VehicleParams
from tests.eval.driving._ego_history import ego_only_history


def box(x: float, y: float, length: float, width: float, yaw: float = 0.0) -> np.ndarray:
    """``(7,)`` box ``[x, y, z, length, width, height, yaw]`` (z 0, height 1.5)."""
    return np.array([x, y, 0.0, length, width, 1.5, yaw])


# --- swept_collision ---------------------------------------------------------------------


def test_covering_extent_is_half_length_plus_covering_circle_radius() -> None:
    """Two covering circles at +-L/4 along the box, radius hypot(L/4, W/2): the far edge lies
    L/4 + hypot(L/4, W/2) from the centre, i.e. 0.5 L + hypot(0.25 L, 0.5 W). For a 4 x 2 box:
    2 + hypot(1, 1) = 2 + sqrt(2)."""
    assert covering_extent_m(box(0, 0, 4.0, 2.0)) == pytest.approx(2.0 + math.sqrt(2.0))
    # a 2 x 4 box (wider than long): 1 + hypot(0.5, 2) = 1 + sqrt(4.25)
    assert covering_extent_m(box(0, 0, 2.0, 4.0)) == pytest.approx(1.0 + math.sqrt(4.25))


def test_a_wide_agent_touching_the_ego_side_on_is_a_collision() -> None:
    """A 1 m long, 20 m wide agent (a tram crossing) whose side reaches into the ego's: ego
    4 x 2 at the origin, agent centred at x = 0, y = 10.9 spans y in [0.9, 20.9], overlapping
    the ego's y in [-1, 1] by 0.1 m. Its centre is 10.9 m away; the covering extents are
    2 + sqrt(2) = 3.41 (ego) and 0.5 + hypot(0.25, 10) = 10.50 (agent), 13.9 m together, so
    the cheap distance prefilter must keep it (with W/4 instead of W/2 in the extents they
    would sum to 8.6 m and drop it)."""
    ego, agent, yes = box(0, 0, 4, 2), box(0, 10.9, 1, 20)[None], np.array([True])
    assert swept_ego_agent_collisions(ego, agent, yes, ego, agent, yes).tolist() == [True]


def test_turn_sweep_uses_the_larger_half_diagonal_and_the_shorter_way_round() -> None:
    """Arc = 0.5 * max(diag(prev), diag(box)) * |wrap(delta yaw)|. prev 3 x 4 (diag 5), box
    6 x 8 (diag 10), yaw 0 -> pi/2: 5 * pi/2. Yaw 3.0 -> -3.0: the shorter way is
    2 pi - 6 = 0.28319 rad (not 6 rad), so the arc of a 3 x 4 box is 2.5 * (2 pi - 6)."""
    assert turn_sweep_m(box(0, 0, 3, 4, 0.0), box(0, 0, 6, 8, math.pi / 2)) == pytest.approx(
        5.0 * math.pi / 2
    )
    assert turn_sweep_m(box(0, 0, 3, 4, 3.0), box(0, 0, 3, 4, -3.0)) == pytest.approx(
        2.5 * (2 * math.pi - 6.0)
    )


def test_pair_displacement_is_relative_translation_plus_both_turn_arcs() -> None:
    """Ego moves (0, 0) -> (1, 0) and turns 0 -> 0.1 rad (3 x 4 box: half-diagonal 2.5, arc
    0.25); the agent moves (10, 2) -> (10, 5), no turn. Relative translation: agent-minus-ego
    goes from (10, 2) to (9, 5), i.e. (-1, 3), length sqrt(10). Total sqrt(10) + 0.25."""
    moved = pair_displacement_m(
        box(0, 0, 3, 4, 0.0), box(1, 0, 3, 4, 0.1), box(10, 2, 4, 2)[None], box(10, 5, 4, 2)[None]
    )
    assert moved == pytest.approx([math.sqrt(10.0) + 0.25])


def test_substeps_are_the_ceiling_of_displacement_over_half_the_smallest_half_side() -> None:
    """n = ceil(moved / (0.5 * 0.5 * min side of both boxes)), in [1, 64]. Ego 4 x 2 and agent
    6 x 3: smallest side 2, half-side 1, allowed 0.5 m per sub-step.
    Agent moves 3 m (relative): 3 / 0.5 = 6 sub-steps; 1.2 m: 2.4 -> 3 (ceiling);
    100 m: 200 -> capped at 64; not moving: 1 (the tick itself)."""
    ego = box(0, 0, 4, 2)

    def n(dx: float) -> int:
        return int(substeps(ego, ego, box(10, 0, 6, 3)[None], box(10 + dx, 0, 6, 3)[None])[0])

    assert n(3.0) == 6
    assert n(1.2) == 3
    assert n(100.0) == MAX_SUBSTEPS == 64
    assert n(0.0) == 1


def test_interpolated_yaw_goes_the_shorter_way_round() -> None:
    """Halfway from yaw 3.0 to -3.0 the short way (+0.28319 rad through pi) is 3.0 + 0.14159 =
    pi (mod 2 pi), not 0 (the long way through 0). Centre and size are linear: a quarter of
    the way from x 0, length 4 to x 8, length 8 is x 2, length 5."""
    mid = interpolate_boxes(box(0, 0, 4, 2, 3.0), box(8, 0, 8, 2, -3.0), np.array(0.5))
    assert math.cos(mid[6]) == pytest.approx(-1.0)
    quarter = interpolate_boxes(box(0, 0, 4, 2), box(8, 0, 8, 2), np.array(0.25))
    assert quarter[0] == pytest.approx(2.0)
    assert quarter[3] == pytest.approx(5.0)


def crossing() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ego 4.2 x 2 parked at the origin; a 1 x 1 agent runs along y = 0 from x = -10 to +10
    in one step (relative displacement 20 m; half-side 0.5 * min(2, 1) = 0.5, allowed 0.25:
    80 sub-steps, capped at 64)."""
    ego = box(0, 0, 4.2, 2)
    return ego, box(-10, 0, 1, 1)[None], ego, box(10, 0, 1, 1)[None]


def test_first_contact_is_the_first_overlapping_substep_of_a_pass_through() -> None:
    """Sub-step s of 64 puts the agent at x = -10 + 20 s / 64; its front x + 0.5 reaches the
    ego's rear (-2.1) once 20 s / 64 >= 7.4, i.e. s >= 23.68: s = 24, fraction 24 / 64 =
    0.375, agent centre at -2.5. At both ticks the two are apart (10 m away), yet the swept
    test says True."""
    prev_ego, prev_a, ego, now_a = crossing()
    yes = np.array([True])
    assert swept_ego_agent_collisions(prev_ego, prev_a, yes, ego, now_a, yes).tolist() == [True]
    fraction, ego_at, agent_at = first_contacts(prev_ego, prev_a, yes, ego, now_a, yes)
    assert fraction[0] == pytest.approx(0.375)
    assert agent_at[0, 0] == pytest.approx(-2.5)
    assert ego_at[0, 0] == pytest.approx(0.0)


def test_a_contact_at_the_previous_tick_is_first_seen_at_the_first_substep() -> None:
    """The sub-steps are s = 1 .. n (never s = 0, the previous tick itself). Agent 1 x 1 on
    the ego at x = 0 at t_prev, at x = 20 at t (64 sub-steps of 20/64 m): at s = 1 it is at
    0.3125, still inside the ego, so the first contact is at fraction 1 / 64."""
    ego = box(0, 0, 4.2, 2)
    yes = np.array([True])
    fraction, _, agent_at = first_contacts(
        ego, box(0, 0, 1, 1)[None], yes, ego, box(20, 0, 1, 1)[None], yes
    )
    assert fraction[0] == pytest.approx(1.0 / 64.0)
    assert agent_at[0, 0] == pytest.approx(20.0 / 64.0)


def test_an_agent_that_appeared_is_tested_at_the_tick_only() -> None:
    """An agent not valid at t_prev is never interpolated from its (stale) previous box. Its
    stale box at x = -10 and its box now at x = +10 would sweep through the ego, but it is not
    on the ego now: no hit. Placed on the ego now, it hits at fraction 1.0 (the tick), not at
    the sub-step 0.375 an interpolation from x = -10 would give."""
    prev_ego, prev_a, ego, now_a = crossing()
    no, yes = np.array([False]), np.array([True])
    assert swept_ego_agent_collisions(prev_ego, prev_a, no, ego, now_a, yes).tolist() == [False]
    on_ego = box(0, 0, 1, 1)[None]
    fraction, _, agent_at = first_contacts(prev_ego, prev_a, no, ego, on_ego, yes)
    assert fraction[0] == 1.0
    assert agent_at[0, 0] == 0.0


def test_a_tick_hit_of_an_agent_that_appeared_has_fraction_one_and_the_ticks_boxes() -> None:
    """``first_contacts`` marks a contact seen at the tick (and by no earlier sub-step) with
    fraction exactly 1.0 and the tick's own boxes."""
    ego = box(1, 2, 4, 2, 0.3)
    agent = box(2, 2, 4, 2)[None]
    fraction, ego_at, agent_at = first_contacts(
        ego, agent, np.array([False]), ego, agent, np.array([True])
    )
    assert fraction.tolist() == [1.0]
    np.testing.assert_array_equal(ego_at[0], ego)
    np.testing.assert_array_equal(agent_at[0], agent[0])


# --- history_arrays ----------------------------------------------------------------------


def history_arrays(t: int = 4) -> dict[str, np.ndarray]:
    """A valid history: ``t`` ticks 0.1 s apart, two agents, all valid, numbers zero."""
    from drivestack.sim.history_arrays import EGO_ARRAYS

    return {
        "timestamp_ns": np.arange(t, dtype=np.int64) * 100_000_000,
        **{name: np.zeros(t) for name in EGO_ARRAYS},
        "ego_boxes": np.tile(box(0, 0, 4.5, 1.9), (t, 1)),
        "agent_labels": np.array([1, 1]),
        "agent_boxes": np.tile(box(20, 0, 4.5, 1.9), (t, 2, 1)),
        "agent_velocity_mps": np.zeros((t, 2, 2)),
        "agent_valid": np.ones((t, 2), bool),
        "collisions": np.zeros((t, 2), bool),
        "planner_step_s": np.full(t - 1, 1e-3),
        "sim_step_s": np.full(t - 1, 1e-3),
    }


def test_a_nan_in_a_valid_agents_box_names_its_tick_and_agent() -> None:
    """The error's ``tick`` and ``agent`` are the first bad element's first two indices of the
    (T, A, 7) array: a NaN at [2, 1, 3] (tick 2, agent 1, the length) gives tick 2, agent 1."""
    from drivestack.sim.history_arrays import HistoryArrayError, check_history_arrays

    arrays = history_arrays()
    arrays["agent_boxes"][2, 1, 3] = np.nan
    with pytest.raises(HistoryArrayError) as err:
        check_history_arrays(arrays)
    assert (err.value.field, err.value.kind) == ("agent_boxes", "value")
    assert (err.value.tick, err.value.agent) == (2, 1)


def test_timestamps_must_strictly_increase_and_the_first_repeat_is_named() -> None:
    """Timestamps 0, 100, 100, 300 ms: the steps are 100, 0, 200; the first not > 0 is the
    step into tick 2, so the error is at tick 2 (a repeated time is refused, not only a
    backwards one)."""
    from drivestack.sim.history_arrays import HistoryArrayError, check_history_arrays

    arrays = history_arrays()
    arrays["timestamp_ns"] = np.array([0, 100, 100, 300], dtype=np.int64) * 1_000_000
    with pytest.raises(HistoryArrayError) as err:
        check_history_arrays(arrays)
    assert (err.value.kind, err.value.tick) == ("order", 2)


# --- sim.evaluate: pass criteria and summaries -------------------------------------------


def nuplan(
    score: float = 1.0,
    progress_m: float = 50.0,
    outside_m: float = 0.0,
    collisions: tuple[CollisionEvent, ...] = (),
) -> NuPlanMetrics:
    """nuPlan metrics with the fields the pass criteria read set (the others 1.0)."""
    return NuPlanMetrics(
        score, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, progress_m, math.inf, outside_m, collisions
    )


def ncap(
    avoided: bool | None = True,
    impact_kph: float | None = None,
    reduction_kph: float | None = 0.0,
    truncated: bool = False,
) -> NcapResult:
    return NcapResult(avoided, 50.0, impact_kph, reduction_kph, None, 10.0, truncated=truncated)


def event(agent: str, kind: str, at_fault: bool) -> CollisionEvent:
    return CollisionEvent(10, agent, kind, at_fault, 5.0, 3.0)


def test_min_score_fails_only_strictly_below() -> None:
    """``score < min_score`` fails: a score of exactly 60 % meets min_score 60; 59 fails."""
    criteria = PassCriteria(min_score=60.0)
    assert check_pass(criteria, nuplan(score=0.6), ncap()) == ()
    assert check_pass(criteria, nuplan(score=0.59), ncap()) == ("score 59.0 < 60",)


def test_max_impact_speed_fails_only_strictly_above() -> None:
    """``impact > max_impact_speed_kph`` fails: 20 km/h meets a 20 km/h limit, 20.5 fails (no
    no_collision criterion here, so only the impact speed is judged)."""
    criteria = PassCriteria(no_collision=False, max_impact_speed_kph=20.0)
    assert check_pass(criteria, nuplan(), ncap(False, 20.0, 30.0)) == ()
    assert check_pass(criteria, nuplan(), ncap(False, 20.5, 29.5)) == (
        "impact speed 20.5 > 20.0 km/h",
    )


def test_min_speed_reduction_fails_only_strictly_below() -> None:
    """``reduction < min_speed_reduction_kph`` fails: exactly 30 km/h meets 30; 29 fails."""
    criteria = PassCriteria(no_collision=False, min_speed_reduction_kph=30.0)
    assert check_pass(criteria, nuplan(), ncap(False, 20.0, 30.0)) == ()
    assert check_pass(criteria, nuplan(), ncap(False, 21.0, 29.0)) == (
        "speed reduction 29.0 < 30.0 km/h",
    )


def test_min_progress_fails_strictly_below_and_never_in_a_cut_short_run() -> None:
    """``progress_m < min_progress_m`` fails in a full run: 40 m meets 40, 39 fails; in a
    truncated run the criterion is not judged (and is listed as not evaluated)."""
    criteria = PassCriteria(min_progress_m=40.0)
    assert check_pass(criteria, nuplan(progress_m=40.0), ncap()) == ()
    assert check_pass(criteria, nuplan(progress_m=39.0), ncap()) == ("progress 39.0 < 40.0 m",)
    short = ncap(None, None, None, truncated=True)
    assert check_pass(criteria, nuplan(progress_m=1.0), short) == ()
    assert "min_progress_m not evaluated: run cut short" in not_evaluated_criteria(criteria, short)
    # a full run, or a cut-short one with its contact judged, has min_progress_m judged or
    # not: only a truncated run lists it (here avoided False: the contact was judged)
    assert not_evaluated_criteria(criteria, ncap()) == ()
    assert not_evaluated_criteria(criteria, ncap(False, 10.0, 40.0, truncated=False)) == ()


def test_drivable_area_fails_only_strictly_beyond_the_03_m_tolerance() -> None:
    """``max_outside_drivable_m > 0.3`` fails: exactly 0.3 m outside passes, 0.31 fails."""
    criteria = PassCriteria()
    assert check_pass(criteria, nuplan(outside_m=0.3), ncap()) == ()
    assert check_pass(criteria, nuplan(outside_m=0.31), ncap()) == (
        "left the drivable area by 0.31 m (> 0.3 m)",
    )


def test_no_collision_is_not_failed_by_a_cut_short_run_without_contact() -> None:
    """``avoided`` None (cut short, no contact) is neither met nor failed; False fails."""
    criteria = PassCriteria()
    assert check_pass(criteria, nuplan(), ncap(None, None, None, truncated=True)) == ()
    assert check_pass(criteria, nuplan(), ncap(False, 12.0, 38.0)) == ("collision at 12.0 km/h",)


def test_no_at_fault_collision_ignores_contacts_not_at_fault() -> None:
    """Only at-fault events fail ``no_at_fault_collision`` (no_collision off here)."""
    criteria = PassCriteria(no_collision=False)
    rear = (event("a1", "active_rear", False),)
    assert check_pass(criteria, nuplan(collisions=rear), ncap(False, 5.0, 45.0)) == ()


def test_collision_label_names_the_first_at_fault_contact_and_counts_the_others() -> None:
    """The contact that decides is the first at-fault one (a2), not the first (a1); "+N more"
    counts the other events: 3 events -> "+2 more"."""
    events = (
        event("a1", "active_rear", False),
        event("a2", "active_front", True),
        event("a3", "stopped_track", True),
    )
    assert collision_label(False, events) == "yes (active_front, at fault, +2 more)"
    assert collision_label(True, ()) == "no"
    assert collision_label(None, ()) == "not evaluated"


def test_red_light_label_counts_the_other_runs() -> None:
    """Two red light runs: the first in words, then "(+1 more)" (count - 1)."""
    first = RedLightViolation(52, 5.2, "L1", "road_0", 8.04)
    label = red_light_label(RedLightResult((first, first), 2))
    assert label == "ran a red light: L1 on lane road_0 at 5.2 s, 8.0 m/s (+1 more)"


def run_history(speeds: list[float], reasons: list[str], start_ns: int = 0) -> SimHistory:
    """The ego alone, ticks 0.1 s apart from ``start_ns``, at ``speeds`` (T,), with the
    planner's stop ``reasons`` (T-1,)."""
    n = len(speeds)
    ego = BicycleState.of(np.zeros(n), np.zeros(n), np.zeros(n), np.array(speeds))
    history = ego_only_history(
        ego, VehicleParams(), 0.1, planner_stop_reason=np.array(reasons, dtype=np.str_)
    )
    return dataclasses.replace(history, timestamp_ns=history.timestamp_ns + start_ns)


def test_a_run_ends_stopped_only_at_rest_within_the_stopped_speed_either_way() -> None:
    """Ended stopped: the last stop reason is set and |speed| <= 0.05 m/s (nuPlan's stopped
    test). 0.05 m/s is at rest; -1 m/s (rolling backwards) is not, nor is +0.06."""
    assert ended_stopped_reason(run_history([5.0, 0.05], ["lead"])) == "lead"
    assert ended_stopped_reason(run_history([5.0, -1.0], ["lead"])) is None
    assert ended_stopped_reason(run_history([5.0, 0.06], ["lead"])) is None
    assert ended_stopped_reason(run_history([5.0, 0.0], [""])) is None


def test_stop_reason_counts_time_the_first_call_from_the_runs_start() -> None:
    """Reasons per call "", "a", "a", "b" in a run starting at t = 5 s, 0.1 s ticks: "a"
    first at tick 1, 0.1 s after the start (not 5.1 s), 2 calls; "b" at tick 3, 0.3 s, 1
    call; listed in order of first appearance, "" (drove on) left out."""
    counts = stop_reason_counts(run_history([1.0] * 5, ["", "a", "a", "b"], start_ns=5_000_000_000))
    assert list(counts) == ["a", "b"]
    assert counts["a"] == {"planner_calls": 2, "first_tick": 1, "first_time_s": 0.1}
    assert counts["b"] == {"planner_calls": 1, "first_tick": 3, "first_time_s": 0.3}


# --- world: the planner's observation ----------------------------------------------------


def test_the_observed_yaw_rate_is_the_bicycle_models() -> None:
    """Kinematic bicycle: yaw rate = v tan(delta) / wheelbase. At 10 m/s, steering 0.5 rad,
    wheelbase 3.09 m (the default vehicle): 10 * tan(0.5) / 3.09 = 1.7679 rad/s (sin would
    give 1.5515)."""
    from drivestack.sim.world import World
    from drivestack.structures.road_map import RoadMap

    world = World(RoadMap(()), BicycleState.of(0.0, 0.0, 0.0, 10.0, 0.0, 0.5), [])
    state = world.ego_state()
    assert state.yaw_rate_radps == pytest.approx(10.0 * math.tan(0.5) / 3.09)
    assert state.timestamp_ns == 0


def test_an_observation_says_unknown_for_a_light_it_does_not_list() -> None:
    """``light_state`` of a light not in ``traffic_lights`` is "unknown"."""
    from drivestack.sim.world import Observation
    from drivestack.structures.boxes import Boxes3D
    from drivestack.structures.ego_state import EgoState

    ego = EgoState(0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0)
    obs = Observation(0, ego, Boxes3D.empty("world", 0), (), (("L1", "red"),))
    assert obs.light_state("L1") == "red"
    assert obs.light_state("L2") == "unknown"


def test_a_world_refuses_a_zero_time_step() -> None:
    """``dt_s`` must be positive: 0 s would put every tick at one time."""
    from drivestack.sim.world import World
    from drivestack.structures.road_map import RoadMap

    with pytest.raises(ValueError, match="dt_s must be positive"):
        World(RoadMap(()), BicycleState.of(0.0, 0.0, 0.0, 0.0), [], dt_s=0.0)


# --- scenario: the run's length and range checks -----------------------------------------


def scenario(**changes: object) -> list[ScenarioConfig]:
    """A straight two-lane road, the ego at 90 km/h, with ``changes`` to the mapping."""
    data: dict[str, object] = {
        "name": "t",
        "map": {"kind": "straight", "params": {"n_lanes": 2}},
        "ego": {"lane": "road_0", "station_m": 50.0, "speed_kph": 90.0},
        "duration_s": 5.0,
        **changes,
    }
    return scenarios_from_mapping(data)


def test_a_run_of_exactly_one_step_loads_and_under_half_a_step_is_refused() -> None:
    """Steps = round(duration_s / dt_s) must be >= 1: 0.1 s at dt 0.1 s is one step (loads);
    0.04 s at dt 0.1 s rounds to 0 steps (refused at duration_s)."""
    assert len(scenario(duration_s=0.1, dt_s=0.1)) == 1
    with pytest.raises(ConfigError) as err:
        scenario(duration_s=0.04, dt_s=0.1)
    assert err.value.field == "duration_s"


def test_the_step_limit_refuses_only_what_rounds_past_100000_steps() -> None:
    """duration / dt >= 100000 + 0.5 is refused: 100.00025 s at 1 ms is 100000.25 steps, i.e.
    100000 (the limit itself, loads); 100.001 s is 100001 steps (refused)."""
    assert len(scenario(duration_s=100.00025, dt_s=0.001)) == 1
    with pytest.raises(ConfigError) as err:
        scenario(duration_s=100.001, dt_s=0.001)
    assert err.value.field == "duration_s"


def test_a_one_second_step_and_a_min_score_of_100_are_in_range() -> None:
    """dt_s is in (0, 1] s and min_score in [0, 100]: both upper ends are allowed."""
    (cfg,) = scenario(dt_s=1.0, pass_criteria={"min_score": 100.0})
    assert cfg.dt_s == 1.0
    assert cfg.pass_criteria.min_score == 100.0


# --- perceived_lights: motion blur of a light during the exposure ------------------------


def test_a_left_turn_sweeps_a_light_ahead_rightwards_in_the_image() -> None:
    """The blur streak is the light's image motion over the exposure that ends at the tick:
    the ego's pose ``exposure_s`` earlier is its yaw minus yaw_rate * exposure_s. Turning left
    at 1 rad/s with a 10 ms exposure, the ego was yawed -0.01 rad before, so a light 50 m ahead
    (6 m up) stood 50 sin(0.01) = 0.5 m to its left: in the light camera (1.8 m ahead of the
    rear axle, 1.5 m up, pitched up 25 deg, focal 1500 px) at depth
    (50 cos(0.01) - 1.8) cos 25 + 4.5 sin 25 = 45.58 m, i.e. 1500 * 0.5 / 45.58 = 16.45 px left
    of where it is now: du = +16.45 px, dv about 0. (Calls the private ``_motion_px`` on a
    stand-in holding only what it reads.)"""
    from types import SimpleNamespace

    from drivestack.core.transforms import SE3
    from drivestack.sim.perceived_lights import CameraLightPerception, default_light_camera
    from drivestack.sim.world import Observation
    from drivestack.structures.boxes import Boxes3D
    from drivestack.structures.ego_state import EgoState

    stand_in = SimpleNamespace(
        effects=SimpleNamespace(exposure_s=0.01), camera=default_light_camera()
    )
    ego = EgoState(0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    truth = Observation(0, ego, Boxes3D.empty("world", 0), ())
    prior = SimpleNamespace(centre_m=(50.0, 0.0, 6.0))
    du, dv = CameraLightPerception._motion_px(
        stand_in,  # type: ignore[arg-type]
        prior,  # type: ignore[arg-type]
        truth,
        SE3.from_xyz_yaw([0.0, 0.0, 0.0], 0.0),
    )
    expected = (
        1500.0
        * 50.0
        * math.sin(0.01)
        / (
            (50.0 * math.cos(0.01) - 1.8) * math.cos(math.radians(25))
            + 4.5 * math.sin(math.radians(25))
        )
    )
    assert du == pytest.approx(expected, rel=1e-3)
    assert abs(dv) < 0.1


def test_an_agent_growing_between_ticks_is_swept_with_its_larger_extent() -> None:
    """The far-pair prefilter uses the larger of the agent's two covering extents. Ego 4 x 2
    parked at the origin; the agent runs along y = 5.45 from x = -16 to x = 4 while its box
    grows from 1 x 1 to 1 x 10 (a replayed agent whose size estimate changes). Its centre
    passes 5.45 m from the ego's: within 3.41 + 5.51 (ego + the 1 x 10 extent), not within
    3.41 + 1.06 (the 1 x 1 extent). 64 sub-steps (20 m, allowed 0.25 m): at s = 57 (fraction
    0.890625) it is at x = 1.8125 (x-range [1.31, 2.31] meets the ego's [-2, 2]) with half
    width 0.5 + 4.5 * 0.890625 = 4.508, reaching down to y = 0.942 < 1: contact; at s = 56
    its lower edge is at 5.45 - 4.4375 = 1.0125 > 1. At both ticks the two are apart."""
    ego = box(0, 0, 4, 2)
    prev_a, now_a = box(-16, 5.45, 1, 1)[None], box(4, 5.45, 1, 10)[None]
    yes = np.array([True])
    assert swept_ego_agent_collisions(ego, now_a, yes, ego, now_a, yes).tolist() == [False]
    assert swept_ego_agent_collisions(ego, prev_a, yes, ego, prev_a, yes).tolist() == [False]
    assert swept_ego_agent_collisions(ego, prev_a, yes, ego, now_a, yes).tolist() == [True]
    fraction, _, _ = first_contacts(ego, prev_a, yes, ego, now_a, yes)
    assert fraction[0] == pytest.approx(57 / 64)
