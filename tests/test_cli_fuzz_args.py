"""Bad command-line arguments found by the CLI fuzz campaign: one line naming the option,
exit status 2, nothing written, before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.cli import main

REPO = Path(__file__).resolve().parents[1]
CCRS = str(REPO / "configs" / "scenarios" / "ccrs.yaml")


def _refused(argv: list[str], capsys, *needles: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    for needle in needles:
        assert needle in err
    return err


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--planner", "pdm,pdm"], "--planner: planner(s) pdm given more than once"),
        (["--data-root", "/nonexistent_ds"], "field --data-root: no such folder"),
        (
            ["--sweep", "ego.speed_kph=10:20", "--sweep", "ego.speed_kph=30,40"],
            "ego.speed_kph swept more than once",
        ),
    ],
)
def test_sim_refuses_repeats_and_a_missing_data_root(tmp_path, capsys, extra, needle) -> None:
    out = tmp_path / "runs"
    _refused(["sim", CCRS, "--out", str(out), "--max-steps", "1", *extra], capsys, needle)
    assert not out.exists()


def test_sim_export_dataset_may_not_be_the_run_folder_nor_unmakeable(tmp_path, capsys) -> None:
    out = tmp_path / "runs"
    argv = ["sim", CCRS, "--out", str(out), "--max-steps", "1", "--export-dataset"]
    _refused([*argv, str(out / "kitti")], capsys, "must be separate folders")
    _refused([*argv, "/proc/drivestack_x"], capsys, "--export-dataset", "cannot create")
    assert not out.exists()


def test_an_out_folder_that_cannot_be_made_is_refused_up_front(capsys) -> None:
    # root may write anywhere by os.access, yet no folder can be made under /proc
    _refused(
        ["eval", "planning", "--dataset", "av2", "--out", "/proc/drivestack_x"],
        capsys,
        "field --out: cannot create /proc/drivestack_x",
    )


def test_demo_writes_nothing_for_a_bad_stack(tmp_path, capsys) -> None:
    out = tmp_path / "demo"
    _refused(
        ["demo", "--stack", str(tmp_path / "none.yaml"), "--out", str(out), "--skip-bench"],
        capsys,
        "none.yaml",
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--min-height-px", "nan"),
        ("--min-height-px", "-1"),
        ("--max-occlusion", "-1"),
        ("--max-truncation", "nan"),
    ],
)
def test_detection2d_filters_refuse_nan_and_negatives(tmp_path, capsys, option, value) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["eval", "detection2d", "--out", str(tmp_path / "o"), option, value])
    assert exc.value.code == 2
    assert f"argument {option}:" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_bench_refuses_zero_and_negative_repeats(capsys) -> None:
    for value in ("0", "-5"):
        with pytest.raises(SystemExit) as exc:
            main(["bench", "kernels", "--repeats", value])
        assert exc.value.code == 2
        assert "argument --repeats: must be at least 1" in capsys.readouterr().err


def test_conflicting_eval_options_are_refused(tmp_path, capsys) -> None:
    out = tmp_path / "o"
    _refused(
        ["eval", "tracking", "--out", str(out), "--fusion-config", str(tmp_path / "f.yaml")],
        capsys,
        "--fusion-config is for --fusion camera only",
    )
    _refused(
        [
            "eval",
            "detection",
            "--dataset",
            "kitti",
            "--out",
            str(out),
            "--detections",
            str(tmp_path),
            "--detector",
            "open3d-baseline",
        ],
        capsys,
        "field --detector",
    )
    assert not out.exists()


def test_replay_refuses_bag_options_for_a_drivestack_log(tmp_path, capsys) -> None:
    log = str(REPO / "data" / "demo" / "drive.mcap")
    out = tmp_path / "run" / "r.mcap"
    _refused(["replay", log, "--ego-frame", "", "--out", str(out)], capsys, "field --ego-frame")
    _refused(
        [
            "replay",
            log,
            "--ingest-config",
            str(REPO / "configs/ingest/rosbag_example.yaml"),
            "--out",
            str(out),
        ],
        capsys,
        "field --ingest-config: only for ROS bags",
    )
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (
            ["bench", "kernels", "--config", "x.yaml"],
            "field --config: only for drivestack bench perception",
        ),
        (
            ["bench", "perception", "--repeats", "3"],
            "field --repeats: only for drivestack bench kernels",
        ),
        (
            ["bench", "kernels", "--kitti-object", "/nonexistent_ko"],
            "field --kitti-object: no such folder",
        ),
        (
            ["bench", "kernels", "--json", "/proc/drivestack_x/b.json"],
            "field --json: cannot create",
        ),
    ],
)
def test_bench_refuses_the_other_suites_options_and_bad_paths(capsys, argv, needle) -> None:
    _refused(argv, capsys, needle)


def test_eval_tracking_names_a_missing_detections_folder_up_front(tmp_path, capsys, shared_data):
    out = tmp_path / "new" / "o"
    _refused(
        [
            "eval",
            "tracking",
            "--out",
            str(out),
            "--classes",
            "Car",
            "--sequences",
            "0001",
            "--detections",
            str(tmp_path / "nodets"),
        ],
        capsys,
        "field --detections: no Car detections",
    )
    assert not (tmp_path / "new").exists()


def test_removed_on_failure_also_removes_the_parents_it_made(tmp_path) -> None:
    from drivestack.commands._paths import removed_on_failure

    folder = tmp_path / "a" / "b" / "c"
    with pytest.raises(RuntimeError), removed_on_failure(folder):
        folder.mkdir(parents=True)
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_eval_prediction_reads_the_tracker_config_before_any_work(tmp_path, capsys, shared_data):
    bad = tmp_path / "t.yaml"
    bad.write_text("- a list\n")
    assert (
        main(
            [
                "eval",
                "prediction",
                "--dataset",
                "kitti-tracking",
                "--pasts",
                "tracks",
                "--tracker-config",
                str(bad),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "t.yaml" in err and len(err.splitlines()) == 1


def test_eval_prediction_refuses_a_huge_window(tmp_path, capsys) -> None:
    # was: "error: Maximum allowed dimension exceeded" (numpy, no option named), and 1e7 s
    # took a GB of memory to find no case
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "eval",
                "prediction",
                "--dataset",
                "av2",
                "--history-s",
                "1e300",
                "--out",
                str(tmp_path / "o"),
            ]
        )
    assert exc.value.code == 2
    assert "argument --history-s: must be at most 3600 s" in capsys.readouterr().err


def test_fleet_help_names_the_variant_cap_and_the_rerun_of_damaged_results(capsys) -> None:
    from drivestack.exec.sweep import MAX_VARIANTS

    with pytest.raises(SystemExit):
        main(["fleet", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"{MAX_VARIANTS:,}" in text
    assert "damaged are named and run again" in text
