"""Clusters that fit no class are re-clustered at the base link distance: a person walking past
a pole 50 m away, joined to it at the grown link distance (1.2 m), is a Pedestrian box again.
In the closed loop (cpna 60 km/h, --perception lidar) the pedestrian was one 1.5 x 0.45 x
2.9 m cluster with the pole beside the kerb from 55 to 39 m, no class, no track."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.lidar.cluster import split_clusters
from drivestack.perception.lidar.config import load_lidar_detector_config
from drivestack.perception.lidar.detector import LidarDetector
from drivestack.sim.perceived import LIDAR_NAME, default_lidar
from drivestack.sim.sensors import SensorScene
from drivestack.sim.sensors.scene import Material, SceneObject
from drivestack.structures import Boxes3D, ObjectClass, SensorFrame

from ..synthetic import CLUSTER

REPO = Path(__file__).resolve().parents[3]
SIM_CONFIG = REPO / "configs/perception/lidar_sim.yaml"
CFG = CLUSTER  # link 0.45 m, min_points 4


def _column(x: float, y: float, n: int) -> np.ndarray:
    """``(n, 3)`` voxels one above the other every 0.2 m at (x, y)."""
    return np.array([[x, y, 0.2 * k] for k in range(n)])


def test_split_clusters_hand_cases() -> None:
    # cluster 0: two columns 1.0 m apart (one cluster at a 1.2 m link, two at 0.45 m): split;
    # cluster 1: a column with a 2-voxel stub 0.8 m off, under min_points (4): fewer than two
    # parts of 4 voxels, so it stays whole, stub included; cluster 2: two columns, not asked
    a, b = _column(50.0, 0.0, 6), _column(50.0, 1.0, 5)
    c, stub = _column(60.0, 0.0, 6), _column(60.0, 0.8, 2)
    d, e = _column(70.0, 0.0, 5), _column(70.0, 1.0, 5)
    grouped = np.concatenate([a, b, c, stub, d, e])
    bounds = np.array([0, 11, 19, 29])
    out, out_bounds, source = split_clusters(grouped, bounds, np.array([0, 1]), CFG)
    assert source.tolist() == [0, 0, 1, 2]
    np.testing.assert_array_equal(out_bounds, [0, 6, 11, 19, 29])
    np.testing.assert_allclose(out[0:6], a)
    np.testing.assert_allclose(out[6:11], b)
    np.testing.assert_allclose(out[11:19], grouped[11:19])  # kept whole, stub included
    # nothing to split: the inputs back
    same, same_bounds, same_source = split_clusters(grouped, bounds, np.array([1]), CFG)
    assert same is grouped and same_source.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(same_bounds, bounds)


def _sweep_person_beside_pole(range_m: float, gap_m: float) -> tuple[SensorFrame, np.ndarray]:
    """A simulated sweep of a person ``range_m`` ahead of the LiDAR, beside a street-light pole
    (0.15 m square, 6 m tall) ``gap_m`` to its left (centre to centre); the person's box."""
    lidar = default_lidar()
    mount = lidar.ego_from_lidar.translation
    x = mount[0] + range_m
    pole = SceneObject((x, gap_m, 3.0, 0.15, 0.15, 6.0, 0.0), Material.POLE)
    scene = SensorScene([pole])
    person = np.array([x, 0.0, 0.875, 0.6, 0.6, 1.75, np.pi / 2])
    scene.set_agents(Boxes3D.from_array7([person], "world", label=[ObjectClass.PEDESTRIAN]))
    cloud = lidar.scan(scene, SE3.identity(), 0)
    frame = SensorFrame(
        0,
        lidars={LIDAR_NAME: cloud},
        ego_from_sensor={LIDAR_NAME: lidar.ego_from_lidar},
        world_from_ego=SE3.identity(),
        source="test",
    )
    return frame, person


@pytest.mark.parametrize("range_m", [45.0, 52.0])
def test_a_person_beside_a_pole_at_range_is_a_pedestrian(range_m: float) -> None:
    frame, person = _sweep_person_beside_pole(range_m, 1.3)
    cfg = load_lidar_detector_config(SIM_CONFIG)
    assert cfg.cluster.split_unknown_max_length_m > 0

    def pedestrians(config) -> int:
        found = LidarDetector(config).step(frame)
        near = np.linalg.norm(found.center_m[:, :2] - person[:2], axis=1) < 0.6
        return int(np.count_nonzero(near & (found.label == ObjectClass.PEDESTRIAN)))

    assert pedestrians(cfg) == 1
    # without the split the person and the pole are one cluster that fits no class
    off = dataclasses.replace(
        cfg, cluster=dataclasses.replace(cfg.cluster, split_unknown_max_length_m=0.0)
    )
    assert pedestrians(off) == 0


def test_the_split_is_its_own_step_in_the_run_report() -> None:
    frame, _ = _sweep_person_beside_pole(52.0, 1.3)
    cfg = load_lidar_detector_config(SIM_CONFIG)
    _, report = LidarDetector(cfg).step_with_report(frame)
    names = [s.name for s in report.steps]
    assert names.index("classify") + 1 == names.index("split_unknown")
    split = report.steps[names.index("split_unknown")]
    classify = report.steps[names.index("classify")]
    # the merged cluster in, the person and the pole out (before dedup's score filter)
    assert split.items_in == classify.items_out and split.items_out == split.items_in + 1
    off = dataclasses.replace(
        cfg, cluster=dataclasses.replace(cfg.cluster, split_unknown_max_length_m=0.0)
    )
    _, report = LidarDetector(off).step_with_report(frame)
    assert "split_unknown" not in [s.name for s in report.steps]
