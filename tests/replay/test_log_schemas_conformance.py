"""drivestack logs conform to the official Foxglove schemas and load in the open-source viewers.

The shipped ``foxglove.*`` schemas are the official ``@foxglove/schemas`` 2.1.0 exports; every
message the writer produces validates against them; every shipped schema is one the JSON-schema
loader of Foxglove Studio's open-source version / Lichtblick (``parseJsonSchema``) accepts;
logs written with the earlier schemas still validate and read; KITTI label rows come with their
frame; camera distortion models match their coefficient counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jsonschema import Draft202012Validator
from mcap.reader import make_reader

from drivestack.cli import main
from drivestack.core.transforms import SE3
from drivestack.kernels.camera import project_points
from drivestack.prediction.forecast import Forecast
from drivestack.replay.kitti_log import (
    KITTI_CALIB_TOPIC,
    KITTI_LABELS_TOPIC,
    decode_kitti_calib,
    decode_kitti_labels,
    kitti_calib_message,
    kitti_labels_message,
)
from drivestack.replay.log_format import (
    SCENE_PRIMITIVES,
    SCENE_UPDATE,
    SCHEMA_NAMES,
    LogWriter,
    TrackForecasts,
    foxglove_distortion,
    load_schema,
)
from drivestack.replay.log_reader import LogReader
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.camera import CameraCalibration, CameraImage
from drivestack.structures.sensor_frame import SensorFrame
from tests.replay.test_kitti_replay import STACK, _tiny_calib, _tiny_kitti_log
from tests.replay.test_log_format import T, sample_values, write_sample

REPO = Path(__file__).resolve().parents[2]
FOXGLOVE = [n for n in SCHEMA_NAMES if n.startswith("foxglove.")]


# -- the viewer's loader --------------------------------------------------------------------
def _loader_problem(schema: dict[str, Any], path: str = "") -> str | None:
    """Why Foxglove Studio's open-source ``parseJsonSchema`` (also Lichtblick's) would refuse
    ``schema`` (the channel is then dropped), None when it accepts it: its rules, ported."""
    if schema.get("type") != "object":
        return f"{path or '<root>'}: type {schema.get('type')!r}, not 'object'"
    if not isinstance(schema.get("properties"), dict):
        return f"{path or '<root>'}: an object without properties"
    for name, field in schema["properties"].items():
        where = f"{path}.{name}" if path else name
        if isinstance(field.get("oneOf"), list):
            if not all(isinstance(a.get("const"), int | float) for a in field["oneOf"]):
                return f"{where}: oneOf alternatives that are not numbers"
            continue
        kind = field.get("type")
        if kind in ("boolean", "number", "integer"):
            continue
        if kind == "string":
            if field.get("contentEncoding") not in (None, "base64"):
                return f"{where}: contentEncoding {field['contentEncoding']!r}"
        elif kind == "object":
            problem = _loader_problem(field, where)
            if problem:
                return problem
        elif kind == "array":
            item = field.get("items", {})
            if item.get("type") == "object":
                problem = _loader_problem(item, where)
                if problem:
                    return problem
            elif item.get("type") not in ("boolean", "number", "integer", "string"):
                return f"{where}: array items of type {item.get('type')!r}"
        else:
            return f"{where}: type {kind!r}"
    return None


def test_the_loader_port_refuses_what_the_viewer_refuses() -> None:
    """The rules the reviewer's run of the viewer's loader hit with the earlier schemas."""
    time_ref = {"type": "object", "properties": {"t": {"$ref": "#/$defs/Time"}}}
    assert _loader_problem(time_ref) == "t: type None"
    union = {"type": "object", "properties": {"c": {"type": ["string", "null"]}}}
    assert _loader_problem(union) == "c: type ['string', 'null']"
    bare = {"type": "object", "properties": {"m": {"type": "object"}}}
    assert _loader_problem(bare) == "m: an object without properties"
    nested = {"type": "object", "properties": {"b": {"type": "array", "items": {"type": "array"}}}}
    assert _loader_problem(nested) == "b: array items of type 'array'"


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_shipped_schema_loads_in_the_viewer_and_is_valid(name: str) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert _loader_problem(schema) is None
    assert "$ref" not in json.dumps(schema) and schema["title"] == name


def test_foxglove_schemas_are_the_official_ones() -> None:
    """Spot checks of the official 2.1.0 schemas (the files are the package's exports): every
    field required, SceneEntity's eight primitive lists, shared types inlined."""
    scene = load_schema(SCENE_UPDATE)
    entity = scene["properties"]["entities"]["items"]
    assert entity["title"] == "foxglove.SceneEntity"
    assert set(SCENE_PRIMITIVES) <= set(entity["required"])
    assert set(entity["required"]) == set(entity["properties"])
    deletion = scene["properties"]["deletions"]["items"]
    assert deletion["required"] == ["timestamp", "type", "id"]
    assert deletion["properties"]["timestamp"]["properties"]["nsec"]["maximum"] == 999_999_999
    for name in FOXGLOVE:
        schema = load_schema(name)
        assert schema["$comment"] == "Generated by https://github.com/foxglove/foxglove-sdk"
        assert set(schema["required"]) == set(schema["properties"]), name
    licence = (REPO / "drivestack/replay/schemas/FOXGLOVE_SCHEMAS_LICENSE.md").read_text()
    assert "@foxglove/schemas 2.1.0" in licence and "Permission is hereby granted" in licence


def test_an_empty_message_is_not_a_scene_update() -> None:
    """Was: the looser schemas required nothing, so ``{}`` validated."""
    validator = Draft202012Validator(load_schema(SCENE_UPDATE))
    assert {e.message for e in validator.iter_errors({})} == {
        "'deletions' is a required property",
        "'entities' is a required property",
    }


# -- every message the writer writes ---------------------------------------------------------
def _camera_frame(distortion: list[float]) -> SensorFrame:
    calibration = CameraCalibration(
        "front",
        np.array([[50.0, 0, 8], [0, 50.0, 6], [0, 0, 1]]),
        16,
        12,
        SE3.from_xyz_yaw([0.0, 0.0, 1.5], 0.0),
        "camera_front",
        distortion=np.array(distortion),
    )
    pixels = np.random.default_rng(3).integers(0, 255, (12, 16, 3), dtype=np.uint8)
    v = sample_values()
    return SensorFrame(
        T,
        lidars={"top": v["cloud"]},  # type: ignore[dict-item]
        cameras={"front": CameraImage(pixels, calibration, T + 10_000_000)},
        ego_from_sensor={"top": SE3.identity()},
        world_from_ego=v["pose"],  # type: ignore[arg-type]
        labels=v["boxes"],  # type: ignore[arg-type]
        label_ids=("a", "b", "c"),
    )


def _full_log(path: Path) -> Path:
    """A log of every writer path: :func:`write_sample` (transforms, cloud, boxes, tracks,
    trajectory, image, metrics), a sensor frame with a camera and labels, forecasts, empty
    boxes, and KITTI calibration (no ``Tr_imu_to_velo``) and label rows."""
    write_sample(path)
    more = path.with_name("more.mcap")
    v = sample_values()
    tracks = v["tracks"]
    horizon = np.zeros((3, 4, 7))
    horizon[..., 3:6] = 1.0
    forecast = Forecast(0.5, horizon, np.zeros((3, 4)))
    with LogWriter(more, config={}) as log:
        log.sensor_frame(_camera_frame([0.1, -0.01, 0.001, 0.002]))
        log.forecasts("/prediction/forecasts", TrackForecasts(tracks.track_id, forecast, "ego", T))  # type: ignore[attr-defined]
        log.boxes("/perception/detections", Boxes3D.empty("ego", T + 1))
        calib = kitti_calib_message(_tiny_calib(), timestamp_ns=T, sequence="0000")
        log.write(KITTI_CALIB_TOPIC, "drivestack.KittiCalib", T, calib)
        rows = decode_kitti_labels(_old_labels_message()).rows
        labels = kitti_labels_message(
            rows, timestamp_ns=T, sequence="0000", frame_index=3, image_size_wh=(1242, 375)
        )
        log.write(KITTI_LABELS_TOPIC, "drivestack.KittiLabels", T, labels)
    return more


def _messages(path: Path) -> list[tuple[str, str, Any]]:
    with path.open("rb") as stream:
        return [
            (schema.name, channel.topic, json.loads(message.data))
            for schema, channel, message in make_reader(stream).iter_messages()
        ]


def test_every_written_message_validates_against_the_shipped_schemas(tmp_path: Path) -> None:
    validators = {n: Draft202012Validator(load_schema(n)) for n in SCHEMA_NAMES}
    more = _full_log(tmp_path / "sample.mcap")
    messages = _messages(tmp_path / "sample.mcap") + _messages(more)
    assert set(SCHEMA_NAMES) == {name for name, _, _ in messages}  # every schema is used
    for name, topic, message in messages:
        errors = [e.message for e in validators[name].iter_errors(message)]
        assert errors == [], f"{topic} ({name}): {errors[:3]}"
    entities = [e for n, _, m in messages if n == SCENE_UPDATE for e in m["entities"]]
    assert entities and all(
        [len(e[p]) for p in SCENE_PRIMITIVES].count(0) == len(SCENE_PRIMITIVES) - 1
        for e in entities
    )  # one primitive list used (cubes or lines), the seven others empty
    for path in (tmp_path / "sample.mcap", more):
        reader = LogReader(path)
        assert reader.validate() == len(_messages(path))


# -- logs written before ---------------------------------------------------------------------
#: A SceneUpdate schema as drivestack shipped before: shared types as ``$defs``, nothing
#: required (entities had cubes or lines only).
_EARLIER_SCENE_UPDATE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": SCENE_UPDATE,
    "type": "object",
    "properties": {
        "deletions": {"type": "array", "items": {"type": "object"}},
        "entities": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"timestamp": {"$ref": "#/$defs/Time"}, "cubes": {"type": "array"}},
            },
        },
    },
    "$defs": {
        "Time": {
            "type": "object",
            "properties": {"nsec": {"type": "integer", "minimum": 0, "maximum": 999_999_999}},
        }
    },
}


def test_logs_written_with_the_earlier_schemas_still_validate_and_read(tmp_path: Path) -> None:
    """The reader validates against the log's own schemas: entities without the primitive
    lists the official schema requires still validate and decode."""
    from mcap.writer import Writer

    from drivestack.replay.log_format import scene_update_boxes

    boxes = sample_values()["boxes"]
    message = scene_update_boxes(boxes)  # type: ignore[arg-type]
    for entity in message["entities"]:
        for name in SCENE_PRIMITIVES:
            if name != "cubes":
                del entity[name]
    assert not Draft202012Validator(load_schema(SCENE_UPDATE)).is_valid(message)
    path = tmp_path / "earlier.mcap"
    with path.open("wb") as stream:
        writer = Writer(stream)
        writer.start()
        schema = writer.register_schema(
            SCENE_UPDATE, "jsonschema", json.dumps(_EARLIER_SCENE_UPDATE).encode()
        )
        channel = writer.register_channel("/perception/detections", "json", schema)
        writer.add_message(channel, T, json.dumps(message).encode(), T)
        writer.finish()
    reader = LogReader(path)
    assert reader.validate() == 1
    (back,) = reader.messages()
    assert isinstance(back.value, Boxes3D)
    np.testing.assert_array_equal(back.value.center_m, boxes.center_m)  # type: ignore[attr-defined]

    # the bundled demo drive, written before, validates and reads too
    demo = LogReader(REPO / "data" / "demo" / "drive.mcap")
    assert demo.validate() > 0 and sum(1 for _ in demo.frames()) == 61


def _old_labels_message() -> dict[str, Any]:
    """A KittiLabels message as logs written before hold it: one list per row."""
    return {
        "timestamp_ns": 300_000_000,
        "sequence": "0000",
        "frame_index": 3,
        "image_size_wh": [1242, 375],
        "objects": {
            "type": ["Car", "DontCare"],
            "track_id": [1, -1],
            "truncated": [0.0, -1.0],
            "occluded": [0, -1],
            "alpha_rad": [0.5, -10.0],
            "bbox_xyxy_px": [[500.0, 150.0, 600.0, 200.0], [10.0, 20.0, 30.0, 40.0]],
            "dimensions_hwl_m": [[1.5, 1.6, 4.0], [-1.0, -1.0, -1.0]],
            "location_m": [[1.0, 1.5, 10.0], [-1000.0, -1000.0, -1000.0]],
            "rotation_y_rad": [0.1, -10.0],
        },
    }


def test_kitti_rows_are_flat_now_and_older_nested_rows_still_decode() -> None:
    old = _old_labels_message()
    rows = decode_kitti_labels(old).rows
    new = kitti_labels_message(
        rows, timestamp_ns=300_000_000, sequence="0000", frame_index=3, image_size_wh=(1242, 375)
    )
    assert new["objects"]["bbox_xyxy_px"] == [500.0, 150.0, 600.0, 200.0, 10.0, 20.0, 30.0, 40.0]
    assert new["objects"]["location_m"] == [1.0, 1.5, 10.0, -1000.0, -1000.0, -1000.0]
    back = decode_kitti_labels(new).rows
    for name in ("box2d_xyxy_px", "hwl_m", "location_m", "track_id", "type_name"):
        assert np.array_equal(getattr(back, name), getattr(rows, name)), name
    assert back.box2d_xyxy_px.shape == (2, 4) and back.location_m[1, 2] == -1000.0
    new["objects"]["location_m"].pop()  # 5 numbers: not 3 per row
    with pytest.raises(ValueError, match=r"objects.location_m has 5 entries \(3 numbers per row"):
        decode_kitti_labels(new)


def test_kitti_calibration_without_imu_leaves_the_key_out_and_older_null_reads() -> None:
    calib = _tiny_calib()
    message = kitti_calib_message(calib, timestamp_ns=0, sequence="0000")
    assert "Tr_imu_to_velo" not in message
    assert decode_kitti_calib(message).Tr_imu_to_velo is None
    assert decode_kitti_calib({**message, "Tr_imu_to_velo": None}).Tr_imu_to_velo is None


# -- KITTI rows with their frames ------------------------------------------------------------
def test_a_kitti_replay_writes_each_frames_rows_with_that_frame(tmp_path: Path) -> None:
    """Was: every ``/labels/kitti`` message before the first frame (chunk 0 spanning the
    whole drive). The output's rows come right after their frame's scan, all of them."""
    log = _tiny_kitti_log(tmp_path / "in.mcap")
    out = tmp_path / "run.mcap"
    assert main(["replay", str(log), "--stack", str(STACK), "--out", str(out), "--quiet"]) == 0
    with out.open("rb") as stream:
        order = [
            (channel.topic, message.log_time)
            for _, channel, message in make_reader(stream).iter_messages(log_time_order=False)
        ]
    scans = [i for i, (topic, _) in enumerate(order) if topic == "/lidar/lidar"]
    kitti = [i for i, (topic, _) in enumerate(order) if topic == KITTI_LABELS_TOPIC]
    assert [order[i][1] for i in kitti] == [order[i][1] for i in scans] == [0, 100_000_000]
    # each frame's rows after its scan, before the next frame's scan
    assert scans[0] < kitti[0] < scans[1] < kitti[1]
    assert order.index((KITTI_CALIB_TOPIC, 0)) < order.index(("/lidar/lidar", 0))


def test_rows_after_the_last_written_frame_are_written_at_close(tmp_path: Path) -> None:
    from drivestack.replay.kitti_log import KittiChannelCopy, read_kitti_channels

    channels = read_kitti_channels(_tiny_kitti_log(tmp_path / "in.mcap"))
    assert channels is not None
    path = tmp_path / "out.mcap"
    with LogWriter(path, config={}) as writer:
        copy = KittiChannelCopy(channels)
        copy.start(writer)
        writer.at_close(copy.rest)
        copy.through(writer, 50_000_000)  # frame 0 only: frame 1's row waits for close
        writer.metrics("/m", 60_000_000, {"x": 1})
    topics = [topic for _, topic, _ in _messages(path)]
    assert topics == [
        "/drivestack/run",
        KITTI_CALIB_TOPIC,
        KITTI_LABELS_TOPIC,
        "/m",
        KITTI_LABELS_TOPIC,
    ]


# -- camera distortion ------------------------------------------------------------------------
def test_distortion_models_match_their_coefficient_counts() -> None:
    assert foxglove_distortion(np.zeros(0)) == ("", [])
    assert foxglove_distortion(np.array([0.1, 0.2, 0.3, 0.4])) == (
        "plumb_bob",
        [0.1, 0.2, 0.3, 0.4, 0.0],
    )
    five = [0.1, -0.2, 0.01, 0.02, 0.05]
    assert foxglove_distortion(np.array(five)) == ("plumb_bob", five)
    eight = [0.1, -0.2, 0.01, 0.02, 0.05, 0.3, 0.2, 0.1]
    assert foxglove_distortion(np.array(eight)) == ("rational_polynomial", eight)
    assert foxglove_distortion(np.array([*eight, *[0.0] * 6])) == ("rational_polynomial", eight)
    with pytest.raises(ValueError, match=r"camera 'side': 12 distortion coefficients"):
        foxglove_distortion(np.array([*eight, 0.0, 0.0, 1e-3, 0.0]), "side")
    with pytest.raises(ValueError, match=r"camera 'side': 14 .* thin-prism / tilt"):
        foxglove_distortion(np.array([*eight, *[0.0] * 5, 0.01]), "side")


def test_four_coefficients_written_as_plumb_bob_project_the_same() -> None:
    """``k1 k2 p1 p2`` and ``k1 k2 p1 p2 0`` are one OpenCV model: the same pixels."""
    rng = np.random.default_rng(5)
    points = rng.uniform([-3, -2, 4], [3, 2, 30], size=(200, 3))
    k = np.array([[700.0, 0, 600], [0, 700.0, 180], [0, 0, 1]])
    four = np.array([-0.3, 0.1, 1e-3, -2e-3])
    _, written = foxglove_distortion(four)
    uv4, _ = project_points(points, k, four)
    uv5, _ = project_points(points, k, np.array(written))
    np.testing.assert_array_equal(uv4, uv5)


def test_a_camera_foxglove_cannot_describe_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cam.mcap"
    # the calibration itself refuses what neither its kernels nor Foxglove model
    refused = pytest.raises(
        ValueError, match=r"'front': distortion must have 0, 4, 5 or 8 .* got 14"
    )
    with LogWriter(path, config={}) as log, refused:
        log.sensor_frame(_camera_frame([0.1] * 14))
    assert [topic for _, topic, _ in _messages(path)] == ["/drivestack/run"]
    from drivestack.replay.log_format import foxglove_distortion

    with pytest.raises(ValueError, match="camera 'front': 14 distortion coefficients"):
        foxglove_distortion(np.full(14, 0.1), "front")
