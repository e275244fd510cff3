"""SE3 refuses non-rigid matrices and mismatched shapes with named errors (walkthrough items 3, 8)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.transforms import SE3, check_rigid_matrix, quaternion_to_rotation_matrix

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
quaternions = st.tuples(finite, finite, finite, finite).filter(
    lambda q: float(np.linalg.norm(q)) > 1e-3
)
translations = st.tuples(finite, finite, finite)


def test_from_matrix_refuses_a_bad_last_row():
    bad = np.eye(4)
    bad[3] = [1.0, 1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match=r"matrix must have last row \[0, 0, 0, 1\].*got \[1\.0"):
        SE3.from_matrix(bad)
    projective = np.eye(4)
    projective[3, 3] = 2.0
    with pytest.raises(ValueError, match="last row"):
        SE3.from_matrix(projective)
    batch = np.stack([np.eye(4), bad])
    with pytest.raises(ValueError, match=r"\(matrix \(1,\)\)"):
        SE3.from_matrix(batch)
    # (3, 4) [R|t] has no last row to check; a rounding-sized error is accepted
    assert SE3.from_matrix(np.eye(4)[:3]).allclose(SE3.identity())
    near = np.eye(4)
    near[3, :3] = 1e-9
    assert SE3.from_matrix(near).allclose(SE3.identity())


def test_from_matrix_refuses_scale_shear_and_reflection():
    for block in (
        np.diag([2.0, 2.0, 2.0]),
        np.diag([1.0, 1.0, -1.0]),
        np.eye(3) + 0.1 * np.eye(3, k=1),
    ):
        m = np.eye(4)
        m[:3, :3] = block
        with pytest.raises(ValueError, match="not a proper orthonormal"):
            SE3.from_matrix(m)


@settings(max_examples=80, deadline=None)
@given(q=quaternions, t=translations)
def test_rigid_matrices_round_trip(q, t):
    pose = SE3(quaternion_to_rotation_matrix(q), np.array(t))
    again = SE3.from_matrix(pose.as_matrix())
    assert again.allclose(pose)
    check_rigid_matrix(pose.as_matrix(), "m")  # no error


@settings(max_examples=80, deadline=None)
@given(
    q=quaternions,
    t=translations,
    scale=st.floats(1.001, 10.0) | st.floats(0.01, 0.999),
    row=st.tuples(finite, finite, finite).filter(lambda r: max(map(abs, r)) > 1e-3),
)
def test_non_rigid_matrices_are_refused(q, t, scale, row):
    m = SE3(quaternion_to_rotation_matrix(q), np.array(t)).as_matrix()
    scaled = m.copy()
    scaled[:3, :3] *= scale
    with pytest.raises(ValueError):
        SE3.from_matrix(scaled)
    with pytest.raises(ValueError, match="dst_from_src is not a rigid transform"):
        check_rigid_matrix(scaled, "dst_from_src")
    skewed_row = m.copy()
    skewed_row[3, :3] = row
    with pytest.raises(ValueError, match="last row"):
        SE3.from_matrix(skewed_row)


def test_mismatched_batch_shapes_are_named():
    with pytest.raises(ValueError, match=r"batch shapes \(2,\) and \(3,\) that do not broadcast"):
        SE3(np.stack([np.eye(3)] * 2), np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"xyz \(2, 3\) and yaw_rad \(3,\) do not broadcast"):
        SE3.from_xyz_yaw(np.zeros((2, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"xyz must have shape \(\.\.\., 3\), got \(2,\)"):
        SE3.from_xyz_yaw(np.zeros(2), 0.0)
    # broadcasting that works still works, both ways
    assert SE3(np.eye(3), np.zeros((5, 3))).batch_shape == (5,)
    assert SE3(np.stack([np.eye(3)] * 4), np.zeros(3)).batch_shape == (4,)
    assert SE3.from_xyz_yaw(np.zeros((2, 3)), 0.0).batch_shape == (2,)


def test_compose_takes_an_se3():
    pose = SE3.identity()
    with pytest.raises(TypeError, match=r"SE3.compose takes an SE3, got ndarray; .*from_matrix"):
        pose.compose(np.eye(4))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"SE3\.compose takes an SE3"):
        pose @ np.eye(4)  # type: ignore[operator]
    with pytest.raises(ValueError, match=r"batch shapes \(2,\) and \(3,\) do not broadcast"):
        SE3.identity((2,)).compose(SE3.identity((3,)))
