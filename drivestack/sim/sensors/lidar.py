"""Ray-cast LiDAR: beam layout presets, noise, detection limit, intensity and motion distortion.

A sweep fires ``n_azimuth`` columns of all beams over ``sweep_duration_s``, starting at the
azimuth behind the sensor and turning clockwise seen from above (azimuth decreasing with
time), as Velodyne and Hesai sensors spin: Argoverse 2's VLP-32C fires azimuth +90 deg 25 ms
before 0 deg and -90 deg 25 ms after it, PandaSet's Pandar64 turns the same way, and
:mod:`drivestack.ingest.rosbag.velodyne` reads azimuth clockwise from +x. The column facing
forward (LiDAR +x) fires at the sweep's ``timestamp_ns``, as KITTI triggers its cameras:
column times run from ``-sweep_duration_s / 2`` (facing backwards) through the left side
(``-sweep_duration_s / 4``) to almost ``+sweep_duration_s / 2``, so a frame's labels and
images (taken at ``timestamp_ns``) match the returns straight ahead, and ``time_offset_ns``
is negative for the first half of the sweep (the left side). ``sync_azimuth_rad`` moves the
column firing at ``timestamp_ns`` (a Velodyne's phase lock): a sensor mounted with a yaw
about the ego's z is synced on the ego's forward with ``-yaw``, as
:class:`~drivestack.sim.perceived.SimLidarParams` builds it. Each column is fired from the
sensor pose at its own time (ego moving with constant speed and yaw rate), and each return
is expressed in the sensor frame at that time: this is the motion distortion real sweeps
have. The scene's agents move too: each is cast at its position at the column's time
(constant velocity), rounded to time slabs fine enough that no agent is off by more than
``agent_motion_tolerance_m``.

Returns: a hit is detected only when ``reflectivity * cos(incidence) / range**2`` (the
received power of a Lambertian surface, up to a constant) reaches ``min_signal_per_m2``, so
grazing road and dark surfaces far away are lost as on a real sensor; ``dropout_probability``
loses returns uniformly on top. No return lies beyond the preset's ``max_range_m`` (nor
nearer than its ``min_range_m``), range noise included. ``intensity`` is
``reflectivity * cos(incidence)`` clipped to 0..1, without fall-off with range (Velodyne
intensity is range-compensated; reflectivities:
:data:`~drivestack.sim.sensors.scene.REFLECTIVITY`). Output: a ``PointCloud`` in the LiDAR
frame with ``intensity``, ``ring`` (beam index as the maker numbers it: 0 = lowest for the
Velodyne presets, 0 = top for ``os128``, as Ouster's driver and drivestack's Ouster ingestion
give it), ``time_offset_ns`` and ``instance`` (0 = background, agents 1..N), as ingestion
produces for logged sweeps, except that ``time_offset_ns`` runs from -T/2 to +T/2 about the
forward column's firing (a logged sweep's from its first column): both are consistent with
their cloud's ``timestamp_ns``, so deskewing reads them alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from drivestack.core.transforms import SE3
from drivestack.sim.sensors._fused import assemble_returns, lidar_rays
from drivestack.sim.sensors.scene import REFLECTIVITY, Material, SensorScene
from drivestack.structures._checks import check_number
from drivestack.structures.point_cloud import PointCloud

_REFLECTIVITY_BY_MATERIAL = np.array([REFLECTIVITY[Material(m)] for m in range(len(Material))])
#: Default detection limit of :class:`LidarModel` (1/m^2): the road under a sensor 1.73 m up
#: (KITTI's HDL-64E) stays detectable to 80 m, as in KITTI's scans: a flat road at range r is
#: hit at cos(incidence) = h / r, so its signal is ``REFLECTIVITY[ROAD] * h / r**3``. KITTI
#: shows only that much (an upper bound on the limit): its sweeps end at 80.0 m for every
#: surface, not by received power (kitti_object training 000000-000005: farthest return
#: 78.5-80.0 m, 0-41 returns per scan within 79-80 m, two thirds of the 1878 beyond 70 m
#: above the sensor, their median intensity 0, none beyond 80 m), which the hdl64 preset's
#: ``max_range_m`` reproduces.
#: With this limit a face-on car (reflectivity 0.27) stays detectable to 298 m, one at
#: cos(incidence) 0.3 to 163 m, and at 80 m a car face is lost below cos(incidence) 0.072
#: (86 deg off its normal), a building's below 0.043. Used by every preset.
MIN_SIGNAL_PER_M2 = REFLECTIVITY[Material.ROAD] * 1.73 / 80.0**3
#: Largest velocity component (m/s) whose square a norm takes without overflow (with room).
_NORM_SAFE_MPS = 1e150


@dataclass(frozen=True)
class LidarPreset:
    """Beam layout: elevation angles (deg, any order), azimuth columns per sweep, range, and
    how the maker numbers the rings: from the lowest beam (Velodyne, ``ring_zero_top`` False)
    or from the top one (Ouster's rows, as its driver and drivestack's Ouster ingestion give
    them)."""

    name: str
    elevations_deg: tuple[float, ...]
    n_azimuth: int
    max_range_m: float
    min_range_m: float = 0.5
    ring_zero_top: bool = False

    def __post_init__(self) -> None:
        if not self.elevations_deg:
            raise ValueError(f"LiDAR preset {self.name!r} has no beams (elevations_deg is empty)")
        for i, elevation in enumerate(self.elevations_deg):  # a NaN beam never hits: no points
            check_number(
                f"LiDAR preset {self.name!r}: elevations_deg[{i}]",
                elevation,
                at_least=-90.0,
                at_most=90.0,
            )
        check_number(f"LiDAR preset {self.name!r}: n_azimuth", self.n_azimuth, integer=True)
        if self.n_azimuth < 1:
            raise ValueError(
                f"LiDAR preset {self.name!r}: n_azimuth must be >= 1, got {self.n_azimuth}"
            )
        # an infinite max_range_m casts nothing (open3d's ray length): a sweep of no points
        if not (np.isfinite(self.max_range_m) and 0 <= self.min_range_m < self.max_range_m):
            raise ValueError(
                f"LiDAR preset {self.name!r}: need 0 <= min_range_m < max_range_m, both finite, "
                f"got {self.min_range_m} and {self.max_range_m}"
            )


def _hdl64_elevations() -> tuple[float, ...]:
    # HDL-64E S2 spec sheet / manual: upper block +2 .. -8.33 deg in 1/3 deg steps (32 beams),
    # lower block -8.83 .. -24.33 deg in 1/2 deg steps (32 beams); the sheet's FOV quotes
    # -24.8 deg at the bottom and KITTI's scans reach -23.7 to -25.2 deg (per-laser calibration)
    upper = np.linspace(2.0, -8.33, 32)
    lower = np.linspace(-8.83, -24.33, 32)
    return tuple(float(e) for e in np.concatenate([upper, lower]))


#: VLP-32C elevations (deg, sorted), non-linear: 1/3 deg steps from -4 to +1.667 deg, wider
#: towards the ends. Velodyne VLP-32C user manual, table 9-6 (laser firing sequence and vertical
#: angles); the same values are nebula's VLP32.yaml calibration (ros_bags/nebula_velodyne_ros2/
#: calibration in the shared data) and Argoverse 2's up_lidar beam medians (within 0.03 deg).
VLP32C_ELEVATIONS_DEG = (
    -25.0, -15.639, -11.31, -8.843, -7.254, -6.148, -5.333, -4.667,
    -4.0, -3.667, -3.333, -3.0, -2.667, -2.333, -2.0, -1.667,
    -1.333, -1.0, -0.667, -0.333, 0.0, 0.333, 0.667, 1.0,
    1.333, 1.667, 2.333, 3.333, 4.667, 7.0, 10.333, 15.0,
)  # fmt: skip

#: Farthest return of KITTI's HDL-64E sweeps (m), whatever the surface: the spec sheet's
#: HDL-64E S2 ranges to 120 m, but KITTI's recorded scans stop at 80.0 m (buildings and trees
#: as well as the road; see :data:`MIN_SIGNAL_PER_M2`), and the hdl64 preset stands for them.
KITTI_MAX_RANGE_M = 80.0

LIDAR_PRESETS: dict[str, LidarPreset] = {
    # HDL-64E at 10 Hz as KITTI records it: returns to 80 m (KITTI_MAX_RANGE_M; the spec
    # sheet's 120 m put 1-2 % of a closed-loop sweep's returns beyond 80 m, building faces and
    # poles out to 120 m). Reduced azimuth resolution: 1800 columns (0.2 deg) where KITTI's
    # HDL-64E measures about 2080 (0.172-0.176 deg per column): 13 % fewer rays keep the
    # closed-loop ray casting (every tick of `drivestack sim --perception lidar`) cheaper, and
    # configs/perception/lidar_sim.yaml was fitted on this resolution.
    "hdl64": LidarPreset("hdl64", _hdl64_elevations(), 1800, KITTI_MAX_RANGE_M),
    # VLP-32C at 10 Hz: 0.2 deg azimuth resolution (manual), 200 m range (manual; Argoverse 2's
    # up_lidar returns to 215 m, brighter surfaces far away: median intensity 63 beyond 150 m,
    # 11 within 30 m, log 7fab2350's first sweep)
    "vlp32": LidarPreset("vlp32", VLP32C_ELEVATIONS_DEG, 1800, 200.0),
    # Ouster OS1-128 (datasheet: 45 deg vertical FOV, +22.5 .. -22.5 deg, uniform beam
    # spacing by default, 512 / 1024 / 2048 columns), here in its 1024 x 10 Hz mode
    "os128": LidarPreset(
        "os128",
        tuple(float(e) for e in np.linspace(-22.5, 22.5, 128)),
        1024,
        120.0,
        ring_zero_top=True,  # Ouster rows: ring 0 is the top beam
    ),
}


@lru_cache(maxsize=16)
def _ray_layout(
    preset: LidarPreset, sweep_duration_s: float, sync_azimuth_rad: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    elev = np.deg2rad(np.asarray(preset.elevations_deg))
    ring_order = np.argsort(np.argsort(-elev if preset.ring_zero_top else elev))
    n_az = preset.n_azimuth
    # from opposite the sync azimuth (+pi from it), clockwise seen from above: azimuth
    # decreases as the sweep goes on; times and the column set relative to the sync azimuth
    relative = np.pi - 2.0 * np.pi * np.arange(n_az) / n_az
    azimuth = relative + sync_azimuth_rad
    ce, se = np.cos(elev), np.sin(elev)
    dirs = np.stack(
        [
            np.cos(azimuth)[:, None] * ce[None, :],
            np.sin(azimuth)[:, None] * ce[None, :],
            np.broadcast_to(se, (n_az, len(elev))),
        ],
        axis=-1,
    ).astype(np.float32)
    times = -sweep_duration_s * relative / (2.0 * np.pi)  # the sync azimuth fires at time 0
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
        dropout_probability: chance that a detected return is lost (uniform, on top of the
            detection limit).
        min_signal_per_m2: detection limit: a hit returns only when ``reflectivity *
            cos(incidence) / range**2`` reaches it (:data:`MIN_SIGNAL_PER_M2`; 0 keeps every
            hit within the preset's range).
        sweep_duration_s: time of one revolution (motion distortion spans it, centred on
            the sync column's firing at the sweep's timestamp).
        sync_azimuth_rad: the azimuth in the LiDAR frame (0: its +x) of the column that
            fires at the sweep's timestamp, as a Velodyne's phase lock sets it; a sensor
            mounted with a yaw keeps the column facing the ego's forward on the timestamp
            with ``-yaw`` (:class:`~drivestack.sim.perceived.SimLidarParams` does).
        agent_motion_tolerance_m: largest error allowed in a moving agent's position at a
            column's firing time (the agents are cast in time slabs of that accuracy).
        seed: base seed, an int in [0, 2**63); each sweep's noise is seeded by (seed,
            timestamp) so runs repeat.
    """

    preset: LidarPreset
    ego_from_lidar: SE3
    range_noise_std_m: float = 0.02
    dropout_probability: float = 0.0
    sweep_duration_s: float = 0.1
    seed: int = 0
    agent_motion_tolerance_m: float = 0.04
    min_signal_per_m2: float = MIN_SIGNAL_PER_M2
    sync_azimuth_rad: float = 0.0

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
        for name in ("range_noise_std_m", "sweep_duration_s"):  # NaN: a sweep of no points
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        check_number("LidarModel.min_signal_per_m2", self.min_signal_per_m2, at_least=0.0)
        check_number("LidarModel.sync_azimuth_rad", self.sync_azimuth_rad)
        # numpy's default_rng takes non-negative ints only (and names nothing when refusing)
        check_number("LidarModel.seed", self.seed, integer=True, at_least=0, below=2**63)
        if not self.agent_motion_tolerance_m > 0:
            raise ValueError(
                f"agent_motion_tolerance_m must be > 0, got {self.agent_motion_tolerance_m}"
            )

    @property
    def n_beams(self) -> int:
        return len(self.preset.elevations_deg)

    def ray_layout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unit directions ``(A, B, 3)`` in the LiDAR frame, ring index ``(B,)`` (0 = lowest
        beam, the top one for a ``ring_zero_top`` preset) and firing time offsets ``(A,)`` in seconds from the sweep's timestamp (0 for
        the column at ``sync_azimuth_rad``), for A azimuth columns x B beams."""
        return _ray_layout(self.preset, self.sweep_duration_s, self.sync_azimuth_rad)

    def scan(
        self,
        scene: SensorScene,
        world_from_ego: SE3,
        timestamp_ns: int,
        *,
        speed_mps: float = 0.0,
        yaw_rate_radps: float = 0.0,
    ) -> PointCloud:
        """One sweep whose forward column fires at ``timestamp_ns``, with the ego at
        ``world_from_ego`` and the scene's agents where they are then; ``speed_mps`` and
        ``yaw_rate_radps`` (the ego's motion over the sweep) must be finite (``ValueError``)."""
        check_number("LidarModel.scan speed_mps", speed_mps)
        check_number("LidarModel.scan yaw_rate_radps", yaw_rate_radps)
        dirs, ring, times = self.ray_layout()
        n_beams = dirs.shape[1]
        # sensor pose per column, ego moving with constant speed and yaw rate around timestamp_ns:
        # world_from_lidar(t) = world_from_ego @ ego0_from_ego(t) @ ego_from_lidar
        dyaw = yaw_rate_radps * times
        if abs(yaw_rate_radps) > 1e-9:
            radius = speed_mps / yaw_rate_radps
            dx, dy = radius * np.sin(dyaw), radius * (1.0 - np.cos(dyaw))
        else:
            dx, dy = speed_mps * times, np.zeros_like(times)
        mount = self.ego_from_lidar.translation
        origin_ego = np.stack(
            [
                dx + np.cos(dyaw) * mount[0] - np.sin(dyaw) * mount[1],
                dy + np.sin(dyaw) * mount[0] + np.cos(dyaw) * mount[1],
                np.full_like(dx, mount[2]),
            ],
            axis=1,
        )
        origins = world_from_ego.apply(origin_ego)  # (A, 3)
        rays = lidar_rays(
            dirs,
            self.ego_from_lidar.rotation,
            world_from_ego.rotation,
            np.cos(dyaw),
            np.sin(dyaw),
            origins,
        )
        hits = scene.cast_rays(
            rays, self.preset.max_range_m, agent_dt_s=self._agent_times(scene, times, n_beams)
        )
        world_dirs = rays[:, 3:]
        rng = np.random.default_rng([self.seed, int(timestamp_ns) & 0x7FFFFFFFFFFFFFFF])
        n_hits = int(np.count_nonzero(np.isfinite(hits.range_m)))
        noise = (
            rng.standard_normal(n_hits, dtype=np.float32) * np.float32(self.range_noise_std_m)
            if self.range_noise_std_m > 0
            else np.zeros(n_hits, np.float32)
        )
        keep_draw = rng.random(n_hits) if self.dropout_probability > 0 else np.ones(n_hits)
        # each return in the sensor frame at its own firing time (motion distortion)
        xyz, intensity, ring_out, time_ns, instance = assemble_returns(
            dirs.reshape(-1, 3),
            world_dirs,
            hits.range_m,
            hits.normal,
            hits.material,
            hits.instance,
            noise,
            keep_draw,
            self.dropout_probability,
            self.min_signal_per_m2,
            self.preset.min_range_m,
            self.preset.max_range_m,
            _REFLECTIVITY_BY_MATERIAL,
            n_beams,
            ring.astype(np.uint16),
            np.round(times * 1e9).astype(np.int64),
        )
        attributes = {
            "intensity": intensity,
            "ring": ring_out,
            "time_offset_ns": time_ns,
            "instance": instance,
        }
        for arr in (xyz, *attributes.values()):
            arr.setflags(write=False)  # fresh arrays nobody else holds: frozen without a copy
        # every return has a finite range (misses were dropped), so skip the O(N) finite check
        return PointCloud.from_finite_xyz(xyz, "lidar", int(timestamp_ns), attributes)

    def _agent_times(
        self, scene: SensorScene, times: np.ndarray, n_beams: int
    ) -> np.ndarray | None:
        """Each ray's time for moving the agents ``(A * B,)``: its column's time rounded to the
        middle of one of K equal time slabs over the sweep, K the fewest that keep the fastest
        agent within ``agent_motion_tolerance_m`` (``speed * duration / (2 K)``); None when no
        agent moves or the sweep takes no time."""
        agents = scene.agents
        if agents is None or len(agents) == 0 or self.sweep_duration_s == 0:
            return None
        velocity = agents.velocity_mps
        scale = float(np.max(np.abs(velocity)))
        if scale == 0.0:
            return None
        if scale <= _NORM_SAFE_MPS:
            top_speed = float(np.max(np.linalg.norm(velocity, axis=1)))
        else:  # squares would overflow: the norm of the scaled velocities, scaled back
            top_speed = scale * float(np.max(np.linalg.norm(velocity / scale, axis=1)))
        duration = self.sweep_duration_s
        # capped before int(): an agent at 1e300 m/s takes one slab per column
        slabs = np.ceil(top_speed * duration / (2.0 * self.agent_motion_tolerance_m))
        n_slabs = int(min(max(slabs, 1.0), len(times)))
        # K runs of consecutive columns; a slab's time is the mean of its columns' times
        slab = np.arange(len(times)) * n_slabs // len(times)
        centre = np.bincount(slab, times) / np.bincount(slab)
        return np.repeat(centre[slab], n_beams)
