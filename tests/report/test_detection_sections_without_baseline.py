"""``drivestack report`` of a detection result without --baseline: the AV2 section shows the
per-category AP / ATE / ASE / AOE / CDS, and the notes eval detection stored in metrics.json
(KITTI's AP40 quantisation, a TP error undefined for want of ground truth) are on the page;
eval detection's nuScenes attr_err note blames the ground truth, which has no attributes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main


def _report(tmp_path: Path, result: dict) -> str:
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps(result))
    html = tmp_path / "report.html"
    assert main(["report", str(run), "--out", str(html)]) == 0
    return html.read_text()


def test_av2_section_has_the_per_category_table(tmp_path: Path) -> None:
    row = {"AP": 0.665, "ATE": 0.412, "ASE": 0.201, "AOE": 0.305, "CDS": 0.55}
    result = {
        "dataset": "av2",
        "num_frames": 3,
        "metrics": {
            "protocol": "argoverse2_detection_class_groups",
            "summary": {"vehicle": row, "AVERAGE_METRICS": row},
            "ap_by_threshold": {"vehicle": {"2.0": 0.7}},
        },
    }
    page = _report(tmp_path, result)
    table = page.split('<h2 id="detection">', 1)[1]
    for column in ("AP", "ATE", "ASE", "AOE", "CDS"):
        assert f"<th>{column}</th>" in table
    assert '<td class="l" data-v="vehicle">vehicle</td><td data-v="0.665">0.665</td>' in table
    assert "0.412" in table and "0.305" in table and "AVERAGE_METRICS" in table


def test_kitti_quantisation_notes_reach_the_report(tmp_path: Path) -> None:
    note = (
        "Pedestrian moderate: AP40 with N = 5 < 41 labelled boxes is quantised: a perfect "
        "detector scores 10.00"
    )
    result = {
        "dataset": "kitti-tracking",
        "num_frames": 80,
        "metrics": {"protocol": "kitti_object_ap40", "Pedestrian_BEV_AP40_moderate_strict": 10.0},
        "notes": [note],
    }
    page = _report(tmp_path, result)
    assert "a perfect detector scores 10.00" in page.split('<h2 id="detection">', 1)[1]


@pytest.mark.data
def test_nuscenes_attribute_note_blames_the_ground_truth(shared_data: Path) -> None:
    from drivestack.commands.eval_detection import _notes
    from drivestack.eval.detection.datasets import nuscenes_frames
    from drivestack.eval.detection.run import ground_truth_fields

    root = shared_data / "nuscenes_samples" / "mmdet3d_demo"
    truth = ground_truth_fields([lf.native for lf in nuscenes_frames(root, load_points=False)])
    assert truth["boxes"] > 0 and truth["with_attribute"] == 0 and truth["with_velocity"] > 0
    errors = {"trans_err": 0.5, "vel_err": 0.625, "attr_err": 1.0}
    result = {
        "dataset": "nuscenes",
        "metrics": {"tp_errors": errors, "ground_truth": truth},
        "detector_outputs": {"boxes_with_velocity": 0, "yaw_is_axis": False},
    }
    notes = _notes(result)
    (attr,) = [n for n in notes if n.startswith("attr_err")]
    assert "ground truth having no attributes" in attr and "info file" in attr
    (vel,) = [n for n in notes if "vel_err" in n]  # the labels have velocities: the detector
    assert vel.startswith("the detector outputs no velocity") and "attr" not in vel
