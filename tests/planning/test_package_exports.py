"""``drivestack.planning`` exports its public classes lazily (importing the package is cheap)."""

from __future__ import annotations

import subprocess
import sys


def test_planning_package_exports_its_public_classes() -> None:
    from drivestack.planning import PDMParams, PDMPlanner, TrajectoryTracker
    from drivestack.planning.control import TrajectoryTracker as Direct
    from drivestack.planning.pdm import PDMPlanner as DirectPlanner

    assert PDMPlanner is DirectPlanner and TrajectoryTracker is Direct
    assert PDMParams().horizon_s == 8.0


def test_importing_the_package_loads_no_planner_module() -> None:
    code = (
        "import sys, drivestack.planning\n"
        "assert 'drivestack.planning.pdm' not in sys.modules\n"
        "assert 'drivestack.planning.control' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
