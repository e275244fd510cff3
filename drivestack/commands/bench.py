"""Benchmarks: drivestack against its peers, side by side in one run, with ratios.

  drivestack bench kernels [--quick] [--repeats N] [--json out.json]
  drivestack bench perception [--dataset kitti-tracking] [--max-frames N] [--json out.json]

Timings are medians of repeats; the ratio column is each implementation's time over
drivestack's default route (> 1 means drivestack is faster). The machine is shared and
noisy: compare ratios, not absolute milliseconds. An option of one benchmark given to the
other (``--config`` to kernels, ``--repeats`` to perception, ...) is an error, not ignored.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from drivestack.commands._paths import check_out_dir, default_shared_data, positive_int
from drivestack.core.errors import DataError
from drivestack.eval.detection.datasets import DATASETS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "suite",
        metavar="BENCHMARK",
        choices=list(SUITE_OPTIONS),
        help="which benchmark to run: kernels (the geometry kernels beside shapely, open3d and "
        "NumPy) or perception (the LiDAR stage beside the open3d baseline)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller problem sizes (about 4x less work)"
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=None,
        help="kernels: timed repeats of drivestack's implementations (median reported; slow peers "
        "run half as many; never fewer than 2; the table's runs column says how many ran; default 5)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="kernels: seed of the generated scene (default 0)"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="also write the results as JSON here (perception: with the resolved detector "
        "config, drivestack_version, git_commit and command, as eval's metrics.json)",
    )
    parser.add_argument(
        "--dataset",
        default=None,
        choices=DATASETS,
        help="perception: dataset of the scans (default kitti-tracking)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="perception: dataset folder (default under ../shared/data)",
    )
    parser.add_argument("--config", type=Path, default=None, help="perception: LiDAR detector YAML")
    parser.add_argument(
        "--max-frames",
        type=positive_int,
        default=None,
        help="perception: scans to time (default 20)",
    )
    parser.add_argument(
        "--kitti-object",
        type=Path,
        default=None,
        help="kernels: KITTI object folder with training/velodyne/*.bin (default: "
        "../shared/data/kitti_object if present)",
    )


#: The options of one benchmark only: refused with the other (it would ignore them).
SUITE_OPTIONS = {
    "kernels": ("quick", "repeats", "seed", "kitti_object"),
    "perception": ("dataset", "root", "config", "max_frames"),
}


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
    for suite, names in SUITE_OPTIONS.items():
        # unset is None (or False for a flag); `is not`, as `--seed 0` equals False
        given = [
            f"--{n.replace('_', '-')}"
            for n in names
            if (value := getattr(args, n)) is not None and value is not False
        ]
        if suite != args.suite and given:
            raise DataError(
                f"only for drivestack bench {suite} (not {args.suite})", field=", ".join(given)
            )
    if args.json is not None:  # checked before minutes of timing, not after them
        if args.json.is_dir():
            raise DataError("is a directory; give a file name", path=str(args.json), field="--json")
        check_out_dir(args.json.parent, "--json")
    if args.suite == "perception":
        return _run_perception(args)
    from drivestack.bench import kernels
    from drivestack.bench.timing import MIN_REPEATS

    repeats = 5 if args.repeats is None else args.repeats
    kitti = args.kitti_object
    if kitti is not None and not kitti.is_dir():
        raise DataError("no such folder", path=str(kitti), field="--kitti-object")
    if kitti is None:
        shared = default_shared_data()
        kitti = (
            shared / "kitti_object"
            if shared is not None and (shared / "kitti_object").is_dir()
            else None
        )
    print(
        f"drivestack bench kernels: quick={args.quick} repeats={max(repeats, MIN_REPEATS)} (slow peers fewer: see runs) kitti={kitti or 'not found'}"
    )
    kernels.run(
        quick=args.quick,
        repeats=repeats,
        seed=0 if args.seed is None else args.seed,
        kitti_object_dir=kitti,
        json_path=args.json,
    )
    return 0


def _run_perception(args: argparse.Namespace) -> int:
    from drivestack.bench import perception
    from drivestack.commands._paths import dataset_root, detector_config

    dataset = args.dataset or "kitti-tracking"
    root = dataset_root(dataset, args.root)
    config = detector_config(dataset, args.config)
    perception.run(
        dataset=dataset,
        root=root,
        config=config,
        max_frames=20 if args.max_frames is None else args.max_frames,
        json_path=args.json,
    )
    return 0
