"""Fleets of scenario variants on a local process pool (default) or Ray.

:mod:`~drivestack.exec.sweep` expands scenarios into seeded variants,
:mod:`~drivestack.exec.task` runs one (with the lights' true states or a camera's reads of
them: :mod:`~drivestack.exec.lights`), :mod:`~drivestack.exec.executors` fans tasks out and
:mod:`~drivestack.exec.fleet` streams the records to a resumable JSONL index.
"""

from drivestack.exec.executors import LocalPoolExecutor, RayExecutor, make_executor
from drivestack.exec.fleet import FleetResult, read_index, run_fleet
from drivestack.exec.lights import FleetLights
from drivestack.exec.sweep import SweepParam, SweepSpec, Variant, expand_variants
from drivestack.exec.task import VariantTask, run_variant

__all__ = [
    "FleetLights",
    "FleetResult",
    "LocalPoolExecutor",
    "RayExecutor",
    "SweepParam",
    "SweepSpec",
    "Variant",
    "VariantTask",
    "expand_variants",
    "make_executor",
    "read_index",
    "run_fleet",
    "run_variant",
]
