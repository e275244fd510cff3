"""Transforms neither freeze nor share the caller's arrays, wrap_angle stays in [-pi, pi),
SE2 checks its input like SE3, and array shapes name their sizes (walkthrough findings 1, 3,
6, 7, 8 and 11)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.arrays import check_array, read_only
from drivestack.core.transforms import SE2, SE3, wrap_angle
from drivestack.kernels import center_distances

# -- SE3 keeps copies of the caller's arrays ----------------------------------------------------


def test_from_xyz_yaw_leaves_the_callers_array_writeable_and_unshared() -> None:
    pos = np.array([1.0, 2.0, 3.0])
    transform = SE3.from_xyz_yaw(pos, 0.0)
    pos += 1.0  # raised "output array is read-only" before
    np.testing.assert_array_equal(pos, [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(transform.translation, [1.0, 2.0, 3.0])
    assert not transform.translation.flags.writeable


def test_a_row_view_of_the_callers_buffer_is_copied() -> None:
    poses = np.zeros((5, 4))
    poses[:, 0] = np.arange(5)
    transforms = [SE3.from_xyz_yaw(poses[i, :3], poses[i, 3]) for i in range(5)]
    poses[:, 0] += 100.0
    np.testing.assert_array_equal(transforms[2].translation, [2.0, 0.0, 0.0])
    assert poses.flags.writeable


def test_from_matrix_does_not_follow_later_edits_of_the_matrix() -> None:
    matrix = np.eye(4)
    matrix[:3, 3] = [1.0, 2.0, 3.0]
    transform = SE3.from_matrix(matrix)
    matrix[0, 3] = 100.0
    matrix[:3, :3] = 0.0
    np.testing.assert_array_equal(transform.translation, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(transform.rotation, np.eye(3))


def test_a_read_only_view_is_handed_over_without_a_copy() -> None:
    buffer = np.zeros((2, 3))
    view = buffer[0]
    view.setflags(write=False)  # read-only: handed over (the ROS decoders' zero-copy views)
    transform = SE3(np.eye(3), view)
    assert transform.translation is view


def test_another_transforms_frozen_arrays_are_kept_without_a_copy() -> None:
    first = SE3.from_xyz_yaw([1.0, 2.0, 3.0], 0.5)
    second = SE3(first.rotation, first.translation)
    assert second.rotation is first.rotation and second.translation is first.translation
    batch = SE3.from_xyz_yaw(np.zeros((3, 3)), np.zeros(3))
    row = batch[1]  # views of the batch's frozen arrays: read-only all the way down
    assert np.shares_memory(row.translation, batch.translation)
    assert np.shares_memory(row.rotation, batch.rotation)


def test_read_only_keeps_buffers_nobody_can_write() -> None:
    data = np.frombuffer(np.arange(3.0).tobytes(), dtype=np.float64)  # base: bytes
    assert read_only(data, data) is data
    fresh = np.arange(3.0)
    assert read_only(fresh, [0.0, 1.0, 2.0]) is fresh  # converted here: frozen in place
    assert not fresh.flags.writeable


# -- wrap_angle ---------------------------------------------------------------------------------


def test_wrap_angle_never_returns_plus_pi() -> None:
    below = np.nextafter(-np.pi, -np.inf)  # gave +3.141592653589793 before
    wrapped = wrap_angle(below)
    assert wrapped == -np.pi and type(wrapped) is np.float64
    out = wrap_angle(np.array([below, np.pi, -np.pi, 3.0 * np.pi]))
    np.testing.assert_array_equal(out, [-np.pi, -np.pi, -np.pi, -np.pi])


def test_wrap_angle_is_unchanged_on_other_angles() -> None:
    angles = np.random.default_rng(0).uniform(-50.0, 50.0, 10_000)
    old = (angles + np.pi) % (2.0 * np.pi) - np.pi
    assert np.all(old < np.pi)
    np.testing.assert_array_equal(wrap_angle(angles), old)  # bit for bit
    assert wrap_angle(0.5) == 0.5 and wrap_angle(np.float64(0.5)) == 0.5


# -- SE2 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.diag([2.0, 2.0, 1.0]), r"2x2 block is not a rotation"),
        (np.diag([1.0, -1.0, 1.0]), r"2x2 block is not a rotation"),
        ([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [5.0, 5.0, 5.0]], r"last row \[0, 0, 1\]"),
        (np.stack([np.eye(3), np.diag([1.0, 1.0, 2.0])]), r"last row \[0, 0, 1\].*matrix \(1,\)"),
        (np.zeros((3, 4)), r"shape \(\.\.\., 3, 3\)"),
    ],
)
def test_se2_from_matrix_refuses_non_rigid_matrices(matrix: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SE2.from_matrix(matrix)


def test_se2_from_matrix_accepts_rigid_matrices_as_before() -> None:
    c, s = np.cos(0.3), np.sin(0.3)
    matrix = np.array([[c, -s, 4.0], [s, c, 5.0], [0.0, 0.0, 1.0]])
    transform = SE2.from_matrix(matrix)
    assert transform.yaw_rad == wrap_angle(np.arctan2(s, c))  # as SE2 stores any yaw
    np.testing.assert_array_equal(transform.translation, [4.0, 5.0])
    assert SE2.from_matrix(np.zeros((0, 3, 3))).batch_shape == (0,)


def test_se2_compose_names_a_wrong_argument() -> None:
    with pytest.raises(TypeError, match=r"SE2\.compose takes an SE2, got SE3"):
        SE2.identity().compose(SE3.identity())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"got ndarray; build one with SE2\.from_matrix"):
        SE2.identity().compose(np.eye(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"SE2\.compose: batch shapes \(2,\) and \(3,\)"):
        SE2.identity((2,)).compose(SE2.identity((3,)))


def test_se2_names_batch_shapes_that_do_not_broadcast() -> None:
    with pytest.raises(
        ValueError, match=r"yaw_rad \(3,\) and translation \(2, 2\) have batch shapes \(3,\)"
    ):
        SE2(np.zeros(3), np.zeros((2, 2)))


# -- shapes named in messages -------------------------------------------------------------------


def test_center_distances_names_the_point_dimension() -> None:
    with pytest.raises(ValueError, match=r"a must have shape \(N, D\), got \(3,\)"):
        center_distances(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"b must have shape \(M, 3\), got \(2, 2\)"):
        center_distances(np.zeros((2, 3)), np.zeros((2, 2)))


def test_check_array_takes_named_sizes_as_any_size() -> None:
    arr = np.zeros((4, 5))
    assert check_array(arr, "x", (None, "D")) is arr
    with pytest.raises(ValueError, match=r"x must have shape \(K, 2\), got \(4, 5\)"):
        check_array(arr, "x", ("K", 2))
