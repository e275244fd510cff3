"""Velodyne settings that do not fit are configuration errors naming the ingest YAML and key,
found as early as they can be; the clouds' stamps and attributes are as velodyne.py says.

Before: a missing calibration file, a file that is not a table and a table for another model
were only found while the frames were read (after the output log was opened), a configured
model that the packets contradict dropped every scan as a ``decode`` skip with
velodyne-decoder's raw text ("Expected model ID <34> in packet, got <40>", an HDL-64E hint,
the topic and index twice), and the cloud time went through float seconds (49 ns off).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.ingest.rosbag import velodyne
from drivestack.ingest.rosbag.reader import RosbagLog
from drivestack.ingest.rosbag.topic_map import RosbagConfig, load_rosbag_config
from drivestack.ingest.rosbag.velodyne import (
    PRODUCT_ID_BYTE,
    CalibrationMismatchError,
    ModelMismatchError,
    VelodyneConfig,
)
from tests.ingest.rosbag.test_losses_reported import read_scans, write_scans

pytest.importorskip("velodyne_decoder")

VLP32 = "ros_bags/nebula_velodyne_ros2/vlp32/1713492677464078412"
VLP32_LIDAR = "sensing_lidar_front_velodyne_packets"
CALIBRATION = "ros_bags/nebula_velodyne_ros2/calibration"


def _config(tmp_path: Path, settings: str) -> Path:
    path = tmp_path / "ingest.yaml"
    path.write_text(f"ego_frame: velodyne_front\nvelodyne:\n  {VLP32_LIDAR}: {settings}\n")
    return path


def test_a_missing_calibration_file_is_refused_when_the_config_is_loaded(tmp_path) -> None:
    path = _config(tmp_path, "{calibration: nonexist.yaml}")
    with pytest.raises(ConfigError) as raised:
        load_rosbag_config(path)
    error = raised.value
    assert error.path == str(path) and error.field == f"velodyne.{VLP32_LIDAR}.calibration"
    assert str(tmp_path / "nonexist.yaml") in error.reason and "no such file" in error.reason


def test_a_file_that_is_not_a_calibration_table_is_refused_when_loaded(tmp_path) -> None:
    (tmp_path / "table.yaml").write_text("num_lasers: 16\ndistance_resolution: 0.002\n")
    path = _config(tmp_path, "{calibration: table.yaml}")
    with pytest.raises(ConfigError, match="not a Velodyne calibration table") as raised:
        load_rosbag_config(path)
    assert raised.value.field == f"velodyne.{VLP32_LIDAR}.calibration"
    assert "\n" not in str(raised.value)


@pytest.mark.data
def test_a_table_for_another_configured_model_is_refused_when_loaded(
    shared_data: Path, tmp_path: Path
) -> None:
    table = shared_data / CALIBRATION / "VLP16.yaml"
    path = _config(tmp_path, f"{{model: VLP32C, calibration: {table}}}")
    with pytest.raises(CalibrationMismatchError) as raised:
        load_rosbag_config(path)
    error = raised.value
    assert isinstance(error, ConfigError)
    assert error.path == str(path) and error.field == f"velodyne.{VLP32_LIDAR}.calibration"
    assert error.reason.startswith(f"{table}: the calibration table has 16 lasers but model")


@pytest.mark.data
def test_a_bad_calibration_in_code_is_refused_when_the_log_is_built(
    shared_data: Path, tmp_path: Path
) -> None:
    """A config built in code (no YAML) is checked when RosbagLog is built, before frames."""
    config = RosbagConfig(
        ego_frame="velodyne_front",
        velodyne={VLP32_LIDAR: VelodyneConfig(calibration=tmp_path / "nonexist.yaml")},
    )
    with pytest.raises(ConfigError, match="no such file") as raised:
        RosbagLog(shared_data / VLP32, config, announce=lambda _: None)
    assert raised.value.field == f"velodyne.{VLP32_LIDAR}.calibration"


@pytest.mark.data
def test_a_configured_model_the_packets_contradict_stops_the_read(
    shared_data: Path, tmp_path: Path
) -> None:
    path = _config(tmp_path, "{model: VLP16}")
    log = RosbagLog(shared_data / VLP32, load_rosbag_config(path), announce=lambda _: None)
    with pytest.raises(ModelMismatchError) as raised:
        list(log.frames())
    error = raised.value
    assert isinstance(error, ConfigError)
    text = str(error)
    assert text.startswith(f"{path}: field velodyne.{VLP32_LIDAR}.model: model VLP16, but ")
    assert "come from a VLP-32C" in text and "set model VLP32C" in text
    assert text.count("/sensing/lidar/front/velodyne_packets #0") == 1
    assert "HDL-64E" not in text and "<40>" not in text and "<34>" not in text
    assert not log.report.skipped  # not a decode skip per scan


@pytest.mark.data
def test_a_decode_skip_names_the_message_once_without_the_hdl64e_hint(
    shared_data: Path, tmp_path: Path
) -> None:
    """Packets of an unknown product id under a configured model: velodyne-decoder refuses
    the scan; its entry names topic and index once (the report line adds them)."""
    scans = read_scans(shared_data / VLP32)
    odd = copy.deepcopy(scans[1][2])
    for packet in odd.packets:
        packet.data[PRODUCT_ID_BYTE] = 0x00
    bag = write_scans(tmp_path / "odd", [scans[0], (scans[1][0], scans[1][1], odd)])
    config = RosbagConfig(
        ego_frame="velodyne_front", velodyne={VLP32_LIDAR: VelodyneConfig(model="VLP32C")}
    )
    log = RosbagLog(bag, config, announce=lambda _: None)
    assert len(list(log.frames())) == 1
    (entry,) = [s for s in log.report.skipped if s.kind == "decode"]
    assert entry.index == 1
    assert entry.reason.startswith("field packets: velodyne-decoder failed: ")
    assert str(bag) not in entry.reason and "#1" not in entry.reason
    assert "HDL-64E" not in entry.reason


@pytest.mark.data
def test_the_cloud_time_is_the_last_packets_stamp_in_whole_nanoseconds(shared_data: Path) -> None:
    (_, _, msg), *_ = read_scans(shared_data / VLP32)
    stamps = [int(p.stamp.sec) * 10**9 + int(p.stamp.nanosec) for p in msg.packets]
    scan = velodyne.VelodyneDecoder(VelodyneConfig()).decode(msg)
    assert scan.cloud.timestamp_ns == stamps[-1] == 1713492677427229135  # not ...184 (float s)
    offsets = scan.cloud.attribute("time_offset_ns")
    assert -110_000_000 < offsets.min() < 0 <= offsets.max() < 5_000_000


@pytest.mark.data
def test_ring_has_the_documented_dtype(shared_data: Path) -> None:
    (_, _, msg), *_ = read_scans(shared_data / VLP32)
    ring = velodyne.VelodyneDecoder(VelodyneConfig()).decode(msg).cloud.attribute("ring")
    assert ring.dtype == np.uint8 and int(ring.max()) == 31
    assert "``ring`` (uint8" in (velodyne.__doc__ or "")
