"""docs/scenarios.md's YAML example loads and runs as written."""

from __future__ import annotations

import re
from pathlib import Path

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
