"""PandaSet's cuboids have no velocity: its ground truth gets NaN velocity (unknown, as
nuScenes labels without one), so vel_err is the devkit's all-NaN 1, not a perfect 0 for a
detector without velocity; the note says the ground truth is why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.commands.eval_detection import _notes
from drivestack.eval.detection.datasets import pandaset_frames
from drivestack.eval.detection.run import evaluate_dataset
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.sensor_frame import SensorFrame

pytestmark = pytest.mark.data


class _Labels:
    """A detector that returns the frame's labels (velocity 0, as drivestack's detector)."""

    def reset(self) -> None:
        pass

    def step(self, frame: SensorFrame) -> Boxes3D:
        assert frame.labels is not None
        return frame.labels


def test_pandaset_ground_truth_velocity_is_unknown(shared_data: Path) -> None:
    frames = list(pandaset_frames(shared_data / "pandaset" / "002"))
    assert len(frames) == 4
    for lf in frames:
        assert len(lf.native.velocity_mps) > 0
        assert np.isnan(lf.native.velocity_mps).all()


def test_pandaset_vel_err_is_the_worst_and_the_note_says_why(shared_data: Path) -> None:
    res = evaluate_dataset("pandaset", shared_data / "pandaset" / "002", detector=_Labels())
    m = res["metrics"]
    assert m["tp_errors"]["vel_err"] == pytest.approx(1.0)
    assert m["label_tp_errors"]["vehicle"]["vel_err"] == pytest.approx(1.0)
    assert m["ground_truth"]["with_velocity"] == 0 and m["ground_truth"]["boxes"] > 0
    notes = _notes(res)
    (vel,) = [n for n in notes if n.startswith("vel_err")]
    assert "ground truth having no velocity" in vel and "PandaSet" in vel
    assert not any("measures its absence" in n for n in notes)
