"""PDM keeps IDM's gap behind the car it follows: its ACC proposals' constant-acceleration
heuristic (CAH) reaches the leader's speed at IDM's gap behind it, not at gap 0 (before, PDM
closed from 25 m/s to 0.4 s behind a car at 8.3 m/s and hit it when it braked at 8 m/s^2)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.planning.idm import KEEP_GAP_MIN_SHARE, ACCParams, IDMParams, idm_scalar
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_scenarios

ACC = ACCParams()  # s0 2 m, T 1.5 s, a 1.5, b 3, delta 4, max decel 9, coolness 0.99
PLAIN = IDMParams()

LEAD_BRAKES = """\
name: lead_brakes_hard
map: {kind: straight, params: {n_lanes: 1, speed_limit_mps: 25.0}}
ego: {lane: road_0, station_m: 50.0, speed_kph: 90.0}
duration_s: 10.0
agents:
  - id: lead
    type: car
    behavior: scripted
    lanes: [road_0]
    station_m: 80.0
    speed_kph: 30.0
    speed_events: [{time_s: 2.0, accel_mps2: -8.0, target_speed_mps: 0.0}]
"""


def test_keep_gap_cah_by_hand() -> None:
    # ego 10 m/s at its desired speed, a leader at 6 m/s 20 m ahead:
    # IDM: s* = 2 + 15 + 10 * 4 / (2 sqrt(4.5)) = 26.428, a = -1.5 (26.428 / 20)^2 = -2.6192
    v, lead, gap = 10.0, 6.0, 20.0
    s_star = 2.0 + 15.0 + 40.0 / (2.0 * math.sqrt(4.5))
    a_idm = -1.5 * (s_star / gap) ** 2
    assert idm_scalar(v, v, gap, lead, PLAIN.values, False) == pytest.approx(a_idm)
    assert a_idm == pytest.approx(-2.6192, abs=1e-4)
    # Treiber's CAH plans to match the speed at gap 0: -4^2 / (2 * 20) = -0.4
    cah = -16.0 / 40.0
    acc = 0.01 * a_idm + 0.99 * (cah + 3.0 * math.tanh((a_idm - cah) / 3.0))
    assert idm_scalar(v, v, gap, lead, ACC.values, False) == pytest.approx(acc)
    assert acc == pytest.approx(-2.2903, abs=1e-4)
    # keep_gap: at IDM's gap at the leader's speed, 2 + 6 * 1.5 = 11 m: -16 / (2 * 9) = -0.889
    cah = -16.0 / (2.0 * (gap - 11.0))
    keep = 0.01 * a_idm + 0.99 * (cah + 3.0 * math.tanh((a_idm - cah) / 3.0))
    assert idm_scalar(v, v, gap, lead, ACC.values, True) == pytest.approx(keep)
    assert keep == pytest.approx(-2.4515, abs=1e-4)
    # inside that gap (8 m): the CAH reaches the speed within a quarter of the gap left,
    # -16 / (2 * 0.25 * 8) = -4 (Treiber's: -16 / 16 = -1); IDM: -1.5 (26.428 / 8)^2 = -16.37
    gap = 8.0
    a_idm = -1.5 * (s_star / gap) ** 2
    assert KEEP_GAP_MIN_SHARE == 0.25
    for keep_gap, cah, want in ((False, -1.0, -4.1235), (True, -4.0, -7.0921)):
        acc = 0.01 * a_idm + 0.99 * (cah + 3.0 * math.tanh((a_idm - cah) / 3.0))
        assert acc == pytest.approx(want, abs=1e-4)
        assert idm_scalar(v, v, gap, lead, ACC.values, keep_gap) == pytest.approx(acc)
    # a leader not slower than the ego: no CAH braking either way (a cut-in is tempered)
    assert idm_scalar(v, v, 8.0, 10.0, ACC.values, True) == pytest.approx(
        idm_scalar(v, v, 8.0, 10.0, ACC.values, False)
    )


@settings(max_examples=200, deadline=None)
@given(
    speed=st.floats(0.0, 40.0),
    desired=st.floats(1.0, 40.0),
    gap=st.floats(0.0, 200.0),
    lead=st.floats(-5.0, 40.0),
)
def test_keep_gap_lies_between_plain_idm_and_the_acc_model(
    speed: float, desired: float, gap: float, lead: float
) -> None:
    # never harder than plain IDM (whose gap it keeps), never gentler than Treiber's ACC
    plain = idm_scalar(speed, desired, gap, lead, PLAIN.values, False)
    acc = idm_scalar(speed, desired, gap, lead, ACC.values, False)
    keep = idm_scalar(speed, desired, gap, lead, ACC.values, True)
    assert plain - 1e-9 <= keep <= acc + 1e-9
    # the free road and plain IDM do not read keep_gap
    assert idm_scalar(speed, desired, math.inf, lead, ACC.values, True) == idm_scalar(
        speed, desired, math.inf, lead, ACC.values, False
    )
    assert idm_scalar(speed, desired, gap, lead, PLAIN.values, True) == plain


def _gaps_m(history) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Bumper-to-bumper gap (m) from the ego's front to the lead's rear, per tick."""
    ego, lead = history.ego_boxes, history.agent_boxes[:, 0]
    return (lead[:, 0] - lead[:, 3] / 2) - (ego[:, 0] + ego[:, 3] / 2)


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_a_lead_braking_hard_from_a_short_gap_is_not_hit(tmp_path: Path, planner: str) -> None:
    # ego 25 m/s, a car at 8.3 m/s 23.6 m ahead brakes at 8 m/s^2 to a stop at t = 2 s
    path = tmp_path / "lead.yaml"
    path.write_text(LEAD_BRAKES)
    (scenario,) = load_scenarios(path)
    result = run_scenario(scenario, planner)
    h = result.history
    gap = _gaps_m(h)
    assert gap[0] == pytest.approx(23.6, abs=0.3)
    assert not h.collisions.any() and result.passed
    assert h.ego_speed_mps[-1] < 0.05 and gap[-1] >= 1.5  # PDM before: hit it at 10.3 km/h
    # followed at IDM's gap: no time to collision under nuPlan's 0.95 s (PDM's was 0.0)
    assert result.nuplan.ttc_within_bound == 1.0
    t_s = (h.timestamp_ns - h.timestamp_ns[0]) / 1e9
    at_2s = int(np.argmin(np.abs(t_s - 2.0)))
    assert gap[at_2s] > 6.0  # PDM before: 4.9 m at 11.5 m/s (0.4 s headway)
