"""Clustering with a range-adaptive link distance."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from drivestack.perception.lidar.cluster import cluster_points, link_distance_m
from drivestack.perception.lidar.config import ClusterConfig

CFG = ClusterConfig(
    voxel_size_m=0.1,
    base_distance_m=0.5,
    distance_per_range=0.03,
    max_distance_m=1.2,
    min_points=3,
    max_points=10_000,
    min_height_above_ground_m=0.2,
    max_height_above_ground_m=3.0,
)


def _blob(
    rng: np.random.Generator, centre: tuple[float, float, float], size: float = 0.6, n: int = 300
) -> np.ndarray:
    return np.asarray(centre) + rng.uniform(-size / 2, size / 2, (n, 3))


def test_two_separated_clusters() -> None:
    rng = np.random.default_rng(0)
    a = _blob(rng, (8.0, 0.0, -1.0))
    b = _blob(rng, (8.0, 3.0, -1.0))
    clusters = cluster_points(np.concatenate([a, b]), CFG)
    assert clusters.num_clusters == 2
    pts, bounds = clusters.grouped()
    centres = sorted(round(float(pts[bounds[i] : bounds[i + 1], 1].mean())) for i in range(2))
    assert centres == [0, 3]


def test_link_distance_grows_with_range() -> None:
    np.testing.assert_allclose(
        link_distance_m(np.array([5.0, 20.0, 30.0, 100.0]), CFG), [0.5, 0.6, 0.9, 1.2]
    )
    rng = np.random.default_rng(1)
    gap = 0.8  # wider than the base distance, narrower than the link at 35 m
    for x, expected in ((6.0, 2), (35.0, 1)):
        a = _blob(rng, (x, 0.0, -1.0), size=0.4)
        b = a + np.array([0.0, 0.4 + gap, 0.0])
        assert cluster_points(np.concatenate([a, b]), CFG).num_clusters == expected, x


def test_size_limits_and_empty() -> None:
    rng = np.random.default_rng(2)
    lone = np.array([[5.0, 5.0, 0.0]])
    clusters = cluster_points(np.concatenate([_blob(rng, (10.0, 0.0, 0.0)), lone]), CFG)
    assert clusters.num_clusters == 1 and (clusters.label == -1).sum() == 1
    small_max = dataclasses.replace(CFG, max_points=5)
    assert cluster_points(_blob(rng, (10.0, 0.0, 0.0)), small_max).num_clusters == 0
    empty = cluster_points(np.zeros((0, 3)), CFG)
    assert empty.num_clusters == 0 and empty.xyz_m.shape == (0, 3)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_matches_brute_force_components(seed: int) -> None:
    """Same partition as connected components of all pairs closer than the link distance."""
    rng = np.random.default_rng(seed)
    pts = np.concatenate(
        [
            _blob(
                rng,
                tuple(rng.uniform([-40, -40, -1], [40, 40, 1])),
                size=rng.uniform(0.3, 3.0),
                n=200,
            )
            for _ in range(40)
        ]
    )
    clusters = cluster_points(pts, dataclasses.replace(CFG, min_points=1))
    vox = clusters.xyz_m
    link = link_distance_m(np.hypot(vox[:, 0], vox[:, 1]), CFG)
    pairs = cKDTree(vox).query_pairs(CFG.max_distance_m, output_type="ndarray")
    d = np.linalg.norm(vox[pairs[:, 0]] - vox[pairs[:, 1]], axis=1)
    ok = d < np.minimum(link[pairs[:, 0]], link[pairs[:, 1]])
    graph = coo_matrix(
        (np.ones(ok.sum()), (pairs[ok, 0], pairs[ok, 1])), shape=(len(vox), len(vox))
    )
    n_ref, ref = connected_components(graph, directed=False)
    assert clusters.num_clusters == n_ref
    # a bijection between the two labelings
    assert len(set(zip(clusters.label.tolist(), ref.tolist(), strict=True))) == n_ref


def _brute_force_ids(vox: np.ndarray, cfg: ClusterConfig) -> np.ndarray:
    """``(K,)`` smallest voxel index of each voxel's component over every pair of ``(K, 3)``
    voxels closer than the smaller link distance (heights scaled by the config)."""
    link = link_distance_m(np.hypot(vox[:, 0], vox[:, 1]), cfg)
    scaled = vox * [1.0, 1.0, cfg.vertical_link_scale]
    a, b = np.triu_indices(len(vox), k=1)
    near = np.linalg.norm(scaled[a] - scaled[b], axis=1) < np.minimum(link[a], link[b])
    graph = coo_matrix((np.ones(near.sum()), (a[near], b[near])), shape=(len(vox), len(vox)))
    _, comp = connected_components(graph, directed=False)
    smallest = np.full(comp.max() + 1, len(vox))
    np.minimum.at(smallest, comp, np.arange(len(vox)))
    return smallest[comp]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    spread_m=st.floats(0.5, 30.0),
    base_m=st.floats(0.2, 1.0),
    per_range=st.floats(0.0, 0.06),
    vertical=st.sampled_from([0.5, 1.0]),
)
def test_components_are_those_of_every_pair(
    seed: int, spread_m: float, base_m: float, per_range: float, vertical: float
) -> None:
    """Dense and sparse clouds alike (cells with one voxel, cells split between components):
    the clusters and their order are those of checking every pair, though the kernel skips
    the pairs that could join nothing new."""
    rng = np.random.default_rng(seed)
    centre = rng.uniform(-20.0, 20.0, 3) * [1.0, 1.0, 0.05]
    pts = centre + rng.uniform(-spread_m, spread_m, (400, 3)) * [1.0, 1.0, 0.1]
    cfg = dataclasses.replace(
        CFG,
        base_distance_m=base_m,
        distance_per_range=per_range,
        max_distance_m=max(base_m, 1.2),
        min_points=1,
        vertical_link_scale=vertical,
    )
    clusters = cluster_points(pts, cfg)
    ids = _brute_force_ids(clusters.xyz_m, cfg)
    # cluster ids are numbered by first voxel: the same order as the smallest-index roots
    _, expected = np.unique(ids, return_inverse=True)
    np.testing.assert_array_equal(clusters.label, expected)


def test_deterministic() -> None:
    rng = np.random.default_rng(6)
    pts = np.concatenate([_blob(rng, (x, 0.0, 0.0)) for x in (5.0, 9.0, 14.0)])
    a, b = cluster_points(pts, CFG), cluster_points(pts, CFG)
    np.testing.assert_array_equal(a.label, b.label)


def test_vertical_link_scale_joins_stacked_pieces() -> None:
    # a roof line 0.8 m above a body piece, directly over it (a car's windows return nothing):
    # 0.8 m apart in height, beyond the 0.5 m link at 8 m; counted half (0.4 m) they link
    body = np.array([[8.0, y, -1.0] for y in (0.0, 0.1, 0.2, 0.3)])
    roof = body + np.array([0.0, 0.0, 0.8])
    xyz = np.concatenate([body, roof])
    assert cluster_points(xyz, CFG).num_clusters == 2
    scaled = dataclasses.replace(CFG, vertical_link_scale=0.5)
    assert cluster_points(xyz, scaled).num_clusters == 1
    # side by side the same 0.8 m still separates them: only heights are scaled
    beside = np.concatenate([body, body + np.array([0.8, 0.0, 0.0])])
    assert cluster_points(beside, scaled).num_clusters == 2
    with pytest.raises(ValueError, match="vertical_link_scale"):
        dataclasses.replace(CFG, vertical_link_scale=0.0)


def test_oversize_link_scale_frees_an_object_bridged_to_a_wall() -> None:
    # at 30 m the link is 0.9 m: a 3 m wall (31 voxels) and a 0.6 m object (7 voxels) 0.7 m
    # from its end form one 38-voxel component, over max_points 20: both are dropped
    wall = np.array([[30.0, 0.1 * i, -1.0] for i in range(31)])
    thing = np.array([[30.0, 3.7 + 0.1 * i, -1.0] for i in range(7)])
    xyz = np.concatenate([wall, thing])
    capped = dataclasses.replace(CFG, max_points=20)
    assert cluster_points(xyz, capped).num_clusters == 0
    # re-linked at half the link (0.45 m) the 0.7 m gap separates them; the wall stays too large
    split = dataclasses.replace(capped, oversize_link_scale=0.5)
    clusters = cluster_points(xyz, split)
    assert clusters.num_clusters == 1
    pts, bounds = clusters.grouped()
    assert bounds.tolist() == [0, 7]
    np.testing.assert_allclose(pts[:, 1].mean(), 4.0, atol=1e-6)
    # a component within max_points is not re-linked: the 0.7 m gap still joins wall and object
    short_wall = wall[:10]
    moved = thing - np.array([0.0, 2.1, 0.0])
    assert cluster_points(np.concatenate([short_wall, moved]), split).num_clusters == 1
    with pytest.raises(ValueError, match="oversize_link_scale"):
        dataclasses.replace(CFG, oversize_link_scale=1.0)
