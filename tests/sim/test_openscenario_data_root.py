"""An OpenSCENARIO file's relative road network is read from ``--data-root`` (drivestack sim
and fleet) when it is not beside the file, and the error names ``--data-root`` when it is in
neither."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from drivestack.commands import _paths
from drivestack.commands.fleet import load_sources
from drivestack.core.errors import ConfigError
from drivestack.sim.openscenario import read_openscenario, road_network_root

REPO = Path(__file__).resolve().parents[2]
CUT_IN = REPO / "configs" / "scenarios" / "openscenario_e6_cut_in.xosc"
XODR = "opendrive_esmini/e6mini.xodr"  # (its LogicFile, relative)


@pytest.fixture
def no_default_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout without ../shared/data: the default shared data folder is none."""
    monkeypatch.setattr(_paths, "default_shared_data", lambda: None)


@pytest.fixture
def data_root(tmp_path: Path, shared_data: Path) -> Path:
    """A data folder of one's own holding the road network at the file's relative path."""
    root = tmp_path / "data"
    (root / XODR).parent.mkdir(parents=True)
    shutil.copy(shared_data / XODR, root / XODR)
    return root


def _args(scenario: Path, data_root: Path | None) -> argparse.Namespace:
    return argparse.Namespace(
        suite=None,
        scenario=str(scenario),
        filter="",
        data_root=None if data_root is None else str(data_root),
    )


def test_sim_scenario_reads_the_road_network_from_data_root(
    tmp_path: Path, data_root: Path, no_default_shared: None
) -> None:
    xosc = tmp_path / "cut_in.xosc"  # nothing beside it: only --data-root has the map
    shutil.copy(CUT_IN, xosc)
    [cfg], known = load_sources(_args(xosc, data_root))
    assert known == {}
    assert cfg.map.file == str((data_root / XODR).resolve())


def test_missing_road_network_names_data_root(tmp_path: Path, no_default_shared: None) -> None:
    xosc = tmp_path / "cut_in.xosc"
    shutil.copy(CUT_IN, xosc)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError) as err:
        load_sources(_args(xosc, empty))
    text = str(err.value)
    assert "RoadNetwork/LogicFile@filepath" in text and "--data-root" in text
    assert str(empty / XODR) in text  # the folder given was looked in


def test_road_network_root_is_scoped(
    tmp_path: Path, data_root: Path, no_default_shared: None
) -> None:
    xosc = tmp_path / "cut_in.xosc"
    shutil.copy(CUT_IN, xosc)
    with road_network_root(data_root):
        assert read_openscenario(xosc)["map"]["file"] == str((data_root / XODR).resolve())
    with pytest.raises(ConfigError, match="road network not found"):
        read_openscenario(xosc)  # outside the block: the default folder, none here
