"""Golden replay: the bundled demo drive through the default stack gives the stored outputs.

If this fails after an intended change, look at the listed differences and refresh the
reference with ``.venv/bin/python tools/refresh_golden.py``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from drivestack.pipeline import build_stack
from drivestack.replay.golden import compare_golden, golden_record, load_golden
from drivestack.replay.runner import replay
from tests.replay._tools import load_tool

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_replay_matches_golden_outputs(tmp_path):
    out = tmp_path / "run.mcap"
    summary = replay(
        REPO / "data/demo/drive.mcap",
        build_stack(REPO / "configs/stack/sim_lidar.yaml"),
        out,
        progress=False,
    )
    assert summary["clean"] and summary["frames_processed"] == 61
    diffs = compare_golden(golden_record(out), load_golden(REPO / "tests/golden/demo_replay.json"))
    assert not diffs, "\n".join(diffs[:20])


def test_comparison_reports_moved_boxes_and_changed_ids():
    reference = load_golden(REPO / "tests/golden/demo_replay.json")
    assert compare_golden(reference, reference) == []
    changed = copy.deepcopy(reference)
    frame = next(f for f in changed["frames"] if f.get("tracks") and f["tracks"]["id"])
    frame["tracks"]["box"][0][0] += 0.01
    frame["tracks"]["id"][0] += 1000
    diffs = compare_golden(changed, reference)
    assert len(diffs) == 1 and "track ids" in diffs[0]
    frame["tracks"]["id"][0] -= 1000
    diffs = compare_golden(changed, reference)
    assert len(diffs) == 1 and "moved by up to 0.01" in diffs[0]
    assert compare_golden({"frames": changed["frames"][:-1]}, reference)[0].startswith(
        "frame times differ"
    )


def test_a_shifted_frame_time_is_named():
    reference = {"frames": [{"t": 10}, {"t": 20}, {"t": 30}, {"t": 40}]}
    shifted = {"frames": [{"t": 10}, {"t": 20}, {"t": 31}, {"t": 40}]}
    (line,) = compare_golden(shifted, reference)
    assert "first at frame 2: reference t=30, now t=31" in line
    (line,) = compare_golden({"frames": reference["frames"][:3]}, reference)
    assert "3 now" in line and "frame 3: reference t=40, now none" in line


@pytest.mark.slow
def test_the_golden_check_fails_on_differences(tmp_path, monkeypatch, capsys):
    tool = load_tool("refresh_golden")
    reference = load_golden(REPO / "tests/golden/demo_replay.json")
    shifted = copy.deepcopy(reference)
    shifted["frames"][3]["t"] += 1
    golden = tmp_path / "golden.json"
    golden.write_text(json.dumps(shifted))
    monkeypatch.setattr(tool, "GOLDEN", golden)
    assert tool.main(["--check"]) == 1
    assert "first at frame 3" in capsys.readouterr().out
    assert json.loads(golden.read_text()) == shifted  # --check rewrites nothing
    golden.write_text(json.dumps(reference))
    assert tool.main(["--check"]) == 0
    assert "outputs unchanged" in capsys.readouterr().out
