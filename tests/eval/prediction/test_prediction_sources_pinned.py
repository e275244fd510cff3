"""Pinned rules of the prediction evaluation's case sources, models and run: tracker-pasts
matching and counting (:mod:`drivestack.eval.prediction.tracked`), the AV2 / CommonRoad
readers' frame and class rules (:mod:`.sources`), the model registry (:mod:`.models`) and
the checkpoints, scoring and summaries (:mod:`.run`). Every expected value is derived by
hand from the rule on small hand-built inputs (the derivation is in each docstring)."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.eval.prediction.cases import CaseSettingError, CaseSettings, build_cases
from drivestack.eval.prediction.models import (
    CTRV_SHRUNK,
    CTRV_YAW_RATE_DECAY_S,
    MODELS,
    ForecastModel,
)
from drivestack.eval.prediction.run import (
    checkpoint_steps,
    checkpoints_s,
    evaluate,
    format_tables,
    score_model,
)
from drivestack.eval.prediction.tracked import OnlineTracks, run_online_tracker, track_cases
from drivestack.eval.prediction.trajectories import AgentTrajectory, TrajectorySet
from drivestack.prediction.forecast import constant_velocity_forecast
from drivestack.prediction.kinematic import stationary_forecast
from drivestack.prediction.multimodal import MultiModalForecast
from drivestack.prediction.state import AgentStates, YawRateFit
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.tracking.config import ClassTrackerConfig, TrackerConfig
from drivestack.tracking.tracker import Tracker

DT = 0.1
WORLD = "world"
CAR = ObjectClass.CAR


def _agent(
    agent_id: str, frames: np.ndarray, xy: np.ndarray, cls: ObjectClass = CAR
) -> AgentTrajectory:
    """An agent at world centres ``xy (N, 2)`` at ``frames`` (``0.1 s`` each), yaw 0."""
    n = len(frames)
    boxes = np.column_stack([xy, np.full(n, 0.8), np.tile([4.0, 1.8, 1.5], (n, 1)), np.zeros(n)])
    return AgentTrajectory(agent_id, cls, frames * DT, boxes, WORLD)


def _rec(*agents: AgentTrajectory, name: str = "hand") -> TrajectorySet:
    return TrajectorySet(name, name, WORLD, DT, "recorded", "hand-built", tuple(agents))


def _tracks(rows: list[tuple[int, int, ObjectClass, tuple[float, float]]]) -> OnlineTracks:
    """Online tracks from ``(frame, id, class, xy)`` rows; velocity ``(frame, id)`` so that
    a row's velocity tells which frame it was taken from."""
    frame = np.array([r[0] for r in rows], dtype=np.int64).reshape(-1)
    ids = np.array([r[1] for r in rows], dtype=np.int64).reshape(-1)
    boxes = np.array([[x, y, 0.8, 4.0, 1.8, 1.5, 0.0] for *_, (x, y) in rows]).reshape(-1, 7)
    velocity = np.column_stack([frame, ids]).astype(np.float64).reshape(-1, 2)
    label = np.array([int(r[2]) for r in rows], dtype=np.int64).reshape(-1)
    return OnlineTracks(frame, ids, label, boxes, velocity, WORLD)


# ---------------------------------------------------------------- tracked.py


def _counting_scene() -> tuple[TrajectorySet, OnlineTracks]:
    """Labels A (moving 10 m/s along x), B, C (parked) at frames 0..20, D at 0..10 only.
    Tracks (history 0.2 s = 2 samples, horizon 0.2 s, stride 1 s: anchors 0, 10, 20)."""
    f = np.arange(21)
    rec = _rec(
        _agent("A", f, np.column_stack([f * 1.0, np.zeros(21)])),
        _agent("B", f, np.tile([10.0, 10.0], (21, 1))),
        _agent("C", f, np.tile([20.0, 20.0], (21, 1))),
        _agent("D", f[:11], np.tile([30.0, 30.0], (11, 1))),
    )
    cone = ObjectClass.TRAFFIC_CONE
    rows = [(k, 1, CAR, (50.0, 50.0)) for k in (6, 7, 8)]  # ghost, ends before 10
    rows += [(k, 2, CAR, (10.3, 10.0)) for k in (9, 10)]  # on B, one sample short
    rows += [(k, 3, ObjectClass.TRUCK, (k + 0.2, 0.0)) for k in (8, 9, 10)]  # on A, full
    rows += [(k, 4, CAR, (20.0, 20.4)) for k in (7, 9, 10)]  # on C, gap at 8
    rows += [(k, 5, cone, (10.0, 0.5)) for k in (8, 9, 10)]  # a cone track near A
    rows += [(k, 6, CAR, (-30.0, -30.0)) for k in (8, 9, 10)]  # ghost with full history
    rows += [(10, 7, CAR, (-40.0, -40.0)), (10, 8, CAR, (30.1, 30.0))]  # young ghost; on D
    return rec, _tracks(rows)


SCENE_SETTINGS = CaseSettings(history_s=0.2, horizon_s=0.2, stride_s=1.0)


def test_track_case_counts_follow_the_history_horizon_and_group_rules() -> None:
    """Each count by hand (H = T = 2 samples, anchors 0, 10, 20):

    - labels_with_future: A-D at 0 (4); A, B, C at 10 (D ends at 10: 3); none at 20 -> 7.
    - at 10 the in-group tracks match 3 -> A, 2 -> B, 4 -> C, 8 -> D (within 2 m).
    - scored 1: only track 3 was output at 8, 9, 10. Track 2 (9, 10) is one sample short
      even though the sorted row two back is track 1's frame 8 (another id); track 4
      (7, 9, 10) has a gap: its row two back is frame 7, 3 samples back, not 2.
    - matched_short_history 2 (tracks 2, 4); matched_no_label_future 1 (track 8 on D).
    - missed: 4 at 0 (no tracks) + 3 - 3 at 10 = 4 (D's pair has no future: not a miss
      and not a match of a label with future).
    - output_tracks 7 at 10; tracks_outside_class_groups 1 (the cone), which is no
      unmatched track; unmatched_tracks 2 (ghosts 6 and 7), of which 6 has the history.
    """
    rec, tracks = _counting_scene()
    cases = track_cases(rec, tracks, SCENE_SETTINGS)
    assert cases.counts == {
        "anchors": 3,
        "labels_with_future": 7,
        "scored": 1,
        "matched_short_history": 2,
        "missed": 4,
        "output_tracks": 7,
        "matched_no_label_future": 1,
        "unmatched_tracks": 2,
        "unmatched_with_history": 1,
        "tracks_outside_class_groups": 1,
    }


def test_a_track_case_takes_the_labels_future_after_the_anchor_and_the_tracks_past() -> None:
    """The one case (track 3 on A at anchor 10): past times 0.8, 0.9, 1.0 s (frames 8-10
    times 0.1 s), past x = frame + 0.2; truth = A's labels at frames 11, 12 (x = 11, 12;
    times 1.1, 1.2 s), not from the anchor itself; truth_anchor_xy = A at 10 = (10, 0);
    the tracker's velocity of the anchor row (10, 3), not of the first past row (8, 3);
    the class is the tracker's (TRUCK), not the label's (CAR)."""
    rec, tracks = _counting_scene()
    cases = track_cases(rec, tracks, SCENE_SETTINGS)
    assert len(cases) == 1
    assert cases.truth_id is not None and cases.truth_id.tolist() == ["A"]
    np.testing.assert_allclose(cases.past_t_s[0], [0.8, 0.9, 1.0])
    np.testing.assert_allclose(cases.past_boxes[0, :, 0], [8.2, 9.2, 10.2])
    np.testing.assert_allclose(cases.future_boxes[0, :, 0], [11.0, 12.0])
    np.testing.assert_allclose(cases.future_t_s[0], [1.1, 1.2])
    assert cases.truth_anchor_xy is not None
    np.testing.assert_allclose(cases.truth_anchor_xy[0], [10.0, 0.0])
    assert cases.tracker_velocity_mps is not None
    np.testing.assert_allclose(cases.tracker_velocity_mps[0], [10.0, 3.0])
    assert cases.label.tolist() == [int(ObjectClass.TRUCK)]


def test_a_label_has_a_future_only_with_every_sample_of_the_horizon() -> None:
    """A car labelled at frames 0, 1, 2, 4 (frame 3 missing), horizon 2 samples, stride 1,
    no tracks: the anchors are the label frames (4); only frame 0 has labels at both a + 1
    and a + 2. Frame 1 lacks 3; frame 2 lacks 3 although frame 4 is 2 samples later (the
    last row: there is no row two ahead); frame 4 has nothing after. So one label with a
    future, and it is missed."""
    frames = np.array([0, 1, 2, 4])
    rec = _rec(_agent("A", frames, np.zeros((4, 2))))
    settings = CaseSettings(history_s=0.1, horizon_s=0.2, stride_s=0.1)
    c = track_cases(rec, _tracks([]), settings).counts
    assert (c["anchors"], c["labels_with_future"], c["missed"]) == (4, 1, 1)


def test_online_tracker_refuses_detections_and_poses_of_different_lengths() -> None:
    """The doc: ValueError when the two sequences differ in length, saying so (before any
    frame is tracked)."""
    cfg = TrackerConfig(classes={"car": ClassTrackerConfig()}, ego_motion_compensation=True)
    dets = [Boxes3D.from_array7(np.zeros((0, 7)), "lidar")]
    with pytest.raises(ValueError, match="1 frames of detections, 2 poses"):
        run_online_tracker(Tracker(cfg), dets, [SE3.identity(), SE3.identity()], WORLD)


# ---------------------------------------------------------------- sources.py


def _xml(tmp_path: Path, source: str) -> Path:
    p = tmp_path / "scenario.xml"
    p.write_text(f'<?xml version="1.0"?>\n<commonRoad source="{source}"></commonRoad>\n')
    return p


def test_commonroad_bmw_recordings_are_recorded_traffic(tmp_path: Path) -> None:
    """``BMW`` is one of the recorded-traffic words (BMW's A9 recordings)."""
    from drivestack.eval.prediction.sources import commonroad_source

    path = _xml(tmp_path, "BMW A9 highway recording")
    assert commonroad_source(path) == ("recorded", "BMW A9 highway recording")


def test_commonroad_a_sumo_scenario_is_simulated_even_when_it_names_a_recording(
    tmp_path: Path,
) -> None:
    """The simulator words are checked first: a SUMO scenario built on NGSIM's roads is
    simulated traffic."""
    from drivestack.eval.prediction.sources import commonroad_source

    path = _xml(tmp_path, "SUMO on the NGSIM US-101 road")
    assert commonroad_source(path)[0] == "simulated"


def test_commonroad_boxes_sit_half_their_height_above_the_road(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One dynamic obstacle of size (l, w, h) = (4, 2, 1.6): each box is
    ``[x, y, h / 2 = 0.8, l = 4, w = 2, h = 1.6, yaw]``; the static obstacle after the
    dynamic ones is left out."""
    import drivestack.ingest.maps.commonroad as cr
    from drivestack.eval.prediction.sources import read_commonroad_trajectories

    replay = SimpleNamespace(
        time_s=np.array([0.0, 0.1]),
        x_m=np.array([1.0, 2.0]),
        y_m=np.array([3.0, 3.0]),
        yaw_rad=np.array([0.0, 0.0]),
    )
    agents = [
        SimpleNamespace(agent_id="cr1", replay=replay, size_m=(4.0, 2.0, 1.6), label=CAR),
        SimpleNamespace(agent_id="cr2", replay=replay, size_m=(1.0, 1.0, 1.0), label=CAR),
    ]
    scenario = SimpleNamespace(
        agents=agents, n_dynamic_obstacles=1, road_map=SimpleNamespace(frame="map"), dt_s=0.1
    )
    monkeypatch.setattr(cr, "read_commonroad", lambda _p: scenario)
    rec = read_commonroad_trajectories(_xml(tmp_path, "NGSIM US-101"))
    assert [a.agent_id for a in rec.agents] == ["cr1"]
    np.testing.assert_allclose(
        rec.agents[0].boxes, [[1, 3, 0.8, 4, 2, 1.6, 0], [2, 3, 0.8, 4, 2, 1.6, 0]]
    )


def _av2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two sweeps (t = 1.0 s and 1.1 s) with the ego at (100, 50, 0) turned +90 deg; a car
    at ego (10, 0) then (11, 0), yaw 0.2; a motorcycle and a bicycle (without rider)."""
    import drivestack.ingest.argoverse2 as av2

    ts = np.array([1_000_000_000, 1_000_000_000, 1_000_000_000, 1_100_000_000], np.int64)
    boxes = np.array(
        [
            [10.0, 0.0, 0.5, 4.0, 2.0, 1.5, 0.2],
            [0.0, 5.0, 0.5, 2.0, 0.8, 1.2, 0.0],
            [0.0, -5.0, 0.5, 1.8, 0.6, 1.2, 0.0],
            [11.0, 0.0, 0.5, 4.0, 2.0, 1.5, 0.2],
        ]
    )
    n = len(ts)
    cuboids = av2.Av2Cuboids(
        ts,
        np.array(["car", "moto", "bike", "car"]),
        np.array(["REGULAR_VEHICLE", "MOTORCYCLE", "BICYCLE", "REGULAR_VEHICLE"]),
        boxes,
        np.tile([1.0, 0, 0, 0], (n, 1)),
        np.full(n, 10, np.int64),
        np.ones(n),
        np.array(["log"] * n),
    )
    pose = SE3.from_xyz_yaw(np.tile([100.0, 50.0, 0.0], (2, 1)), np.full(2, math.pi / 2))
    poses = av2.Av2Poses(np.array([1_000_000_000, 1_100_000_000], np.int64), pose)
    monkeypatch.setattr(av2, "read_av2_cuboids", lambda _p: cuboids)
    monkeypatch.setattr(av2, "read_av2_poses", lambda _p: poses)


def test_av2_cuboids_move_into_the_city_frame_with_times_from_the_first_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """City = R(+90 deg) ego + (100, 50): ego (10, 0) -> (0, 10) + (100, 50) = (100, 60),
    ego (11, 0) -> (100, 61); yaw 0.2 + pi/2; times 0 and 0.1 s (from the first sweep, not
    1.0 / 1.1 s since the epoch)."""
    from drivestack.eval.prediction.sources import read_av2_trajectories

    _av2(monkeypatch)
    rec = read_av2_trajectories(tmp_path)  # no map/ folder: no map
    car = next(a for a in rec.agents if a.agent_id == "car")
    np.testing.assert_allclose(car.boxes[:, 0:2], [[100.0, 60.0], [100.0, 61.0]], atol=1e-9)
    np.testing.assert_allclose(car.boxes[:, 6], [0.2 + math.pi / 2] * 2, atol=1e-9)
    np.testing.assert_allclose(car.time_s, [0.0, 0.1], atol=1e-9)
    assert rec.road_map is None and rec.frame == "city"


def test_av2_riderless_motorcycles_and_bicycles_are_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AV2 labels the rider apart: a MOTORCYCLE or BICYCLE cuboid is the vehicle alone, read
    as UNKNOWN (no case), while the car stays CAR."""
    from drivestack.eval.prediction.sources import read_av2_trajectories

    _av2(monkeypatch)
    cls = {a.agent_id: a.object_class for a in read_av2_trajectories(tmp_path).agents}
    assert cls == {"car": CAR, "moto": ObjectClass.UNKNOWN, "bike": ObjectClass.UNKNOWN}


# ---------------------------------------------------------------- models.py


def test_ctrv_turn_rate_decays_with_a_3_s_time_constant() -> None:
    """CTRV's heading is ``theta0 + w tau (1 - exp(-t / tau))`` with tau = 3 s: from yaw 0
    at w = 0.5 rad/s the box yaw at t = 3 s is 0.5 * 3 * (1 - e^-1) = 0.948181 rad
    (tau = 2 s would give 0.776870)."""
    assert CTRV_YAW_RATE_DECAY_S == 3.0
    boxes = Boxes3D.from_array7(
        np.array([[0.0, 0.0, 0.8, 4.0, 1.8, 1.5, 0.0]]), WORLD, velocity_mps=[[5.0, 0.0]]
    )
    run = MODELS["ctrv"].run
    assert run is not None
    forecast = run(AgentStates(boxes, np.array([0.5])), None, 3.0, 0.5)
    assert forecast.boxes[0, 0, -1, 6] == pytest.approx(1.5 * (1 - math.exp(-1.0)), abs=1e-6)


def test_model_registry_maps_modes_and_yaw_rate_fits() -> None:
    """Only the two lane models need a map; lane_branches is the one multi-modal model with
    K = MAX_MODES = 6; ctrv_shrunk fits its yaw rate over 1 s shrunk by 2 standard errors,
    the other models use the evaluation's default (None)."""
    assert {n for n, m in MODELS.items() if m.needs_map} == {"lane_following", "lane_branches"}
    assert {n: m.modes for n, m in MODELS.items() if m.modes != 1} == {"lane_branches": 6}
    assert MODELS[CTRV_SHRUNK].yaw_rate == YawRateFit(window_s=1.0, shrink_se=2.0)
    assert MODELS["ctrv"].yaw_rate is None


# ---------------------------------------------------------------- run.py


def test_checkpoints_are_whole_seconds_and_the_horizon() -> None:
    """Every whole second within the horizon, then the horizon when not one of them."""
    assert checkpoints_s(3.0) == [1.0, 2.0, 3.0]
    assert checkpoints_s(2.5) == [1.0, 2.0, 2.5]
    assert checkpoints_s(0.5) == [0.5]


def test_checkpoint_steps_round_and_clamp_to_the_forecast() -> None:
    """round(t / dt) clamped to 1 .. n_steps: 1 s, 2 s, 2.5 s on 0.1 s -> 10, 20, 25;
    0.04 s -> round(0.4) = 0 -> 1; 5 s with only 30 steps -> 30."""
    assert checkpoint_steps([1.0, 2.0, 2.5], DT, 25) == [10, 20, 25]
    assert checkpoint_steps([0.04], DT, 30) == [1]
    assert checkpoint_steps([1.0, 5.0], DT, 30) == [10, 30]


def test_two_checkpoints_on_one_sample_are_refused() -> None:
    """1 s and 1.01 s are both round(10.0) = round(10.1) = sample 10."""
    with pytest.raises(CaseSettingError, match="same sample"):
        checkpoint_steps([1.0, 1.01], DT, 30)


def _straight(
    agent_id: str = "A", speed: float = 1.0, n: int = 21, cls: ObjectClass = CAR
) -> AgentTrajectory:
    f = np.arange(n)
    return _agent(agent_id, f, np.column_stack([f * DT * speed, np.zeros(n)]), cls)


ONE_S = CaseSettings(history_s=1.0, horizon_s=1.0, stride_s=1.0)  # anchor 10 of 0..20


def test_constant_velocity_is_exact_on_a_straight_line() -> None:
    """A car at 1 m/s along x: the constant-velocity forecast's step k (k * 0.1 s) is the
    truth's k-th sample after the anchor, so every error is 0 (comparing forecast step k - 1
    instead would give 0.1 m). Stationary: errors 0.1 k m, ADE@1s = mean(0.1 .. 1.0) = 0.55,
    FDE@1s = 1.0. Single-mode models report no minADE / minFDE / brier / miss_K."""
    cases = build_cases(_rec(_straight()), ONE_S)
    assert len(cases) == 1
    cv = score_model(cases, "constant_velocity", 0.3, [1.0])
    assert set(cv) == {"ADE@1s", "FDE@1s", "miss"}
    assert cv["ADE@1s"][0] == pytest.approx(0.0, abs=1e-9)
    st = score_model(cases, "stationary", 0.3, [1.0])
    assert st["ADE@1s"][0] == pytest.approx(0.55, abs=1e-9)
    assert st["FDE@1s"][0] == pytest.approx(1.0, abs=1e-9)


def test_miss_is_judged_at_the_horizon_not_the_first_checkpoint() -> None:
    """A car at 1.5 m/s, horizon 2 s, stationary model: FDE@1s = 1.5 m (no miss at 1 s),
    FDE@2s = 3 m > 2 m, so the case is a miss."""
    settings = CaseSettings(history_s=1.0, horizon_s=2.0, stride_s=1.0)
    cases = build_cases(_rec(_straight(speed=1.5, n=31)), settings)
    out = score_model(cases, "stationary", 0.3, checkpoints_s(2.0))
    assert out["FDE@1s"][0] == pytest.approx(1.5) and out["FDE@2s"][0] == pytest.approx(3.0)
    assert out["miss"].tolist() == [True]


def _two_modes(
    states: AgentStates, _map: object, horizon_s: float, dt_s: float
) -> MultiModalForecast:
    """Mode 0 stationary with p = 0.3, mode 1 constant velocity with p = 0.7."""
    st = stationary_forecast(states.boxes, horizon_s, dt_s).boxes
    cv = constant_velocity_forecast(states.boxes, horizon_s, dt_s).boxes
    n = st.shape[0]
    return MultiModalForecast(
        dt_s,
        np.stack([st, cv], axis=1),
        np.tile([0.3, 0.7], (n, 1)),
        np.ones((n, 2), dtype=bool),
    )


def test_top_mode_is_the_most_probable_one() -> None:
    """ADE / FDE score the most probable mode (constant velocity, p = 0.7): exact on the
    straight 1 m/s car, so 0 (the less probable stationary mode would give ADE 0.55)."""
    catalog = {"two": ForecastModel("two", False, 2, "two modes", _two_modes)}
    cases = build_cases(_rec(_straight()), ONE_S)
    out = score_model(cases, "two", 0.3, [1.0], catalog=catalog)
    assert out["ADE@1s"][0] == pytest.approx(0.0, abs=1e-9)
    assert out["minADE"][0] == pytest.approx(0.0, abs=1e-9)


def test_evaluate_fits_the_velocity_over_the_default_0_3_s_window() -> None:
    """A car parked until frame 7 then at 2 m/s (x = 0.2 (f - 7) from f = 7): the last
    0.3 s of its past (frames 7-10) is a straight 2 m/s line, so constant velocity is exact
    (ADE@1s = 0); a wider window would take in the parked samples and slow it down."""
    f = np.arange(21)
    x = np.maximum(0.0, 0.2 * (f - 7))
    rec = _rec(_agent("A", f, np.column_stack([x, np.zeros(21)])))
    report = evaluate([rec], ["constant_velocity"], ONE_S)
    row = report["metrics"]["recorded"]["constant_velocity"]["all"]["all"]
    assert row["cases"] == 1
    assert row["ADE@1s"] == pytest.approx(0.0, abs=1e-9)


def test_evaluate_splits_moving_and_stationary_and_counts_cases() -> None:
    """A car at 2 m/s (2 m over the 1 s horizon >= 1 m: moving) and a parked car
    (stationary): one case each. Stationary model: FDE@1s 2.0 on the moving one, 0 on the
    parked one; the recorded total is 2 cases (not 1 recording). Without a map only the
    lane model is not run."""
    rec = _rec(_straight("M", speed=2.0), _agent("P", np.arange(21), np.full((21, 2), 5.0)))
    report = evaluate([rec], ["stationary", "lane_following"], ONE_S)
    assert report["cases"] == {"recorded": 2}
    assert report["recordings"][0]["models_not_run"] == ["lane_following"]
    veh = report["metrics"]["recorded"]["stationary"]["vehicle"]
    assert (veh["moving"]["cases"], veh["stationary"]["cases"], veh["all"]["cases"]) == (1, 1, 2)
    assert veh["moving"]["FDE@1s"] == pytest.approx(2.0)
    assert veh["stationary"]["FDE@1s"] == pytest.approx(0.0, abs=1e-12)
    assert veh["all"]["miss_rate"] == pytest.approx(0.0)  # 2.0 is not > 2 m


def test_format_tables_lists_only_cells_with_cases() -> None:
    """One moving vehicle case, single-mode stationary model: the cells with cases are
    vehicle x {moving, all} and all x {moving, all}: 4 rows, and no multi-modal table."""
    report = evaluate([_rec(_straight(speed=2.0))], ["stationary"], ONE_S)
    text = format_tables(report)
    rows = [line for line in text.splitlines() if line.startswith("stationary ")]
    assert len(rows) == 4
    assert "(K=" not in text


def test_evaluate_sums_the_tracking_counts_of_tracker_cases() -> None:
    """The same tracker cases given twice: each count is twice its value (anchors 2 * 3)."""
    rec, tracks = _counting_scene()
    cases = track_cases(rec, tracks, SCENE_SETTINGS)
    report = evaluate([cases, cases], ["stationary"], SCENE_SETTINGS)
    assert report["tracking_counts"]["anchors"] == 6
    assert report["tracking_counts"]["missed"] == 8


def test_kitti_labels_move_into_the_world_frame_at_a_tenth_of_a_second_per_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KITTI frame i is at 0.1 i s (10 Hz): a car labelled at frames 0 and 3 is at 0.0 and
    0.3 s; the LiDAR box at (5, 0, 0.8) moves by the frame's pose, a shift of (1, 2, 0) at
    frame 0 and (4, 2, 0) at frame 3: world x = 6 then 9, y = 2."""
    import drivestack.ingest.kitti_tracking as kt
    from drivestack.eval.prediction.sources import read_kitti_trajectories

    pose_file = tmp_path / "poses.txt"
    pose_file.write_text("")

    class FakeSequence:
        def __init__(self, root: object, sequence: str) -> None:
            self.name = sequence
            self.pose_path = pose_file
            self.label_path = tmp_path / "labels.txt"
            self.label_rows = SimpleNamespace(frame=np.array([0, 3]))

        def frame_labels(self, f: int) -> tuple[Boxes3D, tuple[str, ...]]:
            box = np.array([[5.0, 0.0, 0.8, 4.0, 1.8, 1.5, 0.0]])
            return Boxes3D.from_array7(box, "lidar", label=[int(CAR)]), ("7",)

        def world_from_lidar(self, f: int) -> SE3:
            return SE3.from_xyz_yaw([1.0 + f, 2.0, 0.0], 0.0)

    monkeypatch.setattr(kt, "KittiTrackingSequence", FakeSequence)
    rec = read_kitti_trajectories(tmp_path, "0001")
    assert rec.dt_s == pytest.approx(0.1)
    (car,) = rec.agents
    np.testing.assert_allclose(car.time_s, [0.0, 0.3], atol=1e-12)
    np.testing.assert_allclose(car.boxes[:, 0:2], [[6.0, 2.0], [9.0, 2.0]], atol=1e-9)
