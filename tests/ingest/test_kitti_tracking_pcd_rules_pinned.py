"""Pinned rules of the KITTI row format, the KITTI tracking files and the PCD reader.

Each test pins one rule with a hand-derived expected value (see its docstring); they were
written against mutations of ``drivestack/ingest/kitti_format.py``, ``kitti_tracking.py`` and
``pcd.py`` that the other tests let through.
"""

from __future__ import annotations

import lzma
import math
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_format import (
    KittiObjects,
    boxes_to_objects,
    observation_angle,
    project_boxes_to_image_xyxy,
    zup_array7_to_camera_rect,
)
from drivestack.ingest.kitti_tracking import (
    ab3dmot_detection_file,
    kitti_tracking_scan_path,
    parse_id_columns,
    read_ab3dmot_detections,
    read_class_detections,
    read_ego_poses,
    read_seqmap,
    read_split_seqmap,
    read_tracking_labels,
    read_tracking_results,
    write_tracking_results,
)
from drivestack.ingest.pcd import lzf_decompress, parse_pcd, pcd_xyz, read_pcd
from drivestack.structures.labels import ObjectClass
from tests.ingest._helpers import IDEAL_CALIB

P2 = IDEAL_CALIB.P["P2"]  # f = 700 px, principal point (600, 180), no translation


def _objects(types: list[str], **columns: object) -> KittiObjects:
    """Rows of ``types`` with the given columns, zeros (1 m sizes) elsewhere."""
    n = len(types)
    base: dict[str, object] = {
        "truncation": np.zeros(n),
        "occlusion": np.zeros(n),
        "alpha_rad": np.zeros(n),
        "box2d_xyxy_px": np.zeros((n, 4)),
        "hwl_m": np.ones((n, 3)),
        "location_m": np.zeros((n, 3)),
        "rotation_y_rad": np.zeros(n),
    }
    return KittiObjects(type_name=types, **(base | columns))  # type: ignore[arg-type]


# -- kitti_format.py -----------------------------------------------------------------------
def test_observation_angle_is_wrapped_to_minus_pi_up_to_pi() -> None:
    """alpha = rotation_y - atan2(x, z), wrapped to [-pi, pi). At (-1, 0, 1) atan2 = -pi/4,
    so rotation_y 0.9 pi gives 1.15 pi -> -0.85 pi; straight ahead (atan2 = 0) rotation_y pi
    gives pi, which the half-open range writes as -pi."""
    location = np.array([[-1.0, 0.0, 1.0], [0.0, 1.0, 10.0]])
    alpha = observation_angle(location, np.array([0.9 * math.pi, math.pi]))
    np.testing.assert_allclose(alpha, [-0.85 * math.pi, -math.pi], rtol=0, atol=1e-12)


def test_zup_to_camera_rotation_y_is_wrapped() -> None:
    """rotation_y = -yaw - pi/2 wrapped to [-pi, pi): a z-up box facing backwards (yaw pi)
    has rotation_y -3 pi / 2 -> pi / 2. Location is the bottom centre (-y, h/2 - z, x):
    centre (10, 0, 0.75), h 1.5 -> (0, 0, 10); hwl is (h, w, l) = (1.5, 2, 4)."""
    location, hwl, ry = zup_array7_to_camera_rect(np.array([[10.0, 0, 0.75, 4, 2, 1.5, math.pi]]))
    np.testing.assert_allclose(location, [[0.0, 0.0, 10.0]], atol=1e-12)
    np.testing.assert_allclose(hwl, [[1.5, 2.0, 4.0]])
    np.testing.assert_allclose(ry, [0.5 * math.pi], atol=1e-12)


def test_has_box3d_needs_all_three_placeholder_sizes() -> None:
    """Only the full devkit placeholder ``-1 -1 -1`` marks a row without a 3D box; a row with
    one size -1 (a DontCare row may have any sizes) still has one."""
    objs = _objects(["DontCare", "Car"], hwl_m=np.array([[-1.0, 2.0, 4.0], [-1.0, -1.0, -1.0]]))
    assert objs.has_box3d().tolist() == [True, False]


def test_kitti_types_map_to_their_classes() -> None:
    """KITTI_TO_CLASS: Van and Truck keep their classes (not Car), Tram is OTHER_VEHICLE,
    Person_sitting a PEDESTRIAN, Misc and DontCare UNKNOWN; the type's case does not matter."""
    names = ["Van", "truck", "Tram", "Person_sitting", "Misc", "dontcare"]
    expected = [
        ObjectClass.VAN,
        ObjectClass.TRUCK,
        ObjectClass.OTHER_VEHICLE,
        ObjectClass.PEDESTRIAN,
        ObjectClass.UNKNOWN,
        ObjectClass.UNKNOWN,
    ]
    assert _objects(names).object_classes().tolist() == [int(c) for c in expected]


def test_frame_slices_group_rows_by_frame_and_drop_later_frames() -> None:
    """frame_slices(3) of rows in frames [1, 0, 1, 3]: frame 0 is row 1, frame 1 rows 0 and 2
    (file order), frame 2 none; the frame-3 row is past the 3 frames and dropped."""
    objs = _objects(["Car"] * 4, frame=np.array([1, 0, 1, 3]))
    slices = objs.frame_slices(3)
    assert [s.tolist() for s in slices] == [[1], [0, 2], []]


def test_projection_adds_the_p2_translation_column() -> None:
    """P2's 4th column (the stereo baseline term) is added before dividing by depth: with
    P2[0, 3] = 70, u = 600 + (700 x + 70) / z. A 2 m cube 10 m ahead has camera x, y in
    [-1, 1] and depth in [9, 11]: u in [600 - 630/9, 600 + 770/9] = [530, 685.56], v as
    without translation 180 -/+ 700/9."""
    p2 = P2.copy()
    p2[0, 3] = 70.0
    box = np.array([[10.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]])
    xyxy = project_boxes_to_image_xyxy(box, p2)
    expected = [600 - 630 / 9, 180 - 700 / 9, 600 + 770 / 9, 180 + 700 / 9]
    np.testing.assert_allclose(xyxy[0], expected, rtol=1e-12)


def test_boxes_to_objects_divides_corners_behind_the_camera_by_1e_minus_3() -> None:
    """boxes_to_objects projects with the 3D object writer's rule: corners nearer than 1 mm
    are projected where they are but divided by 1e-3 (not moved onto 1 mm). A 2 m cube
    centred 0.5 m ahead has its rear corners at depth -0.5: u = (700 x + 600 (-0.5)) / 1e-3,
    x = +/-1 -> 400000 and -1000000; v = (700 y + 180 (-0.5)) / 1e-3 -> 610000 and -790000
    (the front corners at depth 1.5 project inside that)."""
    box = np.array([[0.5, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]])
    objs = boxes_to_objects(box, IDEAL_CALIB, score=[0.5])
    np.testing.assert_allclose(
        objs.box2d_xyxy_px[0], [-1_000_000.0, -790_000.0, 400_000.0, 610_000.0], rtol=1e-9
    )


# -- kitti_tracking.py ---------------------------------------------------------------------
BOX = "0 0 0.0 100 100 300 300 1.5 1.8 4.5 5.0 1.6 20.0 0.0"  # truncated .. rotation_y


def _write(tmp_path: Path, text: str, name: str = "0001.txt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_label_frame_must_be_below_the_sequence_frame_count(tmp_path: Path) -> None:
    """n_frames frames are 0 .. n_frames - 1: with n_frames 2 a row of frame 1 reads and a
    row of frame 2 is a DataError naming the frame field and its line (line 2)."""
    ok = _write(tmp_path, f"1 1 Car {BOX}\n", "ok.txt")
    assert read_tracking_labels(ok, n_frames=2).frame.tolist() == [1]
    late = _write(tmp_path, f"0 1 Car {BOX}\n2 1 Car {BOX}\n", "late.txt")
    with pytest.raises(DataError, match="beyond the sequence's 2 frames") as err:
        read_tracking_labels(late, n_frames=2)
    assert err.value.field == "frame" and err.value.record == "line 2"


def test_float_spelled_ids_are_read_up_to_2_to_the_53() -> None:
    """An integer-valued float spelling is read up to 2**53 inclusive (every integer up to
    there is a float): ``9007199254740992.0`` is 2**53; one beyond it is refused."""
    ids = parse_id_columns([["9007199254740992.0", "1e2"]], path="t", line_numbers=[1])
    assert ids.tolist() == [[2**53, 100]]
    with pytest.raises(DataError, match="beyond 2\\^53"):
        parse_id_columns([["9007199254740994.0", "1"]], path="t", line_numbers=[1])


def test_all_zero_3d_fields_suggest_iou_2d(tmp_path: Path) -> None:
    """With require_box3d a size <= 0 is an error; when every row's 3D fields are all zero
    (sizes and location: a 2D-only file) the message suggests ``--similarity iou_2d``. One
    row with a real box makes the file not empty: no hint."""
    zero = "0 0 0.0 100 100 300 300 0 0 0 0 0 0 0.0"
    empty = _write(tmp_path, f"0 1 Car {zero} 0.9\n1 1 Car {zero} 0.9\n", "zero.txt")
    with pytest.raises(DataError, match="--similarity iou_2d") as err:
        read_tracking_results(empty, require_box3d=True)
    assert err.value.field == "h" and err.value.record == "line 1"
    mixed = _write(tmp_path, f"0 1 Car {BOX} 0.9\n1 1 Car {zero} 0.9\n", "mixed.txt")
    with pytest.raises(DataError, match="not positive") as err:
        read_tracking_results(mixed, require_box3d=True)
    assert "iou_2d" not in str(err.value) and err.value.record == "line 2"


def test_car_and_van_share_track_ids_other_classes_do_not(tmp_path: Path) -> None:
    """The devkit reads Car with Van (ID_GROUPS): a Car and a Van with frame 0 track id 1 are
    one id given twice (naming lines 1 and 2); a Car and a Pedestrian with the same pair are
    two trackers' ids and read."""
    ok = _write(tmp_path, f"0 1 Car {BOX}\n0 1 Pedestrian {BOX}\n", "ok.txt")
    assert len(read_tracking_labels(ok)) == 2
    dup = _write(tmp_path, f"0 1 Car {BOX}\n0 1 Van {BOX}\n", "dup.txt")
    with pytest.raises(DataError, match=r"given twice \(lines 1 and 2\)"):
        read_tracking_labels(dup)


#: AB3DMOT: frame, type_id, x1, y1, x2, y2, score, h, w, l, x, y, z, rot_y, alpha
DET = "0,2,100,150,200,250,0.9,1.5,1.6,4.0,1.0,1.7,20.0,0.3,0.25"


def test_ab3dmot_columns_are_read_in_their_order(tmp_path: Path) -> None:
    """Columns ``frame, type_id, x1 y1 x2 y2, score, h w l, x y z, rot_y, alpha``: type_id 2
    is Car (1 Pedestrian, 3 Cyclist); rot_y is the 14th column (0.3), alpha the 15th (0.25);
    track id, truncation and occlusion are -1 (unknown)."""
    line2 = "3,1,1,2,3,4,0.5,1.7,0.6,0.8,-1.0,1.6,8.0,-0.3,-0.2"
    objs = read_ab3dmot_detections(_write(tmp_path, f"{DET}\n{line2}\n"))
    assert objs.type_name.tolist() == ["Car", "Pedestrian"]
    assert objs.frame.tolist() == [0, 3] and objs.track_id.tolist() == [-1, -1]
    np.testing.assert_array_equal(objs.rotation_y_rad, [0.3, -0.3])
    np.testing.assert_array_equal(objs.alpha_rad, [0.25, -0.2])
    np.testing.assert_array_equal(objs.box2d_xyxy_px[0], [100, 150, 200, 250])
    np.testing.assert_array_equal(objs.score, [0.9, 0.5])
    np.testing.assert_array_equal(objs.hwl_m[0], [1.5, 1.6, 4.0])
    np.testing.assert_array_equal(objs.location_m[0], [1.0, 1.7, 20.0])
    assert objs.truncation.tolist() == [-1.0, -1.0] and objs.occlusion.tolist() == [-1, -1]


def test_class_detections_drop_the_frame_equal_to_the_frame_count(tmp_path: Path) -> None:
    """A sequence of n_frames 2 has frames 0 and 1: a detection in frame 2 (= n_frames) is past
    its last frame and left out with a warning; frames 0 and 1 are kept."""
    path = ab3dmot_detection_file(tmp_path, "Car", "0001")
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(DET.replace("0,", f"{f},", 1) for f in (0, 1, 2)) + "\n")
    with pytest.warns(UserWarning, match="past the sequence's last frame 1"):
        objs = read_class_detections(tmp_path, "Car", "0001", n_frames=2)
    assert objs.frame.tolist() == [0, 1]


def test_seqmap_frame_count_is_end_minus_first(tmp_path: Path) -> None:
    """``NNNN empty first end``: n_frames = end - first (end exclusive): ``0 empty 0 154`` is
    154 frames, ``2 empty 5 5`` an empty range (0 frames, allowed: first <= end), while
    ``3 empty 5 4`` (end before first) is a DataError on the end_frame field."""
    entries = read_seqmap(_write(tmp_path, "0000 empty 0 154\n0002 empty 5 5\n", "a.seqmap"))
    assert [(e.name, e.first_frame, e.n_frames) for e in entries] == [
        ("0000", 0, 154),
        ("0002", 5, 0),
    ]
    with pytest.raises(DataError) as err:
        read_seqmap(_write(tmp_path, "0003 empty 5 4\n", "b.seqmap"))
    assert err.value.field == "end_frame" and err.value.record == "line 1"


def test_train_split_is_training_less_val(tmp_path: Path) -> None:
    """The train split is the training seqmap's sequences less the val seqmap's, in the
    training order: training 0000 0001 0002, val 0001 -> train 0000 0002."""
    seqmaps = tmp_path / "seqmaps"
    seqmaps.mkdir()
    training = "0000 empty 0 10\n0001 empty 0 20\n0002 empty 0 5\n"
    (seqmaps / "evaluate_tracking.seqmap.training").write_text(training)
    (seqmaps / "evaluate_tracking.seqmap.val").write_text("0001 empty 0 20\n")
    assert [e.name for e in read_split_seqmap(tmp_path, "train")] == ["0000", "0002"]


def test_ego_pose_lines_are_row_major_3x4(tmp_path: Path) -> None:
    """An ego-pose line is ``[R | t]`` row by row: ``0 0 1 10  0 1 0 20  -1 0 0 30`` is R =
    90 deg about y (rows (0 0 1), (0 1 0), (-1 0 0)) with t = (10, 20, 30), bottom row 0 0 0 1."""
    path = _write(tmp_path, "0 0 1 10 0 1 0 20 -1 0 0 30\n", "poses.txt")
    expected = [[0, 0, 1, 10], [0, 1, 0, 20], [-1, 0, 0, 30], [0, 0, 0, 1]]
    np.testing.assert_array_equal(read_ego_poses(path), [expected])


def _track_rows(frames: list[int], track_ids: list[int]) -> KittiObjects:
    n = len(frames)
    return _objects(
        ["Car"] * n,
        alpha_rad=np.full(n, 0.5),
        box2d_xyxy_px=np.tile([100.0, 150.0, 200.0, 250.5], (n, 1)),
        hwl_m=np.tile([1.5, 1.6, 4.0], (n, 1)),
        location_m=np.tile([1.0, 1.7, 20.0], (n, 1)),
        rotation_y_rad=np.full(n, 0.3),
        score=np.full(n, 0.9),
        frame=np.array(frames),
        track_id=np.array(track_ids),
    )


def test_tracking_results_are_written_by_frame_then_track_id(tmp_path: Path) -> None:
    """Rows are written sorted by frame, then track id: (1, 0), (0, 5), (0, 2) are written
    as (0, 2), (0, 5), (1, 0)."""
    path = tmp_path / "out.txt"
    write_tracking_results(path, _track_rows([1, 0, 0], [0, 5, 2]))
    written = [line.split()[:2] for line in path.read_text().splitlines()]
    assert written == [["0", "2"], ["0", "5"], ["1", "0"]]


def test_tracking_result_line_keeps_4_decimals_in_2d_and_6_elsewhere(tmp_path: Path) -> None:
    """The 2D box is written with 4 decimals, alpha, sizes, location, rotation_y and score
    with 6; truncation as ``%g`` (0), occlusion as an integer."""
    path = tmp_path / "out.txt"
    write_tracking_results(path, _track_rows([0], [1]))
    assert path.read_text() == (
        "0 1 Car 0 0 0.500000 100.0000 150.0000 200.0000 250.5000 "
        "1.500000 1.600000 4.000000 1.000000 1.700000 20.000000 0.300000 0.900000\n"
    )


def test_bin_scans_take_precedence_over_pcd_xz_copies(tmp_path: Path) -> None:
    """Scan layouts are tried in order velodyne/.bin, velodyne_pcd_xz/.pcd.xz,
    velodyne_pcd/.pcd: with frame 0 in both of the first two, the sequence's scans are the
    .bin ones, so a missing frame 5 is looked for as ``velodyne/0001/000005.bin``."""
    for folder, ext in (("velodyne", ".bin"), ("velodyne_pcd_xz", ".pcd.xz")):
        scan = tmp_path / "training" / folder / "0001" / f"000000{ext}"
        scan.parent.mkdir(parents=True)
        scan.write_bytes(b"")
    assert kitti_tracking_scan_path(tmp_path, 1, 0).name == "000000.bin"
    with pytest.raises(DataError, match="has scans of frames 0") as err:
        kitti_tracking_scan_path(tmp_path, 1, 5)
    assert err.value.path == str(tmp_path / "training" / "velodyne" / "0001" / "000005.bin")


# -- pcd.py --------------------------------------------------------------------------------
def _pcd(fields: str, rows: str, n: int, *, extra: str = "", mode: str = "ascii") -> bytes:
    """A minimal PCD file of ``n`` points with ``fields`` (``FIELDS``/``SIZE``/``TYPE`` lines)."""
    return (f"VERSION 0.7\n{fields}{extra}POINTS {n}\nDATA {mode}\n" + rows).encode()


_XYZ_F4 = "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\n"


def test_lzf_control_byte_32_is_a_back_reference_of_3_bytes() -> None:
    """LZF: a control byte below 32 starts a literal run; 32 = 0b001_00000 is already a back
    reference (length field 1 -> 1 + 2 = 3 bytes, offset 0 -> the byte just written). After
    the literal ``a`` it copies ``a`` three times: ``aaaa``."""
    assert lzf_decompress(bytes([0]) + b"a" + bytes([32, 0]), 4) == b"aaaa"


def test_lzf_length_field_7_reads_an_extra_length_byte() -> None:
    """LZF: a back reference whose 3-bit length field is 7 takes an extra length byte:
    ctrl 0xE0 (length 7, offset high bits 0), extra 1 -> length 8 -> 8 + 2 = 10 bytes copied
    from 1 back; after the literal ``a`` that is 11 ``a``."""
    assert lzf_decompress(bytes([0]) + b"a" + bytes([0xE0, 1, 0]), 11) == b"a" * 11


def test_lzf_length_field_6_has_no_extra_length_byte() -> None:
    """LZF: length field 6 (ctrl 0xC0) is the length itself: 6 + 2 = 8 bytes copied, the next
    byte is the offset's low byte (0: one back). ``a`` + 8 ``a`` = 9 ``a``."""
    assert lzf_decompress(bytes([0]) + b"a" + bytes([0xC0, 0]), 9) == b"a" * 9


def test_ascii_rows_after_the_last_point_are_ignored() -> None:
    """The point count comes from POINTS, never from the data (as PCL reads): POINTS 1 with
    two data rows reads the first row only."""
    pcd = parse_pcd(_pcd(_XYZ_F4, "1 2 3\n4 5 6\n", 1))
    assert pcd.num_points == 1
    np.testing.assert_array_equal(pcd.columns["x"], np.array([1.0], dtype=np.float32))


def test_integer_coordinates_widen_to_float64() -> None:
    """pcd_xyz converts integer coordinate columns to float64 (int32 -> float32 would round
    values above 2**24): 16777217 = 2**24 + 1 is kept exactly."""
    fields = "FIELDS x y z\nSIZE 4 4 4\nTYPE I I I\n"
    xyz = pcd_xyz(parse_pcd(_pcd(fields, "16777217 -2 0\n", 1)))
    assert xyz.dtype == np.float64
    assert xyz[0, 0] == 16777217.0


def test_xz_null_padding_must_be_a_multiple_of_4(tmp_path: Path) -> None:
    """xz stream padding is null bytes in multiples of 4 (as ``xz -d``): 4 nulls after a
    stream are padding, 2 nulls are trailing garbage (a DataError at the stream's end)."""
    plain = _pcd(_XYZ_F4, "1 2 3\n", 1)
    good = lzma.compress(plain)
    ok = tmp_path / "ok.pcd.xz"
    ok.write_bytes(good + b"\0" * 4)
    assert read_pcd(ok).num_points == 1
    bad = tmp_path / "bad.pcd.xz"
    bad.write_bytes(good + b"\0" * 2)
    with pytest.raises(DataError, match="after the end of the xz stream"):
        read_pcd(bad)


def test_missing_viewpoint_is_the_identity_pose() -> None:
    """Without a VIEWPOINT line the viewpoint is PCL's default ``0 0 0 1 0 0 0``: no
    translation and the identity quaternion, written ``qw qx qy qz`` so qw (index 3) is 1."""
    pcd = parse_pcd(_pcd(_XYZ_F4, "1 2 3\n", 1))
    np.testing.assert_array_equal(pcd.viewpoint, [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0])


def test_missing_height_means_an_unorganised_cloud() -> None:
    """Without a HEIGHT line the cloud is unorganised: HEIGHT 1, so WIDTH 2 x 1 = POINTS 2
    is consistent and both points are read."""
    pcd = parse_pcd(_pcd(_XYZ_F4, "1 2 3\n4 5 6\n", 2, extra="WIDTH 2\n"))
    assert (pcd.width, pcd.height, pcd.num_points) == (2, 1, 2)
