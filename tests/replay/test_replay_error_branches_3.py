"""Error and corner branches of the replay package no other test runs (third review): KITTI
channels with fields that are not numbers or do not fit, hand-built and corrupt MCAP files
read in file order, dataset folders without frames, the log format's refusals, the forecast
scorer's and the runner's corner cases. Bad input is a DataError (or the documented error)
naming the file, record and field; a corner case gives its documented result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mcap.reader import make_reader
from mcap.writer import CompressionType, IndexType, Writer

from drivestack.core.errors import DataError
from drivestack.core.frames import EGO
from drivestack.core.transforms import SE3
from drivestack.pipeline import Stack
from drivestack.prediction.forecast import Forecast
from drivestack.replay import log_format
from drivestack.replay.convert import _jsonable
from drivestack.replay.dataset_log import dataset_to_log, select_frames
from drivestack.replay.forecast_score import ForecastScorer
from drivestack.replay.kitti_log import KITTI_LABELS_TOPIC, read_kitti_channels
from drivestack.replay.kitti_score import (
    KITTI_RESULTS_MANIFEST,
    KittiReplayScorer,
    _check_results_owner,
)
from drivestack.replay.log_format import (
    CompressedImageData,
    _scene_entity,
    decode_forecast_entities,
    foxglove_distortion,
    load_schema,
)
from drivestack.replay.log_reader import InputProblem, LogReader, TruncatedLogError
from drivestack.replay.payloads import b64decode
from drivestack.replay.runner import (
    DetectionTally,
    _check_kitti_results,
    _keep_or_drop_partial,
    _kitti_scorer,
    _percentiles,
    crashed_log_path,
    log_frame_count,
    partial_path,
)
from drivestack.replay.stack_fit import _stack_made_for, log_run_record
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.sensor_frame import SensorFrame
from drivestack.structures.tracks import Tracks
from tests.replay.test_forecast_replay import CAR, FiniteDifferenceTracker, OracleDetector
from tests.replay.test_kitti_replay import _set, _tiny_kitti_log
from tests.replay.test_log_reader_bad_messages import _log, _rewrite

# --- kitti_log ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit_calib", "edit_labels", "record", "what"),
    [
        (
            _set("P2", 0, value="x"),
            None,
            "/calibration/kitti #0",
            "field P2: not numbers (could not convert string to float: 'x')",
        ),
        (
            None,
            _set("objects", "alpha_rad", 0, value={"a": 1}),
            "/labels/kitti #1",
            "field objects.alpha_rad: not numbers (float() argument must be a string or a real "
            "number, not 'dict')",
        ),
        (
            None,
            _set("objects", "track_id", 0, value=10**30),
            "/labels/kitti #1",
            "field objects.track_id[0]: 1e+30 is out of the int64 range",
        ),
        (
            None,
            _set("timestamp_ns", value=1e30),
            "/labels/kitti #1",
            "field timestamp_ns: 1e+30 is out of the int64 range",
        ),
        (
            None,
            _set("objects", "track_id", 0, value=1.5),
            "/labels/kitti #1",
            "field objects.track_id[0]: 1.5 is not a whole number",
        ),
        (
            None,
            _set("objects", "alpha_rad", 0, value=None),
            "/labels/kitti #1",
            "field objects.alpha_rad[0]: null, not a number",
        ),
        (
            None,
            _set("objects", "track_id", 0, value=2**63),
            "/labels/kitti #1",
            "field objects.track_id: out of the int64 range",
        ),
        (
            _set("R0_rect", value=[1.0, 0.0, 0.0, 1.0]),
            None,
            "/calibration/kitti #0",
            "field R0_rect: expected 9 numbers, got 4",
        ),
    ],
    ids=[
        "calib_text",
        "labels_dict",
        "track_id_huge_int",
        "timestamp_huge_float",
        "track_id_not_whole",
        "alpha_null",
        "track_id_just_past_int64",
        "calib_size",
    ],
)
def test_kitti_fields_not_numbers_or_of_the_wrong_size_name_file_record_and_field(
    tmp_path: Path, edit_calib: Any, edit_labels: Any, record: str, what: str
) -> None:
    """A KITTI field that is not numbers (or null), an integer that is not whole or out of
    int64's range (1.5 was cut to 1) or a matrix of the wrong size is a DataError naming the
    log, the message (topic #index) and the field."""
    log = _tiny_kitti_log(tmp_path / "bad.mcap", edit_calib, edit_labels)
    with pytest.raises(DataError) as raised:
        read_kitti_channels(log)
    assert str(raised.value) == f"{log}: {record}: {what}"


def test_kitti_labels_without_a_calibration_name_the_calibration_topic(tmp_path: Path) -> None:
    """Label rows without ``/calibration/kitti``: a DataError naming the log and the topic."""
    log = _tiny_kitti_log(tmp_path / "in.mcap")
    path = _rewrite(
        log,
        tmp_path / "nocalib.mcap",
        lambda topic, i, t, data: None if topic == "/calibration/kitti" else (t, data),
    )
    with pytest.raises(DataError) as raised:
        read_kitti_channels(path)
    assert raised.value.path == str(path) and raised.value.record == "/calibration/kitti"
    assert raised.value.reason == f"log has {KITTI_LABELS_TOPIC} but no /calibration/kitti"


def test_a_log_with_a_kitti_calibration_but_no_label_rows_has_no_kitti_channels(
    tmp_path: Path,
) -> None:
    """A calibration without label rows: None (nothing to score), no error."""
    log = _tiny_kitti_log(tmp_path / "in.mcap")
    path = _rewrite(
        log,
        tmp_path / "nolabels.mcap",
        lambda topic, i, t, data: None if topic == KITTI_LABELS_TOPIC else (t, data),
    )
    assert read_kitti_channels(path) is None


def test_a_kitti_log_cut_before_its_first_label_row_raises_the_truncation(tmp_path: Path) -> None:
    """A log cut short before any label row was read: the TruncatedLogError, not None (an
    input that lost everything is not "no KITTI channels")."""
    log = _tiny_kitti_log(tmp_path / "in.mcap")
    data = log.read_bytes()
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(data[:100])  # inside its first chunk
    with pytest.raises(TruncatedLogError) as raised:
        read_kitti_channels(cut)
    assert raised.value.path == str(cut)
    assert "truncated or corrupt MCAP: it breaks off after 0 messages" in raised.value.reason


# --- log_reader: hand-built and corrupt MCAP files ----------------------------------------


def _unchunked(path: Path, *, schema_id: int | None = None, channel_id: int | None = None) -> Path:
    """An unchunked MCAP of one ``/x`` message whose channel names ``schema_id`` (default:
    its schema) and whose message names ``channel_id`` (default: its channel)."""
    with path.open("wb") as out:
        writer = Writer(out, compression=CompressionType.NONE, use_chunking=False)
        writer.start()
        sid = writer.register_schema("s", "jsonschema", b"{}")
        cid = writer.register_channel("/x", "json", sid if schema_id is None else schema_id)
        writer.add_message(cid if channel_id is None else channel_id, 1, b"{}", 1)
        writer.finish()
    return path


def _cut_footer(path: Path) -> Path:
    path.write_bytes(path.read_bytes()[:-10])
    return path


def test_a_log_cut_short_whose_channel_names_no_schema_is_truncated_naming_it(
    tmp_path: Path,
) -> None:
    """Read in file order (footer cut), a channel naming a schema id no record defined ends
    the readable part: TruncatedLogError naming the file and the missing schema id."""
    path = _cut_footer(_unchunked(tmp_path / "x.mcap", schema_id=7))
    with pytest.raises(TruncatedLogError) as raised:
        list(LogReader(path).raw_messages())
    assert raised.value.path == str(path)
    assert raised.value.reason == (
        "truncated or corrupt MCAP: it breaks off after 0 messages of the topics read "
        "(McapError: no schema record found with id 7)"
    )


def test_a_log_cut_short_with_a_message_of_no_channel_is_truncated_naming_it(
    tmp_path: Path,
) -> None:
    """Read in file order, a message naming a channel id no record declared ends the
    readable part: TruncatedLogError naming the file and the channel id."""
    path = _cut_footer(_unchunked(tmp_path / "x.mcap", channel_id=9))
    with pytest.raises(TruncatedLogError) as raised:
        list(LogReader(path).raw_messages())
    assert raised.value.path == str(path)
    assert raised.value.reason.endswith("(McapError: no channel record found with id 9)")


def test_a_whole_log_with_a_message_of_no_channel_does_not_drop_it_silently(
    tmp_path: Path,
) -> None:
    """A whole log whose message names an undeclared channel is not read as a log without
    that message: a DataError naming the file and the channel id, as when it is cut short."""
    path = _unchunked(tmp_path / "x.mcap", channel_id=9)
    with pytest.raises(DataError, match="no channel record found with id 9") as info:
        list(LogReader(path).raw_messages())
    assert str(path) in str(info.value)


@pytest.mark.parametrize("only_undeclared", [False, True])
def test_an_indexed_chunk_with_a_message_of_no_channel_is_reported_lost(
    tmp_path: Path, only_undeclared: bool
) -> None:
    """A whole, chunk-indexed log whose chunk holds a message naming an undeclared channel
    (beside ``/x``'s, or alone) is not read as if that message never existed: the chunk is
    reported lost, naming the channel id (it was dropped unseen)."""
    path = tmp_path / "x.mcap"
    with path.open("wb") as out:
        writer = Writer(out, compression=CompressionType.NONE)
        writer.start()
        cid = writer.register_channel(
            "/x", "json", writer.register_schema("s", "jsonschema", b"{}")
        )
        if not only_undeclared:
            writer.add_message(cid, 1, b"{}", 1)
        writer.add_message(9, 2, b"{}", 2)
        writer.finish()
    with pytest.raises(TruncatedLogError, match=r"names channel id 9, which has no channel record"):
        list(LogReader(path).raw_messages())


def _chunked(path: Path, index_types: IndexType) -> Path:
    """Six ``/x`` messages in chunks of about two, the third one's byte flipped (its chunk's
    CRC fails); ``index_types`` says whether the summary indexes the chunks."""
    with path.open("wb") as out:
        writer = Writer(
            out, compression=CompressionType.NONE, chunk_size=200, index_types=index_types
        )
        writer.start()
        cid = writer.register_channel("/x", "json", writer.register_schema("s", "jsonschema", b""))
        for k in range(6):
            writer.add_message(cid, k, b'{"k": %d, "pad": "%s"}' % (k, b"x" * 100), k)
        writer.finish()
    data = bytearray(path.read_bytes())
    data[data.find(b'"k": 2') + 10] ^= 0x01
    path.write_bytes(bytes(data))
    return path


def test_a_whole_log_without_a_chunk_index_and_a_corrupt_chunk_is_read_as_cut_short(
    tmp_path: Path,
) -> None:
    """A whole file without a chunk index whose chunk fails its CRC is read in file order up
    to that chunk: its messages before it, then TruncatedLogError naming the file and the
    CRC failure."""
    path = _chunked(tmp_path / "x.mcap", IndexType.MESSAGE)
    read: list[int] = []
    with pytest.raises(TruncatedLogError) as raised:
        for _, _, _, msg in LogReader(path).raw_messages():
            read.append(msg["k"])
    assert read == [0]
    assert raised.value.path == str(path)
    assert "breaks off after 1 messages" in raised.value.reason
    assert "CRCValidationError: crc validation failed in Chunk" in raised.value.reason


def test_a_lost_chunk_whose_message_index_does_not_read_still_names_the_chunk(
    tmp_path: Path,
) -> None:
    """A corrupt chunk whose message index records are corrupt too: its scans cannot be
    named one by one, the other frames replay, and TruncatedLogError names the chunk's byte
    and log-time range."""
    src = _rewrite(_log(tmp_path / "in.mcap", 4), tmp_path / "small.mcap", chunk_size=2000)
    with src.open("rb") as stream:
        summary = make_reader(stream).get_summary()
    assert summary is not None
    (lidar,) = [cid for cid, c in summary.channels.items() if c.topic == "/lidar/top"]
    chunk = [ci for ci in summary.chunk_indexes if lidar in ci.message_index_offsets][1]
    data = bytearray(src.read_bytes())
    data[chunk.chunk_start_offset + chunk.chunk_length // 2] ^= 0xFF
    for offset in chunk.message_index_offsets.values():  # each record's length: past the end
        data[offset + 1 + 8 + 2 : offset + 1 + 8 + 6] = b"\xff\xff\xff\x7f"
    path = tmp_path / "both.mcap"
    path.write_bytes(bytes(data))
    items: list[Any] = []
    with pytest.raises(TruncatedLogError) as raised:
        items.extend(LogReader(path).frames(problems=True))
    frames = [f.timestamp_ns for f in items if isinstance(f, SensorFrame)]
    lost = chunk.message_start_time
    assert len(frames) == 3 and lost not in frames
    assert not [p for p in items if isinstance(p, InputProblem) and p.kind == "skipped"]
    assert raised.value.path == str(path)
    assert raised.value.reason.startswith(
        f"1 corrupt chunk(s) skipped, their messages lost: byte {chunk.chunk_start_offset} "
        f"(log time {lost}-{chunk.message_end_time} ns): CRCValidationError"
    )


def test_a_tf_message_that_does_not_decode_at_no_frame_time_is_a_note(tmp_path: Path) -> None:
    """A ``/tf`` message that does not decode, logged at a time no frame has, skips no frame:
    a ``"note"`` at the end says why, "(at no frame's time)"."""

    def extra_tf(topic: str, i: int, t: int, data: bytes) -> Any:
        if (topic, i) != ("/tf", 0):
            return t, data
        return [(t, data), (t + 1_000, b'{"transforms": [{"nope": 1}]}')]

    path = _rewrite(_log(tmp_path / "in.mcap", 3), tmp_path / "tf.mcap", extra_tf)
    items = list(LogReader(path).frames(problems=True))
    assert len([f for f in items if isinstance(f, SensorFrame)]) == 3
    notes = [p for p in items if isinstance(p, InputProblem)]
    (note,) = [p for p in notes if p.reason.endswith("(at no frame's time)")]
    assert note.kind == "note" and note.timestamp_ns == -1 and note.source == str(path)
    assert note.reason.startswith("/tf #1")


def test_png_reuse_is_not_checked_for_other_images_nor_after_a_refusal() -> None:
    """The PNG reuse check: a JPEG (or an image without its base64) leaves the answer as it
    was; once refused it stays refused; pixels the PNG encoder refuses are not reusable."""
    pixels = np.zeros((2, 2, 3), dtype=np.uint8)
    jpeg = CompressedImageData(0, "cam", b"\xff\xd8", "jpeg", data_b64="/9g=")
    png = CompressedImageData(0, "cam", b"\x89PNG", "png", data_b64="iVBORw==")
    assert LogReader._png_reusable(jpeg, pixels, None) is None
    assert LogReader._png_reusable(png, pixels, False) is False
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    assert LogReader._png_reusable(png, rgba, None) is False
    assert rgba.flags.writeable  # not taken for reuse


# --- log_format ---------------------------------------------------------------------------


def test_an_unknown_schema_name_is_a_key_error_listing_the_known() -> None:
    """load_schema of a name it does not know: KeyError naming it and the known ones."""
    with pytest.raises(KeyError, match=r"unknown schema 'foxglove\.Nope'; known: "):
        load_schema("foxglove.Nope")


def test_a_scene_entity_with_an_unknown_primitive_list_is_refused() -> None:
    """A SceneEntity primitive list Foxglove does not define is a ValueError naming it."""
    with pytest.raises(ValueError, match=r"not SceneEntity primitive lists: \['blobs'\]"):
        _scene_entity(0, "ego", "e", {}, blobs=[])


def test_forecast_entities_disagreeing_on_their_step_are_refused() -> None:
    """Forecast entities of one SceneUpdate with different ``dt_s``: ValueError naming both."""
    metas = [
        {"dt_s": "0.1", "boxes": "[[[0,0,0,1,1,1,0]]]", "speed_mps": "[[0]]"},
        {"dt_s": "0.2", "boxes": "[[[0,0,0,1,1,1,0]]]", "speed_mps": "[[0]]"},
    ]
    with pytest.raises(ValueError, match=r"disagree on dt_s: \[0\.1, 0\.2\]"):
        decode_forecast_entities([{}, {}], metas)


@pytest.mark.parametrize("count", [1, 3, 6, 9])
def test_a_distortion_count_of_no_model_is_refused_naming_the_camera(count: int) -> None:
    """Coefficient counts other than 0, 4, 5, 8, 12 or 14: ValueError naming the camera and
    the count."""
    with pytest.raises(ValueError) as raised:
        foxglove_distortion(np.zeros(count), "front")
    assert str(raised.value) == (
        f"camera 'front': {count} distortion coefficients; expected 0, 4, 5, 8, 12 or 14"
    )


def test_a_log_written_outside_a_git_checkout_leaves_the_commit_out_of_its_run_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No git commit known: the run record has no ``git_commit`` key (not ``null``)."""
    monkeypatch.setattr(
        log_format,
        "run_provenance",
        lambda command: {"drivestack_version": "x", "git_commit": None, "command": command},
    )
    path = tmp_path / "x.mcap"
    with log_format.LogWriter(path, config={"source": "test"}, command="cmd"):
        pass
    run = LogReader(path).run_metadata()
    assert "git_commit" not in run and run["command"] == "cmd"


# --- dataset_log --------------------------------------------------------------------------


def test_a_frame_range_of_no_frames_names_the_path() -> None:
    """select_frames of an empty frame list: DataError "<what> has no frames" naming it."""
    with pytest.raises(DataError) as raised:
        select_frames([], None, None, what="info file x.json", path="/data/x.json")
    assert raised.value.path == "/data/x.json" and raised.value.reason == (
        "info file x.json has no frames"
    )


@pytest.mark.parametrize(
    ("dataset", "infos", "reason"),
    [
        ("aimotive", [], "no dynamic/raw-revolutions/frame_*.laz"),
        ("pandaset", [], "no lidar/NN.npz"),
        (
            "nuscenes",
            [],
            "expected one *_info.json in the folder (found none): give the file",
        ),
        (
            "nuscenes",
            ["a_info.json", "b_info.json"],
            "expected one *_info.json in the folder (found 2: a_info.json, b_info.json): "
            "give the file",
        ),
    ],
)
def test_a_dataset_folder_without_frames_is_refused_before_the_log_is_made(
    tmp_path: Path, dataset: str, infos: list[str], reason: str
) -> None:
    """A dataset folder without the files of its frames: DataError naming the folder and
    what is missing; no log written."""
    for name in infos:
        (tmp_path / name).write_text("{}")
    out = tmp_path / "out.mcap"
    with pytest.raises(DataError) as raised:
        dataset_to_log(dataset, tmp_path, out)
    assert raised.value.path == str(tmp_path) and raised.value.reason == reason
    assert not out.exists()


def test_an_unknown_dataset_is_refused_naming_the_option(tmp_path: Path) -> None:
    """An unknown dataset name: DataError naming ``--dataset`` and listing the known ones."""
    with pytest.raises(DataError) as raised:
        dataset_to_log("waymo", tmp_path, tmp_path / "out.mcap")
    assert raised.value.field == "--dataset"
    assert raised.value.reason.startswith("unknown dataset 'waymo'; known: av2, aimotive")
    assert not (tmp_path / "out.mcap").exists()


# --- forecast_score -----------------------------------------------------------------------


def _car(x: float, t_ns: int) -> Boxes3D:
    return Boxes3D.from_array7(np.array([[x, 0, 0, 4, 2, 1.5, 0]]), EGO, t_ns, label=[CAR])


def _forecast(dt_s: float, n: int, rows: int = 1) -> Forecast:
    boxes = np.array([[[float(k), 0, 0, 4, 2, 1.5, 0] for k in range(n + 1)]] * rows, float)
    return Forecast(dt_s, boxes, np.ones((rows, n + 1)))


def test_a_forecast_of_another_step_or_too_short_is_refused() -> None:
    """A forecast whose step differs from the scorer's, or shorter than its horizon:
    ValueError naming both."""
    scorer = ForecastScorer(horizon_s=1.0, dt_s=0.1)
    track = _car(0.0, 0)
    tracks = Tracks(np.array([1]), track)
    for forecast in (_forecast(0.2, 5), _forecast(0.1, 5)):
        with pytest.raises(ValueError) as raised:
            scorer.add_forecasts(0, tracks, forecast, track, ("a",), SE3.identity())
        assert str(raised.value) == (
            f"forecast of {forecast.n_steps} steps of {forecast.dt_s} s, the scorer needs "
            "10 of 0.1 s"
        )


def test_forecast_rows_that_are_not_the_tracks_are_refused() -> None:
    """A forecast with another number of rows than tracks: ValueError naming both counts."""
    scorer = ForecastScorer(horizon_s=1.0, dt_s=0.1)
    track = _car(0.0, 0)
    with pytest.raises(ValueError, match=r"^2 forecasts for 1 tracks$"):
        scorer.add_forecasts(
            0, Tracks(np.array([1]), track), _forecast(0.1, 10, 2), track, ("a",), SE3.identity()
        )


def test_a_step_between_frames_without_the_objects_label_has_no_label_future() -> None:
    """A forecast step between two frames is compared with the truth interpolated between
    them; when the object is not labelled in one of them the case has no label future."""
    scorer = ForecastScorer(horizon_s=0.15, dt_s=0.15)
    for k in range(5):
        t_ns = k * 100_000_000
        scorer.add_frame(t_ns, _car(float(k), t_ns), ("b",) if k == 2 else ("a",), SE3.identity())
    track = _car(0.0, 0)
    scorer.add_forecasts(
        0, Tracks(np.array([1]), track), _forecast(0.15, 1), track, ("a",), SE3.identity()
    )
    metrics = scorer.metrics()
    assert metrics["cases"] == 0 and metrics["no_label_future"] == 1
    assert metrics["truth_frames_missing"] == 0


# --- runner -------------------------------------------------------------------------------


def test_a_tally_of_labels_and_detections_in_different_frames_is_refused() -> None:
    """DetectionTally.add of labels in another frame than the detections: DataError naming
    both frames."""
    detections = _car(0.0, 0)
    labels = Boxes3D.from_array7(np.array([[0.0, 0, 0, 4, 2, 1.5, 0]]), "lidar", 0, label=[CAR])
    with pytest.raises(DataError) as raised:
        DetectionTally().add(detections, labels)
    assert raised.value.reason == "labels in frame 'lidar' but detections in 'ego'"


def test_percentiles_of_no_values_are_empty() -> None:
    """A stage that never ran has no timing percentiles (an empty dict, not NaN)."""
    assert _percentiles([]) == {}


def test_a_bag_folder_is_replayed_without_a_kitti_scorer(tmp_path: Path) -> None:
    """A ROS bag folder (no drivestack log to read KITTI rows from): no scorer, no skip."""
    skipped: list[Any] = []
    assert _kitti_scorer(tmp_path, skipped) is None and skipped == []


def test_kitti_results_of_a_bag_folder_say_it_carries_no_kitti_rows(tmp_path: Path) -> None:
    """--kitti-results with a ROS bag folder: DataError naming the option and saying the
    input carries no KITTI label rows."""
    bag = tmp_path / "bag"
    bag.mkdir()
    stack = Stack(OracleDetector(), FiniteDifferenceTracker())
    with pytest.raises(DataError) as raised:
        _check_kitti_results(tmp_path / "results", bag, stack)
    assert raised.value.path == f"--kitti-results {tmp_path / 'results'}"
    assert raised.value.reason.startswith(f"{bag} carries no KITTI label rows (/labels/kitti)")


def test_a_failed_replay_without_a_partial_log_leaves_nothing(tmp_path: Path) -> None:
    """A replay that failed before its partial log was opened: no crashed log is made."""
    out = tmp_path / "run.mcap"
    _keep_or_drop_partial(out, RuntimeError("boom"))
    assert not partial_path(out).exists() and not crashed_log_path(out).exists()
    assert list(tmp_path.iterdir()) == []


def test_the_frame_count_of_a_log_without_statistics_is_unknown(tmp_path: Path) -> None:
    """log_frame_count (a progress bar's total) of an MCAP whose summary has no statistics
    record: None."""
    path = tmp_path / "nostats.mcap"
    with path.open("wb") as out:
        writer = Writer(out, use_statistics=False)
        writer.start()
        cid = writer.register_channel("/lidar/top", "json", 0)
        writer.add_message(cid, 1, b"{}", 1)
        writer.finish()
    assert log_frame_count(path) is None


# --- payloads, kitti_score, stack_fit, convert --------------------------------------------


@pytest.mark.parametrize("text", ["Y\nQ==", "Y Q==", "YR=="])
def test_base64_that_is_not_canonical_decodes_leniently_and_says_so(text: str) -> None:
    """Base64 with a line break or space (refused by strict decoding) or unused bits set
    decodes as before, marked not canonical (its bytes are re-encoded, not reused)."""
    assert b64decode(text) == (b"a", False)


def test_a_kitti_scorer_without_frames_has_no_metrics(tmp_path: Path) -> None:
    """KittiReplayScorer.metrics before any frame: None (not a score of nothing)."""
    channels = read_kitti_channels(_tiny_kitti_log(tmp_path / "in.mcap"))
    assert channels is not None
    assert KittiReplayScorer(channels).metrics() is None


@pytest.mark.parametrize(
    ("manifest", "why"),
    [
        ("not json", "(JSONDecodeError: Expecting value: line 1 column 1 (char 0))"),
        ('{"no_out": 1}', "(no 'out' entry)"),
        ("[1]", "(no 'out' entry)"),
    ],
)
def test_a_kitti_results_folder_with_an_unreadable_manifest_is_refused(
    tmp_path: Path, manifest: str, why: str
) -> None:
    """A results folder whose manifest does not read (not JSON, no ``out``) is not taken for
    this replay's own: DataError naming ``--kitti-results`` and saying the manifest does not
    name its replay, and why (it read "another replay (--out None ...)")."""
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / KITTI_RESULTS_MANIFEST).write_text(manifest)
    with pytest.raises(DataError) as raised:
        _check_results_owner(folder, tmp_path / "run.mcap", overwrite=False)
    assert raised.value.path == f"--kitti-results {folder}"
    assert raised.value.reason.startswith(
        f"holds KITTI results whose {KITTI_RESULTS_MANIFEST} does not say which replay wrote "
        f"them {why}: give another folder"
    )


def test_a_ros2_bag_has_no_drivestack_run_record(tmp_path: Path) -> None:
    """log_run_record of an MCAP of profile ``ros2`` (a rosbag2 recording): None."""
    path = tmp_path / "bag.mcap"
    with path.open("wb") as out:
        writer = Writer(out)
        writer.start(profile="ros2", library="test")
        writer.finish()
    assert log_run_record(path) is None


def test_a_stack_not_made_from_a_yaml_has_no_sibling_stack_to_suggest() -> None:
    """_stack_made_for of a stack built in code (no ``stack`` YAML in its config): None."""
    assert _stack_made_for("kitti", Stack(OracleDetector())) is None


def test_paths_in_a_conversion_report_are_written_as_text() -> None:
    """A conversion report's paths (in dataclasses, lists, dicts) become strings in JSON."""
    assert _jsonable({"inputs": [Path("/a/b.bag")], 1: (Path("c"),)}) == {
        "inputs": ["/a/b.bag"],
        "1": ["c"],
    }
