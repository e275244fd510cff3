"""Reference path: the fast KD-tree projection against the exact one, and the speed profile."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from drivestack.ingest.maps.synthetic import curved_road, straight_road
from drivestack.planning.proposals import fast_project
from drivestack.planning.reference_path import ReferencePath


def test_fast_projection_matches_the_exact_one_near_the_path() -> None:
    road = curved_road(radius_m=60.0)
    ref = ReferencePath.from_route(road, ["road_0"])
    rng = np.random.default_rng(1)
    s_true = rng.uniform(5.0, ref.length_m - 5.0, 300)
    d_true = rng.uniform(-3.0, 3.0, 300)
    pts, _ = ref.pose_at(s_true, d_true)
    s_fast, d_fast = fast_project(ref, cKDTree(ref.xy_m), pts)
    s_exact, d_exact = ref.project(pts)
    np.testing.assert_allclose(s_fast, s_exact, atol=1e-9)
    np.testing.assert_allclose(d_fast, d_exact, atol=1e-9)
    np.testing.assert_allclose(d_fast, d_true, atol=0.02)  # 1 m chords on a 60 m radius


def test_speed_profile_slows_before_a_bend() -> None:
    straight = ReferencePath.from_route(straight_road(speed_limit_mps=20.0), ["road_0"])
    np.testing.assert_allclose(straight.speed_profile(), 20.0)
    ref = ReferencePath.from_route(curved_road(radius_m=30.0, speed_limit_mps=20.0), ["road_0"])
    profile = ref.speed_profile(max_lat_accel_mps2=2.5, decel_mps2=1.5)
    v_bend = np.sqrt(2.5 * (30.0 - 1.75))  # lane 0 centre radius
    mid_bend = np.argmin(np.abs(ref.station_m - (150.0 + 0.25 * np.pi * 28.25)))
    assert profile[mid_bend] == pytest.approx(v_bend, rel=0.03)
    # decelerating at 1.5 m/s^2 from the limit reaches the bend speed 50-100 m before it
    v_at = profile[np.argmin(np.abs(ref.station_m - 100.0))]
    assert v_bend < v_at < 20.0
    before = ref.station_m <= 150.0  # the straight lead-in, up to the start of the bend
    assert np.all(np.diff(profile[before]) <= 1e-9)
