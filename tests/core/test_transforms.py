"""SE3 / SE2: composition, inversion, quaternions, yaw, batching (hand cases and properties)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.transforms import (
    SE2,
    SE3,
    nearest_rotation,
    quaternion_to_rotation_matrix,
    wrap_angle,
    yaw_to_rotation_matrix,
)

angle = st.floats(-math.pi, math.pi, allow_nan=False)
coord = st.floats(-100, 100, allow_nan=False)
quat = st.tuples(*[st.floats(-1, 1, allow_nan=False)] * 4).filter(lambda q: np.linalg.norm(q) > 0.1)


def test_hand_computed_apply_and_compose():
    ego_from_lidar = SE3.from_xyz_yaw([1.0, 0.0, 2.0], math.pi / 2)
    np.testing.assert_allclose(
        ego_from_lidar.apply([[1.0, 0.0, 0.0]]), [[1.0, 1.0, 2.0]], atol=1e-12
    )
    world_from_ego = SE3.from_xyz_yaw([10.0, 0.0, 0.0], math.pi)
    world_from_lidar = world_from_ego @ ego_from_lidar
    np.testing.assert_allclose(
        world_from_lidar.apply([1.0, 0.0, 0.0]), [9.0, -1.0, 2.0], atol=1e-12
    )
    assert float(world_from_lidar.yaw_rad) == pytest.approx(-math.pi / 2)


def test_quaternion_hand_case():
    # 90 degrees about z
    rot = quaternion_to_rotation_matrix([math.cos(math.pi / 4), 0, 0, math.sin(math.pi / 4)])
    np.testing.assert_allclose(rot @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    with pytest.raises(ValueError, match="zero-norm"):
        quaternion_to_rotation_matrix([0, 0, 0, 0])


@settings(max_examples=60, deadline=None)
@given(q1=quat, q2=quat, t1=st.tuples(coord, coord, coord), t2=st.tuples(coord, coord, coord))
def test_compose_inverse_properties(q1, q2, t1, t2):
    a = SE3.from_quaternion(q1, t1)
    b = SE3.from_quaternion(q2, t2)
    assert (a @ a.inverse()).allclose(SE3.identity(), atol=1e-9)
    pts = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]])
    np.testing.assert_allclose((a @ b).apply(pts), a.apply(b.apply(pts)), atol=1e-8)
    np.testing.assert_allclose(
        (a @ b).inverse().as_matrix(), (b.inverse() @ a.inverse()).as_matrix(), atol=1e-9
    )
    back = SE3.from_quaternion(a.as_quaternion(), a.translation)
    assert back.allclose(a, atol=1e-9)
    assert SE3.from_matrix(a.as_matrix()).allclose(a)


@settings(max_examples=60, deadline=None)
@given(yaw1=angle, yaw2=angle, x=coord, y=coord)
def test_se2_matches_se3_and_inverts(yaw1, yaw2, x, y):
    a = SE2(yaw1, [x, y])
    b = SE2(yaw2, [y, x])
    assert (a @ a.inverse()).allclose(SE2.identity(), atol=1e-9)
    pts = np.array([[1.0, 2.0], [-3.0, 0.5]])
    np.testing.assert_allclose((a @ b).apply(pts), a.apply(b.apply(pts)), atol=1e-8)
    np.testing.assert_allclose(
        a.to_se3().apply(np.c_[pts, np.zeros(2)])[:, :2], a.apply(pts), atol=1e-9
    )
    assert a.to_se3().to_se2().allclose(a, atol=1e-9)


def test_batched_transforms():
    yaws = np.array([0.0, math.pi / 2, math.pi])
    poses = SE3.from_xyz_yaw(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=float), yaws)
    assert poses.batch_shape == (3,)
    one_point_each = poses.apply(np.array([[1.0, 0, 0]] * 3))
    np.testing.assert_allclose(one_point_each, [[1, 0, 0], [1, 1, 0], [-1, 1, 0]], atol=1e-12)
    sets = poses.apply(np.zeros((3, 5, 3)))
    assert sets.shape == (3, 5, 3)
    np.testing.assert_allclose(poses[1].translation, [1, 0, 0])
    np.testing.assert_allclose(
        poses.inverse().compose(poses).rotation, np.broadcast_to(np.eye(3), (3, 3, 3)), atol=1e-12
    )


def test_invalid_transforms_are_rejected():
    with pytest.raises(ValueError, match="orthonormal"):
        SE3(np.diag([1.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="orthonormal"):
        SE3(np.diag([1.0, 1.0, -1.0]))
    with pytest.raises(ValueError, match="NaN"):
        SE3(np.eye(3), [np.nan, 0, 0])
    with pytest.raises(ValueError, match="shape"):
        SE3.from_matrix(np.eye(3))


def test_wrap_angle_range():
    wrapped = wrap_angle(np.array([math.pi, -math.pi, 3 * math.pi, 0.1]))
    np.testing.assert_allclose(wrapped, [-math.pi, -math.pi, -math.pi, 0.1])


def test_single_transform_is_truthy():
    pose = SE3.identity()
    assert (pose or None) is pose
    with pytest.raises(TypeError):
        len(pose)


def test_rotate_xy_hand_case_and_bad_shape():
    quarter_turn = SE3.from_xyz_yaw([5.0, 6.0, 7.0], math.pi / 2)  # translation ignored
    np.testing.assert_allclose(quarter_turn.rotate_xy([[1.0, 2.0]]), [[-2.0, 1.0]], atol=1e-12)
    with pytest.raises(ValueError, match="vectors_xy"):
        quarter_turn.rotate_xy(np.zeros((2, 3)))


@settings(max_examples=50, deadline=None)
@given(quat, st.lists(st.tuples(coord, coord), min_size=0, max_size=6))
def test_rotate_xy_is_bit_identical_to_rotate_with_zero_z(q, vectors):
    # a general 3D rotation too: the z column meets an exact zero, so the sums are unchanged
    pose = SE3(quaternion_to_rotation_matrix(q), np.array([1.0, -2.0, 3.0]))
    v = np.array(vectors, dtype=np.float64).reshape(-1, 2)
    v3 = np.concatenate([v, np.zeros((v.shape[0], 1))], axis=1)
    expected = pose.rotate(v3)[:, :2]
    got = pose.rotate_xy(v)
    assert got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()  # bit-identical, signs of zeros included


def test_nearest_rotation_projects_onto_proper_rotations() -> None:
    rot = yaw_to_rotation_matrix(0.7)
    np.testing.assert_allclose(nearest_rotation(rot), rot, atol=1e-15)
    # a rotation printed to 7 digits comes back orthonormal and within the rounding
    rounded = np.round(rot, 7)
    fixed = nearest_rotation(rounded)
    np.testing.assert_allclose(fixed @ fixed.T, np.eye(3), atol=1e-15)
    np.testing.assert_allclose(fixed, rot, atol=1e-7)
    # a reflection gets the nearest proper rotation (det +1; its smallest singular direction,
    # z here, flipped), batched
    mirror = np.diag([3.0, 2.0, -1.0])
    both = nearest_rotation(np.stack([rot, mirror]))
    assert both.shape == (2, 3, 3)
    np.testing.assert_allclose(np.linalg.det(both), [1.0, 1.0])
    np.testing.assert_allclose(both[1], np.eye(3), atol=1e-15)


def test_a_nearly_orthonormal_rotation_is_inverted_exactly() -> None:
    # the constructor accepts R^T R within 1e-6 of I (rotations read from text files); the
    # transpose as inverse left T @ T.inverse() 0.98 m / 1.96 m off at map coordinates
    rot = np.eye(3) * (1 + 4.9e-7)
    t = SE3(rot, [1e6, 2e6, 50.0])
    np.testing.assert_allclose((t @ t.inverse()).translation, 0.0, atol=1e-6)
    np.testing.assert_allclose((t.inverse() @ t).rotation, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(t.inverse().apply(t.apply([10.0, 0.0, 0.0])), [10.0, 0, 0])
    # a batch mixing an exact and a near rotation; the exact one keeps its transpose bit for bit
    exact = SE3.from_xyz_yaw([1e6, 2e6, 0.0], 0.3)
    both = SE3(np.stack([exact.rotation, rot]), np.stack([exact.translation, t.translation]))
    inv = both.inverse()
    np.testing.assert_array_equal(inv.rotation[0], exact.rotation.T)
    np.testing.assert_array_equal(inv.translation[0], exact.inverse().translation)
    np.testing.assert_allclose((both @ inv).translation, 0.0, atol=1e-6)
