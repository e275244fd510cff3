"""Rules of ``drivestack sim``'s helpers (drivestack/commands/sim.py) pinned with hand-derived
values: option checks, the export folder's checks and clearing, the run manifest and what
makes a DIR another invocation's, the per-planner summary and the printed table."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from drivestack.commands import sim
from drivestack.core.errors import DataError
from drivestack.exec.task import CRASHED

# -- options ---------------------------------------------------------------------------------


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sim.add_arguments(parser)
    return parser.parse_args(["s.yaml", "--out", "o", *argv])


def test_export_every_one_is_the_smallest_accepted() -> None:
    """--export-every N must be 1 or more: 1 passes, 0 is refused naming the value."""
    sim._check_options(_args("--export-dataset", "d", "--export-every", "1"))
    with pytest.raises(DataError, match="--export-every must be 1 or more, got 0"):
        sim._check_options(_args("--export-dataset", "d", "--export-every", "0"))


def test_lidar_params_are_accepted_with_an_export_and_ground_truth() -> None:
    """--lidar-params needs --perception lidar OR --export-dataset: with the export alone
    (ground-truth perception) the export's LiDAR uses them, so no refusal."""
    sim._check_options(_args("--lidar-params", "l.yaml", "--export-dataset", "d"))
    with pytest.raises(DataError, match="--lidar-params is used only"):
        sim._check_options(_args("--lidar-params", "l.yaml"))


def test_overwrite_is_refused_with_fleet_options_only() -> None:
    """--overwrite: fine for a plain run, refused with a fleet option (a fleet resumes)."""
    sim._check_options(_args("--overwrite"))
    with pytest.raises(DataError, match="--overwrite is not applied to fleets"):
        sim._check_options(_args("--overwrite", "--variants", "3"))


# -- the export folder -----------------------------------------------------------------------


def test_export_folder_inside_out_or_holding_it_is_refused(tmp_path: Path) -> None:
    """The dataset and --out must be separate: neither inside the other, in both directions;
    two sibling folders are fine."""
    out = tmp_path / "runs"
    with pytest.raises(DataError, match="must be separate folders"):
        sim._check_export_folder(out / "kitti", False, out)  # dataset inside out
    with pytest.raises(DataError, match="must be separate folders"):
        sim._check_export_folder(tmp_path / "kitti", False, tmp_path / "kitti" / "runs")
    sim._check_export_folder(tmp_path / "kitti", False, out)


def test_export_folder_under_a_file_names_the_file(tmp_path: Path) -> None:
    """A dataset path that is a file: "must be a folder" alone; one under a file also names
    that file (", but F is a file")."""
    blocker = tmp_path / "f"
    blocker.write_text("x")
    with pytest.raises(DataError) as under:
        sim._check_export_folder(blocker / "kitti", False)
    assert f", but {blocker} is a file" in str(under.value)
    with pytest.raises(DataError) as itself:
        sim._check_export_folder(blocker, False)
    assert "must be a folder" in str(itself.value) and ", but" not in str(itself.value)


def test_non_empty_export_folder_passes_with_overwrite(tmp_path: Path) -> None:
    """A non-empty dataset folder is refused unless --overwrite (then it is accepted)."""
    (tmp_path / "kitti").mkdir()
    (tmp_path / "kitti" / "old.txt").write_text("x")
    with pytest.raises(DataError, match="not empty"):
        sim._check_export_folder(tmp_path / "kitti", False)
    sim._check_export_folder(tmp_path / "kitti", True)


def test_clearing_an_export_deletes_only_the_kitti_files(tmp_path: Path) -> None:
    """--overwrite's clearing deletes export.json, the split files and every file or link of
    the layout folders (and the folders they empty); a user's file and folder stay, and so
    does training/ holding one."""
    root = tmp_path / "kitti"
    (root / "ImageSets").mkdir(parents=True)
    (root / "export.json").write_text("{}")
    (root / "ImageSets" / "train.txt").write_text("000000\n")
    (root / "training" / "velodyne").mkdir(parents=True)
    (root / "training" / "velodyne" / "000000.bin").write_bytes(b"")
    (root / "training" / "calib").mkdir()
    (root / "training" / "calib" / "link").symlink_to(tmp_path, target_is_directory=True)
    (root / "training" / "mine").mkdir()
    (root / "notes.txt").write_text("keep")
    sim._clear_export_folder(root)
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    assert left == ["notes.txt", "training", "training/mine"]


def test_clearing_a_whole_export_removes_training(tmp_path: Path) -> None:
    """With only KITTI files in it, training/ is emptied and so removed: root ends empty."""
    root = tmp_path / "kitti"
    (root / "training" / "label_2").mkdir(parents=True)
    (root / "training" / "label_2" / "000000.txt").write_text("")
    sim._clear_export_folder(root)
    assert list(root.iterdir()) == []


# -- the manifest and resume identity --------------------------------------------------------


def _manifest(**changes: Any) -> dict[str, Any]:
    """A hand-built sim.json: one scenario ``a`` under pdm, ground truth, no --max-steps."""
    base: dict[str, Any] = dict.fromkeys(sim.IDENTITY_KEYS)
    base.update(runs=["pdm/a"], planners=["pdm"], perception="ground_truth", lights="truth")
    base.update(changes)
    return base


def _dir_with_run(tmp_path: Path, old: dict[str, Any] | None, run: str = "pdm/a") -> Path:
    out = tmp_path / "out"
    (out / run).mkdir(parents=True)
    (out / run / "metrics.json").write_text("{}")
    if old is not None:
        (out / sim.MANIFEST_NAME).write_text(json.dumps(old))
    return out


def test_manifest_lists_the_run_folders_sorted() -> None:
    """sim.json's runs are the variant ids sorted (pdm/b given first still comes second), so
    that the same runs in another order compare equal."""
    args = argparse.Namespace(
        max_steps=None,
        perception="ground_truth",
        lights="truth",
        light_camera=None,
        agents=None,
        planner_params=None,
        lidar_params=None,
        suite=None,
        scenario="s.yaml",
        filter="",
    )
    runs: Any = [SimpleNamespace(variant_id="pdm/b"), SimpleNamespace(variant_id="pdm/a")]
    assert sim._manifest(args, runs, ["pdm"], None)["runs"] == ["pdm/a", "pdm/b"]


def test_runs_are_found_two_levels_down_only(tmp_path: Path) -> None:
    """A run is <planner>/<folder>/<run file>: such a run without sim.json makes DIR another
    invocation's; a metrics.json one level down is no run."""
    out = _dir_with_run(tmp_path, None)
    assert sim._other_invocation(out, _manifest()) == (
        "its runs have no sim.json (made by another or an older command)"
    )
    flat = tmp_path / "flat"
    (flat / "pdm").mkdir(parents=True)
    (flat / "pdm" / "metrics.json").write_text("{}")
    assert sim._other_invocation(flat, _manifest()) is None


def test_a_dir_with_a_fleet_manifest_holds_a_fleet(tmp_path: Path) -> None:
    """fleet.json (the fleet's manifest) beside runs: "it holds a fleet"."""
    out = _dir_with_run(tmp_path, _manifest())
    (out / "fleet.json").write_text("{}")
    assert sim._other_invocation(out, _manifest()) == "it holds a fleet"


def test_other_scenarios_are_named_once_not_as_runs(tmp_path: Path) -> None:
    """Only the runs differ (pdm/a then, pdm/b now): one "scenarios (...)" part naming the
    gone and the new folder, no raw "runs" part."""
    out = _dir_with_run(tmp_path, _manifest())
    why = sim._other_invocation(out, _manifest(runs=["pdm/b"]))
    assert why == "its runs were made with other scenarios (a not in this one; b new)"


def test_first_gone_scenario_is_named_in_sorted_order() -> None:
    """Of the folders gone (a, b) the first sorted, a, is named; c is new."""
    assert sim._scenarios_differ(["pdm/b", "pdm/a"], ["pdm/c"]) == (
        "scenarios (a not in this one; c new)"
    )


def test_other_planners_alone_are_no_other_scenarios(tmp_path: Path) -> None:
    """pdm/a then, idm/a now: the scenario folder (a) is the same, so only the planners
    differ, shown as lists ("pdm; now idm")."""
    out = _dir_with_run(tmp_path, _manifest())
    why = sim._other_invocation(out, _manifest(runs=["idm/a"], planners=["idm"]))
    assert why == "its runs were made with other planners (pdm; now idm)"
    assert sim._scenarios_differ(["pdm/a"], ["idm/a"]) is None


def test_runs_differing_with_nothing_else_differing_still_refuse(tmp_path: Path) -> None:
    """Other run folders with equal planners and scenario sets (a damaged sim.json): still
    another invocation, worded "scenarios" (nothing else to name)."""
    out = _dir_with_run(tmp_path, _manifest(runs=["idm/a"]), run="idm/a")
    assert sim._other_invocation(out, _manifest()) == "its runs were made with other scenarios"


def test_planner_order_does_not_make_another_invocation(tmp_path: Path) -> None:
    """pdm,idm and idm,pdm make the same runs: compared as a set, no refusal."""
    runs = ["idm/a", "pdm/a"]
    out = _dir_with_run(tmp_path, _manifest(runs=runs, planners=["pdm", "idm"]))
    assert sim._other_invocation(out, _manifest(runs=runs, planners=["idm", "pdm"])) is None


def test_a_changed_perception_does_not_also_name_its_stack(tmp_path: Path) -> None:
    """ground truth -> lidar changes the stack too (None -> a stack); only perception is
    named."""
    out = _dir_with_run(tmp_path, _manifest())
    why = sim._other_invocation(out, _manifest(perception="lidar", stack={"stack": "s.yaml"}))
    assert why == "its runs were made with other perception (ground_truth; now lidar)"


def test_refusal_shows_no_max_steps_as_none_and_lists_with_commas(tmp_path: Path) -> None:
    """_shown: None -> "none", a list -> "a,b" (no space)."""
    assert sim._shown(None, "max_steps") == "none"
    assert sim._shown(["pdm", "idm"], "planners") == "pdm,idm"
    out = _dir_with_run(tmp_path, _manifest())
    why = sim._other_invocation(out, _manifest(max_steps=200))
    assert why == "its runs were made with other max_steps (none; now 200)"


def test_prepare_out_refuses_another_invocation_without_overwrite(tmp_path: Path) -> None:
    """Runs without sim.json and no --overwrite: DataError, the run left in place."""
    out = _dir_with_run(tmp_path, None)
    with pytest.raises(DataError, match="already holds results of another run"):
        sim._prepare_out(out, _manifest(), False)
    assert (out / "pdm" / "a" / "metrics.json").exists()


def test_prepare_out_with_overwrite_deletes_a_fleets_files(tmp_path: Path) -> None:
    """--overwrite over a fleet's DIR: its runs and fleet.json, fleet.jsonl and
    fleet_summary.json go; sim.json is written; a user's file stays."""
    out = _dir_with_run(tmp_path, None, run="pdm/b_0001")
    for name in ("fleet.json", "fleet.jsonl", "fleet_summary.json", "notes.txt"):
        (out / name).write_text("{}")
    sim._prepare_out(out, _manifest(), True)
    # (the emptied pdm/ folder itself stays: only run folders are removed)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "pdm", "sim.json"]
    assert not (out / "pdm" / "b_0001").exists()


def test_rerun_clears_its_own_runs_and_the_old_summaries(tmp_path: Path) -> None:
    """The same invocation again: its listed runs' files and summary.json/.md go before it
    runs (a run folder holding only run files is removed); a user's file in a run stays."""
    out = _dir_with_run(tmp_path, _manifest(runs=["pdm/a", "pdm/b"]))
    (out / "pdm" / "b").mkdir()
    (out / "pdm" / "b" / "history.npz").write_bytes(b"")
    (out / "pdm" / "b" / "mine.txt").write_text("keep")
    (out / "summary.json").write_text("{}")
    (out / "summary.md").write_text("")
    sim._prepare_out(out, _manifest(runs=["pdm/a", "pdm/b"]), False)
    assert not (out / "pdm" / "a").exists()
    assert [p.name for p in (out / "pdm" / "b").iterdir()] == ["mine.txt"]
    assert not (out / "summary.json").exists() and not (out / "summary.md").exists()


# -- the summary -----------------------------------------------------------------------------


def _row(planner: str = "pdm", **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "scenario": "s",
        "planner": planner,
        "status": "ok",
        "score": 50.0,
        "passed": True,
        "failures": [],
        "collision_summary": "no",
        "at_fault_collision": False,
        "ncap": {"impact_speed_kph": None, "min_ttc_s": None, "avoided": True},
        "planner_step_median_ms": 1.0,
        "realtime_factor": 1.0,
        "sim_only_realtime_factor": 10.0,
    }
    row.update(changes)
    return row


def _crash(planner: str = "pdm") -> dict[str, Any]:
    return {
        "scenario": "c",
        "planner": planner,
        "variant": f"{planner}/c",
        "status": CRASHED,
        "error": "boom",
    }


def test_a_planner_with_only_crashed_runs_still_gets_an_entry() -> None:
    """idm ran nothing but crashed once: its entry has 0 scenarios, no mean score, crashed 1,
    and the table says "no scenario ran (1 more crashed)"."""
    summary = sim._summary([_row(), _crash("idm")], ["pdm", "idm"])
    assert summary["idm"]["scenarios"] == 0 and summary["idm"]["mean_score"] is None
    assert summary["idm"]["crashed"] == 1
    assert "idm: no scenario ran (1 more crashed)" in sim._table([_row(), _crash("idm")], summary)


def test_summary_counts_crashed_runs_and_the_mean_score_of_the_others() -> None:
    """Scores 10, 20, 90 and one crash: mean (10+20+90)/3 = 40 (the median would be 20)
    over 3 scenarios, crashed 1; the line says "(1 more crashed)"."""
    rows = [_row(score=10.0), _row(score=20.0), _row(score=90.0), _crash()]
    s = sim._summary(rows, ["pdm"])["pdm"]
    assert s["mean_score"] == pytest.approx(40.0)
    assert (s["scenarios"], s["crashed"], s["passed"]) == (3, 1, 3)
    assert "pdm: mean score 40.0 over 3 scenarios (1 more crashed)," in sim._table(rows, {"pdm": s})


def test_collisions_count_only_avoided_false() -> None:
    """ncap avoided False counts, None (not evaluated) does not: True, False, None -> 1."""
    rows = [_row(ncap={**_row()["ncap"], "avoided": v}) for v in (True, False, None)]
    assert sim._summary(rows, ["pdm"])["pdm"]["collisions"] == 1


def test_step_time_and_speed_figures_are_medians() -> None:
    """planner_step_median_ms 1, 2, 9: median 2 (the mean would be 4)."""
    rows = [_row(planner_step_median_ms=v) for v in (1.0, 2.0, 9.0)]
    assert sim._summary(rows, ["pdm"])["pdm"]["planner_step_median_ms"] == 2.0


def test_agent_red_light_runs_are_summed_over_runs() -> None:
    """red_light.agent_red_light_runs 2 and 3, and None (0), and no section (0): 5."""
    rows = [
        _row(red_light={"lights": 1, "agent_red_light_runs": 2}),
        _row(red_light={"lights": 1, "agent_red_light_runs": 3}),
        _row(red_light={"lights": 1, "agent_red_light_runs": None}),
        _row(),
    ]
    assert sim._summary(rows, ["pdm"])["pdm"]["agent_red_light_runs"] == 5


# -- the table -------------------------------------------------------------------------------


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_a_crashed_row_has_as_many_cells_as_the_header() -> None:
    """A CRASHED row: scenario, planner, "-", CRASHED, then "-" for every other column (the
    header's 8 columns here: 4 + 4 dashes)."""
    rows = [_row(), _crash()]
    lines = sim._table(rows, sim._summary(rows, ["pdm"])).splitlines()
    head, crashed = _cells(lines[0]), _cells(lines[3])
    assert len(head) == 8
    assert crashed == ["c", "pdm", "-", "CRASHED", "-", "-", "-", "-"]


def test_min_ttc_cell_has_two_decimals_and_simulator_factor_none() -> None:
    """min TTC 1.234 s -> "1.23"; simulator-alone factor 12.4 -> "12x" (:.0f)."""
    rows = [_row(ncap={"impact_speed_kph": None, "min_ttc_s": 1.234, "avoided": True})]
    rows[0]["sim_only_realtime_factor"] = 12.4
    table = sim._table(rows, sim._summary(rows, ["pdm"]))
    assert _cells(table.splitlines()[2])[6] == "1.23"
    assert "(simulator alone 12x)" in table


def test_an_unexpected_pass_is_counted_in_the_planner_line() -> None:
    """A listed run that passed with every criterion judged: "passed unexpectedly 1, "."""
    rows = [_row(known_failure="flaky")]
    table = sim._table(rows, sim._summary(rows, ["pdm"]))
    assert "passed 1, failed 0, passed unexpectedly 1, collisions" in table


def test_rules_cell_is_a_dash_without_such_rules_on_the_map() -> None:
    """red_light.lights 0 or no section: "-"; lights present, violations None: "0", 3: "3"."""
    lights = sim._LIGHTS
    assert sim._runs_cell({"red_light": {"lights": 0}}, lights) == "-"
    assert sim._runs_cell({}, lights) == "-"
    assert sim._runs_cell({"red_light": {"lights": 2}}, lights) == "0"
    assert sim._runs_cell({"red_light": {"lights": 2}, "red_light_violations": 3}, lights) == "3"
    assert not sim._has_lights({"red_light": {"lights": 0}})


def test_perception_line_percentages_groups_and_zero_velocity_error() -> None:
    """Shares shown as percent with one decimal (0.5 -> 50.0%), each group but "all" once,
    and a velocity error of exactly 0.0 still shown (it is not None)."""
    m = {
        "frames": 4,
        "detection": {
            "all": {"mAP": 0.5, "recall": 0.25, "precision": None},
            "car": {"AP": 0.125, "recall": 1.0, "precision": 0.0},
        },
        "tracking": {"all": {"MOTA": 0.75, "IDS": 2, "MOTP_m": None, "AVE_mps": 0.0}},
    }
    assert sim._perception_line(m) == (
        "perception on 4 simulated frames: detection mAP 50.0%; recall 25.0%, precision -; "
        "car AP 12.5% R 100.0% P 0.0%; "
        "tracking MOTA 75.0%, IDS 2, MOTP 0.00 m, velocity error mean 0.00 m/s"
    )
