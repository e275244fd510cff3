"""Bad input to the structure constructors: errors name the argument and the expected shape."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.structures import Boxes3D, PointCloud, SensorFrame, Tracks

ONE_BOX = [[1.0, 2.0, 0.5, 4.0, 2.0, 1.5, 0.0]]


@pytest.mark.parametrize(
    ("boxes", "got"),
    [
        (np.zeros((2, 6)), r"\(2, 6\)"),
        (np.zeros(14), r"\(14,\)"),
        (np.zeros((2, 7, 1)), r"\(2, 7, 1\)"),
    ],
)
def test_from_array7_names_the_argument_and_the_shapes(boxes: np.ndarray, got: str) -> None:
    with pytest.raises(
        ValueError, match=rf"Boxes3D\.from_array7 boxes must have shape \(N, 7\), got {got}"
    ):
        Boxes3D.from_array7(boxes, frame="ego")


def test_from_array7_still_takes_empty_input_and_a_single_row() -> None:
    assert len(Boxes3D.from_array7([], "ego")) == 0
    assert len(Boxes3D.from_array7(np.zeros((0, 3)), "ego")) == 0
    one = Boxes3D.from_array7(np.array(ONE_BOX[0]), "ego")
    assert len(one) == 1 and one.center_m.tolist() == [[1.0, 2.0, 0.5]]


def test_from_array7_rejects_what_numpy_cannot_convert() -> None:
    with pytest.raises(
        ValueError, match=r"from_array7 boxes must be a numeric array of shape \(N, 7\), got a list"
    ):
        Boxes3D.from_array7([[1.0, 2.0], [3.0]], "ego")
    with pytest.raises(
        ValueError, match=r"from_array7 label must be a numeric array of shape \(1,\)"
    ):
        Boxes3D.from_array7(ONE_BOX, "ego", label=["car"])


def test_one_dimensional_shapes_are_written_with_a_comma() -> None:
    with pytest.raises(ValueError, match=r"Boxes3D\.score must have shape \(2,\), got \(3,\)"):
        Boxes3D.from_array7(np.zeros((2, 7)), "ego", score=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"Boxes3D\.yaw_rad must have shape \(2,\), got \(3,\)"):
        Boxes3D(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros(3), "ego")
    boxes = Boxes3D.from_array7(np.zeros((2, 7)), "ego")
    with pytest.raises(ValueError, match=r"Tracks\.track_id must have shape \(N,\), got \(2, 2\)"):
        Tracks(np.zeros((2, 2), dtype=np.int64), boxes)
    with pytest.raises(ValueError, match=r"Tracks\.age must have shape \(2,\), got \(3,\)"):
        Tracks(np.arange(2), boxes, age=np.zeros(3, dtype=np.int64))


def test_point_cloud_bad_input() -> None:
    with pytest.raises(
        ValueError, match=r"PointCloud\.xyz_m must have shape \(N, 3\), got \(5, 2\)"
    ):
        PointCloud(np.zeros((5, 2)), "ego", 0)
    with pytest.raises(
        ValueError, match=r"PointCloud\.xyz_m must be a numeric array of shape \(N, 3\)"
    ):
        PointCloud([[1.0, 2.0], [3.0]], "ego", 0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"PointCloud\.attributes must be a mapping .* got list"):
        PointCloud(np.zeros((5, 3)), "ego", 0, [1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"PointCloud\.attributes\['i'\] must be a numeric array"):
        PointCloud(np.zeros((2, 3)), "ego", 0, {"i": [[1.0], [2.0, 3.0]]})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match=r"attributes\['i'\] must have shape \(5,\), got \(4,\)"):
        PointCloud(np.zeros((5, 3)), "ego", 0, {"i": np.zeros(4)})


def test_tracks_need_boxes3d() -> None:
    with pytest.raises(
        TypeError, match=r"Tracks\.boxes must be a Boxes3D, got ndarray; .*from_array7"
    ):
        Tracks(np.arange(2), np.zeros((2, 7)))  # type: ignore[arg-type]


def test_sensor_frame_needs_mappings() -> None:
    cloud = PointCloud(np.zeros((5, 3)), "ego", 0)
    with pytest.raises(
        TypeError,
        match=r"SensorFrame\.lidars must be a mapping .* got PointCloud; e\.g\. lidars=\{'top': cloud\}",
    ):
        SensorFrame(0, lidars=cloud)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"SensorFrame\.cameras must be a mapping .* got list"):
        SensorFrame(0, cameras=[])  # type: ignore[arg-type]
    # the hint's form works
    assert SensorFrame(cloud.timestamp_ns, lidars={"top": cloud}).lidar() is cloud
