"""Planning: the ego's trajectory from the route, the map and the tracked agents.

- :class:`~drivestack.planning.pdm.PDMPlanner`: PDM-Closed style (Dauner et al. 2023):
  IDM speed proposals at several lateral offsets, rolled out
  (:mod:`~drivestack.planning.proposals`) and scored with the nuPlan metrics
  (:mod:`~drivestack.planning.scoring`); :class:`~drivestack.planning.pdm.IDMPlanner` is the
  plain IDM lane follower baseline (:mod:`~drivestack.planning.idm`).
- :mod:`~drivestack.planning.reference_path`: the route's centreline with Frenet queries.
- :mod:`~drivestack.planning.control`: pure-pursuit and PID tracking of the planned
  trajectory.

``drivestack sim --planner pdm|idm`` runs them closed loop.
"""
