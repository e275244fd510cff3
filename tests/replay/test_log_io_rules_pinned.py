"""Pinned rules of drivestack's log format, its I/O wire format, converters and golden records.

Each test pins one rule with a hand-derived expected value (see the docstrings); they were
written against mutations of the rule that the other tests let through.
"""

from __future__ import annotations

import base64
import struct
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.prediction.forecast import Forecast
from drivestack.replay import golden, log_io, payloads
from drivestack.replay.dataset_log import LogWritten, select_frames, source_dataset
from drivestack.replay.kitti_log import (
    KITTI_LABELS_TOPIC,
    KittiChannelCopy,
    KittiChannels,
    KittiFrameLabels,
    decode_kitti_labels,
)
from drivestack.replay.log_format import (
    TrackForecasts,
    _time,
    foxglove_distortion,
    point_cloud_message,
    scene_update_boxes,
    scene_update_trajectory,
)
from drivestack.replay.log_reader import (
    _ordinal,
    decode_frame_transforms,
    decode_point_cloud,
    decode_scene_update,
    distortion_coefficients,
)
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.trajectory import Trajectory


# -- log_format: times, clouds, scene updates, distortion ------------------------------------
def test_foxglove_time_splits_seconds_and_accepts_zero_but_not_negative() -> None:
    """A Foxglove time is ``{sec, nsec}`` unsigned: 1.5 s is sec 1, nsec 500_000_000; 0 ns is
    a valid time (sec 0, nsec 0); -1 ns has no unsigned form and is refused."""
    assert _time(1_500_000_000) == {"sec": 1, "nsec": 500_000_000}
    assert _time(0) == {"sec": 0, "nsec": 0}
    with pytest.raises(ValueError, match="unsigned"):
        _time(-1)


def test_a_bool_attribute_is_packed_as_uint8() -> None:
    """Foxglove has no bool type: a bool column goes as UINT8 (NumericType 1), one byte,
    after ``x y z`` float32 (offsets 0, 4, 8): offset 12, stride 13."""
    cloud = PointCloud(
        np.zeros((2, 3), dtype=np.float32), "lidar", 0, {"valid": np.array([True, False])}
    )
    msg = point_cloud_message(cloud)
    assert msg["fields"][3] == {"name": "valid", "offset": 12, "type": 1}
    assert msg["point_stride"] == 13


def test_twelve_coefficients_with_a_nonzero_first_thin_prism_term_are_refused() -> None:
    """12 coefficients map to rational_polynomial only when terms 8..11 (s1..s4) are all zero;
    s1 (index 8) alone non-zero has no Foxglove model."""
    d = np.zeros(12)
    d[8] = 0.01
    with pytest.raises(ValueError, match="thin-prism"):
        foxglove_distortion(d, "cam")


def test_four_and_fourteen_coefficients_are_padded_and_cut_to_the_full_model() -> None:
    """4 (k1 k2 p1 p2) -> plumb_bob with k3 = 0 appended: 5 values; 14 with zero thin-prism and
    tilt terms -> rational_polynomial of the first 8."""
    assert foxglove_distortion(np.array([0.1, 0.2, 0.3, 0.4])) == (
        "plumb_bob",
        [0.1, 0.2, 0.3, 0.4, 0.0],
    )
    d14 = np.zeros(14)
    d14[:8] = np.arange(1, 9) / 10
    model, values = foxglove_distortion(d14)
    assert model == "rational_polynomial"
    assert values == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]


def _boxes(xy: list[tuple[float, float]], labels: list[int] | None = None, t: int = 0) -> Boxes3D:
    n = len(xy)
    return Boxes3D(
        np.array([[x, y, 0.0] for x, y in xy]).reshape(n, 3),
        np.tile([4.0, 2.0, 1.5], (n, 1)),
        np.zeros(n),
        "ego",
        t,
        score=np.full(n, 0.5),
        label=np.array(labels if labels is not None else [1] * n, dtype=np.int64),
        velocity_mps=np.zeros((n, 2)),
    )


def test_boxes_delete_all_previous_entities_and_a_trajectory_only_its_own() -> None:
    """foxglove.SceneEntityDeletionType: 0 MATCHING_ID, 1 ALL. A box update replaces the
    topic's entities (type 1, id ""), a trajectory update replaces entity "trajectory"
    (type 0)."""
    boxes = scene_update_boxes(_boxes([(1.0, 2.0)]))
    assert [(d["type"], d["id"]) for d in boxes["deletions"]] == [(1, "")]
    n = 3
    traj = Trajectory(
        np.arange(n, dtype=np.int64) * 100_000_000,
        np.arange(n, dtype=np.float64),
        np.zeros(n),
        np.zeros(n),
        np.ones(n),
        np.zeros(n),
        np.zeros(n),
    )
    update = scene_update_trajectory(traj, 0)
    assert [(d["type"], d["id"]) for d in update["deletions"]] == [(0, "trajectory")]


# -- payloads: canonical base64 ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "raw", "canonical"),
    [
        ("", b"", True),  # nothing to re-encode: "" is what b64encode(b"") gives
        ("AAAA", b"\x00\x00\x00", True),  # 3 bytes -> 4 characters, no padding
        ("AQID", b"\x01\x02\x03", True),  # 000000 010000 001000 000011 -> A Q I D
        ("AQ==", b"\x01", True),  # 00000001 -> 000000 01(0000): A Q, padded
        ("AR==", b"\x01", False),  # the unused low bits set: decodes to 0x01, not canonical
    ],
)
def test_base64_is_canonical_only_when_it_is_what_b64encode_gives(
    text: str, raw: bytes, canonical: bool
) -> None:
    """``b64decode`` says whether the text may stand in for re-encoding: exactly
    ``base64.b64encode(raw)``. Expected values from the base64 alphabet by hand."""
    assert payloads.b64decode(text) == (raw, canonical)
    assert (base64.b64encode(raw).decode() == text) is canonical


# -- log_io: the wire format and its limits ---------------------------------------------------
def test_read_only_buffers_start_at_a_multiple_of_64_bytes() -> None:
    """encode: 16-byte header (pickle size, buffer count), 8 bytes per buffer size, the
    pickle, then each read-only buffer padded to start at a multiple of 64 in the message."""
    first = np.arange(3, dtype=np.float64)  # 24 bytes
    second = np.arange(5, dtype=np.int64)  # 40 bytes
    for a in (first, second):
        a.setflags(write=False)
    data = log_io.encode((first, second))
    body_size, count = struct.unpack_from("<QQ", data)
    assert count == 2
    sizes = struct.unpack_from("<2Q", data, 16)
    assert sizes == (24, 40)
    offset = 16 + 16 + body_size
    start1 = offset + (-offset % 64)
    assert start1 % 64 == 0
    assert data[start1 : start1 + 24] == first.tobytes()
    start2 = start1 + 24 + (-(start1 + 24) % 64)  # = start1 + 64
    assert start2 == start1 + 64
    assert data[start2 : start2 + 40] == second.tobytes()
    assert len(data) == start2 + 40


def test_a_read_ahead_of_zero_frames_is_refused() -> None:
    """The I/O side may read at most ``ahead_frames`` frames ahead; 0 would never send one,
    so at least 1 is required (the error comes before any worker starts)."""
    with pytest.raises(ValueError, match="positive"):
        log_io.LogIO([], lambda: None, lambda *a: None, lambda: None, ahead_frames=0)  # type: ignore[arg-type,return-value]


class _Counted:
    """Integers 0, 1, 2, ... (as stand-in frames), counting how many were taken."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.taken = 0

    def __iter__(self) -> Any:
        for i in range(self.n):
            self.taken += 1
            yield i


def _read_ahead(tmp_path: Path, **limits: int) -> int:
    """How many frames the (thread) I/O side has read once the stack side took one."""
    from drivestack.replay.log_format import LogWriter

    source = _Counted(10)
    io = log_io.LogIO(
        source,
        lambda: LogWriter(tmp_path / "out.mcap", config={}),
        lambda writer, frame, outputs: None,
        lambda: "done",
        worker="thread",
        **limits,
    )
    frames = io.frames()
    assert next(frames) == 0
    time.sleep(0.5)  # the I/O side blocks once it is that far ahead: the count stays
    taken = source.taken
    assert io.close() == "done"
    return taken


def test_the_io_side_reads_exactly_ahead_frames_frames_ahead(tmp_path: Path) -> None:
    """``ahead_frames=2``: two frames are sent before the stack side answers any; the third
    waits for an answer (the limit is "at most", so not 3)."""
    assert _read_ahead(tmp_path, ahead_frames=2) == 2


def test_the_io_side_stops_reading_once_the_bytes_sent_reach_ahead_bytes(tmp_path: Path) -> None:
    """``ahead_bytes`` equal to one frame message's size: after one frame the bytes pending
    equal the limit (not below it), so no second frame is read."""
    size = len(log_io.encode(("frame", 0)))
    assert _read_ahead(tmp_path, ahead_frames=10, ahead_bytes=size) == 1


# -- golden records -----------------------------------------------------------------------------
def test_golden_boxes_are_ordered_by_label_then_x_then_y() -> None:
    """The record's box order: label first, then centre x, then centre y (lexsort's last key
    is the primary one). Boxes (label, x, y): (2, 0, 0), (1, 2, 0), (1, 1, 5), (1, 1, 3)
    -> (1, 1, 3), (1, 1, 5), (1, 2, 0), (2, 0, 0)."""
    boxes = _boxes([(0.0, 0.0), (2.0, 0.0), (1.0, 5.0), (1.0, 3.0)], labels=[2, 1, 1, 1])
    record = golden._boxes_record(boxes)
    assert record["label"] == [1, 1, 1, 2]
    assert [row[:2] for row in record["box"]] == [[1.0, 3.0], [1.0, 5.0], [2.0, 0.0], [0.0, 0.0]]


def test_golden_box_parameters_keep_five_decimals() -> None:
    """Records round box parameters to 5 decimals: x 1.234567 -> 1.23457 (the sixth decimal
    7 rounds up), not 1.2346."""
    record = golden._boxes_record(_boxes([(1.234567, 0.0)]))
    assert record["box"][0][0] == 1.23457


def _frame(t: int, topic: str, boxes: list[list[float]], **extra: Any) -> dict[str, Any]:
    entry = {"label": [1] * len(boxes), "box": boxes, "score": [0.5] * len(boxes), **extra}
    return {"frames": [{"t": t, topic: entry}]}


def test_a_nan_box_parameter_is_always_a_difference() -> None:
    """A NaN output never agrees with the reference: NaN <= tolerance is false, so the box
    is reported (the NaN is the worst parameter)."""
    want = _frame(0, "detections", [[1.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]])
    got = _frame(0, "detections", [[float("nan"), 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]])
    diffs = golden.compare_golden(got, want)
    assert len(diffs) == 1
    assert "box parameters moved" in diffs[0]
    assert " x 1 -> nan" in diffs[0]


def test_a_reversed_heading_changes_a_track_but_not_a_detection() -> None:
    """Detections' yaw is an axis (compared modulo pi): yaw 0 vs pi is no change. Tracks
    have a heading (modulo 2 pi): yaw 0 vs pi moved by pi (3.142), beyond 1e-3."""
    box0 = [0.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]
    box_pi = [0.0, 0.0, 0.0, 4.0, 2.0, 1.5, float(np.pi)]
    det = golden.compare_golden(_frame(0, "detections", [box_pi]), _frame(0, "detections", [box0]))
    assert det == []
    want = _frame(0, "tracks", [box0], id=[7])
    got = _frame(0, "tracks", [box_pi], id=[7])
    diffs = golden.compare_golden(got, want)
    assert len(diffs) == 1
    assert "moved by up to 3.142" in diffs[0]
    assert "yaw" in diffs[0]


def test_a_box_moved_by_one_and_a_half_millimetres_is_a_difference() -> None:
    """The box tolerance is 1e-3 (m, rad): x 1.0 -> 1.0015 moves by 0.0015 > 0.001."""
    want = _frame(0, "detections", [[1.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]])
    got = _frame(0, "detections", [[1.0015, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]])
    diffs = golden.compare_golden(got, want)
    assert len(diffs) == 1
    assert "moved by up to 0.0015" in diffs[0]


def test_forecast_end_points_move_by_their_euclidean_distance() -> None:
    """An end point moved by (0.0008, 0.0008) m: each axis within 1e-3, but the distance
    hypot = 0.0008 * sqrt(2) = 0.00113 m is beyond it."""
    want = {"frames": [{"t": 0, "forecasts": {"id": [3], "end_xy": [[1.0, 2.0]]}}]}
    got = {"frames": [{"t": 0, "forecasts": {"id": [3], "end_xy": [[1.0008, 2.0008]]}}]}
    diffs = golden.compare_golden(got, want)
    assert len(diffs) == 1
    assert "moved by up to 0.001131" in diffs[0]


def test_a_forecast_record_holds_each_tracks_horizon_end_point() -> None:
    """The record keeps the xy of a track's *last* forecast step (the horizon), rounded to 5
    decimals, by track id: steps at x 0, 1, 2.123456 -> end (2.12346, 0.5)."""
    boxes = np.zeros((2, 3, 7))
    boxes[:, :, 3:6] = 1.0
    boxes[0, :, 0] = [0.0, 1.0, 2.123456]
    boxes[0, :, 1] = 0.5
    boxes[1, :, 0] = [9.0, 9.0, 9.0]
    fc = TrackForecasts(np.array([5, 2]), Forecast(0.5, boxes, np.zeros((2, 3))), "ego", 0)
    record = golden._forecasts_record(fc)
    assert record == {"id": [2, 5], "end_xy": [[9.0, 0.0], [2.12346, 0.5]]}


def test_a_golden_record_with_two_frames_at_one_time_is_refused(tmp_path: Path) -> None:
    """Frame times must increase strictly: t 5 after t 5 is a DataError naming frame 1."""
    record = {"frames": [{"t": 5}, {"t": 5}]}
    with pytest.raises(DataError, match="frame 1"):
        golden.check_golden(record, tmp_path / "g.json")
    assert golden.check_golden({"frames": [{"t": 5}, {"t": 6}]}, "g.json")["frames"][1]["t"] == 6


# -- KITTI channels -------------------------------------------------------------------------------
def _kitti_labels_msg(timestamp_ns: int, size: list[int] | None = None) -> dict[str, Any]:
    """A KittiLabels message of no rows."""
    return {
        "timestamp_ns": timestamp_ns,
        "sequence": "0000",
        "frame_index": 0,
        "image_size_wh": size if size is not None else [1242, 375],
        "objects": {
            k: []
            for k in (
                "type",
                "track_id",
                "truncated",
                "occluded",
                "alpha_rad",
                "bbox_xyxy_px",
                "dimensions_hwl_m",
                "location_m",
                "rotation_y_rad",
            )
        },
    }


def test_kitti_labels_at_time_zero_read_and_before_it_are_refused() -> None:
    """A label message's time is a log time: 0 (frame 0 at 10 Hz) is fine, -1 is not."""
    assert decode_kitti_labels(_kitti_labels_msg(0)).timestamp_ns == 0
    with pytest.raises(DataError, match="negative"):
        decode_kitti_labels(_kitti_labels_msg(-1))


def test_kitti_image_size_is_exactly_two_numbers() -> None:
    """``image_size_wh`` is ``[width, height]``: three numbers are refused."""
    with pytest.raises(DataError, match="width, height"):
        decode_kitti_labels(_kitti_labels_msg(0, size=[1242, 375, 3]))


class _Topics:
    """A stand-in LogWriter recording ``(topic, time)`` of each message written."""

    def __init__(self) -> None:
        self.written: list[tuple[str, int]] = []

    def write(self, topic: str, schema: str, timestamp_ns: int, message: Any) -> None:
        self.written.append((topic, timestamp_ns))


def test_kitti_rows_at_a_frames_time_are_written_with_that_frame() -> None:
    """``through(t)`` writes the rows at times up to and *including* t: labels at 0, 100,
    200 ms; through(100 ms) writes those at 0 and 100 ms, not 200 ms."""
    labels = {
        t: KittiFrameLabels(
            t, "0000", t // 100_000_000, (1242, 375), decode_kitti_labels(_kitti_labels_msg(t)).rows
        )
        for t in (0, 100_000_000, 200_000_000)
    }
    copy = KittiChannelCopy(KittiChannels(None, labels))  # type: ignore[arg-type]
    writer = _Topics()
    copy.through(writer, 100_000_000)  # type: ignore[arg-type]
    assert writer.written == [(KITTI_LABELS_TOPIC, 0), (KITTI_LABELS_TOPIC, 100_000_000)]


# -- dataset logs -----------------------------------------------------------------------------
def test_a_frame_range_whose_first_is_after_its_last_is_refused() -> None:
    """Frames 0, 1, 2: first 2, last 1 selects no frame (and 0 == 1 - 2 + 1 would pass a bare
    count check); it is a DataError, not an empty log."""
    with pytest.raises(DataError, match="asked, but log x has frames"):
        select_frames([0, 1, 2], 2, 1, what="log x", path="x")
    assert select_frames([0, 1, 2], 1, 2, what="log x", path="x") == [1, 2]


def test_the_no_ids_note_needs_labels_and_the_pose_note_counts_frames() -> None:
    """Frames without labels give no "no track ids" note; 3 of 5 frames without an ego pose
    say "3 of", all 5 say it without a count."""
    unlabelled = LogWritten(5, 0, 4)
    assert unlabelled.notes() == []
    partial = LogWritten(5, 0, 4, without_ego_pose=3)
    assert partial.notes()[0].startswith("note: 3 of its frames have no ego pose")
    whole = LogWritten(5, 0, 4, without_ego_pose=5)
    assert whole.notes()[0].startswith("note: its frames have no ego pose")


def test_a_dataset_log_without_a_dataset_name_has_no_source_dataset() -> None:
    """``dataset_to_log`` records the dataset name in its config; a record without one (or
    with a non-string one) says nothing about the sensor: None."""
    assert source_dataset({"command": "dataset_to_log", "config": {"dataset": "av2"}}) == "av2"
    assert source_dataset({"command": "dataset_to_log", "config": {}}) is None
    assert source_dataset({"command": "dataset_to_log", "config": {"dataset": 3}}) is None


# -- log_reader decoding ------------------------------------------------------------------------
def test_a_point_stride_of_zero_is_a_data_error() -> None:
    """No point has 0 bytes: ``point_stride`` 0 is a DataError naming ``point_stride`` (not a
    division by zero, nor NumPy's refusal of the 0-byte layout when there are fields)."""
    msg = point_cloud_message(PointCloud(np.zeros((1, 3), dtype=np.float32), "lidar", 0))
    for fields in ([], msg["fields"]):
        with pytest.raises(DataError, match="point_stride 0") as info:
            decode_point_cloud({**msg, "point_stride": 0, "fields": fields})
        assert info.value.field == "point_stride"


def test_fields_past_the_point_stride_are_a_data_error_naming_fields() -> None:
    """x y z float32 end at byte 12: a stride of 8 bytes (data 8 bytes long, a whole number
    of points) cannot hold them; the error names ``fields``, not NumPy's layout message."""
    msg = point_cloud_message(PointCloud(np.zeros((1, 3), dtype=np.float32), "lidar", 0))
    data = base64.b64encode(bytes(8)).decode()
    with pytest.raises(DataError, match="fields do not fit points of point_stride 8") as info:
        decode_point_cloud({**msg, "point_stride": 8, "data": data})
    assert info.value.field == "fields"


def test_distortion_model_none_is_read_in_any_case_and_only_with_zero_coefficients() -> None:
    """ "None" (any case) names no distortion: zero coefficients read; a negative one is a
    non-zero coefficient that model cannot hold."""
    d = distortion_coefficients({"distortion_model": "None", "D": [0.0, 0.0]})
    assert d.tolist() == [0.0, 0.0]
    with pytest.raises(DataError, match="nonzero"):
        distortion_coefficients({"distortion_model": "", "D": [-0.1]})


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (111, "111th"),
        (102, "102nd"),
    ],
)
def test_ordinals(n: int, text: str) -> None:
    """English ordinals: the last digit picks st / nd / rd, except 11, 12, 13 (of any
    hundred), which take th."""
    assert _ordinal(n) == text


def test_an_update_without_entities_is_empty_ego_boxes_at_the_log_time() -> None:
    """No entity gives no frame or time: empty boxes in the ``ego`` frame at the message's
    log time."""
    boxes = decode_scene_update({"deletions": [], "entities": []}, 42)
    assert isinstance(boxes, Boxes3D)
    assert (len(boxes), boxes.frame, boxes.timestamp_ns) == (0, "ego", 42)


def test_a_missing_quaternion_w_is_one() -> None:
    """Foxglove's Quaternion defaults w to 1: rotation {z: 1} is (w, z) = (1, 1), normalised a
    turn of 2 atan2(1, 1) = pi / 2 about z, so x maps to y."""
    (tf,) = decode_frame_transforms(
        {
            "transforms": [
                {
                    "timestamp": {"sec": 0, "nsec": 0},
                    "parent_frame_id": "a",
                    "child_frame_id": "b",
                    "translation": {"x": 0.0, "y": 0.0, "z": 0.0},
                    "rotation": {"z": 1.0},
                }
            ]
        }
    )
    np.testing.assert_allclose(
        tf.parent_from_child.rotation @ [1.0, 0.0, 0.0], [0, 1, 0], atol=1e-12
    )


def test_a_lidar_already_in_the_ego_frame_gets_no_mounting_transform(tmp_path: Path) -> None:
    """``/tf`` carries ``ego -> sensor`` mountings only for clouds in a sensor frame: a cloud
    whose frame is ``ego`` needs none, and without an ego pose the frame writes no ``/tf``."""
    from drivestack.core.transforms import SE3
    from drivestack.replay.log_format import LogWriter
    from drivestack.replay.log_reader import LogReader
    from drivestack.structures.sensor_frame import SensorFrame

    cloud = PointCloud(np.zeros((1, 3), dtype=np.float32), "ego", 0)
    frame = SensorFrame(0, lidars={"top": cloud}, ego_from_sensor={"top": SE3.identity()})
    path = tmp_path / "f.mcap"
    with LogWriter(path, config={}) as writer:
        writer.sensor_frame(frame)
    topics = [topic for topic, *_ in LogReader(path).raw_messages()]
    assert "/tf" not in topics
    assert "/lidar/top" in topics


def test_a_file_ending_exactly_after_a_record_is_cut_after_whole_records(tmp_path: Path) -> None:
    """cut_short walks records by their 9-byte prefix (opcode, uint64 length): the 8-byte
    magic, then a HEADER (opcode 1) of 8 content bytes ends at byte 8 + 9 + 8 = 25. A
    25-byte file holds that record whole (no footer follows); 24 bytes end inside it,
    16 of its 17 bytes there."""
    from drivestack.replay.log_reader import cut_short

    data = b"\x89MCAP0\r\n" + b"\x01" + (8).to_bytes(8, "little") + bytes(8)
    whole = tmp_path / "whole.mcap"
    whole.write_bytes(data)
    assert cut_short(whole) == (
        "cut short (a truncated copy?): the file is 25 bytes and ends after 1 whole records, "
        "without the MCAP footer"
    )
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(data[:-1])
    assert cut_short(cut) == (
        "cut short (a truncated copy?): the file is 24 bytes and ends inside its 1st record "
        "(a HEADER of 17 bytes from byte 8: 16 of them there)"
    )


def test_non_contiguous_arrays_keep_their_writeable_flag_across_the_pipe() -> None:
    """Read-only arrays cross as read-only buffers, writeable ones as writeable copies; a
    non-contiguous view (every second value) is no exception: [0, 2, 4] either way, the
    writeable one still writeable, the read-only one still read-only."""
    base = np.arange(6, dtype=np.int64)
    writeable = base[::2]
    frozen = base.copy()[::2]
    frozen.setflags(write=False)
    got_w, got_r = log_io.decode(log_io.encode((writeable, frozen)))
    assert got_w.tolist() == [0, 2, 4] and got_r.tolist() == [0, 2, 4]
    assert got_w.flags.writeable
    assert not got_r.flags.writeable
