"""``eval tracking --results`` input handling on tiny hand-made KITTI roots: 17-column result
files (score -1 as the devkit, a warning), exact 64-bit track ids, 2D-only rows under 3D IoU,
a class without rows, options of the tracker run, class folders in any case, repeated
thresholds and the seqmaps a split reads."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from drivestack.cli import main

_BOX = "0 0 0.0 100 100 300 300 1.5 1.8 4.5 5.0 1.6 20.0 0.0"
_NO_3D = "-1 -1 -10 100 100 300 300 -1 -1 -1 -1000 -1000 -1000 -10"
N_FRAMES = 4


def _root(tmp_path: Path, seqmaps: tuple[str, ...] = ("val", "training")) -> Path:
    """A KITTI tracking root: sequence 0001, one Car (track 0) in each of 4 frames."""
    root = tmp_path / "root"
    (root / "seqmaps").mkdir(parents=True)
    for split in seqmaps:
        (root / "seqmaps" / f"evaluate_tracking.seqmap.{split}").write_text(
            f"0001 empty 000000 {N_FRAMES:06d}\n"
        )
    labels = root / "training" / "label_02"
    labels.mkdir(parents=True)
    (labels / "0001.txt").write_text("".join(f"{f} 0 Car {_BOX}\n" for f in range(N_FRAMES)))
    return root


def _results(tmp_path: Path, lines: list[str], folder: str = "Car") -> Path:
    res = tmp_path / "res"
    (res / folder).mkdir(parents=True, exist_ok=True)
    (res / folder / "0001.txt").write_text("".join(line + "\n" for line in lines))
    return res


def _eval(root: Path, res: Path, out: Path, *extra: str) -> int:
    return main(
        ["eval", "tracking", "--kitti-root", str(root), "--quiet", "--classes", "Car",
         "--results", str(res), "--out", str(out), *extra]
    )  # fmt: skip


def _car(out: Path, key: str = "iou_0.25") -> dict:
    metrics = json.loads((out / "metrics.json").read_text())
    return metrics["metrics"][key]["classes"]["Car"]


def test_a_file_without_score_column_scores_minus_one_as_the_devkit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _root(tmp_path)
    res = _results(tmp_path, [f"{f} 7 Car {_BOX}" for f in range(N_FRAMES)])
    assert _eval(root, res, tmp_path / "o17") == 0
    err = capsys.readouterr().err
    path = res / "Car" / "0001.txt"
    assert err.count(f"warning: {path}: no score column (17 columns)") == 1
    assert "one operating point" in err
    scored = _results(tmp_path / "b", [f"{f} 7 Car {_BOX} -1" for f in range(N_FRAMES)])
    assert _eval(root, scored, tmp_path / "o18") == 0
    a, b = _car(tmp_path / "o17"), _car(tmp_path / "o18")
    assert a["clear"] == b["clear"] and a["hota"] == b["hota"]
    assert a["clear"]["best"]["MOTA"] == 1.0 and a["clear"]["best"]["TP"] == N_FRAMES
    notes = json.loads((tmp_path / "o17" / "metrics.json").read_text())["notes"]
    assert any("no score column" in n for n in notes)


def test_a_file_mixing_17_and_18_columns_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [f"{f} 7 Car {_BOX}" + (" 0.9" if f % 2 else "") for f in range(N_FRAMES)]
    res = _results(tmp_path, lines)
    assert _eval(_root(tmp_path), res, tmp_path / "out") == 0
    err = capsys.readouterr().err
    assert f"{res / 'Car' / '0001.txt'}: 2 of 4 rows have no score column" in err


@pytest.mark.parametrize("big", [2**53, 2**63 - 2])
def test_track_ids_above_2_53_stay_distinct(tmp_path: Path, big: int) -> None:
    """Ids ``big`` and ``big + 1`` are one float: read as floats, the switch below vanished
    (and near 2^63 the duplicate check's frame-times-id key overflowed)."""
    lines = [f"{f} {big if f < 2 else big + 1} Car {_BOX} 0.9" for f in range(N_FRAMES)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (numpy's overflow and cast warnings)
        assert _eval(_root(tmp_path), _results(tmp_path, lines), tmp_path / "out") == 0
    best = _car(tmp_path / "out")["clear"]["best"]
    assert (best["IDS"], best["TP"]) == (1, N_FRAMES)


def test_a_track_id_beyond_int64_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [f"0 {2**63} Car {_BOX} 0.9"]
    res = _results(tmp_path, lines)
    assert _eval(_root(tmp_path), res, tmp_path / "out") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {res / 'Car' / '0001.txt'}: line 1: field track_id: ")
    assert "does not fit a 64-bit integer" in err


@pytest.mark.parametrize("box", [_NO_3D, "-1 -1 -10 100 100 300 300 0 0 0 0 0 0 0"])
def test_2d_only_results_under_iou_3d_name_line_field_and_iou_2d(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], box: str
) -> None:
    """KITTI's "not given" 3D fields, or all zero: refused under iou_3d, scored under iou_2d;
    labels' DontCare rows keep their negative sizes."""
    root = _root(tmp_path)
    res = _results(tmp_path, [f"{f} 7 Car {box} 0.9" for f in range(N_FRAMES)])
    assert _eval(root, res, tmp_path / "out") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {res / 'Car' / '0001.txt'}: line 1: field h: ")
    assert "--similarity iou_2d" in err
    with (root / "training" / "label_02" / "0001.txt").open("a") as labels:
        labels.write("0 -1 DontCare -1 -1 -10 500 100 600 200 -1 -1 -1 -1000 -1000 -1000 -10\n")
    assert _eval(root, res, tmp_path / "o2d", "--similarity", "iou_2d") == 0
    assert _car(tmp_path / "o2d", "iou_0.5")["clear"]["best"]["MOTA"] == 1.0


def test_one_flat_box_among_3d_rows_is_named_without_the_2d_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [f"{f} 7 Car {_BOX} 0.9" for f in range(N_FRAMES)]
    lines[2] = lines[2].replace(" 1.5 1.8 4.5 ", " 1.5 0 4.5 ")
    res = _results(tmp_path, lines)
    assert _eval(_root(tmp_path), res, tmp_path / "out") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {res / 'Car' / '0001.txt'}: line 3: field w: ")
    assert "iou_2d" not in err


def test_a_class_without_rows_in_any_file_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """AB3DMOT's flat per-class data/ folder scored for Car and Pedestrian."""
    res = tmp_path / "data"
    res.mkdir()
    (res / "0001.txt").write_text("".join(f"{f} 7 Car {_BOX} 0.9\n" for f in range(N_FRAMES)))
    out = tmp_path / "out"
    code = main(
        ["eval", "tracking", "--kitti-root", str(_root(tmp_path)), "--quiet", "--classes",
         "Car,Pedestrian", "--results", str(res), "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    note = f"Pedestrian: no Pedestrian row in any of its 1 result file(s) under {res}/"
    assert f"warning: {note}" in err and "Car: no Car row" not in err
    assert any(n.startswith(note) for n in json.loads((out / "metrics.json").read_text())["notes"])


@pytest.mark.parametrize(
    ("option", "value"), [("--config", "nowhere.yaml"), ("--detections", "nowhere")]
)
def test_options_of_the_tracker_run_are_refused_with_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    res = _results(tmp_path, [f"0 7 Car {_BOX} 0.9"])
    assert _eval(_root(tmp_path), res, tmp_path / "out", option, value) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and option in err and "--results" in err
    assert not (tmp_path / "out").exists()


def test_class_folders_match_in_any_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _root(tmp_path)
    res = _results(tmp_path, [f"{f} 7 Car {_BOX} 0.9" for f in range(N_FRAMES)], folder="car")
    assert _eval(root, res, tmp_path / "out") == 0
    assert _car(tmp_path / "out")["clear"]["best"]["MOTA"] == 1.0
    (res / "CAR").mkdir()
    assert _eval(root, res, tmp_path / "o2") == 2
    err = capsys.readouterr().err
    assert "CAR/, car/ differ only in case" in err


def test_a_repeated_iou_threshold_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    res = _results(tmp_path, [f"0 7 Car {_BOX} 0.9"])
    assert _eval(_root(tmp_path), res, tmp_path / "out", "--iou", "0.25,0.5,0.250") == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: field --iou: threshold 0.25 given more than once in '0.25,0.5,0.250'"


def test_val_reads_only_its_own_seqmap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _root(tmp_path, seqmaps=("val",))
    res = _results(tmp_path, [f"{f} 7 Car {_BOX} 0.9" for f in range(N_FRAMES)])
    assert _eval(root, res, tmp_path / "out") == 0
    assert _eval(root, res, tmp_path / "o2", "--split", "train") == 2
    err = capsys.readouterr().err
    assert "evaluate_tracking.seqmap.training" in err and "needs both" in err


def test_labels_past_the_seqmap_frames_are_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a seqmap one frame shorter than the label file: the last label scored as a miss that
    # no tracker row may match (rows there are refused), without a word
    root = _root(tmp_path)
    (root / "seqmaps" / "evaluate_tracking.seqmap.val").write_text(
        f"0001 empty 000000 {N_FRAMES - 1:06d}\n"
    )
    res = _results(tmp_path, [f"{f} 7 Car {_BOX} 0.9" for f in range(N_FRAMES - 1)])
    out = tmp_path / "out"
    assert _eval(root, res, out) == 0
    note = (
        f"{root / 'training' / 'label_02' / '0001.txt'}: 1 label row(s) in frames 3:3, past "
        "the seqmap's 3 frames of 0001: scored as misses (as the devkit does), no tracker row "
        "can match them"
    )
    assert f"warning: {note}" in capsys.readouterr().err
    assert note in json.loads((out / "metrics.json").read_text())["notes"]
    assert _eval(_root(tmp_path / "whole"), res, tmp_path / "o2") == 0
    assert "past the seqmap" not in capsys.readouterr().err
