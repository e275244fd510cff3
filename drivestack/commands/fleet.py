"""Scenario fleets: sweep a suite into many seeded variants and run them on a process pool or Ray.

Examples:
  drivestack fleet --suite configs/suites/regression.yaml --planner pdm \\
      --sweep ego.speed_kph=20:60 --variants 30 --workers 2 --out runs/fleet
  drivestack fleet configs/scenarios/ccrb.yaml --sweep agents.0.station_m=110,120,130 \\
      --sweep ego.speed_kph=30:70 --variants 5 --executor ray --ray-address auto --out runs/f2

--sweep KEY=LO:HI draws KEY uniformly per variant, --sweep KEY=V1,V2 crosses KEY's values
(the grid) with --variants draws; keys a scenario lacks are not swept for it. Draws apply only
when a range KEY=LO:HI is swept: with grid values alone every combination runs once, whatever
--variants says (a note says so). Each variant has
a deterministic seed and writes OUT/<planner>/<folder>/metrics.json and history.npz, where
<folder> is the scenario's name made folder-safe (as drivestack sim: ccrs[10kph] -> ccrs_10kph)
with _NNNN, the variant index, added when a --sweep applies to the scenario (ccrs_10kph_0003);
without --sweep it is the plain name (pdm/ccrs_10kph). The folder name is the variant's
identity (resume, seed), not its values: a --sweep ego.speed_kph overrides the speed of every
case, so ccrs_10kph_0003 may have run at 29 km/h; the values it ran with are its params in
OUT/fleet.jsonl and metrics.json (fleet.params) and in the report. Every finished variant is
appended to OUT/fleet.jsonl. A variant ends one of three ways, in drivestack sim's words:
passed (it ran and met the scenario's pass_criteria), failed (it ran and did not: a collision,
a missed criterion) or crashed (it raised while running: status "crashed" in fleet.jsonl with
its error and traceback; the fleet goes on). A variant of a scenario its --suite lists as a
known failure for its planner (known_failures, by the scenario it was swept from) that fails
is a known failure instead of failed, one that passes an unexpected pass (among passed), or,
cut short by --max-steps before some criteria were judged, a known failure not evaluated
(among passed): its index record and metrics.json carry "known_failure", the reason.
OUT/fleet_summary.json counts passed, failed, known_failures, crashed, unexpected_passes and
known_failures_not_evaluated per planner. Rerunning the same command resumes: finished
variants are skipped (--retry-crashed, also spelt --retry-failed, reruns the crashed ones;
failed ones ran and are kept); a rerun after a scenario file was edited, or after the suite's
known_failures changed for the fleet's planners, is refused (OUT/fleet.json records each
scenario config's SHA-256 and the known_failures: the finished variants keep the marks they
were written with). A --sweep value the scenario's own rules refuse (a grid value,
either end of a range) is an error before anything runs; one only its map refuses (a station
off its lane, an agent on the ego) is found when that variant runs and makes it crash
(building every variant's map up front would cost 10-400 ms a variant).

--lights camera (with --light-camera ideal|day|dusk|night|YAML) runs every variant as
drivestack sim --lights camera does: the planners see what a simulated camera reads of the
lights on their route (unknown_light policy "yellow"), and each metrics.json records
light_perception (held reads and inferences), light_perception_raw (the classifier's reads
before the hold), light_perception_median_ms and light_camera. Each variant's camera noise
is its own and reproducible: its effects seed is a SHA-256 of the preset's seed and the
variant's seed (drivestack.exec.lights.effects_seed; recorded as light_camera.seed), so a
resumed or rerun variant draws the same pixels, and the planners of one variant the same.
OUT/fleet.json records lights and light_camera (a resume with other ones is refused; camera
effects are compared by their parameters), and OUT/fleet_summary.json pools
light_perception and light_perception_raw per planner.

--planner-params YAML runs every variant with those settings of the planners (pdm:, idm:),
the ego vehicle (vehicle:) and the trajectory tracker (tracker:), as drivestack sim
--planner-params does (read strictly once, before anything runs: a bad key is one error line
naming the file and dotted key, exit status 2; each worker gets the values, not the file).
Each metrics.json records them (planner_params: the file, its planner's block, vehicle and
tracker), OUT/fleet.json every value (planner_params, planner_params_file); a resume with other
settings, or without the file after a fleet with it, is refused (settings are compared by
value: the same values from another file resume).

One OUT is one fleet: OUT/fleet_summary.json, the last line's counts and the exit status cover
the latest record of every variant in OUT/fleet.jsonl, also those another --filter or a larger
--variants ran (OUT/fleet.json records every --filter as filters, the largest draw count and
the folder's variants); the order of --planner does not matter to a resume, and a resume
without --planner keeps the planners OUT/fleet.json records (one line says so: a fleet begun
before the default became pdm,idm resumes with pdm). A variant whose
metrics.json or history.npz is missing or damaged (as drivestack report checks them) is named
and run again. A fleet holds OUT/.fleet.lock while it runs: a second fleet into OUT at once
exits 2 naming it. An OUT holding a drivestack sim run (sim.json) or run folders without
fleet.json is refused (exit 2); drivestack sim --overwrite with fleet options is refused too. A
--ray-address HOST:PORT that does not answer within 5 s is one error line (exit 2).

Exit status: 1 while any variant in OUT crashed, else 0, even when variants failed their pass
criteria (a sweep that explores where a planner fails is not an error; unlike a plain
drivestack sim run, which exits 1 for a failed run too), and so whatever its known failures
did (a swept variant of a listed scenario may well pass); 2 for a usage or config error. Ctrl-C
stops the fleet (exit status 130); rerunning the same command resumes it. Then: drivestack
report OUT --out report.html
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivestack.commands._paths import add_quiet_option, positive_int
from drivestack.core.errors import ConfigError, DataError

if TYPE_CHECKING:
    from drivestack.sim.evaluate import PlannerParams
    from drivestack.sim.scenario import KnownFailures, ScenarioConfig


def add_fleet_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The fleet flags (also usable by ``drivestack sim``, where any of them makes the run a
    fleet: :func:`is_fleet_request`)."""
    parser.add_argument(
        "--sweep",
        action="append",
        default=[],
        metavar="KEY=LO:HI|KEY=V1,V2",
        help="swept scenario parameter (repeatable): a uniform range or grid values",
    )
    parser.add_argument(
        "--variants",
        type=positive_int,
        default=1,
        help="random draws per grid combination, at least 1 (default 1); draws apply only "
        "when a range KEY=LO:HI is swept (grid values alone run each combination once); a "
        "fleet of more than 100,000 runs (scenario variants x planners) is refused before "
        "anything runs",
    )
    parser.add_argument("--seed", type=int, default=0, help="base seed of the sweep (default 0)")
    parser.add_argument(
        "--executor", choices=["local", "ray"], help="local process pool (default) or Ray"
    )
    parser.add_argument(
        "--workers", type=positive_int, help="parallel workers, at least 1 (default 1)"
    )
    parser.add_argument(
        "--ray-address",
        default=None,
        help="Ray cluster to join ('auto'); default: start a local one",
    )
    parser.add_argument(
        "--retry-crashed",
        "--retry-failed",
        dest="retry_failed",
        action="store_true",
        help="on resume, rerun the crashed variants too (those that raised; --retry-failed is "
        "the older name)",
    )


#: The planners of ``drivestack sim`` and ``drivestack fleet`` without ``--planner``.
DEFAULT_PLANNERS = "pdm,idm"


def add_planner_argument(parser: argparse.ArgumentParser) -> None:
    """``--planner`` (sim and fleet): the planners run, :data:`DEFAULT_PLANNERS` when not
    given (None: :func:`planners_of`; a fleet resumed without it keeps its fleet.json's
    planners, :func:`fleet_planners`)."""
    parser.add_argument(
        "--planner",
        default=None,
        help=f"comma-separated planners: pdm, idm (default {DEFAULT_PLANNERS}: both; a fleet "
        "folder resumed without --planner keeps the planners its fleet.json records)",
    )


#: The positional SCENARIO's help (sim and fleet).
SCENARIO_HELP = (
    "one scenario file: a scenario YAML or an OpenSCENARIO .xosc on an OpenDRIVE map (all of "
    "its sweep variants run); or --suite"
)


def add_data_root_argument(parser: argparse.ArgumentParser) -> None:
    """``--data-root`` (sim and fleet): the shared data folder."""
    parser.add_argument(
        "--data-root",
        help="shared data folder for CommonRoad / Lanelet2 / OpenDRIVE maps and Argoverse 2 "
        "logs (default $DRIVESTACK_SHARED_DATA or ../shared/data)",
    )


def add_max_steps_argument(parser: argparse.ArgumentParser) -> None:
    """``--max-steps`` (sim and fleet): a positive step cap."""
    parser.add_argument(
        "--max-steps",
        type=positive_int,
        help="cut every run to at most this many simulation steps, at least 1 (steps of the "
        "scenario's dt_s, 0.1 s unless it sets another); a run cut before its scenario ends "
        "leaves min_progress_m unjudged (the distance is the whole scenario's) and, without a "
        "collision, has ncap.avoided and speed_reduction_kph null and leaves no_collision / "
        "min_speed_reduction_kph unjudged: metrics.json lists these under not_evaluated "
        "(neither met nor failed); a red light run before the cut still fails the run "
        "(default: no cut, the whole scenario)",
    )


def add_lights_arguments(parser: argparse.ArgumentParser) -> None:
    """``--lights`` and ``--light-camera`` (sim and fleet): what the planners know of the
    traffic lights."""
    parser.add_argument(
        "--lights",
        choices=["truth", "camera"],
        default="truth",
        help="what the planner knows of the traffic lights: their true states, or what a "
        "simulated camera shows of the lights on its route (map-prior ROIs and an HSV lamp "
        "classifier, configs/perception/traffic_lights.yaml; unknown for a light it cannot "
        "read); the recorded history and the red-light metrics keep the true states "
        "(default truth)",
    )
    parser.add_argument(
        "--light-camera",
        default=None,
        metavar="ideal|day|dusk|night|YAML",
        help="with --lights camera: how the light camera degrades its images "
        "(drivestack.sim.sensors.camera_effects: exposure and night, lens blur and glare, "
        "motion blur, Poisson-Gaussian sensor noise, seeded), a preset "
        "(configs/perception/light_camera_<name>.yaml) or a YAML file of your own; default "
        "ideal, the rendered pixels as they are; each metrics.json records it (light_camera; "
        "in a fleet, each variant's camera noise is seeded from the preset's seed and the "
        "variant's seed)",
    )


def add_planner_params_argument(parser: argparse.ArgumentParser) -> None:
    """``--planner-params`` (sim and fleet): the planners', vehicle's and tracker's settings."""
    parser.add_argument(
        "--planner-params",
        type=Path,
        default=None,
        metavar="YAML",
        help="settings of the planners, the ego vehicle and the trajectory tracker: a YAML "
        "mapping with any of the blocks pdm: and idm: (PDMParams, one per planner), vehicle: "
        "(VehicleParams), tracker: (TrackerParams), read strictly (a bad key or value is one "
        "error line naming the file and the dotted key, exit status 2); recorded in sim.json "
        "(a fleet's fleet.json: a resume with other settings is refused) and each "
        "metrics.json; unknown_light is --lights's (default: the built-in settings)",
    )


def planner_params_of(path: Path | None, lights: str) -> PlannerParams | None:
    """``--planner-params``'s settings with ``--lights``'s ``unknown_light`` policy (None
    without the option); ``ConfigError`` naming the file and dotted key for a bad file."""
    from drivestack.exec.task import unknown_light_policy
    from drivestack.sim.evaluate import load_planner_params

    if path is None:
        return None
    return load_planner_params(path).with_unknown_light(unknown_light_policy(lights))


def check_sources(args: argparse.Namespace) -> None:
    """``DataError`` unless exactly one of SCENARIO and ``--suite`` is given."""
    if bool(args.scenario) == bool(args.suite):
        raise DataError("give exactly one of SCENARIO and --suite")


def planners_of(text: str | None) -> list[str]:
    """The ``--planner`` list (:data:`DEFAULT_PLANNERS` for None: not given); ``DataError``
    naming an unknown planner."""
    from drivestack.sim.evaluate import parse_planners

    try:
        planners = parse_planners(DEFAULT_PLANNERS if text is None else text)
    except ValueError as exc:
        raise DataError(str(exc), field="--planner") from None
    twice = sorted({p for p in planners if planners.count(p) > 1})
    if twice:  # each run's folder is <planner>/...: a repeat would run (and write) it twice
        raise DataError(f"planner(s) {', '.join(twice)} given more than once", field="--planner")
    return planners


def fleet_planners(out: str | Path | None, text: str | None) -> tuple[list[str], str | None]:
    """A fleet's planners: ``--planner``'s (``text``) when given; else, when ``out`` holds a
    fleet (its fleet.json lists planners), those (a fleet started before the default became
    :data:`DEFAULT_PLANNERS` resumes as it began); else the default. With them the line that
    says a resume keeps planners other than the default (None otherwise), for the command to
    print once the folder's fleet.json let the run resume."""
    import json

    if text is not None or out is None:
        return planners_of(text), None
    try:
        recorded = json.loads((Path(out) / "fleet.json").read_text()).get("planners")
        planners = planners_of(",".join(recorded))
    except (OSError, ValueError, AttributeError, TypeError, DataError):
        # none, or one that does not read: a new fleet's default (a bad fleet.json is named
        # by the resume check)
        return planners_of(None), None
    if not planners:
        return planners_of(None), None
    if set(planners) == set(planners_of(None)):  # the default's variants (in any order)
        return planners, None
    return planners, (
        f"--planner not given: resumed with the planners its fleet.json records "
        f"({','.join(planners)}; a new fleet's default is {DEFAULT_PLANNERS})"
    )


def data_root_of(value: str | None) -> Path | None:
    """``--data-root`` as a folder when given (``DataError`` naming it when it is not one),
    else the shared data folder (None when there is none)."""
    from drivestack.commands._paths import default_shared_data

    if value is None:
        return default_shared_data()
    if not Path(value).is_dir():
        raise DataError("no such folder", path=value, field="--data-root")
    # absolute: a Ray worker on a running cluster resolves paths against its own folder
    return Path(value).resolve()


def _counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1: ``1 run``, ``6 variants``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def sweep_params(texts: list[str]) -> tuple[Any, ...]:
    """The parsed ``--sweep`` options; ``DataError`` naming a key swept twice (the later
    option would silently override or multiply the earlier one)."""
    from drivestack.exec.sweep import parse_sweep_param

    params = tuple(parse_sweep_param(t) for t in texts)
    keys = [p.key for p in params]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise DataError(f"key(s) {', '.join(twice)} swept more than once", field="--sweep")
    return params


def filtered(scenarios: list[ScenarioConfig], text: str) -> list[ScenarioConfig]:
    """The scenarios whose name contains ``text`` (``--filter``); ``DataError`` naming the
    filter and listing the names when it keeps none."""
    kept = [s for s in scenarios if text in s.name]
    if not kept:
        names = ", ".join(s.name for s in scenarios[:40])
        more = f" and {len(scenarios) - 40} more" if len(scenarios) > 40 else ""
        raise DataError(
            f"--filter {text!r} matches none of the {len(scenarios)} scenarios: {names}{more}"
        )
    return kept


def load_sources(args: argparse.Namespace) -> tuple[list[ScenarioConfig], KnownFailures]:
    """The scenarios of SCENARIO or ``--suite``, kept by ``--filter``, and the runs the suite
    lists as known failures (none for a SCENARIO file); ``drivestack sim`` and fleets alike
    (ConfigError naming the file when one is malformed). An OpenSCENARIO file's relative road
    network is read from ``--data-root`` when it is not beside the file."""
    from drivestack.sim.openscenario import road_network_root
    from drivestack.sim.scenario import load_scenarios, read_suite

    # an OpenSCENARIO file's relative road network: beside it, else under --data-root
    with road_network_root(data_root_of(args.data_root)):
        if args.suite:
            suite = read_suite(args.suite)
            scenarios, known = suite.scenarios, suite.known_failures
        else:
            scenarios, known = load_scenarios(args.scenario), {}
    return filtered(scenarios, args.filter), known


def check_fleet_out(out: Path) -> None:
    """``DataError`` naming ``out`` when it holds results a fleet did not make: a
    ``drivestack sim`` run (its ``sim.json``), or result folders without the fleet's
    ``fleet.json`` (a fleet would mix its variants with them and its summary, resume and
    report would take them for its own)."""
    from drivestack.commands.sim import MANIFEST_NAME as SIM_MANIFEST_NAME
    from drivestack.commands.sim import _existing_runs
    from drivestack.exec.fleet import MANIFEST_NAME

    if (out / MANIFEST_NAME).exists():
        return
    if (out / SIM_MANIFEST_NAME).exists():
        why = f"a drivestack sim run ({SIM_MANIFEST_NAME})"
    elif _existing_runs(out):
        why = f"run folders without {MANIFEST_NAME} (made by another command)"
    else:
        return
    raise DataError(
        f"--out holds {why}, not a fleet: give another --out, or delete the folder first",
        path=str(out),
    )


def is_fleet_request(args: argparse.Namespace) -> bool:
    """Whether ``drivestack sim`` was given any fleet flag (then it runs as a fleet)."""
    return bool(
        args.sweep
        or args.executor
        or args.workers
        or args.ray_address
        or args.variants != 1
        or args.seed != 0
        or args.retry_failed
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    parser.add_argument("--suite", help="a suite YAML listing scenario files")
    parser.add_argument(
        "--out",
        required=True,
        help="fleet folder (created; resumed if present: variants whose index line, "
        "metrics.json or history.npz is missing or damaged are named and run again)",
    )
    add_planner_argument(parser)
    add_data_root_argument(parser)
    add_max_steps_argument(parser)
    parser.add_argument(
        "--filter", default="", help="only scenarios whose name contains this (default: all)"
    )
    add_lights_arguments(parser)
    add_planner_params_argument(parser)
    add_fleet_arguments(parser)
    add_quiet_option(parser)


def run(args: argparse.Namespace) -> int:
    from drivestack.core.provenance import run_provenance
    from drivestack.exec.executors import make_executor
    from drivestack.exec.fleet import run_fleet, scenario_digests
    from drivestack.exec.lights import FleetLights
    from drivestack.exec.sweep import (
        SweepSpec,
        expand_variants,
        keys_the_scenario_files_sweep,
        unswept_keys,
    )
    from drivestack.exec.task import KNOWN_NOT_EVALUATED, count_outcomes, is_crashed
    from drivestack.sim.perceived_lights import light_camera_effects

    args.resume_hint = "rerun the same command to resume"  # the CLI's line on Ctrl-C
    check_sources(args)
    # `drivestack sim` options a fleet does not run yet: refuse rather than ignore them
    if getattr(args, "perception", "ground_truth") != "ground_truth":
        raise DataError("a fleet runs with ground-truth perception only (no --perception lidar)")
    if getattr(args, "export_dataset", None) is not None:
        raise DataError("a fleet does not export datasets (no --export-dataset)")
    planners, resumed = fleet_planners(args.out, args.planner)
    data_root = data_root_of(args.data_root)
    # --planner-params: read here, once (a bad file exits 2 before anything runs); the
    # workers get its values as plain data
    params_file = getattr(args, "planner_params", None)
    params = planner_params_of(params_file, args.lights)
    # --light-camera: refused without --lights camera; its file is read here, once (a Ray
    # worker need not have it), and a bad one exits 2 before anything runs
    lights = FleetLights(
        args.lights, args.light_camera, light_camera_effects(args.light_camera, args.lights)
    )
    executor_kind = args.executor or ("ray" if args.ray_address else "local")
    if args.ray_address and executor_kind != "ray":  # refused rather than ignored
        raise ConfigError(
            f"--ray-address needs the Ray executor, not --executor {executor_kind}",
            field="--ray-address",
        )
    workers = 1 if args.workers is None else args.workers
    # a ConfigError / DataError below is the CLI's one-line error, exit 2
    source = args.suite or args.scenario
    scenarios, known_failures = load_sources(args)
    spec = SweepSpec(sweep_params(args.sweep), count=args.variants, seed=args.seed)
    variants = expand_variants(scenarios, planners, spec)
    if spec.count > 1 and not any(p.is_random for p in spec.params):
        print(
            f"note: --variants {spec.count} has no effect: random draws apply only when a range "
            "KEY=LO:HI is swept; without one every grid combination runs once"
        )
    unswept = unswept_keys(scenarios, spec)
    unknown = unknown_sweep_keys(scenarios, unswept)
    if unknown:
        print(f"error: {_unknown_keys_message(unknown, len(scenarios))}", file=sys.stderr)
        return 2
    for key, names in unswept.items():
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        print(f"note: {key} is not a field of {len(names)} scenarios ({shown}): not swept there")
    for key, files in keys_the_scenario_files_sweep(scenarios, spec).items():
        shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        print(
            f"note: --sweep {key} overrides what the scenario file's own sweep sets "
            f"({shown}): its variants keep the names that sweep gave them (e.g. a case named "
            "after its speed) but run at the --sweep values, while the values the file set "
            "beside it (a speed limit, a target's station) stay as they were; the values a "
            "variant ran with are its params (fleet.jsonl, metrics.json fleet.params)"
        )
    manifest = {
        "kind": "fleet",
        "suite": str(Path(source).resolve()),
        "filter": args.filter,
        "planners": planners,
        "perception": "ground_truth",
        "sweep": spec.as_dict(),
        "unswept": unswept,
        "scenarios": scenario_digests(scenarios),  # a resume refuses edited scenarios
        **run_provenance(),
    }
    check_fleet_out(Path(args.out))  # DataError (exit 2): a drivestack sim run's folder
    try:
        executor = make_executor(executor_kind, workers, args.ray_address)
    except (RuntimeError, ConnectionError, ValueError) as exc:  # no ray, no cluster there
        print(f"error: {executor_kind} executor: {exc}", file=sys.stderr)
        return 2
    try:
        result = run_fleet(
            variants,
            # absolute: a Ray worker on a running cluster resolves a relative --out against
            # its own working folder, so results landed outside --out
            Path(args.out).resolve(),
            executor,
            manifest=manifest,
            data_root=data_root,
            max_steps=args.max_steps,
            retry_failed=args.retry_failed,
            progress=not args.quiet,
            known_failures=known_failures,
            lights=lights,
            planner_params=None if params is None else params.as_dict(),
            planner_params_file=None if params_file is None else str(Path(params_file).resolve()),
        )
    except ConfigError as exc:  # another fleet's folder
        if exc.field != "planners" or args.planner is None:
            raise
        raise ConfigError(  # --planner given: its planners need not be given to resume
            f"{exc.reason} (or leave --planner out to resume with its planners)",
            path=exc.path,
            field=exc.field,
        ) from None
    finally:
        executor.close()
    if resumed is not None:  # (once fleet.json let the run resume)
        print(resumed)
    counts = count_outcomes(result.records)
    crashed = counts["crashed"]
    listed = (  # counted only when there are some
        ("known_failures", "known failures"),
        ("unexpected_passes", "listed as known failures passed"),
        (KNOWN_NOT_EVALUATED, "listed as known failures not evaluated (cut short)"),
    )
    n_planners = len(planners)  # every scenario variant runs with each (expand_variants)
    print(
        f"fleet: {_counted(result.total, 'run')} ({_counted(result.total // n_planners, 'variant')}"
        f" x {_counted(n_planners, 'planner')}), ran {result.ran} now "
        f"({result.crashed} crashed), "
        f"skipped {result.skipped} finished before; the folder's {len(result.records)}: "
        f"{counts['passed']} passed, "
        f"{counts['failed']} failed, "
        + "".join(f"{counts[key]} {what}, " for key, what in listed if counts[key])
        + f"{crashed} crashed; {result.wall_s:.1f} s with "
        f"{executor_kind} x{workers}"
    )
    print(f"index: {Path(args.out) / 'fleet.jsonl'}")
    if lights.lights == "camera":
        from drivestack.exec.lights import pooled_light_perception
        from drivestack.sim.perception_metrics import light_perception_line

        for planner in planners:
            mine = [r for r in result.records if r["planner"] == planner]
            pooled = pooled_light_perception(mine).get("light_perception")
            if pooled is not None:
                print(f"{planner}: {light_perception_line(pooled)}")
    if counts["failed"] and not crashed:  # said, since drivestack sim --sweep gets here too
        print(
            f"note: {counts['failed']} failed their pass criteria: a fleet exits 0 for them "
            "(exit status 1 only while a variant crashed); drivestack report OUT names them"
        )
    if crashed:
        refused = sum(bool(r.get("config_error")) and is_crashed(r) for r in result.records)
        refused_text = (
            f"; {refused} of them refused their swept values when built (a ConfigError naming "
            "the key: a rerun cannot help, change --sweep)"
            if refused
            else ""
        )
        print(
            f"error: {crashed} of {len(result.records)} variants crashed (their errors are "
            f"in the index; --retry-crashed reruns them{refused_text}); exit status 1 while "
            "any crashed",
            file=sys.stderr,
        )
        return 1
    return 0


def unknown_sweep_keys(
    scenarios: list[ScenarioConfig], unswept: dict[str, list[str]]
) -> dict[str, list[str]]:
    """Swept key that is a field of none of ``scenarios`` -> its nearest known keys (<= 3),
    from the ``unswept`` keys (:func:`~drivestack.exec.sweep.unswept_keys`: key -> the
    scenarios that lack it). A key some scenarios have is not listed (those without it run
    unswept, with a note)."""
    from drivestack.sim.scenario import field_keys

    everywhere = [key for key, names in unswept.items() if len(names) == len(scenarios)]
    if not everywhere:
        return {}
    known = sorted({key for cfg in scenarios for key in field_keys(cfg)})
    return {key: difflib.get_close_matches(key, known, n=3) for key in everywhere}


def _unknown_keys_message(unknown: dict[str, list[str]], num_scenarios: int) -> str:
    """The error line for the ``--sweep`` keys no scenario has, with their nearest keys."""
    parts = [
        f"{key!r}" + (f" (nearest: {', '.join(near)})" if near else "")
        for key, near in unknown.items()
    ]
    keys, are = ("keys", "are") if len(parts) > 1 else ("key", "is")
    return (
        f"--sweep {keys} {'; '.join(parts)} {are} not a field of any of the {num_scenarios} "
        "scenarios: nothing run"
    )
