"""Projection of KITTI 3D labels into image_2 against the labels' own 2D boxes (real calibrations)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_format import objects_to_boxes
from drivestack.ingest.kitti_object import png_size_wh, read_kitti_label
from drivestack.ingest.kitti_tracking import read_tracking_labels
from drivestack.kernels import project_boxes_to_image
from drivestack.perception.camera.calibration import kitti_camera_calibration, load_camera_image

pytestmark = pytest.mark.data


def _corner_errors(boxes7: np.ndarray, label_xyxy: np.ndarray, calibration) -> np.ndarray:
    xyxy, visible = project_boxes_to_image(
        boxes7,
        calibration.camera_from_ego.as_matrix(),
        calibration.intrinsics,
        calibration.width_px,
        calibration.height_px,
    )
    assert visible.all()
    return np.abs(xyxy - label_xyxy)


def test_object_labels_project_onto_their_2d_boxes(shared_data: Path) -> None:
    base = shared_data / "kitti_object" / "training"
    errors = []
    for stem in sorted(p.stem for p in (base / "label_2").glob("*.txt")):
        calib = read_kitti_calib(base / "calib" / f"{stem}.txt")
        width, height = png_size_wh(base / "image_2" / f"{stem}.png")
        objects = read_kitti_label(base / "label_2" / f"{stem}.txt")
        objects = objects.select(objects.type_name != "DontCare")
        clean = (objects.truncation == 0) & (objects.occlusion == 0)
        boxes = objects_to_boxes(objects, calib).to_array7()[clean]
        cal = kitti_camera_calibration(calib, width, height)
        errors.append(_corner_errors(boxes, objects.box2d_xyxy_px[clean], cal).ravel())
    all_errors = np.concatenate(errors)
    assert all_errors.size >= 4 * 8
    assert np.median(all_errors) < 0.3  # 0.17 px; camera P0's matrix gives 0.42


@pytest.mark.parametrize("sequence", ["0001", "0016"])
def test_tracking_labels_project_onto_their_2d_boxes(shared_data: Path, sequence: str) -> None:
    root = shared_data / "kitti_tracking" / "training"
    calib = read_kitti_calib(root / "calib" / f"{sequence}.txt")
    width, height = png_size_wh(next((root / "image_02" / sequence).glob("*.png")))
    labels = read_tracking_labels(root / "label_02" / f"{sequence}.txt")
    clean = (labels.truncation == 0) & (labels.occlusion == 0) & (labels.type_name != "DontCare")
    labels = labels.select(clean)
    assert len(labels) > 100
    boxes = objects_to_boxes(labels, calib).to_array7()
    errors = _corner_errors(
        boxes, labels.box2d_xyxy_px, kitti_camera_calibration(calib, width, height)
    )
    assert np.median(errors) < 0.3  # 0.10 / 0.14 px
    # the tolerance tells the cameras apart: P0 (the grey left camera) is 0.54 / 0.89 px off
    grey = kitti_camera_calibration(calib, width, height, camera="P0")
    assert np.median(_corner_errors(boxes, labels.box2d_xyxy_px, grey)) > 0.4


def test_wrong_calibration_is_caught_by_the_projection_check(shared_data: Path) -> None:
    """The check can fail: sequence 0016's labels with sequence 0001's calibration are off."""
    root = shared_data / "kitti_tracking" / "training"
    good = read_kitti_calib(root / "calib" / "0016.txt")
    labels = read_tracking_labels(root / "label_02" / "0016.txt")
    labels = labels.select(
        (labels.truncation == 0) & (labels.occlusion == 0) & (labels.type_name == "Car")
    )
    boxes = objects_to_boxes(labels, good).to_array7()
    wrong = kitti_camera_calibration(read_kitti_calib(root / "calib" / "0001.txt"), 1224, 370)
    shifted = wrong.camera_from_ego.as_matrix()
    shifted[0, 3] += 0.5  # half a metre sideways
    xyxy, _ = project_boxes_to_image(boxes, shifted, wrong.intrinsics, 1224, 370)
    assert np.median(np.abs(xyxy - labels.box2d_xyxy_px)) > 5.0


def test_image_size_must_match_its_calibration(shared_data: Path) -> None:
    root = shared_data / "kitti_tracking" / "training"
    calib = read_kitti_calib(root / "calib" / "0016.txt")
    image_path = next((root / "image_02" / "0016").glob("*.png"))
    ok = load_camera_image(image_path, kitti_camera_calibration(calib, 1224, 370))
    assert ok.pixels.shape == (370, 1224, 3)
    with pytest.raises(
        DataError, match=r"0016/\d+\.png.*1224x370 px but the calibration.*1242x375"
    ):
        load_camera_image(image_path, kitti_camera_calibration(calib, 1242, 375))


def test_missing_projection_matrix_is_an_error(shared_data: Path) -> None:
    calib = read_kitti_calib(shared_data / "kitti_tracking" / "training" / "calib" / "0001.txt")
    with pytest.raises(DataError, match="P7"):
        kitti_camera_calibration(calib, 1242, 375, camera="P7")


def test_image_size_from_the_recording_day(shared_data: Path) -> None:
    from drivestack.perception.camera.calibration import kitti_image_size_wh

    root = shared_data / "kitti_tracking" / "training"
    for sequence in ("0001", "0016"):
        png = next((root / "image_02" / sequence).glob("*.png"))
        assert kitti_image_size_wh(
            read_kitti_calib(root / "calib" / f"{sequence}.txt")
        ) == png_size_wh(png)
    for sequence in range(21):
        calib = read_kitti_calib(root / "calib" / f"{sequence:04d}.txt")
        labels = read_tracking_labels(root / "label_02" / f"{sequence:04d}.txt")
        w, h = kitti_image_size_wh(calib)
        assert labels.box2d_xyxy_px[:, 2].max() <= w and labels.box2d_xyxy_px[:, 3].max() <= h


def test_a_sequence_calibrated_for_another_recording_day_is_refused(
    shared_data: Path, tmp_path: Path
) -> None:
    """Sequence 0001's calibration (2011_09_26, 1242x375 images) beside sequence 0016's
    1224x370 images: the fused evaluation took it silently and its figures moved."""
    from drivestack.perception.camera.calibration import kitti_sequence_image_size_wh

    root = shared_data / "kitti_tracking" / "training"
    images = root / "image_02" / "0016"
    assert kitti_sequence_image_size_wh(read_kitti_calib(root / "calib" / "0016.txt"), images) == (
        1224,
        370,
    )
    other = read_kitti_calib(root / "calib" / "0001.txt")
    with pytest.raises(DataError) as info:
        kitti_sequence_image_size_wh(other, images)
    assert (info.value.path, info.value.field) == (str(root / "calib" / "0001.txt"), "P2")
    assert "a recording day with 1242x375 px images, but " in str(info.value)
    assert "is 1224x370 px: a calibration file of another sequence?" in str(info.value)
    # without images the recording day says the size
    assert kitti_sequence_image_size_wh(other, tmp_path) == (1242, 375)
    assert kitti_sequence_image_size_wh(other, None) == (1242, 375)


def test_an_unknown_camera_name_lists_the_calibrations_matrices(shared_data: Path) -> None:
    calib = read_kitti_calib(shared_data / "kitti_tracking" / "training" / "calib" / "0001.txt")
    with pytest.raises(DataError, match=r"no projection matrix image_02 \(have P0, P1, P2, P3; "):
        kitti_camera_calibration(calib, 1242, 375, camera="image_02")
