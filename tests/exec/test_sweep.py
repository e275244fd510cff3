"""Fleet sweeps: parsing, seeded expansion, keys a scenario lacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import ConfigError
from drivestack.exec.sweep import (
    SweepParam,
    SweepSpec,
    expand_variants,
    parse_sweep_param,
    scenario_variants,
    unswept_keys,
    variant_seed,
)
from drivestack.sim.scenario import load_scenarios

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_parse_sweep_param() -> None:
    assert parse_sweep_param("ego.speed_kph=20:60") == SweepParam("ego.speed_kph", low=20, high=60)
    assert parse_sweep_param("agents.0.station_m=110,120.5,x") == SweepParam(
        "agents.0.station_m", values=(110, 120.5, "x")
    )
    for bad in ("ego.speed_kph", "=1:2", "a=3:1", "a=x:2"):
        with pytest.raises(ConfigError):
            parse_sweep_param(bad)


def test_variants_are_seeded_grid_times_draws() -> None:
    ccrs = load_scenarios(CONFIGS / "scenarios" / "ccrs.yaml")[0]
    spec = SweepSpec(
        (
            SweepParam("agents.0.station_m", values=(130.0, 150.0)),
            SweepParam("ego.speed_kph", low=20.0, high=60.0),
            SweepParam("agents.5.speed_mps", low=0.0, high=1.0),  # no 6th agent: not swept
        ),
        count=3,
        seed=7,
    )
    variants = scenario_variants(ccrs, spec)
    assert len(variants) == 6
    params = [p for _, _, p in variants]
    assert [p["agents.0.station_m"] for p in params] == [130.0, 150.0] * 3
    assert all(set(p) == {"agents.0.station_m", "ego.speed_kph"} for p in params)
    assert unswept_keys([ccrs], spec) == {"agents.5.speed_mps": ["ccrs[10kph]"]}
    assert all(20.0 <= p["ego.speed_kph"] <= 60.0 for p in params)
    cfg, seed, p = variants[4]
    assert cfg.name == "ccrs[10kph]#0004" and seed == variant_seed(7, "ccrs[10kph]", 4)
    assert cfg.ego.speed_kph == p["ego.speed_kph"] and cfg.agents[0].station_m == 130.0
    # a variant's values come from its own seed: the same with more draws, new with another seed
    more = scenario_variants(ccrs, SweepSpec(spec.params, count=5, seed=7))
    assert len(more) == 10
    assert [(c.name, s, p) for c, s, p in more[:6]] == [(c.name, s, p) for c, s, p in variants]
    other = scenario_variants(ccrs, SweepSpec(spec.params, count=3, seed=8))
    assert other[1][2]["ego.speed_kph"] != params[1]["ego.speed_kph"]


def test_expand_variants_ids_per_planner() -> None:
    scenarios = load_scenarios(CONFIGS / "scenarios" / "ccrs.yaml")[:2]
    variants = expand_variants(
        scenarios, ["pdm", "idm"], SweepSpec((parse_sweep_param("ego.speed_kph=20:30"),), count=2)
    )
    assert len(variants) == 8
    assert variants[0].variant_id == "pdm/ccrs_10kph_0000"
    assert variants[1].variant_id == "idm/ccrs_10kph_0000"
    assert variants[0].seed == variants[1].seed  # both planners drive the same variant
    assert len({v.variant_id for v in variants}) == 8
    # no sweep: every scenario once, under its own name
    plain = expand_variants(scenarios, ["pdm"], SweepSpec())
    assert [v.scenario.name for v in plain] == ["ccrs[10kph]", "ccrs[20kph]"]


def test_python_only_numbers_in_a_sweep_are_not_numbers() -> None:
    # "1_0" / fullwidth "10" were the number 10; grid values now stay text (refused by the
    # scenario check as "expected a number"), range bounds are an error
    assert parse_sweep_param("ego.speed_kph=1_0,\uff11\uff10, 20 ") == SweepParam(
        "ego.speed_kph", values=("1_0", "\uff11\uff10", 20)
    )
    for bad in ("ego.speed_kph=1_0:20", "ego.speed_kph=\uff11\uff10:20", "a=1:\u0662\u0660"):
        with pytest.raises(ConfigError, match="range bounds must be numbers"):
            parse_sweep_param(bad)
    assert parse_sweep_param("a= 1e1 : 20 ") == SweepParam("a", low=10, high=20)


def test_a_non_ascii_digit_does_not_index_a_list_in_a_sweep_key() -> None:
    (cfg,) = [c for c in load_scenarios(CONFIGS / "scenarios" / "ccrs.yaml")][:1]
    spec = SweepSpec((SweepParam("agents.\uff10.station_m", values=(50,)),))
    # "agents.\uff10" was agents[0]: swept as if the key were agents.0.station_m
    assert unswept_keys([cfg], spec) == {"agents.\uff10.station_m": [cfg.name]}
    assert scenario_variants(cfg, spec) == [(cfg, variant_seed(0, cfg.name, 0), {})]


def test_numeric_looking_lane_ids_sweep_as_text() -> None:
    # Lanelet2 / CommonRoad lane ids read as numbers on the command line: "expected a string,
    # got 45084"; quoting passed the quotes through ("no lane \"'45084'\" in the map")
    (cfg,) = load_scenarios(CONFIGS / "scenarios" / "lanelet2_signal_stop.yaml")
    assert parse_sweep_param("ego.lane='45084',\"45082\"").values == ("45084", "45082")
    for text in ("ego.lane=45084,45082", "ego.lane='45084','45082'"):
        variants = scenario_variants(cfg, SweepSpec((parse_sweep_param(text),)))
        assert [v[0].ego.lane for v in variants] == ["45084", "45082"]
        assert [v[2] for v in variants] == [{"ego.lane": "45084"}, {"ego.lane": "45082"}]
    # a number field keeps numbers
    (speed,) = scenario_variants(cfg, SweepSpec((parse_sweep_param("ego.speed_kph=20"),)))
    assert speed[2] == {"ego.speed_kph": 20}
