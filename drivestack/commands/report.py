"""One self-contained HTML report of a run folder, optionally against a baseline run.

Examples:
  drivestack report runs/regression --out report.html
  drivestack report runs/fleet_today --baseline runs/fleet_last_week --out report.html

RUN_DIR may be a `drivestack sim` or `drivestack fleet` output (scenario table, per-scenario
views, sweep aggregation) and may hold `drivestack eval tracking` / `eval detection` results
(OUT/metrics.json or a subfolder's), shown beside the published anchors of
PUBLISHED_RESULTS.md. Regressions against --baseline (newly failing runs, scores that dropped)
are highlighted. The report data is also written as JSON next to the HTML (.json).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("run_dir", type=Path, help="run folder to report on")
    parser.add_argument("--baseline", type=Path, help="run folder to compare against")
    parser.add_argument("--out", type=Path, required=True, help="HTML file to write")
    parser.add_argument(
        "--published",
        type=Path,
        help="published results (default: PUBLISHED_RESULTS.md of the shared data folder)",
    )
    parser.add_argument(
        "--data-root", type=Path, help="shared data folder (maps of CommonRoad scenarios)"
    )
    parser.add_argument(
        "--max-detail",
        type=int,
        default=24,
        help="runs with bird's-eye and signal plots (default 24)",
    )
    parser.add_argument(
        "--score-tolerance",
        type=float,
        default=1.0,
        help="score drop (points) that counts as a regression",
    )


def run(args: argparse.Namespace) -> int:
    from drivestack.commands._paths import default_shared_data
    from drivestack.report import build_report, write_report

    start = time.perf_counter()
    shared = default_shared_data()
    published = args.published
    if published is None and shared is not None and (shared / "PUBLISHED_RESULTS.md").exists():
        published = shared / "PUBLISHED_RESULTS.md"
    for name, folder in (("run folder", args.run_dir), ("baseline", args.baseline)):
        if folder is not None and not Path(folder).is_dir():
            print(f"error: {name} {folder} is not a folder", file=sys.stderr)
            return 2
    report = build_report(
        args.run_dir,
        args.baseline,
        published=published,
        data_root=args.data_root or shared,
        max_detail=args.max_detail,
        score_tolerance=args.score_tolerance,
    )
    html, js = write_report(report, args.out)
    d = report.data
    c = d["counts"]
    print(
        f"{d['run']['kind']} run: {c['total']} runs, {c['pass']} passed, {c['fail']} failed, "
        f"{c['crashed']} crashed, {c['corrupt']} corrupt, {c['missing']} missing metrics"
    )
    if d["comparison"] is not None:
        cmp_ = d["comparison"]
        print(
            f"against {d['baseline']['path']}: {cmp_['common']} in common, "
            f"{len(cmp_['regressions'])} regressions, {len(cmp_['improvements'])} improvements, "
            f"{len(cmp_['only_in_run'])} only here, {len(cmp_['only_in_baseline'])} only in the baseline"
        )
    for p in d["problems"][:10]:
        print(f"problem: {p}")
    print(
        f"wrote {html} ({html.stat().st_size / 1e6:.2f} MB) and {js} "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return 0
