"""Replay log I/O beside the stack (drivestack.replay.log_io): the wire format keeps values
exactly, the forked process and the thread write the same log, and every way a run can end
(input stops, a frame is refused, the writer fails, the stack fails) ends it cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pytest
from mcap.reader import make_reader

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.pipeline import Stack
from drivestack.replay.log_format import LogWriter
from drivestack.replay.log_io import LogIO, decode, encode, fork_available
from drivestack.replay.log_reader import LogReader
from drivestack.replay.runner import DETECTIONS_TOPIC, TIMING_TOPIC, replay
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.camera import CameraCalibration, CameraImage
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

T0 = 1_700_000_000_000_000_000
PERIOD_NS = 100_000_000
WORKERS = ["process", "thread"] if fork_available() else ["thread"]


def _frame(k: int, rng: np.random.Generator, *, camera: bool = True) -> SensorFrame:
    t = T0 + k * PERIOD_NS
    cloud = PointCloud(
        rng.normal(size=(64, 3)).astype(np.float32) * 10,
        "lidar",
        t,
        {
            "intensity": rng.random(64).astype(np.float32),
            "ring": rng.integers(0, 32, 64).astype(np.uint16),
            "time_offset_ns": rng.integers(0, PERIOD_NS, 64).astype(np.int64),
        },
    )
    cameras = {}
    if camera:
        calibration = CameraCalibration(
            "front",
            np.array([[50.0, 0.0, 8.0], [0.0, 50.0, 6.0], [0.0, 0.0, 1.0]]),
            16,
            12,
            SE3.from_xyz_yaw([0.0, 0.0, -1.5], 0.0),
            "camera_front",
        )
        pixels = rng.integers(0, 255, (12, 16, 3)).astype(np.uint8)
        cameras["front"] = CameraImage(pixels, calibration, t + 5_000_000)
    return SensorFrame(
        t,
        lidars={"top": cloud},
        cameras=cameras,
        ego_from_sensor={"top": SE3.from_xyz_yaw([1.0, 0.0, 1.8], 0.0)},
        world_from_ego=SE3.from_xyz_yaw([0.5 * k, 0.0, 0.0], 0.01 * k),
    )


def _write_log(path: Path, n: int) -> Path:
    rng = np.random.default_rng(5)
    with LogWriter(path, config={"source": "test"}) as writer:
        for k in range(n):
            writer.sensor_frame(_frame(k, rng))
    return path


class _CentroidDetector:
    """One box at the centroid of the LiDAR points (hand-checkable); refuses the frames whose
    index is in ``refuse`` (DataError, the replay skips them) and fails on ``crash``."""

    def __init__(self, refuse: tuple[int, ...] = (), crash: int | None = None) -> None:
        self.refuse, self.crash = refuse, crash
        self.calls = 0

    def reset(self) -> None:
        self.calls = 0

    def step(self, frame: SensorFrame) -> Boxes3D:
        k = self.calls
        self.calls += 1
        if k == self.crash:
            raise RuntimeError(f"detector bug on frame {k}")
        if k in self.refuse:
            raise DataError(f"refused frame {k}")
        xyz = frame.lidar().xyz_m.astype(np.float64)
        return Boxes3D(
            xyz.mean(axis=0)[None],
            np.ones((1, 3)),
            np.zeros(1),
            frame.lidar().frame,
            frame.timestamp_ns,
            score=np.array([0.5]),
            label=np.array([1]),
        )


def _messages(path: Path) -> list[tuple[str, int, bytes]]:
    """Every message but the wall-time channels (timing, run metadata)."""
    with path.open("rb") as stream:
        return [
            (channel.topic, message.log_time, bytes(message.data))
            for _, channel, message in make_reader(stream).iter_messages()
            if channel.topic not in (TIMING_TOPIC, "/drivestack/run")
        ]


def test_wire_format_keeps_values_dtypes_and_flags() -> None:
    rng = np.random.default_rng(0)
    frame = _frame(3, rng)
    packed = np.zeros(5, dtype=[("x", "<f4"), ("t", "<i8")])
    packed["t"] = [1, 2, 3, 4, 5]
    column = packed["t"]  # a strided view
    column.setflags(write=False)
    writeable = np.arange(6.0).reshape(2, 3)
    value = {
        "frame": frame,
        "column": column,
        "writeable": writeable,
        "proxy": MappingProxyType({"a": 1}),
        "flags": np.array([True, False]),
    }
    back = decode(encode(value))
    cloud, cloud_back = frame.lidar(), back["frame"].lidar()
    assert cloud_back.xyz_m.dtype == np.float32 and np.array_equal(cloud_back.xyz_m, cloud.xyz_m)
    for name, values in cloud.attributes.items():
        got = cloud_back.attributes[name]
        assert got.dtype == values.dtype and np.array_equal(got, values)
        assert not got.flags.writeable and got.flags.aligned
    assert isinstance(cloud_back.attributes, MappingProxyType)
    assert not cloud_back.xyz_m.flags.writeable and cloud_back.xyz_m.flags.aligned
    image, image_back = frame.cameras["front"], back["frame"].cameras["front"]
    assert np.array_equal(image_back.pixels, image.pixels) and not image_back.pixels.flags.writeable
    cal, cal_back = image.calibration, image_back.calibration
    assert np.array_equal(cal_back.intrinsics, cal.intrinsics) and cal_back.frame == cal.frame
    pose, pose_back = frame.world_from_ego, back["frame"].world_from_ego
    assert pose is not None and pose_back is not None
    assert np.array_equal(pose_back.as_matrix(), pose.as_matrix())
    assert back["frame"].source == frame.source and back["frame"].timestamp_ns == frame.timestamp_ns
    # a read-only strided column comes back read-only (as a contiguous copy), writeable stays so
    assert np.array_equal(back["column"], [1, 2, 3, 4, 5]) and not back["column"].flags.writeable
    assert back["writeable"].flags.writeable and np.array_equal(back["writeable"], writeable)
    assert back["proxy"] == {"a": 1} and isinstance(back["proxy"], MappingProxyType)
    assert back["flags"].dtype == bool and back["flags"].tolist() == [True, False]


@pytest.mark.skipif(not fork_available(), reason="needs fork")
def test_process_and_thread_workers_write_the_same_log(tmp_path: Path) -> None:
    log = _write_log(tmp_path / "in.mcap", 6)
    runs = {}
    for worker in ("process", "thread"):
        stack = Stack(_CentroidDetector(refuse=(2,)), config={"detector": "centroid"})
        out = tmp_path / f"{worker}.mcap"
        runs[worker] = replay(log, stack, out, progress=False, io_worker=worker)
        assert runs[worker]["frames_processed"] == 5
        assert [s["reason"] for s in runs[worker]["skipped"]] == ["refused frame 2"]
        assert not runs[worker]["clean"]
    assert _messages(tmp_path / "process.mcap") == _messages(tmp_path / "thread.mcap")
    # the refused frame is left out entirely; the others carry the centroid box
    frames = list(LogReader(log).frames())
    written = {
        m.log_time_ns: m.value
        for m in LogReader(tmp_path / "process.mcap").messages([DETECTIONS_TOPIC])
    }
    assert sorted(written) == [f.timestamp_ns for i, f in enumerate(frames) if i != 2]
    for frame in frames[:2] + frames[3:]:
        centroid = frame.lidar().xyz_m.astype(np.float64).mean(axis=0)
        assert np.array_equal(written[frame.timestamp_ns].center_m[0], centroid)
    # the input clouds and images are written back byte for byte
    kept = ("/lidar/top", "/camera/front/image")
    inputs = [
        m for m in _messages(log) if m[0] in kept and m[1] // PERIOD_NS != T0 // PERIOD_NS + 2
    ]
    outputs = [m for m in _messages(tmp_path / "thread.mcap") if m[0] in kept]
    assert len(outputs) == 10 and outputs == inputs


def _stopping_frames(n_good: int) -> Iterator[SensorFrame]:
    rng = np.random.default_rng(1)
    for k in range(n_good):
        yield _frame(k, rng, camera=False)
    raise DataError("corrupt chunk", path="in.mcap", record="/lidar/top #2")


def _write_detections(writer: LogWriter, frame: SensorFrame, outputs: Any) -> None:
    writer.sensor_frame(frame)
    writer.boxes(DETECTIONS_TOPIC, outputs, kind="detections")


@pytest.mark.parametrize("worker", WORKERS)
def test_input_that_stops_ends_the_frames_and_says_why(tmp_path: Path, worker: str) -> None:
    out = tmp_path / "out.mcap"
    io = LogIO(
        _stopping_frames(2),
        lambda: LogWriter(out, config={}),
        _write_detections,
        finish=lambda: {"finished": True},
        worker=worker,  # type: ignore[arg-type]
    )
    assert io.in_process == (worker == "process")
    detector = _CentroidDetector()
    for frame in io.frames():
        io.write(detector.step(frame))
    assert io.input_stopped == "in.mcap: /lidar/top #2: corrupt chunk"
    assert io.close() == {"finished": True}
    assert len(list(LogReader(out).messages([DETECTIONS_TOPIC]))) == 2


def _refuse_to_write(writer: LogWriter, frame: SensorFrame, outputs: Any) -> None:
    raise ValueError(f"cannot write {frame.timestamp_ns}")


def _failing_writer_io(tmp_path: Path, worker: str) -> LogIO:
    """A LogIO over 3 frames whose writer refuses every frame (:func:`_refuse_to_write`)."""
    return LogIO(
        _stopping_frames(3),
        lambda: LogWriter(tmp_path / "out.mcap", config={}),
        _refuse_to_write,
        finish=lambda: None,
        worker=worker,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("worker", WORKERS)
def test_a_failing_writer_raises_its_error_on_the_stack_side(tmp_path: Path, worker: str) -> None:
    io = _failing_writer_io(tmp_path, worker)
    with pytest.raises(ValueError, match=f"cannot write {T0}") as err:
        for _ in io.frames():
            io.write(None)
        io.close()
    assert any("log I/O worker" in note for note in getattr(err.value, "__notes__", []))
    io.abort()  # after the worker's error: returns at once, raises nothing
    LogReader(tmp_path / "out.mcap").topics()  # the log was closed properly


def _wait_until_ended(io: LogIO) -> None:
    """Until the I/O side has ended (white box: a loaded machine may run it to its end, its
    end of the pipe closed, before the stack side answers the next frame)."""
    worker = io._process if io.in_process else io._thread
    assert worker is not None
    worker.join()


@pytest.mark.parametrize("answer", ["write", "drop", "close"])
@pytest.mark.parametrize("worker", WORKERS)
def test_answering_an_ended_worker_raises_its_error(
    tmp_path: Path, worker: str, answer: str
) -> None:
    """The I/O side fails on the first frame's answer and is gone before the stack side sends
    its next message: that message raises the I/O side's error (not a broken pipe)."""
    io = _failing_writer_io(tmp_path, worker)
    next(io.frames())
    io.write(None)
    _wait_until_ended(io)  # what it sent before it went (frames read ahead, its error) waits
    send = {"write": lambda: io.write(None), "drop": io.drop, "close": io.close}[answer]
    with pytest.raises(ValueError, match=f"cannot write {T0}"):
        send()
    io.abort()  # after the worker's error: returns at once, raises nothing
    LogReader(tmp_path / "out.mcap").topics()  # the log was closed properly


@pytest.mark.skipif(not fork_available(), reason="needs fork")
def test_answering_a_killed_worker_says_it_ended(tmp_path: Path) -> None:
    io = LogIO(
        _stopping_frames(3),
        lambda: LogWriter(tmp_path / "out.mcap", config={}),
        _write_detections,
        finish=lambda: None,
    )
    next(io.frames())
    io._process.kill()  # as the kernel's OOM killer would
    _wait_until_ended(io)
    with pytest.raises(RuntimeError, match="ended unexpectedly"):
        io.write(None)  # what it sent before is read (and dropped) on the way
    io.abort()


@pytest.mark.parametrize("worker", WORKERS)
def test_a_failing_stack_leaves_a_complete_log_of_the_frames_before(
    tmp_path: Path, worker: str
) -> None:
    log = _write_log(tmp_path / "in.mcap", 5)
    out = tmp_path / "out.mcap"
    stack = Stack(_CentroidDetector(crash=3), config={})
    with pytest.raises(RuntimeError, match="detector bug on frame 3"):
        replay(log, stack, out, progress=False, io_worker=worker)  # type: ignore[arg-type]
    crashed = tmp_path / "out.crashed.mcap"
    assert not out.exists()
    assert len(list(LogReader(crashed).messages([DETECTIONS_TOPIC]))) == 3
    assert LogReader(crashed).validate() > 0


@pytest.mark.parametrize("worker", WORKERS)
def test_a_truncated_ros_bag_is_replayed_and_its_ingest_report_returned(
    tmp_path: Path, worker: str
) -> None:
    from tests.ingest.rosbag.test_reader import write_drive

    bag = tmp_path / "drive.bag"
    write_drive(bag, storage="ros1")
    data = bag.read_bytes()
    bag.write_bytes(data[: int(len(data) * 0.9)])
    out = tmp_path / "out.mcap"
    summary = replay(bag, Stack(_CentroidDetector()), out, progress=False, io_worker=worker)  # type: ignore[arg-type]
    assert summary["frames_processed"] == 4 and not summary["clean"]
    assert summary["ingest"]["counts"] == {"truncated": 1}
    (note,) = summary["ingest"]["skipped"]
    assert note["kept"] and "recovered 19 messages" in note["reason"]
    assert len(list(LogReader(out).messages([DETECTIONS_TOPIC]))) == 4
