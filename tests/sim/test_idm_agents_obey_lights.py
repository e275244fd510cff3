"""Simulated ``idm`` traffic obeys traffic lights with the planners' rule: the red_light_queue
scenario (an IDM car stops at the line, the ego queues behind it, both go at green), an agent
without a light to stop at drives bit for bit as without lights, scripted agents drive
through, and the stops an agent carries are those of the lanes its path is in."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drivestack.planning.idm import IDMParams
from drivestack.planning.pdm import PDMParams
from drivestack.planning.traffic_lights import RouteLightStop, stop_need_mps2
from drivestack.sim.agents import LIGHT_STOP_DECEL_MPS2, AgentSpec, Traffic
from drivestack.sim.build import BuiltScenario, build_scenario
from drivestack.sim.evaluate import ScenarioResult, run_scenario
from drivestack.sim.scenario import ScenarioConfig, load_scenarios
from drivestack.structures.labels import ObjectClass
from drivestack.structures.traffic_light import SIGNAL_STATES, STOP_STATES

SCENARIOS = Path(__file__).resolve().parents[2] / "configs" / "scenarios"
STOPS = [SIGNAL_STATES.index(s) for s in STOP_STATES]
GREEN, YELLOW = SIGNAL_STATES.index("green"), SIGNAL_STATES.index("yellow")
LINE_X_M = 100.0  # light L1's stop line: station 200 m of the straight road's lanes
CAR_M = (4.5, 1.85, 1.5)
FAR_EGO = np.array([-500.0, 50.0, 0.75, 4.5, 1.85, 1.5, 0.0])  # out of every agent's way


def queue() -> ScenarioConfig:
    (cfg,) = load_scenarios(SCENARIOS / "red_light_queue.yaml")
    return cfg


def lead_front_x_m(result: ScenarioResult) -> np.ndarray:
    """``(T,)`` x of the lead car's front bumper (the road runs along +x)."""
    box = result.history.agent_boxes[:, 0]
    return box[:, 0] + 0.5 * box[:, 3]


def lead_speed_mps(result: ScenarioResult) -> np.ndarray:
    return np.hypot(*result.history.agent_velocity_mps[:, 0].T)


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_the_lead_stops_at_the_red_and_the_ego_queues_behind_it(planner: str) -> None:
    built = build_scenario(queue())
    (lead,) = built.world.traffic.specs
    assert lead.light_stops == (RouteLightStop("L1", "road_0", 200.0),)  # on its lane's path
    result = run_scenario(built, planner)
    history = result.history
    state = history.traffic_light_state[:, 0]
    red = np.isin(state, STOPS)
    front, speed = lead_front_x_m(result), lead_speed_mps(result)
    # the lead car: before the line all through red, at rest there, and past it after green
    assert red.any() and np.all(front[red] < LINE_X_M)
    assert speed[red].min() < 0.05
    # the planners' light-stop law eases off within two gaps of the line: it comes to rest
    # between its stop point (min_gap_m before the line) and the line (measured: 1.01 m)
    assert 1.0 <= LINE_X_M - front[red].max() <= IDMParams().min_gap_m
    first_green = int(np.flatnonzero(red)[-1]) + 1
    assert state[first_green] == GREEN
    crossed = int(np.flatnonzero(front > LINE_X_M)[0])
    assert crossed > first_green and front[-1] > LINE_X_M + 50.0
    # by hand: at the first yellow tick the line is 62.75 - 13.89 = 48.86 m ahead of its
    # front; the stop 2 m (s0) before it needs 13.89^2 / (2 x 46.86) = 2.06 m/s^2 <= b = 3, so
    # it stops at the decision's max(2.06, b) = 3 m/s^2. The law -v^2 / (2 d) + (sqrt(2 b d)
    # - v) (d: to the stop point) is +0.82 m/s^2 there, above IDM's 0 at its desired speed: it
    # coasts, and brakes once the law turns negative (d = 43.3 m, t = 1.26 s)
    k = int(np.flatnonzero(state == YELLOW)[0])
    p, v, gap = IDMParams(), speed[k], LINE_X_M - front[k]
    assert gap == pytest.approx(62.75 - 13.89 * 1.0, abs=1e-6)

    def law(v: float, room: float) -> float:
        d = room - p.min_gap_m
        return -v * v / (2.0 * d) + (math.sqrt(2.0 * 3.0 * d) - v)

    assert law(v, gap) == pytest.approx(0.82, abs=0.01)
    assert speed[k + 1] == speed[k]
    braking = np.diff(speed) / history.dt_s
    j = int(np.flatnonzero(braking < 0.0)[0])
    assert history.dt_s * j == pytest.approx(1.3)
    assert braking[j] == pytest.approx(law(speed[j], LINE_X_M - front[j]), rel=1e-6)
    # it peaks at about the decision's 3 m/s^2 (IDM with the line as a standing leader braked
    # at once at 2.93 m/s^2 and peaked there; a nearer leader hid the line until it crossed)
    assert -braking.min() == pytest.approx(3.0, abs=0.05)
    assert speed[k] == speed[k - 1]  # at green it cruised
    # the ego: at rest behind the lead's rear while red, never touching it
    ego_front = history.ego_boxes[:, 0] + 0.5 * history.ego_boxes[:, 3]
    lead_rear = history.agent_boxes[:, 0, 0] - 0.5 * history.agent_boxes[:, 0, 3]
    assert history.ego_speed_mps[red].min() < 0.05
    assert np.all(lead_rear - ego_front > 1.0)
    assert not history.collisions.any()
    assert result.red_light.count == 0
    assert result.passed, result.failures  # min_progress_m: the ego's rear axle well past


def test_a_lead_car_without_a_light_to_stop_at_drives_as_without_lights() -> None:
    """Bit for bit: the light always green, and a light on the other lane only, each against
    the same run with no lights on the map."""
    cfg = queue()
    no_lights = dataclasses.replace(cfg, traffic_lights=[])
    (light,) = cfg.traffic_lights
    assert light.stops is not None
    always_green = dataclasses.replace(
        cfg, traffic_lights=[dataclasses.replace(light, phases=[("green", 10.0)])]
    )
    other_lane = dataclasses.replace(
        cfg, traffic_lights=[dataclasses.replace(light, stops=light.stops[1:])]
    )
    assert [s.lane for s in light.stops[1:]] == ["road_1"]
    reference = run_scenario(no_lights, "idm").history
    assert reference.traffic_light_ids == ()
    for variant, stops in [(always_green, 1), (other_lane, 0)]:
        built = build_scenario(variant)
        assert len(built.world.traffic.specs[0].light_stops) == stops
        history = run_scenario(built, "idm").history
        for name in ("agent_boxes", "agent_velocity_mps", "ego_boxes", "ego_speed_mps"):
            assert np.array_equal(getattr(history, name), getattr(reference, name)), name


def test_a_scripted_agent_drives_through_the_red() -> None:
    cfg = queue()
    scripted = dataclasses.replace(
        cfg,  # (a scripted agent has no desired speed: it keeps its own)
        agents=[dataclasses.replace(cfg.agents[0], behavior="scripted", desired_speed_mps=None)],
    )
    built = build_scenario(scripted)
    (spec,) = built.world.traffic.specs
    assert spec.light_stops == ()
    world = built.world
    crossed_in = None
    for _ in range(60):  # 6 s: red from 4 s, the lead's front at the line at 4.5 s
        world.step(0.0, 0.0)
        box = world.traffic.boxes()[0]
        if crossed_in is None and box[0] + 0.5 * box[3] > LINE_X_M:
            crossed_in = dict(world.traffic_light_states())["L1"]
    assert crossed_in == "red"
    assert world.traffic.state.speed_mps[0] == pytest.approx(13.89)  # it held its speed


def test_only_idm_agents_carry_light_stops() -> None:
    stop = RouteLightStop("L1", "road_0", 200.0)
    path = np.array([[0.0, 0.0], [300.0, 0.0]])
    with pytest.raises(ValueError, match="'car': only idm agents obey traffic lights"):
        AgentSpec("car", ObjectClass.CAR, CAR_M, "scripted", path_m=path, light_stops=(stop,))
    # the rule's red-light limit is the planners' default
    assert PDMParams().light_stop_decel_mps2 == LIGHT_STOP_DECEL_MPS2


def build_text(tmp_path: Path, text: str) -> BuiltScenario:
    """The one scenario of the YAML ``text`` (written to ``tmp_path / "s.yaml"``), built."""
    (tmp_path / "s.yaml").write_text(text)
    (cfg,) = load_scenarios(tmp_path / "s.yaml")
    return build_scenario(cfg)


def test_an_agent_changing_lanes_keeps_the_stop_of_the_lane_it_is_in(tmp_path: Path) -> None:
    """Lanes road_1 then road_0: the path leaves road_1 halfway along it (station 300 m), so
    at station 200 m it is on road_1: road_1's stop is kept (at 200 m along the path), road_0's
    (3.5 m to the side, beyond its half width of 1.75 m) is not. An idm agent on a ``path_m``
    (along road_0's centreline, y = 1.75 m) has no lanes, so no stops."""
    text = (
        "name: t\nmap: {kind: straight, params: {n_lanes: 2}}\n"
        "ego: {lane: road_0, station_m: 20.0, speed_kph: 0.0}\nduration_s: 1.0\n"
        "agents:\n  - {id: a, type: car, behavior: idm, lanes: [road_1, road_0], "
        "station_m: 50.0, speed_mps: 10.0}\n"
        "  - {id: b, type: car, behavior: idm, path_m: [[-100.0, 1.75], [400.0, 1.75]], "
        "station_m: 80.0, speed_mps: 10.0}\n"
        "traffic_lights:\n  - {id: L1, stops: [{lane: road_0, station_m: 200.0}, "
        "{lane: road_1, station_m: 200.0}], phases: [[red, 10.0]]}\n"
    )
    spec, on_path = build_text(tmp_path, text).world.traffic.specs
    assert [(s.light_id, s.lane_id) for s in spec.light_stops] == [("L1", "road_1")]
    assert spec.light_stops[0].station_m == pytest.approx(200.0, abs=1e-9)
    assert on_path.light_stops == ()


def lone_agent(room_m: float, speed_mps: float, *, lights: bool = True) -> Traffic:
    """One idm car on a straight path, its front ``room_m`` before a stop line at 300 m
    (``lights``: it carries the line's stop)."""
    spec = AgentSpec(
        "a",
        ObjectClass.CAR,
        CAR_M,
        "idm",
        path_m=np.array([[0.0, 0.0], [1000.0, 0.0]]),
        station_m=300.0 - room_m - 0.5 * CAR_M[0],
        speed_mps=speed_mps,
        desired_speed_mps=max(speed_mps, 1.0),
        light_stops=(RouteLightStop("L", "lane", 300.0),) if lights else (),
    )
    return Traffic([spec])


def fronts_m(traffic: Traffic, lights: tuple[tuple[str, str], ...] | None) -> np.ndarray:
    """``(100,)`` the lone agent's front station over 10 s (``lights None``: step without)."""
    out = []
    for _ in range(100):
        state = (
            traffic.step(0.1, FAR_EGO, 0.0)
            if lights is None
            else traffic.step(0.1, FAR_EGO, 0.0, lights)
        )
        out.append(float(state.station_m[0]) + 0.5 * CAR_M[0])
    return np.array(out)


@settings(max_examples=15, deadline=None)
@given(room_m=st.floats(-0.4, 100.0), speed_mps=st.floats(0.0, 20.0))
def test_a_red_light_stops_an_agent_that_can_stop_within_the_hard_limit(
    room_m: float, speed_mps: float
) -> None:
    """Red from the start: an agent whose stop (``min_gap_m`` before the line) needs at most
    LIGHT_STOP_DECEL_MPS2 never puts its front past the line; one that needs more drives
    through as without the light (committed). Green, or no states given (Traffic.step
    without lights: unknown), is bit for bit the agent without light stops."""
    traffic = lone_agent(room_m, speed_mps)
    room = 300.0 - (traffic.specs[0].station_m + 0.5 * CAR_M[0])  # room_m as rounded there
    need = stop_need_mps2(speed_mps**2, room, IDMParams().min_gap_m)
    assume(abs(need - LIGHT_STOP_DECEL_MPS2) > 1e-6)
    unlit = fronts_m(lone_agent(room_m, speed_mps, lights=False), None)
    red = fronts_m(traffic, (("L", "red"),))
    if need <= LIGHT_STOP_DECEL_MPS2:
        # (one standing up to FRONT_TOLERANCE_M past the line at the start stays there)
        assert red.max() <= max(300.0, 300.0 - room)
    else:
        assert np.array_equal(red, unlit)
    for lights in [None, (("L", "green"),)]:
        assert np.array_equal(fronts_m(lone_agent(room_m, speed_mps), lights), unlit)
    traffic.reset()  # forgets its decisions: the same run again is the same
    assert np.array_equal(fronts_m(traffic, (("L", "red"),)), red)


def platoon_agent(agent_id: str, station_m: float) -> AgentSpec:
    """An idm car at 13.89 m/s on a straight path along x with a stop line at x = 200 m."""
    return AgentSpec(
        agent_id,
        ObjectClass.CAR,
        CAR_M,
        "idm",
        path_m=np.array([[0.0, 0.0], [1000.0, 0.0]]),
        station_m=station_m,
        speed_mps=13.89,
        desired_speed_mps=13.89,
        light_stops=(RouteLightStop("L", "lane", 200.0),),
    )


def test_an_agent_behind_a_car_that_goes_through_the_yellow_stops_at_about_its_need() -> None:
    """The multi-lane walkthrough's b1/b2: yellow at t = 1 s, red at 4 s. The front car (front
    at 152.25 + 13.89 = 166.14 m then, 33.86 m before the line) needs 13.89^2 / (2 x 31.86) =
    3.03 m/s^2 > b = 3 m/s^2 and goes through; the one behind (a little slowed by IDM for the
    car ahead) needs about 1.45 m/s^2 and stops. It brakes at about max(need, b) = 3 m/s^2,
    not only once the car ahead has crossed (it then braked at 6.9 m/s^2: IDM followed the
    nearer of that car and the line)."""
    traffic = Traffic([platoon_agent("b1", 150.0), platoon_agent("b2", 125.0)])
    speeds, fronts = [], []
    for k in range(200):
        state = "green" if k < 10 else "yellow" if k < 40 else "red"
        st_ = traffic.step(0.1, FAR_EGO, 0.0, (("L", state),))
        speeds.append(st_.speed_mps.copy())
        fronts.append(st_.station_m + 0.5 * CAR_M[0])
    speed, front = np.array(speeds), np.array(fronts)
    v, room = speed[9, 1], 200.0 - front[9, 1]  # at the first yellow tick
    need = stop_need_mps2(v * v, room, IDMParams().min_gap_m)
    assert 1.3 < need < 1.6
    braking = -np.diff(speed, axis=0).min(axis=0) / 0.1
    assert braking[0] == 0.0 and front[-1, 0] > 400.0  # b1 drove through at its speed
    assert braking[1] == pytest.approx(3.0, abs=0.1)
    assert front[:, 1].max() < 200.0 and speed[-1, 1] < 0.05  # b2 stopped before the line


@pytest.mark.parametrize("speed_mps", [10.0, 12.0])
def test_a_red_needing_more_than_the_comfort_deceleration_is_braked_for_at_the_need(
    speed_mps: float,
) -> None:
    """Red from the start, no car ahead, the stop needing 3.17 m/s^2 (above b = 3): the first
    tick brakes at exactly the need (the law on its curve: -v^2 / (2 d) + (sqrt(2 need d) - v)
    = -need) and the braking stays about there (IDM with the line as a standing leader took
    this stop at 7.8 m/s^2)."""
    need = 3.17
    room = speed_mps**2 / (2.0 * need) + IDMParams().min_gap_m
    traffic = lone_agent(room, speed_mps)
    room = 300.0 - (traffic.specs[0].station_m + 0.5 * CAR_M[0])  # as rounded there
    need = stop_need_mps2(speed_mps**2, room, IDMParams().min_gap_m)
    speeds = [speed_mps]
    fronts = []
    for _ in range(100):
        state = traffic.step(0.1, FAR_EGO, 0.0, (("L", "red"),))
        speeds.append(float(state.speed_mps[0]))
        fronts.append(float(state.station_m[0]) + 0.5 * CAR_M[0])
    braking = -np.diff(speeds) / 0.1
    assert braking[0] == pytest.approx(need, rel=1e-9)
    assert braking.max() == pytest.approx(need, abs=0.1)
    assert max(fronts) < 300.0 and speeds[-1] < 0.05


def test_a_lateral_shift_into_another_lane_keeps_the_lights_of_its_lanes(tmp_path: Path) -> None:
    """Documented (docs/scenarios.md, Simulated traffic): an agent on ``lanes: [road_1]`` that
    shifts into road_0 with ``lateral_shifts`` carries road_1's stops only, so it drives
    through road_0's red (the walkthrough's lc3.yaml)."""
    text = (
        "name: t\nmap: {kind: straight, params: {n_lanes: 2}}\n"
        "ego: {lane: road_1, station_m: 20.0, speed_kph: 0.0}\nduration_s: 12.0\n"
        "agents:\n  - {id: sh, type: car, behavior: idm, lanes: [road_1], station_m: 150.0, "
        "speed_mps: 10.0, desired_speed_mps: 10.0, lateral_shifts: [{time_s: 1.0, "
        "duration_s: 3.0, offset_m: -3.5}]}\n"
        "traffic_lights:\n  - {id: R0, stops: [{lane: road_0, station_m: 250.0}], "
        "phases: [[red, 100.0]]}\n"
    )
    built = build_text(tmp_path, text)
    (spec,) = built.world.traffic.specs
    assert spec.light_stops == ()
    world = built.world
    for _ in range(120):
        world.step(0.0, 0.0)
    assert world.traffic.state.station_m[0] == pytest.approx(150.0 + 10.0 * 12.0)
