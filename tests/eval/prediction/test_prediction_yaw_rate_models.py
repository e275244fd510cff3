"""Model ``ctrv_shrunk`` of ``eval prediction``: CTRV from the yaw-rate fit for tracked pasts
(a model's own ``yaw_rate``), scored on synthetic recordings: box-yaw jitter makes plain CTRV
turn and not it; on a clean circle both are the same forecast."""

from __future__ import annotations

import numpy as np

from drivestack.eval.prediction.cases import CaseSettings, build_cases
from drivestack.eval.prediction.models import CTRV_SHRUNK, MODELS
from drivestack.eval.prediction.run import checkpoints_s, score_model
from drivestack.eval.prediction.trajectories import AgentTrajectory, TrajectorySet
from drivestack.prediction.state import FIT_WINDOW_S, TRACK_YAW_RATE
from drivestack.structures.labels import ObjectClass

STEPS = 61  # 1 s history + 3 s horizon, anchors at 1.0, 1.5, 2.0, 2.5, 3.0 s


def _scores(x: np.ndarray, y: np.ndarray, yaw: np.ndarray) -> dict[str, float]:
    t = np.arange(STEPS) * 0.1
    boxes = np.column_stack([x, y, np.tile([0.8, 4.5, 1.9, 1.6], (STEPS, 1)), yaw])
    agent = AgentTrajectory("car", ObjectClass.CAR, t, boxes, "world", "synthetic.xml")
    rec = TrajectorySet("syn", "synthetic.xml", "world", 0.1, "recorded", "test", [agent], None)
    cases = build_cases(rec, CaseSettings())
    assert len(cases) == 5
    return {
        m: float(score_model(cases, m, FIT_WINDOW_S, checkpoints_s(3.0))["ADE@3s"].mean())
        for m in ("constant_velocity", "ctrv", CTRV_SHRUNK)
    }


def test_ctrv_shrunk_is_listed_with_its_own_yaw_rate_fit() -> None:
    assert MODELS[CTRV_SHRUNK].yaw_rate == TRACK_YAW_RATE
    assert MODELS["ctrv"].yaw_rate is None


def test_yaw_jitter_turns_plain_ctrv_but_not_ctrv_shrunk() -> None:
    t = np.arange(STEPS) * 0.1
    yaw = 0.15 * (-1.0) ** np.arange(STEPS) + np.where(np.arange(STEPS) % 7 == 3, np.pi, 0.0)
    ade = _scores(10.0 * t, 0 * t, yaw)
    assert ade["constant_velocity"] < 1e-9  # a straight line at constant speed
    assert ade[CTRV_SHRUNK] < 1e-9
    assert ade["ctrv"] > 0.5  # a 0.6 rad/s turn fitted to the jitter


def test_on_a_clean_circle_ctrv_shrunk_is_ctrv() -> None:
    t = np.arange(STEPS) * 0.1
    omega, speed = 0.2, 8.0
    heading = omega * t
    x, y = speed / omega * np.sin(heading), speed / omega * (1.0 - np.cos(heading))
    ade = _scores(x, y, heading)
    assert abs(ade[CTRV_SHRUNK] - ade["ctrv"]) < 1e-6
    assert ade["ctrv"] < ade["constant_velocity"] - 0.5
