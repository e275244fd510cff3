"""Fleet rules a mutation review found unguarded: sweep parsing and counting, variant and
camera seeds, the crash record, the global RNG seeding of a run, the light identity a resume
compares, and the fleet's record checks, summary and manifest rules. Expected values are
worked out by hand from each rule (in the comments), not copied from the code's output."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.exec import sweep
from drivestack.exec import task as task_module
from drivestack.exec.fleet import (
    MANIFEST_NAME,
    _check_manifest,
    fleet_summary,
    latest_records,
    listed_failures,
    record_problem,
    run_fleet,
    scenario_digest,
)
from drivestack.exec.lights import (
    FleetLights,
    effects_seed,
    light_camera_identity,
    light_camera_shown,
    lights_identity,
    pool_light_results,
)
from drivestack.exec.sweep import (
    SweepParam,
    SweepSpec,
    Variant,
    count_variants,
    expand_variants,
    parse_sweep_param,
    scenario_variants,
    unswept_keys,
    variant_seed,
)
from drivestack.exec.task import (
    VariantTask,
    crashed_fields,
    run_provenance_fields,
    run_variant,
    variant_record,
)
from drivestack.sim.scenario import ScenarioConfig, load_scenarios
from drivestack.sim.sensors.camera_effects import CameraEffectsConfig
from tests.exec.test_fleet_statuses import InlineExecutor


def _rear(scenario_file: Path) -> ScenarioConfig:
    """The conftest scenario ``rear``: ego at 50 km/h, ONE agent (``agents.0``)."""
    (cfg,) = load_scenarios(scenario_file)
    return cfg


def _sha63(text: str) -> int:
    """The seeds' rule: the first 8 bytes of SHA-256(text), little-endian, shifted right once
    (63 bits: always below 2**63)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


# --- sweep parsing --------------------------------------------------------------------------


def test_grid_true_and_false_are_bools_in_any_letter_case() -> None:
    """``true`` / ``false`` are read case-blind (``text.lower()``): ``True`` and ``FALSE`` are
    the bools; ``yes`` is no bool word and stays text."""
    assert parse_sweep_param("a=True,FALSE,yes").values == (True, False, "yes")


@pytest.mark.parametrize("text", ["sweep.random.x=1:2", "tags.0=x", "name.y=1"])
def test_a_dotted_key_below_an_identity_field_is_refused(text: str) -> None:
    """NOT_SWEPT is matched by the key's FIRST part: ``sweep.random.x`` is part of the
    scenario's ``sweep``, which no run reads, so it is refused like ``sweep`` itself."""
    with pytest.raises(ConfigError, match="is not a parameter a run uses"):
        parse_sweep_param(text)


def test_the_source_field_is_not_sweepable() -> None:
    """``source`` is in NOT_SWEPT (it names the scenario file, not a run parameter)."""
    with pytest.raises(ConfigError, match="is not a parameter a run uses"):
        parse_sweep_param("source=other.yaml")


# --- seeds ------------------------------------------------------------------------------------


def test_variant_seed_is_the_63_bit_sha256_of_base_scenario_and_index() -> None:
    """variant_seed(7, "ccrs", 3) is SHA-256 of the text ``7:ccrs:3`` (base seed, scenario
    name, index, in that order), its first 8 bytes little-endian, >> 1. A different order or
    byte order would change every seed of every existing fleet folder."""
    assert variant_seed(7, "ccrs", 3) == _sha63("7:ccrs:3")
    assert variant_seed(0, "rear", 0) == _sha63("0:rear:0")
    assert variant_seed(7, "ccrs", 3) != _sha63("ccrs:7:3")
    assert 0 <= variant_seed(7, "ccrs", 3) < 2**63


def test_the_camera_noise_seed_is_the_sha256_of_effects_seed_then_variant_seed() -> None:
    """effects_seed(seed, variant_seed) hashes ``"<seed>:<variant_seed>"`` (the effects' seed
    first, as its docstring says): effects_seed(3, 11) is the 63-bit SHA-256 of ``3:11``."""
    assert effects_seed(3, 11) == _sha63("3:11")
    assert effects_seed(3, 11) != _sha63("11:3")


# --- sweep expansion and counts ---------------------------------------------------------------


def test_a_list_index_one_past_the_end_is_not_a_field(scenario_file: Path) -> None:
    """``rear`` has one agent, so ``agents.1`` is out of range (index < len must hold: 1 < 1
    is false): the key is not swept for it and is reported as missing, not an IndexError."""
    cfg = _rear(scenario_file)
    spec = SweepSpec((SweepParam("agents.1.station_m", values=(150.0,)),))
    assert unswept_keys([cfg], spec) == {"agents.1.station_m": ["rear"]}
    assert scenario_variants(cfg, spec) == [(cfg, variant_seed(0, "rear", 0), {})]


def test_count_variants_is_draws_times_grid_times_planners(scenario_file: Path) -> None:
    """Grid alone: 2 values x 2 planners = 4 (``count`` 3 applies only with a range). Add a
    range: 3 draws x 2 values x 2 planners = 12."""
    cfg = _rear(scenario_file)
    grid = SweepParam("agents.0.station_m", values=(140.0, 150.0))
    rng = SweepParam("ego.speed_kph", low=40.0, high=50.0)
    assert count_variants([cfg], ["pdm", "idm"], SweepSpec((grid,), count=3)) == 4
    assert count_variants([cfg], ["pdm", "idm"], SweepSpec((grid, rng), count=3)) == 12
    assert len(expand_variants([cfg], ["pdm", "idm"], SweepSpec((grid,), count=3))) == 4


def test_exactly_max_variants_is_allowed_one_more_is_refused(
    scenario_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refusal is for MORE than MAX_VARIANTS (``total > MAX_VARIANTS``). With the cap
    at 4: 4 variants (2 grid values x 2 planners) run; 6 (3 values x 2) are refused."""
    monkeypatch.setattr(sweep, "MAX_VARIANTS", 4)
    cfg = _rear(scenario_file)
    two = SweepSpec((SweepParam("agents.0.station_m", values=(140.0, 150.0)),))
    assert len(expand_variants([cfg], ["pdm", "idm"], two)) == 4
    three = SweepSpec((SweepParam("agents.0.station_m", values=(140.0, 150.0, 160.0)),))
    with pytest.raises(ConfigError, match="more than 4 in one fleet") as info:
        expand_variants([cfg], ["pdm", "idm"], three)
    # count 1: the grid made it too large, so the error names --sweep, not --variants
    assert info.value.field == "--sweep"
    many = SweepSpec((SweepParam("ego.speed_kph", low=40.0, high=50.0),), count=5)
    with pytest.raises(ConfigError) as info:
        expand_variants([cfg], ["pdm"], many)
    assert info.value.field == "--variants"  # 5 draws > 4: the draw count is the culprit


def test_a_range_refused_at_its_high_end_names_the_range_as_given(scenario_file: Path) -> None:
    """Both ends of a range are checked before anything runs. 10:600 km/h: the low end is
    fine, 600 km/h is above MAX_SPEED_MPS (150 m/s = 540 km/h), so the error shows the
    option as typed, ``LO:HI`` in that order, and the end that failed: ``10:600 (at 600)``."""
    cfg = _rear(scenario_file)
    spec = SweepSpec((parse_sweep_param("ego.speed_kph=10:600"),), count=1, seed=0)
    with pytest.raises(ConfigError, match=r"--sweep ego\.speed_kph=10:600 \(at 600\)"):
        scenario_variants(cfg, spec)


# --- task: crash records, run seeding, provenance -----------------------------------------


def test_a_crash_record_keeps_the_first_line_of_the_error() -> None:
    """``error`` is the type and the FIRST non-blank line of the message; an empty message
    leaves the bare type name (the ``": "`` trimmed)."""
    fields = crashed_fields(RuntimeError("\n  first line  \nsecond line"))
    assert fields["status"] == "crashed"
    assert fields["error"] == "RuntimeError: first line"
    assert crashed_fields(RuntimeError())["error"] == "RuntimeError"


def test_config_error_flag_is_for_config_errors_only() -> None:
    """``config_error`` marks a ConfigError (a rerun cannot help); a plain ValueError, though
    ConfigError is one, is a crash a rerun might mend: false."""
    assert crashed_fields(ConfigError("bad value", field="x"))["config_error"] is True
    assert crashed_fields(ValueError("x"))["config_error"] is False


def test_a_run_seeds_the_global_rngs_with_the_variant_seed(
    scenario_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before it runs, run_variant seeds Python's ``random`` with the variant's seed and
    NumPy's legacy global state with ``seed % 2**32``. Seed 2**31 + 5 has bit 31 set, so
    ``% 2**32`` keeps it (2147483653) while ``% 2**31`` would give 5. The run itself raises at
    once (``_run`` replaced), so nothing draws from the RNGs after the seeding."""

    def boom(task: VariantTask, data_root: Path | None) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(task_module, "_run", boom)
    cfg = _rear(scenario_file)
    seed = 2**31 + 5
    variant = Variant("pdm/rear", "pdm", cfg, "rear", 3, seed, {})
    task = VariantTask(variant, str(tmp_path))
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        record = run_variant(task)
        np_next, py_next = np.random.random(), random.random()  # noqa: NPY002
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
    assert (record["status"], record["error"]) == ("crashed", "RuntimeError: boom")
    assert np_next == np.random.RandomState(2147483653).random()
    assert py_next == random.Random(seed).random()


def test_a_source_that_is_no_file_is_recorded_as_given(scenario_file: Path) -> None:
    """``config.source`` is made absolute only when it names a file; a source that is no
    file (a mapping built in code, here ``made/in/code.yaml``) is kept as it is."""
    cfg = dataclasses.replace(_rear(scenario_file), source="made/in/code.yaml")
    fields = run_provenance_fields(cfg, max_steps=None, git_commit=None)
    assert fields["config"]["source"] == "made/in/code.yaml"
    real = run_provenance_fields(_rear(scenario_file), max_steps=None, git_commit=None)
    assert real["config"]["source"] == str(scenario_file.resolve())


# --- lights -----------------------------------------------------------------------------------


def test_truth_lights_take_a_camera_config_that_is_not_enabled() -> None:
    """Only a camera that would do something (a preset, or effects with ``enabled``) needs
    lights ``camera``: the ideal config (enabled false) with the true states is fine."""
    lights = FleetLights("truth", None, CameraEffectsConfig())
    assert lights.manifest_value() is None
    with pytest.raises(ValueError, match="only with lights 'camera'"):
        FleetLights("truth", None, CameraEffectsConfig(enabled=True))


def test_light_camera_identity_ignores_the_preset_name_and_disabled_cameras() -> None:
    """A resume compares a light camera by its effects: the same effects under two preset
    names are one identity; a camera with ``enabled`` false is the ideal camera (None),
    whatever else it holds."""
    night = {"enabled": True, "seed": 0, "ambient_scale": 0.1}
    assert light_camera_identity({**night, "preset": "night"}) == light_camera_identity(
        {**night, "preset": "/tmp/my_night.yaml"}
    )
    assert light_camera_identity({"enabled": False, "seed": 3, "preset": "x"}) is None
    assert light_camera_identity(None) is None


def test_lights_missing_from_an_old_manifest_read_as_truth() -> None:
    """A manifest from before ``--lights`` has no ``lights``: it is compared as ``truth``."""
    assert lights_identity("lights", None) == "truth"
    assert lights_identity("lights", "camera") == "camera"


def test_a_missing_light_camera_is_shown_as_none() -> None:
    """In a refusal a light camera shows its preset's name; no camera at all shows ``none``."""
    assert light_camera_shown(None) == "none"
    assert light_camera_shown({"preset": "night", "enabled": True}) == "night"


# --- fleet: records, summary, manifest --------------------------------------------------------


def test_a_crashed_record_needs_no_score_or_collision() -> None:
    """Only records that ran (``ok``) need a finite ``score`` and a bool ``collision``; a
    crashed one needs its planner alone."""
    assert record_problem({"variant": "v", "status": "crashed", "planner": "pdm"}) is None
    assert record_problem({"variant": "v", "status": "ok", "planner": "pdm"}) == (
        "field score: missing"
    )


def test_the_last_record_of_a_variant_wins() -> None:
    """fleet.jsonl is appended: a variant's later record (a rerun) replaces its earlier one."""
    first = {"variant": "pdm/a", "status": "crashed"}
    rerun = {"variant": "pdm/a", "status": "ok"}
    other = {"variant": "pdm/b", "status": "ok"}
    assert latest_records([first, other, rerun]) == {"pdm/a": rerun, "pdm/b": other}


def test_scenario_digest_leaves_out_the_source_file(scenario_file: Path) -> None:
    """The digest covers the loaded config, not where it was read from: the same scenario
    read from another path has the same digest; another speed has another."""
    cfg = _rear(scenario_file)
    moved = dataclasses.replace(cfg, source="/elsewhere/rear.yaml")
    assert scenario_digest(moved) == scenario_digest(cfg)
    faster = dataclasses.replace(cfg, ego=dataclasses.replace(cfg.ego, speed_kph=60.0))
    assert scenario_digest(faster) != scenario_digest(cfg)


def test_listed_failures_keep_only_the_fleets_planners() -> None:
    """Another planner's listing marks none of the fleet's variants: for planners [pdm],
    ``a`` (idm only) drops out and ``b`` keeps pdm alone; scenarios come sorted."""
    listed = {"b": {"idm": "x", "pdm": "y"}, "a": {"idm": "z"}, "c": {"pdm": "w"}}
    assert listed_failures(listed, ["pdm"]) == {"b": {"pdm": "y"}, "c": {"pdm": "w"}}
    assert list(listed_failures(listed, ["pdm"])) == ["b", "c"]


def test_collisions_and_scores_count_only_runs_that_ran() -> None:
    """A crashed record has no result: an old one that carries ``collision: true`` and a
    score is still left out. ok runs: scores 10 and 30, one collision -> mean 20.0, 1."""
    records = [
        {"planner": "pdm", "status": "ok", "score": 10.0, "collision": True, "passed": False},
        {"planner": "pdm", "status": "ok", "score": 30.0, "collision": False, "passed": True},
        {"planner": "pdm", "status": "crashed", "score": 0.0, "collision": True},
    ]
    s = fleet_summary(records)["pdm"]
    assert (s["variants"], s["ok"], s["collisions"], s["mean_score"]) == (3, 2, 1, 20.0)


def _known_failures_refusal(tmp_path: Path, n_changes: int) -> str:
    """The refusal of a resume whose suite lists ``n_changes`` new known failures."""
    old: dict[str, Any] = {"known_failures": {}}
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(old))
    new = {"known_failures": {f"s{i}": {"pdm": "r"} for i in range(n_changes)}}
    with pytest.raises(ConfigError) as info:
        _check_manifest(tmp_path, new)
    return str(info.value)


def test_a_known_failures_refusal_names_three_changes_then_counts_the_rest(
    tmp_path: Path,
) -> None:
    """The refusal names up to 3 changes; past 3 it adds ``and N more``: 3 changes -> no
    count, 4 changes -> ``and 1 more`` (4 - 3)."""
    three = _known_failures_refusal(tmp_path, 3)
    assert "s2 pdm: not listed -> 'r'" in three and "more" not in three
    four = _known_failures_refusal(tmp_path, 4)
    assert "and 1 more" in four and "s3 pdm" not in four


def test_pooled_confusion_drops_zero_cells_and_orders_by_signal_state() -> None:
    """Pooled confusion rows/columns follow SIGNAL_STATES (unknown, off, green, yellow, red,
    red_yellow) and hold no zero cells, as a merged LightStateMetrics result does. Runs: red
    truth read red 2 + 1 = 3 times, read green 0 + 0 (dropped); green truth read unknown 1,
    green 4; a yellow row of zeros is dropped. 8 ticks, hits 3 + 4 = 7, unknown 1."""
    runs: list[dict[str, Any]] = [
        {"confusion": {"red": {"red": 2, "green": 0}, "yellow": {"yellow": 0}}},
        {"confusion": {"red": {"red": 1}, "green": {"green": 4, "unknown": 1}}},
    ]
    pooled = pool_light_results(runs)
    assert pooled["confusion"] == {"green": {"unknown": 1, "green": 4}, "red": {"red": 3}}
    assert list(pooled["confusion"]) == ["green", "red"]
    assert list(pooled["confusion"]["green"]) == ["unknown", "green"]
    assert (pooled["light_ticks"], pooled["accuracy"], pooled["unknown_share"]) == (8, 7 / 8, 1 / 8)


def _crash_with_mark(task: VariantTask) -> dict[str, Any]:
    """A task that ran nothing: a crashed record carrying the known-failure reason it got."""
    return {**variant_record(task.variant), "status": "crashed", "given": task.known_failure}


def test_a_listed_scenario_marks_every_swept_variant_of_it(
    scenario_file: Path, tmp_path: Path
) -> None:
    """known_failures are looked up by the variant's BASE scenario: the suite lists ``rear``
    for pdm, and the swept variants are named ``rear#0000``, ``rear#0001``; both carry the
    reason. idm is not listed: its variants get None."""
    spec = SweepSpec((SweepParam("agents.0.station_m", values=(140.0, 150.0)),))
    variants = expand_variants([_rear(scenario_file)], ["pdm", "idm"], spec)
    assert {v.scenario.name for v in variants} == {"rear#0000", "rear#0001"}
    result = run_fleet(
        variants,
        tmp_path / "fleet",
        InlineExecutor(),
        progress=False,
        task_fn=_crash_with_mark,
        known_failures={"rear": {"pdm": "brakes late"}},
    )
    given = {r["variant"]: r["given"] for r in result.records}
    assert given == {
        "pdm/rear_0000": "brakes late",
        "idm/rear_0000": None,
        "pdm/rear_0001": "brakes late",
        "idm/rear_0001": None,
    }


def test_a_grid_only_sweep_refused_as_too_large_names_the_grid_not_draws(
    scenario_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``count`` draws apply only when a range is swept: a 3-value grid with count 5 for 2
    planners is 3 x 2 = 6 variants (over a cap of 4), and the refusal shows those factors,
    not "5 draws" (which would multiply to 30), and names --sweep, not --variants."""
    monkeypatch.setattr(sweep, "MAX_VARIANTS", 4)
    cfg = _rear(scenario_file)
    grid = SweepSpec((SweepParam("agents.0.station_m", values=(140.0, 150.0, 160.0)),), count=5)
    with pytest.raises(ConfigError) as info:
        expand_variants([cfg], ["pdm", "idm"], grid)
    message = str(info.value)
    assert "6 variants (1 scenarios x 2 planners x 3 values of agents.0.station_m" in message
    assert "draws" not in message
    assert info.value.field == "--sweep"
