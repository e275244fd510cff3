"""Forecasting cases: an agent, an anchor time, its observed past and its true future.

Samples sit on the recording's grid: sample ``k`` is at about ``k * dt_s`` (``k`` is the
observation time divided by the sample period, rounded). History and horizon must be whole
numbers of samples: exactly on a grid (KITTI, CommonRoad), within a tolerance on a jittered
recording (AV2; :func:`whole_samples`). An agent gives a case at every
anchor sample ``a`` (a multiple of ``round(stride_s / dt_s)``) where it is observed at all of
``a - H .. a + T`` (``H = history_s / dt_s``, ``T = horizon_s / dt_s``, each a whole number
of samples: :meth:`CaseSettings.steps`): a contiguous past of ``history_s`` and ground truth
for the whole horizon. Forecast step
``k`` (at ``k * dt_s``) is scored against the ``k``-th sample after the anchor: exact for
KITTI and CommonRoad, within a few milliseconds for AV2 (sweeps 96-103 ms apart; ``dt_s`` is
the median). Agents of classes
outside :data:`CLASS_GROUPS` (cones, barriers, trailers, unknown) give no case.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from drivestack.core.errors import DataError
from drivestack.eval.prediction.trajectories import AgentTrajectory, TrajectorySet
from drivestack.prediction.forecast import CLASS_GROUPS  # the groups the cases report

_GROUP_OF = {int(c): g for g, classes in CLASS_GROUPS.items() for c in classes}

#: A case is "moving" when its true centre ends at least this far (m, xy) from where it is at
#: the anchor: 1 m over the 3 s horizon, a third of a metre per second.
MOVING_DISPLACEMENT_M = 1.0


#: How far (in samples) a history or horizon may be from a whole number of a jittered
#: recording's samples: 5 % of a sample plus 0.5 % of the duration, for recordings whose
#: sample period is a median of jittered sweeps (AV2: 0.100196 s, so 3 s is 29.94 samples).
WHOLE_SAMPLES_TOLERANCE = (0.05, 0.005)
#: The same on an exact grid (KITTI, CommonRoad): floating-point rounding only, relative to
#: the number of samples (3.0 s / 0.1 s is 30.000000000000004).
EXACT_SAMPLES_TOLERANCE = 1e-6


def whole_samples(duration_s: float, dt_s: float, jittered: bool = False) -> tuple[int, bool]:
    """``(n, whole)``: ``duration_s`` in samples of ``dt_s``, rounded, and whether it is that
    whole number of samples: within :data:`WHOLE_SAMPLES_TOLERANCE` on a ``jittered``
    recording (:attr:`TrajectorySet.dt_jittered`), within :data:`EXACT_SAMPLES_TOLERANCE`
    on an exact grid (3.01 s is not 30 samples of 0.1 s: it would be scored at 3.00 s)."""
    ratio = duration_s / dt_s
    n = round(ratio)
    if not jittered:
        return n, abs(ratio - n) <= EXACT_SAMPLES_TOLERANCE * max(1, n)
    base, per_sample = WHOLE_SAMPLES_TOLERANCE
    return n, abs(ratio - n) <= base + per_sample * n


class CaseSettingError(ValueError):
    """A duration of :class:`CaseSettings` that does not fit a recording's sample grid.

    Attributes:
        name: the attribute (``history_s``, ``horizon_s``, ``stride_s`` or ``fit_window_s``).
        reason: the message without the name (``"3.05 s is not ..."``).
        path: the recording whose grid refuses it, when known.
    """

    def __init__(self, name: str, reason: str, path: str | None = None) -> None:
        super().__init__(f"{name} = {reason}")
        self.name = name
        self.reason = reason
        self.path = path


def sample_of(duration_s: float, dt_s: float) -> int:
    """The sample a duration is scored at on a grid of ``dt_s`` (rounded): two checkpoints of
    a horizon (its whole seconds and itself) on one sample are refused
    (:func:`~drivestack.eval.prediction.run.checkpoint_steps`)."""
    return round(duration_s / dt_s)


def _accepted_duration_s(name: str, n: int, dt_s: float, jittered: bool = False) -> float | None:
    """The value to suggest for ``n`` samples of ``dt_s`` as the duration ``name`` of
    :class:`CaseSettings`: the whole second whose sample is the ``n``-th when it is itself
    ``n`` whole samples (:func:`whole_samples`; AV2: 3 s rather than 3.006 s), else
    ``n * dt_s``; None for a horizon on a whole second's sample that is not: its scores and
    that second's would be one sample (refused by
    :func:`~drivestack.eval.prediction.run.checkpoint_steps`)."""
    second = round(n * dt_s)
    if second >= 1 and sample_of(second, dt_s) == n:
        if whole_samples(second, dt_s, jittered) == (n, True):
            return float(second)
        if name == "horizon_s":
            return None
    return n * dt_s


def _nearest_accepted(name: str, value: float, dt_s: float, jittered: bool) -> tuple[float, float]:
    """The accepted durations (:func:`_accepted_duration_s`) nearest below and above ``value``
    (the two above when none is below, each at least one sample)."""
    start = max(1, math.floor(value / dt_s))
    below = [
        v
        for n in range(start, max(0, start - 3), -1)
        if (v := _accepted_duration_s(name, n, dt_s, jittered)) is not None
    ]
    above = [
        v
        for n in range(start + 1, start + 6)
        if (v := _accepted_duration_s(name, n, dt_s, jittered)) is not None
    ]
    return (below[0], above[0]) if below else (above[0], above[1])


@dataclass(frozen=True)
class CaseSettings:
    """The case grid in seconds, each a finite number > 0 (``history_s`` at least one
    sample period, so that a velocity can be fitted). ``fit_window_s``: the past a model fits
    its velocity over when given explicitly (checked like ``history_s``: a shorter window is
    still fitted on two samples, so 0.05, 0.1 and 0.15 s would all read the same past), or
    None (not checked: the stack's default)."""

    history_s: float = 1.0
    horizon_s: float = 3.0
    stride_s: float = 0.5
    fit_window_s: float | None = None

    def steps(self, dt_s: float, jittered: bool = False) -> tuple[int, int, int]:
        """``(H, T, S)``: history, horizon and stride in samples of ``dt_s`` (``jittered``:
        the recording's :attr:`TrajectorySet.dt_jittered`).

        The history and the horizon label the scores (``ADE@3s``) and a given fit window
        decides which samples are fitted, so each must be a whole
        number of samples (:func:`whole_samples`: within :data:`WHOLE_SAMPLES_TOLERANCE` on a
        jittered recording, exactly on a grid); the stride only spaces
        the anchors and is rounded to the nearest whole number of samples (0.5 s is 0.4 s on a
        0.2 s grid; :meth:`effective_stride_s`). The stack's
        :func:`~drivestack.prediction.forecast.forecast_steps` rounds a horizon up instead: a
        forecast carries its own step times, it labels nothing.

        Raises:
            CaseSettingError: a duration shorter than one sample, or a history, horizon or
                given fit window that is not a whole number of samples (naming it and the
                nearest valid values).
        """
        out = []
        names: tuple[str, ...] = ("history_s", "horizon_s", "stride_s")
        if self.fit_window_s is not None:
            names += ("fit_window_s",)
        for name in names:
            value = getattr(self, name)
            n, whole = whole_samples(value, dt_s, jittered)
            if n < 1:
                raise CaseSettingError(name, f"{value:g} s is shorter than one sample ({dt_s:g} s)")
            if name != "stride_s" and not whole:
                lo, hi = _nearest_accepted(name, value, dt_s, jittered)
                raise CaseSettingError(
                    name,
                    f"{value:g} s is not a whole number of the recording's samples "
                    f"({dt_s:g} s): nearest {lo:.4g} s or {hi:.4g} s",
                )
            out.append(n)
        return out[0], out[1], out[2]  # a fit window is only checked

    def effective_stride_s(self, dt_s: float, jittered: bool = False) -> float:
        """The anchor spacing used on a grid of ``dt_s`` (:meth:`steps`)."""
        return self.steps(dt_s, jittered)[2] * dt_s


@dataclass(frozen=True)
class Cases:
    """``C`` forecasting cases of one recording (see the module doc).

    Attributes:
        recording: the :class:`TrajectorySet` they come from.
        agent_id: ``(C,)`` str.
        label: ``(C,)`` int class ids; group: ``(C,)`` str class group (:data:`CLASS_GROUPS`).
        past_t_s: ``(C, H+1)`` times of the past, the last the anchor.
        past_boxes: ``(C, H+1, 7)``.
        future_t_s: ``(C, T)`` times of the ground truth after the anchor.
        future_boxes: ``(C, T, 7)``.
        skipped_classes: agents left out for their class, by class name.
        truth_id: ``(C,)`` str, the labelled object whose future is the truth, or None when
            it is the agent itself (label pasts; tracker pasts: the matched label's id).
        truth_anchor_xy: ``(C, 2)`` the labelled centre at the anchor, or None when it is
            the past's last centre (label pasts); :attr:`moving` measures from it.
        tracker_velocity_mps: ``(C, 2)`` the tracker's own velocity at the anchor (tracker
            pasts), or None.
        counts: what building the cases counted beside them (tracker pasts: false positives,
            missed objects; :mod:`.tracked`); empty for label pasts.
    """

    recording: TrajectorySet
    agent_id: np.ndarray
    label: np.ndarray
    group: np.ndarray
    past_t_s: np.ndarray
    past_boxes: np.ndarray
    future_t_s: np.ndarray
    future_boxes: np.ndarray
    skipped_classes: dict[str, int]
    truth_id: np.ndarray | None = None
    truth_anchor_xy: np.ndarray | None = None
    tracker_velocity_mps: np.ndarray | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.agent_id.shape[0])

    @property
    def moving(self) -> np.ndarray:
        """``(C,)`` bool: true displacement over the horizon >= :data:`MOVING_DISPLACEMENT_M`
        (from :attr:`truth_anchor_xy` when given, else from the past's last centre)."""
        now = self.past_boxes[:, -1, 0:2] if self.truth_anchor_xy is None else self.truth_anchor_xy
        d = self.future_boxes[:, -1, 0:2] - now
        return np.hypot(d[:, 0], d[:, 1]) >= MOVING_DISPLACEMENT_M

    @property
    def truth_ids(self) -> np.ndarray:
        """``(C,)`` str: the labelled object of each case's truth (:attr:`truth_id`, or the
        agent itself)."""
        return self.agent_id if self.truth_id is None else self.truth_id

    def select(self, rows: np.ndarray) -> Cases:
        """The cases ``rows`` (indices or a boolean mask), ``counts`` kept as they are."""

        def part(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[rows]

        return replace(
            self,
            agent_id=self.agent_id[rows],
            label=self.label[rows],
            group=self.group[rows],
            past_t_s=self.past_t_s[rows],
            past_boxes=self.past_boxes[rows],
            future_t_s=self.future_t_s[rows],
            future_boxes=self.future_boxes[rows],
            truth_id=part(self.truth_id),
            truth_anchor_xy=part(self.truth_anchor_xy),
            tracker_velocity_mps=part(self.tracker_velocity_mps),
        )


def sample_indices(agent: AgentTrajectory, dt_s: float) -> np.ndarray:
    """``(N,)`` the agent's sample numbers on the grid (see the module doc).

    Raises:
        DataError: naming the agent's file, the agent and field ``time`` when two of its
            observations fall on one sample (closer than the sample period).
    """
    k = np.rint(agent.time_s / dt_s).astype(np.int64)
    dup = np.flatnonzero(np.diff(k) <= 0)
    if dup.size:
        i = int(dup[0])
        raise DataError(
            f"observations at {agent.time_s[i]:.6f} s and {agent.time_s[i + 1]:.6f} s fall on "
            f"one sample of {dt_s:g} s",
            path=agent.path or None,
            record=f"agent {agent.agent_id}",
            field="time",
        )
    return k


def build_cases(recording: TrajectorySet, settings: CaseSettings) -> Cases:
    """Every case of ``recording`` (see the module doc), by agent then anchor time."""
    h, t, s = settings.steps(recording.dt_s, recording.dt_jittered)
    ids, labels, groups = [], [], []
    times, boxes = [np.zeros((0, h + 1 + t))], [np.zeros((0, h + 1 + t, 7))]
    skipped: Counter[str] = Counter()
    window = np.arange(-h, t + 1)  # a case's samples around its anchor
    for agent in recording.agents:
        group = _GROUP_OF.get(int(agent.object_class))
        if group is None:
            skipped[agent.object_class.name] += 1
            continue
        k = sample_indices(agent, recording.dt_s)
        # start[i]: the first sample of the gap-free run that holds sample i
        gap = np.concatenate([[True], np.diff(k) != 1])
        start = np.maximum.accumulate(np.where(gap, np.arange(len(k)), 0))
        anchor = np.arange(h, len(k) - t)
        # on the stride, and no gap within anchor - h .. anchor + t
        anchor = anchor[(k[anchor] % s == 0) & (start[anchor + t] <= anchor - h)]
        rows = anchor[:, None] + window  # (n, H+1+T)
        ids += [agent.agent_id] * len(anchor)
        labels += [int(agent.object_class)] * len(anchor)
        groups += [group] * len(anchor)
        times.append(agent.time_s[rows])
        boxes.append(agent.boxes[rows])
    time_s, box = np.concatenate(times), np.concatenate(boxes)
    return Cases(
        recording,
        np.asarray(ids, dtype=str),
        np.asarray(labels, dtype=np.int64),
        np.asarray(groups, dtype=str),
        time_s[:, : h + 1],
        box[:, : h + 1],
        time_s[:, h + 1 :],
        box[:, h + 1 :],
        dict(sorted(skipped.items())),
    )
