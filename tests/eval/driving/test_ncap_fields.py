"""NCAP fields by hand: the ego's absolute impact speed, the relative (closing) impact speed
Euro NCAP scores CCRm / CCRb by, the speed reduction when avoided, and the TTC horizon."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.driving.ncap import ncap_result
from drivestack.eval.driving.nuplan import TTC_HORIZON_S, nuplan_score

from .test_nuplan_metrics import DT, ROAD, ROUTE, VEHICLE, car, history


def test_ccrm_relative_impact_speed_is_the_closing_speed() -> None:
    # ego at 50 km/h closes on a car ahead driving 20 km/h: contact at a 30 km/h closing speed
    n = 41
    t = np.arange(n) * DT
    ego_v, target_v = 50 / 3.6, 20 / 3.6
    gap0 = 5.0  # front bumper to rear bumper at t = 0
    target_x = VEHICLE.front_offset_m + 2.25 + gap0 + target_v * t  # centre of the 4.5 m car
    vel = np.zeros((n, 1, 2))
    vel[:, 0, 0] = target_v
    h = history(ego_v * t, np.full(n, ego_v), agents=car(target_x), agent_vel=vel)
    ncap = ncap_result(h, nuplan_score(h, ROAD, ROUTE, 30.0).min_ttc_s)
    assert not ncap.avoided
    assert ncap.impact_speed_kph == pytest.approx(50.0)  # the ego's own speed
    assert ncap.relative_impact_speed_kph == pytest.approx(30.0)  # 50 - 20 km/h
    assert ncap.speed_reduction_kph == pytest.approx(0.0)
    assert ncap.as_dict()["relative_impact_speed_kph"] == pytest.approx(30.0)


def test_stationary_target_relative_equals_absolute() -> None:
    n = 31
    t = np.arange(n) * DT
    h = history(
        10.0 * t, np.full(n, 10.0), agents=car(np.full(n, 20.0 + VEHICLE.front_offset_m + 2.25))
    )
    ncap = ncap_result(h, np.inf)
    assert ncap.impact_speed_kph == pytest.approx(36.0)
    assert ncap.relative_impact_speed_kph == pytest.approx(36.0)


def test_avoided_run_reduces_by_the_initial_speed_and_records_the_ttc_horizon() -> None:
    n = 21
    t = np.arange(n) * DT
    h = history(10.0 * t, np.full(n, 10.0))  # no agents: no contact, no TTC at all
    m = nuplan_score(h, ROAD, ROUTE, 20.0)
    ncap = ncap_result(h, m.min_ttc_s)
    d = ncap.as_dict()
    assert d["avoided"] and d["impact_speed_kph"] is None
    assert d["relative_impact_speed_kph"] is None
    assert d["speed_reduction_kph"] == pytest.approx(36.0)  # the whole initial speed
    assert d["min_ttc_s"] is None and d["ttc_horizon_s"] == TTC_HORIZON_S == 3.0
    assert m.as_dict()["min_ttc_s"] is None and m.as_dict()["ttc_horizon_s"] == 3.0
