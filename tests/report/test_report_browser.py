"""The report of a small real run against a baseline opens in headless Chromium.

Two `drivestack sim` runs of one scenario file: in the current run the stopped car of case
``mid`` stands 10 m ahead (a collision: newly failing), case ``gone`` exists only in the
baseline and ``new`` only in the current run; one more result folder holds a corrupt
metrics.json.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from drivestack.cli import main

SCENARIO = """\
name: rear
description: ego at 50 km/h behind a stopped car
map: {{kind: straight, params: {{n_lanes: 2, speed_limit_mps: 13.89}}}}
ego: {{lane: road_0, station_m: 100.0, speed_kph: 50.0}}
duration_s: 2.0
agents:
  - {{id: target, type: car, behavior: scripted, lanes: [road_0], station_m: 170.0, speed_mps: 0.0}}
pass_criteria: {{no_collision: true}}
sweep:
  cases:
    - {{name: far, agents.0.station_m: 170.0}}
    - {{name: mid, agents.0.station_m: {mid}}}
    - {{name: {third}, agents.0.station_m: 160.0}}
"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    for run, mid, third in (("base", 150.0, "gone"), ("cur", 110.0, "new")):
        (tmp / f"{run}.yaml").write_text(SCENARIO.format(mid=mid, third=third))
        argv = ["sim", str(tmp / f"{run}.yaml"), "--planner", "pdm", "--out", str(tmp / run)]
        # cur's rear[mid] fails its pass criteria: `drivestack sim` may exit 1 for that
        assert main(argv) in ((0, 1) if run == "cur" else (0,))
    broken = tmp / "cur" / "pdm" / "broken"
    broken.mkdir()
    (broken / "metrics.json").write_text('{"scenario": "broken", "score": 1')
    out = tmp / "report.html"
    assert (
        main(["report", str(tmp / "cur"), "--baseline", str(tmp / "base"), "--out", str(out)]) == 0
    )
    return out


def test_report_json_compares_on_common_scenarios(report_html: Path) -> None:
    data = json.loads(report_html.with_suffix(".json").read_text())
    cmp_ = data["comparison"]
    assert [(c["key"], c["kind"]) for c in cmp_["regressions"]] == [("pdm/rear_mid", "newly_fails")]
    assert cmp_["common"] == 2
    assert cmp_["only_in_run"] == ["pdm/broken", "pdm/rear_new"]
    assert cmp_["only_in_baseline"] == ["pdm/rear_gone"]
    rows = {r["key"]: r for r in data["rows"]}
    assert (
        rows["pdm/broken"]["status"] == "corrupt"
        and "corrupt metrics.json" in rows["pdm/broken"]["error"]
    )
    mid = rows["pdm/rear_mid"]
    assert mid["status"] == "fail" and mid["collision"] and mid["impact_speed_kph"] > 20.0
    assert [r["key"] for r in data["rows"]][:2] == ["pdm/broken", "pdm/rear_mid"]  # failures first
    assert data["counts"] == {**data["counts"], "total": 4, "pass": 2, "fail": 1, "corrupt": 1}
    assert set(data["details"]) == {"pdm/rear_mid", "pdm/rear_new", "pdm/rear_far"}


def test_report_opens_in_headless_chromium(report_html: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]  # fmt: skip
    url = report_html.resolve().as_uri()
    shot = tmp_path / "report.png"
    subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1400,3000", url],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    dom = subprocess.run([*flags, "--dump-dom", url], check=True, capture_output=True,
                         text=True, timeout=120).stdout  # fmt: skip
    assert '<table id="scenario-table" class="sortable" data-sortable="ready">' in dom  # JS ran
    assert dom.count('<img src="data:image/png;base64,') >= 6  # 3 runs x (bird's-eye, signals)
    assert '<tr class="regression"><td class="l" data-v="pdm/rear_mid">' in dom
    assert "newly fails" in dom and "corrupt metrics.json" in dom
    assert "only in the baseline" in dom and "pdm/rear_gone" in dom


def test_a_scenario_edited_between_the_runs_is_said(report_html: Path) -> None:
    """The fixture moved rear[mid]'s stopped car from 150 m to 110 m between the runs: its
    regression may be the scenario's, not the stack's. Runs with the same config (far) are
    not named."""
    data = json.loads(report_html.with_suffix(".json").read_text())
    assert data["comparison"]["other_config"] == ["pdm/rear_mid"]
    (warning,) = [w for w in data["warnings"] if "another scenario config" in w]
    assert warning.startswith(
        "1 compared runs ran another scenario config (first pdm/rear_mid: "
        "agents.0.station_m 110.0 here, 150.0 in the baseline)"
    )


def test_keys_only_one_config_records_are_no_difference() -> None:
    from drivestack.report.compare import config_differences

    old = {"ego.speed_kph": 50.0, "duration_s": 10.0}
    new = {"ego.speed_kph": 50.0, "duration_s": 10.0, "agents_reactive": False}  # a newer key
    assert config_differences(new, old) == []
    assert config_differences({**new, "duration_s": 12.0}, old) == ["duration_s"]
