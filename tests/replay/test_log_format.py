"""drivestack log (MCAP + Foxglove JSON schemas): write, read back with ``mcap``, validate, round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.replay.log_format import (
    CompressedImageData,
    FrameTransform,
    LogWriter,
    point_cloud_message,
)
from drivestack.replay.log_reader import LogReader
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.tracks import Tracks
from drivestack.structures.trajectory import Trajectory

T = 1_700_000_000_123_456_789


def sample_values() -> dict[str, object]:
    rng = np.random.default_rng(7)
    cloud = PointCloud(
        rng.normal(size=(50, 3)).astype(np.float32),
        "lidar",
        T,
        {
            "intensity": rng.random(50).astype(np.float32),
            "ring": rng.integers(0, 32, 50).astype(np.uint16),
            "time_offset_ns": rng.integers(0, 100_000_000, 50).astype(np.int64),
        },
    )
    boxes = Boxes3D(
        rng.normal(size=(3, 3)) * 10,
        rng.random((3, 3)) * 4 + 0.5,
        np.array([0.1, -2.0, 3.0]),
        "ego",
        T,
        score=np.array([0.9, 0.5, 0.25]),
        label=np.array([1, 2, 3]),
        velocity_mps=rng.normal(size=(3, 2)),
    )
    tracks = Tracks(
        np.array([7, 11, 42]),
        boxes,
        age=np.array([3, 1, 9]),
        hits=np.array([3, 1, 8]),
        time_since_update=np.array([0, 0, 1]),
    )
    n = 5
    traj = Trajectory(
        T + np.arange(n, dtype=np.int64) * 100_000_000,
        np.linspace(0, 4, n) / 3,
        np.linspace(0, 1, n) / 7,
        np.full(n, 0.1),
        np.full(n, 5.5),
        np.zeros(n),
        np.full(n, 0.01),
    )
    pose = SE3.from_xyz_yaw([10.0, -3.0, 0.5], 0.7)
    return {"cloud": cloud, "boxes": boxes, "tracks": tracks, "trajectory": traj, "pose": pose}


def write_sample(path: Path) -> dict[str, object]:
    v = sample_values()
    with LogWriter(
        path, config={"tracker": {"max_age": 3}}, command="pytest", inputs=["in.bag"]
    ) as log:
        log.transforms("/tf", T, [FrameTransform(T, "world", "ego", v["pose"])])  # type: ignore[arg-type]
        log.point_cloud("/lidar/top", v["cloud"])  # type: ignore[arg-type]
        log.boxes("/perception/detections", v["boxes"])  # type: ignore[arg-type]
        log.tracks("/tracking/tracks", v["tracks"])  # type: ignore[arg-type]
        log.trajectory("/planning/trajectory", v["trajectory"], T)  # type: ignore[arg-type]
        log.compressed_image(
            "/camera/front", CompressedImageData(T, "camera_front", b"\xff\xd8fakejpeg", "jpeg")
        )
        log.metrics("/drivestack/metrics", T, {"detections": 3, "step_ms": 1.25})
    return v


def test_mcap_library_reads_the_log_and_schemas_validate(tmp_path: Path) -> None:
    from mcap.reader import make_reader

    path = tmp_path / "run.mcap"
    write_sample(path)
    with path.open("rb") as f:
        reader = make_reader(f)
        summary = reader.get_summary()
        assert summary is not None
        schemas = {s.name: s for s in summary.schemas.values()}
        assert {
            "foxglove.PointCloud",
            "foxglove.SceneUpdate",
            "foxglove.FrameTransforms",
            "foxglove.CompressedImage",
            "drivestack.Metrics",
            "drivestack.RunMetadata",
        } <= set(schemas)
        assert all(s.encoding == "jsonschema" for s in schemas.values())
        assert {c.message_encoding for c in summary.channels.values()} == {"json"}
        meta = {m.name: m.metadata for m in reader.iter_metadata()}
    assert json.loads(meta["drivestack"]["config"]) == {"tracker": {"max_age": 3}}
    assert LogReader(path).validate() == 8


def test_round_trip_values(tmp_path: Path) -> None:
    path = tmp_path / "run.mcap"
    v = write_sample(path)
    reader = LogReader(path)
    got = {m.topic: m.value for m in reader.messages()}
    assert reader.run_metadata()["config"] == {"tracker": {"max_age": 3}}
    cloud, back = v["cloud"], got["/lidar/top"]
    assert isinstance(back, PointCloud) and isinstance(cloud, PointCloud)
    assert back.timestamp_ns == T and back.frame == "lidar"
    assert np.array_equal(back.xyz_m, cloud.xyz_m) and back.xyz_m.dtype == np.float32
    for name, values in cloud.attributes.items():
        assert (
            np.array_equal(back.attributes[name], values)
            and back.attributes[name].dtype == values.dtype
        )
    boxes, b = v["boxes"], got["/perception/detections"]
    assert isinstance(b, Boxes3D) and isinstance(boxes, Boxes3D)
    np.testing.assert_allclose(b.center_m, boxes.center_m, atol=1e-12)
    assert np.array_equal(b.size_m, boxes.size_m) and np.array_equal(b.yaw_rad, boxes.yaw_rad)
    assert np.array_equal(b.score, boxes.score) and np.array_equal(b.label, boxes.label)
    assert np.array_equal(b.velocity_mps, boxes.velocity_mps)
    tracks, t = v["tracks"], got["/tracking/tracks"]
    assert isinstance(t, Tracks) and isinstance(tracks, Tracks)
    assert t.track_id.tolist() == [7, 11, 42] and t.age.tolist() == [3, 1, 9]
    assert t.time_since_update.tolist() == [0, 0, 1]
    traj, tr = v["trajectory"], got["/planning/trajectory"]
    assert isinstance(tr, Trajectory) and isinstance(traj, Trajectory)
    for f in ("timestamp_ns", "x_m", "y_m", "yaw_rad", "speed_mps", "curvature_1pm"):
        assert np.array_equal(getattr(tr, f), getattr(traj, f))
    tf = got["/tf"][0]  # type: ignore[index]
    assert (tf.parent, tf.child, tf.timestamp_ns) == ("world", "ego", T)
    assert tf.parent_from_child.allclose(v["pose"], atol=1e-12)  # type: ignore[arg-type]
    assert got["/camera/front"].data == b"\xff\xd8fakejpeg"  # type: ignore[union-attr]
    assert got["/drivestack/metrics"]["metrics"] == {"detections": 3, "step_ms": 1.25}  # type: ignore[index]


def test_validation_names_topic_and_field_of_a_bad_message(tmp_path: Path) -> None:
    path = tmp_path / "bad.mcap"
    with LogWriter(path, config={}) as log:
        log.write(
            "/lidar/top",
            "foxglove.PointCloud",
            T,
            {
                **point_cloud_message(PointCloud(np.zeros((1, 3), np.float32), "lidar", T)),
                "timestamp": {"sec": 1, "nsec": 2_000_000_000},
            },
        )
    with pytest.raises(DataError, match=r"/lidar/top #0: field timestamp/nsec"):
        LogReader(path).validate()


def test_truncated_log_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "run.mcap"
    write_sample(path)
    data = path.read_bytes()
    cut = tmp_path / "cut.mcap"
    summary_start = int.from_bytes(data[-28:-20], "little")  # (the footer's first field)
    cut.write_bytes(data[: summary_start // 2])  # inside the data section
    with pytest.raises(DataError, match=r"cut\.mcap"):
        list(LogReader(cut).messages())
    # cut after the data section: every message read, the lost index said in a warning
    whole = list(LogReader(path).messages())
    summary_cut = tmp_path / "summary_cut.mcap"
    summary_cut.write_bytes(data[:-30])
    with pytest.warns(UserWarning, match=r"summary_cut\.mcap: the summary section after the"):
        assert len(list(LogReader(summary_cut).messages())) == len(whole)


def test_sensor_frames_round_trip_as_replay_input(tmp_path: Path) -> None:
    from drivestack.structures.camera import CameraCalibration, CameraImage
    from drivestack.structures.sensor_frame import SensorFrame

    rng = np.random.default_rng(3)
    mount = SE3.from_xyz_yaw([1.2, 0.0, 1.7], 0.02)
    # camera: x right, y down, z forward, 1.5 m up, looking along ego +x
    cam_rot = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
    calibration = CameraCalibration(
        "front",
        np.array([[700.0, 0.0, 8.0], [0.0, 710.0, 6.0], [0.0, 0.0, 1.0]]),
        16,
        12,
        SE3(cam_rot, -cam_rot @ np.array([1.0, 0.0, 1.5])),
        "camera_front",
        np.array([0.1, -0.05, 0.001, 0.002, 0.0]),
    )
    frames = []
    for k in range(3):
        t = T + k * 100_000_000
        cloud = PointCloud(
            rng.normal(size=(100, 3)).astype(np.float32),
            "velodyne",
            t,
            {"intensity": rng.random(100).astype(np.float32)},
        )
        labels = Boxes3D(
            rng.normal(size=(2, 3)),
            np.ones((2, 3)),
            np.array([0.5, -0.5]),
            "ego",
            t,
            score=np.ones(2),
            label=np.array([1, 2]),
        )
        image = CameraImage(
            rng.integers(0, 255, (12, 16, 3), dtype=np.uint8), calibration, t + 20_000_000
        )
        frames.append(
            SensorFrame(
                t,
                lidars={"top": cloud},
                cameras={"front": image},
                ego_from_sensor={"top": mount, "front": calibration.camera_from_ego.inverse()},
                world_from_ego=SE3.from_xyz_yaw([k * 1.0, 0.5 * k, 0.0], 0.1 * k),
                labels=labels,
            )
        )
    path = tmp_path / "drive.mcap"
    with LogWriter(path, config={"source": "test"}) as log:
        for f in frames:
            log.sensor_frame(f)
    reader = LogReader(path)
    assert reader.validate() > 0
    back = list(reader.frames())
    assert [f.timestamp_ns for f in back] == [f.timestamp_ns for f in frames]
    for a, b in zip(frames, back, strict=True):
        assert np.array_equal(b.lidar("top").xyz_m, a.lidar("top").xyz_m)
        img_a, img_b = a.cameras["front"], b.cameras["front"]
        assert img_b.timestamp_ns == img_a.timestamp_ns
        assert np.array_equal(img_b.pixels, img_a.pixels)  # PNG: lossless
        cal_b = img_b.calibration
        assert np.array_equal(cal_b.intrinsics, calibration.intrinsics)
        assert np.array_equal(cal_b.distortion, calibration.distortion)
        assert cal_b.camera_from_ego.allclose(calibration.camera_from_ego, atol=1e-12)
        assert np.array_equal(
            b.lidar("top").attribute("intensity"), a.lidar("top").attribute("intensity")
        )
        assert b.world_from_ego is not None and b.world_from_ego.allclose(
            a.world_from_ego, atol=1e-12
        )  # type: ignore[arg-type]
        assert b.ego_from_sensor["top"].allclose(mount, atol=1e-12)
        assert b.labels is not None and np.array_equal(b.labels.label, a.labels.label)  # type: ignore[union-attr]
        np.testing.assert_allclose(b.labels.center_m, a.labels.center_m, atol=1e-12)  # type: ignore[union-attr]
    assert all(not f.cameras for f in reader.frames(camera_tolerance_ns=10_000_000))


def test_a_log_cut_short_replays_up_to_the_cut(tmp_path: Path) -> None:
    """A recording cut short (no summary, a chunk broken off): every frame whose messages lie
    before the cut is read back as written, then TruncatedLogError says where it stopped."""
    from drivestack.replay.log_reader import TruncatedLogError
    from drivestack.structures.sensor_frame import SensorFrame

    rng = np.random.default_rng(5)
    mount = SE3.from_xyz_yaw([1.0, 0.0, 1.8], 0.0)
    frames = []
    for k in range(12):  # ~0.5 MB of points a frame: several 1 MiB chunks
        t = T + k * 100_000_000
        cloud = PointCloud(rng.normal(size=(40_000, 3)).astype(np.float32), "velodyne", t)
        frames.append(
            SensorFrame(
                t,
                lidars={"top": cloud},
                ego_from_sensor={"top": mount},
                world_from_ego=SE3.from_xyz_yaw([k * 1.0, 0.0, 0.0], 0.0),
            )
        )
    path = tmp_path / "drive.mcap"
    with LogWriter(path, config={"source": "test"}, compression="none") as log:
        for f in frames:
            log.sensor_frame(f)
    data = path.read_bytes()
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    reader = LogReader(cut)
    assert "/lidar/top" in reader.topics()  # from the channels declared before the cut
    back: list[SensorFrame] = []
    with pytest.raises(TruncatedLogError, match=r"cut\.mcap: truncated or corrupt MCAP"):
        for frame in reader.frames():
            back.append(frame)
    assert 3 <= len(back) < len(frames)
    for a, b in zip(frames, back, strict=False):
        assert b.timestamp_ns == a.timestamp_ns
        assert np.array_equal(b.lidar("top").xyz_m, a.lidar("top").xyz_m)
        assert b.world_from_ego is not None and b.world_from_ego.allclose(a.world_from_ego)  # type: ignore[arg-type]


def test_the_run_record_is_stamped_at_the_first_message(tmp_path: Path) -> None:
    """A viewer's timeline starts at the recording (not at 1970); a log of no message still
    has its run record (at time 0); the run record names the git commit."""
    from mcap.reader import make_reader

    from drivestack.core.provenance import git_commit

    path = tmp_path / "run.mcap"
    with LogWriter(path, config={"a": 1}, command="test") as writer:
        writer.write(
            "/x", "drivestack.Metrics", T, {"timestamp_ns": T, "scope": "s", "metrics": {}}
        )
        writer.write(
            "/x", "drivestack.Metrics", T + 5, {"timestamp_ns": T, "scope": "s", "metrics": {}}
        )
    with path.open("rb") as stream:
        stats = make_reader(stream).get_summary().statistics
    assert stats.message_start_time == T and stats.message_end_time == T + 5
    reader = LogReader(path)
    times = [(m.topic, m.log_time_ns) for m in reader.messages()]
    assert times == [("/drivestack/run", T), ("/x", T), ("/x", T + 5)]
    run = reader.run_metadata()
    # (no git_commit key outside a git checkout: the schema's field is a string)
    assert run["config"] == {"a": 1} and run.get("git_commit") == git_commit()
    assert reader.validate() == 3

    empty = tmp_path / "empty.mcap"
    with LogWriter(empty, config={}):
        pass
    assert [(m.topic, m.log_time_ns) for m in LogReader(empty).messages()] == [
        ("/drivestack/run", 0)
    ]


def test_logs_with_the_run_record_at_time_zero_still_read() -> None:
    demo = Path(__file__).resolve().parents[2] / "data" / "demo" / "drive.mcap"
    reader = LogReader(demo)
    first = next(iter(reader.messages()))
    assert (first.topic, first.log_time_ns) == ("/drivestack/run", 0)  # written before the change
    assert "config" in reader.run_metadata()
    assert sum(1 for _ in reader.frames()) == 61


def test_a_second_scan_at_one_time_on_a_lidar_topic_is_refused(tmp_path: Path) -> None:
    """Was: written, and the reader merged the two into one frame (a frame lost silently)."""
    from drivestack.structures.sensor_frame import SensorFrame

    def frame(t: int, x: float) -> SensorFrame:
        cloud = PointCloud(np.full((2, 3), x, dtype=np.float32), "lidar", t)
        mount = SE3.from_xyz_yaw([1.0, 0.0, 1.8], 0.0)
        return SensorFrame(t, lidars={"top": cloud}, ego_from_sensor={"top": mount})

    path = tmp_path / "dup.mcap"
    with LogWriter(path, config={}) as writer:
        writer.sensor_frame(frame(T, 1.0))
        writer.sensor_frame(frame(T + 100, 2.0))
        with pytest.raises(ValueError, match=f"/lidar/top: a scan at {T + 100} ns is already"):
            writer.sensor_frame(frame(T + 100, 3.0))  # refused before anything is written
        with pytest.raises(ValueError, match=f"/lidar/top: a scan at {T} ns is already"):
            writer.point_cloud("/lidar/top", frame(T, 4.0).lidar())
        writer.point_cloud("/lidar/zz", frame(T, 5.0).lidar())  # another topic: its own
        writer.point_cloud("/perception/points", frame(T, 6.0).lidar())  # not a LiDAR topic
        writer.point_cloud("/perception/points", frame(T, 7.0).lidar())
    counts: dict[str, int] = {}
    for m in LogReader(path).messages():
        counts[m.topic] = counts.get(m.topic, 0) + 1
    assert counts == {
        "/drivestack/run": 1,
        "/tf": 2,
        "/lidar/top": 2,
        "/lidar/zz": 1,
        "/perception/points": 2,
    }
    frames = list(LogReader(path).frames())
    assert [f.lidar("top").xyz_m[0, 0] for f in frames] == [1.0, 2.0]
