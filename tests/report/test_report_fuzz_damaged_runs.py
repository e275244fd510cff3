"""Damaged run folders (found by a bad-input campaign): the report names the file and field it
could not read and writes the rest, instead of a traceback or a silently wrong value."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.report.collect import load_run
from drivestack.report.scenario_view import load_history
from drivestack.report.tracking import check_tracking
from drivestack.sim.history_arrays import EGO_ARRAYS


def _sim_metrics(root: Path, key: str = "pdm/a", **fields: object) -> Path:
    folder = root / key
    folder.mkdir(parents=True)
    record = {"scenario": "a", "planner": "pdm", "score": 90.0, "passed": True, "failures": [],
              "ncap": {"avoided": True, "min_ttc_s": 1.5, "impact_speed_kph": None}}  # fmt: skip
    record.update(fields)
    (folder / "metrics.json").write_text(json.dumps(record))
    return folder / "metrics.json"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"failures": 3}, "field failures"),
        ({"failures": None}, "field failures"),
        ({"fleet": 3}, "field fleet"),
        ({"passed": "yes"}, "field passed"),
    ],
)
def test_sim_metrics_of_a_wrong_type_are_a_corrupt_row(
    tmp_path: Path, fields: dict, named: str
) -> None:
    path = _sim_metrics(tmp_path, **fields)
    (row,) = load_run(tmp_path).rows
    assert row.status == "corrupt" and str(path) in row.error and named in row.error


def test_json_files_that_are_not_utf8_are_problems_not_tracebacks(tmp_path: Path) -> None:
    path = _sim_metrics(tmp_path)
    path.write_bytes(b'{"score": "\xff"}')
    (tmp_path / "summary.json").write_bytes(b"\xff\xff{}")
    (tmp_path / "sim.json").write_text("[1, 2]")
    run = load_run(tmp_path)
    assert run.rows[0].status == "corrupt" and str(path) in run.rows[0].error
    problems = "\n".join(run.problems)
    assert f"{tmp_path / 'summary.json'}: corrupt: not UTF-8 text" in problems
    assert f"{tmp_path / 'sim.json'}: corrupt: expected a JSON object" in problems


def _history(path: Path, **changes: np.ndarray) -> Path:
    t, a = 4, 1
    arrays = {
        "timestamp_ns": np.arange(t, dtype=np.int64) * 100_000_000,
        **{k: np.zeros(t) for k in EGO_ARRAYS},
        "ego_boxes": np.tile([0.0, 0.0, 0.8, 4.5, 1.9, 1.6, 0.0], (t, 1)),
        "agent_labels": np.array(["car"]),
        "agent_boxes": np.tile([20.0, 0.0, 0.8, 4.5, 1.9, 1.6, 0.0], (t, a, 1)),
        "agent_velocity_mps": np.zeros((t, a, 2)),
        "agent_valid": np.ones((t, a), bool),
        "collisions": np.zeros((t, a), bool),
        "planner_step_s": np.full(t - 1, 1e-3),
        "sim_step_s": np.full(t - 1, 1e-3),
    }
    arrays.update(changes)
    np.savez(path, **arrays)
    return path


def test_history_arrays_are_checked(tmp_path: Path) -> None:
    assert len(load_history(_history(tmp_path / "ok.npz"))) == 4
    invalid_nan = np.tile([20.0, 0.0, 0.8, 4.5, 1.9, 1.6, 0.0], (4, 1, 1))
    invalid_nan[0, 0] = np.nan  # an agent not valid at tick 0: its box does not count
    valid = np.array([[False], [True], [True], [True]])
    assert len(
        load_history(_history(tmp_path / "v.npz", agent_boxes=invalid_nan, agent_valid=valid))
    )
    speed = np.array([0.0, 1.0, np.nan, 1.0])
    cases = {
        "nan": ({"ego_speed_mps": speed}, "tick 2: field ego_speed_mps: NaN"),
        "short": ({"ego_x_m": np.zeros(2)}, "field ego_x_m: shape (2,), expected (T=4"),
        "text": ({"ego_boxes": np.full((4, 7), "a")}, "field ego_boxes: dtype <U1"),
        "order": ({"timestamp_ns": np.array([0, 2, 1, 3])}, "tick 2: field timestamp_ns"),
        "agents": ({"agent_boxes": np.zeros((4, 2, 7))}, "field agent_boxes: shape (4, 2, 7)"),
        "nan_agent": ({"agent_boxes": invalid_nan}, "tick 0: field agent_boxes: NaN"),
    }
    for name, (changes, message) in cases.items():
        path = _history(tmp_path / f"{name}.npz", **changes)
        with pytest.raises(DataError, match=f"^{re.escape(str(path))}: ") as err:
            load_history(path)
        assert message in str(err.value), name


def _tracking(**clear_changes: object) -> dict:
    best = {"MOTA": 0.8, "MOTP": 0.8, "IDS": 1, "FRAG": 2, "FP": 3, "FN": 4, "n_gt": 50}
    clear = {"sAMOTA": 0.9, "AMOTA": 0.4, "AMOTP": 0.7, "best": best,
             "per_threshold": [{"recall_threshold": 1.0, "sMOTA": 0.9, "MOTA": 0.8}]}  # fmt: skip
    for key, value in clear_changes.items():
        part, _, name = key.rpartition("__")
        (clear[part] if part else clear)[name] = value
    return {"metrics": {"iou_0.25": {"protocol": {"min_overlap": 0.25, "similarity": "iou_3d"},
            "classes": {"Car": {"clear": clear}}}}}  # fmt: skip


def test_tracking_fields_the_report_shows_are_checked(tmp_path: Path) -> None:
    check_tracking(_tracking())
    where = "metrics.iou_0.25.classes.Car.clear"
    assert check_tracking(_tracking(AMOTP=float("nan"))) == [
        f"field {where}.AMOTP: nan, shown as n/a"
    ]
    for changes, field in (
        ({"AMOTP": None}, f"{where}.AMOTP"),
        ({"AMOTP": "x"}, f"{where}.AMOTP"),
        ({"best__IDS": "x"}, f"{where}.best.IDS"),
        ({"best__n_gt": float("nan")}, f"{where}.best.n_gt"),
        ({"per_threshold": 3}, f"{where}.per_threshold"),
    ):
        with pytest.raises(ValueError, match=re.escape(f"field {field}:")):
            check_tracking(_tracking(**changes))
    bad = _tracking()
    bad["metrics"]["iou_0.25"]["protocol"]["min_overlap"] = "x"
    with pytest.raises(ValueError, match=re.escape("field metrics.iou_0.25.protocol.min_overlap:")):
        check_tracking(bad)
    (tmp_path / "metrics.json").write_text(json.dumps(_tracking(best__IDS="x")))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "metrics.json").write_text(json.dumps(_tracking(best__MOTP=float("inf"))))
    run = load_run(tmp_path)
    assert list(run.tracking) == ["b/metrics.json"]  # shown, its MOTP n/a, and said
    assert f"{tmp_path / 'b' / 'metrics.json'}: tracking metrics.json: field " in run.problems[1]
    assert "best.MOTP: inf, shown as n/a" in run.problems[1]
    assert run.kind == "eval" and run.corrupt_results and run.corrupt_results
    assert (
        f"{tmp_path / 'metrics.json'}: tracking metrics.json: field {where}.best.IDS"
        in (run.problems[0])
    )


def test_a_sim_stopped_part_way_counts_its_runs_that_never_ran(tmp_path: Path) -> None:
    """A sim killed after 4 of its 5 runs was reported as "4 runs, 4 passed, 0 missing": its
    sim.json (written first) lists every run, and no summary.json was written."""
    _sim_metrics(tmp_path, "pdm/a")
    (tmp_path / "sim.json").write_text(
        json.dumps({"kind": "sim", "runs": ["pdm/a", "pdm/b", "../x/y", 7, "idm/"]})
    )
    run = load_run(tmp_path)
    rows = {r.key: r for r in run.rows}
    assert {k: r.status for k, r in rows.items()} == {"pdm/a": "pass", "pdm/b": "missing"}
    missing = rows["pdm/b"]
    assert (
        missing.error
        == f"{tmp_path / 'pdm/b'}: listed in sim.json but never run (the sim was stopped before it)"
    )
    problems = "\n".join(run.problems)
    assert (
        f"{tmp_path / 'summary.json'}: missing beside sim.json: the sim did not finish" in problems
    )
    assert "1 of its listed runs never ran" in problems
    # a finished sim: nothing said
    (tmp_path / "summary.json").write_text("{}")
    (tmp_path / "pdm" / "b").mkdir()
    _sim_metrics(tmp_path / "x", "pdm/b")
    (tmp_path / "x" / "pdm" / "b" / "metrics.json").rename(tmp_path / "pdm" / "b" / "metrics.json")
    run = load_run(tmp_path)
    assert [r.status for r in run.rows] == ["pass", "pass"]
    assert not any("summary.json" in p or "never run" in p for p in run.problems)
