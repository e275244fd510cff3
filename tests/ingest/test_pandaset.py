"""PandaSet reader: world -> ego conversion checked by boxes lining up with points."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.pandaset import (
    level_world_from_ego,
    list_pandaset_frames,
    read_cuboids,
    read_lidar_npz,
    read_lidar_poses,
    read_pandaset_frame,
)
from drivestack.kernels import points_in_boxes

SEQ = "pandaset/002"


@pytest.mark.data
def test_real_cuboid_counts(shared_data: Path) -> None:
    cub = read_cuboids(shared_data / SEQ / "annotations/cuboids.parquet")
    assert len(cub) == 9365 and len(np.unique(cub.uuid)) == 128
    assert int((cub.sensor_id != 1).sum()) == 7530
    first4 = np.isin(cub.frame, [0, 1, 2, 3])
    assert int(first4.sum()) == 456 and int((first4 & (cub.sensor_id != 1)).sum()) == 367
    counts = Counter(cub.label[first4 & (cub.sensor_id != 1)].tolist())
    assert (
        counts["Car"] == 275
        and counts["Pedestrian with Object"] == 20
        and counts["Motorcycle"] == 4
    )


@pytest.mark.data
def test_real_boxes_line_up_with_points(shared_data: Path) -> None:
    seq = shared_data / SEQ
    assert list_pandaset_frames(seq) == [0, 1, 2, 3]
    for index in (0, 3):
        frame = read_pandaset_frame(seq, index)
        cloud, boxes = frame.lidar(), frame.labels
        assert 165_537 <= len(cloud) <= 166_782 and boxes is not None and boxes.frame == "ego"
        xyz = cloud.xyz_m.astype(np.float64)
        arr = boxes.to_array7()
        inside = points_in_boxes(xyz, arr).sum(axis=0)
        swapped = arr.copy()
        swapped[:, [3, 4]] = swapped[:, [4, 3]]
        inside_swapped = points_in_boxes(xyz, swapped).sum(axis=0)
        assert np.median(inside) >= 30 and np.median(inside) > 1.7 * np.median(inside_swapped)
        assert int((inside == 0).sum()) <= 6
        # the road (lowest points nearby) lies about 0.4 m below the pose origin
        near = np.linalg.norm(xyz[:, :2], axis=1) < 10
        assert -0.6 < float(np.percentile(xyz[near, 2], 5)) < -0.2
    # ego frame x forward: the car drives ~21.7 m along +x over the 80 logged poses
    poses = read_lidar_poses(seq / "lidar/poses.json")
    ego_from_world = level_world_from_ego(poses[0]).inverse()
    travelled = ego_from_world.apply(poses[79].translation)
    assert travelled[0] == pytest.approx(21.7, abs=0.2) and abs(travelled[1]) < 0.2


def test_bad_npz(tmp_path: Path) -> None:
    np.savez(
        tmp_path / "a.npz",
        xyz=np.zeros((3, 3), np.float32),
        intensity=np.zeros(3, np.uint8),
        t=np.zeros(3),
    )
    with pytest.raises(DataError) as err:
        read_lidar_npz(tmp_path / "a.npz", SE3.identity(), timestamp_ns=0)
    assert err.value.field == "d"
    np.savez(
        tmp_path / "b.npz",
        xyz=np.array([[0, 0, np.nan]], np.float32),
        intensity=np.zeros(1, np.uint8),
        t=np.zeros(1),
        d=np.zeros(1, np.uint8),
    )
    with pytest.raises(DataError, match="NaN"):
        read_lidar_npz(tmp_path / "b.npz", SE3.identity(), timestamp_ns=0)


def _write_npz(path: Path, members: dict[str, bytes]) -> Path:
    """An npz (a zip) of the given member names and bytes."""
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _npy(array: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array(buf, array)
    return buf.getvalue()


def _small_arrays() -> dict[str, np.ndarray]:
    return {
        "xyz": np.zeros((3, 3), np.float32),
        "intensity": np.zeros(3, np.uint8),
        "t": np.zeros(3),
        "d": np.zeros(3, np.uint8),
    }


def test_an_npz_array_header_claiming_more_than_it_stores_is_refused(tmp_path: Path) -> None:
    # numpy allocates the declared shape before reading: a header of 2e9 points asked for
    # 22 GiB and crashed (or failed only later, by luck of lazy allocation)
    import io

    members = {f"{k}.npy": _npy(v) for k, v in _small_arrays().items()}
    buf = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": (2_000_000_000, 3)}
    np.lib.format.write_array_header_1_0(buf, header)
    members["xyz.npy"] = buf.getvalue() + bytes(36)
    path = _write_npz(tmp_path / "lie.npz", members)
    with pytest.raises(DataError) as err:
        read_lidar_npz(path, SE3.identity(), timestamp_ns=0)
    assert err.value.path == str(path) and err.value.field == "xyz"
    assert "declares shape (2000000000, 3) of float32 (24000000000 bytes)" in str(err.value)


def test_npz_members_without_the_npy_suffix_read_as_numpy_reads_them(tmp_path: Path) -> None:
    members = {k: _npy(v) for k, v in _small_arrays().items()}  # (KeyError 'xyz.npy' before)
    path = _write_npz(tmp_path / "plain.npz", members)
    assert len(read_lidar_npz(path, SE3.identity(), timestamp_ns=0)) == 3
