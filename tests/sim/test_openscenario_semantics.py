"""OpenSCENARIO semantics the reader must keep (hand-computed): the speed at an event's start
from the profile of the events before, the longitudinal distance, event priorities, Init
speed dynamics, lanes in the driving direction, bounding-box centres; and what it cannot know
when reading refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.agents import AgentSpec, SpeedEvent, Traffic
from drivestack.sim.openscenario import read_openscenario
from drivestack.sim.scenario import load_scenarios
from drivestack.structures.labels import ObjectClass
from tests.sim.test_openscenario import (
    CUT_RIGHT,
    VEHICLE,
    _at_time,
    _event,
    _near_ego,
    _private,
    _write,
    _xosc,
)

STEP = 1000.0  # the reader's "at once" rate


@pytest.fixture
def xodr(shared_data: Path) -> Path:
    return shared_data / "opendrive_esmini" / "e6mini.xodr"


def _speed(target: float, value: float, dimension: str, shape: str = "linear") -> str:
    return (
        f'<LongitudinalAction><SpeedAction><SpeedActionDynamics dynamicsShape="{shape}" '
        f'value="{value}" dynamicsDimension="{dimension}"/><SpeedActionTarget>'
        f'<AbsoluteTargetSpeed value="{target}"/></SpeedActionTarget></SpeedAction>'
        "</LongitudinalAction>"
    )


def _lane_change(value: float, dimension: str, lanes: int = -1) -> str:
    return CUT_RIGHT.replace(
        'value="3" dynamicsDimension="time"', f'value="{value}" dynamicsDimension="{dimension}"'
    ).replace('value="-1"', f'value="{lanes}"')


def _cutter(tmp_path: Path, xodr: Path, events: str, text_change: tuple[str, str] = ("", "")):
    """The Cutter's agent mapping (it starts at 8 m/s on lane -2), its events in one maneuver."""
    text = _xosc(xodr, lead_events="", cutter_events=events)
    if text_change[0]:
        assert text_change[0] in text
        text = text.replace(*text_change)
    path = _write(tmp_path, text)
    return read_openscenario(path)["agents"][1], path


def _refused(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_scenarios(path)
    assert info.value.path == str(path)
    return info.value


# --- 1: the speed at an event's start is the speed reached, not the last target ---------------


@pytest.mark.data
def test_speed_changes_start_from_the_speed_reached(tmp_path: Path, xodr: Path) -> None:
    # 8 m/s, from 1 s up at 1 m/s^2 towards 30: 10 m/s at 3 s, 12 m/s at 5 s
    events = (
        _event("Up", _speed(30, 1, "rate"), _at_time(1.0)).replace("overwrite", "parallel")
        + _event("Over", _lane_change(30, "distance"), _at_time(3.0)).replace(
            "overwrite", "parallel"
        )
        + _event("Down", _speed(0, 4, "time"), _at_time(5.0)).replace("overwrite", "parallel")
    )
    cutter, _ = _cutter(tmp_path, xodr, events)
    up, down = cutter["speed_events"]
    assert (up["accel_mps2"], up["target_speed_mps"]) == (1.0, 30.0)
    assert (down["time_s"], down["accel_mps2"]) == (5.0, pytest.approx(-12.0 / 4.0))  # not 30/4
    (over,) = cutter["lateral_shifts"]
    assert over["duration_s"] == pytest.approx(30.0 / 10.0)  # 30 m at the 10 m/s of 3 s
    # over a distance: (12^2 - 0) / (2 * 24 m) = 3 m/s^2 (not 30^2 / 48)
    cutter, _ = _cutter(
        tmp_path, xodr, events.replace(_speed(0, 4, "time"), _speed(0, 24, "distance"))
    )
    assert cutter["speed_events"][1]["accel_mps2"] == pytest.approx(-3.0)


@pytest.mark.data
def test_a_start_speed_after_a_distance_triggered_change_is_refused(
    tmp_path: Path, xodr: Path
) -> None:
    events = _event("Near", _speed(2, 4, "rate"), _near_ego("Cutter", "20")).replace(
        "overwrite", "parallel"
    ) + _event("Down", _speed(0, 4, "time"), _at_time(5.0)).replace("overwrite", "parallel")
    path = _write(tmp_path, _xosc(xodr, lead_events="", cutter_events=events))
    error = _refused(path)
    assert error.field == "Act/A/Event/Down"
    assert "not known when reading" in str(error)


# --- 2: a longitudinal distance is along the actor's path ------------------------------------


def _traffic(event: SpeedEvent) -> Traffic:
    path = np.array([[0.0, 0.0], [100.0, 0.0]])
    spec = AgentSpec(
        "a",
        ObjectClass.CAR,
        (4.0, 2.0, 1.5),
        "scripted",
        path_m=path,
        station_m=50.0,
        speed_events=(event,),
    )
    return Traffic([spec])


@pytest.mark.parametrize(
    "along_path, offset_m, fires",
    [
        (False, 0.0, False),  # centre distance hypot(1, 3.5) = 3.64 m > 2 m
        (True, 0.0, True),  # along the path: 50 - 49 = 1 m
        (True, 1.5, True),  # |1 - 1.5| = 0.5 m
        (True, -1.5, False),  # |1 + 1.5| = 2.5 m
    ],
)
def test_the_along_path_trigger_measures_stations(
    along_path: bool, offset_m: float, fires: bool
) -> None:
    traffic = _traffic(SpeedEvent(0.0, 1.0, 5.0, 2.0, along_path, offset_m))
    ego_box = np.array([49.0, 3.5, 0.75, 5.0, 2.0, 1.5, 0.0])  # in the next lane, 1 m behind
    traffic.step(0.1, ego_box, 0.0)  # checked at 0 s, then 0.1 s at 1 m/s^2
    assert traffic.state.speed_mps[0] == pytest.approx(0.1 if fires else 0.0)


@pytest.mark.data
def test_a_longitudinal_condition_is_read_along_the_path_between_reference_points(
    tmp_path: Path, xodr: Path
) -> None:
    (cfg,) = load_scenarios(_write(tmp_path, _xosc(xodr)))
    (brake,) = cfg.agents[0].speed_events
    # Center x 1.4 m of the lead, the simulated ego's centre 5.18 / 2 - 1.03 = 1.56 m ahead of
    # its rear axle: the reference points are 1.4 - 1.56 m closer than the centres
    assert (brake.when_ego_within_m, brake.along_path) == (50.0, True)
    assert brake.along_path_offset_m == pytest.approx(1.4 - 1.56)
    text = _xosc(xodr).replace(
        'relativeDistanceType="longitudinal"', 'relativeDistanceType="cartesianDistance"'
    )
    (cfg,) = load_scenarios(_write(tmp_path, text))
    assert not cfg.agents[0].speed_events[0].along_path


# --- 3: triggering-entity actors and groups without actors ------------------------------------


@pytest.mark.data
@pytest.mark.parametrize(
    "old, new, field, reason",
    [
        (
            "<Actors selectTriggeringEntities='false'><EntityRef entityRef='Lead'/>",
            "<Actors selectTriggeringEntities='true'><EntityRef entityRef='Lead'/>",
            "Act/A/ManeuverGroup/L/Actors",
            'selectTriggeringEntities="true" is not read',
        ),
        (
            "<Actors selectTriggeringEntities='false'><EntityRef entityRef='Lead'/>",
            "<Actors selectTriggeringEntities='false'>",
            "Act/A/ManeuverGroup/L",
            "no EntityRef actors",
        ),
        (
            'name="Brake" priority="overwrite"',
            'name="Brake" priority="skip"',
            "Act/A/Event/Brake@priority",
            "priority 'skip' is not read",
        ),
    ],
)
def test_actors_and_priorities_not_read_are_refused(
    tmp_path: Path, xodr: Path, old: str, new: str, field: str, reason: str
) -> None:
    text = _xosc(xodr)
    assert old in text
    error = _refused(_write(tmp_path, text.replace(old, new)))
    assert error.field == field and reason in str(error)


# --- 4: priority overwrite stops the running speed change of its maneuver ---------------------


@pytest.mark.data
@pytest.mark.parametrize("priority", ["overwrite", "override", "parallel"])
def test_overwrite_holds_the_speed_reached(tmp_path: Path, xodr: Path, priority: str) -> None:
    events = _event("Up", _speed(30, 1, "rate"), _at_time(1.0)) + _event(
        "Over", _lane_change(3, "time"), _at_time(5.0)
    ).replace("overwrite", priority)
    cutter, _ = _cutter(tmp_path, xodr, events)
    holds = [(e["time_s"], e["accel_mps2"], e["target_speed_mps"]) for e in cutter["speed_events"]]
    if priority == "parallel":
        assert holds == [(1.0, 1.0, 30.0)]
    else:  # 8 m/s + 4 s at 1 m/s^2
        assert holds == [(1.0, 1.0, 30.0), (5.0, STEP, pytest.approx(12.0))]


@pytest.mark.data
@pytest.mark.parametrize(
    "events, reason",
    [
        (  # the speed change stops the lane change half way
            _event("Over", _lane_change(3, "time"), _at_time(1.0))
            + _event("Up", _speed(30, 1, "rate"), _at_time(2.0)),
            "would stop the lateral move",
        ),
        (  # the distance-triggered lane change may come while the speed change runs
            _event("Up", _speed(30, 1, "rate"), _at_time(1.0))
            + _event("Over", _lane_change(3, "time"), _near_ego("Cutter", "20")),
            "not known when reading",
        ),
    ],
)
def test_an_overwrite_not_known_or_not_read_is_refused(
    tmp_path: Path, xodr: Path, events: str, reason: str
) -> None:
    error = _refused(_write(tmp_path, _xosc(xodr, lead_events="", cutter_events=events)))
    assert error.field.startswith("Act/A/Event/") and reason in str(error)


# --- 5: an Init speed change with dynamics starts from rest ----------------------------------


@pytest.mark.data
@pytest.mark.parametrize(
    "value, dimension, rate",
    [(10, "time", 2.0), (3, "rate", 3.0), (50, "distance", 20.0**2 / 100.0)],
)
def test_init_speed_dynamics_start_from_rest(
    tmp_path: Path, xodr: Path, value: float, dimension: str, rate: float
) -> None:
    init = _private("Cutter", -2, 200.0, "8")
    changed = init.replace(
        '<SpeedActionDynamics dynamicsShape="step" value="0" dynamicsDimension="time"/>',
        f'<SpeedActionDynamics dynamicsShape="linear" value="{value}" '
        f'dynamicsDimension="{dimension}"/>',
    ).replace('AbsoluteTargetSpeed value="8"', 'AbsoluteTargetSpeed value="20"')
    cutter, _ = _cutter(tmp_path, xodr, "", (init, changed))
    assert cutter["speed_mps"] == 0.0
    (start,) = cutter["speed_events"]
    assert (start["time_s"], start["accel_mps2"], start["target_speed_mps"]) == (
        0.0,
        pytest.approx(rate),
        20.0,
    )


# --- 6: bounding boxes of no size ------------------------------------------------------------


@pytest.mark.data
@pytest.mark.parametrize("length", ["0", "-4.6"])
def test_a_bounding_box_of_no_size_is_refused(tmp_path: Path, xodr: Path, length: str) -> None:
    text = _xosc(xodr).replace(
        '<ScenarioObject name="Cutter">' + VEHICLE.format(category="car", length=4.6),
        '<ScenarioObject name="Cutter">' + VEHICLE.format(category="car", length=length),
    )
    error = _refused(_write(tmp_path, text))
    assert error.field == "Entities/Cutter/BoundingBox/Dimensions"


# --- 8: relative lane changes stay on the actor's side of the road ----------------------------


@pytest.mark.data
def test_a_lane_change_across_the_median_is_refused(tmp_path: Path, xodr: Path) -> None:
    # the Cutter is in lane -2, the leftmost lane its way (lanes 2, 3, 4 run the other way)
    events = _event("Left", _lane_change(3, "time", lanes=1), _at_time(1.0))
    error = _refused(_write(tmp_path, _xosc(xodr, lead_events="", cutter_events=events)))
    assert error.field == "Act/A/Event/Left"
    assert "in its driving direction" in str(error)


# --- 9: agents are placed by their reference point -------------------------------------------


@pytest.mark.data
def test_the_box_centre_is_center_x_ahead_of_the_position(tmp_path: Path, xodr: Path) -> None:
    cutter, _ = _cutter(tmp_path, xodr, "")
    at_reference, _ = _cutter(
        tmp_path,
        xodr,
        "",
        (
            '<ScenarioObject name="Cutter"><Vehicle name="car" vehicleCategory="car"><BoundingBox>'
            '<Center x="1.4"',
            '<ScenarioObject name="Cutter"><Vehicle name="car" vehicleCategory="car"><BoundingBox>'
            '<Center x="0"',
        ),
    )
    assert cutter["station_m"] - at_reference["station_m"] == pytest.approx(1.4)
