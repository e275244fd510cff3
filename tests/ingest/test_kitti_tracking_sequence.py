"""``KittiTrackingSequence``: a sequence opened once gives ``read_kitti_tracking_frame``'s frames
(scan, labels, label ids, calibration, ego pose, camera) and its errors, parsing the label,
calibration and pose files once for the whole walk; real sequence 0000 and crafted ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import drivestack.ingest.kitti_tracking as kt
from drivestack.core.errors import DataError
from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_tracking import (
    KittiTrackingSequence,
    read_kitti_tracking_frame,
    read_tracking_labels,
)
from drivestack.structures.sensor_frame import SensorFrame
from tests.ingest.test_kitti_tracking_frame import (  # the same ideal calibration and scan
    CALIB,
    SCAN,
)

# frame 2 listed before frame 1 and again after it: the rows of a frame keep their file order
LABELS = (
    "2 4 Car 0 0 0.0 500 150 600 250 1.5 1.8 4.0 -2.0 1.65 10.0 -1.5707963\n"
    "1 0 Car 0 0 0.0 500 150 600 250 1.5 1.8 4.0 0.0 1.65 10.0 -1.5707963\n"
    "2 -1 DontCare -1 -1 -10 1 2 3 4 -1 -1 -1 -1000 -1000 -1000 -10\n"
    "2 1 Pedestrian 0 0 0.0 400 150 450 250 1.7 0.6 0.8 3.0 1.65 20.0 0.0\n"
)


def _pose_line(tx_m: float) -> str:
    """Camera -> world pose: a small turn about y, moved ``tx_m`` along camera z (forward)."""
    c, s = np.cos(0.1 * tx_m), np.sin(0.1 * tx_m)
    return f"{c} 0 {s} 0 0 1 0 0 {-s} 0 {c} {tx_m}\n"


def _root(tmp_path: Path, *, frames: tuple[int, ...] = (1, 2, 5), seq: str = "0003") -> Path:
    """A sequence with a calibration, labels, poses of frames 0..5 and ``.bin`` scans."""
    base = tmp_path / "training"
    (base / "calib").mkdir(parents=True)
    (base / "calib" / f"{seq}.txt").write_text(CALIB)
    (base / "label_02").mkdir()
    (base / "label_02" / f"{seq}.txt").write_text(LABELS)
    (base / "ego_poses_orbslam3_stereo").mkdir()
    poses = "".join(_pose_line(float(i)) for i in range(6))
    (base / "ego_poses_orbslam3_stereo" / f"{seq}.txt").write_text(poses)
    (base / "velodyne" / seq).mkdir(parents=True)
    for i, f in enumerate(frames):
        scan = SCAN.copy()
        scan[:, :3] *= np.float32(1 + i)  # frames told apart by their points; reflectance <= 1
        scan.tofile(base / "velodyne" / seq / f"{f:06d}.bin")
    return tmp_path


def assert_same_frame(a: SensorFrame, b: SensorFrame) -> None:
    """Bit-equal clouds, labels, label ids, poses, cameras and metadata."""
    assert (a.timestamp_ns, a.source, a.label_ids) == (b.timestamp_ns, b.source, b.label_ids)
    assert a.lidars.keys() == b.lidars.keys()
    for name in a.lidars:
        ca, cb = a.lidars[name], b.lidars[name]
        assert (ca.frame, ca.timestamp_ns) == (cb.frame, cb.timestamp_ns)
        np.testing.assert_array_equal(ca.xyz_m, cb.xyz_m)
        assert ca.attributes.keys() == cb.attributes.keys()
        for key in ca.attributes:
            np.testing.assert_array_equal(ca.attributes[key], cb.attributes[key])
    assert a.ego_from_sensor.keys() == b.ego_from_sensor.keys()
    for name in a.ego_from_sensor:
        np.testing.assert_array_equal(
            a.ego_from_sensor[name].as_matrix(), b.ego_from_sensor[name].as_matrix()
        )
    if a.world_from_ego is None or b.world_from_ego is None:
        assert a.world_from_ego is None and b.world_from_ego is None
    else:
        np.testing.assert_array_equal(a.world_from_ego.as_matrix(), b.world_from_ego.as_matrix())
    if a.labels is None or b.labels is None:
        assert a.labels is None and b.labels is None
    else:
        assert (a.labels.frame, a.labels.timestamp_ns) == (b.labels.frame, b.labels.timestamp_ns)
        for attr in ("center_m", "size_m", "yaw_rad", "score", "label", "velocity_mps"):
            np.testing.assert_array_equal(getattr(a.labels, attr), getattr(b.labels, attr))
    assert a.cameras.keys() == b.cameras.keys()
    for name in a.cameras:
        ia, ib = a.cameras[name], b.cameras[name]
        np.testing.assert_array_equal(ia.pixels, ib.pixels)
        assert ia.timestamp_ns == ib.timestamp_ns
        np.testing.assert_array_equal(ia.calibration.intrinsics, ib.calibration.intrinsics)
        np.testing.assert_array_equal(
            ia.calibration.camera_from_ego.as_matrix(), ib.calibration.camera_from_ego.as_matrix()
        )


def _same_error(a: pytest.ExceptionInfo[DataError], b: pytest.ExceptionInfo[DataError]) -> None:
    assert (str(a.value), a.value.path, a.value.record, a.value.field) == (
        str(b.value),
        b.value.path,
        b.value.record,
        b.value.field,
    )


# -- crafted sequences ------------------------------------------------------------------------
def test_frames_of_an_opened_sequence_are_the_per_frame_readers(tmp_path: Path) -> None:
    root = _root(tmp_path)
    image_dir = root / "training/image_02/0003"
    image_dir.mkdir(parents=True)
    pixels = np.random.default_rng(0).integers(0, 255, (36, 120, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(image_dir / "000002.png")
    seq = KittiTrackingSequence(root, 3)
    assert seq.name == "0003" and seq.frame_indices() == [1, 2, 5]
    frames = list(seq.frames())
    assert [f.timestamp_ns for f in frames] == [100_000_000, 200_000_000, 500_000_000]
    for index, frame in zip((1, 2, 5), frames, strict=True):
        assert_same_frame(frame, read_kitti_tracking_frame(root, "0003", index))
    assert list(frames[1].cameras) == ["image_02"]  # the image of frame 2 was read
    assert frames[1].label_ids == ("4", "1")  # file order, DontCare dropped
    assert frames[2].labels is not None and len(frames[2].labels) == 0  # no rows of frame 5
    assert frames[2].label_ids == ()
    # frames asked for by index
    assert_same_frame(
        next(seq.frames([2], load_images=False)),
        read_kitti_tracking_frame(root, "0003", 2, load_images=False),
    )
    assert dict(next(seq.frames([2], load_images=False)).cameras) == {}


def test_frame_rows_keep_file_order_and_dont_care(tmp_path: Path) -> None:
    seq = KittiTrackingSequence(_root(tmp_path), "0003")
    rows = seq.frame_rows(2)
    assert list(rows.type_name) == ["Car", "DontCare", "Pedestrian"]
    assert list(rows.track_id) == [4, -1, 1]
    everything = read_tracking_labels(seq.label_path)
    expected = everything.select(np.flatnonzero(everything.frame == 2))
    np.testing.assert_array_equal(rows.location_m, expected.location_m)
    assert len(seq.frame_rows(5)) == 0 and len(seq.frame_rows(-1)) == 0
    labels, ids = seq.frame_labels(2)
    assert labels is not None and len(labels) == 2 and ids == ("4", "1")


def test_walking_a_sequence_parses_each_sequence_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _root(tmp_path)
    calls = {"calib": 0, "labels": 0, "poses": 0}

    def counting(name: str, reader: Callable[[str | Path], Any]) -> Callable[[str | Path], Any]:
        def wrapper(path: str | Path) -> Any:
            calls[name] += 1
            return reader(path)

        return wrapper

    monkeypatch.setattr(kt, "read_kitti_calib", counting("calib", kt.read_kitti_calib))
    monkeypatch.setattr(kt, "read_tracking_labels", counting("labels", kt.read_tracking_labels))
    monkeypatch.setattr(kt, "read_ego_poses", counting("poses", kt.read_ego_poses))
    frames = list(KittiTrackingSequence(root, "0003").frames(load_images=False))
    assert len(frames) == 3 and calls == {"calib": 1, "labels": 1, "poses": 1}
    read_kitti_tracking_frame(root, "0003", 1)  # the per-frame reader reads them all again
    assert calls == {"calib": 2, "labels": 2, "poses": 2}


def test_sequence_without_label_or_pose_file_has_none(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / "training/label_02/0003.txt").unlink()
    (root / "training/ego_poses_orbslam3_stereo/0003.txt").unlink()
    seq = KittiTrackingSequence(root, "0003")
    assert not seq.has_labels and seq.camera_poses is None
    frame = seq.frame(2)
    assert frame.labels is None and frame.label_ids is None and frame.world_from_ego is None
    assert_same_frame(frame, read_kitti_tracking_frame(root, "0003", 2))
    with pytest.raises(DataError, match="file not found") as err:
        seq.frame_rows(2)
    assert err.value.path == str(root / "training/label_02/0003.txt")


def test_malformed_label_line_names_file_line_and_field(tmp_path: Path) -> None:
    root = _root(tmp_path)
    bad = LABELS.splitlines(keepends=True)
    bad[2] = bad[2].replace("-1000 -1000 -1000", "-1000 oops -1000")
    (root / "training/label_02/0003.txt").write_text("".join(bad))
    seq = KittiTrackingSequence(root, "0003")
    with pytest.raises(DataError) as from_seq:
        seq.frame(1)
    with pytest.raises(DataError) as from_reader:
        read_kitti_tracking_frame(root, "0003", 1)
    _same_error(from_seq, from_reader)
    assert from_seq.value.path == str(root / "training/label_02/0003.txt")
    assert from_seq.value.record == "line 3" and from_seq.value.field == "y"
    with pytest.raises(DataError, match="line 3"):  # a failed read is not kept: it raises again
        seq.frame(2)


def test_pose_file_without_the_frame_and_malformed_pose_line(tmp_path: Path) -> None:
    root = _root(tmp_path)
    path = root / "training/ego_poses_orbslam3_stereo/0003.txt"
    path.write_text(_pose_line(0.0) + _pose_line(1.0) + _pose_line(2.0))
    seq = KittiTrackingSequence(root, "0003")
    assert seq.frame(2).world_from_ego is not None
    with pytest.raises(DataError, match="frames 0-2") as from_seq:
        seq.frame(5)
    with pytest.raises(DataError) as from_reader:
        read_kitti_tracking_frame(root, "0003", 5)
    _same_error(from_seq, from_reader)
    assert from_seq.value.path == str(path) and from_seq.value.record == "line 6"
    path.write_text(_pose_line(0.0) + "1 0 0 0 x 1 0 0 0 0 1 0\n")
    with pytest.raises(DataError, match="not a number: 'x'") as err:
        KittiTrackingSequence(root, "0003").frame(1)
    assert err.value.path == str(path) and err.value.record == "line 2"


def test_missing_scan_is_named_before_a_missing_calibration(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / "training/calib/0003.txt").unlink()
    seq = KittiTrackingSequence(root, "0003")
    with pytest.raises(DataError, match=r"frames 1-2, 5 \(3 scans\)") as from_seq:
        seq.frame(3)
    with pytest.raises(DataError) as from_reader:
        read_kitti_tracking_frame(root, "0003", 3)
    _same_error(from_seq, from_reader)
    with pytest.raises(DataError) as err:
        seq.frame(2)
    assert err.value.path == str(root / "training/calib/0003.txt")
    with pytest.raises(DataError, match="sequences with scans: none"):
        KittiTrackingSequence(tmp_path / "elsewhere", "0003").frame(0)
    assert KittiTrackingSequence(tmp_path / "elsewhere", "0003").frame_indices() == []


# -- the real sequence 0000 -------------------------------------------------------------------
@pytest.mark.data
def test_real_sequence_0000_frames_equal_the_per_frame_reader(shared_data: Path) -> None:
    root = shared_data / "kitti_tracking"
    seq = KittiTrackingSequence(root, "0000")
    assert seq.frame_indices() == list(range(74, 154))
    calib = read_kitti_calib(root / "training/calib/0000.txt")
    for key in calib.P:
        np.testing.assert_array_equal(seq.calib.P[key], calib.P[key])
    np.testing.assert_array_equal(seq.calib.R0_rect, calib.R0_rect)
    np.testing.assert_array_equal(seq.calib.Tr_velo_to_cam, calib.Tr_velo_to_cam)
    indices = [74, 100, 120, 153]
    for index, frame in zip(indices, seq.frames(indices, load_images=False), strict=True):
        expected = read_kitti_tracking_frame(root, "0000", index, load_images=False)
        assert_same_frame(frame, expected)
        assert frame.labels is not None and len(frame.labels) > 0
        assert frame.world_from_ego is not None
    # with images (whatever image_02 the shared copy holds of the frame)
    assert_same_frame(seq.frame(120), read_kitti_tracking_frame(root, "0000", 120))
    with pytest.raises(DataError, match=r"frames 74-153 \(80 scans\)") as err:
        seq.frame(10)
    assert err.value.path == str(root / "training/velodyne_pcd_xz/0000/000010.pcd.xz")


def test_an_empty_pose_file_is_named_as_holding_no_pose(tmp_path: Path) -> None:
    seq = KittiTrackingSequence(tmp_path, "0003")
    seq.pose_path.parent.mkdir(parents=True)
    seq.pose_path.write_text("")
    with pytest.raises(DataError, match="no ego pose for frame 2: the file has no pose"):
        seq.world_from_lidar(2)
