"""Argoverse 2 region of interest: drivable area dilated by 5 m (``eval_only_roi_instances``).

av2-api rasterises the log map's drivable-area polygons and dilates the raster by 5 m; a
cuboid is evaluated when any of its 8 vertices (city frame) falls in it. Here the polygons are
united and buffered by 5 m exactly with shapely (no raster), so cuboids within a grid cell of
the ROI edge may be classified differently.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.transforms import SE3
from drivestack.ingest.maps.av2_drivable import read_av2_drivable_area

ROI_ISOCONTOUR_M = 5.0


def read_drivable_area_roi(map_dir: str | Path, dilation_m: float = ROI_ISOCONTOUR_M) -> Any:
    """The ROI of a log (``map/log_map_archive_*.json``) as a shapely geometry (city frame): its
    drivable area (:func:`~drivestack.ingest.maps.av2_drivable.read_av2_drivable_area`)
    dilated by ``dilation_m``."""
    return read_av2_drivable_area(map_dir).buffer(dilation_m)


def cuboids_in_roi(boxes: np.ndarray, city_from_ego: SE3, roi: Any) -> np.ndarray:
    """``(N,)`` True where any of the 8 vertices of ``boxes (N, 7)`` (ego frame) is in ``roi``."""
    import shapely

    from drivestack.kernels import box_corners

    if len(boxes) == 0:
        return np.zeros(0, dtype=bool)
    corners = city_from_ego.apply(
        np.asarray(box_corners(np.asarray(boxes, dtype=np.float64))).reshape(-1, 3)
    )
    inside = shapely.contains_xy(roi, corners[:, 0], corners[:, 1]) | shapely.touches(
        roi, shapely.points(corners[:, :2])
    )
    per_vertex = np.asarray(inside, dtype=bool).reshape(len(boxes), 8)
    return np.asarray(per_vertex.any(axis=1), dtype=bool)


def roi_filter_for_logs(
    dataset_dir: str | Path, log_ids: list[str]
) -> Callable[[str, int, np.ndarray], np.ndarray]:
    """A ``(log_id, timestamp_ns, boxes) -> in_roi`` function over the logs' maps and poses."""
    from drivestack.ingest.argoverse2 import read_av2_poses

    rois = {log: read_drivable_area_roi(Path(dataset_dir) / log / "map") for log in log_ids}
    poses = {
        log: read_av2_poses(Path(dataset_dir) / log / "city_SE3_egovehicle.feather")
        for log in log_ids
    }

    def in_roi(log_id: str, timestamp_ns: int, boxes: np.ndarray) -> np.ndarray:
        return cuboids_in_roi(boxes, poses[log_id].at(timestamp_ns), rois[log_id])

    return in_roi
