"""3D multi-object tracking: motion models, association, lifecycle and the tracker stage.

Build a tracker from config with :func:`build_tracker` (``configs/tracking/*.yaml`` via
:func:`load_tracker_config`); it is a stage with ``reset()`` and ``step(Boxes3D) -> Tracks``.
"""

from drivestack.tracking.config import (
    AssociationConfig,
    ClassTrackerConfig,
    LifecycleConfig,
    MotionConfig,
    TrackerConfig,
    load_tracker_config,
)
from drivestack.tracking.tracker import (
    ClassTracker,
    ClassTrackState,
    Tracker,
    build_tracker,
    single_class_tracker,
)

__all__ = [
    "AssociationConfig",
    "ClassTrackState",
    "ClassTracker",
    "ClassTrackerConfig",
    "LifecycleConfig",
    "MotionConfig",
    "Tracker",
    "TrackerConfig",
    "build_tracker",
    "load_tracker_config",
    "single_class_tracker",
]
