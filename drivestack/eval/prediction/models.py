"""The forecast models ``drivestack eval prediction`` compares, by name.

Each takes the agents' estimated states (:class:`~drivestack.prediction.state.AgentStates`),
the recording's road map (None without one), the horizon and the step, and returns a
:class:`~drivestack.prediction.multimodal.MultiModalForecast` (single-mode models as ``K = 1``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from drivestack.prediction.forecast import constant_velocity_forecast, lane_following_forecast
from drivestack.prediction.kinematic import ctrv_forecast, stationary_forecast
from drivestack.prediction.multimodal import MAX_MODES, MultiModalForecast, lane_branch_forecast
from drivestack.prediction.state import AgentStates
from drivestack.structures.road_map import RoadMap

#: CTRV's yaw-rate decay time constant (s). Chosen on KITTI tracking's train split (1764
#: cases, 0.3 s fit window), never on AV2: ADE@3s 0.951 / 0.975 / 0.954 / 0.945 / 0.944 m
#: and FDE@3s 2.292 / 2.344 / 2.285 / 2.255 / 2.254 m for no decay / 0.5 / 1 / 2 / 3 s; a
#: measured turn rate held for the whole horizon overshoots turns that end.
CTRV_YAW_RATE_DECAY_S: float | None = 3.0

Runner = Callable[[AgentStates, RoadMap | None, float, float], MultiModalForecast]


@dataclass(frozen=True)
class ForecastModel:
    """A named forecast model: ``run(states, road_map, horizon_s, dt_s)``; ``needs_map``
    models are run only on recordings with a map; ``modes`` is its ``K``."""

    name: str
    needs_map: bool
    modes: int
    description: str
    run: Runner


def _stationary(
    states: AgentStates, _map: RoadMap | None, horizon_s: float, dt_s: float
) -> MultiModalForecast:
    return MultiModalForecast.from_forecast(stationary_forecast(states.boxes, horizon_s, dt_s))


def _cv(
    states: AgentStates, _map: RoadMap | None, horizon_s: float, dt_s: float
) -> MultiModalForecast:
    return MultiModalForecast.from_forecast(
        constant_velocity_forecast(states.boxes, horizon_s, dt_s)
    )


def _ctrv(
    states: AgentStates, _map: RoadMap | None, horizon_s: float, dt_s: float
) -> MultiModalForecast:
    forecast = ctrv_forecast(
        states.boxes, states.yaw_rate_radps, horizon_s, dt_s, CTRV_YAW_RATE_DECAY_S
    )
    return MultiModalForecast.from_forecast(forecast)


def _need_map(road_map: RoadMap | None, name: str) -> RoadMap:
    if road_map is None:
        raise ValueError(f"model {name} needs a road map")
    return road_map


def _lane(
    states: AgentStates, road_map: RoadMap | None, horizon_s: float, dt_s: float
) -> MultiModalForecast:
    forecast = lane_following_forecast(
        states.boxes, _need_map(road_map, "lane_following"), horizon_s, dt_s
    )
    return MultiModalForecast.from_forecast(forecast)


def _branches(
    states: AgentStates, road_map: RoadMap | None, horizon_s: float, dt_s: float
) -> MultiModalForecast:
    return lane_branch_forecast(states.boxes, _need_map(road_map, "lane_branches"), horizon_s, dt_s)


#: The models by name, in the order the tables list them.
MODELS: dict[str, ForecastModel] = {
    m.name: m
    for m in (
        ForecastModel("stationary", False, 1, "constant position", _stationary),
        ForecastModel("constant_velocity", False, 1, "constant velocity, constant yaw", _cv),
        ForecastModel(
            "ctrv", False, 1, "constant turn rate and velocity (decaying turn rate)", _ctrv
        ),
        ForecastModel("lane_following", True, 1, "along the lane's first successor (map)", _lane),
        ForecastModel(
            "lane_branches",
            True,
            MAX_MODES,
            f"one mode per successor branch + constant velocity, K <= {MAX_MODES} (map)",
            _branches,
        ),
    )
}
