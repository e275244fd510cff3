"""More scenario input checks, each a ConfigError naming the file and the key where the
mistake is written: an agent overlapping the ego at the start, events that cannot happen,
a map file that is not there, a misspelled key in a sweep case, synthetic map parameters
that leave no road."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.core.errors import ConfigError
from drivestack.sim.build import build_scenario
from drivestack.sim.scenario import ScenarioConfig, load_scenarios, set_dotted
from tests.sim.scenario_errors import scenario_error

HEAD = "name: t\nmap: {kind: straight, params: {n_lanes: 2}}\nduration_s: 2.0\n"
EGO = "ego: {lane: road_0, station_m: 100.0, speed_kph: 60.0}\n"
SHIFT = "lateral_shifts: [{time_s: 1.0, duration_s: 2.5, offset_m: -3.5}]"
STOP = "speed_events: [{time_s: 1.0, accel_mps2: -4.0, target_speed_mps: 0.0}]"


def _agent(where: str, events: str = SHIFT) -> str:
    return f"agents:\n  - {{id: cutter, behavior: scripted, {where}, speed_kph: 40.0, {events}}}\n"


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(tmp_path: Path, text: str) -> str:
    """The one-line message of the ConfigError that loading and building ``text`` raises."""
    return scenario_error(tmp_path, text)


def _cli_error(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> str:
    """``drivestack sim``'s one error line for ``text`` (exit 2, nothing written)."""
    path = _write(tmp_path, text)
    out = tmp_path / "out"
    assert main(["sim", str(path), "--out", str(out), "--planner", "pdm", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}: field ")
    assert not out.exists()
    return err[0]


# --- an agent overlapping the ego at t = 0 (was scored as a collision at tick 0) ------------


def test_agent_overlapping_the_ego_at_the_start_is_refused(tmp_path: Path, capsys) -> None:
    line = _cli_error(tmp_path, HEAD + EGO + _agent("lanes: [road_0], station_m: 101.0"), capsys)
    assert "field agents.0.station_m: 101.0 m puts agent 'cutter' on the ego at the start" in line
    assert "its 4.50 x 1.85 m box" in line and "overlaps it by " in line
    assert "m lengthwise and 1.85 m across" in line


def test_agent_on_a_path_overlapping_the_ego_is_refused(tmp_path: Path) -> None:
    # ego rear axle at x = 0, its box reaches about 3.9 m ahead of it; lane 0 at y = 1.75
    agent = "agents:\n  - {id: p, type: pedestrian, path_m: [[3.0, -5.0], [3.0, 5.0]], station_m: 6.75}\n"
    message = _error(tmp_path, HEAD + EGO + agent)
    assert "field agents.0.station_m: 6.75 m puts agent 'p' on the ego" in message
    assert "its 0.60 x 0.60 m box" in message


def test_the_second_agent_is_named(tmp_path: Path) -> None:
    agents = (
        "agents:\n  - {id: a, lanes: [road_1], station_m: 100.0}\n"
        "  - {id: b, lanes: [road_0], station_m: 97.0}\n"
    )
    message = _error(tmp_path, HEAD + EGO + agents)
    assert "field agents.1.station_m: 97.0 m puts agent 'b' on the ego" in message


def test_agents_beside_and_close_behind_the_ego_are_fine(tmp_path: Path) -> None:
    """Beside in the next lane, and bumpers 1 m apart, do not overlap."""
    agents = (
        "agents:\n  - {id: side, lanes: [road_1], station_m: 101.0}\n"
        "  - {id: behind, lanes: [road_0], station_m: 95.7}\n"  # front bumper at 97.95
    )
    path = _write(tmp_path, HEAD + EGO + agents)
    (cfg,) = load_scenarios(path)
    built = build_scenario(cfg)
    ego_rear = float(built.world.ego_box()[0] - built.world.ego_box()[3] / 2)
    assert ego_rear + 100.0 == pytest.approx(98.97, abs=0.05)  # (x = station - 100 m)
    assert len(built.world.traffic.specs) == 2


def test_overlap_made_in_code_or_by_a_sweep_is_found_when_built(tmp_path: Path) -> None:
    (cfg,) = load_scenarios(
        _write(tmp_path, HEAD + EGO + _agent("lanes: [road_0], station_m: 130.0"))
    )
    moved = dataclasses.replace(cfg, agents=[dataclasses.replace(cfg.agents[0], station_m=102.0)])
    with pytest.raises(ConfigError, match=r"field agents\.0\.station_m: 102\.0 m puts agent"):
        build_scenario(moved)


def test_shipped_commonroad_scenario_still_builds(shared_data: Path) -> None:
    """Recorded traffic is checked against a recorded ego start only by the recording itself:
    the shipped CommonRoad scenarios build (none has an obstacle on the ego at t = 0)."""
    configs = Path(__file__).resolve().parents[2] / "configs" / "scenarios"
    (cfg,) = load_scenarios(configs / "commonroad_usa_us101_4_1_t_1.yaml")
    assert len(build_scenario(cfg, shared_data).world.traffic.specs) > 1


def test_ego_placed_on_a_recorded_obstacle_is_refused(shared_data: Path) -> None:
    """With ``ego.lane`` (a placed ego) in recorded traffic, an obstacle the recording has
    under the ego is the ego's placement mistake: named at ``ego.station_m``."""
    configs = Path(__file__).resolve().parents[2] / "configs" / "scenarios"
    (cfg,) = load_scenarios(configs / "commonroad_usa_us101_4_1_t_1.yaml")
    built = build_scenario(cfg, shared_data)
    traffic = built.world.traffic
    k = int(np.flatnonzero(traffic.state.valid)[0])
    x, y, yaw = traffic.state.x_m[k], traffic.state.y_m[k], traffic.state.yaw_rad[k]
    lane = built.road_map.nearest_lane((float(x), float(y)), yaw_rad=float(yaw))
    station = float(built.road_map.lane(lane).project(np.array([[x, y]]))[0][0])
    placed = dataclasses.replace(
        cfg,
        ego=dataclasses.replace(
            cfg.ego, from_file=False, lane=lane, station_m=max(station - 1.0, 0.0)
        ),
    )
    with pytest.raises(ConfigError) as info:
        build_scenario(placed, shared_data)
    message = str(info.value)
    assert "field ego.station_m: the ego starts overlapping recorded obstacle " in message
    assert repr(traffic.specs[k].agent_id) in message


# --- events that cannot happen as written ---------------------------------------------------


@pytest.mark.parametrize(
    ("events", "key", "words"),
    [
        (SHIFT.replace("duration_s: 2.5", "duration_s: -2.5"), "lateral_shifts.0.duration_s", "a finite duration > 0 s"),
        (SHIFT.replace("duration_s: 2.5", "duration_s: 0.0"), "lateral_shifts.0.duration_s", "a finite duration > 0 s"),
        (SHIFT.replace("time_s: 1.0", "time_s: -1.0"), "lateral_shifts.0.time_s", "a finite time >= 0 s"),
        (SHIFT.replace("offset_m: -3.5", "offset_m: .inf"), "lateral_shifts.0.offset_m", "a finite offset in m"),
        (STOP.replace("target_speed_mps: 0.0", "target_speed_mps: -5.0"), "speed_events.0.target_speed_mps", "a finite speed >= 0 m/s"),
        (STOP.replace("target_speed_mps: 0.0", "target_speed_mps: .nan"), "speed_events.0.target_speed_mps", "a finite speed >= 0 m/s"),
        (STOP.replace("accel_mps2: -4.0", "accel_mps2: 0.0"), "speed_events.0.accel_mps2", "finite and non-zero"),
        (STOP.replace("accel_mps2: -4.0", "accel_mps2: -.inf"), "speed_events.0.accel_mps2", "finite and non-zero"),
        (STOP.replace("time_s: 1.0", "time_s: -0.5"), "speed_events.0.time_s", "a finite time >= 0 s"),
    ],
    ids=["negative shift duration", "zero shift duration", "shift before 0", "infinite offset",
         "negative target speed", "NaN target speed", "zero accel", "infinite accel",
         "speed event before 0"],
)  # fmt: skip
def test_impossible_events_are_refused(tmp_path: Path, events: str, key: str, words: str) -> None:
    message = _error(tmp_path, HEAD + EGO + _agent("lanes: [road_1], station_m: 130.0", events))
    assert f"field agents.0.{key}: must be {words}" in message


def test_possible_events_load(tmp_path: Path) -> None:
    both = f"{SHIFT}, {STOP.replace('time_s: 1.0', 'time_s: 0.0')}"
    (cfg,) = load_scenarios(
        _write(tmp_path, HEAD + EGO + _agent("lanes: [road_1], station_m: 130.0", both))
    )
    assert cfg.agents[0].lateral_shifts[0].duration_s == 2.5
    assert cfg.agents[0].speed_events[0].accel_mps2 == -4.0


def test_an_event_swept_to_an_impossible_value_is_found_when_built(tmp_path: Path) -> None:
    (cfg,) = load_scenarios(
        _write(tmp_path, HEAD + EGO + _agent("lanes: [road_1], station_m: 130.0"))
    )
    agent = cfg.agents[0]
    shift = dataclasses.replace(agent.lateral_shifts[0], duration_s=-1.0)
    bad = dataclasses.replace(cfg, agents=[dataclasses.replace(agent, lateral_shifts=[shift])])
    with pytest.raises(ConfigError, match=r"agents\.0\.lateral_shifts\.0\.duration_s: must be"):
        build_scenario(bad)


# --- errors pointing at the right place -----------------------------------------------------


def test_missing_map_file_names_the_scenario_and_map_file(tmp_path: Path, capsys) -> None:
    text = "name: t\nmap: {kind: commonroad, file: commonroad/NOPE.xml}\nego: {from_file: true}\nduration_s: 1.0\n"
    line = _cli_error(tmp_path, text, capsys)
    assert "field map.file: commonroad map file not found: " in line
    assert "commonroad/NOPE.xml" in line and "see --data-root" in line
    assert "cannot parse XML" not in line and "Errno" not in line


def test_missing_absolute_map_file_names_the_path(tmp_path: Path) -> None:
    osm = tmp_path / "gone.osm"
    message = _error(
        tmp_path,
        f"name: t\nmap: {{kind: lanelet2, file: {osm}}}\nego: {{lane: '1'}}\nduration_s: 1.0\n",
    )
    assert message.endswith(f"field map.file: lanelet2 map file not found: {osm}")


@pytest.mark.parametrize(
    ("sweep", "key"),
    [
        ("{cases: [{name: a, ego.speed_kph: 20}, {name: b, ego.speedkph: 20}]}", "sweep.cases.1.ego.speedkph: unknown key"),
        ("{cases: [{name: a, ego.speed_kph: fast}]}", "sweep.cases.0.ego.speed_kph: "),
        ("{cases: [{name: a, agents.0.lateral_shifts.0.duration_s: -1.0}]}", "sweep.cases.0.agents.0.lateral_shifts.0.duration_s: must be"),
        ("{cases: [{name: a, agents.3.station_m: 1.0}]}", "sweep.cases.0.agents.3.station_m: sweep key does not exist"),
        ("{grid: {ego.speedkph: [10, 20]}}", "sweep.grid.ego.speedkph: unknown key"),
        ("{random: {count: 2, ranges: {agents.0.lateral_shifts.0.duration_s: [-2.0, -1.0]}}}",
         "sweep.random.ranges.agents.0.lateral_shifts.0.duration_s: must be"),
    ],
    ids=["case key typo", "case value type", "case value range", "case list index", "grid key typo", "random range"],
)  # fmt: skip
def test_a_swept_key_error_names_where_the_sweep_sets_it(
    tmp_path: Path, sweep: str, key: str
) -> None:
    text = HEAD + EGO + _agent("lanes: [road_1], station_m: 130.0") + f"sweep: {sweep}\n"
    assert f"field {key}" in _error(tmp_path, text)


def test_an_error_in_the_base_scenario_is_named_there(tmp_path: Path) -> None:
    text = (
        HEAD
        + "ego: {lane: road_0, speedkph: 20}\nsweep: {cases: [{name: a, ego.station_m: 5.0}]}\n"
    )
    assert "field ego.speedkph: unknown key" in _error(tmp_path, text)


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ("{kind: straight, params: {n_lanes: 0}}", "n_lanes: must be at least 1"),
        ("{kind: straight, params: {n_lanes: -2}}", "n_lanes: must be at least 1"),
        ("{kind: straight, params: {length_m: 0.0}}", "length_m: must be a length in (0, 1e+06] m"),
        ("{kind: straight, params: {lane_width_m: -3.5}}", "lane_width_m: must be a width in (0, 50] m"),
        ("{kind: straight, params: {speed_limit_mps: .nan}}", "speed_limit_mps: must be a speed > 0 m/s"),
        ("{kind: curved, params: {radius_m: 5.0}}", "radius_m: 5.0 m is not more than the road's width (7 m"),
        ("{kind: curved, params: {sweep_rad: 0.0}}", "sweep_rad: must be an angle in (0, 2 pi) rad"),
        ("{kind: merge, params: {merge_x_m: -150.0}}", "merge_x_m: must be an x in (-100, 1e+06] m"),
        ("{kind: intersection, params: {arm_length_m: 0}}", "arm_length_m: must be a length in (0, 1e+06] m"),
    ],
)  # fmt: skip
def test_map_parameters_out_of_range_are_named(tmp_path: Path, params: str, key: str) -> None:
    ego = "ego: {lane: road_0, station_m: 10.0}\n"
    if "intersection" in params:
        ego = "ego: {lane: south_in, station_m: 10.0}\n"
    elif "merge" in params:
        ego = "ego: {lane: main_a, station_m: 10.0}\n"
    text = f"name: t\nmap: {params}\nduration_s: 1.0\n{ego}"
    assert f"field map.params.{key}" in _error(tmp_path, text)


def test_no_lanes_is_named_at_n_lanes_not_at_the_ego_lane(tmp_path: Path, capsys) -> None:
    text = "name: t\nmap: {kind: straight, params: {n_lanes: 0}}\nego: {lane: road_0}\nduration_s: 1.0\n"
    line = _cli_error(tmp_path, text, capsys)
    assert line.endswith(
        "field map.params.n_lanes: must be at least 1 (the lanes of the road), got 0"
    )


def test_a_one_lane_road_builds(tmp_path: Path) -> None:
    (cfg,) = load_scenarios(
        _write(
            tmp_path,
            "name: t\nmap: {kind: straight, params: {n_lanes: 1}}\nego: {lane: road_0}\nduration_s: 1.0\n",
        )
    )
    assert isinstance(cfg, ScenarioConfig)
    assert [lane.lane_id for lane in build_scenario(cfg).road_map.lanes] == ["road_0"]


@pytest.mark.parametrize("index", ["-1", "\uff10", "1_0", "\u0660", "+0"])
def test_a_sweep_key_indexes_a_list_with_ascii_digits_only(index: str) -> None:
    # int() reads all of these (-1 as the last item, fullwidth / Arabic-Indic zero as 0,
    # 1_0 as 10): each would have set an agent the key does not name
    data = {"agents": [{"station_m": 1.0}]}
    with pytest.raises(ConfigError, match="sweep key does not exist") as err:
        set_dotted(data, f"agents.{index}.station_m", 5.0, "s.yaml")
    assert err.value.field == f"sweep.agents.{index}.station_m"
    assert data == {"agents": [{"station_m": 1.0}]}


def test_a_sweep_key_with_an_ascii_index_sets_that_item() -> None:
    data = {"agents": [{"station_m": 1.0}, {"station_m": 2.0}]}
    set_dotted(data, "agents.1.station_m", 5.0, "s.yaml")
    assert data == {"agents": [{"station_m": 1.0}, {"station_m": 5.0}]}


def test_an_agent_starting_at_its_path_start_names_path_m(tmp_path: Path) -> None:
    """Was: 'agents.0.station_m: 0.0 m puts agent ...' for a file without station_m."""
    agent = "agents:\n  - {id: p, type: pedestrian, path_m: [[1.5, 1.75], [1.5, 9.0]]}\n"
    message = _error(tmp_path, HEAD + EGO + agent)
    assert "field agents.0.path_m: its path's start puts agent 'p' on the ego" in message


def test_two_agents_overlapping_at_the_start_are_refused(tmp_path: Path) -> None:
    """Was: two cars 1 m apart drove through each other all run, PASS 98.1, no word."""
    agents = (
        "agents:\n  - {id: a, lanes: [road_0], station_m: 140.0}\n"
        "  - {id: b, lanes: [road_1], station_m: 140.0}\n"  # beside: fine
        "  - {id: c, lanes: [road_0], station_m: 141.0}\n"
    )
    message = _error(tmp_path, HEAD + EGO + agents)
    assert (
        "field agents.2.station_m: agents 'a' and 'c' overlap at the start: its 4.50 x" in message
    )
    assert "(placed by agents.0.station_m and agents.2.station_m)" in message
    queue = agents.replace("station_m: 141.0", "station_m: 144.5")  # bumper to bumper: a queue
    (cfg,) = load_scenarios(_write(tmp_path, HEAD + EGO + queue))
    assert len(build_scenario(cfg).world.traffic.specs) == 3


def test_an_implausible_scripted_deceleration_is_warned_about(tmp_path: Path) -> None:
    stop = STOP.replace("accel_mps2: -4.0", "accel_mps2: -50.0")
    with pytest.warns(
        UserWarning, match=r"agents\.0\.speed_events\.0\.accel_mps2: -50 m/s\^2 is past"
    ):
        load_scenarios(
            _write(tmp_path, HEAD + EGO + _agent("lanes: [road_1], station_m: 130.0", stop))
        )


def test_an_unknown_agent_type_lists_the_types(tmp_path: Path) -> None:
    agent = "agents:\n  - {id: a, type: carr, lanes: [road_1], station_m: 130.0}\n"
    assert "unknown object type 'carr'; one of car, " in _error(tmp_path, HEAD + EGO + agent)
