"""Camera association rules pinned by value: the frame of the boxes and ties between cameras."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.fusion.association import associate_with_cameras, project_to_image
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass
from tests.perception.fusion.test_association import front_camera

CAR = int(ObjectClass.CAR)


def test_boxes_in_another_frame_project_through_ego_from_boxes() -> None:
    cal = front_camera()  # K: f = 700, c = (621, 187.5); camera 1.5 m above the ego origin
    # a box at (5, -5) in a frame whose origin is 10 m ahead of the ego: (15, -5) in the ego frame
    ego_from_boxes = SE3.from_xyz_yaw(np.array([10.0, 0.0, 0.0]), 0.0)
    box = np.array([[5.0, -5.0, 0.8, 4.0, 1.8, 1.6, 0.0]])
    xyxy, visible = project_to_image(box, cal, ego_from_boxes)
    assert visible.tolist() == [True]
    # in the ego frame the box spans x in [13, 17], y in [-5.9, -4.1], z in [0, 1.6]:
    # u = 621 - 700 y / x is smallest at y = -4.1, x = 17 (the inner side at the far face);
    # v = 187.5 + 700 (1.5 - z) / x is largest at z = 0, x = 13 (the ground at the near face)
    assert xyxy[0, 0] == pytest.approx(621.0 + 700.0 * 4.1 / 17.0)
    assert xyxy[0, 3] == pytest.approx(187.5 + 700.0 * 1.5 / 13.0)
    # the same as projecting the box moved into the ego frame by hand
    ego_box = box + np.array([10.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(xyxy, project_to_image(ego_box, cal)[0])


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_a_tie_between_cameras_goes_to_the_camera_named_first(order: tuple[str, str]) -> None:
    # two cameras with the same intrinsics and pose see the box at the same pixels, so its
    # IoU with the detection on its projection is the same (1.0) in both
    cals = {name: front_camera(name) for name in order}
    box = np.array([[15.0, 0.0, 0.8, 4.0, 1.8, 1.6, 0.0]])
    xyxy, _ = project_to_image(box, cals[order[0]])
    dets = {
        name: Detections2D(xyxy, cal.frame, score=np.array([0.9]), label=np.array([CAR]))
        for name, cal in cals.items()
    }
    m = associate_with_cameras(box, np.array([CAR]), dets, cals, iou_threshold=0.3)
    assert m.box_index.tolist() == [0]
    assert m.iou.tolist() == pytest.approx([1.0])
    assert m.camera.tolist() == [order[0]]
