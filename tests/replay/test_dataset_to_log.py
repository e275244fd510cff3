"""Datasets as drivestack logs (tools/dataset_to_log.py, tools/kitti_tracking_to_log.py): the
frames read back as the ingest reader gives them (clouds, labels with their ids, ego poses),
frame ranges are all there or refused, the KITTI converter reads every scan layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.replay.dataset_log import (
    NO_EGO_POSE_NOTE,
    LogWritten,
    dataset_to_log,
    select_frames,
    source_dataset,
)
from drivestack.replay.log_reader import LogReader
from tests.replay._tools import load_tool

AV2_LOG = "argoverse2/sensor/val/7fab2350-7eaf-3b7e-a39d-6937a4c1bede"
AIMOTIVE = "aimotive/train/nighttime/20210901-194123-00.37.12-00.37.27@Yoda"


@pytest.mark.parametrize(
    ("first", "last", "positions"),
    [
        (2, 3, [2, 3]),
        (None, 2, [0, 1, 2]),
        (9, None, [5, 6]),
        (7, 7, [4]),
    ],
)
def test_select_frames_takes_ranges_that_are_all_there(
    first: int | None, last: int | None, positions: list[int]
) -> None:
    numbers = [0, 1, 2, 3, 7, 9, 10]
    assert select_frames(numbers, first, last, what="sequence x", path="p") == positions


def test_select_frames_default_range_is_every_frame_without_a_gap() -> None:
    assert select_frames([4, 5, 6], None, None, what="x", path="p") == [0, 1, 2]


@pytest.mark.parametrize(
    ("first", "last"), [(3, 7), (8, 8), (9, 11), (None, 12), (11, None), (None, None)]
)
def test_select_frames_refuses_a_range_with_a_frame_missing(
    first: int | None, last: int | None
) -> None:
    with pytest.raises(DataError) as err:
        select_frames([0, 1, 2, 3, 7, 9, 10], first, last, what="sequence x", path="p")
    assert "sequence x has frames 0-3, 7, 9-10 (7 frames;" in str(err.value)
    assert str(err.value).startswith("p: frames ")


def test_source_dataset_reads_the_command_that_wrote_the_log() -> None:
    assert source_dataset({"command": "kitti_tracking_to_log", "config": {}}) == "kitti-tracking"
    assert source_dataset({"command": "dataset_to_log", "config": {"dataset": "av2"}}) == "av2"
    assert source_dataset({"command": "drivestack.sim.record.write_sim_log"}) == "sim"
    # a converted bag, a replay's output, one's own script: nothing known
    assert source_dataset({"command": "bag_to_log", "config": {"rosbag": {}}}) is None
    assert source_dataset({"command": "drivestack replay x.mcap --out y.mcap"}) is None
    assert source_dataset({"command": "dataset_to_log", "config": None}) is None
    assert source_dataset({}) is None


def test_log_written_notes_say_what_a_replay_needs() -> None:
    assert LogWritten(3, 0, 2, 3, 3, 0).notes() == []
    assert LogWritten(3, 0, 2, 3, 3, 3).notes() == [f"note: {NO_EGO_POSE_NOTE}"]
    assert LogWritten(3, 0, 2, 3, 3, 1).notes() == [f"note: 1 of {NO_EGO_POSE_NOTE}"]
    (note,) = LogWritten(1, 0, 0, 1, 0, 0).notes()
    assert "no track ids" in note


def _same_frames(log: Path, expected: list) -> None:
    """The log's frames hold the reader's clouds, labels (ids too) and ego poses."""
    frames = list(LogReader(log).frames())
    assert len(frames) == len(expected)
    for got, want in zip(frames, expected, strict=True):
        assert got.timestamp_ns == want.timestamp_ns
        np.testing.assert_array_equal(got.lidar().xyz_m, want.lidar().xyz_m)
        assert got.labels is not None and want.labels is not None
        assert got.labels.frame == want.labels.frame
        np.testing.assert_allclose(got.labels.center_m, want.labels.center_m, atol=1e-9)
        assert got.label_ids == want.label_ids
        if want.world_from_ego is None:
            assert got.world_from_ego is None
        else:
            np.testing.assert_allclose(
                got.world_from_ego.as_matrix(), want.world_from_ego.as_matrix(), atol=1e-6
            )


@pytest.mark.data
def test_pandaset_and_av2_logs_hold_the_readers_frames(shared_data: Path, tmp_path: Path) -> None:
    from drivestack.ingest import list_av2_sweeps, read_av2_frame, read_pandaset_frame

    seq = shared_data / "pandaset" / "002"
    written = dataset_to_log("pandaset", seq, tmp_path / "p.mcap", first_frame=1, last_frame=2)
    assert (written.frames, written.first, written.last) == (2, 1, 2)
    assert written.notes() == []  # poses and uuids
    _same_frames(tmp_path / "p.mcap", [read_pandaset_frame(seq, 1), read_pandaset_frame(seq, 2)])
    run = LogReader(tmp_path / "p.mcap").run_metadata()
    assert source_dataset(run) == "pandaset" and run["config"]["frames"] == [1, 2]

    log = shared_data / AV2_LOG
    dataset_to_log("av2", log, tmp_path / "a.mcap")
    _same_frames(tmp_path / "a.mcap", [read_av2_frame(log, t) for t in list_av2_sweeps(log)])


@pytest.mark.data
def test_aimotive_log_keeps_ids_and_notes_the_missing_ego_pose(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from drivestack.ingest import list_aimotive_frames, read_aimotive_frame

    seq = shared_data / AIMOTIVE
    tool = load_tool("dataset_to_log")
    out = tmp_path / "new" / "aim.mcap"
    argv = ["--dataset", "aimotive", "--root", str(seq), "--out", str(out)]
    assert tool.main([*argv, "--first-frame", "0", "--last-frame", "1"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote 2 frames of aimotive {seq.name} (frames 0-1) to {out}" in printed
    assert "--missing-ego-pose track_in_ego_frame" in printed
    names = list_aimotive_frames(seq)[:2]
    _same_frames(out, [read_aimotive_frame(seq, n) for n in names])


@pytest.mark.data
def test_dataset_to_log_refuses_bad_roots_and_ranges(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool = load_tool("dataset_to_log")
    out = tmp_path / "new" / "x.mcap"

    def refused(*argv: str) -> str:
        assert tool.main([*argv, "--out", str(out)]) == 2
        assert not out.parent.exists()  # nothing written, no folder left
        return capsys.readouterr().err

    err = refused("--dataset", "av2", "--root", str(shared_data / "argoverse2/sensor/val"))
    assert "not an Argoverse 2 log folder" in err and "7fab2350-7eaf" in err
    err = refused(
        "--dataset", "pandaset", "--root", str(shared_data / "pandaset/002"), "--last-frame", "9"
    )
    assert "frames 0-9 asked, but sequence 002 has frames 0-3 (4 frames; 4 of" in err
    err = refused("--dataset", "pandaset", "--root", str(tmp_path / "nope"))
    assert "no such file or folder" in err
    nus = shared_data / "nuscenes_samples" / "mmdet3d_demo"
    assert tool.main(["--dataset", "nuscenes", "--root", str(nus), "--out", str(out)]) == 0
    assert "no track ids" in capsys.readouterr().out
    assert len(list(LogReader(out).frames())) == 1


@pytest.mark.data
def test_kitti_converter_reads_kittis_own_velodyne_bin_layout(
    shared_data: Path, tmp_path: Path
) -> None:
    from drivestack.ingest.kitti_tracking import kitti_tracking_scan_path, read_kitti_tracking_scan

    shared = shared_data / "kitti_tracking"
    root = tmp_path / "kitti"
    (root / "training" / "velodyne" / "0000").mkdir(parents=True)
    for folder in ("calib", "label_02", "ego_poses_orbslam3_stereo"):
        (root / "training" / folder).symlink_to(shared / "training" / folder)
    for index in (74, 75, 76):  # the official layout: float32 x y z reflectance
        cloud = read_kitti_tracking_scan(kitti_tracking_scan_path(shared, "0000", index))
        rows = np.column_stack([cloud.xyz_m, cloud.attributes["intensity"]]).astype("<f4")
        rows.tofile(root / "training" / "velodyne" / "0000" / f"{index:06d}.bin")
    tool = load_tool("kitti_tracking_to_log")
    assert tool.main(["--root", str(root), "--out", str(tmp_path / "bin.mcap")]) == 0
    assert (
        tool.main(
            ["--out", str(tmp_path / "pcd.mcap"), "--first-frame", "74", "--last-frame", "76"]
        )
        == 0
    )
    from_bin = list(LogReader(tmp_path / "bin.mcap").frames())
    from_pcd = list(LogReader(tmp_path / "pcd.mcap").frames())
    assert (
        [f.timestamp_ns for f in from_bin]
        == [f.timestamp_ns for f in from_pcd]
        == [
            7_400_000_000,
            7_500_000_000,
            7_600_000_000,
        ]
    )
    for a, b in zip(from_bin, from_pcd, strict=True):
        np.testing.assert_array_equal(a.lidar().xyz_m, b.lidar().xyz_m)
        assert a.label_ids == b.label_ids


def test_kitti_converter_names_the_scan_folders_it_looked_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool = load_tool("kitti_tracking_to_log")
    assert tool.main(["--root", str(tmp_path), "--out", str(tmp_path / "k.mcap")]) == 2
    err = capsys.readouterr().err
    assert "no scans of sequence 0000 in velodyne/0000/, velodyne_pcd_xz/0000/" in err
