"""Closed-loop simulation: the stack (or its planner alone) drives a simulated car through
scenarios, and every run is scored.

- :mod:`~drivestack.sim.scenario`: scenario and suite YAML (strict schema, sweeps);
  :func:`~drivestack.sim.build.build_scenario` turns one into a ready
  :class:`~drivestack.sim.world.World` (map, ego, route, agents), checking it against its map.
- :func:`~drivestack.sim.evaluate.run_scenario`: drive a built scenario with a planner (``pdm``,
  ``idm`` or your own object with ``name``, ``reset()``, ``step(observation) -> Trajectory``)
  and score it: nuPlan metrics, Euro NCAP style pass/fail, the scenario's pass criteria.
- :mod:`~drivestack.sim.runner`: the plain closed loop (observe -> plan -> track -> step);
  :mod:`~drivestack.sim.perceived`: the same loop through the real perception and tracking
  stack on simulated LiDAR (:mod:`~drivestack.sim.sensors`, open3d ray casting).
- :mod:`~drivestack.sim.agents`: log-replayed, IDM lane-following and scripted traffic;
  :mod:`~drivestack.sim.vehicle`: the kinematic bicycle model of the ego.
- :mod:`~drivestack.sim.record` and :mod:`~drivestack.sim.export_kitti`: simulated drives as
  drivestack logs and as KITTI object datasets.

``drivestack sim`` runs scenarios and suites from the command line; ``drivestack fleet`` sweeps
them over seeded variants on a process pool or Ray.
"""
