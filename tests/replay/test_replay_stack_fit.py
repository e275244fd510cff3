"""`drivestack replay` checks the stack's perception config against the log before reading it:
map steps are refused (no log carries map priors), a config made for other data than the
log's source gives one warning line."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.core.errors import ConfigError
from drivestack.core.frames import LIDAR
from drivestack.core.transforms import SE3
from drivestack.pipeline import build_stack
from drivestack.replay.log_format import LogWriter
from drivestack.replay.stack_fit import check_stack_fits_log
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo" / "drive.mcap"  # written by the simulator (source "sim")
DEFAULT = REPO / "configs" / "stack" / "default.yaml"  # lidar_kitti.yaml: kitti, kitti-tracking
SIM = REPO / "configs" / "stack" / "sim_lidar.yaml"  # lidar_sim.yaml: sim


def _log(path: Path, command: str, config: dict) -> Path:
    """A log of two frames of 200 random points, written as ``command`` would."""
    rng = np.random.default_rng(0)
    with LogWriter(path, config=config, command=command) as writer:
        for t in (0, 100_000_000):
            cloud = PointCloud(rng.normal(size=(200, 3)).astype(np.float32) * 10, LIDAR, t)
            writer.sensor_frame(
                SensorFrame(
                    t,
                    lidars={LIDAR: cloud},
                    ego_from_sensor={LIDAR: SE3.identity()},
                    world_from_ego=SE3.identity(),
                )
            )
    return path


@pytest.mark.parametrize(
    ("command", "config", "stack", "warned"),
    [
        ("dataset_to_log", {"dataset": "av2"}, DEFAULT, True),
        ("dataset_to_log", {"dataset": "kitti"}, DEFAULT, False),
        ("kitti_tracking_to_log", {"source": "kitti_tracking"}, SIM, True),
        ("kitti_tracking_to_log", {"source": "kitti_tracking"}, DEFAULT, False),
        ("drivestack.sim.record.write_sim_log", {}, SIM, False),
        ("bag_to_log", {"rosbag": {}}, DEFAULT, False),  # unknown source: no warning
        ("my own script", {"source": "av2"}, DEFAULT, False),
    ],
)
def test_a_config_made_for_other_data_than_the_logs_warns(
    tmp_path: Path, command: str, config: dict, stack: Path, warned: bool
) -> None:
    log = _log(tmp_path / "in.mcap", command, config)
    lines = check_stack_fits_log(build_stack(stack), log)
    assert len(lines) == int(warned)
    if warned:
        assert lines[0].startswith(str(stack.parent.parent / "perception"))
        assert "field datasets: this config was made for" in lines[0]
        assert f"written by {command}" in lines[0]


def test_replaying_the_simulated_demo_with_the_kitti_stack_warns_once(tmp_path: Path) -> None:
    out = tmp_path / "run.mcap"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["replay", str(DEMO), "--out", str(out), "--quiet"]) == 0
    (line,) = [str(w.message) for w in caught if "field datasets" in str(w.message)]
    assert (
        "lidar_kitti.yaml: field datasets: this config was made for kitti, kitti-tracking" in line
    )
    assert "drive.mcap holds sim frames" in line
    assert line.endswith(f"replay it with --stack {SIM}")  # the stack beside it made for sim
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["warnings"] == [line] and summary["clean"]


def test_a_stack_with_map_steps_is_refused_before_the_log_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = tmp_path / "av2_stack.yaml"
    stack.write_text(
        f"perception: {REPO / 'configs' / 'perception' / 'lidar_av2.yaml'}\n"
        f"tracking: {REPO / 'configs' / 'tracking' / 'lidar_stack.yaml'}\n"
    )
    log = tmp_path / "cut.mcap"
    log.write_bytes(DEMO.read_bytes()[:100])  # a log that cannot be read: never opened
    out = tmp_path / "new" / "run.mcap"
    assert main(["replay", str(log), "--stack", str(stack), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "lidar_av2.yaml: field ground.prior_surface: is on" in err
    assert "a replayed log (no log carries HD-map priors)" in err
    assert not out.parent.exists()
    with pytest.raises(ConfigError):
        check_stack_fits_log(build_stack(stack), DEMO)
