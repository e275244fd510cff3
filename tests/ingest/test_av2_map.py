"""Argoverse 2 map priors: the ground-height raster (Sim(2) lookup) and the drivable area."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.argoverse2 import list_av2_sweeps, read_av2_frame
from drivestack.ingest.maps.av2_drivable import DrivableAreaPolygons, LazyAv2DrivableArea
from drivestack.ingest.maps.av2_ground import (
    LazyAv2GroundHeight,
    read_av2_ground_height,
    read_sim2_json,
)

LOG = "log0"
# grid_from_city: p_grid = s * (R @ p + t), R a quarter turn
SIM2 = {"R": [0.0, -1.0, 1.0, 0.0], "t": [10.0, 20.0], "s": 2.0}


def _raster() -> np.ndarray:
    """``(50, 20)`` float16 zeros with a few marked cells ``[row, col]``."""
    heights = np.zeros((50, 20), dtype=np.float16)
    heights[42, 16] = 3.5
    heights[42, 15] = -1.25
    heights[40, 0] = 7.0
    heights[10, 10] = np.nan
    return heights


def _map_dir(tmp_path: Path, *, raster: bool = True, sim2: bool = True) -> Path:
    folder = tmp_path / "map"
    folder.mkdir()
    if raster:
        np.save(folder / f"{LOG}_ground_height_surface____PIT.npy", _raster())
    if sim2:
        (folder / f"{LOG}___img_Sim2_city.json").write_text(json.dumps(SIM2))
    return folder


def test_sim2_lookup_hand_computed(tmp_path: Path) -> None:
    raster = read_av2_ground_height(_map_dir(tmp_path))
    assert raster.height_m.dtype == np.float32 and raster.height_m.shape == (50, 20)
    xy = np.array(
        [
            [1.0, 2.0],  # R p = (-2, 1); + t = (8, 21); x 2 = (16, 42): row 42, column 16
            [1.2, 2.2],  # grid (15.6, 42.4): floor -> row 42, column 15
            [0.0, 10.25],  # grid (-0.5, 40): outside (av2's truncation would read column 0)
            [-14.75, 4.75],  # grid (10.5, 10.5): a NaN cell
            [1.0, -30.0],  # grid (80, 42): beyond the 20 columns (not a transposed lookup)
            [0.0, 0.0],  # grid (20, 40): x == width, outside
        ]
    )
    np.testing.assert_array_equal(raster.grid_xy(xy[:2]), np.array([[16.0, 42.0], [15.6, 42.4]]))
    np.testing.assert_array_equal(
        raster.height_at(xy), [3.5, -1.25, np.nan, np.nan, np.nan, np.nan]
    )
    assert raster.height_at(np.zeros((0, 2))).shape == (0,)


def test_sim2_json_fields(tmp_path: Path) -> None:
    folder = _map_dir(tmp_path)
    rotation, translation, scale = read_sim2_json(folder / f"{LOG}___img_Sim2_city.json")
    np.testing.assert_array_equal(rotation, [[0.0, -1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(translation, [10.0, 20.0])
    assert scale == 2.0
    bad = folder / "bad.json"
    bad.write_text(json.dumps({"R": [1.0, 0.0], "t": [0.0, 0.0], "s": 1.0}))
    with pytest.raises(DataError, match=r"bad\.json.*Sim"):
        read_sim2_json(bad)


@pytest.mark.parametrize(
    ("raster", "sim2", "pattern"),
    [(False, True, "ground_height_surface"), (True, False, "img_Sim2_city")],
)
def test_missing_file_is_named(tmp_path: Path, raster: bool, sim2: bool, pattern: str) -> None:
    folder = _map_dir(tmp_path, raster=raster, sim2=sim2)
    with pytest.raises(DataError, match=f"{folder}.*no file matching.*{pattern}"):
        read_av2_ground_height(folder)


def test_lazy_raster_reads_only_when_used(tmp_path: Path) -> None:
    lazy = LazyAv2GroundHeight(tmp_path / "nowhere")  # no error yet
    with pytest.raises(DataError, match=r"nowhere.*ground_height_surface"):
        lazy.height_at(np.zeros((1, 2)))
    good = LazyAv2GroundHeight(_map_dir(tmp_path))
    assert good.height_at(np.array([[1.0, 2.0]]))[0] == 3.5
    assert good.raster is good.raster  # read once


def test_drivable_polygons_distance() -> None:
    import shapely

    area = DrivableAreaPolygons(shapely.box(0.0, 0.0, 10.0, 4.0))
    xy = np.array([[5.0, 2.0], [5.0, 7.0], [13.0, 8.0], [10.0, 4.0]])
    np.testing.assert_allclose(area.distance_m(xy), [0.0, 3.0, 5.0, 0.0])
    assert area.distance_m(np.zeros((0, 2))).shape == (0,)
    # inside means distance 0 off the boundary (shapely's contains: the boundary is outside)
    assert area.contains_xy(xy).tolist() == [True, False, False, False]
    assert area.contains_xy(np.zeros((0, 2))).shape == (0,)


def test_lazy_drivable_area_missing_map(tmp_path: Path) -> None:
    lazy = LazyAv2DrivableArea(tmp_path)
    with pytest.raises(DataError, match="log_map_archive"):
        lazy.distance_m(np.zeros((1, 2)))


@pytest.mark.data
def test_real_logs_carry_their_map(shared_data: Path) -> None:
    """The ego origin (rear axle, 0.3-0.4 m above the road) sits above the map's ground and
    on its drivable area."""
    root = shared_data / "argoverse2/sensor/val"
    for log in sorted(p for p in root.iterdir() if p.is_dir()):
        for ts in list_av2_sweeps(log):
            frame = read_av2_frame(log, ts)
            assert frame.world_from_ego is not None and frame.ground_surface is not None
            assert frame.drivable_area is not None
            origin = frame.world_from_ego.translation[None, :]
            height = origin[0, 2] - frame.ground_surface.height_at(origin[:, :2])[0]
            assert 0.25 < height < 0.45
            assert frame.drivable_area.distance_m(origin[:, :2])[0] == 0.0


@pytest.mark.data
def test_detector_names_the_missing_raster(shared_data: Path, tmp_path: Path) -> None:
    """The AV2 detector config reads the map; a log without it fails naming the file."""
    import shutil

    from drivestack.perception.lidar import build_lidar_detector

    source = shared_data / "argoverse2/sensor/val/adcf7d18-0510-35b0-a2fa-b4cea13a6d76"
    log = tmp_path / source.name
    shutil.copytree(source / "sensors", log / "sensors")
    shutil.copy(source / "city_SE3_egovehicle.feather", log)
    config = Path(__file__).resolve().parents[2] / "configs/perception/lidar_av2.yaml"
    frame = read_av2_frame(log, list_av2_sweeps(log)[0])
    with pytest.raises(DataError, match=r"map: no file matching .*ground_height_surface"):
        build_lidar_detector(config).step(frame)


@pytest.mark.parametrize(
    ("field", "doc"),
    [
        ("s", {"R": [1.0, 0.0, 0.0, 1.0], "t": [0.0, 0.0], "s": "1_0"}),
        ("t", {"R": [1.0, 0.0, 0.0, 1.0], "t": [0.0, "\uff11"], "s": 1.0}),
        ("R", {"R": [[True, 0.0], [0.0, 1.0]], "t": [0.0, 0.0], "s": 1.0}),
    ],
)
def test_sim2_json_strings_are_not_numbers(tmp_path: Path, field: str, doc: dict) -> None:
    path = tmp_path / "sim2.json"  # "1_0" was scale 10, "\uff11" t 1 m, true R 1
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match="not a JSON number") as info:
        read_sim2_json(path)
    assert (info.value.path, info.value.field) == (str(path), field)
