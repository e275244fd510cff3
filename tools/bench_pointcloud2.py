"""PointCloud2 decoding: drivestack's structured-dtype view vs a generic dict route, side by side.

Both routes start from the raw CDR bytes of a ``sensor_msgs/msg/PointCloud2`` message (as a
bag stores them) built from a real KITTI odometry scan (x, y, z, intensity float32; 124k
points) and end with an ``(N, 3)`` finite xyz array plus per-point intensity:

- ``drivestack``: :func:`parse_pointcloud2_cdr` + :func:`decode_pointcloud2` (the reader's route);
- ``generic``: ``typestore.deserialize_cdr`` + ``dataclasses.asdict`` (the generic
  message-to-dict route for rosbags' dataclass messages) + one NumPy conversion per field
  (``frombuffer`` at the field offset with the point stride, copied to a column), then a
  stack of x, y, z and a finite filter.

Prints medians of interleaved repeats, the ratio and GB/s of point data (``width * point_step`` bytes).
Usage: ``.venv/bin/python tools/bench_pointcloud2.py [--scan PATH] [--repeats 30]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.typesys import Stores, get_typestore

from drivestack.cli import report_user_errors
from drivestack.commands._paths import int_at_least
from drivestack.core.errors import DataError
from drivestack.ingest.kitti_object import read_velodyne_bin
from drivestack.ingest.rosbag.pointcloud2 import (
    ROS_DATATYPES,
    decode_pointcloud2,
    parse_pointcloud2_cdr,
)
from drivestack.ingest.rosbag.writer import pointcloud2_message
from drivestack.structures.point_cloud import PointCloud

MSGTYPE = "sensor_msgs/msg/PointCloud2"
DEFAULT_SCAN = (
    Path(__file__).resolve().parents[2] / "shared/data/kitti_odometry_00/velodyne/000000.bin"
)


def generic_route(typestore: Any, raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    msg = typestore.deserialize_cdr(raw, MSGTYPE)
    d = dataclasses.asdict(msg)
    data = np.asarray(d["data"], dtype=np.uint8)
    n = d["width"] * d["height"]
    columns = {}
    for f in d["fields"]:
        dt = np.dtype((">" if d["is_bigendian"] else "<") + ROS_DATATYPES[f["datatype"]])
        view = np.ndarray(
            (n,), dtype=dt, buffer=data, offset=f["offset"], strides=(d["point_step"],)
        )
        columns[f["name"]] = np.array(view, dtype=dt.newbyteorder("="))
    xyz = np.stack([columns["x"], columns["y"], columns["z"]], axis=1)
    keep = np.isfinite(xyz).all(axis=1)
    return xyz[keep], columns["intensity"][keep]


def drivestack_route(typestore: Any, raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    # what the bag reader does for ROS 2 PointCloud2: parse the CDR layout, data stays a view
    cloud = decode_pointcloud2(parse_pointcloud2_cdr(raw)).cloud
    return cloud.xyz_m, cloud.attributes["intensity"]


def median_s(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def interleaved_medians_s(fns: list[Callable[[], object]], repeats: int) -> list[float]:
    """Median time of each function, run alternately so machine load hits all alike."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; bad input prints one ``error: ...`` line and returns 2."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scan", type=Path, default=DEFAULT_SCAN, help="KITTI .bin scan")
    parser.add_argument("--repeats", type=int_at_least(1), default=30)
    args = parser.parse_args(argv)
    return report_user_errors(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    # the reader's checks first (missing, truncated, non-finite: DataError naming the file)
    if len(read_velodyne_bin(args.scan).xyz_m) == 0:
        raise DataError("no points: nothing to time", path=str(args.scan), field="--scan")
    typestore = get_typestore(Stores.ROS2_HUMBLE)
    points = np.fromfile(args.scan, dtype=np.float32).reshape(-1, 4)
    msg = pointcloud2_message(
        typestore, points[:, :3], {"intensity": points[:, 3]}, frame_id="velodyne", stamp_ns=0
    )
    raw = bytes(typestore.serialize_cdr(msg, MSGTYPE))
    nbytes = msg.width * msg.point_step
    a_xyz, a_int = drivestack_route(typestore, raw)
    b_xyz, b_int = generic_route(typestore, raw)
    assert np.array_equal(a_xyz, b_xyz) and np.array_equal(a_int, b_int), "routes disagree"
    t_ds, t_gen = interleaved_medians_s(
        [lambda: drivestack_route(typestore, raw), lambda: generic_route(typestore, raw)],
        args.repeats,
    )
    cloud = decode_pointcloud2(typestore.deserialize_cdr(raw, MSGTYPE)).cloud
    t_validate = median_s(
        lambda: PointCloud(cloud.xyz_m, cloud.frame, cloud.timestamp_ns, cloud.attributes),
        args.repeats,
    )
    print(
        f"scan: {args.scan.name}, {msg.width} points x {msg.point_step} B = {nbytes / 1e6:.2f} MB"
    )
    print(f"{'route':<12}{'median ms':>12}{'GB/s':>10}")
    for name, t in (("drivestack", t_ds), ("generic", t_gen)):
        print(f"{name:<12}{t * 1e3:>12.3f}{nbytes / t / 1e9:>10.2f}")
    print(f"ratio generic/drivestack: {t_gen / t_ds:.1f}x (target >= 10x, >= 1 GB/s)")
    print(
        f"of drivestack's {t_ds * 1e3:.3f} ms, PointCloud construction (its finite check on the "
        f"zero-copy strided xyz view) takes {t_validate * 1e3:.3f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
