"""Malformed CommonRoad files: each is a DataError naming the file, the record and the field
(never a bare ValueError, a NaN that fails later, or a reference silently dropped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps.commonroad import read_commonroad


def _lanelet(lid: str, y: float, extra: str = "") -> str:
    def bound(tag: str, dy: float) -> str:
        pts = "".join(f"<point><x>{x}</x><y>{y + dy}</y></point>" for x in ("0.0", "50.0"))
        return f"<{tag}>{pts}</{tag}>"

    return f'<lanelet id="{lid}">{bound("leftBound", 1.75)}{bound("rightBound", -1.75)}{extra}</lanelet>'


def _obstacle(velocity: str = "10.0", time: str = "1") -> str:
    def state(tag: str, t: str) -> str:
        return (
            f"<{tag}><position><point><x>5.0</x><y>0.0</y></point></position>"
            f"<orientation><exact>0.0</exact></orientation><time><exact>{t}</exact></time>"
            f"<velocity><exact>{velocity}</exact></velocity></{tag}>"
        )

    return (
        '<dynamicObstacle id="7"><type>car</type>'
        "<shape><rectangle><length>4.5</length><width>1.8</width></rectangle></shape>"
        f"{state('initialState', '0')}<trajectory>{state('state', time)}</trajectory>"
        "</dynamicObstacle>"
    )


def _problem(goal: str = "1") -> str:
    return (
        '<planningProblem id="99"><initialState><position><point><x>1.0</x><y>0.0</y></point>'
        "</position><orientation><exact>0.0</exact></orientation>"
        "<velocity><exact>5.0</exact></velocity></initialState>"
        f'<goalState><position><lanelet ref="{goal}"/></position></goalState></planningProblem>'
    )


def _write(
    tmp_path: Path,
    lanelets: str | None = None,
    obstacle: str | None = None,
    problem: str | None = None,
    dt: str = "0.1",
) -> Path:
    path = tmp_path / "s.xml"
    lanes = lanelets if lanelets is not None else _lanelet("1", 0.0) + _lanelet("2", 3.5)
    path.write_text(
        f'<commonRoad commonRoadVersion="2020a" benchmarkID="T" timeStepSize="{dt}">'
        f"{lanes}{obstacle if obstacle is not None else _obstacle()}"
        f"{problem if problem is not None else _problem()}</commonRoad>"
    )
    return path


def _message(path: Path) -> str:
    with pytest.raises(DataError) as info:
        read_commonroad(path)
    assert str(info.value).startswith(str(path))  # names the file
    return str(info.value)


def test_the_template_loads(tmp_path: Path) -> None:
    sc = read_commonroad(_write(tmp_path))
    assert len(sc.road_map) == 2 and sc.goal_lanelets == ("1",) and sc.dt_s == 0.1


def test_non_numeric_coordinate(tmp_path: Path) -> None:
    lanes = _lanelet("1", 0.0).replace("<x>50.0</x>", "<x>abc</x>", 1)
    message = _message(_write(tmp_path, lanelets=lanes))
    assert "lanelet 1: field leftBound point 1 x: not a number: 'abc'" in message


@pytest.mark.parametrize("value", ["abc", "nan", "inf"])
def test_velocity_must_be_a_finite_number(tmp_path: Path, value: str) -> None:
    message = _message(_write(tmp_path, obstacle=_obstacle(velocity=value)))
    assert "obstacle 7: field velocity: not a" in message and repr(value) in message


def test_non_numeric_time(tmp_path: Path) -> None:
    message = _message(_write(tmp_path, obstacle=_obstacle(time="x")))
    assert "obstacle 7: field time: not a number: 'x'" in message


@pytest.mark.parametrize("dt", ["0", "-0.1", "abc", "nan"])
def test_time_step_size_is_blamed(tmp_path: Path, dt: str) -> None:
    message = _message(_write(tmp_path, dt=dt))
    assert "field timeStepSize" in message and "time steps must increase" not in message


def test_unknown_goal_lanelet(tmp_path: Path) -> None:
    message = _message(_write(tmp_path, problem=_problem(goal="404")))
    assert "planningProblem 99: field goalState/position/lanelet" in message and "'404'" in message


@pytest.mark.parametrize("tag", ["successor", "predecessor", "adjacentLeft"])
def test_dangling_lanelet_reference(tmp_path: Path, tag: str) -> None:
    extra = f'<{tag} ref="77" drivingDir="same"/>'
    lanes = _lanelet("1", 0.0, extra) + _lanelet("2", 3.5)
    message = _message(_write(tmp_path, lanelets=lanes))
    assert f"lanelet 1: field {tag}: refers to unknown lanelet '77'" in message


@pytest.mark.parametrize("value", ["1_0", "\uff11\uff10", "\u0661\u0660.5"])
def test_python_only_number_is_not_a_number(tmp_path: Path, value: str) -> None:
    message = _message(_write(tmp_path, obstacle=_obstacle(velocity=value)))  # was 10 m/s
    assert f"obstacle 7: field velocity: not a number: {value!r}" in message


def test_a_lanelet_folded_back_is_an_error_naming_the_file_and_lanelet(tmp_path: Path) -> None:
    """A lanelet whose bounds turn back on themselves: a DataError naming the file and the
    lanelet (it was a bare ValueError from the lane's own check, or, when the midline's fold
    held two nearly equal vertices, not found at all)."""

    def bound(tag: str, dy: float) -> str:
        xs = ("0.0", "50.0", "20.0")  # out 50 m and back 30 m
        pts = "".join(f"<point><x>{x}</x><y>{dy}</y></point>" for x in xs)
        return f"<{tag}>{pts}</{tag}>"

    folded = f'<lanelet id="1">{bound("leftBound", 1.75)}{bound("rightBound", -1.75)}</lanelet>'
    path = _write(tmp_path, lanelets=folded + _lanelet("2", 3.5))
    with pytest.raises(DataError) as info:
        read_commonroad(path)
    assert (info.value.path, info.value.record) == (str(path), "lanelet 1")
    assert "Lane '1'.centerline_m turns back on itself at vertex 1" in str(info.value)
