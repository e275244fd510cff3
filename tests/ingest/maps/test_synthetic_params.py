"""Synthetic map builders check their own arguments: MapParamError names the one refused."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from drivestack.ingest.maps.synthetic import (
    SYNTHETIC_MAP_BUILDERS,
    MapParamError,
    build_synthetic_map,
    curved_road,
    four_way_intersection,
    merge_road,
    straight_road,
)
from drivestack.structures.road_map import RoadMap

BAD = [
    (straight_road, {"n_lanes": 0}, "n_lanes", "must be at least 1 (the lanes of the road), got 0"),
    (straight_road, {"n_lanes": 1.5}, "n_lanes", "must be a whole number of lanes, got 1.5"),
    (curved_road, {"n_lanes": True}, "n_lanes", "must be a whole number of lanes, got True"),
    (straight_road, {"length_m": 0.0}, "length_m", "must be a length in (0, 1e+06] m, got 0.0"),
    (straight_road, {"lane_width_m": -3.5}, "lane_width_m", "must be a width in (0, 50] m, got -3.5"),
    (straight_road, {"speed_limit_mps": math.nan}, "speed_limit_mps", "must be a speed > 0 m/s, got nan"),
    (straight_road, {"length_m": math.inf}, "length_m", "must be a length in (0, 1e+06] m, got inf"),
    (curved_road, {"radius_m": -1.0}, "radius_m", "must be a radius in (0, 100000] m, got -1.0"),
    (curved_road, {"sweep_rad": 0.0}, "sweep_rad", "must be an angle in (0, 2 pi) rad (a left bend), got 0.0"),
    (curved_road, {"sweep_rad": 2 * math.pi}, "sweep_rad", "must be an angle in (0, 2 pi) rad"),
    (curved_road, {"lead_in_m": 0.0}, "lead_in_m", "must be a length in (0, 1e+06] m, got 0.0"),
    (curved_road, {"lead_out_m": -5.0}, "lead_out_m", "must be a length in (0, 1e+06] m, got -5.0"),
    (curved_road, {"n_lanes": 0}, "n_lanes", "must be at least 1"),
    (four_way_intersection, {"arm_length_m": 0}, "arm_length_m", "must be a length in (0, 1e+06] m, got 0"),
    (four_way_intersection, {"box_half_m": 0.0}, "box_half_m", "must be a half-size in (0, 1e+06] m, got 0.0"),
    (four_way_intersection, {"lane_width_m": 0.0}, "lane_width_m", "must be a width in (0, 50] m"),
    (merge_road, {"merge_x_m": -150.0}, "merge_x_m", "must be an x in (-100, 1e+06] m (the main lane starts at x = -100 m), got -150.0"),
    (merge_road, {"merge_x_m": -100.0}, "merge_x_m", "must be an x in (-100, 1e+06] m"),
    (merge_road, {"length_after_m": 0.0}, "length_after_m", "must be a length in (0, 1e+06] m, got 0.0"),
    (merge_road, {"ramp_offset_m": math.nan}, "ramp_offset_m", "must be an offset of at most 1e+06 m either way, got nan"),
    (merge_road, {"speed_limit_mps": 0.0}, "speed_limit_mps", "must be a speed > 0 m/s, got 0.0"),
    # upper bounds: a 2e8 m road was refused at the resampler's step, a 1e300 m radius inside
    # NumPy, a 1e200 m lane width at the ego's position
    (straight_road, {"length_m": 2e8}, "length_m", "must be a length in (0, 1e+06] m, got 200000000.0"),
    (curved_road, {"radius_m": 1e300}, "radius_m", "must be a radius in (0, 100000] m, got 1e+300"),
    (straight_road, {"lane_width_m": 1e200}, "lane_width_m", "must be a width in (0, 50] m, got 1e+200"),
    (merge_road, {"ramp_offset_m": -2e6}, "ramp_offset_m", "must be an offset of at most 1e+06 m either way"),
]  # fmt: skip


@pytest.mark.parametrize(("builder", "kwargs", "param", "reason"), BAD)
def test_a_builder_refuses_an_argument_out_of_range_by_name(
    builder: Callable[..., RoadMap], kwargs: dict[str, float], param: str, reason: str
) -> None:
    with pytest.raises(MapParamError) as err:
        builder(**kwargs)
    assert err.value.param == param
    assert err.value.reason.startswith(reason)
    assert str(err.value) == f"{param}: {err.value.reason}"
    assert isinstance(err.value, ValueError)  # callers catching ValueError still do


def test_a_bend_tighter_than_the_road_is_wide_is_refused_at_radius_m() -> None:
    with pytest.raises(MapParamError) as err:
        curved_road(radius_m=7.0, n_lanes=2, lane_width_m=3.5)
    assert err.value.param == "radius_m"
    assert err.value.reason.startswith("7.0 m is not more than the road's width (7 m")
    assert curved_road(radius_m=7.5, n_lanes=2, lane_width_m=3.5).lanes  # just wider builds


def test_merge_x_m_just_past_the_main_lane_start_builds() -> None:
    m = merge_road(merge_x_m=-99.0)
    assert m.lane("main_a").centerline_m[0, 0] == pytest.approx(-100.0)
    assert m.lane("ramp").centerline_m[0, 0] == pytest.approx(-100.0)


def test_a_non_number_is_refused_by_name() -> None:
    with pytest.raises(MapParamError) as err:
        straight_road(length_m="600")  # type: ignore[arg-type]
    assert err.value.param == "length_m"


@pytest.mark.parametrize("kind", sorted(SYNTHETIC_MAP_BUILDERS))
def test_every_builder_accepts_its_defaults(kind: str) -> None:
    assert build_synthetic_map(kind).lanes


def test_build_synthetic_map_passes_the_check_on() -> None:
    with pytest.raises(MapParamError, match=r"^n_lanes: must be at least 1"):
        build_synthetic_map("straight", n_lanes=0)
