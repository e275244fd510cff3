"""``drivestack demo`` prints every class with detections or labels, false positives too, and
the tracking figures against the drive's labelled ids."""

from __future__ import annotations

import json

from drivestack.cli import main
from drivestack.replay.runner import class_line as _class_line


def test_class_line_counts_false_positives():
    car = {"labels": 61, "detections": 56, "recall": 39 / 61, "precision": 39 / 56}
    assert _class_line("car", car) == (
        "  car: recall 0.639, precision 0.696, 17 false positives "
        "(61 labels, 56 detections, BEV IoU 0.5)"
    )
    cyclist = {"labels": 0, "detections": 10, "recall": None, "precision": 0.0}
    assert _class_line("cyclist", cyclist) == (
        "  cyclist: recall n/a, precision 0.000, 10 false positives "
        "(0 labels, 10 detections, BEV IoU 0.5)"
    )
    van = {"labels": 3, "detections": 0, "recall": 0.0, "precision": float("nan")}
    assert "van: recall 0.000, precision n/a, 0 false positives (3 labels, 0 detections" in (
        _class_line("van", van)
    )


def test_demo_prints_every_class_of_the_summary(tmp_path, capsys):
    assert main(["demo", "--skip-bench", "--out", str(tmp_path)]) in (0, 1)
    out = capsys.readouterr().out
    by_class = json.loads((tmp_path / "run.summary.json").read_text())["detection_vs_labels"]
    shown = [c for c, m in by_class.items() if m["labels"] or m["detections"]]
    assert len(shown) >= 2  # the bundled drive: car, and cyclist / pedestrian false positives
    for cls in shown:
        fp = by_class[cls]["detections"] - round(
            (by_class[cls]["precision"] or 0.0) * by_class[cls]["detections"]
        )
        assert f"    {cls}: recall " in out and "false positive" in out
        line = next(li for li in out.splitlines() if li.startswith(f"    {cls}: recall "))
        assert f", {fp} false positive" in line
    assert out.index("    car: recall") < out.index("  wrote ")
    # then the tracking figures against the drive's labelled ids, one line per class
    car = json.loads((tmp_path / "run.summary.json").read_text())["tracking_vs_labels"]
    mota = car["by_class"]["car"]["MOTA"]
    assert f"    tracking car: MOTA {mota:.3f}, MOTP " in out
    assert out.index("    car: recall") < out.index("    tracking car:") < out.index("  wrote ")


def test_readme_states_the_demo_figures_the_demo_prints(tmp_path):
    """The README's demo figures (car tracking against the labelled ids, the forecast line)
    are the ones ``drivestack demo`` gives today: they went stale once when the detector changed."""
    from pathlib import Path

    assert main(["demo", "--skip-bench", "--out", str(tmp_path)]) in (0, 1)
    summary = json.loads((tmp_path / "run.summary.json").read_text())
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    car = summary["tracking_vs_labels"]["by_class"]["car"]
    assert f"car MOTA {car['MOTA']:.3f}, MOTP {car['MOTP']:.3f}, HOTA {car['HOTA']:.3f}" in readme
    forecast = summary["forecast_vs_labels"]["by_class"]["all, all"]
    assert f"{forecast['cases']} cases, FDE@3s {forecast['FDE@3s']:.2f} m" in readme


def test_demo_of_another_drive_into_the_same_out_needs_its_overwrite(tmp_path, capsys):
    # the refusal said "--overwrite to replace it", an option only replay had (exit 2)
    import shutil
    from pathlib import Path

    drive = Path(__file__).parents[1] / "data/demo/drive.mcap"
    other = shutil.copy(drive, tmp_path / "other_drive.mcap")
    out = tmp_path / "out"
    assert main(["demo", "--skip-bench", "--out", str(out)]) in (0, 1)
    capsys.readouterr()
    assert main(["demo", "--skip-bench", "--out", str(out), "--drive", str(other)]) == 2
    assert "or --overwrite to replace it" in capsys.readouterr().err
    assert main(
        ["demo", "--skip-bench", "--out", str(out), "--drive", str(other), "--overwrite"]
    ) in (0, 1)
    summary = json.loads((out / "run.summary.json").read_text())
    assert Path(summary["input_resolved"]).name == "other_drive.mcap"
