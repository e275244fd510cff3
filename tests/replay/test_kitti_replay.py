"""A real drive end to end: KITTI tracking 0000 (80 scans) -> drivestack log -> replay -> KITTI
detection and tracking metrics, equal to the eval code path run on the KITTI files directly."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.core.errors import DataError
from drivestack.eval.detection.datasets import KITTI_TRACKING_IMAGE_WH, LabelledFrame
from drivestack.ingest.kitti_format import KittiObjects
from drivestack.ingest.kitti_tracking import read_ego_poses, read_tracking_labels
from drivestack.pipeline import Stack, build_stack
from drivestack.replay.kitti_log import (
    KITTI_CALIB_TOPIC,
    KITTI_LABELS_TOPIC,
    decode_kitti_labels,
    kitti_labels_message,
    kitti_tracking_to_log,
    read_kitti_channels,
)
from drivestack.replay.kitti_score import (
    kitti_tracking_metrics,
    kitti_tracking_rows,
    renumbered,
)
from drivestack.replay.log_reader import LogReader
from drivestack.structures.sensor_frame import SensorFrame

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "configs" / "stack" / "default.yaml"
FIRST, LAST = 74, 153


class _StackAsDetector:
    """The whole stack behind ``evaluate_dataset``'s detector interface: it returns the
    detections for the KITTI detection protocol and keeps each frame's tracks as KITTI rows.
    Ego poses come straight from the ORB-SLAM3 file (the eval loader gives frames without)."""

    def __init__(self, stack: Stack, root: Path) -> None:
        from drivestack.ingest.kitti_calib import read_kitti_calib
        from drivestack.ingest.kitti_tracking import world_from_lidar_poses

        self.stack = stack
        self.calib = read_kitti_calib(root / "training" / "calib" / "0000.txt")
        camera_poses = read_ego_poses(root / "training" / "ego_poses_orbslam3_stereo" / "0000.txt")
        self.poses = world_from_lidar_poses(camera_poses, self.calib)
        self.rows: list[KittiObjects] = []

    def reset(self) -> None:
        self.stack.reset()
        self.rows = []

    def step(self, frame: SensorFrame) -> Any:
        index = frame.timestamp_ns // 100_000_000
        out = self.stack.step(replace(frame, world_from_ego=self.poses[index]))
        assert out.tracks is not None
        lf = LabelledFrame(f"{index:06d}", frame, None, self.calib, KITTI_TRACKING_IMAGE_WH)
        self.rows.append(kitti_tracking_rows(out.tracks, lf, index))
        return out.detections


def _assert_same(replayed: Any, direct: Any, where: str = "") -> None:
    """Equal structures; floats equal to 1e-9 relative (ego poses pass through quaternions in
    the log, which moves tracked boxes by ~1e-15 m), everything else exactly equal."""
    if isinstance(direct, dict):
        assert set(replayed) == set(direct), where
        for key in direct:
            _assert_same(replayed[key], direct[key], f"{where}.{key}")
    elif isinstance(direct, list | tuple):
        assert len(replayed) == len(direct), where
        for i, (a, b) in enumerate(zip(replayed, direct, strict=True)):
            _assert_same(a, b, f"{where}[{i}]")
    elif isinstance(direct, float) and not isinstance(replayed, bool):
        assert (math.isnan(direct) and math.isnan(replayed)) or replayed == pytest.approx(
            direct, rel=1e-9, abs=1e-12
        ), f"{where}: {replayed} != {direct}"
    else:
        assert replayed == direct, f"{where}: {replayed!r} != {direct!r}"


@pytest.mark.data
@pytest.mark.slow
def test_replayed_kitti_drive_scores_like_the_eval_path(shared_data: Path, tmp_path: Path) -> None:
    from drivestack.eval.detection.run import evaluate_dataset

    root = shared_data / "kitti_tracking"
    log = tmp_path / "kitti_0000.mcap"
    assert kitti_tracking_to_log(root, log).frames == LAST - FIRST + 1
    assert LogReader(log).validate() > 0

    # replay path: the log through `drivestack replay`
    out = tmp_path / "run.mcap"
    status = main(["replay", str(log), "--stack", str(STACK), "--out", str(out), "--quiet"])
    assert status == 0
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["frames_processed"] == 80 and summary["frames_skipped"] == 0
    kitti = summary["kitti"]
    assert (kitti["frames_scored"], kitti["first_frame"], kitti["last_frame"]) == (80, FIRST, LAST)

    # eval path: the same stack on the KITTI files, through `drivestack eval detection`'s loop
    direct = _StackAsDetector(build_stack(STACK), root)
    det = evaluate_dataset("kitti-tracking", root, detector=direct)
    assert det["num_frames"] == 80
    labels = read_tracking_labels(root / "training" / "label_02" / "0000.txt")
    in_range = labels.select(np.flatnonzero((labels.frame >= FIRST) & (labels.frame <= LAST)))
    trk = kitti_tracking_metrics(
        "0000",
        LAST - FIRST + 1,
        renumbered(in_range, FIRST),
        renumbered(KittiObjects.concatenate(direct.rows), FIRST),
    )

    _assert_same(kitti["detection"], json.loads(json.dumps(det["metrics"])), "detection")
    _assert_same(kitti["tracking"], json.loads(json.dumps(trk)), "tracking")
    # the figures are real ones: the LiDAR stack finds and tracks most cars, not all
    assert 0.3 < kitti["detection"]["Car_BEV_AP40_moderate_loose"] / 100 < 1.0
    car = kitti["tracking"]["iou_0.25"]["classes"]["Car"]
    assert 0.2 < car["clear"]["sAMOTA"] < 1.0 and car["clear"]["best"]["TP"] > 100

    # the output log keeps the KITTI channels, and they score the same
    channels = read_kitti_channels(out)
    assert channels is not None and len(channels.labels) == 80
    assert {KITTI_LABELS_TOPIC, KITTI_CALIB_TOPIC} <= set(LogReader(out).topics())

    # a log cut short keeps the labels before the cut (they score the frames that replay)
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(log.read_bytes()[: log.stat().st_size // 2])
    partial = read_kitti_channels(cut)
    assert partial is not None and 10 < len(partial.labels) < 80
    for t, frame in partial.labels.items():
        full = channels.labels[t].rows
        assert frame.rows.type_name.tolist() == full.type_name.tolist()
        np.testing.assert_array_equal(frame.rows.location_m, full.location_m)


@pytest.mark.data
def test_kitti_label_rows_and_calibration_read_back_bit_identical(
    shared_data: Path, tmp_path: Path
) -> None:
    from drivestack.ingest.kitti_calib import read_kitti_calib
    from drivestack.replay.kitti_log import kitti_calib_message
    from drivestack.replay.log_format import KITTI_CALIB, KITTI_LABELS, LogWriter

    root = shared_data / "kitti_tracking" / "training"
    rows = read_tracking_labels(root / "label_02" / "0000.txt")
    calib = read_kitti_calib(root / "calib" / "0000.txt")
    frame = rows.select(np.flatnonzero(rows.frame == 100))
    assert "DontCare" in set(frame.type_name) and len(frame) > 5
    log = tmp_path / "k.mcap"
    with LogWriter(log, config={}) as writer:
        writer.write(
            KITTI_CALIB_TOPIC,
            KITTI_CALIB,
            7,
            kitti_calib_message(calib, timestamp_ns=7, sequence="0000"),
        )
        msg = kitti_labels_message(
            frame, timestamp_ns=7, sequence="0000", frame_index=100, image_size_wh=(1242, 375)
        )
        writer.write(KITTI_LABELS_TOPIC, KITTI_LABELS, 7, msg)
    assert LogReader(log).validate() == 3  # run metadata, calibration, labels
    channels = read_kitti_channels(log)
    assert channels is not None
    back = channels.labels[7]
    assert (back.sequence, back.frame_index, back.image_size_wh) == ("0000", 100, (1242, 375))
    for name in ("frame", "track_id", "type_name", "truncation", "occlusion", "alpha_rad"):
        assert np.array_equal(getattr(back.rows, name), getattr(frame, name)), name
    for name in ("box2d_xyxy_px", "hwl_m", "location_m", "rotation_y_rad"):
        assert np.array_equal(getattr(back.rows, name), getattr(frame, name)), name
    assert np.array_equal(channels.calib.P2, calib.P2)
    assert np.array_equal(channels.calib.R0_rect, calib.R0_rect)
    assert np.array_equal(channels.calib.Tr_velo_to_cam, calib.Tr_velo_to_cam)


def test_kitti_labels_with_ragged_columns_are_refused() -> None:
    msg = {
        "timestamp_ns": 0,
        "sequence": "0000",
        "frame_index": 0,
        "image_size_wh": [1242, 375],
        "objects": {
            "type": ["Car", "Van"],
            "track_id": [1, 2],
            "truncated": [0.0, 0.0],
            "occluded": [0, 1],
            "alpha_rad": [0.1, 0.2],
            "bbox_xyxy_px": [[0.0, 0.0, 10.0, 10.0]],
            "dimensions_hwl_m": [[1.5, 1.6, 4.0], [2.0, 1.8, 5.0]],
            "location_m": [[1.0, 1.5, 10.0], [3.0, 1.5, 20.0]],
            "rotation_y_rad": [0.0, 0.5],
        },
    }
    with pytest.raises(ValueError, match="bbox_xyxy_px has 1 entries"):
        decode_kitti_labels(msg)
    msg["objects"]["bbox_xyxy_px"].append([5.0, 5.0, 20.0, 30.0])
    rows = decode_kitti_labels(msg).rows
    assert list(rows.type_name) == ["Car", "Van"] and rows.box2d_xyxy_px.shape == (2, 4)


@pytest.mark.data
def test_labels_given_back_as_detections_and_tracks_score_perfectly(shared_data: Path) -> None:
    """The scorer on an oracle: every label as a detection and as a track with its own id."""
    from drivestack.core.frames import LIDAR
    from drivestack.core.transforms import SE3
    from drivestack.ingest.kitti_calib import read_kitti_calib
    from drivestack.ingest.kitti_format import objects_to_boxes
    from drivestack.replay.kitti_log import KittiChannels, KittiFrameLabels
    from drivestack.replay.kitti_score import KittiReplayScorer
    from drivestack.structures.point_cloud import PointCloud
    from drivestack.structures.tracks import Tracks

    root = shared_data / "kitti_tracking" / "training"
    rows = read_tracking_labels(root / "label_02" / "0000.txt")
    calib = read_kitti_calib(root / "calib" / "0000.txt")
    frames = range(124, LAST + 1)  # cars at every occlusion level, a cyclist
    labels = {}
    for f in frames:
        frame_rows = rows.select(np.flatnonzero(rows.frame == f))
        labels[f * 100_000_000] = KittiFrameLabels(
            f * 100_000_000, "0000", f, (1242, 375), frame_rows
        )
    scorer = KittiReplayScorer(KittiChannels(calib, labels))
    rng = np.random.default_rng(0)
    for t, lab in labels.items():
        boxes = objects_to_boxes(lab.rows, calib, timestamp_ns=t)
        # distinct scores: KITTI's recall thresholds come from the scores of the matches
        boxes = replace(boxes, score=rng.uniform(0.5, 1.0, len(boxes)))
        ids = lab.rows.track_id[lab.rows.type_name != "DontCare"]
        cloud = PointCloud(np.zeros((1, 3), dtype=np.float32), LIDAR, t)
        frame = SensorFrame(t, lidars={LIDAR: cloud}, ego_from_sensor={LIDAR: SE3.identity()})
        assert scorer.add(frame, boxes, Tracks(ids, boxes))
    cloud = PointCloud(np.zeros((1, 3), dtype=np.float32), LIDAR, 5)
    assert not scorer.add(SensorFrame(5, lidars={LIDAR: cloud}), boxes, None)  # not labelled
    m = scorer.metrics()
    assert m is not None and (m["frames_scored"], m["first_frame"]) == (30, 124)
    # perfect detections: AP40 = 100 when a difficulty has at least 40 labels (KITTI's recall
    # thresholds come from the matches: fewer labels fill fewer of the 40 recall points)
    kept = rows.select(np.flatnonzero((rows.frame >= 124) & (rows.frame <= LAST)))
    height = kept.box2d_xyxy_px[:, 3] - kept.box2d_xyxy_px[:, 1]
    car = kept.type_name == "Car"
    moderate = car & (kept.occlusion <= 1) & (kept.truncation <= 0.3) & (height > 25)
    hard = car & (kept.occlusion <= 2) & (kept.truncation <= 0.5) & (height > 25)
    assert 40 <= moderate.sum() <= hard.sum()
    det = m["detection"]
    for kind in ("BEV", "3D"):
        assert det[f"Car_{kind}_AP40_moderate_strict"] == pytest.approx(100.0)
        assert det[f"Car_{kind}_AP40_hard_strict"] == pytest.approx(100.0)
    car = m["tracking"]["iou_0.25"]["classes"]["Car"]["clear"]
    assert car["best"]["FP"] == 0 and car["best"]["IDS"] == 0 and car["best"]["FN"] == 0
    assert car["best"]["MOTA"] == pytest.approx(1.0)


def _tiny_calib() -> Any:
    """A KITTI calibration: a 700 px camera at the LiDAR."""
    from drivestack.ingest.kitti_calib import KittiCalib

    p2 = np.hstack([np.array([[700.0, 0, 600], [0, 700.0, 180], [0, 0, 1]]), np.zeros((3, 1))])
    return KittiCalib({"P2": p2}, np.eye(3), np.hstack([np.eye(3), np.zeros((3, 1))]))


def _noise_frame(rng: np.random.Generator, t: int) -> SensorFrame:
    """A frame at ``t`` ns of one LiDAR (at the ego) scanning 500 random points."""
    from drivestack.core.frames import LIDAR
    from drivestack.core.transforms import SE3
    from drivestack.structures.point_cloud import PointCloud

    cloud = PointCloud(rng.normal(size=(500, 3)).astype(np.float32) * 10, LIDAR, t)
    return SensorFrame(
        t,
        lidars={LIDAR: cloud},
        ego_from_sensor={LIDAR: SE3.identity()},
        world_from_ego=SE3.identity(),
    )


def test_a_log_whose_kitti_labels_do_not_decode_is_replayed_unscored(tmp_path: Path) -> None:
    from drivestack.replay.kitti_log import kitti_calib_message
    from drivestack.replay.log_format import KITTI_CALIB, KITTI_LABELS, LogWriter

    calib = _tiny_calib()
    log = tmp_path / "bad.mcap"
    rng = np.random.default_rng(0)
    with LogWriter(log, config={}) as writer:
        writer.write(
            KITTI_CALIB_TOPIC,
            KITTI_CALIB,
            0,
            kitti_calib_message(calib, timestamp_ns=0, sequence="0000"),
        )
        for k in range(2):
            t = k * 100_000_000
            writer.sensor_frame(_noise_frame(rng, t))
            message = kitti_labels_message(
                KittiObjects(),
                timestamp_ns=t,
                sequence="0000",
                frame_index=k,
                image_size_wh=(1242, 375),
            )
            message["objects"]["track_id"] = [1]  # one id for zero rows
            writer.write(KITTI_LABELS_TOPIC, KITTI_LABELS, t, message)
    out = tmp_path / "run.mcap"
    assert main(["replay", str(log), "--stack", str(STACK), "--out", str(out), "--quiet"]) == 1
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["frames_processed"] == 2 and summary["kitti"] is None
    (problem,) = summary["skipped"]
    assert "KITTI labels not scored" in problem["reason"]
    assert "/labels/kitti #0" in problem["reason"] and "track_id has 1 entries" in problem["reason"]


def _tiny_kitti_log(path: Path, edit_calib: Any = None, edit_labels: Any = None) -> Path:
    """Two frames with KITTI channels (one Car row each); ``edit_calib(message)`` and
    ``edit_labels(message)`` (frame 1's) change them before they are written, NaN allowed."""
    from drivestack.replay.kitti_log import kitti_calib_message
    from drivestack.replay.log_format import KITTI_CALIB, KITTI_LABELS, LogWriter

    calib = _tiny_calib()
    rng = np.random.default_rng(0)
    with LogWriter(path, config={}) as writer:
        message = kitti_calib_message(calib, timestamp_ns=0, sequence="0000")
        if edit_calib is not None:
            edit_calib(message)
        writer.write_encoded(KITTI_CALIB_TOPIC, KITTI_CALIB, 0, json.dumps(message).encode())
        for k in range(2):
            t = k * 100_000_000
            writer.sensor_frame(_noise_frame(rng, t))
            rows = KittiObjects(
                frame=np.array([k]),
                track_id=np.array([1]),
                type_name=np.array(["Car"]),
                truncation=np.array([0.0]),
                occlusion=np.array([0]),
                alpha_rad=np.array([0.1]),
                box2d_xyxy_px=np.array([[500.0, 150.0, 600.0, 200.0]]),
                hwl_m=np.array([[1.5, 1.6, 4.0]]),
                location_m=np.array([[1.0, 1.5, 10.0]]),
                rotation_y_rad=np.array([0.0]),
                score=np.array([np.nan]),
            )
            message = kitti_labels_message(
                rows, timestamp_ns=t, sequence="0000", frame_index=k, image_size_wh=(1242, 375)
            )
            if edit_labels is not None and k == 1:
                edit_labels(message)
            writer.write_encoded(KITTI_LABELS_TOPIC, KITTI_LABELS, t, json.dumps(message).encode())
    return path


def _set(*keys: Any, value: Any) -> Any:
    def edit(message: dict) -> None:
        for key in keys[:-1]:
            message = message[key]
        message[keys[-1]] = value

    return edit


def _drop(key: str) -> Any:
    return lambda message: message.pop(key)


#: (calibration edit, labels edit, where: record and field, what)
BAD_KITTI = {
    "calib_nan": (
        _set("R0_rect", 4, value=math.nan),
        None,
        "/calibration/kitti #0",
        "field R0_rect[4]: nan is not a finite number",
    ),
    "calib_inf": (
        _set("P2", 0, value=math.inf),
        None,
        "/calibration/kitti #0",
        "field P2[0]: inf is not a finite number",
    ),
    "calib_missing_key": (
        _drop("R0_rect"),
        None,
        "/calibration/kitti #0",
        "field R0_rect: missing",
    ),
    "labels_inf_location": (
        None,
        _set("objects", "location_m", 2, value=math.inf),  # flat: row 0, z
        "/labels/kitti #1",
        "field objects.location_m[2]: inf is not a finite number",
    ),
    "labels_nan_truncated": (
        None,
        _set("objects", "truncated", 0, value=math.nan),
        "/labels/kitti #1",
        "field objects.truncated[0]: nan is not a finite number",
    ),
    "labels_nan_track_id": (
        None,
        _set("objects", "track_id", 0, value=math.nan),
        "/labels/kitti #1",
        "field objects.track_id[0]: nan is not a finite number",
    ),
    "labels_nan_image_size": (
        None,
        _set("image_size_wh", 1, value=math.nan),
        "/labels/kitti #1",
        "field image_size_wh[1]: nan is not a finite number",
    ),
    "labels_inf_timestamp": (
        None,
        _set("timestamp_ns", value=math.inf),
        "/labels/kitti #1",
        "field timestamp_ns: inf is not a finite number",
    ),
    "labels_negative_timestamp": (
        None,
        _set("timestamp_ns", value=-5),
        "/labels/kitti #1",
        "field timestamp_ns: -5 is negative",
    ),
    "labels_missing_key": (
        None,
        _drop("frame_index"),
        "/labels/kitti #1",
        "field frame_index: missing",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_KITTI))
def test_kitti_channels_with_nan_or_missing_fields_are_replayed_unscored(
    tmp_path: Path, case: str
) -> None:
    """Was: NaN / inf read back, and the replay crashed writing them into its output
    (``ValueError: Out of range float values are not JSON compliant``); a missing key read
    as ``KeyError: 'R0_rect'``."""
    edit_calib, edit_labels, record, what = BAD_KITTI[case]
    log = _tiny_kitti_log(tmp_path / "bad.mcap", edit_calib, edit_labels)
    with pytest.raises(DataError) as caught:
        read_kitti_channels(log)
    assert str(caught.value) == f"{log}: {record}: {what}"
    out = tmp_path / "run.mcap"
    assert main(["replay", str(log), "--stack", str(STACK), "--out", str(out), "--quiet"]) == 1
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["frames_processed"] == 2 and summary["kitti"] is None
    (problem,) = summary["skipped"]
    assert problem["reason"] == f"KITTI labels not scored: {caught.value}"
    assert not summary["clean"]
    assert [m.topic for m in LogReader(out).messages([KITTI_LABELS_TOPIC])] == []


def test_the_tiny_kitti_log_reads_back_whole(tmp_path: Path) -> None:
    """The log the cases above spoil reads back as written (they fail for their edit only)."""
    channels = read_kitti_channels(_tiny_kitti_log(tmp_path / "ok.mcap"))
    assert channels is not None and sorted(channels.labels) == [0, 100_000_000]
    assert channels.labels[100_000_000].rows.location_m.tolist() == [[1.0, 1.5, 10.0]]
    assert channels.calib.R0_rect.tolist() == np.eye(3).tolist()
