"""The shipped replay stacks for logs converted by tools/dataset_to_log.py
(configs/stack/replay_<dataset>.yaml): each loads strictly, its LiDAR config is made for its
dataset and switches on no map step, the default stack's warning on such a log names it, and
(with the shared data) a 2-frame converted log replays with it without that warning and with
a vehicle box on a labelled vehicle."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.frames import LIDAR
from drivestack.core.transforms import SE3
from drivestack.kernels import box_iou_bev
from drivestack.perception.lidar import LidarDetectorConfig, load_lidar_detector_config
from drivestack.perception.lidar.map_priors import map_steps_off, map_steps_on
from drivestack.pipeline import KinematicPredictor, PredictionConfig, build_stack
from drivestack.replay.dataset_log import DATASET_TO_LOG, dataset_to_log
from drivestack.replay.log_format import LogWriter
from drivestack.replay.log_reader import LogReader
from drivestack.replay.runner import DETECTIONS_TOPIC, replay
from drivestack.replay.stack_fit import check_stack_fits_log
from drivestack.sim.perception_metrics import EVAL_GROUPS
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame
from drivestack.tracking.tracker import Tracker

REPO = Path(__file__).resolve().parents[2]
STACKS = REPO / "configs" / "stack"
PERCEPTION = REPO / "configs" / "perception"
DATASETS = ("aimotive", "av2", "nuscenes", "pandaset")

#: Under shared/data: the converter's --root, and the first and last frame converted.
SOURCES = {
    "aimotive": ("aimotive/train/nighttime/20210901-194123-00.37.12-00.37.27@Yoda", 0, 1),
    "av2": ("argoverse2/sensor/val/7fab2350-7eaf-3b7e-a39d-6937a4c1bede", 0, 1),
    "nuscenes": ("nuscenes_samples/mmdet3d_demo", 0, 0),  # the one sample there
    "pandaset": ("pandaset/002", 0, 1),
}
#: The BEV IoU a vehicle box reaches with a labelled vehicle in those frames: the replay's match
#: (0.5) but on nuScenes, where the stack's best is a car-sized box on the 10 m truck at 16.8 m
#: (IoU 0.20; its vehicle AP at 2 m on that sample is 0, see replay_nuscenes.yaml).
MIN_VEHICLE_IOU = {"aimotive": 0.5, "av2": 0.5, "nuscenes": 0.15, "pandaset": 0.5}
VEHICLES = [int(c) for c in EVAL_GROUPS["vehicle"]]


def _stack_yaml(dataset: str) -> Path:
    return STACKS / f"replay_{dataset}.yaml"


@pytest.mark.parametrize("dataset", DATASETS)
def test_each_stack_loads_and_is_made_for_its_dataset(dataset: str) -> None:
    stack = build_stack(_stack_yaml(dataset))  # the strict loader: unknown keys are errors
    cfg = stack.detector.cfg  # type: ignore[attr-defined]
    assert isinstance(cfg, LidarDetectorConfig)
    assert cfg.datasets == (dataset,)
    assert map_steps_on(cfg) == []  # a replayed log has no map: replay would refuse it
    assert isinstance(stack.tracker, Tracker) and "truck" in stack.tracker.cfg.classes
    assert isinstance(stack.predictor, KinematicPredictor)
    assert stack.predictor.cfg == PredictionConfig("constant_velocity", 3.0, 0.1)
    # aiMotive has no ego poses: its stack tracks such frames in the ego frame by itself
    expected = "track_in_ego_frame" if dataset == "aimotive" else "skip"
    assert stack.missing_ego_pose == expected


def test_the_av2_replay_config_is_lidar_av2_without_its_map_steps() -> None:
    """lidar_av2_replay.yaml is lidar_av2.yaml with the map steps off and the two keys its
    header names changed: a change to lidar_av2.yaml must be made there too."""
    av2 = map_steps_off(load_lidar_detector_config(PERCEPTION / "lidar_av2.yaml"))
    expected = dataclasses.replace(
        av2,
        cluster=dataclasses.replace(av2.cluster, min_height_above_ground_m=0.35),
        classify=dataclasses.replace(av2.classify, min_score=0.1),
    )
    assert load_lidar_detector_config(PERCEPTION / "lidar_av2_replay.yaml") == expected


@pytest.mark.parametrize("dataset", DATASETS)
def test_the_default_stacks_warning_names_the_datasets_stack(tmp_path: Path, dataset: str) -> None:
    log = tmp_path / "in.mcap"
    with LogWriter(log, config={"dataset": dataset}, command=DATASET_TO_LOG) as writer:
        cloud = PointCloud(np.zeros((1, 3), dtype=np.float32), LIDAR, 0)
        writer.sensor_frame(SensorFrame(0, lidars={LIDAR: cloud}, world_from_ego=SE3.identity()))
    (line,) = check_stack_fits_log(build_stack(STACKS / "default.yaml"), log)
    assert f"in.mcap holds {dataset} frames" in line
    assert line.endswith(f"replay it with --stack {_stack_yaml(dataset)}")
    assert check_stack_fits_log(build_stack(_stack_yaml(dataset)), log) == []


@pytest.mark.data
@pytest.mark.parametrize("dataset", DATASETS)
def test_a_converted_log_replays_with_its_stack(
    tmp_path: Path, shared_data: Path, dataset: str
) -> None:
    root, first, last = SOURCES[dataset]
    log, out = tmp_path / "in.mcap", tmp_path / "run.mcap"
    dataset_to_log(dataset, shared_data / root, log, first_frame=first, last_frame=last)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = replay(
            log, build_stack(_stack_yaml(dataset)), out, progress=False, io_worker="thread"
        )
    assert not [w for w in caught if "figures mean little" in str(w.message)]
    assert "warnings" not in summary and summary["frames_processed"] == last - first + 1
    assert summary["frames_skipped"] == 0
    # the boxes the replay wrote, against the labels of the same frames (in the boxes' frame)
    best = 0.0
    written = {m.log_time_ns: m.value for m in LogReader(out).messages([DETECTIONS_TOPIC])}
    for frame in LogReader(log).frames():
        boxes, labels = written[frame.timestamp_ns], frame.labels
        assert labels is not None
        if labels.frame != boxes.frame:
            labels = labels.transformed(frame.ego_from_sensor[labels.frame], boxes.frame)
        vehicles = boxes.select(np.isin(boxes.label, VEHICLES))
        labelled = labels.select(np.isin(labels.label, VEHICLES))
        if len(vehicles) and len(labelled):
            iou = box_iou_bev(vehicles.to_array7(), labelled.to_array7())
            best = max(best, float(iou.max()))
    assert best >= MIN_VEHICLE_IOU[dataset]
