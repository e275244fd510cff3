"""LiDAR point painting (PointPainting-style) with a camera's 2D detections.

Each point is projected into the image (:func:`drivestack.kernels.points_in_frustum`,
:func:`drivestack.kernels.project_points`); a point whose pixel lies inside a detection box of
class ``c`` gets that detection's score in attribute ``score_<class name>`` (the maximum over
overlapping boxes and over cameras painted before); points outside every box or outside the
image get 0. The attribute ``camera_seen`` (uint8) marks points inside any painted camera's
frustum, so a LiDAR detector can tell "no object seen" from "not seen at all".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from drivestack.core.frames import EGO, LIDAR
from drivestack.core.transforms import SE3
from drivestack.kernels import points_in_frustum, project_points
from drivestack.perception.fusion.association import check_camera_inputs
from drivestack.structures.camera import CameraCalibration
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud

CAMERA_SEEN = "camera_seen"


def score_attribute(label: int) -> str:
    """Attribute name of a class's painted score, e.g. ``score_car``; ``ValueError`` for a
    label that is no :class:`ObjectClass` value."""
    try:
        return f"score_{ObjectClass(int(label)).name.lower()}"
    except (TypeError, ValueError):
        raise ValueError(f"class {label!r} is no ObjectClass id") from None


def paint_points(
    cloud: PointCloud,
    detections: Detections2D,
    calibration: CameraCalibration,
    classes: Sequence[int],
    *,
    ego_from_cloud: SE3 | None = None,
    max_depth_m: float = float("inf"),
    ego_frame: str | None = None,
    max_time_offset_s: float = 0.05,
) -> PointCloud:
    """``cloud`` with per-point class scores from one camera's ``detections`` added.

    Args:
        cloud: points in the ego frame of ``calibration.camera_from_ego`` (or mapped there by
            ``ego_from_cloud``).
        classes: :class:`ObjectClass` ids to paint (one ``score_<name>`` float32 attribute each;
            detections of other classes are ignored).
        ego_frame: the frame id of the ego frame of ``calibration.camera_from_ego`` (a
            :class:`CameraCalibration` does not name it); without ``ego_from_cloud`` the cloud
            must be in it. ``None``: ``"ego"`` or ``"lidar"`` (KITTI calibrations map the
            LiDAR frame), so a cloud in ``"map"`` or ``"world"`` is refused.
        max_time_offset_s: the cloud and the detections may be stamped at most this far apart.

    Raises:
        TypeError: ``detections`` or ``calibration`` of another type.
        ValueError: detections not in the calibration's camera frame, a cloud frame other than
            the ego frame (without ``ego_from_cloud``), or stamps further apart than
            ``max_time_offset_s``.

    Returns:
        A new :class:`PointCloud` (same points) with ``score_<name>`` and ``camera_seen``;
        existing attributes of those names are combined by maximum (painting several cameras).
    """
    check_camera_inputs("paint_points", detections, calibration)
    if ego_from_cloud is None:
        frames = (EGO, LIDAR) if ego_frame is None else (ego_frame,)
        if cloud.frame not in frames:
            raise ValueError(
                f"the cloud is in frame {cloud.frame!r}, the calibration maps "
                f"{' or '.join(repr(f) for f in frames)}: pass ego_from_cloud (or ego_frame)"
            )
    offset_s = abs(int(cloud.timestamp_ns) - int(detections.timestamp_ns)) / 1e9
    if not offset_s <= max_time_offset_s:
        raise ValueError(
            f"the cloud (timestamp_ns {cloud.timestamp_ns}) and the detections (timestamp_ns "
            f"{detections.timestamp_ns}) are {offset_s:g} s apart; at most "
            f"max_time_offset_s={max_time_offset_s:g} s"
        )
    camera_from_cloud = calibration.camera_from_ego
    if ego_from_cloud is not None:
        camera_from_cloud = camera_from_cloud @ ego_from_cloud
    pts_cam = camera_from_cloud.apply(np.asarray(cloud.xyz_m, dtype=np.float64))
    distortion = calibration.distortion if calibration.has_distortion else None
    seen = np.asarray(
        points_in_frustum(
            pts_cam,
            calibration.intrinsics,
            calibration.width_px,
            calibration.height_px,
            distortion,
            max_depth_m=max_depth_m,
        )
    )
    idx = np.flatnonzero(seen)
    uv = np.asarray(project_points(pts_cam[idx], calibration.intrinsics, distortion)[0])
    attrs: dict[str, np.ndarray] = {}
    for i, label in enumerate(classes):
        try:
            name = score_attribute(label)
        except ValueError as exc:
            raise ValueError(f"paint_points classes[{i}]: {exc}") from None
        sel = detections.label == int(label)
        boxes, scores = detections.box_xyxy_px[sel], detections.score[sel]
        painted = np.zeros(len(cloud), dtype=np.float32)
        if boxes.shape[0] and idx.size:
            inside = (
                (uv[:, None, 0] >= boxes[None, :, 0])
                & (uv[:, None, 0] <= boxes[None, :, 2])
                & (uv[:, None, 1] >= boxes[None, :, 1])
                & (uv[:, None, 1] <= boxes[None, :, 3])
            )  # (P, B)
            painted[idx] = np.max(np.where(inside, scores[None, :], 0.0), axis=1)
        if name in cloud.attributes:
            painted = np.maximum(painted, np.asarray(cloud.attributes[name], dtype=np.float32))
        attrs[name] = painted
    seen_u8 = seen.astype(np.uint8)
    if CAMERA_SEEN in cloud.attributes:
        seen_u8 = np.maximum(seen_u8, np.asarray(cloud.attributes[CAMERA_SEEN], dtype=np.uint8))
    attrs[CAMERA_SEEN] = seen_u8
    return cloud.with_attributes(**attrs)
