"""docs/scenarios.md's YAML example loads and runs as written."""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path

import pytest

from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_scenarios

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"


def test_the_documented_scenario_runs(tmp_path: Path) -> None:
    (block,) = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
    path = tmp_path / "cut_in.yaml"
    path.write_text(block)
    (cfg,) = load_scenarios(path)
    (cutter,) = cfg.agents
    assert cutter.speed_events[0].when_ego_within_m == 25.0
    result = run_scenario(cfg, "pdm")
    assert len(result.history) == 151 and not result.history.collisions.any()


def test_the_synthetic_map_table_gives_each_builders_params_and_lane_ids() -> None:
    """docs/scenarios.md's synthetic-map table names every builder argument with its default,
    and lane ids the builder makes (a scenario author has only the docs)."""
    from drivestack.ingest.maps.synthetic import SYNTHETIC_MAP_BUILDERS, build_synthetic_map

    text = (Path(__file__).resolve().parents[2] / "docs" / "scenarios.md").read_text()
    for kind, builder in SYNTHETIC_MAP_BUILDERS.items():
        (row,) = [r for r in text.splitlines() if r.startswith(f"| `{kind}` |")]
        params = dict(re.findall(r"`(\w+)` ([\w./]+)", row.rsplit("|", 2)[1]))
        signature = inspect.signature(builder).parameters
        assert set(params) == set(signature), kind
        for name, shown in params.items():
            default = signature[name].default
            value = math.pi / 2 if shown == "pi/2" else float(shown)
            assert value == pytest.approx(default, rel=1e-3), (kind, name)
        lanes = {lane.lane_id for lane in build_synthetic_map(kind).lanes}
        named = set(re.findall(r"`(\w+)`", row.split("|")[3]))
        assert named & lanes, (kind, named)
