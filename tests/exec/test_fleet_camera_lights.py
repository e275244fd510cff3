"""Fleets with camera-perceived traffic lights (``--lights camera``, ``--light-camera``): the
variants record what a ``drivestack sim`` run records, each draws its own reproducible camera
noise, a resume with another camera is refused, and the summary pools the light figures."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.cli import main
from drivestack.exec.fleet import INDEX_NAME, MANIFEST_NAME, SUMMARY_NAME, read_index, run_fleet
from drivestack.exec.lights import (
    FleetLights,
    effects_seed,
    pool_light_results,
    pooled_light_perception,
)
from drivestack.exec.sweep import SweepSpec, expand_variants, parse_sweep_param
from drivestack.exec.task import VariantTask
from drivestack.sim.perceived_lights import light_camera_effects
from drivestack.sim.perception_metrics import LightStateMetrics
from drivestack.sim.scenario import load_scenarios
from drivestack.sim.sensors.camera_effects import load_camera_effects
from drivestack.structures.traffic_light import SIGNAL_STATES
from tests.exec.test_fleet_statuses import InlineExecutor

REPO = Path(__file__).resolve().parents[2]
RED_LIGHT_STOP = str(REPO / "configs" / "scenarios" / "red_light_stop.yaml")
# expert_progress_m only scales the progress score: the variants drive the same scenario, so
# what tells their camera reads apart is their camera noise alone
SAME_DRIVE = "expert_progress_m=172,173,174"
# a camera starved of light (2% ambient, gain 0.01, 5 electrons per unit radiance): the lit
# lamp's pixels are shot-noise limited, so the classifier's raw reads depend on the noise drawn
# (measured: 20, 17 and 16 of the 20 light-ticks read green for the three variants)
NOISY_CAMERA = """\
seed: 0
ambient_scale: 0.02
exposure_gain: 0.01
electrons_per_unit: 5.0
read_noise_e: 1.0
"""
#: metrics.json keys that depend on the machine's load (left out of comparisons).
TIMING = ("planner_step_median_ms", "sim_wall_s", "realtime_factor", "sim_only_realtime_factor",
          "light_perception_median_ms", "git_commit")  # fmt: skip


def _fleet(out: Path, *extra: str, command: str = "fleet", steps: int = 20) -> int:
    return main([command, RED_LIGHT_STOP, "--planner", "pdm", "--sweep", SAME_DRIVE,
                 "--max-steps", str(steps), "--executor", "local", "--workers", "1",
                 "--lights", "camera", *extra, "--out", str(out), "--quiet"])  # fmt: skip


def _inline(out: Path, camera: str | None, steps: int = 20) -> None:
    """The fleet of :func:`_fleet`, run in this process (the same run_fleet)."""
    variants = expand_variants(
        load_scenarios(RED_LIGHT_STOP), ["pdm"], SweepSpec((parse_sweep_param(SAME_DRIVE),))
    )
    effects = light_camera_effects(camera, "camera")
    lights = FleetLights("camera", camera, effects)
    run_fleet(variants, out, InlineExecutor(), max_steps=steps, progress=False, lights=lights)


def _metrics(out: Path) -> dict[str, dict[str, Any]]:
    """variant id -> its metrics.json, timing fields left out."""
    found = {}
    for path in sorted(out.glob("*/*/metrics.json")):
        data = json.loads(path.read_text())
        found[str(path.parent.relative_to(out))] = {
            k: v for k, v in data.items() if k not in TIMING
        }
    return found


def test_variants_record_what_a_sim_run_records(tmp_path: Path) -> None:
    sim, fleet = tmp_path / "sim", tmp_path / "fleet"
    assert main(["sim", RED_LIGHT_STOP, "--planner", "pdm", "--max-steps", "10", "--lights",
                 "camera", "--light-camera", "night", "--out", str(sim), "--quiet"]) == 0  # fmt: skip
    assert _fleet(fleet, "--light-camera", "night", steps=10) == 0
    (plain,) = [json.loads(p.read_text()) for p in sim.glob("*/*/metrics.json")]
    variants = [json.loads(p.read_text()) for p in sorted(fleet.glob("*/*/metrics.json"))]
    assert len(variants) == 3
    night = load_camera_effects("night")
    for v in variants:
        assert set(v) - {"fleet"} == set(plain)  # the same keys, the fleet's identity apart
        assert (v["lights"], v["unknown_light"]) == ("camera", "yellow")
        assert v["light_perception"]["light_ticks"] == v["light_perception_raw"]["light_ticks"]
        assert v["light_perception"]["light_ticks"] == 10  # the light ahead, every tick
        camera = v["light_camera"]
        assert camera["preset"] == "night" and camera["enabled"]
        # the variant's own noise seed; the rest is the preset's
        assert camera["seed"] == effects_seed(night.seed, v["fleet"]["seed"]) != night.seed
        assert {k: x for k, x in camera.items() if k not in ("preset", "seed")} == {
            k: x for k, x in vars(night).items() if k != "seed"
        }
    manifest = json.loads((fleet / MANIFEST_NAME).read_text())
    assert (manifest["lights"], manifest["unknown_light"]) == ("camera", "yellow")
    assert manifest["light_camera"] == {"preset": "night", **vars(night)}
    records, problems = read_index(fleet / INDEX_NAME)
    assert problems == [] and len(records) == 3
    for rec in records:  # the index carries the figures the summary pools
        folder = fleet / rec["variant"]
        metrics = json.loads((folder / "metrics.json").read_text())
        assert rec["light_perception"] == metrics["light_perception"]
        assert rec["light_perception_raw"] == metrics["light_perception_raw"]
    # the worker's task, with its lights, is plain data: it pickles (process pools, Ray)
    (variant,) = expand_variants(load_scenarios(RED_LIGHT_STOP), ["pdm"], SweepSpec())
    task = VariantTask(variant, str(fleet), lights=FleetLights("camera", "night", night))
    assert pickle.loads(pickle.dumps(task)) == task


def test_each_variant_draws_its_own_noise_and_draws_it_again(tmp_path: Path) -> None:
    noisy = tmp_path / "noisy.yaml"
    noisy.write_text(NOISY_CAMERA)
    out = tmp_path / "fleet"
    # drivestack sim with fleet options is a fleet too
    assert _fleet(out, "--light-camera", str(noisy), command="sim") == 0
    first = _metrics(out)
    seeds = {m["light_camera"]["seed"] for m in first.values()}
    assert len(first) == 3 and len(seeds) == 3
    raw = [json.dumps(m["light_perception_raw"], sort_keys=True) for m in first.values()]
    assert len(set(raw)) > 1, raw  # other noise, other reads
    # the ideal camera draws no noise: the same drive reads the same, variant by variant
    ideal = tmp_path / "ideal"
    _inline(ideal, None)
    ideal_raw = {json.dumps(m["light_perception_raw"]) for m in _metrics(ideal).values()}
    assert len(ideal_raw) == 1
    # a variant whose results are gone runs again on resume: the same pixels, the same figures
    victim = sorted(first)[1]
    history = dict(np.load(out / victim / "history.npz"))
    (out / victim / "metrics.json").unlink()
    assert _fleet(out, "--light-camera", str(noisy), command="sim") == 0
    assert _metrics(out) == first
    again = np.load(out / victim / "history.npz")
    assert set(again.files) == set(history)
    for key in set(history) - {"planner_step_s", "sim_step_s"}:  # the compute times apart
        np.testing.assert_array_equal(again[key], history[key])
    # and a fresh folder reruns every variant to the same figures
    rerun = tmp_path / "rerun"
    _inline(rerun, str(noisy))
    assert _metrics(rerun) == first


def test_a_resume_with_other_lights_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "fleet"
    assert _fleet(out, "--light-camera", "night", steps=3) == 0
    capsys.readouterr()
    assert _fleet(out, "--light-camera", "day", steps=3) == 2
    err = capsys.readouterr().err
    assert "light_camera: 'night' != 'day'" in err and "another --out" in err
    assert main(["fleet", RED_LIGHT_STOP, "--planner", "pdm", "--sweep", SAME_DRIVE,
                 "--max-steps", "3", "--out", str(out), "--quiet"]) == 2  # fmt: skip
    assert "lights: 'camera' != 'truth'" in capsys.readouterr().err
    assert len((out / INDEX_NAME).read_text().splitlines()) == 3  # nothing ran
    # a YAML copy of the night preset is the night camera: compared by its parameters
    copy = tmp_path / "my_night.yaml"
    copy.write_text(Path(REPO / "configs/perception/light_camera_night.yaml").read_text())
    assert _fleet(out, "--light-camera", str(copy), steps=3) == 0
    # --light-camera needs --lights camera, in a fleet as in a plain run
    argv = ["fleet", RED_LIGHT_STOP, "--light-camera", "night", "--out", str(tmp_path / "x")]
    assert main(argv) == 2
    assert "--light-camera night is used only with --lights camera" in capsys.readouterr().err


def test_the_summary_pools_the_variants_light_figures(tmp_path: Path) -> None:
    noisy = tmp_path / "noisy.yaml"
    noisy.write_text(NOISY_CAMERA)
    out = tmp_path / "fleet"
    _inline(out, str(noisy), steps=10)
    summary = json.loads((out / SUMMARY_NAME).read_text())["pdm"]
    runs = list(_metrics(out).values())
    for key in ("light_perception", "light_perception_raw"):
        assert summary[key] == pool_light_results([r[key] for r in runs])
        assert summary[key]["light_ticks"] == 30
        green = sum(r[key]["confusion"]["green"].get("green", 0) for r in runs)
        assert summary[key]["accuracy"] == green / 30
    # drivestack report shows it as for a sim run: the camera and each planner's pooled reads
    html = tmp_path / "report.html"
    assert main(["report", str(out), "--out", str(html)]) == 0
    text = html.read_text()
    assert f"camera ({noisy})" in text
    held = 100 * summary["light_perception"]["accuracy"]
    raw = 100 * summary["light_perception_raw"]["accuracy"]
    assert (
        f"light perception (pdm)</td><td class=l>lights seen by camera over 30 light-ticks: "
        f"accuracy {held:.1f}%" in text
    )
    assert f"raw reads accuracy {raw:.1f}%" in text
    # records with the true states carry no light figures: nothing pooled
    assert pooled_light_perception([{"planner": "pdm", "score": 1.0}]) == {}


_states = st.sampled_from(SIGNAL_STATES)
_ticks = st.lists(st.tuples(st.booleans(), _states, _states), max_size=30)


@settings(max_examples=60, deadline=None)
@given(st.lists(_ticks, min_size=1, max_size=4))
def test_pooling_results_equals_merging_the_metrics(runs: list[list[Any]]) -> None:
    merged = LightStateMetrics()
    results = []
    for ticks in runs:
        metrics = LightStateMetrics()
        for inferred, truth, seen in ticks:
            (metrics.add_inferred if inferred else metrics.add)(truth, seen)
        results.append(metrics.result())
        merged.merge(metrics)
    assert pool_light_results(results) == merged.result()


@pytest.mark.parametrize("command", ["fleet", "sim"])
def test_help_offers_camera_lights_to_fleets(command: str, capsys) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--lights {truth,camera}" in text and "--light-camera" in text
    assert "refuse --lights camera" not in text and "true states only" not in text
    assert "seeded from the preset's seed and the variant's seed" in text


def test_fleet_lights_are_checked_and_ideal_draws_no_noise() -> None:
    with pytest.raises(ValueError, match="is not one of"):
        FleetLights("sun")
    with pytest.raises(ValueError, match="only with lights 'camera'"):
        FleetLights("truth", "night")
    ideal = FleetLights("camera")
    assert ideal.manifest_value() == {"preset": "ideal", **vars(ideal.camera_effects)}
    assert ideal.variant_effects(7) == ideal.camera_effects  # no noise, no seed to change
    assert FleetLights().manifest_value() is None
    night = FleetLights("camera", "night", load_camera_effects("night"))
    assert night.variant_effects(7).seed == effects_seed(0, 7) == night.variant_effects(7).seed
    assert night.variant_effects(8).seed != night.variant_effects(7).seed
