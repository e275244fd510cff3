"""Ray runs the same tasks as the local pool: same seeds, same scores (a 20-variant sweep)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.exec.executors import LocalPoolExecutor, RayExecutor
from drivestack.exec.fleet import read_index, run_fleet
from drivestack.exec.sweep import SweepSpec, expand_variants, parse_sweep_param
from drivestack.exec.task import TIMING_FIELDS
from drivestack.sim.scenario import load_scenarios

pytest.importorskip("ray", reason="ray is an optional extra: pip install 'drivestack[ray]'")


def _comparable(records: list[dict]) -> dict[str, dict]:
    return {r["variant"]: {k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in records}


@pytest.mark.slow
def test_ray_gives_the_local_pool_results(scenario_file: Path, tmp_path: Path) -> None:
    spec = SweepSpec(
        (parse_sweep_param("ego.speed_kph=20:70"), parse_sweep_param("agents.0.station_m=112,140")),
        count=10,
        seed=3,
    )
    variants = expand_variants(load_scenarios(scenario_file), ["pdm"], spec)
    assert len(variants) == 20
    local = run_fleet(
        variants, tmp_path / "local", LocalPoolExecutor(2), max_steps=15, progress=False
    )
    ray_executor = RayExecutor(2)
    try:
        remote = run_fleet(variants, tmp_path / "ray", ray_executor, max_steps=15, progress=False)
    finally:
        ray_executor.close()
    assert local.ran == remote.ran == 20 and local.failed == remote.failed == 0
    a = _comparable(read_index(tmp_path / "local" / "fleet.jsonl")[0])
    b = _comparable(read_index(tmp_path / "ray" / "fleet.jsonl")[0])
    assert a == b and len(a) == 20
    assert len({r["seed"] for r in a.values()}) == 20
    assert any(r["collision"] for r in a.values()) and not all(r["collision"] for r in a.values())
