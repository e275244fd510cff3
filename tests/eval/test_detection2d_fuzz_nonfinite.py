"""``ImageBoxes`` refuses a NaN or infinite box value or score, naming the array and row
(found by a bad-input campaign: a NaN score was ranked silently, a NaN box never matched)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from drivestack.eval.detection2d import ImageBoxes, average_precision

BOX = [0.0, 0.0, 10.0, 10.0]


@pytest.mark.parametrize(
    ("gt", "det", "score", "message"),
    [
        ([BOX], [BOX, BOX], [0.9, float("nan")], "det_score row 1: NaN or infinite value"),
        ([BOX], [[0.0, float("inf"), 1.0, 1.0]], [0.9], "det_xyxy_px row 0: NaN"),
        ([[float("nan"), 0.0, 1.0, 1.0]], [BOX], [0.9], "gt_xyxy_px row 0: NaN"),
    ],
)
def test_non_finite_values_are_refused(
    gt: list[list[float]], det: list[list[float]], score: list[float], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(f"ImageBoxes: {message}")):
        ImageBoxes(np.array(gt), np.zeros(len(gt), bool), np.array(det), np.array(score))


def test_empty_images_still_score() -> None:
    empty = ImageBoxes(np.zeros((0, 4)), np.zeros(0, bool), np.zeros((0, 4)), np.zeros(0))
    assert np.isnan(average_precision([empty], 0.5).ap)  # documented: no ground truth
    one = ImageBoxes(np.array([BOX]), np.zeros(1, bool), np.zeros((0, 4)), np.zeros(0))
    assert average_precision([one], 0.5).ap == 0.0
