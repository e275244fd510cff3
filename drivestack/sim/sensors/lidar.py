"""Ray-cast LiDAR: beam layout presets, noise, dropout, intensity and motion distortion.

A sweep fires ``n_azimuth`` columns of all beams over ``sweep_duration_s``, starting at the
azimuth behind the sensor and turning counter-clockwise (as a spinning LiDAR does). Each
column is fired from the sensor pose at its own time (ego moving with constant speed and
yaw rate over the sweep), and each return is expressed in the sensor frame at that time:
this is the motion distortion real sweeps have. Output: a ``PointCloud`` in the LiDAR frame
with ``intensity`` (0..1), ``ring`` (beam index, 0 = lowest), ``time_offset_ns`` and
``instance`` (0 = background, agents 1..N), exactly as ingestion produces for logged sweeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from drivestack.core.transforms import SE3
from drivestack.sim.sensors.scene import REFLECTIVITY, Material, SensorScene
from drivestack.structures.point_cloud import PointCloud

_REFLECTIVITY_BY_MATERIAL = np.array([REFLECTIVITY[Material(m)] for m in range(len(Material))])


@dataclass(frozen=True)
class LidarPreset:
    """Beam layout: elevation angles (deg, any order), azimuth columns per sweep, range."""

    name: str
    elevations_deg: tuple[float, ...]
    n_azimuth: int
    max_range_m: float
    min_range_m: float = 0.5

    def __post_init__(self) -> None:
        if not self.elevations_deg:
            raise ValueError(f"LiDAR preset {self.name!r} has no beams (elevations_deg is empty)")
        if self.n_azimuth < 1:
            raise ValueError(
                f"LiDAR preset {self.name!r}: n_azimuth must be >= 1, got {self.n_azimuth}"
            )
        if not 0 <= self.min_range_m < self.max_range_m:
            raise ValueError(f"LiDAR preset {self.name!r}: need 0 <= min_range_m < max_range_m")


def _hdl64_elevations() -> tuple[float, ...]:
    # HDL-64E: upper block +2 .. -8.33 deg (32 beams), lower block -8.83 .. -24.33 deg (32 beams)
    upper = np.linspace(2.0, -8.33, 32)
    lower = np.linspace(-8.83, -24.33, 32)
    return tuple(float(e) for e in np.concatenate([upper, lower]))


LIDAR_PRESETS: dict[str, LidarPreset] = {
    "hdl64": LidarPreset("hdl64", _hdl64_elevations(), 1800, 120.0),
    "vlp32": LidarPreset(
        "vlp32", tuple(float(e) for e in np.linspace(-25.0, 15.0, 32)), 1800, 200.0
    ),
    "os128": LidarPreset(
        "os128", tuple(float(e) for e in np.linspace(-22.5, 22.5, 128)), 1024, 120.0
    ),
}


@lru_cache(maxsize=16)
def _ray_layout(
    preset: LidarPreset, sweep_duration_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    elev = np.deg2rad(np.asarray(preset.elevations_deg))
    ring_order = np.argsort(np.argsort(elev))  # 0 = lowest elevation
    n_az = preset.n_azimuth
    azimuth = -np.pi + 2.0 * np.pi * np.arange(n_az) / n_az  # from behind, counter-clockwise
    ce, se = np.cos(elev), np.sin(elev)
    dirs = np.stack(
        [
            np.cos(azimuth)[:, None] * ce[None, :],
            np.sin(azimuth)[:, None] * ce[None, :],
            np.broadcast_to(se, (n_az, len(elev))),
        ],
        axis=-1,
    ).astype(np.float32)
    times = sweep_duration_s * np.arange(n_az) / n_az
    for arr in (dirs, ring_order, times):
        arr.setflags(write=False)
    return dirs, ring_order, times


@dataclass(frozen=True)
class LidarModel:
    """A spinning LiDAR mounted at ``ego_from_lidar``.

    Attributes:
        preset: beam layout (see :data:`LIDAR_PRESETS` or :meth:`from_preset`).
        ego_from_lidar: mounting extrinsic.
        range_noise_std_m: Gaussian range noise.
        dropout_probability: chance that a return is lost.
        sweep_duration_s: time of one revolution (motion distortion spans it).
        seed: base seed; each sweep's noise is seeded by (seed, timestamp) so runs repeat.
    """

    preset: LidarPreset
    ego_from_lidar: SE3
    range_noise_std_m: float = 0.02
    dropout_probability: float = 0.0
    sweep_duration_s: float = 0.1
    seed: int = 0

    @classmethod
    def from_preset(cls, name: str, ego_from_lidar: SE3, **kwargs: float | int) -> LidarModel:
        try:
            preset = LIDAR_PRESETS[name]
        except KeyError:
            raise ValueError(
                f"unknown LiDAR preset {name!r}; known: {sorted(LIDAR_PRESETS)}"
            ) from None
        return cls(preset, ego_from_lidar, **kwargs)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        if not 0.0 <= self.dropout_probability < 1.0:
            raise ValueError(
                f"dropout_probability must be in [0, 1), got {self.dropout_probability}"
            )
        if self.range_noise_std_m < 0 or self.sweep_duration_s < 0:
            raise ValueError("range_noise_std_m and sweep_duration_s must be >= 0")

    @property
    def n_beams(self) -> int:
        return len(self.preset.elevations_deg)

    def ray_layout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unit directions ``(A, B, 3)`` in the LiDAR frame, ring index ``(B,)`` (0 = lowest
        beam) and firing time offsets ``(A,)`` in seconds, for A azimuth columns x B beams."""
        return _ray_layout(self.preset, self.sweep_duration_s)

    def scan(
        self,
        scene: SensorScene,
        world_from_ego: SE3,
        timestamp_ns: int,
        *,
        speed_mps: float = 0.0,
        yaw_rate_radps: float = 0.0,
    ) -> PointCloud:
        """One sweep starting at ``timestamp_ns`` with the ego at ``world_from_ego`` then."""
        dirs, ring, times = self.ray_layout()
        n_beams = dirs.shape[1]
        # sensor pose per column, ego moving with constant speed and yaw rate from the sweep start:
        # world_from_lidar(t) = world_from_ego @ ego0_from_ego(t) @ ego_from_lidar
        dyaw = yaw_rate_radps * times
        if abs(yaw_rate_radps) > 1e-9:
            radius = speed_mps / yaw_rate_radps
            dx, dy = radius * np.sin(dyaw), radius * (1.0 - np.cos(dyaw))
        else:
            dx, dy = speed_mps * times, np.zeros_like(times)
        # ray directions: lidar -> ego axes once, then the per-column yaw about z, then the
        # ego's world rotation (one 3x3 for all rays)
        dirs_ego = dirs @ self.ego_from_lidar.rotation.T.astype(np.float32)  # (A, B, 3)
        c = np.cos(dyaw).astype(np.float32)[:, None]
        s_ = np.sin(dyaw).astype(np.float32)[:, None]
        turned = np.empty_like(dirs_ego)
        turned[..., 0] = c * dirs_ego[..., 0] - s_ * dirs_ego[..., 1]
        turned[..., 1] = s_ * dirs_ego[..., 0] + c * dirs_ego[..., 1]
        turned[..., 2] = dirs_ego[..., 2]
        world_dirs = turned.reshape(-1, 3) @ world_from_ego.rotation.T.astype(np.float32)
        mount = self.ego_from_lidar.translation
        origin_ego = np.stack(
            [
                dx + np.cos(dyaw) * mount[0] - np.sin(dyaw) * mount[1],
                dy + np.sin(dyaw) * mount[0] + np.cos(dyaw) * mount[1],
                np.full_like(dx, mount[2]),
            ],
            axis=1,
        )
        origin = origin_ego @ world_from_ego.rotation.T + world_from_ego.translation  # (A, 3)
        origins = np.repeat(origin.astype(np.float32), n_beams, axis=0)
        hits = scene.cast(origins, world_dirs, self.preset.max_range_m)
        rng = np.random.default_rng([self.seed, int(timestamp_ns) & 0x7FFFFFFFFFFFFFFF])
        hit_index = np.flatnonzero(np.isfinite(hits.range_m))
        if self.dropout_probability > 0:
            hit_index = hit_index[rng.random(hit_index.size) >= self.dropout_probability]
        kept_range = hits.range_m[hit_index].astype(np.float64)
        if self.range_noise_std_m > 0:
            kept_range += rng.normal(0.0, self.range_noise_std_m, kept_range.shape)
        in_range = kept_range >= self.preset.min_range_m
        hit_index, kept_range = hit_index[in_range], kept_range[in_range]
        # each return in the sensor frame at its own firing time (motion distortion)
        xyz = dirs.reshape(-1, 3)[hit_index] * kept_range[:, None].astype(np.float32)
        cos_incidence = np.abs(np.sum(hits.normal[hit_index] * world_dirs[hit_index], axis=1))
        reflectivity = _REFLECTIVITY_BY_MATERIAL[hits.material[hit_index]]
        falloff = 1.0 / (1.0 + (kept_range / 100.0) ** 2)
        intensity = np.clip(reflectivity * cos_incidence * falloff, 0.0, 1.0).astype(np.float32)
        column, beam = np.divmod(hit_index, n_beams)
        return PointCloud(
            xyz.astype(np.float32),
            "lidar",
            int(timestamp_ns),
            {
                "intensity": intensity,
                "ring": ring[beam].astype(np.uint16),
                "time_offset_ns": np.round(times[column] * 1e9).astype(np.int64),
                "instance": hits.instance[hit_index].astype(np.int32),
            },
        )
