"""One self-contained HTML report of a run folder, optionally against a baseline run.

Examples:
  drivestack report runs/regression --out report.html
  drivestack report runs/fleet_today --baseline runs/fleet_last_week --out report.html

RUN_DIR may be a `drivestack sim` or `drivestack fleet` output (scenario table, per-scenario
views, sweep aggregation) and may hold `drivestack eval tracking` / `eval detection` results
(OUT/metrics.json or a subfolder's; a `--fusion camera` tracking run shows its LiDAR-only and
fused rows), shown beside the published anchors of PUBLISHED_RESULTS.md. A sim run or fleet
variant that raised (its error.json, a "crashed" index record) is a crashed row. Regressions
against --baseline are highlighted: newly failing runs, scores that dropped, tracking
sAMOTA/MOTA and detection APs that dropped by more than --score-tolerance points. Detection
results are compared (per class, KITTI difficulty or distance threshold, and metric: this run,
the baseline, the difference) only when both are of the same dataset and protocol (settings
included); otherwise a warning says they are not comparable, and a warning says when they
were not scored on the same frames (e.g. another --max-frames).

RUN_DIR may also hold `drivestack eval detection2d` results (a 2D AP table per class and IoU
threshold, with the counts of its metrics.json) and `drivestack eval prediction` results (tables per class group and
motion, ADE against horizon, settings, a learned model's checkpoint) and `drivestack eval
planning` results (nuPlan open-loop errors, score parts and OLS per planner and log, L2 error
against horizon, per-instant errors along each log). Against a baseline of the same settings
(prediction: dataset, split, pasts, history, horizon, stride, fit window, miss and moving
thresholds, but not the tracker config of a --pasts tracks run; planning: dataset and nuPlan
settings), a forecast FDE at the horizon or a
planner's ADE that rose by more than --error-tolerance-m, a miss rate that rose or an OLS
that dropped by more than --score-tolerance points, is a regression (falls / rises by as
much: improvements); results of other settings are not compared (a warning says why). A
metrics.json of no known kind is a problem line (refused when it is all the folder holds).

RUN_DIR may also be a `drivestack replay` output folder (RUN.summary.json beside RUN.mcap, in
the folder or a direct subfolder): the run, its stage times, detections and forecasts against
the log's labels and, for a KITTI tracking log, its tracking (3D MOT) and detection (AP)
scores of the frames replayed in the tracking and detection tables. A `drivestack sim
--perception lidar` run also gets a perception and tracking table per planner (its
summary.json perception_metrics: AP, recall, precision, MOTA, MOTP, IDS).
The report data is also written as JSON next to the HTML (.json).
Warnings and problems are printed on stderr, the summary and what was written on stdout.
Exit status: 0, also when everything found is corrupt (the first line says "nothing readable
to report", the problems name each file and field); with --fail-on-regression, 1 when the
comparison with --baseline found a regression of any kind (the gate a CI job needs); 2 for
bad input (a folder with nothing to report, a bad --out).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from drivestack.commands._paths import check_out_dir, int_at_least, non_negative_number

PUBLISHED_NAME = "PUBLISHED_RESULTS.md"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from drivestack.report.defaults import (
        DEFAULT_ERROR_TOLERANCE_M,
        DEFAULT_MAX_DETAIL,
        DEFAULT_SCORE_TOLERANCE,
    )

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("run_dir", type=Path, help="run folder to report on")
    parser.add_argument(
        "--baseline", type=Path, help="run folder to compare against (default: none)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="HTML file to write (the JSON is written beside it, .json)",
    )
    parser.add_argument(
        "--published",
        type=Path,
        help=f"published results (default: {PUBLISHED_NAME} of --data-root, else of the "
        "shared data folder)",
    )
    parser.add_argument(
        "--data-root",
        type=Path,
        help="shared data folder: the maps of CommonRoad / Lanelet2 / OpenDRIVE scenarios, the "
        f"Argoverse 2 logs and {PUBLISHED_NAME} (default: ../shared/data or "
        "$DRIVESTACK_SHARED_DATA)",
    )
    parser.add_argument(
        "--max-detail",
        type=int_at_least(0),
        default=DEFAULT_MAX_DETAIL,
        help="runs with bird's-eye and signal plots, at least 0 (default: %(default)s)",
    )
    parser.add_argument(
        "--score-tolerance",
        type=non_negative_number,
        default=DEFAULT_SCORE_TOLERANCE,
        help="score drop (points of 0-100: sim scores, sAMOTA/MOTA, APs, open-loop OLS) or "
        "forecast miss-rate rise (percentage points) that counts as a regression, at least 0 "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--error-tolerance-m",
        type=non_negative_number,
        default=DEFAULT_ERROR_TOLERANCE_M,
        help="rise (metres) of a forecast's FDE at the horizon or a planner's open-loop ADE "
        "that counts as a regression, at least 0 (default: %(default)s)",
    )
    parser.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 when the comparison with --baseline found a regression of any kind "
        "(default: exit 0 whatever the report found)",
    )


def resolve_published(given: Path | None, shared: Path | None) -> tuple[Path | None, str]:
    """The published results file to show (``--published``, else the one in ``shared``: the
    ``--data-root`` given, else the default shared data folder) and, when there is none, why
    (empty when there is one)."""
    if given is not None:
        return given, ""
    if shared is None:
        return None, (
            "no --data-root given and no shared data folder (../shared/data or "
            "$DRIVESTACK_SHARED_DATA)"
        )
    if not (shared / PUBLISHED_NAME).exists():
        return None, f"{shared / PUBLISHED_NAME} not found"
    return shared / PUBLISHED_NAME, ""


def _check_folders(args: argparse.Namespace) -> bool:
    """Print an error and return False when the run folder, the baseline or ``--data-root`` is
    not a folder."""
    folders = (("run folder", args.run_dir), ("baseline", args.baseline))
    for name, folder in (*folders, ("--data-root", args.data_root)):
        if folder is not None and not Path(folder).is_dir():
            print(f"error: {name} {folder} is not a folder", file=sys.stderr)
            return False
    return True


def _check_out_file(out: Path) -> None:
    """``--out``: an HTML file to write, checked before any work: not a directory (nor the
    JSON written beside it), its folder one that can be made and written
    (:func:`~drivestack.commands._paths.check_out_dir`).

    Raises:
        DataError: naming ``--out`` (one line, exit status 2).
    """
    from drivestack.core.errors import DataError

    if out.is_dir():
        raise DataError("is a directory (give an .html file path)", path=f"--out {out}")
    beside = out.with_suffix(".json")
    if beside.is_dir():
        raise DataError(
            f"{beside} is a directory, and the report writes its JSON there: move it or give "
            "another --out",
            path=f"--out {out}",
        )
    check_out_dir(out.parent, "--out")


def _results_held(d: dict[str, Any]) -> str:
    """What an eval folder's results are: ``detection results of kitti-tracking``,
    ``tracking results of val`` (the splits / datasets they record), joined by "and"."""
    replays = [r["file"] for r in d.get("replay") or []]
    parts = [f"{len(replays)} log replay(s) ({', '.join(replays)})"] if replays else []
    for kind, key in (
        ("tracking", "split"),
        ("detection", "dataset"),
        ("detection2d", "source"),
        ("prediction", "dataset"),
        ("planning", "dataset"),
    ):
        if d.get(kind):
            names = sorted({str(r[key]) for r in d[kind] if r.get(key)})
            what = {"planning": "open-loop planning", "detection2d": "2D detection"}.get(kind, kind)
            # names such as "train, frames 74-153" hold commas themselves
            joint = "; " if any("," in name for name in names) else ", "
            parts.append(f"{what} results" + (f" of {joint.join(names)}" if names else ""))
    return " and ".join(parts)


def summary_lines(d: dict[str, Any]) -> list[str]:
    """The lines the command prints about a report's data (before the files it wrote)."""
    c = d["counts"]
    if all_corrupt(d):
        lines = [
            f"{d['run']['kind']} run: nothing readable to report: {c['corrupt']} corrupt "
            "result(s), named in the problems below"
        ]
    elif c["total"] == 0 and _has_results(d):  # an eval folder: no sim runs
        lines = [
            f"{d['run']['kind']} run: {_results_held(d)}"
            + (f"; {c['corrupt']} corrupt" if c["corrupt"] else "")
        ]
    else:
        lines = [
            f"{d['run']['kind']} run: {c['total']} runs, {c['pass']} passed"
            + (f" ({c['unexpected_pass']} unexpectedly)" if c.get("unexpected_pass") else "")
            + (
                f" ({c['known_failure_not_evaluated']} listed as known failures, not evaluated: "
                "run cut short)"
                if c.get("known_failure_not_evaluated")
                else ""
            )
            + f", {c['fail']} failed, "
            + (f"{c['known_failure']} known failures, " if c.get("known_failure") else "")
            + f"{c['crashed']} crashed, {c['corrupt']} corrupt, {c['missing']} missing metrics"
            + (
                f"; {len(d['tracking'])} tracking and {len(d['detection'])} detection results"
                if d["tracking"] or d["detection"]
                else ""
            )
            + (f"; {_results_held({'replay': d['replay']})}" if d.get("replay") else "")
        ]
    if d["comparison"] is not None:
        lines.append(_comparison_line(d))
    lines += [f"warning: {w}" for w in d["warnings"]]
    lines += [f"problem: {p}" for p in d["problems"][:10]]
    return lines


def _comparison_line(d: dict[str, Any]) -> str:
    """The line about the baseline; the scenario run counts only where either folder holds
    sim or fleet runs."""
    cmp_ = d["comparison"]
    kinds = {d["run"]["kind"], d["baseline"]["kind"]}
    tracking = (
        f"{len(d['tracking_regressions'])} tracking metrics dropped, " if d["tracking"] else ""
    )
    compared = [c for c in d.get("detection_comparison") or [] if c["comparable"]]
    detection = (
        f"{len(d.get('detection_regressions') or [])} detection APs dropped, " if compared else ""
    )
    motion = "".join(
        f"{len(d.get(f'{kind}_regressions') or [])} {what} worse, "
        for kind, what in (("prediction", "forecast errors"), ("planning", "open-loop figures"))
        if any(c["comparable"] for c in d.get(f"{kind}_comparison") or [])
    )
    if "sim" not in kinds and "fleet" not in kinds:  # eval folders: no scenario runs to count
        return f"against {d['baseline']['path']}: " + (
            f"{tracking}{detection}{motion}".removesuffix(", ") or "no results compared"
        )
    return (
        f"against {d['baseline']['path']}: {cmp_['common']} runs in common, "
        f"{len(cmp_['regressions'])} scenario regressions, {tracking}{detection}{motion}"
        f"{len(cmp_['improvements'])} improvements, {len(cmp_['only_in_run'])} only here, "
        f"{len(cmp_['only_in_baseline'])} only in the baseline"
        + (
            f", {len(cmp_['not_comparable'])} not comparable (other params)"
            if cmp_.get("not_comparable")
            else ""
        )
        + (
            f", {len(cmp_['other_agents'])} not comparable (recorded agents run another way)"
            if cmp_.get("other_agents")
            else ""
        )
        + (
            f", {len(cmp_['other_config'])} with an edited scenario config"
            if cmp_.get("other_config")
            else ""
        )
    )


def run(args: argparse.Namespace) -> int:
    from drivestack.commands._paths import default_shared_data
    from drivestack.report import build_report, write_report

    start = time.perf_counter()
    if not _check_folders(args):
        return 2
    shared = args.data_root or default_shared_data()
    published, why_not = resolve_published(args.published, shared)
    _check_out_file(args.out)
    report = build_report(
        args.run_dir,
        args.baseline,
        published=published,
        data_root=shared,
        max_detail=args.max_detail,
        score_tolerance=args.score_tolerance,
        error_tolerance_m=args.error_tolerance_m,
    )
    html, js = write_report(report, args.out)
    for line in summary_lines(report.data):  # warnings and problems on stderr, as elsewhere
        print(line, file=sys.stderr if line.startswith(("warning: ", "problem: ")) else None)
    if published is None and report.data["tracking"]:
        print(f"note: published figures (AB3DMOT anchors) not shown: {why_not}; pass --published")
    print(
        f"wrote {html} ({html.stat().st_size / 1e6:.2f} MB) and {js} "
        f"in {time.perf_counter() - start:.1f} s"
    )
    if args.fail_on_regression and regression_count(report.data):
        return 1
    return 0


def regression_count(d: dict[str, Any]) -> int:
    """Regressions of every kind against the baseline (scenario runs, tracking, detection,
    prediction and open-loop planning figures); 0 without a baseline."""
    if d.get("comparison") is None:
        return 0
    kinds = ("tracking", "detection", "prediction", "planning")
    return len(d["comparison"]["regressions"]) + sum(
        len(d.get(f"{kind}_regressions") or []) for kind in kinds
    )


def all_corrupt(d: dict[str, Any]) -> bool:
    """Whether everything the report found is corrupt (no run, no readable result): the
    headline says so, the report is written all the same (its problems name each file and
    field; exit status 0, as for any folder it could report on)."""
    return d["counts"]["total"] == 0 and not _has_results(d) and d["counts"]["corrupt"] > 0


def _has_results(d: dict[str, Any]) -> bool:
    """Whether the report holds eval or replay results (tracking, detection, prediction,
    planning, log replays)."""
    return bool(
        d["tracking"]
        or d["detection"]
        or d.get("prediction")
        or d.get("planning")
        or d.get("replay")
        or d.get("detection2d")
    )
