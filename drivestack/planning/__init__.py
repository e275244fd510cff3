"""Planning: the ego's trajectory from the route, the map and the tracked agents.

- :class:`~drivestack.planning.pdm.PDMPlanner`: PDM-Closed style (Dauner et al. 2023):
  IDM speed proposals at several lateral offsets, rolled out
  (:mod:`~drivestack.planning.proposals`) and scored with the nuPlan metrics
  (:mod:`~drivestack.planning.scoring`); :class:`~drivestack.planning.pdm.IDMPlanner` is the
  plain IDM lane follower baseline (:mod:`~drivestack.planning.idm`).
- :mod:`~drivestack.planning.reference_path`: the route's centreline with Frenet queries.
- :mod:`~drivestack.planning.control`: pure-pursuit steering and PI + feed-forward speed
  tracking of the planned trajectory, within the vehicle's limits.

``drivestack sim --planner pdm|idm`` runs them closed loop. The names below import their
module on first use (``from drivestack.planning import PDMPlanner``), so importing the package
stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivestack.core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from drivestack.planning.control import TrackerParams, TrajectoryTracker
    from drivestack.planning.idm import IDMParams
    from drivestack.planning.pdm import IDMPlanner, PDMParams, PDMPlanner, PlanDebug
    from drivestack.planning.reference_path import ReferencePath

__all__ = [
    "IDMParams",
    "IDMPlanner",
    "PDMParams",
    "PDMPlanner",
    "PlanDebug",
    "ReferencePath",
    "TrackerParams",
    "TrajectoryTracker",
]
_MODULES = {"IDMParams": "idm", "ReferencePath": "reference_path"}
_MODULES |= dict.fromkeys(("IDMPlanner", "PDMParams", "PDMPlanner", "PlanDebug"), "pdm")
_MODULES |= dict.fromkeys(("TrackerParams", "TrajectoryTracker"), "control")
__getattr__ = lazy_exports(__name__, _MODULES)
