"""Score planners open loop on recorded drives: nuPlan's challenge 1 (open_loop_boxes).

At every whole second of each recorded drive the planner gets the recorded situation (the
ego's recorded pose, speed, acceleration and yaw rate; the annotated agents with their
velocities; the route the drive's closed-loop scenario uses) and plans once; its trajectory
is compared with what the human then drove, at 1 s steps up to 3, 5 and 8 s: average and
final L2 error (ADE, FDE) and heading error (AHE, FHE) at the vehicle's centre, miss rate
(largest error over 6 / 8 / 16 m), and nuPlan's open-loop score (OLS, 0-1: the miss
multiplier, 1 when every horizon misses at most 30% of its instants, times the 1:1:2:2
weighted mean of max(0, 1 - ADE / 8 m), max(0, 1 - FDE / 8 m), max(0, 1 - AHE / 0.8 rad),
max(0, 1 - FHE / 0.8 rad), each averaged over the horizons). An instant counts for a horizon
only when the recording covers it: a 15.5 s Argoverse 2 log gives 13 instants at 3 s, 11 at
5 s and 8 at 8 s; a log shorter than the longest horizon has no OLS and is counted, not
averaged ("OLS over k of n logs"). The constant-velocity baseline (the ego keeps its speed
and heading) is always scored beside the planners, as the floor nuPlan papers report
(naming it in --planner is allowed and changes nothing). The planner sees the agents
annotated at that moment only, and the ego's speed, acceleration and yaw rate from the
motion up to then (backward differences).

Datasets (--root defaults to the dataset's folder under ../shared/data):
  av2         Argoverse 2 sensor logs (<root>/<log_id>/annotations.feather, ego poses, map/;
              --root may also be one log folder)
  commonroad  refused: a CommonRoad scenario has no recorded ego drive to compare with

Examples:
  drivestack eval planning --dataset av2 --planner pdm,idm --out runs/ols_av2
  drivestack eval planning --dataset av2 --planner-params my_pdm.yaml --out runs/ols_mine

--planner-params YAML: the planners' settings (pdm: / idm:, PDMParams) and the ego's
(vehicle:, whose centre offset places the compared centre), read strictly as drivestack sim
--planner-params reads them; tracker: is refused (no controller runs open loop). Every value
read is in metrics.json (settings.planner_params, planner_params_file).

Prints one row per planner and log (and the mean over the logs) and writes OUT/metrics.json
(settings, per-log figures with every instant's errors, git commit). overall.<planner>:
score (the mean of the logs' OLS), logs and logs_scored, and pooled_instants, the errors and
miss rates over every instant of every log; its scores, weighted_score,
miss_rate_within_bound and score are null (pooled instants have no OLS; the table's "all"
rows show the same).
Exit status: 0; 1 when no log was scored (one line says why; metrics.json is still written);
2 for bad input (one line naming the option or file).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from drivestack.commands._paths import (
    add_out_options,
    av2_log_dirs,
    check_eval_out,
    check_out_dir,
    dataset_root,
    reader_errors_as_data_errors,
    resolved,
    write_eval_metrics,
)
from drivestack.core.errors import DataError
from drivestack.core.provenance import run_provenance

DATASETS = ("av2", "commonroad")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, choices=DATASETS, help="which recordings")
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="folder of AV2 sensor logs, or one log folder (default: argoverse2/sensor/val under "
        "../shared/data)",
    )
    parser.add_argument(
        "--planner",
        default="pdm,idm",
        help="comma-separated planners (pdm, idm; default both); the constant-velocity "
        "baseline (constant_velocity) is always scored too",
    )
    parser.add_argument(
        "--planner-params",
        type=Path,
        default=None,
        metavar="YAML",
        help="the planners' and the ego vehicle's settings (pdm: / idm: PDMParams, vehicle:), "
        "as drivestack sim --planner-params reads them; tracker: is refused (open-loop plans "
        "are never driven)",
    )
    add_out_options(parser)


def _planner_params(path: Path | None) -> Any:
    """``--planner-params``'s settings (None without it); a ``tracker:`` block is refused
    (no controller runs open loop)."""
    from drivestack.config import load_yaml
    from drivestack.core.errors import ConfigError
    from drivestack.sim.evaluate import load_planner_params

    if path is None:
        return None
    data = load_yaml(path)
    if isinstance(data, dict) and "tracker" in data:
        raise ConfigError(
            "open-loop plans are never driven: no trajectory tracker runs (remove it)",
            path=str(path),
            field="tracker",
        )
    return load_planner_params(path)


def _planners(text: str) -> list[str]:
    """The baseline, then the planners of ``--planner`` (``sim``'s names; the baseline's own
    name allowed, once)."""
    from drivestack.eval.driving.open_loop_logs import CONSTANT_VELOCITY
    from drivestack.sim.evaluate import parse_planners

    given = [p.strip() for p in text.split(",")]
    rest = [p for p in given if p != CONSTANT_VELOCITY]
    if not rest:
        return [CONSTANT_VELOCITY]
    try:
        names = list(dict.fromkeys(parse_planners(",".join(rest))))
    except ValueError as exc:
        raise DataError(
            f"{exc} ({CONSTANT_VELOCITY}, the baseline, is always scored)", field="--planner"
        ) from exc
    return [CONSTANT_VELOCITY, *names]


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _triple(result: Any, name: str, digits: int = 2) -> str:
    return "/".join(_fmt(getattr(h, name), digits) for h in result.horizons)


def format_table(rows: list[tuple[str, str, Any]], horizons_s: tuple[float, ...]) -> str:
    """One line per ``(planner, log, OpenLoopResult)``: instants, ADE, FDE, AHE, FHE and miss
    rate per horizon, the miss multiplier, the weighted mean of the four scores (w.mean: the
    OLS before the multiplier) and the OLS."""
    hs = "/".join(f"{h:g}" for h in horizons_s)
    header = (
        f"{'planner':<18} {'log':<9} {'instants':>9}  {'ADE@' + hs + ' s (m)':>19}  "
        f"{'FDE@' + hs + ' s (m)':>19}  {'AHE (rad)':>14}  {'FHE (rad)':>14}  "
        f"{'miss rate':>14}  {'miss ok':>7}  {'w.mean':>6}  {'OLS':>5}"
    )
    lines = [header]
    for planner, log, r in rows:
        instants = "/".join(str(h.instants) for h in r.horizons)
        lines.append(
            f"{planner:<18} {log:<9} {instants:>9}  {_triple(r, 'average_l2_m'):>19}  "
            f"{_triple(r, 'final_l2_m'):>19}  {_triple(r, 'average_heading_rad', 3):>14}  "
            f"{_triple(r, 'final_heading_rad', 3):>14}  {_triple(r, 'miss_rate'):>14}  "
            f"{_fmt(r.miss_rate_within_bound, 0):>7}  {_fmt(r.weighted_score, 3):>6}  "
            f"{_fmt(r.score, 3):>5}"
        )
    return "\n".join(lines)


@reader_errors_as_data_errors()
def run(args: argparse.Namespace) -> int:
    """Bad input is one line naming the file and field, exit status 2 (a ValueError or
    OSError of the readers as a DataError)."""
    from drivestack.core.progress import progress as progress_bar
    from drivestack.eval.driving.open_loop import (
        SCORE_WEIGHTS,
        OpenLoopParams,
        mean_score,
        open_loop_result,
        scored_drives,
    )
    from drivestack.eval.driving.open_loop_logs import evaluate_av2_log
    from drivestack.sim.vehicle import VehicleParams

    check_out_dir(args.out)
    if args.dataset == "commonroad":
        raise DataError(
            "CommonRoad scenarios give the ego's initial state and goal, not a recorded ego "
            "drive: there is no expert trajectory to compare with (use --dataset av2)",
            field="--dataset",
        )
    planners = _planners(args.planner)
    settings = _planner_params(args.planner_params)
    recorded = None if settings is None else settings.as_dict()
    if recorded is not None:
        del recorded["tracker"]
    root = dataset_root(args.dataset, args.root)
    # writes only metrics.json (the old run's listed folders removed when it is written)
    clear = check_eval_out(
        args.out,
        "planning",
        {
            "dataset": args.dataset,
            "root": Path(root),
            "settings": {"planners": planners, "planner_params": recorded},
        },
        args.overwrite,
    )
    logs = av2_log_dirs(root)
    params = OpenLoopParams()
    per_log: list[dict[str, Any]] = []
    rows: list[tuple[str, str, Any]] = []
    results: dict[str, list[Any]] = {p: [] for p in planners}
    pooled: dict[str, list[Any]] = {p: [] for p in planners}
    bar = progress_bar(total=len(logs), desc="eval planning av2", unit="log", disable=args.quiet)
    with bar:
        for log_dir in logs:  # one log at a time
            run_ = evaluate_av2_log(log_dir, planners, params, settings)
            short = run_.name[:8]
            entry: dict[str, Any] = {
                "log": run_.name,
                "path": run_.log_dir,
                "span_s": run_.span_s,
                "route_lanes": run_.route_lanes,
                "instants_s": run_.instants_s,
                "planners": {},
            }
            for planner in planners:
                errors = run_.errors[planner]
                result = open_loop_result(errors, params)
                results[planner].append(result)
                pooled[planner].extend(errors)
                rows.append((planner, short, result))
                entry["planners"][planner] = {
                    **result.as_dict(),
                    "stop_reasons": run_.stop_reasons[planner],
                    "instants": [
                        {
                            "time_s": e.time_s,
                            "displacement_m": e.displacement_m,
                            "heading_error_rad": e.heading_error_rad,
                        }
                        for e in errors
                    ],
                }
            per_log.append(entry)
            bar.update()
    overall: dict[str, Any] = {}
    for planner in planners:
        # pooled instants: errors and miss rates over every instant; no OLS of their own
        pooled_result = replace(
            open_loop_result(pooled[planner], params),
            scores=None,
            weighted_score=None,
            miss_rate_within_bound=None,
            score=None,
        )
        score = mean_score(results[planner])
        # the table's "all" row: errors over every instant, the OLS the mean of the logs'
        rows.append((planner, "all", replace(pooled_result, score=score)))
        overall[planner] = {
            "score": score,
            "logs": len(results[planner]),
            "logs_scored": scored_drives(results[planner]),
            "pooled_instants": pooled_result.as_dict(),
        }
    scored = scored_drives(results[planners[0]])  # the same logs for every planner
    longest = params.horizons_s[-1]
    coverage = (
        f"OLS over {scored} of {len(logs)} logs ({len(logs) - scored} too short for the "
        f"{longest:g} s horizon)"
    )
    notes = [
        "open loop: each plan starts from the recorded ego state and is compared with the "
        "recorded drive; the plans are never driven",
        "an instant counts for a horizon only when the recording covers it; the mean over "
        "the horizons is the mean of the per-horizon means",
        f"{len(logs)} log(s): a small sample; instants of one log overlap in time and are "
        "not independent",
        "rows 'all': errors and miss rates over every instant of every log; their OLS is the "
        "mean of the logs' scores (nuPlan's challenge score); metrics.json's pooled_instants "
        "have no scores (null)",
    ]
    result_json = {
        "dataset": args.dataset,
        "root": resolved(root),
        "settings": {
            "planners": planners,
            # every --planner-params value the run read (null without), and its file
            "planner_params": recorded,
            "planner_params_file": resolved(args.planner_params)
            if args.planner_params is not None
            else None,
            "horizons_s": params.horizons_s,
            "sample_interval_s": params.sample_interval_s,
            "max_average_l2_error_m": params.max_average_l2_error_m,
            "max_final_l2_error_m": params.max_final_l2_error_m,
            "max_average_heading_error_rad": params.max_average_heading_error_rad,
            "max_final_heading_error_rad": params.max_final_heading_error_rad,
            "miss_thresholds_m": params.miss_thresholds_m,
            "max_miss_rate": params.max_miss_rate,
            "score_weights": SCORE_WEIGHTS,
            "center_offset_m": (
                VehicleParams() if settings is None else settings.vehicle
            ).center_offset_m,
        },
        **run_provenance(),
        "logs": per_log,
        "overall": overall,
        "notes": notes,
    }
    print(format_table(rows, params.horizons_s))
    print(coverage)
    for planner in planners:
        print(f"  {planner}: OLS over the logs (mean) {_fmt(overall[planner]['score'], 3)}")
    for note in notes:
        print(f"note: {note}")
    write_eval_metrics(args.out, "planning", result_json, clear)
    print(f"wrote {args.out / 'metrics.json'}")
    if scored == 0:
        span = max(e["span_s"] for e in per_log)
        print(
            f"no log was scored: an OLS needs a recording of at least the {longest:g} s "
            f"horizon and the longest of the {len(logs)} log(s) spans {span:.2f} s",
            file=sys.stderr,
        )
        return 1
    return 0
