"""A small learned multi-modal forecaster: ``K`` residuals on top of constant velocity.

Input (one agent, :func:`agent_frame_past`): the last ``history_steps * step_s`` (1 s) of the
agent's observed centres and yaws, resampled to a ``step_s`` (0.1 s) grid by linear
interpolation (so 0.2 s recordings such as CommonRoad's A9 are accepted) and expressed in the
agent's own frame at the anchor (origin at its last centre, x along its last box yaw), plus
its class group and its length and width. A past that does not reach back the whole history
(to half a step) is refused.

Output (:class:`ForecasterNet`): ``K`` trajectories of ``horizon_steps`` (30) displacements at
``step_s`` in the agent frame, each the constant-velocity displacement (velocity: the
least-squares slope over the last ``fit_window_s`` of the resampled past, as
:func:`~drivestack.prediction.state.estimate_states` fits it) plus a learned residual, and
``K`` mode logits. :class:`LearnedForecaster` turns them into a
:class:`~drivestack.prediction.multimodal.MultiModalForecast` in the pasts' frame (boxes keep
their last yaw, size and height, as the constant-velocity forecast does).

Training (:func:`train_forecaster`): winner-takes-all as MultiPath / LaneGCN do: only the mode
closest to the truth (smallest mean displacement) is regressed (its mean displacement
error), and the logits learn which mode that is (cross entropy with the winner, or with soft
labels that share its credit among nearly-as-good modes: :func:`wta_loss`); left/right
mirrored copies of the cases double the data. Deterministic for a seed on the CPU (one
thread); the epoch kept is the one with the smallest mean top-mode displacement on a
held-out set.

Checkpoints (:func:`save_forecaster`, :func:`load_forecaster`): ``torch.save`` of
``{format, config, state_dict, provenance}``, loaded with ``weights_only=True``; a checkpoint
of another architecture is refused naming the file and the field.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from drivestack.config import from_mapping
from drivestack.config.strict import check_config_numbers
from drivestack.core.checkpoints import check_state_dict, load_tensor_checkpoint
from drivestack.core.errors import DataError, brief_repr
from drivestack.prediction.forecast import CLASS_GROUPS as GROUPS_BY_NAME
from drivestack.prediction.forecast import forecast_steps
from drivestack.prediction.multimodal import MultiModalForecast
from drivestack.prediction.state import (
    FIT_WINDOW_S,
    check_pasts,
    fit_velocity,
    fit_window_weights,
)
from drivestack.structures.labels import ObjectClass

CHECKPOINT_FORMAT = "drivestack.motion_forecaster.v1"

#: Class groups of the one-hot class input (vehicle, pedestrian, cyclist; other classes: all
#: zeros).
CLASS_GROUPS: tuple[tuple[ObjectClass, ...], ...] = tuple(GROUPS_BY_NAME.values())
_GROUP_INDEX = {int(c): i for i, group in enumerate(CLASS_GROUPS) for c in group}

#: Input scales: positions and velocities are divided by these before the network.
_POSITION_SCALE_M = 10.0
_VELOCITY_SCALE_MPS = 10.0
_SIZE_SCALE_M = 5.0

#: fields that define the network's tensors and what they mean (a checkpoint must agree)
ARCHITECTURE_FIELDS = (
    "step_s",
    "history_steps",
    "horizon_steps",
    "modes",
    "hidden",
    "layers",
    "fit_window_s",
)

#: Upper bounds of the integer architecture fields (:class:`ForecasterConfig`), far above the
#: trained model's (10, 30, 6, 64, 2) but small enough that a network of them fits in memory
#: (a checkpoint saying ``hidden = 10**7`` would ask for 400 TB).
MAX_ARCHITECTURE = {
    "history_steps": 1000,
    "horizon_steps": 1000,
    "modes": 64,
    "hidden": 4096,
    "layers": 16,
}


@dataclass(frozen=True)
class ForecasterConfig:
    """Architecture of :class:`ForecasterNet` and its time grid.

    Attributes:
        step_s: the grid of the past and of the output (s).
        history_steps: past samples before the anchor (``history_steps * step_s`` of past).
        horizon_steps: output steps after the anchor.
        modes: ``K``.
        hidden: width of the hidden layers; layers: their number (>= 1).
        fit_window_s: past fitted for the constant-velocity base (s).
    """

    step_s: float = 0.1
    history_steps: int = 10
    horizon_steps: int = 30
    modes: int = 6
    hidden: int = 64
    layers: int = 2
    fit_window_s: float = FIT_WINDOW_S

    def __post_init__(self) -> None:
        check_config_numbers(self, "step_s", above=0.0)
        check_config_numbers(self, "fit_window_s", at_least=0.0)
        for name, most in MAX_ARCHITECTURE.items():
            check_config_numbers(self, name, integer=True, at_least=1, at_most=most)

    @property
    def history_s(self) -> float:
        return self.history_steps * self.step_s

    @property
    def horizon_s(self) -> float:
        return self.horizon_steps * self.step_s

    @property
    def n_features(self) -> int:
        """Inputs per agent: past xy and yaw (``3 (H+1)``), base velocity (2), class groups,
        length and width (2)."""
        return 3 * (self.history_steps + 1) + 2 + len(CLASS_GROUPS) + 2


@dataclass(frozen=True)
class AgentFramePast:
    """``A`` pasts on the forecaster's grid, in each agent's frame at its anchor.

    Attributes:
        xy_m: ``(A, H+1, 2)`` centres (the last is the origin).
        yaw_rad: ``(A, H+1)`` box yaws relative to the last (unwrapped modulo pi, as
            :func:`~drivestack.prediction.state.estimate_states` reads a front-back flip).
        velocity_mps: ``(A, 2)`` the constant-velocity base.
        group: ``(A,)`` int class group (:data:`CLASS_GROUPS` index, -1 for others).
        size_m: ``(A, 2)`` length and width.
        anchor: ``(A, 7)`` the last observed boxes in the pasts' frame.
    """

    xy_m: np.ndarray
    yaw_rad: np.ndarray
    velocity_mps: np.ndarray
    group: np.ndarray
    size_m: np.ndarray
    anchor: np.ndarray

    def mirrored(self) -> AgentFramePast:
        """The left/right mirror image (y and yaws negated; the anchors are not mirrored)."""
        flip = np.array([1.0, -1.0])
        return AgentFramePast(
            self.xy_m * flip,
            -self.yaw_rad,
            self.velocity_mps * flip,
            self.group,
            self.size_m,
            self.anchor,
        )

    def features(self) -> np.ndarray:
        """``(A, n_features)`` float32 network inputs."""
        a = self.xy_m.shape[0]
        onehot = np.zeros((a, len(CLASS_GROUPS)))
        known = self.group >= 0
        onehot[np.flatnonzero(known), self.group[known]] = 1.0
        return np.concatenate(
            [
                self.xy_m.reshape(a, 2 * self.xy_m.shape[1]) / _POSITION_SCALE_M,
                self.yaw_rad,
                self.velocity_mps / _VELOCITY_SCALE_MPS,
                onehot,
                self.size_m / _SIZE_SCALE_M,
            ],
            axis=1,
        ).astype(np.float32)


def _to_agent_frame(anchor: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """``(A, N, 2)`` world xy -> each anchor's frame (origin its centre, x along its yaw)."""
    c, s = np.cos(anchor[:, 6])[:, None], np.sin(anchor[:, 6])[:, None]
    d = xy - anchor[:, None, 0:2]
    return np.stack([c * d[..., 0] + s * d[..., 1], -s * d[..., 0] + c * d[..., 1]], axis=-1)


def _resample(t_s: np.ndarray, values: np.ndarray, at_s: np.ndarray) -> np.ndarray:
    """``(A, M, D)`` rows of ``(A, N, D)`` values at ``(A, N)`` times linearly interpolated at
    ``(A, M)`` times (held at the ends)."""
    out = np.empty((*at_s.shape, values.shape[2]))
    for i in range(t_s.shape[0]):
        for d in range(values.shape[2]):
            out[i, :, d] = np.interp(at_s[i], t_s[i], values[i, :, d])
    return out


def agent_frame_past(
    past_t_s: np.ndarray, past_boxes: np.ndarray, label: np.ndarray, cfg: ForecasterConfig
) -> AgentFramePast:
    """``A`` observed pasts (any sample period, the last sample "now") on ``cfg``'s grid in
    each agent's frame (see the module doc).

    Args:
        past_t_s: ``(A, N)`` increasing times (s), ``N >= 2``; past_boxes: ``(A, N, 7)``;
            label: ``(A,)`` class ids.

    Raises:
        ValueError: shapes disagree, a past's times are not finite and strictly increasing
            or its boxes not finite (naming the row, field and sample), or a past starts more
            than half a grid step after ``now - cfg.history_s`` (naming the agent's row and
            field ``past_t_s``).
    """
    check_pasts(past_t_s, past_boxes, "learned forecaster")
    if label.shape != past_t_s.shape[:1]:
        raise ValueError(f"learned forecaster: label must be ({past_t_s.shape[0]},)")
    now = past_t_s[:, -1]
    short = past_t_s[:, 0] - (now - cfg.history_s) > 0.5 * cfg.step_s + 1e-9
    if short.any():
        i = int(np.flatnonzero(short)[0])
        raise ValueError(
            f"learned forecaster: row {i}: field past_t_s: the past covers "
            f"{now[i] - past_t_s[i, 0]:.3f} s; the model needs {cfg.history_s:g} s"
        )
    grid = now[:, None] + (np.arange(-cfg.history_steps, 1) * cfg.step_s)[None]
    anchor = past_boxes[:, -1]
    yaw = np.unwrap(past_boxes[..., 6], axis=1, period=np.pi)
    yaw = yaw - yaw[:, -1:]
    xy = _to_agent_frame(anchor, past_boxes[..., 0:2])
    on_grid = _resample(past_t_s, np.concatenate([xy, yaw[..., None]], axis=2), grid)
    rel_t = grid - now[:, None]  # the last is 0
    velocity = fit_velocity(rel_t, on_grid[..., 0:2], fit_window_weights(rel_t, cfg.fit_window_s))
    group = np.array([_GROUP_INDEX.get(int(v), -1) for v in label], dtype=np.int64)
    return AgentFramePast(
        on_grid[..., 0:2], on_grid[..., 2], velocity, group, anchor[:, 3:5].copy(), anchor
    )


def agent_frame_future(
    past: AgentFramePast,
    now_s: np.ndarray,
    future_t_s: np.ndarray,
    future_boxes: np.ndarray,
    cfg: ForecasterConfig,
) -> np.ndarray:
    """``(A, T, 2)`` true future centres on ``cfg``'s output grid (``now + k step_s``,
    ``k = 1..horizon_steps``) in each agent's frame: the training target.

    Raises:
        ValueError: a future that ends more than half a step before the horizon.
    """
    end = now_s + cfg.horizon_s
    short = end - future_t_s[:, -1] > 0.5 * cfg.step_s + 1e-9
    if short.any():
        raise ValueError(
            f"learned forecaster: row {int(np.flatnonzero(short)[0])}: field future_t_s: "
            f"the truth ends before the {cfg.horizon_s:g} s horizon"
        )
    grid = now_s[:, None] + (np.arange(1, cfg.horizon_steps + 1) * cfg.step_s)[None]
    t = np.concatenate([now_s[:, None], future_t_s], axis=1)
    xy = np.concatenate([past.anchor[:, None, 0:2], future_boxes[..., 0:2]], axis=1)
    return _resample(t, _to_agent_frame(past.anchor, xy), grid)


class ForecasterNet(torch.nn.Module):
    """MLP: features ``(A, F)`` -> residuals ``(A, K, T, 2)`` (m) and logits ``(A, K)``.
    Residual step ``k`` is the output times its time ``k * step_s`` (s): it starts near 0."""

    time_s: torch.Tensor

    def __init__(self, cfg: ForecasterConfig) -> None:
        super().__init__()
        self.cfg = cfg
        layers: list[torch.nn.Module] = []
        width = cfg.n_features
        for _ in range(cfg.layers):
            layers += [torch.nn.Linear(width, cfg.hidden), torch.nn.ReLU()]
            width = cfg.hidden
        self.trunk = torch.nn.Sequential(*layers)
        self.residual = torch.nn.Linear(width, cfg.modes * cfg.horizon_steps * 2)
        self.logits = torch.nn.Linear(width, cfg.modes)
        t = torch.arange(1, cfg.horizon_steps + 1, dtype=torch.float32) * cfg.step_s
        self.register_buffer("time_s", t, persistent=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        k, n = self.cfg.modes, self.cfg.horizon_steps
        res = self.residual(h).reshape(-1, k, n, 2) * self.time_s[None, None, :, None]
        return res, self.logits(h)


def base_displacement(past: AgentFramePast, cfg: ForecasterConfig) -> np.ndarray:
    """``(A, T, 2)`` the constant-velocity displacements the residuals are added to."""
    t = np.arange(1, cfg.horizon_steps + 1) * cfg.step_s
    return past.velocity_mps[:, None, :] * t[None, :, None]


def wta_loss(
    residual: torch.Tensor,
    logits: torch.Tensor,
    target_residual: torch.Tensor,
    classification_weight: float = 1.0,
    temperature_m: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Winner-takes-all loss of ``A`` cases: ``(total, regression, classification)``,
    ``total = regression + classification_weight * classification``.

    A mode's error is its mean displacement ``e_m = mean_k |residual[m, k] - target[k]|``
    (``sqrt(d^2 + 1e-6)`` per step, smooth at 0). Regression is the winner's error (the mode
    with the smallest ``e_m``; ties: the lowest index), averaged over cases: only the winner
    is pulled towards the truth. Classification is the cross entropy of the logits with the
    winner as the class (``temperature_m = 0``) or with the soft target
    ``softmax(-e / temperature_m)`` (modes nearly as good as the winner share its credit).

    Args:
        residual: ``(A, K, T, 2)``; logits: ``(A, K)``; target_residual: ``(A, T, 2)``.
    """
    dist = torch.sqrt(((residual - target_residual[:, None]) ** 2).sum(-1) + 1e-6)  # (A,K,T)
    per_mode = dist.mean(-1)
    winner = torch.argmin(per_mode.detach(), dim=1)
    regression = per_mode.gather(1, winner[:, None]).mean()
    if temperature_m > 0.0:
        soft = torch.softmax(-per_mode.detach() / temperature_m, dim=1)
        classification = -(soft * torch.log_softmax(logits, dim=1)).sum(1).mean()
    else:
        classification = torch.nn.functional.cross_entropy(logits, winner)
    return regression + classification_weight * classification, regression, classification


class LearnedForecaster:
    """A trained :class:`ForecasterNet` and its config; :meth:`forecast` gives
    :class:`MultiModalForecast` s in the pasts' frame."""

    def __init__(
        self, cfg: ForecasterConfig, net: ForecasterNet, provenance: dict[str, Any] | None = None
    ):
        self.cfg = cfg
        self.net = net
        self.net.eval()
        self.provenance = dict(provenance or {})

    def predict_agent_frame(self, past: AgentFramePast) -> tuple[np.ndarray, np.ndarray]:
        """``(A, K, T, 2)`` displacements in the agent frame and ``(A, K)`` probabilities."""
        with torch.inference_mode():
            res, logits = self.net(torch.from_numpy(past.features()))
            prob = torch.softmax(logits.double(), dim=1).numpy()
        disp = base_displacement(past, self.cfg)[:, None] + res.double().numpy()
        return disp, prob / prob.sum(axis=1, keepdims=True)

    def forecast(
        self,
        past_t_s: np.ndarray,
        past_boxes: np.ndarray,
        label: np.ndarray,
        horizon_s: float,
        dt_s: float,
    ) -> MultiModalForecast:
        """``K`` forecasts of ``A`` agents from their pasts (see :func:`agent_frame_past`) at
        ``k * dt_s``, ``k = 0..forecast_steps(horizon_s, dt_s)``, in the pasts' frame; the
        network's grid is interpolated at those times (linearly extrapolated for less than
        half a grid step past its horizon).

        Raises:
            ValueError: a past as :func:`agent_frame_past`, or a horizon beyond the network's.
        """
        n = forecast_steps(horizon_s, dt_s)
        t = np.arange(n + 1) * dt_s
        if t[-1] > self.cfg.horizon_s + 0.5 * self.cfg.step_s + 1e-9:
            raise ValueError(
                f"learned forecaster: horizon {t[-1]:g} s is beyond the model's "
                f"{self.cfg.horizon_s:g} s"
            )
        past = agent_frame_past(past_t_s, past_boxes, label, self.cfg)
        disp, prob = self.predict_agent_frame(past)
        a, k = prob.shape
        knots = np.arange(self.cfg.horizon_steps + 1) * self.cfg.step_s
        full = np.concatenate([np.zeros((a, k, 1, 2)), disp], axis=2)  # (A, K, T0+1, 2)
        # linear interpolation on the grid, the last segment extended past its end
        idx = np.clip(np.searchsorted(knots, t, side="right") - 1, 0, len(knots) - 2)
        w = ((t - knots[idx]) / self.cfg.step_s)[None, None, :, None]
        at = full[:, :, idx] * (1.0 - w) + full[:, :, idx + 1] * w  # (A, K, n+1, 2)
        anchor = past.anchor
        c, s = np.cos(anchor[:, 6])[:, None, None], np.sin(anchor[:, 6])[:, None, None]
        boxes = np.repeat(np.repeat(anchor[:, None, None, :], k, axis=1), n + 1, axis=2)
        boxes[..., 0] += c * at[..., 0] - s * at[..., 1]
        boxes[..., 1] += s * at[..., 0] + c * at[..., 1]
        return MultiModalForecast(dt_s, boxes, prob, np.ones((a, k), dtype=bool))


def save_forecaster(path: str | Path, forecaster: LearnedForecaster) -> None:
    """Write ``{format, config, state_dict, provenance}`` with ``torch.save`` (atomic
    rename); the provenance must hold only str, numbers, bools, None, lists and dicts."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "config": asdict(forecaster.cfg),
            "state_dict": forecaster.net.state_dict(),
            "provenance": forecaster.provenance,
        },
        tmp,
    )
    tmp.replace(p)


def load_forecaster(path: str | Path, expect: ForecasterConfig | None = None) -> LearnedForecaster:
    """A forecaster from a checkpoint (``weights_only=True``, CPU).

    ``expect``: the architecture the caller needs; a checkpoint that differs in one of
    :data:`ARCHITECTURE_FIELDS` is refused (default: the checkpoint's own config).

    Raises:
        DataError: naming the file: missing, not a torch checkpoint, a pickled Python object,
            another format (field ``format``), a config that is missing a field of
            :data:`ARCHITECTURE_FIELDS`, has another key or a value out of range (beyond
            :data:`MAX_ARCHITECTURE`; field ``config.<key>``), another architecture than
            ``expect`` (field ``config.<name>``), tensors whose names or shapes do not fit the
            network of its config (``state_dict``, compared before the network is built), a
            value that is not a tensor, an integer tensor or NaN / infinite weights (field
            ``state_dict.<name>``: :func:`~drivestack.core.checkpoints.check_state_dict`).
    """
    p = Path(path)
    if not p.is_file():
        raise DataError("forecaster checkpoint not found (or not a file)", path=str(p))
    ckpt = load_tensor_checkpoint(p)
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        found = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise DataError(
            f"not a drivestack motion-forecaster checkpoint (expected format "
            f"{CHECKPOINT_FORMAT!r}, found {brief_repr(found)})",
            path=str(p),
            field="format",
        )
    cfg = _checkpoint_config(ckpt.get("config"), str(p))
    for name in ARCHITECTURE_FIELDS if expect is not None else ():
        if getattr(cfg, name) != getattr(expect, name):
            raise DataError(
                f"checkpoint is for another architecture: {name} is {getattr(cfg, name)!r} "
                f"there but {getattr(expect, name)!r} is needed",
                path=str(p),
                field=f"config.{name}",
            )
    with torch.device("meta"):  # names, shapes and dtypes only: nothing is allocated
        own = ForecasterNet(cfg).state_dict()
    state = check_state_dict(ckpt.get("state_dict"), own, str(p))
    net = ForecasterNet(cfg)
    net.load_state_dict(state)
    provenance = _checked_provenance(ckpt.get("provenance"), str(p))
    forecaster = LearnedForecaster(cfg, net, provenance)
    _probe(forecaster, str(p))
    return forecaster


def _checked_provenance(value: Any, path: str) -> dict[str, Any]:
    """A checkpoint's ``provenance``: a mapping of plain JSON values (strings, numbers,
    booleans, None, lists and string-keyed mappings of them), as :func:`save_forecaster`
    writes it and metrics.json records it; absent reads as ``{}``. ``DataError`` naming the
    file and ``provenance.<key>`` otherwise (a tensor there passed every check and failed
    the evaluation's metrics.json after all its work)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DataError(
            f"expected a mapping of plain values, got {type(value).__name__}",
            path=path,
            field="provenance",
        )

    def check(item: Any, where: str) -> None:
        if item is None or isinstance(item, bool | int | float | str):
            return
        if isinstance(item, list | tuple):
            for i, element in enumerate(item):
                check(element, f"{where}[{i}]")
            return
        if isinstance(item, dict):
            for key, element in item.items():
                if not isinstance(key, str):
                    raise DataError(f"expected string keys, got {key!r}", path=path, field=where)
                check(element, f"{where}.{key}")
            return
        raise DataError(
            f"expected a plain JSON value (string, number, boolean, null, list, mapping), got "
            f"{type(item).__name__}",
            path=path,
            field=where,
        )

    check(value, "provenance")
    return value


#: The fastest a probe forecast may move an agent (m/s): far past any road user, so only
#: weights that are finite but absurd (a layer scaled by 1e30) fail it.
PROBE_MAX_SPEED_MPS = 200.0


def _probe(forecaster: LearnedForecaster, path: str) -> None:
    """Forecast a car driving straight at 10 m/s with the loaded weights: ``DataError``
    naming the checkpoint when a forecast or probability is not finite, or a mode moves the
    car faster than :data:`PROBE_MAX_SPEED_MPS` on average (weights that pass the tensor
    checks but forecast nonsense: 4.4e29 m ADE before, found only in the eval's figures)."""
    cfg = forecaster.cfg
    t = np.linspace(-cfg.history_s, 0.0, cfg.history_steps + 1)[None]
    boxes = np.zeros((1, t.shape[1], 7))
    boxes[0, :, 0] = 10.0 * t[0]
    boxes[0, :, 3:6] = (4.5, 1.8, 1.5)
    try:
        probe = forecaster.forecast(
            t, boxes, np.array([int(ObjectClass.CAR)]), cfg.horizon_s, cfg.step_s
        )
    except ValueError as exc:  # (MultiModalForecast refuses non-finite values)
        raise DataError(
            f"its weights give no valid forecast of a car at 10 m/s: {exc}",
            path=path,
            field="state_dict",
        ) from None
    travelled = np.abs(probe.boxes[0, :, -1, :2] - probe.boxes[0, :, 0, :2]).max()
    if not travelled <= PROBE_MAX_SPEED_MPS * cfg.horizon_s:
        raise DataError(
            f"its weights forecast a car at 10 m/s {travelled:.3g} m away in "
            f"{cfg.horizon_s:g} s (more than {PROBE_MAX_SPEED_MPS:g} m/s): not a trained "
            "forecaster",
            path=path,
            field="state_dict",
        )


def _checkpoint_config(raw: Any, path: str) -> ForecasterConfig:
    """A checkpoint's ``config``, strictly: a mapping of every one of
    :data:`ARCHITECTURE_FIELDS` and nothing else (a default would not be the architecture
    the weights were trained with; an unknown key is another format).

    Raises:
        DataError: naming ``path`` and ``config`` or ``config.<key>``.
    """
    if not isinstance(raw, dict):
        raise DataError(
            f"checkpoint has no config mapping (found {type(raw).__name__})",
            path=path,
            field="config",
        )
    for name in ARCHITECTURE_FIELDS:
        if name not in raw:
            raise DataError(
                "missing: a checkpoint records its whole architecture (save it with "
                "save_forecaster)",
                path=path,
                field=f"config.{name}",
            )
    return from_mapping(ForecasterConfig, raw, path=path, prefix="config")


# --------------------------------------------------------------------------- training


@dataclass(frozen=True)
class ForecastSamples:
    """``A`` training cases: observed pasts and true futures (as the eval's
    :class:`~drivestack.eval.prediction.cases.Cases` holds them).

    Attributes:
        past_t_s: ``(A, N)``; past_boxes: ``(A, N, 7)``; label: ``(A,)``;
        future_t_s: ``(A, M)``; future_boxes: ``(A, M, 7)``.
    """

    past_t_s: np.ndarray
    past_boxes: np.ndarray
    label: np.ndarray
    future_t_s: np.ndarray
    future_boxes: np.ndarray

    def __len__(self) -> int:
        return int(self.label.shape[0])

    @staticmethod
    def concatenate(parts: list[ForecastSamples]) -> ForecastSamples:
        """One set from several with the same ``N`` and ``M``."""
        return ForecastSamples(
            *(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(ForecastSamples))
        )


@dataclass(frozen=True)
class TrainingSettings:
    """Optimisation: AdamW with a cosine learning-rate schedule, ``epochs`` passes over the
    (mirrored) training cases in ``batch_size`` batches, shuffled by ``seed``; the loss is
    :func:`wta_loss` with ``classification_weight`` and ``temperature_m``; the epoch kept is
    the one with the smallest held-out mean top-mode displacement.

    The defaults (and :class:`ForecasterConfig`'s ``hidden = 64``) were chosen on KITTI
    tracking's train split only, holding out sequences 0002 and 0009 (1787 cases at 0.1 s
    stride; constant velocity's mean displacement over 3 s there 1.24 m): held-out top-mode
    ADE@3s with hard winner labels 1.12 m (6 modes) against 0.99 m for one mode, with soft
    labels 1.00 / 1.01 / 1.01 m (seeds 0 / 1 / 2, temperature 1 m) and 0.95-1.04 m for 0.5
    to 5 m; hidden 128: 0.95-1.09 m; without mirroring 1.28 m. It overfits after a few
    epochs (the cases of one agent overlap), hence 20 epochs and the held-out choice.
    """

    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    classification_weight: float = 1.0
    temperature_m: float = 1.0
    mirror: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        check_config_numbers(self, "epochs", "batch_size", integer=True, at_least=1)
        check_config_numbers(self, "lr", above=0.0)
        check_config_numbers(
            self, "weight_decay", "classification_weight", "temperature_m", at_least=0.0
        )
        check_config_numbers(self, "seed", integer=True, at_least=0)


def _arrays(
    samples: ForecastSamples, cfg: ForecasterConfig, mirror: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``(features (A', F) float32, target residuals (A', T, 2) float32)``; ``A' = 2A`` with
    mirrored copies."""
    past = agent_frame_past(samples.past_t_s, samples.past_boxes, samples.label, cfg)
    future = agent_frame_future(
        past, samples.past_t_s[:, -1], samples.future_t_s, samples.future_boxes, cfg
    )
    x, y = [past.features()], [future - base_displacement(past, cfg)]
    if mirror:
        m = past.mirrored()
        x.append(m.features())
        y.append(future * np.array([1.0, -1.0]) - base_displacement(m, cfg))
    return np.concatenate(x), np.concatenate(y).astype(np.float32)


def top_mode_ade(net: ForecasterNet, x: torch.Tensor, target: torch.Tensor) -> float:
    """Mean displacement of each case's most probable mode over the horizon (m)."""
    with torch.inference_mode():
        res, logits = net(x)
        top = res[torch.arange(len(x)), torch.argmax(logits, dim=1)]
        return float(torch.linalg.norm(top - target, dim=-1).mean())


def train_forecaster(
    train: ForecastSamples,
    holdout: ForecastSamples,
    cfg: ForecasterConfig,
    settings: TrainingSettings,
    provenance: dict[str, Any] | None = None,
    progress: Callable[[int, float, float], None] | None = None,
) -> tuple[LearnedForecaster, dict[str, Any]]:
    """Train on ``train`` (mirrored when ``settings.mirror``), keep the epoch with the best
    held-out top-mode ADE; returns the forecaster (its provenance: ``provenance`` plus the
    training settings and figures) and the figures: ``epochs`` (per epoch: train loss,
    held-out top-mode ADE), ``best_epoch``, ``holdout_top_mode_ade_m``, ``parameters``.
    ``progress(epoch, train_loss, holdout_ade)`` is called after each epoch.

    Raises:
        ValueError: an empty training or held-out set; training that diverged (the held-out
            ADE not finite in any epoch); pasts and futures as :func:`agent_frame_past` and
            :func:`agent_frame_future`.
    """
    if not len(train) or not len(holdout):
        raise ValueError(
            f"train_forecaster: {len(train)} training and {len(holdout)} held-out cases; "
            "both must be non-empty"
        )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(settings.seed)
        x_np, y_np = _arrays(train, cfg, settings.mirror)
        hx_np, hy_np = _arrays(holdout, cfg, False)
        x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
        hx, hy = torch.from_numpy(hx_np), torch.from_numpy(hy_np)
        net = ForecasterNet(cfg)
        opt = torch.optim.AdamW(
            net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay
        )
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=settings.epochs)
        gen = torch.Generator().manual_seed(settings.seed)
        history: list[dict[str, float]] = []
        best: tuple[float, int, dict[str, Any]] = (math.inf, -1, {})
        for epoch in range(settings.epochs):
            net.train()
            order = torch.randperm(len(x), generator=gen)
            total, batches = 0.0, 0
            for start in range(0, len(x), settings.batch_size):
                idx = order[start : start + settings.batch_size]
                res, logits = net(x[idx])
                loss, _, _ = wta_loss(
                    res, logits, y[idx], settings.classification_weight, settings.temperature_m
                )
                opt.zero_grad()
                loss.backward()
                opt.step()
                total, batches = total + loss.item(), batches + 1
            sched.step()
            net.eval()
            held = top_mode_ade(net, hx, hy)
            history.append({"train_loss": total / batches, "holdout_top_mode_ade_m": held})
            if held < best[0]:
                best = (held, epoch, {k: v.clone() for k, v in net.state_dict().items()})
            if progress is not None:
                progress(epoch, total / batches, held)
        if best[1] < 0:
            raise ValueError(
                f"train_forecaster: the held-out top-mode ADE was not a finite number in any of "
                f"the {settings.epochs} epochs (last: {history[-1]['holdout_top_mode_ade_m']}); "
                f"training diverged: lower the learning rate (lr {settings.lr})"
            )
        net.load_state_dict(best[2])
    finally:
        torch.set_num_threads(threads)
    figures = {
        "epochs": history,
        "best_epoch": best[1],
        "holdout_top_mode_ade_m": best[0],
        "parameters": sum(p.numel() for p in net.parameters()),
        "training_cases": len(train),
        "training_samples": len(x_np),
        "holdout_cases": len(holdout),
    }
    record = {
        **(provenance or {}),
        "training": asdict(settings),
        **{k: v for k, v in figures.items() if k != "epochs"},
    }
    return LearnedForecaster(cfg, net, record), figures
