"""Fixed-step world: the ego bicycle, the traffic and the road map, with ground-truth observations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivestack.core.time import check_timestamp_ns, seconds_to_ns
from drivestack.sim.agents import AgentSpec, Traffic
from drivestack.sim.vehicle import BicycleState, VehicleParams, bicycle_step
from drivestack.structures.boxes import Boxes3D, require_boxes3d
from drivestack.structures.ego_state import EgoState
from drivestack.structures.road_map import RoadMap
from drivestack.structures.traffic_light import SIGNAL_STATES, check_state


def light_codes_at(road_map: RoadMap, timestamp_ns: np.ndarray) -> np.ndarray:
    """``(T, L)`` int8 state codes of ``road_map``'s lights at the ticks' integer
    ``timestamp_ns (T,)``: what :meth:`World.traffic_light_states` gives at those ticks
    (each light's cycle at the tick's timestamp, ``unknown`` without one), for all ticks at
    once."""
    time_ns = np.asarray(timestamp_ns, dtype=np.int64)
    lights = road_map.traffic_lights
    if not lights:
        return np.zeros((len(time_ns), 0), dtype=np.int8)
    return np.stack([light.codes_at_ns(time_ns) for light in lights], axis=1).astype(np.int8)


@dataclass(frozen=True)
class Observation:
    """What a planner sees at one tick: the ego state and the agent boxes (ground truth, or
    what the stack perceived), both in the map frame and at ``timestamp_ns``, one distinct
    ``str`` id per box; ``traffic_lights``: what each of the map's traffic lights shows, as
    ``(light_id, state)`` pairs (states of
    :data:`~drivestack.structures.traffic_light.SIGNAL_STATES`; :meth:`light_state` looks one
    up, ``"unknown"`` for a light not listed).

    ``ValueError`` when the ego and the agents are in different frames, the ego's time or
    the agents' ``timestamp_ns`` is not the observation's (an empty ``agents`` may carry any
    time: it holds no state to be stale), the number of ids is not the number of boxes, or
    an id repeats; ``TypeError`` when ``ego`` is not an ``EgoState``, ``agents`` not a
    ``Boxes3D`` (for the stack's ``Tracks``: ``tracks.boxes``) or an id not a ``str``.
    """

    timestamp_ns: int
    ego: EgoState
    agents: Boxes3D
    agent_ids: tuple[str, ...]
    traffic_lights: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # integer nanoseconds (a float 1e9 passed here and failed inside the planner, naming
        # its Trajectory)
        object.__setattr__(
            self,
            "timestamp_ns",
            check_timestamp_ns(self.timestamp_ns, argument="Observation.timestamp_ns"),
        )
        self._check_types()
        self._check_traffic_lights()
        if self.ego.frame != self.agents.frame:
            raise ValueError(
                f"Observation: the ego is in frame {self.ego.frame!r} and the agents in "
                f"{self.agents.frame!r}; give both in the map frame"
            )
        if int(self.ego.timestamp_ns) != int(self.timestamp_ns):
            raise ValueError(
                f"Observation: ego.timestamp_ns {int(self.ego.timestamp_ns)} is not the "
                f"observation's timestamp_ns {int(self.timestamp_ns)}"
            )
        if len(self.agents) and int(self.agents.timestamp_ns) != int(self.timestamp_ns):
            raise ValueError(
                f"Observation: agents.timestamp_ns {int(self.agents.timestamp_ns)} is not the "
                f"observation's timestamp_ns {int(self.timestamp_ns)}: predict the agents to "
                "the observation's time first"
            )
        if len(self.agent_ids) != len(self.agents):
            raise ValueError(
                f"Observation: {len(self.agent_ids)} agent_ids for {len(self.agents)} agent boxes"
            )
        if len(set(self.agent_ids)) != len(self.agent_ids):
            repeated = sorted({i for i in self.agent_ids if self.agent_ids.count(i) > 1})
            raise ValueError(f"Observation.agent_ids must be distinct, repeated: {repeated}")

    def light_state(self, light_id: str) -> str:
        """What light ``light_id`` shows (``"unknown"`` when the observation does not say)."""
        for known_id, state in self.traffic_lights:
            if known_id == light_id:
                return state
        return "unknown"

    def _check_traffic_lights(self) -> None:
        """``traffic_lights`` must be a tuple of distinct ``(str id, known state)`` pairs."""
        pairs = self.traffic_lights
        if not isinstance(pairs, tuple) or not all(
            isinstance(p, tuple) and len(p) == 2 and all(isinstance(v, str) for v in p)
            for p in pairs
        ):
            raise TypeError(
                "Observation.traffic_lights must be a tuple of (light_id, state) str pairs, "
                f"got {pairs!r}"
            )
        for light_id, state in pairs:
            check_state(state, f"Observation.traffic_lights[{light_id!r}]")
        ids = [p[0] for p in pairs]
        if len(set(ids)) != len(ids):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"Observation.traffic_lights: light ids repeated: {repeated}")

    def _check_types(self) -> None:
        """``TypeError`` naming the field whose type is wrong."""
        if not isinstance(self.ego, EgoState):
            raise TypeError(f"Observation.ego must be an EgoState, got {type(self.ego).__name__}")
        require_boxes3d(self.agents, "Observation.agents")
        bad = [i for i in self.agent_ids if not isinstance(i, str)]
        if not isinstance(self.agent_ids, tuple) or bad:
            raise TypeError(
                "Observation.agent_ids must be a tuple of str ids (e.g. tuple(str(i) for i in "
                f"tracks.track_id)), got {self.agent_ids!r}"
            )


class World:
    """Stage: ``reset()``, then ``step(accel, steering)`` advances everything by ``dt_s``."""

    def __init__(
        self,
        road_map: RoadMap,
        ego_start: BicycleState,
        agents: list[AgentSpec],
        vehicle: VehicleParams | None = None,
        dt_s: float = 0.1,
    ) -> None:
        if not dt_s > 0:
            raise ValueError(f"World.dt_s must be positive, got {dt_s}")
        self.road_map = road_map
        self.vehicle = vehicle or VehicleParams()
        self.dt_s = float(dt_s)
        self._ego_start = ego_start
        self.traffic = Traffic(agents)
        self.reset()

    def reset(self) -> None:
        self.tick = 0
        self.ego = self._ego_start
        self._ego_box_of: BicycleState | None = None  # the ego state _ego_box belongs to
        self._ego_box = np.zeros(7)
        self.traffic.reset()

    @property
    def timestamp_ns(self) -> int:
        return int(seconds_to_ns(self.tick * self.dt_s))

    def ego_state(self) -> EgoState:
        e = self.ego
        yaw_rate = float(e.speed_mps[0] * np.tan(e.steering_rad[0]) / self.vehicle.wheelbase_m)
        return EgoState(
            self.timestamp_ns,
            float(e.x_m[0]),
            float(e.y_m[0]),
            float(e.yaw_rad[0]),
            float(e.speed_mps[0]),
            float(e.acceleration_mps2[0]),
            yaw_rate,
            float(e.steering_rad[0]),
        )

    def ego_box(self) -> np.ndarray:
        """``(7,)`` ego footprint (a fresh copy; computed once per ego state: a tick records
        it after ``step`` and the next ``step`` needs the same one)."""
        if self._ego_box_of is not self.ego:
            self._ego_box = self.ego.boxes(self.vehicle)[0]
            self._ego_box_of = self.ego
        return self._ego_box.copy()

    def observe(self) -> Observation:
        valid = self.traffic.state.valid
        boxes = self.traffic.boxes()[valid]
        agents = Boxes3D.from_array7(
            boxes,
            frame="world",
            timestamp_ns=self.timestamp_ns,
            label=self.traffic.labels[valid],
            velocity_mps=self.traffic.velocities()[valid],
        )
        ids = tuple(s.agent_id for s, v in zip(self.traffic.specs, valid, strict=True) if v)
        return Observation(
            self.timestamp_ns, self.ego_state(), agents, ids, self.traffic_light_states()
        )

    def traffic_light_states(self) -> tuple[tuple[str, str], ...]:
        """``(light_id, state)`` of every traffic light of the map at the current tick (its
        cycle's state at the tick's integer :attr:`timestamp_ns`, ``"unknown"`` for a light
        without one)."""
        lights = self.road_map.traffic_lights
        if not lights:
            return ()
        codes = light_codes_at(self.road_map, np.array([self.timestamp_ns]))[0].tolist()
        return tuple(
            (light.light_id, SIGNAL_STATES[code]) for light, code in zip(lights, codes, strict=True)
        )

    def step(self, accel_cmd_mps2: float, steering_cmd_rad: float) -> None:
        ego_box = self.ego_box()
        ego_speed = float(self.ego.speed_mps[0])
        # the lights as the planner saw them this tick (computed only when an agent obeys them)
        lights = self.traffic_light_states() if self.traffic.obeys_lights else ()
        self.ego = bicycle_step(self.ego, accel_cmd_mps2, steering_cmd_rad, self.dt_s, self.vehicle)
        self.traffic.step(self.dt_s, ego_box, ego_speed, lights)
        self.tick += 1
