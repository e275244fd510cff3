"""Step 2: multi-sweep accumulation with ego-motion compensation.

Past sweeps are moved into the current sweep's frame with the poses from the log:
``current_from_past = inverse(world_from_current) @ world_from_past``. Moving objects smear
(their own motion is not compensated); the static world lines up. Without a pose there is
nothing to line the sweeps up with: the accumulator then returns the newest sweep alone (as
``num_sweeps: 1``) and warns once.
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


@dataclass(frozen=True)
class _Sweep:
    timestamp_ns: int
    world_from_sensor: SE3
    cloud: PointCloud


class SweepAccumulator:
    """Keeps the last ``num_sweeps - 1`` sweeps and merges them into the newest one.

    State is the deque of past sweeps; :meth:`reset` clears it.
    """

    def __init__(self, cfg: AccumulateConfig) -> None:
        self.cfg = cfg
        self._past: deque[_Sweep] = deque(maxlen=max(cfg.num_sweeps - 1, 1))
        self._warned_no_pose = False

    def reset(self) -> None:
        self._past.clear()

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
            sweep has are kept. Sweeps older than ``max_sweep_age_s`` or from the future
            (time went backwards) are dropped.
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
        parts = [current]
        sensor_from_world = world_from_sensor.inverse()
        for past in reversed(self._past):
            age_s = ns_to_seconds(cloud.timestamp_ns - past.timestamp_ns)
            if age_s <= 0 or age_s > self.cfg.max_sweep_age_s:
                continue
            moved = past.cloud.transformed(sensor_from_world @ past.world_from_sensor, cloud.frame)
            moved = moved.with_attributes(
                **{SWEEP_AGE_S: np.full(len(moved), age_s, dtype=np.float32)}
            )
            parts.append(moved)
        self._past.append(_Sweep(cloud.timestamp_ns, world_from_sensor, cloud))
        return PointCloud.concatenate(parts, common_attributes=True) if len(parts) > 1 else current
