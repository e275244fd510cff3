"""``eval detection --detections``: a nuScenes submission with sample tokens outside the
labelled set or without ``meta`` is scored with a warning (printed, in metrics.json notes);
a KITTI result file mixing rows with and without a score is an error naming the line; a
``--detections`` of the wrong kind is refused before scoring starts, naming the flag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main


def _nusc_perfect(root: Path) -> dict:
    """The labels of the nuScenes sample as a submission (score 1, with meta)."""
    from drivestack.eval.detection.datasets import nuscenes_frames
    from drivestack.ingest.nuscenes import boxes_to_submission

    results = {}
    for lf in nuscenes_frames(root, load_points=False):
        labels = lf.frame.labels
        assert labels is not None
        results[lf.key] = boxes_to_submission(labels, lf.key, lf.calib)
    meta = {k: k == "use_lidar" for k in
            ("use_camera", "use_lidar", "use_radar", "use_map", "use_external")}  # fmt: skip
    return {"meta": meta, "results": results}


@pytest.mark.data
def test_nuscenes_unknown_tokens_and_missing_meta_are_warned(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = shared_data / "nuscenes_samples" / "mmdet3d_demo"
    doc = json.loads(json.dumps(_nusc_perfect(root), allow_nan=True))
    base = ["eval", "detection", "--dataset", "nuscenes", "--root", str(root), "--quiet"]
    good = tmp_path / "good.json"
    good.write_text(json.dumps(doc))
    assert main([*base, "--out", str(tmp_path / "g"), "--detections", str(good)]) == 0
    assert "warning" not in capsys.readouterr().err
    token = "0" * 32
    first = next(iter(doc["results"].values()))[:2]
    extra = {"meta": doc["meta"],
             "results": {**doc["results"], token: [dict(b, sample_token=token) for b in first]}}  # fmt: skip
    bad = tmp_path / "extra.json"
    bad.write_text(json.dumps(extra))
    out = tmp_path / "e"
    assert main([*base, "--out", str(out), "--detections", str(bad)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {bad}: 1 sample token(s) that are no labelled sample" in err
    assert repr(token) in err and "2 box(es)" in err
    notes = json.loads((out / "metrics.json").read_text())["notes"]
    assert any("no labelled sample" in n for n in notes)
    nometa = tmp_path / "nometa.json"
    nometa.write_text(json.dumps({"results": doc["results"]}))
    out = tmp_path / "m"
    assert main([*base, "--out", str(out), "--detections", str(nometa)]) == 0
    assert f"warning: {nometa}: no 'meta' object" in capsys.readouterr().err
    notes = json.loads((out / "metrics.json").read_text())["notes"]
    assert any("no 'meta' object" in n for n in notes)


def test_kitti_result_file_mixing_column_counts_is_an_error(tmp_path: Path) -> None:
    from drivestack.core.errors import DataError
    from drivestack.ingest.kitti_object import read_kitti_label

    row = "Car 0.00 0 -1.57 100.00 120.00 200.00 180.00 1.50 1.60 3.90 1.00 1.50 20.00 -1.57"
    path = tmp_path / "000001.txt"
    path.write_text(f"{row} 0.9\n{row} 0.8\n{row}\n")
    with pytest.raises(DataError, match="expected 16 columns like the first line, got 15") as err:
        read_kitti_label(path)
    assert (err.value.path, err.value.record) == (str(path), "line 3")
    path.write_text(f"{row}\n{row}\n")  # a label file: 15 columns throughout
    assert len(read_kitti_label(path)) == 2


@pytest.mark.parametrize(
    ("dataset", "kind", "expected"),
    [
        ("aimotive", "file", "--dataset aimotive has no detection file format"),
        ("pandaset", "file", "--dataset pandaset has no detection file format"),
        ("kitti", "file", "--dataset kitti needs a folder of KITTI label files <frame>.txt"),
        ("kitti-tracking", "file", "needs a folder of KITTI label files"),
        ("nuscenes", "folder", "--dataset nuscenes needs a nuScenes submission file"),
        ("av2", "folder", "--dataset av2 needs an AV2 detections table (.feather), got a folder"),
    ],
)
def test_wrong_kind_of_detections_is_refused_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dataset: str, kind: str, expected: str
) -> None:
    detections = tmp_path / "dets"
    if kind == "file":
        detections.write_text("{}")
    else:
        detections.mkdir()
    out = tmp_path / "out"
    args = ["eval", "detection", "--dataset", dataset, "--root", str(tmp_path), "--quiet"]
    assert main([*args, "--out", str(out), "--detections", str(detections)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # not even "scoring the detections in ..."
    assert captured.err.startswith(f"error: {detections}: field --detections: ")
    assert expected in captured.err
    assert not out.exists()
