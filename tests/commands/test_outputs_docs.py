"""The docs list what the commands write: every array of a sim run's history.npz, with the
shape and dtype it is written with (docs/fleets_and_reports.md "history.npz"), and the README's
"Outputs" section points at the full descriptions."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from drivestack.cli import main
from drivestack.sim.history_arrays import HISTORY_ARRAYS

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "fleets_and_reports.md"
#: The dtype words of the table -> the numpy kinds they stand for.
KINDS = {"int64": "i", "int8": "i", "float64": "f", "bool": "b", "unicode": "U"}


def _documented() -> dict[str, tuple[str, str]]:
    """array -> (shape, dtype) of the docs' history.npz table."""
    text = DOC.read_text()
    section = text.split("## history.npz", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (\([^)]*\)) \| (\w+) \|", section, flags=re.M)
    return {name: (shape, dtype) for name, shape, dtype in rows}


def _dims(shape: str, sizes: dict[str, int]) -> tuple[int, ...]:
    """``(T, A, 7)`` -> its sizes; ``T-1`` one tick less."""
    parts = [p.strip() for p in shape.strip("()").split(",") if p.strip()]
    return tuple(int(p) if p.isdigit() else sizes[p] for p in parts)


def test_every_history_array_is_documented() -> None:
    assert set(_documented()) == set(HISTORY_ARRAYS)


def test_history_npz_as_written_matches_the_docs(tmp_path: Path) -> None:
    """A red-light scenario (agents and lights): each written array has the documented shape
    and dtype."""
    out = tmp_path / "run"
    argv = ["sim", str(REPO / "configs/scenarios/red_light_queue.yaml"), "--planner", "pdm"]
    assert main([*argv, "--max-steps", "4", "--out", str(out), "--quiet"]) in (0, 1)
    [path] = list(out.glob("pdm/*/history.npz"))[:1]
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    documented = _documented()
    assert set(arrays) == set(documented)
    n_ticks, n_agents = len(arrays["timestamp_ns"]), len(arrays["agent_labels"])
    n_lights = len(arrays["traffic_light_ids"])
    assert n_agents > 0 and n_lights > 0  # every dimension seen
    sizes = {"T": n_ticks, "T-1": n_ticks - 1, "A": n_agents, "L": n_lights}
    for name, (shape, dtype) in documented.items():
        assert arrays[name].shape == _dims(shape, sizes), name
        assert arrays[name].dtype.kind == KINDS[dtype], name
        if dtype in ("int64", "int8", "float64"):
            assert arrays[name].dtype == np.dtype(dtype), name


def test_readme_outputs_section_points_at_the_docs() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Outputs", 1)[1].split("\n## ", 1)[0]
    for anchor in ("#metrics-of-a-run", "#historynpz", "#replay-output", "#reports"):
        assert f"docs/fleets_and_reports.md{anchor}" in section, anchor
    for name in ("metrics.json", "history.npz", "summary.json", "fleet.jsonl", ".summary.json"):
        assert name in section, name
