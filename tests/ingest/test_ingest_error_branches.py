"""Error and edge branches of the dataset and map readers that no other test reached: each bad
input gets a DataError naming the file (and record / field where there is one)."""

from __future__ import annotations

import copy
import io
import json
import struct
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest import aimotive, nuscenes, pandaset
from drivestack.ingest.maps.commonroad import read_commonroad
from drivestack.ingest.pcd import lzf_decompress, parse_pcd, pcd_xyz
from drivestack.ingest.rosbag import bag_io
from drivestack.ingest.rosbag._finite import finite_rows
from drivestack.structures.boxes import Boxes3D
from tests.ingest.maps.test_commonroad_errors import _lanelet, _message, _obstacle, _problem, _write
from tests.ingest.test_aimotive_types_and_times import _box, _las
from tests.ingest.test_nuscenes_validation import BOX, INFO, _boxes, _info, _submission
from tests.ingest.test_pandaset import _small_arrays, _write_npz
from tests.ingest.test_pandaset_corrupt_input import _write as _write_pandaset_npz

# -- pcd ---------------------------------------------------------------------------------------


def _pcd_header(n: int, mode: str = "binary", fields: str = "x y z") -> str:
    k = len(fields.split())
    return (
        f"FIELDS {fields}\nSIZE {' '.join(['4'] * k)}\nTYPE {' '.join(['F'] * k)}\n"
        f"COUNT {' '.join(['1'] * k)}\nWIDTH {n}\nHEIGHT 1\nPOINTS {n}\nDATA {mode}\n"
    )


def _pcd_error(raw: bytes) -> DataError:
    with pytest.raises(DataError) as err:
        parse_pcd(raw, "c.pcd")
    assert err.value.path == "c.pcd"
    return err.value


def test_pcd_header_cut_before_data_names_the_line() -> None:
    """A header that ends (no newline) before its DATA line names the line it broke off in."""
    err = _pcd_error(b"FIELDS x y z\nSIZE 4 4 4")
    assert "before a DATA line" in str(err) and err.record == "header line 2"


def test_pcd_non_ascii_header_names_the_line() -> None:
    """Non-ASCII bytes in the header are a DataError naming the header line, not a decode error."""
    err = _pcd_error(b"# .PCD\nFIELDS x \xff\n")
    assert "non-ASCII" in str(err) and err.record == "header line 2"


def test_pcd_negative_points_names_the_field() -> None:
    """A negative POINTS is refused, naming the header field."""
    raw = _pcd_header(1).replace("POINTS 1", "POINTS -1").encode()
    err = _pcd_error(raw)
    assert "non-negative" in str(err) and err.field == "POINTS"


def test_pcd_count_zero_names_the_field() -> None:
    """A COUNT that is not a positive integer names the field it belongs to."""
    err = _pcd_error(_pcd_header(1).replace("COUNT 1 1 1", "COUNT 1 0 1").encode())
    assert "COUNT must be a positive integer" in str(err) and err.field == "y"


def test_pcd_field_given_twice_is_refused() -> None:
    """Two fields of one name would shadow each other: refused, naming the field."""
    err = _pcd_error(_pcd_header(1, fields="x y x").encode() + bytes(12))
    assert "twice" in str(err) and err.field == "x"


@pytest.mark.parametrize(
    ("stream", "size", "match"),
    [
        (bytes([5]) + b"ab", 6, "literal run past the end"),
        (bytes([7 << 5]), 20, "truncated back-reference"),  # long match: length byte missing
        (bytes([0]) + b"a" + bytes([1 << 5]), 4, "truncated back-reference"),  # no offset byte
        (bytes([2]) + b"abc", 5, "decompressed 3 bytes, header says 5"),
    ],
)
def test_lzf_corrupt_streams_are_value_errors(stream: bytes, size: int, match: str) -> None:
    """lzf_decompress refuses a cut or mis-sized block with a ValueError saying which."""
    with pytest.raises(ValueError, match=match):
        lzf_decompress(stream, size)


def _compressed(body: bytes, n: int = 1) -> bytes:
    return _pcd_header(n, "binary_compressed").encode() + body


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"\0\0\0", "no compressed-size words"),
        (struct.pack("<II", 13, 999) + bytes([11]) + bytes(12), "uncompressed size 999"),
        (struct.pack("<II", 13, 12) + bytes([11]) + bytes(4), "truncated: 5 of 13"),
        (struct.pack("<II", 2, 12) + bytes([11, 0]), "corrupt LZF data"),
    ],
)
def test_pcd_binary_compressed_bad_data_is_named(body: bytes, match: str) -> None:
    """Bad binary_compressed data (size words, sizes, LZF) is a DataError at record 'data'."""
    err = _pcd_error(_compressed(body))
    assert match in str(err) and err.record == "data"


def test_pcd_ascii_short_file_and_short_row_are_named() -> None:
    """ascii data: too few rows names the row count; a row of the wrong width its line."""
    err = _pcd_error((_pcd_header(3, "ascii") + "1 2 3\n4 5 6\n").encode())
    assert "2 data rows, POINTS says 3" in str(err) and err.record == "row 2"
    err = _pcd_error((_pcd_header(2, "ascii") + "1 2 3\n4 5\n").encode())
    assert "expected 3 values, got 2" in str(err) and err.record == "line 10"


def test_pcd_without_a_coordinate_field_names_fields() -> None:
    """A PCD with no z column cannot give coordinates: DataError naming FIELDS."""
    pcd = parse_pcd(_pcd_header(1, fields="x y i").encode() + bytes(12), "c.pcd")
    with pytest.raises(DataError, match="no 'z' field") as err:
        pcd_xyz(pcd)
    assert (err.value.path, err.value.field) == ("c.pcd", "FIELDS")


def test_finite_rows_counts_rows_with_nan_or_inf_on_a_strided_view() -> None:
    """finite_rows: a row with any NaN / inf is masked out and counted once (Python body)."""
    table = np.zeros((4, 4))
    table[1, 2] = np.nan
    table[3, 0] = np.inf
    table[3, 1] = np.nan
    mask, bad = finite_rows.py_func(table[:, :3])
    assert mask.tolist() == [True, False, True, False] and bad == 2
    mask, bad = finite_rows(table[:, :3])  # the compiled one agrees
    assert mask.tolist() == [True, False, True, False] and bad == 2


# -- rosbag bag_io -----------------------------------------------------------------------------


def _open(path: Path, report: bag_io.IngestReport | None = None) -> Any:
    with bag_io.open_bag(path, report) as reader:
        return reader


@pytest.mark.parametrize("name", ["missing.bag", "notes.txt"])
def test_open_bag_of_a_missing_or_unknown_file_names_it(tmp_path: Path, name: str) -> None:
    """A missing file or one of no bag format: one DataError naming the file."""
    path = tmp_path / name
    if name.endswith(".txt"):
        path.write_text("hello")
    with pytest.raises(DataError, match="cannot open bag") as err:
        _open(path)
    assert err.value.path == str(path)


def test_open_bag_of_garbage_bag_is_salvaged_and_reported(tmp_path: Path) -> None:
    """A .bag of garbage is read front to back; the report says so and what it recovered."""
    path = tmp_path / "g.bag"
    path.write_bytes(b"garbage" * 10)
    report = bag_io.IngestReport(str(path))
    _open(path, report)
    (entry,) = report.skipped
    assert entry.kept and entry.kind == "truncated" and "recovered 0 messages" in entry.reason


def test_library_error_says_what_an_empty_exception_is() -> None:
    """An empty AssertionError is described as the library's own check; others by type."""
    assert "own check" in bag_io.library_error(AssertionError())
    assert bag_io.library_error(KeyError()) == "KeyError"
    assert bag_io.library_error(ValueError("x")) == "ValueError: x"


def _fake_reader(infos: list[Any], indexes: dict[int, list[Any]]) -> Any:
    conn = SimpleNamespace(id=1, topic="/pc")
    rd = SimpleNamespace(chunk_infos=infos, indexes=indexes, connections=[conn])
    return SimpleNamespace(readers=[rd]), [conn]


def test_unreadable_chunk_finds_the_next_chunk_or_says_none() -> None:
    """The chunk a read failed in, and where reading resumes; None when no chunk follows, no
    index entry lies ahead, or the bag has no ROS 1 chunk index."""
    chunk = SimpleNamespace
    infos = [chunk(pos=10, start_time=0, end_time=5), chunk(pos=20, start_time=6, end_time=9)]
    entries = [SimpleNamespace(time=3, chunk_pos=10), SimpleNamespace(time=7, chunk_pos=20)]
    reader, conns = _fake_reader(infos, {1: entries})
    found = bag_io._unreadable_chunk(reader, conns, None)
    assert found is not None
    bad, failed, resume = found
    assert (bad.pos, failed, resume) == (10, 3, 6)
    assert bag_io._unreadable_chunk(reader, conns, 5) is None  # the last chunk: none follows
    assert bag_io._unreadable_chunk(reader, conns, 9) is None  # nothing ahead
    reader, conns = _fake_reader(infos, {1: [SimpleNamespace(time=3, chunk_pos=99)]})
    assert bag_io._unreadable_chunk(reader, conns, None) is None  # chunk not in the index
    assert bag_io._unreadable_chunk(SimpleNamespace(), conns, None) is None


class _FailingReader:
    """A bag reader whose reading fails at once (a cut file the library trips on)."""

    connections: ClassVar[list[Any]] = [
        SimpleNamespace(topic="/a", msgtype="std_msgs/msg/String", id=1)
    ]

    def messages(self, connections: Any) -> Any:
        raise AssertionError


def test_a_read_failing_before_any_message_is_reported_not_raised() -> None:
    """A bag whose reading fails is recorded as truncated in the report; nothing escapes."""
    report = bag_io.IngestReport("x.bag")
    assert list(bag_io.iter_bag_messages(_FailingReader(), {"/a"}, report)) == []
    (entry,) = report.skipped
    assert (entry.topic, entry.kind, entry.kept) == ("<bag>", "truncated", False)
    assert "own check" in entry.reason


def test_a_read_failing_before_any_message_says_so() -> None:
    """A failure before the first message says so (it spoke of "message -1")."""
    report = bag_io.IngestReport("x.bag")
    list(bag_io.iter_bag_messages(_FailingReader(), {"/a"}, report))
    assert report.skipped[0].reason.startswith("bag ends early before its first message: ")


def test_a_camera_without_camera_info_skips_its_images_and_says_so(tmp_path: Path) -> None:
    """Images of a camera with no CameraInfo topic are skipped, each recorded naming the
    camera; the LiDAR frames are still made."""
    from drivestack.ingest.rosbag.reader import RosbagLog
    from drivestack.ingest.rosbag.topic_map import CameraTopics, RosbagConfig, TopicMap
    from tests.ingest.rosbag.test_reader import write_drive

    path = tmp_path / "drive"
    write_drive(path)
    cameras = {"cam": CameraTopics(image="/cam/image_raw")}
    topics = TopicMap(lidars={"points": "/points"}, odometry="/odom", cameras=cameras)
    log = RosbagLog(path, RosbagConfig(topics=topics), announce=lambda _: None)
    frames = list(log.frames())
    assert len(frames) == 4 and all(not frame.cameras for frame in frames)
    skipped = [s for s in log.report.skipped if s.topic == "/cam/image_raw"]
    assert len(skipped) == 4
    assert all(s.kind == "image" and "no CameraInfo for camera 'cam'" in s.reason for s in skipped)


# -- nuScenes ----------------------------------------------------------------------------------


def _entry(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(INFO)
    doc["data_list"][0].update(changes)
    return doc


def _info_error(tmp_path: Path, doc: Any) -> DataError:
    path = _info(tmp_path, doc)
    with pytest.raises(DataError) as err:
        nuscenes.read_nuscenes_info(path)
    assert err.value.path == str(path)
    return err.value


@pytest.mark.parametrize(
    ("changes", "record", "field"),
    [
        ({"instances": {"0": {}}}, "data_list[0] (token tok)", "instances"),
        ({"lidar_points": ["x.bin"]}, "data_list[0] (token tok)", "lidar_points"),
        ({"instances": [5]}, "data_list[0].instances[0] (token tok)", None),
        ({"instances": [{"bbox_label_3d": 0}]}, "data_list[0].instances[0] (token tok)", "bbox_3d"),
    ],
)
def test_nuscenes_bad_sample_parts_name_sample_and_field(
    tmp_path: Path, changes: dict[str, Any], record: str, field: str | None
) -> None:
    """A sample whose instances / lidar_points have the wrong shape names sample and field."""
    err = _info_error(tmp_path, _entry(**changes))
    assert (err.record, err.field) == (record, field)


def test_nuscenes_sample_that_is_not_an_object_is_named(tmp_path: Path) -> None:
    """A data_list entry that is not an object names its index."""
    err = _info_error(tmp_path, {**INFO, "data_list": [7]})
    assert "expected an object, got int" in str(err) and err.record == "data_list[0]"


def test_nuscenes_missing_lidar_path_names_the_full_field(tmp_path: Path) -> None:
    """A missing lidar_points.lidar_path is named as the other lidar_points fields are."""
    err = _info_error(tmp_path, _entry(lidar_points={"lidar2ego": np.eye(4).tolist()}))
    assert err.field == "lidar_points.lidar_path"


def test_nuscenes_missing_categories_names_the_full_field(tmp_path: Path) -> None:
    """metainfo without categories names metainfo.categories, as a bad categories value does."""
    err = _info_error(tmp_path, {**INFO, "metainfo": {}})
    assert err.field == "metainfo.categories"


def test_nuscenes_frame_index_out_of_range(tmp_path: Path) -> None:
    """A sample index outside the file is a DataError saying how many samples it has."""
    path = _info(tmp_path, INFO)
    with pytest.raises(DataError, match=r"sample index 1 out of range \(file has 1\)"):
        nuscenes.read_nuscenes_frame(path, 1)


def test_boxes_to_submission_attribute_count_must_match() -> None:
    """attribute_name must give one entry per box."""
    with pytest.raises(ValueError, match="attribute_name has 1 entries for 2 boxes"):
        nuscenes.boxes_to_submission(_boxes(), "t", SE3.identity(), attribute_name=["x"])


def test_boxes_to_submission_of_no_boxes_is_empty() -> None:
    """No boxes give no result dicts."""
    assert nuscenes.boxes_to_submission(Boxes3D.empty("lidar"), "t", SE3.identity()) == []


def test_submission_structure_errors_are_named(tmp_path: Path) -> None:
    """No results mapping names 'results'; a sample that is not a list names the sample."""
    with pytest.raises(DataError, match="'results' mapping") as err:
        nuscenes.read_submission(_submission(tmp_path, None, raw='{"results": []}'))
    assert err.value.field == "results"
    with pytest.raises(DataError, match="expected a list of boxes") as err:
        nuscenes.read_submission(_submission(tmp_path, {"a": 1}))
    assert err.value.record == "results[t]"


def test_submission_infinite_translation_is_named(tmp_path: Path) -> None:
    """A translation that is not finite names the box and field."""
    raw = json.dumps({"meta": {}, "results": {"t": [{**BOX, "translation": [1, 0, 0]}]}})
    path = _submission(tmp_path, None, raw=raw.replace("[1, 0, 0]", "[1e999, 0, 0]"))
    with pytest.raises(DataError, match="3 finite numbers") as err:
        nuscenes.read_submission(path)
    assert (err.value.record, err.value.field) == ("results[t][0]", "translation")


# -- PandaSet ----------------------------------------------------------------------------------


def test_pandaset_json_that_is_not_a_list_names_the_file(tmp_path: Path) -> None:
    """poses.json / timestamps.json that are not lists are refused naming the file."""
    path = tmp_path / "poses.json"
    path.write_text('{"a": 1}')
    with pytest.raises(DataError, match="JSON list of poses") as err:
        pandaset.read_lidar_poses(path)
    assert err.value.path == str(path)
    with pytest.raises(DataError, match="JSON list of times"):
        pandaset.read_lidar_timestamps_ns(path)


def test_pandaset_zero_quaternion_pose_is_a_data_error(tmp_path: Path) -> None:
    """A zero heading quaternion is a DataError naming the file, not a ValueError."""
    path = tmp_path / "poses.json"
    pose = {"heading": dict.fromkeys("wxyz", 0.0), "position": dict.fromkeys("xyz", 0.0)}
    path.write_text(json.dumps([pose]))
    with pytest.raises(DataError, match="zero-norm") as err:
        pandaset.read_lidar_poses(path)
    assert err.value.path == str(path)


def test_pandaset_cuboids_unreadable_or_missing_column(tmp_path: Path) -> None:
    """A file that is no Parquet, or a table missing a cuboid column, names the file / column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not parquet")
    with pytest.raises(DataError, match="cannot read Parquet") as err:
        pandaset.read_cuboids(bad)
    assert err.value.path == str(bad)
    thin = tmp_path / "thin.parquet"
    pq.write_table(pa.table({"uuid": ["a"]}), thin)
    with pytest.raises(DataError, match="missing column") as err:
        pandaset.read_cuboids(thin)
    assert err.value.path == str(thin) and err.value.field is not None


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"xyz": np.zeros((4, 2), np.float32)}, "xyz"),
        ({"intensity": np.zeros(3, np.uint8)}, "intensity"),
        ({"d": np.zeros((4, 1), np.uint8)}, "d"),
    ],
)
def test_pandaset_npz_array_of_wrong_shape_is_named(
    tmp_path: Path, override: dict[str, np.ndarray], field: str
) -> None:
    """An npz array of the wrong shape names the array."""
    path = _write_pandaset_npz(tmp_path / "f.npz", 4, **override)
    with pytest.raises(DataError, match="must") as err:
        pandaset.read_lidar_npz(path, SE3.identity(), timestamp_ns=0)
    assert (err.value.path, err.value.field) == (str(path), field)


def test_pandaset_npz_members_in_npy_format_2_are_read(tmp_path: Path) -> None:
    """.npy members in format version 2.0 have their header sizes checked and read."""
    members = {}
    for name, array in _small_arrays().items():
        buf = io.BytesIO()
        np.lib.format.write_array(buf, array, version=(2, 0))
        members[f"{name}.npy"] = buf.getvalue()
    path = _write_npz(tmp_path / "v2.npz", members)
    cloud = pandaset.read_lidar_npz(path, SE3.identity(), timestamp_ns=0)
    assert len(cloud) == 3


# -- aiMotive ----------------------------------------------------------------------------------


def _boxes_doc(path: Path, objects: Any, raw: str | None = None) -> Path:
    doc = {"CapturedObjects": objects, "Timestamp": 1_630_000_000_000}
    path.write_text(raw if raw is not None else json.dumps(doc))
    return path


def _boxes_error(path: Path) -> DataError:
    with pytest.raises(DataError) as err:
        aimotive.read_aimotive_boxes(path)
    assert err.value.path == str(path)
    return err.value


def test_aimotive_objects_not_a_list_or_not_objects(tmp_path: Path) -> None:
    """CapturedObjects must be a list of objects: the field, then the object, is named."""
    err = _boxes_error(_boxes_doc(tmp_path / "a.json", {}))
    assert "expected a list" in str(err) and err.field == "CapturedObjects"
    err = _boxes_error(_boxes_doc(tmp_path / "b.json", [3]))
    assert "expected an object" in str(err) and err.record == "CapturedObjects[0]"


@pytest.mark.parametrize(("value", "match"), [("[1]", "not a number"), ("1e999", "infinite")])
def test_aimotive_box_value_not_a_finite_number_is_named(
    tmp_path: Path, value: str, match: str
) -> None:
    """A box value that is a list or infinite names the object and field."""
    raw = json.dumps({"CapturedObjects": [_box("CAR")], "Timestamp": 1_630_000_000_000})
    raw = raw.replace('"BoundingBox3D Extent X": 2.0', f'"BoundingBox3D Extent X": {value}')
    err = _boxes_error(_boxes_doc(tmp_path / "c.json", None, raw=raw))
    assert match in str(err)
    assert (err.record, err.field) == ("CapturedObjects[0]", "BoundingBox3D Extent X")


def test_aimotive_huge_integer_value_is_a_data_error(tmp_path: Path) -> None:
    """An integer too large for a float (10**400) is a DataError naming object and field."""
    raw = json.dumps({"CapturedObjects": [_box("CAR")], "Timestamp": 1_630_000_000_000})
    raw = raw.replace('"BoundingBox3D Extent X": 2.0', f'"BoundingBox3D Extent X": {10**400}')
    err = _boxes_error(_boxes_doc(tmp_path / "d.json", None, raw=raw))
    assert err.field == "BoundingBox3D Extent X"


def test_aimotive_object_id_out_of_int64_range_is_refused(tmp_path: Path) -> None:
    """An ObjectId past 2**53 (inexact as a float; 1e30 would wrap to -2**63 in int64) is
    refused naming the object, while 2**53 itself is read."""
    err = _boxes_error(_boxes_doc(tmp_path / "e.json", [_box("CAR", object_id=10**30)]))
    assert (err.record, err.field) == ("CapturedObjects[0]", "ObjectId")
    assert "not an integer within +-2**53" in str(err)
    _, ids = aimotive.read_aimotive_boxes(
        _boxes_doc(tmp_path / "f.json", [_box("CAR", object_id=2**53)])
    )
    assert ids.tolist() == [2**53]


def test_aimotive_calibration_without_a_sensor_pose(tmp_path: Path) -> None:
    """A calibration of no RT_body_from_sensor, or not an object, names the file."""
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"a": {"x": 1}, "b": 3}))
    with pytest.raises(DataError, match="no sensor with RT_body_from_sensor") as err:
        aimotive.read_aimotive_calibration(path)
    assert err.value.path == str(path)
    path.write_text("[1]")
    with pytest.raises(DataError, match="expected an object of sensors"):
        aimotive.read_aimotive_calibration(path)


def test_aimotive_points_outside_the_las_header_bounds(tmp_path: Path) -> None:
    """Points beyond the header's max X (a corrupt header) are a DataError naming the file."""
    path = _las(tmp_path / "r.laz", np.arange(4, dtype=np.float64) * 1e6)
    raw = bytearray(path.read_bytes())
    raw[179:187] = struct.pack("<d", 1.0)  # LAS 1.2 header: max X
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="outside the header's bounds") as err:
        aimotive.read_aimotive_laz(path)
    assert err.value.path == str(path)


# -- CommonRoad --------------------------------------------------------------------------------


def test_commonroad_obstacle_without_rectangle_or_circle(tmp_path: Path) -> None:
    """An obstacle shape that is neither rectangle nor circle names the shape field."""
    obstacle = _obstacle().replace(
        "<rectangle><length>4.5</length><width>1.8</width></rectangle>", ""
    )
    assert "no rectangle or circle size" in _message(_write(tmp_path, obstacle=obstacle))


def test_commonroad_circle_obstacle_loads(tmp_path: Path) -> None:
    """A circle-shaped obstacle is read (its diameter as length and width)."""
    obstacle = _obstacle().replace(
        "<rectangle><length>4.5</length><width>1.8</width></rectangle>",
        "<circle><radius>1.0</radius></circle>",
    )
    (agent,) = read_commonroad(_write(tmp_path, obstacle=obstacle)).agents
    assert agent.size_m[:2] == (2.0, 2.0)


def test_commonroad_obstacle_of_zero_width_is_refused(tmp_path: Path) -> None:
    """An obstacle rectangle of zero width is refused as a size that is not positive."""
    obstacle = _obstacle().replace("<width>1.8</width>", "<width>0</width>")
    assert "size must be positive" in _message(_write(tmp_path, obstacle=obstacle))


def test_commonroad_state_without_orientation_names_it(tmp_path: Path) -> None:
    """A state with no orientation names the missing field."""
    obstacle = _obstacle().replace("<orientation><exact>0.0</exact></orientation>", "", 1)
    message = _message(_write(tmp_path, obstacle=obstacle))
    assert "obstacle 7" in message and "orientation" in message and "missing" in message


def test_commonroad_traffic_light_without_id_is_named(tmp_path: Path) -> None:
    """A trafficLight without an id names the field."""
    lanes = _lanelet("1", 0.0) + _lanelet("2", 3.5)
    lanes += "<trafficLight><active>true</active></trafficLight>"
    message = _message(_write(tmp_path, lanelets=lanes))
    assert "trafficLight" in message and "field id" in message


def test_commonroad_unknown_sign_element_with_text_value_is_not_warned(tmp_path: Path) -> None:
    """An unknown sign element whose value is not a number is no speed value: no warning."""
    import warnings

    lanes = _lanelet("1", 0.0) + _lanelet("2", 3.5)
    lanes += (
        '<trafficSign id="5"><trafficSignElement><trafficSignID>999</trafficSignID>'
        "<additionalValue>abc</additionalValue></trafficSignElement></trafficSign>"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_commonroad(_write(tmp_path, lanelets=lanes))


def test_commonroad_state_without_a_point_names_position(tmp_path: Path) -> None:
    """A state position of no point / rectangle / circle names the position field."""
    obstacle = _obstacle().replace(
        "<position><point><x>5.0</x><y>0.0</y></point></position>", "<position/>", 1
    )
    assert "no point, rectangle or circle" in _message(_write(tmp_path, obstacle=obstacle))


def test_commonroad_value_without_exact_or_interval(tmp_path: Path) -> None:
    """A value element with neither <exact>, an interval nor text is named."""
    obstacle = _obstacle(velocity="").replace("<exact></exact>", "")
    assert "no exact value or interval" in _message(_write(tmp_path, obstacle=obstacle))


def _goal(extra: str) -> str:
    return _problem().replace("</goalState>", f"{extra}</goalState>")


def test_commonroad_goal_interval_end_below_start(tmp_path: Path) -> None:
    """A goal interval whose end lies below its start is refused, naming the goal field."""
    goal = _goal(
        "<velocity><intervalStart>5</intervalStart><intervalEnd>1</intervalEnd></velocity>"
    )
    message = _message(_write(tmp_path, problem=goal))
    assert "intervalEnd 1.0 is below intervalStart 5.0" in message
    assert "goalState 0/velocity" in message


def test_commonroad_obstacle_interval_end_below_start(tmp_path: Path) -> None:
    """An obstacle state's reversed interval is refused as a goal's is (not averaged)."""
    obstacle = _obstacle().replace(
        "<velocity><exact>10.0</exact></velocity>",
        "<velocity><intervalStart>5</intervalStart><intervalEnd>1</intervalEnd></velocity>",
        1,
    )
    assert "intervalStart" in _message(_write(tmp_path, obstacle=obstacle))


def test_commonroad_goal_position_without_a_shape(tmp_path: Path) -> None:
    """A goal position of no shape or lanelet names the goal's position field."""
    problem = _problem().replace('<position><lanelet ref="1"/></position>', "<position/>")
    message = _message(_write(tmp_path, problem=problem))
    assert (
        "no rectangle, circle, polygon or lanelet" in message and "goalState 0/position" in message
    )


@pytest.mark.parametrize(
    "shape",
    [
        "<circle><radius>2.0</radius><center><x>10</x><y>0</y></center></circle>",
        "<polygon><point><x>0</x><y>0</y></point><point><x>5</x><y>0</y></point>"
        "<point><x>5</x><y>5</y></point></polygon>",
        "<rectangle><length>4</length><width>2</width><center><x>10</x><y>0</y></center>"
        "</rectangle>",
    ],
)
def test_commonroad_goal_shapes_are_read(tmp_path: Path, shape: str) -> None:
    """A goal area given as circle, polygon or rectangle is read into the goal."""
    problem = _problem().replace('<lanelet ref="1"/>', shape)
    sc = read_commonroad(_write(tmp_path, problem=problem))
    assert sc.goal_states and sc.goal_states[0].area is not None


def test_commonroad_goal_rectangle_of_zero_size(tmp_path: Path) -> None:
    """A goal rectangle of zero length is refused as a size that is not positive."""
    shape = (
        "<rectangle><length>0</length><width>2</width><center><x>1</x><y>0</y></center></rectangle>"
    )
    problem = _problem().replace('<lanelet ref="1"/>', shape)
    assert "size must be positive" in _message(_write(tmp_path, problem=problem))


def test_commonroad_lanelet_without_a_bound_names_it(tmp_path: Path) -> None:
    """A lanelet missing its leftBound names the field."""
    lanes = (
        '<lanelet id="1"><rightBound><point><x>0</x><y>0</y></point>'
        "<point><x>50</x><y>0</y></point></rightBound></lanelet>"
    )
    message = _message(_write(tmp_path, lanelets=lanes))
    assert "leftBound" in message and "missing" in message


def test_commonroad_obstacle_without_initial_state_or_position(tmp_path: Path) -> None:
    """An obstacle with no initialState, or a state with no position, names the field."""
    no_init = _obstacle().replace("<initialState>", "<x>", 1).replace("</initialState>", "</x>", 1)
    assert "initialState" in _message(_write(tmp_path, obstacle=no_init))
    no_pos = _obstacle().replace("<position><point><x>5.0</x><y>0.0</y></point></position>", "", 1)
    assert "position" in _message(_write(tmp_path, obstacle=no_pos))


def test_commonroad_static_obstacle_stands_still(tmp_path: Path) -> None:
    """A static obstacle is read as standing at its initial position."""
    static = (
        _obstacle()
        .replace("dynamicObstacle", "staticObstacle")
        .replace("<trajectory>", "<x>")
        .replace("</trajectory>", "</x>")
    )
    (agent,) = read_commonroad(_write(tmp_path, obstacle=static)).agents
    assert agent.replay is not None
    assert np.ptp(agent.replay.x_m) == 0 and np.all(agent.replay.speed_mps == 0)


def test_commonroad_trajectory_times_must_increase(tmp_path: Path) -> None:
    """A trajectory state at the initial state's time is refused naming the time field."""
    assert "time steps must increase" in _message(_write(tmp_path, obstacle=_obstacle(time="0")))


def test_commonroad_planning_problem_missing_or_without_initial_state(tmp_path: Path) -> None:
    """No planningProblem, or one without initialState, is named."""
    assert "no planningProblem" in _message(_write(tmp_path, problem=""))
    problem = _problem().replace("<initialState>", "<x>").replace("</initialState>", "</x>")
    assert "initialState" in _message(_write(tmp_path, problem=problem))
