"""The one KITTI object record: shared parser, defaults, conversions and 3D->2D projection."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_format import (
    CAMERA_RECT_ZUP,
    KittiObjects,
    boxes_to_objects,
    objects_2d_only,
    objects_to_boxes,
    parse_object_rows,
    project_boxes_to_image_xyxy,
)
from drivestack.ingest.kitti_object import format_kitti_label, read_kitti_label
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from tests.ingest._helpers import IDEAL_CALIB as IDEAL

P2 = IDEAL.P["P2"]
CAR = "Car 0.10 1 0.50 500 150 600 250 2.0 1.8 4.0 1.0 2.0 10.0 0.0"


def _objects(types: list[str], **columns: object) -> KittiObjects:
    """Rows of ``types`` with the given columns, zeros (1 m sizes) elsewhere."""
    n = len(types)
    zeros = {"truncation": np.zeros(n), "occlusion": np.zeros(n), "alpha_rad": np.zeros(n)}
    zeros |= {"box2d_xyxy_px": np.zeros((n, 4)), "hwl_m": np.ones((n, 3))}
    zeros |= {"location_m": np.zeros((n, 3)), "rotation_y_rad": np.zeros(n)}
    return KittiObjects(type_name=types, **(zeros | columns))  # type: ignore[arg-type]


def test_tracking_rows_are_object_rows_behind_frame_and_track_id() -> None:
    rows = [["7", "3", *CAR.split(), "0.9"], ["8", "-1", *CAR.replace("Car", "DontCare").split()]]
    ids, objs = parse_object_rows(
        rows, path="t.txt", line_numbers=[1, 2], leading=("frame", "track_id"), missing_score=-5.0
    )
    np.testing.assert_array_equal(ids, [[7, 3], [8, -1]])
    assert objs.type_name.tolist() == ["Car", "DontCare"] and objs.path == "t.txt"
    assert objs.score.tolist() == [0.9, -5.0]  # the second row has no score
    assert objs.occlusion.dtype == np.int64 and objs.occlusion.tolist() == [1, 1]
    np.testing.assert_array_equal(objs.hwl_m[0], [2.0, 1.8, 4.0])
    np.testing.assert_array_equal(objs.location_m[0], [1.0, 2.0, 10.0])
    assert objs.frame.tolist() == [-1, -1]  # the leading columns are the caller's to place


@pytest.mark.parametrize(
    ("row", "record", "field", "message"),
    [
        (["1", "2", *CAR.split()[:5]], "line 4", None, "expected 17 or 18 columns .* got 7"),
        (["1", "x", *CAR.split()], "line 4", "track_id", "not a number"),
        (["1", "2", *CAR.replace("0.50", "inf").split()], "line 4", "alpha", "NaN or infinite"),
        (["1", "2", *CAR.replace("1.8", "-1.8").split()], "line 4", "h w l", "negative"),
        (["1", "2", *CAR.split(), "high"], "line 4", "score", "not a number"),
        (["1", "2", *CAR.replace("Car", "Bus").split()], "line 4", "type", "unknown KITTI type"),
    ],
)
def test_parse_errors_name_file_line_and_field(
    row: list[str], record: str, field: str | None, message: str
) -> None:
    good = ["0", "0", *CAR.split()]
    with pytest.raises(DataError, match=message) as err:
        parse_object_rows(
            [good, row], path="seq.txt", line_numbers=[2, 4], leading=("frame", "track_id")
        )
    assert err.value.record == record and err.value.field == field
    assert "seq.txt" in str(err.value)


def test_record_defaults_select_and_concatenate() -> None:
    a = _objects(["Car", "Van"])
    assert a.score.tolist() == [1.0, 1.0]
    assert a.frame.tolist() == [-1, -1] and a.track_id.tolist() == [-1, -1]
    assert a.box2d_xyxy_px.shape == (2, 4) and a.occlusion.dtype == np.int64
    b = _objects(["Tram"], frame=[4], track_id=[9], score=[0.5], path="b.txt")
    both = KittiObjects.concatenate([a, b])
    assert both.type_name.tolist() == ["Car", "Van", "Tram"]
    assert both.frame.tolist() == [-1, -1, 4] and both.score.tolist() == [1.0, 1.0, 0.5]
    assert both.select([2, 0]).type_name.tolist() == ["Tram", "Car"]
    assert len(KittiObjects.concatenate([])) == 0
    with pytest.raises(ValueError, match="location_m"):
        _objects(["Car"], location_m=np.zeros((2, 3)))


def test_unknown_type_is_an_error_and_dont_care_has_no_box() -> None:
    objs = _objects(["car", "DontCare", "Zeppelin"])
    with pytest.raises(DataError, match="Zeppelin") as err:
        objects_to_boxes(objs, None)
    assert err.value.record == "object 2"
    boxes = objects_to_boxes(objs.select([0, 1]), None)
    assert len(boxes) == 1 and boxes.label[0] == ObjectClass.CAR  # any case; DontCare dropped


def test_both_camera_to_lidar_routes_agree_for_an_untilted_camera() -> None:
    ry = np.array([0.3, -2.0])
    objs = _objects(
        ["Car", "Cyclist"],
        hwl_m=[[2.0, 1.8, 4.0], [1.7, 0.6, 1.8]],
        location_m=[[1.0, 2.0, 10.0], [-3.0, 1.5, 20.0]],
        rotation_y_rad=ry,
        score=[np.nan, 0.4],
    )
    zup = objects_to_boxes(objs, None)
    lidar = objects_to_boxes(objs, IDEAL)
    # the ideal LiDAR frame is camera_rect_zup: both routes give the same boxes
    assert zup.frame == CAMERA_RECT_ZUP and lidar.frame == "lidar"
    np.testing.assert_allclose(lidar.center_m, zup.center_m, atol=1e-12)
    np.testing.assert_allclose(lidar.center_m[0], [10.0, -1.0, -1.0], atol=1e-12)  # h/2 above
    np.testing.assert_allclose(np.sin(lidar.yaw_rad - zup.yaw_rad), 0.0, atol=1e-12)
    assert zup.score.tolist() == [1.0, 0.4]  # NaN (tracking label) -> 1.0
    for boxes, calib in ((zup, None), (lidar, IDEAL)):
        back = boxes_to_objects(boxes, calib, box2d_xyxy_px=np.zeros((2, 4)))
        np.testing.assert_allclose(back.location_m, objs.location_m, atol=1e-12)
        np.testing.assert_allclose(np.sin(back.rotation_y_rad - ry), 0.0, atol=1e-12)
        assert back.type_name.tolist() == ["Car", "Cyclist"]


def test_array_boxes_need_a_score_and_get_misc_types() -> None:
    arr = np.array([[10.0, 0.0, 0.0, 4.0, 1.8, 1.5, 0.0]])
    with pytest.raises(ValueError, match="score"):
        boxes_to_objects(arr, None, box2d_xyxy_px=np.zeros((1, 4)))
    rows = boxes_to_objects(
        arr, None, box2d_xyxy_px=np.zeros((1, 4)), score=[0.7], unknown_visibility=True
    )
    assert rows.type_name.tolist() == ["Misc"] and rows.score.tolist() == [0.7]
    assert rows.truncation.tolist() == [-1.0] and rows.occlusion.tolist() == [-1]
    # yaw 0 along z-up x (camera forward): rotation_y = -pi/2, alpha = ry - atan2(0, 10)
    assert rows.rotation_y_rad[0] == pytest.approx(-np.pi / 2)
    assert rows.alpha_rad[0] == pytest.approx(-np.pi / 2)


def test_projection_hand_computed_and_clipped() -> None:
    # z-up box 10 m ahead, 4 m long (x), 2 m wide (y), 2 m tall: camera x in [-1, 1], y in [-1, 1]
    box = np.array([[10.0, 0.0, 0.0, 4.0, 2.0, 2.0, 0.0]])
    xyxy = project_boxes_to_image_xyxy(box, P2)
    np.testing.assert_allclose(
        xyxy[0], [600 - 700 / 8, 180 - 700 / 8, 600 + 700 / 8, 180 + 700 / 8]
    )
    clipped = project_boxes_to_image_xyxy(box, P2, image_edge_px=(650.0, 200.0))
    np.testing.assert_allclose(clipped[0], [600 - 700 / 8, 180 - 700 / 8, 650.0, 200.0])
    lidar = Boxes3D.from_array7(box, "lidar")  # the ideal LiDAR frame is the z-up camera frame
    np.testing.assert_allclose(project_boxes_to_image_xyxy(lidar, P2, IDEAL), xyxy, atol=1e-9)
    assert project_boxes_to_image_xyxy(np.zeros((0, 7)), P2).shape == (0, 4)


def test_projection_rules_for_corners_behind_the_camera() -> None:
    # 4 m long box centred 1 m ahead: its rear corners are 1 m behind the camera (depth -1)
    box = np.array([[1.0, -2.0, 0.0, 4.0, 2.0, 2.0, 0.0]])  # camera x in [1, 3]
    clamp = project_boxes_to_image_xyxy(box, P2, min_depth_m=0.1)
    # clamped: the rear corners sit at depth 0.1 -> u = 600 + 700 x / 0.1
    assert clamp[0, 2] == pytest.approx(600 + 700 * 3 / 0.1)
    assert clamp[0, 0] == pytest.approx(600 + 700 * 1 / 3)  # nearest-in-front at depth 3, x = 1
    scale = project_boxes_to_image_xyxy(box, P2, min_depth_m=1e-3, clamp_depth=False)
    # divided by 1e-3 instead of their depth: u = (700 x + 600 * -1) / 1e-3
    assert scale[0, 2] == pytest.approx((700 * 3 - 600) / 1e-3)
    assert scale[0, 1] == pytest.approx((700 * -1 - 180) / 1e-3)


#: a KITTI devkit 2D-only result row (no 3D box)
CAR_2D = "Car -1 -1 -10 500 150 600 250 -1 -1 -1 -1000 -1000 -1000 -10 0.75"


def test_2d_only_result_rows_are_read_and_flagged_as_without_3d_box() -> None:
    _, objs = parse_object_rows(
        [CAR.split(), CAR_2D.split(), CAR.replace("Car", "DontCare").split()],
        path="r.txt",
        line_numbers=[1, 2, 3],
    )
    assert objs.type_name.tolist() == ["Car", "Car", "DontCare"]
    np.testing.assert_array_equal(objs.box2d_xyxy_px[1], [500, 150, 600, 250])
    assert objs.score[1] == 0.75
    assert objs.has_box3d().tolist() == [True, False, True]  # this DontCare has 2.0 1.8 4.0
    with pytest.raises(DataError, match=r"2D-only row .* has no 3D box") as err:
        objects_to_boxes(objs, None)  # never turned into a (zero-size) 3D box
    assert err.value.path == "r.txt" and err.value.record == "object 1"


@pytest.mark.parametrize("hwl", ["-1 -1 -2", "-1 1.8 4.0", "-0.5 -1 -1", "1.5 -1 -1"])
def test_only_the_placeholder_dimensions_may_be_negative(hwl: str) -> None:
    row = CAR_2D.replace("-1 -1 -1 -1000", f"{hwl} -1000").split()
    with pytest.raises(DataError, match="negative box dimension") as err:
        parse_object_rows([row], path="r.txt", line_numbers=[7])
    assert err.value.record == "line 7" and err.value.field == "h w l"


def test_objects_2d_only_writes_the_devkit_placeholders(tmp_path: object) -> None:
    objs = objects_2d_only(["Car", "Pedestrian"], [[1, 2, 30, 40], [5, 6, 7, 80]], [0.9, 0.3])
    text = format_kitti_label(objs)
    first = [float(v) for v in text.splitlines()[0].split()[1:]]
    assert text.startswith("Car ")
    assert first == [-1, -1, -10, 1, 2, 30, 40, -1, -1, -1, -1000, -1000, -1000, -10, 0.9]
    path = tmp_path / "000000.txt"  # type: ignore[operator]
    path.write_text(text)
    back = read_kitti_label(path)
    assert back.type_name.tolist() == ["Car", "Pedestrian"]
    np.testing.assert_allclose(back.box2d_xyxy_px, objs.box2d_xyxy_px)
    np.testing.assert_allclose(back.score, [0.9, 0.3])
    assert not back.has_box3d().any()
    assert len(objects_2d_only([], np.zeros((0, 4)), [])) == 0
