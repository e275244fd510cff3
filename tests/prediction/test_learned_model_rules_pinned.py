"""The learned forecaster's model rules, pinned by hand-derived values: residual time scaling,
the constant-velocity base, probabilities, the frame of the forecasts, the winner-takes-all
loss, training targets and figures, the loading probe, settings and their defaults."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import drivestack.prediction.learned as learned_module
from drivestack.core.errors import DataError
from drivestack.prediction.learned import (
    AgentFramePast,
    ForecasterConfig,
    ForecasterNet,
    ForecastSamples,
    LearnedForecaster,
    TrainingSettings,
    _arrays,
    agent_frame_future,
    agent_frame_past,
    base_displacement,
    load_forecaster,
    save_forecaster,
    top_mode_ade,
    train_forecaster,
    wta_loss,
)
from drivestack.structures.labels import ObjectClass

#: 1 s of past and 1 s of future at 0.1 s, two modes, a tiny trunk
CFG = ForecasterConfig(step_s=0.1, history_steps=10, horizon_steps=10, modes=2, hidden=4, layers=1)
CAR = int(ObjectClass.CAR)
#: the output grid k * 0.1 s, k = 1..10
T_K = np.arange(1, 11) * 0.1


def _zero_net(
    cfg: ForecasterConfig = CFG,
    residual_bias: dict[tuple[int, int, int], float] | None = None,
    logit_bias: tuple[float, ...] | None = None,
) -> ForecasterNet:
    """A net of zero weights: its raw residual output is the bias (index ``(mode, step,
    axis)``), so residual step ``k`` is that bias times ``k * step_s``; logits are the bias."""
    net = ForecasterNet(cfg)
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        for (m, k, d), value in (residual_bias or {}).items():
            net.residual.bias[(m * cfg.horizon_steps + k) * 2 + d] = value
        if logit_bias is not None:
            net.logits.bias[:] = torch.tensor(logit_bias)
    return net


def _times() -> np.ndarray:
    return np.round(np.arange(-10, 1) * 0.1, 10)


def _line_past(
    vx: float, vy: float, yaw: float = 0.0, n: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` agents at ``(vx, vy) * t`` for t = -1.0 .. 0.0 s, box yaw ``yaw``."""
    t = _times()
    boxes = np.zeros((n, 11, 7))
    boxes[..., 0] = vx * t
    boxes[..., 1] = vy * t
    boxes[..., 3:6] = (4.5, 1.8, 1.5)
    boxes[..., 6] = yaw
    return np.repeat(t[None], n, axis=0), boxes, np.full(n, CAR)


def test_residual_step_k_is_the_raw_output_times_k_step_s() -> None:
    """Residual step k = output * (k * step_s): a raw output of 1 gives 0.1, 0.2, .. 1.0 m at
    k = 1..10, so the residual starts near 0 and grows with time."""
    net = _zero_net(residual_bias={(0, k, 0): 1.0 for k in range(10)})
    res, logits = net(torch.zeros((1, CFG.n_features)))
    assert res.shape == (1, 2, 10, 2) and logits.shape == (1, 2)
    np.testing.assert_allclose(res[0, 0, :, 0].detach().numpy(), T_K, atol=1e-6)
    np.testing.assert_allclose(res[0, 1].detach().numpy(), 0.0)


def test_base_displacement_is_velocity_times_k_step_s_from_k_1() -> None:
    """The constant-velocity base at step k is v * k * 0.1 s (k = 1..10): v = (2, -1) m/s
    gives (0.2, -0.1) at the first output step and (2, -1) at 1 s."""
    past = AgentFramePast(
        xy_m=np.zeros((1, 11, 2)),
        yaw_rad=np.zeros((1, 11)),
        velocity_mps=np.array([[2.0, -1.0]]),
        group=np.array([0]),
        size_m=np.zeros((1, 2)),
        anchor=np.zeros((1, 7)),
    )
    base = base_displacement(past, CFG)
    np.testing.assert_allclose(base[0, :, 0], 2.0 * T_K)
    np.testing.assert_allclose(base[0, :, 1], -1.0 * T_K)


def test_displacement_is_base_plus_residual_and_probabilities_per_agent() -> None:
    """Displacement = constant-velocity base + residual; probabilities are the softmax of each
    agent's own logits: logits (0, ln 3) give (1/4, 3/4) for every agent."""
    net = _zero_net(
        residual_bias={(1, k, 1): 2.0 for k in range(10)}, logit_bias=(0.0, math.log(3))
    )
    t, boxes, label = _line_past(10.0, 0.0, n=2)
    boxes[1, :, 0] *= 0.5  # the second agent at 5 m/s
    past = agent_frame_past(t, boxes, label, CFG)
    disp, prob = LearnedForecaster(CFG, net).predict_agent_frame(past)
    np.testing.assert_allclose(prob, [[0.25, 0.75], [0.25, 0.75]], atol=1e-12)
    # mode 0: the base only (10 or 5 m/s along x); mode 1: plus 2 m/s * t to the left
    np.testing.assert_allclose(disp[0, 0, :, 0], 10.0 * T_K, atol=1e-9)
    np.testing.assert_allclose(disp[1, 0, :, 0], 5.0 * T_K, atol=1e-9)
    np.testing.assert_allclose(disp[0, 1, :, 1], 2.0 * T_K, atol=1e-6)
    np.testing.assert_allclose(disp[0, 0, :, 1], 0.0, atol=1e-9)


def test_forecast_rotates_agent_frame_displacements_into_the_world() -> None:
    """An agent heading 45 deg at 10 sqrt(2) m/s, plus a residual of 1 m/s to its left: at
    1 s it is (10 sqrt(2), 1) in its frame, i.e. world x = 10 - 1/sqrt(2), y = 10 + 1/sqrt(2)
    (rotation by +45 deg: x' = c a - s b, y' = s a + c b)."""
    v = 10.0 * math.sqrt(2.0)
    yaw = math.pi / 4
    net = _zero_net(residual_bias={(0, k, 1): 1.0 for k in range(10)})
    t, boxes, label = _line_past(v * math.cos(yaw), v * math.sin(yaw), yaw=yaw)
    fc = LearnedForecaster(CFG, net).forecast(t, boxes, label, 1.0, 0.1)
    r = 1.0 / math.sqrt(2.0)
    np.testing.assert_allclose(fc.boxes[0, 0, -1, 0:2], [10.0 - r, 10.0 + r], atol=1e-5)
    np.testing.assert_allclose(fc.boxes[0, 1, -1, 0:2], [10.0, 10.0], atol=1e-5)  # base only
    assert fc.boxes[0, 0, -1, 6] == pytest.approx(yaw)  # the last yaw is kept


def test_a_horizon_within_half_a_grid_step_past_the_model_is_allowed_not_more() -> None:
    """The model's horizon is 1.0 s; a forecast may end at most 0.5 * 0.1 = 0.05 s later:
    1.04 s (2 steps of 0.52 s) is extrapolated, 1.1 s (2 steps of 0.55 s) refused."""
    model = LearnedForecaster(CFG, _zero_net())
    t, boxes, label = _line_past(10.0, 0.0)
    fc = model.forecast(t, boxes, label, 1.04, 0.52)
    assert fc.boxes[0, 0, -1, 0] == pytest.approx(10.4, abs=1e-6)  # 10 m/s * 1.04 s
    with pytest.raises(ValueError, match=r"horizon 1.1 s is beyond the model's 1 s"):
        model.forecast(t, boxes, label, 1.1, 0.55)


def test_wta_regression_is_the_winners_error_averaged_over_cases() -> None:
    """Two cases, one step, target 0. Case 0: modes at distance 5 and 10 m -> winner 0, error
    5; case 1: 10 and 1 m -> winner 1, error 1. Regression (5 + 1) / 2 = 3; with equal logits
    the cross entropy is ln 2 per case; total = 3 + 2 ln 2 with classification_weight 2."""
    residual = torch.tensor([[[[3.0, 4.0]], [[6.0, 8.0]]], [[[0.0, 10.0]], [[0.0, 1.0]]]])
    target = torch.zeros((2, 1, 2))
    total, reg, cls = wta_loss(residual, torch.zeros((2, 2)), target, classification_weight=2.0)
    assert reg.item() == pytest.approx(3.0, abs=1e-5)
    assert cls.item() == pytest.approx(math.log(2.0), abs=1e-6)
    assert total.item() == pytest.approx(3.0 + 2.0 * math.log(2.0), abs=1e-5)


def test_training_targets_of_mirrored_copies_are_mirrored() -> None:
    """Past: (10 t, 1 t) (yaw 0, at the origin), future: (10 t, 1.5 t). The base velocity is
    (10, 1), the target residual (0, 0.5 t_k); the mirrored copy has velocity (10, -1) and
    truth (10 t, -1.5 t), so its residual is (0, -0.5 t_k)."""
    t, boxes, label = _line_past(10.0, 1.0)
    ft = np.round(np.arange(1, 11) * 0.1, 10)[None]
    fb = np.zeros((1, 10, 7))
    fb[0, :, 0], fb[0, :, 1] = 10.0 * ft[0], 1.5 * ft[0]
    x, y = _arrays(ForecastSamples(t, boxes, label, ft, fb), CFG, mirror=True)
    assert x.shape == (2, CFG.n_features) and y.shape == (2, 10, 2) and y.dtype == np.float32
    np.testing.assert_allclose(y[0, :, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(y[0, :, 1], 0.5 * T_K, atol=1e-6)
    np.testing.assert_allclose(y[1, :, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(y[1, :, 1], -0.5 * T_K, atol=1e-6)


def test_mirrored_negates_y_yaw_and_lateral_velocity_only() -> None:
    """Left/right mirror: y, yaws and the lateral velocity change sign; x, class, size and
    the anchors (in the pasts' frame) do not."""
    past = AgentFramePast(
        xy_m=np.array([[[1.0, 2.0], [0.0, 0.0]]]),
        yaw_rad=np.array([[0.3, 0.0]]),
        velocity_mps=np.array([[3.0, 4.0]]),
        group=np.array([1]),
        size_m=np.array([[4.0, 2.0]]),
        anchor=np.arange(7.0)[None],
    )
    m = past.mirrored()
    np.testing.assert_array_equal(m.xy_m, [[[1.0, -2.0], [0.0, 0.0]]])
    np.testing.assert_array_equal(m.yaw_rad, [[-0.3, 0.0]])
    np.testing.assert_array_equal(m.velocity_mps, [[3.0, -4.0]])
    np.testing.assert_array_equal(m.group, [1])
    np.testing.assert_array_equal(m.size_m, [[4.0, 2.0]])
    np.testing.assert_array_equal(m.anchor, past.anchor)


def test_future_target_on_the_output_grid_and_a_short_future_refused() -> None:
    """The target is the truth at now + k 0.1 s, k = 1..10, here sampled every 0.2 s and
    interpolated: y = 1.5 t -> 0.15 at 0.1 s. A truth ending 0.05 s early (0.95 s) is
    accepted, one ending 0.1 s early (0.9 s: more than half a step) refused."""
    t, boxes, label = _line_past(10.0, 0.0)
    past = agent_frame_past(t, boxes, label, CFG)
    ft = np.round(np.arange(1, 6) * 0.2, 10)[None]  # 0.2 .. 1.0 s
    fb = np.zeros((1, 5, 7))
    fb[0, :, 0], fb[0, :, 1] = 10.0 * ft[0], 1.5 * ft[0]
    target = agent_frame_future(past, np.array([0.0]), ft, fb, CFG)
    np.testing.assert_allclose(target[0, :, 0], 10.0 * T_K, atol=1e-9)
    np.testing.assert_allclose(target[0, :, 1], 1.5 * T_K, atol=1e-9)
    ft_ok = np.round(np.arange(1, 11) * 0.1, 10)[None] - 0.05 * (np.arange(1, 11) == 10)
    agent_frame_future(past, np.array([0.0]), ft_ok, np.zeros((1, 10, 7)), CFG)
    with pytest.raises(ValueError, match=r"row 0: field future_t_s: the truth ends before"):
        agent_frame_future(past, np.array([0.0]), np.array([[0.2, 0.4, 0.6, 0.9]]), fb[:, :-1], CFG)


def test_velocity_base_is_fitted_over_the_configured_window() -> None:
    """Standing at x = -3 until -0.3 s, then 10 m/s to x = 0 at now. A 0.3 s window sees only
    the motion: 10 m/s. A 0.5 s window sees x = -3, -3, -3, -2, -1, 0 at t = -0.5 .. 0:
    least-squares slope = sum(dt dx) / sum(dt^2) = 1.1 / 0.175 = 44/7 m/s."""
    t, boxes, label = _line_past(10.0, 0.0)
    boxes[0, :, 0] = np.maximum(boxes[0, :, 0], -3.0)
    short = agent_frame_past(t, boxes, label, CFG)
    assert short.velocity_mps[0, 0] == pytest.approx(10.0, abs=1e-6)
    wide = agent_frame_past(t, boxes, label, replace(CFG, fit_window_s=0.5))
    assert wide.velocity_mps[0, 0] == pytest.approx(44.0 / 7.0, abs=1e-6)


def test_top_mode_ade_scores_the_most_probable_mode() -> None:
    """Mode 0 (logit 1, the most probable) is off by (t_k, 0), mode 1 exact: the top-mode
    ADE is mean(0.1 .. 1.0) = 0.55 m, not 0."""
    net = _zero_net(residual_bias={(0, k, 0): 1.0 for k in range(10)}, logit_bias=(1.0, 0.0))
    ade = top_mode_ade(net, torch.zeros((1, CFG.n_features)), torch.zeros((1, 10, 2)))
    assert ade == pytest.approx(0.55, abs=1e-6)


def _write(path: Path, net: ForecasterNet) -> Path:
    save_forecaster(path, LearnedForecaster(CFG, net, {"seed": 0}))
    return path


def test_the_loading_probe_refuses_any_mode_faster_than_200_mps(tmp_path: Path) -> None:
    """The probe car drives at 10 m/s; a residual output of b m/s adds b * t. Mode 1 with
    b = 290 reaches 300 m in 1 s (> 200 m/s * 1 s): refused even though mode 0 is sane;
    b = 150 (160 m) loads."""
    fast = _write(tmp_path / "fast.pt", _zero_net(residual_bias={(1, 9, 0): 290.0}))
    with pytest.raises(DataError, match=r"fast\.pt: field state_dict: its weights forecast"):
        load_forecaster(fast)
    ok = _write(tmp_path / "ok.pt", _zero_net(residual_bias={(1, 9, 0): 150.0}))
    assert load_forecaster(ok).cfg == CFG


def test_a_checkpoint_with_another_fit_window_is_refused(tmp_path: Path) -> None:
    """fit_window_s is an architecture field: the constant-velocity base it fits is what the
    residuals were trained on, so expecting 0.5 s of a 0.3 s checkpoint is refused."""
    path = _write(tmp_path / "f.pt", _zero_net())
    with pytest.raises(DataError, match=r"field config\.fit_window_s: .*another architecture"):
        load_forecaster(path, expect=replace(CFG, fit_window_s=0.5))


def test_settings_and_config_ranges() -> None:
    """lr must be > 0 and step_s > 0 (0 is refused); modes may be up to 64 (65 refused)."""
    with pytest.raises(ValueError, match="lr"):
        TrainingSettings(lr=0.0)
    with pytest.raises(ValueError, match="step_s"):
        ForecasterConfig(step_s=0.0)
    assert ForecasterConfig(modes=64).modes == 64
    with pytest.raises(ValueError, match="modes"):
        ForecasterConfig(modes=65)


def test_documented_defaults() -> None:
    """TrainingSettings: 20 epochs of 128, AdamW lr 1e-3 and weight decay 1e-4, soft labels at
    1 m, mirroring, seed 0; the trained model's architecture (10, 30, 6, 64, 2), 0.1 s grid
    and the 0.3 s velocity window."""
    assert TrainingSettings() == TrainingSettings(
        epochs=20,
        batch_size=128,
        lr=1e-3,
        weight_decay=1e-4,
        classification_weight=1.0,
        temperature_m=1.0,
        mirror=True,
        seed=0,
    )
    cfg = ForecasterConfig()
    assert (cfg.history_steps, cfg.horizon_steps, cfg.modes, cfg.hidden, cfg.layers) == (
        10,
        30,
        6,
        64,
        2,
    )
    assert (cfg.step_s, cfg.fit_window_s) == (0.1, 0.3)


def _samples(n: int) -> ForecastSamples:
    """``n`` cars at (10, 0.5 i) m/s, future drifting to the left at 1 m/s more."""
    t, boxes, label = _line_past(10.0, 0.0, n=n)
    boxes[..., 1] = (0.5 * np.arange(n))[:, None] * t[None]
    ft = np.repeat(np.round(np.arange(1, 11) * 0.1, 10)[None], n, axis=0)
    fb = np.zeros((n, 10, 7))
    fb[..., 0] = 10.0 * ft
    fb[..., 1] = (0.5 * np.arange(n) + 1.0)[:, None] * ft
    return ForecastSamples(t, boxes, label, ft, fb)


def test_training_figures_ties_keep_the_first_epoch_and_loss_is_a_batch_mean() -> None:
    """With lr 1e-30 the weights never move, so every epoch's held-out ADE ties and the first
    (strictly smaller wins) is kept; each epoch's train loss is the mean of its 4 batches of
    one case (2 cases mirrored), i.e. wta_loss over all 4 cases at once; counts as given."""
    train, holdout = _samples(2), _samples(1)
    settings = TrainingSettings(epochs=3, batch_size=1, lr=1e-30)
    forecaster, figures = train_forecaster(train, holdout, CFG, settings, {"seed": 0})
    assert figures["best_epoch"] == 0
    assert (figures["training_cases"], figures["training_samples"]) == (2, 4)
    assert figures["holdout_cases"] == 1
    x, y = _arrays(train, CFG, mirror=True)
    res, logits = forecaster.net(torch.from_numpy(x))
    expected, _, _ = wta_loss(res, logits, torch.from_numpy(y), 1.0, 1.0)
    for epoch in figures["epochs"]:
        assert epoch["train_loss"] == pytest.approx(expected.item(), rel=1e-5)


def test_empty_training_or_held_out_sets_are_refused() -> None:
    """Both sets must be non-empty: an empty held-out set alone is refused."""
    s = _samples(1)
    empty = ForecastSamples(
        *(a[:0] for a in (s.past_t_s, s.past_boxes, s.label, s.future_t_s, s.future_boxes))
    )
    with pytest.raises(ValueError, match=r"1 training and 0 held-out cases"):
        train_forecaster(s, empty, CFG, TrainingSettings(epochs=1))
    with pytest.raises(ValueError, match=r"0 training and 1 held-out cases"):
        train_forecaster(empty, s, CFG, TrainingSettings(epochs=1))


def _scripted_holdout_ades(
    monkeypatch: pytest.MonkeyPatch, ades: list[float]
) -> list[dict[str, torch.Tensor]]:
    """Make training's held-out ADE of epoch ``e`` be ``ades[e]``; returns the net's weights
    as each epoch ended, in order."""
    seen: list[dict[str, torch.Tensor]] = []

    def scripted(net: ForecasterNet, x: torch.Tensor, target: torch.Tensor) -> float:
        seen.append({k: v.clone() for k, v in net.state_dict().items()})
        return ades[len(seen) - 1]

    monkeypatch.setattr(learned_module, "top_mode_ade", scripted)
    return seen


def test_the_returned_net_is_the_best_epochs_not_the_last(monkeypatch: pytest.MonkeyPatch) -> None:
    """Held-out ADEs 3, 1, 2 m: epoch 1 is kept, its figure reported and its weights loaded
    back (the weights move every epoch at lr 0.05)."""
    seen = _scripted_holdout_ades(monkeypatch, [3.0, 1.0, 2.0])
    forecaster, figures = train_forecaster(
        _samples(2), _samples(1), CFG, TrainingSettings(epochs=3, batch_size=2, lr=0.05)
    )
    assert (figures["best_epoch"], figures["holdout_top_mode_ade_m"]) == (1, 1.0)
    assert [e["holdout_top_mode_ade_m"] for e in figures["epochs"]] == [3.0, 1.0, 2.0]
    state = forecaster.net.state_dict()
    assert not torch.equal(seen[1]["residual.bias"], seen[2]["residual.bias"])
    for key, value in seen[1].items():
        assert torch.equal(state[key], value), key


def test_training_that_never_gives_a_finite_held_out_ade_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A held-out ADE that is NaN every epoch (diverged training) is a clear error naming the
    learning rate, not a failed load of an empty state dict."""
    _scripted_holdout_ades(monkeypatch, [math.nan, math.nan])
    with pytest.raises(ValueError, match=r"not a finite number in any of the 2 epochs.*lr 0\.5"):
        train_forecaster(
            _samples(2), _samples(1), CFG, TrainingSettings(epochs=2, batch_size=2, lr=0.5)
        )


def test_a_huge_learning_rate_is_refused_as_diverged() -> None:
    """lr 1e30 drives the weights to inf / NaN at once: the same clear error."""
    with pytest.raises(ValueError, match=r"training diverged"):
        train_forecaster(
            _samples(2), _samples(1), CFG, TrainingSettings(epochs=2, batch_size=2, lr=1e30)
        )


def test_the_learning_rate_follows_one_cosine_half_period_over_the_epochs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The scheduler steps once per epoch with T_max = epochs: after epoch e (0-based) the
    rate is lr (1 + cos(pi (e + 1) / E)) / 2, read while the held-out ADE is measured."""
    made: list[torch.optim.lr_scheduler.CosineAnnealingLR] = []
    real = torch.optim.lr_scheduler.CosineAnnealingLR

    def spy(opt: torch.optim.Optimizer, **kwargs: Any) -> torch.optim.lr_scheduler.LRScheduler:
        made.append(real(opt, **kwargs))
        return made[-1]

    rates: list[float] = []

    def ade(net: ForecasterNet, x: torch.Tensor, target: torch.Tensor) -> float:
        rates.append(float(made[0].optimizer.param_groups[0]["lr"]))
        return 1.0

    monkeypatch.setattr(torch.optim.lr_scheduler, "CosineAnnealingLR", spy)
    monkeypatch.setattr(learned_module, "top_mode_ade", ade)
    train_forecaster(_samples(1), _samples(1), CFG, TrainingSettings(epochs=4, lr=0.2))
    expected = [0.2 * (1 + math.cos(math.pi * (e + 1) / 4)) / 2 for e in range(4)]
    assert rates == pytest.approx(expected, abs=1e-12)


def test_provenance_keeps_the_callers_keys_under_the_training_record() -> None:
    """The caller's provenance is kept; ``training`` (the settings) and the figures other
    than the per-epoch history override keys of the same name."""
    settings = TrainingSettings(epochs=1, batch_size=2, lr=1e-30)
    given = {"source": "kitti", "training": "caller's", "best_epoch": 99}
    forecaster, figures = train_forecaster(_samples(2), _samples(1), CFG, settings, given)
    record = forecaster.provenance
    assert record["source"] == "kitti"
    assert record["training"]["lr"] == 1e-30 and record["training"]["epochs"] == 1
    assert record["best_epoch"] == 0 == figures["best_epoch"]
    assert record["training_samples"] == 4 and "epochs" not in record
    assert given == {"source": "kitti", "training": "caller's", "best_epoch": 99}
