"""Decoders for the non-point-cloud ROS messages a drive log holds.

Each function takes a message object as ``rosbags`` deserialises it (ROS 1 and ROS 2 field
spellings both accepted, e.g. ``CameraInfo.K`` / ``.k``) and returns drivestack values.
Errors are :class:`DataError` naming ``path``, ``record`` and the field.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.structures.camera import CameraCalibration

# sensor_msgs/Image encodings -> (dtype, channels, reorder to RGB)
_IMAGE_ENCODINGS: dict[str, tuple[str, int, bool]] = {
    "rgb8": ("u1", 3, False),
    "bgr8": ("u1", 3, True),
    "rgba8": ("u1", 4, False),
    "bgra8": ("u1", 4, True),
    "mono8": ("u1", 1, False),
    "8uc1": ("u1", 1, False),
    "8uc3": ("u1", 3, False),
    "mono16": ("u2", 1, False),
    "16uc1": ("u2", 1, False),
    "32fc1": ("f4", 1, False),
}


def normalise_frame_id(frame_id: object) -> str:
    """A ROS frame id as TF2 names it: without ROS 1's leading ``/`` (``/velodyne`` ->
    ``velodyne``). Every frame id the bag reader takes from a message (TF, odometry, NavSatFix,
    PointCloud2, VelodyneScan, CameraInfo headers) goes through here, so that a sensor's frame
    and the TF tree's names match."""
    return str(frame_id).lstrip("/")


def stamp_ns(msg_with_header: Any) -> int:
    """The header stamp of a message in int64 ns."""
    stamp = msg_with_header.header.stamp
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def _field(msg: Any, *names: str) -> Any:
    for name in names:
        if hasattr(msg, name):
            return getattr(msg, name)
    raise AttributeError(names[0])


def decode_image(
    msg: Any, *, path: str = "<message>", record: str | int | None = None
) -> np.ndarray:
    """``sensor_msgs/Image`` -> pixels: ``(H, W, 3)`` uint8 RGB (BGR reordered), ``(H, W, 4)``
    RGBA, ``(H, W)`` for one channel (uint8, uint16 or float32 in native byte order).

    Rows may be padded (``step`` > ``width * pixel size``); the result is a read-only view of
    the message buffer when no reordering or byte swap is needed.
    """
    encoding = str(msg.encoding).lower()
    spec = _IMAGE_ENCODINGS.get(encoding)
    if spec is None:
        raise DataError(
            f"unsupported image encoding {msg.encoding!r} (supported: {sorted(_IMAGE_ENCODINGS)})",
            path=path,
            record=record,
            field="encoding",
        )
    code, channels, bgr = spec
    dtype = np.dtype(code).newbyteorder(">" if msg.is_bigendian else "<")
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    row_bytes = w * channels * dtype.itemsize
    buf = (
        np.frombuffer(msg.data, dtype=np.uint8)
        if not isinstance(msg.data, np.ndarray)
        else msg.data
    )
    if step < row_bytes or buf.size < step * (h - 1) + row_bytes:
        raise DataError(
            f"{buf.size} bytes cannot hold {h} rows of {row_bytes} bytes with step {step}",
            path=path,
            record=record,
            field="data",
        )
    shape = (h, w, channels) if channels > 1 else (h, w)
    strides = (step, channels * dtype.itemsize, dtype.itemsize)[: len(shape)]
    pixels = np.ndarray(shape, dtype=dtype, buffer=buf, strides=strides)
    if not dtype.isnative:
        pixels = pixels.astype(dtype.newbyteorder("="))
    if bgr:
        pixels = np.concatenate([pixels[..., 2::-1], pixels[..., 3:]], axis=-1)
    if pixels.flags.writeable and pixels.base is None:
        pixels.setflags(write=False)
    return pixels


def decode_compressed_image(
    msg: Any, *, path: str = "<message>", record: str | int | None = None
) -> np.ndarray:
    """``sensor_msgs/CompressedImage`` (JPEG, PNG, ...) -> ``(H, W, 3)`` uint8 RGB or ``(H, W)``
    for grey images, decoded with Pillow."""
    return decode_image_bytes(bytes(msg.data), str(msg.format), path=path, record=record)


def decode_image_bytes(
    data: bytes, fmt: str, *, path: str = "<message>", record: str | int | None = None
) -> np.ndarray:
    """Encoded image bytes (JPEG, PNG, ...) -> ``(H, W, 3)`` uint8 RGB, ``(H, W)`` uint8 grey or
    ``(H, W)`` uint16 (16-bit PNG), decoded with Pillow; ``fmt`` is only used in errors."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            mode = img.mode
            pixels = np.asarray(img if mode in ("L", "RGB", "I;16") else img.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataError(
            f"cannot decode {fmt!r} image: {exc}", path=path, record=record, field="data"
        ) from None
    if not pixels.dtype.isnative:
        pixels = pixels.astype(pixels.dtype.newbyteorder("="))
    return pixels


def encode_image_png(pixels: np.ndarray) -> bytes:
    """Lossless PNG of ``(H, W, 3)`` / ``(H, W)`` uint8 or ``(H, W)`` uint16 pixels (Pillow)."""
    from PIL import Image

    px = np.ascontiguousarray(pixels)
    if px.dtype == np.uint16 and px.ndim == 2:
        size = (px.shape[1], px.shape[0])
        img = Image.frombuffer("I;16", size, px.astype("<u2").tobytes(), "raw", "I;16", 0, 1)
    elif px.dtype == np.uint8 and (px.ndim == 2 or (px.ndim == 3 and px.shape[2] in (1, 3))):
        img = Image.fromarray(px[..., 0] if px.ndim == 3 and px.shape[2] == 1 else px)
    else:
        raise ValueError(f"cannot encode {px.dtype} pixels of shape {px.shape} as PNG")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def camera_info_to_calibration(
    msg: Any,
    *,
    name: str,
    frame: str,
    camera_from_ego: SE3,
    path: str = "<message>",
    record: str | int | None = None,
) -> CameraCalibration:
    """``sensor_msgs/CameraInfo`` -> :class:`CameraCalibration` (``K``, ``D``, size).

    An empty ``D`` means no distortion, whatever ``distortion_model`` says (ROS drivers of
    uncalibrated cameras publish ``plumb_bob`` with no coefficients). Otherwise ``D`` is read
    by drivestack's rule for camera calibrations, the one its own logs are read with
    (``drivestack.replay.log_reader.distortion_coefficients``, shared): ``plumb_bob`` (4 or 5
    coefficients) and ``rational_polynomial`` (8) are kept; another model (``equidistant``
    fisheye, ``kannala_brandt``, ...) is refused, never read as another model's coefficients.
    ``camera_from_ego`` comes from TF (the caller looks it up).

    Raises:
        DataError naming ``path``, ``record`` and the field: ``distortion_model`` for a model
        drivestack does not implement, ``d`` for coefficients that do not fit it, ``k`` for
        intrinsics or a size :class:`CameraCalibration` refuses (or not 9 values), ``k`` /
        ``d`` when missing or not numbers.
    """
    values: dict[str, np.ndarray] = {}
    for name in ("k", "d"):
        try:
            values[name] = np.asarray(_field(msg, name, name.upper()), dtype=np.float64)
        except AttributeError:
            raise DataError("missing", path=path, record=record, field=name) from None
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"not a list of numbers ({exc})", path=path, record=record, field=name
            ) from None
    if values["k"].size != 9:
        raise DataError(
            f"holds {values['k'].size} values, not the 9 of a 3x3 matrix",
            path=path,
            record=record,
            field="k",
        )
    k, d = values["k"].reshape(3, 3), values["d"].reshape(-1)
    if d.size:
        # the rule drivestack's own logs are read with (one rule, not a copy of it)
        from drivestack.replay.log_reader import distortion_coefficients

        model = str(getattr(msg, "distortion_model", ""))
        try:
            d = distortion_coefficients({"distortion_model": model, "D": d})
        except DataError as exc:
            field = "d" if exc.field == "D" else exc.field
            raise DataError(exc.reason, path=path, record=record, field=field) from None
    try:
        return CameraCalibration(
            name=name,
            intrinsics=k,
            width_px=int(msg.width),
            height_px=int(msg.height),
            camera_from_ego=camera_from_ego,
            frame=frame,
            distortion=d,
        )
    except ValueError as exc:
        raise DataError(str(exc), path=path, record=record, field="k") from None


@dataclass(frozen=True)
class StampedTransform:
    """One ``geometry_msgs/TransformStamped``: ``parent_from_child`` at ``timestamp_ns``."""

    timestamp_ns: int
    parent: str
    child: str
    quaternion_wxyz: np.ndarray
    translation_m: np.ndarray


def _pose_parts(rotation: Any, translation: Any) -> tuple[np.ndarray, np.ndarray]:
    q = np.array([rotation.w, rotation.x, rotation.y, rotation.z], dtype=np.float64)
    t = np.array([translation.x, translation.y, translation.z], dtype=np.float64)
    return q, t


def tf_message_transforms(msg: Any) -> list[StampedTransform]:
    """``tf2_msgs/TFMessage`` -> its transforms (frame ids by :func:`normalise_frame_id`)."""
    out = []
    for ts in msg.transforms:
        q, t = _pose_parts(ts.transform.rotation, ts.transform.translation)
        out.append(
            StampedTransform(
                stamp_ns(ts),
                normalise_frame_id(ts.header.frame_id),
                normalise_frame_id(ts.child_frame_id),
                q,
                t,
            )
        )
    return out


@dataclass(frozen=True)
class OdometrySample:
    """``nav_msgs/Odometry``: pose of ``child`` in ``parent`` and twist in ``child``."""

    timestamp_ns: int
    parent: str
    child: str
    quaternion_wxyz: np.ndarray
    translation_m: np.ndarray
    linear_velocity_mps: np.ndarray
    angular_velocity_radps: np.ndarray


def decode_odometry(msg: Any) -> OdometrySample:
    q, t = _pose_parts(msg.pose.pose.orientation, msg.pose.pose.position)
    lin, ang = msg.twist.twist.linear, msg.twist.twist.angular
    return OdometrySample(
        stamp_ns(msg),
        normalise_frame_id(msg.header.frame_id),
        normalise_frame_id(msg.child_frame_id),
        q,
        t,
        np.array([lin.x, lin.y, lin.z], dtype=np.float64),
        np.array([ang.x, ang.y, ang.z], dtype=np.float64),
    )


@dataclass(frozen=True)
class GnssFix:
    """``sensor_msgs/NavSatFix``: WGS84 position, fix status (-1 none, 0 fix, 1 SBAS, 2 GBAS)."""

    timestamp_ns: int
    frame: str
    latitude_deg: float
    longitude_deg: float
    altitude_m: float
    status: int
    position_covariance_m2: np.ndarray


def decode_navsatfix(msg: Any) -> GnssFix:
    return GnssFix(
        stamp_ns(msg),
        normalise_frame_id(msg.header.frame_id),
        float(msg.latitude),
        float(msg.longitude),
        float(msg.altitude),
        int(msg.status.status),
        np.asarray(msg.position_covariance, dtype=np.float64).reshape(3, 3),
    )
