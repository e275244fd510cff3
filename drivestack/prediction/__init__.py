"""Agent forecasts for the planner: constant velocity and lane following."""

from drivestack.prediction.forecast import (
    Forecast,
    constant_velocity_forecast,
    lane_following_forecast,
)

__all__ = ["Forecast", "constant_velocity_forecast", "lane_following_forecast"]
