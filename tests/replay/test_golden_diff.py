"""The golden comparison wraps yaw and names the box, parameter and class that changed."""

from __future__ import annotations

import copy
import math
from typing import Any

from drivestack.replay.golden import compare_golden


def _record(yaw: float = -1.5708) -> dict[str, Any]:
    boxes = [[10.0, 2.0, 0.8, 4.2, 1.8, 1.5, yaw], [20.0, -3.0, 0.9, 0.6, 0.6, 1.7, 0.3]]
    return {
        "frames": [
            {
                "t": 2_300_000_000,
                "detections": {"label": [1, 2], "box": boxes, "score": [0.9, 0.6]},
                "tracks": {
                    "id": [7, 9],
                    "label": [1, 2],
                    "box": copy.deepcopy(boxes),
                    "score": [0.9, 0.6],
                },
            }
        ]
    }


def test_a_detection_yaw_across_the_wrap_is_no_change() -> None:
    """Was: "box parameters moved by up to 3.142" for -1.5708 -> +1.57079 (the same axis)."""
    reference = _record(-1.5708)
    current = _record(1.57079)
    current["frames"][0]["tracks"] = reference["frames"][0]["tracks"]
    assert compare_golden(current, reference) == []
    # a track's yaw is a heading: half a turn is a change; a full turn is none
    turned = _record(-1.5708)
    turned["frames"][0]["tracks"]["box"][0][6] = -1.5708 + math.pi
    (line,) = compare_golden(turned, reference)
    assert line.startswith("t=2.300 s tracks: box parameters moved by up to 3.142")
    turned["frames"][0]["tracks"]["box"][0][6] = -1.5708 + 2 * math.pi
    assert compare_golden(turned, reference) == []


def test_a_moved_box_is_named_with_its_parameter() -> None:
    """Was: "box parameters moved by up to 0.5157", no box nor parameter."""
    reference = _record()
    current = copy.deepcopy(reference)
    current["frames"][0]["detections"]["box"][1][3] += 0.5157
    current["frames"][0]["tracks"]["box"][1][1] += 0.25
    current["frames"][0]["tracks"]["score"][0] -= 0.1
    assert compare_golden(current, reference) == [
        "t=2.300 s detections: box parameters moved by up to 0.5157 (tolerance 0.001): box 1 "
        "(pedestrian at x=20.00, y=-3.00) length 0.6 -> 1.1157",
        "t=2.300 s tracks: box parameters moved by up to 0.25 (tolerance 0.001): track 9 "
        "(pedestrian at x=20.00, y=-3.00) y -3 -> -2.75",
        "t=2.300 s tracks: scores changed by up to 0.1 (tolerance 0.001): track 7 "
        "(car at x=10.00, y=2.00) 0.9 -> 0.8",
    ]


def test_changed_classes_are_named() -> None:
    """Was: "labels [1] -> [1, 2]"."""
    reference = _record()
    current = copy.deepcopy(reference)
    current["frames"][0]["detections"]["label"] = [1, 7]
    current["frames"][0]["tracks"]["id"] = [7, 12]
    assert compare_golden(current, reference) == [
        "t=2.300 s detections: box 1 (pedestrian at x=20.00, y=-3.00) is now van; classes "
        "[car, pedestrian] -> [car, van]",
        "t=2.300 s tracks: track ids [7, 9] -> [7, 12] (gone [9], new [12])",
    ]
    current["frames"][0]["detections"] = {"label": [1], "box": [[10.0] * 7], "score": [0.9]}
    assert compare_golden(current, reference)[0] == (
        "t=2.300 s detections: 2 -> 1 boxes; classes [car, pedestrian] -> [car]"
    )
