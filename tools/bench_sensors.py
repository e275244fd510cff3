#!/usr/bin/env python3
"""LiDAR simulation benchmark: one 64 x 1800-ray sweep of a 30-agent scene.

Times, side by side in one run: open3d's bare ``cast_rays`` on the same rays (the floor),
drivestack's scene update (agent meshes) and its full sweep (rays, ground, noise, detection limit,
intensity, motion distortion, PointCloud). Medians of repeats; compare the ratio, not the milliseconds.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from drivestack.commands._paths import int_at_least
from drivestack.core.transforms import SE3
from drivestack.sim.sensors import LidarModel, SensorScene
from drivestack.structures import Boxes3D, ObjectClass


def median_ms(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return 1e3 * float(np.median(samples))


#: the most agents in the scene (each is a mesh the rays are cast against)
MAX_AGENTS = 10_000


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; bad options are an argparse error (exit status 2)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--agents",
        type=int_at_least(1, MAX_AGENTS),
        default=30,
        help=f"1 to {MAX_AGENTS} (default 30)",
    )
    parser.add_argument("--repeats", type=int_at_least(1), default=15)
    args = parser.parse_args(argv)
    import open3d as o3d

    rng = np.random.default_rng(0)
    boxes = np.zeros((args.agents, 7))
    boxes[:, :2] = rng.uniform(-40, 40, (args.agents, 2))
    boxes[:, 3:6] = [4.5, 1.9, 1.6]
    boxes[:, 2] = 0.8
    boxes[:, 6] = rng.uniform(-np.pi, np.pi, args.agents)
    labels = rng.choice(
        [ObjectClass.CAR, ObjectClass.TRUCK, ObjectClass.PEDESTRIAN, ObjectClass.CYCLIST],
        args.agents,
    )
    agents = Boxes3D.from_array7(boxes, "world", label=labels)
    model = LidarModel.from_preset("hdl64", SE3.from_xyz_yaw([0.0, 0.0, 1.73], 0.0))
    scene = SensorScene()
    scene.set_agents(agents)

    dirs, _, _ = model.ray_layout()
    rays = np.zeros((dirs.shape[0] * dirs.shape[1], 6), dtype=np.float32)
    rays[:, 2] = 1.73
    rays[:, 3:] = dirs.reshape(-1, 3)
    tensor = o3d.core.Tensor.from_numpy(rays)
    bare = median_ms(lambda: scene._dynamic.cast_rays(tensor), args.repeats)  # type: ignore[attr-defined]
    update = median_ms(lambda: scene.set_agents(agents), args.repeats)
    sweep = median_ms(lambda: model.scan(scene, SE3.identity(), 0, speed_mps=10.0), args.repeats)
    print(
        f"rays per sweep: {len(rays)} ({dirs.shape[1]} beams x {dirs.shape[0]} columns), agents: {args.agents}"
    )
    print(f"{'open3d cast_rays (bare)':<40} {bare:8.2f} ms   1.00x")
    print(f"{'drivestack scene update (meshes)':<40} {update:8.2f} ms")
    print(f"{'drivestack sweep (scan)':<40} {sweep:8.2f} ms   {sweep / bare:.2f}x of bare")
    print(f"{'drivestack update + sweep':<40} {update + sweep:8.2f} ms   (target <= 15 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
