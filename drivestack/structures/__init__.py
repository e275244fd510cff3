"""Frozen, validated, structure-of-arrays types passed between stages. Empty (N=0) is valid."""

from drivestack.structures.boxes import Boxes3D
from drivestack.structures.camera import CameraCalibration, CameraImage
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.ego_state import EgoState
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.road_map import Lane, RoadMap
from drivestack.structures.sensor_frame import SensorFrame
from drivestack.structures.tracks import Tracks
from drivestack.structures.traffic_light import (
    LaneStop,
    SignalCycle,
    SignalPhase,
    SignalSwitch,
    TrafficLight,
)
from drivestack.structures.trajectory import Trajectory

__all__ = [
    "Boxes3D",
    "CameraCalibration",
    "CameraImage",
    "Detections2D",
    "EgoState",
    "Lane",
    "LaneStop",
    "ObjectClass",
    "PointCloud",
    "RoadMap",
    "SensorFrame",
    "SignalCycle",
    "SignalPhase",
    "SignalSwitch",
    "Tracks",
    "TrafficLight",
    "Trajectory",
]
