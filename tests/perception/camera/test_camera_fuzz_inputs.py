"""Bad inputs to the camera stage found by a bad-input campaign: images the detector cannot
take, 16-bit image files, damaged 2D detection files, bad replay options and calibrations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_calib import KittiCalib
from drivestack.perception.camera.calibration import kitti_camera_calibration, read_image_rgb
from drivestack.perception.camera.detector import (
    CameraDetectorConfig,
    TorchCameraDetector,
    build_fcos,
    check_network_size,
    save_checkpoint,
)
from drivestack.perception.camera.predict import nominal_calibration
from drivestack.perception.camera.replay import ReplayCameraDetector, read_2d_detections
from drivestack.perception.camera.stage import blank_image
from drivestack.structures.camera import CameraImage

ROWS = b"0,10.0,20.0,110.0,80.0,0.9\n1,30.0,40.0,90.0,70.0,0.8\n"


@pytest.fixture(scope="module")
def detector(tmp_path_factory: pytest.TempPathFactory) -> TorchCameraDetector:
    import torch

    torch.manual_seed(0)
    cfg = CameraDetectorConfig()
    path = tmp_path_factory.mktemp("camdet") / "model.pt"
    save_checkpoint(path, build_fcos(cfg), cfg)
    return TorchCameraDetector(cfg, path)


def _image(pixels: np.ndarray) -> CameraImage:
    return CameraImage(pixels, nominal_calibration(pixels.shape[1], pixels.shape[0]), 0)


def test_an_image_too_narrow_for_the_network_resize_is_refused(
    detector: TorchCameraDetector,
) -> None:
    """1x4000 px was a RuntimeError inside torch's interpolate (resized to 0 rows)."""
    with pytest.raises(ValueError, match=r"4000x1 px is too narrow.*max_size_px"):
        detector.step(_image(np.zeros((1, 4000, 3), dtype=np.uint8)))
    # the limit: 1 px tall stays 1 px when the long side fits max_size_px (621)
    check_network_size(621, 1, detector.cfg)
    with pytest.raises(ValueError, match="too narrow"):
        check_network_size(622, 1, detector.cfg)


@pytest.mark.parametrize(
    "pixels",
    [np.zeros((8, 9), np.uint8), np.zeros((8, 9, 4), np.uint8), np.zeros((8, 9, 3), np.uint16)],
    ids=["grey", "rgba", "16-bit"],
)
def test_pixels_the_detector_cannot_take_are_named(
    detector: TorchCameraDetector, pixels: np.ndarray
) -> None:
    with pytest.raises(ValueError, match=r"TorchCameraDetector\.step: image\.pixels must be"):
        detector.step(_image(pixels))


def test_a_16_bit_image_file_is_refused_not_saturated(tmp_path: Path) -> None:
    """A 16-bit grey PNG converted to 8-bit RGB came out all 255 (every value saturated)."""
    from PIL import Image

    path = tmp_path / "depth.png"
    Image.fromarray(np.full((4, 5), 40000, dtype=np.uint16)).save(path)
    with pytest.raises(DataError, match=r"depth\.png: field mode: a I;16 image"):
        read_image_rgb(path)
    grey = tmp_path / "grey.png"
    Image.fromarray(np.full((4, 5), 7, dtype=np.uint8)).save(grey)
    assert read_image_rgb(grey).shape == (4, 5, 3)  # 8-bit grey is still converted


def test_a_detection_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "0001.txt"
    path.write_bytes(ROWS + b"2,1.0,2.0,3.0,4.0,0.\xff\n")
    with pytest.raises(DataError, match=r"0001\.txt: line 3: not UTF-8 text \(byte 0xff\)"):
        read_2d_detections(path, 1)


@pytest.mark.parametrize("frame", ["1e30", str(2**63)])
def test_a_frame_number_beyond_exact_integers_is_refused(tmp_path: Path, frame: str) -> None:
    """Cast to int64 it wrapped to a negative frame (the row silently never replayed)."""
    path = tmp_path / "0001.txt"
    path.write_bytes(ROWS + f"{frame},1.0,2.0,3.0,4.0,0.5\n".encode())
    with pytest.raises(DataError, match=r"line 3: field frame: .*non-negative integer up to"):
        read_2d_detections(path, 1)


def test_a_zero_area_box_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "0001.txt"
    path.write_bytes(ROWS + b"0,10.0,10.0,10.0,10.0,0.5\n")
    source = ReplayCameraDetector([(path, 1)])
    with pytest.raises(DataError, match=r"line 3: field x2: box .* has no area inside"):
        source.step(blank_image(nominal_calibration(200, 100), 0))


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("min_score", float("nan")),
        ("max_outside_px", float("nan")),
        ("max_outside_px", -1.0),
        ("frame_period_ns", 0),
    ],
)
def test_bad_replay_options_are_refused(tmp_path: Path, option: str, value: float) -> None:
    """A NaN min_score dropped every row; a NaN max_outside_px clipped any box; period 0
    was a ZeroDivisionError at the first step."""
    path = tmp_path / "0001.txt"
    path.write_bytes(ROWS)
    with pytest.raises(ValueError, match=f"ReplayCameraDetector {option}"):
        ReplayCameraDetector([(path, 1)], **{option: value})
    valid = ReplayCameraDetector([(path, 1)])
    assert len(valid.step(blank_image(nominal_calibration(200, 100), 0))) == 1


@pytest.mark.parametrize(("row", "col"), [(0, 0), (1, 1)])
def test_a_zero_or_negative_focal_length_names_the_calibration_file(row: int, col: int) -> None:
    """A zero focal length was a LinAlgError (singular matrix); a negative one a ValueError
    without the file."""
    for value in (0.0, -700.0):
        p2 = np.array([[700.0, 0.0, 600.0, 0.0], [0.0, 700.0, 180.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
        p2[row, col] = value
        calib = KittiCalib({"P2": p2}, np.eye(3), np.eye(3, 4), path="calib/0001.txt")
        with pytest.raises(DataError, match=r"calib/0001\.txt: field P2: focal lengths must be"):
            kitti_camera_calibration(calib, 1242, 375)
