"""Thin vertical structures (poles, trunks) are not Pedestrians: the slice-width veto."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.perception.lidar.classify import classify, slice_width_height
from drivestack.perception.lidar.cluster import cluster_points
from drivestack.perception.lidar.config import (
    ThinStructureConfig,
    load_lidar_detector_config,
)
from drivestack.structures.labels import ObjectClass

from .synthetic import CLASSIFY, CLUSTER, PERCEPTION_CONFIGS

THIN = ThinStructureConfig(slice_height_m=0.2, min_width_m=0.3, min_width_to_height=0.22)


def _visible_cylinder(x: float, y: float, radius: float, z0: float, z1: float) -> np.ndarray:
    """``(N, 3)`` points on the half of a vertical cylinder facing the origin, every 2 degrees
    of azimuth around it and every 5 cm of height (a dense, noise-free scan)."""
    facing = np.arctan2(-y, -x)
    phi = facing + np.deg2rad(np.arange(-88.0, 89.0, 2.0))
    z = np.arange(z0, z1 + 1e-9, 0.05)
    pz, pp = np.meshgrid(z, phi, indexing="ij")
    return np.stack([x + radius * np.cos(pp), y + radius * np.sin(pp), pz], axis=-1).reshape(-1, 3)


def _person(x: float, y: float, ground_z: float) -> np.ndarray:
    """A person standing at (x, y): two legs (0.14 m cylinders, 0.22 m apart) to 0.85 m, a
    torso 0.46 m across (three overlapping 0.16 m cylinders side by side) to 1.45 m and a head
    (0.2 m) from 1.5 to 1.72 m, all above ``ground_z``."""
    side = np.array([-y, x]) / np.hypot(x, y)  # across the line of sight
    parts = []
    for offset in (-0.11, 0.11):
        parts.append(
            _visible_cylinder(
                x + offset * side[0], y + offset * side[1], 0.07, ground_z, ground_z + 0.85
            )
        )
    for offset in (-0.15, 0.0, 0.15):  # the torso: three overlapping cylinders
        parts.append(
            _visible_cylinder(
                x + offset * side[0], y + offset * side[1], 0.08, ground_z + 0.85, ground_z + 1.45
            )
        )
    parts.append(_visible_cylinder(x, y, 0.1, ground_z + 1.5, ground_z + 1.72))
    return np.concatenate(parts)


def _clusters(*objects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The grouped voxel centroids of the objects, one cluster each, as the detector has them."""
    grouped, bounds = cluster_points(np.concatenate(objects), CLUSTER).grouped()
    assert len(bounds) == len(objects) + 1
    return grouped, bounds


def test_slice_width_height_hand_values() -> None:
    # cluster 0: a slice (z in [0, 0.2)) with a 0.5 m span along x and a slice (z in [0.2, 0.4))
    # with a 0.1 m span along y: width 0.5, height 0.3
    # cluster 1: a single column of points: width 0, height 1.0
    xyz = np.array(
        [
            [10.0, 0.0, 0.0],
            [10.5, 0.0, 0.1],
            [10.0, 0.0, 0.25],
            [10.0, 0.1, 0.3],
            [5.0, 5.0, -1.0],
            [5.0, 5.0, -0.5],
            [5.0, 5.0, 0.0],
        ]
    )
    bounds = np.array([0, 4, 7])
    width, height = slice_width_height(xyz, bounds, np.array([0, 1]), 0.2)
    np.testing.assert_allclose(width, [0.5, 0.0], atol=1e-12)
    np.testing.assert_allclose(height, [0.3, 1.0], atol=1e-12)
    # one slice only: two points 0.5 m apart diagonally (the largest projected extent over
    # 8 directions is at least cos(pi / 16) of the diameter)
    diag = np.array([[0.0, 0.0, 0.0], [0.3, 0.4, 0.0]])
    w, h = slice_width_height(diag, np.array([0, 2]), np.array([0]), 0.2)
    assert 0.5 * np.cos(np.pi / 16) <= w[0] <= 0.5 + 1e-12 and h[0] == 0.0
    # the two points of cluster 0 at 0.5 m apart are in different 0.1 m slices: width 0.1
    w, _ = slice_width_height(xyz, bounds, np.array([0]), 0.1)
    assert w[0] == pytest.approx(0.1)
    assert slice_width_height(xyz, bounds, np.zeros(0, np.int64), 0.2)[0].shape == (0,)


def test_pole_is_not_a_pedestrian_but_a_person_is() -> None:
    ground_z = -1.9
    # a 0.25 m pole at 7 m: the cluster band (0.35 m to 2.1 m above the road) is person-tall
    pole = _visible_cylinder(7.0, -3.0, 0.125, ground_z + 0.35, ground_z + 2.1)
    person = _person(9.0, 4.0, ground_z)
    person = person[person[:, 2] >= ground_z + 0.35]
    grouped, bounds = _clusters(pole, person)
    order = np.argsort([grouped[bounds[i], 1] for i in range(2)])  # pole (y < 0) first
    width, height = slice_width_height(grouped, bounds, order, THIN.slice_height_m)
    assert width[0] < 0.3 and width[0] / height[0] < 0.22  # the pole on both counts
    assert width[1] > 0.3 and width[1] / height[1] > 0.22
    # both fit the Pedestrian size prior: a 0.45 x 0.4 x 1.9 box on the ground and a person box
    boxes = np.zeros((2, 7))
    boxes[order[0]] = [7.0, -3.0, ground_z + 0.95, 0.45, 0.4, 1.9, 0.0]
    boxes[order[1]] = [9.0, 4.0, ground_z + 0.86, 0.55, 0.5, 1.72, 0.0]
    counts = np.diff(bounds)
    plain = classify(boxes, counts, CLASSIFY)
    assert plain.label.tolist() == [ObjectClass.PEDESTRIAN] * 2
    # the veto is off by default (configs without the section behave as before), and needs points
    assert classify(boxes, counts, CLASSIFY, grouped, bounds).label.tolist() == plain.label.tolist()
    cfg = dataclasses.replace(CLASSIFY, thin_structure=THIN)
    assert classify(boxes, counts, cfg).label.tolist() == plain.label.tolist()
    vetoed = classify(boxes, counts, cfg, grouped, bounds)
    assert vetoed.label[order[0]] == ObjectClass.UNKNOWN
    assert vetoed.label[order[1]] == ObjectClass.PEDESTRIAN
    assert vetoed.likelihood[order[0], 1] == 0.0 and vetoed.likelihood[order[0], 2] == 0.0
    assert vetoed.score[order[1]] == pytest.approx(plain.score[order[1]])
    # each criterion alone catches this pole
    for one in (
        ThinStructureConfig(min_width_m=0.3),
        ThinStructureConfig(min_width_to_height=0.22),
    ):
        alone = classify(
            boxes, counts, dataclasses.replace(CLASSIFY, thin_structure=one), grouped, bounds
        )
        assert alone.label.tolist() == vetoed.label.tolist()


def test_thin_veto_leaves_cars_alone() -> None:
    # a car-sized box whose points happen to be a thin column is still a Car
    xyz = np.array([[10.0, 0.0, z] for z in np.arange(-1.5, 0.0, 0.2)])
    box = np.array([[10.0, 0.0, -1.0, 4.1, 1.7, 1.5, 0.0]])
    cfg = dataclasses.replace(CLASSIFY, thin_structure=THIN)
    out = classify(box, np.array([80]), cfg, xyz, np.array([0, len(xyz)]))
    assert out.label.tolist() == [ObjectClass.CAR]
    with pytest.raises(ValueError, match="cluster bounds"):
        classify(box, np.array([80]), cfg, xyz, np.array([0, 2, len(xyz)]))


def test_thin_structure_config() -> None:
    assert not ThinStructureConfig().enabled
    assert ThinStructureConfig(min_width_to_height=0.2).enabled
    with pytest.raises(ValueError, match="slice_height_m"):
        ThinStructureConfig(slice_height_m=0.0)
    with pytest.raises(ValueError, match="min_width_m"):
        ThinStructureConfig(min_width_m=-0.1)


@pytest.mark.parametrize("name", ["lidar_kitti", "lidar_sim"])
def test_shipped_configs_enable_the_veto(name: str) -> None:

    cfg = load_lidar_detector_config(PERCEPTION_CONFIGS / f"{name}.yaml")
    assert cfg.classify.thin_structure.enabled
