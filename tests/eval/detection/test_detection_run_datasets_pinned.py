"""Pinned rules of ``eval/detection/run.py`` and ``eval/detection/datasets.py`` (the loop, the
frame conversions, the warnings and the loaders), each with a hand-derived expected value on a
small hand-built input."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.frames import LIDAR
from drivestack.core.transforms import SE3
from drivestack.eval.detection.datasets import LabelledFrame, labelled_frames
from drivestack.eval.detection.nuscenes import EvalBoxes
from drivestack.eval.detection.run import (
    _DetectorOutputs,
    _in_cloud_frame,
    _kitti_score_columns,
    _kitti_unscored_files,
    _regroup,
    evaluate_dataset,
    ground_truth_fields,
    out_of_range_warning,
    predictions_in_range,
    submission_order,
)
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

CAR_LABEL = "Car 0.00 0 -1.57 580.00 170.00 620.00 200.00 1.50 1.60 3.90 0.00 1.50 10.00 -1.57"


def _boxes(yaw: list[float], velocity: list[list[float]] | None = None) -> Boxes3D:
    n = len(yaw)
    return Boxes3D(
        center_m=np.zeros((n, 3)),
        size_m=np.ones((n, 3)),
        yaw_rad=np.array(yaw, dtype=np.float64),
        label=np.ones(n, dtype=np.int64),
        score=np.ones(n),
        frame="ego",
        velocity_mps=np.zeros((n, 2)) if velocity is None else np.array(velocity, float),
    )


def _kitti_root(tmp_path: Path, stems: list[str]) -> Path:
    """A KITTI object root of label_2 files only (one Car each): what scoring files needs."""
    labels = tmp_path / "kitti" / "training" / "label_2"
    labels.mkdir(parents=True)
    for stem in stems:
        (labels / f"{stem}.txt").write_text(CAR_LABEL + "\n")
    return tmp_path / "kitti"


def _kitti_detections(tmp_path: Path, stems: list[str]) -> Path:
    folder = tmp_path / "dets"
    folder.mkdir()
    for stem in stems:
        (folder / f"{stem}.txt").write_text(CAR_LABEL + " 0.9\n")
    return folder


# -- submission order ----------------------------------------------------------------------


def test_submission_order_ranks_by_json_key_order_and_unsubmitted_last() -> None:
    """Scored keys a, b, c; the submission lists b then a. Positions: b -> 0, a -> 1, c absent
    -> len(position) = 2 (last). Sorted by position: b (index 1), a (index 0), c (index 2)."""
    assert submission_order(["b", "a"], ["a", "b", "c"]) == [1, 0, 2]


# -- nuScenes out-of-range warning ---------------------------------------------------------


def test_out_of_range_warning_threshold_is_one_tenth_inclusive() -> None:
    """Warned only when in_range < 0.1 * scored. 1 of 10 in range: 1 >= 1.0, no warning;
    0 of 10: warned, and 10 - 0 = 10 predictions beyond range are counted."""
    assert out_of_range_warning({"scored_classes": 10, "in_range": 1}, "s") == []
    assert out_of_range_warning({"scored_classes": 0, "in_range": 0}, "s") == []
    said = out_of_range_warning({"scored_classes": 10, "in_range": 0}, "sub.json")
    assert len(said) == 1 and said[0].startswith("sub.json: 10 of 10 predictions")


# -- detector outputs ----------------------------------------------------------------------


def test_yaw_is_axis_when_yaws_span_exactly_half_a_turn() -> None:
    """Yaws -pi/2 and pi/2 - 1e-9 (wrap keeps both) span pi - 1e-9 <= pi + 1e-6: an axis.
    A span of 1.6 rad + 1.6 rad = 3.2 > pi: headings."""
    axis = _DetectorOutputs()
    axis.add(_boxes([-np.pi / 2, np.pi / 2 - 1e-9]))
    assert axis.as_dict()["yaw_is_axis"] is True
    heading = _DetectorOutputs()
    heading.add(_boxes([-1.6, 1.6]))
    assert heading.as_dict()["yaw_is_axis"] is False


def test_a_box_with_any_nonzero_velocity_component_counts_as_with_velocity() -> None:
    """Velocities (1, 0), (0, 0), (0, -2): two boxes have a non-zero component -> 2 of 3."""
    outputs = _DetectorOutputs()
    outputs.add(_boxes([0.0, 0.0, 0.0], [[1.0, 0.0], [0.0, 0.0], [0.0, -2.0]]))
    d = outputs.as_dict()
    assert (d["boxes"], d["boxes_with_velocity"]) == (3, 2)


# -- ground truth and prediction counts ----------------------------------------------------


def test_ground_truth_with_velocity_needs_both_components_finite() -> None:
    """Velocities (1, 2), (1, NaN), (NaN, NaN): only the first is wholly finite -> 1; the
    attributes "", "parked", "" -> 1 with an attribute; 3 boxes."""
    gt = SimpleNamespace(
        detection_name=np.array(["car", "car", "car"]),
        velocity_mps=np.array([[1.0, 2.0], [1.0, np.nan], [np.nan, np.nan]]),
        attribute_name=np.array(["", "parked", ""]),
    )
    assert ground_truth_fields([gt]) == {"boxes": 3, "with_velocity": 1, "with_attribute": 1}


def test_predictions_of_other_classes_are_not_counted_as_scored() -> None:
    """Names car, car, tree, with car's range 50 m: scored_classes counts only the classes of
    class_range (2, not 3); of those, the one at 10 m is in range, the one at 80 m is not."""
    dt = EvalBoxes(
        center_m=np.array([[10.0, 0, 0], [80.0, 0, 0], [5.0, 0, 0]]),
        size_m=np.ones((3, 3)),
        yaw_rad=np.zeros(3),
        velocity_mps=np.zeros((3, 2)),
        detection_name=np.array(["car", "car", "tree"]),
        score=np.array([0.9, 0.8, 0.7]),
        ego_distance_m=np.array([10.0, 80.0, 5.0]),
    )
    assert predictions_in_range([dt], {"car": 50.0}) == {"scored_classes": 2, "in_range": 1}


# -- AV2 regrouping ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    category: np.ndarray


def test_regroup_keeps_group_names_and_maps_av2_categories() -> None:
    """A row already named "vehicle" (a file in group names) stays "vehicle";
    REGULAR_VEHICLE is a CAR -> "vehicle"; BOLLARD is a BARRIER, in no group -> ""."""
    out = _regroup(_Rows(np.array(["vehicle", "REGULAR_VEHICLE", "BOLLARD"])))
    assert out.category.tolist() == ["vehicle", "vehicle", ""]


# -- frame conversion ----------------------------------------------------------------------


def test_ego_frame_detections_are_moved_into_the_cloud_frame() -> None:
    """The LiDAR sits 1 m ahead of the ego origin (ego_from_lidar translation (1, 0, 0)):
    a box at ego x = 5 is at lidar x = 5 - 1 = 4."""
    cloud = PointCloud(xyz_m=np.zeros((1, 3)), frame=LIDAR, timestamp_ns=0)
    ego_from_lidar = SE3.from_xyz_yaw(np.array([1.0, 0.0, 0.0]), 0.0)
    frame = SensorFrame(0, lidars={LIDAR: cloud}, ego_from_sensor={LIDAR: ego_from_lidar})
    lf = LabelledFrame("k", frame, native=None)
    boxes = _boxes([0.0])
    boxes = Boxes3D(
        center_m=np.array([[5.0, 0.0, 0.0]]), size_m=boxes.size_m, yaw_rad=boxes.yaw_rad,
        label=boxes.label, score=boxes.score, frame="ego",
    )  # fmt: skip
    moved = _in_cloud_frame(boxes, lf)
    assert moved.frame == LIDAR
    np.testing.assert_allclose(moved.center_m, [[4.0, 0.0, 0.0]], atol=1e-12)


# -- KITTI file checks ---------------------------------------------------------------------


def test_unscored_kitti_files_list_three_names_without_ellipsis_for_three(
    tmp_path: Path,
) -> None:
    """Labelled frame 000000 only; files 000000..000003: three unlabelled files, all three
    named, and ", ..." only when there are more than three."""
    folder = _kitti_detections(tmp_path, ["000000", "000001", "000002", "000003"])
    said = _kitti_unscored_files("kitti", folder, tmp_path, {"000000"})
    assert len(said) == 1
    assert "3 detection file(s)" in said[0]
    assert "(first 000001.txt, 000002.txt, 000003.txt): not scored" in said[0]
    (folder / "000004.txt").write_text("")
    said = _kitti_unscored_files("kitti", folder, tmp_path, {"000000"})
    assert "(first 000001.txt, 000002.txt, 000003.txt, ...): not scored" in said[0]


def test_ab3dmot_folders_are_not_checked_for_unscored_files(tmp_path: Path) -> None:
    """A folder with a pointrcnn_Car_val sub-folder holds whole sequences: no warning even
    with a top-level file of an unlabelled frame."""
    folder = _kitti_detections(tmp_path, ["000005"])
    (folder / "pointrcnn_Car_val").mkdir()
    assert _kitti_unscored_files("kitti", folder, tmp_path, {"000000"}) == []


def test_score_column_tie_blames_the_file_without_scores(tmp_path: Path) -> None:
    """One file with a 16th column, one without: odd = unscored when len(unscored) <=
    len(scored) (1 <= 1), so the error names the file without scores and says "has no"."""
    folder = _kitti_detections(tmp_path, ["000000"])
    (folder / "000001.txt").write_text(CAR_LABEL + "\n")
    with pytest.raises(DataError) as info:
        _kitti_score_columns(folder, ["000000", "000001"])
    assert "has no score column" in str(info.value)
    assert str(folder / "000001.txt") in str(info.value)


# -- the loop ------------------------------------------------------------------------------


def test_progress_total_is_capped_by_max_frames(tmp_path: Path) -> None:
    """Two labelled frames, --max-frames 1: the progress bar's total is min(2, 1) = 1, and
    one frame is scored."""
    root = _kitti_root(tmp_path, ["000000", "000001"])
    dets = _kitti_detections(tmp_path, ["000000", "000001"])
    seen: list[int] = []

    def progress(frames: Any) -> Any:
        seen.append(len(frames))
        return frames

    res = evaluate_dataset("kitti", root, detections=dets, max_frames=1, progress=progress)
    assert seen == [1]
    assert res["num_frames"] == 1 and res["frames"] == ["000000"]


def test_no_frame_scored_is_an_error(tmp_path: Path) -> None:
    """--max-frames 0 leaves no frame: DataError "no labelled frames", not a score of none."""
    root = _kitti_root(tmp_path, ["000000"])
    dets = _kitti_detections(tmp_path, ["000000"])
    with pytest.raises(DataError, match="no labelled frames"):
        evaluate_dataset("kitti", root, detections=dets, max_frames=0)


# -- loaders -------------------------------------------------------------------------------


def test_kitti_frames_with_points_require_the_calibration_file(tmp_path: Path) -> None:
    """Running a detector (points loaded) needs calib/<frame>.txt to put the labels in the
    LiDAR frame: a missing one is a DataError, not a frame with no labels."""
    root = _kitti_root(tmp_path, ["000000"])
    scans = root / "training" / "velodyne"
    scans.mkdir()
    np.zeros((1, 4), dtype=np.float32).tofile(scans / "000000.bin")
    with pytest.raises(DataError):
        list(labelled_frames("kitti", root, load_points=True))
    # without points (scoring files) the same frame is read, calib None
    (lf,) = labelled_frames("kitti", root, load_points=False)
    assert lf.calib is None and lf.frame.labels is not None and len(lf.frame.labels) == 0


# -- KITTI: detections kept inside the image -----------------------------------------------

# f = 700 px, principal point (600, 180); camera x = -lidar y, y = -lidar z, z = lidar x
CALIB = """P0: 700 0 600 0 0 700 180 0 0 0 1 0
P1: 700 0 600 0 0 700 180 0 0 0 1 0
P2: 700 0 600 0 0 700 180 0 0 0 1 0
P3: 700 0 600 0 0 700 180 0 0 0 1 0
R0_rect: 1 0 0 0 1 0 0 0 1
Tr_velo_to_cam: 0 -1 0 0 0 0 -1 0 1 0 0 0
Tr_imu_to_velo: 1 0 0 0 0 1 0 0 0 0 1 0
"""


@pytest.mark.parametrize(
    ("center", "kept"),
    [
        ((10.0, 0.0, 0.0), 1),  # ahead: u = 600, v = 180, inside 1242 x 375
        ((-10.0, 0.0, 0.0), 0),  # behind the camera: camera z = -10 <= 0
        ((10.0, 30.0, 0.0), 0),  # far left: u <= 600 - 700 * 29 / 12 < 0
        ((10.0, -30.0, 0.0), 0),  # far right: u >= 600 + 700 * 29 / 12 > 1242
        ((10.0, 0.0, 20.0), 0),  # far above: v <= 180 - 700 * 19.25 / 12 < 0
        ((10.0, 0.0, -20.0), 0),  # far below: v >= 180 + 700 * 19.25 / 12 > 375
    ],
)
def test_kitti_detections_outside_the_image_or_behind_are_dropped(
    tmp_path: Path, center: tuple[float, float, float], kept: int
) -> None:
    """A 4 x 2 x 1.5 m LiDAR box is kept only in front of the camera and overlapping the
    1242 x 375 image (the projections above, with depths 8-12 m for the box's corners)."""
    from drivestack.eval.detection.run import kitti_detections_from_boxes
    from drivestack.ingest.kitti_calib import read_kitti_calib

    (tmp_path / "calib.txt").write_text(CALIB)
    calib = read_kitti_calib(tmp_path / "calib.txt")
    frame = SensorFrame(0, ego_from_sensor={LIDAR: SE3.identity()})
    lf = LabelledFrame("000000", frame, native=None, calib=calib, image_size_wh=(1242, 375))
    boxes = Boxes3D(
        center_m=np.array([center]), size_m=np.array([[4.0, 2.0, 1.5]]), yaw_rad=np.zeros(1),
        label=np.ones(1, dtype=np.int64), score=np.ones(1), frame=LIDAR,
    )  # fmt: skip
    assert len(kitti_detections_from_boxes(boxes, lf).location_m) == kept


def test_kitti_detections_behind_the_camera_are_dropped_without_an_image_size(
    tmp_path: Path,
) -> None:
    """Without an image size (no clipping to the image) only the depth rule drops a box
    behind the camera: lidar x = -10 is camera z = -10 <= 0 -> dropped; x = +10 kept."""
    from drivestack.eval.detection.run import kitti_detections_from_boxes
    from drivestack.ingest.kitti_calib import read_kitti_calib

    (tmp_path / "calib.txt").write_text(CALIB)
    calib = read_kitti_calib(tmp_path / "calib.txt")
    frame = SensorFrame(0, ego_from_sensor={LIDAR: SE3.identity()})
    lf = LabelledFrame("000000", frame, native=None, calib=calib, image_size_wh=None)
    boxes = Boxes3D(
        center_m=np.array([[-10.0, 0.0, 0.0], [10.0, 0.0, 0.0]]),
        size_m=np.array([[4.0, 2.0, 1.5]] * 2), yaw_rad=np.zeros(2),
        label=np.ones(2, dtype=np.int64), score=np.array([0.9, 0.8]), frame=LIDAR,
    )  # fmt: skip
    kept = kitti_detections_from_boxes(boxes, lf)
    np.testing.assert_allclose(kept.location_m[:, 2], [10.0], atol=1e-9)
