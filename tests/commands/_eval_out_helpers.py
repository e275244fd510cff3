"""Shared set-up of the eval --out tests: a one-image 2D detection case and its command."""

from __future__ import annotations

from pathlib import Path

from drivestack.cli import main

#: one KITTI label row: a Car in a 100 x 50 px box (a result row appends its score)
LABEL = "Car 0.00 0 0.00 0 0 100 50 1.50 1.60 3.90 0.00 1.50 10.00 0.00"
#: a CommonRoad scenario under the shared data folder, for eval prediction
ANGLET = Path("commonroad") / "FRA_Anglet-1_1_T-1.xml"


def folders_2d(tmp_path: Path) -> tuple[Path, Path]:
    """A label_2 folder and a result folder of one image: one Car, found."""
    labels, results = tmp_path / "label_2", tmp_path / "results"
    for folder, extra in ((labels, ""), (results, " 0.9")):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "000000.txt").write_text(LABEL + extra + "\n")
    return labels, results


def eval_2d(labels: Path | str, results: Path | str, out: Path | str, *extra: str) -> int:
    """``drivestack eval detection2d`` of Car on ``labels`` / ``results`` into ``out``; ``extra``
    options come last (a later ``--classes`` replaces Car)."""
    argv = ["eval", "detection2d", "--labels", str(labels), "--results", str(results)]
    return main([*argv, "--classes", "Car", "--out", str(out), "--quiet", *extra])
