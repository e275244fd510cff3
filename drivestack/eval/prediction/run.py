"""Score forecast models on the cases of recordings: per-case errors, then means by traffic
kind, model, class group and motion (:func:`evaluate`), and the printed table."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from drivestack.eval.prediction.cases import (
    CLASS_GROUPS,
    Cases,
    CaseSettingError,
    CaseSettings,
    build_cases,
    sample_of,
)
from drivestack.eval.prediction.metrics import (
    ade,
    displacement_errors,
    fde,
    is_miss,
    multimodal_metrics,
)
from drivestack.eval.prediction.models import MODELS, ForecastModel
from drivestack.eval.prediction.trajectories import TrajectorySet
from drivestack.prediction.state import FIT_WINDOW_S, AgentStates, YawRateFit, estimate_states

GROUPS = (*CLASS_GROUPS, "all")
MOTIONS = ("moving", "stationary", "all")


def checkpoints_s(horizon_s: float) -> list[float]:
    """The times ADE and FDE are reported at: every whole second within the horizon, and the
    horizon (``[1, 2, 3]`` for 3 s, ``[1, 2, 2.5]`` for 2.5 s, ``[0.5]`` for 0.5 s)."""
    out = [float(s) for s in range(1, math.floor(horizon_s + 1e-9) + 1)]
    if not out or abs(out[-1] - horizon_s) > 1e-9:
        out.append(float(horizon_s))
    return out


def checkpoint_steps(checkpoints: Sequence[float], dt_s: float, n_steps: int) -> list[int]:
    """The forecast step each checkpoint is scored at on a grid of ``dt_s`` (rounded, within
    ``1 .. n_steps``).

    Raises:
        CaseSettingError: naming ``horizon_s`` when two checkpoints fall on one step (a
            horizon just past a whole second on a jittered grid, 3.01 s on AV2's 0.100196 s
            sweeps: ``ADE@3s`` and ``ADE@3.01s`` would both be the 30th sample).
    """
    steps = [min(n_steps, max(1, sample_of(c, dt_s))) for c in checkpoints]
    for i in range(1, len(steps)):
        if steps[i] == steps[i - 1]:
            a, b = checkpoints[i - 1], checkpoints[i]
            raise CaseSettingError(
                "horizon_s",
                f"{b:g} s is the same sample as {a:g} s on a recording of {dt_s:g} s "
                f"samples (both sample {steps[i]}): give {a:g} s",
            )
    return steps


@dataclass
class _Scores:
    """Per-case scores of one model, concatenated over recordings."""

    traffic: list[np.ndarray] = field(default_factory=list)
    group: list[np.ndarray] = field(default_factory=list)
    moving: list[np.ndarray] = field(default_factory=list)
    values: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, cases: Cases, values: dict[str, np.ndarray]) -> None:
        self.traffic.append(np.full(len(cases), cases.recording.traffic))
        self.group.append(cases.group)
        self.moving.append(cases.moving)
        for k, v in values.items():
            self.values.setdefault(k, []).append(v)


def score_model(
    cases: Cases,
    model_name: str,
    fit_window_s: float,
    checkpoints: Sequence[float],
    catalog: Mapping[str, ForecastModel] = MODELS,
) -> dict[str, np.ndarray]:
    """Per-case ``(C,)`` scores of one model of ``catalog`` on ``cases``: ``ADE@<t>s`` and
    ``FDE@<t>s`` of its most probable mode at each checkpoint, ``miss`` at the horizon, and
    for a multi-modal model ``minADE``, ``minFDE``, ``brier_minFDE`` and ``miss_K``. The
    states' yaw rate is fitted as the model's ``yaw_rate`` says (default: over
    ``fit_window_s``, unshrunk).

    Raises:
        ValueError: a ``tracker_velocity`` model on cases without the tracker's velocities.
    """
    rec = cases.recording
    model = catalog[model_name]
    yaw_rate = model.yaw_rate or YawRateFit()
    states = estimate_states(
        cases.past_t_s, cases.past_boxes, cases.label, rec.frame, fit_window_s, yaw_rate
    )
    if model.tracker_velocity:
        if cases.tracker_velocity_mps is None:
            raise ValueError(f"model {model_name} needs cases from tracker pasts (--pasts tracks)")
        boxes = replace(states.boxes, velocity_mps=cases.tracker_velocity_mps)
        states = AgentStates(boxes, states.yaw_rate_radps)
    n_steps = cases.future_boxes.shape[1]
    steps = checkpoint_steps(checkpoints, rec.dt_s, n_steps)
    forecast = model.forecast(
        cases.past_t_s, cases.past_boxes, states, rec.road_map, n_steps * rec.dt_s, rec.dt_s
    )
    errors = displacement_errors(
        forecast.boxes[:, :, 1:, 0:2], cases.future_boxes[:, None, :, 0:2]
    )  # (C, K, T)
    top = np.argmax(forecast.probability, axis=1)
    top_errors = errors[np.arange(len(cases)), top]
    out: dict[str, np.ndarray] = {}
    for c, step in zip(checkpoints, steps, strict=True):
        out[f"ADE@{c:g}s"] = ade(top_errors, step)
        out[f"FDE@{c:g}s"] = fde(top_errors, step)
    out["miss"] = is_miss(fde(top_errors))
    if model.modes > 1:
        mm = multimodal_metrics(errors, forecast.probability, forecast.valid)
        out.update({f"{k}_K" if k == "miss" else k: v for k, v in mm.items()})
    return out


def evaluate(
    recordings: Iterable[TrajectorySet | Cases],
    model_names: Sequence[str],
    settings: CaseSettings,
    fit_window_s: float = FIT_WINDOW_S,
    progress: Any = None,
    catalog: Mapping[str, ForecastModel] = MODELS,
) -> dict[str, Any]:
    """Cases of every recording scored by every model (names of ``catalog``, by default
    :data:`MODELS`): the ``recordings`` list (name, path, traffic, source, sample period,
    agents, cases, map, models run and not run), the ``cases`` count by traffic kind, the
    ``modes`` of each model, and ``metrics[traffic][model][group][motion]`` (means over
    cases; ``cases`` their number; None where there are none). ``progress``: called with
    each recording's name after it is scored. A recording given as its :class:`Cases`
    (tracker pasts: :func:`~drivestack.eval.prediction.tracked.track_cases`) is scored as
    given; their ``counts`` are listed per recording (``tracking``) and summed
    (``tracking_counts``)."""
    checkpoints = checkpoints_s(settings.horizon_s)
    scores = {m: _Scores() for m in model_names}
    listed: list[dict[str, Any]] = []
    tracking_counts: dict[str, int] = {}
    for item in recordings:
        try:
            cases = item if isinstance(item, Cases) else build_cases(item, settings)
        except CaseSettingError as exc:  # named with the recording whose grid refuses it
            assert not isinstance(item, Cases)
            raise CaseSettingError(
                exc.name,
                f"{exc.reason} (recordings on other sample grids may take it: give --root "
                "one recording, or values every grid holds)",
                path=item.path,
            ) from None
        rec = cases.recording
        for k, v in cases.counts.items():
            tracking_counts[k] = tracking_counts.get(k, 0) + v
        run = [m for m in model_names if rec.road_map is not None or not catalog[m].needs_map]
        for m in run if len(cases) else []:
            scores[m].add(cases, score_model(cases, m, fit_window_s, checkpoints, catalog))
        listed.append(
            {
                "name": rec.name,
                "path": rec.path,
                "traffic": rec.traffic,
                "source": rec.source,
                "frame": rec.frame,
                "dt_s": rec.dt_s,
                "dt_jittered": rec.dt_jittered,
                "stride_s": settings.effective_stride_s(rec.dt_s, rec.dt_jittered),
                "agents": len(rec.agents),
                "cases": len(cases),
                "cases_by_group": {g: int((cases.group == g).sum()) for g in CLASS_GROUPS},
                "agents_skipped_by_class": cases.skipped_classes,
                "has_map": rec.road_map is not None,
                "models_not_run": [m for m in model_names if m not in run],
                **({"tracking": dict(cases.counts)} if cases.counts else {}),
            }
        )
        if progress is not None:
            progress(rec.name)
    totals: dict[str, int] = {}
    for r in listed:
        totals[r["traffic"]] = totals.get(r["traffic"], 0) + int(r["cases"])
    return {
        "checkpoints_s": checkpoints,
        "recordings": listed,
        "cases": totals,
        "modes": {m: catalog[m].modes for m in model_names},
        "metrics": _aggregate(scores),
        **({"tracking_counts": tracking_counts} if tracking_counts else {}),
    }


def _aggregate(scores: dict[str, _Scores]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for model, s in scores.items():
        if not s.traffic:
            continue
        traffic = np.concatenate(s.traffic)
        group = np.concatenate(s.group)
        moving = np.concatenate(s.moving)
        values = {k: np.concatenate(v) for k, v in s.values.items()}
        for kind in sorted(set(traffic.tolist())):
            per_group: dict[str, Any] = {}
            for g in GROUPS:
                per_group[g] = {}
                for motion in MOTIONS:
                    mask = traffic == kind
                    if g != "all":
                        mask &= group == g
                    if motion != "all":
                        mask &= moving == (motion == "moving")
                    per_group[g][motion] = _means(values, mask)
            out.setdefault(kind, {})[model] = per_group
    return out


def _means(values: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, Any]:
    n = int(mask.sum())
    row: dict[str, Any] = {"cases": n}
    for k, v in values.items():
        name = "miss_rate" if k == "miss" else "miss_rate_K" if k == "miss_K" else k
        row[name] = float(v[mask].mean()) if n else None
    return row


def format_tables(report: dict[str, Any]) -> str:
    """The printed tables: per traffic kind, model x class group x motion with cases,
    ADE at each checkpoint, FDE at the horizon and miss rate (rows without cases left out),
    then the multi-modal models' minADE_K, minFDE_K, brier-minFDE_K and miss rate."""
    cps = report["checkpoints_s"]
    cols = [f"ADE@{c:g}s" for c in cps] + [f"FDE@{cps[-1]:g}s", "miss_rate"]
    mm_cols = ["minADE", "minFDE", "brier_minFDE", "miss_rate_K"]
    lines: list[str] = []
    for kind, models in report["metrics"].items():
        lines.append(f"\n{kind} traffic: {report['cases'].get(kind, 0)} cases, metres")
        header = f"{'model':<18} {'class':<10} {'motion':<10} {'cases':>6} " + " ".join(
            f"{c:>9}" for c in cols
        )
        lines += [header, "-" * len(header)]
        for model, groups in models.items():
            lines += _rows(model, groups, cols, 9)
        for model, groups in models.items():
            k = report["modes"][model]
            if k > 1:
                head = (
                    f"{model + f' (K={k})':<18} {'class':<10} {'motion':<10} {'cases':>6} "
                    + " ".join(f"{c.replace('_K', '') + f'_{k}':>14}" for c in mm_cols)
                )
                lines += ["", head, "-" * len(head), *_rows("", groups, mm_cols, 14)]
    return "\n".join(lines)


def _rows(first: str, groups: dict[str, Any], cols: list[str], width: int) -> list[str]:
    """Table rows (``first`` in the model column) of the class x motion cells with cases."""
    return [
        f"{first:<18} {g:<10} {motion:<10} {row['cases']:>6} "
        + " ".join(f"{row[c]:>{width}.3f}" for c in cols)
        for g, motions in groups.items()
        for motion, row in motions.items()
        if row["cases"]
    ]
