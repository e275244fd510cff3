"""``kitti_eval`` refuses a NaN or infinite detection score or box value at its entry, naming
the argument, frame, row and column (found by a bad-input campaign: a NaN score was ranked
silently and a NaN location failed deep in the overlap kernel without saying where)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from drivestack.eval.detection.kitti import kitti_eval
from drivestack.ingest.kitti_format import KittiObjects


def _cars(score: list[float], location_x: float = 0.0) -> KittiObjects:
    n = len(score)
    return KittiObjects(
        type_name=np.array(["Car"] * n),
        truncation=np.zeros(n),
        occlusion=np.zeros(n, dtype=int),
        alpha_rad=np.zeros(n),
        box2d_xyxy_px=np.tile([100.0, 100.0, 200.0, 160.0], (n, 1)),
        hwl_m=np.tile([1.5, 1.6, 4.0], (n, 1)),
        location_m=np.tile([location_x, 1.5, 20.0], (n, 1)),
        rotation_y_rad=np.zeros(n),
        score=np.array(score),
    )


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
