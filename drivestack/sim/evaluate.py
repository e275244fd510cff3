"""Run one scenario with a planner and score it (nuPlan metrics, Euro NCAP, pass criteria)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import numpy as np

from drivestack.core.errors import ConfigError
from drivestack.eval.driving.ncap import NcapResult, ncap_result
from drivestack.eval.driving.nuplan import (
    DRIVABLE_TOLERANCE_M,
    MAKING_PROGRESS_RATIO,
    STOPPED_SPEED_MPS,
    CollisionEvent,
    NuPlanMetrics,
    nuplan_score,
)
from drivestack.eval.driving.stop_signs import StopSignResult, stop_sign_violations
from drivestack.eval.driving.traffic_lights import RedLightResult, red_light_violations
from drivestack.ingest.maps.commonroad import goal_reached_time_s
from drivestack.planning.control import TrackerParams, TrajectoryTracker
from drivestack.planning.pdm import IDMPlanner, PDMParams, PDMPlanner
from drivestack.planning.stop_signs import STOP_WINDOW_M
from drivestack.sim.build import BuiltScenario, build_scenario
from drivestack.sim.runner import Planner, SimHistory, run_closed_loop
from drivestack.sim.scenario import PassCriteria, ScenarioConfig
from drivestack.sim.vehicle import VehicleParams
from drivestack.sim.world import World

PLANNERS: dict[str, type[PDMPlanner] | type[IDMPlanner]] = {"pdm": PDMPlanner, "idm": IDMPlanner}


#: The :class:`~drivestack.planning.pdm.PDMParams` keys the IDM planner never reads, and why.
IDM_PLANNER_IGNORES = {
    "prediction": "its agents always move at constant velocity",
    "speed_fractions": "it drives one plan, at IDM's speed",
    "lateral_offsets_m": "it drives one plan, along the route",
    "offset_switch_margin": "it drives one plan, along the route",
    "entry_lookahead_steps": "it does not score plans",
    "emergency_decel_mps2": "it brakes no harder than idm.max_decel_mps2",
}


@dataclass(frozen=True)
class PlannerParams:
    """The settings of a closed-loop run's built-in planners, ego vehicle and trajectory
    tracker (``drivestack sim --planner-params YAML``): ``pdm`` and ``idm`` the
    :class:`~drivestack.planning.pdm.PDMParams` of each built-in planner (the IDM planner
    reads only some of them: its docstring lists which), ``vehicle`` the ego's
    :class:`~drivestack.sim.vehicle.VehicleParams` (the simulated car, the planners' and the
    tracker's), ``tracker`` the :class:`~drivestack.planning.control.TrackerParams`. Every
    block and key is optional (the defaults are those of a run without the file)."""

    pdm: PDMParams = field(default_factory=PDMParams)
    idm: PDMParams = field(default_factory=PDMParams)
    vehicle: VehicleParams = field(default_factory=VehicleParams)
    tracker: TrackerParams = field(default_factory=TrackerParams)

    @staticmethod
    def config_keys_ignored(mapping: dict[Any, Any]) -> dict[str, str]:
        """The keys of the ``idm:`` block the IDM planner never reads (see
        :mod:`drivestack.config.strict` and :class:`~drivestack.planning.pdm.IDMPlanner`):
        refused, rather than recorded in ``metrics.json`` as settings the run took."""
        block = mapping.get("idm")
        if not isinstance(block, dict):
            return {}
        out = {
            f"idm.{key}": f"the IDM planner does not read {key} ({why}): set it under pdm"
            for key, why in IDM_PLANNER_IGNORES.items()
            if key in block
        }
        inner = block.get("idm")
        if isinstance(inner, dict) and "coolness" in inner:
            out["idm.idm.coolness"] = (
                "the IDM planner drives plain IDM (coolness 0) whatever is set: set it under pdm"
            )
        return out

    def planner(self, name: str) -> PDMParams:
        """The :class:`PDMParams` of the built-in planner ``name`` (``ValueError`` for
        another name)."""
        if name not in PLANNERS:
            raise ValueError(f"unknown planner {name!r}; expected one of {sorted(PLANNERS)}")
        params: PDMParams = getattr(self, name)
        return params

    def with_unknown_light(self, policy: str) -> PlannerParams:
        """These settings with both planners' ``unknown_light`` set to ``policy`` (what
        ``--lights`` decides)."""
        return replace(
            self,
            pdm=replace(self.pdm, unknown_light=policy),
            idm=replace(self.idm, unknown_light=policy),
        )

    def as_dict(self) -> dict[str, Any]:
        """Every value a run reads, as JSON has it (tuples as lists): what ``sim.json`` and
        each ``metrics.json`` record. The ``idm`` block leaves out what the IDM planner never
        reads (:data:`IDM_PLANNER_IGNORES`, ``idm.coolness``); read back with
        ``from_mapping`` those are the defaults, as a ``--planner-params`` file cannot set
        them."""
        out = recorded_planner_params(json.loads(json.dumps(asdict(self))))
        return cast(dict[str, Any], out)


def recorded_planner_params(value: object) -> object:
    """A recorded ``planner_params`` (sim.json, fleet.json, a task's settings) as
    :meth:`PlannerParams.as_dict` writes it now: a record made before the ``idm`` block left
    out what the IDM planner never reads holds those keys, with their defaults (a file could
    not set them to anything the runs read); they are dropped, so that such a folder still
    compares equal and reads back. Anything else is returned as it is."""
    if not isinstance(value, dict) or not isinstance(value.get("idm"), dict):
        return value
    idm = {k: v for k, v in value["idm"].items() if k not in IDM_PLANNER_IGNORES}
    if isinstance(idm.get("idm"), dict):
        idm["idm"] = {k: v for k, v in idm["idm"].items() if k != "coolness"}
    return {**value, "idm": idm}


def load_planner_params(path: str | Path) -> PlannerParams:
    """:class:`PlannerParams` from a YAML mapping with any of the blocks ``pdm:``, ``idm:``,
    ``vehicle:``, ``tracker:``, read strictly (:func:`drivestack.config.from_mapping`: an
    unknown block or key, a wrong type or a value the settings refuse is a ``ConfigError``
    naming the file and the dotted key, e.g. ``pdm.idm.max_decel_mps2``; so is an empty file).
    ``unknown_light`` is refused: ``--lights`` sets it (``go`` with ``truth``, ``yellow``
    with ``camera``)."""
    from drivestack.config import from_mapping, load_yaml

    data = load_yaml(path)
    if isinstance(data, dict):
        for name in PLANNERS:
            block = data.get(name)
            if isinstance(block, dict) and "unknown_light" in block:
                raise ConfigError(
                    "unknown_light is set by drivestack sim --lights (truth: go, camera: "
                    "yellow), not by --planner-params: remove it",
                    path=str(path),
                    field=f"{name}.unknown_light",
                )
    return from_mapping(PlannerParams, data, path=str(path))


def parse_planners(text: str) -> list[str]:
    """``"pdm,idm"`` -> ``["pdm", "idm"]``; ``ValueError`` naming the first unknown planner, or
    for an empty list (``""``) or an empty name in it (``"pdm,,idm"``, a trailing comma): a
    command given no planner would otherwise run nothing and exit 0."""
    planners = [p.strip() for p in text.split(",")]
    if not any(planners):
        raise ValueError(f"no planner given; choose from {sorted(PLANNERS)}")
    if not all(planners):
        raise ValueError(f"empty planner name in {text!r}; choose from {sorted(PLANNERS)}")
    bad = [p for p in planners if p not in PLANNERS]
    if bad:
        raise ValueError(f"unknown planner {bad[0]!r}; choose from {sorted(PLANNERS)}")
    return planners


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    planner: str
    nuplan: NuPlanMetrics
    ncap: NcapResult
    passed: bool
    failures: tuple[str, ...]
    planner_step_median_ms: float
    sim_wall_s: float
    sim_duration_s: float
    history: SimHistory
    # criteria a cut-short run could not judge (not failed, not met): see check_pass
    not_evaluated: tuple[str, ...] = ()
    # the ego's front passing a stop line at red (drivestack.eval.driving.traffic_lights),
    # and the simulated agents' red light runs (information only, in metrics.json's red_light)
    red_light: RedLightResult = field(default_factory=lambda: RedLightResult((), 0))
    # the lanes put before an explicit route.lanes that starts a little ahead of the ego
    # (drivestack.sim.build.MAX_ROUTE_LEAD_M); empty when the route ran as given
    route_lead_lanes: tuple[str, ...] = ()
    # a CommonRoad planning problem's goal (ego.from_file): reached or not (None: no goal),
    # and when (s); information only, never a pass criterion
    goal_reached: bool | None = None
    goal_reached_time_s: float | None = None
    # the expert progress the run's making_progress compared with (m, over the steps run)
    # and where it came from (BuiltScenario.expert_progress_source)
    expert_progress_m: float | None = None
    expert_progress_source: str | None = None
    # the ego's front passing a stop sign's line without a full stop just before it
    # (drivestack.eval.driving.stop_signs)
    stop_sign: StopSignResult = field(default_factory=lambda: StopSignResult((), 0))

    def as_dict(self) -> dict[str, object]:
        return {
            "scenario": self.name,
            "planner": self.planner,
            "score": score_percent(self.nuplan),
            "passed": self.passed,
            "failures": list(self.failures),
            # added field: criteria not judged (run cut short by max_steps without a contact)
            "not_evaluated": list(self.not_evaluated),
            "nuplan": self.nuplan.as_dict(),
            "ncap": self.ncap.as_dict(),
            # added fields (older records lack them): the contact that matters, in words
            "collision_summary": collision_label(self.ncap.avoided, self.nuplan.collisions),
            "at_fault_collision": any(c.at_fault for c in self.nuplan.collisions),
            # added fields (older records lack them): red lights run, and their events
            "red_light_violations": self.red_light.count,
            "red_light": self.red_light.as_dict(),
            # added fields (older records lack them): stop signs rolled through, and events
            "stop_sign_violations": self.stop_sign.count,
            "stop_sign": self.stop_sign.as_dict(),
            # added field (older records lack it): lanes put before route.lanes, if any
            "route_lead_lanes": list(self.route_lead_lanes),
            # added fields (older records lack them): a CommonRoad goal reached (None: no
            # goal) and the first time it was (information, not a pass criterion)
            "goal_reached": self.goal_reached,
            "goal_reached_time_s": self.goal_reached_time_s,
            # added fields (older records lack them): what nuplan.progress_m was compared
            # with for making_progress, and its source (scenario, recorded drive, default)
            "expert_progress_m": self.expert_progress_m,
            "expert_progress_source": self.expert_progress_source,
            # added fields (older records lack them): why the planner braked instead of
            # driving on (its debug.stop_reason), per reason, and the reason a run that
            # ended stopped ended so (None: it did not, or stopped at the route's end, a
            # light or behind an agent)
            "stop_reasons": stop_reason_counts(self.history),
            "emergency_planner_calls": int(np.count_nonzero(self.history.planner_emergency)),
            "ended_stopped_reason": ended_stopped_reason(self.history),
            "planner_step_median_ms": self.planner_step_median_ms,
            "sim_wall_s": self.sim_wall_s,
            "sim_duration_s": self.sim_duration_s,
            "realtime_factor": self.sim_duration_s / max(self.sim_wall_s, 1e-9),
            # the simulator alone (observation, tracker, world, recording), planner excluded
            "sim_only_realtime_factor": self.history.dt_s
            / max(float(np.median(self.history.sim_step_s)), 1e-9)
            if len(self.history.sim_step_s)
            else 0.0,
        }


def stop_reason_counts(history: SimHistory) -> dict[str, dict[str, float | int]]:
    """Per stop reason the planner gave (``history.planner_stop_reason``, in order of first
    appearance): ``planner_calls`` (how many of its calls gave it), ``first_tick`` (the tick
    of the first: a call at tick ``k`` plans from tick ``k``'s observation) and
    ``first_time_s`` (that tick's time from the run's start); empty when it never braked."""
    reasons = history.planner_stop_reason
    out: dict[str, dict[str, float | int]] = {}
    names, first, counts = np.unique(reasons, return_index=True, return_counts=True)
    for i in np.argsort(first):
        if not names[i]:
            continue
        tick = int(first[i])
        out[str(names[i])] = {
            "planner_calls": int(counts[i]),
            "first_tick": tick,
            "first_time_s": round(
                float(history.timestamp_ns[tick] - history.timestamp_ns[0]) * 1e-9, 9
            ),
        }
    return out


def default_expert_label(record: dict[str, Any]) -> str | None:
    """Why a run scored 0 when its making_progress compared it with the *default* expert
    progress (:class:`~drivestack.sim.build.BuiltScenario`'s ``expert_progress_source``: a
    run that stopped or waited, rightly or not, in a scenario without ``expert_progress_m``);
    None otherwise, and for older records.

    >>> default_expert_label({"nuplan": {"making_progress": 0.0, "progress_m": 28.0},
    ...     "expert_progress_m": 166.7, "expert_progress_source": "default"})
    'scored 0: 28.0 m of progress is under 20 % of the default expert progress (166.7 m; the scenario sets no expert_progress_m): set it if stopping or waiting is right here'
    """
    nuplan = record.get("nuplan") or {}
    if record.get("expert_progress_source") != "default" or nuplan.get("making_progress") != 0:
        return None
    return (
        f"scored 0: {float(nuplan['progress_m']):.1f} m of progress is under "
        f"{MAKING_PROGRESS_RATIO * 100:g} % of the default expert progress "
        f"({float(record['expert_progress_m']):.1f} m; the scenario sets no "
        "expert_progress_m): set it if stopping or waiting is right here"
    )


def ended_stopped_reason(history: SimHistory) -> str | None:
    """The planner's stop reason when the run ended with the ego at rest (``|speed| <=
    STOPPED_SPEED_MPS``, nuPlan's stopped test) and the last planner call still braking for it
    (``history.planner_stop_reason``); None otherwise: it was moving, or it stopped for what a
    plan stops for (the route's end, a light, an agent ahead), which gives no stop reason."""
    if len(history.planner_stop_reason) == 0:
        return None
    last = str(history.planner_stop_reason[-1])
    if not last or abs(float(history.ego_speed_mps[-1])) > STOPPED_SPEED_MPS:
        return None
    return last


def stopped_label(record: dict[str, object]) -> str | None:
    """A run record's (``ScenarioResult.as_dict``) "ended stopped" in words, for the summary,
    or None when it did not end stopped for a stop reason (older records: None).

    >>> stopped_label({"ended_stopped_reason": "facing against the route",
    ...     "stop_reasons": {"facing against the route": {"planner_calls": 12,
    ...     "first_tick": 3, "first_time_s": 0.3}}})
    'ended stopped: facing against the route (first at 0.3 s, 12 planner calls)'
    """
    reason = record.get("ended_stopped_reason")
    if not isinstance(reason, str) or not reason:
        return None
    counts = record.get("stop_reasons")
    seen = counts.get(reason) if isinstance(counts, dict) else None
    first, calls = (
        (seen.get("first_time_s"), seen.get("planner_calls"))
        if isinstance(seen, dict)
        else (None, None)
    )
    if not (
        isinstance(first, int | float)
        and isinstance(calls, int)
        and not isinstance(first, bool)
        and not isinstance(calls, bool)
    ):  # (no counts, or a damaged record: the reason alone)
        return f"ended stopped: {reason}"
    return f"ended stopped: {reason} (first at {first:.1f} s, {calls} planner calls)"


def score_percent(nuplan: NuPlanMetrics) -> float:
    """The nuPlan score on the 0-100 scale every output shows (and ``min_score`` uses)."""
    return 100.0 * nuplan.score


def collision_label(avoided: bool | None, events: tuple[CollisionEvent, ...]) -> str:
    """A run's collision in words, for the summary table: ``no``, or ``yes (KIND, at fault)`` /
    ``yes (KIND, not at fault)`` for the contact that decides the pass (the first at-fault one,
    else the first), with ``+N more`` when there were several; ``yes`` if none was classified;
    ``not evaluated`` when the run was cut short without a contact (``avoided`` None).

    >>> collision_label(False, (CollisionEvent(12, "a1", "active_rear", False, 3.0, 2.0),))
    'yes (active_rear, not at fault)'
    """
    if avoided and not events:
        return "no"
    if avoided is None and not events:
        return "not evaluated"
    if not events:
        return "yes"
    first = next((e for e in events if e.at_fault), events[0])
    fault = "at fault" if first.at_fault else "not at fault"
    more = f", +{len(events) - 1} more" if len(events) > 1 else ""
    return f"yes ({first.kind}, {fault}{more})"


def check_pass(
    criteria: PassCriteria,
    nuplan: NuPlanMetrics,
    ncap: NcapResult,
    red_light: RedLightResult | None = None,
    stop_sign: StopSignResult | None = None,
) -> tuple[str, ...]:
    """The failed criteria, as readable lines (empty: passed).

    ``no_red_light_violation`` is judged on ``red_light`` (not at all without it; a map
    without lights has none to fail it), in a cut-short run too: a red light run within it
    was run. ``no_stop_sign_violation`` likewise on ``stop_sign`` (a map without stop signs
    never fails it).

    A run cut short before the scenario's end (``max_steps``, ``--max-steps``) without a
    contact has ``ncap.avoided`` and ``ncap.speed_reduction_kph`` None: its ``no_collision``
    and ``min_speed_reduction_kph`` criteria are neither met nor failed but *not evaluated*
    (:func:`not_evaluated_criteria` lists them; the result records them under
    ``not_evaluated``), so ``passed`` then speaks only for the criteria that were judged. A
    contact within the short run is judged as usual. ``min_progress_m`` is not evaluated in
    any cut-short run (``ncap.truncated``): the distance is the whole scenario's.

    ``stays_on_drivable_area`` fails when the ego's footprint got farther outside the
    drivable area than nuPlan's ``drivable_area_compliance`` tolerance
    (``DRIVABLE_TOLERANCE_M``, 0.3 m; ``nuplan.max_outside_drivable_m``), in a cut-short run
    too: what was left within it was left.
    """
    fails = []
    if criteria.no_collision and ncap.avoided is False:
        fails.append(f"collision at {ncap.impact_speed_kph:.1f} km/h")
    at_fault = [c for c in nuplan.collisions if c.at_fault]
    if criteria.no_at_fault_collision and at_fault:
        fails.append(f"at-fault collision ({at_fault[0].kind}) with {at_fault[0].agent_id}")
    score = score_percent(nuplan)
    if criteria.min_score is not None and score < criteria.min_score:
        fails.append(f"score {score:.1f} < {criteria.min_score:g}")
    if (
        criteria.max_impact_speed_kph is not None
        and ncap.impact_speed_kph is not None
        and ncap.impact_speed_kph > criteria.max_impact_speed_kph
    ):
        fails.append(
            f"impact speed {ncap.impact_speed_kph:.1f} > {criteria.max_impact_speed_kph} km/h"
        )
    if (
        criteria.min_speed_reduction_kph is not None
        and ncap.speed_reduction_kph is not None
        and ncap.speed_reduction_kph < criteria.min_speed_reduction_kph
    ):
        fails.append(
            f"speed reduction {ncap.speed_reduction_kph:.1f} < {criteria.min_speed_reduction_kph} km/h"
        )
    if (
        criteria.min_progress_m is not None
        and not ncap.truncated
        and nuplan.progress_m < criteria.min_progress_m
    ):
        fails.append(f"progress {nuplan.progress_m:.1f} < {criteria.min_progress_m} m")
    if criteria.no_red_light_violation and red_light is not None and red_light.violations:
        fails.append(red_light_label(red_light))
    if criteria.no_stop_sign_violation and stop_sign is not None and stop_sign.violations:
        fails.append(stop_sign_label(stop_sign))
    if criteria.stays_on_drivable_area and nuplan.max_outside_drivable_m > DRIVABLE_TOLERANCE_M:
        fails.append(
            f"left the drivable area by {nuplan.max_outside_drivable_m:.2f} m "
            f"(> {DRIVABLE_TOLERANCE_M:g} m)"
        )
    return tuple(fails)


def red_light_label(red_light: RedLightResult) -> str:
    """The first red light run, in words, with ``+N more`` when there were several.

    >>> from drivestack.eval.driving.traffic_lights import RedLightViolation
    >>> red_light_label(RedLightResult((RedLightViolation(52, 5.2, "L1", "road_0", 8.04),), 1))
    'ran a red light: L1 on lane road_0 at 5.2 s, 8.0 m/s'
    """
    first = red_light.violations[0]
    more = f" (+{red_light.count - 1} more)" if red_light.count > 1 else ""
    return (
        f"ran a red light: {first.light_id} on lane {first.lane_id} at {first.time_s:.1f} s, "
        f"{first.speed_mps:.1f} m/s{more}"
    )


def stop_sign_label(stop_sign: StopSignResult) -> str:
    """The first stop sign rolled through, in words, with ``+N more`` when there were several.

    >>> from drivestack.eval.driving.stop_signs import StopSignViolation
    >>> stop_sign_label(StopSignResult((StopSignViolation(52, 5.2, "S1", "a_in", 2.0, 2.1),), 1))
    'ran a stop sign: S1 on lane a_in at 5.2 s, 2.0 m/s (slowest 2.10 m/s within 3 m before it)'
    """
    first = stop_sign.violations[0]
    more = f" (+{stop_sign.count - 1} more)" if stop_sign.count > 1 else ""
    slowest = (
        f"no tick within {STOP_WINDOW_M:g} m before it"
        if first.slowest_mps is None
        else f"slowest {first.slowest_mps:.2f} m/s within {STOP_WINDOW_M:g} m before it"
    )
    return (
        f"ran a stop sign: {first.sign_id} on lane {first.lane_id} at {first.time_s:.1f} s, "
        f"{first.speed_mps:.1f} m/s ({slowest}){more}"
    )


def not_evaluated_criteria(criteria: PassCriteria, ncap: NcapResult) -> tuple[str, ...]:
    """The criteria of ``criteria`` that a cut-short run could not judge, as readable lines
    (``"no_collision not evaluated: run cut at 1 of 40 steps"``); empty for a full run."""
    why = ncap.not_evaluated or "not evaluated: run cut short"
    out = []
    if ncap.avoided is None:  # cut short without a contact
        if criteria.no_collision:
            out.append(f"no_collision {why}")
        if criteria.min_speed_reduction_kph is not None:
            out.append(f"min_speed_reduction_kph {why}")
    if ncap.truncated and criteria.min_progress_m is not None:
        out.append(f"min_progress_m {why}")
    return tuple(out)


def run_scenario(
    cfg: ScenarioConfig | BuiltScenario,
    planner: str | Planner = "pdm",
    data_root: Path | None = None,
    max_steps: int | None = None,
    *,
    params: PlannerParams | None = None,
) -> ScenarioResult:
    """Build (unless built), drive with ``planner`` and score.

    ``planner`` is the name of a built-in planner (``pdm`` or ``idm``, made for the scenario's
    map, route and vehicle), or a planner object of your own: any object with the planner
    stage interface :class:`~drivestack.sim.runner.Planner` (a ``name`` string, ``reset()``
    and ``step(observation) -> Trajectory``). It is reset, then stepped every tick; to build
    one for the scenario's map and route, build the scenario first::

        built = build_scenario(cfg)
        result = run_scenario(built, MyPlanner(built.road_map, built.route_lanes))

    ``result.planner`` is the planner's ``name``. An unknown name is a ``ValueError``; an
    object without the interface a ``TypeError`` naming what it lacks.

    ``max_steps`` below the scenario's steps cuts the run short: without a contact, whether it
    would have been avoided is unknown, so ``ncap.avoided`` / ``speed_reduction_kph`` are None
    and the ``no_collision`` / ``min_speed_reduction_kph`` criteria are "not evaluated" (neither
    met nor failed; ``result.not_evaluated``, :func:`check_pass`).

    ``params`` (:class:`PlannerParams`, ``--planner-params``) sets a built-in planner's
    settings, the tracker's and the ego vehicle's: the vehicle becomes the world's (a plain
    :class:`~drivestack.sim.world.World` is changed in place; a wrapped one, e.g. with LiDAR
    perception, must have it already: ``ValueError`` otherwise). Without it the defaults run.
    """
    import time

    built = cfg if isinstance(cfg, BuiltScenario) else build_scenario(cfg, data_root)
    tracker_params = None
    if params is not None:
        _use_vehicle(built, params.vehicle)
        tracker_params = params.tracker
    plan = _planner_for(planner, built, params)
    built.world.reset()
    n_steps = built.n_steps if max_steps is None else min(built.n_steps, max_steps)
    start = time.perf_counter()
    history = run_closed_loop(
        built.world, plan, TrajectoryTracker(tracker_params, built.world.vehicle), n_steps
    )
    wall = time.perf_counter() - start
    expert = built.expert_progress_m * n_steps / max(built.n_steps, 1)
    nuplan = nuplan_score(history, built.road_map, built.reference, expert)
    ncap = ncap_result(history, nuplan.min_ttc_s, scenario_steps=built.n_steps)
    red_light = red_light_violations(history, built.road_map)
    stop_sign = stop_sign_violations(history, built.road_map)
    fails = check_pass(built.config.pass_criteria, nuplan, ncap, red_light, stop_sign)
    goal_time_s = None
    if built.goal_states:
        goal_time_s = goal_reached_time_s(
            built.goal_states,
            (history.timestamp_ns - history.timestamp_ns[0]) / 1e9,
            history.ego_x_m,
            history.ego_y_m,
            history.ego_yaw_rad,
            history.ego_speed_mps,
        )
    return ScenarioResult(
        built.config.name,
        plan.name,
        nuplan,
        ncap,
        not fails,
        fails,
        float(np.median(history.planner_step_s) * 1e3) if len(history.planner_step_s) else 0.0,
        wall,
        n_steps * built.world.dt_s,
        history,
        not_evaluated_criteria(built.config.pass_criteria, ncap),
        red_light,
        built.route_lead_lanes,
        None if not built.goal_states else goal_time_s is not None,
        goal_time_s,
        expert,
        built.expert_progress_source,
        stop_sign,
    )


def _use_vehicle(built: BuiltScenario, vehicle: VehicleParams) -> None:
    """Make ``vehicle`` the ego's in ``built``'s world (see :func:`run_scenario`)."""
    if isinstance(built.world, World):
        built.world.vehicle = vehicle
    elif built.world.vehicle != vehicle:
        raise ValueError(
            f"the scenario's world is wrapped ({type(built.world).__name__}) with another "
            "vehicle than params.vehicle: set built.world.vehicle before wrapping it"
        )


def _planner_for(
    planner: str | Planner, built: BuiltScenario, params: PlannerParams | None = None
) -> Planner:
    """The planner of a run: a built-in one made for ``built`` by name (with its
    ``params``), or ``planner`` itself."""
    if isinstance(planner, str):
        if planner not in PLANNERS:
            raise ValueError(f"unknown planner {planner!r}; expected one of {sorted(PLANNERS)}")
        settings = None if params is None else params.planner(planner)
        return PLANNERS[planner](built.road_map, built.route_lanes, built.world.vehicle, settings)
    if not isinstance(planner, Planner):
        missing = [a for a in ("name", "reset", "step") if not hasattr(planner, a)]
        raise TypeError(
            f"planner must be a name ({', '.join(sorted(PLANNERS))}) or a planner stage "
            f"(name, reset(), step(observation) -> Trajectory); {type(planner).__name__} "
            f"lacks {', '.join(missing)}"
        )
    name = getattr(planner, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(
            f"planner {type(planner).__name__}.name must be a non-empty str (the name results "
            f"and reports give the planner), got {type(name).__name__} {name!r}"
        )
    return planner
