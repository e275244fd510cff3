"""Replay scoring rules a mutation review found unguarded: every test here fails under a
plausible one-token change of the code that no other test noticed.

- CLEAR-MOT of a replay's tracks (track_score.py): the match threshold includes its limit,
  MT / PT boundaries (over 80 %, at least 20 %), a frame with labels but no tracks still counts
  as a labelled frame of its objects, the van-ignore rule at its limit and only for tracks
  that match no label of their own class;
- the forecast metric (forecast_score.py): the 2 m match distance (limit included), class
  groups, the quarter-period time tolerance (limit included), interpolation only across
  frames at most 1.5 periods apart, the log end's tolerance, the moving limit (1 m included),
  the counts of unmatched tracks and labels;
- KITTI scoring helpers (kitti_score.py): frames renumbered from the first scored one, the
  result sequence name checks, a results folder holding only a killed replay's staging;
- the replay's detection tally and summary figures (runner.py): the IoU limit included,
  greedy matching in score order, false positives from a rounded precision, percentiles;
- the stack's forecast-start tolerance (pipeline.py).
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.frames import EGO
from drivestack.core.transforms import SE3
from drivestack.ingest.kitti_format import KittiObjects
from drivestack.pipeline import FORECAST_START_MARGIN_M, forecast_start_tolerance_m
from drivestack.prediction.forecast import Forecast
from drivestack.replay.forecast_score import ForecastScorer, match_tracks_to_labels
from drivestack.replay.kitti_score import (
    KITTI_RESULTS_LOCK,
    KittiReplayScorer,
    _check_results_owner,
    renumbered,
)
from drivestack.replay.runner import DetectionTally, _percentiles, class_line, frame_label_ids
from drivestack.replay.track_score import ClassFrame, TrackScorer, clear_mot
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.tracks import Tracks

CAR, VAN, PED = int(ObjectClass.CAR), int(ObjectClass.VAN), int(ObjectClass.PEDESTRIAN)
BARRIER = int(ObjectClass.BARRIER)
MS = 1_000_000


def _boxes(
    rows: list[tuple[float, float, int]], t: int = 0, score: list[float] | None = None
) -> Boxes3D:
    """Boxes 4 m x 2 m x 1.5 m, yaw 0, centred at ``(x, y)``, of class ``label``."""
    arr = np.array([[x, y, 0.75, 4.0, 2.0, 1.5, 0.0] for x, y, _ in rows]).reshape(-1, 7)
    kw: dict[str, Any] = {} if score is None else {"score": np.array(score)}
    return Boxes3D.from_array7(arr, EGO, t, label=[c for _, _, c in rows], **kw)


def _frame(gt: list[int], tr: list[int], sim: list[list[float]]) -> ClassFrame:
    return ClassFrame(
        np.array(gt, dtype=np.int64),
        np.array(tr, dtype=np.int64),
        np.array(sim, dtype=np.float64).reshape(len(gt), len(tr)),
    )


# track_score.py: CLEAR-MOT --------------------------------------------------------------------


def test_a_pair_at_exactly_the_match_threshold_is_matched() -> None:
    """Pairs *below* the threshold never match: a similarity of exactly 0.5 is a true
    positive (TP 1, no FP, no FN), its similarity the MOTP sum."""
    out = clear_mot([_frame([0], [0], [[0.5]])], 1, 0.5)
    assert (out["TP"], out["FP"], out["FN"]) == (1, 0, 0)
    assert out["MOTP_sum"] == 0.5


def test_mostly_tracked_is_over_80_percent_and_partly_tracked_at_least_20() -> None:
    """Object 0 is matched in 4 of its 5 labelled frames (ratio 0.8: not *over* 0.8, so
    partly tracked), object 1 in 1 of 5 (ratio 0.2: at least 0.2, partly tracked):
    MT 0, PT 2, ML 0. Unmatched frames have a track with similarity 0 (below 0.5)."""
    frames = []
    for k in range(5):
        s0 = 1.0 if k < 4 else 0.0
        s1 = 1.0 if k == 0 else 0.0
        frames.append(_frame([0, 1], [0, 1], [[s0, 0.0], [0.0, s1]]))
    out = clear_mot(frames, 2)
    assert (out["TP"], out["FN"]) == (5, 5)
    assert (out["MT"], out["PT"], out["ML"]) == (0, 2, 0)


def test_a_labelled_frame_without_tracks_counts_in_the_tracked_ratio() -> None:
    """Object 0 labelled in 5 frames, matched in 4; in the fifth there are no tracks at all:
    that frame still counts as labelled, ratio 4 / 5 = 0.8, not over 0.8 -> PT, not MT; it is
    1 missed label (FN 1)."""
    frames = [_frame([0], [0], [[1.0]]) for _ in range(4)] + [_frame([0], [], [])]
    out = clear_mot(frames, 1)
    assert (out["TP"], out["FN"], out["FP"]) == (4, 1, 0)
    assert (out["MT"], out["PT"], out["ML"]) == (0, 1, 0)


def _tracks(rows: list[tuple[int, float, float, int]], t: int = 0) -> Tracks:
    """``(track id, x, y, class)`` rows."""
    return Tracks(np.array([i for i, *_ in rows], dtype=np.int64), _boxes([r[1:] for r in rows], t))


def test_a_car_track_exactly_on_a_van_at_the_threshold_is_ignored() -> None:
    """With the threshold at 1.0, a car track identical to a van label (BEV IoU 1: the same
    box) overlaps it by the threshold (limit included): it is on an ignored label, neither
    true nor false (car FP 0, on_ignored_labels 1)."""
    scorer = TrackScorer(iou_threshold=1.0)
    scorer.add(_tracks([(1, 20.0, 0.0, CAR)]), _boxes([(20.0, 0.0, VAN)]), ("v",))
    car = scorer.metrics()["by_class"]["car"]
    assert (car["FP"], car["on_ignored_labels"]) == (0, 1)


def test_a_car_track_on_its_car_label_is_true_even_over_a_van() -> None:
    """A car track that matches a car label is not ignored when it also overlaps a van
    label: car and van labels at the same place, one car track there -> car TP 1,
    on_ignored_labels 0 (the ignore rule needs no match of its own class)."""
    scorer = TrackScorer()
    labels = _boxes([(0.0, 0.0, CAR), (0.0, 0.0, VAN)])
    scorer.add(_tracks([(1, 0.0, 0.0, CAR)]), labels, ("c", "v"))
    car = scorer.metrics()["by_class"]["car"]
    assert (car["TP"], car["FP"], car["on_ignored_labels"]) == (1, 0, 0)


# forecast_score.py ----------------------------------------------------------------------------


def test_a_track_exactly_the_match_distance_from_a_label_is_matched() -> None:
    """Match within 2 m, limit included: a car track 2.0 m from a car label matches (pair
    (0, 0)); one 2.4 m away matches nothing."""
    labels = _boxes([(0.0, 0.0, CAR)])
    assert match_tracks_to_labels(_boxes([(2.0, 0.0, CAR)]), labels) == [(0, 0)]
    assert match_tracks_to_labels(_boxes([(2.4, 0.0, CAR)]), labels) == []


def test_tracks_and_labels_outside_the_class_groups_never_match() -> None:
    """A barrier track on a barrier label: both outside the class groups (vehicle,
    pedestrian, cyclist), so no pair although they coincide; a car does not match a
    pedestrian either."""
    assert (
        match_tracks_to_labels(_boxes([(0.0, 0.0, BARRIER)]), _boxes([(0.0, 0.0, BARRIER)])) == []
    )
    assert match_tracks_to_labels(_boxes([(0.0, 0.0, CAR)]), _boxes([(0.0, 0.0, PED)])) == []


def _forecast_metrics(
    times_ms: list[int],
    forecast_x: list[float],
    dt_s: float,
    speed_mps: float = 10.0,
    tracks: list[tuple[int, float, float, int]] | None = None,
    labels: list[tuple[float, float, int]] | None = None,
    region: np.ndarray | None = None,
) -> dict[str, Any]:
    """One labelled car ``a`` moving along +x at ``speed_mps`` (x = speed * t), labelled in
    frames at ``times_ms`` (identity poses); at the first frame, one car track 1 at x = 0 (or
    ``tracks``) forecast at steps ``k * dt_s`` to ``forecast_x[k - 1]`` (y 0)."""
    scorer = ForecastScorer()
    world = SE3.identity()
    for t_ms in times_ms:
        x = speed_mps * t_ms / 1000.0
        extra = (labels or []) if t_ms == times_ms[0] else []
        frame_labels = [(x, 0.0, CAR), *extra]
        ids = tuple(["a", *(f"o{k}" for k in range(len(frame_labels) - 1))])
        scorer.add_frame(t_ms * MS, _boxes(frame_labels, t_ms * MS), ids, world)
    t0 = times_ms[0]
    rows = tracks or [(1, 0.0, 0.0, CAR)]
    trk = _tracks(rows, t0 * MS)
    n = len(forecast_x)
    boxes = np.zeros((len(rows), n + 1, 7))
    boxes[:, :, 3:6] = (4.0, 2.0, 1.5)
    for i, (_, x, y, _c) in enumerate(rows):
        boxes[i, 0, :2] = (x, y)
        boxes[i, 1:, 0] = forecast_x
    forecast = Forecast(dt_s, boxes, np.zeros((len(rows), n + 1)), EGO, t0 * MS)
    first_labels = [(speed_mps * t0 / 1000.0, 0.0, CAR), *(labels or [])]
    ids = tuple(["a", *(f"o{k}" for k in range(len(first_labels) - 1))])
    scorer.add_forecasts(t0 * MS, trk, forecast, _boxes(first_labels, t0 * MS), ids, world, region)
    return scorer.metrics()


def test_a_step_exactly_a_quarter_period_from_a_frame_takes_that_frames_label() -> None:
    """Frames every 100 ms (tolerance 100 / 4 = 25 ms, limit included); the one step at
    125 ms is exactly 25 ms from frame 100 ms, so its truth is that frame's label, x = 1.0
    (not 1.25 interpolated): a forecast to x = 1.0 has FDE 0."""
    m = _forecast_metrics([0, 100, 200], [1.0], 0.125)
    assert m["cases"] == 1
    assert m["by_class"]["all, all"]["FDE@0.125s"] == pytest.approx(0.0, abs=1e-9)


def test_frames_two_periods_apart_give_no_interpolated_truth() -> None:
    """Frames at 0, 100, 200, 400 ms (median period 100 ms): the step at 300 ms lies 100 ms
    from both frames around it (beyond 25 ms), and they are 200 ms apart, more than 1.5
    periods: no truth there (truth_frames_missing 1, no case)."""
    m = _forecast_metrics([0, 100, 200, 400], [3.0], 0.3)
    assert (m["cases"], m["truth_frames_missing"], m["past_log_end"]) == (0, 1, 0)


def test_a_step_within_the_tolerance_after_the_last_frame_is_not_past_the_log_end() -> None:
    """Frames at 0, 100, 200 ms; the step at 210 ms is 10 ms after the last frame, within the
    25 ms tolerance: it takes frame 200 ms's label (x = 2.0), not past the log's end."""
    m = _forecast_metrics([0, 100, 200], [2.0], 0.21)
    assert (m["cases"], m["past_log_end"]) == (1, 0)
    assert m["by_class"]["all, all"]["FDE@0.21s"] == pytest.approx(0.0, abs=1e-9)


def test_a_case_moving_exactly_one_metre_is_moving() -> None:
    """The object moves 1.0 m over the horizon (10 m/s, 100 ms; x = 1.0, a binary-exact
    float): true displacement >= 1 m, so the case is a moving one ("vehicle, moving")."""
    m = _forecast_metrics([0, 100], [1.0], 0.1)
    assert m["cases"] == 1
    assert m["by_class"]["vehicle, moving"]["cases"] == 1
    assert m["by_class"]["all, moving"]["cases"] == 1


def test_only_unmatched_tracks_outside_the_region_are_counted_as_outside() -> None:
    """Track 1 matches label a (inside or not, it is scored); track 2 far away matches no
    label and is outside the labelled region; both marked outside the region: only track 2
    counts as outside (1), none as unmatched in the region (0), one pair matched."""
    m = _forecast_metrics(
        [0, 100],
        [1.0],
        0.1,
        tracks=[(1, 0.0, 0.0, CAR), (2, 50.0, 0.0, CAR)],
        region=np.array([False, False]),
    )
    assert (m["matched"], m["tracks_outside_labelled_region"], m["unmatched_tracks"]) == (1, 1, 0)


def test_the_time_tolerance_is_a_quarter_of_the_median_frame_period() -> None:
    """Frames at 0, 100, 200, 300, 350 ms: periods 100, 100, 100, 50, median 100 ms, so the
    tolerance is 25 ms (not a quarter of the shortest, 12.5 ms). The step at 120 ms is 20 ms
    from frame 100 ms: within it, truth x = 1.0 (not 1.2 interpolated), FDE 0."""
    m = _forecast_metrics([0, 100, 200, 300, 350], [1.0], 0.12)
    assert m["cases"] == 1
    assert m["by_class"]["all, all"]["FDE@0.12s"] == pytest.approx(0.0, abs=1e-9)


# kitti_score.py -------------------------------------------------------------------------------


def _kitti_rows(names: list[str], frames: list[int], track_ids: list[int]) -> KittiObjects:
    n = len(names)
    return KittiObjects(
        type_name=np.array(names),
        truncation=np.zeros(n),
        occlusion=np.zeros(n, dtype=np.int64),
        alpha_rad=np.zeros(n),
        box2d_xyxy_px=np.zeros((n, 4)),
        hwl_m=np.ones((n, 3)),
        location_m=np.ones((n, 3)),
        rotation_y_rad=np.zeros(n),
        frame=np.array(frames),
        track_id=np.array(track_ids),
    )


def test_rows_are_renumbered_from_the_first_scored_frame() -> None:
    """The tracking metric scores the replayed frames as one sequence from 0: rows of
    frames 5 and 7 with the first scored frame 5 become frames 0 and 2."""
    rows = _kitti_rows(["Car", "Car"], [5, 7], [0, 0])
    assert renumbered(rows, 5).frame.tolist() == [0, 2]


@pytest.mark.parametrize("sequence", ["..", "."])
def test_a_sequence_named_dot_or_dot_dot_is_refused(tmp_path: Path, sequence: str) -> None:
    """The result files are ``<Class>/<sequence>.txt``: "." and ".." are no file names
    (Path("..").name is "..", so only the explicit check refuses them); DataError naming the
    field, nothing written."""
    channels = SimpleNamespace(labels={0: SimpleNamespace(sequence=sequence)})
    scorer = KittiReplayScorer(channels)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="not a file name"):
        scorer.write_tracking_results(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_folder_holding_only_a_killed_replays_staging_is_free(tmp_path: Path) -> None:
    """A killed replay leaves its lock file and a ``.partial-<pid>`` staging folder: that
    is no other run's results, so the folder is not refused; any other file is."""
    (tmp_path / KITTI_RESULTS_LOCK).touch()
    (tmp_path / ".partial-12345").mkdir()
    _check_results_owner(tmp_path, tmp_path / "out.mcap", overwrite=False)
    (tmp_path / "Car").mkdir()
    with pytest.raises(DataError, match="holds files that no replay"):
        _check_results_owner(tmp_path, tmp_path / "out.mcap", overwrite=False)


def test_a_rerun_naming_its_output_by_a_relative_path_replaces_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest records the output's resolved path; the same replay rerun with a
    relative ``--out`` is the same owner (compared resolved), so it is not refused."""
    import json

    monkeypatch.chdir(tmp_path)
    (tmp_path / "res").mkdir()
    manifest = {"out": str((tmp_path / "out.mcap").resolve())}
    from drivestack.replay.kitti_score import KITTI_RESULTS_MANIFEST

    (tmp_path / "res" / KITTI_RESULTS_MANIFEST).write_text(json.dumps(manifest))
    _check_results_owner(tmp_path / "res", Path("out.mcap"), overwrite=False)
    with pytest.raises(DataError, match="another replay"):
        _check_results_owner(tmp_path / "res", Path("other.mcap"), overwrite=False)


# runner.py: the detection tally and summary figures -------------------------------------------


def test_a_detection_at_exactly_the_iou_threshold_is_true() -> None:
    """Threshold 1.0 and a detection identical to its label (BEV IoU 1): matched, the
    threshold included (recall 1, precision 1)."""
    tally = DetectionTally(iou_threshold=1.0)
    tally.add(_boxes([(0.0, 0.0, CAR)], score=[0.9]), _boxes([(0.0, 0.0, CAR)]))
    car = tally.as_dict()["car"]
    assert (car["recall"], car["precision"]) == (1.0, 1.0)


def test_a_car_detection_exactly_on_a_van_at_the_threshold_is_ignored() -> None:
    """Threshold 1.0; a car detection identical to a van label (IoU 1, the limit included)
    is on an ignored label: not a false positive (0 detections counted, 1 on van labels)."""
    tally = DetectionTally(iou_threshold=1.0)
    labels = _boxes([(40.0, 0.0, CAR), (0.0, 0.0, VAN)])
    tally.add(_boxes([(0.0, 0.0, CAR)], score=[0.9]), labels)
    car = tally.as_dict()["car"]
    assert (car["detections"], car["on_ignored_labels"]) == (0, 1)


def test_detections_are_matched_greedily_in_score_order() -> None:
    """4 m x 2 m boxes along x: IoU at offset d is (4 - d) / (4 + d). Labels L1 at x 0 and
    L2 at x 1.4. Detection A (score 0.9) at x 0.4: IoU 3.6 / 4.4 = 0.82 with L1, 0.6 with L2;
    detection B (score 0.5) at x -0.5: 3.5 / 4.5 = 0.78 with L1, 2.1 / 5.9 = 0.36 with L2.
    A first takes L1; B then has only L2 (below 0.5): 1 true of 2 (recall and precision
    0.5). In the other order B would take L1 and A L2: 2 of 2."""
    detections = _boxes([(0.4, 0.0, CAR), (-0.5, 0.0, CAR)], score=[0.9, 0.5])
    tally = DetectionTally()
    tally.add(detections, _boxes([(0.0, 0.0, CAR), (1.4, 0.0, CAR)]))
    car = tally.as_dict()["car"]
    assert (car["recall"], car["precision"]) == (0.5, 0.5)


def test_a_class_never_detected_has_an_undefined_precision() -> None:
    """A labelled car with no detection: recall 0 / 1 = 0, precision 0 / 0 undefined (NaN,
    not 0)."""
    tally = DetectionTally()
    tally.add(_boxes([(0.0, 0.0, PED)], score=[0.9]), _boxes([(0.0, 0.0, CAR)]))
    car = tally.as_dict()["car"]
    assert car["recall"] == 0.0 and math.isnan(car["precision"])


def test_the_false_positives_of_a_class_line_round_the_true_positives() -> None:
    """29 true of 100 detections: precision 0.29, and 0.29 * 100 is 28.999999999999996 in
    floats; rounded back that is 29 true, so 100 - 29 = 71 false positives (not 72)."""
    m = {"detections": 100, "precision": 0.29, "recall": 0.5, "labels": 58}
    assert "71 false positives" in class_line("car", m)


def test_the_timing_percentiles() -> None:
    """0, 1, ..., 100 ms: the p-th percentile (linear) is p exactly; the mean 50, max 100."""
    p = _percentiles([float(v) for v in range(101)])
    assert p == {"p50": 50.0, "p95": 95.0, "p99": 99.0, "max": 100.0, "mean": 50.0}


# pipeline.py ----------------------------------------------------------------------------------


def test_a_forecast_may_start_a_step_of_speed_plus_the_margin_from_its_track() -> None:
    """A track moving at (3, 4) m/s (speed 5) with dt 0.5 s: its forecast step 0 may lie
    5 * 0.5 = 2.5 m plus the 2 m margin from its box centre: 4.5 m."""
    assert FORECAST_START_MARGIN_M == 2.0
    boxes = _boxes([(0.0, 0.0, CAR)])
    boxes = Boxes3D(
        boxes.center_m,
        boxes.size_m,
        boxes.yaw_rad,
        EGO,
        0,
        velocity_mps=np.array([[3.0, 4.0]]),
        label=boxes.label,
    )
    tracks = Tracks(np.array([1], dtype=np.int64), boxes)
    assert forecast_start_tolerance_m(tracks, 0.5).tolist() == pytest.approx([4.5])


def test_kitti_row_ids_that_do_not_fit_the_labels_are_no_label_ids() -> None:
    """A KITTI log without label_ids: the ids are the track ids of the frame's rows, DontCare
    dropped. Rows Car 4, DontCare -1, Van 9 give ("4", "9"), one per label of a frame with
    2 labels; for a frame with 3 labels the counts disagree: None (not the 2 ids)."""
    rows = _kitti_rows(["Car", "DontCare", "Van"], [0, 0, 0], [4, -1, 9])
    kitti = SimpleNamespace(channels=SimpleNamespace(labels={7: SimpleNamespace(rows=rows)}))
    two = _boxes([(0.0, 0.0, CAR), (9.0, 0.0, VAN)])
    three = _boxes([(0.0, 0.0, CAR), (9.0, 0.0, VAN), (20.0, 0.0, CAR)])
    for labels, expected in ((two, ("4", "9")), (three, None)):
        frame = SimpleNamespace(label_ids=None, labels=labels, timestamp_ns=7)
        assert frame_label_ids(frame, kitti) == expected  # type: ignore[arg-type]
