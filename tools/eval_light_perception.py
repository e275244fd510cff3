"""How the camera's traffic-light reads hold up when the camera is not ideal.

Runs the regression suite's traffic-light scenarios (those tagged ``traffic_light``) closed
loop with ``--lights camera`` (the planners' ``unknown_light`` policy of ``drivestack sim
--lights camera``) under each camera preset of
:mod:`drivestack.sim.sensors.camera_effects` (``ideal``, ``day``, ``dusk``, ``night``) and
prints one table, a line per preset, pooled over the scenarios:

- ``raw acc``: the classifier's reads (:func:`~drivestack.perception.camera.traffic_light_state.classify_crop`)
  that match the true state, over the light-ticks looked at (the route's lights ahead within
  range);
- ``held acc`` / ``unknown``: the same of the held reads the planner gets (``hold_s``), and the
  share of them ``unknown``;
- ``inferred acc``: the states inferred for lights not read (their light-ticks in brackets);
- ``green@red raw`` / ``green@red held``: light-ticks read (held) ``green`` while the light is
  ``red`` -- the dangerous error; ``go@stop held``: held reads that mean go (``green`` or
  ``off``) while the light shows a stop state or yellow;
- ``red run``: the red lights the ego ran; ``score``: the mean scenario score.

``--json PATH`` writes the figures; ``--presets a,b`` or YAML paths choose the cameras (an
exposure sweep: YAML files of the day camera with ``exposure_gain`` 1 .. 1e-9, and a suite of
one scenario, e.g. ``red_light_stop``, as ``--suite``);
``--light-config`` another classifier YAML (default ``configs/perception/traffic_lights.yaml``).
Usage: ``.venv/bin/python tools/eval_light_perception.py [--planner pdm] [--presets ...]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.commands.fleet import data_root_of
from drivestack.exec.task import planner_for_lights
from drivestack.perception.camera.traffic_light_state import (
    DEFAULT_CONFIG_PATH,
    TrafficLightConfig,
    load_traffic_light_config,
)
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario, score_percent
from drivestack.sim.perceived import observers
from drivestack.sim.perceived_lights import CameraLightPerception, with_light_perception
from drivestack.sim.perception_metrics import LightStateMetrics
from drivestack.sim.scenario import load_suite
from drivestack.sim.sensors.camera_effects import PRESETS, load_camera_effects
from drivestack.structures.traffic_light import SIGNAL_STATES

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SUITE = REPO / "configs" / "suites" / "regression.yaml"
#: States at which a green read makes the ego go where it must stop.
STOP_STATES = ("red", "yellow", "red_yellow")


def reads_as(metrics: LightStateMetrics, truths: tuple[str, ...], seen: tuple[str, ...]) -> int:
    """Light-ticks of ``metrics`` (read, not inferred) perceived as one of ``seen`` while the
    truth was one of ``truths``."""
    rows = [SIGNAL_STATES.index(t) for t in truths]
    cols = [SIGNAL_STATES.index(t) for t in seen]
    return int(metrics.confusion[np.ix_(rows, cols)].sum())


def evaluate_preset(
    preset: str,
    planner: str,
    suite: Path,
    data_root: Path | None,
    light_config: TrafficLightConfig | None = None,
) -> dict[str, Any]:
    """Pooled light-perception and driving figures of ``planner`` over ``suite``'s
    traffic-light scenarios with the camera ``preset`` (a name or a YAML path) and the
    classifier ``light_config`` (default: the shipped one)."""
    effects = load_camera_effects(preset)
    scenarios = [s for s in load_suite(suite)[1] if "traffic_light" in s.tags]
    raw, held = LightStateMetrics(), LightStateMetrics()
    scores, red_run = [], 0
    for cfg in scenarios:
        built = with_light_perception(build_scenario(cfg, data_root), light_config, effects=effects)
        result = run_scenario(built, planner_for_lights(planner, built, "camera"), data_root)
        scores.append(score_percent(result.nuplan))
        red_run += result.red_light.count
        for observer in observers(built.world):
            if isinstance(observer, CameraLightPerception):
                raw.merge(observer.raw_metrics)
                held.merge(observer.metrics)
    held_result, raw_result = held.result(), raw.result()
    return {
        "preset": preset,
        "scenarios": [s.name for s in scenarios],
        "light_ticks": held_result["light_ticks"],
        "raw_accuracy": raw_result["accuracy"],
        "raw_unknown_share": raw_result["unknown_share"],
        "held_accuracy": held_result["accuracy"],
        "unknown_share": held_result["unknown_share"],
        "inferred_accuracy": held_result["inferred"]["accuracy"],
        "inferred_light_ticks": held_result["inferred"]["light_ticks"],
        "green_while_red_raw": reads_as(raw, ("red",), ("green",)),
        "green_while_red_held": reads_as(held, ("red",), ("green",)),
        "go_while_stop_held": reads_as(held, STOP_STATES, ("green", "off")),
        "red_lights_run": red_run,
        "mean_score": sum(scores) / len(scores) if scores else None,
        "raw_confusion": raw_result["confusion"],
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100.0 * value:.1f}%"


def table(rows: list[dict[str, Any]]) -> str:
    """The markdown table of :func:`evaluate_preset`'s rows."""
    head = (
        "| camera | light-ticks | raw acc | held acc | unknown | inferred acc | "
        "green@red raw | green@red held | go@stop held | red run | score |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in rows:
        lines.append(
            f"| {Path(r['preset']).stem} | {r['light_ticks']} | {_pct(r['raw_accuracy'])} | "
            f"{_pct(r['held_accuracy'])} | {_pct(r['unknown_share'])} | "
            f"{_pct(r['inferred_accuracy'])} ({r['inferred_light_ticks']}) | "
            f"{r['green_while_red_raw']} | {r['green_while_red_held']} | "
            f"{r['go_while_stop_held']} | {r['red_lights_run']} | "
            + ("-" if r["mean_score"] is None else f"{r['mean_score']:.1f}")
            + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE)
    parser.add_argument("--planner", default="pdm", choices=["pdm", "idm"])
    parser.add_argument(
        "--presets", default=",".join(PRESETS), help="comma-separated preset names or YAML paths"
    )
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--light-config", type=Path, default=DEFAULT_CONFIG_PATH)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    data_root = data_root_of(args.data_root)
    light_config = load_traffic_light_config(args.light_config)
    rows = []
    for preset in args.presets.split(","):
        start = time.perf_counter()
        rows.append(
            evaluate_preset(preset.strip(), args.planner, args.suite, data_root, light_config)
        )
        print(f"{preset}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    print(table(rows))
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
