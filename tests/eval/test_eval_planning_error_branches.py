"""Error and edge branches of the detection, driving, tracking and prediction evaluations, the
planners' stop-sign rules, the kernels' route choice and the learned forecaster's loading that
a line-coverage run left unexecuted (tests/test_stack_error_branches.py holds the others)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from drivestack.core.errors import DataError
from drivestack.core.frames import LIDAR
from drivestack.core.transforms import SE3
from drivestack.eval.detection import argoverse2 as av2_eval
from drivestack.eval.detection.datasets import labelled_frames
from drivestack.eval.detection.kitti import eval_class, image_box_overlap
from drivestack.eval.detection.run import evaluate_dataset, labelled_groups_config
from drivestack.eval.driving.driving_direction import max_backward_progress_m
from drivestack.eval.driving.nuplan import speed_limit_score
from drivestack.eval.driving.open_loop import OpenLoopParams, end_tolerance_ns
from drivestack.eval.driving.open_loop_logs import (
    ConstantVelocityPlanner,
    RecordedMotion,
    run_open_loop,
)
from drivestack.eval.prediction.tracked import kitti_online_tracks, run_online_tracker
from drivestack.eval.tracking.kitti import check_result_files, class_folder
from drivestack.eval.tracking.prepare import _pair_similarity_3d, prepare_class_data
from drivestack.kernels import _common, _numba_available
from drivestack.prediction import learned
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.trajectory import Trajectory
from tests.eval.driving.test_open_loop_logs import straight_log
from tests.eval.tracking.test_metrics_hand_cases import PROTO

# -- detection -------------------------------------------------------------------------------


def test_av2_helpers_of_nothing_are_empty() -> None:
    """No quaternion gives no yaw, no detection or label keeps the default errors, and no
    table has no category."""
    assert av2_eval.euler_yaw(np.zeros((0, 4))).shape == (0,)
    cfg = av2_eval.Av2DetectionConfig()
    out = av2_eval.assign(np.zeros((2, 7)), np.zeros((0, 7)), cfg)
    n = len(cfg.affinity_thresholds_m)
    assert out.shape == (2, n + 3)
    assert not out[:, :n].any()
    assert out[:, n:] == pytest.approx(np.tile(cfg.metrics_defaults[1:4], (2, 1)))
    assert list(av2_eval.categories_of()) == []


def test_kitti_image_overlap_relative_to_the_query_area() -> None:
    """criterion 1 divides the intersection by the query box's area (the devkit's rule)."""
    boxes = np.array([[0.0, 0.0, 10.0, 10.0]])
    query = np.array([[5.0, 0.0, 10.0, 5.0]])  # area 25, fully inside
    assert image_box_overlap(boxes, query, criterion=1)[0, 0] == pytest.approx(1.0)
    assert image_box_overlap(boxes, query, criterion=0)[0, 0] == pytest.approx(0.25)


def test_kitti_eval_class_needs_a_detection_frame_per_label_frame() -> None:
    """Ground truth and detections of different frame counts are a ValueError naming both."""
    from drivestack.ingest.kitti_format import KittiObjects

    with pytest.raises(ValueError, match="2 ground-truth frames but 1 detection frames"):
        eval_class(
            [KittiObjects(), KittiObjects()], [KittiObjects()], [0], [0], 0, np.full((1, 3, 1), 0.7)
        )


def test_labelled_frames_of_an_unknown_dataset_lists_the_known_ones() -> None:
    """An unknown dataset name is a ValueError listing the known ones."""
    with pytest.raises(ValueError, match=r"unknown dataset 'waymo'; known: .*nuscenes"):
        labelled_frames("waymo", Path("."))


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ("nuscenes", r"no \*_info\.json file"),
        ("av2", "no log folder with annotations.feather"),
        ("aimotive", "no dynamic/raw-revolutions/frame_"),
        ("pandaset", r"no lidar/NN\.npz"),
        ("kitti-tracking", "sequence"),
    ],
)
def test_an_empty_dataset_root_is_a_data_error_naming_it(
    tmp_path: Path, dataset: str, message: str
) -> None:
    """A root holding nothing of the dataset is a DataError naming the root."""
    with pytest.raises(DataError, match=message) as err:
        next(iter(labelled_frames(dataset, tmp_path)))
    assert str(tmp_path) in str(err.value)


def test_evaluate_dataset_needs_exactly_one_source(tmp_path: Path) -> None:
    """Neither a detector nor detection files (or both) is a ValueError."""
    with pytest.raises(ValueError, match="give exactly one of detector= or detections="):
        evaluate_dataset("kitti", tmp_path)


def test_no_scorable_label_of_any_group_is_a_data_error() -> None:
    """Frames with no label in range of any class group cannot be scored."""
    with pytest.raises(DataError, match="no scorable label of any class group"):
        labelled_groups_config([], {"vehicle": 0, "pedestrian": 0, "cyclist": 0})


# -- driving ---------------------------------------------------------------------------------


def test_driving_figures_of_short_runs() -> None:
    """No progress samples: no backward progress; a one-tick run complies with the speed
    limit; an expert of one sample has no end tolerance."""
    assert max_backward_progress_m(np.zeros(0), 5) == 0.0
    assert speed_limit_score(np.array([30.0]), 0.1) == 1.0
    z = np.zeros(1)
    one = Trajectory(np.array([0], dtype=np.int64), z, z, z, z, z, z)
    assert end_tolerance_ns(one) == 0


@pytest.mark.parametrize(
    ("horizon_s", "dt_s"),
    [(0.0, 0.1), (8.0, -0.1), (float("nan"), 0.1), (float("inf"), 0.1), (8.0, float("nan"))],
)
def test_constant_velocity_planner_refuses_bad_settings(horizon_s: float, dt_s: float) -> None:
    """A horizon or step that is not > 0 and finite is a ValueError naming both."""
    with pytest.raises(ValueError, match="horizon_s and dt_s must be finite and > 0"):
        ConstantVelocityPlanner(horizon_s, dt_s)


def test_recorded_motion_of_one_sweep_has_zero_rates() -> None:
    """A log of one sweep has no time derivative: acceleration and yaw rate are 0."""
    log, _ = straight_log(10.0)
    from dataclasses import replace

    one = replace(
        log,
        time_s=log.time_s[:1],
        ego_xy_m=log.ego_xy_m[:1],
        ego_yaw_rad=log.ego_yaw_rad[:1],
        ego_speed_mps=log.ego_speed_mps[:1],
    )
    motion = RecordedMotion.of(one)
    assert motion.acceleration_mps2.tolist() == [0.0]
    assert motion.yaw_rate_radps.tolist() == [0.0]
    assert motion.speed_mps.tolist() == [10.0]


def test_open_loop_sample_interval_must_be_whole_ticks() -> None:
    """A sample interval that is not a whole number of the world's ticks is a ValueError."""
    log, world = straight_log(10.0)
    params = OpenLoopParams(horizons_s=(3.0, 4.5, 6.0), sample_interval_s=0.15)
    with pytest.raises(ValueError, match=r"not a whole number of the scenario's 0\.1 s ticks"):
        run_open_loop(log, ["road_0"], world, ["constant_velocity"], params)


# -- tracking --------------------------------------------------------------------------------


def test_tracking_results_folder_missing(tmp_path: Path) -> None:
    """A missing results folder has no class folder and is a DataError naming --results."""
    missing = tmp_path / "nope"
    assert class_folder(missing, "Car") is None
    with pytest.raises(DataError, match="no such folder") as err:
        check_result_files(missing, ["Car"], [])
    assert err.value.field == "--results"
    assert str(missing) in str(err.value)


def test_prepare_class_data_of_no_sequence_is_empty() -> None:
    """No sequence gives class data with no rows."""
    data = prepare_class_data("Car", [], PROTO)
    assert data.gt_frame.shape == (0,)
    assert data.tr_frame.shape == (0,)


def test_3d_pairs_of_boxes_in_far_apart_frames_are_none() -> None:
    """Labels and tracks in frames more than a chunk apart pair with nothing."""
    box = np.array([[0.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]])
    g, t, s = _pair_similarity_3d(box, np.array([0]), box, np.array([500]))
    assert (g.size, t.size, s.size) == (0, 0, 0)
    assert g.dtype == np.int64


# -- kernels ---------------------------------------------------------------------------------


def test_numba_route_without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without numba, impl='numba' is a RuntimeError saying why; auto falls back."""
    monkeypatch.setattr(_numba_available, "AVAILABLE", False)
    monkeypatch.setattr(_numba_available, "REASON", "not installed")
    monkeypatch.setattr(_common, "_reference_forced", lambda: False)
    with pytest.raises(RuntimeError, match="numba is unavailable: not installed"):
        _common.use_compiled_cpu_route(np.zeros((1, 3)), "numba")
    assert _common.use_compiled_cpu_route(np.zeros((1, 3)), "auto") is False


def test_prepare_compiled_route_without_numba_or_its_internals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing to set up when numba is not imported, or its registry has changed."""
    numba = sys.modules.get("numba")
    monkeypatch.delitem(sys.modules, "numba", raising=False)
    _common.prepare_compiled_cpu_route()  # returns quietly
    if numba is None:
        return
    monkeypatch.setitem(sys.modules, "numba", numba)
    from numba.core import registry

    monkeypatch.setattr(registry, "cpu_target", object())
    _common.prepare_compiled_cpu_route()  # returns quietly


# -- prediction ------------------------------------------------------------------------------


def _small_checkpoint(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    from tests.prediction.test_forecaster_checkpoint_checks import SMALL

    torch.manual_seed(0)
    path = tmp_path / "f.pt"
    learned.save_forecaster(
        path, learned.LearnedForecaster(SMALL, learned.ForecasterNet(SMALL), {"seed": 0})
    )
    return path, torch.load(path, weights_only=True)


def test_checkpoint_without_provenance_loads_with_an_empty_one(tmp_path: Path) -> None:
    """A checkpoint whose provenance is None loads with provenance {}."""
    _, ckpt = _small_checkpoint(tmp_path)
    path = tmp_path / "none.pt"
    torch.save({**ckpt, "provenance": None}, path)
    assert learned.load_forecaster(path).provenance == {}


def test_weights_giving_no_finite_forecast_name_the_checkpoint(tmp_path: Path) -> None:
    """Weights whose forecast overflows are a DataError naming the file and state_dict."""
    _, ckpt = _small_checkpoint(tmp_path)
    state = {k: v * 1e30 if v.is_floating_point() else v for k, v in ckpt["state_dict"].items()}
    path = tmp_path / "inf.pt"
    torch.save({**ckpt, "state_dict": state}, path)
    with pytest.raises(DataError, match="its weights give no valid forecast") as err:
        learned.load_forecaster(path)
    assert (err.value.path, err.value.field) == (str(path), "state_dict")


# -- batch 2 ---------------------------------------------------------------------------------


def test_online_tracker_needs_a_pose_per_frame_and_keeps_empty_runs_empty() -> None:
    """Detections and poses of different lengths are a ValueError naming both counts; frames
    where the tracker outputs nothing give an empty result, not an error."""
    from tests.eval.prediction.test_prediction_tracked import _perfect_tracker

    tracker = _perfect_tracker()
    empty = [Boxes3D.from_array7(np.zeros((0, 7)), LIDAR, f * 100_000_000) for f in range(2)]
    with pytest.raises(ValueError, match="2 frames of detections, 1 poses"):
        run_online_tracker(tracker, empty, [SE3.identity()], "world")
    out = run_online_tracker(tracker, empty, [SE3.identity()] * 2, "world")
    assert out.frame.shape == (0,)
    assert out.boxes.shape == (0, 7)
    assert out.world_frame == "world"


def test_kitti_online_tracks_need_enough_ego_poses(tmp_path: Path) -> None:
    """No pose file, or one with fewer lines than frames, is a DataError naming the file
    (and the first missing line)."""
    from drivestack.ingest.kitti_tracking import KittiTrackingSequence
    from tests.eval.prediction.test_prediction_tracked import _perfect_tracker

    seq = KittiTrackingSequence(tmp_path, "0000")
    with pytest.raises(DataError, match="no ego-pose file") as err:
        kitti_online_tracks(tmp_path, "0000", 3, _perfect_tracker(), "world")
    assert str(seq.pose_path) in str(err.value)
    seq.pose_path.parent.mkdir(parents=True)
    seq.pose_path.write_text("1 0 0 0 0 1 0 0 0 0 1 0\n")
    with pytest.raises(DataError, match="poses of 1 frames, the sequence has 3") as err:
        kitti_online_tracks(tmp_path, "0000", 3, _perfect_tracker(), "world")
    assert err.value.record == "line 2"
    assert str(seq.pose_path) in str(err.value)


def test_a_map_model_without_a_map_is_refused() -> None:
    """The lane models need a road map: a ValueError naming the model."""
    from types import SimpleNamespace

    from drivestack.eval.prediction.models import MODELS

    for name in ("lane_following", "lane_branches"):
        run: Any = MODELS[name].run
        with pytest.raises(ValueError, match=f"model {name} needs a road map"):
            run(SimpleNamespace(boxes=np.zeros((0, 7))), None, 3.0, 0.1)


def test_tracking_class_without_a_result_for_a_sequence_is_named() -> None:
    """A seqmap sequence with no loaded result is a DataError naming sequence and class."""
    from drivestack.eval.tracking.kitti import evaluate_class
    from drivestack.ingest.kitti_format import KittiObjects
    from drivestack.ingest.kitti_tracking import SeqmapEntry

    seqmap = [SeqmapEntry("0003", 0, 4)]
    with pytest.raises(
        DataError, match="no Car tracking result, though the seqmap lists it"
    ) as err:
        evaluate_class("Car", seqmap, {"0003": KittiObjects()}, {}, PROTO)
    assert err.value.record == "sequence 0003"


def test_all_way_lines_pass_over_other_sign_rules() -> None:
    """Stop and fallback rules at the same junction are no all-way stop's lines."""
    from dataclasses import replace

    from drivestack.ingest.maps.synthetic import four_way_intersection
    from drivestack.planning.stop_signs import all_way_lines

    road = four_way_intersection(stop_sign_arms=4)
    signs = list(road.stop_signs)
    signs[1] = replace(signs[1], kind="stop")
    signs[2] = replace(signs[2], fallback=True)
    mixed = replace(road, stop_signs=tuple(signs))
    lines = all_way_lines(mixed, signs[0])
    own = {s.lane_id for s in signs[0].stops} | {s.lane_id for s in signs[3].stops}
    assert {line.lane_id for line in lines} == own


# -- bugs ------------------------------------------------------------------------------------


def test_kitti_eval_refuses_an_unknown_eval_type() -> None:
    """A misspelt eval type ('3D' for '3d') is a ValueError naming it (it gave an empty
    result)."""
    from drivestack.eval.detection.kitti import kitti_eval
    from tests.eval.detection.test_kitti_eval import _car

    with pytest.raises(ValueError, match=r"unknown eval_types \['3D'\]"):
        kitti_eval([_car(1)], [_car(1)], ["Car"], eval_types=("3D",))


def test_kitti_eval_aos_without_bbox_is_refused() -> None:
    """AOS is computed in the bbox pass: asking for it without bbox is a ValueError saying so
    (it was dropped without a word)."""
    from drivestack.eval.detection.kitti import kitti_eval
    from tests.eval.detection.test_kitti_eval import _car

    with pytest.raises(ValueError, match="'aos' needs 'bbox'"):
        kitti_eval([_car(1)], [_car(1)], ["Car"], eval_types=("3d", "aos"))


def test_constant_velocity_planner_refuses_an_infinite_step() -> None:
    """dt_s = inf is refused (it passed a ratio test, 8 / inf being 0, and step() gave a NaN
    sample time)."""
    with pytest.raises(ValueError, match="horizon_s and dt_s must be finite and > 0"):
        ConstantVelocityPlanner(8.0, float("inf"))


def test_constant_velocity_planner_refuses_a_huge_step_count() -> None:
    """More than MAX_FORECAST_STEPS samples (1e9 s in 0.1 s steps) is refused, not allocated."""
    with pytest.raises(ValueError, match="at most 100000 steps"):
        ConstantVelocityPlanner(1e9, 0.1)
