"""The forecast models ``drivestack eval prediction`` compares, by name.

Each takes the agents' estimated states (:class:`~drivestack.prediction.state.AgentStates`),
the recording's road map (None without one), the horizon and the step, and returns a
:class:`~drivestack.prediction.multimodal.MultiModalForecast` (single-mode models as ``K = 1``).
The learned forecaster (:func:`learned_model`, from a checkpoint file) reads the observed
past itself instead of the estimated state (:attr:`ForecastModel.run_past`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.prediction.forecast import constant_velocity_forecast, lane_following_forecast
from drivestack.prediction.kinematic import ctrv_forecast, stationary_forecast
from drivestack.prediction.multimodal import MAX_MODES, MultiModalForecast, lane_branch_forecast
from drivestack.prediction.state import TRACK_YAW_RATE, AgentStates, YawRateFit
from drivestack.structures.road_map import RoadMap

#: CTRV's yaw-rate decay time constant (s). Chosen on KITTI tracking's train split (1764
#: cases, 0.3 s fit window), never on AV2: ADE@3s 0.951 / 0.975 / 0.954 / 0.945 / 0.944 m
#: and FDE@3s 2.292 / 2.344 / 2.285 / 2.255 / 2.254 m for no decay / 0.5 / 1 / 2 / 3 s; a
#: measured turn rate held for the whole horizon overshoots turns that end.
CTRV_YAW_RATE_DECAY_S: float | None = 3.0

#: CTRV with the yaw rate fitted for tracked pasts
#: (:data:`~drivestack.prediction.state.TRACK_YAW_RATE`: 1 s of yaws, shrunk towards 0 by 2
#: standard errors), chosen on KITTI tracking train with ``--pasts tracks``.
CTRV_SHRUNK = "ctrv_shrunk"

Runner = Callable[[AgentStates, RoadMap | None, float, float], MultiModalForecast]
#: ``(past_t_s (A, N), past_boxes (A, N, 7), label (A,), horizon_s, dt_s)``
PastRunner = Callable[[np.ndarray, np.ndarray, np.ndarray, float, float], MultiModalForecast]

#: The name of the learned forecaster's model (built from a checkpoint, not in :data:`MODELS`).
LEARNED = "learned"


@dataclass(frozen=True)
class ForecastModel:
    """A named forecast model: ``run(states, road_map, horizon_s, dt_s)``, or for a model that
    reads the observed past itself ``run_past(past_t_s, past_boxes, label, horizon_s, dt_s)``
    (exactly one of them); ``needs_map`` models are run only on recordings with a map;
    ``modes`` is its ``K``; ``record``: what a report should keep of where the model came from
    (the learned forecaster's checkpoint, config and training provenance);
    ``tracker_velocity``: the states' velocity is replaced by the tracker's own (cases from
    tracker pasts only, :attr:`~drivestack.eval.prediction.cases.Cases.tracker_velocity_mps`);
    ``yaw_rate``: how the states' yaw rate is fitted for this model
    (:class:`~drivestack.prediction.state.YawRateFit`), None: the evaluation's default."""

    name: str
    needs_map: bool
    modes: int
    description: str
    run: Runner | None
    run_past: PastRunner | None = None
    record: dict[str, Any] | None = None
    tracker_velocity: bool = False
    yaw_rate: YawRateFit | None = None

    def __post_init__(self) -> None:
        if (self.run is None) == (self.run_past is None):
            raise ValueError(f"model {self.name}: give exactly one of run and run_past")

    def forecast(
        self,
        past_t_s: np.ndarray,
        past_boxes: np.ndarray,
        states: AgentStates,
        road_map: RoadMap | None,
        horizon_s: float,
        dt_s: float,
    ) -> MultiModalForecast:
        """The model's forecast of the agents whose ``(A, N)`` past times and ``(A, N, 7)``
        boxes gave ``states`` (in the pasts' frame)."""
        if self.run_past is not None:
            return self.run_past(past_t_s, past_boxes, states.boxes.label, horizon_s, dt_s)
        assert self.run is not None  # (__post_init__)
        return self.run(states, road_map, horizon_s, dt_s)


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
        ForecastModel(
            CTRV_SHRUNK,
            False,
            1,
            "CTRV, turn rate over 1 s of yaws shrunk by 2 standard errors (jittery tracks)",
            _ctrv,
            yaw_rate=TRACK_YAW_RATE,
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


#: The model of tracker pasts only: constant velocity from the tracker's Kalman velocity at the
#: anchor instead of a velocity fitted to the track's past boxes.
TRACKER_VELOCITY = "tracker_velocity"
#: Models that need tracker pasts (``--pasts tracks``), by name.
TRACKER_MODELS: dict[str, ForecastModel] = {
    TRACKER_VELOCITY: ForecastModel(
        TRACKER_VELOCITY,
        False,
        1,
        "constant velocity, constant yaw, the tracker's own (Kalman) velocity",
        _cv,
        tracker_velocity=True,
    )
}


def learned_model(path: str | Path) -> ForecastModel:
    """The learned forecaster of the checkpoint ``path``
    (:func:`~drivestack.prediction.learned.load_forecaster`) as model :data:`LEARNED`.

    Raises:
        DataError: the checkpoint's errors (naming the file and field).
    """
    from drivestack.prediction.learned import load_forecaster

    forecaster = load_forecaster(path)
    cfg = forecaster.cfg
    return ForecastModel(
        LEARNED,
        False,
        cfg.modes,
        f"learned MLP, K = {cfg.modes} residuals on constant velocity ({Path(path).name})",
        None,
        forecaster.forecast,
        {
            "checkpoint": str(path),
            "config": asdict(cfg),
            "provenance": forecaster.provenance,
        },
    )
