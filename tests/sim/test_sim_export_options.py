"""``drivestack sim`` export options: bad values and ignored options are refused up front,
an export folder holding a dataset is refused unless --overwrite, and a run's results are
written before its frames are exported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivestack.cli import main

SCENARIO = str(Path(__file__).resolve().parents[2] / "configs" / "scenarios" / "cut_in.yaml")


def _sim(tmp_path: Path, *extra: str) -> int:
    return main(
        [
            *("sim", SCENARIO, "--planner", "pdm", "--max-steps", "3", "--quiet"),
            *("--out", str(tmp_path / "out"), *extra),
        ]
    )


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (
            ["--export-every", "0", "--export-dataset", "DS"],
            "--export-every must be 1 or more, got 0",
        ),
        (
            ["--export-every", "-3", "--export-dataset", "DS"],
            "--export-every must be 1 or more, got -3",
        ),
        (["--export-every", "2"], "--export-every needs --export-dataset"),
        (
            ["--stack", "configs/stack/sim_lidar.yaml"],
            "--stack is used only with --perception lidar",
        ),
    ],
)
def test_ignored_or_bad_options_are_refused_before_anything_runs(tmp_path, capsys, extra, named):
    extra = [str(tmp_path / "ds") if e == "DS" else e for e in extra]
    assert _sim(tmp_path, *extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0]
    assert not (tmp_path / "out").exists() and not (tmp_path / "ds").exists()


def test_export_dataset_that_is_a_file_is_refused_before_anything_runs(tmp_path, capsys):
    a_file = tmp_path / "afile"
    a_file.write_text("x")
    assert _sim(tmp_path, "--export-dataset", str(a_file)) == 2
    assert "--export-dataset must be a folder" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing ran, nothing written
    assert _sim(tmp_path, "--export-dataset", str(a_file / "ds")) == 2  # under a file
    assert "is a file" in capsys.readouterr().err


def test_non_empty_export_folder_is_refused_unless_overwrite(tmp_path, capsys):
    ds = tmp_path / "ds"
    old = ds / "training" / "label_2" / "000007.txt"  # another export's frame 7
    old.parent.mkdir(parents=True)
    old.write_text("Car 0 0 0 0 0 1 1 1 1 1 1 0 0 5 0\n")
    notes = ds / "README.txt"
    notes.write_text("mine")
    old_split = ds / "ImageSets" / "train.txt"  # another export's split
    old_split.parent.mkdir(parents=True)
    old_split.write_text("000007\n")
    assert _sim(tmp_path, "--export-dataset", str(ds), "--export-every", "2") == 2
    assert "--export-dataset folder is not empty" in capsys.readouterr().err
    assert old.exists() and not (tmp_path / "out").exists()

    assert _sim(tmp_path, "--export-dataset", str(ds), "--export-every", "2", "--overwrite") == 0
    labels = sorted(p.name for p in (ds / "training" / "label_2").iterdir())
    assert labels == ["000000.txt", "000001.txt"]  # 4 ticks, every 2nd; the old frame 7 gone
    assert notes.read_text() == "mine"  # only the KITTI layout's files are deleted
    assert "exported 2 labelled frames" in capsys.readouterr().out
    # the split files KITTI converters read first: every exported id to train, none to val
    splits = {p.name: p.read_text() for p in (ds / "ImageSets").iterdir()}
    assert splits == {
        "train.txt": "000000\n000001\n",
        "trainval.txt": "000000\n000001\n",
        "val.txt": "",
        "test.txt": "",
    }


def test_run_results_are_written_before_the_export(tmp_path, monkeypatch):
    from drivestack.commands import sim

    def failing_export(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(sim, "_export", failing_export)
    with pytest.raises(OSError, match="disk full"):
        _sim(tmp_path, "--export-dataset", str(tmp_path / "ds"))
    metrics = json.loads((tmp_path / "out" / "pdm" / "cut_in" / "metrics.json").read_text())
    assert metrics["scenario"] == "cut_in"


def test_exported_images_show_the_lamps_the_lights_showed(tmp_path: Path) -> None:
    # the export rendered every camera image without light states: no lamp was ever lit
    import numpy as np
    from PIL import Image

    from drivestack.cli import main as cli_main

    scenario = Path(__file__).resolve().parents[2] / "configs/scenarios/red_light_stop.yaml"
    out, export = tmp_path / "run", tmp_path / "export"
    argv = ["sim", str(scenario), "--planner", "pdm", "--max-steps", "1", "--quiet"]
    assert cli_main([*argv, "--out", str(out), "--export-dataset", str(export)]) == 0
    rgb = np.asarray(Image.open(export / "training" / "image_2" / "000000.png")).astype(int)
    lit = int(((rgb.max(axis=-1) - rgb.min(axis=-1)) > 120).sum())  # saturated lamp pixels
    assert lit > 0


def test_the_export_records_its_runs_ids_and_sensor_mounts(tmp_path: Path) -> None:
    # nothing said which scenario and planner each id came from (a split by scenario was
    # impossible) nor where the camera and the LiDAR sat (a sensor height a detector needs)
    params = tmp_path / "lidar.yaml"
    params.write_text("mount_xyz_m: [2.0, 0.3, 2.2]\n")
    export = tmp_path / "export"
    extra = ("--export-dataset", str(export), "--export-every", "1", "--lidar-params", str(params))
    assert _sim(tmp_path, *extra) == 0
    record = json.loads((export / "export.json").read_text())
    assert record["runs"] == [{"run": "pdm/cut_in", "first_id": 0, "frames": 4, "every": 1}]
    assert record["camera"]["mount_xyz_m"] == [1.6, 0.0, 1.65]
    assert record["lidar_mount"]["xyz_m"] == pytest.approx([2.0, 0.3, 2.2])
    assert record["lidar_params"]["mount_xyz_m"] == [2.0, 0.3, 2.2]
    assert len(list((export / "training" / "label_2").glob("*.txt"))) == 4  # ticks 0..3


def test_truncation_is_the_share_of_the_box_outside_the_view() -> None:
    # the cut projection's area blew up for a box beside the camera: a truck alongside that
    # filled a quarter of the image read truncation 0.9999
    import numpy as np

    from drivestack.ingest.kitti_calib import KittiCalib
    from drivestack.sim.export_kitti import frustum_truncation

    p2 = np.array([[721.5, 0.0, 621.0, 0.0], [0.0, 721.5, 187.5, 0.0], [0.0, 0.0, 1.0, 0.0]])
    camera_from_lidar = np.array([[0.0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0]])  # x fwd -> z
    calib = KittiCalib({f"P{i}": p2 for i in range(4)}, np.eye(3), camera_from_lidar, None)
    boxes = np.array(
        [
            [20.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0],  # ahead, in view
            [0.0, 20.0, 0.0, 4.0, 2.0, 1.5, 0.0],  # beside: none in view
            [0.0, 3.0, 0.0, 10.0, 2.5, 3.5, 0.0],  # a truck alongside, its front 5 m ahead
        ]
    )
    truncation = frustum_truncation(boxes, calib, 1242, 375)
    assert truncation[0] == 0.0 and truncation[1] == 1.0
    assert 0.5 < truncation[2] < 0.99  # its front end, ahead and left, is in view
