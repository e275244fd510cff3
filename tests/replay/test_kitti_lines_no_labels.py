"""Replay summary lines of classes without labels: KITTI figures of frames without Car labels
are n/a (not 0.00 or -inf), and a class detected but never labelled is printed with its
false positives, in the line ``drivestack demo`` prints."""

from __future__ import annotations

import json
from typing import Any

from drivestack.replay.runner import summary_lines


def _summary(kitti: Any = None, by_class: Any = None) -> dict[str, Any]:
    """A replay summary of 10 clean frames (what ``summary_lines`` reads)."""
    return {
        "frames_processed": 10,
        "frames_skipped": 0,
        "frames_skipped_bad_input": 0,
        "skipped": [],
        "frame_notes": {},
        "ingest": None,
        "timing_ms": {},
        "wall_s": 1.0,
        "realtime_factor": 1.0,
        "detection_vs_labels": by_class,
        "kitti": kitti,
        "output": "o.mcap",
        "summary_path": "o.summary.json",
    }


def _kitti(car_labels: int, samota: float, mota: float, hota: float, n_gt: int) -> dict:
    car = {
        "clear": {"sAMOTA": samota, "best": {"MOTA": mota, "n_gt": n_gt}},
        "hota": {"HOTA": hota},
    }
    return {
        "sequence": "0000",
        "first_frame": 74,
        "last_frame": 83,
        "frames_scored": 10,
        "detection": {
            "labels_per_difficulty": {"Car": {"easy": 0, "moderate": car_labels, "hard": 0}},
            "Car_BEV_AP40_moderate_strict": 0.0,
            "Car_BEV_AP40_moderate_loose": 0.0,
        },
        "tracking": {"iou_0.25": {"classes": {"Car": car}}},
    }


def test_frames_without_car_labels_print_n_a() -> None:
    kitti = _kitti(0, float("-inf"), float("-inf"), 0.0, 0)
    # as replay returns it (-inf) and as the summary JSON reads back (null)
    for k in (kitti, json.loads(json.dumps(kitti).replace("-Infinity", "null"))):
        text = "\n".join(summary_lines(_summary(k)))
        assert "Car moderate BEV AP40 n/a (no moderate Car labels in these frames)" in text
        assert "KITTI tracking Car (iou_0.25): n/a (no Car labels in these frames)" in text
        assert "inf" not in text and "0.00 (IoU" not in text


def test_labelled_frames_print_their_figures_and_undefined_ones_as_n_a() -> None:
    kitti = _kitti(12, 0.8125, 0.75, 0.5, 12)
    kitti["detection"]["Car_BEV_AP40_moderate_strict"] = 61.25
    lines = summary_lines(_summary(kitti))
    assert "Car moderate BEV AP40 61.25 (IoU 0.7), 0.00 (IoU 0.5)" in lines[1]
    assert lines[2] == "  KITTI tracking Car (iou_0.25): sAMOTA 81.25, MOTA 75.00, HOTA 50.00"
    kitti["tracking"]["iou_0.25"]["classes"]["Car"]["clear"]["sAMOTA"] = None
    assert "sAMOTA n/a, MOTA 75.00" in summary_lines(_summary(kitti))[2]


def test_a_class_detected_but_never_labelled_is_printed_with_its_false_positives() -> None:
    by_class = {
        "car": {"labels": 10, "detections": 9, "recall": 0.8, "precision": 8 / 9},
        "cyclist": {"labels": 0, "detections": 10, "recall": float("nan"), "precision": 0.0},
        "pedestrian": {"labels": 0, "detections": 0, "recall": float("nan"), "precision": 0.0},
    }
    lines = summary_lines(_summary(by_class=by_class))
    assert (
        "  cyclist: recall n/a, precision 0.000, 10 false positives "
        "(0 labels, 10 detections, BEV IoU 0.5)"
    ) in lines
    assert not any("pedestrian" in line for line in lines)  # neither labelled nor detected
    assert lines[-1].startswith("wrote ")
