"""Ground-truth agent trajectories, one structure for every source.

An :class:`AgentTrajectory` is one agent's boxes over time in a fixed world frame; a
:class:`TrajectorySet` all agents of one recording (an AV2 log, a CommonRoad file, a KITTI
sequence) with its sample period, the kind of traffic and, when there is one, its road map.
:func:`trajectories_from_rows` groups per-row observations by agent and checks them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivestack.core.errors import DataError
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import RoadMap

#: What a :class:`TrajectorySet`'s ``traffic`` may be: recorded from real road users, or
#: produced by a traffic simulator (CommonRoad's SUMO scenarios).
TRAFFIC_KINDS = ("recorded", "simulated")


@dataclass(frozen=True)
class AgentTrajectory:
    """One agent's observed boxes.

    Attributes:
        agent_id: the source's id (AV2 ``track_uuid``, ``cr<obstacle id>``, KITTI track id).
        object_class: the agent's class.
        time_s: ``(N,)`` strictly increasing observation times (s).
        boxes: ``(N, 7)`` ``[x, y, z, l, w, h, yaw]`` (centre), in ``frame``.
        frame: the fixed world frame of the boxes.
        path: the file the agent came from (for errors).

    Raises:
        DataError: naming ``path``, the agent and field ``time`` when the times do not
            increase, or field ``boxes`` for a shape other than ``(N, 7)`` or a NaN.
    """

    agent_id: str
    object_class: ObjectClass
    time_s: np.ndarray
    boxes: np.ndarray
    frame: str
    path: str = ""

    def __post_init__(self) -> None:
        record = f"agent {self.agent_id}"
        t, b = self.time_s, self.boxes
        if t.ndim != 1 or b.shape != (len(t), 7) or not np.isfinite(b).all():
            raise DataError(
                f"boxes must be ({len(t)}, 7) finite values, got {b.shape}",
                path=self.path or None,
                record=record,
                field="boxes",
            )
        steps = np.diff(t)
        if (steps <= 0).any() or not np.isfinite(t).all():
            bad = int(np.flatnonzero(~(steps > 0))[0]) if (steps <= 0).any() else 0
            raise DataError(
                f"times must increase, got {t[bad]:.6f} s then {t[min(bad + 1, len(t) - 1)]:.6f} s",
                path=self.path or None,
                record=record,
                field="time",
            )


@dataclass(frozen=True)
class TrajectorySet:
    """All agents of one recording.

    Attributes:
        name: the log id, file name or sequence.
        path: the file or folder it was read from.
        frame: the agents' (and the map's) frame.
        dt_s: the sample period (s): the median interval between the recording's samples.
        dt_jittered: whether the samples are only about ``dt_s`` apart (AV2's sweeps, 96-103
            ms; :func:`sample_period_jittered`) rather than on an exact grid (KITTI,
            CommonRoad): durations then need only be whole samples within a tolerance
            (:func:`~drivestack.eval.prediction.cases.whole_samples`).
        traffic: one of :data:`TRAFFIC_KINDS`.
        source: the source's own words about the traffic (CommonRoad's ``source``).
        agents: the agents' trajectories.
        road_map: the recording's road map in ``frame``, or None.
    """

    name: str
    path: str
    frame: str
    dt_s: float
    traffic: str
    source: str
    agents: tuple[AgentTrajectory, ...]
    road_map: RoadMap | None = None
    dt_jittered: bool = False

    def __post_init__(self) -> None:
        if self.traffic not in TRAFFIC_KINDS:
            raise ValueError(f"traffic must be one of {TRAFFIC_KINDS}, got {self.traffic!r}")
        if not self.dt_s > 0.0:
            raise DataError(f"sample period must be > 0 s, got {self.dt_s}", path=self.path)
        if self.road_map is not None and self.road_map.frame != self.frame:
            raise ValueError(
                f"the map is in frame {self.road_map.frame!r}, the agents in {self.frame!r}"
            )


def trajectories_from_rows(
    agent_id: np.ndarray,
    time_s: np.ndarray,
    boxes: np.ndarray,
    label: np.ndarray,
    frame: str,
    path: str,
) -> tuple[AgentTrajectory, ...]:
    """Group ``N`` observations (one row per agent and time, any order) by agent, each sorted
    by time; an agent's class is that of its first row in time.

    Args:
        agent_id: ``(N,)`` str ids; time_s: ``(N,)`` s; boxes: ``(N, 7)``; label: ``(N,)``
            class ids; frame: the boxes' frame; path: the file, for errors.

    Raises:
        DataError: naming ``path``, the agent and field ``time`` when one agent has two rows
            at one time.
    """
    ids = np.asarray(agent_id).astype(str)
    order = np.lexsort((time_s, ids))  # by id, then time
    ids, t, b, lab = ids[order], time_s[order], boxes[order], label[order]
    same = (ids[1:] == ids[:-1]) & (t[1:] == t[:-1])
    if same.any():
        i = int(np.flatnonzero(same)[0])
        raise DataError(
            f"two observations at time {t[i]:.6f} s",
            path=path,
            record=f"agent {ids[i]}",
            field="time",
        )
    keys, starts = np.unique(ids, return_index=True)
    bounds = [*starts.tolist(), len(ids)]
    return tuple(
        AgentTrajectory(
            str(k),
            ObjectClass(int(lab[s])),
            t[s:e].astype(np.float64),
            b[s:e].astype(np.float64),
            frame,
            path,
        )
        for k, s, e in zip(keys, bounds[:-1], bounds[1:], strict=True)
    )


def median_sample_period_s(time_s: np.ndarray, path: str) -> float:
    """The median interval between the distinct sample times of a recording (s).

    Raises:
        DataError: naming ``path`` when there are fewer than two distinct times.
    """
    distinct = np.unique(time_s)
    if len(distinct) < 2:
        raise DataError("fewer than two sample times: no motion to forecast", path=path)
    return float(np.median(np.diff(distinct)))


#: Sample intervals within this of a whole number of sample periods are on an exact grid.
GRID_TOLERANCE_S = 1e-6


def sample_period_jittered(time_s: np.ndarray, dt_s: float) -> bool:
    """Whether some interval between the distinct sample times ``time_s`` is more than
    :data:`GRID_TOLERANCE_S` from a whole number of ``dt_s`` (a jittered recording)."""
    steps = np.diff(np.unique(time_s))
    return bool(np.any(np.abs(steps - np.round(steps / dt_s) * dt_s) > GRID_TOLERANCE_S))
