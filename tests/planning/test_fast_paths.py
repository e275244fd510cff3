"""The planner's compiled fast paths give the same numbers as the plain array code they
replace (bit for bit), and the collision rule behaves as stated on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from drivestack.eval.driving.comfort import comfort_signals
from drivestack.eval.driving.footprint import may_overlap
from drivestack.kernels import boxes_overlap_bev, boxes_overlap_bev_pairs
from drivestack.planning.control.tracker import _lookahead_point
from drivestack.planning.proposals import fast_project
from drivestack.planning.reference_path import ReferencePath
from drivestack.planning.scoring import (
    BEHIND_ANGLE_RAD,
    STOPPED_SPEED_MPS,
    at_fault_collisions,
    comfort_signals_nearest,
    overlap_bev_pairs,
)
from drivestack.structures.road_map import interpolate_polyline, project_to_polyline


def _random_boxes(rng: np.random.Generator, shape: tuple[int, ...], spread_m: float) -> np.ndarray:
    boxes = np.zeros((*shape, 7))
    boxes[..., :2] = rng.uniform(-spread_m, spread_m, (*shape, 2))
    boxes[..., 3] = rng.uniform(0.5, 5.0, shape)
    boxes[..., 4] = rng.uniform(0.5, 2.5, shape)
    boxes[..., 5] = 1.5
    boxes[..., 6] = rng.uniform(-np.pi, np.pi, shape)
    return boxes


def _at_fault_reference(ego, speed, agents, valid=None):  # type: ignore[no-untyped-def]
    """The rule spelled out with the kernels: one (proposal, time, agent) at a time."""
    hit = np.zeros(ego.shape[0], dtype=bool)
    for p in range(ego.shape[0]):
        for k in range(ego.shape[1]):
            for a in range(agents.shape[0]):
                if valid is not None and not valid[a, k]:
                    continue
                e, g = ego[p, k], agents[a, k]
                bearing = np.arctan2(g[1] - e[1], g[0] - e[0]) - e[6]
                bearing = abs(np.remainder(bearing + np.pi, 2 * np.pi) - np.pi)
                if (
                    may_overlap(e, g)
                    and speed[p, k] > STOPPED_SPEED_MPS
                    and bearing < BEHIND_ANGLE_RAD
                    and boxes_overlap_bev(e[None], g[None])[0, 0]
                ):
                    hit[p] = True
    return hit


def test_at_fault_collisions_hand_made_cases() -> None:
    car = [0.0, 0.0, 0.75, 4.5, 1.9, 1.5, 0.0]
    ego = np.array([[car, car]])  # one proposal, two steps at the origin heading +x
    ahead = np.array([[[3.0, 0.0, 0.75, 4.5, 1.9, 1.5, 0.0]] * 2])  # overlaps, in front
    behind = np.array([[[-3.0, 0.0, 0.75, 4.5, 1.9, 1.5, 0.0]] * 2])  # overlaps, behind
    apart = np.array([[[10.0, 0.0, 0.75, 4.5, 1.9, 1.5, 0.0]] * 2])
    moving, stopped = np.full((1, 2), 5.0), np.zeros((1, 2))
    assert at_fault_collisions(ego, moving, ahead).tolist() == [True]
    assert at_fault_collisions(ego, moving, behind).tolist() == [False]  # rear-ended
    assert at_fault_collisions(ego, moving, apart).tolist() == [False]
    assert at_fault_collisions(ego, stopped, ahead).tolist() == [False]  # standing still
    assert at_fault_collisions(ego, moving, ahead, np.zeros((1, 2), bool)).tolist() == [False]
    assert at_fault_collisions(ego, moving, np.zeros((0, 2, 7))).tolist() == [False]


@pytest.mark.parametrize("seed", range(4))
def test_at_fault_collisions_matches_the_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ego = _random_boxes(rng, (6, 5), 8.0)
    agents = _random_boxes(rng, (7, 5), 8.0)
    speed = rng.choice([0.0, 0.03, 4.0], (6, 5))
    valid = rng.random((7, 5)) > 0.2
    got = at_fault_collisions(ego, speed, agents, valid)
    assert got.tolist() == _at_fault_reference(ego, speed, agents, valid).tolist()
    assert got.any() and not got.all()  # the cases exercise both outcomes


def test_overlap_pairs_equals_the_kernel_including_touching_boxes() -> None:
    rng = np.random.default_rng(7)
    a = _random_boxes(rng, (400,), 4.0)
    b = _random_boxes(rng, (400,), 4.0)
    # touching: b[i] placed exactly against a[i] along its length axis
    b[:50] = a[:50]
    b[:50, 0] += a[:50, 3] * np.cos(a[:50, 6])
    b[:50, 1] += a[:50, 3] * np.sin(a[:50, 6])
    got = overlap_bev_pairs(a, b)
    assert np.array_equal(got, boxes_overlap_bev_pairs(a, b))
    assert got[:50].all() and 0 < got.sum() < len(got)


def test_comfort_signals_nearest_is_bit_identical() -> None:
    rng = np.random.default_rng(3)
    for n_t in (41, 15, 4, 2, 1):
        speed = rng.uniform(0.0, 30.0, (15, n_t))
        yaw = np.cumsum(rng.normal(0.0, 0.7, (15, n_t)), axis=1)  # wraps past pi
        accel = rng.normal(0.0, 2.0, (15, n_t))
        want = comfort_signals(speed, yaw, accel, 0.1, mode="nearest")
        got = comfort_signals_nearest(speed, yaw, accel, 0.1)
        for name in want.__dataclass_fields__:
            assert np.array_equal(getattr(got, name), getattr(want, name)), (n_t, name)


def _fast_project_reference(path: ReferencePath, tree: cKDTree, pts: np.ndarray):  # type: ignore[no-untyped-def]
    """The array version the compiled projection replaced."""
    _, idx = tree.query(pts)
    n = len(path.xy_m)
    best_s, best_d, best_dist = np.zeros(len(pts)), np.zeros(len(pts)), np.full(len(pts), np.inf)
    for seg in (np.clip(idx - 1, 0, n - 2), np.clip(idx, 0, n - 2)):
        a = path.xy_m[seg]
        d = path.xy_m[seg + 1] - a
        length = np.linalg.norm(d, axis=1)
        rel = pts - a
        t = np.sum(rel * d, axis=1) / length**2
        t = np.where(seg == 0, np.minimum(t, 1.0), np.clip(t, 0.0, 1.0))
        t = np.where(seg == n - 2, np.maximum(t, 0.0), t)
        dist = np.linalg.norm(rel - t[:, None] * d, axis=1)
        lateral = (d[:, 0] * rel[:, 1] - d[:, 1] * rel[:, 0]) / length
        better = dist < best_dist
        best_dist = np.where(better, dist, best_dist)
        best_s = np.where(better, path.station_m[seg] + t * length, best_s)
        best_d = np.where(better, lateral, best_d)
    return best_s, best_d


def test_fast_project_is_bit_identical_to_the_array_version() -> None:
    theta = np.linspace(0.0, 2.5, 60)
    path = ReferencePath.from_polyline(
        np.column_stack([40 * np.sin(theta), 40 * (1 - np.cos(theta))]), 15.0
    )
    tree = cKDTree(path.xy_m)
    rng = np.random.default_rng(11)
    pts = path.xy_m[rng.integers(0, len(path.xy_m), 500)] + rng.normal(0.0, 3.0, (500, 2))
    pts[:3] = [[-20.0, -5.0], [0.0, 0.0], path.xy_m[-1] + [30.0, 0.0]]  # before, at, past the ends
    s, d = fast_project(path, tree, pts)
    s_ref, d_ref = _fast_project_reference(path, tree, pts)
    assert np.array_equal(s, s_ref) and np.array_equal(d, d_ref)
    assert s[0] < 0.0  # extrapolated before the start


def test_lookahead_point_is_bit_identical_to_project_then_interpolate() -> None:
    rng = np.random.default_rng(5)
    for _ in range(50):
        n = int(rng.integers(2, 40))
        path = np.cumsum(rng.uniform(0.2, 2.0, (n, 2)) * [1.0, rng.uniform(-1, 1)], axis=0)
        x, y = path[rng.integers(0, n)] + rng.normal(0.0, 2.0, 2)
        lookahead = float(rng.uniform(0.0, 15.0))
        station, _ = project_to_polyline(path, [[x, y]])
        want, _ = interpolate_polyline(path, station + lookahead)
        assert np.array_equal(_lookahead_point(path, float(x), float(y), lookahead), want)


def test_interp_of_one_value_equals_numpy() -> None:
    from drivestack.planning.proposals import _interp

    rng = np.random.default_rng(2)
    xp = np.cumsum(rng.uniform(0.1, 2.0, 50))
    fp = rng.uniform(0.0, 30.0, 50)
    fp[10:14] = 7.0  # a flat stretch
    queries = np.concatenate([rng.uniform(xp[0] - 5, xp[-1] + 5, 2000), xp, [np.nan, np.inf]])
    for x in queries:
        want = np.interp(x, xp, fp)
        got = _interp(float(x), xp, fp)
        assert got == want or (np.isnan(got) and np.isnan(want)), x


def test_corridor_soon_equals_the_cumulative_count() -> None:
    from drivestack.planning.proposals import _corridor_soon

    rng = np.random.default_rng(4)
    lateral = rng.normal(0.0, 3.0, (6, 81))
    half = rng.uniform(1.2, 2.0, 6)
    offsets = np.array([0.0, 1.0, -1.0])
    for look in (0, 1, 10):
        inside = np.abs(lateral[None] - offsets[:, None, None]) < half[None, :, None]
        want = np.array(
            [
                [[inside[p, a, k : k + look + 1].any() for k in range(81)] for a in range(6)]
                for p in range(3)
            ]
        )
        assert np.array_equal(_corridor_soon(lateral, half, offsets, look, 81), want)
    assert _corridor_soon(np.zeros((0, 81)), np.zeros(0), offsets, 10, 81).shape == (3, 0, 81)
