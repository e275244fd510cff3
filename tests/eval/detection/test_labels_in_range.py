"""Labels each class's AP rests on (within its range, with points), by hand, and how
``drivestack eval detection`` prints them; the scores themselves are not touched."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.commands.eval_detection import _print_summary
from drivestack.eval.detection.nuscenes import EvalBoxes
from drivestack.eval.detection.run import (
    GROUP_CENTER_DISTANCE,
    labelled_groups_config,
    labels_in_range,
)


def _gt(rows: list[tuple[str, float, int]]) -> EvalBoxes:
    """GT boxes ``(class, distance from the ego along x in m, points)``."""
    n = len(rows)
    return EvalBoxes(
        center_m=np.array([[d, 0.0, 0.0] for _, d, _ in rows]).reshape(n, 3),
        size_m=np.ones((n, 3)),
        yaw_rad=np.zeros(n),
        detection_name=np.array([c for c, _, _ in rows], dtype=str),
        num_pts=np.array([p for _, _, p in rows], dtype=np.int64),
    )


def test_labels_in_range_by_hand() -> None:
    ranges = {"car": 50.0, "pedestrian": 40.0, "bicycle": 40.0}
    frames = [
        _gt([("car", 10.0, 5), ("car", 49.9, 1), ("car", 50.0, 3), ("pedestrian", 39.0, 0)]),
        _gt([("car", 20.0, -1), ("bicycle", 64.5, 1), ("bus", 5.0, 9)]),
        _gt([]),
    ]
    # car: 10, 49.9 and 20 m (unknown points count: kept); 50 m is not < 50; the pedestrian
    # has no points; the bicycle lies beyond 40 m; bus is not a class of ``ranges``
    assert labels_in_range(frames, ranges) == {"car": 3, "pedestrian": 0, "bicycle": 0}
    assert list(labels_in_range([], ranges).values()) == [0, 0, 0]


def test_unlabelled_groups_are_those_with_no_label_in_range() -> None:
    frames = [_gt([("vehicle", 10.0, 4), ("pedestrian", 45.0, 2)])]  # pedestrian range 40 m
    cfg, unlabelled = labelled_groups_config(frames)
    assert list(cfg.class_range) == ["vehicle"] and unlabelled == ["pedestrian", "cyclist"]
    assert labels_in_range(frames, GROUP_CENTER_DISTANCE.class_range) == {
        "vehicle": 1,
        "pedestrian": 0,
        "cyclist": 0,
    }


def _result(label_aps: dict[str, float], counts: dict[str, int], **extra: object) -> dict:  # type: ignore[type-arg]
    ranges = {"car": 50.0, "bus": 50.0, "vehicle": 50.0}
    return {
        "dataset": "nuscenes",
        "num_frames": 1,
        "metrics": {
            "protocol": "nuscenes_detection_cvpr_2019",
            "protocol_config": {"class_range": ranges},
            "mean_ap": 0.25,
            "nd_score": 0.3,
            "tp_errors": {"trans_err": 1.0},
            "label_aps": {c: {"0.5": ap, "1.0": ap, "2.0": ap, "4.0": ap} for c, ap in label_aps.items()},
            "labels_in_range": counts,
            **extra,
        },
    }  # fmt: skip


def test_the_table_says_how_many_labels_each_ap_rests_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _print_summary(_result({"car": 0.5, "bus": 0.0}, {"car": 1, "bus": 0}))
    out = capsys.readouterr().out
    (car,) = [ln for ln in out.splitlines() if ln.split()[:1] == ["car"]]
    (bus,) = [ln for ln in out.splitlines() if ln.split()[:1] == ["bus"]]
    assert car.endswith("0.500 0.500 0.500 0.500  (1 label with points within 50 m)")
    assert bus.endswith("0.000  (no labels with points within 50 m: AP 0, averaged into the mAP)")
    # metrics.json written before the counts: the table as it was
    old = _result({"car": 0.5}, {})
    del old["metrics"]["labels_in_range"]
    _print_summary(old)
    assert capsys.readouterr().out.splitlines()[-1].endswith("0.500 0.500 0.500 0.500")
