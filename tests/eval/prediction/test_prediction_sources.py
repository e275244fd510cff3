"""Trajectories read from real recordings (one AV2 log, CommonRoad files, one KITTI sequence)
and the errors for a sweep or frame without an ego pose."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.eval.prediction.cases import CaseSettings, build_cases
from drivestack.eval.prediction.run import score_model
from drivestack.eval.prediction.sources import (
    commonroad_source,
    read_av2_trajectories,
    read_commonroad_trajectories,
    read_kitti_trajectories,
)

pytestmark = pytest.mark.data

AV2_LOG = "argoverse2/sensor/val/7fab2350-7eaf-3b7e-a39d-6937a4c1bede"


def test_av2_log_in_the_city_frame(shared_data: Path) -> None:
    rec = read_av2_trajectories(shared_data / AV2_LOG)
    assert len(rec.agents) == 114
    assert rec.dt_s == pytest.approx(0.1002, abs=1e-4)
    cases = build_cases(rec, CaseSettings())
    assert len(cases) > 1000
    # a parked car stays put in the city frame while the ego drives: the stationary model's
    # error on stationary cases is small, and constant velocity beats it on moving ones
    stat = score_model(cases, "stationary", 0.3, [3.0])["FDE@3s"]
    cv = score_model(cases, "constant_velocity", 0.3, [3.0])["FDE@3s"]
    moving = cases.moving
    assert np.median(stat[~moving]) < 0.3
    assert cv[moving].mean() < 0.5 * stat[moving].mean()


def test_av2_riderless_bicycles_and_motorcycles_are_not_cyclists(shared_data: Path) -> None:
    # a BICYCLE / MOTORCYCLE cuboid is the vehicle (AV2 labels the rider apart): the log's
    # parked bikes made every "cyclist" case (all stationary, miss rate 0)
    from drivestack.ingest.argoverse2 import read_av2_cuboids
    from drivestack.structures.labels import ObjectClass

    cuboids = read_av2_cuboids(shared_data / AV2_LOG / "annotations.feather")
    riderless = {
        str(uuid)
        for uuid, category in zip(cuboids.track_uuid, cuboids.category, strict=True)
        if category in ("BICYCLE", "MOTORCYCLE")
    }
    assert riderless  # the log has some
    rec = read_av2_trajectories(shared_data / AV2_LOG)
    by_id = {a.agent_id: a.object_class for a in rec.agents}
    assert {by_id[uuid] for uuid in riderless} == {ObjectClass.UNKNOWN}
    assert ObjectClass.CYCLIST not in set(by_id.values())  # no BICYCLIST in this log


def test_av2_sweep_without_a_pose_names_the_pose_file(shared_data: Path, tmp_path: Path) -> None:
    import pyarrow.feather as feather

    log = tmp_path / "log"
    log.mkdir()
    shutil.copy(shared_data / AV2_LOG / "annotations.feather", log / "annotations.feather")
    poses = feather.read_table(shared_data / AV2_LOG / "city_SE3_egovehicle.feather")
    sweeps = np.unique(feather.read_table(log / "annotations.feather")["timestamp_ns"].to_numpy())
    keep = poses["timestamp_ns"].to_numpy() != sweeps[3]
    feather.write_feather(poses.filter(keep), log / "city_SE3_egovehicle.feather")
    with pytest.raises(
        DataError,
        match=rf"city_SE3_egovehicle.feather: timestamp_ns {sweeps[3]}: field timestamp_ns: "
        "no ego pose",
    ):
        read_av2_trajectories(log)


def test_commonroad_recorded_and_simulated(shared_data: Path) -> None:
    cr = shared_data / "commonroad"
    assert commonroad_source(cr / "USA_US101-4_1_T-1.xml")[0] == "recorded"
    assert commonroad_source(cr / "FRA_Anglet-1_1_T-1.xml")[0] == "simulated"
    assert commonroad_source(cr / "format_2018b" / "DEU_A9-3_1_T-1.xml")[0] == "recorded"
    rec = read_commonroad_trajectories(cr / "USA_US101-4_1_T-1.xml")
    assert (rec.traffic, len(rec.agents), rec.dt_s) == ("recorded", 22, 0.1)
    assert rec.road_map is not None and rec.road_map.frame == rec.frame
    cases = build_cases(rec, CaseSettings())
    assert len(cases) == 116
    assert set(cases.group.tolist()) == {"vehicle"}


def test_commonroad_without_a_known_source_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.xml"
    bad.write_text('<commonRoad source="somewhere" timeStepSize="0.1"></commonRoad>')
    with pytest.raises(DataError, match=r"x.xml: field source: cannot tell recorded"):
        commonroad_source(bad)


def test_kitti_sequence_and_a_missing_pose(shared_data: Path, tmp_path: Path) -> None:
    root = shared_data / "kitti_tracking"
    rec = read_kitti_trajectories(root, "0001")
    assert rec.frame == "world" and rec.dt_s == pytest.approx(0.1)
    assert len(build_cases(rec, CaseSettings())) > 0
    # the pose file one line short of the labelled frames
    copy = tmp_path / "kitti"
    for sub in ("label_02", "calib", "ego_poses_orbslam3_stereo"):
        (copy / "training" / sub).mkdir(parents=True)
        src = root / "training" / sub / "0001.txt"
        shutil.copy(src, copy / "training" / sub / "0001.txt")
    pose = copy / "training" / "ego_poses_orbslam3_stereo" / "0001.txt"
    lines = pose.read_text().splitlines()
    pose.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(DataError, match=rf"0001.txt: line {len(lines)}: no ego pose for frame"):
        read_kitti_trajectories(copy, "0001")


def test_an_av2_log_without_its_map_folder_is_read_without_a_map(
    shared_data: Path, tmp_path: Path
) -> None:
    # "no log_map_archive_*.json" refused the log even for map-free models
    log = tmp_path / "log"
    log.mkdir()
    for name in ("annotations.feather", "city_SE3_egovehicle.feather"):
        (log / name).symlink_to(shared_data / AV2_LOG / name)
    rec = read_av2_trajectories(log)
    assert rec.road_map is None and len(rec.agents) == 114
