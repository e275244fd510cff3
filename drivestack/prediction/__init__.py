"""Agent forecasts for the planner: constant velocity and lane following; for evaluation also
stationary, CTRV and the multi-modal lane-branch forecast, and the state estimated from an
observed past."""

from drivestack.prediction.forecast import (
    Forecast,
    constant_velocity_forecast,
    lane_following_forecast,
)
from drivestack.prediction.kinematic import ctrv_forecast, stationary_forecast
from drivestack.prediction.multimodal import MultiModalForecast, lane_branch_forecast
from drivestack.prediction.state import AgentStates, estimate_states

__all__ = [
    "AgentStates",
    "Forecast",
    "MultiModalForecast",
    "constant_velocity_forecast",
    "ctrv_forecast",
    "estimate_states",
    "lane_branch_forecast",
    "lane_following_forecast",
    "stationary_forecast",
]
