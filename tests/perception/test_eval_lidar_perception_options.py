"""tools/eval_lidar_perception.py refuses by name the options of another dataset (they would be
ignored), honours ``--open3d-frames 0`` on aiMotive / AV2 (no baseline run), and refuses a
config whose map steps are on for KITTI before any scan."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "eval_lidar_perception.py"


@pytest.fixture(scope="module")
def tool() -> dict[str, Any]:
    return runpy.run_path(str(TOOL), run_name="eval_lidar_perception")


def _one_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1 and lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("dataset", ["aimotive", "av2"])
@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--fit-scores"], "--fit-scores"),
        (["--first", "80"], "--first"),
        (["--last", "90"], "--last"),
        (["--max-range-m", "30"], "--max-range-m"),
        (["--no-kitti-protocol"], "--no-kitti-protocol"),
        (["--first", "80", "--max-range-m", "30"], "--first, --max-range-m"),
    ],
)
def test_kitti_options_are_refused_by_name_elsewhere(
    tool: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    dataset: str,
    options: list[str],
    named: str,
) -> None:
    assert tool["main"](["--dataset", dataset, "--root", str(tmp_path), *options]) == 2
    assert _one_error(capsys) == (
        f"error: field {named}: only for --dataset kitti-tracking (not {dataset}): it would be "
        "ignored"
    )


def test_the_aimotive_band_margin_is_refused_on_kitti_and_av2(
    tool: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    for dataset in ("kitti-tracking", "av2"):
        assert tool["main"](["--dataset", dataset, "--band-margin-m", "2"]) == 2
        assert "field --band-margin-m: only for --dataset aimotive" in _one_error(capsys)


def test_a_baseline_count_is_refused_outside_kitti(
    tool: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert tool["main"](["--dataset", "av2", "--open3d-frames", "5"]) == 2
    assert "field --open3d-frames: --dataset av2 runs the open3d baseline on every scan" in (
        _one_error(capsys)
    )


def test_a_map_config_is_refused_for_kitti_before_any_scan(
    tool: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    av2 = REPO / "configs" / "perception" / "lidar_av2.yaml"
    assert tool["main"](["--data", str(tmp_path), "--config", str(av2)]) == 2
    assert _one_error(capsys).startswith(f"error: {av2}: field ground.prior_surface: is on")


@pytest.mark.data
def test_open3d_frames_0_skips_the_baseline_on_av2(
    tool: dict[str, Any],
    shared_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class NotRun:
        def __init__(self) -> None:
            raise AssertionError("the open3d baseline was built with --open3d-frames 0")

    monkeypatch.setitem(tool["other_dataset"].__globals__, "Open3dBaselineDetector", NotRun)
    out = tmp_path / "av2.json"
    args = ["--data", str(shared_data), "--dataset", "av2", "--open3d-frames", "0"]
    assert tool["main"]([*args, "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert "open3d_baseline" not in figures and "drivestack" in figures
    assert list(figures["stage_median_ms"]) == ["drivestack"]
    assert figures["open3d_over_drivestack_time_ratio"] is None
    table = capsys.readouterr().out
    vehicle = next(line for line in table.splitlines() if "vehicle AP at 2 m" in line)
    assert vehicle.split()[-2:] == [f"{figures['drivestack']['vehicle']['ap_2m']:.3f}", "-"]
