"""PandaSet's ego frame is level (z along the world's up, the LiDAR pose's heading kept), so
the world-frame cuboids are exact yaw-only boxes in it; cuboid labels are checked against
PandaSet's class list; ``large_string`` label columns are read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.argoverse2 import CATEGORY_TO_CLASS
from drivestack.ingest.pandaset import (
    LIDAR_POSE_SENSOR,
    level_world_from_ego,
    read_cuboids,
    read_lidar_poses,
    read_pandaset_frame,
)
from drivestack.kernels import points_in_boxes
from drivestack.structures.labels import ObjectClass

SEQ = "pandaset/002"
ROAD = 7  # annotations/semseg/classes.json


def _rot(axis: int, angle_rad: float) -> np.ndarray:
    """3x3 rotation by ``angle_rad`` about coordinate axis ``axis`` (0 x, 1 y, 2 z)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    i, j = [k for k in range(3) if k != axis]
    m = np.eye(3)
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def _pose(yaw0: float, pitch: float, roll: float, xyz: tuple[float, float, float]) -> SE3:
    """A LiDAR pose (x right, y forward): turned by ``yaw0`` about the world's z, tipped by
    ``pitch`` about its right axis and ``roll`` about its forward axis. Its forward axis
    points along ``yaw0 + pi/2`` on the ground whatever the pitch and roll."""
    m = np.eye(4)
    m[:3, :3] = _rot(2, yaw0) @ _rot(0, pitch) @ _rot(1, roll)
    m[:3, 3] = xyz
    return SE3.from_matrix(m)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-np.pi, np.pi),
    st.floats(-0.5, 0.5),
    st.floats(-0.5, 0.5),
    st.tuples(*[st.floats(-1e3, 1e3)] * 3),
)
def test_level_pose_keeps_origin_and_heading(
    yaw0: float, pitch: float, roll: float, xyz: tuple[float, float, float]
) -> None:
    pose = _pose(yaw0, pitch, roll, xyz)
    level = level_world_from_ego(pose)
    np.testing.assert_allclose(level.translation, xyz, atol=1e-9)
    heading = np.angle(np.exp(1j * (yaw0 + np.pi / 2)))
    assert np.angle(np.exp(1j * (float(level.yaw_rad) - heading))) == pytest.approx(0, abs=1e-9)
    np.testing.assert_allclose(level.rotation[:, 2], [0, 0, 1], atol=1e-12)  # z is up
    # the tilt lives in the mounting: ego_from_lidar's z is the LiDAR's, tipped off up
    ego_from_lidar = level.inverse() @ pose
    # cos(tilt of the LiDAR's z off the ego's up) = cos(pitch) cos(roll)
    assert ego_from_lidar.rotation[2, 2] == pytest.approx(np.cos(pitch) * np.cos(roll), abs=1e-12)


def test_level_pose_hand_computed() -> None:
    # LiDAR forward (+y) along world +x after yaw0 = -90 deg, nose 5 deg up, 3 deg roll
    pose = _pose(-np.pi / 2, np.radians(5), np.radians(3), (10.0, -2.0, 1.5))
    level = level_world_from_ego(pose)
    np.testing.assert_allclose(
        level.as_matrix(), SE3.from_xyz_yaw([10, -2, 1.5], 0).as_matrix(), atol=1e-12
    )
    # a point 20 m ahead on the LiDAR's forward axis is 20 m ahead, 20 sin 5deg up in ego
    ahead = level.inverse().apply(pose.apply([0.0, 20.0, 0.0]))
    np.testing.assert_allclose(
        ahead, [20 * np.cos(np.radians(5)), 0, 20 * np.sin(np.radians(5))], atol=1e-9
    )
    # a batch of poses (as read_lidar_poses returns) gives a batch of level poses
    batch = level_world_from_ego(SE3.from_matrix(np.stack([pose.as_matrix()] * 2)))
    assert batch.batch_shape == (2,) and batch[1].allclose(level)


@pytest.mark.data
def test_real_frames_level_and_counts_match_world(shared_data: Path) -> None:
    seq = shared_data / SEQ
    table = pq.read_table(seq / "annotations/cuboids.parquet").to_pydict()
    cub = {k: np.asarray(v) for k, v in table.items()}
    poses = read_lidar_poses(seq / "lidar/poses.json")
    for index in range(4):
        frame = read_pandaset_frame(seq, index)
        xyz = frame.lidar().xyz_m.astype(np.float64)
        # the road (semseg class Road) 4-20 m away is level in the ego frame
        road = np.load(seq / f"annotations/semseg/{index:02d}.npy") == ROAD
        r = np.linalg.norm(xyz[:, :2], axis=1)
        near = road & (r > 4) & (r < 20)
        design = np.c_[xyz[near, :2], np.ones(int(near.sum()))]
        (a, b, _), *_ = np.linalg.lstsq(design, xyz[near, 2], rcond=None)
        assert int(near.sum()) > 20_000 and np.degrees(np.arctan(np.hypot(a, b))) < 0.5
        # the pose itself is tilted ~2.1 deg: the tilt went to the mounting
        mount = frame.ego_from_sensor[LIDAR_POSE_SENSOR]
        assert 1.5 < np.degrees(np.arccos(mount.rotation[2, 2])) < 3.0
        assert frame.world_from_ego is not None
        np.testing.assert_allclose(frame.world_from_ego.translation, poses[index].translation)
        # in-box counts in ego equal those of the world-frame cuboids on the world points
        world = np.load(seq / f"lidar/{index:02d}.npz")["xyz"].astype(np.float64)
        rows = np.flatnonzero((cub["frame"] == index) & (cub["cuboids.sensor_id"] != 1))
        assert frame.label_ids == tuple(cub["uuid"][rows])
        expected = []
        for k in rows:
            d = world - [cub["position.x"][k], cub["position.y"][k], cub["position.z"][k]]
            c, s = np.cos(cub["yaw"][k]), np.sin(cub["yaw"][k])
            along_x, along_y = d[:, 0] * c + d[:, 1] * s, -d[:, 0] * s + d[:, 1] * c
            expected.append(int(np.count_nonzero(
                (np.abs(along_x) <= cub["dimensions.x"][k] / 2)
                & (np.abs(along_y) <= cub["dimensions.y"][k] / 2)
                & (np.abs(d[:, 2]) <= cub["dimensions.z"][k] / 2)
            )))  # fmt: skip
        assert frame.labels is not None
        counts = points_in_boxes(xyz, frame.labels.to_array7()).sum(axis=0)
        assert counts.tolist() == expected and max(expected) > 5000


_COLUMNS = {"frame": [0, 0, 1], "uuid": ["a", "b", "a"], "yaw": [0.0, 0.5, 0.0],
            "position.x": [1.0, 2.0, 3.0], "position.y": [0.0, 1.0, 0.0],
            "position.z": [0.5, 0.5, 0.5], "dimensions.x": [2.0, 0.5, 2.0],
            "dimensions.y": [4.0, 0.5, 4.0], "dimensions.z": [1.5, 1.0, 1.5],
            "cuboids.sensor_id": [-1, -1, -1]}  # fmt: skip


def _write_cuboids(path: Path, labels: list[str], text: pa.DataType | None = None) -> Path:
    text = text or pa.string()
    arrays = {k: pa.array(v) for k, v in _COLUMNS.items()}
    arrays["uuid"] = pa.array(_COLUMNS["uuid"], type=text)
    arrays["label"] = pa.array(labels, type=text)
    pq.write_table(pa.table(arrays), path)
    return path


def test_labels_mapped_unmapped_and_refused(tmp_path: Path) -> None:
    path = _write_cuboids(tmp_path / "c.parquet", ["Pylons", "Signs", "Tram / Subway"])
    cub = read_cuboids(path)
    boxes = cub.boxes(0, SE3.identity())
    assert boxes.label.tolist() == [int(ObjectClass.TRAFFIC_CONE), int(ObjectClass.UNKNOWN)]
    assert cub.boxes(1, SE3.identity()).label.tolist() == [int(CATEGORY_TO_CLASS["RAILED_VEHICLE"])]
    for bad in ("car", "Road Barrier", "Construction Vehicle", ""):
        path = _write_cuboids(tmp_path / "bad.parquet", ["Car", "Road Barriers", bad])
        with pytest.raises(DataError, match="unknown PandaSet label") as err:
            read_cuboids(path)
        assert err.value.path == str(path) and err.value.field == "label"
        assert err.value.record == "row 2 (frame 1, uuid a)"


def test_large_string_columns_read_as_string(tmp_path: Path) -> None:
    labels = ["Car", "Road Barriers", "Pedestrian"]
    small = read_cuboids(_write_cuboids(tmp_path / "s.parquet", labels))
    large = read_cuboids(_write_cuboids(tmp_path / "l.parquet", labels, pa.large_string()))
    assert pq.read_schema(tmp_path / "l.parquet").field("label").type == pa.large_string()
    assert large.label.tolist() == small.label.tolist() == labels
    assert large.uuid.tolist() == ["a", "b", "a"]
    np.testing.assert_array_equal(large.boxes_world, small.boxes_world)
    assert large.boxes(0, SE3.identity()).label.tolist() == [
        int(ObjectClass.CAR),
        int(ObjectClass.BARRIER),
    ]
    # another text type (binary) is still refused by name
    arrays = {k: pa.array(v) for k, v in _COLUMNS.items()}
    arrays["label"] = pa.array([b"Car"] * 3, type=pa.binary())
    pq.write_table(pa.table(arrays), tmp_path / "b.parquet")
    with pytest.raises(DataError, match="unexpected column type") as err:
        read_cuboids(tmp_path / "b.parquet")
    assert err.value.field == "label"
