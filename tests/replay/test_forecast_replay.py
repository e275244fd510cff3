"""Prediction in log replay: forecasts written to the output log, and the end-to-end forecast
metric against labelled futures in a fixed world frame (drivestack/replay/forecast_score.py).

The hand-built drive: the ego drives a circle (8 m/s, 0.2 rad/s), a car ahead drives straight
at 6 m/s in the world, a pedestrian walks out of the labelled view after 2 s, and a false car
(no label) stands still. An oracle detector gives the labels as detections; a finite-difference
tracker gives exact world velocities. Every matched car forecast is exact (ADE 0), the
pedestrian's have no label future, the false car's match no label."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.frames import EGO, WORLD
from drivestack.core.transforms import SE3
from drivestack.pipeline import KinematicPredictor, PredictionConfig, Stack
from drivestack.prediction.forecast import Forecast
from drivestack.replay.forecast_score import (
    ForecastScorer,
    forecast_lines,
    match_tracks_to_labels,
)
from drivestack.replay.log_format import LogWriter, TrackForecasts
from drivestack.replay.log_reader import LogReader
from drivestack.replay.runner import (
    FORECASTS_TOPIC,
    TRACKS_TOPIC,
    frame_label_ids,
    replay,
    summary_lines,
)
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame
from drivestack.structures.tracks import Tracks

STEP_NS = 100_000_000
N_FRAMES = 60
CAR, PED = int(ObjectClass.CAR), int(ObjectClass.PEDESTRIAN)


def _ego_pose(t_s: float) -> SE3:
    """The ego on a circle of radius 40 m: 8 m/s, turning at 0.2 rad/s."""
    yaw = 0.2 * t_s
    return SE3.from_xyz_yaw([40.0 * np.sin(yaw), 40.0 * (1.0 - np.cos(yaw)), 0.0], yaw)


def _world_objects(k: int) -> tuple[np.ndarray, list[int], list[str]]:
    """``(M, 7)`` world boxes, labels and ids of the labelled objects at frame ``k``."""
    t = k * 0.1
    boxes = [[20.0 + 6.0 * t, 5.0, 0.8, 4.5, 1.8, 1.5, 0.0]]
    labels, ids = [CAR], ["car-A"]
    if k < 20:  # the pedestrian leaves the labelled view after 2 s
        boxes.append([30.0, -4.0 + 1.0 * t, 0.9, 0.6, 0.6, 1.7, np.pi / 2])
        labels.append(PED)
        ids.append("ped-B")
    return np.array(boxes), labels, ids


def _frame(k: int) -> SensorFrame:
    t_ns = k * STEP_NS
    pose = _ego_pose(k * 0.1)
    boxes, labels, ids = _world_objects(k)
    world = Boxes3D.from_array7(boxes, WORLD, t_ns, label=labels)
    cloud = PointCloud(np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0]]), EGO, t_ns)
    return SensorFrame(
        t_ns,
        lidars={"top": cloud},
        world_from_ego=pose,
        labels=world.transformed(pose.inverse(), EGO),
        label_ids=tuple(ids),
        source=f"hand-built t={t_ns}",
    )


def _write_log(path: Path, strip_ids: bool = False) -> Path:
    with LogWriter(path, config={"source": "hand-built"}) as writer:
        for k in range(N_FRAMES):
            frame = _frame(k)
            writer.sensor_frame(replace(frame, label_ids=None) if strip_ids else frame)
    return path


class OracleDetector:
    """A false car standing at world (60, -20), then the frame's labels, as detections."""

    def reset(self) -> None:
        pass

    def step(self, frame: SensorFrame) -> Boxes3D:
        assert frame.labels is not None and frame.world_from_ego is not None
        false_car = Boxes3D.from_array7(
            np.array([[60.0, -20.0, 0.8, 4.5, 1.8, 1.5, 0.0]]),
            WORLD,
            frame.timestamp_ns,
            label=[CAR],
        ).transformed(frame.world_from_ego.inverse(), EGO)
        arr = np.concatenate([false_car.to_array7(), frame.labels.to_array7()])
        label = np.concatenate([false_car.label, frame.labels.label])
        return Boxes3D.from_array7(
            arr, EGO, frame.timestamp_ns, label=label, score=np.ones(len(arr))
        )


class FiniteDifferenceTracker:
    """Ids by detection order; world velocity from the last two world positions, rotated into
    the detections' frame (exact for constant velocity); a track is output from its second
    frame on (confirmed). ``compensate``: its ``velocities_over_ground`` (BoxTracker)."""

    def __init__(self, compensate: bool = True) -> None:
        self.velocities_over_ground = compensate
        self._last: dict[int, tuple[int, np.ndarray]] = {}

    def reset(self) -> None:
        self._last = {}

    def step(self, detections: Boxes3D, world_from_frame: SE3 | None = None) -> Tracks:
        pose = world_from_frame if world_from_frame is not None else SE3.identity()
        world = pose.apply(detections.center_m)
        keep, velocity = [], []
        for i in range(len(detections)):
            last = self._last.get(i)
            if last is not None:
                v_world = (world[i, :2] - last[1][:2]) / (
                    (detections.timestamp_ns - last[0]) * 1e-9
                )
                keep.append(i)
                velocity.append(pose.inverse().rotate_xy(v_world[None])[0])
            self._last[i] = (detections.timestamp_ns, world[i])
        boxes = detections.select(np.array(keep, dtype=np.int64))
        boxes = replace(boxes, velocity_mps=np.array(velocity).reshape(-1, 2))
        return Tracks(np.array(keep, dtype=np.int64), boxes)


def _stack(model: str = "constant_velocity", compensate: bool = True) -> Stack:
    cfg = PredictionConfig(model=model, horizon_s=3.0, dt_s=0.1)
    return Stack(
        OracleDetector(),
        FiniteDifferenceTracker(compensate),
        {"prediction": {"model": model}},
        predictor=KinematicPredictor(cfg),
    )


def test_a_constant_velocity_car_is_forecast_exactly_end_to_end(tmp_path):
    log = _write_log(tmp_path / "drive.mcap")
    summary = replay(log, _stack(), tmp_path / "run.mcap", progress=False, io_worker="thread")
    m = summary["forecast_vs_labels"]
    # car anchors 1..29 have 3 s of labelled future (frames up to 59); 30..59 run past the end
    assert m["cases"] == 29 and m["past_log_end"] == 30
    # the pedestrian is tracked at frames 1..19 and labelled only up to frame 19
    assert m["no_label_future"] == 19 and m["truth_frames_missing"] == 0
    assert m["unmatched_tracks"] == N_FRAMES - 1  # the false car, every frame from the second
    assert m["matched"] == 59 + 19 and m["forecasts"] == 59 * 2 + 19
    assert m["unmatched_labels"] == 1 + 1  # frame 0: no track is confirmed yet
    fig = m["by_class"]["all, all"]
    for key in ("ADE@1s", "ADE@2s", "ADE@3s", "FDE@3s"):
        assert fig[key] == pytest.approx(0.0, abs=1e-9)
    assert fig["miss_rate"] == 0.0 and m["by_class"]["vehicle, moving"]["cases"] == 29
    assert summary["clean"] and "prediction" in summary["timing_ms"]
    line = "\n".join(summary_lines(summary))
    assert "forecast constant_velocity vs labels (3 s): 29 cases, ADE@1s 0.00" in line
    assert "19 with no label future, 30 past the log's end" in line


def test_forecasts_are_written_and_read_back_exactly(tmp_path):
    log = _write_log(tmp_path / "drive.mcap")
    out = tmp_path / "run.mcap"
    replay(log, _stack("ctrv"), out, progress=False, io_worker="thread")
    reader = LogReader(out)
    assert reader.validate() > 0  # every message, forecasts included, fits its schema
    tracks = {m.log_time_ns: m.value for m in reader.messages([TRACKS_TOPIC])}
    forecasts = {m.log_time_ns: m.value for m in reader.messages([FORECASTS_TOPIC])}
    assert sorted(forecasts) == sorted(tracks) == [k * STEP_NS for k in range(N_FRAMES)]
    fc = forecasts[30 * STEP_NS]
    assert isinstance(fc, TrackForecasts) and fc.frame == EGO
    np.testing.assert_array_equal(fc.track_id, tracks[30 * STEP_NS].track_id)
    # the same stack on the same frames (as the log gives them) gives these bit for bit
    stack = _stack("ctrv")
    for frame in list(LogReader(log).frames())[:31]:
        out_k = stack.step(frame)
    assert out_k.forecast is not None
    np.testing.assert_array_equal(fc.forecast.boxes, out_k.forecast.boxes)
    np.testing.assert_array_equal(fc.forecast.speed_mps, out_k.forecast.speed_mps)
    # the output log's labels keep their ids (the frames' label_ids)
    frames = list(LogReader(out).frames())
    assert frames[0].label_ids == ("car-A", "ped-B") and frames[25].label_ids == ("car-A",)


def test_forecasts_relative_to_the_ego_are_not_scored(tmp_path):
    """A tracker without ego-motion compensation gives velocities relative to the turning
    ego: placing those forecasts with the anchor's pose would be wrong, so no frame is scored
    and each is counted with its reason."""
    log = _write_log(tmp_path / "drive.mcap")
    summary = replay(
        log, _stack(compensate=False), tmp_path / "run.mcap", progress=False, io_worker="thread"
    )
    m = summary["forecast_vs_labels"]
    assert m["cases"] == 0
    assert m["frames_not_scored"] == {
        "velocities relative to the ego (the tracker's velocities_over_ground is False)": N_FRAMES
    }
    assert "no case scored (frames not scored: velocities relative" in "\n".join(
        summary_lines(summary)
    )


def test_labels_without_ids_are_counted_not_scored(tmp_path):
    log = _write_log(tmp_path / "drive.mcap", strip_ids=True)
    summary = replay(log, _stack(), tmp_path / "run.mcap", progress=False, io_worker="thread")
    assert summary["forecast_vs_labels"]["frames_not_scored"] == {"labels without ids": N_FRAMES}


def test_a_stack_without_prediction_writes_what_it_wrote(tmp_path):
    log = _write_log(tmp_path / "drive.mcap")
    out = tmp_path / "run.mcap"
    summary = replay(
        log, Stack(OracleDetector(), FiniteDifferenceTracker()), out, progress=False,
        io_worker="thread",
    )  # fmt: skip
    assert "forecast_vs_labels" not in summary and set(summary["timing_ms"]) == {
        "perception",
        "tracking",
    }
    assert FORECASTS_TOPIC not in LogReader(out).topics()


def test_a_frame_the_stack_skips_leaves_its_horizons_without_truth():
    """Truth frames missing (a skipped frame) are told apart from the object leaving the view
    and from the log's end."""
    scorer = ForecastScorer(horizon_s=0.3, dt_s=0.1)
    pose = SE3.identity()

    def labels(x: float) -> Boxes3D:
        return Boxes3D.from_array7(np.array([[x, 0, 0, 4, 2, 1.5, 0]]), EGO, 0, label=[CAR])

    track = Boxes3D.from_array7(
        np.array([[0.0, 0, 0, 4, 2, 1.5, 0]]), EGO, 0, label=[CAR], velocity_mps=[[10.0, 0.0]]
    )
    tracks = Tracks(np.array([7]), track)
    forecast = Forecast(
        0.1, np.array([[[k, 0, 0, 4, 2, 1.5, 0] for k in range(4)]], float), np.ones((1, 4))
    )
    for k in range(10):
        if k == 4:
            scorer.add_frame(k * STEP_NS, None, None, None)  # skipped
        else:  # "a" leaves the view after frame 7
            scorer.add_frame(k * STEP_NS, labels(float(k)), ("a",) if k < 8 else ("b",), pose)
    for k in (0, 1, 5, 7):
        scorer.add_forecasts(k * STEP_NS, tracks, forecast, labels(0.5), ("a",), pose)
    m = scorer.metrics()
    # anchor 0: forecast x = 1, 2, 3 m against truth 1, 2, 3 m: exact
    assert m["cases"] == 1 and m["by_class"]["all, all"]["FDE@0.3s"] == 0.0
    assert m["truth_frames_missing"] == 1  # anchor 1: frames 2, 3, 4 (skipped)
    assert m["no_label_future"] == 1  # anchor 5: frames 6, 7, 8 ("a" gone at 8)
    assert m["past_log_end"] == 1  # anchor 7: frames 8, 9, 10, the log ends at 9


def test_matching_is_one_to_one_by_class_group_within_2_m():
    tracks = Boxes3D.from_array7(
        np.array([[0.0, 0, 0, 4, 2, 1.5, 0], [1.5, 0, 0, 4, 2, 1.5, 0], [10, 0, 0, 1, 1, 1, 0]]),
        EGO, 0, label=[CAR, CAR, PED],
    )  # fmt: skip
    labels = Boxes3D.from_array7(
        np.array([[1.0, 0, 0, 4, 2, 1.5, 0], [2.9, 0, 0, 4, 2, 1.5, 0], [10, 0.5, 0, 4, 2, 1.5, 0]]),
        EGO, 0, label=[CAR, CAR, CAR],
    )  # fmt: skip
    # greedy (nearest first) would pair track 1 with label 0 (0.5 m) and leave track 0 alone;
    # the Hungarian pairs 0-0 (1 m) and 1-1 (1.4 m); the pedestrian never matches a car
    assert sorted(match_tracks_to_labels(tracks, labels)) == [(0, 0), (1, 1)]
    far = replace(labels, center_m=labels.center_m + np.array([2.01, 0, 0]))
    assert match_tracks_to_labels(tracks.select([0]), far.select([0])) == []
    with pytest.raises(ValueError, match="tracks in frame 'ego', labels in 'world'"):
        match_tracks_to_labels(tracks, replace(labels, frame=WORLD))


def test_kitti_logs_carry_label_ids_and_older_ones_get_them_from_the_rows(shared_data, tmp_path):
    from drivestack.ingest.kitti_tracking import tracking_label_ids
    from drivestack.replay.kitti_log import kitti_tracking_to_log, read_kitti_channels
    from drivestack.replay.kitti_score import KittiReplayScorer

    log = tmp_path / "k.mcap"
    kitti_tracking_to_log(shared_data / "kitti_tracking", log, first_frame=74, last_frame=76)
    channels = read_kitti_channels(log)
    assert channels is not None
    scorer = KittiReplayScorer(channels)
    for frame in LogReader(log).frames():
        rows = channels.labels[frame.timestamp_ns].rows
        assert frame.label_ids == tracking_label_ids(rows) and len(frame.label_ids) >= 3
        older = replace(frame, label_ids=None)  # a log written before labels carried ids
        assert frame_label_ids(older, scorer) == frame.label_ids
        assert frame_label_ids(older, None) is None


def test_forecast_lines_of_nothing():
    assert forecast_lines(None) == []
    empty = ForecastScorer().metrics()
    assert empty["cases"] == 0 and empty["by_class"]["all, all"] == {"cases": 0}
    assert forecast_lines(empty, "ctrv") == ["  forecast ctrv vs labels: no case scored"]
    json.dumps(empty, allow_nan=False)


@settings(max_examples=25, deadline=None)
@given(
    speed=st.floats(0.0, 30.0),
    heading=st.floats(-np.pi, np.pi),
    ego_speed=st.floats(0.0, 20.0),
    ego_turn=st.floats(-0.5, 0.5),
    start=st.tuples(st.floats(-30.0, 30.0), st.floats(-30.0, 30.0)),
)
def test_over_ground_forecasts_in_any_turning_ego_frame_score_zero(
    speed, heading, ego_speed, ego_turn, start
):
    """Property: a constant-velocity object seen from an ego on any arc, its over-ground
    velocity in the ego's axes, forecast at constant velocity in the anchor's ego frame and
    placed in the world with the anchor's pose, lands on its true positions."""
    velocity = speed * np.array([np.cos(heading), np.sin(heading)])
    scorer = ForecastScorer(horizon_s=1.0, dt_s=0.1)
    predictor = KinematicPredictor(PredictionConfig(horizon_s=1.0, dt_s=0.1))
    for k in range(16):
        t = 0.1 * k
        yaw = ego_turn * t
        pose = SE3.from_xyz_yaw(
            [ego_speed * t * np.cos(yaw), ego_speed * t * np.sin(yaw), 0.0], yaw
        )
        centre = [start[0] + velocity[0] * t, start[1] + velocity[1] * t, 0.8]
        world = Boxes3D.from_array7(
            np.array([[*centre, 4.5, 1.8, 1.5, heading]]), WORLD, k * STEP_NS, label=[CAR],
            velocity_mps=velocity[None],
        )  # fmt: skip
        ego = world.transformed(pose.inverse(), EGO)  # velocity rotated into the ego's axes
        scorer.add_frame(k * STEP_NS, ego, ("x",), pose)
        tracks = Tracks(np.array([1]), ego)
        scorer.add_forecasts(k * STEP_NS, tracks, predictor.step(tracks, pose), ego, ("x",), pose)
    m = scorer.metrics()
    assert m["cases"] == 6 and m["past_log_end"] == 10
    assert m["by_class"]["all, all"]["FDE@1s"] == pytest.approx(0.0, abs=1e-9)


def test_golden_comparison_names_moved_forecast_end_points():
    from drivestack.replay.golden import compare_golden

    frame = {"t": 100_000_000, "forecasts": {"id": [0, 4], "end_xy": [[40.0, 1.0], [9.0, 2.0]]}}
    reference = {"frames": [frame]}
    moved = {
        "frames": [{**frame, "forecasts": {"id": [0, 4], "end_xy": [[40.0, 1.0], [9.0, 2.5]]}}]
    }
    assert compare_golden(reference, reference) == []
    assert compare_golden(moved, reference) == [
        "t=0.100 s forecasts: end points moved by up to 0.5 m (tolerance 0.001): track 4 "
        "(9, 2) -> (9, 2.5)"
    ]
    assert compare_golden({"frames": [{"t": 100_000_000}]}, reference) == [
        "t=0.100 s forecasts: present in one run only"
    ]


def _straight_case_metrics(dt_s: float, horizon_s: float, jitter_ns: int = 0) -> dict:
    """A car labelled on a 10 Hz log at x = 10 m/s * t (frame times jittered by +-jitter_ns),
    forecast exactly at steps of ``dt_s`` from anchor 0."""
    scorer = ForecastScorer(horizon_s=horizon_s, dt_s=dt_s)
    pose = SE3.identity()
    for k in range(40):
        t_ns = k * STEP_NS + (jitter_ns if k % 2 else -jitter_ns if k else 0)
        box = Boxes3D.from_array7(
            np.array([[10.0 * t_ns * 1e-9, 0, 0, 4, 2, 1.5, 0]]), EGO, t_ns, label=[CAR]
        )
        scorer.add_frame(t_ns, box, ("a",), pose)
    n = round(horizon_s / dt_s)
    track = Boxes3D.from_array7(np.array([[0.0, 0, 0, 4, 2, 1.5, 0]]), EGO, 0, label=[CAR])
    boxes = np.array([[[10.0 * k * dt_s, 0, 0, 4, 2, 1.5, 0] for k in range(n + 1)]], float)
    scorer.add_forecasts(
        0, Tracks(np.array([1]), track), Forecast(dt_s, boxes, np.ones((1, n + 1))),
        track, ("a",), pose,
    )  # fmt: skip
    return scorer.metrics()


@pytest.mark.parametrize("dt_s", [0.1, 0.25, 0.15])
def test_forecast_steps_between_the_logs_frames_meet_interpolated_truth(dt_s):
    # a step at 0.25 s lies between the frames at 0.2 and 0.3 s: compared with the nearer
    # frame it read 0.25 m off for an exact forecast
    m = _straight_case_metrics(dt_s, 3.0)
    assert m["cases"] == 1 and m["truth_frames_missing"] == 0
    for key, value in m["by_class"]["all, all"].items():
        if key.startswith(("ADE@", "FDE@")):
            assert value == pytest.approx(0.0, abs=1e-9), key


def test_frame_time_jitter_takes_the_frame_itself():
    # frames 3 ms off the forecast's grid are the frames of those steps: the object is where
    # it was at the frame's time, 3 cm from the exact forecast at 10 m/s
    m = _straight_case_metrics(0.1, 3.0, jitter_ns=3_000_000)
    fig = m["by_class"]["all, all"]
    assert m["cases"] == 1 and fig["FDE@3s"] == pytest.approx(0.03, abs=1e-9)


def test_ade_is_reported_only_at_whole_steps():
    # dt 0.4 s: 1 s and 3 s are not whole numbers of steps (ADE@3s was the mean to 3.2 s)
    m = _straight_case_metrics(0.4, 3.2)
    fig = m["by_class"]["all, all"]
    assert "ADE@1s" not in fig and "ADE@3s" not in fig
    assert fig["ADE@2s"] == pytest.approx(0.0, abs=1e-9) and "FDE@3.2s" in fig


def test_forecasts_that_all_run_past_the_log_say_so():
    # a 2-sweep AV2 log printed only "no case scored": every forecast ran past its end
    metrics = {**ForecastScorer().metrics(), "forecasts": 12, "past_log_end": 9}
    metrics["unmatched_tracks"] = 3
    assert forecast_lines(metrics, "constant_velocity") == [
        "  forecast constant_velocity vs labels: no case scored; not scored: 0 with no label "
        "future, 9 past the log's end, 0 over frames without truth, 3 tracks matching no "
        "label (and 0 outside the labelled region)"
    ]
