"""Image / CompressedImage / CameraInfo / NavSatFix / TF decoders on rosbags message objects."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PilImage
from rosbags.typesys import Stores, get_typestore

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.rosbag import messages as m
from drivestack.ingest.rosbag.writer import header, tf_message, transform_stamped

TS = get_typestore(Stores.ROS2_HUMBLE)
T = TS.types


def image_msg(pixels: np.ndarray, encoding: str, *, big_endian: bool = False, pad: int = 0):
    h, w = pixels.shape[:2]
    rows = pixels.reshape(h, -1).view(np.uint8).reshape(h, -1)
    data = np.zeros((h, rows.shape[1] + pad), dtype=np.uint8)
    data[:, : rows.shape[1]] = rows
    return T["sensor_msgs/msg/Image"](
        header=header(TS, 5, "cam"),
        height=h,
        width=w,
        encoding=encoding,
        is_bigendian=int(big_endian),
        step=data.shape[1],
        data=data.reshape(-1),
    )


def test_images_by_encoding_step_padding_and_byte_order() -> None:
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    assert np.array_equal(m.decode_image(image_msg(rgb, "rgb8", pad=5)), rgb)
    assert np.array_equal(m.decode_image(image_msg(rgb[..., ::-1].copy(), "bgr8")), rgb)
    depth = np.array([[1, 256], [65535, 7]], dtype=">u2")
    got = m.decode_image(image_msg(depth, "16UC1", big_endian=True, pad=2))
    assert got.dtype == np.uint16 and got.dtype.isnative and got.tolist() == [[1, 256], [65535, 7]]
    with pytest.raises(
        DataError, match=r"f.bag: /cam #3: field encoding: unsupported image encoding 'bayer_rggb8'"
    ):
        m.decode_image(image_msg(rgb[..., 0].copy(), "bayer_rggb8"), path="f.bag", record="/cam #3")
    short = image_msg(rgb, "rgb8")
    short = type(short)(**{**short.__dict__, "data": short.data[:-1]})
    with pytest.raises(DataError, match="field data"):
        m.decode_image(short)


def test_compressed_png_and_corrupt_jpeg() -> None:
    rgb = np.random.default_rng(0).integers(0, 255, (4, 5, 3), dtype=np.uint8)
    buf = io.BytesIO()
    PilImage.fromarray(rgb).save(buf, format="PNG")
    msg = T["sensor_msgs/msg/CompressedImage"](
        header=header(TS, 1, "cam"),
        format="png",
        data=np.frombuffer(buf.getvalue(), dtype=np.uint8),
    )
    assert np.array_equal(m.decode_compressed_image(msg), rgb)
    bad = T["sensor_msgs/msg/CompressedImage"](
        header=header(TS, 1, "cam"),
        format="jpeg",
        data=np.frombuffer(b"\xff\xd8\xff\xe0garbage", dtype=np.uint8),
    )
    with pytest.raises(DataError, match="cannot decode 'jpeg' image"):
        m.decode_compressed_image(bad, record="/cam/compressed #0")


def test_camera_info_and_navsatfix() -> None:
    k = np.array([500.0, 0, 320, 0, 510.0, 240, 0, 0, 1])
    roi = T["sensor_msgs/msg/RegionOfInterest"](
        x_offset=0, y_offset=0, height=0, width=0, do_rectify=False
    )
    info = T["sensor_msgs/msg/CameraInfo"](
        header=header(TS, 1, "cam"),
        height=480,
        width=640,
        distortion_model="plumb_bob",
        d=np.array([0.1, -0.2, 0.0, 0.0, 0.01]),
        k=k,
        r=np.eye(3).reshape(-1),
        p=np.zeros(12),
        binning_x=0,
        binning_y=0,
        roi=roi,
    )
    cal = m.camera_info_to_calibration(
        info, name="front", frame="camera_front", camera_from_ego=SE3.identity()
    )
    assert (cal.width_px, cal.height_px) == (640, 480)
    assert cal.intrinsics[0, 0] == 500.0 and cal.intrinsics[1, 2] == 240.0
    assert cal.distortion.tolist() == [0.1, -0.2, 0.0, 0.0, 0.01]
    bad = type(info)(**{**info.__dict__, "k": np.zeros(9)})
    with pytest.raises(DataError, match=r"field k: .*focal lengths must be positive"):
        m.camera_info_to_calibration(
            bad, name="front", frame="camera_front", camera_from_ego=SE3.identity()
        )
    fix = T["sensor_msgs/msg/NavSatFix"](
        header=header(TS, 7, "gps"),
        status=T["sensor_msgs/msg/NavSatStatus"](status=0, service=1),
        latitude=49.01,
        longitude=8.43,
        altitude=112.5,
        position_covariance=np.arange(9.0),
        position_covariance_type=2,
    )
    g = m.decode_navsatfix(fix)
    assert (g.timestamp_ns, g.latitude_deg, g.longitude_deg, g.altitude_m, g.status) == (
        7,
        49.01,
        8.43,
        112.5,
        0,
    )
    assert g.position_covariance_m2[2, 1] == 7.0


def test_tf_message_strips_leading_slash() -> None:
    msg = tf_message(
        TS, [transform_stamped(TS, 9, "/map", "/base_link", SE3.from_xyz_yaw([1.0, 2.0, 3.0], 0.5))]
    )
    (tr,) = m.tf_message_transforms(msg)
    assert (tr.timestamp_ns, tr.parent, tr.child) == (9, "map", "base_link")
    assert SE3.from_quaternion(tr.quaternion_wxyz, tr.translation_m).allclose(
        SE3.from_xyz_yaw([1.0, 2.0, 3.0], 0.5)
    )
