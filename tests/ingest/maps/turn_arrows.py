"""A hand-built CommonRoad 2020a file with one signalled intersection and turn arrows, shared
by the turn-arrow tests (reader, planners, simulated traffic, red-light metric).

Lanelet ``1`` runs along +x from x = 0 to 60 m on y = 0 (3.5 m wide) and ends at the
intersection; its end is the stop line (``<stopLine>`` without points) of lights ``10`` and
``11``. Out of it (intersection ``100``, incoming ``101``):

- ``2`` straight on, x 60 -> 80 m, then ``5``, x 80 -> 200 m (y = 0);
- ``3`` left: a quarter circle of radius 15 m about (60, 15) to (75, 15), then ``6`` north
  along x = 75 m to y = 135 m;
- ``4`` right: a quarter circle of radius 15 m about (60, -15) to (75, -15), then ``7`` south
  along x = 75 m to y = -135 m.

Light ``10`` shows ``left`` (a left arrow) and light ``11`` ``straight``; by default the
arrow is red and the straight light green for the whole file (one-phase cycles), so a car
turning left must stop at x = 60 m and one going straight may pass. The right turn is
governed by neither.
"""

from __future__ import annotations

import math
from pathlib import Path

#: Where lanelet 1 ends: the stop line of lights 10 and 11 (m, along +x on y = 0).
LINE_X_M = 60.0
#: The turns' radius (m) and half the lanes' width (m).
TURN_RADIUS_M = 15.0
HALF_WIDTH_M = 1.75
#: Lanelet ids by way out of lanelet 1, and the lanelet after each.
STRAIGHT, LEFT, RIGHT = "2", "3", "4"
AFTER = {STRAIGHT: "5", LEFT: "6", RIGHT: "7"}


def _points(xy: list[tuple[float, float]]) -> str:
    return "".join(f"<point><x>{x:.6f}</x><y>{y:.6f}</y></point>" for x, y in xy)


def _lanelet(
    lid: str,
    left: list[tuple[float, float]],
    right: list[tuple[float, float]],
    extra: str = "",
) -> str:
    return (
        f'<lanelet id="{lid}"><leftBound>{_points(left)}</leftBound>'
        f"<rightBound>{_points(right)}</rightBound>{extra}"
        "<laneletType>urban</laneletType></lanelet>"
    )


def _straight(lid: str, start: tuple[float, float], end: tuple[float, float], extra: str) -> str:
    """A straight lanelet from ``start`` to ``end`` (its centreline), 3.5 m wide."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    n = math.hypot(dx, dy)
    nx, ny = -dy / n * HALF_WIDTH_M, dx / n * HALF_WIDTH_M  # to the left
    left = [(start[0] + nx, start[1] + ny), (end[0] + nx, end[1] + ny)]
    right = [(start[0] - nx, start[1] - ny), (end[0] - nx, end[1] - ny)]
    return _lanelet(lid, left, right, extra)


def _turn(lid: str, side: str, extra: str, n: int = 24) -> str:
    """A quarter circle from (60, 0) heading +x, turning ``side`` (left / right)."""
    sign = 1.0 if side == "left" else -1.0
    cx, cy = LINE_X_M, sign * TURN_RADIUS_M
    left, right = [], []
    for i in range(n + 1):
        phi = -sign * math.pi / 2 + sign * (math.pi / 2) * i / n
        ux, uy = math.cos(phi), math.sin(phi)
        inner = TURN_RADIUS_M - HALF_WIDTH_M
        outer = TURN_RADIUS_M + HALF_WIDTH_M
        near, far = (cx + inner * ux, cy + inner * uy), (cx + outer * ux, cy + outer * uy)
        left.append(near if side == "left" else far)
        right.append(far if side == "left" else near)
    return _lanelet(lid, left, right, extra)


def _light(lid: str, colour: str, direction: str | None) -> str:
    way = "" if direction is None else f"<direction>{direction}</direction>"
    return (
        f'<trafficLight id="{lid}"><cycle><cycleElement><duration>1000</duration>'
        f"<color>{colour}</color></cycleElement></cycle>{way}<active>true</active></trafficLight>"
    )


def incoming(
    lanelets: tuple[str, ...] = ("1",),
    right: tuple[str, ...] = (RIGHT,),
    straight: tuple[str, ...] = (STRAIGHT,),
    left: tuple[str, ...] = (LEFT,),
    incoming_id: str = "101",
    extra: str = "",
) -> str:
    """An ``<incoming>`` element (defaults: the file's one)."""
    refs = "".join(f'<incomingLanelet ref="{r}"/>' for r in lanelets)
    for tag, ids in (("Right", right), ("Straight", straight), ("Left", left)):
        refs += "".join(f'<successors{tag} ref="{r}"/>' for r in ids)
    return f'<incoming id="{incoming_id}">{refs}{extra}</incoming>'


def intersection_xml(
    arrow: str | None = "left",
    arrow_colour: str = "red",
    other: str | None = "straight",
    other_colour: str = "green",
    intersection: str | None = None,
    extra_lights: str = "",
    extra_root: str = "",
) -> str:
    """The file's text: light 10 shows ``arrow_colour`` with direction ``arrow`` (``None``: no
    ``<direction>`` element), light 11 ``other_colour`` with ``other``; ``intersection``
    replaces the ``<intersection>`` element (``""``: none)."""
    stop = (
        '<stopLine><lineMarking>solid</lineMarking><trafficLightRef ref="10"/></stopLine>'
        '<trafficLightRef ref="11"/>'
    )
    lanelets = [
        _straight(
            "1",
            (0.0, 0.0),
            (LINE_X_M, 0.0),
            '<successor ref="2"/><successor ref="3"/><successor ref="4"/>' + stop,
        ),
        _straight("2", (LINE_X_M, 0.0), (80.0, 0.0), '<predecessor ref="1"/><successor ref="5"/>'),
        _turn("3", "left", '<predecessor ref="1"/><successor ref="6"/>'),
        _turn("4", "right", '<predecessor ref="1"/><successor ref="7"/>'),
        _straight("5", (80.0, 0.0), (200.0, 0.0), '<predecessor ref="2"/>'),
        _straight("6", (75.0, 15.0), (75.0, 135.0), '<predecessor ref="3"/>'),
        _straight("7", (75.0, -15.0), (75.0, -135.0), '<predecessor ref="4"/>'),
    ]
    if intersection is None:
        intersection = f'<intersection id="100">{incoming()}</intersection>'
    lights = _light("10", arrow_colour, arrow) + _light("11", other_colour, other) + extra_lights
    problem = (
        '<planningProblem id="99"><initialState><position><point><x>5.0</x><y>0.0</y></point>'
        "</position><orientation><exact>0.0</exact></orientation><velocity><exact>10.0</exact>"
        "</velocity><time><exact>0</exact></time><yawRate><exact>0.0</exact></yawRate>"
        "<slipAngle><exact>0.0</exact></slipAngle></initialState></planningProblem>"
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<commonRoad commonRoadVersion="2020a" '
        'benchmarkID="ZAM_TurnArrow-1_1_T-1" timeStepSize="0.1">'
        "<scenarioTags><intersection/></scenarioTags>"
        f"{''.join(lanelets)}{lights}{intersection}{extra_root}{problem}</commonRoad>"
    )


def write_intersection(folder: Path, name: str = "turn_arrow.xml", **kwargs: object) -> Path:
    """:func:`intersection_xml` (``kwargs``) written to ``folder / name``."""
    path = folder / name
    path.write_text(intersection_xml(**kwargs))  # type: ignore[arg-type]
    return path
