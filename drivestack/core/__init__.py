"""Frames, rigid transforms, time, errors and array helpers shared by every stage.

``SE2`` / ``SE3`` are imported on first use (they need NumPy), so that importing a package
that only wants :mod:`drivestack.core.lazy_exports` or the errors stays cheap."""

from drivestack.core.errors import ConfigError, DataError, DrivestackError, MissingDependencyError
from drivestack.core.frames import EGO, MAP, WORLD, FrameId
from drivestack.core.lazy_exports import lazy_exports

__all__ = [
    "EGO",
    "MAP",
    "SE2",
    "SE3",
    "WORLD",
    "ConfigError",
    "DataError",
    "DrivestackError",
    "FrameId",
    "MissingDependencyError",
]

__getattr__ = lazy_exports(__name__, {"SE2": "transforms", "SE3": "transforms"})
