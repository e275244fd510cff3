"""Damaged fleet folders, bad sweep specs and a Ray that does not start: a resume warns (file,
line, field) and reruns what it cannot trust, a bad manifest or sweep is one DataError, and a
Ray failure is the RuntimeError the CLI turns into one line."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import ConfigError, DataError
from drivestack.exec.executors import RayExecutor
from drivestack.exec.fleet import INDEX_NAME, MANIFEST_NAME, record_problem, run_fleet
from drivestack.exec.sweep import (
    MAX_VARIANTS,
    SweepSpec,
    expand_variants,
    parse_sweep_param,
    scenario_variants,
)
from drivestack.exec.task import VariantTask, variant_record
from drivestack.sim.scenario import load_scenarios


class InlineExecutor:
    name = "inline"
    workers = 1

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        for task in tasks:
            yield task, fn(task)

    def close(self) -> None:
        pass


def _task(task: VariantTask) -> dict[str, Any]:
    """A run that passes and writes its result folder as run_variant does (a metrics.json
    with the fields the report reads, a history.npz archive)."""
    record = {**variant_record(task.variant), "status": "ok", "score": 90.0, "passed": True,
              "collision": False}  # fmt: skip
    folder = Path(task.out_dir) / task.variant.variant_id
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "history.npz", t_s=np.zeros(3))
    (folder / "metrics.json").write_text(json.dumps({**record, "ncap": {"avoided": True}}))
    return record


def _fleet(scenario_file: Path, out: Path) -> tuple[list, Any]:
    spec = SweepSpec((parse_sweep_param("ego.speed_kph=40:80"),), count=4)
    variants = expand_variants(load_scenarios(scenario_file), ["pdm"], spec)
    return variants, run_fleet(variants, out, InlineExecutor(), progress=False, task_fn=_task)


def test_resume_skips_unusable_index_lines_naming_them_and_reruns_their_variants(
    scenario_file: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "f"
    variants, _ = _fleet(scenario_file, out)
    index = out / INDEX_NAME
    lines = index.read_bytes().splitlines()
    recs = [json.loads(line) for line in lines]
    recs[1].pop("score")
    recs[2]["variant"] = ["not", "hashable"]
    recs[3]["status"] = "banana"
    body = [lines[0], json.dumps(recs[1]).encode(), json.dumps(recs[2]).encode(),
            json.dumps(recs[3]).encode(), lines[0][:-5] + b"\xc3"]  # fmt: skip
    index.write_bytes(b"\n".join(body) + b"\n")
    (out / "fleet_summary.json").unlink()
    capsys.readouterr()
    again = run_fleet(variants, out, InlineExecutor(), progress=False, task_fn=_task)
    assert (again.ran, again.skipped) == (3, 1)
    warned = capsys.readouterr().out
    assert f"{index}: line 2: field score: missing; skipped" in warned
    assert f"{index}: line 3: field variant: not a string; skipped" in warned
    assert f"{index}: line 4: field status: 'banana'" in warned
    assert f"{index}: line 5: not UTF-8" in warned
    summary = json.loads((out / "fleet_summary.json").read_text())["pdm"]
    assert (summary["variants"], summary["passed"], summary["mean_score"]) == (4, 4, 90.0)


def test_resume_reruns_a_variant_whose_result_folder_was_deleted_or_damaged(
    scenario_file: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "f"
    variants, _ = _fleet(scenario_file, out)
    gone = out / variants[1].variant_id
    for child in gone.iterdir():
        child.unlink()
    gone.rmdir()
    damaged = out / variants[2].variant_id / "metrics.json"
    damaged.write_text('{"score": 9')
    capsys.readouterr()
    again = run_fleet(variants, out, InlineExecutor(), progress=False, task_fn=_task)
    assert (again.ran, again.skipped) == (2, 2)
    warned = capsys.readouterr().out
    assert f"{gone / 'metrics.json'}: missing" in warned and "running it again" in warned
    assert f"{damaged}: corrupt metrics.json" in warned
    assert json.loads(damaged.read_text())["score"] == 90.0


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        ("truncate_npz", "corrupt history.npz"),
        ("npz_not_zip", "corrupt history.npz"),
        ("metrics_no_score", "field score/passed: missing"),
        ("metrics_bad_ncap", "field ncap"),
    ],
)
def test_resume_reruns_a_variant_whose_results_the_report_would_call_corrupt(
    scenario_file: Path, tmp_path: Path, capsys, damage: str, named: str
) -> None:
    out = tmp_path / "f"
    variants, _ = _fleet(scenario_file, out)
    folder = out / variants[3].variant_id
    history, metrics = folder / "history.npz", folder / "metrics.json"
    if damage == "truncate_npz":
        history.write_bytes(history.read_bytes()[:-30])
    elif damage == "npz_not_zip":
        history.write_bytes(b"\x93NUMPY not an archive")
    else:
        data = json.loads(metrics.read_text())
        if damage == "metrics_no_score":
            data.pop("score")
        else:
            data["ncap"] = [1]
        metrics.write_text(json.dumps(data))
    capsys.readouterr()
    again = run_fleet(variants, out, InlineExecutor(), progress=False, task_fn=_task)
    assert (again.ran, again.skipped) == (1, 3)
    warned = capsys.readouterr().out
    line = next(x for x in warned.splitlines() if variants[3].variant_id in x)
    assert named in line and "running it again" in line
    assert np.load(history).files == ["t_s"] and json.loads(metrics.read_text())["score"] == 90.0
    # mended: a further resume runs nothing and warns of nothing
    third = run_fleet(variants, out, InlineExecutor(), progress=False, task_fn=_task)
    assert third.ran == 0 and "warning" not in capsys.readouterr().out


def test_a_cut_line_is_silent_once_a_later_record_of_its_variant_reads(
    scenario_file: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "f"
    variants, _ = _fleet(scenario_file, out)
    index = out / INDEX_NAME
    lines = index.read_bytes().splitlines()
    index.write_bytes(b"\n".join(lines[:3]) + b"\n" + lines[3][:40])  # the last one cut
    capsys.readouterr()
    run_fleet(variants, out, InlineExecutor(), progress=False, task_fn=_task)
    assert f"{index}: line 4: not JSON" in capsys.readouterr().out  # warned once, rerun
    assert len(index.read_bytes().splitlines()) == 5
    run_fleet(variants, out, InlineExecutor(), progress=False, task_fn=_task)
    assert "warning" not in capsys.readouterr().out  # line 5 holds the variant now
    # a line cut before its variant id tells nothing: it is still named
    with index.open("ab") as f:
        f.write(b'{"varia\n')
    run_fleet(variants, out, InlineExecutor(), progress=False, task_fn=_task)
    assert f"{index}: line 6: not JSON" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (b"[1, 2]", None),
        (b'{"sweep": [1]}', "sweep"),
        (b"\xff\xfe\x00{", None),
        # these two failed with a TypeError traceback on resume
        (b'{"known_failures": {"ccrs[10kph]": 5}}', "known_failures.ccrs[10kph]"),
        (b'{"filters": 5}', "filters"),
    ],
)
def test_a_manifest_that_is_not_a_fleet_object_is_a_data_error(
    scenario_file: Path, tmp_path: Path, text: bytes, field: str | None
) -> None:
    out = tmp_path / "f"
    out.mkdir()
    (out / MANIFEST_NAME).write_bytes(text)
    variants = expand_variants(load_scenarios(scenario_file), ["pdm"], SweepSpec())
    with pytest.raises(DataError) as info:
        run_fleet(variants, out, InlineExecutor(), progress=False, task_fn=_task)
    assert info.value.path == str(out / MANIFEST_NAME) and info.value.field == field


def test_a_nan_range_bound_is_named() -> None:
    with pytest.raises(ConfigError, match="not NaN") as info:
        parse_sweep_param("ego.speed_kph=nan:50")
    assert info.value.field == "ego.speed_kph"


def test_a_huge_sweep_is_refused_before_it_is_expanded(scenario_file: Path) -> None:
    scenarios = load_scenarios(scenario_file)
    spec = SweepSpec((parse_sweep_param("ego.speed_kph=40:80"),), count=10**9)
    with pytest.raises(ConfigError, match="2,000,000,000 variants") as info:
        expand_variants(scenarios, ["pdm", "idm"], spec)  # at once, not after minutes
    assert info.value.field == "--variants"
    grid = ",".join(str(40 + i) for i in range(400))
    spec = SweepSpec(
        (parse_sweep_param(f"ego.speed_kph={grid}"), parse_sweep_param(f"ego.station_m={grid}"))
    )
    with pytest.raises(ConfigError, match=f"more than {MAX_VARIANTS:,}") as info:
        expand_variants(scenarios, ["pdm"], spec)
    assert info.value.field == "--sweep"


def test_draws_of_a_range_narrower_than_the_rounding_stay_inside_it(scenario_file: Path) -> None:
    (cfg,) = load_scenarios(scenario_file)
    spec = SweepSpec((parse_sweep_param("ego.speed_kph=40.0001:40.0004"),), count=3)
    for _, _, params in scenario_variants(cfg, spec):
        assert 40.0001 <= params["ego.speed_kph"] <= 40.0004


def test_ray_absent_or_not_starting_is_one_runtime_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # its import fails
    with pytest.raises(RuntimeError, match="needs ray"):
        RayExecutor(2)

    def refuse(**kwargs: Any) -> None:
        raise OSError("port 6379 in use")

    fake = types.SimpleNamespace(is_initialized=lambda: False, init=refuse)
    monkeypatch.setitem(sys.modules, "ray", fake)
    with pytest.raises(RuntimeError, match="could not start a local Ray instance: OSError: port"):
        RayExecutor(2)


def test_fleet_score_too_large_for_a_float_is_a_problem_not_a_crash() -> None:
    """A JSON integer no float64 holds (math.isfinite raised OverflowError)."""
    rec = {"variant": "a", "status": "ok", "planner": "p", "score": 10**400, "collision": False}
    assert record_problem(rec) == f"field score: {10**400!r} is not a finite number"
