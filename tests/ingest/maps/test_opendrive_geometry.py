"""OpenDRIVE plan-view geometry against closed forms: lines, arcs, clothoids (Fresnel
integrals), poly3 and paramPoly3 curves."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import fresnel

from drivestack.ingest.maps.opendrive_geometry import (
    PlanViewRecord,
    offset_points,
    piecewise_cubic,
    reference_line,
)


def test_line_hand_values() -> None:
    rec = PlanViewRecord("line", 0.0, 1.0, 2.0, math.pi / 2, 10.0)
    x, y, hdg = reference_line([rec], [0.0, 5.0, 10.0])
    np.testing.assert_allclose(x, [1.0, 1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(y, [2.0, 7.0, 12.0])
    np.testing.assert_allclose(hdg, math.pi / 2)


def test_quarter_arc_ends_a_radius_over_and_up() -> None:
    radius = 100.0
    rec = PlanViewRecord("arc", 0.0, 0.0, 0.0, 0.0, radius * math.pi / 2, (1.0 / radius,))
    x, y, hdg = reference_line([rec], [radius * math.pi / 2])
    np.testing.assert_allclose([x[0], y[0], hdg[0]], [radius, radius, math.pi / 2], atol=1e-9)


def test_clothoid_matches_fresnel_integrals() -> None:
    # curvature 0 -> 1/50 over 100 m: k(s) = s / A^2 with A^2 = 100 * 50
    length, end_curvature = 100.0, 1.0 / 50.0
    a = math.sqrt(length / end_curvature)
    rec = PlanViewRecord("spiral", 0.0, 0.0, 0.0, 0.0, length, (0.0, end_curvature))
    s = np.linspace(0.0, length, 9)
    x, y, hdg = reference_line([rec], s)
    fs, fc = fresnel(s / (a * math.sqrt(math.pi)))
    np.testing.assert_allclose(x, a * math.sqrt(math.pi) * fc, atol=1e-5)
    np.testing.assert_allclose(y, a * math.sqrt(math.pi) * fs, atol=1e-5)
    np.testing.assert_allclose(hdg, s**2 / (2 * a * a))


@settings(max_examples=60, deadline=None)
@given(
    curvature=st.floats(-0.2, 0.2).filter(lambda k: abs(k) > 1e-4),
    length=st.floats(1.0, 200.0),
    heading=st.floats(-math.pi, math.pi),
)
def test_constant_curvature_spiral_is_the_arc(
    curvature: float, length: float, heading: float
) -> None:
    s = np.linspace(0.0, length, 7)
    arc = PlanViewRecord("arc", 0.0, 3.0, -4.0, heading, length, (curvature,))
    spiral = PlanViewRecord("spiral", 0.0, 3.0, -4.0, heading, length, (curvature, curvature))
    xa, ya, ha = reference_line([arc], s)
    xs, ys, hs = reference_line([spiral], s)
    np.testing.assert_allclose(np.c_[xs, ys], np.c_[xa, ya], atol=1e-4)
    np.testing.assert_allclose(hs, ha, atol=1e-12)
    # every arc point is one radius from the centre, left of the start for positive curvature
    centre = np.array([3.0, -4.0]) + np.array([-math.sin(heading), math.cos(heading)]) / curvature
    np.testing.assert_allclose(np.hypot(xa - centre[0], ya - centre[1]), 1.0 / abs(curvature))


def test_poly3_straight_slope_runs_along_its_arc_length() -> None:
    slope = 0.75  # v = 0.75 u: 5 m of arc per 4 m of u
    rec = PlanViewRecord("poly3", 0.0, 0.0, 0.0, 0.0, 50.0, (0.0, slope, 0.0, 0.0))
    x, y, hdg = reference_line([rec], [0.0, 25.0, 50.0])
    np.testing.assert_allclose(x, [0.0, 20.0, 40.0], atol=1e-9)
    np.testing.assert_allclose(y, [0.0, 15.0, 30.0], atol=1e-9)
    np.testing.assert_allclose(hdg, math.atan(slope))


def test_param_poly3_ranges_agree() -> None:
    length = 40.0
    arc_length = (0.0, 1.0, 0.001, -1e-5, 0.0, 0.0, 0.002, 3e-5, length)
    # the same curve with p in [0, 1]: coefficient of p^n scaled by length^n
    scale = [1.0, length, length**2, length**3]
    normalized = (
        *(c * f for c, f in zip(arc_length[:4], scale, strict=True)),
        *(c * f for c, f in zip(arc_length[4:8], scale, strict=True)),
        1.0,
    )
    s = np.linspace(0.0, length, 11)
    a = reference_line([PlanViewRecord("paramPoly3", 0.0, 5.0, 6.0, 0.3, length, arc_length)], s)
    b = reference_line([PlanViewRecord("paramPoly3", 0.0, 5.0, 6.0, 0.3, length, normalized)], s)
    np.testing.assert_allclose(np.c_[a], np.c_[b], atol=1e-9)


def test_records_chain_and_clamp_past_the_end() -> None:
    line = PlanViewRecord("line", 0.0, 0.0, 0.0, 0.0, 10.0)
    arc = PlanViewRecord("arc", 10.0, 10.0, 0.0, 0.0, 5.0, (0.1,))
    x, y, hdg = reference_line([line, arc], [9.0, 10.0, 15.0, 20.0])
    np.testing.assert_allclose([x[0], y[0]], [9.0, 0.0])
    np.testing.assert_allclose([x[1], y[1]], [10.0, 0.0])
    np.testing.assert_allclose(hdg[2:], [0.5, 0.5])  # 20 m is past the road: held at its end
    np.testing.assert_allclose([x[3], y[3]], [x[2], y[2]])


def test_offsets_are_to_the_left() -> None:
    pts = offset_points(np.array([0.0]), np.array([0.0]), np.array([math.pi / 2]), np.array([2.0]))
    np.testing.assert_allclose(pts, [[-2.0, 0.0]], atol=1e-12)


def test_piecewise_cubic_uses_the_record_in_force() -> None:
    starts = np.array([0.0, 10.0])
    coeffs = np.array([[1.0, 0.1, 0.0, 0.0], [3.0, 0.0, 0.01, 0.0]])
    np.testing.assert_allclose(
        piecewise_cubic(starts, coeffs, np.array([0.0, 5.0, 10.0, 12.0])), [1.0, 1.5, 3.0, 3.04]
    )
    np.testing.assert_allclose(piecewise_cubic(np.empty(0), np.empty((0, 4)), np.zeros(2)), 0.0)


@pytest.mark.parametrize("kind, length", [("clothoid", 10.0), ("line", 0.0), ("line", -1.0)])
def test_bad_records_are_refused(kind: str, length: float) -> None:
    with pytest.raises(ValueError, match=r"kind|length"):
        PlanViewRecord(kind, 0.0, 0.0, 0.0, 0.0, length)
