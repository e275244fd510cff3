"""SensorFrame checks its transforms and labels at construction, and prints a short repr."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame


def _cloud(n: int = 5, timestamp_ns: int = 0) -> PointCloud:
    return PointCloud(np.zeros((n, 3), np.float32), "lidar", timestamp_ns)


def test_a_matrix_extrinsic_names_the_sensor_and_the_constructor() -> None:
    with pytest.raises(
        TypeError,
        match=r"SensorFrame\.ego_from_sensor\['lidar'\] must be an SE3, got ndarray; "
        r"build one with SE3\.from_matrix",
    ):
        SensorFrame(0, lidars={"lidar": _cloud()}, ego_from_sensor={"lidar": np.eye(4)})  # type: ignore[dict-item]


def test_a_matrix_pose_names_world_from_ego() -> None:
    with pytest.raises(
        TypeError, match=r"SensorFrame\.world_from_ego must be an SE3, got ndarray; .*from_matrix"
    ):
        SensorFrame(0, world_from_ego=np.eye(4))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"world_from_ego must be an SE3, got str$"):
        SensorFrame(0, world_from_ego="identity")  # type: ignore[arg-type]


@pytest.mark.parametrize("argument", ["world_from_ego", "ego_from_sensor"])
def test_a_batch_of_transforms_is_rejected(argument: str) -> None:
    batch = SE3.identity((2,))
    kwargs = (
        {"world_from_ego": batch}
        if argument == "world_from_ego"
        else {"ego_from_sensor": {"lidar": batch}}
    )
    with pytest.raises(
        ValueError, match=rf"{argument}.* must be a single SE3, got a batch of shape \(2,\)"
    ):
        SensorFrame(0, **kwargs)  # type: ignore[arg-type]


def test_labels_must_be_boxes() -> None:
    with pytest.raises(
        TypeError, match=r"SensorFrame\.labels must be a Boxes3D or None, got ndarray"
    ):
        SensorFrame(0, labels=np.zeros((2, 7)))  # type: ignore[arg-type]


def test_from_matrix_is_accepted() -> None:
    frame = SensorFrame(
        0, ego_from_sensor={"lidar": SE3.from_matrix(np.eye(4))}, world_from_ego=SE3.identity()
    )
    assert frame.ego_from_sensor["lidar"].allclose(SE3.identity())


def test_repr_is_a_short_summary() -> None:
    labels = Boxes3D.from_array7(np.ones((300, 7)), "lidar", 7, label=np.ones(300, np.int64))
    frame = SensorFrame(
        7,
        lidars={"lidar": _cloud(100_000, 7)},
        ego_from_sensor={"lidar": SE3.identity()},
        world_from_ego=SE3.identity(),
        labels=labels,
        source="log:7",
    )
    text = repr(frame)
    assert len(text) < 300
    assert text.startswith("SensorFrame(timestamp_ns=7, lidars={'lidar': 100000 points in 'lidar'")
    assert "world_from_ego=set" in text and "labels=300 boxes" in text and "log:7" in text
    assert "cameras" not in text and "map priors" not in text
