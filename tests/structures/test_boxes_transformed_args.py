"""Boxes3D.transformed names a wrong transform argument; Boxes3D prints a short repr."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass


def _boxes() -> Boxes3D:
    return Boxes3D.from_array7(
        [[1.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0], [5.0, 1.0, 0.0, 0.8, 0.6, 1.7, 0.3]],
        "lidar",
        11,
        label=[int(ObjectClass.CAR), int(ObjectClass.PEDESTRIAN)],
        velocity_mps=[[1.0, 0.0], [0.0, 0.0]],
    )


def test_a_matrix_is_not_a_transform() -> None:
    with pytest.raises(
        TypeError,
        match=r"Boxes3D\.transformed dst_from_src must be an SE3, got ndarray; .*SE3\.from_matrix",
    ):
        _boxes().transformed(np.eye(4), "ego")  # type: ignore[arg-type]


def test_a_batch_of_transforms_is_rejected() -> None:
    with pytest.raises(
        ValueError, match=r"dst_from_src must be a single SE3, got a batch of shape \(2,\)"
    ):
        _boxes().transformed(SE3.identity((2,)), "ego")


def test_velocity_is_rotated_as_a_free_vector() -> None:
    moved = _boxes().transformed(SE3.from_xyz_yaw([10.0, 5.0, 0.0], np.pi / 2), "ego")
    np.testing.assert_allclose(moved.velocity_mps, [[0.0, 1.0], [0.0, 0.0]], atol=1e-12)
    np.testing.assert_allclose(moved.center_m[0], [10.0, 6.0, 0.0], atol=1e-12)


def test_repr_is_a_short_summary() -> None:
    many = Boxes3D.from_array7(np.ones((500, 7)), "ego", 3, label=np.ones(500, np.int64))
    assert repr(many) == (
        "Boxes3D(n=500, frame='ego', timestamp_ns=3, classes={car: 500}, nonzero_velocity=0)"
    )
    assert "pedestrian: 1" in repr(_boxes()) and "nonzero_velocity=1" in repr(_boxes())
    assert repr(Boxes3D.empty("ego")).startswith("Boxes3D(n=0, frame='ego'")
