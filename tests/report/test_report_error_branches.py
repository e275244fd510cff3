"""Error branches of the report's readers of an eval metrics.json (drivestack.report) that
the rest of the suite does not reach: a malformed value is a ValueError naming its dotted
field, never a wrong table."""

from __future__ import annotations

from typing import Any

import pytest

from drivestack.report.detection2d import read_detection2d


def _detection2d(split: object = None, **row: object) -> dict[str, Any]:
    """A detection2d metrics.json of one Car row at IoU 0.7; ``row`` replaces its values."""
    values = {"iou_threshold": 0.7, "ap": 0.5, "max_recall": 0.6, **row}
    data: dict[str, Any] = {
        "interpolation": "11-point",
        "filter": {},
        "classes": {"Car": {"iou_0.7": values}},
    }
    if split is not None:
        data["split"] = split
    return data


def test_detection2d_split_that_is_not_text_is_named() -> None:
    """A ``split`` that is not a string: ValueError naming ``split`` and what it holds (not
    "missing": the key is there)."""
    with pytest.raises(ValueError, match=r"^field split: expected a non-empty string, got 3$"):
        read_detection2d(_detection2d(split=3))


@pytest.mark.parametrize("iou", [0.0, 1.0, 1.5, -0.2])
def test_detection2d_iou_threshold_outside_the_open_unit_interval(iou: float) -> None:
    """An IoU threshold outside (0, 1): ValueError naming the row's dotted field."""
    with pytest.raises(
        ValueError, match=r"field classes\.Car\.iou_0\.7\.iou_threshold: expected a number in"
    ):
        read_detection2d(_detection2d(iou_threshold=iou))


@pytest.mark.parametrize("name", ["ap", "max_recall"])
def test_detection2d_rate_outside_zero_one_is_named(name: str) -> None:
    """An AP or maximum recall above 1: ValueError naming the field, not a table of 200 %."""
    with pytest.raises(ValueError, match=rf"field classes\.Car\.iou_0\.7\.{name}: .*\[0, 1\]"):
        read_detection2d(_detection2d(**{name: 2.0}))
