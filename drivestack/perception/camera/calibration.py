"""Camera calibrations and images from KITTI files.

KITTI's ``P2 = K [I | t]`` projects points of the rectified camera-0 frame into image_02; the
image_02 camera centre is offset from camera 0 by ``-t`` (``t = K^-1 P2[:, 3]``). The sensor
frame ("ego") of a KITTI frame is the LiDAR (as :func:`drivestack.ingest.kitti_object.
read_kitti_object_frame` sets it), so ``camera_from_ego`` is image_02 <- LiDAR:
``Translate(t) @ R0_rect @ Tr_velo_to_cam`` (rotation orthonormalised).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.frames import camera_frame
from drivestack.core.transforms import SE3
from drivestack.ingest.kitti_calib import KittiCalib
from drivestack.structures.camera import CameraCalibration, CameraImage


def kitti_camera_calibration(
    calib: KittiCalib, width_px: int, height_px: int, camera: str = "P2"
) -> CameraCalibration:
    """:class:`CameraCalibration` of a KITTI camera (``P0`` .. ``P3``; image_02 is ``P2``).

    ``camera_from_ego`` maps LiDAR-frame points into that camera's frame (x right, y down,
    z forward); distortion is none (KITTI images are rectified).

    Raises:
        DataError: the calibration has no such projection matrix, or its left 3x3 block is
            not an intrinsic matrix (upper triangular, last row 0 0 1, positive focal
            lengths; naming the calibration file and key).
    """
    if camera not in calib.P:
        have = ", ".join(sorted(calib.P)) or "none"
        raise DataError(
            f"no projection matrix {camera} (have {have}; camera image_0N is PN, the colour "
            "camera image_02 is P2)",
            path=calib.path or None,
            field=camera,
        )
    proj = calib.P[camera]
    intrinsics = proj[:, :3].copy()
    if intrinsics[1, 0] != 0.0 or np.any(intrinsics[2] != [0.0, 0.0, 1.0]):
        raise DataError(
            f"left 3x3 block is not an intrinsic matrix (upper triangular, last row 0 0 1): {intrinsics.tolist()}",
            path=calib.path or None,
            field=camera,
        )
    if not (intrinsics[0, 0] > 0.0 and intrinsics[1, 1] > 0.0):
        raise DataError(
            f"focal lengths must be positive, got fx={intrinsics[0, 0]:g}, fy={intrinsics[1, 1]:g}",
            path=calib.path or None,
            field=camera,
        )
    offset = np.linalg.solve(intrinsics, proj[:, 3])
    camera_from_lidar = SE3(np.eye(3), offset) @ calib.camera_rect_from_lidar()
    name = f"image_0{camera[1:]}"
    return CameraCalibration(
        name=name,
        intrinsics=intrinsics,
        width_px=width_px,
        height_px=height_px,
        camera_from_ego=camera_from_lidar,
        frame=camera_frame(name),
        distortion=np.zeros(5),
    )


#: Pillow modes of images with more than 8 bits per value (16-bit grey PNG, 32-bit integer
#: or float): converting them to 8-bit RGB saturates every value above 255 (a depth map or a
#: raw frame, not a colour photo)
_WIDE_MODES = ("I", "F")


def read_image_rgb(path: str | Path) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB pixels of an 8-bit image file (PNG, JPEG ...): grey, palette
    and RGBA images are converted (alpha dropped).

    Raises:
        DataError: no such file, an undecodable one, or a 16- or 32-bit-per-value image (grey
            16-bit PNG, integer or float: naming the file and its mode), which 8-bit RGB
            cannot hold without saturating.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            if img.mode.split(";")[0] in _WIDE_MODES:
                raise DataError(
                    f"a {img.mode} image (more than 8 bits per value, e.g. a 16-bit depth or raw "
                    "frame), not an 8-bit colour image; convert it to 8-bit RGB first",
                    path=str(path),
                    field="mode",
                )
            return np.asarray(img.convert("RGB"))
    except FileNotFoundError:
        raise DataError("image file not found", path=str(path)) from None
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"cannot decode image: {exc}", path=str(path)) from None


def load_camera_image(
    path: str | Path, calibration: CameraCalibration, timestamp_ns: int = 0
) -> CameraImage:
    """Read an image file as a :class:`CameraImage` of ``calibration``.

    Raises:
        DataError: unreadable file, or an image whose size differs from the calibration's
            (naming the file and both sizes).
    """
    pixels = read_image_rgb(path)
    h, w = pixels.shape[:2]
    if (w, h) != (calibration.width_px, calibration.height_px):
        raise DataError(
            f"image is {w}x{h} px but the calibration of camera {calibration.name!r} says "
            f"{calibration.width_px}x{calibration.height_px} px",
            path=str(path),
            field="size",
        )
    return CameraImage(pixels, calibration, timestamp_ns)


#: KITTI camera-2 focal length (px, ``P2[0, 0]``) -> image size ``(width, height)`` of its
#: recording day (2011_09_26: 1242x375, 2011_09_28..30: 1224x370, 2011_10_03: 1241x376).
KITTI_IMAGE_SIZE_BY_FX: dict[float, tuple[int, int]] = {
    721.5377: (1242, 375),
    707.0493: (1224, 370),
    718.3351: (1241, 376),
    718.856: (1241, 376),
}


def kitti_sequence_image_size_wh(
    calib: KittiCalib, image_dir: str | Path | None
) -> tuple[int, int]:
    """``(width, height)`` of a KITTI sequence's image_02 frames: a PNG's in ``image_dir``
    (its header), which must agree with the calibration's recording day
    (:func:`kitti_image_size_wh`); the recording day's alone when ``image_dir`` is None or
    holds no PNG.

    Raises:
        DataError: a calibration of another recording day than the images (a calibration
            file of another sequence: projections would land off by the focal length's
            difference), naming the calibration file, ``P2`` and both sizes.
    """
    from drivestack.ingest.kitti_object import png_size_wh

    # any one of them (all are one camera's): the first the listing gives, not a sorted list
    first = None if image_dir is None else next(Path(image_dir).glob("*.png"), None)
    if first is None:
        return kitti_image_size_wh(calib)
    size = png_size_wh(first)
    try:
        expected = kitti_image_size_wh(calib)
    except DataError:
        return size  # a focal length of no known day: the images say the size
    if size != expected:
        raise DataError(
            f"P2's focal length {calib.P2[0, 0]:.4f} px is of a recording day with "
            f"{expected[0]}x{expected[1]} px images, but {first} is {size[0]}x{size[1]} px: "
            "a calibration file of another sequence?",
            path=calib.path or None,
            field="P2",
        )
    return size


def kitti_image_size_wh(calib: KittiCalib) -> tuple[int, int]:
    """``(width, height)`` of the image_02 frames of a KITTI calibration, from its recording day.

    For when the images themselves are absent (otherwise read the PNG header).

    Raises:
        DataError: a focal length of no known recording day (naming the file).
    """
    fx = round(float(calib.P2[0, 0]), 4)
    for known, size in KITTI_IMAGE_SIZE_BY_FX.items():
        if abs(fx - known) < 1e-3:
            return size
    raise DataError(
        f"P2 focal length {fx} px is of no known KITTI recording day; pass the image size",
        path=calib.path or None,
        field="P2",
    )
