"""``drivestack eval detection`` end to end: ground truth scored as detections gives perfect
scores in each protocol; the PointRCNN files of KITTI tracking sequence 0000 are scored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.eval.detection.nuscenes import DETECTION_CVPR_2019, filter_boxes


def _metrics(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "metrics.json").read_text())["metrics"]


@pytest.mark.data
def test_kitti_tracking_labels_as_detections(shared_data: Path, tmp_path: Path) -> None:
    labels = (shared_data / "kitti_tracking/training/label_02/0000.txt").read_text().splitlines()
    folder = tmp_path / "dets"
    folder.mkdir()
    for frame in range(74, 154):
        rows = [
            r.split() for r in labels if int(r.split()[0]) == frame and r.split()[2] != "DontCare"
        ]
        (folder / f"{frame:06d}.txt").write_text("".join(" ".join(r[2:]) + " 1.0\n" for r in rows))
    out = tmp_path / "out"
    assert (
        main(
            [
                "eval",
                "detection",
                "--dataset",
                "kitti-tracking",
                "--root",
                str(shared_data / "kitti_tracking"),
                "--out",
                str(out),
                "--detections",
                str(folder),
            ]
        )
        == 0
    )
    m = _metrics(out)
    assert m["Car_3D_AP40_moderate_strict"] == pytest.approx(100.0)
    assert m["Cyclist_BEV_AP11_hard_strict"] == pytest.approx(100.0)
    assert json.loads((out / "metrics.json").read_text())["num_frames"] == 80


@pytest.mark.data
def test_av2_annotations_as_detections(shared_data: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.compute
    import pyarrow.feather as feather

    root = shared_data / "argoverse2/sensor/val"
    tables = []
    for log in sorted(root.iterdir()):
        t = feather.read_table(str(log / "annotations.feather"))
        t = t.filter(
            pa.compute.greater(t.column("num_interior_pts"), 0)
        )  # empty labels are not scored
        t = t.append_column("log_id", pa.array([log.name] * t.num_rows)).append_column(
            "score", pa.array(np.ones(t.num_rows))
        )
        tables.append(t.drop_columns(["num_interior_pts"]))
    feather.write_feather(pa.concat_tables(tables), str(tmp_path / "dets.feather"))
    out = tmp_path / "out"
    assert (
        main(
            [
                "eval",
                "detection",
                "--dataset",
                "av2",
                "--root",
                str(root),
                "--out",
                str(out),
                "--detections",
                str(tmp_path / "dets.feather"),
            ]
        )
        == 0
    )
    summary = _metrics(out)["summary"]
    assert summary["REGULAR_VEHICLE"] == {"AP": 1.0, "ATE": 0.0, "ASE": 0.0, "AOE": 0.0, "CDS": 1.0}
    assert summary["AVERAGE_METRICS"]["AP"] == 1.0
    assert _metrics(out)["metric_units"] == {  # the names carry none
        "AP": "0-1", "ATE": "m", "ASE": "1-IoU", "AOE": "rad", "CDS": "0-1"
    }  # fmt: skip


@pytest.mark.data
def test_nuscenes_labels_as_submission(shared_data: Path, tmp_path: Path) -> None:
    from drivestack.eval.detection.datasets import nuscenes_frames
    from drivestack.ingest.nuscenes import boxes_to_submission, write_submission

    root = shared_data / "nuscenes_samples/mmdet3d_demo"
    (lf,) = list(nuscenes_frames(root, load_points=False))
    assert lf.frame.labels is not None
    seen = lf.native.num_pts > 0  # boxes of empty labels would be false positives
    write_submission(
        tmp_path / "sub.json",
        {lf.key: boxes_to_submission(lf.frame.labels.select(seen), lf.key, lf.calib)},
    )
    out = tmp_path / "out"
    assert (
        main(
            [
                "eval",
                "detection",
                "--dataset",
                "nuscenes",
                "--root",
                str(root),
                "--out",
                str(out),
                "--detections",
                str(tmp_path / "sub.json"),
            ]
        )
        == 0
    )
    m = _metrics(out)
    scored = set(
        filter_boxes(lf.native, DETECTION_CVPR_2019.class_range, is_gt=True).detection_name.tolist()
    )
    assert m["mean_ap"] == pytest.approx(len(scored) / 10)
    # classes without labels keep the error 1, averaged in like the devkit does
    assert m["tp_errors"]["trans_err"] == pytest.approx((10 - len(scored)) / 10)
    assert m["tp_errors"]["scale_err"] == pytest.approx((10 - len(scored)) / 10)
    assert m["tp_error_units"] == {  # the devkit's names carry none
        "trans_err": "m", "scale_err": "1-IoU", "orient_err": "rad", "vel_err": "m/s",
        "attr_err": "1-acc",
    }  # fmt: skip
    assert m["nd_score"] > m["mean_ap"] / 2
    # the labels each class's AP rests on: within its range, with points
    assert m["labels_in_range"] == {
        c: int(np.sum(filter_boxes(lf.native, {c: r}, is_gt=True).detection_name == c))
        for c, r in DETECTION_CVPR_2019.class_range.items()
    }
    assert (
        set(m["classes_without_labels_in_range"]) == set(DETECTION_CVPR_2019.class_range) - scored
    )


@pytest.mark.data
def test_nuscenes_classes_with_labels_only_beyond_range_are_marked(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo sample labels a bus (53.5 m), a bicycle (64.5 m) and a construction vehicle
    (72 m) only beyond their class range: AP 0 as the official evaluator scores them, said so."""
    out = tmp_path / "out"
    assert main(["eval", "detection", "--dataset", "nuscenes", "--out", str(out)]) == 0
    lines = {ln.split()[0]: ln for ln in capsys.readouterr().out.splitlines() if "AP@" in ln}
    m = _metrics(out)
    assert m["labels_in_range"]["pedestrian"] == 10 and m["labels_in_range"]["bus"] == 0
    for cls in ("bus", "bicycle", "construction_vehicle"):
        assert cls in m["classes_without_labels_in_range"]
        assert m["label_aps"][cls] == {"0.5": 0.0, "1.0": 0.0, "2.0": 0.0, "4.0": 0.0}
    assert "(no labels with points within 50 m: AP 0, averaged into the mAP)" in lines["bus"]
    assert "(10 labels with points within 40 m)" in lines["pedestrian"]


@pytest.mark.data
@pytest.mark.slow
def test_pointrcnn_on_kitti_tracking_0000(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "prcnn"
    dets = shared_data / "kitti_tracking/detections/ab3dmot_pointrcnn"
    assert (
        main(
            [
                "eval",
                "detection",
                "--dataset",
                "kitti-tracking",
                "--root",
                str(shared_data / "kitti_tracking"),
                "--out",
                str(out),
                "--detections",
                str(dets),
            ]
        )
        == 0
    )
    m = _metrics(out)
    # measured with this evaluator: Car BEV AP40 moderate 97.75 (strict and loose)
    assert 90.0 < m["Car_BEV_AP40_moderate_loose"] <= 100.0


def test_bad_dataset_root_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "eval",
            "detection",
            "--dataset",
            "kitti",
            "--root",
            str(tmp_path),
            "--out",
            str(tmp_path / "o"),
            "--detections",
            str(tmp_path),
        ]
    )
    assert rc == 2 and "no label files" in capsys.readouterr().err


class _SeenLabels:
    """A detector stage that returns the labelled boxes holding LiDAR points (an oracle)."""

    def reset(self) -> None:
        pass

    def step(self, frame):  # type: ignore[no-untyped-def]
        from drivestack.kernels import points_in_boxes

        labels = frame.labels
        inside = points_in_boxes(frame.lidar().xyz_m.astype(np.float64), labels.to_array7()).sum(
            axis=0
        )
        return labels.select(inside > 0)


@pytest.mark.data
def test_center_distance_groups_on_pandaset_with_an_oracle(shared_data: Path) -> None:
    from drivestack.eval.detection.run import evaluate_dataset

    res = evaluate_dataset("pandaset", shared_data / "pandaset/002", detector=_SeenLabels())
    m = res["metrics"]
    assert res["num_frames"] == 4 and m["protocol"] == "center_distance_class_groups"
    for group in ("vehicle", "pedestrian", "cyclist"):
        assert m["label_aps"][group]["2.0"] == pytest.approx(1.0), group
    assert m["tp_errors"]["trans_err"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.data
def test_frame_counts_from_the_listings(shared_data: Path) -> None:
    from drivestack.eval.detection.datasets import DEFAULT_ROOTS, frame_count, labelled_frames

    for dataset, expected in (("kitti", 6), ("kitti-tracking", 80), ("av2", 3)):
        root = shared_data / DEFAULT_ROOTS[dataset]
        assert frame_count(dataset, root) == expected
        assert sum(1 for _ in labelled_frames(dataset, root, load_points=False)) == expected
    assert frame_count("pandaset", shared_data / DEFAULT_ROOTS["pandaset"]) == 4
    assert frame_count("aimotive", shared_data / DEFAULT_ROOTS["aimotive"]) == 50
    assert frame_count("nuscenes", shared_data / DEFAULT_ROOTS["nuscenes"]) is None


@pytest.mark.data
def test_progress_bar_has_a_total(shared_data: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "o"
    args = ["eval", "detection", "--dataset", "kitti-tracking", "--max-frames", "2"]
    assert main([*args, "--detector", "open3d-baseline", "--out", str(out)]) == 0
    assert "2/2" in capsys.readouterr().err
