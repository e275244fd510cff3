"""Hand-made LiDAR scenes for the perception tests (seeded, deterministic)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from drivestack.perception.lidar.config import ClassifyConfig, ClassPrior, ClusterConfig

SENSOR_HEIGHT_M = 1.73
#: The shipped perception configs, and the KITTI LiDAR one most tests run with.
PERCEPTION_CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "perception"
KITTI_LIDAR_CONFIG = PERCEPTION_CONFIGS / "lidar_kitti.yaml"

# A small hand-made classifier (wide size priors, score = a plain linear map) shared by the
# classification tests.
PRIOR = dict(std_lwh_m=(0.5, 0.2, 0.15), min_points=5, score_weights=(-1.0, 1.0, 0.5, 0.0, 0.0))
#: Clustering as the shipped LiDAR configs set it (lidar_kitti.yaml, lidar_sim.yaml): 0.2 m
#: voxels, link 0.45 m growing 0.03 m per m of range to 1.2 m.
CLUSTER = ClusterConfig(
    voxel_size_m=0.2,
    base_distance_m=0.45,
    distance_per_range=0.03,
    max_distance_m=1.2,
    min_points=4,
    max_points=4000,
    min_height_above_ground_m=0.35,
    max_height_above_ground_m=3.0,
)

CLASSIFY = ClassifyConfig(
    car=ClassPrior(mean_lwh_m=(4.2, 1.75, 1.6), min_lwh_m=(1.2, 0.3, 1.25), **PRIOR),  # type: ignore[arg-type]
    pedestrian=ClassPrior(mean_lwh_m=(0.8, 0.65, 1.75), min_lwh_m=(0.2, 0.2, 1.3), **PRIOR),  # type: ignore[arg-type]
    cyclist=ClassPrior(mean_lwh_m=(1.8, 0.65, 1.75), min_lwh_m=(1.3, 0.2, 1.4), **PRIOR),  # type: ignore[arg-type]
    min_likelihood=0.1,
    keep_unknown=False,
    min_score=0.0,
)


def ground_plane(
    rng: np.random.Generator,
    *,
    slope_x: float = 0.0,
    slope_y: float = 0.0,
    radius_m: float = 40.0,
    num: int = 40_000,
    noise_m: float = 0.02,
) -> np.ndarray:
    """``(num, 3)`` points on ``z = -SENSOR_HEIGHT_M + slope_x x + slope_y y`` (+ noise), drawn
    denser near the sensor like a spinning LiDAR's rings."""
    r = 3.0 + (radius_m - 3.0) * rng.random(num) ** 1.5
    a = rng.uniform(-np.pi, np.pi, num)
    x, y = r * np.cos(a), r * np.sin(a)
    z = -SENSOR_HEIGHT_M + slope_x * x + slope_y * y + rng.normal(0.0, noise_m, num)
    return np.stack([x, y, z], axis=1)


def box_surface(
    rng: np.random.Generator,
    box: np.ndarray,
    *,
    density_per_m2: float = 150.0,
    visible_only: bool = True,
) -> np.ndarray:
    """Points on the side faces and the top of a ``(7,)`` box; with ``visible_only`` only the
    faces whose outward normal points towards the sensor at the origin."""
    x, y, z, length, width, height, yaw = box
    c, s = np.cos(yaw), np.sin(yaw)
    faces = []
    for axis, sign in ((0, 1), (0, -1), (1, 1), (1, -1)):
        normal_local = np.array([sign, 0.0]) if axis == 0 else np.array([0.0, sign])
        normal = np.array(
            [c * normal_local[0] - s * normal_local[1], s * normal_local[0] + c * normal_local[1]]
        )
        half = 0.5 * (length if axis == 0 else width)
        centre = np.array([x, y]) + normal * half
        if visible_only and np.dot(normal, -centre) <= 0:
            continue
        span = width if axis == 0 else length
        n = max(int(density_per_m2 * span * height), 1)
        t = rng.uniform(-0.5, 0.5, n) * span
        h = rng.uniform(-0.5, 0.5, n) * height + z
        tangent = np.array([-normal[1], normal[0]])
        xy = centre[None, :] + t[:, None] * tangent[None, :]
        faces.append(np.concatenate([xy, h[:, None]], axis=1))
    n_top = int(density_per_m2 * length * width * 0.5)
    u = rng.uniform(-0.5, 0.5, (n_top, 2)) * np.array([length, width])
    top = np.stack(
        [
            x + c * u[:, 0] - s * u[:, 1],
            y + s * u[:, 0] + c * u[:, 1],
            np.full(n_top, z + 0.5 * height),
        ],
        axis=1,
    )
    faces.append(top)
    return np.concatenate(faces, axis=0)


def car_on_plane(
    x: float, y: float, yaw: float, *, slope_x: float = 0.0, slope_y: float = 0.0
) -> np.ndarray:
    """``(7,)`` a 4.2 x 1.8 x 1.5 m car standing on the tilted ground plane at ``(x, y)``."""
    ground_z = -SENSOR_HEIGHT_M + slope_x * x + slope_y * y
    return np.array([x, y, ground_z + 0.75, 4.2, 1.8, 1.5, yaw])
