"""Error and edge branches of the stack's structures, tracking, prediction, planning,
perception and eval modules that no other test reached (bad input gets a clear error naming
what is wrong; empty input gives an empty result)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from drivestack.core.errors import ConfigError, DataError
from drivestack.core.transforms import SE3
from drivestack.eval.detection.nuscenes import DETECTION_CVPR_2019, load_detection_config
from drivestack.eval.prediction.cases import sample_indices
from drivestack.eval.prediction.metrics import multimodal_metrics
from drivestack.eval.prediction.models import ForecastModel
from drivestack.eval.prediction.sources import commonroad_source
from drivestack.eval.prediction.trajectories import (
    AgentTrajectory,
    TrajectorySet,
    median_sample_period_s,
)
from drivestack.eval.tracking.protocol import KittiMotProtocol
from drivestack.kernels import points_in_boxes
from drivestack.perception.camera.calibration import read_image_rgb
from drivestack.perception.camera.predict import find_image_dir
from drivestack.perception.camera.training import TrainSettings
from drivestack.perception.lidar import load_lidar_detector_config
from drivestack.perception.lidar.classify import fit_score_weights
from drivestack.planning.stop_signs import ArrivalOrder, StopSignRule
from drivestack.prediction import learned
from drivestack.prediction.multimodal import MultiModalForecast, lane_branch_forecast
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.camera import CameraCalibration
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.road_map import RoadMap, StopSign
from drivestack.structures.sensor_frame import SensorFrame
from drivestack.structures.tracks import Tracks
from drivestack.structures.traffic_light import (
    LaneStop,
    SignalCycle,
    SignalPhase,
    TrafficLight,
    state_codes,
)
from drivestack.structures.trajectory import Trajectory
from drivestack.tracking.anchor import anchored_boxes
from drivestack.tracking.association import match
from drivestack.tracking.config import (
    ClassTrackerConfig,
    OfflineEvidenceConfig,
    OfflineRefineConfig,
    TrackerConfig,
)
from drivestack.tracking.refine import check_camera_poses, track_size_consensus
from drivestack.tracking.tracker import ClassTracker, Tracker
from tests.perception.synthetic import KITTI_LIDAR_CONFIG
from tests.prediction.test_multimodal_forecast import FORK, _car
from tests.structures._helpers import straight_lane

K = np.array([[700.0, 0.0, 600.0], [0.0, 700.0, 180.0], [0.0, 0.0, 1.0]])


def _boxes(n: int, frame: str = "ego") -> Boxes3D:
    return Boxes3D.from_array7(np.tile([0.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0], (n, 1)), frame, 5)


# -- structures ------------------------------------------------------------------------------


@pytest.mark.parametrize("label", [[1.5], ["car"]])
def test_boxes_label_of_non_integer_dtype_is_refused(label: list[Any]) -> None:
    """A float or string class label is a ValueError naming Boxes3D.label and the dtype."""
    with pytest.raises(ValueError, match=r"Boxes3D\.label must have dtype kind 'iu'"):
        Boxes3D(np.zeros((1, 3)), np.ones((1, 3)), np.zeros(1), "ego", label=np.array(label))


def test_boxes_centre_of_strings_is_refused() -> None:
    """String coordinates are refused, naming Boxes3D.center_m (never cast silently)."""
    with pytest.raises(ValueError, match=r"Boxes3D\.center_m must have dtype kind 'f'"):
        Boxes3D(np.array([["a", "b", "c"]]), np.ones((1, 3)), np.zeros(1), "ego")


def test_boxes_select_with_bad_masks_names_the_expected_shape() -> None:
    """A boolean mask of the wrong length, or float indices, are ValueErrors naming select."""
    b = _boxes(2)
    with pytest.raises(ValueError, match=r"boolean mask must have shape \(2,\), got \(1,\)"):
        b.select(np.array([True]))
    with pytest.raises(ValueError, match="selection must be a boolean mask or integer indices"):
        b.select(np.array([0.5]))


def test_concatenate_refuses_parts_in_different_frames() -> None:
    """Boxes3D and PointCloud concatenation name the two frames instead of mixing them."""
    with pytest.raises(ValueError, match=r"different frames \['ego', 'world'\]"):
        Boxes3D.concatenate([_boxes(1, "ego"), _boxes(1, "world")])
    clouds = [PointCloud(np.zeros((2, 3)), "lidar", 0), PointCloud(np.zeros((1, 3)), "ego", 0)]
    with pytest.raises(ValueError, match=r"different frames \['ego', 'lidar'\]"):
        PointCloud.concatenate(clouds)


def test_point_cloud_attribute_must_be_numeric() -> None:
    """A string attribute is refused, naming the attribute."""
    with pytest.raises(ValueError, match=r"attributes\['intensity'\] must be numeric"):
        PointCloud(np.zeros((2, 3)), "lidar", 0, attributes={"intensity": np.array(["a", "b"])})


def test_tracks_ids_and_boxes_must_agree_in_number() -> None:
    """Tracks with 3 ids for 2 boxes is a ValueError giving both counts."""
    with pytest.raises(ValueError, match="Tracks has 3 ids but 2 boxes"):
        Tracks(np.array([1, 2, 3]), _boxes(2))


def test_traffic_light_fields_of_wrong_type_are_named() -> None:
    """Each bad TrafficLight / LaneStop / SignalCycle field is a TypeError naming the field."""
    stop = LaneStop("a", 1.0)
    with pytest.raises(TypeError, match=r"LaneStop\.lane_id must be a str"):
        LaneStop(3, 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="light_id must be a non-empty str"):
        TrafficLight("", (stop,))
    with pytest.raises(TypeError, match="'x': controller_id must be a non-empty str"):
        TrafficLight("x", (stop,), controller_id="")
    with pytest.raises(TypeError, match=r"'x': stops\[0\] must be a LaneStop, got str"):
        TrafficLight("x", ("a",))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'x': cycle must be a SignalCycle or None, got str"):
        TrafficLight("x", (stop,), cycle="red")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"SignalCycle\.phases\[0\] must be a SignalPhase"):
        SignalCycle(("red",))  # type: ignore[arg-type]


def test_traffic_light_codes_follow_its_cycle() -> None:
    """A light with a cycle gives the cycle's state codes (red for 2 s, then green)."""
    cycle = SignalCycle((SignalPhase("red", 2.0), SignalPhase("green", 3.0)))
    light = TrafficLight("x", (LaneStop("a", 1.0),), cycle=cycle)
    np.testing.assert_array_equal(light.codes_at([0.5, 2.5]), state_codes(["red", "green"]))


def test_stop_sign_fields_are_checked_and_named() -> None:
    """Every bad StopSign field is refused with the sign id and the field in the message."""
    stop = LaneStop("a", 1.0)
    with pytest.raises(TypeError, match=r"StopSign\.sign_id must be a non-empty str"):
        StopSign("", "stop", (stop,))
    with pytest.raises(ValueError, match=r"'s'\.kind must be one of"):
        StopSign("s", "halt", (stop,))
    with pytest.raises(TypeError, match=r"'s'\.stops\[0\] must be a LaneStop"):
        StopSign("s", "stop", ("a",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"'s'\.stops\[0\]: a sign governs every way out"):
        StopSign("s", "stop", (LaneStop("a", 1.0, ("b",)),))
    with pytest.raises(TypeError, match=r"'s'\.lines\[0\] must be a shapely LineString"):
        StopSign("s", "stop", (stop,), lines=([[0, 0], [1, 1]],))
    with pytest.raises(TypeError, match=r"'s'\.fallback must be a bool"):
        StopSign("s", "stop", (stop,), fallback="yes")  # type: ignore[arg-type]


def test_road_map_refuses_foreign_rules_and_repeated_sign_ids() -> None:
    """RoadMap names the field for a non-rule entry and the id of a repeated sign."""
    lanes = (straight_lane("a", 0.0, 10.0, 0.0),)
    with pytest.raises(TypeError, match="traffic_lights must hold TrafficLight, got str"):
        RoadMap(lanes, traffic_lights=("x",))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="stop_signs must hold StopSign, got str"):
        RoadMap(lanes, stop_signs=("x",))  # type: ignore[arg-type]
    sign = StopSign("s", "stop", (LaneStop("a", 10.0),))
    with pytest.raises(ValueError, match="duplicate stop sign id 's'"):
        RoadMap(lanes, stop_signs=(sign, sign))


def test_distance_outside_drivable_of_no_points_is_empty() -> None:
    """No query points give an empty result (also as an empty (0, 3) array)."""
    road = RoadMap((straight_lane("a", 0.0, 10.0, 0.0),))
    assert road.distance_outside_drivable_m(np.zeros((0, 2))).shape == (0,)
    assert road.distance_outside_drivable_m(np.zeros((0, 3))).shape == (0,)


def test_lane_speed_limit_must_be_positive() -> None:
    """A zero speed limit is a ValueError naming the lane and field."""
    with pytest.raises(ValueError, match=r"Lane 'a'\.speed_limit_mps must be positive"):
        straight_lane("a", 0.0, 10.0, 0.0, speed_limit_mps=0.0)


@pytest.mark.parametrize("value", ["fast", None])
def test_lane_speed_limit_of_wrong_type_names_lane_and_field(value: object) -> None:
    """Lane's docstring: a ValueError naming the lane and field for a bad value."""
    with pytest.raises(ValueError, match=r"Lane 'a'\.speed_limit_mps"):
        straight_lane("a", 0.0, 10.0, 0.0, speed_limit_mps=value)


def test_sensor_frame_checks_sensor_types_and_names_lidars() -> None:
    """Non-PointCloud / non-CameraImage sensors are TypeErrors naming the sensor; lidar()
    without a name needs exactly one LiDAR."""
    with pytest.raises(TypeError, match=r"lidars\['top'\] must be a PointCloud, got ndarray"):
        SensorFrame(0, lidars={"top": np.zeros((2, 3))})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match=r"cameras\['front'\] must be a CameraImage"):
        SensorFrame(0, cameras={"front": np.zeros((2, 3))})  # type: ignore[dict-item]
    cloud = PointCloud(np.zeros((2, 3)), "lidar", 0)
    with pytest.raises(KeyError, match=r"2 LiDARs \(\['a', 'b'\]\); name one"):
        SensorFrame(0, lidars={"a": cloud, "b": cloud}).lidar()


def test_empty_trajectory_cannot_be_interpolated() -> None:
    """interpolate on an empty Trajectory is a ValueError saying so."""
    e = np.zeros(0)
    traj = Trajectory(e.astype(np.int64), e, e, e, e, e, e)
    with pytest.raises(ValueError, match="cannot interpolate an empty Trajectory"):
        traj.interpolate(np.array([0]))


@pytest.mark.parametrize("width", [0, True, 1242.0])
def test_camera_calibration_width_must_be_a_positive_int(width: Any) -> None:
    """0, a bool or a float width is refused, naming the camera and width_px."""
    with pytest.raises(ValueError, match="'cam': width_px must be a positive integer"):
        CameraCalibration("cam", K, width, 375, SE3.identity(), "cam")


def test_camera_calibration_intrinsics_must_be_upper_triangular() -> None:
    """A non-zero K[1, 0] is refused, naming the camera."""
    skewed = K.copy()
    skewed[1, 0] = 1.0
    with pytest.raises(ValueError, match="'cam': intrinsics must be upper triangular"):
        CameraCalibration("cam", skewed, 1242, 375, SE3.identity(), "cam")


# -- tracking --------------------------------------------------------------------------------


def test_class_tracker_refuses_repeated_and_earlier_timestamps() -> None:
    """ClassTracker.step: a repeated or an earlier time is a ValueError saying which."""
    trk = ClassTracker(ClassTrackerConfig())
    trk.step(np.zeros((0, 7)), np.zeros(0), 100, 0)
    with pytest.raises(ValueError, match="got 100 after 100 \\(a repeated frame"):
        trk.step(np.zeros((0, 7)), np.zeros(0), 100, 0)
    with pytest.raises(ValueError, match="got 50 after 100 \\(out of order"):
        trk.step(np.zeros((0, 7)), np.zeros(0), 50, 0)


def test_tracker_without_classes_drops_and_counts_every_detection() -> None:
    """A tracker with no class entries returns no tracks and reports the dropped boxes."""
    tracker = Tracker(TrackerConfig(classes={}))
    dets = Boxes3D.from_array7([[0, 0, 0, 4, 2, 1.5, 0]], "world", 10, label=[1])
    with pytest.warns(UserWarning, match="labelled car are not tracked .*tracked: none"):
        tracks = tracker.step(dets)
    assert len(tracks) == 0 and tracks.boxes.frame == "world"
    assert tracker.last_dropped_detections == 1
    assert tracker.dropped_detections_by_label == {"car": 1}
    assert tracker.last_detection_index.shape == (0,)


def test_tracking_config_and_helpers_refuse_bad_values() -> None:
    """Negative counts, unknown modes and misshaped poses are ValueErrors naming them."""
    with pytest.raises(ValueError, match="trailing_coast_frames must be >= 0 or null"):
        OfflineEvidenceConfig(trailing_coast_frames=-1)
    with pytest.raises(ValueError, match="robust_iterations must be >= 0, got -1"):
        OfflineRefineConfig(robust_iterations=-1)
    with pytest.raises(ValueError, match="unknown matching method 'auction'"):
        match(np.ones((1, 1)), 0.5, method="auction")
    with pytest.raises(ValueError, match="must be median or mean, got 'mode'"):
        track_size_consensus(np.array([0]), np.ones((1, 3)), np.ones(1), "mode")
    with pytest.raises(ValueError, match=r"caller: camera_poses must be \(F, 4, 4\)"):
        check_camera_poses(np.zeros((2, 3, 4)), np.array([0]), "caller")


def test_anchored_boxes_of_no_boxes_is_empty() -> None:
    """No boxes in, no boxes out, shape (0, 7)."""
    assert anchored_boxes(np.zeros((0, 7)), np.zeros((0, 2)), np.zeros(2)).shape == (0, 7)


# -- prediction ------------------------------------------------------------------------------


def test_multimodal_forecast_checks_its_fields() -> None:
    """dt, the probability / valid shapes and dtype, and NaN boxes are refused by name."""
    b, p, v = np.zeros((1, 2, 3, 7)), np.full((1, 2), 0.5), np.ones((1, 2), bool)
    with pytest.raises(ValueError, match="dt_s must be finite and > 0, got nan"):
        MultiModalForecast(float("nan"), b, p, v)
    with pytest.raises(ValueError, match=r"\.valid \(bool\) must be \(A, K\)"):
        MultiModalForecast(0.5, b, p, np.ones((1, 2)))
    nan_boxes = b.copy()
    nan_boxes[0, 0, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"boxes or \.probability has NaN or inf values"):
        MultiModalForecast(0.5, nan_boxes, p, v)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_modes": 1}, "max_modes must be at least 2, got 1"),
        ({"cv_probability": 1.0}, r"cv_probability must be in \(0, 1\), got 1.0"),
        ({"cv_probability": float("nan")}, r"cv_probability must be in \(0, 1\), got nan"),
    ],
)
def test_lane_branch_forecast_refuses_bad_settings(kwargs: dict[str, Any], message: str) -> None:
    """Too few modes or a constant-velocity prior outside (0, 1) are ValueErrors."""
    with pytest.raises(ValueError, match=message):
        lane_branch_forecast(_car(40.0, 0.0, 0.0, 10.0), FORK, 3.0, 0.5, **kwargs)


def test_learned_forecaster_input_checks() -> None:
    """A label per past, a future reaching the horizon, and non-empty training sets."""
    cfg = learned.ForecasterConfig()
    past_t = np.linspace(-cfg.history_s, 0.0, 5)[None]
    past_b = np.zeros((1, 5, 7))
    past_b[..., 3:6] = 1.0
    with pytest.raises(ValueError, match=r"label must be \(1,\)"):
        learned.agent_frame_past(past_t, past_b, np.array([1, 1]), cfg)
    past = learned.agent_frame_past(past_t, past_b, np.array([1]), cfg)
    with pytest.raises(ValueError, match="row 0: field future_t_s: the truth ends before"):
        learned.agent_frame_future(
            past, np.array([0.0]), np.array([[0.5, 1.0]]), np.zeros((1, 2, 7)), cfg
        )
    none = learned.ForecastSamples(
        np.zeros((0, 5)),
        np.zeros((0, 5, 7)),
        np.zeros(0, int),
        np.zeros((0, 2)),
        np.zeros((0, 2, 7)),
    )
    with pytest.raises(ValueError, match="0 training and 0 held-out cases"):
        learned.train_forecaster(none, none, cfg, learned.TrainingSettings())


# -- planning and kernels --------------------------------------------------------------------


def test_stop_sign_stages_refuse_bad_settings() -> None:
    """ArrivalOrder needs a line; StopSignRule's comfort deceleration is at most its max."""
    with pytest.raises(ValueError, match=r"ArrivalOrder\.lines must hold at least one SignLine"):
        ArrivalOrder(())
    with pytest.raises(ValueError, match=r"comfort_decel_mps2 = 5\.0 must be at most"):
        StopSignRule((), 2.0, 5.0, 3.0)


def test_kernel_impl_must_be_known() -> None:
    """An unknown impl= is a ValueError listing the known ones."""
    with pytest.raises(ValueError, match="impl must be 'auto', 'numba' or 'reference'"):
        points_in_boxes(np.zeros((1, 3)), np.zeros((1, 7)), impl="fast")


# -- perception ------------------------------------------------------------------------------


def test_camera_files_missing_or_undecodable_are_data_errors(tmp_path: Path) -> None:
    """A missing folder / image or a corrupt PNG is a DataError naming the path."""
    with pytest.raises(DataError, match="no such folder") as err:
        find_image_dir(tmp_path / "nope")
    assert str(tmp_path / "nope") in str(err.value)
    with pytest.raises(DataError, match="image file not found"):
        read_image_rgb(tmp_path / "x.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nxxxx")
    with pytest.raises(DataError, match="cannot decode image") as err:
        read_image_rgb(bad)
    assert str(bad) in str(err.value)


def test_train_settings_refuse_negative_checkpoints_and_nan_decay() -> None:
    """checkpoint_every < 0 and a NaN weight_decay are ValueErrors naming the setting."""
    with pytest.raises(ValueError, match="checkpoint_every must be at least 0"):
        TrainSettings(checkpoint_every=-1)
    with pytest.raises(ValueError, match="weight_decay must be finite and >= 0"):
        TrainSettings(weight_decay=float("nan"))


def test_fit_score_weights_needs_matching_inputs_and_separates_classes() -> None:
    """Mismatched or empty inputs are refused; separable data gets a dominant weight."""
    with pytest.raises(ValueError, match="need matching non-empty inputs, got 3 and 2"):
        fit_score_weights(np.zeros((3, 5)), np.zeros(2, bool))
    # 4 features per row (15 values) said "got 3 and 3" after a reshape to 5 columns
    with pytest.raises(ValueError, match=r"features must be \(N, 5\), got shape \(3, 4\)"):
        fit_score_weights(np.zeros((3, 4)), np.zeros(3, bool))
    x = np.random.default_rng(0).normal(size=(40, 5))
    w = fit_score_weights(x, x[:, 0] > 0)
    assert w.shape == (5,) and np.all(np.isfinite(w))
    assert w[0] > np.abs(w[1:]).max()


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("roi", "min_xyz_m", [0.0, 0.0, 99.0], "box minimum .* exceeds maximum"),
        ("ground", "fit_stride", 0, "fit_stride, num_lowest_points"),
        ("cluster", "max_distance_m", 0.1, "0 < base_distance_m <= max_distance_m"),
    ],
)
def test_lidar_config_consistency_errors_name_file_and_section(
    tmp_path: Path, section: str, key: str, value: Any, message: str
) -> None:
    """An inconsistent LiDAR config section is a ConfigError naming the file and section."""
    doc = copy.deepcopy(yaml.safe_load(KITTI_LIDAR_CONFIG.read_text()))
    doc[section][key] = value
    path = tmp_path / "lidar.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match=message) as err:
        load_lidar_detector_config(path)
    assert err.value.field == section and str(path) in str(err.value)


# -- eval ------------------------------------------------------------------------------------


def test_kitti_mot_protocol_refuses_bad_settings() -> None:
    """Unknown similarity, an overlap outside (0, 1] (NaN too) and < 2 sample points."""
    with pytest.raises(ValueError, match="similarity must be 'iou_3d' or 'iou_2d'"):
        KittiMotProtocol(similarity="iou")
    for overlap in (0.0, float("nan")):
        with pytest.raises(ValueError, match=r"min_overlap must be in \(0, 1\]"):
            KittiMotProtocol(min_overlap=overlap)
    with pytest.raises(ValueError, match="num_sample_points must be at least 2"):
        KittiMotProtocol(num_sample_points=1)


@pytest.mark.parametrize("content", [b"", b"<commonRoad source='x'", b"\xff\xfe\x00garbage", None])
def test_commonroad_source_of_unreadable_xml_is_a_data_error(
    tmp_path: Path, content: bytes | None
) -> None:
    """Empty, truncated, binary or missing XML is a DataError naming the file."""
    path = tmp_path / "scenario.xml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match="cannot parse XML") as err:
        commonroad_source(path)
    assert str(path) in str(err.value)


def test_prediction_eval_inputs_are_checked() -> None:
    """Non-bool validity, unknown traffic kinds, a bad sample period, too few times, two
    observations on one sample and a model with no runner are refused by name."""
    with pytest.raises(ValueError, match="valid must be bool, got float64"):
        multimodal_metrics(np.zeros((1, 2, 3)), np.full((1, 2), 0.5), np.ones((1, 2)))
    with pytest.raises(ValueError, match="traffic must be one of"):
        TrajectorySet("n", "p.xml", "world", 0.1, "mixed", "", ())
    with pytest.raises(DataError, match="sample period must be > 0 s, got nan") as err:
        TrajectorySet("n", "p.xml", "world", float("nan"), "recorded", "", ())
    assert err.value.path == "p.xml"
    with pytest.raises(DataError, match="fewer than two sample times"):
        median_sample_period_s(np.array([1.0, 1.0]), "p.csv")
    agent = AgentTrajectory(
        "7", ObjectClass.CAR, np.array([0.0, 0.04, 0.2]), np.zeros((3, 7)), "world", "rec.csv"
    )
    with pytest.raises(DataError, match=r"0\.040000 s fall on one sample") as err:
        sample_indices(agent, 0.1)
    assert (err.value.record, err.value.field) == ("agent 7", "time")
    with pytest.raises(ValueError, match="model m: give exactly one of run and run_past"):
        ForecastModel("m", False, 1, "d", None)


def _nuscenes_config(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "class_range": dict.fromkeys(DETECTION_CVPR_2019.class_range, 50),
        "dist_fcn": "center_distance",
        "dist_ths": [1.0],
        "dist_th_tp": 1.0,
        "min_recall": 0.1,
        "min_precision": 0.1,
        "max_boxes_per_sample": 1,
        "mean_ap_weight": 5,
    }
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    ("doc", "field", "message"),
    [
        ({"dist_fcn": "iou"}, "dist_fcn", "only center_distance is implemented"),
        ({"dist_ths": []}, "dist_ths", "must hold at least one threshold"),
        (
            {"dist_ths": [0.5, 0.0], "dist_th_tp": 0.5},
            "dist_ths.1",
            r"must be a distance > 0 m, got 0\.0",
        ),
        ({"mean_ap_weight": -1}, "mean_ap_weight", r"must be >= 0, got -1\.0"),
        ({"mean_ap_weight": float("nan")}, "mean_ap_weight", "expected a finite number, got nan"),
        (
            {"dist_ths": [0.5, float("inf")], "dist_th_tp": 0.5},
            "dist_ths.1",
            "expected a finite number, got inf",
        ),
    ],
)
def test_nuscenes_config_rejections_name_the_key(
    tmp_path: Path, doc: dict[str, Any], field: str, message: str
) -> None:
    """A non-centre distance, no threshold, a threshold not > 0, a negative mAP weight or a
    JSON NaN / Infinity (which Python's JSON reads; a NaN weight made the ND score NaN) is a
    ConfigError naming the file and key."""
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(_nuscenes_config(**doc)))
    with pytest.raises(ConfigError, match=message) as err:
        load_detection_config(path)
    assert err.value.field == field


def test_nuscenes_config_missing_key_and_truncated_file(tmp_path: Path) -> None:
    """A missing key is named; a truncated JSON file is a ConfigError naming the file."""
    path = tmp_path / "cfg.json"
    doc = _nuscenes_config()
    del doc["dist_ths"]
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="missing key") as err:
        load_detection_config(path)
    assert err.value.field == "dist_ths"
    path.write_text(json.dumps(_nuscenes_config())[:30])
    with pytest.raises(ConfigError, match="cannot read config") as err:
        load_detection_config(path)
    assert str(path) in str(err.value)


def test_nuscenes_config_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    """A binary config file is a ConfigError naming the file."""
    path = tmp_path / "cfg.json"
    path.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_detection_config(path)


@pytest.mark.parametrize("text", ["3", "null", "[1, 2]", '"class_range"'])
def test_nuscenes_config_not_an_object_is_named(tmp_path: Path, text: str) -> None:
    """A config whose top level is not a JSON object is a ConfigError saying so."""
    path = tmp_path / "cfg.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match="object"):
        load_detection_config(path)


def test_nuscenes_config_wrong_type_names_the_key(tmp_path: Path) -> None:
    """dist_ths as a string is a ConfigError naming field dist_ths (it named no key); a
    text threshold names its index, a fractional box count its key (int() truncated it)."""
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(_nuscenes_config(dist_ths="abc")))
    with pytest.raises(ConfigError, match="expected a list of numbers") as err:
        load_detection_config(path)
    assert err.value.field == "dist_ths"
    path.write_text(json.dumps(_nuscenes_config(dist_ths=[0.5, "1"])))
    with pytest.raises(ConfigError, match="expected a number, got '1'") as err:
        load_detection_config(path)
    assert err.value.field == "dist_ths.1"
    path.write_text(json.dumps(_nuscenes_config(max_boxes_per_sample=1.5)))
    with pytest.raises(ConfigError, match=r"expected a whole number, got 1\.5") as err:
        load_detection_config(path)
    assert err.value.field == "max_boxes_per_sample"
