"""``SensorFrame.label_ids``: every reader with ground-truth object ids fills them, one per
label box, unique within a frame, and the same object keeps its id across consecutive frames."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from drivestack.eval.detection.datasets import av2_frames, kitti_tracking_frames
from drivestack.ingest.aimotive import (
    list_aimotive_frames,
    read_aimotive_boxes,
    read_aimotive_frame,
)
from drivestack.ingest.argoverse2 import list_av2_sweeps, read_av2_cuboids, read_av2_frame
from drivestack.ingest.kitti_tracking import read_kitti_tracking_frame, read_tracking_labels
from drivestack.ingest.nuscenes import read_nuscenes_frame
from drivestack.ingest.pandaset import list_pandaset_frames, read_cuboids, read_pandaset_frame
from drivestack.structures.sensor_frame import SensorFrame

AIMOTIVE = "aimotive/train/nighttime/20210901-194123-00.37.12-00.37.27@Yoda"
AV2_LOG = "argoverse2/sensor/val/7fab2350-7eaf-3b7e-a39d-6937a4c1bede"
PANDASET = "pandaset/002"
KITTI_TRACKING = "kitti_tracking"


def _check_consecutive(a: SensorFrame, b: SensorFrame, *, min_shared: int) -> None:
    """Both frames' ids are one per box and unique; at least ``min_shared`` ids are in both
    frames, and each such object keeps its class and moves less than 5 m in the ego frame
    (0.1 s apart)."""
    for f in (a, b):
        assert f.labels is not None and f.label_ids is not None
        assert isinstance(f.label_ids, tuple)
        assert len(f.label_ids) == len(f.labels)
        assert len(set(f.label_ids)) == len(f.label_ids), "ids repeat within a frame"
        assert all(isinstance(i, str) and i for i in f.label_ids)
    assert a.labels is not None and b.labels is not None
    assert a.label_ids is not None and b.label_ids is not None
    shared = sorted(set(a.label_ids) & set(b.label_ids))
    assert len(shared) >= min_shared
    ia = [a.label_ids.index(i) for i in shared]
    ib = [b.label_ids.index(i) for i in shared]
    np.testing.assert_array_equal(a.labels.label[ia], b.labels.label[ib])
    moved = np.linalg.norm(a.labels.center_m[ia] - b.labels.center_m[ib], axis=1)
    assert moved.max() < 5.0


@pytest.mark.data
def test_aimotive_ids(shared_data: Path) -> None:
    seq = shared_data / AIMOTIVE
    names = list_aimotive_frames(seq)
    assert len(names) == 50
    a, b = (read_aimotive_frame(seq, n) for n in names[10:12])
    _check_consecutive(a, b, min_shared=5)
    ids = read_aimotive_boxes(seq / "dynamic/box/3d_body" / f"{names[10]}.json")[1]
    assert a.label_ids == tuple(str(int(i)) for i in ids)


@pytest.mark.data
def test_av2_ids(shared_data: Path) -> None:
    log = shared_data / AV2_LOG
    sweeps = list_av2_sweeps(log)
    assert len(sweeps) == 2
    a, b = (read_av2_frame(log, ts) for ts in sweeps)
    _check_consecutive(a, b, min_shared=70)
    cuboids = read_av2_cuboids(log / "annotations.feather").at(sweeps[0])
    assert a.label_ids == tuple(cuboids.track_uuid.tolist())
    # the evaluation's frames without points carry the same ids
    fast = {lf.key: lf.frame for lf in av2_frames(log.parent, load_points=False)}
    assert fast[f"{log.name}/{sweeps[0]}"].label_ids == a.label_ids


@pytest.mark.data
def test_pandaset_ids(shared_data: Path) -> None:
    seq = shared_data / PANDASET
    indices = list_pandaset_frames(seq)
    assert indices == [0, 1, 2, 3]
    frames = [read_pandaset_frame(seq, i) for i in indices]
    for a, b in itertools.pairwise(frames):
        _check_consecutive(a, b, min_shared=85)


@pytest.mark.data
def test_pandaset_ids_follow_the_sensor_filter(shared_data: Path) -> None:
    seq = shared_data / PANDASET
    cuboids = read_cuboids(seq / "annotations/cuboids.parquet")
    for pandar64_only in (True, False):
        frame = read_pandaset_frame(seq, 1, pandar64_only=pandar64_only)
        rows = cuboids.rows(1, pandar64_only=pandar64_only)
        assert frame.labels is not None and frame.label_ids is not None
        assert frame.label_ids == tuple(cuboids.uuid[rows].tolist())
        assert len(frame.label_ids) == len(frame.labels) == len(rows)
        assert len(set(frame.label_ids)) == len(frame.label_ids)
    assert len(cuboids.rows(1, pandar64_only=False)) > len(cuboids.rows(1))


@pytest.mark.data
def test_kitti_tracking_ids(shared_data: Path) -> None:
    root = shared_data / KITTI_TRACKING
    a, b = (read_kitti_tracking_frame(root, "0000", i, load_images=False) for i in (100, 101))
    _check_consecutive(a, b, min_shared=1)
    rows = read_tracking_labels(root / "training/label_02/0000.txt")
    objs = rows.select(np.flatnonzero((rows.frame == 100) & (rows.type_name != "DontCare")))
    assert a.label_ids == tuple(str(int(t)) for t in objs.track_id)
    # the evaluation loader gives the same ids
    for lf in kitti_tracking_frames(root, load_points=False):
        if lf.key == "000100":
            assert lf.frame.label_ids == a.label_ids
            break
    else:
        raise AssertionError("frame 100 not yielded")


@pytest.mark.data
def test_kitti_tracking_ids_drop_dont_care(shared_data: Path) -> None:
    """Frames whose rows include DontCare still give one id per (non-DontCare) box."""
    root = shared_data / KITTI_TRACKING
    rows = read_tracking_labels(root / "training/label_02/0000.txt")
    with_dont_care = sorted(
        int(f) for f in np.unique(rows.frame[rows.type_name == "DontCare"]) if 74 <= f <= 153
    )
    assert with_dont_care
    frame = read_kitti_tracking_frame(root, "0000", with_dont_care[0], load_images=False)
    assert frame.labels is not None and frame.label_ids is not None
    assert len(frame.label_ids) == len(frame.labels)
    assert "-1" not in frame.label_ids


@pytest.mark.data
def test_nuscenes_has_no_ids(shared_data: Path) -> None:
    info = next((shared_data / "nuscenes_samples/mmdet3d_demo").glob("*_info.json"))
    frame = read_nuscenes_frame(info, 0)
    assert frame.labels is not None and len(frame.labels) > 0
    assert frame.label_ids is None


@pytest.mark.data
def test_replay_log_round_trip_keeps_ids(shared_data: Path, tmp_path: Path) -> None:
    """A frame with label ids reads back from the replay log with its labels and the same
    ``label_ids`` (the log format keeps them, for the replay's forecast scoring)."""
    from drivestack.replay.log_format import LogWriter
    from drivestack.replay.log_reader import LogReader

    frame = read_kitti_tracking_frame(shared_data / KITTI_TRACKING, "0000", 100, load_images=False)
    assert frame.labels is not None and frame.label_ids is not None
    path = tmp_path / "ids.mcap"
    with LogWriter(path, config={"source": "test"}) as log:
        log.sensor_frame(frame)
    (back,) = list(LogReader(path).frames())
    assert back.labels is not None and len(back.labels) == len(frame.labels)
    assert back.label_ids == frame.label_ids
