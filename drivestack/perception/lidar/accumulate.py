"""Step 2: multi-sweep accumulation with ego-motion compensation.

Past sweeps are moved into the current sweep's frame with the poses from the log:
``current_from_past = inverse(world_from_current) @ world_from_past``. Moving objects smear
(their own motion is not compensated); the static world lines up. Without a pose there is
nothing to line the sweeps up with: the accumulator then returns the newest sweep alone (as
``num_sweeps: 1``) and warns once.

History is a time-ordered deque of at most ``num_sweeps - 1`` past sweeps, each strictly older
than the next. Each step first drops the sweeps that cannot be a past of the incoming one:
those at or after its time (time went backwards, e.g. a log replayed from an earlier point;
``UserWarning`` once until :meth:`SweepAccumulator.reset`, naming both times) and those older
than ``max_sweep_age_s``; every sweep left is merged.
"""

from __future__ import annotations

import warnings
from collections import deque
from dataclasses import dataclass

import numpy as np

from drivestack.core.time import ns_to_seconds
from drivestack.core.transforms import SE3
from drivestack.perception.lidar.config import AccumulateConfig
from drivestack.structures.point_cloud import PointCloud

SWEEP_AGE_S = "sweep_age_s"
#: Sensor motion between two sweeps faster than these is a pose that jumped (a relocalised or
#: glitched ``world_from_ego``), not motion: the past sweeps are not merged across it. 70 m/s
#: is 252 km/h; 2 rad/s a tight turn at walking pace.
MAX_PLAUSIBLE_SPEED_MPS = 70.0
MAX_PLAUSIBLE_YAW_RATE_RADPS = 2.0


@dataclass(frozen=True)
class _Sweep:
    timestamp_ns: int
    world_from_sensor: SE3
    cloud: PointCloud


class SweepAccumulator:
    """Keeps the past sweeps still within ``max_sweep_age_s`` (at most ``num_sweeps - 1``) and
    merges them into the newest one.

    State is the deque of past sweeps; :meth:`reset` clears it (and re-arms the warning about
    time going backwards).
    """

    def __init__(self, cfg: AccumulateConfig) -> None:
        self.cfg = cfg
        self._past: deque[_Sweep] = deque(maxlen=max(cfg.num_sweeps - 1, 1))
        self._warned_no_pose = False
        self._warned_backwards = False
        self._warned_jump = False

    @property
    def num_past_sweeps(self) -> int:
        """How many past sweeps are kept for the next step."""
        return len(self._past)

    def reset(self) -> None:
        self._past.clear()
        self._warned_backwards = False
        self._warned_jump = False

    def step(self, cloud: PointCloud, world_from_sensor: SE3 | None) -> PointCloud:
        """Merge ``cloud`` with the kept past sweeps.

        Args:
            cloud: the newest sweep, ``(N, 3)`` in its sensor frame.
            world_from_sensor: pose of that sensor frame at ``cloud.timestamp_ns``; None means
                unknown, in which case history is dropped and only ``cloud`` is returned
                (single-sweep; with ``num_sweeps`` above 1 a ``UserWarning`` says so, once per
                accumulator).

        Returns:
            The merged cloud in ``cloud.frame`` at ``cloud.timestamp_ns``, with attribute
            ``sweep_age_s`` (float32, 0 for the newest sweep); only attributes every merged
            sweep has are kept. It has ``cloud``'s dtypes: the past sweeps' coordinates (and
            their attributes that ``cloud`` has, where NumPy's ``same_kind`` casting allows it:
            float64 to float32, int to float, not float to int) are cast on purpose to
            ``cloud``'s dtypes, so a float32 sweep after float64 ones stays float32 (an
            attribute that cannot be cast follows NumPy's promotion). Past sweeps older than
            ``max_sweep_age_s`` are dropped from the history; so are those at or after
            ``cloud``'s time (time went backwards: they cannot be its past), with a
            ``UserWarning`` naming both times, once until :meth:`reset`.
        """
        n = len(cloud)
        current = cloud.with_attributes(**{SWEEP_AGE_S: np.zeros(n, dtype=np.float32)})
        if self.cfg.num_sweeps == 1:
            return current
        if world_from_sensor is None:
            if not self._warned_no_pose:
                self._warned_no_pose = True
                warnings.warn(
                    f"accumulate.num_sweeps is {self.cfg.num_sweeps} but the frame has no pose "
                    "(SensorFrame.world_from_ego, and ego_from_sensor for the LiDAR unless the "
                    "cloud is in the ego frame): past sweeps cannot be moved into this one, so "
                    "only the newest sweep is used (single-sweep) while the pose is missing",
                    UserWarning,
                    stacklevel=4,  # the caller of LidarDetector.step
                )
            self._past.clear()
            return current
        self._drop_unusable(cloud.timestamp_ns)
        self._drop_across_a_jump(cloud.timestamp_ns, world_from_sensor)
        parts = [current]
        sensor_from_world = world_from_sensor.inverse()
        for past in reversed(self._past):
            age_s = ns_to_seconds(cloud.timestamp_ns - past.timestamp_ns)
            moved = past.cloud.transformed(sensor_from_world @ past.world_from_sensor, cloud.frame)
            parts.append(_like(moved, cloud, age_s))
        self._past.append(_Sweep(cloud.timestamp_ns, world_from_sensor, cloud))
        if len(parts) == 1:
            return current
        # each point's time is its sweep_age_s: no time_offset_ns column is made up
        return PointCloud.concatenate(_promoted(parts), common_attributes=True, point_times=False)

    def _drop_unusable(self, timestamp_ns: int) -> None:
        """Drop the past sweeps at or after ``timestamp_ns`` (warning once until reset) and
        those more than ``max_sweep_age_s`` before it."""
        past = self._past
        if past and past[-1].timestamp_ns >= timestamp_ns:
            if not self._warned_backwards:
                self._warned_backwards = True
                warnings.warn(
                    f"accumulate: the LiDAR cloud's timestamp_ns {timestamp_ns} is not after the "
                    f"newest kept sweep's {past[-1].timestamp_ns} (time went backwards or a "
                    "sweep came twice): the kept sweeps at or after it are dropped, as they "
                    "cannot be its past (said once until LidarDetector.reset)",
                    UserWarning,
                    stacklevel=5,  # the caller of LidarDetector.step
                )
            while past and past[-1].timestamp_ns >= timestamp_ns:
                past.pop()
        max_age_s = self.cfg.max_sweep_age_s
        while past and ns_to_seconds(timestamp_ns - past[0].timestamp_ns) > max_age_s:
            past.popleft()

    def _drop_across_a_jump(self, timestamp_ns: int, world_from_sensor: SE3) -> None:
        """Drop every past sweep when the pose moved from the newest one faster than a vehicle
        can (:data:`MAX_PLAUSIBLE_SPEED_MPS`, :data:`MAX_PLAUSIBLE_YAW_RATE_RADPS`): merged,
        its points would land metres off (warned once until reset)."""
        if not self._past:
            return
        newest = self._past[-1]
        dt_s = ns_to_seconds(timestamp_ns - newest.timestamp_ns)
        motion = newest.world_from_sensor.inverse() @ world_from_sensor
        speed = float(np.linalg.norm(motion.translation)) / dt_s
        yaw_rate = abs(float(motion.yaw_rad)) / dt_s
        if speed <= MAX_PLAUSIBLE_SPEED_MPS and yaw_rate <= MAX_PLAUSIBLE_YAW_RATE_RADPS:
            return
        if not self._warned_jump:
            self._warned_jump = True
            warnings.warn(
                f"accumulate: world_from_ego moved {np.linalg.norm(motion.translation):.1f} m "
                f"and {np.degrees(abs(float(motion.yaw_rad))):.1f} deg in {dt_s:.3f} s between "
                f"the sweeps at {newest.timestamp_ns} and {timestamp_ns} ns ({speed:.0f} m/s, "
                f"{yaw_rate:.1f} rad/s: a pose that jumped, not motion): the past sweeps are "
                "dropped, not merged (said once until LidarDetector.reset)",
                UserWarning,
                stacklevel=5,  # the caller of LidarDetector.step
            )
        self._past.clear()


def _promoted(parts: list[PointCloud]) -> list[PointCloud]:
    """``parts`` with each attribute they all have cast to NumPy's promotion of its dtypes
    where they differ (an attribute :func:`_like` could not cast within its kind: a float
    past intensity beside an integer current one becomes float)."""
    common = set.intersection(*(set(p.attributes) for p in parts))
    to: dict[str, np.dtype] = {}
    for name in common:
        dtypes = {p.attributes[name].dtype for p in parts}
        if len(dtypes) > 1:
            to[name] = np.result_type(*dtypes)
    if not to:
        return parts
    return [
        p.with_attributes(**{k: p.attributes[k].astype(d, copy=False) for k, d in to.items()})
        for p in parts
    ]


def _like(moved: PointCloud, cloud: PointCloud, age_s: float) -> PointCloud:
    """``moved`` (a past sweep in ``cloud``'s frame) with ``cloud``'s coordinate dtype, its
    attributes that ``cloud`` has cast to ``cloud``'s dtypes within their kind, and
    ``sweep_age_s`` = ``age_s``."""
    attrs = {
        k: v.astype(cloud.attributes[k].dtype, copy=False)
        for k, v in moved.attributes.items()
        if k in cloud.attributes and np.can_cast(v.dtype, cloud.attributes[k].dtype, "same_kind")
    }
    attrs[SWEEP_AGE_S] = np.full(len(moved), age_s, dtype=np.float32)
    xyz = moved.xyz_m.astype(cloud.xyz_m.dtype, copy=False)
    return PointCloud(xyz, moved.frame, moved.timestamp_ns, {**moved.attributes, **attrs})
