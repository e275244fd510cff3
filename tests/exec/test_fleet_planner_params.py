"""Fleets run ``--planner-params``: every variant's planner, vehicle and tracker take the
file's settings (carried to the workers as plain data), the records and fleet.json hold
them, and a resume with other settings is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.core.errors import ConfigError
from drivestack.exec.sweep import SweepSpec, expand_variants
from drivestack.exec.task import VariantTask, run_variant
from drivestack.sim.evaluate import PlannerParams, load_planner_params
from drivestack.sim.scenario import load_scenarios


def _params(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_task_carries_the_settings_as_plain_data_and_the_worker_applies_them(
    scenario_file: Path, tmp_path: Path
) -> None:
    path = _params(tmp_path, "p.yaml", "vehicle: {length_m: 4.4}\npdm: {horizon_s: 6.0}\n")
    params = load_planner_params(path).with_unknown_light("go")
    settings = params.as_dict()
    json.dumps(settings)  # plain data: what a Ray or pool worker is sent
    (variant,) = expand_variants(load_scenarios(scenario_file), ["pdm"], SweepSpec(()))
    task = VariantTask(
        variant,
        str(tmp_path / "out"),
        max_steps=4,
        planner_params=settings,
        planner_params_file=str(path),
    )
    assert task.planner_settings() == params
    assert VariantTask(variant, str(tmp_path)).planner_settings() is None
    record = run_variant(task)
    assert record["status"] == "ok", record.get("error")
    folder = tmp_path / "out" / variant.variant_id
    history = np.load(folder / "history.npz")
    np.testing.assert_allclose(history["ego_boxes"][:, 3], 4.4)  # the vehicle's length
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["planner_params"] == {
        "file": str(path),
        "pdm": settings["pdm"],
        "vehicle": settings["vehicle"],
        "tracker": settings["tracker"],
    }
    assert metrics["planner_params"]["pdm"]["horizon_s"] == 6.0
    # a damaged value reaches the worker's strict reader: a crashed record naming the key
    bad = {**settings, "vehicle": {**settings["vehicle"], "length_m": -1.0}}
    broken = VariantTask(variant, str(tmp_path / "o2"), max_steps=2, planner_params=bad)
    crashed = run_variant(broken)
    assert crashed["status"] == "crashed" and "vehicle.length_m" in crashed["error"]
    with pytest.raises(ConfigError):
        broken.planner_settings()


def test_fleet_runs_the_settings_records_them_and_refuses_other_ones_on_resume(
    scenario_file: Path, tmp_path: Path, capsys
) -> None:
    path = _params(tmp_path, "p.yaml", "vehicle: {length_m: 4.5}\nidm: {stop_margin_m: 3.0}\n")
    out = tmp_path / "fleet"
    argv = ["sim", str(scenario_file), "--out", str(out), "--planner", "idm", "--quiet"]
    argv += ["--executor", "local", "--workers", "1", "--max-steps", "5"]
    assert main([*argv, "--planner-params", str(path)]) == 0
    expected = load_planner_params(path).with_unknown_light("go").as_dict()
    manifest = json.loads((out / "fleet.json").read_text())
    assert manifest["planner_params"] == expected
    assert manifest["planner_params_file"] == str(path.resolve())
    metrics = json.loads((out / "idm" / "rear" / "metrics.json").read_text())
    assert metrics["planner_params"]["idm"]["stop_margin_m"] == 3.0
    assert metrics["planner_params"]["vehicle"]["length_m"] == 4.5
    np.testing.assert_allclose(
        np.load(out / "idm" / "rear" / "history.npz")["ego_boxes"][:, 3], 4.5
    )
    assert expected != PlannerParams().with_unknown_light("go").as_dict()
    capsys.readouterr()
    other = _params(tmp_path, "q.yaml", "vehicle: {length_m: 4.6}\n")
    for extra in (["--planner-params", str(other)], []):  # other settings, or none
        assert main([*argv, *extra]) == 2
        err = capsys.readouterr().err
        assert "field planner_params: this folder holds a different fleet" in err
        assert f"the settings of {path.resolve()}" in err
    # the same values from another file resume (nothing runs again)
    same = _params(tmp_path, "same.yaml", path.read_text())
    assert main(["fleet", *argv[1:], "--planner-params", str(same)]) == 0
    assert "ran 0 now" in capsys.readouterr().out


def test_a_rerun_that_crashes_leaves_no_earlier_results_behind(
    scenario_file: Path, tmp_path: Path
) -> None:
    # a variant whose results were damaged is run again; when that rerun crashed, its old
    # metrics.json stayed, and drivestack report showed a pass the fleet counted as a crash
    (variant,) = expand_variants(load_scenarios(scenario_file), ["pdm"], SweepSpec(()))
    out = tmp_path / "out"
    assert run_variant(VariantTask(variant, str(out), max_steps=4))["status"] == "ok"
    folder = out / variant.variant_id
    assert (folder / "metrics.json").is_file() and (folder / "history.npz").is_file()
    bad = load_planner_params(_params(tmp_path, "p.yaml", "vehicle: {length_m: 4.4}\n"))
    settings = bad.with_unknown_light("go").as_dict()
    settings["vehicle"]["length_m"] = -1.0  # the worker's strict reader refuses it
    crashed = run_variant(VariantTask(variant, str(out), max_steps=4, planner_params=settings))
    assert crashed["status"] == "crashed"
    assert not (folder / "metrics.json").exists() and not (folder / "history.npz").exists()


def test_settings_recorded_before_the_idm_block_was_trimmed_still_compare_and_read(
    scenario_file: Path, tmp_path: Path, capsys
) -> None:
    # records written before the idm block left out what IDM never reads hold those keys
    # (defaults): a resume with the same file was refused as "edited since", and a task's
    # settings failed to read back (idm.prediction refused)
    import dataclasses

    from drivestack.sim.evaluate import recorded_planner_params

    path = _params(tmp_path, "p.yaml", "vehicle: {length_m: 4.4}\n")
    params = load_planner_params(path).with_unknown_light("go")
    old_form = json.loads(json.dumps(dataclasses.asdict(params)))
    assert "prediction" in old_form["idm"] and "coolness" in old_form["idm"]["idm"]
    assert recorded_planner_params(old_form) == params.as_dict()
    (variant,) = expand_variants(load_scenarios(scenario_file), ["pdm"], SweepSpec(()))
    task = VariantTask(variant, str(tmp_path / "o"), planner_params=old_form)
    assert task.planner_settings() == params
    out = tmp_path / "fleet"
    argv = ["sim", str(scenario_file), "--planner", "pdm", "--sweep", "ego.speed_kph=30,40",
            "--max-steps", "3", "--quiet", "--planner-params", str(path), "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    manifest = json.loads((out / "fleet.json").read_text())
    manifest["planner_params"] = old_form  # as a fleet of yesterday wrote it
    (out / "fleet.json").write_text(json.dumps(manifest))
    assert main(argv) == 0, capsys.readouterr().err  # resumed: the same settings
