"""The per-dataset convention table of :mod:`drivestack.ingest` holds for the real samples:
frame key, frame of cloud and labels, intensity dtype and range, coordinate dtype, the road
height in that frame, and the documented recipe for ego-frame labels."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from drivestack.structures.sensor_frame import SensorFrame


def _kitti_object(d: Path) -> SensorFrame:
    from drivestack.ingest.kitti_object import read_kitti_object_frame

    frame = read_kitti_object_frame(d / "kitti_object", 0)
    same = read_kitti_object_frame(d / "kitti_object", "000000", load_images=False)
    assert same.source == frame.source
    return frame


def _kitti_tracking(d: Path) -> SensorFrame:
    from drivestack.ingest.kitti_tracking import read_kitti_tracking_frame

    return read_kitti_tracking_frame(d / "kitti_tracking", "0000", 120)


def _nuscenes(d: Path) -> SensorFrame:
    from drivestack.ingest.nuscenes import read_nuscenes_frame

    info = d / "nuscenes_samples/mmdet3d_demo/n015-2018-07-24-11-22-45+0800_info.json"
    return read_nuscenes_frame(info, 0)


def _argoverse2(d: Path) -> SensorFrame:
    from drivestack.ingest.argoverse2 import read_av2_frame

    log = d / "argoverse2/sensor/val/7fab2350-7eaf-3b7e-a39d-6937a4c1bede"
    return read_av2_frame(log, 315966265259836000)


def _aimotive(d: Path) -> SensorFrame:
    from drivestack.ingest.aimotive import read_aimotive_frame

    seq = d / "aimotive/train/nighttime/20210901-194123-00.37.12-00.37.27@Yoda"
    return read_aimotive_frame(seq, "frame_0033643")


def _pandaset(d: Path) -> SensorFrame:
    from drivestack.ingest.pandaset import read_pandaset_frame

    return read_pandaset_frame(d / "pandaset/002", 0)


# reader, frame, intensity dtype and upper bound, xyz dtype, road z (m) in that frame
CASES: list[tuple[Callable[[Path], SensorFrame], str, str, float, str, float]] = [
    (_kitti_object, "lidar", "float32", 1.0, "float32", -1.6),
    (_kitti_tracking, "lidar", "float32", 1.0, "float32", -1.6),
    (_nuscenes, "lidar", "float32", 255.0, "float32", -1.8),
    (_argoverse2, "ego", "uint8", 255, "float32", -0.4),
    (_aimotive, "ego", "uint16", 254, "float64", 0.0),
    (_pandaset, "ego", "uint8", 255, "float32", -0.4),
]


@pytest.mark.data
@pytest.mark.parametrize(
    ("read", "frame_id", "intensity_dtype", "intensity_max", "xyz_dtype", "road_z"),
    CASES,
    ids=[c[0].__name__.strip("_") for c in CASES],
)
def test_documented_conventions_hold(
    shared_data: Path,
    read: Callable[[Path], SensorFrame],
    frame_id: str,
    intensity_dtype: str,
    intensity_max: float,
    xyz_dtype: str,
    road_z: float,
) -> None:
    frame = read(shared_data)
    cloud, labels = frame.lidar("lidar"), frame.labels
    assert cloud.frame == frame_id and labels is not None and labels.frame == frame_id
    assert cloud.xyz_m.dtype == np.dtype(xyz_dtype)
    intensity = cloud.attributes["intensity"]
    assert intensity.dtype == np.dtype(intensity_dtype)
    assert intensity.min() >= 0 and intensity.max() <= intensity_max
    assert intensity.max() > intensity_max / 2  # the whole range is used: not normalised
    # the road: the label box bottoms near the sensor lie about road_z in that frame
    near = np.hypot(labels.center_m[:, 0], labels.center_m[:, 1]) < 20
    bottoms = labels.center_m[near, 2] - labels.size_m[near, 2] / 2
    assert bottoms.size and abs(float(np.median(bottoms)) - road_z) < 0.35
    # the documented recipe gives ego-frame labels: the road moves by the mounting height
    # (nuScenes: onto z = 0; KITTI's ego is the Velodyne frame, the others' is already ego)
    ego_from_lidar = frame.ego_from_sensor["lidar"]
    ego = labels.transformed(ego_from_lidar, "ego")
    near = np.hypot(ego.center_m[:, 0], ego.center_m[:, 1]) < 20
    ego_bottoms = ego.center_m[near, 2] - ego.size_m[near, 2] / 2
    ego_road_z = road_z + ego_from_lidar.translation[2]
    assert ego.frame == "ego" and abs(float(np.median(ego_bottoms)) - ego_road_z) < 0.35


@pytest.mark.data
def test_nuscenes_lidar_is_x_right_y_forward(shared_data: Path) -> None:
    frame = _nuscenes(shared_data)
    ego_from_lidar = frame.ego_from_sensor["lidar"]
    # lidar +y (forward) is ego +x; lidar +x (right) is ego -y
    np.testing.assert_allclose(
        ego_from_lidar.rotate(np.array([0.0, 1.0, 0.0])), [1, 0, 0], atol=0.03
    )
    np.testing.assert_allclose(
        ego_from_lidar.rotate(np.array([1.0, 0.0, 0.0])), [0, -1, 0], atol=0.03
    )
    assert ego_from_lidar.translation[2] == pytest.approx(1.84, abs=0.01)


@pytest.mark.data
def test_kitti_ego_is_the_velodyne_frame(shared_data: Path) -> None:
    for frame in (_kitti_object(shared_data), _kitti_tracking(shared_data)):
        np.testing.assert_array_equal(frame.ego_from_sensor["lidar"].as_matrix(), np.eye(4))
