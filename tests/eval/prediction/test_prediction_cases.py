"""Ground-truth trajectories and forecasting cases on synthetic recordings: checks with
clear errors, case counts by hand, and forecasts that never read the future."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.eval.prediction.cases import CaseSettings, build_cases
from drivestack.eval.prediction.models import MODELS
from drivestack.eval.prediction.run import evaluate, score_model
from drivestack.eval.prediction.trajectories import (
    AgentTrajectory,
    TrajectorySet,
    trajectories_from_rows,
)
from drivestack.ingest.maps.synthetic import curved_road
from drivestack.prediction.state import estimate_states
from drivestack.structures.labels import ObjectClass


def _track(
    agent_id: str, steps: list[int], cls: ObjectClass, speed: float = 5.0
) -> AgentTrajectory:
    t = np.asarray(steps, dtype=float) * 0.1
    boxes = np.zeros((len(t), 7))
    boxes[:, 0] = speed * t
    boxes[:, 1] = 0.02 * t**2  # a slight curve, so that the models differ
    boxes[:, 2:6] = [0.8, 4.5, 1.9, 1.6]
    return AgentTrajectory(agent_id, cls, t, boxes, "world", "synthetic.xml")


def _recording(*agents: AgentTrajectory, road_map=None) -> TrajectorySet:  # type: ignore[no-untyped-def]
    return TrajectorySet("syn", "synthetic.xml", "world", 0.1, "recorded", "test", agents, road_map)


def test_case_counts_by_hand() -> None:
    # 1 s history (10 steps), 3 s horizon (30), anchors every 0.5 s (5 steps):
    # samples 0..60 -> anchors 10, 15, 20, 25, 30: 5 cases
    full = _track("a", list(range(61)), ObjectClass.CAR)
    # a gap at 25: runs 0..24 and 26..70; an anchor a needs a - 10 >= 26 and a + 30 <= 70: 40
    gappy = _track("b", [*range(25), *range(26, 71)], ObjectClass.PEDESTRIAN)
    cone = _track("c", list(range(61)), ObjectClass.TRAFFIC_CONE)
    cases = build_cases(_recording(full, gappy, cone), CaseSettings())
    anchors = {
        a: sorted(np.rint(cases.past_t_s[cases.agent_id == a, -1] * 10).astype(int)) for a in "ab"
    }
    assert anchors["a"] == [10, 15, 20, 25, 30]
    assert anchors["b"] == [40]
    assert cases.skipped_classes == {"TRAFFIC_CONE": 1}
    assert cases.past_boxes.shape == (6, 11, 7) and cases.future_boxes.shape == (6, 30, 7)
    assert cases.group.tolist() == ["vehicle"] * 5 + ["pedestrian"]
    assert cases.moving.all()  # 5 m/s: 15 m over the horizon


def test_a_history_shorter_than_a_sample_is_refused() -> None:
    with pytest.raises(ValueError, match=r"history_s = 0.04 s is shorter than one sample"):
        build_cases(_recording(_track("a", list(range(61)), ObjectClass.CAR)), CaseSettings(0.04))


@pytest.mark.parametrize(
    ("window_s", "message"),
    [
        (0.05, r"fit_window_s = 0.05 s is shorter than one sample \(0.1 s\)"),
        (0.15, r"fit_window_s = 0.15 s is not a whole number .* nearest 0.1 s or 0.2 s"),
    ],
)
def test_a_given_fit_window_off_the_grid_is_refused(window_s: float, message: str) -> None:
    rec = _recording(_track("a", list(range(61)), ObjectClass.CAR))
    with pytest.raises(ValueError, match=message):
        build_cases(rec, CaseSettings(fit_window_s=window_s))
    assert len(build_cases(rec, CaseSettings(fit_window_s=0.2))) > 0  # whole: accepted


def test_perturbing_the_future_changes_no_forecast() -> None:
    road = curved_road()
    # put the agent on the synthetic road's first lane: its centreline start and direction
    lane = road.lanes[0]
    p0, p1 = lane.centerline_m[0], lane.centerline_m[1]
    heading = float(np.arctan2(*(p1 - p0)[::-1]))
    track = _track("a", list(range(61)), ObjectClass.CAR, speed=8.0)
    along = track.boxes[:, 0].copy()
    track.boxes[:, 0] = p0[0] + along * np.cos(heading)
    track.boxes[:, 1] = p0[1] + along * np.sin(heading) + 0.3 * track.time_s  # drifting left
    track.boxes[:, 6] = heading
    base = build_cases(_recording(track, road_map=road), CaseSettings())
    states = estimate_states(base.past_t_s, base.past_boxes, base.label, "world")
    lane = MODELS["lane_following"].run(states, road, 3.0, 0.1).boxes
    cv = MODELS["constant_velocity"].run(states, road, 3.0, 0.1).boxes
    assert not np.allclose(lane, cv)  # the map models do use the map here
    for c in range(len(base)):
        anchor = base.past_t_s[c, -1]
        wild = track.boxes.copy()
        future = track.time_s > anchor + 1e-9
        wild[future, 0:2] += np.random.default_rng(c).normal(0, 20, (future.sum(), 2))
        wild[future, 6] += 1.0
        other = AgentTrajectory("a", ObjectClass.CAR, track.time_s, wild, "world")
        changed = build_cases(_recording(other, road_map=road), CaseSettings())
        assert np.array_equal(changed.past_boxes[c], base.past_boxes[c])
        for name, model in MODELS.items():
            s0 = estimate_states(
                base.past_t_s[c : c + 1], base.past_boxes[c : c + 1], base.label[c : c + 1], "world"
            )
            s1 = estimate_states(
                changed.past_t_s[c : c + 1],
                changed.past_boxes[c : c + 1],
                changed.label[c : c + 1],
                "world",
            )
            f0 = model.run(s0, road, 3.0, 0.1)
            f1 = model.run(s1, road, 3.0, 0.1)
            assert np.array_equal(f0.boxes, f1.boxes), name
        assert not np.array_equal(changed.future_boxes[c], base.future_boxes[c])


def test_trajectories_from_rows_checks() -> None:
    ids = np.array(["a", "a", "b"])
    boxes = np.zeros((3, 7))
    label = np.array([1, 1, 2])
    agents = trajectories_from_rows(ids, np.array([0.2, 0.1, 0.0]), boxes, label, "world", "f.txt")
    assert [a.agent_id for a in agents] == ["a", "b"]
    assert agents[0].time_s.tolist() == [0.1, 0.2]
    with pytest.raises(
        DataError, match=r"^f.txt: agent a: field time: two observations at time 0.100000 s"
    ):
        trajectories_from_rows(ids, np.array([0.1, 0.1, 0.0]), boxes, label, "world", "f.txt")
    with pytest.raises(DataError, match=r"^g.xml: agent x: field time: times must increase"):
        AgentTrajectory(
            "x", ObjectClass.CAR, np.array([0.0, 0.2, 0.1]), np.zeros((3, 7)), "world", "g.xml"
        )
    with pytest.raises(DataError, match=r"agent x: field boxes"):
        AgentTrajectory(
            "x", ObjectClass.CAR, np.array([0.0, 0.1]), np.zeros((2, 6)), "world", "g.xml"
        )


def test_evaluate_groups_and_skips_map_models_without_a_map() -> None:
    rec = _recording(
        _track("a", list(range(61)), ObjectClass.CAR),
        _track("p", list(range(41)), ObjectClass.PEDESTRIAN, 0.1),
    )
    report = evaluate([rec], ["stationary", "constant_velocity", "lane_following"], CaseSettings())
    assert report["recordings"][0]["models_not_run"] == ["lane_following"]
    assert report["cases"] == {"recorded": 6}
    m = report["metrics"]["recorded"]
    assert set(m) == {"stationary", "constant_velocity"}
    assert m["constant_velocity"]["vehicle"]["moving"]["cases"] == 5
    assert m["constant_velocity"]["pedestrian"]["stationary"]["cases"] == 1  # 0.3 m in 3 s
    assert m["constant_velocity"]["cyclist"]["all"] == {
        "cases": 0,
        **{k: None for k in m["constant_velocity"]["cyclist"]["all"] if k != "cases"},
    }
    # the stationary model's FDE at 3 s on the vehicle: 15 m along x and 0.02 * (t1^2 - t0^2) in y
    cases = build_cases(rec, CaseSettings())
    fde = score_model(cases, "stationary", 0.3, [1.0, 2.0, 3.0])["FDE@3s"]
    t0, t1 = cases.past_t_s[:, -1], cases.future_t_s[:, -1]
    expected = np.where(
        cases.group == "vehicle",
        np.hypot(5.0 * (t1 - t0), 0.02 * (t1**2 - t0**2)),
        np.hypot(0.1 * (t1 - t0), 0.02 * (t1**2 - t0**2)),
    )
    np.testing.assert_allclose(fde, expected)


def test_a_history_or_horizon_that_is_not_whole_samples_is_refused_naming_it() -> None:
    track = _track("a", list(range(61)), ObjectClass.CAR)
    # 3.05 s is 30.5 samples of 0.1 s: ADE@3.05s would be ADE@3s under another name
    with pytest.raises(
        ValueError, match=r"horizon_s = 3.05 s is not a whole number .* nearest 3 s or 3.1 s"
    ):
        build_cases(_recording(track), CaseSettings(1.0, 3.05))
    with pytest.raises(ValueError, match=r"history_s = 0.95 s is not a whole number"):
        build_cases(_recording(track), CaseSettings(0.95))
    # AV2's median sweep period: 3 s is 29.94 samples, within a jittered recording's tolerance
    assert CaseSettings().steps(0.100196, jittered=True) == (10, 30, 5)
    # the stride only spaces anchors: rounded, and the spacing used is recorded
    assert CaseSettings(stride_s=0.26).steps(0.1) == (10, 30, 3)
    assert CaseSettings(stride_s=0.26).effective_stride_s(0.1) == pytest.approx(0.3)
    assert CaseSettings().steps(0.2) == (5, 15, 2)  # CommonRoad's 0.2 s scenarios
    report = evaluate([_recording(track)], ["stationary"], CaseSettings(stride_s=0.26))
    assert report["recordings"][0]["stride_s"] == pytest.approx(0.3)
