"""Error and edge branches of the KITTI, Argoverse 2, map (Lanelet2, OpenDRIVE, AV2) and rosbag
helper modules that no other test reached: bad input gets a DataError naming the file (and
record / field where there is one); edge inputs give the documented value."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.argoverse2 import read_av2_calibration
from drivestack.ingest.kitti_format import (
    boxes_to_objects,
    check_rows_writable,
    project_boxes_to_image_xyxy,
    read_text_lines,
)
from drivestack.ingest.kitti_object import png_size_wh
from drivestack.ingest.kitti_tracking import (
    KittiTrackingSequence,
    ab3dmot_detection_file,
    read_ab3dmot_detections,
    read_class_detections,
)
from drivestack.ingest.maps import read_av2_road_map, read_opendrive
from drivestack.ingest.maps._stops import stop_station_m
from drivestack.ingest.maps.av2_archive import read_av2_map_archive
from drivestack.ingest.maps.av2_ground import GroundHeightRaster, read_sim2_json
from drivestack.ingest.maps.av2_lanes import LaneDirections, read_av2_lanes
from drivestack.ingest.maps.lanelet2 import read_lanelet2
from drivestack.ingest.rosbag.deskew import deskew_point_cloud
from drivestack.ingest.rosbag.lidar_sources import make_lidar_source
from drivestack.ingest.rosbag.tf_buffer import PoseSeries, TransformBuffer, TransformLookupError
from drivestack.ingest.rosbag.topic_map import guess_topic_map
from drivestack.ingest.rosbag.writer import pointcloud2_message
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.point_cloud import PointCloud
from tests.ingest.maps.test_av2_road_map import _archive
from tests.ingest.maps.test_av2_road_map import _write as _write_av2_archive
from tests.ingest.maps.test_lanelet2_rules import _osm
from tests.ingest.maps.test_opendrive import _lane, _road
from tests.ingest.maps.test_opendrive import _write as _write_xodr
from tests.ingest.test_av2_lanes import LANES
from tests.ingest.test_av2_lanes import _lane as _av2_lane
from tests.ingest.test_av2_lanes import _map_dir as _av2_lanes_dir
from tests.ingest.test_kitti_rows_validation import DET
from tests.ingest.test_kitti_writers import _objects

# -- Argoverse 2 ------------------------------------------------------------------------------


def _write_calibration(path: Path, qw: list[float]) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    n = len(qw)
    cols: dict[str, Any] = {"sensor_name": [f"s{i}" for i in range(n)], "qw": qw}
    cols |= {k: [0.0] * n for k in ("qx", "qy", "qz", "tx_m", "ty_m", "tz_m")}
    feather.write_feather(pa.table(cols), str(path))


@pytest.mark.parametrize("bad_qw", [0.0, float("nan")])
def test_av2_calibration_bad_quaternion_names_file_row_and_field(
    tmp_path: Path, bad_qw: float
) -> None:
    """A zero-norm or NaN sensor quaternion is a DataError naming the file, the row and ``q``."""
    path = tmp_path / "egovehicle_SE3_sensor.feather"
    _write_calibration(path, [1.0, bad_qw])
    with pytest.raises(DataError) as err:
        read_av2_calibration(path)
    assert (err.value.path, err.value.record, err.value.field) == (str(path), "row 1", "q")


# -- KITTI ------------------------------------------------------------------------------------


def test_kitti_text_file_that_is_a_folder_names_it(tmp_path: Path) -> None:
    """A path that exists but cannot be read (a folder) is a DataError naming it."""
    with pytest.raises(DataError, match="cannot read file") as err:
        read_text_lines(tmp_path)
    assert err.value.path == str(tmp_path)


def test_png_size_of_a_non_png_names_the_file(tmp_path: Path) -> None:
    """A file without the PNG signature (or shorter than its header) is a DataError naming it."""
    for name, raw in (("gif.png", b"GIF89a" + bytes(30)), ("short.png", b"\x89PNG\r\n\x1a\n")):
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(DataError, match="not a PNG file") as err:
            png_size_wh(path)
        assert err.value.path == str(path)


def test_png_size_of_a_missing_file_is_a_data_error(tmp_path: Path) -> None:
    """A missing image or a folder is a DataError naming it, as for every other KITTI reader
    (FileNotFoundError / IsADirectoryError escaped)."""
    with pytest.raises(DataError, match="file not found") as err:
        png_size_wh(tmp_path / "000000.png")
    assert err.value.path == str(tmp_path / "000000.png")
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(DataError, match="cannot read file: Is a directory") as err:
        png_size_wh(tmp_path / "folder.png")
    assert err.value.path == str(tmp_path / "folder.png")


def test_rows_with_a_two_word_type_are_not_writable() -> None:
    """check_rows_writable refuses a type name that is not one word, naming the caller's row."""
    objs = _objects(2)
    names = np.array(objs.type_name, dtype=object)
    names[1] = "Dont Care"
    objs = replace(objs, type_name=names)
    with pytest.raises(ValueError, match=r"^row 7: field type: type must be one word"):
        check_rows_writable(objs, ["x"] * 2, row_numbers=[3, 7])


def _lidar_boxes() -> Boxes3D:
    return Boxes3D.from_array7([[10.0, 1.0, 0.8, 3.9, 1.6, 1.5, 0.2]], "lidar")


def test_lidar_boxes_without_calibration_cannot_be_projected() -> None:
    """Boxes outside camera_rect(_zup) need a calibration to reach the camera: a ValueError
    naming their frame, not a wrong projection."""
    p2 = np.array([[700.0, 0, 600, 0], [0, 700, 180, 0], [0, 0, 1, 0]])
    with pytest.raises(ValueError, match="'lidar' need a calibration"):
        project_boxes_to_image_xyxy(_lidar_boxes(), p2, None)


def test_lidar_boxes_without_calibration_cannot_become_kitti_rows() -> None:
    """boxes_to_objects refuses LiDAR boxes without a calibration, even with 2D boxes given."""
    with pytest.raises(ValueError, match="need a calibration"):
        boxes_to_objects(_lidar_boxes(), None, box2d_xyxy_px=[[1.0, 2.0, 3.0, 4.0]])


def test_kitti_rows_need_2d_boxes_or_a_calibration() -> None:
    """z-up camera boxes with neither 2D boxes nor a calibration cannot get their 2D box."""
    boxes = Boxes3D.from_array7([[10.0, 1.0, 0.8, 3.9, 1.6, 1.5, 0.2]], "camera_rect_zup")
    with pytest.raises(ValueError, match="box2d_xyxy_px or a calibration"):
        boxes_to_objects(boxes, None)


def test_ab3dmot_blank_lines_are_skipped_and_rows_counted(tmp_path: Path) -> None:
    """Blank lines of an AB3DMOT file are skipped; the rows around them are all read."""
    path = tmp_path / "0000.txt"
    path.write_text(f"{DET}\n\n   \n{DET.replace('0,', '1,', 1)}\n")
    objs = read_ab3dmot_detections(path)
    assert len(objs) == 2 and list(objs.frame) == [0, 1]


def test_class_detections_of_an_empty_file_are_empty(tmp_path: Path) -> None:
    """An empty per-class detection file gives zero detections (no warning, no error)."""
    path = ab3dmot_detection_file(tmp_path, "Car", "0000")
    path.parent.mkdir(parents=True)
    path.write_text("")
    assert len(read_class_detections(tmp_path, "Car", "0000", 10)) == 0


def test_tracking_sequence_repr_names_root_and_sequence(tmp_path: Path) -> None:
    """A sequence's repr names its root and its 4-digit name."""
    assert (
        repr(KittiTrackingSequence(tmp_path, 3))
        == f"KittiTrackingSequence({str(tmp_path)!r}, '0003')"
    )


# -- OpenDRIVE ---------------------------------------------------------------------------------


def _xodr_error(tmp_path: Path, *roads: str) -> DataError:
    path = _write_xodr(tmp_path, *roads)
    with pytest.raises(DataError) as err:
        read_opendrive(path)
    assert err.value.path == str(path)
    return err.value


GEOMETRY = '<geometry s="0" x="0" y="0" hdg="0" length="100">{}</geometry>'


@pytest.mark.parametrize(
    ("road", "record", "field", "reason"),
    [
        (
            _road(right=_lane(-1, extra='<speed sOffset="0" max="0"/>')),
            "road 1 lane section 0 lane -1",
            "speed@max",
            "speed limit must be positive",
        ),
        (
            _road(
                geometry=GEOMETRY.format(
                    '<paramPoly3 aU="0" bU="1" cU="0" dU="0" aV="0" bV="0" cV="0" dV="0" '
                    'pRange="degrees"/>'
                ),
                right=_lane(-1),
            ),
            "road 1 planView geometry 0",
            "paramPoly3@pRange",
            "pRange must be arcLength or normalized",
        ),
        (
            _road(right=_lane(-1, extra='<roadMark sOffset="0" type="solid" laneChange="x"/>')),
            "road 1 lane section 0 lane -1",
            "roadMark@laneChange",
            "laneChange must be",
        ),
        (
            _road(right=_lane(-1), attrs='rule="XYZ"'),
            "road 1",
            "road@rule",
            "rule must be RHT or LHT",
        ),
        (
            _road(right=_lane(-1)).replace(
                _road(right=_lane(-1))[_road(right=_lane(-1)).index("<lanes>") :], "<lanes/></road>"
            ),
            "road 1",
            "lanes",
            "no lanes/laneSection",
        ),
        (
            _road(
                right=_lane(-1),
                link='<successor elementType="road" elementId="9" contactPoint="start"/>',
            ),
            "road 1",
            "link/successor@elementId",
            "no road '9' in the file",
        ),
    ],
)
def test_opendrive_bad_records_name_file_record_and_field(
    tmp_path: Path, road: str, record: str, field: str, reason: str
) -> None:
    """Each malformed OpenDRIVE record is a DataError naming the file, road element and field."""
    err = _xodr_error(tmp_path, road)
    assert (err.record, err.field) == (record, field)
    assert reason in str(err)


def test_opendrive_repeated_road_id_is_refused(tmp_path: Path) -> None:
    """Two roads with one id are a DataError naming the road (the later would replace it)."""
    err = _xodr_error(tmp_path, _road(right=_lane(-1)), _road(right=_lane(-1)))
    assert (err.record, err.field) == ("road 1", "road@id")


def test_opendrive_without_usable_lanes_names_the_file(tmp_path: Path) -> None:
    """A file whose lanes are all of unread types is a DataError, not an empty map."""
    err = _xodr_error(tmp_path, _road(right=_lane(-1, lane_type="none")))
    assert "no vehicle, sidewalk or bicycle lanes" in str(err)


def test_opendrive_no_limit_speed_falls_back_to_the_default(tmp_path: Path) -> None:
    """``max="no limit"`` is no limit from the file: the lane gets the default speed limit."""
    road = _road(right=_lane(-1, extra='<speed sOffset="0" max="no limit"/>'))
    lanes = read_opendrive(_write_xodr(tmp_path, road), default_speed_limit_mps=7.5).lanes
    assert [lane.speed_limit_mps for lane in lanes] == [7.5]


@pytest.mark.parametrize(
    "shape", ['<poly3 a="0" b="0" c="0" d="0"/>', '<arc curvature="0"/>'], ids=["poly3", "arc0"]
)
def test_opendrive_straight_poly3_and_zero_curvature_arc(tmp_path: Path, shape: str) -> None:
    """A flat poly3 and an arc of curvature 0 are straight 100 m reference lines along +x."""
    road = _road(geometry=GEOMETRY.format(shape), right=_lane(-1, width=4.0))
    (lane,) = read_opendrive(_write_xodr(tmp_path, road)).lanes
    line = lane.centerline_m
    np.testing.assert_allclose(line[:, 1], -2.0, atol=1e-9)
    assert line[0, 0] == pytest.approx(0.0) and line[-1, 0] == pytest.approx(100.0)


def test_opendrive_zero_length_lane_section_makes_no_lanes(tmp_path: Path) -> None:
    """A lane section of zero length (two sections at s = 0) adds no lane; the other is read."""
    section = (
        '<laneSection s="0"><center><lane id="0" type="none"/></center>'
        f"<right>{_lane(-1)}</right></laneSection>"
    )
    road = _road(right=_lane(-1)).replace("<lanes>", f"<lanes>{section}")
    assert len(read_opendrive(_write_xodr(tmp_path, road)).lanes) == 1


# -- Lanelet2 ----------------------------------------------------------------------------------


def _osm_error(tmp_path: Path, text: str) -> DataError:
    path = tmp_path / "m.osm"
    path.write_text(text)
    with pytest.raises(DataError) as err:
        read_lanelet2(path)
    assert err.value.path == str(path)
    return err.value


def test_lanelet2_wrong_root_and_no_nodes(tmp_path: Path) -> None:
    """A root other than <osm>, or an <osm> without nodes, is a DataError naming the file."""
    assert "root element is <foo>, expected <osm>" in str(_osm_error(tmp_path, "<foo/>"))
    assert "no nodes" in str(_osm_error(tmp_path, "<osm></osm>"))


def test_lanelet2_member_of_unknown_kind_names_the_relation(tmp_path: Path) -> None:
    """A lanelet member of a kind other than node, way or relation names the relation."""
    text = _osm().replace(
        '<tag k="type" v="lanelet"/>', '<member type="area" ref="1"/><tag k="type" v="lanelet"/>', 1
    )
    err = _osm_error(tmp_path, text)
    assert (err.record, err.field) == ("relation 100", "member@type")


def test_lanelet2_bound_that_is_a_node_names_the_lanelet(tmp_path: Path) -> None:
    """A lanelet whose left bound refers to a node (not a way) is refused naming the lanelet."""
    text = _osm().replace('type="way" role="left" ref="11"', 'type="node" role="left" ref="1"', 1)
    err = _osm_error(tmp_path, text)
    assert (err.record, err.field) == ("relation 100", "member")
    assert "needs a left and a right way" in str(err)


def test_lanelet2_bound_of_one_distinct_point_names_the_lanelet(tmp_path: Path) -> None:
    """A bound whose nodes are all one point is a DataError naming the lanelet."""
    text = _osm().replace('<nd ref="1"/><nd ref="2"/>', '<nd ref="1"/><nd ref="1"/>')
    err = _osm_error(tmp_path, text)
    assert (err.record, err.field) == ("relation 100", "member")
    assert "fewer than 2 distinct points" in str(err)


def _right_of_way(line: str) -> str:
    return (
        f'<relation id="300">{line}<member type="relation" role="yield" ref="100"/>'
        '<tag k="type" v="regulatory_element"/><tag k="subtype" v="right_of_way"/></relation>'
    )


@pytest.mark.parametrize(
    ("extra", "field", "reason"),
    [
        (
            '<way id="55"><tag k="type" v="stop_line"/></way>'
            + _right_of_way('<member type="way" role="ref_line" ref="55"/>'),
            "ref_line",
            "the stop line has no nodes",
        ),
        (
            _right_of_way('<member type="node" role="ref_line" ref="1"/>'),
            "ref_line",
            "unknown way 1",
        ),
        (
            _right_of_way('<member type="node" role="refers" ref="2"/>'),
            "refers",
            "unknown way 2",
        ),
    ],
)
def test_lanelet2_bad_stop_line_or_sign_names_relation_and_role(
    tmp_path: Path, extra: str, field: str, reason: str
) -> None:
    """A right-of-way element's stop line without nodes, or a line / sign that is no way, is a
    DataError naming the element and the member's role."""
    err = _osm_error(tmp_path, _osm().replace("</osm>", extra + "</osm>"))
    assert (err.record, err.field) == ("relation 300", field)
    assert reason in str(err)


# -- Argoverse 2 maps -------------------------------------------------------------------------


def test_av2_archive_not_json_names_the_file(tmp_path: Path) -> None:
    """A map archive that is not JSON (or not UTF-8) is a DataError naming the file."""
    for raw in (b"{not json", b"\xff\xfe\x00"):
        path = tmp_path / "log_map_archive_x.json"
        path.write_bytes(raw)
        with pytest.raises(DataError, match="not JSON") as err:
            read_av2_map_archive(tmp_path)
        assert err.value.path == str(path)


def test_sim2_json_that_is_a_folder_names_it(tmp_path: Path) -> None:
    """A Sim(2) path that cannot be read is a DataError naming it."""
    with pytest.raises(DataError, match="cannot read Sim") as err:
        read_sim2_json(tmp_path)
    assert err.value.path == str(tmp_path)


@pytest.mark.parametrize(
    ("height", "rotation", "scale", "reason"),
    [
        (np.zeros(3), np.eye(2), 1.0, "2-D height raster"),
        (np.zeros((3, 3)), np.eye(3), 1.0, r"R \(2, 2\)"),
        (np.zeros((3, 3)), np.eye(2), float("nan"), "positive scale"),
        (np.zeros((3, 3)), np.eye(2), 0.0, "positive scale"),
    ],
)
def test_ground_raster_checks_name_the_file(
    height: np.ndarray, rotation: np.ndarray, scale: float, reason: str
) -> None:
    """A ground-height raster that is not 2-D, a wrong Sim(2) shape or a non-positive scale is a
    DataError naming the raster's file."""
    with pytest.raises(DataError, match=reason) as err:
        GroundHeightRaster(height, rotation, np.zeros(2), scale, path="g.npy")
    assert err.value.path == "g.npy"


def test_lane_directions_need_one_centreline_per_polygon() -> None:
    """LaneDirections refuses polygons and centrelines of different counts."""
    with pytest.raises(ValueError, match="0 polygons but 1 centrelines"):
        LaneDirections(np.array([], dtype=object), (np.zeros((2, 2)),))


def test_av2_lane_whose_centreline_collapses_is_left_out(tmp_path: Path) -> None:
    """A lane whose bounds run against each other (midline one point) is left out; the rest
    are kept."""
    lanes = dict(LANES) | {"9": _av2_lane([(50.0, 1.0), (50.0, -1.0)], [(50.0, -1.0), (50.0, 1.0)])}
    directions = read_av2_lanes(_av2_lanes_dir(tmp_path, lanes))
    assert len(directions.polygons) == len(LANES) == len(directions.centerlines)


def test_av2_heading_far_from_every_lane_is_nan(tmp_path: Path) -> None:
    """A position with no lane within reach gets NaN, not the nearest lane's heading."""
    directions = read_av2_lanes(_av2_lanes_dir(tmp_path))
    assert np.isnan(directions.heading_rad(np.array([[500.0, 500.0]]), 1.0, 0.3)).all()


@pytest.mark.parametrize(
    ("layer", "key", "field", "record"),
    [
        ("lane_segments", "1", "id", "lane segment 1"),
        ("pedestrian_crossings", "7", "edge2", "pedestrian crossing 7"),
    ],
)
def test_av2_road_map_missing_field_names_record_and_field(
    tmp_path: Path, layer: str, key: str, field: str, record: str
) -> None:
    """A lane segment without ``id`` or a crossing without ``edge2`` is a DataError naming the
    file, the entry and the field."""
    doc = _archive()
    del doc[layer][key][field]
    path = _write_av2_archive(tmp_path / "map", doc)
    with pytest.raises(DataError, match="missing") as err:
        read_av2_road_map(tmp_path / "map")
    assert (err.value.path, err.value.record, err.value.field) == (str(path), record, field)


def test_stop_line_without_points_is_refused() -> None:
    """A stop line of no points has no station on a centreline: ValueError."""
    with pytest.raises(ValueError, match="at least one point"):
        stop_station_m(np.array([[0.0, 0.0], [10.0, 0.0]]), np.zeros((0, 2)))


# -- rosbag helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize("q", [[0.0, 0.0, 0.0, 0.0], [np.nan, 0.0, 0.0, 1.0]])
def test_pose_series_refuses_an_invalid_quaternion_naming_the_edge(q: list[float]) -> None:
    """A zero or NaN quaternion is refused naming the edge (parent -> child)."""
    with pytest.raises(ValueError, match="map->base_link: invalid quaternion"):
        PoseSeries("map", "base_link").add(0, q, [0.0, 0.0, 0.0])


def test_empty_pose_series_lookup_names_the_edge() -> None:
    """Interpolating an edge with no transforms is a TransformLookupError naming the edge."""
    with pytest.raises(TransformLookupError, match="no transforms recorded") as err:
        PoseSeries("map", "base_link").interpolate(np.int64(5))
    assert err.value.record == "edge map -> base_link"


def test_pose_series_time_range() -> None:
    """time_range_ns is the first and last recorded time."""
    series = PoseSeries("map", "base_link")
    for t in (30, 10, 20):
        series.add(t, [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    assert series.time_range_ns == (10, 30)


def test_empty_pose_series_time_range_names_the_edge() -> None:
    """The time range of an edge with no transforms is a DataError naming it, not IndexError."""
    with pytest.raises(DataError, match="no transforms recorded") as err:
        _ = PoseSeries("map", "base_link").time_range_ns
    assert err.value.record == "edge map -> base_link"


def test_tf_cycle_has_no_ancestor() -> None:
    """On a TF cycle, has_ancestor is False (not an endless loop or an error)."""
    tf = TransformBuffer()
    tf.add_static("a", "b", SE3.identity())
    tf.add_static("b", "a", SE3.identity())
    assert tf.has_ancestor("a", "map") is False


def test_lookup_of_a_frame_in_itself_is_identity_at_every_time() -> None:
    """target == source at (K,) times gives K identity poses."""
    tf = TransformBuffer()
    tf.add_static("map", "lidar", SE3.identity())
    pose = tf.lookup("lidar", "lidar", np.array([1, 2, 3], dtype=np.int64))
    np.testing.assert_array_equal(pose.translation, np.zeros((3, 3)))


def test_compressed_image_pairs_with_the_camera_info_of_its_namespace() -> None:
    """``/cam/image_raw/compressed`` pairs with ``/cam/camera_info`` (one namespace up)."""
    tm = guess_topic_map(
        [
            ("/lidar/points", "sensor_msgs/msg/PointCloud2"),
            ("/front/image_raw/compressed", "sensor_msgs/msg/CompressedImage"),
            ("/front/camera_info", "sensor_msgs/msg/CameraInfo"),
        ]
    )
    (camera,) = tm.cameras.values()
    assert (camera.image, camera.info) == ("/front/image_raw/compressed", "/front/camera_info")


def test_pointcloud2_rows_must_divide_the_points() -> None:
    """An organised cloud's height must divide the point count."""
    with pytest.raises(ValueError, match="3 points do not split into 2 rows"):
        pointcloud2_message(None, np.zeros((3, 3)), {}, frame_id="l", stamp_ns=0, height=2)


def test_deskew_of_an_empty_cloud_returns_it() -> None:
    """An empty sweep is returned as it is (no pose lookups)."""
    cloud = PointCloud.empty("lidar", 7, {"time_offset_ns": np.int64})

    def no_lookup(times: np.ndarray) -> SE3:
        raise AssertionError("no lookup expected")

    assert deskew_point_cloud(cloud, SE3.identity(), no_lookup) is cloud


def test_unknown_lidar_message_type_is_named() -> None:
    """make_lidar_source names a message type that is not a LiDAR type."""
    with pytest.raises(ValueError, match="std_msgs/msg/String is not a LiDAR message type"):
        make_lidar_source("std_msgs/msg/String")
