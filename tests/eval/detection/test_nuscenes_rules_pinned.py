"""nuScenes detection rule no other test pins: a traffic cone has no orientation error.

The devkit (``nuscenes/eval/detection/evaluate.py``) sets ``attr_err``, ``vel_err`` and
``orient_err`` of ``traffic_cone`` to NaN (a cone has no heading) and averages each TP error
over the classes with ``np.nanmean``, so a cone's yaw never enters mAOE.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.eval.detection.nuscenes import DETECTION_CVPR_2019, EvalBoxes, evaluate


def test_a_traffic_cone_has_no_orientation_error_and_stays_out_of_maoe() -> None:
    # one sample: a cone 10 m ahead and a car 10 m to the left, both found at their centres,
    # the cone's prediction turned by 90 degrees, the car's with the label's yaw
    gt = EvalBoxes(
        center_m=np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0]]),
        size_m=np.ones((2, 3)),
        yaw_rad=np.zeros(2),
        detection_name=np.array(["traffic_cone", "car"]),
        num_pts=np.array([5, 5]),
    )
    pred = EvalBoxes(
        center_m=np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0]]),
        size_m=np.ones((2, 3)),
        yaw_rad=np.array([math.pi / 2, 0.0]),
        detection_name=np.array(["traffic_cone", "car"]),
        score=np.array([0.9, 0.9]),
        velocity_mps=np.zeros((2, 2)),
    )
    res = evaluate({"s": gt}, {"s": pred}, DETECTION_CVPR_2019)
    assert math.isnan(res.label_tp_errors["traffic_cone"]["orient_err"])
    assert res.label_tp_errors["car"]["orient_err"] == pytest.approx(0.0)
    # mAOE = nanmean over the 10 classes: the cone NaN (left out), the car 0, and the 8
    # classes without any label (truck, bus, trailer, construction_vehicle, pedestrian,
    # motorcycle, bicycle, barrier) 1 each (no recall above min_recall) -> 8 / 9.
    # Were the cone's pi/2 counted, it would be (8 + pi/2) / 10.
    assert res.tp_errors["orient_err"] == pytest.approx(8 / 9)
