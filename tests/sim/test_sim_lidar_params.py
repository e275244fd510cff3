"""``drivestack sim --lidar-params``: the simulated LiDAR read strictly into
:class:`SimLidarParams`, used by ``--perception lidar`` and ``--export-dataset``, recorded,
and refused where no LiDAR is simulated."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.core.errors import ConfigError
from drivestack.core.transforms import SE3
from drivestack.sim.perceived import SimLidarParams, default_lidar, load_lidar_params
from drivestack.sim.sensors import LIDAR_PRESETS, SensorScene

SCENARIO = (
    "name: s\nmap: {kind: straight, params: {speed_limit_mps: 13.89, length_m: 150}}\n"
    "ego: {lane: road_0, station_m: 10.0, speed_kph: 30.0}\nduration_s: 0.5\n"
)


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("preset: hdl32\n", "preset", "expected one of"),
        ("mount_xyz_m: [1.0, 2.0]\n", "mount_xyz_m", "expected 3 items"),
        ("mount_xyz_m: [1.0, 0.0, high]\n", "mount_xyz_m.2", "expected a number"),
        # under the road: 0 points, and the run passed with no truth agent to miss
        ("mount_xyz_m: [1.3, 0.0, -1.0]\n", "mount_xyz_m", "must be at least 0.1 m, got -1.0"),
        ("mount_xyz_m: [1.3, 0.0, 0.0]\n", "mount_xyz_m", "at or under the road it sees nothing"),
        ("dropout_probability: 1.0\n", "dropout_probability", "< 1"),
        ("range_noise_std_m: -0.1\n", "range_noise_std_m", ">= 0"),
        ("seed: 1.5\n", "seed", "integer"),
        ("sede: 3\n", "sede", "unknown key"),
        ("", None, "empty config"),
    ],
)
def test_bad_lidar_params_name_the_file_and_key(
    tmp_path: Path, text: str, field: str | None, words: str
) -> None:
    path = _file(tmp_path, "lidar.yaml", text)
    with pytest.raises(ConfigError) as err:
        load_lidar_params(path)
    assert err.value.path == str(path) and err.value.field == field
    assert words in str(err.value)


def test_defaults_are_the_default_lidar_and_settings_reach_the_model(tmp_path: Path) -> None:
    default, model = default_lidar(), SimLidarParams().model()
    assert default.preset == model.preset == LIDAR_PRESETS["hdl64"] and model.seed == 1
    np.testing.assert_array_equal(
        default.ego_from_lidar.as_matrix(),
        SE3.from_xyz_yaw([1.3, 0.0, 1.9], 0.0).as_matrix(),
    )
    assert (default.range_noise_std_m, default.dropout_probability) == (0.02, 0.0)
    path = _file(
        tmp_path,
        "lidar.yaml",
        "preset: os128\nmount_xyz_m: [1.0, 0.5, 2.0]\nmount_yaw_rad: 0.1\n"
        "dropout_probability: 0.25\nmin_signal_per_m2: 0.0\nseed: 7\n",
    )
    lidar = load_lidar_params(path).model()
    assert lidar.n_beams == 128 and lidar.seed == 7 and lidar.dropout_probability == 0.25
    assert lidar.min_signal_per_m2 == 0.0
    np.testing.assert_allclose(
        lidar.ego_from_lidar.as_matrix(), SE3.from_xyz_yaw([1.0, 0.5, 2.0], 0.1).as_matrix()
    )


def test_the_seed_changes_the_noise_and_the_preset_the_rings() -> None:
    scene = SensorScene()  # the ground plane: every downward beam returns
    a, b, c = (
        SimLidarParams(preset="vlp32", seed=s, range_noise_std_m=0.05)
        .model()
        .scan(scene, SE3.identity(), 0)
        for s in (1, 1, 2)
    )
    np.testing.assert_array_equal(a.xyz_m, b.xyz_m)  # seeded: repeats
    assert a.xyz_m.shape == c.xyz_m.shape and not np.array_equal(a.xyz_m, c.xyz_m)
    assert set(np.unique(a.attributes["ring"])) <= set(range(32))


def test_lidar_params_are_refused_without_a_simulated_lidar(tmp_path: Path, capsys) -> None:
    cfg = _file(tmp_path, "s.yaml", SCENARIO)
    lidar = _file(tmp_path, "lidar.yaml", "preset: vlp32\n")
    out = tmp_path / "out"
    argv = ["sim", str(cfg), "--out", str(out), "--quiet", "--lidar-params", str(lidar)]
    assert main(argv) == 2
    assert "--lidar-params is used only with --perception lidar or --export-dataset" in (
        capsys.readouterr().err
    )
    assert not out.exists()
    bad = _file(tmp_path, "bad.yaml", "mount_xyz_m: [1, 2]\n")
    argv = ["sim", str(cfg), "--out", str(out), "--quiet", "--perception", "lidar"]
    assert main([*argv, "--lidar-params", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "mount_xyz_m" in err and not out.exists()


def test_export_scans_with_the_given_lidar_and_records_it(tmp_path: Path, capsys) -> None:
    cfg = _file(tmp_path, "s.yaml", SCENARIO)
    lidar = _file(tmp_path, "lidar.yaml", "preset: vlp32\nmount_xyz_m: [1.0, 0.0, 2.1]\n")
    out, dataset = tmp_path / "out", tmp_path / "kitti"
    argv = ["sim", str(cfg), "--out", str(out), "--planner", "pdm", "--quiet"]
    argv += ["--max-steps", "1", "--export-dataset", str(dataset), "--export-every", "1"]
    assert main([*argv, "--lidar-params", str(lidar)]) == 0
    points = np.fromfile(dataset / "training" / "velodyne" / "000000.bin", np.float32)
    xyz = points.reshape(-1, 4)[:, :3]
    # the points are in the sensor's frame: their elevations are the VLP-32C's beams
    elevation_deg = np.degrees(np.arctan2(xyz[:, 2], np.hypot(xyz[:, 0], xyz[:, 1])))
    beams = np.array(LIDAR_PRESETS["vlp32"].elevations_deg)
    assert np.abs(elevation_deg[:, None] - beams[None, :]).min(axis=1).max() < 0.01
    assert len(np.unique(np.round(elevation_deg, 2))) > 16
    # the ground is 2.1 m below the sensor (KITTI's z up in the LiDAR frame)
    assert abs(np.median(xyz[:, 2][np.hypot(xyz[:, 0], xyz[:, 1]) < 15.0]) + 2.1) < 0.1
    given = load_lidar_params(lidar).as_dict()
    assert json.loads((out / "sim.json").read_text())["lidar_params"] == given
    record = json.loads((out / "pdm" / "s" / "metrics.json").read_text())
    assert record["lidar_params"] == {"file": str(lidar.resolve()), **given}
    capsys.readouterr()
    # the same DIR with the default LiDAR: another invocation's runs, refused
    assert main([*argv, "--overwrite"]) == 0  # (--overwrite clears both folders)
    assert "lidar_params" not in json.loads((out / "pdm" / "s" / "metrics.json").read_text())
    assert (
        main([*argv[:-4], "--lidar-params", str(lidar), "--export-dataset", str(tmp_path / "k2")])
        == 2
    )
    assert "other lidar_params" in capsys.readouterr().err
