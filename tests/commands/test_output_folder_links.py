"""Output folders holding symbolic links to folders elsewhere are refused before anything is
deleted or written: `sim --out` cleared and wrote the runs of a linked `<planner>` folder
(the link's target lost its results), `sim --export-dataset --overwrite` emptied a linked
`training/calib`, and fleets and replay's `--kitti-results` wrote through such links."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.cli import main
from drivestack.core.errors import DataError
from drivestack.core.folder_links import refuse_folder_links

REPO = Path(__file__).resolve().parents[2]
CCRS = str(REPO / "configs" / "scenarios" / "ccrs.yaml")


def _sim(out: Path, *extra: str) -> int:
    return main(["sim", CCRS, "--filter", "10kph", "--planner", "pdm", "--quiet", "--max-steps", "3", "--out", str(out), *extra])  # fmt: skip


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim"
    (victim / "ccrs_10kph").mkdir(parents=True)
    for name in ("metrics.json", "history.npz"):
        (victim / "ccrs_10kph" / name).write_text("precious")
    return victim


def test_sim_refuses_a_linked_planner_folder_and_touches_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = _victim(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "pdm").symlink_to(victim)
    for extra in ((), ("--overwrite",)):
        assert _sim(out, *extra) == 2
        err = capsys.readouterr().err.strip()
        assert err == (
            f"error: {out / 'pdm'}: field --out: a symbolic link to {victim}: drivestack "
            "deletes and writes its own files in the folders of --out and does not follow "
            "links out of it; remove the link, or give another folder"
        )
        assert sorted(p.name for p in (victim / "ccrs_10kph").iterdir()) == [
            "history.npz",
            "metrics.json",
        ]
    assert not (out / "sim.json").exists()


def test_export_refuses_a_linked_layout_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "file1.txt").write_text("precious")
    ds = tmp_path / "ds"
    (ds / "training").mkdir(parents=True)
    (ds / "training" / "calib").symlink_to(victim)
    assert _sim(tmp_path / "out", "--export-dataset", str(ds), "--overwrite") == 2
    err = capsys.readouterr().err
    assert f"error: {ds / 'training' / 'calib'}: field --export-dataset: a symbolic link" in err
    assert (victim / "file1.txt").read_text() == "precious"
    assert not (tmp_path / "out").exists()


def test_the_check_goes_as_deep_as_asked_and_allows_the_root_and_file_links(
    tmp_path: Path,
) -> None:
    target = tmp_path / "t"
    (target / "a").mkdir(parents=True)
    root_link = tmp_path / "root_link"
    root_link.symlink_to(target)  # the folder the user named may itself be a link
    refuse_folder_links(root_link, 2, "--out")
    (target / "a" / "f.txt").symlink_to(tmp_path / "nowhere.txt")  # a file link: replaced
    refuse_folder_links(target, 2, "--out")
    (target / "a" / "b").symlink_to(tmp_path)
    refuse_folder_links(target, 1, "--out")  # depth 2 is not looked at
    with pytest.raises(DataError, match="a symbolic link to"):
        refuse_folder_links(target, 2, "--out")
    refuse_folder_links(tmp_path / "missing", 2, "--out")  # nothing there yet: fine
    (target / "a" / "b").unlink()
    (target / "latest").symlink_to(target / "a")  # a link to a folder inside: fine
    refuse_folder_links(target, 2, "--out")


def test_a_fleet_refuses_a_linked_planner_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fleet"
    argv = ["sim", CCRS, "--planner", "pdm", "--sweep", "ego.speed_kph=10,20", "--max-steps", "3",
            "--quiet", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    moved = tmp_path / "moved"
    (out / "pdm").rename(moved)
    (out / "pdm").symlink_to(moved)  # a resume (or --retry-crashed) clears and writes there
    capsys.readouterr()
    assert main([*argv, "--retry-crashed"]) == 2
    assert f"error: {out / 'pdm'}: field --out: a symbolic link" in capsys.readouterr().err


def test_replay_kitti_results_refuse_a_linked_class_folder(tmp_path: Path) -> None:
    from drivestack.replay.kitti_score import kitti_results_folder

    folder = tmp_path / "kitti"
    folder.mkdir()
    (folder / "Car").symlink_to(_victim(tmp_path))
    with (
        pytest.raises(DataError, match="field --kitti-results: a symbolic link"),
        kitti_results_folder(folder, log_path=tmp_path / "a.mcap", out_path=tmp_path / "o.mcap"),
    ):
        pass
