"""``eval detection --dataset av2``: with the detector, ``--out`` gets the detections as an AV2
Feather file that ``--detections`` scores; a detections file without rows for a scored log is
announced and listed, not scored silently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.eval.detection.run import evaluate_dataset
from drivestack.ingest.argoverse2 import read_av2_cuboids
from drivestack.structures.boxes import Boxes3D

ROOT = "argoverse2/sensor/val"


class _LabelsWithPoints:
    """An oracle detector: the sweep's labels that hold LiDAR points (ego frame)."""

    def reset(self) -> None:
        pass

    def step(self, frame: Any) -> Boxes3D:
        from drivestack.kernels import points_in_boxes

        labels = frame.labels
        inside = points_in_boxes(frame.lidar().xyz_m.astype(np.float64), labels.to_array7())
        return labels.select(inside.sum(axis=0) > 0)


@pytest.mark.data
def test_out_holds_av2_detections_that_score_back(shared_data: Path, tmp_path: Path) -> None:
    root = shared_data / ROOT
    res = evaluate_dataset(
        "av2", root, detector=_LabelsWithPoints(), max_frames=1, out_dir=tmp_path / "out"
    )
    log_id, ts = res["frames"][0].split("/")
    written = read_av2_cuboids(tmp_path / "out/detections/detections.feather")
    labels = read_av2_cuboids(root / log_id / "annotations.feather").at(int(ts))
    cars = labels.select((labels.category == "REGULAR_VEHICLE") & (labels.num_interior_pts > 0))
    assert set(written.log_id.tolist()) == {log_id}
    assert set(written.timestamp_ns.tolist()) == {int(ts)}
    assert {"REGULAR_VEHICLE", "PEDESTRIAN"} <= set(written.category.tolist())
    mine = written.select(written.category == "REGULAR_VEHICLE")
    assert len(mine) == len(cars)
    order = np.lexsort(mine.boxes[:, :2].T), np.lexsort(cars.boxes[:, :2].T)
    np.testing.assert_allclose(mine.boxes[order[0], :6], cars.boxes[order[1], :6], atol=1e-9)

    again = evaluate_dataset(
        "av2", root, detections=tmp_path / "out/detections/detections.feather", max_frames=1
    )
    summary = again["metrics"]["summary"]
    assert summary["REGULAR_VEHICLE"]["AP"] == 1.0 and summary["PEDESTRIAN"]["AP"] == 1.0
    assert again["logs_without_detections"] == []


@pytest.mark.data
def test_log_without_detection_rows_is_announced(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    root = shared_data / ROOT
    logs = sorted(p.name for p in root.iterdir() if (p / "annotations.feather").exists())
    table = feather.read_table(str(root / logs[0] / "annotations.feather"))
    table = table.append_column("log_id", pa.array([logs[0]] * table.num_rows))
    table = table.append_column("score", pa.array([1.0] * table.num_rows))  # labels have none
    feather.write_feather(table, str(tmp_path / "one_log.feather"))
    res = evaluate_dataset("av2", root, detections=tmp_path / "one_log.feather")
    assert res["logs_without_detections"] == logs[1:]
    err = capsys.readouterr().err
    for log_id in logs[1:]:
        assert f"no detection rows for log {log_id}" in err
    assert logs[0] not in err
