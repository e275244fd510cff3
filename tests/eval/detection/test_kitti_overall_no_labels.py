"""KITTI ``Overall_*``: mmdetection3d's mean over every evaluated class (a class without any
labelled box counts as AP 0: reference-compatible, kept) and ``Overall_labelled_*``, the mean
over the classes with labelled boxes at that difficulty (None when none has)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.detection.kitti import kitti_eval
from drivestack.ingest.kitti_format import KittiObjects


def _cars(n: int, score: float = 1.0) -> KittiObjects:
    """``n`` easy cars (unoccluded, 60 px tall) at 20 m, one per frame slot."""
    return KittiObjects(
        type_name=np.array(["Car"] * n),
        truncation=np.zeros(n),
        occlusion=np.zeros(n, dtype=int),
        alpha_rad=np.zeros(n),
        box2d_xyxy_px=np.tile([100.0, 100.0, 200.0, 160.0], (n, 1)),
        hwl_m=np.tile([1.5, 1.6, 4.0], (n, 1)),
        location_m=np.tile([0.0, 1.5, 20.0], (n, 1)),
        rotation_y_rad=np.zeros(n),
        score=np.full(n, score),
    )


def test_overall_labelled_averages_only_classes_with_labels() -> None:
    gts = [_cars(1) for _ in range(50)]  # no Pedestrian, no Cyclist in these frames
    dts = [_cars(1, score=0.5 + i / 100) for i in range(50)]
    res = kitti_eval(gts, dts, ["Car", "Pedestrian", "Cyclist"])
    for diff in ("easy", "moderate", "hard"):
        car = res[f"Car_3D_AP40_{diff}_strict"]
        assert car == pytest.approx(100.0)
        # the reference's mean counts the two classes without labels as 0
        assert res[f"Overall_3D_AP40_{diff}"] == pytest.approx(car / 3)
        assert res[f"Overall_labelled_3D_AP40_{diff}"] == pytest.approx(car)
        assert res[f"Overall_labelled_BEV_AP11_{diff}"] == pytest.approx(
            res[f"Car_BEV_AP11_{diff}_strict"]
        )


def test_overall_labelled_is_none_without_any_label() -> None:
    gts = [KittiObjects() for _ in range(3)]
    dts = [_cars(1, score=0.9) for _ in range(3)]
    res = kitti_eval(gts, dts, ["Car", "Pedestrian"])
    assert res["Overall_3D_AP40_moderate"] == 0.0  # the reference's figure, unchanged
    assert res["Overall_labelled_3D_AP40_moderate"] is None


def test_one_class_has_no_overall() -> None:
    gts = [_cars(1) for _ in range(5)]
    res = kitti_eval(gts, gts, ["Car"])
    assert not [k for k in res if k.startswith("Overall")]


def test_the_printed_table_shows_a_dash_for_a_class_without_moderate_labels(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from drivestack.commands.eval_detection import _print_summary

    metrics = {
        "protocol": "kitti_3d_object",
        "labels_per_difficulty": {
            "Car": {"easy": 0, "moderate": 0, "hard": 0},
            "Pedestrian": {"easy": 2, "moderate": 3, "hard": 4},
        },
        "Car_BEV_AP40_moderate_strict": 0.0,
        "Pedestrian_BEV_AP40_moderate_strict": 12.5,
    }
    _print_summary({"dataset": "kitti", "num_frames": 1, "metrics": metrics})
    lines = capsys.readouterr().out.splitlines()
    car = next(line for line in lines if line.strip().startswith("Car"))
    pedestrian = next(line for line in lines if line.strip().startswith("Pedestrian"))
    assert "-  (no moderate labels" in car and "0.00" not in car
    assert "BEV AP40  12.50" in pedestrian
