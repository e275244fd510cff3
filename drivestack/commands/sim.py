"""Closed-loop simulation: drive scenarios with a planner and score them (nuPlan, Euro NCAP).

Examples:
  drivestack sim configs/scenarios/ccrs.yaml --out runs/ccrs
  drivestack sim configs/scenarios/openscenario_e6_cut_in.xosc --out runs/cut_in
      (OpenSCENARIO: the subset that drivestack.sim.openscenario reads, on an OpenDRIVE
      road network)
  drivestack sim --suite configs/suites/regression.yaml --out runs/regression --planner pdm,idm
  drivestack sim --suite configs/suites/regression.yaml --sweep ego.speed_kph=20:70 \\
      --variants 30 --executor local --workers 2 --out runs/fleet   (a fleet: see drivestack fleet)

Per run, DIR/<planner>/<folder>/metrics.json (with the scenario config it ran) and
history.npz, where <folder> is the scenario's name (with a swept case's name) made
folder-safe: characters other than letters, digits and _.=,- become one _, with none
doubled or at either end (ccrs[10kph] -> ccrs_10kph; a fleet adds _NNNN, the variant).
DIR/summary.json and a summary table (score per scenario, pass/FAIL, collision and its
kind, e.g. "yes (active_rear, not at fault)", min TTC, planner step time) on stdout and
in DIR/summary.md. Its "min TTC s (≤ 3 s horizon)" column is nuPlan's time to collision,
projected 0.1 to 2.9 s ahead at constant velocities (nuPlan's steps below its 3 s horizon;
0 at an at-fault collision); "-" there means no projected collision within them (not an
error). When any run's map has traffic lights, a "red lights run" column counts the times
the ego's front passed a stop line at red ("-" for a run on a map without lights;
drivestack.eval.driving.traffic_lights), and each planner's line gives the total, and
after "; agents" the red lights the simulated agents ran (information only). Likewise, when
any run's map has stop signs that stop traffic, a "stop signs run" column counts the ego's
stop-sign violations (its front passing a stop or all-way-stop line without a full stop within
3 m before it; "-" for a run on a map without such signs;
drivestack.eval.driving.stop_signs), and each planner's line gives the total. A run that
ended with the ego at rest while its planner still braked for a stop reason (its
debug.stop_reason, e.g. "no proposal stays on the drivable area"; not the route's end, a
light or an agent ahead) gets a "stopped: PLANNER/SCENARIO: ended stopped: REASON" line,
passed or not (summary.json: "ended_stopped_runs"); every run's history.npz records each
planner call's stop reason and emergency flag, its metrics.json the count and first tick
of each reason ("stop_reasons", "ended_stopped_reason"). A --sweep key that is a field of
none of the scenarios is an error.

--planner-params YAML sets the planners' settings (blocks pdm: and idm:, PDMParams), the
ego vehicle (vehicle:, VehicleParams) and the trajectory tracker (tracker:,
TrackerParams), each block and key optional and read strictly (an unknown or bad key is
one error line naming the file and dotted key, exit status 2; unknown_light is --lights's);
sim.json records every value (a DIR of runs made with other settings is refused as
below), each metrics.json its planner's block, vehicle and tracker. Suites and fleets
honour it (a fleet records it in fleet.json and refuses a resume with other settings; see
drivestack fleet).

--lidar-params YAML sets the simulated LiDAR of --perception lidar and --export-dataset
(drivestack.sim.perceived.SimLidarParams): preset (hdl64, vlp32 or os128 beam layout),
mount_xyz_m [x, y, z] in the ego frame, mount_yaw_rad, range_noise_std_m,
dropout_probability, min_signal_per_m2 (the detection limit) and seed, each optional (the
defaults: hdl64 at [1.3, 0, 1.9] m, yaw 0, 0.02 m range noise, no dropout, seed 1), read
strictly (an unknown or bad key is one error line naming the file and key, exit status 2).
sim.json and each metrics.json record every value ("lidar_params"; a DIR of runs made with
other settings is refused as below). Without --perception lidar or --export-dataset it is an
error (exit status 2), as is --perception lidar in a fleet. The stack's detector
(configs/stack/sim_lidar.yaml) is calibrated on the default sensor: another preset or mount
changes what it sees.

Each run ends one of three ways, counted per planner in summary.json: "passed" (it met
the scenario's pass_criteria), "failed" (it ran and missed them: a FAIL row, the missed
criteria in "failed_runs" and in metrics.json's "failures") or "crashed" (it raised while
running: DIR/<planner>/<folder>/error.json with the error and its traceback, a CRASHED
row, "crashed_runs"; the other runs go on). A suite entry may list known failures
(known_failures: {planner: reason}; docs/scenarios.md), as pytest's strict xfail: a listed
run that fails is a "known failure" (its row says so, metrics.json records
"known_failure", the reason; summary.json counts "known_failures" apart from "failed", with
"known_failure_runs"), one that passes is "PASSED UNEXPECTEDLY" (counted as passed and in
"unexpected_passes": remove it from the list), unless the run was cut short (--max-steps)
before some of its criteria were judged: then it is a "known failure, not evaluated (run
cut short)" (counted as passed and in "known_failures_not_evaluated", with
"known_failure_not_evaluated_runs"; the listed failure may lie in what was not judged), and a
listed run that crashes is crashed. Exit status 0 when every run passed, is a known failure
or a known failure not evaluated, 1 when any failed, crashed or passed unexpectedly (one stderr line with the counts); a fleet's exit status
(with --sweep, --variants or another fleet option) is the fleet's: 1 only while a variant
crashed, 0 when variants failed their pass criteria (a note line counts them; see drivestack
fleet).

Every scenario is built, and so checked against its map, before anything runs: a config
mistake (e.g. an agent whose box overlaps the ego's at the start) is one error line
naming the file and key, exit status 2, nothing written. (A fleet, i.e. --sweep, checks each
swept value against the scenario's own rules up front, but against the map only when that
variant runs: such a variant is a crashed run; see drivestack fleet --help.)

DIR/sim.json records what ran (the run folders, planners, --max-steps, perception, the
drivestack version and git commit); each metrics.json and summary.json entry also records
max_steps and git_commit. A DIR that already holds runs of another invocation (other
scenarios, planners, --max-steps or perception, or runs without sim.json) is refused, exit
status 2, naming what differs, unless --overwrite is given: then its old runs, summaries
and fleet index are deleted first (--overwrite with fleet options is refused: a fleet
resumes its DIR). Rerunning the same invocation into DIR replaces its results. summary.json,
summary.md and each metrics.json are written whole (temporary name, then renamed), and the
old summary is removed when a run starts, so no stale summary sits beside partial results.

KITTI export (--export-dataset DATASET, every --export-every'th tick of each run, frames
numbered on across runs): DATASET/training/{velodyne,image_2,calib,label_2} and the
split files DATASET/ImageSets/{train,trainval,val,test}.txt (every id in train and
trainval, val and test empty), as drivestack.sim.export_kitti writes it, and, written last
(an export without it did not finish), DATASET/export.json: each run's ids (first_id,
frames, every: one scenario under two planners gives near-identical frames, so hold out by
run), the camera and LiDAR mounts in the ego frame, --lidar-params and the git commit. A DATASET that is a file, or that is not empty, is
refused before anything runs (exit status 2) unless --overwrite is given (then its KITTI
files are deleted first); a run's results are written before its frames are exported. As in
KITTI, the labels and the camera image are at the tick's time, when the LiDAR faces forward
(its sweep runs from half a revolution before to half after; the points are not
de-skewed). Only objects the camera sees are labelled (one it sees but centred beside or
behind it, a truck alongside, as a DontCare region), their 2D boxes cut at the camera's
near plane; occlusion levels (0 fully visible, 1 partly, 2 largely occluded, 3 unknown) come
from the share of each object's silhouette the rendered camera image shows. The exported
clouds are in the simulated LiDAR's frame, 1.9 m above the road and 1.3 m ahead of the rear
axle unless --lidar-params mounts it elsewhere (KITTI's Velodyne: 1.73 m up): set a
KITTI-tuned detector's or ground model's sensor height to 1.9 m (each frame's calib file has
the mount it was exported with).

--export-every without --export-dataset, an --export-every below 1, --stack without
--perception lidar, and --lidar-params without --perception lidar or --export-dataset are
errors (exit status 2), not ignored.

Recorded traffic (scenarios with agents_from_file: CommonRoad, Argoverse 2 logs) is replayed
as recorded unless the scenario sets agents_reactive: true; --agents reactive|replay sets
that for every such scenario of the run (the others have no recorded traffic and are run
as written). Reactive recorded vehicles follow their recorded paths and speeds but brake
with IDM for the ego or anyone ahead when it is closer than recorded (drivestack.sim.agents);
pedestrians, cyclists and static objects stay replayed. Each metrics.json records
"recorded_agents" (reactive, replay, or null without recorded traffic); sim.json records
--agents, and a DIR holding runs made with another --agents is refused as above.
--agents with the fleet options is an error (set agents_reactive in the scenario files).

Traffic lights (--lights truth|camera, default truth): with camera the planner sees, for the
lights that govern its route (the ways it takes) and that the map places (OpenDRIVE,
CommonRoad and Lanelet2 maps do; a scenario's own light stands at the far-right kerb of its
first stop line), what a simulated camera shows of them (drivestack.sim.perceived_lights: map-prior ROIs rendered alone, an HSV lamp
classifier with configs/perception/traffic_lights.yaml; a reading is held up to hold_s
while the light becomes unreadable; a light it cannot see is inferred from those it reads:
the state of a light of its controller, red for a crossing approach while the route's light
reads green: drivestack.perception.camera.traffic_light_inference, infer_unseen in that
YAML), unknown for a light it cannot read nor infer, which the planners
then stop for when they can do so comfortably, as at yellow (PDMParams.unknown_light
"yellow"; with truth, unknown means the map gives no cycle and is go); with or without
--perception lidar. The history and the
red-light metrics keep the true states; each metrics.json gains "light_perception" (accuracy,
the share unknown and a true x perceived confusion matrix over the light-ticks within range;
"inferred": the inferred light-ticks, how many match the truth and the wrong ones),
"light_perception_raw" (the same of the classifier's reads before the hold) and
"light_perception_median_ms", summary.json the pooled figures per planner. sim.json
records --lights and the planners' unknown_light policy, as does each metrics.json (a DIR
of runs with other lights is refused as above); a fleet runs camera lights too, each
variant with its own seeded camera noise (see drivestack fleet). --light-camera
ideal|day|dusk|night|YAML (only with --lights camera) degrades the light camera's images (drivestack.sim.sensors.camera_effects: exposure and
night, blur, glare, motion blur, seeded sensor noise; default ideal, the rendered pixels);
metrics.json and sim.json record it as "light_camera" (a DIR of runs with other camera
effects is refused as above); tools/eval_light_perception.py compares them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from tqdm import tqdm

from drivestack.commands._paths import add_quiet_option, check_out_dir
from drivestack.core.errors import DataError
from drivestack.core.json_values import strict_dumps
from drivestack.core.progress import progress as progress_bar
from drivestack.exec.lights import (
    LIGHT_IDENTITY_KEYS,
    FleetLights,
    light_camera_shown,
    lights_identity,
)
from drivestack.exec.task import (
    KNOWN_NOT_EVALUATED,
    NOT_EVALUATED_LABEL,
    count_outcomes,
    known_failure_not_evaluated,
    not_evaluated,
    outcome,
    passed_unexpectedly,
    unknown_light_policy,
)
from drivestack.sim.scenario import RECORDED_AGENT_MODES

if TYPE_CHECKING:
    from drivestack.exec.sweep import Variant
    from drivestack.sim.build import BuiltScenario
    from drivestack.sim.evaluate import PlannerParams
    from drivestack.sim.perceived import SimLidarParams
    from drivestack.sim.scenario import KnownFailures, ScenarioConfig

#: The stack of ``--perception lidar`` without ``--stack``.
DEFAULT_STACK = Path(__file__).resolve().parents[2] / "configs" / "stack" / "sim_lidar.yaml"
#: The tick interval of ``--export-dataset`` without ``--export-every``.
DEFAULT_EXPORT_EVERY = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    from drivestack.commands.fleet import (
        SCENARIO_HELP,
        add_data_root_argument,
        add_fleet_arguments,
        add_lights_arguments,
        add_max_steps_argument,
        add_planner_argument,
        add_planner_params_argument,
    )

    parser.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    parser.add_argument("--suite", help="a suite YAML listing scenario files")
    parser.add_argument(
        "--out", required=True, help="output folder (DIR above: DIR/<planner>/<folder>/...)"
    )
    add_planner_argument(parser)
    add_data_root_argument(parser)
    add_max_steps_argument(parser)
    parser.add_argument("--filter", default="", help="only scenarios whose name contains this text")
    parser.add_argument(
        "--agents",
        choices=RECORDED_AGENT_MODES,
        default=None,
        help="run the recorded traffic of every scenario that has some (agents_from_file) "
        "reactive (vehicles follow their recorded paths with IDM, reacting to the ego) or "
        "replayed as recorded (default: each scenario's agents_reactive, false unless set)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="when DIR holds runs of another invocation, delete them first; when the "
        "--export-dataset folder is not empty, delete the KITTI files there first (training/"
        "velodyne, image_2, calib, label_2; ImageSets) (default: refuse)",
    )
    add_quiet_option(parser)
    # fleet flags (--sweep, --executor, --workers, ...): with any of them the run is a fleet
    add_fleet_arguments(
        parser.add_argument_group(
            "fleet options",
            "any of these turns the run into a fleet (drivestack fleet: seeded variants on a "
            "process pool or Ray, resumable, DIR/fleet.jsonl)",
        )
    )
    parser.add_argument(
        "--perception",
        choices=["ground_truth", "lidar"],
        default="ground_truth",
        help="what the planner sees: ground-truth agents, or tracks from the real stack run on "
        "ray-cast LiDAR sweeps (see --stack)",
    )
    add_lights_arguments(parser)
    add_planner_params_argument(parser)
    parser.add_argument(
        "--lidar-params",
        type=Path,
        default=None,
        metavar="YAML",
        help="the simulated LiDAR of --perception lidar and --export-dataset: a YAML mapping "
        "of any of preset (hdl64, vlp32, os128), mount_xyz_m [x, y, z], mount_yaw_rad, "
        "range_noise_std_m, dropout_probability, min_signal_per_m2, seed "
        "(drivestack.sim.perceived.SimLidarParams), read strictly (a bad key or value is one "
        "error line naming the file and key, exit status 2); recorded in sim.json and each "
        "metrics.json; an error without --perception lidar or --export-dataset (default: "
        "hdl64 at [1.3, 0, 1.9] m, 0.02 m range noise, no dropout, seed 1)",
    )
    parser.add_argument(
        "--stack",
        type=Path,
        default=None,
        help="stack YAML for --perception lidar (default configs/stack/sim_lidar.yaml: the "
        "detector calibrated for the simulated LiDAR); an error without --perception lidar",
    )
    parser.add_argument(
        "--export-dataset",
        type=Path,
        help="also write the runs' rendered frames (LiDAR, camera, labels) as a KITTI object "
        "dataset in this folder (see KITTI export below); it must be empty or new unless "
        "--overwrite is given",
    )
    parser.add_argument(
        "--export-every",
        type=int,
        default=None,
        help=f"export every Nth tick (N >= 1, default {DEFAULT_EXPORT_EVERY}; only with "
        "--export-dataset)",
    )


def _load(args: argparse.Namespace) -> tuple[list[ScenarioConfig], KnownFailures]:
    """The run's scenarios and the runs the suite lists as known failures
    (:func:`drivestack.commands.fleet.load_sources`), with ``--agents`` applied."""
    from drivestack.commands.fleet import load_sources
    from drivestack.sim.scenario import with_recorded_agents

    scenarios, known = load_sources(args)
    if args.agents is not None:
        scenarios = [with_recorded_agents(s, args.agents) for s in scenarios]
    return scenarios, known


def run(args: argparse.Namespace) -> int:
    from drivestack.commands import fleet
    from drivestack.core.atomic import write_text_atomic
    from drivestack.exec.lights import light_record_fields, pooled_light_perception
    from drivestack.exec.sweep import SweepSpec, expand_variants
    from drivestack.exec.task import (
        planner_params_record,
        run_built,
        run_provenance_fields,
        write_run_results,
    )
    from drivestack.perception.camera.traffic_light_state import (
        DEFAULT_CONFIG_PATH,
        load_traffic_light_config,
    )
    from drivestack.pipeline import build_stack
    from drivestack.sim.perceived import (
        LidarPerception,
        SimLidarParams,
        observers,
        with_lidar_perception,
    )
    from drivestack.sim.perceived_lights import (
        CameraLightPerception,
        light_camera_effects,
        with_light_perception,
    )

    _check_options(args)  # options that would be ignored: refused, exit 2
    if fleet.is_fleet_request(args):  # seeded variants on a process pool or Ray, resumable
        return fleet.run(args)  # (which checks the sweep keys: a --sweep makes a fleet)
    fleet.check_sources(args)
    planners = fleet.planners_of(args.planner)
    # --planner-params with --lights's unknown_light: ConfigError (exit 2) before anything runs
    params = fleet.planner_params_of(args.planner_params, args.lights)
    lidar_params = _lidar_params(args)  # ConfigError (exit 2) before anything runs too
    lidar = (SimLidarParams() if lidar_params is None else lidar_params).model()
    # one result folder per run: expand_variants refuses two scenarios that would share one
    scenarios, known = _load(args)
    runs = expand_variants(scenarios, planners, SweepSpec(()))
    data_root = fleet.data_root_of(args.data_root)
    builds = _build_all(runs, data_root)  # ConfigError (exit 2) before anything runs
    if params is not None:  # the ego vehicle of every run, set before any world is wrapped
        for built in builds.values():
            built.world.vehicle = params.vehicle
    # one stack for every run (a run resets it), so a bad --stack also fails before any run
    stack = build_stack(args.stack or DEFAULT_STACK) if args.perception == "lidar" else None
    if stack is not None:  # a detector needing an HD map: refused before any run, not per run
        from drivestack.replay.stack_fit import check_stack_map_steps

        check_stack_map_steps(stack, SIMULATED_FRAMES)
    # --light-camera: refused without --lights camera, a bad file exits 2 before any run
    light_effects = light_camera_effects(args.light_camera, args.lights)
    # the classifier's config, read once for every run (a bad file exits 2 before any run)
    light_config = (
        load_traffic_light_config(DEFAULT_CONFIG_PATH) if args.lights == "camera" else None
    )
    if args.export_dataset is not None:  # DataError (exit 2): a file, or another dataset
        _check_export_folder(args.export_dataset, args.overwrite, Path(args.out))
    out = Path(args.out)
    manifest = _manifest(args, runs, planners, light_effects, params, lidar_params, stack)
    _prepare_out(out, manifest, args.overwrite)  # DataError (exit 2): another invocation's runs
    if args.export_dataset is not None and args.overwrite:
        _clear_export_folder(args.export_dataset)
    provenance = {"max_steps": args.max_steps, "git_commit": manifest["git_commit"]}
    every = DEFAULT_EXPORT_EVERY if args.export_every is None else args.export_every
    rows = []
    exported = 0
    export_runs: list[dict[str, Any]] = []  # the exported ids of each run (export.json)
    perception_metrics: dict[str, Any] = {}  # planner -> pooled PerceptionMetrics (lidar runs)
    for variant in progress_bar(runs, desc="sim", unit="run", disable=args.quiet):
        cfg, planner = variant.scenario, variant.planner
        folder = out / variant.variant_id
        _clear_run(folder)  # this invocation's earlier result, if any: never left half-replaced
        built = builds[cfg.name]
        try:
            if args.lights == "camera":  # innermost: the LiDAR observer passes its lights on
                built = with_light_perception(built, light_config, effects=light_effects)
            if stack is not None:
                built = with_lidar_perception(built, stack, lidar)
            result = run_built(built, planner, args.lights, data_root, args.max_steps, params)
        except Exception as exc:  # one crashing run must not stop the others: record it
            rows.append(_crashed_run(variant, exc, folder))
            tqdm.write(f"run {variant.variant_id} crashed: {rows[-1]['error']}", file=sys.stderr)
            continue
        record = result.as_dict()
        record.update(
            run_provenance_fields(cfg, perception=args.perception, lights=args.lights, **provenance)
        )
        if params is not None:  # what this run's planner, vehicle and tracker ran with
            record["planner_params"] = planner_params_record(  # (params.as_dict(), made once)
                manifest["planner_params"], manifest["planner_params_file"], planner
            )
        if lidar_params is not None:  # the simulated LiDAR it ran or exported with
            record["lidar_params"] = {
                "file": manifest["lidar_params_file"],
                **manifest["lidar_params"],
            }
        reason = known.get(cfg.name, {}).get(planner)
        if reason is not None:  # the suite lists it as a known failure (strict xfail)
            record["known_failure"] = reason
        for observer in observers(built.world):
            if isinstance(observer, LidarPerception):
                record["perception_stage_median_ms"] = observer.timing_ms()
                run_metrics = observer.metrics
                record["perception_metrics"] = run_metrics.result()
                pooled = perception_metrics.setdefault(
                    planner, type(run_metrics)(run_metrics.config)
                )
                pooled.merge(run_metrics, prefix=f"{cfg.name}/")
            elif isinstance(observer, CameraLightPerception):
                record.update(light_record_fields(observer, args.light_camera))
        write_run_results(folder, result, record)
        rows.append(record)
        if args.export_dataset is not None:  # after the run's results are safe
            count = _export(result.history, built, args.export_dataset, every, exported, lidar)
            export_runs.append(
                {"run": variant.variant_id, "first_id": exported, "frames": count, "every": every}
            )
            exported += count
    summary = _summary(rows, planners)
    for planner, entry in summary.items():
        entry.update(provenance)
        if planner in perception_metrics:
            entry["perception_metrics"] = perception_metrics[planner].result()
        mine = [r for r in rows if r["planner"] == planner and not _crashed(r)]
        entry.update(pooled_light_perception(mine))  # --lights camera: pooled per planner
    write_text_atomic(out / "summary.json", strict_dumps(summary, indent=2))
    table = _table(rows, summary)
    write_text_atomic(out / "summary.md", table + "\n")
    print(table)
    if args.export_dataset is not None:
        from drivestack.sim.export_kitti import write_image_sets

        write_image_sets(args.export_dataset, exported)
        _write_export_record(args.export_dataset, export_runs, lidar, manifest)
        print(f"exported {exported} labelled frames (KITTI object layout) to {args.export_dataset}")
    failed = sum(s["failed"] for s in summary.values())
    crashed = sum(s["crashed"] for s in summary.values())
    unexpected = sum(s["unexpected_passes"] for s in summary.values())
    known = sum(s["known_failures"] for s in summary.values())
    unjudged = sum(s[KNOWN_NOT_EVALUATED] for s in summary.values())
    if failed or crashed or unexpected:
        stale = (
            f", {unexpected} listed as known failures passed unexpectedly (remove them from "
            "the suite's known_failures)"
            if unexpected
            else ""
        )
        marks = "FAIL, CRASHED" + (", PASSED UNEXPECTEDLY" if unexpected else "")
        print(
            f"error: {failed} of {len(rows)} runs failed their pass criteria, {crashed} "
            f"crashed{stale}; see the table ({marks} rows; error.json in a crashed run's "
            f"folder) and {out / 'summary.json'}",
            file=sys.stderr,
        )
        return 1
    if known:
        print(
            f"note: {known} of {len(rows)} runs failed as their suite's known_failures list "
            "(not counted as failures)",
            file=sys.stderr,
        )
    if unjudged:
        print(
            f"note: {unjudged} of {len(rows)} runs listed in their suite's known_failures "
            "met the criteria they could judge but were cut short before others (not "
            "evaluated: neither a known failure nor an unexpected pass)",
            file=sys.stderr,
        )
    return 0


def _check_options(args: argparse.Namespace) -> None:
    """``DataError`` (exit 2) for an option that would be ignored or is out of range."""
    from drivestack.commands import fleet

    if args.export_every is not None and args.export_dataset is None:
        raise DataError("--export-every needs --export-dataset (nothing is exported without it)")
    if args.export_every is not None and args.export_every < 1:
        raise DataError(f"--export-every must be 1 or more, got {args.export_every}")
    if args.agents is not None and fleet.is_fleet_request(args):
        raise DataError(
            "--agents is not applied to fleets (the fleet options); set agents_reactive: true "
            "in the scenario files instead"
        )
    if args.overwrite and fleet.is_fleet_request(args):
        raise DataError(
            "--overwrite is not applied to fleets (the fleet options): a fleet resumes what "
            "its --out holds; give another --out, or delete the folder first"
        )
    if args.lidar_params is not None and args.perception != "lidar" and not args.export_dataset:
        raise DataError(
            "--lidar-params is used only with --perception lidar or --export-dataset (no "
            f"LiDAR is simulated with --perception {args.perception} and no export)"
        )
    if args.stack is not None and args.perception != "lidar":
        raise DataError(
            "--stack is used only with --perception lidar (the planner sees ground truth "
            f"with --perception {args.perception})"
        )


def _lidar_params(args: argparse.Namespace) -> SimLidarParams | None:
    """``--lidar-params``'s settings (None without the option); ``ConfigError`` naming the
    file and key for a bad file."""
    from drivestack.sim.perceived import load_lidar_params

    return None if args.lidar_params is None else load_lidar_params(args.lidar_params)


def _check_export_folder(root: Path, overwrite: bool, out: Path | None = None) -> None:
    """``DataError`` unless ``root`` can take a new dataset: a folder (or one to make) that is
    empty, or any folder with ``overwrite``; never a file, nor under one, nor a folder it
    cannot write; never ``out`` (the run folder), inside it or holding it."""
    if out is not None:
        a, b = root.resolve(), out.resolve()
        if a == b or b in a.parents or a in b.parents:
            raise DataError(
                f"--export-dataset and --out {out} must be separate folders (neither inside "
                "the other): the KITTI files would mix with the runs",
                path=str(root),
            )
    for path in (root, *root.parents):
        if path.exists() and not path.is_dir():
            raise DataError(
                "--export-dataset must be a folder"
                + ("" if path == root else f", but {path} is a file"),
                path=str(root),
            )
        if path.exists():
            break
    if root.is_dir() and any(root.iterdir()) and not overwrite:
        raise DataError(
            "--export-dataset folder is not empty (frames of another export would mix with "
            "this one's); give an empty or new folder, or --overwrite to delete its KITTI files",
            path=str(root),
        )
    check_out_dir(root, "--export-dataset")  # one that cannot be made or written (/proc/x)
    from drivestack.core.folder_links import refuse_folder_links

    refuse_folder_links(root, 2, "--export-dataset")  # training/<layout>, ImageSets: cleared


def _clear_export_folder(root: Path) -> None:
    """Delete export.json, the ImageSets split files and the files of the KITTI layout folders
    ``export_kitti_object`` writes in ``root``
    (and those folders when that empties them); nothing else."""
    from drivestack.sim.export_kitti import IMAGE_SET_FILES, LAYOUT_FOLDERS

    (root / "export.json").unlink(missing_ok=True)
    for name in IMAGE_SET_FILES:
        (root / "ImageSets" / name).unlink(missing_ok=True)
    if (root / "ImageSets").is_dir() and not any((root / "ImageSets").iterdir()):
        (root / "ImageSets").rmdir()
    base = root / "training"
    for name in LAYOUT_FOLDERS:
        folder = base / name
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_file() or path.is_symlink():
                path.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()
    if base.is_dir() and not any(base.iterdir()):
        base.rmdir()


#: What ``drivestack sim`` writes at the top of DIR (sim.json: what ran).
MANIFEST_NAME = "sim.json"
SUMMARY_FILES = ("summary.json", "summary.md")
#: What identifies an invocation: a DIR holding runs made with other values is refused.
IDENTITY_KEYS = (
    "runs",
    "planners",
    "max_steps",
    "perception",
    "lights",
    "light_camera",
    "agents",
    "planner_params",
    "lidar_params",
    "stack",
)


def _fleet_files() -> tuple[str, ...]:
    """The top-level files of a fleet run into the same folder (``--overwrite`` deletes them)."""
    from drivestack.exec.fleet import INDEX_NAME, SUMMARY_NAME
    from drivestack.exec.fleet import MANIFEST_NAME as FLEET_MANIFEST_NAME

    return (FLEET_MANIFEST_NAME, INDEX_NAME, SUMMARY_NAME)


def _run_files() -> tuple[str, ...]:
    """The files of one run's folder."""
    from drivestack.exec.task import ERROR_NAME

    return ("metrics.json", "history.npz", ERROR_NAME)


def _manifest(
    args: argparse.Namespace,
    runs: list[Variant],
    planners: list[str],
    light_effects: Any,
    params: PlannerParams | None = None,
    lidar_params: SimLidarParams | None = None,
    stack: Any = None,
) -> dict[str, Any]:
    """DIR/sim.json: what this invocation runs (:data:`IDENTITY_KEYS`) and how;
    ``light_effects`` the light camera's effects (``--light-camera``'s), recorded as a fleet
    records them (:meth:`~drivestack.exec.lights.FleetLights.manifest_value`: with its
    preset's name, ``ideal`` without one; ``None`` without ``--lights camera``);
    ``planner_params`` every value of ``--planner-params`` (None without it) and
    ``planner_params_file`` the file it was read from; ``lidar_params`` and
    ``lidar_params_file`` the same of ``--lidar-params``; ``stack`` what ``--perception
    lidar`` ran (the stack file and every value of its detector and tracker configs, as
    :func:`~drivestack.pipeline.build_stack` records them; None with ground truth)."""
    from drivestack.core.provenance import run_provenance

    return {
        "kind": "sim",
        "runs": sorted(v.variant_id for v in runs),
        "planners": planners,
        "max_steps": args.max_steps,
        "perception": args.perception,
        "lights": args.lights,
        "unknown_light": unknown_light_policy(args.lights),
        "light_camera": FleetLights(args.lights, args.light_camera, light_effects).manifest_value(),
        "agents": args.agents,
        "planner_params": None if params is None else params.as_dict(),
        "planner_params_file": (
            None if args.planner_params is None else str(Path(args.planner_params).resolve())
        ),
        "lidar_params": None if lidar_params is None else lidar_params.as_dict(),
        "lidar_params_file": (
            None if args.lidar_params is None else str(Path(args.lidar_params).resolve())
        ),
        "stack": None if stack is None else stack_identity(stack),
        "source": str(Path(args.suite or args.scenario).resolve()),
        "filter": args.filter,
        **run_provenance(),
    }


def _existing_runs(out: Path) -> list[Path]:
    """The run folders (``<planner>/<folder>`` holding a run file) already in ``out``."""
    return sorted({p.parent for name in _run_files() for p in out.glob(f"*/*/{name}")})


def _other_invocation(out: Path, manifest: dict[str, Any]) -> str | None:
    """Why ``out``'s existing runs are not this invocation's (None when they are, or when
    there are none)."""
    if not _existing_runs(out):
        return None
    if (out / _fleet_files()[0]).exists():
        return "it holds a fleet"
    try:
        old = json.loads((out / MANIFEST_NAME).read_text())
    except FileNotFoundError:
        return f"its runs have no {MANIFEST_NAME} (made by another or an older command)"
    except (OSError, ValueError):
        return f"its {MANIFEST_NAME} does not read"
    if not isinstance(old, dict):
        return f"its {MANIFEST_NAME} does not read"
    changed = [
        key
        for key in IDENTITY_KEYS
        if key != "runs" and _identity(key, old.get(key)) != _identity(key, manifest[key])
    ]
    if "perception" in changed and "stack" in changed:  # (the stack goes with the perception)
        changed.remove("stack")
    differs = [
        f"{key} ({_shown(old.get(key), key)}; now {_shown(manifest[key], key)})" for key in changed
    ]
    if old.get("runs") != manifest["runs"]:
        scenarios = _scenarios_differ(old.get("runs"), manifest["runs"])
        if scenarios or not differs:  # (other planners alone also make other run folders)
            differs.append(scenarios or "scenarios")
    return f"its runs were made with other {', '.join(differs)}" if differs else None


def _identity(key: str, value: object) -> object:
    """An identity value as compared: the planners as a set (``pdm,idm`` and ``idm,pdm`` make
    the same runs); no ``lights`` (a sim.json from before ``--lights``) as ``truth``; a
    ``light_camera`` by its effects, not its preset's name, and as ``None`` when it has none
    (``enabled`` false: the ideal camera, as every run had before ``--light-camera``)."""
    from drivestack.exec.fleet import planner_set
    from drivestack.sim.evaluate import recorded_planner_params

    if key in LIGHT_IDENTITY_KEYS:
        return lights_identity(key, value)
    if key == "planner_params":  # (a record from before the idm block was trimmed)
        return recorded_planner_params(value)
    return planner_set(value) if key == "planners" else value


def _shown(value: object, key: str = "") -> str:
    """An identity value in a refusal: a list as ``a,b``, no ``--max-steps`` as ``none``, a
    light camera by its preset's name, ``--planner-params`` as ``a file's settings``,
    anything else as it is."""
    if value is None:
        return "none"
    if key in ("planner_params", "lidar_params"):
        return f"a --{key.replace('_', '-')} file's settings"
    if key == "stack" and isinstance(value, dict):  # (every config value: too long)
        return f"the stack {value.get('stack', '(in code)')} with its settings"
    if isinstance(value, dict):
        return light_camera_shown(value)
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _scenarios_differ(old: object, new: list[str]) -> str | None:
    """``scenarios (...)`` naming a run folder of one invocation missing from the other, when
    the two sets of scenario folders (run folders without the planner) differ; else None."""
    if not isinstance(old, list):
        return "scenarios"
    mine = {str(r).partition("/")[2] for r in old}
    now = {r.partition("/")[2] for r in new}
    if mine == now:
        return None
    gone, added = sorted(mine - now), sorted(now - mine)
    parts = [f"{gone[0]} not in this one" if gone else "", f"{added[0]} new" if added else ""]
    return f"scenarios ({'; '.join(p for p in parts if p)})"


def stack_identity(stack: Any) -> dict[str, Any]:
    """What sim.json records of a ``--perception lidar`` stack: its config (the values of its
    detector and tracker configs included) with the stack file resolved."""
    config = dict(stack.config or stack.stage_classes())
    if isinstance(config.get("stack"), str):
        config["stack"] = str(Path(config["stack"]).resolve())
    # as sim.json reads back (tuples as lists), so that the same stack compares equal
    return cast(dict[str, Any], json.loads(strict_dumps(config)))


#: Whose frames a detector reads in closed loop (the simulator gives no HD-map priors).
SIMULATED_FRAMES = "drivestack sim (the simulator gives no HD-map priors)"


def _prepare_out(out: Path, manifest: dict[str, Any], overwrite: bool) -> None:
    """Make ``out`` ready for this invocation: refuse (``DataError``) another invocation's
    runs unless ``overwrite`` (then delete them), remove the old summaries, write sim.json."""
    from drivestack.core.folder_links import refuse_folder_links

    refuse_folder_links(out, 2, "--out")  # <planner>/<run> folders are cleared and written
    out.mkdir(parents=True, exist_ok=True)
    why = _other_invocation(out, manifest)
    if why is not None and not overwrite:
        raise DataError(
            f"--out already holds results of another run ({why}); give another --out, or "
            "--overwrite to delete them",
            path=str(out),
        )
    if why is not None:
        for folder in _existing_runs(out):
            _clear_run(folder)
        for name in _fleet_files():
            (out / name).unlink(missing_ok=True)
    # the same invocation again runs every listed run anew: their earlier results go now, so
    # that a rerun stopped part-way shows the runs it did not reach as never run, not the
    # earlier invocation's results as this one's
    for key in manifest["runs"]:
        _clear_run(out / key)
    for name in SUMMARY_FILES:
        (out / name).unlink(missing_ok=True)
    from drivestack.core.atomic import write_text_atomic

    write_text_atomic(out / MANIFEST_NAME, json.dumps(manifest, indent=2))


def _clear_run(folder: Path) -> None:
    """Delete one run folder's result files (and the folder when that empties it)."""
    for name in _run_files():
        (folder / name).unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def _build_all(runs: list[Variant], data_root: Path | None) -> dict[str, BuiltScenario]:
    """Each run's scenario built once (shared by its planners; a run resets its world), by
    name: every config mistake, also those only the map shows, is found before any run."""
    from drivestack.sim.build import build_scenario

    scenarios = {v.scenario.name: v.scenario for v in runs}
    return {name: build_scenario(cfg, data_root) for name, cfg in scenarios.items()}


def _crashed_run(variant: Variant, exc: Exception, folder: Path) -> dict[str, Any]:
    """The record of a run that raised ``exc`` (the fleet's index record of a crashed
    variant: the variant's head, ``status`` ``crashed``, ``error`` and ``traceback``), also
    written to ``folder/error.json``."""
    from drivestack.exec.task import ERROR_NAME, crashed_fields, variant_record

    record = {**variant_record(variant), **crashed_fields(exc)}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ERROR_NAME).write_text(strict_dumps(record, indent=2))
    return record


def _crashed(record: dict[str, Any]) -> bool:
    """Whether ``record`` is a crashed run's (:func:`~drivestack.exec.task.is_crashed`)."""
    from drivestack.exec.task import is_crashed

    return is_crashed(record)


#: The KITTI camera the export renders: KITTI 2011_09_26's camera 2 (1242 x 375, fx
#: 721.5377 px), mounted 1.6 m ahead of the ego origin, 1.65 m up, looking forward.
EXPORT_CAMERA_SIZE_WH = (1242, 375)
EXPORT_CAMERA_FX_PX = 721.5377
EXPORT_CAMERA_MOUNT_XYZ_M = (1.6, 0.0, 1.65)


def _write_export_record(root: Path, runs: list[dict[str, Any]], lidar: Any, manifest: Any) -> None:
    """``root/export.json``: what made the exported frames, so that they can be split by
    scenario and the sensors placed: each run's ids (``first_id``, ``frames``, every
    ``every``-th tick from 0; the same scenario under two planners gives near-identical
    frames: split by ``run``), the camera and the LiDAR mounts (ego frame), the LiDAR
    settings and the git commit."""
    from drivestack.core.atomic import write_text_atomic

    mount = lidar.ego_from_lidar
    record = {
        "runs": runs,
        "camera": {
            "size_wh_px": list(EXPORT_CAMERA_SIZE_WH),
            "fx_px": EXPORT_CAMERA_FX_PX,
            "mount_xyz_m": list(EXPORT_CAMERA_MOUNT_XYZ_M),
        },
        "lidar_mount": {
            "xyz_m": [float(v) for v in mount.translation],
            "yaw_rad": float(mount.yaw_rad),
        },
        "lidar_params": manifest.get("lidar_params"),
        "git_commit": manifest.get("git_commit"),
    }
    write_text_atomic(Path(root) / "export.json", strict_dumps(record, indent=2))


def _export(history: Any, built: Any, root: Path, every: int, start_index: int, lidar: Any) -> int:
    """Render a run's ticks with the LiDAR ``lidar`` (a
    :class:`~drivestack.sim.sensors.LidarModel`) and the KITTI camera and write them as KITTI
    object frames; returns how many."""
    from drivestack.sim.export_kitti import export_kitti_object
    from drivestack.sim.record import sensor_frames_with_visibility
    from drivestack.sim.sensors import CameraModel, SensorScene

    # KITTI 2011_09_26's camera 2: the exported calib reads as that recording day
    # (kitti_image_size_wh) when the images are not at hand
    width, height = EXPORT_CAMERA_SIZE_WH
    camera = CameraModel.looking_forward(
        "front", width, height, EXPORT_CAMERA_FX_PX, EXPORT_CAMERA_MOUNT_XYZ_M
    )
    scene = SensorScene.from_road_map(built.road_map)
    frames = sensor_frames_with_visibility(history, scene, lidar, camera, every=every)
    return export_kitti_object(frames, root, start_index=start_index)


def _summary(rows: list[dict[str, Any]], planners: list[str]) -> dict[str, Any]:
    """Per planner: the runs scored (``scenarios``) and their figures; of all its runs, how
    many ``passed`` (met the pass criteria), ``failed`` (ran, did not pass; then also
    ``failed_runs``: their scenario and missed criteria), ``known_failures`` (ran, did not
    pass, and the suite lists them: ``known_failure_runs`` with the reason) and ``crashed``
    (raised while running; then also ``crashed_runs``: their scenario and error); and
    ``unexpected_passes``, the listed runs that passed (among ``passed``;
    ``unexpected_pass_runs``), and ``known_failures_not_evaluated``, the listed runs that
    passed what a cut-short run could judge (among ``passed``;
    ``known_failure_not_evaluated_runs``: scenario, reason and the criteria not evaluated)."""
    out: dict[str, Any] = {}
    for planner in planners:
        mine = [r for r in rows if r["planner"] == planner and not _crashed(r)]
        crashed = [r for r in rows if r["planner"] == planner and _crashed(r)]
        if not mine and not crashed:
            continue
        failed = [r for r in mine if outcome(r) == "failed"]
        known = [r for r in mine if outcome(r) == "known_failure"]
        unexpected = [r for r in mine if passed_unexpectedly(r)]
        unjudged = [r for r in mine if known_failure_not_evaluated(r)]
        entry: dict[str, Any] = {
            "scenarios": len(mine),
            "mean_score": float(np.mean([r["score"] for r in mine])) if mine else None,
            **count_outcomes([*mine, *crashed]),
            "collisions": sum(r["ncap"]["avoided"] is False for r in mine),  # null: not evaluated
            "at_fault_collisions": sum(bool(r["at_fault_collision"]) for r in mine),
            # runs on maps with traffic lights, and the red lights run (older records: none)
            "runs_with_traffic_lights": sum(_has_lights(r) for r in mine),
            "red_light_violations": sum(int(r.get("red_light_violations") or 0) for r in mine),
            # the simulated agents' red light runs, information only (older records: none)
            "agent_red_light_runs": sum(_agent_red_runs(r) for r in mine),
            # runs on maps with stop signs, and the stop signs run (older records: none)
            "runs_with_stop_signs": sum(_has_signs(r) for r in mine),
            "stop_sign_violations": sum(int(r.get("stop_sign_violations") or 0) for r in mine),
            "planner_step_median_ms": _median(mine, "planner_step_median_ms"),
            "realtime_factor_median": _median(mine, "realtime_factor"),
            "sim_only_realtime_factor_median": _median(mine, "sim_only_realtime_factor"),
        }
        if failed:
            entry["failed_runs"] = [
                {"scenario": r["scenario"], "failures": list(r["failures"])} for r in failed
            ]
        if known:
            entry["known_failure_runs"] = [
                {
                    "scenario": r["scenario"],
                    "reason": r["known_failure"],
                    "failures": list(r["failures"]),
                }
                for r in known
            ]
        if unexpected:
            entry["unexpected_pass_runs"] = [
                {"scenario": r["scenario"], "reason": r["known_failure"]} for r in unexpected
            ]
        if unjudged:
            entry["known_failure_not_evaluated_runs"] = [
                {
                    "scenario": r["scenario"],
                    "reason": r["known_failure"],
                    "not_evaluated": not_evaluated(r),
                }
                for r in unjudged
            ]
        if crashed:
            entry["crashed_runs"] = [
                {"scenario": r["scenario"], "error": r["error"]} for r in crashed
            ]
        stopped = [r for r in mine if r.get("ended_stopped_reason")]
        if stopped:  # ended at rest, the planner braking for a stop reason (not the goal)
            entry["ended_stopped_runs"] = [
                {"scenario": r["scenario"], "reason": r["ended_stopped_reason"]} for r in stopped
            ]
        out[planner] = entry
    return out


def _pass_cell(row: dict[str, Any]) -> str:
    """A run's cell in the table's pass column."""
    if passed_unexpectedly(row):
        return "PASSED UNEXPECTEDLY"
    if known_failure_not_evaluated(row):
        return NOT_EVALUATED_LABEL
    return {"passed": "pass", "failed": "FAIL", "known_failure": "known failure"}[outcome(row)]


def _median(rows: list[dict[str, Any]], key: str) -> float | None:
    return float(np.median([r[key] for r in rows])) if rows else None


def _table(rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    """The summary table (markdown) of ``rows``, a note on its min TTC column, then a line
    per planner and one per failed or crashed run."""
    from drivestack.eval.driving.nuplan import TTC_HORIZON_S, ttc_note
    from drivestack.sim.evaluate import default_expert_label, stopped_label
    from drivestack.sim.perception_metrics import light_perception_line

    horizon = float(TTC_HORIZON_S)
    # the red lights run, only when some run's map has traffic lights (else all would be 0)
    lights = any(_has_lights(r) for r in rows if not _crashed(r))
    signs = any(_has_signs(r) for r in rows if not _crashed(r))  # likewise stop signs
    head = [
        "scenario",
        "planner",
        "score",
        "pass",
        "collision",
        "impact km/h",
        f"min TTC s (≤ {horizon:g} s horizon)",
        *(["red lights run"] if lights else []),
        *(["stop signs run"] if signs else []),
        "step ms",
    ]
    lines = [f"| {' | '.join(head)} |", "|" + "---|" * len(head)]
    for r in rows:
        if _crashed(r):
            cells = [r["scenario"], r["planner"], "-", "CRASHED", *["-"] * (len(head) - 4)]
            lines.append(f"| {' | '.join(cells)} |")
            continue
        impact = r["ncap"]["impact_speed_kph"]
        ttc = r["ncap"]["min_ttc_s"]
        red = [_runs_cell(r, _LIGHTS)] if lights else []
        stop = [_runs_cell(r, _SIGNS)] if signs else []
        cells = [
            r["scenario"],
            r["planner"],
            f"{r['score']:.1f}",
            _pass_cell(r),
            r["collision_summary"],
            "-" if impact is None else f"{impact:.1f}",
            "-" if ttc is None else f"{ttc:.2f}",
            *red,
            *stop,
            f"{r['planner_step_median_ms']:.1f}",
        ]
        lines.append(f"| {' | '.join(cells)} |")
    # a blank line first: in markdown a line right under a table would be read as a table row
    lines += ["", ttc_note("-"), ""]
    for planner, s in summary.items():
        crashed = f" ({s['crashed']} more crashed)" if s["crashed"] else ""
        if not s["scenarios"]:
            lines.append(f"{planner}: no scenario ran{crashed}")
            continue
        known = f"known failures {s['known_failures']}, " if s["known_failures"] else ""
        if s["unexpected_passes"]:
            known += f"passed unexpectedly {s['unexpected_passes']}, "
        if s[KNOWN_NOT_EVALUATED]:
            known += f"known failures not evaluated {s[KNOWN_NOT_EVALUATED]}, "
        lines.append(
            f"{planner}: mean score {s['mean_score']:.1f} over {s['scenarios']} scenarios{crashed}, "
            f"passed {s['passed']}, failed {s['failed']}, {known}"
            f"collisions {s['collisions']} ({s['at_fault_collisions']} at fault), planner step median {s['planner_step_median_ms']:.1f} ms, "
            f"real-time factor median {s['realtime_factor_median']:.1f}x "
            f"(simulator alone {s['sim_only_realtime_factor_median']:.0f}x)"
        )
        if s.get("runs_with_traffic_lights"):
            lines.append(
                f"{planner}: red lights run {s['red_light_violations']} "
                f"(over {s['runs_with_traffic_lights']} runs on maps with traffic lights); "
                f"agents {s['agent_red_light_runs']}"
            )
        if s.get("runs_with_stop_signs"):
            lines.append(
                f"{planner}: stop signs run {s['stop_sign_violations']} "
                f"(over {s['runs_with_stop_signs']} runs on maps with stop signs)"
            )
        if "perception_metrics" in s:
            lines.append(f"{planner}: {_perception_line(s['perception_metrics'])}")
        if "light_perception" in s:
            lines.append(f"{planner}: {light_perception_line(s['light_perception'])}")
    for r in rows:
        run = f"{r['planner']}/{r['scenario']}"
        if _crashed(r):
            lines.append(f"crashed: {r['variant']}: {r['error']}")
        elif outcome(r) == "failed":
            lines.append(f"failed: {run}: {'; '.join(r['failures'])}")
        elif outcome(r) == "known_failure":
            lines.append(f"known failure ({r['known_failure']}): {run}: {'; '.join(r['failures'])}")
        elif passed_unexpectedly(r):
            lines.append(
                f"passed unexpectedly: {run}: remove it from the suite's known_failures "
                f"(listed as: {r['known_failure']})"
            )
        elif known_failure_not_evaluated(r):
            lines.append(
                f"{NOT_EVALUATED_LABEL}: {run}: {'; '.join(not_evaluated(r))} "
                f"(listed as: {r['known_failure']})"
            )
    for r in rows:  # passed or not: a run that ended at rest short of its goal says why
        label = None if _crashed(r) else stopped_label(r)
        if label is not None:
            lines.append(f"stopped: {r['planner']}/{r['scenario']}: {label}")
    for r in rows:  # a score of 0 from the default expert progress: say so and what to set
        label = None if _crashed(r) else default_expert_label(r)
        if label is not None:
            lines.append(f"note: {r['planner']}/{r['scenario']}: {label}")
    return "\n".join(lines)


#: A run's rules that can be run, as metrics.json records them: (section, the count of
#: such rules on the map in it, the top-level count of those the ego ran).
_LIGHTS = ("red_light", "lights", "red_light_violations")
_SIGNS = ("stop_sign", "signs", "stop_sign_violations")


def _has_rules(record: dict[str, Any], rules: tuple[str, str, str]) -> bool:
    """Whether a run's map has the ``rules`` (:data:`_LIGHTS`: traffic lights; :data:`_SIGNS`:
    stop signs that stop traffic); older records: no."""
    section = record.get(rules[0])
    return isinstance(section, dict) and bool(section.get(rules[1]))


def _has_lights(record: dict[str, Any]) -> bool:
    return _has_rules(record, _LIGHTS)


def _has_signs(record: dict[str, Any]) -> bool:
    return _has_rules(record, _SIGNS)


def _agent_red_runs(record: dict[str, Any]) -> int:
    """The red lights a run's simulated agents ran (``red_light.agent_red_light_runs``;
    older records: 0)."""
    red = record.get("red_light")
    return int(red.get("agent_red_light_runs") or 0) if isinstance(red, dict) else 0


def _runs_cell(record: dict[str, Any], rules: tuple[str, str, str]) -> str:
    """The ``rules`` a run ran, for its table cell (``-`` when its map has none of them)."""
    return str(int(record.get(rules[2]) or 0)) if _has_rules(record, rules) else "-"


def _perception_line(m: dict[str, Any]) -> str:
    """One line of the pooled perception figures (see drivestack.sim.perception_metrics)."""

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}%"

    det = m["detection"]
    parts = [
        f"perception on {m['frames']} simulated frames: detection mAP {pct(det['all']['mAP'])}",
        f"recall {pct(det['all']['recall'])}, precision {pct(det['all']['precision'])}",
    ]
    for group, d in det.items():
        if group != "all":
            parts.append(f"{group} AP {pct(d['AP'])} R {pct(d['recall'])} P {pct(d['precision'])}")
    trk = m["tracking"].get("all")
    if trk:
        line = (
            f"tracking MOTA {pct(trk['MOTA'])}, IDS {trk['IDS']}, MOTP {trk['MOTP_m'] or 0:.2f} m"
        )
        if trk.get("AVE_mps") is not None:
            line += f", velocity error mean {trk['AVE_mps']:.2f} m/s"
        parts.append(line)
    return "; ".join(parts)
