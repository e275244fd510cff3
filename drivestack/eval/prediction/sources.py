"""Ground-truth trajectories of Argoverse 2 logs, CommonRoad scenarios and KITTI tracking
sequences, each in a fixed world frame (:class:`~drivestack.eval.prediction.trajectories.TrajectorySet`).

- AV2 (``<dataset_dir>/<log_id>/``): ``annotations.feather`` cuboids (ego frame at each
  sweep) moved into the city frame by ``city_SE3_egovehicle.feather``; every sweep must have
  its pose. Times from the first sweep. The map (``map/``) is read with
  ``drivestack.ingest.maps.av2_road_map.read_av2_road_map`` when that module is installed
  and the log has its ``map/`` folder; without either the log has no map (map-based models
  are not run on it).
- CommonRoad (``*.xml``): the dynamic obstacles' states (static ones never move and are left
  out); the file's ``source`` attribute says whether its traffic was recorded (NGSIM, BMW's
  A9 recordings) or simulated (SUMO).
- KITTI tracking (``<root>/training``): ``label_02`` boxes (DontCare left out) in the LiDAR
  frame, moved into the sequence's world frame (z-up camera frame of frame 0) by the
  ORB-SLAM3 ego poses, as the tracker's ego-motion compensation does; frame ``i`` at
  ``0.1 i`` s. No map.
"""

from __future__ import annotations

import importlib
import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import cast

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.transforms import wrap_angle
from drivestack.eval.prediction.trajectories import (
    TrajectorySet,
    median_sample_period_s,
    sample_period_jittered,
    trajectories_from_rows,
)
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import RoadMap

#: The frame of AV2 trajectories without a map (AV2's own name for it).
AV2_CITY_FRAME = "city"
#: The frame of KITTI trajectories: the z-up camera frame of the sequence's frame 0.
KITTI_WORLD_FRAME = "world"
#: Words of a CommonRoad ``source`` attribute that mean recorded traffic (NGSIM's US-101,
#: Peachtree and Lankershim recordings; BMW's A9 recordings) and simulated traffic.
_RECORDED_WORDS = ("NGSIM", "Next Generation Simulation", "BMW")
_SIMULATED_WORDS = ("SUMO",)


#: AV2 categories of two-wheelers without their rider (the rider is its own cuboid):
#: not forecast (their agents count under ``agents_skipped_by_class`` as unknown).
RIDERLESS_CATEGORIES = ("BICYCLE", "MOTORCYCLE")


def read_av2_trajectories(log_dir: str | Path) -> TrajectorySet:
    """One AV2 sensor log's cuboid tracks in the city frame (see the module doc).

    Raises:
        DataError: the readers' errors (file, row, column); a sweep without an ego pose
            (naming the pose file and the sweep's ``timestamp_ns``).
    """
    from drivestack.ingest.argoverse2 import read_av2_cuboids, read_av2_poses

    log = Path(log_dir)
    cuboids = read_av2_cuboids(log / "annotations.feather")
    pose_path = log / "city_SE3_egovehicle.feather"
    poses = read_av2_poses(pose_path)
    sweeps, row_sweep = np.unique(cuboids.timestamp_ns, return_inverse=True)
    pose = poses.at_times(sweeps)
    rot = pose.rotation[row_sweep]  # (N, 3, 3)
    trans = pose.translation[row_sweep]
    boxes = cuboids.boxes.copy()
    boxes[:, 0:3] = np.einsum("nij,nj->ni", rot, boxes[:, 0:3]) + trans
    boxes[:, 6] = wrap_angle(boxes[:, 6] + np.arctan2(rot[:, 1, 0], rot[:, 0, 0]))
    time_s = (
        (cuboids.timestamp_ns - sweeps[0]).astype(np.float64) * 1e-9 if len(sweeps) else np.zeros(0)
    )
    road_map = _av2_road_map(log)
    frame = road_map.frame if road_map is not None else AV2_CITY_FRAME
    path = str(log / "annotations.feather")
    label = cuboids.to_boxes().label.copy()
    # a bicycle or motorcycle cuboid is the vehicle, not its rider (AV2 labels the rider
    # apart, BICYCLIST / MOTORCYCLIST): a parked bike is no cyclist to forecast
    label[np.isin(cuboids.category, RIDERLESS_CATEGORIES)] = int(ObjectClass.UNKNOWN)
    dt_s = median_sample_period_s(time_s, path)
    return TrajectorySet(
        name=log.name,
        path=str(log),
        frame=frame,
        dt_s=dt_s,
        dt_jittered=sample_period_jittered(time_s, dt_s),
        traffic="recorded",
        source="Argoverse 2 sensor dataset annotations",
        agents=trajectories_from_rows(cuboids.track_uuid, time_s, boxes, label, frame, path),
        road_map=road_map,
    )


def av2_road_map_available() -> bool:
    """Whether ``drivestack.ingest.maps.av2_road_map`` is installed (the AV2 map reader)."""
    return importlib.util.find_spec("drivestack.ingest.maps.av2_road_map") is not None


def _av2_road_map(log: Path) -> RoadMap | None:
    """The log's lanes as a city-frame :class:`RoadMap` when the AV2 map reader exists and
    the log has its ``map/`` folder (without one, as without the reader, the log has no map:
    the map models are not run on it and a note says so)."""
    if not av2_road_map_available() or not (log / "map").is_dir():
        return None
    module = importlib.import_module("drivestack.ingest.maps.av2_road_map")
    return cast(RoadMap, module.read_av2_road_map(log / "map"))


def commonroad_source(path: str | Path) -> tuple[str, str]:
    """``(traffic, source)`` of a CommonRoad file: its root's ``source`` attribute and
    ``"recorded"`` or ``"simulated"`` from it.

    Raises:
        DataError: naming the file and field ``source`` when the attribute is missing or
            names neither a recording nor a simulator this module knows.
    """
    try:
        _, root = next(ET.iterparse(str(path), events=("start",)))
    except (OSError, ET.ParseError, StopIteration) as exc:
        raise DataError(f"cannot parse XML: {exc}", path=str(path)) from exc
    source = root.get("source", "")
    if any(w in source for w in _SIMULATED_WORDS):
        return "simulated", source
    if any(w in source for w in _RECORDED_WORDS):
        return "recorded", source
    raise DataError(
        f"cannot tell recorded from simulated traffic by {source!r} (known: "
        f"{', '.join(_RECORDED_WORDS + _SIMULATED_WORDS)})",
        path=str(path),
        field="source",
    )


def read_commonroad_trajectories(path: str | Path) -> TrajectorySet:
    """One CommonRoad file's dynamic obstacles in its map frame (see the module doc); box
    centres at half their height above the road.

    Raises:
        DataError: the reader's errors (file, obstacle, field); an unknown ``source``.
    """
    from drivestack.ingest.maps.commonroad import read_commonroad

    p = Path(path)
    traffic, source = commonroad_source(p)
    scenario = read_commonroad(p)
    dynamic = scenario.agents[: scenario.n_dynamic_obstacles]
    rows_id, rows_t, rows_box, rows_label = [], [], [], []
    for agent in dynamic:
        track = agent.replay
        if track is None:  # the reader gives every dynamic obstacle its states
            continue
        n = len(track.time_s)
        length, width, height = agent.size_m
        box = np.column_stack(
            [
                track.x_m,
                track.y_m,
                np.full(n, height / 2),
                np.full(n, length),
                np.full(n, width),
                np.full(n, height),
                wrap_angle(track.yaw_rad),
            ]
        )
        rows_id += [agent.agent_id] * n
        rows_t.append(track.time_s)
        rows_box.append(box)
        rows_label += [int(agent.label)] * n
    frame = scenario.road_map.frame
    time_s = np.concatenate(rows_t) if rows_t else np.zeros(0)
    return TrajectorySet(
        name=p.name,
        path=str(p),
        frame=frame,
        dt_s=scenario.dt_s,
        traffic=traffic,
        source=source,
        agents=trajectories_from_rows(
            np.asarray(rows_id, dtype=str),
            time_s,
            np.concatenate(rows_box) if rows_box else np.zeros((0, 7)),
            np.asarray(rows_label, dtype=np.int64),
            frame,
            str(p),
        ),
        road_map=scenario.road_map,
    )


def read_kitti_trajectories(root: str | Path, sequence: str) -> TrajectorySet:
    """One KITTI tracking sequence's labelled tracks in its world frame (see the module doc).

    Raises:
        DataError: the readers' errors (file, line, field); no ego-pose file, or a labelled
            frame the pose file has no line for (naming the file and line).
    """
    from drivestack.ingest.kitti_tracking import (
        KITTI_TRACKING_FRAME_PERIOD_NS,
        KittiTrackingSequence,
    )

    seq = KittiTrackingSequence(root, sequence)
    if not seq.pose_path.exists():
        raise DataError("no ego-pose file: the world frame needs it", path=str(seq.pose_path))
    frames = np.unique(seq.label_rows.frame)
    rows_id, rows_t, rows_box, rows_label = [], [], [], []
    for f in frames.tolist():
        boxes, ids = seq.frame_labels(f)
        pose = seq.world_from_lidar(f)
        if boxes is None or ids is None or pose is None or not len(boxes):
            continue
        world = boxes.transformed(pose, KITTI_WORLD_FRAME)
        rows_id += list(ids)
        rows_t.append(np.full(len(ids), f * KITTI_TRACKING_FRAME_PERIOD_NS * 1e-9))
        rows_box.append(world.to_array7())
        rows_label.append(world.label)
    path = str(seq.label_path)
    time_s = np.concatenate(rows_t) if rows_t else np.zeros(0)
    return TrajectorySet(
        name=seq.name,
        path=path,
        frame=KITTI_WORLD_FRAME,
        dt_s=KITTI_TRACKING_FRAME_PERIOD_NS * 1e-9,
        traffic="recorded",
        source="KITTI tracking label_02 (ORB-SLAM3 stereo ego poses)",
        agents=trajectories_from_rows(
            np.asarray(rows_id, dtype=str),
            time_s,
            np.concatenate(rows_box) if rows_box else np.zeros((0, 7)),
            np.concatenate(rows_label) if rows_label else np.zeros(0, dtype=np.int64),
            KITTI_WORLD_FRAME,
            path,
        ),
    )
