"""KITTI export: labels at the LiDAR's forward firing, 2D boxes cut at the near plane,
objects outside the camera view left out, occlusion levels from the visible share."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.ingest.kitti_object import read_kitti_label, read_kitti_object_frame
from drivestack.kernels import points_in_boxes
from drivestack.sim.export_kitti import export_kitti_object, occlusion_levels
from drivestack.sim.sensors import CameraModel, LidarModel, SensorScene
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.camera import CameraImage
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

F = 721.5377
CX, CY = 621.0, 187.5
MOUNT = SE3.from_xyz_yaw([1.3, 0.0, 1.9], 0.0)
CAMERA = CameraModel.looking_forward("front", 1242, 375, F, (1.6, 0.0, 1.65))  # as drivestack sim


def _frame(labels_ego: np.ndarray, cloud: PointCloud | None = None) -> SensorFrame:
    n = len(labels_ego)
    labels = Boxes3D.from_array7(labels_ego, "ego", 0, label=[ObjectClass.CAR] * n)
    image = CameraImage(np.zeros((375, 1242, 3), np.uint8), CAMERA.calibration, 0)
    cloud = cloud or PointCloud.from_finite_xyz(np.zeros((1, 3), np.float32), "lidar", 0)
    return SensorFrame(
        0,
        lidars={"top": cloud},
        cameras={"front": image},
        ego_from_sensor={"top": MOUNT},
        labels=labels,
        source="test",
    )


def test_2d_boxes_in_view_beside_the_camera_and_out_of_view(tmp_path):
    # camera at ego (1.6, 0, 1.65) looking along +x; cars 4 x 1.8 x 1.5 m on the ground
    ahead = [21.6, 0.0, 0.75, 4.0, 1.8, 1.5, 0.0]  # camera depth 18 .. 22 m, straight ahead
    out_of_view = [11.6, 30.0, 0.75, 4.0, 1.8, 1.5, 0.0]  # 10 m ahead, 30 m left: not in view
    beside = [2.2, -3.0, 0.75, 4.0, 1.8, 1.5, 0.0]  # depth -1.4 .. 2.6 m, 2.1 .. 3.9 m right
    frame = _frame(np.array([ahead, out_of_view, beside]))
    export_kitti_object([(frame, np.array([0.95, 0.6, 0.2]))], tmp_path)
    rows = read_kitti_label(tmp_path / "training/label_2/000000.txt")
    assert len(rows) == 2  # the car outside the camera's view is not labelled
    # straight ahead: the near face (depth 18) spans x, the far top edge (depth 22) the top
    np.testing.assert_allclose(
        rows.box2d_xyxy_px[0],
        [CX - F * 0.9 / 18, CY + F * 0.15 / 22, CX + F * 0.9 / 18, CY + F * 1.65 / 18],
        atol=0.01,  # written with 2 decimals
    )
    assert rows.truncation[0] == 0.0 and rows.occlusion[0] == 0
    # beside: cut at the near plane, the top-left corner at depth 2.6 m (below the horizon)
    np.testing.assert_allclose(
        rows.box2d_xyxy_px[1], [CX + F * 2.1 / 2.6, CY + F * 0.15 / 2.6, 1242, 375], atol=0.01
    )
    assert rows.box2d_xyxy_px[1][1] > CY  # the car's top is below the camera: not above the horizon
    assert rows.truncation[1] > 0.9 and rows.occlusion[1] == 2


def test_occlusion_levels_and_unknown_without_visible_share(tmp_path):
    np.testing.assert_array_equal(
        occlusion_levels(np.array([1.0, 0.9, 0.89, 0.5, 0.49, 0.0, np.nan])), [0, 0, 1, 1, 2, 2, 3]
    )
    export_kitti_object([_frame(np.array([[21.6, 0.0, 0.75, 4.0, 1.8, 1.5, 0.0]]))], tmp_path)
    assert read_kitti_label(tmp_path / "training/label_2/000000.txt").occlusion.tolist() == [3]


def test_camera_visible_share_of_an_agent_behind_another():
    scene = SensorScene(ground=False)
    near = [11.6, 0.0, 1.5, 2.0, 3.0, 3.0, 0.0]  # a solid cuboid (unknown class), 3 m wide
    hidden = [31.6, 0.0, 0.75, 4.0, 1.8, 1.5, 0.0]  # a car right behind it: not seen
    beside = [31.6, 8.0, 0.75, 4.0, 1.8, 1.5, 0.0]  # a car in clear view
    half = [31.6, 4.9, 0.75, 4.0, 1.8, 1.5, 0.0]  # a car half behind the cuboid's left edge
    scene.set_agents(
        Boxes3D.from_array7(
            [near, hidden, beside, half],
            "world",
            label=[ObjectClass.UNKNOWN] + [ObjectClass.CAR] * 3,
        )
    )
    pose = SE3.identity()
    share = CAMERA.visible_fraction(scene, pose, CAMERA.render(scene, pose, 0))
    np.testing.assert_allclose(share[:3], [1.0, 0.0, 1.0], atol=1e-9)
    assert 0.2 < share[3] < 0.8


def test_labels_hold_the_returns_of_a_car_ahead_moving_with_the_ego(tmp_path):
    # ego and a car 20 m ahead both at 20 m/s: labels are at the frame's timestamp, when the
    # LiDAR's forward column fires, so the car's returns lie in its labelled box
    speed = 20.0
    car_world = [21.3, 0.0, 0.75, 4.0, 1.8, 1.5, 0.0]
    scene = SensorScene()
    scene.set_agents(
        Boxes3D.from_array7(
            [car_world], "world", label=[ObjectClass.CAR], velocity_mps=[[speed, 0.0]]
        )
    )
    lidar = LidarModel.from_preset("hdl64", MOUNT, range_noise_std_m=0.0)
    cloud = lidar.scan(scene, SE3.identity(), 0, speed_mps=speed)
    export_kitti_object([_frame(np.array([car_world]), cloud)], tmp_path)
    back = read_kitti_object_frame(tmp_path, 0)
    xyz = back.lidar().xyz_m.astype(np.float64)
    on_car = cloud.attributes["instance"] == 1
    assert on_car.sum() > 100
    box = back.labels.to_array7().copy()
    box[:, 3:6] += 0.1  # 5 cm each side (written with 2 decimals, float32 points)
    assert np.asarray(points_in_boxes(xyz[on_car], box))[:, 0].all()
    # before: the forward column fired 50 ms after the labels' time, the car stood still
    # (its rear face 1 m nearer than labelled)


@pytest.mark.parametrize("share", [np.array([0.5, 0.5])])
def test_visible_share_must_match_the_labels(tmp_path, share):
    from drivestack.core.errors import DataError

    with pytest.raises(DataError, match="visible share"):
        export_kitti_object(
            [(_frame(np.array([[21.6, 0.0, 0.75, 4.0, 1.8, 1.5, 0.0]])), share)], tmp_path
        )
