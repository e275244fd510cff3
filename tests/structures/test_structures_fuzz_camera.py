"""Structure inputs found by a bad-input campaign: camera images, 2D detection labels,
unsigned integers beyond int64, trajectory query times and traffic-light positions."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.camera import CameraCalibration, CameraImage
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.tracks import Tracks
from drivestack.structures.traffic_light import TrafficLight
from drivestack.structures.trajectory import Trajectory

K = np.array([[100.0, 0.0, 8.0], [0.0, 100.0, 6.0], [0.0, 0.0, 1.0]])
CAL = CameraCalibration("front", K, 16, 12, SE3.identity(), "camera_front")


def test_camera_image_without_a_calibration_is_a_type_error() -> None:
    """It was an AttributeError ('NoneType' object has no attribute 'width_px')."""
    with pytest.raises(TypeError, match=r"CameraImage\.calibration must be a CameraCalibration"):
        CameraImage(np.zeros((12, 16, 3), np.uint8), None, 0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "pixels",
    [
        np.zeros((12, 16, 3), dtype=object),
        np.zeros((12, 16, 3), dtype=complex),
        np.zeros((12, 16, 3), dtype=bool),
        np.zeros((12, 16, 2), dtype=np.uint8),
        np.zeros((12, 16, 0), dtype=np.uint8),
    ],
    ids=["object", "complex", "bool", "2-channels", "0-channels"],
)
def test_camera_image_refuses_pixels_no_reader_makes(pixels: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"CameraImage\.pixels must"):
        CameraImage(pixels, CAL, 0)


@pytest.mark.parametrize(
    "pixels",
    [
        np.zeros((12, 16, 3), np.uint8),
        np.zeros((12, 16, 4), np.uint8),
        np.zeros((12, 16, 1), np.uint8),
        np.zeros((12, 16), np.uint16),
        np.full((12, 16), np.nan, np.float32),  # a depth image: NaN means no return
    ],
)
def test_camera_image_keeps_what_the_readers_decode(pixels: np.ndarray) -> None:
    assert CameraImage(pixels, CAL, 0).pixels.shape == pixels.shape


@pytest.mark.parametrize("label", [-7, 13, 10**6])
def test_detections_2d_refuse_labels_that_are_no_object_class(label: int) -> None:
    """They were accepted, then failed in the KITTI writer or painting (ObjectClass(99))."""
    with pytest.raises(ValueError, match=rf"Detections2D.label must hold ObjectClass .*{label}"):
        Detections2D([[0.0, 0.0, 1.0, 1.0]], "camera_front", label=[label])
    boxes = Boxes3D.from_array7([0, 0, 0, 1, 1, 1, 0], "ego", label=[1])
    assert boxes.label.tolist() == [1]  # Boxes3D's own check is unchanged


def test_unsigned_ids_beyond_int64_are_refused_not_wrapped() -> None:
    """np.uint64(2**63) cast to int64 wrapped to -2**63, silently."""
    boxes = Boxes3D.from_array7(np.zeros((2, 7)), "ego")
    with pytest.raises(ValueError, match=r"Tracks.track_id holds 9223372036854775808"):
        Tracks(np.array([2**63, 1], dtype=np.uint64), boxes)
    assert Tracks(np.array([7, 1], dtype=np.uint64), boxes).track_id.tolist() == [7, 1]


@pytest.mark.parametrize(
    "query", [np.array([0.5]), np.array([np.nan]), np.array([[1]])], ids=["float", "nan", "2d"]
)
def test_trajectory_interpolate_refuses_times_that_are_not_integer_ns(query: np.ndarray) -> None:
    """A float time was truncated, NaN cast to garbage, a 2-D query flattened, silently."""
    t = np.arange(3, dtype=np.int64)
    z = np.zeros(3)
    traj = Trajectory(t, np.arange(3.0), z, z, z, z, z)
    with pytest.raises(ValueError, match=r"Trajectory\.interpolate timestamps_ns"):
        traj.interpolate(query)
    assert traj.interpolate(np.int64(1)).x_m.tolist() == [1.0]


@pytest.mark.parametrize("position", [(1.0,), (1.0, 2.0, 3.0), 5.0])
def test_traffic_light_position_must_be_a_pair(position: object) -> None:
    with pytest.raises(ValueError, match=r"TrafficLight 'a' position_m must be \(x, y\)"):
        TrafficLight("a", (), position_m=position)  # type: ignore[arg-type]
    assert TrafficLight("a", (), position_m=np.array([1.0, 2.0])).position_m == (1.0, 2.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("count", [12, 14, 3, 6])
def test_distortion_the_projection_cannot_use_is_refused_when_built(count: int) -> None:
    """12 or 14 coefficients were accepted here, and the first projection then failed with a
    message that did not name the camera."""
    with pytest.raises(
        ValueError, match=rf"'front': distortion must have 0, 4, 5 or 8 .* got {count}"
    ):
        CameraCalibration("front", K, 16, 12, SE3.identity(), "camera_front", np.zeros(count))
    for ok in (0, 4, 5, 8):
        CameraCalibration("front", K, 16, 12, SE3.identity(), "camera_front", np.zeros(ok))
