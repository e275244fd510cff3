"""The fleet's words: passed / failed (ran, did not pass) / crashed (raised), as ``drivestack
sim`` counts them; old indexes whose crashed records say ``failed`` still resume and report."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.cli import build_parser, main
from drivestack.exec.fleet import INDEX_NAME, FleetResult, fleet_summary, run_fleet
from drivestack.exec.sweep import SweepSpec, expand_variants, parse_sweep_param
from drivestack.exec.task import VariantTask, is_crashed, variant_record
from drivestack.report.collect import load_run
from drivestack.sim.scenario import load_scenarios


class InlineExecutor:
    """Runs tasks in this process, one after another (no pool: the test stays cheap)."""

    name = "inline"
    workers = 1

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        for task in tasks:
            try:
                yield task, fn(task)
            except Exception as exc:  # the executor hands the exception back
                yield task, exc

    def close(self) -> None:
        pass


def _task(task: VariantTask) -> dict[str, Any]:
    """Variant 0 raises; the others run, and variant 1 misses its pass criteria."""
    v = task.variant
    if v.index == 0:
        raise RuntimeError("boom")
    passed = v.index != 1
    record = {**variant_record(v), "status": "ok", "score": 50.0, "passed": passed,
              "collision": not passed}  # fmt: skip
    folder = Path(task.out_dir) / v.variant_id  # a run's results, as run_variant writes them
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "history.npz", t_s=np.zeros(2))  # what the report opens and reads
    (folder / "metrics.json").write_text(json.dumps({**record, "ncap": {"avoided": passed}}))
    return record


def _variants(scenario_file: Path) -> list:
    spec = SweepSpec((parse_sweep_param("ego.speed_kph=30:50"),), count=3)
    return expand_variants(load_scenarios(scenario_file), ["pdm"], spec)


def _lines(index: Path) -> list[dict]:
    return [json.loads(line) for line in index.read_text().splitlines() if line.strip()]


def test_summary_counts_passed_failed_and_crashed() -> None:
    base = {"planner": "pdm", "score": 10.0}
    records = [
        {**base, "status": "ok", "passed": True, "collision": False},
        {**base, "status": "ok", "passed": False, "collision": True},
        {"planner": "pdm", "status": "crashed", "error": "x"},
        {"planner": "pdm", "status": "failed", "error": "y"},  # an older index's crash
    ]
    s = fleet_summary(records)["pdm"]
    assert (s["variants"], s["passed"], s["failed"], s["crashed"], s["ok"]) == (4, 1, 1, 2, 2)
    assert s["collisions"] == 1
    assert is_crashed(records[3]) and not is_crashed(records[1])


def test_a_raising_variant_is_crashed_and_an_old_failed_record_is_retried(
    scenario_file: Path, tmp_path: Path
) -> None:
    variants = _variants(scenario_file)
    out = tmp_path / "fleet"
    result = run_fleet(variants, out, InlineExecutor(), progress=False, task_fn=_task)
    assert (result.ran, result.crashed, result.failed) == (3, 1, 1)  # .failed: older name
    statuses = {r["variant"]: r["status"] for r in _lines(out / INDEX_NAME)}
    assert sorted(statuses.values()) == ["crashed", "ok", "ok"]
    summary = json.loads((out / "fleet_summary.json").read_text())["pdm"]
    assert (summary["passed"], summary["failed"], summary["crashed"]) == (1, 1, 1)
    # an older index called a crash "failed": a resume with --retry-failed reruns it (only it,
    # not the variant that ran and did not pass)
    old = [{**r, "status": "failed"} if r["status"] == "crashed" else r
           for r in _lines(out / INDEX_NAME)]  # fmt: skip
    (out / INDEX_NAME).write_text("".join(json.dumps(r) + "\n" for r in old))
    again = run_fleet(variants, out, InlineExecutor(), progress=False, task_fn=_task)
    assert (again.ran, again.skipped) == (0, 3)
    retried = run_fleet(
        variants, out, InlineExecutor(), progress=False, task_fn=_task, retry_failed=True
    )
    assert (retried.ran, retried.crashed, retried.skipped) == (1, 1, 2)
    assert _lines(out / INDEX_NAME)[-1]["status"] == "crashed"


def test_the_report_counts_crashed_records_old_and_new(tmp_path: Path) -> None:
    (tmp_path / "fleet.json").write_text(json.dumps({"kind": "fleet", "planners": ["pdm"]}))
    records = [
        {"variant": "pdm/a_0000", "scenario": "a#0000", "planner": "pdm", "status": "crashed",
         "error": "RuntimeError: boom"},
        {"variant": "pdm/a_0001", "scenario": "a#0001", "planner": "pdm", "status": "failed",
         "error": "RuntimeError: older"},
    ]  # fmt: skip
    (tmp_path / INDEX_NAME).write_text("".join(json.dumps(r) + "\n" for r in records))
    rows = {r.key: r for r in load_run(tmp_path).rows}
    assert rows["pdm/a_0000"].status == rows["pdm/a_0001"].status == "crashed"
    assert rows["pdm/a_0000"].error == "RuntimeError: boom"


@pytest.mark.parametrize(
    ("record", "status"),
    [
        ({"status": "ok", "passed": False, "collision": True, "score": 5.0}, 0),
        ({"status": "crashed", "error": "RuntimeError: boom"}, 1),
        ({"status": "failed", "error": "RuntimeError: boom"}, 1),  # an older index's crash
        (  # a swept value the map refused (was: only '--retry-crashed reruns them')
            {"status": "crashed", "error": "ConfigError: off its lane", "config_error": True},
            1,
        ),
    ],
)
def test_exit_status_is_1_only_while_a_variant_crashed(
    scenario_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    record: dict[str, Any],
    status: int,
) -> None:
    def fake_run_fleet(variants: Sequence[Any], *args: Any, **kwargs: Any) -> FleetResult:
        records = tuple({**variant_record(v), **record} for v in variants)
        return FleetResult(len(variants), len(variants), 0, 0, 0.1, records)

    monkeypatch.setattr("drivestack.exec.fleet.run_fleet", fake_run_fleet)
    argv = [
        "fleet",
        str(scenario_file),
        "--planner",
        "pdm",
        "--out",
        str(tmp_path / "f"),
        "--quiet",
    ]
    assert main(argv) == status
    out, err = capsys.readouterr()
    if status == 0:  # a variant that collided ran: a sweep exploring failures is not an error
        assert "0 passed, 1 failed, 0 crashed" in out and err == ""
        # said, since drivestack sim --sweep ends here too (a sim run would exit 1)
        assert "note: 1 failed their pass criteria: a fleet exits 0 for them" in out
    else:
        assert "0 passed, 0 failed, 1 crashed" in out
        assert "1 of 1 variants crashed" in err and "--retry-crashed" in err
        refused = "1 of them refused their swept values when built" in err
        assert refused == bool(record.get("config_error"))


def test_help_says_the_exit_rule_and_both_retry_names() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    fleet = sub.choices["fleet"]  # type: ignore[attr-defined]
    text = " ".join(fleet.format_help().split())
    assert "--retry-crashed, --retry-failed" in text
    assert "1 while any variant in OUT crashed" in text
    assert "not an error" in text and "(as for a plain sim run" not in text
    assert fleet.parse_args(["x", "--out", "o", "--retry-failed"]).retry_failed
    assert fleet.parse_args(["x", "--out", "o", "--retry-crashed"]).retry_failed


def test_progress_without_a_terminal_is_plain_lines(
    tmp_path: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # stderr is not a terminal here (captured): no bar's carriage-return frames, a line per 10 %
    run_fleet(_variants(scenario_file), tmp_path / "f", InlineExecutor(), task_fn=_task)
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = [line.rsplit(", ", 1)[0] for line in err.splitlines() if "runs done" in line]
    assert lines == [f"fleet (inline x1): {n}/3 runs done, 1 crashed" for n in (1, 2, 3)]
    # --quiet: nothing
    run_fleet(_variants(scenario_file), tmp_path / "g", InlineExecutor(), task_fn=_task,
              progress=False)  # fmt: skip
    assert "runs done" not in capsys.readouterr().err
