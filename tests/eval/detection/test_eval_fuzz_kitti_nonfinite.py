"""``kitti_eval`` refuses a NaN or infinite detection score or box value at its entry, naming
the argument, frame, row and column (found by a bad-input campaign: a NaN score was ranked
silently and a NaN location failed deep in the overlap kernel without saying where)."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from drivestack.eval.detection.kitti import kitti_eval
from drivestack.ingest.kitti_format import KittiObjects
from tests.eval.detection.test_kitti_overall_no_labels import _cars as easy_cars


def _cars(score: list[float], location_x: float = 0.0) -> KittiObjects:
    """:func:`tests.eval.detection.test_kitti_overall_no_labels._cars` with these scores and
    the cars at ``location_x``."""
    cars = easy_cars(len(score))
    location = cars.location_m.copy()
    location[:, 0] = location_x
    return dataclasses.replace(cars, score=np.array(score), location_m=location)


@pytest.mark.parametrize(
    ("dt", "message"),
    [
        (_cars([0.9, float("nan")]), "dt_frames[0] row 1: field score: NaN or infinite value"),
        (_cars([float("inf")]), "dt_frames[0] row 0: field score: NaN or infinite value"),
        (_cars([0.9], float("nan")), "dt_frames[0] row 0: field location_m: NaN"),
    ],
)
def test_non_finite_detections_are_refused(dt: KittiObjects, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        kitti_eval([_cars([1.0])], [dt], ["Car"])


def test_label_scores_are_not_checked_and_empty_frames_score() -> None:
    labels = _cars([float("nan")])  # tracking labels read their missing score as NaN
    scored = kitti_eval([labels], [_cars([0.9])], ["Car"])
    assert scored == kitti_eval([_cars([1.0])], [_cars([0.9])], ["Car"])
    assert scored["Car_3D_AP11_moderate_strict"] == pytest.approx(100 / 11)  # one box matched
    with pytest.raises(ValueError, match=re.escape("gt_frames[0] row 0: field location_m")):
        kitti_eval([_cars([1.0], float("inf"))], [_cars([0.9])], ["Car"])
    assert kitti_eval([KittiObjects()], [KittiObjects()], ["Car"])["Car_3D_AP40_easy_strict"] == 0
