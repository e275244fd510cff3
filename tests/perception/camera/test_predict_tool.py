"""tools/predict_camera_detector.py: a trained detector's KITTI 2D result files, scored by
``drivestack eval detection2d`` (run in-process on the generated dataset)."""

from __future__ import annotations

import json
import runpy
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main as drivestack_main
from drivestack.ingest.kitti_object import read_kitti_label
from drivestack.perception.camera.predict import find_image_dir, predict_kitti_folder
from drivestack.structures.camera import CameraImage
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass

REPO = Path(__file__).resolve().parents[3]
Main = Callable[[list[str]], int]


@pytest.fixture(scope="module")
def tool() -> Main:
    path = REPO / "tools" / "predict_camera_detector.py"
    main: Main = runpy.run_path(str(path), run_name="tool")["main"]
    return main


def test_results_are_one_2d_only_kitti_file_per_image_and_scored(
    tool: Main,
    weights: Path,
    synthetic_kitti: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "results"
    # the config comes from the checkpoint; threshold 0 keeps every box the network returns
    assert tool(["--weights", str(weights), "--images", str(synthetic_kitti), "--out", str(out),
                 "--score-threshold", "0"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    assert "detect" in captured.err  # the tqdm bar
    assert "wrote 6 result files" in captured.out
    assert sorted(p.name for p in out.iterdir()) == [f"{i:06d}.txt" for i in range(6)]
    rows = read_kitti_label(out / "000000.txt")
    assert len(rows) > 0 and set(rows.type_name.tolist()) <= {"Car", "Pedestrian"}
    assert not rows.has_box3d().any()  # the devkit's 2D-only placeholders
    assert np.all(rows.alpha_rad == -10) and np.all(rows.location_m == -1000)
    assert np.all((rows.score >= 0) & (rows.score <= 1))
    assert (out / "000000.txt").read_text().split("\n")[0].split()[8:11] == ["-1.000000"] * 3

    metrics = tmp_path / "ap"
    argv = ["eval", "detection2d", "--labels", str(synthetic_kitti / "label_2"), "--results",
            str(out), "--classes", "Car,Pedestrian", "--min-height-px", "10", "--out",
            str(metrics), "--quiet"]  # fmt: skip
    assert drivestack_main(argv) == 0
    car = json.loads((metrics / "metrics.json").read_text())["classes"]["Car"]["iou_0.5"]
    assert car["n_gt"] > 0 and 0.0 <= car["ap"] <= 1.0

    # a higher threshold, a config file: fewer rows, same files
    high = tmp_path / "high"
    config = tmp_path / "small.yaml"
    config.write_text(
        "backbone: mobilenet_v3_small\nclasses: [Car, Pedestrian]\nfpn_channels: 32\n"
        "head_convs: 1\nmin_size_px: 96\nmax_size_px: 160\n"
    )
    assert tool(["--weights", str(weights), "--config", str(config), "--images",
                 str(synthetic_kitti / "image_2"), "--out", str(high), "--score-threshold", "0.6",
                 "--quiet"]) == 0  # fmt: skip
    kept = read_kitti_label(high / "000000.txt")
    assert len(kept) < len(rows) and np.all(kept.score >= 0.6)


def test_errors_are_one_line_and_exit_2(
    tool: Main,
    weights: Path,
    synthetic_kitti: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"random bytes, not weights")
    base = ["--images", str(synthetic_kitti), "--out", str(tmp_path / "o"), "--quiet"]
    cases = [
        (["--weights", str(junk), *base], f"{junk}: not a torch checkpoint ("),
        (["--weights", str(tmp_path / "none.pt"), *base], "none.pt: weights file not found"),
        (["--weights", str(tmp_path), *base], f"{tmp_path}: is a directory, not a weights file"),
        (
            ["--weights", str(weights), *base, "--score-threshold", "2"],
            "field --score-threshold: must be in [0, 1], got 2.0",
        ),
        (
            ["--weights", str(weights), "--images", str(tmp_path), "--out", str(tmp_path / "o")],
            f"{tmp_path}: no *.png images here",
        ),
    ]
    for argv, message in cases:
        assert tool(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
        assert "weights_only" not in err
    config = tmp_path / "wide.yaml"
    config.write_text("classes: [Car, Pedestrian]\nfpn_channels: 64\n")
    assert tool(["--weights", str(weights), "--config", str(config), *base]) == 2
    assert "field config.fpn_channels: weights are for another architecture" in (
        capsys.readouterr().err
    )


class _OneBox:
    """A stage that finds one cyclist per image (no network)."""

    def reset(self) -> None:
        self.seen = 0

    def step(self, image: CameraImage) -> Detections2D:
        self.seen += 1
        return Detections2D(
            box_xyxy_px=np.array([[1.0, 2.0, 30.0, 40.0]]),
            frame=image.frame,
            timestamp_ns=image.timestamp_ns,
            score=np.array([0.5]),
            label=np.array([int(ObjectClass.CYCLIST)]),
        )


def test_predict_folder_finds_kitti_layouts_and_writes_every_image(
    synthetic_kitti: Path, tmp_path: Path
) -> None:
    export = tmp_path / "export"
    (export / "training").mkdir(parents=True)
    (export / "training" / "image_2").symlink_to(synthetic_kitti / "image_2")
    assert find_image_dir(export) == export / "training" / "image_2"
    assert find_image_dir(synthetic_kitti) == synthetic_kitti / "image_2"
    stage = _OneBox()
    summary = predict_kitti_folder(stage, export, tmp_path / "out", progress=False)
    assert (summary.n_images, summary.n_detections, stage.seen) == (6, 6, 6)
    line = (tmp_path / "out" / "000003.txt").read_text()
    assert line.split()[0] == "Cyclist" and line.count("\n") == 1


def test_result_files_of_an_earlier_run_are_kept_or_replaced_as_asked(
    tool: Main,
    weights: Path,
    synthetic_kitti: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Was: predicting 3 images into a folder holding 6 results left the other 3 old files,
    which eval detection2d then scored beside the new ones."""
    import shutil

    three = tmp_path / "three" / "image_2"
    three.mkdir(parents=True)
    for png in sorted((synthetic_kitti / "image_2").glob("*.png"))[:3]:
        shutil.copy(png, three)
    out = tmp_path / "results"
    argv = ["--weights", str(weights), "--out", str(out), "--quiet"]
    assert tool([*argv, "--images", str(synthetic_kitti)]) == 0
    capsys.readouterr()
    assert tool([*argv, "--images", str(three)]) == 2
    assert "holds an earlier run's outputs (000000.txt, 000001.txt, 000002.txt and 3 more)" in (
        capsys.readouterr().err
    )
    assert len(list(out.glob("*.txt"))) == 6  # left as they were
    (out / "notes.txt").write_text("mine")  # not a result file: neither refused nor removed
    assert tool([*argv, "--images", str(three), "--overwrite"]) == 0
    results = [f"{i:06d}.txt" for i in range(3)]
    assert sorted(p.name for p in out.glob("*.txt")) == [*results, "notes.txt"]
