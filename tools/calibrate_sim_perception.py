#!/usr/bin/env python3
"""Calibrate the LiDAR detector's Car score for the simulated sensor (domain calibration).

The shipped classifier's score weights were fitted on real KITTI scans, where most cars are
seen from the side; the simulator's ray-cast LiDAR sees meshes, and closed-loop tests put the
critical car straight ahead. This tool renders frames from *randomly swept* variants of the
scenario families (seeded random sweeps: speeds and positions differ from the regression
suite's fixed cases), runs the detector with every box kept, matches Car boxes to the labels
(BEV IoU >= 0.5) and refits the Car score weights (Platt), writing
``configs/perception/lidar_sim.yaml``: the base config (``--base``, default the KITTI config)
with those weights and the simulated sensor's own settings (:func:`sim_sensor_config`): the
ground model's sensor height is the simulated LiDAR's mounting height (the KITTI Velodyne sits
at 1.73 m, the simulated one at the height of ``drivestack.sim.perceived.default_lidar``), the
de-duplication of split boxes is on, and ``datasets: [sim]``. The detector is fitted with
exactly these settings. ``--base configs/perception/lidar_sim.yaml`` refits only the Car score
weights of the shipped simulated-sensor config on today's simulator.

    .venv/bin/python tools/calibrate_sim_perception.py [--variants 4] [--every 5] [--base YAML]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from drivestack.cli import report_user_errors
from drivestack.commands._paths import check_out_file, int_at_least, seed_int

REPO = Path(__file__).resolve().parents[1]
FAMILIES = ("ccrs", "ccrm", "ccrb", "cut_in", "cut_out", "stop_and_go", "curve_lead", "merge")


def _perturbed(scenario, rng):  # type: ignore[no-untyped-def]
    """The scenario with the ego speed scaled by U(0.75, 1.25) and every agent moved by
    U(-10, 10) m along its lane: other speeds and distances than the regression suite's."""
    from drivestack.sim.config_loader import from_mapping
    from drivestack.sim.scenario import ScenarioConfig

    data = dataclasses.asdict(scenario)
    data["name"] = f"{scenario.name}~calibration"
    if data["ego"].get("speed_kph") is not None:
        data["ego"]["speed_kph"] *= float(rng.uniform(0.75, 1.25))
    for agent in data.get("agents", []):
        if agent.get("station_m") is not None:
            agent["station_m"] += float(rng.uniform(-10.0, 10.0))
    return from_mapping(ScenarioConfig, _plain(data), "<calibration variant>")


def _plain(value):  # type: ignore[no-untyped-def]
    """asdict output back to YAML-like values (tuples as lists, enums by value)."""
    import enum

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def sim_sensor_config(base, sensor_height_m: float):  # type: ignore[no-untyped-def]
    """The KITTI detector config with the simulated sensor's settings (see the module doc)."""
    return dataclasses.replace(
        base,
        ground=dataclasses.replace(base.ground, sensor_height_m=sensor_height_m),
        dedup=dataclasses.replace(base.dedup, enabled=True),
    )


def sim_config_text(
    kitti_text: str, weights: np.ndarray, sensor_height_m: float, dedup: object
) -> str:
    """A base detector config's text (``lidar_kitti.yaml``'s by default) without its header
    comment, with the Car score weights, the ground's sensor height, ``datasets: [sim]`` and a
    ``dedup`` section (replacing any there) set for the simulated sensor."""
    lines = kitti_text.splitlines()
    while lines and lines[0].startswith("#"):  # the base sensor's header: replaced by ours
        del lines[0]
    # the data it is made for: the simulated LiDAR (a KITTI base names KITTI's datasets)
    datasets = [i for i, line in enumerate(lines) if line.startswith("datasets:")]
    if datasets:
        lines[datasets[0]] = "datasets: [sim]"
    else:
        lines.insert(0, "datasets: [sim]")
    car_weights = next(
        i for i, line in enumerate(lines) if line.strip().startswith("score_weights:")
    )
    indent = lines[car_weights].split("score_weights:")[0]
    lines[car_weights] = indent + "score_weights: [" + ", ".join(f"{w:.3f}" for w in weights) + "]"
    height = next(i for i, line in enumerate(lines) if line.strip().startswith("sensor_height_m:"))
    indent = lines[height].split("sensor_height_m:")[0]
    lines[height] = f"{indent}sensor_height_m: {sensor_height_m:g}  # the simulated LiDAR's mount"
    if any(line.startswith("dedup:") for line in lines):  # drop the base's own section
        start = next(i for i, line in enumerate(lines) if line.startswith("dedup:"))
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i] and not lines[i][0].isspace()),
            len(lines),
        )
        while start > 0 and lines[start - 1].startswith("#"):  # and the comment above it
            start -= 1
        del lines[start:end]
    lines.append("# split boxes of one car (a car straight ahead seen as two clusters) joined")
    lines.append("dedup:")
    for field in dataclasses.fields(dedup):  # type: ignore[arg-type]
        value = getattr(dedup, field.name)
        lines.append(f"  {field.name}: {str(value).lower() if isinstance(value, bool) else value}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Fit and write the config; bad input prints one ``error: ...`` line and returns 2."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--variants", type=int_at_least(1), default=4, help="random variants per family (>= 1)"
    )
    parser.add_argument(
        "--every", type=int_at_least(1), default=5, help="render every Nth tick (>= 1)"
    )
    parser.add_argument("--seed", type=seed_int, default=2026, help="in [0, 2**63)")
    parser.add_argument("--out", type=Path, default=REPO / "configs/perception/lidar_sim.yaml")
    parser.add_argument(
        "--base",
        type=Path,
        default=REPO / "configs/perception/lidar_kitti.yaml",
        help="the detector config whose Car score weights are refitted (default: the KITTI "
        "config; configs/perception/lidar_sim.yaml refits only the shipped config's weights)",
    )
    args = parser.parse_args(argv)
    return report_user_errors(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    check_out_file(args.out, what="the config's file name")  # before the minutes of rendering

    from drivestack.core.frames import EGO
    from drivestack.kernels import box_iou_bev
    from drivestack.perception.lidar.classify import fit_score_weights
    from drivestack.perception.lidar.config import load_lidar_detector_config
    from drivestack.perception.lidar.detector import LidarDetector
    from drivestack.sim.build import build_scenario
    from drivestack.sim.evaluate import run_scenario
    from drivestack.sim.perceived import default_lidar
    from drivestack.sim.record import sensor_frames
    from drivestack.sim.scenario import load_scenarios
    from drivestack.sim.sensors import SensorScene
    from drivestack.structures.labels import ObjectClass

    sensor_height_m = round(float(default_lidar().ego_from_lidar.translation[2]), 3)
    base = sim_sensor_config(load_lidar_detector_config(args.base), sensor_height_m)
    keep_all = dataclasses.replace(
        base, classify=dataclasses.replace(base.classify, keep_unknown=True, min_score=0.0)
    )
    detector = LidarDetector(keep_all)
    lidar = dataclasses.replace(default_lidar(), seed=args.seed)  # other noise than the loop's
    rng = np.random.default_rng(args.seed)
    features, truth = [], []
    for family in FAMILIES:
        cases = load_scenarios(REPO / "configs/scenarios" / f"{family}.yaml")
        for index in rng.choice(len(cases), size=min(args.variants, len(cases)), replace=False):
            scenario = _perturbed(cases[int(index)], rng)
            built = build_scenario(scenario)
            result = run_scenario(built, "pdm", max_steps=int(rng.integers(60, 120)))
            scene = SensorScene.from_road_map(built.road_map, seed=args.seed)
            for frame in sensor_frames(result.history, scene, lidar, every=args.every):
                detection = detector.detect(frame)
                boxes = detection.boxes
                assert boxes.frame == EGO
                car = boxes.label == int(ObjectClass.CAR)
                labels = frame.labels.select(
                    np.isin(frame.labels.label, [int(ObjectClass.CAR), int(ObjectClass.VAN)])
                )
                hit = np.zeros(int(car.sum()), dtype=bool)
                if len(labels) and car.any():
                    iou = box_iou_bev(boxes.select(car).to_array7(), labels.to_array7())
                    hit = iou.max(axis=1) >= 0.5
                features.append(detection.score_features[car])
                truth.append(hit)
            print(
                f"{scenario.name}: {sum(len(t) for t in truth)} car boxes so far, {int(sum(t.sum() for t in truth))} true"
            )
    x, y = np.concatenate(features), np.concatenate(truth)
    weights = fit_score_weights(x, y)
    text = args.base.read_text()
    header = (
        f"# LiDAR detector for drivestack's simulated sensor: {_shown(args.base)} with the\n"
        f"# Car score weights refitted by tools/calibrate_sim_perception.py (seed {args.seed}, {len(y)} car boxes,\n"
        f"# {int(y.sum())} true) on randomly swept scenario variants rendered by the ray-cast LiDAR, the\n"
        "# simulated LiDAR's mounting height for the ground model and de-duplication of split boxes.\n"
    )
    args.out.write_text(header + sim_config_text(text, weights, sensor_height_m, base.dedup))
    print(
        f"car score weights {np.round(weights, 3).tolist()} from {len(y)} boxes ({int(y.sum())} true); wrote {args.out}"
    )
    return 0


def _shown(path: Path) -> str:
    """``path`` relative to the repository when inside it (as the header names configs)."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
