"""The log reader reads valid MCAP that other tools write as they mean it: an unchunked (or
unindexed) file in log-time order whatever its file order, a cloud's ``pose`` applied, a camera
without a ``/tf`` mount or with a distortion model drivestack does not implement left out with
a note (never an invented mount or another model's reading). A log cut short and not in time
order names the frames the order cost."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mcap.reader import make_reader
from mcap.writer import IndexType, Writer

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.replay import payloads
from drivestack.replay.log_format import point_cloud_message
from drivestack.replay.log_reader import (
    InputProblem,
    LogReader,
    decode_camera_calibration,
    decode_point_cloud,
)
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame
from tests.replay.test_log_reader_bad_messages import N, _copy_channels, _log, _t

#: Writer settings: an unchunked file with a summary; one with no summary section at all; a
#: chunked one whose summary has no chunk index
LAYOUTS: dict[str, dict[str, Any]] = {
    "unchunked": {"use_chunking": False},
    "no summary": {
        "use_chunking": False,
        "index_types": IndexType.NONE,
        "repeat_channels": False,
        "repeat_schemas": False,
        "use_statistics": False,
        "use_summary_offsets": False,
    },
    "chunks without index": {"index_types": IndexType.NONE, "chunk_size": 2000},
}


def _rewrite(
    src: Path,
    dst: Path,
    order: list[str],
    edit: Callable[[str, dict], dict | None] | None = None,
    **writer_args: Any,
) -> Path:
    """``src``'s messages written again with mcap's Writer, grouped by topic in the order of
    ``order`` (a topic prefix each; in log-time order within a topic), each JSON message
    passed through ``edit(topic, msg)`` (drop it: return None)."""
    with src.open("rb") as stream:
        reader = make_reader(stream)
        summary = reader.get_summary()
        assert summary is not None
        messages = list(reader.iter_messages())

    def rank(topic: str) -> int:
        return next(i for i, prefix in enumerate(order) if topic.startswith(prefix))

    messages.sort(key=lambda item: (rank(item[1].topic), item[2].log_time))
    with dst.open("wb") as out:
        writer = Writer(out, **writer_args)
        writer.start()
        channels = _copy_channels(writer, summary)
        for _, channel, message in messages:
            data = bytes(message.data)
            if edit is not None:
                msg = edit(channel.topic, json.loads(data))
                if msg is None:
                    continue
                data = json.dumps(msg).encode()
            writer.add_message(channels[channel.id], message.log_time, data, message.log_time)
        writer.finish()
    return dst


#: every topic grouped, cameras and labels before the LiDAR they go with
BY_TOPIC = ["/camera", "/labels", "/tf", "/lidar", "/"]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_whole_log_out_of_time_order_reads_in_log_time_order(tmp_path: Path, layout: str) -> None:
    source = _log(tmp_path / "in.mcap")
    log = _rewrite(source, tmp_path / "by_topic.mcap", BY_TOPIC, **LAYOUTS[layout])
    with log.open("rb") as stream:  # the file order is not log-time order
        file_times = [
            m.log_time for _, _, m in make_reader(stream).iter_messages(log_time_order=False)
        ]
    assert file_times != sorted(file_times)

    raw = list(LogReader(log).raw_messages())
    assert [t for _, _, t, _ in raw] == sorted(file_times)
    assert sorted(raw, key=lambda m: (m[2], m[0])) == sorted(
        LogReader(source).raw_messages(), key=lambda m: (m[2], m[0])
    )
    frames = list(LogReader(log).frames(problems=True))
    expected = list(LogReader(source).frames(problems=True))
    assert len(frames) == len(expected) == N
    for got, want in zip(frames, expected, strict=True):
        assert got.timestamp_ns == want.timestamp_ns
        assert got.labels is not None and want.labels is not None
        assert np.array_equal(got.labels.center_m, want.labels.center_m)
        assert np.array_equal(got.lidars["top"].xyz_m, want.lidars["top"].xyz_m)
        assert set(got.cameras) == {"front"}
        assert np.array_equal(got.cameras["front"].pixels, want.cameras["front"].pixels)


def _cut(log: Path, dst: Path, keep_bytes_less: int = 64) -> Path:
    """``log`` without its last bytes: no footer, so no summary or index to sort by (the data
    section is whole: read in file order, a note says the index is lost)."""
    data = log.read_bytes()
    dst.write_bytes(data[:-keep_bytes_less])
    return dst


def test_a_cut_log_out_of_time_order_names_each_frame_it_missed(tmp_path: Path) -> None:
    """LiDAR first, then labels, then images: each frame is built before its labels and image
    come (a log cut short is read in file order): each is named, none lost silently."""
    whole = _rewrite(
        _log(tmp_path / "in.mcap"),
        tmp_path / "lidar_first.mcap",
        ["/tf", "/lidar", "/labels", "/camera", "/"],
        use_chunking=False,
    )
    log = _cut(whole, tmp_path / "cut.mcap")
    # (cut in the summary section: every message read, the lost index a note at the end)
    items: list[SensorFrame | InputProblem] = list(LogReader(log).frames(problems=True))
    (cut_note,) = [p for p in items if isinstance(p, InputProblem) and "summary" in p.reason]
    assert cut_note.kind == "note" and "out of log-time order" in cut_note.reason
    frames = [f for f in items if isinstance(f, SensorFrame)]
    problems = [p for p in items if isinstance(p, InputProblem)]
    assert [f.timestamp_ns for f in frames] == [_t(k) for k in range(N)]
    for frame in frames:
        if frame.labels is None:  # the labels came after the frame was built: named
            assert any(
                p.kind == "partial"
                and p.timestamp_ns == frame.timestamp_ns
                and "replayed without /labels #" in p.reason
                and "not in time order" in p.reason
                for p in problems
            ), frame.timestamp_ns
        if "front" not in frame.cameras:
            assert any(
                p.kind == "partial"
                and p.timestamp_ns == frame.timestamp_ns
                and "/camera/front/image #" in p.reason
                for p in problems
            ), frame.timestamp_ns
    assert sum(f.labels is None for f in frames) == N - 1  # only the last one waited for them


def test_a_cut_log_whose_lidar_comes_late_skips_and_names_those_frames(tmp_path: Path) -> None:
    whole = _rewrite(
        _log(tmp_path / "in.mcap"),
        tmp_path / "labels_first.mcap",
        ["/tf", "/labels", "/lidar", "/camera", "/"],
        use_chunking=False,
    )
    cut = _cut(whole, tmp_path / "cut.mcap")
    items: list[SensorFrame | InputProblem] = list(LogReader(cut).frames(problems=True))
    skipped = {p.timestamp_ns for p in items if isinstance(p, InputProblem) and p.kind == "skipped"}
    replayed = {f.timestamp_ns for f in items if not isinstance(f, InputProblem)}
    assert skipped | replayed == {_t(k) for k in range(N)} and not skipped & replayed
    assert skipped  # the scans read after the labels of later frames
    reasons = [p.reason for p in items if isinstance(p, InputProblem) and p.kind == "skipped"]
    assert all("/lidar/top #" in r and "not replayed" in r for r in reasons)


# -- PointCloud.pose ---------------------------------------------------------------------------
def _cloud(xyz: np.ndarray) -> PointCloud:
    return PointCloud(xyz, "lidar", 1_000, {"intensity": np.arange(len(xyz), dtype=np.float32)})


def _with_pose(msg: dict, pose: SE3) -> dict:
    w, x, y, z = (float(v) for v in pose.as_quaternion())
    px, py, pz = (float(v) for v in pose.translation)
    return {
        **msg,
        "pose": {
            "position": {"x": px, "y": py, "z": pz},
            "orientation": {"x": x, "y": y, "z": z, "w": w},
        },
    }


def test_a_cloud_pose_is_applied_to_its_points() -> None:
    """Pose: 90 deg about +z, then (1, 2, 3): (1, 0, 0) -> (1, 3, 3), (0, 0, 1) -> (1, 2, 4),
    (2, 1, 0) -> (0, 4, 3)."""
    xyz = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [2.0, 1.0, 0.0]])
    half = np.sqrt(0.5)
    msg = point_cloud_message(_cloud(xyz))
    msg["pose"] = {
        "position": {"x": 1.0, "y": 2.0, "z": 3.0},
        "orientation": {"x": 0.0, "y": 0.0, "z": half, "w": half},
    }
    cloud = decode_point_cloud(msg)
    expected = np.array([[1.0, 3.0, 3.0], [1.0, 2.0, 4.0], [0.0, 4.0, 3.0]])
    np.testing.assert_allclose(cloud.xyz_m, expected, atol=1e-12)
    assert cloud.xyz_m.dtype == np.float64 and cloud.frame == "lidar"
    assert np.array_equal(cloud.attributes["intensity"], [0.0, 1.0, 2.0])
    # the source bytes hold the points before the pose: not reused as this cloud's
    assert payloads.source_of(cloud) is None
    same = decode_point_cloud(point_cloud_message(_cloud(xyz)))  # identity pose: as written
    assert np.array_equal(same.xyz_m, xyz) and payloads.source_of(same) is not None


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(-50, 50), min_size=3, max_size=3),
    st.lists(st.floats(-1, 1), min_size=4, max_size=4).filter(
        lambda q: float(np.linalg.norm(q)) > 0.1
    ),
    st.integers(0, 20),
)
def test_decoded_points_are_the_pose_applied(t: list, q: list, n: int) -> None:
    rng = np.random.default_rng(n)
    xyz = rng.normal(size=(n, 3)) * 20
    pose = SE3.from_quaternion(q, t)
    cloud = decode_point_cloud(_with_pose(point_cloud_message(_cloud(xyz)), pose))
    np.testing.assert_allclose(cloud.xyz_m, pose.apply(xyz), atol=1e-9)
    # the pose is the cloud origin in frame_id: its inverse gives the points back
    np.testing.assert_allclose(pose.inverse().apply(cloud.xyz_m), xyz, atol=1e-9)


def test_a_pose_that_is_not_rigid_is_refused_naming_the_field() -> None:
    msg = point_cloud_message(_cloud(np.zeros((2, 3))))
    msg["pose"]["orientation"] = {"x": 0.0, "y": 0.0, "z": 0.0, "w": 0.0}
    with pytest.raises(DataError, match="field pose"):
        decode_point_cloud(msg)


def test_a_log_with_a_cloud_pose_replays_the_posed_points(tmp_path: Path) -> None:
    source = _log(tmp_path / "in.mcap")
    shift = SE3.from_xyz_yaw([10.0, 0.0, 0.0], 0.0)

    def edit(topic: str, msg: dict) -> dict:
        return _with_pose(msg, shift) if topic.startswith("/lidar/") else msg

    log = _rewrite(source, tmp_path / "posed.mcap", ["/"], edit)
    shift_m = np.array([10.0, 0.0, 0.0])
    for got, want in zip(LogReader(log).frames(), LogReader(source).frames(), strict=True):
        np.testing.assert_allclose(
            got.lidars["top"].xyz_m, want.lidars["top"].xyz_m + shift_m, atol=1e-5
        )


# -- cameras --------------------------------------------------------------------------------
def test_a_camera_without_a_tf_mount_is_left_out_with_a_note(tmp_path: Path) -> None:
    def drop_camera_tf(topic: str, msg: dict) -> dict:
        if topic == "/tf":
            msg["transforms"] = [
                t for t in msg["transforms"] if t["child_frame_id"] != "camera_front"
            ]
        return msg

    log = _rewrite(_log(tmp_path / "in.mcap"), tmp_path / "no_tf.mcap", ["/"], drop_camera_tf)
    items = list(LogReader(log).frames(problems=True))
    frames = [f for f in items if not isinstance(f, InputProblem)]
    assert len(frames) == N
    assert all(not f.cameras and "front" not in f.ego_from_sensor for f in frames)
    (note,) = [p for p in items if isinstance(p, InputProblem)]
    assert note.kind == "note" and note.timestamp_ns == -1
    assert note.reason.startswith(
        f"/camera/front/image: {N} image(s) not replayed: /camera/front/calibration #0 "
        f"(and {N - 1} more like it): field frame_id: the camera's mount is unknown"
    )
    assert "'camera_front'" in note.reason


def _calibration_msg(model: str, d: list[float]) -> dict:
    return {
        "timestamp": {"sec": 1, "nsec": 0},
        "frame_id": "camera_front",
        "width": 16,
        "height": 12,
        "distortion_model": model,
        "D": d,
        "K": [50.0, 0.0, 8.0, 0.0, 50.0, 6.0, 0.0, 0.0, 1.0],
    }


@pytest.mark.parametrize(
    ("model", "d"),
    [
        ("plumb_bob", [0.1, -0.05, 0.001, 0.002, 0.01]),
        ("plumb_bob", [0.1, -0.05, 0.001, 0.002]),
        ("rational_polynomial", [0.1, -0.05, 0.001, 0.002, 0.01, 0.02, 0.003, 0.004]),
        ("", []),
        ("", [0.0] * 5),
    ],
)
def test_distortion_models_drivestack_implements_are_read(model: str, d: list[float]) -> None:
    cal = decode_camera_calibration(
        _calibration_msg(model, d), name="front", camera_from_ego=SE3.identity()
    )
    assert np.array_equal(cal.distortion, d)


@pytest.mark.parametrize(
    ("model", "d", "field"),
    [
        ("kannala_brandt", [0.1, 0.01, 0.001, 0.0001], "distortion_model"),
        ("equidistant", [0.1, 0.01, 0.001, 0.0001], "distortion_model"),
        ("", [0.1, 0.0, 0.0, 0.0, 0.0], "distortion_model"),
        ("plumb_bob", [0.1] * 8, "D"),
        ("rational_polynomial", [0.1] * 5, "D"),
    ],
)
def test_other_distortion_models_are_refused_naming_the_field(
    model: str, d: list[float], field: str
) -> None:
    with pytest.raises(DataError) as info:
        decode_camera_calibration(
            _calibration_msg(model, d),
            name="front",
            camera_from_ego=SE3.identity(),
            path="in.mcap",
            record="/camera/front/calibration #3",
        )
    assert info.value.field == field
    assert str(info.value).startswith(f"in.mcap: /camera/front/calibration #3: field {field}: ")


def test_a_camera_with_an_unimplemented_model_is_left_out_with_a_note(tmp_path: Path) -> None:
    def fisheye(topic: str, msg: dict) -> dict:
        if topic.endswith("/calibration"):
            msg["distortion_model"], msg["D"] = "kannala_brandt", [0.1, 0.01, 0.001, 0.0001]
        return msg

    log = _rewrite(_log(tmp_path / "in.mcap"), tmp_path / "kb.mcap", ["/"], fisheye)
    items = list(LogReader(log).frames(problems=True))
    assert all(not f.cameras for f in items if not isinstance(f, InputProblem))
    (note,) = [p for p in items if isinstance(p, InputProblem)]
    assert note.reason == (
        f"/camera/front/image: {N} image(s) not replayed: /camera/front/calibration #0 (and "
        f"{N - 1} more like it): field distortion_model: model 'kannala_brandt' is not one "
        "drivestack implements (plumb_bob, rational_polynomial or none): the camera is not "
        "read with another model's distortion"
    )
