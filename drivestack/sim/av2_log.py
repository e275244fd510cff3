"""An Argoverse 2 sensor log as a closed-loop scenario (nuPlan's idea on AV2 data).

The stack drives from the log's start on the log's own map among the log's recorded agents,
which are replayed and do not react, and is scored against the recorded human drive. A log
folder ``<log_id>/`` gives:

- **Map**: ``map/`` via :func:`~drivestack.ingest.maps.av2_road_map.read_av2_road_map`, in
  the city frame (``"world"``).
- **Time**: the annotated sweeps of ``annotations.feather`` (10 Hz, about 15.5 s). Time 0
  is the first annotated sweep.
- **Ego**: the ``city_SE3_egovehicle.feather`` pose at each annotated sweep (AV2 logs one
  per sweep; a sweep without one is a ``DataError``). Position and yaw come from the pose,
  and speed from the motion between sweeps (:func:`speed_from_motion`). AV2 annotations
  never include the ego: no cuboid overlaps its box, and the real-data test checks this.
- **Agents**: every annotated track is a non-reactive replay agent (``behavior="replay"``,
  :class:`~drivestack.sim.agents.ReplayTrack`). That covers vehicles, pedestrians, cyclists,
  and static objects such as bollards, cones and signs. An object off the road does no harm,
  and one on it is a real obstacle the stack must not hit. Each box centre and yaw go from the
  ego frame of its sweep to the city frame with that sweep's pose (:func:`boxes_to_city`).
  Speed comes from the track's motion. Size is the median of the track's rows. The class
  comes from the AV2 category (:data:`~drivestack.ingest.argoverse2.CATEGORY_TO_CLASS`; the
  unmapped categories are ``UNKNOWN``).
- **Gaps**: a track missing for some sweeps is bridged by the replay's linear interpolation
  when the gap lasts at most :data:`MAX_GAP_S`. A longer gap splits a moving track into
  separate agents ``<track_uuid>#<k>`` (:func:`split_at_gaps`), each present only during its
  part.
- **Stationary tracks**: a track whose centre stays within :data:`STATIONARY_RADIUS_M` of its
  first position (over all its rows) is one agent, its gaps bridged whatever their length,
  held at its first / last pose before / after its annotated span, over the whole log. AV2
  annotates only near the recording car, so without this a parked car or a bollard would
  appear out of nothing in front of a stack that drives faster than the human did. Moving
  tracks exist only while they are annotated.
- **Annotated only** (``annotated_only=True``, what open-loop evaluation reads, as nuPlan's
  open loop shows the boxes tracked at each moment): no track is held, and nothing about a
  track's later rows decides whether it is there. Every track splits wherever it misses a
  sweep, and each part is present from half a sweep interval before its first annotated
  sweep to half an interval after its last (held at those poses there): at any time the
  agents present are exactly those annotated at the nearest sweep
  (:func:`annotated_spans`). Closed-loop scenarios keep the default (``False``) above.

Malformed data raise a ``DataError`` naming the file, the record and the field: an annotation
table without rows or with a row missing its ``track_uuid``, a track annotated twice at one
sweep, or a sweep with no ego pose.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest._points import first_repeat
from drivestack.ingest.argoverse2 import Av2Cuboids, read_av2_cuboids, read_av2_poses
from drivestack.ingest.maps.av2_road_map import read_av2_road_map
from drivestack.sim.agents import AgentSpec, ReplayTrack
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import RoadMap

#: A track missing for longer than this is split into two agents; shorter gaps are interpolated.
MAX_GAP_S = 0.5
#: A track whose centre never leaves this radius around its first position is stationary.
STATIONARY_RADIUS_M = 0.5
ANNOTATIONS = "annotations.feather"
POSES = "city_SE3_egovehicle.feather"


@dataclass(frozen=True)
class Av2LogScenario:
    """A log's map, recorded ego drive and replay agents.

    Attributes:
        log_dir: the log folder.
        road_map: the log map (city frame).
        time_s: ``(T,)`` the annotated sweeps' times, 0 at the first one.
        ego_xy_m: ``(T, 2)`` the recorded ego position at each sweep (city frame).
        ego_yaw_rad: ``(T,)`` its heading.
        ego_speed_mps: ``(T,)`` its speed, from the motion.
        agents: one replay agent per annotated track (or track part).
    """

    log_dir: Path
    road_map: RoadMap
    time_s: np.ndarray
    ego_xy_m: np.ndarray
    ego_yaw_rad: np.ndarray
    ego_speed_mps: np.ndarray
    agents: tuple[AgentSpec, ...]

    @property
    def ego_initial(self) -> tuple[float, float, float, float]:
        """``(x_m, y_m, yaw_rad, speed_mps)`` at the first annotated sweep."""
        x, y = self.ego_xy_m[0]
        return float(x), float(y), float(self.ego_yaw_rad[0]), float(self.ego_speed_mps[0])

    @property
    def span_s(self) -> float:
        """The annotated time span, first to last sweep."""
        return float(self.time_s[-1])

    def ego_xy_at(self, time_s: float) -> np.ndarray:
        """``(2,)`` the recorded ego position at ``time_s``, interpolated between sweeps (clamped
        to the annotated span)."""
        return np.array(
            [np.interp(time_s, self.time_s, self.ego_xy_m[:, k]) for k in range(2)], dtype=float
        )

    def driven_lanes(self, duration_s: float) -> list[str]:
        """The lanes the recorded ego drove over ``[0, duration_s]``, in order.

        It starts on :meth:`RoadMap.nearest_lane` of the first pose. At each later sweep it
        stays on the current lane while that lane covers the pose, else moves to a covering
        lane (heading within 90 degrees) that is a route step from it (successor or lane
        change), else to the nearest lane. Where lanes of different roads overlap, the
        connected one is thus kept rather than whichever is nearest.
        """
        lanes: list[str] = []
        for k in np.flatnonzero(self.time_s <= duration_s + 1e-9):
            xy, yaw = self.ego_xy_m[k], float(self.ego_yaw_rad[k])
            covering = self.road_map.lanes_at(xy, yaw)
            if lanes and lanes[-1] in covering:
                continue
            steps = [c for c in covering if lanes and self.road_map.is_route_step(lanes[-1], c)]
            lane = steps[0] if steps else self.road_map.nearest_lane(xy, yaw)
            if not lanes or lanes[-1] != lane:
                lanes.append(lane)
        return lanes


def speed_from_motion(time_s: np.ndarray, xy_m: np.ndarray) -> np.ndarray:
    """``(T,)`` speed of a ``(T, 2)`` track at times ``(T,)`` (strictly increasing): the norm of
    ``np.gradient`` (central differences inside, one-sided at the ends); 0 for one sample."""
    if len(time_s) < 2:
        return np.zeros(len(time_s))
    velocity = np.gradient(xy_m, time_s, axis=0)
    return np.asarray(np.hypot(velocity[:, 0], velocity[:, 1]), dtype=float)


def boxes_to_city(world_from_ego: SE3, boxes_ego: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(N, 2)`` city-frame centres and ``(N,)`` yaws of ``(N, 7)`` ego-frame boxes
    ``[x, y, z, l, w, h, yaw]``, each with its own pose ``world_from_ego`` of batch ``(N,)``.
    The yaw is that of the box's x axis after the full 3D rotation, projected on the ground."""
    box_pose = SE3.from_xyz_yaw(boxes_ego[:, :3], boxes_ego[:, 6])
    world_from_box = world_from_ego.compose(box_pose)
    return world_from_box.translation[:, :2].copy(), world_from_box.yaw_rad


def split_at_gaps(time_s: np.ndarray, max_gap_s: float = MAX_GAP_S) -> list[np.ndarray]:
    """Index arrays of the parts of a track at sorted times ``(T,)``, split wherever two
    consecutive samples are more than ``max_gap_s`` apart."""
    cuts = np.flatnonzero(np.diff(time_s) > max_gap_s + 1e-9) + 1
    return list(np.split(np.arange(len(time_s)), cuts))


def _check_track_rows(cuboids: Av2Cuboids) -> None:
    """``DataError`` for a table without rows, a row without ``track_uuid`` or a track with two
    rows at one sweep (naming the file, the record and the field)."""
    if len(cuboids) == 0:
        raise DataError("no annotated cuboids", path=cuboids.path, field="timestamp_ns")
    empty = np.flatnonzero(cuboids.track_uuid == "")
    if empty.size:
        raise DataError(
            "missing (a replay agent needs its track)",
            path=cuboids.path,
            record=f"row {int(empty[0])}",
            field="track_uuid",
        )
    # (pairs, not joined text: track "a1" at 0 and "a" at 10 would both read "a10")
    repeat = first_repeat(
        zip(cuboids.track_uuid.tolist(), cuboids.timestamp_ns.tolist(), strict=True)
    )
    if repeat is not None:
        row = repeat[0]
        raise DataError(
            "track annotated twice at one sweep",
            path=cuboids.path,
            record=f"track_uuid {cuboids.track_uuid[row]}, timestamp_ns {cuboids.timestamp_ns[row]}",
            field="track_uuid",
        )


def _hold(track: ReplayTrack, start_s: float, end_s: float, *, still: bool = True) -> ReplayTrack:
    """``track`` held at its first pose from ``start_s`` and its last pose until ``end_s``:
    still there (speed 0), or with ``still=False`` at the speeds annotated at those poses."""
    # (T, 5) rows [time, x, y, yaw, speed]
    rows = np.stack([track.time_s, track.x_m, track.y_m, track.yaw_rad, track.speed_mps], axis=1)
    head, tail = rows[0].copy(), rows[-1].copy()
    head[0], tail[0] = start_s, end_s
    if still:
        head[4] = tail[4] = 0.0
    if start_s < rows[0, 0]:
        rows = np.vstack([head, rows])
    if end_s > rows[-1, 0]:
        rows = np.vstack([rows, tail])
    return ReplayTrack(*rows.T)


def annotated_spans(
    track_sweeps: np.ndarray, sweep_time_s: np.ndarray
) -> list[tuple[np.ndarray, float, float]]:
    """The parts of a track annotated at the sorted sweep indices ``track_sweeps (N,)`` of a
    log whose sweeps are at ``sweep_time_s (T,)``, split wherever it misses a sweep: per part
    its rows (indices into ``track_sweeps``) and its span ``(start_s, end_s)``, reaching half
    the interval to the neighbouring sweep on each side (half the interval on the other side
    at the log's first / last sweep, 0 for a one-sweep log). Each time then lies in the span
    of the parts annotated at the sweep nearest it (both at an exact midpoint)."""
    parts = np.split(np.arange(len(track_sweeps)), np.flatnonzero(np.diff(track_sweeps) > 1) + 1)
    gaps = np.diff(sweep_time_s)
    half_before = 0.5 * np.concatenate([gaps[:1], gaps]) if len(gaps) else np.zeros(1)
    half_after = 0.5 * np.concatenate([gaps, gaps[-1:]]) if len(gaps) else np.zeros(1)
    out = []
    for part in parts:
        first, last = int(track_sweeps[part[0]]), int(track_sweeps[part[-1]])
        start = max(0.0, float(sweep_time_s[first] - half_before[first]))
        out.append((part, start, float(sweep_time_s[last] + half_after[last])))
    return out


def track_agents(
    cuboids: Av2Cuboids,
    world_from_ego: SE3,
    sweeps_ns: np.ndarray,
    max_gap_s: float = MAX_GAP_S,
    annotated_only: bool = False,
) -> list[AgentSpec]:
    """One replay agent per track (per part, :func:`split_at_gaps`) in the city frame.

    ``world_from_ego`` ``(T,)`` holds the poses at the sorted sweep times ``sweeps_ns`` ``(T,)``
    (every cuboid's ``timestamp_ns`` is one of them); time 0 is ``sweeps_ns[0]``. Agents come
    in the order of their track's first row; stationary tracks are held over
    ``[0, last sweep]`` (see the module docstring). ``annotated_only``: no track is held; each
    part of a track annotated at consecutive sweeps is an agent present over its
    :func:`annotated_spans` span (``max_gap_s`` unused)."""
    _check_track_rows(cuboids)
    labels = cuboids.to_boxes().label  # DataError for an unknown category
    sweep = np.searchsorted(sweeps_ns, cuboids.timestamp_ns)
    xy, yaw = boxes_to_city(world_from_ego[sweep], cuboids.boxes)
    time_s = (cuboids.timestamp_ns - sweeps_ns[0]) / 1e9
    sweep_time_s = (sweeps_ns - sweeps_ns[0]) / 1e9
    end_s = float(sweep_time_s[-1])
    uuids, first = np.unique(cuboids.track_uuid, return_index=True)
    agents = []
    for uuid in uuids[np.argsort(first)]:
        rows = np.flatnonzero(cuboids.track_uuid == uuid)
        rows = rows[np.argsort(time_s[rows])]
        if annotated_only:
            spans = annotated_spans(sweep[rows], sweep_time_s)
            for k, (part, start_s, stop_s) in enumerate(spans):
                r = rows[part]
                track = ReplayTrack(
                    time_s[r], xy[r, 0], xy[r, 1], yaw[r], speed_from_motion(time_s[r], xy[r])
                )
                agent_id = str(uuid) if len(spans) == 1 else f"{uuid}#{k}"
                agents.append(
                    _agent(
                        agent_id,
                        labels[r[0]],
                        cuboids.boxes[r],
                        _hold(track, start_s, stop_s, still=False),
                    )
                )
            continue
        # stationary or not is the whole track's: a stationary track is one agent held over
        # the log (its gaps bridged: it stays put); only a moving track splits at its gaps
        stationary = np.max(np.hypot(*(xy[rows] - xy[rows[0]]).T)) <= STATIONARY_RADIUS_M
        parts = [np.arange(len(rows))] if stationary else split_at_gaps(time_s[rows], max_gap_s)
        for k, part in enumerate(parts):
            r = rows[part]
            track = ReplayTrack(
                time_s[r], xy[r, 0], xy[r, 1], yaw[r], speed_from_motion(time_s[r], xy[r])
            )
            if stationary:
                track = _hold(track, 0.0, end_s)
            agent_id = str(uuid) if len(parts) == 1 else f"{uuid}#{k}"
            agents.append(_agent(agent_id, labels[r[0]], cuboids.boxes[r], track))
    return agents


def _agent(agent_id: str, label: int, boxes: np.ndarray, track: ReplayTrack) -> AgentSpec:
    """A replay agent of class ``label`` sized as the median of its ``(N, 7)`` rows."""
    l, w, h = (float(v) for v in np.median(boxes[:, 3:6], axis=0))
    return AgentSpec(agent_id, ObjectClass(int(label)), (l, w, h), "replay", replay=track)


def read_av2_log(
    log_dir: str | Path, default_speed_limit_mps: float = 13.89, annotated_only: bool = False
) -> Av2LogScenario:
    """Read an AV2 sensor log folder (``annotations.feather``, ``city_SE3_egovehicle.feather``,
    ``map/``) as a scenario; every lane gets ``default_speed_limit_mps`` (AV2 maps have none).
    ``annotated_only``: agents present only while annotated (:func:`track_agents`; open loop).
    ``DataError`` for a missing file (naming it) or malformed data (see the module docstring)."""
    log = Path(log_dir)
    for name in (ANNOTATIONS, POSES):
        if not (log / name).is_file():
            raise DataError(f"missing {name} (an AV2 sensor log folder holds it)", path=str(log))
    cuboids = read_av2_cuboids(log / ANNOTATIONS)
    poses = read_av2_poses(log / POSES)
    _check_track_rows(cuboids)
    sweeps_ns = np.unique(cuboids.timestamp_ns)
    world_from_ego = poses.at_times(sweeps_ns)
    time_s = (sweeps_ns - sweeps_ns[0]) / 1e9
    ego_xy = world_from_ego.translation[:, :2].copy()
    return Av2LogScenario(
        log_dir=log,
        road_map=read_av2_road_map(log / "map", default_speed_limit_mps),
        time_s=time_s,
        ego_xy_m=ego_xy,
        ego_yaw_rad=world_from_ego.yaw_rad,
        ego_speed_mps=speed_from_motion(time_s, ego_xy),
        agents=tuple(
            track_agents(cuboids, world_from_ego, sweeps_ns, annotated_only=annotated_only)
        ),
    )
