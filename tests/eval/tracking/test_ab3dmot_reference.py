"""Fidelity: the evaluator reproduces AB3DMOT's own evaluator summaries on its 2020 outputs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from drivestack.eval.tracking import KittiMotProtocol, evaluate_kitti_tracking
from drivestack.ingest.kitti_tracking import read_seqmap

pytestmark = pytest.mark.data

_PASS = re.compile(r"evaluation with confidence threshold (-?[\d.]+), recall ([\d.]+)")


def _parse_summary(path: Path) -> tuple[list[list[str]], dict[str, str], list[str]]:
    lines = path.read_text().splitlines()
    passes, details = [], {}
    for i, line in enumerate(lines):
        m = _PASS.search(line)
        if m:
            passes.append([m.group(1), m.group(2), *lines[i + 2].split()])
        elif line.startswith(
            (
                "Multiple",
                "Recall",
                "Precision",
                "Mostly",
                "True",
                "False",
                "Ignored",
                "ID-",
                "Frag",
                "Ground",
                "Tracker",
                "F1",
            )
        ):
            key, value = line[:70].strip(), line[70:].strip()
            details[key] = value
    sam = lines[-2].split()
    return passes, details, sam


@pytest.fixture(scope="module")
def reference_metrics(shared_data: Path):
    root = shared_data / "kitti_tracking"
    seqmap = read_seqmap(root / "seqmaps" / "evaluate_tracking.seqmap.val")
    return evaluate_kitti_tracking(
        root / "training" / "label_02",
        root / "reference_outputs" / "ab3dmot_2020",
        seqmap,
        ["Car", "Pedestrian", "Cyclist"],
        KittiMotProtocol(min_overlap=0.25),
    )


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        ("Car", (0.9328, 0.4543, 0.7741)),
        ("Pedestrian", (0.7439, 0.2977, 0.5390)),
        ("Cyclist", (0.7294, 0.3795, 0.6303)),
    ],
)
def test_samota_amota_amotp_match_readme(
    reference_metrics, cls: str, expected: tuple[float, float, float]
) -> None:
    c = reference_metrics[cls].clear
    assert (round(c.sAMOTA, 4), round(c.AMOTA, 4), round(c.AMOTP, 4)) == expected


@pytest.mark.parametrize("cls", ["Car", "Pedestrian", "Cyclist"])
def test_every_pass_matches_reference_summary(
    reference_metrics, shared_data: Path, cls: str
) -> None:
    path = (
        shared_data
        / "kitti_tracking"
        / "reference_outputs"
        / "ab3dmot_2020"
        / f"summary_{cls.lower()}_average_eval3D.txt"
    )
    passes, details, sam = _parse_summary(path)
    c = reference_metrics[cls].clear
    assert len(c.per_threshold) == len(passes)
    for ours, ref in zip(c.per_threshold, passes, strict=True):
        mine = [
            f"{ours.threshold:f}",
            f"{ours.recall_threshold:f}",
            *(f"{v:.4f}" for v in (ours.sMOTA, ours.MOTA, ours.MOTP, ours.MT, ours.ML)),
            str(ours.IDS),
            str(ours.FRAG),
            *(f"{v:.4f}" for v in (ours.F1, ours.precision, ours.recall, ours.FAR)),
            str(ours.TP),
            str(ours.FP),
            str(ours.FN),
        ]
        assert mine == ref
    b = c.best
    assert f"{b.MOTA:.4f}" == details["Multiple Object Tracking Accuracy (MOTA)"]
    assert f"{b.MOTP:.4f}" == details["Multiple Object Tracking Precision (MOTP)"]
    assert str(b.TP) == details["True Positives"]
    assert str(b.ignored_TP) == details["Ignored True Positives"]
    assert str(b.FP) == details["False Positives"]
    assert str(b.FN) == details["False Negatives"]
    assert str(b.ignored_FN) == details["Ignored False Negatives"]
    assert str(b.IDS) == details["ID-switches"]
    assert str(b.FRAG) == details["Fragmentations"]
    assert str(b.n_gt + b.n_gt_ignored) == details["Ground Truth Objects (Total)"]
    assert str(b.n_tracker) == details["Tracker Objects (Total)"]
    assert str(b.n_tracker_ignored) == details["Ignored Tracker Objects"]
    assert f"{b.MT:.4f}" == details["Mostly Tracked"] and f"{b.ML:.4f}" == details["Mostly Lost"]
    assert [f"{c.sAMOTA:.4f}", f"{c.AMOTA:.4f}", f"{c.AMOTP:.4f}"] == sam


# PUBLISHED_RESULTS.md table B2: AB3DMOT's README, 2D MOT (image IoU 0.5) of the same 2020 outputs:
# sAMOTA AMOTA AMOTP MOTA MOTP (percent), IDS FRAG FP FN
_B2 = {
    "Car": (93.01, 45.21, 84.61, 85.70, 86.99, 2, 24, 391, 805),
    "Pedestrian": (65.89, 24.29, 49.15, 59.76, 67.27, 52, 371, 683, 3203),
    "Cyclist": (72.09, 37.65, 67.47, 78.78, 85.40, 0, 8, 64, 222),
}


@pytest.mark.slow
@pytest.mark.parametrize("cls", ["Car", "Pedestrian", "Cyclist"])
def test_2d_protocol_matches_published_table_b2(shared_data: Path, cls: str) -> None:
    root = shared_data / "kitti_tracking"
    seqmap = read_seqmap(root / "seqmaps" / "evaluate_tracking.seqmap.val")
    m = evaluate_kitti_tracking(
        root / "training" / "label_02",
        root / "reference_outputs" / "ab3dmot_2020",
        seqmap,
        [cls],
        KittiMotProtocol(min_overlap=0.5, similarity="iou_2d"),
    )[cls].clear
    b = m.best
    got = (
        *(round(100 * v, 2) for v in (m.sAMOTA, m.AMOTA, m.AMOTP, b.MOTA, b.MOTP)),
        b.IDS,
        b.FRAG,
        b.FP,
        b.FN,
    )
    assert got == pytest.approx(_B2[cls], abs=1e-9)
