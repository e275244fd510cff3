"""Error and edge branches of the simulator's scenario readers and builders: a scenario YAML, a
suite or an ``.xosc`` file that is wrong is a ConfigError naming the file and the key / element
(never another exception type), and the simulated-log writer's own checks and counts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError, DataError
from drivestack.core.transforms import SE3
from drivestack.replay.log_reader import LogReader
from drivestack.sim.agents import AgentSpec
from drivestack.sim.build import BuiltScenario, build_scenario
from drivestack.sim.evaluate import PlannerParams, run_scenario
from drivestack.sim.export_kitti import export_kitti_object
from drivestack.sim.openscenario._keys import ego_entity_name, element_of_key, with_element
from drivestack.sim.perceived import SimLidarParams
from drivestack.sim.record import sensor_frames, write_sim_log
from drivestack.sim.runner import SimHistory
from drivestack.sim.scenario import load_scenarios, load_suite
from drivestack.sim.sensors import LidarModel, SensorScene
from drivestack.sim.sensors.lidar import LidarPreset
from drivestack.sim.sensors.meshes import unit_mesh
from drivestack.structures.camera import CameraImage
from drivestack.structures.labels import ObjectClass
from tests.sim import test_openscenario as xo
from tests.sim import test_openscenario_traffic_signals as ts
from tests.sim.scenario_errors import scenario_error
from tests.sim.test_openscenario_signal_actions import SIGNALS, _at, _events
from tests.sim.test_sim_export_edges_pinned import BESIDE, CAMERA, _frame

HEAD = "name: t\nmap: {kind: straight, params: {n_lanes: 2}}\n"
EGO = "ego: {lane: road_0, station_m: 50.0, speed_kph: 90.0}\n"
BASE = HEAD + EGO + "duration_s: 5.0\n"
AGENT = "  - {id: a, behavior: scripted, lanes: [road_0], station_m: 100.0, speed_kph: 50.0"


def _field(tmp_path: Path, text: str, *, build: bool = False) -> str:
    """The field of the ConfigError the scenario YAML ``text`` raises (its message one line
    starting with the file's path: :func:`scenario_error`)."""
    scenario_error(tmp_path, text, build=build)
    with pytest.raises(ConfigError) as info:
        for cfg in load_scenarios(tmp_path / "s.yaml"):
            if build:
                build_scenario(cfg)
    return info.value.field or ""


# --- scenario.py: the YAML's keys ----------------------------------------------------------


@pytest.mark.parametrize(
    "body, field, reason",
    [
        ("sweep: [1]\n", "sweep", "sweep must be a mapping"),
        ("sweep: {grid: {duration_s: 1}, many: 2}\n", "sweep", "sweep must be a mapping"),
        ("sweep: {grid: {duration_s: []}}\n", "sweep.grid", "non-empty lists"),
        ("sweep: {grid: {1: [2.0]}}\n", "sweep.grid", "non-empty lists"),
        ("sweep: {grid: {duration_s.x: [2.0]}}\n", "sweep.grid.duration_s.x", "does not exist"),
        ("sweep: {grid: {ego.lane.x: [2.0]}}\n", "sweep.grid.ego.lane.x", "does not exist"),
        ("sweep: {random: [1]}\n", "sweep.random", "random needs count"),
        (
            "sweep: {random: {count: 1, every: 2, ranges: {duration_s: [1.0, 2.0]}}}\n",
            "sweep.random",
            "random needs count",
        ),
        (
            "sweep: {random: {count: 1, ranges: {1: [1.0, 2.0]}}}\n",
            "sweep.random.ranges.1",
            "must be a dotted key",
        ),
    ],
)
def test_a_malformed_sweep_is_refused_by_key(
    tmp_path: Path, body: str, field: str, reason: str
) -> None:
    """A sweep that is not a mapping of its three kinds, an empty grid list, a key through a
    value that is not a mapping, a random block with unknown keys or a non-text range key:
    ConfigError naming the file and the sweep key."""
    message = scenario_error(tmp_path, BASE + body, build=False)
    assert reason in message
    assert _field(tmp_path, BASE + body) == field


@pytest.mark.parametrize("bounds", ["[1.0, 1" + "0" * 400 + "]", "[-1" + "0" * 400 + ", 1.0]"])
def test_a_random_range_bound_beyond_float64_is_refused_by_key(tmp_path: Path, bounds: str) -> None:
    """An integer range bound too large for a float is read as infinite and refused at
    ``sweep.random.ranges.<key>`` (never an OverflowError: the fallback converted it again)."""
    body = f"sweep: {{random: {{count: 1, ranges: {{duration_s: {bounds}}}}}}}\n"
    assert _field(tmp_path, BASE + body) == "sweep.random.ranges.duration_s"


def test_a_scenario_file_that_is_not_a_mapping_names_the_file(tmp_path: Path) -> None:
    """A YAML file holding a list (not a scenario mapping) is a ConfigError naming the file."""
    assert "must hold a mapping" in scenario_error(tmp_path, "- 1\n- 2\n", build=False)


@pytest.mark.parametrize(
    "text, field, reason",
    [
        (HEAD + "ego: {station_m: 5.0}\nduration_s: 5.0\n", "ego.lane", "give ego.lane"),
        (
            BASE + "agents:\n" + AGENT.replace("scripted", "leader") + "}\n",
            "agents.0.behavior",
            "must be 'idm' or 'scripted', got 'leader'",
        ),
        (
            BASE + "agents:\n" + AGENT + ", path_m: [[0.0, 0.0], [1.0, 1.0]]}\n",
            "agents.0.lanes",
            "exactly one of lanes and path_m",
        ),
        (
            BASE + "agents:\n  - {id: a, behavior: scripted, speed_kph: 50.0}\n",
            "agents.0.lanes",
            "exactly one of lanes and path_m",
        ),
        (
            BASE + "agents:\n  - {id: a, behavior: scripted, path_m: [[0.0, .nan], [5.0, 1.0]]}\n",
            "agents.0.path_m",
            "must be finite",
        ),
        (
            "name: t\nmap: {kind: av2, log: drive, file: map.json}\n" + EGO + "duration_s: 5.0\n",
            "map.file",
            "read from map.log",
        ),
    ],
)
def test_scenario_key_checks_name_the_key(
    tmp_path: Path, text: str, field: str, reason: str
) -> None:
    """No ego lane, an unknown agent behaviour, both or neither of lanes / path_m, a NaN path
    point, an av2 map given a map.file: ConfigError naming the file and the key."""
    assert reason in scenario_error(tmp_path, text, build=False)
    assert _field(tmp_path, text) == field


def test_a_light_with_an_empty_id_is_refused_by_key(tmp_path: Path) -> None:
    """``traffic_lights.<i>.id`` empty: ConfigError at that key."""
    text = (
        BASE
        + "traffic_lights:\n  - {id: '', stops: [{lane: road_0, station_m: 200.0}], phases: [[red, 10.0]]}\n"
    )
    assert "non-empty light id" in scenario_error(tmp_path, text, build=False)
    assert _field(tmp_path, text) == "traffic_lights.0.id"


def test_a_nan_along_path_offset_is_refused_by_key(tmp_path: Path) -> None:
    """A speed event's ``along_path_offset_m`` NaN: ConfigError at that event's key."""
    event = (
        "{time_s: 1.0, when_ego_within_m: 20.0, accel_mps2: -2.0, target_speed_mps: 0.0, along_path: true, "
        "along_path_offset_m: .nan}"
    )
    text = BASE + "agents:\n" + AGENT + f", speed_events: [{event}]}}\n"
    assert "must be a finite offset" in scenario_error(tmp_path, text, build=False)
    assert _field(tmp_path, text).startswith("agents.0.speed_events.0.along_path_offset")


def test_a_suite_naming_a_scenario_its_file_lacks_names_it(tmp_path: Path) -> None:
    """A suite entry's ``names`` listing a scenario the file does not hold: ConfigError naming
    the suite file, ``scenarios.<i>.names`` and the missing name."""
    (tmp_path / "s.yaml").write_text(BASE)
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: s\nscenarios:\n  - {file: s.yaml, names: [t, u]}\n")
    with pytest.raises(ConfigError, match=r"no scenario named 'u' in s\.yaml") as info:
        load_suite(suite)
    assert (info.value.path, info.value.field) == (str(suite), "scenarios.0.names")


# --- build.py ------------------------------------------------------------------------------


def test_a_file_map_without_a_file_is_refused_at_build(tmp_path: Path) -> None:
    """A file map kind (opendrive) without ``map.file``: ConfigError at ``map.file``."""
    text = "name: t\nmap: {kind: opendrive}\n" + EGO + "duration_s: 5.0\n"
    assert "map kind opendrive needs map.file" in scenario_error(tmp_path, text)
    assert _field(tmp_path, text, build=True) == "map.file"


def test_an_agent_with_an_empty_lane_list_is_refused_at_build(tmp_path: Path) -> None:
    """``agents.<i>.lanes: []``: ConfigError at ``agents.<i>.lanes`` when building."""
    text = BASE + "agents:\n  - {id: a, behavior: scripted, lanes: [], station_m: 80.0}\n"
    assert "needs at least one lane" in scenario_error(tmp_path, text)
    assert _field(tmp_path, text, build=True) == "agents.0.lanes"


@pytest.mark.parametrize(
    "key, field",
    [("ego: {from_file: true}", "ego.from_file"), ("agents_from_file: true", "agents_from_file")],
)
def test_recorded_keys_on_a_built_map_are_refused_by_key(
    tmp_path: Path, key: str, field: str
) -> None:
    """``ego.from_file`` / ``agents_from_file`` on a map without a recording (straight):
    ConfigError at that key saying which maps hold one."""
    ego = "" if key.startswith("ego") else EGO
    text = HEAD + ego + key + "\nduration_s: 5.0\n"
    assert "needs a commonroad or av2 map" in scenario_error(tmp_path, text)
    assert _field(tmp_path, text, build=True) == field


# --- openscenario/_keys.py -----------------------------------------------------------------


@pytest.mark.parametrize(
    "dotted, element",
    [
        ("duration_s", "Storyboard/StopTrigger"),
        ("ego.speed_mps", "Init/Hero/SpeedAction"),
        ("ego.lane", "Init/Hero/TeleportAction"),
        ("agents.0.route", "Init/Lead/RoutingAction"),
        ("agents.1.size_m", "Entities/Cutter"),
        ("agents.1.type", "Entities/Cutter"),
        (
            "agents.0.speed_events.1.accel_mps2",
            "the SpeedAction events of Lead #2 by start time (an Init SpeedAction with dynamics "
            "is #1)",
        ),
        (
            "agents.0.speed_events",
            "the SpeedAction events of Lead (an Init SpeedAction with dynamics is #1)",
        ),
        (
            "agents.1.lateral_shifts.0",
            "the LaneChangeAction / LaneOffsetAction events of Cutter #1 by start time",
        ),
        ("agents.5.lane", None),
        ("agents.x.lane", None),
        ("agents.0", None),
        ("ego", None),
        ("dt_s", None),
        ("agents.0.behavior", None),
    ],
)
def test_scenario_keys_map_to_their_xosc_element(dotted: str, element: str | None) -> None:
    """Each scenario key the ``.xosc`` reader fills names its element; keys it does not fill
    from one element (or agents beyond the file's) name none."""
    assert element_of_key(dotted, ["Lead", "Cutter"], "Hero") == element


def test_the_ego_name_of_an_unreadable_file_is_a_placeholder(tmp_path: Path) -> None:
    """A file that is gone or is not XML: the ego is named ``<the ego entity>``."""
    assert ego_entity_name(tmp_path / "gone.xosc") == "<the ego entity>"
    (tmp_path / "bad.xosc").write_text("<OpenSCENARIO>")
    assert ego_entity_name(tmp_path / "bad.xosc") == "<the ego entity>"


def test_an_error_on_a_key_from_no_element_is_kept_as_is() -> None:
    """``with_element`` returns the error itself when its field is no element's key."""
    exc = ConfigError("bad", path="x.xosc", field="dt_s")
    assert with_element(exc, ["Lead"]) is exc


# --- openscenario: the document, entities and story ----------------------------------------


@pytest.fixture
def xodr(shared_data: Path) -> Path:
    return shared_data / "opendrive_esmini" / "e6mini.xodr"


def _xosc_error(tmp_path: Path, text: str) -> ConfigError:
    """The ConfigError loading the ``.xosc`` ``text`` raises, its path the file's."""
    path = xo._write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_scenarios(path)
    assert info.value.path == str(path) and str(info.value).startswith(str(path))
    return info.value


def _brake_at(distance: str) -> str:
    return xo._event("Brake", xo.BRAKE, xo._near_ego("Lead", distance))


def _cut_in(action: str, condition: str | None = None) -> str:
    return xo._event("CutIn", action, condition or xo._at_time(6.0))


ABSOLUTE = xo.CUT_RIGHT.replace(
    '<RelativeTargetLane entityRef="Cutter" value="-1"/>', '<AbsoluteTargetLane value="{v}"/>'
)
LEAD = f'<ScenarioObject name="Lead">{xo.VEHICLE.format(category="car", length=4.6)}'


@pytest.mark.data
@pytest.mark.parametrize(
    "lead, cutter, field, reason",
    [
        (_brake_at("${$BrakeDistance * 2}"), None, "Act/A/Event/Brake@value", "expressions"),
        (_brake_at("$ "), None, "Act/A/Event/Brake@value", "names no parameter"),
        (_brake_at("near"), None, "Act/A/Event/Brake@value", "not a number: 'near'"),
        (_brake_at("inf"), None, "Act/A/Event/Brake@value", "not a finite number"),
        (
            _brake_at("50").replace('freespace="false"', 'freespace="maybe"'),
            None,
            "Act/A/Event/Brake@freespace",
            "must be true or false, got 'maybe'",
        ),
        (
            None,
            _cut_in(xo._cut(-1).replace('value="-1"', 'value="-1.5"')),
            "Act/A/Event/CutIn@value",
            "not a whole number",
        ),
        (
            None,
            _cut_in(xo.CUT_RIGHT).replace(
                "</ConditionGroup></StartTrigger>",
                "</ConditionGroup><ConditionGroup><Condition name='x' delay='0' "
                f"conditionEdge='rising'>{xo._at_time(1.0)}</Condition></ConditionGroup>"
                "</StartTrigger>",
            ),
            "Act/A/Event/CutIn",
            "2 condition group(s) of 2 condition(s)",
        ),
        (
            _brake_at("50").replace(
                'RelativeDistanceCondition entityRef="Ego"',
                'RelativeDistanceCondition entityRef="Cutter"',
            ),
            None,
            "Act/A/Event/Brake",
            "must be between the actor 'Lead' and the ego 'Ego'",
        ),
        (
            None,
            _cut_in(xo.CUT_RIGHT.replace('dynamicsDimension="time"', 'dynamicsDimension="rate"')),
            "Act/A/Event/CutIn",
            "a lane change over a 'rate' is not read",
        ),
        (
            None,
            _cut_in(xo.CUT_RIGHT.replace('entityRef="Cutter"', 'entityRef="Lead"')),
            "Act/A/Event/CutIn",
            "relative to the actor itself",
        ),
        (
            None,
            _cut_in(ABSOLUTE.format(v=2)),
            "Act/A/Event/CutIn",
            "lane '0_0_2' runs against the actor's lane '0_0_-2'",
        ),
        (
            None,
            _cut_in(
                xo.CUT_RIGHT.replace('<RelativeTargetLane entityRef="Cutter" value="-1"/>', "")
            ),
            "Act/A/Event/CutIn",
            "needs a RelativeTargetLane or an AbsoluteTargetLane",
        ),
    ],
)
def test_xosc_value_and_story_errors_name_the_element(
    tmp_path: Path, xodr: Path, lead: str | None, cutter: str | None, field: str, reason: str
) -> None:
    """Expressions, empty parameter references, text, infinite or fractional numbers, bad
    booleans, triggers of more than one condition, distance conditions not between actor and
    ego, lane changes over a rate, relative to another entity, onto an oncoming lane or
    without a target: ConfigError naming the file, the element and the attribute."""
    error = _xosc_error(tmp_path, xo._xosc(xodr, lead, cutter))
    assert error.field == field
    assert reason in str(error)


@pytest.mark.data
@pytest.mark.parametrize(
    "old, new, field, reason",
    [
        (LEAD, '<ScenarioObject name="Lead">', "Entities/Lead", "needs a Vehicle, Pedestrian"),
        (
            LEAD,
            LEAD.replace('vehicleCategory="car"', 'vehicleCategory="spaceship"'),
            "Entities/Lead",
            "unknown vehicleCategory 'spaceship'",
        ),
        (
            '<LanePosition roadId="0" laneId="-3" offset="0" s="110.0"/>',
            '<GeoPosition latitude="1" longitude="2"/>',
            "Init/Lead/TeleportAction",
            "got ['GeoPosition']",
        ),
        (
            '<Private entityRef="Lead">',
            '<Private entityRef="Nobody">',
            "Storyboard/Init/Actions/Private@entityRef",
            "no entity 'Nobody'",
        ),
        (
            "<EntityRef entityRef='Lead'/></Actors>",
            "<EntityRef entityRef='Nobody'/></Actors>",
            "Act/A/Event/Brake",
            "no entity 'Nobody'",
        ),
    ],
)
def test_xosc_entity_errors_name_the_element(
    tmp_path: Path, xodr: Path, old: str, new: str, field: str, reason: str
) -> None:
    """An entity without a vehicle, an unknown vehicle category, a position kind not read, an
    Init or a maneuver group naming no entity: ConfigError naming the file and the element."""
    text = xo._xosc(xodr)
    assert old in text
    error = _xosc_error(tmp_path, text.replace(old, new, 1))
    assert error.field == field
    assert reason in str(error)


def test_xosc_without_scenario_objects_is_refused(tmp_path: Path) -> None:
    """An ``Entities`` block without a ScenarioObject: ConfigError at ``Entities``."""
    text = ts._xosc()
    start, end = text.index("<Entities>"), text.index("</Entities>")
    (tmp_path / "road.xodr").write_text(ts.XODR)
    error = _xosc_error(tmp_path, text[:start] + "<Entities>" + text[end:])
    assert (error.field, error.reason) == ("Entities", "no ScenarioObject")


@pytest.mark.data
def test_ego_actions_are_skipped_and_counted_in_the_description(tmp_path: Path, xodr: Path) -> None:
    """A maneuver group acting on the ego and an Init speed change with dynamics for the ego are
    not read (the planner drives the ego) and the description counts them."""
    text = xo._xosc(xodr).replace(
        "<EntityRef entityRef='Cutter'/></Actors>", "<EntityRef entityRef='Ego'/></Actors>"
    )
    (cfg,) = load_scenarios(xo._write(tmp_path, text))
    assert cfg.description.endswith("(1 ego action(s) not read: the planner drives the ego)")
    assert cfg.agents[1].lateral_shifts == []
    ramp = '<SpeedActionDynamics dynamicsShape="linear" value="2" dynamicsDimension="rate"/>'
    step = '<SpeedActionDynamics dynamicsShape="step" value="0" dynamicsDimension="time"/>'
    text = xo._xosc(xodr).replace(step, ramp, 1)  # the first Private is the ego's
    (cfg,) = load_scenarios(xo._write(tmp_path, text))
    assert "(1 ego action(s) not read" in cfg.description


@pytest.mark.data
def test_an_event_without_a_start_trigger_starts_with_its_act(tmp_path: Path, xodr: Path) -> None:
    """An event with no StartTrigger starts at t = 0 (with its act)."""
    event = _cut_in(xo.CUT_RIGHT)
    no_trigger = event[: event.index("<StartTrigger>")] + "</Event>"
    (cfg,) = load_scenarios(xo._write(tmp_path, xo._xosc(xodr, cutter_events=no_trigger)))
    (shift,) = cfg.agents[1].lateral_shifts
    assert (shift.time_s, shift.duration_s) == (0.0, 3.0)


@pytest.mark.data
def test_an_absolute_target_lane_moves_to_that_lane(tmp_path: Path, xodr: Path) -> None:
    """An AbsoluteTargetLane one lane right of the actor is read as the relative change."""
    text = xo._xosc(xodr, cutter_events=_cut_in(ABSOLUTE.format(v=-3)))
    (cfg,) = load_scenarios(xo._write(tmp_path, text))
    (shift,) = cfg.agents[1].lateral_shifts
    assert shift.offset_m == pytest.approx(-(3.65 + 3.5) / 2)


@pytest.mark.data
def test_a_catalogue_folder_file_that_is_no_catalogue_is_skipped(
    tmp_path: Path, xodr: Path
) -> None:
    """A ``.xosc`` in a catalogue folder without a ``Catalog`` is skipped, the others read."""
    (tmp_path / "catalogs").mkdir()
    (tmp_path / "catalogs" / "VehicleCatalog.xosc").write_text(xo.CATALOGUE)
    (tmp_path / "catalogs" / "a_scenario.xosc").write_text(
        "<OpenSCENARIO><FileHeader/></OpenSCENARIO>"
    )
    van = '<CatalogReference catalogName="VehicleCatalog" entryName="van_white"/>'
    inline = xo.VEHICLE.format(category="car", length=4.6)
    text = (
        xo._xosc(xodr)
        .replace(f'<ScenarioObject name="Cutter">{inline}', f'<ScenarioObject name="Cutter">{van}')
        .replace(
            "<RoadNetwork>",
            '<CatalogLocations><VehicleCatalog><Directory path="catalogs"/></VehicleCatalog>'
            "</CatalogLocations><RoadNetwork>",
        )
    )
    (cfg,) = load_scenarios(xo._write(tmp_path, text))
    assert cfg.agents[1].type == "van"


@pytest.mark.data
@pytest.mark.parametrize(
    "old, new, reason",
    [
        ('<AbsoluteTargetSpeed value="2"/>', "<AbsoluteTargetSpeed/>", "missing attribute 'value'"),
        (
            '<SpeedActionDynamics dynamicsShape="linear" value="4" dynamicsDimension="rate"/>',
            "",
            "missing <SpeedActionDynamics>",
        ),
    ],
)
def test_a_missing_attribute_or_child_names_it(
    tmp_path: Path, xodr: Path, old: str, new: str, reason: str
) -> None:
    """An attribute or a child element the reader needs left out: ConfigError naming the file,
    the event and the missing attribute / element."""
    brake = xo._event("Brake", xo.BRAKE.replace(old, new), xo._at_time(1.0))
    error = _xosc_error(tmp_path, xo._xosc(xodr, lead_events=brake))
    assert error.field == "Act/A/Event/Brake"
    assert reason in str(error)


@pytest.mark.data
def test_a_boolean_left_out_takes_its_default(tmp_path: Path, xodr: Path) -> None:
    """``freespace`` left out of a distance condition reads as its default, false."""
    given = xo._xosc(xodr, lead_events=_brake_at("50"))
    (with_it,) = load_scenarios(xo._write(tmp_path, given))
    (without,) = load_scenarios(xo._write(tmp_path, given.replace(' freespace="false"', "")))
    assert without.agents[0].speed_events == with_it.agents[0].speed_events


@pytest.mark.data
def test_a_file_without_a_storyboard_is_refused_naming_the_ego_init(
    tmp_path: Path, xodr: Path
) -> None:
    """No ``Storyboard`` (so no Init placing the ego): ConfigError at the ego's Init."""
    text = xo._xosc(xodr)
    error = _xosc_error(tmp_path, text[: text.index("<Storyboard>")] + "</OpenSCENARIO>")
    assert error.field == "Storyboard/Init/Ego"
    assert "no TeleportAction" in str(error)


# --- openscenario/_signals.py --------------------------------------------------------------


@pytest.mark.parametrize(
    "signals, story, field, reason",
    [
        ("<Foo/>" + SIGNALS, "", "RoadNetwork/TrafficSignals", "Foo is not read"),
        (
            ts._controller("C", ts._phase("go", 30, s10="green") + "<Bar/>"),
            "",
            "RoadNetwork/TrafficSignals/TrafficSignalController/C",
            "Bar is not read (Phase)",
        ),
        (
            SIGNALS,
            _events(
                (
                    "E",
                    ts._global(
                        '<TrafficSignalStateAction name="10" state="red"/>'
                        '<TrafficSignalStateAction name="12" state="red"/>'
                    ),
                    _at(1.0),
                )
            ),
            "Act/A/Event/E/Action/E-do/GlobalAction/InfrastructureAction/TrafficSignalAction",
            "holds one TrafficSignalStateAction or TrafficSignalControllerAction",
        ),
    ],
)
def test_signal_elements_not_read_are_refused_by_name(
    tmp_path: Path, signals: str, story: str, field: str, reason: str
) -> None:
    """Other elements among the controllers or a controller's phases, a TrafficSignalAction of
    two actions: ConfigError naming the file and the element."""
    path = ts._write(tmp_path, ts._xosc(signals, story=story))
    with pytest.raises(ConfigError) as info:
        load_scenarios(path)
    assert (info.value.path, info.value.field) == (str(path), field)
    assert reason in str(info.value)


# --- record.py -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def drive() -> Iterator[tuple[SimHistory, BuiltScenario]]:
    """A 0.5 s closed-loop run on a straight road behind one scripted agent."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.yaml"
        path.write_text(
            HEAD + "ego: {lane: road_0, station_m: 50.0, speed_kph: 30.0}\nduration_s: 0.5\n"
            "agents:\n  - {id: a, behavior: scripted, lanes: [road_0], station_m: 80.0, "
            "speed_kph: 20.0}\n"
        )
        (cfg,) = load_scenarios(path)
        built = build_scenario(cfg)
        yield run_scenario(built, "pdm").history, built


def _lidar() -> LidarModel:
    return LidarModel(LidarPreset("flat", (0.0,), 36, 50.0), SE3.identity())


def test_sensor_frames_refuse_a_step_below_one(drive: tuple[SimHistory, BuiltScenario]) -> None:
    """``every < 1`` is a ValueError naming the value."""
    history, built = drive
    frames = sensor_frames(history, SensorScene.from_road_map(built.road_map), _lidar(), every=0)
    with pytest.raises(ValueError, match="every must be >= 1, got 0"):
        next(frames)


def test_write_sim_log_writes_every_nth_tick_and_counts_them(
    tmp_path: Path, drive: tuple[SimHistory, BuiltScenario]
) -> None:
    """``write_sim_log`` writes ticks 0, every, 2 every, ... and returns how many; the log
    reads back those frames with the agent as a label."""
    history, built = drive
    scene = SensorScene.from_road_map(built.road_map)
    every = 4
    n = write_sim_log(
        tmp_path / "sim.mcap", history, scene, _lidar(), config={}, every=every, progress=False
    )
    ticks = list(range(0, len(history), every))
    assert n == len(ticks) >= 2
    back = list(LogReader(tmp_path / "sim.mcap").frames())
    assert [f.timestamp_ns for f in back] == [int(history.timestamp_ns[t]) for t in ticks]
    assert all(len(f.labels) == 1 for f in back)
    frames = list(sensor_frames(history, scene, _lidar(), every=every))
    assert [f.label_ids for f in frames] == [("a",)] * len(ticks)
    assert np.all([f.source.startswith("simulation t=") for f in frames])


# --- export_kitti.py, agents.py, evaluate.py -----------------------------------------------


def _undistortable() -> dict[str, CameraImage]:
    calibration = dataclasses.replace(
        CAMERA.calibration, distortion=np.array([0.1, 0.0, 0.0, 0.0, 0.0])
    )
    return {"front": CameraImage(np.zeros((100, 200, 3), np.uint8), calibration, 0)}


@pytest.mark.parametrize(
    "change, field, reason",
    [
        ({"ego_from_sensor": {}}, "ego_from_sensor[top]", "no mounting for the LiDAR"),
        ({"labels": None}, "labels", "no labels to export"),
        ({"cameras": "distorted"}, "front", "needs rectified images"),
    ],
)
def test_kitti_export_refuses_frames_it_cannot_write(
    tmp_path: Path, change: dict[str, object], field: str, reason: str
) -> None:
    """A frame without the LiDAR's mounting, without labels or with a distorted camera image:
    DataError naming the frame's source, the frame (the stem it would be written as, here the
    third from start_index 5) and the field."""
    if change.get("cameras") == "distorted":
        change = {"cameras": _undistortable()}
    good = _frame([BESIDE])
    frame = dataclasses.replace(good, **change)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=reason) as info:
        export_kitti_object([good, good, frame], tmp_path, start_index=5)
    assert (info.value.path, info.value.record, info.value.field) == ("test", "frame 000007", field)


@pytest.mark.parametrize(
    "behavior, reason",
    [
        ("fly", "behavior must be one of"),
        ("replay", "behavior replay needs a replay track"),
        ("reactive", "behavior reactive needs a replay track"),
        ("scripted", "behavior scripted needs a path"),
    ],
)
def test_an_agent_spec_without_what_its_behaviour_needs_is_refused(
    behavior: str, reason: str
) -> None:
    """An unknown behaviour, a replay / reactive agent without a track, a scripted one without
    a path: ValueError naming the agent."""
    with pytest.raises(ValueError, match=reason) as info:
        AgentSpec("a1", ObjectClass.CAR, (4.0, 2.0, 1.5), behavior)
    assert str(info.value).startswith("agent 'a1': ")


def test_an_unknown_planner_name_lists_the_known_ones() -> None:
    """``PlannerParams.planner`` of a name that is no built-in planner: ValueError listing
    them."""
    with pytest.raises(
        ValueError, match=r"unknown planner 'nope'; expected one of \['idm', 'pdm'\]"
    ):
        PlannerParams().planner("nope")


# --- sensors and the perceived loop's LiDAR settings ---------------------------------------


@pytest.mark.parametrize("window", [(0, 0, "a", 5), (0, 0)])
def test_a_malformed_camera_window_is_a_value_error_naming_it(
    window: tuple[int, int, int, int],
) -> None:
    """A pixel window that is not four whole numbers: ValueError quoting it (never a
    TypeError from unpacking)."""
    with pytest.raises(ValueError, match=r"window must be \(u0, v0, u1, v1\) pixels, got"):
        CAMERA.pixel_rays(SE3.identity(), window=window)


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda: unit_mesh("blimp"), r"unknown mesh template 'blimp'; known: \['box'"),
        (
            lambda: LidarPreset("flat", (0.0,), 0, 50.0),
            "LiDAR preset 'flat': n_azimuth must be >= 1, got 0",
        ),
        (
            lambda: SimLidarParams(preset="hdl99"),  # type: ignore[arg-type]
            r"SimLidarParams.preset: unknown 'hdl99'; known: \['hdl64'",
        ),
    ],
)
def test_unknown_sensor_names_and_counts_are_refused_naming_them(
    make: Callable[[], object], reason: str
) -> None:
    """An unknown mesh template or LiDAR preset, a preset of no azimuth columns: ValueError
    naming the value and what is known."""
    with pytest.raises(ValueError, match=reason):
        make()
