"""Fleet and report figures (issue 8): 1 vs 2 workers, Ray vs the local pool, report time/size.

Runs the real commands as a user would (wall clock of the whole command, start-up included):
  drivestack fleet --suite SUITE --sweep ... --workers 1            (local pool)
  drivestack fleet --suite SUITE --sweep ... --workers 2            (local pool)
  drivestack fleet --suite SUITE --sweep ... --workers 2 --executor ray
  drivestack report <the 2-worker run> --out report.html
and prints one table with the ratios. The load average before each command and each
command's CPU seconds are printed too: these machines are shared, so absolute wall seconds
move with the other users.

Example (34 regression variants, full scenario length):
  .venv/bin/python tools/bench_fleet.py --variants 1 --out /tmp/bench_fleet
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from drivestack.cli import report_user_errors
from drivestack.commands._paths import check_out_dir, int_at_least
from drivestack.core.errors import DataError

REPO = Path(__file__).resolve().parents[1]
RUNS = {
    "local1": ["--workers", "1"],
    "local2": ["--workers", "2"],
    "ray2": ["--workers", "2", "--executor", "ray"],
}


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(cmd: list[str], cpu: dict[str, float] | None = None, name: str = "") -> float:
    """Wall seconds of ``cmd``; its CPU seconds (the command and the worker processes it
    waited for; not Ray's workers) go to ``cpu[name]``."""
    load = os.getloadavg()[0]
    print(f"$ {' '.join(cmd)}   (load average {load:.1f})", flush=True)
    cpu0 = _children_cpu_s()
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO)
    if done.returncode != 0:  # the command said why on stderr
        raise DataError(f"drivestack {cmd[3]} failed (exit status {done.returncode}); see above")
    wall = time.perf_counter() - start
    used = _children_cpu_s() - cpu0
    if cpu is not None:
        cpu[name] = used
    print(f"  -> {wall:.1f} s wall, {used:.1f} s CPU", flush=True)
    return wall


def _configs(text: str) -> list[str]:
    """An argparse ``type`` for ``--configs``: known run names, comma-separated."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in RUNS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"expected run names of {', '.join(RUNS)}, comma-separated; got {text!r}"
        )
    return names


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; bad input prints one ``error: ...`` line and returns 2."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="configs/suites/regression.yaml")
    parser.add_argument("--planner", default="pdm")
    parser.add_argument("--sweep", action="append", default=None, help="as drivestack fleet")
    parser.add_argument("--variants", type=int_at_least(1), default=1)
    parser.add_argument("--max-steps", type=int_at_least(1))
    parser.add_argument(
        "--configs", type=_configs, default="local1,local2,ray2", help="which runs, in order"
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    return report_user_errors(lambda: _bench(args))


def _bench(args: argparse.Namespace) -> int:
    args.out = check_out_dir(args.out.absolute())  # (the commands run in the checkout)
    if not (REPO / args.suite).is_file():
        raise DataError("no such suite file", path=str(args.suite), field="--suite")
    sweep = args.sweep or ["ego.speed_kph=20:70"]
    base = [sys.executable, "-m", "drivestack.cli", "fleet", "--suite", args.suite,
            "--planner", args.planner, "--variants", str(args.variants), "--quiet"]  # fmt: skip
    for s in sweep:
        base += ["--sweep", s]
    if args.max_steps:
        base += ["--max-steps", str(args.max_steps)]
    walls: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for name in args.configs:
        out = args.out / name
        if out.exists():
            shutil.rmtree(out)
        walls[name] = _run([*base, *RUNS[name], "--out", str(out)], cpu, name)
    n = sum(1 for _ in (args.out / next(iter(walls)) / "fleet.jsonl").open())
    report_run = args.out / ("local2" if "local2" in walls else next(iter(walls)))
    html = args.out / "report.html"
    report_s = _run([sys.executable, "-m", "drivestack.cli", "report", str(report_run),
                     "--out", str(html)])  # fmt: skip
    result = {
        "variants": n,
        "wall_s": walls,
        "s_per_variant": {k: v / n for k, v in walls.items()},
        # on a shared machine CPU seconds move less with the other users than wall seconds
        "cpu_s": cpu,
        "cpu_s_per_variant": {k: v / n for k, v in cpu.items()},
        "report_s": report_s,
        "report_mb": html.stat().st_size / 1e6,
    }
    if "local1" in walls and "local2" in walls:
        result["scaling_1_to_2_workers"] = walls["local1"] / walls["local2"]
    if "ray2" in walls and "local2" in walls:
        result["ray2_over_local2"] = walls["ray2"] / walls["local2"]
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
