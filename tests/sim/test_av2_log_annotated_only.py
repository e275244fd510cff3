"""AV2 log agents for open loop (``annotated_only``): a track is present only while it is
annotated, judged at the sweep nearest each time, and nothing about its later rows decides
that; the closed-loop default (stationary tracks held over the log) is unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.transforms import SE3
from drivestack.ingest.argoverse2 import Av2Cuboids, read_av2_cuboids
from drivestack.sim.av2_log import annotated_spans, read_av2_log, track_agents
from drivestack.sim.world import World

ADCF = "argoverse2/sensor/val/adcf7d18-0510-35b0-a2fa-b4cea13a6d76"
CAR = [10.0, 3.0, 0.0, 4.5, 1.9, 1.6, 0.0]


def _cuboids(rows: list[tuple[int, str, list[float]]]) -> Av2Cuboids:
    """Cars: ``(timestamp_ns, track_uuid, [x, y, z, l, w, h, yaw])`` rows."""
    n = len(rows)
    boxes = np.array([r[2] for r in rows], dtype=float).reshape(n, 7)
    return Av2Cuboids(
        timestamp_ns=np.array([r[0] for r in rows], dtype=np.int64),
        track_uuid=np.array([r[1] for r in rows], dtype=str),
        category=np.array(["REGULAR_VEHICLE"] * n, dtype=str),
        boxes=boxes,
        quaternion_wxyz=np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
        num_interior_pts=np.full(n, 10, dtype=np.int64),
        score=np.ones(n),
        log_id=np.full(n, "log", dtype=str),
        path="annotations.feather",
    )


def _parked_ego(n: int) -> tuple[np.ndarray, SE3]:
    sweeps = np.arange(n, dtype=np.int64) * 100_000_000
    return sweeps, SE3.from_xyz_yaw(np.zeros((n, 3)), np.zeros(n))


def test_a_parked_car_appears_when_annotated_not_from_the_start() -> None:
    # sweeps every 0.1 s, t = 0 .. 1.5 s; a parked car annotated at 0.5 .. 0.9 s only
    sweeps, poses = _parked_ego(16)
    rows = [(int(sweeps[k]), "parked", CAR) for k in range(5, 10)]
    held = track_agents(_cuboids(rows), poses, sweeps)[0].replay
    seen = track_agents(_cuboids(rows), poses, sweeps, annotated_only=True)[0].replay
    assert held is not None and seen is not None
    # closed loop (unchanged): held from 0 to the last sweep
    np.testing.assert_allclose(held.time_s, [0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.5])
    # open loop: from half a sweep before its first annotation to half one after its last
    np.testing.assert_allclose(seen.time_s, [0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    np.testing.assert_allclose(seen.x_m, 10.0)


def test_a_missed_sweep_splits_a_track_and_a_lone_sweep_is_seen_around_it() -> None:
    sweeps, poses = _parked_ego(10)
    rows = [(int(sweeps[k]), "car", CAR) for k in (0, 1, 2, 4, 7)]
    agents = track_agents(_cuboids(rows), poses, sweeps, annotated_only=True)
    assert [a.agent_id for a in agents] == ["car#0", "car#1", "car#2"]
    spans = [(a.replay.time_s[0], a.replay.time_s[-1]) for a in agents if a.replay]
    np.testing.assert_allclose(spans, [(0.0, 0.25), (0.35, 0.45), (0.65, 0.75)])
    # the closed-loop default: stationary, one agent bridged and held over the log
    assert [a.agent_id for a in track_agents(_cuboids(rows), poses, sweeps)] == ["car"]


@settings(max_examples=60, deadline=None)
@given(
    present=st.lists(st.booleans(), min_size=2, max_size=25),
    gaps=st.lists(st.floats(0.09, 0.11), min_size=24, max_size=24),
    at=st.floats(0.0, 1.0),
)
def test_present_exactly_when_annotated_at_the_nearest_sweep(
    present: list[bool], gaps: list[float], at: float
) -> None:
    # jittered sweeps (like AV2's 96-103 ms); a track annotated where ``present``
    t = np.concatenate([[0.0], np.cumsum(gaps[: len(present) - 1])])
    track = np.flatnonzero(present)
    query = at * t[-1]
    nearest = int(np.argmin(np.abs(t - query)))
    midpoints = 0.5 * (t[1:] + t[:-1])
    if track.size == 0 or np.min(np.abs(midpoints - query), initial=1.0) < 1e-6:
        return  # no track, or a tie between two sweeps
    spans = annotated_spans(track, t)
    inside = any(start - 1e-9 <= query <= stop + 1e-9 for _, start, stop in spans)
    assert inside == bool(present[nearest])
    # the parts are the runs of consecutive sweeps, each row in one part
    assert np.concatenate([part for part, _, _ in spans]).tolist() == list(range(track.size))
    # what is seen up to a sweep does not depend on the annotations after the next one
    cut = track[track <= nearest + 1]
    if cut.size:
        early = annotated_spans(cut, t[: nearest + 2])
        inside_early = any(start - 1e-9 <= query <= stop + 1e-9 for _, start, stop in early)
        assert inside_early == inside


@pytest.mark.data
def test_open_loop_agents_are_those_annotated_at_the_nearest_sweep(shared_data: Path) -> None:
    log_dir = shared_data / ADCF
    seen_log = read_av2_log(log_dir, annotated_only=True)
    held_log = read_av2_log(log_dir)
    cuboids = read_av2_cuboids(log_dir / "annotations.feather")
    sweeps = np.unique(cuboids.timestamp_ns)
    sweep_s = (sweeps - sweeps[0]) / 1e9
    for log, annotated_only in ((seen_log, True), (held_log, False)):
        world = World(log.road_map, _start(log), list(log.agents), dt_s=0.1)
        for instant_s in (0.0, 5.0, 12.0):
            while world.tick < round(instant_s / 0.1):
                world.step(0.0, 0.0)
            ids = {a.split("#")[0] for a in world.observe().agent_ids}
            nearest = sweeps[int(np.argmin(np.abs(sweep_s - instant_s)))]
            annotated = set(cuboids.track_uuid[cuboids.timestamp_ns == nearest].tolist())
            if annotated_only:
                assert ids == annotated
            else:  # closed loop also shows parked objects annotated only later or earlier
                assert ids > annotated


def _start(log: object) -> object:
    from drivestack.sim.vehicle import BicycleState

    x, y, yaw, speed = log.ego_initial  # type: ignore[attr-defined]
    return BicycleState.of(x, y, yaw, speed)
