"""Recorded bag -> drivestack log (replay input) -> frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.replay.convert import bag_to_log
from drivestack.replay.log_reader import LogReader


@pytest.mark.data
def test_kitti_bag_converted_to_log_reads_back_identical(tmp_path: Path, shared_data: Path) -> None:
    """ROS 1 bag (real KITTI scans + GT poses) -> drivestack log -> frames: same points and poses."""
    from tests.ingest.rosbag.test_roundtrip_kitti import kitti_drive, write_drive

    drive = kitti_drive(shared_data / "kitti_odometry_00", frames=2)
    bag = tmp_path / "kitti.bag"
    write_drive(bag, "ros1", drive)
    out = tmp_path / "kitti.mcap"
    count, report = bag_to_log(bag, out, progress=False)
    assert count == 2 and report.clean
    reader = LogReader(out)
    assert reader.validate() > 0
    assert reader.run_metadata()["config"]["rosbag"]["topics"]["lidars"] == {
        "velodyne_points": "/velodyne_points"
    }
    frames = list(reader.frames())
    assert len(frames) == 2
    for frame, (stamp, points, world_from_ego) in zip(frames, drive, strict=True):
        assert frame.timestamp_ns == stamp
        assert np.array_equal(frame.lidar("velodyne_points").xyz_m, points[:, :3])
        # (within 1e-6: the pose went through the bag's quaternion; allclose is absolute)
        assert frame.world_from_ego is not None and frame.world_from_ego.allclose(
            world_from_ego, atol=1e-6
        )
    (metrics,) = [m.value for m in reader.messages(["/drivestack/metrics"])]
    assert metrics["scope"] == "ingest" and metrics["metrics"]["frames"] == 2


def test_synthetic_drive_with_camera_and_odometry(tmp_path: Path) -> None:
    from tests.ingest.rosbag.test_reader import SWEEP_NS, T0, write_drive

    bag = tmp_path / "drive"
    write_drive(bag)
    out = tmp_path / "drive.mcap"
    count, report = bag_to_log(bag, out, progress=False)
    assert count == 4 and report.clean, report.summary()
    frames = list(LogReader(out).frames())
    assert [f.timestamp_ns for f in frames] == [T0 + k * SWEEP_NS for k in range(4)]
    for k, frame in enumerate(frames):
        image = frame.cameras["cam_image_raw"]
        assert image.timestamp_ns == frame.timestamp_ns + 10_000_000
        assert image.pixels[0, 0].tolist() == [0, 0, k]
        assert image.calibration.intrinsics[0, 0] == 100.0
        np.testing.assert_allclose(
            frame.ego_from_sensor["cam_image_raw"].translation, [1.0, 0.0, 1.5]
        )
        assert frame.world_from_ego is not None
        np.testing.assert_allclose(frame.world_from_ego.translation, [k * 1.0, 0.0, 0.0])
        # de-skewed in the bag reader: the second point moved from 20 to 20.5 m
        np.testing.assert_allclose(frame.lidar().xyz_m[:, 0], [20.0, 20.5], atol=1e-5)


def test_image_png_cannot_hold_is_rejected_before_writing(tmp_path: Path) -> None:
    from drivestack.core.transforms import SE3
    from drivestack.replay.log_format import LogWriter
    from drivestack.structures.camera import CameraCalibration, CameraImage
    from drivestack.structures.point_cloud import PointCloud
    from drivestack.structures.sensor_frame import SensorFrame

    cal = CameraCalibration("depth", np.eye(3), 4, 3, SE3.identity(), "camera_depth")
    frame = SensorFrame(
        5,
        lidars={"top": PointCloud(np.zeros((1, 3), dtype=np.float32), "ego", 5)},
        cameras={"depth": CameraImage(np.zeros((3, 4), dtype=np.float32), cal, 5)},
    )
    path = tmp_path / "x.mcap"
    with (
        LogWriter(path, config={}) as log,
        pytest.raises(ValueError, match="cannot encode float32"),
    ):
        log.sensor_frame(frame)
    assert [m.topic for m in LogReader(path).messages()] == ["/drivestack/run"]


def test_a_second_lidars_sweep_paired_with_two_frames_is_written_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bag reader pairs each frame with a second LiDAR's nearest sweep, so a slower one's
    sweep can be in two frames; a log has one scan per topic and time: written once."""
    from drivestack.core.transforms import SE3
    from drivestack.ingest.rosbag.bag_io import IngestReport
    from drivestack.ingest.rosbag.topic_map import RosbagConfig
    from drivestack.replay import convert
    from drivestack.structures.point_cloud import PointCloud
    from drivestack.structures.sensor_frame import SensorFrame

    def cloud(t: int, x: float) -> PointCloud:
        return PointCloud(np.full((1, 3), x, dtype=np.float32), "ego", t)

    rear = cloud(100, 9.0)  # a 10 Hz rear LiDAR next to a 20 Hz front one
    frames = [
        SensorFrame(
            t,
            lidars={"front": cloud(t, float(k)), "rear": rear},
            ego_from_sensor={"front": SE3.identity(), "rear": SE3.identity()},
        )
        for k, t in enumerate((100, 150))
    ]

    class _Bag:
        def __init__(self, bag: Path, config: RosbagConfig | None) -> None:
            self.config = RosbagConfig()
            self.topic_map = self.config.topics
            self.report = IngestReport(str(bag))

        def frames(self) -> list[SensorFrame]:
            return frames

    monkeypatch.setattr(convert, "RosbagLog", _Bag)
    count, _ = bag_to_log(tmp_path / "bag", tmp_path / "out.mcap", progress=False)
    assert count == 2
    reader = LogReader(tmp_path / "out.mcap")
    assert [m.log_time_ns for m in reader.messages(["/lidar/rear"])] == [100]
    back = list(reader.frames())
    assert [f.timestamp_ns for f in back] == [100, 150]
    assert sorted(back[0].lidars) == ["front", "rear"] and sorted(back[1].lidars) == ["front"]


def test_a_sweep_the_conversion_dropped_keeps_the_replay_of_the_log_unclean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The conversion's ingest report went only into a metrics message replay never read: the
    # converted log of a bag with an undecodable sweep replayed "clean", exit 0.
    import dataclasses
    import json

    from drivestack.cli import main
    from drivestack.ingest.rosbag.writer import BagWriter, pointcloud2_message
    from tests.ingest.rosbag.test_losses_reported import PC2, SWEEP_NS, T0

    bag = tmp_path / "bag"
    xyz = np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [5.0, 5.0, 1.0]], dtype=np.float32)
    with BagWriter(bag, "mcap") as w:
        for k in range(4):
            msg = pointcloud2_message(
                w.typestore, xyz, {}, frame_id="lidar", stamp_ns=T0 + k * SWEEP_NS
            )
            if k == 2:  # a byte short: does not decode
                msg = dataclasses.replace(msg, data=msg.data[:-1])
            w.write("/points", PC2, T0 + k * SWEEP_NS, msg)
    converted = tmp_path / "converted.mcap"
    from drivestack.ingest.rosbag.topic_map import RosbagConfig, TopicMap

    config = RosbagConfig(topics=TopicMap(lidars={"points": "/points"}), ego_frame="lidar")
    count, report = bag_to_log(bag, converted, config, progress=False)
    assert count == 3 and report.counts() == {"decode": 1, "no_ego_pose": 3}  # (no /tf)
    assert not (tmp_path / "converted.mcap.partial").exists()
    out = tmp_path / "replayed.mcap"
    accepted = ["--missing-ego-pose", "track_in_ego_frame"]  # the frames without a pose
    assert main(["replay", str(converted), "--out", str(out), "--quiet", *accepted]) == 1
    summary = json.loads((tmp_path / "replayed.summary.json").read_text())
    assert summary["clean"] is False and summary["frames_processed"] == 3
    ingest = summary["ingest"]
    assert ingest["counts"] == {"decode": 1, "no_ego_pose": 3}
    assert ingest["recorded_in"] == str(converted)
    entry, no_pose = ingest["skipped"]
    assert no_pose["kept"] and no_pose["dropped"] == 0
    assert entry["reason"].startswith("/points #2: field data:") and entry["dropped"] == 1


def test_a_pose_dropout_in_a_bag_with_poses_is_not_accepted_as_a_bag_without_any(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # --missing-ego-pose track_in_ego_frame accepted every frame kept without a pose: a 1.2 s
    # /tf dropout in a bag that has poses replayed clean, exit 0 (the tracker reset twice).
    # A bag with no pose source at all is what the option accepts (no_ego_pose); a gap in a
    # source is ego_pose_gap, which keeps the run unclean.
    import json

    from drivestack.cli import main
    from drivestack.core.transforms import SE3
    from drivestack.ingest.rosbag.writer import (
        BagWriter,
        pointcloud2_message,
        tf_message,
        transform_stamped,
    )
    from tests.ingest.rosbag.test_losses_reported import PC2, SWEEP_NS, T0, TF

    xyz = np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [5.0, 5.0, 1.0]], dtype=np.float32)
    dropout = range(8, 20)
    for with_tf in (True, False):
        bag = tmp_path / f"bag_{with_tf}"
        with BagWriter(bag, "mcap") as w:
            for k in range(30):
                stamp = T0 + k * SWEEP_NS
                if with_tf and k not in dropout:
                    pose = SE3.from_xyz_yaw([k * 1.0, 0.0, 0.0], 0.0)
                    edge = transform_stamped(w.typestore, stamp, "world", "lidar", pose)
                    w.write("/tf", TF, stamp, tf_message(w.typestore, [edge]))
                cloud = pointcloud2_message(w.typestore, xyz, {}, frame_id="lidar", stamp_ns=stamp)
                w.write("/points", PC2, stamp, cloud)
        out = tmp_path / f"out_{with_tf}.mcap"
        argv = ["replay", str(bag), "--out", str(out), "--quiet", "--ego-frame", "lidar"]
        code = main([*argv, "--missing-ego-pose", "track_in_ego_frame"])
        summary = json.loads(out.with_suffix(".summary.json").read_text())
        counts = summary["ingest"]["counts"]
        if with_tf:  # the frames in the dropout (and those next to it) have no pose: a gap
            assert code == 1 and summary["clean"] is False
            assert set(counts) == {"ego_pose_gap"} and counts["ego_pose_gap"] >= len(dropout) - 2
            assert 'ingest problems: {"ego_pose_gap"' in capsys.readouterr().out
        else:  # no pose source at all: accepted
            assert code == 0 and summary["clean"] is True
            assert counts == {"no_ego_pose": 30}
