"""The package-level names of drivestack.ingest, .ingest.maps, .ingest.rosbag and .perception
(lazy re-exports), and the commented ROS bag ingest config example in configs/ingest/."""

from __future__ import annotations

import dataclasses
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from drivestack.ingest.rosbag.topic_map import RosbagConfig, TopicMap, load_rosbag_config
from drivestack.ingest.rosbag.velodyne import VelodyneConfig

PACKAGES = (
    "drivestack.ingest",
    "drivestack.ingest.maps",
    "drivestack.ingest.rosbag",
    "drivestack.perception",
)
HEAVY = ("torch", "open3d", "pyarrow", "laspy")
EXAMPLE = Path(__file__).resolve().parents[2] / "configs" / "ingest" / "rosbag_example.yaml"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves_to_a_submodule_object(package: str) -> None:
    pkg = importlib.import_module(package)
    names = pkg.__all__
    assert names and len(set(names)) == len(names)
    assert set(names) <= set(dir(pkg))
    for name in names:
        obj = getattr(pkg, name)
        module = getattr(obj, "__module__", "")
        assert module.startswith(package + "."), f"{package}.{name} comes from {module!r}"
        assert getattr(importlib.import_module(module), name) is obj
    with pytest.raises(AttributeError, match="no_such_reader"):
        pkg.no_such_reader  # noqa: B018


@pytest.mark.parametrize(
    ("package", "name"),
    [
        ("drivestack.ingest", "read_kitti_object_frame"),
        ("drivestack.ingest", "read_kitti_tracking_frame"),
        ("drivestack.ingest", "KittiTrackingSequence"),
        ("drivestack.ingest", "list_kitti_tracking_frames"),
        ("drivestack.ingest", "read_odometry_frame"),
        ("drivestack.ingest", "read_nuscenes_frame"),
        ("drivestack.ingest", "read_av2_frame"),
        ("drivestack.ingest", "list_av2_sweeps"),
        ("drivestack.ingest", "read_aimotive_frame"),
        ("drivestack.ingest", "list_aimotive_frames"),
        ("drivestack.ingest", "read_pandaset_frame"),
        ("drivestack.ingest", "list_pandaset_frames"),
        ("drivestack.ingest", "read_pcd"),
        ("drivestack.ingest", "RosbagLog"),
        ("drivestack.ingest", "read_lanelet2"),
        ("drivestack.ingest", "read_av2_road_map"),
        ("drivestack.ingest", "read_av2_lanes"),
        ("drivestack.ingest", "read_av2_drivable_area"),
        ("drivestack.ingest", "read_av2_ground_height"),
        ("drivestack.ingest.maps", "read_commonroad"),
        ("drivestack.ingest.maps", "build_synthetic_map"),
        ("drivestack.ingest.rosbag", "load_rosbag_config"),
        ("drivestack.perception", "build_lidar_detector"),
        ("drivestack.perception", "Open3dBaselineDetector"),
    ],
)
def test_walkthrough_names_are_exported(package: str, name: str) -> None:
    assert name in importlib.import_module(package).__all__


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return set(out.split())


def test_importing_the_packages_loads_no_heavy_module() -> None:
    loaded = _modules_after("import " + ", ".join(PACKAGES))
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
    # nothing of the readers themselves is imported until a name is read
    assert "drivestack.ingest.argoverse2" not in loaded
    assert "drivestack.ingest.rosbag.reader" not in loaded
    assert "drivestack.perception.lidar.detector" not in loaded


def test_reading_one_name_imports_only_its_reader() -> None:
    loaded = _modules_after("from drivestack.ingest import read_kitti_tracking_frame")
    assert "drivestack.ingest.kitti_tracking" in loaded
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
    assert "drivestack.ingest.rosbag.reader" not in loaded


# -- configs/ingest/rosbag_example.yaml ----------------------------------------------------------


def _field_names(cls: type) -> set[str]:
    """The keys a YAML file may give: the fields set on construction (not ``source``)."""
    return {f.name for f in dataclasses.fields(cls) if f.init}


def test_rosbag_example_loads_and_shows_every_key() -> None:
    cfg = load_rosbag_config(EXAMPLE)
    assert isinstance(cfg, RosbagConfig)
    raw = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert set(raw) == _field_names(RosbagConfig)
    assert set(raw["topics"]) == _field_names(TopicMap)
    (velodyne,) = raw["velodyne"].values()
    assert set(velodyne) == _field_names(VelodyneConfig)
    # each Velodyne entry is keyed by a LiDAR name of the topic map
    assert set(cfg.velodyne) <= set(cfg.topics.lidars)


def test_a_relative_calibration_in_a_config_built_in_code_is_taken_from_the_working_directory(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``VelodyneConfig`` built in code has no file to be relative to: the process's cwd
    (``load_rosbag_config`` takes a YAML's relative path from the YAML's folder)."""
    pytest.importorskip("velodyne_decoder")
    from drivestack.core.errors import DataError
    from drivestack.ingest.rosbag.velodyne import VelodyneDecoder

    root = shared_data / "ros_bags/nebula_velodyne_ros2"
    config_file = root / "ingest.yaml"  # never written: only the path matters
    assert not config_file.exists()
    cfg = VelodyneConfig(model="VLP32C", calibration=Path("calibration/VLP32.yaml"))
    monkeypatch.chdir(root)
    VelodyneDecoder(cfg)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match="Velodyne calibration table: no such file"):
        VelodyneDecoder(cfg)


@pytest.mark.data
def test_rosbag_example_adapted_to_the_vlp32_bag(shared_data: Path, tmp_path: Path) -> None:
    """A copy of the example with the nebula VLP-32 bag's topic, frame and calibration reads
    every sweep (the bag has no TF: the ego frame is the LiDAR's, frames have no ego pose)."""
    pytest.importorskip("velodyne_decoder")
    from drivestack.ingest.rosbag.reader import RosbagLog

    root = shared_data / "ros_bags/nebula_velodyne_ros2"
    bag = next(p for p in (root / "vlp32").iterdir() if p.is_dir())
    raw = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    raw["topics"] = {
        "lidars": {"front": "/sensing/lidar/front/velodyne_packets"},
        "tf": [],
        "tf_static": [],
    }
    raw["ego_frame"] = "velodyne_front"
    (velodyne,) = raw["velodyne"].values()
    velodyne |= {"calibration": str(root / "calibration/VLP32.yaml"), "max_range_m": 50.0}
    raw["velodyne"] = {"front": velodyne}
    adapted = tmp_path / "vlp32.yaml"
    adapted.write_text(yaml.safe_dump(raw), encoding="utf-8")

    log = RosbagLog(bag, load_rosbag_config(adapted), announce=pytest.fail)
    frames = list(log.frames())
    assert len(frames) == 5
    assert all(f.lidar().frame == "velodyne_front" and len(f.lidar()) > 10_000 for f in frames)
    assert all(f.world_from_ego is None for f in frames)
