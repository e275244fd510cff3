"""Argoverse 2 detection evaluator: the av2-api test_eval.py summaries and unit cases."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.eval.detection.argoverse2 import (
    Av2DetectionConfig,
    assign,
    evaluate,
    evaluated_dts_mask,
    evaluated_gts_mask,
    interpolate_precision,
    scale_errors,
    wrap_angles,
)
from drivestack.ingest.argoverse2 import read_av2_cuboids

FIXTURES = "eval_fixtures/av2_detection"


@pytest.fixture(scope="module")
def expected(shared_data: Path) -> dict[str, Any]:
    return json.loads((shared_data / FIXTURES / "expected_values.json").read_text())


@pytest.mark.data
def test_summary_cases(shared_data: Path, expected: dict[str, Any]) -> None:
    base = shared_data / FIXTURES
    labels = read_av2_cuboids(base / "labels.feather")
    got = {}
    for case in expected["summary_cases"]:
        dts = read_av2_cuboids(base / case["dts"])
        gts = labels
        if case["name"] == "identity":
            gts = dataclasses.replace(dts, num_interior_pts=np.ones(len(dts), dtype=np.int64))
        cfg = Av2DetectionConfig(
            categories=tuple(case["cfg"]["categories"]),
            eval_only_roi_instances=case["cfg"]["eval_only_roi_instances"],
        )
        got[case["name"]] = evaluate(dts, gts, cfg).summary["AVERAGE_METRICS"]
        for metric, value in case["expected_AVERAGE_METRICS"].items():
            assert got[case["name"]][metric] == pytest.approx(value, abs=1e-9), (
                case["name"],
                metric,
            )
    # not asserted upstream, reproduced by the independent re-implementation (SOURCES.md 14a)
    assert got["detections"]["AP"] == 1.0
    assert (got["assignment"]["ATE"], got["assignment"]["ASE"], got["assignment"]["AOE"]) == (
        0.0,
        0.0,
        0.0,
    )


@pytest.mark.data
def test_labels_against_themselves_all_true_positives(shared_data: Path) -> None:
    labels = read_av2_cuboids(shared_data / FIXTURES / "labels.feather")
    res = evaluate(labels, labels, Av2DetectionConfig(eval_only_roi_instances=False))
    assert np.all(res.dts_metrics[:, :4] == 1.0) and np.all(res.dts_metrics[:, 4:] == 0.0)


def test_unit_cases() -> None:
    cfg = Av2DetectionConfig(eval_only_roi_instances=False)
    dts = np.array(
        [[0, 0, 0, 5, 5, 5, 0], [10, 10, 10, 5, 5, 5, 0], [20, 20, 20, 5, 5, 5, 0]],
        dtype=np.float64,
    )
    gts = np.array(
        [[-10, -10, -10, 5, 5, 5, 0], [0.1, 0, 0, 5, 5, 5, 0], [10.1, 10, 10, 5, 5, 5, 0]],
        dtype=np.float64,
    )
    np.testing.assert_allclose(assign(dts, gts, cfg)[:, 4], [0.1, 0.1, 2.0])
    np.testing.assert_allclose(
        scale_errors(np.array([[5.0, 5, 5]]), np.array([[10.0, 10, 10]])), [0.875]
    )
    np.testing.assert_allclose(
        1 - scale_errors(np.array([[4.0, 10, 3]]), np.array([[9.0, 5, 2]])), [40 / 270]
    )
    assert wrap_angles(np.array([-3 * np.pi / 2]))[0] == pytest.approx(np.pi / 2)
    for k in range(-4, 4):
        for step in (np.pi / 2, np.pi / 4):
            a, b = k * step, (k + 1) * step
            assert wrap_angles(np.array([a - b]))[0] == pytest.approx(step)
            assert wrap_angles(np.array([b - a]))[0] == pytest.approx(step)
    np.testing.assert_allclose(
        interpolate_precision(np.array([1.0, 0.5, 0.33, 0.5])), [1.0, 0.5, 0.5, 0.5]
    )
    xyz = np.array([[5, 5, 5], [175, 175, 5], [-175, -175, 5], [1, 1, 5]], dtype=np.float64)
    np.testing.assert_array_equal(evaluated_dts_mask(xyz, cfg), [True, False, False, True])
    np.testing.assert_array_equal(
        evaluated_gts_mask(xyz, np.array([5, 5, 5, 0]), cfg), [True, False, False, False]
    )


@pytest.mark.data
def test_roi_case_on_real_log(shared_data: Path, expected: dict[str, Any]) -> None:
    from drivestack.eval.detection.av2_roi import roi_filter_for_logs

    case = expected["roi_case"]
    root = shared_data / "argoverse2/sensor/val"
    log = "adcf7d18-0510-35b0-a2fa-b4cea13a6d76"
    timestamp_ns = 315973157959879000  # the sweep named in case["what"]
    assert str(timestamp_ns) in case["what"]
    rows = read_av2_cuboids(root / log / "annotations.feather").at(timestamp_ns)
    idx = [int(np.flatnonzero(rows.track_uuid == u)[0]) for u in case["track_uuids"]]
    in_roi = roi_filter_for_logs(root, [log])
    mask = in_roi(log, timestamp_ns, rows.boxes[idx])
    assert mask.tolist() == case["expected_in_roi"]
    with pytest.raises(ValueError, match="in_roi"):
        evaluate(rows, rows)  # the protocol default needs the map filter
