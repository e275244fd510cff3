"""Untested error and edge branches of the PDM stop reasons, AV2-log track checks, the sensor
scene, roadside lines, perceived-world wrappers, run evaluation and give-way checks that a
coverage run found (each test's docstring states the rule)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest

from drivestack.core.errors import ConfigError, DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.pdm import PDMPlanner, stop_reason
from drivestack.planning.scoring import ProposalScores
from drivestack.sim.av2_log import track_agents
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import (
    PlannerParams,
    ended_stopped_reason,
    run_scenario,
    stopped_label,
)
from drivestack.sim.give_way import blocking_actor
from drivestack.sim.perceived import PerceivedWorld, ground_truth_world, observers
from drivestack.sim.scenario import load_scenarios
from drivestack.sim.sensors import SensorScene
from drivestack.sim.sensors.roadside import points_at
from drivestack.sim.sensors.scene import Material, SceneObject
from drivestack.sim.vehicle import VehicleParams
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from tests.planning.test_pdm_stops import _rollout
from tests.sim.test_av2_log_scenarios import _cuboids, av2_log_scenario

REPO = Path(__file__).resolve().parents[2]
BOX = [5.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]


# -- planning/pdm.py: stop_reason -------------------------------------------------------------


def _scores(collision: list[float], drivable: list[float]) -> ProposalScores:
    ones = np.ones(len(collision))
    return ProposalScores(ones, np.asarray(collision), np.asarray(drivable), ones, ones, ones, ones)


@pytest.mark.parametrize(
    ("x_m", "station_m", "want"),
    [
        ([0.0, -1.0, -2.0], [20.0, 19.0, 18.0], "no progress along the route"),
        ([0.0, 1.0, 2.0], [20.0, 21.0, 22.0], None),
    ],
)
def test_stop_reason_is_no_progress_when_the_best_proposal_loses_station(
    x_m: list[float], station_m: list[float], want: str | None
) -> None:
    """Every proposal free and on the road, facing along the route: the stop reason is 'no
    progress along the route' exactly when the best proposal travels without gaining
    station; with progress there is none."""
    path = PDMPlanner(straight_road(), ["road_0"]).reference
    reason = stop_reason(_scores([1.0], [1.0]), _rollout(x_m, station_m), 0, 2, path, 20.0, 0.0)
    assert reason == want


def test_stop_reason_order_collision_before_drivable_before_heading() -> None:
    """The reasons come in their documented order: all colliding first, then none both free
    and on the road, then facing against the route, then none on the road."""
    path = PDMPlanner(straight_road(), ["road_0"]).reference
    roll = _rollout([0.0, 1.0, 2.0], [20.0, 21.0, 22.0])
    back = math.pi
    assert stop_reason(_scores([0.0], [1.0]), roll, 0, 2, path, 20.0, back) == (
        "every proposal collides"
    )
    two = _scores([1.0, 0.0], [0.0, 1.0])
    assert stop_reason(two, roll, 0, 2, path, 20.0, back) == (
        "no collision-free proposal stays on the drivable area"
    )
    assert stop_reason(_scores([1.0], [1.0]), roll, 0, 2, path, 20.0, back) == (
        "facing against the route"
    )
    assert stop_reason(_scores([1.0], [0.0]), roll, 0, 2, path, 20.0, 0.0) == (
        "no proposal stays on the drivable area"
    )


# -- sim/av2_log.py: _check_track_rows ----------------------------------------------------------


def test_a_cuboid_table_without_rows_is_a_data_error_naming_file_and_field() -> None:
    """An annotation table with no row gives no replay agent: DataError naming the file and
    timestamp_ns, not an empty (silently trafficless) scenario."""
    poses = SE3.from_xyz_yaw(np.zeros((1, 3)), np.zeros(1))
    with pytest.raises(DataError) as info:
        track_agents(_cuboids([]), poses, np.array([0], dtype=np.int64))
    assert info.value.path == "annotations.feather"
    assert info.value.field == "timestamp_ns"
    assert "no annotated cuboids" in str(info.value)


def test_a_row_without_track_uuid_is_a_data_error_naming_the_row() -> None:
    """A cuboid row with an empty track_uuid (a detection, not a label) cannot be replayed:
    DataError naming the file, its row and track_uuid."""
    sweeps = np.array([0, 100_000_000], dtype=np.int64)
    poses = SE3.from_xyz_yaw(np.zeros((2, 3)), np.zeros(2))
    rows = [(0, "a", "REGULAR_VEHICLE", BOX), (100_000_000, "", "REGULAR_VEHICLE", BOX)]
    with pytest.raises(DataError) as info:
        track_agents(_cuboids(rows), poses, sweeps)
    err = info.value
    assert (err.path, err.record, err.field) == ("annotations.feather", "row 1", "track_uuid")
    assert "annotations.feather" in str(err) and "row 1" in str(err)


def test_two_tracks_whose_uuid_and_time_concatenate_alike_are_not_a_duplicate() -> None:
    """Only one track at one sweep twice is a duplicate: track 'a1' at 0 ns and track 'a'
    at 10 ns are two tracks at two sweeps and are both replayed (their joined keys 'a10'
    were taken for one track twice)."""
    sweeps = np.array([0, 10], dtype=np.int64)
    poses = SE3.from_xyz_yaw(np.zeros((2, 3)), np.zeros(2))
    rows = [(0, "a1", "REGULAR_VEHICLE", BOX), (10, "a", "REGULAR_VEHICLE", BOX)]
    assert len(track_agents(_cuboids(rows), poses, sweeps)) == 2


def test_a_malformed_file_of_an_av2_log_folder_is_named_not_map_log(tmp_path: Path) -> None:
    """A map.log folder holding the AV2 files, one of them corrupt, is the data's error: the
    DataError names that file (the folder is right, map.log is not blamed)."""
    folder = tmp_path / "log"
    folder.mkdir()
    for name in ("annotations.feather", "city_SE3_egovehicle.feather"):
        (folder / name).write_bytes(b"garbage")
    with pytest.raises(DataError) as info:
        build_scenario(av2_log_scenario(tmp_path / "s.yaml", folder))
    assert not isinstance(info.value, ConfigError)
    assert info.value.path == str(folder / "annotations.feather")
    assert "cannot read Feather table" in str(info.value)


# -- sim/sensors/scene.py --------------------------------------------------------------------


def _scene_with_car(velocity_mps: tuple[float, float]) -> SensorScene:
    """No ground, one car 10 m ahead along +x (its box 4 m long)."""
    scene = SensorScene(ground=False)
    scene.set_agents(
        Boxes3D.from_array7(
            [[10.0, 0.0, 0.8, 4.0, 2.0, 1.6, 0.0]],
            "world",
            label=[int(ObjectClass.CAR)],
            velocity_mps=[velocity_mps],
        )
    )
    return scene


def _rays_ahead(n: int) -> np.ndarray:
    rays = np.zeros((n, 6), dtype=np.float32)
    rays[:, 2] = 0.8
    rays[:, 3] = 1.0
    return rays


def test_a_static_box_that_is_not_numbers_names_the_object() -> None:
    """A static object's box that cannot be read as numbers is a ValueError naming
    static_objects[i].box and the value given."""
    bad = SceneObject(cast(Any, ("a",) * 7), Material.BUILDING)
    good = SceneObject((0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0), Material.POLE)
    with pytest.raises(ValueError, match=r"static_objects\[1\]\.box must be 7 numbers.*'a'"):
        SensorScene([good, bad])


def test_agent_times_of_another_length_than_the_rays_are_refused() -> None:
    """agent_dt_s needs one time per ray: another length is a ValueError giving both."""
    scene = _scene_with_car((5.0, 0.0))
    with pytest.raises(ValueError, match=r"one time per ray \(3\), got shape \(2,\)"):
        scene.cast_rays(_rays_ahead(3), 50.0, agent_dt_s=np.zeros(2))


def test_no_rays_with_agent_times_give_no_hits() -> None:
    """Zero rays cast with agent times give zero hits (empty arrays), no error."""
    hits = _scene_with_car((5.0, 0.0)).cast_rays(_rays_ahead(0), 50.0, agent_dt_s=np.zeros(0))
    assert hits.range_m.shape == (0,) and hits.instance.shape == (0,)


def test_standing_agents_are_cast_as_set_whatever_the_ray_times() -> None:
    """Agents that do not move are where they are set at any ray time: the car's near face
    (8 m ahead) is hit by every ray, as without agent times."""
    scene = _scene_with_car((0.0, 0.0))
    rays = _rays_ahead(4)
    timed = scene.cast_rays(rays, 50.0, agent_dt_s=np.array([0.0, 0.1, 0.1, 0.5]))
    untimed = scene.cast_rays(rays, 50.0)
    np.testing.assert_allclose(timed.range_m, 8.0, atol=1e-4)
    np.testing.assert_array_equal(timed.range_m, untimed.range_m)
    np.testing.assert_array_equal(timed.instance, untimed.instance)


def test_moving_agents_are_moved_to_each_ray_time() -> None:
    """A car driving away at 10 m/s is hit 1 m farther by a ray 0.1 s later (contrast to the
    standing case above)."""
    scene = _scene_with_car((10.0, 0.0))
    hits = scene.cast_rays(_rays_ahead(2), 50.0, agent_dt_s=np.array([0.0, 0.1]))
    np.testing.assert_allclose(hits.range_m, [8.0, 9.0], atol=1e-4)


# -- sim/sensors/roadside.py -----------------------------------------------------------------


def test_points_along_a_line_of_one_repeated_point_stay_there() -> None:
    """A polyline without a segment of length (all points equal) gives its point at every
    station, with the unit tangent +x (not NaN)."""
    line = np.array([[2.0, 3.0], [2.0, 3.0], [2.0, 3.0]])
    xy, tangent = points_at(line, np.array([0.0, 1.0, 5.0]))
    np.testing.assert_array_equal(xy, [[2.0, 3.0]] * 3)
    np.testing.assert_array_equal(tangent, [[1.0, 0.0]] * 3)


# -- sim/perceived.py ------------------------------------------------------------------------


class _Observer:
    name = "none"

    def reset(self) -> None:
        pass

    def observe(self, world: object) -> Any:
        raise AssertionError("not observed")


def test_ground_truth_world_unwraps_every_wrapper() -> None:
    """The ground truth of a world wrapped twice is the innermost World, and observers lists
    the wrappers' observers outermost first."""
    built = build_scenario(load_scenarios(REPO / "configs/scenarios/ccrs.yaml")[0])
    inner, outer = _Observer(), _Observer()
    world = PerceivedWorld(PerceivedWorld(built.world, cast(Any, inner)), cast(Any, outer))
    assert ground_truth_world(world) is built.world
    assert ground_truth_world(built.world) is built.world
    assert observers(world) == [outer, inner]


# -- sim/evaluate.py -------------------------------------------------------------------------


def test_a_wrapped_world_with_another_vehicle_than_the_params_is_refused() -> None:
    """run_scenario cannot change a wrapped world's vehicle: params.vehicle differing from it
    is a ValueError naming the wrapper and saying how to fix it; the same vehicle runs on."""
    built = build_scenario(load_scenarios(REPO / "configs/scenarios/ccrs.yaml")[0])
    wrapped = dataclasses.replace(
        built, world=cast(Any, PerceivedWorld(built.world, cast(Any, _Observer())))
    )
    other = PlannerParams(vehicle=VehicleParams(length_m=4.0))
    with pytest.raises(ValueError, match=r"wrapped \(PerceivedWorld\) with another vehicle"):
        run_scenario(wrapped, "idm", max_steps=1, params=other)


def _history(reasons: list[str], speed_mps: float) -> Any:
    return SimpleNamespace(
        planner_stop_reason=np.asarray(reasons, dtype=str),
        ego_speed_mps=np.full(max(len(reasons), 1), speed_mps),
    )


def test_ended_stopped_reason_of_a_run_without_planner_calls_is_none() -> None:
    """A history without planner calls has no stop reason (None, not an IndexError)."""
    assert ended_stopped_reason(_history([], 0.0)) is None
    assert ended_stopped_reason(_history(["", "every proposal collides"], 0.0)) == (
        "every proposal collides"
    )
    assert ended_stopped_reason(_history(["every proposal collides"], 3.0)) is None


@pytest.mark.parametrize(
    "counts",
    [
        None,
        {},
        {"other": {"planner_calls": 1}},
        "x",
        # damaged counts for the reason itself (a KeyError / format error before)
        {"facing against the route": {"planner_calls": 3}},
        {"facing against the route": {"first_time_s": "soon", "planner_calls": 3}},
        {"facing against the route": {"first_time_s": 0.3, "planner_calls": True}},
    ],
)
def test_stopped_label_without_counts_for_the_reason_gives_the_reason_alone(
    counts: object,
) -> None:
    """A record whose stop_reasons lacks the reason it ended stopped for (an older record), or
    holds damaged counts for it, is labelled with the reason alone."""
    record: dict[str, object] = {"ended_stopped_reason": "facing against the route"}
    if counts is not None:
        record["stop_reasons"] = counts
    assert stopped_label(record) == "ended stopped: facing against the route"


# -- sim/give_way.py -------------------------------------------------------------------------


def test_no_conflict_or_no_actor_blocks_no_one() -> None:
    """Without conflicts, or without actors, nothing holds up an agent at its sign."""
    xy = np.zeros((1, 2))
    one = np.ones(1)
    assert blocking_actor((), xy, one, one, one, 1.0) is None
    assert blocking_actor((), np.zeros((0, 2)), one[:0], one[:0], one[:0], 1.0) is None
