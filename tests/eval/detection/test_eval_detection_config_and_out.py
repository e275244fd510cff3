"""``drivestack eval detection`` (and ``bench perception``) check the detector config against the
dataset before any work: map steps on data without a map are an error naming the config and
key, a config made for another dataset (its ``datasets`` key) a one-line warning. ``--out``
holding another run's results is refused unless ``--overwrite``; a run's ``detections/`` is
swapped in whole (no stale file of an earlier run left). KITTI tracking scans are found in
KITTI's own ``velodyne/<seq>/*.bin`` layout too, and KITTI detection files of frames without
a labelled scan are counted in one warning."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main
from drivestack.commands._paths import DETECTOR_CONFIG_DIR, detector_config
from drivestack.core.errors import ConfigError
from drivestack.eval.detection.datasets import (
    DATASETS,
    DATASETS_WITH_MAP,
    check_detector_config,
)
from drivestack.perception.lidar import load_lidar_detector_config

AV2 = DETECTOR_CONFIG_DIR / "lidar_av2.yaml"
KITTI = DETECTOR_CONFIG_DIR / "lidar_kitti.yaml"


@pytest.mark.parametrize("dataset", [d for d in DATASETS if d not in DATASETS_WITH_MAP])
def test_map_config_on_data_without_a_map_is_one_line_before_any_work(
    dataset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["eval", "detection", "--dataset", dataset, "--root", str(tmp_path), "--quiet"]
    assert main([*args, "--config", str(AV2), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert captured.err.startswith(f"error: {AV2}: field ground.prior_surface: is on (also ")
    assert f"the frames of --dataset {dataset} carry no map" in captured.err
    assert not out.exists()


def test_bench_perception_refuses_a_map_config_on_kitti(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["bench", "perception", "--dataset", "kitti-tracking", "--root", str(tmp_path)]
    assert main([*args, "--config", str(AV2)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {AV2}: field ground.prior_surface:")


def test_every_shipped_config_names_its_datasets() -> None:
    for dataset in DATASETS:  # the default config of each dataset is made for it
        assert dataset in load_lidar_detector_config(detector_config(dataset, None)).datasets
    for path in DETECTOR_CONFIG_DIR.glob("lidar_*.yaml"):
        made_for = load_lidar_detector_config(path).datasets
        assert made_for and set(made_for) <= {*DATASETS, "sim"}, path.name


def test_datasets_key_is_checked_by_the_strict_loader_and_optional(tmp_path: Path) -> None:
    text = KITTI.read_text()
    assert "\ndatasets: [kitti, kitti-tracking]\n" in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("datasets: [kitti, kitti-tracking]", "datasets: 3"))
    with pytest.raises(ConfigError, match="field datasets: expected a list"):
        load_lidar_detector_config(bad)
    user = tmp_path / "user.yaml"  # a user's config without the key: made for any data
    user.write_text(text.replace("datasets: [kitti, kitti-tracking]\n", ""))
    cfg = load_lidar_detector_config(user)
    assert cfg.datasets == ()
    assert check_detector_config("av2", cfg, user) == []


def test_a_config_for_other_data_gives_one_warning_naming_file_and_key() -> None:
    cfg = load_lidar_detector_config(KITTI)
    assert check_detector_config("kitti-tracking", cfg, KITTI) == []
    (warning,) = check_detector_config("av2", cfg, KITTI)
    assert warning.startswith(f"{KITTI}: field datasets: this config was made for kitti, ")
    assert "not --dataset av2" in warning


@pytest.mark.data
def test_the_warning_is_printed_and_recorded(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    aimotive = DETECTOR_CONFIG_DIR / "lidar_aimotive.yaml"
    args = ["eval", "detection", "--dataset", "kitti-tracking", "--quiet", "--max-frames", "1"]
    assert main([*args, "--config", str(aimotive), "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"warning: {aimotive}: field datasets: this config was made for aimotive, not "
        "--dataset kitti-tracking: its figures there mean little (the default config of "
        "--dataset kitti-tracking is used without --config)"
    ]
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["config_warnings"] == [err[0].removeprefix("warning: ")]


def _run(*extra: str) -> int:
    return main(["eval", "detection", "--dataset", "kitti-tracking", "--quiet", *extra])


@pytest.mark.data
def test_out_of_another_run_is_refused_and_detections_are_swapped_in_whole(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _run("--max-frames", "3", "--out", str(out)) == 0
    assert sorted(p.name for p in (out / "detections").iterdir()) == [
        "000074.txt",
        "000075.txt",
        "000076.txt",
    ]
    # a stale file (an earlier run's, of a frame this one does not score) is not kept
    (out / "detections" / "000153.txt").write_text("")
    assert _run("--max-frames", "3", "--out", str(out)) == 0  # the same run: replaced
    assert sorted(p.name for p in (out / "detections").iterdir()) == [
        "000074.txt",
        "000075.txt",
        "000076.txt",
    ]
    capsys.readouterr()
    assert _run("--max-frames", "2", "--out", str(out)) == 2  # other frames: another run's
    assert "another max_frames 3, now 2" in capsys.readouterr().err
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no scratch left
    metrics = (out / "metrics.json").read_bytes()
    capsys.readouterr()

    # another run (the open3d baseline) into it: refused before any work, nothing touched
    assert _run("--detector", "open3d-baseline", "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out}: field --out: already holds the results of another ")
    assert "source drivestack LiDAR detector" in err and "now open3d-baseline" in err
    assert "--overwrite to replace them" in err
    assert (out / "metrics.json").read_bytes() == metrics

    # scoring files inside the detections/ this run would remove: refused even with --overwrite
    inside = ["--detections", str(out / "detections"), "--out", str(out), "--overwrite"]
    assert _run(*inside) == 2
    assert "--detections lies in --out's detections/" in capsys.readouterr().err

    # --overwrite: replaced; a run that writes no detections leaves no old detections/ behind
    files = tmp_path / "files"
    shutil.copytree(out / "detections", files)
    assert _run("--detections", str(files), "--max-frames", "2", "--out", str(out)) == 2
    assert (
        _run("--detections", str(files), "--max-frames", "2", "--out", str(out), "--overwrite") == 0
    )
    assert json.loads((out / "metrics.json").read_text())["source"] == str(files)
    assert not (out / "detections").exists()


@pytest.mark.data
def test_kitti_detection_files_of_unlabelled_frames_are_counted_once(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    for name in ("000074", "000075", "000099", "000001", "000999"):
        (files / f"{name}.txt").write_text("")  # 000001, 000999: no scan in the sequence
    out = tmp_path / "o"
    assert _run("--detections", str(files), "--max-frames", "2", "--out", str(out)) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == [
        f"warning: {files}: 2 detection file(s) of frames with no labelled scan under "
        f"{shared_data.resolve() / 'kitti_tracking'} (first 000001.txt, 000999.txt): not scored"
    ]
    assert json.loads((out / "metrics.json").read_text())["loader_warnings"] == [
        warnings[0].removeprefix("warning: ")
    ]


@pytest.mark.data
def test_kitti_tracking_reads_the_official_bin_layout(shared_data: Path, tmp_path: Path) -> None:
    from drivestack.eval.detection.datasets import KITTI_TRACKING_IMAGE_WH, labelled_frames
    from drivestack.eval.detection.run import evaluate_dataset
    from drivestack.ingest.kitti_object import read_velodyne_pcd
    from drivestack.perception.lidar import build_lidar_detector

    source = shared_data / "kitti_tracking"
    root = tmp_path / "kt"
    scans = root / "training" / "velodyne" / "0000"
    scans.mkdir(parents=True)
    for name in ("calib", "label_02"):
        (root / "training" / name).symlink_to(source / "training" / name)
    for index in (74, 75):
        cloud = read_velodyne_pcd(
            source / "training" / "velodyne_pcd_xz" / "0000" / f"{index:06d}.pcd.xz"
        )
        rows = np.c_[cloud.xyz_m, cloud.attributes["intensity"]].astype(np.float32)
        rows.tofile(scans / f"{index:06d}.bin")
    images = root / "training" / "image_02" / "0000"
    images.mkdir(parents=True)  # a PNG header of 1224 x 370 for frame 75 only
    header = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + (1224).to_bytes(4, "big")
    (images / "000075.png").write_bytes(header + (370).to_bytes(4, "big") + b"\x08\x02\x00\x00\x00")

    frames = list(labelled_frames("kitti-tracking", root))
    assert [f.key for f in frames] == ["000074", "000075"]
    assert [f.image_size_wh for f in frames] == [KITTI_TRACKING_IMAGE_WH, (1224, 370)]
    assert frames[0].frame.source == str(scans / "000074.bin")

    detector = build_lidar_detector(KITTI)
    from_bin = evaluate_dataset("kitti-tracking", root, detector=detector, out_dir=tmp_path / "b")
    from_pcd = evaluate_dataset(
        "kitti-tracking", source, detector=detector, max_frames=2, out_dir=tmp_path / "p"
    )
    assert from_bin["frames"] == from_pcd["frames"]
    bin_text, pcd_text = (
        [(tmp_path / run / "detections" / f"{key}.txt").read_text() for key in from_bin["frames"]]
        for run in ("b", "p")
    )
    assert bin_text[0] and bin_text[0] == pcd_text[0]  # the same boxes from the same points
    # frame 75's 2D boxes are clipped to its (smaller) PNG, not to the default 1242 px width
    assert " 1224.00 " in bin_text[1] and " 1224.00 " not in pcd_text[1]
