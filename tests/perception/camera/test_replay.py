"""Replay of 2D detections from files: the real RRC detections and malformed input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.perception.camera.replay import (
    KITTI_FRAME_PERIOD_NS,
    ReplayCameraDetector,
    read_2d_detections,
)
from drivestack.perception.camera.stage import CameraDetectorStage, blank_image
from drivestack.structures.camera import CameraCalibration
from drivestack.structures.labels import ObjectClass


def _calibration(width: int = 1242, height: int = 375) -> CameraCalibration:
    k = np.array([[700.0, 0.0, width / 2], [0.0, 700.0, height / 2], [0.0, 0.0, 1.0]])
    return CameraCalibration("image_02", k, width, height, SE3.identity(), "camera_image_02")


@pytest.mark.data
def test_rrc_replay_returns_the_rows_of_each_frame(shared_data: Path) -> None:
    root = shared_data / "kitti_tracking" / "detections" / "deepfusionmot_rrc_2d" / "training"
    source = ReplayCameraDetector.rrc_kitti(root, "0001")
    assert isinstance(source, CameraDetectorStage)
    source.reset()
    raw = {
        cls: np.loadtxt(root / cls / "0001.txt", delimiter=",", ndmin=2)
        for cls in ("Car", "Pedestrian")
    }
    cal = _calibration()
    for frame in (0, 37, 200):
        dets = source.step(blank_image(cal, frame * KITTI_FRAME_PERIOD_NS))
        assert dets.frame == "camera_image_02"
        expected = [raw[c][raw[c][:, 0] == frame] for c in ("Car", "Pedestrian")]
        n_car = expected[0].shape[0]
        assert len(dets) == n_car + expected[1].shape[0] > 0
        assert np.all(dets.label[:n_car] == ObjectClass.CAR)
        assert np.all(dets.label[n_car:] == ObjectClass.PEDESTRIAN)
        both = np.concatenate(expected)
        np.testing.assert_allclose(dets.score, both[:, 5])
        np.testing.assert_allclose(
            dets.box_xyxy_px, np.clip(both[:, 1:5], 0, [1242, 375, 1242, 375])
        )


@pytest.mark.data
def test_rrc_boxes_do_not_fit_a_half_size_image(shared_data: Path) -> None:
    root = shared_data / "kitti_tracking" / "detections" / "deepfusionmot_rrc_2d" / "training"
    source = ReplayCameraDetector.rrc_kitti(root, "0001", classes=("Car",))
    with pytest.raises(DataError, match=r"Car/0001\.txt: line \d+: field x2: .*621x188 px image"):
        source.step(blank_image(_calibration(621, 188), 0))


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "0000.txt"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0,1,2,3,4,0.5\n0,1,2,3\n", r"0000\.txt: line 2: expected 6 comma-separated columns"),
        ("0,1,2,3,4,0.5\n\n1,1,abc,3,4,0.5\n", r"0000\.txt: line 3: field y1: not a number: 'abc'"),
        ("0,1,2,3,4,nan\n", r"line 1: field score: NaN"),
        ("-1,1,2,3,4,0.5\n", r"line 1: field frame: frame must be a non-negative integer"),
        ("2.5,1,2,3,4,0.5\n", r"line 1: field frame"),
        ("0,10,2,3,4,0.5\n", r"line 1: field x2: box has x2 < x1"),
    ],
)
def test_malformed_rows_name_file_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_2d_detections(_write(tmp_path, text), label=1)


def test_boxes_outside_the_image_are_errors_and_small_overhangs_are_clipped(tmp_path: Path) -> None:
    ok = _write(tmp_path, "0,-5,10,50,400,0.9\n")  # 25 px below a 375 px image: clipped
    dets = ReplayCameraDetector([(ok, 2)]).step(blank_image(_calibration(), 0))
    np.testing.assert_allclose(dets.box_xyxy_px, [[0.0, 10.0, 50.0, 375.0]])
    far = _write(tmp_path, "0,1,2,3,4,0.5\n3,1300,10,1400,50,0.9\n")
    with pytest.raises(
        DataError, match=r"0000\.txt: line 2: field x2: .* 158\.0 px past the border 1242"
    ):
        ReplayCameraDetector([(far, 2)]).step(blank_image(_calibration(), 0))
    sliver = _write(tmp_path, "0,-20,10,-2,50,0.9\n")  # within tolerance but no area inside
    with pytest.raises(DataError, match="line 1"):
        ReplayCameraDetector([(sliver, 2)]).step(blank_image(_calibration(), 0))


def test_missing_file_means_no_detections(tmp_path: Path) -> None:
    source = ReplayCameraDetector([(tmp_path / "none.txt", 1)])
    assert len(source.step(blank_image(_calibration(), 0))) == 0


@pytest.mark.parametrize("y1", ["1_0", "\uff11\uff10", "\u0661\u0660"])
def test_python_only_number_is_not_a_number(tmp_path: Path, y1: str) -> None:
    # was read as y1 = 10 px
    with pytest.raises(DataError, match=rf"line 2: field y1: not a number: {y1!r}"):
        read_2d_detections(_write(tmp_path, f"0,1,2,3,40,0.5\n0,1,{y1},3,40,0.5\n"), label=1)
    rows = read_2d_detections(_write(tmp_path, "0, 1, 10 ,3,40,0.5\n"), label=1)  # spaces: fine
    assert rows.box_xyxy_px.tolist() == [[1.0, 10.0, 3.0, 40.0]] and rows.score.tolist() == [0.5]
