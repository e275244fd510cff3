"""The Velodyne azimuth window (``min_angle_deg`` -> ``max_angle_deg``, clockwise from +x seen
from above), the calibration table's laser count against the sensor's, and the documented
``return_type`` encoding.

The window is checked three ways: on hand-placed points; per quadrant on a real VLP-16 scan
against the same scan decoded whole (a quadrant-aligned window keeps exactly the full scan's
points of its quadrants, and none of the others); and, for nebula's own 270 -> 90 setting of
the VLP-32C recording, against nebula's decoded reference cloud.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree

from drivestack.ingest.pcd import read_pcd
from drivestack.ingest.rosbag.velodyne import (
    CalibrationMismatchError,
    VelodyneConfig,
    VelodyneDecoder,
    azimuth_window_mask,
    point_azimuth_deg,
    read_velodyne_bag,
)
from drivestack.structures.point_cloud import PointCloud

QUADRANT_EDGES_DEG = [0, 90, 180, 270, 360]


def points_at(azimuths_cw_deg: list[int]) -> np.ndarray:
    """``(N, 3)`` points 10 m out at the given azimuths (clockwise from +x)."""
    rad = np.radians(azimuths_cw_deg)
    return np.stack([10 * np.cos(rad), -10 * np.sin(rad), np.zeros_like(rad)], axis=1)


@pytest.mark.parametrize(
    ("window", "kept"),
    [
        ((0.0, 360.0), [10, 90, 100, 190, 280, 350]),
        ((0.0, 90.0), [10]),  # 90 itself belongs to the next quadrant: [min, max)
        ((90.0, 180.0), [90, 100]),
        ((270.0, 360.0), [280, 350]),
        ((180.0, 360.0), [190, 280, 350]),
        ((270.0, 90.0), [10, 280, 350]),
        ((315.0, 45.0), [10, 350]),
        ((350.0, 10.0), [350]),
    ],
)
def test_window_keeps_the_clockwise_sector_from_min_to_max(window, kept) -> None:
    azimuths = [10, 90, 100, 190, 280, 350]
    xyz = points_at(azimuths)
    np.testing.assert_allclose(point_azimuth_deg(xyz), azimuths, atol=1e-9)
    config = VelodyneConfig(min_angle_deg=window[0], max_angle_deg=window[1])
    mask = azimuth_window_mask(xyz, config.min_angle_deg, config.window_width_deg)
    assert [a for a, k in zip(azimuths, mask, strict=True) if k] == kept


@pytest.mark.parametrize("window", [(90.0, 90.0), (0.0, 0.0), (-45.0, 45.0), (0.0, 400.0)])
def test_an_empty_or_out_of_range_window_is_refused(window) -> None:
    with pytest.raises(ValueError, match="min_angle_deg"):
        VelodyneConfig(min_angle_deg=window[0], max_angle_deg=window[1])


def quadrant_counts(cloud: PointCloud) -> list[int]:
    return np.histogram(point_azimuth_deg(cloud.xyz_m), bins=QUADRANT_EDGES_DEG)[0].tolist()


def nebula(shared_data: Path) -> Path:
    return shared_data / "ros_bags/nebula_velodyne_ros2"


def last_vlp16_scan(
    shared_data: Path, min_angle_deg: float = 0.0, max_angle_deg: float = 360.0
) -> PointCloud:
    root = nebula(shared_data)
    config = VelodyneConfig(
        calibration=root / "calibration/VLP16.yaml",
        min_range_m=0.3,
        max_range_m=300.0,
        min_angle_deg=min_angle_deg,
        max_angle_deg=max_angle_deg,
    )
    return list(read_velodyne_bag(root / "vlp16/1673400471837873222", config))[-1]


@pytest.mark.data
@pytest.mark.parametrize(
    ("window", "quadrants"),
    [
        ((0.0, 90.0), [0]),
        ((90.0, 180.0), [1]),
        ((180.0, 270.0), [2]),
        ((270.0, 360.0), [3]),
        ((0.0, 180.0), [0, 1]),
        ((180.0, 360.0), [2, 3]),
        ((270.0, 90.0), [3, 0]),
    ],
)
def test_window_per_quadrant_against_the_full_scan(shared_data: Path, window, quadrants) -> None:
    """Before the fix 270 -> 360 kept quadrants 0..2 (12 580 points) and 180 -> 360 kept
    quadrants 0 and 1 (7 615): the complement of what was asked."""
    full = last_vlp16_scan(shared_data)
    assert quadrant_counts(full) == [3474, 4141, 4965, 2236]
    part = last_vlp16_scan(shared_data, min_angle_deg=window[0], max_angle_deg=window[1])
    expected = [n if q in quadrants else 0 for q, n in enumerate(quadrant_counts(full))]
    assert quadrant_counts(part) == expected
    # the same points, not only as many: every kept point is one of the full scan's
    distance, _ = cKDTree(full.xyz_m).query(part.xyz_m)
    assert distance.max() == 0.0


@pytest.mark.data
def test_a_window_across_zero_not_on_quadrant_edges(shared_data: Path) -> None:
    full = last_vlp16_scan(shared_data)
    part = last_vlp16_scan(shared_data, min_angle_deg=315.0, max_angle_deg=45.0)
    azimuth = point_azimuth_deg(full.xyz_m)
    in_front = (azimuth >= 315.0) | (azimuth < 45.0)
    assert len(part) == int(in_front.sum()) == 3394  # before the fix: 11 422, the other 270 deg
    assert quadrant_counts(part) == [2039, 0, 0, 1355]
    assert np.all(part.xyz_m[:, 0] > 0)  # all ahead of the sensor


@pytest.mark.data
def test_nebulas_front_half_window_matches_its_reference_cloud(shared_data: Path) -> None:
    """nebula decodes this VLP-32C recording with the cloud angles 270 -> 90; before the fix
    that window kept 184 points (the rear 180 deg). nebula filters on the firing azimuth
    before ``rot_correction``, so 358 of its 26 216 points lie up to ~4 deg outside the
    geometric front half; the other 25 858 must be matched as well as by a full decode."""
    root = nebula(shared_data)
    reference = read_pcd(root / "vlp32/1713492677464078412.pcd")
    expected = np.stack([reference.columns[a] for a in "xyz"], axis=1)
    config = VelodyneConfig(
        model="VLP32C",
        calibration=root / "calibration/VLP32.yaml",
        min_range_m=0.4,
        max_range_m=50.0,
        min_angle_deg=270.0,
        max_angle_deg=90.0,
    )
    cloud = next(iter(read_velodyne_bag(root / "vlp32/1713492677464078412", config)))
    assert np.all(cloud.xyz_m[:, 0] >= 0)
    azimuth = point_azimuth_deg(expected)
    inside = (azimuth >= 270.0) | (azimuth < 90.0)
    assert int(inside.sum()) == 25858
    assert abs(len(cloud) - inside.sum()) <= 0.005 * inside.sum()  # 25 894
    distance, _ = cKDTree(cloud.xyz_m).query(expected[inside])
    assert np.mean(distance < 0.01) >= 0.80
    assert np.mean(distance < 0.02) >= 0.97


@pytest.mark.data
def test_a_vlp32_table_on_vlp16_packets_is_refused(shared_data: Path) -> None:
    """Before: accepted, every point 0.63 m (median) from nebula's, ring up to 31."""
    root = nebula(shared_data)
    table = root / "calibration/VLP32.yaml"
    bag = root / "vlp16/1673400471837873222"
    with pytest.raises(CalibrationMismatchError) as raised:
        next(iter(read_velodyne_bag(bag, VelodyneConfig(calibration=table))))
    error = raised.value
    assert error.path == str(table) and error.field == "lasers"
    assert error.reason.startswith("the calibration table has 32 lasers but the packets of ")
    assert "come from a 16-laser VLP-16 / Puck LITE (factory bytes)" in error.reason
    assert "/velodyne_packets #0" in error.reason  # which packets said so
    # a configured model is checked before any packet is read
    with pytest.raises(CalibrationMismatchError, match=r"32 lasers but model VLP16 has 16"):
        VelodyneDecoder(VelodyneConfig(model="VLP16", calibration=table))


@pytest.mark.data
def test_a_vlp16_table_on_vlp32_packets_stops_the_rosbag_log(shared_data: Path) -> None:
    """Through RosbagLog the mismatch stops the read (not one ``decode`` skip per scan)."""
    from drivestack.ingest.rosbag.reader import RosbagLog
    from drivestack.ingest.rosbag.topic_map import RosbagConfig

    root = nebula(shared_data)
    table = root / "calibration/VLP16.yaml"
    config = RosbagConfig(
        ego_frame="velodyne_front",
        velodyne={"sensing_lidar_front_velodyne_packets": VelodyneConfig(calibration=table)},
    )
    log = RosbagLog(root / "vlp32/1713492677464078412", config, announce=lambda _: None)
    with pytest.raises(CalibrationMismatchError, match=r"has 16 lasers .* a 32-laser VLP-32C"):
        list(log.frames())


@pytest.mark.data
def test_return_type_is_the_documented_encoding(shared_data: Path) -> None:
    """The VLP-16 recording is dual-return: 3 where a laser's strongest and last returns are
    one point, else 1 (strongest) and 2 (last); no other value (nebula's codes are 4..10)."""
    cloud = last_vlp16_scan(shared_data)
    values, counts = np.unique(cloud.attribute("return_type"), return_counts=True)
    assert values.tolist() == [1, 2, 3] and counts.tolist() == [205, 319, 14292]
