"""IDM: hand-computed accelerations, the equilibrium gap, and steady state in simulation."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.planning.idm import IDMParams, idm_acceleration, idm_equilibrium_gap_m
from drivestack.sim.agents import AgentSpec, Traffic
from drivestack.structures.labels import ObjectClass

P = IDMParams(
    min_gap_m=2.0, time_headway_s=1.5, max_accel_mps2=1.5, comfort_decel_mps2=3.0, exponent=4.0
)


def test_free_road() -> None:
    a = idm_acceleration([0.0, 10.0, 20.0], 20.0, np.inf, 0.0, P)
    np.testing.assert_allclose(a, [1.5, 1.5 * (1 - 0.5**4), 0.0])


def test_approaching_a_stopped_car() -> None:
    # s* = 2 + 10 * 1.5 + 10 * 10 / (2 sqrt(1.5 * 3)) = 40.5702; a = 1.5 (1 - 0.5^4 - (s*/30)^2)
    s_star = 2.0 + 15.0 + 100.0 / (2.0 * np.sqrt(4.5))
    expected = 1.5 * (1.0 - 0.0625 - (s_star / 30.0) ** 2)
    assert float(idm_acceleration(10.0, 20.0, 30.0, 0.0, P)[()]) == pytest.approx(expected)
    assert float(idm_acceleration(10.0, 20.0, 0.5, 0.0, P)[()]) == pytest.approx(
        -P.max_decel_mps2
    )  # clipped


def test_acc_model_tempers_a_cut_in() -> None:
    # a car cuts in 20 m ahead at 11.11 m/s, ego at 16.67 m/s: plain IDM brakes near its limit
    v, lead, gap = 16.67, 11.11, 20.0
    plain = float(idm_acceleration(v, v, gap, lead, P)[()])
    s_star = 2.0 + v * 1.5 + v * (v - lead) / (2.0 * np.sqrt(4.5))
    assert plain == pytest.approx(max(-1.5 * (s_star / gap) ** 2, -9.0))
    acc = IDMParams(coolness=0.99)
    cah = -((v - lead) ** 2) / (2.0 * gap)  # constant-acceleration heuristic
    expected = 0.01 * plain + 0.99 * (cah + 3.0 * np.tanh((plain - cah) / 3.0))
    assert float(idm_acceleration(v, v, gap, lead, acc)[()]) == pytest.approx(expected)
    assert -4.0 < expected < -3.5
    # not closing: ACC leaves IDM alone when IDM is above the heuristic (0 here)
    assert float(idm_acceleration(10.0, 20.0, np.inf, 10.0, acc)[()]) == pytest.approx(
        1.5 * (1 - 0.5**4)
    )


def test_equilibrium_gap() -> None:
    gap = idm_equilibrium_gap_m(10.0, 20.0, P)
    assert gap == pytest.approx(17.0 / np.sqrt(1.0 - 0.5**4))
    assert float(idm_acceleration(10.0, 20.0, gap, 10.0, P)[()]) == pytest.approx(0.0, abs=1e-12)


def test_follower_settles_at_the_equilibrium_gap() -> None:
    line = np.array([[0.0, 0.0], [3000.0, 0.0]])
    lead = AgentSpec(
        "lead",
        ObjectClass.CAR,
        (4.0, 1.8, 1.5),
        "scripted",
        path_m=line,
        station_m=60.0,
        speed_mps=10.0,
    )
    follower = AgentSpec(
        "f",
        ObjectClass.CAR,
        (4.0, 1.8, 1.5),
        "idm",
        path_m=line,
        station_m=0.0,
        speed_mps=10.0,
        desired_speed_mps=20.0,
        idm=P,
    )
    traffic = Traffic([lead, follower])
    far = np.array([-1000.0, 50.0, 0.75, 4.0, 1.8, 1.5, 0.0])  # ego out of the way
    for _ in range(900):
        traffic.step(0.1, far, 0.0)
    gap = traffic.state.station_m[0] - traffic.state.station_m[1] - 4.0
    assert traffic.state.speed_mps[1] == pytest.approx(10.0, abs=0.01)
    assert gap == pytest.approx(idm_equilibrium_gap_m(10.0, 20.0, P), abs=0.05)
