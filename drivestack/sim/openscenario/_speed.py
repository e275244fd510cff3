"""Speed-profile arithmetic: the constant rate of a ``SpeedAction`` and the speed reached.

A speed change runs at a constant rate towards its target (a ``step``: at once, as
:data:`_STEP_ACCEL_MPS2`); :func:`_rate_mps2` works that rate out from the action's dynamics,
:func:`_needs_start_speed` says whether it depends on the speed at the action's start, and
:func:`_acting` / :func:`_speed_at` replay a list of speed segments as the simulator's scripted
agents drive them, for the Init speed and the story's events alike.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from drivestack.sim.openscenario._document import _Doc

_STEP_ACCEL_MPS2 = 1000.0  # a "step" speed change: at once (the simulator caps it per tick)
#: OpenSCENARIO's ``DynamicsShape`` values (every one but ``step`` read as a constant rate)
DYNAMICS_SHAPES = ("step", "linear", "cubic", "sinusoidal")
#: OpenSCENARIO's ``DynamicsDimension`` values (``time`` where it is missing)
DYNAMICS_DIMENSIONS = ("rate", "time", "distance")


def _shape(doc: _Doc, dyn: ET.Element, where: str) -> str:
    """The dynamics' ``dynamicsShape`` (``ConfigError`` for one OpenSCENARIO does not have)."""
    return doc.choice(dyn, "dynamicsShape", where, DYNAMICS_SHAPES)


def _dimension(doc: _Doc, dyn: ET.Element, where: str) -> str:
    """The dynamics' ``dynamicsDimension`` (``time`` where it is missing)."""
    return doc.choice(dyn, "dynamicsDimension", where, DYNAMICS_DIMENSIONS, default="time")


def _rate_mps2(doc: _Doc, dyn: ET.Element, before: float, goal: float, where: str) -> float:
    """The constant rate (m/s^2, > 0) of a speed change from ``before`` to ``goal`` under
    ``SpeedActionDynamics`` ``dyn``: ``step`` (or a zero value or no change) at once, ``rate``
    as given (its sign ignored: esmini writes braking rates negative), ``time`` / ``distance``
    over that time / distance."""
    shape = _shape(doc, dyn, where)
    value = abs(doc.number(dyn, "value", where))
    dimension = _dimension(doc, dyn, where)
    change = abs(goal - before)
    if shape != "step" and value == 0.0 and dimension == "rate" and change >= 1e-9:
        raise doc.error(
            "a rate of 0 never reaches the target speed; for a change at once give "
            'dynamicsShape="step"',
            where,
        )
    if shape == "step" or value == 0.0 or change < 1e-9:
        return _STEP_ACCEL_MPS2
    if dimension == "rate":
        return value
    if dimension == "time":
        return change / value
    if dimension == "distance":
        return abs(goal**2 - before**2) / (2.0 * value)
    raise doc.error(f"unknown dynamicsDimension {dimension!r}", where)


def _needs_start_speed(doc: _Doc, dyn: ET.Element, where: str) -> bool:
    """Does the dynamics' rate depend on the speed at the action's start (``time`` or
    ``distance`` of a non-step change)?"""
    return (
        _shape(doc, dyn, where) != "step"
        and doc.number(dyn, "value", where) != 0.0
        and _dimension(doc, dyn, where) in ("time", "distance")
    )


def _acting(segments: list[tuple[float, float, float]]) -> int:
    """The index of the speed segment acting last (the latest start; the last listed on ties,
    as the simulator picks), -1 for none."""
    return max(range(len(segments)), key=lambda k: (segments[k][0], k), default=-1)


def _speed_at(speed_mps: float, segments: list[tuple[float, float, float]], time_s: float) -> float:
    """The speed at ``time_s`` from ``speed_mps`` at 0 under the speed ``segments`` ``(start,
    rate > 0, target)`` (the last started one acting: towards its target at its rate, then
    holding it), as the simulator's scripted agents drive them."""
    # the simulator acts on the last listed of equal starts: it goes last here
    order = sorted(range(len(segments)), key=lambda k: (segments[k][0], k))
    v = speed_mps
    for n, k in enumerate(order):
        start, rate, target = segments[k]
        if start > time_s:
            break
        end = segments[order[n + 1]][0] if n + 1 < len(order) else math.inf
        span = min(end, time_s) - start
        if span > 0.0:
            v = (
                target
                if abs(target - v) <= rate * span
                else v + math.copysign(rate * span, target - v)
            )
    return v
