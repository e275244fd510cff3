"""Bad input to the dataset readers: a DataError naming the file, record and field (or a
documented result), never a crash deep in numpy / pyarrow, never silently wrong data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3

_IDENTITY_POSE = "1 0 0 0 0 1 0 0 0 0 1 0\n"


# -- KITTI tracking ego poses (finding 5) -------------------------------------------------------
def test_ego_pose_nan_names_file_line_and_field(tmp_path: Path) -> None:
    from drivestack.ingest.kitti_tracking import read_ego_poses

    path = tmp_path / "0000.txt"
    path.write_text(_IDENTITY_POSE + "1 0 0 nan 0 1 0 0 0 0 1 0\n")
    with pytest.raises(DataError, match="NaN or infinite") as err:
        read_ego_poses(path)
    assert err.value.path == str(path)
    assert err.value.record == "line 2" and err.value.field == "pose[0,3]"


# -- KITTI odometry times and poses (findings 3, 15) --------------------------------------------
def _odometry_sequence(root: Path, times: str, poses: str) -> Path:
    (root / "poses").mkdir(parents=True)
    (root / "velodyne").mkdir()
    (root / "times.txt").write_text(times)
    (root / "poses/00.txt").write_text(poses)
    for i in range(2):
        np.zeros((3, 4), dtype="<f4").tofile(root / "velodyne" / f"{i:06d}.bin")
    return root


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("0.0\nnan\n0.2\n", "line 2", "NaN or infinite"),
        ("0.0\n5.0\n0.207\n", "line 3", "not after the previous line"),
        ("0.0\n0.0\n", "line 2", "not after the previous line"),
    ],
)
def test_odometry_times_must_be_finite_and_increasing(
    tmp_path: Path, text: str, line: str, reason: str
) -> None:
    from drivestack.ingest import read_times_ns

    path = tmp_path / "times.txt"
    path.write_text(text)
    with pytest.raises(DataError, match=reason) as err:
        read_times_ns(path)
    assert (err.value.path, err.value.record, err.value.field) == (str(path), line, "time_s")


def test_odometry_frame_refuses_float_seconds_times(tmp_path: Path) -> None:
    from drivestack.ingest import read_odometry_frame, read_times_ns

    seq = _odometry_sequence(tmp_path / "seq", "0.0\n0.1037359\n", _IDENTITY_POSE * 2)
    poses = SE3(np.tile(np.eye(3), (2, 1, 1)), np.zeros((2, 3)))
    seconds = np.loadtxt(seq / "times.txt")
    for wrong in (seconds, list(seconds)):
        with pytest.raises(TypeError, match="read_times_ns"):
            read_odometry_frame(seq, 1, poses, wrong)  # type: ignore[arg-type]
    times_ns = read_times_ns(seq / "times.txt")
    assert read_odometry_frame(seq, 1, poses, times_ns).timestamp_ns == 103_735_900


def test_odometry_pose_errors_name_the_line(tmp_path: Path) -> None:
    from drivestack.ingest.kitti_odometry import read_camera_poses

    path = tmp_path / "00.txt"
    path.write_text(_IDENTITY_POSE + "1 0 0 0 0 1 0 inf 0 0 1 0\n")
    with pytest.raises(DataError, match="NaN or infinite") as err:
        read_camera_poses(path)
    assert (err.value.path, err.value.record, err.value.field) == (str(path), "line 2", "pose")
    path.write_text(_IDENTITY_POSE * 2 + "1 0 0 0 0 1 0.5 0 0 0 1 0\n")
    with pytest.raises(DataError, match="not orthonormal") as err:
        read_camera_poses(path)
    assert err.value.record == "line 3"


def test_odometry_empty_or_short_files_are_named(tmp_path: Path) -> None:
    from drivestack.ingest import read_odometry_frame, read_times_ns
    from drivestack.ingest.kitti_odometry import read_camera_poses

    seq = _odometry_sequence(tmp_path / "seq", "", "")
    for reader, path in (
        (read_times_ns, seq / "times.txt"),
        (read_camera_poses, seq / "poses/00.txt"),
    ):
        with pytest.raises(DataError, match="empty file") as err:
            reader(path)
        assert err.value.path == str(path)
    one_pose = SE3(np.eye(3)[None], np.zeros((1, 3)))
    with pytest.raises(DataError, match="no time") as err:
        read_odometry_frame(seq, 1, one_pose, np.array([0], dtype=np.int64))
    assert err.value.path == str(seq / "times.txt") and err.value.field == "times_ns"
    with pytest.raises(DataError, match="no pose") as err:
        read_odometry_frame(seq, 1, one_pose, np.array([0, 1], dtype=np.int64))
    assert err.value.field == "world_from_lidar"


# -- PandaSet (findings 4, 11) ------------------------------------------------------------------
_PANDASET_T0_S = 1557539956.5


def _pandaset_sequence(root: Path, times: list[object] | None = None, **arrays: np.ndarray) -> Path:
    """A 2-frame PandaSet sequence (no cuboids) whose ``lidar/01.npz`` holds 4 points, with
    ``arrays`` replacing its arrays."""
    import json

    lidar = root / "lidar"
    lidar.mkdir(parents=True)
    pose = {
        "position": {"x": 0.0, "y": 0.0, "z": 0.0},
        "heading": {"w": 1.0, "x": 0.0, "y": 0.0, "z": 0.0},
    }
    (lidar / "poses.json").write_text(json.dumps([pose, pose]))
    times = times if times is not None else [_PANDASET_T0_S, _PANDASET_T0_S + 0.1]
    (lidar / "timestamps.json").write_text(json.dumps(times))
    npz = {
        "xyz": np.arange(12, dtype=np.float32).reshape(4, 3),
        "intensity": np.array([0, 10, 200, 255], dtype=np.uint8),
        "t": np.full(4, _PANDASET_T0_S + 0.1) + np.array([-0.05, 0.0, 0.02, 0.04]),
        "d": np.array([0, 0, 1, 1], dtype=np.uint8),
    }
    np.savez(lidar / "01.npz", **{**npz, **arrays})
    return root


@pytest.mark.parametrize(
    ("times", "record", "reason"),
    [
        ([_PANDASET_T0_S, "abc"], "[1]", "expected a finite time"),
        ([_PANDASET_T0_S, None], "[1]", "expected a finite time"),
        ([_PANDASET_T0_S, float("nan")], "[1]", "expected a finite time"),
        ([_PANDASET_T0_S, _PANDASET_T0_S - 1.0], "[1]", "not after the previous one"),
    ],
)
def test_pandaset_timestamps_json_names_entry(
    tmp_path: Path, times: list[object], record: str, reason: str
) -> None:
    from drivestack.ingest import read_pandaset_frame

    seq = _pandaset_sequence(tmp_path / "seq", times)
    with pytest.raises(DataError, match=reason) as err:
        read_pandaset_frame(seq, 1)
    assert err.value.path == str(seq / "lidar/timestamps.json")
    assert (err.value.record, err.value.field) == (record, "timestamp")


def test_pandaset_point_times_in_ns_are_refused(tmp_path: Path) -> None:
    from drivestack.ingest import read_pandaset_frame

    good = read_pandaset_frame(_pandaset_sequence(tmp_path / "ok"), 1)
    offsets = good.lidar().attribute("time_offset_ns")  # float64 seconds: ~256 ns steps
    np.testing.assert_allclose(offsets, [-50_000_000, 0, 20_000_000, 40_000_000], atol=1_000)
    t_ns = (np.full(4, _PANDASET_T0_S + 0.1) * 1e9).astype(np.float64)
    seq = _pandaset_sequence(tmp_path / "ns", t=t_ns)
    with pytest.raises(DataError, match="not in seconds") as err:
        read_pandaset_frame(seq, 1)
    assert (err.value.record, err.value.field) == ("point 0", "t")


@pytest.mark.parametrize(
    ("arrays", "field", "reason"),
    [
        ({"intensity": np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)}, "intensity", "uint8"),
        ({"xyz": np.zeros((4, 3), dtype=np.float64)}, "xyz", "float32"),
        ({"d": np.array([0, 1, 7, 0], dtype=np.uint8)}, "d", "0 \\(Pandar64\\) or 1"),
        ({"xyz": np.array([[1e9, 0, 0]] + [[1, 2, 3]] * 3, dtype=np.float32)}, "x", "farther"),
    ],
)
def test_pandaset_npz_contract(
    tmp_path: Path, arrays: dict[str, np.ndarray], field: str, reason: str
) -> None:
    from drivestack.ingest import read_pandaset_frame

    seq = _pandaset_sequence(tmp_path / "seq", **arrays)
    with pytest.raises(DataError, match=reason) as err:
        read_pandaset_frame(seq, 1)
    assert err.value.path == str(seq / "lidar/01.npz") and err.value.field == field


@pytest.mark.parametrize("index", ["1", 1.0, True])
def test_pandaset_index_must_be_an_int(tmp_path: Path, index: object) -> None:
    from drivestack.ingest import read_pandaset_frame

    seq = _pandaset_sequence(tmp_path / "seq")
    with pytest.raises(TypeError, match="index must be an integer, got"):
        read_pandaset_frame(seq, index)  # type: ignore[arg-type]
    assert read_pandaset_frame(seq, np.int64(1)).lidar().num_points == 4


# -- PCD (findings 6, 7, 16) --------------------------------------------------------------------
def _pcd(fields: str, sizes: str, types: str, rows: list[str], data: str = "ascii") -> bytes:
    """A PCD file: header lines 1..10, data from line 11."""
    header = (
        f"VERSION 0.7\nFIELDS {fields}\nSIZE {sizes}\nTYPE {types}\nCOUNT {' '.join('1' * len(fields.split()))}\n"
        f"WIDTH {len(rows)}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {len(rows)}\nDATA {data}\n"
    )
    return header.encode() + "".join(r + "\n" for r in rows).encode()


@pytest.mark.parametrize(
    ("types", "sizes", "value", "reason"),
    [
        ("F F F U", "4 4 4 1", "256", "not an integer in 0..255"),
        ("F F F U", "4 4 4 1", "-1", "not an integer in 0..255"),
        ("F F F U", "4 4 4 2", "1.7", "not an integer in 0..65535"),
        ("F F F I", "4 4 4 1", "200", "not an integer in -128..127"),
        ("F F F I", "4 4 4 4", "nan", "not an integer"),
    ],
)
def test_pcd_ascii_integer_out_of_range_names_line_and_field(
    tmp_path: Path, types: str, sizes: str, value: str, reason: str
) -> None:
    from drivestack.ingest import read_pcd

    path = tmp_path / "a.pcd"
    path.write_bytes(_pcd("x y z ring", sizes, types, ["1 2 3 4", f"4 5 6 {value}"]))
    with pytest.raises(DataError, match=reason) as err:
        read_pcd(path)
    assert (err.value.path, err.value.record, err.value.field) == (str(path), "line 12", "ring")
    path.write_bytes(
        _pcd("x y z ring", sizes, types, ["1 2 3 4", "4 5 6 -0" if "I" in types else "4 5 6 0"])
    )
    assert read_pcd(path).columns["ring"].tolist() == [4, 0]


def test_pcd_float16_coordinates_are_widened_to_float32(tmp_path: Path) -> None:
    from drivestack.ingest import pcd_to_point_cloud, read_pcd

    path = tmp_path / "f16.pcd"
    path.write_bytes(_pcd("x y z", "2 2 2", "F F F", ["1.5 2 3", "0.25 -1 65504"]))
    cloud = pcd_to_point_cloud(read_pcd(path), frame="lidar")
    assert cloud.xyz_m.dtype == np.float32
    np.testing.assert_array_equal(cloud.xyz_m, [[1.5, 2, 3], [0.25, -1, 65504]])


def _kitti_pcd(tmp_path: Path, fields: str, sizes: str, types: str, rows: list[str]) -> Path:
    path = tmp_path / "000000.pcd"
    path.write_bytes(_pcd(fields, sizes, types, rows))
    return path


@pytest.mark.parametrize(
    ("fields", "sizes", "types", "rows", "record", "field", "reason"),
    [
        (
            "x y z intensity",
            "4 4 4 1",
            "F F F U",
            ["1 2 3 50"],
            "header",
            "intensity",
            "must be a float",
        ),
        ("x y z", "4 4 4", "F F F", ["1 2 3"], "header", "intensity", "needs the reflectance"),
        (
            "x y z intensity",
            "4 4 4 4",
            "F F F F",
            ["1 2 3 0.5", "4e30 0 0 0.1"],
            "point 1",
            "x",
            "farther",
        ),
        (
            "x y z intensity",
            "4 4 4 4",
            "F F F F",
            ["1 2 3 0.5", "1 2 3 200"],
            "point 1",
            "intensity",
            "outside \\[0, 1\\]",
        ),
        ("x y z intensity", "4 4 4 4", "F F F F", ["1 2 3 nan"], "point 0", "intensity", "NaN"),
    ],
)
def test_kitti_pcd_scan_holds_the_bin_contract(
    tmp_path: Path,
    fields: str,
    sizes: str,
    types: str,
    rows: list[str],
    record: str,
    field: str,
    reason: str,
) -> None:
    from drivestack.ingest import read_velodyne_pcd

    path = _kitti_pcd(tmp_path, fields, sizes, types, rows)
    with pytest.raises(DataError, match=reason) as err:
        read_velodyne_pcd(path)
    assert (err.value.path, err.value.record, err.value.field) == (str(path), record, field)


def test_kitti_bin_scan_refuses_reflectance_outside_0_1(tmp_path: Path) -> None:
    from drivestack.ingest import read_velodyne_bin

    path = tmp_path / "000000.bin"
    np.array([[1, 2, 3, 0.5], [1, 2, 3, 37.0]], dtype="<f4").tofile(path)
    with pytest.raises(DataError, match="outside \\[0, 1\\]") as err:
        read_velodyne_bin(path)
    assert (err.value.record, err.value.field) == ("point 1", "reflectance")


def test_kitti_pcd_float64_scan_reads_like_the_bin(tmp_path: Path) -> None:
    from drivestack.ingest import read_velodyne_bin, read_velodyne_pcd

    points = np.array([[10.5, -2.25, -1.5, 0.5], [3.0, 4.0, 0.125, 0.0]], dtype="<f4")
    path = _kitti_pcd(
        tmp_path, "x y z intensity", "8 8 8 8", "F F F F", [" ".join(map(str, p)) for p in points]
    )
    points.tofile(tmp_path / "000000.bin")
    from_pcd, from_bin = read_velodyne_pcd(path), read_velodyne_bin(tmp_path / "000000.bin")
    assert (
        from_pcd.xyz_m.dtype == np.float32 and from_pcd.attribute("intensity").dtype == np.float32
    )
    np.testing.assert_array_equal(from_pcd.xyz_m, from_bin.xyz_m)
    np.testing.assert_array_equal(from_pcd.attribute("intensity"), from_bin.attribute("intensity"))


# -- Argoverse 2 (finding 9) --------------------------------------------------------------------
_AV2_TS = 315966265259836000


def _av2_poses_file(path: Path, timestamps: list[int], tx_m: list[float]) -> Path:
    import pyarrow as pa
    import pyarrow.feather as feather

    n = len(timestamps)
    table = {"timestamp_ns": pa.array(timestamps, pa.int64()), "qw": [1.0] * n}
    table |= {k: [0.0] * n for k in ("qx", "qy", "qz", "ty_m", "tz_m")} | {"tx_m": tx_m}
    feather.write_feather(pa.table(table), str(path))
    return path


def test_av2_frame_timestamp_must_be_an_int(tmp_path: Path) -> None:
    from drivestack.ingest import read_av2_frame

    with pytest.raises(
        TypeError, match="timestamp_ns must be an integer number of nanoseconds, got str"
    ):
        read_av2_frame(tmp_path, str(_AV2_TS))  # type: ignore[arg-type]


def test_av2_sweep_list_skips_files_that_are_no_sweep(tmp_path: Path) -> None:
    from drivestack.ingest import list_av2_sweeps

    lidar = tmp_path / "sensors/lidar"
    lidar.mkdir(parents=True)
    for name in (f"{_AV2_TS}.feather", "foo.feather", f"{_AV2_TS + 100}.feather"):
        (lidar / name).write_bytes(b"")
    assert list_av2_sweeps(tmp_path) == [_AV2_TS, _AV2_TS + 100]


def test_av2_poses_refuse_duplicate_timestamps_and_name_bad_rows(tmp_path: Path) -> None:
    from drivestack.ingest import read_av2_poses

    path = _av2_poses_file(
        tmp_path / "a.feather", [_AV2_TS + 5, _AV2_TS, _AV2_TS + 5], [1.0, 2.0, 3.0]
    )
    with pytest.raises(DataError, match="given twice \\(rows 0 and 2\\)") as err:
        read_av2_poses(path)
    assert (err.value.path, err.value.record, err.value.field) == (
        str(path),
        "row 2",
        "timestamp_ns",
    )
    path = _av2_poses_file(tmp_path / "b.feather", [_AV2_TS, _AV2_TS + 5], [1.0, float("nan")])
    with pytest.raises(DataError, match="NaN or infinite") as err:
        read_av2_poses(path)
    assert (err.value.record, err.value.field) == ("row 1", "tx_m")


def test_av2_unknown_category_is_refused_unmapped_ones_are_unknown(tmp_path: Path) -> None:
    from drivestack.core.frames import EGO
    from drivestack.ingest.argoverse2 import cuboids_from_boxes
    from drivestack.structures.boxes import Boxes3D
    from drivestack.structures.labels import ObjectClass

    boxes = Boxes3D.from_array7(np.tile([5.0, 0, 0, 4, 2, 1.5, 0], (3, 1)), EGO, _AV2_TS)
    rows = cuboids_from_boxes(boxes, log_id="log", category=["REGULAR_VEHICLE", "STROLLER", ""])
    assert rows.to_boxes().label.tolist() == [
        ObjectClass.CAR,
        ObjectClass.UNKNOWN,
        ObjectClass.UNKNOWN,
    ]
    rows = cuboids_from_boxes(boxes, log_id="log", category=["REGULAR_VEHICLE", "SPACESHIP", "BUS"])
    with pytest.raises(DataError, match="unknown AV2 category 'SPACESHIP'") as err:
        rows.to_boxes()
    assert (err.value.record, err.value.field) == (f"timestamp_ns {_AV2_TS}", "category")


# -- aiMotive (finding 8) -----------------------------------------------------------------------
_AIMOTIVE_TS = 4833189570000


def _aimotive_object(
    object_id: int, quat_wxyz: tuple[float, ...] = (1, 0, 0, 0)
) -> dict[str, object]:
    box = dict(zip(("X", "Y", "Z"), (10.0, 2.0, 0.5), strict=True))
    obj: dict[str, object] = {f"BoundingBox3D Origin {k}": v for k, v in box.items()}
    obj |= {
        "BoundingBox3D Extent X": 4.5,
        "BoundingBox3D Extent Y": 2.0,
        "BoundingBox3D Extent Z": 1.6,
    }
    obj |= {
        f"BoundingBox3D Orientation Quat {k}": v for k, v in zip("WXYZ", quat_wxyz, strict=True)
    }
    return obj | {
        "Relative Velocity X": 1.0,
        "Relative Velocity Y": 0.0,
        "ObjectId": object_id,
        "ObjectType": "CAR",
    }


def _aimotive_boxes(tmp_path: Path, timestamp: object, objects: list[dict[str, object]]) -> Path:
    import json

    path = tmp_path / "frame_0000001.json"
    path.write_text(json.dumps({"CapturedObjects": objects, "Timestamp": timestamp}))
    return path


@pytest.mark.parametrize("timestamp", ["abc", 4833.18957, None, -5, True])
def test_aimotive_timestamp_must_be_integer_ns(tmp_path: Path, timestamp: object) -> None:
    from drivestack.ingest import read_aimotive_boxes

    path = _aimotive_boxes(tmp_path, timestamp, [_aimotive_object(4)])
    with pytest.raises(DataError, match="must be integer nanoseconds") as err:
        read_aimotive_boxes(path)
    assert (err.value.path, err.value.field) == (str(path), "Timestamp")


def test_aimotive_timestamp_as_int_or_string_reads(tmp_path: Path) -> None:
    from drivestack.ingest import read_aimotive_boxes

    for timestamp in (_AIMOTIVE_TS, str(_AIMOTIVE_TS)):
        boxes, ids = read_aimotive_boxes(
            _aimotive_boxes(tmp_path, timestamp, [_aimotive_object(4)])
        )
        assert boxes.timestamp_ns == _AIMOTIVE_TS and ids.tolist() == [4]


def test_aimotive_tilted_box_and_duplicate_object_id_are_refused(tmp_path: Path) -> None:
    from drivestack.ingest import read_aimotive_boxes

    half = float(np.sqrt(0.5))
    path = _aimotive_boxes(
        tmp_path, _AIMOTIVE_TS, [_aimotive_object(4), _aimotive_object(5, (half, half, 0, 0))]
    )
    with pytest.raises(DataError, match=r"tilted by 90\.0 deg") as err:
        read_aimotive_boxes(path)
    assert err.value.record == "CapturedObjects[1]"
    yawed = (half, 0, 0, half)  # 90 deg of yaw is no tilt
    path = _aimotive_boxes(
        tmp_path, _AIMOTIVE_TS, [_aimotive_object(4), _aimotive_object(5, yawed)]
    )
    assert read_aimotive_boxes(path)[0].yaw_rad[1] == pytest.approx(np.pi / 2)
    path = _aimotive_boxes(tmp_path, _AIMOTIVE_TS, [_aimotive_object(4), _aimotive_object(4)])
    with pytest.raises(DataError, match="ObjectId 4 given twice") as err:
        read_aimotive_boxes(path)
    assert (err.value.record, err.value.field) == ("CapturedObjects[1]", "ObjectId")
    # the first repeat in file order, not the smallest repeated id
    objects = [_aimotive_object(i) for i in (7, 4, 7, 4)]
    path = _aimotive_boxes(tmp_path, _AIMOTIVE_TS, objects)
    with pytest.raises(
        DataError, match=r"ObjectId 7 given twice \(CapturedObjects\[0\] and \[2\]\)"
    ):
        read_aimotive_boxes(path)


def _laz(path: Path, gps_time: np.ndarray) -> Path:
    import laspy

    las = laspy.create(point_format=1, file_version="1.2")
    las.header.scales = [0.001] * 3
    n = len(gps_time)
    las.x, las.y, las.z = np.linspace(1, 2, n), np.zeros(n), np.zeros(n)
    las.intensity = np.full(n, 10, dtype=np.uint16)
    las.gps_time = gps_time
    las.write(str(path))
    return path


def test_aimotive_laz_gps_time_in_seconds_is_refused(tmp_path: Path) -> None:
    from drivestack.ingest import read_aimotive_laz

    gps_ns = _AIMOTIVE_TS + np.array([-60e6, 0.0, 30e6])
    cloud = read_aimotive_laz(_laz(tmp_path / "ns.las", gps_ns), timestamp_ns=_AIMOTIVE_TS)
    assert cloud.attribute("time_offset_ns").tolist() == [-60_000_000, 0, 30_000_000]
    path = _laz(tmp_path / "s.las", gps_ns / 1e9)
    for timestamp_ns in (None, _AIMOTIVE_TS):
        with pytest.raises(DataError, match="looks like seconds") as err:
            read_aimotive_laz(path, timestamp_ns=timestamp_ns)
        assert (err.value.record, err.value.field) == ("point 0", "gps_time")
    late = _laz(tmp_path / "late.las", gps_ns + 80 * 60e9)  # whole ns, another frame's
    with pytest.raises(DataError, match="not of this frame") as err:
        read_aimotive_laz(late, timestamp_ns=_AIMOTIVE_TS)
    assert err.value.field == "gps_time"


# -- KITTI object index, seqmaps (finding 17) ---------------------------------------------------
@pytest.mark.parametrize("index", [-1, np.int64(-1)])
def test_kitti_object_negative_index_is_refused(tmp_path: Path, index: int) -> None:
    from drivestack.ingest import read_kitti_object_frame

    with pytest.raises(ValueError, match="index must be an integer >= 0, got") as err:
        read_kitti_object_frame(tmp_path, index)
    assert not isinstance(err.value, DataError)  # the argument is wrong, not a file


@pytest.mark.parametrize(
    ("text", "line", "field", "reason"),
    [
        ("0000 empty 0 154\n0003 empty 10 5\n", "line 2", "end_frame", "first_frame <= end_frame"),
        ("0000 empty -2 154\n", "line 1", "first_frame", "0 <= first_frame"),
        (
            "0000 empty 0 154\n0001 empty 0 10\n\n0000 empty 0 154\n",
            "line 4",
            "sequence",
            "listed twice \\(lines 1 and 4\\)",
        ),
    ],
)
def test_seqmap_refuses_bad_ranges_and_duplicates(
    tmp_path: Path, text: str, line: str, field: str, reason: str
) -> None:
    from drivestack.ingest import read_seqmap

    path = tmp_path / "evaluate_tracking.seqmap.val"
    path.write_text(text)
    with pytest.raises(DataError, match=reason) as err:
        read_seqmap(path)
    assert (err.value.path, err.value.record, err.value.field) == (str(path), line, field)


# -- nuScenes (finding 10) ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ring", "shown"), [(1e6, "1e\\+06"), (3.7, "3.7"), (-1.0, "-1"), (32.0, "32")]
)
def test_nuscenes_ring_must_be_an_integer_0_31(tmp_path: Path, ring: float, shown: str) -> None:
    from drivestack.ingest import read_lidar_pcd_bin

    pts = np.tile(np.array([[5.0, 1.0, -1.0, 12.0, 7.0]], "<f4"), (6, 1))
    pts[5, 4] = ring
    path = tmp_path / "a.pcd.bin"
    path.write_bytes(pts.tobytes())
    with pytest.raises(DataError, match=f"not an integer in 0..31 \\(this one {shown}\\)") as err:
        read_lidar_pcd_bin(path)
    assert (err.value.path, err.value.record, err.value.field) == (str(path), "point 5", "ring")


def _nuscenes_info(tmp_path: Path, velocities: list[object]) -> Path:
    import json

    instances = [
        {"bbox_3d": [1, 2, 3, 4, 5, 6, 0], "bbox_label_3d": 0, "num_lidar_pts": 3}
        for _ in velocities
    ]
    for inst, velocity in zip(instances, velocities, strict=True):
        if velocity != "missing":
            inst["velocity"] = velocity
    sample = {"token": "tok", "timestamp": 1532402927.647951, "ego2global": np.eye(4).tolist(),
              "lidar_points": {"lidar_path": "x.bin", "lidar2ego": np.eye(4).tolist()}, "instances": instances}  # fmt: skip
    path = tmp_path / "info.json"
    path.write_text(json.dumps({"metainfo": {"categories": {"car": 0}}, "data_list": [sample]}))
    return path


def test_nuscenes_unknown_label_velocity_reads_0_and_is_flagged(tmp_path: Path) -> None:
    from drivestack.ingest import read_nuscenes_info

    path = _nuscenes_info(tmp_path, [[1.0, 0.5], [float("nan"), float("nan")], "missing"])
    (sample,) = read_nuscenes_info(path)
    np.testing.assert_array_equal(sample.labels.velocity_mps, [[1.0, 0.5], [0, 0], [0, 0]])
    assert sample.velocity_known is not None and sample.velocity_known.tolist() == [
        True,
        False,
        False,
    ]
    with pytest.raises(DataError, match="finite numbers or NaN") as err:
        read_nuscenes_info(_nuscenes_info(tmp_path, [[float("inf"), 0.0]]))
    assert err.value.field == "velocity"


# -- empty scans (finding 14) -------------------------------------------------------------------
def test_empty_scans_are_clouds_of_0_points_in_every_reader(tmp_path: Path) -> None:
    import drivestack.ingest as ingest

    (tmp_path / "a.bin").write_bytes(b"")
    (tmp_path / "a.pcd.bin").write_bytes(b"")
    (tmp_path / "a.pcd").write_bytes(
        _pcd("x y z intensity", "4 4 4 4", "F F F F", [], data="binary")
    )
    clouds = [
        ingest.read_velodyne_bin(tmp_path / "a.bin"),
        ingest.read_lidar_pcd_bin(tmp_path / "a.pcd.bin"),
        ingest.read_velodyne_pcd(tmp_path / "a.pcd"),
        ingest.read_aimotive_laz(_laz(tmp_path / "a.las", np.zeros(0))),
    ]
    empty = {
        "xyz": np.zeros((0, 3), np.float32),
        "intensity": np.zeros(0, np.uint8),
        "t": np.zeros(0),
        "d": np.zeros(0, np.uint8),
    }
    clouds.append(
        ingest.read_pandaset_frame(_pandaset_sequence(tmp_path / "pd", **empty), 1).lidar()
    )
    assert [c.num_points for c in clouds] == [0] * 5
    (tmp_path / "zero.pcd").write_bytes(b"")  # a format with a header: 0 bytes is no scan
    with pytest.raises(DataError, match="empty file"):
        ingest.read_velodyne_pcd(tmp_path / "zero.pcd")
    assert "Empty scans: a scan file holding 0 points is a frame with a cloud of 0 points" in str(
        ingest.__doc__
    )
