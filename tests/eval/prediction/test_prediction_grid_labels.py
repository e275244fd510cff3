"""Prediction scores are labelled with the durations they are scored at: a horizon off an
exact grid is refused (only jittered recordings get a tolerance), two checkpoints on one
sample are refused, and a fit window longer than the history is refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.cli import main as cli_main
from drivestack.eval.prediction.cases import CaseSettingError, CaseSettings, whole_samples
from drivestack.eval.prediction.run import checkpoint_steps, evaluate
from drivestack.eval.prediction.trajectories import (
    AgentTrajectory,
    TrajectorySet,
    sample_period_jittered,
)
from drivestack.structures.labels import ObjectClass


def _recording(dt_s: float, jittered: bool) -> TrajectorySet:
    t = np.arange(60) * dt_s
    boxes = np.zeros((60, 7))
    boxes[:, 0] = 5.0 * t
    boxes[:, 3:6] = [4.5, 1.9, 1.6]
    car = AgentTrajectory("car", ObjectClass.CAR, t, boxes, "world", "synthetic")
    return TrajectorySet(
        "syn", "synthetic", "world", dt_s, "recorded", "test", (car,), dt_jittered=jittered
    )


def test_the_tolerance_is_for_jittered_recordings_only() -> None:
    assert whole_samples(3.0, 0.1) == (30, True)
    assert whole_samples(3.01, 0.1) == (30, False)  # was accepted, scored at 3.00 s
    assert whole_samples(3.01, 0.100196, jittered=True) == (30, True)
    assert whole_samples(3.0, 0.100196, jittered=True) == (30, True)  # 29.94 samples
    assert whole_samples(3.05, 0.100196, jittered=True)[1] is False
    with pytest.raises(CaseSettingError, match=r"3\.01 s is not a whole number"):
        CaseSettings(horizon_s=3.01).steps(0.1)
    assert CaseSettings(horizon_s=3.01).steps(0.100196, jittered=True)[1] == 30


def test_jitter_is_read_from_the_sample_times() -> None:
    assert not sample_period_jittered(np.arange(50) * 0.1, 0.1)
    assert not sample_period_jittered(np.array([0.0, 0.1, 0.3, 0.4]), 0.1)  # a missed sample
    sweeps = np.cumsum([0.0, 0.0964, 0.1033, 0.1002, 0.1002])
    assert sample_period_jittered(sweeps, 0.1002)


def test_two_checkpoints_on_one_sample_are_refused() -> None:
    assert checkpoint_steps([1.0, 2.0, 3.0], 0.100196, 30) == [10, 20, 30]
    with pytest.raises(CaseSettingError, match=r"3.01 s is the same sample as 3 s") as info:
        checkpoint_steps([1.0, 2.0, 3.0, 3.01], 0.100196, 30)
    assert info.value.name == "horizon_s"


def test_checkpoints_are_true_on_exact_and_jittered_grids() -> None:
    with pytest.raises(CaseSettingError, match=r"3\.01 s is not a whole number"):
        evaluate([_recording(0.1, False)], ["constant_velocity"], CaseSettings(horizon_s=3.01))
    with pytest.raises(CaseSettingError, match="same sample"):
        evaluate([_recording(0.100196, True)], ["constant_velocity"], CaseSettings(horizon_s=3.01))
    report = evaluate(
        [_recording(0.100196, True)], ["constant_velocity"], CaseSettings(horizon_s=3.0)
    )
    assert report["checkpoints_s"] == [1.0, 2.0, 3.0]
    assert report["recordings"][0]["dt_jittered"] is True
    assert report["recordings"][0]["cases"] > 0


def test_a_fit_window_longer_than_the_history_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = cli_main(
        [
            *("eval", "prediction", "--dataset", "av2", "--root", str(tmp_path)),
            *("--history-s", "1.0", "--fit-window-s", "1.5", "--out", str(tmp_path / "o")),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert "field --fit-window-s: 1.5 s is longer than --history-s 1 s" in err


@pytest.mark.data
def test_a_horizon_off_commonroads_grid_is_refused(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = shared_data / "commonroad" / "USA_US101-4_1_T-1.xml"
    rc = cli_main(
        [
            *("eval", "prediction", "--dataset", "commonroad", "--root", str(file)),
            *("--horizon-s", "3.01", "--models", "stationary", "--out", str(tmp_path), "--quiet"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert "field --horizon-s: 3.01 s is not a whole number of the recording's samples" in err
