"""The learned forecaster: it learns motion constant velocity gets wrong, its winner-takes-all
loss by hand, checkpoints (round trip, refusals), output shapes, 0.2 s pasts, and forecasts
that never read the future."""

from __future__ import annotations

import math
import runpy
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from drivestack.cli import main as cli_main
from drivestack.core.errors import DataError
from drivestack.eval.prediction.cases import CaseSettings, build_cases
from drivestack.eval.prediction.metrics import displacement_errors
from drivestack.eval.prediction.models import LEARNED, MODELS, learned_model
from drivestack.eval.prediction.run import evaluate
from drivestack.eval.prediction.trajectories import AgentTrajectory, TrajectorySet
from drivestack.prediction.learned import (
    ForecasterConfig,
    ForecasterNet,
    ForecastSamples,
    LearnedForecaster,
    TrainingSettings,
    agent_frame_past,
    load_forecaster,
    save_forecaster,
    train_forecaster,
    wta_loss,
)
from drivestack.prediction.state import estimate_states
from drivestack.structures.labels import ObjectClass

REPO = Path(__file__).resolve().parents[2]

#: small and quick: 1 s of past and 1 s of future at 0.1 s
SMALL = ForecasterConfig(horizon_steps=10, modes=2, hidden=32)


def _tracks(n: int, seed: int, cfg: ForecasterConfig = SMALL) -> ForecastSamples:
    """``n`` cars braking at 0-3 m/s^2 or turning at up to 0.5 rad/s (constant velocity is
    wrong for both), at random places and headings, sampled every 0.1 s."""
    rng = np.random.default_rng(seed)
    h, t_n = cfg.history_steps, cfg.horizon_steps
    t = np.arange(-h, t_n + 1) * 0.1  # anchor at 0
    speed0 = rng.uniform(5.0, 15.0, n)
    decel = np.where(rng.random(n) < 0.5, rng.uniform(0.0, 3.0, n), 0.0)
    omega = np.where(decel == 0.0, rng.uniform(-0.5, 0.5, n), 0.0)
    heading0 = rng.uniform(-np.pi, np.pi, n)
    # speed and heading at each time (the pasts too), integrated from the anchor
    speed = np.maximum(speed0[:, None] - decel[:, None] * t[None], 0.0)
    heading = heading0[:, None] + omega[:, None] * t[None]
    dx, dy = speed * np.cos(heading) * 0.1, speed * np.sin(heading) * 0.1
    x = np.cumsum(dx, axis=1)
    y = np.cumsum(dy, axis=1)
    x -= x[:, h : h + 1]
    y -= y[:, h : h + 1]
    boxes = np.zeros((n, len(t), 7))
    boxes[..., 0] = x + rng.uniform(-50, 50, (n, 1))
    boxes[..., 1] = y + rng.uniform(-50, 50, (n, 1))
    boxes[..., 2:6] = [0.8, 4.5, 1.9, 1.6]
    boxes[..., 6] = np.remainder(heading + np.pi, 2 * np.pi) - np.pi
    times = np.repeat(t[None] + 100.0, n, axis=0)
    label = np.full(n, int(ObjectClass.CAR))
    return ForecastSamples(
        times[:, : h + 1], boxes[:, : h + 1], label, times[:, h + 1 :], boxes[:, h + 1 :]
    )


def _random_forecaster(cfg: ForecasterConfig = SMALL, seed: int = 0) -> LearnedForecaster:
    torch.manual_seed(seed)
    return LearnedForecaster(cfg, ForecasterNet(cfg), {"seed": seed, "datasets": ["synthetic"]})


def _mean_ade(boxes_xy: np.ndarray, truth: np.ndarray) -> float:
    return float(displacement_errors(boxes_xy, truth[..., 0:2]).mean())


def test_it_learns_braking_and_turning_that_constant_velocity_misses() -> None:
    train, holdout, test = _tracks(600, 0), _tracks(150, 1), _tracks(200, 2)
    settings = TrainingSettings(epochs=25, seed=0)
    forecaster, figures = train_forecaster(train, holdout, SMALL, settings, {"seed": 0})
    assert figures["training_samples"] == 1200  # mirrored copies
    assert 0 <= figures["best_epoch"] < 25 and figures["parameters"] < 50_000
    mm = forecaster.forecast(test.past_t_s, test.past_boxes, test.label, 1.0, 0.1)
    states = estimate_states(test.past_t_s, test.past_boxes, test.label, "world")
    cv = MODELS["constant_velocity"].run(states, None, 1.0, 0.1)
    learned_ade = _mean_ade(mm.most_likely()[:, 1:, 0:2], test.future_boxes)
    cv_ade = _mean_ade(cv.boxes[:, 0, 1:, 0:2], test.future_boxes)
    assert learned_ade < 0.6 * cv_ade, (learned_ade, cv_ade)
    assert forecaster.provenance["training"]["seed"] == 0
    # deterministic: the same data and seed give the same weights
    again, _ = train_forecaster(train, holdout, SMALL, settings)
    for k, v in forecaster.net.state_dict().items():
        assert torch.equal(v, again.net.state_dict()[k]), k


def test_wta_loss_by_hand() -> None:
    # one case, two modes, two steps; the truth is mode 1 exactly, mode 0 stays put
    target = torch.tensor([[[1.0, 0.0], [2.0, 0.0]]])
    residual = torch.tensor([[[[0.0, 0.0], [0.0, 0.0]], [[1.0, 0.0], [2.0, 0.0]]]])
    residual.requires_grad_(True)
    logits = torch.tensor([[0.0, math.log(3.0)]])  # probabilities 1/4, 3/4
    total, reg, cls = wta_loss(residual, logits, target, classification_weight=0.5)
    assert reg.item() == pytest.approx(1e-3)  # sqrt(0 + 1e-6) at both steps
    assert cls.item() == pytest.approx(-math.log(0.75))
    assert total.item() == pytest.approx(1e-3 - 0.5 * math.log(0.75))
    reg.backward()
    assert residual.grad is not None
    assert torch.count_nonzero(residual.grad[0, 0]) == 0  # the loser is not pulled
    # soft labels: mode errors 1.5 m and 0.001 m -> softmax(-e / 1 m)
    _, _, soft = wta_loss(residual.detach(), logits, target, temperature_m=1.0)
    q1 = 1.0 / (1.0 + math.exp(-(1.5 - 1e-3)))
    assert float(soft) == pytest.approx(-(1 - q1) * math.log(0.25) - q1 * math.log(0.75))


def test_output_shapes_and_probabilities() -> None:
    forecaster = _random_forecaster()
    s = _tracks(5, 3)
    mm = forecaster.forecast(s.past_t_s, s.past_boxes, s.label, 1.0, 0.1)
    assert mm.boxes.shape == (5, 2, 11, 7) and mm.probability.shape == (5, 2)
    np.testing.assert_allclose(mm.probability.sum(axis=1), 1.0, atol=1e-12)
    assert mm.valid.all()
    # step 0 is the observed box; sizes and yaw are kept
    np.testing.assert_array_equal(mm.boxes[:, :, 0], np.repeat(s.past_boxes[:, None, -1], 2, 1))
    np.testing.assert_array_equal(
        mm.boxes[..., 3:7], np.broadcast_to(mm.boxes[:, :, :1, 3:7], mm.boxes[..., 3:7].shape)
    )
    empty = forecaster.forecast(s.past_t_s[:0], s.past_boxes[:0], s.label[:0], 1.0, 0.1)
    assert empty.boxes.shape == (0, 2, 11, 7)
    with pytest.raises(ValueError, match=r"horizon 2 s is beyond the model's 1 s"):
        forecaster.forecast(s.past_t_s, s.past_boxes, s.label, 2.0, 0.1)


def test_a_past_every_0_2_s_is_resampled_and_a_short_past_refused() -> None:
    forecaster = _random_forecaster()
    # straight lines at constant speed: linear interpolation of the 0.2 s samples is exact
    s = _tracks(4, 4)
    line = s.past_boxes.copy()
    v = np.array([[8.0, 1.0], [-3.0, 2.0], [0.5, 0.0], [10.0, -4.0]])
    line[..., 0:2] = v[:, None] * (s.past_t_s - s.past_t_s[:, -1:])[..., None]
    line[..., 6] = np.arctan2(v[:, 1], v[:, 0])[:, None]
    fine = forecaster.forecast(s.past_t_s, line, s.label, 1.0, 0.1)
    coarse = forecaster.forecast(s.past_t_s[:, ::2], line[:, ::2], s.label, 1.0, 0.2)
    assert coarse.boxes.shape[2] == 6
    np.testing.assert_allclose(coarse.boxes, fine.boxes[:, :, ::2], atol=1e-9)
    np.testing.assert_allclose(coarse.probability, fine.probability, atol=1e-12)
    with pytest.raises(ValueError, match=r"row 0: field past_t_s: the past covers 0.800 s"):
        agent_frame_past(s.past_t_s[:, 2:], line[:, 2:], s.label, SMALL)


def test_pasts_out_of_order_or_not_finite_are_refused_naming_row_and_sample() -> None:
    forecaster = _random_forecaster()
    s = _tracks(3, 4)
    times = s.past_t_s.copy()
    times[1, 3] = times[1, 5]  # np.interp would resample a non-increasing past silently
    with pytest.raises(ValueError, match=r"learned forecaster: row 1: field past_t_s: times"):
        forecaster.forecast(times, s.past_boxes, s.label, 1.0, 0.1)
    boxes = s.past_boxes.copy()
    boxes[2, 4, 0] = np.nan
    with pytest.raises(ValueError, match=r"row 2: field past_boxes: sample 4 is not finite"):
        forecaster.forecast(s.past_t_s, boxes, s.label, 1.0, 0.1)


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    forecaster = _random_forecaster(seed=7)
    path = tmp_path / "sub" / "f.pt"
    save_forecaster(path, forecaster)
    loaded = load_forecaster(path)
    assert loaded.cfg == SMALL and loaded.provenance == forecaster.provenance
    s = _tracks(6, 5)
    a = forecaster.forecast(s.past_t_s, s.past_boxes, s.label, 1.0, 0.1)
    b = loaded.forecast(s.past_t_s, s.past_boxes, s.label, 1.0, 0.1)
    np.testing.assert_array_equal(a.boxes, b.boxes)
    np.testing.assert_array_equal(a.probability, b.probability)
    assert load_forecaster(path, expect=SMALL).cfg == SMALL


def test_bad_checkpoints_are_refused_naming_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "f.pt"
    save_forecaster(path, _random_forecaster())
    with pytest.raises(DataError, match=r"f\.pt: field config\.hidden: .*another architecture"):
        load_forecaster(path, expect=replace(SMALL, hidden=64))
    # a config that does not match its own tensors
    ckpt = torch.load(path, weights_only=True)
    ckpt["config"]["hidden"] = 16
    torch.save(ckpt, tmp_path / "mixed.pt")
    with pytest.raises(DataError, match=r"mixed\.pt: field state_dict: weights do not fit"):
        load_forecaster(tmp_path / "mixed.pt")
    ckpt["config"]["modes"] = 0
    torch.save(ckpt, tmp_path / "bad_cfg.pt")
    with pytest.raises(DataError, match=r"bad_cfg\.pt.*modes"):
        load_forecaster(tmp_path / "bad_cfg.pt")
    torch.save({"format": "drivestack.camera_detector.v1"}, tmp_path / "cam.pt")
    with pytest.raises(DataError, match=r"cam\.pt: field format: not a drivestack motion"):
        load_forecaster(tmp_path / "cam.pt")
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(DataError, match=r"text\.pt: not a torch checkpoint"):
        load_forecaster(tmp_path / "text.pt")
    torch.save({"format": "drivestack.motion_forecaster.v1", "x": Path("x")}, tmp_path / "obj.pt")
    with pytest.raises(DataError, match=r"obj\.pt: refusing to unpickle"):
        load_forecaster(tmp_path / "obj.pt")
    with pytest.raises(DataError, match=r"missing\.pt: forecaster checkpoint not found"):
        load_forecaster(tmp_path / "missing.pt")


def _recording(n: int) -> tuple[TrajectorySet, list[AgentTrajectory]]:
    s = _tracks(n, 6, replace(SMALL, horizon_steps=30))
    agents = [
        AgentTrajectory(
            f"a{i}",
            ObjectClass.CAR,
            np.round(np.concatenate([s.past_t_s[i], s.future_t_s[i]]) - 100.0, 9),
            np.concatenate([s.past_boxes[i], s.future_boxes[i]]),
            "world",
            "synthetic.xml",
        )
        for i in range(n)
    ]
    rec = TrajectorySet("syn", "synthetic.xml", "world", 0.1, "recorded", "test", tuple(agents))
    return rec, agents


def test_perturbing_the_future_changes_no_learned_forecast(tmp_path: Path) -> None:
    save_forecaster(tmp_path / "f.pt", _random_forecaster(replace(SMALL, horizon_steps=30)))
    model = learned_model(tmp_path / "f.pt")
    rec, agents = _recording(3)
    settings = CaseSettings(1.0, 3.0, 0.1)
    base = build_cases(rec, settings)
    assert len(base) == 3  # one anchor each: at 0 s, 1 s of past and 3 s of truth

    def run(cases):  # type: ignore[no-untyped-def]
        states = estimate_states(cases.past_t_s, cases.past_boxes, cases.label, "world")
        return model.forecast(cases.past_t_s, cases.past_boxes, states, None, 3.0, 0.1)

    f0 = run(base)
    wild = []
    for i, a in enumerate(agents):
        boxes = a.boxes.copy()
        future = a.time_s > 1e-9
        boxes[future, 0:2] += np.random.default_rng(i).normal(0, 20, (int(future.sum()), 2))
        boxes[future, 6] += 1.0
        wild.append(replace(a, boxes=boxes))
    changed = build_cases(replace(rec, agents=tuple(wild)), settings)
    assert not np.array_equal(changed.future_boxes, base.future_boxes)
    f1 = run(changed)
    np.testing.assert_array_equal(f0.boxes, f1.boxes)
    np.testing.assert_array_equal(f0.probability, f1.probability)


def test_evaluate_scores_the_learned_model_beside_the_others(tmp_path: Path) -> None:
    save_forecaster(tmp_path / "f.pt", _random_forecaster(replace(SMALL, horizon_steps=30)))
    rec, _ = _recording(4)
    catalog = {**MODELS, LEARNED: learned_model(tmp_path / "f.pt")}
    report = evaluate([rec], ["constant_velocity", LEARNED], CaseSettings(), catalog=catalog)
    row = report["metrics"]["recorded"][LEARNED]["vehicle"]["all"]
    assert row["cases"] == 4 and row["minFDE"] <= row["FDE@3s"] + 1e-9
    assert report["modes"] == {"constant_velocity": 1, LEARNED: 2}


def test_the_command_asks_for_the_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["eval", "prediction", "--dataset", "commonroad", "--root", str(tmp_path)]
    out = ["--out", str(tmp_path / "out")]
    assert cli_main([*base, "--models", "ctrv,learned", *out]) == 2
    assert "field --forecaster: model learned needs its checkpoint" in capsys.readouterr().err
    (tmp_path / "bad.pt").write_text("x")
    bad = ["--forecaster", str(tmp_path / "bad.pt")]
    assert cli_main([*base, "--models", "learned", *bad, *out]) == 2
    assert "bad.pt: not a torch checkpoint" in capsys.readouterr().err
    assert cli_main([*base, "--models", "ctrv", *bad, *out]) == 2
    assert "--forecaster is only for model learned" in capsys.readouterr().err


@pytest.mark.data
def test_training_tool_reads_the_train_split_only(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from drivestack.ingest.kitti_tracking import read_split_seqmap

    main = runpy.run_path(str(REPO / "tools" / "train_forecaster.py"), run_name="tool")["main"]
    root = shared_data / "kitti_tracking"
    out = tmp_path / "f.pt"
    assert main(["--out", str(out), "--kitti-root", str(root), "--epochs", "1", "--quiet"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    record = load_forecaster(out).provenance
    val = {e.name for e in read_split_seqmap(root, "val")}
    used = set(record["training_sequences"]) | set(record["holdout_sequences"])
    assert used == {e.name for e in read_split_seqmap(root, "train")} and not used & val
    assert not set(record["training_sequences"]) & set(record["holdout_sequences"])
    assert record["split"] == "train" and record["seed"] == 0 and "git_commit" in record
    assert record["training"]["epochs"] == 1 and record["training_cases"] > 1000
    assert main(["--out", str(tmp_path), "--kitti-root", str(root)]) == 2
    assert "is a directory" in capsys.readouterr().err
    # an earlier checkpoint is not replaced silently (was: a 20-epoch one by a 1-epoch one)
    before = out.read_bytes()
    assert main(["--out", str(out), "--kitti-root", str(root), "--epochs", "1", "--quiet"]) == 2
    assert "f.pt: field --out: exists (an earlier training run's checkpoint)" in (
        capsys.readouterr().err
    )
    assert out.read_bytes() == before


def test_the_training_tool_needs_a_sequence_on_each_side_of_the_holdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: 'ValueError: need at least one array to concatenate', a traceback, exit 1."""
    main = runpy.run_path(str(REPO / "tools" / "train_forecaster.py"), run_name="tool")["main"]
    root = tmp_path / "kitti"
    (root / "seqmaps").mkdir(parents=True)
    (root / "training").mkdir()
    (root / "seqmaps" / "evaluate_tracking.seqmap.training").write_text(
        "0000 empty 000000 000154\n0001 empty 000000 000447\n"
    )
    (root / "seqmaps" / "evaluate_tracking.seqmap.val").write_text("0000 empty 000000 000154\n")
    argv = ["--out", str(tmp_path / "f.pt"), "--kitti-root", str(root), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "field --holdout-every: the train split's 1 sequence(s)" in err
    assert "leave 1 to train on and 0 held out" in err


def test_the_command_checks_the_window_against_the_checkpoint_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save_forecaster(tmp_path / "f.pt", _random_forecaster())  # 1 s of past, 1 s horizon
    base = ["eval", "prediction", "--dataset", "commonroad", "--root", str(tmp_path / "none")]
    base += ["--models", "learned", "--forecaster", str(tmp_path / "f.pt")]
    out = ["--out", str(tmp_path / "out")]
    assert cli_main([*base, "--history-s", "0.5", "--horizon-s", "1", *out]) == 2
    err = capsys.readouterr().err
    assert "field --history-s: 0.5 s is shorter than the 1 s of past the learned forecaster" in err
    assert cli_main([*base, "--horizon-s", "3", *out]) == 2
    err = capsys.readouterr().err
    assert "field --horizon-s: 3 s is beyond the learned forecaster's 1 s horizon" in err
    # a text file is no torch checkpoint, without torch's KeyError
    (tmp_path / "text.pt").write_text("hello world")
    with pytest.raises(DataError, match=r"text\.pt: not a torch checkpoint \(neither") as info:
        load_forecaster(tmp_path / "text.pt")
    assert "KeyError" not in str(info.value)


def test_forecaster_alone_adds_learned_to_the_default_models(tmp_path: Path) -> None:
    from drivestack.commands.eval_prediction import _models

    save_forecaster(tmp_path / "f.pt", _random_forecaster())
    names, catalog = _models(None, tmp_path / "f.pt")
    assert names == [*MODELS, LEARNED] and set(catalog) == {*MODELS, LEARNED}
    names, catalog = _models(None, None)
    assert names == list(MODELS) and LEARNED not in catalog
    with pytest.raises(DataError, match="--forecaster is only for model learned"):
        _models("ctrv", tmp_path / "f.pt")
