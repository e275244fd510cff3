"""Empty names in an OpenSCENARIO file: the XSD types every ``name`` as ``String``, which may be
empty, so an element with an empty name that nothing refers to is read; a reference by name
that must resolve (an entity, a catalogue entry, a parameter, a traffic light, a signal
controller or its phase) is refused when it is empty or white space, naming the file, the
element and the attribute. Before, an empty reference resolved to whichever element had an
empty name (a ``TrafficSignalControllerAction`` sending ``trafficSignalControllerRef=""`` to
its ``phase=""``, an entity ``""`` placed by ``entityRef=""``) and an empty controller
``reference`` was read as none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.build import build_scenario
from drivestack.sim.scenario import load_scenarios
from tests.sim.test_openscenario_signal_actions import _at, _events, _state, _to_phase
from tests.sim.test_openscenario_traffic_signals import _controller, _phase, _write, _xosc

SIGNALS = _controller("C", _phase("go", 30, s10="green") + _phase("stop", 30, s10="red"))
ACTION = "Act/A/Event/e/Action/e-do/GlobalAction/InfrastructureAction/TrafficSignalAction"
CONTROLLER = "RoadNetwork/TrafficSignals/TrafficSignalController"
#: A second vehicle, named ``{name}``, placed 50 m ahead of the ego by ``entityRef="{ref}"``.
CAR = (
    '<ScenarioObject name="{name}"><Vehicle name="car" vehicleCategory="car"><BoundingBox>'
    '<Center x="1.4" y="0" z="0.8"/><Dimensions width="1.9" length="4.6" height="1.5"/>'
    '</BoundingBox><Performance maxSpeed="50" maxAcceleration="5" maxDeceleration="9"/><Axles/>'
    "<Properties/></Vehicle></ScenarioObject>"
)
PLACE = (
    '<Private entityRef="{ref}"><PrivateAction><TeleportAction><Position><LanePosition '
    'roadId="1" laneId="-1" offset="0" s="60"/></Position></TeleportAction></PrivateAction>'
    "</Private>"
)

SPEED = (
    "<PrivateAction><LongitudinalAction><SpeedAction><SpeedActionDynamics dynamicsShape='step' "
    "value='0' dynamicsDimension='time'/><SpeedActionTarget><AbsoluteTargetSpeed value='3'/>"
    "</SpeedActionTarget></SpeedAction></LongitudinalAction></PrivateAction>"
)


def _with_car(name: str, ref: str, story: str = "") -> str:
    return (
        _xosc(SIGNALS, story=story)
        .replace("</Entities>", CAR.format(name=name) + "</Entities>")
        .replace("</Actions></Init>", PLACE.format(ref=ref) + "</Actions></Init>")
    )


def _build(path: Path) -> None:
    for cfg in load_scenarios(path):
        build_scenario(cfg)


@pytest.mark.parametrize("blank", ["", " "])
@pytest.mark.parametrize(
    ("text", "field"),
    [
        (  # the controller and its phase have empty names: the action's references are refused
            lambda b: _xosc(
                _controller(b, _phase(b, 30, s10="green") + _phase("stop", 30, s10="red")),
                story=_events(("e", _to_phase(b, "stop"), _at(2.0))),
            ),
            f"{ACTION}/TrafficSignalControllerAction@trafficSignalControllerRef",
        ),
        (
            lambda b: _xosc(
                _controller("C", _phase(b, 30, s10="green") + _phase("stop", 30, s10="red")),
                story=_events(("e", _to_phase("C", b), _at(2.0))),
            ),
            f"{ACTION}/TrafficSignalControllerAction@phase",
        ),
        (
            lambda b: _xosc(SIGNALS, story=_events(("e", _state(b, "red"), _at(2.0)))),
            f"{ACTION}/TrafficSignalStateAction@name",
        ),
        (
            lambda b: _xosc(_controller("C", _phase("go", 30, s10="green"), reference=b)),
            f"{CONTROLLER}/C@reference",
        ),
        (
            lambda b: _xosc(
                _controller("C", _phase("go", 30, s10="green").replace('"10"', f'"{b}"'))
            ),
            f"{CONTROLLER}/C/Phase/go/TrafficSignalState@trafficSignalId",
        ),
        (lambda b: _with_car("Car", b), "Storyboard/Init/Actions/Private@entityRef"),
        (lambda b: _with_car(b, b), "Entities/ScenarioObject@name"),
        (  # an actor named by an empty EntityRef, for its speed change
            lambda b: _with_car(
                "Car",
                "Car",
                story=_events(("e", SPEED, _at(2.0))).replace(
                    "<Actors selectTriggeringEntities='false'/>",
                    f"<Actors selectTriggeringEntities='false'><EntityRef entityRef='{b}'/>"
                    "</Actors>",
                ),
            ),
            "Act/A/ManeuverGroup/G@entityRef",
        ),
        (
            lambda b: _with_car("Car", "Car").replace(
                CAR.format(name="Car"),
                f'<ScenarioObject name="Car"><CatalogReference catalogName="{b}" '
                'entryName="car"/></ScenarioObject>',
            ),
            "Entities/Car@catalogName",
        ),
        (
            lambda b: _with_car("Car", "Car").replace(
                CAR.format(name="Car"),
                '<ScenarioObject name="Car"><CatalogReference catalogName="VehicleCatalog" '
                f'entryName="{b}"/></ScenarioObject>',
            ),
            "Entities/Car@entryName",
        ),
    ],
    ids=[
        "controllerRef",
        "phase",
        "state-action-name",
        "controller-reference",
        "trafficSignalId",
        "private-entityRef",
        "entity-name",
        "actor-entityRef",
        "catalogName",
        "entryName",
    ],
)
def test_an_empty_name_where_a_reference_must_resolve_is_refused(
    tmp_path: Path, blank: str, text: Callable[[str], str], field: str
) -> None:
    path = _write(tmp_path, text(blank))
    with pytest.raises(ConfigError) as info:
        _build(path)
    err = info.value
    assert (err.path, err.field) == (str(path), field)
    assert f"an empty name ({blank!r})" in str(err)


def test_a_dollar_without_a_parameter_name_is_refused(tmp_path: Path) -> None:
    # a declaration named "" would have resolved it
    text = _xosc(_controller("C", _phase("go", 30, s10="$"))).replace(
        "<ParameterDeclarations>",
        '<ParameterDeclarations><ParameterDeclaration name="" parameterType="string" '
        'value="off;off;on"/>',
    )
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        _build(path)
    assert info.value.field == f"{CONTROLLER}/C/Phase/go/TrafficSignalState[10]@state"
    assert "'$' names no parameter" in str(info.value)


@pytest.mark.parametrize("blank", ["", " "])
def test_an_empty_name_that_nothing_refers_to_is_read(tmp_path: Path, blank: str) -> None:
    """A controller, its phase, the story's elements and a vehicle's own name: the XSD's
    ``String`` allows an empty name; no reference needs to tell them apart."""
    signals = _controller(blank, _phase(blank, 30, s10="green") + _phase("stop", 30, s10="red"))
    story = (
        _events((blank, _state("11", "red"), _at(2.0)))
        .replace("name='S'", f"name='{blank}'")
        .replace("name='A'", f"name='{blank}'")
        .replace("name='M'", f"name='{blank}'")
    )
    text = _xosc(signals, story=story).replace('<Vehicle name="ego"', f'<Vehicle name="{blank}"')
    (cfg,) = load_scenarios(_write(tmp_path, text))
    build_scenario(cfg)
    lights = {light.id: light for light in cfg.traffic_lights}
    assert [list(p) for p in lights["10"].phases] == [["green", 30.0], ["red", 30.0]]
    assert [(w.at_s, w.state) for w in lights["11"].switches] == [(2.0, "red")]
