"""Rules of the dataset readers (KITTI, Argoverse 2, aiMotive, PandaSet) pinned with small
hand-built inputs and hand-derived expected values: key spellings, box size order, yaw
conventions, default timestamps and columns, and the thresholds of the input checks."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest._rigid import rigid_from_matrix
from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_format import KittiObjects
from drivestack.ingest.kitti_object import format_kitti_label, read_velodyne_bin
from drivestack.structures.labels import ObjectClass

# -- _rigid ---------------------------------------------------------------------------------


def test_rigid_4x4_last_row_must_be_0_0_0_1() -> None:
    """A 4x4 rigid transform's last row is [0, 0, 0, 1]; [0, 0, 0, 2] is 1.0 off (far beyond
    the 1e-4 tolerance) even though the rotation block is the identity."""
    m = np.eye(4)
    m[3, 3] = 2.0
    with pytest.raises(DataError, match="last row"):
        rigid_from_matrix(m, path="x.json", record="cam", field="RT")


def test_rigid_default_tolerance_is_1e_4() -> None:
    """The rotation block may be off the nearest rotation by at most 1e-4 per entry.

    For R = I + e * E01 (one off-diagonal entry e), the nearest rotation is, to first order,
    I + (E01 - E10) * e / 2, so the largest entry error is e / 2: e = 1e-4 gives 5e-5
    (accepted), e = 5e-4 gives 2.5e-4 (refused; a 1e-3 tolerance would accept it)."""
    ok = np.eye(3, 4)
    ok[0, 1] = 1e-4
    rigid_from_matrix(ok)
    bad = np.eye(3, 4)
    bad[0, 1] = 5e-4
    with pytest.raises(DataError, match="not orthonormal"):
        rigid_from_matrix(bad)


def test_rigid_batch_error_names_the_first_bad_record() -> None:
    """In a batch, the error names the FIRST bad matrix's record: matrices 1 and 2 (of 0..2)
    are not rotations, so the record is ``batch_records[1]`` = "line 2"."""
    batch = np.stack([np.eye(3, 4)] * 3)
    batch[1, 0, 0] = 2.0
    batch[2, 1, 1] = 3.0
    with pytest.raises(DataError) as err:
        rigid_from_matrix(batch, path="p", batch_records=["line 1", "line 2", "line 3"])
    assert err.value.record == "line 2"


# -- kitti_calib ----------------------------------------------------------------------------

_P = "700 0 600 0 0 700 180 0 0 0 1 0"
_TR = "0 -1 0 0.5 0 0 -1 -0.1 1 0 0 -0.3"  # LiDAR (x fwd) -> camera (z fwd), t = (.5, -.1, -.3)


def test_kitti_tracking_key_spellings_are_read_as_object_names(tmp_path: Path) -> None:
    """The tracking benchmark spells R0_rect ``R_rect``, Tr_velo_to_cam ``Tr_velo_cam`` and
    Tr_imu_to_velo ``Tr_imu_velo`` (no colon); each is read into its canonical field."""
    path = tmp_path / "0000.txt"
    path.write_text(
        f"P0: {_P}\nP1: {_P}\nP2: {_P}\nP3: {_P}\n"
        "R_rect 1 0 0 0 1 0 0 0 1\n"
        f"Tr_velo_cam {_TR}\n"
        "Tr_imu_velo 1 0 0 -0.8 0 1 0 0.3 0 0 1 -0.9\n"
    )
    calib = read_kitti_calib(path)
    np.testing.assert_array_equal(calib.R0_rect, np.eye(3))
    np.testing.assert_array_equal(calib.Tr_velo_to_cam[:, 3], [0.5, -0.1, -0.3])
    assert calib.Tr_imu_to_velo is not None
    np.testing.assert_array_equal(calib.Tr_imu_to_velo[:, 3], [-0.8, 0.3, -0.9])


def test_kitti_odometry_tr_line_without_colon_gives_identity_r0_rect(tmp_path: Path) -> None:
    """Odometry calib has P0..P3 and ``Tr`` (already into the rectified camera) and no
    R0_rect; a ``Tr`` line written without a colon still marks that layout, so R0_rect is I."""
    path = tmp_path / "calib.txt"
    path.write_text(f"P0 {_P}\nP1 {_P}\nP2 {_P}\nP3 {_P}\nTr {_TR}\n")
    calib = read_kitti_calib(path)
    np.testing.assert_array_equal(calib.R0_rect, np.eye(3))
    np.testing.assert_array_equal(calib.Tr_velo_to_cam[:, 3], [0.5, -0.1, -0.3])


# -- kitti_object ---------------------------------------------------------------------------


def test_velodyne_bin_size_must_be_a_multiple_of_16_bytes(tmp_path: Path) -> None:
    """A point is 4 float32 = 16 bytes: 20 bytes (a multiple of 4, not 16) is a truncated
    scan; the error names point 20 // 16 = 1 (the incomplete one)."""
    path = tmp_path / "000000.bin"
    path.write_bytes(struct.pack("<5f", 1.0, 2.0, 3.0, 0.5, 9.0))
    with pytest.raises(DataError, match="not a multiple of 16") as err:
        read_velodyne_bin(path)
    assert err.value.record == "point 1"


def test_velodyne_reflectance_1_is_inside_and_the_first_outside_point_is_named(
    tmp_path: Path,
) -> None:
    """Reflectance lies in the closed range [0, 1]: 1.0 (point 0) is fine, 1.5 (point 1) is
    the first and only value outside, so the error names point 1 and counts 1 value."""
    path = tmp_path / "000000.bin"
    path.write_bytes(struct.pack("<8f", 1, 2, 3, 1.0, 4, 5, 6, 1.5))
    with pytest.raises(DataError, match=r"1 reflectance value\(s\) outside") as err:
        read_velodyne_bin(path)
    assert (err.value.record, err.value.field) == ("point 1", "reflectance")


def _one_car() -> KittiObjects:
    return KittiObjects(
        type_name=np.array(["Car"]),
        truncation=np.array([0.5]),
        occlusion=np.array([1]),
        alpha_rad=np.array([-0.25]),
        box2d_xyxy_px=np.array([[10.0, 20.0, 110.0, 220.0]]),
        hwl_m=np.array([[1.5, 1.6, 3.9]]),
        location_m=np.array([[1.0, 1.7, 20.0]]),
        rotation_y_rad=np.array([0.5]),
        score=np.array([0.75]),
        frame=np.array([-1]),
        track_id=np.array([-1]),
    )


def test_kitti_label_text_has_2_decimal_truncation_and_a_score_by_default() -> None:
    """KITTI result rows: type, truncation (2 decimals: "0.50"), occlusion, alpha, 2D box
    (2 decimals), h w l x y z, rotation_y (6 decimals) and, by default, the score as the 16th
    field ("0.750000")."""
    fields = format_kitti_label(_one_car()).split()
    assert len(fields) == 16
    assert fields[:4] == ["Car", "0.50", "1", "-0.250000"]
    assert fields[4:8] == ["10.00", "20.00", "110.00", "220.00"]
    assert fields[8:11] == ["1.500000", "1.600000", "3.900000"]
    assert fields[14:] == ["0.500000", "0.750000"]


# -- argoverse 2 ----------------------------------------------------------------------------


def _write_feather(path: Path, columns: dict[str, object]) -> Path:
    import pyarrow as pa
    import pyarrow.feather as feather

    path.parent.mkdir(parents=True, exist_ok=True)
    feather.write_feather(pa.table(columns), str(path))
    return path


def _av2_annotations(path: Path, categories: list[str], **extra: object) -> Path:
    n = len(categories)
    columns: dict[str, object] = {
        "timestamp_ns": np.array([315_000_000_000 + 100 * i for i in range(n)], dtype=np.int64),
        "category": categories,
        "length_m": np.full(n, 4.0),
        "width_m": np.full(n, 2.0),
        "height_m": np.full(n, 1.5),
        "qw": np.ones(n),
        "qx": np.zeros(n),
        "qy": np.zeros(n),
        "qz": np.zeros(n),
        "tx_m": np.arange(n, dtype=np.float64),
        "ty_m": np.zeros(n),
        "tz_m": np.zeros(n),
    }
    return _write_feather(path, columns | extra)


def test_av2_category_classes_box_truck_and_wheeled_rider(tmp_path: Path) -> None:
    """AV2 BOX_TRUCK is a TRUCK and WHEELED_RIDER (a person on a wheeled device) a CYCLIST
    (CATEGORY_TO_CLASS); SIGN has no class: UNKNOWN."""
    from drivestack.ingest.argoverse2 import read_av2_cuboids

    path = _av2_annotations(
        tmp_path / "log" / "annotations.feather", ["BOX_TRUCK", "WHEELED_RIDER", "SIGN"]
    )
    boxes = read_av2_cuboids(path).to_boxes(0)
    assert boxes.label.tolist() == [ObjectClass.TRUCK, ObjectClass.CYCLIST, ObjectClass.UNKNOWN]


def test_av2_optional_columns_defaults(tmp_path: Path) -> None:
    """Without the optional columns: score 1.0 (a label), num_interior_pts -1 (unknown),
    log_id the parent folder's name ("log_abc"), track_uuid "" (so no label ids)."""
    from drivestack.ingest.argoverse2 import read_av2_cuboids

    path = _av2_annotations(tmp_path / "log_abc" / "annotations.feather", ["BUS", "DOG"])
    cuboids = read_av2_cuboids(path)
    assert cuboids.score.tolist() == [1.0, 1.0]
    assert cuboids.num_interior_pts.tolist() == [-1, -1]
    assert cuboids.log_id.tolist() == ["log_abc", "log_abc"]
    assert cuboids.label_ids() is None


def test_av2_label_ids_are_none_when_any_track_uuid_is_empty(tmp_path: Path) -> None:
    """label_ids are one uuid per box or None: one empty uuid among ["a1", ""] makes them
    None (a partial id list would misalign ids and boxes); ["a1", "b2"] are kept."""
    from drivestack.ingest.argoverse2 import read_av2_cuboids

    path = tmp_path / "log" / "annotations.feather"
    _av2_annotations(path, ["BUS", "DOG"], track_uuid=["a1", ""])
    assert read_av2_cuboids(path).label_ids() is None
    _av2_annotations(path, ["BUS", "DOG"], track_uuid=["a1", "b2"])
    assert read_av2_cuboids(path).label_ids() == ("a1", "b2")


def test_av2_to_boxes_without_time_takes_the_first_rows_time(tmp_path: Path) -> None:
    """``to_boxes()`` with no timestamp uses the first row's timestamp_ns (315e9 here, the
    helper's first row), not 0."""
    from drivestack.ingest.argoverse2 import read_av2_cuboids

    path = _av2_annotations(tmp_path / "log" / "annotations.feather", ["BUS"])
    assert read_av2_cuboids(path).to_boxes().timestamp_ns == 315_000_000_000


def test_av2_pose_lookup_needs_the_exact_time() -> None:
    """AV2 logs a pose per sweep: ``at(t)`` returns the pose logged at exactly t (200 -> the
    second pose, x = 2 m) and refuses a time between two poses (150), not the next one."""
    from drivestack.ingest.argoverse2 import Av2Poses

    poses = Av2Poses(
        np.array([100, 200], dtype=np.int64),
        SE3.from_xyz_yaw(np.array([[1.0, 0, 0], [2.0, 0, 0]]), np.zeros(2)),
        "city_SE3_egovehicle.feather",
    )
    np.testing.assert_array_equal(poses.at(200).translation, [2.0, 0.0, 0.0])
    with pytest.raises(DataError, match="no ego pose at timestamp_ns 150"):
        poses.at(150)


# -- aiMotive -------------------------------------------------------------------------------


def _aim_object(object_type: str, object_id: int) -> dict[str, object]:
    """An upright 2 m cube at (1, 1, 1), at rest."""
    obj: dict[str, object] = {f"BoundingBox3D Origin {a}": 1.0 for a in "XYZ"}
    obj |= {f"BoundingBox3D Extent {a}": 2.0 for a in "XYZ"}
    obj |= {f"BoundingBox3D Orientation Quat {a}": float(a == "W") for a in "WXYZ"}
    obj |= {"Relative Velocity X": 0.0, "Relative Velocity Y": 0.0}
    return obj | {"ObjectId": object_id, "ObjectType": object_type}


def _aim_boxes_file(path: Path, objects: list[dict[str, object]], stamp: object = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"CapturedObjects": objects, "Timestamp": stamp}))
    return path


def test_aimotive_pickup_is_a_car(tmp_path: Path) -> None:
    """The aiMotive loader's CATEGORY_MAPPING puts PICKUP with the cars."""
    from drivestack.ingest.aimotive import read_aimotive_boxes

    boxes, _ = read_aimotive_boxes(_aim_boxes_file(tmp_path / "f.json", [_aim_object("PICKUP", 1)]))
    assert boxes.label.tolist() == [ObjectClass.CAR]


def test_aimotive_velocity_is_relative_velocity_x_y(tmp_path: Path) -> None:
    """velocity_mps = (Relative Velocity X, Relative Velocity Y) = (3, -4) as written."""
    from drivestack.ingest.aimotive import read_aimotive_boxes

    obj = _aim_object("CAR", 1)
    obj["Relative Velocity X"], obj["Relative Velocity Y"] = 3.0, -4.0
    boxes, _ = read_aimotive_boxes(_aim_boxes_file(tmp_path / "f.json", [obj]))
    np.testing.assert_array_equal(boxes.velocity_mps, [[3.0, -4.0]])


def test_aimotive_timestamp_0_and_a_zero_extent_are_accepted(tmp_path: Path) -> None:
    """Timestamp must be integer ns >= 0 (0 included); only a NEGATIVE extent is refused, so
    a flat box (Extent Z = 0) reads with size z 0."""
    from drivestack.ingest.aimotive import read_aimotive_boxes

    obj = _aim_object("CAR", 1)
    obj["BoundingBox3D Extent Z"] = 0.0
    boxes, _ = read_aimotive_boxes(_aim_boxes_file(tmp_path / "f.json", [obj], stamp=0))
    assert boxes.timestamp_ns == 0
    assert boxes.size_m[0].tolist() == [2.0, 2.0, 0.0]


def test_aimotive_box_tilt_limit_is_10_degrees(tmp_path: Path) -> None:
    """A box rolled by a about x has quaternion (cos(a/2), sin(a/2), 0, 0) and its up axis is
    a from the body's z: 8 deg reads, 12 deg is over MAX_BOX_TILT_RAD (10 deg)."""
    from drivestack.ingest.aimotive import read_aimotive_boxes

    def rolled(deg: float) -> dict[str, object]:
        obj = _aim_object("CAR", 1)
        half = math.radians(deg) / 2
        obj["BoundingBox3D Orientation Quat W"] = math.cos(half)
        obj["BoundingBox3D Orientation Quat X"] = math.sin(half)
        return obj

    read_aimotive_boxes(_aim_boxes_file(tmp_path / "a.json", [rolled(8.0)]))
    with pytest.raises(DataError, match=r"tilted by 12\.0 deg"):
        read_aimotive_boxes(_aim_boxes_file(tmp_path / "b.json", [rolled(12.0)]))


def _las(path: Path, gps_ns: list[float]) -> Path:
    import laspy

    las = laspy.create(point_format=1, file_version="1.2")
    las.header.scales = [0.001] * 3
    las.x = np.arange(len(gps_ns), dtype=np.float64)
    las.y = np.zeros(len(gps_ns))
    las.z = np.zeros(len(gps_ns))
    las.gps_time = np.asarray(gps_ns, dtype=np.float64)
    path.parent.mkdir(parents=True, exist_ok=True)
    las.write(str(path))
    return path


def test_aimotive_laz_time_is_the_latest_point_not_the_last_stored(tmp_path: Path) -> None:
    """Default cloud time = the largest gps_time: points at T, T + 100 ms, T + 50 ms give
    T + 100 ms (the last stored is T + 50 ms); offsets are then -100, 0, -50 ms."""
    from drivestack.ingest.aimotive import read_aimotive_laz

    t = 4_833_121_676_000  # exact in float64 (< 2**53)
    cloud = read_aimotive_laz(_las(tmp_path / "f.las", [t, t + 100_000_000, t + 50_000_000]))
    assert cloud.timestamp_ns == t + 100_000_000
    assert cloud.attribute("time_offset_ns").tolist() == [-100_000_000, 0, -50_000_000]


def test_aimotive_las_header_bounds_beyond_1_5_scale_steps_are_refused(tmp_path: Path) -> None:
    """Header bounds must match the points to 1.5 scale steps (1.5 mm at 0.001 m): points
    reach x = 2 m; a header max x of 2.002 m is 2 steps beyond them (refused, field header
    point count). LAS 1.2 stores max X as a little-endian double at byte 179."""
    from drivestack.ingest.aimotive import read_aimotive_laz

    t = 4_833_121_676_000
    path = _las(tmp_path / "f.las", [t, t, t])
    raw = bytearray(path.read_bytes())
    assert struct.unpack_from("<d", raw, 179)[0] == pytest.approx(2.0)
    struct.pack_into("<d", raw, 179, 2.002)
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="short of the header's bounds") as err:
        read_aimotive_laz(path)
    assert err.value.field == "header point count"


def test_aimotive_frame_lidar_stays_the_identity_mount(tmp_path: Path) -> None:
    """The revolution is already in the body (ego) frame: ego_from_sensor["lidar"] is the
    identity even when calibration.json has a "lidar" entry; other sensors keep theirs."""
    from drivestack.ingest.aimotive import read_aimotive_frame

    t = 4_833_121_676_000
    seq = tmp_path / "seq"
    _las(seq / "dynamic" / "raw-revolutions" / "frame_0000001.laz", [t, t + 1000, t + 2000])
    moved = [[1, 0, 0, 1.0], [0, 1, 0, 2.0], [0, 0, 1, 3.0], [0, 0, 0, 1]]
    calib = seq / "sensor" / "calibration" / "calibration.json"
    calib.parent.mkdir(parents=True)
    calib.write_text(
        json.dumps(
            {"lidar": {"RT_body_from_sensor": moved}, "F_MIDLR": {"RT_body_from_sensor": moved}}
        )
    )
    frame = read_aimotive_frame(seq, "frame_0000001")
    np.testing.assert_array_equal(frame.ego_from_sensor["lidar"].translation, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(frame.ego_from_sensor["F_MIDLR"].translation, [1.0, 2.0, 3.0])


# -- PandaSet -------------------------------------------------------------------------------


def _cuboids_parquet(path: Path, labels: list[str], yaw: float = 0.0) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = len(labels)
    table = pa.table(
        {
            "frame": np.zeros(n, dtype=np.int64),
            "uuid": [f"u{i}" for i in range(n)],
            "label": labels,
            "yaw": np.full(n, yaw),
            "position.x": np.arange(n, dtype=np.float64),
            "position.y": np.zeros(n),
            "position.z": np.zeros(n),
            "dimensions.x": np.full(n, 2.0),  # width
            "dimensions.y": np.full(n, 4.0),  # length
            "dimensions.z": np.full(n, 1.5),
            "cuboids.sensor_id": np.full(n, -1, dtype=np.int64),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, str(path))
    return path


def test_pandaset_heading_is_yaw_plus_a_quarter_turn(tmp_path: Path) -> None:
    """A PandaSet cuboid's length runs along its local +y, so its heading is yaw + pi/2:
    yaw 0.3 gives heading 0.3 + pi/2 (not 0.3 - pi/2, the opposite direction)."""
    from drivestack.ingest.pandaset import read_cuboids

    cuboids = read_cuboids(_cuboids_parquet(tmp_path / "cuboids.parquet", ["Car"], yaw=0.3))
    assert cuboids.boxes_world[0, 6] == pytest.approx(0.3 + math.pi / 2)
    assert cuboids.boxes_world[0, 3:6].tolist() == [4.0, 2.0, 1.5]  # length, width, height


def test_pandaset_label_classes_pickup_truck_and_towed_object(tmp_path: Path) -> None:
    """ "Pickup Truck" is a CAR, "Towed Object" a TRAILER, "Signs" UNKNOWN (LABEL_TO_CLASS /
    UNMAPPED_LABELS)."""
    from drivestack.ingest.pandaset import read_cuboids

    path = _cuboids_parquet(tmp_path / "c.parquet", ["Pickup Truck", "Towed Object", "Signs"])
    boxes = read_cuboids(path).boxes(0, SE3.identity())
    assert boxes.label.tolist() == [ObjectClass.CAR, ObjectClass.TRAILER, ObjectClass.UNKNOWN]


def test_pandaset_timestamps_round_to_the_microsecond(tmp_path: Path) -> None:
    """timestamps.json seconds are read to the nearest microsecond: 1.6e-6 s is 1.6 us,
    rounded to 2 us = 2000 ns (truncating would give 1000 ns); 0.0 s is a valid first time
    (0 <= t) and 0.5 s is 500_000_000 ns."""
    from drivestack.ingest.pandaset import read_lidar_timestamps_ns

    path = tmp_path / "timestamps.json"
    path.write_text(json.dumps([0.0, 0.0000016, 0.5]))
    assert read_lidar_timestamps_ns(path).tolist() == [0, 2000, 500_000_000]


def test_pandaset_sensor_id_2_is_refused(tmp_path: Path) -> None:
    """``d`` is 0 (Pandar64) or 1 (PandarGT); point 1's d = 2 is named."""
    from drivestack.ingest.pandaset import read_lidar_npz

    path = tmp_path / "00.npz"
    np.savez(
        path,
        xyz=np.array([[1, 0, 0], [2, 0, 0]], dtype=np.float32),
        intensity=np.array([5, 6], dtype=np.uint8),
        t=np.array([1.0, 1.0]),
        d=np.array([1, 2], dtype=np.int64),
    )
    with pytest.raises(DataError, match="sensor id must be 0") as err:
        read_lidar_npz(path, SE3.identity(), timestamp_ns=1_000_000_000)
    assert (err.value.record, err.value.field) == ("point 1", "d")


def test_pandaset_frame_index_equal_to_the_frame_count_is_refused(tmp_path: Path) -> None:
    """With 2 frames the indices are 0 and 1: index 2 is a DataError naming the range."""
    from drivestack.ingest.pandaset import read_pandaset_frame

    lidar = tmp_path / "lidar"
    lidar.mkdir()
    pose = {"position": {"x": 0, "y": 0, "z": 0}, "heading": {"w": 1, "x": 0, "y": 0, "z": 0}}
    (lidar / "poses.json").write_text(json.dumps([pose, pose]))
    (lidar / "timestamps.json").write_text(json.dumps([1.0, 1.1]))
    with pytest.raises(DataError, match="frame 2 outside the 2 timestamps"):
        read_pandaset_frame(tmp_path, 2)
