"""A replay's quick label metrics count only detections where the labels are (KITTI: the
camera's view) and not those on Van labels; the KITTI converter takes a frame range and
exits 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.replay.runner import DetectionTally, summary_lines
from drivestack.structures.boxes import Boxes3D
from tests.replay._tools import load_tool

REPO = Path(__file__).resolve().parents[2]


def _boxes(xy: list[tuple[float, float]], labels: list[int]) -> Boxes3D:
    n = len(xy)
    return Boxes3D(
        np.array([[x, y, 0.8] for x, y in xy]).reshape(n, 3),
        np.tile([4.0, 1.8, 1.5], (n, 1)),
        np.zeros(n),
        "lidar",
        0,
        score=np.linspace(0.9, 0.5, n),
        label=np.array(labels, dtype=np.int64),
    )


def test_detections_outside_the_labelled_region_or_on_vans_are_not_counted() -> None:
    """Was: car precision 0.300 on KITTI, every detection behind the camera and every car
    detection on a van counted false."""
    labels = _boxes([(10.0, 0.0), (20.0, 5.0)], [1, 7])  # a car, a van
    # on the car, on the van, nowhere (inside the region), behind the camera (outside)
    detections = _boxes([(10.0, 0.0), (20.0, 5.0), (30.0, -5.0), (-15.0, 0.0)], [1, 1, 1, 1])
    tally = DetectionTally()
    tally.add(detections, labels, region=np.array([True, True, True, False]))
    car = tally.as_dict()["car"]
    assert car == {
        "labels": 1,
        "detections": 2,
        "recall": 1.0,
        "precision": 0.5,
        "outside_labelled_region": 1,
        "on_ignored_labels": 1,
    }
    # without a region every detection counts (the labels cover everything)
    everywhere = DetectionTally()
    everywhere.add(detections, labels)
    assert everywhere.as_dict()["car"]["precision"] == pytest.approx(1 / 3)
    summary = {
        "frames_processed": 1,
        "frames_skipped": 0,
        "skipped": [],
        "wall_s": 1.0,
        "realtime_factor": 1.0,
        "timing_ms": {},
        "ingest": None,
        "detection_vs_labels": tally.as_dict(),
        "output": "o.mcap",
        "summary_path": "o.summary.json",
    }
    assert (
        "  car: recall 1.000, precision 0.500 (1 labels, BEV IoU 0.5; not counted: 1 detection "
        "outside the labelled camera view, 1 detection on van labels)"
    ) in summary_lines(summary)


def test_the_converter_refuses_a_bad_frame_range(tmp_path: Path, capsys) -> None:
    tool = load_tool("kitti_tracking_to_log")
    with pytest.raises(SystemExit) as exit_:
        tool.main(["--out", str(tmp_path / "k.mcap"), "--first-frame", "5", "--last-frame", "2"])
    assert exit_.value.code == 2
    assert "--first-frame 5 is after --last-frame 2" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        tool.main(["--out", str(tmp_path / "k.mcap"), "--first-frame", "-1"])
    assert (
        exit_.value.code == 2
        and "argument --first-frame: must be at least 0, got -1" in capsys.readouterr().err
    )


@pytest.mark.data
def test_a_kitti_frame_range_replays_with_the_camera_view_as_labelled_region(
    shared_data: Path, tmp_path: Path, capsys
) -> None:
    root = shared_data / "kitti_tracking"
    tool = load_tool("kitti_tracking_to_log")
    log = tmp_path / "k.mcap"
    args = ["--root", str(root), "--out", str(log)]
    assert tool.main([*args, "--first-frame", "900", "--last-frame", "990"]) == 2
    err = capsys.readouterr().err
    assert "frames 900-990 asked, but sequence 0000 has frames 74-153 (80 frames; 0 of " in err
    # a range reaching past the last scan is refused too (it wrote the 4 frames there were)
    assert tool.main([*args, "--first-frame", "150", "--last-frame", "999"]) == 2
    err = capsys.readouterr().err
    assert "frames 150-999 asked, but sequence 0000 has frames 74-153 (80 frames; 4 of " in err
    assert not log.exists()
    assert tool.main([*args, "--first-frame", "80", "--last-frame", "82"]) == 0
    out = tmp_path / "run.mcap"
    main(["replay", str(log), "--out", str(out), "--quiet"])
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["frames_processed"] == 3
    assert summary["kitti"]["first_frame"] == 80 and summary["kitti"]["last_frame"] == 82
    car = summary["detection_vs_labels"]["car"]
    assert car["outside_labelled_region"] > 0  # the scan sees all around, the labels do not
    assert "outside the labelled camera view" in capsys.readouterr().out
