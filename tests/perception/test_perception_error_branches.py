"""Error and edge branches of the perception stages that no other test reached: empty input
gives empty results of the right shape and dtype, bad input a clear error naming what is
wrong (see also tests/test_stack_error_branches.py, not repeated here)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from drivestack.config.strict import ConfigValueError
from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.perception.camera import training
from drivestack.perception.camera.replay import read_2d_detections
from drivestack.perception.camera.traffic_light_inference import route_way_lanes
from drivestack.perception.camera.traffic_light_state import (
    LightRoi,
    TrafficLightConfig,
    TrafficLightPrior,
    classify_crop,
)
from drivestack.perception.camera.training import KittiImageDataset, TrainSettings, train_detector
from drivestack.perception.fusion.association import camera_affinity
from drivestack.perception.fusion.fused_tracking import FusedTracker, FusionConfig
from drivestack.perception.fusion.kitti_eval import compare_lidar_and_fused
from drivestack.perception.fusion.painting import paint_points
from drivestack.perception.lidar.baseline import Open3dBaselineDetector
from drivestack.perception.lidar.box_fit import boxes_at_yaw, pooled_clusters
from drivestack.perception.lidar.config import OffroadConfig
from drivestack.perception.lidar.map_priors import MapPriors, lane_yaw_rad, on_drivable
from drivestack.perception.lidar.metrics import check_ground, in_image
from drivestack.perception.lidar.offroad import demote_offroad
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from tests.perception.camera.test_detector_training_rules_pinned import (
    CFG,
    _frames,
    _label,
    _Stub,
    _write,
)
from tests.perception.fusion.test_association import BOXES, front_camera
from tests.perception.fusion.test_fused_tracking import _camera, _tracker
from tests.perception.test_baseline_and_bench import _frame
from tests.perception.test_box_fit_classify import FIT
from tests.perception.test_offroad import _Strip
from tests.sim.test_light_inference import STRAIGHT_NORTH, four_lights

CAR = int(ObjectClass.CAR)
P = np.array([[700.0, 0.0, 600.0, 0.0], [0.0, 700.0, 180.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
BOX = np.array([[10.0, 0.0, 0.75, 4.0, 2.0, 1.5, 0.0]])


# -- lidar: empty inputs -----------------------------------------------------------------------


def test_boxes_at_yaw_of_no_cluster_is_an_empty_box_array() -> None:
    """No cluster (bounds [0]) gives (0, 7) boxes."""
    out = boxes_at_yaw(np.zeros((0, 3)), np.zeros(1, np.int64), np.zeros(0), None, FIT)
    assert out.shape == (0, 7) and out.dtype == np.float64


def test_pooled_clusters_of_no_group_is_empty() -> None:
    """No group: (0, 3) points and bounds [0] (G + 1 = 1), int64."""
    pts, bounds = pooled_clusters(np.ones((2, 3)), np.array([0, 2]), [])
    assert pts.shape == (0, 3) and bounds.tolist() == [0] and bounds.dtype == np.int64


def test_pooled_clusters_of_one_empty_group_has_two_bounds() -> None:
    """One group of no cluster: G = 1, so bounds [0, 0] (as [[0], []] gives [0, 2, 2]; it gave
    [0], one bound); no group at all: [0]."""
    assert pooled_clusters(np.ones((2, 3)), np.array([0, 2]), [[0], []])[1].tolist() == [0, 2, 2]
    assert pooled_clusters(np.ones((2, 3)), np.array([0, 2]), [[]])[1].tolist() == [0, 0]
    points, bounds = pooled_clusters(np.ones((2, 3)), np.array([0, 2]), [])
    assert points.shape == (0, 3) and bounds.tolist() == [0]


@pytest.mark.parametrize(
    ("xyz", "boxes"), [(np.zeros((0, 3)), BOX), (np.zeros((3, 3)), np.zeros((0, 7)))]
)
def test_check_ground_without_points_or_boxes_counts_nothing(
    xyz: np.ndarray, boxes: np.ndarray
) -> None:
    """No point or no label box: every count is 0 (nothing to judge)."""
    out = check_ground(xyz, np.zeros(len(xyz), bool), boxes)
    assert dataclasses.astuple(out) == (0, 0, 0, 0)


def test_check_ground_labels_of_another_length_are_named() -> None:
    """is_ground must have one label per point: a mismatch is a ValueError naming it (a bare
    NumPy broadcast error named nothing)."""
    with pytest.raises(ValueError, match=r"is_ground has shape \(2,\) for 3 points"):
        check_ground(np.zeros((3, 3)), np.zeros(2, bool), BOX)


def test_in_image_of_no_point_is_an_empty_mask() -> None:
    """No point: an empty bool mask."""
    out = in_image(np.zeros((0, 3)), SE3.identity(), P, (1242, 375))
    assert out.shape == (0,) and out.dtype == bool


def test_map_prior_lookups_of_no_point_are_empty() -> None:
    """on_drivable / lane_yaw_rad of no point: (0,) bool / (0,) float, the map not asked."""
    mask = on_drivable(np.zeros((0, 3)), None, SE3.identity())  # type: ignore[arg-type]
    yaw = lane_yaw_rad(np.zeros((0, 3)), None, SE3.identity(), None)  # type: ignore[arg-type]
    assert mask.shape == (0,) and mask.dtype == bool
    assert yaw.shape == (0,) and yaw.dtype == np.float64


def test_demote_offroad_without_vehicles_returns_a_copy_of_the_scores() -> None:
    """No vehicle box: the scores unchanged, as a new float array (the input not aliased)."""
    score = np.array([0.5, 0.7])
    label = np.full(2, int(ObjectClass.PEDESTRIAN))
    priors = MapPriors(SE3.identity(), _Strip(-2.0, 2.0))  # type: ignore[arg-type]
    out = demote_offroad(
        np.array([[50.0, 50, 0], [60, 60, 0]]),
        label,
        score,
        priors,
        OffroadConfig(score_factor=0.5),
    )
    assert out.tolist() == [0.5, 0.7] and out is not score


def test_demote_offroad_without_a_map_is_refused_even_without_vehicles() -> None:
    """Enabled without a drivable area: a ValueError naming the stage, even with no vehicle."""
    with pytest.raises(ValueError, match=r"classify\.offroad"):
        demote_offroad(
            np.zeros((0, 3)),
            np.zeros(0, int),
            np.zeros(0),
            MapPriors(),
            OffroadConfig(score_factor=0.5),
        )


def test_baseline_of_only_small_clusters_gives_no_box() -> None:
    """A plane and clusters smaller than min_cluster_points: no box, in the cloud's frame."""
    rng = np.random.default_rng(0)
    ground = np.c_[rng.uniform(-10, 10, (600, 2)), rng.normal(-1.7, 0.01, 600)]
    blob = np.array([5.0, 5.0, 0.0]) + rng.normal(0, 0.05, (6, 3))
    out = Open3dBaselineDetector().step(_frame(np.vstack([ground, blob])))
    assert len(out) == 0 and out.frame == "lidar"


# -- fusion ------------------------------------------------------------------------------------


def test_camera_affinity_refuses_float_labels() -> None:
    """Box labels must be integer class ids: floats are a ValueError naming labels and dtype."""
    cal = front_camera()
    dets = Detections2D(np.array([[600.0, 150, 700, 220]]), cal.frame, label=np.array([CAR]))
    with pytest.raises(ValueError, match=r"camera_affinity labels must be integer.*float64"):
        camera_affinity(BOXES, np.full(3, 1.0), dets, cal)


def test_painting_a_cloud_in_another_frame_uses_ego_from_cloud() -> None:
    """A cloud in the lidar frame with ego_from_cloud is painted as moved into the ego frame:
    a point 1 m behind a detection's pixel in the lidar frame lands on it after a +1 m shift."""
    cal = front_camera()
    dets = Detections2D(
        np.array([[600.0, 150, 700, 220]]),
        cal.frame,
        score=np.array([0.9]),
        label=np.array([CAR]),
    )
    cloud = PointCloud(np.array([[9.0, 0.0, 1.5]]), "lidar", 0)
    shift = SE3.from_xyz_yaw(np.array([1.0, 0.0, 0.0]), 0.0)
    painted = paint_points(cloud, dets, cal, [CAR], ego_from_cloud=shift)
    moved = paint_points(PointCloud(np.array([[10.0, 0.0, 1.5]]), "ego", 0), dets, cal, [CAR])
    assert painted.frame == "lidar"
    for key, values in moved.attributes.items():
        np.testing.assert_array_equal(painted.attributes[key], values)


def test_fused_tracker_reports_the_wrapped_trackers_velocity_frame() -> None:
    """velocities_over_ground is the wrapped tracker's (a drop-in for Tracker)."""
    for compensated in (False, True):
        fused = FusedTracker(_tracker(compensated), FusionConfig(), _camera)
        assert fused.velocities_over_ground == fused.tracker.velocities_over_ground


def test_fused_kitti_comparison_refuses_an_unknown_mode_first(tmp_path: Path) -> None:
    """An unknown mode is a ValueError naming it before any file is read."""
    with pytest.raises(ValueError, match="unknown mode 'camera'; expected lidar or fused"):
        compare_lidar_and_fused(
            tmp_path / "nope",
            [],
            ["Car"],
            None,  # type: ignore[arg-type]
            FusionConfig(),
            modes=("camera",),
        )


# -- camera ------------------------------------------------------------------------------------


def test_reading_2d_detections_from_a_folder_is_a_data_error(tmp_path: Path) -> None:
    """A path that exists but cannot be read (a folder) is a DataError naming it."""
    with pytest.raises(DataError, match="cannot read file") as err:
        read_2d_detections(tmp_path, CAR)
    assert str(tmp_path) in str(err.value)


def test_a_light_prior_needs_three_coordinates() -> None:
    """centre_m must be (x, y, z): two values are a ValueError naming the light."""
    with pytest.raises(ValueError, match="TrafficLightPrior 'L1' centre_m must be"):
        TrafficLightPrior("L1", (1.0, 2.0), 0.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["red_hue_deg", "yellow_hue_deg", "green_hue_deg"])
def test_a_hue_range_needs_two_bounds(name: str) -> None:
    """A hue range of three values is a ConfigValueError naming its key."""
    with pytest.raises(ConfigValueError, match=f"{name} must be \\[lo, hi\\] degrees") as err:
        kwargs: dict[str, Any] = {name: (0.0, 10.0, 20.0)}
        TrafficLightConfig(**kwargs)
    assert err.value.key == name


def test_a_housing_outside_the_crop_reads_unknown() -> None:
    """A housing box that misses the crop entirely (and no lamp colour in it): unknown, 0."""
    roi = LightRoi((0, 0, 8, 8), (20.0, 20.0, 24.0, 32.0), None)
    out = classify_crop(np.zeros((8, 8, 3), np.uint8), roi, TrafficLightConfig())
    assert (out.state, out.confidence) == ("unknown", 0.0)


def test_a_route_not_through_the_stop_lane_has_no_way() -> None:
    """A stop lane the route does not use: no way through the junction."""
    assert route_way_lanes(four_lights(), STRAIGHT_NORTH, "west_in") == ()


# -- camera training -----------------------------------------------------------------------------


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-weight stand-in network of the pinned training tests."""
    monkeypatch.setattr(training, "build_fcos", lambda cfg: _Stub([]))


def test_an_empty_image_set_is_refused_naming_it(tmp_path: Path) -> None:
    """An ImageSets/<split>.txt of blank lines lists no frame: a DataError naming the file."""
    root = _write(tmp_path / "kitti", {"a": [_label("Car", (1, 1, 5, 5))]})
    (root / "ImageSets").mkdir()
    (root / "ImageSets" / "val.txt").write_text("\n  \n")
    with pytest.raises(DataError, match="lists no frame") as err:
        KittiImageDataset(root, ("Car",), split="val")
    assert str(root / "ImageSets" / "val.txt") in str(err.value)


def test_images_without_any_label_file_are_refused(tmp_path: Path) -> None:
    """image_2/ with no matching label_2/*.txt: a DataError naming the root."""
    root = _write(tmp_path / "kitti", {"a": [_label("Car", (1, 1, 5, 5))]})
    (root / "label_2" / "a.txt").unlink()
    with pytest.raises(DataError, match=r"no image_2/\*\.png with a matching") as err:
        KittiImageDataset(root, ("Car",))
    assert str(root) in str(err.value)


def test_a_dataset_read_for_other_classes_is_refused(tmp_path: Path, stub: None) -> None:
    """A dataset read for classes other than the config's is a ValueError naming both."""
    ds = KittiImageDataset(_frames(tmp_path, 2), ("Car",))
    with pytest.raises(ValueError, match=r"read for classes \['Car'\].*'Pedestrian'"):
        train_detector(CFG, ds, tmp_path / "out", TrainSettings(iterations=1), progress=False)
    assert not (tmp_path / "out").exists()


def test_on_iteration_gets_each_iteration_and_its_loss(tmp_path: Path, stub: None) -> None:
    """on_iteration is called once per iteration with its index and the loss recorded."""
    seen: list[tuple[int, float]] = []
    settings = TrainSettings(iterations=3, batch_size=1, checkpoint_every=0)
    res = train_detector(
        CFG,
        _frames(tmp_path, 2),
        tmp_path / "out",
        settings,
        progress=False,
        on_iteration=lambda it, loss: seen.append((it, loss)),
    )
    assert [it for it, _ in seen] == [0, 1, 2]
    assert [loss for _, loss in seen] == res.losses.tolist()


def _resume_with(tmp_path: Path, edit: Any) -> pytest.ExceptionInfo[DataError]:
    """Train 1 iteration, edit its checkpoint dict, and resume it to 2 iterations."""
    data = _frames(tmp_path, 2)
    settings = TrainSettings(iterations=1, batch_size=2, checkpoint_every=0)
    first = train_detector(CFG, data, tmp_path / "a", settings, progress=False)
    ckpt = torch.load(first.checkpoints[-1], weights_only=True)
    edit(ckpt)
    path = tmp_path / "edited.pt"
    torch.save(ckpt, path)
    more = dataclasses.replace(settings, iterations=2)
    with pytest.raises(DataError) as err:
        train_detector(CFG, data, tmp_path / "b", more, resume=path, progress=False)
    assert str(path) in str(err.value) and not (tmp_path / "b").exists()
    return err


@pytest.mark.parametrize("iteration", [-1, 1.5, None])
def test_a_resume_checkpoint_of_a_bad_iteration_is_refused(
    tmp_path: Path, stub: None, iteration: Any
) -> None:
    """An iteration that is not an int >= 0 is a DataError naming the file and field."""
    err = _resume_with(tmp_path, lambda c: c.__setitem__("iteration", iteration))
    assert err.value.field == "iteration" and "bad iteration" in str(err.value)


def test_a_resume_data_order_of_other_frames_is_damaged_state(tmp_path: Path, stub: None) -> None:
    """A saved data order that is no permutation of the frames: damaged training_state."""

    def edit(ckpt: dict[str, Any]) -> None:
        ckpt["training_state"]["data_order"] = torch.tensor([0, 0])

    err = _resume_with(tmp_path, edit)
    assert err.value.field == "training_state"
    assert "damaged training state (ValueError: data order does not fit" in str(err.value)


@pytest.mark.parametrize("key", ["data_cursor", "numpy_rng", "optimizer"])
def test_a_resume_state_missing_a_part_is_damaged_state(
    tmp_path: Path, stub: None, key: str
) -> None:
    """A training_state missing one of its parts: a DataError naming training_state and key."""
    err = _resume_with(tmp_path, lambda c: c["training_state"].pop(key))
    assert err.value.field == "training_state" and f"KeyError: '{key}'" in str(err.value)
