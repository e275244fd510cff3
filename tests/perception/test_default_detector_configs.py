"""``drivestack eval detection`` with the default detector configs of nuScenes and PandaSet
(configs/perception/lidar_nuscenes.yaml, lidar_pandaset.yaml) on the shared real data.

The floors are loose: they catch a config that is missing, fails to load or puts the road
in the wrong place (nothing found), not small changes of the figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drivestack.cli import main

pytestmark = pytest.mark.data


def _metrics(
    dataset: str, out: Path, shared_data: Path, frames: int, protocol: str
) -> dict[str, Any]:
    """Runs the CLI without --root / --config (both default per dataset) and checks what every
    run must show; the protocol's metrics."""
    env = pytest.MonkeyPatch()
    env.setenv("DRIVESTACK_SHARED_DATA", str(shared_data))
    try:
        assert main(["eval", "detection", "--dataset", dataset, "--out", str(out)]) == 0
    finally:
        env.undo()
    result: dict[str, Any] = json.loads((out / "metrics.json").read_text())
    assert f"lidar_{dataset}.yaml" in result["source"]
    assert result["num_frames"] == frames and result["metrics"]["protocol"] == protocol
    metrics: dict[str, Any] = result["metrics"]
    return metrics


def test_nuscenes_default_config(shared_data: Path, tmp_path: Path) -> None:
    m = _metrics("nuscenes", tmp_path / "out", shared_data, 1, "nuscenes_detection_cvpr_2019")
    # Measured: car AP@0.5/1/2/4 m 0.000 / 0.000 / 0.000 / 0.044 (4 scorable cars, 3 of them
    # 35-41 m away with 3-15 HDL-32E points), pedestrian 0.331 at every threshold; 6 car
    # boxes among 18 in the submission.
    assert m["label_aps"]["car"]["4.0"] >= 0.01
    assert m["label_aps"]["pedestrian"]["2.0"] >= 0.15
    sub = json.loads((tmp_path / "out" / "detections" / "results_nusc.json").read_text())
    names = [box["detection_name"] for boxes in sub["results"].values() for box in boxes]
    assert names.count("car") >= 3


def test_pandaset_default_config(shared_data: Path, tmp_path: Path) -> None:
    m = _metrics("pandaset", tmp_path / "out", shared_data, 4, "center_distance_class_groups")
    # Measured: vehicle AP@0.5/1/2/4 m 0.255 / 0.283 / 0.338 / 0.338 over frames 00-03 (0.226 /
    # 0.266 / 0.315 / 0.315 before the ego frame was levelled).
    assert m["label_aps"]["vehicle"]["2.0"] >= 0.15
