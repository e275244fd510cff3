"""Re-writing values read from a log: the output bytes are exactly what encoding them gives.

The writer reuses the source log's base64 / PNG bytes only where they equal its own encoding;
these tests write logs, read them, write the values again, and compare the message bytes with
a fresh encoding of copies of the values (which the reuse cache cannot know).
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.frames import EGO
from drivestack.core.transforms import SE3
from drivestack.ingest.rosbag.tf_buffer import TransformBuffer
from drivestack.replay import payloads
from drivestack.replay.log_format import (
    TF_TOPIC,
    CompressedImageData,
    FrameTransform,
    LogWriter,
    point_cloud_message,
)
from drivestack.replay.log_reader import LogReader
from drivestack.structures.camera import CameraCalibration, CameraImage
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

T = 1_700_000_000_000_000_000


def _cloud(n: int = 40) -> PointCloud:
    rng = np.random.default_rng(5)
    return PointCloud(
        rng.normal(size=(n, 3)).astype(np.float32),
        "velodyne",
        T,
        {
            "intensity": rng.random(n).astype(np.float32),
            "ring": rng.integers(0, 64, n).astype(np.uint16),
            "time_offset_ns": rng.integers(0, 99_000_000, n).astype(np.int64),
        },
    )


def _copy(cloud: PointCloud) -> PointCloud:
    """The same values in new arrays (unknown to the reuse cache)."""
    return PointCloud(
        np.array(cloud.xyz_m),
        cloud.frame,
        cloud.timestamp_ns,
        {k: np.array(v) for k, v in cloud.attributes.items()},
    )


def _raw_messages(path: Path) -> list[tuple[str, bytes]]:
    from mcap.reader import make_reader

    with path.open("rb") as f:
        return [(c.topic, m.data) for _, c, m in make_reader(f).iter_messages()]


def _write_cloud_message(path: Path, message: dict[str, object]) -> None:
    with LogWriter(path, config={}) as log:
        log.write("/lidar/top", "foxglove.PointCloud", T, message)


def test_clouds_read_back_are_written_byte_identical_to_a_fresh_encoding(tmp_path: Path) -> None:
    source = tmp_path / "in.mcap"
    _write_cloud_message(source, point_cloud_message(_cloud()))
    (msg,) = LogReader(source).messages(["/lidar/top"])
    assert payloads.source_of(msg.value) is not None  # read from a drivestack log: reusable
    out, fresh = tmp_path / "out.mcap", tmp_path / "fresh.mcap"
    with LogWriter(out, config={}) as log:
        log.point_cloud("/lidar/top", msg.value)
    with LogWriter(fresh, config={}) as log:
        log.point_cloud("/lidar/top", _copy(msg.value))
    assert _raw_messages(out) == _raw_messages(fresh)
    # ... and both are the compact JSON of the message dict
    (_, data), *_ = [m for m in _raw_messages(out) if m[0] == "/lidar/top"]
    expected = json.dumps(point_cloud_message(_copy(msg.value)), separators=(",", ":"))
    assert data == expected.encode()


@pytest.mark.parametrize(
    "change",
    ["fractional_ns", "other_layout", "non_canonical_base64"],
)
def test_sources_that_differ_from_the_writers_encoding_are_re_encoded(
    tmp_path: Path, change: str
) -> None:
    message = point_cloud_message(_cloud(6))
    packed = bytearray(base64.b64decode(message["data"]))
    stride = message["point_stride"]
    if change == "fractional_ns":  # 2.5 ns reads back as int 2: the source bytes differ
        field = next(f for f in message["fields"] if f["name"] == "time_offset_ns")
        packed[field["offset"] : field["offset"] + 8] = np.float64(2.5).tobytes()
        message["data"] = base64.b64encode(bytes(packed)).decode()
    elif change == "other_layout":  # ring before intensity: the writer packs them sorted
        cloud = _cloud(6)
        names = ["x", "y", "z", "ring", "intensity", "time_offset_ns"]
        formats = ["<f4", "<f4", "<f4", "<u2", "<f4", "<f8"]
        points = np.zeros(6, dtype={"names": names, "formats": formats})
        for i, axis in enumerate("xyz"):
            points[axis] = cloud.xyz_m[:, i]
        for name in names[3:]:
            points[name] = cloud.attributes[name]
        types = [7, 7, 7, 3, 7, 8]
        message["fields"] = [
            {"name": n, "offset": points.dtype.fields[n][1], "type": t}
            for n, t in zip(names, types, strict=True)
        ]
        message["data"] = base64.b64encode(points.tobytes()).decode()
    else:  # non_canonical_base64: the last quantum's unused bits set ("QR==" reads as "QQ==")
        packed = packed[: stride * 5]
        assert len(packed) % 3 == 1  # (5 points of 26 bytes) the text ends "xx=="
        text = base64.b64encode(bytes(packed)).decode()
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        message["data"] = text[:-3] + alphabet[alphabet.index(text[-3]) | 1] + "=="
        assert base64.b64decode(message["data"]) == bytes(packed)
    source = tmp_path / "in.mcap"
    _write_cloud_message(source, message)
    (msg,) = LogReader(source).messages(["/lidar/top"])
    # the reader keeps a source whose bytes it read exactly; the writer checks the layout
    assert (payloads.source_of(msg.value) is None) == (change != "other_layout")
    out, fresh = tmp_path / "out.mcap", tmp_path / "fresh.mcap"
    with LogWriter(out, config={}) as log:
        log.point_cloud("/lidar/top", msg.value)
    with LogWriter(fresh, config={}) as log:
        log.point_cloud("/lidar/top", _copy(msg.value))
    assert _raw_messages(out) == _raw_messages(fresh)


def test_a_changed_cloud_is_encoded_from_its_values(tmp_path: Path) -> None:
    source = tmp_path / "in.mcap"
    _write_cloud_message(source, point_cloud_message(_cloud()))
    (msg,) = LogReader(source).messages(["/lidar/top"])
    moved = replace(msg.value, xyz_m=msg.value.xyz_m + np.float32(1.0))
    assert payloads.source_of(moved) is None
    back = base64.b64decode(point_cloud_message(moved)["data"])
    assert np.frombuffer(back, dtype="<f4", count=3).tolist() == moved.xyz_m[0].tolist()


def _frames_with_images(pixels: list[np.ndarray]) -> list[SensorFrame]:
    cal = CameraCalibration(
        "front", np.array([[50.0, 0, 8], [0, 50.0, 6], [0, 0, 1]]), 16, 12, SE3.identity(), "cam"
    )
    return [
        SensorFrame(
            T + k * 100_000_000,
            lidars={"top": replace(_cloud(), timestamp_ns=T + k * 100_000_000)},
            cameras={"front": CameraImage(px, cal, T + k * 100_000_000)},
            ego_from_sensor={"top": SE3.identity()},
        )
        for k, px in enumerate(pixels)
    ]


def test_replayed_frames_give_the_same_log_messages_as_their_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    pixels = [rng.integers(0, 255, (12, 16, 3), dtype=np.uint8) for _ in range(3)]
    source = tmp_path / "in.mcap"
    with LogWriter(source, config={}) as log:
        for frame in _frames_with_images(pixels):
            log.sensor_frame(frame)
    back = list(LogReader(source).frames())
    assert all(payloads.source_of(f.cameras["front"].pixels) is not None for f in back)
    out, fresh = tmp_path / "out.mcap", tmp_path / "fresh.mcap"
    with LogWriter(out, config={}) as log:
        for frame in back:
            log.sensor_frame(frame)
    with LogWriter(fresh, config={}) as log:
        for frame in back:
            image = frame.cameras["front"]
            log.sensor_frame(
                replace(
                    frame,
                    lidars={"top": _copy(frame.lidars["top"])},
                    cameras={"front": replace(image, pixels=np.array(image.pixels))},
                )
            )
    assert _raw_messages(out) == _raw_messages(fresh)
    assert _raw_messages(out) == _raw_messages(source)


def test_pngs_from_another_encoder_are_re_encoded(tmp_path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(2)
    px = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(px).save(buf, format="PNG", compress_level=1)  # not drivestack's settings
    (frame,) = _frames_with_images([px])
    source = tmp_path / "in.mcap"
    with LogWriter(source, config={}) as log:
        log.sensor_frame(replace(frame, cameras={}))
        cal = frame.cameras["front"].calibration
        # the camera's mount: a camera with no /tf path to the ego is left out when read
        mount = FrameTransform(frame.timestamp_ns, EGO, cal.frame, cal.camera_from_ego.inverse())
        log.transforms(TF_TOPIC, frame.timestamp_ns, [mount])
        log.camera_image("front", frame.cameras["front"], png=buf.getvalue())
    (back,) = LogReader(source).frames()
    image = back.cameras["front"]
    assert np.array_equal(image.pixels, px) and payloads.source_of(image.pixels) is None
    out = tmp_path / "out.mcap"
    with LogWriter(out, config={}) as log:
        log.camera_image("front", image)
    (msg,) = LogReader(out).messages(["/camera/front/image"])
    assert msg.value.data != buf.getvalue()  # drivestack's own encoding of the pixels
    assert cal.width_px == 16


def test_compressed_image_json_keeps_key_order_and_escapes(tmp_path: Path) -> None:
    path = tmp_path / "img.mcap"
    image = CompressedImageData(T, 'cam "left"', b"\x89PNG-not-really", "png")
    with LogWriter(path, config={}, compression="none") as log:
        log.compressed_image("/camera/left/image", image)
    (_, data), *_ = [m for m in _raw_messages(path) if m[0] == "/camera/left/image"]
    message = {
        "timestamp": {"sec": T // 1_000_000_000, "nsec": T % 1_000_000_000},
        "frame_id": 'cam "left"',
        "data": base64.b64encode(image.data).decode(),
        "format": "png",
    }
    assert data == json.dumps(message, separators=(",", ":")).encode()
    assert LogReader(path).validate() == 2


@pytest.mark.parametrize("compression", ["zstd", "lz4", "none"])
def test_every_compression_reads_back(tmp_path: Path, compression: str) -> None:
    path = tmp_path / f"{compression}.mcap"
    _write_cloud_message(tmp_path / "x.mcap", point_cloud_message(_cloud()))
    with LogWriter(path, config={}, compression=compression) as log:
        log.point_cloud("/lidar/top", _cloud())
    (msg,) = LogReader(path).messages(["/lidar/top"])
    assert np.array_equal(msg.value.xyz_m, _cloud().xyz_m)
    with pytest.raises(ValueError, match="compression must be one of"):
        LogWriter(tmp_path / "bad.mcap", config={}, compression="gzip")


def test_static_lookups_are_memoised_until_the_tree_changes() -> None:
    tf = TransformBuffer()
    tf.add_dynamic("world", "ego", 0, [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    tf.add_dynamic("world", "ego", 10, [1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0])
    tf.add_static("ego", "lidar", SE3.from_xyz_yaw([1.0, 0.0, 2.0], 0.3))
    first = tf.lookup("ego", "lidar", 5)
    assert tf.lookup("ego", "lidar", 7) is first  # static path: one computation
    assert tf.lookup("world", "lidar", 5) is not tf.lookup("world", "lidar", 5)  # dynamic
    np.testing.assert_allclose(tf.lookup("world", "lidar", 5).translation, [1.5, 0.0, 2.0])
    tf.add_static("lidar", "lidar_b", SE3.from_xyz_yaw([0.0, 1.0, 0.0], 0.0))
    again = tf.lookup("ego", "lidar", 5)
    assert again is not first and again.allclose(first)
    np.testing.assert_allclose(tf.lookup("ego", "lidar_b", 0).translation[2], 2.0)
