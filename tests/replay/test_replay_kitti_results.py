"""`drivestack replay --kitti-results DIR`: the replay's KITTI tracking rows as result files
that the tracking eval's own reader reads back to the replay's scores, frames numbered as in
the sequence; refused (exit 2, nothing read) for a log without KITTI label rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.core.json_values import strict_dumps
from drivestack.eval.detection.run import KITTI_CLASSES
from drivestack.ingest.kitti_format import KittiObjects
from drivestack.ingest.kitti_tracking import read_tracking_labels
from drivestack.replay.kitti_log import kitti_tracking_to_log
from drivestack.replay.kitti_score import kitti_tracking_metrics, renumbered

REPO = Path(__file__).resolve().parents[2]
FIRST, LAST = 74, 79


@pytest.mark.data
def test_result_files_read_back_to_the_replays_tracking_scores(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = shared_data / "kitti_tracking"
    log = tmp_path / "k.mcap"
    kitti_tracking_to_log(root, log, first_frame=FIRST, last_frame=LAST)
    out, results = tmp_path / "run.mcap", tmp_path / "results"
    argv = ["replay", str(log), "--out", str(out), "--quiet", "--kitti-results", str(results)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    written = summary["kitti_results"]
    assert written["sequence"] == "0000" and written["frames"] == [FIRST, LAST]
    assert f"KITTI tracking results (frames {FIRST}-{LAST} of sequence 0000" in printed
    assert f"{results}/<Class>/0000.txt" in printed

    labels = read_tracking_labels(root / "training" / "label_02" / "0000.txt")
    truth = labels.select(np.flatnonzero((labels.frame >= FIRST) & (labels.frame <= LAST)))
    rows = []
    for cls in KITTI_CLASSES:
        path = results / cls / "0000.txt"
        assert str(path) in written["files"]
        mine = read_tracking_labels(path)  # the eval's reader of result files
        assert set(mine.type_name) <= {cls} and len(mine) == written["rows"][cls]
        assert mine.frame.min() >= FIRST and mine.frame.max() <= LAST  # the sequence's numbers
        rows.append(mine)
    assert sum(len(r) for r in rows) > 0
    scored = kitti_tracking_metrics(
        "0000",
        LAST - FIRST + 1,
        renumbered(truth, FIRST),
        renumbered(KittiObjects.concatenate(rows), FIRST),
    )
    # the files hold exactly what was scored (compared as the summary JSON writes figures)
    assert json.loads(strict_dumps(scored)) == summary["kitti"]["tracking"]


def test_kitti_results_are_refused_for_a_log_without_kitti_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = REPO / "data" / "demo" / "drive.mcap"
    stack = REPO / "configs" / "stack" / "sim_lidar.yaml"
    out = tmp_path / "new" / "run.mcap"
    argv = ["replay", str(demo), "--stack", str(stack), "--out", str(out)]
    assert main([*argv, "--kitti-results", str(tmp_path / "res")]) == 2
    err = capsys.readouterr().err
    assert f"--kitti-results {tmp_path / 'res'}" in err and "carries no KITTI label rows" in err
    assert not out.parent.exists() and not (tmp_path / "res").exists()
    (tmp_path / "file").write_text("x")
    assert main([*argv, "--kitti-results", str(tmp_path / "file")]) == 2
    assert "is a file; give a folder" in capsys.readouterr().err
