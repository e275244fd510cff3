"""``eval prediction``'s notes on what the learned forecaster (and ctrv_shrunk) really read:
the checkpoint's own fit window, the recordings it was trained on; and horizon suggestions
that are accepted."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.cli import main as cli_main
from drivestack.commands.eval_prediction import _fit_window_notes, _models, _trained_on_note
from drivestack.eval.prediction.cases import CaseSettingError, CaseSettings
from drivestack.eval.prediction.run import checkpoint_steps, checkpoints_s
from drivestack.prediction.learned import (
    ForecasterConfig,
    ForecasterNet,
    LearnedForecaster,
    save_forecaster,
)

AV2_DT_S = 0.100196  # AV2's median sweep period (a jittered grid)


def _accepted_horizon(value: float, dt_s: float, jittered: bool) -> bool:
    """Whether ``--horizon-s value`` runs on the grid: whole samples and no two checkpoints on
    one sample."""
    try:
        n = CaseSettings(horizon_s=value).steps(dt_s, jittered)[1]
        checkpoint_steps(checkpoints_s(value), dt_s, n)
    except CaseSettingError:
        return False
    return True


def test_av2_suggests_3_s_not_3_006_s() -> None:
    with pytest.raises(CaseSettingError, match=r"3.04 s is not .*: nearest 3 s or 3.106 s$"):
        CaseSettings(horizon_s=3.04).steps(AV2_DT_S, jittered=True)
    assert not _accepted_horizon(3.006, AV2_DT_S, True)  # (what was suggested: sample 30 twice)
    assert _accepted_horizon(3.0, AV2_DT_S, True) and _accepted_horizon(3.106, AV2_DT_S, True)
    # the history has no checkpoints, but the whole second is the nicer name of sample 30 too
    with pytest.raises(CaseSettingError, match=r"history_s = 3.04 s .*: nearest 3 s or 3.106 s"):
        CaseSettings(history_s=3.04).steps(AV2_DT_S, jittered=True)


@settings(max_examples=300, deadline=None)
@given(
    value=st.floats(0.06, 9.5),
    grid=st.sampled_from([(0.1, False), (0.2, False), (0.05, False), (AV2_DT_S, True)]),
)
def test_every_suggested_horizon_is_accepted(value: float, grid: tuple[float, bool]) -> None:
    dt_s, jittered = grid
    try:
        CaseSettings(horizon_s=value).steps(dt_s, jittered)
        return
    except CaseSettingError as exc:
        found = re.search(r"nearest (\S+) s or (\S+) s$", exc.reason)
        if found is None:
            assert "shorter than one sample" in exc.reason
            return
    lo, hi = (float(v) for v in found.groups())
    assert lo < hi
    assert _accepted_horizon(lo, dt_s, jittered), (lo, value)
    assert _accepted_horizon(hi, dt_s, jittered), (hi, value)
    if value > dt_s:  # one on each side, within two samples
        assert lo < value < hi and hi - lo < 2.1 * dt_s


def _forecaster(tmp_path: Path, provenance: dict[str, object]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg = ForecasterConfig(modes=2, hidden=16)  # 1 s of past, 3 s of horizon, 0.3 s window
    torch.manual_seed(0)
    path = tmp_path / "f.pt"
    save_forecaster(path, LearnedForecaster(cfg, ForecasterNet(cfg), provenance))
    return path


KITTI_PROVENANCE: dict[str, object] = {
    "datasets": ["kitti_tracking"],
    "training_sequences": ["0000", "0003"],
    "holdout_sequences": ["0002"],
}


def _recs(**cases: int) -> list[dict[str, object]]:
    return [{"name": name.lstrip("s"), "cases": n} for name, n in cases.items()]


def test_trained_on_note_counts_recordings_and_cases(tmp_path: Path) -> None:
    record = {"provenance": KITTI_PROVENANCE}
    recs = _recs(s0000=10, s0001=5, s0002=7, s0003=0)  # 0003: no case, not counted
    note = _trained_on_note("kitti-tracking", record, recs)
    assert note is not None
    assert note.startswith("of the 3 recordings with cases (22 cases), the learned")
    assert "was trained on 1 (0000: 10 cases)" in note
    assert "chose its epoch on the held-out 1 (0002: 7 cases)" in note
    assert "not out-of-sample" in note
    assert _trained_on_note("kitti-tracking", record, _recs(s0001=5, s0004=3)) is None
    assert _trained_on_note("av2", record, recs) is None  # another dataset's names
    assert _trained_on_note("kitti-tracking", {"provenance": {}}, recs) is None
    odd = {"provenance": {**KITTI_PROVENANCE, "training_sequences": "0000"}}
    assert "was trained on" not in (_trained_on_note("kitti-tracking", odd, recs) or "")


def test_fit_window_notes_name_the_window_each_model_used(tmp_path: Path) -> None:
    names = ["constant_velocity", "ctrv_shrunk", "learned"]
    _, catalog = _models(",".join(names), _forecaster(tmp_path, {}))
    notes = _fit_window_notes(names, catalog, 0.5, 0.5, 2.0)
    assert notes == [
        "ctrv_shrunk fits its velocity over --fit-window-s 0.5 s but its yaw rate over its own 1 s",
        "learned fits its constant-velocity base over its checkpoint's 0.3 s of past, not the "
        "0.5 s fit window of the other models",
    ]
    assert _fit_window_notes(names, catalog, 0.3, None, 2.0) == []  # the default window
    # a 0.2 s history cut the fit window and ctrv_shrunk's own 1 s yaw-rate window
    assert _fit_window_notes(names, catalog, 0.2, None, 0.2)[0] == (
        "ctrv_shrunk fits its yaw rate over the 0.2 s of --history-s (its own 1 s window, cut)"
    )
    assert _fit_window_notes(names, catalog, 0.2, 0.2, 0.2)[0] == (
        "ctrv_shrunk fits its velocity over --fit-window-s 0.2 s but its yaw rate over the "
        "0.2 s of --history-s (its own 1 s window, cut)"
    )


def test_help_says_which_models_ignore_the_fit_window(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli_main(["eval", "prediction", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "learned fits its checkpoint's window instead and ctrv_shrunk its yaw rate" in text
    assert "warns on stderr" in text


@pytest.mark.data
def test_scoring_learned_on_its_training_sequences_warns(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _forecaster(tmp_path, KITTI_PROVENANCE)
    base = ["eval", "prediction", "--dataset", "kitti-tracking"]
    base += ["--root", str(shared_data / "kitti_tracking"), "--forecaster", str(path), "--quiet"]
    train = ["--split", "train", "--models", "ctrv_shrunk,learned", "--fit-window-s", "0.5"]
    rc = cli_main([*base, *train, "--out", str(tmp_path / "train")])
    assert rc == 0
    err = capsys.readouterr().err
    assert "warning: of the 10 recordings with cases" in err
    report = json.loads((tmp_path / "train" / "metrics.json").read_text())
    note = next(n for n in report["notes"] if "not out-of-sample" in n)
    by_name = {r["name"]: r["cases"] for r in report["recordings"]}
    assert f"was trained on 2 (0000, 0003: {by_name['0000'] + by_name['0003']} cases)" in note
    assert f"held-out 1 (0002: {by_name['0002']} cases)" in note
    assert any(n.startswith("learned fits its constant-velocity base") for n in report["notes"])
    assert any(n.startswith("ctrv_shrunk fits its velocity") for n in report["notes"])
    # val: none of its sequences
    rc = cli_main([*base, "--split", "val", "--models", "learned", "--out", str(tmp_path / "v")])
    assert rc == 0 and "warning" not in capsys.readouterr().err
    report = json.loads((tmp_path / "v" / "metrics.json").read_text())
    assert not [n for n in report["notes"] if "out-of-sample" in n or "fit" in n]


def test_another_checkpoint_is_another_run_in_the_same_folder(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the run's identity held only "learned ... (f.pt)": a second checkpoint of the same
    # name silently replaced the first one's metrics.json
    first = _forecaster(tmp_path / "a", {})
    torch.manual_seed(1)
    second = tmp_path / "b" / "f.pt"
    second.parent.mkdir()
    cfg = ForecasterConfig(modes=2, hidden=16)
    save_forecaster(second, LearnedForecaster(cfg, ForecasterNet(cfg), {}))
    argv = ["eval", "prediction", "--dataset", "commonroad", "--quiet", "--models", "learned"]
    argv += ["--root", str(shared_data / "commonroad" / "USA_US101-4_1_T-1.xml")]
    argv += ["--out", str(tmp_path / "out")]
    assert cli_main([*argv, "--forecaster", str(first)]) == 0
    settings = json.loads((tmp_path / "out" / "metrics.json").read_text())["settings"]
    assert settings["forecaster_file"] == str(first.resolve())
    assert len(settings["forecaster_sha256"]) == 64
    capsys.readouterr()
    assert cli_main([*argv, "--forecaster", str(second)]) == 2  # refused before any work
    assert "forecaster" in capsys.readouterr().err
