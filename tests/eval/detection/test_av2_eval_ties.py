"""The AV2 evaluator orders tied scores as av2 0.3.6 does (across sweeps by log, sweep and
file row; within a sweep NumPy's default argsort of the rows in file order), averages the TP
errors over the middle threshold's TPs as upstream, and its default categories are upstream's
26. Hand-computed cases, and a property: a tied table whose rows are shuffled across sweeps
and categories scores as its sorted copy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.eval.detection.argoverse2 import (
    SENSOR_COMPETITION_CATEGORIES,
    Av2DetectionConfig,
    assign,
    evaluate,
    protocol_order,
    ranked_by_score,
    sweep_order,
)
from drivestack.ingest.argoverse2 import Av2Cuboids

NO_ROI = Av2DetectionConfig(categories=("BUS", "REGULAR_VEHICLE"), eval_only_roi_instances=False)


def _table(
    log_id: list[str],
    timestamp_ns: list[int],
    category: list[str],
    xyz: list[list[float]],
    score: list[float] | None = None,
    *,
    yaw: list[float] | None = None,
    size: list[list[float]] | None = None,
) -> Av2Cuboids:
    n = len(log_id)
    yaw_a = np.zeros(n) if yaw is None else np.asarray(yaw, dtype=np.float64)
    size_a = np.tile([4.0, 2.0, 1.5], (n, 1)) if size is None else np.asarray(size, dtype=float)
    quat = np.stack([np.cos(yaw_a / 2), np.zeros(n), np.zeros(n), np.sin(yaw_a / 2)], axis=1)
    return Av2Cuboids(
        timestamp_ns=np.asarray(timestamp_ns, dtype=np.int64),
        track_uuid=np.full(n, "", dtype=str),
        category=np.asarray(category, dtype=str),
        boxes=np.concatenate([np.asarray(xyz, dtype=float), size_a, yaw_a[:, None]], axis=1),
        quaternion_wxyz=quat,
        num_interior_pts=np.full(n, 5 if score is None else -1, dtype=np.int64),
        score=np.ones(n) if score is None else np.asarray(score, dtype=np.float64),
        log_id=np.asarray(log_id, dtype=str),
    )


def test_ties_across_sweeps_rank_by_log_and_sweep_not_file_row() -> None:
    # one label per sweep; sweep 1's detection finds its label, sweep 2's is 40 m off; both
    # score 0.5 and the file lists sweep 2 first
    gts = _table(["a", "a"], [1, 2], ["REGULAR_VEHICLE"] * 2, [[10, 0, 0], [10, 0, 0]])
    dts = _table(
        ["a", "a"], [2, 1], ["REGULAR_VEHICLE"] * 2, [[50, 0, 0], [10.1, 0, 0]], [0.5, 0.5]
    )
    assert ranked_by_score(dts, np.array([0, 1])).tolist() == [1, 0]  # sweep 1 first
    res = evaluate(dts, gts, NO_ROI)
    # ranked TP, FP against 2 labels: precision 1 up to recall 0.5 (50 of the 101 recall
    # samples below it, 0.5 at it, 0 past it): AP = 50.5 / 101 = 0.5 at every threshold
    # (FP, TP, the file order, would be 25.5 / 101 = 0.252)
    assert res.ap_by_threshold["REGULAR_VEHICLE"] == pytest.approx(
        {0.5: 0.5, 1.0: 0.5, 2.0: 0.5, 4.0: 0.5}, abs=1e-12
    )
    assert res.summary["REGULAR_VEHICLE"]["AP"] == 0.5
    # the other log's rows come after log "a"'s whatever the file says ("b" sorts after "a")
    dts_b = _table(
        ["b", "a"], [1, 1], ["REGULAR_VEHICLE"] * 2, [[50, 0, 0], [10.1, 0, 0]], [0.5, 0.5]
    )
    gts_b = _table(["a", "b"], [1, 1], ["REGULAR_VEHICLE"] * 2, [[10, 0, 0], [10, 0, 0]])
    assert evaluate(dts_b, gts_b, NO_ROI).summary["REGULAR_VEHICLE"]["AP"] == 0.5


def test_protocol_order_is_log_sweep_category_then_file_row() -> None:
    t = _table(
        ["b", "a", "a", "a", "a"],
        [1, 2, 1, 1, 1],
        ["BUS", "BUS", "REGULAR_VEHICLE", "BUS", "REGULAR_VEHICLE"],
        [[0, 0, 0]] * 5,
        [0.1] * 5,
    )
    assert protocol_order(t).tolist() == [3, 2, 4, 1, 0]


def test_within_a_sweep_tied_rows_follow_numpy_argsort_as_av2() -> None:
    # 130 detections of one sweep and category, scores 0.3 / 0.7: which 100 are evaluated
    # (max_num_dts_per_category) and which one claims the label follow NumPy's default
    # argsort of -score over the rows in file order (av2's accumulate), whatever that
    # order is on this machine (not file order: NumPy 2.4's AVX-512 sort reorders ties)
    rng = np.random.default_rng(3)
    score = rng.choice([0.3, 0.7], 130)
    xyz = np.c_[10 + rng.uniform(-0.2, 0.2, 130), np.zeros((130, 2))]
    dts = _table(["a"] * 130, [1] * 130, ["BUS"] * 130, xyz.tolist(), score.tolist())
    gts = _table(["a"], [1], ["BUS"], [[10, 0, 0]])
    res = evaluate(dts, gts, NO_ROI)
    order = np.argsort(-score)
    np.testing.assert_array_equal(sweep_order(score), order)
    kept = np.zeros(130, dtype=bool)
    kept[order[:100]] = True
    np.testing.assert_array_equal(res.dts_evaluated, kept)
    assert np.flatnonzero(res.dts_metrics[:, 3]).tolist() == [order[0]]  # the TP at 4 m
    assert res.dts_metrics[order[0], 4] == pytest.approx(abs(xyz[order[0], 0] - 10))  # ATE


def _tied_tables(seed: int) -> tuple[Av2Cuboids, Av2Cuboids]:
    """Two logs x three sweeps x two categories; scores in {0, 0.5, 1} (many ties), more than
    ``max_num_dts_per_category`` in one group; detections near labels, some far."""
    rng = np.random.default_rng(seed)
    g_rows: list[tuple[str, int, str, list[float]]] = []
    d_rows: list[tuple[str, int, str, list[float], float]] = []
    for log_id in ("logB", "logA"):
        for ts in (300, 100, 200):
            for cat in ("REGULAR_VEHICLE", "BUS"):
                centres = rng.uniform(-60, 60, (int(rng.integers(2, 12)), 3)) * [1, 1, 0.02]
                g_rows += [(log_id, ts, cat, c.tolist()) for c in centres]
                n = int(rng.integers(5, 130 if ts == 200 else 30))
                near = centres[rng.integers(0, len(centres), n)] + rng.normal(0, 1.2, (n, 3))
                far = rng.random(n) < 0.2
                near[far] = rng.uniform(-60, 60, (int(far.sum()), 3))
                sc = rng.choice([0.0, 0.5, 1.0], n)
                d_rows += [
                    (log_id, ts, cat, p.tolist(), float(s)) for p, s in zip(near, sc, strict=True)
                ]
    order = rng.permutation(len(d_rows))  # sweeps interleaved; kept in file order per group
    groups = [r[:3] for r in d_rows]
    for key in set(groups):
        pos = np.flatnonzero([groups[i] == key for i in order])
        order[pos] = np.sort(order[pos])
    d_rows = [d_rows[i] for i in order]
    gts = _table(*(list(c) for c in zip(*g_rows, strict=True)))  # type: ignore[arg-type]
    dts = _table(*(list(c) for c in zip(*d_rows, strict=True)))  # type: ignore[arg-type]
    return dts, gts


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_tied_table_shuffled_across_sweeps_scores_as_its_sorted_copy(seed: int) -> None:
    dts, gts = _tied_tables(seed)
    order = protocol_order(dts)
    sorted_dts = dts.select(order)
    shuffled, ordered = evaluate(dts, gts, NO_ROI), evaluate(sorted_dts, gts, NO_ROI)
    assert shuffled.summary == ordered.summary
    assert shuffled.ap_by_threshold == ordered.ap_by_threshold
    np.testing.assert_array_equal(shuffled.dts_metrics[order], ordered.dts_metrics)
    np.testing.assert_array_equal(shuffled.dts_evaluated[order], ordered.dts_evaluated)
    # labels reversed too: the per-sweep label order does not matter without label ties
    rev = evaluate(sorted_dts, gts.select(np.arange(len(gts))[::-1]), NO_ROI)
    assert rev.summary == ordered.summary


def test_tp_errors_are_averaged_over_the_middle_thresholds_true_positives() -> None:
    # tp_threshold_m 1: label A's detection 0.5 m off (TP at 1 m, errors computed), label
    # B's 1.5 m off (TP at the middle threshold, 2 m, not at 1 m: default errors 1 m, 1, pi)
    cfg = Av2DetectionConfig(categories=("BUS",), eval_only_roi_instances=False, tp_threshold_m=1)
    gts = _table(["a", "a"], [1, 1], ["BUS"] * 2, [[10, 0, 0], [-10, 0, 0]])
    dts = _table(["a", "a"], [1, 1], ["BUS"] * 2, [[10.5, 0, 0], [-11.5, 0, 0]], [0.9, 0.8])
    assert assign(dts.boxes, gts.boxes, cfg)[:, 4:].tolist() == [[0.5, 0, 0], [1, 1, np.pi]]
    row = evaluate(dts, gts, cfg).summary["BUS"]
    assert (row["ATE"], row["ASE"], row["AOE"]) == (0.75, 0.5, round(np.pi / 2, 3))
    # CDS = AP x mean(1 - 0.75 / 1, 1 - 0.5, 1 - 0.5); AP = mean(0, 0.5, 1, 1) x ... by hand:
    # at 0.5 m no TP (AP 0); at 1 m TP then FP (AP 0.5 of 2 labels); at 2 / 4 m both (AP 1)
    assert row["AP"] == round((0 + 50.5 / 101 + 1 + 1) / 4, 3)
    assert row["CDS"] == round((0 + 50.5 / 101 + 1 + 1) / 4 * (0.25 + 0.5 + 0.5) / 3, 3)


def test_default_categories_are_upstreams_26_and_unlabelled_ones_average_in_as_defaults() -> None:
    cfg = Av2DetectionConfig(eval_only_roi_instances=False)
    assert cfg.categories == SENSOR_COMPETITION_CATEGORIES and len(cfg.categories) == 26
    gts = _table(["a"], [1], ["REGULAR_VEHICLE"], [[10, 0, 0]])
    dts = _table(["a"], [1], ["REGULAR_VEHICLE"], [[10, 0, 0]], [0.9])
    summary = evaluate(dts, gts, cfg).summary
    assert summary["REGULAR_VEHICLE"] == {"AP": 1.0, "ATE": 0.0, "ASE": 0.0, "AOE": 0.0, "CDS": 1.0}
    assert summary["BUS"] == {"AP": 0.0, "ATE": 2.0, "ASE": 1.0, "AOE": round(np.pi, 3), "CDS": 0.0}
    # one perfect category and 25 default rows
    assert summary["AVERAGE_METRICS"] == {
        "AP": round(1 / 26, 3),
        "ATE": round(25 * 2 / 26, 3),
        "ASE": round(25 / 26, 3),
        "AOE": round(25 * np.pi / 26, 3),
        "CDS": round(1 / 26, 3),
    }


@pytest.mark.data
def test_official_run_names_the_averaged_categories_and_gives_av2s_26_category_mean(
    shared_data: Path, tmp_path: Path
) -> None:
    import json

    from drivestack.cli import main
    from tests.eval.detection.test_av2_detections_input_checks import _perfect_copy, _write

    root = shared_data / "argoverse2" / "sensor" / "val"
    path = _write(tmp_path / "d.feather", _perfect_copy(root))
    args = ["eval", "detection", "--dataset", "av2", "--root", str(root), "--quiet"]
    args += ["--av2-categories", "official", "--out", str(tmp_path / "o"), "--detections"]
    assert main([*args, str(path)]) == 0
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())["metrics"]
    cats = m["average_metrics_categories"]
    assert cats == m["protocol_config"]["categories"] and "REGULAR_VEHICLE" in cats
    assert set(m["summary"]) == {*cats, "AVERAGE_METRICS"}
    official = m["av2_default_categories_average"]
    assert official["categories"] == list(SENSOR_COMPETITION_CATEGORIES)
    assert official["without_labels_in_range"] == [
        c for c in SENSOR_COMPETITION_CATEGORIES if c not in cats
    ]
    # the labelled categories' rows and the others' default rows, over 26 (rows rounded)
    for metric, default in (("AP", 0.0), ("ATE", 2.0), ("ASE", 1.0), ("AOE", np.pi)):
        rows = [m["summary"][c][metric] for c in SENSOR_COMPETITION_CATEGORIES if c in cats]
        expected = (sum(rows) + default * (26 - len(rows))) / 26
        assert official["AVERAGE_METRICS"][metric] == pytest.approx(expected, abs=1.5e-3)
