"""The fleet task: run one variant, write its result folder, return its index record.

:func:`run_variant` is a top-level function of plain picklable arguments so that a spawned
process pool and Ray workers run exactly the same code. It never raises for a failing
scenario: the error is part of the record.
"""

from __future__ import annotations

import dataclasses
import random
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from drivestack.exec.executors import strip_ansi
from drivestack.exec.lights import LIGHT_KEYS, TRUE_LIGHTS, FleetLights, light_record_fields
from drivestack.exec.sweep import Variant
from drivestack.sim.scenario import ScenarioConfig, recorded_agents_mode

if TYPE_CHECKING:
    from drivestack.sim.evaluate import PlannerParams

#: Record fields that depend on the machine's load, not on the variant (left out of comparisons).
TIMING_FIELDS = ("wall_s", "planner_step_median_ms", "worker")


@dataclass(frozen=True)
class VariantTask:
    """Everything a worker needs: the variant, the fleet folder, the data root, a step cap,
    the drivestack commit the fleet runs and, when its suite lists the variant's scenario and
    planner as a known failure, the reason (both recorded in the variant's metrics.json);
    ``lights``: what the planner knows of the traffic lights (:class:`FleetLights`: the true
    states, or a camera's reads with its effects, seeded per variant); ``planner_params``:
    the ``--planner-params`` settings as plain data
    (:meth:`~drivestack.sim.evaluate.PlannerParams.as_dict`, with the lights' ``unknown_light``
    policy; rebuilt in the worker, :meth:`planner_settings`) and ``planner_params_file`` the
    file they were read from (None without the option: the built-in settings)."""

    variant: Variant
    out_dir: str
    data_root: str | None = None
    max_steps: int | None = None
    git_commit: str | None = None
    known_failure: str | None = None  # why the suite lists this run as a known failure
    lights: FleetLights = TRUE_LIGHTS
    planner_params: dict[str, Any] | None = None
    planner_params_file: str | None = None

    def planner_settings(self) -> PlannerParams | None:
        """:attr:`planner_params` as :class:`~drivestack.sim.evaluate.PlannerParams` (read
        strictly, :func:`drivestack.config.from_mapping`), None without them."""
        if self.planner_params is None:
            return None
        from drivestack.config import from_mapping
        from drivestack.sim.evaluate import PlannerParams, recorded_planner_params

        where = self.planner_params_file or "<planner_params>"
        return from_mapping(PlannerParams, recorded_planner_params(self.planner_params), path=where)


def planner_params_record(
    settings: dict[str, Any], file: str | None, planner: str
) -> dict[str, Any]:
    """A run's ``planner_params`` in its metrics.json: the ``file`` they were read from and,
    of ``settings`` (:meth:`~drivestack.sim.evaluate.PlannerParams.as_dict`), the run's
    planner's block, ``vehicle`` and ``tracker`` (``drivestack sim`` and the fleet workers
    both record them with it)."""
    return {
        "file": file,
        planner: settings[planner],
        "vehicle": settings["vehicle"],
        "tracker": settings["tracker"],
    }


def write_run_results(folder: Path, result: Any, record: dict[str, Any]) -> None:
    """A finished run's ``history.npz``, then its ``metrics.json`` (``record``) last, each
    written whole: a run is done when its ``metrics.json`` exists (``drivestack sim`` and
    the fleet workers both write runs this way). ``metrics.json`` is strict JSON: NumPy values
    as plain ones, NaN and infinities as ``null`` (:func:`~drivestack.core.json_values.strict_dumps`)."""
    from drivestack.core.atomic import save_npz_atomic, write_text_atomic
    from drivestack.core.json_values import strict_dumps

    folder.mkdir(parents=True, exist_ok=True)
    save_npz_atomic(folder / "history.npz", result.history.arrays())
    write_text_atomic(folder / "metrics.json", strict_dumps(record, indent=2))


#: The planners' policy for a light whose state is unknown
#: (:data:`drivestack.planning.traffic_lights.UNKNOWN_LIGHT_POLICIES`) per ``--lights``: with
#: the true states unknown means the map gives no cycle (go); read by a camera, it means the
#: camera could not read it, and the planners stop as at yellow.
UNKNOWN_LIGHT_BY_LIGHTS = {"truth": "go", "camera": "yellow"}


def unknown_light_policy(lights: str) -> str:
    """The planners' ``unknown_light`` policy for ``--lights`` ``lights``."""
    return UNKNOWN_LIGHT_BY_LIGHTS[lights]


def planner_for_lights(name: str, built: Any, lights: str) -> Any:
    """The planner of a run: ``name`` itself (the default parameters) for ``--lights truth``,
    else the built-in planner ``name`` made for ``built`` with the ``unknown_light`` policy of
    ``lights`` (:func:`unknown_light_policy`). ``drivestack sim`` and the fleet workers both
    make their planners with it."""
    from drivestack.planning.pdm import PDMParams
    from drivestack.sim.evaluate import PLANNERS

    policy = unknown_light_policy(lights)
    if policy == PDMParams.unknown_light:
        return name
    params = PDMParams(unknown_light=policy)
    return PLANNERS[name](built.road_map, built.route_lanes, built.world.vehicle, params)


def run_built(
    built: Any,
    name: str,
    lights: str,
    data_root: Path | None,
    max_steps: int | None,
    params: PlannerParams | None,
) -> Any:
    """:func:`~drivestack.sim.evaluate.run_scenario` of ``built`` with the built-in planner
    ``name``: with ``params`` (``--planner-params``, their ``unknown_light`` already
    ``lights``'s), else the default settings with ``lights``'s policy
    (:func:`planner_for_lights`). ``drivestack sim`` and the fleet workers both run with it."""
    from drivestack.sim.evaluate import run_scenario

    planner = name if params is not None else planner_for_lights(name, built, lights)
    return run_scenario(built, planner, data_root, max_steps, params=params)


#: The keys :func:`run_provenance_fields` adds to every run's metrics.json: how it ran.
RUN_PROVENANCE_KEYS = (
    "max_steps",
    "git_commit",
    "config",
    "perception",
    "recorded_agents",
    "lights",
    "unknown_light",
)


def run_provenance_fields(
    scenario: ScenarioConfig,
    *,
    max_steps: int | None,
    git_commit: str | None,
    perception: str = "ground_truth",
    lights: str = "truth",
) -> dict[str, Any]:
    """How a run ran, as its metrics.json records it (:data:`RUN_PROVENANCE_KEYS`): the step
    cap, the drivestack commit, the scenario ``config`` it ran, what the planner saw
    (``perception``: ``ground_truth`` or ``lidar``; ``lights``: ``truth`` or ``camera``, with
    the planners' ``unknown_light`` policy) and how its recorded traffic ran
    (``recorded_agents``: ``reactive``, ``replay``, or None without recorded traffic).
    ``drivestack sim`` and the fleet workers both make their records with it, so the two
    cannot record different keys (``drivestack report`` compares runs by them)."""
    return {
        "max_steps": max_steps,
        "git_commit": git_commit,
        "config": _with_resolved_source(dataclasses.asdict(scenario)),
        "perception": perception,
        "recorded_agents": recorded_agents_mode(scenario),
        "lights": lights,
        "unknown_light": unknown_light_policy(lights),
    }


def _with_resolved_source(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with its ``source`` file as an absolute path (a scenario given relative to
    the folder the run started in, ``configs/scenarios/ccrs.yaml``, pointed nowhere from any
    other, and disagreed with ``sim.json``'s resolved one); a source that is no file (a
    mapping built in Python) is kept as it is."""
    source = config.get("source")
    if isinstance(source, str) and source and Path(source).is_file():
        return {**config, "source": str(Path(source).resolve())}
    return config


def _write_results(
    folder: Path, result: Any, task: VariantTask, light_fields: dict[str, Any]
) -> None:
    """A variant's result folder: its metrics.json holds the run's figures, how it ran
    (:func:`run_provenance_fields`: a fleet runs ground truth, and the lights' true states or
    a camera's reads, ``task.lights``), ``light_fields`` (with camera lights,
    :func:`~drivestack.exec.lights.light_record_fields`, as ``drivestack sim`` records
    them) and ``fleet`` (variant, base scenario, seed, params)."""
    variant = task.variant
    record = result.as_dict()
    record.update(
        run_provenance_fields(
            variant.scenario,
            max_steps=task.max_steps,
            git_commit=task.git_commit,
            lights=task.lights.lights,
        )
    )
    record.update(light_fields)
    if task.planner_params is not None:  # what this run's planner, vehicle and tracker ran with
        record["planner_params"] = planner_params_record(
            task.planner_params, task.planner_params_file, variant.planner
        )
    if task.known_failure is not None:
        record["known_failure"] = task.known_failure
    record["fleet"] = {
        "variant": variant.variant_id,
        "base_scenario": variant.base_scenario,
        "seed": variant.seed,
        "params": variant.params,
    }
    write_run_results(folder, result, record)


def _run(task: VariantTask, data_root: Path | None) -> tuple[Any, dict[str, Any]]:
    """Run ``task``'s variant; its result and, with camera lights, its light-perception
    fields (:func:`~drivestack.exec.lights.light_record_fields`; ``{}`` with true lights).
    The camera's effects are the variant's (:meth:`FleetLights.variant_effects`); with
    ``task.planner_params`` the planner, vehicle and tracker run them as ``drivestack sim
    --planner-params`` does (the vehicle set before any observer wraps the world)."""
    from drivestack.sim.evaluate import run_scenario

    v, lights = task.variant, task.lights
    params = task.planner_settings()
    if lights.lights != "camera":
        result = run_scenario(v.scenario, v.planner, data_root, task.max_steps, params=params)
        return result, {}
    from drivestack.sim.build import build_scenario
    from drivestack.sim.perceived import observers
    from drivestack.sim.perceived_lights import CameraLightPerception, with_light_perception

    built = build_scenario(v.scenario, data_root)
    if params is not None:  # (a wrapped world takes no other vehicle: run_scenario)
        built.world.vehicle = params.vehicle
    built = with_light_perception(built, effects=lights.variant_effects(v.seed))
    result = run_built(built, v.planner, lights.lights, data_root, task.max_steps, params)
    (observer,) = [o for o in observers(built.world) if isinstance(o, CameraLightPerception)]
    return result, light_record_fields(observer, lights.preset)


def variant_record(v: Variant) -> dict[str, Any]:
    """The head of a variant's index record: id, scenario, planner, index, seed, params."""
    return {
        "variant": v.variant_id,
        "scenario": v.scenario.name,
        "base_scenario": v.base_scenario,
        "planner": v.planner,
        "index": v.index,
        "seed": v.seed,
        "params": v.params,
    }


#: A plain ``drivestack sim`` run that raises writes its crashed record here, in its folder.
ERROR_NAME = "error.json"

#: The status of a record of a run that raised (``drivestack sim``'s word for it, too).
CRASHED = "crashed"
#: The statuses that mean "raised while running": ``crashed``, and ``failed``, the word older
#: fleet indexes and error.json files gave it.
CRASHED_STATUSES = (CRASHED, "failed")


def is_crashed(record: dict[str, Any]) -> bool:
    """Whether an index record or error.json is of a run that raised (:data:`CRASHED_STATUSES`;
    ``ok`` is a run that ran, passed or not)."""
    return record.get("status") in CRASHED_STATUSES


#: How a run ends, in ``drivestack sim``'s words: it met its pass criteria, it ran and did
#: not, it ran and did not as its suite lists (a known failure: ``known_failure`` in its
#: record, the reason; ``drivestack.sim.scenario.read_suite``), or it raised. A listed run
#: that met its criteria is ``passed``, and :func:`passed_unexpectedly` unless some of its
#: criteria were not evaluated (:func:`known_failure_not_evaluated`).
OUTCOMES = ("passed", "failed", "known_failure", CRASHED)
#: The count of each outcome in a summary (``drivestack sim``'s summary.json, the fleet's
#: fleet_summary.json), and of the listed runs that passed.
OUTCOME_COUNTS = {
    "passed": "passed",
    "failed": "failed",
    "known_failure": "known_failures",
    CRASHED: "crashed",
}
UNEXPECTED_PASSES = "unexpected_passes"
#: The count of the listed runs that passed only the criteria they could judge (among
#: ``passed``, apart from :data:`UNEXPECTED_PASSES`).
KNOWN_NOT_EVALUATED = "known_failures_not_evaluated"
#: How a report or table calls such a run.
NOT_EVALUATED_LABEL = "known failure, not evaluated (run cut short)"


def outcome(record: dict[str, Any]) -> str:
    """Which of :data:`OUTCOMES` a run's record (index record, error.json, sim row) is."""
    if is_crashed(record):
        return CRASHED
    if record.get("passed"):
        return "passed"
    return "failed" if record.get("known_failure") is None else "known_failure"


def not_evaluated(record: dict[str, Any]) -> list[str]:
    """The pass criteria a run cut short could not judge (its ``not_evaluated``, as
    ``drivestack.sim.evaluate.not_evaluated_criteria`` words them; empty for a full run, and
    for a record that predates the field)."""
    value = record.get("not_evaluated")
    return [str(v) for v in value] if isinstance(value, list) else []


def known_failure_not_evaluated(record: dict[str, Any]) -> bool:
    """Whether a run its suite lists as a known failure met the criteria it could judge but
    was cut short before others (``--max-steps``: :func:`not_evaluated`): neither a known
    failure shown nor an unexpected pass (the listed failure may lie in what was not judged);
    ``drivestack sim`` exits as for a pass."""
    return _listed_and_passed(record) and bool(not_evaluated(record))


def passed_unexpectedly(record: dict[str, Any]) -> bool:
    """Whether a run its suite lists as a known failure met its pass criteria, every one of
    them judged (then the listing is stale: ``drivestack sim`` exits 1 until it is removed;
    a run cut short before some were judged is :func:`known_failure_not_evaluated`)."""
    return _listed_and_passed(record) and not not_evaluated(record)


def _listed_and_passed(record: dict[str, Any]) -> bool:
    """Whether a run its suite lists as a known failure met the criteria it judged."""
    return outcome(record) == "passed" and record.get("known_failure") is not None


def count_outcomes(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """``{"passed": n, "failed": n, "known_failures": n, "crashed": n, "unexpected_passes":
    n, "known_failures_not_evaluated": n}`` over ``records`` (:func:`outcome`,
    :data:`OUTCOME_COUNTS`; the unexpected passes, :func:`passed_unexpectedly`, and the listed
    runs cut short, :func:`known_failure_not_evaluated`, are among the passed)."""
    counts = dict.fromkeys(OUTCOME_COUNTS.values(), 0)
    counts[UNEXPECTED_PASSES] = 0
    counts[KNOWN_NOT_EVALUATED] = 0
    for record in records:
        counts[OUTCOME_COUNTS[outcome(record)]] += 1
        counts[UNEXPECTED_PASSES] += passed_unexpectedly(record)
        counts[KNOWN_NOT_EVALUATED] += known_failure_not_evaluated(record)
    return counts


def crashed_fields(exc: BaseException) -> dict[str, Any]:
    """The fields of a crashed variant's record: ``status`` ``crashed``, the ``error`` in one
    line and its ``traceback`` (the last 20 frames); ``config_error`` true for a
    ``ConfigError`` (a swept value the map refuses, found when the variant was built: a rerun
    cannot help)."""
    from drivestack.core.errors import ConfigError

    lines = [line.strip() for line in strip_ansi(str(exc)).splitlines() if line.strip()]
    return {
        "status": CRASHED,
        "error": f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": "),
        "traceback": strip_ansi("".join(traceback.format_exception(exc, limit=20))),
        "config_error": isinstance(exc, ConfigError),
    }


def run_variant(task: VariantTask) -> dict[str, Any]:
    """Run ``task.variant`` with its seed; write ``<out>/<variant_id>/`` and return its record.

    The record holds the variant id, scenario, planner, seed and swept parameters, ``status``
    (``ok``: it ran, ``passed`` says whether it met its pass criteria; or ``crashed``: it
    raised), and for ``ok`` the score, pass/fail, collision, min TTC (with its horizon),
    impact speed (the ego's, and the closing speed), ``red_light_violations`` (the red
    lights the ego ran, as metrics.json counts them: 0 on a map without lights) and
    ``stop_sign_violations`` (the stop signs it ran, likewise); for ``crashed`` the error and
    its traceback; ``not_evaluated``: the criteria a run cut short could not judge. Records of
    older indexes lack ``red_light_violations``, ``stop_sign_violations`` and
    ``not_evaluated`` (read them with ``record.get``, :func:`not_evaluated`). With camera
    lights (``task.lights``) it also holds ``light_perception`` and ``light_perception_raw``
    (as metrics.json: :data:`~drivestack.exec.lights.LIGHT_KEYS`), which the fleet's summary
    pools per planner.
    """
    import os

    v = task.variant
    start = time.perf_counter()
    record = variant_record(v)
    # a rerun (damaged results, --retry-crashed) that crashes must leave no earlier results
    # behind: the report would read them as this run's (metrics.json last, as it is written)
    folder = Path(task.out_dir) / v.variant_id
    for name in ("metrics.json", "history.npz"):
        (folder / name).unlink(missing_ok=True)
    # the variant's seed drives every global RNG a stage might use (the sim seeds its own)
    random.seed(v.seed)
    np.random.seed(v.seed % 2**32)  # noqa: NPY002 - the legacy global state, on purpose
    try:
        data_root = Path(task.data_root) if task.data_root else None
        result, light_fields = _run(task, data_root)
        _write_results(Path(task.out_dir) / v.variant_id, result, task, light_fields)
        metrics = result.as_dict()
        record.update(
            status="ok",
            score=metrics["score"],
            passed=bool(result.passed),
            failures=list(result.failures),
            # added field (older indexes lack it): criteria a cut-short run did not judge
            not_evaluated=list(result.not_evaluated),
            collision=result.ncap.avoided is False,  # None: run cut short, not evaluated
            min_ttc_s=result.ncap.min_ttc_s,  # None: no projected hit within ttc_horizon_s
            ttc_horizon_s=result.ncap.ttc_horizon_s,
            impact_speed_kph=result.ncap.impact_speed_kph,
            relative_impact_speed_kph=result.ncap.relative_impact_speed_kph,
            # added field (older indexes lack it): drivestack.eval.driving.traffic_lights
            red_light_violations=metrics["red_light_violations"],
            # added field (older indexes lack it): drivestack.eval.driving.stop_signs
            stop_sign_violations=metrics["stop_sign_violations"],
            planner_step_median_ms=result.planner_step_median_ms,
        )
        record.update({k: light_fields[k] for k in LIGHT_KEYS if k in light_fields})
        if task.known_failure is not None:  # listed by its suite: outcome() tells it apart
            record["known_failure"] = task.known_failure
    except Exception as exc:  # one bad variant must not stop the fleet: record it
        record.update(crashed_fields(exc))
    record["wall_s"] = time.perf_counter() - start
    record["worker"] = os.getpid()
    return record
