"""Swept ego-agent collision checks (drivestack.sim.swept_collision): a fast agent that passes
through the ego between two ticks is a collision at the later tick (the per-tick test missed
it), a near pass is not, rotation sweeps count, an agent that appears is not interpolated, a
per-tick hit is always a swept hit, and a 1000-sub-step brute force agrees within the
documented tolerance. The first-contact instant (what the collision types are read at) is the
earliest sub-step that overlaps, found exactly where the swept test says True."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.kernels import boxes_overlap_bev_pairs
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import AgentConfig, EgoConfig, MapConfig, ScenarioConfig
from drivestack.sim.swept_collision import (
    MAX_SUBSTEPS,
    STEP_FRACTION,
    ego_agent_collisions,
    first_contacts,
    history_first_contact,
    interpolate_boxes,
    pair_displacement_m,
    substeps,
    swept_ego_agent_collisions,
)
from drivestack.sim.world import Observation
from drivestack.structures.trajectory import Trajectory

EGO = np.array([0.0, 0.0, 0.75, 4.6, 1.9, 1.5, 0.0])  # x in [-2.3, 2.3], y in [-0.95, 0.95]


def box(x: float, y: float, length: float, width: float, yaw: float) -> np.ndarray:
    return np.array([x, y, 0.75, length, width, 1.5, yaw])


def _arrays(prev_ego, prev_agents, prev_valid, ego, agents, valid) -> tuple[np.ndarray, ...]:
    """The two ticks' boxes and valid flags as the swept tests take them."""
    return (
        np.asarray(prev_ego, float),
        np.asarray(prev_agents, float).reshape(-1, 7),
        np.asarray(prev_valid, bool),
        np.asarray(ego, float),
        np.asarray(agents, float).reshape(-1, 7),
        np.asarray(valid, bool),
    )


def swept(*ticks) -> np.ndarray:
    return swept_ego_agent_collisions(*_arrays(*ticks))


def per_tick(ego, agents, valid) -> np.ndarray:
    return ego_agent_collisions(
        np.asarray(ego, float), np.asarray(agents, float).reshape(-1, 7), np.asarray(valid, bool)
    )


def test_a_pedestrian_tunnelling_through_the_ego_is_caught_and_was_missed_per_tick() -> None:
    # 0.6 m pedestrian crossing the stopped ego at 30 m/s over a 0.2 s step: 3 m left of the
    # ego's side before, 3 m right after (6 m per tick), through its middle in between
    before, after = box(0.0, -3.0, 0.6, 0.6, np.pi / 2), box(0.0, 3.0, 0.6, 0.6, np.pi / 2)
    ok = np.array([True])
    # fail-before: the per-tick test sees the footprints apart at both ticks
    assert not per_tick(EGO, before, ok)[0] and not per_tick(EGO, after, ok)[0]
    assert swept(EGO, before, ok, EGO, after, ok).tolist() == [True]
    # 6 m relative over 0.15 m allowed (half of the pedestrian's 0.3 m half-side): 40 sub-steps
    assert substeps(EGO, EGO, before[None], after[None]).tolist() == [40]


def test_a_head_on_pass_at_40_mps_closing_is_caught() -> None:
    # ego +x at 20 m/s, oncoming car -x at 20 m/s in the same lane, 0.5 s step: 7.4 m apart
    # nose to nose before, 3.4 m apart tail to tail after (they passed through each other)
    car = (4.6, 1.9)
    prev_ego, ego = EGO, box(10.0, 0.0, 4.6, 1.9, 0.0)
    prev_car, car_now = box(12.0, 0.0, *car, np.pi), box(2.0, 0.0, *car, np.pi)
    ok = np.array([True])
    assert not per_tick(prev_ego, prev_car, ok)[0] and not per_tick(ego, car_now, ok)[0]
    assert swept(prev_ego, prev_car, ok, ego, car_now, ok).tolist() == [True]


def first(*ticks):
    return first_contacts(*_arrays(*ticks))


def test_the_head_on_pass_first_touches_at_sub_step_16_of_43() -> None:
    # the pass above: the car's centre runs from 12 m ahead of the ego's to 8 m behind (20 m
    # over 0.475 m allowed, half the 0.95 m half-width: 43 sub-steps); the boxes touch 4.6 m
    # apart, after 7.4 m = 0.37 of the step: sub-step 16, the ego 10 x 16/43 m along
    prev_car, car_now = box(12.0, 0.0, 4.6, 1.9, np.pi), box(2.0, 0.0, 4.6, 1.9, np.pi)
    ego = box(10.0, 0.0, 4.6, 1.9, 0.0)
    f, ego_at, car_at = first(EGO, prev_car, [True], ego, car_now, [True])
    assert f.tolist() == [16 / 43]
    np.testing.assert_allclose(ego_at[0], box(160 / 43, 0.0, 4.6, 1.9, 0.0))
    np.testing.assert_allclose(car_at[0], box(12.0 - 160 / 43, 0.0, 4.6, 1.9, np.pi))
    # a car still on the ego at the tick first touched it earlier: 3 m clear of its bumper,
    # then 1 m into it (4 m over 0.475 m: 9 sub-steps); touching from 3 m closed (0.75): the
    # sub-step 7
    f, _, _ = first(
        EGO, box(7.6, 0.0, 4.6, 1.9, np.pi), [True], EGO, box(3.6, 0.0, 4.6, 1.9, np.pi), [True]
    )
    assert per_tick(EGO, box(3.6, 0.0, 4.6, 1.9, np.pi), [True])[0]
    assert f.tolist() == [7 / 9]


def test_an_appearing_agent_first_touches_at_the_tick_and_a_gone_one_never() -> None:
    stale, now = box(0.0, -5.0, 4.6, 1.9, 0.0), box(1.0, 0.5, 4.6, 1.9, 0.3)
    f, ego_at, agent_at = first(EGO, stale, [False], EGO, now, [True])
    assert f.tolist() == [1.0]
    assert np.array_equal(ego_at[0], EGO) and np.array_equal(agent_at[0], now)
    f, ego_at, agent_at = first(EGO, stale, [True], EGO, now, [False])
    assert np.isnan(f[0]) and np.isnan(ego_at).all() and np.isnan(agent_at).all()
    with pytest.raises(ValueError, match=r"valid must have shape \(1,\)"):
        first_contacts(
            EGO, np.zeros((1, 7)), np.ones(1, bool), EGO, np.zeros((1, 7)), np.ones(2, bool)
        )


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_agents=st.integers(1, 8))
def test_the_first_contact_is_the_earliest_overlapping_sub_step(seed: int, n_agents: int) -> None:
    rng = np.random.default_rng(seed)
    prev_ego, ego, prev_agent, agent = random_pairs(rng, n_agents)
    prev_valid, valid = rng.random(n_agents) < 0.9, rng.random(n_agents) < 0.9
    hit = swept(prev_ego[0], prev_agent, prev_valid, ego[0], agent, valid)
    f, ego_at, agent_at = first(prev_ego[0], prev_agent, prev_valid, ego[0], agent, valid)
    assert np.array_equal(np.isfinite(f), hit)
    n = substeps(prev_ego[0], ego[0], prev_agent, agent)
    for a in np.flatnonzero(hit):
        if f[a] == 1.0:  # at the tick: its own boxes, which overlap
            assert np.array_equal(ego_at[a], ego[0]) and np.array_equal(agent_at[a], agent[a])
            assert per_tick(ego[0], agent[a], [True])[0]
            continue
        s = round(f[a] * n[a])
        assert valid[a] and prev_valid[a] and f[a] == s / n[a]
        earlier = np.arange(1, s + 1) / n[a]
        at = boxes_overlap_bev_pairs(
            interpolate_boxes(prev_ego[0][None], ego[0][None], earlier),
            interpolate_boxes(prev_agent[a][None], agent[a][None], earlier),
        )
        assert at.tolist() == [False] * (s - 1) + [True]


def test_a_parallel_pass_0_2_m_apart_is_no_collision() -> None:
    # the same head-on pass in the next lane: 0.2 m between the sides all the way
    y = 0.95 + 0.95 + 0.2
    prev_ego, ego = EGO, box(10.0, 0.0, 4.6, 1.9, 0.0)
    prev_car, car_now = box(12.0, y, 4.6, 1.9, np.pi), box(2.0, y, 4.6, 1.9, np.pi)
    ok = np.array([True])
    assert swept(prev_ego, prev_car, ok, ego, car_now, ok).tolist() == [False]
    # and side by side at one speed, 0.2 m apart, nothing moves relative to the other
    assert (
        substeps(prev_ego, ego, box(0.0, y, 4.6, 1.9, 0.0)[None], box(10, y, 4.6, 1.9, 0)[None])[0]
        == 1
    )


def test_a_rotation_only_sweep_is_caught() -> None:
    # a 12 m x 0.4 m boom pivoting about (0, 6) from 30 deg one side of straight down to
    # 30 deg the other: its tip passes (0, 0), inside the ego, while its centre never moves
    rod = (12.0, 0.4)
    before = box(0.0, 6.0, *rod, -np.pi / 2 - np.pi / 6)
    after = box(0.0, 6.0, *rod, -np.pi / 2 + np.pi / 6)
    ok = np.array([True])
    assert not per_tick(EGO, before, ok)[0] and not per_tick(EGO, after, ok)[0]
    assert swept(EGO, before, ok, EGO, after, ok).tolist() == [True]
    # only the yaw moves: the sweep is the half-diagonal times the turn
    turn = pair_displacement_m(EGO, EGO, before[None], after[None])[0]
    assert turn == pytest.approx(0.5 * np.hypot(*rod) * np.pi / 3)


def test_the_yaw_turns_the_shorter_way_round() -> None:
    # the same boom lying flat, from 175 deg to -175 deg: 10 deg through 180, not 350 deg
    # through straight down (which would sweep through the ego)
    before = box(0.0, 6.0, 12.0, 0.4, np.deg2rad(175.0))
    after = box(0.0, 6.0, 12.0, 0.4, np.deg2rad(-175.0))
    mid = interpolate_boxes(before, after, np.array(0.5))
    assert abs(np.cos(mid[6]) + 1.0) < 1e-12
    ok = np.array([True])
    assert swept(EGO, before, ok, EGO, after, ok).tolist() == [False]


def test_an_agent_that_appears_is_not_interpolated() -> None:
    # invalid at the previous tick (its stale box on the ego's other side): tested at the tick
    # only, although the straight line between the two boxes crosses the ego
    stale, now = box(0.0, -5.0, 4.6, 1.9, 0.0), box(0.0, 5.0, 4.6, 1.9, 0.0)
    assert swept(EGO, stale, [False], EGO, now, [True]).tolist() == [False]
    assert swept(EGO, stale, [True], EGO, now, [True]).tolist() == [True]
    # appearing on the ego counts (at the tick); an agent gone at the tick does not
    assert swept(EGO, stale, [False], EGO, box(1.0, 0.5, 4.6, 1.9, 0.3), [True]).tolist() == [True]
    assert swept(EGO, stale, [True], EGO, now, [False]).tolist() == [False]


def test_far_agents_and_the_cap() -> None:
    far = np.array([box(100.0, 50.0, 4.6, 1.9, 0.0), box(-80.0, 0.0, 4.6, 1.9, 1.0)])
    ok = np.array([True, True])
    assert (
        swept(EGO, far, ok, EGO, far + np.array([5.0, 0, 0, 0, 0, 0, 0]), ok).tolist()
        == [False] * 2
    )
    # a 1 km jump needs more than the cap: capped, the tolerance is displacement / cap
    n = substeps(EGO, EGO, far[:1], far[:1] + np.array([1000.0, 0, 0, 0, 0, 0, 0]))
    assert n.tolist() == [MAX_SUBSTEPS]


def test_shapes_are_checked_naming_the_argument() -> None:
    ok = np.array([True])
    with pytest.raises(ValueError, match=r"prev_agent_boxes must have shape \(1, 7\)"):
        swept_ego_agent_collisions(EGO, np.zeros((2, 7)), ok, EGO, np.zeros((1, 7)), ok)
    with pytest.raises(ValueError, match=r"prev_valid must have shape \(1,\)"):
        swept_ego_agent_collisions(
            EGO, np.zeros((1, 7)), np.ones(2, bool), EGO, np.zeros((1, 7)), ok
        )


def random_pairs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """``n`` ego moves ``(n, 7)`` x 2 and agent moves ``(n, 7)`` x 2 around the origin: a few
    metres to tens of metres of travel, any turn, sizes from a pedestrian to a bus."""

    def boxes(length, width) -> tuple[np.ndarray, np.ndarray]:
        start = np.column_stack(
            [
                rng.uniform(-12, 12, (n, 2)),
                np.full(n, 0.75),
                length,
                width,
                np.full(n, 1.5),
                rng.uniform(-np.pi, np.pi, n),
            ]
        )
        end = start.copy()
        end[:, :2] += rng.uniform(-15, 15, (n, 2)) * rng.uniform(0, 1, (n, 1)) ** 2
        end[:, 6] += rng.uniform(-np.pi, np.pi, n) * (rng.random(n) < 0.5)
        return start, end

    prev_ego, ego = boxes(np.full(n, 4.6), np.full(n, 1.9))
    prev_agent, agent = boxes(rng.uniform(0.5, 12.0, n), rng.uniform(0.5, 3.0, n))
    return prev_ego, ego, prev_agent, agent


def brute_force(prev_ego, ego, prev_agent, agent, steps: int = 1000) -> np.ndarray:
    """``(N,)`` overlap at any of ``steps`` evenly spaced times in ``(t_prev, t]``."""
    n = prev_ego.shape[0]
    f = np.repeat(np.arange(1, steps + 1) / steps, n)
    pair = np.tile(np.arange(n), steps)
    hit = boxes_overlap_bev_pairs(
        interpolate_boxes(prev_ego[pair], ego[pair], f),
        interpolate_boxes(prev_agent[pair], agent[pair], f),
    )
    return hit.reshape(steps, n).any(axis=0)


def test_a_dense_brute_force_agrees_within_the_documented_tolerance() -> None:
    rng = np.random.default_rng(17)
    prev_ego, ego, prev_agent, agent = random_pairs(rng, 400)
    ok = np.array([True])
    got = np.array(
        [swept(prev_ego[i], prev_agent[i], ok, ego[i], agent[i], ok)[0] for i in range(len(ego))]
    )
    want = brute_force(prev_ego, ego, prev_agent, agent)
    # a swept hit is an exact overlap at one sub-step: the brute force finds it too, unless
    # that contact is a graze between its own samples (none in this draw)
    assert not np.any(got & ~want)
    # a contact the sweep leaves out is shallower than its tolerance (displacement / n): with
    # both boxes shrunk by a quarter of it on every side the brute force finds no contact
    tol = pair_displacement_m_each(prev_ego, ego, prev_agent, agent) / substeps_each(
        prev_ego, ego, prev_agent, agent
    )
    missed = np.flatnonzero(want & ~got)
    shrink = np.zeros((len(missed), 7))
    shrink[:, 3] = shrink[:, 4] = 2.0 * (tol[missed] / 4.0 * 1.01 + 1e-9)
    assert not brute_force(
        prev_ego[missed] - shrink,
        ego[missed] - shrink,
        prev_agent[missed] - shrink,
        agent[missed] - shrink,
    ).any()
    # the draw is not trivial: many contacts, most of them between the ticks only, and only
    # a few shallow ones left out
    tick_hits = np.array([per_tick(ego[i], agent[i], ok)[0] for i in range(len(ego))], dtype=bool)
    assert got.sum() > 40 and (got & ~tick_hits).sum() > 20
    assert len(missed) <= 0.05 * want.sum()  # (1 of 59 in this draw)
    # the tolerance is STEP_FRACTION of the smallest half-side unless capped
    half_side = 0.5 * np.minimum(1.9, np.min(agent[:, 3:5], axis=1))
    uncapped = substeps_each(prev_ego, ego, prev_agent, agent) < MAX_SUBSTEPS
    assert np.all(tol[uncapped] <= STEP_FRACTION * half_side[uncapped] * (1 + 1e-9))


def pair_displacement_m_each(prev_ego, ego, prev_agent, agent) -> np.ndarray:
    return np.array(
        [
            pair_displacement_m(prev_ego[i], ego[i], prev_agent[i : i + 1], agent[i : i + 1])[0]
            for i in range(len(ego))
        ]
    )


def substeps_each(prev_ego, ego, prev_agent, agent) -> np.ndarray:
    return np.array(
        [
            substeps(prev_ego[i], ego[i], prev_agent[i : i + 1], agent[i : i + 1])[0]
            for i in range(len(ego))
        ]
    )


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_agents=st.integers(1, 8),
    appear=st.floats(0.0, 1.0),
)
def test_a_per_tick_hit_is_always_a_swept_hit(seed: int, n_agents: int, appear: float) -> None:
    rng = np.random.default_rng(seed)
    prev_ego, ego, prev_agent, agent = random_pairs(rng, n_agents)
    prev_valid = rng.random(n_agents) >= appear
    valid = rng.random(n_agents) < 0.9
    got = swept(prev_ego[0], prev_agent, prev_valid, ego[0], agent, valid)
    tick = per_tick(ego[0], agent, valid)
    assert np.all(got[tick])
    # and nothing that is not valid at the tick, nor an appearing agent away from the ego
    assert not np.any(got[~valid])
    assert np.array_equal(got[valid & ~prev_valid], tick[valid & ~prev_valid])


class StandStill:
    """Plans to stay where the ego is."""

    name = "stand_still"

    def reset(self) -> None:
        pass

    def step(self, observation: Observation) -> Trajectory:
        ego, n = observation.ego, 10
        t_s = np.arange(n) * 0.1
        return Trajectory(
            observation.timestamp_ns + np.round(t_s * 1e9).astype(np.int64),
            np.full(n, ego.x_m),
            np.full(n, ego.y_m),
            np.full(n, ego.yaw_rad),
            np.zeros(n),
            np.zeros(n),
            np.zeros(n),
            ego.frame,
        )


def test_the_closed_loop_records_a_car_that_crosses_the_stopped_ego_between_ticks() -> None:
    # a car crossing at 24 m/s, 0.5 s step: 6 m beside the stopped ego at t = 0, 6 m past its
    # other side at t = 0.5 s; the per-tick test saw nothing
    base = ScenarioConfig(
        "crossing",
        MapConfig("straight"),
        EgoConfig(lane="road_0", station_m=50.0, speed_kph=0.0),
        1.0,
        dt_s=0.5,
    )
    x, y = build_scenario(base).world.ego_box()[:2]
    crosser = AgentConfig(
        "crosser",
        type="car",
        behavior="scripted",
        path_m=[(float(x), float(y) - 6.0), (float(x), float(y) + 30.0)],
        speed_mps=24.0,
    )
    result = run_scenario(dataclasses.replace(base, agents=[crosser]), StandStill())
    h = result.history
    assert len(h) == 3 and h.collisions[:, 0].tolist() == [False, True, False]
    assert not any(
        ego_agent_collisions(h.ego_boxes[k], h.agent_boxes[k], h.agent_valid[k])[0]
        for k in range(len(h))
    )
    assert [(e.tick, e.agent_id) for e in result.nuplan.collisions] == [(1, "crosser")]
    assert not result.passed
    # first touched between the ticks (the history's own boxes); at tick 0 the tick itself
    f, ego_at, car_at = history_first_contact(h, 1, 0)
    assert 0.0 < f < 1.0 and ego_agent_collisions(ego_at, car_at[None], np.ones(1, bool))[0]
    assert history_first_contact(h, 0, 0)[0] == 1.0
