"""Frames, rigid transforms, time, errors and array helpers shared by every stage."""

from drivestack.core.errors import ConfigError, DataError, DrivestackError, MissingDependencyError
from drivestack.core.frames import FrameId
from drivestack.core.transforms import SE2, SE3

__all__ = [
    "SE2",
    "SE3",
    "ConfigError",
    "DataError",
    "DrivestackError",
    "FrameId",
    "MissingDependencyError",
]
